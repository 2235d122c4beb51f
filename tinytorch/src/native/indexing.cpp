// Advanced indexing and the gather/scatter family. See tinytorch/native/indexing.h.
//
// Every op here is one idea: an index tensor names, for each element of the result (or of the
// source), a storage location of self. So each op first turns its indices into a list of
// storage offsets — checking every index on the way, before any element is read or written —
// and then its loop is a plain copy (or add) between two lists of offsets:
//
//   x [3, 4], strides (4, 1)       x.index({idx})  with idx = [2, 0]   → out [2, 4]
//   ┌──────────────┐               offsets of the indexed dim:  [2·4, 0·4] = [8, 0]
//   │ 0  1  2  3   │ row 0         offsets of the dims after:   [0, 1, 2, 3]
//   │ 4  5  6  7   │ row 1         out[b, q] = x.data[8|0 + q]
//   │ 8  9 10 11   │ row 2  ◄─┐
//   └──────────────┘          └─ out row 0
//
// Writes (index_put_, scatter_, scatter_add_, index_add_) go to a contiguous buffer: self itself
// when it is contiguous, else a copy that is written back with copy_, which refuses a self whose
// elements share memory (an expand()ed tensor) as every in-place op does. A source that shares
// self's storage is cloned first, and every offset is computed before the first write, so no write
// can change an index or a value that is still to be read.
#include "tinytorch/native/indexing.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <type_traits>

#include "opmath.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

namespace {

// The storage offset (relative to element 0) of every position of a (sizes, strides) layout, in
// row-major order: offsets[k] = Σ_d i_d · strides[d] for the k-th position (i_0, …, i_{n−1}).
// An odometer: the last coordinate moves fastest and carries into the one before it.
// NOTE: called only for layouts with at least one element, whose positions all lie in storage,
// so no sum can overflow.
std::vector<int64_t> strided_offsets(IntArrayRef sizes, IntArrayRef strides) {
  const int64_t n = compute_numel(sizes);
  const auto ndim = static_cast<int64_t>(sizes.size());
  std::vector<int64_t> out(static_cast<size_t>(n));
  std::vector<int64_t> pos(sizes.size(), 0);
  int64_t off = 0;
  for (int64_t k = 0; k < n; ++k) {
    out[k] = off;
    for (int64_t d = ndim - 1; d >= 0; --d) {
      if (++pos[d] < sizes[d]) {
        off += strides[d];
        break;
      }
      off -= (sizes[d] - 1) * strides[d];
      pos[d] = 0;
    }
  }
  return out;
}

// target += v. Integers wrap around (signed overflow would be undefined behaviour; PyTorch's
// integers wrap too) and bools add as a logical or. (The kernels that call it are instantiated
// for every storage dtype, float16/bfloat16 included, whose sum is a float rounded back: hence
// the static_cast. The accumulating paths dispatch on the compute dtypes only.)
template <typename T>
void add_into(T& target, T v) {
  if constexpr (std::is_same_v<T, bool>) {
    target = target || v;
  } else if constexpr (std::is_integral_v<T>) {
    static_cast<void>(add_overflows(target, v, &target));
  } else {
    target = static_cast<T>(target + v);
  }
}

bool is_mask(ScalarType t) {
  return t == kBool || t == kUInt8;
}

// The int64 values of an index tensor, in row-major order.
std::vector<int64_t> index_values(const Tensor& index) {
  const Tensor c = index.contiguous();
  const int64_t* p = c.data_ptr<int64_t>();
  return {p, p + c.numel()};
}

// Checks that every index lies in [0, size) — or in [−size, size) when `negative_ok`, wrapping
// those — and names the first that does not, its dim and the dim's size (PyTorch's wording).
void check_bounds(std::string_view op, std::vector<int64_t>& idx, int64_t size, int64_t dim,
                  bool negative_ok) {
  for (int64_t& v : idx) {
    TT_CHECK_INDEX(v < size && v >= (negative_ok ? -size : 0), op, "index ", v,
                   " is out of bounds for dimension ", dim, " with size ", size);
    if (v < 0) v += size;
  }
}

// Runs `write(buffer)` on a contiguous tensor laid out like self, and makes self hold the
// result: the buffer is self when self is contiguous, else a copy written back by copy_.
template <typename F>
Tensor& write_through(Tensor& self, F&& write) {
  if (self.is_contiguous()) {
    write(self);
    return self;
  }
  Tensor buffer = self.contiguous();
  write(buffer);
  return native::copy_(self, buffer);
}

// A source read while self is written: a clone when the two share storage.
Tensor unaliased(const Tensor& src, const Tensor& self) {
  return src.is_alias_of(self) ? native::clone(src) : src;
}

// ── advanced indexing: the plan shared by index() and index_put_() ───────────────────────────
//
// self's dims fall in three groups: `before` (not indexed, in front of the first index tensor),
// the indexed dims (replaced by the broadcast shape of the index tensors), and `after`. When a
// non-indexed dim separates two indexed ones, `before` is empty and every non-indexed dim goes
// to `after` (the broadcast shape goes first: NumPy's rule).
//
//   result shape = before + index_shape + after
//   result[p, b, q] = self.data[before_offsets[p] + index_offsets[b] + after_offsets[q]]
struct AdvancedIndex {
  std::vector<int64_t> before, before_strides;
  std::vector<int64_t> index_shape;
  std::vector<int64_t> after, after_strides;
  std::vector<int64_t> index_offsets;  // Σ_k idx_k · stride_k per element of index_shape

  std::vector<int64_t> result_shape() const {
    std::vector<int64_t> shape = before;
    shape.insert(shape.end(), index_shape.begin(), index_shape.end());
    shape.insert(shape.end(), after.begin(), after.end());
    return shape;
  }
};

// One index tensor per dim of self (undefined: the dim is not indexed); masks become the int64
// index tensors of their true elements, one per dim they cover.
std::vector<Tensor> expand_masks(const Tensor& self,
                                 const std::vector<std::optional<Tensor>>& indices) {
  std::vector<Tensor> per_dim;
  auto check_count = [&](int64_t used) {
    TT_CHECK_INDEX(used <= self.dim(), "too many indices for tensor of dimension ", self.dim(),
                   " (got ", used, ")");
  };
  for (const std::optional<Tensor>& entry : indices) {
    const auto d = static_cast<int64_t>(per_dim.size());
    if (!entry || !entry->defined()) {
      check_count(d + 1);
      per_dim.emplace_back();
      continue;
    }
    const Tensor& t = *entry;
    if (t.dtype() == kInt64) {
      check_count(d + 1);
      per_dim.push_back(t);
      continue;
    }
    TT_CHECK_INDEX(is_mask(t.dtype()),
                   "tensors used as indices must be long, byte or bool tensors (got a ", t.dtype(),
                   " tensor; convert it with .to(kInt64), or compare to make a mask)");
    TT_CHECK_INDEX(t.dim() > 0, "a 0-dim mask cannot index dim ", d,
                   " of a tensor; pass it through Tensor::index({mask}), which adds its dim");
    check_count(d + t.dim());
    for (int64_t j = 0; j < t.dim(); ++j) {
      TT_CHECK_INDEX(t.size(j) == self.size(d + j), "The shape of the mask ", t.sizes(),
                     " at index ", j, " does not match the shape of the indexed tensor ",
                     self.sizes(), " at index ", d + j);
    }
    const Tensor coords = native::nonzero(t);  // [count, t.dim()]
    for (int64_t j = 0; j < t.dim(); ++j) per_dim.push_back(native::select(coords, 1, j));
  }
  per_dim.resize(static_cast<size_t>(self.dim()));
  return per_dim;
}

// Plans self[indices] over the layout of `self` (sizes and strides) and checks every index.
AdvancedIndex plan_advanced_index(const Tensor& self,
                                  const std::vector<std::optional<Tensor>>& indices) {
  const std::vector<Tensor> per_dim = expand_masks(self, indices);
  AdvancedIndex plan;
  std::vector<int64_t> indexed;  // the indexed dims, in order
  for (int64_t d = 0; d < self.dim(); ++d) {
    if (per_dim[d].defined()) indexed.push_back(d);
  }
  std::string shapes;  // for the error: "[2], [3]"
  for (int64_t d : indexed) {
    shapes += (shapes.empty() ? "" : ", ") + detail::str(per_dim[d].sizes());
  }
  try {
    for (int64_t d : indexed) {
      plan.index_shape = broadcast_shapes(plan.index_shape, per_dim[d].sizes());
    }
  } catch (const Error&) {
    throw IndexError(detail::str(
        "shape mismatch: indexing tensors could not be broadcast together with shapes ", shapes));
  }
  const bool separated = !indexed.empty() && indexed.back() - indexed.front() + 1 !=
                                                 static_cast<int64_t>(indexed.size());
  const int64_t first = indexed.empty() ? self.dim() : indexed.front();
  for (int64_t d = 0; d < self.dim(); ++d) {
    if (per_dim[d].defined()) continue;
    const bool in_front = !separated && d < first;
    (in_front ? plan.before : plan.after).push_back(self.size(d));
    (in_front ? plan.before_strides : plan.after_strides).push_back(self.stride(d));
  }
  // Every index is checked (and wrapped) even when the result is empty; offsets are computed
  // only for a result with elements (all of whose positions lie in storage).
  const int64_t n = compute_numel(plan.index_shape);
  const bool empty_result = compute_numel(plan.result_shape()) == 0;
  plan.index_offsets.assign(empty_result ? 0 : static_cast<size_t>(n), 0);
  for (int64_t d : indexed) {
    std::vector<int64_t> idx = index_values(native::expand(per_dim[d], plan.index_shape));
    check_bounds("", idx, self.size(d), d, /*negative_ok=*/true);
    if (empty_result) continue;
    for (int64_t k = 0; k < n; ++k) plan.index_offsets[k] += idx[k] * self.stride(d);
  }
  return plan;
}

}  // namespace

namespace native {

Tensor nonzero(const Tensor& self) {
  const Tensor c = self.contiguous();
  const int64_t n = c.numel(), ndim = c.dim();
  std::vector<uint8_t> hit(static_cast<size_t>(n));
  int64_t count = 0;
  dispatch_storage_types(c.dtype(), "nonzero", [&]<typename T>() {
    const T* p = c.data_ptr<T>();
    for (int64_t k = 0; k < n; ++k) {
      hit[k] = p[k] != T(0);  // NaN counts as non-zero, as in PyTorch
      count += hit[k];
    }
  });
  Tensor out = empty({count, ndim}, kInt64);
  int64_t* o = out.data_ptr<int64_t>();
  std::vector<int64_t> pos(static_cast<size_t>(ndim), 0);  // the odometer of strided_offsets
  for (int64_t k = 0; k < n; ++k) {
    if (hit[k]) o = std::copy(pos.begin(), pos.end(), o);
    for (int64_t d = ndim - 1; d >= 0; --d) {
      if (++pos[d] < c.size(d)) break;
      pos[d] = 0;
    }
  }
  return out;
}

Tensor index(const Tensor& self, const std::vector<std::optional<Tensor>>& indices) {
  const AdvancedIndex plan = plan_advanced_index(self, indices);
  Tensor out = empty(plan.result_shape(), self.dtype());
  if (out.numel() == 0) return out;
  const std::vector<int64_t> before = strided_offsets(plan.before, plan.before_strides);
  const std::vector<int64_t> after = strided_offsets(plan.after, plan.after_strides);
  dispatch_storage_types(self.dtype(), "index", [&]<typename T>() {
    const T* src = self.data_ptr<T>();
    T* dst = out.data_ptr<T>();
    for (int64_t p : before) {
      for (int64_t b : plan.index_offsets) {
        for (int64_t q : after) *dst++ = src[p + b + q];
      }
    }
  });
  return out;
}

Tensor& index_put_(Tensor& self, const std::vector<std::optional<Tensor>>& indices,
                   const Tensor& values, bool accumulate) {
  TT_CHECK_TYPE(values.dtype() == self.dtype(),
                "Index put requires the source and destination dtypes match, got ", self.dtype(),
                " for the destination and ", values.dtype(), " for the source.");
  if (accumulate && opmath::is_reduced(self)) {
    return opmath::compute_(
        self,
        [&](Tensor& wide, const Tensor& v) { return native::index_put_(wide, indices, v, true); },
        values);
  }
  const Tensor source = unaliased(values, self);
  return write_through(self, [&](Tensor& buffer) {
    const AdvancedIndex plan = plan_advanced_index(buffer, indices);
    const std::vector<int64_t> shape = plan.result_shape();
    bool fits = false;
    try {
      fits = broadcast_shapes(source.sizes(), shape) == shape;
    } catch (const Error&) {  // not broadcastable at all: the message below says why
    }
    TT_CHECK(fits, "shape mismatch: value tensor of shape ", source.sizes(),
             " cannot be broadcast to indexing result of shape ", IntArrayRef(shape));
    if (compute_numel(shape) == 0) return;
    const Tensor v = native::expand(source, shape);
    const std::vector<int64_t> before = strided_offsets(plan.before, plan.before_strides);
    const std::vector<int64_t> after = strided_offsets(plan.after, plan.after_strides);
    const std::vector<int64_t> v_offsets = strided_offsets(v.sizes(), v.strides());
    auto kernel = [&]<typename T>() {
      T* dst = buffer.data_ptr<T>();
      const T* src = v.data_ptr<T>();
      size_t k = 0;  // the position in the result, row-major
      for (int64_t p : before) {
        for (int64_t b : plan.index_offsets) {
          for (int64_t q : after) {
            if (accumulate) {
              add_into(dst[p + b + q], src[v_offsets[k++]]);
            } else {
              dst[p + b + q] = src[v_offsets[k++]];
            }
          }
        }
      }
    };
    if (accumulate) {
      dispatch_all_types(self.dtype(), "index_put_ (accumulate=true)", kernel);
    } else {
      dispatch_storage_types(self.dtype(), "index_put_", kernel);
    }
  });
}

}  // namespace native

// ── gather / scatter ──────────────────────────────────────────────────────────────────────────
//
//   gather (dim 1):   out[i][j] = self[i][index[i][j]]
//   scatter (dim 1):  self[i][index[i][j]] = src[i][j]
//
// Both walk the positions p of `index`; the self position is p with its coordinate `dim` replaced
// by index[p]. In offsets: Σ_{d ≠ dim} p_d · stride_d (self's strides with stride[dim] = 0, over
// index's shape) + index[p] · stride[dim].

namespace {

// A 0-d tensor as a 1-d one of one element (PyTorch's ensure_nonempty_dim for these ops).
Tensor at_least_1d(const Tensor& t) {
  return t.dim() == 0 ? native::view(t, {1}) : t;
}

// The checks gather and scatter share (PyTorch's gather_shape_check / scatter_shape_check):
// index is int64 with self's number of dims, and no larger than self in any dim but `dim` (nor
// than src in any dim, when there is a src).
void check_scatter_gather(std::string_view op, const Tensor& self, int64_t dim, const Tensor& index,
                          const Tensor* src) {
  TT_CHECK_TYPE(index.dtype() == kInt64, op, "(): Expected dtype int64 for index, but got ",
                index.dtype());
  const Tensor s = at_least_1d(self), i = at_least_1d(index);
  TT_CHECK(i.dim() == s.dim(), op,
           "(): Index tensor must have the same number of dimensions as input tensor (index ",
           index.sizes(), ", self ", self.sizes(), ")");
  int64_t too_big = -1;  // the first dim (but `dim`) where index is larger than self
  for (int64_t d = 0; d < s.dim() && too_big < 0; ++d) {
    if (d != dim && i.size(d) > s.size(d)) too_big = d;
  }
  if (src == nullptr) {
    TT_CHECK(too_big < 0, "Size does not match at dimension ", too_big, " expected index ",
             index.sizes(), " to be smaller than self ", self.sizes(), " apart from dimension ",
             dim);
    return;
  }
  const Tensor sr = at_least_1d(*src);
  TT_CHECK(sr.dim() == s.dim(), op,
           "(): Index tensor must have the same number of dimensions as src tensor (index ",
           index.sizes(), ", src ", src->sizes(), ")");
  bool fits = too_big < 0;
  for (int64_t d = 0; d < s.dim(); ++d) fits = fits && i.size(d) <= sr.size(d);
  TT_CHECK(fits, "Expected index ", index.sizes(), " to be smaller than self ", self.sizes(),
           " apart from dimension ", dim, " and to be smaller size than src ", src->sizes());
}

// The offsets, relative to element 0 of `t`, of t's elements named by index: p → p with
// coordinate `dim` replaced by index[p] (already checked and wrapped), for every position p.
std::vector<int64_t> scatter_gather_offsets(const Tensor& t, int64_t dim, const Tensor& index,
                                            const std::vector<int64_t>& idx) {
  const Tensor t1 = at_least_1d(t), i1 = at_least_1d(index);
  std::vector<int64_t> strides = t1.strides().vec();
  const int64_t stride_dim = strides[dim];
  strides[dim] = 0;
  std::vector<int64_t> offsets = strided_offsets(i1.sizes(), strides);
  for (size_t k = 0; k < offsets.size(); ++k) offsets[k] += idx[k] * stride_dim;
  return offsets;
}

// The index values of gather/scatter, checked against self's size in dim (no negative index).
std::vector<int64_t> checked_scatter_gather_index(const Tensor& self, int64_t dim,
                                                  const Tensor& index) {
  std::vector<int64_t> idx = index_values(index);
  check_bounds("", idx, at_least_1d(self).size(dim), dim, /*negative_ok=*/false);
  return idx;
}

enum class ScatterMode { kAssign, kAdd };

// self[p with p[dim] = index[p]] (= or +=) src[p]: src is a tensor, or a scalar when undefined.
Tensor& scatter_impl(std::string_view op, Tensor& self, int64_t dim, const Tensor& index,
                     const Tensor& src, const Scalar& value, ScatterMode mode) {
  const int64_t d = wrap_dim(dim, self.dim(), op);
  if (src.defined()) {
    TT_CHECK_TYPE(src.dtype() == self.dtype(), op,
                  "(): Expected self.dtype to be equal to src.dtype (self ", self.dtype(), ", src ",
                  src.dtype(), ")");
  }
  check_scatter_gather(op, self, d, index, src.defined() ? &src : nullptr);
  const std::vector<int64_t> idx = checked_scatter_gather_index(self, d, index);
  if (index.numel() == 0) return self;
  const Tensor source = src.defined() ? unaliased(src, self) : Tensor();
  return write_through(self, [&](Tensor& buffer) {
    const std::vector<int64_t> dst_offsets = scatter_gather_offsets(buffer, d, index, idx);
    std::vector<int64_t> src_offsets;
    if (source.defined()) {
      src_offsets = strided_offsets(at_least_1d(index).sizes(), at_least_1d(source).strides());
    }
    auto kernel = [&]<typename T>() {
      T* dst = buffer.data_ptr<T>();
      const T* s = source.defined() ? source.data_ptr<T>() : nullptr;
      const T fill = source.defined() ? T{} : value.to<T>();
      for (size_t k = 0; k < dst_offsets.size(); ++k) {
        const T v = s != nullptr ? s[src_offsets[k]] : fill;
        if (mode == ScatterMode::kAdd) {
          add_into(dst[dst_offsets[k]], v);
        } else {
          dst[dst_offsets[k]] = v;
        }
      }
    };
    if (mode == ScatterMode::kAdd) {
      dispatch_all_types(self.dtype(), op, kernel);
    } else {
      dispatch_storage_types(self.dtype(), op, kernel);
    }
  });
}

}  // namespace

namespace native {

Tensor gather(const Tensor& self, int64_t dim, const Tensor& index) {
  const int64_t d = wrap_dim(dim, self.dim(), "gather");
  check_scatter_gather("gather", self, d, index, nullptr);
  const std::vector<int64_t> idx = checked_scatter_gather_index(self, d, index);
  Tensor out = empty(index.sizes(), self.dtype());
  if (out.numel() == 0) return out;
  const std::vector<int64_t> offsets = scatter_gather_offsets(self, d, index, idx);
  dispatch_storage_types(self.dtype(), "gather", [&]<typename T>() {
    const T* src = self.data_ptr<T>();
    T* dst = out.data_ptr<T>();
    for (size_t k = 0; k < offsets.size(); ++k) dst[k] = src[offsets[k]];
  });
  return out;
}

Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_impl("scatter", self, dim, index, src, 0, ScatterMode::kAssign);
}

Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Scalar& value) {
  return scatter_impl("scatter", self, dim, index, Tensor(), value, ScatterMode::kAssign);
}

Tensor& scatter_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  if (opmath::is_reduced(self) && src.defined() && src.dtype() == self.dtype()) {
    return opmath::compute_(
        self,
        [&](Tensor& wide, const Tensor& s) { return native::scatter_add_(wide, dim, index, s); },
        src);
  }
  return scatter_impl("scatter_add", self, dim, index, src, 0, ScatterMode::kAdd);
}

// ── index_select / index_add_: one index per entry of a dim ───────────────────────────────────
// Both are advanced indexing of the one dim: self.index({None, …, None, index}) and its
// accumulating index_put_. Unlike advanced indexing they refuse negative indices (as PyTorch).

namespace {
// index as a checked 1-d int64 tensor of entries of self's dim `dim`.
Tensor checked_dim_index(std::string_view op, const Tensor& self, int64_t dim,
                         const Tensor& index) {
  TT_CHECK_INDEX(index.dim() <= 1, op,
                 "(): Index is supposed to be a vector, but got index of shape ", index.sizes());
  TT_CHECK_TYPE(index.dtype() == kInt64, op, "(): Expected dtype int64 for index, but got ",
                index.dtype());
  std::vector<int64_t> idx = index_values(index);
  check_bounds(detail::str(op, "(): "), idx, at_least_1d(self).size(dim), dim,
               /*negative_ok=*/false);
  return native::view(index, {index.numel()});
}

// indices for advanced indexing that index only dim `dim`, with `index`.
std::vector<std::optional<Tensor>> along_dim(int64_t dim, const Tensor& index) {
  std::vector<std::optional<Tensor>> indices(static_cast<size_t>(dim));
  indices.emplace_back(index);
  return indices;
}
}  // namespace

Tensor index_select(const Tensor& self, int64_t dim, const Tensor& index) {
  const int64_t d = wrap_dim(dim, self.dim(), "index_select");
  const Tensor idx = checked_dim_index("index_select", self, d, index);
  if (self.dim() > 0) return native::index(self, along_dim(d, idx));
  TT_CHECK_INDEX(idx.numel() == 1, "index_select(): Index to scalar can have only 1 value, got ",
                 idx.numel(), " value(s)");
  return native::clone(self);
}

Tensor& index_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& source,
                   const Scalar& alpha) {
  const int64_t d = wrap_dim(dim, self.dim(), "index_add_");
  TT_CHECK_TYPE(source.dtype() == self.dtype(), "index_add_(): self (", self.dtype(),
                ") and source (", source.dtype(), ") must have the same scalar type");
  TT_CHECK_TYPE(self.is_floating_point() || !alpha.is_floating_point(),
                "index_add_(): For integral input tensors, argument alpha must not be a floating "
                "point number.");
  const Tensor idx = checked_dim_index("index_add_", self, d, index);
  Tensor self1 = at_least_1d(self);
  const Tensor src1 = at_least_1d(source);
  TT_CHECK(src1.dim() == self1.dim(), "index_add_(): source ", source.sizes(),
           " must have as many dims as self ", self.sizes());
  TT_CHECK(src1.size(d) == idx.numel(), "index_add_(): Number of indices (", idx.numel(),
           ") should be equal to source.size(dim): (", src1.size(d), "), for dim: ", d);
  for (int64_t k = 0; k < self1.dim(); ++k) {
    TT_CHECK(k == d || src1.size(k) == self1.size(k), "index_add_(): source ", source.sizes(),
             " and self ", self.sizes(), " must have the same size in every dim but dim ", d);
  }
  const Tensor scaled = alpha.to<double>() == 1.0 ? src1 : src1.mul(alpha);
  native::index_put_(self1, along_dim(d, idx), scaled, /*accumulate=*/true);
  return self;
}

Tensor masked_select(const Tensor& self, const Tensor& mask) {
  TT_CHECK_TYPE(is_mask(mask.dtype()),
                "masked_select: expected BoolTensor or ByteTensor for mask, but got ",
                mask.dtype());
  std::vector<int64_t> shape;
  try {
    shape = broadcast_shapes(self.sizes(), mask.sizes());
  } catch (const Error& e) {
    throw Error(detail::str("masked_select: mask of shape ", mask.sizes(), " and self of shape ",
                            self.sizes(), " do not broadcast: ", e.what()));
  }
  if (shape.empty()) shape = {1};  // a 0-d mask indexes a dim of one element
  return native::index(native::expand(self, shape), {native::expand(mask, shape)});
}

}  // namespace native

}  // namespace tinytorch
