// The inner kernels of the fast GEMM (gemm_fast.cpp), one set per CPU capability.
//
// Private to src/kernels. gemm_fast.cpp is compiled for plain x86-64 like the rest of the library;
// the SIMD kernels live in translation units of their own, each compiled with the flags of one
// instruction set (the PyTorch way: ATen compiles its cpu/ kernels once per CPU_CAPABILITY):
//
//   gemm_avx2.cpp          -mavx2 -mfma      micro-kernels of 6 x (2 ymm), the transposing and
//                                            bfloat16-widening packs
//   gemm_avx512.cpp        -mavx512f -mfma   micro-kernels of 12 x (2 zmm)
//   gemm_avx512_bf16.cpp   -mavx512bf16 …    the bfloat16 micro-kernel of 12 x (2 zmm), vdpbf16ps
//
// All instantiate one template, simd_microkernel (gemm_simd.h), with their own vector type.
// gemm_fast.cpp calls these functions only through pointers it takes after checking the CPU
// (get_cpu_capability), so no AVX instruction ever runs on a CPU without it.
#pragma once

#include <cstdint>

#include "tinytorch/kernels/half.h"

namespace tinytorch::kernels::gemm {

// c = alpha * (a * b) + beta * c (+ bias) for one MR x NR tile, c not read when beta == 0:
//   a: MR x kc packed sliver (a[p * MR + i] = op(A)(i, p))
//   b: kc x NR sliver, b[p * ldb + j] = op(B)(p, j): packed (ldb = NR, 64-byte aligned) or, for
//      float and double, B itself read in place (ldb its row stride, any alignment)
//   c: MR x NR tile of C, row stride ldc, any alignment
//   bias: null, or NR values added to every row of the tile (a Linear's bias, as the tile is
//      stored): c = alpha * (a * b) + (beta * c + bias), one rounding of the sum where beta == 0
// P is the packed type, T that of C and the sums: float or double for both, or bfloat16 slivers
// summed into float, packed two k values deep (the bfloat16 layout, see gemm_avx512_bf16.cpp):
//   a[(p / 2) * 2 * MR + 2 * i + p % 2] = op(A)(i, p),  b[(p / 2) * 2 * NR + 2 * j + p % 2] = ...
// with kc rounded up to even by a zero step (ldb = 2 * NR: bfloat16 B is always packed).
template <typename P, typename T = P>
using MicroKernel = void (*)(int64_t kc, const P* a, const P* b, int64_t ldb, T alpha, T beta,
                             const T* bias, T* c, int64_t ldc);

// The first `rows` (1 ≤ rows < MR) rows of that tile, each with the bits the full tile gives it,
// the padding rows of the sliver not computed: for the last row block of a C whose M is not a
// multiple of MR.
template <typename P, typename T = P>
using EdgeKernel = void (*)(int64_t rows, int64_t kc, const P* a, const P* b, int64_t ldb, T alpha,
                            T beta, const T* bias, T* c, int64_t ldc);

// Where a micro-kernel reads op(A)(i, p) from:
//   kPacked   a packed sliver, a[p * MR + i] (above)
//   kColumns  op(A) = Aᵀ in place, a[p * lda + i]: step p's values side by side in a row of A (a
//             Linear's output gradient in its weight gradient dyᵀ · x)
//   kRows     op(A) = A in place, a[i * lda + p]: each row contiguous along k (an input gradient
//             dy · W whose W is narrow, so that a packed sliver would be read only a few times)
enum class ARead { kPacked, kColumns, kRows };

// 1 ≤ rows ≤ MR rows of that tile with op(A) read in place rather than packed (kColumns or kRows,
// lda apart), each row with the bits the packed kernel gives it; rows past `rows` are not read.
template <typename P, typename T = P>
using AInPlaceKernel = void (*)(int64_t rows, int64_t kc, const P* a, int64_t lda, const P* b,
                                int64_t ldb, T alpha, T beta, const T* bias, T* c, int64_t ldc);

// dst[p * W + w] = src[w * w_stride + p] for w < W, p < kc: packs a full-width sliver whose W lines
// are contiguous along k.
// acc[j] = Σ_{p < kc} a[p] · op(B)(p, j) for j < n, op(B)(p, j) = b[p * rs + j * cs]: one row of
// C for M = 1, unpacked, in the micro-kernel's order (simd_gemv_row in gemm_simd.h).
template <typename T>
using RowKernel = void (*)(int64_t kc, int64_t n, const T* a, const T* b, int64_t rs, int64_t cs,
                           T* acc);

template <typename T>
using TransposePack = void (*)(int64_t kc, const T* src, int64_t w_stride, T* dst);

// The micro-kernels below come in two stores: kStream = false stores the finished tile through the
// caches; kStream = true streams it around them (non-temporal stores: no read of C's lines first,
// no eviction of the caches' other lines), for a C written once and too large to stay cached (see
// gemm_blocked's "Streaming C"). It falls back to the plain stores where beta != 0 or the rows are
// not aligned to the vector. After streamed stores, the caller fences (sfence) before whatever the
// thread stores next (its "done" to the team).

// gemm_avx2.cpp. Instantiated for (float, 6, 16) and (double, 6, 8).
template <typename T, int64_t MR, int64_t NR, bool kStream = false>
void microkernel_avx2(int64_t kc, const T* a, const T* b, int64_t ldb, T alpha, T beta,
                      const T* bias, T* c, int64_t ldc);
template <typename T, int64_t MR, int64_t NR>
void edge_microkernel_avx2(int64_t rows, int64_t kc, const T* a, const T* b, int64_t ldb, T alpha,
                           T beta, const T* bias, T* c, int64_t ldc);
template <typename T, int64_t MR, int64_t NR, ARead kA>
void a_in_place_microkernel_avx2(int64_t rows, int64_t kc, const T* a, int64_t lda, const T* b,
                                 int64_t ldb, T alpha, T beta, const T* bias, T* c, int64_t ldc);

// gemm_avx2.cpp, float slivers only. Instantiated for the sliver widths W = 6, 12, 16 and 32 (the
// MR and NR of both float tiles): AVX-512 CPUs have AVX2 too, and use these packs.
template <int64_t W>
void pack_transposed_avx2(int64_t kc, const float* src, int64_t w_stride, float* dst);
// The same transpose of 32-bit words, for the bfloat16 pairs of the vdpbf16ps slivers (below):
// dst[(q * W + w) * 2 + t] = src[w * w_stride + 2 * q + t] for q < steps, t < 2, w < W, i.e. whole
// steps of a sliver whose lines are contiguous along k (op(A) = A, op(B) = Bᵀ). Instantiated for
// W = 12 and 32; AVX512_BF16 CPUs have AVX2.
template <int64_t W>
void pack_pairs_transposed_avx2(int64_t steps, const BFloat16* src, int64_t w_stride,
                                BFloat16* dst);
// bfloat16 slivers widened to float while packed, for the levels without AVX-512 BF16 (which run
// the float micro-kernels): pack_transposed_avx2's sliver, dst[p * W + w] = float(src[w * w_stride
// + p]), and `slivers` whole W-wide slivers of lines side by side, dst[(s * kc + p) * W + w] =
// float(src[s * W + w + p * p_stride]) (op(B) = B, op(A) = Aᵀ). Both read each bfloat16 once and
// widen it in a register (exact). Instantiated for W = 6, 12, 16 and 32: AVX-512 CPUs use them too.
template <int64_t W>
void pack_widened_transposed_avx2(int64_t kc, const BFloat16* src, int64_t w_stride, float* dst);
template <int64_t W>
void pack_widened_rows_avx2(int64_t kc, int64_t slivers, const BFloat16* src, int64_t p_stride,
                            float* dst);

// gemm_avx512.cpp. Instantiated for (float, 12, 32) and (double, 12, 16).
template <typename T, int64_t MR, int64_t NR, bool kStream = false>
void microkernel_avx512(int64_t kc, const T* a, const T* b, int64_t ldb, T alpha, T beta,
                        const T* bias, T* c, int64_t ldc);
template <typename T, int64_t MR, int64_t NR>
void edge_microkernel_avx512(int64_t rows, int64_t kc, const T* a, const T* b, int64_t ldb, T alpha,
                             T beta, const T* bias, T* c, int64_t ldc);
template <typename T, int64_t MR, int64_t NR, ARead kA>
void a_in_place_microkernel_avx512(int64_t rows, int64_t kc, const T* a, int64_t lda, const T* b,
                                   int64_t ldb, T alpha, T beta, const T* bias, T* c, int64_t ldc);

// gemm_avx2.cpp, float: acc[j] = Σ_{p < kc} a[p] · b[j * ld + p] (B stored N x K, a Linear's
// weight), each a chain of FMAs in p order; AVX-512 CPUs use it too.
void gemv_lines_avx2(int64_t kc, int64_t n, const float* a, const float* b, int64_t ld, float* acc);
// gemm_avx512_bf16.cpp. Instantiated for (12, 32): bfloat16 slivers two k values deep, float C.
template <int64_t MR, int64_t NR>
void microkernel_avx512_bf16(int64_t kc, const BFloat16* a, const BFloat16* b, int64_t ldb,
                             float alpha, float beta, const float* bias, float* c, int64_t ldc);
// gemm_avx512_bf16.cpp, W = 12 and 32 (MR and NR): `slivers` whole W-wide slivers of pairs (the
// layout above, depth = kc rounded up to even, sliver s at dst + s * W * depth) of lines side by
// side, x(w, p) = src[w + p * p_stride]: op(B) = B, op(A) = Aᵀ.
template <int64_t W>
void pack_pair_rows_avx512_bf16(int64_t kc, int64_t slivers, const BFloat16* src, int64_t p_stride,
                                BFloat16* dst);

// gemm_avx2.cpp and gemm_avx512.cpp, for float and double.
template <typename T>
void gemv_row_avx2(int64_t kc, int64_t n, const T* a, const T* b, int64_t rs, int64_t cs, T* acc);
template <typename T>
void gemv_row_avx512(int64_t kc, int64_t n, const T* a, const T* b, int64_t rs, int64_t cs, T* acc);

}  // namespace tinytorch::kernels::gemm
