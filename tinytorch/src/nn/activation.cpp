// The activations past module 02's (nn/functional/activation.h), composed of recorded ops so
// autograd differentiates them to any order. Each is written the way PyTorch's CPU kernel
// computes it, so the values agree to the last bit or two, and so the gradient at a kink is the
// one PyTorch's backward formula gives.
#include "tinytorch/nn/functional/activation.h"

#include <functional>
#include <string_view>
#include <utility>

#include "tinytorch/autograd/autograd_meta.h"
#include "tinytorch/core/exception.h"

namespace tinytorch {

namespace {
// As PyTorch's kernels: these compute in floating point only (hardtanh and relu6 also take
// integers).
void check_floating(std::string_view op, const Tensor& self) {
  TT_CHECK_TYPE(self.is_floating_point(), op,
                ": expected a floating-point input, but got input of dtype ", self.dtype());
}
}  // namespace

Tensor softplus(const Tensor& self, double beta, double threshold) {
  check_floating("softplus", self);
  const Tensor scaled = self * beta;
  // The curve's branch takes its input clamped to the threshold: beyond it, where the output is
  // x itself, e^(beta·x) would overflow to inf, and the zero gradient the linear branch leaves
  // the curve's branch would meet it as 0 · inf = NaN on the way back through exp.
  return where(scaled > threshold, self, scaled.clamp_max(threshold).exp().log1p() / beta);
}

Tensor elu(const Tensor& self, double alpha, double scale, double input_scale) {
  check_floating("elu", self);
  // As at::elu: x ≤ 0 takes the exponential branch (expm1: accurate near 0). Its input is
  // clamped to 0 for softplus's reason: expm1 of a large positive x overflows.
  return where(self > 0, self * scale, (self.clamp_max(0) * input_scale).expm1() * (alpha * scale));
}

Tensor selu(const Tensor& self) {
  // The constants of Klambauer et al., "Self-Normalizing Neural Networks", as PyTorch has them.
  constexpr double kAlpha = 1.6732632423543772848170429916717;
  constexpr double kScale = 1.0507009873554804934193349852946;
  return elu(self, kAlpha, kScale);
}

Tensor celu(const Tensor& self, double alpha) {
  TT_CHECK_VALUE(alpha != 0,
                 "celu: alpha must not be 0 (it divides the input), but got alpha=", alpha);
  return elu(self, alpha, 1, 1 / alpha);
}

Tensor hardtanh(const Tensor& self, double min_val, double max_val) {
  if (!self.is_floating_point()) {  // integers keep their dtype; the bounds truncate to it
    return self.clamp(static_cast<int64_t>(min_val), static_cast<int64_t>(max_val));
  }
  // Two selections rather than clamp: the values are clamp's, but the gradient is PyTorch's
  // hardtanh_backward — 0 at min_val and max_val themselves, where clamp's is 1. (NaN selects
  // neither bound and stays NaN.)
  return where(self <= min_val, Scalar(min_val), where(self >= max_val, Scalar(max_val), self));
}

Tensor relu6(const Tensor& self) {
  return hardtanh(self, 0, 6);
}

Tensor mish(const Tensor& self) {
  check_floating("mish", self);
  // PyTorch computes x · tanh(log1p(eˣ)) with no threshold; softplus's linear branch changes no
  // value (tanh is exactly 1 past x = 20 in float64 and float32) and keeps eˣ finite.
  return self * softplus(self).tanh();
}

Tensor hardswish(const Tensor& self) {
  check_floating("hardswish", self);
  // clamp, not hardtanh: PyTorch's hardswish_backward takes the inner piece x/3 + 1/2 at ±3
  // inclusive, which is what clamp's gradient (1 at the bounds) gives.
  return self * (self + 3).clamp(0, 6) / 6;
}

Tensor hardsigmoid(const Tensor& self) {
  check_floating("hardsigmoid", self);
  // Here the inner piece is open, (−3, 3): hardtanh's gradient.
  return hardtanh(self + 3, 0, 6) / 6;
}

namespace nn::functional {

namespace {
// f(input), written into input when `inplace` (the op is named as in the error messages of
// PyTorch's in-place forms: "elu_", ...).
Tensor apply(Tensor input, bool inplace, std::string_view op,
             const std::function<Tensor(const Tensor&)>& f) {
  if (!inplace) return f(input);
  return autograd::inplace(input, op, nullptr, f);
}
}  // namespace

Tensor relu(Tensor input, const ReLUFuncOptions& options) {
  return options.inplace() ? input.relu_() : tinytorch::relu(input);
}

Tensor leaky_relu(Tensor input, const LeakyReLUFuncOptions& options) {
  return apply(std::move(input), options.inplace(), "leaky_relu_",
               [&](const Tensor& x) { return tinytorch::leaky_relu(x, options.negative_slope()); });
}

Tensor relu6(Tensor input, const ReLU6FuncOptions& options) {
  return apply(std::move(input), options.inplace(), "relu6_",
               [](const Tensor& x) { return tinytorch::relu6(x); });
}

Tensor elu(Tensor input, const ELUFuncOptions& options) {
  return apply(std::move(input), options.inplace(), "elu_",
               [&](const Tensor& x) { return tinytorch::elu(x, options.alpha()); });
}

Tensor selu(Tensor input, const SELUFuncOptions& options) {
  return apply(std::move(input), options.inplace(), "selu_",
               [](const Tensor& x) { return tinytorch::selu(x); });
}

Tensor celu(Tensor input, const CELUFuncOptions& options) {
  return apply(std::move(input), options.inplace(), "celu_",
               [&](const Tensor& x) { return tinytorch::celu(x, options.alpha()); });
}

Tensor hardtanh(Tensor input, const HardtanhFuncOptions& options) {
  return apply(std::move(input), options.inplace(), "hardtanh_", [&](const Tensor& x) {
    return tinytorch::hardtanh(x, options.min_val(), options.max_val());
  });
}

Tensor softplus(const Tensor& input, const SoftplusFuncOptions& options) {
  return tinytorch::softplus(input, options.beta(), options.threshold());
}

Tensor mish(const Tensor& input) {
  return tinytorch::mish(input);
}

}  // namespace nn::functional

}  // namespace tinytorch
