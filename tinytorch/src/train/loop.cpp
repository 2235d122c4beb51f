// Module 07 — the training step and the evaluation pass. Learner regions: train_step, evaluate.
#include "tinytorch/train/loop.h"

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/nn/utils/clip_grad.h"

namespace tinytorch::train {

bool is_classification(const Tensor& output, const Tensor& target) {
  return output.dim() == 2 && output.is_floating_point() && target.dtype() == kInt64 &&
         target.dim() == 1 && target.size(0) == output.size(0);
}

StepResult train_step(const ForwardFn& forward, const LossFn& loss_fn, optim::Optimizer& optimizer,
                      const data::Example<>& batch, double max_grad_norm) {
  // BEGIN SOLUTION
  optimizer.zero_grad();
  const Tensor output = forward(batch.data);
  const Tensor loss = loss_fn(output, batch.target);
  TT_CHECK_VALUE(loss.numel() == 1, "train_step: the loss must be a single number, got shape ",
                 loss.sizes(), " (use a mean or sum reduction)");
  loss.backward();
  if (max_grad_norm > 0.0) nn::utils::clip_grad_norm_(optimizer.parameters(), max_grad_norm);
  optimizer.step();
  return {loss.item<double>(), output.detach()};
  // END SOLUTION
}

EvalResult evaluate(nn::Module& model, const ForwardFn& forward, const LossFn& loss_fn,
                    data::DataLoader& loader, ConfusionMatrix* confusion) {
  // BEGIN SOLUTION
  const bool was_training = model.is_training();
  model.eval();
  const NoGradGuard no_grad;
  RunningAverage loss;
  int64_t correct = 0;
  bool classification = true;
  try {
    for (auto& batch : loader) {
      const Tensor output = forward(batch.data);
      const int64_t n = batch.data.size(0);
      loss.update(loss_fn(output, batch.target).item<double>(), n);
      classification = classification && is_classification(output, batch.target);
      if (classification) correct += count_correct(output, batch.target);
      if (confusion != nullptr) confusion->update(output, batch.target);
    }
  } catch (...) {
    model.train(was_training);
    throw;
  }
  model.train(was_training);
  EvalResult result;
  result.samples = loss.count();
  result.loss = loss.mean();
  if (classification && result.samples > 0) {
    result.accuracy = static_cast<double>(correct) / static_cast<double>(result.samples);
  }
  return result;
  // END SOLUTION
}

}  // namespace tinytorch::train
