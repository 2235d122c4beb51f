// tinytorch/core/join.h — joining tensors: cat (along an existing dim) and stack (along a new one).
//
//   a [2, 3], b [4, 3]   cat({a, b}, 0)    → [6, 3]       rows of a, then rows of b
//   a [2, 3], b [2, 3]   stack({a, b}, 0)  → [2, 2, 3]    out[0] = a, out[1] = b
//                        stack({a, b}, 2)  → [2, 3, 2]    out[..., 0] = a, out[..., 1] = b
//
// stack(ts, d) is cat of every t.unsqueeze(d) along d. Both return a new contiguous tensor and
// are differentiable: cat records one node, CatBackward0, whose backward hands each input the
// matching slice of the output's gradient, as a view (no copy).
// libtorch's torch::cat / torch::stack: mixed dtypes promote to the widest (torch.promote_types:
// bfloat16 with float32 gives float32, int64 with float32 gives float32), as PyTorch does.
// Both take libtorch's TensorList (core/array_ref.h): a braced list, a std::vector<Tensor> or one
// tensor.
#pragma once

#include <cstdint>
#include "tinytorch/core/array_ref.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch {

// Inputs: ≥ 1 tensor, same number of dims (≥ 1), same sizes except in `dim`
// (negative dims count from the end). Errors name the first tensor that differs.
Tensor cat(TensorList tensors, int64_t dim = 0);
// Inputs: ≥ 1 tensor of identical shape; dim in [-(ndim + 1), ndim].
Tensor stack(TensorList tensors, int64_t dim = 0);

}  // namespace tinytorch
