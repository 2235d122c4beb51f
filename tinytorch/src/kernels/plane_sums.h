// Sums over one plane of floats in double — batch norm's statistics and gradient sums and a
// convolution's bias gradient (DirectConvKernel::sums, and spatial_fast.cpp's fallback) — written
// once for any vector width. Private to src/kernels.
//
// Each float is converted to double exactly; kLanes / 2 doubles per vector (8 with AVX-512, 4 with
// AVX2, 2 for spatial_fast.cpp's fallback, SSE2's width), four vectors of partial sums side by side
// so that the additions need not wait for each other, then one sum across the lanes and the last
// count mod 2·kLanes terms one by one. GCC's and Clang's vector extensions give the double vectors
// (and the same arithmetic syntax for vectors and scalars: v − mu, d * d), so the terms are written
// once. (A scalar double loop ran at about half the speed of SSE2's pairs. Going from SSE2's pairs
// to AVX-512's eights took ResNet-8's training step, batch 128 at one thread, from 135.6–141.5 to
// 127.4–131.3 ms on an Intel Xeon: batch norm's sums had been ~15% of it.)
//
// NOTE: as gemm_simd.h explains, each copy of this template must stay in the file that compiled
// it: V is declared in an unnamed namespace in each .cpp, and this header calls no inline function
// of the standard library.
#pragma once

#include <cstdint>

#include "unroll.h"

namespace tinytorch::kernels::spatial {

// The three sums, as a kernel table carries them (DirectConvKernel::sums; spatial_fast.cpp's
// fallback): Σ x[i]; Σ (x[i] − mu)²; Σ g[i]·(x[i] − mu), i < count.
struct PlaneSumFns {
  double (*sum)(int64_t count, const float* x);
  double (*sum_squared_deviations)(int64_t count, const float* x, double mu);
  double (*sum_products_of_deviations)(int64_t count, const float* g, const float* x, double mu);
};

// kDoubles floats, and as many doubles, in one vector each. (Spelled out per width: GCC drops a
// vector_size that depends on a template parameter.)
template <int64_t kDoubles>
struct DoubleVectors;
template <>
struct DoubleVectors<2> {
  typedef float Floats __attribute__((vector_size(8)));
  typedef double Doubles __attribute__((vector_size(16)));
};
template <>
struct DoubleVectors<4> {
  typedef float Floats __attribute__((vector_size(16)));
  typedef double Doubles __attribute__((vector_size(32)));
};
template <>
struct DoubleVectors<8> {
  typedef float Floats __attribute__((vector_size(32)));
  typedef double Doubles __attribute__((vector_size(64)));
};

// V: a vector policy with kLanes floats per vector (vec_policy.h's, or spatial_fast.cpp's).
template <typename V>
struct PlaneSums {
  static constexpr int64_t kDoubles = V::kLanes / 2;
  using Floats = typename DoubleVectors<kDoubles>::Floats;
  using Doubles = typename DoubleVectors<kDoubles>::Doubles;

  static Doubles load(const float* p) {
    Floats f;
    __builtin_memcpy(&f, p, sizeof f);
    return __builtin_convertvector(f, Doubles);
  }
  // Σ term(in[i]...) over i < count.
  template <typename Term, typename... In>
  static double sum_terms(int64_t count, const Term& term, const In*... in) {
    Doubles acc[4] = {};
    int64_t i = 0;
    for (; i + 4 * kDoubles <= count; i += 4 * kDoubles) {
      TT_UNROLL(4)
      for (int64_t u = 0; u < 4; ++u) acc[u] += term(load(in + i + u * kDoubles)...);
    }
    const Doubles all = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    double total = 0.0;
    for (int64_t k = 0; k < kDoubles; ++k) total += all[k];
    for (; i < count; ++i) total += term(static_cast<double>(in[i])...);
    return total;
  }
  static double sum(int64_t count, const float* x) {
    return sum_terms(
        count, [](auto v) { return v; }, x);
  }
  static double sum_squared_deviations(int64_t count, const float* x, double mu) {
    return sum_terms(
        count,
        [mu](auto v) {
          const auto d = v - mu;
          return d * d;
        },
        x);
  }
  static double sum_products_of_deviations(int64_t count, const float* g, const float* x,
                                           double mu) {
    return sum_terms(
        count, [mu](auto grad, auto v) { return grad * (v - mu); }, g, x);
  }

  static constexpr PlaneSumFns fns() {
    return {sum, sum_squared_deviations, sum_products_of_deviations};
  }
};

}  // namespace tinytorch::kernels::spatial
