// The int8 peak on a CPU with AVX-512 VNNI, compiled with -mavx512f -mavx512bw -mavx512vnni (see
// bench/CMakeLists.txt). Called only after int8_peak_for_this_cpu() has checked at run time that
// the CPU reports avx512_vnni and avx512bw, so nothing here may run before that check (no static
// initialisers).
#include <immintrin.h>

#include <cstdint>

#include "fma_peak.h"
#include "fma_peak_loop.h"

namespace tinytorch::bench {
namespace {

// What the int8 GEMM's VNNI micro-kernel (tinytorch/src/kernels/qgemm_avx512_vnni.cpp) does per
// accumulator and k-group: one vpdpbusd, 64 u8·s8 products summed four by four into 16 int32
// lanes. As in fma_peak_avx2.cpp's Int8Ymm, each step multiplies the accumulator's own bytes, so
// no product can be computed once and reused; int32 sums wrap.
struct Int8Vnni {
  using Vec = __m512i;
  using Lane = int32_t;
  static constexpr int kLanes = 16;
  static Vec start(int i) { return _mm512_set1_epi32(i); }
  static Vec step(Vec acc) { return _mm512_dpbusd_epi32(acc, acc, _mm512_set1_epi8(-2)); }
  static Vec add(Vec x, Vec y) { return _mm512_add_epi32(x, y); }
  static void store(int32_t* p, Vec v) { _mm512_store_si512(p, v); }
};

}  // namespace

float int8_peak_avx512_vnni(int64_t steps) {
  return peak_loop<Int8Vnni, kInt8PeakVnniAccumulators>(steps);
}

}  // namespace tinytorch::bench
