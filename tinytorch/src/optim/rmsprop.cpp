// RMSprop (module 06): options, and the fused update kernel.
#include "tinytorch/optim/rmsprop.h"

#include <cmath>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/parallel.h"

namespace tinytorch::optim {

RMSpropOptions::RMSpropOptions(double lr) : lr_(lr) {}

void RMSpropOptions::validate() const {
  TT_CHECK_VALUE(lr_ >= 0.0, "Invalid learning rate: ", lr_);
  TT_CHECK_VALUE(eps_ >= 0.0, "Invalid epsilon value: ", eps_);
  TT_CHECK_VALUE(momentum_ >= 0.0, "Invalid momentum value: ", momentum_);
  TT_CHECK_VALUE(weight_decay_ >= 0.0, "Invalid weight_decay value: ", weight_decay_);
  TT_CHECK_VALUE(alpha_ >= 0.0, "Invalid alpha value: ", alpha_);
}

RMSprop::RMSprop(std::vector<OptimizerParamGroup> param_groups, RMSpropOptions defaults)
    : Optimizer("RMSprop", std::move(param_groups), std::make_unique<RMSpropOptions>(defaults)) {}

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions defaults)
    : RMSprop(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}

std::unique_ptr<OptimizerParamState> RMSprop::make_state() const {
  return std::make_unique<RMSpropParamState>();
}

namespace {

template <typename T>
struct RMSpropArgs {
  T* param;
  const T* grad;
  T* square_avg;
  T* momentum_buffer;  // nullptr unless momentum > 0
  T* grad_avg;         // nullptr unless centered
  double lr, alpha, eps, weight_decay, momentum;
};

// Updates elements [begin, end) in one pass, in PyTorch's order of operations.
//   kWeightDecay  weight_decay ≠ 0
//   kCentered     a grad_avg buffer exists: divide by the standard deviation, not the RMS
//   kMomentum     momentum > 0: a momentum buffer exists
template <typename T, bool kWeightDecay, bool kCentered, bool kMomentum>
TT_TARGET_CLONES_AVX2 void rmsprop_update(const RMSpropArgs<T>& a, int64_t begin, int64_t end) {
  // BEGIN SOLUTION
  const T neg_lr = static_cast<T>(-a.lr), alpha = static_cast<T>(a.alpha);
  const T one_minus_alpha = static_cast<T>(1.0 - a.alpha);
  const T eps = static_cast<T>(a.eps), weight_decay = static_cast<T>(a.weight_decay);
  const T momentum = static_cast<T>(a.momentum);
  T* __restrict param = a.param;
  const T* __restrict grad = a.grad;
  T* __restrict square_avg = a.square_avg;
  T* __restrict buf = a.momentum_buffer;
  T* __restrict grad_avg = a.grad_avg;
  TT_PRAGMA_OMP_SIMD
  for (int64_t i = begin; i < end; ++i) {
    T g = grad[i];
    if constexpr (kWeightDecay) g = g + weight_decay * param[i];
    square_avg[i] = square_avg[i] * alpha + one_minus_alpha * g * g;
    T avg;
    if constexpr (kCentered) {  // E[g²] − E[g]²: an estimate of the variance of g
      grad_avg[i] = grad_avg[i] * alpha + one_minus_alpha * g;
      avg = std::sqrt(square_avg[i] - grad_avg[i] * grad_avg[i]);
    } else {
      avg = std::sqrt(square_avg[i]);
    }
    avg = avg + eps;
    if constexpr (kMomentum) {
      buf[i] = buf[i] * momentum + g / avg;
      param[i] = param[i] + neg_lr * buf[i];
    } else {
      param[i] = param[i] + neg_lr * g / avg;
    }
  }
  // END SOLUTION
}

}  // namespace

void RMSprop::update(Tensor& param, const Tensor& grad, OptimizerParamState& state_base,
                     const OptimizerOptions& options_base) {
  const auto& options = static_cast<const RMSpropOptions&>(options_base);
  auto& state = static_cast<RMSpropParamState&>(state_base);
  detail::zeros_if_undefined(state.square_avg, param);
  if (options.momentum() > 0) detail::zeros_if_undefined(state.momentum_buffer, param);
  if (options.centered()) detail::zeros_if_undefined(state.grad_avg, param);
  dispatch_floating_types(param.dtype(), "RMSprop.step", [&]<typename T>() {
    const RMSpropArgs<T> args{
        param.data_ptr<T>(),
        grad.data_ptr<T>(),
        state.square_avg.data_ptr<T>(),
        options.momentum() > 0 ? state.momentum_buffer.data_ptr<T>() : nullptr,
        options.centered() ? state.grad_avg.data_ptr<T>() : nullptr,
        options.lr(),
        options.alpha(),
        options.eps(),
        options.weight_decay(),
        options.momentum()};
    detail::dispatch_flags(
        [&]<bool kWeightDecay, bool kCentered, bool kMomentum>() {
          parallel_for(0, param.numel(), detail::kUpdateGrainSize, [&](int64_t begin, int64_t end) {
            rmsprop_update<T, kWeightDecay, kCentered, kMomentum>(args, begin, end);
          });
        },
        options.weight_decay() != 0, options.centered(), options.momentum() > 0);
  });
}

}  // namespace tinytorch::optim
