// Gradient clipping (module 06): torch.nn.utils.clip_grad_norm_ / clip_grad_value_.
#include "tinytorch/nn/utils/clip_grad.h"

#include <cmath>
#include <limits>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"

namespace tinytorch::nn::utils {

namespace {

// A sum over a loop, vectorised: `omp simd reduction` lets the compiler keep several partial sums
// (one per vector lane) and add them at the end — a fixed order, so the result is the same on
// every run. A plain `acc += x` loop cannot be vectorised (floating-point addition is not
// associative), and waits for each add to finish before the next one starts.
#if defined(TINYTORCH_HAVE_OPENMP)
#define TT_PRAGMA_OMP_SIMD_SUM _Pragma("omp simd reduction(+ : acc)")
#else
#define TT_PRAGMA_OMP_SIMD_SUM
#endif

// Σ |x|^p over one tensor in double (p = ∞: max |x|). Reads any layout through a contiguous copy.
[[maybe_unused]] double sum_abs_pow(const Tensor& grad, double p) {
  // BEGIN SOLUTION
  const Tensor g = grad.contiguous();
  return dispatch_floating_types(g.dtype(), "clip_grad_norm_", [&]<typename T>() {
    const T* x = g.data_ptr<T>();
    const int64_t n = g.numel();
    double acc = 0;
    if (std::isinf(p)) {
      for (int64_t i = 0; i < n; ++i) {
        const double a = std::abs(static_cast<double>(x[i]));
        acc = std::isnan(a) || a > acc ? a : acc;  // max, but a NaN wins
        if (std::isnan(acc)) break;
      }
    } else if (p == 2.0) {
      TT_PRAGMA_OMP_SIMD_SUM
      for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    } else if (p == 1.0) {
      TT_PRAGMA_OMP_SIMD_SUM
      for (int64_t i = 0; i < n; ++i) acc += std::abs(static_cast<double>(x[i]));
    } else {
      for (int64_t i = 0; i < n; ++i) acc += std::pow(std::abs(static_cast<double>(x[i])), p);
    }
    return acc;
  });
  // END SOLUTION
}

// The joint norm of all gradients; scales them all by max_norm / (norm + 1e-6) if that is < 1.
double clip_by_total_norm(const std::vector<Tensor>& grads, double max_norm, double norm_type,
                          bool error_if_nonfinite) {
  // BEGIN SOLUTION
  const bool inf_norm = std::isinf(norm_type);
  double total = 0;
  for (const Tensor& g : grads) {
    const double s = sum_abs_pow(g, norm_type);
    total = inf_norm ? (std::isnan(s) || s > total ? s : total) : total + s;
  }
  if (!inf_norm) total = norm_type == 2.0 ? std::sqrt(total) : std::pow(total, 1.0 / norm_type);
  TT_CHECK(!error_if_nonfinite || std::isfinite(total), "The total norm of order ", norm_type,
           " for gradients from `parameters` is non-finite, so it cannot be clipped. To disable "
           "this error and scale the gradients by the non-finite norm anyway, set "
           "error_if_nonfinite=false");
  const double clip_coef = max_norm / (total + 1e-6);
  // Scale only when it shrinks (multiplying by 1 would change nothing but cost a pass), and with
  // a NaN norm, as PyTorch does: the gradients become NaN rather than silently unclipped.
  if (clip_coef < 1.0 || std::isnan(clip_coef)) {
    for (Tensor g : grads) g.mul_(clip_coef);
  }
  return total;
  // END SOLUTION
}

void clamp_grads(const std::vector<Tensor>& grads, double clip_value) {
  // BEGIN SOLUTION
  for (Tensor g : grads) g.clamp_(-clip_value, clip_value);
  // END SOLUTION
}

// The defined gradients of the defined parameters.
std::vector<Tensor> grads_of(const std::vector<Tensor>& parameters) {
  std::vector<Tensor> grads;
  for (const Tensor& p : parameters) {
    if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
  }
  return grads;
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  TT_CHECK_VALUE(norm_type > 0.0, "clip_grad_norm_: norm_type must be positive or INFINITY, got ",
                 norm_type);
  NoGradGuard no_grad;  // scaling gradients is not part of any graph
  const std::vector<Tensor> grads = grads_of(parameters);
  if (grads.empty()) return 0.0;
  // bfloat16/float16 gradients are clipped as every op on them computes: in float32 (widening is
  // exact, so the norm is the same), each scaled gradient rounded back once.
  std::vector<Tensor> work;
  for (const Tensor& g : grads) {
    work.push_back(g.dtype() == kBFloat16 || g.dtype() == kHalf ? g.to(kFloat32) : g);
  }
  const double total = clip_by_total_norm(work, max_norm, norm_type, error_if_nonfinite);
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!work[i].is_same(grads[i])) Tensor(grads[i]).copy_(work[i]);
  }
  return total;
}

double clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  return clip_grad_norm_(std::vector<Tensor>{parameter}, max_norm, norm_type, error_if_nonfinite);
}

void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
  NoGradGuard no_grad;
  clamp_grads(grads_of(parameters), clip_value);
}

void clip_grad_value_(const Tensor& parameter, double clip_value) {
  clip_grad_value_(std::vector<Tensor>{parameter}, clip_value);
}

}  // namespace tinytorch::nn::utils
