// Module 09 — the pooling layers: thin modules that remember their options and call the
// functional ops (src/native/pooling.cpp), and the F:: spellings that take FuncOptions.
#include "tinytorch/nn/modules/pooling.h"

#include <sstream>
#include <string>

namespace tinytorch::nn {

namespace {
// PyTorch prints what the user passed: MaxPool2d(2) shows kernel_size=2, MaxPool2d((2, 3)) shows
// kernel_size=(2, 3). An ExpandingArray keeps only the values, so a pair of equal values prints as
// the one number (the common spelling) and an unequal pair as a tuple.
std::string pair_repr(const ExpandingArray<2>& a) {
  std::ostringstream os;
  if (a[0] == a[1]) {
    os << a[0];
  } else {
    os << a;
  }
  return os.str();
}

const char* bool_str(bool b) {
  return b ? "true" : "false";  // libtorch's spelling; Python prints True / False
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
  return "kernel_size=" + pair_repr(options.kernel_size()) +
         ", stride=" + pair_repr(options.stride()) + ", padding=" + pair_repr(options.padding()) +
         ", dilation=" + pair_repr(options.dilation()) +
         ", ceil_mode=" + bool_str(options.ceil_mode());
}

// ── AvgPool2d ────────────────────────────────────────────────────────────────────────────────

AvgPool2dImpl::AvgPool2dImpl(const AvgPool2dOptions& options_)
    : Module("AvgPool2d"), options(options_) {}

Tensor AvgPool2dImpl::forward(const Tensor& input) {
  return functional::avg_pool2d(input, options);
}

std::string AvgPool2dImpl::extra_repr() const {
  // PyTorch's AvgPool2d prints only these three.
  return "kernel_size=" + pair_repr(options.kernel_size()) +
         ", stride=" + pair_repr(options.stride()) + ", padding=" + pair_repr(options.padding());
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

}  // namespace tinytorch::nn
