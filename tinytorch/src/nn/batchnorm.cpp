// Module 09 — BatchNorm1d / BatchNorm2d: the parameters and running statistics, the train/eval
// switch and the momentum rule; the arithmetic is tinytorch::batch_norm (src/native/batch_norm.cpp).
#include "tinytorch/nn/modules/batchnorm.h"

#include <string>

#include "tinytorch/autograd/grad_mode.h"

namespace tinytorch::nn {

using detail::python_float_repr;

namespace functional {

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const BatchNormFuncOptions& options) {
  TT_CHECK_VALUE(options.momentum().has_value(),
                 "F::batch_norm: momentum must have a value (momentum = nullopt, the cumulative "
                 "average, needs the batch count that nn::BatchNorm2d keeps)");
  const auto op = options.fuse_relu() ? tinytorch::batch_norm_relu : tinytorch::batch_norm;
  return op(input, options.weight(), options.bias(), running_mean, running_var,
            options.training(), *options.momentum(), options.eps());
}

}  // namespace functional

BatchNormImplBase::BatchNormImplBase(std::string name, const BatchNormOptions& options_)
    : Module(std::move(name)), options(options_) {
  TT_CHECK_VALUE(options.num_features() > 0, this->name(),
                 ": num_features must be positive, but got ", options.num_features());
  TT_CHECK_TYPE(is_floating_point(options.dtype()), this->name(),
                ": the parameters must have a floating-point dtype, but got ", options.dtype());
  reset();
}

void BatchNormImplBase::reset() {
  const int64_t C = options.num_features();
  const ScalarType dtype = options.dtype();
  if (options.affine()) {
    weight = register_parameter("weight", empty({C}, dtype));
    bias = register_parameter("bias", empty({C}, dtype));
  } else {
    weight = register_parameter("weight", Tensor(), /*requires_grad=*/false);
    bias = register_parameter("bias", Tensor(), /*requires_grad=*/false);
  }
  if (options.track_running_stats()) {
    running_mean = register_buffer("running_mean", empty({C}, dtype));
    running_var = register_buffer("running_var", empty({C}, dtype));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
  } else {
    running_mean = register_buffer("running_mean", Tensor());
    running_var = register_buffer("running_var", Tensor());
    num_batches_tracked = register_buffer("num_batches_tracked", Tensor());
  }
  reset_parameters();
}

void BatchNormImplBase::reset_running_stats() {
  if (!options.track_running_stats()) return;
  const NoGradGuard no_grad;
  running_mean.fill_(0.0);
  running_var.fill_(1.0);
  num_batches_tracked.fill_(0);
}

void BatchNormImplBase::reset_parameters() {
  reset_running_stats();
  if (!options.affine()) return;
  const NoGradGuard no_grad;
  weight.fill_(1.0);
  bias.fill_(0.0);
}

Tensor BatchNormImplBase::forward(const Tensor& input) {
  check_input_dim(input);
  const int64_t C = options.num_features();
  TT_CHECK(input.size(1) == C, name(), "(", C, "): expected ", C, " channels, got ", input.size(1),
           " (input of shape ", input.sizes(),
           ", channels in dim 1 — is it channels-last? permute to [N, C, ...])");
  // Batch statistics in training, and in eval too when there are no running ones to use.
  const bool use_batch_stats = is_training() || !running_mean.defined();
  const auto op = options.fuse_relu() ? tinytorch::batch_norm_relu : tinytorch::batch_norm;
  return op(input, weight, bias, running_mean, running_var, use_batch_stats,
            exponential_average_factor(), options.eps());
}

double BatchNormImplBase::exponential_average_factor() {
  // BEGIN SOLUTION
  // PyTorch's _BatchNorm.forward: a training step counts the batch; momentum = nullopt then
  // weights every batch so far equally (batch k gets 1/k: the running values are plain means).
  if (!is_training() || !options.track_running_stats()) return options.momentum().value_or(0.0);
  const NoGradGuard no_grad;
  const int64_t batches = num_batches_tracked.item<int64_t>() + 1;
  num_batches_tracked.fill_(batches);
  return options.momentum() ? *options.momentum() : 1.0 / static_cast<double>(batches);
  // END SOLUTION
}

std::string BatchNormImplBase::extra_repr() const {
  const std::optional<double>& m = options.momentum();
  return std::to_string(options.num_features()) + ", eps=" + python_float_repr(options.eps()) +
         ", momentum=" + (m ? python_float_repr(*m) : std::string("None")) +
         ", affine=" + (options.affine() ? "true" : "false") +
         ", track_running_stats=" + (options.track_running_stats() ? "true" : "false") +
         (options.fuse_relu() ? ", fuse_relu=true" : "");
}

void BatchNorm1dImpl::check_input_dim(const Tensor& input) const {
  TT_CHECK_VALUE(input.dim() == 2 || input.dim() == 3, "BatchNorm1d: expected 2D or 3D input (got ",
                 input.dim(), "D input) — [N, C] or [N, C, L], but the input has shape ",
                 input.sizes());
}

void BatchNorm2dImpl::check_input_dim(const Tensor& input) const {
  TT_CHECK_VALUE(input.dim() == 4, "BatchNorm2d: expected 4D input (got ", input.dim(),
                 "D input) — [N, C, H, W], but the input has shape ", input.sizes(),
                 input.dim() == 3 ? " (one unbatched [C, H, W] image: x.unsqueeze(0))" : "");
}

}  // namespace tinytorch::nn
