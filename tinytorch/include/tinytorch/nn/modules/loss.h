// tinytorch/nn/modules/loss.h — the losses of module 04 as modules (libtorch's MSELoss,
// CrossEntropyLoss, ...): options set once, forward(input, target) calls the functions of
// nn/functional.h.
//
//   nn::CrossEntropyLoss criterion(nn::CrossEntropyLossOptions().label_smoothing(0.1));
//   Tensor loss = criterion(logits, labels);        // logits [N, C], labels int64 [N]
#pragma once

#include <cstdint>

#include "tinytorch/nn/functional.h"
#include "tinytorch/nn/module.h"

namespace tinytorch::nn {

struct MSELossOptions {
  MSELossOptions(Reduction reduction = Reduction::Mean)  // NOLINT(google-explicit-constructor)
      : reduction_(reduction) {}
  TT_ARG(Reduction, reduction);
};

// mean((input − target)²)
class MSELossImpl : public Module {
 public:
  explicit MSELossImpl(const MSELossOptions& options = {}) : Module("MSELoss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  MSELossOptions options;
};
TT_MODULE(MSELoss);

struct L1LossOptions {
  L1LossOptions(Reduction reduction = Reduction::Mean)  // NOLINT(google-explicit-constructor)
      : reduction_(reduction) {}
  TT_ARG(Reduction, reduction);
};

// mean(|input − target|)
class L1LossImpl : public Module {
 public:
  explicit L1LossImpl(const L1LossOptions& options = {}) : Module("L1Loss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  L1LossOptions options;
};
TT_MODULE(L1Loss);

struct NLLLossOptions {
  NLLLossOptions(Reduction reduction = Reduction::Mean)  // NOLINT(google-explicit-constructor)
      : reduction_(reduction) {}
  TT_ARG(Reduction, reduction);
  // Targets equal to this class index add nothing to the loss or to the mean's count.
  TT_ARG(int64_t, ignore_index) = -100;
};

// −log p[target] from log-probabilities (e.g. the output of LogSoftmax).
class NLLLossImpl : public Module {
 public:
  explicit NLLLossImpl(const NLLLossOptions& options = {}) : Module("NLLLoss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  NLLLossOptions options;
};
TT_MODULE(NLLLoss);

struct CrossEntropyLossOptions {
  CrossEntropyLossOptions(Reduction reduction = Reduction::Mean)  // NOLINT
      : reduction_(reduction) {}
  TT_ARG(Reduction, reduction);
  TT_ARG(int64_t, ignore_index) = -100;
  // ε in [0, 1]: the target becomes (1 − ε)·one_hot + ε/C.
  TT_ARG(double, label_smoothing) = 0.0;
};

// log_softmax + nll_loss on raw logits.
class CrossEntropyLossImpl : public Module {
 public:
  explicit CrossEntropyLossImpl(const CrossEntropyLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target);
  CrossEntropyLossOptions options;
};
TT_MODULE(CrossEntropyLoss);

struct BCELossOptions {
  BCELossOptions(Reduction reduction = Reduction::Mean)  // NOLINT(google-explicit-constructor)
      : reduction_(reduction) {}
  TT_ARG(Reduction, reduction);
};

// Binary cross-entropy on probabilities in [0, 1] (e.g. the output of Sigmoid).
class BCELossImpl : public Module {
 public:
  explicit BCELossImpl(const BCELossOptions& options = {}) : Module("BCELoss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  BCELossOptions options;
};
TT_MODULE(BCELoss);

struct BCEWithLogitsLossOptions {
  BCEWithLogitsLossOptions(Reduction reduction = Reduction::Mean)  // NOLINT
      : reduction_(reduction) {}
  TT_ARG(Reduction, reduction);
};

// Sigmoid + binary cross-entropy in one numerically stable formula, on raw logits.
class BCEWithLogitsLossImpl : public Module {
 public:
  explicit BCEWithLogitsLossImpl(const BCEWithLogitsLossOptions& options = {})
      : Module("BCEWithLogitsLoss"), options(options) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  BCEWithLogitsLossOptions options;
};
TT_MODULE(BCEWithLogitsLoss);

}  // namespace tinytorch::nn
