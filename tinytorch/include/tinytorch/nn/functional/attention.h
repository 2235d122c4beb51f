// tinytorch/nn/functional/attention.h — module 12's differentiable attention ops (libtorch's
// torch::scaled_dot_product_attention and Tensor::masked_fill; the nn::functional spelling with
// FuncOptions, F::scaled_dot_product_attention, lives next to nn::MultiheadAttention in
// nn/modules/attention.h).
//
//   query [*, L, E] ──┐
//   key   [*, S, E] ──┼─► softmax(query·keyᵀ·scale + mask) · value ──► [*, L, Ev]
//   value [*, S, Ev] ─┘
#pragma once

#include <optional>

#include "tinytorch/core/tensor.h"

namespace tinytorch {

// PyTorch 2's torch.nn.functional.scaled_dot_product_attention, with these semantics:
//   * query, key, value have the same number of dims (≥ 2) and equal batch dims (the *);
//   * attn_mask (optional) broadcasts to [*, L, S]: bool → true = may attend (false = −∞);
//     floating (the query's dtype) → added to the scores, and differentiable;
//   * is_causal: query i may attend to key j ≤ i + (S − L). With L == S that is the lower
//     triangle; with L < S (decoding with a KV cache) the queries are the LAST L positions —
//     bottom-right aligned, a documented divergence from PyTorch (top-left: j ≤ i). It may be
//     combined with attn_mask (both apply);
//   * scale: 1/√E unless given;
//   * a query row whose every key is masked gives 0 (and 0 gradients), never NaN;
//   * dropout_p: the attention weights are dropped with probability dropout_p (kept ones scaled
//     by 1/(1 − p)), drawn from the global generator — whenever dropout_p > 0, with or without
//     grad mode (NoGradGuard stops the graph, not the dropout). As in PyTorch there is no
//     `training` flag: modules pass dropout_p = is_training() ? p : 0 (nn::MultiheadAttention
//     and the GPT's attention do), so eval() turns it off.
// Differentiable w.r.t. query, key, value and a floating attn_mask.
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask = {}, double dropout_p = 0.0,
                                    bool is_causal = false,
                                    std::optional<double> scale = std::nullopt);

// masked_fill(scores, padding, −∞) is Tensor::masked_fill's free form (core/tensor.h).

}  // namespace tinytorch
