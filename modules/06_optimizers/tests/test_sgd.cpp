// SGD by hand: each rule of the update checked on numbers small enough to compute on paper, and
// the behaviour every optimizer shares through the base class (skipping parameters without a
// gradient, lazy state, zero_grad, in-place updates under NoGradGuard).
#include <gtest/gtest.h>

#include "optim_test_util.h"

namespace tinytorch {
namespace {

using optim::SGD;
using optim::SGDOptions;
using test::tensors_match;

using test::param;
using test::vec;

TEST(SGD, PlainStepIsParamMinusLrTimesGrad) {
  Tensor w = param({1.0, -2.0});
  SGD opt(std::vector<Tensor>{w}, SGDOptions(0.5));
  w.mutable_grad() = vec({0.25, -1.0});
  opt.step();
  EXPECT_TRUE(tensors_match(w, vec({0.875, -1.5})));  // 1 − 0.5·0.25, −2 + 0.5·1
}

TEST(SGD, MomentumBufferStartsAsTheGradientWithoutDampening) {
  // PyTorch: the first buffer is a copy of the gradient — dampening is NOT applied to it.
  Tensor w = param({0.0});
  SGD opt(std::vector<Tensor>{w}, SGDOptions(1.0).momentum(0.5).dampening(0.5));
  w.mutable_grad() = vec({2.0});
  opt.step();  // b = 2;              w = 0 − 2 = −2
  EXPECT_TRUE(tensors_match(w, vec({-2.0})));
  w.mutable_grad() = vec({2.0});
  opt.step();  // b = 0.5·2 + 0.5·2 = 2;  w = −4
  EXPECT_TRUE(tensors_match(w, vec({-4.0})));
  w.mutable_grad() = vec({4.0});
  opt.step();  // b = 0.5·2 + 0.5·4 = 3;  w = −7
  EXPECT_TRUE(tensors_match(w, vec({-7.0})));
  const auto* state = dynamic_cast<const optim::SGDParamState*>(opt.state_of(w));
  ASSERT_NE(state, nullptr);
  EXPECT_TRUE(tensors_match(state->momentum_buffer, vec({3.0})));
  EXPECT_EQ(state->step, 3);
}

TEST(SGD, NesterovLooksAheadAlongTheBuffer) {
  Tensor w = param({0.0});
  SGD opt(std::vector<Tensor>{w}, SGDOptions(0.1).momentum(0.9).nesterov(true));
  w.mutable_grad() = vec({1.0});
  opt.step();  // b = 1; d = 1 + 0.9·1 = 1.9; w = −0.19
  EXPECT_TRUE(tensors_match(w, vec({-0.19})));
  w.mutable_grad() = vec({1.0});
  opt.step();  // b = 0.9 + 1 = 1.9; d = 1 + 0.9·1.9 = 2.71; w = −0.19 − 0.271
  EXPECT_TRUE(tensors_match(w, vec({-0.461})));
}

TEST(SGD, WeightDecayAddsTheL2Gradient) {
  Tensor w = param({2.0});
  SGD opt(std::vector<Tensor>{w}, SGDOptions(0.1).weight_decay(0.5));
  w.mutable_grad() = vec({0.0});  // no loss gradient: decay alone pulls w toward 0
  opt.step();                     // d = 0 + 0.5·2 = 1; w = 2 − 0.1
  EXPECT_TRUE(tensors_match(w, vec({1.9})));
}

TEST(SGD, Float32And2dParameters) {
  Tensor w = ones({2, 2}).set_requires_grad(true);
  SGD opt(std::vector<Tensor>{w}, SGDOptions(0.5));
  w.mutable_grad() = full({2, 2}, 0.5);
  opt.step();
  EXPECT_TRUE(tensors_match(w, full({2, 2}, 0.75)));
  EXPECT_EQ(w.dtype(), kFloat32);
}

TEST(Optimizer, ParametersWithoutGradientAreSkippedAndGetNoState) {
  Tensor a = param({1.0}), b = param({1.0});
  SGD opt(std::vector<Tensor>{a, b}, SGDOptions(0.1).momentum(0.9));
  a.mutable_grad() = vec({1.0});  // b has no gradient (it was not used in the loss)
  opt.step();
  EXPECT_TRUE(tensors_match(a, vec({0.9})));
  EXPECT_TRUE(tensors_match(b, vec({1.0})));
  EXPECT_NE(opt.state_of(a), nullptr);
  EXPECT_EQ(opt.state_of(b), nullptr);  // lazily: no gradient yet, no state, no memory
  b.mutable_grad() = vec({1.0});
  opt.step();
  ASSERT_NE(opt.state_of(b), nullptr);
  EXPECT_EQ(opt.state_of(a)->step, 2);
  EXPECT_EQ(opt.state_of(b)->step, 1);
  // b's first step with momentum: its buffer starts as its gradient, like a's did.
  EXPECT_TRUE(tensors_match(b, vec({0.9})));
}

TEST(Optimizer, ZeroGradSetsGradientsToNone) {
  Tensor a = param({1.0}), b = param({1.0});
  SGD opt(std::vector<Tensor>{a, b}, SGDOptions(0.1));
  a.mutable_grad() = vec({1.0});
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  opt.step();  // nothing has a gradient: nothing moves
  EXPECT_TRUE(tensors_match(a, vec({1.0})));
}

TEST(Optimizer, ZeroGradWithoutSetToNoneFillsZerosInPlace) {
  Tensor a = param({1.0, 2.0});
  SGD opt(std::vector<Tensor>{a}, SGDOptions(0.1));
  Tensor g = vec({3.0, 4.0});
  a.mutable_grad() = g;
  opt.zero_grad(/*set_to_none=*/false);
  ASSERT_TRUE(a.grad().defined());
  EXPECT_TRUE(a.grad().is_same(g));  // the same tensor, now zeros
  EXPECT_TRUE(tensors_match(g, vec({0.0, 0.0})));
}

TEST(Optimizer, StepUpdatesInPlaceWithoutRecordingAGraph) {
  Tensor w = param({1.0, 2.0});
  const void* data = w.data_ptr();
  const uint32_t version = w._version();
  SGD opt(std::vector<Tensor>{w}, SGDOptions(0.1));
  w.mutable_grad() = vec({1.0, 1.0});
  opt.step();
  EXPECT_EQ(w.data_ptr(), data);     // the same memory: models holding w see the update
  EXPECT_GT(w._version(), version);  // autograd can tell that w changed
  EXPECT_TRUE(w.is_leaf());          // still a leaf: the update was not recorded
  EXPECT_TRUE(w.requires_grad());
  EXPECT_EQ(w.grad_fn(), nullptr);
  EXPECT_TRUE(GradMode::is_enabled());  // the guard was restored
}

TEST(Optimizer, StepWithClosureReturnsItsLoss) {
  Tensor w = param({3.0});
  SGD opt(std::vector<Tensor>{w}, SGDOptions(0.25));
  Tensor loss = opt.step([&] {
    opt.zero_grad();
    Tensor l = (w * w).sum();  // d/dw = 2w = 6
    l.backward();
    return l;
  });
  EXPECT_DOUBLE_EQ(loss.item<double>(), 9.0);
  EXPECT_TRUE(tensors_match(w, vec({1.5})));  // 3 − 0.25·6
}

TEST(Optimizer, NonContiguousParameterIsUpdatedThroughItsView) {
  // A parameter that is a transposed view: the update must land in the viewed elements.
  Tensor base = arange(6, kFloat64).view({2, 3});
  Tensor w = base.t();  // [3, 2], strides [1, 3]; a leaf (base does not require grad)
  ASSERT_FALSE(w.is_contiguous());
  SGD opt(std::vector<Tensor>{w}, SGDOptions(1.0).momentum(0.5));
  w.mutable_grad() = ones({3, 2}, kFloat64);
  opt.step();
  opt.step();  // second step: buffer = 0.5·1 + 1 = 1.5, total change 2.5
  EXPECT_TRUE(tensors_match(base, arange(6, kFloat64).view({2, 3}) - 2.5));
}

TEST(Optimizer, GradientOfTheWrongShapeOrDtypeIsAnError) {
  Tensor w = param({1.0, 2.0});
  SGD opt(std::vector<Tensor>{w}, SGDOptions(0.1));
  w.mutable_grad() = vec({1.0, 2.0, 3.0});
  TT_EXPECT_THROW_WITH(opt.step(), Error, "SGD.step", "[2]", "[3]");
  w.mutable_grad() = tensor({1.0f, 2.0f});
  TT_EXPECT_THROW_WITH(opt.step(), TypeError, "float64", "float32");
}

TEST(Optimizer, NonContiguousGradientIsReadCorrectly) {
  Tensor w = zeros({2, 3}, kFloat64).set_requires_grad(true);
  SGD opt(std::vector<Tensor>{w}, SGDOptions(1.0));
  Tensor g = arange(6, kFloat64).view({3, 2});
  w.mutable_grad() = g.t();  // [2, 3] view, not contiguous
  opt.step();
  EXPECT_TRUE(tensors_match(w, g.t().neg()));
}

}  // namespace
}  // namespace tinytorch
