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
// Tile: 8 rows × 16 channels = 8 accumulators of AVX-512's 32 registers.
#include <immintrin.h>

#include <cstring>

#include "qgemm_kernels.h"

namespace tinytorch::kernels::qgemm_detail {
namespace {

constexpr int64_t kMR = 8;

void micro_avx512_vnni(int64_t groups, const uint8_t* a, int64_t lda, int64_t rows,
                       const int8_t* panel, int32_t* c, int64_t ldc, int64_t cols) {
  const uint8_t* row[kMR];
  for (int64_t i = 0; i < kMR; ++i) row[i] = a + (i < rows ? i : 0) * lda;
  __m512i acc[kMR];
  for (auto& r : acc) r = _mm512_setzero_si512();
  for (int64_t g = 0; g < groups; ++g) {
    const __m512i b = _mm512_loadu_si512(panel + g * kGroupBytes);
    // NOTE: unrolled so that acc[] stays in registers (qgemm_avx2.cpp says what it costs not to).
#pragma GCC unroll 8
    for (int64_t i = 0; i < kMR; ++i) {
      int32_t four;  // A[i, 4g … 4g+3]
      std::memcpy(&four, row[i] + g * kKGroup, sizeof(four));
      acc[i] = _mm512_dpbusd_epi32(acc[i], _mm512_set1_epi32(four), b);
    }
  }
  // The N tail stores through a mask: lanes j ≥ cols are left alone.
  const __mmask16 keep = static_cast<__mmask16>((1u << cols) - 1u);
  for (int64_t i = 0; i < rows; ++i) _mm512_mask_storeu_epi32(c + i * ldc, keep, acc[i]);
}

}  // namespace

QGemmIsa qgemm_avx512_vnni() {
  return {&micro_avx512_vnni, kMR,          /*needs_7bit=*/false,
          "AVX512_VNNI",      &minmax_avx2, &quantize_avx2,
          &dequantize_avx2};
}

}  // namespace tinytorch::kernels::qgemm_detail
