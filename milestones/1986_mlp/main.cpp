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
// and training_curve.svg after every epoch; confusion_matrix.svg of the test set at the end. See
// milestones/1986_mlp/README.md.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/cli.h"
#include "common/fashion_mnist.h"
#include "common/models.h"
#include "common/outputs.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/data/dataloader.h"
#include "tinytorch/data/idx.h"
#include "tinytorch/kernels/registry.h"
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

int run(const Settings& s) {
  namespace ms = tt::milestones;
  const auto t_start = std::chrono::steady_clock::now();
  ms::check_outputs(s.json_path, s.out_dir);  // before training, not after
  if (s.threads > 0) tt::set_num_threads(s.threads);
  tt::manual_seed(s.seed);
  std::ostream& out = std::cout;

  // ── data: three splits (common/fashion_mnist.h) ─────────────────────────────────────────
  //   55 000 of the 60 000 training images train, --val-size of them validate, the 10 000 test
  //   images are evaluated once after training; [N, 784] rows, standardised with the training
  //   part's mean and std.
  const ms::FashionMnistSplits splits =
      ms::load_splits(s.data_dir, s.val_size, s.seed, /*sample_shape=*/{784});
  const data::Subset& train_set = splits.train;
  const data::Subset& val_set = splits.val;
  const data::TensorDataset& test_set = splits.test;

  data::DataLoader train_loader(
      train_set,
      {.batch_size = s.batch_size, .shuffle = true, .num_workers = s.workers, .seed = s.seed});
  // Evaluation: no shuffling, big batches (no graph is kept, so memory stays small).
  data::DataLoader val_loader(val_set, {.batch_size = 1000, .num_workers = s.workers});
  data::DataLoader test_loader(test_set, {.batch_size = 1000, .num_workers = s.workers});

  // ── model, loss, optimizer, schedule ────────────────────────────────────────────────────
  nn::Sequential model = ms::mlp_1986();
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
  // Every checkpoint records what ./tito export needs to turn it into a model file (module 20).
  const auto signature = ms::fashion_signature("fashion-mlp", {784});
  options.metadata = ms::export_metadata(*model.ptr(), signature);
  // The trainer validates on the held-out part of the training images after every epoch; the
  // test images are not given to it.
  train::Trainer trainer(model, optimizer, loss_fn, train_loader, &val_loader, options);
  trainer.set_scheduler(&scheduler);
  if (!s.resume_path.empty()) trainer.resume(s.resume_path);

  if (!s.quiet) {
    out << "Milestone 1986 — backpropagation trains a multi-layer perceptron\n"
        << tt::kernels::which_code_report() << "\n"
        << *model << "\n"
        << parameters << " parameters; Fashion-MNIST " << train_set.size() << " train / "
        << val_set.size() << " validation (held out of the 60000 training images, seed " << s.seed
        << ") / " << test_set.size() << " test images (loaded in " << std::fixed
        << std::setprecision(2) << splits.load_seconds << " s; standardised with mean "
        << std::setprecision(4) << splits.mean << ", std " << splits.stdev << ")\n"
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
  // ── test: once, at the end, on images no decision has seen ──────────────────────────────
  nlohmann::ordered_json settings;
  settings["seed"] = s.seed;
  settings["epochs"] = s.epochs;
  settings["batch_size"] = s.batch_size;
  settings["lr"] = s.lr;
  settings["loader_workers"] = s.workers;
  settings["parameters"] = parameters;
  ms::finish_run(out,
                 {.milestone = "1986_mlp",
                  .target_accuracy = ms::kMlpTargetAccuracy,
                  .train_size = train_set.size(),
                  .val_size = val_set.size(),
                  .start = t_start,
                  .out_dir = s.out_dir,
                  .checkpoint_name = options.checkpoint_name,
                  .trained = trained,
                  .json_path = s.json_path,
                  .quiet = s.quiet,
                  .signature = signature,
                  .statistics = ms::fashion_statistics(splits)},
                 *model, train::forward_of(model), loss_fn, test_loader, history, settings);
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
  app.add_option("--out", s.out_dir,
                 "output directory: checkpoint.ttc, metrics.csv/.json, training_curve.svg, "
                 "confusion_matrix.svg "
                 "(created if missing)")
      ->capture_default_str();
  ms::add_run_options(app, s);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "milestone_1986: error: " << e.what() << "\n";
    return 1;
  }
}
