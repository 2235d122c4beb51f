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

#include <cstring>

#include "qgemm_kernels.h"

namespace tinytorch::kernels::qgemm_detail {
namespace {

constexpr int64_t kMR = 4;

void micro_avx2(int64_t groups, const uint8_t* a, int64_t lda, int64_t rows, const int8_t* panel,
                int32_t* c, int64_t ldc, int64_t cols) {
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
  return {&micro_avx2, kMR, /*needs_7bit=*/true, "AVX2"};
}

}  // namespace tinytorch::kernels::qgemm_detail
