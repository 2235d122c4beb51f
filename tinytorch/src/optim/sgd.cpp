// SGD (module 06): options, and the fused update kernel — one pass over memory per parameter.
#include "tinytorch/optim/sgd.h"

#include "tinytorch/core/exception.h"
#include "tinytorch/core/parallel.h"

namespace tinytorch::optim {

SGDOptions::SGDOptions(double lr) : lr_(lr) {}

void SGDOptions::validate() const {
  TT_CHECK_VALUE(lr_ >= 0.0, "Invalid learning rate: ", lr_);
  TT_CHECK_VALUE(momentum_ >= 0.0, "Invalid momentum value: ", momentum_);
  TT_CHECK_VALUE(weight_decay_ >= 0.0, "Invalid weight_decay value: ", weight_decay_);
  TT_CHECK_VALUE(!nesterov_ || (momentum_ > 0.0 && dampening_ == 0.0),
                 "Nesterov momentum requires a momentum and zero dampening (got momentum ",
                 momentum_, ", dampening ", dampening_, ")");
}

SGD::SGD(std::vector<OptimizerParamGroup> param_groups, SGDOptions defaults)
    : Optimizer("SGD", std::move(param_groups), std::make_unique<SGDOptions>(defaults)) {}

SGD::SGD(std::vector<Tensor> params, SGDOptions defaults)
    : SGD(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}

std::unique_ptr<OptimizerParamState> SGD::make_state() const {
  return std::make_unique<SGDParamState>();
}

namespace {

// One parameter's update, as raw contiguous arrays (the parameter, its gradient, the momentum
// buffer) and the group's hyper-parameters.
template <typename T>
struct SGDArgs {
  T* param;
  const T* grad;
  T* momentum_buffer;  // nullptr when momentum == 0
  double lr, momentum, dampening, weight_decay;
};

// Updates elements [begin, end): the whole rule in one loop, so each element of the parameter,
// gradient and buffer is read once and written once (PyTorch's single-tensor path runs one
// tensor op per line of the rule, each a pass through all of memory). Scalars are converted to T
// first, as PyTorch does when a Python float meets a float32 tensor, and the operations happen in
// PyTorch's order, so float32 results match it to rounding.
//   kMomentum     momentum ≠ 0: a momentum buffer exists
//   kNesterov     Nesterov momentum
//   kWeightDecay  weight_decay ≠ 0
//   kFirstStep    the buffer has no history yet: it starts as the gradient itself
template <typename T, bool kMomentum, bool kNesterov, bool kWeightDecay, bool kFirstStep>
TT_TARGET_CLONES_AVX2 void sgd_update(const SGDArgs<T>& a, int64_t begin, int64_t end) {
  // BEGIN SOLUTION
  // Local copies: the compiler cannot keep a.lr in a register if a store to a.param[i] might
  // change it (both are T in memory); locals and __restrict make the iterations independent.
  T* __restrict param = a.param;
  const T* __restrict grad = a.grad;
  T* __restrict buf = a.momentum_buffer;
  const T lr = static_cast<T>(a.lr), momentum = static_cast<T>(a.momentum);
  const T one_minus_dampening = static_cast<T>(1.0 - a.dampening);
  const T weight_decay = static_cast<T>(a.weight_decay);
  TT_PRAGMA_OMP_SIMD
  for (int64_t i = begin; i < end; ++i) {
    T d = grad[i];
    if constexpr (kWeightDecay) d = d + weight_decay * param[i];  // ∇ of the L2 term ½·wd·‖p‖²
    if constexpr (kMomentum) {
      if constexpr (kFirstStep) {
        buf[i] = d;
      } else {
        buf[i] = buf[i] * momentum + one_minus_dampening * d;
      }
      if constexpr (kNesterov) {
        d = d + momentum * buf[i];  // look ahead along the new velocity
      } else {
        d = buf[i];
      }
    }
    param[i] = param[i] - lr * d;
  }
  // END SOLUTION
}

}  // namespace

void SGD::update(Tensor& param, const Tensor& grad, OptimizerParamState& state_base,
                 const OptimizerOptions& options_base) {
  const auto& options = static_cast<const SGDOptions&>(options_base);
  auto& state = static_cast<SGDParamState&>(state_base);
  const bool momentum = options.momentum() != 0;
  const bool first_step = momentum && !state.momentum_buffer.defined();
  if (first_step) state.momentum_buffer = empty(param.sizes(), param.dtype());
  dispatch_floating_types(param.dtype(), "SGD.step", [&]<typename T>() {
    const SGDArgs<T> args{param.data_ptr<T>(),
                          grad.data_ptr<T>(),
                          momentum ? state.momentum_buffer.data_ptr<T>() : nullptr,
                          options.lr(),
                          options.momentum(),
                          options.dampening(),
                          options.weight_decay()};
    detail::dispatch_flags(
        [&]<bool kMomentum, bool kNesterov, bool kWeightDecay, bool kFirstStep>() {
          parallel_for(0, param.numel(), detail::kUpdateGrainSize, [&](int64_t begin, int64_t end) {
            sgd_update<T, kMomentum, kNesterov, kWeightDecay, kFirstStep>(args, begin, end);
          });
        },
        momentum, momentum && options.nesterov(), options.weight_decay() != 0, first_step);
  });
}

}  // namespace tinytorch::optim
