// Module 03 — Layers: parameter initialisation (modules/03_layers/README.md, Part 4).
// Every function fills its tensor in place, with grad mode off, from a Generator, and returns it.
#include "tinytorch/nn/init.h"

#include <cmath>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"

namespace tinytorch::nn::init {

namespace {

void check_floating(const Tensor& t, const char* op) {
  TT_CHECK(t.defined(), op, ": the tensor is undefined");
  TT_CHECK_TYPE(t.is_floating_point(), op, ": expected a floating-point tensor, but got ",
                t.dtype());
}

// [out, in, k1, k2, ...] (at least 2 dims): every output sees in·k1·k2·... inputs (its
// fan_in), every input reaches out·k1·k2·... outputs (its fan_out).
std::pair<int64_t, int64_t> fans_of_shape(IntArrayRef sizes) {
  // BEGIN SOLUTION
  int64_t receptive_field = 1;
  for (size_t d = 2; d < sizes.size(); ++d) receptive_field *= sizes[d];
  return {sizes[1] * receptive_field, sizes[0] * receptive_field};
  // END SOLUTION
}

// Writes low + (high − low)·u, u ~ U[0, 1) from `generator` (null: the default one), into every
// element of t, in place and with grad mode off.
void fill_uniform(Tensor& t, double low, double high, Generator* generator) {
  // BEGIN SOLUTION
  const NoGradGuard no_grad;
  Tensor u = rand(t.sizes(), t.dtype(), generator);  // contiguous, in t's dtype
  u.mul_(high - low).add_(low);
  t.copy_(u);  // copy_ writes through any layout of t (a transposed view, a slice, ...)
  // END SOLUTION
}

// Writes mean + std·z, z ~ N(0, 1), into every element of t, in place, grad mode off.
void fill_normal(Tensor& t, double mean, double std, Generator* generator) {
  // BEGIN SOLUTION
  const NoGradGuard no_grad;
  Tensor z = randn(t.sizes(), t.dtype(), generator);
  z.mul_(std).add_(mean);
  t.copy_(z);
  // END SOLUTION
}

// Glorot & Bengio (2010): the standard deviation that keeps the variance of activations (forward)
// and of gradients (backward) about equal, as a compromise between fan_in and fan_out.
double xavier_std(int64_t fan_in, int64_t fan_out, double gain) {
  // BEGIN SOLUTION
  return gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  // END SOLUTION
}

// He et al. (2015): the standard deviation that keeps the variance of activations equal from
// layer to layer when `gain` accounts for the nonlinearity (√2 for ReLU, which zeroes half).
double kaiming_std(int64_t fan, double gain) {
  // BEGIN SOLUTION
  return gain / std::sqrt(static_cast<double>(fan));
  // END SOLUTION
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, double param) {
  // BEGIN SOLUTION
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Conv1D:
    case Nonlinearity::Conv2D:
    case Nonlinearity::Conv3D:
    case Nonlinearity::ConvTranspose1D:
    case Nonlinearity::ConvTranspose2D:
    case Nonlinearity::ConvTranspose3D:
    case Nonlinearity::Sigmoid:
      return 1.0;
    case Nonlinearity::Tanh:
      return 5.0 / 3.0;
    case Nonlinearity::ReLU:
      return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU:
      return std::sqrt(2.0 / (1.0 + param * param));
    case Nonlinearity::SELU:
      return 3.0 / 4.0;
  }
  return 1.0;
  // END SOLUTION
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor) {
  TT_CHECK(tensor.defined(), "calculate_fan_in_and_fan_out: the tensor is undefined");
  TT_CHECK_VALUE(tensor.dim() >= 2,
                 "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                 "(got a ",
                 tensor.dim(), "-d tensor of shape ", tensor.sizes(), ")");
  return fans_of_shape(tensor.sizes());
}

int64_t calculate_correct_fan(const Tensor& tensor, FanMode mode) {
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  return mode == FanMode::FanIn ? fan_in : fan_out;
}

Tensor uniform_(Tensor tensor, double low, double high, Generator* generator) {
  check_floating(tensor, "uniform_");
  TT_CHECK_VALUE(low <= high, "uniform_ expects to return a [from, to) range, but found from=", low,
                 " > to=", high);
  fill_uniform(tensor, low, high, generator);
  return tensor;
}

Tensor normal_(Tensor tensor, double mean, double std, Generator* generator) {
  check_floating(tensor, "normal_");
  TT_CHECK_VALUE(std >= 0.0, "normal_ expects std >= 0.0, but found std ", std);
  fill_normal(tensor, mean, std, generator);
  return tensor;
}

Tensor constant_(Tensor tensor, const Scalar& value) {
  TT_CHECK(tensor.defined(), "constant_: the tensor is undefined");
  const NoGradGuard no_grad;
  tensor.fill_(value);
  return tensor;
}

Tensor zeros_(Tensor tensor) {
  return constant_(std::move(tensor), 0);
}

Tensor ones_(Tensor tensor) {
  return constant_(std::move(tensor), 1);
}

Tensor xavier_uniform_(Tensor tensor, double gain, Generator* generator) {
  check_floating(tensor, "xavier_uniform_");
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  TT_CHECK_VALUE(fan_in + fan_out > 0,
                 "xavier_uniform_: fan_in + fan_out is 0 for a tensor of shape ", tensor.sizes(),
                 ", so the scale 2 / (fan_in + fan_out) is undefined");
  // U(−a, a) has standard deviation a/√3, so a = √3·std.
  const double a = std::sqrt(3.0) * xavier_std(fan_in, fan_out, gain);
  return uniform_(tensor, -a, a, generator);
}

Tensor xavier_normal_(Tensor tensor, double gain, Generator* generator) {
  check_floating(tensor, "xavier_normal_");
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  TT_CHECK_VALUE(fan_in + fan_out > 0,
                 "xavier_normal_: fan_in + fan_out is 0 for a tensor of shape ", tensor.sizes(),
                 ", so the scale 2 / (fan_in + fan_out) is undefined");
  return normal_(tensor, 0.0, xavier_std(fan_in, fan_out, gain), generator);
}

Tensor kaiming_uniform_(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity,
                        Generator* generator) {
  check_floating(tensor, "kaiming_uniform_");
  // No elements, no fan to speak of: PyTorch warns "Initializing zero-element tensors is a
  // no-op" and returns; so do we (without the warning).
  if (tensor.numel() == 0) return tensor;
  const int64_t fan = calculate_correct_fan(tensor, mode);  // > 0: every dim is
  const double std = kaiming_std(fan, calculate_gain(nonlinearity, a));
  const double bound = std::sqrt(3.0) * std;  // U(−b, b) has standard deviation b/√3
  return uniform_(tensor, -bound, bound, generator);
}

Tensor kaiming_normal_(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity,
                       Generator* generator) {
  check_floating(tensor, "kaiming_normal_");
  if (tensor.numel() == 0) return tensor;
  const int64_t fan = calculate_correct_fan(tensor, mode);  // > 0: every dim is
  return normal_(tensor, 0.0, kaiming_std(fan, calculate_gain(nonlinearity, a)), generator);
}

}  // namespace tinytorch::nn::init
