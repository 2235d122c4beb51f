// Module 02 against PyTorch: every case of tests/data/module02_reference.json (written by
// tools/reference/gen_module02.py with PyTorch 1.13) runs through the native kernels and must
// give PyTorch's forward values — and, where the case has a grad_output, the backward kernel
// must give the gradient PyTorch's autograd computed. Cases PyTorch rejects ("error": true)
// must throw a tinytorch::Error.
//
// A failure names the case; find it in the JSON file (one case per line) to see its inputs.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "support/kernel_cases.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::json;

const json& cases() {
  return test::load_reference("module02_reference.json").at("cases");
}

std::string approximate_arg(const json& args) {
  return args.value("approximate", std::string("none"));
}

Tensor forward(const std::string& op, const Tensor& x, const json& args) {
  if (op == "relu") return native::relu(x);
  if (op == "leaky_relu") return native::leaky_relu(x, args.at("negative_slope").get<double>());
  if (op == "sigmoid") return native::sigmoid(x);
  if (op == "tanh") return native::tanh(x);
  if (op == "gelu") return native::gelu(x, approximate_arg(args));
  if (op == "silu") return native::silu(x);
  if (op == "softmax") return native::softmax(x, args.at("dim").get<int64_t>());
  if (op == "log_softmax") return native::log_softmax(x, args.at("dim").get<int64_t>());
  throw std::runtime_error("unknown op " + op);
}

// The backward kernel of `op`. Kernels whose formula uses the forward OUTPUT (sigmoid, tanh,
// softmax, log_softmax) get PyTorch's output, so a forward error cannot hide in the backward.
Tensor backward(const std::string& op, const Tensor& g, const Tensor& x, const Tensor& y,
                const json& args) {
  if (op == "relu") return native::threshold_backward(g, x, 0.0);
  if (op == "leaky_relu") {
    return native::leaky_relu_backward(g, x, args.at("negative_slope").get<double>());
  }
  if (op == "sigmoid") return native::sigmoid_backward(g, y);
  if (op == "tanh") return native::tanh_backward(g, y);
  if (op == "gelu") return native::gelu_backward(g, x, approximate_arg(args));
  if (op == "silu") return native::silu_backward(g, x);
  if (op == "softmax") return native::softmax_backward(g, y, args.at("dim").get<int64_t>());
  if (op == "log_softmax") {
    return native::log_softmax_backward(g, y, args.at("dim").get<int64_t>());
  }
  throw std::runtime_error("unknown op " + op);
}

void check_case(const json& c) {
  const auto op = c.at("op").get<std::string>();
  const json& args = c.at("args");
  const Tensor x = test::tensor_from_json(c.at("inputs").at(0));
  test::check_kernel_case(
      c, "module02_reference.json", [&] { return forward(op, x, args); },
      [&](const Tensor& g, const Tensor& y) { return backward(op, g, x, y, args); },
      [&](const Tensor& y) {
        EXPECT_TRUE(y.is_contiguous()) << "outputs are contiguous, whatever the input's layout";
        if (y.numel() > 0 && x.numel() > 0) {
          EXPECT_FALSE(y.is_alias_of(x)) << "an activation returns a new tensor";
        }
      });
}

void run(const std::string& group, const std::set<std::string>& ops) {
  int n = 0;
  for (const auto& c : cases()) {
    if (c.at("group") != group || !ops.count(c.at("op").get<std::string>())) continue;
    ++n;
    check_case(c);
  }
  EXPECT_GT(n, 0) << "no reference cases in group " << group;
}

const std::set<std::string> kRelu = {"relu", "leaky_relu"};
const std::set<std::string> kSigmoidTanh = {"sigmoid", "tanh"};
const std::set<std::string> kGeluSilu = {"gelu", "silu"};
const std::set<std::string> kSoftmax = {"softmax", "log_softmax"};

TEST(Reference, FileIsCompleteAndKnown) {
  const json& doc = test::load_reference("module02_reference.json");
  EXPECT_EQ(doc.at("generator"), "tools/reference/gen_module02.py");
  const std::set<std::string> groups = {"values",  "stability", "strided",
                                        "special", "dtypes",    "errors"};
  const test::ReferenceCensus found = test::census(cases(), groups);
  EXPECT_EQ(found.per_op.size(), 8u) << "eight activations";
  EXPECT_GE(cases().size(), 250u) << "the reference file looks truncated";
  EXPECT_GE(found.errors, 15) << "error cases are missing";
  EXPECT_GE(found.with_grad, 150) << "gradient cases are missing";
}

TEST(Reference, ReluAndLeakyRelu) {
  for (const char* g : {"values", "strided", "special", "stability"}) run(g, kRelu);
}
TEST(Reference, SigmoidAndTanh) {
  for (const char* g : {"values", "strided", "special", "stability"}) run(g, kSigmoidTanh);
}
TEST(Reference, GeluAndSilu) {
  for (const char* g : {"values", "strided", "special", "stability"}) run(g, kGeluSilu);
}
TEST(Reference, SoftmaxAndLogSoftmax) {
  for (const char* g : {"values", "strided", "special", "stability"}) run(g, kSoftmax);
}
TEST(Reference, DtypesFollowPyTorch) {
  // relu keeps int64; sigmoid/tanh compute int64 and bool in float32; the others reject them.
  run("dtypes",
      {"relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "softmax", "log_softmax"});
}
TEST(Reference, RejectedLikePyTorch) {
  run("errors", {"gelu", "softmax", "log_softmax"});
}

}  // namespace
}  // namespace tinytorch
