// Module 01's tensor, with the further element-wise ops libtorch programs call: floor / ceil /
// round / trunc / sign / frac, reciprocal / rsqrt / square, erf / expm1 / log2 / log10, tan /
// asin / acos / atan / sinh / cosh, fmod / remainder / atan2 / lerp / addcmul / addcdiv,
// isnan / isinf / isfinite / nan_to_num, the logical ops, masked_fill / index_fill, bernoulli,
// and the in-place forms. Values against PyTorch (tests/data/libtorch_ops_reference.json, group
// "math"), float64 gradchecks and gradgradchecks (module 05), the error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
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

Scalar scalar_arg(const json& v) {
  return v.is_number_integer() ? Scalar(v.get<int64_t>()) : Scalar(v.get<double>());
}

std::optional<double> optional_arg(const json& args, const char* key) {
  return args.contains(key) ? std::optional<double>(args.at(key).get<double>()) : std::nullopt;
}

Tensor unary(const std::string& op, const Tensor& x) {
  static const std::map<std::string, Tensor (Tensor::*)() const> kOps = {
      {"floor", &Tensor::floor},
      {"ceil", &Tensor::ceil},
      {"round", &Tensor::round},
      {"trunc", &Tensor::trunc},
      {"sign", &Tensor::sign},
      {"frac", &Tensor::frac},
      {"reciprocal", &Tensor::reciprocal},
      {"rsqrt", &Tensor::rsqrt},
      {"square", &Tensor::square},
      {"erf", &Tensor::erf},
      {"expm1", &Tensor::expm1},
      {"log2", &Tensor::log2},
      {"log10", &Tensor::log10},
      {"tan", &Tensor::tan},
      {"asin", &Tensor::asin},
      {"acos", &Tensor::acos},
      {"atan", &Tensor::atan},
      {"sinh", &Tensor::sinh},
      {"cosh", &Tensor::cosh},
      {"isnan", &Tensor::isnan},
      {"isinf", &Tensor::isinf},
      {"isfinite", &Tensor::isfinite},
      {"logical_not", &Tensor::logical_not}};
  const auto it = kOps.find(op);
  if (it == kOps.end()) throw std::runtime_error("unknown op " + op);
  return (x.*(it->second))();
}

std::vector<Tensor> run_math_op(const std::string& op, const std::vector<Tensor>& in,
                                const json& args) {
  const Tensor& x = in.at(0);
  if (op == "fmod" || op == "remainder") {
    const bool fmod = op == "fmod";
    if (args.contains("other")) {
      const Scalar s = scalar_arg(args.at("other"));
      return {fmod ? x.fmod(s) : x.remainder(s)};
    }
    return {fmod ? x.fmod(in.at(1)) : x.remainder(in.at(1))};
  }
  if (op == "atan2") return {x.atan2(in.at(1))};
  if (op == "logical_and") return {x.logical_and(in.at(1))};
  if (op == "logical_or") return {x.logical_or(in.at(1))};
  if (op == "logical_xor") return {x.logical_xor(in.at(1))};
  if (op == "lerp") {
    if (args.contains("weight")) return {x.lerp(in.at(1), scalar_arg(args.at("weight")))};
    return {x.lerp(in.at(1), in.at(2))};
  }
  if (op == "addcmul") return {x.addcmul(in.at(1), in.at(2), scalar_arg(args.at("value")))};
  if (op == "addcdiv") return {x.addcdiv(in.at(1), in.at(2), scalar_arg(args.at("value")))};
  if (op == "nan_to_num") {
    return {x.nan_to_num(optional_arg(args, "nan"), optional_arg(args, "posinf"),
                         optional_arg(args, "neginf"))};
  }
  if (op == "masked_fill") return {x.masked_fill(in.at(1), scalar_arg(args.at("value")))};
  if (op == "index_fill") {
    return {x.index_fill(args.at("dim").get<int64_t>(), in.at(1), scalar_arg(args.at("value")))};
  }
  return {unary(op, x)};
}

TEST(LibtorchOpsReference, MathOpsMatchPyTorch) {
  test::check_op_cases("math", run_math_op);
}

// ── dtypes, free and in-place forms ────────────────────────────────────────────────────────────

TEST(MathOps, RoundingKeepsIntegerDtypesTranscendentalsPromote) {
  const Tensor i = tensor({-3, 0, 2});
  for (const Tensor& y : {i.floor(), i.ceil(), i.round(), i.trunc(), i.sign(), i.square()}) {
    EXPECT_EQ(y.dtype(), kInt64);
  }
  EXPECT_EQ(values_as_int(i.sign()), (std::vector<int64_t>{-1, 0, 1}));
  for (const Tensor& y : {i.erf(), i.reciprocal(), i.log2(), i.atan(), i.cosh()}) {
    EXPECT_EQ(y.dtype(), kFloat32);
  }
  EXPECT_EQ(tensor({true, false}).sign().dtype(), kBool);
  EXPECT_EQ(tensor({true, false}).square().dtype(), kInt64);
  for (const Tensor& y : {i.isnan(), i.isinf(), i.isfinite(), i.logical_not()}) {
    EXPECT_EQ(y.dtype(), kBool);
  }
}

// relu_, sigmoid_ and tanh_ run module 02's kernels: they skip while module 02 is a stub.
TEST(MathOps, ActivationInPlaceFormsAgree) {
  const std::string missing = test::later_module_missing("01", [] {
    const Tensor x = tensor({0.5, -0.75, 2.5, -1.5}, kFloat64);
    Tensor r = x.clone(), s = x.clone(), t = x.clone();
    EXPECT_EQ(&r.relu_(), &r);
    EXPECT_TRUE(r.equal(x.relu()));
    EXPECT_EQ(&s.sigmoid_(), &s);
    EXPECT_TRUE(s.equal(x.sigmoid()));
    EXPECT_EQ(&t.tanh_(), &t);
    EXPECT_TRUE(t.equal(x.tanh()));
  });
  if (!missing.empty()) GTEST_SKIP() << missing;
}

TEST(MathOps, FreeFormsAndInPlaceFormsAgree) {
  const Tensor x = tensor({0.5, -0.75, 2.5, -1.5}, kFloat64);
  EXPECT_TRUE(tinytorch::floor(x).equal(x.floor()));
  EXPECT_TRUE(tinytorch::round(x).equal(x.round()));
  EXPECT_TRUE(tinytorch::fmod(x, 0.5).equal(x.fmod(0.5)));
  EXPECT_TRUE(tinytorch::remainder(x, x.add(3.0)).equal(x.remainder(x.add(3.0))));
  EXPECT_TRUE(tinytorch::lerp(x, x.neg(), 0.25).equal(x.lerp(x.neg(), 0.25)));
  EXPECT_TRUE(tinytorch::addcdiv(x, x, x.add(3.0), 2).equal(x.addcdiv(x, x.add(3.0), 2)));
  EXPECT_TRUE(tinytorch::isfinite(x).equal(x.isfinite()));
  const std::vector<std::function<Tensor&(Tensor&)>> inplace = {
      [](Tensor& t) -> Tensor& { return t.floor_(); },
      [](Tensor& t) -> Tensor& { return t.sign_(); },
      [](Tensor& t) -> Tensor& { return t.atan_(); },
      [](Tensor& t) -> Tensor& { return t.square_(); },
      [](Tensor& t) -> Tensor& { return t.remainder_(0.5); },
      [&](Tensor& t) -> Tensor& { return t.addcmul_(x, x, 0.5); },
      [&](Tensor& t) -> Tensor& { return t.lerp_(x.neg(), 0.5); },
      [](Tensor& t) -> Tensor& { return t.clamp_min_(0.0); },
      [](Tensor& t) -> Tensor& { return t.clamp_max_(0.0); },
      [](Tensor& t) -> Tensor& { return t.nan_to_num_(); }};
  const std::vector<Tensor> expected = {x.floor(),
                                        x.sign(),
                                        x.atan(),
                                        x.square(),
                                        x.remainder(0.5),
                                        x.addcmul(x, x, 0.5),
                                        x.lerp(x.neg(), 0.5),
                                        x.clamp_min(0.0),
                                        x.clamp_max(0.0),
                                        x.nan_to_num()};
  for (size_t k = 0; k < inplace.size(); ++k) {
    Tensor c = x.clone();
    EXPECT_EQ(&inplace[k](c), &c) << k;
    EXPECT_TRUE(c.equal(expected[k])) << k;
  }
  Tensor m = zeros({2, 2}, kFloat64);
  m[0].cosh_();  // through a view: the base sees it
  EXPECT_EQ(values_as_double(m), (std::vector<double>{1, 1, 0, 0}));
  Tensor i = tensor({1, 2});
  TT_EXPECT_THROW_WITH(i.erf_(), TypeError, "erf_", "int64");
  EXPECT_EQ(values_as_int(i.floor_()), (std::vector<int64_t>{1, 2}));
}

TEST(MathOps, MaskedFillAndIndexFillInPlace) {
  Tensor x = zeros({2, 3});
  const Tensor mask = tensor({true, false, true});
  EXPECT_EQ(&x.masked_fill_(mask, 2.0), &x);
  EXPECT_EQ(values_as_double(x), (std::vector<double>{2, 0, 2, 2, 0, 2}));
  EXPECT_TRUE(tinytorch::masked_fill(x, mask.logical_not(), -1.0)
                  .equal(full({2, 3}, 2.0).masked_fill(mask.logical_not(), -1.0)));
  EXPECT_EQ(&x.index_fill_(0, tensor({1}), 5.0), &x);
  EXPECT_EQ(values_as_double(x), (std::vector<double>{2, 0, 2, 5, 5, 5}));
  TT_EXPECT_THROW_WITH(x.index_fill_(0, tensor({0.0}), 1.0), TypeError, "index_fill_", "int64");
  TT_EXPECT_THROW_WITH(x.masked_fill_(tensor({1, 0, 1}), 1.0), TypeError, "masked_fill", "bool");
}

TEST(MathOps, ErrorsNameTheOpAndArgument) {
  const Tensor i = tensor({4, 5});
  TT_EXPECT_THROW_WITH(i.fmod(tensor({0, 1})), ValueError, "fmod", "divisor");
  TT_EXPECT_THROW_WITH(i.remainder(0), ValueError, "remainder", "divisor");
  TT_EXPECT_THROW_WITH(i.frac(), TypeError, "frac", "int64");
  TT_EXPECT_THROW_WITH(tensor({1.0}).lerp(tensor({1.0}, kFloat64), 0.5), TypeError, "lerp", "end");
  TT_EXPECT_THROW_WITH(i.addcdiv(i, i), TypeError, "addcdiv", "tensor1");
  TT_EXPECT_THROW_WITH(i.addcmul(i, i, 0.5), TypeError, "addcmul", "value");
  TT_EXPECT_THROW_WITH(tensor({1.5}).bernoulli(), ValueError, "bernoulli", "[0, 1]");
  Tensor f = zeros({3});
  TT_EXPECT_THROW_WITH(f.bernoulli_(1.5), ValueError, "bernoulli_", "p");
}

// ── bernoulli: draws from the project's Generator ──────────────────────────────────────────────

TEST(Bernoulli, ReproducibleAndFrequenciesMatchP) {
  Generator g1(3), g2(3);
  Tensor a = empty({4000}), b = empty({4000});
  a.bernoulli_(0.3, &g1);
  b.bernoulli_(0.3, &g2);
  EXPECT_TRUE(a.equal(b));
  EXPECT_TRUE(a.eq(0.0).logical_or(a.eq(1.0)).all().item<bool>());
  EXPECT_NEAR(a.mean().item<double>(), 0.3, 0.03);
  const Tensor p = tensor({0.0, 1.0, 0.5}, kFloat64).expand({2000, 3});
  Generator g3(4);
  const Tensor s = p.bernoulli(&g3);
  EXPECT_EQ(s.dtype(), kFloat64);
  EXPECT_EQ(values_as_double(s.mean({0})).at(0), 0.0);
  EXPECT_EQ(values_as_double(s.mean({0})).at(1), 1.0);
  EXPECT_NEAR(values_as_double(s.mean({0})).at(2), 0.5, 0.04);
}

// ── gradients (float64 gradcheck and gradgradcheck) ────────────────────────────────────────────

// Each differentiable op with an input inside its domain, away from its kinks.
struct GradCase {
  const char* name;
  std::function<Tensor(const Tensor&)> f;
};
std::vector<GradCase> grad_cases() {
  const Tensor other = random({3, 4}, 41).abs().add(0.5);
  return {
      {"floor", [](const Tensor& t) { return t.floor() + t * t; }},
      {"ceil", [](const Tensor& t) { return t.ceil() * t; }},
      {"round", [](const Tensor& t) { return t.round() * t; }},
      {"trunc", [](const Tensor& t) { return t.trunc() + t; }},
      {"sign", [](const Tensor& t) { return t.sign() * t.square(); }},
      {"frac", [](const Tensor& t) { return t.mul(3.0).frac(); }},
      {"reciprocal", [](const Tensor& t) { return t.abs().add(0.5).reciprocal(); }},
      {"rsqrt", [](const Tensor& t) { return t.abs().add(0.5).rsqrt(); }},
      {"square", [](const Tensor& t) { return t.square(); }},
      {"erf", [](const Tensor& t) { return t.erf(); }},
      {"expm1", [](const Tensor& t) { return t.expm1(); }},
      {"log2", [](const Tensor& t) { return t.abs().add(0.5).log2(); }},
      {"log10", [](const Tensor& t) { return t.abs().add(0.5).log10(); }},
      {"tan", [](const Tensor& t) { return t.mul(0.4).tan(); }},
      {"asin", [](const Tensor& t) { return t.tanh().mul(0.8).asin(); }},
      {"acos", [](const Tensor& t) { return t.tanh().mul(0.8).acos(); }},
      {"atan", [](const Tensor& t) { return t.atan(); }},
      {"sinh", [](const Tensor& t) { return t.sinh(); }},
      {"cosh", [](const Tensor& t) { return t.cosh(); }},
      {"fmod", [other](const Tensor& t) { return t.mul(2.0).fmod(other); }},
      {"fmod_other",
       [](const Tensor& t) {
         return tensor({2.9, -3.7, 5.3}, kFloat64).fmod(t.slice(1, 0, 3)[0].abs().add(0.6));
       }},
      {"remainder", [other](const Tensor& t) { return t.mul(2.0).remainder(other.neg()); }},
      {"remainder_other",
       [](const Tensor& t) {
         return tensor({2.9, -3.7, 5.3}, kFloat64).remainder(t.slice(1, 0, 3)[0].abs().add(0.6));
       }},
      {"atan2", [other](const Tensor& t) { return t.atan2(other) + other.atan2(t.add(2.0)); }},
      {"lerp",
       [other](const Tensor& t) { return t.lerp(other, 0.3) + other.lerp(t, t.sigmoid()); }},
      {"addcmul", [other](const Tensor& t) { return other.addcmul(t, t.sin(), 0.5); }},
      {"addcdiv", [other](const Tensor& t) { return t.addcdiv(t.cos(), other, -2); }},
      {"nan_to_num", [](const Tensor& t) { return t.log().nan_to_num().mul(t); }},
      {"masked_fill", [](const Tensor& t) { return t.masked_fill(t.gt(0.0), 1.0).mul(t); }},
      {"index_fill",
       [](const Tensor& t) {
         return t.mul(t).index_fill(1, tensor({2, 0}), -1.0);
       }},
      {"inplace",
       [other](const Tensor& t) { return t.mul(1.0).tanh_().atan_().addcmul_(t, other).relu_(); }},
  };
}

TEST(LibtorchOpsGradcheck, MathOps) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 4}, 40);
  for (const GradCase& c : grad_cases()) {
    SCOPED_TRACE(c.name);
    expect_gradcheck(c.f, x);
  }
}

TEST(LibtorchOpsGradgradcheck, MathOps) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 4}, 42);
  for (const GradCase& c : grad_cases()) {
    SCOPED_TRACE(c.name);
    expect_gradgradcheck(c.f, x);
  }
}

TEST(LibtorchOpsGradcheck, RoundingAndBernoulliGiveZeroGradient) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = tensor({0.4, 1.6, -2.5}, kFloat64).requires_grad_();
  (x.floor() + x.round() + x.sign() + x.ceil() + x.trunc()).sum().backward();
  EXPECT_EQ(values_as_double(x.grad()), (std::vector<double>{0, 0, 0}));
  EXPECT_FALSE(x.sigmoid().bernoulli().requires_grad());
}

}  // namespace
}  // namespace tinytorch
