// tinytorch/quantization/quantize.h — int8 quantization of tensors (module 15).
//
// The affine map between a real number x and a small integer q:
//
//     q = clamp(zero_point + round(x / scale), qmin, qmax)      quantize   (round half to even)
//     x̂ = scale * (q - zero_point)                               dequantize
//
//    real axis   x_min ────────── 0.0 ─────────────────────── x_max
//                  │               │                            │
//    int8 axis   -128 ─────── zero_point ──────────────────── 127        one step = scale
//
// Inside [scale·(qmin − zp), scale·(qmax − zp)] the round trip errs by at most scale / 2; outside
// it the value is clamped to the nearest end. The calls and their names are PyTorch's:
//
//   Tensor q = quantize_per_tensor(x, 0.05, 3, kInt8);        // torch.quantize_per_tensor
//   q.int_repr();  q.q_scale();  q.dequantize();              // the same methods
//   Tensor w = quantize_per_channel(W, scales, zps, 0, kInt8); // one scale per output row
//   Tensor y = fake_quantize_per_tensor_affine(x, 0.05, 3, -128, 127);  // QAT, differentiable
#pragma once

#include <cstdint>
#include <tuple>
#include <utility>

#include "tinytorch/core/tensor.h"

namespace tinytorch {

// [qmin, qmax] of a quantized dtype: int8 → [-128, 127], uint8 → [0, 255]. Other dtypes throw.
std::pair<int64_t, int64_t> quantized_range(ScalarType dtype);

// A quantized tensor (dtype kInt8 or kUInt8, is_quantized() true) holding
// clamp(zero_point + round(x / scale), qmin, qmax). x must be floating point; scale > 0 and
// finite; zero_point inside the dtype's range.
Tensor quantize_per_tensor(const Tensor& x, double scale, int64_t zero_point, ScalarType dtype);

// The same with one (scale, zero_point) per index of `axis`: scales [C] (floating point),
// zero_points [C] (integer), C = x.size(axis).
Tensor quantize_per_channel(const Tensor& x, const Tensor& scales, const Tensor& zero_points,
                            int64_t axis, ScalarType dtype);

// Fake quantization for quantization-aware training: dequantize(quantize(x)) computed in x's
// floating dtype, with [quant_min, quant_max] given directly (reduce_range uses [0, 127]).
// Differentiable in x by the straight-through estimator: the gradient passes unchanged where
// zero_point + round(x / scale) lay inside [quant_min, quant_max], and is 0 where it was clamped
// (torch.fake_quantize_per_tensor_affine's rule).
Tensor fake_quantize_per_tensor_affine(const Tensor& x, double scale, int64_t zero_point,
                                       int64_t quant_min, int64_t quant_max);
Tensor fake_quantize_per_channel_affine(const Tensor& x, const Tensor& scale,
                                        const Tensor& zero_point, int64_t axis, int64_t quant_min,
                                        int64_t quant_max);

namespace native {

// The forward of fake quantization: (output, mask) where mask (bool, x's shape) marks the
// elements that were NOT clamped — what the backward needs (PyTorch's "cachemask" kernels).
std::tuple<Tensor, Tensor> fake_quantize_per_tensor_affine(const Tensor& x, double scale,
                                                           int64_t zero_point, int64_t quant_min,
                                                           int64_t quant_max);
std::tuple<Tensor, Tensor> fake_quantize_per_channel_affine(const Tensor& x, const Tensor& scale,
                                                            const Tensor& zero_point, int64_t axis,
                                                            int64_t quant_min, int64_t quant_max);

}  // namespace native

}  // namespace tinytorch
