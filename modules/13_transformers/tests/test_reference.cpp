// Module 13 — the whole GPT against PyTorch: tools/reference/gen_module13.py builds the same tiny
// GPT in torch (attention written out by hand, exact GELU), and tests/data/
// module13_gpt_reference.json holds its weights, logits, loss and every parameter's gradient.
// Our model loads the weights through load_state_dict and must agree.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/nn/modules/transformer.h"
#include "tinytorch/nn/nn.h"

namespace tinytorch {
namespace {

namespace F = nn::functional;

const test::json& reference() {
  return test::load_reference("module13_gpt_reference.json");
}

struct Loaded {
  nn::GPT model{nullptr};
  Tensor idx, targets;
};

Loaded load_case(const test::json& c) {
  const test::json& j = c.at("config");
  nn::GPTConfig config;
  config.vocab_size = test::json_to_int(j.at("vocab_size"));
  config.block_size = test::json_to_int(j.at("block_size"));
  config.n_layer = test::json_to_int(j.at("n_layer"));
  config.n_head = test::json_to_int(j.at("n_head"));
  config.n_embd = test::json_to_int(j.at("n_embd"));
  config.bias = j.at("bias").get<bool>();
  config.tie_weights = j.at("tie_weights").get<bool>();
  config.dtype = test::parse_dtype(c.at("dtype").get<std::string>());
  Loaded out;
  out.model = nn::GPT(config);
  OrderedDict<std::string, Tensor> sd;
  for (const auto& kv : c.at("state_dict")) {
    sd.insert(kv.at(0).get<std::string>(), test::tensor_from_json(kv.at(1)));
  }
  out.model->load_state_dict(sd);  // strict: every key matches, key for key
  out.idx = test::tensor_from_json(c.at("idx"));
  out.targets = test::tensor_from_json(c.at("targets"));
  return out;
}

// float32 sums in another order than PyTorch's: about 1e-6 relative per op, a few hundred ops.
double rtol(const Tensor& t) {
  return t.dtype() == kFloat64 ? 1e-9 : 1e-4;
}
double atol(const Tensor& t) {
  return t.dtype() == kFloat64 ? 1e-10 : 1e-5;
}

TEST(GPTReference, FileIsFromItsGenerator) {
  EXPECT_EQ(reference().at("generator"), "tools/reference/gen_module13.py");
  EXPECT_GE(reference().at("cases").size(), 3u);
}

TEST(GPTReference, LogitsAndLossMatchPyTorch) {
  for (const auto& c : reference().at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    Loaded l = load_case(c);
    const Tensor logits = l.model(l.idx);
    TT_EXPECT_TENSOR_EQ(logits, c.at("logits"), rtol(logits), atol(logits));
    const Tensor loss =
        F::cross_entropy(logits.reshape({-1, logits.size(-1)}), l.targets.reshape({-1}));
    EXPECT_NEAR(loss.item<double>(), c.at("loss").get<double>(), 10 * rtol(logits));
  }
}

TEST(GPTReference, GradientsMatchPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (const auto& c : reference().at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    Loaded l = load_case(c);
    const Tensor logits = l.model(l.idx);
    F::cross_entropy(logits.reshape({-1, logits.size(-1)}), l.targets.reshape({-1})).backward();
    const auto params = l.model->named_parameters();
    EXPECT_EQ(params.size(), c.at("grads").size()) << "a tied weight is one parameter";
    for (const auto& kv : c.at("grads")) {
      const std::string name = kv.at(0).get<std::string>();
      const Tensor* p = params.find(name);
      ASSERT_NE(p, nullptr) << name;
      const double tol = p->dtype() == kFloat64 ? 1e-9 : 1e-3;
      EXPECT_TRUE(test::tensors_match(p->grad(), kv.at(1), tol, tol * 1e-2)) << name;
    }
  }
}

}  // namespace
}  // namespace tinytorch
