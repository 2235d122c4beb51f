// Module 03 — Layers: the fused linear kernel, y = x · Wᵀ + b (modules/03_layers/README.md,
// Part 3). Every nn::Linear forward pass ends here (through the public tinytorch::linear, which
// records the graph in module 05 and calls this with grad mode off).
//
//   x [*, in] ──reshape──► [M, K]        M = product of the leading dims, K = in_features
//   W [out, in] = [N, K]   read in place as the GEMM operand Wᵀ (trans_b): never copied
//   b [out]                the GEMM's bias row: added to every row as each tile of y is stored
//
// One GEMM call does the matrix product AND the bias add, so y is written once and never read,
// instead of matmul writing y and a separate `y + b` reading it back and writing a second tensor.
// When no fast GEMM is registered (TINYTORCH_KERNELS=reference, or module 18 not written yet),
// the reference path is matmul (your module-01 GEMM) followed by an in-place bias add.
#include "tinytorch/native/linear.h"

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "gemm_dispatch.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch::native {

namespace {

using detail::gemm_operand;
using detail::GemmOperand;

// out [M, N] (contiguous, freshly allocated) = x2 [M, K] · weightᵀ + bias, with one call of the
// fast GEMM's bias form (kernels/gemm.h). x2 may be any 2-d layout gemm_operand can read (row- or
// column-major); weight is [N, K]; bias is undefined or already broadcast to [N] and contiguous.
template <typename T>
void linear_fast(const Tensor& x2, const Tensor& weight, const Tensor& bias, Tensor& out) {
  // BEGIN SOLUTION
  const int64_t M = x2.size(0), K = x2.size(1), N = weight.size(0);
  if (M == 0 || N == 0) return;  // nothing to write
  // 1. The bias row (null without one) is what the GEMM adds each tile of the product to as it
  //    stores it; beta = 0 tells it that y's (uninitialised) contents are never read.
  const T* b = bias.defined() ? bias.template data_ptr<T>() : nullptr;
  // 2. y = x2 · Wᵀ + b. W is stored [N, K]; the GEMM's op(B) must be Wᵀ [K, N]. A row-major W
  //    (w.trans == false) IS a column-major Wᵀ, so trans_b = !w.trans: no copy, no transpose.
  const GemmOperand a = gemm_operand(x2);
  const GemmOperand w = gemm_operand(weight);
  kernels::gemm_fast(a.trans, !w.trans, M, N, K, T(1), a.t.template data_ptr<T>(), a.ld,
                     w.t.template data_ptr<T>(), w.ld, T(0), b, out.template data_ptr<T>(), N);
  // END SOLUTION
}

// linear_fast for bfloat16/float16 x2, weight and bias (gemm_dispatch.h: float32 sums, one
// rounding): the 16-bit GEMM writes x2 · Wᵀ + bias into a float32 [M, N] buffer, the bias widened
// to float32 and added as the tiles are stored, and the sum is rounded once into out. (Rounding
// the product first and adding the bias after would round twice, as a separate `y + b` would.)
template <typename T>
void linear_16bit(const Tensor& x2, const Tensor& weight, const Tensor& bias, Tensor& out) {
  const int64_t M = x2.size(0), K = x2.size(1), N = weight.size(0);
  if (M == 0 || N == 0) return;
  const Tensor sums = empty({M, N}, kFloat32);
  Tensor wide_bias;  // [N] float32, or undefined
  if (bias.defined()) {
    wide_bias = empty({N}, kFloat32);
    detail::widen_to_float<T>(N, bias.template data_ptr<T>(), wide_bias.data_ptr<float>());
  }
  const GemmOperand a = gemm_operand(x2);
  const GemmOperand w = gemm_operand(weight);
  detail::gemm_16bit<T>(a.trans, !w.trans, M, N, K, a.t.template data_ptr<T>(), a.ld,
                        w.t.template data_ptr<T>(), w.ld, 0.0f, sums.data_ptr<float>(), N,
                        wide_bias.defined() ? wide_bias.data_ptr<float>() : nullptr);
  detail::round_from_float<T>(M * N, sums.data_ptr<float>(), out.template data_ptr<T>());
}

// The reference tier: the product through matmul (your module-01 gemm_reference), then the bias
// added in place into that fresh output (broadcast over the rows; no second output tensor).
Tensor linear_reference(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  // BEGIN SOLUTION
  Tensor y = native::matmul(input, weight.t());
  if (bias.defined()) native::add_(y, bias, 1);
  return y;
  // END SOLUTION
}

std::string mat_str(int64_t rows, int64_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

}  // namespace

Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  TT_CHECK(input.defined() && weight.defined(),
           "linear: input and weight must be defined tensors (got an undefined ",
           input.defined() ? "weight" : "input", ")");
  TT_CHECK(input.dim() >= 1,
           "linear: input must have at least 1 dimension (its last dim is in_features), but got a "
           "0-d tensor");
  TT_CHECK(weight.dim() == 2, "linear: weight must be 2-D [out_features, in_features], but got ",
           weight.dim(), "-D ", weight.sizes());
  const int64_t K = input.size(-1), N = weight.size(0);
  // M: every leading dim of the input folded into the rows of one matrix.
  const IntArrayRef lead(input.sizes().data(), input.sizes().size() - 1);
  const int64_t M = compute_numel(lead);
  // A feature map [N, C, H, W] that reaches a Linear without a Flatten is the classic CNN
  // mistake: say how many features each sample has once flattened from dim 1.
  const auto flatten_hint = [&]() -> std::string {
    if (input.dim() <= 2 || input.size(0) == 0) return "";
    return detail::str("; if ", input.sizes(), " is a batch of feature maps, flatten it from dim ",
                       "1 first (nn::Flatten()): each sample then has ",
                       input.numel() / input.size(0), " features");
  };
  // PyTorch's wording: mat1 is the input as [M, K], mat2 is Wᵀ as [in, out].
  TT_CHECK(weight.size(1) == K, "mat1 and mat2 shapes cannot be multiplied (", mat_str(M, K),
           " and ", mat_str(weight.size(1), N), "): linear's input ", input.sizes(),
           " has in_features = ", K, " (its last dim), but weight ", weight.sizes(),
           " is [out_features, in_features] with in_features = ", weight.size(1), flatten_hint());
  check_same_dtype("linear", "input", input, "weight", weight);
  TT_CHECK_TYPE(input.dtype() != kBool, "linear: not implemented for dtype bool");
  if (bias.defined()) {
    check_same_dtype("linear", "input", input, "bias", bias);
    TT_CHECK(bias.dim() == 0 || (bias.dim() == 1 && (bias.size(0) == N || bias.size(0) == 1)),
             "linear: a bias of shape ", bias.sizes(), " cannot be broadcast to [", N,
             "] (out_features = weight.size(0)); expected a bias of shape [", N, "]");
  }

  std::vector<int64_t> out_shape(lead.begin(), lead.end());
  out_shape.push_back(N);
  Tensor out;
  detail::dispatch_gemm_types(input.dtype(), "linear", [&]<typename T>() {
    if constexpr (detail::is_16bit_float<T>) {  // every tier
      out = empty(out_shape, input.dtype());
      const Tensor b = bias.defined() ? native::expand(bias, {N}).contiguous() : Tensor();
      linear_16bit<T>(native::reshape(input, {M, K}), weight, b, out);
      return;
    } else if constexpr (std::is_floating_point_v<T>) {
      // No fast GEMM registered for T (module 18 not written, or the reference tier forced):
      // linear_reference below, as for the integer dtypes.
      if (detail::fast_gemm<T>() == nullptr) return;
      out = empty(out_shape, input.dtype());
      const Tensor b = bias.defined() ? native::expand(bias, {N}).contiguous() : Tensor();
      linear_fast<T>(native::reshape(input, {M, K}), weight, b, out);
    }
  });
  if (!out.defined()) out = linear_reference(input, weight, bias);
  return out;
}

}  // namespace tinytorch::native
