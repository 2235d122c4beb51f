// tinytorch/optim/adagrad.h — Adagrad (module 06), PyTorch 1.13's update rule exactly:
//
//   t ← t + 1
//   g ← grad + weight_decay · p                 (only if weight_decay ≠ 0)
//   clr ← lr / (1 + (t − 1) · lr_decay)         a learning rate that decays with the step
//   s ← s + g²                                  every squared gradient so far ("sum"), starting
//                                               at initial_accumulator_value
//   p ← p − clr · g / (√s + ε)
//
// Each coordinate's step shrinks as its gradients accumulate: rarely-updated (sparse) features
// keep large steps, frequent ones get small ones.
//
//   optim::Adagrad opt(model.parameters(), optim::AdagradOptions(0.1).lr_decay(1e-3));
#pragma once

#include <memory>
#include <vector>

#include "tinytorch/optim/optimizer.h"

namespace tinytorch::optim {

struct AdagradOptions : public OptimizerCloneableOptions<AdagradOptions> {
  AdagradOptions(double lr = 1e-2);  // NOLINT(google-explicit-constructor)
  TT_OPTIM_ARG(AdagradOptions, double, lr);
  TT_OPTIM_ARG(AdagradOptions, double, lr_decay) = 0;
  TT_OPTIM_ARG(AdagradOptions, double, weight_decay) = 0;
  TT_OPTIM_ARG(AdagradOptions, double, initial_accumulator_value) = 0;
  TT_OPTIM_ARG(AdagradOptions, double, eps) = 1e-10;

 public:
  template <typename Self, typename F>
  static void fields(Self& self, F&& f) {
    f("lr", self.lr_);
    f("lr_decay", self.lr_decay_);
    f("weight_decay", self.weight_decay_);
    f("initial_accumulator_value", self.initial_accumulator_value_);
    f("eps", self.eps_);
  }
  void validate() const override;
};

struct AdagradParamState : public OptimizerParamState {
  Tensor sum;  // s
  std::vector<std::pair<const char*, Tensor*>> buffers() override { return {{"sum", &sum}}; }
};

class Adagrad : public Optimizer {
 public:
  explicit Adagrad(std::vector<OptimizerParamGroup> param_groups, AdagradOptions defaults = {});
  explicit Adagrad(std::vector<Tensor> params, AdagradOptions defaults = {});

 protected:
  std::unique_ptr<OptimizerParamState> make_state() const override;
  void update(Tensor& param, const Tensor& grad, OptimizerParamState& state,
              const OptimizerOptions& options) override;
};

}  // namespace tinytorch::optim
