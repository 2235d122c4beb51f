// The activations libtorch has past module 02's: softplus, elu, selu, celu, hardtanh, relu6,
// mish, hardswish, hardsigmoid (nn/functional/activation.h), their modules, and the inplace
// options of ReLU, LeakyReLU and the rest. Values and gradients against PyTorch
// (tests/data/libtorch_ops_reference.json, group "activation"), float64 gradchecks and
// gradgradchecks (module 05), in-place semantics, the errors.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/op_cases.h"
#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

namespace F = nn::functional;
using test::json;

double arg(const json& args, const char* key, double fallback) {
  return args.contains(key) ? args.at(key).get<double>() : fallback;
}

// Through the libtorch functional forms with their options (the reference's args are their
// option names).
std::vector<Tensor> run_activation(const std::string& op, const std::vector<Tensor>& in,
                                   const json& args) {
  const Tensor& x = in.at(0);
  if (op == "softplus") {
    return {F::softplus(x, F::SoftplusFuncOptions()
                               .beta(arg(args, "beta", 1.0))
                               .threshold(arg(args, "threshold", 20.0)))};
  }
  if (op == "elu") return {F::elu(x, F::ELUFuncOptions().alpha(arg(args, "alpha", 1.0)))};
  if (op == "selu") return {F::selu(x)};
  if (op == "celu") return {F::celu(x, F::CELUFuncOptions().alpha(arg(args, "alpha", 1.0)))};
  if (op == "hardtanh") {
    return {F::hardtanh(x, F::HardtanhFuncOptions()
                               .min_val(arg(args, "min_val", -1.0))
                               .max_val(arg(args, "max_val", 1.0)))};
  }
  if (op == "relu6") return {F::relu6(x)};
  if (op == "mish") return {F::mish(x)};
  if (op == "hardswish") return {hardswish(x)};
  if (op == "hardsigmoid") return {hardsigmoid(x)};
  throw std::runtime_error("unknown op " + op);
}

TEST(LibtorchActivationsReference, MatchPyTorch) {
  test::check_op_cases("activation", run_activation);
}

// ── gradients (float64 gradcheck and gradgradcheck) ────────────────────────────────────────────

struct GradCase {
  const char* name;
  std::function<Tensor(const Tensor&)> f;
};

// Inputs in about [−5, 5] (× 2.5 a standard normal), away from the kinks: the finite differences
// of gradcheck straddle no corner. A view of the leaf goes in, so the in-place forms may write it.
std::vector<GradCase> grad_cases() {
  return {
      {"softplus", [](const Tensor& t) { return softplus(t); }},
      {"softplus_beta_threshold", [](const Tensor& t) { return softplus(t, 2.0, 3.0); }},
      {"elu", [](const Tensor& t) { return F::elu(t, F::ELUFuncOptions().alpha(0.7)); }},
      {"selu", [](const Tensor& t) { return selu(t); }},
      {"celu", [](const Tensor& t) { return celu(t, 1.5); }},
      {"hardtanh", [](const Tensor& t) { return hardtanh(t, -2.0, 2.5) * t; }},
      {"relu6", [](const Tensor& t) { return relu6(t) * t; }},
      {"mish", [](const Tensor& t) { return mish(t); }},
      {"hardswish", [](const Tensor& t) { return hardswish(t); }},
      {"hardsigmoid", [](const Tensor& t) { return hardsigmoid(t) * t; }},
      {"inplace",
       [](const Tensor& t) {
         Tensor y = t * 1.0;  // a non-leaf: the in-place forms may write it
         F::elu(y, F::ELUFuncOptions().inplace(true));
         F::leaky_relu(y, F::LeakyReLUFuncOptions().negative_slope(0.3).inplace(true));
         F::hardtanh(y, F::HardtanhFuncOptions().min_val(-4).max_val(4.5).inplace(true));
         return F::selu(y * y, true);
       }},
  };
}

Tensor grad_input(uint64_t seed) {
  Generator gen(seed);
  // Shifted off the kinks: no element within 0.05 of 0, ±3 (hardswish), −2, 2.5, 6, ±4, 4.5.
  Tensor x = randn({3, 4}, kFloat64, &gen) * 2.5;
  for (double kink : {0.0, 3.0, -3.0, -2.0, 2.5, 6.0, 4.0, -4.0, 4.5, 1.5}) {
    x = where((x - kink).abs() < 0.05, x + 0.1, x);
  }
  return x;
}

TEST(LibtorchActivationsGradcheck, Float64) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = grad_input(40);
  for (const GradCase& c : grad_cases()) {
    SCOPED_TRACE(c.name);
    const Tensor leaf = x.clone().requires_grad_();
    const auto result =
        autograd::gradcheck([&](const std::vector<Tensor>& in) { return c.f(in[0]); }, {leaf});
    EXPECT_TRUE(result.ok) << result.message;
  }
}

TEST(LibtorchActivationsGradgradcheck, Float64) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = grad_input(42);
  for (const GradCase& c : grad_cases()) {
    SCOPED_TRACE(c.name);
    manual_seed(7);
    const Tensor leaf = x.clone().requires_grad_();
    const auto result =
        autograd::gradgradcheck([&](const std::vector<Tensor>& in) { return c.f(in[0]); }, {leaf});
    EXPECT_TRUE(result.ok) << result.message;
  }
}

TEST(LibtorchActivations, LargeInputsGiveFiniteGradients) {
  // The branch not taken is computed on a clamped input, so e^x never overflows into
  // 0 · inf = NaN on the way back (float32 overflows at x ≈ 89).
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (const auto& f : std::vector<std::function<Tensor(const Tensor&)>>{
           [](const Tensor& t) { return softplus(t); }, [](const Tensor& t) { return elu(t); },
           [](const Tensor& t) { return selu(t); }, [](const Tensor& t) { return mish(t); }}) {
    const Tensor x = tensor({-1000.0f, -100.0f, 100.0f, 1000.0f}).requires_grad_();
    f(x).sum().backward();
    EXPECT_TRUE(x.grad().isfinite().all().item<bool>()) << x.grad();
  }
}

// ── in place ───────────────────────────────────────────────────────────────────────────────────

TEST(LibtorchActivations, InplaceWritesTheInputAndMatchesOutOfPlace) {
  const Tensor x = tensor({-2.5, -0.5, 0.0, 0.75, 4.0, 7.0}, kFloat64);
  const std::vector<std::pair<const char*, std::function<Tensor(Tensor, bool)>>> forms = {
      {"relu", [](Tensor t, bool in) { return F::relu(t, F::ReLUFuncOptions(in)); }},
      {"leaky_relu",
       [](Tensor t, bool in) {
         return F::leaky_relu(t, F::LeakyReLUFuncOptions().negative_slope(0.2).inplace(in));
       }},
      {"relu6", [](Tensor t, bool in) { return F::relu6(t, in); }},
      {"elu", [](Tensor t, bool in) { return F::elu(t, F::ELUFuncOptions().inplace(in)); }},
      {"selu", [](Tensor t, bool in) { return F::selu(t, in); }},
      {"celu", [](Tensor t, bool in) { return F::celu(t, F::CELUFuncOptions().inplace(in)); }},
      {"hardtanh",
       [](Tensor t, bool in) { return F::hardtanh(t, F::HardtanhFuncOptions().inplace(in)); }},
  };
  for (const auto& [name, f] : forms) {
    SCOPED_TRACE(name);
    const Tensor expected = f(x, false);
    EXPECT_FALSE(expected.is_alias_of(x));
    Tensor y = x.clone();
    const Tensor out = f(y, true);
    EXPECT_TRUE(out.is_alias_of(y)) << "the in-place form returns its input";
    EXPECT_TRUE(allclose(y, expected, 0, 0)) << y << expected;
  }
  // The modules too: nn::ReLU(true) writes its input.
  Tensor y = x.clone();
  nn::ReLU(true)(y);
  EXPECT_TRUE(allclose(y, x.relu(), 0, 0));
  y = x.clone();
  nn::ELU(nn::ELUOptions().alpha(0.5).inplace(true))(y);
  EXPECT_TRUE(allclose(y, elu(x, 0.5), 0, 0));
}

TEST(LibtorchActivations, InplaceRecordsLikeTheBuiltinInPlaceOps) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  // A leaf that requires grad cannot be written (as PyTorch refuses elu_ on one).
  Tensor leaf = tensor({-1.0, 2.0}, kFloat64).requires_grad_();
  EXPECT_THROW(F::elu(leaf, F::ELUFuncOptions().inplace(true)), Error);
  // On a non-leaf, the gradient is the out-of-place form's.
  const Tensor a = tensor({-1.5, -0.25, 0.5, 2.0}, kFloat64).requires_grad_();
  Tensor h = a * 2.0;
  F::celu(h, F::CELUFuncOptions().alpha(0.5).inplace(true));
  h.sum().backward();
  const Tensor b = a.detach().clone().requires_grad_();
  celu(b * 2.0, 0.5).sum().backward();
  EXPECT_TRUE(allclose(a.grad(), b.grad(), 1e-14, 1e-14)) << a.grad() << b.grad();
}

// ── options, modules, errors ───────────────────────────────────────────────────────────────────

TEST(LibtorchActivations, OptionDefaultsAreLibtorchs) {
  EXPECT_FALSE(nn::ReLUOptions().inplace());
  EXPECT_EQ(nn::LeakyReLUOptions().negative_slope(), 0.01);
  EXPECT_FALSE(nn::LeakyReLUOptions().inplace());
  EXPECT_EQ(nn::ELUOptions().alpha(), 1.0);
  EXPECT_EQ(nn::CELUOptions().alpha(), 1.0);
  EXPECT_EQ(nn::HardtanhOptions().min_val(), -1.0);
  EXPECT_EQ(nn::HardtanhOptions().max_val(), 1.0);
  EXPECT_EQ(nn::SoftplusOptions().beta(), 1.0);
  EXPECT_EQ(nn::SoftplusOptions().threshold(), 20.0);
  EXPECT_FALSE(nn::SELUOptions().inplace());
  EXPECT_FALSE(nn::ReLU6Options().inplace());
}

TEST(LibtorchActivations, ModulesCallTheirFunctions) {
  const Tensor x = tensor({-4.0, -3.0, -1.0, 0.0, 0.5, 3.0, 7.0}, kFloat64);
  auto same = [](const Tensor& a, const Tensor& b) { return allclose(a, b, 0, 0); };
  EXPECT_TRUE(same(nn::ReLU6()(x), relu6(x)));
  EXPECT_TRUE(same(nn::ELU(nn::ELUOptions().alpha(0.3))(x), elu(x, 0.3)));
  EXPECT_TRUE(same(nn::SELU()(x), selu(x)));
  EXPECT_TRUE(same(nn::CELU(nn::CELUOptions().alpha(2.0))(x), celu(x, 2.0)));
  EXPECT_TRUE(
      same(nn::Hardtanh(nn::HardtanhOptions().min_val(0).max_val(2))(x), hardtanh(x, 0, 2)));
  EXPECT_TRUE(same(nn::Softplus(nn::SoftplusOptions().beta(2).threshold(5))(x), softplus(x, 2, 5)));
  EXPECT_TRUE(same(nn::Mish()(x), mish(x)));
  EXPECT_TRUE(same(nn::Hardswish()(x), hardswish(x)));
  EXPECT_TRUE(same(nn::Hardsigmoid()(x), hardsigmoid(x)));
  EXPECT_TRUE(same(nn::LeakyReLU(nn::LeakyReLUOptions(0.2))(x), leaky_relu(x, 0.2)));
  EXPECT_TRUE(same(nn::Sequential(nn::ReLU6(), nn::ELU(), nn::Softplus())->forward(x),
                   softplus(elu(relu6(x)))));
}

TEST(LibtorchActivations, ErrorsNameTheArgument) {
  TT_EXPECT_THROW_WITH(celu(tensor({1.0}), 0.0), ValueError, "alpha must not be 0");
  TT_EXPECT_THROW_WITH(nn::Hardtanh(nn::HardtanhOptions().min_val(1).max_val(1)), ValueError,
                       "max_val must be greater than min_val, but got min_val=1, max_val=1");
  EXPECT_THROW(softplus(tensor({1, 2})), Error) << "integer input";
}

}  // namespace
}  // namespace tinytorch
