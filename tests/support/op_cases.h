// tests/support/op_cases.h — check_op_cases: the cases of one group of
// tests/data/libtorch_ops_reference.json (tools/reference/gen_libtorch_ops.py) through the PUBLIC,
// differentiable API: every output must match PyTorch's, and where the case has a grad_output g,
// backward() of sum(out[0] · g) must give PyTorch's gradient w.r.t. the first input (skipped, not
// failed, before module 05 is written). "error" cases must throw a tinytorch::Error.
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/prerequisites.h"
#include "support/reference.h"

namespace tinytorch::test {

// Runs case `op` on its inputs with its args; returns every output of the op, in order.
using OpRunner = std::function<std::vector<Tensor>(
    const std::string& op, const std::vector<Tensor>& inputs, const json& args)>;

inline void check_op_case(const json& c, const OpRunner& run) {
  SCOPED_TRACE("reference case " + c.at("name").get<std::string>() +
               " (tests/data/libtorch_ops_reference.json)");
  std::vector<Tensor> inputs;
  for (const json& in : c.at("inputs")) inputs.push_back(tensor_from_json(in));
  const std::string op = c.at("op");
  if (c.value("error", false)) {
    EXPECT_THROW(run(op, inputs, c.at("args")), Error)
        << "PyTorch rejects this case: " << c.value("torch_error", "");
    return;
  }
  const bool with_grad = c.contains("grad_output") && autograd_ready();
  if (with_grad) inputs[0] = inputs[0].detach().requires_grad_();
  std::vector<Tensor> outs;
  try {
    outs = run(op, inputs, c.at("args"));
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw, but PyTorch accepts this case: " << e.what();
    return;
  }
  const json& expected = c.at("expected");
  ASSERT_EQ(outs.size(), expected.size()) << "number of outputs";
  for (size_t i = 0; i < outs.size(); ++i) {
    const bool is_double = outs[i].dtype() == kFloat64;
    const double rtol = c.value("rtol", is_double ? 1e-10 : 1e-5);
    const double atol = c.value("atol", is_double ? 1e-12 : 1e-6);
    EXPECT_TRUE(tensors_match(outs[i], expected[i], rtol, atol)) << "output " << i;
  }
  if (!with_grad) return;
  const Tensor g = tensor_from_json(c.at("grad_output"));
  (outs[0] * g).sum().backward();
  const bool is_double = inputs[0].dtype() == kFloat64;
  EXPECT_TRUE(tensors_match(inputs[0].grad(), c.at("expected_grad"),
                            c.value("rtol", is_double ? 1e-10 : 1e-5),
                            c.value("atol", is_double ? 1e-12 : 1e-6)))
      << "gradient w.r.t. input 0";
}

// Every case of `group` ("tensor", "loss" or "spatial"); fails when the group has none.
inline void check_op_cases(std::string_view group, const OpRunner& run) {
  int n = 0;
  for (const json& c : load_reference("libtorch_ops_reference.json").at("cases")) {
    if (c.at("group") != group) continue;
    ++n;
    check_op_case(c, run);
  }
  EXPECT_GT(n, 0) << "no reference case of group " << group;
}

// A float64 (default) normal tensor from its own seeded generator, times `scale` (values drawn
// from N(0, scale²)): the same values every run.
inline Tensor random(IntArrayRef shape, uint64_t seed, ScalarType dtype = kFloat64,
                     double scale = 1.0) {
  Generator gen(seed);
  const Tensor x = randn(shape, dtype, &gen);
  return scale == 1.0 ? x : x.mul(scale);
}

// f's first derivatives by float64 finite differences, at a fresh leaf copy of x.
inline void expect_gradcheck(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  const Tensor leaf = x.detach().clone().requires_grad_();
  const auto result =
      autograd::gradcheck([&](const std::vector<Tensor>& in) { return f(in[0]); }, {leaf});
  EXPECT_TRUE(result.ok) << result.message;
}

// f's second derivatives (create_graph) by finite differences; seed 7 fixes the random
// grad_output.
inline void expect_gradgradcheck(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  manual_seed(7);
  const Tensor leaf = x.detach().clone().requires_grad_();
  const auto result =
      autograd::gradgradcheck([&](const std::vector<Tensor>& in) { return f(in[0]); }, {leaf});
  EXPECT_TRUE(result.ok) << result.message;
}

}  // namespace tinytorch::test
