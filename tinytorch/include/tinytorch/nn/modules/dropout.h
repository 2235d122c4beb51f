// tinytorch/nn/modules/dropout.h — Dropout (module 03).
//
//   training:   x ──► x · mask / (1 − p)      mask[i] = 1 with probability 1 − p, else 0
//   eval:       x ──► x                       (the very same tensor)
//
//   x      [ 0.5  1.0  2.0  4.0 ]
//   mask   [  1    0    1    0  ]      p = 0.5, drawn from rand_like(x) ≥ p
//   out    [ 1.0  0.0  4.0  0.0 ]      kept values scaled by 1/(1 − p) = 2
//
// The scaling keeps E[out] = x, so the next layer sees inputs of the same size in training and
// in evaluation, where nothing is dropped.
#pragma once

#include <string>

#include "tinytorch/nn/module.h"

namespace tinytorch::nn {

namespace functional {
// Python's torch.nn.functional.dropout: identity unless training and 0 < p; p = 1 gives zeros.
// Built from differentiable ops (the mask is a constant), so gradients flow to the kept values
// scaled by 1/(1 − p). inplace = true writes into input (input.mul_(mask)) and returns it.
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true, bool inplace = false);
}  // namespace functional

struct DropoutOptions {
  DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT(google-explicit-constructor)
  TT_ARG(double, p);
  TT_ARG(bool, inplace) = false;
};

class DropoutImpl : public Module {
 public:
  // nn::Dropout drop(0.2);   nn::Dropout drop(nn::DropoutOptions(0.2).inplace(true));
  explicit DropoutImpl(const DropoutOptions& options = {});
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "p=0.5, inplace=false"

  DropoutOptions options;
};
TT_MODULE(Dropout);

}  // namespace tinytorch::nn
