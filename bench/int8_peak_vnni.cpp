// The int8 peak on a CPU with AVX-512 VNNI, compiled with -mavx512f -mavx512bw -mavx512vnni (see
// bench/CMakeLists.txt). Called only after int8_peak_for_this_cpu() has checked at run time that
// the CPU reports avx512_vnni and avx512bw, so nothing here may run before that check (no static
// initialisers).
#include <immintrin.h>

#include <cstdint>

#include "fma_peak.h"

namespace tinytorch::bench {

// What the int8 GEMM's VNNI micro-kernel (tinytorch/src/kernels/qgemm_avx512_vnni.cpp) does per
// accumulator and k-group: one vpdpbusd, 64 u8·s8 products summed four by four into 16 int32
// lanes. Registers only, kInt8PeakVnniAccumulators independent chains (enough to cover the
// instruction's latency at one or two per cycle). As in int8_peak_avx2, each step multiplies the
// accumulator's own bytes, so no product can be computed once and reused; int32 sums wrap.
float int8_peak_avx512_vnni(int64_t steps) {
  const __m512i b = _mm512_set1_epi8(-2);
  __m512i acc[kInt8PeakVnniAccumulators];
#pragma GCC unroll 12
  for (int i = 0; i < kInt8PeakVnniAccumulators; ++i) acc[i] = _mm512_set1_epi32(i);
  for (int64_t step = 0; step < steps; ++step) {
#pragma GCC unroll 12
    for (int i = 0; i < kInt8PeakVnniAccumulators; ++i) {
      acc[i] = _mm512_dpbusd_epi32(acc[i], acc[i], b);
    }
  }
#pragma GCC unroll 12
  for (int i = 1; i < kInt8PeakVnniAccumulators; ++i) acc[0] = _mm512_add_epi32(acc[0], acc[i]);
  // (Not _mm512_reduce_add_epi32: GCC 12's version of it trips -Wuninitialized.)
  alignas(64) int32_t lanes[16];
  _mm512_store_si512(lanes, acc[0]);
  float total = 0.0f;
  for (const int32_t v : lanes) total += static_cast<float>(v);
  return total;
}

}  // namespace tinytorch::bench
