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
#include "unroll.h"

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
                             float alpha, float beta, const float* bias, float* c, int64_t ldc) {
  simd_microkernel<Avx512Bf16, MR, NR>(kc, a, b, ldb, alpha, beta, bias, c, ldc);
}

template void microkernel_avx512_bf16<12, 32>(int64_t, const BFloat16*, const BFloat16*, int64_t,
                                              float, float, const float*, float*, int64_t);

// Lines side by side (w_stride 1): step q of a sliver interleaves two rows of op(X), rows 2q and
// 2q + 1, each holding the sliver's W values next to each other. 32 lines at a time, two zmm of
// 32 bfloat16 in, two out:
//
//   r0 = row 2q:      x(0,2q)   x(1,2q)   ...  x(31,2q)
//   r1 = row 2q + 1:  x(0,2q+1) x(1,2q+1) ...  x(31,2q+1)
//   lo = x(0,2q) x(0,2q+1) | x(1,2q) x(1,2q+1) | ... | x(15,2q) x(15,2q+1)    (16 lanes of pairs)
//   hi = the same for lines 16 .. 31
//
// each a single vpermt2w (a permutation of 16-bit values picked from two registers). Narrower
// slivers (W = 12, or a last group of W % 32 lines) use masked loads and stores. As the float
// pack does (kCopyGroup in gemm_fast.cpp), kGroup slivers are packed step by step, so that each
// row is read in runs of kGroup · W values rather than W at a stride of p_stride.
// NOTE: the loads and stores are bit moves: every bfloat16, NaN or subnormal, arrives unchanged.
template <int64_t W>
void pack_pair_rows_avx512_bf16(int64_t kc, int64_t slivers, const BFloat16* src, int64_t p_stride,
                                BFloat16* dst) {
  constexpr int64_t kGroup = 4;
  const int64_t depth = (kc + 1) / 2 * 2;
  // Lane 2i of lo takes r0[i], lane 2i + 1 takes r1[i] (index 32 + i: the second register).
  alignas(64) static constexpr short kLo[32] = {0,  32, 1,  33, 2,  34, 3,  35, 4,  36, 5,
                                                37, 6,  38, 7,  39, 8,  40, 9,  41, 10, 42,
                                                11, 43, 12, 44, 13, 45, 14, 46, 15, 47};
  const __m512i lo_index = _mm512_load_si512(kLo);
  const __m512i hi_index = _mm512_add_epi16(lo_index, _mm512_set1_epi16(16));
  for (int64_t group = 0; group < slivers; group += kGroup) {
    const int64_t group_end = group + kGroup < slivers ? group + kGroup : slivers;
    for (int64_t p = 0; p < kc; p += 2) {
      const BFloat16* row0 = src + p * p_stride;
      const bool has_row1 = p + 1 < kc;  // an odd kc ends with a step of one row and zeros
      TT_UNROLL(4)
      for (int64_t s = group; s < group_end; ++s) {
        BFloat16* out = dst + s * W * depth + p * W;
        TT_UNROLL(2)
        for (int64_t w = 0; w < W; w += 32) {  // lines w .. w + 31 of the sliver
          constexpr auto lines_mask = [](int64_t n) {
            return n >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((__mmask32{1} << n) - 1);
          };
          const __mmask32 in = lines_mask(W - w);
          const __m512i r0 = _mm512_maskz_loadu_epi16(in, row0 + s * W + w);
          const __m512i r1 = has_row1 ? _mm512_maskz_loadu_epi16(in, row0 + p_stride + s * W + w)
                                      : _mm512_setzero_si512();
          // Values out: two per line, lines w .. w+15 in lo, w+16 .. w+31 in hi.
          _mm512_mask_storeu_epi16(out + 2 * w, lines_mask(2 * (W - w)),
                                   _mm512_permutex2var_epi16(r0, lo_index, r1));
          if (W - w > 16) {
            _mm512_mask_storeu_epi16(out + 2 * w + 32, lines_mask(2 * (W - w - 16)),
                                     _mm512_permutex2var_epi16(r0, hi_index, r1));
          }
        }
      }
    }
  }
}

template void pack_pair_rows_avx512_bf16<12>(int64_t, int64_t, const BFloat16*, int64_t, BFloat16*);
template void pack_pair_rows_avx512_bf16<32>(int64_t, int64_t, const BFloat16*, int64_t, BFloat16*);

}  // namespace tinytorch::kernels::gemm
