// tinytorch/nn/modules/loss.h — the losses of module 04 as modules (libtorch's MSELoss,
// CrossEntropyLoss, ...): options set once, forward(input, target) calls the functions of
// nn/functional.h. The options structs are in nn/options/loss.h.
//
//   nn::CrossEntropyLoss criterion(nn::CrossEntropyLossOptions().label_smoothing(0.1));
//   Tensor loss = criterion(logits, labels);        // logits [N, C], labels int64 [N]
#pragma once

#include <cstdint>

#include "tinytorch/nn/functional.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/nn/options/loss.h"

namespace tinytorch::nn {

// mean((input − target)²)
class MSELossImpl : public Module {
 public:
  explicit MSELossImpl(const MSELossOptions& options = {}) : Module("MSELoss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  MSELossOptions options;
};
TT_MODULE(MSELoss);

// mean(|input − target|)
class L1LossImpl : public Module {
 public:
  explicit L1LossImpl(const L1LossOptions& options = {}) : Module("L1Loss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  L1LossOptions options;
};
TT_MODULE(L1Loss);

// −log p[target] from log-probabilities (e.g. the output of LogSoftmax).
class NLLLossImpl : public Module {
 public:
  explicit NLLLossImpl(const NLLLossOptions& options = {}) : Module("NLLLoss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  NLLLossOptions options;
};
TT_MODULE(NLLLoss);

// log_softmax + nll_loss on raw logits.
class CrossEntropyLossImpl : public Module {
 public:
  explicit CrossEntropyLossImpl(const CrossEntropyLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
  CrossEntropyLossOptions options;
};
TT_MODULE(CrossEntropyLoss);

// Binary cross-entropy on probabilities in [0, 1] (e.g. the output of Sigmoid).
class BCELossImpl : public Module {
 public:
  explicit BCELossImpl(const BCELossOptions& options = {}) : Module("BCELoss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  BCELossOptions options;
};
TT_MODULE(BCELoss);

// Sigmoid + binary cross-entropy in one numerically stable formula, on raw logits.
class BCEWithLogitsLossImpl : public Module {
 public:
  explicit BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& options = {})
      : Module("BCEWithLogitsLoss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  BCEWithLogitsLossOptions options;
};
TT_MODULE(BCEWithLogitsLoss);

// Smooth L1: quadratic below beta, linear above (robust regression, box offsets).
class SmoothL1LossImpl : public Module {
 public:
  explicit SmoothL1LossImpl(const SmoothL1LossOptions& options = {})
      : Module("SmoothL1Loss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  SmoothL1LossOptions options;
};
TT_MODULE(SmoothL1Loss);

// Huber: quadratic below delta, linear (slope delta) above.
class HuberLossImpl : public Module {
 public:
  explicit HuberLossImpl(const HuberLossOptions& options = {})
      : Module("HuberLoss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  HuberLossOptions options;
};
TT_MODULE(HuberLoss);

}  // namespace tinytorch::nn
