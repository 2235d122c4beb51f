// The SIMD micro-kernel of the fast GEMM, written once for any vector width.
//
// Private to src/kernels, and included only by the translation units that are compiled for one
// instruction set each (gemm_avx2.cpp, gemm_avx512.cpp; see gemm_kernels.h). Each supplies a
// vector type V, a struct of static functions over its intrinsics:
//
//   using Vec = ...;               __m256 / __m512 (or the double versions)
//   kLanes                         values per Vec: 8 / 16 floats, 4 / 8 doubles
//   zero(), set1(x), broadcast(p)  all lanes 0, x, *p
//   load_b(p)                      one step of a B sliver: packed (64-byte aligned) or, for float
//                                  and double, read in place from B (any alignment)
//   load(p), store(p, v)
//   stream(p, v)                   a non-temporal store of a whole vector to p, aligned to it
//                                  (only the kernels that stream C call it)
//   mul(x, y), fmadd(x, y, acc)    x * y, x * y + acc (one rounding)
//   fma(x, y, acc)                 the same for one scalar
//
// and optionally kDepth, the k values one step of the kernel takes (1 when absent). The bfloat16
// kernel (gemm_avx512_bf16.cpp) takes 2: its broadcast(a) and load_b(b) return pairs of
// bfloat16 per 32-bit lane, and its fmadd on those is vdpbf16ps, which adds both products of a
// lane's pair to its float accumulator.
//
// NOTE: the kernel below is compiled once per instruction set, and each copy must stay inside the
// translation unit that compiled it, or the linker could hand AVX-512 code to a caller on a CPU
// without it. Two rules keep them apart: V is declared in an unnamed namespace in each .cpp, so
// every instantiation with it is local to that file; and this header calls no inline function of
// the standard library (whose one shared copy the linker would pick from any of the files).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "gemm_kernels.h"
#include "unroll.h"

namespace tinytorch::kernels::gemm {

// Register layout of the MR x NR tile, NR = 2 vectors (for AVX2 floats: MR = 6, NR = 16):
//
//                  b0 = b[p*ldb + 0 .. L)  b1 = b[p*ldb + L .. NR)     (L = V::kLanes)
//   a[p*MR + 0] -> acc[0][0]               acc[0][1]                   <- row 0 of the C tile
//   a[p*MR + 1] -> acc[1][0]               acc[1][1]
//      ...              ...                      ...
//   a[p*MR + MR-1] -> acc[MR-1][0]         acc[MR-1][1]                <- row MR - 1
//
// Step p: load b0, b1; for each row i broadcast a[p*MR + i] to all lanes of one register and do
// acc[i][0] += a_i * b0, acc[i][1] += a_i * b1: 2 * MR FMAs on 2 + MR loaded values. So the
// taller the tile, the fewer loads per FMA; its height is bounded by the register file:
//
//   AVX2     16 ymm:  MR = 6:  12 accumulators + 2 B + 1 broadcast = 15 registers
//   AVX-512  32 zmm:  MR = 12: 24 accumulators + 2 B + 1 broadcast = 27 registers
//
// 2 * MR independent accumulators also hide the FMA latency: a core with 2 FMA pipes and a latency
// of 4 cycles needs at least 8 FMAs in flight. The loops over i are unrolled completely, so that
// acc[][] is nothing but registers.
template <typename V>
constexpr int64_t depth_of() {
  if constexpr (requires { V::kDepth; }) {
    return V::kDepth;
  } else {
    return 1;
  }
}

//
// ROWS < MR computes only the first ROWS rows of the tile (the bottom edge of C; the sliver is
// still MR wide): each of them by the same chain of FMAs as in the full tile, so with the same
// bits, without the MR − ROWS rows of zero padding (see simd_edge_microkernel).
//
// kA: where the tile reads op(A)(i, p) (ARead, gemm_kernels.h): a packed sliver (a_step = MR), or
// op(A) itself, a_step its leading dimension. The same FMAs in the same order whichever it is:
// the same bits.
//
// kStream: C's rows streamed around the caches (gemm_kernels.h) where beta == 0 and every row of
// the tile starts on a vector boundary; stored as usual otherwise. The same values either way.
template <typename V, int64_t MR, int64_t NR, typename P, typename T, int64_t ROWS = MR,
          ARead kA = ARead::kPacked, bool kStream = false>
inline void simd_tile(int64_t kc, const P* a, int64_t a_step, const P* b, int64_t ldb, T alpha,
                      T beta, const T* bias, T* c, int64_t ldc) {
  static_assert(NR == 2 * V::kLanes, "the tile is two vectors wide");
  static_assert(ROWS >= 1 && ROWS <= MR, "a tile has 1 to MR rows");
  using Vec = typename V::Vec;
  constexpr int64_t D = depth_of<V>();  // k values per step (the packing pads kc to a multiple)
  static_assert(kA == ARead::kPacked || D == 1, "A in place is one k value per step");
  // How far a moves per step, and how far apart the rows' values of one step lie.
  const int64_t a_next = kA == ARead::kPacked ? MR * D : kA == ARead::kColumns ? a_step : 1;
  const int64_t a_row = kA == ARead::kRows ? a_step : D;

  const bool beta_is_zero = beta == T(0);
  // Streamed only where the tile's every vector is aligned: c and the row stride in bytes.
  const bool stream = kStream && beta_is_zero &&
                      ((reinterpret_cast<uintptr_t>(c) | static_cast<uintptr_t>(ldc) * sizeof(T)) %
                       sizeof(typename V::Vec)) == 0;
  // Start fetching the C tile now; it is only needed after the kc loop, by which time the
  // (likely) cache misses have been served in the background. (Not when it is streamed: its
  // lines are never read.)
  if (!stream) {
    TT_UNROLL(16)
    for (int64_t i = 0; i < ROWS; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
  }

  Vec acc[ROWS][2];
  TT_UNROLL(16)
  for (int64_t i = 0; i < ROWS; ++i) acc[i][0] = acc[i][1] = V::zero();

  // Unrolling the k loop 4 times trims the loop-counter overhead and gives the out-of-order core
  // longer straight runs of independent FMAs (measured: ~5% faster than no unrolling).
  TT_UNROLL(4)
  for (int64_t p = 0; p < kc; p += D, a += a_next, b += ldb) {
    const auto b0 = V::load_b(b);
    const auto b1 = V::load_b(b + V::kLanes * D);
    TT_UNROLL(16)
    for (int64_t i = 0; i < ROWS; ++i) {
      const auto a_i = V::broadcast(a + i * a_row);
      acc[i][0] = V::fmadd(a_i, b0, acc[i][0]);
      acc[i][1] = V::fmadd(a_i, b1, acc[i][1]);
    }
  }

  // c = alpha * acc + (beta * c + bias), row by row; with beta == 0, c is write-only (NaNs in it
  // vanish), and the bias row (when there is one) is what alpha * acc is added to: the same FMA,
  // and so the same bits, as when the bias had been copied into c and beta were 1.
  const Vec valpha = V::set1(alpha), vbeta = V::set1(beta);
  Vec bias_half[2] = {V::zero(), V::zero()};
  if (bias != nullptr) {
    bias_half[0] = V::load(bias);
    bias_half[1] = V::load(bias + V::kLanes);
  }
  if constexpr (kStream) {
    if (stream) {  // c = alpha * acc (+ bias), the values of the stores below
      TT_UNROLL(16)
      for (int64_t i = 0; i < ROWS; ++i) {
        TT_UNROLL(2)
        for (int64_t half = 0; half < 2; ++half) {
          V::stream(c + i * ldc + half * V::kLanes,
                    bias == nullptr ? V::mul(valpha, acc[i][half])
                                    : V::fmadd(valpha, acc[i][half], bias_half[half]));
        }
      }
      return;
    }
  }
  TT_UNROLL(16)
  for (int64_t i = 0; i < ROWS; ++i) {
    T* row = c + i * ldc;
    TT_UNROLL(2)
    for (int64_t half = 0; half < 2; ++half) {
      T* out = row + half * V::kLanes;
      if (bias == nullptr) {
        V::store(out, beta_is_zero ? V::mul(valpha, acc[i][half])
                                   : V::fmadd(valpha, acc[i][half], V::mul(vbeta, V::load(out))));
      } else {
        const Vec addend =
            beta_is_zero ? bias_half[half] : V::fmadd(vbeta, V::load(out), bias_half[half]);
        V::store(out, V::fmadd(valpha, acc[i][half], addend));
      }
    }
  }
}

// The MR x NR tile from a packed A sliver.
template <typename V, int64_t MR, int64_t NR, typename P, typename T, bool kStream = false>
inline void simd_microkernel(int64_t kc, const P* a, const P* b, int64_t ldb, T alpha, T beta,
                             const T* bias, T* c, int64_t ldc) {
  simd_tile<V, MR, NR, P, T, MR, ARead::kPacked, kStream>(kc, a, MR, b, ldb, alpha, beta, bias, c,
                                                          ldc);
}

// The first `rows` (1 ≤ rows ≤ ROWS) rows of a tile: simd_tile<…, rows>. The blocked GEMM's
// last row block of a C whose M is not a multiple of MR computed all MR rows, the padding
// included, into a buffer and merged the valid ones one by one: a [64, 256] = [64, 128]·[128, 256]
// product (MR = 12: 5 tiles and 4 rows down) took as long as a [72, 256] one.
template <typename V, int64_t MR, int64_t NR, typename P, typename T, int64_t ROWS = MR - 1,
          ARead kA = ARead::kPacked>
inline void simd_edge_microkernel(int64_t rows, int64_t kc, const P* a, int64_t a_step, const P* b,
                                  int64_t ldb, T alpha, T beta, const T* bias, T* c, int64_t ldc) {
  if constexpr (ROWS >= 1) {
    if (rows == ROWS) {
      simd_tile<V, MR, NR, P, T, ROWS, kA>(kc, a, a_step, b, ldb, alpha, beta, bias, c, ldc);
    } else {
      simd_edge_microkernel<V, MR, NR, P, T, ROWS - 1, kA>(rows, kc, a, a_step, b, ldb, alpha, beta,
                                                           bias, c, ldc);
    }
  }
}

// 1 ≤ rows ≤ MR rows of a tile reading op(A) in place (kA: kColumns or kRows, lda apart): only
// those rows are read, so a tile at the end of A reads nothing past it.
template <typename V, int64_t MR, int64_t NR, ARead kA, typename T>
inline void simd_a_in_place_microkernel(int64_t rows, int64_t kc, const T* a, int64_t lda,
                                        const T* b, int64_t ldb, T alpha, T beta, const T* bias,
                                        T* c, int64_t ldc) {
  simd_edge_microkernel<V, MR, NR, T, T, MR, kA>(rows, kc, a, lda, b, ldb, alpha, beta, bias, c,
                                                 ldc);
}

// One row of C without packing, for a GEMM with M = 1 (a Linear on one token: KV-cache decoding).
// acc[j] = Σ_{p < kc} a[p] · op(B)(p, j) for j < n, where op(B)(p, j) = b[p·rs + j·cs]. Each
// acc[j] is ONE chain of fused multiply-adds in p order, starting from 0 — exactly what
// simd_microkernel does for every element of its tile — so a row computed here has the same bits
// as the same row computed by the blocked GEMM (tokens decoded with the KV cache then match those
// decoded without it). Packing would copy all of B to use each element once; the blocked path
// would also compute MR − 1 rows of zero padding per tile.
//
//   cs == 1 (B stored K x N): lanes across j, acc[j .. j+4L) += a[p] · B[p, j .. j+4L);
//   else (B stored N x K, a Linear's weight): the chain for j runs along B's row j, so the lanes
//        cannot be j without a transpose; 8 scalar chains run side by side instead (two FMA pipes
//        x 4 cycles of latency = 8 in flight).
template <typename V, typename T>
inline void simd_gemv_row(int64_t kc, int64_t n, const T* a, const T* b, int64_t rs, int64_t cs,
                          T* acc) {
  using Vec = typename V::Vec;
  constexpr int64_t L = V::kLanes;
  int64_t j = 0;
  if (cs == 1) {
    for (; j + 4 * L <= n; j += 4 * L) {
      Vec s0 = V::zero(), s1 = V::zero(), s2 = V::zero(), s3 = V::zero();
      for (int64_t p = 0; p < kc; ++p) {
        const Vec ap = V::broadcast(a + p);
        const T* row = b + p * rs + j;
        s0 = V::fmadd(ap, V::load(row), s0);
        s1 = V::fmadd(ap, V::load(row + L), s1);
        s2 = V::fmadd(ap, V::load(row + 2 * L), s2);
        s3 = V::fmadd(ap, V::load(row + 3 * L), s3);
      }
      V::store(acc + j, s0);
      V::store(acc + j + L, s1);
      V::store(acc + j + 2 * L, s2);
      V::store(acc + j + 3 * L, s3);
    }
    for (; j + L <= n; j += L) {
      Vec s = V::zero();
      for (int64_t p = 0; p < kc; ++p)
        s = V::fmadd(V::broadcast(a + p), V::load(b + p * rs + j), s);
      V::store(acc + j, s);
    }
  } else {
    constexpr int64_t kChains = 8;
    for (; j + kChains <= n; j += kChains) {
      T s[kChains] = {};
      const T* col = b + j * cs;
      for (int64_t p = 0; p < kc; ++p) {
        const T ap = a[p];
        TT_UNROLL(8)
        for (int64_t u = 0; u < kChains; ++u) s[u] = V::fma(ap, col[u * cs + p * rs], s[u]);
      }
      TT_UNROLL(8)
      for (int64_t u = 0; u < kChains; ++u) acc[j + u] = s[u];
    }
  }
  for (; j < n; ++j) {  // the last columns: one chain each
    T s = T(0);
    for (int64_t p = 0; p < kc; ++p) s = V::fma(a[p], b[p * rs + j * cs], s);
    acc[j] = s;
  }
}

}  // namespace tinytorch::kernels::gemm
