// tinytorch/native/normalization.h — module 13's per-row normalisations (ATen's native_layer_norm
// and native_layer_norm_backward; rms_norm, which ATen 2.4 composes from pow/mean/rsqrt, gets its
// own pair here). The input [*, normalized_shape] is viewed as M rows of N = prod(normalized_shape)
// values, and every row is normalised on its own:
//
//   layer_norm: y = (x − mean)·rstd·weight + bias,   rstd = 1 / √(var + eps)   (biased var)
//   rms_norm:   y = x·rstd·weight,                   rstd = 1 / √(mean(x²) + eps)
//
// weight and bias have the shape normalized_shape (one value per position of a row) and may be
// undefined (no affine). The saved statistics are float64 [M] tensors: the backward reads them.
#pragma once

#include <array>
#include <tuple>

#include "tinytorch/core/tensor.h"

namespace tinytorch::native {

// (output, mean, rstd): output has the input's shape and dtype; mean and rstd are float64 [M].
std::tuple<Tensor, Tensor, Tensor> native_layer_norm(const Tensor& input,
                                                     IntArrayRef normalized_shape,
                                                     const Tensor& weight, const Tensor& bias,
                                                     double eps);

// (grad_input, grad_weight, grad_bias) given grad_output [input's shape]. output_mask says which
// are wanted (an unwanted one, or grad_weight/grad_bias without a weight/bias, is undefined).
std::tuple<Tensor, Tensor, Tensor> native_layer_norm_backward(
    const Tensor& grad_output, const Tensor& input, IntArrayRef normalized_shape,
    const Tensor& mean, const Tensor& rstd, const Tensor& weight, const Tensor& bias,
    std::array<bool, 3> output_mask);

// (output, rstd): rstd is float64 [M].
std::tuple<Tensor, Tensor> native_rms_norm(const Tensor& input, IntArrayRef normalized_shape,
                                           const Tensor& weight, double eps);

// (grad_input, grad_weight); output_mask as for layer norm.
std::tuple<Tensor, Tensor> native_rms_norm_backward(const Tensor& grad_output, const Tensor& input,
                                                    IntArrayRef normalized_shape,
                                                    const Tensor& rstd, const Tensor& weight,
                                                    std::array<bool, 2> output_mask);

}  // namespace tinytorch::native
