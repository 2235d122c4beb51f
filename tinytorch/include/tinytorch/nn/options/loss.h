// tinytorch/nn/options/loss.h — the losses' options (libtorch's torch/nn/options/loss.h).
//
// One struct per loss, shared by the module and the functional form, as in libtorch:
//
//   nn::CrossEntropyLoss criterion(nn::CrossEntropyLossOptions().label_smoothing(0.1));
//   F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().ignore_index(0));
//   F::mse_loss(pred, target, kSum);            // a reduction alone converts to the options
//   F::cross_entropy(logits, labels, {});       // {} = the defaults: weight none, mean, -100
//
// NOTE: the functional forms take the options struct, never a bare reduction in third place:
// libtorch's third argument is the options (or, for torch::nll_loss, the class weight), so a
// call such as F::nll_loss(x, t, {}) must mean "defaults" here too, not Reduction{} = None.
#pragma once

#include <cstdint>
#include <optional>

#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/module.h"  // TT_ARG

namespace tinytorch {

// How a loss combines the per-element losses (ATen's at::Reduction).
enum class Reduction { None, Mean, Sum };
// libtorch's spellings: torch::kNone, torch::kMean, torch::kSum.
inline constexpr Reduction kNone = Reduction::None;
inline constexpr Reduction kMean = Reduction::Mean;
inline constexpr Reduction kSum = Reduction::Sum;

namespace nn {

struct MSELossOptions {
  MSELossOptions(Reduction reduction = Reduction::Mean)  // NOLINT(google-explicit-constructor)
      : reduction_(reduction) {}
  TT_ARG(Reduction, reduction);
};

struct L1LossOptions {
  L1LossOptions(Reduction reduction = Reduction::Mean)  // NOLINT(google-explicit-constructor)
      : reduction_(reduction) {}
  TT_ARG(Reduction, reduction);
};

struct NLLLossOptions {
  NLLLossOptions(Reduction reduction = Reduction::Mean)  // NOLINT(google-explicit-constructor)
      : reduction_(reduction) {}
  // One weight per class ([C], the input's dtype), or undefined: every class weighs 1.
  TT_ARG(Tensor, weight);
  TT_ARG(Reduction, reduction);
  // Targets equal to this class index add nothing to the loss or to the mean's count.
  TT_ARG(int64_t, ignore_index) = -100;
};

struct CrossEntropyLossOptions {
  CrossEntropyLossOptions(Reduction reduction = Reduction::Mean)  // NOLINT
      : reduction_(reduction) {}
  TT_ARG(Tensor, weight);  // as NLLLossOptions::weight
  TT_ARG(Reduction, reduction);
  TT_ARG(int64_t, ignore_index) = -100;
  // ε in [0, 1]: the target becomes (1 − ε)·one_hot + ε/C.
  TT_ARG(double, label_smoothing) = 0.0;
};

struct BCELossOptions {
  BCELossOptions(Reduction reduction = Reduction::Mean)  // NOLINT(google-explicit-constructor)
      : reduction_(reduction) {}
  // Multiplies each element's loss (broadcast to the input's shape), or undefined.
  TT_ARG(Tensor, weight);
  TT_ARG(Reduction, reduction);
};

struct BCEWithLogitsLossOptions {
  BCEWithLogitsLossOptions(Reduction reduction = Reduction::Mean)  // NOLINT
      : reduction_(reduction) {}
  TT_ARG(Tensor, weight);  // as BCELossOptions::weight
  TT_ARG(Reduction, reduction);
  // Weighs the positive term (y·log σ(x)) of each element, broadcast to the input's shape —
  // usually one per class [C] (negatives / positives of that class), or undefined.
  TT_ARG(Tensor, pos_weight);
};

struct SmoothL1LossOptions {
  SmoothL1LossOptions(Reduction reduction = Reduction::Mean)  // NOLINT
      : reduction_(reduction) {}
  TT_ARG(Reduction, reduction);
  // Where the loss turns from quadratic to linear; not set means 1.0 (libtorch's default).
  TT_ARG(std::optional<double>, beta) = std::nullopt;
};

struct HuberLossOptions {
  HuberLossOptions(Reduction reduction = Reduction::Mean)  // NOLINT
      : reduction_(reduction) {}
  TT_ARG(Reduction, reduction);
  TT_ARG(double, delta) = 1.0;
};

namespace functional {
// libtorch names the functional forms' options *FuncOptions; they are the same structs.
using MSELossFuncOptions = MSELossOptions;
using L1LossFuncOptions = L1LossOptions;
using NLLLossFuncOptions = NLLLossOptions;
using CrossEntropyFuncOptions = CrossEntropyLossOptions;
using BinaryCrossEntropyFuncOptions = BCELossOptions;
using BinaryCrossEntropyWithLogitsFuncOptions = BCEWithLogitsLossOptions;
using SmoothL1LossFuncOptions = SmoothL1LossOptions;
using HuberLossFuncOptions = HuberLossOptions;
}  // namespace functional

}  // namespace nn
}  // namespace tinytorch
