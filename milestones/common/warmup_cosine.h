// milestones/common/warmup_cosine.h — the learning-rate schedule of the budgeted text milestones
// (2017's GPT, 1997's LSTM): a linear warm-up, then half a cosine whose end follows the time
// budget (common/budget.h).
//
//   WarmupCosineLR scheduler(optimizer, /*warmup=*/200, /*total=*/7000, /*min_lr=*/1e-4);
//   ... optimizer.step(); scheduler.step();            // once per training step
//   scheduler.set_total(planned);                       // the budget moved the end
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string_view>
#include <vector>

#include "common/budget.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/optim/optim.h"

namespace tinytorch::milestones {

// Linear warm-up then half a cosine, per optimizer step (one scheduler step per training step):
//
//   lr(t) = lr · (t + 1) / warmup                                       t < warmup
//   lr(t) = min_lr + (lr − min_lr) · (1 + cos(π (t − warmup) / (steps − warmup))) / 2   after
//
//   lr ┤    ╭──╮
//      │   ╱    ╲___
//      │  ╱         ╲___
//      │ ╱              ╲____ min_lr
//      └─┴──────────────────── step
//        warmup            steps
//
// The warm-up keeps Adam's first steps — its second-moment estimate still tiny — from throwing
// the freshly initialised weights far; the cosine lets the last steps settle. optim has no
// warm-up schedule (PyTorch composes one from LinearLR + CosineAnnealingLR with SequentialLR, or
// writes a LambdaLR); this is the closed form, in both of the base class's roles.
//
// The cosine's progress (t − warmup) / (steps − warmup) is a ScheduleProgress: when the time
// budget moves the end (set_total), the curve goes on from where it is to min_lr at the new end,
// without a jump (common/budget.h).
class WarmupCosineLR : public optim::LRScheduler {
 public:
  WarmupCosineLR(optim::Optimizer& optimizer, int64_t warmup, int64_t total, double min_lr)
      : LRScheduler(optimizer), warmup_(warmup), progress_(warmup, total), min_lr_(min_lr) {
    TT_CHECK_VALUE(warmup >= 1 && total > warmup, "WarmupCosineLR: expected 1 <= warmup < total, ",
                   "got warmup ", warmup, " and total ", total);
    initial_step();
  }
  std::vector<double> closed_form_lrs() const override {
    std::vector<double> lrs;
    for (const double base : base_lrs_) {
      if (last_epoch_ < warmup_) {
        lrs.push_back(base * static_cast<double>(last_epoch_ + 1) / static_cast<double>(warmup_));
        continue;
      }
      const double progress = progress_.at(last_epoch_);
      lrs.push_back(min_lr_ + (base - min_lr_) * (1.0 + std::cos(std::numbers::pi * progress)) / 2);
    }
    return lrs;
  }
  std::string_view name() const override { return "WarmupCosineLR"; }
  // Ends the cosine at `total` instead (the run's clock says fewer, or more, steps fit): from
  // the next step on, the lr goes on from its current value to min_lr at `total`. Not saved in a
  // checkpoint (like every scheduler's hyper-parameters): a resumed run plans again.
  void set_total(int64_t total) {
    TT_CHECK_VALUE(total > warmup_, "WarmupCosineLR: total ", total, " must exceed warmup ",
                   warmup_);
    progress_.replan(last_epoch_, total);
  }

 protected:
  std::vector<double> get_lrs() override { return closed_form_lrs(); }

 private:
  int64_t warmup_;
  ScheduleProgress progress_;
  double min_lr_;
};

}  // namespace tinytorch::milestones
