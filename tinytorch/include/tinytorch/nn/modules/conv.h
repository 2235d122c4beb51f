// tinytorch/nn/modules/conv.h — Conv2d and its functional form (module 09).
//
//   nn::Conv2d conv(nn::Conv2dOptions(1, 6, 5).padding(2));      LeNet-5's first layer
//
//      x [N, 1, 28, 28] ──► ┌─────────────────────────────────┐ ──► y [N, 6, 28, 28]
//                           │ weight [6, 1, 5, 5] (out, in/groups, kH, kW)
//                           │ bias   [6]                       │  kaiming_uniform_(a = √5) and
//                           └─────────────────────────────────┘  U(±1/√fan_in), as PyTorch
//
//   fan_in = in_channels / groups · kH · kW  (the inputs one output value sums over: 25 here)
//   parameters = out · in/groups · kH · kW + out   (156 here)
//
//   namespace F = tinytorch::nn::functional;
//   F::conv2d(x, w, F::Conv2dFuncOptions().bias(b).stride(2).padding(1));
#pragma once

#include <cstdint>
#include <string>

#include "tinytorch/core/scalar_type.h"
#include "tinytorch/nn/expanding_array.h"
#include "tinytorch/nn/module.h"

namespace tinytorch::nn {

struct Conv2dOptions {
  Conv2dOptions(int64_t in_channels, int64_t out_channels, ExpandingArray<2> kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TT_ARG(int64_t, in_channels);
  TT_ARG(int64_t, out_channels);
  TT_ARG(ExpandingArray<2>, kernel_size);
  TT_ARG(ExpandingArray<2>, stride) = 1;
  // Zeros added on each side of each spatial dim.
  TT_ARG(ExpandingArray<2>, padding) = 0;
  // The spacing between kernel taps: a 3×3 kernel with dilation 2 covers 5×5 pixels.
  TT_ARG(ExpandingArray<2>, dilation) = 1;
  // Split the channels into `groups` independent convolutions (groups = in = out: depthwise).
  TT_ARG(int64_t, groups) = 1;
  TT_ARG(bool, bias) = true;
  // The parameters' dtype (Python's dtype= factory argument).
  TT_ARG(ScalarType, dtype) = kFloat32;
};

class Conv2dImpl : public Module {
 public:
  Conv2dImpl(int64_t in_channels, int64_t out_channels, ExpandingArray<2> kernel_size)
      : Conv2dImpl(Conv2dOptions(in_channels, out_channels, kernel_size)) {}
  explicit Conv2dImpl(const Conv2dOptions& options);

  // (Re)creates and registers weight [out, in/groups, kH, kW] and bias [out] (or an undefined
  // bias), then initialises them.
  void reset();
  // PyTorch's default: weight by kaiming_uniform_(a = √5) = U(±1/√fan_in), bias U(±1/√fan_in),
  // fan_in = in_channels / groups · kH · kW.
  void reset_parameters();
  // input [N, in, H, W] or [in, H, W] → [N, out, P, Q] (or [out, P, Q]). An input with the wrong
  // dimensionality or channel count gets an error naming this layer.
  Tensor forward(const Tensor& input);
  // As PyTorch prints it: "1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2)" — padding,
  // dilation, groups and bias only when they differ from the defaults.
  std::string extra_repr() const override;

  Conv2dOptions options;
  Tensor weight;
  Tensor bias;  // undefined when options.bias() is false
};
TT_MODULE(Conv2d);

namespace functional {

// libtorch's torch::nn::functional::Conv2dFuncOptions.
struct Conv2dFuncOptions {
  TT_ARG(Tensor, bias);
  TT_ARG(ExpandingArray<2>, stride) = 1;
  TT_ARG(ExpandingArray<2>, padding) = 0;
  TT_ARG(ExpandingArray<2>, dilation) = 1;
  TT_ARG(int64_t, groups) = 1;
};

// tinytorch::conv2d(input, weight, options.bias(), options.stride(), ...).
Tensor conv2d(const Tensor& input, const Tensor& weight, const Conv2dFuncOptions& options = {});

}  // namespace functional

}  // namespace tinytorch::nn
