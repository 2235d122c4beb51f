// The fast GEMM's AVX2/FMA kernels. This file alone is compiled with -mavx2 -mfma (see
// tinytorch/CMakeLists.txt); gemm_fast.cpp calls it only on CPUs that have both (gemm_kernels.h).
#include <immintrin.h>

#include "gemm_kernels.h"
#include "gemm_simd.h"

namespace tinytorch::kernels::gemm {
namespace {

// The vector type of simd_microkernel (gemm_simd.h): a ymm register of 8 floats or 4 doubles.
template <typename T>
struct Avx2;

template <>
struct Avx2<float> {
  using Vec = __m256;
  static constexpr int64_t kLanes = 8;
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec set1(float x) { return _mm256_set1_ps(x); }
  static Vec broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Vec load_aligned(const float* p) { return _mm256_load_ps(p); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static Vec mul(Vec x, Vec y) { return _mm256_mul_ps(x, y); }
  static Vec fmadd(Vec x, Vec y, Vec acc) { return _mm256_fmadd_ps(x, y, acc); }
};

template <>
struct Avx2<double> {
  using Vec = __m256d;
  static constexpr int64_t kLanes = 4;
  static Vec zero() { return _mm256_setzero_pd(); }
  static Vec set1(double x) { return _mm256_set1_pd(x); }
  static Vec broadcast(const double* p) { return _mm256_broadcast_sd(p); }
  static Vec load_aligned(const double* p) { return _mm256_load_pd(p); }
  static Vec load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, Vec v) { _mm256_storeu_pd(p, v); }
  static Vec mul(Vec x, Vec y) { return _mm256_mul_pd(x, y); }
  static Vec fmadd(Vec x, Vec y, Vec acc) { return _mm256_fmadd_pd(x, y, acc); }
};

// The transposing pack for float, 8 x 8 at a time: load 8 lines (8 consecutive k each), transpose
// the 8 x 8 block in registers, store 8 steps (8 values of w each). In-register transpose, with
// r_i = line i and c_j = column j (the values of all 8 lines at step j):
//
//   unpacklo/hi   pairs of lines interleaved:   (r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] ...)
//   shuffle       quads:                        (r0[0] r1[0] r2[0] r3[0] | r0[4] .. r3[4])
//   permute2f128  128-bit halves swapped in:    (r0[0] .. r3[0] r4[0] .. r7[0]) = c_0
//
// 24 shuffles for 64 values instead of 64 scalar moves with 8 scattered stores.
void transpose8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// Stores the first `lanes` values of v (8, 6 or 4: what a group of lines of a sliver holds).
void store_lanes(float* out, __m256 v, int64_t lanes) {
  if (lanes == 8) {
    _mm256_storeu_ps(out, v);
    return;
  }
  _mm_storeu_ps(out, _mm256_castps256_ps128(v));
  if (lanes == 6) _mm_storel_pi(reinterpret_cast<__m64*>(out + 4), _mm256_extractf128_ps(v, 1));
}

}  // namespace

template <typename T, int64_t MR, int64_t NR>
void microkernel_avx2(int64_t kc, const T* a, const T* b, T alpha, T beta, T* c, int64_t ldc) {
  simd_microkernel<Avx2<T>, MR, NR>(kc, a, b, alpha, beta, c, ldc);
}

template void microkernel_avx2<float, 6, 16>(int64_t, const float*, const float*, float, float,
                                             float*, int64_t);
template void microkernel_avx2<double, 6, 8>(int64_t, const double*, const double*, double, double,
                                             double*, int64_t);

// The lines of a sliver go in groups of 8; a last group of 6 or 4 (W = 6 or 12) loads its last
// line again in the missing places and stores only its own lanes.
template <int64_t W>
void pack_transposed_avx2(int64_t kc, const float* src, int64_t w_stride, float* dst,
                          const float* next) {
  static_assert(W % 8 == 0 || W % 8 == 4 || W % 8 == 6, "lines go in groups of 8, 6 or 4");
  int64_t p = 0;
  for (; p + 8 <= kc; p += 8) {
    for (int64_t g = 0; g < W; g += 8) {  // lines g .. g+7
      const int64_t lanes = W - g < 8 ? W - g : 8;
      prefetch_lines(next, w_stride, p, g, g + lanes);
      __m256 r[8];
      for (int64_t i = 0; i < 8; ++i) {
        r[i] = _mm256_loadu_ps(src + (i < lanes ? g + i : W - 1) * w_stride + p);
      }
      transpose8x8(r);
      for (int64_t j = 0; j < 8; ++j) store_lanes(dst + (p + j) * W + g, r[j], lanes);
    }
  }
  for (; p < kc; ++p) {  // the last kc % 8 steps
    for (int64_t w = 0; w < W; ++w) dst[p * W + w] = src[w * w_stride + p];
  }
}

template void pack_transposed_avx2<6>(int64_t, const float*, int64_t, float*, const float*);
template void pack_transposed_avx2<12>(int64_t, const float*, int64_t, float*, const float*);
template void pack_transposed_avx2<16>(int64_t, const float*, int64_t, float*, const float*);
template void pack_transposed_avx2<32>(int64_t, const float*, int64_t, float*, const float*);

}  // namespace tinytorch::kernels::gemm
