// Module 04 — hidden (grader) tests: randomized checks against naive formulas written here.
//
// Inputs are random views (transposed, strided, expanded) in float32 and float64; targets and
// ignore_index are random; the reductions are all three. Expectations are computed in double by
// plain loops over values read straight from memory. cross_entropy, including label smoothing
// and ignore_index, is checked against its closed-form gradient through autograd. Seeds are
// fixed; a failure names its trial. The checks are graded ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "support/graded.h"
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

// got's values against `want` (computed only where expected values are: graded.h).
void expect_close(const Tensor& got, const std::vector<double>& want, ScalarType dtype,
                  const std::string& what) {
  const double rtol = dtype == kFloat32 ? 3e-5 : 1e-11, atol = dtype == kFloat32 ? 3e-6 : 1e-13;
  TT_GRADE_CLOSE(values_as_double(got), want, rtol, atol) << what;
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
      std::vector<double> per, dper;
      TT_GRADE_EXPECTED_ONLY(
          const std::vector<double> xv = values_as_double(x), yv = values_as_double(y);
          for (size_t i = 0; i < xv.size(); ++i) {
            per.push_back(p.f(xv[i], yv[i]));
            dper.push_back(p.df(xv[i], yv[i]));
          });
      for (Reduction red : kAll) {
        const std::string what = "trial " + std::to_string(trial) + " " + p.name + " reduction " +
                                 std::to_string(static_cast<int>(red));
        expect_close(p.loss(x, y, red), reduce(per, red, static_cast<double>(per.size())), dtype,
                     what);
        // backward with g = 0.7 (reduced) or g_i = i/10 − 0.3 (none)
        std::vector<double> gvals(red == Reduction::None ? static_cast<size_t>(r * c) : 1);
        for (size_t i = 0; i < gvals.size(); ++i) gvals[i] = static_cast<double>(i) / 10 - 0.3;
        if (red != Reduction::None) gvals[0] = 0.7;
        const Tensor g =
            red == Reduction::None ? from_vector(gvals, x.sizes(), dtype) : full({}, 0.7, dtype);
        std::vector<double> want;
        TT_GRADE_EXPECTED_ONLY(for (size_t i = 0; i < per.size(); ++i) {
          const double gi = red == Reduction::None  ? gvals[i]
                            : red == Reduction::Sum ? 0.7
                                                    : 0.7 / static_cast<double>(per.size());
          want.push_back(gi * dper[i]);
        });
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

// The per-row losses of nll_loss and of cross_entropy with label smoothing eps, and how many
// rows are not ignored.
struct ClassificationLosses {
  std::vector<double> nll, ce;
  double kept = 0;
};

ClassificationLosses classification_losses(const Classification& k, double eps) {
  const auto lp = log_softmax_rows(k.logits);
  const auto C = static_cast<double>(k.logits.size(1));
  ClassificationLosses out;
  for (size_t i = 0; i < k.t.size(); ++i) {
    if (k.t[i] == k.ignore_index) {
      out.nll.push_back(0);
      out.ce.push_back(0);
      continue;
    }
    out.kept += 1;
    double uniform = 0;
    for (double v : lp[i]) uniform -= v;
    const double n_i = -lp[i][static_cast<size_t>(k.t[i])];
    out.nll.push_back(n_i);
    out.ce.push_back((1 - eps) * n_i + eps / C * uniform);
  }
  return out;
}

// The random cases of the two tests below: trial i draws the same case in both.
double random_smoothing(std::mt19937_64& rng, int trial) {
  return trial % 3 == 0 ? 0.0 : static_cast<double>(rng() % 100) / 100.0;
}

TEST(Hidden, NllAndCrossEntropyWithRandomIgnoreAndSmoothing) {
  std::mt19937_64 rng(4242);
  for (int trial = 0; trial < 60; ++trial) {
    const ScalarType dtype = trial % 2 ? kFloat64 : kFloat32;
    const Classification k = random_classification(rng, dtype);
    const double eps = random_smoothing(rng, trial);
    ClassificationLosses want;
    TT_GRADE_EXPECTED_ONLY(want = classification_losses(k, eps));
    const Tensor logp = native::log_softmax(k.logits, 1);
    for (Reduction red : kAll) {
      const std::string what = "trial " + std::to_string(trial) + " ε " + std::to_string(eps) +
                               " ignore " + std::to_string(k.ignore_index) + " reduction " +
                               std::to_string(static_cast<int>(red));
      expect_close(native::nll_loss(logp, k.target, red, k.ignore_index),
                   reduce(want.nll, red, want.kept), dtype, "nll " + what);
      expect_close(cross_entropy(k.logits, k.target, {}, red, k.ignore_index, eps),
                   reduce(want.ce, red, want.kept), dtype, "cross_entropy " + what);
    }
  }
}

TEST(Hidden, CrossEntropyGradientWithRandomIgnoreAndSmoothing) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  std::mt19937_64 rng(4242);  // the cases of NllAndCrossEntropyWithRandomIgnoreAndSmoothing
  for (int trial = 0; trial < 60; ++trial) {
    const ScalarType dtype = trial % 2 ? kFloat64 : kFloat32;
    const Classification k = random_classification(rng, dtype);
    const double eps = random_smoothing(rng, trial);
    const bool all_ignored =
        std::all_of(k.t.begin(), k.t.end(), [&](int64_t t) { return t == k.ignore_index; });
    if (all_ignored) continue;
    // The gradient of the mean: kept rows get ((1 − ε)(p − onehot) + ε(p − 1/C)) / kept.
    Tensor leaf = k.logits.to(kFloat64).detach().requires_grad_();
    cross_entropy(leaf, k.target, {}, Reduction::Mean, k.ignore_index, eps).backward();
    std::vector<double> want;
    TT_GRADE_EXPECTED_ONLY(const auto lp = log_softmax_rows(k.logits);
                           const auto C = static_cast<double>(k.logits.size(1));
                           const double kept = classification_losses(k, eps).kept;
                           for (size_t i = 0; i < k.t.size(); ++i) {
                             for (size_t j = 0; j < lp[i].size(); ++j) {
                               if (k.t[i] == k.ignore_index) {
                                 want.push_back(0);
                                 continue;
                               }
                               const double p = std::exp(lp[i][j]);
                               const double onehot = static_cast<int64_t>(j) == k.t[i] ? 1.0 : 0.0;
                               want.push_back(((1 - eps) * (p - onehot) + eps * (p - 1 / C)) /
                                              kept);
                             }
                           });
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
      std::vector<double> want;
      TT_GRADE_EXPECTED_ONLY(want.assign(static_cast<size_t>(n * c), 0.0);
                             for (int64_t i = 0; i < n; ++i) {
                               const int64_t t = k.t[static_cast<size_t>(i)];
                               if (t == k.ignore_index) continue;
                               const double gi = red == Reduction::None ? static_cast<double>(i + 1)
                                                 : red == Reduction::Sum ? 2.0
                                                                         : 2.0 / kept;
                               want[static_cast<size_t>(i * c + t)] = -gi;
                             });
      expect_close(native::nll_loss_backward(g, logp, k.target, red, k.ignore_index), want,
                   kFloat64, "nll_loss_backward trial " + std::to_string(trial));
    }
  }
}

TEST(Hidden, LongLossesSpanManyParallelBlocks) {
  for (int64_t n : {32768, 32769, 250007}) {
    const Tensor x = randn({n}, kFloat64), y = randn({n}, kFloat64);
    double sq = 0, ab = 0;
    TT_GRADE_EXPECTED_ONLY(
        const std::vector<double> xv = values_as_double(x), yv = values_as_double(y);
        for (size_t i = 0; i < xv.size(); ++i) {
          sq += (xv[i] - yv[i]) * (xv[i] - yv[i]);
          ab += std::abs(xv[i] - yv[i]);
        });
    const auto N = static_cast<double>(n);
    TT_GRADE_NEAR(values_as_double(native::mse_loss(x, y, Reduction::Mean)), sq / N,
                  1e-12 * sq / N);
    TT_GRADE_NEAR(values_as_double(native::l1_loss(x, y, Reduction::Sum)), ab, 1e-12 * ab);
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
    const Tensor loss = native::binary_cross_entropy_with_logits(x, y, Reduction::None);
    const Tensor grad = native::binary_cross_entropy_with_logits_backward(full({}, 1.0, dtype), x,
                                                                          y, Reduction::Mean);
    int64_t bad_loss = 0, bad_grad = 0;
    for (double v : values_as_double(loss)) bad_loss += !std::isfinite(v) || v < 0.0;
    for (double v : values_as_double(grad)) bad_grad += !std::isfinite(v);
    TT_GRADE_EQ(bad_loss, 0) << "losses that are not finite and >= 0";
    TT_GRADE_EQ(bad_grad, 0) << "gradients that are not finite";
    // ... and the values themselves, as the reference solution computes them.
    TT_GRADE_SAME_AS_REFERENCE(loss, 1e-4, 1e-4);
  }
}

}  // namespace
}  // namespace tinytorch
