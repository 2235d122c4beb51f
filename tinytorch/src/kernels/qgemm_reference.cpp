// Module 15 — Quantization: the int8 GEMM's reference loop (kernels/qgemm.h,
// modules/15_quantization/README.md, Part 6). Integers in, integers out: uint8 activations times
// int8 weights, summed in int32. Nothing here rounds, so the result is exact and every faster
// kernel (module 18's packed AVX2 / AVX-512 VNNI micro-kernels) is tested for EQUALITY against it.
#include "tinytorch/kernels/qgemm.h"

namespace tinytorch::kernels {

void qgemm_u8s8_reference(int64_t M, int64_t N, int64_t K, const uint8_t* A, int64_t lda,
                          const int8_t* B, int64_t ldb, int32_t* C, int64_t ldc) {
  // BEGIN SOLUTION
  // A: [M, K] row-major (row m at A + m·lda); B: [N, K], the Linear weight layout, so row n of B
  // is column n of Bᵀ and the inner loop walks both rows contiguously.
  for (int64_t m = 0; m < M; ++m) {
    const uint8_t* a = A + m * lda;
    for (int64_t n = 0; n < N; ++n) {
      const int8_t* b = B + n * ldb;
      int32_t acc = 0;  // |Σ| ≤ K·255·128 < 2³¹ for K ≤ kQGemmMaxK
      for (int64_t k = 0; k < K; ++k) {
        // Promote before multiplying: uint8·int8 in int32 is exact (|a·b| ≤ 255·128).
        acc += static_cast<int32_t>(a[k]) * static_cast<int32_t>(b[k]);
      }
      C[m * ldc + n] = acc;
    }
  }
  // END SOLUTION
}

}  // namespace tinytorch::kernels
