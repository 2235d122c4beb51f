// quant_bench — the dynamically quantized int8 Linear against our float32 Linear and against
// PyTorch's torch.ao.quantization.quantize_dynamic Linear, in the same run: `./tito bench quant`.
//
// Layers: 784→256 (the 1986 MLP's first layer) and 1024→1024 (a transformer MLP's size), at
// batch 64, 128 and 256, 1 and 2 threads. What is timed, both frameworks the same way, the median
// of many calls on one input (weights prepared once, outside the timing):
//   * fp32_linear: y = x·Wᵀ + b — ours: tinytorch::linear on the fast tier (the SGEMM);
//     PyTorch's: nn.Linear under no_grad.
//   * int8_linear: the whole dynamic-quantization forward — the input's min/max, quantizing it to
//     7-bit uint8, the int32 GEMM with prepacked int8 weights, the dequantizing epilogue with the
//     bias. Ours: kernels::dynamic_quant_linear (per-tensor weights); PyTorch's: quantize_dynamic
//     (qint8 per-tensor weights) on its default quantized engine (named in the records). Our
//     int8 records also carry qgemm_ms: the int32 GEMM alone (kernels::qgemm_packed).
// gflops counts 2·batch·in·out operations for both (the useful arithmetic, not the quantization).
//
//   parent ─┬─ python3 bench/quant_torch.py --threads 1 ────────────► JSON (PyTorch)
//           ├─ quant_bench --worker --threads 1 ─────────────────► JSON (ours)
//           └─ … --threads 2 …  (ours first, then PyTorch: the order in bench/torch_baseline.h)
//
//   quant_bench [--quick] [--records PATH] [--threads 1,2] [--python PATH]
//
// Records: {"name": "int8_linear" | "fp32_linear", "impl": "tinytorch-fast" | "torch",
//           "batch": 64, "in_features": 1024, "out_features": 1024, "threads": 1,
//           "ms": 0.21, "gflops": 640.2, ...}
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "tinytorch/benchmark/stats.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/qgemm.h"
#include "tinytorch/nn/modules/quantized_linear.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"
#include "torch_baseline.h"

namespace {

namespace fs = std::filesystem;
namespace tt = tinytorch;
using Json = tt::bench::Json;
using Clock = std::chrono::steady_clock;

struct Layer {
  int64_t in, out;
};
constexpr Layer kLayers[] = {{784, 256}, {1024, 1024}};  // the same as bench/quant_torch.py's
constexpr int64_t kBatches[] = {64, 128, 256};

constexpr const char* kUsage =
    "quant_bench [--quick] [--records PATH] [--threads LIST] [--python PATH]";

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
  const int warmup = o.quick ? 3 : 20, count = o.quick ? 10 : 200;
  Json results = Json::array();
  for (const Layer& l : kLayers) {
    tt::nn::Linear fc(l.in, l.out);
    {
      const tt::NoGradGuard no_grad;
      fc->weight.copy_(tt::randn({l.out, l.in}).mul_(1.0 / std::sqrt(static_cast<double>(l.in))));
      fc->bias.copy_(tt::randn({l.out}).mul_(0.1));
    }
    const tt::Tensor w = fc->weight.detach(), b = fc->bias.detach();
    // The weights quantize_dynamic would give (module 15's observer, per tensor), timed as the
    // kernel's layer so that the GEMM can be timed alone too.
    const tt::nn::quantized::dynamic::Linear ql(*fc, /*per_channel=*/false);
    const tt::Tensor qw = ql->weight();
    const tt::kernels::DynamicQuantLinear q = tt::kernels::dynamic_quant_linear_from_int8(
        l.out, l.in, qw.data_ptr<int8_t>(), ql->weight_scales().to_vector<float>(),
        b.data_ptr<float>());
    for (const int64_t batch : kBatches) {
      const tt::Tensor x = tt::randn({batch, l.in});
      tt::Tensor y;
      const double fp32 = median_seconds([&] { y = tt::linear(x, w, b); }, warmup, count);
      std::vector<float> yq(static_cast<size_t>(batch * l.out));
      const double int8 = median_seconds(
          [&] { tt::kernels::dynamic_quant_linear(q, batch, x.data_ptr<float>(), yq.data()); },
          warmup, count);
      // The int32 GEMM alone (what the int8 micro-kernel achieves, without steps 1, 2 and 4).
      std::vector<uint8_t> qa(static_cast<size_t>(batch * l.in), 100);
      std::vector<int32_t> c(static_cast<size_t>(batch * l.out));
      const double gemm = median_seconds(
          [&] { tt::kernels::qgemm_packed(batch, qa.data(), l.in, q.weight, c.data(), l.out); },
          warmup, count);
      // The two must compute the same layer: their largest difference, against y's scale.
      double diff = 0.0, scale = 0.0;
      const float* yf = y.data_ptr<float>();
      for (size_t i = 0; i < yq.size(); ++i) {
        diff = std::max(diff, static_cast<double>(std::fabs(yq[i] - yf[i])));
        scale = std::max(scale, static_cast<double>(std::fabs(yf[i])));
      }
      results.push_back({{"in_features", l.in},
                         {"out_features", l.out},
                         {"batch", batch},
                         {"fp32_seconds", fp32},
                         {"int8_seconds", int8},
                         {"qgemm_seconds", gemm},
                         {"max_abs_diff_over_max_abs", diff / scale}});
    }
  }
  return {{"impl", tt::bench::tinytorch_impl()},
          {"threads", tt::get_num_threads()},
          {"qgemm_isa", tt::kernels::qgemm_fast_isa()},
          {"results", results}};
}

// ── the parent ──────────────────────────────────────────────────────────────────────────────

// The records of one side's result r: fp32_linear and int8_linear per layer and batch.
std::vector<Json> make_records(const Json& r, const std::string& impl, int threads,
                               const Json& config) {
  std::vector<Json> out;
  for (const Layer& l : kLayers) {
    for (const int64_t batch : kBatches) {
      const auto record = [&](const char* name) {
        Json rec{{"name", name},        {"impl", impl},          {"batch", batch},
                 {"in_features", l.in}, {"out_features", l.out}, {"threads", threads}};
        tt::bench::copy_torch_fields(config, rec);
        return rec;
      };
      if (!r.contains("results")) {
        for (Json rec : tt::bench::unmeasured_records(r, {"fp32_linear", "int8_linear"}, record)) {
          out.push_back(rec);
        }
        continue;
      }
      for (const Json& m : r["results"]) {
        if (m["in_features"] != l.in || m["out_features"] != l.out || m["batch"] != batch) continue;
        const double flops = 2.0 * static_cast<double>(batch * l.in * l.out);
        for (const auto& [name, key] :
             {std::pair{"fp32_linear", "fp32_seconds"}, std::pair{"int8_linear", "int8_seconds"}}) {
          Json rec = record(name);
          const double s = m[key].get<double>();
          rec["ms"] = 1e3 * s;
          rec["gflops"] = flops / s * 1e-9;
          for (const char* extra : {"qgemm_isa", "torch_engine"}) {
            if (r.contains(extra) && std::string(name) == "int8_linear") rec[extra] = r[extra];
          }
          if (m.contains("qgemm_seconds") && std::string(name) == "int8_linear") {
            rec["qgemm_ms"] = 1e3 * m["qgemm_seconds"].get<double>();  // the int32 GEMM alone
            rec["max_abs_diff_over_max_abs"] = m["max_abs_diff_over_max_abs"];
          }
          out.push_back(rec);
        }
      }
    }
  }
  return out;
}

int run_parent(const tt::bench::CommonOptions& o, const char* argv0) {
  tt::bench::SideBySide run("quant_bench", o.python,
                            fs::path(TINYTORCH_SOURCE_DIR) / "bench" / "quant_torch.py", argv0);
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
  tt::bench::parse_options(argc, argv, "quant_bench", kUsage, o);
  return tt::bench::run_main(
      "quant_bench", kUsage, o, [&] { return run_worker(o); },
      [&] { return run_parent(o, argv[0]); });
}
