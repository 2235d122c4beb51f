// Factories: every way of making a brand-new tensor (a fresh Storage) from nothing or from values.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numeric>
#include <type_traits>
#include <utility>
#include <vector>

#include "tinytorch/core/tensor.h"

namespace tinytorch {

namespace {
// Applies the options that are not about memory (today: requires_grad).
Tensor finish(Tensor t, const TensorOptions& options) {
  if (options.requires_grad()) t.set_requires_grad(true);
  return t;
}

// Writes `value` converted to scalar_t into every element of a fresh contiguous tensor.
template <typename scalar_t>
void fill_contiguous(const Tensor& t, scalar_t value) {
  scalar_t* p = static_cast<scalar_t*>(t.data_ptr());
  std::fill(p, p + t.numel(), value);
}
}  // namespace

Tensor empty(IntArrayRef sizes, const TensorOptions& options) {
  const ScalarType dtype = options.dtype();
  const int64_t numel = compute_numel(sizes);
  // numel fits in int64, but numel × bytes-per-element may not: [2^62] float32 is 2^64 bytes.
  int64_t nbytes = 0;
  TT_CHECK_VALUE(!mul_overflows(numel, element_size(dtype), &nbytes), "empty: shape ", sizes,
                 " of ", dtype, " needs ", numel, " × ", element_size(dtype),
                 " bytes, more than fit in int64 (the largest tensor holds 2^63 - 1 bytes)");
  Storage storage(static_cast<size_t>(nbytes));
  auto impl = std::make_shared<TensorImpl>(std::move(storage), dtype, sizes.vec(),
                                           contiguous_strides(sizes), 0);
  return finish(Tensor(std::move(impl)), options);
}

// ── from_blob: a tensor over memory the caller owns ──────────────────────────────────────────
// NOTE: the Storage records the bytes the view can reach (the largest offset + 1 element), not a
// size the caller knows: we cannot check that the buffer is that large, only trust it (as
// libtorch does). Nothing is copied and nothing is freed unless a deleter is given.
Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides,
                 const std::function<void(void*)>& deleter, const TensorOptions& options) {
  const ScalarType dtype = options.dtype();
  TT_CHECK_VALUE(sizes.size() == strides.size(), "from_blob: sizes ", sizes, " and strides ",
                 strides, " must have the same length");
  int64_t extent = 1;  // elements from data to the last one the tensor can address, inclusive
  for (size_t d = 0; d < sizes.size(); ++d) {
    TT_CHECK_VALUE(sizes[d] >= 0, "from_blob: negative size ", sizes[d], " in ", sizes);
    TT_CHECK_VALUE(strides[d] >= 0, "from_blob: negative stride ", strides[d], " in ", strides,
                   " (the tensor must start at data)");
    if (sizes[d] == 0) extent = 0;
    if (extent > 0) extent += (sizes[d] - 1) * strides[d];
  }
  TT_CHECK_VALUE(data != nullptr || extent == 0, "from_blob: data is a null pointer but the ",
                 sizes, " tensor has elements");
  const auto address = reinterpret_cast<std::uintptr_t>(data);
  TT_CHECK_VALUE(address % static_cast<std::uintptr_t>(element_size(dtype)) == 0,
                 "from_blob: data is not aligned for ", dtype,
                 " (its address must be a multiple of ", element_size(dtype), " bytes)");
  Storage storage(data, static_cast<size_t>(extent * element_size(dtype)), deleter);
  auto impl =
      std::make_shared<TensorImpl>(std::move(storage), dtype, sizes.vec(), strides.vec(), 0);
  return finish(Tensor(std::move(impl)), options);
}

Tensor from_blob(void* data, IntArrayRef sizes, const TensorOptions& options) {
  return from_blob(data, sizes, contiguous_strides(sizes), {}, options);
}
Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides, const TensorOptions& options) {
  return from_blob(data, sizes, strides, {}, options);
}
Tensor from_blob(void* data, IntArrayRef sizes, const std::function<void(void*)>& deleter,
                 const TensorOptions& options) {
  return from_blob(data, sizes, contiguous_strides(sizes), deleter, options);
}

Tensor full(IntArrayRef sizes, const Scalar& fill_value, const TensorOptions& options) {
  // Like torch.full: without a dtype, the fill value decides (3 → int64, 3.0 → float32).
  const ScalarType dtype =
      options.dtype_or(fill_value.is_floating_point() ? kDefaultFloat : fill_value.type());
  Tensor t = empty(sizes, options.dtype(dtype).requires_grad(false));
  // A plain loop over the fresh contiguous buffer: factories do not depend on the strided loop
  // (module 01, Part 5), so zeros/ones work as soon as the storage does.
  dispatch_storage_types(dtype, "full",
                         [&]<typename T>() { fill_contiguous<T>(t, fill_value.to<T>()); });
  return finish(t, options);
}

Tensor zeros(IntArrayRef sizes, const TensorOptions& options) {
  return full(sizes, 0, options.dtype(options.dtype()));
}
Tensor ones(IntArrayRef sizes, const TensorOptions& options) {
  return full(sizes, 1, options.dtype(options.dtype()));
}

Tensor arange(const Scalar& end, const TensorOptions& options) {
  return arange(0, end, 1, options);
}

Tensor arange(const Scalar& start, const Scalar& end, const TensorOptions& options) {
  return arange(start, end, 1, options);
}

Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step,
              const TensorOptions& options) {
  const bool all_integral =
      !start.is_floating_point() && !end.is_floating_point() && !step.is_floating_point();
  const ScalarType dtype = options.dtype_or(all_integral ? kInt64 : kDefaultFloat);
  const double s = start.to<double>(), e = end.to<double>(), st = step.to<double>();
  TT_CHECK_VALUE(st != 0, "arange: step must be nonzero");
  TT_CHECK_VALUE(std::isfinite(s) && std::isfinite(e), "arange: unsupported range: ", s, " -> ", e);
  TT_CHECK_VALUE((st > 0 && e >= s) || (st < 0 && e <= s),
                 "arange: upper bound and larger bound inconsistent with step sign (start=", start,
                 ", end=", end, ", step=", step, ")");
  // The element count is computed in double: check it fits in int64 before converting (the
  // conversion of an out-of-range double is undefined behaviour). 2^63 is exact in double.
  const double count = std::ceil((e - s) / st);
  TT_CHECK_VALUE(count < 0x1p63, "arange: the range from ", start, " to ", end, " with step ", step,
                 " has ", count, " elements, more than a tensor can hold (at most 2^63 - 1)");
  const auto n = static_cast<int64_t>(count);
  // int16/int32 and float16/bfloat16 are written in their opmath_type, then converted.
  Tensor t = empty({n}, options.dtype(opmath_type(dtype)).requires_grad(false));
  dispatch_numeric_types(t.dtype(), "arange", [&]<typename scalar_t>() {
    scalar_t* p = t.data_ptr<scalar_t>();
    for (int64_t i = 0; i < n; ++i) {
      // start + i*step (not a running sum), so rounding errors do not accumulate.
      p[i] = all_integral ? static_cast<scalar_t>(start.to<int64_t>() + i * step.to<int64_t>())
                          : static_cast<scalar_t>(s + static_cast<double>(i) * st);
    }
  });
  return finish(t.to(dtype), options);
}

Tensor linspace(const Scalar& start, const Scalar& end, int64_t steps,
                const TensorOptions& options) {
  TT_CHECK_VALUE(steps >= 0, "linspace: number of steps must be non-negative, got ", steps);
  const ScalarType dtype = options.dtype_or(kDefaultFloat);
  Tensor t = empty({steps}, options.dtype(dtype).requires_grad(false));
  dispatch_numeric_types(dtype, "linspace", [&]<typename scalar_t>() {
    // PyTorch's kernel: the step in the output's precision (double for integer outputs, which
    // then truncate); the first half counts up from start, the second down from end, so both
    // ends are exact.
    using step_t = std::conditional_t<std::is_integral_v<scalar_t>, double, scalar_t>;
    const auto first = start.to<step_t>(), last = end.to<step_t>();
    const step_t step = steps > 1 ? (last - first) / static_cast<step_t>(steps - 1) : step_t(0);
    scalar_t* p = t.data_ptr<scalar_t>();
    // (One step is start itself.)
    for (int64_t i = 0; i < steps; ++i) {
      const step_t value = i < steps / 2 || steps == 1
                               ? first + step * static_cast<step_t>(i)
                               : last - step * static_cast<step_t>(steps - 1 - i);
      p[i] = static_cast<scalar_t>(value);
    }
  });
  return finish(t, options);
}

Tensor eye(int64_t n, const TensorOptions& options) {
  return eye(n, n, options);
}

Tensor eye(int64_t n, int64_t m, const TensorOptions& options) {
  TT_CHECK_VALUE(n >= 0 && m >= 0, "eye: n and m must be non-negative, got n=", n, ", m=", m);
  Tensor t = zeros({n, m}, options.requires_grad(false));
  dispatch_storage_types(t.dtype(), "eye", [&]<typename T>() {
    T* p = t.data_ptr<T>();
    // The diagonal of an (n, m) row-major matrix is every (m + 1)-th element.
    for (int64_t i = 0; i < std::min(n, m); ++i) p[i * (m + 1)] = T(1);
  });
  return finish(t, options);
}

Tensor rand(IntArrayRef sizes, const TensorOptions& options, Generator* generator) {
  Generator& g = generator ? *generator : default_generator();
  Tensor t = empty(sizes, options.requires_grad(false));
  if (t.dtype() == kHalf || t.dtype() == kBFloat16) {  // float32 draws, rounded once
    return finish(rand(sizes, options.dtype(kFloat32).requires_grad(false), &g).to(t.dtype()),
                  options);
  }
  dispatch_floating_types(t.dtype(), "rand", [&]<typename scalar_t>() {
    scalar_t* p = t.data_ptr<scalar_t>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      if constexpr (std::is_same_v<scalar_t, float>) {
        p[i] = g.uniform_float();
      } else {
        p[i] = g.uniform_double();
      }
    }
  });
  return finish(t, options);
}

Tensor randn(IntArrayRef sizes, const TensorOptions& options, Generator* generator) {
  Generator& g = generator ? *generator : default_generator();
  Tensor t = empty(sizes, options.requires_grad(false));
  if (t.dtype() == kHalf || t.dtype() == kBFloat16) {  // float32 draws, rounded once
    return finish(randn(sizes, options.dtype(kFloat32).requires_grad(false), &g).to(t.dtype()),
                  options);
  }
  dispatch_floating_types(t.dtype(), "randn", [&]<typename scalar_t>() {
    scalar_t* p = t.data_ptr<scalar_t>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<scalar_t>(g.normal());
  });
  return finish(t, options);
}

Tensor randint(int64_t low, int64_t high, IntArrayRef sizes, const TensorOptions& options,
               Generator* generator) {
  TT_CHECK_VALUE(low < high, "random_ expects 'from' to be less than 'to', but got from=", low,
                 " >= to=", high);
  Generator& g = generator ? *generator : default_generator();
  Tensor t = empty(sizes, options.dtype(options.dtype_or(kInt64)).requires_grad(false));
  dispatch_numeric_types(t.dtype(), "randint", [&]<typename scalar_t>() {
    scalar_t* p = t.data_ptr<scalar_t>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<scalar_t>(g.random_int(low, high));
  });
  return finish(t, options);
}

Tensor randint(int64_t high, IntArrayRef sizes, const TensorOptions& options,
               Generator* generator) {
  return randint(0, high, sizes, options, generator);
}

Tensor randperm(int64_t n, const TensorOptions& options, Generator* generator) {
  TT_CHECK_VALUE(n >= 0, "randperm: n must be non-negative, got ", n);
  Generator& g = generator ? *generator : default_generator();
  // Fisher–Yates: position i takes a uniform pick among the values not yet placed (those in
  // [i, n)), so each of the n! orders is equally likely. Done in int64, then cast.
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  for (int64_t i = 0; i + 1 < n; ++i) {
    std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(g.random_int(i, n))]);
  }
  Tensor t = empty({n}, options.dtype(options.dtype_or(kInt64)).requires_grad(false));
  dispatch_numeric_types(t.dtype(), "randperm", [&]<typename scalar_t>() {
    scalar_t* p = t.data_ptr<scalar_t>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<scalar_t>(perm[static_cast<size_t>(i)]);
  });
  return finish(t, options);
}

Tensor empty_like(const Tensor& t, const TensorOptions& options) {
  return empty(t.sizes(), options.dtype(options.dtype_or(t.dtype())));
}
Tensor zeros_like(const Tensor& t, const TensorOptions& options) {
  return zeros(t.sizes(), options.dtype(options.dtype_or(t.dtype())));
}
Tensor ones_like(const Tensor& t, const TensorOptions& options) {
  return ones(t.sizes(), options.dtype(options.dtype_or(t.dtype())));
}
Tensor full_like(const Tensor& t, const Scalar& fill_value, const TensorOptions& options) {
  return full(t.sizes(), fill_value, options.dtype(options.dtype_or(t.dtype())));
}
Tensor rand_like(const Tensor& t, const TensorOptions& options) {
  return rand(t.sizes(), options.dtype(options.dtype_or(t.dtype())));
}
Tensor randn_like(const Tensor& t, const TensorOptions& options) {
  return randn(t.sizes(), options.dtype(options.dtype_or(t.dtype())));
}

// ── values → tensors ─────────────────────────────────────────────────────────────────────

TensorDataContainer::TensorDataContainer(std::initializer_list<TensorDataContainer> list)
    : children_(list) {
  init_list();
}

void TensorDataContainer::init_list() {
  // The shape is [number of children] + the children's common shape; the dtype is the widest
  // kind seen: bool < int64 < floating (which becomes the default float dtype).
  sizes_ = {static_cast<int64_t>(children_.size())};
  dtype_ = kBool;
  for (size_t i = 0; i < children_.size(); ++i) {
    const auto& c = children_[i];
    TT_CHECK_VALUE(c.sizes_ == children_[0].sizes_,
                   "tensor(): nested lists must be rectangular, but element 0 has shape ",
                   IntArrayRef(children_[0].sizes_), " and element ", i, " has shape ",
                   IntArrayRef(c.sizes_));
    dtype_ = promote_types(dtype_, c.dtype_);
  }
  if (!children_.empty()) {
    sizes_.insert(sizes_.end(), children_[0].sizes_.begin(), children_[0].sizes_.end());
  } else {
    dtype_ = kDefaultFloat;  // tensor({}) is an empty float tensor, as in PyTorch
  }
}

void TensorDataContainer::fill(void* out, ScalarType t) const {
  dispatch_storage_types(t, "tensor", [&]<typename scalar_t>() {
    auto* p = static_cast<scalar_t*>(out);
    // Depth-first over the nested lists writes the leaves in row-major order.
    auto visit = [&p](const TensorDataContainer& c, auto&& self) -> void {
      if (c.scalar_) {
        *p++ = c.scalar_->to<scalar_t>();
        return;
      }
      for (const auto& child : c.children_) self(child, self);
    };
    visit(*this, visit);
  });
}

Tensor tensor(const TensorDataContainer& values, const TensorOptions& options) {
  ScalarType inferred = values.inferred_dtype();
  if (inferred == kFloat64) inferred = kDefaultFloat;
  Tensor t = empty(values.sizes(), options.dtype(options.dtype_or(inferred)).requires_grad(false));
  values.fill(t.data_ptr(), t.dtype());
  return finish(t, options);
}

template <typename T>
Tensor from_vector(const std::vector<T>& values, IntArrayRef shape, const TensorOptions& options) {
  const int64_t numel = compute_numel(shape);
  TT_CHECK_VALUE(numel == static_cast<int64_t>(values.size()), "from_vector: shape ", shape,
                 " needs ", numel, " values but ", values.size(), " were given");
  Tensor t = empty(shape, options.dtype(scalar_type_of<T>).requires_grad(false));
  if (numel > 0) std::memcpy(t.data_ptr(), values.data(), values.size() * sizeof(T));
  t = t.to(options.dtype_or(scalar_type_of<T>));
  return finish(t, options);
}

template Tensor from_vector(const std::vector<float>&, IntArrayRef, const TensorOptions&);
template Tensor from_vector(const std::vector<double>&, IntArrayRef, const TensorOptions&);
template Tensor from_vector(const std::vector<int64_t>&, IntArrayRef, const TensorOptions&);

}  // namespace tinytorch
