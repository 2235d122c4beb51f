// tinytorch/nn/kv_cache.h — the KV cache of autoregressive decoding (module 17).
//
//   nn::KVCache cache = model->make_cache(/*batch_size=*/1);   // every layer's K/V, preallocated
//   Tensor logits = model->forward(prompt, &cache);             // prefill: T0 positions cached
//   logits = model->forward(next_token, &cache);                // decode: 1 new position, attends
//                                                               // to all T0 + 1 cached ones
//
//   one layer's buffers (batch B, heads H, head size hd):
//
//        keys [B, H, max_seq_len, hd]            values [B, H, max_seq_len, hd]
//        ┌───────────────┬───────────────┐       ┌───────────────┬───────────────┐
//        │ 0 … length−1  │   (unused)    │       │ 0 … length−1  │   (unused)    │
//        └───────────────┴───────────────┘       └───────────────┴───────────────┘
//          update(layer, k, v) writes k, v [B, H, T, hd] at positions length … length+T−1 and
//          returns views of positions 0 … length+T−1 — no reallocation, no copy of the past.
//
// Memory: bytes_per_token() = 2 (K and V) · n_layer · n_head · head_dim · element size
//                           = 2 · n_layer · n_embd · 4 bytes in float32, per sequence.
// The cache is for inference: update() writes under NoGradGuard, so no gradient flows back
// through cached keys and values (HF transformers' DynamicCache and vLLM's KV blocks are the
// production versions; modules/17_memoization/README.md compares them).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "tinytorch/core/scalar_type.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::nn {

class KVCache {
 public:
  // Allocates n_layer pairs of zero-filled [batch_size, n_head, max_seq_len, head_dim] buffers.
  KVCache(int64_t n_layer, int64_t batch_size, int64_t n_head, int64_t max_seq_len,
          int64_t head_dim, ScalarType dtype = kFloat32);
  // Move-only: a copy would alias the buffers (Tensor copies are handles) but not the lengths,
  // and two caches writing into one buffer is a bug waiting to happen.
  KVCache(const KVCache&) = delete;
  KVCache& operator=(const KVCache&) = delete;
  KVCache(KVCache&&) = default;
  KVCache& operator=(KVCache&&) = default;

  // Appends key/value [B, H, T, hd] (T ≥ 1 new positions) to layer `layer`'s buffers and returns
  // (keys, values) [B, H, length + T, hd]: views of everything the layer holds, the new
  // positions last. Throws when the cache would overflow ("KVCache: full") or the shapes differ.
  std::pair<Tensor, Tensor> update(int64_t layer, const Tensor& key, const Tensor& value);

  // The positions cached in layer 0 (after a whole forward every layer holds the same): the
  // position of the next token a forward will be given.
  int64_t length() const { return lengths_.empty() ? 0 : lengths_.front(); }
  int64_t length(int64_t layer) const;
  int64_t max_seq_len() const { return max_seq_len_; }
  int64_t n_layer() const { return static_cast<int64_t>(keys_.size()); }
  int64_t batch_size() const { return batch_size_; }
  // Forgets every cached position (the buffers are kept for the next sequence).
  void reset();

  // The memory one cached position of one sequence takes, K and V of every layer:
  // 2 · n_layer · n_head · head_dim · element size.
  int64_t bytes_per_token() const;
  // What the buffers hold in all: bytes_per_token() · batch_size · max_seq_len.
  int64_t nbytes() const;

  // Layer `layer`'s whole buffers [B, H, max_seq_len, hd] (positions ≥ length(layer) unused).
  const Tensor& keys(int64_t layer) const;
  const Tensor& values(int64_t layer) const;

 private:
  void check_layer(int64_t layer) const;

  std::vector<Tensor> keys_, values_;  // per layer: [B, H, max_seq_len, hd]
  std::vector<int64_t> lengths_;       // per layer: positions written
  int64_t batch_size_ = 0, n_head_ = 0, max_seq_len_ = 0, head_dim_ = 0;
};

}  // namespace tinytorch::nn
