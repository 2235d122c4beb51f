// Vector norms and the logical reductions all / any, planned like every reduction
// (native::plan_reduction: the reduced dims moved last, one contiguous row per output element).
//
//   ‖x‖_p = (Σ |x_i|^p)^(1/p)      p = 2: √(Σ x²)   p = 1: Σ|x|
//   p = +inf: max |x_i|    p = −inf: min |x_i|    p = 0: the number of non-zero x_i
//
// Rows are reduced in double whatever the dtype (as PyTorch accumulates float32 in float32 with
// care; the difference is within float32 rounding).
#include <algorithm>
#include <cmath>
#include <limits>

#include "opmath.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

namespace {

double row_norm(const double p, const auto* row, int64_t n) {
  const auto at = [&](int64_t i) { return std::abs(static_cast<double>(row[i])); };
  if (std::isinf(p)) {  // max |x| (or min); a NaN anywhere makes the result NaN
    double best = p > 0 ? 0.0 : std::numeric_limits<double>::infinity();
    for (int64_t i = 0; i < n; ++i) {
      const double a = at(i);
      if (std::isnan(a)) return a;
      best = p > 0 ? std::max(best, a) : std::min(best, a);
    }
    return best;
  }
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = at(i);
    if (p == 0) {
      acc += a != 0.0 ? 1.0 : 0.0;
    } else if (p == 1) {
      acc += a;
    } else if (p == 2) {
      acc += a * a;
    } else {
      acc += std::pow(a, p);
    }
  }
  if (p == 0 || p == 1) return acc;
  return p == 2 ? std::sqrt(acc) : std::pow(acc, 1.0 / p);
}

// all (is_all) or any over the rows of a plan: bool results.
Tensor logical_reduce(std::string_view op, const Tensor& self, std::optional<int64_t> dim,
                      bool keepdim, bool is_all) {
  if (native::opmath::is_reduced(self)) {  // (widening keeps every zero and non-zero)
    return logical_reduce(op, native::opmath::widen(self), dim, keepdim, is_all);
  }
  const native::ReducePlan plan = dim ? native::plan_reduction(op, self, {*dim}, keepdim)
                                      : native::plan_reduction(op, self, {}, false);
  const int64_t outer = plan.rows.size(0), inner = plan.rows.size(1);
  Tensor out = empty(plan.out_shape, kBool);
  bool* o = out.data_ptr<bool>();
  dispatch_all_types(self.dtype(), op, [&]<typename T>() {
    const T* x = plan.rows.data_ptr<T>();  // [outer, inner]
    for (int64_t r = 0; r < outer; ++r) {
      const T* row = x + r * inner;
      // all: no zero in the row (true for an empty row); any: some non-zero (NaN counts).
      const auto nonzero = [](T v) { return v != T(0); };
      o[r] =
          is_all ? std::all_of(row, row + inner, nonzero) : std::any_of(row, row + inner, nonzero);
    }
  });
  return out;
}

}  // namespace

Tensor native::norm(const Tensor& self, const Scalar& p, IntArrayRef dims, bool keepdim) {
  TT_CHECK_TYPE(self.is_floating_point(),
                "norm(): input dtype should be floating point (float32 or float64), got ",
                self.dtype(), " (hint: x.to(tinytorch::kFloat32))");
  const double pv = p.to<double>();
  TT_CHECK_VALUE(!std::isnan(pv), "norm(): p must be a number, got nan");
  if (native::opmath::is_reduced(self)) {
    return native::opmath::compute(
        self.dtype(), [&](const Tensor& x) { return native::norm(x, p, dims, keepdim); }, self);
  }
  const native::ReducePlan plan = native::plan_reduction("norm", self, dims, keepdim);
  const int64_t outer = plan.rows.size(0), inner = plan.rows.size(1);
  TT_CHECK_VALUE(!(std::isinf(pv) && inner == 0 && outer > 0), "norm(): the ", pv > 0 ? "" : "-",
                 "inf norm of an empty set of values is undefined (reducing ", self.sizes(),
                 " over dims ", dims, ")");
  Tensor out = empty(plan.out_shape, self.dtype());
  dispatch_floating_types(self.dtype(), "norm", [&]<typename T>() {
    const T* x = plan.rows.data_ptr<T>();  // [outer, inner]
    T* o = out.data_ptr<T>();              // [outer]
    const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(inner, 1));
    parallel_for(0, outer, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        o[r] = static_cast<T>(row_norm(pv, x + r * inner, inner));
    });
  });
  return out;
}

Tensor native::all(const Tensor& self, std::optional<int64_t> dim, bool keepdim) {
  return logical_reduce("all", self, dim, keepdim, true);
}

Tensor native::any(const Tensor& self, std::optional<int64_t> dim, bool keepdim) {
  return logical_reduce("any", self, dim, keepdim, false);
}

// Not differentiable (bool results), so the methods call the natives directly.
Tensor Tensor::all() const {
  return native::all(*this, std::nullopt, false);
}
Tensor Tensor::all(int64_t dim, bool keepdim) const {
  return native::all(*this, dim, keepdim);
}
Tensor Tensor::any() const {
  return native::any(*this, std::nullopt, false);
}
Tensor Tensor::any(int64_t dim, bool keepdim) const {
  return native::any(*this, dim, keepdim);
}

}  // namespace tinytorch
