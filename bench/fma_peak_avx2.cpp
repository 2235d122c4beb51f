// The AVX2 peak kernels, compiled with -mavx2 -mfma (see bench/CMakeLists.txt). They are called
// only after fma_peak_for_this_cpu() / int8_peak_for_this_cpu() have checked at run time that the
// CPU has AVX2 (and FMA), so nothing here may run before that check (no static initialisers). On
// a CPU with AVX-512 the wider kernels of fma_peak_avx512.cpp and int8_peak_vnni.cpp measure the
// peaks instead.
#include <immintrin.h>

#include <cstdint>

#include "fma_peak.h"
#include "fma_peak_loop.h"

namespace tinytorch::bench {
namespace {

// A ymm register of 8 floats (fma_peak_loop.h). A Zen 3 or Intel core issues 2 such FMAs per cycle.
//   acc = acc * m + c with m just below 1 converges to c / (1 - m): the values stay normal floats
//   (no overflow, no slow denormals), whatever the iteration count.
struct FmaYmm {
  using Vec = __m256;
  using Lane = float;
  static constexpr int kLanes = 8;
  static Vec start(int i) { return _mm256_set1_ps(0.1f * static_cast<float>(i)); }
  static Vec step(Vec acc) {
    return _mm256_fmadd_ps(acc, _mm256_set1_ps(0.999999f), _mm256_set1_ps(1e-6f));
  }
  static Vec add(Vec x, Vec y) { return _mm256_add_ps(x, y); }
  static void store(float* p, Vec v) { _mm256_store_ps(p, v); }
};

// The int8 GEMM's AVX2 sequence per 32 multiply-adds (fma_peak.h): vpmaddubsw, vpmaddwd by ones,
// vpaddd. Each step's bytes are the accumulator's own (so no product can be computed once and
// reused): a chain of 3 + 3 + 1 cycles of latency per step, while the 20 multiplies of a step
// (10 accumulators) need 10 cycles on a core with two pipes for them — the multiplies, not the
// latency, set the pace. Integer arithmetic wraps, and the products stay far from int16
// saturation (|b| = 2).
struct Int8Ymm {
  using Vec = __m256i;
  using Lane = int32_t;
  static constexpr int kLanes = 8;
  static Vec start(int i) { return _mm256_set1_epi32(i); }
  static Vec step(Vec acc) {
    const Vec products = _mm256_maddubs_epi16(acc, _mm256_set1_epi8(-2));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(products, _mm256_set1_epi16(1)));
  }
  static Vec add(Vec x, Vec y) { return _mm256_add_epi32(x, y); }
  static void store(int32_t* p, Vec v) { _mm256_store_si256(reinterpret_cast<Vec*>(p), v); }
};

}  // namespace

float fma_peak_avx2(int64_t steps) {
  return peak_loop<FmaYmm, kFmaPeakAccumulators>(steps);
}

float int8_peak_avx2(int64_t steps) {
  return peak_loop<Int8Ymm, kInt8PeakAccumulators>(steps);
}

}  // namespace tinytorch::bench
