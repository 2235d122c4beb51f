// Module 14 — the profiler: FLOP counts against hand-computed ones, self time = total −
// children, per-op aggregation, bytes charged to the op that allocated them, the Chrome trace
// (valid JSON, nested and non-overlapping per thread), the latency percentiles.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "tinytorch/benchmark/stats.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/nn/summary.h"
#include "tinytorch/profiler/profiler.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using profiler::Event;
using profiler::Profiler;
using profiler::ProfilerOptions;
using profiler::RecordFunction;

const Event* find(const std::vector<Event>& events, std::string_view name) {
  for (const Event& e : events) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

// ── FLOP formulas, hand-computed ─────────────────────────────────────────────────────────────

TEST(ProfilerFlops, MatmulIsTwoMNK) {
  // [3, 4] @ [4, 5]: 15 outputs, each 4 multiplies + 4 adds = 120.
  EXPECT_EQ(profiler::flops("aten::matmul", {{3, 4}, {4, 5}}, {}), 120);
  // A batch of 2: 240; broadcast batch [2, 3, 4] @ [4, 5] too.
  EXPECT_EQ(profiler::flops("aten::matmul", {{2, 3, 4}, {2, 4, 5}}, {}), 240);
  EXPECT_EQ(profiler::flops("aten::matmul", {{2, 3, 4}, {4, 5}}, {}), 240);
  // Batch dims broadcast: [2, 1] against [3] is 6 products of [3, 4] @ [4, 5], not 3.
  EXPECT_EQ(profiler::flops("aten::matmul", {{2, 1, 3, 4}, {3, 4, 5}}, {}), 720);
  // Matrix-vector [3, 4] @ [4]: 3 outputs · 8.
  EXPECT_EQ(profiler::flops("aten::matmul", {{3, 4}, {4}}, {}), 24);
}

TEST(ProfilerFlops, LinearCountsEveryRow) {
  // x [8, 16], weight [32, 16]: 2·8·32·16.
  EXPECT_EQ(profiler::flops("aten::linear", {{8, 16}, {32, 16}, {32}}, {}), 8192);
  // x [2, 4, 16]: 8 rows, the same count.
  EXPECT_EQ(profiler::flops("aten::linear", {{2, 4, 16}, {32, 16}, {}}, {}), 8192);
}

TEST(ProfilerFlops, Conv2dFromOutputAndWindow) {
  // in [2, 3, 8, 8], w [8, 3, 3, 3], out [2, 8, 6, 6]: 2 · 576 outputs · 27-tap windows.
  EXPECT_EQ(profiler::flops("aten::conv2d", {{2, 3, 8, 8}, {8, 3, 3, 3}, {8}}, {2, 8, 6, 6}),
            2 * 576 * 27);
}

TEST(ProfilerFlops, AttentionIsTwoGemms) {
  // q [2, 4, 5, 8], k [2, 4, 7, 8], v [2, 4, 7, 6]: q·kᵀ 2·8·5·7·8 + P·v 2·8·5·7·6.
  EXPECT_EQ(profiler::flops("aten::scaled_dot_product_attention",
                            {{2, 4, 5, 8}, {2, 4, 7, 8}, {2, 4, 7, 6}, {}}, {}),
            4480 + 3360);
}

TEST(ProfilerFlops, OtherOpsCountNothing) {
  EXPECT_EQ(profiler::flops("aten::add", {{3, 4}, {3, 4}}, {}), 0);
  EXPECT_EQ(profiler::flops("aten::linear", {{}, {}}, {}), 0);  // shapes not recorded
}

// ── recording ────────────────────────────────────────────────────────────────────────────────

TEST(Profiler, RecordsOpsWithShapesFlopsAndBytes) {
  manual_seed(0);
  const Tensor x = randn({8, 16});
  const Tensor w = randn({32, 16});
  const Tensor b = randn({32});
  Profiler prof;
  const Tensor y = linear(x, w, b).relu();
  const auto& events = prof.events();
  const Event* lin = find(events, "aten::linear");
  ASSERT_NE(lin, nullptr);
  EXPECT_EQ(lin->shapes, (std::vector<std::vector<int64_t>>{{8, 16}, {32, 16}, {32}}));
  EXPECT_EQ(lin->flops, 2 * 8 * 32 * 16);
  EXPECT_GE(lin->self_bytes, 8 * 32 * 4);  // at least its output
  EXPECT_GE(lin->duration_ns(), 0);
  ASSERT_NE(find(events, "aten::relu"), nullptr);
}

TEST(Profiler, ConvolutionFlopsFromARealCall) {
  manual_seed(0);
  const Tensor x = randn({2, 3, 8, 8});
  const Tensor w = randn({8, 3, 3, 3});
  Profiler prof;
  const Tensor y = conv2d(x, w, Tensor(), {1, 1}, {0, 0}, {1, 1}, 1);
  const Event* conv = find(prof.events(), "aten::conv2d");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->flops, 2 * 2 * 8 * 6 * 6 * 27);
}

TEST(Profiler, SelfTimeIsTotalMinusChildren) {
  manual_seed(0);
  const Tensor a = randn({64, 64});
  Profiler prof;
  {
    RecordFunction outer("outer");
    for (int i = 0; i < 3; ++i) (void)matmul(a, a);
  }
  const auto& events = prof.events();
  const Event* outer = find(events, "outer");
  ASSERT_NE(outer, nullptr);
  int64_t children = 0;
  int n = 0;
  for (const Event& e : events) {
    if (e.name != "aten::matmul") continue;
    ++n;
    EXPECT_EQ(e.depth, outer->depth + 1);
    EXPECT_GE(e.start_ns, outer->start_ns);
    EXPECT_LE(e.end_ns, outer->end_ns);
    EXPECT_EQ(e.self_ns, e.duration_ns());  // a leaf: all its time is its own
    children += e.duration_ns();
  }
  EXPECT_EQ(n, 3);
  EXPECT_EQ(outer->self_ns, outer->duration_ns() - children);
}

TEST(Profiler, BackwardNodesAreEvents) {
  manual_seed(0);
  const Tensor x = randn({4, 8});
  const Tensor w = randn({3, 8}).requires_grad_(true);
  Profiler prof;
  linear(x, w, Tensor()).sum().backward();
  const auto& events = prof.events();
  EXPECT_NE(find(events, "AddmmBackward0"), nullptr);
  EXPECT_NE(find(events, "SumBackward1"), nullptr);
  EXPECT_NE(find(events, "aten::sum"), nullptr);
}

// Backward nodes whose kernels run directly (no public matmul inside) are counted by
// backward_flops, from the event's [grad_output, inputs...] shapes and grad_mask.
TEST(ProfilerFlops, ConvolutionBackwardCountsEachRequestedGradient) {
  manual_seed(0);
  // x [2, 3, 8, 8], w [4, 3, 3, 3] → y [2, 4, 6, 6]: one conv is 2 · 288 outputs · 27 taps.
  const int64_t one = 2 * 2 * 4 * 6 * 6 * 27;
  for (const bool x_grad : {true, false}) {
    const Tensor x = randn({2, 3, 8, 8}).requires_grad_(x_grad);
    const Tensor w = randn({4, 3, 3, 3}).requires_grad_(true);
    const Tensor y = conv2d(x, w, Tensor(), {1, 1}, {0, 0}, {1, 1}, 1);
    Profiler prof;
    y.sum().backward();
    const Event* node = find(prof.events(), "ConvolutionBackward0");
    ASSERT_NE(node, nullptr);
    // grad_weight always; grad_input only when x asks for it (torch's output_mask).
    EXPECT_EQ(node->flops, x_grad ? 2 * one : one) << "x requires grad: " << x_grad;
    EXPECT_EQ(node->shapes.front(), (std::vector<int64_t>{2, 4, 6, 6}));  // grad_output first
    EXPECT_EQ(node->grad_mask, (std::vector<bool>{x_grad, true, false}));
  }
}

TEST(ProfilerFlops, AttentionBackwardIsFiveGemms) {
  // q [2, 5, 4], k [2, 7, 4], v [2, 7, 3]; batch 2, L 5, S 7, E 4, Ev 3:
  //   q·kᵀ (recomputed) 2·2·5·7·4 = 560, dP = dO·vᵀ 420, dv = Pᵀ·dO 420, dq 560, dk 560.
  manual_seed(0);
  const Tensor q = randn({2, 5, 4}).requires_grad_(true);
  const Tensor k = randn({2, 7, 4}).requires_grad_(true);
  const Tensor v = randn({2, 7, 3}).requires_grad_(true);
  const Tensor out = scaled_dot_product_attention(q, k, v);
  Profiler prof;
  out.sum().backward();
  const Event* node = find(prof.events(), "ScaledDotProductAttentionBackward0");
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->flops, 560 + 420 + 420 + 560 + 560);
  // The formula alone, from shapes: [dO, q, k, v, mask].
  EXPECT_EQ(profiler::backward_flops("ScaledDotProductAttentionBackward0",
                                     {{2, 5, 3}, {2, 5, 4}, {2, 7, 4}, {2, 7, 3}, {}},
                                     {true, true, true, false}),
            2520);
  // Nodes whose formulas call a public matmul count there, not here.
  EXPECT_EQ(profiler::backward_flops("MmBackward0", {{3, 5}, {3, 4}, {4, 5}}, {true, true}), 0);
}

TEST(Profiler, CompositeOpsWrapTheirParts) {
  // cross_entropy is log_softmax + nll_loss: one event around both, as in PyTorch's profiler.
  manual_seed(0);
  const Tensor logits = randn({4, 3});
  const Tensor target = randint(0, 3, {4}, kInt64);
  Profiler prof;
  (void)cross_entropy(logits, target);
  const auto& events = prof.events();
  const Event* ce = find(events, "aten::cross_entropy_loss");
  const Event* ls = find(events, "aten::log_softmax");
  const Event* nll = find(events, "aten::nll_loss");
  ASSERT_NE(ce, nullptr);
  ASSERT_NE(ls, nullptr);
  ASSERT_NE(nll, nullptr);
  EXPECT_EQ(ls->depth, ce->depth + 1);
  EXPECT_EQ(nll->depth, ce->depth + 1);
  EXPECT_LE(ce->start_ns, ls->start_ns);
  EXPECT_GE(ce->end_ns, nll->end_ns);
}

TEST(Profiler, AggregatesPerOpSortedBySelfTime) {
  // Hand-made events: the aggregation is checked exactly.
  std::vector<Event> events(4);
  events[0].name = "aten::mm";
  events[0].start_ns = 0, events[0].end_ns = 100, events[0].self_ns = 100, events[0].flops = 10;
  events[1].name = "aten::add";
  events[1].start_ns = 100, events[1].end_ns = 130, events[1].self_ns = 30;
  events[1].self_bytes = 64;
  events[2].name = "aten::mm";
  events[2].start_ns = 130, events[2].end_ns = 180, events[2].self_ns = 50, events[2].flops = 10;
  events[3].name = "step";
  events[3].start_ns = 0, events[3].end_ns = 200, events[3].self_ns = 20;
  const auto rows = profiler::aggregate(events, false);
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0].name, "aten::mm");
  EXPECT_EQ(rows[0].count, 2);
  EXPECT_EQ(rows[0].self_ns, 150);
  EXPECT_EQ(rows[0].total_ns, 150);
  EXPECT_EQ(rows[0].flops, 20);
  EXPECT_EQ(rows[1].name, "aten::add");
  EXPECT_EQ(rows[1].self_bytes, 64);
  EXPECT_EQ(rows[2].name, "step");
  EXPECT_EQ(rows[2].total_ns, 200);
}

TEST(Profiler, KeyAveragesCountsCallsAndPrintsATable) {
  manual_seed(0);
  const Tensor a = randn({16, 16});
  Profiler prof;
  for (int i = 0; i < 5; ++i) (void)(a + a);
  (void)matmul(a, a);
  const auto avg = prof.key_averages();
  EXPECT_EQ(avg.at("aten::add").count, 5);
  EXPECT_EQ(avg.at("aten::matmul").flops, 2 * 16 * 16 * 16);
  const std::string table = avg.table("self_cpu_time_total");
  EXPECT_NE(table.find("aten::add"), std::string::npos);
  EXPECT_NE(table.find("Self CPU time total"), std::string::npos);
  EXPECT_THROW((void)avg.at("aten::nothing"), ValueError);
  EXPECT_THROW((void)avg.table("bogus"), ValueError);
}

TEST(Profiler, StopsRecordingAndRunsOneAtATime) {
  const Tensor a = ones({4});
  Profiler prof;
  EXPECT_THROW(Profiler second, Error);
  (void)(a + a);
  prof.stop();
  (void)(a * a);
  EXPECT_EQ(find(prof.events(), "aten::mul"), nullptr);
  EXPECT_NE(find(prof.events(), "aten::add"), nullptr);
  EXPECT_FALSE(profiler::detail::is_enabled());
  Profiler again;  // the first one stopped: a new one may start
  EXPECT_TRUE(profiler::detail::is_enabled());
}

TEST(Profiler, EachThreadHasItsOwnStack) {
  const Tensor a = ones({8, 8});
  Profiler prof;
  {
    RecordFunction main_scope("main");
    std::thread worker([&] {
      RecordFunction scope("worker");
      (void)(a + a);
    });
    worker.join();
  }
  const auto& events = prof.events();
  const Event* main_scope = find(events, "main");
  const Event* worker = find(events, "worker");
  ASSERT_NE(main_scope, nullptr);
  ASSERT_NE(worker, nullptr);
  EXPECT_EQ(main_scope->thread, 0U);
  EXPECT_NE(worker->thread, main_scope->thread);
  EXPECT_EQ(worker->depth, 0);  // not a child of "main": another thread
  EXPECT_EQ(main_scope->self_ns, main_scope->duration_ns());
}

// ── Chrome trace ─────────────────────────────────────────────────────────────────────────────

TEST(ProfilerTrace, ValidNestedTraceEventJson) {
  manual_seed(0);
  nn::Sequential model(nn::Linear(16, 32), nn::ReLU(), nn::Linear(32, 4));
  const Tensor x = randn({8, 16});
  Profiler prof;
  {
    RecordFunction step("step");
    model->forward(x).sum().backward();
  }
  const auto path = std::filesystem::temp_directory_path() / "tt_m14_trace.json";
  prof.export_chrome_trace(path.string());
  std::ifstream in(path);
  const nlohmann::json doc = nlohmann::json::parse(in);
  std::filesystem::remove(path);
  ASSERT_TRUE(doc.contains("traceEvents"));
  const auto& evs = doc["traceEvents"];
  ASSERT_EQ(evs.size(), prof.events().size());
  // Per thread, in start order: each event lies inside the open one or after it ends.
  std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> per_thread;  // tid → [begin, end) ns
  bool saw_flops = false;
  for (const auto& e : evs) {
    ASSERT_EQ(e.at("ph"), "X");
    ASSERT_TRUE(e.at("name").is_string());
    ASSERT_TRUE(e.at("pid").is_number_integer());
    const auto ts = std::llround(e.at("ts").get<double>() * 1000.0);
    const auto dur = std::llround(e.at("dur").get<double>() * 1000.0);
    ASSERT_GE(dur, 0);
    per_thread[e.at("tid").get<int64_t>()].emplace_back(ts, ts + dur);
    // The first Linear: input [8, 16], weight [32, 16].
    if (e.at("name") == "aten::linear" &&
        e.at("args").at("Input Dims")[0] == nlohmann::json({8, 16})) {
      saw_flops = e.at("args").at("flops").get<int64_t>() == 2 * 8 * 32 * 16;
    }
  }
  EXPECT_TRUE(saw_flops);
  for (auto& [tid, spans] : per_thread) {
    std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second > b.second;
    });
    std::vector<std::pair<int64_t, int64_t>> open;
    for (const auto& s : spans) {
      while (!open.empty() && open.back().second <= s.first) open.pop_back();
      if (!open.empty()) {
        EXPECT_LE(s.second, open.back().second) << "an event overlaps its parent's end";
      }
      open.push_back(s);
    }
  }
}

// ── latency ──────────────────────────────────────────────────────────────────────────────────

TEST(ProfilerLatency, WarmupThenTimedCallsAndPercentiles) {
  int calls = 0;
  const auto st = profiler::measure_latency(
      [&] {
        ++calls;
        const Tensor t = ones({32, 32});
        (void)matmul(t, t);
      },
      profiler::LatencyOptions().warmup(2).iters(9));
  EXPECT_EQ(calls, 11);
  ASSERT_EQ(st.samples_ms.size(), 9U);
  EXPECT_DOUBLE_EQ(st.p50_ms, benchmark::percentile(st.samples_ms, 50));
  EXPECT_DOUBLE_EQ(st.p99_ms, benchmark::percentile(st.samples_ms, 99));
  EXPECT_LE(st.min_ms, st.p50_ms);
  EXPECT_LE(st.p50_ms, st.p90_ms);
  EXPECT_LE(st.p90_ms, st.p99_ms);
  EXPECT_LE(st.p99_ms, st.max_ms);
  EXPECT_THROW(profiler::measure_latency([] {}, profiler::LatencyOptions().iters(0)), ValueError);
}

TEST(ProfilerLatency, StatsOfSamplesTimedElsewhere) {
  // 1 … 10 ms in scrambled order: numpy's linear percentiles of 1..10 are 5.5, 9.1 and 9.91.
  const auto st = profiler::latency_stats({7, 3, 10, 1, 5, 9, 2, 8, 4, 6});
  EXPECT_EQ(st.iters, 10);
  EXPECT_DOUBLE_EQ(st.mean_ms, 5.5);
  EXPECT_DOUBLE_EQ(st.min_ms, 1.0);
  EXPECT_DOUBLE_EQ(st.max_ms, 10.0);
  EXPECT_DOUBLE_EQ(st.p50_ms, 5.5);
  EXPECT_NEAR(st.p90_ms, 9.1, 1e-12);
  EXPECT_NEAR(st.p99_ms, 9.91, 1e-12);
  EXPECT_EQ(st.samples_ms.front(), 7.0);  // kept in the order given
  EXPECT_THROW(profiler::latency_stats({}), ValueError);
}

// ── model summary: FLOPs and activations per layer ───────────────────────────────────────────

TEST(ProfilerSummary, FlopsAndActivationsPerLayer) {
  nn::Sequential model(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 10));
  const auto s = nn::summary(model, {64, 784});
  ASSERT_EQ(s.layers.size(), 4U);
  EXPECT_EQ(s.layers[1].flops, 2 * 64 * 256 * 784);
  EXPECT_EQ(s.layers[1].activation_bytes, 64 * 256 * 4);
  EXPECT_EQ(s.layers[2].flops, 0);  // ReLU: no counted FLOPs
  EXPECT_EQ(s.layers[3].flops, 2 * 64 * 10 * 256);
  EXPECT_EQ(s.layers[0].flops, s.layers[1].flops + s.layers[3].flops);  // the container: the sum
  EXPECT_EQ(s.total_flops, s.layers[0].flops);
  EXPECT_NE(s.to_string().find("FLOPs"), std::string::npos);
}

}  // namespace
}  // namespace tinytorch
