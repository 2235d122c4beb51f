// Adam, AdamW and RMSprop by hand: the properties the chapter derives, on numbers small enough to
// check on paper.
#include <gtest/gtest.h>

#include <cmath>

#include "optim_test_util.h"

namespace tinytorch {
namespace {

using namespace optim;  // NOLINT(google-build-using-namespace): a test of this namespace
using test::tensors_match;

using test::param;
using test::vec;

TEST(Adam, FirstStepMovesEveryElementByAboutLr) {
  // Bias correction makes m̂ = g and v̂ = g² on step 1, so the step is lr·g/(|g| + ε): about lr
  // in the direction of −g, whatever the gradient's scale. That is Adam's scale invariance.
  Tensor w = param({0.0, 0.0, 0.0});
  Adam opt(std::vector<Tensor>{w}, AdamOptions(0.1));
  w.mutable_grad() = vec({1e-4, -3.0, 250.0});
  opt.step();
  EXPECT_TRUE(tensors_match(w, vec({-0.1, 0.1, -0.1}), 1e-3, 0.0));
}

TEST(Adam, BiasCorrectionByHandOnStepTwo) {
  Tensor w = param({1.0});
  Adam opt(std::vector<Tensor>{w}, AdamOptions(0.1).betas({0.5, 0.75}).eps(0.0));
  w.mutable_grad() = vec({2.0});
  opt.step();  // m = 1, v = 1;  m̂ = 2, v̂ = 4;  w = 1 − 0.1·2/2 = 0.9
  EXPECT_TRUE(tensors_match(w, vec({0.9})));
  w.mutable_grad() = vec({4.0});
  opt.step();  // m = 0.5 + 2 = 2.5, v = 0.75 + 4 = 4.75; m̂ = 2.5/0.75, v̂ = 4.75/0.4375
  const double m_hat = 2.5 / 0.75, v_hat = 4.75 / 0.4375;
  EXPECT_TRUE(tensors_match(w, vec({0.9 - 0.1 * m_hat / std::sqrt(v_hat)}), 1e-14, 0.0));
  const auto* s = dynamic_cast<const AdamParamState*>(opt.state_of(w));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->step, 2);
  EXPECT_TRUE(tensors_match(s->exp_avg, vec({2.5})));
  EXPECT_TRUE(tensors_match(s->exp_avg_sq, vec({4.75})));
  EXPECT_FALSE(s->max_exp_avg_sq.defined());  // no amsgrad, no third buffer
}

TEST(Adam, EpsilonIsAddedAfterTheSquareRoot) {
  // With a zero gradient on step 1, m = v = 0: the update is 0/(0 + ε) = 0, not NaN.
  Tensor w = param({1.0});
  Adam opt(std::vector<Tensor>{w}, AdamOptions(0.1));
  w.mutable_grad() = vec({0.0});
  opt.step();
  EXPECT_TRUE(tensors_match(w, vec({1.0})));
  // With a large ε the step shrinks: lr·g / (|g| + ε) = 0.1·1/(1 + 1) = 0.05.
  Tensor u = param({0.0});
  Adam big_eps(std::vector<Tensor>{u}, AdamOptions(0.1).eps(1.0));
  u.mutable_grad() = vec({1.0});
  big_eps.step();
  EXPECT_TRUE(tensors_match(u, vec({-0.05})));
}

TEST(Adam, AmsgradNeverLetsTheDenominatorShrink) {
  Tensor a = param({0.0}), b = param({0.0});
  Adam plain(std::vector<Tensor>{a}, AdamOptions(0.1).betas({0.0, 0.0}).eps(0.0));
  Adam ams(std::vector<Tensor>{b}, AdamOptions(0.1).betas({0.0, 0.0}).eps(0.0).amsgrad(true));
  for (double g : {10.0, 1.0}) {  // β = 0: v is just the last g²
    a.mutable_grad() = vec({g});
    b.mutable_grad() = vec({g});
    plain.step();
    ams.step();
  }
  // Step 2: plain divides 1 by √1 (a full lr step); amsgrad divides by the max √100.
  EXPECT_TRUE(tensors_match(a, vec({-0.2})));
  EXPECT_TRUE(tensors_match(b, vec({-0.11})));
  const auto* s = dynamic_cast<const AdamParamState*>(ams.state_of(b));
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(tensors_match(s->max_exp_avg_sq, vec({100.0})));
}

TEST(AdamW, DecayIsDecoupledFromTheGradientStatistics) {
  // Zero gradient: Adam's L2 decay becomes a "gradient" wd·p that Adam normalises to a full lr
  // step, while AdamW shrinks p by exactly lr·wd·p and the (zero) Adam step adds nothing.
  Tensor a = param({2.0}), w = param({2.0});
  Adam adam(std::vector<Tensor>{a}, AdamOptions(0.1).weight_decay(0.01));
  AdamW adamw(std::vector<Tensor>{w}, AdamWOptions(0.1).weight_decay(0.01));
  a.mutable_grad() = vec({0.0});
  w.mutable_grad() = vec({0.0});
  adam.step();
  adamw.step();
  EXPECT_TRUE(tensors_match(a, vec({1.9}), 1e-6, 0.0));  // 2 − 0.1·(0.02/0.02)
  EXPECT_TRUE(tensors_match(w, vec({2.0 * (1 - 0.1 * 0.01)})));
  EXPECT_EQ(adam.name(), "Adam");
  EXPECT_EQ(adamw.name(), "AdamW");
}

TEST(AdamW, WithZeroDecayEqualsAdam) {
  Tensor a = param({1.0, -1.0}), w = param({1.0, -1.0});
  Adam adam(std::vector<Tensor>{a}, AdamOptions(0.05));
  AdamW adamw(std::vector<Tensor>{w}, AdamWOptions(0.05).weight_decay(0.0));
  for (int i = 0; i < 4; ++i) {
    a.mutable_grad() = vec({0.5 * i - 1.0, 2.0});
    w.mutable_grad() = vec({0.5 * i - 1.0, 2.0});
    adam.step();
    adamw.step();
  }
  EXPECT_TRUE(tensors_match(a, w, 0.0, 0.0));  // bit for bit
}

TEST(RMSprop, FirstStepByHand) {
  Tensor w = param({1.0});
  RMSprop opt(std::vector<Tensor>{w}, RMSpropOptions(0.01).alpha(0.75).eps(0.0));
  w.mutable_grad() = vec({2.0});
  opt.step();  // s = 0.25·4 = 1; w = 1 − 0.01·2/1
  EXPECT_TRUE(tensors_match(w, vec({0.98})));
  const auto* s = dynamic_cast<const RMSpropParamState*>(opt.state_of(w));
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(tensors_match(s->square_avg, vec({1.0})));
  EXPECT_FALSE(s->momentum_buffer.defined());
  EXPECT_FALSE(s->grad_avg.defined());
}

TEST(RMSprop, CenteredDividesByTheStandardDeviation) {
  Tensor w = param({0.0});
  RMSprop opt(std::vector<Tensor>{w}, RMSpropOptions(0.1).alpha(0.5).eps(0.0).centered(true));
  w.mutable_grad() = vec({2.0});
  opt.step();  // s = 2, ḡ = 1: avg = √(2 − 1) = 1; w = −0.1·2/1
  EXPECT_TRUE(tensors_match(w, vec({-0.2})));
}

TEST(RMSprop, MomentumBufferStartsAtZero) {
  Tensor w = param({0.0});
  RMSprop opt(std::vector<Tensor>{w}, RMSpropOptions(0.1).alpha(0.0).eps(0.0).momentum(0.5));
  w.mutable_grad() = vec({3.0});
  opt.step();  // s = 9, b = 0·0.5 + 3/3 = 1; w = −0.1
  w.mutable_grad() = vec({3.0});
  opt.step();  // b = 0.5 + 1 = 1.5; w = −0.1 − 0.15
  EXPECT_TRUE(tensors_match(w, vec({-0.25})));
}

}  // namespace
}  // namespace tinytorch
