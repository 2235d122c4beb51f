// tinytorch/native/indexing.h — the natives behind advanced indexing and the gather/scatter
// family (src/native/indexing.cpp). The public, differentiable ops are Tensor::index,
// index_put_, gather, scatter, ... (src/autograd/variable_ops.cpp); basic indexing (integers,
// slices, None, "...") needs no native of its own: it is made of view ops
// (src/core/tensor_indexing.cpp).
//
// Every native checks all its indices before it reads or writes an element: a bad index is an
// IndexError naming it, its dim and the dim's size — never a read or a write out of bounds.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tinytorch/core/tensor.h"

namespace tinytorch::native {

// out = self[indices] (advanced indexing). indices[d] indexes dim d of self (nullopt or undefined:
// the whole dim); int64 values in [-size, size), or a bool/uint8 mask covering mask.dim() dims
// that must match them exactly. A new contiguous tensor: see core/tensor_indexing.h for its shape.
Tensor index(const Tensor& self, const std::vector<std::optional<Tensor>>& indices);
// self[indices] = values (accumulate: +=), in place. values: self's dtype, broadcastable to the
// shape index() would return. With duplicate indices and accumulate = false the last write wins.
Tensor& index_put_(Tensor& self, const std::vector<std::optional<Tensor>>& indices,
                   const Tensor& values, bool accumulate);

// out[p] = self[p with p[dim] replaced by index[p]] for every position p of index.
Tensor gather(const Tensor& self, int64_t dim, const Tensor& index);
// self[p with p[dim] replaced by index[p]] = src[p] (or value), in place, for every p of index.
Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Scalar& value);
// The same with +=.
Tensor& scatter_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);

// self's entries index[k] along dim (index 0-d or 1-d, values in [0, size(dim))).
Tensor index_select(const Tensor& self, int64_t dim, const Tensor& index);
// self.select(dim, index[k]) += alpha · source.select(dim, k), in place.
Tensor& index_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& source,
                   const Scalar& alpha);

// The elements of self (broadcast with mask) where mask is true, in row-major order, 1-d.
Tensor masked_select(const Tensor& self, const Tensor& mask);
// int64 [count, self.dim()]: the coordinates of every element that is not zero (false).
Tensor nonzero(const Tensor& self);

}  // namespace tinytorch::native
