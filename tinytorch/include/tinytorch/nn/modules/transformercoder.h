// tinytorch/nn/modules/transformercoder.h — libtorch's TransformerEncoder and TransformerDecoder:
// num_layers clones of one layer, run in turn, and an optional final norm; and Transformer, the
// encoder-decoder model made of one of each.
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
//
//   nn::Transformer model(nn::TransformerOptions(512, 8));
//   Tensor out = model(src, tgt, {}, nn::TransformerImpl::generate_square_subsequent_mask(T));
//
//   src [S, N, E] ─► encoder (layers + LayerNorm) ─► memory [S, N, E] ─┐
//   tgt [T, N, E] ─► decoder (layers + LayerNorm, attending to memory) ◄┘─► out [T, N, E]
#pragma once

#include <memory>
#include <optional>

#include "tinytorch/nn/module.h"
#include "tinytorch/nn/modules/container.h"
#include "tinytorch/nn/modules/transformerlayer.h"
#include "tinytorch/nn/options/transformer.h"
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

class TransformerImpl : public Module {
 public:
  explicit TransformerImpl(TransformerOptions options_);

  // src [S, N, E], tgt [T, N, E] → [T, N, E]: memory = encoder(src, src_mask,
  // src_key_padding_mask), then decoder(tgt, memory, tgt_mask, memory_mask,
  // tgt_key_padding_mask, memory_key_padding_mask). Masks as the layers' (transformerlayer.h).
  Tensor forward(const Tensor& src, const Tensor& tgt, const Tensor& src_mask = {},
                 const Tensor& tgt_mask = {}, const Tensor& memory_mask = {},
                 const Tensor& src_key_padding_mask = {}, const Tensor& tgt_key_padding_mask = {},
                 const Tensor& memory_key_padding_mask = {});

  // Builds and registers "encoder" and "decoder" (or clones of the custom ones), then
  // reset_parameters() (the constructor calls it).
  void reset();
  // Python's nn.Transformer init: xavier_uniform_ on every parameter of 2 or more dims.
  void reset_parameters();
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;

  // [sz, sz] float32: 0 on and below the diagonal, −inf above — position i attends to 0 … i.
  static Tensor generate_square_subsequent_mask(int64_t sz);

  TransformerOptions options;
  AnyModule encoder;  // a TransformerEncoder unless options.custom_encoder() is given
  AnyModule decoder;  // a TransformerDecoder unless options.custom_decoder() is given
};
TT_MODULE(Transformer);

}  // namespace tinytorch::nn
