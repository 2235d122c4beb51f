// Module 09 lab — Use + Analyze: what a convolution costs, measured on YOUR machine.
//
//   ./tito lab 09                 the full run (about 20 s on the 2-core course VM)
//   ./tito lab 09 --quick         small sizes, a few seconds (a smoke test)
//   ./tito lab 09 --json out.json also write every measured figure to out.json
//   ./tito lab 09 --only AC       only some experiments (0, A-C)
//   ./tito lab 09 --threads 1     run the GEMMs and parallel loops on one thread
//   ./tito lab 09 --no-cache      tensors from the plain allocator (see LabAllocator in
//                                 modules/lab_support/lab_support.h)
//
// Every number printed is measured (steady_clock, warm-up runs, then the median of several
// repeats, variants timed round-robin) or counted from the tensors the program made.
//
//   0  the layers         LeNet-5's two convolutions and a 3×3 64-channel layer: parameters,
//                         multiply-adds, output size, receptive field
//   A  naive → im2col     the seven loops, im2col + your module-01 GEMM (the reference tier),
//                         im2col + module 18's GEMM, and the fast tier's conv2d: GFLOP/s and % of
//                         the machine's FMA peak (bench/machine_limits.h)
//   B  im2col's memory    the column buffer against the image it unrolls, computed and measured
//                         (peak tensor bytes of one reference-tier call)
//   C  NCHW vs NHWC       conv2d of a channels-last tensor: the layout conversion it pays first
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "lab_support/lab_support.h"
#include "machine_limits.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/native/conv.h"
#include "tinytorch/native/tensor_ops.h"
#include "tinytorch/tinytorch.h"

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;  // the shared lab code: timing, tables, the command line
using kernels::Tier;

void consume(const Tensor& t) {
  if (t.numel() > 0) g_sink = static_cast<double>(static_cast<const char*>(t.data_ptr())[0]);
}

// One convolution layer of the experiments, and the batch it is run on.
struct Layer {
  std::string name;
  int64_t batch, in, out, kernel, size, padding;  // square images and kernels, stride 1
  int64_t out_size() const { return size + 2 * padding - kernel + 1; }
  // Multiply-adds of one forward pass over the batch: every output value sums in·k·k products.
  double macs() const {
    return static_cast<double>(batch * out * out_size() * out_size() * in * kernel * kernel);
  }
  int64_t params() const { return out * in * kernel * kernel + out; }
};

std::vector<Layer> layers(const Config& cfg) {
  return {{"LeNet conv1 (1→6, 5×5, pad 2, 28×28)", cfg.quick ? 8 : 64, 1, 6, 5, 28, 2},
          {"LeNet conv2 (6→16, 5×5, 14×14)", cfg.quick ? 8 : 64, 6, 16, 5, 14, 0},
          {"3×3 conv (64→64, pad 1, 32×32)", cfg.quick ? 1 : 4, 64, 64, 3, 32, 1}};
}

// ── the machine's FMA peak (bench/machine_limits.h: the widest FMA kernel of this CPU) ───────
struct Peak {
  std::string isa;
  double one = 0, all = 0;  // GFLOP/s on 1 thread and on get_num_threads() threads
};

std::optional<Peak> measure_peak(const Config& cfg) {
  const std::optional<bench::FmaPeak> fma = bench::fma_peak_for_this_cpu();
  if (!fma) return std::nullopt;
  constexpr int64_t kSteps = int64_t{1} << 18;  // ≈ 0.5 ms per call
  // A sample is kCalls calls back to back (≈ 4 ms), as in lab 18: between two calls of one
  // sample the pool's helper threads are still awake, while a lone 0.5 ms call may end before a
  // sleeping helper is woken — the caller then runs both threads' kernels itself and "2 threads"
  // would measure one.
  constexpr int64_t kCalls = 8;
  auto gflops = [&](int threads) {
    // The best of the repeats: other programs only ever make a sample slower.
    const Timing t = measure(cfg.warmup, cfg.reps + 4, kCalls, [&] {
      for (int64_t call = 0; call < kCalls; ++call) {
        parallel_for(0, threads, 1, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i)
            lab::consume(static_cast<double>(fma->kernel(kSteps)));
        });
      }
    });
    return fma->flops_per_step * static_cast<double>(kSteps * threads) / t.min / 1e9;
  };
  return Peak{fma->isa, gflops(1), gflops(get_num_threads())};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// 0. The layers
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_layers(const Config& cfg) {
  heading("0", "The layers",
          "Parameters = out·in·k·k + out; multiply-adds per image = out·P·Q·in·k·k. The receptive\n"
          "  field of LeNet's conv2 output, through conv1 (5×5) and a 2×2 max-pool: 5 + 1 + 4·2 = "
          "14 pixels.");
  Table table({"layer", "weight", "parameters", "output [C, P, Q]", "MACs / image"});
  json out = json::array();
  for (const Layer& l : layers(cfg)) {
    const double macs_per_image = l.macs() / static_cast<double>(l.batch);
    table.add({l.name, shape_str({l.out, l.in, l.kernel, l.kernel}), std::to_string(l.params()),
               shape_str({l.out, l.out_size(), l.out_size()}), sci(macs_per_image)});
    out.push_back(
        {{"layer", l.name}, {"parameters", l.params()}, {"macs_per_image", macs_per_image}});
  }
  table.print();
  meaning(
      "A convolution reuses each weight at every output position: LeNet's conv2 has 2,416 "
      "parameters but does 240,000 multiply-adds per image — about 100 per parameter, where a "
      "Linear layer does 1. That reuse is what lets a convolution run near the FMA peak.");
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// A. Seven loops → im2col + GEMM → the fast tier
// ═════════════════════════════════════════════════════════════════════════════════════════════

// im2col + matmul, image by image, written out here so that it runs on whichever GEMM the tier
// in force has — with the fast GEMM it is "im2col + module 18's GEMM", even when the fast tier
// also registered its own convolution.
Tensor im2col_gemm(const Tensor& x, const Tensor& w2, int64_t kernel, int64_t padding) {
  const int64_t n_images = x.size(0);
  std::vector<Tensor> ys;
  for (int64_t n = 0; n < n_images; ++n) {
    const Tensor col = native::im2col(x.select(0, n), kernel, 1, padding, 1);  // [C·k·k, P·Q]
    ys.push_back(native::matmul(w2, col));                                     // [K, P·Q]
  }
  return ys.back();
}

json experiment_tiers(const Config& cfg, const std::optional<Peak>& peak) {
  heading("A", "Seven loops → im2col + GEMM → the fast tier",
          "The same forward pass four ways (float32, no autograd). naive: conv2d_naive, the "
          "seven\n  loops. reference: conv2d on the reference tier — im2col + your module-01 "
          "GEMM. im2col + fast\n  GEMM: the same algorithm on module 18's GEMM. fast tier: conv2d "
          "on the fast tier (module 18's\n  convolution when registered). % of peak is against "
          "the FMA peak of the threads the variant used;\n  every variant is credited with the "
          "direct sum's 2 FLOPs per multiply-add.");
  kernels::set_tier(Tier::kFast);
  const bool fast_conv = kernels::fast_kernels().spatial.conv2d_forward != nullptr;
  const bool fast_gemm = kernels::fast_kernels().sgemm != nullptr;
  if (!fast_conv) {
    std::cout << "  (no fast convolution is registered, so 'fast tier' runs the reference path: "
                 "im2col + "
              << (fast_gemm ? "the fast GEMM" : "the reference GEMM") << ")\n";
  }
  if (peak) {
    std::cout << "  FMA peak (" << peak->isa << "): " << fixed(peak->one, 1) << " GFLOP/s on 1 "
              << "thread, " << fixed(peak->all, 1) << " on " << get_num_threads() << "\n";
  }
  std::cout << "\n";
  Table table({"layer", "variant", "threads", "time", "GFLOP/s", "% of peak", "vs naive"});
  json out = json::array();
  Generator gen(1);
  for (const Layer& l : layers(cfg)) {
    const Tensor x = randn({l.batch, l.in, l.size, l.size}, kFloat32, &gen);
    const Tensor w = randn({l.out, l.in, l.kernel, l.kernel}, kFloat32, &gen);
    const Tensor b = randn({l.out}, kFloat32, &gen);
    const Tensor w2 = w.reshape({l.out, l.in * l.kernel * l.kernel});
    const NoGradGuard no_grad;
    Tensor y;
    struct Variant {
      const char* name;
      Tier tier;
      bool threaded;
      std::function<void()> body;
    };
    const std::vector<Variant> variants = {
        {"naive (7 loops)", Tier::kFast, false,
         [&] { y = native::conv2d_naive(x, w, b, 1, l.padding, 1, 1); }},
        {"reference: im2col + module-01 GEMM", Tier::kReference, false,
         [&] { y = conv2d(x, w, b, 1, l.padding); }},
        {"im2col + fast GEMM", Tier::kFast, fast_gemm,
         [&] { y = im2col_gemm(x, w2, l.kernel, l.padding); }},
        {"fast tier conv2d", Tier::kFast, fast_conv || fast_gemm,
         [&] { y = conv2d(x, w, b, 1, l.padding); }},
    };
    const double flops = 2.0 * l.macs();
    std::vector<double> medians;
    for (const Variant& v : variants) {
      // Each variant on its own tier (switching tiers between calls would also switch the GEMM
      // mid-measurement); the slow ones with fewer repeats.
      kernels::set_tier(v.tier);
      const bool slow = std::string(v.name).starts_with("naive") || v.tier == Tier::kReference;
      const Timing t =
          measure(slow ? 1 : cfg.warmup, slow ? std::max(3, cfg.reps / 2) : cfg.reps, 1, [&] {
            v.body();
            consume(y);
          });
      medians.push_back(t.median);
      const int threads = v.threaded ? get_num_threads() : 1;
      const double gflops = flops / t.median / 1e9;
      // The share of the FMA peak of the threads this variant used (-1: no peak measured).
      const double pct = peak ? 100.0 * gflops / (threads == 1 ? peak->one : peak->all) : -1.0;
      table.add({medians.size() == 1 ? l.name : "", v.name, std::to_string(threads),
                 human_time(t.median), fixed(gflops, 2), pct >= 0 ? fixed(pct, 1) + "%" : "n/a",
                 ratio(medians.front() / t.median)});
      out.push_back({{"layer", l.name},
                     {"batch", l.batch},
                     {"variant", v.name},
                     {"threads", threads},
                     {"time", to_json(t)},
                     {"gflops", gflops},
                     {"percent_of_peak", pct >= 0 ? json(pct) : json(nullptr)}});
    }
  }
  kernels::set_tier(Tier::kFast);
  table.print();
  meaning(
      "The seven loops do the same multiply-adds as the GEMM, but their inner loop runs over "
      "only k = 5 (or 3) taps, jumps between image rows, and keeps nothing in registers. "
      "im2col turns the whole layer into one long matrix product whose inner loop streams "
      "through memory, so even the plain module-01 GEMM beats the loops; module 18's packed, "
      "vectorised GEMM then gets within reach of the peak. The fast tier goes further (Part 6): "
      "direct kernels that never build the column matrix, and on the 3×3 layer Winograd's "
      "transforms, 16 multiplications where the direct sum does 36 — so its rate, counted in "
      "the direct sum's FLOPs, can pass the peak. oneDNN and cuDNN do the same.");
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// B. im2col's memory
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_memory(const Config& cfg) {
  heading(
      "B", "im2col's extra memory",
      "The column matrix of ONE image is [C·k·k, P·Q] floats: every input pixel copied once per\n"
      "  kernel tap that reads it (about k·k times). measured: peak tensor bytes of one "
      "reference-tier\n  conv2d call above what was live before: the output y, one image's "
      "columns, and the\n  GEMM's result for that image before it is copied into y.");
  Table table({"layer", "image", "columns (1 image)", "× image", "whole batch as columns",
               "measured peak (1 call)", "of which y"});
  json out = json::array();
  for (const Layer& l : layers(cfg)) {
    const double image_bytes = 4.0 * static_cast<double>(l.in * l.size * l.size);
    const double col_bytes = 4.0 * static_cast<double>(l.in * l.kernel * l.kernel) *
                             static_cast<double>(l.out_size() * l.out_size());
    const Tensor x = randn({l.batch, l.in, l.size, l.size});
    const Tensor w = randn({l.out, l.in, l.kernel, l.kernel});
    const NoGradGuard no_grad;
    kernels::set_tier(Tier::kReference);
    Tensor y;
    const int64_t peak = peak_bytes([&] { y = conv2d(x, w, {}, 1, l.padding); });
    kernels::set_tier(Tier::kFast);
    const double batch_cols = col_bytes * static_cast<double>(l.batch);
    table.add({l.name, human_bytes(image_bytes), human_bytes(col_bytes),
               ratio(col_bytes / image_bytes),
               human_bytes(batch_cols) + " (N=" + std::to_string(l.batch) + ")",
               human_bytes(static_cast<double>(peak)),
               human_bytes(4.0 * static_cast<double>(y.numel()))});
    out.push_back({{"layer", l.name},
                   {"image_bytes", image_bytes},
                   {"columns_bytes", col_bytes},
                   {"columns_over_image", col_bytes / image_bytes},
                   {"batch", l.batch},
                   {"batch_columns_bytes", batch_cols},
                   {"measured_peak_bytes", peak},
                   {"output_bytes", 4 * y.numel()}});
  }
  table.print();
  meaning(
      "The reference tier builds the columns one image at a time and reuses the buffer, so "
      "its extra memory is one image's columns (plus the GEMM's output), not the whole "
      "batch's. Unrolling a whole batch at once — the simplest way to get one big GEMM — "
      "would cost the 'whole batch as columns' figure instead. That is why fast "
      "implementations tile the unrolling or skip it altogether (implicit GEMM).");
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// C. Channels-first vs channels-last
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_layout(const Config& cfg) {
  heading("C", "NCHW vs NHWC",
          "conv2d reads NCHW. The same batch stored channels-last (NHWC) and viewed as NCHW with\n"
          "  permute({0, 3, 1, 2}) is not contiguous: conv2d first copies it into NCHW order "
          "(the\n  copy alone), then runs exactly the NCHW code. Fast tier. overhead = copy ÷ "
          "NCHW conv.");
  Table table({"layer", "NCHW input", "NHWC input (view)", "the copy alone", "overhead"});
  json out = json::array();
  kernels::set_tier(Tier::kFast);
  Generator gen(2);
  for (const Layer& l : layers(cfg)) {
    const Tensor x = randn({l.batch, l.in, l.size, l.size}, kFloat32, &gen);
    const Tensor x_nhwc = x.permute({0, 2, 3, 1}).contiguous().permute({0, 3, 1, 2});
    const Tensor w = randn({l.out, l.in, l.kernel, l.kernel}, kFloat32, &gen);
    const NoGradGuard no_grad;
    Tensor y;
    const std::vector<Timing> ts = measure_round_robin(cfg.warmup, cfg.reps,
                                                       {[&] {
                                                          y = conv2d(x, w, {}, 1, l.padding);
                                                          consume(y);
                                                        },
                                                        [&] {
                                                          y = conv2d(x_nhwc, w, {}, 1, l.padding);
                                                          consume(y);
                                                        },
                                                        [&] {
                                                          y = x_nhwc.contiguous();
                                                          consume(y);
                                                        }});
    table.add({l.name, human_time(ts[0].median), human_time(ts[1].median), human_time(ts[2].median),
               fixed(100.0 * ts[2].median / ts[0].median, 1) + "%"});
    out.push_back({{"layer", l.name},
                   {"nchw", to_json(ts[0])},
                   {"nhwc_view", to_json(ts[1])},
                   {"copy", to_json(ts[2])},
                   {"copy_over_conv", ts[2].median / ts[0].median}});
  }
  table.print();
  meaning(
      "The layout conversion is one memory-bound pass over the input (none at all with one "
      "channel: [N, H, W, 1] and [N, 1, H, W] are the same bytes). Once the fast convolution "
      "runs near the FMA peak, that pass is no longer small next to it (the overhead column), and "
      "it is paid again by every layer that gets NHWC. PyTorch can keep a whole network "
      "channels-last "
      "(memory_format=torch.channels_last), where oneDNN's kernels read NHWC directly.");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{
      .name = "lab09",
      .no_cache = true,
      .only_help = "e.g. --only AC (letters 0 A-C)",
      .threads_help = "threads for the GEMMs and parallel loops (set_num_threads)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
  const Config cfg{opts.quick, opts.quick ? 3 : 11, 1};
  if (opts.threads > 0) set_num_threads(opts.threads);
  const Tier initial_tier = kernels::tier();
  // Tensors come from a caching allocator (with --no-cache the plain one): a fresh output would
  // otherwise pay a page fault per 4 KiB on every call. See LabAllocator in lab_support.h.
  const LabAllocator allocator(opts.no_cache);
  const Stopwatch stopwatch;
  print_title("TinyTorch module 09 lab — what a convolution costs, measured",
              cfg.quick ? " (--quick: small sizes)" : "",
              "; threads (get_num_threads): " + std::to_string(get_num_threads()));
  std::cout << "  Each time is the median of " << cfg.reps << " runs after " << cfg.warmup
            << " warm-up run (fewer for the naive and reference variants); timings vary between "
               "runs and machines.\n";
  const std::optional<Peak> peak = measure_peak(cfg);

  json machine = machine_json();
  machine["threads"] = get_num_threads();
  if (peak) {
    machine["fma_peak_isa"] = peak->isa;
    machine["fma_peak_gflops_1_thread"] = peak->one;
    machine["fma_peak_gflops_all_threads"] = peak->all;
  }
  json doc = {{"lab", "09_spatial"},
              {"quick", cfg.quick},
              {"repeats", cfg.reps},
              {"warmup", cfg.warmup},
              {"machine", machine}};
  std::vector<Experiment> experiments = {
      {"0_layers", [&] { return experiment_layers(cfg); }},
      {"a_tiers", [&] { return experiment_tiers(cfg, peak); }},
      {"b_im2col_memory", [&] { return experiment_memory(cfg); }},
      {"c_layout", [&] { return experiment_layout(cfg); }},
  };
  // The experiments switch the kernel tier; each starts from the tier the run began with.
  for (auto& e : experiments) {
    e.run = [run = std::move(e.run), initial_tier] {
      kernels::set_tier(initial_tier);
      return run();
    };
  }
  const int failed = run_experiments(experiments, opts, "09", doc);
  const double total = stopwatch.wall_seconds();
  doc["total_seconds"] = total;
  doc["cpu_seconds"] = stopwatch.cpu_seconds();
  print_done(total, failed);
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
