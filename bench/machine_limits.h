// The machine's own limits — FMA peak and memory bandwidth — and the state of the machine while
// they are measured. Shared by peak_bench (through Google Benchmark) and module 18's lab (with its
// own timer), so both measure exactly the same loops. Library target tinytorch_machine_limits
// (bench/CMakeLists.txt); it does not need Google Benchmark.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tinytorch/core/parallel.h"

namespace tinytorch::bench {

// ---- FMA peak ---------------------------------------------------------------------------------
// A core's floating-point peak is measured with the widest fused multiply-add its CPU has: a
// kernel of narrower FMAs would measure a lower ceiling than the one a GEMM of the widest ones
// reaches. On a core with two 512-bit FMA units (AMD Zen 5 desktop/server, Intel Xeons with two
// such units; many Xeon SKUs have one) an AVX2 kernel does half the flops per cycle of an AVX-512
// one, so against an AVX2 "peak" a good GEMM would score close to 200%.

// One of the register-only FMA kernels of fma_peak.h, and what a step of it does.
struct FmaPeak {
  const char* isa;        // its instruction set, "AVX-512" or "AVX2", for the printed figures
  double flops_per_step;  // single-precision flops one step does
  float (*kernel)(int64_t steps);  // runs `steps` steps (the result only defeats the optimiser)
};

// The widest kernel this CPU can run: AVX-512 when the CPU has AVX-512F, else AVX2 when it has AVX2
// and FMA (both checked at run time); nullopt when it has neither or the kernels are not compiled
// in (they are on x86-64 with GCC or Clang).
std::optional<FmaPeak> fma_peak_for_this_cpu();

// The int8 peak: the int8 GEMM's instruction sequence (fma_peak.h) alone, in registers — VNNI's
// vpdpbusd when the CPU has AVX-512 VNNI, else AVX2's three instructions. flops_per_step counts
// integer operations (a multiply-add = 2). nullopt without AVX2.
std::optional<FmaPeak> int8_peak_for_this_cpu();

// ---- STREAM (McCalpin) ------------------------------------------------------------------------
//   copy   c[i] = a[i]            2 x 4 bytes per element
//   triad  a[i] = b[i] + s * c[i] 3 x 4 bytes per element
// on arrays several times larger than the last-level cache, so every byte comes from DRAM: the
// bandwidth that bounds element-wise ops on big tensors. Bytes are counted as STREAM counts them:
// the extra read a store to an uncached line costs ("write-allocate") is not counted.

// Three float arrays, each at least 4x the largest cache (STREAM's rule), at least 128 MiB and at
// most 1 GiB. Allocated on first use and first touched (which decides the memory node a page lives
// on) by all threads, in the chunks for_stream_blocks hands out.
struct StreamArrays {
  static constexpr int64_t kBlock = 16;                // elements per inner block (see the loops)
  static constexpr int64_t kGrain = int64_t{1} << 16;  // at least 256 KiB per array per chunk

  static int64_t elements();
  static StreamArrays& get();

  int64_t n = elements();
  std::unique_ptr<float[]> a{new float[static_cast<size_t>(n)]};
  std::unique_ptr<float[]> b{new float[static_cast<size_t>(n)]};
  std::unique_ptr<float[]> c{new float[static_cast<size_t>(n)]};

 private:
  StreamArrays();
};

// The loops walk fixed-size blocks of kBlock elements: no trip count to check at run time, so the
// compiler vectorises them at -O2 too. They are compiled so that the copy stays a loop of ordinary
// stores and never becomes a call to memcpy (which streams with non-temporal stores: a different,
// flattering figure). begin and end are multiples of kBlock.
void stream_copy_range(const float* a, float* c, int64_t begin, int64_t end);
void stream_triad_range(float* a, const float* b, const float* c, float s, int64_t begin,
                        int64_t end);

// Runs f(begin, end) over [0, n) in chunks of whole kBlocks, on tinytorch's threads
// (get_num_threads(), as every kernel of the framework).
template <typename F>
void for_stream_blocks(int64_t n, const F& f) {
  constexpr int64_t B = StreamArrays::kBlock;
  parallel_for(0, n / B, StreamArrays::kGrain / B,
               [&](int64_t begin, int64_t end) { f(begin * B, end * B); });
}

// ---- The machine while it is measured ---------------------------------------------------------

// The fraction of CPU time other programs use right now (0 = idle machine, 1 = every CPU busy),
// from two samples of /proc/stat 0.3 s apart, less what this process used meanwhile; nullopt
// where there is no /proc/stat.
std::optional<double> cpu_busy_fraction();

// How idle OpenMP threads wait, as the environment sets it (libgomp reads it at start-up only),
// and whether it sets nothing (neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT).
std::string openmp_wait_policy();
bool openmp_wait_policy_is_default();

}  // namespace tinytorch::bench
