// Private helpers shared by the ops that end in a GEMM (matmul, linear): how an operand can be
// handed to the fast GEMM without copying, and which fast GEMM (if any) is registered.
#pragma once

#include <algorithm>
#include <type_traits>

#include "tinytorch/core/tensor.h"
#include "tinytorch/kernels/registry.h"

namespace tinytorch::detail {

// How a fast GEMM can read a 2-d operand in place: row-major (trans = false) when its rows are
// contiguous, column-major (trans = true: it is the transpose of a row-major matrix) when its
// columns are — a transposed view costs nothing. Any other layout needs a contiguous copy first.
struct GemmOperand {
  Tensor t;  // the operand, or its contiguous copy
  bool trans;
  int64_t ld;  // the leading dimension: elements between consecutive stored rows
};
inline GemmOperand gemm_operand(const Tensor& m) {
  const int64_t rows = m.size(0), cols = m.size(1);
  if ((cols <= 1 || m.stride(1) == 1) && (rows <= 1 || m.stride(0) >= cols)) {
    return {m, false, rows <= 1 ? std::max<int64_t>(cols, 1) : m.stride(0)};
  }
  if ((rows <= 1 || m.stride(0) == 1) && (cols <= 1 || m.stride(1) >= rows)) {
    return {m, true, cols <= 1 ? std::max<int64_t>(rows, 1) : m.stride(1)};
  }
  return {m.contiguous(), false, std::max<int64_t>(cols, 1)};
}

// The fast GEMM registered for T (module 18), or null: then the reference kernel runs.
template <typename T>
kernels::GemmFn<T> fast_gemm() {
  if constexpr (std::is_same_v<T, float>) {
    return kernels::fast_kernels().sgemm;
  } else if constexpr (std::is_same_v<T, double>) {
    return kernels::fast_kernels().dgemm;
  } else {
    return nullptr;
  }
}

}  // namespace tinytorch::detail
