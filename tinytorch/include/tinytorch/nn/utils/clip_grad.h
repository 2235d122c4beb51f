// tinytorch/nn/utils/clip_grad.h — gradient clipping (module 06), as torch.nn.utils.
//
//   loss.backward();
//   double norm = nn::utils::clip_grad_norm_(model.parameters(), /*max_norm=*/1.0);
//   opt.step();
//
// clip_grad_norm_ treats all gradients as ONE vector: it computes their joint p-norm and, if it
// exceeds max_norm, scales every gradient by the same factor, so the update keeps its direction
// and only its length is capped:
//
//   total = (Σ_params Σ_i |g_i|^p)^(1/p)          (p = ∞: max |g_i|)
//   coef  = max_norm / (total + 1e-6)
//   if coef < 1:  g ← g · coef   for every gradient
//
// clip_grad_value_ clamps each gradient element to [-clip_value, clip_value] instead — simpler,
// but it changes the direction of the update.
#pragma once

#include <vector>

#include "tinytorch/core/tensor.h"

namespace tinytorch::nn::utils {

// Scales the gradients in place so that their joint norm is at most max_norm; returns the norm
// BEFORE clipping (accumulated in double). Parameters without a gradient are ignored; with none
// at all the result is 0. norm_type is any p > 0 or INFINITY. With error_if_nonfinite, a NaN or
// infinite norm throws instead of scaling every gradient by NaN.
double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm,
                       double norm_type = 2.0, bool error_if_nonfinite = false);
double clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient element to [-clip_value, clip_value] in place.
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);
void clip_grad_value_(const Tensor& parameter, double clip_value);

}  // namespace tinytorch::nn::utils
