// The fast GEMM tier: C = alpha * op(A) * op(B) + beta * C.
//
// This is the kernel every matmul, linear layer and convolution (via im2col) ends up in, so it is
// where most of a training step's time goes. The implementation (src/kernels/gemm_fast.cpp) is a
// cache-blocked GEMM in the BLIS/GotoBLAS style: operands are copied ("packed") into small
// contiguous panels sized for the L1/L2/L3 caches, and a register-tiled SIMD micro-kernel (AVX-512
// or AVX2/FMA, whichever the CPU has, chosen at run time) does the arithmetic. No BLAS library is
// used.
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
//     tinytorch::set_num_threads or TINYTORCH_NUM_THREADS; core/parallel.h). Problems of 64^3
//     multiply-adds or fewer (120^3 with the AVX-512 kernel), and calls from inside a parallel
//     region, run on the calling thread.
#pragma once

#include <cstdint>

#include "tinytorch/kernels/half.h"

namespace tinytorch::kernels {

// Single precision (SGEMM). Uses the widest micro-kernel the CPU supports (get_cpu_capability).
void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc);

// Double precision (DGEMM). Same algorithm and interface, with a double-precision micro-kernel.
void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
               const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
               int64_t ldc);

// With a bias row: C = alpha * op(A) * op(B) + beta * C + bias, where bias holds N values (null:
// none) added to every row of C as each tile of C is stored — a Linear's y = x · Wᵀ + b in one
// pass over y, which is written and never read (beta = 0). cuBLASLt calls this a bias EPILOGUE.
// The result has the bits of copying the bias into every row of C and calling gemm_fast with
// beta = 1 (the product is added to the bias by the same one FMA or addition), without that copy
// and its second pass over C.
void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
               const float* bias, float* C, int64_t ldc);
void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
               const double* A, int64_t lda, const double* B, int64_t ldb, double beta,
               const double* bias, double* C, int64_t ldc);

// Mixed precision: C (float32) = alpha * op(A) * op(B) + beta * C with A and B in bfloat16
// (kernels/half.h), the products and sums in float32 (PyTorch's CPU bf16 matmul with float
// output). The same conventions, blocking and threads as gemm_fast; M = 1 takes the blocked path
// too. With half_isa()'s kernels — AVX512_BF16: vdpbf16ps on bfloat16 pairs; AVX512, AVX2,
// DEFAULT: A and B widened to float32 while they are packed, then gemm_fast's micro-kernel — or
// with a given level's (tests and benches; throws tinytorch::ValueError where the CPU lacks it).
// NOTE: vdpbf16ps reads bfloat16 subnormals as zero and flushes subnormal sums to zero; the other
// levels keep them.
void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const BFloat16* A, int64_t lda, const BFloat16* B, int64_t ldb, float beta, float* C,
               int64_t ldc);
void gemm_bf16(HalfIsa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
               float alpha, const BFloat16* A, int64_t lda, const BFloat16* B, int64_t ldb,
               float beta, float* C, int64_t ldc);
// With a bias row added as the tiles are stored, as gemm_fast's bias form (a 16-bit Linear's
// float32 sums, before the caller rounds them once).
void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const BFloat16* A, int64_t lda, const BFloat16* B, int64_t ldb, float beta,
               const float* bias, float* C, int64_t ldc);

// The same for float16 A and B (what PyTorch 2.x's CPU float16 matmul computes: float32 sums,
// the caller rounds). No float16 dot-product instruction is used: every level widens A and B to
// float32 while packing them (F16C's vcvtph2ps from AVX2 up, exact) and runs gemm_fast's
// micro-kernel, so the result is the float GEMM's on the widened operands, bit for bit — a
// product of two float16 values (11 + 11 significant bits) is exact in float32. AVX512_BF16
// runs the AVX512 level here.
void gemm_half(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const Half* A, int64_t lda, const Half* B, int64_t ldb, float beta, float* C,
               int64_t ldc);
void gemm_half(HalfIsa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
               float alpha, const Half* A, int64_t lda, const Half* B, int64_t ldb, float beta,
               float* C, int64_t ldc);
void gemm_half(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const Half* A, int64_t lda, const Half* B, int64_t ldb, float beta,
               const float* bias, float* C, int64_t ldc);

// The instruction sets a kernel may use, from the portable C++ one up. As in PyTorch, whose
// torch.backends.cpu.get_cpu_capability() answers "DEFAULT", "AVX2" or "AVX512": the library is
// compiled for plain x86-64, its SIMD kernels are compiled once per level, and each call picks
// the highest level that both the CPU (checked at run time) and the environment allow.
enum class CpuCapability {
  kDefault,  // portable C++ (whatever vectorisation the compiler finds for baseline x86-64)
  kAvx2,     // AVX2 + FMA: 256-bit vectors, 16 registers (Intel since 2013, AMD since 2017)
  kAvx512,   // AVX-512F: 512-bit vectors, 32 registers (Intel server/Xeon, AMD Zen 4 and later)
};

// "DEFAULT", "AVX2" or "AVX512".
const char* to_string(CpuCapability capability);

// The level gemm_fast uses now: the CPU's highest, capped by the environment variable
// TINYTORCH_CPU_CAPABILITY = default | avx2 | avx512 (PyTorch's ATEN_CPU_CAPABILITY), e.g. to run
// the AVX2 or the portable micro-kernel on an AVX-512 machine. It never raises the level above
// what the CPU has. It is read on every call, so a test may change it between calls.
// Throws std::invalid_argument, naming the variable and the accepted values, for any other value.
CpuCapability get_cpu_capability();

}  // namespace tinytorch::kernels
