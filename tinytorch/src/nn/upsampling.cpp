// F::interpolate and nn::Upsample (module 09): the options' checks (PyTorch's rules and wording)
// and the output size, then upsample_nearest2d / upsample_bilinear2d do the work.
#include "tinytorch/nn/modules/upsampling.h"

#include <cmath>
#include <sstream>

namespace tinytorch::nn {

namespace functional {

Tensor interpolate(const Tensor& input, const InterpolateFuncOptions& options) {
  const bool nearest = options.mode() == kNearest;
  TT_CHECK_VALUE(!(nearest && options.align_corners().has_value()),
                 "interpolate: align_corners option can only be set with the interpolating modes: "
                 "bilinear (got mode nearest)");
  TT_CHECK_WITH(NotImplementedError, !options.antialias(),
                "interpolate: antialias=true is not supported");
  TT_CHECK_VALUE(input.dim() == 4,
                 "interpolate: expected a 4-d input [N, C, H, W] (2 spatial "
                 "dims: modes nearest and bilinear), got ",
                 input.dim(), "-d ", input.sizes());
  const auto& size = options.size();
  const auto& scale = options.scale_factor();
  TT_CHECK_VALUE(size.has_value() != scale.has_value(), "interpolate: ",
                 size ? "only one of size or scale_factor should be defined"
                      : "either size or scale_factor should be defined");
  std::vector<int64_t> out;
  std::optional<double> scale_h, scale_w;
  if (size) {
    TT_CHECK_VALUE(size->size() == 2,
                   "interpolate: size shape must match input shape. Input is "
                   "2D, size is ",
                   size->size());
    out = *size;
  } else {
    TT_CHECK_VALUE(scale->size() == 2,
                   "interpolate: scale_factor shape must match input shape. "
                   "Input is 2D, scale_factor is ",
                   scale->size());
    for (size_t i = 0; i < 2; ++i) {
      const double s = (*scale)[i];
      TT_CHECK_VALUE(s > 0.0 && std::isfinite(s),
                     "interpolate: scale_factor must be positive and finite, got ", s);
      out.push_back(static_cast<int64_t>(
          std::floor(static_cast<double>(input.size(static_cast<int64_t>(i) + 2)) * s)));
    }
    // The given scales place the samples, unless the caller asked to recompute them (in / out).
    if (!options.recompute_scale_factor().value_or(false)) {
      scale_h = (*scale)[0];
      scale_w = (*scale)[1];
    }
  }
  if (nearest) return upsample_nearest2d(input, out, scale_h, scale_w);
  return upsample_bilinear2d(input, out, options.align_corners().value_or(false), scale_h, scale_w);
}

}  // namespace functional

UpsampleImpl::UpsampleImpl(const UpsampleOptions& options_)
    : Module("Upsample"), options(options_) {}

Tensor UpsampleImpl::forward(const Tensor& input) {
  return functional::interpolate(input, functional::InterpolateFuncOptions()
                                            .size(options.size())
                                            .scale_factor(options.scale_factor())
                                            .mode(options.mode())
                                            .align_corners(options.align_corners()));
}

// As PyTorch prints it: Upsample(scale_factor=2.0, mode='bilinear') or Upsample(size=[4, 4], ...).
std::string UpsampleImpl::extra_repr() const {
  std::ostringstream os;
  if (options.size()) {
    os << "size=" << IntArrayRef(*options.size());
  } else if (options.scale_factor()) {
    os << "scale_factor=[";
    for (size_t i = 0; i < options.scale_factor()->size(); ++i) {
      os << (i ? ", " : "") << (*options.scale_factor())[i];
    }
    os << "]";
  }
  os << ", mode='" << (options.mode() == kNearest ? "nearest" : "bilinear") << "'";
  return os.str();
}

}  // namespace tinytorch::nn
