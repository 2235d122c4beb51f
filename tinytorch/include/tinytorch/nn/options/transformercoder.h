// tinytorch/nn/options/transformercoder.h — the options of the layer stacks TransformerEncoder
// and TransformerDecoder (libtorch's torch/nn/options/transformercoder.h).
//
//   nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(512, 8));
//   nn::TransformerEncoder encoder(nn::TransformerEncoderOptions(layer, 6)
//                                      .norm(nn::LayerNorm(nn::LayerNormOptions({512}))));
//
// The stack holds num_layers CLONES of the given layer (and a clone of norm): each starts with
// the layer's values and is trained on its own; the layer passed in is not part of the model.
#pragma once

#include <cstdint>

#include "tinytorch/nn/module.h"  // TT_ARG
#include "tinytorch/nn/modules/container.h"
#include "tinytorch/nn/modules/transformerlayer.h"

namespace tinytorch::nn {

struct TransformerEncoderOptions {
  // Keeps (a handle of) encoder_layer: the stack is made of its clones.
  TransformerEncoderOptions(TransformerEncoderLayer encoder_layer, int64_t num_layers)
      : encoder_layer_(std::move(encoder_layer)), num_layers_(num_layers) {}
  // Builds the layer to clone from its options.
  TransformerEncoderOptions(const TransformerEncoderLayerOptions& encoder_layer_options,
                            int64_t num_layers)
      : encoder_layer_(encoder_layer_options), num_layers_(num_layers) {}
  TT_ARG(TransformerEncoderLayer, encoder_layer) = nullptr;
  TT_ARG(int64_t, num_layers);
  // Applied to the last layer's output when given (a LayerNorm, for pre-norm stacks).
  TT_ARG(AnyModule, norm);
};

struct TransformerDecoderOptions {
  TransformerDecoderOptions(TransformerDecoderLayer decoder_layer, int64_t num_layers)
      : decoder_layer_(std::move(decoder_layer)), num_layers_(num_layers) {}
  TransformerDecoderOptions(const TransformerDecoderLayerOptions& decoder_layer_options,
                            int64_t num_layers)
      : decoder_layer_(decoder_layer_options), num_layers_(num_layers) {}
  TT_ARG(TransformerDecoderLayer, decoder_layer) = nullptr;
  TT_ARG(int64_t, num_layers);
  TT_ARG(AnyModule, norm);
};

}  // namespace tinytorch::nn
