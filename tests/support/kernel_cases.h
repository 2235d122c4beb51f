// tests/support/kernel_cases.h — check_kernel_case: one PyTorch reference case of a kernel-level
// op and its backward (the reference tests of modules 02 and 04). A template over the caller's
// lambdas, so it reads the case's JSON here: this header includes the whole nlohmann-json.
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "support/reference.h"

namespace tinytorch::test {

// Checks one reference case of a kernel-level op with an optional backward (modules 02 and 04):
//   * an "error" case: forward() must throw tinytorch::Error;
//   * otherwise forward() must match "expected", then also_check(output) runs, and when the case
//     has a "grad_output" g, backward(g, expected) must match "expected_grad".
// Tolerances: the case's own "rtol"/"atol" when it has them (transcendental functions differ by an
// ulp or two between libm and PyTorch's vectorised ones), else 1e-5/1e-6 for float32 and
// 1e-10/1e-12 for float64. `file` names the data file in the failure messages.
template <typename Forward, typename Backward, typename AlsoCheck>
void check_kernel_case(const json& c, std::string_view file, const Forward& forward,
                       const Backward& backward, const AlsoCheck& also_check) {
  SCOPED_TRACE("reference case " + c.at("name").get<std::string>() + " (tests/data/" +
               std::string(file) + ")");
  if (c.value("error", false)) {
    EXPECT_THROW(forward(), Error) << "PyTorch rejects this case: " << c.value("torch_error", "");
    return;
  }
  Tensor output;
  try {
    output = forward();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw, but PyTorch accepts this case: " << e.what();
    return;
  }
  const Tensor expected = tensor_from_json(c.at("expected"));
  const bool is_double = expected.dtype() == kFloat64;
  const double rtol = c.contains("rtol") ? c.at("rtol").get<double>() : is_double ? 1e-10 : 1e-5;
  const double atol = c.contains("atol") ? c.at("atol").get<double>() : is_double ? 1e-12 : 1e-6;
  EXPECT_TRUE(tensors_match(output, expected, rtol, atol)) << "forward";
  also_check(output);
  if (!c.contains("grad_output")) return;
  try {
    const Tensor grad_input = backward(tensor_from_json(c.at("grad_output")), expected);
    EXPECT_TRUE(tensors_match(grad_input, c.at("expected_grad"), rtol, atol)) << "backward";
  } catch (const std::exception& e) {
    ADD_FAILURE() << "the backward kernel threw: " << e.what();
  }
}

}  // namespace tinytorch::test
