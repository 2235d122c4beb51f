// tinytorch/optim/rmsprop.h — RMSprop (module 06), PyTorch 1.13's update rule exactly:
//
//   g ← grad + weight_decay · p                 (only if weight_decay ≠ 0)
//   s ← α · s + (1 − α) · g²                    running mean of g² ("square_avg")
//   centered:  ḡ ← α · ḡ + (1 − α) · g          running mean of g  ("grad_avg")
//              avg ← √(s − ḡ²) + ε              an estimate of the standard deviation of g
//   otherwise: avg ← √s + ε
//   momentum:  b ← momentum · b + g / avg,  p ← p − lr · b     (b starts at 0)
//   otherwise: p ← p − lr · g / avg
//
//   optim::RMSprop opt(model.parameters(), optim::RMSpropOptions(1e-2).alpha(0.9).centered(true));
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "tinytorch/optim/optimizer.h"

namespace tinytorch::optim {

struct RMSpropOptions : public OptimizerCloneableOptions<RMSpropOptions> {
  RMSpropOptions(double lr = 1e-2);  // NOLINT(google-explicit-constructor)
  TT_OPTIM_ARG(RMSpropOptions, double, lr);
  TT_OPTIM_ARG(RMSpropOptions, double, alpha) = 0.99;
  TT_OPTIM_ARG(RMSpropOptions, double, eps) = 1e-8;
  TT_OPTIM_ARG(RMSpropOptions, double, weight_decay) = 0;
  TT_OPTIM_ARG(RMSpropOptions, double, momentum) = 0;
  TT_OPTIM_ARG(RMSpropOptions, bool, centered) = false;

 public:
  template <typename Self, typename F>
  static void fields(Self& self, F&& f) {
    f("lr", self.lr_);
    f("alpha", self.alpha_);
    f("eps", self.eps_);
    f("weight_decay", self.weight_decay_);
    f("momentum", self.momentum_);
    f("centered", self.centered_);
  }
  void validate() const override;
};

struct RMSpropParamState : public OptimizerParamState {
  Tensor square_avg;       // s
  Tensor momentum_buffer;  // b (momentum > 0 only)
  Tensor grad_avg;         // ḡ (centered only)
  std::vector<std::pair<const char*, Tensor*>> buffers() override {
    return {{"square_avg", &square_avg},
            {"momentum_buffer", &momentum_buffer},
            {"grad_avg", &grad_avg}};
  }
};

class RMSprop : public Optimizer {
 public:
  explicit RMSprop(std::vector<OptimizerParamGroup> param_groups, RMSpropOptions defaults = {});
  explicit RMSprop(std::vector<Tensor> params, RMSpropOptions defaults = {});

 protected:
  std::unique_ptr<OptimizerParamState> make_state() const override;
  void update(Tensor& param, const Tensor& grad, OptimizerParamState& state,
              const OptimizerOptions& options) override;
};

}  // namespace tinytorch::optim
