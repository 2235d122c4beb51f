// tinytorch/nn/functional/padding.h — padding the last dims of a tensor (libtorch's torch::pad,
// torch::constant_pad_nd and torch::nn::functional::pad with PadFuncOptions).
//
//   namespace F = torch::nn::functional;
//   F::pad(x, F::PadFuncOptions({1, 1}));                               last dim: 1 left, 1 right
//   F::pad(img, F::PadFuncOptions({1, 1, 2, 2}).mode(torch::kReflect));  W by 1, H by 2
//   F::pad(x, F::PadFuncOptions({0, 3}).value(-1.0));                   constant −1
//
// pad lists {left, right} for the last dim first, then {top, bottom} for the one before, and so
// on. Constant padding takes any number of dims (a negative pad crops); reflect, replicate and
// circular pad the last 1, 2 or 3 dims of an input with one or two more dims (batch, channels).
// Reflect mirrors without repeating the edge, so each pad must be smaller than its dim.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/module.h"  // TT_ARG

namespace tinytorch {

// How the new border is filled (libtorch's torch::kConstant, torch::kReflect, ...).
enum class PadMode { Constant, Reflect, Replicate, Circular };
inline constexpr PadMode kConstant = PadMode::Constant;
inline constexpr PadMode kReflect = PadMode::Reflect;
inline constexpr PadMode kReplicate = PadMode::Replicate;
inline constexpr PadMode kCircular = PadMode::Circular;

// at::pad: mode "constant", "reflect", "replicate" or "circular"; value only with "constant"
// (unset: 0). Differentiable: the gradient of every output cell returns to the input cell it
// copies (added up where reflect or replicate copied one cell several times).
Tensor pad(const Tensor& self, IntArrayRef pad, std::string_view mode = "constant",
           std::optional<double> value = std::nullopt);
Tensor constant_pad_nd(const Tensor& self, IntArrayRef pad, const Scalar& value = 0);

namespace nn::functional {

struct PadFuncOptions {
  PadFuncOptions(std::vector<int64_t> pad)  // NOLINT(google-explicit-constructor)
      : pad_(std::move(pad)) {}
  TT_ARG(std::vector<int64_t>, pad);
  TT_ARG(PadMode, mode) = kConstant;
  TT_ARG(double, value) = 0;  // the fill of constant mode; other modes take none
};

Tensor pad(const Tensor& input, const PadFuncOptions& options);

}  // namespace nn::functional

}  // namespace tinytorch
