// Options, parameter groups and the checks an optimizer makes when it is built: the builder API,
// PyTorch's defaults, and PyTorch's error messages for invalid hyper-parameters.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "optim_test_util.h"

namespace tinytorch {
namespace {

using optim::Adam;
using optim::AdamOptions;
using optim::AdamW;
using optim::AdamWOptions;
using optim::OptimizerParamGroup;
using optim::RMSprop;
using optim::RMSpropOptions;
using optim::SGD;
using optim::SGDOptions;

Tensor shaped_param(std::vector<int64_t> shape = {2, 3}) {
  return ones(shape).set_requires_grad(true);
}

TEST(Options, DefaultsArePyTorchs) {
  const SGDOptions sgd(0.1);
  EXPECT_EQ(sgd.lr(), 0.1);
  EXPECT_EQ(sgd.momentum(), 0.0);
  EXPECT_EQ(sgd.dampening(), 0.0);
  EXPECT_EQ(sgd.weight_decay(), 0.0);
  EXPECT_FALSE(sgd.nesterov());

  const AdamOptions adam;
  EXPECT_EQ(adam.lr(), 1e-3);
  EXPECT_EQ(adam.betas(), std::make_tuple(0.9, 0.999));
  EXPECT_EQ(adam.eps(), 1e-8);
  EXPECT_EQ(adam.weight_decay(), 0.0);
  EXPECT_FALSE(adam.amsgrad());

  const AdamWOptions adamw;  // the only difference: decoupled decay is on by default
  EXPECT_EQ(adamw.lr(), 1e-3);
  EXPECT_EQ(adamw.weight_decay(), 1e-2);

  const RMSpropOptions rms;
  EXPECT_EQ(rms.lr(), 1e-2);
  EXPECT_EQ(rms.alpha(), 0.99);
  EXPECT_EQ(rms.eps(), 1e-8);
  EXPECT_EQ(rms.momentum(), 0.0);
  EXPECT_FALSE(rms.centered());

  const optim::AdagradOptions adagrad;
  EXPECT_EQ(adagrad.lr(), 1e-2);
  EXPECT_EQ(adagrad.lr_decay(), 0.0);
  EXPECT_EQ(adagrad.weight_decay(), 0.0);
  EXPECT_EQ(adagrad.initial_accumulator_value(), 0.0);
  EXPECT_EQ(adagrad.eps(), 1e-10);
}

TEST(Options, BuilderChainsAndSetsEveryField) {
  const SGDOptions o =
      SGDOptions(0.5).momentum(0.9).dampening(0.1).weight_decay(1e-4).nesterov(false);
  EXPECT_EQ(o.lr(), 0.5);
  EXPECT_EQ(o.momentum(), 0.9);
  EXPECT_EQ(o.dampening(), 0.1);
  EXPECT_EQ(o.weight_decay(), 1e-4);
  const AdamWOptions w = AdamWOptions(3e-4).betas({0.8, 0.95}).eps(1e-6).amsgrad(true);
  EXPECT_EQ(w.betas(), std::make_tuple(0.8, 0.95));
  EXPECT_TRUE(w.amsgrad());
  EXPECT_EQ(w.weight_decay(), 1e-2);  // untouched: still AdamW's default
}

TEST(Options, ByNameInterfaceRoundTrips) {
  // What state_dict() saves: every hyper-parameter by name, booleans as 0 / 1.
  const RMSpropOptions o = RMSpropOptions(0.02).alpha(0.5).momentum(0.3).centered(true);
  const auto values = o.to_values();
  ASSERT_EQ(values.size(), 6u);
  EXPECT_EQ(values[0].first, "lr");
  EXPECT_EQ(values[5].first, "centered");
  EXPECT_EQ(values[5].second, 1.0);
  RMSpropOptions back;
  back.from_values([&](const std::string& name) {
    for (const auto& [n, v] : values) {
      if (n == name) return v;
    }
    throw std::runtime_error("missing " + name);
  });
  EXPECT_EQ(back.lr(), 0.02);
  EXPECT_EQ(back.alpha(), 0.5);
  EXPECT_EQ(back.momentum(), 0.3);
  EXPECT_TRUE(back.centered());
  const auto clone = o.clone();
  EXPECT_EQ(clone->get_lr(), 0.02);
  clone->set_lr(7);
  EXPECT_EQ(clone->get_lr(), 7);
  EXPECT_EQ(o.lr(), 0.02);  // a clone is independent
}

TEST(Options, InvalidHyperParametersAreRejectedWithPyTorchsMessages) {
  const std::vector<Tensor> ps{shaped_param()};
  TT_EXPECT_THROW_WITH(SGD(ps, SGDOptions(-0.1)), ValueError, "Invalid learning rate: -0.1");
  TT_EXPECT_THROW_WITH(SGD(ps, SGDOptions(0.1).momentum(-1)), ValueError,
                       "Invalid momentum value: -1");
  TT_EXPECT_THROW_WITH(SGD(ps, SGDOptions(0.1).weight_decay(-1)), ValueError,
                       "Invalid weight_decay value: -1");
  TT_EXPECT_THROW_WITH(SGD(ps, SGDOptions(0.1).nesterov(true)), ValueError,
                       "Nesterov momentum requires a momentum and zero dampening");
  TT_EXPECT_THROW_WITH(SGD(ps, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
                       ValueError, "Nesterov momentum requires a momentum and zero dampening");
  TT_EXPECT_THROW_WITH(Adam(ps, AdamOptions(-1)), ValueError, "Invalid learning rate: -1");
  TT_EXPECT_THROW_WITH(Adam(ps, AdamOptions().eps(-1e-8)), ValueError, "Invalid epsilon value");
  TT_EXPECT_THROW_WITH(Adam(ps, AdamOptions().betas({1.0, 0.999})), ValueError,
                       "Invalid beta parameter at index 0: 1");
  TT_EXPECT_THROW_WITH(Adam(ps, AdamOptions().betas({0.9, -0.5})), ValueError,
                       "Invalid beta parameter at index 1: -0.5");
  TT_EXPECT_THROW_WITH(AdamW(ps, AdamWOptions().weight_decay(-1)), ValueError,
                       "Invalid weight_decay value: -1");
  TT_EXPECT_THROW_WITH(RMSprop(ps, RMSpropOptions().alpha(-0.1)), ValueError,
                       "Invalid alpha value: -0.1");
  TT_EXPECT_THROW_WITH(RMSprop(ps, RMSpropOptions().momentum(-0.1)), ValueError,
                       "Invalid momentum value");
  TT_EXPECT_THROW_WITH(RMSprop(ps, RMSpropOptions().eps(-1)), ValueError, "Invalid epsilon");
  using optim::Adagrad;
  using optim::AdagradOptions;
  TT_EXPECT_THROW_WITH(Adagrad(ps, AdagradOptions(-0.1)), ValueError,
                       "Invalid learning rate: -0.1");
  TT_EXPECT_THROW_WITH(Adagrad(ps, AdagradOptions().lr_decay(-1)), ValueError,
                       "Invalid lr_decay value: -1");
  TT_EXPECT_THROW_WITH(Adagrad(ps, AdagradOptions().weight_decay(-1)), ValueError,
                       "Invalid weight_decay value: -1");
  TT_EXPECT_THROW_WITH(Adagrad(ps, AdagradOptions().initial_accumulator_value(-0.5)), ValueError,
                       "Invalid initial_accumulator_value value: -0.5");
  TT_EXPECT_THROW_WITH(Adagrad(ps, AdagradOptions().eps(-1)), ValueError, "Invalid epsilon value");
  // Zero is a valid learning rate (a frozen group), as in PyTorch.
  EXPECT_NO_THROW(SGD(ps, SGDOptions(0.0)));
}

TEST(Options, InvalidGroupOptionsAreRejectedToo) {
  std::vector<OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{shaped_param()}, std::make_unique<SGDOptions>(-2.0));
  TT_EXPECT_THROW_WITH(SGD(groups, SGDOptions(0.1)), ValueError, "Invalid learning rate: -2");
}

TEST(ParamGroups, GroupWithoutOptionsGetsACopyOfTheDefaults) {
  Tensor a = shaped_param(), b = shaped_param({4});
  std::vector<OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{a});
  groups.emplace_back(std::vector<Tensor>{b}, std::make_unique<SGDOptions>(0.01));
  SGD opt(groups, SGDOptions(0.1).momentum(0.9));
  ASSERT_EQ(opt.param_groups().size(), 2u);
  EXPECT_EQ(opt.param_groups()[0].options().get_lr(), 0.1);
  EXPECT_EQ(static_cast<const SGDOptions&>(opt.param_groups()[0].options()).momentum(), 0.9);
  EXPECT_EQ(opt.param_groups()[1].options().get_lr(), 0.01);
  // A copy: changing one group's lr (what a scheduler does) leaves the defaults alone.
  opt.param_groups()[0].options().set_lr(5);
  EXPECT_EQ(opt.defaults().get_lr(), 0.1);
  EXPECT_EQ(opt.size(), 2u);
  const std::vector<Tensor> all = opt.parameters();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0].is_same(a));
  EXPECT_TRUE(all[1].is_same(b));
}

TEST(ParamGroups, AddParamGroupLater) {
  Tensor a = shaped_param(), b = shaped_param();
  SGD opt(std::vector<Tensor>{a}, SGDOptions(0.1));
  opt.add_param_group(OptimizerParamGroup({b}, std::make_unique<SGDOptions>(0.2)));
  ASSERT_EQ(opt.param_groups().size(), 2u);
  EXPECT_EQ(opt.param_groups()[1].options().get_lr(), 0.2);
  // Options of another optimizer type are a mistake, caught at once.
  Tensor c = shaped_param();
  TT_EXPECT_THROW_WITH(
      opt.add_param_group(OptimizerParamGroup({c}, std::make_unique<AdamOptions>())), TypeError,
      "SGD", "another optimizer type");
}

TEST(ParamGroups, ParametersMustBeDistinctFloatingLeaves) {
  Tensor a = shaped_param();
  TT_EXPECT_THROW_WITH(SGD(std::vector<Tensor>{a, a}, SGDOptions(0.1)), Error,
                       "more than one parameter group");
  std::vector<OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{a});
  groups.emplace_back(std::vector<Tensor>{a});
  TT_EXPECT_THROW_WITH(SGD(groups, SGDOptions(0.1)), Error, "more than one parameter group");
  TT_EXPECT_THROW_WITH(SGD(std::vector<Tensor>{zeros({2}, kInt64)}, SGDOptions(0.1)), TypeError,
                       "floating-point", "int64");
  TT_EXPECT_THROW_WITH(SGD(std::vector<Tensor>{Tensor()}, SGDOptions(0.1)), Error, "undefined");
  Tensor non_leaf = a * 2.0;  // computed from a parameter: not a leaf
  TT_EXPECT_THROW_WITH(SGD(std::vector<Tensor>{non_leaf}, SGDOptions(0.1)), Error,
                       "can't optimize a non-leaf Tensor");
}

}  // namespace
}  // namespace tinytorch
