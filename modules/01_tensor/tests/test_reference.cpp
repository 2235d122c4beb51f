// Module 01 against PyTorch: every case of tests/data/module01_reference.json (written by
// tools/reference/gen_module01.py with PyTorch) is run here and must give PyTorch's answer —
// values, shape, dtype, and for views also strides, storage offset, contiguity and aliasing.
// Cases PyTorch rejects ("error": true) must throw a tinytorch::Error.
//
// A failure names the case; find it in the JSON file (one case per line) to see its inputs.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::json;

const json& cases() {
  return test::load_reference("module01_reference.json").at("cases");
}

// What a case produced: tensors (most ops; two for max_dim/min_dim) or a string (repr).
struct Outcome {
  Outcome() = default;
  Outcome(std::vector<Tensor> t) : tensors(std::move(t)) {}  // NOLINT(google-explicit-constructor)
  static Outcome text_of(std::string s) {
    Outcome o;
    o.text = std::move(s);
    return o;
  }
  std::vector<Tensor> tensors;
  std::optional<std::string> text;
};

std::optional<Scalar> opt_scalar(const json& args, const char* key) {
  if (!args.contains(key) || args.at(key).is_null()) return std::nullopt;
  return test::scalar_from_json(args.at(key));
}

std::vector<int64_t> dims_arg(const json& args) {
  return args.contains("dims") ? test::int_list(args.at("dims")) : std::vector<int64_t>{};
}

bool keepdim_arg(const json& args) {
  return args.contains("keepdim") && args.at("keepdim").get<bool>();
}

// `other` is a Tensor or a Scalar: every op below has both overloads, except maximum/minimum.
template <typename Other>
Tensor binary(const std::string& op, const Tensor& a, const Other& b) {
  if (op == "mul") return a.mul(b);
  if (op == "div") return a.div(b);
  if (op == "pow") return a.pow(b);
  if constexpr (std::is_same_v<Other, Tensor>) {
    if (op == "maximum") return a.maximum(b);
    if (op == "minimum") return a.minimum(b);
  }
  if (op == "eq") return a.eq(b);
  if (op == "ne") return a.ne(b);
  if (op == "lt") return a.lt(b);
  if (op == "le") return a.le(b);
  if (op == "gt") return a.gt(b);
  if (op == "ge") return a.ge(b);
  throw std::runtime_error("unknown binary op " + op);
}

// Runs an in-place op on `self` and checks that it returns a reference to `self`.
Tensor run_inplace(const std::string& op, Tensor self, const std::vector<Tensor>& in,
                   const json& args) {
  const Tensor* other = in.size() > 1 ? &in[1] : nullptr;
  const Scalar alpha = opt_scalar(args, "alpha").value_or(Scalar(1));
  Tensor* ret = nullptr;
  if (op == "add_") {
    ret = other ? &self.add_(*other, alpha) : &self.add_(*opt_scalar(args, "other"), alpha);
  } else if (op == "sub_") {
    ret = other ? &self.sub_(*other, alpha) : &self.sub_(*opt_scalar(args, "other"), alpha);
  } else if (op == "mul_") {
    ret = other ? &self.mul_(*other) : &self.mul_(*opt_scalar(args, "other"));
  } else if (op == "div_") {
    ret = other ? &self.div_(*other) : &self.div_(*opt_scalar(args, "other"));
  } else if (op == "copy_") {
    ret = &self.copy_(*other);
  } else if (op == "pow_") {
    ret = &self.pow_(*opt_scalar(args, "exponent"));
  } else if (op == "fill_") {
    ret = &self.fill_(*opt_scalar(args, "value"));
  } else if (op == "clamp_") {
    ret = &self.clamp_(opt_scalar(args, "min"), opt_scalar(args, "max"));
  } else if (op == "neg_") {
    ret = &self.neg_();
  } else if (op == "abs_") {
    ret = &self.abs_();
  } else if (op == "exp_") {
    ret = &self.exp_();
  } else if (op == "log_") {
    ret = &self.log_();
  } else if (op == "sqrt_") {
    ret = &self.sqrt_();
  } else {
    throw std::runtime_error("unknown in-place op " + op);
  }
  EXPECT_EQ(ret, &self) << op << " must return *this";
  return self;
}

Outcome run_case(const json& c) {
  const auto op = c.at("op").get<std::string>();
  const json& args = c.at("args");
  std::vector<Tensor> in;
  for (const auto& j : c.at("inputs")) in.push_back(test::tensor_from_json(j));
  const Tensor& a = in.at(0);
  const bool tensor_other = in.size() > 1;

  if (op == "add" || op == "sub") {
    const Scalar alpha = opt_scalar(args, "alpha").value_or(Scalar(1));
    if (op == "add") {
      return {{tensor_other ? a.add(in[1], alpha) : a.add(*opt_scalar(args, "other"), alpha)}};
    }
    return {{tensor_other ? a.sub(in[1], alpha) : a.sub(*opt_scalar(args, "other"), alpha)}};
  }
  if (op == "mul" || op == "div" || op == "pow" || op == "maximum" || op == "minimum" ||
      op == "eq" || op == "ne" || op == "lt" || op == "le" || op == "gt" || op == "ge") {
    return {{tensor_other ? binary(op, a, in[1]) : binary(op, a, *opt_scalar(args, "other"))}};
  }
  if (op == "rsub") return {{*opt_scalar(args, "scalar") - a}};
  if (op == "rdiv") return {{*opt_scalar(args, "scalar") / a}};
  if (op == "rpow") return {{pow(*opt_scalar(args, "scalar"), a)}};
  if (op == "exp") return {{a.exp()}};
  if (op == "log") return {{a.log()}};
  if (op == "sqrt") return {{a.sqrt()}};
  if (op == "abs") return {{a.abs()}};
  if (op == "neg") return {{a.neg()}};
  if (op == "clamp") return {{a.clamp(opt_scalar(args, "min"), opt_scalar(args, "max"))}};
  if (op == "where") {
    if (args.contains("self_scalar")) return {{where(a, *opt_scalar(args, "self_scalar"), in[1])}};
    if (args.contains("other")) return {{where(a, in[1], *opt_scalar(args, "other"))}};
    return {{where(a, in.at(1), in.at(2))}};
  }
  if (op == "sum") {
    std::optional<ScalarType> dtype;
    if (args.contains("dtype")) dtype = test::parse_dtype(args.at("dtype").get<std::string>());
    if (!args.contains("dims")) return {{a.sum(dtype)}};
    return {{a.sum(dims_arg(args), keepdim_arg(args), dtype)}};
  }
  if (op == "mean") return {{a.mean(dims_arg(args), keepdim_arg(args))}};
  if (op == "var") {
    return {{a.var(dims_arg(args), args.at("unbiased").get<bool>(), keepdim_arg(args))}};
  }
  if (op == "max") return {{a.max()}};
  if (op == "min") return {{a.min()}};
  if (op == "max_dim" || op == "min_dim") {
    const int64_t dim = test::json_to_int(args.at("dim"));
    auto [values, indices] =
        op == "max_dim" ? a.max(dim, keepdim_arg(args)) : a.min(dim, keepdim_arg(args));
    return {{values, indices}};
  }
  if (op == "argmax" || op == "argmin") {
    std::optional<int64_t> dim;
    if (args.contains("dim") && !args.at("dim").is_null()) dim = test::json_to_int(args.at("dim"));
    return {{op == "argmax" ? a.argmax(dim, keepdim_arg(args)) : a.argmin(dim, keepdim_arg(args))}};
  }
  if (op == "matmul") return {{a.matmul(in.at(1))}};
  if (op == "views") {
    Tensor t = a;
    for (const auto& v : args.at("ops")) t = test::apply_view_op(t, v);
    return {{t}};
  }
  if (op == "to") return {{a.to(test::parse_dtype(args.at("dtype").get<std::string>()))}};
  if (op == "repr") return Outcome::text_of(repr(a));
  if (!op.empty() && op.back() == '_') return {{run_inplace(op, a, in, args)}};
  throw std::runtime_error("unknown op " + op);
}

// The view-specific metadata PyTorch recorded: strides, offset, contiguity, aliasing.
void check_view_metadata(const json& c, const json& exp, const Tensor& got) {
  const Tensor base = test::tensor_from_json(c.at("inputs").at(0));
  // Re-run on a base we keep, to ask whether the result shares its storage.
  Tensor t = base;
  for (const auto& v : c.at("args").at("ops")) t = test::apply_view_op(t, v);
  EXPECT_EQ(got.strides().vec(), test::int_list(exp.at("strides"))) << "strides";
  EXPECT_EQ(t.strides().vec(), got.strides().vec()) << "strides are not deterministic";
  EXPECT_EQ(got.storage_offset(), test::json_to_int(exp.at("storage_offset"))) << "storage_offset";
  EXPECT_EQ(got.is_contiguous(), exp.at("is_contiguous").get<bool>()) << "is_contiguous";
  const bool aliases = t.numel() > 0 && base.numel() > 0 && t.is_alias_of(base);
  EXPECT_EQ(aliases, exp.at("aliases").get<bool>())
      << "whether the result shares storage with its input (a view) or is a copy";
}

void check_case(const json& c) {
  const auto name = c.at("name").get<std::string>();
  SCOPED_TRACE("reference case " + name + " (tests/data/module01_reference.json)");
  if (c.value("error", false)) {
    EXPECT_THROW(run_case(c), Error) << "PyTorch rejects this case: " << c.value("torch_error", "");
    return;
  }
  Outcome out;
  try {
    out = run_case(c);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw, but PyTorch accepts this case: " << e.what();
    return;
  }
  const json& exp = c.at("expected");
  if (out.text) {
    EXPECT_EQ(*out.text, exp.at("repr").get<std::string>());
    return;
  }
  const double rtol = c.contains("rtol") ? c.at("rtol").get<double>() : -1;
  const double atol = c.contains("atol") ? c.at("atol").get<double>() : -1;
  if (exp.is_array()) {
    ASSERT_EQ(out.tensors.size(), exp.size());
    for (size_t i = 0; i < exp.size(); ++i) {
      EXPECT_TRUE(test::tensors_match(out.tensors[i], exp[i], rtol, atol)) << "output " << i;
    }
    return;
  }
  ASSERT_EQ(out.tensors.size(), 1u);
  EXPECT_TRUE(test::tensors_match(out.tensors[0], exp, rtol, atol));
  if (c.at("op") == "views") check_view_metadata(c, exp, out.tensors[0]);
}

void run_group(const std::string& group) {
  int n = 0;
  for (const auto& c : cases()) {
    if (c.at("group") != group) continue;
    ++n;
    check_case(c);
  }
  EXPECT_GT(n, 0) << "no reference cases in group " << group;
}

TEST(Reference, FileIsCompleteAndKnown) {
  const json& doc = test::load_reference("module01_reference.json");
  EXPECT_EQ(doc.at("generator"), "tools/reference/gen_module01.py");
  const std::set<std::string> known = {"broadcast", "promotion", "unary",  "pow",    "clamp",
                                       "compare",   "where",     "reduce", "matmul", "views",
                                       "convert",   "inplace",   "print"};
  std::map<std::string, int> per_group;
  std::set<std::string> names;
  int errors = 0;
  for (const auto& c : cases()) {
    const auto group = c.at("group").get<std::string>();
    EXPECT_TRUE(known.count(group)) << "unknown group " << group << ": add a TEST for it";
    ++per_group[group];
    EXPECT_TRUE(names.insert(c.at("name").get<std::string>()).second)
        << "duplicate case " << c.at("name");
    errors += c.value("error", false) ? 1 : 0;
  }
  EXPECT_GE(cases().size(), 1500u) << "the reference file looks truncated";
  EXPECT_EQ(per_group.size(), known.size());
  EXPECT_GE(errors, 100) << "error cases are missing";
}

TEST(Reference, NanAndInfinityRoundTrip) {
  // The generator writes non-finite values as strings; they must come back as NaN / ±inf.
  const json t =
      json::parse(R"({"shape": [4], "dtype": "float32", "values": ["nan", "inf", "-inf", 0.1]})");
  const Tensor x = test::tensor_from_json(t);
  const std::vector<double> v = test::values_as_double(x);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], std::numeric_limits<double>::infinity());
  EXPECT_EQ(v[2], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(v[3], static_cast<double>(0.1f));
  // float64 values keep all 17 significant digits.
  const json d = json::parse(R"({"shape": [], "dtype": "float64", "values": [0.1]})");
  EXPECT_EQ(test::values_as_double(test::tensor_from_json(d))[0], 0.1);
  // int64 extremes are exact.
  const json i = json::parse(
      R"({"shape": [2], "dtype": "int64", "values": [-9223372036854775808, 9223372036854775807]})");
  EXPECT_EQ(test::values_as_int(test::tensor_from_json(i)),
            (std::vector<int64_t>{std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max()}));
}

TEST(Reference, ComparisonHelperCanFail) {
  // The helper itself must be able to fail: wrong value, NaN vs number, shape and dtype.
  const Tensor a = full({2}, 1.0);
  EXPECT_TRUE(test::tensors_match(a, full({2}, 1.0)));
  EXPECT_FALSE(test::tensors_match(a, full({2}, 1.001)));
  EXPECT_FALSE(test::tensors_match(a, full({3}, 1.0)));
  EXPECT_FALSE(test::tensors_match(a, full({2}, 1.0, kFloat64)));
  EXPECT_FALSE(test::tensors_match(full({1}, NAN), full({1}, 1.0)));
  EXPECT_TRUE(test::tensors_match(full({1}, NAN), full({1}, NAN)));
  EXPECT_FALSE(test::tensors_match(full({1}, INFINITY), full({1}, -INFINITY)));
  EXPECT_FALSE(test::tensors_match(full({1}, int64_t{1} << 60), full({1}, (int64_t{1} << 60) + 1)));
}

TEST(Reference, Broadcast) {
  run_group("broadcast");
}
TEST(Reference, TypePromotion) {
  run_group("promotion");
}
TEST(Reference, Unary) {
  run_group("unary");
}
TEST(Reference, Pow) {
  run_group("pow");
}
TEST(Reference, Clamp) {
  run_group("clamp");
}
TEST(Reference, MaximumMinimumComparisons) {
  run_group("compare");
}
TEST(Reference, Where) {
  run_group("where");
}
TEST(Reference, Reductions) {
  run_group("reduce");
}
TEST(Reference, Matmul) {
  run_group("matmul");
}
TEST(Reference, Views) {
  run_group("views");
}
TEST(Reference, Conversions) {
  run_group("convert");
}
TEST(Reference, InPlace) {
  run_group("inplace");
}
TEST(Reference, Printing) {
  run_group("print");
}

}  // namespace
}  // namespace tinytorch
