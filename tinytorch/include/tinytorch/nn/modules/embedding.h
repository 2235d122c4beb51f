// tinytorch/nn/modules/embedding.h — Embedding and SinusoidalPositionalEncoding, and F::embedding
// (module 11).
//
//   nn::Embedding wte(nn::EmbeddingOptions(65, 128));         ids int64 [B, T] ──► [B, T, 128]
//   nn::Embedding emb(nn::EmbeddingOptions(1000, 64).padding_idx(0));
//   nn::SinusoidalPositionalEncoding pos(512, 128);            x [B, T, 128] ──► x + pe[:T]
//
//   ┌────────── Embedding(65, 128) ───────────┐
//   │ parameters  weight [65, 128] ~ N(0, 1)  │   one row per token id; row padding_idx
//   │                                         │   starts at zero and is never trained
//   └─────────────────────────────────────────┘
//   ┌── SinusoidalPositionalEncoding(512, 128) ──┐
//   │ buffers  pe [512, 128]   (fixed, not trained) │   pe[p, 2i]   = sin(p / 10000^(2i/d))
//   └─────────────────────────────────────────────┘   pe[p, 2i+1] = cos(p / 10000^(2i/d))
//
// Learned positions (GPT-2) are an Embedding over arange(T): wpe(arange(T)) [T, d].
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tinytorch/core/scalar_type.h"
#include "tinytorch/nn/functional/embedding.h"
#include "tinytorch/nn/module.h"

namespace tinytorch::nn {

struct EmbeddingOptions {
  EmbeddingOptions(int64_t num_embeddings, int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}
  // V, the table's row count (the vocabulary size).
  TT_ARG(int64_t, num_embeddings);
  // D, the length of each row.
  TT_ARG(int64_t, embedding_dim);
  // The row that stays zero and gets no gradient (a padding token); negative counts from the
  // end (−1 is row V − 1), as in PyTorch. nullopt: none.
  TT_ARG(std::optional<int64_t>, padding_idx) = std::nullopt;
  // The weight's dtype (as LinearOptions::dtype).
  TT_ARG(ScalarType, dtype) = kFloat32;
};

namespace functional {
struct EmbeddingFuncOptions {
  // As EmbeddingOptions::padding_idx (negative counts from the end of the weight's rows).
  TT_ARG(std::optional<int64_t>, padding_idx) = std::nullopt;
};
// libtorch's argument order: the indices first, then the table.
Tensor embedding(const Tensor& input, const Tensor& weight,
                 const EmbeddingFuncOptions& options = {});
}  // namespace functional

class EmbeddingImpl : public Module {
 public:
  EmbeddingImpl(int64_t num_embeddings, int64_t embedding_dim)
      : EmbeddingImpl(EmbeddingOptions(num_embeddings, embedding_dim)) {}
  explicit EmbeddingImpl(const EmbeddingOptions& options);
  // Registers weight [V, D], then resets it.
  void reset();
  // weight ~ N(0, 1) (PyTorch's default), the padding row zeroed.
  void reset_parameters();
  // indices int64 [*] → [*, D].
  Tensor forward(const Tensor& input);
  // "65, 128" or "1000, 64, padding_idx=0"
  std::string extra_repr() const override;

  EmbeddingOptions options;
  Tensor weight;
};
TT_MODULE(Embedding);

struct SinusoidalPositionalEncodingOptions {
  SinusoidalPositionalEncodingOptions(int64_t max_len, int64_t dim)
      : max_len_(max_len), dim_(dim) {}
  // The longest sequence the table covers (its rows).
  TT_ARG(int64_t, max_len);
  // d, the model width (its columns).
  TT_ARG(int64_t, dim);
  // The wavelengths run from 2π to 2π·base (Vaswani et al.: 10000).
  TT_ARG(double, base) = 10000.0;
  TT_ARG(ScalarType, dtype) = kFloat32;
};

// Vaswani et al. (2017), section 3.5: a fixed table added to the token embeddings.
class SinusoidalPositionalEncodingImpl : public Module {
 public:
  SinusoidalPositionalEncodingImpl(int64_t max_len, int64_t dim)
      : SinusoidalPositionalEncodingImpl(SinusoidalPositionalEncodingOptions(max_len, dim)) {}
  explicit SinusoidalPositionalEncodingImpl(const SinusoidalPositionalEncodingOptions& options);
  // Registers and fills the buffer pe [max_len, dim].
  void reset();
  // x [B, T, dim] or [T, dim] → x + pe[:T] (T ≤ max_len).
  Tensor forward(const Tensor& x);
  // "max_len=512, dim=128"
  std::string extra_repr() const override;

  SinusoidalPositionalEncodingOptions options;
  Tensor pe;
};
TT_MODULE(SinusoidalPositionalEncoding);

}  // namespace tinytorch::nn
