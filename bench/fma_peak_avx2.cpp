// The AVX2 FMA peak kernel, compiled with -mavx2 -mfma (see bench/CMakeLists.txt). It is called
// only after fma_peak_for_this_cpu() has checked at run time that the CPU has AVX2 and FMA, so
// nothing here may run before that check (no static initialisers). On a CPU with AVX-512 the
// wider kernel of fma_peak_avx512.cpp measures the peak instead.
#include "fma_peak.h"

#include <immintrin.h>

namespace tinytorch::bench {

// 12 independent accumulators, each updated by one 8-wide FMA per loop step: a Zen 3 or Intel core
// issues 2 FMAs per cycle with a latency of 4 or 5 cycles, so at least 8-10 FMAs must be in
// flight to keep both pipes busy. Only registers are touched: no loads, no stores.
//   acc = acc * m + c with m just below 1 converges to c / (1 - m): the values stay normal floats
//   (no overflow, no slow denormals), whatever the iteration count.
float fma_peak_avx2(int64_t steps) {
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
  __m256 a0 = _mm256_set1_ps(0.0f), a1 = _mm256_set1_ps(0.1f), a2 = _mm256_set1_ps(0.2f);
  __m256 a3 = _mm256_set1_ps(0.3f), a4 = _mm256_set1_ps(0.4f), a5 = _mm256_set1_ps(0.5f);
  __m256 a6 = _mm256_set1_ps(0.6f), a7 = _mm256_set1_ps(0.7f), a8 = _mm256_set1_ps(0.8f);
  __m256 a9 = _mm256_set1_ps(0.9f), a10 = _mm256_set1_ps(1.0f), a11 = _mm256_set1_ps(1.1f);
  for (int64_t i = 0; i < steps; ++i) {
    a0 = _mm256_fmadd_ps(a0, m, c);
    a1 = _mm256_fmadd_ps(a1, m, c);
    a2 = _mm256_fmadd_ps(a2, m, c);
    a3 = _mm256_fmadd_ps(a3, m, c);
    a4 = _mm256_fmadd_ps(a4, m, c);
    a5 = _mm256_fmadd_ps(a5, m, c);
    a6 = _mm256_fmadd_ps(a6, m, c);
    a7 = _mm256_fmadd_ps(a7, m, c);
    a8 = _mm256_fmadd_ps(a8, m, c);
    a9 = _mm256_fmadd_ps(a9, m, c);
    a10 = _mm256_fmadd_ps(a10, m, c);
    a11 = _mm256_fmadd_ps(a11, m, c);
  }
  // Sum everything so that no accumulator is dead code.
  const __m256 sum =
      _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                                  _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7))),
                    _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0.0f;
  for (const float x : lanes) total += x;
  return total;
}

}  // namespace tinytorch::bench
