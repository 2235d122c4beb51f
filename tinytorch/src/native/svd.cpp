// Module 16 — the SVD by one-sided Jacobi (Hestenes). The driver (checks, transposition of wide
// matrices, sorting, the orthonormal completion of U for zero singular values) is given; the
// sweep of plane rotations is yours (modules/16_compression/README.md, Part 4).
//
// For a tall A [m, n] (m ≥ n) we keep its n columns g_0 … g_{n−1} as the rows of G = Aᵀ (so a
// column is contiguous) and the columns of V as the rows of Vt, starting from the identity:
//
//     A · V = G-columns,   always.   Rotate columns p, q of both until every pair is orthogonal:
//
//       [g_p g_q] ← [g_p g_q] · ⎡ c  s ⎤      chosen so that the new g_p · g_q = 0
//                               ⎣−s  c ⎦
//
// Then A·V has orthogonal columns, σ_j = ‖g_j‖, u_j = g_j / σ_j, and A = U Σ Vᵀ.
#include "tinytorch/linalg/svd.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"

namespace tinytorch::linalg {

namespace {

constexpr int kMaxSweeps = 100;

double dot(const double* a, const double* b, int64_t len) {
  double s = 0;
  for (int64_t i = 0; i < len; ++i) s += a[i] * b[i];
  return s;
}

// One sweep over every pair (p < q) of the n rows of G [n, m] (the columns of A·V), rotating
// the same pair of rows of Vt [n, n]. A pair is rotated only when it is not yet orthogonal to
// working precision: |g_p·g_q| > tol · ‖g_p‖ ‖g_q‖. Returns the number of rotations applied
// (0 means converged: every pair passed the test).
//
//   α = ‖g_p‖², β = ‖g_q‖², γ = g_p·g_q
//   ζ = (β − α) / (2γ),  t = sign(ζ) / (|ζ| + √(1 + ζ²)),  c = 1/√(1 + t²),  s = c·t
//   g_p ← c·g_p − s·g_q,  g_q ← s·g_p + c·g_q    (old values on the right; same for Vt's rows)
int64_t jacobi_sweep(std::vector<double>& G, std::vector<double>& Vt, int64_t n, int64_t m,
                     double tol) {
  // BEGIN SOLUTION
  int64_t rotations = 0;
  for (int64_t p = 0; p + 1 < n; ++p) {
    for (int64_t q = p + 1; q < n; ++q) {
      double* gp = G.data() + p * m;
      double* gq = G.data() + q * m;
      const double alpha = dot(gp, gp, m), beta = dot(gq, gq, m), gamma = dot(gp, gq, m);
      if (!(std::abs(gamma) > tol * std::sqrt(alpha * beta))) continue;
      const double zeta = (beta - alpha) / (2 * gamma);
      const double t = (zeta >= 0 ? 1.0 : -1.0) / (std::abs(zeta) + std::sqrt(1 + zeta * zeta));
      const double c = 1 / std::sqrt(1 + t * t), s = c * t;
      const auto rotate = [c, s](double* x, double* y, int64_t len) {
        for (int64_t i = 0; i < len; ++i) {
          const double xi = x[i], yi = y[i];
          x[i] = c * xi - s * yi;
          y[i] = s * xi + c * yi;
        }
      };
      rotate(gp, gq, m);
      rotate(Vt.data() + p * n, Vt.data() + q * n, n);
      ++rotations;
    }
  }
  return rotations;
  // END SOLUTION
}

// The reduced SVD of a tall (m ≥ n) row-major matrix a [m, n]: u [m, n], s [n], vt [n, n]
// (row j of vt is v_j, i.e. vt is Vh).
void svd_tall(const std::vector<double>& a, int64_t m, int64_t n, std::vector<double>& u,
              std::vector<double>& s, std::vector<double>& vh) {
  std::vector<double> G(static_cast<size_t>(n * m)), Vt(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) G[j * m + i] = a[i * n + j];
  }
  for (int64_t j = 0; j < n; ++j) Vt[j * n + j] = 1.0;
  const double tol = std::numeric_limits<double>::epsilon() * static_cast<double>(m);
  int sweeps = 0;
  while (jacobi_sweep(G, Vt, n, m, tol) > 0) {
    TT_CHECK(++sweeps < kMaxSweeps, "linalg.svd: one-sided Jacobi did not converge in ", kMaxSweeps,
             " sweeps for a matrix of size [", m, ", ", n, "]");
  }
  // σ_j = ‖g_j‖, in descending order.
  std::vector<double> norms(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) norms[j] = std::sqrt(dot(&G[j * m], &G[j * m], m));
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t x, int64_t y) { return norms[x] > norms[y]; });
  const double smax = n > 0 ? norms[order[0]] : 0.0;
  // A column whose norm is at rounding level (or 0) has no reliable direction: its u is
  // completed instead, by Gram–Schmidt of the unit vectors e_0, e_1, … against the u's so far.
  const double negligible = smax * std::numeric_limits<double>::epsilon() * static_cast<double>(m);
  std::vector<double> uc(static_cast<size_t>(n * m), 0.0);  // u's columns as rows [n, m]
  s.assign(static_cast<size_t>(n), 0.0);
  vh.assign(static_cast<size_t>(n * n), 0.0);
  int64_t next_unit = 0;
  for (int64_t k = 0; k < n; ++k) {
    const int64_t j = order[k];
    s[k] = norms[j];
    std::copy_n(&Vt[j * n], n, &vh[k * n]);
    double* col = &uc[k * m];
    if (norms[j] > negligible && norms[j] > 0) {
      for (int64_t i = 0; i < m; ++i) col[i] = G[j * m + i] / norms[j];
      continue;
    }
    for (double len = 0; len < 0.5; ++next_unit) {  // m ≥ n, so a fresh unit vector exists
      TT_CHECK(next_unit < m, "linalg.svd: internal error completing U");
      std::fill_n(col, m, 0.0);
      col[next_unit] = 1.0;
      for (int pass = 0; pass < 2; ++pass) {  // twice is enough (Kahan–Parlett)
        for (int64_t l = 0; l < k; ++l) {
          const double proj = dot(&uc[l * m], col, m);
          for (int64_t i = 0; i < m; ++i) col[i] -= proj * uc[l * m + i];
        }
      }
      len = std::sqrt(dot(col, col, m));
      if (len >= 0.5) {
        for (int64_t i = 0; i < m; ++i) col[i] /= len;
      }
    }
  }
  u.assign(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t k = 0; k < n; ++k) u[i * n + k] = uc[k * m + i];
  }
}

std::vector<double> to_doubles(const Tensor& A) {
  const Tensor a = A.to(kFloat64).contiguous();
  const double* p = a.data_ptr<double>();
  std::vector<double> out(p, p + a.numel());
  for (const double v : out) {
    TT_CHECK_VALUE(std::isfinite(v), "linalg.svd: the input must be finite, but it has ", v);
  }
  return out;
}

Tensor from_doubles(const std::vector<double>& v, IntArrayRef sizes, ScalarType dtype) {
  Tensor t = empty(sizes, kFloat64);
  std::copy(v.begin(), v.end(), t.data_ptr<double>());
  return t.to(dtype);
}

}  // namespace

SVDResult svd(const Tensor& A, bool full_matrices) {
  TT_CHECK(A.defined(), "linalg.svd: the input is an undefined tensor");
  TT_CHECK_VALUE(A.dim() == 2, "linalg.svd: expected a 2-D matrix, but got a ", A.dim(),
                 "-D tensor of size ", A.sizes());
  TT_CHECK_TYPE(is_floating_point(A.dtype()),
                "linalg.svd: expected a floating-point matrix, but got dtype ", A.dtype());
  TT_CHECK_VALUE(!full_matrices,
                 "linalg.svd: full_matrices=true is not supported; pass false (the reduced SVD)");
  const NoGradGuard no_grad;  // the SVD is not differentiable here
  const int64_t m = A.size(0), n = A.size(1), k = std::min(m, n);
  std::vector<double> u, s, vh;
  if (m >= n) {
    svd_tall(to_doubles(A), m, n, u, s, vh);
    return {from_doubles(u, {m, k}, A.dtype()), from_doubles(s, {k}, A.dtype()),
            from_doubles(vh, {k, n}, A.dtype())};
  }
  // Wide: Aᵀ = U' Σ V'ᵀ, so A = V' Σ U'ᵀ — U = V'ᵀᵀ = (Vh')ᵀ and Vh = U'ᵀ.
  svd_tall(to_doubles(A.t()), n, m, u, s, vh);
  return {from_doubles(vh, {k, m}, A.dtype()).t().contiguous(), from_doubles(s, {k}, A.dtype()),
          from_doubles(u, {n, k}, A.dtype()).t().contiguous()};
}

Tensor svdvals(const Tensor& A) {
  return svd(A).S;
}

}  // namespace tinytorch::linalg
