// tinytorch/nn/utils/low_rank.h — low-rank factorisation of a Linear through the SVD (module 16).
//
//   nn::Sequential fc_r = nn::utils::low_rank_linear(fc, /*rank=*/32);
//
//   x [*, in] ─► Linear(in → r, no bias) ─► Linear(r → out, bias) ─► y [*, out]
//                  weight = V_rᵀ [r, in]      weight = U_r·Σ_r [out, r], bias = fc.bias
//
//   W [out, in] ≈ U_r Σ_r V_rᵀ          parameters  out·in  →  r·(in + out)
//                                       FLOPs/row   2·out·in →  2·r·(in + out)
// A saving only when r < out·in / (in + out); by Eckart–Young the dropped energy is
// ‖W − W_r‖_F² = Σ_{i>r} σ_i², the least any rank-r matrix can lose.
#pragma once

#include <cstdint>

#include "tinytorch/linalg/svd.h"
#include "tinytorch/nn/modules/container.h"
#include "tinytorch/nn/modules/linear.h"

namespace tinytorch::nn::utils {

// The two-layer factorisation of `linear` at rank r (1 ≤ r ≤ min(in, out)), in its dtype.
Sequential low_rank_linear(const Linear& linear, int64_t rank);
// The same from an SVD of linear->weight computed once (to try several ranks).
Sequential low_rank_linear(const Linear& linear, const linalg::SVDResult& svd, int64_t rank);

}  // namespace tinytorch::nn::utils
