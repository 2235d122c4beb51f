// Module 09 — Pooling: max, average and adaptive average pooling over 2-d planes, forward and
// backward. The checks, the output-tensor shapes and the drivers are given; the window arithmetic
// (pooled_size, avg_window, adaptive_start/end) and the loops are yours to write
// (modules/09_spatial/README.md, the pooling parts).
//
// Pooling slides a kernel_h × kernel_w window over every H × W plane (one per image and channel,
// `planes` = N·C of them) and keeps one number per window position:
//
//        x (one plane, H = W = 4)        max_pool2d(kernel 2, stride 2)     indices (h·W + w)
//        ┌────┬────┬────┬────┐
//        │  1 │  3 │  2 │  0 │           ┌────┬────┐                     ┌────┬────┐
//        │  5 │  4 │  1 │  7 │   ──►     │  5 │  7 │                     │  4 │  7 │
//        ├────┼────┼────┼────┤           ├────┼────┤                     ├────┼────┤
//        │  0 │  2 │  9 │  8 │           │  6 │  9 │                     │ 13 │ 10 │
//        │  1 │  6 │  3 │  3 │           └────┴────┘                     └────┴────┘
//        └────┴────┴────┴────┘
//
// Output row oh reads input rows oh·stride − pad + i·dilation (i < kernel); rows outside [0, H)
// are padding: −∞ for max (never wins), 0 for average (and maybe counted in the divisor).
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "opmath.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/kernels/spatial.h"
#include "tinytorch/native/pooling.h"

namespace tinytorch {

namespace {

using kernels::Pool2dShape;

// ── Part 1: the window arithmetic ─────────────────────────────────────────────────────────────
// NOTE: avg_window and adaptive_start/end are called only from the loops you write below;
// [[maybe_unused]] keeps a learner release (where those loops are stubs) building with -Werror.

// The number of window positions along one dim of size `in` (PyTorch's pooling_output_shape):
//
//   floor mode:  ⌊(in + 2·pad − dilation·(kernel − 1) − 1) / stride⌋ + 1
//   ceil mode:   ⌈ the same ⌉ + 1, but a last window that would START in the right padding
//                (at (out − 1)·stride ≥ in + pad) is dropped: every window must touch the input
//                or its left padding.
//
// The numerator may be negative (a kernel larger than the padded input): round towards −∞ so
// that the result is ≤ 0 and the caller reports "Output size is too small".
int64_t pooled_size(int64_t in, int64_t kernel, int64_t pad, int64_t stride, int64_t dilation,
                    bool ceil_mode) {
  // BEGIN SOLUTION
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  // Floor division (C++'s / truncates towards zero).
  int64_t out = (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
  // END SOLUTION
}

// The input rows [h0, h1) × columns [w0, w1) that average-pool window (oh, ow) covers, clipped to
// the input, and the number it divides by.
struct AvgWindow {
  int64_t h0, h1, w0, w1;
  int64_t divisor;
};

// PyTorch's rule: the window first spans [oh·stride − pad, + kernel), clipped on the right to
// the PADDED input (in + pad) — its size there is what count_include_pad divides by; then it is
// clipped to the input itself [0, in) — the elements summed, and the divisor when
// count_include_pad is false. divisor_override, when given, replaces both.
//
//     pad │ 0   1   2   3 │ pad        kernel 3, stride 2, pad 1, ceil_mode: 3 windows
//    [ ·  │ x   x   x   x │  · ]       window 0: [-1, 2) → sums x0 x1,    divisor 3 (or 2)
//                                     window 2: [ 3, 5) → sums x3, size 2 (the padded input
//                                               ends at 5), divisor 2 (or 1)
[[maybe_unused]] AvgWindow avg_window(const Pool2dShape& s, int64_t oh, int64_t ow,
                                      bool count_include_pad,
                                      std::optional<int64_t> divisor_override) {
  // BEGIN SOLUTION
  int64_t h0 = oh * s.stride_h - s.pad_h, w0 = ow * s.stride_w - s.pad_w;
  int64_t h1 = std::min(h0 + s.kernel_h, s.in_h + s.pad_h);
  int64_t w1 = std::min(w0 + s.kernel_w, s.in_w + s.pad_w);
  const int64_t padded_size = (h1 - h0) * (w1 - w0);
  h0 = std::max<int64_t>(h0, 0);
  w0 = std::max<int64_t>(w0, 0);
  h1 = std::min(h1, s.in_h);
  w1 = std::min(w1, s.in_w);
  const int64_t divisor = divisor_override    ? *divisor_override
                          : count_include_pad ? padded_size
                                              : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, divisor};
  // END SOLUTION
}

// Adaptive pooling picks the windows from the sizes alone: output index i of `out` covers input
// [⌊i·in/out⌋, ⌈(i+1)·in/out⌉). Windows tile the input exactly when out divides in, and overlap
// by one element otherwise (7 → 3: [0, 3) [2, 5) [4, 7)).
[[maybe_unused]] int64_t adaptive_start(int64_t i, int64_t in, int64_t out) {
  // BEGIN SOLUTION
  return (i * in) / out;
  // END SOLUTION
}
[[maybe_unused]] int64_t adaptive_end(int64_t i, int64_t in, int64_t out) {
  // BEGIN SOLUTION
  return ((i + 1) * in + out - 1) / out;
  // END SOLUTION
}

// ── Part 2: max pooling ───────────────────────────────────────────────────────────────────────
// Every kernel below sees s.planes contiguous planes: x [planes, in_h, in_w] → y [planes, out_h,
// out_w] (the driver hands each thread its own run of planes).

// y = the max of each window, indices = where it was, as h·in_w + w inside the plane. Padding is
// skipped (it never wins); the first maximum wins a tie (a strict >); a NaN wins over any number
// (max pooling propagates NaN, as PyTorch does). A window with no larger value than −∞ keeps the
// index h0·in_w + w0 of its first tap at or after row 0 and column 0 — its first in-bounds element.
// NOTE: with dilation a window can step over the whole input and lie wholly in the padding
// (kernel 2, dilation 3, padding 1 over 2 columns: taps at −1 and 2). Its max is then −∞ and its
// index PyTorch's, the same h0·in_w + w0, which then names no tap of the window (it may even lie
// outside the plane): the backward driver knows such windows from the geometry and sends their
// gradient nowhere.
template <typename T>
void max_pool2d_forward_reference(const Pool2dShape& s, const T* x, T* y, int64_t* indices) {
  // BEGIN SOLUTION
  for (int64_t p = 0; p < s.planes; ++p) {
    const T* xp = x + p * s.in_h * s.in_w;
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
      int64_t h0 = oh * s.stride_h - s.pad_h;
      const int64_t h1 = std::min(h0 + (s.kernel_h - 1) * s.dilation_h + 1, s.in_h);
      while (h0 < 0) h0 += s.dilation_h;  // the first row inside the input
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        int64_t w0 = ow * s.stride_w - s.pad_w;
        const int64_t w1 = std::min(w0 + (s.kernel_w - 1) * s.dilation_w + 1, s.in_w);
        while (w0 < 0) w0 += s.dilation_w;
        T best = -std::numeric_limits<T>::infinity();
        int64_t best_index = h0 * s.in_w + w0;
        for (int64_t h = h0; h < h1; h += s.dilation_h) {
          for (int64_t w = w0; w < w1; w += s.dilation_w) {
            const T v = xp[h * s.in_w + w];
            if (v > best || std::isnan(v)) {
              best = v;
              best_index = h * s.in_w + w;
            }
          }
        }
        const int64_t o = (p * s.out_h + oh) * s.out_w + ow;
        y[o] = best;
        indices[o] = best_index;
      }
    }
  }
  // END SOLUTION
}

// forward:  y[i] = x[indices[i]]   ⇒   ∂L/∂x[j] = Σ over the outputs i with indices[i] = j of gy[i]
// gx is written whole: zeros, then each gy added at the position its window's max came from
// (overlapping windows can pick the same position: add, never assign). An index −1 marks a window
// with no input element (wholly in the padding): its gradient goes nowhere.
template <typename T>
void max_pool2d_backward_reference(const Pool2dShape& s, const T* gy, const int64_t* indices,
                                   T* gx) {
  // BEGIN SOLUTION
  const int64_t in_plane = s.in_h * s.in_w, out_plane = s.out_h * s.out_w;
  std::fill(gx, gx + s.planes * in_plane, T(0));
  for (int64_t p = 0; p < s.planes; ++p) {
    for (int64_t i = 0; i < out_plane; ++i) {
      const int64_t at = indices[p * out_plane + i];
      if (at >= 0) gx[p * in_plane + at] += gy[p * out_plane + i];
    }
  }
  // END SOLUTION
}

// ── Part 3: average pooling ───────────────────────────────────────────────────────────────────

// y = Σ over the window (avg_window) / its divisor; an empty window gives 0.
template <typename T>
void avg_pool2d_forward_reference(const Pool2dShape& s, bool count_include_pad,
                                  std::optional<int64_t> divisor_override, const T* x, T* y) {
  // BEGIN SOLUTION
  for (int64_t p = 0; p < s.planes; ++p) {
    const T* xp = x + p * s.in_h * s.in_w;
    T* yp = y + p * s.out_h * s.out_w;
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        const AvgWindow win = avg_window(s, oh, ow, count_include_pad, divisor_override);
        T sum = 0;
        for (int64_t h = win.h0; h < win.h1; ++h) {
          for (int64_t w = win.w0; w < win.w1; ++w) sum += xp[h * s.in_w + w];
        }
        const bool empty = win.h0 >= win.h1 || win.w0 >= win.w1;
        yp[oh * s.out_w + ow] = empty ? T(0) : sum / static_cast<T>(win.divisor);
      }
    }
  }
  // END SOLUTION
}

// forward:  y = Σ_window x / divisor   ⇒   every x of the window receives gy / divisor
// (summed over the windows that cover it).
template <typename T>
void avg_pool2d_backward_reference(const Pool2dShape& s, bool count_include_pad,
                                   std::optional<int64_t> divisor_override, const T* gy, T* gx) {
  // BEGIN SOLUTION
  std::fill(gx, gx + s.planes * s.in_h * s.in_w, T(0));
  for (int64_t p = 0; p < s.planes; ++p) {
    T* gxp = gx + p * s.in_h * s.in_w;
    const T* gyp = gy + p * s.out_h * s.out_w;
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        const AvgWindow win = avg_window(s, oh, ow, count_include_pad, divisor_override);
        const T share = gyp[oh * s.out_w + ow] / static_cast<T>(win.divisor);
        for (int64_t h = win.h0; h < win.h1; ++h) {
          for (int64_t w = win.w0; w < win.w1; ++w) gxp[h * s.in_w + w] += share;
        }
      }
    }
  }
  // END SOLUTION
}

// ── Part 4: adaptive average pooling ──────────────────────────────────────────────────────────
// Only planes, in_h/in_w and out_h/out_w of the shape are used.

template <typename T>
void adaptive_avg_pool2d_forward_reference(const Pool2dShape& s, const T* x, T* y) {
  // BEGIN SOLUTION
  for (int64_t p = 0; p < s.planes; ++p) {
    const T* xp = x + p * s.in_h * s.in_w;
    T* yp = y + p * s.out_h * s.out_w;
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
      const int64_t h0 = adaptive_start(oh, s.in_h, s.out_h);
      const int64_t h1 = adaptive_end(oh, s.in_h, s.out_h);
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        const int64_t w0 = adaptive_start(ow, s.in_w, s.out_w);
        const int64_t w1 = adaptive_end(ow, s.in_w, s.out_w);
        T sum = 0;
        for (int64_t h = h0; h < h1; ++h) {
          for (int64_t w = w0; w < w1; ++w) sum += xp[h * s.in_w + w];
        }
        yp[oh * s.out_w + ow] = sum / static_cast<T>((h1 - h0) * (w1 - w0));
      }
    }
  }
  // END SOLUTION
}

// forward:  y = mean of the window   ⇒   each x of the window receives gy / (window size)
template <typename T>
void adaptive_avg_pool2d_backward_reference(const Pool2dShape& s, const T* gy, T* gx) {
  // BEGIN SOLUTION
  std::fill(gx, gx + s.planes * s.in_h * s.in_w, T(0));
  for (int64_t p = 0; p < s.planes; ++p) {
    T* gxp = gx + p * s.in_h * s.in_w;
    const T* gyp = gy + p * s.out_h * s.out_w;
    for (int64_t oh = 0; oh < s.out_h; ++oh) {
      const int64_t h0 = adaptive_start(oh, s.in_h, s.out_h);
      const int64_t h1 = adaptive_end(oh, s.in_h, s.out_h);
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        const int64_t w0 = adaptive_start(ow, s.in_w, s.out_w);
        const int64_t w1 = adaptive_end(ow, s.in_w, s.out_w);
        const T share = gyp[oh * s.out_w + ow] / static_cast<T>((h1 - h0) * (w1 - w0));
        for (int64_t h = h0; h < h1; ++h) {
          for (int64_t w = w0; w < w1; ++w) gxp[h * s.in_w + w] += share;
        }
      }
    }
  }
  // END SOLUTION
}

// ── the drivers (given) ───────────────────────────────────────────────────────────────────────

// One value for both dims, or {h, w}. An empty list takes `if_empty` (stride {} = kernel_size).
std::array<int64_t, 2> pair_arg(std::string_view op, std::string_view what, IntArrayRef list,
                                std::array<int64_t, 2> if_empty = {0, 0}) {
  if (list.empty()) return if_empty;
  TT_CHECK_VALUE(list.size() <= 2, op, ": ", what,
                 " must be a single int, or a tuple of two ints {h, w}, but got ", list);
  return {list[0], list[list.size() - 1]};
}

// [N, C, H, W] or [C, H, W], with non-zero C, H, W (N may be 0). Returns N·C, H, W.
std::array<int64_t, 3> pool_input_dims(std::string_view op, const Tensor& input) {
  const int64_t d = input.dim();
  TT_CHECK(
      (d == 3 || d == 4) && input.size(-1) != 0 && input.size(-2) != 0 && input.size(-3) != 0, op,
      ": Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got: ",
      input.sizes(), d == 2 ? " (an unbatched image is [C, H, W]: add the channel dim)" : "");
  TT_CHECK_TYPE(input.is_floating_point(), op,
                ": expected a floating-point input (float32 or float64), but got ", input.dtype());
  return {d == 4 ? input.size(0) * input.size(1) : input.size(0), input.size(-2), input.size(-1)};
}

// The output's sizes: the input's, with the last two replaced.
std::vector<int64_t> pooled_sizes(const Tensor& input, int64_t out_h, int64_t out_w) {
  std::vector<int64_t> sizes = input.sizes().vec();
  sizes[sizes.size() - 2] = out_h;
  sizes[sizes.size() - 1] = out_w;
  return sizes;
}

// Checks the arguments the way PyTorch's pool2d_shape_check does, and works out the geometry.
Pool2dShape pool_shape(std::string_view op, const Tensor& input, IntArrayRef kernel_size,
                       IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation,
                       bool ceil_mode) {
  const auto [planes, H, W] = pool_input_dims(op, input);
  TT_CHECK_VALUE(!kernel_size.empty(), op, ": kernel_size must be given (one int or {h, w})");
  const auto k = pair_arg(op, "kernel_size", kernel_size);
  const auto st = pair_arg(op, "stride", stride, k);
  const auto pad = pair_arg(op, "padding", padding);
  const auto dil = pair_arg(op, "dilation", dilation, {1, 1});
  TT_CHECK_VALUE(k[0] > 0 && k[1] > 0, op,
                 ": kernel size should be greater than zero, but got kH: ", k[0], " kW: ", k[1]);
  TT_CHECK_VALUE(st[0] > 0 && st[1] > 0, op,
                 ": stride should be greater than zero, but got dH: ", st[0], " dW: ", st[1]);
  TT_CHECK_VALUE(dil[0] > 0 && dil[1] > 0, op,
                 ": dilation should be greater than zero, but got dilationH: ", dil[0],
                 " dilationW: ", dil[1]);
  TT_CHECK_VALUE(pad[0] >= 0 && pad[1] >= 0, op, ": padding must be non-negative, but got ",
                 padding);
  for (int i = 0; i < 2; ++i) {
    // NOTE: with more padding than half a window, a window could lie wholly in the padding (its
    // max would be −∞, its average 0/0). Dilation can still step a max-pool window over the
    // whole input (max_pool2d_forward_reference's note); PyTorch allows it, and so do we.
    TT_CHECK_VALUE(pad[i] <= k[i] / 2, op,
                   ": pad should be at most half of kernel size, but got pad=", pad[i],
                   " and kernel_size=", k[i]);
  }
  Pool2dShape s;
  s.planes = planes;
  s.in_h = H;
  s.in_w = W;
  s.kernel_h = k[0];
  s.kernel_w = k[1];
  s.stride_h = st[0];
  s.stride_w = st[1];
  s.pad_h = pad[0];
  s.pad_w = pad[1];
  s.dilation_h = dil[0];
  s.dilation_w = dil[1];
  s.out_h = pooled_size(H, k[0], pad[0], st[0], dil[0], ceil_mode);
  s.out_w = pooled_size(W, k[1], pad[1], st[1], dil[1], ceil_mode);
  const int64_t C = input.size(-3);
  TT_CHECK_VALUE(s.out_h >= 1 && s.out_w >= 1, op, ": Given input size: (", C, "x", H, "x", W,
                 "). Calculated output size: (", C, "x", s.out_h, "x", s.out_w,
                 "). Output size is too small (kernel_size ", kernel_size, ", stride ",
                 IntArrayRef(st.data(), 2), ", padding ", padding, ", dilation ", dilation, ")");
  return s;
}

// Runs kernel(sub_shape, in_offset, out_offset) over runs of whole planes on the thread pool:
// the reference kernels stay plain serial loops, and each thread writes only its own planes.
template <typename Kernel>
void for_each_plane_run(const Pool2dShape& s, const Kernel& kernel) {
  const int64_t in_plane = s.in_h * s.in_w, out_plane = s.out_h * s.out_w;
  // About 32k input elements per task, so tiny inputs stay on the calling thread.
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, in_plane + out_plane));
  parallel_for(0, s.planes, grain, [&](int64_t begin, int64_t end) {
    Pool2dShape run = s;
    run.planes = end - begin;
    kernel(run, begin * in_plane, begin * out_plane);
  });
}

// Whether window o along one dim — taps o·stride − pad + i·dilation, i < kernel — has a tap inside
// [0, in). Its first tap at or after 0 is the first candidate.
bool window_touches_input(int64_t o, int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                          int64_t dilation) {
  const int64_t start = o * stride - pad;
  const int64_t first = kernels::first_tap_from_zero(start, dilation);
  return first < in && first <= start + (kernel - 1) * dilation;
}

// The forward's indices, with −1 ("no input: the gradient goes nowhere", the backward kernels'
// rule) at every window that lies wholly in the padding: there the forward's index is PyTorch's,
// which names no tap of the window. A window is empty exactly when its row or its column of taps
// misses the input, so O(P + Q) checks find them; without any (always, without dilation), the
// indices are returned as they are.
Tensor without_empty_windows(const Pool2dShape& s, const Tensor& indices) {
  std::vector<char> row_ok(static_cast<size_t>(s.out_h)), col_ok(static_cast<size_t>(s.out_w));
  bool all_ok = true;
  for (int64_t p = 0; p < s.out_h; ++p) {
    row_ok[static_cast<size_t>(p)] =
        window_touches_input(p, s.in_h, s.kernel_h, s.stride_h, s.pad_h, s.dilation_h);
    all_ok &= row_ok[static_cast<size_t>(p)] != 0;
  }
  for (int64_t q = 0; q < s.out_w; ++q) {
    col_ok[static_cast<size_t>(q)] =
        window_touches_input(q, s.in_w, s.kernel_w, s.stride_w, s.pad_w, s.dilation_w);
    all_ok &= col_ok[static_cast<size_t>(q)] != 0;
  }
  if (all_ok) return indices;
  Tensor routed = indices.clone();
  int64_t* ip = routed.data_ptr<int64_t>();
  for (int64_t plane = 0; plane < s.planes; ++plane) {
    for (int64_t p = 0; p < s.out_h; ++p) {
      for (int64_t q = 0; q < s.out_w; ++q) {
        if (!row_ok[static_cast<size_t>(p)] || !col_ok[static_cast<size_t>(q)]) {
          ip[(plane * s.out_h + p) * s.out_w + q] = -1;
        }
      }
    }
  }
  return routed;
}

// The checks every backward kernel makes on grad_output: the forward output's shape and the
// input's dtype.
void check_grad_output(std::string_view op, const Tensor& grad_output, const Tensor& self,
                       const Pool2dShape& s) {
  const std::vector<int64_t> expected = pooled_sizes(self, s.out_h, s.out_w);
  TT_CHECK(grad_output.sizes() == IntArrayRef(expected), op,
           ": grad_output must have the forward output's shape ", IntArrayRef(expected),
           ", but got ", grad_output.sizes());
}

}  // namespace

namespace native {

std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& self, IntArrayRef kernel_size,
                                                   IntArrayRef stride, IntArrayRef padding,
                                                   IntArrayRef dilation, bool ceil_mode) {
  const Pool2dShape s =
      pool_shape("max_pool2d", self, kernel_size, stride, padding, dilation, ceil_mode);
  if (opmath::is_reduced(self)) {  // the maximum is exact; indices stay int64
    return opmath::compute(self.dtype(), max_pool2d_with_indices, self, kernel_size, stride,
                           padding, dilation, ceil_mode);
  }
  const Tensor x = self.contiguous();
  const std::vector<int64_t> out_sizes = pooled_sizes(self, s.out_h, s.out_w);
  Tensor y = empty(out_sizes, self.dtype());
  Tensor indices = empty(out_sizes, kInt64);
  int64_t* ind = indices.data_ptr<int64_t>();
  dispatch_floating_types(self.dtype(), "max_pool2d", [&]<typename T>() {
    const T* xp = x.data_ptr<T>();
    T* yp = y.data_ptr<T>();
    if constexpr (std::is_same_v<T, float>) {
      if (const auto fast = kernels::fast_kernels().spatial.max_pool2d_forward) {
        fast(s, xp, yp, ind);
        return;
      }
    }
    for_each_plane_run(s, [&](const Pool2dShape& run, int64_t in_off, int64_t out_off) {
      max_pool2d_forward_reference(run, xp + in_off, yp + out_off, ind + out_off);
    });
  });
  return {y, indices};
}

Tensor max_pool2d_with_indices_backward(const Tensor& grad_output, const Tensor& self,
                                        IntArrayRef kernel_size, IntArrayRef stride,
                                        IntArrayRef padding, IntArrayRef dilation, bool ceil_mode,
                                        const Tensor& indices) {
  constexpr std::string_view op = "max_pool2d_with_indices_backward";
  const Pool2dShape s = pool_shape(op, self, kernel_size, stride, padding, dilation, ceil_mode);
  check_grad_output(op, grad_output, self, s);
  TT_CHECK_TYPE(indices.dtype() == kInt64, op, ": indices must be int64, but got ",
                indices.dtype());
  TT_CHECK(indices.sizes() == grad_output.sizes(), op, ": indices must have grad_output's shape ",
           grad_output.sizes(), ", but got ", indices.sizes());
  if (opmath::is_reduced(self)) {
    return opmath::compute(self.dtype(), max_pool2d_with_indices_backward, grad_output, self,
                           kernel_size, stride, padding, dilation, ceil_mode, indices);
  }
  const Tensor g = grad_output.to(self.dtype()).contiguous();
  const Tensor ind = without_empty_windows(s, indices.contiguous());
  const int64_t* ip = ind.data_ptr<int64_t>();
  const int64_t in_plane = s.in_h * s.in_w;
  // Every index is in its plane, or −1 (no input: an empty window's). One branch-free pass in
  // unsigned arithmetic, which wraps: −1 + 1 is 0, and any index below −1 is huge; the search
  // for the index to name runs only when one is out of range.
  const int64_t count = ind.numel();
  bool all_inside = true;
  for (int64_t i = 0; i < count; ++i) {
    all_inside &= static_cast<uint64_t>(ip[i]) + 1 < static_cast<uint64_t>(in_plane) + 1;
  }
  for (int64_t i = 0; !all_inside && i < count; ++i) {
    TT_CHECK_INDEX(ip[i] >= -1 && ip[i] < in_plane, op, ": index ", ip[i],
                   " is outside its plane of ", in_plane, " elements (expected 0 to ", in_plane - 1,
                   ", or -1 for no input)");
  }
  Tensor gx = empty(self.sizes(), self.dtype());
  dispatch_floating_types(self.dtype(), op, [&]<typename T>() {
    const T* gp = g.data_ptr<T>();
    T* gxp = gx.data_ptr<T>();
    if constexpr (std::is_same_v<T, float>) {
      if (const auto fast = kernels::fast_kernels().spatial.max_pool2d_backward) {
        fast(s, gp, ip, gxp);
        return;
      }
    }
    for_each_plane_run(s, [&](const Pool2dShape& run, int64_t in_off, int64_t out_off) {
      max_pool2d_backward_reference(run, gp + out_off, ip + out_off, gxp + in_off);
    });
  });
  return gx;
}

namespace {
Pool2dShape avg_pool_shape(std::string_view op, const Tensor& self, IntArrayRef kernel_size,
                           IntArrayRef stride, IntArrayRef padding, bool ceil_mode,
                           std::optional<int64_t> divisor_override) {
  TT_CHECK_VALUE(!divisor_override || *divisor_override != 0, op, ": divisor must be not zero");
  return pool_shape(op, self, kernel_size, stride, padding, 1, ceil_mode);
}
}  // namespace

Tensor avg_pool2d(const Tensor& self, IntArrayRef kernel_size, IntArrayRef stride,
                  IntArrayRef padding, bool ceil_mode, bool count_include_pad,
                  std::optional<int64_t> divisor_override) {
  const Pool2dShape s =
      avg_pool_shape("avg_pool2d", self, kernel_size, stride, padding, ceil_mode, divisor_override);
  if (opmath::is_reduced(self)) {
    return opmath::compute(self.dtype(), avg_pool2d, self, kernel_size, stride, padding, ceil_mode,
                           count_include_pad, divisor_override);
  }
  const Tensor x = self.contiguous();
  Tensor y = empty(pooled_sizes(self, s.out_h, s.out_w), self.dtype());
  dispatch_floating_types(self.dtype(), "avg_pool2d", [&]<typename T>() {
    const T* xp = x.data_ptr<T>();
    T* yp = y.data_ptr<T>();
    for_each_plane_run(s, [&](const Pool2dShape& run, int64_t in_off, int64_t out_off) {
      avg_pool2d_forward_reference(run, count_include_pad, divisor_override, xp + in_off,
                                   yp + out_off);
    });
  });
  return y;
}

Tensor avg_pool2d_backward(const Tensor& grad_output, const Tensor& self, IntArrayRef kernel_size,
                           IntArrayRef stride, IntArrayRef padding, bool ceil_mode,
                           bool count_include_pad, std::optional<int64_t> divisor_override) {
  constexpr std::string_view op = "avg_pool2d_backward";
  const Pool2dShape s =
      avg_pool_shape(op, self, kernel_size, stride, padding, ceil_mode, divisor_override);
  check_grad_output(op, grad_output, self, s);
  if (opmath::is_reduced(self)) {
    return opmath::compute(self.dtype(), avg_pool2d_backward, grad_output, self, kernel_size,
                           stride, padding, ceil_mode, count_include_pad, divisor_override);
  }
  const Tensor g = grad_output.to(self.dtype()).contiguous();
  Tensor gx = empty(self.sizes(), self.dtype());
  dispatch_floating_types(self.dtype(), op, [&]<typename T>() {
    const T* gp = g.data_ptr<T>();
    T* gxp = gx.data_ptr<T>();
    for_each_plane_run(s, [&](const Pool2dShape& run, int64_t in_off, int64_t out_off) {
      avg_pool2d_backward_reference(run, count_include_pad, divisor_override, gp + out_off,
                                    gxp + in_off);
    });
  });
  return gx;
}

namespace {
// Adaptive pooling's geometry: only the sizes (a Pool2dShape's kernel fields stay unused).
Pool2dShape adaptive_shape(std::string_view op, const Tensor& self, IntArrayRef output_size) {
  const int64_t d = self.dim();
  TT_CHECK(d == 3 || d == 4, op, ": Expected 3D or 4D tensor, but got ", self.sizes());
  for (int64_t i = d - 2; i < d; ++i) {  // H and W (C may be 0, as in PyTorch)
    TT_CHECK(self.size(i) != 0, op,
             ": Expected input to have non-zero size for non-batch dimensions, but input has "
             "sizes ",
             self.sizes(), " with dimension ", i, " being empty");
  }
  TT_CHECK_TYPE(self.is_floating_point(), op,
                ": expected a floating-point input (float32 or float64), but got ", self.dtype());
  TT_CHECK_VALUE(output_size.size() == 1 || output_size.size() == 2, op,
                 ": output_size must be a single int or {h, w}, but got ", output_size);
  const auto out = pair_arg(op, "output_size", output_size);
  TT_CHECK_VALUE(out[0] >= 0 && out[1] >= 0, op,
                 ": elements of output_size must be greater than or equal to 0 but received {",
                 out[0], ", ", out[1], "}");
  Pool2dShape s;
  s.planes = d == 4 ? self.size(0) * self.size(1) : self.size(0);
  s.in_h = self.size(-2);
  s.in_w = self.size(-1);
  s.out_h = out[0];
  s.out_w = out[1];
  return s;
}
}  // namespace

Tensor adaptive_avg_pool2d(const Tensor& self, IntArrayRef output_size) {
  const Pool2dShape s = adaptive_shape("adaptive_avg_pool2d", self, output_size);
  if (opmath::is_reduced(self)) {
    return opmath::compute(self.dtype(), adaptive_avg_pool2d, self, output_size);
  }
  const Tensor x = self.contiguous();
  Tensor y = empty(pooled_sizes(self, s.out_h, s.out_w), self.dtype());
  dispatch_floating_types(self.dtype(), "adaptive_avg_pool2d", [&]<typename T>() {
    const T* xp = x.data_ptr<T>();
    T* yp = y.data_ptr<T>();
    for_each_plane_run(s, [&](const Pool2dShape& run, int64_t in_off, int64_t out_off) {
      adaptive_avg_pool2d_forward_reference(run, xp + in_off, yp + out_off);
    });
  });
  return y;
}

Tensor adaptive_avg_pool2d_backward(const Tensor& grad_output, const Tensor& self) {
  constexpr std::string_view op = "adaptive_avg_pool2d_backward";
  TT_CHECK(grad_output.dim() == self.dim() && self.dim() >= 2, op,
           ": grad_output must have the input's rank, but got grad_output ", grad_output.sizes(),
           " for input ", self.sizes());
  const Pool2dShape s = adaptive_shape(op, self, {grad_output.size(-2), grad_output.size(-1)});
  check_grad_output(op, grad_output, self, s);
  if (opmath::is_reduced(self)) {
    return opmath::compute(self.dtype(), adaptive_avg_pool2d_backward, grad_output, self);
  }
  const Tensor g = grad_output.to(self.dtype()).contiguous();
  Tensor gx = empty(self.sizes(), self.dtype());
  dispatch_floating_types(self.dtype(), op, [&]<typename T>() {
    const T* gp = g.data_ptr<T>();
    T* gxp = gx.data_ptr<T>();
    for_each_plane_run(s, [&](const Pool2dShape& run, int64_t in_off, int64_t out_off) {
      adaptive_avg_pool2d_backward_reference(run, gp + out_off, gxp + in_off);
    });
  });
  return gx;
}

}  // namespace native

}  // namespace tinytorch
