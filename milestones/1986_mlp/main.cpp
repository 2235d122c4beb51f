// Milestone 1986 — a multi-layer perceptron trained by backpropagation (Rumelhart, Hinton &
// Williams) on Fashion-MNIST, with YOUR framework: tensors (01), activations (02), layers (03),
// losses (04), autograd (05), optimizers (06), the training loop (07) and the data pipeline (08).
//
//   build/release/bin/milestone_1986                       10 epochs, ≥ 88% test accuracy
//   build/release/bin/milestone_1986 --epochs 1 --json r.json
//   build/release/bin/milestone_1986 --resume runs/1986/checkpoint.ttc --epochs 15
//
//   image [1, 28, 28] ─► flatten ─► 784 ─► Linear ─► 256 ─► ReLU ─► Linear ─► 128 ─► ReLU
//                                                   ─► Linear ─► 10 logits ─► cross-entropy
//
// Writes into --out (default runs/1986/): checkpoint.ttc (resumable), metrics.csv, metrics.json
// and training_curve.svg after every epoch. See milestones/1986_mlp/README.md.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tinytorch/core/parallel.h"
#include "tinytorch/data/dataloader.h"
#include "tinytorch/data/idx.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/train.h"

namespace tt = tinytorch;
namespace nn = tinytorch::nn;
namespace F = tinytorch::nn::functional;
namespace optim = tinytorch::optim;
namespace data = tinytorch::data;
namespace train = tinytorch::train;

namespace {

struct Settings {
  int64_t epochs = 10;
  uint64_t seed = 1986;
  int64_t batch_size = 64;
  double lr = 1e-3;
  int threads = 0;  // 0: the framework's default (TINYTORCH_NUM_THREADS or all hardware threads)
  int64_t workers = 0;
  std::string data_dir = data::kFashionMnistDir;
  std::string out_dir = "runs/1986";
  std::string json_path;
  std::string resume_path;
  bool quiet = false;
};

const std::vector<std::string> kClassNames = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",  "Shirt",   "Sneaker",  "Bag",   "Boot"};
constexpr double kTargetAccuracy = 0.88;

// Peak resident memory of this process so far (the kernel's high-water mark), in bytes.
int64_t peak_rss_bytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

// The Fashion-MNIST files, with an error that says how to get them.
data::TensorDataset load_split(const std::string& dir, bool train) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) {
    throw tt::Error("Fashion-MNIST not found: '" + dir +
                    "' does not exist. Install the Debian package dataset-fashion-mnist "
                    "(sudo apt-get install dataset-fashion-mnist; ./tito installs it when "
                    "missing), or pass --data DIR with the four *-ubyte[.gz] files.");
  }
  try {
    return data::load_fashion_mnist(dir, train);
  } catch (const tt::Error& e) {
    throw tt::Error(std::string(e.what()) +
                    "\n(hint: the files come from the Debian package dataset-fashion-mnist; "
                    "reinstall it with sudo apt-get install --reinstall dataset-fashion-mnist)");
  }
}

// The mean and standard deviation of every pixel of `images`, in one pass with double
// accumulators (no temporary tensor: the training images alone are 188 MB of float32).
std::pair<double, double> pixel_mean_std(const tt::Tensor& images) {
  const tt::Tensor x = images.contiguous();
  const float* p = x.data_ptr<float>();
  double sum = 0.0, sum_sq = 0.0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    sum += p[i];
    sum_sq += static_cast<double>(p[i]) * p[i];
  }
  const double n = static_cast<double>(x.numel());
  const double mean = sum / n;
  return {mean, std::sqrt(std::max(0.0, sum_sq / n - mean * mean))};
}

// images [N, 1, 28, 28] in [0, 1] → [N, 784], standardised with the TRAINING set's mean and std,
// IN PLACE (a second copy would double the dataset's memory) and once, up front: no per-batch
// transform in the hot loop.
tt::Tensor standardise_(const tt::Tensor& images, double mean, double stdev) {
  tt::Tensor x = images.reshape({images.size(0), 784});  // a view of the contiguous images
  x.sub_(mean).div_(stdev);
  return x;
}

std::string mib(int64_t bytes) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1024.0 * 1024.0)
     << " MiB";
  return os.str();
}

int run(const Settings& s) {
  using Clock = std::chrono::steady_clock;
  const auto t_start = Clock::now();
  if (s.threads > 0) tt::set_num_threads(s.threads);
  tt::manual_seed(s.seed);
  std::ostream& out = std::cout;

  // ── data ────────────────────────────────────────────────────────────────────────────────
  const auto t_load = Clock::now();
  data::TensorDataset train_raw = load_split(s.data_dir, /*train=*/true);
  data::TensorDataset test_raw = load_split(s.data_dir, /*train=*/false);
  const auto [mean, stdev] = pixel_mean_std(train_raw.data());
  data::TensorDataset train_set(standardise_(train_raw.data(), mean, stdev), train_raw.targets());
  data::TensorDataset test_set(standardise_(test_raw.data(), mean, stdev), test_raw.targets());
  const double load_seconds = std::chrono::duration<double>(Clock::now() - t_load).count();

  data::DataLoader train_loader(
      train_set,
      {.batch_size = s.batch_size, .shuffle = true, .num_workers = s.workers, .seed = s.seed});
  // Evaluation: no shuffling, big batches (no graph is kept, so memory stays small).
  data::DataLoader test_loader(test_set, {.batch_size = 1000, .num_workers = s.workers});

  // ── model, loss, optimizer, schedule ────────────────────────────────────────────────────
  nn::Sequential model(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                       nn::Linear(128, 10));
  int64_t parameters = 0;
  for (const auto& p : model->parameters()) parameters += p.numel();
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(s.lr));
  // Half a cosine from lr down to 0 over the run: big steps first, fine ones at the end.
  optim::CosineAnnealingLR scheduler(optimizer, std::max<int64_t>(s.epochs, 1));
  auto loss_fn = [](const tt::Tensor& logits, const tt::Tensor& labels) {
    return F::cross_entropy(logits, labels);
  };

  train::TrainerOptions options;
  options.out_dir = s.out_dir;
  options.progress.mode = s.quiet ? train::ProgressMode::kSilent : train::ProgressMode::kAuto;
  options.curve.title = "1986 MLP on Fashion-MNIST (784-256-128-10, Adam)";
  train::Trainer trainer(model, optimizer, loss_fn, train_loader, &test_loader, options);
  trainer.set_scheduler(&scheduler);
  if (!s.resume_path.empty()) trainer.resume(s.resume_path);

  if (!s.quiet) {
    out << "Milestone 1986 — backpropagation trains a multi-layer perceptron\n\n"
        << *model << "\n"
        << parameters << " parameters; Fashion-MNIST " << train_set.size() << " train / "
        << test_set.size() << " test images (loaded in " << std::fixed << std::setprecision(2)
        << load_seconds << " s; standardised with mean " << std::setprecision(4) << mean << ", std "
        << stdev << ")\n"
        << std::defaultfloat << "Adam(lr=" << s.lr << ") + cosine schedule, batch " << s.batch_size
        << ", " << s.epochs << " epochs, seed " << s.seed << ", " << tt::get_num_threads()
        << " thread(s), " << s.workers << " loader worker(s)\n";
    if (!s.resume_path.empty()) {
      out << "resumed from " << s.resume_path << " after epoch " << trainer.epoch() << "\n";
    }
    out << "\n" << std::flush;  // before the first epoch, also when stdout is a pipe
  }

  // ── train ───────────────────────────────────────────────────────────────────────────────
  const int64_t first_epoch = trainer.epoch();  // > 0 after --resume
  const train::History& history = trainer.fit(s.epochs);
  const bool trained = trainer.epoch() > first_epoch;
  if (!trained) {
    out << "nothing to train: the run is already at epoch " << trainer.epoch() << " of " << s.epochs
        << "\n";
  }

  const double final_acc = history.empty() ? std::nan("") : history.at(-1, "val_acc");
  const auto test_acc = history.empty() ? std::vector<double>{} : history.column("val_acc");
  const auto test_loss = history.empty() ? std::vector<double>{} : history.column("val_loss");
  const auto train_loss = history.empty() ? std::vector<double>{} : history.column("train_loss");
  const auto train_acc = history.empty() ? std::vector<double>{} : history.column("train_acc");
  const auto epoch_seconds =
      history.empty() ? std::vector<double>{} : history.column("epoch_seconds");
  const auto sps = history.empty() ? std::vector<double>{} : history.column("samples_per_second");
  double sps_mean = 0;
  for (double v : sps) sps_mean += v / static_cast<double>(sps.size());
  const int64_t rss = peak_rss_bytes();
  const double total_seconds = std::chrono::duration<double>(Clock::now() - t_start).count();

  if (!s.quiet) {
    train::ConfusionMatrix confusion(10, kClassNames);
    trainer.validate(&confusion);
    out << "\nconfusion matrix on the test set (rows: true class, columns: predicted):\n"
        << confusion << "\n";
  }
  out << std::fixed << std::setprecision(2) << "final test accuracy " << 100.0 * final_acc
      << "% (milestone target >= " << 100.0 * kTargetAccuracy
      << "%: " << (final_acc >= kTargetAccuracy ? "reached" : "NOT reached") << ")\n"
      << "training throughput " << train::format_count(sps_mean) << " samples/s (mean over "
      << sps.size() << " epochs); total " << std::setprecision(1) << total_seconds << " s\n"
      << "peak RSS " << mib(rss) << "\n";
  if (!s.out_dir.empty() && trained) {
    const std::filesystem::path dir(s.out_dir);
    out << "wrote " << (dir / options.checkpoint_name).string() << ", "
        << (dir / train::kMetricsCsv).string() << ", " << (dir / train::kMetricsJson).string()
        << ", " << (dir / train::kTrainingCurveSvg).string() << "\n";
  }

  if (!s.json_path.empty()) {
    nlohmann::ordered_json j;
    j["milestone"] = "1986_mlp";
    j["final_test_accuracy"] = final_acc;
    j["test_accuracy"] = test_acc;
    j["test_loss"] = test_loss;
    j["train_loss"] = train_loss;
    j["train_accuracy"] = train_acc;
    j["epoch_seconds"] = epoch_seconds;
    j["samples_per_second"] = sps_mean;
    j["samples_per_second_per_epoch"] = sps;
    j["threads"] = tt::get_num_threads();
    j["seed"] = s.seed;
    j["epochs"] = s.epochs;
    j["batch_size"] = s.batch_size;
    j["lr"] = s.lr;
    j["loader_workers"] = s.workers;
    j["parameters"] = parameters;
    j["peak_rss_bytes"] = rss;
    j["total_seconds"] = total_seconds;
    j["target_accuracy"] = kTargetAccuracy;
    j["reached_target"] = final_acc >= kTargetAccuracy;
    j["out_dir"] = s.out_dir;
    train::write_file_atomically(s.json_path, j.dump(2) + "\n");
    if (!s.quiet) out << "wrote " << s.json_path << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{"Milestone 1986: a 784-256-128-10 MLP trained by backpropagation on Fashion-MNIST",
               "milestone_1986"};
  app.add_option("--epochs", s.epochs, "epochs to train (in total, when resuming)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  app.add_option("--seed", s.seed, "random seed: weights, shuffling (same seed, same numbers)")
      ->capture_default_str();
  app.add_option("--batch-size", s.batch_size, "training batch size")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{60000}));
  app.add_option("--lr", s.lr, "Adam's learning rate (the start of the cosine schedule)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", s.threads,
                 "threads for the kernels (0: TINYTORCH_NUM_THREADS or all hardware threads)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  app.add_option("--workers", s.workers, "DataLoader worker threads (0: batches on this thread)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{64}));
  app.add_option("--data", s.data_dir, "directory with the Fashion-MNIST IDX files")
      ->capture_default_str();
  app.add_option("--out", s.out_dir,
                 "output directory: checkpoint.ttc, metrics.csv/.json, training_curve.svg "
                 "(created if missing)")
      ->capture_default_str();
  app.add_option("--json", s.json_path, "also write the results to this JSON file");
  app.add_option("--resume", s.resume_path, "continue from a checkpoint written by this program")
      ->check(CLI::ExistingFile);
  app.add_flag("--quiet,-q", s.quiet, "print only the final results");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "milestone_1986: error: " << e.what() << "\n";
    return 1;
  }
}
