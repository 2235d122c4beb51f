// Module 07 — the Trainer (given code: it is the plain loop of loop.cpp, plus bookkeeping).
#include "tinytorch/train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>
#include <utility>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/train/logging.h"

namespace tinytorch::train {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string percent(double fraction) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(2) << 100.0 * fraction << '%';
  return os.str();
}

std::string fixed4(double v) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(4) << v;
  return os.str();
}

}  // namespace

Trainer::Trainer(std::shared_ptr<nn::Module> model, ForwardFn forward, optim::Optimizer& optimizer,
                 LossFn loss_fn, data::DataLoader& train_loader, data::DataLoader* val_loader,
                 TrainerOptions options)
    : model_(std::move(model)),
      forward_(std::move(forward)),
      optimizer_(optimizer),
      loss_fn_(std::move(loss_fn)),
      train_loader_(train_loader),
      val_loader_(val_loader),
      options_(std::move(options)) {
  TT_CHECK(model_ != nullptr, "Trainer: the model is null");
  TT_CHECK(static_cast<bool>(forward_), "Trainer: the forward function is empty");
  TT_CHECK(static_cast<bool>(loss_fn_), "Trainer: the loss function is empty");
  if (options_.early_stopping) early_stopping_.emplace(*options_.early_stopping);
}

Trainer& Trainer::set_scheduler(optim::LRScheduler* scheduler) {
  scheduler_ = scheduler;
  return *this;
}

Trainer& Trainer::on_epoch_end(EpochHook hook) {
  epoch_hooks_.push_back(std::move(hook));
  return *this;
}

Trainer& Trainer::on_batch_end(BatchHook hook) {
  batch_hooks_.push_back(std::move(hook));
  return *this;
}

TrainingState Trainer::training_state() const {
  TrainingState state;
  state.model = model_.get();
  state.optimizer = &optimizer_;
  state.scheduler = scheduler_;
  state.generators = {{"default", &default_generator()},
                      {"train_loader", &train_loader_.generator()}};
  if (val_loader_ != nullptr)
    state.generators.emplace_back("val_loader", &val_loader_->generator());
  return state;
}

Trainer::EpochStats Trainer::train_one_epoch(ProgressBar& bar) {
  const auto t0 = std::chrono::steady_clock::now();
  model_->train();
  RunningAverage loss;
  int64_t correct = 0, batch_index = 0;
  bool classification = true;
  for (auto& batch : train_loader_) {
    const StepResult step =
        train_step(forward_, loss_fn_, optimizer_, batch, options_.max_grad_norm);
    const int64_t n = batch.data.size(0);
    loss.update(step.loss, n);
    classification = classification && is_classification(step.output, batch.target);
    if (classification) correct += count_correct(step.output, batch.target);
    ProgressBar::Values shown = {{"loss", loss.mean()}};
    if (classification) {
      shown.emplace_back("acc", static_cast<double>(correct) / static_cast<double>(loss.count()));
    }
    bar.update(n, std::move(shown));
    for (auto& hook : batch_hooks_) hook(*this, batch_index, step);
    ++batch_index;
  }
  EpochStats stats;
  stats.samples = loss.count();
  stats.loss = loss.mean();
  stats.accuracy = classification && stats.samples > 0
                       ? static_cast<double>(correct) / static_cast<double>(stats.samples)
                       : kNaN;
  stats.seconds = seconds_since(t0);
  return stats;
}

EvalResult Trainer::validate(ConfusionMatrix* confusion) {
  TT_CHECK(val_loader_ != nullptr, "Trainer::validate: the trainer has no validation loader");
  return evaluate(*model_, forward_, loss_fn_, *val_loader_, confusion);
}

const History& Trainer::fit(int64_t epochs) {
  TT_CHECK_VALUE(epochs >= 0, "Trainer::fit: epochs must be >= 0, got ", epochs);
  stop_requested_ = false;
  while (epoch_ < epochs && !stop_requested_ && !stopped_early_) {
    const auto t0 = std::chrono::steady_clock::now();
    const double lr = optimizer_.param_groups().at(0).options().get_lr();  // this epoch's lr
    ProgressBar bar("epoch " + std::to_string(epoch_ + 1) + "/" + std::to_string(epochs),
                    train_loader_.size(), options_.progress);
    const EpochStats train = train_one_epoch(bar);

    Metrics m("Metric");
    m.insert("epoch", static_cast<double>(epoch_ + 1));
    m.insert("train_loss", train.loss);
    if (!std::isnan(train.accuracy)) m.insert("train_acc", train.accuracy);
    std::string summary;
    if (val_loader_ != nullptr) {
      const EvalResult val = validate();
      m.insert("val_loss", val.loss);
      summary = "val_loss " + fixed4(val.loss);
      if (!std::isnan(val.accuracy)) {
        m.insert("val_acc", val.accuracy);
        summary += "  val_acc " + percent(val.accuracy);
      }
    }
    m.insert("lr", lr);
    m.insert("epoch_seconds", seconds_since(t0));
    m.insert("samples_per_second",
             train.seconds > 0 ? static_cast<double>(train.samples) / train.seconds : kNaN);
    if (scheduler_ != nullptr) scheduler_->step();
    ++epoch_;
    history_.append(m);

    std::string stop_note;
    if (early_stopping_) {
      const std::string& monitor = early_stopping_->options().monitor;
      TT_CHECK(
          m.contains(monitor), "Trainer: early stopping monitors '", monitor,
          "', which this epoch did not record (recorded: ",
          [&] {
            std::string names;
            for (const auto& item : m) names += (names.empty() ? "" : ", ") + item.key();
            return names;
          }(),
          ")");
      if (early_stopping_->step(m[monitor])) {
        stopped_early_ = true;
        std::ostringstream os;
        os << "early stopping: " << monitor << " has not improved for " << early_stopping_->wait()
           << " epochs (best " << early_stopping_->best() << " at epoch "
           << early_stopping_->best_epoch() << ")";
        stop_note = os.str();
      }
    }
    if (!options_.out_dir.empty()) write_outputs();
    bar.finish(summary);
    if (!stop_note.empty() && bar.mode() != ProgressMode::kSilent) {
      std::ostream& out = options_.progress.out != nullptr ? *options_.progress.out : std::cout;
      out << stop_note << "\n" << std::flush;
    }
    for (auto& hook : epoch_hooks_) hook(*this, m);
  }
  return history_;
}

Checkpoint Trainer::checkpoint() const {
  Checkpoint ckpt = capture_checkpoint(training_state(), epoch_, history_);
  if (early_stopping_) ckpt.extra.insert("early_stopping", early_stopping_->state_string());
  ckpt.extra.insert("stopped_early", stopped_early_ ? "1" : "0");
  for (const auto& [key, value] : options_.metadata) ckpt.extra.insert(key, value);
  return ckpt;
}

void Trainer::save_checkpoint(const std::string& path) const {
  train::save_checkpoint(checkpoint(), path);
}

void Trainer::resume(const std::string& path) {
  const Checkpoint ckpt = load_checkpoint(path);
  restore_checkpoint(ckpt, training_state());
  epoch_ = ckpt.epoch;
  history_ = ckpt.history;
  if (early_stopping_) {
    if (const std::string* state = ckpt.extra.find("early_stopping")) {
      early_stopping_->load_state_string(*state);
    } else {
      early_stopping_->reset();
    }
  }
  const std::string* stopped = ckpt.extra.find("stopped_early");
  stopped_early_ = stopped != nullptr && *stopped == "1";
}

void Trainer::write_outputs() const {
  std::error_code ec;
  std::filesystem::create_directories(options_.out_dir, ec);
  TT_CHECK(!ec, "Trainer: cannot create output directory '", options_.out_dir, "': ", ec.message());
  save_checkpoint((std::filesystem::path(options_.out_dir) / options_.checkpoint_name).string());
  write_logs(history_, options_.out_dir, options_.curve);
}

}  // namespace tinytorch::train
