// The machine's own limits, measured: the roofline every other figure is read against.
//
//   fma_peak      GFLOP/s of a register-only AVX2/FMA kernel (fma_peak_avx2.cpp): what the cores
//                 can compute when no data has to come from memory. No kernel beats it; a GEMM
//                 at 80-90% of it is excellent.
//   stream_copy   GB/s of c[i] = a[i]            (counted as 2 x 4 bytes per element)
//   stream_triad  GB/s of a[i] = b[i] + s * c[i] (3 x 4 bytes per element)
//                 on arrays several times larger than the last-level cache, so every byte comes
//                 from DRAM — the bandwidth that bounds element-wise ops on big tensors. Bytes are
//                 counted as STREAM (McCalpin) counts them: the extra read that a store to an
//                 uncached line costs ("write-allocate") is not counted.
//
// Each at 1 thread, 2 threads and all threads (tinytorch's default count), the threads started
// by tinytorch::parallel_for like every kernel of the framework.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <iostream>
#include <memory>
#include <set>
#include <string>

#include "bench_harness.h"
#include "fma_peak.h"
#include "tinytorch/core/parallel.h"

namespace {

using tinytorch::bench::Key;
using tinytorch::bench::Unit;

// ---- FMA peak ---------------------------------------------------------------------------------

#ifdef TINYTORCH_BENCH_HAVE_FMA_KERNEL
bool cpu_has_avx2_fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

// Steps per call: about 2 ms of work per thread at 100 GFLOP/s per core.
constexpr int64_t kFmaSteps = int64_t{1} << 20;

void add_fma_peak(tinytorch::bench::Suite& suite, int64_t threads) {
  const Key key{.name = "fma_peak", .threads = threads};
#ifdef TINYTORCH_BENCH_HAVE_FMA_KERNEL
  if (cpu_has_avx2_fma()) {
    suite.add(key, Unit::kGflops,
              tinytorch::bench::kFmaPeakFlopsPerStep * static_cast<double>(kFmaSteps * threads),
              [threads] {
                tinytorch::set_num_threads(static_cast<int>(threads));
                return [threads] {
                  // One kernel per thread. (If OpenMP gave us fewer threads, a thread runs
                  // several in turn and the figure honestly comes out lower.)
                  tinytorch::parallel_for(0, threads, 1, [](int64_t begin, int64_t end) {
                    for (int64_t t = begin; t < end; ++t) {
                      benchmark::DoNotOptimize(tinytorch::bench::fma_peak_kernel(kFmaSteps));
                    }
                  });
                };
              });
    return;
  }
#endif
  suite.skip(key, "needs an x86-64 CPU with AVX2 and FMA");
}

// ---- Memory bandwidth -------------------------------------------------------------------------

// Three arrays of floats, each at least 4x the largest cache (STREAM's rule), at least 128 MiB
// and at most 1 GiB. Allocated on first use, and first touched (which decides the memory node a
// page lives on) by all threads, in the same chunks the kernels use.
struct StreamArrays {
  static constexpr int64_t kBlock = 16;                // elements per inner block (see below)
  static constexpr int64_t kGrain = int64_t{1} << 16;  // at least 256 KiB per array per chunk

  static int64_t elements() {
    int64_t largest_cache = 0;
    for (const auto& cache : benchmark::CPUInfo::Get().caches) {
      largest_cache = std::max<int64_t>(largest_cache, cache.size);
    }
    const int64_t bytes =
        std::clamp<int64_t>(4 * largest_cache, int64_t{128} << 20, int64_t{1} << 30);
    return bytes / static_cast<int64_t>(sizeof(float)) / kBlock * kBlock;
  }

  static StreamArrays& get() {
    static StreamArrays arrays;
    return arrays;
  }

  int64_t n = elements();
  std::unique_ptr<float[]> a{new float[static_cast<size_t>(n)]};
  std::unique_ptr<float[]> b{new float[static_cast<size_t>(n)]};
  std::unique_ptr<float[]> c{new float[static_cast<size_t>(n)]};

 private:
  StreamArrays();
};

// The loops walk fixed-size blocks so that the compiler vectorises them at -O2 too (no trip
// count to check at run time). __restrict: the arrays never overlap.
void copy_range(const float* __restrict a, float* __restrict c, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; i += StreamArrays::kBlock) {
    for (int64_t j = 0; j < StreamArrays::kBlock; ++j) c[i + j] = a[i + j];
  }
}

void triad_range(float* __restrict a, const float* __restrict b, const float* __restrict c, float s,
                 int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; i += StreamArrays::kBlock) {
    for (int64_t j = 0; j < StreamArrays::kBlock; ++j) a[i + j] = b[i + j] + s * c[i + j];
  }
}

// Chunk boundaries must stay multiples of kBlock: round each chunk parallel_for hands out.
template <typename F>
void for_blocks(int64_t n, const F& f) {
  constexpr int64_t B = StreamArrays::kBlock;
  tinytorch::parallel_for(0, n / B, StreamArrays::kGrain / B,
                          [&](int64_t begin, int64_t end) { f(begin * B, end * B); });
}

StreamArrays::StreamArrays() {
  const int threads = tinytorch::get_num_threads();
  tinytorch::set_num_threads(0);  // all of them
  for_blocks(n, [this](int64_t begin, int64_t end) {
    std::fill(a.get() + begin, a.get() + end, 1.0f);
    std::fill(b.get() + begin, b.get() + end, 2.0f);
    std::fill(c.get() + begin, c.get() + end, 0.5f);
  });
  tinytorch::set_num_threads(threads);
}

void add_stream(tinytorch::bench::Suite& suite, int64_t threads) {
  const double n = static_cast<double>(StreamArrays::elements());
  suite.add({.name = "stream_copy", .threads = threads}, Unit::kGbps, 2.0 * 4.0 * n, [threads] {
    StreamArrays& s = StreamArrays::get();
    tinytorch::set_num_threads(static_cast<int>(threads));
    return [&s] {
      for_blocks(
          s.n, [&s](int64_t begin, int64_t end) { copy_range(s.a.get(), s.c.get(), begin, end); });
    };
  });
  suite.add({.name = "stream_triad", .threads = threads}, Unit::kGbps, 3.0 * 4.0 * n, [threads] {
    StreamArrays& s = StreamArrays::get();
    tinytorch::set_num_threads(static_cast<int>(threads));
    return [&s] {
      for_blocks(s.n, [&s](int64_t begin, int64_t end) {
        triad_range(s.a.get(), s.b.get(), s.c.get(), 3.0f, begin, end);
      });
    };
  });
}

}  // namespace

int main(int argc, char** argv) {
  try {
    tinytorch::bench::Suite suite(argc, argv);
    // 1 thread, 2 threads (what the SGEMM figures use) and all of them.
    const std::set<int64_t> thread_counts{1, 2, tinytorch::bench::default_threads()};
    for (const int64_t threads : thread_counts) add_fma_peak(suite, threads);
    for (const int64_t threads : thread_counts) add_stream(suite, threads);
    suite.context("stream arrays", "3 x " + std::to_string(StreamArrays::elements() * 4 >> 20) +
                                       " MiB (at least 4x the largest cache)");
    return suite.run();
  } catch (const std::exception& e) {  // e.g. a bad TINYTORCH_* environment variable
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
