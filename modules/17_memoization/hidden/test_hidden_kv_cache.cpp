// Module 17 — grader tests: the cached keys are the layer's real k projections; a reset cache
// serves a second sequence; tied float64 models and batches match uncached decoding; GPT-2's
// bytes per token; a prompt longer than block_size gives identical tokens with the cache. The
// checks are graded ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "support/graded.h"
#include "support/reference.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/nn/modules/transformer.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

nn::GPT seeded_gpt(bool tied, ScalarType dtype, uint64_t seed) {
  nn::GPTConfig c;
  c.vocab_size = 11;
  c.block_size = 12;
  c.n_layer = 2;
  c.n_head = 4;
  c.n_embd = 16;
  c.tie_weights = tied;
  c.dtype = dtype;
  manual_seed(seed);
  nn::GPT model(c);
  // Weights drawn here, not by the initializers, so that an answer computed with them is the
  // reference solution's too.
  const NoGradGuard no_grad;
  Generator gen(seed);
  for (Tensor& p : model->parameters()) p.copy_(randn(p.sizes(), p.dtype(), &gen).mul(0.5));
  return model;
}

Tensor ids(int64_t B, int64_t T, uint64_t seed) {
  Generator gen(seed);
  return randint(0, 11, {B, T}, kInt64, &gen);
}

TEST(HiddenKVCache, HoldsTheFirstLayersKeyProjections) {
  nn::GPT model = seeded_gpt(false, kFloat64, 1);
  const NoGradGuard no_grad;
  const Tensor idx = ids(1, 5, 2);
  nn::KVCache cache = model->make_cache(1);
  model(idx, &cache);
  std::vector<Tensor> qkv(3);  // the first layer's projections of the embedded prompt
  TT_GRADE_EXPECTED_ONLY(const Tensor x = model->wte(idx) + model->wpe(arange(5, kInt64));
                         qkv = model->blocks[0]->attn->split_heads(model->blocks[0]->ln_1(x)));
  TT_GRADE_TENSOR(cache.keys(0).narrow(2, 0, 5), qkv[1], 1e-12, 1e-12);
  TT_GRADE_TENSOR(cache.values(0).narrow(2, 0, 5), qkv[2], 1e-12, 1e-12);
}

TEST(HiddenKVCache, AResetCacheServesAnotherSequence) {
  nn::GPT model = seeded_gpt(false, kFloat64, 2);
  const NoGradGuard no_grad;
  nn::KVCache cache = model->make_cache(1);
  model(ids(1, 7, 3), &cache);
  cache.reset();
  const Tensor idx = ids(1, 4, 4);
  TT_GRADE_TENSOR(model(idx, &cache), model(idx), 1e-12, 1e-12);
}

TEST(HiddenKVCache, TiedBatchedDecodingMatches) {
  nn::GPT model = seeded_gpt(true, kFloat64, 3);
  const NoGradGuard no_grad;
  const Tensor idx = ids(3, 9, 5);
  const Tensor full = model(idx);
  nn::KVCache cache = model->make_cache(3);
  for (int64_t t = 0; t < 9; ++t) {
    TT_GRADE_TENSOR(model(idx.narrow(1, t, 1), &cache), full.narrow(1, t, 1), 1e-12, 1e-12);
  }
}

TEST(HiddenKVCache, GPT2SmallBytesPerToken) {
  // GPT-2 small: 12 layers, 12 heads of 64 → 2 · 12 · 768 · 4 = 73,728 bytes (72 KiB) per token.
  nn::KVCache cache(12, 1, 12, 1, 64);
  TT_GRADE_EQ(cache.bytes_per_token(), 73728);
  TT_GRADE_EQ(cache.nbytes(), 73728);
}

TEST(HiddenKVCache, FirstUpdateLargerThanTheCache) {
  nn::KVCache cache(1, 1, 1, 3, 2);
  TT_GRADE_THROW_WITH(cache.update(0, zeros({1, 1, 4, 2}), zeros({1, 1, 4, 2})), Error,
                      "KVCache: full", "holds 0 of 3");
  TT_GRADE_EQ(cache.length(), 0);
}

TEST(HiddenCachedGenerate, LongPromptAndBatchIdenticalTokens) {
  nn::GPT model = seeded_gpt(false, kFloat32, 4);
  const Tensor prompt = ids(2, 14, 6);  // longer than block_size 12
  for (const uint64_t seed : {7u, 8u}) {
    TT_GRADE_TRUE(test::graded::identical(
        model->generate(prompt, {.max_new_tokens = 6, .top_k = 3, .seed = seed}),
        model->generate(prompt,
                        {.max_new_tokens = 6, .top_k = 3, .seed = seed, .use_cache = false})));
  }
}

}  // namespace
}  // namespace tinytorch
