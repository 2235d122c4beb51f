// tinytorch/optim/lr_scheduler.h — learning-rate schedules (module 06): StepLR with libtorch's
// (C++) timing; CosineAnnealingLR and LinearLR, which libtorch's C++ API does not have, with
// PyTorch 1.13's (Python) values.
//
//   optim::SGD opt(params, optim::SGDOptions(0.1).momentum(0.9));
//   optim::CosineAnnealingLR sched(opt, /*T_max=*/100, /*eta_min=*/1e-4);
//   for (int epoch = 0; epoch < 100; ++epoch) {
//     train_one_epoch(opt);    // many opt.step()
//     sched.step();            // then the schedule moves on: sets every group's lr
//   }
//
// Like PyTorch's Python classes the constructor already applies epoch 0 — LinearLR starts at
// start_factor · lr at once; StepLR's epoch 0 changes nothing, as libtorch's constructor — and
// step() uses the RECURSIVE ("chainable") form of each schedule: the new lr is computed from each
// group's CURRENT lr, so a schedule composes with anything else that changed the lr.
// closed_form_lrs() gives the formula of the epoch alone; the two agree up to rounding (the lab
// measures by how much).
//
// NOTE StepLR decays one step later than Python's torch.optim.lr_scheduler.StepLR. libtorch's
// step() decides from the number of step() calls BEFORE it, so the k-th call applies
// γ^⌊(k − 1) / step_size⌋; Python's constructor counts as a step, so its k-th call applies
// γ^⌊k / step_size⌋. A libtorch program must mean the same here, so ours is libtorch's:
//
//   step() calls (= last_epoch()):   0    1    2    3    4    5    6
//   StepLR(step_size = 2, gamma = 0.5), base lr 0.1:
//   lr, here and in libtorch:       .1   .1   .1  .05  .05 .025 .025
//   lr, Python's StepLR:            .1   .1  .05  .05 .025 .025 .0125
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/optim/optimizer.h"

namespace tinytorch::optim {

class LRScheduler {
 public:
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;
  virtual ~LRScheduler() = default;

  // Moves to the next epoch and writes its lr into every parameter group.
  void step();
  // The lrs the last step() (or the constructor) set, one per parameter group.
  const std::vector<double>& get_last_lr() const { return last_lrs_; }
  // The epoch whose lr is in effect: the number of step() calls since construction (0 after
  // it). Not a count of decays: StepLR's lr at last_epoch() t ≥ 1 is base · γ^⌊(t − 1) /
  // step_size⌋ (libtorch's timing, see the NOTE above).
  int64_t last_epoch() const { return last_epoch_; }
  // The lrs of last_epoch() by the closed-form formula (from base_lrs(), no history).
  virtual std::vector<double> closed_form_lrs() const = 0;
  // Each group's lr when the scheduler was made (PyTorch's initial_lr).
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  // "StepLR", "CosineAnnealingLR", "LinearLR": the type a state dict records.
  virtual std::string_view name() const = 0;

  // For resuming:
  //   scheduler.<name>  0-d int64    format version (1); the key names the scheduler type
  //   last_epoch        0-d int64
  //   step_count        0-d int64    step() calls, including the constructor's
  //   base_lrs          1-d float64  one per parameter group
  //   last_lrs          1-d float64
  // The hyper-parameters (step_size, T_max, ...) come from the constructor and are not saved;
  // the groups' current lrs are in the OPTIMIZER's state dict. Restore both.
  OrderedDict<std::string, Tensor> state_dict() const;
  void load_state_dict(const OrderedDict<std::string, Tensor>& state_dict);

 protected:
  explicit LRScheduler(Optimizer& optimizer);
  // The recursive form: the lrs of last_epoch_ (already advanced) from the current group lrs.
  // (libtorch's step() calls it before counting the step; its step_count_ is our last_epoch_ − 1.)
  virtual std::vector<double> get_lrs() = 0;
  // Every derived constructor ends with this: PyTorch's _initial_step (epoch -1 → 0).
  void initial_step();
  // Each parameter group's lr right now.
  std::vector<double> get_current_lrs() const;

  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  int64_t last_epoch_ = -1;
  int64_t step_count_ = 0;
  std::vector<double> last_lrs_;
};

// lr × gamma every step_size epochs, on libtorch's timing: the (step_size + 1)-th step() is the
// first that decays, then every step_size-th after it. gamma defaults to 0.1, as libtorch's.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
  std::vector<double> closed_form_lrs() const override;
  std::string_view name() const override { return "StepLR"; }

 protected:
  std::vector<double> get_lrs() override;

 private:
  int64_t step_size_;
  double gamma_;
};

// Half a cosine from the base lr down to eta_min over T_max epochs (then back up, periodically,
// if you keep stepping — SGDR without restarts):
//   lr(t) = eta_min + (base − eta_min) · (1 + cos(π t / T_max)) / 2
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0.0);
  std::vector<double> closed_form_lrs() const override;
  std::string_view name() const override { return "CosineAnnealingLR"; }

 protected:
  std::vector<double> get_lrs() override;

 private:
  int64_t T_max_;
  double eta_min_;
};

// Multiplies the base lr by a factor that moves linearly from start_factor to end_factor over
// total_iters epochs, then stays: linear warmup with the defaults (1/3 → 1 over 5 epochs).
class LinearLR : public LRScheduler {
 public:
  explicit LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0,
                    int64_t total_iters = 5);
  std::vector<double> closed_form_lrs() const override;
  std::string_view name() const override { return "LinearLR"; }

 protected:
  std::vector<double> get_lrs() override;

 private:
  double start_factor_;
  double end_factor_;
  int64_t total_iters_;
};

}  // namespace tinytorch::optim
