// Module 02 — the activation kernels, Part by Part: the properties each function must have
// (limits, symmetries, stability at ±1000, dtypes, layouts, threads), and every backward kernel
// checked against central finite differences of its own forward — no autograd needed yet.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/numeric_grad.h"
#include "support/reference.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::values_as_double;
using Fn = std::function<Tensor(const Tensor&)>;

Tensor vec(const std::vector<double>& v, ScalarType dtype = kFloat64) {
  return from_vector(v, {static_cast<int64_t>(v.size())}, dtype);
}

Tensor random(IntArrayRef shape, uint64_t seed, ScalarType dtype = kFloat64, double scale = 2.0) {
  Generator gen(seed);
  return randn(shape, dtype, &gen).mul(scale);
}

bool all_finite(const Tensor& t) {
  for (double v : values_as_double(t)) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

using test::numeric_vjp;  // tests/support/numeric_grad.h

// ── Part 1: ReLU and LeakyReLU ───────────────────────────────────────────────────────────────

TEST(Relu, ClampsNegativesAndKeepsInt64) {
  EXPECT_TRUE(
      test::tensors_match(native::relu(vec({-2, -0.5, 0, 0.5, 3})), vec({0, 0, 0, 0.5, 3})));
  const Tensor i = native::relu(tensor({-3, 0, 7}));
  EXPECT_EQ(i.dtype(), kInt64);
  EXPECT_EQ(test::values_as_int(i), (std::vector<int64_t>{0, 0, 7}));
}

// A comparison with NaN is false, so the comparison the kernel writes decides NaN's fate:
// `x < 0 ? 0 : x` passes NaN through (PyTorch's answer), `x > 0 ? x : 0` turns it into 0.
TEST(Relu, NanStaysNan) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    SCOPED_TRACE(to_string(dtype));
    const std::vector<double> relu = values_as_double(native::relu(vec({nan, -1, 1}, dtype)));
    EXPECT_TRUE(std::isnan(relu[0])) << "relu(NaN) must be NaN, got " << relu[0];
    const std::vector<double> leaky =
        values_as_double(native::leaky_relu(vec({nan, -1, 1}, dtype), 0.1));
    EXPECT_TRUE(std::isnan(leaky[0])) << "leaky_relu(NaN) must be NaN, got " << leaky[0];
  }
}

// int64 values above 2^24 do not fit a float's 24-bit significand: a kernel that writes `0.0f`
// instead of `T(0)` makes `x < 0.0f ? 0.0f : x` a float expression and rounds them.
TEST(Relu, Int64ValuesKeepEveryBit) {
  const int64_t big = (int64_t{1} << 53) + 1, odd = (int64_t{1} << 24) + 1;
  const Tensor x = from_vector(std::vector<int64_t>{big, odd, -big}, {3}, kInt64);
  EXPECT_EQ(test::values_as_int(native::relu(x)), (std::vector<int64_t>{big, odd, 0}));
}

// native::relu_ runs the kernel with y == x on a contiguous float tensor (spread over the threads
// for a large one); a strided view takes the out-of-place kernel and is copied back.
TEST(Relu, InPlaceMatchesOutOfPlace) {
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    SCOPED_TRACE(to_string(dtype));
    const Tensor x = random({300, 257}, 7, dtype);
    const Tensor expected = native::relu(x);
    Tensor y = x.clone();
    const void* buffer = y.data_ptr();
    EXPECT_EQ(&native::relu_(y), &y);
    EXPECT_EQ(y.data_ptr(), buffer);
    EXPECT_TRUE(test::tensors_match(y, expected));
    Tensor t = x.clone().t();  // not contiguous
    native::relu_(t);
    EXPECT_TRUE(test::tensors_match(t, expected.t()));
  }
}

TEST(Relu, ThresholdBackwardIsTheStepFunction) {
  // The derivative at exactly 0 is taken as 0 (PyTorch's convention: x <= 0 passes nothing).
  const Tensor x = vec({-1, 0, 1e-300, 2});
  const Tensor g = vec({10, 20, 30, 40});
  EXPECT_TRUE(test::tensors_match(native::threshold_backward(g, x, 0.0), vec({0, 0, 30, 40})));
  EXPECT_TRUE(test::tensors_match(native::threshold_backward(g, x, 1.5), vec({0, 0, 0, 40})));
}

TEST(LeakyRelu, SlopeZeroIsReluAndSlopeOneIsIdentity) {
  const Tensor x = random({4, 5}, 1);
  EXPECT_TRUE(test::tensors_match(native::leaky_relu(x, 0.0), native::relu(x)));
  EXPECT_TRUE(test::tensors_match(native::leaky_relu(x, 1.0), x));
  EXPECT_TRUE(test::tensors_match(native::leaky_relu(vec({-2, 3}), 0.1), vec({-0.2, 3})));
}

// ── Part 2: Sigmoid and Tanh ─────────────────────────────────────────────────────────────────

TEST(Sigmoid, LimitsAndSymmetry) {
  const Tensor x = vec({-1000, -100, -30, -1, 0, 1, 30, 100, 1000});
  const std::vector<double> s = values_as_double(native::sigmoid(x));
  const std::vector<double> sn = values_as_double(native::sigmoid(x.neg()));
  EXPECT_EQ(s[4], 0.5);
  EXPECT_EQ(s[0], 0.0);
  EXPECT_EQ(s[8], 1.0);
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_GE(s[i], 0.0);
    EXPECT_LE(s[i], 1.0);
    EXPECT_NEAR(s[i] + sn[i], 1.0, 1e-15) << "σ(x) + σ(−x) = 1 at x = " << values_as_double(x)[i];
  }
}

TEST(Sigmoid, StableForLargeNegativeInputs) {
  // σ(−x) = e^(−x) / (1 + e^(−x)) keeps full RELATIVE precision for large x; 1 − σ(x) does not.
  for (double v : {-20.0, -50.0, -700.0}) {
    const double got = values_as_double(native::sigmoid(vec({v})))[0];
    const double want = std::exp(v) / (1 + std::exp(v));
    EXPECT_NEAR(got / want, 1.0, 1e-14) << "x = " << v;
  }
  for (ScalarType t : {kFloat32, kFloat64}) {
    EXPECT_TRUE(all_finite(native::sigmoid(vec({-1000, -89, -88, 88, 89, 1000}, t))));
  }
}

TEST(Sigmoid, IntegersAndBoolsComputeInFloat32) {
  const Tensor s = native::sigmoid(tensor({0, 2}));
  EXPECT_EQ(s.dtype(), kFloat32);
  EXPECT_FLOAT_EQ(values_as_double(s)[0], 0.5f);
  EXPECT_EQ(native::tanh(tensor({true, false})).dtype(), kFloat32);
  EXPECT_FLOAT_EQ(static_cast<float>(values_as_double(native::tanh(tensor({true})))[0]),
                  std::tanh(1.0f));
}

TEST(Tanh, OddBoundedAndRelatedToSigmoid) {
  const Tensor x = random({50}, 2, kFloat64, 5.0);
  const std::vector<double> t = values_as_double(native::tanh(x));
  const std::vector<double> tn = values_as_double(native::tanh(x.neg()));
  const std::vector<double> s2 = values_as_double(native::sigmoid(x.mul(2.0)));
  for (size_t i = 0; i < t.size(); ++i) {
    EXPECT_EQ(t[i], -tn[i]);
    EXPECT_LE(std::abs(t[i]), 1.0);
    EXPECT_NEAR(t[i], 2 * s2[i] - 1, 1e-14) << "tanh(x) = 2σ(2x) − 1";
  }
}

// ── Part 3: GELU and SiLU ────────────────────────────────────────────────────────────────────

TEST(Gelu, ExactAndTanhFormsAreCloseButDifferent) {
  const Tensor x = arange(-6.0, 6.0, 0.01, kFloat64);
  const std::vector<double> e = values_as_double(native::gelu(x, "none"));
  const std::vector<double> a = values_as_double(native::gelu(x, "tanh"));
  double max_diff = 0;
  for (size_t i = 0; i < e.size(); ++i) max_diff = std::max(max_diff, std::abs(e[i] - a[i]));
  EXPECT_LT(max_diff, 1e-3) << "the tanh form approximates GELU to about 3e-4";
  EXPECT_GT(max_diff, 1e-5) << "…but it is a different function: the forms must not be mixed";
}

TEST(Gelu, KnownValues) {
  // GELU(x) = x Φ(x): Φ(0) = ½, Φ(±∞) = 1 / 0.
  const std::vector<double> g = values_as_double(native::gelu(vec({0, 1, -1, 10, -10}), "none"));
  EXPECT_EQ(g[0], 0.0);
  EXPECT_NEAR(g[1], 0.5 * (1 + std::erf(1 / std::sqrt(2.0))), 1e-15);
  EXPECT_NEAR(g[1] - g[2], 1.0, 1e-15) << "GELU(x) − GELU(−x) = x";
  EXPECT_NEAR(g[3], 10.0, 1e-15);
  EXPECT_NEAR(g[4], 0.0, 1e-15);
}

TEST(Silu, IsXTimesSigmoidAndFiniteEverywhere) {
  const Tensor x = random({40}, 3, kFloat64, 4.0);
  EXPECT_TRUE(test::tensors_match(native::silu(x), x.mul(native::sigmoid(x)), 1e-14, 1e-15));
  for (ScalarType t : {kFloat32, kFloat64}) {
    const Tensor y = native::silu(vec({-1000, -100, 100, 1000}, t));
    EXPECT_TRUE(all_finite(y));
    EXPECT_EQ(values_as_double(y)[3], 1000.0);
  }
}

// ── every backward kernel against finite differences of its forward ──────────────────────────

struct BackwardCase {
  std::string name;
  Fn forward;
  // (grad_output, x, y = forward(x)) → gradient w.r.t. x
  std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)> backward;
};

std::vector<BackwardCase> elementwise_backward_cases() {
  return {
      {"relu", [](const Tensor& x) { return native::relu(x); },
       [](const Tensor& g, const Tensor& x, const Tensor&) {
         return native::threshold_backward(g, x, 0.0);
       }},
      {"leaky_relu", [](const Tensor& x) { return native::leaky_relu(x, 0.1); },
       [](const Tensor& g, const Tensor& x, const Tensor&) {
         return native::leaky_relu_backward(g, x, 0.1);
       }},
      {"sigmoid", [](const Tensor& x) { return native::sigmoid(x); },
       [](const Tensor& g, const Tensor&, const Tensor& y) {
         return native::sigmoid_backward(g, y);
       }},
      {"tanh", [](const Tensor& x) { return native::tanh(x); },
       [](const Tensor& g, const Tensor&, const Tensor& y) { return native::tanh_backward(g, y); }},
      {"gelu_none", [](const Tensor& x) { return native::gelu(x, "none"); },
       [](const Tensor& g, const Tensor& x, const Tensor&) {
         return native::gelu_backward(g, x, "none");
       }},
      {"gelu_tanh", [](const Tensor& x) { return native::gelu(x, "tanh"); },
       [](const Tensor& g, const Tensor& x, const Tensor&) {
         return native::gelu_backward(g, x, "tanh");
       }},
      {"silu", [](const Tensor& x) { return native::silu(x); },
       [](const Tensor& g, const Tensor& x, const Tensor&) { return native::silu_backward(g, x); }},
  };
}

TEST(Backward, ElementwiseKernelsMatchFiniteDifferences) {
  // x avoids the kink of relu / leaky_relu at 0 (|x| >= 0.05).
  const Tensor x = vec({-3.5, -1.2, -0.3, -0.05, 0.05, 0.4, 1.1, 2.7, 6.0});
  const Tensor g = vec({0.3, -1.0, 2.0, 0.5, -0.7, 1.5, -2.5, 0.9, 1.1});
  for (const auto& c : elementwise_backward_cases()) {
    SCOPED_TRACE(c.name);
    const Tensor analytic = c.backward(g, x, c.forward(x));
    EXPECT_TRUE(test::tensors_match(analytic, numeric_vjp(c.forward, x, g), 1e-6, 1e-8));
  }
}

TEST(Backward, GeluTanhIsTheDerivativeOfTheTanhForm) {
  // The tanh form's backward must differentiate the tanh form: using the exact derivative for it
  // would be off by up to ~1e-3 — far more than finite differences.
  const Tensor x = vec({-2.5, -1.5, -0.7, 0.3, 1.2, 2.2});
  const Tensor g = ones({6}, kFloat64);
  const Tensor exact = native::gelu_backward(g, x, "none");
  const Tensor approx = native::gelu_backward(g, x, "tanh");
  EXPECT_FALSE(test::tensors_match(exact, approx, 1e-6, 1e-6));
  EXPECT_TRUE(test::tensors_match(
      approx, numeric_vjp([](const Tensor& t) { return native::gelu(t, "tanh"); }, x, g), 1e-7,
      1e-9));
}

TEST(Backward, SoftmaxAndLogSoftmaxKernelsMatchFiniteDifferences) {
  for (int64_t dim : {0, 1, -1}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const Tensor x = random({3, 4}, 10 + static_cast<uint64_t>(dim + 1));
    const Tensor g = random({3, 4}, 20 + static_cast<uint64_t>(dim + 1));
    const Fn sm = [dim](const Tensor& t) { return native::softmax(t, dim); };
    const Fn lsm = [dim](const Tensor& t) { return native::log_softmax(t, dim); };
    EXPECT_TRUE(test::tensors_match(native::softmax_backward(g, sm(x), dim), numeric_vjp(sm, x, g),
                                    1e-6, 1e-8));
    EXPECT_TRUE(test::tensors_match(native::log_softmax_backward(g, lsm(x), dim),
                                    numeric_vjp(lsm, x, g), 1e-6, 1e-8));
  }
}

TEST(Backward, AcceptsAnyGradLayoutAndDtype) {
  // The engine may hand a broadcast (stride-0) or float32 gradient: same answer as a dense one.
  const Tensor x = random({3, 4}, 5);
  const Tensor g_dense = full({3, 4}, 0.5, kFloat64);
  const Tensor g_expanded = full({1, 4}, 0.5, kFloat64).expand({3, 4});
  const Tensor g_float = full({3, 4}, 0.5, kFloat32);
  const Tensor want = native::silu_backward(g_dense, x);
  EXPECT_TRUE(test::tensors_match(native::silu_backward(g_expanded, x), want));
  const Tensor got = native::silu_backward(g_float, x);
  EXPECT_EQ(got.dtype(), kFloat64) << "the gradient has the input's dtype";
  EXPECT_TRUE(test::tensors_match(got, want));
}

// ── Part 4: Softmax and LogSoftmax ───────────────────────────────────────────────────────────

TEST(Softmax, RowsSumToOneAlongEveryDim) {
  const Tensor x = random({3, 4, 5}, 7, kFloat32);
  for (int64_t dim = -3; dim < 3; ++dim) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const Tensor s = native::softmax(x, dim);
    const Tensor sums = s.sum({dim});
    EXPECT_TRUE(test::tensors_match(sums, ones(sums.sizes()), 1e-6, 1e-6));
    for (double v : values_as_double(s)) {
      EXPECT_GT(v, 0.0);
      EXPECT_LT(v, 1.0);
    }
  }
}

TEST(Softmax, InvariantToShiftingTheLogits) {
  const Tensor x = random({4, 6}, 8);
  const Tensor s = native::softmax(x, 1);
  EXPECT_TRUE(test::tensors_match(native::softmax(x.add(500.0), 1), s, 1e-12, 1e-15));
  EXPECT_TRUE(test::tensors_match(native::softmax(x.sub(500.0), 1), s, 1e-12, 1e-15));
}

TEST(Softmax, StableAtPlusMinus1000) {
  // The naive exp(x) / Σ exp(x) gives inf / inf = NaN here (float32 overflows at x ≈ 88.7).
  for (ScalarType t : {kFloat32, kFloat64}) {
    const Tensor x = from_vector(std::vector<double>{1000, 999, -1000, 0}, {1, 4}, t);
    const std::vector<double> s = values_as_double(native::softmax(x, 1));
    const double e = std::exp(-1.0);
    const double tol = t == kFloat32 ? 1e-6 : 1e-15;
    EXPECT_NEAR(s[0], 1 / (1 + e), tol);
    EXPECT_NEAR(s[1], e / (1 + e), tol);
    EXPECT_EQ(s[2], 0.0);
    EXPECT_EQ(s[3], 0.0);
    const std::vector<double> l = values_as_double(native::log_softmax(x, 1));
    EXPECT_NEAR(l[0], -std::log1p(e), tol);
    EXPECT_NEAR(l[2], -2000 - std::log1p(e), t == kFloat32 ? 1e-3 : 1e-12)
        << "log_softmax keeps −2000 where log(softmax) would give −inf";
  }
}

TEST(LogSoftmax, EqualsLogOfSoftmaxWhereThatIsFinite) {
  const Tensor x = random({5, 7}, 9);
  for (int64_t dim : {0, 1}) {
    EXPECT_TRUE(test::tensors_match(native::log_softmax(x, dim), native::softmax(x, dim).log(),
                                    1e-12, 1e-14));
  }
}

TEST(Softmax, ZeroDimAndEmptyTensors) {
  EXPECT_EQ(values_as_double(native::softmax(full({}, 3.0), 0))[0], 1.0);
  EXPECT_EQ(values_as_double(native::log_softmax(full({}, 3.0), -1))[0], 0.0);
  EXPECT_EQ(native::softmax(zeros({0, 3}), 1).sizes(), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(native::log_softmax(zeros({2, 0}), 1).sizes(), (std::vector<int64_t>{2, 0}));
}

// ── layouts and threads (the drivers) ────────────────────────────────────────────────────────

std::vector<std::pair<std::string, Fn>> all_forward_ops() {
  return {
      {"relu", [](const Tensor& x) { return native::relu(x); }},
      {"leaky_relu", [](const Tensor& x) { return native::leaky_relu(x, 0.02); }},
      {"sigmoid", [](const Tensor& x) { return native::sigmoid(x); }},
      {"tanh", [](const Tensor& x) { return native::tanh(x); }},
      {"gelu", [](const Tensor& x) { return native::gelu(x, "none"); }},
      {"gelu_tanh", [](const Tensor& x) { return native::gelu(x, "tanh"); }},
      {"silu", [](const Tensor& x) { return native::silu(x); }},
      {"softmax", [](const Tensor& x) { return native::softmax(x, -1); }},
      {"log_softmax", [](const Tensor& x) { return native::log_softmax(x, 1); }},
  };
}

TEST(Layout, NonContiguousInputsGiveContiguousOutputsWithTheSameValues) {
  const Tensor base = random({6, 5, 4}, 11, kFloat32);
  const Tensor view = base.permute({2, 0, 1}).slice(1, 0, 6, 2);  // [4, 3, 5], strided
  ASSERT_FALSE(view.is_contiguous());
  for (const auto& [name, f] : all_forward_ops()) {
    SCOPED_TRACE(name);
    const Tensor got = f(view);
    EXPECT_TRUE(got.is_contiguous());
    EXPECT_TRUE(test::tensors_match(got, f(view.contiguous()), 0, 0)) << "bit-identical";
  }
}

TEST(Layout, SoftmaxOverAMiddleDimMatchesTransposingItLast) {
  const Tensor x = random({3, 7, 4}, 12);
  const Tensor direct = native::softmax(x, 1);
  const Tensor via_last = native::softmax(x.transpose(1, 2).contiguous(), 2).transpose(1, 2);
  EXPECT_TRUE(test::tensors_match(direct, via_last, 0, 0)) << "same rows, same arithmetic";
}

TEST(Threads, LargeTensorsGiveTheSameBitsOnOneOrManyThreads) {
  // 2^18 elements: above every kernel's grain, so the parallel path runs when threads > 1.
  const Tensor x = random({512, 512}, 13, kFloat32, 3.0);
  const int saved = get_num_threads();
  for (const auto& [name, f] : all_forward_ops()) {
    SCOPED_TRACE(name);
    set_num_threads(1);
    const Tensor serial = f(x);
    set_num_threads(4);
    const Tensor parallel = f(x);
    EXPECT_TRUE(test::tensors_match(parallel, serial, 0, 0));
  }
  set_num_threads(saved);
}

TEST(Threads, LargeTensorsMatchSmallPieces) {
  // The same op on one big tensor (threaded, chunked) and row by row (small, serial).
  const Tensor x = random({300, 1000}, 14, kFloat32, 3.0);
  for (const auto& [name, f] : all_forward_ops()) {
    SCOPED_TRACE(name);
    const Tensor big = f(x);
    for (int64_t r : {0, 137, 299}) {
      const Tensor row = f(x.narrow(0, r, 1));
      EXPECT_TRUE(test::tensors_match(big.narrow(0, r, 1), row, 0, 0)) << "row " << r;
    }
  }
}

}  // namespace
}  // namespace tinytorch
