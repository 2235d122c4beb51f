// Adam and AdamW (module 06): options, and ONE fused update kernel for both — they differ only in
// where weight decay enters.
#include "tinytorch/optim/adam.h"

#include <cmath>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/parallel.h"

namespace tinytorch::optim {

namespace detail {

template <typename Derived>
void AdamOptionsBase<Derived>::validate() const {
  const auto [beta1, beta2] = betas_;
  TT_CHECK_VALUE(lr_ >= 0.0, "Invalid learning rate: ", lr_);
  TT_CHECK_VALUE(eps_ >= 0.0, "Invalid epsilon value: ", eps_);
  TT_CHECK_VALUE(beta1 >= 0.0 && beta1 < 1.0, "Invalid beta parameter at index 0: ", beta1,
                 " (betas must be in [0, 1))");
  TT_CHECK_VALUE(beta2 >= 0.0 && beta2 < 1.0, "Invalid beta parameter at index 1: ", beta2,
                 " (betas must be in [0, 1))");
  TT_CHECK_VALUE(weight_decay_ >= 0.0, "Invalid weight_decay value: ", weight_decay_);
}

template class AdamOptionsBase<AdamOptions>;
template class AdamOptionsBase<AdamWOptions>;

}  // namespace detail

namespace {

// One parameter's update as raw contiguous arrays, with the group's hyper-parameters and the
// parameter's step count t (already incremented for this update).
template <typename T>
struct AdamArgs {
  T* param;
  const T* grad;
  T* exp_avg;
  T* exp_avg_sq;
  T* max_exp_avg_sq;  // nullptr unless amsgrad
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;
};

// Updates elements [begin, end) in one pass: p, g, m, v (and v̂) are each read once and p, m, v
// (and v̂) written once — 7 values (9 with amsgrad) of memory traffic per element, the minimum.
// The step-dependent scalars are computed in double, as PyTorch does in Python, then converted to
// T; the element operations follow PyTorch's order, so float32 results match it to rounding.
//   kDecoupled    AdamW: p ← p·(1 − lr·wd) (multiplying by 1 when wd = 0, as PyTorch does)
//   kWeightDecay  Adam with weight_decay ≠ 0: g ← g + wd·p
//   kAmsgrad      keep and use the running maximum v̂ of v
template <typename T, bool kDecoupled, bool kWeightDecay, bool kAmsgrad>
TT_TARGET_CLONES_AVX2 void adam_update(const AdamArgs<T>& a, int64_t begin, int64_t end) {
  // BEGIN SOLUTION
  const double t = static_cast<double>(a.step);
  const double bias_correction1 = 1.0 - std::pow(a.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(a.beta2, t);
  const T neg_step_size = static_cast<T>(-(a.lr / bias_correction1));
  const T bias_correction2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
  const T beta1 = static_cast<T>(a.beta1), beta2 = static_cast<T>(a.beta2);
  const T one_minus_beta1 = static_cast<T>(1.0 - a.beta1);
  const T one_minus_beta2 = static_cast<T>(1.0 - a.beta2);
  const T eps = static_cast<T>(a.eps), weight_decay = static_cast<T>(a.weight_decay);
  const T decay_factor = static_cast<T>(1.0 - a.lr * a.weight_decay);
  T* __restrict param = a.param;
  const T* __restrict grad = a.grad;
  T* __restrict m = a.exp_avg;
  T* __restrict v = a.exp_avg_sq;
  T* __restrict v_max = a.max_exp_avg_sq;
  TT_PRAGMA_OMP_SIMD
  for (int64_t i = begin; i < end; ++i) {
    T p = param[i];
    T g = grad[i];
    if constexpr (kDecoupled) p = p * decay_factor;        // AdamW: shrink p directly
    if constexpr (kWeightDecay) g = g + weight_decay * p;  // Adam: the L2 penalty's gradient
    m[i] = m[i] * beta1 + one_minus_beta1 * g;
    v[i] = v[i] * beta2 + one_minus_beta2 * g * g;
    T v_hat = v[i];
    if constexpr (kAmsgrad) {
      v_hat = v_max[i] > v_hat ? v_max[i] : v_hat;  // the running max (a NaN in v propagates)
      v_max[i] = v_hat;
    }
    const T denom = std::sqrt(v_hat) / bias_correction2_sqrt + eps;
    param[i] = p + neg_step_size * m[i] / denom;
  }
  // END SOLUTION
}

}  // namespace

namespace detail {

template <typename Options, bool kDecoupled>
AdamBase<Options, kDecoupled>::AdamBase(std::vector<OptimizerParamGroup> param_groups,
                                        Options defaults)
    : Optimizer(kDecoupled ? "AdamW" : "Adam", std::move(param_groups),
                std::make_unique<Options>(defaults)) {}

template <typename Options, bool kDecoupled>
AdamBase<Options, kDecoupled>::AdamBase(std::vector<Tensor> params, Options defaults)
    : AdamBase(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {
}

template <typename Options, bool kDecoupled>
std::unique_ptr<OptimizerParamState> AdamBase<Options, kDecoupled>::make_state() const {
  return std::make_unique<AdamParamState>();
}

template <typename Options, bool kDecoupled>
void AdamBase<Options, kDecoupled>::update(Tensor& param, const Tensor& grad,
                                           OptimizerParamState& state_base,
                                           const OptimizerOptions& options_base) {
  const auto& options = static_cast<const Options&>(options_base);
  auto& state = static_cast<AdamParamState&>(state_base);
  zeros_if_undefined(state.exp_avg, param);
  zeros_if_undefined(state.exp_avg_sq, param);
  if (options.amsgrad()) zeros_if_undefined(state.max_exp_avg_sq, param);
  dispatch_floating_types(param.dtype(), name(), [&]<typename T>() {
    const auto [beta1, beta2] = options.betas();
    const AdamArgs<T> args{
        param.data_ptr<T>(),
        grad.data_ptr<T>(),
        state.exp_avg.template data_ptr<T>(),
        state.exp_avg_sq.template data_ptr<T>(),
        options.amsgrad() ? state.max_exp_avg_sq.template data_ptr<T>() : nullptr,
        options.lr(),
        beta1,
        beta2,
        options.eps(),
        options.weight_decay(),
        state.step};
    dispatch_flags(
        [&]<bool kWeightDecay, bool kAmsgrad>() {
          parallel_for(0, param.numel(), kUpdateGrainSize, [&](int64_t begin, int64_t end) {
            adam_update<T, kDecoupled, kWeightDecay, kAmsgrad>(args, begin, end);
          });
        },
        !kDecoupled && options.weight_decay() != 0, options.amsgrad());
  });
}

template class AdamBase<AdamOptions, false>;
template class AdamBase<AdamWOptions, true>;

}  // namespace detail

}  // namespace tinytorch::optim
