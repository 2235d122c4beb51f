// tinytorch/kernels/activation.h — the contract between module 02's GELU, sigmoid and tanh and
// their fast kernels.
//
// Module 02's op (src/native/activation.cpp) checks dtypes, makes the input contiguous, allocates
// the output and splits the flat buffer into chunks over the threads; each chunk then runs a kernel
// of the shape module 02's learner writes —
//
//   forward:   y[i]   = f(x[i])                      void (const float* x, float* y, int64_t n)
//   backward:  out[i] = grad[i] · f′(x[i])            void (const float* grad, const float* x,
//                                                           float* out, int64_t n)
//
// (sigmoid's and tanh's backward kernels take the forward OUTPUT y in place of x, as module 02's
// do: f′ = y(1 − y) and 1 − y².)
//
// — either the learner's reference loop (std::erf per element, tens of nanoseconds each) or, for
// float32 when module 18 registered them, the SIMD kernels declared here
// (src/kernels/activation_fast.cpp), which evaluate erf/tanh as polynomials and exponentials on
// 8 or 16 lanes at once. In the course's GPT the MLP's GELU sees 4·d_model values per token: with
// std::erf it costs more than the MLP's two matrix multiplies. Sigmoid and tanh are the LSTM's and
// GRU's gates: with libm's expf/tanhf per element they were an eighth of an LSTM training step.
//
// Accuracy: the exact GELU's Φ(x) = ½·erfc(−x/√2) comes from an erfc with a relative error below
// 1.2·10⁻⁷ at every argument, so GELU keeps its relative accuracy in the far negative tail (where
// 1 + erf(x/√2) would cancel). ±∞ and NaN behave as the reference: gelu(+∞) = +∞, gelu(−∞) = NaN
// (−∞ · 0, as std::erf and PyTorch give), NaN stays NaN. Sigmoid and tanh are within a few ulp
// (exactly ±1, 0 and 1 at ±∞); sigmoid gives 0 below x ≈ −87.3, where its true value is a
// denormal (src/kernels/activation_simd.h says how each is computed).
#pragma once

#include <cstdint>

namespace tinytorch::kernels {

using UnaryFn = void (*)(const float* x, float* y, int64_t n);
using UnaryBackwardFn = void (*)(const float* grad, const float* x, float* out, int64_t n);

// The fast activation kernels module 18 registers (float32; null = use module 02's kernels).
struct ActivationKernels {
  UnaryFn gelu = nullptr;                        // x · Φ(x)
  UnaryBackwardFn gelu_backward = nullptr;       // grad · (Φ(x) + x · φ(x))
  UnaryFn gelu_tanh = nullptr;                   // ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
  UnaryBackwardFn gelu_tanh_backward = nullptr;  // grad · d/dx of the same formula
  UnaryFn sigmoid = nullptr;                     // 1 / (1 + e^(−x))
  UnaryBackwardFn sigmoid_backward = nullptr;    // grad · y · (1 − y), from the output y
  UnaryFn tanh = nullptr;                        // tanh(x)
  UnaryBackwardFn tanh_backward = nullptr;       // grad · (1 − y²), from the output y
};

// The fast implementations (src/kernels/activation_fast.cpp): AVX-512, AVX2 or portable C++,
// whichever the CPU has (TINYTORCH_CPU_CAPABILITY may cap it). Single-threaded: the op threads.
void gelu_fast(const float* x, float* y, int64_t n);
void gelu_backward_fast(const float* grad, const float* x, float* out, int64_t n);
void gelu_tanh_fast(const float* x, float* y, int64_t n);
void gelu_tanh_backward_fast(const float* grad, const float* x, float* out, int64_t n);
void sigmoid_fast(const float* x, float* y, int64_t n);
void sigmoid_backward_fast(const float* grad, const float* y, float* out, int64_t n);
void tanh_fast(const float* x, float* y, int64_t n);
void tanh_backward_fast(const float* grad, const float* y, float* out, int64_t n);

}  // namespace tinytorch::kernels
