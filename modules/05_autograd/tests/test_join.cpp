// cat and stack (core/join.h): cat records one node, CatBackward0, that hands each input its slice
// of the gradient; stack is cat of unsqueezed inputs. Their gradients are checked here against
// float64 central differences, including a non-contiguous input, a middle dim and second order.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "autograd_test_helpers.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/autograd/node.h"
#include "tinytorch/core/join.h"

namespace tt = tinytorch;
using tt::Tensor;

namespace {

using tinytorch::autograd_tests::expect_gradcheck;
using tinytorch::autograd_tests::leaf;

TEST(Join, CatGradientsAlongEachDim) {
  const Tensor a = leaf({2, 3}, 1), b = leaf({4, 3}, 2), c = leaf({2, 5}, 3);
  expect_gradcheck([](auto& in) { return tt::cat({in[0], in[1]}, 0); }, {a, b});
  expect_gradcheck([](auto& in) { return tt::cat({in[0], in[1]}, -1); }, {a, c});
  // A transposed (non-contiguous) input, used twice.
  const Tensor t = leaf({3, 2}, 4);
  expect_gradcheck([](auto& in) { return tt::cat({in[0].t(), in[1], in[0].t()}, 1); }, {t, c});
}

TEST(Join, CatIsOneNodeWhoseGradientsAreViews) {
  // One node for every input (a copy_ per input recorded a CopySlices each, and each of those
  // copied the whole output's gradient: O(T²) for an RNN's T stacked steps).
  const Tensor a = leaf({2, 3}, 7), b = leaf({1, 3}, 8), c = leaf({4, 3}, 9);
  const Tensor y = tt::cat({a, b, c}, 0);
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_EQ(y.grad_fn()->name(), "CatBackward0");
  EXPECT_EQ(y.grad_fn()->num_inputs(), 3u);
  const Tensor no_grad = tt::ones({1, 3}, tt::kFloat64);
  (tt::cat({a, no_grad, c}, 0) * tt::arange(21, tt::kFloat64).reshape({7, 3})).sum().backward();
  EXPECT_TRUE(a.grad().allclose(tt::arange(6, tt::kFloat64).reshape({2, 3})));
  EXPECT_TRUE(c.grad().allclose(tt::arange(9, 21, tt::kFloat64).reshape({4, 3})));
  const tt::autograd::GradcheckResult r = tt::autograd::gradgradcheck(
      [](auto& in) {
        return tt::cat({in[0] * in[0], in[1]}, 0);
      },
      {a, b});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Join, StackGradientsAlongANewMiddleDim) {
  const Tensor a = leaf({2, 3}, 5), b = leaf({2, 3}, 6);
  expect_gradcheck([](auto& in) { return tt::stack({in[0], in[1]}, 1); }, {a, b});
}

}  // namespace
