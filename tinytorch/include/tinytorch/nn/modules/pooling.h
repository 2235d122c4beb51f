// tinytorch/nn/modules/pooling.h — MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, MaxPool1d, AvgPool1d
// and their functional spellings with FuncOptions (module 09). Inputs [N, C, H, W] or one
// unbatched image [C, H, W]; the 1-d pools take [N, C, L] or [C, L] and run the 2-d ones on a
// height of 1.
//
//   nn::MaxPool2d pool(2);                               [N, C, 28, 28] ──► [N, C, 14, 14]
//   nn::MaxPool2d pool(nn::MaxPool2dOptions(3).stride(2).padding(1));
//   nn::AdaptiveAvgPool2d gap(nn::AdaptiveAvgPool2dOptions({1, 1}));   [N, C, H, W] ──► [N, C, 1,
//   1] F::max_pool2d(x, F::MaxPool2dFuncOptions(2).stride(2)); nn::MaxPool1d
//   pool(nn::MaxPool1dOptions(3).stride(2));   [N, C, L] ──► [N, C, (L − 3) / 2 + 1]
//
// Pooling layers have no parameters: they remember their options and call the functional ops
// (nn/functional/spatial.h). The printed form follows PyTorch's repr:
//   MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=false)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

#include "tinytorch/nn/expanding_array.h"
#include "tinytorch/nn/functional/spatial.h"
#include "tinytorch/nn/module.h"

namespace tinytorch::nn {

struct MaxPool2dOptions {
  // The stride defaults to the kernel size (non-overlapping windows), as in PyTorch.
  MaxPool2dOptions(ExpandingArray<2> kernel_size)  // NOLINT(google-explicit-constructor)
      : kernel_size_(kernel_size), stride_(kernel_size) {}
  TT_ARG(ExpandingArray<2>, kernel_size);
  TT_ARG(ExpandingArray<2>, stride);
  TT_ARG(ExpandingArray<2>, padding) = 0;
  TT_ARG(ExpandingArray<2>, dilation) = 1;
  TT_ARG(bool, ceil_mode) = false;
};

struct AvgPool2dOptions {
  AvgPool2dOptions(ExpandingArray<2> kernel_size)  // NOLINT(google-explicit-constructor)
      : kernel_size_(kernel_size), stride_(kernel_size) {}
  TT_ARG(ExpandingArray<2>, kernel_size);
  TT_ARG(ExpandingArray<2>, stride);
  TT_ARG(ExpandingArray<2>, padding) = 0;
  TT_ARG(bool, ceil_mode) = false;
  // Whether zero padding counts in a window's divisor.
  TT_ARG(bool, count_include_pad) = true;
  // When set, every window divides by this instead.
  TT_ARG(std::optional<int64_t>, divisor_override) = std::nullopt;
};

struct AdaptiveAvgPool2dOptions {
  AdaptiveAvgPool2dOptions(ExpandingArray<2> output_size)  // NOLINT(google-explicit-constructor)
      : output_size_(output_size) {}
  TT_ARG(ExpandingArray<2>, output_size);
};

struct MaxPool1dOptions {
  MaxPool1dOptions(ExpandingArray<1> kernel_size)  // NOLINT(google-explicit-constructor)
      : kernel_size_(kernel_size), stride_(kernel_size) {}
  TT_ARG(ExpandingArray<1>, kernel_size);
  TT_ARG(ExpandingArray<1>, stride);
  TT_ARG(ExpandingArray<1>, padding) = 0;
  TT_ARG(ExpandingArray<1>, dilation) = 1;
  TT_ARG(bool, ceil_mode) = false;
};

struct AvgPool1dOptions {
  AvgPool1dOptions(ExpandingArray<1> kernel_size)  // NOLINT(google-explicit-constructor)
      : kernel_size_(kernel_size), stride_(kernel_size) {}
  TT_ARG(ExpandingArray<1>, kernel_size);
  TT_ARG(ExpandingArray<1>, stride);
  TT_ARG(ExpandingArray<1>, padding) = 0;
  TT_ARG(bool, ceil_mode) = false;
  TT_ARG(bool, count_include_pad) = true;
};

namespace functional {
// libtorch spells the functional options as aliases of the module options.
using MaxPool2dFuncOptions = MaxPool2dOptions;
using AvgPool2dFuncOptions = AvgPool2dOptions;
using AdaptiveAvgPool2dFuncOptions = AdaptiveAvgPool2dOptions;
using MaxPool1dFuncOptions = MaxPool1dOptions;
using AvgPool1dFuncOptions = AvgPool1dOptions;

Tensor max_pool2d(const Tensor& input, const MaxPool2dFuncOptions& options);
std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input,
                                                   const MaxPool2dFuncOptions& options);
Tensor avg_pool2d(const Tensor& input, const AvgPool2dFuncOptions& options);
Tensor adaptive_avg_pool2d(const Tensor& input, const AdaptiveAvgPool2dFuncOptions& options);
Tensor max_pool1d(const Tensor& input, const MaxPool1dFuncOptions& options);
std::tuple<Tensor, Tensor> max_pool1d_with_indices(const Tensor& input,
                                                   const MaxPool1dFuncOptions& options);
Tensor avg_pool1d(const Tensor& input, const AvgPool1dFuncOptions& options);

// The argument-list spellings too: F::max_pool2d(x, 2), F::adaptive_avg_pool2d(x, {1, 1}).
using tinytorch::adaptive_avg_pool2d;
using tinytorch::avg_pool1d;
using tinytorch::avg_pool2d;
using tinytorch::max_pool1d;
using tinytorch::max_pool1d_with_indices;
using tinytorch::max_pool2d;
using tinytorch::max_pool2d_with_indices;
}  // namespace functional

class MaxPool2dImpl : public Module {
 public:
  explicit MaxPool2dImpl(ExpandingArray<2> kernel_size)
      : MaxPool2dImpl(MaxPool2dOptions(kernel_size)) {}
  explicit MaxPool2dImpl(const MaxPool2dOptions& options);
  Tensor forward(const Tensor& input);
  // The values and where they came from (flat h·W + w inside each plane), for max_unpool.
  std::tuple<Tensor, Tensor> forward_with_indices(const Tensor& input);
  // "kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=false"
  std::string extra_repr() const override;

  MaxPool2dOptions options;
};
TT_MODULE(MaxPool2d);

class AvgPool2dImpl : public Module {
 public:
  explicit AvgPool2dImpl(ExpandingArray<2> kernel_size)
      : AvgPool2dImpl(AvgPool2dOptions(kernel_size)) {}
  explicit AvgPool2dImpl(const AvgPool2dOptions& options);
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "kernel_size=2, stride=2, padding=0" (as PyTorch)

  AvgPool2dOptions options;
};
TT_MODULE(AvgPool2d);

class AdaptiveAvgPool2dImpl : public Module {
 public:
  explicit AdaptiveAvgPool2dImpl(ExpandingArray<2> output_size)
      : AdaptiveAvgPool2dImpl(AdaptiveAvgPool2dOptions(output_size)) {}
  explicit AdaptiveAvgPool2dImpl(const AdaptiveAvgPool2dOptions& options);
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "output_size=(1, 1)"

  AdaptiveAvgPool2dOptions options;
};
TT_MODULE(AdaptiveAvgPool2d);

class MaxPool1dImpl : public Module {
 public:
  explicit MaxPool1dImpl(ExpandingArray<1> kernel_size)
      : MaxPool1dImpl(MaxPool1dOptions(kernel_size)) {}
  explicit MaxPool1dImpl(const MaxPool1dOptions& options);
  Tensor forward(const Tensor& input);
  // The values and where they came from (the position along L), for max_unpool.
  std::tuple<Tensor, Tensor> forward_with_indices(const Tensor& input);
  // "kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=false"
  std::string extra_repr() const override;

  MaxPool1dOptions options;
};
TT_MODULE(MaxPool1d);

class AvgPool1dImpl : public Module {
 public:
  explicit AvgPool1dImpl(ExpandingArray<1> kernel_size)
      : AvgPool1dImpl(AvgPool1dOptions(kernel_size)) {}
  explicit AvgPool1dImpl(const AvgPool1dOptions& options);
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "kernel_size=(3,), stride=(3,), padding=(0,)"

  AvgPool1dOptions options;
};
TT_MODULE(AvgPool1d);

}  // namespace tinytorch::nn
