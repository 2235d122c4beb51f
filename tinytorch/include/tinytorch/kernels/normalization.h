// tinytorch/kernels/normalization.h — the contract between module 13's LayerNorm and its fast
// kernels.
//
// Module 13's op (src/native/normalization.cpp) checks the arguments, makes the tensors contiguous,
// views the input as M rows of N values and cuts the rows into blocks of 64 over the threads; each
// block then runs a kernel with the signature of the learner's row loops —
//
//   forward:   y = (x − mean)·rstd·γ + β per row; mean [M] and rstd [M] out, in double
//   backward:  gx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = gy·γ, x̂ = (x − mean)·rstd;
//              grad_weight_acc[i] += Σ_rows gy·x̂,  grad_bias_acc[i] += Σ_rows gy   ([N], double)
//
// — either the learner's loops (every reduction and x̂ in double: ~5 cycles an element for the
// backward) or, for float32 when module 18 registered them, the SIMD kernels declared here
// (src/kernels/normalization_fast.cpp). Any pointer among weight, bias, gx and the accumulators
// may be null (γ = 1, β = 0, not wanted).
//
// Precision: the fast kernels reduce in float — a row's Σx, Σ(x − mean)², Σg and Σg·x̂ in 8 or 16
// lanes, and gγ, gβ over at most 64 rows before they are added into the double accumulators.
// The variance is two-pass (centred squares, never E[x²] − E[x]², which cancels when
// |mean| ≫ std), and x̂ is formed as (x − mean)·rstd before any product, so a row far from zero
// loses no more than a few ulps more than the double loops (tests/kernels/test_layer_norm_fast.cpp
// checks both against float64). The range is float's, as in PyTorch's float32 kernels: a row whose
// sum or squared deviations overflow float (Σ|x| past 3.4e38, |x − mean| past 1.8e19) comes out
// wrong (NaN, or rstd = 0) where the double loops would not.
#pragma once

#include <cstdint>

namespace tinytorch::kernels {

using LayerNormForwardFn = void (*)(int64_t M, int64_t N, const float* x, const float* weight,
                                    const float* bias, double eps, float* y, double* mean,
                                    double* rstd);
using LayerNormBackwardFn = void (*)(int64_t M, int64_t N, const float* gy, const float* x,
                                     const double* mean, const double* rstd, const float* weight,
                                     float* gx, double* grad_weight_acc, double* grad_bias_acc);

// The fast normalisation kernels module 18 registers (float32; null = use module 13's loops).
struct NormalizationKernels {
  LayerNormForwardFn layer_norm_forward = nullptr;
  LayerNormBackwardFn layer_norm_backward = nullptr;
};

// The fast implementations: AVX-512, AVX2 or portable C++, whichever the CPU has
// (TINYTORCH_CPU_CAPABILITY may cap it). Single-threaded: the op threads.
void layer_norm_forward_fast(int64_t M, int64_t N, const float* x, const float* weight,
                             const float* bias, double eps, float* y, double* mean, double* rstd);
void layer_norm_backward_fast(int64_t M, int64_t N, const float* gy, const float* x,
                              const double* mean, const double* rstd, const float* weight,
                              float* gx, double* grad_weight_acc, double* grad_bias_acc);

}  // namespace tinytorch::kernels
