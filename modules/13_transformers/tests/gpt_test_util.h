// Helpers shared by module 13's GPT tests (visible and hidden): small configurations, random
// token ids from a local generator, and copying one model's weights into another.
#pragma once

#include <cstdint>

#include "tinytorch/nn/modules/transformer.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::test {

// V = 13, block_size = 8, 2 layers, 2 heads, d = 16: every code path, milliseconds per forward.
inline nn::GPTConfig tiny_config(ScalarType dtype = kFloat32) {
  nn::GPTConfig c;
  c.vocab_size = 13;
  c.block_size = 8;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 16;
  c.dtype = dtype;
  return c;
}

// int64 [B, T] token ids in [0, V), drawn from a generator seeded with `seed`.
inline Tensor random_ids(int64_t B, int64_t T, int64_t V, uint64_t seed) {
  Generator gen(seed);
  return randint(0, V, {B, T}, kInt64, &gen);
}

// A GPT built with the global generator seeded: the same seed, the same weights.
inline nn::GPT seeded_gpt(const nn::GPTConfig& config, uint64_t seed = 0) {
  manual_seed(seed);
  return nn::GPT(config);
}

}  // namespace tinytorch::test
