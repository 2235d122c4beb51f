// tests/support/numeric_grad.h — the vector-Jacobian product of a function by central
// differences in float64, the yardstick every backward kernel's test compares against.
//
//   // f: R^n -> R^m (any shapes), g: the gradient flowing into f's output (m values)
//   Tensor want = test::numeric_vjp([](const Tensor& x) { return relu(x); }, x, g);
//   EXPECT_TRUE(test::tensors_match(relu_backward(g, x), want, 1e-6, 1e-8));
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::test {

// (Σ_j g_j · ∂f_j/∂x_i) for every i of x, each partial derivative approximated by
//   (f(x + h·e_i) − f(x − h·e_i)) / 2h,
// whose error is O(h²) plus the rounding of f divided by h: h = 1e-6 in float64 leaves about
// 1e-9 of either. Runs f 2·numel(x) times. Returns a float64 tensor shaped like x.
inline Tensor numeric_vjp(const std::function<Tensor(const Tensor&)>& f, const Tensor& x,
                          const Tensor& g, double h = 1e-6) {
  Tensor xc = x.to(kFloat64).clone();
  double* xp = xc.data_ptr<double>();
  const std::vector<double> gv = values_as_double(g);
  std::vector<double> out(static_cast<size_t>(xc.numel()));
  for (int64_t i = 0; i < xc.numel(); ++i) {
    const double saved = xp[i];
    xp[i] = saved + h;
    const std::vector<double> fp = values_as_double(f(xc));
    xp[i] = saved - h;
    const std::vector<double> fm = values_as_double(f(xc));
    xp[i] = saved;
    double s = 0;
    for (size_t j = 0; j < gv.size(); ++j) s += gv[j] * (fp[j] - fm[j]) / (2 * h);
    out[static_cast<size_t>(i)] = s;
  }
  return from_vector(out, x.sizes(), kFloat64);
}

}  // namespace tinytorch::test
