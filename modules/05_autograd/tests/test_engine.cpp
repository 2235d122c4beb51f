// The engine's semantics, each against what PyTorch does: accumulation, graph shapes, seeds,
// retain_graph, grad mode, detach, leaves, in-place rules and the version counter.
#include <exception>
#include <thread>

#include "autograd_test_helpers.h"
#include "support/reference.h"
#include "tinytorch/autograd/engine.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/autograd/node.h"

namespace tt = tinytorch;
using tinytorch::test::expect_tensor_eq;
using tt::Tensor;

namespace {

using tinytorch::autograd_tests::vec;
Tensor param(std::initializer_list<double> values) {
  return tt::from_vector(std::vector<double>(values), {static_cast<int64_t>(values.size())},
                         tt::kFloat64)
      .set_requires_grad(true);
}
}  // namespace

TEST(Engine, LeafFlagsAndGradFn) {
  Tensor x = param({1, 2});
  EXPECT_TRUE(x.is_leaf());
  EXPECT_TRUE(x.requires_grad());
  EXPECT_EQ(x.grad_fn(), nullptr);
  Tensor y = x * 2.0;
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(y.requires_grad());
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_EQ(y.grad_fn()->name(), "MulBackward0");
  EXPECT_EQ(y.sum().grad_fn()->name(), "SumBackward1");
  // The edge from y's node leads to x's AccumulateGrad.
  ASSERT_EQ(y.grad_fn()->num_inputs(), 2U);
  EXPECT_EQ(y.grad_fn()->next_edge(0).function->name(), "AccumulateGrad");
  EXPECT_FALSE(y.grad_fn()->next_edge(1).is_valid());  // the 0-d tensor made from 2.0
  // Data that does not require grad produces no graph.
  Tensor z = vec({1, 2}) * 2.0;
  EXPECT_TRUE(z.is_leaf());
  EXPECT_FALSE(z.requires_grad());
}

TEST(Engine, ScalarBackwardAccumulatesIntoLeaves) {
  Tensor x = param({1, 2, 3});
  (x * x).sum().backward();  // d/dx Σx² = 2x
  expect_tensor_eq(x.grad(), vec({2, 4, 6}));
  // A second backward (a new graph) ADDS into .grad(), as in PyTorch.
  (x * 3.0).sum().backward();
  expect_tensor_eq(x.grad(), vec({5, 7, 9}));
  x.mutable_grad() = Tensor();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Engine, DiamondGraphSumsBothPaths) {
  // y = a·x feeds two branches that meet again: the node for y must run once, with the sum.
  Tensor x = param({1, 2});
  Tensor y = x * 3.0;
  Tensor loss = (y.exp() + y * y).sum();
  loss.backward();
  const std::vector<double> xv = {1, 2};
  std::vector<double> want;
  for (double v : xv) want.push_back(3.0 * (std::exp(3.0 * v) + 2.0 * 3.0 * v));
  expect_tensor_eq(x.grad(), tt::from_vector(want, {2}, tt::kFloat64), 1e-12, 0);
}

TEST(Engine, NonScalarNeedsGradientArgument) {
  Tensor x = param({1, 2, 3});
  Tensor y = x * 2.0;
  TT_EXPECT_THROW_WITH(y.backward(), tt::Error, "grad can be implicitly created only for scalar");
  TT_EXPECT_THROW_WITH(y.backward(vec({1, 1})), tt::Error, "Mismatch in shape", "[2]", "[3]");
  y.backward(vec({1, 10, 100}));  // vector-Jacobian product with v
  expect_tensor_eq(x.grad(), vec({2, 20, 200}));
}

TEST(Engine, RetainGraph) {
  Tensor x = param({1, 2});
  Tensor loss = (x * x).sum();
  loss.backward({}, /*retain_graph=*/true);
  loss.backward();  // allowed: the saved tensors were kept
  expect_tensor_eq(x.grad(), vec({4, 8}));
  TT_EXPECT_THROW_WITH(loss.backward(), tt::Error, "backward through the graph a second time",
                       "retain_graph");
}

TEST(Engine, BackwardOnTensorWithoutGrad) {
  TT_EXPECT_THROW_WITH(vec({1}).sum().backward(), tt::Error, "does not require grad");
}

TEST(Engine, NoGradGuardAndThreadLocality) {
  Tensor x = param({1, 2});
  {
    tt::NoGradGuard no_grad;
    EXPECT_FALSE(tt::GradMode::is_enabled());
    Tensor y = x * 2.0;
    EXPECT_FALSE(y.requires_grad());
    // Another thread still records: grad mode is per thread.
    // (An exception in the thread is carried back and rethrown here: escaping a std::thread it
    // would terminate the whole test program.)
    bool other_thread_records = false;
    std::exception_ptr error;
    std::thread t([&] {
      try {
        other_thread_records = (x * 2.0).requires_grad();
      } catch (...) {
        error = std::current_exception();
      }
    });
    t.join();
    if (error) std::rethrow_exception(error);
    EXPECT_TRUE(other_thread_records);
  }
  EXPECT_TRUE(tt::GradMode::is_enabled());
  EXPECT_TRUE((x * 2.0).requires_grad());
}

TEST(Engine, DetachStopsGradientButSharesData) {
  Tensor x = param({1, 2});
  Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_alias_of(x));
  (x * d).sum().backward();  // only the first factor is differentiated
  expect_tensor_eq(x.grad(), vec({1, 2}));
  Tensor y = x * 2.0;
  y.detach_();
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.is_leaf());
}

TEST(Engine, RequiresGradRules) {
  Tensor y = param({1}) * 2.0;
  TT_EXPECT_THROW_WITH(y.set_requires_grad(false), tt::Error,
                       "only change requires_grad flags of leaf variables");
  TT_EXPECT_THROW_WITH(tt::zeros({2}, tt::kInt64).requires_grad_(), tt::Error, "floating point");
}

TEST(Engine, RetainGradOnNonLeaf) {
  Tensor x = param({1, 2});
  Tensor y = x * 3.0;
  y.retain_grad();
  EXPECT_TRUE(y.retains_grad());
  (y * y).sum().backward();
  expect_tensor_eq(y.grad(), vec({6, 12}));
  expect_tensor_eq(x.grad(), vec({18, 36}));
}

// unbind: ONE node with three outputs. Each output's gradient arrives in its own slot of the
// node's input buffer (edge.input_nr = the output's number); slots nobody wrote stay undefined.
TEST(Engine, MultiOutputNodeReceivesEachGradientInItsSlot) {
  Tensor x = tt::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 2}, tt::kFloat64)
                 .set_requires_grad(true);
  std::vector<Tensor> rows = x.unbind(0);
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0].grad_fn(), rows[2].grad_fn());  // one node for all three
  EXPECT_EQ(rows[1].grad_fn()->name(), "UnbindBackward0");
  EXPECT_EQ(rows[1].grad_fn()->num_outputs(), 3U);
  // Output 1 is unused: its slot of x's gradient is zero, not garbage.
  (rows[0] * 2.0 + rows[2].pow(2.0)).sum().backward();
  expect_tensor_eq(x.grad(),
                   tt::from_vector(std::vector<double>{2, 2, 0, 0, 10, 12}, {3, 2}, tt::kFloat64));
  // retain_grad, autograd::grad and a root that is output 1 find their slots too.
  rows = x.unbind(1);
  rows[1].retain_grad();
  const Tensor loss = (rows[1] * rows[1]).sum();
  loss.backward(Tensor(), /*retain_graph=*/true);
  expect_tensor_eq(rows[1].grad(), vec({4, 8, 12}));
  const tt::autograd::variable_list g =
      tt::autograd::grad({loss}, {rows[1], rows[0]}, {}, std::nullopt, /*create_graph=*/false,
                         /*allow_unused=*/true);
  expect_tensor_eq(g[0], vec({4, 8, 12}));
  EXPECT_FALSE(g[1].defined());  // output 0 received nothing
  x.mutable_grad() = Tensor();
  x.unbind(1)[1].backward(vec({1, 1, 1}));
  expect_tensor_eq(x.grad(),
                   tt::from_vector(std::vector<double>{0, 1, 0, 1, 0, 1}, {3, 2}, tt::kFloat64));
}

TEST(Engine, AutogradGradLeavesDotGradAlone) {
  Tensor x = param({1, 2});
  Tensor y = (x * x * x).sum();
  const tt::autograd::variable_list g = tt::autograd::grad({y}, {x});
  expect_tensor_eq(g[0], vec({3, 12}));
  EXPECT_FALSE(x.grad().defined());
  Tensor unused = param({5});
  TT_EXPECT_THROW_WITH(tt::autograd::grad({(x * 2.0).sum()}, {unused}), tt::Error,
                       "not have been used in the graph");
  EXPECT_FALSE(
      tt::autograd::grad({(x * 2.0).sum()}, {unused}, {}, std::nullopt, false, true)[0].defined());
}

// libtorch's parameter order: (outputs, inputs, grad_outputs, retain_graph, create_graph,
// allow_unused). create_graph = true records the backward pass: the gradient has a graph of its
// own (test_higher_order.cpp differentiates such gradients again).
TEST(Engine, CreateGraphRecordsTheBackwardPass) {
  Tensor x = param({1, 2});
  Tensor y = (x * x).sum();
  const Tensor g = tt::autograd::grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
  expect_tensor_eq(g, vec({2, 4}));
  EXPECT_TRUE(g.requires_grad());
  EXPECT_FALSE(g.is_leaf());
  y.backward(Tensor(), /*retain_graph=*/std::nullopt, /*create_graph=*/false);
  expect_tensor_eq(x.grad(), vec({2, 4}));
  EXPECT_FALSE(x.grad().requires_grad());
}

TEST(Engine, BroadcastGradientIsSummedBackToInputShape) {
  Tensor bias = param({1, 2, 3});
  Tensor x = tt::ones({4, 3}, tt::kFloat64);
  (x + bias).sum().backward();
  expect_tensor_eq(bias.grad(), vec({4, 4, 4}));
}

TEST(Engine, MixedDtypeGradientKeepsLeafDtype) {
  Tensor w = tt::ones({2}, tt::kFloat32).set_requires_grad(true);
  Tensor x = tt::ones({2}, tt::kFloat64) * 3.0;
  Tensor out = w * x;  // promoted to float64
  EXPECT_EQ(out.dtype(), tt::kFloat64);
  out.sum().backward();
  EXPECT_EQ(w.grad().dtype(), tt::kFloat32);
  expect_tensor_eq(w.grad(), tt::full({2}, 3.0, tt::kFloat32));
}

TEST(Engine, GradOfSharedPassThroughIsNotAliased) {
  // AddBackward hands the SAME gradient tensor to both inputs; each leaf must own its .grad().
  Tensor a = param({1, 2}), b = param({3, 4});
  (a + b).sum().backward();
  a.mutable_grad().mul_(10.0);
  expect_tensor_eq(b.grad(), vec({1, 1}));
}

TEST(Engine, InPlaceOnLeafThatRequiresGradIsRefused) {
  Tensor x = param({1, 2});
  TT_EXPECT_THROW_WITH(x.add_(1.0), tt::Error, "leaf Variable that requires grad",
                       "in-place operation");
  {
    tt::NoGradGuard no_grad;  // how an optimizer updates parameters
    x.add_(1.0);
  }
  expect_tensor_eq(x.detach(), vec({2, 3}));
}

TEST(Engine, VersionCounterCatchesModifiedSavedTensor) {
  Tensor x = param({1, 2});
  Tensor y = x.exp();  // ExpBackward saves y
  Tensor loss = y.sum();
  const uint32_t before = y._version();
  {
    tt::NoGradGuard no_grad;
    y.add_(1.0);
  }
  EXPECT_EQ(y._version(), before + 1);
  TT_EXPECT_THROW_WITH(loss.backward(), tt::Error, "modified by an inplace operation",
                       "ExpBackward0", "is at version 1; expected version 0");
}

TEST(Engine, InPlaceThroughAViewRebasesTheBase) {
  Tensor x = param({1, 2, 3, 4});
  Tensor y = x * 1.0;
  y.view({2, 2}).select(0, 1).mul_(2.0);  // writes y[2:4]
  EXPECT_EQ(y.grad_fn()->name(), "CopySlices");
  y.sum().backward();
  expect_tensor_eq(x.grad(), vec({1, 1, 2, 2}));
}

TEST(Engine, StaleViewIsRegenerated) {
  Tensor x = param({1, 2, 3, 4});
  Tensor y = x * 1.0;
  Tensor v = y.view({2, 2});
  y.mul_(2.0);         // recorded: v's grad_fn (ViewBackward0 → MulBackward0) is now stale
  Tensor s = v.sum();  // v's history is regenerated from y's new one
  EXPECT_EQ(v.grad_fn()->next_edge(0).function, y.grad_fn());
  s.backward();
  expect_tensor_eq(x.grad(), vec({2, 2, 2, 2}));
}

TEST(Engine, GraphIsFreedWithItsOutput) {
  std::weak_ptr<tt::autograd::Node> weak;
  Tensor x = param({1, 2});
  {
    Tensor y = (x * 2.0).exp();
    weak = y.grad_fn();
    EXPECT_FALSE(weak.expired());
  }
  // Saved tensors are detached, so no cycle keeps the graph alive once y is gone.
  EXPECT_TRUE(weak.expired());
}
