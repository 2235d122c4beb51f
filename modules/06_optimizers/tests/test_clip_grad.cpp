// Gradient clipping by hand: the norm over all gradients as one vector, the 1e-6 in the
// coefficient, the p-norms, and clip_grad_value_.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "optim_test_util.h"

namespace tinytorch {
namespace {

using nn::utils::clip_grad_norm_;
using nn::utils::clip_grad_value_;
using test::tensors_match;

Tensor with_grad(std::initializer_list<double> g) {
  Tensor p = zeros({static_cast<int64_t>(g.size())}, kFloat64).set_requires_grad(true);
  p.mutable_grad() = test::vec(g);
  return p;
}

TEST(ClipGradNorm, TheNormIsOverAllGradientsTogether) {
  Tensor a = with_grad({3.0}), b = with_grad({4.0});  // one vector (3, 4): norm 5
  const double total = clip_grad_norm_({a, b}, 1.0);
  EXPECT_DOUBLE_EQ(total, 5.0);  // the norm BEFORE clipping
  const double coef = 1.0 / (5.0 + 1e-6);
  EXPECT_TRUE(tensors_match(a.grad(), tensor({3.0 * coef}, kFloat64)));
  EXPECT_TRUE(tensors_match(b.grad(), tensor({4.0 * coef}, kFloat64)));
  // The direction is kept: the ratio of the two gradients is unchanged.
  EXPECT_DOUBLE_EQ(b.grad().item<double>() / a.grad().item<double>(), 4.0 / 3.0);
}

TEST(ClipGradNorm, BelowMaxNormNothingChanges) {
  Tensor a = with_grad({0.3, 0.4});
  EXPECT_DOUBLE_EQ(clip_grad_norm_(a, 1.0), 0.5);
  EXPECT_TRUE(tensors_match(a.grad(), tensor({0.3, 0.4}, kFloat64), 0.0, 0.0));
}

TEST(ClipGradNorm, OtherNorms) {
  Tensor a = with_grad({-3.0, 1.0}), b = with_grad({2.0});
  EXPECT_DOUBLE_EQ(clip_grad_norm_({a, b}, 100.0, 1.0), 6.0);
  EXPECT_DOUBLE_EQ(clip_grad_norm_({a, b}, 100.0, std::numeric_limits<double>::infinity()), 3.0);
  EXPECT_NEAR(clip_grad_norm_({a, b}, 100.0, 3.0), std::cbrt(27.0 + 1.0 + 8.0), 1e-14);
}

TEST(ClipGradNorm, ParametersWithoutGradientsAreIgnored) {
  Tensor a = with_grad({3.0, 4.0});
  Tensor none = zeros({2}, kFloat64).set_requires_grad(true);
  EXPECT_DOUBLE_EQ(clip_grad_norm_({a, none}, 10.0), 5.0);
  EXPECT_FALSE(none.grad().defined());
  EXPECT_EQ(clip_grad_norm_({none}, 1.0), 0.0);
  EXPECT_EQ(clip_grad_norm_(std::vector<Tensor>{}, 1.0), 0.0);
}

TEST(ClipGradNorm, NonFiniteNorms) {
  Tensor a = with_grad({std::numeric_limits<double>::quiet_NaN(), 1.0});
  TT_EXPECT_THROW_WITH(clip_grad_norm_(a, 1.0, 2.0, /*error_if_nonfinite=*/true), Error,
                       "non-finite");
  EXPECT_TRUE(std::isnan(clip_grad_norm_(a, 1.0)));  // without the flag: NaN, like PyTorch
  TT_EXPECT_THROW_WITH(clip_grad_norm_(a, 1.0, 0.0), ValueError, "norm_type");
}

TEST(ClipGradNorm, Float32GradientsKeepTheirDtype) {
  Tensor p = zeros({2}).set_requires_grad(true);
  p.mutable_grad() = tensor({6.0f, 8.0f});
  EXPECT_NEAR(clip_grad_norm_(p, 5.0), 10.0, 1e-12);
  EXPECT_EQ(p.grad().dtype(), kFloat32);
  EXPECT_TRUE(tensors_match(p.grad(), tensor({3.0f, 4.0f}), 1e-6, 0.0));
}

TEST(ClipGradValue, ClampsEachElement) {
  Tensor a = with_grad({-3.0, 0.25, 2.0});
  clip_grad_value_(a, 0.5);
  EXPECT_TRUE(tensors_match(a.grad(), tensor({-0.5, 0.25, 0.5}, kFloat64), 0.0, 0.0));
}

}  // namespace
}  // namespace tinytorch
