// tinytorch/native/pooling.h — module 09's pooling kernels (forward, and the backward kernels the
// derivative formulas of module 05 call). Inputs are [N, C, H, W] or one unbatched image
// [C, H, W]; every function returns a tensor of the input's rank.
//
//   x [N, C, H, W] ──max_pool2d_with_indices──► values [N, C, P, Q], indices [N, C, P, Q] (int64)
//                  ──avg_pool2d───────────────► [N, C, P, Q]
//                  ──adaptive_avg_pool2d──────► [N, C, output_size...]
//
// The list arguments are the public ones (nn/functional/spatial.h): one value for both spatial
// dims, or two {h, w}.
#pragma once

#include <cstdint>
#include <optional>
#include <tuple>

#include "tinytorch/core/tensor.h"

namespace tinytorch::native {

std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& self, IntArrayRef kernel_size,
                                                   IntArrayRef stride, IntArrayRef padding,
                                                   IntArrayRef dilation, bool ceil_mode);
// grad_input [self's shape] = zeros, then grad_input[plane][indices[i]] += grad_output[i].
Tensor max_pool2d_with_indices_backward(const Tensor& grad_output, const Tensor& self,
                                        IntArrayRef kernel_size, IntArrayRef stride,
                                        IntArrayRef padding, IntArrayRef dilation, bool ceil_mode,
                                        const Tensor& indices);

Tensor avg_pool2d(const Tensor& self, IntArrayRef kernel_size, IntArrayRef stride,
                  IntArrayRef padding, bool ceil_mode, bool count_include_pad,
                  std::optional<int64_t> divisor_override);
// Every input position of a window receives grad_output / (that window's divisor).
Tensor avg_pool2d_backward(const Tensor& grad_output, const Tensor& self, IntArrayRef kernel_size,
                           IntArrayRef stride, IntArrayRef padding, bool ceil_mode,
                           bool count_include_pad, std::optional<int64_t> divisor_override);

Tensor adaptive_avg_pool2d(const Tensor& self, IntArrayRef output_size);
// The output size is grad_output's last two dims.
Tensor adaptive_avg_pool2d_backward(const Tensor& grad_output, const Tensor& self);

}  // namespace tinytorch::native
