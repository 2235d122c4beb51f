// Module 01 — making tensors: tensor() from (nested) lists, from_vector, the filling factories,
// arange, eye, the random factories and their generators, and item() / to_vector().
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <vector>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::values_as_double;
using test::values_as_int;

std::vector<int64_t> shape_of(const Tensor& t) {
  return t.sizes().vec();
}

// ── tensor() from nested lists ────────────────────────────────────────────────────────────────

TEST(TensorFromList, NestedIntsGiveInt64) {
  const Tensor t = tensor({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(shape_of(t), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t.dtype(), kInt64);
  EXPECT_EQ(values_as_int(t), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.strides().vec(), (std::vector<int64_t>{3, 1}));
}

TEST(TensorFromList, AnyFloatGivesDefaultFloat32) {
  const Tensor t = tensor({1, 2.5, 3});
  EXPECT_EQ(t.dtype(), kFloat32);
  EXPECT_EQ(values_as_double(t), (std::vector<double>{1.0, 2.5, 3.0}));
}

TEST(TensorFromList, BoolsGiveBool) {
  const Tensor t = tensor({true, false, true});
  EXPECT_EQ(t.dtype(), kBool);
  EXPECT_EQ(values_as_int(t), (std::vector<int64_t>{1, 0, 1}));
  // Mixing bools and ints promotes to int64.
  EXPECT_EQ(tensor({true, 2}).dtype(), kInt64);
}

TEST(TensorFromList, ScalarIsZeroDim) {
  const Tensor t = tensor(3.5);
  EXPECT_EQ(t.dim(), 0);
  EXPECT_EQ(t.numel(), 1);
  EXPECT_EQ(t.dtype(), kFloat32);
  EXPECT_EQ(t.item<double>(), 3.5);
  EXPECT_EQ(tensor(int64_t{7}).dtype(), kInt64);
}

TEST(TensorFromList, EmptyListIsEmptyFloatTensor) {
  const Tensor t = tensor({});
  EXPECT_EQ(shape_of(t), (std::vector<int64_t>{0}));
  EXPECT_EQ(t.dtype(), kFloat32);
  EXPECT_EQ(t.numel(), 0);
}

TEST(TensorFromList, ThreeDims) {
  const Tensor t = tensor({{{1., 2.}}, {{3., 4.}}, {{5., 6.}}});
  EXPECT_EQ(shape_of(t), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_EQ(values_as_double(t), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(TensorFromList, ExplicitDtypeConverts) {
  const Tensor t = tensor({1, 2, 3}, kFloat64);
  EXPECT_EQ(t.dtype(), kFloat64);
  EXPECT_EQ(values_as_double(t), (std::vector<double>{1, 2, 3}));
  const Tensor i = tensor({1.9, -1.9}, kInt64);
  EXPECT_EQ(values_as_int(i), (std::vector<int64_t>{1, -1}));  // truncation toward zero
  const Tensor b = tensor({0.0, 0.5}, kBool);
  EXPECT_EQ(values_as_int(b), (std::vector<int64_t>{0, 1}));
}

TEST(TensorFromList, RaggedIsRejectedNamingTheShapes) {
  TT_EXPECT_THROW_WITH((tensor({{1, 2}, {3}})), ValueError, "rectangular", "[2]", "[1]");
  TT_EXPECT_THROW_WITH((tensor({{{1, 2}, {3, 4}}, {{5, 6}}})), ValueError, "rectangular", "[2, 2]",
                       "[1, 2]");
  // A scalar next to a list is ragged too.
  TT_EXPECT_THROW_WITH((tensor({{1, 2}, 3})), ValueError, "rectangular");
}

TEST(TensorFromList, FromStdVector) {
  const std::vector<double> v{0.5, 1.5};
  const Tensor t = tensor(v);
  EXPECT_EQ(shape_of(t), (std::vector<int64_t>{2}));
  EXPECT_EQ(values_as_double(t), (std::vector<double>{0.5, 1.5}));
}

// ── from_vector ───────────────────────────────────────────────────────────────────────────────

TEST(FromVector, KeepsTheElementTypeAndShape) {
  const Tensor f = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(f.dtype(), kFloat32);
  EXPECT_EQ(shape_of(f), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(values_as_double(f), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  const Tensor d = from_vector(std::vector<double>{0.1}, {});
  EXPECT_EQ(d.dtype(), kFloat64);
  EXPECT_EQ(d.dim(), 0);
  EXPECT_EQ(d.item<double>(), 0.1);
  const Tensor i = from_vector(std::vector<int64_t>{std::numeric_limits<int64_t>::max(), -1}, {2});
  EXPECT_EQ(i.dtype(), kInt64);
  EXPECT_EQ(values_as_int(i), (std::vector<int64_t>{std::numeric_limits<int64_t>::max(), -1}));
}

TEST(FromVector, DtypeOptionConverts) {
  const Tensor t = from_vector(std::vector<double>{1.5, -2.5}, {2}, kInt64);
  EXPECT_EQ(t.dtype(), kInt64);
  EXPECT_EQ(values_as_int(t), (std::vector<int64_t>{1, -2}));
}

TEST(FromVector, EmptyShape) {
  const Tensor t = from_vector(std::vector<float>{}, {0, 4});
  EXPECT_EQ(shape_of(t), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(t.numel(), 0);
}

TEST(FromVector, WrongCountNamesShapeAndCounts) {
  TT_EXPECT_THROW_WITH((from_vector(std::vector<float>{1, 2, 3, 4, 5}, {2, 3})), ValueError,
                       "from_vector", "[2, 3]", "6", "5");
}

// ── zeros / ones / full / empty ───────────────────────────────────────────────────────────────

TEST(Factories, ZerosOnesDefaultToFloat32) {
  const Tensor z = zeros({2, 3});
  EXPECT_EQ(z.dtype(), kFloat32);
  EXPECT_EQ(shape_of(z), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(values_as_double(z), std::vector<double>(6, 0.0));
  const Tensor o = ones({4}, kInt64);
  EXPECT_EQ(o.dtype(), kInt64);
  EXPECT_EQ(values_as_int(o), std::vector<int64_t>(4, 1));
  const Tensor ob = ones({2}, kBool);
  EXPECT_EQ(values_as_int(ob), std::vector<int64_t>(2, 1));
  EXPECT_EQ(zeros({}).dim(), 0);
  EXPECT_EQ(zeros({}).numel(), 1);
}

TEST(Factories, FullInfersDtypeFromTheValue) {
  EXPECT_EQ(full({2}, 3).dtype(), kInt64);
  EXPECT_EQ(full({2}, 3.5).dtype(), kFloat32);
  EXPECT_EQ(full({2}, 3.5f).dtype(), kFloat32);
  EXPECT_EQ(full({2}, true).dtype(), kBool);
  EXPECT_EQ(full({2}, 3, kFloat64).dtype(), kFloat64);
  EXPECT_EQ(values_as_double(full({3}, -1.25)), std::vector<double>(3, -1.25));
  EXPECT_EQ(values_as_int(full({2, 2}, int64_t{1} << 40)),
            std::vector<int64_t>(4, int64_t{1} << 40));
  // A float value into an int tensor truncates, as torch.full(..., dtype=torch.int64) does.
  EXPECT_EQ(values_as_int(full({2}, 2.9, kInt64)), std::vector<int64_t>(2, 2));
  EXPECT_TRUE(std::isnan(values_as_double(full({1}, NAN))[0]));
}

TEST(Factories, EmptyHasShapeDtypeAndContiguousStrides) {
  const Tensor e = empty({2, 3, 4}, kFloat64);
  EXPECT_EQ(shape_of(e), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(e.strides().vec(), (std::vector<int64_t>{12, 4, 1}));
  EXPECT_EQ(e.dtype(), kFloat64);
  EXPECT_EQ(e.storage_offset(), 0);
  EXPECT_EQ(e.nbytes(), 24 * 8);
  EXPECT_GE(static_cast<int64_t>(e.storage().nbytes()), e.nbytes());
}

TEST(Factories, LikeVariantsCopyShapeAndDtype) {
  const Tensor base = empty({3, 2}, kFloat64);
  const Tensor z = zeros_like(base);
  EXPECT_EQ(shape_of(z), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(z.dtype(), kFloat64);
  EXPECT_EQ(values_as_double(z), std::vector<double>(6, 0.0));
  EXPECT_EQ(ones_like(base).dtype(), kFloat64);
  EXPECT_EQ(ones_like(base, kInt64).dtype(), kInt64);
  EXPECT_EQ(values_as_double(full_like(base, 7)), std::vector<double>(6, 7.0));
  EXPECT_EQ(full_like(base, 7).dtype(), kFloat64);
  EXPECT_EQ(empty_like(base).dtype(), kFloat64);
  EXPECT_FALSE(empty_like(base).is_alias_of(base));
  EXPECT_EQ(rand_like(base).dtype(), kFloat64);
  EXPECT_EQ(shape_of(randn_like(base)), (std::vector<int64_t>{3, 2}));
}

TEST(Factories, NegativeSizesAreRejected) {
  TT_EXPECT_THROW_WITH((zeros({2, -1})), ValueError, "negative", "-1", "[2, -1]");
  TT_EXPECT_THROW_WITH(empty({-3}), ValueError, "-3");
  TT_EXPECT_THROW_WITH((full({-1}, 1.0)), ValueError, "-1");
}

TEST(Factories, HugeShapesOverflowCleanly) {
  const int64_t big = int64_t{1} << 40;
  TT_EXPECT_THROW_WITH((empty({big, big})), ValueError, "int64");
  // 2^62 elements fit in int64, but their bytes do not: the byte count must not wrap around to
  // a small allocation that the first write overruns.
  TT_EXPECT_THROW_WITH(empty({int64_t{1} << 62}), ValueError, "empty", "[4611686018427387904]",
                       "bytes");
  TT_EXPECT_THROW_WITH(zeros({int64_t{1} << 61}, kFloat64), ValueError, "empty", "bytes");
  TT_EXPECT_THROW_WITH((ones({int64_t{1} << 31, int64_t{1} << 31})), ValueError, "bytes");
}

// ── arange ──────────────────────────────────────────────────────────────────────────────────

TEST(Arange, IntegersGiveInt64) {
  const Tensor a = arange(5);
  EXPECT_EQ(a.dtype(), kInt64);
  EXPECT_EQ(values_as_int(a), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(values_as_int(arange(2, 11, 3)), (std::vector<int64_t>{2, 5, 8}));
  EXPECT_EQ(values_as_int(arange(3, -3, -2)), (std::vector<int64_t>{3, 1, -1}));
  EXPECT_EQ(arange(4, 4).numel(), 0);
  EXPECT_EQ(shape_of(arange(0)), (std::vector<int64_t>{0}));
}

TEST(Arange, FloatStepsGiveFloat32) {
  const Tensor a = arange(0, 1, 0.25);
  EXPECT_EQ(a.dtype(), kFloat32);
  EXPECT_EQ(values_as_double(a), (std::vector<double>{0, 0.25, 0.5, 0.75}));
  // The end is exclusive and the count is ceil((end - start) / step).
  const Tensor b = arange(1.0, 0.0, -0.3);
  ASSERT_EQ(b.numel(), 4);
  const std::vector<double> v = values_as_double(b);
  const std::vector<double> want{1.0, 0.7, 0.4, 0.1};
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(v[i], want[i], 1e-6) << i;
  // Elements are start + i * step, not a running sum: no drift over many steps.
  const Tensor c = arange(0.0, 100.0, 0.1, kFloat64);
  ASSERT_EQ(c.numel(), 1000);
  EXPECT_DOUBLE_EQ(values_as_double(c)[999], 999 * 0.1);
  EXPECT_EQ(arange(0.5, 3).dtype(), kFloat32);
  EXPECT_EQ(values_as_double(arange(0.5, 3)), (std::vector<double>{0.5, 1.5, 2.5}));
}

TEST(Arange, DtypeOption) {
  const Tensor a = arange(0, 3, 1, kFloat64);
  EXPECT_EQ(a.dtype(), kFloat64);
  EXPECT_EQ(values_as_double(a), (std::vector<double>{0, 1, 2}));
}

// libtorch's arange(start, end, options): the third argument is a dtype (or TensorOptions), not a
// step — and a number there is still the step.
TEST(Arange, StartEndOptionsOverload) {
  const Tensor a = arange(0, 10, kFloat64);
  EXPECT_EQ(a.dtype(), kFloat64);
  EXPECT_EQ(values_as_double(a), (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  const Tensor b = arange(2, 5, TensorOptions().dtype(kFloat32).requires_grad(true));
  EXPECT_EQ(b.dtype(), kFloat32);
  EXPECT_TRUE(b.requires_grad());
  EXPECT_EQ(values_as_double(b), (std::vector<double>{2, 3, 4}));
  EXPECT_EQ(values_as_int(arange(0, 10, 2)), (std::vector<int64_t>{0, 2, 4, 6, 8}));
  EXPECT_EQ(arange(0, 10, 2).dtype(), kInt64);
  EXPECT_EQ(values_as_double(arange(0, 3, 0.5)), (std::vector<double>{0, 0.5, 1, 1.5, 2, 2.5}));
  EXPECT_EQ(arange(1, 4).dtype(), kInt64);  // start, end alone: int64 as before
  EXPECT_EQ(arange(5, kFloat64).dtype(), kFloat64);
}

TEST(Arange, Errors) {
  TT_EXPECT_THROW_WITH(arange(0, 5, 0), ValueError, "arange", "step");
  TT_EXPECT_THROW_WITH(arange(0, 5, -1), ValueError, "arange", "step");
  TT_EXPECT_THROW_WITH(arange(5, 0, 1), ValueError, "arange");
  TT_EXPECT_THROW_WITH(arange(0.0, INFINITY, 1.0), ValueError, "arange");
  TT_EXPECT_THROW_WITH(arange(NAN), ValueError, "arange");
  // A finite range with more elements than int64 can count: said so, not "negative dimension".
  TT_EXPECT_THROW_WITH(arange(0, 1e300), ValueError, "arange", "1e+300", "elements");
  TT_EXPECT_THROW_WITH(arange(-1e308, 1e308), ValueError, "arange", "elements");
  TT_EXPECT_THROW_WITH(arange(0.0, 1.0, 1e-300), ValueError, "arange", "elements");
}

// ── eye ─────────────────────────────────────────────────────────────────────────────────────

TEST(Eye, SquareAndRectangular) {
  EXPECT_EQ(values_as_double(eye(3)), (std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(eye(3).dtype(), kFloat32);
  const Tensor r = eye(2, 4, kInt64);
  EXPECT_EQ(shape_of(r), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(values_as_int(r), (std::vector<int64_t>{1, 0, 0, 0, 0, 1, 0, 0}));
  const Tensor tall = eye(3, 2);
  EXPECT_EQ(values_as_double(tall), (std::vector<double>{1, 0, 0, 1, 0, 0}));
  EXPECT_EQ(eye(0).numel(), 0);
  EXPECT_EQ(shape_of(eye(0, 3)), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(eye(2, kBool).dtype(), kBool);
  TT_EXPECT_THROW_WITH(eye(-1), ValueError, "eye", "-1");
}

// ── random factories ────────────────────────────────────────────────────────────────────────

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}
double var_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(v.size() - 1);
}

TEST(Random, ManualSeedMakesTheDefaultGeneratorDeterministic) {
  manual_seed(1234);
  const Tensor a = rand({50});
  const Tensor b = randn({3, 5});
  const Tensor c = randint(0, 100, {20});
  manual_seed(1234);
  EXPECT_TRUE(test::tensors_match(rand({50}), a, 0, 0));
  EXPECT_TRUE(test::tensors_match(randn({3, 5}), b, 0, 0));
  EXPECT_TRUE(test::tensors_match(randint(0, 100, {20}), c, 0, 0));
  // A different seed gives different numbers.
  manual_seed(1235);
  EXPECT_FALSE(test::tensors_match(rand({50}), a, 0, 0));
  // Successive draws differ.
  manual_seed(1234);
  const Tensor first = rand({50});
  const Tensor second = rand({50});
  EXPECT_FALSE(test::tensors_match(first, second, 0, 0));
}

TEST(Random, ExplicitGeneratorIsIndependentOfTheDefault) {
  Generator g1(7), g2(7);
  manual_seed(99);
  const Tensor from_default = rand({10});
  manual_seed(99);
  const Tensor a = rand({10}, {}, &g1);
  // Drawing from g1 did not advance the default generator.
  EXPECT_TRUE(test::tensors_match(rand({10}), from_default, 0, 0));
  const Tensor b = rand({10}, {}, &g2);
  EXPECT_TRUE(test::tensors_match(a, b, 0, 0));
  EXPECT_TRUE(test::tensors_match(randn({4}, {}, &g1), randn({4}, {}, &g2), 0, 0));
  EXPECT_TRUE(
      test::tensors_match(randint(3, 9, {6}, kInt64, &g1), randint(3, 9, {6}, kInt64, &g2), 0, 0));
  EXPECT_EQ(g1.initial_seed(), 7u);
  // Reseeding restarts the stream.
  g1.manual_seed(7);
  EXPECT_TRUE(test::tensors_match(rand({10}, {}, &g1), a, 0, 0));
}

TEST(Random, GeneratorStateRoundTrips) {
  Generator g(5);
  static_cast<void>(randn({3}, {}, &g));  // leaves a cached Box–Muller value behind
  const Generator::State s = g.get_state();
  const Tensor a = randn({7}, {}, &g);
  g.set_state(s);
  EXPECT_TRUE(test::tensors_match(randn({7}, {}, &g), a, 0, 0));
}

TEST(Random, SameSeedSameNumbersAcrossDtypes) {
  Generator g(11);
  const Tensor f = rand({3}, kFloat64, &g);
  EXPECT_EQ(f.dtype(), kFloat64);
  const Tensor h = rand({3}, kFloat32, &g);
  EXPECT_EQ(h.dtype(), kFloat32);
  TT_EXPECT_THROW_WITH(rand({3}, kInt64, &g), TypeError, "rand", "int64");
  TT_EXPECT_THROW_WITH(randn({3}, kBool, &g), TypeError, "randn", "bool");
}

TEST(Random, RandIsUniformInUnitInterval) {
  Generator g(2024);
  const std::vector<double> v = values_as_double(rand({10000}, {}, &g));
  EXPECT_GE(*std::min_element(v.begin(), v.end()), 0.0);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 1.0);
  EXPECT_NEAR(mean_of(v), 0.5, 0.015);        // std error 0.0029
  EXPECT_NEAR(var_of(v), 1.0 / 12.0, 0.004);  // std error ~0.0007
  // Both halves of the interval are hit about equally.
  const auto low = std::count_if(v.begin(), v.end(), [](double x) { return x < 0.5; });
  EXPECT_NEAR(static_cast<double>(low), 5000.0, 250.0);
  const std::vector<double> d = values_as_double(rand({10000}, kFloat64, &g));
  EXPECT_GE(*std::min_element(d.begin(), d.end()), 0.0);
  EXPECT_LT(*std::max_element(d.begin(), d.end()), 1.0);
  EXPECT_NEAR(mean_of(d), 0.5, 0.015);
}

TEST(Random, RandnIsStandardNormal) {
  Generator g(31337);
  const std::vector<double> v = values_as_double(randn({10000}, {}, &g));
  EXPECT_NEAR(mean_of(v), 0.0, 0.04);  // std error 0.01
  EXPECT_NEAR(var_of(v), 1.0, 0.06);   // std error ~0.014
  const auto within1 = std::count_if(v.begin(), v.end(), [](double x) { return std::abs(x) < 1; });
  EXPECT_NEAR(static_cast<double>(within1) / 10000.0, 0.6827, 0.02);
  for (double x : v) ASSERT_TRUE(std::isfinite(x));
  const std::vector<double> d = values_as_double(randn({10000}, kFloat64, &g));
  EXPECT_NEAR(mean_of(d), 0.0, 0.04);
  EXPECT_NEAR(var_of(d), 1.0, 0.06);
}

TEST(Random, RandpermIsAPermutationAndRepeatsUnderASeed) {
  Generator g(5);
  const Tensor p = randperm(50, kInt64, &g);
  EXPECT_EQ(p.dtype(), kInt64);
  std::vector<int64_t> v = values_as_int(p);
  std::vector<int64_t> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
  EXPECT_FALSE(std::is_sorted(v.begin(), v.end()));  // 1 chance in 50! of a false failure
  Generator g2(5);
  EXPECT_TRUE(test::tensors_match(randperm(50, kInt64, &g2), p, 0, 0));
  // Every position is uniform: over many draws, element 0 lands in each of 4 places ~1/4.
  std::vector<int> where(4, 0);
  for (int k = 0; k < 4000; ++k) {
    const std::vector<int64_t> q = values_as_int(randperm(4, kInt64, &g));
    ++where[static_cast<size_t>(std::find(q.begin(), q.end(), 0) - q.begin())];
  }
  for (const int w : where) EXPECT_NEAR(w / 4000.0, 0.25, 0.03);  // std error 0.007
  EXPECT_EQ(randperm(0).numel(), 0);
  EXPECT_EQ(randperm(3, kFloat32).dtype(), kFloat32);
  TT_EXPECT_THROW_WITH(randperm(-1), ValueError, "non-negative, got -1");
}

TEST(Random, RandintStaysInRangeAndCoversIt) {
  Generator g(77);
  const Tensor t = randint(-3, 4, {10000}, kInt64, &g);
  EXPECT_EQ(t.dtype(), kInt64);
  const std::vector<int64_t> v = values_as_int(t);
  std::set<int64_t> seen(v.begin(), v.end());
  EXPECT_EQ(seen, (std::set<int64_t>{-3, -2, -1, 0, 1, 2, 3}));
  std::vector<double> d(v.begin(), v.end());
  EXPECT_NEAR(mean_of(d), 0.0, 0.1);  // std error 0.02
  EXPECT_NEAR(var_of(d), 4.0, 0.25);  // (7^2 - 1) / 12 = 4
  // One-argument form is [0, high); a float dtype holds whole numbers.
  const Tensor f = randint(5, {100}, kFloat32, &g);
  EXPECT_EQ(f.dtype(), kFloat32);
  for (double x : values_as_double(f)) {
    EXPECT_EQ(x, std::floor(x));
    EXPECT_GE(x, 0);
    EXPECT_LT(x, 5);
  }
  // The full int64 range works without overflow.
  const Tensor wide = randint(std::numeric_limits<int64_t>::min(),
                              std::numeric_limits<int64_t>::max(), {16}, kInt64, &g);
  EXPECT_EQ(wide.numel(), 16);
}

TEST(Random, RandintRejectsEmptyRange) {
  TT_EXPECT_THROW_WITH((randint(5, 5, {3})), ValueError, "5");
  TT_EXPECT_THROW_WITH((randint(0, {3})), ValueError, "0");
}

// ── item / to_vector ────────────────────────────────────────────────────────────────────────

TEST(Item, OneElementTensorsOfEveryDtype) {
  EXPECT_EQ(tensor(2.5).item<double>(), 2.5);
  EXPECT_EQ(tensor({{int64_t{-4}}}).item<int64_t>(), -4);
  EXPECT_EQ(tensor(true).item<bool>(), true);
  EXPECT_EQ(full({1, 1, 1}, 3, kFloat64).item<double>(), 3.0);
  const Scalar s = tensor(7).item();
  EXPECT_TRUE(s.is_integral());
  EXPECT_EQ(s.to<int64_t>(), 7);
  EXPECT_TRUE(tensor(1.5).item().is_floating_point());
  EXPECT_TRUE(tensor(false).item().is_boolean());
  // item() of a view reads the viewed element, not element 0 of the storage.
  const Tensor a = arange(10);
  EXPECT_EQ(a.select(0, 7).item<int64_t>(), 7);
  EXPECT_EQ(a.narrow(0, 3, 1).item<int64_t>(), 3);
  // Large int64 values are exact.
  EXPECT_EQ(tensor(std::numeric_limits<int64_t>::max()).item<int64_t>(),
            std::numeric_limits<int64_t>::max());
}

TEST(Item, ToVectorIsRowMajorLogicalOrder) {
  const Tensor t = arange(6).view({2, 3}).t();
  EXPECT_EQ(t.to_vector<int64_t>(), (std::vector<int64_t>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(t.to_vector<double>(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(tensor({true, false}).to_vector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ(tensor({1.5f, 2.5f}).to_vector<float>(), (std::vector<float>{1.5f, 2.5f}));
}

}  // namespace
}  // namespace tinytorch
