// Module 04's losses, extended with what libtorch programs use: smooth_l1_loss and huber_loss
// (natives, F:: forms with their FuncOptions, nn::SmoothL1Loss / nn::HuberLoss) and cross_entropy
// / nll_loss on [N, C, d1, ...] scores with [N, d1, ...] targets (a class per pixel). Values and
// gradients against PyTorch (tests/data/libtorch_ops_reference.json, group "loss"), float64
// gradchecks (these need module 05 and skip before it), and the errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loss_test_helpers.h"
#include "support/op_cases.h"
#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using loss_tests::kAll;
using loss_tests::reduction_arg;
using test::random;

namespace F = tinytorch::nn::functional;
using test::json;

// Every case through the F:: forms and their options, as a libtorch program writes them.
std::vector<Tensor> run_loss(const std::string& op, const std::vector<Tensor>& in,
                             const json& args) {
  const Reduction r = reduction_arg(args);
  if (op == "smooth_l1_loss") {
    return {F::smooth_l1_loss(in[0], in[1],
                              F::SmoothL1LossFuncOptions(r).beta(args.at("beta").get<double>()))};
  }
  if (op == "huber_loss") {
    return {F::huber_loss(in[0], in[1],
                          F::HuberLossFuncOptions(r).delta(args.at("delta").get<double>()))};
  }
  if (op == "binary_cross_entropy_with_logits") {
    // inputs x, y, then the weights args["weights"] names, in that order
    auto options = F::BinaryCrossEntropyWithLogitsFuncOptions(r);
    const auto& names = args.at("weights");
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "weight") options.weight(in[2 + i]);
      if (names[i] == "pos_weight") options.pos_weight(in[2 + i]);
    }
    return {F::binary_cross_entropy_with_logits(in[0], in[1], options)};
  }
  const Tensor weight = in.size() > 2 ? in[2] : Tensor();
  const auto ignore = args.value("ignore_index", int64_t{-100});
  if (op == "nll_loss") {
    return {
        F::nll_loss(in[0], in[1], F::NLLLossFuncOptions(r).weight(weight).ignore_index(ignore))};
  }
  if (op == "cross_entropy") {
    return {F::cross_entropy(
        in[0], in[1],
        F::CrossEntropyFuncOptions(r).weight(weight).ignore_index(ignore).label_smoothing(
            args.value("label_smoothing", 0.0)))};
  }
  throw std::runtime_error("unknown op " + op);
}

TEST(LibtorchOpsReference, LossesMatchPyTorch) {
  test::check_op_cases("loss", run_loss);
}

TEST(SmoothL1, BetaZeroIsL1AndDefaultBetaIsOne) {
  const Tensor x = random({4, 3}, 1), y = random({4, 3}, 2);
  EXPECT_TRUE(smooth_l1_loss(x, y, kMean, 0.0).allclose(l1_loss(x, y)));
  EXPECT_TRUE(F::smooth_l1_loss(x, y).allclose(smooth_l1_loss(x, y, kMean, 1.0)));
  // Huber with delta is delta times smooth L1 with beta = delta.
  EXPECT_TRUE(huber_loss(x, y, kSum, 0.5).allclose(smooth_l1_loss(x, y, kSum, 0.5) * 0.5));
}

TEST(SmoothL1, ModulesUseTheirOptions) {
  const Tensor x = random({5}, 3), y = random({5}, 4);
  nn::SmoothL1Loss smooth(nn::SmoothL1LossOptions(kNone).beta(0.25));
  nn::HuberLoss huber(nn::HuberLossOptions().delta(2.0));
  EXPECT_TRUE(smooth(x, y).allclose(smooth_l1_loss(x, y, kNone, 0.25)));
  EXPECT_TRUE(huber(x, y).allclose(huber_loss(x, y, kMean, 2.0)));
  EXPECT_EQ(smooth->name(), "SmoothL1Loss");
}

TEST(SmoothL1, ErrorsNameTheArgument) {
  const Tensor x = zeros({3}), y = zeros({3});
  TT_EXPECT_THROW_WITH(smooth_l1_loss(x, y, kMean, -0.5), ValueError, "smooth_l1_loss", "beta",
                       "-0.5");
  TT_EXPECT_THROW_WITH(huber_loss(x, y, kMean, 0.0), ValueError, "huber_loss", "delta");
  TT_EXPECT_THROW_WITH(huber_loss(x, zeros({4})), ValueError, "huber_loss", "[4]", "[3]");
}

TEST(BceWithLogits, PosWeightErrorsNameTheArgument) {
  const Tensor x = random({3, 4}, 11), y = random({3, 4}, 12).sigmoid();
  // It may broadcast, but not make the loss larger than the input.
  TT_EXPECT_THROW_WITH(binary_cross_entropy_with_logits(x, y, {}, ones({2, 1, 4}, kFloat64)),
                       ValueError, "binary_cross_entropy_with_logits", "pos_weight", "[2, 1, 4]",
                       "[3, 4]");
  TT_EXPECT_THROW_WITH(binary_cross_entropy_with_logits(x, y, {}, ones({5}, kFloat64)), Error,
                       "[3, 4] and [5] cannot be broadcast");
  TT_EXPECT_THROW_WITH(binary_cross_entropy_with_logits(x, y, {}, ones({4})), TypeError,
                       "binary_cross_entropy_with_logits", "pos_weight", "float32");
}

TEST(DenseCrossEntropy, EqualsTheFlattenedRows) {
  // [N, C, H, W] scores: the loss of each pixel is the loss of its row of C scores.
  const Tensor x = random({2, 3, 2, 4}, 5);
  const Tensor t = randint(0, 3, {2, 2, 4});
  const Tensor rows = x.permute({0, 2, 3, 1}).reshape({16, 3});
  EXPECT_TRUE(cross_entropy(x, t).allclose(cross_entropy(rows, t.reshape({16}))));
  const Tensor per_pixel = F::cross_entropy(x, t, F::CrossEntropyFuncOptions(kNone));
  EXPECT_EQ(per_pixel.sizes(), IntArrayRef({2, 2, 4}));
  EXPECT_TRUE(
      per_pixel.reshape({16}).allclose(cross_entropy(rows, t.reshape({16}), {}, Reduction::None)));
}

TEST(DenseCrossEntropy, TargetShapeMismatchSaysWhatWasExpected) {
  const Tensor x = zeros({2, 3, 4});
  TT_EXPECT_THROW_WITH(cross_entropy(x, zeros({2, 3}, kInt64)), ValueError, "cross_entropy",
                       "expected target size [2, 4]", "got [2, 3]");
  TT_EXPECT_THROW_WITH(nll_loss(x, zeros({2, 4, 1}, kInt64)), ValueError, "nll_loss", "[2, 4]");
  TT_EXPECT_THROW_WITH(cross_entropy(x, full({2, 4}, 3, kInt64)), IndexError, "Target 3");
}

// ── gradients (float64 gradcheck) ──────────────────────────────────────────────────────────────

void expect_gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                      const std::vector<Tensor>& inputs) {
  std::vector<Tensor> leaves;
  for (const Tensor& t : inputs) leaves.push_back(t.detach().clone().requires_grad_());
  const auto result = autograd::gradcheck(f, leaves);
  EXPECT_TRUE(result.ok) << result.message;
}

TEST(LibtorchLossesGradcheck, SmoothL1AndHuberBothInputs) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 4}, 6) * 2.0, y = random({3, 4}, 7);
  for (Reduction r : kAll) {
    for (double beta : {1.0, 0.5, 0.0}) {
      expect_gradcheck(
          [&](const std::vector<Tensor>& in) { return smooth_l1_loss(in[0], in[1], r, beta); },
          {x, y});
    }
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return huber_loss(in[0], in[1], r, 0.7); }, {x, y});
  }
}

// pos_weight's loss is composed from the unweighted one: its gradient for the logits and for the
// targets, at a logit of exactly 0 too (where the softplus composite must give −½, not 0).
TEST(LibtorchLossesGradcheck, BceWithLogitsPosWeight) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 4}, 9).index_put_({0, 0}, 0.0);
  const Tensor y = random({3, 4}, 10).sigmoid();
  const Tensor pos = tensor({3.0, 0.5, 1.0, 10.0}, kFloat64);
  const Tensor w = tensor({{0.5}, {2.0}, {1.0}}, kFloat64);
  for (Reduction r : kAll) {
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return binary_cross_entropy_with_logits(in[0], in[1], {}, pos, r);
        },
        {x, y});
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return binary_cross_entropy_with_logits(in[0], in[1], w, pos, r);
        },
        {x, y});
  }
}

TEST(LibtorchLossesGradcheck, DenseClassificationLosses) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({2, 3, 2, 2}, 8);
  const Tensor t = tensor({{{0, 2}, {1, -100}}, {{2, 2}, {0, 1}}});
  const Tensor w = tensor({0.5, 2.0, 1.5}, kFloat64);
  for (Reduction r : kAll) {
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], t, w, r, -100, 0.1); },
        {x});
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return nll_loss(in[0].log_softmax(1), t, w, r, -100);
        },
        {x});
  }
}

TEST(LibtorchLossesGradgradcheck, SmoothL1AndHuber) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  manual_seed(7);  // the random grad_output
  const Tensor x = random({3, 4}, 9) * 2.0, y = random({3, 4}, 10);
  for (Reduction r : kAll) {
    for (double beta : {1.0, 0.0}) {
      const auto result = autograd::gradgradcheck(
          [&](const std::vector<Tensor>& in) { return smooth_l1_loss(in[0], in[1], r, beta); },
          {x.clone().requires_grad_(), y.clone().requires_grad_()});
      EXPECT_TRUE(result.ok) << result.message;
    }
    const auto result = autograd::gradgradcheck(
        [&](const std::vector<Tensor>& in) { return huber_loss(in[0], in[1], r, 0.7); },
        {x.clone().requires_grad_(), y.clone().requires_grad_()});
    EXPECT_TRUE(result.ok) << result.message;
  }
}

}  // namespace
}  // namespace tinytorch
