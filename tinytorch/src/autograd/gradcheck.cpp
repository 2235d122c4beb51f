// gradcheck: the analytical Jacobian (backward passes) against the numerical one (central
// differences). See autograd/gradcheck.h.
#include "tinytorch/autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "tinytorch/autograd/engine.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/join.h"

namespace tinytorch::autograd {

namespace {
// Address of the k-th element (row-major order) of a float64 tensor with any strides.
[[maybe_unused]] double* element(const Tensor& t, int64_t k) {
  int64_t offset = 0;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    offset += (k % t.size(d)) * t.stride(d);
    k /= t.size(d);
  }
  return t.data_ptr<double>() + offset;
}
}  // namespace

std::vector<double> numerical_jacobian_column(
    const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& inputs,
    const Tensor& x, int64_t k, double eps) {
  // BEGIN SOLUTION
  // d out / d x[k] ≈ (f(x + eps·e_k) − f(x − eps·e_k)) / (2·eps), perturbing x in place and
  // restoring it exactly (the raw write bumps no version: the graph is not involved).
  double* p = element(x, k);
  const double orig = *p;
  *p = orig + eps;
  const std::vector<double> plus = fn(inputs).to(kFloat64).to_vector<double>();
  *p = orig - eps;
  const std::vector<double> minus = fn(inputs).to(kFloat64).to_vector<double>();
  *p = orig;
  std::vector<double> column(plus.size());
  for (size_t j = 0; j < plus.size(); ++j) column[j] = (plus[j] - minus[j]) / (2 * eps);
  return column;
  // END SOLUTION
}

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  std::vector<size_t> wrt;  // the inputs that require grad
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    TT_CHECK_TYPE(inputs[i].dtype() == kFloat64, "gradcheck: input ", i, " is ", inputs[i].dtype(),
                  "; use float64 inputs (float32 rounding swamps the finite differences)");
    wrt.push_back(i);
  }
  TT_CHECK(!wrt.empty(), "gradcheck: no input requires grad, so there is nothing to check");

  const Tensor out = fn(inputs);
  TT_CHECK(out.requires_grad(),
           "gradcheck: the output does not require grad (is it computed "
           "from the inputs with differentiable ops?)");
  const int64_t m = out.numel();
  variable_list diff_inputs;
  for (size_t i : wrt) diff_inputs.push_back(inputs[i]);

  // analytical[w][j][k] = d out_j / d input_w[k]: one backward pass per output element j.
  std::vector<std::vector<std::vector<double>>> analytical(wrt.size());
  for (int64_t j = 0; j < m; ++j) {
    Tensor seed = zeros(out.sizes(), out.dtype());
    {
      NoGradGuard no_grad;
      seed.view({-1}).select(0, j).fill_(1.0);
    }
    const variable_list grads =
        grad({out}, diff_inputs, {seed}, /*retain_graph=*/true, /*create_graph=*/false,
             /*allow_unused=*/true);
    for (size_t w = 0; w < wrt.size(); ++w) {
      const int64_t n = inputs[wrt[w]].numel();
      analytical[w].push_back(grads[w].defined() ? grads[w].to(kFloat64).to_vector<double>()
                                                 : std::vector<double>(n, 0.0));
    }
  }

  // numerical: perturb one input element at a time, in place, then restore it exactly.
  NoGradGuard no_grad;
  for (size_t w = 0; w < wrt.size(); ++w) {
    const Tensor& x = inputs[wrt[w]];
    for (int64_t k = 0; k < x.numel(); ++k) {
      const std::vector<double> column = numerical_jacobian_column(fn, inputs, x, k, options.eps);
      for (int64_t j = 0; j < m; ++j) {
        const double numerical = column[j];
        const double a = analytical[w][j][k];
        if (!(std::abs(a - numerical) <= options.atol + options.rtol * std::abs(numerical))) {
          std::ostringstream msg;
          msg << "gradcheck: Jacobian mismatch for output element " << j << " with respect to "
              << "input " << wrt[w] << " element " << k << ": analytical " << a << ", numerical "
              << numerical;
          return {false, msg.str()};
        }
      }
    }
  }
  return {};
}

GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                              const std::vector<Tensor>& inputs, const Tensor& grad_output,
                              const GradcheckOptions& options) {
  std::vector<size_t> wrt;  // the inputs that require grad
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].defined() && inputs[i].requires_grad()) wrt.push_back(i);
  }
  TT_CHECK(!wrt.empty(), "gradgradcheck: no input requires grad, so there is nothing to check");
  Tensor v = grad_output;
  if (!v.defined()) {
    const Tensor out = fn(inputs);
    v = randn(out.sizes(), kFloat64).set_requires_grad(true);
  }
  TT_CHECK_TYPE(v.dtype() == kFloat64, "gradgradcheck: grad_output is ", v.dtype(),
                "; use float64 (float32 rounding swamps the finite differences)");

  // The first-order gradients of fn · v, flattened and concatenated into the one tensor gradcheck
  // differentiates. Grad mode is on inside: gradcheck evaluates it under NoGradGuard too.
  std::vector<Tensor> all = inputs;
  all.push_back(v);
  const auto first_order = [&fn, &wrt](const std::vector<Tensor>& args) {
    const AutoGradMode enable(true);
    const std::vector<Tensor> in(args.begin(), args.end() - 1);
    variable_list diff_inputs;
    for (size_t i : wrt) diff_inputs.push_back(in[i]);
    const variable_list grads = grad({fn(in)}, diff_inputs, {args.back()}, std::nullopt,
                                     /*create_graph=*/true, /*allow_unused=*/true);
    variable_list flat;
    for (const Tensor& g : grads) {
      if (g.defined()) flat.push_back(g.reshape({g.numel()}));
    }
    TT_CHECK(!flat.empty(), "gradgradcheck: the output does not depend on any input");
    return cat(flat);
  };
  GradcheckResult result = gradcheck(first_order, all, options);
  if (!result.ok) result.message = "gradgradcheck (second order): " + result.message;
  return result;
}

}  // namespace tinytorch::autograd
