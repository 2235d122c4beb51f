// The attention kernels for AVX2/FMA (attention_simd.h). This file alone is compiled with
// -mavx2 -mfma (see tinytorch/CMakeLists.txt); attention_fast.cpp calls it only on CPUs that have
// both.
#include <immintrin.h>

#include "attention_simd.h"
#include "exp_simd.h"

namespace tinytorch::kernels::attention_detail {
namespace {

struct Avx2 {
  using Vec = __m256;
  static constexpr int64_t kLanes = 8;
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec set1(float x) { return _mm256_set1_ps(x); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static Vec add(Vec x, Vec y) { return _mm256_add_ps(x, y); }
  static Vec sub(Vec x, Vec y) { return _mm256_sub_ps(x, y); }
  static Vec mul(Vec x, Vec y) { return _mm256_mul_ps(x, y); }
  static Vec max(Vec x, Vec y) { return _mm256_max_ps(x, y); }
  static Vec fmadd(Vec x, Vec y, Vec acc) { return _mm256_fmadd_ps(x, y, acc); }
  static Vec exp(Vec x) { return exp_avx2(x); }
  static float reduce_max(Vec v) {  // halves, then pairs, then the last two
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    x = _mm_max_ss(x, _mm_shuffle_ps(x, x, 1));
    return _mm_cvtss_f32(x);
  }
  static float reduce_add(Vec v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
    return _mm_cvtss_f32(x);
  }
};

}  // namespace

AttentionIsa attention_avx2() {
  return attention_isa<Avx2>();
}

}  // namespace tinytorch::kernels::attention_detail
