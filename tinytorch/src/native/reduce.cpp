// Module 01 — Tensor: reductions (sum, mean, var, max/min, argmax/argmin) over all or some dims.
// The planning (which dims, what output shape) is given; the row loops are yours to write in
// module 01 (modules/01_tensor/README.md, Part 6).
//
// Every reduction is planned the same way: move the reduced dims to the end and lay the tensor
// out as a matrix with one ROW per output element:
//
//   x: [2, 3, 4], reduce dims {1}  →  permute to [2, 4, 3]  →  rows [8, 3]  →  out [2, 4]
//                                                              (8 outputs, each reduces 3 values)
//
// When the reduced dims are already innermost and contiguous (the common case: sum over the
// last dim), the permute is a no-op and no element is copied. When they are the LEADING dims of a
// contiguous tensor (a bias gradient: sum over the batch), sum and mean skip the permute and add
// whole rows instead (reduce_leading, given).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "opmath.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/core/simd.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

native::ReducePlan native::plan_reduction(std::string_view op, const Tensor& self, IntArrayRef dims,
                                          bool keepdim) {
  const int64_t nd = self.dim();
  std::vector<bool> reduced(static_cast<size_t>(nd), dims.empty());  // no dims: reduce all
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, nd, op);
    if (nd == 0) continue;  // a 0-d tensor accepts dim 0 / -1 and reduces nothing
    TT_CHECK(!reduced[w], op, ": dim ", w, " appears multiple times in the list of dims ", dims);
    reduced[w] = true;
  }
  // perm = kept dims in order, then reduced dims in order.
  std::vector<int64_t> perm, out_shape;
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < nd; ++d) {
    if (!reduced[d]) {
      perm.push_back(d);
      outer *= self.size(d);
    }
    if (!reduced[d] || keepdim) out_shape.push_back(reduced[d] ? 1 : self.size(d));
  }
  for (int64_t d = 0; d < nd; ++d) {
    if (reduced[d]) {
      perm.push_back(d);
      inner *= self.size(d);
    }
  }
  // (native:: views: the public ones would record view metadata for this internal tensor.)
  return {native::view(native::permute(self, perm).contiguous(), {outer, inner}), out_shape};
}

namespace {

using native::plan_reduction;
using native::ReducePlan;

// Reductions accumulate in a wider type: double for floating types, int64 for integers/bools.
template <typename T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

// Reductions over fewer elements than this run on the calling thread (see core/parallel.h).
constexpr int64_t kReduceGrainElements = 65536;

// Applies row_fn(const T* row, int64_t n) -> R to every row and stores the results in `out`.
// Rows are independent, so they may be split over threads: each output is still summed in the
// same order, and the result has the same bits on one thread or many.
template <typename T, typename R, typename RowFn>
void reduce_rows(const Tensor& rows, Tensor& out, RowFn row_fn) {
  // BEGIN SOLUTION
  const int64_t outer = rows.size(0), inner = rows.size(1);
  const T* in = rows.data_ptr<T>();  // [outer, inner], contiguous
  R* o = out.data_ptr<R>();          // [outer]
  const int64_t grain_rows =
      std::max<int64_t>(1, kReduceGrainElements / std::max<int64_t>(inner, 1));
  parallel_for(0, outer, grain_rows, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) o[i] = row_fn(in + i * inner, inner);
  });
  // END SOLUTION
}

template <typename T>
acc_t<T> row_sum(const T* row, int64_t n) {
  // BEGIN SOLUTION
  acc_t<T> acc = 0;
  for (int64_t j = 0; j < n; ++j) acc += static_cast<acc_t<T>>(row[j]);
  return acc;
  // END SOLUTION
}

// Two-pass variance: first the mean, then the mean squared deviation. (The one-pass formula
// E[x²] − E[x]² loses all precision when the mean is large compared with the spread.)
template <typename T>
double row_var(const T* row, int64_t n, int64_t correction) {
  // BEGIN SOLUTION
  const double mean = static_cast<double>(row_sum(row, n)) / static_cast<double>(n);
  double ss = 0;
  for (int64_t j = 0; j < n; ++j) {
    const double d = static_cast<double>(row[j]) - mean;
    ss += d * d;
  }
  return ss / static_cast<double>(std::max<int64_t>(n - correction, 0));
  // END SOLUTION
}

// Index of the largest (kMax) or smallest element of a row; the first one on ties; a NaN wins
// (so max() of a row containing NaN is NaN, as in PyTorch).
template <bool kMax, typename T>
int64_t row_arg_extremum(const T* row, int64_t n) {
  // BEGIN SOLUTION
  int64_t best = 0;
  for (int64_t j = 1; j < n; ++j) {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(row[best])) break;
      if (std::isnan(row[j])) {
        best = j;
        break;
      }
    }
    if (kMax ? row[j] > row[best] : row[j] < row[best]) best = j;
  }
  return best;
  // END SOLUTION
}

// ── The leading-dims path (given) ─────────────────────────────────────────────────────────────
// Summing a contiguous tensor over its LEADING dims — the bias gradient of every Linear, a
// [N, out] gradient summed over dim 0 — would make plan_reduction transpose all N·out elements
// so that each output's values form a row. Adding whole rows into a vector of accumulators
// instead reads memory once, in order, and copies nothing:
//
//   x [R, K] (R = product of the reduced dims, K of the kept ones)   acc[k] = Σ_r x[r, k]
//
// Each output still adds its values in the same order, in the same wider type, as row_sum: the
// result has the same bits as the row path's. Threads split the K columns.
//
// The R × K shape of `self` when dims are exactly its first m dims (0 < m < dim()), self is
// contiguous and more than one output remains; nullopt otherwise (the row path then runs).
std::optional<std::pair<int64_t, int64_t>> leading_reduction(const Tensor& self, IntArrayRef dims) {
  const int64_t nd = self.dim();
  if (dims.empty() || !self.is_contiguous()) return std::nullopt;
  std::vector<bool> reduced(static_cast<size_t>(nd), false);
  for (int64_t d : dims) {
    const int64_t w = d < 0 ? d + nd : d;
    if (w < 0 || w >= nd || reduced[w]) return std::nullopt;  // the row path reports the error
    reduced[w] = true;
  }
  const auto m = static_cast<int64_t>(dims.size());
  int64_t rows = 1, cols = 1;
  for (int64_t d = 0; d < nd; ++d) {
    if (reduced[d] != (d < m)) return std::nullopt;
    (d < m ? rows : cols) *= self.size(d);
  }
  if (m == nd || cols < 2) return std::nullopt;
  return std::make_pair(rows, cols);
}

// acc[k] += Σ_r x[r · cols + k] for k < n, over the rows r < rows in order. Built for AVX2 too
// (TT_TARGET_CLONES_AVX2): a float sum widens each value to double, and baseline x86-64 converts
// and adds two doubles per instruction, AVX2 four. ([2048, 512] at one thread, 2-vCPU Zen 4,
// median of 200: 149–167 us baseline, 99–128 us with the AVX2 clone; PyTorch 1.13's sum, which
// accumulates in float, 80–90 us.)
template <typename T, typename In>
TT_TARGET_CLONES_AVX2 void add_rows(const In* x, int64_t rows, int64_t cols, int64_t n,
                                    acc_t<T>* acc) {
  const auto wide = [](In v) { return static_cast<acc_t<T>>(static_cast<T>(v)); };
  // Four rows per pass over acc: each acc[k] still adds rows 0, 1, 2, ... one at a time, in
  // order (the same bits), but is loaded and stored once per four rows. ([2048, 512] at one
  // thread, 2-vCPU Zen 4, median of 300: 180 → 161 us; [2048, 1024] 375 → 305 us.)
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const In* r0 = x + r * cols;
    const In *r1 = r0 + cols, *r2 = r1 + cols, *r3 = r2 + cols;
    TT_PRAGMA_OMP_SIMD
    for (int64_t k = 0; k < n; ++k) {
      acc[k] = (((acc[k] + wide(r0[k])) + wide(r1[k])) + wide(r2[k])) + wide(r3[k]);
    }
  }
  for (; r < rows; ++r) {
    const In* row = x + r * cols;
    TT_PRAGMA_OMP_SIMD
    for (int64_t k = 0; k < n; ++k) acc[k] += wide(row[k]);
  }
}

// out[k] = Σ_r x[r, k] (divided by R when kMean), accumulated as row_sum does. x may hold a 16-bit
// In (bfloat16, float16) summed into T = float: each value is widened as it is read (exactly, as
// to(kFloat32) would), so no float32 copy of x is made.
template <typename T, bool kMean, typename In = T>
void reduce_leading(const In* x, int64_t rows, int64_t cols, T* out) {
  // Columns per accumulator block: 32 KiB of doubles, near L1. A block holding whole rows makes
  // the row loop one sequential stream through x; a block narrower than a row reads every row in
  // pieces, and each piece starts a new stream for the prefetcher. A [2048, 768] bias gradient
  // (the d_model-256 GPT's c_attn) took 1.08 ms in blocks of 512 columns and 0.29 ms in one block,
  // [2048, 1024] 1.22 and 0.40 ms (thread CPU time, 2-vCPU Zen 4); up to 512 columns, the same.
  constexpr int64_t kBlock = 4096;
  const int64_t grain = std::max<int64_t>(1, kReduceGrainElements / std::max<int64_t>(rows, 1));
  parallel_for(0, cols, grain, [&](int64_t begin, int64_t end) {
    acc_t<T> acc[kBlock];
    for (int64_t k0 = begin; k0 < end; k0 += kBlock) {
      const int64_t n = std::min(kBlock, end - k0);
      std::fill(acc, acc + n, acc_t<T>(0));
      add_rows<T>(x + k0, rows, cols, n, acc);
      for (int64_t k = 0; k < n; ++k) {
        if constexpr (kMean) {
          out[k0 + k] = static_cast<T>(acc[k] / static_cast<double>(rows));
        } else {
          out[k0 + k] = static_cast<T>(acc[k]);
        }
      }
    }
  });
}

// The output shape of a leading reduction: the kept dims, with 1s for the reduced ones if keepdim.
std::vector<int64_t> leading_out_shape(const Tensor& self, int64_t reduced, bool keepdim) {
  std::vector<int64_t> shape(keepdim ? static_cast<size_t>(reduced) : 0, 1);
  for (int64_t d = reduced; d < self.dim(); ++d) shape.push_back(self.size(d));
  return shape;
}

void check_nonempty(std::string_view op, const ReducePlan& plan) {
  TT_CHECK(plan.rows.size(1) > 0 || plan.rows.size(0) == 0, op,
           "(): cannot perform a reduction over zero elements because the operation has no "
           "identity (specify a dim whose size is not 0)");
}

template <bool kMax>
std::tuple<Tensor, Tensor> extremum_dim(std::string_view op, const Tensor& self,
                                        std::optional<int64_t> dim, bool keepdim) {
  if (native::opmath::is_reduced(self)) {  // the extremum is exact: widening and rounding back
    return native::opmath::compute(
        self.dtype(), [&](const Tensor& x) { return extremum_dim<kMax>(op, x, dim, keepdim); },
        self);
  }
  const std::vector<int64_t> dims = dim ? std::vector<int64_t>{*dim} : std::vector<int64_t>{};
  // With no dim, the index counts positions in the flattened tensor, like torch.argmax.
  const ReducePlan plan = dim ? plan_reduction(op, self, dims, keepdim)
                              : plan_reduction(op, native::reshape(self, {-1}), {}, keepdim);
  check_nonempty(op, plan);
  std::vector<int64_t> out_shape = plan.out_shape;
  if (!dim && keepdim) out_shape.assign(static_cast<size_t>(self.dim()), 1);
  Tensor values = empty(out_shape, self.dtype());
  Tensor indices = empty(out_shape, kInt64);
  dispatch_all_types(self.dtype(), op, [&]<typename T>() {
    reduce_rows<T, int64_t>(plan.rows, indices, row_arg_extremum<kMax, T>);
    const T* in = plan.rows.data_ptr<T>();
    const int64_t* idx = indices.data_ptr<int64_t>();
    T* v = values.data_ptr<T>();
    for (int64_t i = 0; i < values.numel(); ++i) v[i] = in[i * plan.rows.size(1) + idx[i]];
  });
  return {values, indices};
}

}  // namespace

Tensor native::sum(const Tensor& self, IntArrayRef dims, bool keepdim,
                   std::optional<ScalarType> dtype) {
  // Integers and bools sum to int64 (so a count of trues does not overflow a bool).
  const ScalarType out_type = dtype.value_or(self.is_floating_point() ? self.dtype() : kInt64);
  // float16/bfloat16 (or an int32 sum asked for) accumulate in their opmath_type and round the
  // result back, as PyTorch does.
  if (opmath_type(out_type) != out_type) {
    // A bias gradient (a 16-bit [B·T, N] summed over its rows) is read in place, each value
    // widened as it is added: the same float32 sums, without a float32 copy of the input.
    const auto shape = leading_reduction(self, dims);
    if (shape && self.dtype() == out_type && native::opmath::is_reduced(self)) {
      Tensor sums =
          empty(leading_out_shape(self, static_cast<int64_t>(dims.size()), keepdim), kFloat32);
      float* acc = sums.data_ptr<float>();
      if (out_type == kBFloat16) {
        reduce_leading<float, false>(self.data_ptr<BFloat16>(), shape->first, shape->second, acc);
      } else {
        reduce_leading<float, false>(self.data_ptr<Half>(), shape->first, shape->second, acc);
      }
      return sums.to(out_type);
    }
    return native::sum(self.to(out_type), dims, keepdim, opmath_type(out_type)).to(out_type);
  }
  const Tensor x = self.to(out_type);
  if (const auto shape = leading_reduction(x, dims)) {
    Tensor out = empty(leading_out_shape(x, static_cast<int64_t>(dims.size()), keepdim), out_type);
    dispatch_numeric_types(out_type, "sum", [&]<typename T>() {
      reduce_leading<T, false>(x.data_ptr<T>(), shape->first, shape->second, out.data_ptr<T>());
    });
    return out;
  }
  const ReducePlan plan = plan_reduction("sum", x, dims, keepdim);
  Tensor out = empty(plan.out_shape, out_type);
  dispatch_numeric_types(out_type, "sum", [&]<typename T>() {
    reduce_rows<T, T>(plan.rows, out,
                      [](const T* row, int64_t n) { return static_cast<T>(row_sum(row, n)); });
  });
  return out;
}

Tensor native::mean(const Tensor& self, IntArrayRef dims, bool keepdim) {
  TT_CHECK_TYPE(self.is_floating_point(),
                "mean(): could not infer output dtype. Input dtype must be either a floating "
                "point or complex dtype. Got: ",
                self.dtype(), " (hint: x.to(tinytorch::kFloat32).mean())");
  if (opmath_type(self.dtype()) != self.dtype()) {
    // float16/bfloat16: PyTorch's CPU mean is sum(...).div_(n), the sum rounded to the dtype
    // (accumulated in float32, as sum is) before the division is.
    const Tensor total = native::sum(self, dims, keepdim, std::nullopt);
    return total.div(total.numel() > 0 ? self.numel() / total.numel() : 1);
  }
  if (const auto shape = leading_reduction(self, dims)) {
    Tensor out =
        empty(leading_out_shape(self, static_cast<int64_t>(dims.size()), keepdim), self.dtype());
    dispatch_floating_types(self.dtype(), "mean", [&]<typename T>() {
      reduce_leading<T, true>(self.data_ptr<T>(), shape->first, shape->second, out.data_ptr<T>());
    });
    return out;
  }
  const ReducePlan plan = plan_reduction("mean", self, dims, keepdim);
  Tensor out = empty(plan.out_shape, self.dtype());
  dispatch_floating_types(self.dtype(), "mean", [&]<typename T>() {
    reduce_rows<T, T>(plan.rows, out, [](const T* row, int64_t n) {
      return static_cast<T>(row_sum(row, n) / static_cast<double>(n));  // 0/0 → NaN when empty
    });
  });
  return out;
}

Tensor native::var(const Tensor& self, IntArrayRef dims, bool unbiased, bool keepdim) {
  TT_CHECK_TYPE(self.is_floating_point(), "var(): expected a floating-point tensor but got ",
                self.dtype());
  if (native::opmath::is_reduced(self)) {
    return native::opmath::compute(
        self.dtype(), [&](const Tensor& x) { return native::var(x, dims, unbiased, keepdim); },
        self);
  }
  const ReducePlan plan = plan_reduction("var", self, dims, keepdim);
  Tensor out = empty(plan.out_shape, self.dtype());
  const int64_t correction = unbiased ? 1 : 0;
  dispatch_floating_types(self.dtype(), "var", [&]<typename T>() {
    reduce_rows<T, T>(plan.rows, out, [correction](const T* row, int64_t n) {
      return static_cast<T>(row_var(row, n, correction));
    });
  });
  return out;
}

Tensor native::max(const Tensor& self) {
  TT_CHECK(self.numel() > 0,
           "max(): expected reduction dim to be specified for input.numel() == 0. "
           "Specify the reduction dim with the 'dim' argument.");
  return std::get<0>(extremum_dim<true>("max", self, std::nullopt, false));
}
Tensor native::min(const Tensor& self) {
  TT_CHECK(self.numel() > 0,
           "min(): expected reduction dim to be specified for input.numel() == 0. "
           "Specify the reduction dim with the 'dim' argument.");
  return std::get<0>(extremum_dim<false>("min", self, std::nullopt, false));
}
std::tuple<Tensor, Tensor> native::max(const Tensor& self, int64_t dim, bool keepdim) {
  return extremum_dim<true>("max", self, dim, keepdim);
}
std::tuple<Tensor, Tensor> native::min(const Tensor& self, int64_t dim, bool keepdim) {
  return extremum_dim<false>("min", self, dim, keepdim);
}
Tensor Tensor::argmax(std::optional<int64_t> dim, bool keepdim) const {
  return std::get<1>(extremum_dim<true>("argmax", *this, dim, keepdim));
}
Tensor Tensor::argmin(std::optional<int64_t> dim, bool keepdim) const {
  return std::get<1>(extremum_dim<false>("argmin", *this, dim, keepdim));
}

Tensor sum(const Tensor& a, IntArrayRef dims, bool keepdim) {
  return a.sum(dims, keepdim);
}
Tensor mean(const Tensor& a, IntArrayRef dims, bool keepdim) {
  return a.mean(dims, keepdim);
}

}  // namespace tinytorch
