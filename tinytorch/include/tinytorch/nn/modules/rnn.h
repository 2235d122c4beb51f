// tinytorch/nn/modules/rnn.h — the recurrent layers RNN, LSTM, GRU and their one-step cells
// RNNCell, LSTMCell, GRUCell (libtorch's torch/nn/modules/rnn.h; options in nn/options/rnn.h).
//
//   nn::LSTM lstm(nn::LSTMOptions(10, 20).num_layers(2));
//   auto [output, state] = lstm(x);                       x [T, B, 10]  (h_0 = c_0 = 0)
//   auto [h_n, c_n] = state;                              output [T, B, 20], h_n, c_n [2, B, 20]
//   auto [out2, state2] = lstm(x2, state);                carry the state on
//
//      x_1 ──► x_2 ──► … ──► x_T            one layer, one direction:
//       │       │             │               xg = x·W_ihᵀ + b_ih     ONE GEMM for all T steps
//   h_0 ┴► h_1 ─┴► h_2 … ───┴► h_T = h_n      h_t = cell(xg_t + h_{t−1}·W_hhᵀ + b_hh)
//          │       │            │                                     one GEMM per step
//        out_1   out_2  …     out_T  ──► the next layer's x (after dropout, in training mode)
//
// The gates, stacked in the rows of W_ih [G·H, I] and W_hh [G·H, H] in PyTorch's order:
//
//   RNN   G = 1   h' = tanh(xg + h·W_hhᵀ + b_hh)                       (or relu)
//   LSTM  G = 4   i, f, g, o:  c' = σ(f)·c + σ(i)·tanh(g),  h' = σ(o)·tanh(c')
//   GRU   G = 3   r, z, n:     n = tanh(xg_n + σ(r)·(h·W_hnᵀ + b_hn)),  h' = (1 − σ(z))·n + σ(z)·h
//
// Parameters, named as PyTorch names them (so a state_dict maps one to one), for layer k and the
// backward direction's "_reverse" suffix: weight_ih_l{k}[_reverse] [G·H, I_k] (I_0 = input_size,
// I_k = directions · H), weight_hh_l{k} [G·H, H], bias_ih_l{k} and bias_hh_l{k} [G·H] (when
// bias), and for an LSTM with proj_size P > 0 weight_hr_l{k} [P, H] (then h has P features).
// Every one starts as U(−1/√H, 1/√H), PyTorch's init.
//
// Shapes (D = 2 if bidirectional else 1, L = num_layers, H_out = proj_size or hidden_size):
//   input    [T, B, I]  (batch_first: [B, T, I];  unbatched: [T, I])
//   h_0, h_n [D·L, B, H_out]  (unbatched: [D·L, H_out]) — row k·D + d: layer k, direction d
//   c_0, c_n [D·L, B, H]      (LSTM only)
//   output   [T, B, D·H_out]  (batch_first: [B, T, D·H_out]; unbatched: [T, D·H_out]) — the last
//                             layer's h_t; the backward direction's in the second half of the
//                             features
//
// Everything is composed from differentiable ops (linear, sigmoid, tanh, mul, ...), so the
// gradients, and gradients of gradients (create_graph), come from the engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "tinytorch/nn/module.h"
#include "tinytorch/nn/options/rnn.h"

namespace tinytorch::nn {

namespace detail {

// What RNN, LSTM and GRU share (libtorch's detail::RNNImplBase): the parameters of every layer
// and direction, their init, and the loop over layers, directions and time.
class RNNImplBase : public Module {
 public:
  // (Re)creates and registers every parameter, in PyTorch's order (layer by layer, forward
  // direction first; weight_ih, weight_hh, bias_ih, bias_hh, weight_hr), then initialises them.
  void reset();
  // U(−1/√hidden_size, 1/√hidden_size) for every parameter (PyTorch's reset_parameters).
  void reset_parameters();
  // The parameters, in registration order (libtorch's all_weights()).
  std::vector<Tensor> all_weights() const;
  // As PyTorch prints it: "10, 20, num_layers=2, batch_first=true" — each option only when it
  // differs from its default.
  std::string extra_repr() const override;

  RNNOptionsBase options_base;

 protected:
  RNNImplBase(std::string name, const RNNOptionsBase& options);

  // Runs the layers over the whole sequence. hx: undefined (zeros) or h_0 as the shapes above;
  // cx: c_0 likewise (LSTM; undefined for RNN and GRU). Checks the input and the states against
  // the options, with errors naming the module and the argument. Returns (output, h_n, c_n),
  // c_n undefined unless LSTM.
  std::tuple<Tensor, Tensor, Tensor> forward_layers(const Tensor& input, const Tensor& hx,
                                                    const Tensor& cx);

 private:
  // The parameters of one layer in one direction (handles aliasing the registered ones).
  struct LayerWeights {
    Tensor weight_ih, weight_hh, bias_ih, bias_hh, weight_hr;  // undefined when absent
  };
  std::vector<LayerWeights> layers_;  // index layer · D + direction
};

}  // namespace detail

// A multi-layer Elman RNN: h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh) (or relu).
class RNNImpl : public detail::RNNImplBase {
 public:
  RNNImpl(int64_t input_size, int64_t hidden_size) : RNNImpl(RNNOptions(input_size, hidden_size)) {}
  explicit RNNImpl(const RNNOptions& options_);

  // → (output, h_n). hx = h_0, or undefined for zeros.
  std::tuple<Tensor, Tensor> forward(const Tensor& input, Tensor hx = {});

  RNNOptions options;
};
TT_MODULE(RNN);

// A multi-layer long short-term memory.
class LSTMImpl : public detail::RNNImplBase {
 public:
  LSTMImpl(int64_t input_size, int64_t hidden_size)
      : LSTMImpl(LSTMOptions(input_size, hidden_size)) {}
  explicit LSTMImpl(const LSTMOptions& options_);

  // → (output, (h_n, c_n)). hx_opt = (h_0, c_0), or nullopt for zeros.
  std::tuple<Tensor, std::tuple<Tensor, Tensor>> forward(
      const Tensor& input, std::optional<std::tuple<Tensor, Tensor>> hx_opt = {});

  LSTMOptions options;
};
TT_MODULE(LSTM);

// A multi-layer gated recurrent unit.
class GRUImpl : public detail::RNNImplBase {
 public:
  GRUImpl(int64_t input_size, int64_t hidden_size) : GRUImpl(GRUOptions(input_size, hidden_size)) {}
  explicit GRUImpl(const GRUOptions& options_);

  // → (output, h_n). hx = h_0, or undefined for zeros.
  std::tuple<Tensor, Tensor> forward(const Tensor& input, Tensor hx = {});

  GRUOptions options;
};
TT_MODULE(GRU);

namespace detail {

// What the cells share (libtorch's detail::RNNCellImplBase): one step of the recurrence, for a
// caller that writes the loop over time itself.
//   input [B, I] or [I] (unbatched), hx [B, H] or [H] → h' of the same batchedness
class RNNCellImplBase : public Module {
 public:
  // (Re)creates and registers weight_ih [G·H, I], weight_hh [G·H, H], bias_ih and bias_hh [G·H]
  // (or undefined ones), G = options_base.num_chunks(), then initialises them.
  void reset();
  // U(−1/√hidden_size, 1/√hidden_size) for every parameter.
  void reset_parameters();
  // "10, 20", then ", bias=false" when there is no bias (PyTorch's repr).
  std::string extra_repr() const override;

  RNNCellOptionsBase options_base;

  Tensor weight_ih;
  Tensor weight_hh;
  Tensor bias_ih;  // undefined when options.bias() is false
  Tensor bias_hh;

 protected:
  RNNCellImplBase(std::string name, const RNNCellOptionsBase& options);

  // Checks the input (1-D or 2-D, input_size features, the parameters' dtype) and returns it
  // batched: [B, I].
  Tensor batched_input(const Tensor& input) const;
  // Checks a state (`label`: "hx", "cx") against the input — the same batchedness, the batch
  // size, hidden_size features, the dtype — and returns it batched: [B, H]. Undefined: zeros.
  Tensor batched_state(const Tensor& input, const Tensor& state, const char* label) const;
};

}  // namespace detail

// h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)   (or relu)
class RNNCellImpl : public detail::RNNCellImplBase {
 public:
  RNNCellImpl(int64_t input_size, int64_t hidden_size)
      : RNNCellImpl(RNNCellOptions(input_size, hidden_size)) {}
  explicit RNNCellImpl(const RNNCellOptions& options_);

  // → h'. hx = h, or undefined for zeros.
  Tensor forward(const Tensor& input, Tensor hx = {});
  // As the base's, then ", nonlinearity=relu" for relu (PyTorch's repr).
  std::string extra_repr() const override;

  RNNCellOptions options;
};
TT_MODULE(RNNCell);

// (h', c') from (h, c): gates i, f, g, o of x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh.
class LSTMCellImpl : public detail::RNNCellImplBase {
 public:
  LSTMCellImpl(int64_t input_size, int64_t hidden_size)
      : LSTMCellImpl(LSTMCellOptions(input_size, hidden_size)) {}
  explicit LSTMCellImpl(const LSTMCellOptions& options_);

  // → (h', c'). hx_opt = (h, c), or nullopt for zeros.
  std::tuple<Tensor, Tensor> forward(const Tensor& input,
                                     std::optional<std::tuple<Tensor, Tensor>> hx_opt = {});

  LSTMCellOptions options;
};
TT_MODULE(LSTMCell);

// h' from h: gates r, z, n.
class GRUCellImpl : public detail::RNNCellImplBase {
 public:
  GRUCellImpl(int64_t input_size, int64_t hidden_size)
      : GRUCellImpl(GRUCellOptions(input_size, hidden_size)) {}
  explicit GRUCellImpl(const GRUCellOptions& options_);

  // → h'. hx = h, or undefined for zeros.
  Tensor forward(const Tensor& input, Tensor hx = {});

  GRUCellOptions options;
};
TT_MODULE(GRUCell);

}  // namespace tinytorch::nn
