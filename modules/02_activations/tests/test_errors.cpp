// Module 02 — every error path: the right exception type, and a message that names the
// operation, what was wrong (the dtype, the dim, the shapes) and what was expected.
#include <gtest/gtest.h>

#include "support/reference.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

TEST(Errors, ReluRejectsBoolButAcceptsInt64) {
  TT_EXPECT_THROW_WITH(native::relu(tensor({true, false})), TypeError, "relu", "bool");
  EXPECT_NO_THROW(native::relu(tensor({1, -1})));
}

TEST(Errors, FloatOnlyActivationsNameTheDtype) {
  const Tensor i = tensor({1, -2, 3});
  const Tensor b = tensor({true, false});
  TT_EXPECT_THROW_WITH(native::leaky_relu(i, 0.01), TypeError, "leaky_relu", "int64", "float32");
  TT_EXPECT_THROW_WITH(native::gelu(i, "none"), TypeError, "gelu", "int64");
  TT_EXPECT_THROW_WITH(native::gelu(b, "tanh"), TypeError, "gelu", "bool");
  TT_EXPECT_THROW_WITH(native::silu(i), TypeError, "silu", "int64");
  TT_EXPECT_THROW_WITH(native::softmax(i, 0), TypeError, "softmax", "int64",
                       "x.to(tinytorch::kFloat32)");
  TT_EXPECT_THROW_WITH(native::log_softmax(b, 0), TypeError, "log_softmax", "bool");
}

TEST(Errors, GeluApproximateMustBeNoneOrTanh) {
  const Tensor x = zeros({3});
  TT_EXPECT_THROW_WITH(native::gelu(x, "fast"), ValueError, "gelu", "\"none\"", "\"tanh\"",
                       "\"fast\"");
  TT_EXPECT_THROW_WITH(native::gelu(x, "Tanh"), ValueError, "approximate");
  TT_EXPECT_THROW_WITH(native::gelu_backward(x, x, ""), ValueError, "gelu_backward", "approximate");
}

TEST(Errors, SoftmaxDimOutOfRange) {
  const Tensor x = zeros({2, 3});
  TT_EXPECT_THROW_WITH(native::softmax(x, 2), IndexError, "softmax", "[-2, 1]", "2");
  TT_EXPECT_THROW_WITH(native::log_softmax(x, -3), IndexError, "log_softmax", "-3");
  TT_EXPECT_THROW_WITH(native::softmax(full({}, 1.0), 1), IndexError, "softmax");
  TT_EXPECT_THROW_WITH(native::softmax_backward(x, x, 5), IndexError, "softmax_backward", "5");
  TT_EXPECT_THROW_WITH(native::log_softmax_backward(x, x, -4), IndexError, "log_softmax_backward");
}

TEST(Errors, BackwardShapesMustMatch) {
  const Tensor x = zeros({2, 3}), g = zeros({3, 2});
  TT_EXPECT_THROW_WITH(native::threshold_backward(g, x, 0), Error, "threshold_backward",
                       "grad_output", "[3, 2]", "[2, 3]");
  TT_EXPECT_THROW_WITH(native::leaky_relu_backward(g, x, 0.1), Error, "leaky_relu_backward",
                       "[3, 2]");
  TT_EXPECT_THROW_WITH(native::sigmoid_backward(g, x), Error, "sigmoid_backward", "output");
  TT_EXPECT_THROW_WITH(native::tanh_backward(g, x), Error, "tanh_backward", "[2, 3]");
  TT_EXPECT_THROW_WITH(native::gelu_backward(g, x, "none"), Error, "gelu_backward", "[3, 2]");
  TT_EXPECT_THROW_WITH(native::silu_backward(g, x), Error, "silu_backward", "[3, 2]");
  TT_EXPECT_THROW_WITH(native::softmax_backward(g, x, 1), Error, "softmax_backward", "[3, 2]");
  TT_EXPECT_THROW_WITH(native::log_softmax_backward(zeros({6}), x, 1), Error,
                       "log_softmax_backward", "[6]", "[2, 3]");
}

TEST(Errors, BackwardKernelsNeedFloatingTensors) {
  const Tensor x = zeros({3}), i = tensor({1, 2, 3});
  TT_EXPECT_THROW_WITH(native::threshold_backward(i, x, 0), TypeError, "threshold_backward",
                       "grad_output", "int64");
  TT_EXPECT_THROW_WITH(native::threshold_backward(x, i, 0), TypeError, "threshold_backward",
                       "int64");
  TT_EXPECT_THROW_WITH(native::sigmoid_backward(x, i), TypeError, "sigmoid_backward", "output",
                       "int64");
  TT_EXPECT_THROW_WITH(native::softmax_backward(x, tensor({true, false, true}), 0), TypeError,
                       "softmax_backward", "bool");
}

TEST(Errors, EveryErrorIsATinytorchError) {
  EXPECT_THROW(native::softmax(zeros({2}), 3), Error);
  EXPECT_THROW(native::silu(tensor({1})), Error);
  EXPECT_THROW(native::gelu(zeros({1}), "x"), Error);
  // …and the helper can fail: a wrong type or a missing word is reported.
  EXPECT_FALSE(
      (test::throws_with<IndexError>([] { static_cast<void>(native::silu(tensor({1}))); }, {})));
  EXPECT_FALSE((test::throws_with<TypeError>([] { static_cast<void>(native::silu(tensor({1}))); },
                                             {"no such words"})));
}

}  // namespace
}  // namespace tinytorch
