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
// One row (M = 1: a Linear on one token, as when decoding with a KV cache) skips all of it:
// packing would copy the whole of B to use each element once, and every micro-tile would be
// MR − 1 rows of padding. gemm_one_row streams B instead, in the micro-kernel's k order, so the
// row has the same bits as in a larger product.
//
// Threads: the team splits the packing and takes blocks of C on demand; see "Threads" above
// gemm_blocked. The thread count is the framework's one (set_num_threads,
// TINYTORCH_NUM_THREADS).
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>

#include "gemm_kernels.h"
#include "half_kernels.h"
#include "isa_select.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/half.h"
#include "unroll.h"

// The SIMD micro-kernels (gemm_avx2.cpp, gemm_avx512.cpp) are built only for x86, and then
// tinytorch/CMakeLists.txt defines TINYTORCH_GEMM_X86; elsewhere the portable one is always used.
#ifdef TINYTORCH_GEMM_X86
#include <immintrin.h>
#endif

namespace tinytorch::kernels {
namespace {

using gemm::AInPlaceKernel;
using gemm::EdgeKernel;
using gemm::MicroKernel;
using gemm::RowKernel;
using gemm::TransposePack;

// ---------------------------------------------------------------------------------------------
// Block sizes, one set per micro-kernel (the portable kernel computes the AVX2 tile).
//
// MR x NR is the register tile (see gemm_simd.h): NR = 2 vectors, and MR as many rows as the
// register file holds accumulators for. AVX2 has 16 ymm registers: MR = 6 takes 12 for the C tile,
// 2 for the B row and 1 for the broadcast A value. AVX-512 has 32 zmm registers: MR = 12 takes
// 24 + 2 + 1.
//
// KC: the B sliver (KC x NR) that the macro-kernel reuses for a whole column of micro-tiles should
// stay in L1d (32 KiB on Zen 3, 48 KiB on Zen 4/5), next to the A sliver (MR x KC) being streamed
// in. KC = 256 gives 16 KiB + 6 KiB for AVX2 floats (16 + 12 KiB for doubles). A large KC also
// amortises the load/store of the C tile, which happens once per KC multiply-adds, and means
// fewer passes over C, fewer packing calls and, with threads, fewer steps to synchronise.
//
// MC: the packed A block (MC x KC) must stay in the per-core L2 (512 KiB on Zen 3, 1 MiB on Zen
// 4/5) while all NC / NR B slivers stream past it, with room left for the B slivers and C traffic.
// MC = 144 floats or 72 doubles (multiples of MR) gives 144 KiB.
//
// NC: the packed B panel (KC x NC) lives in L3 (shared by the cores, each call has its own
// panel). NC = 4080 or 4064 (multiples of NR) gives 4 MiB for float with KC = 256; a strip of C
// narrower than NC just means a single jc iteration.
//
// Measured on a 2-core Zen 3 EPYC (./tito bench sgemm): any KC in 192..384 with MC in 72..192
// performs within the run-to-run noise (about 5%) of the AVX2 values; they sit in the middle of
// that plateau. What matters is the order of magnitude: each block must fit its cache level.
//
// The AVX-512 float kernel breaks the L1 rule and is faster for it. On a 2-core Zen 5 EPYC, KC in
// 192..384 (MC in 96..240) stayed within noise, 192-197 GFLOP/s at N = 512 on one thread; but
// KC = 512, whose B sliver (64 KiB) streams from L2, beat KC = 256 in paired, interleaved runs
// (a scratch driver switching between the two, 6-30 rounds): 1.01x (1 thread) and 1.02x (2
// threads) at N = 512, 1.03-1.05x and 1.02-1.04x at N = 1024, 1.04x (2 threads) at N = 2048.
// KC = 1024 gained another 1-2% at N = 1024 and 2048, but its A block (MC x KC: 576 KiB) would
// not fit the 512 KiB L2 of some AVX-512 CPUs. The 12-row tile needs 12 + 32 values per step for
// 24 FMAs, which L2 can supply; the C tile and the steps are what KC = 512 halves. NC = 2048
// keeps the panel at 4 MiB.
//
// KD is the number of k values a micro-kernel step takes: 1, except for bfloat16 with vdpbf16ps
// (2, a pair per 32-bit lane), whose slivers hold kc rounded up to even.
// ---------------------------------------------------------------------------------------------
template <typename T, CpuCapability kLevel>
struct Blocking;

template <>
struct Blocking<float, CpuCapability::kAvx2> {
  static constexpr int64_t MR = 6, NR = 16, KD = 1;  // 6 x (2 ymm of 8 floats)
  static constexpr int64_t KC = 256, MC = 144, NC = 4080;
};

template <>
struct Blocking<double, CpuCapability::kAvx2> {
  static constexpr int64_t MR = 6, NR = 8, KD = 1;  // 6 x (2 ymm of 4 doubles)
  static constexpr int64_t KC = 256, MC = 72, NC = 4080;
};

template <>
struct Blocking<float, CpuCapability::kAvx512> {
  static constexpr int64_t MR = 12, NR = 32, KD = 1;  // 12 x (2 zmm of 16 floats)
  static constexpr int64_t KC = 512, MC = 144, NC = 2048;
};

template <>
struct Blocking<double, CpuCapability::kAvx512> {
  static constexpr int64_t MR = 12, NR = 16, KD = 1;  // 12 x (2 zmm of 8 doubles)
  static constexpr int64_t KC = 256, MC = 72, NC = 4080;
};

template <typename T>
struct Blocking<T, CpuCapability::kDefault> : Blocking<T, CpuCapability::kAvx2> {};

// bfloat16 with vdpbf16ps (gemm_avx512_bf16.cpp): the AVX-512 float tile, 12 x (2 zmm of 16 float
// sums), each step two k values deep. KC = 1024 gives the blocks the bytes of the float kernel's
// (KC = 512): a 64 KiB B sliver streamed from L2, as the float kernel's is; a 288 KiB A block; a
// 4 MiB panel at NC = 2048. Against KC = 512 (one thread, CPU time of a scratch driver on the
// 2-vCPU Zen 4 VM, 2 x 9-30 calls each): 1.00x at N = 512, 1.03-1.04x at N = 1024, 1.04-1.05x at
// N = 2048 and on a Linear's 4096 x 3072 x 768; KC = 256 ran 0.98x, 0.93x and 0.92x. MC = 96
// instead of 144 stayed within 1%.
struct BlockingBf16 {
  static constexpr int64_t MR = 12, NR = 32, KD = 2;
  static constexpr int64_t KC = 1024, MC = 144, NC = 2048;
};

// Problems with no more multiply-adds than kMinMultiplyAddsForThreads run on the calling thread:
// starting and synchronising a thread team costs microseconds, which eats the gain. Where two
// threads start to win depends on the machine as much as on the kernel. Square matrices, back to
// back calls, 2 threads against 1:
//   * AVX2 kernel, 2-core Zen 3 VM (an empty parallel region: 0.7 us): from about N = 64 (64^3
//     multiply-adds take about 5 us there);
//   * AVX-512 kernel, 2-core Zen 5 VM (an empty region: 3.3 us, its vCPUs farther apart): slower
//     up to N = 120 (0.66x at N = 96, 0.81-0.99x from 104 to 120), even or faster from N = 128
//     (0.98-1.15x).
template <CpuCapability kLevel>
constexpr double kMinMultiplyAddsForThreads =
    kLevel == CpuCapability::kAvx512 ? 120.0 * 120.0 * 120.0 : 64.0 * 64.0 * 64.0;

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
enum class Operand { kA, kB, kWidened };  // kWidened: 16-bit lines widened to float

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
// the multiply itself. The AVX2 version (gemm_avx2.cpp) transposes 4 lines x 8 steps at a time in
// registers.
// ---------------------------------------------------------------------------------------------

// Packing reads its source in short pieces (a sliver is W lines of kc values), too short for the
// hardware prefetcher to get ahead of. On the course VM, whose L3 the vCPUs share with other
// machines, much of the source comes from DRAM, and packing took about a tenth of a 1-thread
// N = 512 multiply. So a straight copy packs kCopyGroup slivers at once, step by step: it reads
// each source row as one run of kCopyGroup * W values rather than W values at a stride of ld.
// Packing 512 KiB of a 512 x 512 matrix that was in DRAM, one thread: 154 -> 90 us. Of group sizes
// 1, 2, 4, 8 and 32, 4 packed fastest from L3 and within 2% of the best from DRAM.
// (Prefetching the next sliver's lines helped an earlier, 8 x 8 transposing pack: 100 -> 81 us. It
// does not help today's: the portable and the AVX2 pack took the same time with and without it,
// packing 512 x 512 from cache or from DRAM, and whole GEMMs ran 0-1% slower with it.)
constexpr int64_t kCopyGroup = 4;

// The portable TransposePack (gemm_kernels.h).
template <typename T, int64_t W>
void pack_transposed_portable(int64_t kc, const T* src, int64_t w_stride, T* dst) {
  // Reads W streams at once; fully unrolling the fixed-size w loop keeps it at about one element
  // per cycle.
  for (int64_t p = 0; p < kc; ++p) {
    TT_UNROLL(16)
    for (int64_t w = 0; w < W; ++w) dst[p * W + w] = src[w * w_stride + p];
  }
}

// The transposing pack of level kLevel: AVX2's for float on an AVX2 or AVX-512 CPU (which has
// AVX2 too). (No AVX-512 pack was tried: on the Zen 5 VM the AVX2 one packs a 132 x 512 A block
// from L2 at 59 GB/s, faster than the straight copy packs 1 MiB of B from L3, 36-40 GB/s.)
template <typename T, int64_t W, CpuCapability kLevel>
constexpr TransposePack<T> transposing_pack() {
#ifdef TINYTORCH_GEMM_X86
  if constexpr (kLevel != CpuCapability::kDefault && std::is_same_v<T, float>) {
    return gemm::pack_transposed_avx2<W>;
  }
#endif
  return pack_transposed_portable<T, W>;
}

// Packs `width` lines of a strip of op(X), src(w, p) = src[w * w_stride + p * p_stride] for
// w < width and p < kc, into ceil(width / W) slivers of W x kc, one after the other (sliver s at
// dst + s * W * kc, holding lines s * W ...). The lanes of a last, ragged sliver past `width` are
// filled with zeros, so that the micro-kernel can always compute a full tile.
template <typename T, int64_t W, CpuCapability kLevel>
void pack_slivers(int64_t kc, int64_t width, const T* src, int64_t w_stride, int64_t p_stride,
                  T* dst) {
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
    // of every Linear layer, x · W^T): a transpose, in registers where the CPU has AVX2.
    constexpr TransposePack<T> pack_transposed = transposing_pack<T, W, kLevel>();
    for (int64_t s = 0; s < full; ++s) pack_transposed(kc, line(s), w_stride, dst + s * W * kc);
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
// Micro-kernels: see MicroKernel in gemm_kernels.h for the contract. They always compute a full
// MR x NR tile; the macro-kernel deals with ragged edges. The SIMD ones are in gemm_avx2.cpp and
// gemm_avx512.cpp (one template, gemm_simd.h).
// ---------------------------------------------------------------------------------------------

// bias + j, or null when there is no bias row: the part of the row a block of columns from j on
// adds.
template <typename T>
const T* bias_from(const T* bias, int64_t j) {
  return bias == nullptr ? nullptr : bias + j;
}

// c[j] = alpha * acc[j] + (beta * c[j] + bias[j]) for j < n, with only the terms there are: c is
// not read when beta == 0, and bias (null: none) is what the product is added to — the same
// additions, so the same bits, as when the bias had been copied into c and beta were 1. Every
// update of C outside the SIMD tiles (the portable kernel, ragged tiles, the one-row GEMM).
template <typename T>
void store_row(int64_t n, const T* acc, T alpha, T beta, const T* bias, T* c) {
  for (int64_t j = 0; j < n; ++j) {
    if (bias == nullptr) {
      c[j] = beta == T(0) ? alpha * acc[j] : alpha * acc[j] + beta * c[j];
    } else {
      c[j] = alpha * acc[j] + (beta == T(0) ? bias[j] : beta * c[j] + bias[j]);
    }
  }
}

// Portable micro-kernel: plain loops, one row of the tile at a time. The NR accumulators of a row
// fit in registers, and the fixed-length j loop is what the compiler vectorises: with SSE2 at -O3
// this runs at ~15-20 GFLOP/s, a quarter of the AVX2 kernel (less at -O2, where GCC vectorises
// less eagerly). Used when the CPU lacks AVX2/FMA or TINYTORCH_CPU_CAPABILITY=default.
template <typename T, int64_t MR, int64_t NR>
void microkernel_portable(int64_t kc, const T* a, const T* b, int64_t ldb, T alpha, T beta,
                          const T* bias, T* c, int64_t ldc) {
  for (int64_t i = 0; i < MR; ++i) {
    T acc[NR] = {};
    for (int64_t p = 0; p < kc; ++p) {
      const T a_ip = a[p * MR + i];
      for (int64_t j = 0; j < NR; ++j) acc[j] += a_ip * b[p * ldb + j];
    }
    store_row(NR, acc, alpha, beta, bias, c + i * ldc);
  }
}

// Portable row kernel (RowKernel in gemm_kernels.h): each acc[j] adds a[p] · op(B)(p, j) in p
// order from 0, with a separate multiply and add, as microkernel_portable does.
template <typename T>
void gemv_row_portable(int64_t kc, int64_t n, const T* a, const T* b, int64_t rs, int64_t cs,
                       T* acc) {
  for (int64_t j = 0; j < n; ++j) {
    T s = T(0);
    for (int64_t p = 0; p < kc; ++p) s += a[p] * b[p * rs + j * cs];
    acc[j] = s;
  }
}

// ---------------------------------------------------------------------------------------------
// Run-time dispatch: which kernels this CPU runs.
// ---------------------------------------------------------------------------------------------

// The highest level this CPU supports, checked once. (__builtin_cpu_supports also checks that the
// operating system saves the wide registers on a context switch.)
CpuCapability cpu_capability_of_this_cpu() {
#ifdef TINYTORCH_GEMM_X86
  static const CpuCapability level = [] {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
      return CpuCapability::kDefault;
    }
    return __builtin_cpu_supports("avx512f") ? CpuCapability::kAvx512 : CpuCapability::kAvx2;
  }();
  return level;
#else
  return CpuCapability::kDefault;
#endif
}

// The cap set by TINYTORCH_CPU_CAPABILITY (any case), or the highest level when it is unset or
// empty.
CpuCapability cpu_capability_from_env() {
  const char* env = std::getenv("TINYTORCH_CPU_CAPABILITY");
  if (env == nullptr || *env == '\0') return CpuCapability::kAvx512;
  std::string v(env);
  std::transform(v.begin(), v.end(), v.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  TT_CHECK_VALUE(v == "DEFAULT" || v == "AVX2" || v == "AVX512",
                 "TINYTORCH_CPU_CAPABILITY must be 'default', 'avx2' or 'avx512', got '", env, "'");
  return v == "AVX512" ? CpuCapability::kAvx512
         : v == "AVX2" ? CpuCapability::kAvx2
                       : CpuCapability::kDefault;
}

// Packs `width` lines of a strip of op(X) (In: what A and B hold) into W-wide slivers of P (what
// the micro-kernel reads), as pack_slivers does.
template <typename In, typename P>
using SliverPack = void (*)(int64_t kc, int64_t width, const In* src, int64_t w_stride,
                            int64_t p_stride, P* dst);

// What gemm_blocked runs for one kind of GEMM: A and B hold In, the slivers P, C and the sums T.
// float and double pack as they are (In = P = T); bfloat16 is widened to float by the packs of
// the levels without AVX-512 BF16, and packed in pairs for vdpbf16ps by that level's.
template <typename In, typename P, typename T>
struct GemmKernels {
  MicroKernel<P, T> micro;
  SliverPack<In, P> pack_a;  // MR-wide slivers
  SliverPack<In, P> pack_b;  // NR-wide slivers
  // The bottom edge's tiles of fewer than MR rows (null: micro into a buffer, then merged).
  EdgeKernel<P, T> edge = nullptr;
  // Tiles that read op(A) in place, unpacked (null: A is always packed; see "A in place"): op(A)
  // = Aᵀ (its columns) or op(A) = A (its rows).
  AInPlaceKernel<P, T> a_columns_in_place = nullptr;
  AInPlaceKernel<P, T> a_rows_in_place = nullptr;
  // micro with C's full tiles streamed around the caches (null: never streamed; see "Streaming
  // C").
  MicroKernel<P, T> micro_streamed = nullptr;
};

template <typename T, CpuCapability kLevel, bool kStream = false>
MicroKernel<T> microkernel_for() {
  constexpr int64_t MR = Blocking<T, kLevel>::MR, NR = Blocking<T, kLevel>::NR;
#ifdef TINYTORCH_GEMM_X86
  if constexpr (kLevel == CpuCapability::kAvx2) {
    return gemm::microkernel_avx2<T, MR, NR, kStream>;
  }
  if constexpr (kLevel == CpuCapability::kAvx512) {
    return gemm::microkernel_avx512<T, MR, NR, kStream>;
  }
#endif
  if constexpr (kStream) return nullptr;  // the portable level stores C through the caches
  return microkernel_portable<T, MR, NR>;
}

template <typename T, CpuCapability kLevel>
EdgeKernel<T> edge_microkernel_for() {
#ifdef TINYTORCH_GEMM_X86
  constexpr int64_t MR = Blocking<T, kLevel>::MR, NR = Blocking<T, kLevel>::NR;
  if constexpr (kLevel == CpuCapability::kAvx2) return gemm::edge_microkernel_avx2<T, MR, NR>;
  if constexpr (kLevel == CpuCapability::kAvx512) return gemm::edge_microkernel_avx512<T, MR, NR>;
#endif
  return nullptr;
}

template <typename T, CpuCapability kLevel, gemm::ARead kA>
AInPlaceKernel<T> a_in_place_microkernel_for() {
#ifdef TINYTORCH_GEMM_X86
  constexpr int64_t MR = Blocking<T, kLevel>::MR, NR = Blocking<T, kLevel>::NR;
  if constexpr (kLevel == CpuCapability::kAvx2) {
    return gemm::a_in_place_microkernel_avx2<T, MR, NR, kA>;
  }
  if constexpr (kLevel == CpuCapability::kAvx512) {
    return gemm::a_in_place_microkernel_avx512<T, MR, NR, kA>;
  }
#endif
  return nullptr;
}

template <typename T, CpuCapability kLevel>
GemmKernels<T, T, T> kernels_for() {
  using Blk = Blocking<T, kLevel>;
  return {microkernel_for<T, kLevel>(),
          pack_slivers<T, Blk::MR, kLevel>,
          pack_slivers<T, Blk::NR, kLevel>,
          edge_microkernel_for<T, kLevel>(),
          a_in_place_microkernel_for<T, kLevel, gemm::ARead::kColumns>(),
          a_in_place_microkernel_for<T, kLevel, gemm::ARead::kRows>(),
          microkernel_for<T, kLevel, true>()};
}

// The row kernel (M = 1, unpacked) of one level.
template <typename T, CpuCapability kLevel>
RowKernel<T> row_kernel_for() {
#ifdef TINYTORCH_GEMM_X86
  if constexpr (kLevel == CpuCapability::kAvx2) return gemm::gemv_row_avx2<T>;
  if constexpr (kLevel == CpuCapability::kAvx512) return gemm::gemv_row_avx512<T>;
#endif
  return gemv_row_portable<T>;
}

// ---------------------------------------------------------------------------------------------
// Macro-kernel: loops 2 and 1 of the nest, over the micro-tiles of one MC x NC block of C.
//
//   a_packed: mc x kc, in MR-row slivers (from pack_slivers), each MR x depth
//   b:        kc x nc of op(B): the sliver of columns jr .. jr+NR-1 starts at b + jr * b_col and
//             its k steps are b_step apart — packed by pack_slivers (b_col = depth, b_step =
//             NR * KD), or op(B) itself read in place (b_col = 1, b_step = its row stride; whole
//             slivers only, since a tile reads NR columns)
//   c:        mc x nc block of C, row stride ldc
// where depth = kc rounded up to a multiple of KD (the k values of one micro-kernel step).
//
// Full tiles go straight to the micro-kernel, and so do the bottom edge's tiles of mr < MR rows
// where the level has an edge kernel (it computes just those rows). Any other ragged tile (the
// right edge; the bottom edge without an edge kernel) is computed into a local MR x NR buffer
// (the packed zero padding makes that safe) and only its valid part is merged into C.
// ---------------------------------------------------------------------------------------------
// The valid mr x nr part of a ragged tile computed into `tile` (row stride NR), merged into C
// row by row (store_row).
template <int64_t NR, typename T>
void merge_tile(int64_t mr, int64_t nr, const T* tile, T alpha, T beta, const T* bias, T* c,
                int64_t ldc) {
  for (int64_t i = 0; i < mr; ++i) store_row(nr, tile + i * NR, alpha, beta, bias, c + i * ldc);
}

template <int64_t MR, int64_t NR, int64_t KD, typename In, typename P, typename T>
void macro_kernel(int64_t mc, int64_t nc, int64_t kc, const P* a_packed, gemm::ARead a_read,
                  int64_t lda, const P* b, int64_t b_col, int64_t b_step, T alpha, T beta,
                  const T* bias, T* c, int64_t ldc, const GemmKernels<In, P, T>& kernels,
                  bool stream_c) {
  // Full packed tiles stream C when asked (see "Streaming C"); the others store it.
  const MicroKernel<P, T> kernel = stream_c ? kernels.micro_streamed : kernels.micro;
  const EdgeKernel<P, T> edge = kernels.edge;
  const int64_t depth = round_up(kc, KD);
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t nr = std::min(NR, nc - jr);
    const P* b_sliver = b + jr * b_col;          // depth x NR
    const T* bias_sliver = bias_from(bias, jr);  // NR, or null
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t mr = std::min(MR, mc - ir);
      T* c_tile = c + ir * ldc + jr;         // mr x nr
      if (a_read != gemm::ARead::kPacked) {  // a_packed is op(A)(0, 0) itself, read in place
        const bool columns = a_read == gemm::ARead::kColumns;
        // op(A) = Aᵀ: kc steps of mr values, lda apart; op(A) = A: mr rows of kc values.
        const P* a_tile = a_packed + ir * (columns ? 1 : lda);
        const AInPlaceKernel<P, T> tile_kernel =
            columns ? kernels.a_columns_in_place : kernels.a_rows_in_place;
        if (nr == NR) {
          tile_kernel(mr, kc, a_tile, lda, b_sliver, b_step, alpha, beta, bias_sliver, c_tile, ldc);
          continue;
        }
        alignas(64) T tile[MR * NR];
        tile_kernel(mr, kc, a_tile, lda, b_sliver, b_step, T(1), T(0), nullptr, tile, NR);
        merge_tile<NR>(mr, nr, tile, alpha, beta, bias_sliver, c_tile, ldc);
        continue;
      }
      const P* a_sliver = a_packed + ir * depth;  // MR x depth
      if (mr == MR && nr == NR) {
        kernel(kc, a_sliver, b_sliver, b_step, alpha, beta, bias_sliver, c_tile, ldc);
        continue;
      }
      if (nr == NR && edge != nullptr) {
        edge(mr, kc, a_sliver, b_sliver, b_step, alpha, beta, bias_sliver, c_tile, ldc);
        continue;
      }
      alignas(64) T tile[MR * NR];
      kernels.micro(kc, a_sliver, b_sliver, b_step, T(1), T(0), nullptr, tile, NR);
      merge_tile<NR>(mr, nr, tile, alpha, beta, bias_sliver, c_tile, ldc);
    }
  }
}

// C = beta * C (+ bias), for the cases where there is no product to add (K == 0 or alpha == 0).
template <typename T>
void scale_c(int64_t M, int64_t N, T beta, const T* bias, T* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    T* row = C + i * ldc;
    if (beta == T(0)) {  // write-only: NaNs in C must not survive
      if (bias == nullptr) {
        std::fill(row, row + N, T(0));
      } else {
        std::copy(bias, bias + N, row);
      }
    } else {
      for (int64_t j = 0; j < N; ++j)
        row[j] = bias == nullptr ? beta * row[j] : beta * row[j] + bias[j];
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
// Threads: a team that splits the packing and balances the blocks of C as it goes.
//
// One team (parallel_team, core/parallel.h) runs the whole loop nest. Each rank-KC update
// ("step": one (jc, pc) pair) is
//
//   1. pack: the step's B panel is cut into one home range of slivers per member, and each range
//      is packed into the shared panel by the first member that needs it (its own, normally);
//   2. compute: C[:, jc : jc+nc] is cut into units of (MC rows) x (a few NR slivers). Each member
//      takes the units of its home range first, in order; when they run out, it takes units of
//      the other ranges, from the far end. A member packs the A block of a unit into its own
//      buffer, and keeps it while its next unit has the same rows.
//
//        columns:   | home range of member 0    | home range of member 1    |
//        row block 0|  0->  0->  0->  0->       |  1->  1->  1->  1->       |
//        row block 1|  0->  0->  0->  0->       |  1->  1->  1->  1->       |
//        row block 2|  0->  0->  0->  0->  <-1  |  1->  1->  1->  1->       |
//                                    member 1 ran out of its own units ^ and took one of member 0's
//
// Why not give each thread a fixed half of C? Because the two cores of a VM are rarely equally
// fast. On the 2-core Zen 3 course VM the 1-thread GEMM measured 63-66 GFLOP/s pinned to CPU 0
// and 72-74 pinned to CPU 1 (`taskset -c`), the gap being the interrupts and host work that land
// on CPU 0. With fixed halves the fast core waits for the slow one, and 2 threads give at most
// 2 x 63 rather than 63 + 73. A unit takes ~50 us, so all members finish within about one unit of
// each other.
//
// Why home ranges, rather than one shared list of units? A member mostly reads the B slivers it
// packed itself, which are still in its own core's caches. Reading slivers that the other core
// just wrote costs a transfer between the cores' caches: with one shared list (each unit going to
// whichever thread asked first), N = 2048 ran 15% slower than fixed halves in an interleaved run
// on the course VM.
//
// Home ranges of columns or of rows? Above, each member packs its share of B, but every A block:
// for a square N = 512 on the Zen 5 course VM, that is 1 MiB of A per thread and call, where one
// thread alone packs 1 MiB of A and 1 MiB of B, and the copies grew from 8-11% of one thread's time
// to 15-20% of each of two threads' (rdtsc counters in a scratch copy of this file). So when
// packing all of op(B) costs less than packing all of op(A) (M x K against K x N values, a
// transposing pack counting twice, see gemm_blocked), the team turns the picture: home ranges of
// row blocks, every member packing the whole B panel of a step into a buffer of its own, and each
// A block packed once. No member then reads what another packed, so a thief needs nothing but its
// own panel. 2 threads, GFLOP/s, rows vs columns, three runs each: C = A B at N = 512 349-362 vs
// 313-321, N = 1024 351-361 vs 329-344; A^T B at N = 512 347-351 vs 318-322. Sharing one panel
// instead, each thread packing half of it as in the column split, ran 0.90x as fast at N = 512 and
// 0.97x at N = 1024 (interleaved A/B, 40 rounds): reading what the other vCPU just wrote costs
// more than packing it again.
//
// Nobody waits for a member that has not started. On a busy machine the OS may keep a member off
// every core for a whole time slice (milliseconds): here member 1 never got a core during the call.
//
//   claimed, not assigned (this file)         assigned per thread (an OpenMP team, a barrier)
//   core 1: member 0 |0 0 0 0 1 1 1 1| done   core 1: thread 0 |0 0 0 0|...waits...........|1 1|
//   core 0: (another program's time slice)    core 0: (another program)  ...  thread 1 runs ^
//           member 1 wakes up later, finds    one call: 4 units of work + a time slice of waiting
//           the team closed, does nothing
//
// So every piece of work is *claimed*, never assigned:
//   * the units of a range, by one compare-and-swap on its queue. The caller fills the queues of
//     every step before the team starts, so a member that has not started owns nothing;
//   * the packing of a range's part of the shared B panel, by one compare-and-swap on its flag,
//     by whoever first wants that range's units;
// and a member waits only for work that a running member claimed (a "dataflow" schedule, no
// barrier):
//   * a range's units of step s may start once its units of earlier steps are done: those of the
//     same column panel update the same elements of C, and must do so in the order of the steps;
//   * with two shared panels (the next step is packed while this one is computed), a range's part
//     of the panel of step s is overwritten only once its units of step s - 2 are done.
// While one range is not ready, a member works on any other that is. The caller (member 0) alone
// can thus finish the call, and returns as soon as it has and the members inside a unit are out
// (parallel_team). A member the OS stops in the middle of a unit still holds up the end of the
// call; with units of ~50 us that happens rarely, and the waiting caller sleeps (it does not spin),
// so that a member the OS put on the caller's own core gets it.
//
// Each C element is still updated by one thread at a time, in the order of the steps, so the sum
// over k is done in the same order whatever the number of threads or the order the units are
// taken in: the result is bitwise identical. (The units are cut for the team the call asked for,
// whoever turns up.)
// ---------------------------------------------------------------------------------------------

// A unit of work holds about this many multiply-adds (~50 us on one Zen 3 core): small enough that
// threads finish close together, large enough that taking a unit (one compare-and-swap) is
// free.
constexpr double kMultiplyAddsPerUnit = 2.0 * 1024 * 1024;
// ... and each step has at least this many units per thread, so the last one is a small part.
constexpr int64_t kMinUnitsPerThread = 4;

// Waiting for work a running member claimed: a few pauses (a unit takes tens of microseconds),
// then a yield of the core after each look, in case the member waited for needs it (the OS may
// have put two members, or a member and another program, on one core).
void back_off(int& idle) {
  if (idle++ < 256) {
#ifdef TINYTORCH_GEMM_X86
    _mm_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}

// The units of one home range of one step: the owner takes them from the front, others from the
// back (so a thief works on other rows than the owner, and packs another A block). Both ends live
// in one 64-bit word, so one compare-and-swap claims a unit.
// NOTE: unit numbers must fit in 32 bits. A range has at most m_blocks * NC / NR units, about
// M * N / 1000 for large M: 2^32 units would need a C of 4 * 10^12 elements.
class WorkQueue {
 public:
  void reset(int64_t units) { ends_.store(static_cast<uint64_t>(units) << 32); }
  bool empty() const {
    const uint64_t ends = ends_.load(std::memory_order_relaxed);
    return (ends & 0xffffffffU) >= (ends >> 32);
  }
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

// What the team shares about one home range in one step, on a cache line of its own, so that
// claiming in one range does not slow down the members reading another.
struct alignas(64) RangeOfStep {
  WorkQueue queue;
  std::atomic<int> pack{0};  // its part of the shared B panel: kUnpacked, kPacking or kPacked
};
enum PackState : int { kUnpacked, kPacking, kPacked };

// ... and about one home range over the whole call.
struct alignas(64) RangeProgress {
  std::atomic<int64_t> done{0};  // units computed so far (all steps, any member)
};

// The calling thread's team state for `steps` steps of `ranges` home ranges each, grown on demand
// like the packing buffers; the caller resets it before the team starts.
struct TeamState {
  RangeOfStep* steps;     // [steps][ranges]
  RangeProgress* ranges;  // [ranges]
};
TeamState thread_local_team(int64_t steps, int ranges) {
  thread_local std::unique_ptr<RangeOfStep[]> of_step;
  thread_local std::unique_ptr<RangeProgress[]> progress;
  thread_local int64_t step_capacity = 0;
  thread_local int range_capacity = 0;
  if (steps * ranges > step_capacity) {
    of_step = std::make_unique<RangeOfStep[]>(static_cast<size_t>(steps * ranges));
    step_capacity = steps * ranges;
  }
  if (ranges > range_capacity) {
    progress = std::make_unique<RangeProgress[]>(static_cast<size_t>(ranges));
    range_capacity = ranges;
  }
  return {of_step.get(), progress.get()};
}

// A GEMM with M = 1 (a Linear on one token, as in decoding with a KV cache): no packing. The row
// kernel computes each element's k-sum in the micro-kernel's order, over the same KC blocks, and
// the update below is the macro-kernel's for a ragged tile, so the row has the same bits as row i
// of any larger product containing it (what keeps cached and uncached decoding identical; with
// alpha = 1 and beta 0 or 1, as a Linear calls it, a full tile's fused update agrees too). Large
// rows split their columns over the threads.
template <typename T, CpuCapability kLevel>
void gemm_one_row(int64_t N, int64_t K, T alpha, StridedView<T> a, StridedView<T> b, T beta,
                  const T* bias, T* C, RowKernel<T> row) {
  constexpr int64_t KC = Blocking<T, kLevel>::KC;
  constexpr int64_t kChunk = 256;  // columns per accumulator buffer (1-2 KiB, on the stack)
  const T* a_row = a.data;
  if (a.cs != 1) {  // op(A) = Aᵀ: its row is a strided column of A
    T* copy = thread_local_buffer<T, Operand::kA>(K);
    for (int64_t p = 0; p < K; ++p) copy[p] = *a.at(0, p);
    a_row = copy;
  }
  const auto columns = [&](int64_t chunk_begin, int64_t chunk_end) {
    for (int64_t chunk = chunk_begin; chunk < chunk_end; ++chunk) {
      const int64_t j0 = chunk * kChunk, n = std::min(kChunk, N - j0);
      T acc[kChunk];
      for (int64_t pc = 0; pc < K; pc += KC) {
        const int64_t kc = std::min(KC, K - pc);
        row(kc, n, a_row + pc, b.at(pc, j0), b.rs, b.cs, acc);
        // The first rank-KC update stores beta * C (+ bias); the others add onto C.
        store_row(n, acc, alpha, pc == 0 ? beta : T(1), pc == 0 ? bias_from(bias, j0) : nullptr,
                  C + j0);
      }
    }
  };
  const int64_t chunks = ceil_div(N, kChunk);
  const double multiply_adds = static_cast<double>(N) * static_cast<double>(K);
  if (chunks == 1 || multiply_adds <= kMinMultiplyAddsForThreads<kLevel> || in_parallel_region()) {
    columns(0, chunks);
  } else {
    parallel_for(0, chunks, 1, columns);
  }
}

// ── B in place ──────────────────────────────────────────────────────────────────────────────
// Packing op(B) pays off when each sliver is then read many times, once per MR rows of A. With few
// rows (an RNN step's backward: grad [32, 4H] times W_hh) the pack copies the whole panel for
// ceil(M / MR) reads: in nn::LSTM's training step (H = 235, 1 thread) that copy was 8% of the
// time, against ~18% for the multiply it fed, and 2% once B was read in place. Where op(B)
// is B with contiguous rows (no transpose: the micro-kernel loads NR adjacent values per step), a
// single-thread call reads B's slivers in place (where that pays: "Which CPUs read in place"): the
// first pass over a sliver (KC x NR: 16 to 64 KiB) brings it near the core and the other passes
// find it there, so the copy would cost as much as a pass. Only a ragged last sliver is packed (its
// tile reads NR columns; the padding is zeros). The panel's rows must lie within
// kInPlaceMaxSpanBytes, for the page walks: a row stride of 4096 floats would spread a KC-row panel
// over 8 MiB. (2 MiB rather than 1: a weight gradient whose x is [2048, 1024] or [2048, 768], and
// 64 x 1024 x 1024, ran at 111-115 against 102-108 GFLOP/s, one thread, best of 60, 2-vCPU Zen 4;
// at 4 MiB some products of N = 2048 ran 2-4% slower, others 13% faster.) Not in a team: its
// members share packed panels. (First only for at most 4 row
// slivers; then for any number of passes over a sliver of up to 16 KiB, then 64 KiB, which admits
// every level's KC-deep sliver. A 1×1 conv's per-image product, w [128 x 64] times the image [64 x
// 256] in 11 passes, spent 13% of its time packing the image and ran 1.07x as fast in place; the
// MLP's 64 x 256 x 128 products 1.03-1.05x; a Linear's weight gradient dW = dyᵀ · x, which reads x
// [B·T, in] as op(B), 1.02-1.13x on the 2017 GPT's shapes, its dx products 1.00-1.05x, square N =
// 256 and 384 1.02-1.03x, N = 512 1.00x — thread CPU time, min of 30 calls, 2-vCPU Zen 4.)
constexpr int64_t kInPlaceMaxSpanBytes = int64_t{2} << 20;

// ── A in place ──────────────────────────────────────────────────────────────────────────────
// The micro-kernel broadcasts one value of each of its MR rows of op(A) per step, so where op(A)
// = Aᵀ, whose MR values of a step lie side by side in a row of A, it can read them there: a
// Linear's weight gradient dW = dyᵀ · x, whose A is dy [B·T, out] read by columns. Packing that
// A block copied each row's few values to a sliver (a strided gather from memory: 2% of the 2017
// GPT's 1-thread step), and the B sliver streams from L2 anyway when kc = 512. So a single-thread
// call reads op(A) = Aᵀ in place where its kc rows lie within kAColumnsMaxSpanBytes (on the CPUs
// that read B in place); the tiles of a ragged bottom edge read only their rows. The GPT's dW
// products ran 1.03-1.20x as fast, square Aᵀ·B 0.99-1.04x (thread CPU time, min of 30, 2-vCPU Zen
// 4). The span is wider than B's: a tile reads only MR values (one or two lines) of each of its kc
// rows, and 8 MiB of rows is 2048 pages, within the second-level TLB of the CPUs measured (Zen 4:
// 3072 entries). Against a 1 MiB limit, dW products of M x N x K = 768 to 2048 x 256 x 2048 (the
// d_model-256 GPT's and wider) ran 110-114 against 104-109 GFLOP/s, 1024 x 128 x 2048 115 against
// 98, 3072 x 256 x 2048 and 4096 x 256 x 1024 (spans of 6 and 8 MiB) 108 against 103 (best of 20
// to 60 calls, one thread, 2-vCPU Zen 4); 4096 x 1024 x 1024 the same either way. Not in a team:
// its members pack A blocks once.
constexpr int64_t kAColumnsMaxSpanBytes = int64_t{8} << 20;

// op(A) = A (rows contiguous along k: the input gradient dy · W, the forward x · Wᵀ) is read in
// place only when N is narrow, at most kRowsInPlaceMaxN: a packed A sliver is then read by few B
// slivers (N / NR), so the transposing pack it costs is paid for few tiles. Read in place, its MR
// rows are MR streams, which do as well as the sliver at these widths and worse beyond (the
// forward products of the GPT, N = 384 to 1024: 0.92x). Single thread, M x N x K = 2048 x 128 x
// 384 (the 2017 GPT's qkv input gradient) ran at 116 against 110 GFLOP/s packed, 2048 x 96 x 256
// 114 against 107, 2048 x 256 x 768 114 against 110, N = 512 and 768 within 1% either way (best
// of 200 calls, 2-vCPU Zen 4). Not when A's row stride is a multiple of kL1WayBytes: the MR rows
// then fall into the same L1 sets and evict each other (2048 x 256 x 1024, lda = 1024 floats: 103
// against 111 GFLOP/s).
constexpr int64_t kRowsInPlaceMaxN = 256;
// One way of a 32 KiB, 8-way L1 data cache (64 sets of 64-byte lines): addresses this many bytes
// apart map to the same set.
constexpr int64_t kL1WayBytes = 4096;

// ── Streaming C ─────────────────────────────────────────────────────────────────────────────
// A store to a line that is not in the cache first reads it from memory (write-allocate), then
// holds it there, evicting another. For a C written once (beta = 0, and K within one rank-KC
// update, so that each element is stored once, by its tile) and several times the size of L2,
// neither pays: the lines read are overwritten whole, and most of C has left the caches before
// anything reads it. So its full tiles are streamed (non-temporal stores: written around the
// caches, nothing read first). In the 2017 GPT's step that is fc's forward output and proj's input
// gradient ([2048, 512], 4 MiB each), both read next by GELU, whose arithmetic hides the reads;
// in-process A/B of the one-thread training step (medians of 60 interleaved steps, 2-vCPU Zen 4):
// 1.2 and 1.8 ms less a 117-121 ms step with this 4 MiB threshold; 1.0 ms at 2 MiB (c_attn's 3
// MiB forward output streamed too); 0.7 and 1.0 at 1 MiB; streaming only the outputs without a
// bias row (the input gradients): 0.9-1.2 ms.
constexpr double kStreamMinBytes = double{4 << 20};

// ── Which CPUs read in place ────────────────────────────────────────────────────────────────
// The rules above were measured faster on AMD (the 2-vCPU Zen 4 figures above) and slower on
// Intel: on a 2-vCPU Xeon with AVX-512 (family 6, model 167) the 2017 GPT's training step at one
// thread ran 6.6% faster with both operands packed (20,548 vs 19,271 tokens/s, mean of 3
// alternating runs; 3-5% with either one alone packed), and Aᵀ·B at n = 512 reached 162-170
// GFLOP/s packed against 142-147 in place. The prefetchers differ, and so does what pays; so a
// one-thread call reads op(A) = Aᵀ by columns, and op(B), in place by default on an AMD CPU, and
// on others only where op(A) and op(B) together fit in kInPlaceSmallBytes: after the first pass
// they sit in L2 (2 MiB on those Xeons), whatever the prefetcher does, and packing is a large
// share of a product that small (a 1×1 convolution's per-image products: w [128 x 64] times the
// image [64 x 256], 96 KiB). On a 2-vCPU Xeon, family 6 model 207, `ops_bench` alternating default
// and packed three times each: conv2d 64x64x16x16 with w 128x64x1x1 forward+backward 7.02-7.39 ms
// in place against 8.05-10.2 packed at one thread, 3.71-4.95 against 5.00-7.61 at two (its images
// are split over the threads, each product on one); the forward 2.30-2.36 against 2.31-3.53.
//
// A's rows where N is narrow (kRowsInPlaceMaxN) are read in place on every CPU: saving their
// transposing pack paid on that Xeon too. Each rule alone forced on for every size there
// (`gpt_bench --threads 1 --precision float32`, alternating): the 2017 GPT 18,476-19,627 tokens/s
// with A's rows in place against 17,614-18,594 packed (7 runs each); the 1986 MLP's step (its
// forward x · Wᵀ has N = 256 and 128) 0.745-0.772 ms against 0.978-0.982 with SGD; LeNet-5's
// 2.89-3.00 against 3.07; the d_model-256 GPT and the ResNet within the noise either way; square
// SGEMM at n = 256 144-149 against 141-143 GFLOP/s. A by columns: 17,355-18,870 against
// 18,180-18,594; B: 18,195-18,770 — no gain, so those two keep the vendor rule.
//
// TINYTORCH_GEMM_IN_PLACE=1 or 0 forces every rule on or off for every size (the tests check both
// paths on any CPU); the bits are the same either way.
constexpr double kInPlaceSmallBytes = double{256 << 10};

// Which in-place rules a one-thread call may use, for operands op(A) and op(B) of operand_bytes
// together.
struct InPlaceRules {
  bool a_rows;           // op(A) = A, by rows (where N ≤ kRowsInPlaceMaxN)
  bool a_columns_and_b;  // op(A) = Aᵀ by columns, and op(B)
};
InPlaceRules reads_in_place(double operand_bytes) {
  // (One read of the environment per call: a batch-1 forward makes a GEMM call per layer.)
  if (const std::optional<bool> forced = forced_rule("TINYTORCH_GEMM_IN_PLACE")) {
    return {*forced, *forced};
  }
  return {true, amd_cpu() || operand_bytes <= kInPlaceSmallBytes};
}

// The whole GEMM with the kernels and block sizes Blk (a Blocking) of one level; M, N > 0, K > 0,
// alpha != 0.
template <typename Blk, CpuCapability kLevel, typename In, typename P, typename T>
void gemm_blocked(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const In* A,
                  int64_t lda, const In* B, int64_t ldb, T beta, const T* bias, T* C, int64_t ldc,
                  const GemmKernels<In, P, T>& kernels) {
  constexpr int64_t NR = Blk::NR;
  static_assert(Blk::KC % Blk::KD == 0, "every rank-KC update but the last starts a whole step");

  // op(A) is M x K and op(B) is K x N, whichever way they are stored.
  const StridedView<In> a = trans_a ? StridedView<In>{A, 1, lda} : StridedView<In>{A, lda, 1};
  const StridedView<In> b = trans_b ? StridedView<In>{B, 1, ldb} : StridedView<In>{B, ldb, 1};

  // The threads this call may use: one for small problems (waking a helper costs microseconds).
  const double multiply_adds = static_cast<double>(M) * static_cast<double>(N) * K;
  const int threads = multiply_adds <= kMinMultiplyAddsForThreads<kLevel> || in_parallel_region()
                          ? 1
                          : get_num_threads();
  // Which operand every member packs in full (see "Threads"): B, with home ranges of row blocks,
  // when that copies less than packing all of A would; A, with home ranges of B slivers,
  // otherwise. A transposing pack (lines contiguous along k) counts twice. It is slower than a
  // straight copy (1 MiB from L3 on the Zen 5 VM: 1.2x the time for 12-wide slivers, 1.7x for
  // 32-wide ones), and the weight also favours the row split, whose A blocks are packed once:
  // against a weight of 1.2, 2 ran 0.98-1.03x as fast on 2 threads where the two pick differently
  // (M x 512 x 512 with M = 300, 384 and the mirror cases; paired runs).
  const auto pack_cost = [](bool transposing) { return transposing ? 2.0 : 1.0; };
  const bool rows_cheaper = static_cast<double>(M) * pack_cost(a.cs == 1) >=
                            static_cast<double>(N) * pack_cost(b.rs == 1);

  // Cut M into blocks of at most MC rows, all of (nearly) the same size, so that no block is a
  // thin leftover: e.g. M = 150 gives 78 + 72 rows rather than 144 + 6. When the threads are to
  // split the rows, into at least one block per thread.
  const int64_t min_blocks =
      threads > 1 && rows_cheaper ? std::min<int64_t>(threads, ceil_div(M, Blk::MR)) : 1;
  const int64_t mc_step =
      round_up(ceil_div(M, std::max(ceil_div(M, Blk::MC), min_blocks)), Blk::MR);
  const int64_t m_blocks = ceil_div(M, mc_step);
  const int64_t kc_max = std::min(K, Blk::KC);
  const int64_t depth_max = round_up(kc_max, Blk::KD);  // a sliver's k extent, packed
  const int64_t nc_max = std::min(N, Blk::NC);
  const int64_t steps_k = ceil_div(K, Blk::KC), steps = ceil_div(N, Blk::NC) * steps_k;

  // The team: never more members than the widest step has units to give. The work is cut for
  // this many members, however many turn up.
  const int team = static_cast<int>(std::min<int64_t>(threads, m_blocks * ceil_div(nc_max, NR)));
  const bool split_rows = team > 1 && rows_cheaper && m_blocks >= team;

  // Whether the tiles read op(A) in place rather than from packed slivers (see "A in place"),
  // and the micro-kernel op(B) ("B in place"): in a team of one only ("Which CPUs read in place").
  const InPlaceRules in_place =
      team == 1 ? reads_in_place((static_cast<double>(M) + static_cast<double>(N)) *
                                 static_cast<double>(K) * static_cast<double>(sizeof(In)))
                : InPlaceRules{false, false};
  const gemm::ARead a_read = [&] {
    if (!std::is_same_v<In, P>) return gemm::ARead::kPacked;
    if (in_place.a_columns_and_b && a.rs == 1 && kernels.a_columns_in_place != nullptr &&
        kc_max * a.cs * static_cast<int64_t>(sizeof(In)) <= kAColumnsMaxSpanBytes) {
      return gemm::ARead::kColumns;
    }
    if (in_place.a_rows && a.cs == 1 && kernels.a_rows_in_place != nullptr &&
        N <= kRowsInPlaceMaxN && a.rs * static_cast<int64_t>(sizeof(In)) % kL1WayBytes != 0) {
      return gemm::ARead::kRows;
    }
    return gemm::ARead::kPacked;
  }();
  const bool a_in_place = a_read != gemm::ARead::kPacked;
  // Whether C's full tiles are streamed around the caches (see "Streaming C").
  const bool stream_c =
      kernels.micro_streamed != nullptr && beta == T(0) && steps_k == 1 &&
      static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(sizeof(T)) >=
          kStreamMinBytes;
  // Whether the micro-kernel reads op(B) in place rather than from packed slivers (see "B in
  // place" below); then only a ragged last sliver of each step is packed.
  const bool b_in_place = std::is_same_v<In, P> && Blk::KD == 1 && in_place.a_columns_and_b &&
                          b.cs == 1 &&
                          kc_max * ldb * static_cast<int64_t>(sizeof(In)) <= kInPlaceMaxSpanBytes;

  // A unit is an (mc_step rows) x (unit_slivers * NR columns) block of C. A team of one takes
  // whole rows of blocks, exactly the classic single-threaded loop nest.
  const auto unit_slivers = [&](int64_t slivers) -> int64_t {
    if (team == 1) return slivers;
    const auto by_size =
        static_cast<int64_t>(kMultiplyAddsPerUnit / static_cast<double>(mc_step * kc_max * NR));
    const int64_t by_count = m_blocks * slivers / (kMinUnitsPerThread * team);
    return std::clamp<int64_t>(std::min(by_size, by_count), 1, slivers);
  };

  // The B panels: when the team splits the columns, shared, two of them (so the next step can be
  // packed while this one is still being computed); when it splits the rows, each member packs
  // the whole panel into its own buffer.
  const int64_t panel_size = round_up(nc_max, NR) * depth_max;
  const int panels = team == 1 || split_rows ? 1 : 2;
  P* b_panels = thread_local_buffer<P, Operand::kB>(panels * panel_size);

  // Step s covers columns [jc, jc + nc) of C. Its row blocks or its slivers are cut into one home
  // range per member, and each home range into units: every row block x every chunk of
  // unit_slivers() slivers of the range, numbered block by block.
  const auto step_columns = [&](int64_t s) {
    const int64_t jc = s / steps_k * Blk::NC;
    return std::pair{jc, std::min(Blk::NC, N - jc)};
  };
  const auto home = [&](int64_t count, int r) {
    const int64_t share = ceil_div(count, team);
    return std::pair{std::min(count, r * share), std::min(count, (r + 1) * share)};
  };
  const auto chunks_of = [](std::pair<int64_t, int64_t> range, int64_t per_unit) {
    return ceil_div(range.second - range.first, per_unit);
  };
  // A home range as (first row block, end row block) x (first sliver, end sliver) of step s.
  struct Range {
    std::pair<int64_t, int64_t> blocks, slivers;
  };
  const auto range_of = [&](int64_t slivers, int r) {
    return split_rows ? Range{home(m_blocks, r), {0, slivers}}
                      : Range{{0, m_blocks}, home(slivers, r)};
  };
  const auto units_of = [&](int64_t s, int r) {
    const int64_t slivers = ceil_div(step_columns(s).second, NR);
    const Range range = range_of(slivers, r);
    return (range.blocks.second - range.blocks.first) *
           chunks_of(range.slivers, unit_slivers(slivers));
  };
  // Units of range r in steps 0 ... s-1 (none for s <= 0). All column panels but the last are NC
  // wide.
  const auto units_before = [&](int64_t s, int r) -> int64_t {
    if (s <= 0) return 0;
    const int64_t full_panel_steps = std::min(s, (steps / steps_k - 1) * steps_k);
    return full_panel_steps * units_of(0, r) + (s - full_panel_steps) * units_of(steps - 1, r);
  };

  // Fill every queue before the team starts: a member that never starts then owns nothing.
  const TeamState shared = thread_local_team(steps, team);
  for (int64_t s = 0; s < steps; ++s) {
    for (int r = 0; r < team; ++r) {
      shared.steps[s * team + r].queue.reset(units_of(s, r));
      shared.steps[s * team + r].pack.store(kUnpacked, std::memory_order_relaxed);
    }
  }
  for (int r = 0; r < team; ++r) shared.ranges[r].done.store(0, std::memory_order_relaxed);

  parallel_team(team, [&](int member) {
    P* a_packed = thread_local_buffer<P, Operand::kA>(mc_step * depth_max);
    // This member's own B panel, when it packs all of it (each thread's buffer is its own).
    P* own_panel = split_rows ? thread_local_buffer<P, Operand::kB>(panel_size) : nullptr;
    int64_t own_panel_step = -1;  // the step whose panel own_panel holds

    for (int64_t s = 0; s < steps; ++s) {
      // (Two names, not a structured binding: the lambdas below capture them, which Clang 14
      // does not allow for bindings.)
      const std::pair<int64_t, int64_t> columns = step_columns(s);  // 5th loop
      const int64_t jc = columns.first, nc = columns.second;
      const int64_t pc = s % steps_k * Blk::KC, kc = std::min(Blk::KC, K - pc);  // 4th loop
      const int64_t depth = round_up(kc, Blk::KD);
      // The first rank-KC update stores beta * C (+ bias); the others add onto C.
      const T beta_pc = pc == 0 ? beta : T(1);
      const T* bias_pc = pc == 0 ? bias_from(bias, jc) : nullptr;
      // Columns [0, in_place) of the step are read in place, the rest from the packed panel.
      const int64_t in_place = b_in_place ? nc / NR * NR : 0;
      // kc x nc, in NR-column slivers
      P* b_packed = split_rows ? own_panel : b_panels + (s % panels) * panel_size;
      const int64_t slivers = ceil_div(nc, NR), per_unit = unit_slivers(slivers);
      RangeOfStep* of_step = shared.steps + s * team;

      // May the units of range r of step s start? Packs the B they need if nobody has yet.
      const auto ready = [&](int r) {
        const std::atomic<int64_t>& done = shared.ranges[r].done;
        if (split_rows) {
          if (done.load(std::memory_order_acquire) < units_before(s, r)) return false;
          if (own_panel_step != s) {  // pack all of op(B)[pc : pc+kc, jc : jc+nc]
            kernels.pack_b(kc, nc, b.at(pc, jc), b.cs, b.rs, own_panel);
            own_panel_step = s;
          }
          return true;
        }
        std::atomic<int>& pack = of_step[r].pack;
        int state = pack.load(std::memory_order_acquire);
        // Its part of the panel was last read by its units of step s - panels.
        if (state == kUnpacked &&
            done.load(std::memory_order_acquire) >= units_before(s - panels + 1, r) &&
            pack.compare_exchange_strong(state, kPacking, std::memory_order_acquire)) {
          const auto [first, end] = home(slivers, r);  // pack op(B)[pc : pc+kc, its columns]
          const int64_t from = std::max(first * NR, in_place), to = std::min(end * NR, nc);
          if (from < to) {
            kernels.pack_b(kc, to - from, b.at(pc, jc + from), b.cs, b.rs, b_packed + from * depth);
          }
          pack.store(state = kPacked, std::memory_order_release);
        }
        return state == kPacked && done.load(std::memory_order_acquire) >= units_before(s, r);
      };

      // Take units of the own home range from the front, then the others' from the back (the 3rd
      // loop, and part of the 2nd), until every unit of the step is taken.
      int64_t packed_block = -1;  // the block of rows a_packed holds in this step
      std::chrono::steady_clock::time_point idle_since;
      for (int idle = 0;;) {
        bool left = false, took = false;
        for (int v = 0; v < team; ++v) {
          const int r = (member + v) % team;
          WorkQueue& queue = of_step[r].queue;
          if (queue.empty()) continue;
          left = true;
          if (!ready(r)) continue;
          const Range range = range_of(slivers, r);
          const int64_t chunks = chunks_of(range.slivers, per_unit);
          for (int64_t u; (u = v == 0 ? queue.take_front() : queue.take_back()) >= 0;) {
            const int64_t block = range.blocks.first + u / chunks, ic = block * mc_step,
                          mc = std::min(mc_step, M - ic);
            const int64_t jr = (range.slivers.first + u % chunks * per_unit) * NR;
            const int64_t nr =
                std::min(per_unit * NR, std::min(range.slivers.second * NR, nc) - jr);
            if (!a_in_place && block != packed_block) {
              // Pack op(A)[ic : ic+mc, pc : pc+kc] (mc x kc).
              kernels.pack_a(kc, mc, a.at(ic, pc), a.rs, a.cs, a_packed);
              packed_block = block;
            }
            // The A block the tiles read: op(A)[ic : ic+mc, pc : pc+kc] in place, or packed.
            const P* a_block = a_in_place ? reinterpret_cast<const P*>(a.at(ic, pc)) : a_packed;
            const int64_t a_ld = a_read == gemm::ARead::kColumns ? a.cs : a.rs;
            // Columns [jr, split) in place (only when In is P), [split, jr + nr) packed.
            const int64_t split = std::clamp(in_place, jr, jr + nr);
            T* c_block = C + ic * ldc + jc;
            if (jr < split) {
              macro_kernel<Blk::MR, NR, Blk::KD>(mc, split - jr, kc, a_block, a_read, a_ld,
                                                 reinterpret_cast<const P*>(b.at(pc, jc + jr)), 1,
                                                 b.rs, alpha, beta_pc, bias_from(bias_pc, jr),
                                                 c_block + jr, ldc, kernels, stream_c);
            }
            if (split < jr + nr) {
              macro_kernel<Blk::MR, NR, Blk::KD>(mc, jr + nr - split, kc, a_block, a_read, a_ld,
                                                 b_packed + split * depth, depth, NR * Blk::KD,
                                                 alpha, beta_pc, bias_from(bias_pc, split),
                                                 c_block + split, ldc, kernels, stream_c);
            }
            shared.ranges[r].done.fetch_add(1, std::memory_order_release);
            took = true;
          }
        }
        if (idle > 0 && (took || !left)) {  // the wait is over: tell the team how long it took
          detail::add_waiting_time(std::chrono::steady_clock::now() - idle_since);
          idle = 0;
        }
        if (!left) break;
        if (!took) {
          if (idle == 0) idle_since = std::chrono::steady_clock::now();
          back_off(idle);  // every range left waits for a unit a running member holds
        }
      }
    }
    // Streamed stores are not ordered with later ones: fence them before the member reports
    // done (the caller reads C after every member has). Only x86 levels stream.
#ifdef TINYTORCH_GEMM_X86
    if (stream_c) _mm_sfence();
#endif
  });
}

// A float or double GEMM with the kernels of one level: one row, or the blocked loop nest.
template <typename T, CpuCapability kLevel>
void gemm_level(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                int64_t lda, const T* B, int64_t ldb, T beta, const T* bias, T* C, int64_t ldc) {
  if (M == 1) {
    const StridedView<T> a = trans_a ? StridedView<T>{A, 1, lda} : StridedView<T>{A, lda, 1};
    const StridedView<T> b = trans_b ? StridedView<T>{B, 1, ldb} : StridedView<T>{B, ldb, 1};
    return gemm_one_row<T, kLevel>(N, K, alpha, a, b, beta, bias, C, row_kernel_for<T, kLevel>());
  }
  gemm_blocked<Blocking<T, kLevel>, kLevel>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta,
                                            bias, C, ldc, kernels_for<T, kLevel>());
}

// The early outs, then the blocked GEMM of the level this call may use.
template <typename T>
void gemm_dispatch(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                   int64_t lda, const T* B, int64_t ldb, T beta, const T* bias, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == T(0)) {
    scale_c(M, N, beta, bias, C, ldc);
    return;
  }
  switch (get_cpu_capability()) {
    case CpuCapability::kAvx512:
      return gemm_level<T, CpuCapability::kAvx512>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                                                   beta, bias, C, ldc);
    case CpuCapability::kAvx2:
      return gemm_level<T, CpuCapability::kAvx2>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                                                 beta, bias, C, ldc);
    case CpuCapability::kDefault:
      break;
  }
  gemm_level<T, CpuCapability::kDefault>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta,
                                         bias, C, ldc);
}

// ---------------------------------------------------------------------------------------------
// The bfloat16 GEMM: C (float) = alpha · op(A) · op(B) + beta · C with A and B in bfloat16.
//
// The loop nest, the threads and the ragged edges are float's (gemm_blocked); only the packs and
// the micro-kernel change, since packing is where every element of A and B passes once per use of
// a block anyway:
//
//   AVX512_BF16          packs bfloat16 pairs (pack_pairs) for vdpbf16ps (gemm_avx512_bf16.cpp),
//                        which multiplies two k values per 32-bit lane: twice the multiply-adds
//                        of a float FMA per instruction, from half the bytes
//   AVX512, AVX2,        widen to float while packing (pack_widened: a 16-bit shift, exact), then
//   DEFAULT              run that level's float micro-kernel: the conversion costs O(MK + KN)
//                        rather than the O(MNK) of converting inside the micro-kernel, and the
//                        float kernels are reused as they are. AVX2 and AVX512 pack in one pass
//                        (gemm_avx2.cpp): each bfloat16 is read once and widened in a register on
//                        its way into the float sliver, so the pack reads half the bytes of
//                        float's. (Widening lines into a scratch buffer and then running float's
//                        pack, as DEFAULT and float16 still do, ran 0.91-1.00x the float GEMM
//                        on the AVX2 level; one pass runs 0.99-1.03x — bf16_gemm_bench with
//                        TINYTORCH_CPU_CAPABILITY=avx2, 512 to 2048 and a Linear, 1 and 2
//                        threads, three quiet runs on a 2-vCPU AMD EPYC Zen 4.)
//
// Every product of two bfloat16 values is exact in float32 (8 + 8 significant bits ≤ 24), so the
// only rounding is in the float32 sums, as in the float GEMM; tests/kernels/test_gemm_bf16.cpp
// bounds it by K · float32's epsilon against a float64 sum.
// NOTE: vdpbf16ps treats bfloat16 subnormal inputs (|x| < 2^-126) as zero and flushes subnormal
// sums to zero (it ignores MXCSR); the widening levels keep them. Values that small only matter
// where a whole dot product is that small.
// ---------------------------------------------------------------------------------------------

// float16 (gemm_half) takes the widening route at every level: there is no float16 dot-product
// instruction before AVX512_FP16, and F16C's vcvtph2ps widens exactly, so the float micro-kernel
// on widened slivers gives the float32 sums of the float16 inputs (products of two float16 values,
// 11 + 11 significant bits, are exact in float32 too).

// One line of n 16-bit values widened to float with level isa's conversion kernel (exact).
void widen(HalfIsa isa, int64_t n, const BFloat16* src, float* dst) {
  bf16_to_float(isa, n, src, dst);
}
void widen(HalfIsa isa, int64_t n, const Half* src, float* dst) {
  half_to_float(isa, n, src, dst);
}

// The 16-bit lines of a strip widened to float, `count` of them, each `kc` long, contiguous.
template <typename In, CpuCapability kLevel>
void widen_lines(int64_t kc, int64_t count, const In* src, int64_t stride, float* dst) {
  const HalfIsa isa = kLevel == CpuCapability::kDefault ? HalfIsa::kDefault : HalfIsa::kAvx2;
  for (int64_t w = 0; w < count; ++w) widen(isa, kc, src + w * stride, dst + w * kc);
}

// SliverPack from bfloat16 or float16 to float: pack_slivers' slivers, each value widened.
//
// bfloat16 on the AVX2 and AVX-512 levels: every whole sliver in one pass, each value read once
// as bfloat16 and widened in a register (gemm_avx2.cpp): lines contiguous along k (op(A) = A,
// op(B) = Bᵀ: a Linear's x · Wᵀ) through float's transpose of 4 lines x 8 steps, lines side by
// side (op(B) = B, op(A) = Aᵀ) a vector run of W values per step. The ragged last sliver takes the
// general loop below.
//
// float16, and the portable level: lines contiguous along k are widened W at a time into a scratch
// buffer with the vector conversion, then transposed by float's pack; otherwise each step's W
// values are read across the lines and widened one by one (bfloat16: a 16-bit shift). float16's
// scalar widening has branches (subnormals, inf/NaN), so where a step's W values are adjacent
// (w_stride = 1) each step is one call of the vector conversion instead.
template <typename In, int64_t W, CpuCapability kLevel>
void pack_widened(int64_t kc, int64_t width, const In* src, int64_t w_stride, int64_t p_stride,
                  float* dst) {
#ifdef TINYTORCH_GEMM_X86
  constexpr bool kOnePass = std::is_same_v<In, BFloat16> && kLevel != CpuCapability::kDefault;
#else
  constexpr bool kOnePass = false;
#endif
  int64_t first = 0;  // the first line left for the loops below
  if constexpr (kOnePass) {
    const int64_t full = width / W;
    if (w_stride == 1) {
      gemm::pack_widened_rows_avx2<W>(kc, full, src, p_stride, dst);
    } else {  // p_stride == 1 (see pack_slivers)
      for (int64_t s = 0; s < full; ++s) {
        gemm::pack_widened_transposed_avx2<W>(kc, src + s * W * w_stride, w_stride,
                                              dst + s * W * kc);
      }
    }
    first = full * W;
  } else if (p_stride == 1 && w_stride != 1) {
    float* lines = thread_local_buffer<float, Operand::kWidened>(W * kc);  // W x kc
    for (; first < width; first += W) {
      const int64_t count = std::min(W, width - first);
      widen_lines<In, kLevel>(kc, count, src + first * w_stride, w_stride, lines);
      pack_slivers<float, W, kLevel>(kc, count, lines, kc, 1, dst + first * kc);
    }
    return;
  }
  for (; first < width; first += W) {
    const int64_t count = std::min(W, width - first);
    const In* from = src + first * w_stride;
    float* to = dst + first * kc;
    if (std::is_same_v<In, Half> && w_stride == 1) {
      const HalfIsa isa = kLevel == CpuCapability::kDefault ? HalfIsa::kDefault : HalfIsa::kAvx2;
      for (int64_t p = 0; p < kc; ++p) {
        widen(isa, count, from + p * p_stride, to + p * W);
        std::fill(to + p * W + count, to + (p + 1) * W, 0.0f);
      }
      continue;
    }
    for (int64_t p = 0; p < kc; ++p) {
      for (int64_t w = 0; w < W; ++w) {
        to[p * W + w] = w < count ? static_cast<float>(from[w * w_stride + p * p_stride]) : 0.0f;
      }
    }
  }
}

// SliverPack for vdpbf16ps: slivers two k values deep (gemm_kernels.h), kc rounded up to even,
// zeros past kc and past `width`:
//
//   sliver of W lines, step q = k values 2q, 2q+1:
//   [ x(0,2q) x(0,2q+1) | x(1,2q) x(1,2q+1) | ... | x(W-1,2q) x(W-1,2q+1) ] [ step q+1 ... ]
//     one 32-bit lane     one 32-bit lane           (W lanes: MR broadcasts, or NR/16 zmm loads)
//
//   dst[s·W·depth + (2q)·W + 2w + t] = x(s·W + w, 2q + t),   depth = kc rounded up to even
// NOTE: both operands are zero in the padding, so 0 · 0 adds nothing (a garbage value times 0
// could be a NaN).
#ifdef TINYTORCH_GEMM_X86
template <int64_t W>
void pack_pairs(int64_t kc, int64_t width, const BFloat16* src, int64_t w_stride, int64_t p_stride,
                BFloat16* dst) {
  const int64_t depth = round_up(kc, 2);
  int64_t first = 0;
  // Two layouts the GEMM ops hand over, each with a fast path for its whole slivers (the general
  // loop below reads through two run-time strides):
  //   * lines side by side (w_stride 1: op(B) row-major — every C = A · B — and op(A) transposed,
  //     a backward's): a step interleaves two rows of W values, with AVX-512 shuffles
  //     (gemm_avx512_bf16.cpp);
  //   * lines contiguous along k (p_stride 1: op(A) row-major, op(B) transposed — a Linear's
  //     input and weight): a step's pair is one 32-bit word of each line, so the sliver is a
  //     transpose of 32-bit words, float's AVX2 transposing pack (gemm_avx2.cpp).
  // Both replaced plain loops of 16- and 32-bit moves through run-time strides. In
  // perf profiles of a 1024³ C = A · B on one thread (Zen 4 VM), the B pack went from 8.3% of the
  // micro-kernel's samples to 2.0%, the A pack from 3.3% to 1.9%. With two threads it matters
  // twice: every member packs all of op(B) when the team splits the rows (see "Threads").
  if (w_stride == 1) {
    gemm::pack_pair_rows_avx512_bf16<W>(kc, width / W, src, p_stride, dst);
    first = width / W * W;
  }
  for (; first < width; first += W) {
    const int64_t count = std::min(W, width - first);
    const BFloat16* from = src + first * w_stride;
    BFloat16* to = dst + first * depth;
    if (count == W && p_stride == 1) {
      const int64_t whole = kc / 2 * 2;  // the k values of whole steps
      gemm::pack_pairs_transposed_avx2<W>(whole / 2, from, w_stride, to);
      if (whole < kc) {  // odd kc: the last step's second value is padding
        BFloat16* out = to + whole * W;
        for (int64_t w = 0; w < W; ++w) {
          out[2 * w] = from[w * w_stride + whole];
          out[2 * w + 1] = BFloat16{};
        }
      }
      continue;
    }
    for (int64_t p = 0; p < depth; p += 2) {
      BFloat16* out = to + p * W;
      if (count == W && p + 1 < kc) {  // a whole step: no padding
        TT_UNROLL(16)
        for (int64_t w = 0; w < W; ++w) {
          out[2 * w] = from[w * w_stride + p * p_stride];
          out[2 * w + 1] = from[w * w_stride + (p + 1) * p_stride];
        }
        continue;
      }
      for (int64_t w = 0; w < W; ++w) {
        for (int64_t t = 0; t < 2; ++t) {
          const bool inside = w < count && p + t < kc;
          out[2 * w + t] = inside ? from[w * w_stride + (p + t) * p_stride] : BFloat16{};
        }
      }
    }
  }
}
#endif

// The widening levels: float's micro-kernel and block sizes, bfloat16 or float16 packs.
template <typename In, CpuCapability kLevel>
GemmKernels<In, float, float> widening_kernels() {
  using Blk = Blocking<float, kLevel>;
  return {microkernel_for<float, kLevel>(), pack_widened<In, Blk::MR, kLevel>,
          pack_widened<In, Blk::NR, kLevel>, edge_microkernel_for<float, kLevel>()};
}

// A 16-bit GEMM on the widening route, with the float blocking of isa's level (AVX512_BF16 runs
// the AVX-512 float kernel here); M, N > 0, K > 0, alpha != 0.
template <typename In>
void gemm_widened(HalfIsa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                  float alpha, const In* A, int64_t lda, const In* B, int64_t ldb, float beta,
                  const float* bias, float* C, int64_t ldc) {
#ifdef TINYTORCH_GEMM_X86
  if (isa >= HalfIsa::kAvx512) {
    constexpr CpuCapability kLevel = CpuCapability::kAvx512;
    return gemm_blocked<Blocking<float, kLevel>, kLevel>(trans_a, trans_b, M, N, K, alpha, A, lda,
                                                         B, ldb, beta, bias, C, ldc,
                                                         widening_kernels<In, kLevel>());
  }
  if (isa == HalfIsa::kAvx2) {
    constexpr CpuCapability kLevel = CpuCapability::kAvx2;
    return gemm_blocked<Blocking<float, kLevel>, kLevel>(trans_a, trans_b, M, N, K, alpha, A, lda,
                                                         B, ldb, beta, bias, C, ldc,
                                                         widening_kernels<In, kLevel>());
  }
#endif
  constexpr CpuCapability kLevel = CpuCapability::kDefault;
  gemm_blocked<Blocking<float, kLevel>, kLevel>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                                                beta, bias, C, ldc, widening_kernels<In, kLevel>());
}

// gemm_bf16 and gemm_half with the kernels of `isa`, and a bias row or none (null).
void bf16_at(HalfIsa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
             const BFloat16* A, int64_t lda, const BFloat16* B, int64_t ldb, float beta,
             const float* bias, float* C, int64_t ldc) {
  half_detail::check_half_isa(isa, "gemm_bf16");
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, bias, C, ldc);
    return;
  }
#ifdef TINYTORCH_GEMM_X86
  if (isa == HalfIsa::kAvx512Bf16) {
    using Blk = BlockingBf16;
    const GemmKernels<BFloat16, BFloat16, float> kernels{
        gemm::microkernel_avx512_bf16<Blk::MR, Blk::NR>, pack_pairs<Blk::MR>, pack_pairs<Blk::NR>};
    return gemm_blocked<Blk, CpuCapability::kAvx512>(trans_a, trans_b, M, N, K, alpha, A, lda, B,
                                                     ldb, beta, bias, C, ldc, kernels);
  }
#endif
  gemm_widened(isa, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, bias, C, ldc);
}

void half_at(HalfIsa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
             const Half* A, int64_t lda, const Half* B, int64_t ldb, float beta, const float* bias,
             float* C, int64_t ldc) {
  half_detail::check_half_isa(isa, "gemm_half");
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, bias, C, ldc);
    return;
  }
  gemm_widened(isa, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, bias, C, ldc);
}

}  // namespace

void gemm_bf16(HalfIsa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
               float alpha, const BFloat16* A, int64_t lda, const BFloat16* B, int64_t ldb,
               float beta, float* C, int64_t ldc) {
  bf16_at(isa, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, nullptr, C, ldc);
}

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const BFloat16* A, int64_t lda, const BFloat16* B, int64_t ldb, float beta, float* C,
               int64_t ldc) {
  bf16_at(half_isa(), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, nullptr, C, ldc);
}

void gemm_bf16(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const BFloat16* A, int64_t lda, const BFloat16* B, int64_t ldb, float beta,
               const float* bias, float* C, int64_t ldc) {
  bf16_at(half_isa(), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, bias, C, ldc);
}

void gemm_half(HalfIsa isa, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
               float alpha, const Half* A, int64_t lda, const Half* B, int64_t ldb, float beta,
               float* C, int64_t ldc) {
  half_at(isa, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, nullptr, C, ldc);
}

void gemm_half(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const Half* A, int64_t lda, const Half* B, int64_t ldb, float beta, float* C,
               int64_t ldc) {
  half_at(half_isa(), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, nullptr, C, ldc);
}

void gemm_half(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const Half* A, int64_t lda, const Half* B, int64_t ldb, float beta,
               const float* bias, float* C, int64_t ldc) {
  half_at(half_isa(), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, bias, C, ldc);
}

void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc) {
  gemm_dispatch<float>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, nullptr, C, ldc);
}

void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
               const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
               int64_t ldc) {
  gemm_dispatch<double>(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, nullptr, C, ldc);
}

void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
               const float* bias, float* C, int64_t ldc) {
  gemm_dispatch(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, bias, C, ldc);
}

void gemm_fast(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha,
               const double* A, int64_t lda, const double* B, int64_t ldb, double beta,
               const double* bias, double* C, int64_t ldc) {
  gemm_dispatch(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, bias, C, ldc);
}

const char* to_string(CpuCapability capability) {
  switch (capability) {
    case CpuCapability::kAvx512:
      return "AVX512";
    case CpuCapability::kAvx2:
      return "AVX2";
    case CpuCapability::kDefault:
      break;
  }
  return "DEFAULT";
}

CpuCapability get_cpu_capability() {
  return std::min(cpu_capability_of_this_cpu(), cpu_capability_from_env());
}

std::optional<bool> forced_rule(const char* variable) {
  const char* env = std::getenv(variable);
  if (env == nullptr || *env == '\0') return std::nullopt;
  const std::string v(env);
  TT_CHECK_VALUE(v == "0" || v == "1", variable,
                 " must be '0' or '1' (or unset: this CPU's default), got '", env, "'");
  return v == "1";
}

bool amd_cpu() {
#ifdef TINYTORCH_GEMM_X86
  static const bool amd = [] {
    __builtin_cpu_init();
    return __builtin_cpu_is("amd") != 0;
  }();
  return amd;
#else
  return false;
#endif
}

bool amd_rule(const char* variable) {
  return forced_rule(variable).value_or(amd_cpu());
}

}  // namespace tinytorch::kernels
