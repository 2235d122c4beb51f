// tinytorch/nn/modules/transformer.h — a GPT (decoder-only transformer) and its sampler
// (module 13; the KV cache is module 17's, nn/kv_cache.h).
//
//   nn::GPTConfig cfg;  cfg.vocab_size = tok.vocab_size();  cfg.block_size = 64;
//   nn::GPT model(cfg);
//   Tensor logits = model(idx);                      // idx int64 [B, T] → logits [B, T, V]
//   Tensor loss = F::cross_entropy(logits.view({-1, V}), targets.view({-1}));
//   Tensor text = model->generate(prompt, {.max_new_tokens = 200, .top_k = 10});
//
//   idx [B, T] ─► wte(idx) + wpe(0 … T−1) ─► drop ─► h.0 … h.{L−1} ─► ln_f ─► lm_head ─► [B, T, V]
//                 token + position embeddings          │
//                              ┌───────────────────────┘  one TransformerBlock (pre-LN):
//                              ▼
//          x ──┬──► ln_1 ─► attn (causal, H heads) ──►(+)──┬──► ln_2 ─► mlp ──►(+)──► x'
//              └──────────── residual stream ─────────────┘└──────────────────────┘
//
// The names and the parameter layout are nanoGPT's (karpathy/nanoGPT model.py, itself GPT-2's)
// without its "transformer." prefix, so a state_dict maps key for key: wte.weight, wpe.weight,
// h.0.ln_1.weight, h.0.attn.c_attn.weight [3d, d], h.0.attn.c_proj.weight, h.0.mlp.c_fc.weight
// [4d, d], h.0.mlp.c_proj.weight, ln_f.weight, lm_head.weight [V, d].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinytorch/core/generator.h"
#include "tinytorch/core/scalar_type.h"
#include "tinytorch/nn/kv_cache.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/nn/modules/activation.h"
#include "tinytorch/nn/modules/attention.h"
#include "tinytorch/nn/modules/container.h"
#include "tinytorch/nn/modules/dropout.h"
#include "tinytorch/nn/modules/embedding.h"
#include "tinytorch/nn/modules/linear.h"
#include "tinytorch/nn/modules/normalization.h"

namespace tinytorch::nn {

// The model's hyper-parameters (nanoGPT's GPTConfig).
struct GPTConfig {
  int64_t vocab_size = 0;       // V: token ids are 0 … V−1 (the tokenizer's vocab_size())
  int64_t block_size = 64;      // T_max: the longest context (the position table's rows)
  int64_t n_layer = 4;          // L: transformer blocks
  int64_t n_head = 4;           // H: attention heads (n_embd must be a multiple of it)
  int64_t n_embd = 128;         // d: the residual stream's width
  double dropout = 0.0;         // after the embeddings, on attention weights, after each sublayer
  bool bias = true;             // biases in the Linears and LayerNorms (GPT-2: true)
  bool tie_weights = false;     // lm_head.weight IS wte.weight (one parameter, GPT-2's choice)
  ScalarType dtype = kFloat32;  // the parameters' dtype (float64 for gradcheck)
};

// Multi-head causal self-attention with one fused input projection:
//   x [B, T, d] ─► c_attn ─► [B, T, 3d] ─► q, k, v [B, H, T, hd] (views, hd = d / H)
//   ─► scaled_dot_product_attention(is_causal) [B, H, T, hd] ─► [B, T, d] ─► c_proj ─► dropout
class CausalSelfAttentionImpl : public Module {
 public:
  // layer_idx: which of the model's blocks this is — the KV cache's layer it reads and writes.
  explicit CausalSelfAttentionImpl(const GPTConfig& config, int64_t layer_idx = 0);
  // x [B, T, d] → [B, T, d]. With a cache, k and v are appended to it and the queries attend to
  // every cached position (module 17).
  Tensor forward(const Tensor& x, KVCache* cache = nullptr);
  // "n_embd=128, n_head=4"
  std::string extra_repr() const override;

  // c_attn(x) split into the heads: q, k, v [B, H, T, hd], views of one [B, T, 3d] tensor.
  std::vector<Tensor> split_heads(const Tensor& x);
  // The heads' outputs [B, H, T, hd] back to [B, T, d], through c_proj and the dropout.
  Tensor merge_heads(const Tensor& y);

  GPTConfig config;
  int64_t layer_idx;
  Linear c_attn{nullptr};  // [3d, d]: the q, k and v projections stacked
  Linear c_proj{nullptr};  // [d, d]
  Dropout resid_dropout{nullptr};
};
TT_MODULE(CausalSelfAttention);

// The position-wise feed-forward network: Linear(d, 4d) → GELU (exact) → Linear(4d, d) → Dropout.
class TransformerMLPImpl : public Module {
 public:
  explicit TransformerMLPImpl(const GPTConfig& config);
  Tensor forward(const Tensor& x);

  Linear c_fc{nullptr};
  GELU gelu{nullptr};
  Linear c_proj{nullptr};
  Dropout dropout{nullptr};
};
TT_MODULE(TransformerMLP);

// One pre-LN block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)).
class TransformerBlockImpl : public Module {
 public:
  explicit TransformerBlockImpl(const GPTConfig& config, int64_t layer_idx = 0);
  Tensor forward(const Tensor& x, KVCache* cache = nullptr);

  LayerNorm ln_1{nullptr};
  CausalSelfAttention attn{nullptr};
  LayerNorm ln_2{nullptr};
  TransformerMLP mlp{nullptr};
};
TT_MODULE(TransformerBlock);

// What generate() does (a plain struct, like GPTConfig: GenerateOptions{.max_new_tokens = 200}).
struct GenerateOptions {
  int64_t max_new_tokens = 64;
  // Logits are divided by it before the softmax: < 1 sharper, > 1 flatter. Must be > 0.
  double temperature = 1.0;
  // Sample only among the k most likely tokens (ties with the k-th kept); 0 = all of them.
  int64_t top_k = 0;
  // The sampler's own Generator starts from this seed: the same seed gives the same tokens, and
  // the global generator (manual_seed) is neither used nor advanced.
  uint64_t seed = 0;
  // Always the most likely token (argmax; temperature and top_k are then ignored).
  bool greedy = false;
  // Keep every layer's keys and values in a KVCache (module 17) instead of recomputing the
  // whole context each step. Gives the same tokens either way (and, until module 17 is
  // written in a learner's tree, generate falls back to recomputing).
  bool use_cache = true;
};

namespace detail {
// Throws IndexError naming `who` and the first id of idx (int64) outside [0, vocab_size).
void check_token_ids(const Tensor& idx, int64_t vocab_size, const char* who);
}  // namespace detail

// Draws one token per row of `logits` [B, V] (float32 or float64) as `options` say — greedy,
// temperature, top-k — with `generator`. Returns int64 [B].
Tensor sample_next_token(const Tensor& logits, const GenerateOptions& options,
                         Generator& generator);

class GPTImpl : public Module {
 public:
  explicit GPTImpl(const GPTConfig& config);
  // idx int64 [B, T], T ≤ block_size (with a cache: cache->length() + T ≤ block_size, the
  // positions continue after the cached ones) → logits [B, T, V].
  Tensor forward(const Tensor& idx, KVCache* cache = nullptr);
  // Continues every row of idx int64 [B, T0] by options.max_new_tokens tokens: → [B, T0 + new].
  // Runs in eval mode with no graph (the module's mode is restored afterwards). A context
  // longer than block_size is cropped to its last block_size tokens, as nanoGPT does.
  Tensor generate(const Tensor& idx, const GenerateOptions& options = {});
  // A KV cache shaped for this model: n_layer layers, max_seq_len positions (0: block_size).
  KVCache make_cache(int64_t batch_size, int64_t max_seq_len = 0) const;
  // Every parameter, each tensor once (a tied lm_head is wte's weight: counted once).
  // non_embedding: without the position table (nanoGPT's get_num_params convention — the token
  // table stays, since untied or tied it is also the output layer's size).
  int64_t num_parameters(bool non_embedding = false) const;

  GPTConfig config;
  Embedding wte{nullptr};  // [V, d] token embeddings
  Embedding wpe{nullptr};  // [block_size, d] learned positions
  Dropout drop{nullptr};
  ModuleList h{nullptr};                 // the blocks, registered as h.0 … h.{L−1}
  std::vector<TransformerBlock> blocks;  // the same blocks, typed
  LayerNorm ln_f{nullptr};
  Linear lm_head{nullptr};  // [V, d], no bias

 private:
  void init_weights();
  // Checks idx (int64 [B, T], ids in [0, V), T within block_size after the cached positions) and
  // the cache (made for this model and batch); returns the cached length, 0 without a cache.
  int64_t check_input(const Tensor& idx, const KVCache* cache) const;
};
TT_MODULE(GPT);

}  // namespace tinytorch::nn
