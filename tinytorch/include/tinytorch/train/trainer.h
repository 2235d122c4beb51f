// tinytorch/train/trainer.h — a small reusable training loop (module 07).
//
//   train::Trainer trainer(model, optimizer, F::cross_entropy, train_loader, &val_loader,
//                          {.out_dir = "runs/mlp"});
//   trainer.set_scheduler(&scheduler);
//   const train::History& h = trainer.fit(10);      // epochs 1 … 10
//   // runs/mlp/: checkpoint.ttc, metrics.csv, metrics.json, training_curve.svg (every epoch)
//
//   train::Trainer again(...same kind of objects...);
//   again.resume("runs/mlp/checkpoint.ttc");         // epoch, weights, optimizer, RNG, history
//   again.fit(15);                                    // epochs 11 … 15
//
// libtorch has no Trainer (its examples write the loop by hand, and so does the chapter); the
// Python world has many (Keras' Model.fit, PyTorch Lightning, Hugging Face's Trainer). This one
// is deliberately small — one epoch is exactly the plain loop of train/loop.h:
//
//   fit(N): while epoch < N and not stopped:
//     ┌ train epoch ────────────────────────────────────────────────────────┐
//     │ model.train();  for batch in train_loader:  train_step → progress  │ on_batch_end hooks
//     └─────────────────────────────────────────────────────────────────────┘
//     val = evaluate(model, val_loader)            (eval mode, no graph)
//     scheduler.step()                              (once per epoch)
//     epoch += 1;  history.append({epoch, train_loss, train_acc, val_loss, val_acc, lr,
//                                  epoch_seconds, samples_per_second})
//     early stopping: stop if the monitored metric has not improved for `patience` epochs
//     out_dir: checkpoint.ttc + metrics.csv + metrics.json + training_curve.svg (atomic)
//     on_epoch_end hooks (may call request_stop())
//
// train_acc / val_acc are recorded when the outputs look like classification (scores [N, C],
// int64 labels [N]). The history's loss and accuracy columns are deterministic — same seed, same
// values, and a resumed run gives the same ones as an uninterrupted run; epoch_seconds and
// samples_per_second are measurements and differ from run to run.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tinytorch/data/dataloader.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/optim/lr_scheduler.h"
#include "tinytorch/optim/optimizer.h"
#include "tinytorch/train/checkpoint.h"
#include "tinytorch/train/early_stopping.h"
#include "tinytorch/train/loop.h"
#include "tinytorch/train/metrics.h"
#include "tinytorch/train/plot.h"
#include "tinytorch/train/progress.h"

namespace tinytorch::train {

struct TrainerOptions {
  // Where to write checkpoint.ttc and the logs after every epoch; "" writes nothing.
  std::string out_dir{};
  std::string checkpoint_name = "checkpoint.ttc";
  ProgressOptions progress{};  // the live bar / one line per epoch / silent
  std::optional<EarlyStoppingOptions> early_stopping{};
  double max_grad_norm = 0.0;  // > 0: clip the gradients' joint norm before each step
  CurveOptions curve{};        // the training-curve picture
  // Free-form text saved in every checkpoint's extra entries, e.g. the architecture record and
  // signature that ./tito export reads (deploy::kArchitectureKey, module 20).
  OrderedDict<std::string, std::string> metadata{"Metadata key"};
};

class Trainer {
 public:
  using EpochHook = std::function<void(Trainer&, const Metrics&)>;
  using BatchHook = std::function<void(Trainer&, int64_t batch, const StepResult&)>;

  // `val_loader` may be null (no validation). It is the VALIDATION set — data held out of the
  // training set, on which early stopping and every other choice is made — never the test set,
  // which is evaluated once after training (train::evaluate). The loaders, optimizer and model
  // must outlive the trainer; the trainer does not copy them.
  Trainer(std::shared_ptr<nn::Module> model, ForwardFn forward, optim::Optimizer& optimizer,
          LossFn loss_fn, data::DataLoader& train_loader, data::DataLoader* val_loader = nullptr,
          TrainerOptions options = {});
  // For a module holder (nn::Sequential, a TT_MODULE type): its forward is used.
  template <typename Holder>
  requires nn::detail::is_module_holder_v<Holder> Trainer(const Holder& model,
                                                          optim::Optimizer& optimizer,
                                                          LossFn loss_fn,
                                                          data::DataLoader& train_loader,
                                                          data::DataLoader* val_loader = nullptr,
                                                          TrainerOptions options = {})
      : Trainer(model.ptr(), forward_of(model), optimizer, std::move(loss_fn), train_loader,
                val_loader, std::move(options)) {}

  // Stepped once at the end of every epoch, and saved in checkpoints.
  Trainer& set_scheduler(optim::LRScheduler* scheduler);
  Trainer& on_epoch_end(EpochHook hook);
  Trainer& on_batch_end(BatchHook hook);

  // Trains until `epochs` epochs are complete (counting those done before a resume), or early
  // stopping / request_stop() ends it. Returns the history of every epoch.
  const History& fit(int64_t epochs);

  // The model on the validation loader (eval mode, no graph).
  EvalResult validate(ConfusionMatrix* confusion = nullptr);

  // Everything needed to continue: model, optimizer, scheduler, the generators (default,
  // train_loader, val_loader), epoch, history, early-stopping state.
  Checkpoint checkpoint() const;
  void save_checkpoint(const std::string& path) const;
  // Loads a checkpoint written by save_checkpoint (or by fit with out_dir) into this trainer's
  // objects; the next fit() continues with epoch epoch() + 1.
  void resume(const std::string& path);

  // Ends fit() after the current epoch (for hooks).
  void request_stop() { stop_requested_ = true; }
  bool stopped_early() const { return stopped_early_; }
  int64_t epoch() const { return epoch_; }  // epochs completed
  const History& history() const { return history_; }
  const std::optional<EarlyStopping>& early_stopping() const { return early_stopping_; }
  nn::Module& model() { return *model_; }
  const TrainerOptions& options() const { return options_; }
  // The objects a checkpoint covers.
  TrainingState training_state() const;

 private:
  struct EpochStats {
    double loss = 0.0;
    double accuracy = 0.0;  // NaN if the outputs are not classification
    int64_t samples = 0;
    double seconds = 0.0;
  };
  // One pass over the training loader, with the progress bar.
  EpochStats train_one_epoch(ProgressBar& bar);
  void write_outputs() const;

  std::shared_ptr<nn::Module> model_;
  ForwardFn forward_;
  optim::Optimizer& optimizer_;
  LossFn loss_fn_;
  data::DataLoader& train_loader_;
  data::DataLoader* val_loader_;
  TrainerOptions options_;
  optim::LRScheduler* scheduler_ = nullptr;
  std::vector<EpochHook> epoch_hooks_;
  std::vector<BatchHook> batch_hooks_;
  std::optional<EarlyStopping> early_stopping_;
  History history_;
  int64_t epoch_ = 0;
  bool stop_requested_ = false;
  bool stopped_early_ = false;
};

}  // namespace tinytorch::train
