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

}  // namespace tinytorch::bench
