// Tensor::index and Tensor::index_put_ with torch::indexing (core/tensor_indexing.h): libtorch's
// at::indexing::get_item / set_item, which are also what Python's x[...] and x[...] = v run.
//
// An index list is read left to right with a cursor `dim` into the tensor being built:
//
//   x [5, 7, 3]     x.index({1, Slice(), None, idx})          idx: int64 [4]
//   1         select(0, 1)     → [7, 3]      dim stays 0 (the dim is gone)
//   Slice()   slice(0, …)      → [7, 3]      dim 1
//   None      unsqueeze(1)     → [7, 1, 3]   dim 2
//   idx       recorded for dim 2; dim 3
//   then the advanced step: [7, 1, 3].index({nullopt, nullopt, idx}) → [7, 1, 4]
//
// Every basic step is a differentiable view op, so a result with no tensor index is a view (and
// `x.index({...}) = y` copies into x through it); the tensor indices are then applied in one
// advanced-indexing op (a copy), or, for index_put_, one index_put_ into that view.
#include "tinytorch/core/tensor_indexing.h"

#include <cstring>

#include "tinytorch/native/indexing.h"

namespace tinytorch {

namespace indexing {

Slice::Slice(std::optional<int64_t> start_index, std::optional<int64_t> stop_index,
             std::optional<int64_t> step_index)
    : step_(step_index.value_or(1)) {
  TT_CHECK_VALUE(step_ != 0, "slice step cannot be zero");
  start_ = start_index.value_or(step_ < 0 ? INDEX_MAX : 0);
  stop_ = stop_index.value_or(step_ < 0 ? INDEX_MIN : INDEX_MAX);
}

std::ostream& operator<<(std::ostream& os, const Slice& slice) {
  return os << slice.start() << ":" << slice.stop() << ":" << slice.step();
}

TensorIndex::TensorIndex(const char* str) : TensorIndex(Ellipsis) {
  TT_CHECK_VALUE(str != nullptr && std::strcmp(str, "...") == 0,
                 "Expected \"...\" to represent an ellipsis index, but got \"",
                 str == nullptr ? "(null)" : str, "\"");
}

std::ostream& operator<<(std::ostream& os, const TensorIndex& index) {
  switch (index.type()) {
    case TensorIndexType::None:
      return os << "None";
    case TensorIndexType::Ellipsis:
      return os << "...";
    case TensorIndexType::Integer:
      return os << index.integer();
    case TensorIndexType::Boolean:
      return os << (index.boolean() ? "true" : "false");
    case TensorIndexType::Slice:
      return os << index.slice();
    case TensorIndexType::Tensor:
      return os << index.tensor();
  }
  return os;
}

std::ostream& operator<<(std::ostream& os, const std::vector<TensorIndex>& indices) {
  os << "(";
  for (size_t i = 0; i < indices.size(); ++i) os << (i == 0 ? "" : ", ") << indices[i];
  return os << ")";
}

}  // namespace indexing

namespace {

using indexing::TensorIndex;
using OptionalTensors = std::vector<std::optional<Tensor>>;

// An integer index: select, after a check whose message names the index's position in the list.
Tensor apply_select(const Tensor& t, int64_t dim, int64_t index, int64_t position) {
  TT_CHECK_INDEX(t.dim() > 0,
                 "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                 "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number");
  const int64_t size = t.size(dim);
  TT_CHECK_INDEX(index >= -size && index < size, "index ", index,
                 " is out of bounds for dimension ", position, " with size ", size);
  return t.select(dim, index);
}

Tensor apply_slice(const Tensor& t, int64_t dim, const indexing::Slice& s) {
  TT_CHECK_VALUE(s.step() > 0, "step must be greater than zero");
  return t.slice(dim, s.start(), s.stop(), s.step());
}

// A bool index adds a dim of size 1 (an unsqueeze), which true indexes whole (as [0]) and false
// empties (as []).
Tensor bool_to_index(bool value) {
  return value ? zeros({1}, kInt64) : empty({0}, kInt64);
}

bool is_mask(const Tensor& t) {
  return t.dtype() == kBool || t.dtype() == kUInt8;
}

// How many dims of the tensor the indices name: everything but None, "..." and true/false; a
// mask names as many dims as it has.
int64_t count_specified_dims(const std::vector<TensorIndex>& indices) {
  int64_t count = 0;
  for (const TensorIndex& index : indices) {
    if (index.is_tensor()) {
      const Tensor& t = index.tensor();
      count += t.defined() && is_mask(t) ? t.dim() : 1;
    } else if (index.is_integer() || index.is_slice()) {
      ++count;
    }
  }
  return count;
}

// The basic indices applied in order as view ops; each tensor index (and each bool) is recorded
// in `tensor_indices` at the dim it applies to, for one advanced-indexing step afterwards.
Tensor apply_slicing(const Tensor& self, const std::vector<TensorIndex>& indices,
                     OptionalTensors& tensor_indices) {
  const int64_t specified = count_specified_dims(indices);
  TT_CHECK_INDEX(specified <= self.dim(), "too many indices for tensor of dimension ", self.dim());
  int64_t ellipses = 0;
  for (const TensorIndex& index : indices) ellipses += index.is_ellipsis() ? 1 : 0;
  // NOTE: NumPy's rule. libtorch expands each "..." in turn, so that a second one shifts every
  // later index past the tensor's dims: never what was meant.
  TT_CHECK_INDEX(ellipses <= 1, "an index can only have a single ellipsis ('...'), got ", ellipses);
  Tensor result = self;
  int64_t dim = 0;
  auto record = [&](const Tensor& index) {
    tensor_indices.resize(static_cast<size_t>(dim + 1));
    tensor_indices[dim] = index;
    ++dim;
  };
  for (size_t i = 0; i < indices.size(); ++i) {
    const TensorIndex& index = indices[i];
    const auto position = static_cast<int64_t>(i);
    switch (index.type()) {
      case indexing::TensorIndexType::Integer:
        result = apply_select(result, dim, index.integer(), position);
        break;
      case indexing::TensorIndexType::Slice:
        result = apply_slice(result, dim, index.slice());
        ++dim;
        break;
      case indexing::TensorIndexType::Ellipsis:
        dim += self.dim() - specified;
        break;
      case indexing::TensorIndexType::None:
        result = result.unsqueeze(dim);
        ++dim;
        break;
      case indexing::TensorIndexType::Boolean:
        result = result.unsqueeze(dim);
        record(bool_to_index(index.boolean()));
        break;
      case indexing::TensorIndexType::Tensor: {
        const Tensor& t = index.tensor();
        TT_CHECK_INDEX(t.defined(), "an undefined tensor cannot be used as an index (position ",
                       position, ")");
        // A 0-d integer tensor is an integer index; a 0-d mask is a bool index.
        if (t.dim() == 0 && is_mask(t)) {
          result = result.unsqueeze(dim);
          record(bool_to_index(t.item<int64_t>() != 0));
        } else if (t.dim() == 0 && is_integral(t.dtype(), false)) {
          result = apply_select(result, dim, t.item<int64_t>(), position);
        } else {
          record(t);
        }
        break;
      }
    }
  }
  return result;
}

// The sizes without their leading 1s: [1, 1, 3, 1] → [3, 1].
std::vector<int64_t> strip_leading_ones(IntArrayRef sizes) {
  size_t first = 0;
  while (first < sizes.size() && sizes[first] == 1) ++first;
  return {sizes.begin() + static_cast<std::ptrdiff_t>(first), sizes.end()};
}

// dst = src for x.index({...}) = src: src broadcasts to dst's shape after its leading dims of size
// 1 are dropped (NumPy's rule: x[0] = y[None] is allowed).
void copy_to(Tensor dst, const Tensor& src) {
  if (dst.sizes() == src.sizes() || src.dim() == 0) {
    dst.copy_(src);
    return;
  }
  dst.copy_(src.view(strip_leading_ones(src.sizes())));
}

Tensor get_item(const Tensor& self, const std::vector<TensorIndex>& indices) {
  TT_CHECK(!indices.empty(), "Passing an empty index list to Tensor::index() is not valid syntax");
  if (indices.size() == 1) {  // the common single-index cases, without the general walk
    const TensorIndex& index = indices[0];
    switch (index.type()) {
      case indexing::TensorIndexType::Integer:
        return apply_select(self, 0, index.integer(), 0);
      case indexing::TensorIndexType::Slice:
        return apply_slice(self, 0, index.slice());
      case indexing::TensorIndexType::None:
        return self.unsqueeze(0);
      case indexing::TensorIndexType::Ellipsis:
        return alias(self);
      case indexing::TensorIndexType::Boolean:
        return self.unsqueeze(0).index(OptionalTensors{bool_to_index(index.boolean())});
      case indexing::TensorIndexType::Tensor:
        break;
    }
  }
  OptionalTensors tensor_indices;
  const Tensor sliced = apply_slicing(self, indices, tensor_indices);
  if (tensor_indices.empty()) return sliced.is_same(self) ? alias(self) : sliced;
  return sliced.index(tensor_indices);
}

void set_item(Tensor& self, const std::vector<TensorIndex>& indices, const Tensor& value) {
  TT_CHECK(!indices.empty(),
           "Passing an empty index list to Tensor::index_put_() is not valid syntax");
  if (indices.size() == 1) {
    const TensorIndex& index = indices[0];
    switch (index.type()) {
      case indexing::TensorIndexType::Boolean:
        if (index.boolean()) copy_to(self.unsqueeze(0), value);
        return;  // x[false] = v selects nothing
      case indexing::TensorIndexType::Ellipsis:
        return copy_to(self, value);
      case indexing::TensorIndexType::None:
        return copy_to(self.unsqueeze(0), value);
      case indexing::TensorIndexType::Integer:
        return copy_to(apply_select(self, 0, index.integer(), 0), value);
      case indexing::TensorIndexType::Slice:
        return copy_to(apply_slice(self, 0, index.slice()), value);
      case indexing::TensorIndexType::Tensor:
        break;
    }
  }
  OptionalTensors tensor_indices;
  Tensor sliced = apply_slicing(self, indices, tensor_indices);
  if (tensor_indices.empty()) return copy_to(sliced, value);
  const std::vector<int64_t> stripped = strip_leading_ones(value.sizes());
  sliced.index_put_(tensor_indices,
                    IntArrayRef(stripped) == value.sizes() ? value : value.view(stripped));
}

}  // namespace

Tensor Tensor::index(std::initializer_list<indexing::TensorIndex> indices) const {
  return get_item(*this, std::vector<TensorIndex>(indices));
}
Tensor Tensor::index(const std::vector<indexing::TensorIndex>& indices) const {
  return get_item(*this, indices);
}

Tensor& Tensor::index_put_(std::initializer_list<indexing::TensorIndex> indices,
                           const Tensor& rhs) const {
  set_item(mutable_self(), std::vector<TensorIndex>(indices), rhs);
  return mutable_self();
}
Tensor& Tensor::index_put_(std::initializer_list<indexing::TensorIndex> indices,
                           const Scalar& v) const {
  return index_put_(std::vector<TensorIndex>(indices), v);
}
Tensor& Tensor::index_put_(const std::vector<indexing::TensorIndex>& indices,
                           const Tensor& rhs) const {
  set_item(mutable_self(), indices, rhs);
  return mutable_self();
}
// The number becomes a 0-d tensor of self's dtype (libtorch's scalarToTensor), then as above.
Tensor& Tensor::index_put_(const std::vector<indexing::TensorIndex>& indices,
                           const Scalar& v) const {
  set_item(mutable_self(), indices, full({}, v, dtype()));
  return mutable_self();
}

// libtorch's: only a defined 0-d integer tensor, as the integer it holds.
Tensor Tensor::operator[](const Tensor& index) const {
  TT_CHECK_INDEX(index.defined(), "Can only index with tensors that are defined");
  TT_CHECK_INDEX(index.dim() == 0, "Can only index with tensors that are scalars (zero-dim)");
  TT_CHECK_INDEX(is_integral(index.dtype(), false),
                 "Can only index tensors with integral scalars (got a ", index.dtype(), " tensor)");
  return select(0, index.item<int64_t>());
}

// nonzero is not differentiable (its result is int64): the native itself.
Tensor Tensor::nonzero() const {
  return native::nonzero(*this);
}

// ── the free-function spellings (torch::gather, ...): each forwards to its method ──────────────
Tensor gather(const Tensor& self, int64_t dim, const Tensor& index, bool sparse_grad) {
  return self.gather(dim, index, sparse_grad);
}
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return self.scatter(dim, index, src);
}
Tensor scatter(const Tensor& self, int64_t dim, const Tensor& index, const Scalar& value) {
  return self.scatter(dim, index, value);
}
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return self.scatter_add(dim, index, src);
}
Tensor index_select(const Tensor& self, int64_t dim, const Tensor& index) {
  return self.index_select(dim, index);
}
Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& source,
                 const Scalar& alpha) {
  return self.index_add(dim, index, source, alpha);
}
Tensor masked_select(const Tensor& self, const Tensor& mask) {
  return self.masked_select(mask);
}
Tensor nonzero(const Tensor& self) {
  return self.nonzero();
}
Tensor index_put(const Tensor& self, const std::vector<std::optional<Tensor>>& indices,
                 const Tensor& values, bool accumulate) {
  return self.index_put(indices, values, accumulate);
}

}  // namespace tinytorch
