// Module 04 — every error path: the right exception type, and a message that names the loss,
// what was wrong (shapes, dtypes, the offending class index) and what was expected.
#include <gtest/gtest.h>

#include "support/reference.h"
#include "tinytorch/native/loss.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

TEST(Errors, RegressionLossesDoNotBroadcast) {
  const Tensor x = zeros({3, 4});
  TT_EXPECT_THROW_WITH(native::mse_loss(x, zeros({4}), kMean), ValueError, "mse_loss",
                       "target size ([4])", "input size ([3, 4])", "same size");
  TT_EXPECT_THROW_WITH(native::l1_loss(x, zeros({3, 1}), kMean), ValueError, "l1_loss", "[3, 1]");
  TT_EXPECT_THROW_WITH(native::mse_loss_backward(full({}, 1.0), x, zeros({4}), kMean), ValueError,
                       "mse_loss_backward", "[4]");
}

TEST(Errors, RegressionLossesNeedAFloatingDtype) {
  const Tensor i = tensor({1, 2, 3});
  TT_EXPECT_THROW_WITH(native::mse_loss(i, i, kMean), TypeError, "mse_loss", "int64",
                       "x.to(tinytorch::kFloat32)");
  TT_EXPECT_THROW_WITH(native::l1_loss(i, i, Reduction::None), TypeError, "l1_loss", "int64");
  TT_EXPECT_THROW_WITH(native::mse_loss(tensor({true}), tensor({false}), kMean), TypeError,
                       "mse_loss", "bool");
}

TEST(Errors, GradOutputShape) {
  const Tensor x = zeros({2, 3});
  TT_EXPECT_THROW_WITH(native::mse_loss_backward(zeros({2}), x, x, kMean), Error,
                       "mse_loss_backward", "one value", "[2]");
  TT_EXPECT_THROW_WITH(native::l1_loss_backward(zeros({3, 2}), x, x, Reduction::None), Error,
                       "l1_loss_backward", "[2, 3]", "[3, 2]");
  TT_EXPECT_THROW_WITH(native::mse_loss_backward(tensor({1}), zeros({1}), zeros({1}), kMean),
                       TypeError, "grad_output", "int64");
  TT_EXPECT_THROW_WITH(
      native::nll_loss_backward(zeros({3}), zeros({2, 3}), tensor({0, 1}), Reduction::None, -100),
      Error, "nll_loss_backward", "[2]", "[3]");
}

TEST(Errors, BceInputMustHoldProbabilities) {
  const Tensor t = full({2}, 1.0);
  TT_EXPECT_THROW_WITH(native::binary_cross_entropy(tensor({0.5, 1.5}).to(kFloat32), t, kMean),
                       ValueError, "binary_cross_entropy", "between 0 and 1", "1.5",
                       "binary_cross_entropy_with_logits");
  TT_EXPECT_THROW_WITH(native::binary_cross_entropy(full({2}, -0.25), t, kMean), ValueError,
                       "-0.25");
  TT_EXPECT_THROW_WITH(native::binary_cross_entropy(full({2}, NAN), t, kMean), ValueError,
                       "between 0 and 1", "nan");
}

TEST(Errors, BceDtypesAndShapes) {
  const Tensor p = full({2}, 0.5);
  TT_EXPECT_THROW_WITH(native::binary_cross_entropy(p, tensor({1, 0}), kMean), TypeError,
                       "binary_cross_entropy", "int64", "float32");
  TT_EXPECT_THROW_WITH(native::binary_cross_entropy(p, full({2}, 1.0, kFloat64), kMean), TypeError,
                       "float64", "expected float32");
  TT_EXPECT_THROW_WITH(native::binary_cross_entropy(tensor({0, 1}), tensor({0, 1}), kMean),
                       TypeError, "binary_cross_entropy", "int64");
  TT_EXPECT_THROW_WITH(native::binary_cross_entropy(p, full({1}, 1.0), kMean), ValueError,
                       "binary_cross_entropy", "[1]", "[2]");
  TT_EXPECT_THROW_WITH(native::binary_cross_entropy_with_logits(p, full({3}, 1.0), kMean),
                       ValueError, "binary_cross_entropy_with_logits", "[3]", "[2]");
  TT_EXPECT_THROW_WITH(native::binary_cross_entropy_with_logits(p, tensor({1, 0}), kMean),
                       TypeError, "binary_cross_entropy_with_logits", "int64");
}

TEST(Errors, NllTargetOutOfRangeNamesTheIndexAndTheRange) {
  const Tensor logp = zeros({3, 4});
  TT_EXPECT_THROW_WITH(native::nll_loss(logp, tensor({0, 4, 1}), kMean, -100), IndexError,
                       "nll_loss", "Target 4 is out of bounds", "[0, 4)", "-100");
  TT_EXPECT_THROW_WITH(native::nll_loss(logp, tensor({0, -1, 1}), kMean, -100), IndexError,
                       "Target -1");
  TT_EXPECT_THROW_WITH(native::nll_loss(logp, tensor({0, -100, 1}), kMean, 3), IndexError,
                       "Target -100", "ignore_index (3)");
}

TEST(Errors, NllShapesAndDtypes) {
  const Tensor logp = zeros({3, 4});
  TT_EXPECT_THROW_WITH(native::nll_loss(logp, tensor({0.0, 1.0, 2.0}).to(kFloat32), kMean, -100),
                       TypeError, "nll_loss", "int64", "float32", "class indices");
  TT_EXPECT_THROW_WITH(native::nll_loss(logp, tensor({0, 1}), kMean, -100), ValueError,
                       "batch_size (3)", "batch_size (2)");
  TT_EXPECT_THROW_WITH(native::nll_loss(logp, full({}, int64_t{1}), kMean, -100), ValueError,
                       "batch_size (3)", "0-d");
  TT_EXPECT_THROW_WITH(native::nll_loss(logp, zeros({3, 1}, kInt64), kMean, -100), Error,
                       "0D or 1D target", "[3, 1]");
  TT_EXPECT_THROW_WITH(native::nll_loss(full({}, 1.0), full({}, int64_t{0}), kMean, -100),
                       ValueError, "nll_loss", "1 or more dimensions");
  TT_EXPECT_THROW_WITH(native::nll_loss(zeros({4}), tensor({2}), kMean, -100), Error,
                       "size mismatch", "[4]", "[1]");
  TT_EXPECT_THROW_WITH(native::nll_loss(zeros({2, 3, 4}), zeros({2, 4}, kInt64), kMean, -100),
                       Error, "[N, C]", "[2, 3, 4]", "reshape");
  TT_EXPECT_THROW_WITH(native::nll_loss(zeros({1, 2}, kInt64), tensor({0}), kMean, -100), TypeError,
                       "nll_loss", "int64");
}

TEST(Errors, CrossEntropyArguments) {
  const Tensor x = zeros({3, 4});
  const Tensor t = tensor({0, 1, 2});
  TT_EXPECT_THROW_WITH(cross_entropy(x, t, {}, kMean, -100, 1.5), ValueError, "cross_entropy",
                       "label_smoothing", "1.5");
  TT_EXPECT_THROW_WITH(cross_entropy(x, t, {}, kMean, -100, -0.1), ValueError, "label_smoothing",
                       "-0.1");
  TT_EXPECT_THROW_WITH(cross_entropy(x, tensor({0, 9, 1})), IndexError, "cross_entropy", "Target 9",
                       "[0, 4)");
  TT_EXPECT_THROW_WITH(cross_entropy(x, tensor({0, 1})), ValueError, "cross_entropy",
                       "batch_size (3)");
  TT_EXPECT_THROW_WITH(cross_entropy(x, zeros({3, 4})), TypeError, "cross_entropy",
                       "class-probability targets are not supported");
  TT_EXPECT_THROW_WITH(cross_entropy(zeros({3, 4}, kInt64), t), TypeError, "cross_entropy",
                       "int64");
}

TEST(Errors, EveryErrorIsATinytorchError) {
  EXPECT_THROW(native::mse_loss(zeros({2}), zeros({3}), kMean), Error);
  EXPECT_THROW(native::nll_loss(zeros({2, 2}), tensor({5, 0}), kMean, -100), Error);
  EXPECT_FALSE((test::throws_with<TypeError>(
      [] { static_cast<void>(native::mse_loss(zeros({2}), zeros({3}), kMean)); }, {})));
}

}  // namespace
}  // namespace tinytorch
