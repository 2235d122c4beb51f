// Module 03 with module 05's autograd: gradients reach the parameters of Linear, Sequential and
// Dropout through backward(), and equal PyTorch's (tests/data/module03_reference.json);
// zero_grad drops or zeroes them; initialisation and load_state_dict leave parameters leaves.
// The tests that call backward() are skipped while module 05 is not written.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers_test_util.h"
#include "support/prerequisites.h"

namespace tinytorch {
namespace {

using test::tensors_match;

TEST(LayerGradients, LinearMatchesPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  // For each case: y = linear(x), loss = (y · g).sum() with PyTorch's g, so dL/dy = g.
  for (const auto& c : test::module03_reference().at("linear")) {
    const std::string name = c.at("name").get<std::string>();
    const ScalarType dt = test::parse_dtype(c.at("dtype").get<std::string>());
    const double tol = dt == kFloat64 ? 1e-12 : 2e-6;
    for (const kernels::Tier tier : {kernels::Tier::kReference, kernels::Tier::kFast}) {
      const test::TierGuard guard(tier);
      nn::Linear fc(
          nn::LinearOptions(c.at("in_features").get<int64_t>(), c.at("out_features").get<int64_t>())
              .bias(c.at("bias").get<bool>())
              .dtype(dt));
      fc->load_state_dict(test::state_dict_from_json(c.at("state_dict")));
      Tensor x = test::tensor_from_json(c.at("input"));
      x.set_requires_grad(true);
      const Tensor g = test::tensor_from_json(c.at("grad_output"));
      const std::string where = name + " (" + test::tier_name(tier) + " tier)";
      try {
        (fc(x) * g).sum().backward();
      } catch (const std::exception& e) {
        ADD_FAILURE() << where << ": backward threw: " << e.what();
        continue;
      }
      if (!c.at("grad_weight").is_null()) {
        EXPECT_TRUE(tensors_match(fc->weight.grad(), c.at("grad_weight"), tol, tol)) << where;
      }
      if (!c.at("grad_bias").is_null()) {
        EXPECT_TRUE(tensors_match(fc->bias.grad(), c.at("grad_bias"), tol, tol)) << where;
      }
      EXPECT_TRUE(tensors_match(x.grad(), c.at("grad_input"), tol, tol)) << where;
    }
  }
}

TEST(LayerGradients, SequentialMlpMatchesPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const auto& ref = test::module03_reference().at("mlp");
  const std::vector<int64_t> sizes = test::int_list(ref.at("sizes"));
  nn::Sequential model;
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    if (i > 0) model->push_back(nn::ReLU());
    model->push_back(nn::Linear(sizes[i], sizes[i + 1]));
  }
  EXPECT_EQ(model->to_string(), ref.at("repr").get<std::string>());
  model->load_state_dict(test::state_dict_from_json(ref.at("state_dict")));
  const Tensor x = test::tensor_from_json(ref.at("input"));
  const Tensor out = model(x);
  EXPECT_TRUE(tensors_match(out, ref.at("output"), 1e-5, 1e-6));
  (out * test::tensor_from_json(ref.at("grad_output"))).sum().backward();
  const auto params = model->named_parameters();
  for (const auto& e : ref.at("grads")) {
    const std::string key = e.at("key").get<std::string>();
    EXPECT_TRUE(tensors_match(params[key].grad(), e.at("tensor"), 1e-5, 1e-6)) << key;
  }
}

TEST(LayerGradients, ZeroGrad) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  nn::Sequential model(nn::Linear(3, 4), nn::Tanh(), nn::Linear(4, 1));
  const Tensor x = randn({5, 3});
  for (const Tensor& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
  model(x).sum().backward();
  for (const Tensor& p : model->parameters()) ASSERT_TRUE(p.grad().defined());
  const Tensor first = model->ptr<nn::LinearImpl>(0)->weight.grad().clone();
  // Gradients accumulate until they are cleared...
  model(x).sum().backward();
  EXPECT_TRUE(model->ptr<nn::LinearImpl>(0)->weight.grad().allclose(first * 2.0));
  // ...zero_grad(false) zeroes them in place...
  const Tensor grad_handle = model->ptr<nn::LinearImpl>(0)->weight.grad();
  model->zero_grad(/*set_to_none=*/false);
  for (const Tensor& p : model->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().abs().max().item<double>(), 0.0);
  }
  EXPECT_TRUE(grad_handle.is_alias_of(model->ptr<nn::LinearImpl>(0)->weight.grad()));
  // ...and zero_grad() (set_to_none, the default) drops them.
  model(x).sum().backward();
  model->zero_grad();
  for (const Tensor& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
  model(x).sum().backward();
  EXPECT_TRUE(model->ptr<nn::LinearImpl>(0)->weight.grad().allclose(first));
}

TEST(LayerGradients, FrozenParameterGetsNoGradient) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  nn::Linear fc(3, 2);
  fc->weight.set_requires_grad(false);
  fc(randn({4, 3})).sum().backward();
  EXPECT_FALSE(fc->weight.grad().defined());
  ASSERT_TRUE(fc->bias.grad().defined());
  EXPECT_EQ(test::values_as_double(fc->bias.grad()), (std::vector<double>{4, 4}));
}

TEST(LayerGradients, DropoutGradientIsTheScaledMask) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  Tensor x = ones({1000});
  x.set_requires_grad(true);
  manual_seed(3);
  const Tensor y = nn::functional::dropout(x, 0.25, /*training=*/true);
  y.sum().backward();
  // d(sum(x·mask))/dx = mask: 1/(1 − p) where kept, 0 where dropped — exactly y here (x = 1).
  EXPECT_TRUE(x.grad().equal(y.detach()));
  // In eval mode dropout is the identity: the gradient is 1 everywhere.
  x.mutable_grad() = Tensor();
  nn::Dropout drop(0.25);
  drop->eval();
  drop(x).sum().backward();
  EXPECT_EQ(x.grad().min().item<double>(), 1.0);
}

TEST(LayerGradients, InitAndLoadKeepParametersLeaves) {
  nn::Linear fc(3, 3);
  nn::init::kaiming_normal_(fc->weight);
  fc->load_state_dict(fc->state_dict());
  OrderedDict<std::string, Tensor> sd;
  sd.insert("weight", zeros({3, 3}));
  sd.insert("bias", zeros({3}));
  fc->load_state_dict(sd);
  EXPECT_TRUE(fc->weight.is_leaf());
  EXPECT_TRUE(fc->weight.requires_grad());
  EXPECT_EQ(fc->weight.grad_fn(), nullptr);
  // A parameter registered from a computed tensor becomes a new leaf (like nn.Parameter(t)).
  Tensor a = ones({2});
  a.set_requires_grad(true);
  struct M : nn::Module {
    explicit M(const Tensor& t) { p = register_parameter("p", t * 2.0); }
    Tensor p;
  };
  M m(a);
  EXPECT_TRUE(m.p.is_leaf());
  EXPECT_TRUE(m.p.requires_grad());
}

}  // namespace
}  // namespace tinytorch
