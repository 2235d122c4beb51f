// tinytorch/nn/modules/activation.h — the activations of module 02 as modules, so they can sit
// in a Sequential and print in the model tree: ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU,
// Softmax, LogSoftmax, and libtorch's further ones: ReLU6, ELU, SELU, CELU, Hardtanh, Softplus,
// Mish (and Python's Hardswish, Hardsigmoid). Each forward() calls the public function
// (tinytorch::relu, F::elu, ...), which records the graph once autograd (module 05) exists.
// Their options are in nn/options/activation.h; inplace(true) prints as PyTorch prints it, only
// when set: ReLU(inplace=true).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tinytorch/nn/module.h"
#include "tinytorch/nn/options/activation.h"

namespace tinytorch::nn {

// max(x, 0).  nn::ReLU(), nn::ReLU(true) (in place)
class ReLUImpl : public Module {
 public:
  explicit ReLUImpl(const ReLUOptions& options = {}) : Module("ReLU"), options(options) {}
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "" or "inplace=true"

  ReLUOptions options;
};
TT_MODULE(ReLU);

// x for x ≥ 0, negative_slope · x below.  nn::LeakyReLU(0.2)
class LeakyReLUImpl : public Module {
 public:
  explicit LeakyReLUImpl(const LeakyReLUOptions& options = {})
      : Module("LeakyReLU"), options(options) {}
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "negative_slope=0.01[, inplace=true]"

  LeakyReLUOptions options;
};
TT_MODULE(LeakyReLU);

// min(max(x, 0), 6).
class ReLU6Impl : public Module {
 public:
  explicit ReLU6Impl(const ReLU6Options& options = {}) : Module("ReLU6"), options(options) {}
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "" or "inplace=true"

  ReLU6Options options;
};
TT_MODULE(ReLU6);

class ELUImpl : public Module {
 public:
  explicit ELUImpl(const ELUOptions& options = {}) : Module("ELU"), options(options) {}
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "alpha=1.0[, inplace=true]"

  ELUOptions options;
};
TT_MODULE(ELU);

class SELUImpl : public Module {
 public:
  explicit SELUImpl(const SELUOptions& options = {}) : Module("SELU"), options(options) {}
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "" or "inplace=true"

  SELUOptions options;
};
TT_MODULE(SELU);

class CELUImpl : public Module {
 public:
  explicit CELUImpl(const CELUOptions& options = {}) : Module("CELU"), options(options) {}
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "alpha=1.0[, inplace=true]"

  CELUOptions options;
};
TT_MODULE(CELU);

// Checks min_val < max_val, as libtorch does.
class HardtanhImpl : public Module {
 public:
  explicit HardtanhImpl(const HardtanhOptions& options = {});
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "min_val=-1.0, max_val=1.0[, inplace=true]"

  HardtanhOptions options;
};
TT_MODULE(Hardtanh);

class SoftplusImpl : public Module {
 public:
  explicit SoftplusImpl(const SoftplusOptions& options = {})
      : Module("Softplus"), options(options) {}
  Tensor forward(const Tensor& input);
  // "beta=1, threshold=20": integral values print without ".0", as Python prints its int
  // defaults.
  std::string extra_repr() const override;

  SoftplusOptions options;
};
TT_MODULE(Softplus);

class MishImpl : public Module {
 public:
  MishImpl() : Module("Mish") {}
  Tensor forward(const Tensor& input);
};
TT_MODULE(Mish);

class HardswishImpl : public Module {
 public:
  HardswishImpl() : Module("Hardswish") {}
  Tensor forward(const Tensor& input);
};
TT_MODULE(Hardswish);

class HardsigmoidImpl : public Module {
 public:
  HardsigmoidImpl() : Module("Hardsigmoid") {}
  Tensor forward(const Tensor& input);
};
TT_MODULE(Hardsigmoid);

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

namespace functional {
// libtorch's functional forms: F::softmax(x, F::SoftmaxFuncOptions(1).dtype(kFloat64)). A dtype
// casts the input before the op (torch::softmax's dtype argument), e.g. float32 logits summed in
// float64. F::softmax(x, 1) is still the plain op (an int picks the dim overload).
struct SoftmaxFuncOptions {
  SoftmaxFuncOptions(int64_t dim) : dim_(dim) {}  // NOLINT(google-explicit-constructor)
  TT_ARG(int64_t, dim);
  TT_ARG(std::optional<ScalarType>, dtype) = std::nullopt;
};
struct LogSoftmaxFuncOptions {
  LogSoftmaxFuncOptions(int64_t dim) : dim_(dim) {}  // NOLINT(google-explicit-constructor)
  TT_ARG(int64_t, dim);
  TT_ARG(std::optional<ScalarType>, dtype) = std::nullopt;
};
inline Tensor softmax(const Tensor& input, const SoftmaxFuncOptions& options) {
  return tinytorch::softmax(options.dtype() ? input.to(*options.dtype()) : input, options.dim());
}
inline Tensor log_softmax(const Tensor& input, const LogSoftmaxFuncOptions& options) {
  return tinytorch::log_softmax(options.dtype() ? input.to(*options.dtype()) : input,
                                options.dim());
}
}  // namespace functional

}  // namespace tinytorch::nn
