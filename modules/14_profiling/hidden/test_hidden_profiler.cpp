// Module 14 (grader) — the cases the visible tests leave out: grouped and strided convolution
// FLOPs, batched and vector matmuls, attention with other head sizes, grouping by input shape,
// events nested in events of the same name, options off, hostile names in the trace, a real
// attention call, the allocation of worker threads. The checks are graded ones
// (tests/support/graded.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/graded.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/nn/nn.h"
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

TEST(HiddenProfilerFlops, GroupedStridedConvolution) {
  // in [1, 8, 9, 9], w [16, 2, 3, 3] (groups 4), stride 2 → out [1, 16, 4, 4]:
  // 2 · 256 outputs · 18-tap windows.
  TT_GRADE_EQ(profiler::flops("aten::conv2d", {{1, 8, 9, 9}, {16, 2, 3, 3}, {}}, {1, 16, 4, 4}),
              2 * 256 * 18);
  manual_seed(0);
  const Tensor x = randn({1, 8, 9, 9});
  const Tensor w = randn({16, 2, 3, 3});
  Profiler prof;
  (void)conv2d(x, w, Tensor(), {2, 2}, {0, 0}, {1, 1}, 4);
  const Event* conv = find(prof.events(), "aten::conv2d");
  ASSERT_NE(conv, nullptr);
  TT_GRADE_EQ(conv->flops, 2 * 256 * 18);
}

TEST(HiddenProfilerFlops, MatmulShapes) {
  TT_GRADE_EQ(profiler::flops("aten::matmul", {{4}, {4, 6}}, {}), 2 * 6 * 4);  // vector @ matrix
  TT_GRADE_EQ(profiler::flops("aten::matmul", {{4}, {4}}, {}), 8);             // dot
  TT_GRADE_EQ(profiler::flops("aten::bmm", {{3, 2, 5}, {3, 5, 7}}, {}), 2 * 3 * 2 * 7 * 5);
  TT_GRADE_EQ(profiler::flops("aten::matmul", {{5}, {3, 5, 2}}, {}), 2 * 3 * 2 * 5);
  // Both sides broadcast: batch [4, 1] with [3] is [4, 3].
  TT_GRADE_EQ(profiler::flops("aten::matmul", {{4, 1, 2, 5}, {3, 5, 2}}, {}), 2 * 12 * 2 * 2 * 5);
  TT_GRADE_EQ(profiler::flops("aten::linear", {{7}, {3, 7}}, {}), 2 * 3 * 7);  // one sample
}

TEST(HiddenProfilerFlops, AttentionFromARealCall) {
  manual_seed(0);
  const Tensor q = randn({1, 2, 6, 4});
  const Tensor k = randn({1, 2, 9, 4});
  const Tensor v = randn({1, 2, 9, 3});
  TT_GRADE_EQ(profiler::flops("aten::scaled_dot_product_attention",
                              {q.sizes().vec(), k.sizes().vec(), v.sizes().vec()}, {}),
              2 * 2 * 6 * 9 * 4 + 2 * 2 * 6 * 9 * 3);
  Profiler prof;
  (void)scaled_dot_product_attention(q, k, v);
  const Event* e = find(prof.events(), "aten::scaled_dot_product_attention");
  ASSERT_NE(e, nullptr);
  TT_GRADE_EQ(e->flops, 2 * 2 * 6 * 9 * 4 + 2 * 2 * 6 * 9 * 3);
}

TEST(HiddenProfiler, GroupByInputShapeSplitsRows) {
  std::vector<Event> events(3);
  events[0].name = events[1].name = events[2].name = "aten::mm";
  events[0].shapes = {{2, 3}, {3, 4}};
  events[1].shapes = {{2, 3}, {3, 4}};
  events[2].shapes = {{8, 8}, {8, 8}};
  for (int i = 0; i < 3; ++i) {
    events[i].start_ns = 10 * i;
    events[i].end_ns = 10 * i + (i == 2 ? 9 : 2);
    events[i].self_ns = events[i].end_ns - events[i].start_ns;
  }
  const auto grouped = profiler::aggregate(events, true);
  ASSERT_EQ(grouped.size(), 2U);
  TT_GRADE_EQ(grouped[0].shapes, events[2].shapes);  // 9 ns beats 2 + 2
  TT_GRADE_EQ(grouped[0].count, 1);
  TT_GRADE_EQ(grouped[1].count, 2);
  TT_GRADE_EQ(grouped[1].self_ns, 4);
  const auto merged = profiler::aggregate(events, false);
  ASSERT_EQ(merged.size(), 1U);
  TT_GRADE_EQ(merged[0].count, 3);
  TT_GRADE_EQ(merged[0].total_ns, 13);
  TT_GRADE_TRUE(profiler::aggregate({}, false).empty());
}

TEST(HiddenProfiler, RecursiveScopesCountTotalTwiceButSelfOnce) {
  Profiler prof;
  {
    RecordFunction a("scope");
    RecordFunction b("scope");
    (void)(ones({4}) + 1);
  }
  const auto& events = prof.events();
  const auto row = prof.key_averages().at("scope");
  TT_GRADE_EQ(row.count, 2);
  int64_t self = 0;
  for (const Event& e : events) self += e.name == "scope" ? e.self_ns : 0;
  TT_GRADE_EQ(row.self_ns - self, 0) << "the row's self time against its events' sum";
  // Nesting per thread: the inner scope inside the outer one.
  const Event* outer = find(events, "scope");
  ASSERT_NE(outer, nullptr);
  TT_GRADE_EQ(outer->depth, 0);
}

TEST(HiddenProfiler, OptionsOff) {
  manual_seed(0);
  const Tensor x = randn({4, 5});
  const Tensor w = randn({6, 5});
  Profiler prof(ProfilerOptions().record_shapes(false).profile_memory(false).with_flops(false));
  (void)linear(x, w, Tensor());
  const Event* lin = find(prof.events(), "aten::linear");
  ASSERT_NE(lin, nullptr);
  TT_GRADE_TRUE(lin->shapes.empty());
  TT_GRADE_EQ(lin->flops, 0);
  TT_GRADE_EQ(lin->self_bytes, 0);
}

TEST(HiddenProfiler, WorkerThreadAllocationsAreNobodys) {
  // parallel_for's workers have no open event: their allocations must not be charged to (or
  // corrupt) the main thread's events, and nothing crashes.
  Profiler prof;
  {
    RecordFunction scope("parallel");
    parallel_for(0, 64, 1, [](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) (void)empty({16});
    });
  }
  const Event* e = find(prof.events(), "parallel");
  ASSERT_NE(e, nullptr);
  TT_GRADE_LE(e->self_bytes, 64 * 16 * 4);
}

TEST(HiddenProfilerTrace, HostileNamesStayValidJson) {
  Profiler prof;
  { RecordFunction r("quote\" back\\slash\nnewline"); }
  const nlohmann::json doc = nlohmann::json::parse(profiler::chrome_trace_json(prof.events()));
  ASSERT_EQ(doc.at("traceEvents").size(), 1U);
  TT_GRADE_EQ(doc.at("traceEvents").at(0).at("name").get<std::string>(),
              "quote\" back\\slash\nnewline");
  TT_GRADE_EQ(doc.at("traceEvents").at(0).at("ph").get<std::string>(), "X");
  const nlohmann::json empty = nlohmann::json::parse(profiler::chrome_trace_json({}));
  TT_GRADE_TRUE(empty.at("traceEvents").empty());
}

TEST(HiddenProfilerTrace, UnwritablePathIsAClearError) {
  Profiler prof;
  TT_GRADE_THROW(prof.export_chrome_trace("/nonexistent-dir-tt/trace.json"), Error);
}

TEST(HiddenProfiler, OpNames) {
  TT_GRADE_EQ(profiler::detail::forward_op_name("AddmmBackward0"), "aten::linear");
  TT_GRADE_EQ(profiler::detail::forward_op_name("LogSoftmaxBackward0"), "aten::log_softmax");
  TT_GRADE_EQ(profiler::detail::forward_op_name("MmBackward0"), "aten::matmul");
  TT_GRADE_EQ(profiler::detail::forward_op_name("SumBackward1"), "aten::sum");
  TT_GRADE_EQ(profiler::detail::forward_op_name("MaxPool2DWithIndicesBackward0"),
              "aten::max_pool2d_with_indices");
  TT_GRADE_EQ(profiler::detail::forward_op_name("NllLossBackward0"), "aten::nll_loss");
}

}  // namespace
}  // namespace tinytorch
