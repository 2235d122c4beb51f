// What module 04's test files share besides tests/support (test::random draws their inputs): the
// three reductions, a reference case's reduction argument and a reduced loss's value. One
// definition each, inline: the files of a test program may be compiled as one translation unit
// (cmake/TinyTorchModules.cmake).
#pragma once

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::loss_tests {

// The value of a reduced (0-d) loss.
inline double item(const Tensor& t) {
  EXPECT_EQ(t.dim(), 0) << "a reduced loss is 0-d";
  return test::values_as_double(t).at(0);
}

inline constexpr Reduction kAll[] = {Reduction::None, Reduction::Mean, Reduction::Sum};

inline std::string name(Reduction r) {
  return r == Reduction::None ? "none" : r == Reduction::Mean ? "mean" : "sum";
}

// A reference case's "reduction" argument: "mean" when it has none.
inline Reduction reduction_arg(const test::json& args) {
  const auto r = args.value("reduction", std::string("mean"));
  if (r == "none") return Reduction::None;
  if (r == "sum") return Reduction::Sum;
  if (r == "mean") return Reduction::Mean;
  throw std::runtime_error("unknown reduction " + r);
}

}  // namespace tinytorch::loss_tests
