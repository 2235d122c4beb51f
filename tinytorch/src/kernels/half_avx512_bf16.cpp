// float32 → bfloat16 with AVX-512 BF16's vcvtneps2bf16 (half_kernels.h). This file alone is
// compiled with -mavx512f -mavx512bw -mavx512vl -mavx512bf16; half.cpp calls it only on CPUs that
// report avx512_bf16.
#include <immintrin.h>

#include "half_kernels.h"

namespace tinytorch::kernels::half_detail {

// NOTE: vcvtneps2bf16 rounds to nearest even and quiets NaNs exactly as float_to_bf16 does, but
// it treats float32 subnormal inputs as zero (Intel SDM: "input denormals are treated as zero",
// whatever MXCSR says). half.h promises subnormals are kept, so lanes whose exponent field is 0
// and mantissa is not get float_to_bf16's integer rounding instead: (u + 0x7FFF + lsb) >> 16,
// which cannot overflow or meet a NaN there. Real data rarely has any, so the fix-up is a branch
// that is almost never taken.
int64_t float_to_bf16_avx512_bf16(int64_t n, const float* src, BFloat16* dst) {
  const __m512i exponent = _mm512_set1_epi32(0x7F800000), mantissa = _mm512_set1_epi32(0x007FFFFF);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(src + i);
    __m256i out = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(x));
    const __m512i u = _mm512_castps_si512(x);
    const __mmask16 subnormal =
        _mm512_testn_epi32_mask(u, exponent) & _mm512_test_epi32_mask(u, mantissa);
    if (subnormal != 0) {
      // (The zero-masking forms: GCC 12 warns that the plain ones' undefined source "may be used
      // uninitialized".) vpmovdw with a merge mask narrows the fixed lanes into `out`.
      const __m512i lsb =
          _mm512_and_si512(_mm512_maskz_srli_epi32(subnormal, u, 16), _mm512_set1_epi32(1));
      const __m512i rounded = _mm512_maskz_srli_epi32(
          subnormal, _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), lsb), 16);
      out = _mm512_mask_cvtepi32_epi16(out, subnormal, rounded);
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), out);
  }
  return i;
}

}  // namespace tinytorch::kernels::half_detail
