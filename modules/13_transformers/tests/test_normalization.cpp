// Module 13 — LayerNorm and RMSNorm: the native kernels and F::layer_norm / F::rms_norm against
// PyTorch (tests/data/module13_norm_reference.json, tools/reference/gen_module13_norm.py): outputs
// and the gradients of input, weight and bias; float64 gradchecks over several normalized_shape
// ranks; the row statistics; nn::LayerNorm / nn::RMSNorm (parameters, printing, train = eval);
// the argument checks. The gradient tests through autograd need module 05.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/native/normalization.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

namespace F = tinytorch::nn::functional;
using test::json;

const json& norm_cases() {
  return test::load_reference("module13_norm_reference.json").at("cases");
}

Tensor optional_tensor(const json& c, const char* key) {
  return c.at(key).is_null() ? Tensor() : test::tensor_from_json(c.at(key));
}

Tensor random(IntArrayRef shape, uint64_t seed, ScalarType dtype = kFloat64) {
  Generator gen(seed);
  return randn(shape, dtype, &gen);
}

// Float32 cases to a few float ulps of the row's scale, float64 ones to ~1e-10.
double rtol_for(const Tensor& t) {
  return t.dtype() == kFloat64 ? 1e-9 : 1e-4;
}
// ...and never tighter than the input's own rounding allows: a value x is known to ±ulp(x), so
// x̂ = (x − mean)/std to about ε·max|x|/std — 1e-4 for float32 rows around 1000 with std 0.7,
// where PyTorch's float32 accumulation and our double one legitimately differ that much.
double atol_for(const Tensor& t) {
  const Tensor x = t.to(kFloat64);
  const double spread = std::sqrt(x.var().item<double>());
  const double largest = x.abs().max().item<double>();
  const double eps = t.dtype() == kFloat64 ? std::numeric_limits<double>::epsilon()
                                           : std::numeric_limits<float>::epsilon();
  const double conditioned = spread > 0 ? 8 * eps * largest / spread : 0.0;
  return std::max(t.dtype() == kFloat64 ? 1e-10 : 1e-4, conditioned);
}

std::optional<double> eps_of(const json& c) {
  return c.at("eps").is_null() ? std::nullopt : std::optional<double>(c.at("eps").get<double>());
}

// ── the native kernels against PyTorch (no autograd needed) ───────────────────────────────────

TEST(LayerNormReference, NativeForwardAndBackwardMatchPyTorch) {
  int n = 0;
  for (const json& c : norm_cases()) {
    if (c.at("op") != "layer_norm") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const Tensor x = test::tensor_from_json(c.at("input"));
    const Tensor w = optional_tensor(c, "weight"), b = optional_tensor(c, "bias");
    const std::vector<int64_t> shape = test::int_list(c.at("normalized_shape"));
    auto [y, mean, rstd] = native::native_layer_norm(x, shape, w, b, c.at("eps").get<double>());
    EXPECT_TRUE(test::tensors_match(y, c.at("output"), rtol_for(x), atol_for(x))) << "output";
    auto [gx, gw, gb] =
        native::native_layer_norm_backward(test::tensor_from_json(c.at("grad_output")), x, shape,
                                           mean, rstd, w, b, {true, true, true});
    EXPECT_TRUE(test::tensors_match(gx, c.at("grad_input"), rtol_for(x), atol_for(x)));
    EXPECT_EQ(gw.defined(), w.defined());
    EXPECT_EQ(gb.defined(), b.defined());
    if (w.defined()) {
      EXPECT_TRUE(test::tensors_match(gw, c.at("grad_weight"), rtol_for(x), atol_for(x)));
      EXPECT_TRUE(test::tensors_match(gb, c.at("grad_bias"), rtol_for(x), atol_for(x)));
    }
    ++n;
  }
  EXPECT_GE(n, 10);
}

TEST(RMSNormReference, NativeForwardAndBackwardMatchPyTorch) {
  int n = 0;
  for (const json& c : norm_cases()) {
    if (c.at("op") != "rms_norm") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const Tensor x = test::tensor_from_json(c.at("input"));
    const Tensor w = optional_tensor(c, "weight");
    const std::vector<int64_t> shape = test::int_list(c.at("normalized_shape"));
    const double eps =
        eps_of(c).value_or(x.dtype() == kFloat64 ? std::numeric_limits<double>::epsilon()
                                                 : std::numeric_limits<float>::epsilon());
    auto [y, rstd] = native::native_rms_norm(x, shape, w, eps);
    EXPECT_TRUE(test::tensors_match(y, c.at("output"), rtol_for(x), atol_for(x))) << "output";
    auto [gx, gw] = native::native_rms_norm_backward(test::tensor_from_json(c.at("grad_output")), x,
                                                     shape, rstd, w, {true, true});
    EXPECT_TRUE(test::tensors_match(gx, c.at("grad_input"), rtol_for(x), atol_for(x)));
    EXPECT_EQ(gw.defined(), w.defined());
    if (w.defined()) {
      EXPECT_TRUE(test::tensors_match(gw, c.at("grad_weight"), rtol_for(x), atol_for(x)));
    }
    ++n;
  }
  EXPECT_GE(n, 10);
}

// The saved statistics are the row's: mean and 1/√(var + eps), float64 [M].
TEST(LayerNormKernel, SavesEachRowsMeanAndRstd) {
  const Tensor x = tensor({{1.0, 2.0, 3.0, 4.0}, {-2.0, -2.0, 2.0, 2.0}, {5.0, 5.0, 5.0, 5.0}});
  auto [y, mean, rstd] = native::native_layer_norm(x.to(kFloat32), {4}, Tensor(), Tensor(), 1e-5);
  EXPECT_EQ(mean.dtype(), kFloat64);
  EXPECT_EQ(mean.sizes(), IntArrayRef({3}));
  EXPECT_EQ(mean.to_vector<double>(), (std::vector<double>{2.5, 0.0, 5.0}));
  const std::vector<double> r = rstd.to_vector<double>();
  EXPECT_NEAR(r[0], 1.0 / std::sqrt(1.25 + 1e-5), 1e-12);
  EXPECT_NEAR(r[1], 1.0 / std::sqrt(4.0 + 1e-5), 1e-12);
  EXPECT_NEAR(r[2], 1.0 / std::sqrt(1e-5), 1e-6);  // a constant row: only eps is left
  // The constant row normalises to zeros, not NaN.
  for (float v : y.select(0, 2).to_vector<float>()) EXPECT_EQ(v, 0.0f);
}

// Every row of the output has mean 0 and variance 1 (up to eps), whatever the row's offset and
// scale — including rows whose mean is 10⁴ times their spread, where E[x²] − E[x]² would cancel.
TEST(LayerNormKernel, RowsHaveZeroMeanAndUnitVarianceEvenFarFromZero) {
  for (double offset : {0.0, 1e4}) {
    SCOPED_TRACE("offset " + std::to_string(offset));
    const Tensor x = random({6, 7, 64}, 3, kFloat32).mul(3.0).add(offset);
    const Tensor y = layer_norm(x, {64}, Tensor(), Tensor(), 0.0);
    const Tensor m = y.to(kFloat64).mean({-1}), v = y.to(kFloat64).var({-1}, false);
    for (double mu : m.reshape({-1}).to_vector<double>()) EXPECT_NEAR(mu, 0.0, 1e-3);
    for (double var : v.reshape({-1}).to_vector<double>()) EXPECT_NEAR(var, 1.0, 1e-2);
  }
}

// ── through autograd ──────────────────────────────────────────────────────────────────────────

TEST(LayerNormReference, GradientsThroughAutogradMatchPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (const json& c : norm_cases()) {
    if (c.at("op") != "layer_norm" && c.at("op") != "rms_norm") continue;
    const bool ln = c.at("op") == "layer_norm";
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const Tensor x = test::tensor_from_json(c.at("input")).requires_grad_();
    Tensor w = optional_tensor(c, "weight");
    Tensor b = ln ? optional_tensor(c, "bias") : Tensor();
    if (w.defined()) w.requires_grad_();
    if (b.defined()) b.requires_grad_();
    const std::vector<int64_t> shape = test::int_list(c.at("normalized_shape"));
    const Tensor y =
        ln ? F::layer_norm(
                 x, F::LayerNormFuncOptions(shape).weight(w).bias(b).eps(c.at("eps").get<double>()))
           : F::rms_norm(x, F::RMSNormFuncOptions(shape).weight(w).eps(eps_of(c)));
    EXPECT_EQ(y.grad_fn()->name(), ln ? "NativeLayerNormBackward0" : "RmsNormBackward0");
    EXPECT_TRUE(test::tensors_match(y, c.at("output"), rtol_for(x), atol_for(x)));
    y.backward(test::tensor_from_json(c.at("grad_output")));
    EXPECT_TRUE(test::tensors_match(x.grad(), c.at("grad_input"), rtol_for(x), atol_for(x)));
    if (w.defined()) {
      EXPECT_TRUE(test::tensors_match(w.grad(), c.at("grad_weight"), rtol_for(x), atol_for(x)));
    }
    if (b.defined()) {
      EXPECT_TRUE(test::tensors_match(b.grad(), c.at("grad_bias"), rtol_for(x), atol_for(x)));
    }
  }
}

// ── float64 gradchecks: input, weight, bias; normalized_shape of rank 1, 2 and 3 ──────────────

struct NormShape {
  std::vector<int64_t> input, normalized;
};
const std::vector<NormShape>& gradcheck_shapes() {
  static const std::vector<NormShape> shapes = {
      {{3, 5}, {5}}, {{2, 3, 4}, {4}}, {{2, 3, 4}, {3, 4}}, {{2, 2, 3, 2}, {2, 3, 2}}, {{7}, {7}}};
  return shapes;
}

TEST(LayerNormGradcheck, InputWeightBiasOverSeveralNormalizedRanks) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (const NormShape& s : gradcheck_shapes()) {
    SCOPED_TRACE("input " + test::shape_str(s.input) + ", normalized " +
                 test::shape_str(s.normalized));
    const Tensor x = random(s.input, 10).mul(2.0).add(0.5).requires_grad_();
    const Tensor w = random(s.normalized, 11).add(1.0).requires_grad_();
    const Tensor b = random(s.normalized, 12).requires_grad_();
    const std::vector<int64_t> ns = s.normalized;
    const auto r = autograd::gradcheck(
        [&ns](const std::vector<Tensor>& in) { return layer_norm(in[0], ns, in[1], in[2], 1e-5); },
        {x, w, b});
    EXPECT_TRUE(r.ok) << r.message;
  }
}

TEST(LayerNormGradcheck, WithoutAffineAndWeightOnly) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 6}, 20).requires_grad_();
  const auto plain = autograd::gradcheck(
      [](const std::vector<Tensor>& in) { return layer_norm(in[0], {6}); }, {x});
  EXPECT_TRUE(plain.ok) << plain.message;
  const Tensor w = random({6}, 21).requires_grad_();
  const auto weight_only = autograd::gradcheck(
      [](const std::vector<Tensor>& in) { return layer_norm(in[0], {6}, in[1]); }, {x, w});
  EXPECT_TRUE(weight_only.ok) << weight_only.message;
}

TEST(RMSNormGradcheck, InputWeightOverSeveralNormalizedRanks) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (const NormShape& s : gradcheck_shapes()) {
    SCOPED_TRACE("input " + test::shape_str(s.input) + ", normalized " +
                 test::shape_str(s.normalized));
    const Tensor x = random(s.input, 30).requires_grad_();
    const Tensor w = random(s.normalized, 31).add(1.0).requires_grad_();
    const std::vector<int64_t> ns = s.normalized;
    const auto r = autograd::gradcheck(
        [&ns](const std::vector<Tensor>& in) { return rms_norm(in[0], ns, in[1], 1e-6); }, {x, w});
    EXPECT_TRUE(r.ok) << r.message;
    const auto plain = autograd::gradcheck(
        [&ns](const std::vector<Tensor>& in) { return rms_norm(in[0], ns); }, {x});
    EXPECT_TRUE(plain.ok) << plain.message;
  }
}

// ── the modules ───────────────────────────────────────────────────────────────────────────────

TEST(LayerNormModule, OnesAndZerosParametersNoBuffersAndTheFunctionalsOutput) {
  nn::LayerNorm ln(nn::LayerNormOptions({8}));
  const auto params = ln->named_parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params.keys(), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_TRUE(ln->weight.equal(ones({8})));
  EXPECT_TRUE(ln->bias.equal(zeros({8})));
  EXPECT_TRUE(ln->weight.requires_grad());
  EXPECT_EQ(ln->named_buffers().size(), 0u);
  const Tensor x = random({2, 3, 8}, 40, kFloat32);
  {
    const NoGradGuard no_grad;
    ln->weight.copy_(random({8}, 41, kFloat32));
    ln->bias.copy_(random({8}, 42, kFloat32));
  }
  const Tensor expected = layer_norm(x, {8}, ln->weight, ln->bias, 1e-5);
  EXPECT_TRUE(ln->forward(x).equal(expected));
  ln->eval();  // no statistics are tracked: eval() changes nothing
  EXPECT_TRUE(ln->forward(x).equal(expected));
}

TEST(LayerNormModule, WithoutElementwiseAffineHasNoParameters) {
  nn::LayerNorm ln(nn::LayerNormOptions({3, 4}).elementwise_affine(false).eps(1e-3));
  EXPECT_EQ(ln->parameters().size(), 0u);
  EXPECT_FALSE(ln->weight.defined());
  const Tensor x = random({2, 3, 4}, 50, kFloat32);
  EXPECT_TRUE(ln->forward(x).equal(layer_norm(x, {3, 4}, Tensor(), Tensor(), 1e-3)));
}

TEST(LayerNormModule, Float64ParametersAndInput) {
  nn::LayerNorm ln(nn::LayerNormOptions({5}).dtype(kFloat64));
  EXPECT_EQ(ln->weight.dtype(), kFloat64);
  EXPECT_EQ(ln->forward(random({2, 5}, 51)).dtype(), kFloat64);
}

TEST(RMSNormModule, OnesWeightAndTheFunctionalsOutput) {
  nn::RMSNorm rms(nn::RMSNormOptions({8}).eps(1e-6));
  EXPECT_EQ(rms->named_parameters().keys(), (std::vector<std::string>{"weight"}));
  EXPECT_TRUE(rms->weight.equal(ones({8})));
  const Tensor x = random({4, 8}, 60, kFloat32);
  EXPECT_TRUE(rms->forward(x).equal(rms_norm(x, {8}, rms->weight, 1e-6)));
  nn::RMSNorm plain(nn::RMSNormOptions({8}).elementwise_affine(false));
  EXPECT_EQ(plain->parameters().size(), 0u);
  // eps = nullopt is float32's machine epsilon for a float32 input.
  EXPECT_TRUE(plain->forward(x).equal(rms_norm(x, {8}, Tensor(), 1.1920928955078125e-07)));
}

TEST(NormModules, PrintLikePyTorch) {
  int checked = 0;
  for (const json& c : norm_cases()) {
    if (c.at("op") != "repr") continue;
    const std::string name = c.at("name");
    std::shared_ptr<nn::Module> m;
    if (name == "repr_layernorm_128") {
      m = nn::LayerNorm(nn::LayerNormOptions({128})).ptr();
    } else if (name == "repr_layernorm_two_dims") {
      m = nn::LayerNorm(nn::LayerNormOptions({4, 8}).eps(1e-6).elementwise_affine(false)).ptr();
    } else {
      ADD_FAILURE() << "no C++ module for reference case " << name;
      continue;
    }
    std::ostringstream os;
    os << *m;
    EXPECT_EQ(os.str(), c.at("expected").get<std::string>()) << name;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
  // torch 1.13 has no RMSNorm: 2.4's repr, "RMSNorm((8,), eps=None, elementwise_affine=True)".
  std::ostringstream os;
  os << *nn::RMSNorm(nn::RMSNormOptions({8})).ptr() << " | "
     << *nn::RMSNorm(nn::RMSNormOptions({2, 3}).eps(1e-6)).ptr();
  EXPECT_EQ(os.str(),
            "RMSNorm((8,), eps=None, elementwise_affine=true) | "
            "RMSNorm((2, 3), eps=1e-06, elementwise_affine=true)");
}

// ── the argument checks ───────────────────────────────────────────────────────────────────────

TEST(NormErrors, InputMustEndWithNormalizedShape) {
  const Tensor x = zeros({2, 3});
  TT_EXPECT_THROW_WITH(layer_norm(x, {4}), Error, "layer_norm",
                       "given normalized_shape=[4], expected input with shape [*, 4]",
                       "but got input of size [2, 3]");
  TT_EXPECT_THROW_WITH(rms_norm(x, {2, 3, 1}), Error, "rms_norm",
                       "expected input with shape [*, 2, 3, 1]");
  nn::LayerNorm ln(nn::LayerNormOptions({8}));
  TT_EXPECT_THROW_WITH(ln->forward(zeros({2, 8, 3})), Error, "expected input with shape [*, 8]");
}

TEST(NormErrors, WeightAndBiasMustHaveTheNormalizedShapeAndDtype) {
  const Tensor x = zeros({2, 4});
  TT_EXPECT_THROW_WITH(layer_norm(x, {4}, ones({3})), Error, "layer_norm",
                       "expected weight to have the shape of normalized_shape = [4]",
                       "weight of shape [3]");
  TT_EXPECT_THROW_WITH(layer_norm(x, {4}, ones({4}), ones({2, 2})), Error,
                       "expected bias to have the shape", "bias of shape [2, 2]");
  TT_EXPECT_THROW_WITH(rms_norm(x, {4}, ones({4}, kFloat64)), TypeError, "rms_norm", "mixed dtype",
                       "float64");
}

TEST(NormErrors, IntegerInputEmptyShapeAndBadOptions) {
  TT_EXPECT_THROW_WITH(layer_norm(zeros({2, 4}, kInt64), {4}), TypeError, "layer_norm",
                       "expected a floating-point input", "int64");
  TT_EXPECT_THROW_WITH(layer_norm(zeros({2, 4}), {}), ValueError,
                       "normalized_shape must name at least one");
  TT_EXPECT_THROW_WITH(nn::LayerNorm(nn::LayerNormOptions({4, 0})), ValueError, "LayerNorm",
                       "normalized_shape must be positive sizes", "[4, 0]");
  TT_EXPECT_THROW_WITH(nn::RMSNorm(nn::RMSNormOptions({4}).dtype(kInt64)), TypeError, "RMSNorm",
                       "floating-point dtype");
}

TEST(NormErrors, BackwardChecksItsSavedStatistics) {
  const Tensor x = random({3, 4}, 70);
  TT_EXPECT_THROW_WITH(native::native_layer_norm_backward(
                           zeros({3, 4}, kFloat64), x, {4}, zeros({2}, kFloat64),
                           zeros({2}, kFloat64), Tensor(), Tensor(), {true, false, false}),
                       Error, "native_layer_norm_backward", "float64 [3]");
  TT_EXPECT_THROW_WITH(
      native::native_rms_norm_backward(zeros({4, 3}, kFloat64), x, {4}, zeros({3}, kFloat64),
                                       Tensor(), {true, false}),
      Error, "grad_output must have the input's shape [3, 4]");
}

}  // namespace
}  // namespace tinytorch
