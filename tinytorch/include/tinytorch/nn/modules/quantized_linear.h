// tinytorch/nn/modules/quantized_linear.h — the dynamically quantized Linear (module 15) and
// quantize_dynamic, which swaps it in for every Linear of a Sequential.
//
//   nn::Sequential mlp(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 10));   // trained
//   nn::Sequential q = quantization::quantize_dynamic(mlp);
//   Tensor logits = q->forward(x);          // int8 GEMMs inside, float32 in and out
//
//      x [*, K] float ──► min/max ──► q_x uint8 [0,127] ──► C = q_x · q_wᵀ (int32) ──► y [*, N]
//                                                          q_w int8, packed once    float
//
// PyTorch: torch.ao.nn.quantized.dynamic.Linear and torch.ao.quantization.quantize_dynamic(model,
// {nn.Linear}, dtype=torch.qint8). The computation is kernels::dynamic_quant_linear (chapter 15,
// Part 6); this file only gives it a module's shape.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "tinytorch/kernels/qgemm.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/nn/modules/container.h"
#include "tinytorch/nn/modules/linear.h"

namespace tinytorch::nn::quantized::dynamic {

// An inference-only Linear whose weight is int8 (symmetric, one scale per output channel, or one
// for the tensor) and whose activations are quantized to uint8 on every call from that batch's
// range. It has no parameters: nothing in it trains.
class LinearImpl : public Module {
 public:
  // Quantizes `linear`'s float32 weight once, with module 15's weight observer (symmetric int8
  // over [−127, 127]: scale = max|w| / 127 per output row, or over the tensor) and
  // quantize_per_channel / quantize_per_tensor, then builds the layer with the constructor below
  // (bias copied). Errors: a weight that is not float32, empty, or not finite.
  explicit LinearImpl(const nn::LinearImpl& linear, bool per_channel = true);
  // From weights quantized earlier (a model file, module 20): weight int8 [out, in] in
  // [−127, 127], weight_scales float32 [out] (per channel) or [1], bias float32 [out] or
  // undefined.
  LinearImpl(const Tensor& weight, const Tensor& weight_scales, const Tensor& bias);

  // input [*, in_features] float32 → [*, out_features] float32. Not differentiable: an input
  // that requires grad while grad mode is on is refused.
  Tensor forward(const Tensor& input);

  int64_t in_features() const { return layer_.weight.in_features; }
  int64_t out_features() const { return layer_.weight.out_features; }
  bool per_channel() const { return per_channel_; }
  // What the constructor above takes, as new tensors: int8 [out, in] (unpacked), float32 scales
  // [out] or [1], float32 bias [out] or undefined.
  Tensor weight() const;
  Tensor weight_scales() const;
  Tensor bias() const;
  // The bytes the layer keeps: packed int8 weight, row sums, scales and bias (the float Linear
  // keeps 4·(out·in + out)).
  int64_t nbytes() const;
  // "in_features=784, out_features=256, dtype=torch.qint8, qscheme=torch.per_channel_symmetric"
  std::string extra_repr() const override;

 private:
  // The first constructor's delegate: (int8 weight, scales) from its observer, and the bias.
  LinearImpl(const std::pair<Tensor, Tensor>& weight_and_scales, const Tensor& bias);

  kernels::DynamicQuantLinear layer_;
  bool per_channel_;
};
TT_MODULE(Linear);

}  // namespace tinytorch::nn::quantized::dynamic

namespace tinytorch::quantization {

// A new Sequential in which every nn::Linear (also inside nested Sequentials) is replaced by a
// dynamically quantized one; the other modules are the same objects, shared with `model` (they
// hold no weights that quantization changes). PyTorch's quantize_dynamic with inplace=False
// deep-copies instead. Only Sequential: a C++ module that calls its Linear members directly
// cannot have them swapped from outside — build nn::quantized::dynamic::Linear(fc) in it instead.
nn::Sequential quantize_dynamic(const nn::Sequential& model, bool per_channel = true);

}  // namespace tinytorch::quantization
