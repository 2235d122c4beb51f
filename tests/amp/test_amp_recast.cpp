// The weight casts autocast's cache makes are not kept by the graph (autograd/saved_variable.h,
// rule 4; amp/autocast.h): a node that saves one keeps its float32 source and casts it again in
// backward. What that must and must not change, each against the same computation with the
// cache disabled (whose casts are kept as they are, as before) or with explicit casts:
//   - memory: after the region, the allocator's live bytes lack exactly the saved copies' bytes;
//   - values: the gradients are the same bits, in bfloat16 and float16, through views of the
//     cast (conv1d) and a second backward with retain_graph;
//   - a weight written in place between forward and backward is rule 3's error;
//   - create_graph: the copy made again carries the cast's grad_fn, so a gradient penalty
//     differentiates through the weight (against float64 autograd).
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "support/reference.h"
#include "tinytorch/amp/autocast.h"
#include "tinytorch/core/allocator.h"
#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
namespace ac = tinytorch::autocast;
namespace F = tinytorch::nn::functional;

namespace {

// A float32 tensor of bfloat16-representable values (so a cast to bfloat16 is exact and a
// float64 reference sees the same numbers).
tt::Tensor bf16_values(std::vector<int64_t> shape) {
  return tt::randn(shape).to(tt::kBFloat16).to(tt::kFloat32);
}

// The allocator's live bytes (core/allocator.h: the bytes handed out, no rounding).
int64_t live_bytes() {
  return tt::get_allocator()->stats().live_bytes;
}

// What one autocast forward leaves alive: inside the region (after `forward`) and after its
// end, both relative to before the region. `forward` returns the loss, which is kept.
struct ForwardBytes {
  int64_t inside = 0, after = 0;
  tt::Tensor loss;
};
ForwardBytes measure_forward(const std::function<tt::Tensor()>& forward, bool cache_enabled) {
  ForwardBytes out;
  const int64_t before = live_bytes();
  {
    const ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16, /*enabled=*/true, cache_enabled);
    out.loss = forward();
    out.inside = live_bytes() - before;
  }
  out.after = live_bytes() - before;
  return out;
}

// The parameters' gradients after `loss_of()` (under an autocast region of `dtype`, its cache on
// or off) and backward outside the region.
std::vector<tt::Tensor> gradients(tt::nn::Module& model, const std::function<tt::Tensor()>& loss_of,
                                  tt::ScalarType dtype, bool cache_enabled) {
  for (tt::Tensor& p : model.parameters()) p.mutable_grad() = tt::Tensor();
  tt::Tensor loss;
  {
    const ac::AutocastGuard guard(tt::kCPU, dtype, /*enabled=*/true, cache_enabled);
    loss = loss_of();
  }
  loss.backward();
  std::vector<tt::Tensor> grads;
  for (const tt::Tensor& p : model.parameters()) grads.push_back(p.grad().clone());
  return grads;
}

tt::nn::GPTConfig small_gpt(bool tie_weights) {
  tt::nn::GPTConfig config;
  config.vocab_size = 11;
  config.block_size = 8;
  config.n_layer = 2;
  config.n_head = 2;
  config.n_embd = 16;
  config.tie_weights = tie_weights;
  return config;
}

}  // namespace

// ── memory ──────────────────────────────────────────────────────────────────────────────────

// A GPT block under bf16 autocast: its four Linears' weights are cast once (the cache) and each
// saved by its AddmmBackward0. Inside the region the cache holds every cast (weights and
// biases); at its end they all go, the saved ones included: the graph keeps exactly the
// weights' 2 B per element less than with the cache off, where each op's own cast is saved.
TEST(AmpRecast, SavedWeightCastsDieWithTheRegion) {
  const int64_t B = 2, T = 8;
  const tt::nn::GPTConfig config = small_gpt(false);
  tt::manual_seed(0);
  tt::nn::TransformerBlock block(config, 0);
  const tt::Tensor x = tt::randn({B, T, config.n_embd});
  const auto forward = [&] { return block->forward(x).square().sum(); };
  int64_t weights = 0, biases = 0;  // the bf16 copies' bytes
  for (const tt::nn::Linear& l :
       {block->attn->c_attn, block->attn->c_proj, block->mlp->c_fc, block->mlp->c_proj}) {
    weights += l->weight.numel() * 2;
    biases += l->bias.numel() * 2;
  }
  const ForwardBytes cached = measure_forward(forward, /*cache_enabled=*/true);
  const ForwardBytes uncached = measure_forward(forward, /*cache_enabled=*/false);
  EXPECT_EQ(cached.inside - cached.after, weights + biases);  // the cache, freed at the end
  EXPECT_EQ(uncached.after - cached.after, weights);          // the saved copies, gone
  EXPECT_EQ(uncached.inside, uncached.after);  // without the cache, a bias cast dies at once
  // The same graph otherwise: backward still runs and gives the same bits (tested below).
  cached.loss.backward();
}

// conv1d runs as conv2d on weight.unsqueeze(-2), a VIEW of the cast: the node saves the view,
// and the recast copy is that view again on a new cast. The input here is a leaf that requires
// grad as well, so its cast is cached and made again too (also through an unsqueeze).
TEST(AmpRecast, AViewOfTheCastIsMadeAgainToo) {
  tt::manual_seed(1);
  tt::nn::Conv1d conv(tt::nn::Conv1dOptions(4, 6, 3).padding(1));
  const tt::Tensor x = bf16_values({2, 4, 9}).requires_grad_();
  const auto forward = [&] { return conv->forward(x).to(tt::kFloat32).square().sum(); };
  const ForwardBytes cached = measure_forward(forward, true);
  const ForwardBytes uncached = measure_forward(forward, false);
  EXPECT_EQ(uncached.after - cached.after, (conv->weight.numel() + x.numel()) * 2);
  const std::vector<tt::Tensor> on = gradients(*conv, forward, tt::kBFloat16, true);
  const std::vector<tt::Tensor> off = gradients(*conv, forward, tt::kBFloat16, false);
  ASSERT_EQ(on.size(), off.size());
  for (size_t i = 0; i < on.size(); ++i) EXPECT_TRUE(on[i].equal(off[i])) << "parameter " << i;
}

// ── values ──────────────────────────────────────────────────────────────────────────────────

// A GPT (tied embeddings: wte.weight is read by the embedding in float32 and by lm_head through
// its cast) in bfloat16 and float16: every parameter's gradient is bit for bit the one of the
// run that keeps the copies.
TEST(AmpRecast, GradientsAreTheSameBits) {
  for (const tt::ScalarType dtype : {tt::kBFloat16, tt::kHalf}) {
    SCOPED_TRACE(tt::to_string(dtype));
    const tt::nn::GPTConfig config = small_gpt(true);
    tt::manual_seed(2);
    tt::nn::GPT model(config);
    const tt::Tensor x = tt::randint(0, config.vocab_size, {2, 8}, tt::kInt64);
    const tt::Tensor y = tt::randint(0, config.vocab_size, {2, 8}, tt::kInt64);
    const auto loss_of = [&] {
      return F::cross_entropy(model->forward(x).reshape({-1, config.vocab_size}), y.reshape({-1}));
    };
    const std::vector<tt::Tensor> on = gradients(*model, loss_of, dtype, true);
    const std::vector<tt::Tensor> off = gradients(*model, loss_of, dtype, false);
    ASSERT_EQ(on.size(), off.size());
    for (size_t i = 0; i < on.size(); ++i) {
      ASSERT_TRUE(on[i].defined()) << "parameter " << i;
      EXPECT_EQ(on[i].dtype(), tt::kFloat32);
      EXPECT_TRUE(on[i].equal(off[i])) << "parameter " << i;
    }
  }
}

// Against explicit casts (no autocast, nothing cached or marked), and a second backward through
// the same graph (retain_graph): the source is cast again each time, to the same bits.
TEST(AmpRecast, MatchesExplicitCastsAndASecondBackward) {
  tt::manual_seed(3);
  tt::Tensor x = bf16_values({5, 8}).requires_grad_();
  tt::Tensor w = tt::randn({3, 8}).requires_grad_();
  tt::Tensor b = tt::randn({3}).requires_grad_();
  const tt::Tensor g = tt::randn({5, 3}).to(tt::kBFloat16);
  const auto grads = [&] {
    return std::vector<tt::Tensor>{x.grad().clone(), w.grad().clone(), b.grad().clone()};
  };
  tt::linear(x.to(tt::kBFloat16), w.to(tt::kBFloat16), b.to(tt::kBFloat16)).backward(g);
  const std::vector<tt::Tensor> explicit_casts = grads();
  for (tt::Tensor* t : {&x, &w, &b}) t->mutable_grad() = tt::Tensor();
  tt::Tensor out;
  {
    const ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16);
    out = tt::linear(x, w, b);
  }
  out.backward(g, /*retain_graph=*/true);
  const std::vector<tt::Tensor> once = grads();
  out.backward(g);
  for (size_t i = 0; i < once.size(); ++i) {
    EXPECT_TRUE(once[i].equal(explicit_casts[i])) << "argument " << i;
    EXPECT_TRUE(grads()[i].equal(once[i].mul(2))) << "argument " << i;  // accumulated twice
  }
}

// ── the in-place rule ───────────────────────────────────────────────────────────────────────

// The graph keeps the weight, not a copy of it: a weight changed between forward and backward
// (an optimizer step taken too early) would be cast again with its new values, so backward
// refuses, as it does for any saved tensor written in place. With the cache off the copy is
// kept, and backward uses it as PyTorch does (silently: the weight as it was).
TEST(AmpRecast, AWeightWrittenInPlaceBeforeBackwardIsAnError) {
  for (const bool cache_enabled : {true, false}) {
    SCOPED_TRACE(cache_enabled ? "cache on" : "cache off");
    const tt::Tensor x = tt::randn({4, 8});
    tt::Tensor w = tt::randn({3, 8}).requires_grad_();
    tt::Tensor loss;
    {
      const ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16, true, cache_enabled);
      loss = tt::linear(x, w, {}).sum();
    }
    {
      const tt::NoGradGuard no_grad;
      w.add_(1.0);  // version 0 → 1
    }
    if (cache_enabled) {
      TT_EXPECT_THROW_WITH(loss.backward(), tt::Error, "modified by an inplace operation",
                           "AddmmBackward0", "is at version 1; expected version 0");
    } else {
      loss.backward();
      EXPECT_TRUE(w.grad().defined());
    }
  }
}

// ── create_graph ────────────────────────────────────────────────────────────────────────────

// A gradient penalty through an autocast linear: y = linear(x, W, b), L = Σ y·c,
// g = ∂L/∂x = c·W (computed in backward from the saved W, recast), P = Σ g², and ∂P/∂W = 2·cᵀg
// reaches W only through the recast copy's grad_fn (the cast's ToCopyBackward0): without it, g
// would not depend on W and W.grad would stay undefined. Checked bit for bit against the run
// with the cache off (whose saved copy has that grad_fn itself) and against float64 autograd.
TEST(AmpRecast, CreateGraphDifferentiatesThroughTheWeight) {
  const int64_t N = 4, K = 8, M = 5;
  tt::manual_seed(4);
  const tt::Tensor x = bf16_values({N, K}).requires_grad_();
  tt::Tensor w = bf16_values({M, K}).requires_grad_();
  const tt::Tensor b = bf16_values({M}).requires_grad_();
  const tt::Tensor c = bf16_values({N, M});
  const auto penalty_grad = [&](bool cache_enabled) {
    w.mutable_grad() = tt::Tensor();
    tt::Tensor loss;
    {
      const ac::AutocastGuard guard(tt::kCPU, tt::kBFloat16, true, cache_enabled);
      loss = tt::linear(x, w, b).to(tt::kFloat32).mul(c).sum();
    }
    const tt::Tensor g = tt::autograd::grad({loss}, {x}, {}, /*retain_graph=*/true,
                                            /*create_graph=*/true)[0];
    EXPECT_EQ(g.dtype(), tt::kFloat32);
    g.square().sum().backward();
    EXPECT_TRUE(w.grad().defined());
    return w.grad().defined() ? w.grad().clone() : tt::Tensor();
  };
  const tt::Tensor recast = penalty_grad(true);
  const tt::Tensor kept = penalty_grad(false);
  ASSERT_TRUE(recast.defined() && kept.defined());
  EXPECT_TRUE(recast.equal(kept));

  // float64: the same function on the same (bf16-representable) numbers.
  const tt::Tensor x64 = x.detach().to(tt::kFloat64).requires_grad_();
  const tt::Tensor w64 = w.detach().to(tt::kFloat64).requires_grad_();
  const tt::Tensor c64 = c.to(tt::kFloat64);
  const tt::Tensor loss64 = tt::linear(x64, w64, b.detach().to(tt::kFloat64)).mul(c64).sum();
  const tt::Tensor g64 = tt::autograd::grad({loss64}, {x64}, {}, true, true)[0];
  g64.square().sum().backward();
  // The bound, element by element (eps = 2^-7, a bf16 rounding's relative error ≤ eps/2; the
  // float32 sums' own error, ~M·2^-24 relative, is far below). g = c·W sums M products of exact
  // bf16 values and is rounded once: |Δg| ≤ eps/2·(|c|·|W|). The backward of P casts 2g to bf16
  // (another eps/2·|2g| ≤ eps·(|c|·|W|)): |Δ(2g)| ≤ 2·eps·(|c|·|W|). Then cᵀ·(2g) sums N terms,
  // each off by |c|·|Δ(2g)|, and is rounded once: |Δ| ≤ 2·eps·(|c|ᵀ·|c|·|W|) + eps/2·|∂P/∂W|.
  // Doubled below: a margin for the float32 sums and for rounding a value that is already off.
  constexpr double eps = 0x1p-7;
  const tt::Tensor expected = w64.grad();
  const tt::Tensor bound = c64.abs().t().matmul(c64.abs().matmul(w64.detach().abs())).mul(4 * eps) +
                           expected.abs().mul(eps);
  const tt::Tensor error = recast.to(tt::kFloat64).sub(expected).abs();
  EXPECT_TRUE(error.le(bound).all().item<bool>())
      << "largest error " << error.max().item<double>() << ", its bound "
      << bound.flatten()[error.argmax()].item<double>();
  EXPECT_GT(expected.abs().max().item<double>(), 0.1);  // a penalty that is not trivially zero
}
