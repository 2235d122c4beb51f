// tinytorch/nn/modules/normalization.h — LayerNorm and RMSNorm, and F::layer_norm / F::rms_norm
// (module 13); F::normalize (libtorch's, for embeddings and cosine similarities).
//
//   nn::LayerNorm ln(nn::LayerNormOptions({128}));          x [B, T, 128] ──► y [B, T, 128]
//   nn::RMSNorm rms(nn::RMSNormOptions({128}).eps(1e-6));
//
//   ┌──────────── LayerNorm((128,)) ─────────────┐
//   │ parameters  weight [128] = 1  bias [128] = 0│   (elementwise_affine = true)
//   │ no buffers: nothing is tracked across       │
//   │ batches, train() and eval() are the same    │
//   └─────────────────────────────────────────────┘
//   each token's 128 features are normalised on their own (src/native/normalization.cpp):
//     LayerNorm: y = (x − mean)/√(var + eps)·weight + bias
//     RMSNorm:   y = x/√(mean(x²) + eps)·weight          (no mean, no bias)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tinytorch/core/scalar_type.h"
#include "tinytorch/nn/functional/normalization.h"
#include "tinytorch/nn/module.h"

namespace tinytorch::nn {

struct LayerNormOptions {
  LayerNormOptions(std::vector<int64_t> normalized_shape)  // NOLINT(google-explicit-constructor)
      : normalized_shape_(std::move(normalized_shape)) {}
  // The trailing dims normalised together: {d} for [B, T, d].
  TT_ARG(std::vector<int64_t>, normalized_shape);
  // Added to the variance before the square root.
  TT_ARG(double, eps) = 1e-5;
  // Whether to learn weight (γ, ones) and bias (β, zeros) of shape normalized_shape.
  TT_ARG(bool, elementwise_affine) = true;
  // The parameters' dtype (as LinearOptions::dtype).
  TT_ARG(ScalarType, dtype) = kFloat32;
};

struct RMSNormOptions {
  RMSNormOptions(std::vector<int64_t> normalized_shape)  // NOLINT(google-explicit-constructor)
      : normalized_shape_(std::move(normalized_shape)) {}
  TT_ARG(std::vector<int64_t>, normalized_shape);
  // Added to mean(x²); nullopt: the machine epsilon of the input's dtype (PyTorch's default).
  TT_ARG(std::optional<double>, eps) = std::nullopt;
  // Whether to learn weight (γ, ones) of shape normalized_shape.
  TT_ARG(bool, elementwise_affine) = true;
  TT_ARG(ScalarType, dtype) = kFloat32;
};

namespace functional {
struct LayerNormFuncOptions {
  LayerNormFuncOptions(std::vector<int64_t> normalized_shape)  // NOLINT
      : normalized_shape_(std::move(normalized_shape)) {}
  TT_ARG(std::vector<int64_t>, normalized_shape);
  TT_ARG(Tensor, weight);
  TT_ARG(Tensor, bias);
  TT_ARG(double, eps) = 1e-5;
};
Tensor layer_norm(const Tensor& input, const LayerNormFuncOptions& options);
using tinytorch::layer_norm;

struct RMSNormFuncOptions {
  RMSNormFuncOptions(std::vector<int64_t> normalized_shape)  // NOLINT
      : normalized_shape_(std::move(normalized_shape)) {}
  TT_ARG(std::vector<int64_t>, normalized_shape);
  TT_ARG(Tensor, weight);
  TT_ARG(std::optional<double>, eps) = std::nullopt;
};
Tensor rms_norm(const Tensor& input, const RMSNormFuncOptions& options);
using tinytorch::rms_norm;

// libtorch's F::normalize: input / max(‖input‖_p along dim, eps), the norm kept as a size-1 dim
// and broadcast back. x [N, d] with the defaults: each row scaled to unit L2 length; a row whose
// norm is below eps (all zeros) is divided by eps instead of 0 (it stays ≈ 0, no NaN).
struct NormalizeFuncOptions {
  TT_ARG(double, p) = 2.0;
  TT_ARG(int64_t, dim) = 1;
  TT_ARG(double, eps) = 1e-12;
  // Where to write the result (libtorch's div_out): a tensor of the input's shape, written and
  // returned. As any out= op, it takes no part in autograd: with grad mode on, neither it nor
  // the input may require grad.
  TT_ARG(std::optional<Tensor>, out) = std::nullopt;
};
Tensor normalize(const Tensor& input, NormalizeFuncOptions options = {});
}  // namespace functional

class LayerNormImpl : public Module {
 public:
  explicit LayerNormImpl(const LayerNormOptions& options);
  // Registers weight and bias (undefined without elementwise_affine), then resets them.
  void reset();
  // weight = 1, bias = 0.
  void reset_parameters();
  // input [*, normalized_shape] → the same shape.
  Tensor forward(const Tensor& input);
  // "(128,), eps=1e-05, elementwise_affine=true" (PyTorch's, with libtorch's bool spelling)
  std::string extra_repr() const override;

  // A deep copy (Module::clone): a new layer from the same options, given this one's tensors.
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;

  LayerNormOptions options;
  Tensor weight, bias;
};
TT_MODULE(LayerNorm);

class RMSNormImpl : public Module {
 public:
  explicit RMSNormImpl(const RMSNormOptions& options);
  void reset();
  // weight = 1.
  void reset_parameters();
  Tensor forward(const Tensor& input);
  // "(128,), eps=None, elementwise_affine=true" (PyTorch 2.4's torch.nn.RMSNorm)
  std::string extra_repr() const override;

  RMSNormOptions options;
  Tensor weight;
};
TT_MODULE(RMSNorm);

}  // namespace tinytorch::nn
