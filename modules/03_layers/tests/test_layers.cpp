// Module 03 — the layers (Parts 2, 4 and 6): Linear (options, PyTorch's default init, forward
// against PyTorch with PyTorch's weights loaded through load_state_dict), Identity, Flatten,
// Dropout (statistics, scaling, eval identity, reproducibility), and the activation and loss
// modules (each must equal the function it wraps).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers_test_util.h"
#include "support/prerequisites.h"

namespace tinytorch {
namespace {

using I = std::vector<int64_t>;
using S = std::vector<std::string>;
using test::tensors_match;

// Sample mean and (biased) variance, in double.
struct Moments {
  double mean = 0, var = 0;
};
Moments moments(const Tensor& t) {
  const std::vector<double> v = test::values_as_double(t);
  Moments m;
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= static_cast<double>(v.size());
  return m;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (double x : test::values_as_double(t)) m = std::max(m, std::abs(x));
  return m;
}

TEST(Linear, ShapesOptionsAndParameters) {
  nn::Linear fc(784, 256);
  EXPECT_EQ(fc->name(), "Linear");
  EXPECT_EQ(fc->weight.sizes().vec(), (I{256, 784}));  // [out, in], as PyTorch
  EXPECT_EQ(fc->bias.sizes().vec(), (I{256}));
  EXPECT_EQ(fc->weight.dtype(), kFloat32);
  EXPECT_EQ(fc->named_parameters().keys(), (S{"weight", "bias"}));
  EXPECT_EQ(fc->options.in_features(), 784);
  EXPECT_EQ(fc->options.out_features(), 256);
  EXPECT_TRUE(fc->options.bias());
  EXPECT_EQ(fc(zeros({32, 784})).sizes().vec(), (I{32, 256}));
  EXPECT_EQ(fc(zeros({4, 5, 784})).sizes().vec(), (I{4, 5, 256}));

  nn::Linear no_bias(nn::LinearOptions(3, 2).bias(false));
  EXPECT_FALSE(no_bias->bias.defined());
  EXPECT_EQ(no_bias->named_parameters().keys(), S{"weight"});
  // Without a bias, the output is exactly x · Wᵀ.
  const Tensor x = tensor({{1.0, 2.0, 3.0}});
  EXPECT_TRUE(no_bias(x).allclose(matmul(x, no_bias->weight.t())));

  nn::Linear f64(nn::LinearOptions(3, 2).dtype(kFloat64));
  EXPECT_EQ(f64->weight.dtype(), kFloat64);
  EXPECT_EQ(f64->bias.dtype(), kFloat64);

  TT_EXPECT_THROW_WITH(nn::Linear(-1, 2), ValueError, "in_features", "-1");
  TT_EXPECT_THROW_WITH(nn::Linear(nn::LinearOptions(2, 2).dtype(kInt64)), TypeError, "int64");
  TT_EXPECT_THROW_WITH(fc(zeros({2, 100})), Error, "mat1 and mat2 shapes cannot be multiplied",
                       "2x100 and 784x256");
}

TEST(Linear, DefaultInitIsPyTorchs) {
  // kaiming_uniform_(a = √5) gives U(-1/√in, 1/√in) for the weight; the bias uses the same bound.
  // Tolerances are derived, not guessed: for n draws of U(-b, b) the sample mean has standard
  // deviation b/√(3n) and the sample variance (true value b²/3) has standard deviation
  // b²·√(4/(45n)); we allow 6 of them. PyTorch's own init of the same layer (measured by the
  // reference script) must lie within the same limits.
  manual_seed(0);
  for (const auto& c : test::module03_reference().at("init_bounds")) {
    const int64_t in = c.at("in_features").get<int64_t>(),
                  out = c.at("out_features").get<int64_t>();
    const double b = c.at("bound").get<double>();
    nn::Linear fc(in, out);
    EXPECT_LE(max_abs(fc->weight), b) << in << "->" << out;
    EXPECT_LE(max_abs(fc->bias), b) << in << "->" << out;
    // Nearly the whole range is used (the largest of n draws is within b·(1 − 10/n) of b
    // except with probability e^-10).
    const auto n = static_cast<double>(fc->weight.numel());
    EXPECT_GE(max_abs(fc->weight), b * (1.0 - 10.0 / n));
    const Moments m = moments(fc->weight);
    EXPECT_NEAR(m.mean, 0.0, 6.0 * b / std::sqrt(3.0 * n));
    const double var_tol = 6.0 * b * b * std::sqrt(4.0 / (45.0 * n));
    EXPECT_NEAR(m.var, b * b / 3.0, var_tol);
    const double torch_std = c.at("torch_weight_std").get<double>();
    EXPECT_NEAR(torch_std * torch_std, b * b / 3.0, var_tol) << "the reference data disagrees";
    EXPECT_LE(c.at("torch_max_abs_weight").get<double>(), b);
  }
}

TEST(Linear, InitIsReproducibleWithManualSeed) {
  manual_seed(123);
  nn::Linear a(10, 5);
  manual_seed(123);
  nn::Linear b(10, 5);
  EXPECT_TRUE(a->weight.equal(b->weight));
  EXPECT_TRUE(a->bias.equal(b->bias));
  nn::Linear c(10, 5);  // the generator moved on
  EXPECT_FALSE(a->weight.equal(c->weight));
  // reset_parameters() draws new values into the same tensors.
  const Tensor w = a->weight;
  const Tensor before = w.clone();
  a->reset_parameters();
  EXPECT_TRUE(a->weight.is_same(w));
  EXPECT_FALSE(w.equal(before));
}

TEST(Linear, EmptyFeatureCounts) {
  nn::Linear zero_in(0, 3);  // weight [3, 0]; the bias bound 1/√0 is taken as 0
  EXPECT_EQ(test::values_as_double(zero_in->bias), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(test::values_as_double(zero_in(zeros({2, 0}))), (std::vector<double>(6, 0.0)));
  nn::Linear zero_out(3, 0);
  EXPECT_EQ(zero_out(ones({2, 3})).sizes().vec(), (I{2, 0}));
}

TEST(Linear, ForwardMatchesPyTorch) {
  // Each case: PyTorch's weights loaded with load_state_dict, PyTorch's output expected.
  for (const auto& c : test::module03_reference().at("linear")) {
    const std::string name = c.at("name").get<std::string>();
    const ScalarType dt = test::parse_dtype(c.at("dtype").get<std::string>());
    nn::Linear fc(
        nn::LinearOptions(c.at("in_features").get<int64_t>(), c.at("out_features").get<int64_t>())
            .bias(c.at("bias").get<bool>())
            .dtype(dt));
    fc->load_state_dict(test::state_dict_from_json(c.at("state_dict")));
    const Tensor x = test::tensor_from_json(c.at("input"));
    const double tol = dt == kFloat64 ? 1e-12 : 2e-6;
    for (const kernels::Tier tier : {kernels::Tier::kReference, kernels::Tier::kFast}) {
      const test::TierGuard guard(tier);
      EXPECT_TRUE(tensors_match(fc(x), c.at("output"), tol, tol))
          << name << " (" << test::tier_name(tier) << " tier)";
    }
  }
}

TEST(Identity, ReturnsItsInput) {
  nn::Identity id;
  const Tensor x = randn({2, 3});
  EXPECT_TRUE(id(x).is_same(x));
  EXPECT_TRUE(id->parameters().empty());
}

TEST(Flatten, DefaultKeepsTheBatchDim) {
  nn::Flatten flat;
  const Tensor x = arange(2 * 1 * 4 * 3, kFloat32).view({2, 1, 4, 3});
  const Tensor y = flat(x);
  EXPECT_EQ(y.sizes().vec(), (I{2, 12}));
  EXPECT_TRUE(y.is_alias_of(x));  // a view: no copy
  EXPECT_EQ(nn::Flatten(0, 2)(x).sizes().vec(), (I{8, 3}));
  EXPECT_EQ(nn::Flatten(nn::FlattenOptions().start_dim(2))(x).sizes().vec(), (I{2, 1, 12}));
  EXPECT_EQ(nn::Flatten(1, -2)(x).sizes().vec(), (I{2, 4, 3}));
  // A non-contiguous input still flattens (with a copy, like reshape).
  const Tensor xt = x.transpose(2, 3);
  EXPECT_TRUE(flat(xt).equal(xt.contiguous().view({2, 12})));
}

TEST(Dropout, EvalIsIdentityAndTrainDrops) {
  nn::Dropout drop(0.5);
  const Tensor x = ones({1000});
  drop->eval();
  EXPECT_TRUE(drop(x).is_same(x));  // evaluation: the very same tensor, untouched
  drop->train();
  const Tensor y = drop(x);
  EXPECT_FALSE(y.is_same(x));
  EXPECT_EQ(test::values_as_double(x), std::vector<double>(1000, 1.0));  // input unchanged
  int zeros_seen = 0;
  for (double v : test::values_as_double(y)) {
    EXPECT_TRUE(v == 0.0 || v == 2.0) << v;  // dropped, or kept and scaled by 1/(1 − p)
    zeros_seen += v == 0.0;
  }
  EXPECT_GT(zeros_seen, 0);
  EXPECT_LT(zeros_seen, 1000);
}

TEST(Dropout, KeepRateAndScaleStatistics) {
  // n Bernoulli(1 − p) draws: the kept count has standard deviation √(n·p·(1 − p)); the mean of
  // the output (expected 1 for an input of ones) has standard deviation √(p / ((1 − p)·n)).
  // 6 standard deviations: a correct implementation fails with probability ~2e-9.
  const int64_t n = 200000;
  manual_seed(7);
  for (const double p : {0.1, 0.3, 0.5, 0.8}) {
    const Tensor y = nn::functional::dropout(ones({n}), p, /*training=*/true);
    const std::vector<double> v = test::values_as_double(y);
    const double scale = 1.0 / (1.0 - p);
    int64_t kept = 0;
    double sum = 0;
    for (double e : v) {
      if (e != 0.0) {
        ++kept;
        EXPECT_NEAR(e, scale, 1e-6 * scale);
      }
      sum += e;
    }
    const double nd = static_cast<double>(n);
    EXPECT_NEAR(static_cast<double>(kept), nd * (1 - p), 6 * std::sqrt(nd * p * (1 - p))) << p;
    EXPECT_NEAR(sum / nd, 1.0, 6 * std::sqrt(p / ((1 - p) * nd))) << p;
  }
}

TEST(Dropout, EdgeProbabilitiesAndErrors) {
  const Tensor x = randn({4, 5});
  EXPECT_TRUE(nn::functional::dropout(x, 0.0, true).is_same(x));  // p = 0: nothing to drop
  const Tensor all = nn::functional::dropout(x, 1.0, true);       // p = 1: everything
  EXPECT_EQ(test::values_as_double(all), std::vector<double>(20, 0.0));
  EXPECT_TRUE(nn::functional::dropout(x, 0.5, /*training=*/false).is_same(x));
  TT_EXPECT_THROW_WITH(nn::Dropout(1.5), ValueError, "between 0 and 1", "1.5");
  TT_EXPECT_THROW_WITH(nn::Dropout(-0.1), ValueError, "between 0 and 1");
  TT_EXPECT_THROW_WITH(nn::functional::dropout(x, 2.0), ValueError, "between 0 and 1");
  TT_EXPECT_THROW_WITH(nn::functional::dropout(tensor({1, 2}), 0.5), TypeError, "floating");
  // Empty input, float64.
  EXPECT_EQ(nn::functional::dropout(zeros({0, 3}), 0.5).sizes().vec(), (I{0, 3}));
  const Tensor y64 = nn::functional::dropout(ones({100}, kFloat64), 0.75);
  EXPECT_EQ(y64.dtype(), kFloat64);
  for (double v : test::values_as_double(y64)) EXPECT_TRUE(v == 0.0 || v == 4.0) << v;
}

TEST(Dropout, ReproducibleAndInplace) {
  const Tensor x = randn({50});
  manual_seed(99);
  const Tensor a = nn::functional::dropout(x, 0.4);
  manual_seed(99);
  const Tensor b = nn::functional::dropout(x, 0.4);
  EXPECT_TRUE(a.equal(b));
  // inplace = true writes into the input and returns it.
  Tensor c = x.clone();
  manual_seed(99);
  nn::Dropout drop(nn::DropoutOptions(0.4).inplace(true));
  const Tensor out = drop(c);
  EXPECT_TRUE(out.is_same(c));
  EXPECT_TRUE(c.equal(a));
}

TEST(Activations, ModulesEqualTheirFunctions) {
  const Tensor x = tensor({{-2.0, -0.5, 0.0}, {0.25, 1.0, 3.0}});
  EXPECT_TRUE(nn::ReLU()(x).equal(relu(x)));
  EXPECT_TRUE(nn::LeakyReLU()(x).equal(leaky_relu(x, 0.01)));
  EXPECT_TRUE(nn::LeakyReLU(0.2)(x).equal(leaky_relu(x, 0.2)));
  EXPECT_TRUE(
      nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.3))(x).equal(leaky_relu(x, 0.3)));
  EXPECT_TRUE(nn::Sigmoid()(x).equal(sigmoid(x)));
  EXPECT_TRUE(nn::Tanh()(x).equal(tanh(x)));
  EXPECT_TRUE(nn::GELU()(x).equal(gelu(x)));
  EXPECT_TRUE(nn::GELU("tanh")(x).equal(gelu(x, "tanh")));
  EXPECT_TRUE(nn::SiLU()(x).equal(silu(x)));
  EXPECT_TRUE(nn::Softmax(1)(x).equal(softmax(x, 1)));
  EXPECT_TRUE(nn::Softmax(0)(x).equal(softmax(x, 0)));
  EXPECT_TRUE(nn::LogSoftmax(-1)(x).equal(log_softmax(x, -1)));
  // Spot values, so that a module wired to the wrong function is caught even if it matches.
  EXPECT_EQ(test::values_as_double(nn::ReLU()(x)), (std::vector<double>{0, 0, 0, 0.25, 1, 3}));
  TT_EXPECT_THROW_WITH(nn::GELU("fast"), ValueError, "'none' or 'tanh'", "fast");
  EXPECT_TRUE(nn::ReLU()->parameters().empty());
}

// The loss modules wrap module 04's functions: the test skips while module 04 is a stub.
TEST(Losses, ModulesEqualTheirFunctions) {
  const std::string missing = test::later_module_missing("03", [] {
    const Tensor pred = tensor({{0.2, 0.7}, {0.9, 0.4}, {0.5, 0.5}});
    const Tensor target = tensor({{0.0, 1.0}, {1.0, 0.0}, {1.0, 1.0}});
    const Tensor logits = tensor({{1.0, 2.0, 0.5}, {0.1, -1.0, 2.0}});
    const Tensor labels = tensor({1, 2});
    EXPECT_TRUE(nn::MSELoss()(pred, target).equal(mse_loss(pred, target)));
    EXPECT_TRUE(
        nn::MSELoss(Reduction::Sum)(pred, target).equal(mse_loss(pred, target, Reduction::Sum)));
    EXPECT_TRUE(nn::L1Loss(nn::L1LossOptions().reduction(Reduction::None))(pred, target)
                    .equal(l1_loss(pred, target, Reduction::None)));
    EXPECT_TRUE(nn::BCELoss()(pred, target).equal(binary_cross_entropy(pred, target)));
    EXPECT_TRUE(
        nn::BCEWithLogitsLoss(Reduction::Sum)(logits.narrow(1, 0, 2), target.narrow(0, 0, 2))
            .equal(binary_cross_entropy_with_logits(logits.narrow(1, 0, 2), target.narrow(0, 0, 2),
                                                    {}, {}, Reduction::Sum)));
    EXPECT_TRUE(nn::CrossEntropyLoss()(logits, labels).equal(cross_entropy(logits, labels)));
    const auto ce_opts = nn::CrossEntropyLossOptions()
                             .reduction(Reduction::Sum)
                             .ignore_index(2)
                             .label_smoothing(0.1);
    EXPECT_TRUE(nn::CrossEntropyLoss(ce_opts)(logits, labels)
                    .equal(cross_entropy(logits, labels, {}, Reduction::Sum, 2, 0.1)));
    const Tensor logp = log_softmax(logits, 1);
    EXPECT_TRUE(nn::NLLLoss()(logp, labels).equal(nll_loss(logp, labels)));
    EXPECT_TRUE(nn::NLLLoss(nn::NLLLossOptions().ignore_index(1))(logp, labels)
                    .equal(nll_loss(logp, labels, {}, Reduction::Mean, 1)));
    // The module's own number, so that a module wired to a different loss is caught.
    EXPECT_NEAR(nn::MSELoss()(pred, target).item<double>(),
                (0.04 + 0.09 + 0.01 + 0.16 + 0.25 + 0.25) / 6.0, 1e-6);
    TT_EXPECT_THROW_WITH(nn::CrossEntropyLoss(nn::CrossEntropyLossOptions().label_smoothing(1.5)),
                         ValueError, "label_smoothing", "1.5");
  });
  if (!missing.empty()) GTEST_SKIP() << missing;
}

}  // namespace
}  // namespace tinytorch
