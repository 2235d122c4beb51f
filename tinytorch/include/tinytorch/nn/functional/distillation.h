// tinytorch/nn/functional/distillation.h — the KL divergence loss and knowledge distillation
// (module 16).
//
//   namespace F = nn::functional;
//   Tensor kl = F::kl_div(student.log_softmax(1), teacher.log_softmax(1),
//                         F::KLDivFuncOptions().reduction(F::KLDivReduction::BatchMean)
//                                              .log_target(true));
//   Tensor loss = F::distillation_loss(student_logits, teacher_logits, labels, /*T=*/4, /*α=*/0.9);
//
// Distillation (Hinton, Vinyals, Dean 2015): the student matches the teacher's softened
// distribution p_T = softmax(teacher / T) as well as the labels:
//
//   L = α · T² · KL(p_T ‖ softmax(student / T))  +  (1 − α) · cross_entropy(student, labels)
//
// The KL term's gradient with respect to the student logits is (q_T − p_T) / T per sample, so
// without the T² factor its weight would shrink as 1/T² relative to the hard-label term when T
// is raised; T² keeps the two terms' gradients on the same scale whatever T is.
#pragma once

#include "tinytorch/nn/functional.h"
#include "tinytorch/nn/module.h"

namespace tinytorch {

// ATen's kl_div: input = log q, target = p (or log p when log_target); the pointwise loss
// p·(log p − log q) reduced by None / Mean (over ALL elements) / Sum. Same shapes and floating
// dtypes; differentiable in both arguments.
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
              bool log_target = false);

namespace nn::functional {

// torch.nn.functional.kl_div's reductions. BatchMean (Σ / input.size(0)) is the true KL
// divergence per sample; Mean — PyTorch's default, kept here — divides by the number of
// elements, i.e. by batch × classes as well, which PyTorch warns about.
enum class KLDivReduction { None, BatchMean, Sum, Mean };

struct KLDivFuncOptions {
  TT_ARG(KLDivReduction, reduction) = KLDivReduction::Mean;
  TT_ARG(bool, log_target) = false;

 public:
  // libtorch's reduction is one of torch::kNone, kBatchMean, kSum, kMean: the three that every
  // loss takes are Reduction constants here, so they are accepted as such.
  KLDivFuncOptions& reduction(Reduction new_reduction) {
    reduction_ = new_reduction == Reduction::None  ? KLDivReduction::None
                 : new_reduction == Reduction::Sum ? KLDivReduction::Sum
                                                   : KLDivReduction::Mean;
    return *this;
  }
};

Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivFuncOptions& options = {});

// α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) (batchmean) + (1 − α)·cross_entropy(student,
// labels). student/teacher logits [N, C] of one dtype, labels int64 [N]; T > 0, α in [0, 1].
// The teacher gets no gradient (it is detached).
Tensor distillation_loss(const Tensor& student_logits, const Tensor& teacher_logits,
                         const Tensor& labels, double temperature, double alpha);

}  // namespace nn::functional

// libtorch's spelling of the per-sample KL reduction: F::KLDivFuncOptions().reduction(kBatchMean).
inline constexpr nn::functional::KLDivReduction kBatchMean =
    nn::functional::KLDivReduction::BatchMean;
}  // namespace tinytorch
