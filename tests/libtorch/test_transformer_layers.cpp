// libtorch's keyed and parameter containers — ModuleDict, ParameterList, ParameterDict — and its
// transformer modules — TransformerEncoderLayer / TransformerEncoder, TransformerDecoderLayer /
// TransformerDecoder, Transformer — written as a libtorch program writes them. Forward values and
// input gradients are PyTorch's (tests/data/transformer_layers_reference.json, written by
// tools/reference/gen_transformer_layers.py), with PyTorch's state_dicts loaded by name: a strict
// load_state_dict proves that every submodule and parameter is registered under libtorch's (=
// Python's) name. A float64 gradcheck runs through one encoder layer; every refused argument is
// a tinytorch::Error naming it.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/autograd/gradcheck.h"

namespace {

namespace nn = torch::nn;
namespace test = tinytorch::test;

const test::json& transformer_reference() {
  return test::load_reference("transformer_layers_reference.json");
}

nn::activation_t activation_named(const std::string& name) {
  if (name == "relu") return torch::kReLU;
  if (name == "gelu") return torch::kGELU;
  return [](const torch::Tensor& x) { return torch::tanh(x); };  // "tanh": a callable
}

template <typename Options>
Options layer_options(const test::json& o) {
  return Options(test::json_to_int(o.at("d_model")), test::json_to_int(o.at("nhead")))
      .dim_feedforward(test::json_to_int(o.at("dim_feedforward")))
      .activation(activation_named(o.at("activation")));
}

// The case's module built as a libtorch program would, with PyTorch's state_dict loaded
// (strict: every key must exist here and every parameter must be in the file).
std::shared_ptr<torch::nn::Module> build(const test::json& c) {
  const std::string kind = c.at("kind");
  const test::json& o = c.at("options");
  const int64_t E = test::json_to_int(o.at("d_model"));
  std::shared_ptr<torch::nn::Module> module;
  if (kind == "encoder_layer") {
    module =
        nn::TransformerEncoderLayer(layer_options<nn::TransformerEncoderLayerOptions>(o)).ptr();
  } else if (kind == "decoder_layer") {
    module =
        nn::TransformerDecoderLayer(layer_options<nn::TransformerDecoderLayerOptions>(o)).ptr();
  } else if (kind == "encoder") {
    nn::TransformerEncoderLayer layer(layer_options<nn::TransformerEncoderLayerOptions>(o));
    auto options = nn::TransformerEncoderOptions(layer, test::json_to_int(o.at("num_layers")));
    if (o.at("norm").get<bool>()) options.norm(nn::LayerNorm(nn::LayerNormOptions({E})));
    module = nn::TransformerEncoder(options).ptr();
  } else if (kind == "transformer") {
    module = nn::Transformer(nn::TransformerOptions(E, test::json_to_int(o.at("nhead")),
                                                    test::json_to_int(o.at("num_encoder_layers")),
                                                    test::json_to_int(o.at("num_decoder_layers")))
                                 .dim_feedforward(test::json_to_int(o.at("dim_feedforward")))
                                 .activation(activation_named(o.at("activation"))))
                 .ptr();
  } else {
    nn::TransformerDecoderLayer layer(layer_options<nn::TransformerDecoderLayerOptions>(o));
    auto options = nn::TransformerDecoderOptions(layer, test::json_to_int(o.at("num_layers")));
    if (o.at("norm").get<bool>()) options.norm(nn::LayerNorm(nn::LayerNormOptions({E})));
    module = nn::TransformerDecoder(options).ptr();
  }
  torch::OrderedDict<std::string, torch::Tensor> state;
  for (const auto& [key, value] : c.at("state_dict").items()) {
    state.insert(key, test::tensor_from_json(value));
  }
  module->load_state_dict(state);
  module->eval();
  return module;
}

torch::Tensor optional_tensor(const test::json& c, const char* key) {
  return c.contains(key) ? test::tensor_from_json(c.at(key)) : torch::Tensor();
}

TEST(TransformerLayers, MatchPyTorchForwardAndInputGradients) {
  int checked = 0;
  for (const auto& c : transformer_reference().at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const std::string kind = c.at("kind");
    const auto module = build(c);
    torch::Tensor out;
    std::vector<std::pair<std::string, torch::Tensor>> inputs;
    if (kind == "encoder_layer" || kind == "encoder") {
      torch::Tensor src = test::tensor_from_json(c.at("src")).requires_grad_();
      inputs = {{"grad_src", src}};
      const torch::Tensor mask = optional_tensor(c, "src_mask");
      const torch::Tensor padding = optional_tensor(c, "src_key_padding_mask");
      out = kind == "encoder_layer"
                ? module->as<nn::TransformerEncoderLayer>()->forward(src, mask, padding)
                : module->as<nn::TransformerEncoder>()->forward(src, mask, padding);
    } else if (kind == "transformer") {
      torch::Tensor src = test::tensor_from_json(c.at("src")).requires_grad_();
      torch::Tensor tgt = test::tensor_from_json(c.at("tgt")).requires_grad_();
      inputs = {{"grad_src", src}, {"grad_tgt", tgt}};
      out = module->as<nn::Transformer>()->forward(
          src, tgt, optional_tensor(c, "src_mask"), optional_tensor(c, "tgt_mask"),
          optional_tensor(c, "memory_mask"), optional_tensor(c, "src_key_padding_mask"),
          optional_tensor(c, "tgt_key_padding_mask"),
          optional_tensor(c, "memory_key_padding_mask"));
    } else {
      torch::Tensor tgt = test::tensor_from_json(c.at("tgt")).requires_grad_();
      torch::Tensor memory = test::tensor_from_json(c.at("memory")).requires_grad_();
      inputs = {{"grad_tgt", tgt}, {"grad_memory", memory}};
      const auto masks = std::vector<torch::Tensor>{optional_tensor(c, "tgt_mask"),
                                                    optional_tensor(c, "memory_mask"),
                                                    optional_tensor(c, "tgt_key_padding_mask"),
                                                    optional_tensor(c, "memory_key_padding_mask")};
      out = kind == "decoder_layer" ? module->as<nn::TransformerDecoderLayer>()->forward(
                                          tgt, memory, masks[0], masks[1], masks[2], masks[3])
                                    : module->as<nn::TransformerDecoder>()->forward(
                                          tgt, memory, masks[0], masks[1], masks[2], masks[3]);
    }
    test::expect_tensor_eq(out, c.at("output"), 1e-4, 1e-5);
    (out * test::tensor_from_json(c.at("grad_output"))).sum().backward();
    for (const auto& [key, input] : inputs) {
      SCOPED_TRACE(key);
      test::expect_tensor_eq(input.grad(), c.at(key), 1e-4, 1e-5);
    }
    ++checked;
  }
  EXPECT_EQ(checked, 15);
}

TEST(TransformerLayers, EncoderLayerGradcheckFloat64) {
  // Small: E = 4, 2 heads, feed-forward 6, S = 3, N = 2; eval mode (no dropout). Through src,
  // one attention and one feed-forward weight, with a float causal mask and a padding mask.
  torch::manual_seed(3);
  for (const auto& activation : {nn::activation_t(torch::kReLU), nn::activation_t(torch::kGELU)}) {
    nn::TransformerEncoderLayer layer(
        nn::TransformerEncoderLayerOptions(4, 2).dim_feedforward(6).activation(activation));
    layer->to(torch::kFloat64);
    layer->eval();
    const auto src = torch::randn({3, 2, 4}, torch::kFloat64).requires_grad_();
    const auto mask = torch::triu(torch::full({3, 3}, -1e9, torch::kFloat64), 1);
    const auto padding = torch::tensor({false, false, false, false, false, true}).view({2, 3});
    const auto result = tinytorch::autograd::gradcheck(
        [&](const std::vector<torch::Tensor>& in) { return layer(in[0], mask, padding); },
        {src, layer->self_attn->in_proj_weight, layer->linear1->weight});
    EXPECT_TRUE(result.ok) << result.message;
  }
}

TEST(TransformerLayers, OptionsDefaultsAreLibtorchs) {
  const nn::TransformerEncoderLayerOptions o(512, 8);
  EXPECT_EQ(o.dim_feedforward(), 2048);
  EXPECT_DOUBLE_EQ(o.dropout(), 0.1);
  EXPECT_TRUE(std::holds_alternative<torch::enumtype::kReLU>(o.activation()));
  const nn::TransformerDecoderLayerOptions d(16, 4);
  EXPECT_EQ(d.dim_feedforward(), 2048);
  EXPECT_DOUBLE_EQ(d.dropout(), 0.1);
  nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16));
  EXPECT_DOUBLE_EQ(layer->dropout->options.p(), 0.1);
  EXPECT_DOUBLE_EQ(layer->self_attn->options.dropout(), 0.1);
  EXPECT_FALSE(layer->self_attn->options.batch_first());  // sequence first, as libtorch
  EXPECT_EQ(layer->to_string().substr(0, 60),
            "TransformerEncoderLayer(\n  (self_attn): MultiheadAttention(\n");
}

TEST(TransformerLayers, EncoderStacksIndependentClones) {
  torch::manual_seed(0);
  nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16));
  nn::TransformerEncoder encoder(
      nn::TransformerEncoderOptions(layer, 3).norm(nn::LayerNorm(nn::LayerNormOptions({8}))));
  const auto keys = encoder->named_parameters().keys();
  EXPECT_EQ(keys.front(), "layers.0.self_attn.in_proj_weight");
  EXPECT_EQ(keys.back(), "norm.bias");
  EXPECT_EQ(keys.size(), 3u * 12 + 2);
  // Each layer starts with the prototype's values but owns its tensors.
  auto& first = encoder->layers->at<nn::TransformerEncoderLayerImpl>(0);
  auto& second = encoder->layers->at<nn::TransformerEncoderLayerImpl>(1);
  EXPECT_TRUE(first.linear1->weight.equal(layer->linear1->weight));
  {
    torch::NoGradGuard no_grad;
    first.linear1->weight.add_(1.0);
  }
  EXPECT_FALSE(first.linear1->weight.equal(second.linear1->weight));
  EXPECT_TRUE(second.linear1->weight.equal(layer->linear1->weight));
  // The stack runs on [S, N, E] and keeps the shape.
  EXPECT_EQ(encoder(torch::randn({5, 2, 8})).sizes(), (std::vector<int64_t>{5, 2, 8}));
}

TEST(TransformerLayers, CloneIsDeepAndKeepsDtypeFlagsAndMode) {
  nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(4, 2).dim_feedforward(6));
  layer->to(torch::kFloat64);
  layer->norm1->weight.set_requires_grad(false);
  layer->eval();
  auto copy = std::dynamic_pointer_cast<nn::TransformerEncoderLayerImpl>(layer->clone());
  ASSERT_NE(copy, nullptr);
  EXPECT_FALSE(copy->is_training());
  EXPECT_EQ(copy->linear2->weight.dtype(), torch::kFloat64);
  EXPECT_FALSE(copy->norm1->weight.requires_grad());
  EXPECT_TRUE(copy->linear2->weight.requires_grad());
  EXPECT_TRUE(copy->self_attn->in_proj_weight.equal(layer->self_attn->in_proj_weight));
  EXPECT_NE(copy->self_attn->in_proj_weight.data_ptr(),
            layer->self_attn->in_proj_weight.data_ptr());
  // A module without clone() says so, naming itself.
  struct PlainImpl : torch::nn::Module {};
  auto plain = std::make_shared<PlainImpl>();
  TT_EXPECT_THROW_WITH(plain->clone(), tinytorch::Error, "clone()", "Plain");
}

TEST(TransformerLayers, BadArgumentsAreNamed) {
  TT_EXPECT_THROW_WITH(nn::TransformerEncoderLayer(nn::TransformerEncoderLayerOptions(10, 3)),
                       tinytorch::Error, "TransformerEncoderLayer", "d_model=10", "nhead=3");
  TT_EXPECT_THROW_WITH(
      nn::TransformerDecoderLayer(nn::TransformerDecoderLayerOptions(8, 2).dim_feedforward(0)),
      tinytorch::Error, "TransformerDecoderLayer", "dim_feedforward=0");
  TT_EXPECT_THROW_WITH(
      nn::TransformerEncoderLayer(nn::TransformerEncoderLayerOptions(8, 2).activation(
          nn::activation_t(std::function<torch::Tensor(const torch::Tensor&)>()))),
      tinytorch::Error, "activation", "empty");
  TT_EXPECT_THROW_WITH(nn::TransformerEncoder(nn::TransformerEncoderLayer(nullptr), 2),
                       tinytorch::Error, "TransformerEncoder", "encoder_layer");
  nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(4, 2).dim_feedforward(6));
  TT_EXPECT_THROW_WITH(nn::TransformerEncoder(layer, -1), tinytorch::Error, "num_layers", "-1");
  TT_EXPECT_THROW_WITH(layer(torch::zeros({3, 2, 5})), tinytorch::Error, "src", "d_model=4",
                       "[3, 2, 5]");
}

TEST(TransformerLayers, TransformerModelOptionsMaskAndCustomParts) {
  const nn::TransformerOptions defaults;
  EXPECT_EQ(defaults.d_model(), 512);
  EXPECT_EQ(defaults.nhead(), 8);
  EXPECT_EQ(defaults.num_encoder_layers(), 6);
  EXPECT_EQ(defaults.num_decoder_layers(), 6);
  EXPECT_EQ(defaults.dim_feedforward(), 2048);
  EXPECT_DOUBLE_EQ(defaults.dropout(), 0.1);
  // The square subsequent mask: 0 on and below the diagonal, -inf above (float32).
  const torch::Tensor mask = nn::TransformerImpl::generate_square_subsequent_mask(3);
  EXPECT_EQ(mask.dtype(), torch::kFloat32);
  EXPECT_EQ(mask.sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_TRUE(mask.isinf().equal(torch::triu(torch::ones({3, 3}), 1).to(torch::kBool)));
  EXPECT_EQ(mask.masked_fill(mask.isinf(), 0.0).abs().sum().item<float>(), 0.0f);
  // A custom encoder: the model holds a clone of it under "encoder".
  nn::TransformerEncoder custom(
      nn::TransformerEncoderLayer(nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16)), 1);
  nn::Transformer model(
      nn::TransformerOptions(8, 2, 1, 1).dim_feedforward(16).custom_encoder(nn::AnyModule(custom)));
  const auto keys = model->named_parameters().keys();
  EXPECT_EQ(keys.front(), "encoder.layers.0.self_attn.in_proj_weight");
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "encoder.norm.weight"), 0);  // custom: no norm
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "decoder.norm.weight"), 1);
  EXPECT_NE(model->encoder.ptr().get(), custom.ptr().get());
  model->eval();
  const auto out = model(torch::randn({5, 2, 8}), torch::randn({4, 2, 8}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{4, 2, 8}));
  TT_EXPECT_THROW_WITH(model(torch::randn({5, 2, 8}), torch::randn({4, 3, 8})), tinytorch::Error,
                       "batch size", "2", "3");
  TT_EXPECT_THROW_WITH(model(torch::randn({5, 2, 6}), torch::randn({4, 2, 6})), tinytorch::Error,
                       "d_model=8");
  // AnyModule passes several tensors on; a count the module's forward does not take is named.
  nn::AnyModule decoder = model->decoder;
  TT_EXPECT_THROW_WITH(decoder.forward(torch::randn({4, 2, 8})), tinytorch::Error,
                       "TransformerDecoder", "1 tensors");
}

TEST(ModuleDict, RegistersUnderKeysAndReplacesExistingOnes) {
  nn::ModuleDict dict(std::vector<std::pair<std::string, std::shared_ptr<torch::nn::Module>>>{
      {"fc", nn::Linear(3, 2).ptr()}, {"act", nn::ReLU().ptr()}});
  EXPECT_EQ(dict->keys(), (std::vector<std::string>{"fc", "act"}));
  EXPECT_EQ(dict->size(), 2u);
  EXPECT_TRUE(dict->contains("fc"));
  EXPECT_EQ(dict->named_parameters().keys(), (std::vector<std::string>{"fc.weight", "fc.bias"}));
  EXPECT_EQ(dict->at<nn::LinearImpl>("fc").weight.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(dict->to_string(),
            "ModuleDict(\n  (fc): Linear(in_features=3, out_features=2, bias=true)\n  (act): "
            "ReLU()\n)");
  // An existing key: the module is replaced in place, under the same name and position.
  torch::OrderedDict<std::string, std::shared_ptr<torch::nn::Module>> more;
  more.insert("fc", nn::Linear(3, 4).ptr());
  more.insert("out", nn::Linear(4, 1).ptr());
  dict->update(more);
  EXPECT_EQ(dict->keys(), (std::vector<std::string>{"fc", "act", "out"}));
  EXPECT_EQ(dict["fc"]->as<nn::Linear>()->weight.size(0), 4);
  EXPECT_EQ(dict->state_dict().keys(),
            (std::vector<std::string>{"fc.weight", "fc.bias", "out.weight", "out.bias"}));
  // pop takes the entry out of the dict (libtorch keeps it registered).
  auto popped = dict->pop("act");
  EXPECT_EQ(popped->name(), "ReLU");
  EXPECT_FALSE(dict->contains("act"));
  EXPECT_EQ(dict->keys(), (std::vector<std::string>{"fc", "out"}));
  TT_EXPECT_THROW_WITH(dict["act"], tinytorch::IndexError, "ModuleDict", "'act'");
  TT_EXPECT_THROW_WITH(dict->at<nn::ReLUImpl>("fc"), tinytorch::Error, "'fc'", "Linear");
  // clone: the same keys, new tensors.
  auto copy = std::dynamic_pointer_cast<nn::ModuleDictImpl>(dict->clone());
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->keys(), dict->keys());
  EXPECT_TRUE(copy->at<nn::LinearImpl>("out").weight.equal(dict->at<nn::LinearImpl>("out").weight));
  EXPECT_NE(copy->at<nn::LinearImpl>("out").weight.data_ptr(),
            dict->at<nn::LinearImpl>("out").weight.data_ptr());
  int visited = 0;
  for (const auto& item : *dict) visited += item.value() != nullptr;
  EXPECT_EQ(visited, 2);
}

struct OwnerImpl : torch::nn::Module {
  OwnerImpl() {
    list = register_module("list", nn::ParameterList(torch::ones({2, 3}), torch::zeros({3})));
    dict = register_module("dict", nn::ParameterDict());
    dict->insert("gamma", torch::ones({5}));
  }
  nn::ParameterList list{nullptr};
  nn::ParameterDict dict{nullptr};
};
TORCH_MODULE(Owner);

TEST(ParameterList, NumbersEntriesAndKeepsFlags) {
  Owner owner;
  EXPECT_EQ(owner->state_dict().keys(),
            (std::vector<std::string>{"list.0", "list.1", "dict.gamma"}));
  nn::ParameterList& list = owner->list;
  list->append(torch::full({4}, 2.0));
  list->extend(std::vector<torch::Tensor>{torch::zeros({1}), torch::zeros({2})});
  EXPECT_EQ(list->size(), 5u);
  EXPECT_EQ(list->named_parameters().keys(), (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  EXPECT_EQ(list[2].sizes(), (std::vector<int64_t>{4}));
  EXPECT_TRUE(list[0].requires_grad() == false);  // a plain tensor keeps its flag, as libtorch
  list->append(torch::zeros({2}).requires_grad_());
  EXPECT_TRUE(list->at(5).requires_grad());
  TT_EXPECT_THROW_WITH(list->at(6), tinytorch::IndexError, "ParameterList", "index 6", "6");
  int64_t numel = 0;
  for (const auto& item : *list) numel += item.value().numel();
  EXPECT_EQ(numel, 6 + 3 + 4 + 1 + 2 + 2);
  auto copy = std::dynamic_pointer_cast<nn::ParameterListImpl>(list->clone());
  ASSERT_NE(copy, nullptr);
  EXPECT_TRUE(copy->at(5).requires_grad());
  EXPECT_NE(copy->at(0).data_ptr(), list->at(0).data_ptr());
}

TEST(ParameterDict, KeysErrorsAndUpdate) {
  nn::ParameterDict dict;
  dict->insert("w", torch::ones({2}));
  dict->insert("b", torch::zeros({2}).requires_grad_());
  EXPECT_EQ(dict->keys(), (std::vector<std::string>{"w", "b"}));
  EXPECT_TRUE(dict["b"].requires_grad());
  TT_EXPECT_THROW_WITH(dict->insert("w", torch::ones({1})), tinytorch::Error, "'w'",
                       "already exists");
  TT_EXPECT_THROW_WITH(dict->get("missing"), tinytorch::IndexError, "'missing'");
  // update, as libtorch's: a key already present is rebound to the given tensor itself...
  torch::OrderedDict<std::string, torch::Tensor> more;
  const torch::Tensor seven = torch::full({3}, 7.0);
  more.insert("w", seven);
  dict->update(more);
  EXPECT_EQ(dict->keys(), (std::vector<std::string>{"w", "b"}));
  EXPECT_TRUE(dict["w"].is_same(seven));
  EXPECT_FALSE(dict["w"].requires_grad());  // not re-registered: the tensor's own flag
  // ...and a new key is an IndexError; the items before it stay updated.
  torch::OrderedDict<std::string, torch::Tensor> partly;
  partly.insert("b", torch::full({2}, 5.0));
  partly.insert("c", torch::ones({1}));
  TT_EXPECT_THROW_WITH(dict->update(partly), tinytorch::IndexError, "Parameter 'c' is not defined");
  EXPECT_EQ(dict->keys(), (std::vector<std::string>{"w", "b"}));
  EXPECT_EQ(dict["b"].to_vector<float>(), (std::vector<float>{5, 5}));
  dict->insert("c", torch::ones({1}));  // new keys go in through insert
  const torch::Tensor popped = dict->pop("b");
  EXPECT_EQ(popped.size(0), 2);
  EXPECT_EQ(dict->named_parameters().keys(), (std::vector<std::string>{"w", "c"}));
  TT_EXPECT_THROW_WITH(dict->pop("b"), tinytorch::IndexError, "'b'");
}

TEST(ParameterContainers, PrintLikePython) {
  const auto& reprs = transformer_reference().at("repr");
  nn::ParameterList list(torch::zeros({2, 3}), torch::zeros({4}, torch::kFloat64));
  EXPECT_EQ(list->to_string(), reprs.at(0).at("expected").get<std::string>());
  nn::ParameterDict dict;
  dict->insert("gamma", torch::ones({5}));
  dict->insert("table", torch::zeros({3, 2, 2}));
  EXPECT_EQ(dict->to_string(), reprs.at(1).at("expected").get<std::string>());
  std::ostringstream printed;
  printed << list;
  EXPECT_EQ(printed.str(), list->to_string());
}

}  // namespace
