// tinytorch/nn/modules/linear.h — Linear, Identity and Flatten (module 03).
//
//   nn::Linear fc(784, 256);                                 y = x · Wᵀ + b
//   nn::Linear no_bias(nn::LinearOptions(784, 256).bias(false));
//
//      x [*, 784] ──► ┌──────────────────────────┐ ──► y [*, 256]
//                     │ weight [256, 784]  (out, in)
//                     │ bias   [256]              │  U(-1/√784, 1/√784) both, as PyTorch
//                     └──────────────────────────┘
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tinytorch/core/scalar_type.h"
#include "tinytorch/nn/module.h"

namespace tinytorch::nn {

struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TT_ARG(int64_t, in_features);
  TT_ARG(int64_t, out_features);
  // Whether to learn an additive bias (PyTorch's bias=True).
  TT_ARG(bool, bias) = true;
  // The parameters' dtype (Python's dtype= factory argument; libtorch converts with .to()).
  TT_ARG(ScalarType, dtype) = kFloat32;
};

class LinearImpl : public Module {
 public:
  LinearImpl(int64_t in_features, int64_t out_features)
      : LinearImpl(LinearOptions(in_features, out_features)) {}
  explicit LinearImpl(const LinearOptions& options);

  // (Re)creates and registers weight [out, in] and bias [out] (or an undefined bias), then
  // initialises them (libtorch's reset()).
  void reset();
  // PyTorch's default initialisation: weight by kaiming_uniform_(a = √5), which is
  // U(-1/√in, 1/√in); bias U(-1/√in, 1/√in) (zero when in_features is 0).
  void reset_parameters();
  // input [*, in_features] → [*, out_features]: tinytorch::linear(input, weight, bias).
  Tensor forward(const Tensor& input);
  // "in_features=784, out_features=256, bias=true"
  std::string extra_repr() const override;

  // A deep copy (Module::clone): a new layer from the same options, given this one's tensors.
  std::shared_ptr<Module> clone(const std::optional<Device>& device = std::nullopt) const override;

  LinearOptions options;
  Tensor weight;
  Tensor bias;  // undefined when options.bias() is false
};
TT_MODULE(Linear);

// Returns its input unchanged (a placeholder, e.g. for a layer switched off).
class IdentityImpl : public Module {
 public:
  IdentityImpl() : Module("Identity") {}
  Tensor forward(const Tensor& input);
};
TT_MODULE(Identity);

struct FlattenOptions {
  TT_ARG(int64_t, start_dim) = 1;
  TT_ARG(int64_t, end_dim) = -1;
};

// Flattens dims start_dim..end_dim into one: [N, 1, 28, 28] → [N, 784] by default (dim 0, the
// batch, is kept). A view when the layout allows, like Tensor::flatten.
class FlattenImpl : public Module {
 public:
  explicit FlattenImpl(const FlattenOptions& options = {});
  explicit FlattenImpl(int64_t start_dim, int64_t end_dim = -1)
      : FlattenImpl(FlattenOptions().start_dim(start_dim).end_dim(end_dim)) {}
  Tensor forward(const Tensor& input);
  std::string extra_repr() const override;  // "start_dim=1, end_dim=-1"

  FlattenOptions options;
};
TT_MODULE(Flatten);

}  // namespace tinytorch::nn
