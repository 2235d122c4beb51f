// tinytorch/nn/modules/transformercoder.h — libtorch's TransformerEncoder and TransformerDecoder:
// num_layers clones of one layer, run in turn, and an optional final norm.
//
//   nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(512, 8));
//   nn::TransformerEncoder encoder(layer, 6);       // layers.0 … layers.5, each a copy of layer
//   Tensor memory = encoder(src);                  // src [S, N, E] → [S, N, E]
//
//   src ─► layers.0 ─► layers.1 ─► … ─► layers.{L−1} ─► norm (if given) ─► out
//          (every layer gets the same src_mask and src_key_padding_mask)
//
// state_dict keys: layers.0.self_attn.in_proj_weight, …, layers.5.norm2.bias, norm.weight —
// Python's nn.TransformerEncoder's, so its weights load by name.
#pragma once

#include <memory>
#include <optional>

#include "tinytorch/nn/module.h"
#include "tinytorch/nn/modules/container.h"
#include "tinytorch/nn/modules/transformerlayer.h"
#include "tinytorch/nn/options/transformercoder.h"

namespace tinytorch::nn {

class TransformerEncoderImpl : public Module {
 public:
  TransformerEncoderImpl(TransformerEncoderLayer encoder_layer, int64_t num_layers)
      : TransformerEncoderImpl(TransformerEncoderOptions(std::move(encoder_layer), num_layers)) {}
  explicit TransformerEncoderImpl(TransformerEncoderOptions options_);

  // src [S, N, E] → [S, N, E]; the masks as TransformerEncoderLayer::forward's. With no layers,
  // src itself (through norm, if any).
  Tensor forward(const Tensor& src, const Tensor& src_mask = {},
                 const Tensor& src_key_padding_mask = {});

  // Registers num_layers clones of options.encoder_layer() as "layers" and a clone of
  // options.norm() as "norm" (the constructor calls it).
  void reset();
  // Draws every layer's parameters again and replaces norm by a fresh clone of options.norm().
  void reset_parameters();
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;

  TransformerEncoderOptions options;
  ModuleList layers{nullptr};  // TransformerEncoderLayerImpl each
  AnyModule norm;              // empty when options.norm() is
};
TT_MODULE(TransformerEncoder);

class TransformerDecoderImpl : public Module {
 public:
  TransformerDecoderImpl(TransformerDecoderLayer decoder_layer, int64_t num_layers)
      : TransformerDecoderImpl(TransformerDecoderOptions(std::move(decoder_layer), num_layers)) {}
  explicit TransformerDecoderImpl(TransformerDecoderOptions options_);

  // tgt [T, N, E], memory [S, N, E] → [T, N, E]; every layer sees the same memory and masks.
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = {},
                 const Tensor& memory_mask = {}, const Tensor& tgt_key_padding_mask = {},
                 const Tensor& memory_key_padding_mask = {});

  void reset();
  void reset_parameters();
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;

  TransformerDecoderOptions options;
  ModuleList layers{nullptr};  // TransformerDecoderLayerImpl each
  AnyModule norm;
};
TT_MODULE(TransformerDecoder);

}  // namespace tinytorch::nn
