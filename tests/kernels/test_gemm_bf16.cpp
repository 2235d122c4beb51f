// Tests for the bfloat16 GEMM (kernels/gemm.h: gemm_bf16) under every level the CPU has (its
// HalfIsa: DEFAULT, AVX2, AVX512 widen to float while packing, AVX512_BF16 multiplies pairs with
// vdpbf16ps), times 1, 2 or 3 threads, against a float64 sum of the same bfloat16 inputs.
//
// The tolerance: a product of two bfloat16 values is exact in float32 (8 + 8 significant bits),
// so the only rounding is that of the float32 sums. Any order of K additions errs by at most
// (K − 1) · u · Σ|a·b| (u = 2^-24, half float32's epsilon); alpha and beta add two roundings. The
// tests allow (K + 2) · epsilon · (|alpha| · Σ|a·b| + |beta · c|), twice that bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/half.h"

namespace tinytorch::kernels {
namespace {

struct Bf16Problem {
  int64_t M, N, K;
  bool trans_a = false, trans_b = false;
  float alpha = 1.0f, beta = 0.0f;
  int64_t pad = 0;  // spare elements per stored row of A, B and C
};

// A stored rows x cols matrix (row stride cols + pad) of bfloat16 values near N(0, 1).
std::vector<BFloat16> random_bf16(int64_t rows, int64_t cols, int64_t pad, std::mt19937& gen) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<BFloat16> x(static_cast<size_t>(rows * (cols + pad)));
  for (BFloat16& v : x) v = float_to_bf16(dist(gen));
  return x;
}

class GemmBf16Test : public ::testing::TestWithParam<std::tuple<HalfIsa, int>> {
 protected:
  void SetUp() override {
    unsetenv("TINYTORCH_CPU_CAPABILITY");
    if (isa() > half_isa()) GTEST_SKIP() << "this CPU lacks " << to_string(isa());
    set_num_threads(std::get<1>(GetParam()));
  }
  void TearDown() override { set_num_threads(0); }
  static HalfIsa isa() { return std::get<0>(GetParam()); }

  static void check(const Bf16Problem& p, uint32_t seed = 1) {
    std::mt19937 gen(seed);
    const auto [M, N, K] = std::tuple{p.M, p.N, p.K};
    // Stored shapes: A is M x K or K x M, B is K x N or N x K.
    const int64_t a_cols = p.trans_a ? M : K, b_cols = p.trans_b ? K : N;
    const int64_t lda = a_cols + p.pad, ldb = b_cols + p.pad, ldc = N + p.pad;
    const std::vector<BFloat16> A = random_bf16(p.trans_a ? K : M, a_cols, p.pad, gen);
    const std::vector<BFloat16> B = random_bf16(p.trans_b ? N : K, b_cols, p.pad, gen);
    std::vector<float> C(static_cast<size_t>(std::max<int64_t>(M, 1) * ldc));
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (float& c : C) c = p.beta == 0.0f ? std::numeric_limits<float>::quiet_NaN() : dist(gen);
    const std::vector<float> C0 = C;

    gemm_bf16(isa(), p.trans_a, p.trans_b, M, N, K, p.alpha, A.data(), lda, B.data(), ldb, p.beta,
              C.data(), ldc);

    // op(A) [M, K] and op(B)ᵀ [N, K] in double, contiguous along k: the reference's operands.
    std::vector<double> a(static_cast<size_t>(M * K)), bt(static_cast<size_t>(N * K));
    for (int64_t k = 0; k < K; ++k) {
      for (int64_t i = 0; i < M; ++i) {
        a[i * K + k] = bf16_to_float(p.trans_a ? A[k * lda + i] : A[i * lda + k]);
      }
      for (int64_t j = 0; j < N; ++j) {
        bt[j * K + k] = bf16_to_float(p.trans_b ? B[j * ldb + k] : B[k * ldb + j]);
      }
    }
    constexpr double kEps = std::numeric_limits<float>::epsilon();
    for (int64_t i = 0; i < M; ++i) {
      for (int64_t j = 0; j < N; ++j) {
        double sum = 0, magnitude = 0;
        for (int64_t k = 0; k < K; ++k) {
          const double product = a[i * K + k] * bt[j * K + k];
          sum += product;
          magnitude += std::abs(product);
        }
        const double c0 = p.beta == 0.0f ? 0.0 : double{C0[i * ldc + j]};
        const double expected = p.alpha * sum + p.beta * c0;
        const double tolerance = (static_cast<double>(K) + 2) * kEps *
                                 (std::abs(p.alpha) * magnitude + std::abs(p.beta * c0));
        ASSERT_NEAR(C[i * ldc + j], expected, tolerance)
            << to_string(isa()) << " M=" << M << " N=" << N << " K=" << K
            << " trans_a=" << p.trans_a << " trans_b=" << p.trans_b << " at (" << i << ", " << j
            << ")";
      }
      for (int64_t j = N; j < ldc; ++j) {  // the padding of C is never written
        ASSERT_TRUE(std::isnan(C[i * ldc + j]) == std::isnan(C0[i * ldc + j]));
      }
    }
  }

  static void check_all_transposes(Bf16Problem p) {
    for (const bool trans_a : {false, true}) {
      for (const bool trans_b : {false, true}) {
        p.trans_a = trans_a;
        p.trans_b = trans_b;
        check(p);
      }
    }
  }
};

TEST_P(GemmBf16Test, AllTinyShapes) {
  const int64_t sizes[] = {0, 1, 2, 7, 13};
  for (const int64_t M : sizes) {
    for (const int64_t N : sizes) {
      for (const int64_t K : sizes) {
        check_all_transposes({.M = M, .N = N, .K = K, .alpha = 1.5f, .beta = -0.5f});
      }
    }
  }
}

TEST_P(GemmBf16Test, EdgeAndMultiBlockShapes) {
  // Around the block sizes (MR = 6 or 12, NR = 16 or 32, MC = 144, KC = 256, 512 or 1024, NC = 2048
  // or 4080): K odd (the pair packing's zero step) within one and across several rank-KC
  // updates, full tiles, several MC blocks, a second NC panel, large K, vector-like extremes.
  const Bf16Problem shapes[] = {{1, 1, 1},      {12, 32, 2},    {12, 32, 3},  {25, 65, 31},
                                {1, 100, 33},   {100, 1, 33},   {13, 37, 1},  {145, 17, 513},
                                {64, 64, 1025}, {130, 70, 515}, {7, 2100, 5}, {3, 5, 3001},
                                {156, 97, 300}, {48, 96, 256}};
  for (const Bf16Problem& s : shapes) check_all_transposes({.M = s.M, .N = s.N, .K = s.K});
}

TEST_P(GemmBf16Test, AlphaBetaAndStrides) {
  // beta = 0 must not read C (it holds NaNs); strided rows leave C's padding alone.
  check_all_transposes({.M = 37, .N = 41, .K = 29, .alpha = 1.0f, .beta = 0.0f, .pad = 3});
  check_all_transposes({.M = 37, .N = 41, .K = 29, .alpha = -2.0f, .beta = 0.25f, .pad = 5});
  check_all_transposes({.M = 20, .N = 30, .K = 0, .alpha = 1.0f, .beta = 0.5f});
  check_all_transposes({.M = 20, .N = 30, .K = 9, .alpha = 0.0f, .beta = 2.0f});
}

INSTANTIATE_TEST_SUITE_P(Levels, GemmBf16Test,
                         ::testing::Combine(::testing::Values(HalfIsa::kDefault, HalfIsa::kAvx2,
                                                              HalfIsa::kAvx512,
                                                              HalfIsa::kAvx512Bf16),
                                            ::testing::Values(1, 2, 3)),
                         [](const auto& info) {
                           return std::string(to_string(std::get<0>(info.param))) + "_" +
                                  std::to_string(std::get<1>(info.param)) + "threads";
                         });

// The widening levels pack float32 copies of A and B and run gemm_fast's micro-kernel of the same
// level with its block sizes: the result is the float GEMM's on the widened inputs, bit for bit.
// Every transpose (each operand's packs: lines contiguous along k, or side by side), ragged
// slivers (M = 149, N = 70), steps past the last 8 (K = 301: 45 in the second rank-KC update on
// the AVX2 level) and rows starting at odd elements (a padded row stride).
TEST(GemmBf16, WideningLevelsMatchTheFloatGemm) {
  unsetenv("TINYTORCH_CPU_CAPABILITY");
  const HalfIsa best = half_isa();
  std::mt19937 gen(7);
  const int64_t M = 149, N = 70, K = 301, pad = 3;
  const std::pair<HalfIsa, const char*> levels[] = {
      {HalfIsa::kDefault, "default"}, {HalfIsa::kAvx2, "avx2"}, {HalfIsa::kAvx512, "avx512"}};
  for (const bool trans_a : {false, true}) {
    for (const bool trans_b : {false, true}) {
      // Stored shapes: A is M x K or K x M, B is K x N or N x K; each row padded.
      const int64_t lda = (trans_a ? M : K) + pad, ldb = (trans_b ? K : N) + pad;
      const std::vector<BFloat16> A = random_bf16(trans_a ? K : M, lda - pad, pad, gen);
      const std::vector<BFloat16> B = random_bf16(trans_b ? N : K, ldb - pad, pad, gen);
      std::vector<float> A32(A.size()), B32(B.size());
      bf16_to_float(static_cast<int64_t>(A.size()), A.data(), A32.data());
      bf16_to_float(static_cast<int64_t>(B.size()), B.data(), B32.data());
      for (const auto& [isa, capability] : levels) {
        if (isa > best) continue;
        setenv("TINYTORCH_CPU_CAPABILITY", capability, 1);
        std::vector<float> c16(M * N), c32(M * N);
        gemm_bf16(isa, trans_a, trans_b, M, N, K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f,
                  c16.data(), N);
        gemm_fast(trans_a, trans_b, M, N, K, 1.0f, A32.data(), lda, B32.data(), ldb, 0.0f,
                  c32.data(), N);
        EXPECT_EQ(c16, c32) << to_string(isa) << " trans_a=" << trans_a << " trans_b=" << trans_b;
      }
    }
  }
  unsetenv("TINYTORCH_CPU_CAPABILITY");
}

// The bias form (a 16-bit Linear's float32 sums) has the bits of the bias copied into every row
// of C with beta = 1, at every level (TINYTORCH_CPU_CAPABILITY caps half_isa()), for bfloat16 and
// float16 operands, from a C full of NaN (beta = 0 never reads it): ragged slivers, two rank-KC
// updates, one row.
TEST(GemmBf16, BiasRowHasTheBitsOfTheBiasCopiedIntoC) {
  std::mt19937 gen(11);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (const char* capability : {"default", "avx2", "avx512"}) {
    setenv("TINYTORCH_CPU_CAPABILITY", capability, 1);
    SCOPED_TRACE(std::string("TINYTORCH_CPU_CAPABILITY=") + capability + ", " +
                 to_string(half_isa()));
    for (const auto& [M, N, K] :
         {std::tuple<int64_t, int64_t, int64_t>{149, 70, 301}, {1, 40, 9}}) {
      for (const bool trans_b : {false, true}) {
        const std::vector<BFloat16> A = random_bf16(M, K, 0, gen);
        const std::vector<BFloat16> B = random_bf16(trans_b ? N : K, trans_b ? K : N, 0, gen);
        std::vector<Half> Ah(A.size()), Bh(B.size());
        for (size_t i = 0; i < A.size(); ++i) Ah[i] = float_to_half(bf16_to_float(A[i]));
        for (size_t i = 0; i < B.size(); ++i) Bh[i] = float_to_half(bf16_to_float(B[i]));
        std::vector<float> bias(N);
        for (float& v : bias) v = dist(gen);
        const int64_t ldb = trans_b ? K : N;
        std::vector<float> copied(M * N);
        for (int64_t i = 0; i < M; ++i) std::copy(bias.begin(), bias.end(), copied.begin() + i * N);
        const std::vector<float> start = copied,
                                 nan(M * N, std::numeric_limits<float>::quiet_NaN());
        std::vector<float> fused = nan;
        gemm_bf16(false, trans_b, M, N, K, 1.0f, A.data(), K, B.data(), ldb, 1.0f, copied.data(),
                  N);
        gemm_bf16(false, trans_b, M, N, K, 1.0f, A.data(), K, B.data(), ldb, 0.0f, bias.data(),
                  fused.data(), N);
        EXPECT_EQ(fused, copied) << "bfloat16, M " << M << (trans_b ? ", B transposed" : "");
        copied = start;
        fused = nan;
        gemm_half(false, trans_b, M, N, K, 1.0f, Ah.data(), K, Bh.data(), ldb, 1.0f, copied.data(),
                  N);
        gemm_half(false, trans_b, M, N, K, 1.0f, Ah.data(), K, Bh.data(), ldb, 0.0f, bias.data(),
                  fused.data(), N);
        EXPECT_EQ(fused, copied) << "float16, M " << M << (trans_b ? ", B transposed" : "");
      }
    }
  }
  unsetenv("TINYTORCH_CPU_CAPABILITY");
}

// Threads split C, never a sum: the bits do not depend on the thread count.
TEST(GemmBf16, ThreadCountDoesNotChangeTheBits) {
  unsetenv("TINYTORCH_CPU_CAPABILITY");
  std::mt19937 gen(11);
  const int64_t M = 300, N = 260, K = 700;
  const std::vector<BFloat16> A = random_bf16(M, K, 0, gen), B = random_bf16(N, K, 0, gen);
  std::vector<float> one(M * N), three(M * N);
  set_num_threads(1);
  gemm_bf16(false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 0.0f, one.data(), N);
  set_num_threads(3);
  gemm_bf16(false, true, M, N, K, 1.0f, A.data(), K, B.data(), K, 0.0f, three.data(), N);
  set_num_threads(0);
  EXPECT_EQ(one, three) << to_string(half_isa());
}

}  // namespace
}  // namespace tinytorch::kernels
