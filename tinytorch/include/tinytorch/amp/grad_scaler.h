// tinytorch/amp/grad_scaler.h — loss scaling for mixed-precision training (torch.amp.GradScaler).
//
//   amp::GradScaler scaler;                          // scale 2^16, ×2 every 2000 clean steps
//   for (...) {
//     optimizer.zero_grad();
//     scaler.scale(loss).backward();                 // gradients of loss · S
//     scaler.unscale_(optimizer);                    // optional: true gradients for clipping
//     nn::utils::clip_grad_norm_(model->parameters(), 1.0);
//     scaler.step(optimizer);                        // skipped if a gradient is inf or NaN
//     scaler.update();                               // S ← S · 0.5 after a skip, S · 2 after
//   }                                                //     growth_interval clean steps
//
// Why: a float16 gradient at or below 2^-25 (half of float16's smallest subnormal, 2^-24) rounds
// to zero. Multiplying the loss by S multiplies every gradient by S (backward is linear in the
// seed), lifting small gradients into range; the optimizer must then see g = (S·g) / S. Too large
// an S overflows some S·g to inf — which is detected, the step is skipped (parameters AND optimizer
// state untouched) and S halves. So S settles just below overflow: the dynamic loss scaling of
// Micikevicius et al. (2018).
//
//   stage of each optimizer   ready ──unscale_──► unscaled ──step──► stepped ──update──► ready
//                               └───────────step (unscales first)──────┘
//
// The rules and error messages are PyTorch's: unscale_ twice before update(), unscale_ after
// step(), or step twice before update() is an error; update() needs an inf check first (a step or
// an unscale_ of some optimizer). float32, float64, float16 and bfloat16 gradients take the same
// path; the inf/NaN check runs in each gradient's own dtype (module 22's unscale_grads_).
// NOTE: the scale is a float32 value, as PyTorch's scale tensor: growth and backoff round to
// float32, and a growth that would overflow float32 is not taken.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::serialize {
class OutputArchive;
class InputArchive;
}  // namespace tinytorch::serialize

namespace tinytorch::optim {
class Optimizer;
}  // namespace tinytorch::optim

namespace tinytorch::amp {

// PyTorch's constructor arguments and defaults: GradScalerOptions{.growth_interval = 100}.
struct GradScalerOptions {
  double init_scale = 65536.0;  // 2^16; > 0 and finite
  double growth_factor = 2.0;   // > 1: S ← S · growth_factor after growth_interval clean steps
  double backoff_factor = 0.5;  // in (0, 1): S ← S · backoff_factor after a non-finite step
  int64_t growth_interval = 2000;  // ≥ 1 consecutive steps without inf/NaN before growing
  bool enabled = true;  // false: every call is a pass-through (scale 1, step always applied)
};

class GradScaler {
 public:
  // Throws ValueError naming an out-of-range option.
  explicit GradScaler(GradScalerOptions options = {});

  // outputs · S (outputs itself when disabled). The result is what backward() is called on.
  Tensor scale(const Tensor& outputs) const;

  // Divides every gradient of `optimizer`'s parameters by S in place and records whether any is
  // inf or NaN. At most once per optimizer between update()s, and not after step().
  void unscale_(optim::Optimizer& optimizer);

  // optimizer.step() unless a gradient was inf or NaN (unscales first if unscale_ was not
  // called). Returns whether the step was applied (PyTorch returns step's value or None).
  bool step(optim::Optimizer& optimizer);

  // Adjusts S from this iteration's inf checks (all optimizers together) and makes every
  // optimizer ready again. new_scale: set S to it instead (> 0, finite; no inf check needed).
  void update(std::optional<double> new_scale = std::nullopt);

  // S (1.0 when disabled).
  double get_scale() const;
  double get_growth_factor() const { return growth_factor_; }
  void set_growth_factor(double new_factor);
  double get_backoff_factor() const { return backoff_factor_; }
  void set_backoff_factor(double new_factor);
  int64_t get_growth_interval() const { return growth_interval_; }
  void set_growth_interval(int64_t new_interval);
  // Consecutive clean steps since the last growth or backoff (PyTorch's _get_growth_tracker).
  int64_t get_growth_tracker() const { return growth_tracker_; }
  bool is_enabled() const { return enabled_; }

  // PyTorch's keys as 0-d float64 tensors: scale, growth_factor, backoff_factor,
  // growth_interval, _growth_tracker. Empty when disabled.
  OrderedDict<std::string, Tensor> state_dict() const;
  // Restores state_dict()'s values (a no-op when disabled). Throws naming a missing or invalid
  // entry, and for an empty dict (saved from a disabled scaler), leaving the scaler as it was.
  void load_state_dict(const OrderedDict<std::string, Tensor>& state_dict);
  // state_dict() through the project's archives (serialize/), as Optimizer::save / load.
  void save(serialize::OutputArchive& archive) const;
  void load(serialize::InputArchive& archive);

 private:
  enum class Stage { kReady, kUnscaled, kStepped };
  struct OptimizerState {
    Stage stage = Stage::kReady;
    bool found_inf = false;
  };

  float scale_;  // S, float32 as PyTorch's _scale tensor
  double growth_factor_;
  double backoff_factor_;
  int64_t growth_interval_;
  int64_t growth_tracker_ = 0;
  bool enabled_;
  // Per optimizer, this iteration (cleared by update()); keyed by identity, as PyTorch's id().
  std::unordered_map<const optim::Optimizer*, OptimizerState> per_optimizer_;
};

}  // namespace tinytorch::amp
