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
//   parent ─┬─ mlp_bench --worker --threads 1 --optimizer sgd ──► JSON (ours, 1 thread, SGD)
//           ├─ python3 bench/mlp_torch.py --threads 1 --optimizer sgd ──► JSON (torch, …)
//           ├─ … --optimizer adam                  (interleaved, so a slow minute on a
//           └─ … --threads 2 …                      shared machine hits both sides)
//
// PyTorch runs as a user gets it: its configuration (version, BLAS, OpenBLAS's core; asked of
// mlp_torch.py --describe first) is printed and copied into each of its records. tito bench clears
// OPENBLAS_CORETYPE for it (tools/tito/src/cmd_bench.cpp, bench/sgemm_bench.cpp).
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
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "machine_limits.h"
#include "openblas_coretype.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/data/dataloader.h"
#include "tinytorch/data/idx.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/logging.h"

namespace {

namespace fs = std::filesystem;
namespace tt = tinytorch;
namespace nn = tinytorch::nn;
namespace F = tinytorch::nn::functional;
namespace data = tinytorch::data;
using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr int64_t kBatch = 64;
// The same hyper-parameters as bench/mlp_torch.py's.
constexpr double kSgdLearningRate = 0.1, kSgdMomentum = 0.9, kAdamLearningRate = 1e-3;

struct Options {
  bool quick = false;
  bool worker = false;  // internal: train in this process and print one JSON object
  std::vector<int> threads{1, 2};
  std::vector<std::string> optimizers{"sgd", "adam"};  // the worker runs one
  std::string records_path;
  std::string data_dir = data::kFashionMnistDir;
  std::string python = "/usr/bin/python3";
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

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "mlp_bench: " << message
            << "\nusage: mlp_bench [--quick] [--records PATH] [--threads LIST] "
               "[--optimizer sgd|adam] [--data DIR] [--python PATH]\n";
  std::exit(2);
}

std::vector<int> parse_threads(const std::string& list) {
  std::vector<int> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    const long t = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || t < 1 || t > 256) {
      usage_error("--threads expects a comma-separated list of thread counts (1..256), got '" +
                  list + "'");
    }
    out.push_back(static_cast<int>(t));
  }
  if (out.empty()) usage_error("--threads expects at least one thread count");
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--quick") {
      o.quick = true;
    } else if (arg == "--worker") {
      o.worker = true;
    } else if (arg == "--records") {
      o.records_path = value();
    } else if (arg == "--threads") {
      o.threads = parse_threads(value());
    } else if (arg == "--optimizer") {
      const std::string name = value();
      if (name != "sgd" && name != "adam") {
        usage_error("--optimizer expects sgd or adam, got '" + name + "'");
      }
      o.optimizers = {name};
    } else if (arg == "--data") {
      o.data_dir = value();
    } else if (arg == "--python") {
      o.python = value();
    } else {
      usage_error("unknown argument '" + arg + "'");
    }
  }
  if (o.worker && (o.threads.size() != 1 || o.optimizers.size() != 1)) {
    usage_error("--worker runs one thread count (--threads N) and one --optimizer");
  }
  return o;
}

// Page faults served without I/O so far: fresh memory from the kernel costs one per 4 KiB page.
int64_t minor_faults() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_minflt);
}

int64_t peak_rss_bytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
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

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
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
  const auto middle = step_seconds.begin() + static_cast<std::ptrdiff_t>(step_seconds.size() / 2);
  std::nth_element(step_seconds.begin(), middle, step_seconds.end());

  // The epoch: every batch of a reshuffled pass.
  data::DataLoader loader(dataset, {.batch_size = kBatch, .shuffle = true, .seed = 1986});
  double loss_sum = 0.0;
  int64_t batches = 0;
  const auto t0 = Clock::now();
  for (const data::Example& batch : loader) {
    loss_sum += step(batch.data, batch.target);
    ++batches;
  }
  const double epoch = seconds_since(t0);

  Json r;
  r["impl"] =
      tt::kernels::tier() == tt::kernels::Tier::kFast ? "tinytorch-fast" : "tinytorch-reference";
  r["optimizer"] = optimizer_name;
  r["threads"] = tt::get_num_threads();
  r["step_ms"] = 1e3 * *middle;
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

// Runs argv, returns its standard output; `status` receives the exit status (-1: not run).
std::string capture(const std::vector<std::string>& argv, int& status) {
  std::string command;
  for (const std::string& a : argv) {
    std::string quoted = "'";
    for (char c : a) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    command += quoted + "' ";
  }
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    status = -1;
    return {};
  }
  std::string out;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  const int raw = pclose(pipe);
  status = raw == -1 ? -1 : (WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw));
  return out;
}

// The one JSON object a worker printed last, or a {"failed": ...} object saying why not.
Json run_side(const std::string& who, const std::vector<std::string>& argv) {
  int status = 0;
  const std::string out = capture(argv, status);
  const size_t last = out.rfind("\n{");
  const std::string tail = out.substr(last == std::string::npos ? 0 : last + 1);
  Json r = Json::parse(tail, nullptr, /*allow_exceptions=*/false);
  if (status != 0 || !r.is_object()) {
    return Json{{"failed", who + " exited with status " + std::to_string(status) +
                               (r.is_object() ? "" : " without printing its results")}};
  }
  return r;
}

// PyTorch's configuration (mlp_torch.py --describe: version, BLAS, OpenBLAS's core), or
// {"skipped": why PyTorch cannot be the baseline here}.
Json torch_configuration(const Options& o, const fs::path& script) {
  if (!fs::exists(script)) {
    return Json{{"skipped", "the PyTorch side " + script.string() + " is missing"}};
  }
  Json config = run_side(script.filename().string() + " --describe",
                         {o.python, script.string(), "--describe"});
  if (!config.contains("failed")) return config;
  int status = 0;
  capture({o.python, "-c", "import torch"}, status);
  if (status != 0) {
    return Json{{"skipped", "PyTorch is not installed for " + o.python +
                                " (sudo apt-get install -y python3-torch)"}};
  }
  return config;  // PyTorch is there, the script failed: every torch figure is FAILED
}

std::string self_path(const char* argv0) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(argv0) : exe.string();
}

// PyTorch's configuration fields (torch_configuration), copied into each of its records.
constexpr const char* kTorchFields[] = {"torch_version",     "torch_cpu_capability",
                                        "torch_blas",        "openblas_core",
                                        "openblas_coretype", "openblas_coretype_cleared"};

// The records of one worker's result `r` (or of why there is none): mlp_step, mlp_epoch and
// mlp_peak_rss, each with its impl, optimizer and thread count, and `config`'s fields.
std::vector<Json> make_records(const Json& r, const std::string& impl, const std::string& optimizer,
                               int threads, const Json& config) {
  const auto record = [&](const char* name) {
    Json rec{{"name", name}, {"impl", impl}, {"optimizer", optimizer}, {"threads", threads}};
    for (const char* field : kTorchFields) {
      if (config.contains(field)) rec[field] = config[field];
    }
    return rec;
  };
  if (r.contains("failed") || r.contains("skipped")) {
    std::vector<Json> out;
    for (const char* name : {"mlp_step", "mlp_epoch", "mlp_peak_rss"}) {
      Json rec = record(name);
      rec[r.contains("failed") ? "failed" : "skipped"] = r.begin().value();
      out.push_back(rec);
    }
    return out;
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

std::string describe(const Json& rec) {
  std::ostringstream line;
  line << "  " << rec["name"].get<std::string>() << " " << rec["impl"].get<std::string>() << " "
       << rec["optimizer"].get<std::string>() << " threads=" << rec["threads"].get<int>() << ": ";
  if (rec.contains("ms")) {
    line << rec["ms"].get<double>() << " ms, " << rec["minor_faults"].get<double>()
         << " page faults per step";
  }
  if (rec.contains("seconds")) {
    line << rec["seconds"].get<double>() << " s (" << rec["batches"].get<int64_t>()
         << " batches, mean loss " << rec["mean_loss"].get<double>() << ", "
         << rec["data"].get<std::string>() << " data)";
  }
  if (rec.contains("mib")) line << rec["mib"].get<double>() << " MiB";
  if (rec.contains("failed")) line << "FAILED: " << rec["failed"].get<std::string>();
  if (rec.contains("skipped")) line << "skipped: " << rec["skipped"].get<std::string>();
  return line.str();
}

// The header: how busy the machine is and what each side runs on, before the first figure.
void print_header(const Json& torch_config) {
  if (const auto busy = tt::bench::cpu_busy_fraction()) {
    std::cout << "  CPU time used by other programs just before the run: "
              << static_cast<int>(std::lround(100.0 * *busy)) << "%\n";
  }
  std::cout << "  OpenMP wait policy: " << tt::bench::openmp_wait_policy() << "\n";
  std::cout << "  tinytorch: gemm_fast CPU capability "
            << tt::kernels::to_string(tt::kernels::get_cpu_capability()) << "\n";
  if (torch_config.contains("skipped") || torch_config.contains("failed")) {
    std::cout << "  PyTorch: " << torch_config.begin().value().get<std::string>() << "\n";
    return;
  }
  const Json capability = torch_config.value("torch_cpu_capability", Json());
  std::cout << "  PyTorch " << torch_config.value("torch_version", "?") << " (ATen CPU capability "
            << (capability.is_string() ? capability.get<std::string>() : "?") << "), BLAS "
            << torch_config.value("torch_blas", "?") << "\n";
  if (torch_config.contains("openblas_core")) {
    const Json value = torch_config.value("openblas_coretype", Json());
    tt::bench::OpenBlasCoretype coretype;
    if (value.is_string()) coretype.value = value.get<std::string>();
    coretype.cleared = torch_config.value("openblas_coretype_cleared", false);
    std::cout << "  PyTorch's OpenBLAS core: " << torch_config["openblas_core"].get<std::string>()
              << ", " << coretype.reason() << "\n";
  }
  std::cout.flush();
}

int run_parent(const Options& o, const char* argv0) {
  const fs::path script = fs::path(TINYTORCH_SOURCE_DIR) / "bench" / "mlp_torch.py";
  const Json torch_config = torch_configuration(o, script);
  print_header(torch_config);
  const std::string self = self_path(argv0);
  Json records = Json::array();
  bool ok = true;
  const auto add = [&](const Json& result, const std::string& impl, const std::string& optimizer,
                       int threads, const Json& config) {
    for (const Json& rec : make_records(result, impl, optimizer, threads, config)) {
      std::cout << describe(rec) << "\n" << std::flush;
      records.push_back(rec);
    }
    ok = ok && !result.contains("failed");
  };
  for (const int t : o.threads) {
    for (const std::string& optimizer : o.optimizers) {
      std::vector<std::string> ours{self,     "--worker", "--threads",   std::to_string(t),
                                    "--data", o.data_dir, "--optimizer", optimizer};
      if (o.quick) ours.emplace_back("--quick");
      const Json mine = run_side("mlp_bench --worker", ours);
      add(mine, mine.value("impl", "tinytorch-fast"), optimizer, t, Json::object());

      Json theirs = torch_config;  // {"skipped"/"failed": why} when PyTorch cannot run
      if (!torch_config.contains("skipped") && !torch_config.contains("failed")) {
        // PyTorch's matrix products run in OpenBLAS, whose own thread pool ignores
        // torch.set_num_threads: its thread count is set through the environment.
        const std::string threads = std::to_string(t);
        std::vector<std::string> torch{"env",
                                       "OPENBLAS_NUM_THREADS=" + threads,
                                       "OMP_NUM_THREADS=" + threads,
                                       o.python,
                                       script.string(),
                                       "--threads",
                                       threads,
                                       "--optimizer",
                                       optimizer,
                                       "--data",
                                       o.data_dir};
        if (o.quick) torch.emplace_back("--quick");
        theirs = run_side(script.filename().string(), torch);
      }
      add(theirs, "torch", optimizer, t, torch_config);
    }
  }
  if (!o.records_path.empty()) {
    tt::train::write_file_atomically(o.records_path, records.dump(2) + "\n");
  }
  return ok ? 0 : 1;
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
