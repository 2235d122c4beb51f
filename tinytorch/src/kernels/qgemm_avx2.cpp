// The int8 GEMM's AVX2 micro-kernel (qgemm_kernels.h). This file alone is compiled with -mavx2
// (tinytorch/CMakeLists.txt); qgemm_fast.cpp calls it only on CPUs that have AVX2.
//
// One k-group (4 bytes of k) of a 4-row × 16-channel tile, per row i and half h (8 channels):
//
//   a  = vpbroadcastd(A[i, 4g..4g+3])     32 × u8 : a0 a1 a2 a3 | a0 a1 a2 a3 | …   (7-bit)
//   b  = panel bytes of channels 8h..8h+7  32 × s8 : b0 b1 b2 b3 | (next channel) | …
//   p  = vpmaddubsw(a, b)                  16 × s16: a0b0+a1b1 | a2b2+a3b3 | …   (≤ 2·127·128)
//   q  = vpmaddwd(p, ones)                  8 × s32: a0b0+a1b1+a2b2+a3b3 per channel
//   acc[i][h] = vpaddd(acc[i][h], q)
//
// vpmaddubsw SATURATES its int16 pair sums: exact only while a ≤ 127 (2·127·128 = 32512 fits,
// 2·255·128 = 65280 does not), hence needs_7bit. Registers: 8 accumulators, 2 weight vectors,
// the ones vector, the broadcast and two products: 14 of AVX2's 16.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "qgemm_kernels.h"
#include "unroll.h"

namespace tinytorch::kernels::qgemm_detail {
namespace {

constexpr int64_t kMR = 4;

void micro_avx2(int64_t groups, const uint8_t* a, int64_t lda, int64_t rows, const int8_t* panel,
                int64_t /*panel_stride: one panel a call*/, int32_t* c, int64_t ldc, int64_t cols) {
  // Rows past `rows` re-read row 0 (valid memory) and are never stored.
  const uint8_t* row[kMR];
  for (int64_t i = 0; i < kMR; ++i) row[i] = a + (i < rows ? i : 0) * lda;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[kMR][2];
  for (auto& r : acc) r[0] = r[1] = _mm256_setzero_si256();
  for (int64_t g = 0; g < groups; ++g) {
    const int8_t* b = panel + g * kGroupBytes;
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 32));
    // NOTE: unrolled, or the accumulators live on the stack (GCC -O2 keeps a 4-trip loop
    // rolled, and acc[i] indexed by a run-time i cannot be a register): every vpaddd then waits
    // on a store and a reload, and the kernel ran at 66 GMAC/s instead of ~100.
    TT_UNROLL(4)
    for (int64_t i = 0; i < kMR; ++i) {
      int32_t four;  // A[i, 4g … 4g+3]
      std::memcpy(&four, row[i] + g * kKGroup, sizeof(four));
      const __m256i av = _mm256_set1_epi32(four);
      acc[i][0] =
          _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(_mm256_maddubs_epi16(av, b0), ones));
      acc[i][1] =
          _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(_mm256_maddubs_epi16(av, b1), ones));
    }
  }
  for (int64_t i = 0; i < rows; ++i) {
    int32_t* ci = c + i * ldc;
    if (cols == kNR) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(ci), acc[i][0]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(ci + 8), acc[i][1]);
    } else {
      alignas(32) int32_t tmp[kNR];
      _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), acc[i][0]);
      _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + 8), acc[i][1]);
      store_row(tmp, ci, cols);
    }
  }
}

}  // namespace

QGemmIsa qgemm_avx2() {
  return {&micro_avx2,     kMR, kNR, /*needs_7bit=*/true, "AVX2", &minmax_avx2, &quantize_avx2,
          &dequantize_avx2};
}

}  // namespace tinytorch::kernels::qgemm_detail

namespace tinytorch::kernels::qgemm_detail {

void minmax_avx2(int64_t n, const float* x, float* lo, float* hi) {
  __m256 vlo = _mm256_setzero_ps(), vhi = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));  // vminps would drop a NaN
    vlo = _mm256_min_ps(vlo, v);
    vhi = _mm256_max_ps(vhi, v);
  }
  alignas(32) float l[8], h[8];
  _mm256_store_ps(l, vlo);
  _mm256_store_ps(h, vhi);
  minmax_plain(n - i, x + i, lo, hi);  // the tail (and 0 included)
  for (int j = 0; j < 8; ++j) {
    *lo = std::min(*lo, l[j]);
    *hi = std::max(*hi, h[j]);
  }
  if (_mm256_movemask_ps(nan) != 0) *lo = std::numeric_limits<float>::quiet_NaN();
}

// 32 floats → 32 bytes per step: vcvtps2dq rounds half to even (the default MXCSR mode, as
// std::nearbyint), two saturating packs narrow to 16 then 8 bits, and a lane permutation undoes
// the packs' per-128-bit-lane interleaving.
void quantize_avx2(int64_t n, const float* x, float inv_scale, int32_t zero_point, uint8_t* q) {
  const __m256 inv = _mm256_set1_ps(inv_scale);
  const __m256i zp = _mm256_set1_epi32(zero_point);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  const __m256i top = _mm256_set1_epi8(127);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i r[4];
    for (int j = 0; j < 4; ++j) {
      r[j] = _mm256_add_epi32(
          _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * j), inv)), zp);
    }
    const __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(r[0], r[1]),
                                              _mm256_packs_epi32(r[2], r[3]));  // clamps to ≥ 0
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i),
                        _mm256_min_epu8(_mm256_permutevar8x32_epi32(bytes, order), top));
  }
  quantize_plain(n - i, x + i, inv_scale, zero_point, q + i);
}

void dequantize_avx2(int64_t n, const int32_t* c, const float* scale, const int32_t* correction,
                     const float* bias, float* y) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256i centred =
        _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + j)),
                         _mm256_loadu_si256(reinterpret_cast<const __m256i*>(correction + j)));
    // A multiply, then an add (no FMA): the same roundings as dequantize_plain.
    _mm256_storeu_ps(
        y + j, _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(scale + j), _mm256_cvtepi32_ps(centred)),
                             _mm256_loadu_ps(bias + j)));
  }
  dequantize_plain(n - j, c + j, scale + j, correction + j, bias + j, y + j);
}

}  // namespace tinytorch::kernels::qgemm_detail
