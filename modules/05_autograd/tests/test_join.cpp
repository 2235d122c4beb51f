// cat and stack (core/join.h) record no backward formula of their own: each input is copied into
// a narrow view of the output, and autograd records that copy_. Their gradients are checked here
// against float64 central differences, including a non-contiguous input and a middle dim.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/core/join.h"

namespace tt = tinytorch;
using tt::Tensor;

namespace {

Tensor leaf(std::vector<int64_t> shape, uint64_t seed) {
  tt::Generator gen(seed);
  return tt::rand(shape, tt::kFloat64, &gen).set_requires_grad(true);
}

void expect_gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                      const std::vector<Tensor>& inputs) {
  const tt::autograd::GradcheckResult r = tt::autograd::gradcheck(fn, inputs);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Join, CatGradientsAlongEachDim) {
  const Tensor a = leaf({2, 3}, 1), b = leaf({4, 3}, 2), c = leaf({2, 5}, 3);
  expect_gradcheck([](auto& in) { return tt::cat({in[0], in[1]}, 0); }, {a, b});
  expect_gradcheck([](auto& in) { return tt::cat({in[0], in[1]}, -1); }, {a, c});
  // A transposed (non-contiguous) input, used twice.
  const Tensor t = leaf({3, 2}, 4);
  expect_gradcheck([](auto& in) { return tt::cat({in[0].t(), in[1], in[0].t()}, 1); }, {t, c});
}

TEST(Join, StackGradientsAlongANewMiddleDim) {
  const Tensor a = leaf({2, 3}, 5), b = leaf({2, 3}, 6);
  expect_gradcheck([](auto& in) { return tt::stack({in[0], in[1]}, 1); }, {a, b});
}

}  // namespace
