// tinytorch/native/padding.h — the natives of padding and resizing images (src/native/padding.cpp,
// src/native/upsample.cpp): the computations behind tinytorch::pad, upsample_nearest2d and
// upsample_bilinear2d (nn/functional/padding.h, nn/functional/upsampling.h).
#pragma once

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "tinytorch/core/tensor.h"

namespace tinytorch::native {

// Pads the last pad.size() / 2 dims (the last dim first: {left, right, top, bottom, ...}).
// mode: "constant" (with `value`; negative pads crop), "reflect", "replicate", "circular".
Tensor pad(const Tensor& self, IntArrayRef pad, std::string_view mode, double value);
// The gradient w.r.t. self: each output gradient added to the input position it was read from.
Tensor pad_backward(const Tensor& grad, IntArrayRef self_sizes, IntArrayRef pad,
                    std::string_view mode);

// The index maps of the backward kernels, as tensors, for the recorded backward of create_graph
// (a scatter_add along them): for every output element, the flat (row-major) index of the input
// element it reads — −1 for a constant fill.
Tensor pad_source_index(IntArrayRef self_sizes, IntArrayRef pad, std::string_view mode);

// [N, C, H, W] → [N, C, output_size[0], output_size[1]]. scales_h/w, when given, are the
// scale factors the caller asked for (the source index uses 1 / scale, as PyTorch does);
// otherwise in / out.
Tensor upsample_nearest2d(const Tensor& self, IntArrayRef output_size,
                          std::optional<double> scales_h, std::optional<double> scales_w);
Tensor upsample_nearest2d_backward(const Tensor& grad, IntArrayRef input_sizes,
                                   IntArrayRef output_size, std::optional<double> scales_h,
                                   std::optional<double> scales_w);
// Flat input index per output element [N, C, OH, OW] (nearest), as above.
Tensor upsample_nearest2d_source_index(IntArrayRef input_sizes, IntArrayRef output_size,
                                       std::optional<double> scales_h,
                                       std::optional<double> scales_w);
Tensor upsample_bilinear2d(const Tensor& self, IntArrayRef output_size, bool align_corners,
                           std::optional<double> scales_h, std::optional<double> scales_w);
// Bilinear's four taps per output element: (flat input index, weight) for the neighbours
// (h0, w0), (h0, w1), (h1, w0), (h1, w1); indices int64 and weights `dtype`, [N, C, OH, OW] each.
std::vector<std::pair<Tensor, Tensor>> upsample_bilinear2d_taps(
    IntArrayRef input_sizes, IntArrayRef output_size, bool align_corners,
    std::optional<double> scales_h, std::optional<double> scales_w, ScalarType dtype);
Tensor upsample_bilinear2d_backward(const Tensor& grad, IntArrayRef input_sizes,
                                    IntArrayRef output_size, bool align_corners,
                                    std::optional<double> scales_h, std::optional<double> scales_w);

}  // namespace tinytorch::native
