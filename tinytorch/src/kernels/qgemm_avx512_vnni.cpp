// The int8 GEMM's AVX-512 VNNI micro-kernel (qgemm_kernels.h). This file alone is compiled with
// -mavx512f -mavx512bw -mavx512vnni (tinytorch/CMakeLists.txt); qgemm_fast.cpp calls it only on
// CPUs that report avx512_vnni (Intel since Cascade Lake, AMD since Zen 4).
//
// One instruction does what AVX2 needs three for, and without saturation:
//
//   a   = vpbroadcastd(A[i, 4g..4g+3])            64 × u8 (all 16 lanes the same 4 bytes)
//   b   = one k-group of the panel                64 × s8 (16 channels × 4 k)
//   acc = vpdpbusd(acc, a, b)                     16 × s32: acc[j] += Σ_t a_t · b[j, t]
//
// The four products are summed in 32 bits, so any uint8 activation is exact (needs_7bit false).
//
// Tile: 8 rows × 32 channels (two panels) = 16 accumulators of AVX-512's 32 registers, + 2 for
// the panels' k-group and 1 for the broadcast. Per k-group: 2 loads + 8 broadcasts feed 16
// vpdpbusd. Why 16 and not 8 (one panel, the first version): a core that starts two vpdpbusd a
// cycle (Zen 5) needs 2 × the instruction's latency of them in flight, and 8 chains left a Zen 5
// at ~75% of its int8 peak (a scratch driver, 1 thread, 1024→1024: 8×16 645 GOP/s with its
// stores fixed, 8×32 ~850, the measured peak; 16- to 24-accumulator tiles of other shapes were
// no faster). Module 15's chapter, section 6.4, has the measurements.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "qgemm_kernels.h"
#include "unroll.h"

// GCC 12 reports the deliberately undefined pass-through operand of its AVX-512 intrinsics
// (vminps, vcvtps2dq, vpermd, ... with an all-ones mask) as used uninitialized once they are
// inlined: a false positive (GCC bug 105593), silenced here as in vec_policy.h.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace tinytorch::kernels::qgemm_detail {
namespace {

constexpr int64_t kMR = 8;
constexpr int kMaxPanels = 2;  // panels per call: 32 channels

// The tile over P panels (P = 2, or 1 for a last panel alone: the N tail).
template <int P>
void tile(int64_t groups, const uint8_t* a, int64_t lda, int64_t rows, const int8_t* panel,
          int64_t panel_stride, int32_t* c, int64_t ldc, int64_t cols) {
  // Rows past `rows` re-read row 0 (valid memory) and are never stored.
  const uint8_t* row[kMR];
  for (int64_t i = 0; i < kMR; ++i) row[i] = a + (i < rows ? i : 0) * lda;
  // NOTE: every loop over i and q is unrolled, the store loop included: an acc[i] indexed by a
  // run-time i cannot be a register, and GCC then keeps the whole tile on the stack (the first
  // version's store loop ran to `rows`; unrolled, the same 8×16 tile went from 563 to 645 GOP/s).
  __m512i acc[kMR][P];
  TT_UNROLL(8)
  for (int64_t i = 0; i < kMR; ++i) {
    TT_UNROLL(2)
    for (int q = 0; q < P; ++q) acc[i][q] = _mm512_setzero_si512();
  }
  for (int64_t g = 0; g < groups; ++g) {
    __m512i b[P];  // k-group g of each panel: 16 channels × 4 k
    TT_UNROLL(2)
    for (int q = 0; q < P; ++q)
      b[q] = _mm512_loadu_si512(panel + q * panel_stride + g * kGroupBytes);
    TT_UNROLL(8)
    for (int64_t i = 0; i < kMR; ++i) {
      int32_t four;  // A[i, 4g … 4g+3]
      std::memcpy(&four, row[i] + g * kKGroup, sizeof(four));
      const __m512i x = _mm512_set1_epi32(four);
      TT_UNROLL(2)
      for (int q = 0; q < P; ++q) acc[i][q] = _mm512_dpbusd_epi32(acc[i][q], x, b[q]);
    }
  }
  // A panel's N tail stores through a mask: lanes j ≥ cols are left alone.
  TT_UNROLL(8)
  for (int64_t i = 0; i < kMR; ++i) {
    if (i >= rows) break;
    TT_UNROLL(2)
    for (int q = 0; q < P; ++q) {
      int32_t* out = c + i * ldc + q * kNR;
      const int64_t left = cols - q * kNR;  // ≥ 1: a call reads only panels it stores from
      if (left >= kNR) {
        _mm512_storeu_si512(out, acc[i][q]);
      } else {
        _mm512_mask_storeu_epi32(out, static_cast<__mmask16>((1u << left) - 1u), acc[i][q]);
      }
    }
  }
}

void micro_avx512_vnni(int64_t groups, const uint8_t* a, int64_t lda, int64_t rows,
                       const int8_t* panel, int64_t panel_stride, int32_t* c, int64_t ldc,
                       int64_t cols) {
  if (cols > kNR) {
    tile<kMaxPanels>(groups, a, lda, rows, panel, panel_stride, c, ldc, cols);
  } else {
    tile<1>(groups, a, lda, rows, panel, panel_stride, c, ldc, cols);
  }
}

// The dynamic Linear's three passes (kernels/qgemm.h) at 16 floats a vector: the AVX2 versions'
// steps (qgemm_avx2.cpp) with twice the lanes. A CPU that runs 512-bit instructions at full
// width (Zen 5) does them in half the instructions; beside the 8×32 tile they had become a third
// of the layer's time (perf, 784→256 at batch 256, 1 thread).

// Four independent min/max chains: one chain waits on each vminps's latency.
void minmax_avx512(int64_t n, const float* x, float* lo, float* hi) {
  constexpr int kChains = 4;
  __m512 vlo[kChains], vhi[kChains];
  for (int u = 0; u < kChains; ++u) vlo[u] = vhi[u] = _mm512_setzero_ps();
  __mmask16 nan = 0;  // vminps would drop a NaN: a lane that is unordered with itself is one
  int64_t i = 0;
  for (; i + 16 * kChains <= n; i += 16 * kChains) {
    TT_UNROLL(4)
    for (int u = 0; u < kChains; ++u) {
      const __m512 v = _mm512_loadu_ps(x + i + 16 * u);
      nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
      vlo[u] = _mm512_min_ps(vlo[u], v);
      vhi[u] = _mm512_max_ps(vhi[u], v);
    }
  }
  for (int u = 1; u < kChains; ++u) {
    vlo[0] = _mm512_min_ps(vlo[0], vlo[u]);
    vhi[0] = _mm512_max_ps(vhi[0], vhi[u]);
  }
  alignas(64) float l[16], h[16];
  _mm512_store_ps(l, vlo[0]);
  _mm512_store_ps(h, vhi[0]);
  minmax_plain(n - i, x + i, lo, hi);  // the tail (and 0 included)
  for (int j = 0; j < 16; ++j) {
    *lo = std::min(*lo, l[j]);
    *hi = std::max(*hi, h[j]);
  }
  if (nan != 0) *lo = std::numeric_limits<float>::quiet_NaN();
}

// 64 floats → 64 bytes per step: round half to even (vcvtps2dq), two saturating packs, and a
// permutation that undoes the packs' per-128-bit-lane interleaving.
void quantize_avx512(int64_t n, const float* x, float inv_scale, int32_t zero_point, uint8_t* q) {
  const __m512 inv = _mm512_set1_ps(inv_scale);
  const __m512i zp = _mm512_set1_epi32(zero_point);
  // After the packs, 128-bit lane L holds 4 bytes of each input vector r[0..3]: dword 4L + j is
  // r[j]'s lane L. Dword d of the result must be r[d / 4]'s lane d % 4.
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i top = _mm512_set1_epi8(127);
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512i r[4];
    TT_UNROLL(4)
    for (int j = 0; j < 4; ++j) {
      r[j] = _mm512_add_epi32(
          _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + i + 16 * j), inv)), zp);
    }
    const __m512i bytes = _mm512_packus_epi16(_mm512_packs_epi32(r[0], r[1]),
                                              _mm512_packs_epi32(r[2], r[3]));  // clamps to ≥ 0
    _mm512_storeu_si512(q + i, _mm512_min_epu8(_mm512_permutexvar_epi32(order, bytes), top));
  }
  quantize_plain(n - i, x + i, inv_scale, zero_point, q + i);
}

void dequantize_avx512(int64_t n, const int32_t* c, const float* scale, const int32_t* correction,
                       const float* bias, float* y) {
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512i centred =
        _mm512_sub_epi32(_mm512_loadu_si512(c + j), _mm512_loadu_si512(correction + j));
    // A multiply, then an add: the same roundings as dequantize_plain. NOTE: not _mm512_mul_ps
    // and _mm512_add_ps: GCC writes those as plain vector arithmetic, which it contracts into
    // one FMA when the target has FMA (AVX-512F does; -ffp-contract=fast is GCC's default for
    // C++) — one rounding instead of two, and y differed from the plain loop in the last bit.
    // The _round_ forms are builtins that it leaves alone.
    constexpr int kRound = _MM_FROUND_CUR_DIRECTION;
    const __m512 scaled =
        _mm512_mul_round_ps(_mm512_loadu_ps(scale + j), _mm512_cvtepi32_ps(centred), kRound);
    _mm512_storeu_ps(y + j, _mm512_add_round_ps(scaled, _mm512_loadu_ps(bias + j), kRound));
  }
  dequantize_plain(n - j, c + j, scale + j, correction + j, bias + j, y + j);
}

}  // namespace

QGemmIsa qgemm_avx512_vnni() {
  return {&micro_avx512_vnni, kMR,
          kMaxPanels * kNR,   /*needs_7bit=*/false,
          "AVX512_VNNI",      &minmax_avx512,
          &quantize_avx512,   &dequantize_avx512};
}

}  // namespace tinytorch::kernels::qgemm_detail
