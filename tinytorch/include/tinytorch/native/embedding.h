// tinytorch/native/embedding.h — module 11's embedding kernels (ATen's embedding and
// embedding_dense_backward): a row gather forward, a row scatter-add backward.
#pragma once

#include <cstdint>

#include "tinytorch/core/tensor.h"

namespace tinytorch::native {

// out [*indices.shape, D] with out[*i] = weight[indices[*i]]; weight [V, D] float, indices int64
// with every value in [0, V) (checked before any row is read).
Tensor embedding(const Tensor& weight, const Tensor& indices);

// The dense gradient [num_weights, D] of weight: grad_weight[v] = Σ_{i : indices[i] = v} grad[i],
// row padding_idx (when >= 0) left zero. grad_output [*indices.shape, D].
Tensor embedding_dense_backward(const Tensor& grad_output, const Tensor& indices,
                                int64_t num_weights, int64_t padding_idx);

}  // namespace tinytorch::native
