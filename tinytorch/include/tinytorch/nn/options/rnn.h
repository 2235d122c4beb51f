// tinytorch/nn/options/rnn.h — the recurrent layers' options (libtorch's torch/nn/options/rnn.h).
//
//   nn::RNN rnn(nn::RNNOptions(128, 64).num_layers(3).dropout(0.2).nonlinearity(torch::kReLU));
//   nn::LSTM lstm(nn::LSTMOptions(2, 4).num_layers(3).batch_first(true).bidirectional(true));
//   nn::GRUCell cell(nn::GRUCellOptions(20, 10).bias(false));
//
// The names and defaults are libtorch's. One addition, as for Linear and Conv2d: `dtype`, the
// parameters' dtype (Python's dtype= factory argument; float32 by default).
#pragma once

#include <cstdint>
#include <variant>

#include "tinytorch/core/scalar_type.h"
#include "tinytorch/nn/init.h"    // nn::init::Nonlinearity
#include "tinytorch/nn/module.h"  // TT_ARG

namespace tinytorch {

// libtorch's torch::kTanh / torch::kReLU for an Elman RNN's nonlinearity. Each is a type of its
// own (libtorch's torch::enumtype), so that nonlinearity_t = std::variant<kTanh, kReLU> admits
// these two and a program passing anything else fails to compile, as with libtorch. libtorch
// spells the initializers' nonlinearity with the same two constants
// (nn::init::kaiming_normal_(w, 0.0, torch::kFanOut, torch::kReLU)), hence the conversions.
namespace enumtype {
struct kTanh {
  constexpr operator nn::init::Nonlinearity() const noexcept {  // NOLINT(google-explicit-*)
    return nn::init::Nonlinearity::Tanh;
  }
};
struct kReLU {
  constexpr operator nn::init::Nonlinearity() const noexcept {  // NOLINT(google-explicit-*)
    return nn::init::Nonlinearity::ReLU;
  }
};
}  // namespace enumtype
inline constexpr enumtype::kTanh kTanh{};
inline constexpr enumtype::kReLU kReLU{};

namespace nn {

// h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh)   (or relu)
struct RNNOptions {
  using nonlinearity_t = std::variant<enumtype::kTanh, enumtype::kReLU>;
  RNNOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  // The features of one element of the sequence (the input's last dim).
  TT_ARG(int64_t, input_size);
  // The features of the hidden state h.
  TT_ARG(int64_t, hidden_size);
  // Stacked layers: layer l > 0 reads the outputs of layer l − 1.
  TT_ARG(int64_t, num_layers) = 1;
  TT_ARG(nonlinearity_t, nonlinearity) = kTanh;
  // false: no b_ih, b_hh.
  TT_ARG(bool, bias) = true;
  // true: input and output are [batch, seq, feature]; false: [seq, batch, feature]. (h_0 and
  // h_n are [layers · directions, batch, hidden] either way.)
  TT_ARG(bool, batch_first) = false;
  // Dropout on the outputs of every layer but the last, in training mode only.
  TT_ARG(double, dropout) = 0.0;
  // A second set of layers reads the sequence backwards; their outputs are concatenated.
  TT_ARG(bool, bidirectional) = false;
  TT_ARG(ScalarType, dtype) = kFloat32;
};

struct LSTMOptions {
  LSTMOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  TT_ARG(int64_t, input_size);
  TT_ARG(int64_t, hidden_size);
  TT_ARG(int64_t, num_layers) = 1;
  TT_ARG(bool, bias) = true;
  TT_ARG(bool, batch_first) = false;
  TT_ARG(double, dropout) = 0.0;
  TT_ARG(bool, bidirectional) = false;
  // > 0: h = W_hr · (o ⊙ tanh(c)) is projected down to proj_size features (0 < proj_size <
  // hidden_size); the cell state c keeps hidden_size. 0: no projection.
  TT_ARG(int64_t, proj_size) = 0;
  TT_ARG(ScalarType, dtype) = kFloat32;
};

struct GRUOptions {
  GRUOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  TT_ARG(int64_t, input_size);
  TT_ARG(int64_t, hidden_size);
  TT_ARG(int64_t, num_layers) = 1;
  TT_ARG(bool, bias) = true;
  TT_ARG(bool, batch_first) = false;
  TT_ARG(double, dropout) = 0.0;
  TT_ARG(bool, bidirectional) = false;
  TT_ARG(ScalarType, dtype) = kFloat32;
};

namespace detail {

// Which recurrence a layer stack runs (libtorch's kRNN_TANH, kRNN_RELU, kLSTM, kGRU).
enum class RNNMode { RNN_TANH, RNN_RELU, LSTM, GRU };

// What RNN, LSTM and GRU share (libtorch's detail::RNNOptionsBase): each module's options are
// converted to this, and the shared code reads only this.
struct RNNOptionsBase {
  RNNOptionsBase(RNNMode mode, int64_t input_size, int64_t hidden_size)
      : mode_(mode), input_size_(input_size), hidden_size_(hidden_size) {}
  TT_ARG(RNNMode, mode);
  TT_ARG(int64_t, input_size);
  TT_ARG(int64_t, hidden_size);
  TT_ARG(int64_t, num_layers) = 1;
  TT_ARG(bool, bias) = true;
  TT_ARG(bool, batch_first) = false;
  TT_ARG(double, dropout) = 0.0;
  TT_ARG(bool, bidirectional) = false;
  TT_ARG(int64_t, proj_size) = 0;
  TT_ARG(ScalarType, dtype) = kFloat32;
};

}  // namespace detail

// One step of an Elman RNN: h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (or relu).
struct RNNCellOptions {
  using nonlinearity_t = std::variant<enumtype::kTanh, enumtype::kReLU>;
  RNNCellOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  TT_ARG(int64_t, input_size);
  TT_ARG(int64_t, hidden_size);
  TT_ARG(bool, bias) = true;
  TT_ARG(nonlinearity_t, nonlinearity) = kTanh;
  TT_ARG(ScalarType, dtype) = kFloat32;
};

struct LSTMCellOptions {
  LSTMCellOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  TT_ARG(int64_t, input_size);
  TT_ARG(int64_t, hidden_size);
  TT_ARG(bool, bias) = true;
  TT_ARG(ScalarType, dtype) = kFloat32;
};

struct GRUCellOptions {
  GRUCellOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  TT_ARG(int64_t, input_size);
  TT_ARG(int64_t, hidden_size);
  TT_ARG(bool, bias) = true;
  TT_ARG(ScalarType, dtype) = kFloat32;
};

namespace detail {

// What the three cells share (libtorch's detail::RNNCellOptionsBase): num_chunks is the number
// of gates stacked in W_ih's rows — 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n).
struct RNNCellOptionsBase {
  RNNCellOptionsBase(int64_t input_size, int64_t hidden_size, bool bias, int64_t num_chunks)
      : input_size_(input_size), hidden_size_(hidden_size), bias_(bias), num_chunks_(num_chunks) {}
  TT_ARG(int64_t, input_size);
  TT_ARG(int64_t, hidden_size);
  TT_ARG(bool, bias);
  TT_ARG(int64_t, num_chunks);
  TT_ARG(ScalarType, dtype) = kFloat32;
};

}  // namespace detail

}  // namespace nn
}  // namespace tinytorch
