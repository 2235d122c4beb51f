// tinytorch/native/padding.h — the natives of padding and resizing images (src/native/padding.cpp,
// src/native/upsample.cpp): the computations behind tinytorch::pad, upsample_nearest2d and
// upsample_bilinear2d (nn/functional/padding.h, nn/functional/upsampling.h).
#pragma once

#include <optional>
#include <string_view>

#include "tinytorch/core/tensor.h"

namespace tinytorch::native {

// Pads the last pad.size() / 2 dims (the last dim first: {left, right, top, bottom, ...}).
// mode: "constant" (with `value`; negative pads crop), "reflect", "replicate", "circular".
Tensor pad(const Tensor& self, IntArrayRef pad, std::string_view mode, double value);
// The gradient w.r.t. self: each output gradient added to the input position it was read from.
Tensor pad_backward(const Tensor& grad, IntArrayRef self_sizes, IntArrayRef pad,
                    std::string_view mode);

// [N, C, H, W] → [N, C, output_size[0], output_size[1]]. scales_h/w, when given, are the
// scale factors the caller asked for (the source index uses 1 / scale, as PyTorch does);
// otherwise in / out.
Tensor upsample_nearest2d(const Tensor& self, IntArrayRef output_size,
                          std::optional<double> scales_h, std::optional<double> scales_w);
Tensor upsample_nearest2d_backward(const Tensor& grad, IntArrayRef input_sizes,
                                   IntArrayRef output_size, std::optional<double> scales_h,
                                   std::optional<double> scales_w);
Tensor upsample_bilinear2d(const Tensor& self, IntArrayRef output_size, bool align_corners,
                           std::optional<double> scales_h, std::optional<double> scales_w);
Tensor upsample_bilinear2d_backward(const Tensor& grad, IntArrayRef input_sizes,
                                    IntArrayRef output_size, bool align_corners,
                                    std::optional<double> scales_h, std::optional<double> scales_w);

}  // namespace tinytorch::native
