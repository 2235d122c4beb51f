// Module 18 lab — Use + Analyze: from three nested loops to a fast SGEMM, one step at a time,
// measured against YOUR machine's own limits.
//
//   ./tito lab 18                 the full run (about 20 s on the 2-core course VM)
//   ./tito lab 18 --quick         small sizes, a few seconds (a smoke test)
//   ./tito lab 18 --json out.json also write every figure to out.json, one record per figure
//   ./tito lab 18 --only BD       only some experiments (A-E)
//
//   A  machine limits        FMA peak (1 and 2 threads; the widest FMA: AVX-512 where there is)
//                            and STREAM bandwidth: the two ceilings
//   B  the SGEMM ladder      naive i-j-k → i-k-j → cache-blocked → packed → AVX2/FMA micro-kernel →
//                            threads, then the library's gemm_fast: GFLOP/s, % of the 1-core
//                            peak, max |error| against a float64 GEMM
//   C  roofline              arithmetic intensity, attainable and achieved GFLOP/s: an element-wise
//                            add vs GEMM at N = 64 … 1024
//   D  small problems        1 vs 2 threads by N, and what starting a parallel region costs
//   E  registry + allocator  matmul on the fast vs the reference tier; the caching allocator's
//                            statistics and what it saves
//
// Every number printed is measured in this run or computed from measured numbers. Rates of the
// kernels are the MEDIAN of several timed samples after a warm-up call; the two ceilings (FMA peak,
// STREAM bandwidth) are the BEST sample, as STREAM reports them: noise from other programs only
// ever makes a sample slower, so the fastest one is the closest to what the hardware can do.
// One-thread figures are timed with this thread's CPU clock, the others with the wall clock (see
// time_calls).
//
// The SGEMMs of experiment B are teaching versions written for this lab, small enough to read in
// one sitting; the framework's kernel is tinytorch/src/kernels/gemm_fast.cpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lab_support/lab_support.h"
#include "machine_limits.h"
#include "tinytorch/core/caching_allocator.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/plot.h"

#if defined(__x86_64__) || defined(__i386__)
#define LAB_X86 1
#include <immintrin.h>
#endif

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;

// How long to measure each figure.
struct Budget {
  bool quick = false;
  int samples = 7;             // timed samples per figure (fewer when one call is slow) …
  double max_figure_s = 1.5;   // … once this much time is spent, but never fewer than 3
  double min_sample_s = 2e-3;  // a sample repeats the call until it lasts this long
};

// One warm-up call (caches, page faults, the thread team), then timed samples of `calls` calls
// each, `calls` doubled until a sample lasts min_sample_s: a 2 µs call cannot be timed one call
// at a time. Returns seconds per call.
//
// The clock: with one kernel thread (get_num_threads() == 1) all the work runs on this thread,
// so its CPU time (CLOCK_THREAD_CPUTIME_ID) is the time the work actually held a core, and other
// programs taking turns on a shared machine do not inflate it. With more threads the work is on
// other threads too, and only the wall clock can time it.
Timing time_calls(const Budget& budget, const std::function<void()>& f) {
  struct ClockChoice {
    bool before = using_thread_cpu_clock();
    ~ClockChoice() { use_thread_cpu_clock(before); }
  } clock_choice;
  use_thread_cpu_clock(get_num_threads() == 1);
  auto sample = [&f](int64_t calls) {
    const double t0 = now_seconds();
    for (int64_t i = 0; i < calls; ++i) f();
    return now_seconds() - t0;
  };
  f();
  int64_t calls = 1;
  double t = sample(calls);
  while (t < budget.min_sample_s) {
    calls *= 2;
    t = sample(calls);
  }
  std::vector<double> per_call{t / static_cast<double>(calls)};
  double spent = t;
  while (static_cast<int>(per_call.size()) < budget.samples &&
         (per_call.size() < 3 || spent < budget.max_figure_s)) {
    const double s = sample(calls);
    spent += s;
    per_call.push_back(s / static_cast<double>(calls));
  }
  return summarise(std::move(per_call));
}

// Runs f with tinytorch's kernels limited to `threads`, then restores the count.
template <typename F>
auto with_threads(int threads, const F& f) {
  struct Restore {
    int before = get_num_threads();
    ~Restore() { set_num_threads(before); }
  } restore;
  set_num_threads(threads);
  return f();
}

std::string sig3(double v) {
  return fixed(v, v >= 100 ? 0 : v >= 10 ? 1 : 2);
}

std::string percent(double v) {
  return fixed(100 * v, v < 0.1 ? 1 : 0) + "%";
}

// Every figure also becomes one flat JSON record (--json: doc["records"]).
json g_records = json::array();
void record(json r) {
  g_records.push_back(std::move(r));
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// The teaching SGEMMs: C = A · B for square n × n row-major float matrices (C is overwritten).
// ═════════════════════════════════════════════════════════════════════════════════════════════

// Step 1 — the textbook formula C[i][j] = Σ_k A[i][k]·B[k][j], loops in the order it is written.
// The inner loop walks DOWN a column of B: consecutive k are n floats apart, so every multiply-add
// touches a new cache line of B, and for n ≥ 512 those lines no longer stay in cache between rows.
void sgemm_naive_ijk(int64_t n, const float* A, const float* B, float* C) {
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int64_t k = 0; k < n; ++k) sum += A[i * n + k] * B[k * n + j];
      C[i * n + j] = sum;
    }
  }
}

// Step 2 — the same sum, loops swapped to i-k-j (module 01's reference kernel). The inner loop
// now walks a ROW of B and a row of C with stride 1: every cache line fetched is used in full, and
// A[i][k] stays in a register for the whole row.
void sgemm_ikj(int64_t n, const float* A, const float* B, float* C) {
  std::fill(C, C + n * n, 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    float* c_row = C + i * n;
    for (int64_t k = 0; k < n; ++k) {
      const float a_ik = A[i * n + k];
      const float* b_row = B + k * n;
      for (int64_t j = 0; j < n; ++j) c_row[j] += a_ik * b_row[j];
    }
  }
}

// Step 3 — cache blocking. i-k-j streams ALL of B (n² floats) past every row of C: at n = 512
// that is 1 MiB, more than L2, so B comes from L3 n times over. Cut B into kBlockK × kBlockN
// blocks (128 × 256 floats = 128 KiB, fits in L2) and let every row of A pass over one block
// before moving to the next: each block is loaded from L3 once and reused n times from L2, and
// the kBlockN-float piece of C's row (1 KiB) stays in L1 across the block's kBlockK updates.
constexpr int64_t kBlockK = 128, kBlockN = 256;

void sgemm_blocked(int64_t n, const float* A, const float* B, float* C) {
  std::fill(C, C + n * n, 0.0f);
  for (int64_t jj = 0; jj < n; jj += kBlockN) {
    const int64_t j_end = std::min(jj + kBlockN, n);
    for (int64_t kk = 0; kk < n; kk += kBlockK) {
      const int64_t k_end = std::min(kk + kBlockK, n);
      for (int64_t i = 0; i < n; ++i) {
        float* c_row = C + i * n;
        for (int64_t k = kk; k < k_end; ++k) {
          const float a_ik = A[i * n + k];
          const float* b_row = B + k * n;
          for (int64_t j = jj; j < j_end; ++j) c_row[j] += a_ik * b_row[j];
        }
      }
    }
  }
}

// Steps 4–6 — packing and a register-tiled micro-kernel (the GotoBLAS/BLIS design).
//
// The micro-kernel owns an MR × NR tile of C and keeps it in registers for a whole run of kc
// rank-1 updates: per step it reads MR values of A and NR of B and does MR·NR multiply-adds.
// Packing copies the operands into exactly the order the micro-kernel reads them, so that its
// loads are contiguous and padded to whole tiles:
//
//   A block (mc × kc) → slivers of MR rows:  for p: A[i..i+MR)[p]   (MR values side by side)
//   B panel (kc × n)  → slivers of NR cols:  for p: B[p][j..j+NR)   (NR values side by side)
constexpr int64_t MR = 6, NR = 16;  // 6 × 16 floats = 12 AVX registers of 8 floats
constexpr int64_t KC = 256;         // B sliver: 256 × 16 × 4 B = 16 KiB, stays in L1
constexpr int64_t MC = 96;          // A block: 96 × 256 × 4 B = 96 KiB, stays in L2

constexpr int64_t round_up(int64_t x, int64_t multiple) {
  return (x + multiple - 1) / multiple * multiple;
}

// Rows [0, mc) × columns [0, kc) of A (row stride lda) → MR-row slivers; missing rows are zero.
void pack_a(int64_t mc, int64_t kc, const float* A, int64_t lda, float* dst) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    for (int64_t p = 0; p < kc; ++p) {
      for (int64_t r = 0; r < MR; ++r) {
        *dst++ = i0 + r < mc ? A[(i0 + r) * lda + p] : 0.0f;
      }
    }
  }
}

// Rows [0, kc) × columns [0, n) of B (row stride ldb) → NR-column slivers; missing columns are 0.
void pack_b(int64_t kc, int64_t n, const float* B, int64_t ldb, float* dst) {
  for (int64_t j0 = 0; j0 < n; j0 += NR) {
    for (int64_t p = 0; p < kc; ++p) {
      for (int64_t c = 0; c < NR; ++c) {
        *dst++ = j0 + c < n ? B[p * ldb + j0 + c] : 0.0f;
      }
    }
  }
}

// c (MR × NR, row stride ldc) = [c +] a_sliver · b_sliver, over kc steps.
using MicroKernel = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                             bool accumulate);

// Step 4's micro-kernel: plain C++. One row of the tile at a time: its NR = 16 accumulators fit
// in registers, and the fixed-length j loop is one the compiler can vectorise (4-wide SSE at
// the course's -O2, no FMA: the library itself is compiled for baseline x86-64).
void micro_kernel_scalar(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                         bool accumulate) {
  for (int64_t i = 0; i < MR; ++i) {
    float acc[NR] = {};
    for (int64_t p = 0; p < kc; ++p) {
      const float a_ip = a[p * MR + i];
      for (int64_t j = 0; j < NR; ++j) acc[j] += a_ip * b[p * NR + j];
    }
    for (int64_t j = 0; j < NR; ++j) c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0.0f) + acc[j];
  }
}

#ifdef LAB_X86
// Step 5's micro-kernel: AVX2 + FMA intrinsics, compiled for those instructions by the target
// attribute (the rest of the program is baseline x86-64, so it must only run after the CPU check
// in cpu_has_avx2_fma()).
//
//                   b0 = b[p·16 + 0..7]   b1 = b[p·16 + 8..15]
//   a[p·6 + 0] →    acc[0][0]             acc[0][1]
//     …                …                      …
//   a[p·6 + 5] →    acc[5][0]             acc[5][1]
//
// Per step: 2 loads of B, 6 broadcasts of A, 12 FMAs of 8 lanes = 192 flops. The 12 accumulators
// are 12 INDEPENDENT chains: an FMA takes 4 cycles before its result can feed the next one on its
// chain, and a Zen 3 / Skylake core starts 2 per cycle, so at least 8 must be in flight. 12
// accumulators + 2 B registers + 1 broadcast = 15 of the 16 YMM registers.
__attribute__((target("avx2,fma"))) void micro_kernel_avx2(int64_t kc, const float* a,
                                                           const float* b, float* c, int64_t ldc,
                                                           bool accumulate) {
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int64_t i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int64_t i = 0; i < MR; ++i) {
      const __m256 a_i = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(a_i, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(a_i, b1, acc[i][1]);
    }
  }
#pragma GCC unroll 6
  for (int64_t i = 0; i < MR; ++i) {
    float* row = c + i * ldc;
    if (accumulate) {
      acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(row));
      acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(row + 8));
    }
    _mm256_storeu_ps(row, acc[i][0]);
    _mm256_storeu_ps(row + 8, acc[i][1]);
  }
}
#endif

bool cpu_has_avx2_fma() {
#ifdef LAB_X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

// A tile cut by the matrix edge (mr < MR or nr < NR): compute the full tile into a local buffer
// (the packed zero padding makes that safe) and copy back only the part inside C.
void run_tile(MicroKernel kernel, int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
              int64_t mr, int64_t nr, bool accumulate) {
  if (mr == MR && nr == NR) {
    kernel(kc, a, b, c, ldc, accumulate);
    return;
  }
  float tile[MR * NR];
  kernel(kc, a, b, tile, NR, false);
  for (int64_t i = 0; i < mr; ++i) {
    for (int64_t j = 0; j < nr; ++j) {
      c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0.0f) + tile[i * NR + j];
    }
  }
}

// Rows [row_begin, row_end) of C = A · B, with packed operands and the given micro-kernel:
//
//   for pc in [0, n) step KC:               a KC-deep slice of the sum
//     pack B[pc:pc+kc, :]                   → b_pack (kc × n, NR slivers; L2/L3)
//     for ic in rows step MC:
//       pack A[ic:ic+mc, pc:pc+kc]          → a_pack (mc × kc, MR slivers; L2)
//       for jr in [0, n) step NR:           one B sliver (kc × NR) stays in L1 …
//         for ir in [0, mc) step MR:        … while the A slivers stream past it
//           micro-kernel: C[ic+ir : +MR, jr : +NR] (+)= a sliver · b sliver
//
// (BLIS has a fifth loop that also cuts n into NC-wide panels; for the n ≤ 1024 of this lab a whole
// B slice, at most 1 MiB, is kept instead.) The buffers are per thread, grown on first use.
void sgemm_packed_rows(int64_t n, const float* A, const float* B, float* C, int64_t row_begin,
                       int64_t row_end, MicroKernel kernel) {
  thread_local std::vector<float> a_pack, b_pack;
  a_pack.resize(static_cast<size_t>(MC * KC));
  b_pack.resize(static_cast<size_t>(KC * round_up(n, NR)));
  for (int64_t pc = 0; pc < n; pc += KC) {
    const int64_t kc = std::min(KC, n - pc);
    pack_b(kc, n, B + pc * n, n, b_pack.data());
    for (int64_t ic = row_begin; ic < row_end; ic += MC) {
      const int64_t mc = std::min(MC, row_end - ic);
      pack_a(mc, kc, A + ic * n + pc, n, a_pack.data());
      for (int64_t jr = 0; jr < n; jr += NR) {
        for (int64_t ir = 0; ir < mc; ir += MR) {
          run_tile(kernel, kc, a_pack.data() + ir * kc, b_pack.data() + jr * kc,
                   C + (ic + ir) * n + jr, n, std::min(MR, mc - ir), std::min(NR, n - jr), pc > 0);
        }
      }
    }
  }
}

// Step 4: packing + the plain C++ micro-kernel.
void sgemm_packed(int64_t n, const float* A, const float* B, float* C) {
  sgemm_packed_rows(n, A, B, C, 0, n, micro_kernel_scalar);
}

#ifdef LAB_X86
// Step 5: packing + the AVX2/FMA micro-kernel, one thread.
void sgemm_simd(int64_t n, const float* A, const float* B, float* C) {
  sgemm_packed_rows(n, A, B, C, 0, n, micro_kernel_avx2);
}

// Step 6: threads. C's rows are cut into chunks of whole MR-row slivers (tinytorch::parallel_for,
// the library's thread pool: up to 4 chunks per thread, each claimed by whichever thread is
// free) and step 5 runs on each chunk, packing all of B again, in the thread's own packing
// buffers: nothing is shared but A and B, which are only read, and no two chunks write the same
// element of C. Grain size 1: this version ALWAYS splits, even when the problem is too small to
// pay for it (experiment D shows what that costs).
void sgemm_simd_threads(int64_t n, const float* A, const float* B, float* C) {
  const int64_t slivers = (n + MR - 1) / MR;
  parallel_for(0, slivers, 1, [&](int64_t s_begin, int64_t s_end) {
    sgemm_packed_rows(n, A, B, C, s_begin * MR, std::min(n, s_end * MR), micro_kernel_avx2);
  });
}
#endif

// The library's fast GEMM (tinytorch/src/kernels/gemm_fast.cpp), called directly.
void sgemm_library(int64_t n, const float* A, const float* B, float* C) {
  kernels::gemm_fast(false, false, n, n, n, 1.0f, A, n, B, n, 0.0f, C, n);
}

// ── operands and checking ────────────────────────────────────────────────────────────────────
struct Problem {
  int64_t n;
  std::vector<float> a, b, c;
  std::vector<double> expected;  // A · B in float64, filled on first use

  explicit Problem(int64_t size)
      : n(size), a(static_cast<size_t>(size * size)), b(a.size()), c(a.size()) {
    std::mt19937 rng(static_cast<unsigned>(size));
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (float& x : a) x = uniform(rng);
    for (float& x : b) x = uniform(rng);
  }

  // max |C − A·B| over every element, against a float64 i-k-j GEMM of the same float inputs.
  double max_abs_error() {
    if (expected.empty()) {
      expected.assign(a.size(), 0.0);
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t k = 0; k < n; ++k) {
          const double a_ik = a[static_cast<size_t>(i * n + k)];
          for (int64_t j = 0; j < n; ++j) {
            expected[static_cast<size_t>(i * n + j)] += a_ik * b[static_cast<size_t>(k * n + j)];
          }
        }
      }
    }
    double worst = 0;
    for (size_t i = 0; i < c.size(); ++i) {
      worst = std::max(worst, std::abs(static_cast<double>(c[i]) - expected[i]));
    }
    return worst;
  }
};

double gemm_flops(int64_t n) {
  return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// A. The machine's limits (measured once, on first use: B, C and D read them too).
// ═════════════════════════════════════════════════════════════════════════════════════════════
struct Limits {
  std::optional<double> peak_1, peak_2;         // GFLOP/s of the register-only FMA kernel
  std::string peak_isa;                         // its instruction set: "AVX-512" or "AVX2"
  double copy_1 = 0, triad_1 = 0, triad_2 = 0;  // GB/s, STREAM
  int64_t stream_elements = 0;
};

// The peak is measured with the widest FMA this CPU has (bench::fma_peak_for_this_cpu): with
// AVX-512 where there is AVX-512, since that is the ceiling of any float32 kernel on it.
double fma_peak_gflops(const Budget& budget, const bench::FmaPeak& peak, int threads) {
  // ≈ 0.5 ms: AVX-512 at 200 GFLOP/s, or AVX2 (half the flops per step) at 100
  constexpr int64_t kSteps = int64_t{1} << 18;
  const Timing t = with_threads(threads, [&] {
    return time_calls(budget, [threads, kernel = peak.kernel] {
      parallel_for(0, threads, 1, [kernel](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) consume(static_cast<double>(kernel(kSteps)));
      });
    });
  });
  return peak.flops_per_step * static_cast<double>(kSteps * threads) / t.min / 1e9;
}

double stream_gbps(const Budget& budget, int threads, bool triad) {
  bench::StreamArrays& s = bench::StreamArrays::get();
  const Timing t = with_threads(threads, [&] {
    return time_calls(budget, [&s, triad] {
      bench::for_stream_blocks(s.n, [&s, triad](int64_t begin, int64_t end) {
        if (triad) {
          bench::stream_triad_range(s.a.get(), s.b.get(), s.c.get(), 3.0f, begin, end);
        } else {
          bench::stream_copy_range(s.a.get(), s.c.get(), begin, end);
        }
      });
    });
  });
  return (triad ? 12.0 : 8.0) * static_cast<double>(s.n) / t.min / 1e9;
}

const Limits& limits(const Budget& budget) {
  static const Limits measured = [&] {
    Limits l;
    if (const std::optional<bench::FmaPeak> peak = bench::fma_peak_for_this_cpu()) {
      l.peak_isa = peak->isa;
      l.peak_1 = fma_peak_gflops(budget, *peak, 1);
      l.peak_2 = fma_peak_gflops(budget, *peak, 2);
    }
    l.stream_elements = bench::StreamArrays::elements();
    l.copy_1 = stream_gbps(budget, 1, false);
    l.triad_1 = stream_gbps(budget, 1, true);
    l.triad_2 = stream_gbps(budget, 2, true);
    return l;
  }();
  return measured;
}

json experiment_limits(const Budget& budget) {
  const Limits& l = limits(budget);
  const std::string fma = l.peak_1 ? l.peak_isa : "FMA";
  heading("A", "The machine's limits",
          "A register-only " + fma +
              " loop (the widest FMA of this CPU; 12 independent accumulators, no memory\n  "
              "traffic) gives the compute ceiling; STREAM copy and triad over arrays 4× larger "
              "than the last\n  cache give the memory ceiling. Both are the best sample (see the "
              "top of lab.cpp).");
  Table table({"ceiling", "1 thread", "2 threads", "what it bounds"});
  table.add({"FMA peak (" + fma + "), GFLOP/s",
             l.peak_1 ? sig3(*l.peak_1) : "n/a (no AVX2/FMA, no AVX-512)",
             l.peak_2 ? sig3(*l.peak_2) : "n/a", "any float32 kernel"});
  table.add({"STREAM triad a = b + s·c, GB/s", sig3(l.triad_1), sig3(l.triad_2),
             "element-wise ops on big tensors"});
  table.add({"STREAM copy c = a, GB/s", sig3(l.copy_1), "", "copies, contiguous()"});
  table.print();
  const double arrays_mib = 4.0 * static_cast<double>(l.stream_elements) / (1 << 20);
  std::cout << "\n  STREAM arrays: 3 × " << fixed(arrays_mib, 0) << " MiB.\n";
  json out = {{"stream_array_mib", arrays_mib},
              {"stream_copy_gbps_1", l.copy_1},
              {"stream_triad_gbps_1", l.triad_1},
              {"stream_triad_gbps_2", l.triad_2}};
  record({{"experiment", "A"}, {"name", "stream_copy"}, {"threads", 1}, {"gbps", l.copy_1}});
  record({{"experiment", "A"}, {"name", "stream_triad"}, {"threads", 1}, {"gbps", l.triad_1}});
  record({{"experiment", "A"}, {"name", "stream_triad"}, {"threads", 2}, {"gbps", l.triad_2}});
  if (l.peak_1 && l.peak_2) {
    out["fma_peak_isa"] = l.peak_isa;
    out["fma_peak_gflops_1"] = *l.peak_1;
    out["fma_peak_gflops_2"] = *l.peak_2;
    for (const auto& [threads, gflops] : {std::pair{1, *l.peak_1}, std::pair{2, *l.peak_2}}) {
      record({{"experiment", "A"},
              {"name", "fma_peak"},
              {"isa", l.peak_isa},
              {"threads", threads},
              {"gflops", gflops}});
    }
    const double ridge = *l.peak_1 / l.triad_1;
    out["ridge_flops_per_byte_1"] = ridge;
    meaning("One core can do " + sig3(*l.peak_1) + " GFLOP/s but memory feeds it only " +
            sig3(l.triad_1) + " GB/s: a kernel must do at least " + sig3(ridge) +
            " flops per byte it moves from DRAM (the ridge point) before arithmetic, not memory, "
            "limits it. A float32 add does 1 flop per 12 bytes.");
  }
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// B. The SGEMM ladder.
// ═════════════════════════════════════════════════════════════════════════════════════════════
struct Step {
  std::string id;  // "1" … "6", "L1", "L2"
  std::string name;
  void (*gemm)(int64_t, const float*, const float*, float*);
  int threads;
  bool needs_avx2;
  std::string over;  // the step its speed-up is measured against
};

std::vector<Step> ladder() {
  std::vector<Step> steps = {
      {"1", "naive i-j-k", sgemm_naive_ijk, 1, false, ""},
      {"2", "loop order i-k-j", sgemm_ikj, 1, false, "1"},
      {"3", "cache-blocked", sgemm_blocked, 1, false, "2"},
      {"4", "packed, C++ micro-kernel 6×16", sgemm_packed, 1, false, "3"},
  };
#ifdef LAB_X86
  steps.push_back({"5", "packed, AVX2/FMA micro-kernel", sgemm_simd, 1, true, "4"});
  steps.push_back({"6", "step 5 on 2 threads (the pool)", sgemm_simd_threads, 2, true, "5"});
#endif
  steps.push_back({"L1", "library gemm_fast, 1 thread", sgemm_library, 1, false, "5"});
  steps.push_back({"L2", "library gemm_fast, 2 threads", sgemm_library, 2, false, "L1"});
  return steps;
}

// runs/lab18/sgemm_ladder.svg: every step's GFLOP/s (left) and % of the 1-core FMA peak (right)
// against N — the ladder's table as a picture (chapter 18 shows it; ./tito site copies it).
void write_ladder_chart(const tinytorch::train::History& chart, const std::string& peak_isa) {
  namespace train = tinytorch::train;
  train::CurveOptions o;
  o.title = "The SGEMM ladder: each step of lab.cpp against N (float32, square)";
  o.x_column = "n";
  o.x_label = "N";
  o.left_title = "GFLOP/s";
  o.left_y_label = "GFLOP/s";
  o.right_title = "% of the 1-core " + peak_isa + " FMA peak";
  o.right_y_label = "% of peak";
  for (const auto& c : chart.columns()) {
    if (c.ends_with(" GFLOP/s")) o.loss_columns.push_back(c);
    if (c.ends_with(" % of peak")) o.accuracy_columns.push_back(c);
  }
  o.width = 1200;
  o.height = 480;
  const std::string path = "runs/lab18/sgemm_ladder.svg";
  std::filesystem::create_directories("runs/lab18");
  train::write_training_curve_svg(chart, path, o);
  std::cout << "  wrote " << path << "\n";
}

json experiment_ladder(const Budget& budget) {
  const std::vector<int64_t> sizes =
      budget.quick ? std::vector<int64_t>{128, 256} : std::vector<int64_t>{256, 512, 1024};
  const int64_t naive_max_n = 512;  // the naive loop takes seconds per call beyond this
  const Limits& l = limits(budget);
  const bool avx2 = cpu_has_avx2_fma();
  heading("B", "The SGEMM ladder",
          "C = A·B, square float32 matrices, entries in [−1, 1]; each step is one function of "
          "lab.cpp.\n  % peak: of A's 1-core FMA peak (2 threads can reach 200%). Error: "
          "max |C − A·B| against float64; above N²·2⁻²⁴ it is WRONG\n  (no order of "
          "float32 additions is that far off) and the experiment fails." +
              std::string(l.peak_isa == "AVX-512"
                              ? "\n  A's peak is AVX-512's: on a CPU with two 512-bit FMA "
                                "units, the AVX2 micro-kernel\n  of steps 5 and 6 (8 floats "
                                "per FMA, not 16) can reach at most half of it per core."
                              : ""));
  json out = json::array();
  std::vector<std::string> wrong;  // rungs whose error exceeds float32's worst case (below)
  // The chart: one row per N, a GFLOP/s and a %-of-peak column per step (NaN: not run).
  tinytorch::train::History chart;
  std::vector<std::string> gflops_columns, peak_columns;
  for (const int64_t n : sizes) {
    tinytorch::train::Metrics row;
    row.insert("n", static_cast<double>(n));
    std::cout << "  N = " << n << " (" << sig3(gemm_flops(n) / 1e6) << " MFLOP per call)\n";
    Problem p(n);
    // NOTE: a float32 dot product of length n is off by at most about n·u·Σ|a_k·b_k| (u = 2⁻²⁴,
    // the unit roundoff); with every entry in [−1, 1] the sum is at most n, so every correct rung
    // stays below n²·u, whatever order it adds in. A rung that skips or repeats one product is
    // off by |a_ik·b_kj|, typically ~0.3: far above it.
    const double bound = static_cast<double>(n) * static_cast<double>(n) * 0x1p-24;
    Table table({"step", "time", "GFLOP/s", "% peak", "speed-up", "vs 1", "max |error|"});
    std::map<std::string, double> seconds;  // by step id
    for (const Step& s : ladder()) {
      const std::string label = s.id + "  " + s.name;
      if (s.needs_avx2 && !avx2) {
        table.add({label, "skipped: this CPU lacks AVX2/FMA"});
        record({{"experiment", "B"}, {"name", s.name}, {"n", n}, {"skipped", "no AVX2/FMA"}});
        continue;
      }
      if (s.id == "1" && n > naive_max_n) {
        table.add({label, "", "", "", "", "", "(not run)"});
        record({{"experiment", "B"}, {"name", s.name}, {"n", n}, {"skipped", "too slow"}});
        continue;
      }
      std::fill(p.c.begin(), p.c.end(), NAN);  // a step that skips an element cannot pass
      const Timing t = with_threads(s.threads, [&] {
        return time_calls(budget, [&] { s.gemm(n, p.a.data(), p.b.data(), p.c.data()); });
      });
      seconds[s.id] = t.median;
      const double gflops = gemm_flops(n) / t.median / 1e9;
      const double error = p.max_abs_error();
      const auto over = seconds.find(s.over);
      table.add(
          {label, human_time(t.median), sig3(gflops),
           l.peak_1 ? percent(gflops / *l.peak_1) : "n/a",
           over == seconds.end() ? "" : ratio(over->second / t.median) + " over " + s.over,
           seconds.count("1") ? ratio(seconds.at("1") / t.median) : "",
           std::isfinite(error) ? sci(error, 1) + (error > bound ? " WRONG" : "") : "WRONG (NaN)"});
      if (!(error <= bound)) {
        wrong.push_back("step " + s.id + " at N = " + std::to_string(n) + " (max |error| " +
                        sci(error, 1) + ")");
      }
      json r = {{"experiment", "B"},      {"step", s.id},
                {"name", s.name},         {"n", n},
                {"threads", s.threads},   {"gflops", gflops},
                {"max_abs_error", error}, {"time", to_json(t)}};
      if (l.peak_1) r["fraction_of_1core_peak"] = gflops / *l.peak_1;
      if (over != seconds.end()) r["speedup_over_" + s.over] = over->second / t.median;
      out.push_back(r);
      record(r);
      row.insert("step " + s.id + " GFLOP/s", gflops);
      if (l.peak_1) row.insert("step " + s.id + " % of peak", 100.0 * gflops / *l.peak_1);
    }
    chart.append(row);
    table.print();
    if (n > naive_max_n) {
      std::cout << "  (step 1 is not run above N = " << naive_max_n << ": it would take most of "
                << "the lab's time)\n";
    }
    std::cout << "\n";
  }
  write_ladder_chart(chart, l.peak_isa);
  if (!wrong.empty()) {
    std::string list;
    for (const auto& w : wrong) list += (list.empty() ? "" : ", ") + w;
    throw std::runtime_error("wrong results from " + list +
                             ": a correct float32 GEMM stays below N²·2⁻²⁴ (" +
                             sci(static_cast<double>(sizes.front() * sizes.front()) * 0x1p-24, 1) +
                             " at N = " + std::to_string(sizes.front()) +
                             "); look for a loop bound or an index that skips or repeats a term");
  }
  meaning(
      "Each rung removes one bottleneck. i-k-j reads B along rows (every cache line used in "
      "full); blocking keeps a block of B in L2 so it is fetched once, not N times; packing lays "
      "A and B out in the exact order the micro-kernel reads them; the AVX2 micro-kernel keeps "
      "a 6×16 tile of C in 12 registers and does 12 FMAs of 8 floats per 8 values it loads; "
      "two threads claim chunks of rows of C in turn. The error column stays at float32 rounding "
      "for every rung: the order of the additions changes, the result does not.");
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// C. Roofline.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_roofline(const Budget& budget) {
  const Limits& l = limits(budget);
  if (!l.peak_1) {
    std::cout << "\n  C skipped: the FMA peak needs AVX2/FMA or AVX-512.\n";
    return {{"skipped", "no AVX2/FMA, no AVX-512"}};
  }
  const double peak = *l.peak_1, bw = l.triad_1;
  heading("C", "Roofline (1 thread)",
          "attainable = min(peak, intensity × bandwidth), with A's 1-thread peak (" + sig3(peak) +
              " GFLOP/s)\n  and triad bandwidth (" + sig3(bw) +
              " GB/s). Intensity: flops per byte an op MUST move (every operand\n  read once, the "
              "result written once). add: 1 flop per 3 × 4 bytes. GEMM: 2N³ flops per\n  3 × 4N² "
              "bytes = N/6 flops per byte.");
  Table table({"op (GFLOP/s)", "flops/byte", "bound by", "attainable", "achieved", "% of it"});
  json out = json::array();
  // Returns the fraction of the attainable rate achieved.
  auto add_row = [&](const std::string& name, int64_t n, double intensity, double achieved) {
    const double attainable = std::min(peak, intensity * bw);
    const bool memory_bound = intensity * bw < peak;
    table.add({name, intensity < 1 ? fixed(intensity, 3) : sig3(intensity),
               memory_bound ? "memory" : "compute", sig3(attainable), sig3(achieved),
               percent(achieved / attainable)});
    json r = {{"experiment", "C"},
              {"name", name},
              {"n", n},
              {"threads", 1},
              {"flops_per_byte", intensity},
              {"attainable_gflops", attainable},
              {"gflops", achieved},
              {"bound", memory_bound ? "memory" : "compute"}};
    out.push_back(r);
    record(r);
    return achieved / attainable;
  };
  double add_dram = 0, add_cache = 0, gemm_worst = 1, gemm_best = 0;
  with_threads(1, [&] {
    // The element-wise add through the framework (module 01's strided loop), in place so that
    // no allocation is timed: x += y reads 2 floats and writes 1. Once with arrays far beyond the
    // caches, once with arrays that stay in the per-core L2 between calls.
    for (const int64_t n : {int64_t{1} << 24, int64_t{1} << 15}) {
      Tensor x = rand({n});
      const Tensor y = rand({n});
      const Timing t = time_calls(budget, [&] { x.add_(y); });
      const bool big = n > (1 << 20);
      const double f = add_row("x.add_(y), " + human_bytes(12.0 * static_cast<double>(n), 0) +
                                   (big ? "" : " (in cache)"),
                               n, 1.0 / 12.0, static_cast<double>(n) / t.median / 1e9);
      (big ? add_dram : add_cache) = f;
    }
    const std::vector<int64_t> sizes = budget.quick ? std::vector<int64_t>{64, 128, 256}
                                                    : std::vector<int64_t>{64, 128, 256, 512, 1024};
    for (const int64_t n : sizes) {
      Problem p(n);
      const Timing t =
          time_calls(budget, [&] { sgemm_library(n, p.a.data(), p.b.data(), p.c.data()); });
      const double f = add_row("gemm_fast N = " + std::to_string(n), n,
                               static_cast<double>(n) / 6.0, gemm_flops(n) / t.median / 1e9);
      gemm_worst = std::min(gemm_worst, f);
      gemm_best = std::max(gemm_best, f);
    }
    return 0;
  });
  table.print();
  const std::string in_cache =
      add_cache > 1.2 * add_dram
          ? "In cache the same add ran " + ratio(add_cache / add_dram) +
                " faster: every cache level has a higher roof of its own."
          : "In cache it ran no faster (" + ratio(add_cache / add_dram) +
                "): there the add's own loop, not DRAM, is the limit — the framework's "
                "element-wise kernel leaves bandwidth unused.";
  meaning("The add sits far left of the ridge point (" + sig3(peak / bw) +
          " flops/byte): memory-bound, its ceiling is the bandwidth however cheap the arithmetic, "
          "and only moving fewer bytes (fusion, lower precision) raises it. It reached " +
          percent(add_dram) + " of that ceiling. " + in_cache +
          " Every GEMM sits right of the ridge: compute-bound, reaching " + percent(gemm_worst) +
          " to " + percent(gemm_best) +
          " of the FMA peak — what is left is won in registers and the micro-kernel, not in "
          "memory.");
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// D. Small problems: when do threads pay?
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_small(const Budget& budget) {
  const bool avx2 = cpu_has_avx2_fma();
  heading("D", "Small problems: when do threads pay?",
          "The price of an empty parallel region; then gemm_fast on 1 and 2 threads (problems "
          "of ≤ 64³\n  multiply-adds, 120³ with the AVX-512 kernel, run on the calling thread "
          "whatever the count),\n  and step 5 vs step 6, which always splits.");
  const Timing region = with_threads(2, [&] {
    return time_calls(
        budget, [] { parallel_for(0, 2, 1, [](int64_t begin, int64_t) { consume(begin); }); });
  });
  std::cout << "  empty parallel region, 2 threads: " << human_time(region.median) << " (median), "
            << human_time(region.min) << " (best)\n\n";
  record({{"experiment", "D"},
          {"name", "empty_parallel_region"},
          {"threads", 2},
          {"time", to_json(region)}});
  const std::vector<int64_t> sizes = budget.quick ? std::vector<int64_t>{32, 64, 128}
                                                  : std::vector<int64_t>{16, 32, 64, 96, 128, 256};
  Table table({"N", "1-thread time", "gemm_fast 1 thr", "gemm_fast 2 thr", "speed-up",
               "step 5, 1 thr", "step 6, 2 thr", "speed-up"});
  json out = json::array();
  for (const int64_t n : sizes) {
    Problem p(n);
    // GFLOP/s of gemm on `threads` threads, and the seconds per call.
    auto rate = [&](void (*gemm)(int64_t, const float*, const float*, float*), int threads) {
      const Timing t = with_threads(threads, [&] {
        return time_calls(budget, [&] { gemm(n, p.a.data(), p.b.data(), p.c.data()); });
      });
      return std::pair{gemm_flops(n) / t.median / 1e9, t.median};
    };
    const auto [lib1, lib1_s] = rate(sgemm_library, 1);
    const auto [lib2, lib2_s] = rate(sgemm_library, 2);
    json r = {{"experiment", "D"},
              {"name", "sgemm_small"},
              {"n", n},
              {"gemm_fast_seconds_1", lib1_s},
              {"gemm_fast_gflops_1", lib1},
              {"gemm_fast_gflops_2", lib2},
              {"gemm_fast_2_max_abs_error", p.max_abs_error()}};
    std::vector<std::string> row = {std::to_string(n), human_time(lib1_s), sig3(lib1), sig3(lib2),
                                    ratio(lib2 / lib1)};
#ifdef LAB_X86
    if (avx2) {
      const auto [one, one_s] = rate(sgemm_simd, 1);
      const auto [two, two_s] = rate(sgemm_simd_threads, 2);
      row.insert(row.end(), {sig3(one), sig3(two), ratio(two / one)});
      r["lab_simd_gflops_1"] = one;
      r["lab_simd_gflops_2"] = two;
      r["lab_simd_2_max_abs_error"] = p.max_abs_error();
    }
#endif
    if (!avx2) row.insert(row.end(), {"skipped", "(no AVX2/FMA)", ""});
    table.add(row);
    out.push_back(r);
    record(r);
  }
  table.print();
  std::cout << "  (GFLOP/s; \"1-thread time\" is one call of gemm_fast on 1 thread.)\n";
  meaning(
      "A thread team costs a fixed price per call (the empty region above; far more when "
      "the other core is busy and the second thread must wait to be scheduled). A call whose "
      "whole 1-thread time is a few such prices cannot gain from a second thread: half the "
      "work saves less than the region costs. Hence a grain size: at::parallel_for and "
      "gemm_fast run small problems on the calling thread, and thread only where the work "
      "is many times the overhead.");
  return {{"empty_region", to_json(region)}, {"sizes", out}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// E. The kernel registry and the caching allocator.
// ═════════════════════════════════════════════════════════════════════════════════════════════

using kernels::TierGuard;

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const Tensor x = a.to(kFloat64).contiguous(), y = b.to(kFloat64).contiguous();
  const double *p = x.data_ptr<double>(), *q = y.data_ptr<double>();
  double m = 0;
  for (int64_t i = 0; i < x.numel(); ++i) m = std::max(m, std::abs(p[i] - q[i]));
  return m;
}

json experiment_registry(const Budget& budget) {
  heading("E", "Kernel registry and caching allocator",
          "What module 18 registers, matmul on each tier, and what the caching allocator saves.");
  const char* env_tier = std::getenv("TINYTORCH_KERNELS");
  const char* env_threads = std::getenv("TINYTORCH_NUM_THREADS");
  json out;
  {
    const TierGuard fast(kernels::Tier::kFast);
    const kernels::WhichCode code = kernels::which_code_runs();
    const bool caching = get_allocator() == &caching_allocator();
    int registered = 0, entries = 0;
    std::string missing;
    for (const kernels::OpFamilyCode& f : code.families) {
      registered += f.registered;
      entries += f.entries;
      for (const std::string& m : f.missing) missing += " " + m;
    }
    std::cout << "  TINYTORCH_KERNELS=" << (env_tier ? env_tier : "(unset)")
              << "   TINYTORCH_NUM_THREADS=" << (env_threads ? env_threads : "(unset)")
              << "   get_num_threads() = " << get_num_threads() << "\n"
              << "  registered on the fast tier: " << registered << " of " << entries
              << " kernel entries, caching allocator installed " << (caching ? "yes" : "NO")
              << "\n";
    if (code.registration_not_written) {
      std::cout << "  → nothing registered yet: write register_fast_kernels() in\n"
                   "    tinytorch/src/kernels/fast_registry.cpp (module 18, Part 9).\n";
    } else if (!missing.empty()) {
      std::cout << "  → not registered (these run the reference code):" << missing << "\n";
    }
    out["registered"] = {
        {"kernel_entries", registered}, {"of", entries}, {"caching_allocator", caching}};
  }
  // The same matmul call on each tier, on 1 thread (the reference kernel has no threads).
  const int64_t n = budget.quick ? 128 : 256;
  const Tensor a = randn({n, n}), b = randn({n, n});
  Tensor results[2];
  Timing times[2];
  const kernels::Tier tiers[2] = {kernels::Tier::kReference, kernels::Tier::kFast};
  with_threads(1, [&] {
    for (int i = 0; i < 2; ++i) {
      const TierGuard guard(tiers[i]);
      results[i] = matmul(a, b);
      times[i] = time_calls(budget, [&] { consume(matmul(a, b).numel()); });
    }
    return 0;
  });
  std::cout << "\n";
  Table table({"matmul [" + std::to_string(n) + "×" + std::to_string(n) + "], 1 thread", "time",
               "GFLOP/s", "speed-up"});
  table.add({"reference tier (TINYTORCH_KERNELS=reference)", human_time(times[0].median),
             sig3(gemm_flops(n) / times[0].median / 1e9), ratio(1.0)});
  table.add({"fast tier", human_time(times[1].median), sig3(gemm_flops(n) / times[1].median / 1e9),
             ratio(times[0].median / times[1].median)});
  table.print();
  const double diff = max_abs_diff(results[0], results[1]);
  std::cout << "  max |fast − reference| = " << sci(diff, 1) << "\n";
  out["matmul"] = {{"n", n},
                   {"threads", 1},
                   {"reference", to_json(times[0])},
                   {"fast", to_json(times[1])},
                   {"max_abs_diff", diff}};
  record({{"experiment", "E"},
          {"name", "matmul_reference_tier"},
          {"n", n},
          {"gflops", gemm_flops(n) / times[0].median / 1e9}});
  record({{"experiment", "E"},
          {"name", "matmul_fast_tier"},
          {"n", n},
          {"gflops", gemm_flops(n) / times[1].median / 1e9},
          {"max_abs_diff_vs_reference", diff}});

  // The caching allocator against the plain one, each installed with set_allocator for one
  // workload. Fresh instances, so that the statistics are this workload's alone.
  struct Workload {
    std::string name;
    std::function<void()> step;
  };
  const int64_t big = budget.quick ? (int64_t{1} << 22) : (int64_t{1} << 24);
  const Tensor bx = rand({big}), by = rand({big});
  const Tensor x = randn({32, 64}), w = randn({64, 64}), bias = randn({64});
  const std::vector<Workload> workloads = {
      {"x + y, " + human_bytes(4.0 * static_cast<double>(big)) + " result",
       [&] { consume((bx + by).numel()); }},
      {"(x·W + b).clamp_min(0), 8 KiB tensors",
       [&] { consume((matmul(x, w) + bias).clamp_min(0).numel()); }},
  };
  Table alloc(
      {"workload (1 thread)", "plain", "caching", "speed-up", "hits", "misses", "cached", "peak"});
  json alloc_out = json::array();
  with_threads(1, [&] {
    for (const Workload& wl : workloads) {
      CPUAllocator plain;
      CachingAllocator cache(&plain);
      set_allocator(&plain);
      const Timing t_plain = time_calls(budget, wl.step);
      set_allocator(&cache);
      const Timing t_cache = time_calls(budget, wl.step);
      set_allocator(nullptr);
      const CachingAllocatorStats s = cache.caching_stats();
      alloc.add({wl.name, human_time(t_plain.median), human_time(t_cache.median),
                 ratio(t_plain.median / t_cache.median), std::to_string(s.hits),
                 std::to_string(s.misses), human_bytes(static_cast<double>(s.bytes_cached)),
                 human_bytes(static_cast<double>(s.peak_bytes))});
      json r = {{"experiment", "E"},
                {"name", wl.name},
                {"plain", to_json(t_plain)},
                {"caching", to_json(t_cache)},
                {"hits", s.hits},
                {"misses", s.misses},
                {"bytes_cached", s.bytes_cached},
                {"peak_bytes", s.peak_bytes}};
      alloc_out.push_back(r);
      record(r);
    }
    return 0;
  });
  std::cout << "\n";
  alloc.print();
  const CachingAllocatorStats global = caching_allocator().caching_stats();
  std::cout << "\n  The fast tier's process-wide caching allocator, so far in this run: "
            << global.hits << " hits, " << global.misses << " misses,\n  "
            << human_bytes(static_cast<double>(global.bytes_cached)) << " cached, peak "
            << human_bytes(static_cast<double>(global.peak_bytes)) << ".\n";
  out["allocator"] = alloc_out;
  out["process_caching_allocator"] = {{"hits", global.hits},
                                      {"misses", global.misses},
                                      {"bytes_cached", global.bytes_cached},
                                      {"peak_bytes", global.peak_bytes}};
  meaning(
      "The registry is one table of function pointers: the ops ask it and fall back to the "
      "reference kernel when an entry is null, so the same matmul call runs either tier. The "
      "caching allocator pays off for BIG blocks: glibc hands those out as fresh pages from "
      "the OS (mmap), and touching them costs a page fault per 4 KiB, every call. Small "
      "blocks glibc already recycles itself — which is why CPU PyTorch uses the system "
      "allocator, and the CUDA one (cudaMalloc synchronises the GPU) is where the caching "
      "allocator matters.");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine kCli{.name = "lab18", .only_help = "e.g. --only BD (letters A-E)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, kCli, opts)) return *rc;
  const Budget budget =
      opts.quick ? Budget{.quick = true, .samples = 3, .max_figure_s = 0.3, .min_sample_s = 5e-4}
                 : Budget{};
  manual_seed(0);
  const Stopwatch run;
  const std::optional<double> busy = bench::cpu_busy_fraction();
  std::cout << "TinyTorch module 18 lab — acceleration, measured"
            << (budget.quick ? " (--quick: small sizes)" : "") << "\n  CPU: " << cpu_model() << ", "
            << std::thread::hardware_concurrency() << " hardware threads; compiler: " << __VERSION__
#ifdef NDEBUG
            << " (optimised)"
#endif
            << "\n  AVX2/FMA: " << (cpu_has_avx2_fma() ? "yes" : "no")
            << "; OpenMP wait policy: " << bench::openmp_wait_policy() << "\n";
  if (busy) {
    std::cout << "  CPU time used by other programs just before the run: " << fixed(100 * *busy, 0)
              << "%" << (*busy > 0.1 ? " — expect noisy figures, 2-thread ones most" : "") << "\n";
  }
  print_which_code();
  json machine = machine_json();
  machine["avx2_fma"] = cpu_has_avx2_fma();
  machine["openmp_wait_policy"] = bench::openmp_wait_policy();
  machine["busy_fraction_before"] = busy ? json(*busy) : json(nullptr);
  json doc = {{"lab", "18_acceleration"}, {"quick", budget.quick}, {"machine", machine}};
  const int failed = run_experiments({{"a_limits", [&] { return experiment_limits(budget); }},
                                      {"b_ladder", [&] { return experiment_ladder(budget); }},
                                      {"c_roofline", [&] { return experiment_roofline(budget); }},
                                      {"d_small", [&] { return experiment_small(budget); }},
                                      {"e_registry", [&] { return experiment_registry(budget); }}},
                                     opts, "18", doc);
  doc["records"] = g_records;
  doc["total_seconds"] = run.wall_seconds();
  print_done(run.wall_seconds(), failed);
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(kCli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
