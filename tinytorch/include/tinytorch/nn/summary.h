// tinytorch/nn/summary.h — a model's layers, output shapes and sizes, from one forward pass
// (Python's torchinfo.summary; libtorch has none).
//
//   nn::Sequential model(nn::Flatten(), nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 10));
//   std::cout << nn::summary(model, {64, 1, 28, 28});
//
//   ===============================================================
//   Layer (type: name)              Output Shape            Param #
//   ===============================================================
//   Sequential                      [64, 10]                     --
//   ├─Flatten: 0                    [64, 784]                    --
//   ├─Linear: 1                     [64, 256]               200,960
//   ├─ReLU: 2                       [64, 256]                    --
//   └─Linear: 3                     [64, 10]                  2,570
//   ===============================================================
//   Total params: 203,530  ...  Forward activations: 326.50 KiB  ...  Params size: 795.04 KiB
//
// Each layer's FLOPs come from the profiler (module 14): its forward runs under a
// profiler::Profiler and the counted FLOPs of its ops are summed. The table shows them and the
// layer's activation bytes in two more columns.
//
// How: a zero input of `input_size` goes through the model once, in eval mode (BatchNorm uses
// its running statistics and updates nothing, Dropout is the identity) and with no graph. Each
// Sequential — nested ones too — is walked child by child, so every layer's output shape is
// seen; any other module is one row (its submodules' parameters counted in it). The model is
// left exactly as it was: each module's train/eval flag is restored, no parameter, buffer or
// random generator is touched.
//
// When a layer throws, summary() throws the same kind of error, naming the layer (its dotted
// name, as in state_dict), the shape that reached it, the layer's own message, and the table of
// the layers that ran before it. For a Linear whose in_features does not match, it says how
// many features actually arrive — after a Flatten, the flattened size to put in in_features.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "tinytorch/core/int_array_ref.h"
#include "tinytorch/core/scalar_type.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/nn/modules/container.h"

namespace tinytorch::nn {

struct SummaryOptions {
  // Rows nested deeper than this are not printed (torchinfo's depth; the model itself is depth
  // 0, its children depth 1). Every layer is still run and counted in the totals.
  TT_ARG(int64_t, depth) = 3;
  // The zero input's dtype.
  TT_ARG(ScalarType, dtype) = kFloat32;
};

// One row: a module as the forward pass met it.
struct LayerSummary {
  std::string name;  // dotted path from the model, as in state_dict: "0", "3.1"; "" = the model
  std::string type;  // Module::name(): "Conv2d", "Sequential"
  int64_t depth = 0;
  bool is_container = false;  // a Sequential, whose children have rows of their own
  std::vector<int64_t> input_shape;
  std::vector<int64_t> output_shape;
  int64_t parameters = 0;  // its parameters (and its submodules'), each tensor once
  int64_t trainable_parameters = 0;
  // Its output's bytes (a container: its children's sum): what training keeps for backward.
  int64_t activation_bytes = 0;
  // FLOPs of its forward pass, as the profiler counts them (profiler::flops: matmul, linear,
  // conv2d, attention; a container: its children's sum).
  int64_t flops = 0;
};

struct ModelSummary {
  std::vector<LayerSummary> layers;  // in the order the forward pass met them (pre-order)
  std::vector<int64_t> input_shape;
  std::vector<int64_t> output_shape;
  ScalarType dtype = kFloat32;
  int64_t depth = 3;                 // rows deeper than this are not printed
  int64_t total_parameters = 0;      // every parameter of the model, each tensor once
  int64_t trainable_parameters = 0;  // those with requires_grad
  int64_t parameter_bytes = 0;
  int64_t buffer_bytes = 0;       // BatchNorm's running statistics, ...
  int64_t input_bytes = 0;        // the input batch
  int64_t activation_bytes = 0;   // the outputs of every non-container layer, for this batch:
                                  // what a training step keeps alive for its backward pass
  int64_t total_flops = 0;        // the forward pass's FLOPs, for this batch
  bool flops_counted = true;      // false while profiler::flops (module 14) is still a stub
  std::string to_string() const;  // the table above
};

std::ostream& operator<<(std::ostream& stream, const ModelSummary& summary);

// Runs `model` once on zeros of `input_size` ([N, C, H, W] for a CNN) and returns the summary.
ModelSummary summary(const AnyModule& model, IntArrayRef input_size,
                     const SummaryOptions& options = {});
// For a module holder (nn::Sequential, a TT_MODULE type) or a shared_ptr to a module with
// forward(Tensor) → Tensor.
template <typename ModuleType>
requires(!std::same_as<std::remove_cvref_t<ModuleType>, AnyModule>) ModelSummary
    summary(const ModuleType& model, IntArrayRef input_size, const SummaryOptions& options = {}) {
  return summary(AnyModule(model), input_size, options);
}

}  // namespace tinytorch::nn
