// In-place ops under autograd, as PyTorch 1.13 does them: an in-place op whose formula needs self's
// old values takes one path (a clone, the out-of-place op, copy_), add_/sub_/relu_ write in place
// and keep their own node, writes through views rebase the base's history with
// CopySlices, and only floating-point results take part. Also the other wrong answers that
// differential fuzzing against PyTorch found (issue 16): each test names its case.
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "autograd_test_helpers.h"
#include "support/reference.h"
#include "tinytorch/autograd/derivatives.h"
#include "tinytorch/autograd/engine.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/autograd/node.h"

namespace tt = tinytorch;
using tinytorch::test::expect_tensor_eq;
using tt::Tensor;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

namespace {

using tinytorch::autograd_tests::expect_gradcheck;
using tinytorch::autograd_tests::leaf;
using tinytorch::autograd_tests::vec;
constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor view_param(std::vector<double> values, std::vector<int64_t> shape = {}) {
  return vec(std::move(values), std::move(shape)).set_requires_grad(true);
}
}  // namespace

// ── 1. every in-place op clones what the recorded op saves ────────────────────────────────────

// `m[1] = y` on a tensor with history is copy_ into a view (libtorch's rvalue assignment), so the
// gradient reaches y through the view and skips the overwritten row of m's input.
TEST(InPlaceGradcheck, AssignmentToAViewIsRecorded) {
  Tensor x = view_param({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor y = view_param({10, 20});
  Tensor m = x * 1.0;  // a non-leaf copy to write into
  m[1] = y;
  (m * m).sum().backward();
  expect_tensor_eq(y.grad(), vec({20, 40}));
  expect_tensor_eq(x.grad(), vec({2, 4, 0, 0, 10, 12}, {3, 2}));
  expect_gradcheck(
      [](const std::vector<Tensor>& in) {
        Tensor t = in[0] * 1.0;
        t.select(1, 0) = in[1];
        return t.sum({1});
      },
      {leaf({3, 2}, 7), leaf({3}, 8)});
}

TEST(InPlace, UnaryOpsOnANonLeafKeepTheirSavedInput) {
  // log_/abs_/clamp_ used to copy into *this, which LogBackward0 (etc.) had saved: backward then
  // failed with "modified by an inplace operation ... is at version 1".
  Tensor x = view_param({0.5, 2.0, 4.0});
  Tensor y = x * 2.0;
  y.log_();
  y.sum().backward();
  expect_tensor_eq(x.grad(), vec({2.0, 0.5, 0.25}));  // d/dx ln(2x) = 1/x

  Tensor a = view_param({-1.5, 0.5, 3.0});
  Tensor b = a * 1.0;
  b.abs_().clamp_(std::nullopt, 2.0);
  b.sum().backward();
  expect_tensor_eq(a.grad(), vec({-1.0, 1.0, 0.0}));
}

TEST(InPlaceGradcheck, GradcheckOfEveryUnaryInPlaceOp) {
  const Tensor a = leaf({3, 4}, 40, 0.2, 2.0);
  for (const auto& op : std::vector<std::function<void(Tensor&)>>{
           [](Tensor& y) { y.log_(); }, [](Tensor& y) { y.exp_(); }, [](Tensor& y) { y.sqrt_(); },
           [](Tensor& y) { y.abs_(); }, [](Tensor& y) { y.neg_(); },
           [](Tensor& y) { y.clamp_(0.5, 1.5); }, [](Tensor& y) { y.clamp_(std::nullopt, 1.0); },
           [](Tensor& y) { y.pow_(3.0); }}) {
    expect_gradcheck(
        [&op](auto& in) {
          Tensor y = in[0].mul(1.0);
          op(y);
          return y.mul(in[0]);  // uses the input again, so both histories matter
        },
        {a});
  }
}

// add_, sub_ and relu_ need none of self's old values: recorded, they write into self's own
// buffer and self's grad_fn is their node (PyTorch's names), not CopyBackwards.
TEST(InPlace, AddSubReluWriteInPlaceAndKeepTheirNode) {
  Tensor x = view_param({-1, 2, -3, 4, 5, -6}, {3, 2});
  Tensor b = view_param({10, -20});
  Tensor y = x * 2.0;
  const void* buffer = y.data_ptr();
  y.add_(b, 0.5).relu_();
  EXPECT_EQ(y.data_ptr(), buffer);
  EXPECT_EQ(y.grad_fn()->name(), "ReluBackward0");
  EXPECT_EQ(y.grad_fn()->next_edges()[0].function->name(), "AddBackward0");
  expect_tensor_eq(y.detach(), vec({3, 0, 0, 0, 15, 0}, {3, 2}));
  (y * y).sum().backward();  // d/dy y² = 2y where y > 0; y = relu(2x + b/2)
  expect_tensor_eq(x.grad(), vec({12, 0, 0, 0, 60, 0}, {3, 2}));
  expect_tensor_eq(b.grad(), vec({18, 0}));  // 0.5 · Σ over the broadcast rows of 2y
  Tensor z = x * 1.0;
  z.sub_(b, 2.0);
  EXPECT_EQ(z.grad_fn()->name(), "SubBackward0");
}

TEST(InPlaceGradcheck, AddSubReluFirstAndSecondOrder) {
  // Values away from relu's kink; the other operand broadcast, or self; writes through views.
  const Tensor a = leaf({3, 4}, 41, 0.2, 2.0);
  const Tensor c = leaf({4}, 42);
  for (const auto& op : std::vector<std::function<void(Tensor&, const Tensor&)>>{
           [](Tensor&y, const Tensor&o) { y.add_(o, -1.5); },
           [](Tensor&y, const Tensor&o) { y.sub_(o.mul(o), 0.5); },
           [](Tensor&y, const Tensor&) { y.add_(y); },
           [](Tensor&y, const Tensor&) { y.sub_(1.0).relu_(); },
           [](Tensor&y, const Tensor&o) { y.slice(1, 1, 3).add_(o.slice(0, 0, 2)).relu_(); },
           [](Tensor&y, const Tensor&o) { y.select(0, 1).sub_(o).relu_(); }}) {
    const Fn fn = [&op](const std::vector<Tensor>& in) {
      Tensor y = in[0].mul(in[0]);
      op(y, in[1]);
      return y.mul(in[0]);  // uses the input again, so both histories matter
    };
    expect_gradcheck(fn, {a, c});
    const tt::autograd::GradcheckResult second = tt::autograd::gradgradcheck(fn, {a, c});
    EXPECT_TRUE(second.ok) << second.message;
  }
}

TEST(InPlace, RecordedInPlaceWritesKeepTheVersionChecks) {
  // relu_ writes what exp saved; and what relu_ saved (its result) is written again.
  Tensor x = view_param({1, -2, 3});
  Tensor y = x.exp();
  y.relu_();
  TT_EXPECT_THROW_WITH(y.sum().backward(), tt::Error, "modified by an inplace operation",
                       "ExpBackward0");
  Tensor z = x * 1.0;
  z.relu_();
  z.add_(1.0);  // no saved value is needed by add_: only relu_'s saved result is now stale
  TT_EXPECT_THROW_WITH(z.sum().backward(), tt::Error, "modified by an inplace operation",
                       "ReluBackward0");
  // A float32 tensor += a float64 one that requires grad: the gradient comes back as float64.
  Tensor w = view_param({1, 2, 3});
  Tensor f = tt::zeros({3}, tt::kFloat32);
  f.add_(w);
  EXPECT_EQ(f.dtype(), tt::kFloat32);
  f.sum().backward();
  EXPECT_EQ(w.grad().dtype(), tt::kFloat64);
  expect_tensor_eq(w.grad(), vec({1, 1, 1}));
}

// ── 2. only floating-point results take part in autograd ──────────────────────────────────────

TEST(InPlace, CastsToIntegerOrBoolStartNoHistory) {
  Tensor a = tt::from_vector(std::vector<float>{1.5f, -2.0f, 0.25f}, {3}).set_requires_grad(true);
  EXPECT_FALSE(a.to(tt::kInt64).requires_grad());
  EXPECT_FALSE(a.to(tt::kBool).requires_grad());
  EXPECT_FALSE(a.sum(tt::kInt64).requires_grad());
  Tensor i = tt::zeros({3}, tt::kInt64);
  i.copy_(a);
  EXPECT_FALSE(i.requires_grad());
  EXPECT_TRUE(i.is_leaf());
  // PyTorch: 2, not 3 — the round trip through int64 is not differentiable.
  (a * 2.0 + a.to(tt::kInt64).to(tt::kFloat32)).sum().backward();
  expect_tensor_eq(a.grad(), tt::full({3}, 2.0, tt::kFloat32));
}

// ── 3. clamp with one bound keeps the other infinity ──────────────────────────────────────────

TEST(InPlaceGradcheck, ClampWithOneBoundKeepsInfinities) {
  for (const tt::ScalarType dtype : {tt::kFloat32, tt::kFloat64}) {
    const Tensor x = vec({-kInf, kInf, 0.5, -0.5}).to(dtype);
    expect_tensor_eq(x.clamp_max(1.0), vec({-kInf, 1.0, 0.5, -0.5}).to(dtype));
    expect_tensor_eq(x.clamp_min(0.0), vec({0.0, kInf, 0.5, 0.0}).to(dtype));
    expect_tensor_eq(x.clamp(std::nullopt, 0.0), vec({-kInf, 0.0, 0.0, -0.5}).to(dtype));
    Tensor y = x.clone();
    y.clamp_(-1.0);
    expect_tensor_eq(y, vec({-1.0, kInf, 0.5, -0.5}).to(dtype));
  }
  const Tensor a = leaf({3, 4}, 41);
  expect_gradcheck([](auto& in) { return in[0].clamp_max(0.25); }, {a});
}

// ── 4. matmul backward with K = 0 or N = 0 ────────────────────────────────────────────────────

TEST(InPlaceGradcheck, MatmulBackwardWithAZeroSizedInnerOrOuterDim) {
  // [2, 3, K] @ [K, N] and [2, 3, K] @ [K]: "cannot infer the -1 dimension next to a 0-sized one"
  // before; PyTorch returns zero gradients of the operands' shapes.
  for (const auto& [k, n] : std::vector<std::pair<int64_t, int64_t>>{{0, 4}, {4, 0}, {0, 0}}) {
    Tensor a = tt::ones({2, 3, k}, tt::kFloat64).set_requires_grad(true);
    Tensor b = tt::ones({k, n}, tt::kFloat64).set_requires_grad(true);
    a.matmul(b).sum().backward();
    expect_tensor_eq(a.grad(), tt::zeros({2, 3, k}, tt::kFloat64));
    expect_tensor_eq(b.grad(), tt::zeros({k, n}, tt::kFloat64));
  }
  Tensor a = tt::ones({2, 3, 0}, tt::kFloat64).set_requires_grad(true);
  Tensor v = tt::ones({0}, tt::kFloat64).set_requires_grad(true);
  a.matmul(v).sum().backward();
  expect_tensor_eq(a.grad(), tt::zeros({2, 3, 0}, tt::kFloat64));
  expect_tensor_eq(v.grad(), tt::zeros({0}, tt::kFloat64));
  expect_gradcheck([](auto& in) { return in[0].matmul(in[1]); },
                   {leaf({2, 3, 4}, 42), leaf({4}, 43)});
}

// ── 5. binary_cross_entropy_with_logits at an infinite logit ──────────────────────────────────

TEST(InPlace, BceWithLogitsOfAnInfiniteLogitMatchesPyTorch) {
  // PyTorch 1.13: [inf, nan, inf] for logits [inf, -inf, inf] and targets [0, 0.5, 0.5].
  const Tensor loss = tt::binary_cross_entropy_with_logits(
      vec({kInf, -kInf, kInf}), vec({0.0, 0.5, 0.5}), {}, {}, tt::Reduction::None);
  const std::vector<double> v = loss.to_vector<double>();
  EXPECT_EQ(v[0], kInf);
  EXPECT_TRUE(std::isnan(v[1]));
  EXPECT_EQ(v[2], kInf);
}

// ── 6. a second backward into a leaf with no elements ─────────────────────────────────────────

TEST(InPlace, SecondBackwardIntoAnEmptyLeaf) {
  Tensor x = tt::ones({0, 3}, tt::kFloat64).set_requires_grad(true);
  x.sum().backward();
  ASSERT_NO_THROW(x.sum().backward());
  expect_tensor_eq(x.grad(), tt::zeros({0, 3}, tt::kFloat64));
}

// ── 8. binary_cross_entropy's gradient with respect to its target ─────────────────────────────

TEST(InPlaceGradcheck, BinaryCrossEntropyTargetGradient) {
  Tensor p = view_param({0.2, 0.7}), t = view_param({0.3, 0.9});
  tt::binary_cross_entropy(p, t).backward();
  expect_tensor_eq(t.grad(), vec({0.6931471805599453, -0.42364893019360184}));  // PyTorch 1.13
  expect_tensor_eq(p.grad(), vec({-0.3125, -0.47619047619047616}));
  const Tensor x = leaf({3, 2}, 44, 0.1, 0.9), y = leaf({3, 2}, 45, 0.1, 0.9);
  for (const tt::Reduction r : {tt::Reduction::None, tt::Reduction::Sum, tt::Reduction::Mean}) {
    expect_gradcheck([r](auto& in) { return tt::binary_cross_entropy(in[0], in[1], {}, r); },
                     {x, y});
  }
}

// ── 7. writes through views: CopySlices ───────────────────────────────────────────────────────

TEST(CopySlices, WriteThroughASelectRebasesTheBase) {
  // PyTorch 1.13: x.grad = [[8, 4], [24, 8]], y.grad_fn = CopySlices.
  Tensor x = view_param({1, 2, 3, 4}, {2, 2});
  Tensor y = x * 1.0;
  Tensor v = y.select(1, 0);
  v.mul_(2.0);
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_EQ(y.grad_fn()->name(), "CopySlices");
  // The view's history is regenerated from the base's new one.
  ASSERT_NE(v.grad_fn(), nullptr);
  EXPECT_EQ(v.grad_fn()->name(), "SelectBackward0");
  EXPECT_EQ(v.grad_fn()->next_edge(0).function, y.grad_fn());
  (y * y).sum().backward();
  expect_tensor_eq(x.grad(), vec({8, 4, 24, 8}, {2, 2}));
}

// The outputs of unbind are views too: a write through one rebases the base, and every output's
// history is regenerated as its own select of the base's new history (PyTorch refuses such
// writes; replaying the select gives the one right answer instead).
TEST(CopySlicesGradcheck, WriteThroughAnUnbindOutput) {
  Tensor x = view_param({1, 2, 3, 4}, {2, 2});
  Tensor y = x * 1.0;
  std::vector<Tensor> rows = y.unbind(0);
  rows[0].mul_(3.0);
  EXPECT_EQ(y.grad_fn()->name(), "CopySlices");
  EXPECT_EQ(rows[1].grad_fn()->name(), "SelectBackward0");
  EXPECT_EQ(rows[1].grad_fn()->next_edge(0).function, y.grad_fn());
  (rows[0] * rows[1]).sum().backward();  // 3·x0·x1 per column
  expect_tensor_eq(x.grad(), vec({9, 12, 3, 6}, {2, 2}));
  expect_gradcheck(
      [](auto& in) {
        Tensor y = in[0].mul(1.0);
        std::vector<Tensor> rows = y.unbind(0);
        rows[2].add_(rows[0].exp());
        return y.mul(rows[1]);
      },
      {leaf({4, 3}, 53)});
}

// Unbind's gradient takes its input's layout: q, k, v unbound from a permuted projection give
// the projection a contiguous gradient, with no copy on the way.
TEST(CopySlices, UnbindGradientKeepsThePermutedLayout) {
  Tensor x = leaf({2, 5, 3, 4}, 54);
  Tensor y = x.mul(1.0);
  std::vector<Tensor> qkv = y.permute({2, 0, 3, 1}).unbind(0);
  const Tensor loss = (qkv[0] * qkv[1] + qkv[2]).sum();
  const Tensor g = tt::autograd::grad({loss}, {y})[0];
  EXPECT_TRUE(g.is_contiguous());
  expect_tensor_eq(g.select(2, 2), tt::ones({2, 5, 4}, tt::kFloat64));
  expect_tensor_eq(g.select(2, 0), y.select(2, 1).detach());
}

// Gradients that already are consecutive slices of one buffer (attention writes a transformer's
// q, k and v gradients so) are passed on as that buffer, not copied into a new one; any other
// set is copied, with the same values.
TEST(CopySlices, UnbindAndSplitPassOnGradientsThatAreSlicesOfOneBuffer) {
  tt::NoGradGuard no_grad;  // as in a backward pass (create_graph off)
  const Tensor buffer = tt::randn({2, 5, 3, 4}, tt::kFloat64);
  const Tensor whole = buffer.permute({2, 0, 3, 1});  // [3, 2, 4, 5], as q, k, v's base
  const std::vector<Tensor> slices = whole.unbind(0);
  const auto unbind_backward = [&](const std::vector<Tensor>& grads) {
    return tt::autograd::unbind_backward(grads, whole.sizes(), whole.strides(), 0);
  };
  const Tensor passed = unbind_backward(slices);
  EXPECT_TRUE(passed.is_alias_of(buffer));
  EXPECT_EQ(passed.strides(), whole.strides());
  expect_tensor_eq(passed, whole);
  const Tensor zero = tt::zeros({2, 4, 5}, tt::kFloat64);
  const std::vector<std::vector<Tensor>> copied = {
      {slices[1], slices[0], slices[2]},          // out of order
      {slices[0], slices[0], slices[2]},          // one slice twice
      {slices[0], slices[1].clone(), slices[2]},  // another storage
      {slices[0], Tensor(), slices[2]},           // no gradient for one output
  };
  for (const auto& grads : copied) {
    const Tensor g = unbind_backward(grads);
    EXPECT_FALSE(g.is_alias_of(buffer));
    for (int64_t i = 0; i < 3; ++i)
      expect_tensor_eq(g.select(0, i), grads[i].defined() ? grads[i] : zero);
  }
  // Every other row of a [6, 4] buffer: slices of one buffer, but with gaps between them.
  const Tensor rows = tt::randn({6, 4}, tt::kFloat64);
  const std::vector<Tensor> gapped = {rows.select(0, 0), rows.select(0, 2), rows.select(0, 4)};
  const Tensor g = tt::autograd::unbind_backward(gapped, {3, 4}, {4, 1}, 0);
  EXPECT_FALSE(g.is_alias_of(rows));
  expect_tensor_eq(g, rows.slice(0, 0, 6, 2));
  // split's backward: pieces of 2 and 3 columns of one [4, 5] buffer.
  const Tensor m = tt::randn({4, 5}, tt::kFloat64);
  const Tensor joined = tt::autograd::split_with_sizes_backward(
      {m.narrow(1, 0, 2), m.narrow(1, 2, 3)}, {4, 5}, {5, 1}, 1, {2, 3});
  EXPECT_TRUE(joined.is_alias_of(m));
  expect_tensor_eq(joined, m);
}

TEST(CopySlicesGradcheck, GradcheckSelectSliceNarrowTransposeView) {
  const Tensor a = leaf({4, 3}, 50), b = leaf({3}, 51), c = leaf({2, 3}, 52);
  const std::vector<Fn> cases = {
      [](auto& in) {  // x.select(1, 0).mul_(...)
        Tensor y = in[0].mul(1.0);
        y.select(1, 0).mul_(in[1].slice(0, 0, 1).squeeze(0));
        return y.mul(y);
      },
      [](auto& in) {  // += on a strided slice
        Tensor y = in[0].mul(2.0);
        y.slice(0, 0, 4, 2).add_(in[2]);
        return y.exp();
      },
      [](auto& in) {  // narrow, copy_ with broadcasting
        Tensor y = in[0].mul(1.0);
        y.narrow(0, 1, 2).copy_(in[1]);
        return y.mul(in[0]);
      },
      [](auto& in) {  // through a transpose, then a select of it
        Tensor y = in[0].mul(1.0);
        y.t().select(0, 2).div_(in[0].select(1, 1).add(2.0));
        return y;
      },
      [](auto& in) {  // through view(): a reshape that aliases
        Tensor y = in[0].mul(1.0);
        y.view({2, 6}).select(0, 1).sub_(in[0].view({12}).slice(0, 0, 6), 0.5);
        return y.pow(2.0);
      },
  };
  for (const Fn& f : cases) expect_gradcheck(f, {a, b, c});
}

TEST(CopySlicesGradcheck, GradcheckViewsOfViewsAndRepeatedWrites) {
  const Tensor a = leaf({4, 5}, 53), b = leaf({5}, 54);
  expect_gradcheck(
      [](auto& in) {
        Tensor y = in[0].mul(1.0);
        Tensor rows = y.slice(0, 1, 3);   // a view
        Tensor cell = rows.select(1, 2);  // a view of a view: its base is y
        cell.mul_(3.0);
        rows.add_(in[1]);                             // writes the same region again
        y.select(0, 0).mul_(y.select(0, 3).clone());  // another row, reading the base
        cell.exp_();                                  // the old view, after the base changed
        return rows.mul(cell.unsqueeze(1)).sum().add(y.sum());
      },
      {a, b});
}

TEST(CopySlicesGradcheck, TheViewStaysUsableAfterItsBaseIsWritten) {
  // PyTorch regenerates a view's grad_fn when its base's history changed (tinytorch refused to
  // use such a view before).
  const Tensor a = leaf({3, 4}, 55);
  expect_gradcheck(
      [](auto& in) {
        Tensor y = in[0].mul(1.0);
        Tensor v = y.view({2, 6});
        y.mul_(in[0]);  // recorded: v's history is stale until it is regenerated
        return v.mul(2.0);
      },
      {a});
}

TEST(CopySlicesGradcheck, AnInPlaceOpMakesTheBaseOfAPlainBufferRequireGrad) {
  // The KV cache of wave 2: a buffer that does not require grad, written slice by slice with
  // tensors that do. PyTorch 1.13: k.grad = [[20, 40]].
  Tensor k = view_param({1, 2}, {1, 2});
  Tensor cache = tt::zeros({2, 2}, tt::kFloat64);
  cache.slice(0, 0, 1).copy_(k);
  cache.select(0, 1).copy_(k.select(0, 0) * 3.0);
  EXPECT_TRUE(cache.requires_grad());
  EXPECT_FALSE(cache.is_leaf());
  EXPECT_EQ(cache.grad_fn()->name(), "CopySlices");
  (cache * cache).sum().backward();
  expect_tensor_eq(k.grad(), vec({20, 40}, {1, 2}));

  const Tensor k1 = leaf({2, 3}, 56), k2 = leaf({2, 3}, 57), q = leaf({3, 2}, 58);
  expect_gradcheck(
      [](auto& in) {
        Tensor buf = tt::zeros({4, 3}, tt::kFloat64);
        buf.slice(0, 0, 2).copy_(in[0]);
        buf.slice(0, 2, 4).copy_(in[1].mul(2.0));
        return buf.matmul(in[2]).softmax(1);
      },
      {k1, k2, q});
}

TEST(CopySlices, AViewOfABaseWrittenWithGradRequiresGrad) {
  // b.add_(w) where b has a view: the view's history is regenerated from b's new one.
  Tensor w = view_param({1, 2, 3});
  Tensor b = tt::zeros({3}, tt::kFloat64);
  Tensor v = b.slice(0, 0, 2);
  EXPECT_FALSE(v.requires_grad());
  b.add_(w);
  EXPECT_TRUE(v.requires_grad());
  (v * 5.0).sum().backward();
  expect_tensor_eq(w.grad(), vec({5, 5, 0}));
}

TEST(CopySlicesGradcheck, AsStridedViewOfAnOffsetBase) {
  const Tensor a = leaf({12}, 59);
  expect_gradcheck(
      [](auto& in) {
        Tensor y = in[0].mul(1.0);
        y.as_strided({2, 2}, {4, 1}, 1).mul_(in[0].slice(0, 0, 4).view({2, 2}));
        return y;
      },
      {a});
}

TEST(CopySlicesGradcheck, FillAndZeroThroughAView) {
  const Tensor a = leaf({3, 3}, 60);
  expect_gradcheck(
      [](auto& in) {
        Tensor y = in[0].mul(2.0);
        y.select(0, 1).zero_();
        y.slice(1, 2, 3).fill_(0.5);
        return y.mul(in[0]);
      },
      {a});
}

TEST(CopySlices, TheVersionCounterStillGuardsSavedTensors) {
  // exp saves its output; writing into a slice of it is a write to what was saved.
  Tensor x = view_param({1, 2, 3});
  Tensor y = x.exp();
  y.slice(0, 0, 1).mul_(2.0);
  TT_EXPECT_THROW_WITH(y.sum().backward(), tt::Error, "modified by an inplace operation",
                       "ExpBackward0");
  // A view that was saved (mul saves both factors) and then written through its base.
  Tensor x2 = view_param({1, 2, 3});
  Tensor base = x2 * 1.0;
  Tensor v = base.slice(0, 0, 2);
  Tensor z = v * v;
  base.add_(1.0);
  TT_EXPECT_THROW_WITH(z.sum().backward(), tt::Error, "modified by an inplace operation",
                       "MulBackward0");
}

TEST(CopySlices, RefusedCases) {
  // A view of a leaf that requires grad (PyTorch's message).
  Tensor x = view_param({1, 2, 3});
  TT_EXPECT_THROW_WITH(x.slice(0, 0, 2).mul_(2.0), tt::Error,
                       "a view of a leaf Variable that requires grad");
  // A view made with grad mode off, written with grad mode on: ambiguous, refused.
  Tensor y = x * 1.0;
  Tensor v;
  {
    tt::NoGradGuard no_grad;
    v = y.slice(0, 0, 2);
  }
  TT_EXPECT_THROW_WITH(v.mul_(2.0), tt::Error, "created in no_grad mode");
  // Both inside the guard: nothing is recorded, and that is fine.
  {
    tt::NoGradGuard no_grad;
    Tensor w = y.slice(0, 0, 2);
    w.mul_(2.0);
  }
  expect_tensor_eq(y.detach(), vec({2, 4, 3}));
}
