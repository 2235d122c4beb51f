// F::pad with libtorch's PadFuncOptions: the options' mode becomes at::pad's mode string.
#include "tinytorch/nn/functional/padding.h"

namespace tinytorch::nn::functional {

namespace {
const char* mode_name(PadMode mode) {
  switch (mode) {
    case PadMode::Constant:
      return "constant";
    case PadMode::Reflect:
      return "reflect";
    case PadMode::Replicate:
      return "replicate";
    case PadMode::Circular:
      return "circular";
  }
  throw ValueError("pad: unknown PadMode " + std::to_string(static_cast<int>(mode)));
}
}  // namespace

Tensor pad(const Tensor& input, const PadFuncOptions& options) {
  // As in libtorch, only a non-zero value counts as "given": .value(0) with kReflect is fine.
  const std::optional<double> value =
      options.value() != 0.0 ? std::optional<double>(options.value()) : std::nullopt;
  return tinytorch::pad(input, options.pad(), mode_name(options.mode()), value);
}

}  // namespace tinytorch::nn::functional
