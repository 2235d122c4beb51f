// tinytorch/native/conv.h — the 2-d convolution kernels of module 09 (forward, backward, and the
// im2col / col2im rearrangements they are built from). "native" functions compute and never
// record a graph: the public tinytorch::conv2d (nn/functional/spatial.h) wraps them.
//
//   x [N, C, H, W] ─conv2d(w [K, C/groups, R, S], b [K])─► y [N, K, P, Q]
//   P = (H + 2·pad_h − dil_h·(R − 1) − 1) / stride_h + 1     (Q likewise over W and S)
//
// Three implementations of the same function, from slow and obvious to fast:
//   conv2d_naive   seven nested loops: the definition, kept as the tests' and the lab's ground
//   truth conv2d         the reference tier: per image, im2col, then ONE matrix product per group
//                  (module 01's GEMM through matmul); for float32 the fast tier's kernel instead,
//                  when module 18 registered one (kernels/spatial.h)
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <tuple>

#include "tinytorch/core/tensor.h"
#include "tinytorch/kernels/spatial.h"

namespace tinytorch::native {

// Checks conv2d's arguments (PyTorch's messages) and returns the geometry: input [N, C, H, W] or
// [C, H, W] (then batch = 1), weight [K, C/groups, R, S], bias [K] or undefined; stride, padding
// and dilation have one value for both spatial dims or two {h, w}. `op` names the caller in the
// messages ("conv2d").
kernels::Conv2dShape conv2d_shape(const Tensor& input, const Tensor& weight, const Tensor& bias,
                                  IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation,
                                  int64_t groups, const char* op = "conv2d");

// y = input ⋆ weight + bias → [N, K, P, Q] ([K, P, Q] for a 3-d input). Any strides (inputs are
// made contiguous); float32 or float64.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
              IntArrayRef padding, IntArrayRef dilation, int64_t groups);
// The same by the seven-loop definition (slow: tests and the lab only).
Tensor conv2d_naive(const Tensor& input, const Tensor& weight, const Tensor& bias,
                    IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation, int64_t groups);

// The gradients of L with respect to (input, weight, bias), given grad_output = ∂L/∂y; each is
// computed only when output_mask says so (undefined otherwise). The bias is not needed: ∂y/∂b = 1.
//   grad_input  = col2im(Wᵀ · gy)         per image and group
//   grad_weight = Σ_n gy · im2col(x)ᵀ     per group
//   grad_bias   = Σ_{n,p,q} gy
std::tuple<Tensor, Tensor, Tensor> conv2d_backward(const Tensor& grad_output, const Tensor& input,
                                                   const Tensor& weight, IntArrayRef stride,
                                                   IntArrayRef padding, IntArrayRef dilation,
                                                   int64_t groups, std::array<bool, 3> output_mask);

// The transposed convolution: the input gradient of a convolution, run forward.
//   x [N, C_in, H, W] ─conv_transpose2d(w [C_in, C_out/groups, R, S], b [C_out])─►
//   y [N, C_out, H_out, W_out],  H_out = (H − 1)·stride − 2·padding + dil·(R − 1) + out_pad + 1
// Per image and group, y = col2im(Wᵀ · x) + b (conv2d_backward's grad_input with grad_output :=
// x), on the same tiers. output_padding (< stride or < dilation) adds rows at the bottom/right.
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
                        IntArrayRef stride, IntArrayRef padding, IntArrayRef output_padding,
                        int64_t groups, IntArrayRef dilation);

// One image [C, H, W] unrolled into columns [C·R·S, P·Q]: column p·Q + q holds the C·R·S input
// values the kernel sees at output position (p, q) (zero where it overhangs the padding), rows
// ordered (c, r, s) — the order of the weight's [C, R, S] — so y = W[K, C·R·S] · columns.
Tensor im2col(const Tensor& image, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding,
              IntArrayRef dilation);
// The adjoint of im2col: columns [C·R·S, P·Q] summed back into an image of image_size {C, H, W}
// (every input pixel receives the sum of the column entries that copied it).
Tensor col2im(const Tensor& columns, IntArrayRef image_size, IntArrayRef kernel_size,
              IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation);

// The hint for an input whose channel count is wrong but whose LAST dim is the expected one (an
// image in NHWC / HWC layout): how to permute it to NCHW. "" when the last dim does not fit.
std::string conv2d_layout_hint(IntArrayRef input_sizes, int64_t expected_channels);

}  // namespace tinytorch::native
