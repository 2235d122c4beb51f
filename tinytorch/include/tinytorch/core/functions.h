// tinytorch/core/functions.h — libtorch's free functions that have no Tensor method here yet
// (torch::floor_divide(a, b) compiles; a.floor_divide(b) does not), and the free forms of two
// that have one (repeat_interleave, equal).
//
//   torch::floor_divide(a, 2)                  a // 2 elementwise, rounded toward −∞
//   torch::frobenius_norm(w)                   √Σ w² over every element, 0-d
//   torch::repeat_interleave(x, 2, 0)          x [2, 3] → [4, 3]: rows 0, 0, 1, 1
//   torch::repeat_interleave(x, r, 1)          x [2, 3], r int64 [3] = {1, 0, 2} → [2, 3]:
//                                              columns 0, 2, 2
//   auto idx = torch::where(mask);             mask [4, 5] → {rows [n], cols [n]} of its n
//                                              nonzero elements (numpy.nonzero)
//   torch::equal(a, b)                         a.equal(b): same sizes, exactly the same values
//
// All are composites of ops that already record (src/core/composite_ops.cpp), so the gradients of
// the differentiable ones — and their gradients of gradients — come from the ops they call.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tinytorch/core/tensor.h"

namespace tinytorch {

// libtorch's free form of Tensor::equal: true when both have the same sizes and exactly the same
// values (a bool, not an element-wise tensor: that is eq).
inline bool equal(const Tensor& self, const Tensor& other) {
  return self.equal(other);
}

// self // other elementwise, broadcast, rounded toward −∞ (Python's //); the result dtype is
// result_type(self, other): two integer tensors give integers (an integer divisor of 0 is an
// error), a float anywhere gives floats (x // 0 is ±inf or NaN).
// NOTE: PyTorch 1.13 made floor_divide floor, as its name says; before it (1.5 – 1.12) it
// truncated toward zero with a deprecation warning. -7 // 2 is -4 here, as in libtorch 1.13.
// Like PyTorch's, it has no derivative: a result computed from a tensor that requires grad
// requires grad too, and backward through it raises NotImplementedError.
Tensor floor_divide(const Tensor& self, const Tensor& other);
Tensor floor_divide(const Tensor& self, const Scalar& other);

// The Frobenius norm √Σ x² — over every element, or over `dim` (one or two dims, distinct;
// none means every element). Floating inputs only. PyTorch 1.13's two-dim form is
// sqrt(sum(x·x)), whose gradient at an all-zero slice is NaN (0/0); the others are norm(2),
// whose gradient there is 0.
Tensor frobenius_norm(const Tensor& self);
Tensor frobenius_norm(const Tensor& self, IntArrayRef dim, bool keepdim = false);

// Repeats each slice of self along `dim` as often as `repeats` says: a number (every slice that
// often), or an int64 / int32 tensor of one count per slice (0-d or one element: every slice
// that often). Without dim, self is flattened first. output_size, when given, must be the
// result's length along dim (Σ repeats). The gradient sums the copies back (index_select's).
Tensor repeat_interleave(const Tensor& self, const Tensor& repeats,
                         std::optional<int64_t> dim = std::nullopt,
                         std::optional<int64_t> output_size = std::nullopt);
Tensor repeat_interleave(const Tensor& self, int64_t repeats,
                         std::optional<int64_t> dim = std::nullopt,
                         std::optional<int64_t> output_size = std::nullopt);
// The one-argument form: repeats [n] of counts c_i ≥ 0 → [Σ c_i], index i written c_i times
// ({1, 0, 2} → {0, 2, 2}); same dtype as repeats (int64 or int32).
Tensor repeat_interleave(const Tensor& repeats, std::optional<int64_t> output_size = std::nullopt);

// The indices of condition's nonzero elements, one int64 tensor [n] per dim (a 0-d condition:
// one tensor, of its [0] or nothing) — nonzero(condition) split by column, numpy's nonzero:
// x.index({idx[0], idx[1]}) gathers those elements.
std::vector<Tensor> where(const Tensor& condition);

}  // namespace tinytorch
