// Module 17 — Memoization: the KV cache (modules/17_memoization/README.md). During decoding a
// position's keys and values never change once computed (causal attention: nothing later can
// affect them), so each layer keeps them in preallocated buffers and a decode step computes
// q, k, v for the ONE new token, appends k and v, and attends over the buffer's filled prefix.
#include "tinytorch/nn/kv_cache.h"

#include <utility>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"

namespace tinytorch::nn {

namespace {

// Writes key/value [B, H, T, hd] into the buffers [B, H, max_seq_len, hd] at positions
// past … past+T−1 and returns views of positions 0 … past+T−1.
std::pair<Tensor, Tensor> append_positions(const Tensor& keys, const Tensor& values, int64_t past,
                                           const Tensor& key, const Tensor& value) {
  // BEGIN SOLUTION
  // O(T) copies per step: only the new positions are written (through narrow() views of the
  // buffers), never the past ones — unlike torch.cat([past_k, k]), which copies all of them.
  const NoGradGuard no_grad;  // the cache is inference state, never part of a graph
  const int64_t T = key.size(2);
  keys.narrow(2, past, T).copy_(key);
  values.narrow(2, past, T).copy_(value);
  return {keys.narrow(2, 0, past + T), values.narrow(2, 0, past + T)};
  // END SOLUTION
}

}  // namespace

KVCache::KVCache(int64_t n_layer, int64_t batch_size, int64_t n_head, int64_t max_seq_len,
                 int64_t head_dim, ScalarType dtype)
    : batch_size_(batch_size), n_head_(n_head), max_seq_len_(max_seq_len), head_dim_(head_dim) {
  TT_CHECK_VALUE(n_layer > 0 && batch_size > 0 && n_head > 0 && max_seq_len > 0 && head_dim > 0,
                 "KVCache: n_layer, batch_size, n_head, max_seq_len and head_dim must be "
                 "positive, but got n_layer=",
                 n_layer, ", batch_size=", batch_size, ", n_head=", n_head,
                 ", max_seq_len=", max_seq_len, ", head_dim=", head_dim);
  TT_CHECK_TYPE(is_floating_point(dtype),
                "KVCache: the buffers must have a floating-point dtype, "
                "but got ",
                dtype);
  for (int64_t l = 0; l < n_layer; ++l) {
    keys_.push_back(zeros({batch_size, n_head, max_seq_len, head_dim}, dtype));
    values_.push_back(zeros({batch_size, n_head, max_seq_len, head_dim}, dtype));
  }
  lengths_.assign(static_cast<size_t>(n_layer), 0);
}

void KVCache::check_layer(int64_t layer) const {
  TT_CHECK_INDEX(layer >= 0 && layer < n_layer(), "KVCache: layer ", layer,
                 " is out of range for a cache of ", n_layer(), " layers");
}

std::pair<Tensor, Tensor> KVCache::update(int64_t layer, const Tensor& key, const Tensor& value) {
  check_layer(layer);
  const Tensor& buffer = keys_[static_cast<size_t>(layer)];
  TT_CHECK(key.dim() == 4 && key.sizes() == value.sizes() && key.size(0) == batch_size_ &&
               key.size(1) == n_head_ && key.size(2) >= 1 && key.size(3) == head_dim_,
           "KVCache: update expects key and value of shape [B=", batch_size_, ", H=", n_head_,
           ", T >= 1, hd=", head_dim_, "], but got key ", key.sizes(), " and value ",
           value.sizes());
  int64_t& past = lengths_[static_cast<size_t>(layer)];
  const int64_t T = key.size(2);
  TT_CHECK(past + T <= max_seq_len_, "KVCache: full — layer ", layer, " holds ", past, " of ",
           max_seq_len_, " positions and cannot take ", T,
           " more (make the cache with a larger max_seq_len, or reset() it)");
  auto kv = append_positions(buffer, values_[static_cast<size_t>(layer)], past, key, value);
  past += T;
  return kv;
}

int64_t KVCache::length(int64_t layer) const {
  check_layer(layer);
  return lengths_[static_cast<size_t>(layer)];
}

void KVCache::reset() {
  std::fill(lengths_.begin(), lengths_.end(), 0);
}

int64_t KVCache::bytes_per_token() const {
  // BEGIN SOLUTION
  // K and V, every layer, every head: 2 · n_layer · n_head · head_dim elements per position.
  return 2 * n_layer() * n_head_ * head_dim_ * (keys_.empty() ? 0 : keys_.front().element_size());
  // END SOLUTION
}

int64_t KVCache::nbytes() const {
  return bytes_per_token() * batch_size_ * max_seq_len_;
}

const Tensor& KVCache::keys(int64_t layer) const {
  check_layer(layer);
  return keys_[static_cast<size_t>(layer)];
}

const Tensor& KVCache::values(int64_t layer) const {
  check_layer(layer);
  return values_[static_cast<size_t>(layer)];
}

}  // namespace tinytorch::nn
