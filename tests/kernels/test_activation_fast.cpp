// Tests for the fast tier's activation kernels (kernels/activation.h,
// src/kernels/activation_fast.cpp) against the formulas evaluated in double with std::erf /
// std::tanh / std::exp, on every instruction set the CPU has: the exact GELU and its tanh
// approximation, sigmoid and tanh, forward and backward.
//
// The inputs sweep [−16, 16] finely (the far negative tail, where 1 + erf(x/√2) cancels in float,
// is where a careless erf loses all its relative accuracy), add ±0, ±∞, NaN and the extremes of
// float, and use every length 0 … 40 so that each tail of the vector loop (n mod 8, n mod 16)
// runs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <numbers>
#include <ostream>
#include <string>
#include <vector>

#include "kernel_test_values.h"
#include "tinytorch/kernels/activation.h"
#include "tinytorch/kernels/gemm.h"

namespace tinytorch::kernels {

void PrintTo(CpuCapability capability, std::ostream* os);

namespace {

using testing::kInf;

// The references, in double.
double phi_cdf(double x) {
  return 0.5 * std::erfc(-x / std::numbers::sqrt2);
}
double gelu_ref(double x) {
  return x * phi_cdf(x);
}
double gelu_grad_ref(double x) {
  return phi_cdf(x) + x * std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi);
}
// The tanh form as x · σ(2u), which keeps the negative tail that 1 + tanh(u) would round to 0
// even in double (gelu_tanh(−10) ≈ −1.4e−37).
constexpr double kBeta = 0.79788456080286535588;  // √(2/π)
constexpr double kKappa = 0.044715;
double minus_2u_exp(double x) {
  return std::exp(-2.0 * kBeta * (x + kKappa * x * x * x));
}
double gelu_tanh_ref(double x) {
  return x / (1.0 + minus_2u_exp(x));
}
double gelu_tanh_grad_ref(double x) {
  // ½(1 + tanh u) = s, ½(1 − tanh² u) = 2s(1 − s), with s = σ(2u) = 1/(1 + e^(−2u)).
  const double e = minus_2u_exp(x), s = 1.0 / (1.0 + e), one_minus_s = 1.0 / (1.0 + 1.0 / e);
  return s + 2.0 * x * (s * one_minus_s) * kBeta * (1.0 + 3.0 * kKappa * x * x);
}

std::vector<float> sweep() {
  std::vector<float> x;
  for (int i = -16000; i <= 16000; i += 7) x.push_back(static_cast<float>(i) / 1000.0f);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f, 30.0f, -30.0f, 1e4f, -1e4f})
    x.push_back(v);
  return x;
}

// |got − want| ≤ (rel + tail · x²) · |want| + abs, with the same NaN and infinities. The tail
// term: e^(−x²/2) takes x² rounded to float, whose rounding error (x² · 2⁻²⁴) becomes a relative
// error of the result; 1.2e−7 · x² bounds it (1.7e−5 at x = −12, where gelu(x) ≈ −1.6e−32).
// The SIMD exponentials flush results below e^−87.3 ≈ 1.2e−38 to 0: abs = 1e−35 allows that.
void expect_activation_close(const std::vector<float>& x, const std::vector<float>& got,
                             double (*ref)(double), double rel, double abs, const char* what,
                             double tail = 1.2e-7) {
  int bad = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = ref(x[i]);
    const double g = got[i];
    const double r = rel + tail * static_cast<double>(x[i]) * x[i];
    const bool ok = std::isnan(want)   ? std::isnan(g)
                    : std::isinf(want) ? g == want
                                       : std::abs(g - want) <= r * std::abs(want) + abs;
    if (!ok && ++bad <= 3)
      ADD_FAILURE() << what << "(" << x[i] << ") = " << g << ", expected " << want;
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << x.size() << " values off";
}

class ActivationFast : public ::testing::TestWithParam<CpuCapability> {
 protected:
  void SetUp() override {
    unsetenv("TINYTORCH_CPU_CAPABILITY");
    if (GetParam() > get_cpu_capability())
      GTEST_SKIP() << "this CPU lacks " << to_string(GetParam());
    setenv("TINYTORCH_CPU_CAPABILITY", to_string(GetParam()), /*overwrite=*/1);
  }
  void TearDown() override { unsetenv("TINYTORCH_CPU_CAPABILITY"); }
};

TEST_P(ActivationFast, ExactGeluAndItsGradientMatchErf) {
  const std::vector<float> x = sweep();
  std::vector<float> y(x.size()), dx(x.size());
  const std::vector<float> ones(x.size(), 1.0f);
  gelu_fast(x.data(), y.data(), static_cast<int64_t>(x.size()));
  gelu_backward_fast(ones.data(), x.data(), dx.data(), static_cast<int64_t>(x.size()));
  // Relative accuracy everywhere, the negative tail included: gelu(−10) ≈ −7.7e−23.
  expect_activation_close(x, y, gelu_ref, 2e-6, 1e-35, "gelu");
  expect_activation_close(x, dx, gelu_grad_ref, 2e-6, 2e-6, "gelu_backward");
}

TEST_P(ActivationFast, TanhGeluAndItsGradientMatchTheFormula) {
  const std::vector<float> x = sweep();
  std::vector<float> y(x.size()), dx(x.size());
  const std::vector<float> ones(x.size(), 1.0f);
  gelu_tanh_fast(x.data(), y.data(), static_cast<int64_t>(x.size()));
  gelu_tanh_backward_fast(ones.data(), x.data(), dx.data(), static_cast<int64_t>(x.size()));
  expect_activation_close(x, y, gelu_tanh_ref, 2e-6, 1e-35, "gelu_tanh");
  expect_activation_close(x, dx, gelu_tanh_grad_ref, 2e-6, 2e-6, "gelu_tanh_backward");
}

TEST_P(ActivationFast, InfinitiesAndNanBehaveAsTheReference) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {kInf, -kInf, nan, -nan};
  std::vector<float> y(4), t(4);
  gelu_fast(x.data(), y.data(), 4);
  gelu_tanh_fast(x.data(), t.data(), 4);
  for (const std::vector<float>* v : {&y, &t}) {
    EXPECT_EQ((*v)[0], kInf);
    EXPECT_TRUE(std::isnan((*v)[1])) << "−∞ · Φ(−∞) = −∞ · 0, as std::erf gives";
    EXPECT_TRUE(std::isnan((*v)[2]));
    EXPECT_TRUE(std::isnan((*v)[3]));
  }
  std::vector<float> g = {2.0f, 2.0f, 2.0f, 2.0f}, dx(4);
  gelu_backward_fast(g.data(), x.data(), dx.data(), 4);
  EXPECT_TRUE(std::isnan(dx[2]));
}

double sigmoid_ref(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}
double tanh_ref(double x) {
  return std::tanh(x);
}

TEST_P(ActivationFast, SigmoidAndTanhMatchTheFormulas) {
  std::vector<float> x = sweep();
  // Around tanh's switch from its polynomial to e^(−2|x|) (|x| = 0.625), denormals, and where
  // e^(−x) overflows in the reference (x < −88.7).
  for (float v : {0.624f, 0.625f, 0.626f, -0.624f, -0.625f, -0.626f, 1e-40f, -1e-40f, -87.0f,
                  -88.0f, -89.0f, -100.0f, 89.0f, 100.0f})
    x.push_back(v);
  const auto n = static_cast<int64_t>(x.size());
  std::vector<float> s(x.size()), t(x.size());
  sigmoid_fast(x.data(), s.data(), n);
  tanh_fast(x.data(), t.data(), n);
  // 4 ulp (2⁻²⁴ each) relative; sigmoid flushes what is below FLT_MIN (1.2e−38) to 0.
  expect_activation_close(x, s, sigmoid_ref, 2.4e-7, 1.2e-38, "sigmoid", 0.0);
  expect_activation_close(x, t, tanh_ref, 2.4e-7, 0.0, "tanh", 0.0);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_GE(s[i], 0.0f) << x[i];
    EXPECT_LE(s[i], 1.0f) << x[i];
    EXPECT_LE(std::abs(t[i]), 1.0f) << x[i];
  }
}

TEST_P(ActivationFast, SigmoidAndTanhGradientsComeFromTheOutput) {
  // y spans the outputs' ranges, [0, 1] and [−1, 1], with the ends and values next to them.
  std::vector<float> y, g;
  for (int i = -1000; i <= 1000; ++i) {
    y.push_back(static_cast<float>(i) / 1000.0f);
    g.push_back(0.5f + static_cast<float>(i % 7));
  }
  for (float v : {1e-30f, 1.0f - 6e-8f, -1.0f + 6e-8f}) {
    y.push_back(v);
    g.push_back(3.0f);
  }
  const auto n = static_cast<int64_t>(y.size());
  std::vector<float> ds(y.size()), dt(y.size());
  sigmoid_backward_fast(g.data(), y.data(), ds.data(), n);
  tanh_backward_fast(g.data(), y.data(), dt.data(), n);
  for (size_t i = 0; i < y.size(); ++i) {
    const double yi = y[i], gi = g[i];
    const double want_s = gi * yi * (1.0 - yi), want_t = gi * (1.0 - yi * yi);
    EXPECT_NEAR(ds[i], want_s, 3e-7 * std::abs(want_s) + 1e-45) << "y " << yi;
    EXPECT_NEAR(dt[i], want_t, 3e-7 * std::abs(gi)) << "y " << yi;  // 1 − y² rounds y² first
  }
}

TEST_P(ActivationFast, SigmoidAndTanhAtTheEdgesAreExact) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> x = {kInf, -kInf, nan, -nan, 0.0f, -0.0f, 1e4f, -1e4f};
  std::vector<float> s(x.size()), t(x.size());
  sigmoid_fast(x.data(), s.data(), 8);
  tanh_fast(x.data(), t.data(), 8);
  EXPECT_EQ(s[0], 1.0f);
  EXPECT_EQ(s[1], 0.0f);
  EXPECT_TRUE(std::isnan(s[2]));
  EXPECT_TRUE(std::isnan(s[3]));
  EXPECT_EQ(s[4], 0.5f);
  EXPECT_EQ(s[5], 0.5f);
  EXPECT_EQ(s[6], 1.0f);
  EXPECT_EQ(s[7], 0.0f);
  EXPECT_EQ(t[0], 1.0f);
  EXPECT_EQ(t[1], -1.0f);
  EXPECT_TRUE(std::isnan(t[2]));
  EXPECT_TRUE(std::isnan(t[3]));
  EXPECT_EQ(t[4], 0.0f);
  EXPECT_FALSE(std::signbit(t[4]));
  EXPECT_EQ(t[5], 0.0f);
  EXPECT_TRUE(std::signbit(t[5])) << "tanh(−0) = −0, as std::tanh";
  EXPECT_EQ(t[6], 1.0f);
  EXPECT_EQ(t[7], -1.0f);
  std::vector<float> g(x.size(), 2.0f), ds(x.size()), dt(x.size());
  sigmoid_backward_fast(g.data(), s.data(), ds.data(), 8);
  tanh_backward_fast(g.data(), t.data(), dt.data(), 8);
  EXPECT_EQ(ds[0], 0.0f);
  EXPECT_EQ(ds[4], 0.5f);
  EXPECT_TRUE(std::isnan(ds[2]));
  EXPECT_EQ(dt[1], 0.0f);
  EXPECT_EQ(dt[4], 2.0f);
  EXPECT_TRUE(std::isnan(dt[2]));
}

TEST_P(ActivationFast, EveryLengthWritesExactlyItsElements) {
  // Each length leaves a different tail for the vector loop; the element after the end must stay.
  // Up to 140: past two whole blocks of the widest kernel (4 interleaved vectors of 16 lanes).
  for (int64_t n = 0; n <= 140; ++n) {
    std::vector<float> x(static_cast<size_t>(n) + 1), g(x.size(), 3.0f);
    for (int64_t i = 0; i <= n; ++i)
      x[static_cast<size_t>(i)] = 0.37f * static_cast<float>(i) - 5.0f;
    std::vector<float> y(x.size(), 123.0f), dx(x.size(), 123.0f);
    std::vector<float> s(x.size(), 123.0f), ds(x.size(), 123.0f);
    std::vector<float> t(x.size(), 123.0f), dt(x.size(), 123.0f);
    gelu_fast(x.data(), y.data(), n);
    gelu_backward_fast(g.data(), x.data(), dx.data(), n);
    sigmoid_fast(x.data(), s.data(), n);
    sigmoid_backward_fast(g.data(), s.data(), ds.data(), n);
    tanh_fast(x.data(), t.data(), n);
    tanh_backward_fast(g.data(), t.data(), dt.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<size_t>(i);
      EXPECT_NEAR(y[k], gelu_ref(x[k]), 2e-6 * std::abs(gelu_ref(x[k])) + 1e-30) << "n " << n;
      EXPECT_NEAR(dx[k], 3.0 * gelu_grad_ref(x[k]), 1e-5) << "n " << n;
      const double sk = sigmoid_ref(x[k]), tk = tanh_ref(x[k]);
      EXPECT_NEAR(s[k], sk, 2.4e-7 * sk) << "n " << n;
      EXPECT_NEAR(ds[k], 3.0 * sk * (1.0 - sk), 1e-6) << "n " << n;
      EXPECT_NEAR(t[k], tk, 2.4e-7 * std::abs(tk)) << "n " << n;
      EXPECT_NEAR(dt[k], 3.0 * (1.0 - tk * tk), 1e-6) << "n " << n;
    }
    for (const std::vector<float>* v : {&y, &dx, &s, &ds, &t, &dt})
      EXPECT_EQ((*v)[static_cast<size_t>(n)], 123.0f) << "n " << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, ActivationFast,
                         ::testing::Values(CpuCapability::kDefault, CpuCapability::kAvx2,
                                           CpuCapability::kAvx512),
                         [](const ::testing::TestParamInfo<CpuCapability>& info) {
                           return std::string(to_string(info.param));
                         });

}  // namespace
}  // namespace tinytorch::kernels
