// Module 16 — nn::functional::kl_div's reductions and the distillation loss, composed from the
// differentiable kl_div and cross_entropy (given code).
#include "tinytorch/nn/functional/distillation.h"

#include "tinytorch/core/exception.h"

namespace tinytorch::nn::functional {

Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivFuncOptions& options) {
  switch (options.reduction()) {
    case KLDivReduction::None:
      return tinytorch::kl_div(input, target, Reduction::None, options.log_target());
    case KLDivReduction::Sum:
      return tinytorch::kl_div(input, target, Reduction::Sum, options.log_target());
    case KLDivReduction::Mean:
      return tinytorch::kl_div(input, target, Reduction::Mean, options.log_target());
    case KLDivReduction::BatchMean: {
      // PyTorch: the sum divided by input.size(0) (by 1 for a 0-d input).
      const int64_t batch = input.dim() > 0 ? input.size(0) : 1;
      return tinytorch::kl_div(input, target, Reduction::Sum, options.log_target())
          .div(static_cast<double>(batch));
    }
  }
  TT_CHECK(false, "kl_div: unknown reduction");
  return {};
}

Tensor distillation_loss(const Tensor& student_logits, const Tensor& teacher_logits,
                         const Tensor& labels, double temperature, double alpha) {
  TT_CHECK_VALUE(temperature > 0, "distillation_loss: the temperature T must be > 0, but got ",
                 temperature);
  TT_CHECK_VALUE(alpha >= 0 && alpha <= 1, "distillation_loss: alpha must be in [0, 1], but got ",
                 alpha);
  TT_CHECK_VALUE(student_logits.dim() == 2 && student_logits.sizes() == teacher_logits.sizes(),
                 "distillation_loss: expected student and teacher logits of the same shape [N, C], "
                 "but got ",
                 student_logits.sizes(), " and ", teacher_logits.sizes());
  // KL(p_T ‖ q_T) with both as log-probabilities (log_target: no log of a rounded-to-0 p).
  const Tensor log_q = student_logits.div(temperature).log_softmax(1);
  const Tensor log_p = teacher_logits.detach().div(temperature).log_softmax(1);
  const Tensor soft = kl_div(
      log_q, log_p, KLDivFuncOptions().reduction(KLDivReduction::BatchMean).log_target(true));
  const Tensor hard = tinytorch::cross_entropy(student_logits, labels);
  return soft.mul(alpha * temperature * temperature).add(hard.mul(1.0 - alpha));
}

}  // namespace tinytorch::nn::functional
