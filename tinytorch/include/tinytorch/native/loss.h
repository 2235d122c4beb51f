// tinytorch/native/loss.h — the loss kernels of module 04 (forward, and the backward kernels
// the derivative formulas of module 05 call). Gradients are with respect to `self` (the input).
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

#include "tinytorch/nn/functional.h"

namespace tinytorch::native {

Tensor mse_loss(const Tensor& self, const Tensor& target, Reduction reduction);
Tensor mse_loss_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                         Reduction reduction);
Tensor l1_loss(const Tensor& self, const Tensor& target, Reduction reduction);
Tensor l1_loss_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                        Reduction reduction);
Tensor nll_loss(const Tensor& self, const Tensor& target, Reduction reduction,
                int64_t ignore_index);
Tensor nll_loss_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                         Reduction reduction, int64_t ignore_index);
// The class weights of nll_loss's `weight`, per sample: out[i] = weight[target[i]], 0 where
// target[i] == ignore_index; shaped like target, self's dtype, no graph (no gradient flows to the
// weights, as in PyTorch). Checks weight: [C] (C = self.size(-1)), self's dtype.
Tensor nll_loss_class_weights(std::string_view op, const Tensor& self, const Tensor& target,
                              const Tensor& weight, int64_t ignore_index);
// [N, C, d1, ..., dk] class scores with [N, d1, ..., dk] targets (class dim 1, as PyTorch) as
// the 2-d problem the kernels above solve: (input with its class dim moved last and the others
// flattened, [N·d1·…·dk, C]; target flattened alike, [N·d1·…·dk]). Checks the target's shape.
// A composite of public ops (permute, reshape): with grad mode on it records, so the gradient
// of the rows flows back to the [N, C, d1, ...] input.
std::pair<Tensor, Tensor> classes_last_2d(std::string_view op, const Tensor& input,
                                          const Tensor& target);
Tensor binary_cross_entropy(const Tensor& self, const Tensor& target, Reduction reduction);
Tensor binary_cross_entropy_backward(const Tensor& grad_output, const Tensor& self,
                                     const Tensor& target, Reduction reduction);
Tensor binary_cross_entropy_with_logits(const Tensor& self, const Tensor& target,
                                        Reduction reduction);
Tensor binary_cross_entropy_with_logits_backward(const Tensor& grad_output, const Tensor& self,
                                                 const Tensor& target, Reduction reduction);

// Smooth L1 (β ≥ 0; β = 0 is l1_loss) and Huber (δ > 0) losses, and their gradients w.r.t. self.
Tensor smooth_l1_loss(const Tensor& self, const Tensor& target, Reduction reduction, double beta);
Tensor smooth_l1_loss_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                               Reduction reduction, double beta);
Tensor huber_loss(const Tensor& self, const Tensor& target, Reduction reduction, double delta);
Tensor huber_loss_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                           Reduction reduction, double delta);

// Module 16: the KL divergence (src/native/kl_div.cpp). Gradients with respect to self and target.
Tensor kl_div(const Tensor& self, const Tensor& target, Reduction reduction, bool log_target);
Tensor kl_div_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                       Reduction reduction, bool log_target);
Tensor kl_div_target_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                              Reduction reduction, bool log_target);

}  // namespace tinytorch::native
