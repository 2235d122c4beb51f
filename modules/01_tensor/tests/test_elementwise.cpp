// Module 01 — element-wise ops: values, broadcasting, type promotion, non-contiguous operands,
// the in-place forms (through views, their broadcasting and aliasing rules), copy_/fill_,
// dtype conversion, and allclose/equal.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "support/reference.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using D = std::vector<double>;
using I = std::vector<int64_t>;
using test::tensors_match;
using test::values_as_double;
using test::values_as_int;

constexpr int64_t kMin64 = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax64 = std::numeric_limits<int64_t>::max();

// ── out-of-place arithmetic ─────────────────────────────────────────────────────────────────

TEST(Arithmetic, BasicValues) {
  const Tensor a = tensor({1.0, 2.0, 3.0});
  const Tensor b = tensor({4.0, -5.0, 0.5});
  EXPECT_EQ(values_as_double(a + b), (D{5, -3, 3.5}));
  EXPECT_EQ(values_as_double(a - b), (D{-3, 7, 2.5}));
  EXPECT_EQ(values_as_double(a * b), (D{4, -10, 1.5}));
  EXPECT_EQ(values_as_double(a / b), (D{0.25, -0.4f, 6}));
  EXPECT_EQ(values_as_double(-a), (D{-1, -2, -3}));
  EXPECT_EQ(values_as_double(add(a, b, 2)), (D{9, -8, 4}));
  EXPECT_EQ(values_as_double(a.add(b, -1)), (D{-3, 7, 2.5}));
  EXPECT_EQ(values_as_double(sub(a, b, 0.5)), (D{-1, 4.5, 2.75}));
  EXPECT_EQ(values_as_double(mul(a, b)), values_as_double(a * b));
  EXPECT_EQ(values_as_double(div(a, b)), values_as_double(a / b));
  EXPECT_EQ((a + b).dtype(), kFloat32);
}

TEST(Arithmetic, Scalars) {
  const Tensor a = tensor({1.0, 2.0, 4.0});
  EXPECT_EQ(values_as_double(a + 1), (D{2, 3, 5}));
  EXPECT_EQ(values_as_double(1 + a), (D{2, 3, 5}));
  EXPECT_EQ(values_as_double(a - 1), (D{0, 1, 3}));
  EXPECT_EQ(values_as_double(10 - a), (D{9, 8, 6}));
  EXPECT_EQ(values_as_double(a * 0.5), (D{0.5, 1, 2}));
  EXPECT_EQ(values_as_double(3 * a), (D{3, 6, 12}));
  EXPECT_EQ(values_as_double(a / 2), (D{0.5, 1, 2}));
  EXPECT_EQ(values_as_double(8 / a), (D{8, 4, 2}));
  EXPECT_EQ(values_as_double(a.pow(2)), (D{1, 4, 16}));
  EXPECT_EQ(values_as_double(pow(2, a)), (D{2, 4, 16}));
  EXPECT_EQ(values_as_double(a.add(1, 3)), (D{4, 5, 7}));  // self + alpha * other
  EXPECT_EQ(values_as_double(a.sub(1, 2)), (D{-1, 0, 2}));
  // Scalars never widen a float tensor...
  EXPECT_EQ((a + 1.5).dtype(), kFloat32);
  EXPECT_EQ((tensor({1.0}, kFloat64) * 2).dtype(), kFloat64);
  // ...but raise the category of an integer tensor to the default float.
  EXPECT_EQ((arange(3) + 0.5).dtype(), kFloat32);
  EXPECT_EQ(values_as_double(arange(3) + 0.5), (D{0.5, 1.5, 2.5}));
  EXPECT_EQ((arange(3) * 2).dtype(), kInt64);
  EXPECT_EQ((tensor({true, false}) + 1).dtype(), kInt64);
  EXPECT_EQ((tensor({true, false}) + true).dtype(), kBool);
}

TEST(Arithmetic, BroadcastingShapesAndValues) {
  const Tensor col = tensor({{1.0}, {2.0}, {3.0}});  // [3, 1]
  const Tensor row = tensor({10.0, 20.0});           // [2]
  const Tensor s = col + row;
  EXPECT_EQ(s.sizes().vec(), (I{3, 2}));
  EXPECT_EQ(values_as_double(s), (D{11, 21, 12, 22, 13, 23}));
  EXPECT_EQ((row + col).sizes().vec(), (I{3, 2}));
  EXPECT_EQ((zeros({2, 1, 4}) * zeros({3, 1})).sizes().vec(), (I{2, 3, 4}));
  EXPECT_EQ((zeros({}) + zeros({5})).sizes().vec(), I{5});
  EXPECT_EQ((zeros({0}) + zeros({1})).sizes().vec(), I{0});
  EXPECT_EQ((zeros({2, 0}) + zeros({2, 1})).sizes().vec(), (I{2, 0}));
  EXPECT_EQ((tensor(2.0) + tensor(3.0)).dim(), 0);
  EXPECT_EQ((tensor(2.0) + tensor(3.0)).item<double>(), 5.0);
  TT_EXPECT_THROW_WITH(zeros({2, 3}) + zeros({3, 2}), Error, "add", "[2, 3]", "[3, 2]");
  TT_EXPECT_THROW_WITH(zeros({2, 3}) * zeros({2}), Error, "mul", "[2, 3]", "[2]");
  TT_EXPECT_THROW_WITH(zeros({0}) - zeros({2}), Error, "sub", "[0]", "[2]");
  TT_EXPECT_THROW_WITH(zeros({4}) / zeros({3}), Error, "div", "[4]", "[3]");
}

TEST(Arithmetic, NonContiguousOperandsGiveTheSameValues) {
  const Tensor a = arange(12, kFloat32).view({3, 4});
  const Tensor t = a.t();                                    // [4, 3] transposed
  const Tensor tc = t.contiguous();                          // same values, contiguous
  const Tensor e = tensor({1.0, -1.0, 2.0}).expand({4, 3});  // stride 0 rows
  const Tensor sl = arange(24, kFloat32).view({4, 6}).slice(1, 0, std::nullopt, 2);  // gaps
  for (const Tensor& other : {e, sl, t}) {
    EXPECT_TRUE(tensors_match(t + other, tc + other.contiguous(), 0, 0));
    EXPECT_TRUE(tensors_match(t * other, tc * other.contiguous(), 0, 0));
    EXPECT_TRUE(tensors_match(other - t, other.contiguous() - tc, 0, 0));
  }
  EXPECT_TRUE((t + e).is_contiguous());  // results are always fresh contiguous tensors
  EXPECT_FALSE((t + e).is_alias_of(a));
}

TEST(Arithmetic, HighRankNonContiguousOperands) {
  // 4-d permuted, sliced and broadcast operands: the strided loop must carry across several
  // outer dims that cannot be merged.
  const Tensor a = arange(120, kFloat64).view({2, 3, 4, 5}).permute({3, 1, 0, 2});  // [5, 3, 2, 4]
  const Tensor b = arange(240, kFloat64).view({5, 3, 2, 8}).slice(3, 1, std::nullopt, 2);
  const Tensor c = tensor({{{1.0, 2.0, 3.0, 4.0}}, {{5.0, 6.0, 7.0, 8.0}}, {{9.0, 0.5, 0.25, 2.0}}},
                          kFloat64);  // [3, 1, 4], broadcast over dims 0 and 2
  ASSERT_EQ(b.sizes().vec(), (I{5, 3, 2, 4}));
  const D av = values_as_double(a), bv = values_as_double(b), cv = values_as_double(c);
  D sum_want, mul_want;
  for (int64_t i = 0; i < 5; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      for (int64_t k = 0; k < 2; ++k) {
        for (int64_t l = 0; l < 4; ++l) {
          const auto flat = static_cast<size_t>(((i * 3 + j) * 2 + k) * 4 + l);
          sum_want.push_back(av[flat] + bv[flat]);
          mul_want.push_back(av[flat] * cv[static_cast<size_t>(j * 4 + l)]);
        }
      }
    }
  }
  EXPECT_EQ(values_as_double(a + b), sum_want);
  EXPECT_EQ(values_as_double(a * c), mul_want);
  EXPECT_EQ(values_as_double(c * a), mul_want);
  // In place through the permuted view: the base sees the results at the permuted positions.
  Tensor base = arange(120, kFloat64).view({2, 3, 4, 5});
  base.permute({3, 1, 0, 2}).add_(b);
  EXPECT_EQ(values_as_double(base.permute({3, 1, 0, 2})), sum_want);
}

TEST(Arithmetic, IntegerDivisionIsTrueDivision) {
  const Tensor a = tensor({7, -7, 1, 0});
  const Tensor b = tensor({2, 2, 0, 0});
  const Tensor q = a / b;
  EXPECT_EQ(q.dtype(), kFloat32);
  const D v = values_as_double(q);
  EXPECT_EQ(v[0], 3.5);
  EXPECT_EQ(v[1], -3.5);
  EXPECT_EQ(v[2], std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(v[3]));
  EXPECT_EQ((a / 2).dtype(), kFloat32);
  EXPECT_EQ((tensor({true}) / tensor({true})).dtype(), kFloat32);
  EXPECT_EQ((a / tensor({2.0}, kFloat64)).dtype(), kFloat64);
}

TEST(Arithmetic, IntegerOverflowWrapsAround) {
  const Tensor big = tensor({kMax64, kMin64});
  EXPECT_EQ(values_as_int(big + 1), (I{kMin64, kMin64 + 1}));
  EXPECT_EQ(values_as_int(big - 1), (I{kMax64 - 1, kMax64}));
  EXPECT_EQ(values_as_int(big * 2), (I{-2, 0}));
  EXPECT_EQ(values_as_int(-tensor({kMin64})), I{kMin64});
  EXPECT_EQ(values_as_int(tensor({kMin64}).abs()), I{kMin64});
  // 3^41 mod 2^64, as a signed value (what PyTorch gives).
  EXPECT_EQ(values_as_int(tensor({int64_t{3}}).pow(tensor({int64_t{41}}))), I{-420491770248316829});
}

TEST(Arithmetic, BoolArithmetic) {
  const Tensor a = tensor({true, true, false, false});
  const Tensor b = tensor({true, false, true, false});
  EXPECT_EQ((a + b).dtype(), kBool);
  EXPECT_EQ(values_as_int(a + b), (I{1, 1, 1, 0}));  // logical or
  EXPECT_EQ(values_as_int(a * b), (I{1, 0, 0, 0}));  // logical and
  TT_EXPECT_THROW_WITH(a - b, TypeError, "sub", "bool");
  TT_EXPECT_THROW_WITH(a - 1, TypeError, "sub", "bool");
  TT_EXPECT_THROW_WITH(arange(2) - a.narrow(0, 0, 2), TypeError, "sub", "bool");
  TT_EXPECT_THROW_WITH(-a, TypeError, "neg", "bool");
  TT_EXPECT_THROW_WITH(a.abs(), TypeError, "abs", "bool");
  TT_EXPECT_THROW_WITH(a.pow(b), TypeError, "pow", "bool");
  EXPECT_EQ(values_as_int(a.pow(2)), (I{1, 1, 0, 0}));  // computed in int64
  EXPECT_EQ(a.pow(2).dtype(), kInt64);
}

TEST(Arithmetic, AlphaMustMatchTheCategory) {
  TT_EXPECT_THROW_WITH(arange(3).add(arange(3), 1.5), TypeError, "add", "alpha");
  TT_EXPECT_THROW_WITH(arange(3).sub(arange(3), 0.5), TypeError, "sub", "alpha");
  EXPECT_EQ(values_as_double(arange(3).add(tensor({0.5, 0.5, 0.5}), 2.0)), (D{1, 2, 3}));
}

// ── type promotion ──────────────────────────────────────────────────────────────────────────

TEST(Promotion, ResultTypeFollowsPyTorch) {
  const Tensor b = tensor({true}), i = tensor({1}), f = tensor({1.0}), d = tensor({1.0}, kFloat64);
  // Dimensioned tensors: the wider dtype wins.
  EXPECT_EQ(result_type(b, i), kInt64);
  EXPECT_EQ(result_type(i, f), kFloat32);
  EXPECT_EQ(result_type(f, d), kFloat64);
  EXPECT_EQ(result_type(b, b), kBool);
  // A 0-d tensor only matters when it raises the category.
  EXPECT_EQ(result_type(f, tensor(1.0, kFloat64)), kFloat32);
  EXPECT_EQ(result_type(i, tensor(1.0, kFloat64)), kFloat64);
  EXPECT_EQ(result_type(i, tensor(1.0)), kFloat32);
  EXPECT_EQ(result_type(b, tensor(3)), kInt64);
  EXPECT_EQ(result_type(tensor(3), f), kFloat32);
  EXPECT_EQ(result_type(tensor(3), b), kInt64);
  EXPECT_EQ(result_type(tensor(1.0), tensor(1.0, kFloat64)), kFloat64);  // both 0-d
  // A one-element tensor is dimensioned, not 0-d.
  EXPECT_EQ(result_type(tensor({1.0}, kFloat64), f), kFloat64);
  // Scalars (wrapped numbers): float → default float32 for non-float tensors.
  EXPECT_EQ(result_type(i, Scalar(2.5)), kFloat32);
  EXPECT_EQ(result_type(b, Scalar(2.5)), kFloat32);
  EXPECT_EQ(result_type(d, Scalar(2.5)), kFloat64);
  EXPECT_EQ(result_type(f, Scalar(2)), kFloat32);
  EXPECT_EQ(result_type(b, Scalar(2)), kInt64);
  EXPECT_EQ(result_type(i, Scalar(true)), kInt64);
  EXPECT_EQ(result_type(b, Scalar(false)), kBool);
  // And the ops use it.
  EXPECT_EQ((i + tensor(0.5, kFloat64)).dtype(), kFloat64);
  EXPECT_EQ((f + tensor(0.5, kFloat64)).dtype(), kFloat32);
  EXPECT_EQ((b * i).dtype(), kInt64);
  EXPECT_EQ(maximum(i, f).dtype(), kFloat32);
  EXPECT_EQ(where(tensor({true}), i, d).dtype(), kFloat64);
}

// ── unary ops, pow, clamp, maximum/minimum ──────────────────────────────────────────────────

TEST(Unary, Values) {
  const Tensor x = tensor({0.0, 1.0, 4.0}, kFloat64);
  EXPECT_TRUE(tensors_match(x.exp(), tensor({1.0, std::exp(1.0), std::exp(4.0)}, kFloat64)));
  EXPECT_EQ(values_as_double(x.sqrt()), (D{0, 1, 2}));
  EXPECT_TRUE(tensors_match(x.log(), tensor({-INFINITY, 0.0, std::log(4.0)}, kFloat64)));
  EXPECT_TRUE(tensors_match(tensor({0.5f, -3.0f}).exp(),
                            tensor({std::exp(0.5), std::exp(-3.0)}, kFloat32)));
  EXPECT_TRUE(std::isnan(values_as_double(tensor({-1.0}).log())[0]));
  EXPECT_TRUE(std::isnan(values_as_double(tensor({-1.0}).sqrt())[0]));
  EXPECT_EQ(values_as_double(tensor({-2.5, 0.0, 3.0}).abs()), (D{2.5, 0, 3}));
  EXPECT_EQ(values_as_int(tensor({-2, 0, 3}).abs()), (I{2, 0, 3}));
  EXPECT_EQ(values_as_double(exp(x)), values_as_double(x.exp()));
  EXPECT_EQ(values_as_double(log(x)), values_as_double(x.log()));
  EXPECT_EQ(values_as_double(sqrt(x)), values_as_double(x.sqrt()));
  EXPECT_EQ(values_as_double(abs(-x)), values_as_double(x));
  EXPECT_EQ(values_as_double(neg(x)), values_as_double(-x));
}

TEST(Unary, IntegersBecomeFloatForFloatFunctions) {
  const Tensor i = tensor({0, 1, 4});
  EXPECT_EQ(i.exp().dtype(), kFloat32);
  EXPECT_EQ(i.sqrt().dtype(), kFloat32);
  EXPECT_EQ(values_as_double(i.sqrt()), (D{0, 1, 2}));
  EXPECT_EQ(tensor({true}).log().dtype(), kFloat32);
  EXPECT_EQ(i.abs().dtype(), kInt64);
  EXPECT_EQ(i.neg().dtype(), kInt64);
}

TEST(Pow, TensorAndScalarExponents) {
  EXPECT_TRUE(
      tensors_match(tensor({2.0, 3.0}).pow(tensor({3.0, 0.5})), tensor({8.0, std::sqrt(3.0)})));
  EXPECT_EQ(values_as_int(tensor({2, -3, 5}).pow(tensor({10, 3, 0}))), (I{1024, -27, 1}));
  // Negative integer exponents inside a tensor give PyTorch's integer results.
  EXPECT_EQ(values_as_int(tensor({2, 1, -1, -1}).pow(tensor({-1, -5, -3, -2}))), (I{0, 1, -1, 1}));
  TT_EXPECT_THROW_WITH(tensor({2}).pow(-1), ValueError, "pow", "negative");
  EXPECT_EQ(tensor({4, 9}).pow(0.5).dtype(), kFloat32);
  EXPECT_EQ(values_as_double(tensor({4, 9}).pow(0.5)), (D{2, 3}));
  EXPECT_EQ(values_as_double(tensor({2.0}).pow(-1)), (D{0.5}));
  EXPECT_EQ(values_as_double(pow(tensor({2.0, 3.0}), 2)), (D{4, 9}));
  EXPECT_EQ(values_as_double(pow(tensor({2.0}), tensor({3.0}))), (D{8}));
  EXPECT_EQ(pow(2, tensor({1, 2})).dtype(), kInt64);
  EXPECT_EQ(values_as_int(pow(2, tensor({1, 2}))), (I{2, 4}));
  EXPECT_EQ(pow(2.0, tensor({1, 2})).dtype(), kFloat32);
  EXPECT_EQ(values_as_double(tensor({NAN}).pow(0)), (D{1}));  // x^0 = 1, even NaN
}

TEST(Clamp, BoundsNanAndTypes) {
  const Tensor x = tensor({-3.0, 0.5, 7.0, NAN});
  D v = values_as_double(x.clamp(-1.0, 2.0));
  EXPECT_EQ(v[0], -1);
  EXPECT_EQ(v[1], 0.5);
  EXPECT_EQ(v[2], 2);
  EXPECT_TRUE(std::isnan(v[3]));
  v = values_as_double(x.clamp_min(0));
  EXPECT_EQ(v[0], 0);
  EXPECT_EQ(v[2], 7);
  v = values_as_double(x.clamp_max(0));
  EXPECT_EQ(v[0], -3);
  EXPECT_EQ(v[2], 0);
  v = values_as_double(clamp(x, std::nullopt, 1.0));
  EXPECT_EQ(v[2], 1);
  // min > max: everything becomes max.
  v = values_as_double(x.clamp(3.0, 1.0));
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[2], 1);
  EXPECT_EQ(values_as_int(tensor({-5, 0, 9}).clamp(-2, 4)), (I{-2, 0, 4}));
  EXPECT_EQ(tensor({1, 2, 3}).clamp(1.5).dtype(), kFloat32);
  EXPECT_EQ(values_as_double(tensor({1, 2, 3}).clamp(1.5)), (D{1.5, 2, 3}));
  TT_EXPECT_THROW_WITH(x.clamp(std::nullopt, std::nullopt), Error, "clamp", "min", "max");
}

TEST(MaximumMinimum, PropagateNan) {
  const Tensor a = tensor({1.0, NAN, -2.0, 5.0});
  const Tensor b = tensor({2.0, 1.0, NAN, 5.0});
  const D mx = values_as_double(maximum(a, b));
  const D mn = values_as_double(minimum(a, b));
  EXPECT_EQ(mx[0], 2);
  EXPECT_TRUE(std::isnan(mx[1]));
  EXPECT_TRUE(std::isnan(mx[2]));
  EXPECT_EQ(mx[3], 5);
  EXPECT_EQ(mn[0], 1);
  EXPECT_TRUE(std::isnan(mn[1]));
  EXPECT_TRUE(std::isnan(mn[2]));
  EXPECT_EQ(values_as_int(tensor({1, 7}).maximum(tensor({{3}, {-1}}))), (I{3, 7, 1, 7}));
  EXPECT_EQ(values_as_int(tensor({1, 7}).minimum(tensor({{3}, {-1}}))), (I{1, 3, -1, -1}));
}

// ── comparisons and where ───────────────────────────────────────────────────────────────────

TEST(Comparisons, ReturnBoolTensors) {
  const Tensor a = tensor({1.0, 2.0, NAN});
  const Tensor b = tensor({1.0, 3.0, NAN});
  EXPECT_EQ((a == b).dtype(), kBool);
  EXPECT_EQ(values_as_int(a == b), (I{1, 0, 0}));  // NaN != NaN
  EXPECT_EQ(values_as_int(a != b), (I{0, 1, 1}));
  EXPECT_EQ(values_as_int(a < b), (I{0, 1, 0}));
  EXPECT_EQ(values_as_int(a <= b), (I{1, 1, 0}));
  EXPECT_EQ(values_as_int(a > b), (I{0, 0, 0}));
  EXPECT_EQ(values_as_int(a >= b), (I{1, 0, 0}));
  EXPECT_EQ(values_as_int(a > 1.5), (I{0, 1, 0}));
  EXPECT_EQ(values_as_int(a == 2), (I{0, 1, 0}));
  EXPECT_EQ(values_as_int(a.ge(2)), (I{0, 1, 0}));
  EXPECT_EQ(values_as_int(a.lt(b)), values_as_int(a < b));
  // Mixed dtypes compare in the promoted type: 1 < 1.5.
  EXPECT_EQ(values_as_int(tensor({1, 2}) < tensor({1.5, 1.5})), (I{1, 0}));
  EXPECT_EQ(values_as_int(tensor({1, 2}) < 1.5), (I{1, 0}));
  // Broadcasting.
  const Tensor c = tensor({{1}, {2}}) == tensor({1, 2, 3});
  EXPECT_EQ(c.sizes().vec(), (I{2, 3}));
  EXPECT_EQ(values_as_int(c), (I{1, 0, 0, 0, 1, 0}));
  // Large int64 values compare exactly (not through float).
  EXPECT_EQ(values_as_int(tensor({kMax64}) == tensor({kMax64 - 1})), I{0});
}

TEST(Where, AllForms) {
  const Tensor cond = tensor({true, false, true});
  const Tensor x = tensor({1.0, 2.0, 3.0});
  const Tensor y = tensor({-1.0, -2.0, -3.0});
  EXPECT_EQ(values_as_double(where(cond, x, y)), (D{1, -2, 3}));
  EXPECT_EQ(values_as_double(x.where(cond, y)), (D{1, -2, 3}));
  EXPECT_EQ(values_as_double(where(cond, x, 0.0)), (D{1, 0, 3}));
  EXPECT_EQ(values_as_double(where(cond, 9.0, y)), (D{9, -2, 9}));
  const Tensor w = where(tensor({{true}, {false}}), tensor({1, 2}), tensor(0));
  EXPECT_EQ(w.sizes().vec(), (I{2, 2}));
  EXPECT_EQ(w.dtype(), kInt64);
  EXPECT_EQ(values_as_int(w), (I{1, 2, 0, 0}));
  EXPECT_EQ(where(cond, tensor({1, 2, 3}), y).dtype(), kFloat32);
  // NaN in the branch not taken does not leak.
  EXPECT_EQ(values_as_double(where(tensor({true}), tensor({1.0}), tensor({NAN}))), (D{1}));
  TT_EXPECT_THROW_WITH(where(tensor({1.0, 0.0, 1.0}), x, y), TypeError, "where", "bool", "float32");
  TT_EXPECT_THROW_WITH(where(tensor({1, 0, 1}), x, y), TypeError, "where", "int64");
  TT_EXPECT_THROW_WITH(where(tensor({true, false}), x, y), Error, "where", "[2]", "[3]");
}

// ── in-place ops ────────────────────────────────────────────────────────────────────────────

TEST(InPlace, ReturnSelfAndModifyIt) {
  Tensor x = tensor({1.0, 2.0, 3.0});
  const void* p = x.data_ptr();
  EXPECT_EQ(&x.add_(tensor({1.0, 1.0, 1.0})), &x);
  EXPECT_EQ(&x.sub_(1), &x);
  EXPECT_EQ(&x.mul_(2), &x);
  EXPECT_EQ(&x.div_(tensor({2.0})), &x);
  EXPECT_EQ(values_as_double(x), (D{1, 2, 3}));
  EXPECT_EQ(&x.pow_(2), &x);
  EXPECT_EQ(values_as_double(x), (D{1, 4, 9}));
  EXPECT_EQ(&x.sqrt_(), &x);
  EXPECT_EQ(&x.neg_(), &x);
  EXPECT_EQ(values_as_double(x), (D{-1, -2, -3}));
  EXPECT_EQ(&x.abs_(), &x);
  EXPECT_EQ(&x.clamp_(1.5, 2.5), &x);
  EXPECT_EQ(values_as_double(x), (D{1.5, 2, 2.5}));
  EXPECT_EQ(&x.fill_(0), &x);
  EXPECT_EQ(&x.zero_(), &x);
  EXPECT_EQ(&x.exp_(), &x);
  EXPECT_EQ(values_as_double(x), (D{1, 1, 1}));
  EXPECT_EQ(&x.log_(), &x);
  EXPECT_EQ(values_as_double(x), (D{0, 0, 0}));
  EXPECT_EQ(x.data_ptr(), p) << "in-place ops must not reallocate";
  x += 1;
  x *= tensor({2.0, 3.0, 4.0});
  x -= tensor({1.0});
  x /= 2;
  EXPECT_EQ(values_as_double(x), (D{0.5, 1, 1.5}));
  EXPECT_EQ(x.data_ptr(), p);
}

TEST(InPlace, ThroughViewsWritesTheBase) {
  Tensor base = zeros({3, 4});
  base.select(1, 2).add_(1);                              // column 2 += 1
  base.t().select(0, 0).add_(tensor({1.0, 2.0, 3.0}));    // column 0 += [1, 2, 3]
  base.narrow(0, 2, 1).mul_(10);                          // row 2 *= 10
  base.slice(1, 1, std::nullopt, 2).sub_(0.5);            // columns 1 and 3 -= 0.5
  EXPECT_EQ(values_as_double(base), (D{1, -0.5, 1, -0.5,  //
                                       2, -0.5, 1, -0.5,  //
                                       30, -0.5, 10, -0.5}));
}

TEST(InPlace, OtherBroadcastsToSelfButNeverTheReverse) {
  Tensor x = zeros({2, 3});
  x.add_(tensor({1.0, 2.0, 3.0}));
  x.add_(tensor({{10.0}, {20.0}}));
  x.mul_(tensor(2.0));
  EXPECT_EQ(values_as_double(x), (D{22, 24, 26, 42, 44, 46}));
  Tensor small = zeros({3});
  TT_EXPECT_THROW_WITH(small.add_(zeros({2, 3})), Error, "add_", "[3]", "[2, 3]");
  Tensor one_row = zeros({1, 3});
  TT_EXPECT_THROW_WITH(one_row.mul_(zeros({2, 3})), Error, "mul_", "[1, 3]", "[2, 3]");
  TT_EXPECT_THROW_WITH(x.add_(zeros({3, 2})), Error, "add_", "[2, 3]", "[3, 2]");
}

TEST(InPlace, DtypeRules) {
  Tensor i = tensor({1, 2, 3});
  TT_EXPECT_THROW_WITH(i.add_(tensor({0.5, 0.5, 0.5})), Error, "add_", "float32", "int64");
  TT_EXPECT_THROW_WITH(i.add_(0.5), Error, "add_", "float32", "int64");
  TT_EXPECT_THROW_WITH(i.div_(2), Error, "div_", "float32", "int64");
  TT_EXPECT_THROW_WITH(i.exp_(), TypeError, "exp_", "int64");
  TT_EXPECT_THROW_WITH(i.clamp_(0.5), Error, "clamp_", "int64");
  EXPECT_EQ(values_as_int(i), (I{1, 2, 3})) << "a rejected in-place op must not write";
  Tensor b = tensor({true, false});
  TT_EXPECT_THROW_WITH(b.add_(tensor({1, 1})), Error, "add_", "int64", "bool");
  // Lower categories are fine: int into float, bool into int, float64 into float32.
  Tensor f = tensor({0.5, 0.5});
  f.add_(tensor({1, 2}));
  EXPECT_EQ(values_as_double(f), (D{1.5, 2.5}));
  f.add_(tensor({0.25, 0.25}, kFloat64));
  EXPECT_EQ(f.dtype(), kFloat32);
  EXPECT_EQ(values_as_double(f), (D{1.75, 2.75}));
  i.add_(tensor({true, false, true}));
  EXPECT_EQ(values_as_int(i), (I{2, 2, 4}));
  i.mul_(3);
  EXPECT_EQ(values_as_int(i), (I{6, 6, 12}));
}

TEST(InPlace, ExpandedTargetIsRejected) {
  Tensor e = zeros({3, 1}).expand({3, 4});
  TT_EXPECT_THROW_WITH(e.add_(ones({3, 4})), Error, "add_", "single memory location");
  TT_EXPECT_THROW_WITH(e.mul_(2), Error, "mul_", "single memory location");
  TT_EXPECT_THROW_WITH(e.copy_(ones({3, 4})), Error, "copy_", "single memory location");
  TT_EXPECT_THROW_WITH(e.neg_(), Error, "single memory location");
  // fill_ writes one value everywhere, so it is allowed on an expanded tensor.
  EXPECT_NO_THROW(e.fill_(7));
  EXPECT_EQ(values_as_double(e), D(12, 7.0));
}

TEST(InPlace, AliasingInputsAndOutputs) {
  // Exactly the same elements: every element is read before it is written.
  Tensor x = arange(5, kFloat32);
  x.add_(x);
  EXPECT_EQ(values_as_double(x), (D{0, 2, 4, 6, 8}));
  x.mul_(x);
  EXPECT_EQ(values_as_double(x), (D{0, 4, 16, 36, 64}));
  // Disjoint parts of one storage are fine.
  Tensor y = arange(10, kFloat32);
  y.narrow(0, 0, 5).add_(y.narrow(0, 5, 5));
  EXPECT_EQ(values_as_double(y), (D{5, 7, 9, 11, 13, 5, 6, 7, 8, 9}));
  // Partial overlap is refused (the answer would depend on the loop order).
  Tensor z = arange(10, kFloat32);
  TT_EXPECT_THROW_WITH(z.narrow(0, 0, 5).add_(z.narrow(0, 1, 5)), Error, "add_",
                       "single memory location");
  TT_EXPECT_THROW_WITH(z.narrow(0, 2, 5).copy_(z.narrow(0, 0, 5)), Error, "copy_",
                       "single memory location");
  Tensor m = arange(4, kFloat32).view({2, 2});
  TT_EXPECT_THROW_WITH(m.t().add_(m), Error, "add_", "single memory location");
  EXPECT_EQ(values_as_double(z), (D{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(CopyFill, CopyBroadcastsAndCasts) {
  Tensor dst = zeros({2, 3});
  dst.copy_(tensor({1.0, 2.0, 3.0}));
  EXPECT_EQ(values_as_double(dst), (D{1, 2, 3, 1, 2, 3}));
  dst.copy_(tensor({{7}, {8}}));  // int64 → float32, [2, 1] → [2, 3]
  EXPECT_EQ(values_as_double(dst), (D{7, 7, 7, 8, 8, 8}));
  dst.copy_(tensor(0.5, kFloat64));
  EXPECT_EQ(values_as_double(dst), D(6, 0.5));
  Tensor ints = zeros({4}, kInt64);
  ints.copy_(tensor({1.9, -1.9, 0.5, -0.5}));  // truncation toward zero
  EXPECT_EQ(values_as_int(ints), (I{1, -1, 0, 0}));
  Tensor bools = zeros({3}, kBool);
  bools.copy_(tensor({0.0, -2.0, NAN}));
  EXPECT_EQ(values_as_int(bools), (I{0, 1, 1}));
  // Copying into a transposed view writes the base in transposed order.
  Tensor base = zeros({2, 3});
  base.t().copy_(arange(6).view({3, 2}));
  EXPECT_EQ(values_as_double(base), (D{0, 2, 4, 1, 3, 5}));
  // From a non-contiguous source.
  Tensor d2 = zeros({3, 2}, kInt64);
  d2.copy_(arange(6).view({2, 3}).t());
  EXPECT_EQ(values_as_int(d2), (I{0, 3, 1, 4, 2, 5}));
  TT_EXPECT_THROW_WITH(dst.copy_(zeros({2})), Error, "copy_", "[2]", "[2, 3]");
  TT_EXPECT_THROW_WITH(zeros({3}).copy_(zeros({2, 3})), Error, "copy_", "[2, 3]", "[3]");
}

// Copies between two dtypes big enough to be split over the threads: a contiguous pair, a
// transposed source and a strided destination give every element, whatever the thread count.
TEST(CopyFill, LargeCopiesBetweenDtypesGiveEveryElementOnAnyThreadCount) {
  const int saved = get_num_threads();
  for (int threads : {1, 4}) {
    set_num_threads(threads);
    const int64_t n = 300 * 401;                    // above the 65,536 elements a thread starts at
    Tensor ints = arange(n).remainder(1000) - 500;  // int64
    const std::vector<int64_t> iv = ints.to_vector<int64_t>();
    const std::vector<float> f = ints.to(kFloat32).to_vector<float>();
    ASSERT_EQ(f.size(), iv.size());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(f[i], static_cast<float>(iv[i])) << "at " << i;

    Tensor t = ints.view({300, 401}).t();  // [401, 300], not contiguous
    const std::vector<double> d = t.to(kFloat64).to_vector<double>();
    for (int64_t r = 0; r < 401; ++r) {
      for (int64_t c = 0; c < 300; ++c) {
        ASSERT_EQ(d[r * 300 + c], static_cast<double>(iv[c * 401 + r])) << r << ", " << c;
      }
    }

    Tensor wide = zeros({300, 802});  // float32; every other column receives the int64 values
    wide.slice(1, 0, std::nullopt, 2).copy_(ints.view({300, 401}));
    const std::vector<float> w = wide.to_vector<float>();
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(w[2 * i], static_cast<float>(iv[i])) << "at " << i;
      ASSERT_EQ(w[2 * i + 1], 0.0f) << "at " << i;
    }
  }
  set_num_threads(saved);
}

TEST(CopyFill, ValuesThatDoNotFitAnIntegerAreRejected) {
  // PyTorch: "value cannot be converted to type int64_t without overflow". A plain cast would be
  // undefined behaviour.
  Tensor i = zeros({2}, kInt64);
  TT_EXPECT_THROW_WITH(i.fill_(NAN), ValueError, "nan", "cannot be converted");
  TT_EXPECT_THROW_WITH(i.fill_(1e30), ValueError, "cannot be converted");
  TT_EXPECT_THROW_WITH(i.fill_(9.3e18), ValueError, "cannot be converted");
  TT_EXPECT_THROW_WITH(full({2}, INFINITY, kInt64), ValueError, "cannot be converted");
  TT_EXPECT_THROW_WITH(tensor({1.0, NAN}, kInt64), ValueError, "cannot be converted");
  TT_EXPECT_THROW_WITH(tensor(NAN).item<int64_t>(), ValueError, "cannot be converted");
  EXPECT_EQ(values_as_int(i), (I{0, 0}));
  // The most negative int64 is exactly representable and fits.
  i.fill_(-9223372036854775808.0);
  EXPECT_EQ(values_as_int(i), (I{kMin64, kMin64}));
  // NaN and infinities are fine for floating and bool tensors.
  EXPECT_TRUE(std::isnan(values_as_double(full({1}, NAN))[0]));
  EXPECT_EQ(values_as_int(full({1}, NAN, kBool)), I{1});
}

TEST(CopyFill, FillCastsTheValue) {
  Tensor f = empty({2, 2});
  f.fill_(2.5);
  EXPECT_EQ(values_as_double(f), D(4, 2.5));
  Tensor i = empty({3}, kInt64);
  i.fill_(7);
  EXPECT_EQ(values_as_int(i), I(3, 7));
  i.fill_(2.9);
  EXPECT_EQ(values_as_int(i), I(3, 2));
  Tensor b = empty({2}, kBool);
  b.fill_(5);
  EXPECT_EQ(values_as_int(b), I(2, 1));
  // Filling a strided view leaves the gaps alone.
  Tensor r = zeros({6});
  r.slice(0, 0, std::nullopt, 2).fill_(1);
  EXPECT_EQ(values_as_double(r), (D{1, 0, 1, 0, 1, 0}));
}

// ── dtype conversion ────────────────────────────────────────────────────────────────────────

TEST(Conversion, FloatToIntIsDefinedForEveryValue) {
  const Tensor f =
      tensor({1.9, -1.9, 0.0, -0.0, 1e10, NAN, INFINITY, -INFINITY, 1e30, -1e30}, kFloat64);
  const Tensor i = f.to(kInt64);
  EXPECT_EQ(i.dtype(), kInt64);
  // Out-of-range values and NaN give INT64_MIN, as PyTorch does on x86 — and no undefined
  // behaviour (the sanitizer build checks that).
  EXPECT_EQ(values_as_int(i),
            (I{1, -1, 0, 0, 10000000000, kMin64, kMin64, kMin64, kMin64, kMin64}));
  EXPECT_EQ(values_as_int(tensor({NAN}).to(kInt64)), I{kMin64});
  EXPECT_EQ(values_as_int(tensor({9.2e18}, kFloat64).to(kInt64)), I{9200000000000000000});
  EXPECT_EQ(values_as_int(tensor({9.3e18}, kFloat64).to(kInt64)), I{kMin64});
}

// The 8-bit dtypes go through int32 and wrap modulo 2⁸, as PyTorch 1.13 on x86 gives:
// torch.tensor([...]).to(torch.uint8) / .to(torch.int8) produced the expected values below.
TEST(Conversion, FloatToEightBitsWrapsLikePyTorch) {
  const Tensor f = tensor({100.0, 200.0, 255.9, 0.5, 300.0, -1.0, -0.5, 1e10, NAN}, kFloat64);
  EXPECT_EQ(values_as_int(f.to(kUInt8)), (I{100, 200, 255, 0, 44, 255, 0, 0, 0}));
  EXPECT_EQ(values_as_int(tensor({100.0, 200.0, -129.0, 0.5}).to(kInt8)), (I{100, -56, 127, 0}));
  // An image written as bytes: [-1, 1] → [0, 255] (examples/dcgan's write_grid).
  EXPECT_EQ(values_as_int(tensor({-1.0f, 0.0f, 1.0f}).add(1).mul(127.5).to(kUInt8)),
            (I{0, 127, 255}));
}

TEST(Conversion, OtherDirections) {
  EXPECT_EQ(values_as_int(tensor({0.0, -0.0, 0.1, NAN}).to(kBool)), (I{0, 0, 1, 1}));
  EXPECT_EQ(values_as_int(tensor({0, -3}).to(kBool)), (I{0, 1}));
  EXPECT_EQ(values_as_double(tensor({true, false}).to(kFloat64)), (D{1, 0}));
  EXPECT_EQ(values_as_int(tensor({true, false}).to(kInt64)), (I{1, 0}));
  const D big = values_as_double(tensor({1e40, -1e40, 0.1}, kFloat64).to(kFloat32));
  EXPECT_EQ(big[0], std::numeric_limits<double>::infinity());
  EXPECT_EQ(big[1], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(big[2], static_cast<double>(0.1f));
  EXPECT_EQ(values_as_double(tensor({(int64_t{1} << 53) + 1}).to(kFloat64)),
            D{static_cast<double>(int64_t{1} << 53)});
  // Conversion of a view converts the viewed elements in logical order.
  const Tensor t = arange(6).view({2, 3}).t().to(kFloat32);
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(values_as_double(t), (D{0, 3, 1, 4, 2, 5}));
}

// ── allclose / equal ────────────────────────────────────────────────────────────────────────

TEST(Compare, AllcloseAndEqual) {
  const Tensor a = tensor({1.0, 2.0, 3.0});
  EXPECT_TRUE(a.allclose(a));
  EXPECT_TRUE(a.allclose(tensor({1.0, 2.0, 3.00001})));
  EXPECT_FALSE(a.allclose(tensor({1.0, 2.0, 3.001})));
  EXPECT_TRUE(a.allclose(tensor({1.0, 2.0, 3.001}), 1e-3));
  EXPECT_TRUE(a.allclose(tensor({1.0, 2.0, 3.01}), 0, 0.02));
  EXPECT_FALSE(a.allclose(tensor({1.0, 2.0, 3.01}), 0, 0.001));
  // Broadcasting, mixed dtypes.
  EXPECT_TRUE(full({2, 3}, 2.0).allclose(tensor(2)));
  EXPECT_TRUE(tensor({1, 2}).allclose(tensor({1.0, 2.0}, kFloat64)));
  // NaN only matches NaN with equal_nan; infinities match themselves.
  EXPECT_FALSE(tensor({NAN}).allclose(tensor({NAN})));
  EXPECT_TRUE(tensor({NAN}).allclose(tensor({NAN}), 1e-5, 1e-8, true));
  EXPECT_FALSE(tensor({NAN}).allclose(tensor({1.0}), 1e-5, 1e-8, true));
  EXPECT_TRUE(tensor({INFINITY}).allclose(tensor({INFINITY})));
  EXPECT_FALSE(tensor({INFINITY}).allclose(tensor({-INFINITY})));
  EXPECT_FALSE(tensor({1.0}).allclose(tensor({INFINITY})));
  EXPECT_FALSE(tensor({INFINITY}).allclose(tensor({1.0})));
  EXPECT_FALSE(tensor({-INFINITY}).allclose(tensor({1e38}), 1.0, 1.0));
  EXPECT_TRUE(allclose(a, a.clone()));
  TT_EXPECT_THROW_WITH(a.allclose(zeros({2})), Error, "allclose");

  EXPECT_TRUE(a.equal(a.clone()));
  EXPECT_FALSE(a.equal(tensor({1.0, 2.0, 3.00001})));
  EXPECT_FALSE(a.equal(a.view({3, 1})));  // same values, different shape
  EXPECT_FALSE(a.equal(tensor({1.0, 2.0})));
  EXPECT_FALSE(tensor({NAN}).equal(tensor({NAN})));
  EXPECT_TRUE(arange(6).view({2, 3}).t().equal(tensor({{0, 3}, {1, 4}, {2, 5}})));
  EXPECT_TRUE(zeros({0}).equal(zeros({0})));
}

}  // namespace
}  // namespace tinytorch
