// Module 02 — Activations: ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU, Softmax, LogSoftmax, and
// the backward kernels that module 05's derivative formulas call. The drivers (dtype rules,
// contiguity, output allocation, threading) are given; the kernels — the loops over raw memory
// — are yours to write in module 02 (modules/02_activations/README.md, Parts 1–4).
//
// Every element-wise activation runs the same way:
//
//   native::relu(self) ──► dtype check ──► x = self.contiguous() ──► y = empty(same shape)
//                                              │
//                     ┌────────────────────────┴───────────────────────┐
//                     ▼  chunks of the flat buffer (threads when large)  ▼
//              relu_kernel(x + b, y + b, e − b)     …     relu_kernel(x + b', y + b', e' − b')
//
// so a kernel is a plain loop over n contiguous elements: no strides, no dtype switch, no
// std::function — the compiler can keep everything in registers (and vectorise the cheap ones).
// Softmax and LogSoftmax work on ROWS along `dim` instead; see Part 4.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <type_traits>

#include "opmath.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch::native {

namespace {

// ── the drivers (given) ─────────────────────────────────────────────────────────────────────

// Put TT_SIMD right before a loop whose iterations are independent, to ask the compiler to
// vectorise it: to process 4 floats (SSE) or 8 (AVX) per instruction. GCC at -O2 does not
// vectorise a loop of unknown length on its own; OpenMP's `simd` directive tells it that it may.
// (Without OpenMP the macro is empty and the loop simply runs one element at a time.) Inside a
// vectorised loop a `cond ? a : b` becomes a compare and a blend — no branch — provided both a
// and b are plain values computed before the select.
#if defined(_OPENMP)
#define TT_SIMD _Pragma("omp simd")
#else
#define TT_SIMD
#endif

// Work items (elements) per thread below which a kernel runs on the calling thread: starting
// threads costs microseconds, more than a cheap kernel spends on a few thousand elements.
constexpr int64_t kCheapGrain =
    65536;  // relu, leaky_relu, backward of sigmoid/tanh/relu, SIMD GELU/sigmoid/tanh
constexpr int64_t kExpensiveGrain = 16384;  // exp / erf / tanh per element

void check_floating(std::string_view op, const Tensor& t, std::string_view what = "input") {
  TT_CHECK_TYPE(t.is_floating_point(), op, ": not implemented for dtype ", t.dtype(), " (the ",
                what, " must be float32 or float64; hint: x.to(tinytorch::kFloat32))");
}

void check_same_shape(std::string_view op, const Tensor& grad_output, const Tensor& self,
                      std::string_view self_name) {
  TT_CHECK(grad_output.sizes() == self.sizes(), op, ": grad_output of shape ", grad_output.sizes(),
           " does not match the shape of ", self_name, " ", self.sizes());
}

// out = kernel(x) element-wise, x and out contiguous, of one shape and dtype T. out may be x
// itself (an in-place op): a kernel reads each element before it writes it.
template <typename T, typename Kernel>
void map_unary_into(const Tensor& x, Tensor& out, int64_t grain, const Kernel& kernel) {
  const T* xp = x.data_ptr<T>();
  T* yp = out.data_ptr<T>();
  parallel_for(0, x.numel(), grain, [&](int64_t b, int64_t e) { kernel(xp + b, yp + b, e - b); });
}

// y = kernel(x) element-wise: a contiguous output of x's shape and dtype T.
template <typename T, typename Kernel>
Tensor map_unary(const Tensor& self, int64_t grain, const Kernel& kernel) {
  const Tensor x = self.contiguous();
  Tensor out = empty(self.sizes(), self.dtype());
  map_unary_into<T>(x, out, grain, kernel);
  return out;
}

// out = kernel(grad_output, input) element-wise, for the backward kernels. grad_output may come
// in any dtype and layout (an expanded view, say): it is converted to the input's dtype.
template <typename T, typename Kernel>
Tensor map_backward(const Tensor& grad_output, const Tensor& input, int64_t grain,
                    const Kernel& kernel) {
  const Tensor g = grad_output.to(input.dtype()).contiguous();
  const Tensor x = input.contiguous();
  Tensor out = empty(input.sizes(), input.dtype());
  const T* gp = g.data_ptr<T>();
  const T* xp = x.data_ptr<T>();
  T* op = out.data_ptr<T>();
  parallel_for(0, x.numel(), grain,
               [&](int64_t b, int64_t e) { kernel(gp + b, xp + b, op + b, e - b); });
  return out;
}

// ── Part 1: ReLU and LeakyReLU ──────────────────────────────────────────────────────────────

// y[i] = max(x[i], 0). NaN stays NaN (as in PyTorch). T is float, double or int64_t.
template <typename T>
void relu_kernel(const T* x, T* y, int64_t n) {
  // BEGIN SOLUTION
  TT_SIMD for (int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    y[i] = v < T(0) ? T(0) : v;  // NaN < 0 is false: NaN passes through
  }
  // END SOLUTION
}

// out[i] = g[i] where x[i] > threshold, else 0 (ReLU's derivative is the step function).
template <typename T>
void threshold_backward_kernel(const T* g, const T* x, T* out, int64_t n, T threshold) {
  // BEGIN SOLUTION
  TT_SIMD for (int64_t i = 0; i < n; ++i) {
    const T gi = g[i], xi = x[i];  // load both first: the select then needs no branch
    out[i] = xi <= threshold ? T(0) : gi;
  }
  // END SOLUTION
}

// y[i] = x[i] if x[i] > 0, else negative_slope · x[i]  — i.e. max(x, 0) + slope · min(x, 0).
template <typename T>
void leaky_relu_kernel(const T* x, T* y, int64_t n, T negative_slope) {
  // BEGIN SOLUTION
  TT_SIMD for (int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    const T pos = v > T(0) ? v : T(0);
    const T neg = v > T(0) ? T(0) : v;  // NaN lands here, and slope · NaN stays NaN
    y[i] = pos + negative_slope * neg;
  }
  // END SOLUTION
}

// out[i] = g[i] if x[i] > 0, else negative_slope · g[i].
template <typename T>
void leaky_relu_backward_kernel(const T* g, const T* x, T* out, int64_t n, T negative_slope) {
  // BEGIN SOLUTION
  TT_SIMD for (int64_t i = 0; i < n; ++i) {
    const T gi = g[i], xi = x[i];
    const T pos = xi > T(0) ? gi : T(0);
    const T neg = xi > T(0) ? T(0) : gi;
    out[i] = pos + negative_slope * neg;
  }
  // END SOLUTION
}

// ── Part 2: Sigmoid and Tanh ────────────────────────────────────────────────────────────────

// y[i] = 1 / (1 + e^(−x[i])). This form is safe at any x in IEEE arithmetic: for x < −88.7
// (float32) e^(−x) overflows to +inf and 1 / (1 + inf) = 0, the right limit; for large x,
// e^(−x) → 0 and y → 1. (The equivalent e^x / (1 + e^x) is NOT safe: inf / inf = NaN.)
template <typename T>
void sigmoid_kernel(const T* x, T* y, int64_t n) {
  // BEGIN SOLUTION
  for (int64_t i = 0; i < n; ++i) y[i] = T(1) / (T(1) + std::exp(-x[i]));
  // END SOLUTION
}

// out[i] = g[i] · y[i] · (1 − y[i]), from the forward OUTPUT y = σ(x).
template <typename T>
void sigmoid_backward_kernel(const T* g, const T* y, T* out, int64_t n) {
  // BEGIN SOLUTION
  TT_SIMD for (int64_t i = 0; i < n; ++i) out[i] = g[i] * (T(1) - y[i]) * y[i];
  // END SOLUTION
}

// y[i] = tanh(x[i]).
template <typename T>
void tanh_kernel(const T* x, T* y, int64_t n) {
  // BEGIN SOLUTION
  for (int64_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
  // END SOLUTION
}

// out[i] = g[i] · (1 − y[i]²), from the forward OUTPUT y = tanh(x).
template <typename T>
void tanh_backward_kernel(const T* g, const T* y, T* out, int64_t n) {
  // BEGIN SOLUTION
  TT_SIMD for (int64_t i = 0; i < n; ++i) out[i] = g[i] * (T(1) - y[i] * y[i]);
  // END SOLUTION
}

// ── Part 3: GELU and SiLU ───────────────────────────────────────────────────────────────────

// Exact GELU: y = x · Φ(x) = ½ · x · (1 + erf(x / √2)).
template <typename T>
void gelu_erf_kernel(const T* x, T* y, int64_t n) {
  // BEGIN SOLUTION
  constexpr T kAlpha = T(1) / std::numbers::sqrt2_v<T>;
  for (int64_t i = 0; i < n; ++i) y[i] = T(0.5) * x[i] * (T(1) + std::erf(x[i] * kAlpha));
  // END SOLUTION
}

// d/dx [x · Φ(x)] = Φ(x) + x · φ(x), with φ(x) = e^(−x²/2) / √(2π).
template <typename T>
void gelu_erf_backward_kernel(const T* g, const T* x, T* out, int64_t n) {
  // BEGIN SOLUTION
  constexpr T kAlpha = T(1) / std::numbers::sqrt2_v<T>;
  constexpr T kBeta = std::numbers::inv_sqrtpi_v<T> * kAlpha;  // 1 / √(2π)
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    const T cdf = T(0.5) * (T(1) + std::erf(v * kAlpha));
    const T pdf = kBeta * std::exp(T(-0.5) * v * v);
    out[i] = g[i] * (cdf + v * pdf);
  }
  // END SOLUTION
}

// The tanh approximation: y = ½ · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))).
template <typename T>
void gelu_tanh_kernel(const T* x, T* y, int64_t n) {
  // BEGIN SOLUTION
  constexpr T kBeta = std::numbers::sqrt2_v<T> * std::numbers::inv_sqrtpi_v<T>;  // √(2/π)
  constexpr T kKappa = T(0.044715);
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    const T inner = kBeta * (v + kKappa * v * v * v);
    y[i] = T(0.5) * v * (T(1) + std::tanh(inner));
  }
  // END SOLUTION
}

// The derivative of the SAME tanh formula (not of the exact GELU), so that gradients agree with
// the function the forward pass computed:
//   d/dx = ½(1 + t) + ½ x (1 − t²) · √(2/π) (1 + 3 · 0.044715 · x²),   t = tanh(inner).
template <typename T>
void gelu_tanh_backward_kernel(const T* g, const T* x, T* out, int64_t n) {
  // BEGIN SOLUTION
  constexpr T kBeta = std::numbers::sqrt2_v<T> * std::numbers::inv_sqrtpi_v<T>;
  constexpr T kKappa = T(0.044715);
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    const T v2 = v * v;
    const T t = std::tanh(kBeta * (v + kKappa * v2 * v));
    const T left = T(0.5) * (T(1) + t);
    const T right = T(0.5) * v * (T(1) - t * t) * kBeta * (T(1) + T(3) * kKappa * v2);
    out[i] = g[i] * (left + right);
  }
  // END SOLUTION
}

// SiLU (swish): y = x · σ(x) = x / (1 + e^(−x)). For x → −∞, e^(−x) overflows to +inf and
// x / inf = −0: the right limit, no NaN.
template <typename T>
void silu_kernel(const T* x, T* y, int64_t n) {
  // BEGIN SOLUTION
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] / (T(1) + std::exp(-x[i]));
  // END SOLUTION
}

// d/dx [x · σ(x)] = σ(x) · (1 + x · (1 − σ(x))).
template <typename T>
void silu_backward_kernel(const T* g, const T* x, T* out, int64_t n) {
  // BEGIN SOLUTION
  for (int64_t i = 0; i < n; ++i) {
    const T s = T(1) / (T(1) + std::exp(-x[i]));
    out[i] = g[i] * s * (T(1) + x[i] * (T(1) - s));
  }
  // END SOLUTION
}

// ── Part 4: Softmax and LogSoftmax, one row at a time ───────────────────────────────────────
//
// A row is the n elements along `dim` that one softmax normalises. Element j of the row is at
// x[j · stride]: stride is 1 when dim is the last dim (the common, fast case), and the product
// of the sizes after dim otherwise. The sum is accumulated in double.

// y = exp(x − max) / Σ exp(x − max). Subtracting the row's max changes nothing mathematically
// (the factor e^(−max) cancels) but keeps every exponent ≤ 0: no overflow at x = 1000.
// A NaN anywhere makes the whole row NaN; n ≥ 1.
template <typename T>
void softmax_row(const T* x, T* y, int64_t n, int64_t stride) {
  // BEGIN SOLUTION
  T max = x[0];
  for (int64_t j = 1; j < n; ++j) max = std::max(max, x[j * stride]);
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    const T e = std::exp(x[j * stride] - max);
    y[j * stride] = e;
    sum += static_cast<double>(e);
  }
  const T inv = static_cast<T>(1.0 / sum);
  TT_SIMD for (int64_t j = 0; j < n; ++j) y[j * stride] *= inv;
  // END SOLUTION
}

// y = x − max − log Σ exp(x − max)   (the log-sum-exp trick; never takes the log of a
// softmax, which underflows to log 0 = −inf for very negative logits). n ≥ 1.
template <typename T>
void log_softmax_row(const T* x, T* y, int64_t n, int64_t stride) {
  // BEGIN SOLUTION
  T max = x[0];
  for (int64_t j = 1; j < n; ++j) max = std::max(max, x[j * stride]);
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) sum += static_cast<double>(std::exp(x[j * stride] - max));
  const T log_sum = static_cast<T>(std::log(sum));
  TT_SIMD for (int64_t j = 0; j < n; ++j) y[j * stride] = x[j * stride] - max - log_sum;
  // END SOLUTION
}

// Softmax's Jacobian-vector product, from the OUTPUT y:  out_i = y_i · (g_i − Σ_j g_j · y_j).
template <typename T>
void softmax_backward_row(const T* g, const T* y, T* out, int64_t n, int64_t stride) {
  // BEGIN SOLUTION
  double dot = 0;
  for (int64_t j = 0; j < n; ++j) {
    dot += static_cast<double>(g[j * stride]) * static_cast<double>(y[j * stride]);
  }
  const T d = static_cast<T>(dot);
  TT_SIMD for (int64_t j = 0; j < n; ++j) out[j * stride] = y[j * stride] * (g[j * stride] - d);
  // END SOLUTION
}

// LogSoftmax's, from the OUTPUT y (= log p):  out_i = g_i − exp(y_i) · Σ_j g_j.
template <typename T>
void log_softmax_backward_row(const T* g, const T* y, T* out, int64_t n, int64_t stride) {
  // BEGIN SOLUTION
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) sum += static_cast<double>(g[j * stride]);
  const T s = static_cast<T>(sum);
  for (int64_t j = 0; j < n; ++j) {
    out[j * stride] = g[j * stride] - std::exp(y[j * stride]) * s;
  }
  // END SOLUTION
}

// ── the softmax drivers (given) ─────────────────────────────────────────────────────────────
//
// A contiguous tensor seen around `dim` is [outer, n, inner]: row (o, i) starts at
// o·n·inner + i and steps by inner. For dim = last, inner = 1 and every row is contiguous.
//
//   x: [2, 3, 4], dim 1  →  outer 2, n 3, inner 4  →  8 rows of 3, stride 4
struct RowLayout {
  int64_t outer = 1, n = 1, inner = 1;
  int64_t rows() const { return outer * inner; }
  int64_t start(int64_t r) const { return (r / inner) * n * inner + r % inner; }
};

RowLayout row_layout(const Tensor& t, int64_t dim) {
  RowLayout l;
  if (t.dim() == 0) return l;  // a 0-d tensor is one row of one element
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (d < dim) l.outer *= t.size(d);
    if (d > dim) l.inner *= t.size(d);
  }
  l.n = t.size(dim);
  return l;
}

// Runs row_fn(x_row, y_row, n, stride) for every row along dim; threads split the rows. For
// float32, a fast kernel registered by module 18 (kernels/softmax.h; null when none) takes whole
// ranges of rows instead: fast(x, y, n, inner, first_row, end_row).
template <typename T, typename RowFn>
Tensor softmax_forward(std::string_view op, const Tensor& self, int64_t dim, const RowFn& row_fn,
                       kernels::SoftmaxForwardFn fast) {
  const int64_t d = wrap_dim(dim, self.dim(), op);
  const Tensor x = self.contiguous();
  Tensor out = empty(self.sizes(), self.dtype());
  if (x.numel() == 0) return out;
  const RowLayout l = row_layout(x, d);
  const T* xp = x.data_ptr<T>();
  T* yp = out.data_ptr<T>();
  if constexpr (std::is_same_v<T, float>) {
    if (fast != nullptr) {
      parallel_for(0, l.rows(), std::max<int64_t>(1, kCheapGrain / l.n),
                   [&](int64_t b, int64_t e) { fast(xp, yp, l.n, l.inner, b, e); });
      return out;
    }
  }
  parallel_for(0, l.rows(), std::max<int64_t>(1, kExpensiveGrain / l.n), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) row_fn(xp + l.start(r), yp + l.start(r), l.n, l.inner);
  });
  return out;
}

// The backward likewise; its fast kernel also takes outer (the whole gradient's size decides how
// it is stored): fast(g, y, out, outer, n, inner, first_row, end_row).
template <typename T, typename RowFn>
Tensor softmax_backward_driver(std::string_view op, const Tensor& grad_output, const Tensor& output,
                               int64_t dim, const RowFn& row_fn, kernels::SoftmaxBackwardFn fast) {
  const int64_t d = wrap_dim(dim, output.dim(), op);
  const Tensor g = grad_output.to(output.dtype()).contiguous();
  const Tensor y = output.contiguous();
  Tensor out = empty(output.sizes(), output.dtype());
  if (y.numel() == 0) return out;
  const RowLayout l = row_layout(y, d);
  const T* gp = g.data_ptr<T>();
  const T* yp = y.data_ptr<T>();
  T* op_ = out.data_ptr<T>();
  if constexpr (std::is_same_v<T, float>) {
    if (fast != nullptr) {
      parallel_for(0, l.rows(), std::max<int64_t>(1, kCheapGrain / l.n),
                   [&](int64_t b, int64_t e) { fast(gp, yp, op_, l.outer, l.n, l.inner, b, e); });
      return out;
    }
  }
  parallel_for(0, l.rows(), std::max<int64_t>(1, kCheapGrain / l.n), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t s = l.start(r);
      row_fn(gp + s, yp + s, op_ + s, l.n, l.inner);
    }
  });
  return out;
}

// The approximate argument of gelu: "none" (exact, erf) or "tanh".
bool gelu_uses_tanh(std::string_view op, std::string_view approximate) {
  TT_CHECK_VALUE(approximate == "none" || approximate == "tanh", op,
                 ": approximate argument must be either \"none\" or \"tanh\", got \"", approximate,
                 "\"");
  return approximate == "tanh";
}

}  // namespace

// ── the native functions (given): dtype rules, then a driver with a kernel ──────────────────
//
// dtypes follow PyTorch 1.13: relu accepts int64 (not bool); sigmoid and tanh compute integer
// and bool inputs in the default float dtype (float32); every other activation, and every
// backward kernel, accepts only floating dtypes and names the dtype it got. float16/bfloat16
// run the float32 native and round once (opmath.h), the forward's dtype deciding the result's.

Tensor relu(const Tensor& self) {
  if (opmath::is_reduced(self))
    return opmath::compute(
        self.dtype(), [](const Tensor& x) { return native::relu(x); }, self);
  TT_CHECK_TYPE(self.dtype() != kBool,
                "relu: boolean inputs not supported for relu (hint: x.to(tinytorch::kFloat32))");
  if (self.dtype() == kInt64) {
    return map_unary<int64_t>(
        self, kCheapGrain, [](const int64_t* x, int64_t* y, int64_t n) { relu_kernel(x, y, n); });
  }
  return dispatch_floating_types(self.dtype(), "relu", [&]<typename T>() {
    return map_unary<T>(self, kCheapGrain,
                        [](const T* x, T* y, int64_t n) { relu_kernel(x, y, n); });
  });
}

// In place: a contiguous float32/float64 tensor is rewritten by the same kernel, x and y one
// buffer; any other tensor (int64, a strided view, a 16-bit float) is computed out of place and
// copied in.
Tensor& relu_(Tensor& self) {
  if (!self.is_contiguous() || (self.dtype() != kFloat32 && self.dtype() != kFloat64))
    return native::copy_(self, native::relu(self));
  dispatch_floating_types(self.dtype(), "relu_", [&]<typename T>() {
    map_unary_into<T>(self, self, kCheapGrain,
                      [](const T* x, T* y, int64_t n) { relu_kernel(x, y, n); });
  });
  return self;
}

Tensor threshold_backward(const Tensor& grad_output, const Tensor& self, double threshold) {
  if (opmath::is_reduced(self))
    return opmath::compute(
        self.dtype(),
        [&](const Tensor& g, const Tensor& x) {
          return native::threshold_backward(g, x, threshold);
        },
        grad_output, self);
  check_floating("threshold_backward", self);
  check_floating("threshold_backward", grad_output, "grad_output");
  check_same_shape("threshold_backward", grad_output, self, "the input");
  return dispatch_floating_types(self.dtype(), "threshold_backward", [&]<typename T>() {
    const T th = static_cast<T>(threshold);
    return map_backward<T>(grad_output, self, kCheapGrain,
                           [th](const T* g, const T* x, T* out, int64_t n) {
                             threshold_backward_kernel(g, x, out, n, th);
                           });
  });
}

Tensor leaky_relu(const Tensor& self, double negative_slope) {
  if (opmath::is_reduced(self))
    return opmath::compute(
        self.dtype(), [&](const Tensor& x) { return native::leaky_relu(x, negative_slope); }, self);
  check_floating("leaky_relu", self);
  return dispatch_floating_types(self.dtype(), "leaky_relu", [&]<typename T>() {
    const T slope = static_cast<T>(negative_slope);
    return map_unary<T>(self, kCheapGrain, [slope](const T* x, T* y, int64_t n) {
      leaky_relu_kernel(x, y, n, slope);
    });
  });
}

Tensor leaky_relu_backward(const Tensor& grad_output, const Tensor& self, double negative_slope) {
  if (opmath::is_reduced(self))
    return opmath::compute(
        self.dtype(),
        [&](const Tensor& g, const Tensor& x) {
          return native::leaky_relu_backward(g, x, negative_slope);
        },
        grad_output, self);
  check_floating("leaky_relu_backward", self);
  check_floating("leaky_relu_backward", grad_output, "grad_output");
  check_same_shape("leaky_relu_backward", grad_output, self, "the input");
  return dispatch_floating_types(self.dtype(), "leaky_relu_backward", [&]<typename T>() {
    const T slope = static_cast<T>(negative_slope);
    return map_backward<T>(grad_output, self, kCheapGrain,
                           [slope](const T* g, const T* x, T* out, int64_t n) {
                             leaky_relu_backward_kernel(g, x, out, n, slope);
                           });
  });
}

Tensor sigmoid(const Tensor& self) {
  if (opmath::is_reduced(self))
    return opmath::compute(
        self.dtype(), [](const Tensor& x) { return native::sigmoid(x); }, self);
  // Integers and bools are computed in the default float dtype, as torch.sigmoid does.
  const Tensor x = self.is_floating_point() ? self : self.to(kDefaultFloat);
  if (x.dtype() == kFloat32) {  // module 18's SIMD kernel, once registered
    if (const auto kernel = kernels::fast_kernels().activation.sigmoid)
      return map_unary<float>(x, kCheapGrain, kernel);
  }
  return dispatch_floating_types(x.dtype(), "sigmoid", [&]<typename T>() {
    return map_unary<T>(x, kExpensiveGrain,
                        [](const T* in, T* y, int64_t n) { sigmoid_kernel(in, y, n); });
  });
}

Tensor sigmoid_backward(const Tensor& grad_output, const Tensor& output) {
  if (opmath::is_reduced(output))
    return opmath::compute(
        output.dtype(),
        [](const Tensor& g, const Tensor& y) { return native::sigmoid_backward(g, y); },
        grad_output, output);
  check_floating("sigmoid_backward", output, "output");
  check_floating("sigmoid_backward", grad_output, "grad_output");
  check_same_shape("sigmoid_backward", grad_output, output, "the output");
  if (output.dtype() == kFloat32) {
    if (const auto kernel = kernels::fast_kernels().activation.sigmoid_backward)
      return map_backward<float>(grad_output, output, kCheapGrain, kernel);
  }
  return dispatch_floating_types(output.dtype(), "sigmoid_backward", [&]<typename T>() {
    return map_backward<T>(
        grad_output, output, kCheapGrain,
        [](const T* g, const T* y, T* out, int64_t n) { sigmoid_backward_kernel(g, y, out, n); });
  });
}

Tensor tanh(const Tensor& self) {
  if (opmath::is_reduced(self))
    return opmath::compute(
        self.dtype(), [](const Tensor& x) { return native::tanh(x); }, self);
  const Tensor x = self.is_floating_point() ? self : self.to(kDefaultFloat);
  if (x.dtype() == kFloat32) {
    if (const auto kernel = kernels::fast_kernels().activation.tanh)
      return map_unary<float>(x, kCheapGrain, kernel);
  }
  return dispatch_floating_types(x.dtype(), "tanh", [&]<typename T>() {
    return map_unary<T>(x, kExpensiveGrain,
                        [](const T* in, T* y, int64_t n) { tanh_kernel(in, y, n); });
  });
}

Tensor tanh_backward(const Tensor& grad_output, const Tensor& output) {
  if (opmath::is_reduced(output))
    return opmath::compute(
        output.dtype(),
        [](const Tensor& g, const Tensor& y) { return native::tanh_backward(g, y); }, grad_output,
        output);
  check_floating("tanh_backward", output, "output");
  check_floating("tanh_backward", grad_output, "grad_output");
  check_same_shape("tanh_backward", grad_output, output, "the output");
  if (output.dtype() == kFloat32) {
    if (const auto kernel = kernels::fast_kernels().activation.tanh_backward)
      return map_backward<float>(grad_output, output, kCheapGrain, kernel);
  }
  return dispatch_floating_types(output.dtype(), "tanh_backward", [&]<typename T>() {
    return map_backward<T>(
        grad_output, output, kCheapGrain,
        [](const T* g, const T* y, T* out, int64_t n) { tanh_backward_kernel(g, y, out, n); });
  });
}

Tensor gelu(const Tensor& self, std::string_view approximate) {
  const bool use_tanh = gelu_uses_tanh("gelu", approximate);
  const kernels::ActivationKernels& fast = kernels::fast_kernels().activation;
  const auto fast_kernel = use_tanh ? fast.gelu_tanh : fast.gelu;
  if (opmath::is_reduced(self)) {
    // The fast tier's float32 kernel on L1-sized float32 blocks, rounded once (opmath.h).
    if (fast_kernel) return opmath::map_blocks<1>({self}, kCheapGrain, fast_kernel);
    return opmath::compute(
        self.dtype(), [&](const Tensor& x) { return native::gelu(x, approximate); }, self);
  }
  check_floating("gelu", self);
  // module 18's SIMD kernels, once registered (kernels/activation.h)
  if (self.dtype() == kFloat32 && fast_kernel)
    return map_unary<float>(self, kCheapGrain, fast_kernel);
  return dispatch_floating_types(self.dtype(), "gelu", [&]<typename T>() {
    return map_unary<T>(self, kExpensiveGrain, [use_tanh](const T* x, T* y, int64_t n) {
      if (use_tanh) {
        gelu_tanh_kernel(x, y, n);
      } else {
        gelu_erf_kernel(x, y, n);
      }
    });
  });
}

Tensor gelu_backward(const Tensor& grad_output, const Tensor& self, std::string_view approximate) {
  const bool use_tanh = gelu_uses_tanh("gelu_backward", approximate);
  const kernels::ActivationKernels& fast = kernels::fast_kernels().activation;
  const auto fast_kernel = use_tanh ? fast.gelu_tanh_backward : fast.gelu_backward;
  if (opmath::is_reduced(self)) {
    if (fast_kernel && grad_output.defined() && grad_output.dtype() == self.dtype() &&
        grad_output.sizes() == self.sizes())
      return opmath::map_blocks<2>({grad_output, self}, kCheapGrain, fast_kernel);
    return opmath::compute(
        self.dtype(),
        [&](const Tensor& g, const Tensor& x) { return native::gelu_backward(g, x, approximate); },
        grad_output, self);
  }
  check_floating("gelu_backward", self);
  check_floating("gelu_backward", grad_output, "grad_output");
  check_same_shape("gelu_backward", grad_output, self, "the input");
  if (self.dtype() == kFloat32 && fast_kernel)
    return map_backward<float>(grad_output, self, kCheapGrain, fast_kernel);
  return dispatch_floating_types(self.dtype(), "gelu_backward", [&]<typename T>() {
    return map_backward<T>(grad_output, self, kExpensiveGrain,
                           [use_tanh](const T* g, const T* x, T* out, int64_t n) {
                             if (use_tanh) {
                               gelu_tanh_backward_kernel(g, x, out, n);
                             } else {
                               gelu_erf_backward_kernel(g, x, out, n);
                             }
                           });
  });
}

Tensor silu(const Tensor& self) {
  if (opmath::is_reduced(self))
    return opmath::compute(
        self.dtype(), [](const Tensor& x) { return native::silu(x); }, self);
  check_floating("silu", self);
  return dispatch_floating_types(self.dtype(), "silu", [&]<typename T>() {
    return map_unary<T>(self, kExpensiveGrain,
                        [](const T* x, T* y, int64_t n) { silu_kernel(x, y, n); });
  });
}

Tensor silu_backward(const Tensor& grad_output, const Tensor& self) {
  if (opmath::is_reduced(self))
    return opmath::compute(
        self.dtype(), [](const Tensor& g, const Tensor& x) { return native::silu_backward(g, x); },
        grad_output, self);
  check_floating("silu_backward", self);
  check_floating("silu_backward", grad_output, "grad_output");
  check_same_shape("silu_backward", grad_output, self, "the input");
  return dispatch_floating_types(self.dtype(), "silu_backward", [&]<typename T>() {
    return map_backward<T>(
        grad_output, self, kExpensiveGrain,
        [](const T* g, const T* x, T* out, int64_t n) { silu_backward_kernel(g, x, out, n); });
  });
}

Tensor softmax(const Tensor& self, int64_t dim) {
  if (opmath::is_reduced(self))
    return opmath::compute(
        self.dtype(), [&](const Tensor& x) { return native::softmax(x, dim); }, self);
  check_floating("softmax", self);
  return dispatch_floating_types(self.dtype(), "softmax", [&]<typename T>() {
    return softmax_forward<T>("softmax", self, dim, softmax_row<T>,
                              kernels::fast_kernels().softmax.softmax);
  });
}

Tensor softmax_backward(const Tensor& grad_output, const Tensor& output, int64_t dim) {
  if (opmath::is_reduced(output))
    return opmath::compute(
        output.dtype(),
        [&](const Tensor& g, const Tensor& y) { return native::softmax_backward(g, y, dim); },
        grad_output, output);
  check_floating("softmax_backward", output, "output");
  check_floating("softmax_backward", grad_output, "grad_output");
  check_same_shape("softmax_backward", grad_output, output, "the output");
  return dispatch_floating_types(output.dtype(), "softmax_backward", [&]<typename T>() {
    return softmax_backward_driver<T>("softmax_backward", grad_output, output, dim,
                                      softmax_backward_row<T>,
                                      kernels::fast_kernels().softmax.softmax_backward);
  });
}

Tensor log_softmax(const Tensor& self, int64_t dim) {
  if (opmath::is_reduced(self))
    return opmath::compute(
        self.dtype(), [&](const Tensor& x) { return native::log_softmax(x, dim); }, self);
  check_floating("log_softmax", self);
  return dispatch_floating_types(self.dtype(), "log_softmax", [&]<typename T>() {
    return softmax_forward<T>("log_softmax", self, dim, log_softmax_row<T>,
                              kernels::fast_kernels().softmax.log_softmax);
  });
}

Tensor log_softmax_backward(const Tensor& grad_output, const Tensor& output, int64_t dim) {
  if (opmath::is_reduced(output))
    return opmath::compute(
        output.dtype(),
        [&](const Tensor& g, const Tensor& y) { return native::log_softmax_backward(g, y, dim); },
        grad_output, output);
  check_floating("log_softmax_backward", output, "output");
  check_floating("log_softmax_backward", grad_output, "grad_output");
  check_same_shape("log_softmax_backward", grad_output, output, "the output");
  return dispatch_floating_types(output.dtype(), "log_softmax_backward", [&]<typename T>() {
    return softmax_backward_driver<T>("log_softmax_backward", grad_output, output, dim,
                                      log_softmax_backward_row<T>,
                                      kernels::fast_kernels().softmax.log_softmax_backward);
  });
}

}  // namespace tinytorch::native
