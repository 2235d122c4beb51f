// The register-only FMA loop that measures a core's floating-point peak, written once for any
// vector width. Included only by fma_peak_avx2.cpp and fma_peak_avx512.cpp, each compiled for its
// own instruction set (bench/CMakeLists.txt), each with its own vector type V:
//
//   using Vec = ...;  kLanes          __m256 / __m512, 8 / 16 floats
//   set1(x), fmadd(x, y, acc), add(x, y), store(p, v)
//
// NOTE: whatever these files compile is AVX2 or AVX-512 code, and that includes every inline
// function or template they use. Had this loop called, say, std::max<float>, the AVX-512 file's
// copy of std::max and the plain copy of any other file would be the same symbol; the linker
// keeps one of them, possibly the AVX-512 one, for every caller, which would then crash with
// "illegal instruction" on a CPU without AVX-512. So V lives in an unnamed namespace of each file
// (every instantiation with it is that file's own), and this loop uses nothing but V.
#pragma once

#include <cstdint>

#include "fma_peak.h"

namespace tinytorch::bench {

// 12 independent accumulators (kFmaPeakAccumulators), each updated by one FMA per loop step, and
// nothing but registers touched: a core with 2 FMA units and a latency of 4-5 cycles needs at least
// 8-10 FMAs in flight to keep both busy; 12 leave room to spare. Returns the sum of the
// accumulators, only so that the work cannot be optimised away.
//   acc = acc * m + c with m just below 1 converges to c / (1 - m): the values stay normal floats
//   (no overflow, no slow denormals), whatever the iteration count.
template <typename V>
float fma_peak_loop(int64_t steps) {
  const typename V::Vec m = V::set1(0.999999f), c = V::set1(1e-6f);
  typename V::Vec acc[kFmaPeakAccumulators];
#pragma GCC unroll 12
  for (int i = 0; i < kFmaPeakAccumulators; ++i) acc[i] = V::set1(0.1f * static_cast<float>(i));
  for (int64_t step = 0; step < steps; ++step) {
#pragma GCC unroll 12
    for (int i = 0; i < kFmaPeakAccumulators; ++i) acc[i] = V::fmadd(acc[i], m, c);
  }
#pragma GCC unroll 12
  for (int i = 1; i < kFmaPeakAccumulators; ++i) acc[0] = V::add(acc[0], acc[i]);
  alignas(64) float lanes[V::kLanes];
  V::store(lanes, acc[0]);
  float total = 0.0f;
  for (int i = 0; i < V::kLanes; ++i) total += lanes[i];
  return total;
}

}  // namespace tinytorch::bench
