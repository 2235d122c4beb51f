// Module 01's tensor, extended with more of what libtorch programs call on it: view_as /
// reshape_as / type_as / options() / accessor<T, N>(), repeat, flip, roll, diag, meshgrid,
// bmm / baddbmm / addmm / outer / einsum, std, prod, logsumexp, one_hot, multinomial and the
// unique family (_unique, _unique2, unique_consecutive).
// Values (and first-order gradients) against PyTorch (tests/data/libtorch_ops_reference.json, group
// "tensor_api"), float64 gradchecks and gradgradchecks (they need module 05 and skip before it),
// and the error messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/op_cases.h"
#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::random;

using test::json;
using test::values_as_double;
using test::values_as_int;

std::vector<Tensor> as_list(const std::tuple<Tensor, Tensor, Tensor>& t) {
  return {std::get<0>(t), std::get<1>(t), std::get<2>(t)};
}

std::vector<Tensor> run_tensor_api_op(const std::string& op, const std::vector<Tensor>& in,
                                      const json& args) {
  const Tensor& x = in.at(0);
  if (op == "repeat") return {x.repeat(test::int_list(args.at("repeats")))};
  if (op == "flip") return {x.flip(test::int_list(args.at("dims")))};
  if (op == "roll") {
    const std::vector<int64_t> shifts = test::int_list(args.at("shifts"));
    if (!args.contains("dims")) return {x.roll(shifts)};
    return {x.roll(shifts, test::int_list(args.at("dims")))};
  }
  if (op == "diag") return {x.diag(args.at("diagonal").get<int64_t>())};
  if (op == "meshgrid") return meshgrid(in, args.at("indexing").get<std::string>());
  if (op == "bmm") return {x.bmm(in.at(1))};
  if (op == "baddbmm" || op == "addmm") {
    const double beta = args.at("beta").get<double>(), alpha = args.at("alpha").get<double>();
    if (op == "addmm") return {x.addmm(in.at(1), in.at(2), beta, alpha)};
    return {x.baddbmm(in.at(1), in.at(2), beta, alpha)};
  }
  if (op == "outer") return {x.outer(in.at(1))};
  if (op == "einsum") return {einsum(args.at("equation").get<std::string>(), in)};
  if (op == "std") {
    const bool unbiased = args.at("unbiased").get<bool>();
    if (!args.contains("dim")) return {x.std(unbiased)};
    return {x.std(test::int_list(args.at("dim")), unbiased, args.at("keepdim").get<bool>())};
  }
  if (op == "prod") {
    if (!args.contains("dim")) return {x.prod()};
    return {x.prod(args.at("dim").get<int64_t>(), args.at("keepdim").get<bool>())};
  }
  if (op == "logsumexp")
    return {x.logsumexp(test::int_list(args.at("dim")), args.at("keepdim").get<bool>())};
  if (op == "one_hot") return {nn::functional::one_hot(x, args.at("num_classes").get<int64_t>())};
  if (op == "unique")
    return as_list(_unique2(x, true, args.at("return_inverse").get<bool>(),
                            args.at("return_counts").get<bool>()));
  if (op == "unique_consecutive") {
    std::optional<int64_t> dim;
    if (args.contains("dim")) dim = args.at("dim").get<int64_t>();
    return as_list(unique_consecutive(x, true, true, dim));
  }
  if (op == "unique_dim") return as_list(unique_dim(x, args.at("dim").get<int64_t>()));
  throw std::runtime_error("unknown op " + op);
}

TEST(LibtorchOpsReference, TensorApiOpsMatchPyTorch) {
  test::check_op_cases("tensor_api", run_tensor_api_op);
}

// ── view_as, reshape_as, type_as, options ─────────────────────────────────────────────────────

TEST(TensorApi, ViewAsReshapeAsTypeAs) {
  const Tensor x = arange(6);
  const Tensor shape = zeros({2, 3}, kFloat64);
  const Tensor v = x.view_as(shape);
  EXPECT_EQ(v.sizes(), IntArrayRef({2, 3}));
  EXPECT_TRUE(v.is_alias_of(x));
  EXPECT_EQ(x.reshape_as(shape.t()).sizes(), IntArrayRef({3, 2}));
  EXPECT_TRUE(x.view({2, 3}).t().reshape_as(x).equal(tensor({0, 3, 1, 4, 2, 5})));
  EXPECT_EQ(x.type_as(shape).dtype(), kFloat64);
  EXPECT_THROW(x.view_as(zeros({4})), Error);
}

TEST(TensorApi, OptionsCarryTheDtypeNotRequiresGrad) {
  const Tensor x = zeros({2}, kFloat64);
  const Tensor y = ones({3}, x.options());
  EXPECT_EQ(y.dtype(), kFloat64);
  EXPECT_EQ(x.options().device(), Device(kCPU));
  EXPECT_EQ(zeros({1}, tensor({1, 2}).options()).dtype(), kInt64);
  EXPECT_FALSE(x.options().requires_grad());  // as libtorch's options()
}

// ── accessor ──────────────────────────────────────────────────────────────────────────────────

TEST(TensorApi, AccessorReadsAndWritesThroughStrides) {
  Tensor x = arange(12, kFloat32).view({3, 4});
  auto a = x.accessor<float, 2>();
  EXPECT_EQ(a.size(0), 3);
  EXPECT_EQ(a.size(1), 4);
  EXPECT_EQ(a[2][1], 9.0F);
  a[1][3] = -1.0F;
  EXPECT_EQ(x[1][3].item<float>(), -1.0F);
  const Tensor t = x.t();  // strides (1, 4)
  auto at = t.accessor<float, 2>();
  EXPECT_EQ(at[3][1], -1.0F);
  EXPECT_EQ(at.stride(0), 1);
  float sum = 0;
  for (int64_t i = 0; i < at.size(0); ++i)
    for (int64_t j = 0; j < at.size(1); ++j) sum += at[i][j];
  EXPECT_FLOAT_EQ(sum, x.sum().item<float>());
  auto row = x.accessor<float, 2>()[2];  // one dim fewer, same memory
  row[0] = 100.0F;
  EXPECT_EQ(x[2][0].item<float>(), 100.0F);
  const Tensor ints = tensor({{1, 2, 3}});
  EXPECT_EQ((ints.accessor<int64_t, 2>()[0][2]), 3);
}

TEST(TensorApi, AccessorChecksDtypeAndDims) {
  const Tensor x = zeros({2, 3});
  TT_EXPECT_THROW_WITH((x.accessor<double, 2>()), TypeError, "float64", "float32");
  TT_EXPECT_THROW_WITH((x.accessor<float, 3>()), ValueError, "accessor", "3 dims", "has 2");
#ifndef NDEBUG
  TT_EXPECT_THROW_WITH((x.accessor<float, 2>()[2][0]), IndexError, "index 2", "size 2");
#endif
}

// ── shape helpers ─────────────────────────────────────────────────────────────────────────────

TEST(TensorApi, RepeatFlipRollMakeNewMemory) {
  const Tensor x = random({2, 3}, 1);
  EXPECT_FALSE(x.repeat({1, 1}).is_alias_of(x));
  EXPECT_TRUE(x.repeat({1, 1}).equal(x));
  EXPECT_FALSE(x.flip({}).is_alias_of(x));
  EXPECT_FALSE(x.roll(3, 1).is_alias_of(x));
  EXPECT_TRUE(x.roll(3, 1).equal(x));
  EXPECT_TRUE(x.roll({-1}, {0}).equal(x.flip({0})));
  TT_EXPECT_THROW_WITH(x.repeat({2}), ValueError, "repeat", "smaller than the number of dims");
  TT_EXPECT_THROW_WITH(x.repeat({2, -1}), ValueError, "repeat", "non-negative");
  TT_EXPECT_THROW_WITH(x.flip({0, -2}), ValueError, "flip", "multiple times");
  TT_EXPECT_THROW_WITH(x.roll({1, 2}), ValueError, "roll", "one shift");
  TT_EXPECT_THROW_WITH(zeros({2, 2, 2}).diag(), ValueError, "diag", "matrix or a vector");
}

TEST(TensorApi, DiagRoundTripsAndKeepsDtype) {
  const Tensor v = tensor({1, 2, 3});
  const Tensor m = v.diag(1);
  EXPECT_EQ(m.dtype(), kInt64);
  EXPECT_EQ(m.sizes(), IntArrayRef({4, 4}));
  EXPECT_TRUE(m.diag(1).equal(v));
  EXPECT_TRUE(m.diag(-1).equal(zeros({3}, kInt64)));
  EXPECT_EQ(m.diag(4).numel(), 0);
  EXPECT_EQ(tinytorch::diag(tensor({true, false})).dtype(), kBool);
}

TEST(TensorApi, MeshgridIsViewsAndChecksItsInputs) {
  const Tensor a = tensor({1.0, 2.0, 3.0}), b = tensor({10.0, 20.0});
  const std::vector<Tensor> ij = meshgrid({a, b});
  EXPECT_EQ(ij[0].sizes(), IntArrayRef({3, 2}));
  EXPECT_TRUE(ij[0].is_alias_of(a));
  EXPECT_EQ(ij[1][2][1].item<double>(), 20.0);
  const std::vector<Tensor> xy = meshgrid({a, b}, "xy");
  EXPECT_EQ(xy[0].sizes(), IntArrayRef({2, 3}));
  EXPECT_EQ(xy[0][1][2].item<double>(), 3.0);
  TT_EXPECT_THROW_WITH(meshgrid({a, b}, "yx"), ValueError, "meshgrid", "indexing");
  TT_EXPECT_THROW_WITH(meshgrid({zeros({2, 2})}), ValueError, "meshgrid", "0-d or 1-d");
  TT_EXPECT_THROW_WITH(meshgrid({a, tensor({1, 2})}), TypeError, "meshgrid", "same dtype");
}

// ── products ──────────────────────────────────────────────────────────────────────────────────

TEST(TensorApi, ProductsAgreeWithMatmulAndCheckShapes) {
  const Tensor a = random({2, 3, 4}, 2), b = random({2, 4, 5}, 3);
  EXPECT_TRUE(tinytorch::bmm(a, b).allclose(a.matmul(b)));
  const Tensor self = random({2, 3, 5}, 4);
  EXPECT_TRUE(tinytorch::baddbmm(self, a, b, 0.5, 2.0).allclose(self * 0.5 + a.matmul(b) * 2.0));
  // beta = 0: self's values are ignored, NaN included.
  const Tensor nan = full({3, 5}, std::numeric_limits<double>::quiet_NaN(), kFloat64);
  EXPECT_TRUE(tinytorch::addmm(nan, a[0], b[0], 0.0).allclose(a[0].mm(b[0])));
  EXPECT_TRUE(tinytorch::outer(tensor({1.0, 2.0}), tensor({3.0, 4.0, 5.0}))
                  .equal(tensor({{3.0, 4.0, 5.0}, {6.0, 8.0, 10.0}})));
  TT_EXPECT_THROW_WITH(a.bmm(b.transpose(1, 2)), ValueError, "bmm", "[2, 4]", "[2, 5]");
  TT_EXPECT_THROW_WITH(a.bmm(b.to(kFloat32)), TypeError, "bmm", "float32");
  TT_EXPECT_THROW_WITH(a[0].bmm(b[0]), ValueError, "bmm", "3-d");
  TT_EXPECT_THROW_WITH(zeros({4}, kFloat64).addmm(a[0], b[0]), ValueError, "addmm",
                       "does not broadcast");
  TT_EXPECT_THROW_WITH(zeros({2, 2}).outer(zeros({2})), ValueError, "outer", "1-d");
}

TEST(TensorApi, EinsumCommonContractionsAndItsLimits) {
  const Tensor a = random({3, 4}, 5), b = random({4, 2}, 6);
  EXPECT_TRUE(einsum("ij,jk->ik", {a, b}).allclose(a.mm(b)));
  EXPECT_TRUE(einsum("ij, jk", {a, b}).allclose(a.mm(b)));  // spaces and the implicit output
  EXPECT_TRUE(einsum("ij->ji", {a}).is_alias_of(a));        // a permutation: a view, as PyTorch
  EXPECT_TRUE(einsum("ij->", {a}).allclose(a.sum()));
  TT_EXPECT_THROW_WITH(einsum("ii->i", {zeros({2, 2})}), NotImplementedError, "einsum", "repeats",
                       "supported");
  TT_EXPECT_THROW_WITH(einsum("...ij,jk", {a, b}), NotImplementedError, "einsum", "...");
  TT_EXPECT_THROW_WITH(einsum("i,i,i->", {zeros({2}), zeros({2}), zeros({2})}), NotImplementedError,
                       "einsum", "3 operands", "supported");
  TT_EXPECT_THROW_WITH(einsum("ij,jk->ik", {a}), ValueError, "einsum", "2 operands", "1 tensors");
  TT_EXPECT_THROW_WITH(einsum("ijk,jk->ik", {a, b}), ValueError, "einsum", "operand 0", "2 dims");
  TT_EXPECT_THROW_WITH(einsum("ij,jk->iz", {a, b}), ValueError, "einsum", "'z'");
}

// ── reductions ────────────────────────────────────────────────────────────────────────────────

TEST(TensorApi, ReductionsFreeFormsAndDtypes) {
  const Tensor x = random({3, 4}, 7);
  EXPECT_TRUE(tinytorch::std(x).allclose(x.var().sqrt()));
  EXPECT_TRUE(tinytorch::std(x, {1}, false, true).allclose(x.var({1}, false, true).sqrt()));
  EXPECT_EQ(tinytorch::prod(tensor({2, 3, 4})).item<int64_t>(), 24);
  EXPECT_EQ(tensor({true, true}).prod().dtype(), kInt64);
  EXPECT_EQ(tensor({2, 3}).prod(kFloat64).dtype(), kFloat64);
  EXPECT_EQ(tinytorch::prod(tensor({{1, 2}, {3, 4}}), 0, true).sizes(), IntArrayRef({1, 2}));
  EXPECT_EQ(zeros({0}).prod().item<float>(), 1.0F);
  EXPECT_TRUE(tinytorch::logsumexp(x, {1}).allclose(x.exp().sum({1}).log()));
  EXPECT_TRUE(x.logsumexp({}).allclose(x.exp().sum().log()));  // no dims: every dim
  EXPECT_EQ(tensor({1000.0F, 1000.0F}).logsumexp({0}).item<float>(), 1000.0F + std::log(2.0F));
  const Tensor none = zeros({2, 0}).logsumexp({1});  // log 0 = -inf per row
  EXPECT_EQ(values_as_double(none),
            (std::vector<double>(2, -std::numeric_limits<double>::infinity())));
}

TEST(TensorApi, OneHot) {
  const Tensor c = tensor({2, 0, 1});
  const Tensor h = tinytorch::one_hot(c);
  EXPECT_EQ(h.dtype(), kInt64);
  EXPECT_TRUE(h.equal(tensor({{0, 0, 1}, {1, 0, 0}, {0, 1, 0}})));
  EXPECT_EQ(nn::functional::one_hot(c.view({3, 1}), 4).sizes(), IntArrayRef({3, 1, 4}));
  EXPECT_EQ(one_hot(zeros({0}, kInt64), 3).sizes(), IntArrayRef({0, 3}));
  TT_EXPECT_THROW_WITH(one_hot(tensor({-1, 2})), ValueError, "one_hot", "non-negative");
  TT_EXPECT_THROW_WITH(one_hot(zeros({0}, kInt64)), ValueError, "one_hot", "empty");
  TT_EXPECT_THROW_WITH(one_hot(zeros({2})), TypeError, "one_hot", "int64", "float32");
}

// ── sampling and sets ─────────────────────────────────────────────────────────────────────────

TEST(TensorApi, MultinomialFollowsTheWeights) {
  const Tensor p = tensor({0.1, 0.0, 0.6, 0.3});
  Generator g(11);
  const Tensor s = tinytorch::multinomial(p, 20000, true, &g);
  EXPECT_EQ(s.dtype(), kInt64);
  EXPECT_EQ(s.sizes(), IntArrayRef({20000}));
  std::map<int64_t, int64_t> count;
  for (int64_t v : values_as_int(s)) ++count[v];
  EXPECT_EQ(count[1], 0);  // a zero weight is never drawn
  EXPECT_NEAR(static_cast<double>(count[2]) / 20000.0, 0.6, 0.02);
  EXPECT_NEAR(static_cast<double>(count[3]) / 20000.0, 0.3, 0.02);
  // Same seed, same samples; unnormalised weights mean the same.
  Generator g1(5), g2(5);
  EXPECT_TRUE(p.multinomial(8, true, &g1).equal((p * 7.0).multinomial(8, true, &g2)));
}

TEST(TensorApi, MultinomialWithoutReplacementAndRows) {
  Generator g(3);
  const Tensor p = tensor({{1.0, 2.0, 3.0, 0.0}, {0.0, 0.0, 5.0, 1.0}});
  const Tensor s = p.multinomial(3, false, &g);
  EXPECT_EQ(s.sizes(), IntArrayRef({2, 3}));
  for (int64_t r = 0; r < 2; ++r) {
    std::vector<int64_t> row = values_as_int(s[r]);
    std::sort(row.begin(), row.end());
    EXPECT_TRUE(std::adjacent_find(row.begin(), row.end()) == row.end()) << "repeated category";
  }
  // Row 0 has three non-zero weights: exactly those. Row 1 has two: both, then a zero one.
  std::vector<int64_t> r0 = values_as_int(s[0]);
  std::sort(r0.begin(), r0.end());
  EXPECT_EQ(r0, (std::vector<int64_t>{0, 1, 2}));
  std::vector<int64_t> r1 = values_as_int(s[1]);
  EXPECT_EQ(std::set<int64_t>(r1.begin(), r1.begin() + 2), (std::set<int64_t>{2, 3}));
}

TEST(TensorApi, MultinomialErrors) {
  const Tensor p = tensor({0.5, 0.5});
  TT_EXPECT_THROW_WITH(p.multinomial(3), ValueError, "multinomial", "without replacement");
  TT_EXPECT_THROW_WITH(p.multinomial(0), ValueError, "multinomial", "num_samples <= 0");
  TT_EXPECT_THROW_WITH(tensor({0.0, 0.0}).multinomial(1), ValueError, "multinomial",
                       "sum of probabilities <= 0");
  TT_EXPECT_THROW_WITH(tensor({{0.5, 0.5}, {0.0, 0.0}}).multinomial(1, true), ValueError,
                       "multinomial", "row 1");
  TT_EXPECT_THROW_WITH(tensor({-1.0, 2.0}).multinomial(1), ValueError, "multinomial",
                       "element < 0");
  TT_EXPECT_THROW_WITH(tensor({1, 2}).multinomial(1), TypeError, "multinomial", "int64");
  TT_EXPECT_THROW_WITH(zeros({2, 2, 2}).multinomial(1), ValueError, "multinomial", "1 or 2 dim");
}

TEST(TensorApi, UniqueFamily) {
  const Tensor x = tensor({{3, 1}, {3, 2}});
  auto [values, inverse] = _unique(x, true, true);
  EXPECT_EQ(values_as_int(values), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(inverse.sizes(), IntArrayRef({2, 2}));
  EXPECT_EQ(values_as_int(inverse), (std::vector<int64_t>{2, 0, 2, 1}));
  auto [v2, inv2] = _unique(x);
  EXPECT_EQ(inv2.sizes(), IntArrayRef({0}));  // not asked for: empty, as libtorch's
  auto [v3, inv3, counts] = _unique2(tensor({2.5, -1.0, 2.5}), true, false, true);
  EXPECT_EQ(values_as_double(v3), (std::vector<double>{-1.0, 2.5}));
  EXPECT_EQ(values_as_int(counts), (std::vector<int64_t>{1, 2}));
  auto [c, cinv, ccounts] = unique_consecutive(tensor({1, 1, 2, 1}));
  EXPECT_EQ(values_as_int(c), (std::vector<int64_t>{1, 2, 1}));
  EXPECT_EQ(ccounts.numel(), 0);
  auto [rows, rinv, rcounts] = unique_dim(tensor({{1, 2}, {1, 2}}), 0);
  EXPECT_EQ(rows.sizes(), IntArrayRef({1, 2}));
  EXPECT_EQ(values_as_int(rinv), (std::vector<int64_t>{0, 0}));  // computed anyway, as libtorch
  EXPECT_EQ(values_as_int(rcounts), (std::vector<int64_t>{2}));
  TT_EXPECT_THROW_WITH(unique_dim(x, 2), IndexError, "unique_dim");
}

// ── gradients (float64 gradcheck and gradgradcheck) ───────────────────────────────────────────

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

void expect_first_order(const Fn& f, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> leaves;
  for (const Tensor& x : inputs) leaves.push_back(x.detach().clone().requires_grad_());
  const auto result = autograd::gradcheck(f, leaves);
  EXPECT_TRUE(result.ok) << result.message;
}

void expect_second_order(const Fn& f, const std::vector<Tensor>& inputs) {
  manual_seed(7);  // the random grad_output
  std::vector<Tensor> leaves;
  for (const Tensor& x : inputs) leaves.push_back(x.detach().clone().requires_grad_());
  const auto result = autograd::gradgradcheck(f, leaves);
  EXPECT_TRUE(result.ok) << result.message;
}

// Both orders for each op: the first-order formula and the recorded one (create_graph).
void expect_both(const Fn& f, const std::vector<Tensor>& inputs) {
  expect_first_order(f, inputs);
  expect_second_order(f, inputs);
}

TEST(TensorApiGradcheck, ShapeHelpers) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({2, 3}, 21), v = random({3}, 22);
  // (squares make the second derivative non-zero)
  expect_both([](const auto& t) { return (t[0] * t[0]).repeat({2, 1, 2}); }, {x});
  expect_both([](const auto& t) { return (t[0] * t[0]).t().flip({0, 1}); }, {x});
  expect_both([](const auto& t) { return (t[0] * t[0]).roll({1, -2}, {0, 1}); }, {x});
  expect_both([](const auto& t) { return (t[0] * t[0]).roll(4); }, {x});
  expect_both([](const auto& t) { return (t[0] * t[0]).diag(-1); }, {v});
  expect_both([](const auto& t) { return (t[0] * t[0]).diag(1); }, {x});
  expect_both([](const auto& t) { return (t[0] * t[0]).t().diag(); }, {x});
  expect_both(
      [](const auto& t) {
        const auto g = meshgrid({t[0] * t[0], t[1]}, "xy");
        return g[0] * g[1];
      },
      {v, random({2}, 23)});
  expect_both([](const auto& t) { return t[0].view_as(t[1]) * t[1]; }, {v, random({3, 1}, 24)});
}

TEST(TensorApiGradcheck, Products) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor a = random({2, 3, 4}, 31), b = random({2, 4, 2}, 32);
  expect_both([](const auto& t) { return t[0].bmm(t[1]); }, {a, b});
  expect_both([](const auto& t) { return t[0].baddbmm(t[1], t[2], 0.5, -2.0); },
              {random({3, 2}, 33), a, b});
  expect_both([](const auto& t) { return t[0].addmm(t[1], t[2], 2.0, 0.5); },
              {random({2}, 34), a[0], b[0]});
  expect_both([](const auto& t) { return t[0].outer(t[1]); }, {random({3}, 35), random({2}, 36)});
  expect_both([](const auto& t) { return einsum("bij,bjk->bki", {t[0], t[1]}); }, {a, b});
  expect_both(
      [](const auto& t) {
        return einsum("bij,kj->ikb", {t[0], t[1]});
      },
      {a, random({5, 4}, 37)});
  expect_both([](const auto& t) { return einsum("ij->j", {t[0] * t[0]}); }, {a[1]});
}

TEST(TensorApiGradcheck, Reductions) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 4}, 41);
  expect_both([](const auto& t) { return t[0].std(); }, {x});
  expect_both([](const auto& t) { return t[0].std({0}, false, true); }, {x});
  expect_both([](const auto& t) { return t[0].prod(); }, {x});
  expect_both([](const auto& t) { return t[0].prod(1, true); }, {x});
  expect_both([](const auto& t) { return t[0].logsumexp({0, 1}); }, {x});
  expect_both([](const auto& t) { return t[0].logsumexp({1}, true); }, {x * 300.0});
  // Zeros in the input: one zero (its gradient is the others' product), two (all zero).
  const Tensor z = tensor({{1.5, 0.0, 2.0, -1.0}, {0.0, 0.5, 0.0, 3.0}}, kFloat64);
  expect_first_order([](const auto& t) { return t[0].prod(1); }, {z});
  expect_first_order([](const auto& t) { return t[0].prod(); }, {z.narrow(0, 0, 1)});
}

TEST(TensorApiGradcheck, ProdGradientAtAZeroIsTheOthersProduct) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = tensor({2.0, 0.0, 3.0}, kFloat64).requires_grad_();
  x.prod().backward();
  EXPECT_EQ(values_as_double(x.grad()), (std::vector<double>{0.0, 6.0, 0.0}));
}

}  // namespace
}  // namespace tinytorch
