// tinytorch/core/safe_numerics.h — size arithmetic that cannot silently wrap around.
//
// Sizes, strides and byte counts are int64_t. Multiplying two of them can exceed 2^63 − 1, and
// signed overflow is undefined behaviour: in practice the product wraps to a small or negative
// number, passes every later check, and the program writes far outside its buffer. The rule:
//
//   every size that comes from a caller or from a file is multiplied (or added) through these
//   functions BEFORE it is used, and a size read from a file is compared with the file's length
//   BEFORE anything is allocated.
//
//   int64_t nbytes;
//   if (mul_overflows(numel, element_size, &nbytes)) → error: the byte count does not fit
//
// PyTorch's equivalents are c10::mul_overflows / c10::add_overflows (c10/util/safe_numerics.h);
// like them, these use the compilers' overflow builtins, which compile to one multiply and a
// test of the CPU's overflow flag.
#pragma once

#include <cstdint>

namespace tinytorch {

// True when a * b does not fit in T; *out receives the product (wrapped when it overflows).
template <typename T>
[[nodiscard]] inline bool mul_overflows(T a, T b, T* out) {
  return __builtin_mul_overflow(a, b, out);
}

// True when a + b does not fit in T; *out receives the sum (wrapped when it overflows).
template <typename T>
[[nodiscard]] inline bool add_overflows(T a, T b, T* out) {
  return __builtin_add_overflow(a, b, out);
}

}  // namespace tinytorch
