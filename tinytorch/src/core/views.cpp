// Module 01 — Tensor: sizes, strides and views.
//
// This file is yours to write in module 01 (see modules/01_tensor/README.md, Parts 2–4).
// Everything here changes METADATA only: a view shares its base's Storage, so writing through
// a view is visible in the base. The only function that moves elements is reshape(), and only
// when compute_view_strides() proves no view can exist.
#include <algorithm>
#include <limits>

#include "tinytorch/core/shape.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

// ── the arithmetic of sizes and strides ────────────────────────────────────────────────────

int64_t compute_numel(IntArrayRef sizes) {
  // BEGIN SOLUTION
  int64_t n = 1;
  for (int64_t s : sizes) {
    TT_CHECK_VALUE(s >= 0, "negative dimension ", s, " in shape ", sizes);
    TT_CHECK_VALUE(s == 0 || n <= std::numeric_limits<int64_t>::max() / s, "shape ", sizes,
                   " has more elements than fit in int64");
    n *= s;
  }
  return n;
  // END SOLUTION
}

std::vector<int64_t> contiguous_strides(IntArrayRef sizes) {
  // BEGIN SOLUTION
  // Walk from the last dim to the first: the last dim steps 1 element, every other dim steps
  // over one whole "row" of the dims after it.   sizes [2, 3, 4] → strides [3·4, 4, 1].
  std::vector<int64_t> strides(sizes.size());
  int64_t running = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    strides[i] = running;
    // A shape with a 0-sized dim has 0 elements (compute_numel accepts it) but its strides can
    // still exceed int64: [0, 2^40, 2^40] needs a stride of 2^80. Check before multiplying.
    TT_CHECK_VALUE(i == 0 || !mul_overflows(running, std::max<int64_t>(sizes[i], 1), &running),
                   "shape ", sizes, " has strides that do not fit in int64");
  }
  return strides;
  // END SOLUTION
}

bool is_contiguous_strides(IntArrayRef sizes, IntArrayRef strides) {
  // BEGIN SOLUTION
  // No elements: nothing is out of order, whatever the strides of the other dims.
  for (int64_t s : sizes) {
    if (s == 0) return true;
  }
  int64_t expected = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    if (sizes[i] == 1) continue;  // a size-1 dim is never stepped along; its stride is moot
    if (strides[i] != expected) return false;
    expected *= sizes[i];
  }
  return true;
  // END SOLUTION
}

int64_t wrap_dim(int64_t dim, int64_t ndim, std::string_view op) {
  // BEGIN SOLUTION
  // A 0-d tensor behaves like a 1-d one for dim arguments, as in PyTorch.
  const int64_t n = std::max<int64_t>(ndim, 1);
  TT_CHECK_INDEX(dim >= -n && dim < n, op, op.empty() ? "" : ": ",
                 "Dimension out of range (expected to be in range of [", -n, ", ", n - 1,
                 "], but got ", dim, ")");
  return dim < 0 ? dim + n : dim;
  // END SOLUTION
}

std::vector<int64_t> infer_size(IntArrayRef shape, int64_t numel) {
  // BEGIN SOLUTION
  std::vector<int64_t> out = shape.vec();
  int64_t known = 1;       // the product of the given sizes (all but the -1)
  bool has_zero = false;   // a 0 makes that product 0, however large the other sizes are
  bool too_large = false;  // the product exceeds int64, so it can equal no element count
  std::optional<size_t> infer_at;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      TT_CHECK_VALUE(!infer_at, "shape ", shape, ": only one dimension can be inferred (-1)");
      infer_at = i;
    } else {
      TT_CHECK_VALUE(out[i] >= 0, "shape ", shape, ": invalid size ", out[i],
                     " (sizes must be >= 0, or -1 to infer one)");
      has_zero = has_zero || out[i] == 0;
      too_large = too_large || mul_overflows(known, out[i], &known);
    }
  }
  // NOTE: a wrapped product can be anything, 0 included (2^40 · 2^40 wraps to 0), so the
  // overflow is judged by the flag, never by the value.
  TT_CHECK_VALUE(has_zero || !too_large, "shape ", shape, " is invalid for input of size ", numel,
                 ": its sizes multiply to more than fits in int64");
  if (has_zero) known = 0;
  if (infer_at) {
    // -1 next to a 0 is ambiguous: any size would give 0 elements.
    TT_CHECK_VALUE(known != 0, "shape ", shape,
                   " is invalid: cannot infer the -1 dimension next to a 0-sized one");
    TT_CHECK_VALUE(numel % known == 0, "shape ", shape, " is invalid for input of size ", numel);
    out[*infer_at] = numel / known;
  } else {
    TT_CHECK_VALUE(known == numel, "shape ", shape, " is invalid for input of size ", numel);
  }
  return out;
  // END SOLUTION
}

std::optional<std::vector<int64_t>> compute_view_strides(IntArrayRef old_sizes,
                                                         IntArrayRef old_strides,
                                                         IntArrayRef new_sizes) {
  // BEGIN SOLUTION
  // Group the old dims into "chunks" that are contiguous among themselves (stride[d] ==
  // stride[d+1] * size[d+1]). Inside a chunk the elements form one evenly spaced run, so the new
  // dims that tile that chunk can be given strides; a new dim that would span two chunks cannot.
  //
  //   old sizes [2, 3, 4], strides [12, 4, 1]   → one chunk of 24 → any new shape works
  //   transposed [4, 3] of a [3, 4], strides [1, 4] → two chunks  → view({12}) impossible
  std::vector<int64_t> new_strides(new_sizes.size());
  if (old_sizes.empty()) {  // a 0-d tensor: every new dim has size 1
    std::fill(new_strides.begin(), new_strides.end(), 1);
    return new_strides;
  }
  if (compute_numel(old_sizes) == 0) {  // no elements: strides only need to be well-formed
    return contiguous_strides(new_sizes);
  }
  int64_t view_d = static_cast<int64_t>(new_sizes.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();  // stride of the innermost dim of the chunk
  int64_t tensor_numel = 1;                        // elements of the old chunk seen so far
  int64_t view_numel = 1;                          // elements of the new dims placed so far
  for (int64_t tensor_d = static_cast<int64_t>(old_sizes.size()) - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= old_sizes[tensor_d];
    // End of a chunk: the first dim, or the next-outer dim does not continue this run.
    const bool chunk_ends =
        tensor_d == 0 || (old_sizes[tensor_d - 1] != 1 &&
                          old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride);
    if (chunk_ends) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_sizes[view_d] == 1)) {
        new_strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_sizes[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;  // a new dim straddles two chunks
      if (tensor_d > 0) {
        chunk_base_stride = old_strides[tensor_d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
  // END SOLUTION
}

std::vector<int64_t> broadcast_shapes(IntArrayRef a, IntArrayRef b) {
  // BEGIN SOLUTION
  // Align on the right; walk both shapes from their last dim.
  //   a:     [3, 1]       →  [3, 4]
  //   b:        [4]
  const size_t n = std::max(a.size(), b.size());
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t sa = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t sb = i < b.size() ? b[b.size() - 1 - i] : 1;
    TT_CHECK(sa == sb || sa == 1 || sb == 1, "The size of tensor a (", sa,
             ") must match the size of tensor b (", sb, ") at non-singleton dimension ", n - 1 - i,
             " (shapes ", a, " and ", b, " cannot be broadcast together)");
    out[n - 1 - i] = sa == 1 ? sb : sa;
  }
  return out;
  // END SOLUTION
}

// ── views ──────────────────────────────────────────────────────────────────────────────────

namespace {
// A new TensorImpl over the same storage: the one way every view below is made.
Tensor make_view(const Tensor& self, std::vector<int64_t> sizes, std::vector<int64_t> strides,
                 int64_t storage_offset) {
  auto impl = std::make_shared<TensorImpl>(self.storage(), self.dtype(), std::move(sizes),
                                           std::move(strides), storage_offset);
  // A per-tensor scale means the same for every element, so any view keeps it. Per-channel
  // scales belong to indices of `axis`, which a view may move, drop or slice: refused.
  if (const auto& q = self.unsafeGetTensorImpl()->quantizer()) {
    TT_CHECK(q->qscheme == kPerTensorAffine,
             "views of a per-channel quantized tensor are not supported (hint: take the view "
             "of x.int_repr() or of x.dequantize())");
    impl->set_quantizer(q);
  }
  return Tensor(std::move(impl));
}
}  // namespace

Tensor native::as_strided(const Tensor& self, IntArrayRef sizes, IntArrayRef strides,
                          std::optional<int64_t> storage_offset) {
  const int64_t offset = storage_offset.value_or(self.storage_offset());
  TT_CHECK(sizes.size() == strides.size(), "as_strided: got ", sizes.size(), " sizes but ",
           strides.size(), " strides");
  TT_CHECK(offset >= 0, "as_strided: negative storage offset ", offset);
  for (size_t i = 0; i < sizes.size(); ++i) {
    TT_CHECK(sizes[i] >= 0, "as_strided: negative size ", sizes[i], " in ", sizes);
    TT_CHECK(strides[i] >= 0, "as_strided: negative stride ", strides[i], " in ", strides);
  }
  if (compute_numel(sizes) == 0) return make_view(self, sizes.vec(), strides.vec(), offset);
  // The largest element the view can reach, offset + Σ (size - 1) · stride, must lie inside the
  // storage. Checked arithmetic: a huge stride would wrap the sum around to a small number.
  const auto capacity = static_cast<int64_t>(self.storage().nbytes()) / self.element_size();
  int64_t last = offset;
  for (size_t i = 0; i < sizes.size(); ++i) {
    int64_t reach = 0;
    TT_CHECK(!mul_overflows(sizes[i] - 1, strides[i], &reach) && !add_overflows(last, reach, &last),
             "as_strided: sizes ", sizes, " and strides ", strides, " with offset ", offset,
             " reach past element 2^63 - 1, but the storage holds only ", capacity, " elements");
  }
  TT_CHECK(last < capacity, "as_strided: sizes ", sizes, " and strides ", strides, " with offset ",
           offset, " reach element ", last, " but the storage holds only ", capacity, " elements");
  return make_view(self, sizes.vec(), strides.vec(), offset);
}

Tensor native::view(const Tensor& self, IntArrayRef shape) {
  // BEGIN SOLUTION
  std::vector<int64_t> sizes = infer_size(shape, self.numel());
  auto strides = compute_view_strides(self.sizes(), self.strides(), sizes);
  TT_CHECK(strides.has_value(), "view size ", IntArrayRef(sizes),
           " is not compatible with input tensor's size ", self.sizes(), " and stride ",
           self.strides(),
           " (at least one dimension spans across two contiguous subspaces). "
           "Use .reshape(...) instead.");
  return make_view(self, std::move(sizes), std::move(*strides), self.storage_offset());
  // END SOLUTION
}

Tensor native::reshape(const Tensor& self, IntArrayRef shape) {
  // BEGIN SOLUTION
  std::vector<int64_t> sizes = infer_size(shape, self.numel());
  if (auto strides = compute_view_strides(self.sizes(), self.strides(), sizes)) {
    return make_view(self, std::move(sizes), std::move(*strides), self.storage_offset());
  }
  return native::view(self.clone(), sizes);  // the elements are not evenly spaced: copy first
  // END SOLUTION
}

Tensor native::transpose(const Tensor& self, int64_t dim0, int64_t dim1) {
  // BEGIN SOLUTION
  if (self.dim() == 0) {
    wrap_dim(dim0, 0, "transpose");
    wrap_dim(dim1, 0, "transpose");
    return make_view(self, {}, {}, self.storage_offset());
  }
  const int64_t d0 = wrap_dim(dim0, self.dim(), "transpose");
  const int64_t d1 = wrap_dim(dim1, self.dim(), "transpose");
  std::vector<int64_t> sizes = self.sizes().vec(), strides = self.strides().vec();
  std::swap(sizes[d0], sizes[d1]);
  std::swap(strides[d0], strides[d1]);
  return make_view(self, std::move(sizes), std::move(strides), self.storage_offset());
  // END SOLUTION
}

Tensor Tensor::t() const {
  TT_CHECK(dim() <= 2, "t() expects a tensor with <= 2 dimensions, but self is ", dim(),
           "D (use transpose(dim0, dim1) or permute(dims))");
  return dim() < 2 ? transpose(0, 0) : transpose(0, 1);
}

Tensor native::permute(const Tensor& self, IntArrayRef dims) {
  // BEGIN SOLUTION
  TT_CHECK(static_cast<int64_t>(dims.size()) == self.dim(), "permute(): number of dims ",
           dims.size(), " in ", dims, " doesn't match the tensor's ", self.dim(), " dims");
  std::vector<int64_t> sizes(dims.size()), strides(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = wrap_dim(dims[i], self.dim(), "permute");
    TT_CHECK(!seen[d], "permute(): duplicate dims are not allowed (got ", dims, ")");
    seen[d] = true;
    sizes[i] = self.sizes()[d];
    strides[i] = self.strides()[d];
  }
  return make_view(self, std::move(sizes), std::move(strides), self.storage_offset());
  // END SOLUTION
}

Tensor native::squeeze(const Tensor& self) {
  // BEGIN SOLUTION
  std::vector<int64_t> sizes, strides;
  for (int64_t d = 0; d < self.dim(); ++d) {
    if (self.sizes()[d] != 1) {
      sizes.push_back(self.sizes()[d]);
      strides.push_back(self.strides()[d]);
    }
  }
  return make_view(self, std::move(sizes), std::move(strides), self.storage_offset());
  // END SOLUTION
}

Tensor native::squeeze(const Tensor& self, int64_t dim) {
  // BEGIN SOLUTION
  const int64_t d = wrap_dim(dim, self.dim(), "squeeze");
  std::vector<int64_t> sizes = self.sizes().vec(), strides = self.strides().vec();
  if (self.dim() > 0 && sizes[d] == 1) {
    sizes.erase(sizes.begin() + d);
    strides.erase(strides.begin() + d);
  }
  return make_view(self, std::move(sizes), std::move(strides), self.storage_offset());
  // END SOLUTION
}

Tensor native::unsqueeze(const Tensor& self, int64_t dim) {
  // BEGIN SOLUTION
  const int64_t d = wrap_dim(dim, self.dim() + 1, "unsqueeze");
  std::vector<int64_t> sizes = self.sizes().vec(), strides = self.strides().vec();
  // The new dim has size 1, so its stride is never used to step; pick the value that keeps a
  // contiguous tensor contiguous (the stride of the dim it sits in front of, times its size).
  const int64_t stride = d < self.dim() ? sizes[d] * strides[d] : 1;
  sizes.insert(sizes.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return make_view(self, std::move(sizes), std::move(strides), self.storage_offset());
  // END SOLUTION
}

Tensor native::expand(const Tensor& self, IntArrayRef sizes) {
  // BEGIN SOLUTION
  // Broadcasting without copying: a dim of size 1 becomes size n with stride 0, so all n
  // positions read the same element. New leading dims also get stride 0.
  //   [3, 1] strides [1, 1]  expand({3, 4}) →  [3, 4] strides [1, 0]
  const auto n = static_cast<int64_t>(sizes.size());
  TT_CHECK(n >= self.dim(), "expand: the number of sizes provided (", n,
           ") must be greater or equal to the number of dimensions in the tensor (", self.dim(),
           ")");
  std::vector<int64_t> new_sizes(n), new_strides(n);
  for (int64_t i = n - 1; i >= 0; --i) {
    const int64_t self_d = i - (n - self.dim());  // the matching dim of self, < 0 for a new dim
    const int64_t want = sizes[i];
    if (self_d < 0) {
      TT_CHECK(want >= 0, "expand: the expanded size ", want, " is not allowed in a leading, ",
               "non-existing dimension (target sizes ", sizes, ")");
      new_sizes[i] = want;
      new_strides[i] = 0;
      continue;
    }
    const int64_t have = self.sizes()[self_d];
    if (want == -1 || want == have) {
      new_sizes[i] = have;
      new_strides[i] = self.strides()[self_d];
    } else {
      TT_CHECK(have == 1, "The expanded size of the tensor (", want,
               ") must match the existing size (", have, ") at non-singleton dimension ", i,
               ".  Target sizes: ", sizes, ".  Tensor sizes: ", self.sizes());
      TT_CHECK(want >= 0, "expand: invalid target size ", want, " in ", sizes);
      new_sizes[i] = want;
      new_strides[i] = 0;
    }
  }
  return make_view(self, std::move(new_sizes), std::move(new_strides), self.storage_offset());
  // END SOLUTION
}

Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  // BEGIN SOLUTION
  TT_CHECK(this->dim() > 0, "narrow() cannot be applied to a 0-dim tensor.");
  const int64_t d = wrap_dim(dim, this->dim(), "narrow");
  const int64_t size = sizes()[d];
  TT_CHECK_INDEX(start >= -size && start <= size, "narrow(): start (", start,
                 ") is out of bounds for dimension ", d, " of size ", size);
  if (start < 0) start += size;
  TT_CHECK_INDEX(length >= 0 && start + length <= size, "narrow(): start (", start, ") + length (",
                 length, ") exceeds dimension size (", size, ") of dim ", d);
  return slice(d, start, start + length, 1);
  // END SOLUTION
}

Tensor native::select(const Tensor& self, int64_t dim, int64_t index) {
  // BEGIN SOLUTION
  TT_CHECK_INDEX(self.dim() > 0, "select() cannot be applied to a 0-dim tensor.");
  const int64_t d = wrap_dim(dim, self.dim(), "select");
  const int64_t size = self.sizes()[d];
  TT_CHECK_INDEX(index >= -size && index < size, "select(): index ", index,
                 " out of range for tensor of size ", self.sizes(), " at dimension ", d);
  if (index < 0) index += size;
  std::vector<int64_t> sizes = self.sizes().vec(), strides = self.strides().vec();
  const int64_t offset = self.storage_offset() + index * strides[d];
  sizes.erase(sizes.begin() + d);
  strides.erase(strides.begin() + d);
  return make_view(self, std::move(sizes), std::move(strides), offset);
  // END SOLUTION
}

// NOTE: given (not a solution region): unbind is select at every index of `dim`.
std::vector<Tensor> native::unbind(const Tensor& self, int64_t dim) {
  TT_CHECK_INDEX(self.dim() > 0, "unbind() cannot be applied to a 0-dim tensor.");
  const int64_t d = wrap_dim(dim, self.dim(), "unbind");
  std::vector<Tensor> outs;
  outs.reserve(static_cast<size_t>(self.sizes()[d]));
  for (int64_t i = 0; i < self.sizes()[d]; ++i) outs.push_back(native::select(self, d, i));
  return outs;
}

// NOTE: given: split_with_sizes is narrow at consecutive offsets of `dim`.
std::vector<Tensor> native::split_with_sizes(const Tensor& self, IntArrayRef split_sizes,
                                             int64_t dim) {
  TT_CHECK_VALUE(self.dim() > 0, "split_with_sizes expects at least a 1-dimensional tensor");
  const int64_t d = wrap_dim(dim, self.dim(), "split_with_sizes");
  int64_t total = 0;
  for (const int64_t size : split_sizes) {
    TT_CHECK_VALUE(size >= 0,
                   "split_with_sizes expects split_sizes have only non-negative entries, but got "
                   "split_sizes=",
                   split_sizes);
    total += size;
  }
  TT_CHECK_VALUE(total == self.sizes()[d],
                 "split_with_sizes expects split_sizes to sum exactly to ", self.sizes()[d],
                 " (input tensor's size at dimension ", d, "), but got split_sizes=", split_sizes);
  std::vector<Tensor> outs;
  outs.reserve(split_sizes.size());
  int64_t offset = 0;
  for (const int64_t size : split_sizes) {
    outs.push_back(native::slice(self, d, offset, offset + size, 1));
    offset += size;
  }
  return outs;
}

Tensor native::slice(const Tensor& self, int64_t dim, std::optional<int64_t> start,
                     std::optional<int64_t> end, int64_t step) {
  // BEGIN SOLUTION
  TT_CHECK_INDEX(self.dim() > 0, "slice() cannot be applied to a 0-dim tensor.");
  TT_CHECK_VALUE(step > 0, "slice step must be positive (got ", step, ")");
  const int64_t d = wrap_dim(dim, self.dim(), "slice");
  const int64_t size = self.sizes()[d];
  // Python slice semantics: negative bounds count from the end, then clamp into [0, size].
  auto clamp_bound = [size](int64_t v) {
    if (v < 0) v += size;
    return std::clamp<int64_t>(v, 0, size);
  };
  const int64_t s = clamp_bound(start.value_or(0));
  const int64_t e = std::max(s, clamp_bound(end.value_or(size)));
  std::vector<int64_t> sizes = self.sizes().vec(), strides = self.strides().vec();
  const int64_t offset = self.storage_offset() + s * strides[d];
  // ceil((e - s) / step), written so that a huge step (INT64_MAX) cannot overflow.
  sizes[d] = e == s ? 0 : (e - s - 1) / step + 1;
  // The new stride is stride · step. It can only overflow when the slice has at most one
  // element (with two, step < size and the product stays inside the storage); then the stride
  // is never stepped along and the old one serves.
  int64_t stepped = 0;
  if (!mul_overflows(strides[d], step, &stepped)) strides[d] = stepped;
  return make_view(self, std::move(sizes), std::move(strides), offset);
  // END SOLUTION
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  // BEGIN SOLUTION
  if (dim() == 0) return reshape({1});
  const int64_t s = wrap_dim(start_dim, dim(), "flatten");
  const int64_t e = wrap_dim(end_dim, dim(), "flatten");
  TT_CHECK(s <= e, "flatten() has invalid args: start_dim (", start_dim,
           ") cannot come after end_dim (", end_dim, ")");
  std::vector<int64_t> shape(sizes().begin(), sizes().begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged *= sizes()[d];
  shape.push_back(merged);
  shape.insert(shape.end(), sizes().begin() + e + 1, sizes().end());
  return reshape(shape);
  // END SOLUTION
}

// NOTE: given. Sort the dims outermost first (largest stride; ties keep their order), allocate
// that permutation densely, and permute it back: the result has `sizes`, and walking its memory
// visits the dims in the same order as walking `strides`' (PyTorch's infer_dense_strides).
Tensor native::empty_in_stride_order(IntArrayRef sizes, IntArrayRef strides, ScalarType dtype) {
  TT_CHECK(sizes.size() == strides.size(), "empty_in_stride_order: got ", sizes.size(),
           " sizes but ", strides.size(), " strides");
  const size_t n = sizes.size();
  std::vector<int64_t> order(n);  // dims from the outermost (largest stride) to the innermost
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<int64_t>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return strides[a] > strides[b]; });
  std::vector<int64_t> dense_sizes(n), inverse(n);
  for (size_t k = 0; k < n; ++k) {
    dense_sizes[k] = sizes[order[k]];
    inverse[order[k]] = static_cast<int64_t>(k);
  }
  return native::permute(empty(dense_sizes, dtype), inverse);
}

}  // namespace tinytorch
