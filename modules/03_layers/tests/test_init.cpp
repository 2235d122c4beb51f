// Module 03 — nn::init (Part 4): fan computation and gains against PyTorch, the bounds and the
// sample statistics of every initialiser (tolerances derived from the distributions, see
// `Limits`), in-place behaviour on parameters and views, generators, and the errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "layers_test_util.h"

namespace tinytorch {
namespace {

namespace init = nn::init;
using I = std::vector<int64_t>;

struct Stats {
  double mean = 0, var = 0, max_abs = 0;
  int64_t n = 0;
};
Stats stats(const Tensor& t) {
  const std::vector<double> v = test::values_as_double(t);
  Stats s;
  s.n = static_cast<int64_t>(v.size());
  for (double x : v) {
    s.mean += x;
    s.max_abs = std::max(s.max_abs, std::abs(x));
  }
  s.mean /= static_cast<double>(s.n);
  for (double x : v) s.var += (x - s.mean) * (x - s.mean);
  s.var /= static_cast<double>(s.n);
  return s;
}

// Expected sample statistics of n draws, 6 standard deviations wide:
//   mean:      σ/√n                               (any distribution with std σ)
//   variance:  √((μ4 − σ⁴)/n), μ4 = 4th central moment:
//              U(−b, b): μ4 = b⁴/5, σ² = b²/3   →  σ²·√(4/(5n))·… = b²·√(4/(45n))
//              N(0, σ²): μ4 = 3σ⁴               →  σ²·√(2/n)
void expect_uniform(const Tensor& t, double b, const std::string& what) {
  const Stats s = stats(t);
  const auto n = static_cast<double>(s.n);
  EXPECT_LE(s.max_abs, b) << what;
  EXPECT_NEAR(s.mean, 0.0, 6.0 * b / std::sqrt(3.0 * n)) << what;
  EXPECT_NEAR(s.var, b * b / 3.0, 6.0 * b * b * std::sqrt(4.0 / (45.0 * n))) << what;
}
void expect_normal(const Tensor& t, double mean, double std, const std::string& what) {
  const Stats s = stats(t);
  const auto n = static_cast<double>(s.n);
  EXPECT_NEAR(s.mean, mean, 6.0 * std / std::sqrt(n)) << what;
  EXPECT_NEAR(s.var, std * std, 6.0 * std * std * std::sqrt(2.0 / n)) << what;
}

init::Nonlinearity parse_nonlinearity(const std::string& s) {
  using N = init::Nonlinearity;
  if (s == "linear") return N::Linear;
  if (s == "conv1d") return N::Conv1D;
  if (s == "conv2d") return N::Conv2D;
  if (s == "conv3d") return N::Conv3D;
  if (s == "conv_transpose1d") return N::ConvTranspose1D;
  if (s == "conv_transpose2d") return N::ConvTranspose2D;
  if (s == "conv_transpose3d") return N::ConvTranspose3D;
  if (s == "sigmoid") return N::Sigmoid;
  if (s == "tanh") return N::Tanh;
  if (s == "relu") return N::ReLU;
  if (s == "leaky_relu") return N::LeakyReLU;
  if (s == "selu") return N::SELU;
  throw std::runtime_error("unknown nonlinearity " + s);
}

TEST(Init, FansMatchPyTorch) {
  for (const auto& c : test::module03_reference().at("fans")) {
    const Tensor t = tinytorch::empty(test::int_list(c.at("shape")));
    if (c.contains("error")) {
      TT_EXPECT_THROW_WITH(init::calculate_fan_in_and_fan_out(t), ValueError,
                           c.at("message").get<std::string>());
      continue;
    }
    const auto [fan_in, fan_out] = init::calculate_fan_in_and_fan_out(t);
    EXPECT_EQ(fan_in, c.at("fan_in").get<int64_t>()) << c.at("shape").dump();
    EXPECT_EQ(fan_out, c.at("fan_out").get<int64_t>()) << c.at("shape").dump();
    EXPECT_EQ(init::calculate_correct_fan(t, init::kFanIn), fan_in);
    EXPECT_EQ(init::calculate_correct_fan(t, init::kFanOut), fan_out);
  }
}

TEST(Init, GainsMatchPyTorch) {
  for (const auto& c : test::module03_reference().at("gains")) {
    const init::Nonlinearity nl = parse_nonlinearity(c.at("nonlinearity").get<std::string>());
    const double gain = c.at("param").is_null()
                            ? init::calculate_gain(nl)
                            : init::calculate_gain(nl, c.at("param").get<double>());
    EXPECT_NEAR(gain, c.at("gain").get<double>(), 1e-15) << c.dump();
  }
}

TEST(Init, UniformAndNormal) {
  Generator gen(1);
  Tensor t = empty({200, 300});
  const Tensor& ret = init::uniform_(t, -0.5, 1.5, &gen);
  EXPECT_TRUE(ret.is_same(t));  // in place, returns the same tensor
  const Stats s = stats(t);
  // U(-0.5, 1.5): mean 0.5, standard deviation 2/√12.
  EXPECT_NEAR(s.mean, 0.5, 6.0 * 2.0 / std::sqrt(12.0 * 60000));
  EXPECT_NEAR(s.var, 4.0 / 12.0, 6.0 * 1.0 * std::sqrt(4.0 / (45.0 * 60000)));
  for (double v : test::values_as_double(t)) {
    ASSERT_GE(v, -0.5);
    ASSERT_LE(v, 1.5);
  }
  expect_uniform(init::uniform_(empty({60000}), -0.25, 0.25, &gen), 0.25, "uniform_(-0.25, 0.25)");
  expect_normal(init::normal_(empty({300, 200}), 2.0, 0.5, &gen), 2.0, 0.5, "normal_(2, 0.5)");
  expect_normal(init::normal_(empty({60000}, kFloat64), 0.0, 3.0, &gen), 0.0, 3.0,
                "normal_ float64");
}

TEST(Init, ConstantZerosOnes) {
  Tensor t = randn({3, 4});
  EXPECT_EQ(test::values_as_double(init::constant_(t, 0.25)), std::vector<double>(12, 0.25));
  EXPECT_EQ(test::values_as_double(init::zeros_(t)), std::vector<double>(12, 0.0));
  EXPECT_EQ(test::values_as_double(init::ones_(t)), std::vector<double>(12, 1.0));
  Tensor i = zeros({2}, kInt64);
  EXPECT_EQ(test::values_as_int(init::constant_(i, 7)), (std::vector<int64_t>{7, 7}));
}

TEST(Init, XavierBoundsAndStatistics) {
  Generator gen(2);
  // [out, in] = [300, 500]: bound = gain·√(6/(in + out)).
  Tensor w = empty({300, 500});
  init::xavier_uniform_(w, 1.0, &gen);
  expect_uniform(w, std::sqrt(6.0 / 800.0), "xavier_uniform_");
  init::xavier_uniform_(w, init::calculate_gain(init::kTanh), &gen);
  expect_uniform(w, 5.0 / 3.0 * std::sqrt(6.0 / 800.0), "xavier_uniform_ tanh gain");
  init::xavier_normal_(w, 1.0, &gen);
  expect_normal(w, 0.0, std::sqrt(2.0 / 800.0), "xavier_normal_");
  // A conv weight [out, in, kh, kw] = [32, 16, 5, 5]: fan_in = 400, fan_out = 800.
  Tensor conv = empty({32, 16, 5, 5});
  init::xavier_uniform_(conv, 1.0, &gen);
  expect_uniform(conv, std::sqrt(6.0 / 1200.0), "xavier_uniform_ conv");
}

TEST(Init, KaimingBoundsAndStatistics) {
  Generator gen(3);
  Tensor w = empty({400, 250});  // fan_in 250, fan_out 400
  init::kaiming_uniform_(w, 0.0, init::kFanIn, init::kReLU, &gen);
  expect_uniform(w, std::sqrt(2.0) * std::sqrt(3.0 / 250.0), "kaiming_uniform_ relu fan_in");
  init::kaiming_uniform_(w, 0.0, init::kFanOut, init::kReLU, &gen);
  expect_uniform(w, std::sqrt(2.0) * std::sqrt(3.0 / 400.0), "kaiming_uniform_ relu fan_out");
  // Linear's choice: a = √5 → bound = 1/√fan_in.
  init::kaiming_uniform_(w, std::sqrt(5.0), init::kFanIn, init::kLeakyReLU, &gen);
  expect_uniform(w, 1.0 / std::sqrt(250.0), "kaiming_uniform_ a=sqrt(5)");
  init::kaiming_normal_(w, 0.0, init::kFanIn, init::kReLU, &gen);
  expect_normal(w, 0.0, std::sqrt(2.0 / 250.0), "kaiming_normal_");
  init::kaiming_normal_(w, 0.0, init::kFanOut, init::kLinear, &gen);
  expect_normal(w, 0.0, 1.0 / std::sqrt(400.0), "kaiming_normal_ linear fan_out");
  // Zero elements: left alone (PyTorch warns and does the same).
  Tensor none = empty({0, 5});
  EXPECT_TRUE(init::kaiming_uniform_(none).is_same(none));
}

TEST(Init, GeneratorsAndManualSeed) {
  Generator g1(42), g2(42);
  Tensor a = empty({10, 10}), b = empty({10, 10});
  init::kaiming_uniform_(a, 0.0, init::kFanIn, init::kReLU, &g1);
  init::kaiming_uniform_(b, 0.0, init::kFanIn, init::kReLU, &g2);
  EXPECT_TRUE(a.equal(b));
  Tensor a2 = empty({10, 10}), b2 = empty({10, 10});
  Generator h1(7), h2(7);
  init::normal_(a2, 0, 1, &h1);
  init::normal_(b2, 0, 1, &h2);
  EXPECT_TRUE(a2.equal(b2));
  manual_seed(5);
  init::xavier_uniform_(a2);
  manual_seed(5);
  init::xavier_uniform_(b2);
  EXPECT_TRUE(a2.equal(b2));
  init::xavier_uniform_(b2);
  EXPECT_FALSE(a2.equal(b2));
}

TEST(Init, InPlaceOnViewsAndParameters) {
  // A transposed view is filled element for element; the base sees the values.
  Tensor base = zeros({20, 30});
  Tensor view = base.t();
  Generator gen(9);
  init::uniform_(view, 1.0, 2.0, &gen);
  for (double v : test::values_as_double(base)) {
    ASSERT_GE(v, 1.0);
    ASSERT_LE(v, 2.0);
  }
  // A narrowed view: only its elements change.
  Tensor row = zeros({3, 4});
  init::ones_(row.narrow(0, 1, 1));
  EXPECT_EQ(test::values_as_double(row), (std::vector<double>{0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0}));
  // A parameter that requires grad: initialised in place with grad mode off — it stays a leaf.
  nn::Linear fc(4, 3);
  const Tensor w = fc->weight;
  init::xavier_normal_(fc->weight);
  init::zeros_(fc->bias);
  EXPECT_TRUE(fc->weight.is_same(w));
  EXPECT_TRUE(fc->weight.requires_grad());
  EXPECT_TRUE(fc->weight.is_leaf());
  EXPECT_TRUE(fc->bias.is_leaf());
  EXPECT_EQ(test::values_as_double(fc->bias), (std::vector<double>{0, 0, 0}));
}

TEST(Init, Errors) {
  TT_EXPECT_THROW_WITH(init::xavier_uniform_(empty({5})), ValueError, "fewer than 2 dimensions");
  TT_EXPECT_THROW_WITH(init::kaiming_normal_(empty({})), ValueError, "fewer than 2 dimensions");
  TT_EXPECT_THROW_WITH(init::uniform_(zeros({3}, kInt64)), TypeError, "floating-point", "int64");
  TT_EXPECT_THROW_WITH(init::normal_(zeros({3}), 0.0, -1.0), ValueError, "std");
  TT_EXPECT_THROW_WITH(init::uniform_(zeros({3}), 1.0, 0.0), ValueError, "from=1", "to=0");
  TT_EXPECT_THROW_WITH(init::xavier_normal_(empty({0, 0})), ValueError, "fan_in + fan_out is 0");
  TT_EXPECT_THROW_WITH(init::zeros_(Tensor()), Error, "undefined");
}

}  // namespace
}  // namespace tinytorch
