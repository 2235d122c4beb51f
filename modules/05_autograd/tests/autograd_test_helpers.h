// What module 05's test files share: float64 leaves drawn from a seed, small vectors, and
// gradcheck as a test expectation. One definition each, inline: the files of a test program may be
// compiled as one translation unit (cmake/TinyTorchModules.cmake).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::autograd_tests {

// A float64 leaf that requires grad, its values uniform in [lo, hi), the same for the same seed.
inline Tensor leaf(std::vector<int64_t> shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Generator gen(seed);
  return rand(shape, kFloat64, &gen).mul(hi - lo).add(lo).set_requires_grad(true);
}

// A float64 tensor of `values`, 1-d unless a shape is given.
inline Tensor vec(std::vector<double> values, std::vector<int64_t> shape = {}) {
  if (shape.empty()) shape = {static_cast<int64_t>(values.size())};
  return from_vector(values, shape, kFloat64);
}

// gradcheck(fn, inputs) passes; its message says where it did not.
template <typename Fn>
void expect_gradcheck(const Fn& fn, const std::vector<Tensor>& inputs) {
  const autograd::GradcheckResult r = autograd::gradcheck(fn, inputs);
  EXPECT_TRUE(r.ok) << r.message;
}

}  // namespace tinytorch::autograd_tests
