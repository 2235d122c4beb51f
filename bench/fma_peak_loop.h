// The register-only loop that measures a core's peak, written once for any vector width and any
// multiply-add instruction. Included only by the peak kernels' files (fma_peak_avx2.cpp,
// fma_peak_avx512.cpp, int8_peak_vnni.cpp), each compiled for its own instruction set
// (bench/CMakeLists.txt), each with its own kernel types K:
//
//   using Vec = ...;  using Lane = ...;  kLanes      __m256 / __m512i …, float / int32_t, 8 / 16
//   start(i)          the i-th accumulator's first value
//   step(acc)         one multiply-add instruction (sequence) into acc: what is being measured
//   add(x, y), store(p, v)
//
// NOTE: whatever these files compile is AVX2 or AVX-512 code, and that includes every inline
// function or template they use. Had this loop called, say, std::max<float>, the AVX-512 file's
// copy of std::max and the plain copy of any other file would be the same symbol; the linker
// keeps one of them, possibly the AVX-512 one, for every caller, which would then crash with
// "illegal instruction" on a CPU without AVX-512. So K lives in an unnamed namespace of each file
// (every instantiation with it is that file's own), and this loop uses nothing but K.
#pragma once

#include <cstdint>

#include "fma_peak.h"

namespace tinytorch::bench {

// kAccumulators independent chains, each advanced by one step(acc) per loop iteration, and
// nothing but registers touched: a core with 2 FMA units and a latency of 4-5 cycles needs at
// least 8-10 FMAs in flight to keep both busy; 12 leave room to spare. Returns the sum of the
// accumulators' lanes, only so that the work cannot be optimised away.
template <typename K, int kAccumulators>
float peak_loop(int64_t steps) {
  typename K::Vec acc[kAccumulators];
#pragma GCC unroll 12
  for (int i = 0; i < kAccumulators; ++i) acc[i] = K::start(i);
  for (int64_t step = 0; step < steps; ++step) {
#pragma GCC unroll 12
    for (int i = 0; i < kAccumulators; ++i) acc[i] = K::step(acc[i]);
  }
#pragma GCC unroll 12
  for (int i = 1; i < kAccumulators; ++i) acc[0] = K::add(acc[0], acc[i]);
  alignas(64) typename K::Lane lanes[K::kLanes];
  K::store(lanes, acc[0]);
  float total = 0.0f;
  for (int i = 0; i < K::kLanes; ++i) total += static_cast<float>(lanes[i]);
  return total;
}

}  // namespace tinytorch::bench
