// Every differentiable op of module 01 against float64 central differences (autograd::gradcheck).
// Inputs include broadcasting, non-contiguous views and size-1 dims, because those are where
// backward formulas go wrong.
#include <functional>
#include <string>
#include <vector>

#include "autograd_test_helpers.h"
#include "support/reference.h"
#include "tinytorch/autograd/gradcheck.h"

namespace tt = tinytorch;
using tt::Tensor;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

namespace {

using tinytorch::autograd_tests::expect_gradcheck;
using tinytorch::autograd_tests::leaf;

}  // namespace

// ── views ─────────────────────────────────────────────────────────────────────────────────────

TEST(GradcheckViews, ViewReshapeFlatten) {
  const Tensor x = leaf({2, 3, 4}, 1);
  expect_gradcheck([](auto& in) { return in[0].view({6, 4}).mul(in[0].view({6, 4})); }, {x});
  expect_gradcheck([](auto& in) { return in[0].transpose(0, 2).reshape({-1}); }, {x});
  expect_gradcheck([](auto& in) { return in[0].flatten(1); }, {x});
}

TEST(GradcheckViews, TransposePermuteT) {
  const Tensor x = leaf({2, 3, 4}, 2);
  expect_gradcheck([](auto& in) { return in[0].transpose(-1, 0).mul(2.0); }, {x});
  expect_gradcheck([](auto& in) { return in[0].permute({2, 0, 1}).exp(); }, {x});
  const Tensor m = leaf({3, 5}, 3);
  expect_gradcheck([](auto& in) { return in[0].t().matmul(in[0]); }, {m});
}

TEST(GradcheckViews, SqueezeUnsqueezeExpand) {
  const Tensor x = leaf({3, 1, 2}, 4);
  expect_gradcheck([](auto& in) { return in[0].squeeze(); }, {x});
  expect_gradcheck([](auto& in) { return in[0].squeeze(1).mul(3.0); }, {x});
  expect_gradcheck([](auto& in) { return in[0].unsqueeze(-1); }, {x});
  expect_gradcheck([](auto& in) { return in[0].expand({4, 3, 5, 2}); }, {x});
}

TEST(GradcheckViews, SelectNarrowSliceIndex) {
  const Tensor x = leaf({4, 5}, 5);
  expect_gradcheck([](auto& in) { return in[0].select(1, -2); }, {x});
  expect_gradcheck([](auto& in) { return in[0].narrow(0, 1, 2); }, {x});
  expect_gradcheck([](auto& in) { return in[0].slice(1, 0, 5, 2); }, {x});
  expect_gradcheck([](auto& in) { return in[0][3]; }, {x});
  // Two overlapping slices of one tensor: their gradients add up where they overlap.
  expect_gradcheck([](auto& in) { return in[0].slice(0, 0, 3).add(in[0].slice(0, 1, 4)); }, {x});
}

TEST(GradcheckViews, Unbind) {
  Tensor x = leaf({3, 4, 2}, 31);
  // Every output used, some unused, one used twice, on a permuted (non-contiguous) input.
  expect_gradcheck(
      [](auto& in) {
        std::vector<Tensor> p = in[0].unbind(1);
        return p[0].mul(p[3]).add(p[1].exp());
      },
      {x});
  expect_gradcheck([](auto& in) { return in[0].unbind(-1)[1].mul(2.0); }, {x});
  expect_gradcheck(
      [](auto& in) {
        std::vector<Tensor> p = in[0].permute({2, 0, 1}).unbind(0);
        return p[0].matmul(p[1].t()).add(p[0].sum());
      },
      {x});
}

TEST(GradcheckViews, AsStrided) {
  const Tensor x = leaf({3, 4}, 6);
  // Overlapping windows: storage elements are read by several output elements.
  expect_gradcheck([](auto& in) { return in[0].as_strided({3, 3}, {2, 1}, 1); }, {x});
  // Through a transposed (non-contiguous) input.
  expect_gradcheck([](auto& in) { return in[0].t().as_strided({2, 2}, {1, 4}); }, {x});
}

TEST(GradcheckViews, ContiguousCloneTo) {
  const Tensor x = leaf({3, 4}, 7);
  expect_gradcheck([](auto& in) { return in[0].t().contiguous().mul(in[0].t()); }, {x});
  expect_gradcheck([](auto& in) { return in[0].clone().pow(2.0); }, {x});
  expect_gradcheck([](auto& in) { return in[0].to(tt::kFloat64, false, /*copy=*/true).mul(2.0); },
                   {x});
}

TEST(GradcheckViews, DtypeConversionCastsTheGradientBack) {
  // float32 rounding makes finite differences useless here; check the rule directly: the
  // gradient of x.to(float32) arrives in float32 and is cast back to x's float64.
  const Tensor x = leaf({3}, 8);
  x.to(tt::kFloat32).mul(2.0).sum().backward();
  EXPECT_EQ(x.grad().dtype(), tt::kFloat64);
  tinytorch::test::expect_tensor_eq(x.grad(), tt::full({3}, 2.0, tt::kFloat64));
}

// ── element-wise ──────────────────────────────────────────────────────────────────────────────

TEST(GradcheckElementwise, ArithmeticWithBroadcasting) {
  const Tensor a = leaf({3, 4}, 10), row = leaf({4}, 11), col = leaf({3, 1}, 12, 0.5, 2.0);
  expect_gradcheck([](auto& in) { return in[0].add(in[1], 2.5); }, {a, row});
  expect_gradcheck([](auto& in) { return in[0].sub(in[1], 0.5); }, {a, col});
  expect_gradcheck([](auto& in) { return in[0].mul(in[1]); }, {row, col});
  expect_gradcheck([](auto& in) { return in[0].div(in[1]); }, {a, col});
  expect_gradcheck([](auto& in) { return tt::rsub(in[0], 2.0); }, {a});
  expect_gradcheck([](auto& in) { return 1.0 / in[0] + in[0] * 3.0 - 2.0; }, {col});
  expect_gradcheck([](auto& in) { return -in[0]; }, {a});
}

TEST(GradcheckElementwise, SameTensorUsedTwice) {
  const Tensor a = leaf({5}, 13);
  expect_gradcheck([](auto& in) { return in[0] * in[0] * in[0]; }, {a});
  expect_gradcheck([](auto& in) { return in[0].add(in[0].t(), -1.0); }, {a});
}

TEST(GradcheckElementwise, PowExpLogSqrtAbs) {
  const Tensor pos = leaf({2, 3}, 14, 0.5, 2.0), any = leaf({2, 3}, 15);
  const Tensor e = leaf({3}, 16, -1.0, 2.0);
  expect_gradcheck([](auto& in) { return in[0].pow(3.0); }, {any});
  expect_gradcheck([](auto& in) { return in[0].pow(in[1]); }, {pos, e});
  expect_gradcheck([](auto& in) { return tt::pow(2.0, in[0]); }, {any});
  expect_gradcheck([](auto& in) { return in[0].exp(); }, {any});
  expect_gradcheck([](auto& in) { return in[0].log(); }, {pos});
  expect_gradcheck([](auto& in) { return in[0].sqrt(); }, {pos});
  expect_gradcheck([](auto& in) { return in[0].abs(); }, {any});
}

TEST(GradcheckElementwise, ClampMaximumMinimumWhere) {
  const Tensor a = leaf({3, 4}, 17), b = leaf({4}, 18);
  expect_gradcheck([](auto& in) { return in[0].clamp(-0.5, 0.5); }, {a});
  expect_gradcheck([](auto& in) { return in[0].clamp_min(0.0); }, {a});
  expect_gradcheck([](auto& in) { return in[0].maximum(in[1]); }, {a, b});
  expect_gradcheck([](auto& in) { return in[0].minimum(in[1]); }, {a, b});
  expect_gradcheck([](auto& in) { return tt::where(in[0] > 0.0, in[0], in[1]); }, {a, b});
  expect_gradcheck([](auto& in) { return tt::where(in[0] > 0.0, in[0], 0.25); }, {a});
}

TEST(GradcheckElementwise, InPlaceOnNonLeaf) {
  const Tensor a = leaf({3, 4}, 19), b = leaf({4}, 20, 0.5, 2.0);
  expect_gradcheck(
      [](auto& in) {
        Tensor y = in[0].mul(2.0);  // a non-leaf: in-place ops on it are recorded
        y.add_(in[1]).mul_(in[1]).div_(in[1].add(1.0)).sub_(in[0], 0.5);
        return y;
      },
      {a, b});
  expect_gradcheck(
      [](auto& in) {
        Tensor y = in[0].mul(2.0);  // (exp would save its output: modifying it is an error)
        y.neg_();
        y.pow_(2.0);
        return y;
      },
      {a});
  expect_gradcheck(
      [](auto& in) {
        Tensor y = tt::zeros({3, 4}, tt::kFloat64);  // a plain buffer receives a value
        y.copy_(in[0]);
        return y.mul(y);
      },
      {a});
}

// ── reductions ────────────────────────────────────────────────────────────────────────────────

TEST(GradcheckReductions, SumMean) {
  const Tensor x = leaf({2, 3, 4}, 30);
  expect_gradcheck([](auto& in) { return in[0].sum(); }, {x});
  expect_gradcheck([](auto& in) { return in[0].sum({0, 2}); }, {x});
  expect_gradcheck([](auto& in) { return in[0].sum({-1}, true); }, {x});
  expect_gradcheck([](auto& in) { return in[0].mean(); }, {x});
  expect_gradcheck([](auto& in) { return in[0].mean({1}, true); }, {x});
  expect_gradcheck([](auto& in) { return in[0].t().sum({0}); }, {leaf({3, 4}, 31)});
}

TEST(GradcheckReductions, Var) {
  const Tensor x = leaf({3, 5}, 32);
  expect_gradcheck([](auto& in) { return in[0].var(); }, {x});
  expect_gradcheck([](auto& in) { return in[0].var({1}, false); }, {x});
  expect_gradcheck([](auto& in) { return in[0].var({0}, true, true); }, {x});
}

TEST(GradcheckReductions, MaxMin) {
  const Tensor x = leaf({3, 5}, 33);
  expect_gradcheck([](auto& in) { return in[0].max(); }, {x});
  expect_gradcheck([](auto& in) { return in[0].min(); }, {x});
  expect_gradcheck([](auto& in) { return std::get<0>(in[0].max(1)); }, {x});
  expect_gradcheck([](auto& in) { return std::get<0>(in[0].min(0, true)); }, {x});
}

// ── matmul ────────────────────────────────────────────────────────────────────────────────────

TEST(GradcheckMatmul, AllShapeCases) {
  expect_gradcheck([](auto& in) { return in[0].matmul(in[1]); },
                   {leaf({3, 4}, 40), leaf({4, 2}, 41)});
  expect_gradcheck([](auto& in) { return in[0].matmul(in[1]); }, {leaf({4}, 42), leaf({4}, 43)});
  expect_gradcheck([](auto& in) { return in[0].matmul(in[1]); }, {leaf({4}, 44), leaf({4, 3}, 45)});
  expect_gradcheck([](auto& in) { return in[0].matmul(in[1]); }, {leaf({3, 4}, 46), leaf({4}, 47)});
  // Batched with a broadcast batch dim, and a batch of inputs times one matrix.
  expect_gradcheck([](auto& in) { return in[0].matmul(in[1]); },
                   {leaf({2, 1, 3, 4}, 48), leaf({3, 4, 2}, 49)});
  expect_gradcheck([](auto& in) { return in[0].matmul(in[1]); },
                   {leaf({2, 3, 4}, 50), leaf({4, 2}, 51)});
  expect_gradcheck([](auto& in) { return in[0].matmul(in[1]); },
                   {leaf({4}, 52), leaf({2, 4, 3}, 53)});
  // Transposed operands go to the GEMM without copies; the gradient must not care.
  expect_gradcheck([](auto& in) { return in[0].t().mm(in[1].t()); },
                   {leaf({4, 3}, 54), leaf({2, 4}, 55)});
}

TEST(GradcheckMatmul, OnlyOneSideRequiresGrad) {
  const Tensor w = leaf({4, 2}, 56);
  const Tensor x = tt::randn({3, 4}, tt::kFloat64);  // data: no gradient wanted
  expect_gradcheck([x](auto& in) { return x.matmul(in[0]); }, {w});
}
