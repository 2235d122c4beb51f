// ops_bench — single ops of a training step on the fast tier against PyTorch's, in the same run:
// `./tito bench ops`. softmax and log_softmax along the last dim and along another, on short and
// long rows, forward and forward+backward; cross_entropy on a character-level GPT's logits and on
// an image classifier's. Each figure is the median time of many calls on one input, both
// frameworks timed the same way:
//   * forward:           y = op(x)                 (x does not require grad: no graph recorded)
//   * forward+backward:  y = op(x) with x requiring grad, then d(y)/d(x) for a fixed grad_output
//                        (autograd::grad / torch.autograd.grad: nothing accumulates into .grad)
// Records also carry gbps: the bytes an op must move at the least (read x, write y; backward:
// read the gradient and y, write the input's gradient), over its time — a memory-bound op's
// fraction of the machine's bandwidth (tito prints it against the STREAM triad of this run).
//
//   parent ─┬─ ops_bench --worker --threads 1 ─────────────────► JSON (ours)
//           ├─ python3 bench/ops_torch.py --threads 1 ─────────────► JSON (PyTorch)
//           └─ … --threads 2 …               (each side in its own process: bench/torch_baseline.h)
//
//   ops_bench [--quick] [--records PATH] [--threads 1,2] [--python PATH]
//
// Records: {"name": "softmax" | "log_softmax" | "cross_entropy", "impl": "tinytorch-fast" |
//           "torch", "mode": "4096x1024 dim 1 forward", "shape": "4096x1024", "dim": 1,
//           "pass": "forward" | "forward+backward", "threads": 1, "ms": 2.1, "gbps": 16.0, ...}
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
// cross_entropy's shape is the logits' [N, C], its dim the class dim.
struct Case {
  const char* op;
  std::vector<int64_t> shape;
  int64_t dim;
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
};
constexpr const char* kPasses[] = {"forward", "forward+backward"};

constexpr const char* kUsage =
    "ops_bench [--quick] [--records PATH] [--threads LIST] [--python PATH]";

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text;
  for (const int64_t s : shape) text += (text.empty() ? "" : "x") + std::to_string(s);
  return text;
}

// The least bytes a pass moves, in float32: 2 tensors forward (x, y), 3 more backward (grad_output,
// y, grad_input); cross_entropy reads the logits and, backward, writes their gradient.
double compulsory_bytes(const Case& c, bool backward) {
  double numel = 1;
  for (const int64_t s : c.shape) numel *= static_cast<double>(s);
  const bool loss = std::string(c.op) == "cross_entropy";
  const double tensors = loss ? (backward ? 2 : 1) : (backward ? 5 : 2);
  return 4.0 * numel * tensors;
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
    const auto forward = [&](const tt::Tensor& in) {
      if (op == "softmax") return tt::softmax(in, c.dim);
      if (op == "log_softmax") return tt::log_softmax(in, c.dim);
      return tt::cross_entropy(in, target);
    };
    const tt::Tensor grad_output = op == "cross_entropy" ? tt::ones({}) : tt::randn(c.shape);
    const tt::Tensor leaf = x.detach().requires_grad_(true);
    const double fwd = median_seconds([&] { forward(x); }, warmup, count);
    const double fwd_bwd = median_seconds(
        [&] { tt::autograd::grad({forward(leaf)}, {leaf}, {grad_output}); }, warmup, count);
    results.push_back({{"op", op},
                       {"shape", c.shape},
                       {"dim", c.dim},
                       {"forward_seconds", fwd},
                       {"forward_backward_seconds", fwd_bwd}});
  }
  return {{"impl", tt::bench::tinytorch_impl()},
          {"threads", tt::get_num_threads()},
          {"results", results}};
}

// ── the parent ──────────────────────────────────────────────────────────────────────────────

// The records of one side's result r: one per case and pass.
std::vector<Json> make_records(const Json& r, const std::string& impl, int threads,
                               const Json& config) {
  std::vector<Json> out;
  for (const Case& c : kCases) {
    for (const char* pass : kPasses) {
      Json rec{{"name", c.op},
               {"impl", impl},
               {"mode", shape_text(c.shape) + " dim " + std::to_string(c.dim) + " " + pass},
               {"shape", shape_text(c.shape)},
               {"dim", c.dim},
               {"pass", pass},
               {"threads", threads}};
      tt::bench::copy_torch_fields(config, rec);
      if (!r.contains("results")) {
        const char* why = r.contains("failed") ? "failed" : "skipped";
        rec[why] = r.value(why, Json("no results"));
        out.push_back(rec);
        continue;
      }
      rec["failed"] = "the side measured no such case";
      for (const Json& m : r["results"]) {
        if (m["op"] != c.op || m["shape"] != Json(c.shape) || m["dim"] != c.dim) continue;
        const bool backward = std::string(pass) != "forward";
        const double s = m[backward ? "forward_backward_seconds" : "forward_seconds"].get<double>();
        rec.erase("failed");
        rec["ms"] = 1e3 * s;
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
    const Json mine = run.run_ours(t, args);
    run.add(make_records(mine, mine.value("impl", "tinytorch-fast"), t, Json()));
    run.add(make_records(run.run_torch(t, args), "torch", t, run.torch_config()));
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
