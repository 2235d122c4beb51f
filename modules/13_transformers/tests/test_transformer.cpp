// Module 13 — the GPT model (Parts 1–4 of the chapter): shapes and parameter names, the parameter
// count formula, the causal property, weight tying, dropout only in training, state_dict
// round trips, float64 gradchecks of a whole TransformerBlock and of the GPT loss, a tiny GPT
// memorising a sequence, and every error message.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "gpt_test_util.h"
#include "support/prerequisites.h"
#include "support/reference.h"
#include "support/temp_dir.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/serialize/archive.h"

namespace tinytorch {
namespace {

namespace F = nn::functional;
using test::random_ids;
using test::seeded_gpt;
using test::tiny_config;

// The cross-entropy of next-token prediction: logits [B, T, V] against targets [B, T].
Tensor lm_loss(const Tensor& logits, const Tensor& targets) {
  return F::cross_entropy(logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}));
}

// ── Part 1–3: shapes, names, counts ──────────────────────────────────────────────────────────

TEST(GPT, ForwardMapsTokenIdsToLogitsPerPosition) {
  nn::GPT model = seeded_gpt(tiny_config());
  const Tensor logits = model(random_ids(3, 5, 13, 1));
  EXPECT_EQ(logits.sizes(), IntArrayRef({3, 5, 13}));
  EXPECT_EQ(logits.dtype(), kFloat32);
  for (const float v : logits.to_vector<float>()) ASSERT_TRUE(std::isfinite(v));
  // A full block_size context works; one position is enough too.
  EXPECT_EQ(model(random_ids(1, 8, 13, 2)).sizes(), IntArrayRef({1, 8, 13}));
  EXPECT_EQ(model(random_ids(2, 1, 13, 3)).sizes(), IntArrayRef({2, 1, 13}));
}

TEST(GPT, ParameterNamesAndShapesAreNanoGPTs) {
  nn::GPT model = seeded_gpt(tiny_config());
  const auto params = model->named_parameters();
  const std::vector<std::pair<std::string, std::vector<int64_t>>> expected = {
      {"wte.weight", {13, 16}},
      {"wpe.weight", {8, 16}},
      {"h.0.ln_1.weight", {16}},
      {"h.0.ln_1.bias", {16}},
      {"h.0.attn.c_attn.weight", {48, 16}},
      {"h.0.attn.c_attn.bias", {48}},
      {"h.0.attn.c_proj.weight", {16, 16}},
      {"h.0.attn.c_proj.bias", {16}},
      {"h.0.ln_2.weight", {16}},
      {"h.0.ln_2.bias", {16}},
      {"h.0.mlp.c_fc.weight", {64, 16}},
      {"h.0.mlp.c_fc.bias", {64}},
      {"h.0.mlp.c_proj.weight", {16, 64}},
      {"h.0.mlp.c_proj.bias", {16}},
      {"h.1.attn.c_attn.weight", {48, 16}},
      {"ln_f.weight", {16}},
      {"ln_f.bias", {16}},
      {"lm_head.weight", {13, 16}},
  };
  for (const auto& [name, shape] : expected) {
    const Tensor* p = params.find(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->sizes(), IntArrayRef(shape)) << name;
    EXPECT_TRUE(p->requires_grad()) << name;
  }
  EXPECT_EQ(params.find("lm_head.bias"), nullptr) << "lm_head has no bias";
  EXPECT_EQ(params.size(), 4u + 12u * 2u + 1u);
}

TEST(GPT, InitialisationIsGPT2s) {
  nn::GPTConfig c = tiny_config();
  c.n_embd = 64;
  c.vocab_size = 200;
  nn::GPT model = seeded_gpt(c);
  auto stddev = [](const Tensor& t) { return std::sqrt(t.var().item<double>()); };
  EXPECT_NEAR(stddev(model->wte->weight), 0.02, 0.002);
  EXPECT_NEAR(stddev(model->blocks[0]->mlp->c_fc->weight), 0.02, 0.002);
  // Residual projections: 0.02 / √(2·n_layer) = 0.01 for two layers.
  EXPECT_NEAR(stddev(model->blocks[1]->mlp->c_proj->weight), 0.01, 0.001);
  EXPECT_EQ(model->blocks[0]->attn->c_attn->bias.abs().max().item<double>(), 0.0);
  EXPECT_EQ(model->ln_f->weight.min().item<double>(), 1.0);
}

// 12·L·d² + 13·L·d (the blocks: weights and biases, two LayerNorms) + V·d + T·d + 2·d (ln_f),
// plus V·d again for an untied lm_head.
int64_t formula(const nn::GPTConfig& c, bool tied) {
  const int64_t L = c.n_layer, d = c.n_embd, V = c.vocab_size, T = c.block_size;
  return 12 * L * d * d + 13 * L * d + V * d + T * d + 2 * d + (tied ? 0 : V * d);
}

TEST(GPT, ParameterCountMatchesTheFormula) {
  for (const bool tied : {false, true}) {
    nn::GPTConfig c = tiny_config();
    c.tie_weights = tied;
    nn::GPT model = seeded_gpt(c);
    EXPECT_EQ(model->num_parameters(), formula(c, tied)) << "tied " << tied;
    EXPECT_EQ(model->num_parameters(/*non_embedding=*/true), formula(c, tied) - 8 * 16);
  }
  nn::GPTConfig c = tiny_config();
  c.bias = false;
  nn::GPT no_bias = seeded_gpt(c);
  // Without the Linears' biases: 9·d per block (3d + d + 4d + d) fewer.
  EXPECT_EQ(no_bias->num_parameters(), formula(c, false) - 2 * 9 * 16);
}

TEST(GPT, PrintsItsTree) {
  nn::GPT model = seeded_gpt(tiny_config());
  const std::string s = model->to_string();
  EXPECT_NE(s.find("GPT("), std::string::npos) << s;
  // Python's layout: a module with children prints its extra_repr on a line of its own.
  EXPECT_NE(s.find("(attn): CausalSelfAttention(\n        n_embd=16, n_head=2\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("(lm_head): Linear(in_features=16, out_features=13, bias=false)"),
            std::string::npos)
      << s;
}

// ── Part 2: causality ────────────────────────────────────────────────────────────────────────

TEST(GPT, ChangingAFutureTokenDoesNotChangeEarlierLogits) {
  nn::GPT model = seeded_gpt(tiny_config());
  model->eval();
  const Tensor idx = random_ids(2, 8, 13, 5);
  const Tensor changed = idx.clone();
  changed.select(1, 5).copy_((idx.select(1, 5) + 1) -
                             (idx.select(1, 5) + 1).ge(13).to(kInt64) * 13);
  const Tensor a = model(idx), b = model(changed);
  // Positions 0..4 cannot see position 5: their logits are the same.
  TT_EXPECT_TENSOR_EQ(b.narrow(1, 0, 5), a.narrow(1, 0, 5), 1e-6, 1e-6);
  // Positions 5..7 do see it.
  for (int64_t t = 5; t < 8; ++t) {
    EXPECT_GT((a.select(1, t) - b.select(1, t)).abs().max().item<double>(), 1e-4) << t;
  }
}

TEST(GPT, EachPositionIsTheLogitsOfItsPrefix) {
  // The logits at position t are the model's answer for the prefix idx[:, 0..t] alone.
  nn::GPT model = seeded_gpt(tiny_config());
  const Tensor idx = random_ids(1, 7, 13, 6);
  const Tensor full = model(idx);
  for (const int64_t t : {0, 3, 6}) {
    const Tensor prefix = model(idx.narrow(1, 0, t + 1));
    TT_EXPECT_TENSOR_EQ(prefix.select(1, t), full.select(1, t), 1e-5, 1e-6);
  }
}

// ── Part 3: weight tying, dropout, state_dict ────────────────────────────────────────────────

TEST(GPT, TiedWeightsAreOneParameter) {
  nn::GPTConfig c = tiny_config();
  c.tie_weights = true;
  nn::GPT model = seeded_gpt(c);
  EXPECT_TRUE(model->lm_head->weight.is_same(model->wte->weight));
  const auto params = model->named_parameters();
  EXPECT_NE(params.find("wte.weight"), nullptr);
  EXPECT_EQ(params.find("lm_head.weight"), nullptr) << "listed once, under its first name";
  // The state_dict keeps both names (as PyTorch's), both aliasing the one tensor.
  const auto sd = model->state_dict();
  ASSERT_NE(sd.find("lm_head.weight"), nullptr);
  EXPECT_TRUE(sd.find("lm_head.weight")->is_alias_of(*sd.find("wte.weight")));
  // Writing through one name changes the other.
  {
    const NoGradGuard no_grad;
    model->wte->weight.select(0, 3).fill_(0.5);
  }
  EXPECT_EQ(model->lm_head->weight.select(0, 3).select(0, 7).item<float>(), 0.5f);
}

TEST(GPT, TiedWeightGetsTheGradientOfBothUses) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  nn::GPTConfig c = tiny_config(kFloat64);
  nn::GPT untied = seeded_gpt(c, 3);
  c.tie_weights = true;
  nn::GPT tied = seeded_gpt(c, 4);
  {  // Same weights, with the untied model's lm_head equal to its wte.
    const NoGradGuard no_grad;
    untied->lm_head->weight.copy_(untied->wte->weight);
    tied->load_state_dict(untied->state_dict());
  }
  const Tensor idx = random_ids(2, 6, 13, 7), targets = random_ids(2, 6, 13, 8);
  lm_loss(untied(idx), targets).backward();
  lm_loss(tied(idx), targets).backward();
  TT_EXPECT_TENSOR_EQ(tied->wte->weight.grad(),
                      untied->wte->weight.grad() + untied->lm_head->weight.grad(), 1e-10, 1e-12);
}

TEST(GPT, DropoutOnlyInTraining) {
  nn::GPTConfig c = tiny_config();
  c.dropout = 0.5;
  nn::GPT model = seeded_gpt(c);
  const Tensor idx = random_ids(2, 6, 13, 9);
  model->train();
  EXPECT_FALSE(model(idx).equal(model(idx))) << "training: fresh dropout masks each call";
  model->eval();
  const Tensor e1 = model(idx), e2 = model(idx);
  EXPECT_TRUE(e1.equal(e2)) << "eval: deterministic";
  // ... and equal to the same weights without dropout at all.
  c.dropout = 0.0;
  nn::GPT plain = seeded_gpt(c, 99);
  plain->load_state_dict(model->state_dict());
  TT_EXPECT_TENSOR_EQ(plain(idx), e1, 1e-6, 1e-7);
}

TEST(GPT, StateDictRoundTripsThroughAFile) {
  for (const bool tied : {false, true}) {
    nn::GPTConfig c = tiny_config();
    c.tie_weights = tied;
    nn::GPT a = seeded_gpt(c, 1), b = seeded_gpt(c, 2);
    const Tensor idx = random_ids(2, 5, 13, 10);
    EXPECT_FALSE(a(idx).equal(b(idx)));
    test::TempDir dir("tt13");
    serialize::Archive archive;
    archive.tensors = a->state_dict();
    serialize::save(archive, dir.file("gpt.ttc"));
    b->load_state_dict(serialize::load(dir.file("gpt.ttc")).tensors);
    EXPECT_TRUE(a(idx).equal(b(idx))) << "tied " << tied;
    if (tied) {
      EXPECT_TRUE(b->lm_head->weight.is_same(b->wte->weight));
    }
  }
}

// ── Part 4: gradients ────────────────────────────────────────────────────────────────────────

TEST(TransformerBlock, GradcheckFloat64) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  manual_seed(11);
  nn::GPTConfig c = tiny_config(kFloat64);
  c.n_embd = 8;
  nn::TransformerBlock block(c);
  {  // Non-trivial LayerNorm affine parameters and biases, so every path is exercised.
    const NoGradGuard no_grad;
    for (Tensor& p : block->parameters()) p.add_(randn(p.sizes(), kFloat64) * 0.3);
  }
  const Tensor x = randn({2, 4, 8}, kFloat64).requires_grad_();
  std::vector<Tensor> inputs = {x,
                                block->ln_1->weight,
                                block->attn->c_attn->weight,
                                block->attn->c_proj->bias,
                                block->ln_2->bias,
                                block->mlp->c_fc->weight,
                                block->mlp->c_proj->weight};
  const auto result =
      autograd::gradcheck([&](const std::vector<Tensor>& in) { return block(in[0]); }, inputs);
  EXPECT_TRUE(result.ok) << result.message;
}

TEST(GPT, LossGradcheckFloat64) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  nn::GPTConfig c = tiny_config(kFloat64);
  c.n_embd = 8;
  c.vocab_size = 7;
  c.n_layer = 1;
  c.tie_weights = true;
  nn::GPT model = seeded_gpt(c, 12);
  {
    const NoGradGuard no_grad;
    for (Tensor& p : model->parameters()) p.add_(randn(p.sizes(), kFloat64) * 0.3);
  }
  const Tensor idx = random_ids(2, 5, 7, 13), targets = random_ids(2, 5, 7, 14);
  std::vector<Tensor> inputs = {model->wte->weight, model->wpe->weight,
                                model->blocks[0]->attn->c_attn->bias, model->ln_f->weight};
  const auto result = autograd::gradcheck(
      [&](const std::vector<Tensor>&) { return lm_loss(model(idx), targets); }, inputs);
  EXPECT_TRUE(result.ok) << result.message;
}

TEST(GPT, TinyModelMemorisesASequence) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  // 0 1 2 … 12 0 1 …: predicting the next token is a lookup the model must learn.
  nn::GPT model = seeded_gpt(tiny_config(), 21);
  std::vector<int64_t> seq(9);
  for (int64_t i = 0; i < 9; ++i) seq[static_cast<size_t>(i)] = (i * 5) % 13;
  const Tensor all = from_vector(seq, {1, 9});
  const Tensor x = all.narrow(1, 0, 8), y = all.narrow(1, 1, 8);
  optim::AdamW opt(model->parameters(), optim::AdamWOptions(1e-2).weight_decay(0.0));
  double first = 0, last = 0;
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    const Tensor loss = lm_loss(model(x), y);
    loss.backward();
    opt.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_NEAR(first, std::log(13.0), 0.3) << "an untrained model is near uniform";
  EXPECT_LT(last, 0.05);
  model->eval();
  const Tensor pred = model(x).argmax(-1);
  EXPECT_TRUE(pred.equal(y.contiguous())) << pred << " vs " << y;
}

// ── errors ───────────────────────────────────────────────────────────────────────────────────

TEST(GPTErrors, BadConfigurations) {
  nn::GPTConfig c = tiny_config();
  c.vocab_size = 0;
  TT_EXPECT_THROW_WITH(nn::GPT(c), ValueError, "GPT: vocab_size must be positive", "got 0");
  c = tiny_config();
  c.n_embd = 18;
  c.n_head = 4;
  TT_EXPECT_THROW_WITH(nn::GPT(c), ValueError, "n_embd (18) must be divisible by n_head (4)");
  c = tiny_config();
  c.dropout = 1.0;
  TT_EXPECT_THROW_WITH(nn::GPT(c), ValueError, "dropout must be in [0, 1)");
  c = tiny_config();
  c.n_layer = 0;
  TT_EXPECT_THROW_WITH(nn::GPT(c), ValueError, "must be positive", "n_layer=0");
  c = tiny_config(kInt64);
  TT_EXPECT_THROW_WITH(nn::GPT(c), TypeError, "floating-point dtype");
}

TEST(GPTErrors, BadInputs) {
  nn::GPT model = seeded_gpt(tiny_config());
  TT_EXPECT_THROW_WITH(model(random_ids(1, 9, 13, 1)), Error, "sequence of length 9",
                       "block_size is only 8");
  TT_EXPECT_THROW_WITH(model(full({1, 3}, 13, kInt64)), IndexError, "GPT: token id 13",
                       "out of range for vocab_size 13");
  TT_EXPECT_THROW_WITH(model(full({1, 3}, -1, kInt64)), IndexError, "token id -1");
  TT_EXPECT_THROW_WITH(model(zeros({1, 3})), TypeError, "GPT: expected token ids of dtype int64");
  TT_EXPECT_THROW_WITH(model(zeros({3}, kInt64)), Error, "shape [B, T]", "[3]");
  nn::CausalSelfAttention attn(tiny_config());
  TT_EXPECT_THROW_WITH(attn(zeros({2, 3, 12})), Error,
                       "CausalSelfAttention: expected input [B, T, n_embd=16]");
}

}  // namespace
}  // namespace tinytorch
