// Module 15 (grader) — the int8 GEMM on random shapes: the reference loop against a 64-bit
// integer loop, both tiers' packed weights against the reference loop (bit for bit), at 1 and 2
// threads; the dynamic Linear's output against the float Linear on its own dequantized operands
// (which it must match up to float rounding: the integer part is exact). The checks are graded
// ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "support/graded.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/qgemm.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/modules/quantized_linear.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::kernels {
namespace {

struct Problem {
  int64_t M, N, K, lda;
  std::vector<uint8_t> A;
  std::vector<int8_t> B;
};

Problem random_problem(std::mt19937& gen, int a_max) {
  std::uniform_int_distribution<int64_t> size(1, 75);
  Problem p{size(gen), size(gen), size(gen), 0, {}, {}};
  p.lda = p.K + std::uniform_int_distribution<int64_t>(0, 3)(gen);
  std::uniform_int_distribution<int> a(0, a_max), b(-128, 127);
  p.A.resize(static_cast<size_t>(p.M * p.lda));
  p.B.resize(static_cast<size_t>(p.N * p.K));
  for (auto& v : p.A) v = static_cast<uint8_t>(a(gen));
  for (auto& v : p.B) v = static_cast<int8_t>(b(gen));
  return p;
}

TEST(Module15QGemmHidden, ReferenceLoopOnRandomShapes) {
  std::mt19937 gen(15);
  for (int trial = 0; trial < 40; ++trial) {
    const Problem p = random_problem(gen, trial % 2 ? 255 : 127);
    // C has 2 columns more than N, holding 7: the loop must not write them.
    std::vector<int32_t> C(static_cast<size_t>(p.M * (p.N + 2)), 7);
    qgemm_u8s8_reference(p.M, p.N, p.K, p.A.data(), p.lda, p.B.data(), p.K, C.data(), p.N + 2);
    std::vector<int64_t> want;  // the products in 64-bit integers
    TT_GRADE_EXPECTED_ONLY(want.assign(C.size(), 7); for (int64_t m = 0; m < p.M; ++m) {
      for (int64_t n = 0; n < p.N; ++n) {
        int64_t sum = 0;
        for (int64_t k = 0; k < p.K; ++k) sum += int64_t{p.A[m * p.lda + k]} * p.B[n * p.K + k];
        want[static_cast<size_t>(m * (p.N + 2) + n)] = sum;
      }
    });
    TT_GRADE_EQ(C, want) << "trial " << trial;
  }
}

TEST(Module15QGemmHidden, BothTiersAgreeBitForBit) {
  const int threads_before = get_num_threads();
  std::mt19937 gen(16);
  for (const int threads : {1, 2}) {
    set_num_threads(threads);
    for (int trial = 0; trial < 20; ++trial) {
      const Problem p = random_problem(gen, trial % 3 ? 127 : 255);
      std::vector<int32_t> want(static_cast<size_t>(p.M * p.N));
      TT_GRADE_EXPECTED_ONLY(qgemm_u8s8_reference(p.M, p.N, p.K, p.A.data(), p.lda, p.B.data(), p.K,
                                                  want.data(), p.N));
      for (const Tier t : {Tier::kReference, Tier::kFast}) {
        const TierGuard guard(t);
        const PackedInt8Weight packed = pack_int8_weight(p.N, p.K, p.B.data(), p.K);
        std::vector<int32_t> C(static_cast<size_t>(p.M * p.N), -1);
        qgemm_packed(p.M, p.A.data(), p.lda, packed, C.data(), p.N);
        TT_GRADE_EQ(C, want) << "trial " << trial << " threads " << threads;
      }
    }
  }
  set_num_threads(threads_before);
}

// Output (m, n) of the dynamic Linear by the test's own quantization, following the documented
// rules: x [M, K] per tensor (from its range), row n of w [N, K] with scale s_w.
struct DequantizedDot {
  double value = 0;
  double tolerance = 0;
};

DequantizedDot dequantized_dot(const std::vector<float>& x, const std::vector<float>& w,
                               const std::vector<float>& b, float s_w, int64_t m, int64_t n,
                               int64_t K) {
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  const ActivationQuantParams qp = choose_activation_qparams(*lo, *hi);
  double want = b[n], magnitude = std::fabs(b[n]);
  for (int64_t k = 0; k < K; ++k) {
    const double qx =
        std::clamp(std::nearbyint(x[m * K + k] / qp.scale) + qp.zero_point, 0.0f, 127.0f);
    const double qw = std::clamp(std::nearbyint(w[n * K + k] / s_w), -127.0f, 127.0f);
    const double term = qp.scale * (qx - qp.zero_point) * s_w * qw;
    want += term;
    magnitude += std::fabs(term);
  }
  // Only float rounding separates the two (the integer sum is exact); a rounding tie of x / s_x
  // may land on the other side in float: one step s_x·|ŵ| at most.
  return {want, 1e-5 * magnitude + qp.scale * s_w * 127 * 1.01};
}

TEST(Module15QGemmHidden, DynamicLinearEqualsTheFloatLinearOfItsDequantizedOperands) {
  std::mt19937 gen(17);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const bool per_channel : {false, true}) {
    const int64_t M = 11, N = 23, K = 45;
    std::vector<float> x(M * K), w(N * K), b(N);
    for (auto& v : x) v = normal(gen) + 0.5f;
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t k = 0; k < K; ++k)
        w[n * K + k] = normal(gen) * 0.05f * static_cast<float>(n + 1);
    }
    for (auto& v : b) v = normal(gen);
    nn::Linear fc(K, N);
    {
      const NoGradGuard no_grad;
      fc->weight.copy_(from_vector(w, {N, K}));
      fc->bias.copy_(from_vector(b, {N}));
    }
    const nn::quantized::dynamic::Linear layer(*fc, per_channel);
    const std::vector<float> y = layer->forward(from_vector(x, {M, K})).to_vector<float>();
    ASSERT_EQ(y.size(), static_cast<size_t>(M * N));  // a guard: indexed below
    std::vector<float> weight_scales;
    TT_GRADE_EXPECTED_ONLY(weight_scales = layer->weight_scales().to_vector<float>());
    for (int64_t m = 0; m < M; ++m) {
      for (int64_t n = 0; n < N; ++n) {
        DequantizedDot want;
        TT_GRADE_EXPECTED_ONLY(
            want = dequantized_dot(x, w, b, weight_scales[per_channel ? n : 0], m, n, K));
        TT_GRADE_NEAR(y[static_cast<size_t>(m * N + n)], want.value, want.tolerance)
            << "m=" << m << " n=" << n << " per_channel=" << per_channel;
      }
    }
  }
}

}  // namespace
}  // namespace tinytorch::kernels
