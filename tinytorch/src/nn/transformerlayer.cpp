// libtorch's transformer layers, stacks and model (nn/modules/transformerlayer.h,
// transformercoder.h): TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder,
// TransformerDecoder, Transformer. The
// arithmetic is MultiheadAttention, Linear, LayerNorm, Dropout and the activation, so gradients
// come from the engine; this file is the wiring (post-norm residual blocks) and the stacking
// (clones of one layer).
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "tinytorch/nn/init.h"
#include "tinytorch/nn/modules/transformercoder.h"
#include "tinytorch/nn/modules/transformerlayer.h"

namespace tinytorch::nn {

namespace {

// The checks both layers' constructors make, with the layer's name in the message.
void check_layer_options(const char* who, int64_t d_model, int64_t nhead, int64_t dim_feedforward,
                         const activation_t& activation) {
  TT_CHECK_VALUE(d_model > 0 && nhead > 0 && dim_feedforward > 0, who,
                 ": d_model, nhead and dim_feedforward must be positive, but got d_model=", d_model,
                 ", nhead=", nhead, ", dim_feedforward=", dim_feedforward);
  TT_CHECK_VALUE(d_model % nhead == 0, who,
                 ": d_model must be divisible by nhead, but got d_model=", d_model,
                 ", nhead=", nhead);
  const auto* function = std::get_if<std::function<Tensor(const Tensor&)>>(&activation);
  TT_CHECK_VALUE(function == nullptr || *function != nullptr, who,
                 ": activation is an empty std::function (pass torch::kReLU, torch::kGELU or a "
                 "callable)");
}

// kReLU → relu, kGELU → exact gelu, a function → that function.
Tensor apply_activation(const activation_t& activation, const Tensor& x) {
  if (std::holds_alternative<enumtype::kReLU>(activation)) return relu(x);
  if (std::holds_alternative<enumtype::kGELU>(activation)) return gelu(x);
  return std::get<std::function<Tensor(const Tensor&)>>(activation)(x);
}

// A sequence-first input: [L, N, E] or unbatched [L, E], with E = d_model.
void check_sequence(const char* who, const char* arg, const Tensor& x, int64_t d_model) {
  TT_CHECK(x.defined(), who, ": ", arg, " is an undefined tensor");
  TT_CHECK_VALUE(
      (x.dim() == 3 || x.dim() == 2) && x.size(-1) == d_model, who, ": ", arg,
      " must be [L, N, d_model] (sequence first) or unbatched [L, d_model] with d_model=", d_model,
      ", but got shape ", x.sizes());
}

// NOTE: the stacks register their norm under "norm" only when options.norm() is given, so that
// a state_dict has norm.* exactly when Python's nn.TransformerEncoder(norm=...) has.
void register_norm(Module& stack, AnyModule& norm, const AnyModule& prototype) {
  const bool registered = !norm.is_empty();
  norm = prototype.clone();
  if (norm.is_empty()) return;
  if (registered) {
    stack.replace_module("norm", norm.ptr());
  } else {
    stack.register_module("norm", norm.ptr());
  }
}

}  // namespace

// ── TransformerEncoderLayer ──────────────────────────────────────────────────────────────────

TransformerEncoderLayerImpl::TransformerEncoderLayerImpl(TransformerEncoderLayerOptions options_)
    : Module("TransformerEncoderLayer"), options(std::move(options_)) {
  check_layer_options("TransformerEncoderLayer", options.d_model(), options.nhead(),
                      options.dim_feedforward(), options.activation());
  reset();
}

void TransformerEncoderLayerImpl::reset() {
  const int64_t E = options.d_model(), F = options.dim_feedforward();
  const double p = options.dropout();
  self_attn = register_module(
      "self_attn", MultiheadAttention(MultiheadAttentionOptions(E, options.nhead()).dropout(p)));
  linear1 = register_module("linear1", Linear(E, F));
  dropout = register_module("dropout", Dropout(p));
  linear2 = register_module("linear2", Linear(F, E));
  norm1 = register_module("norm1", LayerNorm(LayerNormOptions({E})));
  norm2 = register_module("norm2", LayerNorm(LayerNormOptions({E})));
  dropout1 = register_module("dropout1", Dropout(p));
  dropout2 = register_module("dropout2", Dropout(p));
}

void TransformerEncoderLayerImpl::reset_parameters() {
  self_attn->reset_parameters();
  linear1->reset_parameters();
  linear2->reset_parameters();
  norm1->reset_parameters();
  norm2->reset_parameters();
}

Tensor TransformerEncoderLayerImpl::forward(const Tensor& src, const Tensor& src_mask,
                                            const Tensor& src_key_padding_mask) {
  check_sequence("TransformerEncoderLayer", "src", src, options.d_model());
  // x = norm1(src + dropout1(self_attn(src, src, src)))
  // (need_weights = false: the same output without building the head-averaged weights.)
  const Tensor attended = std::get<0>(self_attn(src, src, src, src_key_padding_mask,
                                                /*need_weights=*/false, src_mask));
  const Tensor x = norm1(src + dropout1(attended));
  // out = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))
  const Tensor fed = linear2(dropout(apply_activation(options.activation(), linear1(x))));
  return norm2(x + dropout2(fed));
}

std::shared_ptr<Module> TransformerEncoderLayerImpl::clone(
    const std::optional<Device>& device) const {
  return finish_clone(std::make_shared<TransformerEncoderLayerImpl>(options), device);
}

// ── TransformerDecoderLayer ──────────────────────────────────────────────────────────────────

TransformerDecoderLayerImpl::TransformerDecoderLayerImpl(TransformerDecoderLayerOptions options_)
    : Module("TransformerDecoderLayer"), options(std::move(options_)) {
  check_layer_options("TransformerDecoderLayer", options.d_model(), options.nhead(),
                      options.dim_feedforward(), options.activation());
  reset();
}

void TransformerDecoderLayerImpl::reset() {
  // libtorch's registration order (Python's differs — self_attn, multihead_attn, linear1, ... —
  // but the names are the same, and state_dicts are matched by name).
  const int64_t E = options.d_model(), F = options.dim_feedforward();
  const double p = options.dropout();
  self_attn = register_module(
      "self_attn", MultiheadAttention(MultiheadAttentionOptions(E, options.nhead()).dropout(p)));
  dropout1 = register_module("dropout1", Dropout(p));
  norm1 = register_module("norm1", LayerNorm(LayerNormOptions({E})));
  multihead_attn =
      register_module("multihead_attn",
                      MultiheadAttention(MultiheadAttentionOptions(E, options.nhead()).dropout(p)));
  dropout2 = register_module("dropout2", Dropout(p));
  norm2 = register_module("norm2", LayerNorm(LayerNormOptions({E})));
  linear1 = register_module("linear1", Linear(E, F));
  dropout = register_module("dropout", Dropout(p));
  linear2 = register_module("linear2", Linear(F, E));
  dropout3 = register_module("dropout3", Dropout(p));
  norm3 = register_module("norm3", LayerNorm(LayerNormOptions({E})));
}

void TransformerDecoderLayerImpl::reset_parameters() {
  self_attn->reset_parameters();
  norm1->reset_parameters();
  multihead_attn->reset_parameters();
  norm2->reset_parameters();
  linear1->reset_parameters();
  linear2->reset_parameters();
  norm3->reset_parameters();
}

Tensor TransformerDecoderLayerImpl::activation(const Tensor& input) {
  return apply_activation(options.activation(), input);
}

Tensor TransformerDecoderLayerImpl::forward(Tensor tgt, const Tensor& memory,
                                            const Tensor& tgt_mask, const Tensor& memory_mask,
                                            const Tensor& tgt_key_padding_mask,
                                            const Tensor& memory_key_padding_mask) {
  check_sequence("TransformerDecoderLayer", "tgt", tgt, options.d_model());
  check_sequence("TransformerDecoderLayer", "memory", memory, options.d_model());
  // x = norm1(tgt + dropout1(self_attn(tgt, tgt, tgt)))
  Tensor attended =
      std::get<0>(self_attn(tgt, tgt, tgt, tgt_key_padding_mask, /*need_weights=*/false, tgt_mask));
  tgt = norm1(tgt + dropout1(attended));
  // x = norm2(x + dropout2(multihead_attn(x, memory, memory)))
  attended = std::get<0>(multihead_attn(tgt, memory, memory, memory_key_padding_mask,
                                        /*need_weights=*/false, memory_mask));
  tgt = norm2(tgt + dropout2(attended));
  // out = norm3(x + dropout3(linear2(dropout(activation(linear1(x))))))
  const Tensor fed = linear2(dropout(activation(linear1(tgt))));
  return norm3(tgt + dropout3(fed));
}

std::shared_ptr<Module> TransformerDecoderLayerImpl::clone(
    const std::optional<Device>& device) const {
  return finish_clone(std::make_shared<TransformerDecoderLayerImpl>(options), device);
}

// ── TransformerEncoder ───────────────────────────────────────────────────────────────────────

TransformerEncoderImpl::TransformerEncoderImpl(TransformerEncoderOptions options_)
    : Module("TransformerEncoder"), options(std::move(options_)) {
  TT_CHECK_VALUE(!options.encoder_layer().is_empty(),
                 "TransformerEncoder: encoder_layer is empty (a nullptr holder)");
  TT_CHECK_VALUE(options.num_layers() >= 0,
                 "TransformerEncoder: num_layers must be non-negative, but got ",
                 options.num_layers());
  reset();
}

void TransformerEncoderImpl::reset() {
  layers = register_module("layers", ModuleList());
  for (int64_t i = 0; i < options.num_layers(); ++i) {
    layers->push_back(options.encoder_layer()->clone());
  }
  register_norm(*this, norm, options.norm());
}

void TransformerEncoderImpl::reset_parameters() {
  for (size_t i = 0; i < layers->size(); ++i) {
    layers->at<TransformerEncoderLayerImpl>(i).reset_parameters();
  }
  if (!norm.is_empty()) register_norm(*this, norm, options.norm());
}

Tensor TransformerEncoderImpl::forward(const Tensor& src, const Tensor& src_mask,
                                       const Tensor& src_key_padding_mask) {
  Tensor output = src;
  for (size_t i = 0; i < layers->size(); ++i) {
    output =
        layers->at<TransformerEncoderLayerImpl>(i).forward(output, src_mask, src_key_padding_mask);
  }
  return norm.is_empty() ? output : norm.forward(output);
}

std::shared_ptr<Module> TransformerEncoderImpl::clone(const std::optional<Device>& device) const {
  return finish_clone(std::make_shared<TransformerEncoderImpl>(options), device);
}

// ── TransformerDecoder ───────────────────────────────────────────────────────────────────────

TransformerDecoderImpl::TransformerDecoderImpl(TransformerDecoderOptions options_)
    : Module("TransformerDecoder"), options(std::move(options_)) {
  TT_CHECK_VALUE(!options.decoder_layer().is_empty(),
                 "TransformerDecoder: decoder_layer is empty (a nullptr holder)");
  TT_CHECK_VALUE(options.num_layers() >= 0,
                 "TransformerDecoder: num_layers must be non-negative, but got ",
                 options.num_layers());
  reset();
}

void TransformerDecoderImpl::reset() {
  layers = register_module("layers", ModuleList());
  for (int64_t i = 0; i < options.num_layers(); ++i) {
    layers->push_back(options.decoder_layer()->clone());
  }
  register_norm(*this, norm, options.norm());
}

void TransformerDecoderImpl::reset_parameters() {
  for (size_t i = 0; i < layers->size(); ++i) {
    layers->at<TransformerDecoderLayerImpl>(i).reset_parameters();
  }
  if (!norm.is_empty()) register_norm(*this, norm, options.norm());
}

Tensor TransformerDecoderImpl::forward(const Tensor& tgt, const Tensor& memory,
                                       const Tensor& tgt_mask, const Tensor& memory_mask,
                                       const Tensor& tgt_key_padding_mask,
                                       const Tensor& memory_key_padding_mask) {
  Tensor output = tgt;
  for (size_t i = 0; i < layers->size(); ++i) {
    output = layers->at<TransformerDecoderLayerImpl>(i).forward(
        output, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask);
  }
  return norm.is_empty() ? output : norm.forward(output);
}

std::shared_ptr<Module> TransformerDecoderImpl::clone(const std::optional<Device>& device) const {
  return finish_clone(std::make_shared<TransformerDecoderImpl>(options), device);
}

// ── Transformer ──────────────────────────────────────────────────────────────────────────────

TransformerImpl::TransformerImpl(TransformerOptions options_)
    : Module("Transformer"), options(std::move(options_)) {
  reset();
}

void TransformerImpl::reset() {
  const int64_t E = options.d_model();
  if (options.custom_encoder().is_empty()) {
    const auto layer = TransformerEncoderLayerOptions(E, options.nhead())
                           .dim_feedforward(options.dim_feedforward())
                           .dropout(options.dropout())
                           .activation(options.activation());
    encoder =
        AnyModule(TransformerEncoder(TransformerEncoderOptions(layer, options.num_encoder_layers())
                                         .norm(LayerNorm(LayerNormOptions({E})))));
  } else {
    encoder = options.custom_encoder().clone();
  }
  register_module("encoder", encoder.ptr());
  if (options.custom_decoder().is_empty()) {
    const auto layer = TransformerDecoderLayerOptions(E, options.nhead())
                           .dim_feedforward(options.dim_feedforward())
                           .dropout(options.dropout())
                           .activation(options.activation());
    decoder =
        AnyModule(TransformerDecoder(TransformerDecoderOptions(layer, options.num_decoder_layers())
                                         .norm(LayerNorm(LayerNormOptions({E})))));
  } else {
    decoder = options.custom_decoder().clone();
  }
  register_module("decoder", decoder.ptr());
  reset_parameters();
}

void TransformerImpl::reset_parameters() {
  for (Tensor& p : parameters()) {
    if (p.dim() > 1) init::xavier_uniform_(p);
  }
}

Tensor TransformerImpl::forward(const Tensor& src, const Tensor& tgt, const Tensor& src_mask,
                                const Tensor& tgt_mask, const Tensor& memory_mask,
                                const Tensor& src_key_padding_mask,
                                const Tensor& tgt_key_padding_mask,
                                const Tensor& memory_key_padding_mask) {
  TT_CHECK(src.defined() && tgt.defined(), "Transformer: src and tgt must be defined tensors");
  TT_CHECK_VALUE(src.dim() == 3 && tgt.dim() == 3,
                 "Transformer: src and tgt must be [S, N, E] and [T, N, E] (sequence first), but "
                 "got shapes ",
                 src.sizes(), " and ", tgt.sizes());
  TT_CHECK_VALUE(src.size(1) == tgt.size(1),
                 "Transformer: src and tgt must have the same batch size (dim 1), but got ",
                 src.size(1), " and ", tgt.size(1));
  TT_CHECK_VALUE(src.size(2) == options.d_model() && tgt.size(2) == options.d_model(),
                 "Transformer: src and tgt must have d_model=", options.d_model(),
                 " features (dim 2), but got ", src.size(2), " and ", tgt.size(2));
  // memory = encoder(src); out = decoder(tgt, memory)
  const Tensor memory = encoder.forward<Tensor>(src, src_mask, src_key_padding_mask);
  return decoder.forward<Tensor>(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                                 memory_key_padding_mask);
}

std::shared_ptr<Module> TransformerImpl::clone(const std::optional<Device>& device) const {
  return finish_clone(std::make_shared<TransformerImpl>(options), device);
}

Tensor TransformerImpl::generate_square_subsequent_mask(int64_t sz) {
  TT_CHECK_VALUE(sz >= 0,
                 "Transformer::generate_square_subsequent_mask: sz must be non-negative, "
                 "but got ",
                 sz);
  return triu(full({sz, sz}, -std::numeric_limits<float>::infinity()), 1);
}

}  // namespace tinytorch::nn
