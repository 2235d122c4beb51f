// tinytorch/nn/functional.h — the loss functions (module 04) and the functional spellings of the
// activations, as in libtorch's torch::nn::functional (usually aliased `namespace F`).
//
//   namespace F = tinytorch::nn::functional;
//   Tensor loss = F::cross_entropy(logits, labels);           // logits [N, C], labels int64 [N]
//   Tensor loss = F::mse_loss(pred, target, tinytorch::Reduction::Sum);
#pragma once

#include <cstdint>

#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/functional/spatial.h"
// issue 18: module 11 (embedding) and module 13 (layer_norm, rms_norm)
#include "tinytorch/nn/functional/embedding.h"
#include "tinytorch/nn/functional/normalization.h"
// module 12
#include "tinytorch/nn/functional/attention.h"

namespace tinytorch {

// How a loss combines the per-element losses (ATen's at::Reduction).
enum class Reduction { None, Mean, Sum };

// (input - target)² averaged / summed / per element. Shapes must match (no broadcasting).
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
// input: log-probabilities [N, C] (or [C]); target: int64 class indices [N] (or []).
// Targets equal to ignore_index add nothing and are left out of the mean's count.
Tensor nll_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                int64_t ignore_index = -100);
// log_softmax + nll_loss on raw logits; label_smoothing ε mixes the one-hot target with the
// uniform distribution: (1 − ε)·nll + ε·mean over classes of −log p.
Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     Reduction reduction = Reduction::Mean, int64_t ignore_index = -100,
                     double label_smoothing = 0.0);
// input: probabilities in [0, 1]; target: same shape, floating.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            Reduction reduction = Reduction::Mean);
// input: raw logits; computed as max(x, 0) − x·y + log(1 + exp(−|x|)), stable for any x.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        Reduction reduction = Reduction::Mean);

namespace nn::functional {
using tinytorch::binary_cross_entropy;
using tinytorch::binary_cross_entropy_with_logits;
using tinytorch::cross_entropy;
using tinytorch::gelu;
using tinytorch::l1_loss;
using tinytorch::leaky_relu;
using tinytorch::linear;
using tinytorch::log_softmax;
using tinytorch::mse_loss;
using tinytorch::nll_loss;
using tinytorch::relu;
using tinytorch::sigmoid;
using tinytorch::silu;
using tinytorch::softmax;
using tinytorch::tanh;
}  // namespace nn::functional

}  // namespace tinytorch
