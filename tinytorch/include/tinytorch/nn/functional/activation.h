// tinytorch/nn/functional/activation.h — the activations past module 02's: ATen's positional
// forms (torch::softplus, torch::elu, ...) and libtorch's functional forms with options
// (nn/options/activation.h).
//
//   namespace F = torch::nn::functional;
//   F::elu(x, F::ELUFuncOptions().alpha(0.5));
//   F::hardtanh(x, F::HardtanhFuncOptions().min_val(0).max_val(6).inplace(true));
//   torch::softplus(x, /*beta=*/2, /*threshold=*/10);
//
// Each is built from recorded ops (where, expm1, log1p, clamp, ...), so its gradient and every
// higher one come from theirs; the values are PyTorch's, computed the way its kernels compute
// them, and the gradients are PyTorch's, at the kinks too (hardtanh's is 0 at min_val and
// max_val, hardswish's takes the inner piece at ±3).
#pragma once

#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/options/activation.h"

namespace tinytorch {

// log1p(exp(beta·x)) / beta, and x where beta·x > threshold.
Tensor softplus(const Tensor& self, double beta = 1, double threshold = 20);
// scale · x for x > 0, alpha · scale · expm1(input_scale · x) for x ≤ 0 (ATen's elu; selu and
// celu are two choices of the constants).
Tensor elu(const Tensor& self, double alpha = 1, double scale = 1, double input_scale = 1);
// elu with alpha ≈ 1.6733, scale ≈ 1.0507 (self-normalizing).
Tensor selu(const Tensor& self);
// elu(x, alpha, 1, 1/alpha); alpha must not be 0.
Tensor celu(const Tensor& self, double alpha = 1);
// x clamped to [min_val, max_val], with gradient 1 strictly inside and 0 elsewhere.
Tensor hardtanh(const Tensor& self, double min_val = -1, double max_val = 1);
Tensor relu6(const Tensor& self);  // hardtanh(x, 0, 6)
Tensor mish(const Tensor& self);   // x · tanh(softplus(x))
// x · relu6(x + 3) / 6, and relu6(x + 3) / 6: MobileNetV3's cheap swish and sigmoid.
Tensor hardswish(const Tensor& self);
Tensor hardsigmoid(const Tensor& self);

namespace nn::functional {

// The one-argument relu and leaky_relu(x, slope) are tinytorch::relu / leaky_relu (functional.h).
Tensor relu(Tensor input, const ReLUFuncOptions& options);
Tensor leaky_relu(Tensor input, const LeakyReLUFuncOptions& options);
Tensor relu6(Tensor input, const ReLU6FuncOptions& options = {});
Tensor elu(Tensor input, const ELUFuncOptions& options = {});
Tensor selu(Tensor input, const SELUFuncOptions& options = {});
Tensor celu(Tensor input, const CELUFuncOptions& options = {});
Tensor hardtanh(Tensor input, const HardtanhFuncOptions& options = {});
Tensor softplus(const Tensor& input, const SoftplusFuncOptions& options = {});
Tensor mish(const Tensor& input);

}  // namespace nn::functional

}  // namespace tinytorch
