// tinytorch/kernels/spatial.h — the contract between module 09's spatial ops and the fast tier.
//
// Module 09's ops (src/native/conv.cpp, pooling.cpp, batch_norm.cpp) check shapes and dtypes, make
// the inputs contiguous NCHW, allocate the outputs, and then either run the learner's reference
// kernels or — for float32, when module 18 registered them — the fast kernels declared here
// (src/kernels/spatial_fast.cpp). Everything crossing this line is a raw, contiguous, row-major
// float buffer plus a plain struct of sizes: no Tensor, no autograd, no allocation the caller
// must know about.
//
//   conv2d:   x [N, C, H, W] ──┐
//             w [K, C/g, R, S] ├─► y [N, K, P, Q]
//             b [K] or null ───┘
//
//   P = (H + 2·pad_h − dil_h·(R − 1) − 1) / stride_h + 1     (Q likewise over W and S)
//
// Every function OVERWRITES its outputs (never accumulates into them), and may split its work
// over tinytorch::get_num_threads() threads with parallel_for / parallel_team.
#pragma once

#include <cstdint>
#include <functional>

namespace tinytorch::kernels {

// The geometry of one 2-d convolution, NCHW. groups divides both channel counts; the weight is
// [out_channels, in_channels / groups, kernel_h, kernel_w].
struct Conv2dShape {
  int64_t batch = 0, in_channels = 0, in_h = 0, in_w = 0;
  int64_t out_channels = 0, kernel_h = 0, kernel_w = 0;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
  int64_t groups = 1;
  int64_t out_h = 0, out_w = 0;
};

// y [N, K, P, Q] = conv2d(x [N, C, H, W], w [K, C/g, R, S]) + b [K]   (b may be nullptr)
using Conv2dForwardFn = void (*)(const Conv2dShape& s, const float* x, const float* w,
                                 const float* b, float* y);
// gx [N, C, H, W] = ∂L/∂x given gy = ∂L/∂y [N, K, P, Q]  (the "transposed convolution" of gy)
using Conv2dBackwardInputFn = void (*)(const Conv2dShape& s, const float* gy, const float* w,
                                       float* gx);
// gw [K, C/g, R, S] = ∂L/∂w and gb [K] = ∂L/∂b = Σ_{n,p,q} gy  (gb may be nullptr: not wanted)
using Conv2dBackwardWeightFn = void (*)(const Conv2dShape& s, const float* gy, const float* x,
                                        float* gw, float* gb);

// The geometry of one 2-d pooling window sweep over `planes` = N·C independent H×W planes.
struct Pool2dShape {
  int64_t planes = 0, in_h = 0, in_w = 0;
  int64_t kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t out_h = 0, out_w = 0;
};

// The first of a window's taps start, start + dilation, start + 2·dilation, ... that is >= 0:
// where max pooling's scan of a row (or column) starts, and so where PyTorch's index of a window
// with no value above −∞ points (every tier computes it here).
inline int64_t first_tap_from_zero(int64_t start, int64_t dilation) {
  return start >= 0 ? start : start + (-start + dilation - 1) / dilation * dilation;
}

// y [planes, P, Q] = max over each window of x [planes, H, W]; indices [planes, P, Q] = the
// flat position h·W + w of the maximum inside its plane (PyTorch's convention; NaN wins). A
// window wholly in the padding (dilation can step over the input) gives −∞ and PyTorch's index
// h0·W + w0, its first tap at or after row and column 0 (src/native/pooling.cpp explains).
using MaxPool2dForwardFn = void (*)(const Pool2dShape& s, const float* x, float* y,
                                    int64_t* indices);
// gx [planes, H, W] = zeros, then gx[plane][indices[i]] += gy[i] for every output i whose index
// is not −1 (−1: a window with no input element — its gradient goes nowhere, as in PyTorch).
using MaxPool2dBackwardFn = void (*)(const Pool2dShape& s, const float* gy, const int64_t* indices,
                                     float* gx);

// Batch norm over x [N, C, HW] (HW = the product of the spatial dims, 1 for [N, C]), split into
// the per-channel reductions and the element-wise passes (as PyTorch's CUDA kernels split it):
//
//   stats:           mean[c] = Σ x / (N·HW),  var[c] = Σ (x − mean)² / (N·HW)   (biased)
//   apply:           y = x · scale[c] + shift[c]        (scale = γ·invstd, shift = β − mean·scale)
//   backward_reduce: sum_dy[c] = Σ gy,   sum_dy_xmu[c] = Σ gy · (x − mean[c])
//   backward_apply:  gx = gy · a[c] + x · b[c] + d[c]   (the caller folds the formula into a, b, d)
//                    or, with b = d = null (eval mode), gx = gy · a[c]: no x term, so an inf or
//                    NaN input does not become a NaN gradient through x · 0
//
// Accumulation is in double: a float sum over N·HW ≈ 10^5 elements would lose ~4 digits.
//
// The two apply kernels work on the channels [c0, c1) of every image (the whole tensor: 0, C).
// The two reductions take a `then`: called with disjoint blocks [c0, c1) that together cover
// [0, C), each once its sums are final — the caller folds that block's coefficients and applies
// it there. The reductions run a block of channels at a time and call `then` right after it,
// while the block's values are still in L2, so that the apply pass reads them from there rather
// than from memory (ResNet-8 at batch 128: [128, 16, 32, 32] is 8 MiB, one channel 512 KiB). Calls
// may come from several threads at once (one block each), or once, for [0, C), from the calling
// thread after the sums where the channels are too few to split over the threads (the apply
// kernel then splits the planes). An empty `then` is never called.
using ChannelBlockFn = std::function<void(int64_t c0, int64_t c1)>;
using BatchNormStatsFn = void (*)(int64_t N, int64_t C, int64_t HW, const float* x, double* mean,
                                  double* var, const ChannelBlockFn& then);
using BatchNormApplyFn = void (*)(int64_t N, int64_t C, int64_t HW, int64_t c0, int64_t c1,
                                  const float* x, const float* scale, const float* shift, bool relu,
                                  float* y);
using BatchNormBackwardReduceFn = void (*)(int64_t N, int64_t C, int64_t HW, const float* gy,
                                           const float* x, const double* mean,
                                           const float* relu_scale, const float* relu_shift,
                                           double* sum_dy, double* sum_dy_xmu,
                                           const ChannelBlockFn& then);
using BatchNormBackwardApplyFn = void (*)(int64_t N, int64_t C, int64_t HW, int64_t c0, int64_t c1,
                                          const float* gy, const float* x, const float* a,
                                          const float* b, const float* d, const float* relu_scale,
                                          const float* relu_shift, float* gx);

// The value batch norm's apply pass writes (before the fused ReLU), x · scale + shift, as every
// tier computes it: the fused backward's ReLU mask must see the very same rounding.
template <typename T>
inline T bn_pre_activation(T x, T scale, T shift) {
  const T scaled = x * scale;
  return scaled + shift;
}

// The fast spatial kernels module 18 registers (all float32; null = use the reference kernel).
struct SpatialKernels {
  Conv2dForwardFn conv2d_forward = nullptr;
  Conv2dBackwardInputFn conv2d_backward_input = nullptr;
  Conv2dBackwardWeightFn conv2d_backward_weight = nullptr;
  MaxPool2dForwardFn max_pool2d_forward = nullptr;
  MaxPool2dBackwardFn max_pool2d_backward = nullptr;
  BatchNormStatsFn batch_norm_stats = nullptr;
  BatchNormApplyFn batch_norm_apply = nullptr;
  BatchNormBackwardReduceFn batch_norm_backward_reduce = nullptr;
  BatchNormBackwardApplyFn batch_norm_backward_apply = nullptr;
};

// The fast implementations (src/kernels/spatial_fast.cpp): im2col-free implicit GEMM on the packed
// fast GEMM, threaded; pooling and batch-norm loops vectorised and threaded over planes/channels.
void conv2d_forward_fast(const Conv2dShape& s, const float* x, const float* w, const float* b,
                         float* y);
void conv2d_backward_input_fast(const Conv2dShape& s, const float* gy, const float* w, float* gx);
void conv2d_backward_weight_fast(const Conv2dShape& s, const float* gy, const float* x, float* gw,
                                 float* gb);
void max_pool2d_forward_fast(const Pool2dShape& s, const float* x, float* y, int64_t* indices);
void max_pool2d_backward_fast(const Pool2dShape& s, const float* gy, const int64_t* indices,
                              float* gx);
void batch_norm_stats_fast(int64_t N, int64_t C, int64_t HW, const float* x, double* mean,
                           double* var, const ChannelBlockFn& then);
void batch_norm_apply_fast(int64_t N, int64_t C, int64_t HW, int64_t c0, int64_t c1, const float* x,
                           const float* scale, const float* shift, bool relu, float* y);
void batch_norm_backward_reduce_fast(int64_t N, int64_t C, int64_t HW, const float* gy,
                                     const float* x, const double* mean, const float* relu_scale,
                                     const float* relu_shift, double* sum_dy, double* sum_dy_xmu,
                                     const ChannelBlockFn& then);
void batch_norm_backward_apply_fast(int64_t N, int64_t C, int64_t HW, int64_t c0, int64_t c1,
                                    const float* gy, const float* x, const float* a, const float* b,
                                    const float* d, const float* relu_scale,
                                    const float* relu_shift, float* gx);

}  // namespace tinytorch::kernels
