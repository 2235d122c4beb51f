// log x for a vector of floats: the Cephes logf (the exponent and mantissa split from the bits, a
// degree-8 polynomial for log(1 + f)), within 1 ulp for every positive normal float, for
// log_softmax's log Σ e^(x − max) (softmax_simd.h), which is ≥ 1 or NaN. Private to src/kernels;
// each version exists only in a file compiled with its instruction set.
//
//   x = 2^e · m,  m in [√½, √2)  (from the bits: m in [½, 1), then doubled below √½)
//   log x = e·ln2 + log(1 + f),  f = m − 1 in [−0.29, 0.41]
//   log(1 + f) = f − f²/2 + f³·P(f)
//
// ln2 is split in two (C1 + C2, C1 with few mantissa bits) so that e·C1 is exact. NaN stays NaN;
// the domain is the positive normal floats (zero, subnormals, negatives and +∞ give garbage: the
// callers' sums never are).
//
// NOTE: the functions are in an unnamed namespace: each file compiled with its own instruction
// set gets its own copy (see vec_policy.h's NOTE).
#pragma once

#include <immintrin.h>

#include "unroll.h"

namespace tinytorch::kernels {
namespace {

namespace log_constants {
inline constexpr float kSqrtHalf = 0.707106781186547524f;
inline constexpr float kC1 = 0.693359375f, kC2 = -2.12194440e-4f;
inline constexpr float kP[] = {7.0376836292e-2f,  -1.1514610310e-1f, 1.1676998740e-1f,
                               -1.2420140846e-1f, 1.4249322787e-1f,  -1.6668057665e-1f,
                               2.0000714765e-1f,  -2.4999993993e-1f, 3.3333331174e-1f};
}  // namespace log_constants

#ifdef __AVX2__
inline __m256 log_avx2(__m256 x) {
  using namespace log_constants;
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  const __m256i bits = _mm256_castps_si256(x);
  // m in [½, 1): x's mantissa with the exponent of ½; e: x's unbiased exponent + 1.
  __m256 m =
      _mm256_or_ps(_mm256_castsi256_ps(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff))),
                   _mm256_set1_ps(0.5f));
  __m256 e =
      _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(126)));
  // Below √½: m doubled (f = 2m − 1) and e one less, so that f is centred on 0.
  const __m256 low = _mm256_cmp_ps(m, _mm256_set1_ps(kSqrtHalf), _CMP_LT_OQ);
  e = _mm256_sub_ps(e, _mm256_and_ps(low, _mm256_set1_ps(1.0f)));
  const __m256 f = _mm256_sub_ps(_mm256_add_ps(m, _mm256_and_ps(low, m)), _mm256_set1_ps(1.0f));
  const __m256 f2 = _mm256_mul_ps(f, f);
  __m256 p = _mm256_set1_ps(kP[0]);
  TT_UNROLL(8)
  for (int i = 1; i < 9; ++i) p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(kP[i]));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, f), f2);  // f³·P(f)
  y = _mm256_fmadd_ps(e, _mm256_set1_ps(kC2), y);     // + e·C2
  y = _mm256_fnmadd_ps(f2, _mm256_set1_ps(0.5f), y);  // − f²/2
  y = _mm256_add_ps(f, y);                            // + f
  y = _mm256_fmadd_ps(e, _mm256_set1_ps(kC1), y);     // + e·C1
  return _mm256_blendv_ps(y, x, nan);
}
#endif

#ifdef __AVX512F__
inline __m512 log_avx512(__m512 x) {
  using namespace log_constants;
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  const __m512i bits = _mm512_castps_si512(x);
  __m512 m =
      _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi32(0x007fffff)),
                                          _mm512_castps_si512(_mm512_set1_ps(0.5f))));
  __m512 e =
      _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(bits, 23), _mm512_set1_epi32(126)));
  const __mmask16 low = _mm512_cmp_ps_mask(m, _mm512_set1_ps(kSqrtHalf), _CMP_LT_OQ);
  e = _mm512_mask_sub_ps(e, low, e, _mm512_set1_ps(1.0f));
  const __m512 f = _mm512_sub_ps(_mm512_mask_add_ps(m, low, m, m), _mm512_set1_ps(1.0f));
  const __m512 f2 = _mm512_mul_ps(f, f);
  __m512 p = _mm512_set1_ps(kP[0]);
  TT_UNROLL(8)
  for (int i = 1; i < 9; ++i) p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(kP[i]));
  __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, f), f2);
  y = _mm512_fmadd_ps(e, _mm512_set1_ps(kC2), y);
  y = _mm512_fnmadd_ps(f2, _mm512_set1_ps(0.5f), y);
  y = _mm512_add_ps(f, y);
  y = _mm512_fmadd_ps(e, _mm512_set1_ps(kC1), y);
  return _mm512_mask_blend_ps(nan, y, x);
}
#endif

}  // namespace
}  // namespace tinytorch::kernels
