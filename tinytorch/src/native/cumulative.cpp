// Scans along one dim: cumsum (out[j] = x[0] + … + x[j]) and cumprod (out[j] = x[0]·…·x[j]),
// with cumprod's backward kernel (cumsum's gradient is a reverse cumsum, written with recorded
// ops in derivatives.cpp).
//
// As in sort.cpp the scanned dim is swapped to the end, so each scan runs along one contiguous
// row; floating rows accumulate in double (PyTorch's CPU accumulation type), integer rows in
// int64.
#include <algorithm>
#include <vector>

#include "opmath.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

namespace {

enum class Scan { kSum, kProd };

// The dtype of a scan: the one asked for, else int64 for integer and bool inputs (PyTorch
// promotes them so that sums do not overflow a narrow type), else the input's.
ScalarType scan_dtype(const Tensor& self, std::optional<ScalarType> dtype) {
  if (dtype) return *dtype;
  return self.is_floating_point() ? self.dtype() : kInt64;
}

Tensor scan(std::string_view op, const Tensor& self, int64_t dim, std::optional<ScalarType> dtype,
            Scan kind) {
  const int64_t d = wrap_dim(dim, std::max<int64_t>(self.dim(), 1), op);
  const ScalarType out_dtype = scan_dtype(self, dtype);
  if (self.dim() == 0) return self.to(out_dtype, false, true);  // one value: itself
  if (native::opmath::is_reduced(out_dtype)) {  // each output rounded once from the float32 scan
    return native::opmath::compute(
        out_dtype, [&](const Tensor& x) { return scan(op, x, dim, kFloat32, kind); },
        self.to(out_dtype));
  }
  const int64_t last = self.dim() - 1;
  // (native:: views on internal buffers.)
  const Tensor rows = native::transpose(self.to(out_dtype), d, last).contiguous();
  Tensor out = empty(rows.sizes(), out_dtype);
  const int64_t n = rows.size(last);
  const int64_t outer = n == 0 ? 0 : rows.numel() / n;
  dispatch_numeric_types(out_dtype, op, [&]<typename T>() {
    using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
    const T* x = rows.data_ptr<T>();  // [outer, n]
    T* o = out.data_ptr<T>();         // [outer, n]
    const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(n, 1));
    parallel_for(0, outer, grain, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        acc_t acc = kind == Scan::kSum ? acc_t(0) : acc_t(1);
        for (int64_t j = 0; j < n; ++j) {
          const auto v = static_cast<acc_t>(x[r * n + j]);
          acc = kind == Scan::kSum ? acc + v : acc * v;
          o[r * n + j] = static_cast<T>(acc);
        }
      }
    });
  });
  return native::transpose(out, d, last).contiguous();
}

// The gradient of one row of cumprod. With z the first zero of x (n if none):
//   k < z:  ∂L/∂x_k = Σ_{j=k}^{z−1} g_j·out_j / x_k      (x_k ≠ 0 there)
//   k = z:  ∂L/∂x_z = Σ_{j≥z} g_j · out_{z−1} · Π_{z<i≤j} x_i   (the product without x_z)
//   k > z:  0                                               (every product keeps x_z = 0)
template <typename T>
void cumprod_backward_row(const T* g, const T* x, const T* out, int64_t n, T* grad_in) {
  int64_t z = 0;
  while (z < n && x[z] != T(0)) ++z;
  double suffix = 0;  // Σ_{j=k}^{z−1} g_j·out_j, built from the right
  for (int64_t k = z - 1; k >= 0; --k) {
    suffix += static_cast<double>(g[k]) * static_cast<double>(out[k]);
    grad_in[k] = static_cast<T>(suffix / static_cast<double>(x[k]));
  }
  if (z == n) return;
  double running = z == 0 ? 1.0 : static_cast<double>(out[z - 1]);  // Π of the x_i but x_z
  double at_zero = static_cast<double>(g[z]) * running;
  for (int64_t j = z + 1; j < n; ++j) {
    running *= static_cast<double>(x[j]);
    at_zero += static_cast<double>(g[j]) * running;
  }
  grad_in[z] = static_cast<T>(at_zero);
  for (int64_t k = z + 1; k < n; ++k) grad_in[k] = T(0);
}

}  // namespace

Tensor native::cumsum(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  return scan("cumsum", self, dim, dtype, Scan::kSum);
}

Tensor native::cumprod(const Tensor& self, int64_t dim, std::optional<ScalarType> dtype) {
  return scan("cumprod", self, dim, dtype, Scan::kProd);
}

Tensor native::cumprod_backward(const Tensor& grad, const Tensor& self, const Tensor& result,
                                int64_t dim) {
  if (self.dim() == 0) return grad.clone();  // out = x: the gradient passes through
  if (native::opmath::is_reduced(result)) {
    return native::opmath::compute(
        result.dtype(),
        [&](const Tensor& g, const Tensor& x, const Tensor& out) {
          return native::cumprod_backward(g, x, out, dim);
        },
        grad, self, result);
  }
  const int64_t d = wrap_dim(dim, self.dim(), "cumprod_backward");
  const int64_t last = self.dim() - 1;
  const ScalarType t = result.dtype();
  const auto rows_of = [&](const Tensor& a) {
    return native::transpose(a.to(t), d, last).contiguous();
  };
  const Tensor g = rows_of(grad), x = rows_of(self), out = rows_of(result);
  Tensor grad_in = empty(g.sizes(), t);
  const int64_t n = g.size(last);
  const int64_t outer = n == 0 ? 0 : g.numel() / n;
  dispatch_floating_types(t, "cumprod_backward", [&]<typename T>() {
    for (int64_t r = 0; r < outer; ++r) {
      cumprod_backward_row(g.data_ptr<T>() + r * n, x.data_ptr<T>() + r * n,
                           out.data_ptr<T>() + r * n, n, grad_in.data_ptr<T>() + r * n);
    }
  });
  return native::transpose(grad_in, d, last).contiguous();
}

}  // namespace tinytorch
