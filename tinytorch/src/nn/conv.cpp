// nn::Conv2d, nn::Conv1d, nn::ConvTranspose2d and their nn::functional forms (module 09): the
// layers own weight and bias, initialise them as PyTorch does, and call the differentiable ops.
// Each forward checks the input's rank and channel count itself, so that the error names the
// layer (which of a model's convolutions was fed the wrong tensor) and not just "conv2d".
// conv1d is conv2d on a height of 1; conv_transpose2d is conv2d's input gradient
// (src/native/conv.cpp), so neither has kernels of its own.
#include <cmath>
#include <string>
#include <vector>

#include "tinytorch/amp/autocast.h"
#include "tinytorch/native/conv.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/nn/init.h"
#include "tinytorch/nn/modules/conv.h"

namespace tinytorch {

namespace {

// One value per list argument of a 1-d op (ExpandingArray<1> holds one; an IntArrayRef may not).
int64_t single_arg(IntArrayRef v, const char* name, const char* op) {
  TT_CHECK(v.size() == 1, op, ": expected ", name,
           " to be a single integer value or a list of 1 value to match the convolution "
           "dimensions, but got ",
           name, "=", v);
  return v[0];
}

}  // namespace

Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
              IntArrayRef padding, IntArrayRef dilation, int64_t groups) {
  TT_AUTOCAST(conv1d, input, weight, bias, stride, padding, dilation, groups);
  TT_CHECK(input.defined() && weight.defined(),
           "conv1d: input and weight must be defined tensors (got an undefined ",
           input.defined() ? "weight" : "input", ")");
  TT_CHECK(input.dim() == 2 || input.dim() == 3,
           "Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: ",
           input.sizes());
  TT_CHECK(weight.dim() == 3,
           "conv1d: expected a 3-D weight [out_channels, in_channels / groups, kW], but got a ",
           weight.dim(), "-D weight of size ", weight.sizes());
  const int64_t s = single_arg(stride, "stride", "conv1d"),
                p = single_arg(padding, "padding", "conv1d"),
                d = single_arg(dilation, "dilation", "conv1d");
  // [N, C, L] → [N, C, 1, L] and w [K, C/g, R] → [K, C/g, 1, R]: the height adds nothing.
  try {
    return conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, {1, s}, {0, p}, {1, d}, groups)
        .squeeze(-2);
  } catch (const Error& e) {
    detail::rethrow_with_context(e, "conv1d (run as conv2d on a height of 1)");
  }
}

}  // namespace tinytorch

namespace tinytorch::nn {

namespace {

// The constructor checks every convolution layer shares (`name` is "Conv2d", ...).
template <size_t D>
void check_conv_options(const char* name, int64_t in, int64_t out, int64_t groups,
                        const ExpandingArray<D>& kernel, ScalarType dtype) {
  TT_CHECK_VALUE(in > 0 && out > 0, name,
                 ": in_channels and out_channels must be positive, but got in_channels=", in,
                 ", out_channels=", out);
  TT_CHECK_VALUE(groups > 0, name, ": groups must be a positive integer, but got groups=", groups);
  TT_CHECK_VALUE(in % groups == 0, name,
                 ": in_channels must be divisible by groups, but got in_channels=", in,
                 ", groups=", groups);
  TT_CHECK_VALUE(out % groups == 0, name,
                 ": out_channels must be divisible by groups, but got out_channels=", out,
                 ", groups=", groups);
  for (size_t i = 0; i < D; ++i) {
    TT_CHECK_VALUE(kernel[i] > 0, name, ": kernel_size must be positive, but got ", kernel);
  }
  TT_CHECK_TYPE(is_floating_point(dtype), name,
                ": the parameters must have a floating-point dtype, but got ", dtype);
}

// PyTorch's default for every convolution: weight by kaiming_uniform_(a = √5) = U(±1/√fan_in),
// bias U(±1/√fan_in), fan_in = the weight's dims after the first multiplied (in/groups · kH · kW
// for Conv2d; out/groups · kH · kW for the transposed weight [in, out/groups, kH, kW]) — the rule
// of Linear.
void reset_conv_parameters(Tensor& weight, Tensor& bias) {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).first;
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    init::uniform_(bias, -bound, bound);
  }
}

// Registers weight (of `shape`) and bias [bias_size] — or an undefined bias — on `module`.
void register_conv_parameters(Module& module, std::vector<int64_t> shape, int64_t bias_size,
                              bool with_bias, ScalarType dtype, Tensor& weight, Tensor& bias) {
  weight = module.register_parameter("weight", empty(shape, dtype));
  bias = with_bias ? module.register_parameter("bias", empty({bias_size}, dtype))
                   : module.register_parameter("bias", Tensor(), /*requires_grad=*/false);
}

// The layer's check of its input: rank (spatial dims + 1 or + 2) and channel count.
void check_conv_input(const std::string& layer, const Tensor& input, int64_t spatial,
                      int64_t in_channels) {
  TT_CHECK(input.defined(), layer, ": the input is an undefined tensor");
  const char* batched = spatial == 2 ? "[N, C, H, W]" : "[N, C, L]";
  const char* unbatched = spatial == 2 ? "[C, H, W]" : "[C, L]";
  TT_CHECK(input.dim() == spatial + 1 || input.dim() == spatial + 2, layer, " expected a ",
           spatial + 2, "-D input ", batched, " (or ", spatial + 1, "-D ", unbatched, " for one ",
           spatial == 2 ? "image" : "sequence", "), but got a ", input.dim(), "-D input of size ",
           input.sizes());
  const int64_t channels = input.size(-spatial - 1);
  TT_CHECK(channels == in_channels, layer, " expected input with ", in_channels,
           " channels, but got ", channels, " (input of size ", input.sizes(), ", read as ",
           input.dim() == spatial + 2 ? batched : unbatched, ")",
           spatial == 2 ? native::conv2d_layout_hint(input.sizes(), in_channels) : "");
}

// PyTorch's repr of a convolution: "in, out, kernel_size=.., stride=.." then padding, dilation,
// output_padding, groups and bias only where they differ from the defaults.
template <size_t D>
std::string conv_repr(int64_t in, int64_t out, const ExpandingArray<D>& kernel,
                      const ExpandingArray<D>& stride, const ExpandingArray<D>& padding,
                      const ExpandingArray<D>& dilation, const ExpandingArray<D>& output_padding,
                      int64_t groups, bool has_bias) {
  using tinytorch::detail::str;
  std::string s = str(in, ", ", out, ", kernel_size=", kernel, ", stride=", stride);
  if (padding != ExpandingArray<D>(0)) s += ", padding=" + str(padding);
  if (dilation != ExpandingArray<D>(1)) s += ", dilation=" + str(dilation);
  if (output_padding != ExpandingArray<D>(0)) s += ", output_padding=" + str(output_padding);
  if (groups != 1) s += ", groups=" + std::to_string(groups);
  if (!has_bias) s += ", bias=false";
  return s;
}

}  // namespace

// ── Conv2d ───────────────────────────────────────────────────────────────────────────────────

Conv2dImpl::Conv2dImpl(const Conv2dOptions& options_) : Module("Conv2d"), options(options_) {
  check_conv_options("Conv2d", options.in_channels(), options.out_channels(), options.groups(),
                     options.kernel_size(), options.dtype());
  reset();
}

void Conv2dImpl::reset() {
  const ExpandingArray<2>& k = options.kernel_size();
  register_conv_parameters(
      *this, {options.out_channels(), options.in_channels() / options.groups(), k[0], k[1]},
      options.out_channels(), options.bias(), options.dtype(), weight, bias);
  reset_parameters();
}

void Conv2dImpl::reset_parameters() {
  reset_conv_parameters(weight, bias);
}

Tensor Conv2dImpl::forward(const Tensor& input) {
  const std::string layer = "Conv2d(" + extra_repr() + ")";
  check_conv_input(layer, input, 2, options.in_channels());
  try {
    return tinytorch::conv2d(input, weight, bias, options.stride(), options.padding(),
                             options.dilation(), options.groups());
  } catch (const Error& e) {
    tinytorch::detail::rethrow_with_context(e, layer);
  }
}

std::string Conv2dImpl::extra_repr() const {
  return conv_repr(options.in_channels(), options.out_channels(), options.kernel_size(),
                   options.stride(), options.padding(), options.dilation(), ExpandingArray<2>(0),
                   options.groups(), bias.defined());
}

// ── Conv1d ───────────────────────────────────────────────────────────────────────────────────

Conv1dImpl::Conv1dImpl(const Conv1dOptions& options_) : Module("Conv1d"), options(options_) {
  check_conv_options("Conv1d", options.in_channels(), options.out_channels(), options.groups(),
                     options.kernel_size(), options.dtype());
  reset();
}

void Conv1dImpl::reset() {
  register_conv_parameters(
      *this,
      {options.out_channels(), options.in_channels() / options.groups(), options.kernel_size()[0]},
      options.out_channels(), options.bias(), options.dtype(), weight, bias);
  reset_parameters();
}

void Conv1dImpl::reset_parameters() {
  reset_conv_parameters(weight, bias);
}

Tensor Conv1dImpl::forward(const Tensor& input) {
  const std::string layer = "Conv1d(" + extra_repr() + ")";
  check_conv_input(layer, input, 1, options.in_channels());
  try {
    return tinytorch::conv1d(input, weight, bias, options.stride(), options.padding(),
                             options.dilation(), options.groups());
  } catch (const Error& e) {
    tinytorch::detail::rethrow_with_context(e, layer);
  }
}

std::string Conv1dImpl::extra_repr() const {
  return conv_repr(options.in_channels(), options.out_channels(), options.kernel_size(),
                   options.stride(), options.padding(), options.dilation(), ExpandingArray<1>(0),
                   options.groups(), bias.defined());
}

// ── ConvTranspose2d ──────────────────────────────────────────────────────────────────────────

ConvTranspose2dImpl::ConvTranspose2dImpl(const ConvTranspose2dOptions& options_)
    : Module("ConvTranspose2d"), options(options_) {
  check_conv_options("ConvTranspose2d", options.in_channels(), options.out_channels(),
                     options.groups(), options.kernel_size(), options.dtype());
  reset();
}

void ConvTranspose2dImpl::reset() {
  const ExpandingArray<2>& k = options.kernel_size();
  register_conv_parameters(
      *this, {options.in_channels(), options.out_channels() / options.groups(), k[0], k[1]},
      options.out_channels(), options.bias(), options.dtype(), weight, bias);
  reset_parameters();
}

void ConvTranspose2dImpl::reset_parameters() {
  reset_conv_parameters(weight, bias);
}

std::vector<int64_t> ConvTranspose2dImpl::output_padding_for(
    const Tensor& input, const std::optional<IntArrayRef>& output_size) const {
  const ExpandingArray<2>& op = options.output_padding();
  if (!output_size) return {op[0], op[1]};
  // {H_out, W_out}, or the whole output shape (its last two).
  const IntArrayRef size = *output_size;
  TT_CHECK(size.size() == 2 || size.size() == static_cast<size_t>(input.dim()),
           "ConvTranspose2d: output_size must have 2 or ", input.dim(),
           " elements (the output's spatial size, or its whole shape), but got ", size);
  std::vector<int64_t> padding(2), smallest(2), largest(2);
  for (size_t i = 0; i < 2; ++i) {
    const int64_t in = input.size(input.dim() - 2 + static_cast<int64_t>(i));
    const int64_t requested = size[size.size() - 2 + i];
    // Every output size in [smallest, smallest + stride − 1] maps back onto `in` under conv2d.
    smallest[i] = (in - 1) * options.stride()[i] - 2 * options.padding()[i] +
                  options.dilation()[i] * (options.kernel_size()[i] - 1) + 1;
    largest[i] = smallest[i] + options.stride()[i] - 1;
    padding[i] = requested - smallest[i];
  }
  for (size_t i = 0; i < 2; ++i) {
    const int64_t requested = size[size.size() - 2 + i];
    TT_CHECK_VALUE(requested >= smallest[i] && requested <= largest[i],
                   "ConvTranspose2d: requested an output size of ", size,
                   ", but valid sizes range from ", IntArrayRef(smallest), " to ",
                   IntArrayRef(largest), " (for an input of ",
                   IntArrayRef(input.sizes().data() + input.dim() - 2, 2), ")");
  }
  return padding;
}

Tensor ConvTranspose2dImpl::forward(const Tensor& input,
                                    const std::optional<IntArrayRef>& output_size) {
  const std::string layer = "ConvTranspose2d(" + extra_repr() + ")";
  check_conv_input(layer, input, 2, options.in_channels());
  try {
    return tinytorch::conv_transpose2d(input, weight, bias, options.stride(), options.padding(),
                                       output_padding_for(input, output_size), options.groups(),
                                       options.dilation());
  } catch (const Error& e) {
    tinytorch::detail::rethrow_with_context(e, layer);
  }
}

std::string ConvTranspose2dImpl::extra_repr() const {
  return conv_repr(options.in_channels(), options.out_channels(), options.kernel_size(),
                   options.stride(), options.padding(), options.dilation(),
                   options.output_padding(), options.groups(), bias.defined());
}

namespace functional {

Tensor conv2d(const Tensor& input, const Tensor& weight, const Conv2dFuncOptions& options) {
  return tinytorch::conv2d(input, weight, options.bias(), options.stride(), options.padding(),
                           options.dilation(), options.groups());
}

Tensor conv1d(const Tensor& input, const Tensor& weight, const Conv1dFuncOptions& options) {
  return tinytorch::conv1d(input, weight, options.bias(), options.stride(), options.padding(),
                           options.dilation(), options.groups());
}

Tensor conv_transpose2d(const Tensor& input, const Tensor& weight,
                        const ConvTranspose2dFuncOptions& options) {
  return tinytorch::conv_transpose2d(input, weight, options.bias(), options.stride(),
                                     options.padding(), options.output_padding(), options.groups(),
                                     options.dilation());
}

}  // namespace functional

}  // namespace tinytorch::nn
