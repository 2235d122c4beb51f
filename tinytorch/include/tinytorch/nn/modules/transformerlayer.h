// tinytorch/nn/modules/transformerlayer.h — libtorch's TransformerEncoderLayer and
// TransformerDecoderLayer: the layers of "Attention Is All You Need" (post-norm: each sublayer's
// output is added to its input, then normalised).
//
//   nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(512, 8).dropout(0.1));
//   Tensor y = layer(src);                               // src [S, N, E] → y [S, N, E]
//   y = layer(src, mask, padding);                       // mask [S, S], padding [N, S]
//
// SEQUENCE FIRST: [S, N, E] (sequence, batch, features), as libtorch's layers, which have no
// batch_first option (Python's default too). One encoder layer:
//
//   src ──┬─► self_attn(src, src, src) ─► dropout1 ─►(+)─► norm1 ─┬─► linear1 ─► activation ─►
//         └──────────────────────────────────────────┘            │   dropout ─► linear2 ─►
//                                                                  │   dropout2 ─►(+)─► norm2 ─►
//                                                                  out └──────────────┘
//
// The decoder layer adds, between the two, attention from the target to the encoder's output
// (memory): multihead_attn(x, memory, memory) ─► dropout2 ─►(+)─► norm2, and its feed-forward
// block ends in dropout3 and norm3.
//
// Masks (MultiheadAttention's conventions, attention.h): an attention mask [L, S] (or
// [N·nhead, L, S]) is bool — TRUE = may NOT attend — or float, added to the scores (−inf
// blocks); a key padding mask [N, S] is bool, TRUE = a padding key to ignore.
//
// The submodules are registered under libtorch's (= Python's) names, so a state_dict exported
// from PyTorch loads key for key: self_attn.in_proj_weight [3E, E], self_attn.out_proj.weight,
// linear1.weight [F, E], linear2.weight [E, F], norm1.weight, ... (F = dim_feedforward).
#pragma once

#include <memory>
#include <optional>

#include "tinytorch/nn/module.h"
#include "tinytorch/nn/modules/attention.h"
#include "tinytorch/nn/modules/dropout.h"
#include "tinytorch/nn/modules/linear.h"
#include "tinytorch/nn/modules/normalization.h"
#include "tinytorch/nn/options/transformerlayer.h"

namespace tinytorch::nn {

class TransformerEncoderLayerImpl : public Module {
 public:
  TransformerEncoderLayerImpl(int64_t d_model, int64_t nhead)
      : TransformerEncoderLayerImpl(TransformerEncoderLayerOptions(d_model, nhead)) {}
  explicit TransformerEncoderLayerImpl(TransformerEncoderLayerOptions options_);

  // src [S, N, E] (or unbatched [S, E]) → the same shape. src_mask: [S, S] attention mask;
  // src_key_padding_mask: [N, S] (see the masks above). Undefined tensors: no mask.
  Tensor forward(const Tensor& src, const Tensor& src_mask = {},
                 const Tensor& src_key_padding_mask = {});

  // Registers the submodules (the constructor calls it).
  void reset();
  // Draws every parameter again as a new layer would.
  void reset_parameters();
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;

  TransformerEncoderLayerOptions options;
  MultiheadAttention self_attn{nullptr};
  Linear linear1{nullptr};  // [dim_feedforward, E]
  Dropout dropout{nullptr};
  Linear linear2{nullptr};  // [E, dim_feedforward]
  LayerNorm norm1{nullptr};
  LayerNorm norm2{nullptr};
  Dropout dropout1{nullptr};
  Dropout dropout2{nullptr};
};
TT_MODULE(TransformerEncoderLayer);

class TransformerDecoderLayerImpl : public Module {
 public:
  TransformerDecoderLayerImpl(int64_t d_model, int64_t nhead)
      : TransformerDecoderLayerImpl(TransformerDecoderLayerOptions(d_model, nhead)) {}
  explicit TransformerDecoderLayerImpl(TransformerDecoderLayerOptions options_);

  // tgt [T, N, E], memory [S, N, E] (the encoder's output) → [T, N, E]. tgt_mask [T, T] (e.g.
  // Transformer's square subsequent mask), memory_mask [T, S], tgt_key_padding_mask [N, T],
  // memory_key_padding_mask [N, S].
  Tensor forward(Tensor tgt, const Tensor& memory, const Tensor& tgt_mask = {},
                 const Tensor& memory_mask = {}, const Tensor& tgt_key_padding_mask = {},
                 const Tensor& memory_key_padding_mask = {});

  void reset();
  void reset_parameters();
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;

  TransformerDecoderLayerOptions options;
  MultiheadAttention self_attn{nullptr};
  Dropout dropout1{nullptr};
  LayerNorm norm1{nullptr};
  MultiheadAttention multihead_attn{nullptr};
  Dropout dropout2{nullptr};
  LayerNorm norm2{nullptr};
  Linear linear1{nullptr};
  Dropout dropout{nullptr};
  Linear linear2{nullptr};
  Dropout dropout3{nullptr};
  LayerNorm norm3{nullptr};

 protected:
  // options.activation() applied to the feed-forward block's hidden layer.
  Tensor activation(const Tensor& input);
};
TT_MODULE(TransformerDecoderLayer);

}  // namespace tinytorch::nn
