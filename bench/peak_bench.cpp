// The machine's own limits, measured: the roofline every other figure is read against.
//
// The loops themselves live in machine_limits.h (shared with module 18's lab).
//
//   fma_peak      GFLOP/s of a register-only FMA kernel of the widest FMA the CPU has (AVX-512,
//                 else AVX2: fma_peak_for_this_cpu()), its record's impl naming which: what the
//                 cores can compute when no data has to come from memory. No kernel beats it; a
//                 GEMM at 80-90% of it is excellent.
//   int8_peak     GOP/s (a multiply-add = 2) of the int8 GEMM's instruction sequence, in
//                 registers (int8_peak_for_this_cpu()): vpdpbusd where the CPU has AVX-512 VNNI,
//                 else AVX2's vpmaddubsw + vpmaddwd + vpaddd — the ceiling of module 15's int8
//                 Linear on this CPU. Against fma_peak it says how much faster than float32 int8
//                 can be here at best.
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

#include <cstdint>
#include <exception>
#include <iostream>
#include <optional>
#include <set>
#include <string>

#include "bench_harness.h"
#include "machine_limits.h"
#include "tinytorch/core/parallel.h"

namespace {

using tinytorch::bench::FmaPeak;
using tinytorch::bench::for_stream_blocks;
using tinytorch::bench::Key;
using tinytorch::bench::stream_copy_range;
using tinytorch::bench::stream_triad_range;
using tinytorch::bench::StreamArrays;
using tinytorch::bench::Unit;

// ---- FMA peak ---------------------------------------------------------------------------------

// Steps per call: about 2 ms of work per thread (AVX-512 at 200 GFLOP/s per core, or AVX2 at
// 100: a step of AVX2 does half the flops).
constexpr int64_t kFmaSteps = int64_t{1} << 20;

// The figure `name` ("fma_peak", "int8_peak") with impl = the kernel's instruction set ("AVX-512",
// "AVX2", ...), so that the record, and tito's table, say which kernel the peak was measured with.
void add_peak(tinytorch::bench::Suite& suite, const std::string& name,
              const std::optional<FmaPeak>& peak, const std::string& needs, int64_t threads) {
  if (!peak) {
    suite.skip({.name = name, .threads = threads}, needs);
    return;
  }
  const Key key{.name = name, .impl = peak->isa, .threads = threads};
  suite.add(key, Unit::kGflops, peak->flops_per_step * static_cast<double>(kFmaSteps * threads),
            [threads, kernel = peak->kernel] {
              tinytorch::set_num_threads(static_cast<int>(threads));
              return [threads, kernel] {
                // One kernel per thread. (If OpenMP gave us fewer threads, a thread runs several
                // in turn and the figure honestly comes out lower.)
                tinytorch::parallel_for(0, threads, 1, [kernel](int64_t begin, int64_t end) {
                  for (int64_t t = begin; t < end; ++t) {
                    benchmark::DoNotOptimize(kernel(kFmaSteps));
                  }
                });
              };
            });
}

// ---- Memory bandwidth (the loops and arrays of machine_limits.h) ------------------------------

void add_stream(tinytorch::bench::Suite& suite, int64_t threads) {
  const double n = static_cast<double>(StreamArrays::elements());
  suite.add({.name = "stream_copy", .threads = threads}, Unit::kGbps, 2.0 * 4.0 * n, [threads] {
    StreamArrays& s = StreamArrays::get();
    tinytorch::set_num_threads(static_cast<int>(threads));
    return [&s] {
      for_stream_blocks(s.n, [&s](int64_t begin, int64_t end) {
        stream_copy_range(s.a.get(), s.c.get(), begin, end);
      });
    };
  });
  suite.add({.name = "stream_triad", .threads = threads}, Unit::kGbps, 3.0 * 4.0 * n, [threads] {
    StreamArrays& s = StreamArrays::get();
    tinytorch::set_num_threads(static_cast<int>(threads));
    return [&s] {
      for_stream_blocks(s.n, [&s](int64_t begin, int64_t end) {
        stream_triad_range(s.a.get(), s.b.get(), s.c.get(), 3.0f, begin, end);
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
    const std::optional<FmaPeak> peak = tinytorch::bench::fma_peak_for_this_cpu();
    const std::optional<FmaPeak> int8 = tinytorch::bench::int8_peak_for_this_cpu();
    for (const int64_t threads : thread_counts) {
      add_peak(suite, "fma_peak", peak, "needs an x86-64 CPU with AVX2 and FMA, or AVX-512",
               threads);
    }
    for (const int64_t threads : thread_counts) {
      add_peak(suite, "int8_peak", int8, "needs an x86-64 CPU with AVX2", threads);
    }
    for (const int64_t threads : thread_counts) add_stream(suite, threads);
    if (peak) {
      suite.context("FMA peak kernel", std::string(peak->isa) + " (the widest FMA of this CPU)");
    }
    suite.context("stream arrays", "3 x " + std::to_string(StreamArrays::elements() * 4 >> 20) +
                                       " MiB (at least 4x the largest cache)");
    return suite.run();
  } catch (const std::exception& e) {  // e.g. a bad TINYTORCH_* environment variable
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
