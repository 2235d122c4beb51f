// Module 12 — scaled_dot_product_attention and masked_fill: values against the same attention
// written with matmul + softmax, masks (bool, additive, broadcast), is_causal (L == S and the
// bottom-right L < S case), scale, fully masked rows (0, never NaN), dropout, float64 gradchecks
// for query, key, value and an additive mask, and the argument checks. PyTorch's own numbers are
// checked in test_reference.cpp.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "attention_test_util.h"
#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/native/attention.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

namespace F = tinytorch::nn::functional;
using test::random;

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Case {
  const char* name;
  std::vector<int64_t> batch;
  int64_t L, S, E, Ev;
  int mask;  // 0 none, 1 bool [L, S], 2 additive [L, S], 3 bool [batch0, 1, 1, S] padding
  bool causal;
  std::optional<double> scale;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"plain", {2, 3}, 4, 4, 5, 5, 0, false, std::nullopt},
      {"cross L<S", {2}, 3, 7, 4, 6, 0, false, std::nullopt},
      {"L>S", {3}, 6, 2, 3, 2, 0, false, std::nullopt},
      {"causal", {2, 2}, 5, 5, 4, 4, 0, true, std::nullopt},
      {"causal decode L<S", {2, 2}, 2, 7, 4, 3, 0, true, std::nullopt},
      {"causal one query", {3}, 1, 9, 4, 4, 0, true, std::nullopt},
      {"bool mask", {2, 3}, 4, 6, 3, 5, 1, false, std::nullopt},
      {"additive mask", {2}, 4, 5, 3, 3, 2, false, 0.7},
      {"padding + causal", {2, 3}, 5, 5, 4, 4, 3, true, std::nullopt},
      {"scale", {1}, 3, 3, 8, 2, 0, false, 2.5},
      {"no batch dims", {}, 3, 4, 2, 3, 1, false, std::nullopt},
  };
  return c;
}

std::vector<int64_t> dims(std::vector<int64_t> batch, std::initializer_list<int64_t> last) {
  batch.insert(batch.end(), last);
  return batch;
}

Tensor make_mask(const Case& c, uint64_t seed) {
  switch (c.mask) {
    case 1:
      return test::random_bool_mask({c.L, c.S}, seed);
    case 2:
      return random({c.L, c.S}, seed);
    case 3: {
      std::vector<int64_t> shape = {c.batch.empty() ? 1 : c.batch[0]};
      for (size_t d = 1; d < c.batch.size(); ++d) shape.push_back(1);
      shape.push_back(1);
      shape.push_back(c.S);
      return test::random_bool_mask(shape, seed, 0.8);
    }
    default:
      return {};
  }
}

// ── values ─────────────────────────────────────────────────────────────────────────────────────

TEST(Sdpa, MatchesAttentionWrittenWithMatmulAndSoftmax) {
  uint64_t seed = 1;
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    for (ScalarType dtype : {kFloat64, kFloat32}) {
      const Tensor q = random(dims(c.batch, {c.L, c.E}), seed++, dtype);
      const Tensor k = random(dims(c.batch, {c.S, c.E}), seed++, dtype);
      const Tensor v = random(dims(c.batch, {c.S, c.Ev}), seed++, dtype);
      Tensor mask = make_mask(c, seed++);
      if (mask.defined() && mask.dtype() != kBool) mask = mask.to(dtype);
      const Tensor got = scaled_dot_product_attention(q, k, v, mask, 0.0, c.causal, c.scale);
      const Tensor want = test::attention_by_hand(q, k, v, mask, c.causal, c.scale);
      const double tol = dtype == kFloat64 ? 1e-12 : 2e-5;
      EXPECT_TRUE(test::tensors_match(got, want, tol, tol)) << to_string(dtype);
    }
  }
}

TEST(Sdpa, FunctionalOptionsSpellingIsTheSameOp) {
  const Tensor q = random({2, 3, 4}, 1), k = random({2, 5, 4}, 2), v = random({2, 5, 3}, 3);
  const Tensor mask = test::random_bool_mask({3, 5}, 4);
  const Tensor a = F::scaled_dot_product_attention(
      q, k, v,
      F::ScaledDotProductAttentionFuncOptions().attn_mask(mask).is_causal(true).scale(0.3));
  const Tensor b = scaled_dot_product_attention(q, k, v, mask, 0.0, true, 0.3);
  EXPECT_TRUE(a.equal(b));
}

// The causal mask with L < S is bottom-right aligned: the last query sees every key, and the
// L queries together are the last L rows of the full L == S causal attention.
TEST(Sdpa, CausalWithFewerQueriesIsTheLastRowsOfFullCausal) {
  const int64_t S = 9, L = 3;
  const Tensor q = random({2, S, 4}, 5), k = random({2, S, 4}, 6), v = random({2, S, 4}, 7);
  const Tensor full_out = scaled_dot_product_attention(q, k, v, {}, 0.0, true);
  const Tensor tail = scaled_dot_product_attention(q.narrow(1, S - L, L), k, v, {}, 0.0, true);
  EXPECT_TRUE(test::tensors_match(tail, full_out.narrow(1, S - L, L), 1e-12, 1e-12));
  // A single query (decoding) attends to everything.
  const Tensor one = scaled_dot_product_attention(q.narrow(1, S - 1, 1), k, v, {}, 0.0, true);
  const Tensor all = scaled_dot_product_attention(q.narrow(1, S - 1, 1), k, v, {}, 0.0, false);
  EXPECT_TRUE(one.equal(all));
}

// softmax subtracts the row max: scores of ±1e4 (exp would overflow) still give a distribution.
TEST(Sdpa, HugeScoresStayFinite) {
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    const Tensor q = full({1, 2, 1}, 100.0, dtype);
    const Tensor k = tensor({{{100.0}, {99.0}, {-100.0}}}, dtype);
    const Tensor v = tensor({{{1.0}, {2.0}, {3.0}}}, dtype);
    const Tensor out = scaled_dot_product_attention(q, k, v, {}, 0.0, false, 1.0);
    // scores 1e4, 9900, −1e4: the first key takes all the weight.
    EXPECT_TRUE(test::tensors_match(out, ones({1, 2, 1}, dtype), 1e-6, 1e-6));
  }
}

// A row whose every key is masked (bool false everywhere, −∞ everywhere, or causal with L > S)
// outputs 0, and all gradients stay finite: that row contributes nothing.
// A row whose every key is masked: the forward gives 0 (Part 3), the backward 0 and no NaN
// (Part 4) — two tests, so that each part's "Test it now" runs only what that part has written.
TEST(Sdpa, FullyMaskedRowsAreZeroNeverNaN) {
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    const Tensor q = random({2, 3, 4}, 8, dtype);
    const Tensor k = random({2, 5, 4}, 9, dtype);
    const Tensor v = random({2, 5, 2}, 10, dtype);
    Tensor mask = ones({3, 5}, kBool);
    mask.select(0, 1).fill_(false);  // query row 1 may look at nothing
    Tensor additive = zeros({3, 5}, dtype);
    additive.select(0, 1).fill_(-kInf);
    for (const Tensor& m : {mask, additive}) {
      const Tensor out = scaled_dot_product_attention(q, k, v, m);
      EXPECT_TRUE(out.select(1, 1).equal(zeros({2, 2}, dtype)));
      EXPECT_TRUE(test::tensors_match(out, test::attention_by_hand(q, k, v, m), 1e-5, 1e-6));
    }
    // Causal with L > S: the first L − S queries see no key.
    const Tensor out =
        scaled_dot_product_attention(q, k.narrow(1, 0, 1), v.narrow(1, 0, 1), {}, 0.0, true);
    EXPECT_TRUE(out.narrow(1, 0, 2).equal(zeros({2, 2, 2}, dtype)));
    EXPECT_TRUE(out.select(1, 2).equal(v.select(1, 0)));
  }
}

TEST(Sdpa, GradientsOfFullyMaskedRowsAreZeroNeverNaN) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    const Tensor q = random({2, 3, 4}, 8, dtype).requires_grad_();
    const Tensor k = random({2, 5, 4}, 9, dtype).requires_grad_();
    const Tensor v = random({2, 5, 2}, 10, dtype).requires_grad_();
    Tensor mask = ones({3, 5}, kBool);
    mask.select(0, 1).fill_(false);
    Tensor additive = zeros({3, 5}, dtype);
    additive.select(0, 1).fill_(-kInf);
    for (const Tensor& m : {mask, additive}) {
      scaled_dot_product_attention(q, k, v, m).sum().backward();
      EXPECT_TRUE(q.grad().select(1, 1).equal(zeros({2, 4}, dtype)));
      for (Tensor t : {q, k, v}) {
        EXPECT_FALSE(test::has_nan(t.grad())) << "NaN in a gradient";
        t.mutable_grad() = Tensor();
      }
    }
  }
}

TEST(Sdpa, NoKeysAtAllGivesZeros) {
  const Tensor out = scaled_dot_product_attention(random({2, 3, 4}, 1), zeros({2, 0, 4}, kFloat64),
                                                  zeros({2, 0, 5}, kFloat64));
  EXPECT_TRUE(out.equal(zeros({2, 3, 5}, kFloat64)));
}

// ── gradients ──────────────────────────────────────────────────────────────────────────────────

TEST(Sdpa, GradcheckQueryKeyValue) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  uint64_t seed = 100;
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const Tensor q = random(dims(c.batch, {c.L, c.E}), seed++).requires_grad_();
    const Tensor k = random(dims(c.batch, {c.S, c.E}), seed++).requires_grad_();
    const Tensor v = random(dims(c.batch, {c.S, c.Ev}), seed++).requires_grad_();
    const Tensor mask = make_mask(c, seed++);
    EXPECT_TRUE(test::gradcheck_ok(
        [&](const std::vector<Tensor>& in) {
          return scaled_dot_product_attention(in[0], in[1], in[2], mask, 0.0, c.causal, c.scale);
        },
        {q, k, v}));
  }
}

// An additive float mask is differentiable (a learned bias), also when broadcast over batch dims.
TEST(Sdpa, GradcheckAdditiveMask) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor q = random({2, 3, 4}, 1).requires_grad_();
  const Tensor k = random({2, 5, 4}, 2).requires_grad_();
  const Tensor v = random({2, 5, 3}, 3).requires_grad_();
  for (const Tensor& m : {random({3, 5}, 4), random({2, 1, 5}, 5), random({2, 3, 5}, 6)}) {
    const Tensor mask = m.clone().requires_grad_();
    EXPECT_TRUE(test::gradcheck_ok(
        [](const std::vector<Tensor>& in) {
          return scaled_dot_product_attention(in[0], in[1], in[2], in[3], 0.0, true);
        },
        {q, k, v, mask}));
  }
}

// The gradients agree with the ones autograd derives through matmul + softmax, also in float32
// (where the fast tier may run), for a GPT-shaped causal problem.
TEST(Sdpa, GradientsMatchTheComposedOps) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    const Tensor q0 = random({2, 4, 16, 8}, 11, dtype), k0 = random({2, 4, 16, 8}, 12, dtype);
    const Tensor v0 = random({2, 4, 16, 8}, 13, dtype), g = random({2, 4, 16, 8}, 14, dtype);
    std::vector<Tensor> grads[2];
    for (int way = 0; way < 2; ++way) {
      const Tensor q = q0.clone().requires_grad_(), k = k0.clone().requires_grad_();
      const Tensor v = v0.clone().requires_grad_();
      const Tensor out = way == 0 ? scaled_dot_product_attention(q, k, v, {}, 0.0, true)
                                  : test::attention_by_hand(q, k, v, {}, true);
      (out * g).sum().backward();
      grads[way] = {q.grad(), k.grad(), v.grad()};
    }
    const double tol = dtype == kFloat64 ? 1e-10 : 1e-4;
    for (int i = 0; i < 3; ++i)
      EXPECT_TRUE(test::tensors_match(grads[0][i], grads[1][i], tol, tol));
  }
}

// ── dropout ────────────────────────────────────────────────────────────────────────────────────

TEST(Sdpa, DropoutUsesTheGlobalGenerator) {
  const Tensor q = random({2, 4, 3}, 1), k = random({2, 6, 3}, 2), v = random({2, 6, 3}, 3);
  const Tensor plain = scaled_dot_product_attention(q, k, v);
  manual_seed(7);
  const Tensor a = scaled_dot_product_attention(q, k, v, {}, 0.5);
  manual_seed(7);
  const Tensor b = scaled_dot_product_attention(q, k, v, {}, 0.5);
  EXPECT_TRUE(a.equal(b));  // same seed, same mask
  EXPECT_FALSE(a.allclose(plain));
  EXPECT_TRUE(scaled_dot_product_attention(q, k, v, {}, 1.0).equal(zeros({2, 4, 3}, kFloat64)));
}

// As PyTorch's F.scaled_dot_product_attention: dropout_p > 0 drops whether or not grad mode is on.
// Grad mode is not training mode — a module turns dropout off in eval() by passing dropout_p = 0.
TEST(Sdpa, DropoutAppliesWithoutGradModeToo) {
  const Tensor q = random({2, 4, 3}, 1), k = random({2, 6, 3}, 2), v = random({2, 6, 3}, 3);
  const Tensor plain = scaled_dot_product_attention(q, k, v);
  manual_seed(7);
  const Tensor with_grad_mode = scaled_dot_product_attention(q, k, v, {}, 0.5);
  const NoGradGuard no_grad;
  manual_seed(7);
  const Tensor without = scaled_dot_product_attention(q, k, v, {}, 0.5);
  EXPECT_FALSE(without.allclose(plain)) << "dropout_p = 0.5 under NoGradGuard dropped nothing";
  EXPECT_TRUE(without.equal(with_grad_mode)) << "the same seed must draw the same mask";
}

// With dropout the output and the gradients are those of softmax(scores) ⊙ Z · v for the mask Z
// drawn from the global generator: [*, L, S], kept with probability 1 − p and scaled by 1/(1 − p).
// (gradcheck cannot check this one: each of its evaluations would draw a fresh mask.)
TEST(Sdpa, DropoutGradientsAreThoseOfTheMaskedProduct) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const double p = 0.3;
  for (ScalarType dtype : {kFloat64, kFloat32}) {  // float32: the fast tier, when registered
    SCOPED_TRACE(to_string(dtype));
    const Tensor q0 = random({2, 3, 4}, 1, dtype), k0 = random({2, 5, 4}, 2, dtype);
    const Tensor v0 = random({2, 5, 3}, 3, dtype), g = random({2, 3, 3}, 4, dtype);
    std::vector<Tensor> grads[2];
    Tensor outs[2];
    for (int way = 0; way < 2; ++way) {
      const Tensor q = q0.clone().requires_grad_(), k = k0.clone().requires_grad_();
      const Tensor v = v0.clone().requires_grad_();
      manual_seed(3);
      if (way == 0) {
        outs[way] = scaled_dot_product_attention(q, k, v, {}, p, true);
      } else {  // the same draw as the op's: rand of the scores' shape and the query's dtype
        const Tensor z = (rand({2, 3, 5}, dtype) >= p).to(dtype) / (1.0 - p);
        const Tensor c = test::causal_mask(3, 5);
        const Tensor scores = masked_fill(q.matmul(k.transpose(-2, -1)) / 2.0, c.eq(false), -kInf);
        outs[way] = (scores.softmax(-1) * z).matmul(v);
      }
      (outs[way] * g).sum().backward();
      grads[way] = {q.grad(), k.grad(), v.grad()};
    }
    const double tol = dtype == kFloat64 ? 1e-12 : 1e-5;
    EXPECT_TRUE(test::tensors_match(outs[0], outs[1], tol, tol));
    for (int i = 0; i < 3; ++i)
      EXPECT_TRUE(test::tensors_match(grads[0][i], grads[1][i], tol, tol));
  }
}

// The kernels read strided rows in place (kernels::Rows): only the addressing differs from the
// same values made contiguous, so the results must be bitwise equal — for float64 (the reference
// kernels) and float32 (the fast tier, when registered). q, k, v are a transformer's heads (one
// [B, T, 3, H, hd] projection, permuted), or slices of bigger buffers (the KV cache's case); an
// innermost stride other than 1 (a transposed view) takes the contiguous copy instead.
TEST(Sdpa, StridedInputsGiveTheSameBitsAsContiguousOnes) {
  const int64_t B = 2, T = 7, H = 3, hd = 5;
  for (ScalarType dtype : {kFloat64, kFloat32}) {
    SCOPED_TRACE(to_string(dtype));
    const std::vector<Tensor> heads =
        random({B, T, 3, H, hd}, 1, dtype).permute({2, 0, 3, 1, 4}).unbind(0);
    const Tensor big = random({B, H, T + 4, hd + 3}, 2, dtype);
    const Tensor sliced = big.slice(2, 2, T + 2).slice(3, 1, hd + 1);  // rows hd + 3 apart
    const Tensor transposed = random({B, H, hd, T}, 3, dtype).transpose(-2, -1);
    const Tensor grad = random({B, T, H, hd}, 4, dtype).transpose(1, 2);  // merge_heads' gradient
    const Tensor mask = random({T, T}, 5, dtype);
    const std::vector<std::array<Tensor, 3>> ways = {
        {heads[0], heads[1], heads[2]}, {heads[0], sliced, sliced}, {transposed, heads[1], sliced}};
    for (const auto& [q, k, v] : ways) {
      ASSERT_FALSE(q.is_contiguous() && k.is_contiguous());
      const auto [out, lse] =
          native::scaled_dot_product_attention_forward(q, k, v, mask, {}, true, 0.5);
      const Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
      const auto [out_c, lse_c] =
          native::scaled_dot_product_attention_forward(qc, kc, vc, mask, {}, true, 0.5);
      EXPECT_TRUE(out.equal(out_c));
      EXPECT_TRUE(lse.equal(lse_c));
      const auto got = native::scaled_dot_product_attention_backward(
          grad, q, k, v, mask, {}, out, lse, true, 0.5, {true, true, true, false});
      const auto want = native::scaled_dot_product_attention_backward(
          grad.contiguous(), qc, kc, vc, mask, {}, out_c.contiguous(), lse_c, true, 0.5,
          {true, true, true, false});
      EXPECT_TRUE(std::get<0>(got).equal(std::get<0>(want)));
      EXPECT_TRUE(std::get<1>(got).equal(std::get<1>(want)));
      EXPECT_TRUE(std::get<2>(got).equal(std::get<2>(want)));
    }
  }
}

// The output is laid out in the query's dim order: for a transformer's head q [B, H, T, hd] that
// is [B, T, H, hd] memory, so merge_heads' out.transpose(1, 2).reshape({B, T, H·hd}) is a view.
TEST(Sdpa, OutputOfTransformerHeadsMergesWithoutACopy) {
  const int64_t B = 2, T = 6, H = 4, hd = 8;
  for (ScalarType dtype : {kFloat64, kFloat32}) {
    SCOPED_TRACE(to_string(dtype));
    const std::vector<Tensor> heads =
        random({B, T, 3, H, hd}, 1, dtype).permute({2, 0, 3, 1, 4}).unbind(0);
    const Tensor out = scaled_dot_product_attention(heads[0], heads[1], heads[2], {}, 0.0, true);
    EXPECT_EQ(out.sizes(), IntArrayRef({B, H, T, hd}));
    const Tensor merged = out.transpose(1, 2).reshape({B, T, H * hd});
    EXPECT_TRUE(merged.is_alias_of(out));
    EXPECT_EQ(merged.data_ptr(), out.data_ptr());
    // A contiguous query still gives a contiguous output.
    const Tensor q = heads[0].contiguous();
    EXPECT_TRUE(scaled_dot_product_attention(q, q, q, {}, 0.0, true).is_contiguous());
  }
}

// A transformer's heads unbound from one projection: with the fast kernels, the backward writes
// q's, k's and v's gradients into one buffer laid out like the projection, and unbind's backward
// passes that buffer on (no copy); the gradient is the one three separate heads get.
TEST(Sdpa, HeadsOfOneProjectionGetTheirGradientsInOneBuffer) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const int64_t B = 2, T = 5, H = 2, hd = 8;
  const auto options = F::ScaledDotProductAttentionFuncOptions().is_causal(true);
  const Tensor x = random({B, T, 3 * H * hd}, 1, kFloat32).requires_grad_();
  const std::vector<Tensor> heads = x.view({B, T, 3, H, hd}).permute({2, 0, 3, 1, 4}).unbind(0);
  const Tensor seed = random({B, H, T, hd}, 2, kFloat32);
  const Tensor out = F::scaled_dot_product_attention(heads[0], heads[1], heads[2], options);
  const Tensor shared = autograd::grad({out}, {x}, {seed})[0];
  std::vector<Tensor> separate;
  for (const Tensor& h : heads) separate.push_back(h.detach().contiguous().requires_grad_());
  const std::vector<Tensor> g = autograd::grad(
      {F::scaled_dot_product_attention(separate[0], separate[1], separate[2], options)}, separate,
      {seed});
  EXPECT_TRUE(shared.equal(stack(g, 0).permute({1, 3, 0, 2, 4}).reshape({B, T, 3 * H * hd})));
  // The buffer itself, from the op: gq, gk, gv are slices 0, 1, 2 of one [B, T, 3, H, hd].
  const auto [o, lse] =
      native::scaled_dot_product_attention_forward(heads[0], heads[1], heads[2], {}, {}, true, 0.5);
  const auto [gq, gk, gv, gs] = native::scaled_dot_product_attention_backward(
      seed, heads[0].detach(), heads[1].detach(), heads[2].detach(), {}, {}, o, lse, true, 0.5,
      {true, true, true, false});
  const bool fast = kernels::fast_kernels().attention.backward != nullptr;
  EXPECT_EQ(gq.is_alias_of(gk) && gk.is_alias_of(gv), fast);
  if (fast) {
    EXPECT_EQ(gq.strides(), heads[0].strides());
    EXPECT_EQ(gk.data_ptr<float>() - gq.data_ptr<float>(), H * hd);  // the next third of a row
  }
}

// ── masked_fill ────────────────────────────────────────────────────────────────────────────────

TEST(MaskedFill, FillsWhereTrueBroadcastingTheMask) {
  const Tensor x = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
  const Tensor mask = tensor({false, true, false});
  EXPECT_TRUE(
      masked_fill(x, mask, -kInf).equal(tensor({{1.0, -kInf, 3.0}, {4.0, -kInf, 6.0}}, kFloat32)));
  const Tensor ints = tensor({{1, 2}, {3, 4}});
  EXPECT_TRUE(
      masked_fill(ints, tensor({{true, false}, {false, true}}), 0).equal(tensor({{0, 2}, {3, 0}})));
}

TEST(MaskedFill, Gradcheck) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 4}, 1).requires_grad_();
  const Tensor mask = test::random_bool_mask({4}, 2, 0.5);
  EXPECT_TRUE(test::gradcheck_ok(
      [&](const std::vector<Tensor>& in) { return masked_fill(in[0], mask, 2.5).exp(); }, {x}));
  masked_fill(x, mask, 0.0).sum().backward();
  EXPECT_TRUE(x.grad().equal(where(mask, zeros({3, 4}, kFloat64), ones({3, 4}, kFloat64))));
}

// ── the argument checks ────────────────────────────────────────────────────────────────────────

TEST(SdpaErrors, ShapesRanksDtypesAndMasks) {
  const Tensor q = random({2, 3, 4}, 1), k = random({2, 5, 4}, 2), v = random({2, 5, 6}, 3);
  TT_EXPECT_THROW_WITH(scaled_dot_product_attention(random({4}, 1), k, v), Error,
                       "scaled_dot_product_attention", "[*, L, E]");
  TT_EXPECT_THROW_WITH(scaled_dot_product_attention(q, random({5, 4}, 2), v), Error,
                       "same number of dims");
  TT_EXPECT_THROW_WITH(scaled_dot_product_attention(q, random({2, 5, 3}, 2), v), Error,
                       "same last dim E", "[2, 5, 3]");
  TT_EXPECT_THROW_WITH(scaled_dot_product_attention(q, k, random({2, 4, 6}, 3)), Error,
                       "same number of positions S");
  TT_EXPECT_THROW_WITH(scaled_dot_product_attention(q, random({3, 5, 4}, 2), random({3, 5, 6}, 3)),
                       Error, "batch dims");
  TT_EXPECT_THROW_WITH(scaled_dot_product_attention(q, k.to(kFloat32), v), TypeError,
                       "one floating-point dtype");
  TT_EXPECT_THROW_WITH(scaled_dot_product_attention(q.to(kInt64), k.to(kInt64), v.to(kInt64)),
                       TypeError, "one floating-point dtype");
  TT_EXPECT_THROW_WITH(scaled_dot_product_attention(q, k, v, zeros({3, 4}, kBool)), Error,
                       "attn_mask of shape [3, 4] cannot be broadcast", "[2, 3, 5]");
  TT_EXPECT_THROW_WITH(scaled_dot_product_attention(q, k, v, zeros({3, 5}, kInt64)), TypeError,
                       "attn_mask must be bool");
  TT_EXPECT_THROW_WITH(scaled_dot_product_attention(q, k, v, zeros({3, 5}, kFloat32)), TypeError,
                       "attn_mask must be bool");
  TT_EXPECT_THROW_WITH(scaled_dot_product_attention(q, k, v, {}, 1.5), ValueError,
                       "dropout_p must be in [0, 1]");
  TT_EXPECT_THROW_WITH(scaled_dot_product_attention(q, k, v, {}, 0.0, false, kInf), ValueError,
                       "scale must be finite");
}

TEST(MaskedFillErrors, MaskDtypeAndShape) {
  const Tensor x = random({2, 3}, 1);
  TT_EXPECT_THROW_WITH(masked_fill(x, zeros({3}, kInt64), 0.0), TypeError,
                       "masked_fill: expected a bool mask");
  TT_EXPECT_THROW_WITH(masked_fill(x, zeros({2}, kBool), 0.0), Error,
                       "masked_fill: the mask of shape [2] cannot be broadcast", "[2, 3]");
  TT_EXPECT_THROW_WITH(masked_fill(tensor({1, 2}), tensor({true, false}), 0.5), TypeError,
                       "masked_fill: cannot fill a int64 tensor");
}

}  // namespace
}  // namespace tinytorch
