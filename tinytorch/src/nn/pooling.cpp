// Module 09 — the pooling layers: thin modules that remember their options and call the
// functional ops (src/native/pooling.cpp), and the F:: spellings that take FuncOptions. The 1-d
// pools are the 2-d ones on [N, C, 1, L]: a window of height 1 changes nothing.
#include "tinytorch/nn/modules/pooling.h"

#include <sstream>
#include <string>
#include <vector>

namespace tinytorch {

namespace {

// [N, C, L] or [C, L], checked in the 1-d op's words before it becomes [N, C, 1, L].
void check_pool1d_input(const Tensor& input, const char* op) {
  TT_CHECK(input.defined() && (input.dim() == 2 || input.dim() == 3), op,
           ": Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but "
           "got: ",
           input.defined() ? input.sizes() : IntArrayRef());
}

// A 1-d list argument as the 2-d pool's {height_value, v}; an empty list stays empty (stride {}
// means stride = kernel_size).
std::vector<int64_t> widthwise(IntArrayRef v, int64_t height_value, const char* name,
                               const char* op) {
  if (v.empty()) return {};
  TT_CHECK_VALUE(v.size() == 1, op, ": ", name, " must be a single int, but got ", v);
  return {height_value, v[0]};
}

}  // namespace

std::tuple<Tensor, Tensor> max_pool1d_with_indices(const Tensor& input, IntArrayRef kernel_size,
                                                   IntArrayRef stride, IntArrayRef padding,
                                                   IntArrayRef dilation, bool ceil_mode) {
  const char* op = "max_pool1d";
  check_pool1d_input(input, op);
  try {
    // Within a plane of height 1 the 2-d pool's flat index h·L + w is the position along L.
    auto [values, indices] = max_pool2d_with_indices(
        input.unsqueeze(-2), widthwise(kernel_size, 1, "kernel_size", op),
        widthwise(stride, 1, "stride", op), widthwise(padding, 0, "padding", op),
        widthwise(dilation, 1, "dilation", op), ceil_mode);
    return {values.squeeze(-2), indices.squeeze(-2)};
  } catch (const Error& e) {
    detail::rethrow_with_context(e, "max_pool1d (run as max_pool2d on a height of 1)");
  }
}

Tensor max_pool1d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride,
                  IntArrayRef padding, IntArrayRef dilation, bool ceil_mode) {
  return std::get<0>(
      max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode));
}

Tensor avg_pool1d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride,
                  IntArrayRef padding, bool ceil_mode, bool count_include_pad) {
  const char* op = "avg_pool1d";
  check_pool1d_input(input, op);
  try {
    return avg_pool2d(input.unsqueeze(-2), widthwise(kernel_size, 1, "kernel_size", op),
                      widthwise(stride, 1, "stride", op), widthwise(padding, 0, "padding", op),
                      ceil_mode, count_include_pad)
        .squeeze(-2);
  } catch (const Error& e) {
    detail::rethrow_with_context(e, "avg_pool1d (run as avg_pool2d on a height of 1)");
  }
}

}  // namespace tinytorch

namespace tinytorch::nn {

namespace {
// PyTorch prints what the user passed: MaxPool2d(2) shows kernel_size=2, MaxPool2d((2, 3)) shows
// kernel_size=(2, 3). An ExpandingArray keeps only the values, so a pair of equal values prints as
// the one number (the common spelling) and an unequal pair as a tuple. (One value: the number.)
template <size_t D>
std::string number_or_tuple(const ExpandingArray<D>& a) {
  std::ostringstream os;
  if (a == ExpandingArray<D>(a[0])) {
    os << a[0];
  } else {
    os << a;
  }
  return os.str();
}
}  // namespace

namespace functional {

Tensor max_pool2d(const Tensor& input, const MaxPool2dFuncOptions& options) {
  return tinytorch::max_pool2d(input, options.kernel_size(), options.stride(), options.padding(),
                               options.dilation(), options.ceil_mode());
}

std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input,
                                                   const MaxPool2dFuncOptions& options) {
  return tinytorch::max_pool2d_with_indices(input, options.kernel_size(), options.stride(),
                                            options.padding(), options.dilation(),
                                            options.ceil_mode());
}

Tensor avg_pool2d(const Tensor& input, const AvgPool2dFuncOptions& options) {
  return tinytorch::avg_pool2d(input, options.kernel_size(), options.stride(), options.padding(),
                               options.ceil_mode(), options.count_include_pad(),
                               options.divisor_override());
}

Tensor adaptive_avg_pool2d(const Tensor& input, const AdaptiveAvgPool2dFuncOptions& options) {
  return tinytorch::adaptive_avg_pool2d(input, options.output_size());
}

Tensor max_pool1d(const Tensor& input, const MaxPool1dFuncOptions& options) {
  return tinytorch::max_pool1d(input, options.kernel_size(), options.stride(), options.padding(),
                               options.dilation(), options.ceil_mode());
}

std::tuple<Tensor, Tensor> max_pool1d_with_indices(const Tensor& input,
                                                   const MaxPool1dFuncOptions& options) {
  return tinytorch::max_pool1d_with_indices(input, options.kernel_size(), options.stride(),
                                            options.padding(), options.dilation(),
                                            options.ceil_mode());
}

Tensor avg_pool1d(const Tensor& input, const AvgPool1dFuncOptions& options) {
  return tinytorch::avg_pool1d(input, options.kernel_size(), options.stride(), options.padding(),
                               options.ceil_mode(), options.count_include_pad());
}

}  // namespace functional

// ── MaxPool2d ────────────────────────────────────────────────────────────────────────────────

MaxPool2dImpl::MaxPool2dImpl(const MaxPool2dOptions& options_)
    : Module("MaxPool2d"), options(options_) {}

Tensor MaxPool2dImpl::forward(const Tensor& input) {
  return functional::max_pool2d(input, options);
}

std::tuple<Tensor, Tensor> MaxPool2dImpl::forward_with_indices(const Tensor& input) {
  return functional::max_pool2d_with_indices(input, options);
}

std::string MaxPool2dImpl::extra_repr() const {
  return "kernel_size=" + number_or_tuple(options.kernel_size()) +
         ", stride=" + number_or_tuple(options.stride()) +
         ", padding=" + number_or_tuple(options.padding()) +
         ", dilation=" + number_or_tuple(options.dilation()) +
         ", ceil_mode=" + detail::bool_repr(options.ceil_mode());
}

// ── AvgPool2d ────────────────────────────────────────────────────────────────────────────────

AvgPool2dImpl::AvgPool2dImpl(const AvgPool2dOptions& options_)
    : Module("AvgPool2d"), options(options_) {}

Tensor AvgPool2dImpl::forward(const Tensor& input) {
  return functional::avg_pool2d(input, options);
}

std::string AvgPool2dImpl::extra_repr() const {
  // PyTorch's AvgPool2d prints only these three.
  return "kernel_size=" + number_or_tuple(options.kernel_size()) +
         ", stride=" + number_or_tuple(options.stride()) +
         ", padding=" + number_or_tuple(options.padding());
}

// ── AdaptiveAvgPool2d ────────────────────────────────────────────────────────────────────────

AdaptiveAvgPool2dImpl::AdaptiveAvgPool2dImpl(const AdaptiveAvgPool2dOptions& options_)
    : Module("AdaptiveAvgPool2d"), options(options_) {}

Tensor AdaptiveAvgPool2dImpl::forward(const Tensor& input) {
  return functional::adaptive_avg_pool2d(input, options);
}

std::string AdaptiveAvgPool2dImpl::extra_repr() const {
  // Always a tuple: nn.AdaptiveAvgPool2d((1, 1)), the usual spelling, prints (1, 1).
  std::ostringstream os;
  os << "output_size=" << options.output_size();
  return os.str();
}

// ── MaxPool1d, AvgPool1d ─────────────────────────────────────────────────────────────────────

MaxPool1dImpl::MaxPool1dImpl(const MaxPool1dOptions& options_)
    : Module("MaxPool1d"), options(options_) {}

Tensor MaxPool1dImpl::forward(const Tensor& input) {
  return functional::max_pool1d(input, options);
}

std::tuple<Tensor, Tensor> MaxPool1dImpl::forward_with_indices(const Tensor& input) {
  return functional::max_pool1d_with_indices(input, options);
}

std::string MaxPool1dImpl::extra_repr() const {
  return "kernel_size=" + number_or_tuple(options.kernel_size()) +
         ", stride=" + number_or_tuple(options.stride()) +
         ", padding=" + number_or_tuple(options.padding()) +
         ", dilation=" + number_or_tuple(options.dilation()) +
         ", ceil_mode=" + detail::bool_repr(options.ceil_mode());
}

AvgPool1dImpl::AvgPool1dImpl(const AvgPool1dOptions& options_)
    : Module("AvgPool1d"), options(options_) {}

Tensor AvgPool1dImpl::forward(const Tensor& input) {
  return functional::avg_pool1d(input, options);
}

std::string AvgPool1dImpl::extra_repr() const {
  // PyTorch's AvgPool1d prints its (one-element) tuples.
  std::ostringstream os;
  os << "kernel_size=" << options.kernel_size() << ", stride=" << options.stride()
     << ", padding=" << options.padding();
  return os.str();
}

}  // namespace tinytorch::nn
