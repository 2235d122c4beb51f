// Module 12 against PyTorch (tests/data/module12_reference.json, tools/reference/gen_module12.py):
// scaled_dot_product_attention's outputs and its gradients for query, key and value (masks,
// causal — including L < S and L > S —, scale, fully masked rows, float32 and float64), the native
// backward kernel on its own, masked_fill, and nn::MultiheadAttention loaded with
// torch.nn.MultiheadAttention's exported parameters: output, attention weights, and the
// gradients of the query and of in_proj_weight.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/native/attention.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::json;

const json& reference_cases() {
  return test::load_reference("module12_reference.json").at("cases");
}

Tensor optional_tensor(const json& c, const char* key) {
  return c.at(key).is_null() ? Tensor() : test::tensor_from_json(c.at(key));
}

std::optional<double> optional_scale(const json& c) {
  return c.at("scale").is_null() ? std::nullopt
                                 : std::optional<double>(c.at("scale").get<double>());
}

double tol(const Tensor& t) {
  return t.dtype() == kFloat64 ? 1e-10 : 2e-5;
}

int count(const std::string& op) {
  int n = 0;
  for (const json& c : reference_cases()) n += c.at("op") == op;
  return n;
}

// The native forward (Part 3) and backward (Part 4) kernels, each against PyTorch's numbers.
TEST(SdpaReference, ForwardKernelMatchesPyTorch) {
  int n = 0;
  for (const json& c : reference_cases()) {
    if (c.at("op") != "sdpa") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const Tensor q = test::tensor_from_json(c.at("query"));
    const Tensor mask = optional_tensor(c, "attn_mask");
    const double scale = native::attention_scale(q, optional_scale(c));
    auto [out, lse] = native::scaled_dot_product_attention_forward(
        q, test::tensor_from_json(c.at("key")), test::tensor_from_json(c.at("value")), mask, {},
        c.at("is_causal"), scale);
    EXPECT_TRUE(test::tensors_match(out, c.at("output"), tol(q), tol(q))) << "output";
    ++n;
  }
  EXPECT_GE(n, 18);
}

TEST(SdpaReference, BackwardKernelMatchesPyTorch) {
  int n = 0;
  for (const json& c : reference_cases()) {
    if (c.at("op") != "sdpa") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const Tensor q = test::tensor_from_json(c.at("query"));
    const Tensor k = test::tensor_from_json(c.at("key"));
    const Tensor v = test::tensor_from_json(c.at("value"));
    const Tensor mask = optional_tensor(c, "attn_mask");
    const bool causal = c.at("is_causal");
    const double scale = native::attention_scale(q, optional_scale(c));
    auto [out, lse] =
        native::scaled_dot_product_attention_forward(q, k, v, mask, {}, causal, scale);
    const Tensor g = test::tensor_from_json(c.at("grad_output"));
    auto [gq, gk, gv, gs] = native::scaled_dot_product_attention_backward(
        g, q, k, v, mask, {}, out, lse, causal, scale, {true, true, true, false});
    EXPECT_FALSE(gs.defined());
    EXPECT_TRUE(test::tensors_match(gq, c.at("grad_query"), tol(q), tol(q))) << "grad_query";
    EXPECT_TRUE(test::tensors_match(gk, c.at("grad_key"), tol(q), tol(q))) << "grad_key";
    EXPECT_TRUE(test::tensors_match(gv, c.at("grad_value"), tol(q), tol(q))) << "grad_value";
    ++n;
  }
  EXPECT_GE(n, 18);
}

TEST(SdpaReference, AutogradGradientsMatchPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (const json& c : reference_cases()) {
    if (c.at("op") != "sdpa") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const Tensor q = test::tensor_from_json(c.at("query")).requires_grad_();
    const Tensor k = test::tensor_from_json(c.at("key")).requires_grad_();
    const Tensor v = test::tensor_from_json(c.at("value")).requires_grad_();
    const Tensor out = scaled_dot_product_attention(q, k, v, optional_tensor(c, "attn_mask"), 0.0,
                                                    c.at("is_causal"), optional_scale(c));
    EXPECT_TRUE(test::tensors_match(out, c.at("output"), tol(q), tol(q)));
    (out * test::tensor_from_json(c.at("grad_output"))).sum().backward();
    EXPECT_TRUE(test::tensors_match(q.grad(), c.at("grad_query"), tol(q), tol(q)));
    EXPECT_TRUE(test::tensors_match(k.grad(), c.at("grad_key"), tol(q), tol(q)));
    EXPECT_TRUE(test::tensors_match(v.grad(), c.at("grad_value"), tol(q), tol(q)));
  }
}

TEST(MaskedFillReference, ValuesAndGradientMatchPyTorch) {
  ASSERT_GE(count("masked_fill"), 3);
  for (const json& c : reference_cases()) {
    if (c.at("op") != "masked_fill") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    Tensor x = test::tensor_from_json(c.at("input"));
    const Tensor mask = test::tensor_from_json(c.at("mask"));
    const double value = test::json_to_double(c.at("value"));
    EXPECT_TRUE(test::tensors_match(masked_fill(x, mask, value), c.at("output"), 0, 0));
    if (!test::autograd_ready()) continue;
    x.requires_grad_();
    (masked_fill(x, mask, value) * test::tensor_from_json(c.at("grad_output"))).sum().backward();
    EXPECT_TRUE(test::tensors_match(x.grad(), c.at("grad_input"), 1e-12, 1e-12));
  }
}

// nn::MultiheadAttention with PyTorch's parameters (same names, same order).
nn::MultiheadAttention mha_from(const json& c) {
  const json& o = c.at("options");
  const Tensor first = test::tensor_from_json(c.at("state_dict").at(0).at("value"));
  nn::MultiheadAttention m(nn::MultiheadAttentionOptions(o.at("embed_dim"), o.at("num_heads"))
                               .bias(o.at("bias"))
                               .batch_first(true)
                               .dtype(first.dtype()));
  OrderedDict<std::string, Tensor> sd;
  std::vector<std::string> keys;
  for (const json& e : c.at("state_dict")) {
    sd.insert(e.at("key").get<std::string>(), test::tensor_from_json(e.at("value")));
    keys.push_back(e.at("key"));
  }
  m->load_state_dict(sd);
  std::vector<std::string> ours;
  for (const auto& item : m->state_dict()) ours.push_back(item.key());
  EXPECT_EQ(ours, keys) << "the parameters' names and order follow PyTorch's";
  m->eval();
  return m;
}

TEST(MultiheadAttentionReference, OutputWeightsAndGradientsMatchPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  int n = 0;
  for (const json& c : reference_cases()) {
    if (c.at("op") != "mha") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    nn::MultiheadAttention m = mha_from(c);
    const Tensor q = test::tensor_from_json(c.at("query")).requires_grad_();
    const bool self = c.at("self");
    const Tensor k = self ? q : test::tensor_from_json(c.at("key"));
    const Tensor v = self ? q : test::tensor_from_json(c.at("value"));
    auto [out, weights] = m->forward(q, k, v, optional_tensor(c, "key_padding_mask"), true,
                                     optional_tensor(c, "attn_mask"), c.at("average_attn_weights"));
    EXPECT_TRUE(test::tensors_match(out, c.at("output"), tol(q), tol(q))) << "output";
    EXPECT_TRUE(test::tensors_match(weights, c.at("weights"), tol(q), tol(q))) << "weights";
    (out * test::tensor_from_json(c.at("grad_output"))).sum().backward();
    EXPECT_TRUE(test::tensors_match(q.grad(), c.at("grad_query"), tol(q), tol(q)));
    EXPECT_TRUE(
        test::tensors_match(m->in_proj_weight.grad(), c.at("grad_in_proj_weight"), tol(q), tol(q)));
    ++n;
  }
  EXPECT_GE(n, 6);
}

}  // namespace
}  // namespace tinytorch
