// tinytorch/linalg/svd.h — the singular value decomposition (module 16), as torch.linalg.svd.
//
//   auto [U, S, Vh] = linalg::svd(W);            // W [m, n] = U · diag(S) · Vh
//
//        W             U            S          Vh
//     [m, n]   =   [m, k]   ·   diag [k]   ·  [k, n]        k = min(m, n)   (full_matrices=False)
//
// U's columns and Vh's rows are orthonormal; S ≥ 0 is sorted in descending order. By the
// Eckart–Young theorem the best rank-r approximation of W (in the Frobenius norm) keeps the first
// r terms, and its squared error is the sum of the dropped S_i²: module 16 turns a Linear into two
// thinner ones with it (nn/utils/low_rank.h).
//
// Algorithm: one-sided Jacobi (Hestenes 1958). It rotates pairs of columns until every pair is
// orthogonal; then the column norms are the singular values. Each sweep over the n(n−1)/2 pairs
// costs O(m·n²); it converges quadratically, in ~6–10 sweeps for the matrices of this course,
// and it is accurate to full relative precision even for tiny singular values (Demmel–Veselić
// 1992) — simpler to get right than Golub–Kahan–Reinsch (bidiagonalisation + implicit-shift QR),
// which is faster (≈ 4mn² + 8n³ flops once) and what LAPACK's gesvd/gesdd use.
#pragma once

#include "tinytorch/core/tensor.h"

namespace tinytorch::linalg {

struct SVDResult {
  Tensor U;   // [m, k]  orthonormal columns
  Tensor S;   // [k]     descending, non-negative
  Tensor Vh;  // [k, n]  orthonormal rows
};

// The reduced SVD of a 2-D floating-point matrix (m or n may be 0). It is computed in float64
// and returned in the input's dtype; full_matrices = true (square U and Vh) is not supported and
// throws. Throws if Jacobi does not converge within 100 sweeps (it does for every finite
// matrix in practice) or if A has a NaN or infinity.
SVDResult svd(const Tensor& A, bool full_matrices = false);

// Only the singular values (torch.linalg.svdvals).
Tensor svdvals(const Tensor& A);

}  // namespace tinytorch::linalg
