// Module 02 through the public, differentiable API (tinytorch::relu, Tensor::softmax,
// nn::functional::gelu, …): the same values as the native kernels, gradients that pass a float64
// gradcheck for every activation, and gradients equal to PyTorch's on the reference cases. These
// tests need module 05 (autograd): before it, they fail with its NotImplementedError.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

namespace F = tinytorch::nn::functional;
using test::json;
using UnaryFn = std::function<Tensor(const Tensor&)>;

Tensor random_input(IntArrayRef shape, uint64_t seed, double scale = 1.5) {
  Generator gen(seed);
  return randn(shape, kFloat64, &gen).mul(scale);
}

struct Op {
  std::string name;
  UnaryFn f;
};

std::vector<Op> public_ops() {
  return {
      {"relu", [](const Tensor& x) { return relu(x); }},
      {"Tensor::relu", [](const Tensor& x) { return x.relu(); }},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.1); }},
      {"F::leaky_relu default", [](const Tensor& x) { return F::leaky_relu(x); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
      {"Tensor::sigmoid", [](const Tensor& x) { return x.sigmoid(); }},
      {"tanh", [](const Tensor& x) { return tinytorch::tanh(x); }},
      {"Tensor::tanh", [](const Tensor& x) { return x.tanh(); }},
      {"gelu", [](const Tensor& x) { return gelu(x); }},
      {"gelu tanh", [](const Tensor& x) { return F::gelu(x, "tanh"); }},
      {"silu", [](const Tensor& x) { return silu(x); }},
      {"softmax dim 1", [](const Tensor& x) { return softmax(x, 1); }},
      {"softmax dim 0", [](const Tensor& x) { return x.softmax(0); }},
      {"log_softmax dim -1", [](const Tensor& x) { return log_softmax(x, -1); }},
      {"log_softmax dim 0", [](const Tensor& x) { return x.log_softmax(0); }},
  };
}

std::vector<Op> native_twins() {
  return {
      {"relu", [](const Tensor& x) { return native::relu(x); }},
      {"Tensor::relu", [](const Tensor& x) { return native::relu(x); }},
      {"leaky_relu", [](const Tensor& x) { return native::leaky_relu(x, 0.1); }},
      {"F::leaky_relu default", [](const Tensor& x) { return native::leaky_relu(x, 0.01); }},
      {"sigmoid", [](const Tensor& x) { return native::sigmoid(x); }},
      {"Tensor::sigmoid", [](const Tensor& x) { return native::sigmoid(x); }},
      {"tanh", [](const Tensor& x) { return native::tanh(x); }},
      {"Tensor::tanh", [](const Tensor& x) { return native::tanh(x); }},
      {"gelu", [](const Tensor& x) { return native::gelu(x, "none"); }},
      {"gelu tanh", [](const Tensor& x) { return native::gelu(x, "tanh"); }},
      {"silu", [](const Tensor& x) { return native::silu(x); }},
      {"softmax dim 1", [](const Tensor& x) { return native::softmax(x, 1); }},
      {"softmax dim 0", [](const Tensor& x) { return native::softmax(x, 0); }},
      {"log_softmax dim -1", [](const Tensor& x) { return native::log_softmax(x, -1); }},
      {"log_softmax dim 0", [](const Tensor& x) { return native::log_softmax(x, 0); }},
  };
}

TEST(PublicApi, SameValuesAsTheNativeKernels) {
  const Tensor x = random_input({3, 5}, 1).to(kFloat32);
  const auto pub = public_ops();
  const auto nat = native_twins();
  ASSERT_EQ(pub.size(), nat.size());
  for (size_t i = 0; i < pub.size(); ++i) {
    SCOPED_TRACE(pub[i].name);
    EXPECT_TRUE(test::tensors_match(pub[i].f(x), nat[i].f(x), 0, 0));
  }
}

TEST(PublicApi, GradcheckEveryActivationInFloat64) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  Tensor x = random_input({3, 4}, 2);
  {
    // Move values that sit within 0.05 of relu's kink out of it.
    NoGradGuard no_grad;
    x = where(x.abs() < 0.05, x + 0.1, x);
  }
  for (const auto& op : public_ops()) {
    SCOPED_TRACE(op.name);
    const Tensor leaf = x.clone().requires_grad_();
    const auto result =
        autograd::gradcheck([&](const std::vector<Tensor>& in) { return op.f(in[0]); }, {leaf});
    EXPECT_TRUE(result.ok) << result.message;
  }
}

TEST(PublicApi, GradcheckOnNonContiguousInputs) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor base = random_input({4, 3}, 3).requires_grad_();
  for (const auto& op : public_ops()) {
    SCOPED_TRACE(op.name);
    if (op.name.find("relu") != std::string::npos) continue;  // kinks: covered above
    const auto result =
        autograd::gradcheck([&](const std::vector<Tensor>& in) { return op.f(in[0].t()); }, {base});
    EXPECT_TRUE(result.ok) << result.message;
  }
}

TEST(PublicApi, GradcheckCanFail) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  // A function whose backward is deliberately wrong (a detached factor) must be caught.
  const Tensor x = random_input({3}, 4).requires_grad_();
  const auto result = autograd::gradcheck(
      [](const std::vector<Tensor>& in) { return sigmoid(in[0]) * sigmoid(in[0]).detach(); }, {x});
  EXPECT_FALSE(result.ok);
}

TEST(PublicApi, GradientsMatchPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  // The reference cases with a grad_output: x.requires_grad_(), y = op(x), y.backward(g).
  int n = 0;
  for (const auto& c : test::load_reference("module02_reference.json").at("cases")) {
    if (!c.contains("expected_grad")) continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const json& args = c.at("args");
    const auto op = c.at("op").get<std::string>();
    const Tensor x = test::tensor_from_json(c.at("inputs").at(0)).detach().requires_grad_();
    Tensor y;
    if (op == "relu") y = relu(x);
    if (op == "leaky_relu") y = leaky_relu(x, args.at("negative_slope").get<double>());
    if (op == "sigmoid") y = sigmoid(x);
    if (op == "tanh") y = tinytorch::tanh(x);
    if (op == "gelu") y = gelu(x, args.at("approximate").get<std::string>());
    if (op == "silu") y = silu(x);
    if (op == "softmax") y = softmax(x, args.at("dim").get<int64_t>());
    if (op == "log_softmax") y = log_softmax(x, args.at("dim").get<int64_t>());
    ASSERT_TRUE(y.defined()) << op;
    y.backward(test::tensor_from_json(c.at("grad_output")));
    const bool f64 = x.dtype() == kFloat64;
    EXPECT_TRUE(test::tensors_match(x.grad(), c.at("expected_grad"), f64 ? 1e-10 : 1e-5,
                                    f64 ? 1e-12 : 1e-6));
    ++n;
  }
  EXPECT_GT(n, 150);
}

TEST(PublicApi, NoGraphUnderNoGradGuard) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random_input({2, 3}, 5).requires_grad_();
  {
    NoGradGuard no_grad;
    for (const auto& op : public_ops()) EXPECT_FALSE(op.f(x).requires_grad()) << op.name;
  }
  for (const auto& op : public_ops()) EXPECT_TRUE(op.f(x).requires_grad()) << op.name;
}

}  // namespace
}  // namespace tinytorch
