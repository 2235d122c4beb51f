// tinytorch/nn/options/transformerlayer.h — the options of libtorch's transformer layers
// (libtorch's torch/nn/options/transformerlayer.h): TransformerEncoderLayerOptions,
// TransformerDecoderLayerOptions, and the activation they take.
//
//   nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(512, 8)
//                                         .dim_feedforward(1024).dropout(0.0)
//                                         .activation(torch::kGELU));
//   ...activation([](const torch::Tensor& x) { return torch::tanh(x); })   // any function
//
// The names and defaults are libtorch's (= Python's nn.TransformerEncoderLayer): feed-forward
// width 2048, dropout 0.1, ReLU. libtorch has no dtype option here: to get float64 layers,
// call layer->to(torch::kFloat64).
#pragma once

#include <cstdint>
#include <functional>
#include <variant>

#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/module.h"       // TT_ARG
#include "tinytorch/nn/options/rnn.h"  // torch::kReLU

namespace tinytorch {

// libtorch's torch::kGELU (exact GELU, with erf), a type of its own like kReLU (options/rnn.h).
namespace enumtype {
struct kGELU {};
}  // namespace enumtype
inline constexpr enumtype::kGELU kGELU{};

namespace nn {

// The feed-forward activation of the transformer layers: torch::kReLU, torch::kGELU, or any
// function Tensor → Tensor (libtorch's torch::nn::activation_t).
using activation_t =
    std::variant<enumtype::kReLU, enumtype::kGELU, std::function<Tensor(const Tensor&)>>;

struct TransformerEncoderLayerOptions {
  TransformerEncoderLayerOptions(int64_t d_model, int64_t nhead)  // NOLINT(google-explicit-*)
      : d_model_(d_model), nhead_(nhead) {}
  // E: the features of every token, in and out (a multiple of nhead).
  TT_ARG(int64_t, d_model);
  // The attention heads.
  TT_ARG(int64_t, nhead);
  // The hidden width of the feed-forward network (linear1: E → dim_feedforward → linear2: E).
  TT_ARG(int64_t, dim_feedforward) = 2048;
  // One probability for every dropout: on the attention weights, in the feed-forward network
  // and on both sublayers' outputs (training mode only).
  TT_ARG(double, dropout) = 0.1;
  TT_ARG(activation_t, activation) = kReLU;
};

struct TransformerDecoderLayerOptions {
  TransformerDecoderLayerOptions(int64_t d_model, int64_t nhead)  // NOLINT(google-explicit-*)
      : d_model_(d_model), nhead_(nhead) {}
  TT_ARG(int64_t, d_model);
  TT_ARG(int64_t, nhead);
  TT_ARG(int64_t, dim_feedforward) = 2048;
  TT_ARG(double, dropout) = 0.1;
  TT_ARG(activation_t, activation) = kReLU;
};

}  // namespace nn
}  // namespace tinytorch
