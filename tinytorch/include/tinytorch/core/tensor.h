// tinytorch/core/tensor.h — the Tensor handle and its whole public API.
//
//   auto x = tinytorch::randn({2, 3});
//   auto y = x.matmul(x.transpose(0, 1)).sum();
//
// A Tensor is a handle: one shared_ptr to a TensorImpl. Copying a Tensor is cheap and ALIASES —
// both handles see the same TensorImpl — exactly like `b = a` in PyTorch. Use clone() for a copy.
//
//   Tensor a ─┐
//             ├──► TensorImpl (sizes, strides, offset, dtype) ──► Storage (bytes)
//   Tensor b ─┘
//
// The API follows libtorch's names and call shapes, so what a learner writes here transfers:
// free functions (tinytorch::zeros, tinytorch::matmul) and methods (x.sum(1), x.view({2, -1})).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tinytorch/core/generator.h"
#include "tinytorch/core/int_array_ref.h"
#include "tinytorch/core/scalar_type.h"
#include "tinytorch/core/shape.h"
#include "tinytorch/core/tensor_accessor.h"
#include "tinytorch/core/tensor_impl.h"
#include "tinytorch/core/tensor_options.h"

namespace tinytorch {

namespace autograd {
class Node;
}
namespace indexing {
class TensorIndex;  // core/tensor_indexing.h
}

class Tensor {
 public:
  // An undefined tensor (like a default-constructed torch::Tensor): any use but defined() throws.
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}
  Tensor(const Tensor&) = default;
  Tensor(Tensor&&) noexcept = default;
  ~Tensor() = default;

  // ── assignment: two meanings, chosen by what stands on the left (as in libtorch) ────────
  //   Tensor a = ...;  a = b;        a names b's TensorImpl now (the handle is rebound; no copy)
  //   x[0] = b;  x.select(1, 2) = b; x[0] is a temporary view: b's values are COPIED into x
  //   x[0] = 3.5;                    a temporary view: filled with the value
  // NOTE: the `&&` overloads are what makes `x[i] = row` write into x. Without them C++ would
  // rebind the temporary handle and drop it — nothing written, no error. An lvalue handle is never
  // written through by `=`; use copy_() or fill_() for that.
  Tensor& operator=(const Tensor& other) & = default;
  Tensor& operator=(Tensor&& other) & noexcept = default;
  Tensor& operator=(const Tensor& src) && { return copy_(src); }
  Tensor& operator=(Tensor&& src) && { return copy_(src); }
  Tensor& operator=(const Scalar& value) && { return fill_(value); }

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* unsafeGetTensorImpl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& getIntrusivePtr() const { return impl_; }
  // How many Tensor handles share this TensorImpl (libtorch's use_count()).
  long use_count() const { return impl_.use_count(); }
  // True when both handles point at the same TensorImpl (a copy of the handle, not a view).
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  // True when both tensors share one Storage (one is a view of the other, or both are views).
  bool is_alias_of(const Tensor& other) const;

  // ── metadata ────────────────────────────────────────────────────────────────────────────
  IntArrayRef sizes() const { return impl().sizes(); }
  IntArrayRef strides() const { return impl().strides(); }
  int64_t size(int64_t dim) const;    // negative dims count from the end
  int64_t stride(int64_t dim) const;  // in elements, not bytes
  int64_t dim() const { return impl().dim(); }
  int64_t ndimension() const { return dim(); }
  int64_t numel() const { return impl().numel(); }
  ScalarType dtype() const { return impl().dtype(); }
  ScalarType scalar_type() const { return dtype(); }
  int64_t element_size() const { return tinytorch::element_size(dtype()); }
  int64_t nbytes() const { return numel() * element_size(); }
  int64_t storage_offset() const { return impl().storage_offset(); }
  bool is_contiguous() const { return impl().is_contiguous(); }
  bool is_floating_point() const { return tinytorch::is_floating_point(dtype()); }
  const Storage& storage() const { return impl().storage(); }

  // ── quantized tensors (module 15, quantization/quantize.h) ──────────────────────────────
  // x ≈ scale * (q - zero_point): see core/quantizer.h for the representation.
  bool is_quantized() const { return impl().quantizer() != nullptr; }
  QScheme qscheme() const;                   // kPerTensorAffine or kPerChannelAffine
  double q_scale() const;                    // per-tensor only
  int64_t q_zero_point() const;              // per-tensor only
  Tensor q_per_channel_scales() const;       // float64 [C], per-channel only
  Tensor q_per_channel_zero_points() const;  // int64 [C], per-channel only
  int64_t q_per_channel_axis() const;        // per-channel only
  Tensor int_repr() const;                   // the stored integers q, as a plain int8/uint8 tensor
  Tensor dequantize() const;                 // scale * (q - zero_point), float32

  // Pointer to element (0, 0, ...). The typed form checks that T matches the dtype.
  void* data_ptr() const { return impl().data(); }
  template <typename T>
  T* data_ptr() const {
    TT_CHECK_TYPE(scalar_type_of<T> == dtype(), "data_ptr<", to_string(scalar_type_of<T>),
                  ">(): expected dtype ", to_string(scalar_type_of<T>), " but the tensor is ",
                  to_string(dtype()));
    return static_cast<T*>(impl().data());
  }
  // Copies the elements out in logical (row-major) order — handy in tests and examples.
  template <typename T>
  std::vector<T> to_vector() const;

  // The value of a one-element tensor.
  Scalar item() const;
  template <typename T>
  T item() const {
    return item().to<T>();
  }

  // ── views: new metadata, same storage (module 01) ──────────────────────────────────────
  Tensor view(IntArrayRef shape) const;     // never copies; errors if strides don't allow it
  Tensor reshape(IntArrayRef shape) const;  // a view when possible, a copy otherwise
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  // transpose of a ≤2-d tensor
  Tensor permute(IntArrayRef dims) const;
  Tensor squeeze() const;                  // drops every size-1 dim
  Tensor squeeze(int64_t dim) const;       // drops `dim` if it has size 1
  Tensor unsqueeze(int64_t dim) const;     // inserts a size-1 dim at `dim`
  Tensor expand(IntArrayRef sizes) const;  // stride-0 broadcast; -1 keeps a size
  Tensor expand_as(const Tensor& other) const { return expand(other.sizes()); }
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;    // removes `dim`
  std::vector<Tensor> unbind(int64_t dim = 0) const;  // every select(dim, i), as one op
  // Consecutive narrow views along `dim`, as one op: pieces of split_size (the last one
  // smaller), of the given sizes (which must sum to size(dim)), or `chunks` pieces of
  // ceil(size(dim) / chunks) — fewer when they run out, as PyTorch.
  std::vector<Tensor> split(int64_t split_size, int64_t dim = 0) const;
  std::vector<Tensor> split(IntArrayRef split_sizes, int64_t dim = 0) const;
  std::vector<Tensor> split_with_sizes(IntArrayRef split_sizes, int64_t dim = 0) const;
  std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;
  Tensor slice(int64_t dim = 0, std::optional<int64_t> start = std::nullopt,
               std::optional<int64_t> end = std::nullopt, int64_t step = 1) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor as_strided(IntArrayRef sizes, IntArrayRef strides,
                    std::optional<int64_t> storage_offset = std::nullopt) const;
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor operator[](const Tensor& index) const;  // index({index})

  // ── indexing: libtorch's Tensor::index / index_put_ (core/tensor_indexing.h) ──────────────
  //   x.index({Slice(), 0})   x[:, 0], a view;   x.index({idx, mask})   advanced: a copy
  //   x.index_put_({Slice(), idx}, y)             x[:, idx] = y, for every kind of index
  // A braced list picks the initializer_list overloads (libtorch has the same pair), so
  // x.index_put_({i}, v) is x[i] = v and x.index_put_({i}, v, true) the ATen op below.
  Tensor index(std::initializer_list<indexing::TensorIndex> indices) const;
  Tensor index(const std::vector<indexing::TensorIndex>& indices) const;
  Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, const Tensor& rhs) const;
  Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, const Scalar& v) const;
  Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, const Tensor& rhs) const;
  Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, const Scalar& v) const;
  // ATen's advanced-indexing ops (c10::List<optional<Tensor>> in libtorch): indices[d] indexes
  // dim d; nullopt (or an undefined tensor) leaves a dim whole. accumulate adds into self
  // (duplicate indices add up) instead of writing (duplicates: the last write wins).
  Tensor index(const std::vector<std::optional<Tensor>>& indices) const;
  Tensor& index_put_(const std::vector<std::optional<Tensor>>& indices, const Tensor& values,
                     bool accumulate = false) const;
  Tensor index_put(const std::vector<std::optional<Tensor>>& indices, const Tensor& values,
                   bool accumulate = false) const;
  // gather/scatter family (see the free functions in core/tensor_indexing.h).
  Tensor gather(int64_t dim, const Tensor& index, bool sparse_grad = false) const;
  Tensor scatter(int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor scatter(int64_t dim, const Tensor& index, const Scalar& value) const;
  Tensor& scatter_(int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor& scatter_(int64_t dim, const Tensor& index, const Scalar& value) const;
  Tensor scatter_add(int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor& scatter_add_(int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor index_select(int64_t dim, const Tensor& index) const;
  Tensor index_add(int64_t dim, const Tensor& index, const Tensor& source,
                   const Scalar& alpha = 1) const;
  Tensor& index_add_(int64_t dim, const Tensor& index, const Tensor& source,
                     const Scalar& alpha = 1) const;
  Tensor masked_select(const Tensor& mask) const;
  Tensor nonzero() const;

  Tensor contiguous() const;  // self if already contiguous, else a contiguous copy
  Tensor clone() const;       // always a new, contiguous copy
  // libtorch's parameters: non_blocking has no effect on the CPU; copy = true always copies,
  // otherwise a tensor already of that dtype (and device) is returned as it is.
  Tensor to(ScalarType dtype, bool non_blocking = false, bool copy = false) const;
  // Devices (core/device.h): the CPU is the only one; any other is an error naming it.
  Tensor to(Device device, bool non_blocking = false, bool copy = false) const;
  Tensor to(Device device, ScalarType dtype, bool non_blocking = false, bool copy = false) const;
  Device device() const { return Device(kCPU); }
  bool is_cpu() const { return true; }
  bool is_cuda() const { return false; }
  Tensor cpu() const { return *this; }  // already on the CPU: the same tensor, as in libtorch
  Tensor cuda() const;                  // an error: there is no CUDA device

  // ── element-wise math (broadcasting) ───────────────────────────────────────────────────
  Tensor add(const Tensor& other, const Scalar& alpha = 1) const;  // self + alpha * other
  Tensor add(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor sub(const Tensor& other, const Scalar& alpha = 1) const;  // self - alpha * other
  Tensor sub(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor mul(const Tensor& other) const;
  Tensor mul(const Scalar& other) const;
  Tensor div(const Tensor& other) const;  // true division: int64 / int64 gives float32
  Tensor div(const Scalar& other) const;
  Tensor neg() const;
  Tensor pow(const Tensor& exponent) const;
  Tensor pow(const Scalar& exponent) const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor sin() const;
  Tensor cos() const;
  Tensor log1p() const;  // ln(1 + self), accurate for self near 0
  Tensor abs() const;
  Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt) const;
  Tensor clamp_min(const Scalar& min) const { return clamp(min, std::nullopt); }
  Tensor clamp_max(const Scalar& max) const { return clamp(std::nullopt, max); }
  Tensor maximum(const Tensor& other) const;
  Tensor minimum(const Tensor& other) const;
  // Rounding and sign: an integer tensor keeps its dtype (and its values, but for sign); frac
  // (self − trunc(self)) is floating only. round rounds half to even, as PyTorch. Their gradient
  // is zero (frac's is one).
  Tensor floor() const;
  Tensor ceil() const;
  Tensor round() const;
  Tensor trunc() const;
  Tensor sign() const;  // −1, 0 or 1 (0 for NaN, as PyTorch)
  Tensor frac() const;
  // More math of one input; an integer or bool input computes in the default float dtype.
  Tensor reciprocal() const;  // 1 / self
  Tensor rsqrt() const;       // 1 / √self
  Tensor square() const;      // self², pow(self, 2): integers stay integers
  Tensor erf() const;
  Tensor expm1() const;  // eˢᵉˡᶠ − 1, accurate for self near 0
  Tensor log2() const;
  Tensor log10() const;
  Tensor tan() const;
  Tensor asin() const;
  Tensor acos() const;
  Tensor atan() const;
  Tensor sinh() const;
  Tensor cosh() const;
  // The remainder of self / other: fmod's takes self's sign (C's fmod), remainder's other's
  // (Python's %). An integer divisor of zero is an error.
  Tensor fmod(const Tensor& other) const;
  Tensor fmod(const Scalar& other) const;
  Tensor remainder(const Tensor& other) const;
  Tensor remainder(const Scalar& other) const;
  Tensor atan2(const Tensor& other) const;  // the angle of the point (other, self)
  // self + weight · (end − self); end (and a tensor weight) must have self's dtype.
  Tensor lerp(const Tensor& end, const Scalar& weight) const;
  Tensor lerp(const Tensor& end, const Tensor& weight) const;
  // self + value · tensor1 · tensor2   and   self + value · tensor1 / tensor2
  Tensor addcmul(const Tensor& tensor1, const Tensor& tensor2, const Scalar& value = 1) const;
  Tensor addcdiv(const Tensor& tensor1, const Tensor& tensor2, const Scalar& value = 1) const;
  // Tests, bool results: an integer tensor holds no NaN and no infinity.
  Tensor isnan() const;
  Tensor isinf() const;
  Tensor isfinite() const;
  // NaN → nan (0), +inf → posinf, −inf → neginf (the dtype's largest / lowest finite value
  // unless given). Integer tensors are returned as a copy.
  Tensor nan_to_num(std::optional<double> nan = std::nullopt,
                    std::optional<double> posinf = std::nullopt,
                    std::optional<double> neginf = std::nullopt) const;
  // Logic on truth values (non-zero is true), bool results.
  Tensor logical_not() const;
  Tensor logical_and(const Tensor& other) const;
  Tensor logical_or(const Tensor& other) const;
  Tensor logical_xor(const Tensor& other) const;
  // self with `value` where mask (bool, broadcastable to self's shape) is true — e.g.
  // scores.masked_fill(padding, −∞). The filled entries get no gradient.
  Tensor masked_fill(const Tensor& mask, const Scalar& value) const;
  // self with `value` in the entries whose index along dim is in `index` (int64, 0-d or 1-d).
  Tensor index_fill(int64_t dim, const Tensor& index, const Scalar& value) const;
  // 1 with probability self (each element a probability in [0, 1]), else 0; self's dtype.
  Tensor bernoulli(Generator* generator = nullptr) const;
  // Comparisons return bool tensors.
  Tensor eq(const Tensor& other) const;
  Tensor eq(const Scalar& other) const;
  Tensor ne(const Tensor& other) const;
  Tensor ne(const Scalar& other) const;
  Tensor lt(const Tensor& other) const;
  Tensor lt(const Scalar& other) const;
  Tensor le(const Tensor& other) const;
  Tensor le(const Scalar& other) const;
  Tensor gt(const Tensor& other) const;
  Tensor gt(const Scalar& other) const;
  Tensor ge(const Tensor& other) const;
  Tensor ge(const Scalar& other) const;
  // where(condition, self, other): self where condition is true, else other.
  Tensor where(const Tensor& condition, const Tensor& other) const;

  // ── in-place variants: write into self (and so into every view sharing its storage) ─────
  // NOTE: every in-place method is const, as in libtorch: a Tensor is a handle, and const is the
  // handle's — it may not be rebound — never the values'. So x.grad().zero_() (grad() is a
  // const Tensor&), `for (const auto& p : model->parameters()) p.mul_(0.5);` and a const
  // Tensor's fill_ all write. Like libtorch 1.13 they return a Tensor& to the handle
  // (requires_grad_ and set_requires_grad a const Tensor&); the compound assignments
  // (+=, -=, ...) are not const, as in libtorch.
  Tensor& add_(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor& add_(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor& sub_(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor& sub_(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor& mul_(const Tensor& other) const;
  Tensor& mul_(const Scalar& other) const;
  Tensor& div_(const Tensor& other) const;
  Tensor& div_(const Scalar& other) const;
  Tensor& neg_() const;
  Tensor& pow_(const Scalar& exponent) const;
  Tensor& exp_() const;
  Tensor& log_() const;
  Tensor& sqrt_() const;
  Tensor& sin_() const;
  Tensor& cos_() const;
  Tensor& log1p_() const;
  Tensor& abs_() const;
  Tensor& clamp_(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt) const;
  Tensor& clamp_min_(const Scalar& min) const { return clamp_(min, std::nullopt); }
  Tensor& clamp_max_(const Scalar& max) const { return clamp_(std::nullopt, max); }
  Tensor& floor_() const;
  Tensor& ceil_() const;
  Tensor& round_() const;
  Tensor& trunc_() const;
  Tensor& sign_() const;
  Tensor& frac_() const;
  Tensor& reciprocal_() const;
  Tensor& rsqrt_() const;
  Tensor& square_() const;
  Tensor& erf_() const;
  Tensor& expm1_() const;
  Tensor& log2_() const;
  Tensor& log10_() const;
  Tensor& tan_() const;
  Tensor& asin_() const;
  Tensor& acos_() const;
  Tensor& atan_() const;
  Tensor& sinh_() const;
  Tensor& cosh_() const;
  Tensor& fmod_(const Tensor& other) const;
  Tensor& fmod_(const Scalar& other) const;
  Tensor& remainder_(const Tensor& other) const;
  Tensor& remainder_(const Scalar& other) const;
  Tensor& atan2_(const Tensor& other) const;
  Tensor& lerp_(const Tensor& end, const Scalar& weight) const;
  Tensor& lerp_(const Tensor& end, const Tensor& weight) const;
  Tensor& addcmul_(const Tensor& tensor1, const Tensor& tensor2, const Scalar& value = 1) const;
  Tensor& addcdiv_(const Tensor& tensor1, const Tensor& tensor2, const Scalar& value = 1) const;
  Tensor& nan_to_num_(std::optional<double> nan = std::nullopt,
                      std::optional<double> posinf = std::nullopt,
                      std::optional<double> neginf = std::nullopt) const;
  Tensor& masked_fill_(const Tensor& mask, const Scalar& value) const;
  Tensor& index_fill_(int64_t dim, const Tensor& index, const Scalar& value) const;
  // Each element 1 with probability p, else 0 (floating tensors).
  Tensor& bernoulli_(double p = 0.5, Generator* generator = nullptr) const;
  Tensor& relu_() const;
  Tensor& sigmoid_() const;
  Tensor& tanh_() const;
  Tensor& fill_(const Scalar& value) const;
  Tensor& zero_() const { return fill_(0); }
  Tensor& copy_(const Tensor& src) const;  // src broadcast to self's shape and cast to self's dtype
  // a += b is a.add_(b), also on a temporary view: x[0] += 1 adds to row 0 of x.
  Tensor& operator+=(const Tensor& other) { return add_(other); }
  Tensor& operator+=(const Scalar& other) { return add_(other); }
  Tensor& operator-=(const Tensor& other) { return sub_(other); }
  Tensor& operator-=(const Scalar& other) { return sub_(other); }
  Tensor& operator*=(const Tensor& other) { return mul_(other); }
  Tensor& operator*=(const Scalar& other) { return mul_(other); }
  Tensor& operator/=(const Tensor& other) { return div_(other); }
  Tensor& operator/=(const Scalar& other) { return div_(other); }

  // ── reductions (dims may be negative; empty dims = all dims) ───────────────────────────
  Tensor sum(std::optional<ScalarType> dtype = std::nullopt) const;
  Tensor sum(IntArrayRef dims, bool keepdim = false,
             std::optional<ScalarType> dtype = std::nullopt) const;
  Tensor mean(IntArrayRef dims = {}, bool keepdim = false) const;  // floating dtypes only
  // Variance with Bessel's correction (divide by n - 1) unless unbiased is false (divide by n).
  Tensor var(IntArrayRef dims = {}, bool unbiased = true, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  std::tuple<Tensor, Tensor> max(int64_t dim, bool keepdim = false) const;  // (values, indices)
  std::tuple<Tensor, Tensor> min(int64_t dim, bool keepdim = false) const;
  Tensor argmax(std::optional<int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor argmin(std::optional<int64_t> dim = std::nullopt, bool keepdim = false) const;

  // ── sorting, scans, triangles, norms, logical reductions (libtorch's signatures) ─────────
  // sort is always stable: equal values keep their order, descending too. (values, indices).
  std::tuple<Tensor, Tensor> sort(int64_t dim = -1, bool descending = false) const;
  std::tuple<Tensor, Tensor> sort(std::optional<bool> stable, int64_t dim = -1,
                                  bool descending = false) const;
  Tensor argsort(int64_t dim = -1, bool descending = false) const;  // sort's indices
  // The k largest (or smallest) along dim, (values, indices); sorted = false keeps the order of
  // the input instead (PyTorch leaves that order unspecified).
  std::tuple<Tensor, Tensor> topk(int64_t k, int64_t dim = -1, bool largest = true,
                                  bool sorted = true) const;
  // Running sum / product along dim. Integer and bool inputs give int64 unless dtype says.
  Tensor cumsum(int64_t dim, std::optional<ScalarType> dtype = std::nullopt) const;
  Tensor cumprod(int64_t dim, std::optional<ScalarType> dtype = std::nullopt) const;
  // The lower (upper) triangle of the last two dims: element (i, j) is kept when
  // j - i <= diagonal (j - i >= diagonal), else zero.
  Tensor tril(int64_t diagonal = 0) const;
  Tensor triu(int64_t diagonal = 0) const;
  Tensor& tril_(int64_t diagonal = 0) const;
  Tensor& triu_(int64_t diagonal = 0) const;
  // The p-norm (Σ|x|^p)^(1/p) of every element, or over dims; p = inf is max|x|, -inf min|x|,
  // 0 counts the non-zeros. No p (std::nullopt) means 2. Floating dtypes only.
  Tensor norm(const Scalar& p = 2) const;
  Tensor norm(const std::optional<Scalar>& p, IntArrayRef dim, bool keepdim = false) const;
  // Whether every (some) element is non-zero; bool results.
  Tensor all() const;
  Tensor all(int64_t dim, bool keepdim = false) const;
  Tensor any() const;
  Tensor any(int64_t dim, bool keepdim = false) const;
  // In place: U[from, to) / N(mean, std²) from `generator` (the default generator when null).
  Tensor& uniform_(double from = 0, double to = 1, Generator* generator = nullptr) const;
  Tensor& normal_(double mean = 0, double std = 1, Generator* generator = nullptr) const;

  // ── linear algebra ─────────────────────────────────────────────────────────────────────
  Tensor matmul(const Tensor& other) const;  // 1-d, 2-d and batched N-d with broadcasting
  Tensor mm(const Tensor& other) const;      // strictly 2-d × 2-d

  // ── comparison of whole tensors ────────────────────────────────────────────────────────
  bool allclose(const Tensor& other, double rtol = 1e-5, double atol = 1e-8,
                bool equal_nan = false) const;
  bool equal(const Tensor& other) const;  // same shape and exactly the same values

  // ── activations (module 02) ────────────────────────────────────────────────────────────
  Tensor relu() const;
  Tensor sigmoid() const;
  Tensor tanh() const;
  Tensor softmax(int64_t dim) const;      // exp(x - max) / sum(exp(x - max)) along dim
  Tensor log_softmax(int64_t dim) const;  // x - max - log(sum(exp(x - max))) along dim

  // ── autograd (module 05; libtorch's names) ─────────────────────────────────────────────
  bool requires_grad() const;
  const Tensor& set_requires_grad(bool requires_grad) const;
  const Tensor& requires_grad_(bool requires_grad = true) const {
    return set_requires_grad(requires_grad);
  }
  // The gradient accumulated by backward(); an undefined tensor until there is one.
  const Tensor& grad() const;
  Tensor& mutable_grad() const;  // e.g. x.mutable_grad() = Tensor() to drop it
  // A leaf has no grad_fn: it was made by the user, or by ops that did not record a graph.
  bool is_leaf() const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  // Seeds this tensor with `gradient` (a one-element tensor may leave it out: 1 is used) and
  // runs the graph backwards, accumulating into every leaf's grad(). See autograd/engine.h.
  // libtorch's parameters; create_graph = true records the backward pass (gradients of
  // gradients; retain_graph then defaults to true — see autograd/engine.h).
  // NOTE: with create_graph, a leaf's grad() holds a graph that saved the leaf itself: a
  // reference cycle (leaf -> grad -> graph -> leaf), as in PyTorch. Drop it when done
  // (x.mutable_grad() = Tensor()), or use autograd::grad, which writes no grad().
  void backward(const Tensor& gradient = {}, std::optional<bool> retain_graph = std::nullopt,
                bool create_graph = false) const;
  // Same data, no history: what is computed from the result is not traced back through here.
  Tensor detach() const;
  Tensor& detach_() const;
  // Makes this tensor use `new_data`'s storage, dtype and shape, keeping its identity: every
  // handle of it, its requires_grad and its grad see the change (libtorch's set_data, what
  // module->to(kFloat64) uses so that an optimizer built on the parameters still holds them).
  // A tensor that requires grad needs floating-point data; a view cannot be given new data.
  void set_data(const Tensor& new_data) const;
  // Keep .grad() for this non-leaf too (leaves keep theirs anyway).
  void retain_grad() const;
  bool retains_grad() const;
  // ── backward hooks (libtorch's register_hook; autograd/engine.cpp runs them) ──────────────
  //   auto h = x.register_hook([](torch::Tensor g) { return g * 2; });  // replaces x's gradient
  //   y.register_hook([&](torch::Tensor g) { seen = g; });              // only looks at it
  //   x.remove_hook(h);
  // A hook runs every time the gradient w.r.t. this tensor is computed — a leaf's before it is
  // accumulated into grad(), a non-leaf's when backward reaches its grad_fn — in registration
  // order, each seeing what the previous one returned. A hook returning Tensor replaces the
  // gradient (an undefined result keeps it); a void hook only observes. The handle is the hook's
  // position; remove_hook(handle) empties that slot. Only a tensor that requires grad can have
  // hooks.
  template <typename T>
  using hook_return_void_t =
      std::enable_if_t<std::is_void_v<std::invoke_result_t<T&, Tensor>>, unsigned>;
  template <typename T>
  using hook_return_var_t =
      std::enable_if_t<std::is_same_v<std::invoke_result_t<T&, Tensor>, Tensor>, unsigned>;
  template <typename T>
  hook_return_void_t<T> register_hook(T&& hook) const {
    return _register_hook([fn = std::forward<T>(hook)](const Tensor& grad) mutable {
      fn(grad);
      return Tensor();
    });
  }
  template <typename T>
  hook_return_var_t<T> register_hook(T&& hook) const {
    return _register_hook(
        [fn = std::forward<T>(hook)](const Tensor& grad) mutable -> Tensor { return fn(grad); });
  }
  void remove_hook(unsigned pos) const;
  // The type-erased registration both register_hook forms end in (autograd_meta.cpp).
  unsigned _register_hook(std::function<Tensor(const Tensor&)> hook) const;

  // How many in-place writes this tensor's storage has seen (autograd checks saved tensors).
  uint32_t _version() const { return storage().version(); }

  // ── shape, reduction and product ops libtorch programs use ──────────────────────────────
  // (core/composite_ops.cpp: written in the recorded ops above, which give their gradients.)
  Tensor view_as(const Tensor& other) const { return view(other.sizes()); }
  Tensor reshape_as(const Tensor& other) const { return reshape(other.sizes()); }
  Tensor type_as(const Tensor& other) const { return to(other.dtype()); }
  // dtype and device, as libtorch's options(): like libtorch's, they do not carry requires_grad,
  // so zeros({2}, x.options()) never requires grad.
  TensorOptions options() const { return TensorOptions(dtype()); }
  // Typed, strided element access (core/tensor_accessor.h): accessor<float, 2>()[i][j].
  // Checks the dtype and the number of dims; a temporary's accessor would dangle, so it is deleted.
  template <typename T, size_t N>
  TensorAccessor<T, N> accessor() const& {
    static_assert(N > 0, "accessor is used for indexing tensor, for scalars use *data_ptr<T>()");
    TT_CHECK_VALUE(dim() == static_cast<int64_t>(N), "accessor<", to_string(scalar_type_of<T>),
                   ", ", N, ">(): expected a tensor of ", N, " dims but it has ", dim(), " (sizes ",
                   sizes(), ")");
    return TensorAccessor<T, N>(data_ptr<T>(), sizes().data(), strides().data());
  }
  template <typename T, size_t N>
  TensorAccessor<T, N> accessor() && = delete;
  // Tiles the tensor: repeats[d] copies along dim d (more repeats than dims adds leading dims).
  Tensor repeat(IntArrayRef repeats) const;
  // Reverses the order of the elements along each of dims (a copy, as PyTorch's).
  Tensor flip(IntArrayRef dims) const;
  // Rotates by shifts[i] along dims[i]; with no dims, the flattened tensor by shifts[0].
  Tensor roll(IntArrayRef shifts, IntArrayRef dims = {}) const;
  // 1-d → the square matrix with self on diagonal `diagonal`; 2-d → that diagonal as a vector.
  Tensor diag(int64_t diagonal = 0) const;
  // [B, n, m] × [B, m, p] → [B, n, p], on the matmul GEMM.
  Tensor bmm(const Tensor& mat2) const;
  // beta · self + alpha · bmm(batch1, batch2) (self broadcast; beta = 0 ignores self's values).
  Tensor baddbmm(const Tensor& batch1, const Tensor& batch2, const Scalar& beta = 1,
                 const Scalar& alpha = 1) const;
  // beta · self + alpha · mm(mat1, mat2) (self broadcast; beta = 0 ignores self's values).
  Tensor addmm(const Tensor& mat1, const Tensor& mat2, const Scalar& beta = 1,
               const Scalar& alpha = 1) const;
  Tensor outer(const Tensor& vec2) const;  // [n] ⊗ [m] → [n, m]
  // Standard deviation: var's square root (Bessel's correction unless unbiased is false).
  Tensor std(bool unbiased = true) const;
  Tensor std(IntArrayRef dims, bool unbiased = true, bool keepdim = false) const;
  // Product of every element, or along dim. Integer and bool inputs give int64 unless dtype says.
  // The gradient is right where the input holds zeros.
  Tensor prod(std::optional<ScalarType> dtype = std::nullopt) const;
  Tensor prod(int64_t dim, bool keepdim = false,
              std::optional<ScalarType> dtype = std::nullopt) const;
  // log Σ exp(self) over dims, stable (the max is taken out first); integers give float32.
  Tensor logsumexp(IntArrayRef dims, bool keepdim = false) const;
  // num_samples category indices per row of (unnormalised, non-negative) probabilities, int64.
  Tensor multinomial(int64_t num_samples, bool replacement = false,
                     Generator* generator = nullptr) const;
  // Each slice along dim repeated: the method form of tinytorch::repeat_interleave
  // (core/functions.h), with libtorch's overloads.
  Tensor repeat_interleave(int64_t repeats, std::optional<int64_t> dim = std::nullopt,
                           std::optional<int64_t> output_size = std::nullopt) const;
  Tensor repeat_interleave(const Tensor& repeats, std::optional<int64_t> dim = std::nullopt,
                           std::optional<int64_t> output_size = std::nullopt) const;

  std::string toString() const;  // type and shape, e.g. "tinytorch.float32Tensor[2, 3]"
  const TensorImpl& impl() const;

 private:
  // The handle as a Tensor&, for the bodies of the in-place methods: they are const (see the NOTE
  // at the in-place variants) but return, and write through, the handle as libtorch's do.
  Tensor& mutable_self() const { return const_cast<Tensor&>(*this); }

  std::shared_ptr<TensorImpl> impl_;
};

// Prints like PyTorch: tensor([[1., 2.], [3., 4.]]) with dtype= when not the default.
std::ostream& operator<<(std::ostream& os, const Tensor& t);
std::string repr(const Tensor& t);

// ── values → tensors ─────────────────────────────────────────────────────────────────────
// Holds a scalar or a (nested) braced list of them, so tensor({{1, 2}, {3, 4}}) works as in
// libtorch (torch::detail::TensorDataContainer). Ragged lists are rejected with the dim at fault.
class TensorDataContainer {
 public:
  // A leaf: one number. Its dtype is its kind (bool, int64, or float64 for any floating value).
  template <typename T>
  requires std::is_arithmetic_v<T> TensorDataContainer(T v)
      : scalar_(Scalar(v)), dtype_(Scalar(v).type()) {}                  // NOLINT
  TensorDataContainer(std::initializer_list<TensorDataContainer> list);  // NOLINT
  template <typename T>
  TensorDataContainer(const std::vector<T>& values) {  // NOLINT(google-explicit-constructor)
    for (const T& v : values) children_.emplace_back(v);
    init_list();
  }

  // [2, 2] for {{1, 2}, {3, 4}}; [] for a bare scalar.
  const std::vector<int64_t>& sizes() const { return sizes_; }
  // bool if every leaf is bool, else int64 if every leaf is integral, else the default float.
  ScalarType inferred_dtype() const { return dtype_; }
  // Writes the leaves in row-major order into `out` (numel elements of dtype `t`).
  void fill(void* out, ScalarType t) const;

 private:
  void init_list();
  std::optional<Scalar> scalar_;
  std::vector<TensorDataContainer> children_;
  std::vector<int64_t> sizes_;
  ScalarType dtype_ = kBool;
};

Tensor tensor(const TensorDataContainer& values, const TensorOptions& options = {});
// Makes a tensor of the given shape from a flat, row-major vector of values.
template <typename T>
Tensor from_vector(const std::vector<T>& values, IntArrayRef shape,
                   const TensorOptions& options = {});

// ── wrapping memory you own (libtorch's torch::from_blob) ────────────────────────────────
// A tensor over `data` WITHOUT copying it: writes through the tensor change your buffer and the
// other way round. Lifetime: the storage shares your buffer, so the buffer must outlive every
// tensor that shares that storage — the result, its views, and any copy of it autograd saved for
// backward; clone() it to keep the values longer. The deleter forms call deleter(data) when the
// last of them is gone (the others never free anything). Strides are in elements (default: the
// contiguous ones); data must be aligned for the dtype. options.requires_grad makes a leaf.
Tensor from_blob(void* data, IntArrayRef sizes, const TensorOptions& options = {});
Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides,
                 const TensorOptions& options = {});
Tensor from_blob(void* data, IntArrayRef sizes, const std::function<void(void*)>& deleter,
                 const TensorOptions& options = {});
Tensor from_blob(void* data, IntArrayRef sizes, IntArrayRef strides,
                 const std::function<void(void*)>& deleter, const TensorOptions& options = {});

// ── factories ────────────────────────────────────────────────────────────────────────────
Tensor empty(IntArrayRef sizes, const TensorOptions& options = {});  // uninitialised
Tensor zeros(IntArrayRef sizes, const TensorOptions& options = {});
Tensor ones(IntArrayRef sizes, const TensorOptions& options = {});
// dtype defaults to the fill value's kind: bool → bool, integer → int64, floating → float32.
Tensor full(IntArrayRef sizes, const Scalar& fill_value, const TensorOptions& options = {});
// [start, end) in steps; int64 when all three are integers, else float32. libtorch's three
// overloads: step has no default, so arange(0, 10, kFloat64) is [0, 10) as float64 and
// arange(0, 10, 2) is [0, 2, 4, 6, 8] (a dtype never converts to a Scalar, nor a number to
// TensorOptions).
Tensor arange(const Scalar& end, const TensorOptions& options = {});
Tensor arange(const Scalar& start, const Scalar& end, const TensorOptions& options = {});
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step,
              const TensorOptions& options = {});
// `steps` evenly spaced values from start to end, both included (the default float dtype unless
// options say otherwise); each half is computed from its own end, as PyTorch does.
Tensor linspace(const Scalar& start, const Scalar& end, int64_t steps,
                const TensorOptions& options = {});
Tensor eye(int64_t n, const TensorOptions& options = {});
Tensor eye(int64_t n, int64_t m, const TensorOptions& options = {});
Tensor rand(IntArrayRef sizes, const TensorOptions& options = {},
            Generator* generator = nullptr);  // U[0, 1)
Tensor randn(IntArrayRef sizes, const TensorOptions& options = {},
             Generator* generator = nullptr);  // N(0, 1)
Tensor randint(int64_t low, int64_t high, IntArrayRef sizes, const TensorOptions& options = kInt64,
               Generator* generator = nullptr);  // uniform integers in [low, high)
Tensor randint(int64_t high, IntArrayRef sizes, const TensorOptions& options = kInt64,
               Generator* generator = nullptr);
// A random permutation of 0 … n-1 (int64 unless options say otherwise): shuffling an epoch's
// indices, as torch::randperm.
Tensor randperm(int64_t n, const TensorOptions& options = kInt64, Generator* generator = nullptr);
Tensor empty_like(const Tensor& t, const TensorOptions& options = {});
Tensor zeros_like(const Tensor& t, const TensorOptions& options = {});
Tensor ones_like(const Tensor& t, const TensorOptions& options = {});
Tensor full_like(const Tensor& t, const Scalar& fill_value, const TensorOptions& options = {});
Tensor rand_like(const Tensor& t, const TensorOptions& options = {});
Tensor randn_like(const Tensor& t, const TensorOptions& options = {});

// ── free-function forms of the ops (libtorch's torch::add, torch::matmul, ...) ────────────
Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);
Tensor rsub(const Tensor& self, const Scalar& other);  // other - self
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& a);
Tensor pow(const Tensor& a, const Tensor& exponent);
Tensor pow(const Tensor& a, const Scalar& exponent);
Tensor pow(const Scalar& base, const Tensor& exponent);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor sin(const Tensor& a);
Tensor cos(const Tensor& a);
Tensor log1p(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor clamp(const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& condition, const Tensor& a, const Scalar& b);
Tensor where(const Tensor& condition, const Scalar& a, const Tensor& b);
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);
Tensor sum(const Tensor& a, IntArrayRef dims = {}, bool keepdim = false);
// Activations (module 02). gelu's approximate is "none" (exact, with erf) or "tanh".
Tensor relu(const Tensor& a);
Tensor leaky_relu(const Tensor& a, double negative_slope = 0.01);
Tensor sigmoid(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor gelu(const Tensor& a, std::string_view approximate = "none");
Tensor silu(const Tensor& a);
Tensor softmax(const Tensor& a, int64_t dim);
Tensor log_softmax(const Tensor& a, int64_t dim);
// y = input · weightᵀ + bias (module 03). input [*, in], weight [out, in], bias [out] or
// undefined → [*, out].
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = {});
Tensor mean(const Tensor& a, IntArrayRef dims = {}, bool keepdim = false);
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8,
              bool equal_nan = false);

// ── more free-function forms: each forwards to the method of the same name (libtorch's
// torch::reshape(x, ...), torch::sort(x), torch::max(x, 1), ...) ───────────────────────────
inline Tensor reshape(const Tensor& self, IntArrayRef shape) {
  return self.reshape(shape);
}
inline Tensor flatten(const Tensor& self, int64_t start_dim = 0, int64_t end_dim = -1) {
  return self.flatten(start_dim, end_dim);
}
inline Tensor transpose(const Tensor& self, int64_t dim0, int64_t dim1) {
  return self.transpose(dim0, dim1);
}
inline Tensor t(const Tensor& self) {
  return self.t();
}
inline Tensor permute(const Tensor& self, IntArrayRef dims) {
  return self.permute(dims);
}
inline Tensor squeeze(const Tensor& self) {
  return self.squeeze();
}
inline Tensor squeeze(const Tensor& self, int64_t dim) {
  return self.squeeze(dim);
}
inline Tensor unsqueeze(const Tensor& self, int64_t dim) {
  return self.unsqueeze(dim);
}
inline Tensor narrow(const Tensor& self, int64_t dim, int64_t start, int64_t length) {
  return self.narrow(dim, start, length);
}
inline Tensor select(const Tensor& self, int64_t dim, int64_t index) {
  return self.select(dim, index);
}
inline std::vector<Tensor> unbind(const Tensor& self, int64_t dim = 0) {
  return self.unbind(dim);
}
inline std::vector<Tensor> split(const Tensor& self, int64_t split_size, int64_t dim = 0) {
  return self.split(split_size, dim);
}
inline std::vector<Tensor> split(const Tensor& self, IntArrayRef split_sizes, int64_t dim = 0) {
  return self.split(split_sizes, dim);
}
inline std::vector<Tensor> split_with_sizes(const Tensor& self, IntArrayRef split_sizes,
                                            int64_t dim = 0) {
  return self.split_with_sizes(split_sizes, dim);
}
inline std::vector<Tensor> chunk(const Tensor& self, int64_t chunks, int64_t dim = 0) {
  return self.chunk(chunks, dim);
}
inline Tensor clone(const Tensor& self) {
  return self.clone();
}
inline Tensor sum(const Tensor& self, ScalarType dtype) {
  return self.sum(dtype);
}
inline Tensor var(const Tensor& self, bool unbiased = true) {
  return self.var({}, unbiased);
}
inline Tensor var(const Tensor& self, IntArrayRef dims, bool unbiased = true,
                  bool keepdim = false) {
  return self.var(dims, unbiased, keepdim);
}
inline Tensor max(const Tensor& self) {
  return self.max();
}
inline Tensor min(const Tensor& self) {
  return self.min();
}
inline std::tuple<Tensor, Tensor> max(const Tensor& self, int64_t dim, bool keepdim = false) {
  return self.max(dim, keepdim);
}
inline std::tuple<Tensor, Tensor> min(const Tensor& self, int64_t dim, bool keepdim = false) {
  return self.min(dim, keepdim);
}
inline Tensor max(const Tensor& self, const Tensor& other) {
  return self.maximum(other);
}
inline Tensor min(const Tensor& self, const Tensor& other) {
  return self.minimum(other);
}
inline Tensor argmax(const Tensor& self, std::optional<int64_t> dim = std::nullopt,
                     bool keepdim = false) {
  return self.argmax(dim, keepdim);
}
inline Tensor argmin(const Tensor& self, std::optional<int64_t> dim = std::nullopt,
                     bool keepdim = false) {
  return self.argmin(dim, keepdim);
}
// The element-wise ops above, as libtorch's torch::floor(x), torch::fmod(x, 2), ...
#define TT_FREE_FORM(name)                               \
  template <typename... Args>                            \
  inline auto name(const Tensor& self, Args&&... args) { \
    return self.name(std::forward<Args>(args)...);       \
  }
TT_FREE_FORM(floor)
TT_FREE_FORM(ceil)
TT_FREE_FORM(round)
TT_FREE_FORM(trunc)
TT_FREE_FORM(sign)
TT_FREE_FORM(frac)
TT_FREE_FORM(reciprocal)
TT_FREE_FORM(rsqrt)
TT_FREE_FORM(square)
TT_FREE_FORM(erf)
TT_FREE_FORM(expm1)
TT_FREE_FORM(log2)
TT_FREE_FORM(log10)
TT_FREE_FORM(tan)
TT_FREE_FORM(asin)
TT_FREE_FORM(acos)
TT_FREE_FORM(atan)
TT_FREE_FORM(sinh)
TT_FREE_FORM(cosh)
TT_FREE_FORM(fmod)
TT_FREE_FORM(remainder)
TT_FREE_FORM(atan2)
TT_FREE_FORM(lerp)
TT_FREE_FORM(addcmul)
TT_FREE_FORM(addcdiv)
TT_FREE_FORM(isnan)
TT_FREE_FORM(isinf)
TT_FREE_FORM(isfinite)
TT_FREE_FORM(nan_to_num)
TT_FREE_FORM(logical_not)
TT_FREE_FORM(logical_and)
TT_FREE_FORM(logical_or)
TT_FREE_FORM(logical_xor)
TT_FREE_FORM(masked_fill)
TT_FREE_FORM(index_fill)
TT_FREE_FORM(bernoulli)
TT_FREE_FORM(relu_)
TT_FREE_FORM(sigmoid_)
TT_FREE_FORM(tanh_)
#undef TT_FREE_FORM
inline Tensor clamp_min(const Tensor& self, const Scalar& min) {
  return self.clamp_min(min);
}
inline Tensor clamp_max(const Tensor& self, const Scalar& max) {
  return self.clamp_max(max);
}
inline Tensor eq(const Tensor& self, const Tensor& other) {
  return self.eq(other);
}
inline Tensor eq(const Tensor& self, const Scalar& other) {
  return self.eq(other);
}
inline Tensor ne(const Tensor& self, const Tensor& other) {
  return self.ne(other);
}
inline Tensor ne(const Tensor& self, const Scalar& other) {
  return self.ne(other);
}
inline Tensor lt(const Tensor& self, const Tensor& other) {
  return self.lt(other);
}
inline Tensor lt(const Tensor& self, const Scalar& other) {
  return self.lt(other);
}
inline Tensor le(const Tensor& self, const Tensor& other) {
  return self.le(other);
}
inline Tensor le(const Tensor& self, const Scalar& other) {
  return self.le(other);
}
inline Tensor gt(const Tensor& self, const Tensor& other) {
  return self.gt(other);
}
inline Tensor gt(const Tensor& self, const Scalar& other) {
  return self.gt(other);
}
inline Tensor ge(const Tensor& self, const Tensor& other) {
  return self.ge(other);
}
inline Tensor ge(const Tensor& self, const Scalar& other) {
  return self.ge(other);
}
inline std::tuple<Tensor, Tensor> sort(const Tensor& self, int64_t dim = -1,
                                       bool descending = false) {
  return self.sort(dim, descending);
}
inline std::tuple<Tensor, Tensor> sort(const Tensor& self, std::optional<bool> stable,
                                       int64_t dim = -1, bool descending = false) {
  return self.sort(stable, dim, descending);
}
inline Tensor argsort(const Tensor& self, int64_t dim = -1, bool descending = false) {
  return self.argsort(dim, descending);
}
inline std::tuple<Tensor, Tensor> topk(const Tensor& self, int64_t k, int64_t dim = -1,
                                       bool largest = true, bool sorted = true) {
  return self.topk(k, dim, largest, sorted);
}
inline Tensor cumsum(const Tensor& self, int64_t dim,
                     std::optional<ScalarType> dtype = std::nullopt) {
  return self.cumsum(dim, dtype);
}
inline Tensor cumprod(const Tensor& self, int64_t dim,
                      std::optional<ScalarType> dtype = std::nullopt) {
  return self.cumprod(dim, dtype);
}
inline Tensor tril(const Tensor& self, int64_t diagonal = 0) {
  return self.tril(diagonal);
}
inline Tensor triu(const Tensor& self, int64_t diagonal = 0) {
  return self.triu(diagonal);
}
inline Tensor norm(const Tensor& self, const Scalar& p = 2) {
  return self.norm(p);
}
inline Tensor norm(const Tensor& self, const std::optional<Scalar>& p, IntArrayRef dim,
                   bool keepdim = false) {
  return self.norm(p, dim, keepdim);
}
inline Tensor all(const Tensor& self) {
  return self.all();
}
inline Tensor all(const Tensor& self, int64_t dim, bool keepdim = false) {
  return self.all(dim, keepdim);
}
inline Tensor any(const Tensor& self) {
  return self.any();
}
inline Tensor any(const Tensor& self, int64_t dim, bool keepdim = false) {
  return self.any(dim, keepdim);
}

// ── shape, reduction and product ops libtorch programs use ──────────────────────────────────
// (the methods above; libtorch's torch:: forms, and the ops that only have one)
inline Tensor flip(const Tensor& self, IntArrayRef dims) {
  return self.flip(dims);
}
inline Tensor roll(const Tensor& self, IntArrayRef shifts, IntArrayRef dims = {}) {
  return self.roll(shifts, dims);
}
inline Tensor diag(const Tensor& self, int64_t diagonal = 0) {
  return self.diag(diagonal);
}
inline Tensor bmm(const Tensor& self, const Tensor& mat2) {
  return self.bmm(mat2);
}
inline Tensor baddbmm(const Tensor& self, const Tensor& batch1, const Tensor& batch2,
                      const Scalar& beta = 1, const Scalar& alpha = 1) {
  return self.baddbmm(batch1, batch2, beta, alpha);
}
inline Tensor addmm(const Tensor& self, const Tensor& mat1, const Tensor& mat2,
                    const Scalar& beta = 1, const Scalar& alpha = 1) {
  return self.addmm(mat1, mat2, beta, alpha);
}
inline Tensor outer(const Tensor& self, const Tensor& vec2) {
  return self.outer(vec2);
}
inline Tensor std(const Tensor& self, bool unbiased = true) {
  return self.std(unbiased);
}
inline Tensor std(const Tensor& self, IntArrayRef dims, bool unbiased = true,
                  bool keepdim = false) {
  return self.std(dims, unbiased, keepdim);
}
inline Tensor prod(const Tensor& self, std::optional<ScalarType> dtype = std::nullopt) {
  return self.prod(dtype);
}
inline Tensor prod(const Tensor& self, int64_t dim, bool keepdim = false,
                   std::optional<ScalarType> dtype = std::nullopt) {
  return self.prod(dim, keepdim, dtype);
}
inline Tensor logsumexp(const Tensor& self, IntArrayRef dims, bool keepdim = false) {
  return self.logsumexp(dims, keepdim);
}
inline Tensor multinomial(const Tensor& self, int64_t num_samples, bool replacement = false,
                          Generator* generator = nullptr) {
  return self.multinomial(num_samples, replacement, generator);
}
// Coordinate grids: out[i] is tensors[i] (each 0-d or 1-d) expanded over every tensor's length,
// along dim i ("ij") or with the first two dims swapped ("xy"). Views of the inputs.
std::vector<Tensor> meshgrid(const std::vector<Tensor>& tensors, std::string_view indexing = "ij");
// Einstein summation over one or two operands: "ij,jk->ik", "bij,bjk->bik", "i,j->ij", "ij->ji",
// "ij->" (and without "->": the indices seen once, alphabetically). Each index may appear once
// per operand; "..." is not supported (an error says so). Runs as permute/reshape + bmm.
Tensor einsum(std::string_view equation, const std::vector<Tensor>& tensors);
// int64 [*, num_classes]: out[..., c] = (self[...] == c). num_classes = -1: self.max() + 1.
Tensor one_hot(const Tensor& self, int64_t num_classes = -1);
// libtorch's unique family (torch.unique in Python is built on these). Values come out sorted
// (sorted = false is allowed: PyTorch leaves that order unspecified); the inverse (self's shape:
// where each element went) and the counts are int64, and empty [0] tensors when not asked for.
std::tuple<Tensor, Tensor> _unique(const Tensor& self, bool sorted = true,
                                   bool return_inverse = false);
std::tuple<Tensor, Tensor, Tensor> _unique2(const Tensor& self, bool sorted = true,
                                            bool return_inverse = false,
                                            bool return_counts = false);
// The distinct slices along dim (sorted lexicographically), as unique_dim: like libtorch's, it
// always returns the inverse ([size(dim)]) and the counts, whatever the two flags say.
std::tuple<Tensor, Tensor, Tensor> unique_dim(const Tensor& self, int64_t dim, bool sorted = true,
                                              bool return_inverse = false,
                                              bool return_counts = false);
// Collapses runs of equal consecutive elements of the flattened tensor, or, given dim, of equal
// consecutive slices along it (then, as libtorch's, the inverse and counts always come back).
std::tuple<Tensor, Tensor, Tensor> unique_consecutive(const Tensor& self,
                                                      bool return_inverse = false,
                                                      bool return_counts = false,
                                                      std::optional<int64_t> dim = std::nullopt);

// The dtype an op on these operands computes in (PyTorch's torch.result_type rules).
ScalarType result_type(const Tensor& a, const Tensor& b);
ScalarType result_type(const Tensor& a, const Scalar& b);

// ── operators ────────────────────────────────────────────────────────────────────────────
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, const Scalar& b);
Tensor operator+(const Scalar& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Scalar& b);
Tensor operator-(const Scalar& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Scalar& b);
Tensor operator*(const Scalar& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Scalar& b);
Tensor operator/(const Scalar& a, const Tensor& b);
Tensor operator-(const Tensor& a);
// As in libtorch, comparisons between tensors give element-wise bool tensors, not a bool.
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, const Scalar& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Scalar& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Scalar& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Scalar& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Scalar& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Scalar& b);

}  // namespace tinytorch

// The indexing API's types (TensorIndex, Slice, None, Ellipsis) need the complete Tensor, and
// every caller of index() needs them: they come with this header, as in libtorch.
#include "tinytorch/core/tensor_indexing.h"  // IWYU pragma: export
