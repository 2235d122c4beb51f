// Module 04 — Losses: MSE, L1, NLL, binary cross entropy (on probabilities and on logits), and
// cross entropy with label smoothing. The checks (shapes, dtypes, class indices) and the drivers
// are given; the per-element losses, their derivatives, the reductions, the NLL kernels and the
// cross-entropy composite are yours to write in module 04 (modules/04_losses/README.md, Parts
// 1–4).
//
// A loss turns (prediction, target) into one number to minimise. Element-wise losses all have
// the same shape:
//
//   x, y ──► loss(x_i, y_i) per element ──► reduction ──► None: [same shape]
//                                                         Sum:  Σ            (0-d)
//                                                         Mean: Σ / n        (0-d)
//
// and their backward kernels return ∂L/∂x_i = g · loss'(x_i, y_i) (÷ n for Mean), where g is the
// incoming gradient: a 0-d tensor for Sum/Mean, one value per element for None.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "opmath.h"
#include "tinytorch/amp/autocast.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/native/loss.h"
#include "tinytorch/profiler/profiler.h"

namespace tinytorch {

namespace {

// ── helpers (given) ──────────────────────────────────────────────────────────────────────────

// TT_SIMD before a loop with independent iterations asks the compiler to vectorise it (see
// module 02, Part 0: OpenMP's `simd` directive; empty without OpenMP).
#if defined(_OPENMP)
#define TT_SIMD _Pragma("omp simd")
#else
#define TT_SIMD
#endif

// Elements per block of a parallel sum, and per thread of an element-wise loop.
constexpr int64_t kSumBlock = 32768;
constexpr int64_t kGrain = 65536;

// Σ over [0, n) of the values block_sum(begin, end) returns for consecutive blocks of kSumBlock
// elements. The blocks are fixed — they do not depend on the number of threads — and their sums
// are added in order, so the result is the same bit for bit on 1 thread or 16.
template <typename F>
double parallel_sum(int64_t n, const F& block_sum) {
  if (n <= kSumBlock) return n > 0 ? block_sum(int64_t{0}, n) : 0.0;
  const int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  std::vector<double> partial(static_cast<size_t>(blocks), 0.0);
  parallel_for(0, blocks, 1, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      partial[static_cast<size_t>(k)] = block_sum(k * kSumBlock, std::min(n, (k + 1) * kSumBlock));
    }
  });
  double total = 0;
  for (const double p : partial) total += p;
  return total;
}

// ── Part 1: element-wise losses and their reductions ────────────────────────────────────────

// (x − y)²
template <typename T>
T squared_error(T x, T y) {
  // BEGIN SOLUTION
  const T d = x - y;
  return d * d;
  // END SOLUTION
}

// ∂/∂x (x − y)² = 2 (x − y)
template <typename T>
T squared_error_grad(T x, T y) {
  // BEGIN SOLUTION
  return T(2) * (x - y);
  // END SOLUTION
}

// |x − y|
template <typename T>
T absolute_error(T x, T y) {
  // BEGIN SOLUTION
  return std::abs(x - y);
  // END SOLUTION
}

// ∂/∂x |x − y| = sign(x − y), with sign(0) = 0 (PyTorch's choice of subgradient).
template <typename T>
T absolute_error_grad(T x, T y) {
  // BEGIN SOLUTION
  const T d = x - y;
  return static_cast<T>((d > T(0)) - (d < T(0)));
  // END SOLUTION
}

// The forward of any element-wise loss over n contiguous elements. Reduction::None writes
// out[i] = loss(x[i], y[i]) for every i; Sum writes Σ loss into out[0]; Mean writes Σ loss / n
// (NaN for n = 0, as in PyTorch: 0 / 0). Sums accumulate in double with parallel_sum.
template <typename T, typename Loss>
void pointwise_loss_forward(const T* x, const T* y, T* out, int64_t n, Reduction reduction,
                            Loss loss) {
  // BEGIN SOLUTION
  if (reduction == Reduction::None) {
    parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      TT_SIMD for (int64_t i = b; i < e; ++i) out[i] = loss(x[i], y[i]);
    });
    return;
  }
  const double total = parallel_sum(n, [&](int64_t b, int64_t e) {
    double acc = 0;
    for (int64_t i = b; i < e; ++i) acc += static_cast<double>(loss(x[i], y[i]));
    return acc;
  });
  out[0] = static_cast<T>(reduction == Reduction::Mean ? total / static_cast<double>(n) : total);
  // END SOLUTION
}

// The backward of any element-wise loss: out[i] = g_i · loss_grad(x[i], y[i]), where g_i is
// g[i] for Reduction::None and the single value g[0] for Sum, and g[0] / n for Mean (every
// element received 1/n of the mean).
template <typename T, typename LossGrad>
void pointwise_loss_backward(const T* g, const T* x, const T* y, T* out, int64_t n,
                             Reduction reduction, LossGrad loss_grad) {
  // BEGIN SOLUTION
  if (reduction == Reduction::None) {
    parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
      TT_SIMD for (int64_t i = b; i < e; ++i) out[i] = g[i] * loss_grad(x[i], y[i]);
    });
    return;
  }
  const T scale = reduction == Reduction::Mean ? g[0] / static_cast<T>(n) : g[0];
  parallel_for(0, n, kGrain, [&](int64_t b, int64_t e) {
    TT_SIMD for (int64_t i = b; i < e; ++i) out[i] = scale * loss_grad(x[i], y[i]);
  });
  // END SOLUTION
}

// ── Part 2: binary cross entropy ────────────────────────────────────────────────────────────

// −[y · log p + (1 − y) · log(1 − p)] with each log clamped to ≥ −100, as PyTorch does, so
// that p = 0 or p = 1 give a large finite loss (100) instead of inf (and 0 · inf = NaN).
template <typename T>
T binary_cross_entropy_point(T p, T y) {
  // BEGIN SOLUTION
  const T log_p = std::max(std::log(p), T(-100));
  const T log_1mp = std::max(std::log(T(1) - p), T(-100));
  return (y - T(1)) * log_1mp - y * log_p;
  // END SOLUTION
}

// ∂/∂p = (p − y) / (p (1 − p)), with the denominator clamped to ≥ 1e-12 so that p = 0 or 1
// gives a huge but finite gradient. (PyTorch's EPSILON is the float 1e-12f, also for float64:
// we use the same constant so that the clamped gradients agree to the last digit.)
template <typename T>
T binary_cross_entropy_grad(T p, T y) {
  // BEGIN SOLUTION
  return (p - y) / std::max((T(1) - p) * p, static_cast<T>(1e-12f));
  // END SOLUTION
}

// BCE on a logit x (p = σ(x)) without ever forming p:
//   max(x, 0) − x · y + log(1 + e^(−|x|))  =  (1 − y) · x + max(−x, 0) + log(1 + e^(−|x|))
// Every exponent is ≤ 0, so nothing overflows at |x| = 1000 (the naive −y log σ(x) − … takes
// log 0 = −inf there).
template <typename T>
T binary_cross_entropy_with_logits_point(T x, T y) {
  // BEGIN SOLUTION
  // max(x, 0) − x·y written as (1 − y)·x + max(−x, 0), PyTorch's order: at x = +inf the first
  // form is inf − inf = NaN, the second is inf (for y < 1), as in PyTorch.
  return (T(1) - y) * x + std::max(-x, T(0)) + std::log1p(std::exp(-std::abs(x)));
  // END SOLUTION
}

// ∂/∂x = σ(x) − y, with σ(x) = 1 / (1 + e^(−x)) (safe at any x: see module 02, Part 2).
template <typename T>
T binary_cross_entropy_with_logits_grad(T x, T y) {
  // BEGIN SOLUTION
  return T(1) / (T(1) + std::exp(-x)) - y;
  // END SOLUTION
}

// ── Part 3: negative log likelihood ─────────────────────────────────────────────────────────

// logp: contiguous [N, C] log-probabilities; target: N class indices, each in [0, C) or equal to
// ignore_index (already checked). The loss of row i is −logp[i, target[i]], or 0 when the
// target is ignore_index. None writes the N row losses to out[0..N); Sum writes their sum to
// out[0]; Mean writes the sum divided by the number of rows NOT ignored (NaN when all are,
// 0 / 0, as in PyTorch).
template <typename T>
void nll_loss_kernel(const T* logp, const int64_t* target, int64_t N, int64_t C,
                     Reduction reduction, int64_t ignore_index, T* out) {
  // BEGIN SOLUTION
  double total = 0;
  int64_t count = 0;
  for (int64_t i = 0; i < N; ++i) {
    const int64_t t = target[i];
    const T loss = t == ignore_index ? T(0) : -logp[i * C + t];
    if (reduction == Reduction::None) {
      out[i] = loss;
    } else if (t != ignore_index) {
      total += static_cast<double>(loss);
      ++count;
    }
  }
  if (reduction == Reduction::Sum) out[0] = static_cast<T>(total);
  if (reduction == Reduction::Mean) out[0] = static_cast<T>(total / static_cast<double>(count));
  // END SOLUTION
}

// The gradient of nll_loss w.r.t. logp: grad_in is [N, C] and already zero. Only the target
// entry of each kept row receives anything: grad_in[i, target[i]] = −g_i, where g_i is g[i]
// (None), g[0] (Sum) or g[0] / (number of rows not ignored) (Mean). Ignored rows stay 0.
template <typename T>
void nll_loss_backward_kernel(const T* g, const int64_t* target, int64_t N, int64_t C,
                              Reduction reduction, int64_t ignore_index, T* grad_in) {
  // BEGIN SOLUTION
  int64_t count = 0;
  for (int64_t i = 0; i < N; ++i) count += target[i] != ignore_index ? 1 : 0;
  const T scale = reduction == Reduction::Mean ? g[0] / static_cast<T>(count) : g[0];
  for (int64_t i = 0; i < N; ++i) {
    const int64_t t = target[i];
    if (t == ignore_index) continue;
    grad_in[i * C + t] = -(reduction == Reduction::None ? g[i] : scale);
  }
  // END SOLUTION
}

// ── Part 4: cross entropy, composed from differentiable ops ──────────────────────────────────

// cross_entropy(x, t) = nll_loss(log_softmax(x, class_dim), t) — and with label smoothing ε:
//   (1 − ε) · nll  +  (ε / C) · Σ_c (−w_c · log p_c)      per row; 0 for ignored rows;
// with w_c = 1 when `weight` is undefined. Reduced like nll: None per row, Sum, or Mean — which
// divides by the number of rows not ignored, or with weights by Σ w[t_i] over them (the same
// denominator as the weighted nll, native::nll_loss_class_weights(...).sum()). Written with
// public ops only (log_softmax, nll_loss, sum, where, *, /, +), so module 05's autograd
// differentiates it with no extra code. Arguments (weight included) are already checked.
Tensor cross_entropy_composite(const Tensor& input, const Tensor& target, const Tensor& weight,
                               Reduction reduction, int64_t ignore_index, double label_smoothing) {
  // BEGIN SOLUTION
  const int64_t class_dim = input.dim() == 1 ? 0 : 1;
  const Tensor logp = log_softmax(input, class_dim);
  const Tensor nll = nll_loss(logp, target, weight, reduction, ignore_index);
  if (label_smoothing == 0.0) return nll;

  const auto n_classes = static_cast<double>(input.size(class_dim));
  const Tensor keep = target.ne(ignore_index);  // [N] or [] bool
  // Σ_c −w_c·log p_c: a [C] weight broadcasts along the class dim of [N, C] (or is [C] itself).
  Tensor smooth = weight.defined() ? -(logp * weight).sum({class_dim}) : -logp.sum({class_dim});
  smooth = where(keep, smooth, zeros({}, input.dtype()));  // ignored rows: 0
  if (reduction == Reduction::Sum) {
    smooth = smooth.sum();
  } else if (reduction == Reduction::Mean) {
    const Tensor count =  // 0 / 0 = NaN when every row is ignored
        weight.defined()
            ? native::nll_loss_class_weights("cross_entropy", input, target, weight, ignore_index)
                  .sum()
            : keep.sum().to(input.dtype());
    smooth = smooth.sum() / count;
  }
  return nll * (1.0 - label_smoothing) + smooth * (label_smoothing / n_classes);
  // END SOLUTION
}

// ── checks (given) ───────────────────────────────────────────────────────────────────────────

const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::None:
      return "none";
    case Reduction::Mean:
      return "mean";
    case Reduction::Sum:
      return "sum";
  }
  return "?";
}

void check_reduction(std::string_view op, Reduction r) {
  TT_CHECK_VALUE(r == Reduction::None || r == Reduction::Mean || r == Reduction::Sum, op,
                 ": invalid reduction ", static_cast<int>(r),
                 " (expected Reduction::None, Reduction::Mean or Reduction::Sum)");
}

void check_same_size(std::string_view op, const Tensor& input, const Tensor& target) {
  TT_CHECK_VALUE(input.sizes() == target.sizes(), op, ": using a target size (", target.sizes(),
                 ") that is different to the input size (", input.sizes(),
                 ") is not supported. Please ensure they have the same size (losses do not "
                 "broadcast: reshape or expand the target first).");
}

// The dtype a regression loss computes in: the promoted dtype of input and target, which must be
// floating (an integer target with a float input is fine; two integer tensors are not).
ScalarType regression_dtype(std::string_view op, const Tensor& input, const Tensor& target) {
  const ScalarType t = result_type(input, target);
  TT_CHECK_TYPE(is_floating_point(t), op, ": not implemented for dtype ", t, " (input ",
                input.dtype(), ", target ", target.dtype(),
                "); losses need floating-point tensors (hint: x.to(tinytorch::kFloat32))");
  return t;
}

// grad_output: one value for Sum / Mean, the loss's full shape for None.
void check_grad_output(std::string_view op, const Tensor& grad_output, IntArrayRef loss_shape,
                       Reduction r) {
  TT_CHECK_TYPE(grad_output.is_floating_point(), op,
                ": grad_output must be float32 or float64, got ", grad_output.dtype());
  if (r == Reduction::None) {
    TT_CHECK(grad_output.sizes() == loss_shape, op,
             ": with reduction='none' grad_output must have ", "the loss's shape ", loss_shape,
             ", got ", grad_output.sizes());
  } else {
    TT_CHECK(grad_output.numel() == 1, op, ": with reduction='", reduction_name(r),
             "' grad_output must hold one value (the loss is 0-d), got shape ",
             grad_output.sizes());
  }
}

// Runs an element-wise loss: checks, a common floating dtype, contiguous operands.
template <typename MakeLoss>
Tensor pointwise_loss(std::string_view op, const Tensor& input, const Tensor& target,
                      ScalarType dtype, Reduction reduction, const MakeLoss& make_loss) {
  check_reduction(op, reduction);
  check_same_size(op, input, target);
  if (native::opmath::is_reduced(dtype)) {
    return native::opmath::compute(
        dtype,
        [&](const Tensor& x, const Tensor& y) {
          return pointwise_loss(op, x, y, kFloat32, reduction, make_loss);
        },
        input, target);
  }
  const Tensor x = input.to(dtype).contiguous(), y = target.to(dtype).contiguous();
  Tensor out = reduction == Reduction::None ? empty(input.sizes(), dtype) : empty({}, dtype);
  dispatch_floating_types(dtype, op, [&]<typename T>() {
    pointwise_loss_forward(x.data_ptr<T>(), y.data_ptr<T>(), out.data_ptr<T>(), x.numel(),
                           reduction, make_loss.template operator()<T>());
  });
  return out;
}

// The gradient w.r.t. input, in input's dtype (or `dtype` when input is not floating).
template <typename MakeGrad>
Tensor pointwise_loss_grad(std::string_view op, const Tensor& grad_output, const Tensor& input,
                           const Tensor& target, ScalarType dtype, Reduction reduction,
                           const MakeGrad& make_grad) {
  check_reduction(op, reduction);
  check_same_size(op, input, target);
  check_grad_output(op, grad_output, input.sizes(), reduction);
  if (native::opmath::is_reduced(
          dtype)) {  // (input is then float16/bfloat16 too: the result's dtype)
    return native::opmath::compute(
        dtype,
        [&](const Tensor& g, const Tensor& x, const Tensor& y) {
          return pointwise_loss_grad(op, g, x, y, kFloat32, reduction, make_grad);
        },
        grad_output, input, target);
  }
  const Tensor x = input.to(dtype).contiguous(), y = target.to(dtype).contiguous();
  const Tensor g = reduction == Reduction::None ? grad_output.to(dtype).contiguous()
                                                : grad_output.to(dtype).reshape({1});
  Tensor out = empty(input.sizes(), dtype);
  dispatch_floating_types(dtype, op, [&]<typename T>() {
    pointwise_loss_backward(g.data_ptr<T>(), x.data_ptr<T>(), y.data_ptr<T>(), out.data_ptr<T>(),
                            x.numel(), reduction, make_grad.template operator()<T>());
  });
  return input.is_floating_point() ? out.to(input.dtype()) : out;
}

// nll_loss's arguments: input [N, C] or [C] floating; target int64 [N] or []; every target in
// [0, C) or equal to ignore_index. `op` names the public function in messages.
void check_nll_args(std::string_view op, const Tensor& input, const Tensor& target,
                    int64_t ignore_index) {
  TT_CHECK_VALUE(input.dim() > 0, op, ": expected 1 or more dimensions (got 0)",
                 " — input holds class scores, [N, C] or [C]");
  TT_CHECK(input.dim() <= 2, op, ": expected input of shape [N, C] or [C] but got ", input.dim(),
           " dims ", input.sizes(),
           " (the public nll_loss and cross_entropy take [N, C, d1, ...] too: they move the class "
           "dim last and reshape it to rows, native::classes_last_2d)");
  TT_CHECK_TYPE(input.is_floating_point(), op, ": not implemented for dtype ", input.dtype(),
                " (input must be float32 or float64)");
  TT_CHECK_TYPE(target.dtype() == kInt64, op,
                ": expected target of scalar type int64 (class indices) but found ", target.dtype(),
                target.is_floating_point()
                    ? " (class-probability targets are not supported; pass class indices)"
                    : "");
  TT_CHECK(target.dim() <= 1, op,
           ": 0D or 1D target tensor expected, multi-target not supported (got target of shape ",
           target.sizes(), ")");
  if (input.dim() == 2) {
    TT_CHECK_VALUE(target.dim() == 1 && target.size(0) == input.size(0), op,
                   ": expected input batch_size (", input.size(0), ") to match target batch_size (",
                   target.dim() == 1 ? std::to_string(target.size(0)) : std::string("a 0-d target"),
                   ")");
  } else {
    TT_CHECK(target.dim() == 0, op, ": size mismatch (got input: ", input.sizes(),
             ", target: ", target.sizes(), "); a [C] input takes a 0-d target");
  }
  const int64_t C = input.size(-1);
  const Tensor t = target.contiguous();
  const int64_t* tp = t.data_ptr<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    TT_CHECK_INDEX(tp[i] == ignore_index || (tp[i] >= 0 && tp[i] < C), op, ": Target ", tp[i],
                   " is out of bounds: expected a class index in [0, ", C, ") or ignore_index (",
                   ignore_index, ")");
  }
}

}  // namespace

// ── the native functions ───────────────────────────────────────────────────────────────────

namespace native {

Tensor mse_loss(const Tensor& self, const Tensor& target, Reduction reduction) {
  const ScalarType dtype = regression_dtype("mse_loss", self, target);
  return pointwise_loss("mse_loss", self, target, dtype, reduction,
                        []<typename T>() { return [](T x, T y) { return squared_error(x, y); }; });
}

Tensor mse_loss_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                         Reduction reduction) {
  const ScalarType dtype = regression_dtype("mse_loss_backward", self, target);
  return pointwise_loss_grad(
      "mse_loss_backward", grad_output, self, target, dtype, reduction,
      []<typename T>() { return [](T x, T y) { return squared_error_grad(x, y); }; });
}

Tensor l1_loss(const Tensor& self, const Tensor& target, Reduction reduction) {
  const ScalarType dtype = regression_dtype("l1_loss", self, target);
  return pointwise_loss("l1_loss", self, target, dtype, reduction,
                        []<typename T>() { return [](T x, T y) { return absolute_error(x, y); }; });
}

Tensor l1_loss_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                        Reduction reduction) {
  const ScalarType dtype = regression_dtype("l1_loss_backward", self, target);
  return pointwise_loss_grad(
      "l1_loss_backward", grad_output, self, target, dtype, reduction,
      []<typename T>() { return [](T x, T y) { return absolute_error_grad(x, y); }; });
}

// ── smooth L1 and Huber (given: engineers' additions, built on Part 1's drivers) ─────────────
// With z = |x − y|:
//   smooth_l1(z; β) = z < β ? ½·z²/β : z − ½·β          (β = 0: exactly l1_loss)
//   huber(z; δ)     = z < δ ? ½·z²   : δ·(z − ½·δ)      (= δ · smooth_l1(z; δ))
// and their derivatives in x: clamp((x − y)/β, −1, 1) and clamp(x − y, −δ, δ).

Tensor smooth_l1_loss(const Tensor& self, const Tensor& target, Reduction reduction, double beta) {
  TT_CHECK_VALUE(beta >= 0.0, "smooth_l1_loss does not support negative values for beta, got ",
                 beta);
  if (beta == 0.0) return native::l1_loss(self, target, reduction);
  const ScalarType dtype = regression_dtype("smooth_l1_loss", self, target);
  return pointwise_loss("smooth_l1_loss", self, target, dtype, reduction, [beta]<typename T>() {
    return [b = static_cast<T>(beta)](T x, T y) {
      const T z = std::abs(x - y);
      return z < b ? T(0.5) * z * z / b : z - T(0.5) * b;
    };
  });
}

Tensor smooth_l1_loss_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                               Reduction reduction, double beta) {
  if (beta == 0.0) return native::l1_loss_backward(grad_output, self, target, reduction);
  const ScalarType dtype = regression_dtype("smooth_l1_loss_backward", self, target);
  return pointwise_loss_grad(
      "smooth_l1_loss_backward", grad_output, self, target, dtype, reduction, [beta]<typename T>() {
        return
            [b = static_cast<T>(beta)](T x, T y) { return std::clamp((x - y) / b, T(-1), T(1)); };
      });
}

Tensor huber_loss(const Tensor& self, const Tensor& target, Reduction reduction, double delta) {
  TT_CHECK_VALUE(delta > 0.0, "huber_loss does not support non-positive values for delta, got ",
                 delta);
  const ScalarType dtype = regression_dtype("huber_loss", self, target);
  return pointwise_loss("huber_loss", self, target, dtype, reduction, [delta]<typename T>() {
    return [d = static_cast<T>(delta)](T x, T y) {
      const T z = std::abs(x - y);
      return z < d ? T(0.5) * z * z : d * (z - T(0.5) * d);
    };
  });
}

Tensor huber_loss_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                           Reduction reduction, double delta) {
  const ScalarType dtype = regression_dtype("huber_loss_backward", self, target);
  return pointwise_loss_grad(
      "huber_loss_backward", grad_output, self, target, dtype, reduction, [delta]<typename T>() {
        return [d = static_cast<T>(delta)](T x, T y) { return std::clamp(x - y, -d, d); };
      });
}

namespace {
// BCE on probabilities: PyTorch requires target to have exactly input's floating dtype.
void check_bce_args(std::string_view op, const Tensor& self, const Tensor& target) {
  TT_CHECK_TYPE(self.is_floating_point(), op, ": not implemented for dtype ", self.dtype(),
                " (input must hold probabilities as float32 or float64)");
  TT_CHECK_TYPE(target.dtype() == self.dtype(), op, ": found target of dtype ", target.dtype(),
                " but expected ", self.dtype(), " (the input's dtype; hint: target.to(",
                self.dtype() == kFloat32 ? "tinytorch::kFloat32" : "tinytorch::kFloat64", "))");
}

// Every input value must be a probability; NaN is rejected too.
void check_probabilities(std::string_view op, const Tensor& self) {
  const Tensor x = native::opmath::widen(self).contiguous();
  dispatch_floating_types(x.dtype(), op, [&]<typename T>() {
    const T* p = x.data_ptr<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      TT_CHECK_VALUE(p[i] >= T(0) && p[i] <= T(1), op,
                     ": all elements of input should be between 0 and 1, found ", p[i],
                     " (did you pass logits? use binary_cross_entropy_with_logits)");
    }
  });
}

ScalarType bce_logits_dtype(std::string_view op, const Tensor& self, const Tensor& target) {
  TT_CHECK_TYPE(self.is_floating_point() && target.is_floating_point(), op,
                ": input and target must be float32 or float64, got input ", self.dtype(),
                " and target ", target.dtype(), " (hint: target.to(tinytorch::kFloat32))");
  return result_type(self, target);
}
}  // namespace

Tensor binary_cross_entropy(const Tensor& self, const Tensor& target, Reduction reduction) {
  check_bce_args("binary_cross_entropy", self, target);
  check_same_size("binary_cross_entropy", self, target);
  check_probabilities("binary_cross_entropy", self);
  return pointwise_loss(
      "binary_cross_entropy", self, target, self.dtype(), reduction,
      []<typename T>() { return [](T x, T y) { return binary_cross_entropy_point(x, y); }; });
}

Tensor binary_cross_entropy_backward(const Tensor& grad_output, const Tensor& self,
                                     const Tensor& target, Reduction reduction) {
  check_bce_args("binary_cross_entropy_backward", self, target);
  return pointwise_loss_grad(
      "binary_cross_entropy_backward", grad_output, self, target, self.dtype(), reduction,
      []<typename T>() { return [](T x, T y) { return binary_cross_entropy_grad(x, y); }; });
}

Tensor binary_cross_entropy_with_logits(const Tensor& self, const Tensor& target,
                                        Reduction reduction) {
  const ScalarType dtype = bce_logits_dtype("binary_cross_entropy_with_logits", self, target);
  return pointwise_loss(
      "binary_cross_entropy_with_logits", self, target, dtype, reduction, []<typename T>() {
        return [](T x, T y) { return binary_cross_entropy_with_logits_point(x, y); };
      });
}

Tensor binary_cross_entropy_with_logits_backward(const Tensor& grad_output, const Tensor& self,
                                                 const Tensor& target, Reduction reduction) {
  const ScalarType dtype =
      bce_logits_dtype("binary_cross_entropy_with_logits_backward", self, target);
  return pointwise_loss_grad("binary_cross_entropy_with_logits_backward", grad_output, self, target,
                             dtype, reduction, []<typename T>() {
                               return [](T x, T y) {
                                 return binary_cross_entropy_with_logits_grad(x, y);
                               };
                             });
}

Tensor nll_loss(const Tensor& self, const Tensor& target, Reduction reduction,
                int64_t ignore_index) {
  check_reduction("nll_loss", reduction);
  check_nll_args("nll_loss", self, target, ignore_index);
  if (native::opmath::is_reduced(self)) {
    return native::opmath::compute(self.dtype(), nll_loss, self, target, reduction, ignore_index);
  }
  const Tensor x = self.contiguous(), t = target.contiguous();
  const int64_t C = self.size(-1), N = t.numel();
  Tensor out =
      reduction == Reduction::None ? empty(target.sizes(), self.dtype()) : empty({}, self.dtype());
  dispatch_floating_types(self.dtype(), "nll_loss", [&]<typename T>() {
    nll_loss_kernel(x.data_ptr<T>(), t.data_ptr<int64_t>(), N, C, reduction, ignore_index,
                    out.data_ptr<T>());
  });
  return out;
}

Tensor nll_loss_class_weights(std::string_view op, const Tensor& self, const Tensor& target,
                              const Tensor& weight, int64_t ignore_index) {
  check_nll_args(op, self, target, ignore_index);
  const int64_t C = self.size(-1);
  TT_CHECK_VALUE(weight.dim() == 1 && weight.size(0) == C, op,
                 ": weight must hold one value per class, shape [", C, "], but got shape ",
                 weight.sizes());
  TT_CHECK_TYPE(weight.dtype() == self.dtype(), op, ": expected weight of dtype ", self.dtype(),
                " (the input's) but got ", weight.dtype());
  TT_CHECK_WITH(NotImplementedError, !(weight.requires_grad() && GradMode::is_enabled()), op,
                ": the derivative for 'weight' is not implemented (as in PyTorch); pass "
                "weight.detach()");
  if (native::opmath::is_reduced(self)) {
    return native::opmath::compute(self.dtype(), nll_loss_class_weights, op, self, target, weight,
                                   ignore_index);
  }
  const Tensor t = target.contiguous(), w = weight.contiguous();
  Tensor out = empty(target.sizes(), self.dtype());
  dispatch_floating_types(self.dtype(), op, [&]<typename T>() {
    const int64_t* tp = t.data_ptr<int64_t>();
    const T* wp = w.data_ptr<T>();
    T* o = out.data_ptr<T>();
    // check_nll_args proved every target is a class index or ignore_index.
    for (int64_t i = 0; i < t.numel(); ++i) o[i] = tp[i] == ignore_index ? T(0) : wp[tp[i]];
  });
  return out;
}

Tensor nll_loss_backward(const Tensor& grad_output, const Tensor& self, const Tensor& target,
                         Reduction reduction, int64_t ignore_index) {
  check_reduction("nll_loss_backward", reduction);
  check_nll_args("nll_loss_backward", self, target, ignore_index);
  check_grad_output("nll_loss_backward", grad_output, target.sizes(), reduction);
  if (native::opmath::is_reduced(self)) {
    return native::opmath::compute(self.dtype(), nll_loss_backward, grad_output, self, target,
                                   reduction, ignore_index);
  }
  const Tensor t = target.contiguous();
  const Tensor g = grad_output.to(self.dtype()).contiguous();
  const int64_t C = self.size(-1), N = t.numel();
  // The zeros of the [N, C] gradient (all but N of its entries) are written by the threads: the
  // logits' gradient is as large as the logits (2 MiB for a character-level GPT's 8192 × 65), and
  // one thread filling it was most of cross_entropy's backward besides log_softmax's.
  Tensor grad_in = empty(self.sizes(), self.dtype());
  dispatch_floating_types(self.dtype(), "nll_loss_backward", [&]<typename T>() {
    T* gi = grad_in.data_ptr<T>();
    parallel_for(0, grad_in.numel(), kGrain,
                 [&](int64_t b, int64_t e) { std::fill(gi + b, gi + e, T(0)); });
    nll_loss_backward_kernel(g.data_ptr<T>(), t.data_ptr<int64_t>(), N, C, reduction, ignore_index,
                             gi);
  });
  return grad_in;
}

std::pair<Tensor, Tensor> classes_last_2d(std::string_view op, const Tensor& input,
                                          const Tensor& target) {
  const int64_t nd = input.dim();
  // The target's expected shape: the input's without its class dim 1.
  std::vector<int64_t> expected{input.size(0)};
  for (int64_t d = 2; d < nd; ++d) expected.push_back(input.size(d));
  TT_CHECK_VALUE(target.sizes() == IntArrayRef(expected), op, ": expected target size ",
                 IntArrayRef(expected), " (the input ", input.sizes(), " without its class dim 1)",
                 ", got ", target.sizes());
  // [N, C, d1, ..., dk] → [N, d1, ..., dk, C] → [N·d1·…·dk, C] (rows explicit: -1 can't be
  // inferred next to a 0-sized dim).
  std::vector<int64_t> perm{0};
  for (int64_t d = 2; d < nd; ++d) perm.push_back(d);
  perm.push_back(1);
  const int64_t rows = target.numel();
  return {input.permute(perm).reshape({rows, input.size(1)}), target.reshape({rows})};
}

}  // namespace native

// ── the public cross_entropy (given: the checks; yours: cross_entropy_composite) ─────────────

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                     Reduction reduction, int64_t ignore_index, double label_smoothing) {
  TT_AUTOCAST(cross_entropy, input, target, weight, reduction, ignore_index, label_smoothing);
  check_reduction("cross_entropy", reduction);
  if (input.dim() > 2) {  // [N, C, d1, ...]: one class score vector per position
    const auto [rows, row_targets] = native::classes_last_2d("cross_entropy", input, target);
    const Tensor loss =
        cross_entropy(rows, row_targets, weight, reduction, ignore_index, label_smoothing);
    return reduction == Reduction::None ? loss.reshape(target.sizes()) : loss;
  }
  TT_CHECK_VALUE(
      label_smoothing >= 0.0 && label_smoothing <= 1.0,
      "cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: ", label_smoothing);
  check_nll_args("cross_entropy", input, target, ignore_index);
  if (weight.defined()) {  // checks the weight's shape and dtype
    (void)native::nll_loss_class_weights("cross_entropy", input, target, weight, ignore_index);
  }
  // A composite of public ops: one profiler event around them, as PyTorch's profiler shows it.
  const profiler::RecordFunction event("aten::cross_entropy_loss");
  return cross_entropy_composite(input, target, weight, reduction, ignore_index, label_smoothing);
}

}  // namespace tinytorch
