// tinytorch/nn/functional/embedding.h — module 11's lookup table, differentiable (libtorch's
// torch::embedding; F::embedding with its FuncOptions lives next to nn::Embedding in
// nn/modules/embedding.h).
//
//   weight [V, D]   indices int64 [B, T]   ─embedding─►   [B, T, D]:   out[b, t] =
//   weight[indices[b, t]]
#pragma once

#include <cstdint>

#include "tinytorch/core/tensor.h"

namespace tinytorch {

// Row gather: out[*i, :] = weight[indices[*i], :], out's shape indices.shape + [D]. Every index
// must lie in [0, V) (an IndexError names the first bad one). Differentiable w.r.t. weight: the
// gradient of row v is the sum of the output gradients of every position that looked v up, except
// row padding_idx (>= 0), which gets none (−1: no padding row).
Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx = -1);

namespace nn::functional {
// libtorch's F::one_hot (torch::one_hot in core/tensor.h): int64 [*, num_classes].
inline Tensor one_hot(const Tensor& tensor, int64_t num_classes = -1) {
  return tinytorch::one_hot(tensor, num_classes);
}
}  // namespace nn::functional

}  // namespace tinytorch
