// The AVX2 FMA peak kernel, compiled with -mavx2 -mfma (see bench/CMakeLists.txt). It is called
// only after fma_peak_for_this_cpu() has checked at run time that the CPU has AVX2 and FMA, so
// nothing here may run before that check (no static initialisers). On a CPU with AVX-512 the
// wider kernel of fma_peak_avx512.cpp measures the peak instead.
#include <immintrin.h>

#include "fma_peak.h"
#include "fma_peak_loop.h"

namespace tinytorch::bench {
namespace {

// A ymm register of 8 floats (fma_peak_loop.h). A Zen 3 or Intel core issues 2 such FMAs per cycle.
struct Ymm {
  using Vec = __m256;
  static constexpr int kLanes = 8;
  static Vec set1(float x) { return _mm256_set1_ps(x); }
  static Vec fmadd(Vec x, Vec y, Vec acc) { return _mm256_fmadd_ps(x, y, acc); }
  static Vec add(Vec x, Vec y) { return _mm256_add_ps(x, y); }
  static void store(float* p, Vec v) { _mm256_store_ps(p, v); }
};

}  // namespace

float fma_peak_avx2(int64_t steps) {
  return fma_peak_loop<Ymm>(steps);
}

// 10 independent int32 accumulators, nothing but registers touched, like fma_peak_loop. Each
// step's bytes are the accumulator's own (so no product can be computed once and reused): a chain
// of 3 + 3 + 1 cycles of latency per step, while the 20 multiplies of a step need 10 cycles on a
// core with two pipes for them — the multiplies, not the latency, set the pace. Integer
// arithmetic wraps, and the products stay far from int16 saturation (|b| = 2).
float int8_peak_avx2(int64_t steps) {
  const __m256i ones = _mm256_set1_epi16(1), b = _mm256_set1_epi8(-2);
  __m256i acc[kInt8PeakAccumulators];
#pragma GCC unroll 10
  for (int i = 0; i < kInt8PeakAccumulators; ++i) acc[i] = _mm256_set1_epi32(i);
  for (int64_t step = 0; step < steps; ++step) {
#pragma GCC unroll 10
    for (int i = 0; i < kInt8PeakAccumulators; ++i) {
      acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(acc[i], b), ones));
    }
  }
#pragma GCC unroll 10
  for (int i = 1; i < kInt8PeakAccumulators; ++i) acc[0] = _mm256_add_epi32(acc[0], acc[i]);
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc[0]);
  float total = 0.0f;
  for (const int32_t v : lanes) total += static_cast<float>(v);
  return total;
}

}  // namespace tinytorch::bench
