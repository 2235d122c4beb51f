// The attention kernels for AVX-512 (attention_simd.h). This file alone is compiled with
// -mavx512f -mfma (see tinytorch/CMakeLists.txt); attention_fast.cpp calls it only on CPUs that
// have AVX-512F.
#include <immintrin.h>

// GCC 12 reports the deliberately undefined pass-through operand of its AVX-512 shuffle
// intrinsics (used by _mm512_reduce_*_ps) as "may be used uninitialized" once they are inlined: a
// false positive, silenced for this file only (as in spatial_avx512.cpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "attention_simd.h"
#include "exp_simd.h"

namespace tinytorch::kernels::attention_detail {
namespace {

struct Avx512 {
  using Vec = __m512;
  static constexpr int64_t kLanes = 16;
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec set1(float x) { return _mm512_set1_ps(x); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static Vec add(Vec x, Vec y) { return _mm512_add_ps(x, y); }
  static Vec sub(Vec x, Vec y) { return _mm512_sub_ps(x, y); }
  static Vec mul(Vec x, Vec y) { return _mm512_mul_ps(x, y); }
  static Vec max(Vec x, Vec y) { return _mm512_max_ps(x, y); }
  static Vec fmadd(Vec x, Vec y, Vec acc) { return _mm512_fmadd_ps(x, y, acc); }
  static Vec exp(Vec x) { return exp_avx512(x); }
  static float reduce_max(Vec v) { return _mm512_reduce_max_ps(v); }
  static float reduce_add(Vec v) { return _mm512_reduce_add_ps(v); }
};

}  // namespace

AttentionIsa attention_avx512() {
  return attention_isa<Avx512>();
}

}  // namespace tinytorch::kernels::attention_detail
