// tinytorch/nn/modules.h — every built-in layer of tinytorch::nn (module 03).
//
//   containers   Sequential, ModuleList, ModuleDict, ParameterList,
//                ParameterDict, Functional, AnyModule                   modules/container.h
//   layers       Linear, Identity, Flatten                              modules/linear.h
//   dropout      Dropout, Dropout2d, nn::functional::dropout /
//                dropout2d                                              modules/dropout.h
//   activations  ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU, Softmax,
//                LogSoftmax                                             modules/activation.h
//   losses       MSELoss, L1Loss, NLLLoss, CrossEntropyLoss, BCELoss,
//                BCEWithLogitsLoss                                      modules/loss.h
//   spatial      Conv2d, Conv1d, ConvTranspose2d, nn::functional::conv2d /
//                conv1d / conv_transpose2d (module 09)                  modules/conv.h
//   pooling      MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, MaxPool1d,
//                AvgPool1d (module 09)                                  modules/pooling.h
//   batch norm   BatchNorm1d, BatchNorm2d (module 09)                   modules/batchnorm.h
//   embeddings   Embedding, SinusoidalPositionalEncoding (module 11)    modules/embedding.h
//   norms        LayerNorm, RMSNorm (module 13)                         modules/normalization.h
//   attention    MultiheadAttention, F::scaled_dot_product_attention
//                (module 12)                                            modules/attention.h
//   transformer  GPTConfig, CausalSelfAttention, TransformerMLP, TransformerBlock, GPT,
//                sample_next_token (module 13); KVCache (module 17)     modules/transformer.h
//                libtorch's TransformerEncoderLayer, TransformerDecoderLayer
//                (options/transformerlayer.h)                           modules/transformerlayer.h
//                TransformerEncoder, TransformerDecoder, Transformer
//                (options/transformercoder.h, options/transformer.h)    modules/transformercoder.h
//   recurrent    RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell (options in
//                options/rnn.h)                                         modules/rnn.h
#pragma once

#include "tinytorch/nn/modules/activation.h"
#include "tinytorch/nn/modules/batchnorm.h"
#include "tinytorch/nn/modules/container.h"
#include "tinytorch/nn/modules/conv.h"
#include "tinytorch/nn/modules/dropout.h"
#include "tinytorch/nn/modules/linear.h"
#include "tinytorch/nn/modules/loss.h"
#include "tinytorch/nn/modules/pooling.h"
#include "tinytorch/nn/modules/upsampling.h"
// issue 18: modules 11 and 13
#include "tinytorch/nn/modules/embedding.h"
#include "tinytorch/nn/modules/normalization.h"
// module 12
#include "tinytorch/nn/modules/attention.h"
// modules 13 and 17
#include "tinytorch/nn/modules/transformer.h"
#include "tinytorch/nn/modules/transformercoder.h"
#include "tinytorch/nn/modules/transformerlayer.h"
// the recurrent layers
#include "tinytorch/nn/modules/rnn.h"
