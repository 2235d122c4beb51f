// Module 12 lab — Use + Analyze: what attention costs, measured on YOUR machine.
//
//   ./tito lab 12                 the full run (T up to 2048; about a minute on the 2-core VM)
//   ./tito lab 12 --quick         T up to 256, a few seconds (a smoke test)
//   ./tito lab 12 --json out.json also write every measured figure to out.json
//   ./tito lab 12 --only AB       only some experiments (0, A-D)
//   ./tito lab 12 --threads 1     run the GEMMs and the fused kernels on one thread
//
// Every number printed is measured (steady_clock, a warm-up run, then the median of several
// repeats, variants timed round-robin) or computed from the sizes (the memory table).
//
//   0  the score matrix   bytes of the L×S scores for B·H problems as T grows — and of the P a
//                         composed backward keeps — for the course's GPT (B 32, 4 heads)
//   A  three ways         causal self-attention, B·H = 4 heads of dim 32, T = 64 … 2048:
//                         your reference loops (reference tier), the composed ops
//                         (matmul → softmax → matmul, module 18's GEMM: PyTorch's "math"
//                         kernel), and the fused online-softmax kernel; forward and
//                         forward + backward; peak tensor bytes of each
//   B  where time goes    the composed forward split into QKᵀ, softmax and PV
//   C  decoding           one query against S = 128 … 1024 cached keys (the KV-cache step)
//   D  the course GPT     one layer's attention at milestone 2017's shape, [32, 4, 64, 32]
//                         causal: composed ops vs fused, forward and forward + backward
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "lab_support/lab_support.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/tinytorch.h"

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;  // the shared lab code: timing, tables, the command line
using kernels::Tier;

// The label of the fused variant: the fast tier's given kernel only when module 18 registered
// it; otherwise the same call on the fast tier runs your reference loops again, and says so.
std::string fused_label() {
  const kernels::TierGuard fast(Tier::kFast);
  return kernels::fast_kernels().attention.forward != nullptr
             ? "fused (given fast kernel)"
             : "fast tier, nothing registered: your loops";
}

constexpr int64_t kHeads = 4, kHeadDim = 32;  // the course GPT's heads
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

void consume(const Tensor& t) {
  if (t.numel() > 0) g_sink = static_cast<double>(static_cast<const float*>(t.data_ptr())[0]);
}

Tensor random(IntArrayRef shape, uint64_t seed) {
  Generator gen(seed);
  return randn(shape, kFloat32, &gen);
}

// softmax(q·kᵀ/√d + causal −∞)·v with ordinary ops, each one a separate pass over memory: the
// L×S scores and P are real tensors (PyTorch's "math" attention). Autograd saves P for the
// backward.
Tensor composed_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& future) {
  const Tensor scores = q.matmul(k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));
  return masked_fill(scores, future, kNegInf).softmax(-1).matmul(v);
}

Tensor future_mask(int64_t L, int64_t S) {  // true where key j is after query i (bottom-right)
  const Tensor i = arange(L).reshape({L, 1}), j = arange(S).reshape({1, S});
  return j > i + (S - L);
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// 0. The score matrix's memory
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_memory() {
  heading(
      "0", "The score matrix",
      "scores and P are [B, H, T, T] float32: B·H·T²·4 bytes each. For the course GPT, B = 32,\n"
      "  H = 4; a composed backward keeps P (and the scores' softmax input) per layer.");
  Table table(
      {"T", "per head (T²·4 B)", "B·H = 128 heads", "× 4 layers (saved P)", "Q, K, V, out"});
  json out = json::array();
  for (int64_t T : {64, 256, 1024, 2048, 4096, 8192}) {
    const double head = static_cast<double>(T * T * 4);
    const double all = head * 32 * kHeads;
    const double qkvo = 4.0 * 32 * kHeads * static_cast<double>(T * kHeadDim * 4);
    table.add({std::to_string(T), human_bytes(head), human_bytes(all), human_bytes(4 * all),
               human_bytes(qkvo)});
    out.push_back(
        {{"T", T}, {"bytes_per_head", head}, {"bytes_all_heads", all}, {"bytes_qkvo", qkvo}});
  }
  table.print();
  meaning(
      "Q, K, V and the output grow like T; the scores grow like T². At T = 64 the 128 score "
      "matrices take 2 MiB, half of what Q, K, V and the output take together (4 MiB); at "
      "T = 8192 they take 32 GiB per layer while Q, K, V, out take 512 MiB. That is the wall "
      "FlashAttention removes: the fused kernel keeps 64 scores per query row, whatever T is.");
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// A. Reference loops, composed ops, fused kernel
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_three_ways(const Config& cfg) {
  heading("A", "Reference loops → composed ops → fused kernel",
          "Causal self-attention, [1, 4, T, 32] float32 q, k, v. Times: median per call;\n"
          "  fwd+bwd = forward, then backward of out·g. Peak = tensor bytes one forward+backward "
          "allocates.");
  Table table({"T", "variant", "forward", "fwd+bwd", "GFLOP/s fwd", "peak bytes"});
  json out = json::array();
  const std::vector<int64_t> sizes = cfg.quick
                                         ? std::vector<int64_t>{64, 128, 256}
                                         : std::vector<int64_t>{64, 128, 256, 512, 1024, 2048};
  for (int64_t T : sizes) {
    const Tensor q0 = random({1, kHeads, T, kHeadDim}, 1), k0 = random({1, kHeads, T, kHeadDim}, 2);
    const Tensor v0 = random({1, kHeads, T, kHeadDim}, 3), g = random({1, kHeads, T, kHeadDim}, 4);
    const Tensor future = future_mask(T, T);
    // Causal: about half of the T² (query, key) pairs; 2 matmuls of 2·d flops per pair.
    const double flops = 2.0 * 2.0 * kHeadDim * static_cast<double>(kHeads * T * (T + 1) / 2);
    struct Variant {
      std::string name;
      Tier tier;
      bool composed;
    };
    const Variant variants[] = {{"reference loops", Tier::kReference, false},
                                {"composed ops", Tier::kFast, true},
                                {fused_label(), Tier::kFast, false}};
    // The reference loops are slow at large T: fewer repeats there.
    const int reps = T >= 1024 ? 1 : cfg.reps;
    json row = {{"T", T}};
    for (const Variant& var : variants) {
      const kernels::TierGuard tier(var.tier);
      const auto forward = [&](const Tensor& q, const Tensor& k, const Tensor& v) {
        return var.composed ? composed_attention(q, k, v, future)
                            : scaled_dot_product_attention(q, k, v, {}, 0.0, true);
      };
      const Timing fwd = measure(cfg.warmup, reps, 1, [&] {
        const NoGradGuard no_grad;
        consume(forward(q0, k0, v0));
      });
      const auto train_step = [&] {
        const Tensor q = q0.detach().requires_grad_(), k = k0.detach().requires_grad_();
        const Tensor v = v0.detach().requires_grad_();
        (forward(q, k, v) * g).sum().backward();
        consume(q.grad());
      };
      const Timing both = measure(cfg.warmup, reps, 1, train_step);
      const double peak = static_cast<double>(peak_bytes(train_step));
      table.add({std::to_string(T), var.name, human_time(fwd.median), human_time(both.median),
                 fixed(flops / fwd.median / 1e9, 2), human_bytes(peak)});
      row[var.name] = {{"forward", to_json(fwd)},
                       {"forward_backward", to_json(both)},
                       {"peak_bytes", peak},
                       {"gflops_forward", flops / fwd.median / 1e9}};
    }
    out.push_back(row);
  }
  table.print();
  meaning(
      "The reference loops compute each dot product with scalar code and run on one thread. "
      "The composed ops use the blocked GEMM but write the T×T scores, then P, to memory and read "
      "them back (and autograd keeps P): their peak bytes grow like T². The fused kernel "
      "streams keys through L1 in blocks of 64 with a running max and sum; its peak is Q, K, V, "
      "the output and their gradients — it grows like T.");
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// B. Where the composed forward spends its time
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_breakdown(const Config& cfg) {
  heading("B", "Where the time goes",
          "The composed forward (no grad), op by op: S = QKᵀ/√d (matmul), mask + softmax, O = PV "
          "(matmul).");
  Table table({"T", "QKᵀ", "mask+softmax", "PV", "softmax share", "scores bytes"});
  json out = json::array();
  const std::vector<int64_t> sizes =
      cfg.quick ? std::vector<int64_t>{64, 256} : std::vector<int64_t>{64, 256, 1024, 2048};
  const NoGradGuard no_grad;
  for (int64_t T : sizes) {
    const Tensor q = random({1, kHeads, T, kHeadDim}, 1), k = random({1, kHeads, T, kHeadDim}, 2);
    const Tensor v = random({1, kHeads, T, kHeadDim}, 3);
    const Tensor future = future_mask(T, T);
    const double s = 1.0 / std::sqrt(static_cast<double>(kHeadDim));
    const Tensor kt = k.transpose(-2, -1);
    const Tensor scores = q.matmul(kt) * s;
    const Tensor p = masked_fill(scores, future, kNegInf).softmax(-1);
    const std::vector<Timing> ts =
        measure_round_robin(cfg.warmup, cfg.reps,
                            {[&] { consume(q.matmul(kt) * s); },
                             [&] { consume(masked_fill(scores, future, kNegInf).softmax(-1)); },
                             [&] { consume(p.matmul(v)); }});
    const double total = ts[0].median + ts[1].median + ts[2].median;
    table.add({std::to_string(T), human_time(ts[0].median), human_time(ts[1].median),
               human_time(ts[2].median), fixed(100.0 * ts[1].median / total, 1) + "%",
               human_bytes(static_cast<double>(scores.nbytes()))});
    out.push_back({{"T", T},
                   {"qk", to_json(ts[0])},
                   {"softmax", to_json(ts[1])},
                   {"pv", to_json(ts[2])},
                   {"softmax_share", ts[1].median / total}});
  }
  table.print();
  meaning(
      "The two matmuls do 2·d flops per score; the mask and softmax do a handful of flops per "
      "score but read and write the whole T×T matrix several times (fill, max, exp, sum, "
      "divide). With d = 32 the memory-bound middle step is a large share of the time: the "
      "reason to fuse it into the matmuls, where each score lives in a register.");
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// C. Decoding: one query, a growing cache
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_decoding(const Config& cfg) {
  heading("C", "Decoding",
          "One new token: q [1, 4, 1, 32] against the S cached keys and values (is_causal with\n"
          "  L = 1 < S: the last position sees them all). No grad.");
  Table table({"S", "reference loops", fused_label(), "speed-up"});
  json out = json::array();
  const std::vector<int64_t> sizes =
      cfg.quick ? std::vector<int64_t>{128, 256} : std::vector<int64_t>{128, 256, 512, 1024};
  const NoGradGuard no_grad;
  for (int64_t S : sizes) {
    const Tensor q = random({1, kHeads, 1, kHeadDim}, 1), k = random({1, kHeads, S, kHeadDim}, 2);
    const Tensor v = random({1, kHeads, S, kHeadDim}, 3);
    const auto run = [&](Tier t) {
      return [&, t] {
        const kernels::TierGuard tier(t);
        consume(scaled_dot_product_attention(q, k, v, {}, 0.0, true));
      };
    };
    const std::vector<Timing> ts = measure_round_robin(
        cfg.warmup, cfg.reps, repeated(20, {run(Tier::kReference), run(Tier::kFast)}), 20);
    table.add({std::to_string(S), human_time(ts[0].median), human_time(ts[1].median),
               ratio(ts[0].median / ts[1].median)});
    out.push_back({{"S", S}, {"reference", to_json(ts[0])}, {"fused", to_json(ts[1])}});
  }
  table.print();
  meaning(
      "A decoding step is a matrix-vector product: every cached key and value is read once for "
      "2·d flops each, so it is bound by memory bandwidth, not the FMA units — and it has only "
      "B·H = 4 independent problems to share among threads. Its cost grows linearly with S: "
      "the KV cache of module 17 makes each step O(S) instead of recomputing O(S²).");
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// D. The course GPT's shape
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_gpt(const Config& cfg) {
  heading("D", "The course GPT",
          "One layer's attention at milestone 2017's shape: B = 32, 4 heads, T = 64, d = 32, "
          "causal.");
  const int64_t B = cfg.quick ? 4 : 32, T = 64;
  const Tensor q0 = random({B, kHeads, T, kHeadDim}, 1), k0 = random({B, kHeads, T, kHeadDim}, 2);
  const Tensor v0 = random({B, kHeads, T, kHeadDim}, 3), g = random({B, kHeads, T, kHeadDim}, 4);
  const Tensor future = future_mask(T, T);
  const auto step = [&](bool composed, bool backward) {
    return [&, composed, backward] {
      const Tensor q = q0.detach().requires_grad_(backward),
                   k = k0.detach().requires_grad_(backward);
      const Tensor v = v0.detach().requires_grad_(backward);
      const Tensor out = composed ? composed_attention(q, k, v, future)
                                  : scaled_dot_product_attention(q, k, v, {}, 0.0, true);
      if (backward) {
        (out * g).sum().backward();
        consume(q.grad());
      } else {
        consume(out);
      }
    };
  };
  const std::vector<Timing> ts = measure_round_robin(
      cfg.warmup, cfg.reps,
      {step(true, false), step(false, false), step(true, true), step(false, true)});
  Table table({"variant", "forward", "fwd+bwd"});
  table.add({"composed ops", human_time(ts[0].median), human_time(ts[2].median)});
  table.add({fused_label(), human_time(ts[1].median), human_time(ts[3].median)});
  table.print();
  meaning(
      "At T = 64 the score matrices are small (2 MiB for the whole batch), so the fused kernel's "
      "gain here is time, not memory: the composed ops pay for five passes over them.");
  return {{"batch", B},
          {"composed_forward", to_json(ts[0])},
          {"fused_forward", to_json(ts[1])},
          {"composed_forward_backward", to_json(ts[2])},
          {"fused_forward_backward", to_json(ts[3])}};
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{
      .name = "lab12",
      .no_cache = true,
      .only_help = "e.g. --only AB (letters 0 A-D)",
      .threads_help = "threads for the GEMMs and fused kernels (set_num_threads)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
  const Config cfg{opts.quick, opts.quick ? 3 : 7, 1};
  if (opts.threads > 0) set_num_threads(opts.threads);
  const Tier initial_tier = kernels::tier();
  const LabAllocator allocator(opts.no_cache);
  const Stopwatch stopwatch;
  print_title("TinyTorch module 12 lab — what attention costs, measured",
              cfg.quick ? " (--quick: small sizes)" : "",
              "; threads (get_num_threads): " + std::to_string(get_num_threads()));
  std::cout << "  Each time is the median of " << cfg.reps << " runs after " << cfg.warmup
            << " warm-up run (1 run for the T ≥ 1024 rows of A); timings vary between runs and "
               "machines.\n";
  json machine = machine_json();
  machine["threads"] = get_num_threads();
  json doc = {{"lab", "12_attention"},
              {"quick", cfg.quick},
              {"repeats", cfg.reps},
              {"warmup", cfg.warmup},
              {"machine", machine}};
  std::vector<Experiment> experiments = {
      {"0_memory", [] { return experiment_memory(); }},
      {"a_three_ways", [&] { return experiment_three_ways(cfg); }},
      {"b_breakdown", [&] { return experiment_breakdown(cfg); }},
      {"c_decoding", [&] { return experiment_decoding(cfg); }},
      {"d_gpt", [&] { return experiment_gpt(cfg); }},
  };
  for (auto& e : experiments) {
    e.run = [run = std::move(e.run), initial_tier] {
      kernels::set_tier(initial_tier);
      return run();
    };
  }
  const int failed = run_experiments(experiments, opts, "12", doc);
  const double total = stopwatch.wall_seconds();
  doc["total_seconds"] = total;
  doc["cpu_seconds"] = stopwatch.cpu_seconds();
  print_done(total, failed);
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
