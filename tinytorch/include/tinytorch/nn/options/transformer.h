// tinytorch/nn/options/transformer.h — the options of libtorch's nn::Transformer (libtorch's
// torch/nn/options/transformer.h): the encoder-decoder model of "Attention Is All You Need".
//
//   nn::Transformer model(nn::TransformerOptions(512, 8));                  // 6 + 6 layers
//   nn::Transformer small(nn::TransformerOptions(64, 4, 2, 2).dim_feedforward(256).dropout(0.0));
//
// The names and defaults are libtorch's (= Python's nn.Transformer). custom_encoder /
// custom_decoder replace the stacks the options would build (each is cloned).
#pragma once

#include <cstdint>

#include "tinytorch/nn/module.h"  // TT_ARG
#include "tinytorch/nn/modules/container.h"
#include "tinytorch/nn/options/transformerlayer.h"

namespace tinytorch::nn {

struct TransformerOptions {
  TransformerOptions() = default;
  TransformerOptions(int64_t d_model, int64_t nhead) : d_model_(d_model), nhead_(nhead) {}
  TransformerOptions(int64_t d_model, int64_t nhead, int64_t num_encoder_layers,
                     int64_t num_decoder_layers)
      : d_model_(d_model),
        nhead_(nhead),
        num_encoder_layers_(num_encoder_layers),
        num_decoder_layers_(num_decoder_layers) {}
  TT_ARG(int64_t, d_model) = 512;
  TT_ARG(int64_t, nhead) = 8;
  TT_ARG(int64_t, num_encoder_layers) = 6;
  TT_ARG(int64_t, num_decoder_layers) = 6;
  TT_ARG(int64_t, dim_feedforward) = 2048;
  TT_ARG(double, dropout) = 0.1;
  TT_ARG(activation_t, activation) = kReLU;
  // A module used as the encoder instead: forward(src, src_mask, src_key_padding_mask).
  TT_ARG(AnyModule, custom_encoder);
  // A module used as the decoder instead: forward(tgt, memory, tgt_mask, memory_mask,
  // tgt_key_padding_mask, memory_key_padding_mask).
  TT_ARG(AnyModule, custom_decoder);
};

}  // namespace tinytorch::nn
