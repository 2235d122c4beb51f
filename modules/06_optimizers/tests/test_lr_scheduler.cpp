// LR schedulers by hand: StepLR, CosineAnnealingLR, LinearLR — the values of the chapter's
// tables, the recursive form against the closed form, and argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "optim_test_util.h"

namespace tinytorch {
namespace {

using namespace optim;  // NOLINT(google-build-using-namespace): a test of this namespace

std::vector<Tensor> one_param() {
  return {zeros({1}).set_requires_grad(true)};
}

double lr_of(const Optimizer& opt, size_t group = 0) {
  return opt.param_groups()[group].options().get_lr();
}

TEST(StepLR, DecaysByGammaEveryStepSizeEpochsOnLibtorchsTiming) {
  // libtorch's C++ StepLR: the k-th step() applies γ^⌊(k − 1) / step_size⌋, so the first decay
  // comes with the 3rd call — one later than Python's StepLR (.1 .1 .05 .05 .025 .025 .0125).
  SGD opt(one_param(), SGDOptions(0.1));
  StepLR sched(opt, /*step_size=*/2, /*gamma=*/0.5);
  const std::vector<double> expected = {0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025};
  for (size_t epoch = 0; epoch < expected.size(); ++epoch) {
    if (epoch > 0) sched.step();
    EXPECT_EQ(sched.last_epoch(), static_cast<int64_t>(epoch));
    EXPECT_DOUBLE_EQ(lr_of(opt), expected[epoch]) << "epoch " << epoch;
    EXPECT_DOUBLE_EQ(sched.get_last_lr()[0], expected[epoch]);
    EXPECT_DOUBLE_EQ(sched.closed_form_lrs()[0], expected[epoch]) << "epoch " << epoch;
  }
}

TEST(StepLR, StepSizeOneDecaysFromTheSecondStepOn) {
  // The edge of the timing: even with step_size 1 the first step() leaves the lr alone.
  SGD opt(one_param(), SGDOptions(1.0));
  StepLR sched(opt, /*step_size=*/1, /*gamma=*/0.5);
  const std::vector<double> expected = {1.0, 1.0, 0.5, 0.25, 0.125};
  for (size_t epoch = 0; epoch < expected.size(); ++epoch) {
    if (epoch > 0) sched.step();
    EXPECT_DOUBLE_EQ(lr_of(opt), expected[epoch]) << "epoch " << epoch;
    EXPECT_DOUBLE_EQ(sched.closed_form_lrs()[0], expected[epoch]) << "epoch " << epoch;
  }
}

TEST(CosineAnnealingLR, ReachesEtaMinAtTMaxAndFollowsTheCosine) {
  SGD opt(one_param(), SGDOptions(1.0));
  CosineAnnealingLR sched(opt, /*T_max=*/4, /*eta_min=*/0.2);
  EXPECT_DOUBLE_EQ(lr_of(opt), 1.0);  // epoch 0: the base lr
  sched.step();
  sched.step();
  EXPECT_NEAR(lr_of(opt), 0.6, 1e-15);  // halfway: (base + eta_min) / 2
  sched.step();
  sched.step();
  EXPECT_NEAR(lr_of(opt), 0.2, 1e-15);  // T_max: eta_min
  sched.step();                         // ... and past it the cosine climbs again
  EXPECT_NEAR(lr_of(opt), 0.2 + 0.8 * (1 - std::cos(std::numbers::pi / 4)) / 2, 1e-15);
}

TEST(LinearLR, WarmsUpLinearlyThenStays) {
  SGD opt(one_param(), SGDOptions(0.1));
  LinearLR sched(opt, /*start_factor=*/0.25, /*end_factor=*/1.0, /*total_iters=*/3);
  // The constructor applies epoch 0 at once: training starts at a quarter of the lr.
  const std::vector<double> expected = {0.025, 0.05, 0.075, 0.1, 0.1, 0.1};
  for (size_t epoch = 0; epoch < expected.size(); ++epoch) {
    if (epoch > 0) sched.step();
    EXPECT_NEAR(lr_of(opt), expected[epoch], 1e-16) << "epoch " << epoch;
  }
}

TEST(Schedulers, EveryGroupFollowsItsOwnBaseLr) {
  std::vector<OptimizerParamGroup> groups;
  groups.emplace_back(one_param());
  groups.emplace_back(one_param(), std::make_unique<SGDOptions>(0.01));
  SGD opt(std::move(groups), SGDOptions(1.0));
  StepLR sched(opt, 1, 0.5);
  sched.step();  // libtorch's first step() leaves the lr alone ...
  sched.step();  // ... the second decays
  EXPECT_DOUBLE_EQ(lr_of(opt, 0), 0.5);
  EXPECT_DOUBLE_EQ(lr_of(opt, 1), 0.005);
  EXPECT_EQ(sched.base_lrs(), (std::vector<double>{1.0, 0.01}));
}

TEST(Schedulers, RecursiveAndClosedFormAgree) {
  // step() multiplies the CURRENT lr by a ratio; closed_form_lrs() evaluates the formula of the
  // epoch. They are different roundings of the same numbers.
  SGD opt(one_param(), SGDOptions(0.3));
  CosineAnnealingLR cosine(opt, 50, 1e-4);
  for (int epoch = 1; epoch <= 200; ++epoch) {
    cosine.step();
    EXPECT_NEAR(lr_of(opt), cosine.closed_form_lrs()[0], 1e-14) << "epoch " << epoch;
  }
  SGD opt2(one_param(), SGDOptions(0.3));
  LinearLR linear(opt2, 0.1, 0.9, 20);
  for (int epoch = 1; epoch <= 30; ++epoch) {
    linear.step();
    EXPECT_NEAR(lr_of(opt2), linear.closed_form_lrs()[0], 1e-15) << "epoch " << epoch;
  }
}

TEST(Schedulers, TheRecursiveFormComposesWithOtherLrChanges) {
  // Because step() works from the current lr, halving the lr by hand mid-schedule halves the
  // rest of the schedule too (what PyTorch's "chainable" form is for).
  SGD opt(one_param(), SGDOptions(1.0));
  StepLR sched(opt, 1, 0.5);
  sched.step();  // 1.0 (libtorch's timing: the first step() does not decay)
  sched.step();  // 0.5
  opt.param_groups()[0].options().set_lr(0.1);
  sched.step();
  EXPECT_DOUBLE_EQ(lr_of(opt), 0.05);
  EXPECT_DOUBLE_EQ(sched.closed_form_lrs()[0], 0.25);  // the closed form ignores the change
}

TEST(Schedulers, InvalidArgumentsAreRejected) {
  SGD opt(one_param(), SGDOptions(0.1));
  TT_EXPECT_THROW_WITH(StepLR(opt, 0), ValueError, "step_size must be positive");
  TT_EXPECT_THROW_WITH(CosineAnnealingLR(opt, 0), ValueError, "T_max must be positive");
  TT_EXPECT_THROW_WITH(LinearLR(opt, 0.0), ValueError, "starting multiplicative factor");
  TT_EXPECT_THROW_WITH(LinearLR(opt, 1.5), ValueError, "starting multiplicative factor");
  TT_EXPECT_THROW_WITH(LinearLR(opt, 0.5, 2.0), ValueError, "ending multiplicative factor");
  TT_EXPECT_THROW_WITH(LinearLR(opt, 0.5, 1.0, 0), ValueError, "total_iters must be positive");
  EXPECT_DOUBLE_EQ(lr_of(opt), 0.1);  // nothing was applied
}

TEST(Schedulers, AGroupAddedAfterTheSchedulerIsAnError) {
  SGD opt(one_param(), SGDOptions(0.1));
  StepLR sched(opt, 1);
  opt.add_param_group(OptimizerParamGroup(one_param()));
  TT_EXPECT_THROW_WITH(sched.step(), Error, "2 parameter group(s)", "made for 1");
}

}  // namespace
}  // namespace tinytorch
