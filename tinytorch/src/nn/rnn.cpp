// Module 11, Part 6 — nn::RNN, LSTM, GRU and their cells: the recurrences composed from
// differentiable ops (linear, sigmoid, tanh, mul, ...), so backward and create_graph come from the
// engine. You write one step of each recurrence (elman_step, lstm_step, gru_step); the layers, the
// cells, their options, checks and parameters around them are given.
//
// Where the time goes: each step needs h_{t−1}, so the recurrent GEMM h·W_hhᵀ runs once per step.
// The input's part x_t·W_ihᵀ + b_ih does not: it is one GEMM over all T·B rows of a layer's input
// ([T·B, I] × W_ihᵀ, bias fused), and each step reads its rows as a view (xg.select(0, t)). Per
// step that leaves one GEMM and a handful of element-wise ops over [B, G·H].
// On the fast tier (module 18 registers FastKernels::lstm_layer) a float32 LSTM layer runs the
// same steps as one fused node instead (lstm_fused.h); its backward with create_graph replays
// lstm_step.
#include <cmath>
#include <initializer_list>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "lstm_fused.h"
#include "tinytorch/core/join.h"
#include "tinytorch/nn/init.h"
#include "tinytorch/nn/modules/dropout.h"
#include "tinytorch/nn/modules/rnn.h"

namespace tinytorch::nn {

using detail::RNNMode;

namespace {

// ── one step of each recurrence, on batched 2-D tensors ─────────────────────────────────────
// xg [B, G·H] is the input's share, x·W_ihᵀ + b_ih, computed beforehand (for a whole sequence
// at once by the layers, for one step by the cells); h [B, H_out], c [B, H]; w_hh [G·H, H_out],
// b_hh [G·H] (undefined: bias=false — linear() accepts an undefined bias). G is the number of
// gates: 1 (RNN), 4 (LSTM), 3 (GRU), stacked along dim 0 of the weights in PyTorch's order.
// Everything is built from ops that record (linear, sigmoid, tanh, relu, +, −, ⊙, chunk), so
// backpropagation through time is the engine's backward over the unrolled graph.

// h' = act(xg + h·W_hhᵀ + b_hh), act = tanh or relu                              [B, H]
Tensor elman_step(bool relu, const Tensor& xg, const Tensor& h, const Tensor& w_hh,
                  const Tensor& b_hh) {
  // BEGIN SOLUTION
  const Tensor pre = xg + linear(h, w_hh, b_hh);  // [B, H]
  return relu ? tinytorch::relu(pre) : tinytorch::tanh(pre);
  // END SOLUTION
}

// The gates' pre-activations are [i | f | g | o] along dim 1 of xg + h·W_hhᵀ + b_hh [B, 4H]:
//   i = σ(·), f = σ(·), g = tanh(·), o = σ(·)                                    each [B, H]
//   c' = f ⊙ c + i ⊙ g                     the cell: carried by an addition      [B, H]
//   h' = o ⊙ tanh(c')                                                             [B, H]
//   h' = h'·W_hrᵀ  when w_hr [P, H] is defined (proj_size P > 0)                 [B, P]
// H is c's width (h's is P with a projection). Returns {h', c'}.
std::pair<Tensor, Tensor> lstm_step(const Tensor& xg, const Tensor& h, const Tensor& c,
                                    const Tensor& w_hh, const Tensor& b_hh, const Tensor& w_hr) {
  // BEGIN SOLUTION
  // One op hands out the four [B, H] blocks as views (one backward node writes all four
  // gradients into one [B, 4H] buffer).
  const std::vector<Tensor> gates = (xg + linear(h, w_hh, b_hh)).chunk(4, 1);  // i | f | g | o
  const Tensor in = sigmoid(gates[0]), forget = sigmoid(gates[1]);
  const Tensor cell = tinytorch::tanh(gates[2]), out = sigmoid(gates[3]);
  const Tensor c_next = forget * c + in * cell;
  Tensor h_next = out * tinytorch::tanh(c_next);
  if (w_hr.defined()) h_next = linear(h_next, w_hr);  // [B, H] → [B, P]
  return {h_next, c_next};
  // END SOLUTION
}

// The gates are [r | z | n], with the input's share xg and h's share h·W_hhᵀ + b_hh kept apart:
//   r = σ(xg_r + hg_r), z = σ(xg_z + hg_z)                                       each [B, H]
//   n = tanh(xg_n + r ⊙ hg_n)      r gates h's share of n, bias b_hn included    [B, H]
//   h' = (1 − z) ⊙ n + z ⊙ h                                                     [B, H]
// Unlike the other two, n's recurrent part is gated by r BEFORE it is added, so xg and hg cannot
// be summed first.
Tensor gru_step(const Tensor& xg, const Tensor& h, const Tensor& w_hh, const Tensor& b_hh) {
  // BEGIN SOLUTION
  const std::vector<Tensor> x = xg.chunk(3, 1);                      // r | z | n  [B, H]
  const std::vector<Tensor> hh = linear(h, w_hh, b_hh).chunk(3, 1);  // r | z | n  [B, H]
  const Tensor r = sigmoid(x[0] + hh[0]), z = sigmoid(x[1] + hh[1]);
  const Tensor n = tinytorch::tanh(x[2] + r * hh[2]);
  // (1 − z)·n + z·h, with one op fewer.
  return n + z * (h - n);
  // END SOLUTION
}

// "[2, 3, 20]"
std::string shape_str(std::initializer_list<int64_t> sizes) {
  return tinytorch::detail::str(IntArrayRef(sizes));
}

const char* mode_name(RNNMode mode) {
  switch (mode) {
    case RNNMode::RNN_TANH:
    case RNNMode::RNN_RELU:
      return "RNN";
    case RNNMode::LSTM:
      return "LSTM";
    case RNNMode::GRU:
      return "GRU";
  }
  return "RNN";
}

int64_t gate_count(RNNMode mode) {
  return mode == RNNMode::LSTM ? 4 : mode == RNNMode::GRU ? 3 : 1;
}

// The checks every recurrent module's options share; `name` starts each message.
void check_sizes(const char* name, int64_t input_size, int64_t hidden_size, ScalarType dtype) {
  TT_CHECK_VALUE(input_size >= 0, name,
                 ": input_size must be non-negative, but got input_size=", input_size);
  TT_CHECK_VALUE(hidden_size > 0, name,
                 ": hidden_size must be positive, but got hidden_size=", hidden_size);
  TT_CHECK_TYPE(is_floating_point(dtype), name,
                ": the parameters must have a floating-point dtype, but got ", dtype);
}

// U(−1/√H, 1/√H) for each of `parameters` (PyTorch's init of every recurrent parameter).
void init_uniform(const std::vector<Tensor>& parameters, int64_t hidden_size) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  for (const Tensor& p : parameters) init::uniform_(p, -bound, bound);
}

}  // namespace

// ══ RNN, LSTM, GRU ═══════════════════════════════════════════════════════════════════════════

namespace detail {

RNNImplBase::RNNImplBase(std::string name, const RNNOptionsBase& options)
    : Module(std::move(name)), options_base(options) {
  const char* who = mode_name(options.mode());
  check_sizes(who, options.input_size(), options.hidden_size(), options.dtype());
  TT_CHECK_VALUE(options.num_layers() > 0, who,
                 ": num_layers must be at least 1, but got num_layers=", options.num_layers());
  TT_CHECK_VALUE(options.dropout() >= 0.0 && options.dropout() <= 1.0, who,
                 ": dropout must be a probability in [0, 1] (of an element being zeroed), but "
                 "got dropout=",
                 options.dropout());
  TT_CHECK_VALUE(options.proj_size() >= 0, who,
                 ": proj_size must be non-negative (0: no projection), but got proj_size=",
                 options.proj_size());
  TT_CHECK_VALUE(options.proj_size() < options.hidden_size(), who,
                 ": proj_size must be smaller than hidden_size, but got proj_size=",
                 options.proj_size(), ", hidden_size=", options.hidden_size());
  reset();
}

void RNNImplBase::reset() {
  const RNNOptionsBase& o = options_base;
  const int64_t D = o.bidirectional() ? 2 : 1, H = o.hidden_size(), P = o.proj_size();
  const int64_t G = gate_count(o.mode()) * H;
  const int64_t H_out = P > 0 ? P : H;  // the features of h (and of each direction's output)
  layers_.clear();
  for (int64_t k = 0; k < o.num_layers(); ++k) {
    const int64_t in = k == 0 ? o.input_size() : D * H_out;
    for (int64_t d = 0; d < D; ++d) {
      const std::string suffix = "_l" + std::to_string(k) + (d == 1 ? "_reverse" : "");
      LayerWeights w;
      w.weight_ih = register_parameter("weight_ih" + suffix, empty({G, in}, o.dtype()));
      w.weight_hh = register_parameter("weight_hh" + suffix, empty({G, H_out}, o.dtype()));
      if (o.bias()) {
        w.bias_ih = register_parameter("bias_ih" + suffix, empty({G}, o.dtype()));
        w.bias_hh = register_parameter("bias_hh" + suffix, empty({G}, o.dtype()));
      }
      if (P > 0) w.weight_hr = register_parameter("weight_hr" + suffix, empty({P, H}, o.dtype()));
      layers_.push_back(std::move(w));
    }
  }
  reset_parameters();
}

void RNNImplBase::reset_parameters() {
  init_uniform(all_weights(), options_base.hidden_size());
}

std::vector<Tensor> RNNImplBase::all_weights() const {
  return parameters(/*recurse=*/false);
}

std::string RNNImplBase::extra_repr() const {
  const RNNOptionsBase& o = options_base;
  std::string s = std::to_string(o.input_size()) + ", " + std::to_string(o.hidden_size());
  if (o.proj_size() != 0) s += ", proj_size=" + std::to_string(o.proj_size());
  if (o.num_layers() != 1) s += ", num_layers=" + std::to_string(o.num_layers());
  if (!o.bias()) s += ", bias=false";
  if (o.batch_first()) s += ", batch_first=true";
  if (o.dropout() != 0.0) s += ", dropout=" + python_float_repr(o.dropout());
  if (o.bidirectional()) s += ", bidirectional=true";
  return s;
}

std::tuple<Tensor, Tensor, Tensor> RNNImplBase::forward_layers(const Tensor& input,
                                                               const Tensor& hx, const Tensor& cx) {
  const RNNOptionsBase& o = options_base;
  const char* who = mode_name(o.mode());
  const bool lstm = o.mode() == RNNMode::LSTM;
  const int64_t D = o.bidirectional() ? 2 : 1, L = o.num_layers(), H = o.hidden_size();
  const int64_t H_out = o.proj_size() > 0 ? o.proj_size() : H;

  // ── the input: [T, B, I] / [B, T, I] / [T, I] ──
  TT_CHECK(input.defined(), who, ": the input is an undefined tensor");
  TT_CHECK_VALUE(input.dim() == 2 || input.dim() == 3, who,
                 ": expected the input to be 3-D [seq_len, batch, input_size] (batch_first: "
                 "[batch, seq_len, input_size]) or 2-D [seq_len, input_size] (unbatched), but "
                 "got a ",
                 input.dim(), "-D input of size ", input.sizes());
  TT_CHECK(input.size(-1) == o.input_size(), who,
           ": input.size(-1) must be equal to input_size=", o.input_size(), ", but got ",
           input.size(-1), " (input of size ", input.sizes(), ")");
  TT_CHECK_TYPE(input.dtype() == o.dtype(), who, ": the input's dtype (", input.dtype(),
                ") must be the parameters' dtype (", o.dtype(), ")");
  const bool batched = input.dim() == 3;
  // An unbatched sequence is a batch of one; the batch dim goes where batch_first says.
  const int64_t batch_dim = o.batch_first() ? 0 : 1, time_dim = 1 - batch_dim;
  const Tensor x = batched ? input : input.unsqueeze(batch_dim);
  const int64_t T = x.size(time_dim), B = x.size(batch_dim);
  TT_CHECK(T > 0, who, ": expected a sequence of length at least 1, but got input of size ",
           input.sizes());

  // ── the initial states: [D·L, B, H_out] (h) and [D·L, B, H] (c), or zeros ──
  // `label` names the argument, `features_name` the option its last dim must equal.
  auto initial = [&](const Tensor& state, int64_t features, const char* label,
                     const char* features_name) {
    if (!state.defined()) return zeros({D * L, B, features}, x.dtype());
    TT_CHECK(state.dim() == input.dim(), who, ": for a ", input.dim(), "-D (",
             batched ? "batched" : "unbatched", ") input, ", label, " should be ", input.dim(),
             "-D, but got a ", state.dim(), "-D tensor of size ", state.sizes());
    const Tensor s = batched ? state : state.unsqueeze(1);
    TT_CHECK(s.size(0) == D * L && s.size(1) == B && s.size(2) == features, who, ": expected ",
             label, " of size ", shape_str({D * L, B, features}),
             " = [num_layers · num_directions, batch, ", features_name, "], but got ", s.sizes());
    TT_CHECK_TYPE(s.dtype() == x.dtype(), who, ": the dtype of ", label, " (", s.dtype(),
                  ") must be the input's (", x.dtype(), ")");
    return s;
  };
  const Tensor h0 =
      initial(hx, H_out, lstm ? "h_0" : "hx", o.proj_size() > 0 ? "proj_size" : "hidden_size");
  const Tensor c0 = lstm ? initial(cx, H, "c_0", "hidden_size") : Tensor();

  // ── the layers: each reads the previous one's output over the whole sequence ──
  // float32 LSTMs without a projection run on the fast tier's fused layer when it is registered.
  const bool fused = lstm && o.proj_size() == 0 && B > 0 && detail::fused_lstm_applies(x.dtype());
  std::vector<Tensor> h_n(D * L), c_n(lstm ? D * L : 0);
  // The fused layers read the sequence time-major ([T, B, ·]) whatever batch_first says: the
  // input is transposed (I features: cheaper than the G·H of xg and of its gradient), and a
  // batch_first output is laid out [B, T, ·] once, at the end.
  const bool time_major = !o.batch_first() || fused;
  Tensor layer_input = o.batch_first() && fused ? x.transpose(0, 1) : x;  // [T, B, ·] or [B, T, ·]
  std::vector<Tensor> steps(T);
  for (int64_t k = 0; k < L; ++k) {
    std::vector<Tensor> directions;
    for (int64_t d = 0; d < D; ++d) {
      const int64_t index = k * D + d;
      const LayerWeights& w = layers_[index];
      Tensor h = h0.select(0, index), c = lstm ? c0.select(0, index) : Tensor();
      if (fused) {  // the fast tier's LSTM layer: the same steps, one node (lstm_fused.h)
        const std::vector<Tensor> outs = detail::FusedLstmLayer<&lstm_step>::apply(
            linear(layer_input, w.weight_ih), h, c, w.weight_hh, std::optional<Tensor>(w.bias_ih),
            std::optional<Tensor>(w.bias_hh), /*reverse=*/d == 1);
        h_n[index] = outs[1];
        c_n[index] = outs[2];
        directions.push_back(outs[0]);  // [T, B, H]
        continue;
      }
      // Each step's rows as views, by one op: its backward writes the T steps' gradients into
      // one [T, B, G·H] buffer (a select per step would zero a full buffer per step, O(T²)).
      // x_t·W_ihᵀ + b_ih for every step at once: one GEMM over all T·B rows, seen time-major.
      Tensor xg = linear(layer_input, w.weight_ih, w.bias_ih);
      if (!time_major) xg = xg.transpose(0, 1);  // [T, B, G·H], a view
      const std::vector<Tensor> xg_steps = xg.unbind(0);
      for (int64_t s = 0; s < T; ++s) {
        const int64_t t = d == 0 ? s : T - 1 - s;  // the reverse direction reads back to front
        const Tensor& xg_t = xg_steps[static_cast<size_t>(t)];
        switch (o.mode()) {
          case RNNMode::RNN_TANH:
          case RNNMode::RNN_RELU:
            h = elman_step(o.mode() == RNNMode::RNN_RELU, xg_t, h, w.weight_hh, w.bias_hh);
            break;
          case RNNMode::LSTM:
            std::tie(h, c) = lstm_step(xg_t, h, c, w.weight_hh, w.bias_hh, w.weight_hr);
            break;
          case RNNMode::GRU:
            h = gru_step(xg_t, h, w.weight_hh, w.bias_hh);
            break;
        }
        steps[t] = h;  // in time order, whichever the direction
      }
      h_n[index] = h;
      if (lstm) c_n[index] = c;
      directions.push_back(stack(steps, time_dim));  // [T, B, H_out] or [B, T, H_out]
    }
    layer_input = D == 1 ? directions[0] : cat(directions, 2);
    if (k + 1 < L && o.dropout() > 0.0 && is_training()) {
      layer_input = functional::dropout(layer_input, o.dropout(), /*training=*/true);
    }
  }

  Tensor output = o.batch_first() && fused ? layer_input.transpose(0, 1).contiguous() : layer_input;
  Tensor h_last = stack(h_n, 0), c_last = lstm ? stack(c_n, 0) : Tensor();
  if (!batched) {
    output = output.squeeze(batch_dim);
    h_last = h_last.squeeze(1);
    if (lstm) c_last = c_last.squeeze(1);
  }
  return {output, h_last, c_last};
}

}  // namespace detail

namespace {

detail::RNNOptionsBase base_options(const RNNOptions& o) {
  const bool relu = std::holds_alternative<enumtype::kReLU>(o.nonlinearity());
  return detail::RNNOptionsBase(relu ? RNNMode::RNN_RELU : RNNMode::RNN_TANH, o.input_size(),
                                o.hidden_size())
      .num_layers(o.num_layers())
      .bias(o.bias())
      .batch_first(o.batch_first())
      .dropout(o.dropout())
      .bidirectional(o.bidirectional())
      .dtype(o.dtype());
}

detail::RNNOptionsBase base_options(const LSTMOptions& o) {
  return detail::RNNOptionsBase(RNNMode::LSTM, o.input_size(), o.hidden_size())
      .num_layers(o.num_layers())
      .bias(o.bias())
      .batch_first(o.batch_first())
      .dropout(o.dropout())
      .bidirectional(o.bidirectional())
      .proj_size(o.proj_size())
      .dtype(o.dtype());
}

detail::RNNOptionsBase base_options(const GRUOptions& o) {
  return detail::RNNOptionsBase(RNNMode::GRU, o.input_size(), o.hidden_size())
      .num_layers(o.num_layers())
      .bias(o.bias())
      .batch_first(o.batch_first())
      .dropout(o.dropout())
      .bidirectional(o.bidirectional())
      .dtype(o.dtype());
}

}  // namespace

RNNImpl::RNNImpl(const RNNOptions& options_)
    : RNNImplBase("RNN", base_options(options_)), options(options_) {}

std::tuple<Tensor, Tensor> RNNImpl::forward(const Tensor& input, Tensor hx) {
  auto [output, h_n, unused] = forward_layers(input, hx, Tensor());
  return {output, h_n};
}

LSTMImpl::LSTMImpl(const LSTMOptions& options_)
    : RNNImplBase("LSTM", base_options(options_)), options(options_) {}

std::tuple<Tensor, std::tuple<Tensor, Tensor>> LSTMImpl::forward(
    const Tensor& input, std::optional<std::tuple<Tensor, Tensor>> hx_opt) {
  Tensor h0, c0;
  if (hx_opt) {
    std::tie(h0, c0) = *hx_opt;
    TT_CHECK(h0.defined() && c0.defined(),
             "LSTM: hx_opt must hold two defined tensors (h_0, c_0), but got an undefined ",
             h0.defined() ? "c_0" : "h_0");
  }
  auto [output, h_n, c_n] = forward_layers(input, h0, c0);
  return {output, {h_n, c_n}};
}

GRUImpl::GRUImpl(const GRUOptions& options_)
    : RNNImplBase("GRU", base_options(options_)), options(options_) {}

std::tuple<Tensor, Tensor> GRUImpl::forward(const Tensor& input, Tensor hx) {
  auto [output, h_n, unused] = forward_layers(input, hx, Tensor());
  return {output, h_n};
}

// ══ RNNCell, LSTMCell, GRUCell ═══════════════════════════════════════════════════════════════

namespace detail {

RNNCellImplBase::RNNCellImplBase(std::string name, const RNNCellOptionsBase& options)
    : Module(std::move(name)), options_base(options) {
  check_sizes(this->name().c_str(), options.input_size(), options.hidden_size(), options.dtype());
  reset();
}

void RNNCellImplBase::reset() {
  const RNNCellOptionsBase& o = options_base;
  const int64_t G = o.num_chunks() * o.hidden_size();
  weight_ih = register_parameter("weight_ih", empty({G, o.input_size()}, o.dtype()));
  weight_hh = register_parameter("weight_hh", empty({G, o.hidden_size()}, o.dtype()));
  bias_ih = o.bias() ? register_parameter("bias_ih", empty({G}, o.dtype()))
                     : register_parameter("bias_ih", Tensor(), /*requires_grad=*/false);
  bias_hh = o.bias() ? register_parameter("bias_hh", empty({G}, o.dtype()))
                     : register_parameter("bias_hh", Tensor(), /*requires_grad=*/false);
  reset_parameters();
}

void RNNCellImplBase::reset_parameters() {
  init_uniform(parameters(/*recurse=*/false), options_base.hidden_size());
}

std::string RNNCellImplBase::extra_repr() const {
  std::string s =
      std::to_string(options_base.input_size()) + ", " + std::to_string(options_base.hidden_size());
  if (!options_base.bias()) s += ", bias=false";
  return s;
}

Tensor RNNCellImplBase::batched_input(const Tensor& input) const {
  const std::string& who = name();
  TT_CHECK(input.defined(), who, ": the input is an undefined tensor");
  TT_CHECK_VALUE(input.dim() == 1 || input.dim() == 2, who,
                 ": expected the input to be 2-D [batch, input_size] or 1-D [input_size] "
                 "(unbatched), but got a ",
                 input.dim(), "-D input of size ", input.sizes());
  TT_CHECK(input.size(-1) == options_base.input_size(), who,
           ": input.size(-1) must be equal to input_size=", options_base.input_size(), ", but got ",
           input.size(-1), " (input of size ", input.sizes(), ")");
  TT_CHECK_TYPE(input.dtype() == options_base.dtype(), who, ": the input's dtype (", input.dtype(),
                ") must be the parameters' dtype (", options_base.dtype(), ")");
  return input.dim() == 2 ? input : input.unsqueeze(0);
}

Tensor RNNCellImplBase::batched_state(const Tensor& input, const Tensor& state,
                                      const char* label) const {
  const std::string& who = name();
  const int64_t B = input.dim() == 2 ? input.size(0) : 1, H = options_base.hidden_size();
  if (!state.defined()) return zeros({B, H}, input.dtype());
  TT_CHECK(state.dim() == input.dim(), who, ": for a ", input.dim(), "-D (",
           input.dim() == 2 ? "batched" : "unbatched", ") input, ", label, " should be ",
           input.dim(), "-D, but got a ", state.dim(), "-D tensor of size ", state.sizes());
  const Tensor s = state.dim() == 2 ? state : state.unsqueeze(0);
  TT_CHECK(s.size(0) == B && s.size(1) == H, who, ": expected ", label, " of size ",
           shape_str({B, H}), " = [batch, hidden_size], but got ", s.sizes(), " (input of size ",
           input.sizes(), ")");
  TT_CHECK_TYPE(s.dtype() == input.dtype(), who, ": the dtype of ", label, " (", s.dtype(),
                ") must be the input's (", input.dtype(), ")");
  return s;
}

}  // namespace detail

RNNCellImpl::RNNCellImpl(const RNNCellOptions& options_)
    : RNNCellImplBase("RNNCell",
                      detail::RNNCellOptionsBase(options_.input_size(), options_.hidden_size(),
                                                 options_.bias(), /*num_chunks=*/1)
                          .dtype(options_.dtype())),
      options(options_) {}

Tensor RNNCellImpl::forward(const Tensor& input, Tensor hx) {
  const Tensor x = batched_input(input), h = batched_state(input, hx, "hx");
  const bool relu = std::holds_alternative<enumtype::kReLU>(options.nonlinearity());
  const Tensor h_next = elman_step(relu, linear(x, weight_ih, bias_ih), h, weight_hh, bias_hh);
  return input.dim() == 2 ? h_next : h_next.squeeze(0);
}

std::string RNNCellImpl::extra_repr() const {
  std::string s = RNNCellImplBase::extra_repr();
  if (std::holds_alternative<enumtype::kReLU>(options.nonlinearity())) s += ", nonlinearity=relu";
  return s;
}

LSTMCellImpl::LSTMCellImpl(const LSTMCellOptions& options_)
    : RNNCellImplBase("LSTMCell",
                      detail::RNNCellOptionsBase(options_.input_size(), options_.hidden_size(),
                                                 options_.bias(), /*num_chunks=*/4)
                          .dtype(options_.dtype())),
      options(options_) {}

std::tuple<Tensor, Tensor> LSTMCellImpl::forward(const Tensor& input,
                                                 std::optional<std::tuple<Tensor, Tensor>> hx_opt) {
  Tensor hx, cx;
  if (hx_opt) {
    std::tie(hx, cx) = *hx_opt;
    TT_CHECK(hx.defined() && cx.defined(),
             "LSTMCell: hx_opt must hold two defined tensors (h, c), but got an undefined ",
             hx.defined() ? "c" : "h");
  }
  const Tensor x = batched_input(input);
  const Tensor h = batched_state(input, hx, "hx"), c = batched_state(input, cx, "cx");
  auto [h_next, c_next] =
      lstm_step(linear(x, weight_ih, bias_ih), h, c, weight_hh, bias_hh, Tensor());
  if (input.dim() == 1) return {h_next.squeeze(0), c_next.squeeze(0)};
  return {h_next, c_next};
}

GRUCellImpl::GRUCellImpl(const GRUCellOptions& options_)
    : RNNCellImplBase("GRUCell",
                      detail::RNNCellOptionsBase(options_.input_size(), options_.hidden_size(),
                                                 options_.bias(), /*num_chunks=*/3)
                          .dtype(options_.dtype())),
      options(options_) {}

Tensor GRUCellImpl::forward(const Tensor& input, Tensor hx) {
  const Tensor x = batched_input(input), h = batched_state(input, hx, "hx");
  const Tensor h_next = gru_step(linear(x, weight_ih, bias_ih), h, weight_hh, bias_hh);
  return input.dim() == 2 ? h_next : h_next.squeeze(0);
}

}  // namespace tinytorch::nn
