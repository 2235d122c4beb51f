// Module 13 — Transformers: CausalSelfAttention, TransformerMLP, TransformerBlock and GPT
// (modules/13_transformers/README.md). The arithmetic is all existing ops — Linear, GELU,
// LayerNorm, Embedding, scaled_dot_product_attention — so the gradients come from the engine;
// what this file adds is the wiring: how the heads are split and merged, the residual stream,
// the embeddings and the weights' initialisation. Sampling is src/nn/generate.cpp; the KV cache
// (module 17) is src/nn/kv_cache.cpp.
#include "tinytorch/nn/modules/transformer.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/nn/init.h"

namespace tinytorch::nn {

namespace F = functional;

namespace {

void check_config(const GPTConfig& c) {
  TT_CHECK_VALUE(c.vocab_size > 0, "GPT: vocab_size must be positive, but got ", c.vocab_size,
                 " (set GPTConfig::vocab_size to the tokenizer's vocab_size())");
  TT_CHECK_VALUE(c.block_size > 0 && c.n_layer > 0 && c.n_head > 0 && c.n_embd > 0,
                 "GPT: block_size, n_layer, n_head and n_embd must be positive, but got "
                 "block_size=",
                 c.block_size, ", n_layer=", c.n_layer, ", n_head=", c.n_head,
                 ", n_embd=", c.n_embd);
  TT_CHECK_VALUE(c.n_embd % c.n_head == 0, "GPT: n_embd (", c.n_embd,
                 ") must be divisible by n_head (", c.n_head, "): each head gets n_embd / n_head");
  TT_CHECK_VALUE(c.dropout >= 0.0 && c.dropout < 1.0, "GPT: dropout must be in [0, 1), but got ",
                 c.dropout);
  TT_CHECK_TYPE(is_floating_point(c.dtype),
                "GPT: the parameters must have a floating-point dtype, but got ", c.dtype);
}

LinearOptions linear_options(const GPTConfig& c, int64_t in, int64_t out, bool bias) {
  return LinearOptions(in, out).bias(bias).dtype(c.dtype);
}

LayerNorm layer_norm(const GPTConfig& c) {
  return LayerNorm(LayerNormOptions({c.n_embd}).elementwise_affine(true).dtype(c.dtype));
}

// lm_head when tie_weights: a Linear whose registered "weight" is wte's weight tensor — the same
// TensorImpl, so parameters() lists it once, an optimizer steps it once, and both layers always
// see the same values (nanoGPT: self.transformer.wte.weight = self.lm_head.weight).
class TiedLinearImpl : public LinearImpl {
 public:
  TiedLinearImpl(const LinearOptions& options, const Tensor& shared_weight) : LinearImpl(options) {
    parameters_.insert_or_assign("weight", shared_weight);
    weight = shared_weight;
  }
};

}  // namespace

// ── CausalSelfAttention ──────────────────────────────────────────────────────────────────────

CausalSelfAttentionImpl::CausalSelfAttentionImpl(const GPTConfig& config_, int64_t layer_idx_)
    : Module("CausalSelfAttention"), config(config_), layer_idx(layer_idx_) {
  check_config(config);
  const int64_t d = config.n_embd;
  c_attn = register_module("c_attn", Linear(linear_options(config, d, 3 * d, config.bias)));
  c_proj = register_module("c_proj", Linear(linear_options(config, d, d, config.bias)));
  resid_dropout = register_module("resid_dropout", Dropout(config.dropout));
}

std::vector<Tensor> CausalSelfAttentionImpl::split_heads(const Tensor& x) {
  // BEGIN SOLUTION
  // One GEMM for all three projections, then pure views: [B, T, 3d] read as [B, T, 3, H, hd]
  // and permuted to [3, B, H, T, hd]. q, k and v are its three slices — no copy (the attention's
  // matmuls read the strided heads directly). unbind, not three selects: in backward ONE node
  // writes the three gradients into one [B, T, 3d] buffer (three SelectBackward0 would each fill
  // a zero tensor of that size and the engine would add them).
  const int64_t B = x.size(0), T = x.size(1), H = config.n_head, hd = config.n_embd / H;
  const Tensor qkv = c_attn(x).view({B, T, 3, H, hd}).permute({2, 0, 3, 1, 4});
  return qkv.unbind(0);
  // END SOLUTION
}

Tensor CausalSelfAttentionImpl::merge_heads(const Tensor& y) {
  // BEGIN SOLUTION
  // [B, H, T, hd] → [B, T, H, hd] → [B, T, d]: c_proj's GEMM wants the heads of one position side
  // by side, and they already are — the attention lays its output out like q, whose memory is
  // [B, T, 3, H, hd] — so the transpose and the reshape are views, no copy.
  const int64_t B = y.size(0), T = y.size(2);
  return resid_dropout(c_proj(y.transpose(1, 2).reshape({B, T, config.n_embd})));
  // END SOLUTION
}

Tensor CausalSelfAttentionImpl::forward(const Tensor& x, KVCache* cache) {
  TT_CHECK(x.dim() == 3 && x.size(2) == config.n_embd,
           "CausalSelfAttention: expected input [B, T, n_embd=", config.n_embd, "], but got shape ",
           x.sizes());
  std::vector<Tensor> qkv = split_heads(x);  // q, k, v [B, H, T, hd]
  Tensor k = qkv[1], v = qkv[2];
  // Module 17: with a cache, this step's keys and values are appended to the layer's and the
  // queries attend to all of them ([B, H, past + T, hd]); is_causal aligns the T query rows
  // with the LAST T key positions.
  if (cache != nullptr) std::tie(k, v) = cache->update(layer_idx, k, v);
  const double p = is_training() ? config.dropout : 0.0;
  Tensor y = F::scaled_dot_product_attention(
      qkv[0], k, v, F::ScaledDotProductAttentionFuncOptions().dropout_p(p).is_causal(true));
  return merge_heads(y);
}

std::string CausalSelfAttentionImpl::extra_repr() const {
  return "n_embd=" + std::to_string(config.n_embd) + ", n_head=" + std::to_string(config.n_head);
}

// ── TransformerMLP ───────────────────────────────────────────────────────────────────────────

TransformerMLPImpl::TransformerMLPImpl(const GPTConfig& config) : Module("TransformerMLP") {
  check_config(config);
  const int64_t d = config.n_embd;
  c_fc = register_module("c_fc", Linear(linear_options(config, d, 4 * d, config.bias)));
  gelu = register_module("gelu", GELU());
  c_proj = register_module("c_proj", Linear(linear_options(config, 4 * d, d, config.bias)));
  dropout = register_module("dropout", Dropout(config.dropout));
}

Tensor TransformerMLPImpl::forward(const Tensor& x) {
  return dropout(c_proj(gelu(c_fc(x))));
}

// ── TransformerBlock ─────────────────────────────────────────────────────────────────────────

TransformerBlockImpl::TransformerBlockImpl(const GPTConfig& config, int64_t layer_idx)
    : Module("TransformerBlock") {
  check_config(config);
  ln_1 = register_module("ln_1", layer_norm(config));
  attn = register_module("attn", CausalSelfAttention(config, layer_idx));
  ln_2 = register_module("ln_2", layer_norm(config));
  mlp = register_module("mlp", TransformerMLP(config));
}

Tensor TransformerBlockImpl::forward(const Tensor& x, KVCache* cache) {
  // BEGIN SOLUTION
  // Pre-LN: each sublayer reads a normalised copy of the residual stream and ADDS its result to
  // it; the stream itself is never normalised, so the gradient has an identity path from the
  // loss to the embeddings through every block.
  const Tensor r = x + attn->forward(ln_1(x), cache);
  return r + mlp(ln_2(r));
  // END SOLUTION
}

// ── GPT ──────────────────────────────────────────────────────────────────────────────────────

GPTImpl::GPTImpl(const GPTConfig& config_) : Module("GPT"), config(config_) {
  check_config(config);
  const int64_t V = config.vocab_size, d = config.n_embd;
  wte = register_module("wte", Embedding(EmbeddingOptions(V, d).dtype(config.dtype)));
  wpe =
      register_module("wpe", Embedding(EmbeddingOptions(config.block_size, d).dtype(config.dtype)));
  drop = register_module("drop", Dropout(config.dropout));
  h = register_module("h", ModuleList());
  for (int64_t l = 0; l < config.n_layer; ++l) {
    blocks.emplace_back(config, l);
    h->push_back(blocks.back());
  }
  ln_f = register_module("ln_f", layer_norm(config));
  const LinearOptions head = linear_options(config, d, V, /*bias=*/false);
  lm_head = register_module(
      "lm_head", config.tie_weights ? Linear(std::make_shared<TiedLinearImpl>(head, wte->weight))
                                    : Linear(head));
  init_weights();
}

void GPTImpl::init_weights() {
  // GPT-2 / nanoGPT: every Linear and Embedding weight N(0, 0.02²), biases 0, LayerNorms 1 and 0
  // (their own default). The projections that write into the residual stream (attn.c_proj,
  // mlp.c_proj) get std 0.02 / √(2·n_layer): 2·n_layer of them add up along the stream, and
  // this keeps the stream's variance at init independent of depth (GPT-2 paper, §2.3).
  const NoGradGuard no_grad;
  for (const auto& m : modules(/*include_self=*/false)) {
    if (auto* lin = m->as<Linear>()) {
      init::normal_(lin->weight, 0.0, 0.02);
      if (lin->bias.defined()) init::zeros_(lin->bias);
    } else if (auto* emb = m->as<Embedding>()) {
      init::normal_(emb->weight, 0.0, 0.02);
    }
  }
  const double proj_std = 0.02 / std::sqrt(2.0 * static_cast<double>(config.n_layer));
  for (const auto& block : blocks) {
    init::normal_(block->attn->c_proj->weight, 0.0, proj_std);
    init::normal_(block->mlp->c_proj->weight, 0.0, proj_std);
  }
}

namespace detail {
void check_token_ids(const Tensor& idx, int64_t vocab_size, const char* who) {
  for (const int64_t id : idx.to_vector<int64_t>()) {
    TT_CHECK_INDEX(id >= 0 && id < vocab_size, who, ": token id ", id,
                   " is out of range for vocab_size ", vocab_size, " (ids must be in [0, ",
                   vocab_size, "))");
  }
}
}  // namespace detail

int64_t GPTImpl::check_input(const Tensor& idx, const KVCache* cache) const {
  TT_CHECK_TYPE(idx.dtype() == kInt64, "GPT: expected token ids of dtype int64, but got ",
                idx.dtype());
  TT_CHECK(idx.dim() == 2 && idx.size(1) >= 1,
           "GPT: expected token ids of shape [B, T] with T >= 1, but got shape ", idx.sizes());
  const int64_t past = cache != nullptr ? cache->length() : 0;
  TT_CHECK(past + idx.size(1) <= config.block_size, "GPT: cannot forward a sequence of length ",
           past + idx.size(1), (past > 0 ? " (cached positions included)" : ""),
           ": block_size is only ", config.block_size,
           " (crop the context to its last block_size tokens)");
  if (cache != nullptr) {
    TT_CHECK(cache->n_layer() == config.n_layer && cache->batch_size() == idx.size(0),
             "GPT: the KVCache holds ", cache->n_layer(), " layers for batch size ",
             cache->batch_size(), ", but the model has ", config.n_layer,
             " layers and the batch is ", idx.size(0), " (make it with model->make_cache(B))");
  }
  detail::check_token_ids(idx, config.vocab_size, "GPT");
  return past;
}

Tensor GPTImpl::forward(const Tensor& idx, KVCache* cache) {
  // BEGIN SOLUTION
  const int64_t past = check_input(idx, cache);  // positions already cached (0 without a cache)
  // Positions continue after the cached ones: a decode step's token sits at position `past`.
  const int64_t T = idx.size(1);
  const Tensor pos = arange(past, past + T, 1, kInt64);  // [T]
  Tensor x = drop(wte(idx) + wpe(pos));                  // [B, T, d] + [T, d]
  for (const auto& block : blocks) x = block->forward(x, cache);
  return lm_head(ln_f(x));  // [B, T, V]
  // END SOLUTION
}

KVCache GPTImpl::make_cache(int64_t batch_size, int64_t max_seq_len) const {
  return KVCache(config.n_layer, batch_size, config.n_head,
                 max_seq_len > 0 ? max_seq_len : config.block_size, config.n_embd / config.n_head,
                 config.dtype);
}

int64_t GPTImpl::num_parameters(bool non_embedding) const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return non_embedding ? n - wpe->weight.numel() : n;
}

}  // namespace tinytorch::nn
