// Module 18 — Acceleration: registering the fast kernels.
// This file is yours to write in module 18. Until you do, nothing is registered and every op runs
// its module-01 reference kernel (see kernels/registry.h).
#include "tinytorch/kernels/activation.h"
#include "tinytorch/kernels/attention.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/normalization.h"
#include "tinytorch/kernels/qgemm.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/kernels/softmax.h"
#include "tinytorch/kernels/spatial.h"

namespace tinytorch::kernels {

void register_fast_kernels(FastKernels& kernels) {
  // BEGIN SOLUTION
  kernels.sgemm = &gemm_fast;
  kernels.dgemm = &gemm_fast;
  kernels.caching_allocator = true;
  kernels.spatial.conv2d_forward = &conv2d_forward_fast;
  kernels.spatial.conv2d_backward_input = &conv2d_backward_input_fast;
  kernels.spatial.conv2d_backward_weight = &conv2d_backward_weight_fast;
  kernels.spatial.max_pool2d_forward = &max_pool2d_forward_fast;
  kernels.spatial.max_pool2d_backward = &max_pool2d_backward_fast;
  kernels.spatial.batch_norm_stats = &batch_norm_stats_fast;
  kernels.spatial.batch_norm_apply = &batch_norm_apply_fast;
  kernels.spatial.batch_norm_backward_reduce = &batch_norm_backward_reduce_fast;
  kernels.spatial.batch_norm_backward_apply = &batch_norm_backward_apply_fast;
  // module 12
  kernels.attention.forward = &attention_forward_fast;
  kernels.attention.backward = &attention_backward_fast;
  kernels.activation.gelu = &gelu_fast;
  kernels.activation.gelu_backward = &gelu_backward_fast;
  kernels.activation.gelu_tanh = &gelu_tanh_fast;
  kernels.activation.gelu_tanh_backward = &gelu_tanh_backward_fast;
  kernels.activation.sigmoid = &sigmoid_fast;
  kernels.activation.sigmoid_backward = &sigmoid_backward_fast;
  kernels.activation.tanh = &tanh_fast;
  kernels.activation.tanh_backward = &tanh_backward_fast;
  kernels.normalization.layer_norm_forward = &layer_norm_forward_fast;
  kernels.normalization.layer_norm_backward = &layer_norm_backward_fast;
  kernels.softmax.softmax = &softmax_fast;
  kernels.softmax.log_softmax = &log_softmax_fast;
  kernels.softmax.softmax_backward = &softmax_backward_fast;
  kernels.softmax.log_softmax_backward = &log_softmax_backward_fast;
  // module 11: nn::LSTM's layers fused, on the GEMM, sigmoid and tanh above
  kernels.lstm_layer = true;
  // module 15
  kernels.qgemm.pack = &pack_int8_weight_fast;
  kernels.qgemm.minmax = &minmax_fast;
  kernels.qgemm.quantize = &quantize_fast;
  kernels.qgemm.dequantize = &dequantize_fast;
  // END SOLUTION
}

}  // namespace tinytorch::kernels
