// tinytorch/core/shape.h — the arithmetic of sizes and strides (module 01).
//
// These small functions are the heart of the tensor: every view, every broadcast and every
// kernel's addressing is built from them. They work on plain lists of int64_t and know nothing
// about storages, so they are easy to test one by one.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "tinytorch/core/int_array_ref.h"
#include "tinytorch/core/safe_numerics.h"  // mul_overflows, add_overflows: for every size product

namespace tinytorch {

// Product of the sizes (1 for a 0-d tensor). Throws on a negative size or on overflow.
int64_t compute_numel(IntArrayRef sizes);

// Row-major ("C order") strides, in elements: sizes [2, 3, 4] → strides [12, 4, 1].
std::vector<int64_t> contiguous_strides(IntArrayRef sizes);

// True when (sizes, strides) address elements exactly in row-major order with no gaps.
// Dims of size 1 may have any stride; a tensor with no elements is contiguous.
bool is_contiguous_strides(IntArrayRef sizes, IntArrayRef strides);

// Turns a possibly negative dim into [0, ndim): wrap_dim(-1, 3) == 2. `op` names the caller in
// the IndexError raised when dim is outside [-ndim, ndim - 1]. A 0-d tensor accepts dims -1 and 0.
int64_t wrap_dim(int64_t dim, int64_t ndim, std::string_view op = "");

// Replaces a single -1 in `shape` by the size that makes the element count equal `numel`:
// infer_size({2, -1}, 6) == {2, 3}.
std::vector<int64_t> infer_size(IntArrayRef shape, int64_t numel);

// The strides that view (old sizes, old strides) with new sizes WITHOUT copying, or nullopt when
// no such strides exist (then reshape() must copy). PyTorch: at::detail::computeStride.
std::optional<std::vector<int64_t>> compute_view_strides(IntArrayRef old_sizes,
                                                         IntArrayRef old_strides,
                                                         IntArrayRef new_sizes);

// NumPy/PyTorch broadcasting: align shapes on the right; each pair of sizes must be equal or
// contain a 1. broadcast_shapes({3, 1}, {4}) == {3, 4}.
std::vector<int64_t> broadcast_shapes(IntArrayRef a, IntArrayRef b);

}  // namespace tinytorch
