// tinytorch/core/scalar_type.h — element types (dtypes), Scalar, type promotion and dispatch.
//
// A tensor's bytes mean nothing without a dtype. TinyTorch has the four dtypes a course needs:
//
//   ScalarType  C++ type  bytes  category   PyTorch name
//   ──────────  ────────  ─────  ────────   ────────────
//   kBool       bool      1      boolean    torch.bool
//   kInt64      int64_t   8      integral   torch.int64 (torch.long)
//   kFloat32    float     4      floating   torch.float32 (torch.float) ← the default dtype
//   kFloat64    double    8      floating   torch.float64 (torch.double)
//
// Kernels are written once as templates and instantiated per dtype by dispatch_all_types(),
// our version of PyTorch's AT_DISPATCH_ALL_TYPES macro.
#pragma once

#include <cstdint>
#include <limits>
#include <ostream>
#include <string_view>
#include <type_traits>

#include "tinytorch/core/exception.h"

namespace tinytorch {

// NOTE: the enumerators are ordered by promotion rank: promote_types(a, b) picks the larger one.
enum class ScalarType : int8_t { Bool = 0, Int64 = 1, Float32 = 2, Float64 = 3 };

inline constexpr ScalarType kBool = ScalarType::Bool;
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
  return t == kInt64 || (include_bool && t == kBool);
}

// "float32", "float64", "int64", "bool" — the names used in every error message.
std::string_view to_string(ScalarType t);
// The inverse of to_string ("float32" → kFloat32); throws ValueError for an unknown name.
ScalarType scalar_type_from_string(std::string_view name);
std::ostream& operator<<(std::ostream& os, ScalarType t);

// The smallest dtype that can hold values of both: bool < int64 < float32 < float64.
constexpr ScalarType promote_types(ScalarType a, ScalarType b) {
  return static_cast<int8_t>(a) >= static_cast<int8_t>(b) ? a : b;
}

// ── C++ type ↔ ScalarType ──────────────────────────────────────────────────────────────────
template <typename T>
struct CppTypeToScalarType;
template <>
struct CppTypeToScalarType<bool> : std::integral_constant<ScalarType, kBool> {};
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
  }
  throw TypeError(detail::str(op, ": unknown dtype ", static_cast<int>(t)));
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

  // The value as a T. A floating value that does not fit an integer T (NaN, ±inf, out of range)
  // throws, as in PyTorch ("value cannot be converted to type int64_t without overflow"): a plain
  // static_cast would be undefined behaviour.
  template <typename T>
  T to() const {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      if (tag_ == kFloat64) {
        constexpr auto lo = static_cast<double>(std::numeric_limits<T>::min());
        // max + 1 (2^63 for int64), exact in double unlike max itself.
        constexpr double hi = static_cast<double>(std::numeric_limits<T>::max() / 2 + 1) * 2.0;
        TT_CHECK_VALUE(d_ >= lo && d_ < hi, "value ", d_,
                       " cannot be converted to an integer type without overflow");
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
