// tinytorch/nn/init.h — filling parameters with their starting values (module 03;
// torch::nn::init / torch.nn.init).
//
//   nn::init::kaiming_uniform_(fc->weight, std::sqrt(5.0));   // what Linear does itself
//   nn::init::xavier_normal_(w);  nn::init::zeros_(b);
//
// Every function fills its tensor IN PLACE with grad mode off (so it works on parameters that
// require grad), returns the same tensor, and draws from `generator` or, when it is null, from
// the default generator — manual_seed(s) makes every initialisation reproducible.
//
// Why the scales: a layer y = W·x with fan_in inputs per output and Var(w) = σ² gives
// Var(y) = fan_in · σ² · Var(x). Keeping Var(y) ≈ Var(x) through many layers needs
// σ² = 1 / fan_in (times a gain for the nonlinearity that follows):
//
//   xavier (Glorot, tanh/sigmoid nets):  σ = gain · √(2 / (fan_in + fan_out))
//   kaiming (He, ReLU nets):             σ = gain / √fan,  gain(ReLU) = √2
//   uniform with that σ:                 U(−√3·σ, √3·σ)       (Var U(−b, b) = b² / 3)
#pragma once

#include <cstdint>
#include <utility>

#include "tinytorch/core/generator.h"
#include "tinytorch/core/scalar_type.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::nn::init {

// The nonlinearity that follows the layer (torch.nn.init's `nonlinearity` strings).
enum class Nonlinearity {
  Linear,
  Conv1D,
  Conv2D,
  Conv3D,
  ConvTranspose1D,
  ConvTranspose2D,
  ConvTranspose3D,
  Sigmoid,
  Tanh,
  ReLU,
  LeakyReLU,
  SELU,
};
// Whether the variance is preserved in the forward pass (fan_in) or the backward pass (fan_out).
enum class FanMode { FanIn, FanOut };

// libtorch's spellings (torch::kFanIn, torch::kReLU, ...).
inline constexpr FanMode kFanIn = FanMode::FanIn;
inline constexpr FanMode kFanOut = FanMode::FanOut;
inline constexpr Nonlinearity kLinear = Nonlinearity::Linear;
inline constexpr Nonlinearity kConv1D = Nonlinearity::Conv1D;
inline constexpr Nonlinearity kConv2D = Nonlinearity::Conv2D;
inline constexpr Nonlinearity kConv3D = Nonlinearity::Conv3D;
inline constexpr Nonlinearity kSigmoid = Nonlinearity::Sigmoid;
inline constexpr Nonlinearity kTanh = Nonlinearity::Tanh;
inline constexpr Nonlinearity kReLU = Nonlinearity::ReLU;
inline constexpr Nonlinearity kLeakyReLU = Nonlinearity::LeakyReLU;
inline constexpr Nonlinearity kSELU = Nonlinearity::SELU;

// The recommended gain for a nonlinearity: 1 (linear, conv, sigmoid), 5/3 (tanh), √2 (relu),
// √(2 / (1 + slope²)) (leaky_relu; `param` is the slope), 3/4 (selu).
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);

// (fan_in, fan_out) of a weight of shape [out, in, k...]: fan_in = in · Πk, fan_out = out · Πk.
// Requires at least 2 dims (PyTorch's _calculate_fan_in_and_fan_out).
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);
// fan_in or fan_out, as `mode` says (PyTorch's _calculate_correct_fan).
int64_t calculate_correct_fan(const Tensor& tensor, FanMode mode);

// U(low, high).
Tensor uniform_(Tensor tensor, double low = 0.0, double high = 1.0, Generator* generator = nullptr);
// N(mean, std²).
Tensor normal_(Tensor tensor, double mean = 0.0, double std = 1.0, Generator* generator = nullptr);
Tensor constant_(Tensor tensor, const Scalar& value);
Tensor zeros_(Tensor tensor);
Tensor ones_(Tensor tensor);
// U(−a, a) with a = gain · √(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(Tensor tensor, double gain = 1.0, Generator* generator = nullptr);
// N(0, σ²) with σ = gain · √(2 / (fan_in + fan_out)).
Tensor xavier_normal_(Tensor tensor, double gain = 1.0, Generator* generator = nullptr);
// U(−b, b) with b = gain · √(3 / fan), gain = calculate_gain(nonlinearity, a). a is the
// negative slope of the leaky ReLU that follows (0: a plain ReLU). A tensor with no elements
// is left as it is (PyTorch warns and does the same).
Tensor kaiming_uniform_(Tensor tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                        Nonlinearity nonlinearity = Nonlinearity::LeakyReLU,
                        Generator* generator = nullptr);
// N(0, σ²) with σ = gain / √fan.
Tensor kaiming_normal_(Tensor tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                       Nonlinearity nonlinearity = Nonlinearity::LeakyReLU,
                       Generator* generator = nullptr);

}  // namespace tinytorch::nn::init

namespace tinytorch {
// libtorch names the fan modes and nonlinearities in torch:: itself:
// nn::init::kaiming_normal_(w, 0.0, torch::kFanOut, torch::kReLU). kReLU and kTanh are the RNN
// options' constants (nn/options/rnn.h), which convert to nn::init::Nonlinearity.
inline constexpr nn::init::FanMode kFanIn = nn::init::kFanIn;
inline constexpr nn::init::FanMode kFanOut = nn::init::kFanOut;
inline constexpr nn::init::Nonlinearity kLinear = nn::init::kLinear;
inline constexpr nn::init::Nonlinearity kConv1D = nn::init::kConv1D;
inline constexpr nn::init::Nonlinearity kConv2D = nn::init::kConv2D;
inline constexpr nn::init::Nonlinearity kConv3D = nn::init::kConv3D;
inline constexpr nn::init::Nonlinearity kConvTranspose1D = nn::init::Nonlinearity::ConvTranspose1D;
inline constexpr nn::init::Nonlinearity kConvTranspose2D = nn::init::Nonlinearity::ConvTranspose2D;
inline constexpr nn::init::Nonlinearity kConvTranspose3D = nn::init::Nonlinearity::ConvTranspose3D;
inline constexpr nn::init::Nonlinearity kSigmoid = nn::init::kSigmoid;
inline constexpr nn::init::Nonlinearity kLeakyReLU = nn::init::kLeakyReLU;
inline constexpr nn::init::Nonlinearity kSELU = nn::init::kSELU;
}  // namespace tinytorch
