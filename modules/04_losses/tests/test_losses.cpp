// Module 04 — the loss kernels, Part by Part: what each reduction means, the numerically
// dangerous inputs (p = 0 or 1, logits of ±1000), NLL's gather and ignore_index, parallel sums
// that do not depend on the thread count, and every backward kernel against central finite
// differences of its own forward — no autograd needed.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loss_test_helpers.h"
#include "support/numeric_grad.h"
#include "support/op_cases.h"
#include "support/reference.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/native/loss.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using loss_tests::item;
using loss_tests::kAll;
using loss_tests::name;
using test::random;

using test::values_as_double;

Tensor vec(const std::vector<double>& v, ScalarType dtype = kFloat64) {
  return from_vector(v, {static_cast<int64_t>(v.size())}, dtype);
}

// ── Part 1: MSE, L1 and the three reductions ────────────────────────────────────────────────

TEST(Mse, ZeroWhenEqualAndKnownValues) {
  const Tensor x = random({3, 4}, 1);
  EXPECT_EQ(item(native::mse_loss(x, x, Reduction::Mean)), 0.0);
  const Tensor a = vec({1, 2, 3}), b = vec({1, 4, 0});  // errors 0, -2, 3
  EXPECT_EQ(item(native::mse_loss(a, b, Reduction::Sum)), 13.0);
  EXPECT_DOUBLE_EQ(item(native::mse_loss(a, b, Reduction::Mean)), 13.0 / 3);
  EXPECT_TRUE(test::tensors_match(native::mse_loss(a, b, Reduction::None), vec({0, 4, 9})));
  EXPECT_EQ(item(native::l1_loss(a, b, Reduction::Sum)), 5.0);
  EXPECT_TRUE(test::tensors_match(native::l1_loss(a, b, Reduction::None), vec({0, 2, 3})));
}

TEST(Reduction, MeanIsSumOverNAndNoneSumsToSum) {
  const Tensor x = random({5, 7}, 2, kFloat32), y = random({5, 7}, 3, kFloat32);
  using LossFn = Tensor (*)(const Tensor&, const Tensor&, Reduction);
  for (LossFn f : {static_cast<LossFn>(native::mse_loss), static_cast<LossFn>(native::l1_loss)}) {
    const double sum = item(f(x, y, Reduction::Sum));
    EXPECT_NEAR(item(f(x, y, Reduction::Mean)), sum / 35, 1e-6 * std::abs(sum));
    const Tensor none = f(x, y, Reduction::None);
    EXPECT_EQ(none.sizes(), x.sizes());
    EXPECT_NEAR(item(none.sum()), sum, 1e-5 * std::abs(sum));
  }
}

TEST(Reduction, EmptyInputsGiveNaNMeanAndZeroSum) {
  const Tensor e = zeros({0});
  EXPECT_TRUE(std::isnan(item(native::mse_loss(e, e, Reduction::Mean))));
  EXPECT_EQ(item(native::mse_loss(e, e, Reduction::Sum)), 0.0);
  EXPECT_EQ(native::l1_loss(e, e, Reduction::None).numel(), 0);
}

TEST(Reduction, OutputDtypeFollowsTypePromotion) {
  const Tensor f = vec({1.5, 2.5}, kFloat32);
  EXPECT_EQ(native::mse_loss(f, vec({1, 2}, kFloat64), Reduction::Mean).dtype(), kFloat64);
  EXPECT_EQ(native::mse_loss(f, tensor({1, 2}), Reduction::Mean).dtype(), kFloat32);
  EXPECT_EQ(item(native::l1_loss(f, tensor({1, 2}), Reduction::Sum)), 1.0);
  // The gradient has the INPUT's dtype, whatever the target's.
  EXPECT_EQ(native::mse_loss_backward(full({}, 1.0), f, vec({1, 2}), Reduction::Mean).dtype(),
            kFloat32);
}

TEST(Reduction, LongSumsAreAccurateAndThreadCountIndependent) {
  // 300,001 elements: ten parallel blocks. The sum must match a plain double loop, and give the
  // same bits on 1 thread or 4 (fixed blocks, added in order).
  const Tensor x = random({300001}, 4, kFloat32), y = random({300001}, 5, kFloat32);
  const std::vector<double> xv = values_as_double(x), yv = values_as_double(y);
  double want = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    const auto d = static_cast<double>(static_cast<float>(xv[i]) - static_cast<float>(yv[i]));
    want += static_cast<double>(static_cast<float>(d * d));
  }
  const int saved = get_num_threads();
  set_num_threads(1);
  const double one = item(native::mse_loss(x, y, Reduction::Sum));
  set_num_threads(4);
  const double four = item(native::mse_loss(x, y, Reduction::Sum));
  set_num_threads(saved);
  EXPECT_EQ(one, four);
  EXPECT_NEAR(one, want, 1e-6 * want);
  EXPECT_NEAR(item(native::mse_loss(x, y, Reduction::Mean)), want / 300001, 1e-6 * want / 300001);
}

TEST(Reduction, NonContiguousInputsGiveTheSameLoss) {
  const Tensor base = random({6, 4}, 6), t = random({4, 6}, 7);
  const Tensor view = base.t();
  ASSERT_FALSE(view.is_contiguous());
  for (Reduction r : kAll) {
    SCOPED_TRACE(name(r));
    EXPECT_TRUE(test::tensors_match(native::mse_loss(view, t, r),
                                    native::mse_loss(view.contiguous(), t, r), 0, 0));
    EXPECT_TRUE(test::tensors_match(native::l1_loss(view, t.expand({4, 6}), r),
                                    native::l1_loss(view.contiguous(), t, r), 0, 0));
  }
}

TEST(L1, SubgradientAtZeroIsZero) {
  const Tensor x = vec({1, 2, 3}), y = vec({1, 1, 5});
  EXPECT_TRUE(test::tensors_match(native::l1_loss_backward(full({}, 1.0), x, y, Reduction::Sum),
                                  vec({0, 1, -1})));
}

// ── every element-wise backward kernel against finite differences ─────────────────────────────

using LossFn = std::function<Tensor(const Tensor&, const Tensor&, Reduction)>;
using LossGradFn = std::function<Tensor(const Tensor&, const Tensor&, const Tensor&, Reduction)>;
struct PointwiseCase {
  std::string name;
  LossFn loss;
  LossGradFn grad;
  Tensor x, target;
};

std::vector<PointwiseCase> pointwise_cases() {
  const Tensor x = vec({-2.1, -0.7, 0.35, 1.2, 2.9, -1.6});
  const Tensor y = vec({0.4, -1.5, 1.0, 0.2, 3.3, -1.0});
  const Tensor p = vec({0.05, 0.3, 0.5, 0.72, 0.9, 0.99});
  const Tensor soft = vec({0.0, 1.0, 0.25, 1.0, 0.6, 0.0});
  return {
      {"mse", native::mse_loss, native::mse_loss_backward, x, y},
      {"l1", native::l1_loss, native::l1_loss_backward, x, y},
      {"bce", native::binary_cross_entropy, native::binary_cross_entropy_backward, p, soft},
      {"bce_with_logits", native::binary_cross_entropy_with_logits,
       native::binary_cross_entropy_with_logits_backward, x, soft},
  };
}

TEST(Backward, PointwiseLossKernelsMatchFiniteDifferences) {
  for (const auto& c : pointwise_cases()) {
    for (Reduction r : kAll) {
      SCOPED_TRACE(c.name + " reduction " + name(r));
      const Tensor g = r == Reduction::None ? vec({0.5, -1, 2, 0.25, -0.75, 1.5}) : full({}, 0.8);
      const Tensor analytic = c.grad(g, c.x, c.target, r);
      const Tensor numeric =
          test::numeric_vjp([&](const Tensor& x) { return c.loss(x, c.target, r); }, c.x, g);
      EXPECT_TRUE(test::tensors_match(analytic, numeric, 1e-6, 1e-8));
    }
  }
}

TEST(Backward, GradOutputMayBeBroadcast) {
  // After loss(None).sum().backward() the engine hands an expanded [] → [n] gradient.
  const Tensor x = vec({1, 2, 3}), y = vec({0, 0, 0});
  const Tensor g = full({}, 2.0, kFloat64).expand({3});
  EXPECT_TRUE(
      test::tensors_match(native::mse_loss_backward(g, x, y, Reduction::None), vec({4, 8, 12})));
}

// ── Part 2: binary cross entropy ─────────────────────────────────────────────────────────────

TEST(Bce, ClampsTheLogAtMinus100) {
  // p = 0 with y = 1 would be −log 0 = inf; PyTorch clamps each log at −100, so the loss is 100.
  for (ScalarType t : {kFloat32, kFloat64}) {
    const Tensor l =
        native::binary_cross_entropy(vec({0, 1, 0, 1}, t), vec({1, 0, 0, 1}, t), Reduction::None);
    EXPECT_TRUE(test::tensors_match(l, vec({100, 100, 0, 0}, t)));
    const Tensor g = native::binary_cross_entropy_backward(full({}, 1.0, t), vec({0, 1}, t),
                                                           vec({1, 0}, t), Reduction::Sum);
    for (double v : values_as_double(g)) EXPECT_TRUE(std::isfinite(v));
  }
}

TEST(Bce, WithLogitsEqualsBceOfSigmoidWhereBothAreAccurate) {
  const Tensor x = random({20}, 8, kFloat64, 3.0);
  const Tensor y = native::sigmoid(random({20}, 9));  // soft targets in (0, 1)
  EXPECT_TRUE(test::tensors_match(
      native::binary_cross_entropy_with_logits(x, y, Reduction::None),
      native::binary_cross_entropy(native::sigmoid(x), y, Reduction::None), 1e-12, 1e-12));
}

TEST(Bce, WithLogitsIsStableAtPlusMinus1000) {
  for (ScalarType t : {kFloat32, kFloat64}) {
    const Tensor x = vec({1000, -1000, 1000, -1000}, t), y = vec({1, 0, 0, 1}, t);
    const Tensor l = native::binary_cross_entropy_with_logits(x, y, Reduction::None);
    EXPECT_TRUE(test::tensors_match(l, vec({0, 0, 1000, 1000}, t)));
    const Tensor g =
        native::binary_cross_entropy_with_logits_backward(full({4}, 1.0, t), x, y, Reduction::None);
    EXPECT_TRUE(test::tensors_match(g, vec({0, 0, 1, -1}, t))) << "σ(x) − y";
  }
}

// ── Part 3: NLL ──────────────────────────────────────────────────────────────────────────────

TEST(Nll, PicksMinusTheTargetLogProbability) {
  const Tensor logp = from_vector(std::vector<double>{-0.1, -2, -3, -4, -0.5, -6}, {2, 3});
  const Tensor target = tensor({2, 1});
  EXPECT_TRUE(
      test::tensors_match(native::nll_loss(logp, target, Reduction::None, -100), vec({3, 0.5})));
  EXPECT_EQ(item(native::nll_loss(logp, target, Reduction::Sum, -100)), 3.5);
  EXPECT_EQ(item(native::nll_loss(logp, target, Reduction::Mean, -100)), 1.75);
  // a [C] input with a 0-d target
  EXPECT_EQ(item(native::nll_loss(logp[1], full({}, int64_t{0}), Reduction::Mean, -100)), 4.0);
}

TEST(Nll, IgnoredTargetsAddNothingAndAreNotCounted) {
  const Tensor logp = from_vector(std::vector<double>{-1, -2, -3, -4, -5, -6}, {3, 2});
  const Tensor target = tensor({1, -100, 0});
  EXPECT_EQ(item(native::nll_loss(logp, target, Reduction::Sum, -100)), 7.0);
  EXPECT_EQ(item(native::nll_loss(logp, target, Reduction::Mean, -100)), 3.5) << "7 / 2, not 7 / 3";
  EXPECT_TRUE(
      test::tensors_match(native::nll_loss(logp, target, Reduction::None, -100), vec({2, 0, 5})));
  // ignore_index may be a real class: then that class is skipped.
  EXPECT_EQ(item(native::nll_loss(logp, tensor({1, 1, 0}), Reduction::Mean, 1)), 5.0);
  // all ignored: the mean is 0 / 0
  EXPECT_TRUE(std::isnan(item(native::nll_loss(logp, tensor({7, 7, 7}), Reduction::Mean, 7))));
}

TEST(Nll, BackwardTouchesOnlyTheTargetEntries) {
  const Tensor logp = native::log_softmax(random({4, 3}, 10), 1);
  const Tensor target = tensor({2, -100, 0, 2});
  const Tensor g =
      native::nll_loss_backward(full({}, 1.0, kFloat64), logp, target, Reduction::Mean, -100);
  const std::vector<double> want = {0, 0, -1.0 / 3, 0, 0, 0, -1.0 / 3, 0, 0, 0, 0, -1.0 / 3};
  EXPECT_TRUE(test::tensors_match(g, from_vector(want, {4, 3}), 1e-15, 0));
  // Finite differences, for every reduction.
  for (Reduction r : kAll) {
    SCOPED_TRACE(name(r));
    const Tensor go = r == Reduction::None ? vec({0.5, 1, -2, 0.75}) : full({}, 1.5);
    EXPECT_TRUE(test::tensors_match(
        native::nll_loss_backward(go, logp, target, r, -100),
        test::numeric_vjp([&](const Tensor& x) { return native::nll_loss(x, target, r, -100); },
                          logp, go),
        1e-6, 1e-8));
  }
}

TEST(Nll, EveryTargetIndexIsCheckedBeforeAnyIsUsed) {
  const Tensor logp = zeros({3, 4});
  EXPECT_THROW(native::nll_loss(logp, tensor({0, 1, 4}), Reduction::Sum, -100), IndexError);
  EXPECT_THROW(native::nll_loss(logp, tensor({-2, 1, 1}), Reduction::Sum, -100), IndexError);
  EXPECT_NO_THROW(native::nll_loss(logp, tensor({-2, 1, 1}), Reduction::Sum, -2));
}

}  // namespace
}  // namespace tinytorch
