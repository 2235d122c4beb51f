// tinytorch/optim/reduce_on_plateau_scheduler.h — lower the learning rate when a metric stops
// improving: libtorch's torch::optim::ReduceLROnPlateauScheduler (libtorch 2.x; Python's
// torch.optim.lr_scheduler.ReduceLROnPlateau).
//
//   optim::Adam opt(model->parameters(), optim::AdamOptions(1e-3));
//   using Plateau = optim::ReduceLROnPlateauScheduler;
//   Plateau sched(opt, Plateau::SchedulerMode::min, /*factor=*/0.5, /*patience=*/2);
//   for (int epoch = 0; epoch < 50; ++epoch) {
//     train_one_epoch(opt);
//     sched.step(validation_loss());   // the metric decides, not the epoch count
//   }
//
// Each step(metric):
//   better?  (mode min, rel: metric < best·(1 − threshold);   abs: metric < best − threshold;
//             mode max, rel: metric > best·(1 + threshold))
//            yes: best = metric, bad epochs = 0          no: bad epochs + 1
//   in cooldown (epochs left after a reduction)?  one fewer left, and bad epochs = 0
//   bad epochs > patience?  every group: lr = max(lr·factor, min_lr), unless that changes lr by
//            eps or less; then cooldown epochs of cooldown, bad epochs = 0
// So with patience 2 the third bad step in a row reduces.
//
// NOTE libtorch's arithmetic, not Python's, in three places (a libtorch program must mean the
// same here):
//   * the metric, best, factor and min_lr are floats (the lr itself is a double): factor 0.1
//     multiplies by 0.100000001490116…, so a reduced lr differs from Python's in about the 9th
//     digit;
//   * mode max starts from best = FLT_MIN (the smallest positive float), not −∞: in mode max a
//     metric ≤ 0 never counts as an improvement;
//   * mode max with ThresholdMode::abs tests metric > best · threshold (Python: best +
//     threshold), so there almost any positive metric counts as an improvement.
// Modes min (rel and abs) and max with rel on positive metrics behave as Python's.
#pragma once

#include <vector>

#include "tinytorch/optim/optimizer.h"

namespace tinytorch::optim {

class ReduceLROnPlateauScheduler {
 public:
  enum SchedulerMode { min, max };  // is a lower or a higher metric better?
  enum ThresholdMode { rel, abs };  // is `threshold` a fraction of best or an amount?

  // min_lr: empty (every group's floor 0) or one floor per parameter group. factor must be < 1.
  // verbose prints each reduction to std::cout, as libtorch's:
  //   "Epoch 5: reducing learning rate of group 0 to 0.05"
  explicit ReduceLROnPlateauScheduler(Optimizer& optimizer, SchedulerMode mode = min,
                                      float factor = 0.1, int patience = 10,
                                      double threshold = 1e-4, ThresholdMode threshold_mode = rel,
                                      int cooldown = 0,
                                      const std::vector<float>& min_lr = std::vector<float>(),
                                      double eps = 1e-8, bool verbose = false);
  ReduceLROnPlateauScheduler(const ReduceLROnPlateauScheduler&) = delete;
  ReduceLROnPlateauScheduler& operator=(const ReduceLROnPlateauScheduler&) = delete;
  virtual ~ReduceLROnPlateauScheduler() = default;

  // One epoch's metric (a validation loss in mode min, an accuracy in mode max).
  void step(float metric);

 private:
  bool is_better(float metric) const;
  void reduce_lr();

  Optimizer& optimizer_;
  SchedulerMode mode_;
  float factor_;
  int patience_;
  double threshold_;
  ThresholdMode threshold_mode_;
  int cooldown_;
  std::vector<float> min_lrs_;  // one per parameter group
  double eps_;
  bool verbose_;

  float best_;              // the best metric so far (FLT_MAX / FLT_MIN before the first step)
  int num_bad_epochs_ = 0;  // steps in a row without an improvement
  int cooldown_counter_ = 0;
  int last_epoch_ = 0;  // step() calls: the epoch a verbose message names
};

}  // namespace tinytorch::optim
