// ops_bench — single ops of a training step on the fast tier against PyTorch's, in the same run:
// `./tito bench ops`. softmax and log_softmax along the last dim and along another, on short and
// long rows, forward and forward+backward; cross_entropy on a character-level GPT's logits and on
// an image classifier's; layer_norm over a transformer's features; a 1×1 convolution; and the
// transposed convolutions of examples/dcgan's generator. Each figure is the median time of many
// calls on one input, both frameworks timed the same way:
//   * forward:           y = op(x)                 (nothing requires grad: no graph recorded)
//   * forward+backward:  y = op(x) with x (and the op's weight and bias, as in a training step)
//                        requiring grad, then d(y)/d(x, weight, bias) for a fixed grad_output
//                        (autograd::grad / torch.autograd.grad: nothing accumulates into .grad)
// Records also carry gbps for the memory-bound ops: the bytes an op must move at the least (read
// x, write y; backward: read the gradient and y, write the input's gradient), over its time — a
// memory-bound op's fraction of the machine's bandwidth (tito prints it against the STREAM triad
// of this run). The convolutions are compute-bound: their records carry flops (2 per
// multiply-add; forward+backward is 3 products of that size: output, input's and weight's
// gradients) and gflops instead.
//
//   parent ─┬─ python3 bench/ops_torch.py --threads 1 ─────────────► JSON (PyTorch)
//           ├─ ops_bench --worker --threads 1 ─────────────────► JSON (ours)
//           └─ … --threads 2 …  (ours first, then PyTorch: the order in bench/torch_baseline.h)
//
//   ops_bench [--quick] [--records PATH] [--threads 1,2] [--python PATH]
//
// Records: {"name": "softmax" | "log_softmax" | "cross_entropy" | "layer_norm" | "conv2d" |
//           "conv_transpose2d", "impl": "tinytorch-fast" | "torch", "mode": "4096x1024 dim 1
//           forward", "shape": "4096x1024", "pass": "forward" | "forward+backward", "threads": 1,
//           "ms": 2.1, "gbps": 16.0 (or "flops" and "gflops"), ...}; softmax, log_softmax and
//           cross_entropy also carry "dim", the convolutions "weight" (the kernel's shape).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tinytorch/autograd/engine.h"
#include "tinytorch/benchmark/stats.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/tinytorch.h"
#include "torch_baseline.h"

namespace {

namespace fs = std::filesystem;
namespace tt = tinytorch;
using Json = tt::bench::Json;
using Clock = std::chrono::steady_clock;

// The ops and shapes measured — the same list, in the same order, as bench/ops_torch.py's CASES.
// shape is the input's: cross_entropy's the logits' [N, C] (dim: the class dim), layer_norm's
// [tokens, features] normalized over the last dim (weight and bias [features]), a convolution's
// [N, C, H, W] with its weight's shape, stride and padding (conv2d's weight [K, C, R, S] and a
// bias, as nn::Conv2d has; conv_transpose2d's [C_in, C_out, R, S] without one, as DCGAN's
// generator).
struct Case {
  const char* op;
  std::vector<int64_t> shape;
  int64_t dim = 1;                   // softmax, log_softmax, cross_entropy
  std::vector<int64_t> weight = {};  // the convolutions
  int64_t stride = 1, padding = 0;   // the convolutions
};
const std::vector<Case> kCases = {
    {"softmax", {4096, 1024}, 1},        // last dim, long rows
    {"softmax", {65536, 16}, 1},         // last dim, short rows
    {"softmax", {8, 1024, 512}, 1},      // another dim, long rows (columns of 1024)
    {"softmax", {1024, 16, 256}, 1},     // another dim, short rows
    {"log_softmax", {4096, 1024}, 1},    //
    {"log_softmax", {65536, 16}, 1},     //
    {"log_softmax", {8, 1024, 512}, 1},  //
    {"log_softmax", {1024, 16, 256}, 1},
    {"cross_entropy", {8192, 65}, 1},   // a character-level GPT's B·T positions × 65 tokens
    {"cross_entropy", {256, 1000}, 1},  // an image classifier's batch × 1000 classes
    {"layer_norm", {4096, 256}},        // a small transformer's B·T tokens × d_model 256
    {"layer_norm", {2048, 768}},        // GPT-2 small's d_model
    {"conv2d", {64, 64, 16, 16}, 1, {128, 64, 1, 1}},  // a 1×1 convolution: a GEMM per image
    // examples/dcgan's generator: 256→128 from 4×4 to 7×7, 128→64 to 14×14, 64→1 to 28×28
    {"conv_transpose2d", {64, 256, 4, 4}, 1, {256, 128, 3, 3}, 2, 1},
    {"conv_transpose2d", {64, 128, 7, 7}, 1, {128, 64, 4, 4}, 2, 1},
    {"conv_transpose2d", {64, 64, 14, 14}, 1, {64, 1, 4, 4}, 2, 1},
};
constexpr const char* kPasses[] = {"forward", "forward+backward"};

constexpr const char* kUsage =
    "ops_bench [--quick] [--records PATH] [--threads LIST] [--python PATH]";

bool is_conv(const Case& c) {
  return std::string(c.op).rfind("conv", 0) == 0;
}
bool has_dim(const Case& c) {
  return !is_conv(c) && std::string(c.op) != "layer_norm";
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text;
  for (const int64_t s : shape) text += (text.empty() ? "" : "x") + std::to_string(s);
  return text;
}

// What a record's mode says besides the shape and the pass: "dim 1", "w 128x64x1x1 s1 p0", "".
std::string detail(const Case& c) {
  if (has_dim(c)) return "dim " + std::to_string(c.dim);
  if (!is_conv(c)) return "";
  return "w " + shape_text(c.weight) + " s" + std::to_string(c.stride) + " p" +
         std::to_string(c.padding);
}

double numel(const std::vector<int64_t>& shape) {
  double n = 1;
  for (const int64_t s : shape) n *= static_cast<double>(s);
  return n;
}

// The least bytes a pass of a memory-bound op moves, in float32: 2 tensors forward (x, y), 3 more
// backward (grad_output, y, grad_input); cross_entropy reads the logits and, backward, writes
// their gradient. (layer_norm's weight and bias, a row's worth, are left out.)
double compulsory_bytes(const Case& c, bool backward) {
  const bool loss = std::string(c.op) == "cross_entropy";
  const double tensors = loss ? (backward ? 2 : 1) : (backward ? 5 : 2);
  return 4.0 * numel(c.shape) * tensors;
}

// A convolution's forward FLOPs: 2 per multiply-add of each weight with each input position it
// meets — conv2d's output positions (stride 1 and no padding here: the input's for a 1×1 kernel)
// times C·R·S per output channel; conv_transpose2d's input positions times its whole weight.
double conv_flops(const Case& c) {
  const double positions = numel(c.shape) / static_cast<double>(c.shape[1]);  // N·H·W
  const double weights = numel(c.weight);
  if (std::string(c.op) == "conv_transpose2d") return 2.0 * positions * weights;
  const int64_t p = (c.shape[2] + 2 * c.padding - c.weight[2]) / c.stride + 1;
  const int64_t q = (c.shape[3] + 2 * c.padding - c.weight[3]) / c.stride + 1;
  return 2.0 * static_cast<double>(c.shape[0] * p * q) * weights;
}

// The median seconds of `count` calls of f after `warmup` untimed ones.
template <typename F>
double median_seconds(const F& f, int warmup, int count) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> s;
  for (int i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    f();
    s.push_back(tt::bench::seconds_since(t0));
  }
  return tt::benchmark::median(s);
}

// ── the worker: our side ────────────────────────────────────────────────────────────────────
Json run_worker(const tt::bench::CommonOptions& o) {
  tt::set_num_threads(o.threads.front());
  tt::manual_seed(0);
  const int warmup = o.quick ? 2 : 10, count = o.quick ? 5 : 50;
  Json results = Json::array();
  for (const Case& c : kCases) {
    const std::string op = c.op;
    const tt::Tensor x = tt::randn(c.shape) * 3.0;
    const tt::Tensor target = tt::randint(0, c.shape[1], {c.shape[0]});
    // The op's parameters: layer_norm's weight and bias, conv2d's weight and bias,
    // conv_transpose2d's weight.
    std::vector<tt::Tensor> params;
    if (op == "layer_norm") params = {tt::randn({c.shape.back()}), tt::randn({c.shape.back()})};
    if (op == "conv2d") params = {tt::randn(c.weight) * 0.1, tt::randn({c.weight[0]})};
    if (op == "conv_transpose2d") params = {tt::randn(c.weight) * 0.1};
    const auto forward = [&](const tt::Tensor& in, const std::vector<tt::Tensor>& p) {
      if (op == "softmax") return tt::softmax(in, c.dim);
      if (op == "log_softmax") return tt::log_softmax(in, c.dim);
      if (op == "layer_norm") return tt::layer_norm(in, {c.shape.back()}, p[0], p[1]);
      if (op == "conv2d") return tt::conv2d(in, p[0], p[1], c.stride, c.padding);
      if (op == "conv_transpose2d") return tt::conv_transpose2d(in, p[0], {}, c.stride, c.padding);
      return tt::cross_entropy(in, target);
    };
    const tt::Tensor grad_output =
        op == "cross_entropy" ? tt::ones({}) : tt::randn(forward(x, params).sizes());
    std::vector<tt::Tensor> leaves{x.detach().requires_grad_(true)};
    for (const tt::Tensor& p : params) leaves.push_back(p.detach().requires_grad_(true));
    const std::vector<tt::Tensor> leaf_params(leaves.begin() + 1, leaves.end());
    const double fwd = median_seconds([&] { forward(x, params); }, warmup, count);
    const double fwd_bwd = median_seconds(
        [&] { tt::autograd::grad({forward(leaves[0], leaf_params)}, leaves, {grad_output}); },
        warmup, count);
    results.push_back({{"op", op},
                       {"shape", c.shape},
                       {"forward_seconds", fwd},
                       {"forward_backward_seconds", fwd_bwd}});
  }
  return {{"impl", tt::bench::tinytorch_impl()},
          {"threads", tt::get_num_threads()},
          {"results", results}};
}

// ── the parent ──────────────────────────────────────────────────────────────────────────────

// The records of one side's result r: one per case and pass. Both sides measure kCases in order:
// result i is case i (its op and shape are checked).
std::vector<Json> make_records(const Json& r, const std::string& impl, int threads,
                               const Json& config) {
  std::vector<Json> out;
  for (size_t i = 0; i < kCases.size(); ++i) {
    const Case& c = kCases[i];
    for (const char* pass : kPasses) {
      const std::string more = detail(c);
      Json rec{{"name", c.op},
               {"impl", impl},
               {"mode", shape_text(c.shape) + " " + (more.empty() ? "" : more + " ") + pass},
               {"shape", shape_text(c.shape)}};
      if (has_dim(c)) rec["dim"] = c.dim;
      if (is_conv(c)) rec["weight"] = shape_text(c.weight);
      rec["pass"] = pass;
      rec["threads"] = threads;
      tt::bench::copy_torch_fields(config, rec);
      if (!r.contains("results")) {
        const char* why = r.contains("failed") ? "failed" : "skipped";
        rec[why] = r.value(why, Json("no results"));
        out.push_back(rec);
        continue;
      }
      const Json& results = r["results"];
      if (i >= results.size() || results[i]["op"] != c.op || results[i]["shape"] != Json(c.shape)) {
        rec["failed"] = "the side measured no such case";
        out.push_back(rec);
        continue;
      }
      const bool backward = std::string(pass) != "forward";
      const double s =
          results[i][backward ? "forward_backward_seconds" : "forward_seconds"].get<double>();
      rec["ms"] = 1e3 * s;
      if (is_conv(c)) {
        const double flops = conv_flops(c) * (backward ? 3.0 : 1.0);
        rec["flops"] = flops;
        rec["gflops"] = flops / s * 1e-9;
      } else {
        rec["gbps"] = compulsory_bytes(c, backward) / s * 1e-9;
      }
      out.push_back(rec);
    }
  }
  return out;
}

int run_parent(const tt::bench::CommonOptions& o, const char* argv0) {
  tt::bench::SideBySide run("ops_bench", o.python,
                            fs::path(TINYTORCH_SOURCE_DIR) / "bench" / "ops_torch.py", argv0);
  for (const int t : o.threads) {
    std::vector<std::string> args;
    if (o.quick) args.emplace_back("--quick");
    const auto [mine, theirs] = run.run_both(t, t == o.threads.front(), args);
    run.add(make_records(mine, mine.value("impl", "tinytorch-fast"), t, Json()));
    run.add(make_records(theirs, "torch", t, run.torch_config()));
  }
  return run.finish(o.records_path);
}

}  // namespace

int main(int argc, char** argv) {
  tt::bench::CommonOptions o;
  tt::bench::parse_options(argc, argv, "ops_bench", kUsage, o);
  return tt::bench::run_main(
      "ops_bench", kUsage, o, [&] { return run_worker(o); },
      [&] { return run_parent(o, argv[0]); });
}
