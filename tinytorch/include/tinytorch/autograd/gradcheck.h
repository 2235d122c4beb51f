// tinytorch/autograd/gradcheck.h — do the backward formulas agree with finite differences?
//
// For f: inputs → output, the analytical Jacobian comes from backward (one pass per output
// element, seeding it with 1); the numerical one from central differences in float64:
//
//     ∂f_j/∂x_i ≈ (f_j(x + eps·e_i) − f_j(x − eps·e_i)) / (2·eps)
//
// They must agree to |a − n| ≤ atol + rtol·|n| for every entry. Inputs must be float64 tensors
// (float32 rounding would swamp the difference quotient).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tinytorch/core/tensor.h"

namespace tinytorch::autograd {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // on failure: which input, which entry, analytical vs numerical
  explicit operator bool() const { return ok; }
};

// Column k of the numerical Jacobian: d fn(inputs) / d x[k] by central differences, where x is
// one of `inputs` (float64, any strides).
std::vector<double> numerical_jacobian_column(
    const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
    const Tensor& x, int64_t k, double eps);

// Checks every input that requires grad. `fn` must be deterministic and return one tensor.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

// The second-order check (torch.autograd.gradgradcheck): are the gradients of the backward pass
// right? With v = grad_output (random, float64 and requiring grad, when left undefined), the
// first-order gradients
//
//     g(inputs, v) = d(fn(inputs) · v) / d inputs      (autograd::grad with create_graph=true)
//
// are themselves checked by gradcheck, w.r.t. the inputs AND v: their Jacobian is the Hessian
// of fn · v next to the plain Jacobian, both computed by differentiating the recorded backward.
// Inputs as for gradcheck; a message names input k ≥ inputs.size() for v.
GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                              const std::vector<Tensor>& inputs, const Tensor& grad_output = {},
                              const GradcheckOptions& options = {});

}  // namespace tinytorch::autograd
