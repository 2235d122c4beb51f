// Module 02 — hidden (grader) tests: randomized checks against naive formulas written here.
//
// Every input is a random VIEW (permute, strided slice, expand over a random base), in float32
// or float64, with values up to ±1000 mixed in; softmax runs along a random dim. Expectations are
// computed in double (long double for softmax sums) by plain loops that read memory through the
// strides directly — never through the framework's kernels. Seeds are fixed; a failure names its
// trial. The checks are graded ones (tests/support/graded.h): the grader compares the values
// outside the process that computed them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "support/graded.h"
#include "support/reference.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::values_as_double;

struct Trial {
  Tensor x;  // a random view
  std::string what;
};

// A random base tensor with a random view on top; values in N(0, 3²) with some ±1000 and
// ±90 (beyond float32's exp range) sprinkled in.
Trial random_view(std::mt19937_64& rng, ScalarType dtype, int max_dims = 4) {
  std::uniform_int_distribution<int> ndim_d(1, max_dims), size_d(1, 6), coin(0, 3);
  const int nd = ndim_d(rng);
  std::vector<int64_t> shape;
  for (int d = 0; d < nd; ++d) shape.push_back(size_d(rng));
  std::vector<double> vals(static_cast<size_t>(compute_numel(shape)));
  std::normal_distribution<double> normal(0.0, 3.0);
  const double extremes[] = {1000.0, -1000.0, 90.0, -90.0, 0.0};
  for (double& v : vals) v = coin(rng) == 0 && coin(rng) == 0 ? extremes[rng() % 5] : normal(rng);
  Tensor x = from_vector(vals, shape, dtype);
  std::ostringstream what;
  what << dtype << " base " << IntArrayRef(shape);
  // permute
  std::vector<int64_t> perm(static_cast<size_t>(nd));
  for (int d = 0; d < nd; ++d) perm[static_cast<size_t>(d)] = d;
  std::shuffle(perm.begin(), perm.end(), rng);
  x = x.permute(perm);
  what << " permute " << IntArrayRef(perm);
  // strided slice of one dim
  const auto sd = static_cast<int64_t>(rng() % static_cast<uint64_t>(nd));
  if (x.size(sd) > 2 && coin(rng) < 2) {
    x = x.slice(sd, 1, x.size(sd), 2);
    what << " slice(" << sd << ", 1, :, 2)";
  }
  // expand a size-1 dim
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (x.size(d) == 1 && coin(rng) == 0) {
      std::vector<int64_t> sizes = x.sizes().vec();
      sizes[static_cast<size_t>(d)] = 3;
      x = x.expand(sizes);
      what << " expand dim " << d;
      break;
    }
  }
  return {x, what.str()};
}

using Scalar1 = std::function<double(double)>;

double sigmoid_ref(double v) {
  return v >= 0 ? 1 / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v));
}

struct ElementwiseOp {
  std::string name;
  std::function<Tensor(const Tensor&)> op;
  Scalar1 ref;
};

std::vector<ElementwiseOp> elementwise_ops() {
  constexpr double kBeta = std::numbers::sqrt2 * std::numbers::inv_sqrtpi;
  return {
      {"relu", [](const Tensor& x) { return native::relu(x); },
       [](double v) { return v < 0 ? 0.0 : v; }},
      {"leaky_relu(0.07)", [](const Tensor& x) { return native::leaky_relu(x, 0.07); },
       [](double v) { return v > 0 ? v : 0.07 * v; }},
      {"sigmoid", [](const Tensor& x) { return native::sigmoid(x); }, sigmoid_ref},
      {"tanh", [](const Tensor& x) { return native::tanh(x); },
       [](double v) { return std::tanh(v); }},
      {"gelu", [](const Tensor& x) { return native::gelu(x, "none"); },
       [](double v) { return 0.5 * v * (1 + std::erf(v / std::numbers::sqrt2)); }},
      {"gelu_tanh", [](const Tensor& x) { return native::gelu(x, "tanh"); },
       [](double v) { return 0.5 * v * (1 + std::tanh(kBeta * (v + 0.044715 * v * v * v))); }},
      {"silu", [](const Tensor& x) { return native::silu(x); },
       [](double v) { return v * sigmoid_ref(v); }},
  };
}

// got's values (row-major) against `want` (computed only where expected values are: see
// graded.h), within a few float32 (or float64) ulps of the double-precision formula.
void expect_close(const Tensor& got, const std::vector<double>& want, ScalarType dtype,
                  const std::string& what) {
  const double rtol = dtype == kFloat32 ? 2e-5 : 1e-12, atol = dtype == kFloat32 ? 2e-6 : 1e-13;
  TT_GRADE_CLOSE(values_as_double(got), want, rtol, atol) << what;
}

TEST(Hidden, ElementwiseOnRandomViews) {
  std::mt19937_64 rng(20240502);
  for (int trial = 0; trial < 60; ++trial) {
    const ScalarType dtype = trial % 2 ? kFloat64 : kFloat32;
    const Trial t = random_view(rng, dtype);
    for (const auto& op : elementwise_ops()) {
      std::vector<double> want;
      TT_GRADE_EXPECTED_ONLY(for (const double v
                                  : values_as_double(t.x)) want.push_back(op.ref(v)));
      const Tensor y = op.op(t.x);
      TT_GRADE_TRUE(y.is_contiguous());
      TT_GRADE_EQ(y.sizes(), t.x.sizes());
      expect_close(y, want, dtype,
                   "trial " + std::to_string(trial) + " " + op.name + " on " + t.what);
    }
  }
}

// Softmax / log-softmax along `dim` of a tensor given as row-major values + shape, in long double.
std::vector<double> softmax_ref(const std::vector<double>& v, IntArrayRef shape, int64_t dim,
                                bool log) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < dim) outer *= shape[static_cast<size_t>(d)];
    if (d > dim) inner *= shape[static_cast<size_t>(d)];
  }
  const int64_t n = shape.empty() ? 1 : shape[static_cast<size_t>(dim)];
  std::vector<double> out(v.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return static_cast<size_t>((o * n + j) * inner + i); };
      long double m = -INFINITY;
      for (int64_t j = 0; j < n; ++j) m = std::max<long double>(m, v[at(j)]);
      long double s = 0;
      for (int64_t j = 0; j < n; ++j) s += std::exp(static_cast<long double>(v[at(j)]) - m);
      for (int64_t j = 0; j < n; ++j) {
        const long double z = static_cast<long double>(v[at(j)]) - m;
        out[at(j)] = static_cast<double>(log ? z - std::log(s) : std::exp(z) / s);
      }
    }
  }
  return out;
}

TEST(Hidden, SoftmaxAlongRandomDimsOfRandomViews) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 80; ++trial) {
    const ScalarType dtype = trial % 2 ? kFloat64 : kFloat32;
    const Trial t = random_view(rng, dtype);
    const auto nd = t.x.dim();
    const auto dim =
        static_cast<int64_t>(rng() % static_cast<uint64_t>(2 * nd)) - nd;  // negative too
    const int64_t wd = dim < 0 ? dim + nd : dim;
    std::vector<double> want, want_log;
    TT_GRADE_EXPECTED_ONLY(want = softmax_ref(values_as_double(t.x), t.x.sizes(), wd, false);
                           want_log = softmax_ref(values_as_double(t.x), t.x.sizes(), wd, true));
    const std::string what =
        "trial " + std::to_string(trial) + " dim " + std::to_string(dim) + " on " + t.what;
    expect_close(native::softmax(t.x, dim), want, dtype, "softmax " + what);
    // log_softmax of -1000 next to +1000 is about -2000: compare with a relative tolerance.
    expect_close(native::log_softmax(t.x, dim), want_log, dtype, "log_softmax " + what);
  }
}

TEST(Hidden, BackwardKernelsOnRandomViews) {
  std::mt19937_64 rng(99);
  constexpr double kBeta = std::numbers::sqrt2 * std::numbers::inv_sqrtpi;
  for (int trial = 0; trial < 40; ++trial) {
    const Trial t = random_view(rng, kFloat64);
    const Trial g = random_view(rng, kFloat64);  // an unrelated layout for grad_output
    const Tensor go = g.x.numel() >= t.x.numel()
                          ? g.x.reshape({-1}).narrow(0, 0, t.x.numel()).reshape(t.x.sizes())
                          : full(t.x.sizes(), 0.5, kFloat64);
    const std::string what = "trial " + std::to_string(trial) + " on " + t.what;
    auto expect = [&](const std::string& name, const Tensor& got, const Scalar1& dfdx) {
      std::vector<double> want;
      TT_GRADE_EXPECTED_ONLY(
          const std::vector<double> xv = values_as_double(t.x), gv = values_as_double(go);
          for (size_t i = 0; i < xv.size(); ++i) want.push_back(gv[i] * dfdx(xv[i])));
      expect_close(got, want, kFloat64, name + " " + what);
    };
    expect("threshold_backward", native::threshold_backward(go, t.x, 0.0),
           [](double v) { return v <= 0 ? 0.0 : 1.0; });
    expect("leaky_relu_backward", native::leaky_relu_backward(go, t.x, 0.3),
           [](double v) { return v > 0 ? 1.0 : 0.3; });
    expect("sigmoid_backward", native::sigmoid_backward(go, native::sigmoid(t.x)), [](double v) {
      const double s = sigmoid_ref(v);
      return s * (1 - s);
    });
    expect("tanh_backward", native::tanh_backward(go, native::tanh(t.x)), [](double v) {
      const double th = std::tanh(v);
      return 1 - th * th;
    });
    expect("gelu_backward", native::gelu_backward(go, t.x, "none"), [](double v) {
      return 0.5 * (1 + std::erf(v / std::numbers::sqrt2)) +
             v * std::exp(-0.5 * v * v) / std::sqrt(2 * std::numbers::pi);
    });
    expect("gelu_backward(tanh)", native::gelu_backward(go, t.x, "tanh"), [](double v) {
      const double th = std::tanh(kBeta * (v + 0.044715 * v * v * v));
      return 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * kBeta * (1 + 3 * 0.044715 * v * v);
    });
    expect("silu_backward", native::silu_backward(go, t.x), [](double v) {
      const double s = sigmoid_ref(v);
      return s * (1 + v * (1 - s));
    });
  }
}

// The gradients of softmax (want_sm) and log_softmax (want_lsm) along `dim` for grad_output gv,
// from their outputs yv and lyv: row sums by brute force over the row-major index.
void softmax_backward_ref(const std::vector<double>& yv, const std::vector<double>& lyv,
                          const std::vector<double>& gv, IntArrayRef s, int64_t dim,
                          std::vector<double>& want_sm, std::vector<double>& want_lsm) {
  int64_t inner = 1;
  for (auto d = static_cast<size_t>(dim) + 1; d < s.size(); ++d) inner *= s[d];
  const int64_t n = s[static_cast<size_t>(dim)];
  want_sm.resize(yv.size());
  want_lsm.resize(yv.size());
  for (size_t k = 0; k < yv.size(); ++k) {
    const auto kk = static_cast<int64_t>(k);
    const int64_t j = (kk / inner) % n;
    const int64_t first = kk - j * inner;
    double dot = 0, gsum = 0;
    for (int64_t m = 0; m < n; ++m) {
      const auto idx = static_cast<size_t>(first + m * inner);
      dot += gv[idx] * yv[idx];
      gsum += gv[idx];
    }
    want_sm[k] = yv[k] * (gv[k] - dot);
    want_lsm[k] = gv[k] - std::exp(lyv[k]) * gsum;
  }
}

TEST(Hidden, SoftmaxBackwardAlongRandomDims) {
  std::mt19937_64 rng(1234);
  for (int trial = 0; trial < 40; ++trial) {
    const Trial t = random_view(rng, kFloat64, 3);
    const int64_t nd = t.x.dim();
    const auto dim = static_cast<int64_t>(rng() % static_cast<uint64_t>(nd));
    const Tensor go = randn(t.x.sizes(), kFloat64);
    const Tensor y = native::softmax(t.x, dim), ly = native::log_softmax(t.x, dim);
    std::vector<double> want_sm, want_lsm;
    TT_GRADE_EXPECTED_ONLY(softmax_backward_ref(values_as_double(y), values_as_double(ly),
                                                values_as_double(go), t.x.sizes(), dim, want_sm,
                                                want_lsm));
    const std::string what = "trial " + std::to_string(trial) + " dim " + std::to_string(dim);
    expect_close(native::softmax_backward(go, y, dim), want_sm, kFloat64,
                 "softmax_backward " + what);
    expect_close(native::log_softmax_backward(go, ly, dim), want_lsm, kFloat64,
                 "log_softmax_backward " + what);
  }
}

TEST(Hidden, LargeTensorsAcrossThreadChunks) {
  // Sizes that do not divide evenly into chunks; the last chunk is short.
  for (int64_t n : {65537, 200003}) {
    const Tensor x = randn({n}, kFloat32).mul(4.0);
    for (const auto& op : elementwise_ops()) {
      std::vector<double> want;
      TT_GRADE_EXPECTED_ONLY(for (const double v : values_as_double(x)) want.push_back(op.ref(v)));
      expect_close(op.op(x), want, kFloat32, op.name + " n=" + std::to_string(n));
    }
    const Tensor rows = x.narrow(0, 0, (n / 37) * 37).view({-1, 37});
    std::vector<double> want;
    TT_GRADE_EXPECTED_ONLY(want = softmax_ref(values_as_double(rows), rows.sizes(), 1, false));
    expect_close(native::softmax(rows, 1), want, kFloat32,
                 "softmax rows of 37, n=" + std::to_string(n));
  }
}

TEST(Hidden, OutputsNeverAliasInputs) {
  const Tensor x = randn({4, 5});
  for (const auto& op : elementwise_ops()) {
    const Tensor y = op.op(x);
    TT_GRADE_FALSE(y.is_alias_of(x)) << op.name;
  }
  TT_GRADE_FALSE(native::softmax(x, 1).is_alias_of(x));
  TT_GRADE_FALSE(native::log_softmax(x, 0).is_alias_of(x));
  // and the input is untouched
  const std::vector<double> before = values_as_double(x);
  for (const auto& op : elementwise_ops()) static_cast<void>(op.op(x));
  TT_GRADE_EQ(values_as_double(x), before);
}

// NaN and the infinities, as PyTorch answers them (checked with torch 1.13): NaN propagates
// through every activation; ±inf saturates where the function has a limit; in softmax a NaN or a
// +inf anywhere makes the whole row NaN, a −inf entry gets probability 0 (log-probability −inf),
// and a row of only −inf is NaN.
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The activations at NaN, +inf and −inf.
std::vector<double> at_nan_and_infinities(const std::string& op) {
  if (op == "relu") return {kNan, kInf, 0};
  if (op == "leaky_relu") return {kNan, kInf, -kInf};
  if (op == "sigmoid") return {kNan, 1, 0};
  if (op == "tanh") return {kNan, 1, -1};
  return {kNan, kInf, kNan};  // gelu, silu
}

// Softmax and log-softmax of the rows of NanAndInfinitiesFollowPyTorch.
std::vector<double> softmax_with_nonfinite(size_t row, bool log) {
  const double e1 = 1.0 / (1.0 + std::exp(1.0));  // softmax of [1, 2]: [e1, 1 − e1]
  if (row != 2) return {kNan, kNan, kNan};
  if (log) return {std::log(e1), -kInf, std::log1p(-e1)};
  return {e1, 0, 1 - e1};
}

TEST(Hidden, NanAndInfinitiesFollowPyTorch) {
  const std::vector<double> in = {kNan, kInf, -kInf};
  struct Case {
    std::string name;
    std::function<Tensor(const Tensor&)> op;
  };
  const std::vector<Case> cases = {
      {"relu", [](const Tensor& x) { return native::relu(x); }},
      {"leaky_relu", [](const Tensor& x) { return native::leaky_relu(x, 0.1); }},
      {"sigmoid", [](const Tensor& x) { return native::sigmoid(x); }},
      {"tanh", [](const Tensor& x) { return native::tanh(x); }},
      {"gelu", [](const Tensor& x) { return native::gelu(x, "none"); }},
      {"silu", [](const Tensor& x) { return native::silu(x); }},
  };
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    const Tensor x = from_vector(in, {3}, dtype);
    for (const auto& c : cases) {
      // NaN where NaN is expected, the rest exactly.
      TT_GRADE_CLOSE(values_as_double(c.op(x)), at_nan_and_infinities(c.name), 0, 0)
          << c.name << " of [nan, inf, -inf] in " << to_string(dtype);
    }
    const std::vector<std::vector<double>> rows = {
        {1, kNan, 2}, {1, kInf, 2}, {1, -kInf, 2}, {-kInf, -kInf, -kInf}};
    for (size_t r = 0; r < rows.size(); ++r) {
      const Tensor t = from_vector(rows[r], {3}, dtype);
      const double tol = dtype == kFloat32 ? 1e-6 : 1e-14;
      TT_GRADE_CLOSE(values_as_double(native::softmax(t, 0)), softmax_with_nonfinite(r, false), 0,
                     tol)
          << "softmax of row " << r << " in " << to_string(dtype);
      TT_GRADE_CLOSE(values_as_double(native::log_softmax(t, 0)), softmax_with_nonfinite(r, true),
                     0, tol)
          << "log_softmax of row " << r << " in " << to_string(dtype);
    }
  }
}

}  // namespace
}  // namespace tinytorch
