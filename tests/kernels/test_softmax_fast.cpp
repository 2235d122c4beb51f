// Tests for the fast tier's softmax and log_softmax kernels (kernels/softmax.h,
// src/kernels/softmax_fast.cpp), on every instruction set the CPU has:
//   * the exponential and the log they use: e^x within 1.5 ulp over a dense sweep of the floats
//     whose e^x is a normal float, below the smallest normal float under it (0 for −∞), NaN for
//     NaN; log x within 1 ulp over a sweep of every binade of the positive normal floats;
//   * the four kernels against the formulas evaluated in double, along the last dim (rows of
//     1 … 17 — shorter than a vector, and every tail of one — and long rows) and along another dim
//     (a vector of rows at once: inner sizes around 8, 16 and 64, and 128 and 256 with short rows,
//     groups of rows that start mid-vector; short rows in slabs of ragged widths), with −∞
//     entries, rows all −∞ (NaN, as PyTorch), NaN and +∞ entries (NaN rows) and magnitudes up to
//     1e30;
//   * gradients large enough to be streamed (non-temporal stores) have the bits of stored ones,
//     with the last dim's rows streamed and not (TINYTORCH_SOFTMAX_STREAM_ROWS; other values are
//     an error);
//   * any range of rows gives the same bits as the whole tensor in one call (what makes the
//     results independent of the thread count), and nothing outside the range is written;
//   * the ops (softmax, log_softmax and their backward, cross_entropy) on the fast tier against
//     the reference tier (module 02's row loops), at 1 and 2 threads, last and non-last dim.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "kernel_test_values.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/kernels/softmax.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::kernels {

void PrintTo(CpuCapability capability, std::ostream* os);

namespace {

using testing::kInf;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

class SoftmaxFast : public ::testing::TestWithParam<CpuCapability> {
 protected:
  void SetUp() override {
    unsetenv("TINYTORCH_CPU_CAPABILITY");
    if (GetParam() > get_cpu_capability())
      GTEST_SKIP() << "this CPU lacks " << to_string(GetParam());
    setenv("TINYTORCH_CPU_CAPABILITY", to_string(GetParam()), /*overwrite=*/1);
  }
  void TearDown() override { unsetenv("TINYTORCH_CPU_CAPABILITY"); }
};

// ── the exponential ─────────────────────────────────────────────────────────────────────────

// The distance from got to the exact e^x in units of the float spacing at e^x (its ulp).
double ulp_error(float got, double exact) {
  int exponent = 0;
  std::frexp(exact, &exponent);  // exact = f · 2^exponent, f in [0.5, 1): ulp = 2^(exponent − 24)
  return std::abs(static_cast<double>(got) - exact) / std::ldexp(1.0, exponent - 24);
}

// Every 13th float x with 2⁻³⁰ ≤ |x| and e^x a normal float (x from −87.3 to 88.3): 47 million
// values, each binade of x sampled at steps of 13 ulp, half of them below 0 (where softmax
// evaluates it). (Closer to 0, e^x rounds to 1 or to its neighbours.)
TEST_P(SoftmaxFast, ExpIsWithinOneAndAHalfUlpWhereverItsResultIsANormalFloat) {
  constexpr uint32_t kStep = 13;
  double worst = 0;
  float worst_x = 0;
  std::vector<float> x, y;
  // The floats of one sign from |x| = 2⁻³⁰ up to |x| = limit, a million at a time.
  const auto sweep = [&](float sign, float limit) {
    uint32_t bits, last;
    const float from = std::ldexp(1.0f, -30);
    std::memcpy(&bits, &from, sizeof bits);
    std::memcpy(&last, &limit, sizeof last);
    while (bits <= last) {
      x.clear();
      for (; bits <= last && x.size() < (1u << 20); bits += kStep) {
        float v;
        std::memcpy(&v, &bits, sizeof v);
        x.push_back(sign * v);
      }
      y.resize(x.size());
      exp_fast(x.data(), y.data(), static_cast<int64_t>(x.size()));
      for (size_t i = 0; i < x.size(); ++i) {
        const double e = ulp_error(y[i], std::exp(static_cast<double>(x[i])));
        if (!(e <= worst)) {  // (a NaN result counts as the worst)
          worst = std::isnan(e) ? 1e9 : e;
          worst_x = x[i];
        }
      }
    }
  };
  sweep(-1.0f, 87.3f);
  sweep(1.0f, 88.3f);
  EXPECT_LE(worst, 1.5) << "at x = " << worst_x;  // 1.24 with the SIMD versions, 0.5 with libm
  RecordProperty("max_ulp_error", std::to_string(worst));
}

// Every 97th positive normal float (22 million, all binades): log within 1 ulp (0.78 measured
// with the SIMD versions); NaN stays NaN. (log_softmax takes the log of sums ≥ 1.)
TEST_P(SoftmaxFast, LogIsWithinOneUlpForEveryPositiveNormalFloat) {
  double worst = 0;
  float worst_x = 0;
  std::vector<float> x, y;
  const uint32_t last = 0x7f7fffff;  // the largest finite float; the smallest normal is 0x00800000
  for (uint32_t bits = 0x00800000; bits <= last;) {
    x.clear();
    for (; bits <= last && x.size() < (1u << 20); bits += 97) {
      float v;
      std::memcpy(&v, &bits, sizeof v);
      x.push_back(v);
    }
    y.resize(x.size());
    log_fast(x.data(), y.data(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      const double exact = std::log(static_cast<double>(x[i]));
      const double e = exact == 0.0 ? (y[i] == 0.0f ? 0.0 : 1e9) : ulp_error(y[i], exact);
      if (!(e <= worst)) {
        worst = std::isnan(e) ? 1e9 : e;
        worst_x = x[i];
      }
    }
  }
  EXPECT_LE(worst, 1.0) << "at x = " << worst_x;
  const float nan = kNaN;
  float out = 0.0f;
  log_fast(&nan, &out, 1);
  EXPECT_TRUE(std::isnan(out));
}

// Below e^−87.3 the SIMD versions give exactly 0 and libm's (the portable version) a subnormal:
// either way less than the smallest normal float, never garbage from the exponent bits.
TEST_P(SoftmaxFast, ExpUnderflowsToZeroAndKeepsNaN) {
  const std::vector<float> x = {-kInf, -1e30f, -1000.0f, -103.0f, -87.5f, 0.0f, -0.0f, kNaN};
  std::vector<float> y(x.size(), 123.0f);
  exp_fast(x.data(), y.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(y[i], 0.0f) << "e^" << x[i];
  for (size_t i = 3; i < 5; ++i) {
    EXPECT_GE(y[i], 0.0f) << "e^" << x[i];
    EXPECT_LT(y[i], std::numeric_limits<float>::min()) << "e^" << x[i];
  }
  EXPECT_EQ(y[5], 1.0f);
  EXPECT_EQ(y[6], 1.0f);
  EXPECT_TRUE(std::isnan(y[7]));
}

// ── the kernels against double ──────────────────────────────────────────────────────────────

// A contiguous [outer, n, inner] tensor and a gradient; softmax runs along n.
struct SoftmaxProblem {
  int64_t outer, n, inner;
  std::vector<float> x, g;
  int64_t rows() const { return outer * inner; }
  int64_t at(int64_t r, int64_t j) const { return (r / inner) * n * inner + j * inner + r % inner; }
};

SoftmaxProblem random_problem(int64_t outer, int64_t n, int64_t inner, float scale, uint32_t seed) {
  SoftmaxProblem p{outer, n, inner, {}, {}};
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t i = 0; i < outer * n * inner; ++i) {
    p.x.push_back(scale * u(gen));
    p.g.push_back(u(gen));
  }
  return p;
}

// The four results in double, from the float inputs: forward from p.x, backward from the float
// outputs the kernels produced (y, log_y) and p.g, so that only each kernel's own rounding counts.
struct SoftmaxExpected {
  std::vector<double> y, log_y, gx, log_gx;
  // Each element's scale for the backward tolerance: y·(|g| + Σ|g·y|) and |g| + e^y·Σ|g|.
  std::vector<double> gx_scale, log_gx_scale;
};

SoftmaxExpected softmax_in_double(const SoftmaxProblem& p, const std::vector<float>& y,
                                  const std::vector<float>& log_y) {
  const size_t size = p.x.size();
  SoftmaxExpected e{std::vector<double>(size),     std::vector<double>(size),
                    std::vector<double>(size),     std::vector<double>(size),
                    std::vector<double>(size, 0.), std::vector<double>(size, 0.)};
  for (int64_t r = 0; r < p.rows(); ++r) {
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < p.n; ++j) {
      const double v = p.x[p.at(r, j)];
      m = std::isnan(v) || std::isnan(m) ? std::nan("") : std::max(m, v);
    }
    double s = 0, dot = 0, dot_abs = 0, gsum = 0, gsum_abs = 0;
    for (int64_t j = 0; j < p.n; ++j) {
      const auto k = static_cast<size_t>(p.at(r, j));
      s += std::exp(p.x[k] - m);  // −∞ − (−∞) and ∞ − ∞ are NaN, as in the reference loops
      dot += static_cast<double>(p.g[k]) * y[k];
      dot_abs += std::abs(static_cast<double>(p.g[k]) * y[k]);
      gsum += p.g[k];
      gsum_abs += std::abs(p.g[k]);
    }
    for (int64_t j = 0; j < p.n; ++j) {
      const auto k = static_cast<size_t>(p.at(r, j));
      e.y[k] = std::exp(p.x[k] - m) / s;
      e.log_y[k] = (p.x[k] - m) - std::log(s);
      e.gx[k] = y[k] * (p.g[k] - dot);
      e.log_gx[k] = p.g[k] - std::exp(static_cast<double>(log_y[k])) * gsum;
      e.gx_scale[k] = std::abs(y[k]) * (std::abs(p.g[k]) + dot_abs);
      e.log_gx_scale[k] = std::abs(p.g[k]) + std::exp(static_cast<double>(log_y[k])) * gsum_abs;
    }
  }
  return e;
}

// got[i] within rel · scale[i] + abs of want[i] (scale = |want| when empty), with the same NaNs
// and infinities.
void expect_softmax_close(const std::vector<float>& got, const std::vector<double>& want,
                          const std::vector<double>& scale, double rel, double abs,
                          const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    const double s = scale.empty() ? std::abs(w) : scale[i];
    const bool ok = std::isnan(w)   ? std::isnan(g)
                    : std::isinf(w) ? g == w
                                    : std::abs(g - w) <= rel * s + abs;
    if (!ok && ++bad <= 3) ADD_FAILURE() << what << "[" << i << "] = " << g << ", expected " << w;
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << got.size() << " values off";
}

// Runs the four kernels on p, over all rows at once and over every split of the rows into
// [0, cut) and [cut, rows) — the two must give the same bits — and checks them against double.
void check_problem(const SoftmaxProblem& p, const std::string& what) {
  const size_t size = p.x.size();
  const int64_t rows = p.rows();
  std::vector<float> y(size), log_y(size), gx(size), log_gx(size);
  softmax_fast(p.x.data(), y.data(), p.n, p.inner, 0, rows);
  log_softmax_fast(p.x.data(), log_y.data(), p.n, p.inner, 0, rows);
  softmax_backward_fast(p.g.data(), y.data(), gx.data(), p.outer, p.n, p.inner, 0, rows);
  log_softmax_backward_fast(p.g.data(), log_y.data(), log_gx.data(), p.outer, p.n, p.inner, 0,
                            rows);

  const SoftmaxExpected e = softmax_in_double(p, y, log_y);
  // Float sums of n terms in 4·W lanes, a 2-ulp exponential: a few 1e-7 relative, growing with n.
  const double rel = 4e-6 + 2e-9 * static_cast<double>(p.n);
  // Softmax values below e^−87.3 come out 0 (the exponential's flush); log_softmax is absolute
  // near 0, relative far from it.
  expect_softmax_close(y, e.y, {}, rel, 1e-37, what + " softmax");
  std::vector<double> one_plus(size);
  for (size_t i = 0; i < size; ++i) one_plus[i] = 1.0 + std::abs(e.log_y[i]);
  expect_softmax_close(log_y, e.log_y, one_plus, rel, 0.0, what + " log_softmax");
  expect_softmax_close(gx, e.gx, e.gx_scale, rel, 1e-37, what + " softmax_backward");
  expect_softmax_close(log_gx, e.log_gx, e.log_gx_scale, rel, 1e-37,
                       what + " log_softmax_backward");

  // Split at a few places (mid-vector, mid-outer): the same bits, nothing written outside.
  for (const int64_t cut : {int64_t{1}, rows / 3, rows / 2 + 1, rows - 1}) {
    if (cut <= 0 || cut >= rows) continue;
    std::vector<float> y2(size, 123.0f), log_y2(size, 123.0f), gx2(size, 123.0f),
        log_gx2(size, 123.0f);
    softmax_fast(p.x.data(), y2.data(), p.n, p.inner, 0, cut);
    log_softmax_fast(p.x.data(), log_y2.data(), p.n, p.inner, 0, cut);
    softmax_backward_fast(p.g.data(), y.data(), gx2.data(), p.outer, p.n, p.inner, 0, cut);
    log_softmax_backward_fast(p.g.data(), log_y.data(), log_gx2.data(), p.outer, p.n, p.inner, 0,
                              cut);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < p.n; ++j) {
        const auto k = static_cast<size_t>(p.at(r, j));
        if (r >= cut) {
          ASSERT_EQ(y2[k], 123.0f) << what << ": row " << r << " is outside [0, " << cut << ")";
          ASSERT_EQ(log_gx2[k], 123.0f) << what << ": row " << r << " is outside [0, " << cut;
        }
      }
    }
    softmax_fast(p.x.data(), y2.data(), p.n, p.inner, cut, rows);
    log_softmax_fast(p.x.data(), log_y2.data(), p.n, p.inner, cut, rows);
    softmax_backward_fast(p.g.data(), y.data(), gx2.data(), p.outer, p.n, p.inner, cut, rows);
    log_softmax_backward_fast(p.g.data(), log_y.data(), log_gx2.data(), p.outer, p.n, p.inner, cut,
                              rows);
    const auto same_bits = [](const std::vector<float>& a, const std::vector<float>& b) {
      return std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
    };
    EXPECT_TRUE(same_bits(y, y2)) << what << " softmax, split at row " << cut;
    EXPECT_TRUE(same_bits(log_y, log_y2)) << what << " log_softmax, split at row " << cut;
    EXPECT_TRUE(same_bits(gx, gx2)) << what << " softmax_backward, split at row " << cut;
    EXPECT_TRUE(same_bits(log_gx, log_gx2)) << what << " log_softmax_backward, split at " << cut;
  }
}

std::string shape_name(int64_t outer, int64_t n, int64_t inner) {
  return "[" + std::to_string(outer) + ", " + std::to_string(n) + ", " + std::to_string(inner) +
         "]";
}

TEST_P(SoftmaxFast, ShortRowsAlongTheLastDim) {
  for (int64_t n = 1; n <= 17; ++n) {
    for (const int64_t outer : {1, 3}) {
      check_problem(random_problem(outer, n, 1, 4.0f, static_cast<uint32_t>(n)),
                    shape_name(outer, n, 1));
    }
  }
}

// Rows of exactly one AVX-512 vector (16) go 16 at a time through the *_tile kernels (forward
// and backward), the rest one by one: check_problem's splits shift which rows share a block of 16,
// and the bits must not move; special values inside the blocks (a −∞ entry, a row of −∞, a NaN, a
// +∞, 1e30s).
TEST_P(SoftmaxFast, RowsOfSixteenSixteenAtATime) {
  for (const int64_t outer : {16, 37, 100}) {
    check_problem(random_problem(outer, 16, 1, 8.0f, static_cast<uint32_t>(outer)),
                  shape_name(outer, 16, 1));
  }
  SoftmaxProblem p = random_problem(40, 16, 1, 3.0f, 40);
  for (const int64_t r : {0, 17, 34}) {
    p.x[p.at(r, 3)] = -kInf;
    for (int64_t j = 0; j < 16; ++j) {
      p.x[p.at(r + 1, j)] = -kInf;
      p.x[p.at(r + 4, j)] *= 1e30f;
    }
    p.x[p.at(r + 2, 15)] = kNaN;
    p.x[p.at(r + 3, 0)] = kInf;
  }
  check_problem(p, "special values " + shape_name(40, 16, 1));
}

TEST_P(SoftmaxFast, LongRowsAlongTheLastDim) {
  for (const int64_t n : {31, 32, 33, 63, 64, 65, 100, 127, 1000, 4099}) {
    check_problem(random_problem(3, n, 1, 8.0f, static_cast<uint32_t>(n)), shape_name(3, n, 1));
  }
}

TEST_P(SoftmaxFast, RowsAlongAnotherDimAVectorOfRowsAtOnce) {
  // inner below, at and above 8, 16 and 64 (= 4 AVX-512 vectors of rows), outer > 1 so that a
  // range of rows crosses from one outer index to the next; inner of 16 vectors and more with
  // short rows (the wide groups: 256 rows at once on AVX-512, 128 on AVX2), n at and past the
  // longest rows they take (128 on AVX-512, 256 on AVX2).
  const int64_t shapes[][3] = {{2, 5, 2},     {1, 7, 8},     {3, 4, 17},   {2, 33, 65},
                               {1, 1, 40},    {2, 300, 20},  {1, 3, 129},  {4, 16, 16},
                               {2, 9, 7},     {1, 2, 1000},  {3, 16, 300}, {2, 128, 270},
                               {2, 129, 257}, {2, 256, 140}, {2, 257, 130}};
  for (const auto& s : shapes) {
    check_problem(random_problem(s[0], s[1], s[2], 6.0f, static_cast<uint32_t>(s[1] * s[2])),
                  shape_name(s[0], s[1], s[2]));
  }
}

// Short rows along another dim go through slabs: up to 16 KiB of one outer index, walked in memory
// order, the running max and sum of each column in a buffer (n ≤ 64 with AVX-512, 128 with AVX2,
// and inner at least four vectors). Ragged widths (a last slab of 3 columns: one partial vector),
// several slabs per outer index (inner past 512, or past 4096 / n), n of 1 and at the limit and
// just past it (then the four-vector groups), slabs whose next one is in the next outer index.
TEST_P(SoftmaxFast, ShortRowsAlongAnotherDimInSlabs) {
  const int64_t shapes[][3] = {{3, 16, 256}, {2, 16, 259}, {2, 3, 600},  {4, 1, 100},
                               {2, 64, 70},  {2, 65, 80},  {3, 7, 17},   {5, 16, 64},
                               {2, 128, 33}, {2, 129, 40}, {3, 2, 1031}, {2, 40, 263}};
  for (const auto& s : shapes) {
    check_problem(random_problem(s[0], s[1], s[2], 5.0f, static_cast<uint32_t>(s[1] + s[2])),
                  shape_name(s[0], s[1], s[2]));
  }
}

// A gradient of 8 MiB or more is written around the caches (non-temporal stores wherever a
// vector lands aligned; along the last dim by default on AMD CPUs only, both ways here through
// TINYTORCH_SOFTMAX_STREAM_ROWS); the values must be those of ordinary stores: the first outer
// indices of a big problem, run as a problem of their own (too small to stream), give the same
// bits. Rows of 1027 along the last dim (so most rows start unaligned: streamed and stored vectors
// mixed) and slabs of [16, 259] along another.
TEST_P(SoftmaxFast, StreamedGradientsHaveTheBitsOfStoredOnes) {
  // Rows of 1027 along the last dim, rows of 16 along the last dim (AVX-512: W rows at a time),
  // short rows along another dim (slabs).
  const int64_t shapes[][3] = {{2048, 1027, 1}, {131075, 16, 1}, {512, 16, 259}};
  for (const auto& s : shapes) {
    const int64_t outer = s[0], n = s[1], inner = s[2], size = outer * n * inner;
    ASSERT_GE(size * 4, int64_t{8} << 20);  // streamed
    SoftmaxProblem big = random_problem(outer, n, inner, 4.0f, static_cast<uint32_t>(n));
    for (int64_t j = 0; j < n; ++j) big.x[big.at(1, j)] = -kInf;  // a fully masked row
    const std::string what = shape_name(outer, n, inner);
    check_problem(big, what);

    const int64_t k = 3, rows = big.rows(), small_rows = k * inner, small_size = k * n * inner;
    std::vector<float> y(size), log_y(size), gx(size), log_gx(size);
    softmax_fast(big.x.data(), y.data(), n, inner, 0, rows);
    log_softmax_fast(big.x.data(), log_y.data(), n, inner, 0, rows);
    std::vector<float> gx_small(small_size), log_gx_small(small_size);
    softmax_backward_fast(big.g.data(), y.data(), gx_small.data(), k, n, inner, 0, small_rows);
    log_softmax_backward_fast(big.g.data(), log_y.data(), log_gx_small.data(), k, n, inner, 0,
                              small_rows);
    const auto bytes = static_cast<size_t>(small_size) * sizeof(float);
    for (const char* setting : {"1", "0"}) {
      SCOPED_TRACE(std::string("TINYTORCH_SOFTMAX_STREAM_ROWS=") + setting);
      setenv("TINYTORCH_SOFTMAX_STREAM_ROWS", setting, /*overwrite=*/1);
      softmax_backward_fast(big.g.data(), y.data(), gx.data(), outer, n, inner, 0, rows);
      log_softmax_backward_fast(big.g.data(), log_y.data(), log_gx.data(), outer, n, inner, 0,
                                rows);
      EXPECT_EQ(std::memcmp(gx.data(), gx_small.data(), bytes), 0) << what << " softmax_backward";
      EXPECT_EQ(std::memcmp(log_gx.data(), log_gx_small.data(), bytes), 0)
          << what << " log_softmax_backward";
    }
    unsetenv("TINYTORCH_SOFTMAX_STREAM_ROWS");
  }
}

// Only 0 and 1 force the streaming of rows along the last dim; anything else must not silently
// pick one.
TEST(SoftmaxFastSettings, BadStreamRowsSettingIsAnError) {
  setenv("TINYTORCH_SOFTMAX_STREAM_ROWS", "on", 1);
  const std::vector<float> g(4, 1.0f), y(4, 0.25f);
  std::vector<float> gx(4, 0.0f);
  try {
    softmax_backward_fast(g.data(), y.data(), gx.data(), 1, 4, 1, 0, 1);
    ADD_FAILURE() << "expected a ValueError";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("TINYTORCH_SOFTMAX_STREAM_ROWS"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("'on'"), std::string::npos) << e.what();
  }
  unsetenv("TINYTORCH_SOFTMAX_STREAM_ROWS");
}

// Rows with −∞ entries (masked scores), a row of −∞ only (NaN, as PyTorch gives), a NaN entry and
// a +∞ entry (NaN rows, as the reference loops), and rows of magnitude 1e30 and 80 — along the
// last dim and along another.
TEST_P(SoftmaxFast, SpecialValuesBehaveAsTheReference) {
  for (const int64_t inner : {1, 5, 19, 260}) {
    for (const int64_t n : {3, 13, 40}) {
      SoftmaxProblem p = random_problem(6, n, inner, 3.0f, static_cast<uint32_t>(n + inner));
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t r = i;               // rows of outer index 0, 1, …: row o·inner + i
        p.x[p.at(r, 0)] = -kInf;           // outer 0: one −∞ entry
        p.x[p.at(r, n - 1)] = -kInf;       //          and a second at the end
        for (int64_t j = 0; j < n; ++j) {  // outer 1: all −∞
          p.x[p.at(inner + r, j)] = -kInf;
          p.x[p.at(4 * inner + r, j)] *= 1e30f;  // outer 4: huge magnitudes
          p.x[p.at(5 * inner + r, j)] += 80.0f;  // outer 5: near e^88
        }
        p.x[p.at(2 * inner + r, n / 2)] = kNaN;  // outer 2: a NaN
        p.x[p.at(3 * inner + r, n - 1)] = kInf;  // outer 3: +∞
      }
      // In the backward, a y of −∞ (log_softmax of a −∞ entry) must give g, not NaN.
      check_problem(p, "special values " + shape_name(6, n, inner));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, SoftmaxFast,
                         ::testing::Values(CpuCapability::kDefault, CpuCapability::kAvx2,
                                           CpuCapability::kAvx512),
                         [](const ::testing::TestParamInfo<CpuCapability>& info) {
                           return std::string(to_string(info.param));
                         });

// ── the ops: fast tier against the reference tier, 1 and 2 threads ─────────────────────────

// The shapes are big enough to be split over two threads (the op's grain is 65,536 elements):
// [300, 1000] along dim 1 (last); [3, 1100, 35] along dim 1 (105 rows of 1100, split in the middle
// of an outer index); [700, 130] along dim 0 (130 rows of 700, as columns); [64, 16, 259] along
// dim 1 (slabs); [2048, 1027] and [512, 16, 257], whose gradients (8 MiB and more) are streamed.
std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// The same float32 values bit for bit (NaNs included), as contiguous tensors of one shape.
bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  return ca.sizes() == cb.sizes() &&
         std::memcmp(ca.data_ptr<float>(), cb.data_ptr<float>(),
                     static_cast<size_t>(ca.numel()) * sizeof(float)) == 0;
}

class SoftmaxOpTiers : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (fast_kernels().softmax.softmax == nullptr)
      GTEST_SKIP() << "no fast softmax registered (module 18)";
    set_num_threads(GetParam());
  }
  void TearDown() override { set_num_threads(0); }
};

TEST_P(SoftmaxOpTiers, FastTierMatchesTheReferenceTier) {
  manual_seed(2);
  const std::vector<std::pair<std::vector<int64_t>, int64_t>> cases = {
      {{300, 1000}, 1},   {{3, 1100, 35}, 1}, {{700, 130}, 0},    {{4, 6}, -1},
      {{64, 16, 259}, 1}, {{2048, 1027}, 1},  {{512, 16, 257}, 1}};
  for (const auto& [shape, case_dim] : cases) {
    const int64_t dim = case_dim;  // a lambda may not capture a structured binding (Clang 14)
    Tensor x = randn(shape) * 5.0;
    // Index 1 of dim 0 all −∞ (whole rows along the last dim, one entry of each column along dim
    // 0, every row of an outer index in [3, 1100, 35]); a NaN at index 2; index 0 scaled to 1e30.
    x.select(0, 1).fill_(-std::numeric_limits<double>::infinity());
    x.select(0, 2).narrow(-1, 0, 1).fill_(std::numeric_limits<double>::quiet_NaN());
    x.select(0, 0).mul_(1e30);
    const Tensor g = randn(shape);
    const auto run = [&](Tier tier) {
      TierGuard guard(tier);
      const Tensor y = native::softmax(x, dim), log_y = native::log_softmax(x, dim);
      return std::vector<Tensor>{y, log_y, native::softmax_backward(g, y, dim),
                                 native::log_softmax_backward(g, log_y, dim)};
    };
    std::vector<Tensor> ref;
    try {
      ref = run(Tier::kReference);
    } catch (const NotImplementedError&) {
      GTEST_SKIP() << "module 02's softmax loops are not written yet";
    }
    const std::vector<Tensor> fast = run(Tier::kFast);
    set_num_threads(1);
    const std::vector<Tensor> fast_one_thread = run(Tier::kFast);
    set_num_threads(GetParam());
    const char* names[] = {"softmax", "log_softmax", "softmax_backward", "log_softmax_backward"};
    for (size_t i = 0; i < fast.size(); ++i) {
      const std::string what =
          std::string(names[i]) + " of " + shape_text(shape) + " dim " + std::to_string(dim);
      ASSERT_EQ(fast[i].sizes(), ref[i].sizes()) << what;
      // The fast tier sums in float (down a column: 1100 terms one after another, as PyTorch's
      // kernels do), the reference in double; the backward inherits the forward's rounding too.
      EXPECT_TRUE(allclose(fast[i], ref[i], 1e-4, 1e-5, /*equal_nan=*/true)) << what;
      EXPECT_TRUE(same_bits(fast[i], fast_one_thread[i]))
          << what << ": 1 and " << GetParam() << " threads differ";
    }
  }
}

// cross_entropy runs on log_softmax: the same loss and gradient on both tiers.
TEST_P(SoftmaxOpTiers, CrossEntropyMatchesTheReferenceTier) {
  manual_seed(3);
  const Tensor logits = randn({512, 300}) * 3.0;
  const Tensor target = randint(0, 300, {512});
  const auto run = [&](Tier tier) {
    TierGuard guard(tier);
    Tensor x = logits.detach().requires_grad_(true);
    Tensor loss = cross_entropy(x, target);
    loss.backward();
    return std::pair{loss.detach(), x.grad()};
  };
  std::pair<Tensor, Tensor> ref;
  try {
    ref = run(Tier::kReference);
  } catch (const NotImplementedError&) {
    GTEST_SKIP() << "the reference cross_entropy's modules are not written yet";
  }
  const auto fast = run(Tier::kFast);
  EXPECT_TRUE(allclose(fast.first, ref.first, 1e-5, 1e-6));
  EXPECT_TRUE(allclose(fast.second, ref.second, 1e-4, 1e-7));
}

INSTANTIATE_TEST_SUITE_P(Threads, SoftmaxOpTiers, ::testing::Values(1, 2));

}  // namespace
}  // namespace tinytorch::kernels
