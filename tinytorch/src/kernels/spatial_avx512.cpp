// The direct convolution kernel for AVX-512 (spatial_simd.h). This file alone is compiled with
// -mavx512f -mfma (see tinytorch/CMakeLists.txt); spatial_fast.cpp calls it only on CPUs that
// have AVX-512F.
//
// Tile: 8 output channels x 3 zmm (48 positions): 24 accumulators + 3 input vectors + 1
// broadcast = 28 of the 32 registers. 8 rows rather than the GEMM's 12, because the layers that
// matter have 6, 16, 32 or 64 output channels: 8 divides all but the first, and 6 fits in one
// tile of 6 rows.
#include <immintrin.h>

#include "spatial_kernels.h"
#include "spatial_simd.h"

namespace tinytorch::kernels::spatial {
namespace {

struct Avx512 {
  using Vec = __m512;
  static constexpr int64_t kLanes = 16;
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static Vec fmadd(Vec x, Vec y, Vec acc) { return _mm512_fmadd_ps(x, y, acc); }
};

constexpr int64_t kRows = 8, kVectors = 3;

}  // namespace

DirectConvKernel direct_conv_avx512() {
  return {kRows, kVectors * Avx512::kLanes, direct_conv<Avx512, kRows, kVectors>};
}

}  // namespace tinytorch::kernels::spatial
