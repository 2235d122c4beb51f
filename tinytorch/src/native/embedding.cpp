// Module 11 — Embedding: a row gather forward and a row scatter-add backward. The checks and the
// drivers are given; the two loops are yours to write (modules/11_embeddings/README.md).
//
// An embedding is a matrix product with a one-hot vector, done without the product:
//
//   onehot(id) [V] · weight [V, D]  =  weight[id] [D]          (V·D multiply-adds → D copies)
//
//        weight [V, D]                     indices [n]          out [n, D]
//        ┌───────────────┐ row 0           ┌───┐              ┌───────────────┐
//        │ . . . . . . . │                 │ 3 │ ───────────► │ weight[3]     │
//        ├───────────────┤ row 1           │ 0 │ ───────────► │ weight[0]     │
//        │ . . . . . . . │                 │ 3 │ ───────────► │ weight[3]     │
//        ├───────────────┤ ...             └───┘              └───────────────┘
//
// The backward is the transpose of the same one-hot product: the gradient of row v is the sum
// of the output gradients of every position that looked v up (row 3 above gets two), rows no
// position used get zero, and row padding_idx gets zero whatever looked it up (a padding token's
// vector is never trained). The indices were checked by the forward; the backward checks again,
// because it can be called on its own.
#include <cstring>
#include <string_view>
#include <vector>

#include "opmath.h"
#include "tinytorch/native/embedding.h"

namespace tinytorch {

namespace {

// out[i, :] = weight[indices[i], :] for i in [0, n). weight is [V, D] contiguous, out [n, D];
// every index is already known to lie in [0, V).
template <typename T>
void embedding_gather(int64_t n, int64_t D, const T* weight, const int64_t* indices, T* out) {
  // BEGIN SOLUTION
  // Each row is D contiguous values: one memcpy per index, at memory speed.
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(out + i * D, weight + indices[i] * D, static_cast<size_t>(D) * sizeof(T));
  }
  // END SOLUTION
}

// grad_weight[indices[i], :] += grad[i, :] for every i whose index is not padding_idx
// (padding_idx < 0: none is skipped). grad_weight [V, D] starts at zero; grad is [n, D].
template <typename T>
void embedding_scatter_add(int64_t n, int64_t D, const T* grad, const int64_t* indices,
                           int64_t padding_idx, T* grad_weight) {
  // BEGIN SOLUTION
  for (int64_t i = 0; i < n; ++i) {
    if (indices[i] == padding_idx) continue;
    T* row = grad_weight + indices[i] * D;
    const T* g = grad + i * D;
    for (int64_t j = 0; j < D; ++j) row[j] += g[j];  // duplicates of an index add up here
  }
  // END SOLUTION
}

// ── the checks and drivers (given) ────────────────────────────────────────────────────────────

// The indices, checked and contiguous: int64, every value in [0, V). Checked before any row is
// read, so a bad index is an IndexError naming it — never a read outside the table.
Tensor checked_indices(std::string_view op, const Tensor& indices, int64_t V) {
  TT_CHECK_TYPE(indices.dtype() == kInt64, op,
                ": expected indices of dtype int64 (token ids), but got ", indices.dtype(),
                " (convert with .to(kInt64))");
  Tensor idx = indices.contiguous();
  const int64_t* p = idx.data_ptr<int64_t>();
  for (int64_t i = 0; i < idx.numel(); ++i) {
    TT_CHECK_INDEX(p[i] >= 0 && p[i] < V, op, ": index ", p[i], " (at flat position ", i,
                   " of indices of shape ", indices.sizes(), ") is out of range for a table of ", V,
                   " rows: indices must lie in [0, ", V, ")");
  }
  return idx;
}

}  // namespace

namespace native {

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  TT_CHECK(weight.dim() == 2, "embedding: expected weight of shape [num_embeddings, embedding_dim]",
           " (2-D), but got ", weight.sizes());
  TT_CHECK_TYPE(weight.is_floating_point(),
                "embedding: expected a floating-point weight (float32 or float64), but got ",
                weight.dtype());
  if (opmath::is_reduced(weight))
    return opmath::compute(weight.dtype(), embedding, weight, indices);
  const int64_t V = weight.size(0), D = weight.size(1);
  const Tensor idx = checked_indices("embedding", indices, V);
  std::vector<int64_t> out_shape = indices.sizes().vec();
  out_shape.push_back(D);
  Tensor out = empty(out_shape, weight.dtype());
  if (out.numel() == 0) return out;
  const Tensor w = weight.contiguous();
  dispatch_floating_types(weight.dtype(), "embedding", [&]<typename T>() {
    embedding_gather<T>(idx.numel(), D, w.data_ptr<T>(), idx.data_ptr<int64_t>(),
                        out.data_ptr<T>());
  });
  return out;
}

Tensor embedding_dense_backward(const Tensor& grad_output, const Tensor& indices,
                                int64_t num_weights, int64_t padding_idx) {
  constexpr std::string_view op = "embedding_backward";
  TT_CHECK(grad_output.dim() == indices.dim() + 1 &&
               IntArrayRef(grad_output.sizes().data(), static_cast<size_t>(indices.dim())) ==
                   indices.sizes(),
           op,
           ": grad_output must have the shape indices.shape + [embedding_dim] = ", indices.sizes(),
           " + [D], but got ", grad_output.sizes());
  TT_CHECK_TYPE(grad_output.is_floating_point(), op,
                ": expected a floating-point grad_output, but got ", grad_output.dtype());
  TT_CHECK_VALUE(num_weights >= 0, op, ": num_weights must be non-negative, but got ", num_weights);
  // A row's gradient is summed in float32 and rounded once, as every reduction (opmath.h).
  if (opmath::is_reduced(grad_output)) {
    return opmath::compute(grad_output.dtype(), embedding_dense_backward, grad_output, indices,
                           num_weights, padding_idx);
  }
  const Tensor idx = checked_indices(op, indices, num_weights);
  const int64_t D = grad_output.size(-1);
  Tensor grad_weight = zeros({num_weights, D}, grad_output.dtype());
  if (grad_output.numel() == 0) return grad_weight;
  const Tensor g = grad_output.contiguous();
  dispatch_floating_types(grad_output.dtype(), op, [&]<typename T>() {
    embedding_scatter_add<T>(idx.numel(), D, g.data_ptr<T>(), idx.data_ptr<int64_t>(), padding_idx,
                             grad_weight.data_ptr<T>());
  });
  return grad_weight;
}

}  // namespace native

}  // namespace tinytorch
