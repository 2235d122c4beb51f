// Module 01's tensor, extended with what libtorch programs call on it: sort / argsort / topk,
// cumsum / cumprod, tril / triu (and tril_ / triu_), norm, all / any, sin / cos / log1p (and
// sin_ / cos_ / log1p_), uniform_ / normal_, from_blob and the free-function forms
// (torch::reshape(x, ...), torch::max(x, 1), ...).
// Values against PyTorch (tests/data/libtorch_ops_reference.json, group "tensor"), float64
// gradchecks (these need module 05 and skip before it), and the error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/op_cases.h"
#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::expect_gradcheck;
using test::expect_gradgradcheck;
using test::json;
using test::random;
using test::values_as_double;
using test::values_as_int;

// norm's p as the generator writes it: a number, or "inf" / "-inf".
Scalar p_arg(const json& p) {
  if (p.is_string()) return Scalar(test::json_to_double(p));
  return p.is_number_integer() ? Scalar(p.get<int64_t>()) : Scalar(p.get<double>());
}

std::vector<Tensor> run_tensor_op(const std::string& op, const std::vector<Tensor>& in,
                                  const json& args) {
  if (op == "linspace") {  // a factory: no input
    const ScalarType dtype = test::parse_dtype(args.value("dtype", "float32"));
    return {linspace(args.at("start").get<double>(), args.at("end").get<double>(),
                     args.at("steps").get<int64_t>(), dtype)};
  }
  const Tensor& x = in.at(0);
  if (op == "sort") {
    auto [values, indices] =
        x.sort(args.at("dim").get<int64_t>(), args.at("descending").get<bool>());
    return {values, indices};
  }
  if (op == "argsort")
    return {x.argsort(args.at("dim").get<int64_t>(), args.at("descending").get<bool>())};
  if (op == "topk") {
    auto [values, indices] = x.topk(args.at("k").get<int64_t>(), args.at("dim").get<int64_t>(),
                                    args.at("largest").get<bool>());
    return {values, indices};
  }
  if (op == "cumsum") {
    std::optional<ScalarType> dtype;
    if (args.contains("dtype")) dtype = test::parse_dtype(args.at("dtype"));
    return {x.cumsum(args.at("dim").get<int64_t>(), dtype)};
  }
  if (op == "cumprod") return {x.cumprod(args.at("dim").get<int64_t>())};
  if (op == "tril") return {x.tril(args.at("diagonal").get<int64_t>())};
  if (op == "triu") return {x.triu(args.at("diagonal").get<int64_t>())};
  if (op == "norm") {
    if (!args.contains("dim")) return {x.norm(p_arg(args.at("p")))};
    return {x.norm(p_arg(args.at("p")), test::int_list(args.at("dim")),
                   args.at("keepdim").get<bool>())};
  }
  if (op == "all" || op == "any") {
    const bool all = op == "all";
    if (!args.contains("dim")) return {all ? x.all() : x.any()};
    const auto dim = args.at("dim").get<int64_t>();
    const auto keepdim = args.at("keepdim").get<bool>();
    return {all ? x.all(dim, keepdim) : x.any(dim, keepdim)};
  }
  if (op == "sin") return {x.sin()};
  if (op == "cos") return {x.cos()};
  if (op == "log1p") return {x.log1p()};
  if (op == "split") {
    const json& size = args.at("split_size");
    const auto dim = args.at("dim").get<int64_t>();
    return size.is_array() ? x.split(test::int_list(size), dim) : x.split(size.get<int64_t>(), dim);
  }
  if (op == "chunk")
    return x.chunk(args.at("chunks").get<int64_t>(), args.at("dim").get<int64_t>());
  throw std::runtime_error("unknown op " + op);
}

TEST(LibtorchOpsReference, TensorOpsMatchPyTorch) {
  test::check_op_cases("tensor", run_tensor_op);
}

// ── sort / argsort / topk ──────────────────────────────────────────────────────────────────────

TEST(Sort, StableOverloadAndFreeFunctionsAgree) {
  const Tensor x = tensor({3.0, 1.0, 2.0, 1.0, 3.0});
  auto [v, i] = x.sort();
  auto [v2, i2] = x.sort(/*stable=*/true, 0, false);
  auto [v3, i3] = tinytorch::sort(x, -1, false);
  EXPECT_EQ(values_as_int(i), (std::vector<int64_t>{1, 3, 2, 0, 4}));  // ties keep their order
  EXPECT_TRUE(v.equal(v2) && v.equal(v3) && i.equal(i2) && i.equal(i3));
  EXPECT_TRUE(tinytorch::argsort(x, 0, true).equal(x.argsort(0, true)));
  EXPECT_EQ(values_as_int(x.argsort(0, true)), (std::vector<int64_t>{0, 4, 2, 1, 3}));
}

TEST(Sort, ResultsAreContiguousAndNewMemory) {
  const Tensor x = random({4, 3}, 1).t();
  auto [v, i] = x.sort(0);
  EXPECT_TRUE(v.is_contiguous());
  EXPECT_TRUE(i.is_contiguous());
  EXPECT_FALSE(v.is_alias_of(x));
  EXPECT_EQ(i.dtype(), kInt64);
}

TEST(Topk, UnsortedKeepsInputOrder) {
  const Tensor x = tensor({0.5, 4.0, -1.0, 3.0, 2.0});
  auto [v, i] = x.topk(3, 0, true, /*sorted=*/false);
  EXPECT_EQ(values_as_int(i), (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(values_as_double(v), (std::vector<double>{4.0, 3.0, 2.0}));
  auto [vs, is] = tinytorch::topk(x, 3);
  EXPECT_EQ(values_as_int(is), (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(values_as_double(vs), (std::vector<double>{4.0, 3.0, 2.0}));
}

TEST(Topk, KOutOfRangeNamesKAndTheDim) {
  const Tensor x = zeros({2, 3});
  TT_EXPECT_THROW_WITH(x.topk(4), IndexError, "topk", "k = 4", "3 element");
  TT_EXPECT_THROW_WITH(x.topk(-1), IndexError, "topk", "k = -1");
  TT_EXPECT_THROW_WITH(x.sort(2), IndexError, "sort");
}

// ── cumsum / cumprod ───────────────────────────────────────────────────────────────────────────

TEST(Cumsum, IntegerInputsAccumulateInInt64) {
  const Tensor b = tensor({true, false, true, true});
  EXPECT_EQ(b.cumsum(0).dtype(), kInt64);
  EXPECT_EQ(values_as_int(b.cumsum(0)), (std::vector<int64_t>{1, 1, 2, 3}));
  EXPECT_EQ(tinytorch::cumsum(tensor({1, 2, 3}), 0, kFloat64).dtype(), kFloat64);
  EXPECT_EQ(values_as_double(tensor({2.0, 3.0, 4.0}).cumprod(0)), (std::vector<double>{2, 6, 24}));
}

// ── tril / triu ────────────────────────────────────────────────────────────────────────────────

TEST(Triangle, InPlaceFormsWriteIntoSelf) {
  Tensor x = ones({3, 3});
  const Tensor view = x.view({9});
  Tensor& same = x.tril_();
  EXPECT_TRUE(same.is_same(x));
  EXPECT_EQ(values_as_double(view), (std::vector<double>{1, 0, 0, 1, 1, 0, 1, 1, 1}));
  x.fill_(1).triu_(1);
  EXPECT_EQ(values_as_double(view), (std::vector<double>{0, 1, 1, 0, 0, 1, 0, 0, 0}));
  TT_EXPECT_THROW_WITH(tensor({1.0, 2.0}).tril(), ValueError, "tril", "at least 2 dimensions");
}

// ── norm / all / any ───────────────────────────────────────────────────────────────────────────

TEST(Norm, DefaultIsTheTwoNormAndNulloptMeansTwo) {
  const Tensor x = tensor({{3.0, 4.0}, {0.0, 12.0}});
  EXPECT_DOUBLE_EQ(x.norm().item<double>(), 13.0);
  EXPECT_DOUBLE_EQ(tinytorch::norm(x, 1).item<double>(), 19.0);
  EXPECT_EQ(values_as_double(x.norm(std::nullopt, {1})), (std::vector<double>{5.0, 12.0}));
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_DOUBLE_EQ(x.norm(inf).item<double>(), 12.0);
  TT_EXPECT_THROW_WITH(tensor({1, 2}).norm(), TypeError, "norm", "floating point");
}

TEST(AllAny, ReturnBoolAndFreeFormsAgree) {
  const Tensor x = tensor({{1, 0}, {2, 3}});
  EXPECT_EQ(x.all().dtype(), kBool);
  EXPECT_FALSE(x.all().item<bool>());
  EXPECT_TRUE(tinytorch::any(x).item<bool>());
  EXPECT_EQ(values_as_int(tinytorch::all(x, 1)), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(x.any(0, true).sizes(), IntArrayRef({1, 2}));
}

// ── sin / cos / log1p ──────────────────────────────────────────────────────────────────────────

TEST(SinCosLog1p, IntegersPromoteToTheDefaultFloatAsExpDoes) {
  const Tensor i = tensor({0, 1, 2});
  for (const Tensor& y : {i.sin(), i.cos(), i.log1p(), i.exp()}) EXPECT_EQ(y.dtype(), kFloat32);
  EXPECT_EQ(tensor({1.0, 2.0}, kFloat64).sin().dtype(), kFloat64);
  EXPECT_EQ(values_as_double(tensor({true, false}).cos()),
            (std::vector<double>{std::cos(1.0f), 1.0}));
}

TEST(SinCosLog1p, InPlaceFormsWriteIntoSelfAndFreeFormsAgree) {
  const Tensor x = tensor({0.5, -0.75, 3.0}, kFloat64);
  Tensor a = x.clone(), b = x.clone(), c = x.clone();
  EXPECT_EQ(&a.sin_(), &a);
  EXPECT_EQ(&b.cos_(), &b);
  EXPECT_EQ(&c.log1p_(), &c);
  EXPECT_TRUE(a.equal(x.sin()));
  EXPECT_TRUE(b.equal(x.cos()));
  EXPECT_TRUE(c.equal(x.log1p()));
  EXPECT_TRUE(tinytorch::sin(x).equal(x.sin()));
  EXPECT_TRUE(tinytorch::cos(x).equal(x.cos()));
  EXPECT_TRUE(tinytorch::log1p(x).equal(x.log1p()));
  // In place into a view: the base sees it.
  Tensor m = zeros({2, 2}, kFloat64);
  m[0].cos_();
  EXPECT_EQ(values_as_double(m), (std::vector<double>{1, 1, 0, 0}));
  // An integer tensor cannot hold the float result (as for exp_).
  Tensor i = tensor({1, 2});
  TT_EXPECT_THROW_WITH(i.sin_(), TypeError, "sin_", "int64");
  TT_EXPECT_THROW_WITH(i.log1p_(), TypeError, "log1p_", "int64");
}

TEST(SinCosLog1p, Log1pKeepsTheDigitsThatLogOfOnePlusXLoses) {
  const Tensor x = tensor({1e-12}, kFloat64);
  EXPECT_DOUBLE_EQ(x.log1p().item<double>(), std::log1p(1e-12));
  EXPECT_NE(x.add(1.0).log().item<double>(), x.log1p().item<double>());
}

// ── uniform_ / normal_ ─────────────────────────────────────────────────────────────────────────

TEST(RandomFill, SameSeedSameNumbersAsRand) {
  Generator a(7), b(7);
  Tensor x = empty({3, 4});
  x.uniform_(0, 1, &a);
  EXPECT_TRUE(x.equal(rand({3, 4}, {}, &b)));
  Tensor y = empty({2, 5}, kFloat64);
  y.normal_(0, 1, &a);
  EXPECT_TRUE(y.equal(randn({2, 5}, kFloat64, &b)));
}

TEST(RandomFill, RangesScalesAndStridedTargets) {
  Generator g(3);
  Tensor x = zeros({200, 4});
  Tensor col = x.select(1, 2);  // a strided view: only it is filled
  col.uniform_(-2.0, 5.0, &g);
  const std::vector<double> v = values_as_double(col);
  for (double e : v) {
    EXPECT_GE(e, -2.0);
    EXPECT_LT(e, 5.0);
  }
  EXPECT_EQ(x.select(1, 0).abs().sum().item<double>(), 0.0);
  Tensor n = empty({20000}, kFloat64);
  n.normal_(3.0, 0.5, &g);
  EXPECT_NEAR(n.mean().item<double>(), 3.0, 0.02);
  EXPECT_NEAR(std::sqrt(n.var().item<double>()), 0.5, 0.02);
}

TEST(RandomFill, ErrorsNameTheProblem) {
  Tensor i = zeros({3}, kInt64);
  TT_EXPECT_THROW_WITH(i.uniform_(), TypeError, "uniform_", "int64");
  Tensor x = zeros({3});
  TT_EXPECT_THROW_WITH(x.uniform_(1.0, 0.0), ValueError, "from=1", "to=0");
  TT_EXPECT_THROW_WITH(x.normal_(0.0, -1.0), ValueError, "std >= 0.0", "-1");
}

TEST(RandomFill, LeafThatRequiresGradNeedsNoGradGuard) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  Tensor w = zeros({3}).requires_grad_();
  TT_EXPECT_THROW_WITH(w.uniform_(), Error, "leaf Variable that requires grad");
  {
    NoGradGuard guard;
    w.normal_();
  }
  EXPECT_NE(w.abs().sum().item<double>(), 0.0);
}

// ── from_blob ──────────────────────────────────────────────────────────────────────────────────

TEST(FromBlob, WrapsWithoutCopying) {
  std::vector<float> buffer{1, 2, 3, 4, 5, 6};
  Tensor t = from_blob(buffer.data(), {2, 3});
  EXPECT_EQ(t.data_ptr<float>(), buffer.data());
  EXPECT_EQ(t.dtype(), kFloat32);
  t.mul_(2);
  EXPECT_EQ(buffer[5], 12.0f);
  buffer[0] = -1;
  EXPECT_EQ(t[0][0].item<float>(), -1.0f);
}

TEST(FromBlob, StridesDtypeAndRequiresGrad) {
  std::vector<double> buffer{0, 1, 2, 3, 4, 5};
  // Every other element, as a column: sizes [3, 1], strides [2, 1].
  Tensor t = from_blob(buffer.data(), {3, 1}, {2, 1}, dtype(kFloat64));
  EXPECT_EQ(values_as_double(t), (std::vector<double>{0, 2, 4}));
  EXPECT_FALSE(t.is_contiguous());
  Tensor leaf = from_blob(buffer.data(), {6}, TensorOptions(kFloat64).requires_grad(true));
  EXPECT_TRUE(leaf.requires_grad());
  std::vector<int64_t> ints{1, 2};
  EXPECT_EQ(values_as_int(from_blob(ints.data(), {2}, kInt64)), ints);
}

TEST(FromBlob, TheDeleterRunsOnceWhenTheLastOwnerGoes) {
  int calls = 0;
  auto* data = new float[4]{1, 2, 3, 4};
  {
    Tensor t = from_blob(data, {4}, [&calls](void* p) {
      ++calls;
      delete[] static_cast<float*>(p);
    });
    Tensor view = t.view({2, 2});
    t = Tensor();
    EXPECT_EQ(calls, 0);  // the view still shares the memory
    EXPECT_EQ(view[1][1].item<float>(), 4.0f);
  }
  EXPECT_EQ(calls, 1);
}

TEST(FromBlob, RejectsBadArguments) {
  std::vector<double> buffer(4);
  auto* misaligned = reinterpret_cast<char*>(buffer.data()) + 1;
  TT_EXPECT_THROW_WITH(from_blob(misaligned, {2}, kFloat64), ValueError, "aligned");
  TT_EXPECT_THROW_WITH((from_blob(buffer.data(), {2, 2}, {1})), ValueError, "same length");
  TT_EXPECT_THROW_WITH(from_blob(nullptr, {2}), ValueError, "null pointer");
}

// ── split / chunk ──────────────────────────────────────────────────────────────────────────────

TEST(SplitChunk, PiecesAreViewsWithOneBackwardNode) {
  const Tensor x = random({4, 6}, 31);
  std::vector<Tensor> pieces = x.split(4, 1);  // [4, 4] and [4, 2]
  ASSERT_EQ(pieces.size(), 2U);
  pieces[1].fill_(7.0);  // a view: writes into x
  EXPECT_EQ(x.select(1, 5).sum().item<double>(), 28.0);
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor leaf = x.detach().requires_grad_();
  const std::vector<Tensor> chunks = leaf.chunk(3, 1);
  ASSERT_EQ(chunks.size(), 3U);
  ASSERT_NE(chunks[0].grad_fn(), nullptr);
  EXPECT_EQ(chunks[0].grad_fn()->name(), "SplitBackward0");
  EXPECT_EQ(chunks[0].grad_fn(), chunks[2].grad_fn());  // one node, three outputs
  EXPECT_EQ(leaf.split({1, 5}, 1)[0].grad_fn()->name(), "SplitWithSizesBackward0");
}

TEST(SplitChunk, PiecesWithoutAGradientGetZeros) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 5}, 32).requires_grad_();
  const std::vector<Tensor> pieces = x.split({2, 0, 3}, 1);
  (pieces[2] * 3.0).sum().backward();
  EXPECT_TRUE(x.grad().narrow(1, 0, 2).eq(0.0).all().item<bool>());
  EXPECT_TRUE(x.grad().narrow(1, 2, 3).eq(3.0).all().item<bool>());
}

TEST(SplitChunk, ErrorsNameTheProblem) {
  const Tensor x = random({5}, 33);
  TT_EXPECT_THROW_WITH(x.split(0), ValueError, "split_size can only be 0", "size of 5");
  TT_EXPECT_THROW_WITH(x.split(-2), ValueError, "non-negative", "split_size=-2");
  TT_EXPECT_THROW_WITH((x.split({2, 2})), ValueError, "sum exactly to 5", "[2, 2]");
  TT_EXPECT_THROW_WITH((x.split({6, -1})), ValueError, "non-negative entries", "[6, -1]");
  TT_EXPECT_THROW_WITH(x.chunk(0), ValueError, "`chunks` to be greater than 0, got: 0");
  TT_EXPECT_THROW_WITH(random({}, 1).chunk(1), ValueError, "chunk", "1-dimensional");
  TT_EXPECT_THROW_WITH(x.split(1, 1), Error, "split");
}

// ── the free-function forms ────────────────────────────────────────────────────────────────────

TEST(FreeFunctions, ForwardToTheMethods) {
  const Tensor x = random({2, 3, 4}, 5);
  EXPECT_TRUE(tinytorch::reshape(x, {6, 4}).equal(x.reshape({6, 4})));
  EXPECT_TRUE(tinytorch::flatten(x, 1).equal(x.flatten(1)));
  EXPECT_TRUE(tinytorch::transpose(x, 0, 2).equal(x.transpose(0, 2)));
  EXPECT_TRUE(tinytorch::permute(x, {2, 0, 1}).equal(x.permute({2, 0, 1})));
  EXPECT_TRUE(tinytorch::unsqueeze(x, 1).equal(x.unsqueeze(1)));
  EXPECT_TRUE(tinytorch::squeeze(x.unsqueeze(0), 0).equal(x));
  EXPECT_TRUE(tinytorch::narrow(x, 2, 1, 2).equal(x.narrow(2, 1, 2)));
  EXPECT_TRUE(tinytorch::select(x, 1, 2).equal(x.select(1, 2)));
  EXPECT_TRUE(tinytorch::max(x).equal(x.max()));
  EXPECT_TRUE(std::get<1>(tinytorch::min(x, 1)).equal(std::get<1>(x.min(1))));
  EXPECT_TRUE(tinytorch::argmax(x, 2).equal(x.argmax(2)));
  EXPECT_TRUE(tinytorch::max(x, zeros({4}, kFloat64)).equal(x.maximum(zeros({4}, kFloat64))));
  EXPECT_TRUE(tinytorch::var(x, std::vector<int64_t>{1}).equal(x.var({1})));
  EXPECT_TRUE(tinytorch::gt(x, 0.0).equal(x.gt(0.0)));
  EXPECT_TRUE(tinytorch::clamp_min(x, 0.0).equal(x.clamp_min(0.0)));
  EXPECT_TRUE(tinytorch::tril(x, 1).equal(x.tril(1)));
  EXPECT_TRUE(tinytorch::cumsum(x, 2).equal(x.cumsum(2)));
  EXPECT_TRUE(tinytorch::split(x, 3, 2)[1].equal(x.split(3, 2)[1]));
  EXPECT_TRUE(tinytorch::split(x, {1, 2}, 1)[1].equal(x.narrow(1, 1, 2)));
  EXPECT_TRUE(tinytorch::split_with_sizes(x, {3, 1}, 2)[1].equal(x.narrow(2, 3, 1)));
  EXPECT_TRUE(tinytorch::chunk(x, 2, 0)[1].equal(x.select(0, 1).unsqueeze(0)));
  EXPECT_EQ(tinytorch::t(zeros({2, 3})).sizes(), IntArrayRef({3, 2}));
  EXPECT_EQ(tinytorch::sum(tensor({1, 2}), kFloat64).dtype(), kFloat64);
}

// ── gradients (float64 gradcheck) ──────────────────────────────────────────────────────────────

TEST(LibtorchOpsGradcheck, SortTopk) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 5}, 11);
  expect_gradcheck([](const Tensor& t) { return std::get<0>(t.sort(1)); }, x);
  expect_gradcheck([](const Tensor& t) { return std::get<0>(t.sort(0, true)); }, x);
  expect_gradcheck([](const Tensor& t) { return std::get<0>(t.t().sort(1)); }, x);
  expect_gradcheck([](const Tensor& t) { return std::get<0>(t.topk(2)); }, x);
  expect_gradcheck([](const Tensor& t) { return std::get<0>(t.topk(2, 0, false, false)); }, x);
}

TEST(LibtorchOpsGradcheck, CumsumCumprod) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 4}, 12);
  expect_gradcheck([](const Tensor& t) { return t.cumsum(1); }, x);
  expect_gradcheck([](const Tensor& t) { return t.cumsum(0); }, x);
  expect_gradcheck([](const Tensor& t) { return t.cumprod(1); }, x);
  // Zeros in the row: the kernel's three cases (before, at and after the first zero).
  const Tensor z = tensor({{1.5, 0.0, 2.0, -1.0}, {0.0, 0.5, 0.0, 3.0}}, kFloat64);
  expect_gradcheck([](const Tensor& t) { return t.cumprod(1); }, z);
}

TEST(LibtorchOpsGradcheck, TrilTriu) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({2, 3, 4}, 13);
  expect_gradcheck([](const Tensor& t) { return t.tril(); }, x);
  expect_gradcheck([](const Tensor& t) { return t.triu(-1); }, x);
  expect_gradcheck([](const Tensor& t) { return t.clone().tril_(1) * 2.0; }, x);
}

TEST(LibtorchOpsGradcheck, Norm) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 4}, 14);
  const double inf = std::numeric_limits<double>::infinity();
  for (const double p : {2.0, 1.0, 3.0, 1.5, 0.5, inf, -inf}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    expect_gradcheck([p](const Tensor& t) { return t.norm(p); }, x);
    expect_gradcheck([p](const Tensor& t) { return t.norm(p, {1}, true); }, x);
    expect_gradcheck([p](const Tensor& t) { return t.norm(p, {0}); }, x);
  }
}

TEST(LibtorchOpsGradcheck, SinCosLog1p) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 4}, 15);
  expect_gradcheck([](const Tensor& t) { return t.sin(); }, x);
  expect_gradcheck([](const Tensor& t) { return t.cos(); }, x);
  expect_gradcheck([](const Tensor& t) { return t.t().sin() * t.t().cos(); }, x);
  const Tensor p = x.abs().add(0.1);  // log1p's domain is x > −1; also at and near 0
  expect_gradcheck([](const Tensor& t) { return t.log1p(); }, p);
  expect_gradcheck([](const Tensor& t) { return t.log1p(); }, x.mul(0.3));
  expect_gradcheck([](const Tensor& t) { return (t * 2.0).sin_().log1p_(); }, p);
}

// Every piece contributes, each differently: a wrong offset or a missing zero fill shows.
Tensor weighted_pieces(const std::vector<Tensor>& p, int64_t dim) {
  std::vector<Tensor> parts;
  for (size_t i = 0; i < p.size(); ++i) parts.push_back(p[i] * p[i] * static_cast<double>(i + 1));
  return cat(parts, dim);
}

TEST(LibtorchOpsGradcheck, SplitChunk) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({4, 7}, 34);
  expect_gradcheck([](const Tensor& t) { return weighted_pieces(t.split(3, 1), 1); }, x);
  expect_gradcheck([](const Tensor& t) { return weighted_pieces(t.split({1, 0, 3}, 0), 0); }, x);
  expect_gradcheck([](const Tensor& t) { return weighted_pieces(t.t().chunk(3, 1), 1); }, x);
  expect_gradcheck([](const Tensor& t) { return t.chunk(4, 1)[1].sin(); }, x);  // others unused
}

TEST(LibtorchOpsGradcheck, NormAtZeroIsZeroNotNan) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = zeros({3}, kFloat64).requires_grad_();
  x.norm().backward();
  EXPECT_EQ(values_as_double(x.grad()), (std::vector<double>{0, 0, 0}));
}

// ── second derivatives (create_graph; float64 gradgradcheck) ───────────────────────────────────

TEST(LibtorchOpsGradgradcheck, SortTopkCumsumCumprodTriangles) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 4}, 21);
  // sort/topk/tril are linear in x (piecewise): the check covers the grad_output's Jacobian.
  expect_gradgradcheck([](const Tensor& t) { return std::get<0>(t.sort(1, true)); }, x);
  expect_gradgradcheck([](const Tensor& t) { return std::get<0>(t.topk(2, 0)); }, x);
  expect_gradgradcheck([](const Tensor& t) { return t.cumsum(1) * t; }, x);
  expect_gradgradcheck([](const Tensor& t) { return t.cumprod(1); }, x);
  expect_gradgradcheck([](const Tensor& t) { return t.tril() * t.triu(-1); }, x);
}

TEST(LibtorchOpsGradgradcheck, SplitChunk) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 5}, 35);
  expect_gradgradcheck([](const Tensor& t) { return weighted_pieces(t.split(2, 1), 1); }, x);
  expect_gradgradcheck([](const Tensor& t) { return t.chunk(3, 0)[2] * t.chunk(3, 0)[0]; }, x);
}

TEST(LibtorchOpsGradgradcheck, Norm) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 4}, 22);
  const double inf = std::numeric_limits<double>::infinity();
  for (const double p : {2.0, 1.0, 3.0, 1.5, inf}) {
    SCOPED_TRACE("p = " + std::to_string(p));
    expect_gradgradcheck([p](const Tensor& t) { return t.norm(p); }, x);
    expect_gradgradcheck([p](const Tensor& t) { return t.norm(p, {1}, true); }, x);
  }
}

TEST(LibtorchOpsGradgradcheck, SinCosLog1p) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 4}, 23);
  expect_gradgradcheck([](const Tensor& t) { return t.sin(); }, x);
  expect_gradgradcheck([](const Tensor& t) { return t.cos(); }, x);
  expect_gradgradcheck([](const Tensor& t) { return t.log1p(); }, x.abs().add(0.1));
  expect_gradgradcheck([](const Tensor& t) { return t.cos().mul(t).log1p(); }, x.mul(0.3));
}

TEST(LibtorchOpsGradgradcheck, CumprodWithZerosRefusesCreateGraph) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = tensor({1.5, 0.0, 2.0}, kFloat64).requires_grad_();
  const Tensor g = autograd::grad({x.cumprod(0).sum()}, {x}, {}, std::nullopt, false)[0];
  EXPECT_EQ(values_as_double(g), (std::vector<double>{1.0, 4.5, 0.0}));  // first order: exact
  TT_EXPECT_THROW_WITH(autograd::grad({x.cumprod(0).sum()}, {x}, {}, std::nullopt, true),
                       NotImplementedError, "cumprod", "zeros");
}

}  // namespace
}  // namespace tinytorch
