// The AVX-512 FMA peak kernel, compiled with -mavx512f -mfma (see bench/CMakeLists.txt). It is
// called only after fma_peak_for_this_cpu() has checked at run time that the CPU has AVX-512F, so
// nothing here may run before that check (no static initialisers).
//
// Everything this file defines is compiled for AVX-512, and that includes any inline function or
// template it uses: had it called, say, std::max<float>, its copy of std::max (AVX-512 code) and
// the copy of any other file (plain code) would be the same symbol, and the linker keeps just one
// of them, possibly this one, for every caller, which would then crash with "illegal instruction"
// on a CPU without AVX-512. So it uses only the kernel's own declaration (fma_peak.h, plain
// declarations) and the intrinsics of <immintrin.h>, which are always inlined, never emitted as
// functions of their own.
#include "fma_peak.h"

#include <immintrin.h>

namespace tinytorch::bench {

// The AVX2 kernel (fma_peak_avx2.cpp) with registers twice as wide: 12 independent accumulators,
// each updated by one 16-wide FMA per loop step, and nothing but registers touched. A core with
// two 512-bit FMA units (AMD Zen 5, most Intel Xeons) issues 2 such FMAs per cycle with a
// latency of 4 cycles, so at least 8 must be in flight; 12 leave room to spare. That is twice the
// flops of 8-wide AVX2 FMAs per cycle, and the reason this kernel, not the AVX2 one, measures
// those machines' peak. (Where the units are 256 bits wide and split each 512-bit FMA in two
// halves, as on Zen 4, both kernels measure the same peak.)
//   acc = acc * m + c with m just below 1 converges to c / (1 - m): the values stay normal floats
//   (no overflow, no slow denormals), whatever the iteration count.
float fma_peak_avx512(int64_t steps) {
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-6f);
  __m512 a0 = _mm512_set1_ps(0.0f), a1 = _mm512_set1_ps(0.1f), a2 = _mm512_set1_ps(0.2f);
  __m512 a3 = _mm512_set1_ps(0.3f), a4 = _mm512_set1_ps(0.4f), a5 = _mm512_set1_ps(0.5f);
  __m512 a6 = _mm512_set1_ps(0.6f), a7 = _mm512_set1_ps(0.7f), a8 = _mm512_set1_ps(0.8f);
  __m512 a9 = _mm512_set1_ps(0.9f), a10 = _mm512_set1_ps(1.0f), a11 = _mm512_set1_ps(1.1f);
  for (int64_t i = 0; i < steps; ++i) {
    a0 = _mm512_fmadd_ps(a0, m, c);
    a1 = _mm512_fmadd_ps(a1, m, c);
    a2 = _mm512_fmadd_ps(a2, m, c);
    a3 = _mm512_fmadd_ps(a3, m, c);
    a4 = _mm512_fmadd_ps(a4, m, c);
    a5 = _mm512_fmadd_ps(a5, m, c);
    a6 = _mm512_fmadd_ps(a6, m, c);
    a7 = _mm512_fmadd_ps(a7, m, c);
    a8 = _mm512_fmadd_ps(a8, m, c);
    a9 = _mm512_fmadd_ps(a9, m, c);
    a10 = _mm512_fmadd_ps(a10, m, c);
    a11 = _mm512_fmadd_ps(a11, m, c);
  }
  // Sum everything so that no accumulator is dead code.
  const __m512 sum =
      _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                                  _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7))),
                    _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
  // (Not _mm512_reduce_add_ps: GCC 12 warns about an uninitialised variable inside it.)
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float total = 0.0f;
  for (const float x : lanes) total += x;
  return total;
}

}  // namespace tinytorch::bench
