// Module 09 — Spatial: 2-d convolution, from seven loops to im2col + GEMM
// (modules/09_spatial/README.md). Every nn::Conv2d forward pass ends here, through the public
// tinytorch::conv2d (which records ConvolutionBackward0 in module 05 and calls these natives
// with grad mode off).
//
//   x [N, C, H, W]      w [K, C/g, R, S]      b [K]      →      y [N, K, P, Q]
//
//   y[n][k][p][q] = b[k] + Σ_{c in k's group} Σ_r Σ_s  x[n][c][p·sh − ph + r·dh][q·sw − pw + s·dw]
//                                                      · w[k][c][r][s]      (x = 0 in the padding)
//
// Written as seven nested loops (n, k, p, q, c, r, s) this is conv2d_naive: correct, and slow —
// the inner loops are short (R·S = 25 for LeNet) and jump around the image. im2col rearranges
// one image so that the whole convolution becomes ONE matrix product, which module 01's GEMM (or
// module 18's) runs near the machine's peak:
//
//   image [C, H, W] ──im2col──► col [C·R·S, P·Q]      column (p, q) = the C·R·S pixels the
//                                                      kernel covers at output position (p, q)
//   y[n] [K, P·Q] = W [K, C·R·S] · col [C·R·S, P·Q]    (+ b[k] on row k)
//
// With groups g, channels split into g independent convolutions: W viewed [g, K/g, C/g·R·S] times
// col viewed [g, C/g·R·S, P·Q] is one batched matmul. The price is memory: col is R·S times the
// image (×25 for a 5×5 kernel, ×9 for 3×3) — the lab measures it.
//
// Backward differentiates y = W · col (per image and group):
//   ∂L/∂col = Wᵀ · ∂L/∂y   then col2im (im2col's adjoint: sums every column entry back onto the
//                           pixel it was copied from)                          → grad_input
//   ∂L/∂W  += ∂L/∂y · colᵀ  summed over the batch                               → grad_weight
//   ∂L/∂b   = Σ_{n,p,q} ∂L/∂y                                                   → grad_bias
//
// For float32, when module 18 registered the fast spatial kernels (kernels/spatial.h), they run
// instead of the reference path; float64 (the gradchecks) always runs the reference path.
// bfloat16 and float16 run the same im2col + GEMM in every tier, with float32 sums rounded once
// (conv2d_forward_16bit and conv2d_backward_16bit below).
#include "tinytorch/native/conv.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "gemm_dispatch.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch::native {

using kernels::Conv2dShape;

namespace {

// ── the learner's kernels ───────────────────────────────────────────────────────────────────

// y [N, K, P, Q] = conv2d(x [N, C, H, W], w [K, C/g, R, S]) + b [K] (b may be null), all
// contiguous: the definition above, one output element at a time.
template <typename T>
void conv2d_naive_kernel(const Conv2dShape& s, const T* x, const T* w, const T* b, T* y) {
  // BEGIN SOLUTION
  const int64_t C = s.in_channels, H = s.in_h, W = s.in_w, K = s.out_channels;
  const int64_t P = s.out_h, Q = s.out_w, R = s.kernel_h, S = s.kernel_w;
  const int64_t Cg = C / s.groups, Kg = K / s.groups;  // channels per group, in and out
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t k = 0; k < K; ++k) {
      const int64_t c0 = (k / Kg) * Cg;  // output channel k reads input channels c0 .. c0+Cg-1
      for (int64_t p = 0; p < P; ++p) {
        for (int64_t q = 0; q < Q; ++q) {
          T acc = b != nullptr ? b[k] : T(0);
          for (int64_t c = 0; c < Cg; ++c) {
            for (int64_t r = 0; r < R; ++r) {
              const int64_t h = p * s.stride_h - s.pad_h + r * s.dilation_h;
              if (h < 0 || h >= H) continue;  // the row lies in the zero padding
              for (int64_t t = 0; t < S; ++t) {
                const int64_t v = q * s.stride_w - s.pad_w + t * s.dilation_w;
                if (v < 0 || v >= W) continue;
                acc += x[((n * C + c0 + c) * H + h) * W + v] * w[((k * Cg + c) * R + r) * S + t];
              }
            }
          }
          y[((n * K + k) * P + p) * Q + q] = acc;
        }
      }
    }
  }
  // END SOLUTION
}

// col [channels·R·S, P·Q] = im2col(x [channels, H, W]): row (c, r, t) holds, for every output
// position (p, q), the pixel x[c][p·sh − ph + r·dh][q·sw − pw + t·dw], or 0 in the padding.
template <typename T>
void im2col_kernel(const Conv2dShape& s, int64_t channels, const T* x, T* col) {
  // BEGIN SOLUTION
  const int64_t H = s.in_h, W = s.in_w, P = s.out_h, Q = s.out_w;
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t r = 0; r < s.kernel_h; ++r) {
      for (int64_t t = 0; t < s.kernel_w; ++t) {
        T* row = col + ((c * s.kernel_h + r) * s.kernel_w + t) * P * Q;  // row (c, r, t)
        for (int64_t p = 0; p < P; ++p) {
          T* out = row + p * Q;
          const int64_t h = p * s.stride_h - s.pad_h + r * s.dilation_h;
          if (h < 0 || h >= H) {  // the whole output row reads padding
            std::fill_n(out, Q, T(0));
            continue;
          }
          const T* in = x + (c * H + h) * W;
          for (int64_t q = 0; q < Q; ++q) {
            const int64_t v = q * s.stride_w - s.pad_w + t * s.dilation_w;
            out[q] = v >= 0 && v < W ? in[v] : T(0);
          }
        }
      }
    }
  }
  // END SOLUTION
}

// x [channels, H, W] = col2im(col [channels·R·S, P·Q]): the adjoint of im2col. x is overwritten
// with zeros first; then every column entry is ADDED onto the pixel im2col copied it from (a pixel
// under several kernel positions receives several contributions; padding entries are dropped).
template <typename T>
void col2im_kernel(const Conv2dShape& s, int64_t channels, const T* col, T* x) {
  // BEGIN SOLUTION
  const int64_t H = s.in_h, W = s.in_w, P = s.out_h, Q = s.out_w;
  std::fill_n(x, channels * H * W, T(0));
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t r = 0; r < s.kernel_h; ++r) {
      for (int64_t t = 0; t < s.kernel_w; ++t) {
        const T* row = col + ((c * s.kernel_h + r) * s.kernel_w + t) * P * Q;
        for (int64_t p = 0; p < P; ++p) {
          const int64_t h = p * s.stride_h - s.pad_h + r * s.dilation_h;
          if (h < 0 || h >= H) continue;
          T* out = x + (c * H + h) * W;
          for (int64_t q = 0; q < Q; ++q) {
            const int64_t v = q * s.stride_w - s.pad_w + t * s.dilation_w;
            if (v >= 0 && v < W) out[v] += row[p * Q + q];
          }
        }
      }
    }
  }
  // END SOLUTION
}

// The reference tier's forward: y [N, K, P, Q] (allocated) from contiguous x, w and b (or
// undefined). Per image: im2col into one reused buffer, then one batched matmul over the groups,
//   W viewed [g, K/g, C/g·R·S]  ·  col viewed [g, C/g·R·S, P·Q]  =  [g, K/g, P·Q] = y[n] [K, P·Q],
// then the bias added to each row.
template <typename T>
void conv2d_reference(const Conv2dShape& s, const Tensor& x, const Tensor& w, const Tensor& b,
                      Tensor& y) {
  // BEGIN SOLUTION
  const int64_t G = s.groups, C = s.in_channels, K = s.out_channels;
  const int64_t CgRS = C / G * s.kernel_h * s.kernel_w, PQ = s.out_h * s.out_w;
  const Tensor w3 = native::view(w, {G, K / G, CgRS});  // [g, K/g, C/g·R·S]
  const Tensor col = empty({G, CgRS, PQ}, x.dtype());   // one image's columns, reused
  const T* px = x.data_ptr<T>();
  T* py = y.data_ptr<T>();
  for (int64_t n = 0; n < s.batch; ++n) {
    im2col_kernel<T>(s, C, px + n * C * s.in_h * s.in_w, col.data_ptr<T>());
    const Tensor yn = native::matmul(w3, col);  // [g, K/g, P·Q] = [K, P·Q], contiguous
    T* out = py + n * K * PQ;
    std::copy_n(yn.data_ptr<T>(), K * PQ, out);
    if (b.defined()) {
      const T* pb = b.data_ptr<T>();
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t i = 0; i < PQ; ++i) out[k * PQ + i] += pb[k];
      }
    }
  }
  // END SOLUTION
}

// The reference tier's backward, given gy = ∂L/∂y [N, K, P, Q] and the forward's x and w (all
// contiguous). Writes each of gx [N, C, H, W], gw [K, C/g, R, S], gb [K] that is defined (the
// caller allocated it), and skips the others.
template <typename T>
void conv2d_backward_reference(const Conv2dShape& s, const Tensor& gy, const Tensor& x,
                               const Tensor& w, const Tensor& gx, const Tensor& gw,
                               const Tensor& gb) {
  // BEGIN SOLUTION
  const int64_t G = s.groups, C = s.in_channels, K = s.out_channels;
  const int64_t CgRS = C / G * s.kernel_h * s.kernel_w, PQ = s.out_h * s.out_w;
  const int64_t CHW = C * s.in_h * s.in_w;
  // Wᵀ per group [g, C/g·R·S, K/g]: a transposed view, never copied.
  const Tensor wt = native::transpose(native::view(w, {G, K / G, CgRS}), 1, 2);
  Tensor gw3 = gw.defined() ? native::view(gw, {G, K / G, CgRS}) : Tensor();
  if (gw.defined()) native::fill_(gw3, 0);
  const Tensor col = gw.defined() ? empty({G, CgRS, PQ}, x.dtype()) : Tensor();
  for (int64_t n = 0; n < s.batch; ++n) {
    const Tensor gyn = native::view(native::select(gy, 0, n), {G, K / G, PQ});  // ∂L/∂y[n]
    if (gx.defined()) {
      // y[n] = W · col  ⇒  ∂L/∂col = Wᵀ · ∂L/∂y[n]; col2im sums it back onto the pixels.
      const Tensor gcol = native::matmul(wt, gyn);  // [g, C/g·R·S, P·Q] = [C·R·S, P·Q]
      col2im_kernel<T>(s, C, gcol.data_ptr<T>(), gx.data_ptr<T>() + n * CHW);
    }
    if (gw.defined()) {
      // y[n] = W · col  ⇒  ∂L/∂W += ∂L/∂y[n] · colᵀ   ([g, K/g, P·Q] · [g, P·Q, C/g·R·S])
      im2col_kernel<T>(s, C, x.data_ptr<T>() + n * CHW, col.data_ptr<T>());
      native::add_(gw3, native::matmul(gyn, native::transpose(col, 1, 2)), 1);
    }
  }
  if (gb.defined()) {  // y = ... + b[k] at every (n, p, q)  ⇒  ∂L/∂b[k] = Σ_{n,p,q} ∂L/∂y
    T* pb = gb.data_ptr<T>();
    const T* g = gy.data_ptr<T>();
    std::fill_n(pb, K, T(0));
    for (int64_t n = 0; n < s.batch; ++n) {
      for (int64_t k = 0; k < K; ++k) {
        for (int64_t i = 0; i < PQ; ++i) pb[k] += g[(n * K + k) * PQ + i];
      }
    }
  }
  // END SOLUTION
}

// ── bfloat16 and float16 ──────────────────────────────────────────────────────────────────────
// The reference path's im2col + GEMM, on the 16-bit tensors themselves: im2col copies 16-bit
// pixels (no float32 copy of the image), the 16-bit GEMM (gemm_dispatch.h) sums in float32 into
// a float32 buffer, and every output — y, gx, gw, gb — is rounded once from its float32 value,
// after the bias (added in float32 too) and, for gx, after col2im's sums (run on float32).

// y [N, K, P, Q] from contiguous 16-bit x, w and b (or undefined). Per image and group,
//   sums[k] = b[k] (or 0),   sums [K/g, P·Q] += W_g [K/g, C/g·R·S] · col_g [C/g·R·S, P·Q],
// then y[n] = round(sums).
template <typename T>
void conv2d_forward_16bit(const Conv2dShape& s, const Tensor& x, const Tensor& w, const Tensor& b,
                          Tensor& y) {
  const int64_t G = s.groups, C = s.in_channels, K = s.out_channels, Kg = K / G;
  const int64_t CgRS = C / G * s.kernel_h * s.kernel_w, PQ = s.out_h * s.out_w;
  const Tensor col = empty({G, CgRS, PQ}, x.dtype());  // one image's columns, reused
  const Tensor sums = empty({K, PQ}, kFloat32);
  const Tensor bias = b.defined() ? empty({K}, kFloat32) : Tensor();
  if (b.defined()) detail::widen_to_float<T>(K, b.data_ptr<T>(), bias.data_ptr<float>());
  const T *px = x.data_ptr<T>(), *pw = w.data_ptr<T>();
  T* pc = col.data_ptr<T>();
  float* acc = sums.data_ptr<float>();
  for (int64_t n = 0; n < s.batch; ++n) {
    im2col_kernel<T>(s, C, px + n * C * s.in_h * s.in_w, pc);
    if (b.defined()) {
      for (int64_t k = 0; k < K; ++k) std::fill_n(acc + k * PQ, PQ, bias.data_ptr<float>()[k]);
    }
    for (int64_t g = 0; g < G; ++g) {
      detail::gemm_16bit<T>(false, false, Kg, PQ, CgRS, pw + g * Kg * CgRS, CgRS,
                            pc + g * CgRS * PQ, PQ, b.defined() ? 1.0f : 0.0f, acc + g * Kg * PQ,
                            PQ);
    }
    detail::round_from_float<T>(K * PQ, acc, y.data_ptr<T>() + n * K * PQ);
  }
}

// conv2d_backward_reference for 16-bit tensors: each of gx, gw, gb that is defined, from gy, x and
// w (contiguous), summed in float32 and rounded once. gx_bias [C] (float32, or undefined) is added
// to gx before its rounding: conv_transpose2d's bias, since its forward is this gx.
//   gx[n] = round(col2im(Wᵀ · gy[n]) + gx_bias)     the GEMM's float32 columns summed by col2im
//   gw    = round(Σ_n gy[n] · im2col(x[n])ᵀ)         one float32 sum over the batch
//   gb    = round(Σ_{n,p,q} gy)
template <typename T>
void conv2d_backward_16bit(const Conv2dShape& s, const Tensor& gy, const Tensor& x, const Tensor& w,
                           const Tensor& gx, const Tensor& gw, const Tensor& gb,
                           const Tensor& gx_bias) {
  const int64_t G = s.groups, C = s.in_channels, K = s.out_channels, Kg = K / G;
  const int64_t CgRS = C / G * s.kernel_h * s.kernel_w, PQ = s.out_h * s.out_w;
  const int64_t HW = s.in_h * s.in_w, CHW = C * HW;
  const T* pg = gy.data_ptr<T>();
  if (gx.defined()) {
    const Tensor gcol = empty({G, CgRS, PQ}, kFloat32),
                 image = empty({C, s.in_h, s.in_w}, kFloat32);
    float *pcol = gcol.data_ptr<float>(), *pimage = image.data_ptr<float>();
    const T* pw = w.data_ptr<T>();
    for (int64_t n = 0; n < s.batch; ++n) {
      for (int64_t g = 0; g < G; ++g) {  // W_g is stored [K/g, C/g·R·S]: Wᵀ is its transpose
        detail::gemm_16bit<T>(true, false, CgRS, PQ, Kg, pw + g * Kg * CgRS, CgRS,
                              pg + (n * K + g * Kg) * PQ, PQ, 0.0f, pcol + g * CgRS * PQ, PQ);
      }
      col2im_kernel<float>(s, C, pcol, pimage);
      if (gx_bias.defined()) {
        const float* pb = gx_bias.data_ptr<float>();
        for (int64_t c = 0; c < C; ++c) {
          for (int64_t i = 0; i < HW; ++i) pimage[c * HW + i] += pb[c];
        }
      }
      detail::round_from_float<T>(CHW, pimage, gx.data_ptr<T>() + n * CHW);
    }
  }
  if (gw.defined()) {
    const Tensor col = empty({G, CgRS, PQ}, x.dtype()), sums = empty({K, CgRS}, kFloat32);
    T* pc = col.data_ptr<T>();
    float* acc = sums.data_ptr<float>();
    if (s.batch == 0) std::fill_n(acc, K * CgRS, 0.0f);
    for (int64_t n = 0; n < s.batch; ++n) {
      im2col_kernel<T>(s, C, x.data_ptr<T>() + n * CHW, pc);
      for (int64_t g = 0; g < G; ++g) {  // col_g is stored [C/g·R·S, P·Q]: colᵀ is its transpose
        detail::gemm_16bit<T>(false, true, Kg, CgRS, PQ, pg + (n * K + g * Kg) * PQ, PQ,
                              pc + g * CgRS * PQ, PQ, n == 0 ? 0.0f : 1.0f, acc + g * Kg * CgRS,
                              CgRS);
      }
    }
    detail::round_from_float<T>(K * CgRS, acc, gw.data_ptr<T>());
  }
  if (gb.defined()) {
    std::vector<float> acc(static_cast<size_t>(K), 0.0f);
    for (int64_t n = 0; n < s.batch; ++n) {
      for (int64_t k = 0; k < K; ++k) {
        const T* g = pg + (n * K + k) * PQ;
        for (int64_t i = 0; i < PQ; ++i) acc[k] += static_cast<float>(g[i]);
      }
    }
    detail::round_from_float<T>(K, acc.data(), gb.data_ptr<T>());
  }
}

// dispatch_floating_types with bfloat16 and float16 added.
template <typename F>
void dispatch_conv_types(ScalarType t, const char* op, F&& f) {
  if (t == kBFloat16) return f.template operator()<BFloat16>();
  if (t == kHalf) return f.template operator()<Half>();
  dispatch_floating_types(t, op, std::forward<F>(f));
}

// ── shapes and checks (given) ───────────────────────────────────────────────────────────────

// Writes each of gx [N, C, H, W], gw [K, C/g, R, S], gb [K] that is defined (allocated by the
// caller), given gy = ∂L/∂y [N, K, P, Q] and the forward's x and w (all contiguous; x may be
// undefined when gw is): the fast tier's float32 kernels where registered and fast_allowed, the
// reference path for whatever they did not compute. conv_transpose2d's forward is the gx of this
// (gy := its input).
template <typename T>
void conv2d_backward_tiers(const Conv2dShape& s, const Tensor& gy, const Tensor& x, const Tensor& w,
                           const Tensor& gx, const Tensor& gw, const Tensor& gb,
                           bool fast_allowed) {
  bool fast_input = false, fast_weight = false;
  if constexpr (std::is_same_v<T, float>) {
    const kernels::SpatialKernels& fast = kernels::fast_kernels().spatial;
    if (fast_allowed && gx.defined() && fast.conv2d_backward_input != nullptr) {
      fast.conv2d_backward_input(s, gy.data_ptr<T>(), w.data_ptr<T>(), gx.data_ptr<T>());
      fast_input = true;
    }
    if (fast_allowed && gw.defined() && fast.conv2d_backward_weight != nullptr) {
      fast.conv2d_backward_weight(s, gy.data_ptr<T>(), x.data_ptr<T>(), gw.data_ptr<T>(),
                                  gb.defined() ? gb.data_ptr<T>() : nullptr);
      fast_weight = true;
    }
  }
  conv2d_backward_reference<T>(s, gy, x, w, fast_input ? Tensor() : gx, fast_weight ? Tensor() : gw,
                               fast_weight ? Tensor() : gb);
}

// {h, w} from a one- or two-element list argument (PyTorch's message for any other length).
std::array<int64_t, 2> conv_pair_arg(IntArrayRef v, const char* name, const char* op) {
  TT_CHECK(v.size() == 1 || v.size() == 2, op, ": expected ", name,
           " to be a single integer value or a list of 2 values to match the convolution "
           "dimensions, but got ",
           name, "=", v);
  return {v[0], v[v.size() - 1]};
}

// Checks stride, padding and dilation and fills them into s.
void fill_geometry_args(Conv2dShape& s, IntArrayRef stride, IntArrayRef padding,
                        IntArrayRef dilation, const char* op) {
  const auto st = conv_pair_arg(stride, "stride", op), pd = conv_pair_arg(padding, "padding", op),
             dl = conv_pair_arg(dilation, "dilation", op);
  // (The pairs are printed as expanded, [h, w]: a single 0 is reported as [0, 0], as PyTorch.)
  TT_CHECK(st[0] > 0 && st[1] > 0, op,
           ": non-positive stride is not supported (got stride=", IntArrayRef(st.data(), 2), ")");
  TT_CHECK(pd[0] >= 0 && pd[1] >= 0, op,
           ": negative padding is not supported (got padding=", IntArrayRef(pd.data(), 2), ")");
  TT_CHECK(dl[0] > 0 && dl[1] > 0, op, ": dilation should be greater than zero, but got ",
           IntArrayRef(dl.data(), 2));
  s.stride_h = st[0], s.stride_w = st[1], s.pad_h = pd[0], s.pad_w = pd[1];
  s.dilation_h = dl[0], s.dilation_w = dl[1];
}

// Checks stride, padding and dilation, and that the dilated kernel fits the padded input; fills
// them and the output size into s (whose in_h, in_w, kernel_h and kernel_w are set).
void fill_geometry(Conv2dShape& s, IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation,
                   const char* op) {
  fill_geometry_args(s, stride, padding, dilation, op);
  // The dilated kernel spans dil·(R − 1) + 1 pixels; the padded input must hold it at least once.
  const int64_t span_h = s.dilation_h * (s.kernel_h - 1) + 1;
  const int64_t span_w = s.dilation_w * (s.kernel_w - 1) + 1;
  const int64_t padded_h = s.in_h + 2 * s.pad_h, padded_w = s.in_w + 2 * s.pad_w;
  TT_CHECK(padded_h >= span_h && padded_w >= span_w, op,
           ": Calculated padded input size per channel: (", padded_h, " x ", padded_w,
           "). Kernel size: (", span_h, " x ", span_w,
           "). Kernel size can't be greater than actual input size");
  s.out_h = (padded_h - span_h) / s.stride_h + 1;
  s.out_w = (padded_w - span_w) / s.stride_w + 1;
}

// The input as a batch: [C, H, W] → [1, C, H, W] (a view), [N, C, H, W] as it is.
Tensor batched(const Tensor& input) {
  return input.dim() == 3 ? native::unsqueeze(input, 0) : input;
}

// The checks conv2d and conv_transpose2d share: defined operands, their ranks and dtypes, and
// groups. weight_layout names the weight's dims in the messages.
void check_conv_operands(const Tensor& input, const Tensor& weight, const Tensor& bias,
                         int64_t groups, const char* op, const char* weight_layout) {
  TT_CHECK(input.defined() && weight.defined(), op,
           ": input and weight must be defined tensors (got an undefined ",
           input.defined() ? "weight" : "input", ")");
  TT_CHECK(input.dim() == 3 || input.dim() == 4,
           "Expected 3D (unbatched) or 4D (batched) input to ", op,
           ", but got input of size: ", input.sizes());
  TT_CHECK(weight.dim() == 4, op, ": expected a 4-D weight ", weight_layout, ", but got a ",
           weight.dim(), "-D weight of size ", weight.sizes());
  TT_CHECK_TYPE(is_floating_point(input.dtype()), op, ": not implemented for dtype ", input.dtype(),
                ": convolution needs a floating-point input, float32, float64, bfloat16 or "
                "float16 (convert with .to(kFloat32))");
  check_same_dtype(op, "input", input, "weight", weight);
  TT_CHECK_TYPE(!bias.defined() || bias.dtype() == input.dtype(), op, ": Input type (",
                input.dtype(), ") and bias type (", bias.defined() ? bias.dtype() : input.dtype(),
                ") should be the same (hint: run it under autocast, which casts the operands of "
                "the GEMM ops to one dtype, or convert one with .to(dtype))");
  TT_CHECK(groups > 0, op, ": non-positive groups is not supported (got groups=", groups, ")");
}

// The forward of both implementations: checks, contiguous operands, output, tier dispatch.
Tensor conv2d_impl(const Tensor& input, const Tensor& weight, const Tensor& bias,
                   IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation, int64_t groups,
                   bool naive) {
  const Conv2dShape s = conv2d_shape(input, weight, bias, stride, padding, dilation, groups);
  const Tensor x = batched(input).contiguous(), w = weight.contiguous();
  const Tensor b = bias.defined() ? bias.contiguous() : Tensor();
  Tensor y = empty({s.batch, s.out_channels, s.out_h, s.out_w}, input.dtype());
  if (y.numel() > 0) {
    dispatch_conv_types(input.dtype(), "conv2d", [&]<typename T>() {
      if constexpr (detail::is_16bit_float<T>) {  // every tier, naive included
        conv2d_forward_16bit<T>(s, x, w, b, y);
        return;
      } else {
        const T* pb = b.defined() ? b.data_ptr<T>() : nullptr;
        if (naive) {
          conv2d_naive_kernel<T>(s, x.data_ptr<T>(), w.data_ptr<T>(), pb, y.data_ptr<T>());
          return;
        }
        if constexpr (std::is_same_v<T, float>) {
          if (const auto fast = kernels::fast_kernels().spatial.conv2d_forward) {
            fast(s, x.data_ptr<T>(), w.data_ptr<T>(), pb, y.data_ptr<T>());
            return;
          }
        }
        conv2d_reference<T>(s, x, w, b, y);
      }
    });
  }
  return input.dim() == 3 ? native::view(y, {s.out_channels, s.out_h, s.out_w}) : y;
}

// conv_transpose2d's checks (PyTorch's messages), and the geometry of the convolution whose input
// gradient it is: that convolution reads the transposed output [N, C_out, H_out, W_out] (its
// "input") with the same weight [C_in, C_out/g, R, S] (its out_channels = C_in) and produces the
// transposed input [N, C_in, H, W] (its "output"). For each spatial dim
//   H_out = (H − 1)·stride − 2·padding + dilation·(R − 1) + output_padding + 1.
// exact is set false when the convolution of an H_out-row image would have more than H rows
// (output_padding ≥ stride, which PyTorch allows while output_padding < dilation).
Conv2dShape conv_transpose2d_shape(const Tensor& input, const Tensor& weight, const Tensor& bias,
                                   IntArrayRef stride, IntArrayRef padding,
                                   IntArrayRef output_padding, int64_t groups, IntArrayRef dilation,
                                   bool& exact) {
  const char* op = "conv_transpose2d";
  check_conv_operands(input, weight, bias, groups, op,
                      "[in_channels, out_channels / groups, kH, kW]");
  const Tensor x = batched(input);
  Conv2dShape s;
  s.batch = x.size(0), s.out_channels = x.size(1), s.out_h = x.size(2), s.out_w = x.size(3);
  s.in_channels = weight.size(1) * groups, s.kernel_h = weight.size(2), s.kernel_w = weight.size(3);
  s.groups = groups;
  TT_CHECK(weight.size(0) % groups == 0, op, ": Given groups=", groups,
           ", expected weight to be divisible by ", groups,
           " at dimension 0, but got weight of size ", weight.sizes(),
           " instead (in_channels = weight.size(0) must be a multiple of groups)");
  TT_CHECK(s.out_channels == weight.size(0), op, ": Given transposed=1, weight of size ",
           weight.sizes(), ", expected input", input.sizes(), " to have ", weight.size(0),
           " channels, but got ", s.out_channels,
           " channels instead (a transposed weight is [in_channels, out_channels / groups, kH, "
           "kW])",
           conv2d_layout_hint(input.sizes(), weight.size(0)));
  TT_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == s.in_channels), op,
           ": Given transposed=1, weight of size ", weight.sizes(),
           ", expected bias to be 1-dimensional with ", s.in_channels,
           " elements, but got bias of size ", bias.defined() ? bias.sizes() : IntArrayRef(),
           " instead (out_channels = weight.size(1) · groups)");
  TT_CHECK(s.kernel_h > 0 && s.kernel_w > 0 && s.in_channels > 0, op,
           ": the kernel must not be empty, but got weight of size ", weight.sizes());
  TT_CHECK(s.out_channels > 0 && s.out_h > 0 && s.out_w > 0, op,
           ": non-empty 3D or 4D input tensor expected (the batch may be empty), but got input of "
           "size ",
           input.sizes());
  fill_geometry_args(s, stride, padding, dilation, op);
  const auto opad = conv_pair_arg(output_padding, "output_padding", op);
  TT_CHECK(opad[0] >= 0 && opad[1] >= 0, op,
           ": negative output_padding is not supported (got output_padding=",
           IntArrayRef(opad.data(), 2), ")");
  TT_CHECK((opad[0] < s.stride_h || opad[0] < s.dilation_h) &&
               (opad[1] < s.stride_w || opad[1] < s.dilation_w),
           op,
           ": output padding must be smaller than either stride or dilation, but got "
           "output_padding_height: ",
           opad[0], " output_padding_width: ", opad[1], " stride_height: ", s.stride_h,
           " stride_width: ", s.stride_w, " dilation_height: ", s.dilation_h,
           " dilation_width: ", s.dilation_w);
  s.in_h = (s.out_h - 1) * s.stride_h - 2 * s.pad_h + s.dilation_h * (s.kernel_h - 1) + opad[0] + 1;
  s.in_w = (s.out_w - 1) * s.stride_w - 2 * s.pad_w + s.dilation_w * (s.kernel_w - 1) + opad[1] + 1;
  TT_CHECK(s.in_h > 0 && s.in_w > 0, op, ": Given input size per channel: (", s.out_h, " x ",
           s.out_w, "). Calculated output size per channel: (", s.in_h, " x ", s.in_w,
           "). Output size is too small (padding ", s.pad_h, " x ", s.pad_w,
           " crops more than the output has)");
  exact = opad[0] < s.stride_h && opad[1] < s.stride_w;
  return s;
}

}  // namespace

std::string conv2d_layout_hint(IntArrayRef input_sizes, int64_t expected_channels) {
  if (input_sizes.size() < 3 || input_sizes[input_sizes.size() - 1] != expected_channels) return "";
  return detail::str(" — its last dim is ", expected_channels,
                     ": is it channels-last (NHWC)? conv2d reads NCHW; convert with ",
                     input_sizes.size() == 4 ? "x.permute({0, 3, 1, 2})" : "x.permute({2, 0, 1})",
                     " (then .contiguous() for speed)");
}

Conv2dShape conv2d_shape(const Tensor& input, const Tensor& weight, const Tensor& bias,
                         IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation,
                         int64_t groups, const char* op) {
  check_conv_operands(input, weight, bias, groups, op,
                      "[out_channels, in_channels / groups, kH, kW]");
  const Tensor x = batched(input);
  Conv2dShape s;
  s.batch = x.size(0), s.in_channels = x.size(1), s.in_h = x.size(2), s.in_w = x.size(3);
  s.out_channels = weight.size(0), s.kernel_h = weight.size(2), s.kernel_w = weight.size(3);
  s.groups = groups;
  TT_CHECK(s.out_channels > 0, op, ": Given groups=", groups,
           ", expected weight to be at least 1 at dimension 0, but got weight of size ",
           weight.sizes(), " instead (dimension 0 is out_channels)");
  TT_CHECK(s.out_channels % groups == 0, op, ": Given groups=", groups,
           ", expected weight to be divisible by ", groups,
           " at dimension 0, but got weight of size ", weight.sizes(),
           " instead (out_channels = weight.size(0) must be a multiple of groups)");
  const int64_t expected = weight.size(1) * groups;  // C = (C / groups) · groups
  TT_CHECK(s.in_channels == expected, op, ": Given groups=", groups, ", weight of size ",
           weight.sizes(), ", expected input", input.sizes(), " to have ", expected,
           " channels, but got ", s.in_channels,
           " channels instead (expected C = weight.size(1) · groups = ", weight.size(1), " · ",
           groups, " = ", expected, ")", conv2d_layout_hint(input.sizes(), expected));
  TT_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == s.out_channels), op,
           ": Given weight of size ", weight.sizes(), ", expected bias to be 1-dimensional with ",
           s.out_channels, " elements, but got bias of size ",
           bias.defined() ? bias.sizes() : IntArrayRef(), " instead");
  TT_CHECK(s.kernel_h > 0 && s.kernel_w > 0, op,
           ": the kernel must not be empty, but got weight of size ", weight.sizes());
  fill_geometry(s, stride, padding, dilation, op);
  return s;
}

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
              IntArrayRef padding, IntArrayRef dilation, int64_t groups) {
  return conv2d_impl(input, weight, bias, stride, padding, dilation, groups, /*naive=*/false);
}

Tensor conv2d_naive(const Tensor& input, const Tensor& weight, const Tensor& bias,
                    IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation, int64_t groups) {
  return conv2d_impl(input, weight, bias, stride, padding, dilation, groups, /*naive=*/true);
}

std::tuple<Tensor, Tensor, Tensor> conv2d_backward(const Tensor& grad_output, const Tensor& input,
                                                   const Tensor& weight, IntArrayRef stride,
                                                   IntArrayRef padding, IntArrayRef dilation,
                                                   int64_t groups,
                                                   std::array<bool, 3> output_mask) {
  const Conv2dShape s =
      conv2d_shape(input, weight, Tensor(), stride, padding, dilation, groups, "conv2d_backward");
  const std::vector<int64_t> y_shape =
      input.dim() == 3 ? std::vector<int64_t>{s.out_channels, s.out_h, s.out_w}
                       : std::vector<int64_t>{s.batch, s.out_channels, s.out_h, s.out_w};
  TT_CHECK(grad_output.defined() && grad_output.sizes() == IntArrayRef(y_shape),
           "conv2d_backward: expected grad_output of size ", IntArrayRef(y_shape),
           " (the forward's output), but got ",
           grad_output.defined() ? grad_output.sizes() : IntArrayRef());
  TT_CHECK_TYPE(grad_output.dtype() == input.dtype(), "conv2d_backward: grad_output has dtype ",
                grad_output.dtype(), ", but the input has ", input.dtype());
  const Tensor x = batched(input).contiguous(), w = weight.contiguous();
  const Tensor gy = batched(grad_output).contiguous();
  Tensor gx = output_mask[0] ? empty(x.sizes(), x.dtype()) : Tensor();
  const Tensor gw = output_mask[1] ? empty(weight.sizes(), x.dtype()) : Tensor();
  const Tensor gb = output_mask[2] ? empty({s.out_channels}, x.dtype()) : Tensor();
  dispatch_conv_types(x.dtype(), "conv2d_backward", [&]<typename T>() {
    if constexpr (detail::is_16bit_float<T>) {
      conv2d_backward_16bit<T>(s, gy, x, w, gx, gw, gb, Tensor());
    } else {
      conv2d_backward_tiers<T>(s, gy, x, w, gx, gw, gb, /*fast_allowed=*/true);
    }
  });
  if (gx.defined() && input.dim() == 3) gx = native::view(gx, input.sizes());
  return {gx, gw, gb};
}

Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
                        IntArrayRef stride, IntArrayRef padding, IntArrayRef output_padding,
                        int64_t groups, IntArrayRef dilation) {
  bool exact = true;
  const Conv2dShape s = conv_transpose2d_shape(input, weight, bias, stride, padding, output_padding,
                                               groups, dilation, exact);
  const Tensor x = batched(input).contiguous(), w = weight.contiguous();
  // y is the convolution's input gradient for grad_output := x: y [N, C_out, H_out, W_out].
  Tensor y = empty({s.batch, s.in_channels, s.in_h, s.in_w}, input.dtype());
  if (y.numel() > 0) {
    dispatch_conv_types(input.dtype(), "conv_transpose2d", [&]<typename T>() {
      if constexpr (detail::is_16bit_float<T>) {  // the bias joins the float32 sums: one rounding
        Tensor b;
        if (bias.defined()) {
          b = empty({s.in_channels}, kFloat32);
          detail::widen_to_float<T>(s.in_channels, bias.contiguous().data_ptr<T>(),
                                    b.data_ptr<float>());
        }
        conv2d_backward_16bit<T>(s, x, Tensor(), w, y, Tensor(), Tensor(), b);
      } else {
        // NOTE: the fast kernels assume s is a convolution's own geometry (in_h determines
        // out_h); with output_padding ≥ stride (allowed while it is < dilation) it is not, and
        // the reference path runs: its GEMM + col2im reads s's sizes as they are.
        conv2d_backward_tiers<T>(s, x, Tensor(), w, y, Tensor(), Tensor(),
                                 /*fast_allowed=*/exact);
        if (bias.defined()) native::add_(y, native::view(bias, {1, s.in_channels, 1, 1}), 1);
      }
    });
  }
  return input.dim() == 3 ? native::view(y, {s.in_channels, s.in_h, s.in_w}) : y;
}

Tensor im2col(const Tensor& image, IntArrayRef kernel_size, IntArrayRef stride, IntArrayRef padding,
              IntArrayRef dilation) {
  TT_CHECK(image.defined() && image.dim() == 3, "im2col: expected one image [C, H, W], but got ",
           image.defined() ? image.sizes() : IntArrayRef());
  const auto kernel = conv_pair_arg(kernel_size, "kernel_size", "im2col");
  TT_CHECK(kernel[0] > 0 && kernel[1] > 0, "im2col: kernel_size must be positive, but got ",
           kernel_size);
  Conv2dShape s;
  s.in_channels = image.size(0), s.in_h = image.size(1), s.in_w = image.size(2);
  s.kernel_h = kernel[0], s.kernel_w = kernel[1];
  fill_geometry(s, stride, padding, dilation, "im2col");
  const Tensor x = image.contiguous();
  Tensor col = empty({s.in_channels * s.kernel_h * s.kernel_w, s.out_h * s.out_w}, x.dtype());
  if (col.numel() > 0) {
    dispatch_floating_types(x.dtype(), "im2col", [&]<typename T>() {
      im2col_kernel<T>(s, s.in_channels, x.data_ptr<T>(), col.data_ptr<T>());
    });
  }
  return col;
}

Tensor col2im(const Tensor& columns, IntArrayRef image_size, IntArrayRef kernel_size,
              IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation) {
  TT_CHECK(image_size.size() == 3 && image_size[0] >= 0 && image_size[1] >= 0 && image_size[2] >= 0,
           "col2im: expected image_size {C, H, W}, but got ", image_size);
  const auto kernel = conv_pair_arg(kernel_size, "kernel_size", "col2im");
  TT_CHECK(kernel[0] > 0 && kernel[1] > 0, "col2im: kernel_size must be positive, but got ",
           kernel_size);
  Conv2dShape s;
  s.in_channels = image_size[0], s.in_h = image_size[1], s.in_w = image_size[2];
  s.kernel_h = kernel[0], s.kernel_w = kernel[1];
  fill_geometry(s, stride, padding, dilation, "col2im");
  const std::vector<int64_t> col_shape = {s.in_channels * s.kernel_h * s.kernel_w,
                                          s.out_h * s.out_w};
  TT_CHECK(columns.defined() && columns.sizes() == IntArrayRef(col_shape),
           "col2im: expected columns of size ", IntArrayRef(col_shape), " (C·kH·kW, P·Q), but got ",
           columns.defined() ? columns.sizes() : IntArrayRef());
  const Tensor col = columns.contiguous();
  Tensor image = empty(image_size, col.dtype());
  if (image.numel() > 0) {
    dispatch_floating_types(col.dtype(), "col2im", [&]<typename T>() {
      col2im_kernel<T>(s, s.in_channels, col.data_ptr<T>(), image.data_ptr<T>());
    });
  }
  return image;
}

}  // namespace tinytorch::native
