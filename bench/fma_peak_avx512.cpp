// The AVX-512 FMA peak kernel, compiled with -mavx512f -mfma (see bench/CMakeLists.txt). It is
// called only after fma_peak_for_this_cpu() has checked at run time that the CPU has AVX-512F, so
// nothing here may run before that check (no static initialisers).
#include <immintrin.h>

#include "fma_peak.h"
#include "fma_peak_loop.h"

namespace tinytorch::bench {
namespace {

// A zmm register of 16 floats (fma_peak_loop.h), stepped as FmaYmm in fma_peak_avx2.cpp. A core
// with two 512-bit FMA units (AMD Zen 5 desktop/server, Intel Xeons with two such units) issues 2
// of these per cycle: twice the flops of 8-wide AVX2 FMAs, and the reason this kernel, not the AVX2
// one, measures those machines' peak. (Where there is one 512-bit unit, as on many Xeon SKUs, or
// the units are 256 bits wide and split each 512-bit FMA in two halves, as on Zen 4, both kernels
// measure the same peak.)
struct FmaZmm {
  using Vec = __m512;
  using Lane = float;
  static constexpr int kLanes = 16;
  static Vec start(int i) { return _mm512_set1_ps(0.1f * static_cast<float>(i)); }
  static Vec step(Vec acc) {
    return _mm512_fmadd_ps(acc, _mm512_set1_ps(0.999999f), _mm512_set1_ps(1e-6f));
  }
  static Vec add(Vec x, Vec y) { return _mm512_add_ps(x, y); }
  static void store(float* p, Vec v) { _mm512_store_ps(p, v); }
};

}  // namespace

float fma_peak_avx512(int64_t steps) {
  return peak_loop<FmaZmm, kFmaPeakAccumulators>(steps);
}

}  // namespace tinytorch::bench
