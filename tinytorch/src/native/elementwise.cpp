// Element-wise ops: the shape and dtype rules (broadcasting, type promotion, in-place checks)
// around the shared strided loop in kernels/loops.h. Each op is a functor applied per element.
#include <algorithm>
#include <array>
#include <cmath>
#include <type_traits>

#include "opmath.h"
#include "tinytorch/kernels/half.h"
#include "tinytorch/kernels/loops.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

using kernels::convert;
using kernels::elementwise_kernel;

// ── type promotion (torch.result_type) ──────────────────────────────────────────────────────
//
// PyTorch ranks operands in three priority classes: tensors with dims > 0, 0-d tensors, and
// plain numbers ("wrapped numbers"). A lower class may only raise the result's CATEGORY
// (bool < integral < floating), never its width inside a category:
//
//   float32 tensor [3] + float64 0-d tensor  → float32   (same category: dimensioned wins)
//   int64 tensor [3]   + 2.5                 → float32   (category rises; default float dtype)
//   float32 tensor [3] + 2                   → float32
namespace {
int category(ScalarType t) {
  return t == kBool ? 0 : is_integral(t, false) ? 1 : 2;
}

// Combines the result of a higher priority class with that of a lower one.
ScalarType combine_categories(ScalarType higher, ScalarType lower) {
  if (category(higher) >= category(lower)) return higher;
  // The lower class raises the category. A wrapped float becomes the default float dtype.
  return lower == kFloat64 && category(higher) < 2 ? promote_types(higher, lower) : lower;
}

ScalarType wrapped_number_type(const Scalar& s) {
  return s.is_floating_point() ? kDefaultFloat : s.type();
}
}  // namespace

ScalarType result_type(const Tensor& a, const Tensor& b) {
  const bool a_dim = a.dim() > 0, b_dim = b.dim() > 0;
  if (a_dim == b_dim) return promote_types(a.dtype(), b.dtype());
  return a_dim ? combine_categories(a.dtype(), b.dtype())
               : combine_categories(b.dtype(), a.dtype());
}

ScalarType result_type(const Tensor& a, const Scalar& b) {
  const ScalarType s = wrapped_number_type(b);
  return category(a.dtype()) >= category(s) ? a.dtype() : s;
}

namespace {

// A Scalar as a 0-d tensor of the op's compute dtype.
Tensor scalar_tensor(const Scalar& s, ScalarType dtype) {
  return full({}, s, dtype);
}

// The broadcast shape of several operands, with the op's name in the error.
std::vector<int64_t> broadcast_all(std::string_view op, std::initializer_list<const Tensor*> ts) {
  std::vector<int64_t> shape;
  try {
    for (const Tensor* t : ts) shape = broadcast_shapes(shape, t->sizes());
  } catch (const Error& e) {
    throw Error(detail::str(op, ": ", e.what()));
  }
  return shape;
}

// Each op compiles only the kernels it can run (most of this file's build time is these
// instantiations: a loop per dtype, per broadcast pattern, per instruction set):
//   Stores:   what a binary op writes — its compute dtype (arithmetic), or bool (comparisons,
//             logical ops);
//   Computes: the compute dtypes that can reach its kernel — all four (bool, int64, float32,
//             float64), or float32/float64 alone for an op whose integer and bool inputs compute
//             in the default float dtype (exp, div, erf, ...) or never reach a kernel (floor of
//             an integer is that integer).
enum class Stores { kCompute, kBool };
enum class Computes { kAllTypes, kFloatingTypes };

// dispatch_all_types, or dispatch_floating_types for Computes::kFloatingTypes.
template <Computes kComputes, typename F>
void dispatch_compute(ScalarType math, std::string_view op, F&& kernel) {
  if constexpr (kComputes == Computes::kFloatingTypes) {
    dispatch_floating_types(math, op, std::forward<F>(kernel));
  } else {
    dispatch_all_types(math, op, std::forward<F>(kernel));
  }
}

// out = f(a, b) with broadcasting; a and b are converted to `compute` (the op's result_type) and
// the result stored as `compute`, or as bool (Stores::kBool).
// NOTE: int16/int32 and float16/bfloat16 have no kernels of their own: the kernel runs in their
// opmath_type (int64, float32) and a `compute`-typed result is rounded back once at the end,
// as PyTorch's CPU kernels do (bf16 + bf16 = the float32 sum rounded to bfloat16). Integer
// results wrap: int64 arithmetic modulo 2^32 is int32 arithmetic.
template <Stores kStores = Stores::kCompute, Computes kComputes = Computes::kAllTypes, typename F>
Tensor binary_op(std::string_view op, const Tensor& a, const Tensor& b, ScalarType compute, F f) {
  constexpr bool kBoolOut = kStores == Stores::kBool;
  const std::vector<int64_t> shape = broadcast_all(op, {&a, &b});
  const ScalarType math = opmath_type(compute);
  const Tensor a2 = native::expand(a.to(compute).to(math), shape),
               b2 = native::expand(b.to(compute).to(math), shape);
  Tensor out = empty(shape, kBoolOut ? kBool : math);
  dispatch_compute<kComputes>(math, op, [&]<typename scalar_t>() {
    using out_t = std::conditional_t<kBoolOut, bool, scalar_t>;
    elementwise_kernel<out_t, scalar_t>(out, std::array{a2, b2}, f.template operator()<scalar_t>());
  });
  return kBoolOut ? out : out.to(compute);
}

// out = f(a) computed in `compute` (by way of its opmath_type, as binary_op).
template <Computes kComputes = Computes::kAllTypes, typename F>
Tensor unary_op(std::string_view op, const Tensor& a, ScalarType compute, F f) {
  const ScalarType math = opmath_type(compute);
  const Tensor a2 = a.to(compute).to(math);
  Tensor out = empty(a.sizes(), math);
  dispatch_compute<kComputes>(math, op, [&]<typename scalar_t>() {
    elementwise_kernel<scalar_t, scalar_t>(out, std::array{a2}, f.template operator()<scalar_t>());
  });
  return out.to(compute);
}

// Whether a result of type `from` may be written into a tensor of type `to` (in-place ops):
// no float into an integer tensor, no number into a bool tensor (torch.can_cast).
bool can_cast(ScalarType from, ScalarType to) {
  return category(from) <= category(to);
}

// The lowest and highest storage element a tensor can touch.
std::pair<int64_t, int64_t> memory_extent(const Tensor& t) {
  int64_t lo = t.storage_offset(), hi = t.storage_offset();
  for (int64_t d = 0; d < t.dim(); ++d) hi += (t.size(d) - 1) * t.stride(d);
  return {lo, hi};
}

// (A tensor with no elements has no memory location to share.)
bool has_internal_overlap(const Tensor& t) {
  if (t.numel() == 0) return false;
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.size(d) > 1 && t.stride(d) == 0) return true;
  }
  return false;
}

// In-place ops write into `self` while reading `src`: refuse layouts where a write could change
// a value that is still to be read (PyTorch's assert_no_internal_overlap / partial overlap).
void check_inplace_overlap(std::string_view op, const Tensor& self, const Tensor& src) {
  TT_CHECK(!has_internal_overlap(self), op,
           ": unsupported operation: more than one element of the written-to tensor refers to a "
           "single memory location (it was made by expand()). Please clone() the tensor before "
           "performing the operation.");
  if (self.numel() == 0 || src.numel() == 0 || !self.storage().is_alias_of(src.storage())) return;
  const bool same_layout = self.storage_offset() == src.storage_offset() &&
                           self.sizes() == src.sizes() && self.strides() == src.strides();
  if (same_layout) return;  // x.add_(x): each element is read before it is written
  const auto [a_lo, a_hi] = memory_extent(self);
  const auto [b_lo, b_hi] = memory_extent(src);
  TT_CHECK(a_hi < b_lo || b_hi < a_lo, op,
           ": unsupported operation: some elements of the input tensor and the written-to tensor "
           "refer to a single memory location. Please clone() the input first.");
}

// self = f(self, other) in place; other broadcasts to self's shape (never the reverse).
template <Computes kComputes = Computes::kAllTypes, typename F>
Tensor& binary_op_(std::string_view op, Tensor& self, const Tensor& other, ScalarType compute,
                   F f) {
  TT_CHECK(can_cast(compute, self.dtype()), op, ": result type ", compute,
           " can't be cast to the desired output type ", self.dtype(),
           " (in-place ops keep self's dtype; use the out-of-place form instead)");
  const std::vector<int64_t> shape = broadcast_all(op, {&self, &other});
  TT_CHECK(IntArrayRef(shape) == self.sizes(), op, ": output with shape ", self.sizes(),
           " doesn't match the broadcast shape ", IntArrayRef(shape));
  check_inplace_overlap(op, self, other);
  if (compute != self.dtype() || opmath_type(compute) != compute) {
    return self.copy_(binary_op<Stores::kCompute, kComputes>(op, self, other, compute, f));
  }
  const Tensor other2 = native::expand(other.to(compute), shape);
  dispatch_compute<kComputes>(compute, op, [&]<typename scalar_t>() {
    elementwise_kernel<scalar_t, scalar_t>(self, std::array{self, other2},
                                           f.template operator()<scalar_t>());
  });
  return self;
}

// ── the per-element functors ───────────────────────────────────────────────────────────────
// Each is a template over the element type, returning a lambda. Integer arithmetic wraps around
// (via unsigned math) as in PyTorch, instead of signed overflow, which is undefined behaviour.
template <typename T>
T wrap_add(T a, T b) {
  if constexpr (std::is_same_v<T, int64_t>) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  } else {
    return static_cast<T>(a + b);
  }
}
template <typename T>
T wrap_mul(T a, T b) {
  if constexpr (std::is_same_v<T, int64_t>) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
  } else if constexpr (std::is_same_v<T, bool>) {
    return a && b;
  } else {
    return a * b;
  }
}

// a + alpha * b  (sub is add with -alpha)
auto add_fn(const Scalar& alpha) {
  return [alpha]<typename T>() {
    return [al = alpha.to<T>()](T a, T b) { return wrap_add(a, wrap_mul(al, b)); };
  };
}
struct MulFn {
  template <typename T>
  auto operator()() const {
    return [](T a, T b) { return wrap_mul(a, b); };
  }
};
struct DivFn {  // only ever run on floating types: div promotes integers to float first
  template <typename T>
  auto operator()() const {
    return [](T a, T b) { return a / b; };
  }
};

// Integer power by squaring, with PyTorch's results for negative exponents (1, ±1 or 0).
int64_t int_pow(int64_t base, int64_t exp) {
  if (exp < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exp % 2 == 0) ? 1 : -1;
    return 0;
  }
  uint64_t result = 1, b = static_cast<uint64_t>(base);
  for (auto e = static_cast<uint64_t>(exp); e > 0; e >>= 1) {
    if (e & 1) result *= b;
    b *= b;
  }
  return static_cast<int64_t>(result);
}
struct PowFn {
  template <typename T>
  auto operator()() const {
    return [](T a, T b) -> T {
      if constexpr (std::is_same_v<T, int64_t>) {
        return int_pow(a, b);
      } else if constexpr (std::is_same_v<T, bool>) {
        return a || !b;  // x^0 = 1, 1^x = 1, 0^1 = 0
      } else {
        return std::pow(a, b);
      }
    };
  }
};

template <typename Cmp>
struct CompareFn {
  template <typename T>
  auto operator()() const {
    return [](T a, T b) { return Cmp{}(a, b); };
  }
};

// NaN-propagating max/min (std::max would return whichever argument comes first).
template <bool kMax>
struct ExtremumFn {
  template <typename T>
  auto operator()() const {
    return [](T a, T b) -> T {
      if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
      }
      return kMax ? (a > b ? a : b) : (a < b ? a : b);
    };
  }
};

// The dtype unary float functions compute in: integers and bools become the default float.
ScalarType float_compute_type(const Tensor& a) {
  return a.is_floating_point() ? a.dtype() : kDefaultFloat;
}

void check_not_bool(std::string_view op, const Tensor& a, std::string_view hint) {
  TT_CHECK_TYPE(a.dtype() != kBool, op, " on a bool tensor is not supported. ", hint);
}

void check_alpha(std::string_view op, ScalarType compute, const Scalar& alpha) {
  TT_CHECK_TYPE(
      is_floating_point(compute) || !alpha.is_floating_point(), op,
      ": for integral input tensors, argument alpha must not be a floating point number.");
}

// As in PyTorch, subtraction rejects a bool operand on either side (tensor or Scalar).
void check_sub_bool(ScalarType a, ScalarType b) {
  TT_CHECK_TYPE(a != kBool || b != kBool,
                "sub: subtraction, the `-` operator, with two bool tensors is not supported. "
                "Use the `^` or logical_xor() operator instead.");
  TT_CHECK_TYPE(a != kBool && b != kBool,
                "sub: subtraction, the `-` operator, with a bool tensor is not supported. "
                "If you are trying to invert a mask, use the `~` or logical_not() operator "
                "instead.");
}

void check_pow_not_bool(std::string_view op, ScalarType compute) {
  TT_CHECK_TYPE(compute != kBool, op, ": not implemented for dtype bool",
                " (hint: convert first, e.g. x.to(tinytorch::kInt64))");
}

ScalarType div_type(ScalarType t) {
  return is_floating_point(t) ? t : kDefaultFloat;
}

}  // namespace

// ── out-of-place ───────────────────────────────────────────────────────────────────────────

Tensor native::add(const Tensor& self, const Tensor& other, const Scalar& alpha) {
  const ScalarType ct = result_type(self, other);
  check_alpha("add", ct, alpha);
  return binary_op("add", self, other, ct, add_fn(alpha));
}
Tensor Tensor::add(const Scalar& other, const Scalar& alpha) const {
  const ScalarType ct = result_type(*this, other);
  return add(scalar_tensor(other, ct), alpha);
}
Tensor native::sub(const Tensor& self, const Tensor& other, const Scalar& alpha) {
  const ScalarType ct = result_type(self, other);
  check_sub_bool(self.dtype(), other.dtype());
  check_alpha("sub", ct, alpha);
  return binary_op("sub", self, other, ct,
                   add_fn(alpha.is_floating_point() ? Scalar(-alpha.to<double>())
                                                    : Scalar(-alpha.to<int64_t>())));
}
Tensor Tensor::sub(const Scalar& other, const Scalar& alpha) const {
  check_sub_bool(dtype(), other.type());
  return sub(scalar_tensor(other, result_type(*this, other)), alpha);
}
// other - self (torch.rsub): the `Scalar - Tensor` operator.
Tensor rsub(const Tensor& self, const Scalar& other) {
  check_sub_bool(self.dtype(), other.type());
  return scalar_tensor(other, result_type(self, other)).sub(self);
}
Tensor native::mul(const Tensor& self, const Tensor& other) {
  return binary_op("mul", self, other, result_type(self, other), MulFn{});
}
Tensor Tensor::mul(const Scalar& other) const {
  return mul(scalar_tensor(other, result_type(*this, other)));
}
Tensor native::div(const Tensor& self, const Tensor& other) {
  return binary_op<Stores::kCompute, Computes::kFloatingTypes>(
      "div", self, other, div_type(result_type(self, other)), DivFn{});
}
Tensor Tensor::div(const Scalar& other) const {
  return div(scalar_tensor(other, result_type(*this, other)));
}
Tensor native::pow(const Tensor& self, const Tensor& exponent) {
  const ScalarType ct = result_type(self, exponent);
  check_pow_not_bool("pow", ct);
  return binary_op("pow", self, exponent, ct, PowFn{});
}
Tensor Tensor::pow(const Scalar& exponent) const {
  const ScalarType ct = result_type(*this, exponent);
  TT_CHECK_VALUE(!is_integral(ct, false) || exponent.to<int64_t>() >= 0,
                 "pow: integers to negative integer powers are not allowed (got exponent ",
                 exponent, " for an ", ct, " tensor); convert to float first");
  return pow(scalar_tensor(exponent, ct));
}
Tensor pow(const Scalar& base, const Tensor& exponent) {
  const ScalarType ct = result_type(exponent, base);
  return scalar_tensor(base, ct).pow(exponent);
}

Tensor native::neg(const Tensor& self) {
  check_not_bool("neg: negation, the `-` operator,", self,
                 "If you are trying to invert a mask, use logical_not() instead.");
  return unary_op("neg", self, self.dtype(), []<typename T>() {
    return [](T a) -> T {
      if constexpr (std::is_same_v<T, int64_t>) {
        return static_cast<int64_t>(0 - static_cast<uint64_t>(a));
      } else {
        return -a;
      }
    };
  });
}

Tensor native::exp(const Tensor& self) {
  return unary_op<Computes::kFloatingTypes>(
      "exp", self, float_compute_type(self),
      []<typename T>() { return [](T a) { return static_cast<T>(std::exp(a)); }; });
}
Tensor native::log(const Tensor& self) {
  return unary_op<Computes::kFloatingTypes>(
      "log", self, float_compute_type(self),
      []<typename T>() { return [](T a) { return static_cast<T>(std::log(a)); }; });
}
Tensor native::sqrt(const Tensor& self) {
  return unary_op<Computes::kFloatingTypes>(
      "sqrt", self, float_compute_type(self),
      []<typename T>() { return [](T a) { return static_cast<T>(std::sqrt(a)); }; });
}
// sin, cos and log1p are libtorch's, beyond the chapters' ops; like exp and log, an integer or
// bool input computes in the default float dtype. log1p(x) = ln(1 + x), but accurate for tiny x,
// where 1 + x would round away x's digits.
Tensor native::sin(const Tensor& self) {
  return unary_op<Computes::kFloatingTypes>(
      "sin", self, float_compute_type(self),
      []<typename T>() { return [](T a) { return static_cast<T>(std::sin(a)); }; });
}
Tensor native::cos(const Tensor& self) {
  return unary_op<Computes::kFloatingTypes>(
      "cos", self, float_compute_type(self),
      []<typename T>() { return [](T a) { return static_cast<T>(std::cos(a)); }; });
}
Tensor native::log1p(const Tensor& self) {
  return unary_op<Computes::kFloatingTypes>(
      "log1p", self, float_compute_type(self),
      []<typename T>() { return [](T a) { return static_cast<T>(std::log1p(a)); }; });
}
Tensor native::abs(const Tensor& self) {
  check_not_bool("abs", self, "Convert it first, e.g. x.to(tinytorch::kInt64).");
  return unary_op("abs", self, self.dtype(), []<typename T>() {
    return [](T a) -> T {
      if constexpr (std::is_same_v<T, int64_t>) {
        return a < 0 ? static_cast<int64_t>(0 - static_cast<uint64_t>(a)) : a;
      } else if constexpr (std::is_unsigned_v<T>) {
        return a;  // its own absolute value (bool never gets here: refused above)
      } else {
        return std::abs(a);
      }
    };
  });
}

Tensor native::clamp(const Tensor& self, std::optional<Scalar> min, std::optional<Scalar> max) {
  TT_CHECK(min || max, "clamp: at least one of 'min' or 'max' must not be None");
  ScalarType ct = self.dtype();
  if (min) ct = result_type(empty({1}, ct), *min);
  if (max) ct = result_type(empty({1}, ct), *max);
  return unary_op("clamp", self, ct, [min, max]<typename T>() {
    // Clamping to [lo, hi] with lo > hi gives hi everywhere, as in PyTorch; NaN stays NaN. A
    // missing bound is not applied at all (a stand-in like the largest finite value would turn
    // -inf into -3.4e38 under clamp_max).
    const bool has_lo = min.has_value(), has_hi = max.has_value();
    const T lo = has_lo ? min->to<T>() : T{}, hi = has_hi ? max->to<T>() : T{};
    return [has_lo, has_hi, lo, hi](T a) -> T {
      if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(a)) return a;
      }
      const T above = has_lo && a < lo ? lo : a;
      return has_hi && above > hi ? hi : above;
    };
  });
}

Tensor native::maximum(const Tensor& self, const Tensor& other) {
  return binary_op("maximum", self, other, result_type(self, other), ExtremumFn<true>{});
}
Tensor native::minimum(const Tensor& self, const Tensor& other) {
  return binary_op("minimum", self, other, result_type(self, other), ExtremumFn<false>{});
}

// Comparing int8 / uint8 (storage dtypes, no kernels of their own) is exact in int64.
ScalarType comparison_compute_type(const Tensor& a, const Tensor& b) {
  const ScalarType t = result_type(a, b);
  return is_compute_type(opmath_type(t)) ? t : kInt64;
}

#define TT_DEFINE_COMPARISON(name, Cmp)                                                         \
  Tensor Tensor::name(const Tensor& other) const {                                              \
    return binary_op<Stores::kBool>(#name, *this, other, comparison_compute_type(*this, other), \
                                    CompareFn<Cmp>{});                                          \
  }                                                                                             \
  Tensor Tensor::name(const Scalar& other) const {                                              \
    return name(scalar_tensor(other, result_type(*this, other)));                               \
  }
TT_DEFINE_COMPARISON(eq, std::equal_to<>)
TT_DEFINE_COMPARISON(ne, std::not_equal_to<>)
TT_DEFINE_COMPARISON(lt, std::less<>)
TT_DEFINE_COMPARISON(le, std::less_equal<>)
TT_DEFINE_COMPARISON(gt, std::greater<>)
TT_DEFINE_COMPARISON(ge, std::greater_equal<>)
#undef TT_DEFINE_COMPARISON

Tensor native::where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  TT_CHECK_TYPE(condition.dtype() == kBool,
                "where: expected condition to be a bool tensor, but got a tensor with dtype ",
                condition.dtype(), " (hint: compare first, e.g. where(x > 0, x, y))");
  const std::vector<int64_t> shape = broadcast_all("where", {&condition, &a, &b});
  const ScalarType ct = result_type(a, b), math = opmath_type(ct);
  const Tensor c2 = native::expand(condition, shape), a2 = native::expand(a.to(ct).to(math), shape),
               b2 = native::expand(b.to(ct).to(math), shape);
  Tensor out = empty(shape, math);
  dispatch_all_types(math, "where", [&]<typename T>() {
    // The condition is read as the same type as a and b, then tested against zero.
    const Tensor c3 = c2.to(math);
    elementwise_kernel<T, T>(out, std::array{c3, a2, b2},
                             [](T c, T x, T y) { return c != T(0) ? x : y; });
  });
  return out.to(ct);
}
Tensor where(const Tensor& condition, const Tensor& a, const Scalar& b) {
  return where(condition, a, scalar_tensor(b, result_type(a, b)));
}
Tensor where(const Tensor& condition, const Scalar& a, const Tensor& b) {
  return where(condition, scalar_tensor(a, result_type(b, a)), b);
}
Tensor Tensor::where(const Tensor& condition, const Tensor& other) const {
  return tinytorch::where(condition, *this, other);
}

// ── more element-wise math: libtorch's, beyond the chapters (NOTE: given) ─────────────────────
// Like sin and log1p, an integer or bool input to a transcendental op computes in the default
// float dtype; rounding and sign keep an integer's dtype (where they are the identity but for
// sign). Every one-input op is a case of one table, unary_math.

std::string_view native::unary_math_name(UnaryMath op) {
  static constexpr std::array<std::string_view, static_cast<size_t>(UnaryMath::kCount)> kNames = {
      "floor", "ceil", "round", "trunc", "sign", "frac", "reciprocal", "rsqrt", "erf",
      "expm1", "log2", "log10", "tan",   "asin", "acos", "atan",       "sinh",  "cosh"};
  return kNames.at(static_cast<size_t>(op));
}

Tensor native::unary_math(const Tensor& self, UnaryMath op) {
  const std::string_view name = unary_math_name(op);
  const bool keeps_dtype = op <= UnaryMath::kFrac;
  if (keeps_dtype && !self.is_floating_point()) {
    // floor, ceil, round and trunc of an integer are the integer; sign of a bool is itself.
    TT_CHECK_TYPE(op != UnaryMath::kFrac && (op == UnaryMath::kSign || self.dtype() != kBool), name,
                  ": not implemented for dtype ", self.dtype(),
                  op == UnaryMath::kFrac ? " (frac needs a floating tensor)"
                                         : " (hint: convert first, e.g. x.to(tinytorch::kInt64))");
    if (op != UnaryMath::kSign || self.dtype() == kBool) return native::clone(self);
  }
  // A floating input computes in its own dtype (float16 / bfloat16 by way of float32, as every
  // element-wise op), an integer or bool one in the default float dtype — but for sign, whose
  // int8 ... int32 inputs (no kernels of their own) take its int64 kernel.
  const ScalarType ct = !keeps_dtype || self.is_floating_point() ? float_compute_type(self)
                        : is_compute_type(self.dtype())          ? self.dtype()
                                                                 : kInt64;
  // Every op but sign reaches its kernel in float32 or float64 only (an integer's floor is
  // returned above; erf of an integer computes in the default float dtype).
  const auto run = [&](auto f) {
    return unary_op<Computes::kFloatingTypes>(name, self, ct, f)
        .to(keeps_dtype ? self.dtype() : ct);
  };
  switch (op) {
    case UnaryMath::kFloor:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(std::floor(a)); }; });
    case UnaryMath::kCeil:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(std::ceil(a)); }; });
    case UnaryMath::kRound:  // half to even: nearbyint in the default rounding mode
      return run(
          []<typename T>() { return [](T a) { return static_cast<T>(std::nearbyint(a)); }; });
    case UnaryMath::kTrunc:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(std::trunc(a)); }; });
    case UnaryMath::kSign:  // 0 for ±0 and NaN; an int64 (or int8, ...) kernel too
      return unary_op(name, self, ct,
                      []<typename T>() {
                        return [](T a) { return static_cast<T>((T(0) < a) - (a < T(0))); };
                      })
          .to(self.dtype());
    case UnaryMath::kFrac:
      return run(
          []<typename T>() { return [](T a) { return static_cast<T>(a - std::trunc(a)); }; });
    case UnaryMath::kReciprocal:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(T(1) / a); }; });
    case UnaryMath::kRsqrt:
      return run(
          []<typename T>() { return [](T a) { return static_cast<T>(T(1) / std::sqrt(a)); }; });
    case UnaryMath::kErf:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(std::erf(a)); }; });
    case UnaryMath::kExpm1:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(std::expm1(a)); }; });
    case UnaryMath::kLog2:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(std::log2(a)); }; });
    case UnaryMath::kLog10:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(std::log10(a)); }; });
    case UnaryMath::kTan:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(std::tan(a)); }; });
    case UnaryMath::kAsin:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(std::asin(a)); }; });
    case UnaryMath::kAcos:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(std::acos(a)); }; });
    case UnaryMath::kAtan:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(std::atan(a)); }; });
    case UnaryMath::kSinh:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(std::sinh(a)); }; });
    case UnaryMath::kCosh:
      return run([]<typename T>() { return [](T a) { return static_cast<T>(std::cosh(a)); }; });
    case UnaryMath::kCount:
      break;
  }
  throw Error("unary_math: unknown op");
}

namespace {
// fmod (C's: the sign of a) and remainder (Python's: the sign of b). An integer b of -1 gives 0
// directly: INT64_MIN % -1 overflows.
template <bool kPython>
struct ModFn {
  template <typename T>
  auto operator()() const {
    return [](T a, T b) -> T {
      if constexpr (std::is_floating_point_v<T>) {
        T m = std::fmod(a, b);
        if (kPython && m != 0 && (b < 0) != (m < 0)) m += b;
        return m;
      } else if constexpr (std::is_same_v<T, bool>) {
        return false;  // never run: refused before the kernel
      } else {
        if (b == -1) return 0;
        T m = a % b;
        if (kPython && m != 0 && (b < 0) != (m < 0)) m += b;
        return m;
      }
    };
  }
};

template <bool kPython>
Tensor mod_op(std::string_view op, const Tensor& self, const Tensor& other) {
  const ScalarType ct = result_type(self, other);
  check_pow_not_bool(op, ct);
  if (!is_floating_point(ct)) {
    TT_CHECK_VALUE(!native::any(other.eq(0), std::nullopt, false).item<bool>(), op,
                   ": ZeroDivisionError: an integer divisor (other) is 0");
  }
  return binary_op(op, self, other, ct, ModFn<kPython>{});
}
}  // namespace

namespace {
// Floor division, a // b rounded toward −∞ (torch.floor_divide since PyTorch 1.13, Python's //).
// Floats: not floor(a / b), whose rounded quotient can land on the next integer (1.0 // 0.1 is
// 9, though 1.0 / 0.1 rounds to 10.0): (a − fmod(a, b)) / b is an exact integer up to one
// rounding, stepped down by one where the remainder and b differ in sign; its nearest integer
// is the quotient. A zero quotient keeps the sign of a / b; b = 0 gives a / b (±inf, NaN).
// Integers: a / b truncates, one less where the remainder is nonzero with the other sign; b = -1
// is −a (INT64_MIN / -1 overflows), computed on unsigned values so it wraps as PyTorch's does.
struct FloorDivFn {
  template <typename T>
  auto operator()() const {
    return [](T a, T b) -> T {
      if constexpr (std::is_floating_point_v<T>) {
        if (b == 0) return a / b;
        const T mod = std::fmod(a, b);
        T div = (a - mod) / b;
        if (mod != 0 && (b < 0) != (mod < 0)) div -= 1;
        if (div == 0) return std::copysign(T(0), a / b);
        T floordiv = std::floor(div);
        if (div - floordiv > T(0.5)) floordiv += 1;
        return floordiv;
      } else if constexpr (std::is_same_v<T, bool>) {
        return false;  // never run: refused before the kernel
      } else {
        using U = std::make_unsigned_t<T>;
        if (b == -1) return static_cast<T>(U(0) - static_cast<U>(a));
        const T q = a / b;
        const T r = a % b;
        return (r != 0 && (r < 0) != (b < 0)) ? static_cast<T>(q - 1) : q;
      }
    };
  }
};
}  // namespace

Tensor native::floor_divide(const Tensor& self, const Tensor& other) {
  const ScalarType ct = result_type(self, other);
  check_pow_not_bool("floor_divide", ct);
  if (!is_floating_point(ct)) {
    TT_CHECK_VALUE(!native::any(other.eq(0), std::nullopt, false).item<bool>(),
                   "floor_divide: ZeroDivisionError: an integer divisor (other) is 0");
  }
  return binary_op("floor_divide", self, other, ct, FloorDivFn{});
}

Tensor native::fmod(const Tensor& self, const Tensor& other) {
  return mod_op<false>("fmod", self, other);
}
Tensor native::remainder(const Tensor& self, const Tensor& other) {
  return mod_op<true>("remainder", self, other);
}
Tensor native::atan2(const Tensor& self, const Tensor& other) {
  return binary_op<Stores::kCompute, Computes::kFloatingTypes>(
      "atan2", self, other, div_type(result_type(self, other)),
      []<typename T>() { return [](T a, T b) { return static_cast<T>(std::atan2(a, b)); }; });
}

Tensor native::float_test(const Tensor& self, FloatTest test) {
  // An integer tensor holds no NaN and no infinity: every element is finite.
  if (!self.is_floating_point()) return full(self.sizes(), test == FloatTest::kIsFinite, kBool);
  Tensor out = empty(self.sizes(), kBool);
  dispatch_floating_types(self.dtype(), "isfinite", [&]<typename T>() {
    elementwise_kernel<bool, T>(out, std::array{self}, [test](T a) {
      return test == FloatTest::kIsNan   ? std::isnan(a)
             : test == FloatTest::kIsInf ? std::isinf(a)
                                         : std::isfinite(a);
    });
  });
  return out;
}

Tensor native::nan_to_num(const Tensor& self, std::optional<double> nan,
                          std::optional<double> posinf, std::optional<double> neginf) {
  if (!self.is_floating_point()) return native::clone(self);
  return unary_op("nan_to_num", self, self.dtype(), [=]<typename T>() {
    const T n = static_cast<T>(nan.value_or(0.0));
    const T hi = posinf ? static_cast<T>(*posinf) : std::numeric_limits<T>::max();
    const T lo = neginf ? static_cast<T>(*neginf) : std::numeric_limits<T>::lowest();
    return [=](T a) {
      return std::isnan(a)                              ? n
             : a == std::numeric_limits<T>::infinity()  ? hi
             : a == -std::numeric_limits<T>::infinity() ? lo
                                                        : a;
    };
  });
}

Tensor native::logical_not(const Tensor& self) {
  const ScalarType ct = is_compute_type(self.dtype()) ? self.dtype() : kInt64;
  const Tensor a = self.to(ct);
  Tensor out = empty(self.sizes(), kBool);
  dispatch_all_types(ct, "logical_not", [&]<typename T>() {
    elementwise_kernel<bool, T>(out, std::array{a}, [](T v) { return v == T(0); });
  });
  return out;
}

Tensor native::logical(const Tensor& self, const Tensor& other, Logical op) {
  const char* name = op == Logical::kAnd  ? "logical_and"
                     : op == Logical::kOr ? "logical_or"
                                          : "logical_xor";
  return binary_op<Stores::kBool>(
      name, self, other, comparison_compute_type(self, other), [op]<typename T>() {
        return [op](T a, T b) {
          const bool x = a != T(0), y = b != T(0);
          return op == Logical::kAnd ? x && y : op == Logical::kOr ? x || y : x != y;
        };
      });
}

// ── in-place ───────────────────────────────────────────────────────────────────────────────

Tensor& native::add_(Tensor& self, const Tensor& other, const Scalar& alpha) {
  const ScalarType ct = result_type(self, other);
  check_alpha("add_", ct, alpha);
  return binary_op_("add_", self, other, ct, add_fn(alpha));
}
Tensor& Tensor::add_(const Scalar& other, const Scalar& alpha) const {
  return add_(scalar_tensor(other, result_type(*this, other)), alpha);
}
Tensor& native::sub_(Tensor& self, const Tensor& other, const Scalar& alpha) {
  const ScalarType ct = result_type(self, other);
  check_sub_bool(self.dtype(), other.dtype());
  check_alpha("sub_", ct, alpha);
  return binary_op_("sub_", self, other, ct,
                    add_fn(alpha.is_floating_point() ? Scalar(-alpha.to<double>())
                                                     : Scalar(-alpha.to<int64_t>())));
}
Tensor& Tensor::sub_(const Scalar& other, const Scalar& alpha) const {
  check_sub_bool(dtype(), other.type());
  return sub_(scalar_tensor(other, result_type(*this, other)), alpha);
}
Tensor& native::mul_(Tensor& self, const Tensor& other) {
  return binary_op_("mul_", self, other, result_type(self, other), MulFn{});
}
Tensor& Tensor::mul_(const Scalar& other) const {
  return mul_(scalar_tensor(other, result_type(*this, other)));
}
Tensor& native::div_(Tensor& self, const Tensor& other) {
  return binary_op_<Computes::kFloatingTypes>("div_", self, other,
                                              div_type(result_type(self, other)), DivFn{});
}
Tensor& Tensor::div_(const Scalar& other) const {
  return div_(scalar_tensor(other, result_type(*this, other)));
}
Tensor& native::pow_(Tensor& self, const Scalar& exponent) {
  const ScalarType ct = result_type(self, exponent);
  check_pow_not_bool("pow_", ct);
  TT_CHECK_VALUE(!is_integral(ct, false) || exponent.to<int64_t>() >= 0,
                 "pow_: integers to negative integer powers are not allowed");
  return binary_op_("pow_", self, scalar_tensor(exponent, ct), ct, PowFn{});
}

// The in-place unary ops (neg_, exp_, log_, sqrt_, sin_, cos_, log1p_, abs_, clamp_) live with
// the other in-place ops in autograd/variable_ops.cpp: every in-place op takes one path there.

Tensor& native::fill_(Tensor& self, const Scalar& value) {
  // Filling an expanded tensor is fine: every alias receives the same value.
  dispatch_storage_types(self.dtype(), "fill_", [&]<typename T>() {
    const T v = value.to<T>();
    elementwise_kernel<T, T>(self, std::array<Tensor, 0>{}, [v]() { return v; });
  });
  return self;
}

namespace {
// dst[i] = src[i] converted (float32 ↔ float16/bfloat16), i < n: kernels/half.h's array
// conversions (the tier's: module 22's on the reference tier).
template <typename From, typename To>
void convert_array(int64_t n, const From* src, To* dst) {
  if constexpr (std::is_same_v<To, BFloat16>) {
    kernels::float_to_bf16(n, src, dst);
  } else if constexpr (std::is_same_v<To, Half>) {
    kernels::float_to_half(n, src, dst);
  } else if constexpr (std::is_same_v<From, BFloat16>) {
    kernels::bf16_to_float(n, src, dst);
  } else {
    kernels::half_to_float(n, src, dst);
  }
}

// float32 ↔ float16/bfloat16 between two tensors of one shape laid out alike in one gap-free
// block each (both contiguous, or both the same permutation of a dense buffer: attention's
// output, rounded into the query-ordered 16-bit buffer): numel() consecutive elements, so the
// vectorised conversions of kernels/half.h (AVX2, F16C, AVX-512 BF16), which give convert's bits,
// run over them flat, split over the threads as the element-wise ops are. Returns false for any
// other pair. (A view with gaps — one head of a [B, T, 3d] projection — takes the generic loop
// below: calling these per short row costs more.)
bool copy_16bit_dense(Tensor& self, const Tensor& src) {
  if (self.sizes() != src.sizes() || self.strides() != src.strides() ||
      !native::opmath::is_non_overlapping_and_dense(self)) {
    return false;
  }
  const auto convert_all = [&]<typename From, typename To>(const From* in, To* dst) {
    parallel_for(0, self.numel(), kernels::detail::kElementwiseGrainSize,
                 [&](int64_t b, int64_t e) { convert_array(e - b, in + b, dst + b); });
  };
  const ScalarType to = self.dtype(), from = src.dtype();
  if (from == kFloat32 && to == kBFloat16) {
    convert_all(src.data_ptr<float>(), self.data_ptr<BFloat16>());
  } else if (from == kFloat32 && to == kHalf) {
    convert_all(src.data_ptr<float>(), self.data_ptr<Half>());
  } else if (from == kBFloat16 && to == kFloat32) {
    convert_all(src.data_ptr<BFloat16>(), self.data_ptr<float>());
  } else if (from == kHalf && to == kFloat32) {
    convert_all(src.data_ptr<Half>(), self.data_ptr<float>());
  } else {
    return false;
  }
  return true;
}

// The row loop of a copy between two dtypes: out[i] = convert<To>(in[i]) for i < n, over byte
// strides (kernels/loops.h's InnerLoop); a contiguous row is a loop the compiler vectorises.
template <typename To, typename From>
void convert_rows(char* const* data, const int64_t* strides, int64_t n) {
  if (strides[0] == sizeof(To) && strides[1] == sizeof(From)) {
    To* out = reinterpret_cast<To*>(data[0]);
    const From* in = reinterpret_cast<const From*>(data[1]);
    for (int64_t i = 0; i < n; ++i) out[i] = convert<To>(in[i]);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    *reinterpret_cast<To*>(data[0] + i * strides[0]) =
        convert<To>(*reinterpret_cast<const From*>(data[1] + i * strides[1]));
  }
}
}  // namespace

Tensor& native::copy_(Tensor& self, const Tensor& src) {
  std::vector<int64_t> shape = broadcast_all("copy_", {&self, &src});
  TT_CHECK(IntArrayRef(shape) == self.sizes(), "copy_: source of shape ", src.sizes(),
           " cannot be broadcast to destination shape ", self.sizes());
  check_inplace_overlap("copy_", self, src);
  // The integers of a quantized tensor are not its values: copying them out would silently
  // return q instead of scale * (q - zero_point) (PyTorch refuses the same way).
  TT_CHECK_TYPE(!src.is_quantized() && !self.is_quantized(),
                "copy_: copying from or into a quantized tensor is not supported (hint: "
                "x.dequantize() gives its float values, x.int_repr() its integers, and "
                "quantize_per_tensor / quantize_per_channel make a new quantized tensor)");
  if (copy_16bit_dense(self, src)) return self;
  const Tensor s = native::expand(src, self.sizes());
  if (self.dtype() == src.dtype()) {
    dispatch_storage_types(self.dtype(), "copy_", [&]<typename T>() {
      elementwise_kernel<T, T>(self, std::array{s}, [](T v) { return v; });
    });
    return self;
  }
  // NOTE: 90 ordered pairs of dtypes, each one plain row loop (convert_rows). The element-wise
  // kernel's vectorised variants for each pair made this file the library's slowest to compile
  // (half of its 160 s), for conversions off the hot path (the hot float32 <-> 16-bit ones are
  // copy_16bit_dense's above).
  dispatch_storage_types(self.dtype(), "copy_", [&]<typename To>() {
    dispatch_storage_types(src.dtype(), "copy_", [&]<typename From>() {
      kernels::for_each_strided_split({self, s}, convert_rows<To, From>);
    });
  });
  return self;
}

Tensor native::to(const Tensor& self, ScalarType dtype, bool copy) {
  if (dtype == self.dtype() && !copy) return self;
  return empty(self.sizes(), dtype).copy_(self);
}

Tensor native::clone(const Tensor& self) {
  return empty(self.sizes(), self.dtype()).copy_(self);
}

Tensor Tensor::contiguous() const {
  return is_contiguous() ? *this : clone();
}

// ── whole-tensor comparisons ───────────────────────────────────────────────────────────────

bool Tensor::allclose(const Tensor& other, double rtol, double atol, bool equal_nan) const {
  // |self - other| <= atol + rtol * |other|, element-wise, after broadcasting (torch.allclose).
  const std::vector<int64_t> shape = broadcast_all("allclose", {this, &other});
  const Tensor a = native::expand(to(kFloat64), shape),
               b = native::expand(other.to(kFloat64), shape);
  Tensor ok = empty(shape, kBool);
  elementwise_kernel<bool, double>(ok, std::array{a, b}, [=](double x, double y) {
    if (std::isnan(x) || std::isnan(y)) return equal_nan && std::isnan(x) && std::isnan(y);
    if (x == y) return true;  // also equal infinities
    // An infinity is only close to itself (|inf - y| <= rtol * |inf| would accept anything).
    if (std::isinf(x) || std::isinf(y)) return false;
    return std::abs(x - y) <= atol + rtol * std::abs(y);
  });
  const std::vector<bool> flags = ok.to_vector<bool>();
  return std::all_of(flags.begin(), flags.end(), [](bool f) { return f; });
}

bool Tensor::equal(const Tensor& other) const {
  if (sizes() != other.sizes()) return false;
  const std::vector<bool> flags = eq(other).to_vector<bool>();
  return std::all_of(flags.begin(), flags.end(), [](bool f) { return f; });
}

}  // namespace tinytorch
