// e^x for a vector of floats: the Cephes expf (range reduction to [−ln2/2, ln2/2], a degree-6
// polynomial, then the scaling by 2^n), within 1.5 ulp wherever e^x is a normal float (1.24 at
// worst: tests/kernels/test_softmax_fast.cpp sweeps it), for the fast tier's softmax-like kernels.
// Private to src/kernels; each version exists only in a file compiled with its instruction set.
//
//   x = n·ln2 + r,  n = round(x / ln2),  |r| ≤ ln2/2   ⇒   e^x = 2^n · e^r
//
// ln2 is split in two (C1 + C2, C1 with few mantissa bits) so that n·C1 is exact and r keeps its
// accuracy. Inputs below −87.3 (where e^x leaves the normal floats), −∞ included, give exactly 0:
// a masked score then contributes exactly nothing. NaN stays NaN.
#pragma once

#include <immintrin.h>

namespace tinytorch::kernels {

namespace exp_constants {
inline constexpr float kLo = -87.3f, kHi = 88.3f;
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kC1 = 0.693359375f, kC2 = -2.12194440e-4f;
inline constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f,
                       kP3 = 4.1665795894e-2f, kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;
}  // namespace exp_constants

// NOTE: internal linkage (the unnamed namespace). Files compiled with different instruction sets
// include this header; with external linkage the linker would keep ONE out-of-line copy of each
// function — possibly one compiled with AVX-512 encodings — for every caller, AVX2-only CPUs
// included. Each file keeps its own copy instead.
namespace {

#ifdef __AVX2__
inline __m256 exp_avx2(__m256 x) {
  using namespace exp_constants;
  const __m256 underflow = _mm256_cmp_ps(x, _mm256_set1_ps(kLo), _CMP_LT_OQ);
  // (min/max return their second operand when one is NaN: x last keeps a NaN.)
  x = _mm256_min_ps(_mm256_set1_ps(kHi), _mm256_max_ps(_mm256_set1_ps(kLo), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kC1), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kC2), r);
  __m256 y = _mm256_set1_ps(kP0);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kP1));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kP2));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kP3));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kP4));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kP5));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i bits = _mm256_slli_epi32(
      _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);  // 2^n
  return _mm256_andnot_ps(underflow, _mm256_mul_ps(y, _mm256_castsi256_ps(bits)));
}
#endif

#ifdef __AVX512F__
inline __m512 exp_avx512(__m512 x) {
  using namespace exp_constants;
  const __mmask16 normal = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kLo), _CMP_NLT_UQ);
  x = _mm512_min_ps(_mm512_set1_ps(kHi), _mm512_max_ps(_mm512_set1_ps(kLo), x));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kC1), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kC2), r);
  __m512 y = _mm512_set1_ps(kP0);
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(kP1));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(kP2));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(kP3));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(kP4));
  y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(kP5));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  // y · 2^n in one instruction (vscalefps), zero where x was below kLo: the exact product that
  // exp_avx2 builds from the exponent bits and a multiply (four instructions), so the same bits.
  return _mm512_maskz_scalef_ps(normal, y, n);
}
#endif

}  // namespace

}  // namespace tinytorch::kernels
