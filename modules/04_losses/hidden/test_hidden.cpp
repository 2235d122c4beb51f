// Module 04 — hidden (grader) tests: randomized checks against naive formulas written here.
//
// Inputs are random views (transposed, strided, expanded) in float32 and float64; targets and
// ignore_index are random; the reductions are all three. Expectations are computed in double by
// plain loops over values read straight from memory. cross_entropy, including label smoothing
// and ignore_index, is checked against its closed-form gradient through autograd. Seeds are
// fixed; a failure names its trial.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/native/loss.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::values_as_double;

const Reduction kAll[] = {Reduction::None, Reduction::Mean, Reduction::Sum};

// A random 2-d view of shape [r, c]: transposed, strided, or contiguous.
Tensor random_2d(std::mt19937_64& rng, int64_t r, int64_t c, ScalarType dtype, double lo,
                 double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  const int layout = static_cast<int>(rng() % 3);
  if (layout == 0) {
    std::vector<double> v(static_cast<size_t>(r * c));
    for (double& x : v) x = u(rng);
    return from_vector(v, {r, c}, dtype);
  }
  if (layout == 1) {
    std::vector<double> v(static_cast<size_t>(r * c));
    for (double& x : v) x = u(rng);
    return from_vector(v, {c, r}, dtype).t();
  }
  std::vector<double> v(static_cast<size_t>(r * c * 2));
  for (double& x : v) x = u(rng);
  return from_vector(v, {r, 2 * c}, dtype).slice(1, 0, 2 * c, 2);
}

// Reduces per-element losses like PyTorch: None → as is, Sum → Σ, Mean → Σ / count.
std::vector<double> reduce(const std::vector<double>& per, Reduction r, double count) {
  if (r == Reduction::None) return per;
  double s = 0;
  for (double v : per) s += v;
  return {r == Reduction::Sum ? s : s / count};
}

void expect_close(const Tensor& got, const std::vector<double>& want, ScalarType dtype,
                  const std::string& what) {
  const std::vector<double> g = values_as_double(got);
  ASSERT_EQ(g.size(), want.size()) << what;
  const double rtol = dtype == kFloat32 ? 3e-5 : 1e-11, atol = dtype == kFloat32 ? 3e-6 : 1e-13;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(g[i])) << what << " element " << i;
    } else {
      EXPECT_NEAR(g[i], want[i], atol + rtol * std::abs(want[i])) << what << " element " << i;
    }
  }
}

using PerElement = std::function<double(double, double)>;
struct Pointwise {
  std::string name;
  Tensor (*loss)(const Tensor&, const Tensor&, Reduction);
  Tensor (*grad)(const Tensor&, const Tensor&, const Tensor&, Reduction);
  PerElement f, df;
  double lo, hi;  // input range
};

double sigmoid_ref(double v) {
  return v >= 0 ? 1 / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v));
}

std::vector<Pointwise> pointwise() {
  return {
      {"mse", native::mse_loss, native::mse_loss_backward,
       [](double x, double y) { return (x - y) * (x - y); },
       [](double x, double y) { return 2 * (x - y); }, -5, 5},
      {"l1", native::l1_loss, native::l1_loss_backward,
       [](double x, double y) { return std::abs(x - y); },
       [](double x, double y) { return static_cast<double>((x > y) - (x < y)); }, -5, 5},
      {"bce", native::binary_cross_entropy, native::binary_cross_entropy_backward,
       [](double p, double y) {
         return -(y * std::max(std::log(p), -100.0) + (1 - y) * std::max(std::log(1 - p), -100.0));
       },
       [](double p, double y) { return (p - y) / std::max(p * (1 - p), 1e-12); }, 0.01, 0.99},
      {"bce_with_logits", native::binary_cross_entropy_with_logits,
       native::binary_cross_entropy_with_logits_backward,
       [](double x, double y) {
         return std::max(x, 0.0) - x * y + std::log1p(std::exp(-std::abs(x)));
       },
       [](double x, double y) { return sigmoid_ref(x) - y; }, -40, 40},
  };
}

TEST(Hidden, PointwiseLossesOnRandomViews) {
  std::mt19937_64 rng(404);
  for (int trial = 0; trial < 30; ++trial) {
    const ScalarType dtype = trial % 2 ? kFloat64 : kFloat32;
    const int64_t r = 1 + static_cast<int64_t>(rng() % 6), c = 1 + static_cast<int64_t>(rng() % 7);
    for (const auto& p : pointwise()) {
      const Tensor x = random_2d(rng, r, c, dtype, p.lo, p.hi);
      const Tensor y = random_2d(rng, r, c, dtype, 0.0, 1.0);
      const std::vector<double> xv = values_as_double(x), yv = values_as_double(y);
      std::vector<double> per(xv.size()), dper(xv.size());
      for (size_t i = 0; i < xv.size(); ++i) {
        per[i] = p.f(xv[i], yv[i]);
        dper[i] = p.df(xv[i], yv[i]);
      }
      for (Reduction red : kAll) {
        const std::string what = "trial " + std::to_string(trial) + " " + p.name + " reduction " +
                                 std::to_string(static_cast<int>(red));
        expect_close(p.loss(x, y, red), reduce(per, red, static_cast<double>(per.size())), dtype,
                     what);
        // backward with g = 0.7 (reduced) or g_i = i/10 − 0.3 (none)
        std::vector<double> gvals(red == Reduction::None ? per.size() : 1);
        for (size_t i = 0; i < gvals.size(); ++i) gvals[i] = static_cast<double>(i) / 10 - 0.3;
        if (red != Reduction::None) gvals[0] = 0.7;
        const Tensor g =
            red == Reduction::None ? from_vector(gvals, x.sizes(), dtype) : full({}, 0.7, dtype);
        std::vector<double> want(per.size());
        for (size_t i = 0; i < per.size(); ++i) {
          const double gi = red == Reduction::None  ? gvals[i]
                            : red == Reduction::Sum ? 0.7
                                                    : 0.7 / static_cast<double>(per.size());
          want[i] = gi * dper[i];
        }
        expect_close(p.grad(g, x, y, red), want, dtype, what + " backward");
      }
    }
  }
}

// Random logits [n, c], random targets with some ignored.
struct Classification {
  Tensor logits, target;
  int64_t ignore_index;
  std::vector<int64_t> t;
};

Classification random_classification(std::mt19937_64& rng, ScalarType dtype) {
  const int64_t n = 1 + static_cast<int64_t>(rng() % 9), c = 2 + static_cast<int64_t>(rng() % 6);
  Classification k;
  k.logits = random_2d(rng, n, c, dtype, -6, 6);
  k.ignore_index = rng() % 2 ? -100 : static_cast<int64_t>(rng() % static_cast<uint64_t>(c));
  for (int64_t i = 0; i < n; ++i) {
    k.t.push_back(rng() % 4 == 0 ? k.ignore_index
                                 : static_cast<int64_t>(rng() % static_cast<uint64_t>(c)));
  }
  k.target = from_vector(k.t, {n}, kInt64);
  return k;
}

std::vector<std::vector<double>> log_softmax_rows(const Tensor& logits) {
  const std::vector<double> v = values_as_double(logits);
  const int64_t n = logits.size(0), c = logits.size(1);
  std::vector<std::vector<double>> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double m = -INFINITY;
    for (int64_t j = 0; j < c; ++j) m = std::max(m, v[static_cast<size_t>(i * c + j)]);
    double s = 0;
    for (int64_t j = 0; j < c; ++j) s += std::exp(v[static_cast<size_t>(i * c + j)] - m);
    for (int64_t j = 0; j < c; ++j) {
      out[static_cast<size_t>(i)].push_back(v[static_cast<size_t>(i * c + j)] - m - std::log(s));
    }
  }
  return out;
}

TEST(Hidden, NllAndCrossEntropyWithRandomIgnoreAndSmoothing) {
  std::mt19937_64 rng(4242);
  for (int trial = 0; trial < 60; ++trial) {
    const ScalarType dtype = trial % 2 ? kFloat64 : kFloat32;
    const Classification k = random_classification(rng, dtype);
    const double eps = trial % 3 == 0 ? 0.0 : static_cast<double>(rng() % 100) / 100.0;
    const auto lp = log_softmax_rows(k.logits);
    const auto C = static_cast<double>(k.logits.size(1));
    std::vector<double> nll, ce;
    double kept = 0;
    for (size_t i = 0; i < k.t.size(); ++i) {
      if (k.t[i] == k.ignore_index) {
        nll.push_back(0);
        ce.push_back(0);
        continue;
      }
      kept += 1;
      double uniform = 0;
      for (double v : lp[i]) uniform -= v;
      const double n_i = -lp[i][static_cast<size_t>(k.t[i])];
      nll.push_back(n_i);
      ce.push_back((1 - eps) * n_i + eps / C * uniform);
    }
    const Tensor logp = native::log_softmax(k.logits, 1);
    for (Reduction red : kAll) {
      const std::string what = "trial " + std::to_string(trial) + " ε " + std::to_string(eps) +
                               " ignore " + std::to_string(k.ignore_index) + " reduction " +
                               std::to_string(static_cast<int>(red));
      expect_close(native::nll_loss(logp, k.target, red, k.ignore_index), reduce(nll, red, kept),
                   dtype, "nll " + what);
      expect_close(cross_entropy(k.logits, k.target, {}, red, k.ignore_index, eps),
                   reduce(ce, red, kept), dtype, "cross_entropy " + what);
    }
    // The gradient of the mean: kept rows get ((1 − ε)(p − onehot) + ε(p − 1/C)) / kept.
    if (kept == 0 || !test::autograd_ready()) continue;
    Tensor leaf = k.logits.to(kFloat64).detach().requires_grad_();
    cross_entropy(leaf, k.target, {}, Reduction::Mean, k.ignore_index, eps).backward();
    std::vector<double> want;
    for (size_t i = 0; i < k.t.size(); ++i) {
      for (size_t j = 0; j < lp[i].size(); ++j) {
        if (k.t[i] == k.ignore_index) {
          want.push_back(0);
          continue;
        }
        const double p = std::exp(lp[i][j]);
        const double onehot = static_cast<int64_t>(j) == k.t[i] ? 1.0 : 0.0;
        want.push_back(((1 - eps) * (p - onehot) + eps * (p - 1 / C)) / kept);
      }
    }
    // (float32 logits widened to float64: the softmax above came from the float32 values)
    expect_close(leaf.grad(), want, dtype == kFloat32 ? kFloat32 : kFloat64,
                 "cross_entropy gradient trial " + std::to_string(trial));
  }
}

TEST(Hidden, NllBackwardOnRandomTargets) {
  std::mt19937_64 rng(77);
  for (int trial = 0; trial < 30; ++trial) {
    const Classification k = random_classification(rng, kFloat64);
    const Tensor logp = native::log_softmax(k.logits, 1);
    const int64_t c = k.logits.size(1);
    double kept = 0;
    for (int64_t t : k.t) kept += t == k.ignore_index ? 0 : 1;
    for (Reduction red : kAll) {
      const auto n = static_cast<int64_t>(k.t.size());
      const Tensor g = red == Reduction::None
                           ? arange(1.0, static_cast<double>(n) + 1, 1.0, kFloat64)
                           : full({}, 2.0, kFloat64);
      std::vector<double> want(static_cast<size_t>(n * c), 0.0);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t t = k.t[static_cast<size_t>(i)];
        if (t == k.ignore_index) continue;
        const double gi = red == Reduction::None  ? static_cast<double>(i + 1)
                          : red == Reduction::Sum ? 2.0
                                                  : 2.0 / kept;
        want[static_cast<size_t>(i * c + t)] = -gi;
      }
      expect_close(native::nll_loss_backward(g, logp, k.target, red, k.ignore_index), want,
                   kFloat64, "nll_loss_backward trial " + std::to_string(trial));
    }
  }
}

TEST(Hidden, LongLossesSpanManyParallelBlocks) {
  for (int64_t n : {32768, 32769, 250007}) {
    const Tensor x = randn({n}, kFloat64), y = randn({n}, kFloat64);
    const std::vector<double> xv = values_as_double(x), yv = values_as_double(y);
    double sq = 0, ab = 0;
    for (size_t i = 0; i < xv.size(); ++i) {
      sq += (xv[i] - yv[i]) * (xv[i] - yv[i]);
      ab += std::abs(xv[i] - yv[i]);
    }
    const auto N = static_cast<double>(n);
    EXPECT_NEAR(values_as_double(native::mse_loss(x, y, Reduction::Mean))[0], sq / N,
                1e-12 * sq / N);
    EXPECT_NEAR(values_as_double(native::l1_loss(x, y, Reduction::Sum))[0], ab, 1e-12 * ab);
  }
}

TEST(Hidden, BceWithLogitsNeverOverflows) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-3000, 3000), t(0, 1);
  std::vector<double> xs(1000), ys(1000);
  for (size_t i = 0; i < xs.size(); ++i) {
    xs[i] = u(rng);
    ys[i] = t(rng);
  }
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    const Tensor x = from_vector(xs, {1000}, dtype), y = from_vector(ys, {1000}, dtype);
    for (double v :
         values_as_double(native::binary_cross_entropy_with_logits(x, y, Reduction::None))) {
      EXPECT_TRUE(std::isfinite(v));
      EXPECT_GE(v, 0.0);
    }
    for (double v : values_as_double(native::binary_cross_entropy_with_logits_backward(
             full({}, 1.0, dtype), x, y, Reduction::Mean))) {
      EXPECT_TRUE(std::isfinite(v));
    }
  }
}

}  // namespace
}  // namespace tinytorch
