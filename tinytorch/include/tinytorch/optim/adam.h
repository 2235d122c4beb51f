// tinytorch/optim/adam.h — Adam and AdamW (module 06), PyTorch 1.13's update rules exactly.
//
//   t ← t + 1
//   g ← grad + weight_decay · p            Adam:  L2 penalty folded into the gradient
//   p ← p · (1 − lr · weight_decay)        AdamW: decay decoupled from the gradient statistics
//   m ← β₁ · m + (1 − β₁) · g              first moment (mean of g)
//   v ← β₂ · v + (1 − β₂) · g²             second moment (uncentered variance of g)
//   v̂ ← max(v̂, v)                          amsgrad only: never let the denominator shrink
//   denom ← √v (or √v̂) / √(1 − β₂ᵗ) + ε    bias-corrected, ε added AFTER the square root
//   p ← p − lr / (1 − β₁ᵗ) · m / denom
//
// Adam and AdamW are one algorithm that differs in a single line, so they are one class
// template (detail::AdamBase) and one update kernel; AdamOptions and AdamWOptions differ only in
// their default weight_decay (0 vs 1e-2), as in PyTorch and libtorch.
//
//   optim::Adam opt(model.parameters(), optim::AdamOptions(1e-3).betas({0.9, 0.98}));
//   optim::AdamW opt(model.parameters(), optim::AdamWOptions(1e-3).weight_decay(0.05));
#pragma once

#include <memory>
#include <string_view>
#include <tuple>
#include <vector>

#include "tinytorch/optim/optimizer.h"

namespace tinytorch::optim {

// (β₁, β₂): the decay rates of the first and second moment averages.
using AdamBetas = std::tuple<double, double>;

namespace detail {
template <typename Derived>
class AdamOptionsBase : public OptimizerCloneableOptions<Derived> {
  TT_OPTIM_ARG(Derived, double, lr) = 1e-3;
  TT_OPTIM_ARG(Derived, AdamBetas, betas) = {0.9, 0.999};
  TT_OPTIM_ARG(Derived, double, eps) = 1e-8;
  TT_OPTIM_ARG(Derived, double, weight_decay) = 0;
  TT_OPTIM_ARG(Derived, bool, amsgrad) = false;

 public:
  template <typename Self, typename F>
  static void fields(Self& self, F&& f) {
    f("lr", self.lr_);
    f("beta1", std::get<0>(self.betas_));
    f("beta2", std::get<1>(self.betas_));
    f("eps", self.eps_);
    f("weight_decay", self.weight_decay_);
    f("amsgrad", self.amsgrad_);
  }
  void validate() const override;
};
}  // namespace detail

struct AdamOptions : public detail::AdamOptionsBase<AdamOptions> {
  AdamOptions(double lr = 1e-3) { lr_ = lr; }  // NOLINT(google-explicit-constructor)
};

struct AdamWOptions : public detail::AdamOptionsBase<AdamWOptions> {
  AdamWOptions(double lr = 1e-3) {  // NOLINT(google-explicit-constructor)
    lr_ = lr;
    weight_decay_ = 1e-2;
  }
};

namespace detail {
extern template class AdamOptionsBase<AdamOptions>;
extern template class AdamOptionsBase<AdamWOptions>;
}  // namespace detail

struct AdamParamState : public OptimizerParamState {
  Tensor exp_avg;         // m
  Tensor exp_avg_sq;      // v
  Tensor max_exp_avg_sq;  // v̂ (amsgrad only)
  std::vector<std::pair<const char*, Tensor*>> buffers() override {
    return {
        {"exp_avg", &exp_avg}, {"exp_avg_sq", &exp_avg_sq}, {"max_exp_avg_sq", &max_exp_avg_sq}};
  }
};

namespace detail {
// Adam (kDecoupled = false) and AdamW (kDecoupled = true). Defined in src/optim/adam.cpp for
// exactly these two instantiations.
template <typename Options, bool kDecoupled>
class AdamBase : public Optimizer {
 public:
  explicit AdamBase(std::vector<OptimizerParamGroup> param_groups, Options defaults = {});
  explicit AdamBase(std::vector<Tensor> params, Options defaults = {});

 protected:
  std::unique_ptr<OptimizerParamState> make_state() const override;
  void update(Tensor& param, const Tensor& grad, OptimizerParamState& state,
              const OptimizerOptions& options) override;
};
extern template class AdamBase<AdamOptions, false>;
extern template class AdamBase<AdamWOptions, true>;
}  // namespace detail

class Adam : public detail::AdamBase<AdamOptions, false> {
 public:
  using AdamBase::AdamBase;
};

class AdamW : public detail::AdamBase<AdamWOptions, true> {
 public:
  using AdamBase::AdamBase;
};

}  // namespace tinytorch::optim
