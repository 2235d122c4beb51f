// milestones/common/fashion_mnist.h — what the Fashion-MNIST milestones (1986 MLP, 1998 CNN)
// share: their common command-line options, the three splits, standardised once, and the report
// after training.
//
//   add_run_options(app, settings);                              // --workers ... --quiet
//   const auto splits = load_splits(data_dir, val_size, seed);   // train / validation / test
//   ... train on splits.train, validate on splits.val (the trainer does) ...
//   finish_run(out, {.milestone = "1998_cnn", ...}, model, forward, loss_fn, test_loader,
//              history, settings_json);   // the test set once, confusion matrix, --json
//
//   60 000 training images ──random_split(seed)──► train (fit the weights)
//                                              └─► validation (watch the run, make every choice)
//   10 000 test images ───────────────────────────► test: looked at ONCE, after training
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/cli.h"
#include "common/export.h"
#include "common/memory.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/data/dataloader.h"
#include "tinytorch/data/dataset.h"
#include "tinytorch/data/idx.h"
#include "tinytorch/train/train.h"

namespace tinytorch::milestones {

inline const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",  "Shirt",   "Sneaker",  "Bag",   "Boot"};
  return names;
}

// ── the data ─────────────────────────────────────────────────────────────────────────────────

// The four Fashion-MNIST files, plain or gzipped.
inline const std::vector<std::string>& fashion_mnist_files() {
  static const std::vector<std::string> files = {
      "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
      "t10k-labels-idx1-ubyte"};
  return files;
}

// Whether `dir` names the Debian package's folder (data::kFashionMnistDir), however spelled.
inline bool is_debian_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec1, ec2;
  const fs::path a = fs::weakly_canonical(dir, ec1),
                 b = fs::weakly_canonical(data::kFashionMnistDir, ec2);
  return !ec1 && !ec2 && a == b;
}

// The Fashion-MNIST files, with an error that says how to get them. Only the Debian package's
// folder gets the advice to (re)install the package; for a folder of the user's (--data DIR) the
// error says which files were expected there.
inline data::TensorDataset load_split(const std::string& dir, bool train) {
  namespace fs = std::filesystem;
  const bool debian = is_debian_dir(dir);
  if (debian && !fs::is_directory(dir)) {
    throw Error("Fashion-MNIST not found: '" + dir +
                "' does not exist. Install the Debian package dataset-fashion-mnist "
                "(sudo apt-get install dataset-fashion-mnist; ./tito installs it when "
                "missing), or pass --data DIR with the four *-ubyte[.gz] files.");
  }
  if (!debian) {
    std::string missing;
    for (const std::string& name : fashion_mnist_files()) {
      if (!fs::is_regular_file(fs::path(dir) / (name + ".gz")) &&
          !fs::is_regular_file(fs::path(dir) / name)) {
        missing += "\n  " + name + "[.gz]";
      }
    }
    if (!missing.empty()) {
      throw Error(
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
  } catch (const Error& e) {
    if (!debian) throw Error("--data " + dir + ": " + e.what());
    throw Error(std::string(e.what()) +
                "\n(hint: the files come from the Debian package dataset-fashion-mnist; "
                "reinstall it with sudo apt-get install --reinstall dataset-fashion-mnist)");
  }
}

// The mean and standard deviation of every pixel of the images at `rows` (the training part
// only: the validation and test images must not shape the model in any way, not even through
// its input scaling), in one pass with double accumulators and no temporary tensor (the 60 000
// images alone are 179 MiB of float32). images: [N, ...] contiguous.
inline std::pair<double, double> pixel_mean_std(const Tensor& images,
                                                const std::vector<int64_t>& rows) {
  const Tensor x = images.contiguous();
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

// The three splits, standardised with the statistics of the training part only.
struct FashionMnistSplits {
  std::shared_ptr<const data::TensorDataset> images;  // the 60 000 training images, standardised
  data::Subset train;                                 // fits the weights
  data::Subset val;          // held out of the training images: every choice is made on it
  data::TensorDataset test;  // evaluated once, after training
  double mean = 0.0, stdev = 1.0;
  double load_seconds = 0.0;
};

// images in [0, 1], standardised IN PLACE (a second copy would double the dataset's memory) and
// once, up front: no per-batch transform in the hot loop. Each sample has `sample_shape`:
// {1, 28, 28} for a CNN (NCHW batches), {784} for an MLP.
inline FashionMnistSplits load_splits(const std::string& dir, int64_t val_size, uint64_t seed,
                                      const std::vector<int64_t>& sample_shape = {1, 28, 28}) {
  using Clock = std::chrono::steady_clock;
  const auto t_load = Clock::now();
  const data::TensorDataset train_raw = load_split(dir, /*train=*/true);
  const data::TensorDataset test_raw = load_split(dir, /*train=*/false);
  TT_CHECK_VALUE(val_size < train_raw.size(), "--val-size ", val_size,
                 " leaves no training images (the training split has ", train_raw.size(), ")");
  // The split's own generator, seeded from --seed: the same images are held out in every run
  // with this seed — also after --resume — whatever the global generator has drawn.
  Generator split_generator(seed);
  std::vector<int64_t> train_rows, val_rows;
  {
    const std::vector<data::Subset> parts =
        data::random_split(train_raw, {train_raw.size() - val_size, val_size}, split_generator);
    train_rows = parts[0].indices();
    val_rows = parts[1].indices();
  }
  const auto [mean, stdev] = pixel_mean_std(train_raw.data(), train_rows);
  auto standardised = [&, mean = mean, stdev = stdev](const data::TensorDataset& raw) {
    std::vector<int64_t> shape = {raw.size()};
    shape.insert(shape.end(), sample_shape.begin(), sample_shape.end());
    Tensor x = raw.data().reshape(shape);  // a view of the contiguous images
    x.sub_(mean).div_(stdev);
    return data::TensorDataset(x, raw.targets());
  };
  auto all_train = std::make_shared<const data::TensorDataset>(standardised(train_raw));
  return {all_train,
          data::Subset(all_train, std::move(train_rows)),
          data::Subset(all_train, std::move(val_rows)),
          standardised(test_raw),
          mean,
          stdev,
          std::chrono::duration<double>(Clock::now() - t_load).count()};
}

// What an exported Fashion-MNIST classifier takes and returns (module 20): one standardised
// image of `input_shape` ([784] for an MLP, [1, 28, 28] for a CNN) → 10 logits, one per class.
inline deploy::ModelSignature fashion_signature(std::string name,
                                                std::vector<int64_t> input_shape) {
  return {.name = std::move(name),
          .version = "",
          .input_shape = std::move(input_shape),
          .input_dtype = kFloat32,
          .labels = fashion_mnist_classes()};
}

// The statistics stored with it: the standardisation and the drift reference.
inline StatisticsFn fashion_statistics(const FashionMnistSplits& splits) {
  return [&splits] { return input_statistics(splits.images->data(), splits.mean, splits.stdev); };
}

// ── after training ───────────────────────────────────────────────────────────────────────────

struct FinishOptions {
  std::string milestone;  // the results' "milestone" value: "1986_mlp"
  double target_accuracy = 0.0;
  int64_t train_size = 0, val_size = 0;
  std::chrono::steady_clock::time_point start;  // the program's start: total_seconds
  std::string out_dir;                          // where the trainer wrote (empty: nowhere)
  std::string checkpoint_name;
  bool trained = true;  // false: nothing was trained in this run (no files written)
  std::string json_path;
  bool quiet = false;
  // The exported model.ttm (module 20) in out_dir: its signature (no name: not exported) and the
  // statistics stored with it.
  deploy::ModelSignature signature{};
  StatisticsFn statistics{};
};

// The test set, evaluated once: prints the confusion matrix (unless quiet) and the closing lines
// — validation and test accuracy, throughput, total time, peak RSS — and writes --json with the
// history per epoch and `settings` (the milestone's own keys) in it. Returns the test result.
inline train::EvalResult finish_run(std::ostream& out, const FinishOptions& o, nn::Module& model,
                                    const train::ForwardFn& forward, const train::LossFn& loss_fn,
                                    data::DataLoader& test_loader, const train::History& history,
                                    const nlohmann::ordered_json& settings) {
  auto column = [&](const std::string& name) {
    return history.empty() ? std::vector<double>{} : history.column(name);
  };
  const double final_val_acc = history.empty() ? std::nan("") : history.at(-1, "val_acc");
  const auto sps = column("samples_per_second");
  double sps_mean = 0;
  for (double v : sps) sps_mean += v / static_cast<double>(sps.size());

  // ── test: once, at the end, on images no decision has seen ──────────────────────────────
  train::ConfusionMatrix confusion(10, fashion_mnist_classes());
  const train::EvalResult test = train::evaluate(model, forward, loss_fn, test_loader, &confusion);
  const int64_t rss = peak_rss_bytes();
  const double total_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - o.start).count();
  const int64_t test_size = test_loader.dataset().size();

  if (!o.quiet) {
    out << "\nconfusion matrix on the test set (rows: true class, columns: predicted):\n"
        << confusion << "\n";
  }
  out << std::fixed << std::setprecision(2) << "final validation accuracy " << 100.0 * final_val_acc
      << "% (" << o.val_size << " held-out training images)\n"
      << "test accuracy " << 100.0 * test.accuracy << "%, test loss " << std::setprecision(4)
      << test.loss << std::setprecision(2) << " (" << test_size
      << " test images, evaluated once; milestone target >= " << 100.0 * o.target_accuracy
      << "%: " << (test.accuracy >= o.target_accuracy ? "reached" : "NOT reached") << ")\n"
      << "training throughput " << train::format_count(sps_mean) << " samples/s (mean over "
      << sps.size() << " epochs); total " << std::setprecision(1) << total_seconds << " s\n"
      << "peak RSS " << mib(rss) << "\n";
  if (!o.out_dir.empty()) {
    const std::filesystem::path dir(o.out_dir);
    const std::string confusion_svg = (dir / train::kConfusionMatrixSvg).string();
    train::write_confusion_matrix_svg(
        confusion, confusion_svg,
        o.milestone + ": the " + std::to_string(test_size) + " test images, evaluated once");
    if (o.trained) {
      out << "wrote " << (dir / o.checkpoint_name).string() << ", "
          << (dir / train::kMetricsCsv).string() << ", " << (dir / train::kMetricsJson).string()
          << ", " << (dir / train::kTrainingCurveSvg).string() << ", " << confusion_svg << "\n";
    } else {
      out << "wrote " << confusion_svg << "\n";
    }
  }

  const bool exported = !o.signature.name.empty() &&
                        write_model_file(out, model, o.signature, o.out_dir, o.statistics);

  if (!o.json_path.empty()) {
    nlohmann::ordered_json j;
    j["milestone"] = o.milestone;
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
    j["train_size"] = o.train_size;
    j["val_size"] = o.val_size;
    j["test_size"] = test_size;
    j["threads"] = get_num_threads();
    for (const auto& [key, value] : settings.items()) j[key] = value;
    j["peak_rss_bytes"] = rss;
    j["total_seconds"] = total_seconds;
    j["target_accuracy"] = o.target_accuracy;
    j["reached_target"] = test.accuracy >= o.target_accuracy;
    j["out_dir"] = o.out_dir;
    j["model_file"] = exported ? (std::filesystem::path(o.out_dir) / kModelFileName).string() : "";
    train::write_file_atomically(o.json_path, j.dump(2) + "\n");
    if (!o.quiet) out << "wrote " << o.json_path << "\n";
  }
  return test;
}

// The options of a Fashion-MNIST milestone that are not about its model: loader workers, the
// validation split, where the images are read from, the results file, resuming, quiet. `Settings`
// is the program's own struct, with members workers, val_size, data_dir, json_path, resume_path
// and quiet. `per_rank`: the program runs as several MPI ranks (milestone_1986_ddp).
template <typename Settings>
void add_run_options(CLI::App& app, Settings& s, bool per_rank = false) {
  app.add_option("--workers", s.workers,
                 per_rank ? "DataLoader worker threads per rank (0: batches on the rank's thread)"
                          : "DataLoader worker threads (0: batches on this thread)")
      ->capture_default_str()
      ->check(whole_number_in(0, 64));
  app.add_option("--val-size", s.val_size,
                 "training images held out for validation (the test set is evaluated once, at "
                 "the end)")
      ->capture_default_str()
      ->check(whole_number_in(1, 30000));
  app.add_option("--data", s.data_dir, "directory with the Fashion-MNIST IDX files")
      ->capture_default_str();
  app.add_option("--json", s.json_path,
                 per_rank ? "also write the results to this JSON file (rank 0)"
                          : "also write the results to this JSON file");
  app.add_option("--resume", s.resume_path, "continue from a checkpoint written by this program")
      ->check(CLI::ExistingFile);
  app.add_flag("--quiet,-q", s.quiet, "print only the final results");
}

}  // namespace tinytorch::milestones
