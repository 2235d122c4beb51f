// tinytorch/autograd/derivatives.h — every backward formula, in one place (our derivatives.yaml).
//
// Each formula receives the gradient of the op's output (`grad`, same shape as the output) and
// what the forward saved, and returns the gradient for each input. Two jobs are NOT done here,
// because the engine does them once for every op (engine.cpp, validate_gradient):
//   * un-broadcasting: a formula may return a gradient in the broadcast shape; the engine sums
//     it back to the input's shape with sum_to() below;
//   * dtype: a float32 input of a float64 op gets its gradient cast back to float32.
// A formula for a two-input op gets `needs`: which input gradients are wanted. Skipping an
// unwanted one is not a detail — for the first Linear layer, grad_input would cost as much as
// grad_weight.
//
// Higher-order gradients. The engine runs the formulas with grad mode off — or on, when the
// backward pass must itself be differentiable (create_graph). A formula written with public ops
// (mul, matmul, sum, where, ...) is then recorded like any forward code. One whose backward is a
// native kernel (which records nothing) checks GradMode::is_enabled() and takes another path:
// the same math composed of public ops (softmax, the losses, the normalizations, attention), or
// a recorded backward op below whose own node is the second derivative (gelu, convolution,
// pooling, embedding) — never a result that silently has no graph. With grad mode off each
// formula runs exactly its fast native kernel.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/functional.h"

namespace tinytorch {

// ── backward kernels as recorded ops (ATen's at::gelu_backward, at::convolution_backward, ...) ─
// Each runs the native backward kernel and, when grad mode is on and an input requires grad,
// records a node of its own (GeluBackwardBackward0, ConvolutionBackwardBackward0, ...) whose
// formula (autograd::*_double_backward below) differentiates the backward once more. Defined in
// variable_ops.cpp; only formulas running with grad mode on call them.
Tensor gelu_backward(const Tensor& grad_output, const Tensor& self, std::string_view approximate);
// The dense gradient of an embedding's weight [num_weights, D]: a scatter-add of grad_output's
// rows (padding_idx's row left zero). Also the scatter-add the create_graph paths are built from.
Tensor embedding_dense_backward(const Tensor& grad_output, const Tensor& indices,
                                int64_t num_weights, int64_t padding_idx);
// conv2d's (grad_input, grad_weight, grad_bias); output_mask says which are computed.
std::tuple<Tensor, Tensor, Tensor> convolution_backward(const Tensor& grad_output,
                                                        const Tensor& input, const Tensor& weight,
                                                        IntArrayRef stride, IntArrayRef padding,
                                                        IntArrayRef dilation, int64_t groups,
                                                        std::array<bool, 3> output_mask);
Tensor avg_pool2d_backward(const Tensor& grad_output, const Tensor& self, IntArrayRef kernel_size,
                           IntArrayRef stride, IntArrayRef padding, bool ceil_mode,
                           bool count_include_pad, std::optional<int64_t> divisor_override);
Tensor adaptive_avg_pool2d_backward(const Tensor& grad_output, const Tensor& self);

}  // namespace tinytorch

namespace tinytorch::autograd {

using variable_list = std::vector<Tensor>;
using GradMask = std::array<bool, 2>;

// ── the shared helpers ────────────────────────────────────────────────────────────────────────
// Whether a tensor of `shape` can be broadcast (expanded) to `desired`.
bool is_expandable_to(IntArrayRef shape, IntArrayRef desired);
// Sums `grad` over the dims that broadcasting added or stretched, so it gets `shape` back:
//   [4, 3] → [3]: sum over dim 0;   [4, 3] → [4, 1]: sum over dim 1 keeping it.
Tensor sum_to(const Tensor& grad, IntArrayRef shape);

// ── views ─────────────────────────────────────────────────────────────────────────────────────
Tensor reshape_backward(const Tensor& grad, IntArrayRef self_sizes);  // view, reshape, squeeze
Tensor transpose_backward(const Tensor& grad, int64_t dim0, int64_t dim1);
Tensor permute_backward(const Tensor& grad, IntArrayRef dims);
Tensor unsqueeze_backward(const Tensor& grad, int64_t dim);
Tensor expand_backward(const Tensor& grad, IntArrayRef self_sizes);
Tensor select_backward(const Tensor& grad, IntArrayRef self_sizes, int64_t dim, int64_t index);
Tensor unbind_backward(const std::vector<Tensor>& grads, IntArrayRef self_sizes,
                       IntArrayRef self_strides, int64_t dim);
Tensor split_with_sizes_backward(const std::vector<Tensor>& grads, IntArrayRef self_sizes,
                                 IntArrayRef self_strides, int64_t dim, IntArrayRef split_sizes);
Tensor slice_backward(const Tensor& grad, IntArrayRef self_sizes, int64_t dim,
                      std::optional<int64_t> start, std::optional<int64_t> end, int64_t step);
// The general view: each input element receives the gradients of the output elements that
// read the same storage location (averaged over input elements that share one location).
Tensor as_strided_backward(const Tensor& grad, IntArrayRef self_sizes, IntArrayRef self_strides,
                           int64_t self_offset, IntArrayRef sizes, IntArrayRef strides,
                           int64_t offset);
// The same gradient from recorded ops (a scatter-add into the storage, then a gather), for grad
// mode on: as_strided_backward's loops record nothing.
Tensor as_strided_backward_recorded(const Tensor& grad, IntArrayRef self_sizes,
                                    IntArrayRef self_strides, int64_t self_offset,
                                    IntArrayRef sizes, IntArrayRef strides, int64_t offset);

// ── element-wise ──────────────────────────────────────────────────────────────────────────────
variable_list add_backward(const Tensor& grad, const Scalar& alpha, GradMask needs);
variable_list sub_backward(const Tensor& grad, const Scalar& alpha, GradMask needs);
variable_list mul_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                           GradMask needs);
variable_list div_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                           GradMask needs);
variable_list pow_backward(const Tensor& grad, const Tensor& self, const Tensor& exponent,
                           const Tensor& result, GradMask needs);
Tensor neg_backward(const Tensor& grad);
Tensor exp_backward(const Tensor& grad, const Tensor& result);
Tensor log_backward(const Tensor& grad, const Tensor& self);
Tensor sqrt_backward(const Tensor& grad, const Tensor& result);
Tensor sin_backward(const Tensor& grad, const Tensor& self);
Tensor cos_backward(const Tensor& grad, const Tensor& self);
Tensor log1p_backward(const Tensor& grad, const Tensor& self);
Tensor abs_backward(const Tensor& grad, const Tensor& self);
// The table ops of native::unary_math: `saved` is self or the output, as each formula says.
Tensor zero_backward(const Tensor& grad, const Tensor& self);  // floor, ceil, round, trunc, sign
Tensor frac_backward(const Tensor& grad, const Tensor& self);
Tensor reciprocal_backward(const Tensor& grad, const Tensor& result);
Tensor rsqrt_backward(const Tensor& grad, const Tensor& result);
Tensor erf_backward(const Tensor& grad, const Tensor& self);
Tensor expm1_backward(const Tensor& grad, const Tensor& result);
Tensor log2_backward(const Tensor& grad, const Tensor& self);
Tensor log10_backward(const Tensor& grad, const Tensor& self);
Tensor tan_backward(const Tensor& grad, const Tensor& result);
Tensor asin_backward(const Tensor& grad, const Tensor& self);
Tensor acos_backward(const Tensor& grad, const Tensor& self);
Tensor atan_backward(const Tensor& grad, const Tensor& self);
Tensor sinh_backward(const Tensor& grad, const Tensor& self);
Tensor cosh_backward(const Tensor& grad, const Tensor& self);
// fmod / remainder: self gets grad; other gets −grad · trunc(self / other) (fmod) or
// −grad · floor(self / other) (remainder).
variable_list fmod_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                            bool floor_quotient, GradMask needs);
variable_list atan2_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                             GradMask needs);
// nan_to_num: grad where self is finite, else 0.
Tensor nan_to_num_backward(const Tensor& grad, const Tensor& self);
Tensor clamp_backward(const Tensor& grad, const Tensor& self, std::optional<Scalar> min,
                      std::optional<Scalar> max);
// fake_quantize_*: the straight-through estimator — grad where mask (not clamped), else 0.
Tensor fake_quantize_backward(const Tensor& grad, const Tensor& mask);
// maximum/minimum: the larger (smaller) input gets the gradient; ties split it in half.
variable_list extremum_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                                bool is_max, GradMask needs);
variable_list where_backward(const Tensor& grad, const Tensor& condition, GradMask needs);

// ── reductions ────────────────────────────────────────────────────────────────────────────────
Tensor sum_backward(const Tensor& grad, IntArrayRef self_sizes, IntArrayRef dims, bool keepdim);
Tensor mean_backward(const Tensor& grad, IntArrayRef self_sizes, IntArrayRef dims, bool keepdim);
Tensor var_backward(const Tensor& grad, const Tensor& self, IntArrayRef dims, bool unbiased,
                    bool keepdim);
// max()/min() over everything: ties share the gradient evenly.
Tensor extremum_all_backward(const Tensor& grad, const Tensor& self, const Tensor& result);
// max(dim)/min(dim): the gradient goes to the position each index points at.
Tensor value_selecting_backward(const Tensor& grad, int64_t dim, const Tensor& indices,
                                IntArrayRef self_sizes, bool keepdim);
// The same scatter from recorded ops, for grad mode on (value_selecting_backward's loop records
// nothing).
Tensor value_selecting_backward_recorded(const Tensor& grad, int64_t dim, const Tensor& indices,
                                         IntArrayRef self_sizes);

// ── linear algebra ────────────────────────────────────────────────────────────────────────────
variable_list matmul_backward(const Tensor& grad, const Tensor& self, const Tensor& other,
                              GradMask needs);
// linear: {input, weight, bias}; needs has three entries.
variable_list linear_backward(const Tensor& grad, const Tensor& input, const Tensor& weight,
                              std::array<bool, 3> needs);

// ── activations (module 02) and losses (module 04): their backward kernels are natives ────────
Tensor relu_backward(const Tensor& grad, const Tensor& result);
Tensor leaky_relu_backward(const Tensor& grad, const Tensor& self, double negative_slope);
Tensor sigmoid_backward(const Tensor& grad, const Tensor& result);
Tensor tanh_backward(const Tensor& grad, const Tensor& result);
Tensor gelu_backward(const Tensor& grad, const Tensor& self, std::string_view approximate);
// gelu_backward's own derivative: {grad_output, self} (GeluBackwardBackward0).
variable_list gelu_double_backward(const Tensor& grad, const Tensor& grad_output,
                                   const Tensor& self, std::string_view approximate,
                                   GradMask needs);
Tensor silu_backward(const Tensor& grad, const Tensor& self);
Tensor softmax_backward(const Tensor& grad, const Tensor& result, int64_t dim);
Tensor log_softmax_backward(const Tensor& grad, const Tensor& result, int64_t dim);
// mse / l1 / bce-with-logits: {input, target}
// out = reduce(kl_div(self, target)) (module 16)
variable_list kl_div_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                              Reduction reduction, bool log_target, GradMask needs);
variable_list mse_loss_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                                Reduction reduction, GradMask needs);
variable_list l1_loss_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                               Reduction reduction, GradMask needs);
Tensor nll_loss_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                         Reduction reduction, int64_t ignore_index);
// binary_cross_entropy: {input, target}
variable_list bce_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                           Reduction reduction, GradMask needs);
variable_list bce_with_logits_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                                       Reduction reduction, GradMask needs);

// ── spatial (module 09): the backward kernels are natives ─────────────────────────────────────
// conv2d: {input, weight, bias}; needs has three entries (native::conv2d_backward).
variable_list conv2d_backward(const Tensor& grad, const Tensor& input, const Tensor& weight,
                              IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation,
                              int64_t groups, std::array<bool, 3> needs);
// conv_transpose2d: {input, weight, bias}; written with conv2d and convolution_backward, so
// under grad mode the result is differentiable again. (output_padding only sized the output,
// which g carries.)
variable_list conv_transpose2d_backward(const Tensor& grad, const Tensor& input,
                                        const Tensor& weight, IntArrayRef stride,
                                        IntArrayRef padding, IntArrayRef dilation, int64_t groups,
                                        std::array<bool, 3> needs);
// convolution_backward's own derivative (ConvolutionBackwardBackward0): `grads` are the
// gradients of its three outputs (grad_input, grad_weight, grad_bias; undefined where none);
// returns {grad_output, input, weight}'s.
variable_list convolution_double_backward(const variable_list& grads, const Tensor& grad_output,
                                          const Tensor& input, const Tensor& weight,
                                          IntArrayRef stride, IntArrayRef padding,
                                          IntArrayRef dilation, int64_t groups,
                                          std::array<bool, 3> needs);
// ── spatial (module 09): pooling and batch norm; their backward kernels are natives ───────────
Tensor max_pool2d_with_indices_backward(const Tensor& grad, const Tensor& self,
                                        IntArrayRef kernel_size, IntArrayRef stride,
                                        IntArrayRef padding, IntArrayRef dilation, bool ceil_mode,
                                        const Tensor& indices);
Tensor avg_pool2d_backward(const Tensor& grad, const Tensor& self, IntArrayRef kernel_size,
                           IntArrayRef stride, IntArrayRef padding, bool ceil_mode,
                           bool count_include_pad, std::optional<int64_t> divisor_override);
Tensor adaptive_avg_pool2d_backward(const Tensor& grad, const Tensor& self);
// The pooling backward kernels are linear in the gradient; their own derivatives (w.r.t. that
// gradient) are the forward poolings (AvgPool2DBackwardBackward0, ...).
Tensor avg_pool2d_double_backward(const Tensor& grad, IntArrayRef kernel_size, IntArrayRef stride,
                                  IntArrayRef padding, bool ceil_mode, bool count_include_pad,
                                  std::optional<int64_t> divisor_override);
Tensor adaptive_avg_pool2d_double_backward(const Tensor& grad, IntArrayRef output_size);
// batch_norm: {input, weight, bias}; save_mean/save_invstd are native_batch_norm's. eps is the
// forward's (grad mode on recomputes the batch statistics from the input).
variable_list batch_norm_backward(const Tensor& grad, const Tensor& input, const Tensor& weight,
                                  const Tensor& save_mean, const Tensor& save_invstd, bool training,
                                  double eps, std::array<bool, 3> needs);
// batch_norm_relu: {input, weight, bias}; the bias recomputes the pre-activation (ReLU's mask).
variable_list batch_norm_relu_backward(const Tensor& grad, const Tensor& input,
                                       const Tensor& weight, const Tensor& bias,
                                       const Tensor& save_mean, const Tensor& save_invstd,
                                       bool training, double eps, std::array<bool, 3> needs);

// ── normalization (module 13): the backward kernels are natives ───────────────────────────────
// layer_norm: {input, weight, bias}; mean/rstd are native_layer_norm's, eps the forward's.
variable_list layer_norm_backward(const Tensor& grad, const Tensor& input,
                                  IntArrayRef normalized_shape, const Tensor& mean,
                                  const Tensor& rstd, const Tensor& weight, const Tensor& bias,
                                  double eps, std::array<bool, 3> needs);
// rms_norm: {input, weight}; rstd is native_rms_norm's, eps the forward's.
variable_list rms_norm_backward(const Tensor& grad, const Tensor& input,
                                IntArrayRef normalized_shape, const Tensor& rstd,
                                const Tensor& weight, double eps, GradMask needs);

// ── embedding (module 11) ─────────────────────────────────────────────────────────────────────
// embedding: {weight, indices}; only the weight is differentiable.
Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t num_weights,
                          int64_t padding_idx);
// embedding_dense_backward's own derivative w.r.t. grad_output: a row gather (the embedding
// itself), zero where indices == padding_idx (EmbeddingDenseBackwardBackward0).
Tensor embedding_dense_double_backward(const Tensor& grad, const Tensor& indices,
                                       int64_t padding_idx);

// ── attention (module 12) ─────────────────────────────────────────────────────────────────────
// scaled_dot_product_attention: {query, key, value, attn_mask}; out and logsumexp are the
// forward's (native::scaled_dot_product_attention_forward).
variable_list scaled_dot_product_attention_backward(const Tensor& grad, const Tensor& query,
                                                    const Tensor& key, const Tensor& value,
                                                    const Tensor& attn_mask,
                                                    const Tensor& dropout_mask, const Tensor& out,
                                                    const Tensor& logsumexp, bool is_causal,
                                                    double scale, std::array<bool, 4> needs);
// masked_fill: {self}
Tensor masked_fill_backward(const Tensor& grad, const Tensor& mask);

// ── sorting, scans, triangles, norms, smooth losses, padding, resizing ─────────────────────────
// sort / topk: values[..., i, ...] = self[..., indices[..., i, ...], ...] along dim → the
// gradient is scattered back to those positions (zeros elsewhere).
Tensor sort_backward(const Tensor& grad, const Tensor& indices, int64_t dim,
                     IntArrayRef self_sizes);
Tensor cumsum_backward(const Tensor& grad, int64_t dim);
Tensor cumprod_backward(const Tensor& grad, const Tensor& self, const Tensor& result, int64_t dim);
Tensor tril_backward(const Tensor& grad, int64_t diagonal);
Tensor triu_backward(const Tensor& grad, int64_t diagonal);
// norm(p, dims, keepdim): result is the forward's output; empty dims = every dim.
Tensor norm_backward(const Tensor& grad, const Tensor& self, const Scalar& p, const Tensor& result,
                     IntArrayRef dims, bool keepdim);
// smooth_l1_loss / huber_loss: {input, target}
variable_list smooth_l1_loss_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                                      Reduction reduction, double beta, GradMask needs);
variable_list huber_loss_backward(const Tensor& grad, const Tensor& self, const Tensor& target,
                                  Reduction reduction, double delta, GradMask needs);
// pad(self, pad, mode): mode "constant", "reflect", "replicate" or "circular".
Tensor pad_backward(const Tensor& grad, IntArrayRef self_sizes, IntArrayRef pad,
                    std::string_view mode);
Tensor upsample_nearest2d_backward(const Tensor& grad, IntArrayRef input_sizes,
                                   IntArrayRef output_size, std::optional<double> scales_h,
                                   std::optional<double> scales_w);
Tensor upsample_bilinear2d_backward(const Tensor& grad, IntArrayRef input_sizes,
                                    IntArrayRef output_size, bool align_corners,
                                    std::optional<double> scales_h, std::optional<double> scales_w);

// ── indexing (core/tensor_indexing.h; natives in src/native/indexing.cpp) ─────────────────────
// Each formula is written with the indexing ops themselves (gather's backward is a scatter_add,
// index_select's an index_add, ...), which record: so they can be differentiated again.
// index (advanced indexing): {self}; indices[d] indexes dim d (nullopt: the whole dim).
Tensor index_backward(const Tensor& grad, IntArrayRef self_sizes,
                      const std::vector<std::optional<Tensor>>& indices);
// index_put: {self, values}
variable_list index_put_backward(const Tensor& grad,
                                 const std::vector<std::optional<Tensor>>& indices, bool accumulate,
                                 GradMask needs);
// gather: {self}
Tensor gather_backward(const Tensor& grad, IntArrayRef self_sizes, int64_t dim,
                       const Tensor& index);
// scatter: {self, src} (or {self} for the scalar form: needs[1] false); scatter_add: the same.
// src may be larger than index in any dim: its elements past index's shape get zero.
variable_list scatter_backward(const Tensor& grad, int64_t dim, const Tensor& index,
                               IntArrayRef src_sizes, GradMask needs);
variable_list scatter_add_backward(const Tensor& grad, int64_t dim, const Tensor& index,
                                   IntArrayRef src_sizes, GradMask needs);
// index_select: {self}
Tensor index_select_backward(const Tensor& grad, IntArrayRef self_sizes, int64_t dim,
                             const Tensor& index);
// index_add: {self, source}
variable_list index_add_backward(const Tensor& grad, int64_t dim, const Tensor& index,
                                 const Scalar& alpha, GradMask needs);
// masked_select: {self}
Tensor masked_select_backward(const Tensor& grad, IntArrayRef self_sizes, const Tensor& mask);

}  // namespace tinytorch::autograd
