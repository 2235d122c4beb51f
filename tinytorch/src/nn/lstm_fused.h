// The fast tier's LSTM layer: one direction of one layer over a whole sequence as ONE autograd
// node (src/nn/lstm_fused.cpp), for nn::LSTM (src/nn/rnn.cpp).
//
// The general path builds each step from a dozen recorded ops (linear, chunk, sigmoid, tanh, ⊙,
// +): T·12 nodes per layer, each with its own buffers, and backward runs them one by one. The
// fused layer runs the same recurrence on raw float32 buffers with the registered fast kernels
// (the GEMM, sigmoid and tanh), keeps what backward needs, and its backward walks the steps back
// once: per step one GEMM for dh_{t−1} = dgates_t·W_hh and one pass for dgates_t from dh_t, dc_t;
// after the loop, dW_hh = Σ_t dgates_tᵀ·h_{t−1} and db_hh as one GEMM and one sum over all T·B
// rows (the input's share, xg = x·W_ihᵀ, gets dgates itself: its backward makes dW_ih one GEMM).
#pragma once

#include <optional>
#include <utility>

#include "tinytorch/autograd/custom_function.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::nn::detail {

// The learner's step (rnn.cpp's lstm_step): {h', c'} from xg [B, 4H], h, c, w_hh, b_hh, w_hr.
using LstmStepFn = std::pair<Tensor, Tensor> (*)(const Tensor& xg, const Tensor& h, const Tensor& c,
                                                 const Tensor& w_hh, const Tensor& b_hh,
                                                 const Tensor& w_hr);

// Whether FusedLstmLayer runs for parameters of `dtype`: float32, with the fast tier's
// lstm_layer entry, GEMM, sigmoid and tanh registered (module 18; the reference tier, an
// unregistered entry and float64 take the general path, module 11's lstm_step).
bool fused_lstm_applies(ScalarType dtype);

// The node's two halves (lstm_fused.cpp), with the arguments of FusedLstmLayer::forward.
autograd::variable_list fused_lstm_forward(autograd::AutogradContext* ctx, const Tensor& xg,
                                           const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                                           const std::optional<Tensor>& b_ih,
                                           const std::optional<Tensor>& b_hh, bool reverse);
// `step` is what a backward with create_graph=true replays (on the saved inputs, recorded), so
// that the gradients it returns can be differentiated again; otherwise it is not called.
autograd::variable_list fused_lstm_backward(autograd::AutogradContext* ctx,
                                            const autograd::variable_list& grads, LstmStepFn step);

// FusedLstmLayer<&lstm_step>::apply(xg, h0, c0, w_hh, b_ih, b_hh, reverse) → {output, h_n, c_n}
//   xg [T, B, 4H]   x·W_ihᵀ, WITHOUT b_ih (rows may be strided; the last dim contiguous): both
//                   biases are added here, and their gradient (the same) summed once
//   h0, c0 [B, H];  w_hh [4H, H];  b_ih, b_hh [4H] or std::nullopt (bias=false)
//   reverse         the steps run from t = T−1 down to 0
//   output [T, B, H] (h_t in time order), h_n, c_n [B, H]: the values of T calls of Step.
// Step is a template argument because a node's saved data holds values, not functions.
template <LstmStepFn Step>
struct FusedLstmLayer : public autograd::Function<FusedLstmLayer<Step>> {
  static autograd::variable_list forward(autograd::AutogradContext* ctx, const Tensor& xg,
                                         const Tensor& h0, const Tensor& c0, const Tensor& w_hh,
                                         const std::optional<Tensor>& b_ih,
                                         const std::optional<Tensor>& b_hh, bool reverse) {
    return fused_lstm_forward(ctx, xg, h0, c0, w_hh, b_ih, b_hh, reverse);
  }
  static autograd::variable_list backward(autograd::AutogradContext* ctx,
                                          autograd::variable_list grads) {
    return fused_lstm_backward(ctx, grads, Step);
  }
};

}  // namespace tinytorch::nn::detail
