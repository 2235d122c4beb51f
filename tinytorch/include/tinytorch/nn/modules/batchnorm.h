// tinytorch/nn/modules/batchnorm.h — BatchNorm1d and BatchNorm2d, and F::batch_norm (module 09).
//
//   nn::BatchNorm2d bn(16);                     x [N, 16, H, W] ──► y [N, 16, H, W]
//   nn::BatchNorm2d bn(nn::BatchNorm2dOptions(16).momentum(std::nullopt).affine(false));
//
//   ┌────────────── BatchNorm2d(16) ───────────────┐
//   │ parameters  weight [16] = 1   bias [16] = 0  │   (affine = true)
//   │ buffers     running_mean [16] = 0            │   (track_running_stats = true: saved in
//   │             running_var  [16] = 1            │    the state_dict, never trained)
//   │             num_batches_tracked [] int64 = 0 │
//   └──────────────────────────────────────────────┘
//   train(): normalise with the batch's mean/var, and fold them into the running ones:
//            running = (1 − momentum)·running + momentum·batch     (momentum = nullopt: the
//            cumulative average, momentum = 1 / num_batches_tracked)
//   eval():  normalise with the running mean/var (the output of a sample no longer depends on
//            the rest of its batch).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tinytorch/core/scalar_type.h"
#include "tinytorch/nn/functional/spatial.h"
#include "tinytorch/nn/module.h"

namespace tinytorch::nn {

struct BatchNormOptions {
  BatchNormOptions(int64_t num_features)  // NOLINT(google-explicit-constructor)
      : num_features_(num_features) {}
  // C, the channel count (dim 1 of the input).
  TT_ARG(int64_t, num_features);
  // Added to the variance before the square root.
  TT_ARG(double, eps) = 1e-5;
  // The running statistics' update factor; nullopt: a cumulative (equal-weight) average.
  TT_ARG(std::optional<double>, momentum) = 0.1;
  // Whether to learn weight (γ) and bias (β).
  TT_ARG(bool, affine) = true;
  // Whether to keep running statistics (else the batch's are used in eval() too).
  TT_ARG(bool, track_running_stats) = true;
  // The parameters' and statistics' dtype (as LinearOptions::dtype).
  TT_ARG(ScalarType, dtype) = kFloat32;
  // Not in PyTorch's BatchNorm: apply ReLU to the output inside batch norm's own passes
  // (tinytorch::batch_norm_relu), instead of a separate nn::ReLU after it — the values and
  // gradients of BatchNorm2d + ReLU, without ReLU's passes over memory forward and backward.
  // (NVIDIA apex's BatchNorm2d_NHWC(fuse_relu=True) and oneDNN's fuse_norm_relu flag are the
  // same fusion; torch.compile finds it by itself.)
  TT_ARG(bool, fuse_relu) = false;
};
using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

namespace functional {
struct BatchNormFuncOptions {
  TT_ARG(Tensor, weight);
  TT_ARG(Tensor, bias);
  TT_ARG(bool, training) = false;
  // F::batch_norm needs a value (nullopt's cumulative average needs the module's batch count).
  TT_ARG(std::optional<double>, momentum) = 0.1;
  TT_ARG(double, eps) = 1e-5;
  // relu(batch_norm(...)) in batch norm's passes (BatchNormOptions::fuse_relu; not in libtorch).
  TT_ARG(bool, fuse_relu) = false;
};
// libtorch's argument order: the running statistics come before the options.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const BatchNormFuncOptions& options = {});
using tinytorch::batch_norm;
}  // namespace functional

// What BatchNorm1d and BatchNorm2d share; they differ only in the input ranks they accept
// (libtorch's BatchNormImplBase).
class BatchNormImplBase : public Module {
 public:
  // Registers the parameters and buffers the options ask for, then resets them.
  void reset();
  // running_mean = 0, running_var = 1, num_batches_tracked = 0.
  void reset_running_stats();
  // reset_running_stats(), and weight = 1, bias = 0.
  void reset_parameters();
  Tensor forward(const Tensor& input);
  // "16, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true" (", fuse_relu=true"
  // appended when set)
  std::string extra_repr() const override;

  BatchNormOptions options;
  Tensor weight, bias;                                    // undefined when !affine
  Tensor running_mean, running_var, num_batches_tracked;  // undefined when !track_running_stats

 protected:
  BatchNormImplBase(std::string name, const BatchNormOptions& options);
  // Throws unless the input's rank is one this layer accepts.
  virtual void check_input_dim(const Tensor& input) const = 0;
  // The momentum of this forward's running-statistics update. In training (with running stats)
  // it first counts the batch in num_batches_tracked; momentum = nullopt gives 1 / that count.
  double exponential_average_factor();
};

// Over [N, C] (features) or [N, C, L] (sequences).
class BatchNorm1dImpl : public BatchNormImplBase {
 public:
  explicit BatchNorm1dImpl(const BatchNorm1dOptions& options)
      : BatchNormImplBase("BatchNorm1d", options) {}

 protected:
  void check_input_dim(const Tensor& input) const override;
};
TT_MODULE(BatchNorm1d);

// Over [N, C, H, W] (images).
class BatchNorm2dImpl : public BatchNormImplBase {
 public:
  explicit BatchNorm2dImpl(const BatchNorm2dOptions& options)
      : BatchNormImplBase("BatchNorm2d", options) {}

 protected:
  void check_input_dim(const Tensor& input) const override;
};
TT_MODULE(BatchNorm2d);

}  // namespace tinytorch::nn
