// End to end with module 05's autograd: each optimizer minimises a function through backward(),
// zero_grad() and step(), and a small model trains with a scheduler and gradient clipping.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "optim_test_util.h"
#include "tinytorch/nn/nn.h"

namespace tinytorch {
namespace {

using namespace optim;  // NOLINT(google-build-using-namespace): a test of this namespace

// Rosenbrock's banana valley: minimum 0 at (1, 1), at the end of a long, curved, flat-bottomed
// valley — the classic test of how an optimizer handles ill-conditioning.
Tensor rosenbrock(const Tensor& x, const Tensor& y) {
  return ((1.0 - x).pow(2) + 100.0 * (y - x * x).pow(2)).sum();
}

// Runs `steps` iterations from (-1.5, 2) in float64; returns the final loss.
double minimise(const std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>& make,
                int steps, Tensor* out_x = nullptr) {
  Tensor x = full({1}, -1.5, kFloat64).set_requires_grad(true);
  Tensor y = full({1}, 2.0, kFloat64).set_requires_grad(true);
  auto opt = make({x, y});
  for (int i = 0; i < steps; ++i) {
    opt->zero_grad();
    rosenbrock(x, y).backward();
    opt->step();
  }
  if (out_x) *out_x = x;
  NoGradGuard no_grad;
  return rosenbrock(x, y).item<double>();
}

// PyTorch 1.13 reaches these losses with the same settings and steps (3.3e-12, 1.5e-12,
// 3.1e-11, 3.1e-11 and 7.2e-5); we ask for convergence, with margin.
TEST(Training, EveryOptimizerSolvesRosenbrock) {
  EXPECT_LT(minimise(
                [](std::vector<Tensor> p) {
                  return std::make_unique<SGD>(p, SGDOptions(1e-3).momentum(0.9));
                },
                3000),
            1e-9);
  EXPECT_LT(minimise(
                [](std::vector<Tensor> p) {
                  return std::make_unique<SGD>(p, SGDOptions(1e-3).momentum(0.9).nesterov(true));
                },
                3000),
            1e-9);
  EXPECT_LT(
      minimise([](std::vector<Tensor> p) { return std::make_unique<Adam>(p, AdamOptions(0.02)); },
               3000),
      1e-8);
  EXPECT_LT(minimise(
                [](std::vector<Tensor> p) {
                  return std::make_unique<AdamW>(p, AdamWOptions(0.02).weight_decay(0.0));
                },
                3000),
            1e-8);
  EXPECT_LT(minimise(
                [](std::vector<Tensor> p) {
                  return std::make_unique<RMSprop>(
                      p, RMSpropOptions(1e-3).centered(true).momentum(0.5));
                },
                3000),
            1e-3);
}

TEST(Training, PlainSGDIsSlowInTheValley) {
  // Without momentum, 3000 steps at the largest stable lr leave SGD far up the valley: the
  // reason momentum and adaptive methods exist.
  Tensor x;
  const double loss = minimise(
      [](std::vector<Tensor> p) { return std::make_unique<SGD>(p, SGDOptions(1e-3)); }, 3000, &x);
  EXPECT_GT(loss, 1e-4);
  EXPECT_LT(loss, 4.0);  // but it did make progress from the start (loss 12.5 → below 4)
}

TEST(Training, LinearRegressionWithSchedulerAndClipping) {
  manual_seed(0);
  // y = x·w* + b* with w* = (2, −3, 0.5), b* = 1: recover them with a Linear layer.
  const Tensor x = randn({256, 3});
  const Tensor w_true = tensor({{2.0f}, {-3.0f}, {0.5f}});
  const Tensor y = matmul(x, w_true) + 1.0;
  nn::Linear model(3, 1);
  SGD opt(model->parameters(), SGDOptions(0.1).momentum(0.9));
  StepLR sched(opt, /*step_size=*/50, /*gamma=*/0.5);
  double first_norm = 0;
  for (int epoch = 0; epoch < 200; ++epoch) {
    opt.zero_grad();
    Tensor loss = mse_loss(model(x), y);
    loss.backward();
    const double norm = nn::utils::clip_grad_norm_(model->parameters(), 5.0);
    if (epoch == 0) first_norm = norm;
    opt.step();
    sched.step();
  }
  EXPECT_GT(first_norm, 0.0);
  EXPECT_TRUE(test::tensors_match(model->weight, w_true.t(), 0.0, 1e-4));
  EXPECT_NEAR(model->bias.item<double>(), 1.0, 1e-4);
  // 200 step() calls of StepLR(50, 0.5) decay on calls 51, 101 and 151 (libtorch's timing).
  EXPECT_DOUBLE_EQ(opt.param_groups()[0].options().get_lr(), 0.1 * std::pow(0.5, 3));
}

TEST(Training, ParametersOfAModelInGroupsWithDifferentWeightDecay) {
  // The usual recipe: no weight decay on biases.
  nn::Linear model(4, 2);
  std::vector<OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{model->weight});
  groups.emplace_back(std::vector<Tensor>{model->bias},
                      std::make_unique<AdamWOptions>(AdamWOptions(0.01).weight_decay(0.0)));
  AdamW opt(std::move(groups), AdamWOptions(0.01).weight_decay(0.1));
  const Tensor bias_before = model->bias.clone();
  const Tensor weight_before = model->weight.clone();
  opt.zero_grad();
  // A loss that does not depend on the parameters' values at all: only decay can move them.
  Tensor loss = (model(zeros({1, 4})) * 0.0).sum();
  loss.backward();
  opt.step();
  EXPECT_TRUE(test::tensors_match(model->bias, bias_before, 0.0, 0.0));
  EXPECT_TRUE(test::tensors_match(model->weight, weight_before * (1 - 0.01 * 0.1), 1e-6, 0.0));
}

}  // namespace
}  // namespace tinytorch
