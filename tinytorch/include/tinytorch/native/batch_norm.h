// tinytorch/native/batch_norm.h — module 09's batch normalisation kernels (ATen's
// native_batch_norm and native_batch_norm_backward), over input [N, C, *] per channel c:
//
//   y = (x − mean[c]) · invstd[c] · weight[c] + bias[c],    invstd = 1 / √(var + eps)
//
// training: mean/var are the batch's (biased var over the N·HW values of channel c); the running
//           stats, when defined, are updated in place with the UNBIASED var.
// eval:     mean/var are running_mean/running_var.
#pragma once

#include <array>
#include <tuple>

#include "tinytorch/core/tensor.h"

namespace tinytorch::native {

// Returns (output, save_mean, save_invstd): the mean and 1/√(var + eps) the output was normalised
// with — the batch's when training, the running stats' otherwise — as float64 [C] tensors (the
// backward reductions take double means: kernels/spatial.h). weight/bias may be undefined.
std::tuple<Tensor, Tensor, Tensor> native_batch_norm(const Tensor& input, const Tensor& weight,
                                                     const Tensor& bias, const Tensor& running_mean,
                                                     const Tensor& running_var, bool training,
                                                     double momentum, double eps);

// (grad_input, grad_weight, grad_bias) given grad_output [input's shape]; output_mask says which
// are wanted (an unwanted one is returned undefined). `training` picks the formula: in training
// mean and invstd depend on x (the batch's statistics), in eval they are constants.
std::tuple<Tensor, Tensor, Tensor> native_batch_norm_backward(
    const Tensor& grad_output, const Tensor& input, const Tensor& weight, const Tensor& save_mean,
    const Tensor& save_invstd, bool training, std::array<bool, 3> output_mask);

// Batch norm with a fused ReLU, y = max(batch_norm(x), 0), in the passes of batch norm alone
// (nn::BatchNormOptions::fuse_relu): the same results as relu(native_batch_norm(...)), without
// the ReLU's own pass over memory forward and backward. The backward takes the bias too: it
// recomputes the pre-activation x·scale + shift to know where ReLU passed the gradient.
std::tuple<Tensor, Tensor, Tensor> native_batch_norm_relu(const Tensor& input, const Tensor& weight,
                                                          const Tensor& bias,
                                                          const Tensor& running_mean,
                                                          const Tensor& running_var, bool training,
                                                          double momentum, double eps);
std::tuple<Tensor, Tensor, Tensor> native_batch_norm_relu_backward(
    const Tensor& grad_output, const Tensor& input, const Tensor& weight, const Tensor& bias,
    const Tensor& save_mean, const Tensor& save_invstd, bool training,
    std::array<bool, 3> output_mask);

}  // namespace tinytorch::native
