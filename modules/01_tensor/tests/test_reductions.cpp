// Module 01 — reductions: sum, mean, var, max/min, argmax/argmin over all dims, one dim, several
// dims, negative dims, with and without keepdim; dtypes, NaN, ties, empty and 0-d inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <vector>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using D = std::vector<double>;
using I = std::vector<int64_t>;
using test::tensors_match;
using test::values_as_double;
using test::values_as_int;

Tensor m23() {  // [[1, 2, 3], [4, 5, 6]] float32
  return tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
}

TEST(Sum, AllDims) {
  const Tensor s = m23().sum();
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.dtype(), kFloat32);
  EXPECT_EQ(s.item<double>(), 21.0);
  EXPECT_EQ(sum(m23()).item<double>(), 21.0);
  EXPECT_EQ(m23().sum(IntArrayRef{}).item<double>(), 21.0);  // no dims means all dims
  EXPECT_EQ(m23().sum({0, 1}).item<double>(), 21.0);
  EXPECT_EQ(m23().sum({-1, 0}).item<double>(), 21.0);
}

TEST(Sum, OneDimAndKeepdim) {
  EXPECT_EQ(values_as_double(m23().sum(0)), (D{5, 7, 9}));
  EXPECT_EQ(values_as_double(m23().sum(1)), (D{6, 15}));
  EXPECT_EQ(values_as_double(m23().sum(-1)), (D{6, 15}));
  EXPECT_EQ(m23().sum(0).sizes().vec(), I{3});
  const Tensor k = m23().sum(1, /*keepdim=*/true);
  EXPECT_EQ(k.sizes().vec(), (I{2, 1}));
  EXPECT_EQ(values_as_double(k), (D{6, 15}));
  EXPECT_EQ(m23().sum({0, 1}, true).sizes().vec(), (I{1, 1}));
}

TEST(Sum, SeveralDimsOf3d) {
  const Tensor x = arange(24, kFloat64).view({2, 3, 4});
  // Naive loops as the expectation.
  D over02(3, 0.0), over1(8, 0.0);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      for (int k = 0; k < 4; ++k) {
        const double v = i * 12 + j * 4 + k;
        over02[static_cast<size_t>(j)] += v;
        over1[static_cast<size_t>(i * 4 + k)] += v;
      }
    }
  }
  EXPECT_EQ(values_as_double(x.sum({0, 2})), over02);
  EXPECT_EQ(values_as_double(x.sum({2, 0})), over02);
  EXPECT_EQ(values_as_double(x.sum({-1, -3})), over02);
  EXPECT_EQ(x.sum({0, 2}, true).sizes().vec(), (I{1, 3, 1}));
  EXPECT_EQ(values_as_double(x.sum(1)), over1);
  EXPECT_EQ(x.sum(1).sizes().vec(), (I{2, 4}));
  EXPECT_EQ(x.sum(-2, true).sizes().vec(), (I{2, 1, 4}));
}

TEST(Sum, Dtypes) {
  const Tensor i = tensor({{1, 2}, {3, 4}});
  EXPECT_EQ(i.sum().dtype(), kInt64);
  EXPECT_EQ(i.sum().item<int64_t>(), 10);
  EXPECT_EQ(values_as_int(i.sum(0)), (I{4, 6}));
  const Tensor b = tensor({true, true, false, true});
  EXPECT_EQ(b.sum().dtype(), kInt64);  // a count, not a logical or
  EXPECT_EQ(b.sum().item<int64_t>(), 3);
  EXPECT_EQ(i.sum(kFloat64).dtype(), kFloat64);
  EXPECT_EQ(i.sum(kFloat64).item<double>(), 10.0);
  EXPECT_EQ(i.sum({1}, false, kFloat32).dtype(), kFloat32);
  EXPECT_EQ(tensor({1.0}, kFloat64).sum().dtype(), kFloat64);
  // Large int64 sums are exact (no detour through double).
  const int64_t big = (int64_t{1} << 53) + 1;
  EXPECT_EQ(tensor({big, int64_t{1}}).sum().item<int64_t>(), big + 1);
}

TEST(Sum, FloatAccumulationIsAccurate) {
  // 10^6 copies of 0.1f: a float32 running sum drifts by ~1%; PyTorch's (pairwise) and a
  // double accumulator stay within 1e-4 relative.
  const Tensor x = full({1000000}, 0.1);
  EXPECT_NEAR(x.sum().item<double>(), 100000.0, 10.0);
}

TEST(Sum, NonContiguousInputs) {
  const Tensor base = arange(24, kFloat32).view({2, 3, 4});
  for (const Tensor& v :
       {base.transpose(0, 2), base.permute({1, 2, 0}), base.slice(2, 0, std::nullopt, 2),
        base.select(1, 1), base.select(0, 1).unsqueeze(0).expand({3, 3, 4})}) {
    const Tensor c = v.contiguous();
    EXPECT_TRUE(tensors_match(v.sum(), c.sum(), 0, 0));
    for (int64_t d = 0; d < v.dim(); ++d) {
      EXPECT_TRUE(tensors_match(v.sum(d), c.sum(d), 0, 0)) << "dim " << d;
      EXPECT_TRUE(tensors_match(v.mean({d}, true), c.mean({d}, true), 0, 0)) << "dim " << d;
    }
  }
}

// Summing the LEADING dims of a contiguous tensor (a bias gradient: [N, out] over dim 0) adds
// whole rows instead of transposing first; each output must still add the same values in the
// same order, so the result has the same bits as the row path (a transposed copy's last dims).
TEST(Sum, LeadingDimsGiveTheBitsOfTheRowPath) {
  const Tensor x = randn({37, 5, 300}, kFloat32) * 3.0 + 1.0;  // 1500 columns: several blocks
  const Tensor rows = x.permute({1, 2, 0}).contiguous();       // the reduced dim last
  EXPECT_TRUE(tensors_match(x.sum(0), rows.sum(2), 0, 0));
  EXPECT_TRUE(tensors_match(x.mean({0}), rows.mean({2}), 0, 0));
  EXPECT_TRUE(tensors_match(x.sum({0, 1}), x.permute({2, 0, 1}).contiguous().sum({1, 2}), 0, 0));
  EXPECT_TRUE(tensors_match(x.sum({1, 0}, true), rows.sum(2).sum(0, true).unsqueeze(0), 1e-5, 0));
  EXPECT_EQ(x.sum({1, 0}, true).sizes().vec(), (I{1, 1, 300}));
  EXPECT_EQ(x.mean({-3}, true).sizes().vec(), (I{1, 5, 300}));
  const Tensor b = x.gt(1.0);  // bools and integers sum to int64 on this path too
  EXPECT_EQ(b.sum(0).dtype(), kInt64);
  EXPECT_TRUE(tensors_match(b.sum(0), b.permute({1, 2, 0}).contiguous().sum(2), 0, 0));
  EXPECT_EQ(values_as_double(zeros({0, 3}).sum(0)), (D{0, 0, 0}));
  for (double v : values_as_double(zeros({0, 3}).mean({0}))) EXPECT_TRUE(std::isnan(v));
  TT_EXPECT_THROW_WITH(x.sum({0, 0}), Error, "sum", "dim 0 appears multiple times");
}

TEST(Sum, EmptyAndZeroDim) {
  EXPECT_EQ(zeros({0}).sum().item<double>(), 0.0);
  const Tensor e = zeros({3, 0});
  EXPECT_EQ(values_as_double(e.sum(1)), (D{0, 0, 0}));
  EXPECT_EQ(e.sum(0).sizes().vec(), I{0});
  const Tensor s = tensor(5.0);
  EXPECT_EQ(s.sum().item<double>(), 5.0);
  EXPECT_EQ(s.sum(0).dim(), 0);
  EXPECT_EQ(s.sum(-1).item<double>(), 5.0);
  EXPECT_EQ(s.sum(0, true).dim(), 0);
}

TEST(Sum, DoesNotModifyTheInput) {
  const Tensor x = m23();
  const Tensor s = x.sum(0);
  EXPECT_EQ(values_as_double(x), (D{1, 2, 3, 4, 5, 6}));
  EXPECT_FALSE(s.is_alias_of(x));
}

TEST(Mean, Values) {
  EXPECT_EQ(m23().mean().item<double>(), 3.5);
  EXPECT_EQ(values_as_double(m23().mean({0})), (D{2.5, 3.5, 4.5}));
  const Tensor k = m23().mean({1}, true);
  EXPECT_EQ(k.sizes().vec(), (I{2, 1}));
  EXPECT_EQ(values_as_double(k), (D{2, 5}));
  EXPECT_EQ(mean(m23(), {-1}).sizes().vec(), I{2});
  EXPECT_EQ(m23().to(kFloat64).mean().dtype(), kFloat64);
  EXPECT_TRUE(std::isnan(zeros({0}).mean().item<double>()));
  TT_EXPECT_THROW_WITH(tensor({1, 2}).mean(), TypeError, "mean", "int64");
  TT_EXPECT_THROW_WITH(tensor({true}).mean(), TypeError, "mean", "bool");
}

TEST(Var, UnbiasedAndBiased) {
  const Tensor x = tensor({1.0, 2.0, 3.0, 4.0}, kFloat64);
  EXPECT_DOUBLE_EQ(x.var().item<double>(), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(x.var({}, /*unbiased=*/false).item<double>(), 1.25);
  const Tensor m = tensor({{1.0, 2.0, 3.0}, {2.0, 4.0, 9.0}}, kFloat64);
  EXPECT_TRUE(tensors_match(m.var({1}), tensor({1.0, 13.0}, kFloat64)));
  EXPECT_TRUE(tensors_match(m.var({0}, false), tensor({0.25, 1.0, 9.0}, kFloat64)));
  EXPECT_EQ(m.var({0}, true, true).sizes().vec(), (I{1, 3}));
  EXPECT_EQ(m.var({0, 1}).dim(), 0);
  // One element: the unbiased variance divides by zero.
  EXPECT_TRUE(std::isnan(tensor({3.0}).var().item<double>()));
  EXPECT_EQ(tensor({3.0}).var({}, false).item<double>(), 0.0);
  TT_EXPECT_THROW_WITH(tensor({1, 2}).var(), TypeError, "var", "int64");
}

TEST(Var, TwoPassIsAccurateForLargeMeans) {
  // E[x^2] - E[x]^2 would lose every digit here; the two-pass formula is exact.
  const Tensor x = tensor({1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16}, kFloat64);
  EXPECT_DOUBLE_EQ(x.var().item<double>(), 30.0);
  const Tensor f = tensor({10000.0f + 1, 10000.0f + 2, 10000.0f + 3});
  EXPECT_NEAR(f.var().item<double>(), 1.0, 1e-6);
}

TEST(MaxMin, AllDims) {
  const Tensor x = tensor({{3.0, -1.0, 7.0}, {7.0, 0.5, -2.0}});
  EXPECT_EQ(x.max().item<double>(), 7.0);
  EXPECT_EQ(x.min().item<double>(), -2.0);
  EXPECT_EQ(x.max().dim(), 0);
  EXPECT_EQ(x.max().dtype(), kFloat32);
  EXPECT_EQ(tensor({4, -9, 2}).max().item<int64_t>(), 4);
  EXPECT_EQ(tensor({4, -9, 2}).min().dtype(), kInt64);
  // argmax over all dims is a flat index; ties give the first.
  EXPECT_EQ(x.argmax().item<int64_t>(), 2);
  EXPECT_EQ(x.argmin().item<int64_t>(), 5);
  EXPECT_EQ(x.argmax().dtype(), kInt64);
  EXPECT_EQ(x.argmax().dim(), 0);
  // keepdim without a dim keeps every dim as size 1.
  EXPECT_EQ(x.argmax(std::nullopt, true).sizes().vec(), (I{1, 1}));
  EXPECT_EQ(tensor(3.0).max().item<double>(), 3.0);
  EXPECT_EQ(tensor(3.0).argmax().item<int64_t>(), 0);
}

TEST(MaxMin, AlongADim) {
  const Tensor x = tensor({{3.0, -1.0, 7.0}, {7.0, 0.5, -2.0}});
  auto [v0, i0] = x.max(0);
  EXPECT_EQ(values_as_double(v0), (D{7, 0.5, 7}));
  EXPECT_EQ(values_as_int(i0), (I{1, 1, 0}));
  EXPECT_EQ(i0.dtype(), kInt64);
  auto [v1, i1] = x.min(1, true);
  EXPECT_EQ(v1.sizes().vec(), (I{2, 1}));
  EXPECT_EQ(values_as_double(v1), (D{-1, -2}));
  EXPECT_EQ(values_as_int(i1), (I{1, 2}));
  auto [vn, in] = x.max(-1);
  EXPECT_EQ(values_as_double(vn), (D{7, 7}));
  EXPECT_EQ(values_as_int(in), (I{2, 0}));
  EXPECT_EQ(values_as_int(x.argmax(1)), (I{2, 0}));
  EXPECT_EQ(values_as_int(x.argmin(0)), (I{0, 0, 1}));
  EXPECT_EQ(x.argmin(0, true).sizes().vec(), (I{1, 3}));
  // Values and indices agree on a 3-d permuted input.
  const Tensor y = arange(24, kFloat32).view({2, 3, 4}).permute({2, 0, 1});  // [4, 2, 3]
  auto [vy, iy] = y.max(1);
  EXPECT_EQ(vy.sizes().vec(), (I{4, 3}));
  EXPECT_TRUE(tensors_match(vy, y.select(1, 1), 0, 0));
  EXPECT_EQ(values_as_int(iy), I(12, 1));
}

TEST(MaxMin, TiesGiveTheFirstIndex) {
  EXPECT_EQ(tensor({1, 5, 5, 2, 5}).argmax().item<int64_t>(), 1);
  EXPECT_EQ(tensor({3, 0, 1, 0}).argmin().item<int64_t>(), 1);
  auto [v, i] = tensor({{2.0, 2.0, 1.0}, {-1.0, 3.0, 3.0}}).max(1);
  EXPECT_EQ(values_as_int(i), (I{0, 1}));
  EXPECT_EQ(values_as_int(tensor({{4, 1}, {4, 1}, {5, 1}}).argmin(0)), (I{0, 0}));
}

TEST(MaxMin, NanWins) {
  const Tensor x = tensor({1.0, NAN, 5.0, NAN});
  EXPECT_TRUE(std::isnan(x.max().item<double>()));
  EXPECT_TRUE(std::isnan(x.min().item<double>()));
  EXPECT_EQ(x.argmax().item<int64_t>(), 1);  // the first NaN
  EXPECT_EQ(x.argmin().item<int64_t>(), 1);
  auto [v, i] = tensor({{1.0, NAN, 0.0}, {4.0, 5.0, 6.0}}).max(1);
  EXPECT_TRUE(std::isnan(values_as_double(v)[0]));
  EXPECT_EQ(values_as_double(v)[1], 6.0);
  EXPECT_EQ(values_as_int(i), (I{1, 2}));
  EXPECT_EQ(tensor({-INFINITY, -INFINITY}).max().item<double>(), -INFINITY);
}

TEST(MaxMin, EmptyInputs) {
  TT_EXPECT_THROW_WITH(zeros({0}).max(), Error, "max", "numel() == 0");
  TT_EXPECT_THROW_WITH(zeros({2, 0}).min(), Error, "min", "numel() == 0");
  TT_EXPECT_THROW_WITH(zeros({0}).argmax(), Error, "argmax");
  TT_EXPECT_THROW_WITH(zeros({3, 0}).max(1), Error, "max", "zero elements");
  TT_EXPECT_THROW_WITH(zeros({3, 0}).argmin(-1), Error, "argmin");
  // Reducing a non-empty dim of an empty tensor is fine: the result is empty.
  auto [v, i] = zeros({0, 3}).max(1);
  EXPECT_EQ(v.sizes().vec(), I{0});
  EXPECT_EQ(i.sizes().vec(), I{0});
}

TEST(Reductions, DimErrorsNameTheOpAndTheDim) {
  const Tensor x = zeros({2, 3});
  TT_EXPECT_THROW_WITH(x.sum(2), IndexError, "sum", "[-2, 1]", "2");
  TT_EXPECT_THROW_WITH(x.sum({-3}), IndexError, "sum", "-3");
  TT_EXPECT_THROW_WITH(x.mean({0, 5}), IndexError, "mean", "5");
  TT_EXPECT_THROW_WITH(x.var({7}), IndexError, "var", "7");
  TT_EXPECT_THROW_WITH(x.max(2), IndexError, "max", "2");
  TT_EXPECT_THROW_WITH(x.argmin(-3), IndexError, "argmin", "-3");
  TT_EXPECT_THROW_WITH((x.sum({1, -1})), Error, "sum", "multiple times");
  TT_EXPECT_THROW_WITH((x.mean({0, 0})), Error, "mean", "multiple times");
  TT_EXPECT_THROW_WITH(tensor(1.0).sum(1), IndexError, "sum", "1");
}

}  // namespace
}  // namespace tinytorch
