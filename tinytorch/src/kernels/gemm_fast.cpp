// The fast GEMM tier: a cache-blocked, packed, register-tiled matrix multiply.
//
//   C[M x N] = alpha * op(A)[M x K] * op(B)[K x N] + beta * C        (row-major, see gemm.h)
//
// Why not three nested loops? A naive i-j-k loop does one multiply-add per two values it loads,
// and its walk down the columns of B misses the cache on almost every load: on the 2-core Zen 3
// course machine it manages about 1 GFLOP/s at N = 512, and less for larger N. The core can do
// far more: a Zen 3 core issues two 8-wide FMA instructions per cycle, i.e. 32 float flops/cycle,
// ~100 GFLOP/s at 3.1 GHz. To get there we must (1) reuse every loaded value many times from
// registers, and (2) make sure the values we do load come from the nearest cache. This file follows
// the GotoBLAS/BLIS recipe that every fast BLAS uses:
//
//   * A micro-kernel keeps an MR x NR tile of C in registers and updates it with a sequence of
//     rank-1 updates (outer products of an MR-column of A and an NR-row of B). Per step it loads
//     MR + NR values and does MR * NR FMAs: 6 + 16 loads for 96 FMAs in single precision.
//   * Around it, five loops cut the matrices into blocks sized for each cache level, and "pack"
//     (copy) each block into a contiguous buffer in exactly the order the micro-kernel reads it.
//     Packing costs O(M*K + K*N) copies but makes the O(M*N*K) inner work stream through memory
//     linearly, with few TLB misses, no cache-set conflicts and aligned vector loads. Packing is
//     also where the transposes are handled: the packing routines read op(X) through a
//     (row stride, column stride) pair, so X^T costs nothing extra and is never materialised.
//
// The loop nest (pointers annotated with the shape of what they point at):
//
//   for jc in [0, N) step NC:                      5th loop  - column panel of C and B
//     for pc in [0, K) step KC:                    4th loop  - rank-KC update
//       pack op(B)[pc:pc+KC, jc:jc+NC] -> b_packed (KC x NC, in KC x NR slivers)   L3-resident
//       for ic in [0, M) step MC:                  3rd loop
//         pack op(A)[ic:ic+MC, pc:pc+KC] -> a_packed (MC x KC, in MR x KC slivers) L2-resident
//         for jr in [0, NC) step NR:               2nd loop  - one B sliver (KC x NR) in L1
//           for ir in [0, MC) step MR:             1st loop  - one A sliver (MR x KC) from L2
//             micro-kernel: C[ic+ir : +MR, jc+jr : +NR] (MR x NR, registers)
//                              = alpha * A sliver * B sliver + beta' * C
//
//   (beta' is the caller's beta for the first rank-KC update, pc == 0, and 1 afterwards, since
//    later updates accumulate onto what the first one wrote.)
//
// Threads: the team shares each packed B panel and takes blocks of C on demand; see "Threads"
// above gemm_blocked. The thread count is the framework's one (set_num_threads,
// TINYTORCH_NUM_THREADS).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <thread>
#include <type_traits>

#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"

// The AVX2 micro-kernel exists only on x86; elsewhere the portable one is always used.
#if defined(__x86_64__) || defined(__i386__)
#define TINYTORCH_GEMM_X86 1
#include <immintrin.h>
#endif

namespace tinytorch::kernels {
namespace {

// ---------------------------------------------------------------------------------------------
// Block sizes.
//
// MR x NR is the register tile: AVX2 has 16 ymm registers. With NR = 2 vectors and MR = 6 rows,
// the C tile takes 12 registers, the B row 2 more, and one more holds the broadcast A value, so
// 15 of 16 are in use. 12 independent accumulators also hide the FMA latency: Zen 3 has 2 FMA
// pipes with 4-cycle latency, so at least 8 FMAs must be in flight.
//
// KC: the B sliver (KC x NR) that the macro-kernel reuses for a whole column of micro-tiles should
// stay in the 32 KiB L1d, next to the A sliver (MR x KC) being streamed in. KC = 256 gives
// 16 KiB + 6 KiB for float (16 + 12 KiB for double). A large KC also amortises the load/store of
// the C tile, which happens once per KC multiply-adds.
//
// MC: the packed A block (MC x KC) must stay in the 512 KiB per-core L2 while all NC / NR B
// slivers stream past it, with room left for the B slivers and C traffic. MC = 144 floats or
// 72 doubles (multiples of MR) gives 144 KiB, under a third of L2.
//
// NC: the packed B panel (KC x NC) lives in the 32 MiB L3 (shared by the cores, each thread has
// its own panel). NC = 4080 (a multiple of NR) gives 4 MiB for float; a strip of C narrower than
// NC just means a single jc iteration.
//
// Measured on a 2-core Zen 3 EPYC (./tito bench sgemm): any KC in 192..384 with MC in 72..192
// performs within the run-to-run noise (about 5%) of these values; they sit in the middle of
// that plateau. What matters is the order of magnitude: each block must fit its cache level.
// ---------------------------------------------------------------------------------------------
template <typename T>
struct Blocking;

template <>
struct Blocking<float> {
  static constexpr int64_t MR = 6, NR = 16;  // 6 x (2 ymm of 8 floats)
  static constexpr int64_t KC = 256, MC = 144, NC = 4080;
};

template <>
struct Blocking<double> {
  static constexpr int64_t MR = 6, NR = 8;  // 6 x (2 ymm of 4 doubles)
  static constexpr int64_t KC = 256, MC = 72, NC = 4080;
};

// Problems with no more multiply-adds than this (about 7 us of work) run on the calling thread:
// starting and synchronising a thread team costs microseconds, which eats the gain. On the
// 2-core Zen 3, two threads start to win at about N = 64 for square matrices.
constexpr double kMinMultiplyAddsForThreads = 64.0 * 64.0 * 64.0;

constexpr int64_t round_up(int64_t x, int64_t multiple) {
  return (x + multiple - 1) / multiple * multiple;
}

constexpr int64_t ceil_div(int64_t x, int64_t y) {
  return (x + y - 1) / y;
}

// ---------------------------------------------------------------------------------------------
// Packing buffers: 64-byte aligned (one cache line, and what aligned AVX loads need), owned per
// thread and grown on demand, so steady-state calls never allocate.
// ---------------------------------------------------------------------------------------------
template <typename T>
class AlignedBuffer {
 public:
  T* get(int64_t count) {
    if (count > capacity_) {
      data_.reset(
          static_cast<T*>(::operator new(static_cast<size_t>(count) * sizeof(T), kAlignment)));
      capacity_ = count;
    }
    return data_.get();
  }

 private:
  static constexpr std::align_val_t kAlignment{64};
  struct Free {
    void operator()(T* p) const { ::operator delete(p, kAlignment); }
  };
  std::unique_ptr<T, Free> data_;
  int64_t capacity_ = 0;
};

// One buffer per (thread, element type, operand). Each thread of a team packs its A blocks into
// its own buffer; the B panels of a call are the calling thread's, shared by its team. So
// concurrent calls never share a buffer.
enum class Operand { kA, kB };

template <typename T, Operand kWhich>
T* thread_local_buffer(int64_t count) {
  thread_local AlignedBuffer<T> buffer;
  return buffer.get(count);
}

// ---------------------------------------------------------------------------------------------
// Packing. A matrix view op(X) is described by a base pointer and two strides:
//     op(X)(r, c) = x[r * rs + c * cs]
// A plain row-major X has (rs, cs) = (ld, 1); its transpose has (rs, cs) = (1, ld). So the same
// packing code serves all four transpose combinations.
//
// Both operands are packed into "slivers" of W = MR rows of op(A) or W = NR columns of op(B),
// stored step by step along the k dimension: the W values the micro-kernel needs at step p are
// adjacent. For an A sliver (W = MR):
//
//   dst: [ a(0,0) a(1,0) .. a(MR-1,0) | a(0,1) .. a(MR-1,1) | ... | a(0,kc-1) .. a(MR-1,kc-1) ]
//
// and a B sliver is the same with b(p, j) in place of a(i, p). So one routine, pack_slivers,
// packs both: it copies a strip src(w, p) = src[w * w_stride + p * p_stride], w < width, p < kc,
// into slivers, sliver s getting lines s * W ... s * W + W - 1 at dst[p * W + w].
//
// The transposing case (each of the W lines contiguous along k: op(A) = A, or op(B) = B^T — the
// forward pass of every Linear layer, x · W^T) is a function of its own, because a scalar loop
// moves only about one element per cycle: on a batch-64 layer that is a quarter of the time of
// the multiply itself. The AVX2 version (below) transposes 8 x 8 blocks in registers.
// ---------------------------------------------------------------------------------------------

// Packing reads its source in short pieces (a sliver is W lines of kc values), too short for the
// hardware prefetcher to get ahead of. On the course VM, whose L3 the vCPUs share with other
// machines, much of the source comes from DRAM, and packing took about a tenth of a 1-thread
// N = 512 multiply. Two things help:
//   * a transposing pack asks for the lines of the next sliver while it packs this one
//     (prefetch_lines), so that they are in cache by the time it gets to them;
//   * a straight copy packs kCopyGroup slivers at once, step by step, so it reads each source row
//     as one run of kCopyGroup * W values rather than W values at a stride of ld.
// Packing 512 KiB of a 512 x 512 matrix that was in DRAM, one thread: straight copies 154 -> 90 us,
// transposing 100 -> 81 us. Whole multiplies at N = 256 ... 2048 changed by -2% to +8% in speed.
// Of group sizes 1, 2, 4, 8 and 32, 4 packed fastest from L3 and within 2% of the best from DRAM.
constexpr int64_t kCopyGroup = 4;

// Prefetches the cache line holding value p of each of lines [from, to) of a sliver (line w at
// next + w * w_stride), once per cache line: only when p is a multiple of the values in a line.
template <typename T>
inline void prefetch_lines(const T* next, int64_t w_stride, int64_t p, int64_t from, int64_t to) {
  constexpr int64_t kValuesPerLine = 64 / sizeof(T);
  if (next == nullptr || p % kValuesPerLine != 0) return;
  for (int64_t w = from; w < to; ++w) __builtin_prefetch(next + w * w_stride + p);
}

// dst[p * W + w] = src[w * w_stride + p] for w < W, p < kc: a full-width sliver whose lines are
// contiguous along k. `next` is the first line of the sliver packed after this one (same
// w_stride), to prefetch, or nullptr.
template <typename T>
using TransposePack = void (*)(int64_t kc, const T* src, int64_t w_stride, T* dst, const T* next);

template <typename T, int64_t W>
void pack_transposed_portable(int64_t kc, const T* src, int64_t w_stride, T* dst, const T* next) {
  // Reads W streams at once; fully unrolling the fixed-size w loop keeps it at about one element
  // per cycle.
  for (int64_t p = 0; p < kc; ++p) {
    prefetch_lines(next, w_stride, p, 0, W);
#pragma GCC unroll 16
    for (int64_t w = 0; w < W; ++w) dst[p * W + w] = src[w * w_stride + p];
  }
}

// Packs `width` lines of a strip of op(X), src(w, p) = src[w * w_stride + p * p_stride] for
// w < width and p < kc, into ceil(width / W) slivers of W x kc, one after the other (sliver s at
// dst + s * W * kc, holding lines s * W ...). The lanes of a last, ragged sliver past `width` are
// filled with zeros, so that the micro-kernel can always compute a full tile.
template <typename T, int64_t W>
void pack_slivers(int64_t kc, int64_t width, const T* src, int64_t w_stride, int64_t p_stride,
                  T* dst, TransposePack<T> pack_transposed) {
  const int64_t full = width / W;                                       // slivers with no padding
  const auto line = [&](int64_t s) { return src + s * W * w_stride; };  // first line of sliver s
  // NOTE: one of the two strides is always 1 (a StridedView of a row-major matrix or of its
  // transpose), so every full sliver is either a straight copy or a transpose.
  if (w_stride == 1) {
    // The W values of one step are contiguous (op(A) = A^T, or op(B) = B): straight copies.
    for (int64_t group = 0; group < full; group += kCopyGroup) {
      const int64_t group_end = std::min(full, group + kCopyGroup);
      for (int64_t p = 0; p < kc; ++p) {
        for (int64_t s = group; s < group_end; ++s) {
          std::memcpy(dst + s * W * kc + p * W, line(s) + p * p_stride, W * sizeof(T));
        }
      }
    }
  } else {
    // Each line contiguous along k (p_stride == 1: op(A) = A, or op(B) = B^T — the forward pass
    // of every Linear layer, x · W^T): a transpose, in registers where the CPU has AVX2 (below).
    for (int64_t s = 0; s < full; ++s) {
      pack_transposed(kc, line(s), w_stride, dst + s * W * kc,
                      s + 1 < full ? line(s + 1) : nullptr);
    }
  }
  // A ragged last sliver (fewer than W lines): the general copy, padded with zeros.
  if (const int64_t s = full; s * W < width) {
    const int64_t lines = width - s * W;
    const T* from = line(s);
    T* to = dst + s * W * kc;
    for (int64_t p = 0; p < kc; ++p) {
      for (int64_t w = 0; w < W; ++w) {
        to[p * W + w] = w < lines ? from[w * w_stride + p * p_stride] : T(0);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Micro-kernels. Contract, for T = float (MR = 6, NR = 16) or double (MR = 6, NR = 8):
//
//   a: MR x kc packed sliver (a[p * MR + i] = op(A)(i, p))
//   b: kc x NR packed sliver (b[p * NR + j] = op(B)(p, j)), 64-byte aligned (each row of it is
//      exactly one cache line, 16 floats or 8 doubles)
//   c: MR x NR tile of C, row stride ldc, any alignment
//
//   c = alpha * (a * b) + beta * c,   and c is not read when beta == 0.
//
// They always compute a full MR x NR tile; the macro-kernel deals with ragged edges.
// ---------------------------------------------------------------------------------------------
template <typename T>
using MicroKernel = void (*)(int64_t kc, const T* a, const T* b, T alpha, T beta, T* c,
                             int64_t ldc);

// Portable micro-kernel: plain loops, one row of the tile at a time. The NR accumulators of a row
// fit in registers, and the fixed-length j loop is what the compiler vectorises: with SSE2 at -O3
// this runs at ~15-20 GFLOP/s, a quarter of the AVX2 kernel (less at -O2, where GCC vectorises
// less eagerly). Used when the CPU lacks AVX2/FMA or TINYTORCH_DISABLE_AVX2 is set.
template <typename T>
void microkernel_portable(int64_t kc, const T* a, const T* b, T alpha, T beta, T* c, int64_t ldc) {
  constexpr int64_t MR = Blocking<T>::MR, NR = Blocking<T>::NR;
  for (int64_t i = 0; i < MR; ++i) {
    T acc[NR] = {};
    for (int64_t p = 0; p < kc; ++p) {
      const T a_ip = a[p * MR + i];
      for (int64_t j = 0; j < NR; ++j) acc[j] += a_ip * b[p * NR + j];
    }
    T* c_row = c + i * ldc;
    for (int64_t j = 0; j < NR; ++j) {
      c_row[j] = beta == T(0) ? alpha * acc[j] : alpha * acc[j] + beta * c_row[j];
    }
  }
}

#ifdef TINYTORCH_GEMM_X86
// AVX2/FMA micro-kernel. Only these functions are compiled for AVX2 (via the target attribute);
// the rest of the library stays baseline x86-64 and picks them at run time (see select_kernels).
//
// Register layout for float (a ymm register holds 8 floats; for double, 4 doubles, NR = 8):
//
//                  b0 = b[p*16 + 0..7]   b1 = b[p*16 + 8..15]
//   a[p*6 + 0] ->  c00                   c01                   <- row 0 of the C tile
//   a[p*6 + 1] ->  c10                   c11
//      ...             ...                   ...
//   a[p*6 + 5] ->  c50                   c51                   <- row 5
//
// Step p: load b0, b1; for each row i broadcast a[p*6 + i] to all lanes of one register and do
// ci0 += a_i * b0, ci1 += a_i * b1 (12 FMAs on 8 loaded values). Total: 12 accumulators + 2 B
// registers + 1 broadcast = 15 of the 16 ymm registers.
#define TT_AVX2 __attribute__((target("avx2,fma")))

// The few AVX intrinsics the kernel needs, named independently of the element type so that one
// kernel template serves float and double.
template <typename T>
struct Avx2;

template <>
struct Avx2<float> {
  using Vec = __m256;
  TT_AVX2 static Vec zero() { return _mm256_setzero_ps(); }
  TT_AVX2 static Vec broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  TT_AVX2 static Vec set1(float x) { return _mm256_set1_ps(x); }
  TT_AVX2 static Vec load_aligned(const float* p) { return _mm256_load_ps(p); }
  TT_AVX2 static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  TT_AVX2 static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  TT_AVX2 static Vec mul(Vec x, Vec y) { return _mm256_mul_ps(x, y); }
  TT_AVX2 static Vec fmadd(Vec x, Vec y, Vec acc) { return _mm256_fmadd_ps(x, y, acc); }
};

template <>
struct Avx2<double> {
  using Vec = __m256d;
  TT_AVX2 static Vec zero() { return _mm256_setzero_pd(); }
  TT_AVX2 static Vec broadcast(const double* p) { return _mm256_broadcast_sd(p); }
  TT_AVX2 static Vec set1(double x) { return _mm256_set1_pd(x); }
  TT_AVX2 static Vec load_aligned(const double* p) { return _mm256_load_pd(p); }
  TT_AVX2 static Vec load(const double* p) { return _mm256_loadu_pd(p); }
  TT_AVX2 static void store(double* p, Vec v) { _mm256_storeu_pd(p, v); }
  TT_AVX2 static Vec mul(Vec x, Vec y) { return _mm256_mul_pd(x, y); }
  TT_AVX2 static Vec fmadd(Vec x, Vec y, Vec acc) { return _mm256_fmadd_pd(x, y, acc); }
};

// One row of a rank-1 update: broadcast a_i to every lane, then (ci0, ci1) += a_i * (b0, b1).
template <typename T>
TT_AVX2 inline void fma_row(const T* a_i, typename Avx2<T>::Vec b0, typename Avx2<T>::Vec b1,
                            typename Avx2<T>::Vec& ci0, typename Avx2<T>::Vec& ci1) {
  using V = Avx2<T>;
  const typename V::Vec a = V::broadcast(a_i);
  ci0 = V::fmadd(a, b0, ci0);
  ci1 = V::fmadd(a, b1, ci1);
}

// Write one row of the tile: c[0 .. NR) = alpha * (lo, hi) + beta * c.
template <typename T>
TT_AVX2 inline void store_row_avx2(T* c, typename Avx2<T>::Vec lo, typename Avx2<T>::Vec hi,
                                   typename Avx2<T>::Vec alpha, typename Avx2<T>::Vec beta,
                                   bool beta_is_zero) {
  using V = Avx2<T>;
  constexpr int64_t kLanes = sizeof(typename V::Vec) / sizeof(T);
  if (beta_is_zero) {
    V::store(c, V::mul(alpha, lo));
    V::store(c + kLanes, V::mul(alpha, hi));
  } else {
    V::store(c, V::fmadd(alpha, lo, V::mul(beta, V::load(c))));
    V::store(c + kLanes, V::fmadd(alpha, hi, V::mul(beta, V::load(c + kLanes))));
  }
}

template <typename T>
TT_AVX2 void microkernel_avx2(int64_t kc, const T* a, const T* b, T alpha, T beta, T* c,
                              int64_t ldc) {
  using V = Avx2<T>;
  constexpr int64_t MR = Blocking<T>::MR, NR = Blocking<T>::NR;
  static_assert(MR == 6 && NR == 2 * sizeof(typename V::Vec) / sizeof(T),
                "the kernel body below is written out for a 6 x (2 vector) tile");
  constexpr int64_t kLanes = NR / 2;

  // Start fetching the C tile now; it is only needed after the kc loop, by which time the
  // (likely) cache misses have been served in the background.
  for (int64_t i = 0; i < MR; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + NR - 1), _MM_HINT_T0);
  }

  typename V::Vec c00 = V::zero(), c01 = V::zero(), c10 = V::zero(), c11 = V::zero();
  typename V::Vec c20 = V::zero(), c21 = V::zero(), c30 = V::zero(), c31 = V::zero();
  typename V::Vec c40 = V::zero(), c41 = V::zero(), c50 = V::zero(), c51 = V::zero();

  // Unrolling the loop 4 times trims the loop-counter overhead and gives the out-of-order core
  // longer straight runs of independent FMAs (measured: ~5% faster than no unrolling).
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
    const typename V::Vec b0 = V::load_aligned(b);
    const typename V::Vec b1 = V::load_aligned(b + kLanes);
    fma_row<T>(a + 0, b0, b1, c00, c01);
    fma_row<T>(a + 1, b0, b1, c10, c11);
    fma_row<T>(a + 2, b0, b1, c20, c21);
    fma_row<T>(a + 3, b0, b1, c30, c31);
    fma_row<T>(a + 4, b0, b1, c40, c41);
    fma_row<T>(a + 5, b0, b1, c50, c51);
  }

  const typename V::Vec valpha = V::set1(alpha), vbeta = V::set1(beta);
  const bool beta_is_zero = beta == T(0);
  store_row_avx2<T>(c + 0 * ldc, c00, c01, valpha, vbeta, beta_is_zero);
  store_row_avx2<T>(c + 1 * ldc, c10, c11, valpha, vbeta, beta_is_zero);
  store_row_avx2<T>(c + 2 * ldc, c20, c21, valpha, vbeta, beta_is_zero);
  store_row_avx2<T>(c + 3 * ldc, c30, c31, valpha, vbeta, beta_is_zero);
  store_row_avx2<T>(c + 4 * ldc, c40, c41, valpha, vbeta, beta_is_zero);
  store_row_avx2<T>(c + 5 * ldc, c50, c51, valpha, vbeta, beta_is_zero);
}

// The transposing pack for float, 8 x 8 at a time: load 8 lines (8 consecutive k each), transpose
// the 8 x 8 block in registers, store 8 steps (8 values of w each). In-register transpose, with
// r_i = line i and c_j = column j (the values of all 8 lines at step j):
//
//   unpacklo/hi   pairs of lines interleaved:   (r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] ...)
//   shuffle       quads:                        (r0[0] r1[0] r2[0] r3[0] | r0[4] .. r3[4])
//   permute2f128  128-bit halves swapped in:    (r0[0] .. r3[0] r4[0] .. r7[0]) = c_0
//
// 24 shuffles for 64 values instead of 64 scalar moves with 8 scattered stores. For W = 6 (the A
// sliver) lines 6 and 7 repeat line 5 and only 6 lanes of each column are stored.
TT_AVX2 inline void transpose8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

template <int64_t W>
TT_AVX2 void pack_transposed_avx2(int64_t kc, const float* src, int64_t w_stride, float* dst,
                                  const float* next) {
  static_assert(W == 16 || W == 6, "written for the float slivers: NR = 16 and MR = 6");
  int64_t p = 0;
  for (; p + 8 <= kc; p += 8) {
    for (int64_t g = 0; g < W; g += 8) {  // lines g .. g+7
      prefetch_lines(next, w_stride, p, g, std::min(W, g + 8));
      __m256 r[8];
      for (int64_t i = 0; i < 8; ++i) {
        r[i] = _mm256_loadu_ps(src + std::min(g + i, W - 1) * w_stride + p);
      }
      transpose8x8(r);
      for (int64_t j = 0; j < 8; ++j) {
        float* out = dst + (p + j) * W + g;
        if constexpr (W == 16) {
          _mm256_storeu_ps(out, r[j]);
        } else {  // lanes 0..5: four, then two
          _mm_storeu_ps(out, _mm256_castps256_ps128(r[j]));
          _mm_storel_pi(reinterpret_cast<__m64*>(out + 4), _mm256_extractf128_ps(r[j], 1));
        }
      }
    }
  }
  for (; p < kc; ++p) {  // the last kc % 8 steps
    for (int64_t w = 0; w < W; ++w) dst[p * W + w] = src[w * w_stride + p];
  }
}

#undef TT_AVX2
#endif  // TINYTORCH_GEMM_X86

// ---------------------------------------------------------------------------------------------
// Run-time dispatch and thread count.
// ---------------------------------------------------------------------------------------------
bool cpu_has_avx2_fma() {
#ifdef TINYTORCH_GEMM_X86
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return has;
#else
  return false;
#endif
}

bool avx2_disabled_by_env() {
  const char* value = std::getenv("TINYTORCH_DISABLE_AVX2");
  return value != nullptr && value[0] != '\0' && std::strcmp(value, "0") != 0;
}

// The micro-kernel and the transposing packs of A and B slivers that this CPU runs.
template <typename T>
struct GemmKernels {
  MicroKernel<T> micro;
  TransposePack<T> pack_a;  // MR-wide slivers
  TransposePack<T> pack_b;  // NR-wide slivers
};

template <typename T>
GemmKernels<T> select_kernels() {
  using Blk = Blocking<T>;
  GemmKernels<T> k{microkernel_portable<T>, pack_transposed_portable<T, Blk::MR>,
                   pack_transposed_portable<T, Blk::NR>};
#ifdef TINYTORCH_GEMM_X86
  if (gemm_fast_uses_avx2()) {
    k.micro = microkernel_avx2<T>;
    if constexpr (std::is_same_v<T, float>) {
      k.pack_a = pack_transposed_avx2<Blk::MR>;
      k.pack_b = pack_transposed_avx2<Blk::NR>;
    }
  }
#endif
  return k;
}

// ---------------------------------------------------------------------------------------------
// Macro-kernel: loops 2 and 1 of the nest, over the micro-tiles of one MC x NC block of C.
//
//   a_packed: mc x kc, in MR-row slivers (from pack_slivers)
//   b_packed: kc x nc, in NR-column slivers (from pack_slivers)
//   c:        mc x nc block of C, row stride ldc
//
// Full tiles go straight to the micro-kernel. A ragged tile at the bottom or right edge is
// computed into a local MR x NR buffer (the packed zero padding makes that safe) and only its
// valid part is merged into C.
// ---------------------------------------------------------------------------------------------
template <typename T>
void macro_kernel(int64_t mc, int64_t nc, int64_t kc, const T* a_packed, const T* b_packed, T alpha,
                  T beta, T* c, int64_t ldc, MicroKernel<T> kernel) {
  constexpr int64_t MR = Blocking<T>::MR, NR = Blocking<T>::NR;
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t nr = std::min(NR, nc - jr);
    const T* b_sliver = b_packed + jr * kc;  // kc x NR
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t mr = std::min(MR, mc - ir);
      const T* a_sliver = a_packed + ir * kc;  // MR x kc
      T* c_tile = c + ir * ldc + jr;           // mr x nr
      if (mr == MR && nr == NR) {
        kernel(kc, a_sliver, b_sliver, alpha, beta, c_tile, ldc);
        continue;
      }
      alignas(64) T tile[MR * NR];
      kernel(kc, a_sliver, b_sliver, T(1), T(0), tile, NR);
      for (int64_t i = 0; i < mr; ++i) {
        for (int64_t j = 0; j < nr; ++j) {
          T& out = c_tile[i * ldc + j];
          out = beta == T(0) ? alpha * tile[i * NR + j] : alpha * tile[i * NR + j] + beta * out;
        }
      }
    }
  }
}

// C = beta * C, for the cases where there is no product to add (K == 0 or alpha == 0).
template <typename T>
void scale_c(int64_t M, int64_t N, T beta, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    T* row = C + i * ldc;
    if (beta == T(0)) {
      std::fill(row, row + N, T(0));  // write-only: NaNs in C must not survive
    } else {
      for (int64_t j = 0; j < N; ++j) row[j] *= beta;
    }
  }
}

// op(X) seen through strides: op(X)(r, c) = data[r * rs + c * cs] (see "Packing").
template <typename T>
struct StridedView {
  const T* data;
  int64_t rs, cs;
  const T* at(int64_t r, int64_t c) const { return data + r * rs + c * cs; }
};

// ---------------------------------------------------------------------------------------------
// Threads: a team that shares the packed B panel and balances the blocks of C as it goes.
//
// One OpenMP region runs the whole loop nest. Each rank-KC update ("step": one (jc, pc) pair) is
//
//   1. pack: the step's B panel is cut into one home range of slivers per thread, and each thread
//      packs its own range into the shared panel, then says so;
//   2. compute: C[:, jc : jc+nc] is cut into units of (MC rows) x (a few NR slivers). Each thread
//      takes the units of its home range first, in order; when they run out, it takes units of
//      the other ranges, from the far end. A thread packs the A block of a unit into its own
//      buffer, and keeps it while its next unit has the same rows.
//
//        columns:   | home range of thread 0    | home range of thread 1    |
//        row block 0|  0->  0->  0->  0->       |  1->  1->  1->  1->       |
//        row block 1|  0->  0->  0->  0->       |  1->  1->  1->  1->       |
//        row block 2|  0->  0->  0->  0->  <-1  |  1->  1->  1->  1->       |
//                                    thread 1 ran out of its own units ^ and took one of thread 0's
//
// Why not give each thread a fixed half of C? Because the two cores of a VM are rarely equally
// fast. On the 2-core Zen 3 course VM the 1-thread GEMM measured 63-66 GFLOP/s pinned to CPU 0
// and 72-74 pinned to CPU 1 (`taskset -c`), the gap being the interrupts and host work that land
// on CPU 0. With fixed halves the fast core waits for the slow one, and 2 threads give at most
// 2 x 63 rather than 63 + 73. A unit takes ~50 us, so all threads finish within about one unit of
// each other.
//
// Why home ranges, rather than one shared list of units? A thread mostly reads the B slivers it
// packed itself, which are still in its own core's caches. Reading slivers that the other core
// just wrote costs a transfer between the cores' caches: with one shared list (each unit going to
// whichever thread asked first), N = 2048 ran 15% slower than fixed halves in an interleaved run
// on the course VM.
//
// Why no barrier between the steps? A thread waits only for the things it is about to use
// (a "dataflow" schedule), each thread publishing how far it has got (TeamMember):
//   * a range's units of step s may start once that range of the panel is packed, and once all
//     of the range's units of earlier steps are done: those of the same column panel update the
//     same elements of C, and must do so in the order of the steps;
//   * step s packs into the panel, and fills the queues, of step s - 2 (there are two of each, so
//     one step can be packed while the last is computed): a thread starts step s once every
//     thread has finished step s - 2.
// With a barrier after each packing, as this kernel had before, every thread waited at every step
// for the slowest to arrive: the team thread that starts a few microseconds late, or the vCPU
// the host took away for a while. Now the others go on with their own units and take the late
// one's. In interleaved runs on the course VM (medians of 9-11, 2 threads, GFLOP/s, dataflow vs
// barrier): N = 512 125-141 vs 112-136, N = 1024 144-146 vs 135-145, N = 2048 146-156 vs 142-154,
// and a batch-64 Linear forward (64 x 784 times 784 x 256, four steps) 100-111 vs 76-77.
//
// Each C element is still updated by one thread at a time, in the order of the steps, so the sum
// over k is done in the same order whatever the number of threads or the order the units are
// taken in: the result is bitwise identical.
//
// NOTE: the waits cannot deadlock. The thread furthest behind, at step s, never waits for long:
// every thread has finished step s - 1, so every unit before step s is done, and a range of step
// s it wants is packed or being packed by a thread that is not waiting either.
// ---------------------------------------------------------------------------------------------

// A unit of work holds about this many multiply-adds (~50 us on one Zen 3 core): small enough that
// threads finish close together, large enough that taking a unit (one compare-and-swap) is
// free.
constexpr double kMultiplyAddsPerUnit = 2.0 * 1024 * 1024;
// ... and each step has at least this many units per thread, so the last one is a small part.
constexpr int64_t kMinUnitsPerThread = 4;

// Runs body(rank, team_size) on each thread of a team of `threads` (one OpenMP region).
template <typename F>
void run_team([[maybe_unused]] int threads, const F& body) {
#ifdef TINYTORCH_HAVE_OPENMP
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    body(omp_get_thread_num(), omp_get_num_threads());  // the team may be smaller than asked for
    return;
  }
#endif
  body(0, 1);
}

// Spins until ready() holds. A thread here waits for another to finish a unit or to pack its part
// of a panel: tens of microseconds, too short to be worth sleeping. After a while it yields its
// core anyway, in case the thread it waits for needs that core (more threads than cores).
template <typename F>
void spin_until(const F& ready) {
  for (int spins = 0; !ready(); ++spins) {
    if (spins < 4096) {
#ifdef TINYTORCH_GEMM_X86
      _mm_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }
}

// The units of one home range: the owner takes them from the front, idle threads from the back
// (so a thief works on other rows than the owner, and packs another A block). Both ends live in
// one 64-bit word, so one compare-and-swap claims a unit.
// NOTE: unit numbers must fit in 32 bits. A range has at most m_blocks * NC / NR units, about
// M * N / 1000 for large M: 2^32 units would need a C of 4 * 10^12 elements.
class alignas(64) WorkQueue {
 public:
  void reset(int64_t units) { ends_.store(static_cast<uint64_t>(units) << 32); }
  int64_t take_front() { return take(true); }
  int64_t take_back() { return take(false); }

 private:
  int64_t take(bool front) {
    uint64_t ends = ends_.load(std::memory_order_relaxed);
    for (;;) {
      const uint64_t first = ends & 0xffffffffU, end = ends >> 32;
      if (first >= end) return -1;
      const uint64_t next = front ? ends + 1 : ends - (uint64_t{1} << 32);
      if (ends_.compare_exchange_weak(ends, next, std::memory_order_relaxed)) {
        return static_cast<int64_t>(front ? first : end - 1);
      }
    }
  }
  std::atomic<uint64_t> ends_{0};  // first unit left (low 32 bits), one past the last (high 32)
};

// What one thread of a team shares with the others: the work queues of its home range, and how far
// it has got. One cache line each, apart from the queues, so that writing them does not slow down
// the other threads' reads of theirs.
struct TeamMember {
  WorkQueue queues[2];  // the units of the home range in steps of even and odd number
  alignas(64) std::atomic<int64_t> packed;  // the last step whose home range of B is packed
  std::atomic<int64_t> finished;            // the last step this thread takes no more units of
  std::atomic<int64_t> done;  // units of the home range computed so far (all steps, any thread)
};

// The calling thread's team state, grown on demand like the packing buffers, and reset.
TeamMember* thread_local_team(int count) {
  thread_local std::unique_ptr<TeamMember[]> members;
  thread_local int capacity = 0;
  if (count > capacity) {
    members = std::make_unique<TeamMember[]>(static_cast<size_t>(count));
    capacity = count;
  }
  for (int t = 0; t < count; ++t) {
    members[t].packed.store(-1, std::memory_order_relaxed);
    members[t].finished.store(-1, std::memory_order_relaxed);
    members[t].done.store(0, std::memory_order_relaxed);
  }
  return members.get();
}

template <typename T>
void gemm_blocked(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                  int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  using Blk = Blocking<T>;
  constexpr int64_t NR = Blk::NR;
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == T(0)) {
    scale_c(M, N, beta, C, ldc);
    return;
  }

  // op(A) is M x K and op(B) is K x N, whichever way they are stored.
  const StridedView<T> a = trans_a ? StridedView<T>{A, 1, lda} : StridedView<T>{A, lda, 1};
  const StridedView<T> b = trans_b ? StridedView<T>{B, 1, ldb} : StridedView<T>{B, ldb, 1};
  const GemmKernels<T> kernels = select_kernels<T>();

  // Cut M into blocks of at most MC rows, all of (nearly) the same size, so that no block is a
  // thin leftover: e.g. M = 150 gives 78 + 72 rows rather than 144 + 6.
  const int64_t mc_step = round_up(ceil_div(M, ceil_div(M, Blk::MC)), Blk::MR);
  const int64_t m_blocks = ceil_div(M, mc_step);
  const int64_t kc_max = std::min(K, Blk::KC);
  const int64_t nc_max = std::min(N, Blk::NC);
  const int64_t steps_k = ceil_div(K, Blk::KC), steps = ceil_div(N, Blk::NC) * steps_k;

  // The team: one thread for small problems (starting a team costs microseconds), and never more
  // threads than the widest step has units to give.
  const double multiply_adds = static_cast<double>(M) * static_cast<double>(N) * K;
  const int64_t max_units = m_blocks * ceil_div(nc_max, NR);
  const int team = multiply_adds <= kMinMultiplyAddsForThreads || in_parallel_region()
                       ? 1
                       : static_cast<int>(std::min<int64_t>(get_num_threads(), max_units));

  // A unit is an (mc_step rows) x (unit_slivers * NR columns) block of C. A team of one takes
  // whole rows of blocks, exactly the classic single-threaded loop nest.
  const auto unit_slivers = [&](int64_t slivers) -> int64_t {
    if (team == 1) return slivers;
    const auto by_size =
        static_cast<int64_t>(kMultiplyAddsPerUnit / static_cast<double>(mc_step * kc_max * NR));
    const int64_t by_count = m_blocks * slivers / (kMinUnitsPerThread * team);
    return std::clamp<int64_t>(std::min(by_size, by_count), 1, slivers);
  };

  // Shared by the team: the B panels (two, so the next step can be packed while this one is still
  // being computed) and each thread's queues and progress.
  const int64_t panel_size = round_up(nc_max, NR) * kc_max;
  const int panels = team > 1 ? 2 : 1;
  T* b_panels = thread_local_buffer<T, Operand::kB>(panels * panel_size);
  TeamMember* members = thread_local_team(team);

  // Step s covers columns [jc, jc + nc) of C. Its slivers are cut into one home range per thread
  // (the slivers that thread packs), and each home range into units: every row block x every chunk
  // of unit_slivers() slivers, numbered block by block.
  const auto step_columns = [&](int64_t s) {
    const int64_t jc = s / steps_k * Blk::NC;
    return std::pair{jc, std::min(Blk::NC, N - jc)};
  };
  const auto home = [](int64_t slivers, int rank, int team_size) {
    const int64_t share = ceil_div(slivers, team_size);
    return std::pair{std::min(slivers, rank * share), std::min(slivers, (rank + 1) * share)};
  };
  const auto chunks_of = [](std::pair<int64_t, int64_t> range, int64_t per_unit) {
    return ceil_div(range.second - range.first, per_unit);
  };
  const auto units_of = [&](int64_t s, int rank, int team_size) {
    const int64_t slivers = ceil_div(step_columns(s).second, NR);
    return m_blocks * chunks_of(home(slivers, rank, team_size), unit_slivers(slivers));
  };
  // Units of `rank`'s home range in steps 0 ... s-1. All column panels but the last are NC wide.
  const auto units_before = [&](int64_t s, int rank, int team_size) {
    const int64_t full_panel_steps = std::min(s, (steps / steps_k - 1) * steps_k);
    return full_panel_steps * units_of(0, rank, team_size) +
           (s - full_panel_steps) * units_of(steps - 1, rank, team_size);
  };

  run_team(team, [&](int rank, int team_size) {
    T* a_packed = thread_local_buffer<T, Operand::kA>(mc_step * kc_max);
    TeamMember& me = members[rank];
    const auto all_finished = [&](int64_t s) {
      for (int t = 0; t < team_size; ++t) {
        if (members[t].finished.load(std::memory_order_acquire) < s) return false;
      }
      return true;
    };

    for (int64_t s = 0; s < steps; ++s) {
      const auto [jc, nc] = step_columns(s);                                     // 5th loop
      const int64_t pc = s % steps_k * Blk::KC, kc = std::min(Blk::KC, K - pc);  // 4th loop
      const T beta_pc = pc == 0 ? beta : T(1);
      T* b_packed = b_panels + (s % panels) * panel_size;  // kc x nc, in NR-column slivers
      const int64_t slivers = ceil_div(nc, NR), per_unit = unit_slivers(slivers);

      // 1. Step s uses the panel and the queues of step s - 2: wait until every thread is done
      //    with them. Then fill the own queue and pack the own home range of
      //    op(B)[pc : pc+kc, jc : jc+nc] (its columns are the lines of the slivers).
      spin_until([&] { return all_finished(s - 2); });
      me.queues[s % 2].reset(units_of(s, rank, team_size));
      const auto [first, end] = home(slivers, rank, team_size);
      if (first < end) {
        pack_slivers<T, NR>(kc, std::min(end * NR, nc) - first * NR, b.at(pc, jc + first * NR),
                            b.cs, b.rs, b_packed + first * NR * kc, kernels.pack_b);
      }
      me.packed.store(s, std::memory_order_release);

      // 2. Take units of the own home range from the front, then the others' from the back
      //    (the 3rd loop, and part of the 2nd). A range's units of step s may start once its
      //    part of the panel is packed and all its units of earlier steps are done (those of the
      //    same column panel update the same elements of C).
      int64_t packed_block = -1;  // the block of rows a_packed holds in this step
      for (int v = 0; v < team_size; ++v) {
        const int r = (rank + v) % team_size;
        TeamMember& owner = members[r];
        const int64_t before = units_before(s, r, team_size);
        spin_until([&] {
          return owner.packed.load(std::memory_order_acquire) >= s &&
                 owner.done.load(std::memory_order_acquire) >= before;
        });
        const auto range = home(slivers, r, team_size);
        const int64_t chunks = chunks_of(range, per_unit);
        WorkQueue& queue = owner.queues[s % 2];
        for (int64_t u; (u = v == 0 ? queue.take_front() : queue.take_back()) >= 0;) {
          const int64_t block = u / chunks, ic = block * mc_step, mc = std::min(mc_step, M - ic);
          const int64_t jr = (range.first + u % chunks * per_unit) * NR;
          const int64_t nr = std::min(per_unit * NR, std::min(range.second * NR, nc) - jr);
          if (block != packed_block) {
            // Pack op(A)[ic : ic+mc, pc : pc+kc] (mc x kc).
            pack_slivers<T, Blk::MR>(kc, mc, a.at(ic, pc), a.rs, a.cs, a_packed, kernels.pack_a);
            packed_block = block;
          }
          macro_kernel(mc, nr, kc, a_packed, b_packed + jr * kc, alpha, beta_pc,
                       C + ic * ldc + jc + jr, ldc, kernels.micro);
          owner.done.fetch_add(1, std::memory_order_release);
        }
      }
      me.finished.store(s, std::memory_order_release);
    }
  });
}

}  // namespace

void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc) {
  gemm_blocked(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
               const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
               int64_t ldc) {
  gemm_blocked(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

bool gemm_fast_uses_avx2() {
  return cpu_has_avx2_fma() && !avx2_disabled_by_env();
}

}  // namespace tinytorch::kernels
