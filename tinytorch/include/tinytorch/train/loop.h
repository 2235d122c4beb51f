// tinytorch/train/loop.h — the two functions every training loop is made of (module 07): one
// optimisation step on a batch, and an evaluation pass over a loader.
//
//   for (int epoch = 1; epoch <= epochs; ++epoch) {
//     model->train();
//     for (auto& batch : train_loader) {
//       train::StepResult r = train::train_step(forward, loss_fn, optimizer, batch);
//     }
//     train::EvalResult val = train::evaluate(*model, forward, loss_fn, val_loader);
//   }
//   train::EvalResult test = train::evaluate(*model, forward, loss_fn, test_loader);  // once
//
// One training step, and what each line touches:
//
//   optimizer.zero_grad()   grads ─► undefined         (or they would ADD UP across batches)
//   out  = forward(x)       x ─► model ─► out          (records the graph: activations kept)
//   loss = loss_fn(out, y)  out, y ─► scalar
//   loss.backward()         graph ─► every param.grad  (frees the graph and its activations)
//   optimizer.step()        param ─= f(grad, state)    (in place, no graph)
//
// The model's forward and the loss are passed as functions, so these work for any model (a
// Sequential, a custom Module) and any loss: libtorch has no common "forward" base method, and
// PyTorch's training loops are written out by hand — these are those loops, named.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>

#include "tinytorch/core/tensor.h"
#include "tinytorch/data/dataloader.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/optim/optimizer.h"
#include "tinytorch/train/metrics.h"

namespace tinytorch::train {

// The model's forward: input batch → output (e.g. logits [N, C]).
using ForwardFn = std::function<Tensor(const Tensor& input)>;
// The loss: (output, target) → a 0-d tensor, the MEAN over the batch (PyTorch's default).
using LossFn = std::function<Tensor(const Tensor& output, const Tensor& target)>;

// The forward of a module holder (nn::Sequential, a TT_MODULE): forward_of(model)(x) = model(x).
template <typename Holder>
requires nn::detail::is_module_holder_v<Holder> ForwardFn forward_of(const Holder& model) {
  return [model](const Tensor& input) { return model(input); };
}

// Whether (output, target) look like classification: scores [N, C] and int64 labels [N]. The
// training functions then also count correct predictions.
bool is_classification(const Tensor& output, const Tensor& target);

struct StepResult {
  double loss = 0.0;  // the batch's mean loss
  Tensor output;      // the model's output, detached (for metrics; holds no graph)
};

// One optimisation step on one batch: zero_grad → forward → loss → backward → (clip) → step.
// With max_grad_norm > 0, the gradients are clipped to that joint norm before the step
// (nn::utils::clip_grad_norm_ over the optimizer's parameters). The model must be in training
// mode if it has Dropout (the caller sets it once per epoch).
StepResult train_step(const ForwardFn& forward, const LossFn& loss_fn, optim::Optimizer& optimizer,
                      const data::Example<>& batch, double max_grad_norm = 0.0);

struct EvalResult {
  double loss = std::numeric_limits<double>::quiet_NaN();      // sample-weighted mean loss
  double accuracy = std::numeric_limits<double>::quiet_NaN();  // NaN if not classification
  int64_t samples = 0;
};

// The model on every batch of `loader`, in eval mode (Dropout off) and under NoGradGuard (no
// graph: half the memory, faster); the loss is weighted by batch size. Adds the predictions to
// `confusion` when given. The model's training mode is restored afterwards.
EvalResult evaluate(nn::Module& model, const ForwardFn& forward, const LossFn& loss_fn,
                    data::DataLoader& loader, ConfusionMatrix* confusion = nullptr);

}  // namespace tinytorch::train
