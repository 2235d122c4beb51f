// tinytorch/core/scalar_type.h — element types (dtypes), Scalar, type promotion and dispatch.
//
// A tensor's bytes mean nothing without a dtype. TinyTorch has the six dtypes a course needs:
//
//   ScalarType  C++ type  bytes  category   PyTorch name
//   ──────────  ────────  ─────  ────────   ────────────
//   kBool       bool      1      boolean    torch.bool
//   kUInt8      uint8_t   1      integral   torch.uint8 (torch.byte)   storage only (module 15)
//   kInt8       int8_t    1      integral   torch.int8 (torch.char)    storage only (module 15)
//   kInt64      int64_t   8      integral   torch.int64 (torch.long)
//   kFloat32    float     4      floating   torch.float32 (torch.float) ← the default dtype
//   kFloat64    double    8      floating   torch.float64 (torch.double)
//
// Kernels are written once as templates and instantiated per dtype by dispatch_all_types(),
// our version of PyTorch's AT_DISPATCH_ALL_TYPES macro.
//
// NOTE: int8 and uint8 are STORAGE dtypes: they can be created, copied, converted (to()),
// printed, indexed, compared, saved and loaded — everything quantization (module 15) needs —
// but arithmetic refuses them with a TypeError that says to convert first. Kernels are
// instantiated only for the four compute dtypes (dispatch_all_types); the byte-moving ops
// (copy_, fill_, item, factories) use dispatch_storage_types, which adds the two.
#pragma once

#include <cstdint>
#include <limits>
#include <ostream>
#include <string_view>
#include <type_traits>
#include <utility>

#include "tinytorch/core/exception.h"

namespace tinytorch {

// NOTE: the enumerators are ordered by promotion rank: promote_types(a, b) picks the larger one.
enum class ScalarType : int8_t {
  Bool = 0,
  UInt8 = 1,
  Int8 = 2,
  Int64 = 3,
  Float32 = 4,
  Float64 = 5
};

inline constexpr ScalarType kBool = ScalarType::Bool;
inline constexpr ScalarType kUInt8 = ScalarType::UInt8;
inline constexpr ScalarType kByte = ScalarType::UInt8;
inline constexpr ScalarType kInt8 = ScalarType::Int8;
inline constexpr ScalarType kChar = ScalarType::Int8;
inline constexpr ScalarType kInt64 = ScalarType::Int64;
inline constexpr ScalarType kLong = ScalarType::Int64;
inline constexpr ScalarType kFloat32 = ScalarType::Float32;
inline constexpr ScalarType kFloat = ScalarType::Float32;
inline constexpr ScalarType kFloat64 = ScalarType::Float64;
inline constexpr ScalarType kDouble = ScalarType::Float64;

// The dtype of a tensor made from floating-point values when none is given
// (torch.get_default_dtype).
inline constexpr ScalarType kDefaultFloat = kFloat32;

constexpr int64_t element_size(ScalarType t) {
  switch (t) {
    case kBool:
    case kUInt8:
    case kInt8:
      return 1;
    case kInt64:
      return 8;
    case kFloat32:
      return 4;
    case kFloat64:
      return 8;
  }
  return 0;
}

constexpr bool is_floating_point(ScalarType t) {
  return t == kFloat32 || t == kFloat64;
}
constexpr bool is_integral(ScalarType t, bool include_bool) {
  return t == kInt64 || t == kInt8 || t == kUInt8 || (include_bool && t == kBool);
}
// The dtypes arithmetic kernels exist for (see the NOTE above): bool, int64, float32, float64.
constexpr bool is_compute_type(ScalarType t) {
  return t != kInt8 && t != kUInt8;
}

// "float32", "float64", "int64", "int8", "uint8", "bool" — the names used in every error message.
std::string_view to_string(ScalarType t);
// The inverse of to_string ("float32" → kFloat32); throws ValueError for an unknown name.
ScalarType scalar_type_from_string(std::string_view name);
std::ostream& operator<<(std::ostream& os, ScalarType t);

// The smallest dtype that can hold values of both: bool < uint8 < int8 < int64 < float32 <
// float64. The one exception is uint8 with int8: neither holds the other (PyTorch answers int16,
// which TinyTorch does not have), so the answer is int64.
constexpr ScalarType promote_types(ScalarType a, ScalarType b) {
  if ((a == kUInt8 && b == kInt8) || (a == kInt8 && b == kUInt8)) return kInt64;
  return static_cast<int8_t>(a) >= static_cast<int8_t>(b) ? a : b;
}

// ── C++ type ↔ ScalarType ──────────────────────────────────────────────────────────────────
template <typename T>
struct CppTypeToScalarType;
template <>
struct CppTypeToScalarType<bool> : std::integral_constant<ScalarType, kBool> {};
template <>
struct CppTypeToScalarType<uint8_t> : std::integral_constant<ScalarType, kUInt8> {};
template <>
struct CppTypeToScalarType<int8_t> : std::integral_constant<ScalarType, kInt8> {};
template <>
struct CppTypeToScalarType<int64_t> : std::integral_constant<ScalarType, kInt64> {};
template <>
struct CppTypeToScalarType<float> : std::integral_constant<ScalarType, kFloat32> {};
template <>
struct CppTypeToScalarType<double> : std::integral_constant<ScalarType, kFloat64> {};

template <typename T>
inline constexpr ScalarType scalar_type_of = CppTypeToScalarType<T>::value;

// ── Dispatch: run a templated lambda with the C++ type that matches a runtime dtype ────────
//
//   dispatch_all_types(x.dtype(), "exp", [&]<typename scalar_t>() { ... scalar_t* p = ...; });
//
// is the C++20 spelling of PyTorch's
//
//   AT_DISPATCH_ALL_TYPES(x.scalar_type(), "exp", [&] { ... scalar_t* p = ...; });
template <typename F>
decltype(auto) dispatch_all_types(ScalarType t, std::string_view op, F&& f) {
  switch (t) {
    case kBool:
      return f.template operator()<bool>();
    case kInt64:
      return f.template operator()<int64_t>();
    case kFloat32:
      return f.template operator()<float>();
    case kFloat64:
      return f.template operator()<double>();
    case kUInt8:
    case kInt8:
      break;
  }
  TT_CHECK_TYPE(
      is_compute_type(t), op, ": not supported for dtype ", to_string(t), " (", to_string(t),
      " is a storage dtype in TinyTorch; hint: convert first with x.to(tinytorch::kFloat32)"
      " or x.to(tinytorch::kInt64), or call x.dequantize() on a quantized tensor)");
  throw TypeError(detail::str(op, ": unknown dtype ", static_cast<int>(t)));
}

// Every dtype, the two storage dtypes included: for ops that only move or convert elements.
template <typename F>
decltype(auto) dispatch_storage_types(ScalarType t, std::string_view op, F&& f) {
  if (t == kUInt8) return f.template operator()<uint8_t>();
  if (t == kInt8) return f.template operator()<int8_t>();
  return dispatch_all_types(t, op, std::forward<F>(f));
}

// The same, for operations only defined on numbers (not bool): arithmetic, matmul, ...
template <typename F>
decltype(auto) dispatch_numeric_types(ScalarType t, std::string_view op, F&& f) {
  TT_CHECK_TYPE(t != kBool, op, ": not supported for dtype bool",
                " (hint: convert first, e.g. x.to(tinytorch::kFloat32))");
  return dispatch_all_types(t, op, std::forward<F>(f));
}

template <typename F>
decltype(auto) dispatch_floating_types(ScalarType t, std::string_view op, F&& f) {
  TT_CHECK_TYPE(is_floating_point(t), op, ": expected a floating-point dtype (float32 or float64)",
                " but got ", to_string(t));
  return t == kFloat32 ? f.template operator()<float>() : f.template operator()<double>();
}

// ── Scalar: one number of any dtype, as passed to x + 2 or full({2}, 3.5) (c10::Scalar) ────
class Scalar {
 public:
  Scalar(bool v) : tag_(kBool), i_(v) {}  // NOLINT(google-explicit-constructor)
  template <typename I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>) Scalar(I v)
      : tag_(kInt64), i_(static_cast<int64_t>(v)) {}  // NOLINT
  template <typename F>
  requires std::is_floating_point_v<F> Scalar(F v)
      : tag_(kFloat64), d_(static_cast<double>(v)) {}  // NOLINT

  // The dtype this number would have as a tensor of its own: bool, int64 or float64.
  ScalarType type() const { return tag_; }
  bool is_floating_point() const { return tag_ == kFloat64; }
  bool is_integral() const { return tag_ == kInt64; }
  bool is_boolean() const { return tag_ == kBool; }

  // The value as a T. A floating value that does not fit an integer T (NaN, ±inf, out of range),
  // or an integer too wide for a narrow T (300 as int8), throws, as in PyTorch ("value cannot be
  // converted to type int64_t without overflow"): a plain static_cast would be undefined behaviour.
  template <typename T>
  T to() const {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      if (tag_ == kFloat64) {
        constexpr auto lo = static_cast<double>(std::numeric_limits<T>::min());
        // max + 1 (2^63 for int64), exact in double unlike max itself.
        constexpr double hi = static_cast<double>(std::numeric_limits<T>::max() / 2 + 1) * 2.0;
        TT_CHECK_VALUE(d_ >= lo && d_ < hi, "value ", d_,
                       " cannot be converted to an integer type without overflow");
      } else if (sizeof(T) < sizeof(int64_t)) {  // e.g. int64 → int8, as in PyTorch
        TT_CHECK_VALUE(std::cmp_greater_equal(i_, std::numeric_limits<T>::min()) &&
                           std::cmp_less_equal(i_, std::numeric_limits<T>::max()),
                       "value ", i_, " cannot be converted to a ", sizeof(T) * 8,
                       "-bit integer type without overflow");
      }
    }
    return tag_ == kFloat64 ? static_cast<T>(d_) : static_cast<T>(i_);
  }

 private:
  ScalarType tag_;
  int64_t i_ = 0;
  double d_ = 0.0;
};

std::ostream& operator<<(std::ostream& os, const Scalar& s);

}  // namespace tinytorch
