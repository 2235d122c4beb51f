// ReduceLROnPlateauScheduler (tinytorch/optim/reduce_on_plateau_scheduler.h): libtorch's
// bookkeeping, step by step, in libtorch's types.
#include "tinytorch/optim/reduce_on_plateau_scheduler.h"

#include <cmath>
#include <iomanip>
#include <iostream>
#include <limits>

#include "tinytorch/core/exception.h"

namespace tinytorch::optim {

ReduceLROnPlateauScheduler::ReduceLROnPlateauScheduler(Optimizer& optimizer, SchedulerMode mode,
                                                       float factor, int patience, double threshold,
                                                       ThresholdMode threshold_mode, int cooldown,
                                                       const std::vector<float>& min_lr, double eps,
                                                       bool verbose)
    : optimizer_(optimizer),
      mode_(mode),
      factor_(factor),
      patience_(patience),
      threshold_(threshold),
      threshold_mode_(threshold_mode),
      cooldown_(cooldown),
      min_lrs_(min_lr),
      eps_(eps),
      verbose_(verbose),
      // the worst metric there is, in libtorch's floats (see the NOTE in the header)
      best_(mode == min ? std::numeric_limits<float>::max() : std::numeric_limits<float>::min()) {
  const size_t groups = optimizer.param_groups().size();
  if (min_lrs_.empty()) min_lrs_.assign(groups, 0.0F);
  TT_CHECK_VALUE(min_lrs_.size() == groups, "ReduceLROnPlateauScheduler: min_lr has ",
                 min_lr.size(), " learning rates; expected one per param group (", groups,
                 ") or none (every floor 0)");
  TT_CHECK_VALUE(factor < 1.0F, "ReduceLROnPlateauScheduler: factor should be < 1.0, got ", factor);
}

bool ReduceLROnPlateauScheduler::is_better(float metric) const {
  if (mode_ == min) {
    return threshold_mode_ == rel ? metric < best_ * (1.0 - threshold_)
                                  : metric < best_ - threshold_;
  }
  // libtorch's mode max with abs compares with best · threshold (see the NOTE in the header).
  return threshold_mode_ == rel ? metric > best_ * (1.0 + threshold_) : metric > best_ * threshold_;
}

void ReduceLROnPlateauScheduler::step(float metric) {
  ++last_epoch_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {  // right after a reduction, bad epochs do not count
    --cooldown_counter_;
    num_bad_epochs_ = 0;
  }
  if (num_bad_epochs_ > patience_) {
    reduce_lr();
    cooldown_counter_ = cooldown_;
    num_bad_epochs_ = 0;
  }
}

void ReduceLROnPlateauScheduler::reduce_lr() {
  auto& groups = optimizer_.param_groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    const double old_lr = groups[i].options().get_lr();
    const double new_lr = std::fmax(old_lr * factor_, min_lrs_[i]);
    if (old_lr - new_lr <= eps_) continue;  // at the floor already: too small a change
    groups[i].options().set_lr(new_lr);
    if (verbose_) {
      std::cout << std::setprecision(4) << "Epoch " << last_epoch_
                << ": reducing learning rate of group " << i << " to " << new_lr << std::endl;
    }
  }
}

}  // namespace tinytorch::optim
