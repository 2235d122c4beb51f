// tinytorch/kernels/softmax.h — the contract between module 02's softmax / log_softmax and their
// fast kernels.
//
// Module 02's op (src/native/activation.cpp) checks dtypes, makes the tensor contiguous and sees it
// around `dim` as [outer, n, inner]: row r = (o, i) = (r / inner, r % inner) holds the n values
// softmax normalises, element j at o·n·inner + j·inner + i. The op splits the rows over the
// threads; each range [row_begin, row_end) of rows then runs either the learner's row loop (one
// std::exp per element, sums in double) or, for float32 when module 18 registered them, the SIMD
// kernels declared here (src/kernels/softmax_fast.cpp):
//
//   softmax:      y = e^(x − max) / Σ e^(x − max)            (max pass, exp-and-sum pass, scale)
//   log_softmax:  y = (x − max) − log Σ e^(x − max)
//   backward, from the forward's OUTPUT y and the gradient g:
//     softmax:      gx = y · (g − Σ g·y)
//     log_softmax:  gx = g − e^y · Σ g
//
// dim = last (inner = 1): each row is contiguous and runs alone, a vector of its elements at a
// time. Any other dim: rows o·inner + i and o·inner + i + 1 are neighbours in memory, so a range of
// rows is processed as adjacent COLUMNS, a vector of rows at once — lane i of every load holds row
// i's element j — and no transpose or gather is needed.
//
// Numerics, as the reference loops: every exponent is ≤ 0 (no overflow at x = 1000); −∞ entries
// give 0 (softmax) and −∞ (log_softmax); a row that is all −∞, or holds a NaN or +∞, comes out NaN
// (PyTorch's results). Sums are in float (8 or 16 lanes, four vector accumulators), not double;
// the exponential (src/kernels/exp_simd.h: range reduction x = n·ln2 + r, a degree-6 polynomial
// for e^r, 2^n from the exponent bits) is within 1.5 ulp of e^x wherever e^x is a normal float
// (1.24 at worst over a dense sweep), and exactly 0 below e^−87.3 — −∞ included (the portable
// version calls libm's expf, which goes on into the subnormals); the log likewise
// (src/kernels/log_simd.h: exponent and mantissa from the bits, a degree-8 polynomial). The results
// of a row do not depend on the thread count or on which other rows share its call.
#pragma once

#include <cstdint>

namespace tinytorch::kernels {

using SoftmaxForwardFn = void (*)(const float* x, float* y, int64_t n, int64_t inner,
                                  int64_t row_begin, int64_t row_end);
using SoftmaxBackwardFn = void (*)(const float* grad, const float* y, float* grad_input,
                                   int64_t outer, int64_t n, int64_t inner, int64_t row_begin,
                                   int64_t row_end);

// The fast softmax kernels module 18 registers (float32; null = use module 02's row loops).
struct SoftmaxKernels {
  SoftmaxForwardFn softmax = nullptr;
  SoftmaxForwardFn log_softmax = nullptr;
  SoftmaxBackwardFn softmax_backward = nullptr;
  SoftmaxBackwardFn log_softmax_backward = nullptr;
};

// The fast implementations: AVX-512, AVX2 or portable C++, whichever the CPU has
// (TINYTORCH_CPU_CAPABILITY may cap it). Single-threaded: the op threads. x, y, grad and
// grad_input point at the whole [outer, n, inner] tensor; only rows [row_begin, row_end) are
// read and written. The backward kernels also take `outer`: a gradient of 8 MiB or more, whose
// lines would leave the caches before the op ends anyway, is written with non-temporal stores
// (around the caches, without first reading each line; all but log_softmax's along the last dim,
// whose exponentials leave it nothing to gain); the values are the same.
void softmax_fast(const float* x, float* y, int64_t n, int64_t inner, int64_t row_begin,
                  int64_t row_end);
void log_softmax_fast(const float* x, float* y, int64_t n, int64_t inner, int64_t row_begin,
                      int64_t row_end);
void softmax_backward_fast(const float* grad, const float* y, float* grad_input, int64_t outer,
                           int64_t n, int64_t inner, int64_t row_begin, int64_t row_end);
void log_softmax_backward_fast(const float* grad, const float* y, float* grad_input, int64_t outer,
                               int64_t n, int64_t inner, int64_t row_begin, int64_t row_end);

// y[i] = e^(x[i]) and y[i] = log x[i] with the functions these kernels use (on the same
// instruction set), for tests and labs that measure their accuracy. log_fast's domain is the
// positive normal floats and NaN (log_softmax takes the log of sums ≥ 1).
void exp_fast(const float* x, float* y, int64_t n);
void log_fast(const float* x, float* y, int64_t n);

}  // namespace tinytorch::kernels
