// Module 16 — the one-sided Jacobi SVD against PyTorch's singular values, its invariants
// (orthonormal U and V, A = U·diag(S)·Vh, descending S), Eckart–Young, and the low-rank Linear.
#include <gtest/gtest.h>

#include <cmath>

#include "m16_support.h"
#include "tinytorch/linalg/svd.h"
#include "tinytorch/nn/utils/low_rank.h"

namespace tinytorch {
namespace {

using m16::cases;
using m16::json_tensor;
using m16::max_abs_diff;

void expect_valid_svd(const Tensor& A, const linalg::SVDResult& r, double tol) {
  const int64_t m = A.size(0), n = A.size(1), k = std::min(m, n);
  ASSERT_EQ(r.U.sizes(), IntArrayRef({m, k}));
  ASSERT_EQ(r.S.sizes(), IntArrayRef({k}));
  ASSERT_EQ(r.Vh.sizes(), IntArrayRef({k, n}));
  EXPECT_LT(max_abs_diff(r.U.t().matmul(r.U), eye(k, kFloat64)), tol) << "UᵀU != I";
  EXPECT_LT(max_abs_diff(r.Vh.matmul(r.Vh.t()), eye(k, kFloat64)), tol) << "Vh·Vhᵀ != I";
  EXPECT_LT(max_abs_diff(r.U.mul(r.S).matmul(r.Vh), A), tol * (1 + A.abs().max().item<double>()))
      << "U·diag(S)·Vh != A";
  const std::vector<double> s = test::values_as_double(r.S);
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_GE(s[i], 0.0);
    if (i > 0) {
      EXPECT_LE(s[i], s[i - 1]) << "S not descending at " << i;
    }
  }
}

TEST(Svd, SingularValuesMatchPyTorch) {
  int seen = 0;
  for (const auto& c : cases()) {
    if (c.at("group") != "svd") continue;
    ++seen;
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor A = json_tensor(c.at("a"));
    const linalg::SVDResult r = linalg::svd(A);
    EXPECT_LT(max_abs_diff(r.S, json_tensor(c.at("S"))), 1e-12);
    expect_valid_svd(A, r, 1e-12);
  }
  EXPECT_EQ(seen, 7);
}

TEST(Svd, EckartYoungRankRErrorIsTheTailOfS) {
  const Tensor A = json_tensor(cases()[0].at("a"));  // tall 7x4
  const auto [U, S, Vh] = linalg::svd(A);
  for (int64_t r = 0; r <= 4; ++r) {
    const Tensor Ar = U.narrow(1, 0, r).mul(S.narrow(0, 0, r)).matmul(Vh.narrow(0, 0, r));
    const double err2 = A.sub(Ar).pow(2).sum().item<double>();
    const double tail2 = S.narrow(0, r, 4 - r).pow(2).sum().item<double>();
    EXPECT_NEAR(err2, tail2, 1e-12) << "rank " << r;
  }
}

TEST(Svd, Float32InputAndEmptyMatrix) {
  const Tensor A = json_tensor(cases()[2].at("a")).to(kFloat32);
  const auto r = linalg::svd(A);
  EXPECT_EQ(r.S.dtype(), kFloat32);
  expect_valid_svd(A.to(kFloat64), {r.U.to(kFloat64), r.S.to(kFloat64), r.Vh.to(kFloat64)}, 1e-5);
  const auto e = linalg::svd(zeros({0, 3}, kFloat64));
  EXPECT_EQ(e.S.numel(), 0);
  EXPECT_EQ(e.Vh.sizes(), IntArrayRef({0, 3}));
}

TEST(Svd, RejectsBadInput) {
  EXPECT_THROW(linalg::svd(zeros({2, 2, 2}, kFloat64)), Error);
  EXPECT_THROW(linalg::svd(zeros({2, 2}, kInt64)), Error);
  EXPECT_THROW(linalg::svd(zeros({2, 2}, kFloat64), /*full_matrices=*/true), Error);
  EXPECT_THROW(linalg::svd(full({2, 2}, NAN, kFloat64)), Error);
}

TEST(LowRank, FactorisedLinearIsTheTruncatedSvdAndFullRankIsExact) {
  manual_seed(3);
  nn::Linear fc(nn::LinearOptions(12, 8).dtype(kFloat64));
  const Tensor x = randn({5, 12}, kFloat64);
  const Tensor y = fc(x);
  nn::Sequential full_rank = nn::utils::low_rank_linear(fc, 8);
  EXPECT_LT(max_abs_diff(full_rank->forward(x), y), 1e-12);
  nn::Sequential r3 = nn::utils::low_rank_linear(fc, 3);
  // Parameters: 3·(12 + 8) + 8 bias instead of 12·8 + 8.
  int64_t count = 0;
  for (const Tensor& p : r3->parameters()) count += p.numel();
  EXPECT_EQ(count, 3 * (12 + 8) + 8);
  // The layer's error is x·(W − W_3)ᵀ exactly.
  const auto [U, S, Vh] = linalg::svd(fc->weight.detach());
  const Tensor W3 = U.narrow(1, 0, 3).mul(S.narrow(0, 0, 3)).matmul(Vh.narrow(0, 0, 3));
  EXPECT_LT(max_abs_diff(r3->forward(x), x.matmul(W3.t()).add(fc->bias.detach())), 1e-12);
  EXPECT_THROW(nn::utils::low_rank_linear(fc, 0), Error);
  EXPECT_THROW(nn::utils::low_rank_linear(fc, 9), Error);
}

}  // namespace
}  // namespace tinytorch
