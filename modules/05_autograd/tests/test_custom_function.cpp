// Custom autograd Functions (autograd/custom_function.h): ops whose forward and backward are
// written by the user, recorded and run by the same graph and engine as the built-in ones.
//
// The Functions of tools/reference/gen_custom_function.py are written here again under the same
// case names and checked against PyTorch's outputs and gradients
// (tests/data/custom_function_reference.json); the others check one rule each: non-tensor
// arguments, saved_data, mark_dirty, mark_non_differentiable, materialized gradients, the number
// of gradients backward returns, saved tensors modified in place, gradcheck.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd_test_helpers.h"
#include "support/reference.h"
#include "tinytorch/autograd/autograd_meta.h"
#include "tinytorch/autograd/custom_function.h"
#include "tinytorch/autograd/gradcheck.h"

namespace tt = tinytorch;
using tt::Tensor;
using tt::autograd::AutogradContext;
using tt::autograd::variable_list;

// Outside the anonymous namespace, so that its node's name is known exactly.
namespace custom_fn_test {

// y = exp(x), saving its OUTPUT (as ExpBackward0 does).
struct Exp : public tt::autograd::Function<Exp> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x) {
    Tensor y = x.exp();
    ctx->save_for_backward({y});
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const Tensor y = ctx->get_saved_variables()[0];
    return {grad_outputs[0] * y};
  }
};

}  // namespace custom_fn_test

namespace {

using tinytorch::autograd_tests::leaf;

using custom_fn_test::Exp;

// ── the Functions of gen_custom_function.py ───────────────────────────────────────────────────

// out = x · weightᵀ + bias; each gradient only when its input needs one.
struct LinearFunction : public tt::autograd::Function<LinearFunction> {
  static Tensor forward(AutogradContext* ctx, Tensor x, Tensor weight, Tensor bias) {
    ctx->save_for_backward({x, weight});
    return x.matmul(weight.t()) + bias;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const Tensor &x = saved[0], &weight = saved[1], &g = grad_outputs[0];  // g: [N, out]
    return {ctx->needs_input_grad(0) ? g.matmul(weight) : Tensor(),
            ctx->needs_input_grad(1) ? g.t().matmul(x) : Tensor(),
            ctx->needs_input_grad(2) ? g.sum({0}) : Tensor()};
  }
};

// x *= k, in place (mark_dirty).
struct MulInplace : public tt::autograd::Function<MulInplace> {
  static Tensor forward(AutogradContext* ctx, Tensor x, double k) {
    ctx->saved_data["k"] = k;
    x.mul_(k);
    ctx->mark_dirty({x});
    return x;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    return {grad_outputs[0] * ctx->saved_data["k"].toDouble(), Tensor()};
  }
};

// (exp(x), x > 0 as float): the mask is not differentiable.
struct ExpAndMask : public tt::autograd::Function<ExpAndMask> {
  static variable_list forward(AutogradContext* ctx, Tensor x) {
    Tensor e = x.exp();
    Tensor mask = x.gt(0.0).to(x.dtype());
    ctx->mark_non_differentiable({mask});
    ctx->save_for_backward({e});
    return {e, mask};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    // Materialized: the mask's gradient is a tensor of zeros, not an undefined one.
    EXPECT_TRUE(grad_outputs[1].defined());
    EXPECT_EQ(grad_outputs[1].abs().sum().item<double>(), 0.0);
    return {grad_outputs[0] * ctx->get_saved_variables()[0]};
  }
};

// (x as it is, x·k).
struct ReturnInput : public tt::autograd::Function<ReturnInput> {
  static variable_list forward(AutogradContext* ctx, Tensor x, double k) {
    ctx->saved_data["k"] = k;
    return {x, x * k};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    return {grad_outputs[0] + grad_outputs[1] * ctx->saved_data["k"].toDouble(), Tensor()};
  }
};

// The case's outputs, computed from its inputs (in the JSON's order).
const std::map<std::string, std::function<variable_list(const variable_list&)>>&
custom_expressions() {
  static const std::map<std::string, std::function<variable_list(const variable_list&)>> table = {
      {"linear",
       [](const variable_list& in) {
         return variable_list{LinearFunction::apply(in[0], in[1], in[2])};
       }},
      {"mul_inplace_view",
       [](const variable_list& in) {
         Tensor b = in[0] * 2.0;
         MulInplace::apply(b.narrow(0, 1, 2), 3.0);  // rows 1..2 of b, through a view
         EXPECT_EQ(b.grad_fn()->name(), "CopySlices");
         return variable_list{b};
       }},
      {"exp_and_mask", [](const variable_list& in) { return ExpAndMask::apply(in[0]); }},
      {"return_input", [](const variable_list& in) { return ReturnInput::apply(in[0], 3.0); }},
  };
  return table;
}

TEST(CustomFunctionReference, OutputsAndGradientsMatchPyTorch) {
  const tt::test::json& cases =
      tt::test::load_reference("custom_function_reference.json").at("cases");
  ASSERT_EQ(cases.size(), custom_expressions().size());
  for (const tt::test::json& c : cases) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    ASSERT_TRUE(custom_expressions().count(name)) << "no C++ twin for the case";
    variable_list inputs, leaves;
    for (const tt::test::json& in : c.at("inputs")) {
      Tensor t = tt::test::tensor_from_json(in);
      if (in.at("requires_grad").get<bool>()) leaves.push_back(t.set_requires_grad(true));
      inputs.push_back(t);
    }
    const variable_list outs = custom_expressions().at(name)(inputs);
    ASSERT_EQ(outs.size(), c.at("outputs").size());
    variable_list roots, seeds;
    for (size_t k = 0; k < outs.size(); ++k) {
      TT_EXPECT_TENSOR_EQ(outs[k].detach(), c.at("outputs")[k]);
      const tt::test::json& seed = c.at("grad_outputs")[k];
      EXPECT_EQ(outs[k].requires_grad(), !seed.is_null()) << "output " << k;
      if (seed.is_null()) continue;
      roots.push_back(outs[k]);
      seeds.push_back(tt::test::tensor_from_json(seed));
    }
    const variable_list grads = tt::autograd::grad(roots, leaves, seeds);
    size_t g = 0;
    for (const tt::test::json& in : c.at("inputs")) {
      if (!in.at("requires_grad").get<bool>()) continue;
      TT_EXPECT_TENSOR_EQ(grads[g++], c.at("grads").at(in.at("name").get<std::string>()));
    }
  }
}

// ── gradcheck ─────────────────────────────────────────────────────────────────────────────────

TEST(CustomFunction, GradcheckExpAndLinear) {
  const Tensor x = leaf({3, 4}, 1);
  EXPECT_TRUE(
      tt::autograd::gradcheck([](const variable_list& in) { return Exp::apply(in[0]); }, {x}).ok);
  const Tensor w = leaf({2, 4}, 2), b = leaf({2}, 3);
  const tt::autograd::GradcheckResult r = tt::autograd::gradcheck(
      [](const variable_list& in) { return LinearFunction::apply(in[0], in[1], in[2]); },
      {x, w, b});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(CustomFunction, GradcheckMultipleOutputsAndInPlace) {
  const Tensor x = leaf({2, 3}, 4);
  tt::autograd::GradcheckResult r = tt::autograd::gradcheck(
      [](const variable_list& in) {
        const variable_list o = ReturnInput::apply(in[0].exp(), 3.0);
        return o[0].mul(o[1]);  // both outputs used, multiplied together
      },
      {x});
  EXPECT_TRUE(r.ok) << r.message;
  r = tt::autograd::gradcheck(
      [](const variable_list& in) {
        Tensor b = in[0].mul(in[0]);
        return MulInplace::apply(b, -2.5).tanh();
      },
      {x});
  EXPECT_TRUE(r.ok) << r.message;
}

// With create_graph the engine runs backward with grad mode on: a backward written in ops is
// recorded, through saved inputs (kept with their history) and saved outputs (given back their
// node), so the gradient can be differentiated again.
TEST(CustomFunction, GradgradcheckThroughSavedInputsAndOutputs) {
  const Tensor x = leaf({2, 3}, 23);
  tt::autograd::GradcheckResult r =
      tt::autograd::gradgradcheck([](const variable_list& in) { return Exp::apply(in[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
  const Tensor w = leaf({4, 3}, 24), b = leaf({4}, 25);
  r = tt::autograd::gradgradcheck(
      [](const variable_list& in) { return LinearFunction::apply(in[0], in[1], in[2]).tanh(); },
      {x, w, b});
  EXPECT_TRUE(r.ok) << r.message;
  // d²/dx² exp(x) = exp(x): the second pass goes through the saved output's node again.
  const Tensor gx = tt::autograd::grad({Exp::apply(x).sum()}, {x}, {}, true, true)[0];
  TT_EXPECT_TENSOR_EQ(tt::autograd::grad({gx.sum()}, {x})[0], x.detach().exp());
}

// ── the graph ─────────────────────────────────────────────────────────────────────────────────

TEST(CustomFunction, OutputGetsTheNodeNamedAfterTheType) {
  const Tensor x = leaf({3}, 5);
  const Tensor y = Exp::apply(x);
  ASSERT_NE(y.grad_fn(), nullptr);
  // libtorch's Node::name(): the node's demangled C++ type.
  EXPECT_EQ(y.grad_fn()->name(), "tinytorch::autograd::CppNode<custom_fn_test::Exp>");
  EXPECT_EQ(y.grad_fn()->num_inputs(), 1U);
  EXPECT_EQ(y.grad_fn()->next_edge(0).function, tt::autograd::gradient_edge(x).function);
  y.sum().backward();
  TT_EXPECT_TENSOR_EQ(x.grad(), x.detach().exp());
}

// Exp saves its output, whose grad_fn is Exp's node: kept with that history, the node would own
// itself and never be freed.
TEST(CustomFunction, SavingAnOutputMakesNoCycle) {
  const Tensor x = leaf({3}, 26);
  std::weak_ptr<tt::autograd::Node> node;
  {
    const Tensor y = Exp::apply(x);
    node = y.grad_fn();
    EXPECT_FALSE(node.expired());
  }
  EXPECT_TRUE(node.expired());
}

struct RecordGradMode : public tt::autograd::Function<RecordGradMode> {
  static inline bool forward_grad_mode = true;
  static Tensor forward(AutogradContext*, const Tensor& x) {
    forward_grad_mode = tt::GradMode::is_enabled();
    return x * 2.0;
  }
  static variable_list backward(AutogradContext*, variable_list g) { return {g[0] * 2.0}; }
};

TEST(CustomFunction, ForwardRunsWithGradModeOffAndNoGraphWithoutGrad) {
  const Tensor x = leaf({3}, 6);
  const Tensor y = RecordGradMode::apply(x);
  EXPECT_FALSE(RecordGradMode::forward_grad_mode);
  EXPECT_TRUE(tt::GradMode::is_enabled());  // restored
  EXPECT_NE(y.grad_fn(), nullptr);
  {
    tt::NoGradGuard no_grad;
    EXPECT_EQ(RecordGradMode::apply(x).grad_fn(), nullptr);
  }
  EXPECT_EQ(RecordGradMode::apply(x.detach()).grad_fn(), nullptr);  // nothing requires grad
  EXPECT_FALSE(RecordGradMode::apply(x.detach()).requires_grad());
}

// libtorch: an input returned as it is (not marked dirty) comes back as a new tensor over the
// same data, whose history is the node; the input keeps its own (here: stays a leaf).
TEST(CustomFunction, InputReturnedAsItIsIsANewTensor) {
  const Tensor x = leaf({3}, 20);
  const variable_list out = ReturnInput::apply(x, 3.0);
  EXPECT_FALSE(out[0].is_same(x));
  EXPECT_TRUE(out[0].is_alias_of(x));
  EXPECT_TRUE(x.is_leaf());
  EXPECT_EQ(out[0].grad_fn(), out[1].grad_fn());
  out[0].sum().backward();
  TT_EXPECT_TENSOR_EQ(x.grad(), tt::ones({3}, tt::kFloat64));
  // Any layout (a transposed view of a non-leaf) and a 0-d tensor are returned the same way.
  const Tensor m = leaf({2, 3}, 21);
  const Tensor mt = (m * 1.0).t();
  const variable_list out_t = ReturnInput::apply(mt, 2.0);
  EXPECT_TRUE(out_t[0].is_alias_of(mt));
  EXPECT_EQ(out_t[0].strides(), mt.strides());
  out_t[0].sum().backward();
  TT_EXPECT_TENSOR_EQ(m.grad(), tt::ones({2, 3}, tt::kFloat64));
  const Tensor s = leaf({}, 22);
  ReturnInput::apply(s, 2.0)[1].backward();
  EXPECT_EQ(s.grad().item<double>(), 2.0);
}

// ── non-tensor arguments and saved_data ───────────────────────────────────────────────────────

struct ManyArguments : public tt::autograd::Function<ManyArguments> {
  static Tensor forward(AutogradContext* ctx, Tensor x, double k, int64_t n, bool flag,
                        std::string tag, std::vector<int64_t> dims, Tensor w) {
    ctx->saved_data["k"] = k;
    ctx->saved_data["n"] = n;
    ctx->saved_data["flag"] = flag;
    ctx->saved_data["tag"] = tag;
    ctx->saved_data["dims"] = dims;
    ctx->saved_data["shape"] = x.sizes();
    ctx->saved_data["w"] = w;
    return x * k + w;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto& d = ctx->saved_data;
    EXPECT_EQ(d["n"].toInt(), 7);
    EXPECT_TRUE(d["flag"].toBool());
    EXPECT_EQ(d["tag"].toStringRef(), "scale");
    EXPECT_EQ(d["dims"].toIntVector(), (std::vector<int64_t>{1, -1}));
    EXPECT_EQ(d["shape"].toIntVector(), (std::vector<int64_t>{2, 3}));
    EXPECT_TRUE(d["w"].toTensor().defined());
    // Seven forward arguments: seven entries, undefined for the five that are not tensors.
    return {grad_outputs[0] * d["k"].toDouble(),
            Tensor(),
            Tensor(),
            Tensor(),
            Tensor(),
            Tensor(),
            grad_outputs[0]};
  }
};

TEST(CustomFunction, NonTensorArgumentsAndSavedDataRoundTrip) {
  const Tensor x = leaf({2, 3}, 7), w = leaf({2, 3}, 8);
  const Tensor y = ManyArguments::apply(x, 2.5, int64_t{7}, true, std::string("scale"),
                                        std::vector<int64_t>{1, -1}, w);
  ASSERT_EQ(y.grad_fn()->num_inputs(), 2U);  // one edge per tensor argument
  y.sum().backward();
  TT_EXPECT_TENSOR_EQ(x.grad(), tt::full({2, 3}, 2.5, tt::kFloat64));
  TT_EXPECT_TENSOR_EQ(w.grad(), tt::ones({2, 3}, tt::kFloat64));
}

struct OptionalBias : public tt::autograd::Function<OptionalBias> {
  static Tensor forward(AutogradContext* ctx, Tensor x, std::optional<Tensor> bias) {
    ctx->saved_data["has_bias"] = bias.has_value();
    return bias ? x + *bias : x * 1.0;
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    return {g[0], ctx->saved_data["has_bias"].toBool() ? g[0] : Tensor()};
  }
};

TEST(CustomFunction, OptionalTensorIsAnInputOnlyWhenItHoldsOne) {
  const Tensor x = leaf({3}, 9), b = leaf({3}, 10);
  Tensor y = OptionalBias::apply(x, std::optional<Tensor>(b));
  EXPECT_EQ(y.grad_fn()->num_inputs(), 2U);
  y.sum().backward();
  TT_EXPECT_TENSOR_EQ(b.grad(), tt::ones({3}, tt::kFloat64));
  y = OptionalBias::apply(x, std::optional<Tensor>());
  EXPECT_EQ(y.grad_fn()->num_inputs(), 1U);
  y.sum().backward();
  TT_EXPECT_TENSOR_EQ(x.grad(), tt::full({3}, 2.0, tt::kFloat64));
}

TEST(IValue, KindsAccessorsAndErrors) {
  tt::IValue none;
  EXPECT_TRUE(none.isNone());
  EXPECT_EQ(none.tagKind(), "None");
  const tt::IValue d = 2.5, i = int64_t{3}, i32 = 4, b = false, s = "tag",
                   v = std::vector<int64_t>{2, 3};
  EXPECT_TRUE(d.isDouble() && i.isInt() && i32.isInt() && b.isBool() && s.isString() &&
              v.isIntList());
  EXPECT_EQ(d.toDouble(), 2.5);
  EXPECT_EQ(i32.toInt(), 4);
  EXPECT_FALSE(b.toBool());
  EXPECT_EQ(s.toStringRef(), "tag");
  char name[] = "mutable";
  EXPECT_EQ(tt::IValue(name).toStringRef(), "mutable");  // a char* is a string, not a bool
  EXPECT_EQ(v.toIntVector(), (std::vector<int64_t>{2, 3}));
  const Tensor t = tt::ones({2});
  EXPECT_TRUE(tt::IValue(t).toTensor().is_same(t));  // holds the tensor itself, not a copy
  // No conversions: an Int is not a Double.
  TT_EXPECT_THROW_WITH(i.toDouble(), tt::TypeError, "Expected Double but got Int");
  TT_EXPECT_THROW_WITH(d.toInt(), tt::TypeError, "Expected Int but got Double");
  TT_EXPECT_THROW_WITH(none.toTensor(), tt::TypeError, "Expected Tensor but got None");
  TT_EXPECT_THROW_WITH(s.toBool(), tt::TypeError, "Expected Bool but got String");
  TT_EXPECT_THROW_WITH(b.toStringRef(), tt::TypeError, "Expected String but got Bool");
  TT_EXPECT_THROW_WITH(i.toIntVector(), tt::TypeError, "Expected IntList but got Int");
}

// ── how many gradients backward returns ───────────────────────────────────────────────────────

struct GradientCount : public tt::autograd::Function<GradientCount> {
  static inline variable_list (*make)(const Tensor& g) = nullptr;
  static Tensor forward(AutogradContext*, Tensor x, double k) { return x * k; }
  static variable_list backward(AutogradContext*, variable_list g) { return make(g[0]); }
};

TEST(CustomFunction, WrongNumberOfGradientsIsAnError) {
  Tensor x = leaf({3}, 11);
  const auto run = [&](variable_list (*make)(const Tensor&)) {
    GradientCount::make = make;
    GradientCount::apply(x, 2.0).sum().backward();
  };
  TT_EXPECT_THROW_WITH(run([](const Tensor& g) { return variable_list{g}; }), tt::Error,
                       "function tinytorch::autograd::CppNode<",
                       "GradientCount> returned an incorrect number of gradients (expected 2, "
                       "got 1)");
  TT_EXPECT_THROW_WITH(run([](const Tensor& g) {
                         return variable_list{g, Tensor(), g};
                       }),
                       tt::Error, "returned an incorrect number of gradients (expected 2, got 3)");
  // A gradient for the double: refused.
  TT_EXPECT_THROW_WITH(run([](const Tensor& g) {
                         return variable_list{g, g};
                       }),
                       tt::Error, "returned a gradient that is defined at position 2",
                       "was not a Variable");
  // Extra entries are accepted when they are undefined.
  x.mutable_grad() = Tensor();
  run([](const Tensor& g) { return variable_list{g * 2.0, Tensor(), Tensor()}; });
  TT_EXPECT_TENSOR_EQ(x.grad(), tt::full({3}, 2.0, tt::kFloat64));
}

TEST(CustomFunction, GradientsAreValidatedByTheEngine) {
  Tensor x = leaf({3}, 12);
  const auto run = [&](variable_list (*make)(const Tensor&)) {
    GradientCount::make = make;
    GradientCount::apply(x, 2.0).sum().backward();
  };
  TT_EXPECT_THROW_WITH(run([](const Tensor& g) {
                         return variable_list{tt::ones({5}, g.dtype()), Tensor()};
                       }),
                       tt::Error, "returned an invalid gradient at index 0", "[5]", "[3]");
  // A float32 gradient for a float64 input is cast, as for a built-in node.
  x.mutable_grad() = Tensor();
  run([](const Tensor& g) { return variable_list{g.to(tt::kFloat32), Tensor()}; });
  EXPECT_EQ(x.grad().dtype(), tt::kFloat64);
}

// ── saved tensors ─────────────────────────────────────────────────────────────────────────────

struct Square : public tt::autograd::Function<Square> {
  static Tensor forward(AutogradContext* ctx, Tensor x) {
    ctx->save_for_backward({x});
    return x * x;
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    return {g[0] * 2.0 * ctx->get_saved_variables()[0]};
  }
};

TEST(CustomFunction, SavedTensorModifiedInPlaceIsAnError) {
  const Tensor x = leaf({3}, 13);
  Tensor a = x * 1.0;
  const Tensor y = Square::apply(a);
  a.add_(1.0);
  TT_EXPECT_THROW_WITH(y.sum().backward(), tt::Error, "modified by an inplace operation",
                       "CppNode<", "Square>", "is at version 1; expected version 0");
}

TEST(CustomFunction, SavedTensorsAreFreedAfterBackward) {
  const Tensor x = leaf({3}, 14);
  const Tensor y = Square::apply(x).sum();
  y.backward({}, /*retain_graph=*/true);
  y.backward();  // retained: a second pass works, and frees them
  TT_EXPECT_TENSOR_EQ(x.grad(), x.detach() * 4.0);
  TT_EXPECT_THROW_WITH(y.backward(), tt::Error, "backward through the graph a second time",
                       "retain_graph=true");
}

// ── mark_dirty ────────────────────────────────────────────────────────────────────────────────

TEST(CustomFunction, MarkDirtyGivesTheInputItsNewHistory) {
  const Tensor x = leaf({2, 3}, 15);
  Tensor a = x * 1.0;
  const std::shared_ptr<tt::autograd::Node> old_fn = a.grad_fn();
  const Tensor out = MulInplace::apply(a, 3.0);
  EXPECT_TRUE(out.is_same(a));  // the same tensor, now with the node as history
  EXPECT_NE(a.grad_fn(), old_fn);
  EXPECT_EQ(a.grad_fn()->next_edge(0).function, old_fn);
  EXPECT_GE(a._version(), 1U);
  TT_EXPECT_TENSOR_EQ(a.detach(), x.detach() * 3.0);
  out.sum().backward();
  TT_EXPECT_TENSOR_EQ(x.grad(), tt::full({2, 3}, 3.0, tt::kFloat64));
}

TEST(CustomFunction, MarkDirtyErrors) {
  const Tensor x = leaf({3}, 16);
  // A leaf that requires grad may not be modified in place (with grad mode on).
  TT_EXPECT_THROW_WITH(MulInplace::apply(x, 2.0), tt::Error,
                       "a leaf Variable that requires grad is being used in an in-place "
                       "operation");
  // ... but may with grad mode off, where nothing is recorded (an optimizer's update).
  {
    tt::NoGradGuard no_grad;
    Tensor p = x.detach().clone().set_requires_grad(true);
    EXPECT_NO_THROW(MulInplace::apply(p, 2.0));
  }
  // Every dirty tensor must be returned.
  struct DirtyNotReturned : public tt::autograd::Function<DirtyNotReturned> {
    static Tensor forward(AutogradContext* ctx, Tensor a) {
      a.mul_(2.0);
      ctx->mark_dirty({a});
      return a * 1.0;
    }
    static variable_list backward(AutogradContext*, variable_list g) { return g; }
  };
  TT_EXPECT_THROW_WITH(DirtyNotReturned::apply(x * 1.0), tt::Error,
                       "Some elements marked as dirty during the forward method were not "
                       "returned as output");
  // A view written in place (its base gets CopySlices) in a Function with two outputs.
  struct DirtyViewTwoOutputs : public tt::autograd::Function<DirtyViewTwoOutputs> {
    static variable_list forward(AutogradContext* ctx, Tensor a) {
      a.mul_(2.0);
      ctx->mark_dirty({a});
      return {a, a * 1.0};
    }
    static variable_list backward(AutogradContext*, variable_list g) { return {g[0] * 2.0}; }
  };
  const Tensor base = x * 1.0;
  TT_EXPECT_THROW_WITH(DirtyViewTwoOutputs::apply(base.narrow(0, 0, 2)), tt::Error,
                       "modifies inplace an input that is a view", "cannot return more than one");
  // A view written in place that is not the first tensor argument (CopySlices reads the node's
  // first gradient as the view's).
  struct DirtyViewSecond : public tt::autograd::Function<DirtyViewSecond> {
    static Tensor forward(AutogradContext* ctx, Tensor scale, Tensor a) {
      a.mul_(scale);
      ctx->mark_dirty({a});
      return a;
    }
    static variable_list backward(AutogradContext*, variable_list g) { return {Tensor(), g[0]}; }
  };
  TT_EXPECT_THROW_WITH(DirtyViewSecond::apply(tt::ones({2}, tt::kFloat64), base.narrow(0, 1, 2)),
                       tt::Error, "must be the first tensor argument");
}

// ── mark_non_differentiable and materialized gradients ───────────────────────────────────────

TEST(CustomFunction, NonDifferentiableOutputsDoNotRequireGrad) {
  const Tensor x = leaf({2, 3}, 17);
  const variable_list out = ExpAndMask::apply(x);
  EXPECT_TRUE(out[0].requires_grad());
  EXPECT_FALSE(out[1].requires_grad());
  EXPECT_EQ(out[1].grad_fn(), nullptr);
  // The mask used in the loss is a constant: d/dx (exp(x) · mask) = exp(x) · mask.
  (out[0] * out[1]).sum().backward();
  TT_EXPECT_TENSOR_EQ(x.grad(), x.detach().exp() * x.detach().gt(0.0).to(tt::kFloat64));
}

// Two outputs (2x, 3x); the loss uses only the first.
struct TwoOutputs : public tt::autograd::Function<TwoOutputs> {
  static inline bool materialize = true;
  static inline bool second_was_defined = false;
  static variable_list forward(AutogradContext* ctx, Tensor x) {
    ctx->set_materialize_grads(materialize);
    return {x * 2.0, x * 3.0};
  }
  static variable_list backward(AutogradContext*, variable_list g) {
    second_was_defined = g[1].defined();
    if (g[1].defined()) {
      EXPECT_EQ(g[1].abs().sum().item<double>(), 0.0);
    }
    return {g[1].defined() ? g[0] * 2.0 + g[1] * 3.0 : g[0] * 2.0};
  }
};

TEST(CustomFunction, MaterializeGradsOnAndOff) {
  for (const bool materialize : {true, false}) {
    SCOPED_TRACE(materialize);
    const Tensor x = leaf({4}, 18);
    TwoOutputs::materialize = materialize;
    TwoOutputs::apply(x)[0].sum().backward();
    EXPECT_EQ(TwoOutputs::second_was_defined, materialize);
    TT_EXPECT_TENSOR_EQ(x.grad(), tt::full({4}, 2.0, tt::kFloat64));
  }
}

// ── needs_input_grad ──────────────────────────────────────────────────────────────────────────

struct NeedsInputGrad : public tt::autograd::Function<NeedsInputGrad> {
  static inline std::vector<bool> seen;
  static Tensor forward(AutogradContext*, Tensor a, double, Tensor b) { return a * b; }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    seen = {ctx->needs_input_grad(0), ctx->needs_input_grad(1)};
    TT_EXPECT_THROW_WITH(ctx->needs_input_grad(2), tt::IndexError, "index 2 is out of range",
                         "2 tensor input(s)");
    return {Tensor(), Tensor(), g[0]};
  }
};

TEST(CustomFunction, NeedsInputGradCountsTensorInputs) {
  const Tensor a = tt::ones({2}, tt::kFloat64), b = leaf({2}, 19);
  NeedsInputGrad::apply(a, 1.0, b).sum().backward();
  EXPECT_EQ(NeedsInputGrad::seen, (std::vector<bool>{false, true}));
  TT_EXPECT_TENSOR_EQ(b.grad(), a);
}

}  // namespace
