// Module 13 — sampling (Part 5 of the chapter): sample_next_token's greedy / temperature / top-k
// distributions, generate()'s determinism by seed, its isolation from the global generator and
// the module's mode, generation past block_size, and the error messages.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gpt_test_util.h"
#include "support/reference.h"

namespace tinytorch {
namespace {

using test::random_ids;
using test::seeded_gpt;
using test::tiny_config;

// How often each token comes out of `draws` samples from the one row of `logits` [1, V].
std::vector<double> frequencies(const Tensor& logits, const nn::GenerateOptions& o, int draws) {
  Generator gen(o.seed);
  std::vector<int> count(static_cast<size_t>(logits.size(1)), 0);
  for (int i = 0; i < draws; ++i) {
    ++count[static_cast<size_t>(nn::sample_next_token(logits, o, gen).item<int64_t>())];
  }
  std::vector<double> f;
  for (const int c : count) f.push_back(static_cast<double>(c) / draws);
  return f;
}

Tensor log_probs(const std::vector<double>& p) {
  return from_vector(p, {1, static_cast<int64_t>(p.size())}, kFloat64).log();
}

TEST(SampleNextToken, DrawsFromTheSoftmax) {
  const std::vector<double> p = {0.1, 0.2, 0.3, 0.4};
  const std::vector<double> f = frequencies(log_probs(p), {.seed = 1}, 20000);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(f[i], p[i], 0.015) << i;
}

TEST(SampleNextToken, TemperatureSharpensOrFlattens) {
  const std::vector<double> p = {0.1, 0.2, 0.3, 0.4};
  // τ = 2: softmax(log p / 2) ∝ √p.
  std::vector<double> flat(4);
  double total = 0;
  for (size_t i = 0; i < 4; ++i) total += flat[i] = std::sqrt(p[i]);
  const std::vector<double> f2 = frequencies(log_probs(p), {.temperature = 2.0, .seed = 2}, 20000);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(f2[i], flat[i] / total, 0.015) << i;
  // τ = 0.01: essentially always the argmax.
  const std::vector<double> f0 = frequencies(log_probs(p), {.temperature = 0.01, .seed = 3}, 2000);
  EXPECT_EQ(f0[3], 1.0);
}

TEST(SampleNextToken, TopKKeepsTheKMostLikely) {
  const std::vector<double> p = {0.4, 0.1, 0.3, 0.2};
  const std::vector<double> f = frequencies(log_probs(p), {.top_k = 2, .seed = 4}, 20000);
  EXPECT_EQ(f[1], 0.0);
  EXPECT_EQ(f[3], 0.0);
  EXPECT_NEAR(f[0], 4.0 / 7.0, 0.015);
  EXPECT_NEAR(f[2], 3.0 / 7.0, 0.015);
  // top_k ≥ V filters nothing.
  const std::vector<double> all = frequencies(log_probs(p), {.top_k = 50, .seed = 5}, 20000);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(all[i], p[i], 0.015) << i;
}

TEST(SampleNextToken, TiesWithTheKthAreKept) {
  const Tensor logits = from_vector(std::vector<double>{1, 0, 1, 1}, {1, 4}, kFloat64);
  const std::vector<double> f = frequencies(logits, {.top_k = 1, .seed = 6}, 3000);
  EXPECT_EQ(f[1], 0.0);
  for (const size_t i : {0u, 2u, 3u}) EXPECT_NEAR(f[i], 1.0 / 3.0, 0.04) << i;
}

TEST(SampleNextToken, GreedyIsTheFirstArgmaxPerRow) {
  const Tensor logits =
      from_vector(std::vector<float>{0, 3, 3, 1, /**/ 5, -1, 2, 4}, {2, 4}, kFloat32);
  Generator gen(0);
  const Tensor next = nn::sample_next_token(logits, {.greedy = true}, gen);
  EXPECT_EQ(next.to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  // Greedy draws no random number.
  EXPECT_EQ(gen.next_u32(), Generator(0).next_u32());
}

TEST(Generate, SameSeedSameTokens) {
  nn::GPT model = seeded_gpt(tiny_config());
  const Tensor prompt = random_ids(2, 3, 13, 1);
  const nn::GenerateOptions o{.max_new_tokens = 12, .seed = 42};
  const Tensor a = model->generate(prompt, o), b = model->generate(prompt, o);
  EXPECT_EQ(a.sizes(), IntArrayRef({2, 15}));
  EXPECT_TRUE(a.equal(b));
  EXPECT_TRUE(a.narrow(1, 0, 3).equal(prompt)) << "the prompt is kept";
  const Tensor c = model->generate(prompt, {.max_new_tokens = 12, .seed = 43});
  EXPECT_FALSE(a.equal(c)) << "another seed, other tokens";
  for (const int64_t id : a.to_vector<int64_t>()) EXPECT_TRUE(id >= 0 && id < 13);
}

TEST(Generate, LeavesTheGlobalGeneratorAlone) {
  nn::GPT model = seeded_gpt(tiny_config());
  manual_seed(7);
  const Tensor expected = rand({4});
  manual_seed(7);
  model->generate(random_ids(1, 2, 13, 2), {.max_new_tokens = 5, .seed = 1});
  EXPECT_TRUE(rand({4}).equal(expected));
}

TEST(Generate, RunsInEvalModeAndRestoresTheModes) {
  nn::GPTConfig c = tiny_config();
  c.dropout = 0.5;
  nn::GPT model = seeded_gpt(c);
  model->train();
  model->blocks[1]->eval();  // a frozen part keeps its own mode
  const Tensor prompt = random_ids(1, 2, 13, 3);
  // Dropout would make two runs differ if generate sampled in training mode.
  EXPECT_TRUE(model->generate(prompt, {.max_new_tokens = 6, .seed = 9})
                  .equal(model->generate(prompt, {.max_new_tokens = 6, .seed = 9})));
  EXPECT_TRUE(model->is_training());
  EXPECT_TRUE(model->blocks[0]->is_training());
  EXPECT_FALSE(model->blocks[1]->is_training());
  EXPECT_FALSE(model->blocks[1]->attn->is_training());
}

TEST(Generate, TopKOneIsGreedy) {
  nn::GPT model = seeded_gpt(tiny_config());
  const Tensor prompt = random_ids(3, 2, 13, 4);
  const Tensor greedy = model->generate(prompt, {.max_new_tokens = 6, .greedy = true});
  EXPECT_TRUE(model->generate(prompt, {.max_new_tokens = 6, .top_k = 1, .seed = 5}).equal(greedy));
  EXPECT_TRUE(
      model->generate(prompt, {.max_new_tokens = 6, .temperature = 1e-4, .seed = 6}).equal(greedy));
  // Greedy's first new token is the argmax of the prompt's last logits.
  const Tensor first = model(prompt).select(1, -1).argmax(-1);
  EXPECT_TRUE(greedy.select(1, 2).equal(first));
}

TEST(Generate, ContinuesPastBlockSizeWithASlidingWindow) {
  nn::GPT model = seeded_gpt(tiny_config());       // block_size 8
  const Tensor prompt = random_ids(1, 10, 13, 5);  // longer than block_size: cropped
  const Tensor out = model->generate(prompt, {.max_new_tokens = 10, .greedy = true});
  EXPECT_EQ(out.sizes(), IntArrayRef({1, 20}));
  // The last token is greedy on the last 8 tokens before it.
  const Tensor window = out.narrow(1, 11, 8);
  EXPECT_EQ(model(window).select(1, -1).argmax(-1).item<int64_t>(),
            out.select(1, 19).item<int64_t>());
  EXPECT_TRUE(model->generate(prompt, {.max_new_tokens = 0}).equal(prompt));
}

TEST(GenerateErrors, BadOptionsAndPrompts) {
  nn::GPT model = seeded_gpt(tiny_config());
  const Tensor prompt = random_ids(1, 2, 13, 6);
  TT_EXPECT_THROW_WITH(model->generate(prompt, {.temperature = 0.0}), ValueError,
                       "GPT.generate: temperature must be a positive finite number");
  TT_EXPECT_THROW_WITH(model->generate(prompt, {.temperature = NAN}), ValueError, "temperature");
  TT_EXPECT_THROW_WITH(model->generate(prompt, {.top_k = -1}), ValueError, "top_k must be >= 0");
  TT_EXPECT_THROW_WITH(model->generate(prompt, {.max_new_tokens = -1}), ValueError,
                       "max_new_tokens must be >= 0");
  TT_EXPECT_THROW_WITH(model->generate(zeros({1, 2})), TypeError,
                       "GPT.generate: expected token ids of dtype int64");
  TT_EXPECT_THROW_WITH(model->generate(zeros({2}, kInt64)), Error, "shape [B, T0]");
  TT_EXPECT_THROW_WITH(model->generate(full({1, 2}, 20, kInt64)), IndexError,
                       "GPT.generate: token id 20");
  // greedy ignores temperature.
  EXPECT_NO_THROW(
      model->generate(prompt, {.max_new_tokens = 1, .temperature = 0.0, .greedy = true}));
  Generator gen(0);
  TT_EXPECT_THROW_WITH(nn::sample_next_token(zeros({4}), {}, gen), Error,
                       "sample_next_token: expected logits of shape [B, V]");
  TT_EXPECT_THROW_WITH(nn::sample_next_token(full({1, 3}, NAN), {}, gen), ValueError,
                       "logits contain NaN");
  TT_EXPECT_THROW_WITH(nn::sample_next_token(zeros({1, 3}, kInt64), {}, gen), TypeError,
                       "floating-point logits");
}

}  // namespace
}  // namespace tinytorch
