// The 16-bit conversions with AVX2 and F16C (half_kernels.h). This file alone is compiled with
// -mavx2 -mf16c; half.cpp calls it only on CPUs that have both.
#include <immintrin.h>

#include "half_kernels.h"

namespace tinytorch::kernels::half_detail {
namespace {

// float_to_bf16's arithmetic (half.h) on 8 lanes: (u + 0x7FFF + lsb) >> 16, or for a NaN lane
// (u >> 16) | 0x40. Each lane's result sits in the low 16 bits of its 32.
__m256i round_to_bf16(__m256 x) {
  const __m256i u = _mm256_castps_si256(x);
  const __m256i top = _mm256_srli_epi32(u, 16);
  const __m256i lsb = _mm256_and_si256(top, _mm256_set1_epi32(1));
  const __m256i rounded =
      _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), lsb), 16);
  const __m256i quiet_nan = _mm256_or_si256(top, _mm256_set1_epi32(0x40));
  const __m256i is_nan = _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
  return _mm256_blendv_epi8(rounded, quiet_nan, is_nan);
}

}  // namespace

int64_t float_to_bf16_avx2(int64_t n, const float* src, BFloat16* dst) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i lo = round_to_bf16(_mm256_loadu_ps(src + i));
    const __m256i hi = round_to_bf16(_mm256_loadu_ps(src + i + 8));
    // vpackusdw narrows within each 128-bit half: (lo0-3 hi0-3 | lo4-7 hi4-7); the 64-bit
    // permute puts the quarters back in order (lo0-3 lo4-7 | hi0-3 hi4-7). Every value is below
    // 2^16, so the unsigned saturation never changes one.
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xD8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), packed);
  }
  return i;
}

int64_t bf16_to_float_avx2(int64_t n, const BFloat16* src, float* dst) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {  // 8 × 16 bits, zero-extended to 32, moved to the top half
    const __m128i bits = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    const __m256i wide = _mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16);
    _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(wide));
  }
  return i;
}

// F16C converts in hardware, rounding to nearest even with the rounding mode given in the
// instruction (not MXCSR's), subnormals and NaNs as half.h's scalar functions do.
int64_t float_to_half_f16c(int64_t n, const float* src, Half* dst) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h =
        _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  return i;
}

int64_t half_to_float_f16c(int64_t n, const Half* src, float* dst) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  return i;
}

}  // namespace tinytorch::kernels::half_detail
