// Module 05 — the gradients of indexing: x.index({...}), index_put_, gather, scatter,
// scatter_add, index_select, index_add, masked_select. Three checks:
//   * PyTorch's gradients for every float64 case of tests/data/indexing_reference.json;
//   * float64 central differences (gradcheck) on inputs with duplicate indices, broadcasting,
//     non-contiguous views and masks — where these formulas go wrong;
//   * the formulas themselves are made of recorded ops: each is gradchecked as a function of its
//     incoming gradient, and gradgradcheck differentiates every op twice (create_graph).
// Plus autograd's rules for writes: index_put_ on a leaf is refused, a write through a view
// rebases the base's history, and an index modified after the forward is reported.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd_test_helpers.h"
#include "support/indexing_reference.h"
#include "support/reference.h"
#include "tinytorch/autograd/derivatives.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using tinytorch::autograd_tests::expect_gradcheck;
using tinytorch::autograd_tests::leaf;

using namespace tinytorch::indexing;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;
using test::json;
using Indices = std::vector<std::optional<Tensor>>;

Tensor idx(std::vector<int64_t> v) {
  return from_vector(v, {static_cast<int64_t>(v.size())}, kInt64);
}

// ── against PyTorch ───────────────────────────────────────────────────────────────────────────

TEST(IndexingGradReference, EveryFloat64CaseMatchesPyTorch) {
  int checked = 0;
  for (const json& c : test::indexing_cases()) {
    if (!c.contains("grads")) continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor self = test::tensor_from_json(c.at("self")).set_requires_grad(true);
    const std::string other_name = test::other_input_name(c);
    Tensor other;
    if (!other_name.empty()) {
      other = test::tensor_from_json(c.at(other_name));
      if (other.is_floating_point()) other.set_requires_grad(true);
    }
    const Tensor out = test::run_indexing_case(c, self, other);
    out.backward(test::tensor_from_json(c.at("grad_output")));
    const json& grads = c.at("grads");
    TT_EXPECT_TENSOR_EQ(self.grad(), grads.at("self"));
    if (grads.contains(other_name)) {
      TT_EXPECT_TENSOR_EQ(other.grad(), grads.at(other_name));
    }
    ++checked;
  }
  EXPECT_GE(checked, 60) << "the reference file lost its gradient cases";
}

// ── gradcheck ─────────────────────────────────────────────────────────────────────────────────

TEST(GradcheckIndexing, BasicIndicesAreViews) {
  const Tensor x = leaf({3, 4, 2}, 1);
  expect_gradcheck([](auto& in) { return in[0].index({1, Slice(None, None, 2)}); }, {x});
  expect_gradcheck([](auto& in) { return in[0].index({None, "...", -1, None}); }, {x});
  expect_gradcheck([](auto& in) { return in[0].index({Ellipsis}).mul(in[0]); }, {x});
  expect_gradcheck([](auto& in) { return in[0].index({Slice(), true, Slice(1, 3)}); }, {x});
}

TEST(GradcheckIndexing, AdvancedIndexing) {
  const Tensor x = leaf({3, 4, 5}, 2);
  // A repeated index: its gradients add up.
  expect_gradcheck([](auto& in) { return in[0].index({idx({2, 0, 2, -1})}); }, {x});
  expect_gradcheck(
      [](auto& in) {
        return in[0].index({idx({0, 2}).view({2, 1}), Slice(), idx({4, 4, 1})});
      },
      {x});
  expect_gradcheck([](auto& in) { return in[0].index({in[0].detach() > 0.2}); }, {x});
  expect_gradcheck(
      [](auto& in) {
        return in[0].index({Slice(), idx({1, 1}), idx({3, 0})}).exp();
      },
      {x});
  const Tensor t = leaf({5, 3}, 3);  // a non-contiguous input: its transpose
  expect_gradcheck([](auto& in) { return in[0].t().index({idx({2, 0}), Slice(1)}); }, {t});
}

TEST(GradcheckIndexing, IndexPut) {
  const Tensor x = leaf({4, 3}, 4);
  const Tensor v = leaf({2, 3}, 5);
  const Tensor row = leaf({3}, 6);
  // Written: self's overwritten rows get no gradient; the values get theirs.
  expect_gradcheck([](auto& in) { return in[0].index_put({idx({3, 1})}, in[1]); }, {x, v});
  // Accumulated, with a repeated row and a broadcast value.
  expect_gradcheck(
      [](auto& in) {
        return in[0].index_put({idx({2, 0, 2})}, in[1], true);
      },
      {x, row});
  expect_gradcheck(
      [](auto& in) {
        return in[0].index_put(Indices{std::nullopt, idx({2, 2})}, in[1].sum(), true);
      },
      {x, row});
  const Tensor m = from_vector(std::vector<int64_t>{1, 0, 0, 1}, {4}, kInt64).to(kBool);
  expect_gradcheck([&](auto& in) { return in[0].index_put({m}, in[1]); }, {x, v});
}

TEST(GradcheckIndexing, WritesThroughIndicesOfANonLeaf) {
  const Tensor x = leaf({4, 3}, 7);
  const Tensor v = leaf({2, 3}, 8);
  // index_put_ with basic and advanced indices into a non-leaf: the write is recorded
  // (CopySlices for the basic part's view), and both inputs get their gradients.
  expect_gradcheck(
      [](auto& in) {
        Tensor y = in[0].mul(2.0);
        y.index_put_({idx({0, 3}), Slice()}, in[1]);
        y.index({Slice(1, None), 1}) = in[1].index({0});
        return y;
      },
      {x, v});
  expect_gradcheck(
      [](auto& in) {
        Tensor y = in[0].clone();
        y.index_put_({idx({1, 2})}, in[1], true);
        y.scatter_add_(1, zeros({4, 1}, kInt64), in[0].index({Slice(), Slice(1, 2)}));
        y.index_add_(0, idx({1, 1}), in[1], -0.5);
        y.scatter_(0, idx({3, 0, 2}).view({1, 3}), 1.5);
        return y;
      },
      {x, v});
}

TEST(GradcheckIndexing, GatherAndScatter) {
  const Tensor x = leaf({3, 4}, 9);
  const Tensor src = leaf({2, 4}, 10);
  const Tensor g = from_vector(std::vector<int64_t>{2, 0, 1, 2, 0, 0, 2, 1}, {2, 4}, kInt64);
  expect_gradcheck([&](auto& in) { return in[0].gather(0, g); }, {x});
  expect_gradcheck([&](auto& in) { return in[0].gather(1, g.slice(1, 0, 3)); }, {x});
  const Tensor unique = from_vector(std::vector<int64_t>{2, 0, 1, 0, 0, 1, 2, 2}, {2, 4}, kInt64);
  expect_gradcheck([&](auto& in) { return in[0].scatter(0, unique, in[1]); }, {x, src});
  expect_gradcheck([&](auto& in) { return in[0].scatter(0, unique, -1.0); }, {x});
  expect_gradcheck([&](auto& in) { return in[0].scatter_add(0, g, in[1]); }, {x, src});
  // src larger than index: only its leading [2, 3] block is read (the rest gets zero; PyTorch
  // refuses this backward).
  expect_gradcheck([&](auto& in) { return in[0].scatter_add(1, g.slice(1, 0, 3), in[1]); },
                   {x, src});
  const Tensor s = leaf({}, 11);
  expect_gradcheck([](auto& in) { return in[0].gather(0, tensor(int64_t{0})); }, {s});
}

TEST(GradcheckIndexing, IndexSelectIndexAddMaskedSelect) {
  const Tensor x = leaf({3, 4}, 12);
  const Tensor source = leaf({3, 2}, 13);
  expect_gradcheck([](auto& in) { return in[0].index_select(1, idx({3, 0, 3})); }, {x});
  expect_gradcheck([](auto& in) { return in[0].index_select(0, tensor(int64_t{2})); }, {x});
  expect_gradcheck(
      [](auto& in) {
        return in[0].index_add(1, idx({2, 2}), in[1], 0.5);
      },
      {x, source.t().t()});
  const Tensor mask = from_vector(std::vector<int64_t>{1, 0, 1, 1}, {4}, kInt64).to(kBool);
  expect_gradcheck([&](auto& in) { return in[0].masked_select(mask); }, {x});
  // self broadcast against the mask: each element of self is selected up to three times.
  const Tensor col = leaf({4}, 14);
  expect_gradcheck([&](auto& in) { return in[0].masked_select(in[1].detach() > 0.0); }, {col, x});
}

// ── the formulas record: they can be differentiated again ──────────────────────────────────────
// Each formula is a linear function of its incoming gradient; as recorded ops, it has a
// backward of its own, checked here by differences (what create_graph runs).

TEST(IndexingBackward, FormulasAreMadeOfRecordedOps) {
  const Tensor g23 = leaf({2, 3}, 20);
  const Tensor index = from_vector(std::vector<int64_t>{1, 0, 1, 2, 2, 0}, {2, 3}, kInt64);
  const Tensor rows01 = from_vector(std::vector<int64_t>{1, 0, 1, 0, 0, 1}, {2, 3}, kInt64);
  const Indices rows{idx({2, 0})};
  const std::vector<std::pair<std::string, Fn>> formulas = {
      {"index",
       [&](auto& in) {
         return autograd::index_backward(in[0], {3, 3}, rows);
       }},
      {"index_put_self",
       [&](auto& in) {
         return autograd::index_put_backward(in[0], Indices{idx({1})}, false, {true, false})[0];
       }},
      {"index_put_values",
       [&](auto& in) {
         return autograd::index_put_backward(in[0], Indices{idx({1})}, false, {false, true})[1];
       }},
      {"gather",
       [&](auto& in) {
         return autograd::gather_backward(in[0], {3, 3}, 0, index);
       }},
      {"scatter",
       [&](auto& in) {
         return autograd::scatter_backward(in[0], 0, rows01, {2, 3}, {true, true})[1];
       }},
      {"index_select",
       [&](auto& in) {
         return autograd::index_select_backward(in[0], {4, 3}, 0, idx({3, 3}));
       }},
      {"index_add",
       [&](auto& in) {
         return autograd::index_add_backward(in[0], 1, idx({0, 0, 2}), 2.0, {false, true})[1];
       }},
      {"masked_select",
       [&](auto& in) {
         return autograd::masked_select_backward(in[0].flatten().slice(0, 0, 2), {2, 3},
                                                 index.eq(1));
       }},
  };
  for (const auto& [name, fn] : formulas) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(fn({g23}).requires_grad()) << "the formula's result has no history";
    expect_gradcheck(fn, {g23});
  }
}

// ── second order: a backward pass recorded with create_graph, differentiated again ────────────

TEST(GradGradcheckIndexing, EveryIndexingOp) {
  const Tensor x = leaf({3, 4}, 40);
  const Tensor v = leaf({2, 4}, 41);
  const Tensor g = from_vector(std::vector<int64_t>{2, 0, 1, 2, 0, 0, 2, 1}, {2, 4}, kInt64);
  const Tensor unique = from_vector(std::vector<int64_t>{2, 0, 1, 0, 0, 1, 2, 2}, {2, 4}, kInt64);
  const Tensor mask = x.detach() > 0.0;
  // Each op squared (or multiplied by its input), so that the second derivative is not zero.
  const std::vector<std::pair<std::string, std::pair<Fn, std::vector<Tensor>>>> cases = {
      {"index",
       {[](auto& in) {
          return in[0].index({idx({2, 0, 2}), Slice(1)}).pow(2.0);
        },
        {x}}},
      {"index_mask", {[&](auto& in) { return in[0].index({mask}).pow(2.0); }, {x}}},
      {"index_put",
       {[](auto& in) {
          return in[0].index_put({idx({1, 1})}, in[1].pow(2.0), true).mul(in[0]);
        },
        {x, v}}},
      {"setitem",
       {[](auto& in) {
          Tensor y = in[0].mul(in[0]);
          y.index_put_({idx({2, 0}), Slice(None, None, 2)}, in[1].index({Slice(), Slice(1, 3)}));
          return y.mul(in[1].sum());
        },
        {x, v}}},
      {"gather", {[&](auto& in) { return in[0].gather(0, g).pow(2.0); }, {x}}},
      {"scatter", {[&](auto& in) { return in[0].scatter(0, unique, in[1]).pow(2.0); }, {x, v}}},
      {"scatter_add",
       {[&](auto& in) { return in[0].scatter_add(0, g, in[1].pow(2.0)).mul(in[0]); }, {x, v}}},
      {"index_select",
       {[](auto& in) {
          return in[0].index_select(1, idx({3, 3, 0})).pow(2.0);
        },
        {x}}},
      {"index_add",
       {[](auto& in) {
          return in[0].index_add(0, idx({1, 1}), in[1], 0.5).pow(2.0);
        },
        {x, v}}},
      {"masked_select", {[&](auto& in) { return in[0].masked_select(mask).pow(2.0); }, {x}}},
  };
  for (const auto& [name, c] : cases) {
    SCOPED_TRACE(name);
    manual_seed(7);  // the random grad_output
    const autograd::GradcheckResult r = autograd::gradgradcheck(c.first, c.second);
    EXPECT_TRUE(r.ok) << r.message;
  }
}

TEST(GradGradcheckIndexing, SecondDerivativeOfGatheredSquares) {
  // y = Σ_k x[idx_k]² with idx = [0, 2, 0]:  dy/dx = [4·x0, 0, 2·x2],  d(Σ dy/dx)/dx = [4, 0, 2].
  Tensor x = from_vector(std::vector<double>{1.5, -2.0, 0.5}, {3}, kFloat64);
  x.set_requires_grad(true);
  const Tensor y = x.gather(0, idx({0, 2, 0})).pow(2.0).sum();
  const Tensor dx = autograd::grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
  EXPECT_EQ(dx.to_vector<double>(), (std::vector<double>{6.0, 0.0, 1.0}));
  const Tensor ddx = autograd::grad({dx.sum()}, {x})[0];
  EXPECT_EQ(ddx.to_vector<double>(), (std::vector<double>{4.0, 0.0, 2.0}));
}

// ── autograd's rules for these ops ─────────────────────────────────────────────────────────────

TEST(IndexingAutograd, NodeNamesAreLibtorchs) {
  const Tensor x = leaf({3, 4}, 30);
  const Tensor i = idx({0, 2});
  EXPECT_EQ(x.index({i}).grad_fn()->name(), "IndexBackward0");
  EXPECT_EQ(x.index({1}).grad_fn()->name(), "SelectBackward0");
  EXPECT_EQ(x.index({"..."}).grad_fn()->name(), "AliasBackward0");
  EXPECT_EQ(x.index_put({i}, x.index({i}), true).grad_fn()->name(), "IndexPutBackward0");
  EXPECT_EQ(x.gather(0, i.view({2, 1})).grad_fn()->name(), "GatherBackward0");
  EXPECT_EQ(x.scatter(0, i.view({2, 1}), 1.0).grad_fn()->name(), "ScatterBackward1");
  EXPECT_EQ(x.index_select(1, i).grad_fn()->name(), "IndexSelectBackward0");
  EXPECT_EQ(x.masked_select(x.detach() > 0).grad_fn()->name(), "MaskedSelectBackward0");
  // An integer result has no history.
  EXPECT_FALSE(x.detach().gt(0).nonzero().requires_grad());
}

TEST(IndexingAutograd, WritingIntoALeafThatRequiresGradIsRefused) {
  Tensor x = leaf({3}, 31);
  TT_EXPECT_THROW_WITH(x.index_put_({idx({0})}, 1.0), Error, "leaf Variable", "in-place");
  TT_EXPECT_THROW_WITH(x.index({Slice(1)}) = zeros({2}, kFloat64), Error, "leaf Variable");
  TT_EXPECT_THROW_WITH(x.scatter_(0, idx({0}), 2.0), Error, "leaf Variable");
  // Under NoGradGuard, as optimizers write.
  {
    const NoGradGuard no_grad;
    x.index_put_({idx({0})}, 1.0);
  }
  EXPECT_EQ(x.index({0}).item<double>(), 1.0);
}

TEST(IndexingAutograd, ABufferWrittenWithValuesThatRequireGradJoinsTheGraph) {
  // A KV-cache-like buffer (no grad) gets rows from a tensor that requires grad.
  Tensor cache = zeros({4, 2}, kFloat64);
  const Tensor k = leaf({2, 2}, 32);
  cache.index_put_({idx({3, 1})}, k.mul(3.0));
  EXPECT_TRUE(cache.requires_grad());
  cache.sum().backward();
  EXPECT_TRUE(k.grad().equal(full({2, 2}, 3.0, kFloat64)));
}

TEST(IndexingAutograd, AnIndexModifiedAfterTheForwardIsReported) {
  const Tensor x = leaf({3}, 33);
  Tensor i = idx({0, 2});
  const Tensor y = x.gather(0, i);
  i.index_put_({0}, 1);  // the saved index changed
  TT_EXPECT_THROW_WITH(y.sum().backward(), Error, "modified by an inplace operation");
  Tensor j = idx({1});
  const Tensor z = x.index({j});
  j.add_(1);
  TT_EXPECT_THROW_WITH(z.sum().backward(), Error, "modified by an inplace operation");
}

}  // namespace
}  // namespace tinytorch
