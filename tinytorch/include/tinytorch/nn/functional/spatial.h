// tinytorch/nn/functional/spatial.h — module 09's differentiable ops on images, NCHW:
// convolution, pooling and batch normalisation (libtorch's torch::conv2d, torch::max_pool2d, ...;
// the nn::functional spellings with FuncOptions live next to their modules in nn/modules/).
//
//   x [N, C, H, W] ─conv2d(w [K, C/groups, R, S])─► [N, K, P, Q]
//                  ─max_pool2d / avg_pool2d──────► [N, C, P, Q]
//                  ─batch_norm (per channel c)───► [N, C, H, W]
//
// Every list argument (stride, padding, ...) takes one value for both spatial dims or two, {h, w}.
// A 3-d input [C, H, W] is one unbatched image, as in PyTorch.
#pragma once

#include <cstdint>
#include <optional>
#include <tuple>

#include "tinytorch/core/tensor.h"

namespace tinytorch {

// y = input ⋆ weight + bias. input [N, C, H, W], weight [K, C/groups, R, S], bias [K] or
// undefined → [N, K, P, Q] with P = (H + 2·padding − dilation·(R − 1) − 1) / stride + 1.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {},
              IntArrayRef stride = 1, IntArrayRef padding = 0, IntArrayRef dilation = 1,
              int64_t groups = 1);

// The transposed convolution ("deconvolution"): conv2d's input gradient run forward, upsampling
// by the stride. input [N, C_in, H, W], weight [C_in, C_out/groups, R, S], bias [C_out] →
// [N, C_out, H_out, W_out], H_out = (H − 1)·stride − 2·padding + dilation·(R − 1) +
// output_padding + 1. (libtorch's torch::conv_transpose2d, this argument order.)
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {},
                        IntArrayRef stride = 1, IntArrayRef padding = 0,
                        IntArrayRef output_padding = 0, int64_t groups = 1,
                        IntArrayRef dilation = 1);

// conv2d over sequences: input [N, C, L] or [C, L], weight [K, C/groups, R], bias [K] → [N, K, P]
// (a height of 1 added, then conv2d; one value per list argument).
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias = {},
              IntArrayRef stride = 1, IntArrayRef padding = 0, IntArrayRef dilation = 1,
              int64_t groups = 1);

// The max over each kernel_size window, and where it was (flat index h·W + w in its plane).
// stride {} means stride = kernel_size. Padding is -∞ (it never wins); ceil_mode rounds the output
// size up, keeping a last window that starts inside the input (or its left padding).
std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, IntArrayRef kernel_size,
                                                   IntArrayRef stride = {}, IntArrayRef padding = 0,
                                                   IntArrayRef dilation = 1,
                                                   bool ceil_mode = false);
Tensor max_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride = {},
                  IntArrayRef padding = 0, IntArrayRef dilation = 1, bool ceil_mode = false);

// The mean over each window. count_include_pad counts zero padding in the divisor;
// divisor_override, when given, replaces the divisor altogether.
Tensor avg_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride = {},
                  IntArrayRef padding = 0, bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<int64_t> divisor_override = std::nullopt);

// The 1-d pools over [N, C, L] or [C, L]: the 2-d ones on a height of 1 (indices count along L).
std::tuple<Tensor, Tensor> max_pool1d_with_indices(const Tensor& input, IntArrayRef kernel_size,
                                                   IntArrayRef stride = {}, IntArrayRef padding = 0,
                                                   IntArrayRef dilation = 1,
                                                   bool ceil_mode = false);
Tensor max_pool1d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride = {},
                  IntArrayRef padding = 0, IntArrayRef dilation = 1, bool ceil_mode = false);
Tensor avg_pool1d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride = {},
                  IntArrayRef padding = 0, bool ceil_mode = false, bool count_include_pad = true);

// The mean over the window [⌊i·H/P⌋, ⌈(i+1)·H/P⌉) for output row i (columns likewise): any output
// size, {1, 1} being global average pooling.
Tensor adaptive_avg_pool2d(const Tensor& input, IntArrayRef output_size);

// y = (x − mean[c]) / √(var[c] + eps) · weight[c] + bias[c] over input [N, C, *].
// training: mean/var are the batch's (biased var), and running_mean/var (when defined) are updated
// in place: running = (1 − momentum)·running + momentum·batch (the unbiased var).
// Not training: running_mean/var are used. weight/bias may be undefined (no affine).
Tensor batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum, double eps);

// relu(batch_norm(...)) fused: the same values and gradients, without ReLU's own passes over
// memory (its backward recomputes where the pre-activation was > 0 from x, not from a saved
// output). What nn::BatchNorm2dOptions(C).fuse_relu(true) runs; PyTorch eager has no such op (its
// compilers and oneDNN's fuse_norm_relu flag make the same fusion).
Tensor batch_norm_relu(const Tensor& input, const Tensor& weight, const Tensor& bias,
                       const Tensor& running_mean, const Tensor& running_var, bool training,
                       double momentum, double eps);

}  // namespace tinytorch
