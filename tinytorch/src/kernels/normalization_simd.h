// The fast tier's LayerNorm kernels (kernels/normalization.h), written once over a vector policy
// (vec_policy.h) and instantiated per instruction set: normalization_avx2.cpp,
// normalization_avx512.cpp, and the portable one-lane version in normalization_fast.cpp. Private
// to src/kernels.
//
// The learner's loops (src/native/normalization.cpp) do every reduction and every x̂ in double, so
// each float is converted and each vector holds 4 values, not 8: the backward of the course GPT's
// [2048, 128] rows took ~5 cycles an element. Here everything stays in float:
//
//   forward, per row:   mean = Σx / N, var = Σ(x − mean)² / N   (two passes; the row is in L1;
//                       the second also sums x − mean, which corrects the float mean's rounding)
//                       y = x̂·γ + β,  x̂ = (x − mean)·rstd        (one FMA per element)
//   backward, per row:  Σg and Σg·x̂ with g = gy·γ, giving c = −rstd·mean(g·x̂), e = −rstd·mean(g);
//   then down columns:  gx = g·rstd + x̂·c + e, and in the same pass gγ, gβ: Σ gy·x̂ and Σ gy over
//                       up to kRowsPerPartial rows in float vectors, each block of columns' sums
//                       added into the caller's double accumulators. (gx was a pass of its own
//                       and the sums a third, which read gy and x once more: on [2048, 768] the
//                       backward spent ~10% there.)
//
// (The learner's gx = g·a + x·b + d folds the mean into d; forming x − mean first, as here, keeps
// the cancellation of a row far from zero out of the float arithmetic.)
//
// A row's reductions keep four independent chains of adds (four vectors of one sum, or two of
// each of two sums); the last N mod kLanes elements of a row run one by one with the same
// formulas.
//
// NOTE: compiled once per instruction set; see attention_simd.h's NOTE for why everything here
// is a member of a template over a file-local V and uses no inline standard-library function.
#pragma once

#include <cstdint>

#include "tinytorch/kernels/normalization.h"
#include "unroll.h"

namespace tinytorch::kernels::normalization_detail {

template <class V>
struct LayerNorm {
  using Vec = typename V::Vec;
  static constexpr int64_t W = V::kLanes;
  // gγ and gβ are summed in float over at most this many rows at a time (the op's row blocks are
  // as long), then added into the double accumulators.
  static constexpr int64_t kRowsPerPartial = 64;

  // Σ over [0, n): vec_term(i) for the whole vectors, term(i) for the last n mod W indices.
  template <class VecTerm, class Term>
  [[gnu::always_inline]] static float sum(int64_t n, VecTerm vec_term, Term term) {
    Vec s0 = V::zero(), s1 = V::zero(), s2 = V::zero(), s3 = V::zero();
    int64_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
      s0 = V::add(s0, vec_term(i));
      s1 = V::add(s1, vec_term(i + W));
      s2 = V::add(s2, vec_term(i + 2 * W));
      s3 = V::add(s3, vec_term(i + 3 * W));
    }
    for (; i + W <= n; i += W) s0 = V::add(s0, vec_term(i));
    float s = V::reduce_add(V::add(V::add(s0, s1), V::add(s2, s3)));
    for (; i < n; ++i) s += term(i);
    return s;
  }

  static void forward(int64_t M, int64_t N, const float* x, const float* weight, const float* bias,
                      double eps, float* y, double* mean, double* rstd) {
    // First the statistics of every row, then y: each row's reductions end in a chain of
    // dependent steps (horizontal sum, division, square root), and with the rows' statistics in a
    // loop of their own the core overlaps that chain with the next row's loads and adds. (Row by
    // row, mean → var → y, it ran at the chain's latency: 1.3 cycles an element on Zen 3.)
    for (int64_t m = 0; m < M; ++m) {
      const float* xr = x + m * N;
      const float mu0 =
          sum(
              N, [xr](int64_t i) { return V::load(xr + i); }, [xr](int64_t i) { return xr[i]; }) /
          static_cast<float>(N);
      // The second pass sums d = x − mu0 and d²: Σd corrects the rounding of the float mean, and
      // var = (Σd² − (Σd)²/N) / N (the "corrected two-pass" algorithm).
      const Vec vmu = V::set1(mu0);
      Vec sd0 = V::zero(), sd1 = V::zero(), sq0 = V::zero(), sq1 = V::zero();
      int64_t i = 0;
      for (; i + 2 * W <= N; i += 2 * W) {
        const Vec d0 = V::sub(V::load(xr + i), vmu), d1 = V::sub(V::load(xr + i + W), vmu);
        sd0 = V::add(sd0, d0);
        sd1 = V::add(sd1, d1);
        sq0 = V::fmadd(d0, d0, sq0);
        sq1 = V::fmadd(d1, d1, sq1);
      }
      for (; i + W <= N; i += W) {
        const Vec d0 = V::sub(V::load(xr + i), vmu);
        sd0 = V::add(sd0, d0);
        sq0 = V::fmadd(d0, d0, sq0);
      }
      float sd = V::reduce_add(V::add(sd0, sd1)), sq = V::reduce_add(V::add(sq0, sq1));
      for (; i < N; ++i) {
        const float d = xr[i] - mu0;
        sd += d;
        sq += d * d;
      }
      const double n = static_cast<double>(N), mean_d = static_cast<double>(sd) / n;
      const double var = static_cast<double>(sq) / n - mean_d * mean_d;
      mean[m] = static_cast<double>(mu0) + mean_d;
      // (Rounding can leave a constant row's var a hair below 0; a NaN row keeps its NaN.)
      rstd[m] = 1.0 / __builtin_sqrt((var < 0.0 ? 0.0 : var) + eps);
    }
    const Vec one = V::set1(1.0f);
    for (int64_t m = 0; m < M; ++m) {
      const float* xr = x + m * N;
      float* yr = y + m * N;
      const float mu = static_cast<float>(mean[m]), r = static_cast<float>(rstd[m]);
      const Vec vmu = V::set1(mu), vr = V::set1(r);
      int64_t i = 0;
      for (; i + W <= N; i += W) {
        const Vec xhat = V::mul(V::sub(V::load(xr + i), vmu), vr);
        V::store(yr + i, V::fmadd(xhat, weight != nullptr ? V::load(weight + i) : one,
                                  bias != nullptr ? V::load(bias + i) : V::zero()));
      }
      for (; i < N; ++i) {
        yr[i] = (xr[i] - mu) * r * (weight != nullptr ? weight[i] : 1.0f) +
                (bias != nullptr ? bias[i] : 0.0f);
      }
    }
  }

  // The backward of a block of `rows` (≤ kRowsPerPartial) rows, whose means and rstds are in
  // float: first each row's coefficients (as the forward's statistics: their dependent tails
  // overlap the next row's work), then one pass down the block's columns that writes gx and sums
  // gγ and gβ together.
  static void backward(int64_t M, int64_t N, const float* gy, const float* x, const double* mean,
                       const double* rstd, const float* weight, float* gx, double* grad_weight_acc,
                       double* grad_bias_acc) {
    const bool want_sums = grad_weight_acc != nullptr || grad_bias_acc != nullptr;
    if (gx == nullptr && !want_sums) return;
    for (int64_t m0 = 0; m0 < M; m0 += kRowsPerPartial) {
      const int64_t rows = M - m0 < kRowsPerPartial ? M - m0 : kRowsPerPartial;
      Block b{rows, N,  gy + m0 * N, x + m0 * N, weight, gx != nullptr ? gx + m0 * N : nullptr,
              {},   {}, {},          {}};
      for (int64_t k = 0; k < rows; ++k) {
        b.mu[k] = static_cast<float>(mean[m0 + k]);
        b.r[k] = static_cast<float>(rstd[m0 + k]);
      }
      if (gx != nullptr) row_coefficients(b);
      int64_t i = 0;
      for (; i + 4 * W <= N; i += 4 * W) columns<4>(b, i, grad_weight_acc, grad_bias_acc);
      for (; i + W <= N; i += W) columns<1>(b, i, grad_weight_acc, grad_bias_acc);
      for (; i < N; ++i) {  // the last N mod W columns, one by one with the same formulas
        const float w = weight != nullptr ? weight[i] : 1.0f;
        float sw = 0.0f, sb = 0.0f;
        for (int64_t k = 0; k < rows; ++k) {
          const float g = b.gy[k * N + i], xhat = (b.x[k * N + i] - b.mu[k]) * b.r[k];
          if (b.gx != nullptr) b.gx[k * N + i] = g * w * b.r[k] + (xhat * b.c[k] + b.e[k]);
          sw += g * xhat;
          sb += g;
        }
        if (grad_weight_acc != nullptr) grad_weight_acc[i] += sw;
        if (grad_bias_acc != nullptr) grad_bias_acc[i] += sb;
      }
    }
  }

  // One block of rows: gy, x and gx ([rows, N], gx null when not wanted) at its first row, and
  // each row's mean, rstd and (when gx is wanted) gx's coefficients c and e.
  struct Block {
    int64_t rows, N;
    const float* gy;
    const float* x;
    const float* weight;
    float* gx;
    float mu[kRowsPerPartial], r[kRowsPerPartial], c[kRowsPerPartial], e[kRowsPerPartial];
  };

  // Each row's c = −rstd·mean(g·x̂) and e = −rstd·mean(g), with g = gy·γ, x̂ = (x − mean)·rstd.
  static void row_coefficients(Block& b) {
    const int64_t N = b.N;
    const float* weight = b.weight;
    const auto g_vec = [weight](const float* gr, int64_t i) {
      return weight != nullptr ? V::mul(V::load(gr + i), V::load(weight + i)) : V::load(gr + i);
    };
    for (int64_t k = 0; k < b.rows; ++k) {
      const float* xr = b.x + k * N;
      const float* gr = b.gy + k * N;
      const Vec vmu = V::set1(b.mu[k]), vr = V::set1(b.r[k]);
      // Σg and Σg·x̂ in one pass, two vectors of each at a time (four chains of adds).
      Vec sg0 = V::zero(), sg1 = V::zero(), sx0 = V::zero(), sx1 = V::zero();
      int64_t i = 0;
      for (; i + 2 * W <= N; i += 2 * W) {
        const Vec g0 = g_vec(gr, i), g1 = g_vec(gr, i + W);
        sg0 = V::add(sg0, g0);
        sg1 = V::add(sg1, g1);
        sx0 = V::fmadd(g0, V::mul(V::sub(V::load(xr + i), vmu), vr), sx0);
        sx1 = V::fmadd(g1, V::mul(V::sub(V::load(xr + i + W), vmu), vr), sx1);
      }
      for (; i + W <= N; i += W) {
        const Vec g0 = g_vec(gr, i);
        sg0 = V::add(sg0, g0);
        sx0 = V::fmadd(g0, V::mul(V::sub(V::load(xr + i), vmu), vr), sx0);
      }
      float sum_g = V::reduce_add(V::add(sg0, sg1)), sum_gxhat = V::reduce_add(V::add(sx0, sx1));
      for (; i < N; ++i) {
        const float g = weight != nullptr ? gr[i] * weight[i] : gr[i];
        sum_g += g;
        sum_gxhat += g * ((xr[i] - b.mu[k]) * b.r[k]);
      }
      const float inv_n = 1.0f / static_cast<float>(N);
      b.c[k] = -b.r[k] * (sum_gxhat * inv_n);
      b.e[k] = -b.r[k] * (sum_g * inv_n);
    }
  }

  // The U·W columns from column i, down the block's rows: gx = g·rstd + x̂·c + e (when wanted),
  // and Σ gy·x̂, Σ gy added into the accumulators that are not null. U vectors of columns at
  // once: the sums are 2·U independent chains in registers, and gy and x are read once (from L2,
  // where the coefficients' pass left them).
  template <int U>
  [[gnu::always_inline]] static void columns(const Block& b, int64_t i, double* grad_weight_acc,
                                             double* grad_bias_acc) {
    if (b.gx != nullptr) {
      columns<U, true>(b, i, grad_weight_acc, grad_bias_acc);
    } else {
      columns<U, false>(b, i, grad_weight_acc, grad_bias_acc);
    }
  }
  template <int U, bool kWantGx>
  [[gnu::always_inline]] static void columns(const Block& b, int64_t i, double* grad_weight_acc,
                                             double* grad_bias_acc) {
    const int64_t N = b.N;
    Vec w[U], sw[U], sb[U];
    TT_UNROLL(8)
    for (int u = 0; u < U; ++u) {
      w[u] = b.weight != nullptr ? V::load(b.weight + i + u * W) : V::set1(1.0f);
      sw[u] = sb[u] = V::zero();
    }
    for (int64_t k = 0; k < b.rows; ++k) {
      const float* g_row = b.gy + k * N + i;
      const float* x_row = b.x + k * N + i;
      const Vec vmu = V::set1(b.mu[k]), vr = V::set1(b.r[k]);
      TT_UNROLL(8)
      for (int u = 0; u < U; ++u) {
        const Vec g = V::load(g_row + u * W);
        const Vec xhat = V::mul(V::sub(V::load(x_row + u * W), vmu), vr);
        if constexpr (kWantGx) {
          const Vec vc = V::set1(b.c[k]), ve = V::set1(b.e[k]);
          V::store(b.gx + k * N + i + u * W, V::fmadd(V::mul(g, w[u]), vr, V::fmadd(xhat, vc, ve)));
        }
        sw[u] = V::fmadd(g, xhat, sw[u]);
        sb[u] = V::add(sb[u], g);
      }
    }
    float pw[U * W], pb[U * W];
    TT_UNROLL(8)
    for (int u = 0; u < U; ++u) {
      V::store(pw + u * W, sw[u]);
      V::store(pb + u * W, sb[u]);
    }
    for (int64_t j = 0; j < U * W; ++j) {
      if (grad_weight_acc != nullptr) grad_weight_acc[i + j] += pw[j];
      if (grad_bias_acc != nullptr) grad_bias_acc[i + j] += pb[j];
    }
  }
};

// The kernels of one instruction set.
struct NormalizationIsa {
  LayerNormForwardFn layer_norm_forward;
  LayerNormBackwardFn layer_norm_backward;
};

template <class V>
NormalizationIsa normalization_isa() {
  return {LayerNorm<V>::forward, LayerNorm<V>::backward};
}

// normalization_avx2.cpp and normalization_avx512.cpp, built only for x86 (as attention's).
NormalizationIsa normalization_avx2();
NormalizationIsa normalization_avx512();

}  // namespace tinytorch::kernels::normalization_detail
