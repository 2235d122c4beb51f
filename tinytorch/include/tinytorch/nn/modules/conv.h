// tinytorch/nn/modules/conv.h — Conv2d, Conv1d, ConvTranspose2d and their functional forms
// (module 09).
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
//
//   nn::Conv1d conv(nn::Conv1dOptions(16, 32, 3).padding(1));   x [N, 16, L] ──► [N, 32, L]
//     (conv2d on [N, 16, 1, L]; weight [32, 16, 3])
//
//   nn::ConvTranspose2d up(nn::ConvTranspose2dOptions(64, 32, 4).stride(2).padding(1));
//      x [N, 64, H, W] ──► y [N, 32, 2H, 2W]      weight [64, 32, 4, 4] (in, out/groups, kH, kW)
//   The transposed convolution is conv2d's input gradient run forward: every input pixel spreads
//   its kernel-weighted copy over a stride-spaced patch of the output (col2im(Wᵀ · x)), so it
//   maps conv2d's output shape back to its input shape — the upsampling layer of decoders.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

struct Conv1dOptions {
  Conv1dOptions(int64_t in_channels, int64_t out_channels, ExpandingArray<1> kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TT_ARG(int64_t, in_channels);
  TT_ARG(int64_t, out_channels);
  TT_ARG(ExpandingArray<1>, kernel_size);
  TT_ARG(ExpandingArray<1>, stride) = 1;
  TT_ARG(ExpandingArray<1>, padding) = 0;  // zeros at both ends of the sequence
  TT_ARG(ExpandingArray<1>, dilation) = 1;
  TT_ARG(int64_t, groups) = 1;
  TT_ARG(bool, bias) = true;
  TT_ARG(ScalarType, dtype) = kFloat32;
};

class Conv1dImpl : public Module {
 public:
  Conv1dImpl(int64_t in_channels, int64_t out_channels, ExpandingArray<1> kernel_size)
      : Conv1dImpl(Conv1dOptions(in_channels, out_channels, kernel_size)) {}
  explicit Conv1dImpl(const Conv1dOptions& options);

  // weight [out, in/groups, k], bias [out] (or undefined); initialised as Conv2d's.
  void reset();
  void reset_parameters();
  // input [N, in, L] or [in, L] → [N, out, P] (or [out, P]).
  Tensor forward(const Tensor& input);
  // "2, 4, kernel_size=(3,), stride=(2,)" (PyTorch's one-element tuples).
  std::string extra_repr() const override;

  Conv1dOptions options;
  Tensor weight;
  Tensor bias;
};
TT_MODULE(Conv1d);

struct ConvTranspose2dOptions {
  ConvTranspose2dOptions(int64_t in_channels, int64_t out_channels, ExpandingArray<2> kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TT_ARG(int64_t, in_channels);
  TT_ARG(int64_t, out_channels);
  TT_ARG(ExpandingArray<2>, kernel_size);
  TT_ARG(ExpandingArray<2>, stride) = 1;
  // dilation·(k − 1) − padding zeros around the input of the equivalent direct convolution: the
  // output loses `padding` rows/columns on each side.
  TT_ARG(ExpandingArray<2>, padding) = 0;
  // Rows/columns added at the bottom/right of the output, which the stride leaves ambiguous
  // (conv2d maps stride rows to one): must be < stride or < dilation.
  TT_ARG(ExpandingArray<2>, output_padding) = 0;
  TT_ARG(int64_t, groups) = 1;
  TT_ARG(bool, bias) = true;
  TT_ARG(ExpandingArray<2>, dilation) = 1;
  TT_ARG(ScalarType, dtype) = kFloat32;
};

class ConvTranspose2dImpl : public Module {
 public:
  ConvTranspose2dImpl(int64_t in_channels, int64_t out_channels, ExpandingArray<2> kernel_size)
      : ConvTranspose2dImpl(ConvTranspose2dOptions(in_channels, out_channels, kernel_size)) {}
  explicit ConvTranspose2dImpl(const ConvTranspose2dOptions& options);

  // weight [in, out/groups, kH, kW] (PyTorch's transposed layout), bias [out].
  void reset();
  // PyTorch's default, the rule of Conv2d on this weight: U(±1/√fan_in) for weight and bias,
  // fan_in = weight.size(1) · kH · kW = out/groups · kH · kW.
  void reset_parameters();
  // input [N, in, H, W] or [in, H, W] → [N, out, H_out, W_out]. output_size ({H_out, W_out}, or
  // the whole output shape) picks output_padding: any size from the smallest, (H − 1)·stride −
  // 2·padding + dilation·(kH − 1) + 1, to stride − 1 more (libtorch's forward(input,
  // output_size)).
  Tensor forward(const Tensor& input, const std::optional<IntArrayRef>& output_size = std::nullopt);
  // "64, 32, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1)" (PyTorch's order: padding,
  // dilation, output_padding, groups, bias only when not the defaults).
  std::string extra_repr() const override;

  ConvTranspose2dOptions options;
  Tensor weight;
  Tensor bias;

 private:
  // output_padding for forward's output_size (options.output_padding() without one).
  std::vector<int64_t> output_padding_for(const Tensor& input,
                                          const std::optional<IntArrayRef>& output_size) const;
};
TT_MODULE(ConvTranspose2d);

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

// libtorch's Conv1dFuncOptions.
struct Conv1dFuncOptions {
  TT_ARG(Tensor, bias);
  TT_ARG(ExpandingArray<1>, stride) = 1;
  TT_ARG(ExpandingArray<1>, padding) = 0;
  TT_ARG(ExpandingArray<1>, dilation) = 1;
  TT_ARG(int64_t, groups) = 1;
};
Tensor conv1d(const Tensor& input, const Tensor& weight, const Conv1dFuncOptions& options = {});

// libtorch's ConvTranspose2dFuncOptions (its field order).
struct ConvTranspose2dFuncOptions {
  TT_ARG(Tensor, bias);
  TT_ARG(ExpandingArray<2>, stride) = 1;
  TT_ARG(ExpandingArray<2>, padding) = 0;
  TT_ARG(ExpandingArray<2>, output_padding) = 0;
  TT_ARG(int64_t, groups) = 1;
  TT_ARG(ExpandingArray<2>, dilation) = 1;
};
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight,
                        const ConvTranspose2dFuncOptions& options = {});

}  // namespace functional

}  // namespace tinytorch::nn
