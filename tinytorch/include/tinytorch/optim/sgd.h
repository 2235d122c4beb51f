// tinytorch/optim/sgd.h — stochastic gradient descent with momentum, dampening, Nesterov and L2
// weight decay (module 06), PyTorch 1.13's update rule exactly:
//
//   g ← grad + weight_decay · p                            (only if weight_decay ≠ 0)
//   b ← g                          on the first step       (momentum ≠ 0: the buffer)
//   b ← momentum · b + (1 − dampening) · g   afterwards
//   g ← g + momentum · b   (nesterov)   or   g ← b   (plain momentum)
//   p ← p − lr · g
//
//   optim::SGD opt(model.parameters(), optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "tinytorch/optim/optimizer.h"

namespace tinytorch::optim {

struct SGDOptions : public OptimizerCloneableOptions<SGDOptions> {
  SGDOptions(double lr);  // NOLINT(google-explicit-constructor): libtorch allows SGD(params, 0.1)
  TT_OPTIM_ARG(SGDOptions, double, lr);
  TT_OPTIM_ARG(SGDOptions, double, momentum) = 0;
  TT_OPTIM_ARG(SGDOptions, double, dampening) = 0;
  TT_OPTIM_ARG(SGDOptions, double, weight_decay) = 0;
  TT_OPTIM_ARG(SGDOptions, bool, nesterov) = false;

 public:
  template <typename Self, typename F>
  static void fields(Self& self, F&& f) {
    f("lr", self.lr_);
    f("momentum", self.momentum_);
    f("dampening", self.dampening_);
    f("weight_decay", self.weight_decay_);
    f("nesterov", self.nesterov_);
  }
  void validate() const override;
};

struct SGDParamState : public OptimizerParamState {
  Tensor momentum_buffer;  // allocated on the first step with momentum ≠ 0
  std::vector<std::pair<const char*, Tensor*>> buffers() override {
    return {{"momentum_buffer", &momentum_buffer}};
  }
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<OptimizerParamGroup> param_groups, SGDOptions defaults);
  SGD(std::vector<Tensor> params, SGDOptions defaults);

 protected:
  std::unique_ptr<OptimizerParamState> make_state() const override;
  void update(Tensor& param, const Tensor& grad, OptimizerParamState& state,
              const OptimizerOptions& options) override;
};

}  // namespace tinytorch::optim
