// Adagrad (module 06): options, and the fused update kernel.
#include "tinytorch/optim/adagrad.h"

#include <cmath>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/parallel.h"

namespace tinytorch::optim {

AdagradOptions::AdagradOptions(double lr) : lr_(lr) {}

void AdagradOptions::validate() const {
  TT_CHECK_VALUE(lr_ >= 0.0, "Invalid learning rate: ", lr_);
  TT_CHECK_VALUE(lr_decay_ >= 0.0, "Invalid lr_decay value: ", lr_decay_);
  TT_CHECK_VALUE(weight_decay_ >= 0.0, "Invalid weight_decay value: ", weight_decay_);
  TT_CHECK_VALUE(initial_accumulator_value_ >= 0.0,
                 "Invalid initial_accumulator_value value: ", initial_accumulator_value_);
  TT_CHECK_VALUE(eps_ >= 0.0, "Invalid epsilon value: ", eps_);
}

Adagrad::Adagrad(std::vector<OptimizerParamGroup> param_groups, AdagradOptions defaults)
    : Optimizer("Adagrad", std::move(param_groups), std::make_unique<AdagradOptions>(defaults)) {}

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions defaults)
    : Adagrad(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}

std::unique_ptr<OptimizerParamState> Adagrad::make_state() const {
  return std::make_unique<AdagradParamState>();
}

namespace {

template <typename T>
struct AdagradArgs {
  T* param;
  const T* grad;
  T* sum;
  double clr, eps, weight_decay;
};

// NOTE: given (chapter 06 teaches SGD, Adam and RMSprop; Adagrad is library code, not a learner
// region). Updates elements [begin, end) in one pass, in PyTorch's order of operations
// (sum.addcmul_, std = sum.sqrt() + eps, param.addcdiv_(g, std, −clr)).
template <typename T, bool kWeightDecay>
TT_TARGET_CLONES_AVX2 void adagrad_update(const AdagradArgs<T>& a, int64_t begin, int64_t end) {
  const T neg_clr = static_cast<T>(-a.clr), eps = static_cast<T>(a.eps);
  const T weight_decay = static_cast<T>(a.weight_decay);
  T* __restrict param = a.param;
  const T* __restrict grad = a.grad;
  T* __restrict sum = a.sum;
  TT_PRAGMA_OMP_SIMD
  for (int64_t i = begin; i < end; ++i) {
    T g = grad[i];
    if constexpr (kWeightDecay) g = g + weight_decay * param[i];
    sum[i] = sum[i] + g * g;
    param[i] = param[i] + neg_clr * g / (std::sqrt(sum[i]) + eps);
  }
}

}  // namespace

void Adagrad::update(Tensor& param, const Tensor& grad, OptimizerParamState& state_base,
                     const OptimizerOptions& options_base) {
  const auto& options = static_cast<const AdagradOptions&>(options_base);
  auto& state = static_cast<AdagradParamState&>(state_base);
  if (!state.sum.defined()) {
    state.sum = full(param.sizes(), options.initial_accumulator_value(), param.dtype());
  }
  // The step-decayed learning rate, in double as PyTorch computes it from the Python floats.
  const double clr = options.lr() / (1 + static_cast<double>(state.step - 1) * options.lr_decay());
  dispatch_floating_types(param.dtype(), "Adagrad.step", [&]<typename T>() {
    const AdagradArgs<T> args{param.data_ptr<T>(),     grad.data_ptr<T>(),
                              state.sum.data_ptr<T>(), clr,
                              options.eps(),           options.weight_decay()};
    detail::dispatch_flags(
        [&]<bool kWeightDecay>() {
          parallel_for(0, param.numel(), detail::kUpdateGrainSize, [&](int64_t begin, int64_t end) {
            adagrad_update<T, kWeightDecay>(args, begin, end);
          });
        },
        options.weight_decay() != 0);
  });
}

}  // namespace tinytorch::optim
