// TEMPORARY — helper G's private stand-ins for helper E's nn::Embedding / nn::LayerNorm and
// helper A's F::scaled_dot_product_attention, so module 13 compiles before their work is merged.
// Composed from existing ops (one-hot matmul, mean/var, matmul + where + softmax). DELETED when
// h18-g merges main; never part of the framework.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/init.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/nn/modules/dropout.h"

namespace tinytorch {

inline Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                           const Tensor& attn_mask = {}, double dropout_p = 0.0,
                                           bool is_causal = false,
                                           std::optional<double> scale = std::nullopt) {
  (void)attn_mask;
  const int64_t L = q.size(-2), S = k.size(-2);
  const double s = scale ? *scale : 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  Tensor scores = q.matmul(k.transpose(-2, -1)) * s;
  if (is_causal) {
    Tensor i = arange(L, kInt64).unsqueeze(1) + (S - L);
    Tensor j = arange(S, kInt64).unsqueeze(0);
    scores = where(j <= i, scores, -INFINITY);
  }
  Tensor w = scores.softmax(-1);
  if (dropout_p > 0) w = nn::functional::dropout(w, dropout_p, true);
  return w.matmul(v);
}

namespace nn {
namespace functional {
struct ScaledDotProductAttentionFuncOptions {
  TT_ARG(Tensor, attn_mask);
  TT_ARG(double, dropout_p) = 0.0;
  TT_ARG(bool, is_causal) = false;
  TT_ARG(std::optional<double>, scale) = std::nullopt;
};
inline Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                           const ScaledDotProductAttentionFuncOptions& o = {}) {
  return tinytorch::scaled_dot_product_attention(q, k, v, o.attn_mask(), o.dropout_p(),
                                                 o.is_causal(), o.scale());
}
}  // namespace functional

struct EmbeddingOptions {
  EmbeddingOptions(int64_t n, int64_t d) : num_embeddings_(n), embedding_dim_(d) {}
  TT_ARG(int64_t, num_embeddings);
  TT_ARG(int64_t, embedding_dim);
  TT_ARG(ScalarType, dtype) = kFloat32;
};
class EmbeddingImpl : public Module {
 public:
  explicit EmbeddingImpl(const EmbeddingOptions& o) : Module("Embedding"), options(o) {
    weight =
        register_parameter("weight", empty({o.num_embeddings(), o.embedding_dim()}, o.dtype()));
    init::normal_(weight);
  }
  Tensor forward(const Tensor& idx) {
    Tensor onehot =
        (idx.unsqueeze(-1) == arange(options.num_embeddings(), kInt64)).to(weight.dtype());
    return onehot.matmul(weight);
  }
  EmbeddingOptions options;
  Tensor weight;
};
TT_MODULE(Embedding);

struct LayerNormOptions {
  LayerNormOptions(std::vector<int64_t> shape) : normalized_shape_(std::move(shape)) {}
  TT_ARG(std::vector<int64_t>, normalized_shape);
  TT_ARG(double, eps) = 1e-5;
  TT_ARG(bool, elementwise_affine) = true;
  TT_ARG(ScalarType, dtype) = kFloat32;
};
class LayerNormImpl : public Module {
 public:
  explicit LayerNormImpl(const LayerNormOptions& o) : Module("LayerNorm"), options(o) {
    weight = register_parameter("weight", ones(o.normalized_shape(), o.dtype()));
    bias = register_parameter("bias", zeros(o.normalized_shape(), o.dtype()));
  }
  Tensor forward(const Tensor& x) {
    Tensor mu = x.mean({-1}, true);
    Tensor var = x.var({-1}, false, true);
    return (x - mu) / (var + options.eps()).sqrt() * weight + bias;
  }
  LayerNormOptions options;
  Tensor weight, bias;
};
TT_MODULE(LayerNorm);
}  // namespace nn
}  // namespace tinytorch
