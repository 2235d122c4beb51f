// Private helpers shared by the ops that end in a GEMM (matmul, linear, conv2d): how an operand
// can be handed to the fast GEMM without copying, which fast GEMM (if any) is registered, and the
// 16-bit route (bfloat16, float16: float32 sums, rounded once).
#pragma once

#include <algorithm>
#include <string_view>
#include <type_traits>
#include <utility>

#include "tinytorch/core/parallel.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/half.h"
#include "tinytorch/kernels/loops.h"
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

// ── bfloat16 and float16 ──────────────────────────────────────────────────────────────────────
// An op on 16-bit operands computes in float32 and rounds its result once (the library's rule,
// PyTorch's CPU kernels): the GEMM reads the 16-bit A and B directly (its packs widen them, or
// vdpbf16ps multiplies bfloat16 pairs) and writes float32 C; the op then rounds C once with the
// array converters of kernels/half.h. No full float32 copy of an operand is ever made. Both run
// in every tier: the learner's reference GEMM has no 16-bit version.
template <typename T>
inline constexpr bool is_16bit_float = std::is_same_v<T, BFloat16> || std::is_same_v<T, Half>;

// C [M×N] (float32, row stride ldc) = op(A) · op(B) + beta · C (+ bias, a float32 row of N added
// to every row as the tiles are stored; null: none), A and B 16-bit (kernels/gemm.h conventions;
// beta = 0 never reads C).
template <typename T>
void gemm_16bit(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const T* A,
                int64_t lda, const T* B, int64_t ldb, float beta, float* C, int64_t ldc,
                const float* bias = nullptr) {
  if constexpr (std::is_same_v<T, BFloat16>) {
    kernels::gemm_bf16(trans_a, trans_b, M, N, K, 1.0f, A, lda, B, ldb, beta, bias, C, ldc);
  } else {
    kernels::gemm_half(trans_a, trans_b, M, N, K, 1.0f, A, lda, B, ldb, beta, bias, C, ldc);
  }
}

// dst[i] = src[i] rounded to T (nearest even), i < n: the op's one rounding, split over the
// threads as an element-wise op is (a Linear's [B·T, 4d] output would otherwise round on one
// thread while the other waits).
template <typename T>
void round_from_float(int64_t n, const float* src, T* dst) {
  parallel_for(0, n, kernels::detail::kElementwiseGrainSize, [&](int64_t b, int64_t e) {
    if constexpr (std::is_same_v<T, BFloat16>) {
      kernels::float_to_bf16(e - b, src + b, dst + b);
    } else {
      kernels::float_to_half(e - b, src + b, dst + b);
    }
  });
}

// dst[i] = src[i] widened to float32 (exact), i < n.
template <typename T>
void widen_to_float(int64_t n, const T* src, float* dst) {
  if constexpr (std::is_same_v<T, BFloat16>) {
    kernels::bf16_to_float(n, src, dst);
  } else {
    kernels::half_to_float(n, src, dst);
  }
}

// dispatch_numeric_types for the GEMM ops, with bfloat16 and float16 added (the element-wise
// dispatch refuses them: their kernels compute in float32 through opmath instead).
template <typename F>
decltype(auto) dispatch_gemm_types(ScalarType t, std::string_view op, F&& f) {
  if (t == kBFloat16) return f.template operator()<BFloat16>();
  if (t == kHalf) return f.template operator()<Half>();
  return dispatch_numeric_types(t, op, std::forward<F>(f));
}

}  // namespace tinytorch::detail
