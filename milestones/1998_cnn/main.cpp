// Milestone 1998 — LeNet-5 (LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to
// document recognition"), a convolutional network trained by backpropagation on Fashion-MNIST,
// with YOUR framework: modules 01–08 and the convolution, pooling and batch norm of module 09.
//
//   build/release/bin/milestone_1998                         LeNet-5, ≥ 88% test accuracy
//   build/release/bin/milestone_1998 --north-star            a modern small CNN: ≥ 92% in ≤ 10 min
//   build/release/bin/milestone_1998 --epochs 1 --json r.json
//   build/release/bin/milestone_1998 --resume runs/1998/checkpoint.ttc   (same arguments as the
//                                                     interrupted run: --epochs is the schedule)
//
//   LeNet-5 (default)
//   image [1, 28, 28] ─► conv 6@5×5 pad 2 ─► ReLU ─► maxpool 2 ─► [6, 14, 14]
//                     ─► conv 16@5×5 ─► ReLU ─► maxpool 2 ─► [16, 5, 5] ─► flatten 400
//                     ─► Linear 120 ─► ReLU ─► Linear 84 ─► ReLU ─► Linear 10 ─► cross-entropy
//
//   North Star (--north-star): three conv-BN-ReLU blocks, random crops and flips, OneCycle
//   image [1, 28, 28] ─► [conv 3×3 ─► BN ─► ReLU] 32 ─► maxpool ─► [..] 64 ─► maxpool
//                     ─► [..] 128 ─► maxpool ─► flatten 1152 ─► Linear 10
//   trained against a wall-clock budget (--time-budget, default 600 s, data loading and
//   evaluation included): an epoch that would not finish inside it is not started.
//
// Three splits: 55 000 of the 60 000 training images train the weights, the other 5 000
// (--val-size, chosen by --seed) are the VALIDATION set every choice was made on and the trainer
// reports after every epoch, and the 10 000 test images are evaluated once, after training.
//
// Writes into --out (default runs/1998/, or runs/1998_north_star/): checkpoint.ttc (resumable),
// metrics.csv, metrics.json and training_curve.svg after every epoch; confusion_matrix.svg of
// the test set at the end. See milestones/1998_cnn/README.md.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <memory>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/budget.h"
#include "common/cli.h"
#include "common/contended.h"
#include "common/fashion_mnist.h"
#include "common/models.h"
#include "common/outputs.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/data/dataloader.h"
#include "tinytorch/data/transforms.h"
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
namespace ms = tinytorch::milestones;

namespace {

// The defaults of the two models, each chosen on the validation split (README: "How the
// defaults were chosen").
struct Defaults {
  int64_t epochs;
  int64_t batch_size;
  double lr;
  double target_accuracy;
  const char* out_dir;
};
constexpr Defaults kLeNet = {.epochs = 5,
                             .batch_size = 64,
                             .lr = 2e-3,
                             .target_accuracy = ms::kLeNetTargetAccuracy,
                             .out_dir = "runs/1998"};
constexpr Defaults kNorthStar = {.epochs = 15,
                                 .batch_size = 128,
                                 .lr = 0.1,
                                 .target_accuracy = 0.92,
                                 .out_dir = "runs/1998_north_star"};

struct Settings {
  bool north_star = false;
  // 0 / empty: the chosen model's default (Defaults above).
  int64_t epochs = 0;
  int64_t batch_size = 0;
  double lr = 0.0;
  std::string out_dir;
  uint64_t seed = 1998;
  double time_budget = 600.0;  // seconds, --north-star only
  bool contended = false;      // --north-star: a CPU-bound process for the budget's first third
  int threads = 0;  // 0: the framework's default (TINYTORCH_NUM_THREADS or all hardware threads)
  int64_t workers = 0;
  int64_t val_size = 5000;  // training images held out for validation
  int64_t train_size = 0;   // 0: every training image not held out; else the first train_size
  std::string data_dir = data::kFashionMnistDir;
  std::string json_path;
  std::string resume_path;
  bool quiet = false;
};

// ── the models ───────────────────────────────────────────────────────────────────────────────

// conv 3×3 (same size, no bias: BatchNorm's shift replaces it) ─► BatchNorm ─► ReLU, the ReLU
// inside BatchNorm's own passes (fuse_relu: the values and gradients of nn::ReLU after it,
// without ReLU's passes over memory; module 09, Part 6).
nn::Sequential conv_bn_relu(int64_t in, int64_t out) {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(false)),
                        nn::BatchNorm2d(nn::BatchNorm2dOptions(out).fuse_relu(true)));
}

// The North Star: three conv-BN-ReLU blocks, each followed by 2×2 max pooling (28 → 14 → 7 → 3),
// then one Linear on the 128 × 3 × 3 features. ~15 MFLOP per image forward.
nn::Sequential north_star_cnn() {
  return nn::Sequential(conv_bn_relu(1, 32), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                        conv_bn_relu(32, 64), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                        conv_bn_relu(64, 128), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                        nn::Flatten(), nn::Linear(128 * 3 * 3, 10));
}

// ── the North Star's schedule and clock ──────────────────────────────────────────────────────

// OneCycle (Smith & Topin, 2018), torch.optim.lr_scheduler.OneCycleLR with its defaults
// (anneal_strategy "cos", div_factor 25, final_div_factor 1e4) and pct_start 0.25, without
// momentum cycling: the lr climbs from max/25 to max over the first quarter of the steps, then
// falls along a cosine to max/250 000.
//
//   lr ▲        ___
//      │      /     ‾‾--__
//      │    /               ‾‾--__
//      │__/                        ‾‾--___
//      └──────────────────────────────────────► step
//       0    T/4                              T
//
// `step` may be fractional: when the time budget moves the end of the run, the lr is read at the
// step where the schedule's progress (common/budget.h) puts it.
double one_cycle_lr(double step, int64_t total_steps, double max_lr) {
  constexpr double kPctStart = 0.25, kDivFactor = 25.0, kFinalDivFactor = 1e4;
  const double initial = max_lr / kDivFactor, final = initial / kFinalDivFactor;
  const double warm_end = kPctStart * static_cast<double>(total_steps) - 1.0;
  auto cosine = [](double from, double to, double pct) {
    return to + (from - to) / 2.0 * (1.0 + std::cos(std::numbers::pi * std::clamp(pct, 0.0, 1.0)));
  };
  const double t = step;
  if (t <= warm_end) return cosine(initial, max_lr, t / std::max(warm_end, 1.0));
  return cosine(max_lr, final,
                (t - warm_end) / std::max(static_cast<double>(total_steps) - 1.0 - warm_end, 1.0));
}

void set_lr(optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

// ── the run ──────────────────────────────────────────────────────────────────────────────────

int run(Settings s) {
  using Clock = std::chrono::steady_clock;
  const auto t_start = Clock::now();
  const Defaults& d = s.north_star ? kNorthStar : kLeNet;
  if (s.epochs == 0) s.epochs = d.epochs;
  if (s.batch_size == 0) s.batch_size = d.batch_size;
  if (s.lr == 0.0) s.lr = d.lr;
  if (s.out_dir.empty()) s.out_dir = d.out_dir;
  TT_CHECK_VALUE(!s.contended || s.north_star,
                 "--contended checks a time budget, which only --north-star has; add --north-star");
  const ms::ContendedLoad load(s.contended ? s.time_budget / 3.0 : 0.0);
  ms::check_outputs(s.json_path, s.out_dir);  // before training, not after
  if (s.threads > 0) tt::set_num_threads(s.threads);
  tt::manual_seed(s.seed);
  std::ostream& out = std::cout;

  // ── data: three splits (common/fashion_mnist.h), NCHW [N, 1, 28, 28] ────────────────────
  const ms::FashionMnistSplits splits = ms::load_splits(s.data_dir, s.val_size, s.seed);
  std::vector<int64_t> train_rows = splits.train.indices();
  if (s.train_size > 0 && s.train_size < static_cast<int64_t>(train_rows.size())) {
    train_rows.resize(static_cast<size_t>(s.train_size));  // a quick run on fewer images
  }
  const data::Subset train_set(splits.images, std::move(train_rows));
  const data::Subset& val_set = splits.val;
  const data::TensorDataset& test_set = splits.test;

  // The North Star sees each training image shifted by up to 2 pixels and mirrored half of the
  // time: a new variant every epoch, the same ones for the same seed (DataLoader's per-batch
  // generators). Validation and test images are never augmented.
  data::LoaderOptions train_options{
      .batch_size = s.batch_size, .shuffle = true, .num_workers = s.workers, .seed = s.seed};
  if (s.north_star) {
    train_options.transform =
        std::make_shared<const data::Compose>(std::vector<std::shared_ptr<const data::Transform>>{
            std::make_shared<const data::RandomCrop>(28, /*padding=*/2),
            std::make_shared<const data::RandomHorizontalFlip>(0.5)});
  }
  data::DataLoader train_loader(train_set, train_options);
  // Evaluation: no shuffling, no graph; batches of 500 keep the activations of the wider North
  // Star model well under 100 MiB.
  data::DataLoader val_loader(val_set, {.batch_size = 500, .num_workers = s.workers});
  data::DataLoader test_loader(test_set, {.batch_size = 500, .num_workers = s.workers});

  // ── model, loss, optimizer, schedule ────────────────────────────────────────────────────
  nn::Sequential model = s.north_star ? north_star_cnn() : ms::lenet5();
  const nn::ModelSummary summary = nn::summary(model, {1, 1, 28, 28});
  auto loss_fn = [](const tt::Tensor& logits, const tt::Tensor& labels) {
    return F::cross_entropy(logits, labels);
  };
  // LeNet-5: Adam with a per-epoch cosine, as milestone 1986. North Star: SGD with Nesterov
  // momentum and weight decay, its lr set before every step by the OneCycle schedule.
  std::unique_ptr<optim::Optimizer> optimizer;
  std::unique_ptr<optim::LRScheduler> scheduler;
  if (s.north_star) {
    optimizer = std::make_unique<optim::SGD>(
        model->parameters(),
        optim::SGDOptions(s.lr).momentum(0.9).nesterov(true).weight_decay(5e-4));
  } else {
    optimizer = std::make_unique<optim::Adam>(model->parameters(), optim::AdamOptions(s.lr));
    scheduler =
        std::make_unique<optim::CosineAnnealingLR>(*optimizer, std::max<int64_t>(s.epochs, 1));
  }

  train::TrainerOptions options;
  options.out_dir = s.out_dir;
  options.progress.mode = s.quiet ? train::ProgressMode::kSilent : train::ProgressMode::kAuto;
  options.curve.title = s.north_star
                            ? "1998 North Star CNN on Fashion-MNIST (3 conv-BN-ReLU blocks, SGD)"
                            : "1998 LeNet-5 on Fashion-MNIST (Adam)";
  // Every checkpoint records what ./tito export needs to turn it into a model file (module 20).
  const auto signature = ms::fashion_signature("fashion-cnn", {1, 28, 28});
  options.metadata = ms::export_metadata(*model.ptr(), signature);
  // The trainer validates on the held-out part of the training images after every epoch; the
  // test images are not given to it.
  train::Trainer trainer(model, *optimizer, loss_fn, train_loader, &val_loader, options);
  if (scheduler) trainer.set_scheduler(scheduler.get());
  if (!s.resume_path.empty()) trainer.resume(s.resume_path);

  // The North Star's clock (common/budget.h): the schedule spans `planned_epochs`, planned again
  // after every epoch at that epoch's pace — fewer when the machine is busy, more again (up to
  // --epochs) when it is free — so that the lr ends annealed when the budget ends; no epoch is
  // started that would end past the budget. OneCycle is read at the schedule's progress, which
  // does not jump when the plan moves: without a move, exactly OneCycle's closed form.
  const int64_t steps_per_epoch = train_loader.size();
  int64_t planned_epochs = s.epochs;
  ms::ScheduleProgress progress(0, s.epochs * steps_per_epoch - 1);  // 1 at the last step
  std::vector<ms::PlanChange> plan_changes;
  const auto lr_at = [&](int64_t step) {
    const int64_t total = planned_epochs * steps_per_epoch;
    return one_cycle_lr(progress.at(step) * static_cast<double>(total - 1), total, s.lr);
  };
  if (s.north_star) {
    set_lr(*optimizer, lr_at(trainer.epoch() * steps_per_epoch));
    trainer.on_batch_end([&](train::Trainer& t, int64_t batch, const train::StepResult&) {
      set_lr(*optimizer, lr_at(t.epoch() * steps_per_epoch + batch + 1));
    });
    trainer.on_epoch_end([&](train::Trainer& t, const train::Metrics& m) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - t_start).count();
      const double epoch_seconds = m["epoch_seconds"];
      const double train_seconds =
          static_cast<double>(train_set.size()) / std::max(m["samples_per_second"], 1e-9);
      // Kept for the end: the test evaluation costs about twice a validation (10 000 images
      // against 5 000); 2% of the budget absorbs the noise.
      const double reserve =
          2.0 * std::max(epoch_seconds - train_seconds, 0.0) + 0.02 * s.time_budget;
      const int64_t end = ms::planned_end(t.epoch(), s.time_budget - elapsed - reserve,
                                          epoch_seconds, t.epoch(), s.epochs);
      const bool moved = end != planned_epochs;
      if (moved) {
        plan_changes.push_back({.at = t.epoch(),
                                .from = planned_epochs,
                                .to = end,
                                .seconds_per_unit = epoch_seconds});
        const int64_t next_step = t.epoch() * steps_per_epoch;
        progress.replan(next_step, std::max(end * steps_per_epoch - 1, next_step + 1));
        planned_epochs = end;
        set_lr(*optimizer, lr_at(next_step));
      }
      if (t.epoch() >= planned_epochs) t.request_stop();
      if (!s.quiet) {
        out << "  wall clock " << std::fixed << std::setprecision(0) << elapsed << " s of "
            << s.time_budget << " s; epoch " << std::setprecision(1) << epoch_seconds << " s";
        if (t.epoch() >= planned_epochs && t.epoch() < s.epochs) {
          out << (moved ? "; stopping: another epoch would not fit into the budget"
                        : "; the schedule fitted to the budget is complete: stopping after epoch " +
                              std::to_string(planned_epochs) + " of " + std::to_string(s.epochs));
        } else if (moved) {
          out << "; at this pace the schedule now ends after epoch " << planned_epochs << " of "
              << s.epochs;
        }
        out << std::defaultfloat << "\n" << std::flush;
      }
    });
  }

  if (!s.quiet) {
    out << (s.north_star ? "Milestone 1998, North Star — a modern small CNN against the clock\n"
                         : "Milestone 1998 — LeNet-5: convolution, weight sharing, pooling\n")
        << tt::kernels::which_code_report() << "\n"
        << (load.seconds() > 0
                ? "contended: a second, CPU-bound process runs for the first " +
                      std::to_string(static_cast<int>(load.seconds())) + " s of the budget\n"
                : "")
        << summary << "\nFashion-MNIST " << train_set.size() << " train / " << val_set.size()
        << " validation (held out of the 60000 training images, seed " << s.seed << ") / "
        << test_set.size() << " test images (loaded in " << std::fixed << std::setprecision(2)
        << splits.load_seconds << " s; standardised with mean " << std::setprecision(4)
        << splits.mean << ", std " << splits.stdev << ")\n"
        << std::defaultfloat;
    if (s.north_star) {
      out << "SGD(lr=" << s.lr << " peak, OneCycle per step, momentum 0.9 Nesterov, weight decay "
          << "5e-4), random crop (pad 2) + horizontal flip, batch " << s.batch_size << ", "
          << s.epochs << " epochs at most, time budget " << s.time_budget << " s";
    } else {
      out << "Adam(lr=" << s.lr << ") + cosine schedule, batch " << s.batch_size << ", " << s.epochs
          << " epochs";
    }
    out << ", seed " << s.seed << ", " << tt::get_num_threads() << " thread(s), " << s.workers
        << " loader worker(s)\n";
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
  settings["model"] = s.north_star ? "north_star" : "lenet5";
  settings["seed"] = s.seed;
  settings["epochs"] = s.epochs;
  settings["epochs_trained"] = trainer.epoch();
  settings["batch_size"] = s.batch_size;
  settings["lr"] = s.lr;
  settings["optimizer"] =
      s.north_star ? "SGD nesterov momentum 0.9 weight_decay 5e-4, OneCycle" : "Adam, cosine";
  settings["loader_workers"] = s.workers;
  settings["parameters"] = summary.total_parameters;
  if (s.north_star) {
    settings["augmentation"] = "RandomCrop(28, padding 2) + RandomHorizontalFlip(0.5)";
    settings["time_budget_seconds"] = s.time_budget;
    settings["contended_seconds"] = load.seconds();
    // The budget cut the run short of --epochs (the schedule was fitted to the epochs that fit).
    settings["stopped_by_budget"] = trainer.epoch() < s.epochs;
    settings["planned_epochs"] = planned_epochs;
    settings["plan_changes"] = nlohmann::ordered_json::array();
    for (const ms::PlanChange& c : plan_changes) {
      settings["plan_changes"].push_back({{"epoch", c.at},
                                          {"from", c.from},
                                          {"to", c.to},
                                          {"seconds_per_epoch", c.seconds_per_unit}});
    }
  }
  const train::EvalResult test =
      ms::finish_run(out,
                     {.milestone = "1998_cnn",
                      .target_accuracy = d.target_accuracy,
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
  if (s.north_star) {
    const double wall = std::chrono::duration<double>(Clock::now() - t_start).count();
    out << std::fixed << std::setprecision(1) << "North Star: wall time " << wall << " s (budget "
        << s.time_budget << " s, data loading and evaluation included), peak RSS "
        << ms::mib(ms::peak_rss_bytes()) << ", test accuracy " << std::setprecision(2)
        << 100.0 * test.accuracy << "%\n"
        << std::defaultfloat;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{
      "Milestone 1998: LeNet-5, a convolutional network trained by backpropagation on "
      "Fashion-MNIST (>= 88% test accuracy).\n--north-star: a modern small CNN (conv-BN-ReLU "
      "blocks, random crops and flips, OneCycle) that reaches >= 92% test accuracy within a "
      "10-minute wall-clock budget on 2 cores.",
      "milestone_1998"};
  app.add_flag("--north-star", s.north_star,
               "train the North Star CNN against the clock instead of LeNet-5");
  app.add_option("--epochs", s.epochs,
                 "epochs to train (in total, when resuming) [default: 5; --north-star: 15, fewer "
                 "if the time budget says so]")
      ->check(ms::whole_number_in(1, 1000));
  app.add_flag("--contended", s.contended,
               "--north-star on a busy machine: a second, CPU-bound process runs for the first "
               "third of --time-budget");
  app.add_option("--time-budget", s.time_budget,
                 "--north-star: wall-clock seconds for the whole run, data loading and the test "
                 "included; no epoch is started that would end past it")
      ->capture_default_str()
      ->check(ms::number_in(1, 86400));
  app.add_option("--seed", s.seed, "random seed: split, weights, shuffling, augmentation")
      ->capture_default_str();
  app.add_option("--batch-size", s.batch_size,
                 "training batch size [default: 64; --north-star: 128]")
      ->check(ms::whole_number_in(1, 60000));
  app.add_option("--lr", s.lr,
                 "learning rate [default: Adam's 0.002 at the start of the cosine; --north-star: "
                 "SGD's OneCycle peak 0.1]")
      ->check(ms::positive_number(0.002));
  app.add_option("--threads", s.threads,
                 "threads for the kernels (0: TINYTORCH_NUM_THREADS or all hardware threads)")
      ->capture_default_str()
      ->check(ms::whole_number_in(0, 1024));
  app.add_option("--train-size", s.train_size,
                 "train on this many of the training images only (a quick check; 0: all)")
      ->capture_default_str()
      ->check(ms::whole_number_in(0, 60000));
  app.add_option("--out", s.out_dir,
                 "output directory: checkpoint.ttc, metrics.csv/.json, training_curve.svg, "
                 "confusion_matrix.svg "
                 "(created if missing) [default: runs/1998; --north-star: runs/1998_north_star]");
  ms::add_run_options(app, s);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "milestone_1998: error: " << e.what() << "\n";
    return 1;
  }
}
