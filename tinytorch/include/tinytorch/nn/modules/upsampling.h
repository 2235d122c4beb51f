// tinytorch/nn/modules/upsampling.h — nn::Upsample (libtorch's torch::nn::Upsample): a module
// that resizes [N, C, H, W] images with F::interpolate (nn/functional/upsampling.h).
//
//   nn::Upsample up(nn::UpsampleOptions()
//                       .scale_factor(std::vector<double>{2, 2})
//                       .mode(torch::kBilinear)
//                       .align_corners(false));
//   Tensor y = up(x);                                   [N, C, H, W] ──► [N, C, 2H, 2W]
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tinytorch/nn/functional/upsampling.h"
#include "tinytorch/nn/module.h"

namespace tinytorch::nn {

struct UpsampleOptions {
  TT_ARG(std::optional<std::vector<int64_t>>, size) = std::nullopt;
  TT_ARG(std::optional<std::vector<double>>, scale_factor) = std::nullopt;
  TT_ARG(InterpolateMode, mode) = kNearest;
  TT_ARG(std::optional<bool>, align_corners) = std::nullopt;
};

class UpsampleImpl : public Module {
 public:
  explicit UpsampleImpl(const UpsampleOptions& options = {});
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;
  UpsampleOptions options;
};
TT_MODULE(Upsample);

}  // namespace tinytorch::nn
