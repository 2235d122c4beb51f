// Tests for the fast tier's int8 GEMM (kernels/qgemm.h: pack_int8_weight_fast and the packed
// weight's micro-kernels) against a naive integer loop of its own (these kernel tests run in the
// learner release too, where module 15's reference loop is a stub).
//
// Every test runs under each micro-kernel the CPU can run (TINYTORCH_CPU_CAPABILITY = default,
// avx2, avx512; AVX512 means the VNNI kernel when the CPU reports avx512_vnni, levels the CPU lacks
// are skipped) times 1, 2 or 3 threads. Results must be EQUAL: integer arithmetic has no rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/qgemm.h"

namespace tinytorch::kernels {
namespace {

std::vector<int32_t> naive_qgemm(int64_t M, int64_t N, int64_t K, const std::vector<uint8_t>& A,
                                 int64_t lda, const std::vector<int8_t>& B) {
  std::vector<int32_t> C(static_cast<size_t>(M * N));
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t n = 0; n < N; ++n) {
      int64_t acc = 0;  // wider than the kernels' int32: an overflow there would show
      for (int64_t k = 0; k < K; ++k) acc += int64_t{A[m * lda + k]} * B[n * K + k];
      C[m * N + n] = static_cast<int32_t>(acc);
    }
  }
  return C;
}

class QGemmFastTest : public ::testing::TestWithParam<std::tuple<CpuCapability, int>> {
 protected:
  void SetUp() override {
    unsetenv("TINYTORCH_CPU_CAPABILITY");
    const CpuCapability capability = std::get<0>(GetParam());
    if (static_cast<int>(get_cpu_capability()) < static_cast<int>(capability)) {
      GTEST_SKIP() << "this CPU lacks " << to_string(capability);
    }
    setenv("TINYTORCH_CPU_CAPABILITY", to_string(capability), /*overwrite=*/1);
    threads_before_ = get_num_threads();
    set_num_threads(std::get<1>(GetParam()));
  }
  void TearDown() override {
    unsetenv("TINYTORCH_CPU_CAPABILITY");
    if (threads_before_ > 0) set_num_threads(threads_before_);
  }

  // A with `pad` spare bytes per row; activations in [0, a_max].
  static void check(int64_t M, int64_t N, int64_t K, int a_max, uint32_t seed, int64_t pad = 0) {
    std::mt19937 gen(seed);
    std::uniform_int_distribution<int> a_dist(0, a_max), b_dist(-128, 127);
    const int64_t lda = K + pad;
    std::vector<uint8_t> A(static_cast<size_t>(M * lda));
    std::vector<int8_t> B(static_cast<size_t>(N * K));
    for (auto& a : A) a = static_cast<uint8_t>(a_dist(gen));
    for (auto& b : B) b = static_cast<int8_t>(b_dist(gen));
    const PackedInt8Weight packed = pack_int8_weight_fast(N, K, B.data(), K);
    std::vector<int32_t> C(static_cast<size_t>(M * N), -1);
    qgemm_packed(M, A.data(), lda, packed, C.data(), N);
    EXPECT_EQ(C, naive_qgemm(M, N, K, A, lda, B))
        << "M=" << M << " N=" << N << " K=" << K << " a_max=" << a_max
        << " isa=" << qgemm_fast_isa();
  }

 private:
  int threads_before_ = 0;
};

TEST_P(QGemmFastTest, TailsInEveryDimension) {
  uint32_t seed = 1;
  for (const int64_t M : {1, 3, 4, 5, 8, 9, 17, 70}) {
    // N: one panel, partial or whole; two (the VNNI tile's width), the second partial (17, 31)
    // or whole (48 = a pair + a lone panel); several blocks of four panels (70).
    for (const int64_t N : {1, 15, 16, 17, 31, 33, 48, 70}) {
      for (const int64_t K : {1, 3, 4, 5, 31, 33, 64, 130}) check(M, N, K, 127, seed++);
    }
  }
}

TEST_P(QGemmFastTest, FullRangeActivationsStayExact) {
  // Some A > 127: AVX2's vpmaddubsw would saturate, so an exact kernel must run instead.
  check(37, 45, 93, 255, 7, /*pad=*/3);
  check(130, 70, 257, 255, 8);
}

TEST_P(QGemmFastTest, BigEnoughToThread) {
  check(130, 150, 300, 127, 9, /*pad=*/5);
}

TEST_P(QGemmFastTest, SaturationEdges) {
  // 127·(−128)·2 = −32512: the largest pair sum vpmaddubsw meets with 7-bit activations fits
  // int16; 255 would not (−65280), and takes the exact path. K large, int32 sums large.
  for (const int a : {127, 255}) {
    const int64_t M = 9, N = 17, K = 1001;
    const std::vector<uint8_t> A(static_cast<size_t>(M * K), static_cast<uint8_t>(a));
    const std::vector<int8_t> B(static_cast<size_t>(N * K), -128);
    const PackedInt8Weight packed = pack_int8_weight_fast(N, K, B.data(), K);
    std::vector<int32_t> C(static_cast<size_t>(M * N));
    qgemm_packed(M, A.data(), K, packed, C.data(), N);
    for (const int32_t c : C) ASSERT_EQ(c, -128 * a * K) << "a=" << a << " " << qgemm_fast_isa();
  }
}

TEST_P(QGemmFastTest, LargestKDoesNotOverflow) {
  const int64_t K = kQGemmMaxK;
  const std::vector<uint8_t> A(static_cast<size_t>(2 * K), 255);
  const std::vector<int8_t> B(static_cast<size_t>(3 * K), -128);
  const PackedInt8Weight packed = pack_int8_weight_fast(3, K, B.data(), K);
  std::vector<int32_t> C(6);
  qgemm_packed(2, A.data(), K, packed, C.data(), 3);
  for (const int32_t c : C) EXPECT_EQ(c, -255 * 128 * K);
}

TEST_P(QGemmFastTest, EmptyProblems) {
  const std::vector<int8_t> B(4, 1);
  const PackedInt8Weight packed = pack_int8_weight_fast(1, 4, B.data(), 4);
  std::vector<int32_t> C(1, 42);
  qgemm_packed(0, nullptr, 4, packed, C.data(), 1);
  EXPECT_EQ(C[0], 42);
  const PackedInt8Weight no_k = pack_int8_weight_fast(2, 0, nullptr, 0);
  const std::vector<uint8_t> A(3, 9);
  std::vector<int32_t> C2(6, 42);
  qgemm_packed(3, A.data(), 1, no_k, C2.data(), 2);
  EXPECT_EQ(C2, std::vector<int32_t>(6, 0));
}

TEST_P(QGemmFastTest, ActivationPassesEqualThePlainLoops) {
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> value(-3.0f, 5.0f);
  std::uniform_int_distribution<int32_t> acc(-100000, 100000);
  // n: around each kernel's step (8, 32, 64 values) and several steps with a tail.
  for (const int64_t n : {0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 200, 333}) {
    std::vector<float> x(static_cast<size_t>(n)), scale(x.size()), bias(x.size());
    std::vector<int32_t> c(x.size()), correction(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      x[i] = value(gen);
      scale[i] = value(gen) * 1e-3f;
      bias[i] = value(gen);
      c[i] = acc(gen);
      correction[i] = acc(gen);
    }
    if (n > 4) x[3] = 2.5f * (8.0f / 127);  // a rounding tie of x / s: half to even
    float lo_fast = 1, hi_fast = 1, lo = 1, hi = 1;
    minmax_fast(n, x.data(), &lo_fast, &hi_fast);
    minmax_plain(n, x.data(), &lo, &hi);
    EXPECT_EQ(lo_fast, lo);
    EXPECT_EQ(hi_fast, hi);
    EXPECT_LE(lo, 0.0f);
    EXPECT_GE(hi, 0.0f);
    std::vector<uint8_t> q_fast(x.size(), 255), q(x.size(), 255);
    quantize_fast(n, x.data(), 127 / 8.0f, 48, q_fast.data());
    quantize_plain(n, x.data(), 127 / 8.0f, 48, q.data());
    EXPECT_EQ(q_fast, q) << "n=" << n;
    for (const uint8_t v : q) EXPECT_LE(v, 127);
    std::vector<float> y_fast(x.size()), y(x.size());
    dequantize_fast(n, c.data(), scale.data(), correction.data(), bias.data(), y_fast.data());
    dequantize_plain(n, c.data(), scale.data(), correction.data(), bias.data(), y.data());
    EXPECT_EQ(y_fast, y) << "n=" << n;
    if (n > 0) {
      x[static_cast<size_t>(n - 1)] = std::nanf("");  // in the vector part or the tail
      minmax_fast(n, x.data(), &lo_fast, &hi_fast);
      EXPECT_TRUE(std::isnan(lo_fast)) << "n=" << n;
    }
  }
}

// The dynamic Linear cuts the batch into blocks of rows, each quantized, multiplied and
// dequantized by one thread (kernels/qgemm.cpp). Whatever the cut — one block, many, a short
// last one — and the thread count, y must be bit for bit the plain loops' answer over the whole
// batch: one (scale, zero point) from the whole batch's range, the exact integer product, the
// same epilogue.
TEST_P(QGemmFastTest, DynamicLinearEqualsThePlainPipelineForEveryBlocking) {
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> value(-2.0f, 3.0f);
  std::uniform_int_distribution<int> weight(-127, 127);
  const int64_t N = 33, K = 70;  // K not a multiple of 4: every block's rows get padded
  std::vector<int8_t> q(static_cast<size_t>(N * K));
  for (auto& v : q) v = static_cast<int8_t>(weight(gen));
  std::vector<float> scales(static_cast<size_t>(N)), bias(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) {
    scales[n] = 0.01f + 0.001f * static_cast<float>(n);
    bias[n] = value(gen);
  }
  const DynamicQuantLinear layer =
      dynamic_quant_linear_from_int8(N, K, q.data(), scales, bias.data());
  for (const int64_t M : {1, 7, 64, 65, 130, 257}) {
    std::vector<float> x(static_cast<size_t>(M * K));
    for (auto& v : x) v = value(gen);
    x[static_cast<size_t>((M - 1) * K)] = 7.5f;  // the batch's maximum, in the last block
    float lo = 0, hi = 0;
    minmax_plain(M * K, x.data(), &lo, &hi);
    const ActivationQuantParams qp = choose_activation_qparams(lo, hi);
    std::vector<uint8_t> qx(x.size());
    quantize_plain(M * K, x.data(), 1.0f / qp.scale, qp.zero_point, qx.data());
    std::vector<int32_t> correction(static_cast<size_t>(N));
    std::vector<float> scale(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n) {
      correction[n] = qp.zero_point * std::accumulate(&q[n * K], &q[(n + 1) * K], 0);
      scale[n] = qp.scale * scales[n];
    }
    const std::vector<int32_t> C = naive_qgemm(M, N, K, qx, K, q);
    std::vector<float> expected(static_cast<size_t>(M * N)), y(expected.size(), -1.0f);
    for (int64_t m = 0; m < M; ++m) {
      dequantize_plain(N, &C[m * N], scale.data(), correction.data(), bias.data(),
                       &expected[m * N]);
    }
    dynamic_quant_linear(layer, M, x.data(), y.data());
    EXPECT_EQ(y, expected) << "M=" << M << " isa=" << qgemm_fast_isa();
    // A NaN or an infinity in any block is refused, whichever thread finds it.
    for (const float bad : {std::nanf(""), std::numeric_limits<float>::infinity()}) {
      x[static_cast<size_t>(M * K - 1)] = bad;
      EXPECT_THROW(dynamic_quant_linear(layer, M, x.data(), y.data()), Error) << "M=" << M;
    }
  }
}

std::string name(const ::testing::TestParamInfo<std::tuple<CpuCapability, int>>& info) {
  return std::string(to_string(std::get<0>(info.param))) + "_threads" +
         std::to_string(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(KernelsAndThreads, QGemmFastTest,
                         ::testing::Combine(::testing::Values(CpuCapability::kDefault,
                                                              CpuCapability::kAvx2,
                                                              CpuCapability::kAvx512),
                                            ::testing::Values(1, 2, 3)),
                         name);

TEST(QGemmFastIsa, NamesTheKernelInForce) {
  unsetenv("TINYTORCH_CPU_CAPABILITY");
  const std::string best = qgemm_fast_isa();
  EXPECT_TRUE(best == "AVX512_VNNI" || best == "AVX2" || best == "DEFAULT") << best;
  setenv("TINYTORCH_CPU_CAPABILITY", "default", 1);
  EXPECT_STREQ(qgemm_fast_isa(), "DEFAULT");
  unsetenv("TINYTORCH_CPU_CAPABILITY");
}

}  // namespace
}  // namespace tinytorch::kernels
