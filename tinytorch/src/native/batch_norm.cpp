// Module 09 — Batch normalisation: forward (training and eval) and backward, over input [N, C, *].
// The checks and the drivers are given; the four per-channel loops, the running-statistics update
// and the folding of the formulas into per-channel coefficients are yours to write
// (modules/09_spatial/README.md, the BatchNorm parts).
//
// Every channel c is normalised over its M = N·HW values (HW = the product of the spatial dims):
//
//        x [N, C, HW]                    per channel c:
//        ┌──────────── c = 0 ──┐         mean[c]   = Σ x / M
//   n=0  │ x x x x x x x x x x │         var[c]    = Σ (x − mean)² / M        (biased)
//        ├──────────── c = 1 ──┤         invstd[c] = 1 / √(var[c] + eps)
//        │ . . . . . . . . . . │         y = (x − mean)·invstd·γ[c] + β[c]
//   n=1  ├──────────── c = 0 ──┤           = x · scale[c] + shift[c]
//        │ x x x x x x x x x x │             scale = γ·invstd,  shift = β − mean·scale
//        ...
//
// So the forward is two passes: a per-channel REDUCTION (stats) and an element-wise APPLY with two
// numbers per channel. The backward has the same shape — a reduction (Σ gy, Σ gy·(x − mean)) and an
// apply (gx = gy·a + x·b + d) — which is exactly how the fast tier splits it (kernels/spatial.h):
// this file's drivers call either tier with the same per-channel coefficients.
//
// The fused BatchNorm + ReLU (native_batch_norm_relu) adds no loop of yours: the fast kernels take
// the ReLU into their passes (kernels/spatial.h), and the reference tier composes your loops with
// a ReLU pass forward and a masking pass backward — the cost the fusion removes.
#include <cmath>
#include <string_view>
#include <type_traits>
#include <vector>

#include "opmath.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/kernels/spatial.h"
#include "tinytorch/native/batch_norm.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

namespace {

// ── Part 1: the four loops (the reference tier of kernels/spatial.h's batch-norm kernels) ─────
// x, gy, y, gx are contiguous [N, C, HW]: element (n, c, i) is at (n·C + c)·HW + i.

// mean[c] = Σ x / M and var[c] = Σ (x − mean[c])² / M, accumulated in double. Two passes: the
// one-pass E[x²] − E[x]² cancels catastrophically when |mean| ≫ std (and can go negative).
template <typename T>
void batch_norm_stats_reference(int64_t N, int64_t C, int64_t HW, const T* x, double* mean,
                                double* var) {
  // BEGIN SOLUTION
  const double M = static_cast<double>(N * HW);
  for (int64_t c = 0; c < C; ++c) {
    double sum = 0;
    for (int64_t n = 0; n < N; ++n) {
      const T* xc = x + (n * C + c) * HW;
      for (int64_t i = 0; i < HW; ++i) sum += static_cast<double>(xc[i]);
    }
    const double mu = sum / M;
    double sq = 0;
    for (int64_t n = 0; n < N; ++n) {
      const T* xc = x + (n * C + c) * HW;
      for (int64_t i = 0; i < HW; ++i) {
        const double d = static_cast<double>(xc[i]) - mu;
        sq += d * d;
      }
    }
    mean[c] = mu;
    var[c] = sq / M;
  }
  // END SOLUTION
}

// y = x · scale[c] + shift[c]
template <typename T>
void batch_norm_apply_reference(int64_t N, int64_t C, int64_t HW, const T* x, const T* scale,
                                const T* shift, T* y) {
  // BEGIN SOLUTION
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = 0; c < C; ++c) {
      const int64_t base = (n * C + c) * HW;
      for (int64_t i = 0; i < HW; ++i) y[base + i] = x[base + i] * scale[c] + shift[c];
    }
  }
  // END SOLUTION
}

// sum_dy[c] = Σ gy and sum_dy_xmu[c] = Σ gy · (x − mean[c]), accumulated in double.
template <typename T>
void batch_norm_backward_reduce_reference(int64_t N, int64_t C, int64_t HW, const T* gy, const T* x,
                                          const double* mean, double* sum_dy, double* sum_dy_xmu) {
  // BEGIN SOLUTION
  for (int64_t c = 0; c < C; ++c) {
    double s = 0, sx = 0;
    for (int64_t n = 0; n < N; ++n) {
      const int64_t base = (n * C + c) * HW;
      for (int64_t i = 0; i < HW; ++i) {
        const double g = static_cast<double>(gy[base + i]);
        s += g;
        sx += g * (static_cast<double>(x[base + i]) - mean[c]);
      }
    }
    sum_dy[c] = s;
    sum_dy_xmu[c] = sx;
  }
  // END SOLUTION
}

// gx = gy · a[c] + x · b[c] + d[c]; with b and d null (eval mode), gx = gy · a[c].
// NOTE: in eval mode x has no term at all — not a term times 0: an inf or NaN input times 0 is
// NaN, and would turn that input's gradient into NaN where the true one is gy·γ·invstd.
template <typename T>
void batch_norm_backward_apply_reference(int64_t N, int64_t C, int64_t HW, const T* gy, const T* x,
                                         const T* a, const T* b, const T* d, T* gx) {
  // BEGIN SOLUTION
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = 0; c < C; ++c) {
      const int64_t base = (n * C + c) * HW;
      if (b == nullptr) {
        for (int64_t i = 0; i < HW; ++i) gx[base + i] = gy[base + i] * a[c];
        continue;
      }
      for (int64_t i = 0; i < HW; ++i)
        gx[base + i] = gy[base + i] * a[c] + x[base + i] * b[c] + d[c];
    }
  }
  // END SOLUTION
}

// ── Part 2: the per-channel formulas ──────────────────────────────────────────────────────────

// The running statistics, updated in place with the batch's (M = N·HW values per channel):
//   running_mean = (1 − momentum)·running_mean + momentum·mean
//   running_var  = (1 − momentum)·running_var  + momentum·var·M/(M − 1)   (UNBIASED: Bessel)
// Either pointer may be null (that statistic is not tracked). M > 1 (checked).
template <typename T>
void update_running_stats(int64_t C, int64_t M, double momentum, const double* mean,
                          const double* var, T* running_mean, T* running_var) {
  // BEGIN SOLUTION
  const double bessel = static_cast<double>(M) / static_cast<double>(M - 1);
  for (int64_t c = 0; c < C; ++c) {
    if (running_mean != nullptr) {
      running_mean[c] = static_cast<T>((1 - momentum) * static_cast<double>(running_mean[c]) +
                                       momentum * mean[c]);
    }
    if (running_var != nullptr) {
      running_var[c] = static_cast<T>((1 - momentum) * static_cast<double>(running_var[c]) +
                                      momentum * var[c] * bessel);
    }
  }
  // END SOLUTION
}

// y = (x − mean)·invstd·γ + β folded into y = x·scale + shift:
//   scale[c] = γ[c]·invstd[c],   shift[c] = β[c] − mean[c]·scale[c]
// weight (γ) and bias (β) may be null: no affine transform (γ = 1, β = 0).
template <typename T>
void fold_forward(int64_t C, const double* mean, const double* invstd, const T* weight,
                  const T* bias, T* scale, T* shift) {
  // BEGIN SOLUTION
  for (int64_t c = 0; c < C; ++c) {
    const double sc = (weight != nullptr ? static_cast<double>(weight[c]) : 1.0) * invstd[c];
    scale[c] = static_cast<T>(sc);
    shift[c] =
        static_cast<T>((bias != nullptr ? static_cast<double>(bias[c]) : 0.0) - mean[c] * sc);
  }
  // END SOLUTION
}

// gx = gy·a[c] + x·b[c] + d[c], from the reductions sum_dy = Σ gy, sum_dy_xmu = Σ gy·(x − mean).
// With x̂ = (x − mean)·invstd (so Σ gy·x̂ = sum_dy_xmu·invstd):
//   training:  gx = γ·invstd/M · (M·gy − Σ gy − x̂·Σ gy·x̂)      (mean and invstd depend on x)
//              ⇒ a = γ·invstd,  k = sum_dy_xmu·invstd²/M,  b = −a·k,  d = a·(k·mean − sum_dy/M)
//   eval:      gx = gy·γ·invstd                                  (the statistics are constants)
//              ⇒ a = γ·invstd,  b = d = 0   (and the driver passes b = d = null to the apply
//                loop: no x term at all)
// weight may be null (γ = 1).
template <typename T>
void fold_backward(int64_t C, int64_t M, bool training, const double* mean, const double* invstd,
                   const T* weight, const double* sum_dy, const double* sum_dy_xmu, T* a, T* b,
                   T* d) {
  // BEGIN SOLUTION
  for (int64_t c = 0; c < C; ++c) {
    const double ac = (weight != nullptr ? static_cast<double>(weight[c]) : 1.0) * invstd[c];
    a[c] = static_cast<T>(ac);
    if (!training) {
      b[c] = d[c] = T(0);
      continue;
    }
    const double k = sum_dy_xmu[c] * invstd[c] * invstd[c] / static_cast<double>(M);
    b[c] = static_cast<T>(-ac * k);
    d[c] = static_cast<T>(ac * (k * mean[c] - sum_dy[c] / static_cast<double>(M)));
  }
  // END SOLUTION
}

// gγ[c] = Σ gy·x̂ = sum_dy_xmu[c]·invstd[c],   gβ[c] = Σ gy = sum_dy[c]. Either output may be null.
template <typename T>
void weight_bias_grads(int64_t C, const double* invstd, const double* sum_dy,
                       const double* sum_dy_xmu, T* grad_weight, T* grad_bias) {
  // BEGIN SOLUTION
  for (int64_t c = 0; c < C; ++c) {
    if (grad_weight != nullptr) grad_weight[c] = static_cast<T>(sum_dy_xmu[c] * invstd[c]);
    if (grad_bias != nullptr) grad_bias[c] = static_cast<T>(sum_dy[c]);
  }
  // END SOLUTION
}

// ── the drivers (given) ───────────────────────────────────────────────────────────────────────

// The data of an optional per-channel tensor (already checked: C elements, the input's dtype), as
// a contiguous copy when needed; null when undefined.
template <typename T>
const T* optional_data(const Tensor& contiguous_or_undefined) {
  return contiguous_or_undefined.defined() ? contiguous_or_undefined.data_ptr<T>() : nullptr;
}
Tensor contiguous_if_defined(const Tensor& t) {
  return t.defined() ? t.contiguous() : Tensor();
}

// A per-channel array from channel c0 on, for a helper called on a block of channels; null stays
// null (an absent weight, bias or running statistic).
template <typename P>
P* from_channel(P* per_channel, int64_t c0) {
  return per_channel != nullptr ? per_channel + c0 : nullptr;
}

// Whether T's batch-norm kernels are the fast tier's (float, registered by module 18), else your
// reference loops.
template <typename T>
bool use_fast_tier(const kernels::SpatialKernels& fast) {
  return std::is_same_v<T, float> && fast.batch_norm_stats != nullptr &&
         fast.batch_norm_apply != nullptr && fast.batch_norm_backward_reduce != nullptr &&
         fast.batch_norm_backward_apply != nullptr;
}

// The fused ReLU's forward in the reference tier: a pass over your apply loop's output.
// NaN passes through, as in relu().
template <typename T>
void relu_in_place(T* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) y[i] = y[i] < T(0) ? T(0) : y[i];
}

// The fused ReLU's backward in the reference tier: gy with zeros where the forward's
// pre-activation x·scale[c] + shift[c] was ≤ 0 (ReLU passed no gradient there).
template <typename T>
Tensor relu_masked_grad(const Tensor& gy, const Tensor& x, int64_t N, int64_t C, int64_t HW,
                        const T* scale, const T* shift) {
  Tensor out = empty(gy.sizes(), gy.dtype());
  const T* g = gy.data_ptr<T>();
  const T* in = x.data_ptr<T>();
  T* o = out.data_ptr<T>();
  for (int64_t plane = 0; plane < N * C; ++plane) {
    const int64_t c = plane % C;
    for (int64_t i = plane * HW; i < (plane + 1) * HW; ++i)
      o[i] = kernels::bn_pre_activation(in[i], scale[c], shift[c]) <= T(0) ? T(0) : g[i];
  }
  return out;
}

// x viewed as [N, C, HW].
struct NCHW {
  int64_t N, C, HW;
};
NCHW flat_dims(const Tensor& input) {
  const int64_t N = input.size(0), C = input.size(1);
  return {N, C, C == 0 || N == 0 ? 0 : input.numel() / (N * C)};
}

void check_batch_norm_args(const Tensor& input, const Tensor& weight, const Tensor& bias,
                           const Tensor& running_mean, const Tensor& running_var, bool training) {
  TT_CHECK(input.dim() >= 2,
           "batch_norm: expected input of shape [N, C, *] (at least 2 dims), "
           "but got ",
           input.sizes());
  TT_CHECK_TYPE(input.is_floating_point(),
                "batch_norm: expected a floating-point input (float32 "
                "or float64), but got ",
                input.dtype());
  const int64_t C = input.size(1);
  const std::pair<const char*, const Tensor*> per_channel[] = {{"running_mean", &running_mean},
                                                               {"running_var", &running_var},
                                                               {"weight", &weight},
                                                               {"bias", &bias}};
  for (const auto& [name, t] : per_channel) {
    if (!t->defined()) continue;
    TT_CHECK(t->numel() == C, "batch_norm: ", name, " should contain ", C, " elements not ",
             t->numel(), " (expected ", t->numel(), " channels, got ", C, ": input of shape ",
             input.sizes(), " is [N, C, *] with C = ", C, ")");
    // PyTorch's one mixed case: a float16/bfloat16 input with float32 parameters and statistics.
    const bool mixed_ok = native::opmath::is_reduced(input) && t->dtype() == kFloat32;
    TT_CHECK_TYPE(t->dtype() == input.dtype() || mixed_ok, "batch_norm: mixed dtype: expected ",
                  name, " to have the input's dtype ", input.dtype(),
                  native::opmath::is_reduced(input) ? " or float32" : "", ", but got ", t->dtype(),
                  " (convert the layer or the input with .to(...))");
  }
  if (!training) {
    TT_CHECK(running_mean.defined() && running_var.defined(),
             "batch_norm: running_mean must be defined in evaluation mode (and running_var: "
             "without running statistics, normalise with the batch's, training = true)");
  } else {
    const NCHW d = flat_dims(input);
    TT_CHECK_VALUE(d.N * d.HW != 1 || input.numel() == 0,
                   "batch_norm: Expected more than 1 value per channel when training, got input "
                   "size ",
                   input.sizes(),
                   " (the variance of one value is 0: use a batch of at least 2, or eval())");
  }
}

// invstd = 1/√(var + eps), by PyTorch's rule (its InvStd): with the batch's statistics, a channel
// whose values are all equal (var = 0) with eps = 0 gets invstd = 0, not 1/√0 = ∞ — its outputs
// are then β and its gradients 0, where ∞ would make them (x − mean)·∞ = 0·∞ = NaN. Eval mode
// divides by the running variance as it is, as PyTorch does.
double inverse_std(double var, double eps, bool training) {
  if (training && var == 0.0 && eps == 0.0) return 0.0;
  return 1.0 / std::sqrt(var + eps);
}

// native_batch_norm, and with `relu` native_batch_norm_relu.
std::tuple<Tensor, Tensor, Tensor> batch_norm_forward(const Tensor& input, const Tensor& weight,
                                                      const Tensor& bias,
                                                      const Tensor& running_mean,
                                                      const Tensor& running_var, bool training,
                                                      double momentum, double eps, bool relu) {
  check_batch_norm_args(input, weight, bias, running_mean, running_var, training);
  if (native::opmath::is_reduced(input)) {
    // Running statistics of the input's dtype are updated through float32 copies, written back
    // rounded once; float32 ones (the mixed case) are updated in place by the float32 call.
    const Tensor rm = native::opmath::widen(running_mean), rv = native::opmath::widen(running_var);
    auto out = native::opmath::compute(
        input.dtype(),
        [&](const Tensor& x, const Tensor& w, const Tensor& b) {
          return batch_norm_forward(x, w, b, rm, rv, training, momentum, eps, relu);
        },
        input, weight, bias);
    for (auto [stat, wide] : {std::pair{running_mean, rm}, std::pair{running_var, rv}}) {
      if (!training || !stat.defined() || wide.is_same(stat)) continue;
      native::copy_(stat, wide);
      stat.storage().bump_version();
    }
    return out;
  }
  // (Plain variables, not a structured binding: Clang 14 cannot capture bindings in lambdas.)
  const NCHW dims = flat_dims(input);
  const int64_t N = dims.N, C = dims.C, HW = dims.HW;
  const Tensor x = input.contiguous();
  Tensor y = empty(input.sizes(), input.dtype());
  Tensor save_mean = zeros({C}, kFloat64), save_invstd = zeros({C}, kFloat64);
  if (input.numel() == 0) return {y, save_mean, save_invstd};  // running stats untouched
  double* mean = save_mean.data_ptr<double>();
  double* invstd = save_invstd.data_ptr<double>();
  const Tensor w = contiguous_if_defined(weight), b = contiguous_if_defined(bias);
  dispatch_floating_types(input.dtype(), "batch_norm", [&]<typename T>() {
    const kernels::SpatialKernels& fast = kernels::fast_kernels().spatial;
    const bool fast_tier = use_fast_tier<T>(fast);
    std::vector<double> var(static_cast<size_t>(C));
    // Training updates the running statistics through contiguous buffers, copied back below if
    // the caller's were strided; eval normalises with them.
    Tensor rm, rv;
    if (training) {
      rm = contiguous_if_defined(running_mean);
      rv = contiguous_if_defined(running_var);
    } else {
      const Tensor rm64 = running_mean.to(kFloat64).contiguous();
      const Tensor rv64 = running_var.to(kFloat64).contiguous();
      for (int64_t c = 0; c < C; ++c) {
        mean[c] = rm64.data_ptr<double>()[c];
        var[static_cast<size_t>(c)] = rv64.data_ptr<double>()[c];
      }
    }
    // Channels [c0, c1), once their statistics are known: the running statistics, invstd, and
    // the apply pass's scale and shift (each a per-channel formula: a block at a time is the same).
    std::vector<T> scale(static_cast<size_t>(C)), shift(static_cast<size_t>(C));
    const T* gamma = optional_data<T>(w);
    const T* beta = optional_data<T>(b);
    T* running_mean_data = rm.defined() ? rm.data_ptr<T>() : nullptr;
    T* running_var_data = rv.defined() ? rv.data_ptr<T>() : nullptr;
    const auto fold = [&](int64_t c0, int64_t c1) {
      if (training) {
        update_running_stats(c1 - c0, N * HW, momentum, mean + c0, var.data() + c0,
                             from_channel(running_mean_data, c0),
                             from_channel(running_var_data, c0));
      }
      for (int64_t c = c0; c < c1; ++c) {
        invstd[c] = inverse_std(var[static_cast<size_t>(c)], eps, training);
      }
      fold_forward(c1 - c0, mean + c0, invstd + c0, from_channel(gamma, c0), from_channel(beta, c0),
                   scale.data() + c0, shift.data() + c0);
    };
    if (fast_tier) {
      if constexpr (std::is_same_v<T, float>) {
        // Fold and apply each block of channels as soon as the kernel has its statistics, while
        // its values are still in cache (kernels::ChannelBlockFn).
        const auto fold_and_apply = [&](int64_t c0, int64_t c1) {
          fold(c0, c1);
          fast.batch_norm_apply(N, C, HW, c0, c1, x.data_ptr<T>(), scale.data(), shift.data(), relu,
                                y.data_ptr<T>());
        };
        if (training) {
          fast.batch_norm_stats(N, C, HW, x.data_ptr<T>(), mean, var.data(), fold_and_apply);
        } else {
          fold_and_apply(0, C);
        }
      }
    } else {
      if (training) batch_norm_stats_reference<T>(N, C, HW, x.data_ptr<T>(), mean, var.data());
      fold(0, C);
      batch_norm_apply_reference<T>(N, C, HW, x.data_ptr<T>(), scale.data(), shift.data(),
                                    y.data_ptr<T>());
      if (relu) relu_in_place(y.data_ptr<T>(), y.numel());
    }
    if (training) {
      for (auto [stat, updated] : {std::pair{running_mean, rm}, std::pair{running_var, rv}}) {
        if (!stat.defined()) continue;
        if (!updated.is_same(stat)) native::copy_(stat, updated);
        stat.storage().bump_version();  // an in-place write, like any other
      }
    }
  });
  return {y, save_mean, save_invstd};
}

// native_batch_norm_backward, and with `relu` native_batch_norm_relu_backward (which needs the
// bias, to recompute the pre-activation).
std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& grad_output,
                                                       const Tensor& input, const Tensor& weight,
                                                       const Tensor& bias, const Tensor& save_mean,
                                                       const Tensor& save_invstd, bool training,
                                                       std::array<bool, 3> output_mask, bool relu) {
  const std::string_view op =
      relu ? "native_batch_norm_relu_backward" : "native_batch_norm_backward";
  TT_CHECK(input.dim() >= 2, op, ": expected input of shape [N, C, *], but got ", input.sizes());
  TT_CHECK(grad_output.sizes() == input.sizes(), op, ": grad_output must have the input's shape ",
           input.sizes(), ", but got ", grad_output.sizes());
  // (Plain variables, not a structured binding: Clang 14 cannot capture bindings in lambdas.)
  const NCHW dims = flat_dims(input);
  const int64_t N = dims.N, C = dims.C, HW = dims.HW;
  TT_CHECK(save_mean.dtype() == kFloat64 && save_invstd.dtype() == kFloat64 &&
               save_mean.numel() == C && save_invstd.numel() == C,
           op, ": save_mean and save_invstd must be the float64 [", C,
           "] tensors native_batch_norm returned");
  if (native::opmath::is_reduced(input)) {
    // The gradients in float32, each rounded once to its own tensor's dtype: gx to the input's,
    // gw and gb to the parameters' (float32 parameters, the mixed case, keep float32 gradients).
    const auto [gx, gw, gb] =
        batch_norm_backward(native::opmath::widen(grad_output), native::opmath::widen(input),
                            native::opmath::widen(weight), native::opmath::widen(bias), save_mean,
                            save_invstd, training, output_mask, relu);
    const ScalarType param = weight.defined() ? weight.dtype() : input.dtype();
    return {native::opmath::round_to(gx, input.dtype()), native::opmath::round_to(gw, param),
            native::opmath::round_to(gb, param)};
  }
  for (const auto& [name, t] : {std::pair{"weight", &weight}, std::pair{"bias", &bias}}) {
    TT_CHECK(!t->defined() || (t->numel() == C && t->dtype() == input.dtype()), op, ": ", name,
             " must hold ", C, " values of dtype ", input.dtype());
  }
  Tensor gx = output_mask[0] ? empty(input.sizes(), input.dtype()) : Tensor();
  Tensor gw = output_mask[1] && weight.defined() ? empty({C}, input.dtype()) : Tensor();
  Tensor gb = output_mask[2] ? empty({C}, input.dtype()) : Tensor();
  const bool need_sums = (gx.defined() && training) || gw.defined() || gb.defined();
  const Tensor x = input.contiguous(), g = grad_output.to(input.dtype()).contiguous();
  const Tensor w = contiguous_if_defined(weight);
  const Tensor mean_t = save_mean.contiguous(), invstd_t = save_invstd.contiguous();
  const double* mean = mean_t.data_ptr<double>();
  const double* invstd = invstd_t.data_ptr<double>();
  const Tensor bias_c = contiguous_if_defined(bias);
  dispatch_floating_types(input.dtype(), op, [&]<typename T>() {
    const kernels::SpatialKernels& fast = kernels::fast_kernels().spatial;
    const bool fast_tier = use_fast_tier<T>(fast);
    // The fused ReLU passed the gradient where the forward's x·scale + shift was > 0: fold scale
    // and shift again, exactly as the forward did. The fast kernels mask gy as they read it; the
    // reference loops get a masked copy.
    std::vector<T> relu_scale, relu_shift;
    Tensor gm = g;
    if (relu) {
      relu_scale.resize(static_cast<size_t>(C));
      relu_shift.resize(static_cast<size_t>(C));
      fold_forward(C, mean, invstd, optional_data<T>(w), optional_data<T>(bias_c),
                   relu_scale.data(), relu_shift.data());
      if (!fast_tier && input.numel() > 0) {
        gm = relu_masked_grad<T>(g, x, N, C, HW, relu_scale.data(), relu_shift.data());
      }
    }
    const T* rs = relu ? relu_scale.data() : nullptr;
    const T* rd = relu ? relu_shift.data() : nullptr;
    std::vector<double> sum_dy(static_cast<size_t>(C), 0.0), sum_dy_xmu(sum_dy);
    // gx's coefficients for channels [c0, c1), once their sums are known. Eval mode: b = d =
    // null, gx = gy·a (no x term, so an inf input keeps a finite gradient).
    std::vector<T> a(static_cast<size_t>(C)), b(a), d(a);
    const T* gamma = optional_data<T>(w);
    const auto fold = [&](int64_t c0, int64_t c1) {
      fold_backward(c1 - c0, N * HW, training, mean + c0, invstd + c0, from_channel(gamma, c0),
                    sum_dy.data() + c0, sum_dy_xmu.data() + c0, a.data() + c0, b.data() + c0,
                    d.data() + c0);
    };
    const T* bp = training ? b.data() : nullptr;
    const T* dp = training ? d.data() : nullptr;
    const bool want_gx = gx.defined() && input.numel() > 0;
    if (fast_tier) {
      if constexpr (std::is_same_v<T, float>) {
        // Fold and apply each block of channels as soon as the kernel has its sums, while gy and
        // x are still in cache (kernels::ChannelBlockFn).
        const auto fold_and_apply = [&](int64_t c0, int64_t c1) {
          fold(c0, c1);
          fast.batch_norm_backward_apply(N, C, HW, c0, c1, g.data_ptr<T>(), x.data_ptr<T>(),
                                         a.data(), bp, dp, rs, rd, gx.data_ptr<T>());
        };
        if (need_sums && input.numel() > 0) {
          fast.batch_norm_backward_reduce(
              N, C, HW, g.data_ptr<T>(), x.data_ptr<T>(), mean, rs, rd, sum_dy.data(),
              sum_dy_xmu.data(),
              want_gx ? kernels::ChannelBlockFn(fold_and_apply) : kernels::ChannelBlockFn());
        } else if (want_gx) {
          fold_and_apply(0, C);
        }
      }
    } else {
      if (need_sums && input.numel() > 0) {
        batch_norm_backward_reduce_reference<T>(N, C, HW, gm.data_ptr<T>(), x.data_ptr<T>(), mean,
                                                sum_dy.data(), sum_dy_xmu.data());
      }
      if (want_gx) {
        fold(0, C);
        batch_norm_backward_apply_reference<T>(N, C, HW, gm.data_ptr<T>(), x.data_ptr<T>(),
                                               a.data(), bp, dp, gx.data_ptr<T>());
      }
    }
    weight_bias_grads(C, invstd, sum_dy.data(), sum_dy_xmu.data(),
                      gw.defined() ? gw.data_ptr<T>() : nullptr,
                      gb.defined() ? gb.data_ptr<T>() : nullptr);
  });
  return {gx, gw, gb};
}

}  // namespace

namespace native {

std::tuple<Tensor, Tensor, Tensor> native_batch_norm(const Tensor& input, const Tensor& weight,
                                                     const Tensor& bias, const Tensor& running_mean,
                                                     const Tensor& running_var, bool training,
                                                     double momentum, double eps) {
  return batch_norm_forward(input, weight, bias, running_mean, running_var, training, momentum, eps,
                            /*relu=*/false);
}

std::tuple<Tensor, Tensor, Tensor> native_batch_norm_relu(const Tensor& input, const Tensor& weight,
                                                          const Tensor& bias,
                                                          const Tensor& running_mean,
                                                          const Tensor& running_var, bool training,
                                                          double momentum, double eps) {
  return batch_norm_forward(input, weight, bias, running_mean, running_var, training, momentum, eps,
                            /*relu=*/true);
}

std::tuple<Tensor, Tensor, Tensor> native_batch_norm_backward(
    const Tensor& grad_output, const Tensor& input, const Tensor& weight, const Tensor& save_mean,
    const Tensor& save_invstd, bool training, std::array<bool, 3> output_mask) {
  return batch_norm_backward(grad_output, input, weight, Tensor(), save_mean, save_invstd, training,
                             output_mask, /*relu=*/false);
}

std::tuple<Tensor, Tensor, Tensor> native_batch_norm_relu_backward(
    const Tensor& grad_output, const Tensor& input, const Tensor& weight, const Tensor& bias,
    const Tensor& save_mean, const Tensor& save_invstd, bool training,
    std::array<bool, 3> output_mask) {
  return batch_norm_backward(grad_output, input, weight, bias, save_mean, save_invstd, training,
                             output_mask, /*relu=*/true);
}

}  // namespace native

}  // namespace tinytorch
