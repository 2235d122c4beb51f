// Higher-order gradients: backward passes recorded with create_graph, differentiated again.
//
//   * the engine's create_graph rules (libtorch's): formulas record, retain_graph defaults to
//     create_graph, seeds that require grad stay in the graph, a leaf's .grad() is replaced out
//     of place and keeps its graph;
//   * x³'s first three derivatives, a Hessian-vector product against its closed form, and a
//     gradient penalty / WGAN-GP / Hessian-vector product of a Linear+tanh MLP against PyTorch
//     (tests/data/module05_higher_reference.json, tools/reference/gen_module05_higher.py);
//   * gradgradcheck (float64 second-order finite differences) for every op whose double
//     backward we implement (those of ops that later modules implement skip, naming the module,
//     until it is written: support/prerequisites.h);
//   * a backward that records nothing fails loudly when differentiated (DelayedError), and no
//     reference cycle keeps a graph alive.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd_test_helpers.h"
#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/autograd/autograd_meta.h"
#include "tinytorch/autograd/engine.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/autograd/node.h"
#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
using tt::Tensor;
using tt::test::expect_tensor_eq;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

namespace {

using tinytorch::autograd_tests::leaf;
using tinytorch::autograd_tests::vec;

// The same values without requires_grad: data the function does not differentiate.
Tensor data(std::vector<int64_t> shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  return leaf(std::move(shape), seed, lo, hi).detach();
}

Tensor grad1(const Tensor& y, const Tensor& x, bool create_graph) {
  return tt::autograd::grad({y}, {x}, {}, std::nullopt, create_graph)[0];
}

void expect_gradgradcheck(const Fn& fn, const std::vector<Tensor>& inputs) {
  tt::manual_seed(7);  // the random grad_output
  const tt::autograd::GradcheckResult r = tt::autograd::gradgradcheck(fn, inputs);
  EXPECT_TRUE(r.ok) << r.message;
}

}  // namespace

// ── the engine ────────────────────────────────────────────────────────────────────────────────

TEST(CreateGraph, ThirdDerivativeOfACube) {
  const Tensor x = vec({0.5, -1.5, 2.0}).set_requires_grad(true);
  for (const bool use_pow : {true, false}) {
    const Tensor y = use_pow ? x.pow(3.0) : x * x * x;
    const Tensor d1 = grad1(y.sum(), x, true);
    const Tensor d2 = grad1(d1.sum(), x, true);
    const Tensor d3 = grad1(d2.sum(), x, false);
    expect_tensor_eq(d1, vec({0.75, 6.75, 12.0}));  // 3x²
    expect_tensor_eq(d2, vec({3.0, -9.0, 12.0}));   // 6x
    expect_tensor_eq(d3, vec({6.0, 6.0, 6.0}));
    EXPECT_TRUE(d1.requires_grad());
    EXPECT_FALSE(d3.requires_grad());  // the last pass recorded nothing
  }
}

TEST(CreateGraph, WithoutItTheGradientHasNoGraph) {
  const Tensor x = vec({1.0, 2.0}).set_requires_grad(true);
  const Tensor g = grad1((x * x * x).sum(), x, false);
  EXPECT_FALSE(g.requires_grad());
  TT_EXPECT_THROW_WITH(grad1(g.sum(), x, false), tt::Error, "does not require grad");
}

TEST(CreateGraph, RetainGraphDefaultsToCreateGraph) {
  Tensor x = vec({1.0, -2.0}).set_requires_grad(true);
  const Tensor y = (x * x * x).sum();
  y.backward({}, std::nullopt, /*create_graph=*/true);
  EXPECT_TRUE(x.grad().requires_grad());
  expect_tensor_eq(x.grad(), vec({3.0, 12.0}));
  y.backward();  // the graph was retained: a second pass works, and accumulates
  expect_tensor_eq(x.grad(), vec({6.0, 24.0}));
  // Without create_graph (and retain_graph left out) the first pass frees the graph.
  const Tensor z = (x * x * x).sum();
  tt::autograd::grad({z}, {x});
  TT_EXPECT_THROW_WITH(tt::autograd::grad({z}, {x}), tt::Error, "second time");
  // autograd::grad with create_graph retains it too.
  const Tensor w = (x * x * x).sum();
  tt::autograd::grad({w}, {x}, {}, std::nullopt, true);
  expect_tensor_eq(tt::autograd::grad({w}, {x})[0], vec({3.0, 12.0}));
  // x.grad() still holds the graph of the create_graph pass, which saved x: break the cycle
  // (tensor.h's NOTE on backward) or x and that graph are never freed.
  x.mutable_grad() = Tensor();
}

TEST(CreateGraph, LeafGradIsReplacedOutOfPlaceAndKeepsItsGraph) {
  Tensor x = vec({1.0, 2.0}).set_requires_grad(true);
  (x * x).sum().backward();
  const Tensor before = x.grad();  // 2x, no graph
  (x * x * x).sum().backward({}, std::nullopt, /*create_graph=*/true);
  EXPECT_FALSE(x.grad().is_same(before));        // a new tensor: grad + new, out of place
  expect_tensor_eq(before, vec({2.0, 4.0}));     // the old one was not written
  expect_tensor_eq(x.grad(), vec({5.0, 16.0}));  // 2x + 3x²
  ASSERT_TRUE(x.grad().requires_grad());
  // Only the 3x² part carries a graph: d/dx Σ(2x + 3x²) through it is 6x.
  expect_tensor_eq(grad1(x.grad().sum(), x, false), vec({6.0, 12.0}));
}

TEST(CreateGraph, SeedsThatRequireGradStayInTheGraph) {
  const Tensor x = vec({1.0, 2.0, 3.0}).set_requires_grad(true);
  const Tensor v = vec({0.5, -1.0, 2.0}).set_requires_grad(true);
  const Tensor y = x * x;
  const Tensor g = tt::autograd::grad({y}, {x}, {v}, std::nullopt, true)[0];  // 2x·v
  expect_tensor_eq(g, vec({1.0, -4.0, 12.0}));
  const auto second = tt::autograd::grad({g.sum()}, {x, v});
  expect_tensor_eq(second[0], vec({1.0, -2.0, 4.0}));  // 2v
  expect_tensor_eq(second[1], vec({2.0, 4.0, 6.0}));   // 2x
  // Without create_graph the seed's graph is not followed.
  const Tensor g0 = tt::autograd::grad({x * x}, {x}, {v})[0];
  EXPECT_FALSE(g0.requires_grad());
}

TEST(CreateGraph, SavedOutputsGetTheirNodeBack) {
  // exp and tanh save their OUTPUT: it is stored detached (no cycle) and given its grad_fn back
  // when a formula unpacks it with grad mode on, so the second derivative sees it.
  const Tensor x = vec({-0.5, 0.25, 1.0}).set_requires_grad(true);
  const Tensor y = x.exp();
  const Tensor g = grad1(y.sum(), x, true);
  expect_tensor_eq(grad1(g.sum(), x, false), y.detach(), 1e-12, 1e-12);
  const Tensor t = x.tanh();
  const Tensor gt = grad1(t.sum(), x, true);  // 1 − t²
  const Tensor expected =
      t.detach().mul(t.detach()).sub(1.0).mul(t.detach()).mul(2.0);  // −2t(1 − t²)
  expect_tensor_eq(grad1(gt.sum(), x, false), expected, 1e-12, 1e-12);
}

// H·v of f(x) = x·(A x) + Σ e^x, whose Hessian is A + Aᵀ + diag(e^x): two backward passes.
TEST(HessianVectorProduct, MatchesTheClosedForm) {
  const Tensor A = data({4, 4}, 11);
  const Tensor x = leaf({4}, 12);
  const Tensor v = data({4}, 13);
  const Tensor f = x.matmul(A.matmul(x)) + x.exp().sum();
  const Tensor g = grad1(f, x, true);
  const Tensor hv = grad1((g * v).sum(), x, false);
  const std::vector<double> a = tt::test::values_as_double(A);
  const std::vector<double> xs = tt::test::values_as_double(x);
  const std::vector<double> vs = tt::test::values_as_double(v);
  std::vector<double> expected(4, 0.0);
  for (size_t i = 0; i < 4; ++i) {
    for (size_t j = 0; j < 4; ++j) expected[i] += (a[i * 4 + j] + a[j * 4 + i]) * vs[j];
    expected[i] += std::exp(xs[i]) * vs[i];
  }
  expect_tensor_eq(hv, vec(expected), 1e-12, 1e-12);
}

// ── against PyTorch: a Linear+tanh MLP's gradient penalty, WGAN-GP, Hessian-vector product ────

namespace {
const tt::test::json& higher_cases() {
  return tt::test::load_reference("module05_higher_reference.json").at("cases");
}

struct Mlp {
  std::map<std::string, Tensor> t;
  Tensor forward() const {
    return tt::linear(tt::tanh(tt::linear(t.at("x"), t.at("w1"), t.at("b1"))), t.at("w2"),
                      t.at("b2"));
  }
};

// The case's first-order gradient and the scalar PyTorch differentiated again (the generator's
// functions, same names).
std::pair<Tensor, Tensor> second_order(const std::string& name, const Mlp& m) {
  if (name == "gradient_penalty") {
    const Tensor g = grad1(m.forward().sum(), m.t.at("x"), true);
    return {g, (g * g).sum()};
  }
  if (name == "wgan_gp") {
    const Tensor out = m.forward();
    const Tensor g = grad1(out.sum(), m.t.at("x"), true);
    const Tensor penalty = (g.pow(2.0).sum({1}).sqrt() - 1.0).pow(2.0).mean();
    return {g, tt::mse_loss(out, m.t.at("target")) + penalty};
  }
  const Tensor g = grad1(tt::mse_loss(m.forward(), m.t.at("target")), m.t.at("w1"), true);
  return {g, (g * m.t.at("v")).sum()};
}
}  // namespace

TEST(GradientPenalty, MatchesTorch) {
  ASSERT_EQ(higher_cases().size(), 3u);
  for (const auto& c : higher_cases()) {
    const std::string name = c.at("name").get<std::string>();
    SCOPED_TRACE(name);
    Mlp m;
    for (const auto& in : c.at("inputs")) {
      Tensor t = tt::test::tensor_from_json(in);
      if (in.at("requires_grad").get<bool>()) t.set_requires_grad(true);
      m.t[in.at("name").get<std::string>()] = t;
    }
    const auto [g, value] = second_order(name, m);
    expect_tensor_eq(g, c.at("first_order"), 1e-10, 1e-12);
    expect_tensor_eq(value, c.at("value"), 1e-10, 1e-12);
    // Both ways: backward() into .grad(), and autograd::grad.
    std::vector<std::string> names;
    tt::autograd::variable_list wrt;
    for (const auto& [n, expected] : c.at("grads").items()) {
      names.push_back(n);
      wrt.push_back(m.t.at(n));
    }
    const tt::autograd::variable_list grads =
        tt::autograd::grad({value}, wrt, {}, /*retain_graph=*/true, false, /*allow_unused=*/true);
    value.backward();
    for (size_t i = 0; i < names.size(); ++i) {
      SCOPED_TRACE(names[i]);
      const auto& expected = c.at("grads").at(names[i]);
      if (expected.is_null()) {  // PyTorch: None — the value does not depend on it
        EXPECT_FALSE(grads[i].defined());
        EXPECT_FALSE(wrt[i].grad().defined());
        continue;
      }
      expect_tensor_eq(grads[i], expected, 1e-10, 1e-12);
      expect_tensor_eq(wrt[i].grad(), expected, 1e-10, 1e-12);
    }
  }
}

// ── a backward that records nothing, and reference cycles ─────────────────────────────────────

namespace {
// y = 2x with a hand-written node whose backward computes under NoGradGuard: correct first
// derivatives, but nothing a second pass could follow.
class UnrecordedDouble final : public tt::autograd::Node {
 public:
  std::string name() const override { return "UnrecordedDoubleBackward"; }
  tt::autograd::variable_list apply(tt::autograd::variable_list&& grads) override {
    const tt::NoGradGuard no_grad;
    return {grads[0].mul(2.0)};
  }
};

Tensor unrecorded_double(const Tensor& x) {
  Tensor y;
  {
    const tt::NoGradGuard no_grad;
    y = x.mul(2.0);
  }
  auto node = std::make_shared<UnrecordedDouble>();
  node->set_next_edges({tt::autograd::gradient_edge(x)}, {{x.sizes().vec(), x.dtype()}});
  tt::autograd::materialize_autograd_meta(y).grad_fn_ = node;
  return y;
}
}  // namespace

TEST(DelayedError, DifferentiatingAnUnrecordedBackwardIsAClearError) {
  const Tensor x = vec({1.0, -2.0}).set_requires_grad(true);
  const Tensor y = unrecorded_double(x);
  expect_tensor_eq(grad1((y * y).sum(), x, false), vec({8.0, -16.0}));  // first order: fine
  // With create_graph the gradient is still right, and usable as a value...
  const Tensor g = grad1((y * y).sum(), x, true);
  expect_tensor_eq(g, vec({8.0, -16.0}));
  EXPECT_TRUE(g.requires_grad());
  // ...but differentiating it again names the node whose derivative is missing.
  TT_EXPECT_THROW_WITH(grad1(g.sum(), x, false), tt::NotImplementedError,
                       "the derivative of UnrecordedDoubleBackward's backward is not implemented");
  // A gradient that carried no graph into the node is left alone (nothing to differentiate).
  EXPECT_FALSE(grad1(y.sum(), x, true).requires_grad());
}

TEST(CreateGraph, NoReferenceCycleKeepsAGraphAlive) {
  std::weak_ptr<tt::autograd::Node> forward_node, backward_node;
  const Tensor x = vec({0.5, 1.5}).set_requires_grad(true);
  {
    const Tensor y = x.exp();  // saves its output
    const Tensor g = grad1(y.sum(), x, true);
    forward_node = y.grad_fn();
    backward_node = g.grad_fn();
    EXPECT_FALSE(forward_node.expired());
    EXPECT_FALSE(backward_node.expired());
  }
  EXPECT_TRUE(forward_node.expired());
  EXPECT_TRUE(backward_node.expired());
  // A leaf's .grad() with a graph keeps that graph alive while the leaf holds it — and no longer.
  {
    Tensor p = vec({0.5, 1.5}).set_requires_grad(true);
    const Tensor y = p.tanh();
    forward_node = y.grad_fn();
    y.sum().backward({}, std::nullopt, true);
    backward_node = p.grad().grad_fn();
  }
  EXPECT_TRUE(forward_node.expired());
  EXPECT_TRUE(backward_node.expired());
}

// ── gradgradcheck ────────────────────────────────────────────────────────────────────────────

TEST(GradGradcheck, FailsWhenTheSecondDerivativeIsWrong) {
  // The value x³ and the first derivative 3x² are right, but the x² factor carries no graph, so
  // the recorded backward says the second derivative is 0 instead of 6x.
  const Fn cube_by_hand = [](const std::vector<Tensor>& in) {
    const Tensor x2 = in[0].detach().mul(in[0].detach());
    return in[0].mul(x2).mul(3.0).sub(in[0].detach().mul(x2).mul(2.0));
  };
  const Tensor x = leaf({3}, 21, 0.5, 1.5);
  EXPECT_TRUE(tt::autograd::gradcheck(cube_by_hand, {x}).ok);
  const tt::autograd::GradcheckResult r = tt::autograd::gradgradcheck(cube_by_hand, {x});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("gradgradcheck"), std::string::npos) << r.message;
}

TEST(GradGradcheck, RefusesBadArguments) {
  const Fn square = [](const std::vector<Tensor>& in) { return in[0] * in[0]; };
  TT_EXPECT_THROW_WITH(tt::autograd::gradgradcheck(square, {data({2}, 1)}), tt::Error,
                       "no input requires grad");
  const Tensor x32 = tt::ones({2}, tt::kFloat32).set_requires_grad(true);
  TT_EXPECT_THROW_WITH(tt::autograd::gradgradcheck(square, {x32}), tt::TypeError, "float64");
}

TEST(GradGradcheck, Elementwise) {
  const Tensor a = leaf({2, 3}, 31), b = leaf({3}, 32), p = leaf({2, 3}, 33, 0.5, 2.0);
  expect_gradgradcheck([](auto& in) { return in[0].add(in[1], 2.5).mul(in[0].sub(in[1], 0.5)); },
                       {a, b});
  expect_gradgradcheck([](auto& in) { return in[0].mul(in[1]).mul(in[0]); }, {a, b});
  expect_gradgradcheck([](auto& in) { return in[0].div(in[1]); }, {a, p});
  expect_gradgradcheck([](auto& in) { return in[0].pow(in[1]); }, {p, a});
  expect_gradgradcheck([](auto& in) { return in[0].pow(3.0).neg(); }, {a});
  expect_gradgradcheck([](auto& in) { return in[0].exp().add(in[1].log()); }, {a, p});
  expect_gradgradcheck([](auto& in) { return in[0].sqrt().mul(in[1].abs()); }, {p, a});
  expect_gradgradcheck([](auto& in) { return in[0].clamp(-0.5, 0.5).mul(in[0]); }, {a});
  expect_gradgradcheck([](auto& in) { return in[0].maximum(in[1]).mul(in[0].minimum(in[1])); },
                       {a, b});
  const Tensor cond = tt::from_vector(std::vector<double>{1, 0, 1, 0, 0, 1}, {2, 3}).gt(0.5);
  expect_gradgradcheck([cond](auto& in) { return tt::where(cond, in[0], in[1]).pow(2.0); }, {a, b});
}

TEST(GradGradcheck, Reductions) {
  const std::string missing = tt::test::later_module_missing("05", [] {
    const Tensor x = leaf({3, 4}, 41);
    expect_gradgradcheck([](auto& in) { return in[0].pow(2.0).sum({1}); }, {x});
    expect_gradgradcheck([](auto& in) { return in[0].mean({0}, true).exp(); }, {x});
    expect_gradgradcheck([](auto& in) { return in[0].var({1}); }, {x});
    expect_gradgradcheck([](auto& in) { return in[0].var({0}, false, true); }, {x});
    expect_gradgradcheck([](auto& in) { return in[0].mul(in[0]).max(); }, {x});
    expect_gradgradcheck([](auto& in) { return std::get<0>(in[0].max(1)).pow(2.0); }, {x});
    expect_gradgradcheck([](auto& in) { return std::get<0>(in[0].min(0, true)).exp(); }, {x});
  });
  if (!missing.empty()) GTEST_SKIP() << missing;
}

TEST(GradGradcheck, ViewsAndCopies) {
  const std::string missing = tt::test::later_module_missing("05", [] {
    const Tensor x = leaf({3, 4}, 51);
    expect_gradgradcheck([](auto& in) { return in[0].t().reshape({2, 6}).pow(2.0); }, {x});
    expect_gradgradcheck([](auto& in) { return in[0].unsqueeze(0).permute({2, 0, 1}).exp(); }, {x});
    expect_gradgradcheck([](auto& in) { return in[0].select(1, 2).pow(3.0); }, {x});
    expect_gradgradcheck(
        [](auto& in) { return in[0].slice(1, 0, 4, 2).mul(in[0].narrow(1, 1, 2)); }, {x});
    expect_gradgradcheck(
        [](auto& in) {
          return in[0].unsqueeze(1).expand({3, 2, 4}).pow(2.0);
        },
        {x});
    expect_gradgradcheck(
        [](auto& in) {
          std::vector<Tensor> rows = in[0].unbind(0);
          return rows[0].mul(rows[2]);  // row 1 receives no gradient
        },
        {x});
    expect_gradgradcheck(
        [](auto& in) {
          return in[0].as_strided({2, 3}, {1, 2}, 1).pow(2.0);
        },
        {x});  // overlaps
    expect_gradgradcheck([](auto& in) { return in[0].clone().flatten().contiguous().exp(); }, {x});
    expect_gradgradcheck([](auto& in) { return tt::cat({in[0], in[0].pow(2.0)}, 1); }, {x});
    expect_gradgradcheck([](auto& in) { return tt::stack({in[0], in[0].exp()}, 1); }, {x});
  });
  if (!missing.empty()) GTEST_SKIP() << missing;
}

TEST(GradGradcheck, InPlaceThroughViews) {
  const Tensor x = leaf({3, 4}, 61);
  expect_gradgradcheck(
      [](auto& in) {
        Tensor y = in[0].mul(1.0);
        y.select(1, 0).mul_(in[0].select(1, 1));  // CopySlices
        y.slice(0, 1, 3).exp_();
        return y.mul(y);
      },
      {x});
}

TEST(GradGradcheck, MatmulAndLinear) {
  const Tensor a = leaf({2, 3}, 71), b = leaf({3, 4}, 72), v = leaf({3}, 73);
  const Tensor batch = leaf({2, 2, 3}, 74), w = leaf({4, 3}, 75), bias = leaf({4}, 76);
  expect_gradgradcheck([](auto& in) { return in[0].matmul(in[1]); }, {a, b});
  expect_gradgradcheck([](auto& in) { return in[0].matmul(in[1]).mul(in[0].matmul(in[1])); },
                       {a, v});
  expect_gradgradcheck([](auto& in) { return in[0].matmul(in[1]).pow(2.0); }, {v, b});
  expect_gradgradcheck([](auto& in) { return in[0].matmul(in[1]).tanh(); }, {batch, b});
  expect_gradgradcheck([](auto& in) { return tt::linear(in[0], in[1], in[2]).pow(2.0); },
                       {batch, w, bias});
}

TEST(GradGradcheck, Activations) {
  const Tensor x = leaf({2, 5}, 81, -2.0, 2.0);
  expect_gradgradcheck([](auto& in) { return in[0].relu().mul(in[0]); }, {x});
  expect_gradgradcheck([](auto& in) { return tt::leaky_relu(in[0], 0.1).mul(in[0]); }, {x});
  expect_gradgradcheck([](auto& in) { return in[0].sigmoid(); }, {x});
  expect_gradgradcheck([](auto& in) { return in[0].tanh(); }, {x});
  expect_gradgradcheck([](auto& in) { return tt::gelu(in[0]); }, {x});
  expect_gradgradcheck([](auto& in) { return tt::gelu(in[0], "tanh"); }, {x});
  expect_gradgradcheck([](auto& in) { return tt::silu(in[0]); }, {x});
  expect_gradgradcheck([](auto& in) { return in[0].softmax(1); }, {x});
  expect_gradgradcheck([](auto& in) { return in[0].log_softmax(0); }, {x});
}

TEST(GradGradcheck, Losses) {
  const std::string missing = tt::test::later_module_missing("05", [] {
    const Tensor x = leaf({3, 4}, 91), t = leaf({3, 4}, 92);
    const Tensor prob = leaf({3, 4}, 93, 0.05, 0.95), target01 = leaf({3, 4}, 94, 0.0, 1.0);
    const Tensor labels = tt::from_vector(std::vector<int64_t>{2, 0, 3}, {3});
    const Tensor weights = data({4}, 95, 0.5, 1.5);
    for (const tt::Reduction r : {tt::Reduction::None, tt::Reduction::Mean, tt::Reduction::Sum}) {
      SCOPED_TRACE(static_cast<int>(r));
      expect_gradgradcheck([r](auto& in) { return tt::mse_loss(in[0], in[1], r); }, {x, t});
      expect_gradgradcheck([r](auto& in) { return tt::l1_loss(in[0].pow(3.0), in[1], r); }, {x, t});
      expect_gradgradcheck([r](auto& in) { return tt::binary_cross_entropy(in[0], in[1], {}, r); },
                           {prob, target01});
      expect_gradgradcheck(
          [r](auto& in) { return tt::binary_cross_entropy_with_logits(in[0], in[1], {}, {}, r); },
          {x, target01});
      expect_gradgradcheck(
          [r, labels](auto& in) { return tt::nll_loss(in[0].log_softmax(1), labels, {}, r); }, {x});
      expect_gradgradcheck(
          [r](auto& in) { return tt::kl_div(in[0].log_softmax(1), in[1].softmax(1), r); }, {x, t});
      expect_gradgradcheck(
          [r](auto& in) { return tt::kl_div(in[0].log_softmax(1), in[1].log_softmax(1), r, true); },
          {x, t});
    }
    // class weights, ignore_index, label smoothing, per-element BCE weights
    expect_gradgradcheck(
        [labels, weights](auto& in) {
          return tt::cross_entropy(in[0], labels, weights, tt::Reduction::Mean, 0, 0.1);
        },
        {x});
    expect_gradgradcheck(
        [weights](auto& in) {
          return tt::binary_cross_entropy_with_logits(in[0], in[1], weights, {},
                                                      tt::Reduction::Mean);
        },
        {x, target01});
    // pos_weight, one per class ([4] against x [3, 4]), with and without weight
    expect_gradgradcheck(
        [weights](auto& in) {
          return tt::binary_cross_entropy_with_logits(in[0], in[1], {}, weights,
                                                      tt::Reduction::Sum);
        },
        {x, target01});
    expect_gradgradcheck(
        [weights](auto& in) {
          return tt::binary_cross_entropy_with_logits(in[0], in[1], weights.flip({0}), weights,
                                                      tt::Reduction::Mean);
        },
        {x, target01});
  });
  if (!missing.empty()) GTEST_SKIP() << missing;
}

TEST(GradGradcheck, Convolution) {
  const std::string missing = tt::test::later_module_missing("05", [] {
    const Tensor x = leaf({2, 4, 5, 5}, 101), w = leaf({6, 2, 3, 3}, 102), b = leaf({6}, 103);
    expect_gradgradcheck(
        [](auto& in) { return tt::conv2d(in[0], in[1], in[2], 2, 1, 1, /*groups=*/2); }, {x, w, b});
    const Tensor x3 = leaf({2, 6, 6}, 104), w3 = leaf({3, 2, 2, 2}, 105);
    expect_gradgradcheck(
        [](auto& in) { return tt::conv2d(in[0], in[1], {}, 1, 0, /*dilation=*/2).pow(2.0); },
        {x3, w3});
  });
  if (!missing.empty()) GTEST_SKIP() << missing;
}

TEST(GradGradcheck, PoolingAndNormalization) {
  const std::string missing = tt::test::later_module_missing("05", [] {
    const Tensor x = leaf({2, 3, 5, 5}, 111);
    expect_gradgradcheck([](auto& in) { return tt::max_pool2d(in[0], 2, 2, 0).pow(2.0); }, {x});
    expect_gradgradcheck(
        [](auto& in) { return tt::max_pool2d(in[0], 3, 2, 1, 1, /*ceil_mode=*/true).exp(); }, {x});
    expect_gradgradcheck(
        [](auto& in) { return tt::avg_pool2d(in[0], 3, 2, 1, true, false).pow(2.0); }, {x});
    expect_gradgradcheck([](auto& in) { return tt::avg_pool2d(in[0], 2, 1, 0, false, true, 3); },
                         {x});
    expect_gradgradcheck(
        [](auto& in) {
          return tt::adaptive_avg_pool2d(in[0], {2, 3}).exp();
        },
        {x});

    const Tensor gamma = leaf({3}, 112, 0.5, 1.5), beta = leaf({3}, 113);
    const Tensor running_mean = data({3}, 114), running_var = data({3}, 115, 0.5, 1.5);
    for (const bool training : {true, false}) {
      SCOPED_TRACE(training);
      expect_gradgradcheck(
          [&](auto& in) {
            return tt::batch_norm(in[0], in[1], in[2], running_mean.clone(), running_var.clone(),
                                  training, 0.1, 1e-5);
          },
          {x, gamma, beta});
      expect_gradgradcheck(
          [&](auto& in) {
            return tt::batch_norm_relu(in[0], in[1], in[2], running_mean.clone(),
                                       running_var.clone(), training, 0.1, 1e-5);
          },
          {x, gamma, beta});
    }
    const Tensor rows = leaf({2, 3, 4}, 116), ln_w = leaf({3, 4}, 117, 0.5, 1.5),
                 ln_b = leaf({3, 4}, 118);
    expect_gradgradcheck([](auto& in) { return tt::layer_norm(in[0], {4}, {}, {}, 1e-5); }, {rows});
    expect_gradgradcheck(
        [](auto& in) {
          return tt::layer_norm(in[0], {3, 4}, in[1], in[2], 1e-5);
        },
        {rows, ln_w, ln_b});
    expect_gradgradcheck(
        [](auto& in) {
          return tt::rms_norm(in[0], {3, 4}, in[1], 1e-6);
        },
        {rows, ln_w});
  });
  if (!missing.empty()) GTEST_SKIP() << missing;
}

TEST(GradGradcheck, EmbeddingAttentionMaskedFill) {
  const std::string missing = tt::test::later_module_missing("05", [] {
    const Tensor weight = leaf({5, 3}, 121);
    const Tensor ids = tt::from_vector(std::vector<int64_t>{1, 4, 1, 0, 2, 4}, {2, 3});
    expect_gradgradcheck(
        [ids](auto& in) { return tt::embedding(in[0], ids, /*padding_idx=*/4).pow(2.0); },
        {weight});

    const Tensor q = leaf({2, 3, 4}, 122), k = leaf({2, 5, 4}, 123), v = leaf({2, 5, 3}, 124);
    const Tensor float_mask = leaf({3, 5}, 125);
    const Tensor bool_mask =
        tt::from_vector(std::vector<double>{1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1}, {3, 5})
            .gt(0.5);  // row 1 sees no key: its output is 0
    expect_gradgradcheck(
        [](auto& in) { return tt::scaled_dot_product_attention(in[0], in[1], in[2]); }, {q, k, v});
    expect_gradgradcheck(
        [](auto& in) {
          return tt::scaled_dot_product_attention(in[0], in[1], in[2], in[3], 0.0, false, 0.7);
        },
        {q, k, v, float_mask});
    expect_gradgradcheck(
        [bool_mask](auto& in) {
          return tt::scaled_dot_product_attention(in[0], in[1], in[2], bool_mask);
        },
        {q, k, v});
    expect_gradgradcheck(
        [](auto& in) {
          return tt::scaled_dot_product_attention(in[0], in[1], in[2], {}, 0.0, /*is_causal=*/true);
        },
        {q, k, v});
    expect_gradgradcheck(
        [](auto& in) {
          tt::manual_seed(3);  // the same dropout mask on every call
          return tt::scaled_dot_product_attention(in[0], in[1], in[2], {}, 0.3);
        },
        {q, k, v});

    const Tensor x = leaf({3, 4}, 126);
    expect_gradgradcheck(
        [](auto& in) { return tt::masked_fill(in[0], in[0].gt(0.0), 2.0).pow(2.0); }, {x});
    // (Alone: the straight-through estimator is not the derivative of the rounding steps.)
    expect_gradgradcheck(
        [](auto& in) { return tt::fake_quantize_per_tensor_affine(in[0], 0.1, 0, -5, 5); }, {x});
  });
  if (!missing.empty()) GTEST_SKIP() << missing;
}
