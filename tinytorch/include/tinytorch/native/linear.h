// tinytorch/native/linear.h — the fused Linear kernel of module 03: y = x · Wᵀ + b in one GEMM
// (the bias is written first and the product accumulated onto it), no transposed copy of W.
#pragma once

#include "tinytorch/core/tensor.h"

namespace tinytorch::native {

// input [*, in], weight [out, in], bias [out] or undefined → [*, out].
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias);

}  // namespace tinytorch::native
