// Module 16 — a Linear factorised into two thinner ones by a truncated SVD (given code; the SVD
// itself is the learner's, src/native/svd.cpp).
#include "tinytorch/nn/utils/low_rank.h"

#include <algorithm>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/linalg/svd.h"

namespace tinytorch::nn::utils {

Sequential low_rank_linear(const Linear& linear, int64_t rank) {
  TT_CHECK(!linear.is_empty(), "low_rank_linear: empty Linear");
  return low_rank_linear(linear, linalg::svd(linear->weight.detach().to(kFloat64)), rank);
}

Sequential low_rank_linear(const Linear& linear, const linalg::SVDResult& svd, int64_t rank) {
  TT_CHECK(!linear.is_empty(), "low_rank_linear: empty Linear");
  const int64_t in = linear->options.in_features(), out = linear->options.out_features();
  TT_CHECK_VALUE(rank >= 1 && rank <= std::min(in, out), "low_rank_linear: rank must be in [1, ",
                 std::min(in, out), "] for ", *linear, ", but got ", rank);
  const auto& [U, S, Vh] = svd;
  TT_CHECK_VALUE(U.dim() == 2 && U.size(0) == out && Vh.dim() == 2 && Vh.size(1) == in,
                 "low_rank_linear: the SVD (U ", U.sizes(), ", Vh ", Vh.sizes(),
                 ") is not one of a [", out, ", ", in, "] weight");
  const NoGradGuard no_grad;
  const ScalarType dtype = linear->options.dtype();
  Linear first(LinearOptions(in, rank).bias(false).dtype(dtype));
  Linear second(LinearOptions(rank, out).bias(linear->bias.defined()).dtype(dtype));
  first->weight.copy_(Vh.narrow(0, 0, rank));                            // V_rᵀ   [r, in]
  second->weight.copy_(U.narrow(1, 0, rank).mul(S.narrow(0, 0, rank)));  // U_r·Σ_r [out, r]
  if (linear->bias.defined()) second->bias.copy_(linear->bias);
  return Sequential(first, second);
}

}  // namespace tinytorch::nn::utils
