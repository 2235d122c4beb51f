// Module 04 against PyTorch: every case of tests/data/module04_reference.json (written by
// tools/reference/gen_module04.py with PyTorch 1.13) except cross_entropy runs through the native
// loss kernels and must give PyTorch's loss — and, where the case has a grad_output, the backward
// kernel must give the gradient w.r.t. the input that PyTorch's autograd computed. Cases PyTorch
// rejects ("error": true) must throw a tinytorch::Error. (cross_entropy is a composite of public,
// differentiable ops: test_cross_entropy.cpp checks its cases through the public API.)
//
// A failure names the case; find it in the JSON file (one case per line) to see its inputs.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "loss_test_helpers.h"
#include "support/kernel_cases.h"
#include "tinytorch/native/loss.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using loss_tests::reduction_arg;

using test::json;

const json& cases() {
  return test::load_reference("module04_reference.json").at("cases");
}

int64_t ignore_index_arg(const json& args) {
  return args.value("ignore_index", int64_t{-100});
}

Tensor forward(const std::string& op, const Tensor& x, const Tensor& t, const json& args) {
  const Reduction r = reduction_arg(args);
  if (op == "mse_loss") return native::mse_loss(x, t, r);
  if (op == "l1_loss") return native::l1_loss(x, t, r);
  if (op == "nll_loss") return native::nll_loss(x, t, r, ignore_index_arg(args));
  if (op == "binary_cross_entropy") return native::binary_cross_entropy(x, t, r);
  if (op == "binary_cross_entropy_with_logits") {
    return native::binary_cross_entropy_with_logits(x, t, r);
  }
  throw std::runtime_error("unknown op " + op);
}

Tensor backward(const std::string& op, const Tensor& g, const Tensor& x, const Tensor& t,
                const json& args) {
  const Reduction r = reduction_arg(args);
  if (op == "mse_loss") return native::mse_loss_backward(g, x, t, r);
  if (op == "l1_loss") return native::l1_loss_backward(g, x, t, r);
  if (op == "nll_loss") return native::nll_loss_backward(g, x, t, r, ignore_index_arg(args));
  if (op == "binary_cross_entropy") return native::binary_cross_entropy_backward(g, x, t, r);
  if (op == "binary_cross_entropy_with_logits") {
    return native::binary_cross_entropy_with_logits_backward(g, x, t, r);
  }
  throw std::runtime_error("unknown op " + op);
}

void check_case(const json& c) {
  const auto op = c.at("op").get<std::string>();
  const json& args = c.at("args");
  const Tensor x = test::tensor_from_json(c.at("inputs").at(0));
  const Tensor t = test::tensor_from_json(c.at("inputs").at(1));
  test::check_kernel_case(
      c, "module04_reference.json", [&] { return forward(op, x, t, args); },
      [&](const Tensor& g, const Tensor&) { return backward(op, g, x, t, args); },
      [](const Tensor&) {});
}

void run(const std::set<std::string>& ops) {
  int n = 0;
  for (const auto& c : cases()) {
    if (!ops.count(c.at("op").get<std::string>())) continue;
    // The kernels take no weights: the weighted cases run through the public ops
    // (test_cross_entropy.cpp, WeightedLossesMatchPyTorch).
    if (c.at("args").contains("weight")) continue;
    ++n;
    check_case(c);
  }
  EXPECT_GT(n, 0) << "no reference cases for these ops";
}

TEST(Reference, FileIsCompleteAndKnown) {
  const json& doc = test::load_reference("module04_reference.json");
  EXPECT_EQ(doc.at("generator"), "tools/reference/gen_module04.py");
  const std::set<std::string> groups = {"values", "stability", "strided", "ignore",
                                        "dtypes", "weighted",  "errors"};
  const test::ReferenceCensus found = test::census(cases(), groups);
  EXPECT_EQ(found.per_op.size(), 6u) << "six losses";
  EXPECT_GE(cases().size(), 300u) << "the reference file looks truncated";
  EXPECT_GE(found.errors, 20) << "error cases are missing";
  EXPECT_GE(found.with_grad, 250) << "gradient cases are missing";
}

TEST(Reference, MseAndL1) {
  run({"mse_loss", "l1_loss"});
}
TEST(Reference, BinaryCrossEntropy) {
  run({"binary_cross_entropy"});
}
TEST(Reference, BinaryCrossEntropyWithLogits) {
  run({"binary_cross_entropy_with_logits"});
}
TEST(Reference, NllLoss) {
  run({"nll_loss"});
}

}  // namespace
}  // namespace tinytorch
