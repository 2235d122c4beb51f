// The bfloat16 GEMM's micro-kernel with AVX-512 BF16. This file alone is compiled with
// -mavx512f -mavx512bw -mavx512vl -mavx512bf16 (see tinytorch/CMakeLists.txt); gemm_fast.cpp
// calls it only on CPUs that report avx512_bf16 (half_isa, kernels/half.h).
//
// vdpbf16ps acc, a, b treats each 32-bit lane of a and b as a pair of bfloat16 values and adds
// both products to that lane's float:
//
//   acc[j] += a[2j] · b[2j] + a[2j+1] · b[2j+1]        j < 16 (zmm)
//
// So the tile is the float AVX-512 one (gemm_simd.h: 12 rows x 2 zmm of 16 float sums, 24
// accumulators) and each step takes two k values: B's slivers hold, per step, the pair
// (k, k+1) of each of the 32 columns side by side (two zmm loads), A's the pair of each of the 12
// rows (one 32-bit broadcast each; pack_pairs in gemm_fast.cpp):
//
//                       b0 = columns 0-15, (k, k+1) each   b1 = columns 16-31
//   a(0, k..k+1)  ->    acc[0][0]                          acc[0][1]
//     ...                 ...                                ...
//   a(11, k..k+1) ->    acc[11][0]                         acc[11][1]
//
// 24 vdpbf16ps per step do 24 · 16 · 2 = 768 multiply-adds, twice the float kernel's 384 per 24
// FMAs, and read half the bytes per multiply-add.
#include <immintrin.h>

#include "gemm_kernels.h"
#include "gemm_simd.h"

namespace tinytorch::kernels::gemm {
namespace {

// The vector type of simd_microkernel (gemm_simd.h) for bfloat16 slivers and float sums.
struct Avx512Bf16 {
  using Vec = __m512;  // 16 float sums
  static constexpr int64_t kLanes = 16;
  static constexpr int64_t kDepth = 2;  // k values per step: a bfloat16 pair per lane
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec set1(float x) { return _mm512_set1_ps(x); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static Vec mul(Vec x, Vec y) { return _mm512_mul_ps(x, y); }
  static Vec fmadd(Vec x, Vec y, Vec acc) { return _mm512_fmadd_ps(x, y, acc); }
  // The k loop's operands: 16 pairs of B (32 bfloat16 of a packed step, 64-byte aligned), and one
  // pair of A broadcast to all lanes (vpbroadcastd zmm, [p]).
  static __m512bh load_b(const BFloat16* p) {  // packed slivers only
    return reinterpret_cast<__m512bh>(_mm512_load_si512(p));
  }
  static __m512bh broadcast(const BFloat16* p) {
    int pair;  // the builtin, not std::memcpy: no inline library function here (gemm_simd.h)
    __builtin_memcpy(&pair, p, sizeof(pair));
    return reinterpret_cast<__m512bh>(_mm512_set1_epi32(pair));
  }
  static Vec fmadd(__m512bh a, __m512bh b, Vec acc) { return _mm512_dpbf16_ps(acc, a, b); }
};

}  // namespace

template <int64_t MR, int64_t NR>
void microkernel_avx512_bf16(int64_t kc, const BFloat16* a, const BFloat16* b, int64_t ldb,
                             float alpha, float beta, float* c, int64_t ldc) {
  simd_microkernel<Avx512Bf16, MR, NR>(kc, a, b, ldb, alpha, beta, c, ldc);
}

template void microkernel_avx512_bf16<12, 32>(int64_t, const BFloat16*, const BFloat16*, int64_t,
                                              float, float, float*, int64_t);

}  // namespace tinytorch::kernels::gemm
