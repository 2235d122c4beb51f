// tinytorch/nn/modules/dropout.h — Dropout (module 03) and Dropout2d.
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
//
// Dropout2d drops whole channels: one draw per (n, c), so a feature map is kept (scaled by
// 1/(1 − p)) or zeroed entirely — neighbouring pixels of a map are strongly correlated, and
// dropping them one by one would barely regularise a convolution.
//   x [N, C, H, W]  ·  mask [N, C, 1, 1] (broadcast)        mask = dropout(ones [N, C, 1, 1])
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "tinytorch/nn/module.h"

namespace tinytorch::nn {

namespace functional {
// Python's torch.nn.functional.dropout: identity unless training and 0 < p; p = 1 gives zeros.
// Built from differentiable ops (the mask is a constant), so gradients flow to the kept values
// scaled by 1/(1 − p). inplace = true writes into input (input.mul_(mask)) and returns it.
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true, bool inplace = false);

// libtorch's DropoutFuncOptions: the functional form's training flag defaults to true.
struct DropoutFuncOptions {
  TT_ARG(double, p) = 0.5;
  TT_ARG(bool, training) = true;
  TT_ARG(bool, inplace) = false;
};
using Dropout2dFuncOptions = DropoutFuncOptions;

// F::dropout(x, F::DropoutFuncOptions().p(0.2)): the positional form above.
Tensor dropout(const Tensor& input, const DropoutFuncOptions& options);
// Channel dropout on [N, C, H, W] or one unbatched [C, H, W] (libtorch's reading of 3-d input):
// each channel is zeroed with probability p, else scaled by 1/(1 − p). Identity unless training
// and 0 < p. Differentiable like dropout (the mask is a constant).
Tensor dropout2d(const Tensor& input, const Dropout2dFuncOptions& options = {});
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

  // A deep copy (Module::clone): a new layer from the same options, given this one's tensors.
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;

  DropoutOptions options;
};
TT_MODULE(Dropout);

using Dropout2dOptions = DropoutOptions;

class Dropout2dImpl : public Module {
 public:
  // nn::Dropout2d drop(0.2);   input [N, C, H, W] or [C, H, W]
  explicit Dropout2dImpl(const Dropout2dOptions& options = {});
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "p=0.5, inplace=false"

  Dropout2dOptions options;
};
TT_MODULE(Dropout2d);

}  // namespace tinytorch::nn

namespace tinytorch {
// libtorch's torch::dropout(input, p, train): the op under F::dropout, every argument explicit.
inline Tensor dropout(const Tensor& input, double p, bool train) {
  return nn::functional::dropout(input, p, train);
}
}  // namespace tinytorch
