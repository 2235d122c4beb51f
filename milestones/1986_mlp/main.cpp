// Milestone 1986 — a multi-layer perceptron trained by backpropagation (Rumelhart, Hinton &
// Williams) on Fashion-MNIST, with YOUR framework: tensors (01), activations (02), layers (03),
// losses (04), autograd (05), optimizers (06), the training loop (07) and the data pipeline (08).
//
//   build/release/bin/milestone_1986                       10 epochs, ≥ 88% test accuracy
//   build/release/bin/milestone_1986 --val-size 10000      hold out more training images
//   build/release/bin/milestone_1986 --epochs 1 --json r.json
//   build/release/bin/milestone_1986 --resume runs/1986/checkpoint.ttc --epochs 15
//
//   image [1, 28, 28] ─► flatten ─► 784 ─► Linear ─► 256 ─► ReLU ─► Linear ─► 128 ─► ReLU
//                                                   ─► Linear ─► 10 logits ─► cross-entropy
//
// Three splits: 55 000 of the 60 000 training images train the weights, the other 5 000
// (--val-size, chosen by --seed) are the VALIDATION set the trainer reports after every epoch,
// and the 10 000 test images are evaluated once, after training — the reported test accuracy.
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

#include "common/cli.h"
#include "common/outputs.h"
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
  int64_t val_size = 5000;  // training images held out for validation
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

// The four Fashion-MNIST files, plain or gzipped.
const std::vector<std::string> kFashionMnistFiles = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte"};

// Whether `dir` names the Debian package's folder (data::kFashionMnistDir), however spelled.
bool is_debian_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec1, ec2;
  const fs::path a = fs::weakly_canonical(dir, ec1),
                 b = fs::weakly_canonical(data::kFashionMnistDir, ec2);
  return !ec1 && !ec2 && a == b;
}

// The Fashion-MNIST files, with an error that says how to get them. Only the Debian package's
// folder gets the advice to (re)install the package; for a folder of the user's (--data DIR) the
// error says which files were expected there.
data::TensorDataset load_split(const std::string& dir, bool train) {
  namespace fs = std::filesystem;
  const bool debian = is_debian_dir(dir);
  if (debian && !fs::is_directory(dir)) {
    throw tt::Error("Fashion-MNIST not found: '" + dir +
                    "' does not exist. Install the Debian package dataset-fashion-mnist "
                    "(sudo apt-get install dataset-fashion-mnist; ./tito installs it when "
                    "missing), or pass --data DIR with the four *-ubyte[.gz] files.");
  }
  if (!debian) {
    std::string missing;
    for (const std::string& name : kFashionMnistFiles) {
      if (!fs::is_regular_file(fs::path(dir) / (name + ".gz")) &&
          !fs::is_regular_file(fs::path(dir) / name)) {
        missing += "\n  " + name + "[.gz]";
      }
    }
    if (!missing.empty()) {
      throw tt::Error(
          "--data " + dir + ": " +
          (fs::is_directory(dir) ? "the folder lacks Fashion-MNIST files" : "no such folder") +
          ". Expected the four IDX files of Fashion-MNIST there (plain or gzipped); "
          "missing:" +
          missing + "\n(without --data the program reads " + data::kFashionMnistDir +
          ", which the Debian package dataset-fashion-mnist installs)");
    }
  }
  try {
    return data::load_fashion_mnist(dir, train);
  } catch (const tt::Error& e) {
    if (!debian) throw tt::Error("--data " + dir + ": " + e.what());
    throw tt::Error(std::string(e.what()) +
                    "\n(hint: the files come from the Debian package dataset-fashion-mnist; "
                    "reinstall it with sudo apt-get install --reinstall dataset-fashion-mnist)");
  }
}

// The mean and standard deviation of every pixel of the images at `rows` (the training part
// only: the validation and test images must not shape the model in any way, not even through
// its input scaling), in one pass with double accumulators and no temporary tensor (the 60 000
// images alone are 179 MiB of float32). images: [N, ...] contiguous.
std::pair<double, double> pixel_mean_std(const tt::Tensor& images,
                                         const std::vector<int64_t>& rows) {
  const tt::Tensor x = images.contiguous();
  const int64_t row_size = x.numel() / x.size(0);
  const float* base = x.data_ptr<float>();
  double sum = 0.0, sum_sq = 0.0;
  for (const int64_t r : rows) {
    const float* p = base + r * row_size;
    for (int64_t i = 0; i < row_size; ++i) {
      sum += p[i];
      sum_sq += static_cast<double>(p[i]) * p[i];
    }
  }
  const double n = static_cast<double>(rows.size()) * static_cast<double>(row_size);
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
  tt::milestones::check_outputs(s.json_path, s.out_dir);  // before training, not after
  if (s.threads > 0) tt::set_num_threads(s.threads);
  tt::manual_seed(s.seed);
  std::ostream& out = std::cout;

  // ── data: three splits ──────────────────────────────────────────────────────────────────
  //   60 000 training images ──random_split(seed)──► train (fit the weights)
  //                                              └─► validation (watch the run, pick epochs)
  //   10 000 test images ───────────────────────────► test: looked at ONCE, after training
  const auto t_load = Clock::now();
  data::TensorDataset train_raw = load_split(s.data_dir, /*train=*/true);
  data::TensorDataset test_raw = load_split(s.data_dir, /*train=*/false);
  TT_CHECK_VALUE(s.val_size < train_raw.size(), "--val-size ", s.val_size,
                 " leaves no training images (the training split has ", train_raw.size(), ")");
  // The split's own generator, seeded from --seed: the same images are held out in every run
  // with this seed — also after --resume — whatever the global generator has drawn.
  tt::Generator split_generator(s.seed);
  std::vector<int64_t> train_rows, val_rows;
  {
    const std::vector<data::Subset> parts =
        data::random_split(train_raw, {train_raw.size() - s.val_size, s.val_size}, split_generator);
    train_rows = parts[0].indices();
    val_rows = parts[1].indices();
  }
  // Standardised with the statistics of the training part only, in place (a second copy would
  // double the dataset's memory) and once, up front: no per-batch transform in the hot loop.
  const auto [mean, stdev] = pixel_mean_std(train_raw.data(), train_rows);
  auto all_train = std::make_shared<const data::TensorDataset>(
      standardise_(train_raw.data(), mean, stdev), train_raw.targets());
  const data::Subset train_set(all_train, std::move(train_rows));
  const data::Subset val_set(all_train, std::move(val_rows));
  const data::TensorDataset test_set(standardise_(test_raw.data(), mean, stdev),
                                     test_raw.targets());
  const double load_seconds = std::chrono::duration<double>(Clock::now() - t_load).count();

  data::DataLoader train_loader(
      train_set,
      {.batch_size = s.batch_size, .shuffle = true, .num_workers = s.workers, .seed = s.seed});
  // Evaluation: no shuffling, big batches (no graph is kept, so memory stays small).
  data::DataLoader val_loader(val_set, {.batch_size = 1000, .num_workers = s.workers});
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
  // The trainer validates on the held-out part of the training images after every epoch; the
  // test images are not given to it.
  train::Trainer trainer(model, optimizer, loss_fn, train_loader, &val_loader, options);
  trainer.set_scheduler(&scheduler);
  if (!s.resume_path.empty()) trainer.resume(s.resume_path);

  if (!s.quiet) {
    out << "Milestone 1986 — backpropagation trains a multi-layer perceptron\n\n"
        << *model << "\n"
        << parameters << " parameters; Fashion-MNIST " << train_set.size() << " train / "
        << val_set.size() << " validation (held out of the 60000 training images, seed " << s.seed
        << ") / " << test_set.size() << " test images (loaded in " << std::fixed
        << std::setprecision(2) << load_seconds << " s; standardised with mean "
        << std::setprecision(4) << mean << ", std " << stdev << ")\n"
        << std::defaultfloat << "Adam(lr=" << s.lr << ") + cosine schedule, batch " << s.batch_size
        << ", " << s.epochs << " epochs, seed " << s.seed << ", " << tt::get_num_threads()
        << " thread(s), " << s.workers << " loader worker(s)\n";
    if (!s.resume_path.empty()) {
      out << "resumed from " << s.resume_path << " after epoch " << trainer.epoch() << "\n";
    }
    out << "\n" << std::flush;  // before the first epoch, also when stdout is a pipe
  }

  // ── train, watching the validation split ────────────────────────────────────────────────
  const int64_t first_epoch = trainer.epoch();  // > 0 after --resume
  const train::History& history = trainer.fit(s.epochs);
  const bool trained = trainer.epoch() > first_epoch;
  if (!trained) {
    out << "nothing to train: the run is already at epoch " << trainer.epoch() << " of " << s.epochs
        << "\n";
  }
  auto column = [&](const std::string& name) {
    return history.empty() ? std::vector<double>{} : history.column(name);
  };
  const double final_val_acc = history.empty() ? std::nan("") : history.at(-1, "val_acc");
  const auto sps = column("samples_per_second");
  double sps_mean = 0;
  for (double v : sps) sps_mean += v / static_cast<double>(sps.size());

  // ── test: once, at the end, on images no decision has seen ──────────────────────────────
  train::ConfusionMatrix confusion(10, kClassNames);
  const train::EvalResult test =
      train::evaluate(*model, train::forward_of(model), loss_fn, test_loader, &confusion);
  const int64_t rss = peak_rss_bytes();
  const double total_seconds = std::chrono::duration<double>(Clock::now() - t_start).count();

  if (!s.quiet) {
    out << "\nconfusion matrix on the test set (rows: true class, columns: predicted):\n"
        << confusion << "\n";
  }
  out << std::fixed << std::setprecision(2) << "final validation accuracy " << 100.0 * final_val_acc
      << "% (" << val_set.size() << " held-out training images)\n"
      << "test accuracy " << 100.0 * test.accuracy << "%, test loss " << std::setprecision(4)
      << test.loss << std::setprecision(2) << " (" << test_set.size()
      << " test images, evaluated once; milestone target >= " << 100.0 * kTargetAccuracy
      << "%: " << (test.accuracy >= kTargetAccuracy ? "reached" : "NOT reached") << ")\n"
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
    j["final_test_accuracy"] = test.accuracy;  // the test set, evaluated once after training
    j["test_loss"] = test.loss;
    j["final_val_accuracy"] = final_val_acc;
    j["val_accuracy"] = column("val_acc");  // per epoch, on the held-out training images
    j["val_loss"] = column("val_loss");
    j["train_loss"] = column("train_loss");
    j["train_accuracy"] = column("train_acc");
    j["epoch_seconds"] = column("epoch_seconds");
    j["samples_per_second"] = sps_mean;
    j["samples_per_second_per_epoch"] = sps;
    j["train_size"] = train_set.size();
    j["val_size"] = val_set.size();
    j["test_size"] = test_set.size();
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
    j["reached_target"] = test.accuracy >= kTargetAccuracy;
    j["out_dir"] = s.out_dir;
    train::write_file_atomically(s.json_path, j.dump(2) + "\n");
    if (!s.quiet) out << "wrote " << s.json_path << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  namespace ms = tinytorch::milestones;  // the argument checks of common/cli.h
  Settings s;
  CLI::App app{"Milestone 1986: a 784-256-128-10 MLP trained by backpropagation on Fashion-MNIST",
               "milestone_1986"};
  app.add_option("--epochs", s.epochs, "epochs to train (in total, when resuming)")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 1000));
  app.add_option("--seed", s.seed, "random seed: weights, shuffling (same seed, same numbers)")
      ->capture_default_str();
  app.add_option("--batch-size", s.batch_size, "training batch size")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 60000));
  app.add_option("--lr", s.lr, "Adam's learning rate (the start of the cosine schedule)")
      ->capture_default_str()
      ->check(ms::positive_number());
  app.add_option("--threads", s.threads,
                 "threads for the kernels (0: TINYTORCH_NUM_THREADS or all hardware threads)")
      ->capture_default_str()
      ->check(ms::whole_number_in(0, 1024));
  app.add_option("--workers", s.workers, "DataLoader worker threads (0: batches on this thread)")
      ->capture_default_str()
      ->check(ms::whole_number_in(0, 64));
  app.add_option("--val-size", s.val_size,
                 "training images held out for validation (the test set is evaluated once, at "
                 "the end)")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 30000));
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
