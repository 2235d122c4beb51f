// Module 12 — hidden (grader) tests: randomized properties the visible tests do not spell out.
// Random batch dims, lengths, head sizes and broadcast mask shapes against the attention written
// with matmul + softmax; non-contiguous inputs (the transposed views multi-head attention makes);
// both kernel tiers (the learner's reference loops forced, and the fast tier) agreeing; the same
// answer on 1 and 3 threads; scale 0 (a plain average); a −1e9 mask acting as −∞; the saved output
// guarded by the version counter; an additive mask's gradient summed over its broadcast dims;
// MultiheadAttention with additive masks, per-head masks and a state_dict round trip.
// Seeds are fixed, so failures reproduce; each names its trial. The checks are graded ones
// (tests/support/graded.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../tests/attention_test_util.h"
#include "support/graded.h"
#include "support/reference.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::random;
using test::graded::identical;
using I = std::vector<int64_t>;

struct Trial {
  I batch;
  int64_t L, S, E, Ev;
  bool causal;
  Tensor mask;
};

Trial random_trial(std::mt19937& rng, uint64_t seed) {
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  Trial t;
  const int64_t dims = pick(0, 3);
  for (int64_t d = 0; d < dims; ++d) t.batch.push_back(pick(1, 3));
  t.L = pick(1, 9);
  t.S = pick(1, 9);
  t.E = pick(1, 7);
  t.Ev = pick(1, 6);
  t.causal = pick(0, 1) == 1;
  // A mask broadcast from a random subset of [*batch, L, S] (each dim kept or 1, leading dims
  // dropped), bool or additive.
  const int64_t kind = pick(0, 2);
  if (kind > 0) {
    I full = t.batch;
    full.push_back(t.L);
    full.push_back(t.S);
    I shape(full.begin() + pick(0, static_cast<int64_t>(t.batch.size())), full.end());
    for (int64_t& s : shape) s = pick(0, 2) == 0 ? 1 : s;
    t.mask = kind == 1 ? test::random_bool_mask(shape, seed, 0.75) : random(shape, seed);
  }
  return t;
}

I dims(I batch, std::initializer_list<int64_t> last) {
  batch.insert(batch.end(), last);
  return batch;
}

TEST(HiddenSdpa, RandomShapesAndMasksMatchTheComposedOpsOnBothTiers) {
  std::mt19937 rng(12);
  for (int trial = 0; trial < 40; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const Trial t = random_trial(rng, 500 + trial);
    const Tensor q = random(dims(t.batch, {t.L, t.E}), 3 * trial + 1);
    const Tensor k = random(dims(t.batch, {t.S, t.E}), 3 * trial + 2);
    const Tensor v = random(dims(t.batch, {t.S, t.Ev}), 3 * trial + 3);
    Tensor want;
    TT_GRADE_EXPECTED_ONLY(want = test::attention_by_hand(q, k, v, t.mask, t.causal));
    {
      const kernels::TierGuard reference(kernels::Tier::kReference);
      TT_GRADE_TENSOR(scaled_dot_product_attention(q, k, v, t.mask, 0.0, t.causal), want, 1e-12,
                      1e-12);
    }
    // float32: the fast tier (when registered) against the reference loops.
    const Tensor mask32 =
        t.mask.defined() && t.mask.dtype() != kBool ? t.mask.to(kFloat32) : t.mask;
    const Tensor fast = scaled_dot_product_attention(q.to(kFloat32), k.to(kFloat32), v.to(kFloat32),
                                                     mask32, 0.0, t.causal);
    Tensor slow;
    {
      const kernels::TierGuard reference(kernels::Tier::kReference);
      slow = scaled_dot_product_attention(q.to(kFloat32), k.to(kFloat32), v.to(kFloat32), mask32,
                                          0.0, t.causal);
    }
    // Both tiers against the reference solution's reference tier.
    TT_GRADE_SAME_AS_REFERENCE(slow, 1e-5, 1e-5);
    TT_GRADE_TENSOR(fast, slow, 1e-5, 1e-5);
  }
}

TEST(HiddenSdpa, RandomGradchecksIncludingTheMask) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  std::mt19937 rng(21);
  for (int trial = 0; trial < 12; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    Trial t = random_trial(rng, 900 + trial);
    std::vector<Tensor> in = {random(dims(t.batch, {t.L, t.E}), trial + 1).requires_grad_(),
                              random(dims(t.batch, {t.S, t.E}), trial + 2).requires_grad_(),
                              random(dims(t.batch, {t.S, t.Ev}), trial + 3).requires_grad_()};
    const bool mask_grad = t.mask.defined() && t.mask.dtype() != kBool;
    if (mask_grad) in.push_back(t.mask.clone().requires_grad_());
    const auto fn = [&](const std::vector<Tensor>& x) {
      return scaled_dot_product_attention(x[0], x[1], x[2], mask_grad ? x[3] : t.mask, 0.0,
                                          t.causal, 0.8);
    };
    TT_GRADE_TRUE(test::gradcheck_ok(fn, in));
    // And the gradients themselves, as the reference solution computes them.
    for (const auto& g : autograd::grad({fn(in).sum()}, in)) {
      TT_GRADE_SAME_AS_REFERENCE(g, 1e-10, 1e-12);
    }
  }
}

// Multi-head attention hands the kernels transposed views ([B, T, H, d] → [B, H, T, d]).
TEST(HiddenSdpa, NonContiguousInputs) {
  for (ScalarType dtype : {kFloat64, kFloat32}) {
    const Tensor q = random({2, 5, 3, 4}, 1, dtype).transpose(1, 2);
    const Tensor k = random({2, 7, 3, 4}, 2, dtype).transpose(1, 2);
    const Tensor v = random({2, 3, 6, 7}, 3, dtype).transpose(-2, -1);  // [2, 3, 7, 6]
    ASSERT_FALSE(q.is_contiguous());
    const Tensor got = scaled_dot_product_attention(q, k, v, {}, 0.0, true);
    const Tensor want =
        scaled_dot_product_attention(q.contiguous(), k.contiguous(), v.contiguous(), {}, 0.0, true);
    TT_GRADE_TRUE(identical(got, want)) << "a transposed view, and its contiguous copy";
    TT_GRADE_SAME_AS_REFERENCE(want, dtype == kFloat64 ? 1e-12 : 1e-5, 1e-6);
  }
}

TEST(HiddenSdpa, SameAnswerOnOneAndThreeThreads) {
  const Tensor q = random({8, 4, 70, 32}, 1, kFloat32), k = random({8, 4, 70, 32}, 2, kFloat32);
  const Tensor v = random({8, 4, 70, 32}, 3, kFloat32);
  set_num_threads(1);
  const Tensor one = scaled_dot_product_attention(q, k, v, {}, 0.0, true);
  set_num_threads(3);
  const Tensor three = scaled_dot_product_attention(q, k, v, {}, 0.0, true);
  set_num_threads(0);
  TT_GRADE_TRUE(identical(one, three)) << "1 and 3 threads";
  TT_GRADE_SAME_AS_REFERENCE(one, 1e-5, 1e-5);
}

TEST(HiddenSdpa, ScaleZeroAveragesAndLargeNegativeMaskActsLikeInfinity) {
  const Tensor q = random({2, 3, 4}, 1), k = random({2, 5, 4}, 2), v = random({2, 5, 3}, 3);
  const Tensor avg = scaled_dot_product_attention(q, k, v, {}, 0.0, false, 0.0);
  TT_GRADE_TENSOR(avg, v.mean({1}, true).expand({2, 3, 3}), 1e-12, 1e-12);
  Tensor big = zeros({3, 5}, kFloat64);
  big.narrow(1, 3, 2).fill_(-1e9);
  const Tensor allowed = arange(5).reshape({1, 5}) < 3;
  TT_GRADE_TENSOR(scaled_dot_product_attention(q, k, v, big),
                  scaled_dot_product_attention(q, k, v, allowed), 1e-12, 1e-12);
}

TEST(HiddenSdpa, SavedOutputIsGuardedByTheVersionCounter) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  const Tensor q = random({2, 3, 4}, 1).requires_grad_();
  Tensor out = scaled_dot_product_attention(q, random({2, 3, 4}, 2), random({2, 3, 4}, 3));
  {
    const NoGradGuard no_grad;
    out.add_(1.0);
  }
  TT_GRADE_THROW_WITH(out.sum().backward(), Error, "version");
}

TEST(HiddenSdpa, BroadcastMaskGradientIsSummedOverItsBroadcastDims) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  const Tensor q = random({2, 3, 4, 5}, 1), k = random({2, 3, 6, 5}, 2),
               v = random({2, 3, 6, 2}, 3);
  const Tensor g = random({2, 3, 4, 2}, 4);
  const Tensor m0 = random({2, 1, 1, 6}, 5);
  // The mask's gradient through the kernel, or through the composed ops.
  const auto mask_grad = [&](bool by_hand) {
    const Tensor m = m0.clone().requires_grad_();
    const Tensor out =
        by_hand ? test::attention_by_hand(q, k, v, m) : scaled_dot_product_attention(q, k, v, m);
    (out * g).sum().backward();
    return m.grad();
  };
  const Tensor got = mask_grad(false);
  Tensor want;
  TT_GRADE_EXPECTED_ONLY(want = mask_grad(true));
  TT_GRADE_EQ(got.sizes(), IntArrayRef({2, 1, 1, 6}));
  TT_GRADE_TENSOR(got, want, 1e-10, 1e-10);
}

// m's forward (embed 6, 2 heads of 3) by hand: the projections, heads, masks summed, softmax,
// merge, out_proj. Returns the output and the attention weights.
std::pair<Tensor, Tensor> mha_by_hand(const nn::MultiheadAttention& m, const Tensor& q,
                                      const Tensor& kv, const Tensor& pad, const Tensor& per_head) {
  const Tensor W = m->in_proj_weight, b = m->in_proj_bias;
  auto proj = [&](const Tensor& x, int64_t i, int64_t T) {
    return linear(x, W.narrow(0, 6 * i, 6), b.narrow(0, 6 * i, 6))
        .reshape({2, T, 2, 3})
        .transpose(1, 2);
  };
  const Tensor mask = per_head.reshape({2, 2, 3, 4}) + pad.reshape({2, 1, 1, 4});
  const Tensor scores =
      proj(q, 0, 3).matmul(proj(kv, 1, 4).transpose(-2, -1)) / std::sqrt(3.0) + mask;
  const Tensor p = scores.softmax(-1);
  return {m->out_proj->forward(p.matmul(proj(kv, 2, 4)).transpose(1, 2).reshape({2, 3, 6})), p};
}

TEST(HiddenMultiheadAttention, AdditiveAndPerHeadMasksMatchTheComposedLayer) {
  nn::MultiheadAttention m(nn::MultiheadAttentionOptions(6, 2).batch_first(true).dtype(kFloat64));
  {
    // Weights drawn here, not by the initializers, so that the answer is the reference's too.
    const NoGradGuard no_grad;
    Generator gen(3);
    for (Tensor& p : m->parameters()) p.copy_(randn(p.sizes(), p.dtype(), &gen));
  }
  const Tensor q = random({2, 3, 6}, 1), kv = random({2, 4, 6}, 2);
  const Tensor pad = random({2, 4}, 3), per_head = random({4, 3, 4}, 4);
  auto [out, w] = m->forward(q, kv, kv, pad, true, per_head, false);
  Tensor want, p;
  TT_GRADE_EXPECTED_ONLY(std::tie(want, p) = mha_by_hand(m, q, kv, pad, per_head));
  TT_GRADE_TENSOR(out, want, 1e-12, 1e-12);
  TT_GRADE_TENSOR(w, p, 1e-12, 1e-12);
}

TEST(HiddenMultiheadAttention, StateDictRoundTrip) {
  manual_seed(1);
  nn::MultiheadAttention a(nn::MultiheadAttentionOptions(8, 4).batch_first(true).dtype(kFloat64));
  manual_seed(2);
  nn::MultiheadAttention b(nn::MultiheadAttentionOptions(8, 4).batch_first(true).dtype(kFloat64));
  const Tensor x = random({2, 5, 8}, 3);
  TT_GRADE_FALSE(std::get<0>(a->forward(x, x, x)).allclose(std::get<0>(b->forward(x, x, x))));
  b->load_state_dict(a->state_dict());
  TT_GRADE_TRUE(std::get<0>(a->forward(x, x, x)).equal(std::get<0>(b->forward(x, x, x))));
}

}  // namespace
}  // namespace tinytorch
