// tinytorch/nn/functional/upsampling.h — resizing images [N, C, H, W] (libtorch's
// torch::upsample_nearest2d / upsample_bilinear2d and torch::nn::functional::interpolate with
// InterpolateFuncOptions; the module nn::Upsample is in nn/modules/upsampling.h).
//
//   namespace F = torch::nn::functional;
//   F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{64, 64}));
//   F::interpolate(x, F::InterpolateFuncOptions()
//                         .scale_factor(std::vector<double>{2, 2})
//                         .mode(torch::kBilinear)
//                         .align_corners(false));
//
// Modes: kNearest (copy the pixel the output lands on) and kBilinear (blend its 2×2 neighbours).
// align_corners (bilinear only): true maps the corner pixels of input and output onto each other;
// false (the default) maps pixel centres, as PyTorch does. Given a scale_factor, the output is
// ⌊in · scale⌋ and the scale itself places the samples (unless recompute_scale_factor is true).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/module.h"  // TT_ARG

namespace tinytorch {

// How interpolate fills the output (libtorch's torch::kNearest, torch::kBilinear). PyTorch's
// other modes (linear, bicubic, trilinear, area, nearest-exact) are not offered.
enum class InterpolateMode { Nearest, Bilinear };
inline constexpr InterpolateMode kNearest = InterpolateMode::Nearest;
inline constexpr InterpolateMode kBilinear = InterpolateMode::Bilinear;

// [N, C, H, W] → [N, C, output_size[0], output_size[1]]; scales_h/w are the scale factors the
// caller asked for, if any (they place the samples; otherwise in / out does).
Tensor upsample_nearest2d(const Tensor& self, IntArrayRef output_size,
                          std::optional<double> scales_h = std::nullopt,
                          std::optional<double> scales_w = std::nullopt);
Tensor upsample_bilinear2d(const Tensor& self, IntArrayRef output_size, bool align_corners,
                           std::optional<double> scales_h = std::nullopt,
                           std::optional<double> scales_w = std::nullopt);

namespace nn {

namespace functional {

struct InterpolateFuncOptions {
  // Exactly one of size and scale_factor: {OH, OW} or {scale_h, scale_w}.
  TT_ARG(std::optional<std::vector<int64_t>>, size) = std::nullopt;
  TT_ARG(std::optional<std::vector<double>>, scale_factor) = std::nullopt;
  TT_ARG(InterpolateMode, mode) = kNearest;
  // Bilinear only (an error with kNearest, as in PyTorch); unset means false.
  TT_ARG(std::optional<bool>, align_corners) = std::nullopt;
  // true: place the samples by in / out, as if the computed size had been asked for.
  TT_ARG(std::optional<bool>, recompute_scale_factor) = std::nullopt;
  TT_ARG(bool, antialias) = false;  // true is not supported (an error)
};

Tensor interpolate(const Tensor& input, const InterpolateFuncOptions& options = {});

}  // namespace functional

}  // namespace nn

}  // namespace tinytorch
