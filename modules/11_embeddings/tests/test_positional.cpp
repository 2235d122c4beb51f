// Module 11 — nn::SinusoidalPositionalEncoding: the table against PyTorch's usual construction
// (tests/data/module11_reference.json), its structure (a buffer, not a parameter; bounded values;
// the relative-position rotation), the forward x + pe[:T], and its checks.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::json;

const json& positional_cases() {
  return test::load_reference("module11_reference.json").at("cases");
}

nn::SinusoidalPositionalEncoding make(const json& c, ScalarType dtype) {
  return nn::SinusoidalPositionalEncoding(
      nn::SinusoidalPositionalEncodingOptions(c.at("max_len").get<int64_t>(),
                                              c.at("dim").get<int64_t>())
          .base(c.at("base").get<double>())
          .dtype(dtype));
}

TEST(SinusoidalReference, TableAndForwardMatchPyTorch) {
  int n = 0;
  for (const json& c : positional_cases()) {
    if (c.at("op") != "sinusoidal") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    // float64: the table to ~1e-12 even at position 1023 (where sin's argument is ~1000).
    EXPECT_TRUE(test::tensors_match(make(c, kFloat64)->pe, c.at("pe"), 1e-12, 1e-12));
    const auto pos = make(c, kFloat32);
    EXPECT_TRUE(test::tensors_match(pos->pe.to(kFloat64), c.at("pe"), 1e-6, 1e-6));
    if (c.contains("input")) {
      EXPECT_TRUE(test::tensors_match(pos->forward(test::tensor_from_json(c.at("input"))),
                                      c.at("output"), 1e-6, 1e-6));
    }
    ++n;
  }
  EXPECT_GE(n, 4);
}

TEST(SinusoidalEncoding, PeIsABufferNotAParameter) {
  nn::SinusoidalPositionalEncoding pos(16, 8);
  EXPECT_EQ(pos->parameters().size(), 0u);
  EXPECT_EQ(pos->named_buffers().keys(), (std::vector<std::string>{"pe"}));
  EXPECT_EQ(pos->pe.sizes(), IntArrayRef({16, 8}));
  EXPECT_FALSE(pos->pe.requires_grad());
  EXPECT_EQ(pos->state_dict().keys(), (std::vector<std::string>{"pe"}));
  std::ostringstream os;
  os << *pos.ptr();
  EXPECT_EQ(os.str(), "SinusoidalPositionalEncoding(max_len=16, dim=8)");
}

// Row 0 is (0, 1, 0, 1, ...); every value lies in [−1, 1]; each (sin, cos) column pair has
// length 1 — the pair is a point on the unit circle at angle p·ω_i.
TEST(SinusoidalEncoding, StructureOfTheTable) {
  nn::SinusoidalPositionalEncoding pos(
      nn::SinusoidalPositionalEncodingOptions(50, 6).dtype(kFloat64));
  const std::vector<double> pe = pos->pe.to_vector<double>();
  for (int64_t c = 0; c < 6; ++c) EXPECT_EQ(pe[static_cast<size_t>(c)], c % 2 == 0 ? 0.0 : 1.0);
  for (int64_t p = 0; p < 50; ++p) {
    for (int64_t i = 0; i < 3; ++i) {
      const double s = pe[static_cast<size_t>(p * 6 + 2 * i)];
      const double co = pe[static_cast<size_t>(p * 6 + 2 * i + 1)];
      EXPECT_NEAR(s * s + co * co, 1.0, 1e-12);
    }
  }
  // Column 0 has ω = 1: pe[p, 0] = sin(p).
  EXPECT_NEAR(pe[7 * 6], std::sin(7.0), 1e-15);
}

// Why sinusoids carry relative positions: pe[p + k] is pe[p] rotated by the angle k·ω_i in every
// column pair — a fixed linear map that depends on k only, never on p.
TEST(SinusoidalEncoding, ShiftingByKIsARotationIndependentOfPosition) {
  const int64_t d = 8, k = 5;
  nn::SinusoidalPositionalEncoding pos(
      nn::SinusoidalPositionalEncodingOptions(64, d).dtype(kFloat64));
  const std::vector<double> pe = pos->pe.to_vector<double>();
  for (int64_t p : {0, 3, 40}) {
    for (int64_t i = 0; i < d / 2; ++i) {
      const double omega = std::pow(10000.0, -2.0 * static_cast<double>(i) / d);
      const double s = pe[static_cast<size_t>(p * d + 2 * i)],
                   c = pe[static_cast<size_t>(p * d + 2 * i + 1)];
      const double sk = pe[static_cast<size_t>((p + k) * d + 2 * i)];
      const double ck = pe[static_cast<size_t>((p + k) * d + 2 * i + 1)];
      // sin(a + b) = sin a cos b + cos a sin b;  cos(a + b) = cos a cos b − sin a sin b
      EXPECT_NEAR(sk, s * std::cos(k * omega) + c * std::sin(k * omega), 1e-12);
      EXPECT_NEAR(ck, c * std::cos(k * omega) - s * std::sin(k * omega), 1e-12);
    }
  }
}

TEST(SinusoidalEncoding, ForwardAddsTheFirstTRowsToEveryBatchElement) {
  nn::SinusoidalPositionalEncoding pos(10, 4);
  const Tensor x = ones({3, 6, 4});
  const Tensor y = pos->forward(x);
  EXPECT_EQ(y.sizes(), IntArrayRef({3, 6, 4}));
  for (int64_t b = 0; b < 3; ++b) EXPECT_TRUE(y.select(0, b).equal(pos->pe.narrow(0, 0, 6) + 1.0));
  EXPECT_TRUE(pos->forward(zeros({10, 4})).equal(pos->pe));  // unbatched [T, D], T = max_len
}

TEST(SinusoidalEncoding, GradientFlowsToTheInputOnly) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  nn::SinusoidalPositionalEncoding pos(10, 4);
  const Tensor x = zeros({2, 3, 4}).requires_grad_();
  pos->forward(x).sum().backward();
  EXPECT_TRUE(x.grad().equal(ones({2, 3, 4})));
  EXPECT_FALSE(pos->pe.grad().defined());
}

TEST(SinusoidalEncoding, Errors) {
  nn::SinusoidalPositionalEncoding pos(8, 4);
  TT_EXPECT_THROW_WITH(pos->forward(zeros({1, 9, 4})), ValueError, "SinusoidalPositionalEncoding",
                       "sequence length 9 exceeds max_len = 8");
  TT_EXPECT_THROW_WITH(pos->forward(zeros({1, 3, 5})), Error, "expected input of shape [B, T, 4]",
                       "[1, 3, 5]");
  TT_EXPECT_THROW_WITH(nn::SinusoidalPositionalEncoding(0, 4), ValueError,
                       "max_len and dim must be positive");
}

}  // namespace
}  // namespace tinytorch
