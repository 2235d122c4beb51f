// Module 13 — Layer normalisation and RMS normalisation: forward and backward, over the trailing
// dims of the input (normalized_shape). The checks and the drivers are given; the four per-row
// loops are yours to write (modules/13_transformers/README.md, the LayerNorm part).
//
// The input is viewed as M rows of N values, N = prod(normalized_shape), and every row — one
// token's feature vector, in a transformer — is normalised on its own:
//
//        x [M, N]   (M = B·T tokens, N = d features)
//        ┌─────────────────────────┐   per row m:
//   m=0  │ x x x x x x x x x x x x │   mean[m] = Σ x / N
//   m=1  │ x x x x x x x x x x x x │   var[m]  = Σ (x − mean)² / N        (biased)
//   ...  │          ...            │   rstd[m] = 1 / √(var + eps)
//        └─────────────────────────┘   y = (x − mean)·rstd·γ + β     (γ, β: one per column)
//
// Unlike BatchNorm (module 09), the statistics are over the FEATURES of one sample, never across
// the batch: no running statistics, the same computation in train() and eval(), and a sample's
// output never depends on the rest of its batch. RMSNorm drops the mean: y = x·rstd·γ with
// rstd = 1 / √(mean(x²) + eps) — one reduction instead of two, and no β.
//
// The GPT of module 13 runs a LayerNorm nine times per step on float32 rows of 128 values, so the
// loops are written to vectorise: the reductions go through lane_sum (8 independent partial sums
// in double) and the element-wise loops have no dependences between iterations. A row of a few
// thousand floats stays in L1, so reading it twice (mean first, then the centred squares — the
// numerically safe way; E[x²] − E[x]² cancels when |mean| ≫ std) costs no memory traffic.
//
// NOTE: GCC compiles this file with -fvect-cost-model=dynamic (tinytorch/CMakeLists.txt): at -O2,
// GCC 12's default "very cheap" model vectorises no loop whose trip count needs a scalar epilogue
// — none of these (measured: the float32 forward was 1.35x slower without it).
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <vector>

#include "opmath.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/native/normalization.h"

namespace tinytorch {

namespace {

// Σ term(i) for i in [0, n), in double with 8 independent partial sums. One accumulator is a
// chain of dependent adds that the compiler may not reorder (floating-point addition is not
// associative); 8 named lanes let it use packed adds, and the lanes' sum differs from the
// sequential one only by rounding.
template <typename Term>
double lane_sum(int64_t n, Term term) {
  // Eight named accumulators, not an array: GCC keeps an array in memory and every add becomes a
  // load-add-store chain (measured on [4096, 128] float32: forward 1.30 ms → 0.51 ms, load 7).
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 += term(i);
    s1 += term(i + 1);
    s2 += term(i + 2);
    s3 += term(i + 3);
    s4 += term(i + 4);
    s5 += term(i + 5);
    s6 += term(i + 6);
    s7 += term(i + 7);
  }
  for (; i < n; ++i) s0 += term(i);
  return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
}

// A per-thread scratch row of N values of T (the backward's g = gy·γ), reused across calls.
template <typename T>
std::vector<T>& row_buffer(int64_t N) {
  thread_local std::vector<T> buffer;
  buffer.resize(static_cast<size_t>(N));
  return buffer;
}

// ── Part 1: LayerNorm ─────────────────────────────────────────────────────────────────────────
// x, y, gy, gx are contiguous [M, N]: row m starts at m·N. weight and bias are [N] or null
// (γ = 1, β = 0). mean and rstd are [M]. Use lane_sum for the reductions; plain loops through
// __restrict pointers for the element-wise work (see the NOTE at the top: they vectorise).

// Per row: mean = Σ x / N, var = Σ (x − mean)² / N (two passes over the row, which is in L1 after
// the first), rstd = 1 / √(var + eps), then y = (x − mean)·rstd·γ + β.
template <typename T>
void layer_norm_forward_rows(int64_t M, int64_t N, const T* x, const T* weight, const T* bias,
                             double eps, T* y, double* mean, double* rstd) {
  // BEGIN SOLUTION
  const double n = static_cast<double>(N);
  for (int64_t m = 0; m < M; ++m) {
    const T* __restrict xr = x + m * N;
    T* __restrict yr = y + m * N;
    const double mu = lane_sum(N, [xr](int64_t i) { return static_cast<double>(xr[i]); }) / n;
    const double var = lane_sum(N,
                                [xr, mu](int64_t i) {
                                  const double d = static_cast<double>(xr[i]) - mu;
                                  return d * d;
                                }) /
                       n;
    const double r = 1.0 / std::sqrt(var + eps);
    mean[m] = mu;
    rstd[m] = r;
    // (x − mean)·rstd = x·scale + shift with scale = rstd, shift = −mean·rstd: one multiply-add
    // per element in T, then the affine transform.
    const T scale = static_cast<T>(r), shift = static_cast<T>(-mu * r);
    const T* __restrict w = weight;
    const T* __restrict b = bias;
    if (w != nullptr && b != nullptr) {  // the common case: one fused loop
      for (int64_t i = 0; i < N; ++i) yr[i] = (xr[i] * scale + shift) * w[i] + b[i];
    } else if (w != nullptr) {
      for (int64_t i = 0; i < N; ++i) yr[i] = (xr[i] * scale + shift) * w[i];
    } else if (b != nullptr) {
      for (int64_t i = 0; i < N; ++i) yr[i] = xr[i] * scale + shift + b[i];
    } else {
      for (int64_t i = 0; i < N; ++i) yr[i] = xr[i] * scale + shift;
    }
  }
  // END SOLUTION
}

// The backward of one row, with x̂ = (x − mean)·rstd and g = gy·γ (see the derivation below):
//   gx = rstd·(g − mean(g) − x̂·mean(g·x̂))
//   gγ += gy·x̂,  gβ += gy          (summed over the rows, in double)
// gx may be null (not wanted); so may grad_weight_acc / grad_bias_acc ([N] double accumulators).
//
// Derivation. y_i = x̂_i·γ_i + β_i, x̂_i = (x_i − μ)·r, μ = Σ_j x_j / N, r = (σ² + eps)^(−1/2),
// σ² = Σ_j (x_j − μ)² / N. Then ∂μ/∂x_i = 1/N, ∂σ²/∂x_i = 2(x_i − μ)/N (the Σ_j (x_j − μ) term
// of the chain rule through μ vanishes), so ∂r/∂x_i = −½ r³ · 2(x_i − μ)/N = −r²·x̂_i/N and
//   ∂x̂_j/∂x_i = r·(δ_ij − 1/N) + (x_j − μ)·∂r/∂x_i = r·(δ_ij − 1/N − x̂_j·x̂_i/N).
// With g_j = ∂L/∂x̂_j = gy_j·γ_j:
//   ∂L/∂x_i = Σ_j g_j ∂x̂_j/∂x_i = r·(g_i − Σ_j g_j / N − x̂_i · Σ_j g_j x̂_j / N).
template <typename T>
void layer_norm_backward_rows(int64_t M, int64_t N, const T* gy, const T* x, const double* mean,
                              const double* rstd, const T* weight, T* gx, double* grad_weight_acc,
                              double* grad_bias_acc) {
  // BEGIN SOLUTION
  const double n = static_cast<double>(N);
  for (int64_t m = 0; m < M; ++m) {
    const T* __restrict xr = x + m * N;
    const T* __restrict gr = gy + m * N;
    const T* __restrict w = weight;
    const double mu = mean[m], r = rstd[m];
    const auto xhat = [xr, mu, r](int64_t i) { return (static_cast<double>(xr[i]) - mu) * r; };
    if (gx != nullptr) {
      // g = gy·γ, materialised once per row in T (w == null: γ = 1).
      std::vector<T>& g = row_buffer<T>(N);
      T* __restrict gp = g.data();
      if (w != nullptr) {
        for (int64_t i = 0; i < N; ++i) gp[i] = gr[i] * w[i];
      } else {
        for (int64_t i = 0; i < N; ++i) gp[i] = gr[i];
      }
      const double mean_g = lane_sum(N, [gp](int64_t i) { return static_cast<double>(gp[i]); }) / n;
      const double mean_gxhat =
          lane_sum(N, [gp, xhat](int64_t i) { return static_cast<double>(gp[i]) * xhat(i); }) / n;
      // gx = r·(g − mean_g − x̂·mean_gxhat) = g·r + x·b + d with b = −r²·mean_gxhat,
      // d = −r·mean_g − mu·b: one multiply-add chain per element in T.
      const double bd = -r * r * mean_gxhat;
      const T a = static_cast<T>(r), b = static_cast<T>(bd),
              d = static_cast<T>(-r * mean_g - mu * bd);
      T* __restrict out = gx + m * N;
      for (int64_t i = 0; i < N; ++i) out[i] = gp[i] * a + xr[i] * b + d;
    }
    if (grad_weight_acc != nullptr) {
      double* __restrict acc = grad_weight_acc;
      for (int64_t i = 0; i < N; ++i) acc[i] += static_cast<double>(gr[i]) * xhat(i);
    }
    if (grad_bias_acc != nullptr) {
      double* __restrict acc = grad_bias_acc;
      for (int64_t i = 0; i < N; ++i) acc[i] += static_cast<double>(gr[i]);
    }
  }
  // END SOLUTION
}

// ── Part 2: RMSNorm ───────────────────────────────────────────────────────────────────────────

// Per row: rstd = 1 / √(Σ x² / N + eps) (lane_sum), then y = x·rstd·γ.
template <typename T>
void rms_norm_forward_rows(int64_t M, int64_t N, const T* x, const T* weight, double eps, T* y,
                           double* rstd) {
  // BEGIN SOLUTION
  for (int64_t m = 0; m < M; ++m) {
    const T* __restrict xr = x + m * N;
    T* __restrict yr = y + m * N;
    const T* __restrict w = weight;
    const double ms = lane_sum(N,
                               [xr](int64_t i) {
                                 const double v = static_cast<double>(xr[i]);
                                 return v * v;
                               }) /
                      static_cast<double>(N);
    const double r = 1.0 / std::sqrt(ms + eps);
    rstd[m] = r;
    const T scale = static_cast<T>(r);
    if (w != nullptr) {
      for (int64_t i = 0; i < N; ++i) yr[i] = xr[i] * scale * w[i];
    } else {
      for (int64_t i = 0; i < N; ++i) yr[i] = xr[i] * scale;
    }
  }
  // END SOLUTION
}

// The backward of one row, with x̂ = x·rstd and g = gy·γ:
//   gx = rstd·(g − x̂·mean(g·x̂)),   gγ += gy·x̂
//
// Derivation. y_i = x̂_i·γ_i, x̂_i = x_i·r, r = (Σ_j x_j² / N + eps)^(−1/2), so
// ∂r/∂x_i = −½ r³ · 2x_i/N = −r²·x̂_i/N and ∂x̂_j/∂x_i = r·δ_ij + x_j·∂r/∂x_i = r·(δ_ij − x̂_j x̂_i/N).
// With g_j = gy_j·γ_j:  ∂L/∂x_i = r·(g_i − x̂_i · Σ_j g_j x̂_j / N) — LayerNorm's formula without
// the mean(g) term, because nothing is subtracted from x.
template <typename T>
void rms_norm_backward_rows(int64_t M, int64_t N, const T* gy, const T* x, const double* rstd,
                            const T* weight, T* gx, double* grad_weight_acc) {
  // BEGIN SOLUTION
  const double n = static_cast<double>(N);
  for (int64_t m = 0; m < M; ++m) {
    const T* __restrict xr = x + m * N;
    const T* __restrict gr = gy + m * N;
    const T* __restrict w = weight;
    const double r = rstd[m];
    const auto xhat = [xr, r](int64_t i) { return static_cast<double>(xr[i]) * r; };
    if (gx != nullptr) {
      std::vector<T>& g = row_buffer<T>(N);
      T* __restrict gp = g.data();
      if (w != nullptr) {
        for (int64_t i = 0; i < N; ++i) gp[i] = gr[i] * w[i];
      } else {
        for (int64_t i = 0; i < N; ++i) gp[i] = gr[i];
      }
      const double mean_gxhat =
          lane_sum(N, [gp, xhat](int64_t i) { return static_cast<double>(gp[i]) * xhat(i); }) / n;
      // gx = r·(g − x̂·mean_gxhat) = g·r + x·b with b = −r²·mean_gxhat.
      const T a = static_cast<T>(r), b = static_cast<T>(-r * r * mean_gxhat);
      T* __restrict out = gx + m * N;
      for (int64_t i = 0; i < N; ++i) out[i] = gp[i] * a + xr[i] * b;
    }
    if (grad_weight_acc != nullptr) {
      double* __restrict acc = grad_weight_acc;
      for (int64_t i = 0; i < N; ++i) acc[i] += static_cast<double>(gr[i]) * xhat(i);
    }
  }
  // END SOLUTION
}

// ── the checks and drivers (given) ────────────────────────────────────────────────────────────

// The input viewed as [M, N].
struct Rows {
  int64_t M, N;
};

// Checks the arguments every norm shares and returns the row view. `op` names the op in errors.
Rows check_norm_args(std::string_view op, const Tensor& input, IntArrayRef normalized_shape,
                     const Tensor& weight, const Tensor& bias) {
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  TT_CHECK_VALUE(k >= 1, op,
                 ": normalized_shape must name at least one trailing dim to normalise over "
                 "(e.g. {d} for [B, T, d]), but got []");
  TT_CHECK_TYPE(input.is_floating_point(), op,
                ": expected a floating-point input (float32 or float64), but got ", input.dtype());
  bool trailing = input.dim() >= k;
  for (int64_t i = 0; trailing && i < k; ++i)
    trailing = input.size(input.dim() - k + i) == normalized_shape[static_cast<size_t>(i)];
  if (!trailing) {
    std::ostringstream expected;
    expected << "[*";
    for (int64_t d : normalized_shape) expected << ", " << d;
    expected << "]";
    TT_CHECK(false, op, ": given normalized_shape=", normalized_shape,
             ", expected input with shape ", expected.str(), ", but got input of size ",
             input.sizes());
  }
  const std::pair<const char*, const Tensor*> affine[] = {{"weight", &weight}, {"bias", &bias}};
  for (const auto& [name, t] : affine) {
    if (!t->defined()) continue;
    TT_CHECK(t->sizes() == normalized_shape, op, ": expected ", name,
             " to have the shape of normalized_shape = ", normalized_shape, ", but got ", name,
             " of shape ", t->sizes());
    TT_CHECK_TYPE(t->dtype() == input.dtype(), op, ": mixed dtype: expected ", name,
                  " to have the input's dtype ", input.dtype(), ", but got ", t->dtype(),
                  " (convert the layer or the input with .to(...))");
  }
  int64_t N = 1;
  for (int64_t d : normalized_shape) N *= d;
  return {N == 0 ? 0 : input.numel() / N, N};
}

void check_backward_args(std::string_view op, const Tensor& grad_output, const Tensor& input,
                         const Tensor& stat, const Rows& rows) {
  TT_CHECK(grad_output.sizes() == input.sizes(), op, ": grad_output must have the input's shape ",
           input.sizes(), ", but got ", grad_output.sizes());
  TT_CHECK(stat.dtype() == kFloat64 && stat.numel() == rows.M, op,
           ": the saved statistics must be the float64 [", rows.M,
           "] tensors the forward returned, but got ", stat.dtype(), " ", stat.sizes());
}

// The row loops a LayerNorm of dtype T runs: module 18's SIMD kernel `fast` for float32 once
// registered (kernels/normalization.h: the same signature, reductions in float), else `rows`, the
// loops above.
template <typename T, typename Rows, typename Fast>
Rows* layer_norm_rows_kernel(Rows* rows, Fast fast) {
  if constexpr (std::is_same_v<T, float>) {
    if (fast != nullptr) return fast;
  }
  return rows;
}

template <typename T>
const T* data_or_null(const Tensor& contiguous_or_undefined) {
  return contiguous_or_undefined.defined() ? contiguous_or_undefined.data_ptr<T>() : nullptr;
}
Tensor contiguous_if_defined(const Tensor& t) {
  return t.defined() ? t.contiguous() : Tensor();
}

// The rows are cut into fixed blocks of kBlockRows, and the blocks run on the thread team:
// block(k, first_row, count). The weight/bias gradients are sums over all rows: each block sums
// its rows into its own partials (row k of a [blocks, N] buffer), and sum_blocks adds those in
// block order on one thread — one pass over the data, and the same bits whatever the thread count
// (the blocks never depend on it).
constexpr int64_t kBlockRows = 64;

int64_t row_blocks(int64_t M) {
  return (M + kBlockRows - 1) / kBlockRows;
}

template <typename Block>
void for_row_blocks(int64_t M, int64_t N, const Block& block) {
  // About 32k values per task: below that, waking a thread costs more than it saves.
  const int64_t grain = std::max<int64_t>(1, 32768 / (kBlockRows * std::max<int64_t>(N, 1)));
  parallel_for(0, row_blocks(M), grain, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k)
      block(k, k * kBlockRows, std::min(kBlockRows, M - k * kBlockRows));
  });
}

// The blocks' partial sums [blocks, N] in double (undefined when not wanted), as a tensor: on the
// fast tier it comes from the caching allocator (a std::vector of [32, 768] took fresh pages, and
// their faults, on every call). Block k zeroes its own row before its kernel adds into it — on
// its own thread, in its cache — so no separate pass clears the buffer.
Tensor block_partials(bool wanted, int64_t M, int64_t N) {
  return wanted ? empty({row_blocks(M), N}, kFloat64) : Tensor();
}
double* zeroed_row(const Tensor& partials, int64_t k, int64_t N) {
  if (!partials.defined()) return nullptr;
  double* row = partials.data_ptr<double>() + k * N;
  std::fill_n(row, N, 0.0);
  return row;
}

// Σ over blocks of partials [blocks, N], in block order, as a tensor of normalized_shape.
Tensor sum_blocks(const Tensor& partials, IntArrayRef normalized_shape, ScalarType dtype) {
  Tensor out = zeros(normalized_shape, kFloat64);
  double* acc = out.data_ptr<double>();
  const int64_t N = out.numel();
  const double* p = partials.data_ptr<double>();
  for (int64_t k = 0; N > 0 && k < partials.size(0); ++k) {
    for (int64_t i = 0; i < N; ++i) acc[i] += p[k * N + i];
  }
  return out.to(dtype);
}

}  // namespace

namespace native {

std::tuple<Tensor, Tensor, Tensor> native_layer_norm(const Tensor& input,
                                                     IntArrayRef normalized_shape,
                                                     const Tensor& weight, const Tensor& bias,
                                                     double eps) {
  const Rows rows = check_norm_args("layer_norm", input, normalized_shape, weight, bias);
  if (opmath::is_reduced(input)) {  // (after the mixed-dtype check: widening would hide it)
    return opmath::compute(input.dtype(), native_layer_norm, input, normalized_shape, weight, bias,
                           eps);
  }
  const int64_t M = rows.M, N = rows.N;
  const Tensor x = input.contiguous();
  const Tensor w = contiguous_if_defined(weight), b = contiguous_if_defined(bias);
  Tensor y = empty(input.sizes(), input.dtype());
  Tensor mean = zeros({M}, kFloat64), rstd = zeros({M}, kFloat64);
  if (input.numel() == 0) return {y, mean, rstd};
  dispatch_floating_types(input.dtype(), "layer_norm", [&]<typename T>() {
    const auto rows_kernel = layer_norm_rows_kernel<T>(
        &layer_norm_forward_rows<T>, kernels::fast_kernels().normalization.layer_norm_forward);
    for_row_blocks(M, N, [&](int64_t, int64_t m, int64_t count) {
      rows_kernel(count, N, x.data_ptr<T>() + m * N, data_or_null<T>(w), data_or_null<T>(b), eps,
                  y.data_ptr<T>() + m * N, mean.data_ptr<double>() + m,
                  rstd.data_ptr<double>() + m);
    });
  });
  return {y, mean, rstd};
}

std::tuple<Tensor, Tensor, Tensor> native_layer_norm_backward(
    const Tensor& grad_output, const Tensor& input, IntArrayRef normalized_shape,
    const Tensor& mean, const Tensor& rstd, const Tensor& weight, const Tensor& bias,
    std::array<bool, 3> output_mask) {
  constexpr std::string_view op = "native_layer_norm_backward";
  const Rows rows = check_norm_args(op, input, normalized_shape, weight, bias);
  check_backward_args(op, grad_output, input, mean, rows);
  check_backward_args(op, grad_output, input, rstd, rows);
  if (opmath::is_reduced(input)) {  // mean and rstd are float64 either way
    return opmath::compute(input.dtype(), native_layer_norm_backward, grad_output, input,
                           normalized_shape, mean, rstd, weight, bias, output_mask);
  }
  const int64_t M = rows.M, N = rows.N;
  const bool want_gx = output_mask[0], want_gw = output_mask[1] && weight.defined(),
             want_gb = output_mask[2] && bias.defined();
  Tensor gx = want_gx ? empty(input.sizes(), input.dtype()) : Tensor();
  // The blocks' partial sums of gγ and gβ: [blocks, N] each.
  const Tensor gw = block_partials(want_gw, M, N), gb = block_partials(want_gb, M, N);
  const Tensor x = input.contiguous(), g = grad_output.to(input.dtype()).contiguous();
  const Tensor w = contiguous_if_defined(weight);
  const Tensor mean_c = mean.contiguous(), rstd_c = rstd.contiguous();
  if (input.numel() > 0) {
    dispatch_floating_types(input.dtype(), op, [&]<typename T>() {
      const auto rows_kernel = layer_norm_rows_kernel<T>(
          &layer_norm_backward_rows<T>, kernels::fast_kernels().normalization.layer_norm_backward);
      for_row_blocks(M, N, [&](int64_t k, int64_t m, int64_t count) {
        rows_kernel(count, N, g.data_ptr<T>() + m * N, x.data_ptr<T>() + m * N,
                    mean_c.data_ptr<double>() + m, rstd_c.data_ptr<double>() + m,
                    data_or_null<T>(w), want_gx ? gx.data_ptr<T>() + m * N : nullptr,
                    zeroed_row(gw, k, N), zeroed_row(gb, k, N));
      });
    });
  }
  return {gx, want_gw ? sum_blocks(gw, normalized_shape, input.dtype()) : Tensor(),
          want_gb ? sum_blocks(gb, normalized_shape, input.dtype()) : Tensor()};
}

std::tuple<Tensor, Tensor> native_rms_norm(const Tensor& input, IntArrayRef normalized_shape,
                                           const Tensor& weight, double eps) {
  const Rows rows = check_norm_args("rms_norm", input, normalized_shape, weight, Tensor());
  if (opmath::is_reduced(input)) {
    return opmath::compute(input.dtype(), native_rms_norm, input, normalized_shape, weight, eps);
  }
  const int64_t M = rows.M, N = rows.N;
  const Tensor x = input.contiguous(), w = contiguous_if_defined(weight);
  Tensor y = empty(input.sizes(), input.dtype());
  Tensor rstd = zeros({M}, kFloat64);
  if (input.numel() == 0) return {y, rstd};
  dispatch_floating_types(input.dtype(), "rms_norm", [&]<typename T>() {
    for_row_blocks(M, N, [&](int64_t, int64_t m, int64_t count) {
      rms_norm_forward_rows<T>(count, N, x.data_ptr<T>() + m * N, data_or_null<T>(w), eps,
                               y.data_ptr<T>() + m * N, rstd.data_ptr<double>() + m);
    });
  });
  return {y, rstd};
}

std::tuple<Tensor, Tensor> native_rms_norm_backward(const Tensor& grad_output, const Tensor& input,
                                                    IntArrayRef normalized_shape,
                                                    const Tensor& rstd, const Tensor& weight,
                                                    std::array<bool, 2> output_mask) {
  constexpr std::string_view op = "native_rms_norm_backward";
  const Rows rows = check_norm_args(op, input, normalized_shape, weight, Tensor());
  check_backward_args(op, grad_output, input, rstd, rows);
  if (opmath::is_reduced(input)) {
    return opmath::compute(input.dtype(), native_rms_norm_backward, grad_output, input,
                           normalized_shape, rstd, weight, output_mask);
  }
  const int64_t M = rows.M, N = rows.N;
  const bool want_gx = output_mask[0], want_gw = output_mask[1] && weight.defined();
  Tensor gx = want_gx ? empty(input.sizes(), input.dtype()) : Tensor();
  const Tensor gw = block_partials(want_gw, M, N);
  const Tensor x = input.contiguous(), g = grad_output.to(input.dtype()).contiguous();
  const Tensor w = contiguous_if_defined(weight), rstd_c = rstd.contiguous();
  if (input.numel() > 0) {
    dispatch_floating_types(input.dtype(), op, [&]<typename T>() {
      for_row_blocks(M, N, [&](int64_t k, int64_t m, int64_t count) {
        rms_norm_backward_rows<T>(count, N, g.data_ptr<T>() + m * N, x.data_ptr<T>() + m * N,
                                  rstd_c.data_ptr<double>() + m, data_or_null<T>(w),
                                  want_gx ? gx.data_ptr<T>() + m * N : nullptr,
                                  zeroed_row(gw, k, N));
      });
    });
  }
  return {gx, want_gw ? sum_blocks(gw, normalized_shape, input.dtype()) : Tensor()};
}

}  // namespace native

}  // namespace tinytorch
