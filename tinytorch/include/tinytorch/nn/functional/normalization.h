// tinytorch/nn/functional/normalization.h — module 13's per-token normalisations, differentiable
// (libtorch's torch::layer_norm and torch::rms_norm; the nn::functional spellings with FuncOptions
// live next to their modules in nn/modules/normalization.h).
//
//   x [B, T, d] ─layer_norm({d}, γ [d], β [d])─► [B, T, d]   each token's d features: mean 0, var
//   1,
//                                                             then ·γ + β
//   x [B, T, d] ─rms_norm({d}, γ [d])──────────► [B, T, d]   each token's d features: RMS 1, then
//   ·γ
//
// normalized_shape names the trailing dims normalised together ({d}, or {T, d} for two); the
// input's shape must end with it, and weight/bias (when defined) have exactly that shape.
#pragma once

#include <optional>

#include "tinytorch/core/tensor.h"

namespace tinytorch {

// y = (x − mean)/√(var + eps)·weight + bias, mean and (biased) var over the normalized_shape dims.
Tensor layer_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

// y = x/√(mean(x²) + eps)·weight over the normalized_shape dims (Zhang & Sennrich, 2019).
// eps = nullopt: the machine epsilon of the input's dtype (PyTorch's torch.finfo(dtype).eps).
Tensor rms_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight = {},
                std::optional<double> eps = std::nullopt);

}  // namespace tinytorch
