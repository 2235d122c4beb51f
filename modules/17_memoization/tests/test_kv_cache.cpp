// Module 17 — the KV cache: update() appends in place and returns views of the filled prefix,
// the memory it reports, a full cache's error; a GPT forward with a cache gives the logits of the
// uncached forward, position by position; generate() gives identical tokens with and without it.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "support/reference.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/nn/modules/transformer.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

nn::GPTConfig config(ScalarType dtype = kFloat32) {
  nn::GPTConfig c;
  c.vocab_size = 13;
  c.block_size = 16;
  c.n_layer = 3;
  c.n_head = 2;
  c.n_embd = 16;
  c.dtype = dtype;
  return c;
}

nn::GPT seeded_gpt(const nn::GPTConfig& c, uint64_t seed = 0) {
  manual_seed(seed);
  return nn::GPT(c);
}

Tensor random_ids(int64_t B, int64_t T, uint64_t seed) {
  Generator gen(seed);
  return randint(0, 13, {B, T}, kInt64, &gen);
}

// ── the cache itself ─────────────────────────────────────────────────────────────────────────

TEST(KVCache, PreallocatesEveryLayer) {
  nn::KVCache cache(/*n_layer=*/3, /*batch_size=*/2, /*n_head=*/4, /*max_seq_len=*/10,
                    /*head_dim=*/8);
  EXPECT_EQ(cache.n_layer(), 3);
  EXPECT_EQ(cache.length(), 0);
  EXPECT_EQ(cache.max_seq_len(), 10);
  for (int64_t l = 0; l < 3; ++l) {
    EXPECT_EQ(cache.keys(l).sizes(), IntArrayRef({2, 4, 10, 8}));
    EXPECT_EQ(cache.values(l).sizes(), IntArrayRef({2, 4, 10, 8}));
  }
}

TEST(KVCache, UpdateAppendsInPlaceAndReturnsThePrefix) {
  nn::KVCache cache(2, 1, 2, 6, 3);
  const Tensor buffer = cache.keys(1);
  const Tensor k1 = randn({1, 2, 2, 3}), v1 = randn({1, 2, 2, 3});
  auto [keys, values] = cache.update(1, k1, v1);
  EXPECT_EQ(keys.sizes(), IntArrayRef({1, 2, 2, 3}));
  EXPECT_TRUE(keys.equal(k1));
  EXPECT_TRUE(values.equal(v1));
  EXPECT_TRUE(keys.is_alias_of(buffer)) << "a view of the preallocated buffer, not a copy";
  EXPECT_EQ(cache.length(1), 2);
  EXPECT_EQ(cache.length(0), 0) << "layers fill independently";
  const Tensor k2 = randn({1, 2, 1, 3}), v2 = randn({1, 2, 1, 3});
  std::tie(keys, values) = cache.update(1, k2, v2);
  EXPECT_EQ(keys.sizes(), IntArrayRef({1, 2, 3, 3}));
  EXPECT_TRUE(keys.narrow(2, 0, 2).equal(k1)) << "the past is untouched";
  EXPECT_TRUE(keys.narrow(2, 2, 1).equal(k2)) << "the new step comes last";
  EXPECT_TRUE(values.narrow(2, 2, 1).equal(v2));
  EXPECT_EQ(buffer.data_ptr(), cache.keys(1).data_ptr()) << "never reallocated";
  cache.reset();
  EXPECT_EQ(cache.length(1), 0);
}

TEST(KVCache, UpdateRecordsNoGraph) {
  nn::KVCache cache(1, 1, 1, 4, 2);
  const Tensor k = randn({1, 1, 1, 2}).requires_grad_();
  auto [keys, values] = cache.update(0, k * 2, k * 3);
  EXPECT_FALSE(keys.requires_grad());
  EXPECT_FALSE(cache.keys(0).requires_grad());
}

TEST(KVCache, ReportsBytesPerToken) {
  // 2 (K and V) · n_layer · n_head · head_dim · 4 bytes = 2 · n_layer · n_embd · sizeof(float).
  nn::KVCache cache(4, 3, 4, 64, 32);
  EXPECT_EQ(cache.bytes_per_token(), 2 * 4 * 128 * 4);
  EXPECT_EQ(cache.nbytes(), 2 * 4 * 128 * 4 * 3 * 64);
  nn::KVCache f64(4, 1, 4, 64, 32, kFloat64);
  EXPECT_EQ(f64.bytes_per_token(), 2 * 4 * 128 * 8);
  nn::GPT model = seeded_gpt(config());
  const nn::KVCache made = model->make_cache(2);
  EXPECT_EQ(made.bytes_per_token(), 2 * 3 * 16 * 4);
  EXPECT_EQ(made.max_seq_len(), 16) << "block_size by default";
  EXPECT_EQ(made.batch_size(), 2);
}

TEST(KVCache, FullAndBadShapesAreErrors) {
  nn::KVCache cache(2, 1, 2, 4, 3);
  cache.update(0, zeros({1, 2, 3, 3}), zeros({1, 2, 3, 3}));
  TT_EXPECT_THROW_WITH(cache.update(0, zeros({1, 2, 2, 3}), zeros({1, 2, 2, 3})), Error,
                       "KVCache: full", "holds 3 of 4 positions", "cannot take 2 more");
  EXPECT_EQ(cache.length(0), 3) << "a refused update changes nothing";
  TT_EXPECT_THROW_WITH(cache.update(0, zeros({1, 3, 1, 3}), zeros({1, 3, 1, 3})), Error,
                       "KVCache: update expects key and value of shape [B=1, H=2, T >= 1, hd=3]");
  TT_EXPECT_THROW_WITH(cache.update(0, zeros({1, 2, 1, 3}), zeros({1, 2, 2, 3})), Error,
                       "KVCache: update expects");
  TT_EXPECT_THROW_WITH(cache.update(2, zeros({1, 2, 1, 3}), zeros({1, 2, 1, 3})), IndexError,
                       "KVCache: layer 2 is out of range for a cache of 2 layers");
  TT_EXPECT_THROW_WITH(nn::KVCache(0, 1, 1, 1, 1), ValueError, "KVCache: n_layer, batch_size",
                       "must be positive", "n_layer=0");
  TT_EXPECT_THROW_WITH(nn::KVCache(1, 1, 1, 1, 1, kInt64), TypeError, "floating-point dtype");
}

// ── GPT with a cache ─────────────────────────────────────────────────────────────────────────

TEST(CachedForward, PrefillThenDecodeGivesTheUncachedLogits) {
  for (const ScalarType dt : {kFloat64, kFloat32}) {
    nn::GPT model = seeded_gpt(config(dt));
    model->eval();
    const NoGradGuard no_grad;
    const Tensor idx = random_ids(2, 12, 1);
    const Tensor full = model(idx);  // [2, 12, V]
    nn::KVCache cache = model->make_cache(2);
    const Tensor prefill = model(idx.narrow(1, 0, 5), &cache);
    EXPECT_EQ(cache.length(), 5);
    const double tol = dt == kFloat64 ? 1e-12 : 2e-5;
    TT_EXPECT_TENSOR_EQ(prefill, full.narrow(1, 0, 5), tol, tol);
    for (int64_t t = 5; t < 12; ++t) {
      const Tensor step = model(idx.narrow(1, t, 1), &cache);  // one token at position t
      EXPECT_EQ(step.sizes(), IntArrayRef({2, 1, 13}));
      TT_EXPECT_TENSOR_EQ(step, full.narrow(1, t, 1), tol, tol);
    }
    EXPECT_EQ(cache.length(), 12);
    for (int64_t l = 0; l < 3; ++l) EXPECT_EQ(cache.length(l), 12);
  }
}

TEST(CachedForward, ChunksOfSeveralTokensToo) {
  nn::GPT model = seeded_gpt(config(kFloat64));
  const NoGradGuard no_grad;
  const Tensor idx = random_ids(1, 10, 2);
  const Tensor full = model(idx);
  nn::KVCache cache = model->make_cache(1);
  model(idx.narrow(1, 0, 4), &cache);
  TT_EXPECT_TENSOR_EQ(model(idx.narrow(1, 4, 3), &cache), full.narrow(1, 4, 3), 1e-12, 1e-12);
}

TEST(CachedForward, ErrorsNameTheCache) {
  nn::GPT model = seeded_gpt(config());
  nn::KVCache cache = model->make_cache(1);
  model(random_ids(1, 14, 3), &cache);
  TT_EXPECT_THROW_WITH(model(random_ids(1, 3, 4), &cache), Error, "sequence of length 17",
                       "cached positions included", "block_size is only 16");
  nn::KVCache wrong_batch = model->make_cache(3);
  TT_EXPECT_THROW_WITH(model(random_ids(1, 2, 5), &wrong_batch), Error, "for batch size 3",
                       "the batch is 1");
  nn::KVCache small = model->make_cache(1, 4);
  TT_EXPECT_THROW_WITH(model(random_ids(1, 5, 6), &small), Error, "KVCache: full");
}

// ── generate: identical tokens ───────────────────────────────────────────────────────────────

TEST(CachedGenerate, SameTokensAsUncachedGreedyAndSampled) {
  nn::GPT model = seeded_gpt(config());
  const Tensor prompt = random_ids(3, 4, 7);
  for (const bool greedy : {true, false}) {
    for (const uint64_t seed : {1u, 2u, 3u}) {
      nn::GenerateOptions o{.max_new_tokens = 10,
                            .temperature = 1.3,
                            .top_k = greedy ? 0 : 5,
                            .seed = seed,
                            .greedy = greedy};
      o.use_cache = true;
      const Tensor cached = model->generate(prompt, o);
      o.use_cache = false;
      const Tensor uncached = model->generate(prompt, o);
      EXPECT_TRUE(cached.equal(uncached)) << "greedy " << greedy << " seed " << seed << "\n"
                                          << cached << "\n"
                                          << uncached;
    }
  }
}

TEST(CachedGenerate, SameTokensPastBlockSize) {
  // block_size 16: the cache serves positions 0..15, then generation slides a window.
  nn::GPT model = seeded_gpt(config());
  const Tensor prompt = random_ids(1, 3, 8);
  const nn::GenerateOptions cached{.max_new_tokens = 20, .seed = 4, .use_cache = true};
  const nn::GenerateOptions uncached{.max_new_tokens = 20, .seed = 4, .use_cache = false};
  EXPECT_TRUE(model->generate(prompt, cached).equal(model->generate(prompt, uncached)));
}

}  // namespace
}  // namespace tinytorch
