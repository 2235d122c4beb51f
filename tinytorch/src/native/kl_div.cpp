// Module 16 — the Kullback–Leibler divergence loss, the native kernels of kl_div (torch.kl_div /
// ATen's kl_div). The checks and the reduction driver are given; the per-element loss and its two
// derivatives are yours (modules/16_compression/README.md, Part 3).
//
//   input = log q  (log-probabilities, as from log_softmax)     target = p   (or log p)
//
//   log_target = false:  ℓ_i = p_i · (log p_i − input_i)         (0 where p_i = 0: 0·log 0 = 0)
//   log_target = true:   ℓ_i = e^{t_i} · (t_i − input_i)          t = log p
//
//   Σ_i ℓ_i = KL(p ‖ q);   reduction: None (per element), Sum, Mean (÷ number of ELEMENTS —
//   the "batchmean" of nn::functional::kl_div divides the Sum by the batch size instead).
//
//   ∂ℓ/∂input_i = −p_i   (−e^{t_i})       ∂ℓ/∂target_i = log p_i + 1 − input_i  (0 where p_i = 0)
//                                          (log_target: e^{t_i} · (t_i − input_i + 1))
#include <cmath>
#include <string>

#include "tinytorch/core/exception.h"
#include "tinytorch/native/loss.h"

namespace tinytorch::native {

namespace {

void check_kl_div(const char* op, const Tensor& self, const Tensor& target) {
  TT_CHECK(self.defined() && target.defined(), op, ": undefined input or target");
  TT_CHECK_VALUE(self.sizes() == target.sizes(), op,
                 ": input and target must have the same "
                 "shape (no broadcasting), but got ",
                 self.sizes(), " and ", target.sizes());
  TT_CHECK_TYPE(self.is_floating_point() && self.dtype() == target.dtype(), op,
                ": input and target must have the same floating-point dtype, but got ",
                self.dtype(), " and ", target.dtype());
}

// One element of the loss and its derivatives (x = input_i, y = target_i).
template <typename T>
T kl_element(T x, T y, bool log_target) {
  // BEGIN SOLUTION
  if (log_target) return std::exp(y) * (y - x);
  return y > T(0) ? y * (std::log(y) - x) : T(0) * x;  // 0·x keeps a NaN input visible
  // END SOLUTION
}
template <typename T>
T kl_grad_input(T y, bool log_target) {
  // BEGIN SOLUTION
  return log_target ? -std::exp(y) : -y;
  // END SOLUTION
}
template <typename T>
T kl_grad_target(T x, T y, bool log_target) {
  // BEGIN SOLUTION
  if (log_target) return std::exp(y) * (y - x + T(1));
  return y > T(0) ? std::log(y) + T(1) - x : T(0);
  // END SOLUTION
}

// Applies f(x_i, y_i) element by element and reduces; or (grad) scales f by the incoming
// gradient: g (0-d, ÷ n for Mean) or g_i (None).
template <typename F>
Tensor map_reduce(const Tensor& self, const Tensor& target, Reduction reduction, const F& f) {
  const Tensor x = self.to(kFloat64).contiguous(), y = target.to(kFloat64).contiguous();
  const double* xp = x.data_ptr<double>();
  const double* yp = y.data_ptr<double>();
  const int64_t n = x.numel();
  if (reduction == Reduction::None) {
    Tensor out = empty(self.sizes(), kFloat64);
    double* op = out.data_ptr<double>();
    for (int64_t i = 0; i < n; ++i) op[i] = f(xp[i], yp[i]);
    return out.to(self.dtype());
  }
  double total = 0;
  for (int64_t i = 0; i < n; ++i) total += f(xp[i], yp[i]);
  if (reduction == Reduction::Mean) total /= static_cast<double>(n);  // n = 0: NaN, as PyTorch
  return full({}, total, kFloat64).to(self.dtype());
}

template <typename F>
Tensor scaled_grad(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                   Reduction reduction, const F& f) {
  Tensor local = map_reduce(self, target, Reduction::None, f);
  if (reduction == Reduction::None) return local.mul(grad_output);
  const double scale = reduction == Reduction::Mean ? 1.0 / static_cast<double>(self.numel()) : 1.0;
  return local.mul(grad_output.mul(scale));
}

}  // namespace

Tensor kl_div(const Tensor& self, const Tensor& target, Reduction reduction, bool log_target) {
  check_kl_div("kl_div", self, target);
  return map_reduce(self, target, reduction,
                    [log_target](double x, double y) { return kl_element(x, y, log_target); });
}

Tensor kl_div_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                       Reduction reduction, bool log_target) {
  check_kl_div("kl_div_backward", self, target);
  return scaled_grad(grad_output, self, target, reduction,
                     [log_target](double, double y) { return kl_grad_input(y, log_target); });
}

Tensor kl_div_target_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                              Reduction reduction, bool log_target) {
  check_kl_div("kl_div_target_backward", self, target);
  return scaled_grad(grad_output, self, target, reduction,
                     [log_target](double x, double y) { return kl_grad_target(x, y, log_target); });
}

}  // namespace tinytorch::native
