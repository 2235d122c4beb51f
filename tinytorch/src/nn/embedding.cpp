// Module 11 — Embedding and SinusoidalPositionalEncoding: the table, its initialisation, the
// padding row and the positional table; the lookup is tinytorch::embedding (src/native/embedding.cpp).
#include "tinytorch/nn/modules/embedding.h"

#include <cmath>
#include <string>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/nn/init.h"

namespace tinytorch::nn {

namespace {

// PyTorch's rule: padding_idx in [−V, V), a negative one counting from the end; −1 for "none".
int64_t resolve_padding_idx(const char* who, std::optional<int64_t> padding_idx, int64_t V) {
  if (!padding_idx) return -1;
  const int64_t p = *padding_idx;
  TT_CHECK_VALUE(p >= -V && p < V, who, ": padding_idx must be within num_embeddings: got ", p,
                 " for a table of ", V, " rows (valid: [", -V, ", ", V, "))");
  return p < 0 ? p + V : p;
}

// pe [L, d]: column pair (2i, 2i+1) holds sin and cos of the angle pos·ω_i, ω_i = base^(−2i/d)
// (an odd d's last column is a sin alone).
void fill_sinusoidal_table(int64_t L, int64_t d, double base, double* pe) {
  // BEGIN SOLUTION
  // Each column pair is a rotation at its own angular frequency: the wavelengths 2π/ω_i grow
  // geometrically from 2π (column 0: one turn every 6.3 positions) to 2π·base.
  for (int64_t pos = 0; pos < L; ++pos) {
    for (int64_t c = 0; c < d; ++c) {
      const int64_t pair = c - c % 2;  // 2i
      const double omega = std::pow(base, -static_cast<double>(pair) / static_cast<double>(d));
      const double angle = static_cast<double>(pos) * omega;
      pe[pos * d + c] = c % 2 == 0 ? std::sin(angle) : std::cos(angle);
    }
  }
  // END SOLUTION
}

}  // namespace

namespace functional {

Tensor embedding(const Tensor& input, const Tensor& weight, const EmbeddingFuncOptions& options) {
  TT_CHECK(weight.dim() == 2,
           "F::embedding: expected weight of shape [num_embeddings, embedding_dim], but got ",
           weight.sizes());
  return tinytorch::embedding(
      weight, input, resolve_padding_idx("F::embedding", options.padding_idx(), weight.size(0)));
}

}  // namespace functional

// ── Embedding ─────────────────────────────────────────────────────────────────────────────────

EmbeddingImpl::EmbeddingImpl(const EmbeddingOptions& options_)
    : Module("Embedding"), options(options_) {
  TT_CHECK_VALUE(options.num_embeddings() >= 0 && options.embedding_dim() >= 0,
                 "Embedding: num_embeddings and embedding_dim must be non-negative, but got "
                 "num_embeddings=",
                 options.num_embeddings(), ", embedding_dim=", options.embedding_dim());
  TT_CHECK_TYPE(is_floating_point(options.dtype()),
                "Embedding: the weight must have a floating-point dtype, but got ",
                options.dtype());
  // Stored resolved (non-negative), as PyTorch's nn.Embedding does.
  if (options.padding_idx()) {
    options.padding_idx(
        resolve_padding_idx("Embedding", options.padding_idx(), options.num_embeddings()));
  }
  reset();
}

void EmbeddingImpl::reset() {
  weight = register_parameter(
      "weight", empty({options.num_embeddings(), options.embedding_dim()}, options.dtype()));
  reset_parameters();
}

void EmbeddingImpl::reset_parameters() {
  // BEGIN SOLUTION
  // N(0, 1): each row starts as a random direction of length ≈ √D. The padding row is zero,
  // so a padding token contributes nothing downstream (and its gradient is dropped).
  init::normal_(weight);
  if (options.padding_idx()) {
    const NoGradGuard no_grad;
    weight.select(0, *options.padding_idx()).fill_(0.0);
  }
  // END SOLUTION
}

Tensor EmbeddingImpl::forward(const Tensor& input) {
  return tinytorch::embedding(weight, input, options.padding_idx().value_or(-1));
}

std::string EmbeddingImpl::extra_repr() const {
  std::string s =
      std::to_string(options.num_embeddings()) + ", " + std::to_string(options.embedding_dim());
  if (options.padding_idx()) s += ", padding_idx=" + std::to_string(*options.padding_idx());
  return s;
}

// ── SinusoidalPositionalEncoding ──────────────────────────────────────────────────────────────

SinusoidalPositionalEncodingImpl::SinusoidalPositionalEncodingImpl(
    const SinusoidalPositionalEncodingOptions& options_)
    : Module("SinusoidalPositionalEncoding"), options(options_) {
  TT_CHECK_VALUE(options.max_len() > 0 && options.dim() > 0,
                 "SinusoidalPositionalEncoding: max_len and dim must be positive, but got max_len=",
                 options.max_len(), ", dim=", options.dim());
  TT_CHECK_VALUE(options.base() > 1, "SinusoidalPositionalEncoding: base must be > 1, but got ",
                 options.base());
  TT_CHECK_TYPE(
      is_floating_point(options.dtype()),
      "SinusoidalPositionalEncoding: the table must have a floating-point dtype, but got ",
      options.dtype());
  reset();
}

void SinusoidalPositionalEncodingImpl::reset() {
  Tensor table = empty({options.max_len(), options.dim()}, kFloat64);
  fill_sinusoidal_table(options.max_len(), options.dim(), options.base(), table.data_ptr<double>());
  pe = register_buffer("pe", table.to(options.dtype()));
}

Tensor SinusoidalPositionalEncodingImpl::forward(const Tensor& x) {
  TT_CHECK(x.dim() >= 2 && x.size(-1) == options.dim(),
           "SinusoidalPositionalEncoding: expected input of shape [B, T, ", options.dim(),
           "] or [T, ", options.dim(), "], but got ", x.sizes());
  const int64_t T = x.size(-2);
  TT_CHECK_VALUE(T <= options.max_len(), "SinusoidalPositionalEncoding: sequence length ", T,
                 " exceeds max_len = ", options.max_len(),
                 " (the table has max_len rows: build it with a larger max_len)");
  return x + pe.narrow(0, 0, T).to(x.dtype());
}

std::string SinusoidalPositionalEncodingImpl::extra_repr() const {
  return "max_len=" + std::to_string(options.max_len()) + ", dim=" + std::to_string(options.dim());
}

}  // namespace tinytorch::nn
