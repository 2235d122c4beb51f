// The fast GEMM tier: C = alpha * op(A) * op(B) + beta * C.
//
// This is the kernel every matmul, linear layer and convolution (via im2col) ends up in, so it is
// where most of a training step's time goes. The implementation (src/kernels/gemm_fast.cpp) is a
// cache-blocked GEMM in the BLIS/GotoBLAS style: operands are copied ("packed") into small
// contiguous panels sized for the L1/L2/L3 caches, and a register-tiled AVX2/FMA micro-kernel
// does the arithmetic. No BLAS library is used.
//
// Conventions (the same as cblas with CblasRowMajor):
//   * All matrices are row-major. Element (i, j) of a stored matrix X is X[i * ldx + j], where the
//     leading dimension ldx is at least the stored row length (ldx > row length lets you pass a
//     sub-matrix of a bigger one).
//   * op(X) = X, or X^T when the matching trans flag is set. The transpose is never materialised:
//     the packing routines read either layout directly.
//       trans_a == false: A is stored M x K (lda >= K), op(A)(i, k) = A[i * lda + k]
//       trans_a == true:  A is stored K x M (lda >= M), op(A)(i, k) = A[k * lda + i]
//       trans_b == false: B is stored K x N (ldb >= N), op(B)(k, j) = B[k * ldb + j]
//       trans_b == true:  B is stored N x K (ldb >= K), op(B)(k, j) = B[j * ldb + k]
//     C is always stored M x N (ldc >= N).
//   * beta == 0 means C is write-only: its old contents are never read, so NaN/Inf garbage in C
//     does not propagate (as in reference BLAS). alpha == 0 or K == 0 gives C = beta * C without
//     touching A or B.
//   * M, N or K may be 0; any sizes are allowed (no multiple-of-tile requirement).
//   * C must not overlap A or B. gemm_fast may be called from several threads at once (its
//     packing buffers are per thread).
//   * Threads: gemm_fast splits C over up to tinytorch::get_num_threads() threads (set with
//     tinytorch::set_num_threads or TINYTORCH_NUM_THREADS; core/parallel.h). Problems of about
//     64^3 multiply-adds or fewer, and calls from inside a parallel region, run on the calling
//     thread.
#pragma once

#include <cstdint>

namespace tinytorch::kernels {

// Single precision (SGEMM). Uses the AVX2/FMA micro-kernel when the CPU supports it.
void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc);

// Double precision (DGEMM). Same algorithm and interface, with a double-precision micro-kernel.
void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
               const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
               int64_t ldc);

// True when gemm_fast will use the AVX2/FMA micro-kernels: the CPU supports both instruction sets
// (checked at run time, the library itself is not compiled with -mavx2) and the environment
// variable TINYTORCH_DISABLE_AVX2 is not set to a value other than "0". Setting that variable
// forces the portable C++ micro-kernel, e.g. to test it on an AVX2 machine. It is read on every
// call, so a test may change it between calls.
bool gemm_fast_uses_avx2();

}  // namespace tinytorch::kernels
