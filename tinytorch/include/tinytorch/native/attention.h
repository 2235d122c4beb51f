// tinytorch/native/attention.h — module 12's attention kernels (ATen's
// _scaled_dot_product_flash_attention and its backward, at teaching scale), over the last two
// dims of query [*, L, E], key [*, S, E], value [*, S, Ev] (the * batch dims equal):
//
//   scores = query·keyᵀ·scale + mask  (−∞ where is_causal forbids)      [*, L, S]
//   P      = softmax(scores) over the keys, ⊙ dropout_mask when defined  [*, L, S]
//   out    = P·value                                                     [*, L, Ev]
//
// The forward also returns logsumexp [*, L] = log Σ_j exp(scores[i, j]) — the only thing about P
// the backward needs to rebuild it (kernels/attention.h). A fully masked row has logsumexp −∞ and
// out 0. The public, differentiable op is tinytorch::scaled_dot_product_attention
// (nn/functional/attention.h).
#pragma once

#include <array>
#include <optional>
#include <tuple>

#include "tinytorch/core/tensor.h"

namespace tinytorch::native {

// (out, logsumexp). attn_mask: undefined, bool (true = may attend) or of the query's dtype
// (added), broadcastable to [*, L, S]. dropout_mask: undefined, or [*, L, S] of the query's dtype
// holding 0 (dropped) or 1/(1 − p) (kept): P is multiplied by it after the softmax.
std::tuple<Tensor, Tensor> scaled_dot_product_attention_forward(
    const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& attn_mask,
    const Tensor& dropout_mask, bool is_causal, double scale);

// (grad_query, grad_key, grad_value, grad_scores) given grad_out [*, L, Ev] and the forward's
// inputs and results. output_mask says which are wanted (an unwanted one is undefined);
// grad_scores is ∂L/∂scores [*, L, S] — the gradient of a float attn_mask before it is summed
// over the dims the mask was broadcast along.
std::tuple<Tensor, Tensor, Tensor, Tensor> scaled_dot_product_attention_backward(
    const Tensor& grad_out, const Tensor& query, const Tensor& key, const Tensor& value,
    const Tensor& attn_mask, const Tensor& dropout_mask, const Tensor& out, const Tensor& logsumexp,
    bool is_causal, double scale, std::array<bool, 4> output_mask);

// The default scale, 1/√E, or `scale` when given; checks that it is finite.
double attention_scale(const Tensor& query, std::optional<double> scale);

// self with `value` written where mask (bool, broadcastable to self's shape) is true.
Tensor masked_fill(const Tensor& self, const Tensor& mask, const Scalar& value);

}  // namespace tinytorch::native
