// Module 05 against PyTorch: composite expressions differentiated end to end.
//
// tests/data/module05_reference.json (written by tools/reference/gen_module05.py) holds, for each
// named expression, its float64 inputs, torch's value and torch's gradient for every input that
// requires grad. The same expressions are written below in C++ under the same names, using only
// module-01 ops — so a mismatch points at the engine or at a formula in derivatives.cpp. Every
// case is differentiated twice: with backward() into .grad(), and with autograd::grad(), which
// must give the same numbers and leave .grad() alone.
//
// Before any of that, the pieces a learner writes first are checked on their own, without a
// graph or an engine: sum_to (SumTo.*) and each backward formula of derivatives.h called
// directly with torch's grad_output (Formulas.*).
//
// A failure names the case; find it in the JSON file (one case per line) to see its inputs.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/autograd/derivatives.h"
#include "tinytorch/autograd/engine.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::json;
using Expr = std::function<Tensor(const std::vector<Tensor>&)>;

const json& cases() {
  return test::load_reference("module05_reference.json").at("cases");
}

// The expressions of gen_module05.py, in the same order. `in` holds the case's inputs in the
// order they are listed in the JSON.
const std::map<std::string, Expr>& expressions() {
  static const std::map<std::string, Expr> table = {
      // ── mlp ──────────────────────────────────────────────────────────────────────────────
      {"mlp2_mse",
       [](const std::vector<Tensor>& in) {
         const Tensor &x = in[0], &w1 = in[1], &b1 = in[2], &w2 = in[3], &b2 = in[4];
         const Tensor h = (x.matmul(w1) + b1).clamp_min(0.0);
         const Tensor out = h.matmul(w2) + b2;
         return (out - in[5]).pow(2.0).mean();
       }},
      {"mlp2_linear_layout",
       [](const std::vector<Tensor>& in) {
         const Tensor &x = in[0], &w1 = in[1], &b1 = in[2], &w2 = in[3], &b2 = in[4];
         const Tensor h = (x.matmul(w1.t()) + b1).clamp_min(0.0);
         return (h.matmul(w2.t()) + b2).sum({1});
       }},
      {"mlp_sigmoid_by_hand",
       [](const std::vector<Tensor>& in) {
         const Tensor z = in[0].matmul(in[1]) + in[2];
         const Tensor s = 1.0 / (1.0 + (-z).exp());
         return (s * (1.0 - s)).sum();
       }},
      // ── softmax ──────────────────────────────────────────────────────────────────────────
      {"softmax_stable",
       [](const std::vector<Tensor>& in) {
         const Tensor& z = in[0];
         const Tensor m = std::get<0>(z.max(1, true));
         const Tensor e = (z - m).exp();
         const Tensor p = e / e.sum({1}, true);
         return (p * in[1]).sum();
       }},
      {"softmax_detached_max",
       [](const std::vector<Tensor>& in) {
         const Tensor& z = in[0];
         const Tensor m = std::get<0>(z.max(1, true)).detach();
         const Tensor e = (z - m).exp();
         return e / e.sum({-1}, true);
       }},
      {"log_softmax_nll",
       [](const std::vector<Tensor>& in) {
         const Tensor& z = in[0];
         const Tensor logp = z - z.exp().sum({1}, true).log();
         return -(logp * in[1]).sum() / static_cast<double>(z.size(0));
       }},
      {"softmax_dim0_transposed",
       [](const std::vector<Tensor>& in) {
         const Tensor e = in[0].exp();
         return e / e.sum({0});
       }},
      // ── broadcast ────────────────────────────────────────────────────────────────────────
      {"broadcast_chain",
       [](const std::vector<Tensor>& in) {
         const Tensor &a = in[0], &b = in[1], &c = in[2];
         return (a * b + c) / (b.abs() + 1.5);
       }},
      {"broadcast_scalar_0d",
       [](const std::vector<Tensor>& in) {
         const Tensor &s = in[0], &x = in[1];
         return (x * s - s.pow(2.0)).sum({0});
       }},
      {"broadcast_expand_explicit",
       [](const std::vector<Tensor>& in) {
         const Tensor& r = in[0];
         return r.expand({3, 4}) * in[1] + r.squeeze(0);
       }},
      {"broadcast_batch_bias",
       [](const std::vector<Tensor>& in) { return (in[0] + in[1]).mean({0, 1}); }},
      {"sum_to_keepdim",
       [](const std::vector<Tensor>& in) {
         return (in[0].expand({2, 3, 4}) * in[1]).sum({0, 2}, true);
       }},
      // ── views ────────────────────────────────────────────────────────────────────────────
      {"overlapping_slices",
       [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         return x.slice(0, 0, 3) * x.slice(0, 2, 5) + x.slice(0, 1, 4);
       }},
      {"strided_slices",
       [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         const Tensor a = x.slice(0, 0, 6, 2).slice(1, 1, 5, 2);
         const Tensor b = x.slice(0, 1, 6, 2).slice(1, 0, 4, 2);
         return a * b;
       }},
      {"transpose_permute_reshape",
       [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         const Tensor y = x.permute({2, 0, 1}).reshape({4, 6}).matmul(x.reshape({6, 4}));
         return y.t() * 2.0;
       }},
      {"select_narrow_unsqueeze",
       [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         return x.select(0, 1).unsqueeze(0) * x.narrow(0, 2, 2) + x[3].pow(2.0).sum();
       }},
      {"as_strided_overlap",
       [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         return x.as_strided({3, 3}, {2, 1}, 1) * x.as_strided({3, 3}, {1, 3}, 0);
       }},
      {"flatten_squeeze_view",
       [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         return x.squeeze(1).flatten() * x.view({6}) + x.transpose(0, 2).reshape({-1});
       }},
      {"views_of_transposed_leaf",
       [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         return x.slice(0, 1).slice(1, 0, 3) * 3.0 + x.t()[0];
       }},
      // ── extrema ──────────────────────────────────────────────────────────────────────────
      {"max_all_ties", [](const std::vector<Tensor>& in) { return in[0].max() * 2.0 + in[0].min(); }},
      {"max_dim_ties",
       [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         const Tensor v = std::get<0>(x.max(1));
         return (v * in[1]).sum() + std::get<0>(x.min(0, true)).sum();
       }},
      {"maximum_minimum_ties",
       [](const std::vector<Tensor>& in) {
         return in[0].maximum(in[1]) * 2.0 + in[0].minimum(in[1]) * 3.0;
       }},
      {"maximum_broadcast", [](const std::vector<Tensor>& in) { return in[0].maximum(in[1]); }},
      {"clamp_boundaries",
       [](const std::vector<Tensor>& in) { return in[0].clamp(-0.5, 0.5) * in[0]; }},
      {"abs_at_zero", [](const std::vector<Tensor>& in) { return in[0].abs() + in[0] * 0.5; }},
      // ── var ──────────────────────────────────────────────────────────────────────────────
      {"var_unbiased_dim", [](const std::vector<Tensor>& in) { return in[0].var({1}); }},
      {"var_all_and_biased",
       [](const std::vector<Tensor>& in) {
         return in[0].var() + in[0].var({0}, /*unbiased=*/false, /*keepdim=*/true).sum();
       }},
      {"layernorm_by_hand",
       [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         const Tensor mu = x.mean({-1}, true);
         const Tensor v = x.var({-1}, /*unbiased=*/false, /*keepdim=*/true);
         const Tensor y = (x - mu) / (v + 1e-5).sqrt() * in[1] + in[2];
         return (y * in[3]).sum();
       }},
      // ── matmul ───────────────────────────────────────────────────────────────────────────
      {"matmul_1d_cases",
       [](const std::vector<Tensor>& in) {
         const Tensor &v = in[0], &m = in[1], &u = in[2];
         return v.matmul(m).matmul(u) + m.matmul(u).matmul(v);
       }},
      {"matmul_batched_broadcast",
       [](const std::vector<Tensor>& in) { return in[0].matmul(in[1]); }},
      {"matmul_batch_times_matrix",
       [](const std::vector<Tensor>& in) { return in[0].matmul(in[1]).exp().sum({0, 2}); }},
      {"matmul_vec_batched", [](const std::vector<Tensor>& in) { return in[0].matmul(in[1]); }},
      {"matmul_transposed_operands",
       [](const std::vector<Tensor>& in) { return in[0].t().matmul(in[1].t()); }},
      // ── element-wise ─────────────────────────────────────────────────────────────────────
      {"pow_exp_log_sqrt",
       [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         return x.pow(in[1]) + x.log() * x.sqrt() - (x * 0.5).exp();
       }},
      {"pow_scalar_base",
       [](const std::vector<Tensor>& in) { return pow(2.0, in[0]) + in[0].pow(3.0); }},
      {"pow_zero_base", [](const std::vector<Tensor>& in) { return in[0].pow(in[1]); }},
      {"div_rsub_neg",
       [](const std::vector<Tensor>& in) {
         const Tensor& x = in[0];
         return 1.0 / x + (2.0 - x) * (-x);
       }},
      {"where_select",
       [](const std::vector<Tensor>& in) {
         const Tensor &x = in[0], &y = in[1];
         return where(x > 0.0, x * y, y.pow(2.0));
       }},
      // ── graph shapes ─────────────────────────────────────────────────────────────────────
      {"diamond_reuse",
       [](const std::vector<Tensor>& in) {
         const Tensor y = in[0] * 3.0;
         return (y.exp() + y * y).sum();
       }},
      {"inplace_non_leaf",
       [](const std::vector<Tensor>& in) {
         const Tensor &x = in[0], &b = in[1], &c = in[2];
         Tensor y = x * 2.0;
         y.add_(b);
         y.mul_(c);
         y.div_(c + 1.0);
         y.sub_(x, 0.5);
         return y * y;
       }},
      {"inplace_copy_into_buffer",
       [](const std::vector<Tensor>& in) {
         Tensor buf = zeros({3, 4}, kFloat64);
         buf.copy_(in[0].t());
         return buf * buf.sum({0});
       }},
      {"long_chain",
       [](const std::vector<Tensor>& in) {
         Tensor y = in[0];
         for (int k = 0; k < 50; ++k) y = y * 1.01 + 0.001 * k;
         return y.sum();
       }},
      {"mixed_dtype", [](const std::vector<Tensor>& in) { return (in[0] * in[1]).sum(); }},
  };
  return table;
}

struct Built {
  std::vector<Tensor> inputs;           // every input, in JSON order
  std::vector<std::string> leaf_names;  // the ones that require grad
  std::vector<Tensor> leaves;
};

Built build_inputs(const json& c) {
  Built b;
  for (const json& j : c.at("inputs")) {
    Tensor t = test::tensor_from_json(j);  // views (if any) are applied before requires_grad
    if (j.at("requires_grad").get<bool>()) {
      t.set_requires_grad(true);
      b.leaf_names.push_back(j.at("name").get<std::string>());
      b.leaves.push_back(t);
    }
    b.inputs.push_back(t);
  }
  return b;
}

double tol(const json& c, const char* key, double fallback) {
  return c.contains(key) ? c.at(key).get<double>() : fallback;
}

// ── the pieces on their own ─────────────────────────────────────────────────────────────────

TEST(SumTo, MatchesTorchSumToSize) {
  const json& all = test::load_reference("module05_reference.json").at("sum_to");
  ASSERT_GT(all.size(), 5U);
  for (const json& c : all) {
    SCOPED_TRACE("sum_to case " + c.at("name").get<std::string>());
    const Tensor grad = test::tensor_from_json(c.at("grad"));
    const std::vector<int64_t> shape = test::int_list(c.at("shape"));
    const Tensor got = autograd::sum_to(grad, shape);
    EXPECT_TRUE(test::tensors_match(got, c.at("expected"), 1e-12, 1e-12))
        << "sum_to(grad of shape " << test::shape_str(grad.sizes()) << ", "
        << test::shape_str(shape) << ")";
  }
}

std::optional<Scalar> opt_scalar(const json& args, const char* key) {
  if (!args.contains(key) || args.at(key).is_null()) return std::nullopt;
  return Scalar(args.at(key).get<double>());
}

// Calls the backward formula of `op` (derivatives.h) directly: the gradients of every input, in
// order (undefined where none is wanted). The forward result is recomputed where the formula
// needs it (exp, sqrt, pow, max/min).
autograd::variable_list call_formula(const std::string& op, const Tensor& g,
                                     const std::vector<Tensor>& in, const json& args,
                                     const std::vector<bool>& wants) {
  using autograd::variable_list;
  const autograd::GradMask needs2 = {wants[0], wants.size() > 1 && wants[1]};
  const Tensor& x = in[0];
  auto dims = [&] { return test::int_list(args.at("dims")); };
  if (op == "add") return autograd::add_backward(g, Scalar(args.at("alpha").get<double>()), needs2);
  if (op == "sub") return autograd::sub_backward(g, Scalar(args.at("alpha").get<double>()), needs2);
  if (op == "mul") return autograd::mul_backward(g, x, in[1], needs2);
  if (op == "div") return autograd::div_backward(g, x, in[1], needs2);
  if (op == "pow") return autograd::pow_backward(g, x, in[1], x.pow(in[1]), needs2);
  if (op == "neg") return {autograd::neg_backward(g)};
  if (op == "exp") return {autograd::exp_backward(g, x.exp())};
  if (op == "log") return {autograd::log_backward(g, x)};
  if (op == "sqrt") return {autograd::sqrt_backward(g, x.sqrt())};
  if (op == "abs") return {autograd::abs_backward(g, x)};
  if (op == "clamp") {
    return {autograd::clamp_backward(g, x, opt_scalar(args, "min"), opt_scalar(args, "max"))};
  }
  if (op == "maximum") return autograd::extremum_backward(g, x, in[1], true, needs2);
  if (op == "minimum") return autograd::extremum_backward(g, x, in[1], false, needs2);
  if (op == "where") {
    // inputs: condition, self, other — the condition gets no gradient.
    const variable_list r = autograd::where_backward(g, x, {wants[1], wants[2]});
    return {Tensor(), r[0], r[1]};
  }
  if (op == "sum") {
    return {autograd::sum_backward(g, x.sizes(), dims(), args.at("keepdim").get<bool>())};
  }
  if (op == "mean") {
    return {autograd::mean_backward(g, x.sizes(), dims(), args.at("keepdim").get<bool>())};
  }
  if (op == "var") {
    return {autograd::var_backward(g, x, dims(), args.at("unbiased").get<bool>(),
                                   args.at("keepdim").get<bool>())};
  }
  if (op == "max_all") return {autograd::extremum_all_backward(g, x, x.max())};
  if (op == "min_all") return {autograd::extremum_all_backward(g, x, x.min())};
  if (op == "max_dim" || op == "min_dim") {
    const int64_t dim = args.at("dim").get<int64_t>();
    const bool keepdim = args.at("keepdim").get<bool>();
    const Tensor indices = std::get<1>(op == "max_dim" ? x.max(dim, keepdim) : x.min(dim, keepdim));
    return {autograd::value_selecting_backward(g, dim, indices, x.sizes(), keepdim)};
  }
  if (op == "matmul") return autograd::matmul_backward(g, x, in[1], needs2);
  if (op == "reshape" || op == "squeeze") return {autograd::reshape_backward(g, x.sizes())};
  if (op == "transpose") {
    return {autograd::transpose_backward(g, args.at("dim0").get<int64_t>(),
                                         args.at("dim1").get<int64_t>())};
  }
  if (op == "permute") return {autograd::permute_backward(g, test::int_list(args.at("dims")))};
  if (op == "unsqueeze") return {autograd::unsqueeze_backward(g, args.at("dim").get<int64_t>())};
  if (op == "expand") return {autograd::expand_backward(g, x.sizes())};
  if (op == "select") {
    return {autograd::select_backward(g, x.sizes(), args.at("dim").get<int64_t>(),
                                      args.at("index").get<int64_t>())};
  }
  if (op == "slice") {
    return {autograd::slice_backward(g, x.sizes(), args.at("dim").get<int64_t>(),
                                     args.at("start").get<int64_t>(), args.at("end").get<int64_t>(),
                                     args.at("step").get<int64_t>())};
  }
  if (op == "as_strided") {
    const Tensor out =
        x.as_strided(test::int_list(args.at("sizes")), test::int_list(args.at("strides")),
                     args.at("offset").get<int64_t>());
    return {autograd::as_strided_backward(g, x.sizes(), x.strides(), x.storage_offset(),
                                          out.sizes(), out.strides(), out.storage_offset())};
  }
  throw std::runtime_error("no formula call for op '" + op + "'");
}

TEST(Formulas, MatchTorchWithoutTheEngine) {
  const json& all = test::load_reference("module05_reference.json").at("formulas");
  ASSERT_GT(all.size(), 30U);
  NoGradGuard no_grad;  // as in the engine: formulas run with grad mode off
  for (const json& c : all) {
    const auto name = c.at("name").get<std::string>();
    SCOPED_TRACE("formula case " + name);
    std::vector<Tensor> in;
    std::vector<bool> wants;
    for (const json& j : c.at("inputs")) {
      in.push_back(test::tensor_from_json(j));
      wants.push_back(j.at("requires_grad").get<bool>());
    }
    const Tensor g = test::tensor_from_json(c.at("grad_output"));
    autograd::variable_list got;
    try {
      got = call_formula(c.at("op").get<std::string>(), g, in, c.at("args"), wants);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the formula threw: " << e.what();
      continue;
    }
    const json& want = c.at("grads");
    ASSERT_LE(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      if (want[i].is_null()) {
        EXPECT_TRUE(i >= got.size() || !got[i].defined())
            << "input " << i << " needs no gradient: the formula should skip it";
        continue;
      }
      ASSERT_LT(i, got.size()) << "no gradient returned for input " << i;
      EXPECT_TRUE(test::tensors_match(got[i], want[i], 1e-10, 1e-12))
          << "(the gradient of input " << i << ")";
    }
  }
}

TEST(Reference, DataFileIsPresentAndCoversEveryExpression) {
  const json& all = cases();
  ASSERT_GT(all.size(), 30U);
  std::set<std::string> in_json;
  for (const json& c : all) {
    const auto name = c.at("name").get<std::string>();
    in_json.insert(name);
    EXPECT_TRUE(expressions().count(name) == 1)
        << "case '" << name << "' of module05_reference.json has no C++ expression here";
  }
  for (const auto& [name, fn] : expressions()) {
    EXPECT_TRUE(in_json.count(name) == 1)
        << "expression '" << name << "' is not in module05_reference.json (rerun "
        << "tools/reference/gen_module05.py)";
  }
}

// NOTE: the cases named inplace_* write into a non-leaf tensor (add_, copy_ into a buffer), which
// needs Part 7's in-place rules; Parts 5 and 6 check every other case, Part 7 these
// (Reference.InPlaceCasesMatchTorch). A case is checked by each of the three functions below.
bool writes_in_place(const std::string& name) {
  return name.rfind("inplace_", 0) == 0;
}

// Runs check(case, expression) on every case whose in-place-ness is `in_place`.
template <typename Check>
void for_each_case(bool in_place, const Check& check) {
  int checked = 0;
  for (const json& c : cases()) {
    const auto name = c.at("name").get<std::string>();
    if (writes_in_place(name) != in_place) continue;
    SCOPED_TRACE("case " + name + ": " + c.at("note").get<std::string>());
    const auto it = expressions().find(name);
    if (it == expressions().end()) continue;  // reported by the coverage test
    check(c, it->second);
    ++checked;
  }
  EXPECT_GT(checked, 0) << "no case with in_place = " << in_place;
}

// backward() into .grad(): the value and every leaf's gradient must be torch's.
void check_backward(const json& c, const Expr& expression) {
  const double rtol = tol(c, "rtol", 1e-10), atol = tol(c, "atol", 1e-12);
  Built b = build_inputs(c);
  const Tensor out = expression(b.inputs);
  EXPECT_TRUE(test::tensors_match(out.detach(), c.at("expected"), rtol, atol)) << "(the value)";
  ASSERT_TRUE(out.requires_grad()) << "the expression recorded no graph";
  if (c.contains("grad_output")) {
    out.backward(test::tensor_from_json(c.at("grad_output")));
  } else {
    out.backward();
  }
  for (size_t i = 0; i < b.leaves.size(); ++i) {
    const json& want = c.at("grads").at(b.leaf_names[i]);
    // float32 leaves (mixed_dtype) get float32 gradients: compare at float32 precision.
    const bool f32 = b.leaves[i].dtype() == kFloat32;
    EXPECT_TRUE(test::tensors_match(b.leaves[i].grad(), want, f32 ? 1e-6 : rtol, f32 ? 1e-6 : atol))
        << "(the gradient of '" << b.leaf_names[i] << "')";
  }
}

// autograd::grad(): the same gradients, returned instead of accumulated.
void check_autograd_grad(const json& c, const Expr& expression) {
  const double rtol = tol(c, "rtol", 1e-10), atol = tol(c, "atol", 1e-12);
  Built b = build_inputs(c);
  const Tensor out = expression(b.inputs);
  autograd::variable_list seeds;
  if (c.contains("grad_output")) seeds.push_back(test::tensor_from_json(c.at("grad_output")));
  const autograd::variable_list grads = autograd::grad({out}, b.leaves, seeds);
  ASSERT_EQ(grads.size(), b.leaves.size());
  for (size_t i = 0; i < b.leaves.size(); ++i) {
    const bool f32 = b.leaves[i].dtype() == kFloat32;
    EXPECT_TRUE(test::tensors_match(grads[i], c.at("grads").at(b.leaf_names[i]), f32 ? 1e-6 : rtol,
                                    f32 ? 1e-6 : atol))
        << "(the gradient of '" << b.leaf_names[i] << "')";
    EXPECT_FALSE(b.leaves[i].grad().defined())
        << "autograd::grad must not accumulate into .grad() of '" << b.leaf_names[i] << "'";
  }
}

// Twice through one graph with retain_graph: every gradient doubles (accumulation), exactly.
void check_retain_graph(const json& c, const Expr& expression) {
  Built b = build_inputs(c);
  const Tensor out = expression(b.inputs);
  const Tensor seed =
      c.contains("grad_output") ? test::tensor_from_json(c.at("grad_output")) : Tensor();
  out.backward(seed, /*retain_graph=*/true);
  std::vector<Tensor> first;
  for (const Tensor& l : b.leaves) first.push_back(l.grad().clone());
  out.backward(seed);
  for (size_t i = 0; i < b.leaves.size(); ++i) {
    EXPECT_TRUE(test::tensors_match(b.leaves[i].grad(), first[i] * 2.0, 1e-12, 1e-12))
        << "(the gradient of '" << b.leaf_names[i] << "')";
  }
}

TEST(Reference, BackwardMatchesTorch) {
  for_each_case(/*in_place=*/false, check_backward);
}

TEST(Reference, AutogradGradMatchesTorch) {
  for_each_case(/*in_place=*/false, check_autograd_grad);
}

TEST(Reference, RetainGraphTwiceDoublesEveryGradient) {
  for_each_case(/*in_place=*/false, check_retain_graph);
}

// Part 7: the same three checks on the cases that write in place.
TEST(Reference, InPlaceCasesMatchTorch) {
  for_each_case(/*in_place=*/true, check_backward);
  for_each_case(/*in_place=*/true, check_autograd_grad);
  for_each_case(/*in_place=*/true, check_retain_graph);
}

}  // namespace
}  // namespace tinytorch
