// tinytorch/core/scalar_type.h — element types (dtypes), Scalar, type promotion and dispatch.
//
// A tensor's bytes mean nothing without a dtype. TinyTorch has the ten dtypes a course needs:
//
//   ScalarType  C++ type  bytes  category   PyTorch name
//   ──────────  ────────  ─────  ────────   ────────────
//   kBool       bool      1      boolean    torch.bool
//   kUInt8      uint8_t   1      integral   torch.uint8 (torch.byte)   storage only (module 15)
//   kInt8       int8_t    1      integral   torch.int8 (torch.char)    storage only (module 15)
//   kInt16      int16_t   2      integral   torch.int16 (torch.short)  computes in int64
//   kInt32      int32_t   4      integral   torch.int32 (torch.int)    computes in int64
//   kInt64      int64_t   8      integral   torch.int64 (torch.long)
//   kHalf       Half      2      floating   torch.float16 (torch.half) computes in float32
//   kBFloat16   BFloat16  2      floating   torch.bfloat16             computes in float32
//   kFloat32    float     4      floating   torch.float32 (torch.float) ← the default dtype
//   kFloat64    double    8      floating   torch.float64 (torch.double)
//
// Kernels are written once as templates and instantiated per dtype by dispatch_all_types(),
// our version of PyTorch's AT_DISPATCH_ALL_TYPES macro.
//
// NOTE: kernels are instantiated only for the four COMPUTE dtypes (bool, int64, float32, float64:
// dispatch_all_types). The byte-moving ops (copy_, to, fill_, item, factories, indexing,
// printing, save/load) handle every dtype (dispatch_storage_types). Beyond that:
//   * int8 and uint8 are storage dtypes: compared, but arithmetic refuses them with a TypeError
//     that says to convert first — everything quantization (module 15) needs;
//   * int16/int32 and float16/bfloat16 take part in element-wise arithmetic, comparisons, where,
//     sum and mean by computing in a wider type and rounding the result back: float16/bfloat16
//     in float32 (PyTorch's at::opmath_type), int16/int32 in int64 (PyTorch computes integers in
//     their own width; for +, - and * the wrapped result has the same bits). Every other op
//     refuses them, naming the op and the dtype (dispatch_all_types' TypeError).
#pragma once

#include <cstdint>
#include <limits>
#include <ostream>
#include <string_view>
#include <type_traits>
#include <utility>

#include "tinytorch/core/exception.h"
#include "tinytorch/kernels/half.h"

namespace tinytorch {

// NOTE: files name dtypes ("bfloat16": serialize/archive.cpp, deploy/model_file.cpp), but the
// codes stay stable all the same — a new dtype gets the next free code, never a reused one — so
// that a code means one dtype in any build. Promotion follows promotion_rank, not the codes.
enum class ScalarType : int8_t {
  Bool = 0,
  UInt8 = 1,
  Int8 = 2,
  Int64 = 3,
  Float32 = 4,
  Float64 = 5,
  Int32 = 6,
  Int16 = 7,
  BFloat16 = 8,
  Half = 9
};

// The element types of kBFloat16 and kHalf (c10::BFloat16, c10::Half; at::BFloat16 through
// <torch/torch.h>): 16-bit patterns that widen to float and round from it (kernels/half.h).
using kernels::BFloat16;
using kernels::Half;

inline constexpr ScalarType kBool = ScalarType::Bool;
inline constexpr ScalarType kUInt8 = ScalarType::UInt8;
inline constexpr ScalarType kByte = ScalarType::UInt8;
inline constexpr ScalarType kInt8 = ScalarType::Int8;
inline constexpr ScalarType kChar = ScalarType::Int8;
inline constexpr ScalarType kInt16 = ScalarType::Int16;
inline constexpr ScalarType kShort = ScalarType::Int16;
inline constexpr ScalarType kInt32 = ScalarType::Int32;
inline constexpr ScalarType kInt = ScalarType::Int32;
inline constexpr ScalarType kInt64 = ScalarType::Int64;
inline constexpr ScalarType kLong = ScalarType::Int64;
inline constexpr ScalarType kHalf = ScalarType::Half;
inline constexpr ScalarType kFloat16 = ScalarType::Half;
inline constexpr ScalarType kBFloat16 = ScalarType::BFloat16;
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
    case kInt16:
    case kHalf:
    case kBFloat16:
      return 2;
    case kInt32:
    case kFloat32:
      return 4;
    case kInt64:
    case kFloat64:
      return 8;
  }
  return 0;
}

constexpr bool is_floating_point(ScalarType t) {
  return t == kFloat32 || t == kFloat64 || t == kHalf || t == kBFloat16;
}
constexpr bool is_integral(ScalarType t, bool include_bool) {
  return t == kInt64 || t == kInt32 || t == kInt16 || t == kInt8 || t == kUInt8 ||
         (include_bool && t == kBool);
}
// The dtypes arithmetic kernels exist for (see the NOTE above): bool, int64, float32, float64.
constexpr bool is_compute_type(ScalarType t) {
  return t == kBool || t == kInt64 || t == kFloat32 || t == kFloat64;
}
// The dtype element-wise ops compute a dtype in: float16 and bfloat16 in float32 (PyTorch's
// at::opmath_type), int16 and int32 in int64 (PyTorch keeps their own width); the result is
// converted back. Others compute in their own.
constexpr ScalarType opmath_type(ScalarType t) {
  if (t == kInt16 || t == kInt32) return kInt64;
  if (t == kHalf || t == kBFloat16) return kFloat32;
  return t;
}

// "float32", "bfloat16", "int32", "bool", ... — PyTorch's names (torch.int32), used in every
// error message and in printed tensors.
std::string_view to_string(ScalarType t);
// The inverse of to_string ("float32" → kFloat32); throws ValueError for an unknown name.
ScalarType scalar_type_from_string(std::string_view name);
std::ostream& operator<<(std::ostream& os, ScalarType t);

// The rank promote_types compares: bool < uint8, int8 < int16 < int32 < int64 < float16, bfloat16
// < float32 < float64.
constexpr int promotion_rank(ScalarType t) {
  switch (t) {
    case kBool:
      return 0;
    case kUInt8:
    case kInt8:
      return 1;
    case kInt16:
      return 2;
    case kInt32:
      return 3;
    case kInt64:
      return 4;
    case kHalf:
    case kBFloat16:
      return 5;
    case kFloat32:
      return 6;
    case kFloat64:
      return 7;
  }
  return -1;
}

// The smallest dtype that can hold values of both (torch.promote_types): the one of higher rank.
// Two dtypes of one rank where neither holds the other get the next one up that holds both, as
// in PyTorch: uint8 with int8 → int16, float16 with bfloat16 → float32 (bfloat16 has the range,
// float16 the precision).
constexpr ScalarType promote_types(ScalarType a, ScalarType b) {
  if (a == b) return a;
  if (promotion_rank(a) == promotion_rank(b)) return is_floating_point(a) ? kFloat32 : kInt16;
  return promotion_rank(a) > promotion_rank(b) ? a : b;
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
struct CppTypeToScalarType<int16_t> : std::integral_constant<ScalarType, kInt16> {};
template <>
struct CppTypeToScalarType<int32_t> : std::integral_constant<ScalarType, kInt32> {};
template <>
struct CppTypeToScalarType<int64_t> : std::integral_constant<ScalarType, kInt64> {};
template <>
struct CppTypeToScalarType<Half> : std::integral_constant<ScalarType, kHalf> {};
template <>
struct CppTypeToScalarType<BFloat16> : std::integral_constant<ScalarType, kBFloat16> {};
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
      TT_CHECK_TYPE(
          false, op, ": not supported for dtype ", to_string(t), " (", to_string(t),
          " is a storage dtype in TinyTorch; hint: convert first with x.to(tinytorch::kFloat32)"
          " or x.to(tinytorch::kInt64), or call x.dequantize() on a quantized tensor)");
      break;
    case kInt16:
    case kInt32:
    case kHalf:
    case kBFloat16:
      TT_CHECK_TYPE(false, op, ": not supported for dtype ", to_string(t),
                    " (TinyTorch computes element-wise ops, sum and mean of ", to_string(t), " in ",
                    to_string(opmath_type(t)), "; hint: convert first with x.to(tinytorch::k",
                    is_floating_point(t) ? "Float32" : "Int64", "))");
      break;
  }
  throw TypeError(detail::str(op, ": unknown dtype ", static_cast<int>(t)));
}

// Every dtype: for ops that only move or convert elements.
template <typename F>
decltype(auto) dispatch_storage_types(ScalarType t, std::string_view op, F&& f) {
  switch (t) {
    case kUInt8:
      return f.template operator()<uint8_t>();
    case kInt8:
      return f.template operator()<int8_t>();
    case kInt16:
      return f.template operator()<int16_t>();
    case kInt32:
      return f.template operator()<int32_t>();
    case kHalf:
      return f.template operator()<Half>();
    case kBFloat16:
      return f.template operator()<BFloat16>();
    default:
      return dispatch_all_types(t, op, std::forward<F>(f));
  }
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
  TT_CHECK_TYPE(
      t == kFloat32 || t == kFloat64, op,
      ": expected a floating-point dtype (float32 or float64) but got ", to_string(t),
      is_floating_point(t) ? " (hint: convert first with x.to(tinytorch::kFloat32))" : "");
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
  // The 16-bit floats widen exactly (without these, a BFloat16 would find Scalar(bool) through
  // its conversion to float).
  Scalar(BFloat16 v) : Scalar(static_cast<float>(v)) {}  // NOLINT(google-explicit-constructor)
  Scalar(Half v) : Scalar(static_cast<float>(v)) {}      // NOLINT(google-explicit-constructor)

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
