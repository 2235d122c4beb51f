// Module 12 — nn::MultiheadAttention: parameters (names, shapes, initialisation), the layouts
// (batch_first, unbatched), need_weights, is_causal against the equivalent bool mask, the padding
// mask, dropout in training only, float64 gradchecks for the inputs and every parameter, and the
// argument checks. PyTorch's own numbers are checked in test_reference.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "attention_test_util.h"
#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::random;

nn::MultiheadAttention make_mha(int64_t E, int64_t H, bool bias = true, double dropout = 0.0,
                                bool batch_first = true) {
  manual_seed(0);
  nn::MultiheadAttention m(nn::MultiheadAttentionOptions(E, H)
                               .bias(bias)
                               .dropout(dropout)
                               .batch_first(batch_first)
                               .dtype(kFloat64));
  const NoGradGuard no_grad;  // non-zero biases, so that the gradchecks see them
  for (Tensor p : m->parameters()) p.add_(random(p.sizes(), 99) * 0.1);
  return m;
}

TEST(MultiheadAttention, ParametersAreNamedAndShapedAsPyTorch) {
  nn::MultiheadAttention m(8, 2);
  std::vector<std::string> names;
  for (const auto& item : m->named_parameters()) names.push_back(item.key());
  EXPECT_EQ(names, (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight",
                                             "out_proj.bias"}));
  EXPECT_EQ(m->in_proj_weight.sizes(), IntArrayRef({24, 8}));
  EXPECT_TRUE(m->in_proj_bias.equal(zeros({24})));
  EXPECT_TRUE(m->out_proj->bias.equal(zeros({8})));
  // xavier_uniform_ on [3E, E]: U(±√(6 / (E + 3E))) = U(±0.433).
  EXPECT_LE(m->in_proj_weight.abs().max().item<double>(), std::sqrt(6.0 / 32.0));
  EXPECT_EQ(m->head_dim, 4);
  nn::MultiheadAttention no_bias(nn::MultiheadAttentionOptions(8, 2).bias(false));
  EXPECT_EQ(no_bias->parameters().size(), 2u);
  EXPECT_EQ(m->extra_repr(), "embed_dim=8, num_heads=2, dropout=0.0, bias=true, batch_first=false");
}

TEST(MultiheadAttention, LayoutsAgree) {
  nn::MultiheadAttention m = make_mha(6, 3);
  const Tensor x = random({2, 5, 6}, 1);
  auto [out, w] = m->forward(x, x, x);
  EXPECT_EQ(out.sizes(), IntArrayRef({2, 5, 6}));
  EXPECT_EQ(w.sizes(), IntArrayRef({2, 5, 5}));
  // Unbatched [T, E] = one sample.
  auto [one, one_w] = m->forward(x[1], x[1], x[1]);
  EXPECT_TRUE(test::tensors_match(one, out[1], 1e-12, 1e-12));
  EXPECT_TRUE(test::tensors_match(one_w, w[1], 1e-12, 1e-12));
  // Sequence-first [T, B, E].
  nn::MultiheadAttention seq = make_mha(6, 3, true, 0.0, false);
  const Tensor xt = x.transpose(0, 1);
  auto [seq_out, seq_w] = seq->forward(xt, xt, xt);
  EXPECT_TRUE(test::tensors_match(seq_out.transpose(0, 1), out, 1e-12, 1e-12));
  EXPECT_TRUE(test::tensors_match(seq_w, w, 1e-12, 1e-12));
  // Per-head weights average to the averaged ones; need_weights = false builds none.
  auto [o2, per_head] = m->forward(x, x, x, {}, true, {}, false);
  EXPECT_EQ(per_head.sizes(), IntArrayRef({2, 3, 5, 5}));
  EXPECT_TRUE(test::tensors_match(per_head.mean({1}), w, 1e-12, 1e-12));
  auto [o3, none] = m->forward(x, x, x, {}, false);
  EXPECT_FALSE(none.defined());
  EXPECT_TRUE(test::tensors_match(o3, out, 1e-12, 1e-12));
}

TEST(MultiheadAttention, IsCausalEqualsTheCausalBoolMask) {
  nn::MultiheadAttention m = make_mha(8, 2);
  const Tensor x = random({2, 6, 8}, 2);
  const Tensor future = test::causal_mask(6, 6).eq(false);  // true = not allowed (PyTorch's MHA)
  auto [a, wa] = m->forward(x, x, x, {}, true, {}, true, true);
  auto [b, wb] = m->forward(x, x, x, {}, true, future);
  EXPECT_TRUE(test::tensors_match(a, b, 1e-12, 1e-12));
  EXPECT_TRUE(test::tensors_match(wa, wb, 1e-12, 1e-12));
  // Causal: the first query attends only to itself.
  EXPECT_NEAR(wa[0][0][0].item<double>(), 1.0, 1e-12);
}

// A padding key gets no weight and changes nothing; a sample whose every key is padding gets the
// out_proj bias (zero attention), not NaN.
TEST(MultiheadAttention, PaddingKeysAreIgnored) {
  nn::MultiheadAttention m = make_mha(4, 2);
  const Tensor x = random({2, 5, 4}, 3);
  Tensor pad = zeros({2, 5}, kBool);
  pad[0].narrow(0, 3, 2).fill_(true);  // keys 3, 4 of sample 0 are padding
  pad[1].fill_(true);                  // sample 1: nothing to attend to
  auto [out, w] = m->forward(x, x, x, pad);
  EXPECT_TRUE(w[0].narrow(1, 3, 2).equal(zeros({5, 2}, kFloat64)));
  auto [short_out, short_w] = m->forward(x[0].narrow(0, 0, 3), x[0], x[0], pad[0]);
  EXPECT_TRUE(test::tensors_match(short_out, out[0].narrow(0, 0, 3), 1e-12, 1e-12));
  EXPECT_FALSE(test::has_nan(out));
  EXPECT_TRUE(test::tensors_match(out[1], m->out_proj->bias.detach().expand({5, 4}), 1e-12, 1e-12));
  EXPECT_TRUE(w[1].equal(zeros({5, 5}, kFloat64)));
}

TEST(MultiheadAttention, DropoutOnlyInTraining) {
  nn::MultiheadAttention m = make_mha(4, 2, true, 0.5);
  const Tensor x = random({2, 5, 4}, 4);
  m->eval();
  auto [a, wa] = m->forward(x, x, x);
  auto [b, wb] = m->forward(x, x, x);
  EXPECT_TRUE(a.equal(b));
  m->train();
  auto [c, wc] = m->forward(x, x, x);
  EXPECT_FALSE(c.allclose(a));
  EXPECT_TRUE(wc.allclose(wa));  // the weights are taken before dropout
}

TEST(MultiheadAttention, GradcheckInputsAndParameters) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  nn::MultiheadAttention m = make_mha(4, 2);
  const Tensor q = random({2, 3, 4}, 5).requires_grad_();
  const Tensor kv = random({2, 4, 4}, 6).requires_grad_();
  Tensor pad = zeros({2, 4}, kBool);
  pad[1][3].fill_(true);
  const Tensor bias = random({3, 4}, 7);  // an additive attn_mask
  std::vector<Tensor> inputs = {q, kv};
  for (const Tensor& p : m->parameters()) inputs.push_back(p);
  EXPECT_TRUE(test::gradcheck_ok(
      [&](const std::vector<Tensor>& in) {
        // The layer's forward reads its members, so pointing them at the gradcheck's tensors
        // makes it a function of them.
        m->in_proj_weight = in[2];
        m->in_proj_bias = in[3];
        m->out_proj->weight = in[4];
        m->out_proj->bias = in[5];
        auto [out, w] = m->forward(in[0], in[1], in[1], pad, true, bias);
        return out + w.sum();
      },
      inputs));
}

TEST(MultiheadAttentionErrors, OptionsShapesDtypesAndMasks) {
  TT_EXPECT_THROW_WITH(nn::MultiheadAttention(10, 3), ValueError,
                       "embed_dim must be divisible by num_heads", "embed_dim=10, num_heads=3");
  TT_EXPECT_THROW_WITH(nn::MultiheadAttention(0, 1), ValueError, "must be positive");
  nn::MultiheadAttention m = make_mha(4, 2);
  const Tensor x = random({2, 3, 4}, 1);
  TT_EXPECT_THROW_WITH(m->forward(random({2, 3, 5}, 1), x, x), Error, "MultiheadAttention(",
                       "embed_dim 4");
  TT_EXPECT_THROW_WITH(m->forward(random({3, 4}, 1), x, x), Error, "expected query [B, L, E]");
  TT_EXPECT_THROW_WITH(m->forward(x, random({3, 3, 4}, 1), random({3, 3, 4}, 1)), Error,
                       "batch size");
  TT_EXPECT_THROW_WITH(m->forward(x.to(kFloat32), x, x), TypeError, "the layer's dtype float64");
  TT_EXPECT_THROW_WITH(m->forward(x, x, x, zeros({2, 4}, kBool)), Error,
                       "expected key_padding_mask of shape [2, 3]");
  TT_EXPECT_THROW_WITH(m->forward(x, x, x, zeros({2, 3}, kInt64)), TypeError,
                       "key_padding_mask must be bool");
  TT_EXPECT_THROW_WITH(m->forward(x, x, x, {}, true, zeros({3, 4}, kBool)), Error,
                       "expected attn_mask of shape [L, S] = [3, 3]", "[4, 3, 3]");
}

}  // namespace
}  // namespace tinytorch
