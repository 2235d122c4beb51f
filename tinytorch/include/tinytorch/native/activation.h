// tinytorch/native/activation.h — the activation kernels of module 02 (forward and the backward
// kernels the derivative formulas of module 05 call). "native" functions compute; they never
// record a graph — the public tinytorch::relu etc. wrap them (src/autograd/variable_ops.cpp).
#pragma once

#include <cstdint>
#include <string_view>

#include "tinytorch/core/tensor.h"

namespace tinytorch::native {

Tensor relu(const Tensor& self);
Tensor& relu_(Tensor& self);  // self ← relu(self), in place
// grad_output where self > threshold, else 0 (ReLU's backward with threshold 0).
Tensor threshold_backward(const Tensor& grad_output, const Tensor& self, double threshold);
Tensor leaky_relu(const Tensor& self, double negative_slope);
Tensor leaky_relu_backward(const Tensor& grad_output, const Tensor& self, double negative_slope);
Tensor sigmoid(const Tensor& self);
Tensor sigmoid_backward(const Tensor& grad_output, const Tensor& output);  // g·y·(1 − y)
Tensor tanh(const Tensor& self);
Tensor tanh_backward(const Tensor& grad_output, const Tensor& output);  // g·(1 − y²)
Tensor gelu(const Tensor& self, std::string_view approximate);          // "none" or "tanh"
Tensor gelu_backward(const Tensor& grad_output, const Tensor& self, std::string_view approximate);
Tensor silu(const Tensor& self);
Tensor silu_backward(const Tensor& grad_output, const Tensor& self);
Tensor softmax(const Tensor& self, int64_t dim);
Tensor softmax_backward(const Tensor& grad_output, const Tensor& output, int64_t dim);
Tensor log_softmax(const Tensor& self, int64_t dim);
Tensor log_softmax_backward(const Tensor& grad_output, const Tensor& output, int64_t dim);

}  // namespace tinytorch::native
