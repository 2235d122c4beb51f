// tinytorch/nn/functional.h — the loss functions (module 04) and the functional spellings of the
// activations, as in libtorch's torch::nn::functional (usually aliased `namespace F`).
//
//   namespace F = tinytorch::nn::functional;
//   Tensor loss = F::cross_entropy(logits, labels);           // logits [N, C], labels int64 [N]
//   Tensor loss = F::mse_loss(pred, target, tinytorch::kSum);
//   Tensor loss = F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().ignore_index(0));
#pragma once

#include <cstdint>

#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/functional/activation.h"
#include "tinytorch/nn/functional/padding.h"
#include "tinytorch/nn/functional/spatial.h"
#include "tinytorch/nn/functional/upsampling.h"
#include "tinytorch/nn/options/loss.h"
// module 11 (embedding) and module 13 (layer_norm, rms_norm)
#include "tinytorch/nn/functional/embedding.h"
#include "tinytorch/nn/functional/normalization.h"
// module 12
#include "tinytorch/nn/functional/attention.h"

namespace tinytorch {

// ── the losses, ATen's positional forms (torch::nll_loss, torch::mse_loss, ...) ───────────────
// Each reduces the per-element losses as `reduction` says (nn/options/loss.h).

// (input - target)² averaged / summed / per element. Shapes must match (no broadcasting).
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
// input: log-probabilities [N, C] (or [C]); target: int64 class indices [N] (or []). Also
// [N, C, d1, ..., dk] with targets [N, d1, ..., dk] (a class per pixel; class dim 1, as PyTorch):
// reduction None then gives [N, d1, ..., dk].
// weight: one per class [C], or undefined (all 1): sample i's loss is −w[t_i]·input[i, t_i], and
// Mean divides by Σ w[t_i] over the samples not ignored (not by their count).
// Targets equal to ignore_index add nothing and are left out of the mean's count.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                Reduction reduction = Reduction::Mean, int64_t ignore_index = -100);
// log_softmax + nll_loss on raw logits (libtorch's torch::cross_entropy_loss; shapes as nll_loss,
// [N, C, d1, ...] included); label_smoothing ε
// mixes the one-hot target with the uniform distribution: (1 − ε)·nll + ε·mean over classes of
// −log p (each class's term scaled by its weight, when there are weights).
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                     Reduction reduction = Reduction::Mean, int64_t ignore_index = -100,
                     double label_smoothing = 0.0);
// Smooth L1 (Huber with a scaled slope): with z = |input − target| per element,
//   ½·z²/beta where z < beta, else z − ½·beta   (beta = 0 is l1_loss; beta < 0 is an error).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      Reduction reduction = Reduction::Mean, double beta = 1.0);
// Huber: ½·z² where z < delta, else delta·(z − ½·delta)  (delta > 0; = delta·smooth_l1 at beta =
// delta).
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                  double delta = 1.0);
// input: probabilities in [0, 1]; target: same shape, floating. weight: broadcast to the input's
// shape, multiplies each element's loss (undefined: 1).
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = {},
                            Reduction reduction = Reduction::Mean);
// input: raw logits; computed as max(x, 0) − x·y + log(1 + exp(−|x|)), stable for any x.
// weight as in binary_cross_entropy; pos_weight (broadcast to the input's shape, usually one
// per class [C]) multiplies the positive term: −p·y·log σ(x) − (1 − y)·log(1 − σ(x)). Neither
// weight gets a gradient. libtorch's order: (x, y, {}, {}) are two undefined weights and the
// default reduction.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight = {}, const Tensor& pos_weight = {},
                                        Reduction reduction = Reduction::Mean);

// ── the functional forms (torch::nn::functional): options structs, as in libtorch ──────────────
namespace nn::functional {
Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossFuncOptions& options = {});
Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossFuncOptions& options = {});
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossFuncOptions& options = {});
Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyFuncOptions& options = {});
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const BinaryCrossEntropyFuncOptions& options = {});
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      const SmoothL1LossFuncOptions& options = {});
Tensor huber_loss(const Tensor& input, const Tensor& target,
                  const HuberLossFuncOptions& options = {});
Tensor binary_cross_entropy_with_logits(
    const Tensor& input, const Tensor& target,
    const BinaryCrossEntropyWithLogitsFuncOptions& options = {});

using tinytorch::gelu;
using tinytorch::leaky_relu;
using tinytorch::linear;
using tinytorch::log_softmax;
using tinytorch::relu;
using tinytorch::sigmoid;
using tinytorch::silu;
using tinytorch::softmax;
using tinytorch::tanh;
}  // namespace nn::functional

}  // namespace tinytorch
