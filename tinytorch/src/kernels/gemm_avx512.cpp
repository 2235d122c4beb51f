// The fast GEMM's AVX-512 micro-kernels. This file alone is compiled with -mavx512f -mfma (see
// tinytorch/CMakeLists.txt); gemm_fast.cpp calls it only on CPUs that have AVX-512F
// (gemm_kernels.h).
//
// The same kernel as AVX2's (gemm_simd.h) with registers twice as wide, and twice as many of them,
// so the tile is twice as tall: 12 x 32 floats in 24 zmm accumulators. Where the core has two
// full-width 512-bit FMA units (AMD Zen 5 desktop/server, Intel Xeons with two such units), this
// doubles the peak. Where it has one (many Xeon SKUs, Intel's client cores) or splits each 512-bit
// FMA into two 256-bit halves (AMD Zen 4), the peak stays that of AVX2, and the taller tile still
// halves the loads per FMA.
#include <immintrin.h>

#include "gemm_kernels.h"
#include "gemm_simd.h"

namespace tinytorch::kernels::gemm {
namespace {

// The vector type of simd_microkernel (gemm_simd.h): a zmm register of 16 floats or 8 doubles.
template <typename T>
struct Avx512;

template <>
struct Avx512<float> {
  using Vec = __m512;
  static constexpr int64_t kLanes = 16;
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec set1(float x) { return _mm512_set1_ps(x); }
  static Vec broadcast(const float* p) { return _mm512_set1_ps(*p); }  // vbroadcastss zmm, [p]
  static Vec load_b(const float* p) { return _mm512_loadu_ps(p); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static void stream(float* p, Vec v) { _mm512_stream_ps(p, v); }
  static Vec mul(Vec x, Vec y) { return _mm512_mul_ps(x, y); }
  static Vec fmadd(Vec x, Vec y, Vec acc) { return _mm512_fmadd_ps(x, y, acc); }
  static float fma(float x, float y, float acc) { return __builtin_fmaf(x, y, acc); }
};

template <>
struct Avx512<double> {
  using Vec = __m512d;
  static constexpr int64_t kLanes = 8;
  static Vec zero() { return _mm512_setzero_pd(); }
  static Vec set1(double x) { return _mm512_set1_pd(x); }
  static Vec broadcast(const double* p) { return _mm512_set1_pd(*p); }  // vbroadcastsd zmm, [p]
  static Vec load_b(const double* p) { return _mm512_loadu_pd(p); }
  static Vec load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, Vec v) { _mm512_storeu_pd(p, v); }
  static void stream(double* p, Vec v) { _mm512_stream_pd(p, v); }
  static Vec mul(Vec x, Vec y) { return _mm512_mul_pd(x, y); }
  static Vec fmadd(Vec x, Vec y, Vec acc) { return _mm512_fmadd_pd(x, y, acc); }
  static double fma(double x, double y, double acc) { return __builtin_fma(x, y, acc); }
};

}  // namespace

template <typename T, int64_t MR, int64_t NR, bool kStream>
void microkernel_avx512(int64_t kc, const T* a, const T* b, int64_t ldb, T alpha, T beta,
                        const T* bias, T* c, int64_t ldc) {
  simd_microkernel<Avx512<T>, MR, NR, T, T, kStream>(kc, a, b, ldb, alpha, beta, bias, c, ldc);
}

template void microkernel_avx512<float, 12, 32, false>(int64_t, const float*, const float*, int64_t,
                                                       float, float, const float*, float*, int64_t);
template void microkernel_avx512<float, 12, 32, true>(int64_t, const float*, const float*, int64_t,
                                                      float, float, const float*, float*, int64_t);
template void microkernel_avx512<double, 12, 16, false>(int64_t, const double*, const double*,
                                                        int64_t, double, double, const double*,
                                                        double*, int64_t);
template void microkernel_avx512<double, 12, 16, true>(int64_t, const double*, const double*,
                                                       int64_t, double, double, const double*,
                                                       double*, int64_t);

template <typename T, int64_t MR, int64_t NR>
void edge_microkernel_avx512(int64_t rows, int64_t kc, const T* a, const T* b, int64_t ldb, T alpha,
                             T beta, const T* bias, T* c, int64_t ldc) {
  simd_edge_microkernel<Avx512<T>, MR, NR>(rows, kc, a, MR, b, ldb, alpha, beta, bias, c, ldc);
}

template void edge_microkernel_avx512<float, 12, 32>(int64_t, int64_t, const float*, const float*,
                                                     int64_t, float, float, const float*, float*,
                                                     int64_t);
template void edge_microkernel_avx512<double, 12, 16>(int64_t, int64_t, const double*,
                                                      const double*, int64_t, double, double,
                                                      const double*, double*, int64_t);

template <typename T, int64_t MR, int64_t NR, ARead kA>
void a_in_place_microkernel_avx512(int64_t rows, int64_t kc, const T* a, int64_t lda, const T* b,
                                   int64_t ldb, T alpha, T beta, const T* bias, T* c, int64_t ldc) {
  simd_a_in_place_microkernel<Avx512<T>, MR, NR, kA>(rows, kc, a, lda, b, ldb, alpha, beta, bias, c,
                                                     ldc);
}

template void a_in_place_microkernel_avx512<float, 12, 32, ARead::kColumns>(
    int64_t, int64_t, const float*, int64_t, const float*, int64_t, float, float, const float*,
    float*, int64_t);
template void a_in_place_microkernel_avx512<float, 12, 32, ARead::kRows>(int64_t, int64_t,
                                                                         const float*, int64_t,
                                                                         const float*, int64_t,
                                                                         float, float, const float*,
                                                                         float*, int64_t);
template void a_in_place_microkernel_avx512<double, 12, 16, ARead::kColumns>(
    int64_t, int64_t, const double*, int64_t, const double*, int64_t, double, double, const double*,
    double*, int64_t);
template void a_in_place_microkernel_avx512<double, 12, 16, ARead::kRows>(
    int64_t, int64_t, const double*, int64_t, const double*, int64_t, double, double, const double*,
    double*, int64_t);

template <typename T>
void gemv_row_avx512(int64_t kc, int64_t n, const T* a, const T* b, int64_t rs, int64_t cs,
                     T* acc) {
  if constexpr (sizeof(T) == sizeof(float)) {  // B stored N x K: the AVX2 transposing kernel
    if (rs == 1 && cs != 1) return gemv_lines_avx2(kc, n, a, b, cs, acc);
  }
  simd_gemv_row<Avx512<T>>(kc, n, a, b, rs, cs, acc);
}

template void gemv_row_avx512<float>(int64_t, int64_t, const float*, const float*, int64_t, int64_t,
                                     float*);
template void gemv_row_avx512<double>(int64_t, int64_t, const double*, const double*, int64_t,
                                      int64_t, double*);

}  // namespace tinytorch::kernels::gemm
