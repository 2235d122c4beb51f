// tinytorch/nn/modules/attention.h — MultiheadAttention and F::scaled_dot_product_attention
// (module 12).
//
//   nn::MultiheadAttention mha(nn::MultiheadAttentionOptions(64, 4).batch_first(true));
//   auto [out, weights] = mha->forward(x, x, x);      // E = 64, 4 heads of 16:
//                                                     // x [B, T, 64] → out [B, T, 64],
//                                                     //               weights [B, T, T]
//
//   query [B, L, E] ─┐  in_proj_weight [3E, E]: rows 0..E project queries, E..2E keys, 2E..3E
//   values key   [B, S, E] ─┼─► q [B, L, E], k [B, S, E], v [B, S, E] value [B, S, E] ─┘        │
//   view [B, L, H, hd] and transpose: one problem per head
//                             ▼
//                   q [B, H, L, hd], k, v [B, H, S, hd]   (hd = E / H)
//                             │ scaled_dot_product_attention (masks, causal, dropout)
//                             ▼
//                   [B, H, L, hd] ─transpose, reshape─► [B, L, E] ─out_proj (Linear E → E)─► out
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

#include "tinytorch/core/scalar_type.h"
#include "tinytorch/nn/functional/attention.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/nn/modules/linear.h"

namespace tinytorch::nn {

namespace functional {
struct ScaledDotProductAttentionFuncOptions {
  // bool (true = may attend) or additive, broadcastable to [*, L, S].
  TT_ARG(Tensor, attn_mask);
  TT_ARG(double, dropout_p) = 0.0;
  TT_ARG(bool, is_causal) = false;
  // 1/√E when not given.
  TT_ARG(std::optional<double>, scale) = std::nullopt;
};
// F::scaled_dot_product_attention(q, k, v,
// F::ScaledDotProductAttentionFuncOptions().is_causal(true))
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const ScaledDotProductAttentionFuncOptions& options);
using tinytorch::masked_fill;
using tinytorch::scaled_dot_product_attention;
}  // namespace functional

struct MultiheadAttentionOptions {
  MultiheadAttentionOptions(int64_t embed_dim, int64_t num_heads)
      : embed_dim_(embed_dim), num_heads_(num_heads) {}
  // E: the size of every token vector in and out; a multiple of num_heads.
  TT_ARG(int64_t, embed_dim);
  TT_ARG(int64_t, num_heads);
  // Dropout on the attention weights, in training only.
  TT_ARG(double, dropout) = 0.0;
  // Whether in_proj and out_proj learn biases.
  TT_ARG(bool, bias) = true;
  // false: inputs and output are [T, B, E] (sequence first) — PyTorch's default and the only
  // layout of libtorch's MultiheadAttention, which has no such option: a libtorch program's
  // mha(q, k, v) on [L, N, E] must mean the same here. true: [B, T, E] (batch first, as every
  // model in this course writes it).
  TT_ARG(bool, batch_first) = false;
  // The parameters' dtype (as LinearOptions::dtype).
  TT_ARG(ScalarType, dtype) = kFloat32;
};

// PyTorch's nn.MultiheadAttention (same parameter names and initialisation, so a state_dict
// exported from PyTorch loads): in_proj_weight [3E, E] xavier_uniform, in_proj_bias [3E] zeros,
// out_proj Linear(E, E) with its bias zeroed.
class MultiheadAttentionImpl : public Module {
 public:
  MultiheadAttentionImpl(int64_t embed_dim, int64_t num_heads)
      : MultiheadAttentionImpl(MultiheadAttentionOptions(embed_dim, num_heads)) {}
  explicit MultiheadAttentionImpl(const MultiheadAttentionOptions& options);

  void reset();
  void reset_parameters();

  // query [B, L, E], key [B, S, E], value [B, S, E] (or [L, E] / [S, E] unbatched; [T, B, E]
  // when !batch_first). Returns (output [B, L, E], weights) where weights are the attention
  // probabilities averaged over the heads [B, L, S] (average_attn_weights) or per head
  // [B, H, L, S] — an undefined tensor when need_weights is false (the fast path: no L×S
  // weights are ever built then).
  //   key_padding_mask [B, S]: bool, TRUE = IGNORE that key (a padding token), or additive.
  //   attn_mask [L, S] or [B·H, L, S]: bool, TRUE = NOT allowed (PyTorch's MultiheadAttention
  //     convention — the opposite of scaled_dot_product_attention's), or additive.
  //   is_causal: also apply the causal mask (key j visible to query i when j ≤ i + S − L).
  // A query whose every key is masked outputs out_proj's bias (its attention is 0), not NaN;
  // its weights are 0.
  std::tuple<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                     const Tensor& key_padding_mask = {}, bool need_weights = true,
                                     const Tensor& attn_mask = {}, bool average_attn_weights = true,
                                     bool is_causal = false);
  // "embed_dim=64, num_heads=4, dropout=0, bias=true, batch_first=false"
  std::string extra_repr() const override;

  // A deep copy (Module::clone): a new layer from the same options, given this one's tensors.
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;

  MultiheadAttentionOptions options;
  int64_t head_dim = 0;
  Tensor in_proj_weight;  // [3E, E]
  Tensor in_proj_bias;    // [3E], undefined without bias
  Linear out_proj{nullptr};
};
TT_MODULE(MultiheadAttention);

}  // namespace tinytorch::nn
