// Module 03 lab — Use + Analyze: what a layer costs, measured on YOUR machine.
//
//   ./tito lab 03                 the full run (about 3 s on the 2-core course VM)
//   ./tito lab 03 --quick         small sizes, a few seconds (a smoke test)
//   ./tito lab 03 --json out.json also write every measured figure to out.json
//   ./tito lab 03 --only AB       only some experiments (0, A-D)
//   ./tito lab 03 --threads 1     run the GEMM and loops on one thread
//
// Every number printed is measured (std::chrono::steady_clock, warm-up runs, then the median of
// several repeats) or counted from the tensors the program made. Nothing is hard-coded.
// The experiments follow the chapter (modules/03_layers/README.md, "The lab"):
//
//   0  the model          a 784-256-128-10 MLP: parameters per layer, bytes, training budget
//   A  fused linear       linear(x, W, b) in one GEMM vs matmul(x, W.t()) + b vs the reference
//                         tier: time, GFLOP/s, tensor bytes and allocations
//   B  batch size         the MLP's forward time per batch and per sample, with and without
//                         autograd recording
//   C  dropout            what training-mode Dropout costs next to eval mode (the identity)
//   D  initialisation     the spread of activations through a 20-layer ReLU MLP, per init scheme
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "lab_support/lab_support.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;  // the shared lab code: timing, tables, the command line
using kernels::Tier;

// A measured call's result is "used" by storing its first byte in the sink (see lab_support.h).
void consume(const Tensor& t) {
  if (t.numel() > 0) g_sink = static_cast<double>(static_cast<const char*>(t.data_ptr())[0]);
}

// ── Memory: what one call costs in tensor storage (from the tinytorch allocator) ────────────
struct MemDelta {
  int64_t peak_extra = 0;   // peak live tensor bytes during f(), above the live bytes before
  int64_t allocations = 0;  // tensor allocations made by f()
  int64_t retained = 0;     // tensor bytes still live after f() (what f's results keep)
};

template <typename F>
MemDelta measure_memory(F&& f) {
  Allocator* alloc = get_allocator();
  alloc->reset_peak();
  const AllocatorStats s0 = alloc->stats();
  f();
  const AllocatorStats s1 = alloc->stats();
  return {s1.peak_bytes - s0.live_bytes, s1.allocation_count - s0.allocation_count,
          s1.live_bytes - s0.live_bytes};
}

json to_json(const MemDelta& m) {
  return {{"peak_extra_bytes", m.peak_extra},
          {"allocations", m.allocations},
          {"retained_bytes", m.retained}};
}

// 1234567 → "1,234,567".
std::string with_commas(int64_t v) {
  std::string s = std::to_string(v), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

// The course's reference MLP.
nn::Sequential make_mlp() {
  return nn::Sequential(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                        nn::Linear(128, 10));
}

// Multiply-adds of one forward pass of the MLP per sample.
int64_t mlp_macs() {
  return 784 * 256 + 256 * 128 + 128 * 10;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// 0. The model: what a 784-256-128-10 MLP holds.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_model(const Config& cfg) {
  heading("0", "The model",
          "nn::Sequential(Linear(784, 256), ReLU(), Linear(256, 128), ReLU(), Linear(128, 10)):\n"
          "  its parameters, their bytes, and what training it needs on top.");
  manual_seed(0);
  auto mlp = make_mlp();
  std::cout << "  std::cout << *mlp prints:\n\n";
  std::istringstream lines(mlp->to_string());
  for (std::string l; std::getline(lines, l);) std::cout << "    " << l << "\n";
  std::cout << "\n";
  Table table({"parameter", "shape", "elements", "float32 bytes", "share"});
  int64_t total = 0, total_bytes = 0;
  for (const auto& [name, p] : mlp->named_parameters()) {
    total += p.numel();
    total_bytes += p.nbytes();
  }
  json params = json::array();
  for (const auto& [name, p] : mlp->named_parameters()) {
    table.add(
        {name, shape_str(p.sizes()), with_commas(p.numel()),
         human_bytes(static_cast<double>(p.nbytes())),
         fixed(100.0 * static_cast<double>(p.numel()) / static_cast<double>(total), 1) + " %"});
    params.push_back(
        {{"name", name}, {"shape", p.sizes().vec()}, {"numel", p.numel()}, {"bytes", p.nbytes()}});
  }
  table.add({"total", "", with_commas(total), human_bytes(static_cast<double>(total_bytes)), ""});
  table.print();

  // Activations: what one forward pass at batch B keeps alive when autograd records the graph
  // (the tensors the backward pass needs), measured as tensor bytes retained by the output.
  const int64_t batch = cfg.quick ? 16 : 64;
  const Tensor x = randn({batch, 784});
  Tensor out;
  const MemDelta with_graph = measure_memory([&] { out = mlp(x); });
  out = Tensor();
  Tensor out_ng;
  const MemDelta no_graph = measure_memory([&] {
    const NoGradGuard no_grad;
    out_ng = mlp(x);
  });
  out_ng = Tensor();
  std::cout << "\n";
  Table budget({"training memory (float32)", "bytes", "× parameters"});
  const auto pb = static_cast<double>(total_bytes);
  budget.add({"parameters", human_bytes(pb), "1"});
  budget.add({"gradients (one per parameter)", human_bytes(pb), "1"});
  budget.add({"Adam state (m and v)", human_bytes(2 * pb), "2"});
  budget.add({"activations kept for backward, batch " + std::to_string(batch) + " (measured)",
              human_bytes(static_cast<double>(with_graph.retained)),
              fixed(static_cast<double>(with_graph.retained) / pb, 2)});
  budget.add({"output only, batch " + std::to_string(batch) + ", NoGradGuard (measured)",
              human_bytes(static_cast<double>(no_graph.retained)),
              fixed(static_cast<double>(no_graph.retained) / pb, 3)});
  budget.print();
  meaning(with_commas(total) + " parameters, " + human_bytes(pb) + " in float32; " +
          fixed(100.0 * 784 * 256 / static_cast<double>(total), 1) +
          " % of them in the first layer, whose input is the widest. Training with Adam needs "
          "4× the parameter bytes before a single activation; at batch " +
          std::to_string(batch) + " the recorded forward pass keeps " +
          human_bytes(static_cast<double>(with_graph.retained)) +
          " of activations alive for backward (" +
          human_bytes(static_cast<double>(no_graph.retained)) +
          " without autograd: just the output). Activations grow with the batch; parameters "
          "do not.");
  return {{"parameters", params},
          {"total_parameters", total},
          {"total_bytes", total_bytes},
          {"batch", batch},
          {"forward_with_graph", to_json(with_graph)},
          {"forward_no_grad", to_json(no_graph)}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// A. The fused linear kernel.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_fused(const Config& cfg) {
  heading("A", "Fused linear: one GEMM with the bias inside",
          "y = x·Wᵀ + b four ways. fused: linear(x, W, b) — one GEMM that reads W in place and\n"
          "  adds b as it stores each tile. copied: b copied into every row of y, then the same "
          "GEMM\n  with beta = 1 adding onto it (PyTorch's addmm). unfused: matmul(x, W.t()) + b "
          "— a GEMM,\n  then a separate add that allocates a second output. reference: linear on "
          "the reference\n  tier (your module-01 GEMM).");
  const bool have_fast = [] {
    kernels::set_tier(Tier::kFast);
    return kernels::fast_kernels().sgemm != nullptr;
  }();
  if (!have_fast) {
    std::cout << "  (no fast GEMM is registered — module 18 — so 'fused' and 'unfused' run the "
                 "reference GEMM too, and 'copied', which calls the fast GEMM itself, is left "
                 "out)\n\n";
  }
  struct Case {
    std::vector<int64_t> x;
    int64_t out;
  };
  const std::vector<Case> cases =
      cfg.quick ? std::vector<Case>{{{1, 784}, 256}, {{64, 784}, 256}, {{1024, 16}, 256}}
                : std::vector<Case>{{{1, 784}, 256},  {{64, 784}, 256},  {{256, 784}, 256},
                                    {{256, 128}, 10}, {{4096, 16}, 256}, {{16, 64, 256}, 256}};
  Table table(
      {"x", "W", "variant", "time", "GFLOP/s", "vs fused", "tensor bytes (peak)", "allocations"});
  json out = json::array();
  double unfused_over_fused_sum = 0, max_ratio = 0, copied_over_fused_sum = 0;
  double copied_min = 0, copied_max = 0;
  int n_cases = 0;
  std::string max_case;
  double ref_weight_copy = 0;  // extra bytes of the reference tier beyond its two outputs
  for (const auto& c : cases) {
    const int64_t K = c.x.back();
    int64_t M = 1;
    for (size_t d = 0; d + 1 < c.x.size(); ++d) M *= c.x[d];
    const Tensor x = randn(c.x), w = randn({c.out, K}), b = randn({c.out});
    const double flops = 2.0 * static_cast<double>(M * K * c.out);
    const int64_t calls = std::max<int64_t>(1, static_cast<int64_t>(2e6 / flops));
    const NoGradGuard no_grad;
    Tensor y;
    // The variants, in the table's order; "reference" runs on the reference tier.
    struct Variant {
      const char* name;
      std::function<Tensor()> run;
    };
    std::vector<Variant> variants{{"fused", [&] { return linear(x, w, b); }}};
    if (have_fast) {
      // addmm's way, by hand: the bias into every row of a fresh y, then the fast GEMM adds
      // x·Wᵀ onto it (beta = 1), reading W in place (trans_b).
      variants.push_back({"copied", [&] {
                            Tensor yc = empty({M, c.out});
                            float* yp = yc.data_ptr<float>();
                            const float* bp = b.data_ptr<float>();
                            for (int64_t i = 0; i < M; ++i) std::copy_n(bp, c.out, yp + i * c.out);
                            kernels::gemm_fast(false, true, M, c.out, K, 1.0f, x.data_ptr<float>(),
                                               K, w.data_ptr<float>(), K, 1.0f, yp, c.out);
                            return yc;
                          }});
    }
    variants.push_back({"unfused", [&] { return matmul(x, w.t()) + b; }});
    variants.push_back({"reference", [&] { return linear(x, w, b); }});
    const size_t n_fast = variants.size() - 1;
    // The fast-tier variants are timed round-robin; the reference tier on its own (switching
    // tiers between calls would also switch allocators every call).
    kernels::set_tier(Tier::kFast);
    std::vector<std::function<void()>> bodies;
    for (size_t v = 0; v < n_fast; ++v) {
      bodies.emplace_back([&, v] {
        for (int64_t i = 0; i < calls; ++i) y = variants[v].run();
        consume(y);
      });
    }
    std::vector<Timing> ts = measure_round_robin(cfg.warmup, cfg.reps, bodies, calls);
    // The reference GEMM is slow: fewer repeats for the largest problems.
    kernels::set_tier(Tier::kReference);
    const bool big = flops > 1e8;
    ts.push_back(measure_round_robin(big ? 1 : cfg.warmup, big ? 5 : cfg.reps, {[&] {
                                       for (int64_t i = 0; i < calls; ++i) y = linear(x, w, b);
                                       consume(y);
                                     }},
                                     calls)
                     .front());
    // Memory of one call each (y released first so that only the new output counts).
    std::vector<MemDelta> mem;
    for (size_t v = 0; v < variants.size(); ++v) {
      y = Tensor();
      kernels::set_tier(v == n_fast ? Tier::kReference : Tier::kFast);
      mem.push_back(measure_memory([&] { y = variants[v].run(); }));
    }
    kernels::set_tier(Tier::kFast);
    for (size_t v = 0; v < variants.size(); ++v) {
      table.add({v == 0 ? shape_str(c.x) : "", v == 0 ? shape_str({c.out, K}) : "",
                 variants[v].name, human_time(ts[v].median), fixed(flops / ts[v].median / 1e9, 2),
                 ratio(ts[v].median / ts[0].median),
                 human_bytes(static_cast<double>(mem[v].peak_extra)),
                 std::to_string(mem[v].allocations)});
      out.push_back({{"x", c.x},
                     {"out_features", c.out},
                     {"variant", variants[v].name},
                     {"time", to_json(ts[v])},
                     {"gflops", flops / ts[v].median / 1e9},
                     {"over_fused", ts[v].median / ts[0].median},
                     {"memory", to_json(mem[v])},
                     {"output_bytes", M * c.out * 4}});
    }
    const double unfused = ts[n_fast - 1].median / ts[0].median;
    unfused_over_fused_sum += unfused;
    if (unfused > max_ratio) {
      max_ratio = unfused;
      max_case = shape_str(c.x) + " · " + shape_str({c.out, K}) + "ᵀ";
    }
    if (have_fast) {
      const double copied = ts[1].median / ts[0].median;
      copied_over_fused_sum += copied;
      copied_min = n_cases == 0 ? copied : std::min(copied_min, copied);
      copied_max = n_cases == 0 ? copied : std::max(copied_max, copied);
    }
    ref_weight_copy =
        std::max(ref_weight_copy, static_cast<double>(mem[n_fast].peak_extra - mem[0].peak_extra) /
                                      static_cast<double>(w.nbytes()));
    ++n_cases;
  }
  table.print();
  const double avg = unfused_over_fused_sum / n_cases;
  const std::string copied_text =
      have_fast ? " Copying b into y first and letting the GEMM add onto it (copied) took " +
                      ratio(copied_min) + "–" + ratio(copied_max) +
                      " the fused time: the copy is a pass over y of its own, and the GEMM "
                      "then reads y back."
                : "";
  meaning(
      "The fused op allocates only its output and writes it once; matmul + b writes y, reads it "
      "back and writes a second tensor of the same size (twice the peak bytes, two "
      "allocations). In time, the unfused pair took " +
      ratio(avg) + " the fused time on average over these shapes and at most " + ratio(max_ratio) +
      " (" + max_case +
      "): the bias pass costs about as much as streaming y once, which matters only where "
      "the GEMM does little work per output element (small in_features)." +
      copied_text +
      " The reference tier runs your module-01 loop and also copies Wᵀ into a contiguous buffer "
      "on every call (up to " +
      fixed(ref_weight_copy, 2) +
      "× W's bytes of extra peak memory): the distance to 'fused' is what reading W in place, "
      "blocking and SIMD (module 18) buy.");
  json summary = {{"fast_gemm_registered", have_fast},
                  {"threads", get_num_threads()},
                  {"results", out},
                  {"mean_unfused_over_fused", avg},
                  {"max_unfused_over_fused", max_ratio},
                  {"max_case", max_case}};
  if (have_fast) {
    summary["mean_copied_over_fused"] = copied_over_fused_sum / n_cases;
    summary["min_copied_over_fused"] = copied_min;
    summary["max_copied_over_fused"] = copied_max;
  }
  return summary;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// B. Batch size: forward time of the MLP per batch and per sample.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_batch(const Config& cfg) {
  heading("B", "Forward time vs batch size",
          "The 784-256-128-10 MLP (fast tier) on [B, 784]: time per batch and per sample, "
          "under\n  NoGradGuard (inference) and with autograd recording the graph (training's "
          "forward).");
  kernels::set_tier(Tier::kFast);
  manual_seed(1);
  auto mlp = make_mlp();
  const std::vector<int64_t> batches =
      cfg.quick ? std::vector<int64_t>{1, 16, 64} : std::vector<int64_t>{1, 8, 32, 128, 512, 2048};
  Table table({"batch", "no-grad time", "per sample", "GFLOP/s", "recording time",
               "recording / "
               "no-grad"});
  json out = json::array();
  double per_sample_1 = 0, best_per_sample = 1e30, min_rec = 1e30, max_rec = 0;
  int64_t best_batch = 0;
  for (const int64_t B : batches) {
    const Tensor x = randn({B, 784});
    const double flops = 2.0 * static_cast<double>(mlp_macs() * B);
    const int64_t calls = std::max<int64_t>(1, static_cast<int64_t>(4e6 / flops));
    Tensor y;
    const std::vector<Timing> ts = measure_round_robin(cfg.warmup, cfg.reps,
                                                       {[&] {
                                                          const NoGradGuard no_grad;
                                                          for (int64_t i = 0; i < calls; ++i)
                                                            y = mlp(x);
                                                          consume(y);
                                                        },
                                                        [&] {
                                                          for (int64_t i = 0; i < calls; ++i)
                                                            y = mlp(x);
                                                          consume(y);
                                                        }},
                                                       calls);
    const double per_sample = ts[0].median / static_cast<double>(B);
    if (B == batches.front()) per_sample_1 = per_sample;
    if (per_sample < best_per_sample) {
      best_per_sample = per_sample;
      best_batch = B;
    }
    min_rec = std::min(min_rec, ts[1].median / ts[0].median);
    max_rec = std::max(max_rec, ts[1].median / ts[0].median);
    table.add({std::to_string(B), human_time(ts[0].median), human_time(per_sample),
               fixed(flops / ts[0].median / 1e9, 2), human_time(ts[1].median),
               ratio(ts[1].median / ts[0].median)});
    out.push_back({{"batch", B},
                   {"no_grad", to_json(ts[0])},
                   {"recording", to_json(ts[1])},
                   {"per_sample_s", per_sample},
                   {"gflops", flops / ts[0].median / 1e9}});
  }
  table.print();
  meaning("The cheapest batch per sample was " + std::to_string(best_batch) + ": " +
          human_time(best_per_sample) + " per sample against " + human_time(per_sample_1) +
          " for one sample alone (" + ratio(per_sample_1 / best_per_sample) +
          "). A batch of one is a matrix-VECTOR product: it reads every weight to use it once, "
          "and pays the fixed per-op costs (checks, allocation, dispatch) for one sample. A batch "
          "reuses each weight B times while it is in cache. Past some size the activations no "
          "longer fit in cache either, and the per-sample cost stops falling. Recording the graph "
          "cost " +
          ratio(min_rec) + "–" + ratio(max_rec) +
          " the no-grad time here: a few nodes per forward pass are cheap next to these GEMMs "
          "(the memory they keep alive is experiment 0's point).");
  return {{"results", out}, {"best_batch", best_batch}, {"threads", get_num_threads()}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// C. Dropout: the price of a random mask.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_dropout(const Config& cfg) {
  const int64_t rows = cfg.quick ? 64 : 256, cols = 1024;
  heading("C", "Dropout: train vs eval",
          "nn::Dropout(0.5) on a [" + std::to_string(rows) + ", " + std::to_string(cols) +
              "] float32 activation, next to the Linear(1024, 1024) that would produce it.");
  kernels::set_tier(Tier::kFast);
  const NoGradGuard no_grad;
  nn::Dropout drop(0.5);
  nn::Linear fc(1024, 1024);
  const Tensor x = randn({rows, cols});
  Tensor y;
  const std::vector<Timing> ts = measure_round_robin(cfg.warmup, cfg.reps,
                                                     {[&] {
                                                        drop->eval();
                                                        y = drop(x);
                                                        consume(y);
                                                      },
                                                      [&] {
                                                        drop->train();
                                                        y = drop(x);
                                                        consume(y);
                                                      },
                                                      [&] {
                                                        y = fc(x);
                                                        consume(y);
                                                      }});
  y = Tensor();
  drop->train();
  const MemDelta train_mem = measure_memory([&] { y = drop(x); });
  y = Tensor();
  drop->eval();
  const MemDelta eval_mem = measure_memory([&] { y = drop(x); });
  Table table({"forward", "time", "tensor bytes (peak)", "allocations"});
  table.add({"Dropout, eval (identity)", human_time(ts[0].median),
             human_bytes(static_cast<double>(eval_mem.peak_extra)),
             std::to_string(eval_mem.allocations)});
  table.add({"Dropout, train", human_time(ts[1].median),
             human_bytes(static_cast<double>(train_mem.peak_extra)),
             std::to_string(train_mem.allocations)});
  table.add({"Linear(1024, 1024), for scale", human_time(ts[2].median), "", ""});
  table.print();
  const double act = static_cast<double>(x.nbytes());
  meaning(
      "In eval mode Dropout returns its input: no time, no bytes. In training it draws a "
      "random number per element and builds the mask through several element-wise ops "
      "(rand_like, compare, convert, scale, multiply): " +
      std::to_string(train_mem.allocations) + " tensor allocations with a peak of " +
      fixed(static_cast<double>(train_mem.peak_extra) / act, 2) + "× the activation's bytes, " +
      ratio(ts[1].median / ts[2].median) +
      " the time of the Linear layer before it. Fused dropout kernels (PyTorch's CUDA kernel, "
      "cuDNN's) draw the random numbers and apply the mask in one pass for this reason.");
  return {{"shape", {rows, cols}},
          {"eval", to_json(ts[0])},
          {"train", to_json(ts[1])},
          {"linear", to_json(ts[2])},
          {"train_memory", to_json(train_mem)},
          {"eval_memory", to_json(eval_mem)},
          {"activation_bytes", x.nbytes()}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// D. Initialisation: how the spread of activations evolves through depth.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_init(const Config& cfg) {
  const int64_t width = 256, depth = 20, batch = cfg.quick ? 64 : 512;
  heading("D", "Initialisation and depth",
          "A stack of " + std::to_string(depth) + " × (Linear(" + std::to_string(width) + ", " +
              std::to_string(width) + ", bias=false) → ReLU) on x ~ N(0, 1), batch " +
              std::to_string(batch) +
              ":\n  the standard deviation of the activations after layers 1, 5, 10, 20, per "
              "init scheme.");
  kernels::set_tier(Tier::kFast);
  const NoGradGuard no_grad;
  struct Scheme {
    std::string name;
    std::function<void(Tensor&)> init;
  };
  namespace init = nn::init;
  const std::vector<Scheme> schemes = {
      {"PyTorch default: kaiming_uniform_(a=√5), U(±1/√in)",
       [](Tensor& w) { init::kaiming_uniform_(w, std::sqrt(5.0)); }},
      {"kaiming_normal_(relu): N(0, 2/in)",
       [](Tensor& w) { init::kaiming_normal_(w, 0.0, init::kFanIn, init::kReLU); }},
      {"xavier_normal_: N(0, 2/(in+out))", [](Tensor& w) { init::xavier_normal_(w); }},
      {"normal_(0, 1)", [](Tensor& w) { init::normal_(w, 0.0, 1.0); }},
      {"normal_(0, 0.01)", [](Tensor& w) { init::normal_(w, 0.0, 0.01); }},
  };
  const std::vector<int64_t> report = {1, 5, 10, 20};
  Table table({"init", "std after 1", "after 5", "after 10", "after 20"});
  json out = json::array();
  manual_seed(3);
  const Tensor x0 = randn({batch, width});
  for (const auto& s : schemes) {
    manual_seed(4);
    Tensor x = x0;
    std::vector<double> stds;
    std::vector<std::string> row = {s.name};
    for (int64_t layer = 1; layer <= depth; ++layer) {
      nn::Linear fc(nn::LinearOptions(width, width).bias(false));
      s.init(fc->weight);
      x = relu(fc(x));
      const double sd = std::sqrt(x.var({}, /*unbiased=*/false).item<double>());
      stds.push_back(sd);
      if (std::find(report.begin(), report.end(), layer) != report.end()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3g", sd);
        row.push_back(buf);
      }
    }
    table.add(row);
    out.push_back({{"scheme", s.name}, {"std_per_layer", stds}});
  }
  table.print();
  meaning(
      "Each layer multiplies the variance by fan_in·Var(w)·(1/2 for ReLU). Kaiming's "
      "N(0, 2/fan_in) makes that factor 1, so the spread stays put through 20 layers. "
      "PyTorch's default U(±1/√fan_in) has Var(w) = 1/(3·fan_in): the factor is 1/6 per "
      "layer, fine for the 2-3 layer MLPs it was tuned for, vanishing in deep stacks. "
      "N(0, 1) multiplies by fan_in/2 = 128 per layer and overflows; N(0, 0.01) shrinks "
      "to nothing. Gradients flow back through the same factors.");
  return {{"width", width}, {"depth", depth}, {"batch", batch}, {"results", out}};
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{
      .name = "lab03",
      .only_help = "e.g. --only AB (letters 0 A-D)",
      .threads_help = "threads for the GEMM and parallel loops (set_num_threads)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
  const Config cfg{opts.quick, opts.quick ? 5 : 11, opts.quick ? 1 : 2};
  if (opts.threads > 0) set_num_threads(opts.threads);
  const Tier initial_tier = kernels::tier();
  const Stopwatch stopwatch;
  print_title("TinyTorch module 03 lab — what a layer costs, measured",
              cfg.quick ? " (--quick: small sizes)" : "",
              "; threads (get_num_threads): " + std::to_string(get_num_threads()));
  std::cout << "  Each time is the median of " << cfg.reps << " runs after " << cfg.warmup
            << " warm-up run(s) (5 after 1 for the largest reference-tier GEMMs); timings vary "
               "between runs "
               "and machines.\n";

  json machine = machine_json();
  machine["gemm_threads"] = get_num_threads();
  json doc = {{"lab", "03_layers"},
              {"quick", cfg.quick},
              {"repeats", cfg.reps},
              {"warmup", cfg.warmup},
              {"machine", machine}};
  std::vector<Experiment> experiments = {
      {"0_model", [&] { return experiment_model(cfg); }},
      {"a_fused_linear", [&] { return experiment_fused(cfg); }},
      {"b_batch_size", [&] { return experiment_batch(cfg); }},
      {"c_dropout", [&] { return experiment_dropout(cfg); }},
      {"d_init_depth", [&] { return experiment_init(cfg); }},
  };
  // The experiments switch the kernel tier (reference vs fast); each starts from the tier the run
  // began with.
  for (auto& e : experiments) {
    e.run = [run = std::move(e.run), initial_tier] {
      kernels::set_tier(initial_tier);
      return run();
    };
  }
  const int failed = run_experiments(experiments, opts, "03", doc);
  const double total = stopwatch.wall_seconds();
  const double cpu = stopwatch.cpu_seconds();
  doc["total_seconds"] = total;
  doc["cpu_seconds"] = cpu;
  doc["threads"] = get_num_threads();
  print_done(total, failed);
  if (get_num_threads() == 1) {
    print_cpu_share(total, cpu);
  } else {
    std::cout << " CPU time " << fixed(cpu, 1) << " s over " << get_num_threads() << " thread(s).";
  }
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
