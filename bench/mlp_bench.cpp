// mlp_bench — one epoch of the 1986 MLP (784-256-128-10, ReLU, batch 64) trained by our
// framework and by PyTorch, in the same run, with two optimizers — SGD (lr 0.1, momentum 0.9) and
// Adam (lr 1e-3) — at 1 and 2 threads: `./tito bench mlp`.
//
// Why both optimizers: SGD's step is two element-wise ops per parameter, so its epoch is mostly
// the layers' matrix products — a comparison of the frameworks' GEMMs and overheads. Adam's step
// is a dozen element-wise ops per parameter, and there Debian's PyTorch 1.13 is slow for reasons
// of its own (most of the step in one out-of-place aten::div: README.md, Benchmarks). Either alone
// would tell half the story.
//
// What is timed, for both frameworks the same way:
//   * a training STEP: zero_grad → forward → cross-entropy → backward → optimizer step → loss
//     value, the median of many steps on one batch (the framework's own overhead and kernels, no
//     data);
//   * an EPOCH: a reshuffled pass over the training set in batches of 64 (the last one smaller),
//     each batch gathered from the in-memory dataset, then the step above. Ours uses
//     data::DataLoader (no workers); PyTorch's uses randperm + index_select on tensors — the
//     fastest way to feed it, without torch.utils.data's Python machinery, so the comparison is
//     of the frameworks, not of Python's data loading;
//   * the peak resident memory of the process that trained (each side runs in its own process).
//
//   parent ─┬─ python3 bench/mlp_torch.py --threads 1 --optimizer sgd ──► JSON (torch, …)
//           ├─ mlp_bench --worker --threads 1 --optimizer sgd ──► JSON (ours, 1 thread, SGD)
//           ├─ … --threads 2 … (ours first)        (interleaved, so a slow minute on a
//           └─ … --optimizer adam …                 shared machine hits both sides)
//
// PyTorch runs as a user gets it: its configuration (version, BLAS, OpenBLAS's core; asked of
// mlp_torch.py --describe first) is printed and copied into each of its records. tito bench clears
// OPENBLAS_CORETYPE for it (tools/tito/src/cmd_bench.cpp, bench/sgemm_bench.cpp). The running of
// both sides is bench/torch_baseline.h's, shared with cnn_bench.
//
// Data: Fashion-MNIST's 60,000 training images when the Debian package is installed, otherwise
// random images of the same shape (the timing is the same; the loss is not meaningful).
//
//   mlp_bench [--quick] [--records PATH] [--threads 1,2] [--optimizer sgd|adam] [--data DIR]
//             [--python PATH]
//
// --records PATH writes every figure as JSON records for tito, e.g.
//   {"name": "mlp_epoch", "impl": "tinytorch-fast", "optimizer": "sgd", "threads": 1,
//    "seconds": 0.55, ...}
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tinytorch/benchmark/stats.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/data/dataloader.h"
#include "tinytorch/data/idx.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"
#include "torch_baseline.h"

namespace {

namespace fs = std::filesystem;
namespace tt = tinytorch;
namespace nn = tinytorch::nn;
namespace F = tinytorch::nn::functional;
namespace data = tinytorch::data;
using Json = tt::bench::Json;
using Clock = std::chrono::steady_clock;
using tt::bench::minor_faults;
using tt::bench::peak_rss_bytes;
using tt::bench::seconds_since;

constexpr int64_t kBatch = 64;
// The same hyper-parameters as bench/mlp_torch.py's.
constexpr double kSgdLearningRate = 0.1, kSgdMomentum = 0.9, kAdamLearningRate = 1e-3;

struct Options : tt::bench::CommonOptions {
  std::vector<std::string> optimizers{"sgd", "adam"};  // the worker runs one
};

// The sizes of one run: the full epoch, or (--quick) 100 batches of it.
struct Workload {
  int64_t samples;      // images per epoch
  int64_t step_warmup;  // untimed steps before the timed ones
  int64_t step_count;   // timed steps (their median is the step time)
};
Workload workload(bool quick) {
  return quick ? Workload{100 * kBatch, 5, 30} : Workload{60000, 20, 200};
}

constexpr const char* kUsage =
    "mlp_bench [--quick] [--records PATH] [--threads LIST] [--optimizer sgd|adam] [--data DIR] "
    "[--python PATH]";

Options parse(int argc, char** argv) {
  Options o;
  tt::bench::parse_options(
      argc, argv, "mlp_bench", kUsage, o, [&](const std::string& arg, const auto& value) {
        if (arg != "--optimizer") return false;
        const std::string name = value();
        if (name != "sgd" && name != "adam") {
          tt::bench::usage_error("mlp_bench", kUsage,
                                 "--optimizer expects sgd or adam, got '" + name + "'");
        }
        o.optimizers = {name};
        return true;
      });
  if (o.worker && (o.threads.size() != 1 || o.optimizers.size() != 1)) {
    tt::bench::usage_error("mlp_bench", kUsage,
                           "--worker runs one thread count (--threads N) and one --optimizer");
  }
  return o;
}

// ── the worker: our side of the comparison ──────────────────────────────────────────────────

// images [N, 784] standardised with their own mean and std, labels [N] int64 — Fashion-MNIST's
// first `samples` training images, or random ones of the same shape when it is not installed.
data::TensorDataset training_data(const std::string& dir, int64_t samples, bool& real) {
  real = fs::is_directory(dir);
  if (!real) {
    return data::TensorDataset(tt::randn({samples, 784}), tt::randint(0, 10, {samples}));
  }
  data::TensorDataset all = data::load_fashion_mnist(dir, /*train=*/true);
  // A view of the loaded images, standardised in place: one copy of the dataset in memory.
  tt::Tensor x = all.data().narrow(0, 0, samples).reshape({samples, 784});
  const double mean = x.mean().item<double>();
  const double stdev = std::sqrt(x.var().item<double>());
  x.sub_(mean).div_(stdev);
  return data::TensorDataset(x, all.targets().narrow(0, 0, samples));
}

Json run_worker(const Options& o) {
  tt::set_num_threads(o.threads.front());
  tt::manual_seed(0);
  const Workload w = workload(o.quick);
  bool real = false;
  data::TensorDataset dataset = training_data(o.data_dir, w.samples, real);

  nn::Sequential model(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                       nn::Linear(128, 10));
  const std::string& optimizer_name = o.optimizers.front();
  std::unique_ptr<tt::optim::Optimizer> optimizer;
  if (optimizer_name == "sgd") {
    optimizer = std::make_unique<tt::optim::SGD>(
        model->parameters(), tt::optim::SGDOptions(kSgdLearningRate).momentum(kSgdMomentum));
  } else {
    optimizer = std::make_unique<tt::optim::Adam>(model->parameters(),
                                                  tt::optim::AdamOptions(kAdamLearningRate));
  }
  const auto step = [&](const tt::Tensor& x, const tt::Tensor& y) {
    optimizer->zero_grad();
    tt::Tensor loss = F::cross_entropy(model->forward(x), y);
    loss.backward();
    optimizer->step();
    return loss.item<double>();
  };

  // The step: one fixed batch, warm-up, then the median of the timed steps.
  const tt::Tensor xb = dataset.data().narrow(0, 0, kBatch);
  const tt::Tensor yb = dataset.targets().narrow(0, 0, kBatch);
  for (int64_t i = 0; i < w.step_warmup; ++i) step(xb, yb);
  std::vector<double> step_seconds;
  const int64_t faults_before = minor_faults();
  for (int64_t i = 0; i < w.step_count; ++i) {
    const auto t0 = Clock::now();
    step(xb, yb);
    step_seconds.push_back(seconds_since(t0));
  }
  const double faults_per_step =
      static_cast<double>(minor_faults() - faults_before) / static_cast<double>(w.step_count);

  // The epoch: every batch of a reshuffled pass.
  data::DataLoader loader(dataset, {.batch_size = kBatch, .shuffle = true, .seed = 1986});
  double loss_sum = 0.0;
  int64_t batches = 0;
  const auto t0 = Clock::now();
  for (const data::Example<>& batch : loader) {
    loss_sum += step(batch.data, batch.target);
    ++batches;
  }
  const double epoch = seconds_since(t0);

  Json r;
  r["impl"] = tt::bench::tinytorch_impl();
  r["optimizer"] = optimizer_name;
  r["threads"] = tt::get_num_threads();
  r["step_ms"] = 1e3 * tt::benchmark::median(step_seconds);  // the median
  r["step_minor_faults"] = faults_per_step;
  r["epoch_seconds"] = epoch;
  r["samples"] = w.samples;
  r["batches"] = batches;
  r["samples_per_second"] = static_cast<double>(w.samples) / epoch;
  r["mean_loss"] = loss_sum / static_cast<double>(batches);
  r["data"] = real ? "fashion-mnist" : "random";
  r["peak_rss_bytes"] = peak_rss_bytes();
  return r;
}

// ── the parent: runs both sides and writes the records ─────────────────────────────────────

// The records of one side's result `r` (or of why there is none): mlp_step, mlp_epoch and
// mlp_peak_rss, each with its impl, optimizer and thread count, and `config`'s fields.
std::vector<Json> make_records(const Json& r, const std::string& impl, const std::string& optimizer,
                               int threads, const Json& config) {
  const auto record = [&](const char* name) {
    Json rec{{"name", name}, {"impl", impl}, {"optimizer", optimizer}, {"threads", threads}};
    tt::bench::copy_torch_fields(config, rec);
    return rec;
  };
  if (r.contains("failed") || r.contains("skipped")) {
    return tt::bench::unmeasured_records(r, {"mlp_step", "mlp_epoch", "mlp_peak_rss"}, record);
  }
  Json step = record("mlp_step");
  step["ms"] = r["step_ms"];
  step["minor_faults"] = r["step_minor_faults"];
  Json epoch = record("mlp_epoch");
  epoch["seconds"] = r["epoch_seconds"];
  for (const char* key : {"samples_per_second", "samples", "batches", "mean_loss", "data"}) {
    epoch[key] = r[key];
  }
  Json rss = record("mlp_peak_rss");
  rss["mib"] = r["peak_rss_bytes"].get<double>() / (1024.0 * 1024.0);
  return {step, epoch, rss};
}

int run_parent(const Options& o, const char* argv0) {
  tt::bench::SideBySide run("mlp_bench", o.python,
                            fs::path(TINYTORCH_SOURCE_DIR) / "bench" / "mlp_torch.py", argv0);
  // Each optimizer's thread counts in turn: its runs at 1 and 2 threads are neighbours.
  for (const std::string& optimizer : o.optimizers) {
    for (const int t : o.threads) {
      std::vector<std::string> args{"--data", o.data_dir, "--optimizer", optimizer};
      if (o.quick) args.emplace_back("--quick");
      const auto [mine, theirs] = run.run_both(t, t == o.threads.front(), args);
      run.add(make_records(mine, mine.value("impl", "tinytorch-fast"), optimizer, t, Json()));
      run.add(make_records(theirs, "torch", optimizer, t, run.torch_config()));
    }
  }
  return run.finish(o.records_path);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    if (o.worker) {
      std::cout << "\n" << run_worker(o).dump() << "\n";
      return 0;
    }
    return run_parent(o, argv[0]);
  } catch (const std::exception& e) {
    std::cerr << "mlp_bench: " << e.what() << "\n";
    return 1;
  }
}
