// nn::MultiheadAttention and F::scaled_dot_product_attention (module 12): the projections, the
// head split and merge, and PyTorch's mask conventions around
// tinytorch::scaled_dot_product_attention (src/native/attention.cpp), which does the arithmetic.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/nn/init.h"
#include "tinytorch/nn/modules/attention.h"

namespace tinytorch::nn {

using detail::python_float_repr;

namespace functional {

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const ScaledDotProductAttentionFuncOptions& options) {
  return tinytorch::scaled_dot_product_attention(query, key, value, options.attn_mask(),
                                                 options.dropout_p(), options.is_causal(),
                                                 options.scale());
}

}  // namespace functional

MultiheadAttentionImpl::MultiheadAttentionImpl(const MultiheadAttentionOptions& options_)
    : Module("MultiheadAttention"), options(options_) {
  const int64_t E = options.embed_dim(), H = options.num_heads();
  TT_CHECK_VALUE(E > 0 && H > 0,
                 "MultiheadAttention: embed_dim and num_heads must be positive, but got "
                 "embed_dim=",
                 E, ", num_heads=", H);
  TT_CHECK_VALUE(E % H == 0,
                 "MultiheadAttention: embed_dim must be divisible by num_heads, but got embed_dim=",
                 E, ", num_heads=", H, " (each head gets embed_dim / num_heads features)");
  TT_CHECK_VALUE(options.dropout() >= 0.0 && options.dropout() <= 1.0,
                 "MultiheadAttention: dropout probability has to be between 0 and 1, but got ",
                 options.dropout());
  TT_CHECK_TYPE(is_floating_point(options.dtype()),
                "MultiheadAttention: the parameters must have a floating-point dtype, but got ",
                options.dtype());
  reset();
}

void MultiheadAttentionImpl::reset() {
  const int64_t E = options.embed_dim();
  head_dim = E / options.num_heads();
  in_proj_weight = register_parameter("in_proj_weight", empty({3 * E, E}, options.dtype()));
  in_proj_bias = options.bias()
                     ? register_parameter("in_proj_bias", empty({3 * E}, options.dtype()))
                     : register_parameter("in_proj_bias", Tensor(), /*requires_grad=*/false);
  out_proj = register_module(
      "out_proj", Linear(LinearOptions(E, E).bias(options.bias()).dtype(options.dtype())));
  reset_parameters();
}

void MultiheadAttentionImpl::reset_parameters() {
  // PyTorch's _reset_parameters: xavier_uniform_ on the stacked [3E, E] projection, zero biases
  // (out_proj's weight keeps Linear's kaiming-uniform initialisation).
  init::xavier_uniform_(in_proj_weight);
  if (in_proj_bias.defined()) init::zeros_(in_proj_bias);
  if (out_proj->bias.defined()) init::zeros_(out_proj->bias);
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// A mask as scaled_dot_product_attention reads it: bool true = MAY attend, or additive.
// PyTorch's MultiheadAttention masks say the opposite for bool (true = ignore), hence the flip.
Tensor may_attend(const Tensor& mask) {
  return mask.dtype() == kBool ? mask.eq(false) : mask;
}

Tensor additive(const Tensor& allowed_or_additive, ScalarType dtype) {
  if (allowed_or_additive.dtype() != kBool) return allowed_or_additive;
  return where(allowed_or_additive, zeros({}, dtype), full({}, -kInf, dtype));
}

// The one mask [B or 1, H or 1, L, S] for scaled_dot_product_attention from the two PyTorch
// masks: bool when both are bool (true = may attend: a key must be allowed by both), else the
// sum of their additive forms. Undefined when there is neither.
Tensor combine_masks(const Tensor& attn, const Tensor& padding, ScalarType dtype) {
  if (!attn.defined() || !padding.defined()) return attn.defined() ? attn : padding;
  if (attn.dtype() == kBool && padding.dtype() == kBool) {
    return where(attn, padding, zeros({}, kBool));
  }
  return additive(attn, dtype) + additive(padding, dtype);
}

}  // namespace

std::tuple<Tensor, Tensor> MultiheadAttentionImpl::forward(
    const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& key_padding_mask,
    bool need_weights, const Tensor& attn_mask, bool average_attn_weights, bool is_causal) {
  const std::string layer = "MultiheadAttention(" + extra_repr() + ")";
  const int64_t E = options.embed_dim(), H = options.num_heads(), hd = head_dim;
  TT_CHECK(query.defined() && key.defined() && value.defined(), layer,
           ": query, key and value must be defined tensors");
  const bool batched = query.dim() == 3;
  TT_CHECK((query.dim() == 2 || batched) && key.dim() == query.dim() && value.dim() == query.dim(),
           layer, ": expected query [B, L, E], key [B, S, E] and value [B, S, E] (or all 2-D, ",
           "unbatched), but got query ", query.sizes(), ", key ", key.sizes(), " and value ",
           value.sizes());
  TT_CHECK_TYPE(query.dtype() == in_proj_weight.dtype() && key.dtype() == query.dtype() &&
                    value.dtype() == query.dtype(),
                layer, ": expected query, key and value of the layer's dtype ",
                in_proj_weight.dtype(), ", but got ", query.dtype(), ", ", key.dtype(), " and ",
                value.dtype());
  // [B, T, E] from here on.
  const auto batch_first = [&](const Tensor& t) {
    if (!batched) return t.unsqueeze(0);
    return options.batch_first() ? t : t.transpose(0, 1);
  };
  const Tensor q_in = batch_first(query), k_in = batch_first(key), v_in = batch_first(value);
  const int64_t B = q_in.size(0), L = q_in.size(1), S = k_in.size(1);
  TT_CHECK(q_in.size(2) == E && k_in.size(2) == E && v_in.size(2) == E, layer,
           ": expected query, key and value with embed_dim ", E,
           " features in their last dim, but got query ", query.sizes(), ", key ", key.sizes(),
           " and value ", value.sizes());
  TT_CHECK(k_in.size(0) == B && v_in.size(0) == B && v_in.size(1) == S, layer,
           ": key and value must have the query's batch size and the same length S, but got "
           "query ",
           query.sizes(), ", key ", key.sizes(), " and value ", value.sizes());

  // The masks, checked against PyTorch's shapes and brought to [B or 1, H or 1, L, S].
  Tensor padding, attn;
  if (key_padding_mask.defined()) {
    const bool shape_ok = batched ? key_padding_mask.sizes() == IntArrayRef({B, S})
                                  : key_padding_mask.sizes() == IntArrayRef({S});
    TT_CHECK(shape_ok, layer, ": expected key_padding_mask of shape ",
             batched ? IntArrayRef({B, S}) : IntArrayRef({S}),
             " ([B, S], true = ignore that key), but got ", key_padding_mask.sizes());
    TT_CHECK_TYPE(key_padding_mask.dtype() == kBool || key_padding_mask.dtype() == query.dtype(),
                  layer, ": key_padding_mask must be bool (true = ignore) or of the query's dtype ",
                  query.dtype(), ", but got ", key_padding_mask.dtype());
    padding = may_attend(key_padding_mask).reshape({B, 1, 1, S});
  }
  if (attn_mask.defined()) {
    const bool shape_ok =
        attn_mask.sizes() == IntArrayRef({L, S}) || attn_mask.sizes() == IntArrayRef({B * H, L, S});
    TT_CHECK(shape_ok, layer, ": expected attn_mask of shape [L, S] = [", L, ", ", S,
             "] or [B·num_heads, L, S] = [", B * H, ", ", L, ", ", S, "], but got ",
             attn_mask.sizes());
    TT_CHECK_TYPE(attn_mask.dtype() == kBool || attn_mask.dtype() == query.dtype(), layer,
                  ": attn_mask must be bool (true = not allowed) or of the query's dtype ",
                  query.dtype(), ", but got ", attn_mask.dtype());
    attn = may_attend(attn_mask);
    attn = attn.dim() == 2 ? attn.reshape({1, 1, L, S}) : attn.reshape({B, H, L, S});
  }
  const Tensor mask = combine_masks(attn, padding, query.dtype());

  // The projections: q = query·W_qᵀ + b_q etc., W_q = rows 0..E of in_proj_weight. Self-attention
  // (one tensor for all three) does it as one [B·L, E] × [E, 3E] product.
  const auto rows = [&](const Tensor& t, int64_t i) {
    return t.defined() ? t.narrow(0, i * E, E) : Tensor();
  };
  Tensor q, k, v;
  if (query.is_same(key) && key.is_same(value)) {
    const Tensor qkv = linear(q_in, in_proj_weight, in_proj_bias);  // [B, L, 3E]
    q = qkv.narrow(2, 0, E);
    k = qkv.narrow(2, E, E);
    v = qkv.narrow(2, 2 * E, E);
  } else {
    q = linear(q_in, rows(in_proj_weight, 0), rows(in_proj_bias, 0));
    k = linear(k_in, rows(in_proj_weight, 1), rows(in_proj_bias, 1));
    v = linear(v_in, rows(in_proj_weight, 2), rows(in_proj_bias, 2));
  }
  // [B, T, E] → [B, T, H, hd] → [B, H, T, hd]: head h owns features h·hd .. (h+1)·hd.
  const auto heads = [&](const Tensor& t, int64_t T) {
    return t.reshape({B, T, H, hd}).transpose(1, 2);
  };
  q = heads(q, L);
  k = heads(k, S);
  v = heads(v, S);
  const double p = is_training() ? options.dropout() : 0.0;
  const Tensor attended = scaled_dot_product_attention(q, k, v, mask, p, is_causal);
  // [B, H, L, hd] → [B, L, H, hd] → [B, L, E]: the heads side by side again.
  Tensor out = out_proj->forward(attended.transpose(1, 2).reshape({B, L, E}));
  out = !batched ? out.squeeze(0) : options.batch_first() ? out : out.transpose(0, 1);

  Tensor weights;
  if (need_weights) {
    // softmax(q·kᵀ/√hd + mask) [B, H, L, S], built explicitly — the L×S matrix the attention
    // itself never keeps. Rows with no allowed key are 0, as in the attention. (The weights are
    // taken before dropout.)
    Tensor scores = q.matmul(k.transpose(-2, -1)) / std::sqrt(static_cast<double>(hd));
    if (mask.defined()) scores = scores + additive(mask, query.dtype());
    if (is_causal) {
      const Tensor i = arange(L).reshape({L, 1}), j = arange(S).reshape({1, S});
      scores = masked_fill(scores, j > i + (S - L), -kInf);
    }
    Tensor dead;
    {
      const NoGradGuard no_grad;
      dead = std::get<0>(scores.max(-1, true)) == -kInf;  // [B, H, L, 1]
    }
    weights = masked_fill(masked_fill(scores, dead, 0.0).softmax(-1), dead, 0.0);
    if (average_attn_weights) weights = weights.mean({1});
    if (!batched) weights = weights.squeeze(0);
  }
  return {out, weights};
}

std::shared_ptr<Module> MultiheadAttentionImpl::clone(const std::optional<Device>& device) const {
  return finish_clone(std::make_shared<MultiheadAttentionImpl>(options), device);
}

std::string MultiheadAttentionImpl::extra_repr() const {
  return "embed_dim=" + std::to_string(options.embed_dim()) +
         ", num_heads=" + std::to_string(options.num_heads()) +
         ", dropout=" + python_float_repr(options.dropout()) +
         ", bias=" + (options.bias() ? "true" : "false") +
         ", batch_first=" + (options.batch_first() ? "true" : "false");
}

}  // namespace tinytorch::nn
