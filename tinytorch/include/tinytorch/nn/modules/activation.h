// tinytorch/nn/modules/activation.h — the activations of module 02 as modules, so they can sit
// in a Sequential and print in the model tree: ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU,
// Softmax, LogSoftmax. Each forward() calls the public function (tinytorch::relu, ...), which
// records the graph once autograd (module 05) exists.
#pragma once

#include <cstdint>
#include <string>

#include "tinytorch/nn/module.h"

namespace tinytorch::nn {

class ReLUImpl : public Module {
 public:
  ReLUImpl() : Module("ReLU") {}
  Tensor forward(const Tensor& input);
};
TT_MODULE(ReLU);

struct LeakyReLUOptions {
  LeakyReLUOptions(double negative_slope = 0.01)  // NOLINT(google-explicit-constructor)
      : negative_slope_(negative_slope) {}
  TT_ARG(double, negative_slope);
};

// x for x ≥ 0, negative_slope · x below.  nn::LeakyReLU(0.2)
class LeakyReLUImpl : public Module {
 public:
  explicit LeakyReLUImpl(const LeakyReLUOptions& options = {})
      : Module("LeakyReLU"), options(options) {}
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "negative_slope=0.01"

  LeakyReLUOptions options;
};
TT_MODULE(LeakyReLU);

class SigmoidImpl : public Module {
 public:
  SigmoidImpl() : Module("Sigmoid") {}
  Tensor forward(const Tensor& input);
};
TT_MODULE(Sigmoid);

class TanhImpl : public Module {
 public:
  TanhImpl() : Module("Tanh") {}
  Tensor forward(const Tensor& input);
};
TT_MODULE(Tanh);

struct GELUOptions {
  GELUOptions(std::string approximate = "none")  // NOLINT(google-explicit-constructor)
      : approximate_(std::move(approximate)) {}
  // "none" (exact, with erf) or "tanh" (the tanh approximation).
  TT_ARG(std::string, approximate);
};

class GELUImpl : public Module {
 public:
  explicit GELUImpl(const GELUOptions& options = {});
  explicit GELUImpl(std::string approximate) : GELUImpl(GELUOptions(std::move(approximate))) {}
  explicit GELUImpl(const char* approximate) : GELUImpl(GELUOptions(approximate)) {}
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "approximate='none'"

  GELUOptions options;
};
TT_MODULE(GELU);

// x · sigmoid(x), a.k.a. swish.
class SiLUImpl : public Module {
 public:
  SiLUImpl() : Module("SiLU") {}
  Tensor forward(const Tensor& input);
};
TT_MODULE(SiLU);

struct SoftmaxOptions {
  SoftmaxOptions(int64_t dim) : dim_(dim) {}  // NOLINT(google-explicit-constructor)
  TT_ARG(int64_t, dim);
};

// Softmax along `dim` (no default: PyTorch's implicit dim choice is deprecated).
class SoftmaxImpl : public Module {
 public:
  explicit SoftmaxImpl(const SoftmaxOptions& options) : Module("Softmax"), options(options) {}
  explicit SoftmaxImpl(int64_t dim) : SoftmaxImpl(SoftmaxOptions(dim)) {}
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "dim=1"

  SoftmaxOptions options;
};
TT_MODULE(Softmax);

struct LogSoftmaxOptions {
  LogSoftmaxOptions(int64_t dim) : dim_(dim) {}  // NOLINT(google-explicit-constructor)
  TT_ARG(int64_t, dim);
};

class LogSoftmaxImpl : public Module {
 public:
  explicit LogSoftmaxImpl(const LogSoftmaxOptions& options)
      : Module("LogSoftmax"), options(options) {}
  explicit LogSoftmaxImpl(int64_t dim) : LogSoftmaxImpl(LogSoftmaxOptions(dim)) {}
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "dim=1"

  LogSoftmaxOptions options;
};
TT_MODULE(LogSoftmax);

}  // namespace tinytorch::nn
