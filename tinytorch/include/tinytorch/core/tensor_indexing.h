// tinytorch/core/tensor_indexing.h — libtorch's tensor indexing API (torch::indexing).
//
//   using namespace torch::indexing;
//   x.index({Slice(), 0})                     x[:, 0]          a view
//   x.index({"...", None, Slice(1, None, 2)})  x[..., None, 1::2]  a view
//   x.index({idx})                            x[idx]           a copy (idx: int64 tensor)
//   x.index({mask})                           x[mask]          a copy (mask: bool tensor)
//   x.index({Slice(), 0}) = y;                x[:, 0] = y      writes into x (rvalue view)
//   x.index_put_({idx, Slice(1)}, y);         x[idx, 1:] = y   writes into x (any index)
//
// Python                   C++ (tinytorch::indexing, also spelled torch::indexing)
// ──────                   ───────────────────────────────────────────────────────
// None                     None
// ... / Ellipsis           "..." / Ellipsis
// 3, -1                    3, -1
// True / False             true / false
// :  1:  :3  ::2  1:3:2    Slice()  Slice(1, None)  Slice(None, 3)  Slice(None, None, 2)
//                          Slice(1, 3, 2)
// torch.tensor([0, 2])     tinytorch::tensor({0, 2})
//
// Two kinds of index, as in NumPy and PyTorch:
//   * basic — integers, slices, None, "...", true/false: each one is a view op (select, slice,
//     unsqueeze), so the result shares x's storage;
//   * advanced — int64 tensors and bool (or uint8) masks: a gather, so the result is a new tensor.
//     Several index tensors broadcast together and pick elements point by point
//     (x.index({i, j})[k] = x[i[k], j[k]]); a mask stands for the int64 indices of its true
//     elements (its nonzero()). The dims they index are replaced, where they stood, by the
//     broadcast shape of the index tensors — unless a slice or integer separates two of them:
//     then that shape goes first (x [2, 3, 4, 5]: x[:, i, :, j] with i, j of shape [7] is
//     [7, 2, 4]; x[:, i, j] is [2, 7, 5]).
//
// Assigning to an advanced index through `=` writes into the temporary copy, not into x — the same
// as in libtorch; index_put_ is the spelling that writes for every kind of index.
// The ops here are differentiable: basic indexing through its view ops, advanced indexing through
// IndexBackward0 / IndexPutBackward0 (src/autograd/derivatives.cpp).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <type_traits>
#include <vector>

#include "tinytorch/core/tensor.h"

namespace tinytorch {

namespace indexing {

inline constexpr int64_t INDEX_MAX = std::numeric_limits<int64_t>::max();
inline constexpr int64_t INDEX_MIN = std::numeric_limits<int64_t>::min();

// Python's None: a new dim of size 1 (x.index({None}) is x.unsqueeze(0)), and the "not given"
// bound of a Slice. It is std::nullopt itself, as libtorch's is c10::nullopt.
inline constexpr std::nullopt_t None = std::nullopt;

struct EllipsisIndexType final {
  EllipsisIndexType() = default;
};
// Python's "...": as many full slices as the dims the other indices leave unnamed.
inline constexpr EllipsisIndexType Ellipsis{};

// Python's start:stop:step. A bound left out (None) means "from the first" / "to the last"; a
// negative bound counts from the end; bounds past either end are clamped (as in Python). A step
// of 0 is refused here; a negative step is refused when the slice is applied (libtorch, like
// PyTorch, has no negative-step slicing).
class Slice final {
 public:
  Slice(std::optional<int64_t> start_index = std::nullopt,  // NOLINT(google-explicit-constructor)
        std::optional<int64_t> stop_index = std::nullopt,
        std::optional<int64_t> step_index = std::nullopt);

  int64_t start() const { return start_; }
  int64_t stop() const { return stop_; }
  int64_t step() const { return step_; }

 private:
  int64_t start_;
  int64_t stop_;
  int64_t step_;
};

// "start:stop:step" with the bounds filled in, e.g. Slice(1) prints 1:9223372036854775807:1.
std::ostream& operator<<(std::ostream& os, const Slice& slice);

enum class TensorIndexType { None, Ellipsis, Integer, Boolean, Slice, Tensor };

// One entry of x.index({...}): built implicitly from each of the spellings above, so a braced
// list of mixed kinds is a list of TensorIndex.
class TensorIndex final {
 public:
  TensorIndex(std::nullopt_t) : type_(TensorIndexType::None) {}         // NOLINT
  TensorIndex(EllipsisIndexType) : type_(TensorIndexType::Ellipsis) {}  // NOLINT
  // Only "..." is accepted (a ValueError names any other string).
  TensorIndex(const char* str);                                                         // NOLINT
  TensorIndex(int64_t integer) : integer_(integer), type_(TensorIndexType::Integer) {}  // NOLINT
  TensorIndex(int integer) : TensorIndex(static_cast<int64_t>(integer)) {}              // NOLINT
  // A template, so that an int never converts to bool here (libtorch's overload set).
  template <typename T>
  requires std::is_same_v<T, bool> TensorIndex(T boolean)  // NOLINT
      : boolean_(boolean), type_(TensorIndexType::Boolean) {}
  TensorIndex(Slice slice) : slice_(slice), type_(TensorIndexType::Slice) {}  // NOLINT
  TensorIndex(Tensor tensor)                                                  // NOLINT
      : tensor_(std::move(tensor)), type_(TensorIndexType::Tensor) {}

  TensorIndexType type() const { return type_; }
  bool is_none() const { return type_ == TensorIndexType::None; }
  bool is_ellipsis() const { return type_ == TensorIndexType::Ellipsis; }
  bool is_integer() const { return type_ == TensorIndexType::Integer; }
  int64_t integer() const { return integer_; }
  bool is_boolean() const { return type_ == TensorIndexType::Boolean; }
  bool boolean() const { return boolean_; }
  bool is_slice() const { return type_ == TensorIndexType::Slice; }
  const Slice& slice() const { return slice_; }
  bool is_tensor() const { return type_ == TensorIndexType::Tensor; }
  const Tensor& tensor() const { return tensor_; }

 private:
  int64_t integer_ = 0;
  bool boolean_ = false;
  Slice slice_;
  Tensor tensor_;
  TensorIndexType type_;
};

std::ostream& operator<<(std::ostream& os, const TensorIndex& index);
std::ostream& operator<<(std::ostream& os, const std::vector<TensorIndex>& indices);  // (a, b)

}  // namespace indexing

// A new handle on the same elements (same sizes, strides and storage): what x.index({"..."})
// returns, so that the result is never x's own handle (libtorch's at::alias).
Tensor alias(const Tensor& self);

// ── the indexing ops of ATen, as free functions (each is also a Tensor method) ─────────────
// out[i][j] = self[index[i][j]][j] (dim 0); index has self's number of dims, int64 values in
// [0, self.size(dim)), and no dim larger than self's except `dim`. sparse_grad must be false.
Tensor gather(const Tensor& self, int64_t dim, const Tensor& index, bool sparse_grad = false);
// self with out[index[i][j]][j] = src[i][j] (dim 0). Duplicate targets: the last write wins.
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Scalar& value);
// self with out[index[i][j]][j] += src[i][j] (dim 0): duplicates add up.
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
// The entries index[k] of self along dim; index: int64, 0-d or 1-d, values in [0, size(dim)).
Tensor index_select(const Tensor& self, int64_t dim, const Tensor& index);
// self with out.select(dim, index[k]) += alpha · source.select(dim, k).
Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source,
                 const Scalar& alpha = 1);
// The elements of self where mask is true, as a 1-d tensor (self and mask broadcast together).
Tensor masked_select(const Tensor& self, const Tensor& mask);
// The coordinates of the non-zero elements, int64 [count, self.dim()], in row-major order.
Tensor nonzero(const Tensor& self);
// self with out[indices] = values (or += with accumulate); see Tensor::index_put_.
Tensor index_put(const Tensor& self, const std::vector<std::optional<Tensor>>& indices,
                 const Tensor& values, bool accumulate = false);

}  // namespace tinytorch
