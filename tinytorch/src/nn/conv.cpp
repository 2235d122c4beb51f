// nn::Conv2d and nn::functional::conv2d (module 09): the layer owns weight and bias, initialises
// them as PyTorch does, and calls the differentiable tinytorch::conv2d. Its forward checks the
// input's rank and channel count itself, so that the error names the layer (which of a model's
// convolutions was fed the wrong tensor) and not just "conv2d".
#include <cmath>
#include <string>

#include "tinytorch/native/conv.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/nn/init.h"
#include "tinytorch/nn/modules/conv.h"

namespace tinytorch::nn {

Conv2dImpl::Conv2dImpl(const Conv2dOptions& options_) : Module("Conv2d"), options(options_) {
  const int64_t in = options.in_channels(), out = options.out_channels(), g = options.groups();
  TT_CHECK_VALUE(in > 0 && out > 0,
                 "Conv2d: in_channels and out_channels must be positive, but got ",
                 "in_channels=", in, ", out_channels=", out);
  TT_CHECK_VALUE(g > 0, "Conv2d: groups must be a positive integer, but got groups=", g);
  TT_CHECK_VALUE(in % g == 0,
                 "Conv2d: in_channels must be divisible by groups, but got in_channels=", in,
                 ", groups=", g);
  TT_CHECK_VALUE(out % g == 0,
                 "Conv2d: out_channels must be divisible by groups, but got out_channels=", out,
                 ", groups=", g);
  const ExpandingArray<2>& k = options.kernel_size();
  TT_CHECK_VALUE(k[0] > 0 && k[1] > 0, "Conv2d: kernel_size must be positive, but got ", k);
  TT_CHECK_TYPE(is_floating_point(options.dtype()),
                "Conv2d: the parameters must have a floating-point dtype, but got ",
                options.dtype());
  reset();
}

void Conv2dImpl::reset() {
  const int64_t in = options.in_channels() / options.groups(), out = options.out_channels();
  const ExpandingArray<2>& k = options.kernel_size();
  weight = register_parameter("weight", empty({out, in, k[0], k[1]}, options.dtype()));
  bias = options.bias() ? register_parameter("bias", empty({out}, options.dtype()))
                        : register_parameter("bias", Tensor(), /*requires_grad=*/false);
  reset_parameters();
}

void Conv2dImpl::reset_parameters() {
  // kaiming_uniform_ with a = √5 gives U(±1/√fan_in), fan_in = in/groups · kH · kW (the weight's
  // dims after the first): the same rule as Linear, one output value summing fan_in products.
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).first;
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    init::uniform_(bias, -bound, bound);
  }
}

namespace {

// Re-throws `e` (same type) with the layer's description in front. A NotImplementedError (a
// learner stub) goes through untouched: its message is about the code, not the input.
[[noreturn]] void rethrow_in_layer(const Error& e, const std::string& layer) {
  if (dynamic_cast<const NotImplementedError*>(&e) != nullptr) throw;
  const std::string message = layer + ": " + e.what();
  if (dynamic_cast<const TypeError*>(&e) != nullptr) throw TypeError(message);
  if (dynamic_cast<const ValueError*>(&e) != nullptr) throw ValueError(message);
  if (dynamic_cast<const IndexError*>(&e) != nullptr) throw IndexError(message);
  throw Error(message);
}

}  // namespace

Tensor Conv2dImpl::forward(const Tensor& input) {
  const std::string layer = "Conv2d(" + extra_repr() + ")";
  TT_CHECK(input.defined(), layer, ": the input is an undefined tensor");
  TT_CHECK(input.dim() == 3 || input.dim() == 4, layer,
           " expected a 4-D input [N, C, H, W] (or 3-D [C, H, W] for one image), but got a ",
           input.dim(), "-D input of size ", input.sizes());
  const int64_t channels = input.size(-3), in = options.in_channels();
  TT_CHECK(channels == in, layer, " expected input with ", in, " channels, but got ", channels,
           " (input of size ", input.sizes(), ", read as ",
           input.dim() == 4 ? "[N, C, H, W]" : "[C, H, W]", ")",
           native::conv2d_layout_hint(input.sizes(), in));
  try {
    return tinytorch::conv2d(input, weight, bias, options.stride(), options.padding(),
                             options.dilation(), options.groups());
  } catch (const Error& e) {
    rethrow_in_layer(e, layer);
  }
}

std::string Conv2dImpl::extra_repr() const {
  std::string s = std::to_string(options.in_channels()) + ", " +
                  std::to_string(options.out_channels()) +
                  ", kernel_size=" + tinytorch::detail::str(options.kernel_size()) +
                  ", stride=" + tinytorch::detail::str(options.stride());
  if (options.padding() != ExpandingArray<2>(0))
    s += ", padding=" + tinytorch::detail::str(options.padding());
  if (options.dilation() != ExpandingArray<2>(1)) {
    s += ", dilation=" + tinytorch::detail::str(options.dilation());
  }
  if (options.groups() != 1) s += ", groups=" + std::to_string(options.groups());
  if (!bias.defined()) s += ", bias=false";
  return s;
}

namespace functional {

Tensor conv2d(const Tensor& input, const Tensor& weight, const Conv2dFuncOptions& options) {
  return tinytorch::conv2d(input, weight, options.bias(), options.stride(), options.padding(),
                           options.dilation(), options.groups());
}

}  // namespace functional

}  // namespace tinytorch::nn
