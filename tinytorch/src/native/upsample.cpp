// Resizing images [N, C, H, W] → [N, C, OH, OW] (F.interpolate, nn::Upsample): nearest and
// bilinear, each output pixel computed from where it lands in the input.
//
// Where output index o lands, per axis (PyTorch's arithmetic, so the values agree bit for bit
// in the common cases), with s = 1 / scale_factor when the caller gave one, else in / out:
//
//   nearest:                 src = min(⌊o · s⌋, in − 1)           (float arithmetic)
//   bilinear, align_corners: src = o · (in − 1) / (out − 1)      corner pixels map to corners
//   bilinear, otherwise:     src = max((o + ½) · s − ½, 0)        pixel centres map to centres
//
// Bilinear then blends the two neighbours i0 = ⌊src⌋ and i1 = min(i0 + 1, in − 1) of each axis
// with weights (1 − λ, λ), λ = src − i0. The backward kernels send each output gradient back to
// the same input pixels with the same weights (scatter-add: several outputs share inputs).
#include <algorithm>
#include <cmath>
#include <vector>

#include "tinytorch/native/padding.h"

namespace tinytorch {

namespace {

void check_upsample(std::string_view op, IntArrayRef input_sizes, IntArrayRef output_size) {
  TT_CHECK_VALUE(input_sizes.size() == 4, op, ": expected a 4-d input [N, C, H, W], got ",
                 input_sizes.size(), "-d ", input_sizes);
  TT_CHECK_VALUE(output_size.size() == 2, op, ": output_size must hold 2 values {OH, OW}, got ",
                 output_size);
  TT_CHECK_VALUE(
      input_sizes[2] > 0 && input_sizes[3] > 0 && output_size[0] > 0 && output_size[1] > 0, op,
      ": input and output sizes should be greater than 0, but got input (H: ", input_sizes[2],
      ", W: ", input_sizes[3], ") output (H: ", output_size[0], ", W: ", output_size[1], ")");
}

// 1 / scale when a positive scale was given, else in / out (PyTorch's compute_scales_value).
template <typename T>
T source_scale(std::optional<double> scale, int64_t in, int64_t out) {
  return scale && *scale > 0 ? static_cast<T>(1.0 / *scale)
                             : static_cast<T>(in) / static_cast<T>(out);
}

// The input index every output index of one axis reads (nearest).
std::vector<int64_t> nearest_indices(int64_t in, int64_t out, std::optional<double> scale) {
  std::vector<int64_t> src(static_cast<size_t>(out));
  const float s = source_scale<float>(scale, in, out);
  for (int64_t o = 0; o < out; ++o) {
    src[static_cast<size_t>(o)] =
        std::min(static_cast<int64_t>(std::floor(static_cast<float>(o) * s)), in - 1);
  }
  return src;
}

// Per output index of one axis: the two input neighbours and their weights (bilinear).
template <typename T>
struct LinearTap {
  int64_t i0, i1;
  T w0, w1;
};

template <typename T>
std::vector<LinearTap<T>> linear_taps(int64_t in, int64_t out, bool align_corners,
                                      std::optional<double> scale) {
  T s;
  if (align_corners) {
    s = out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0);
  } else {
    s = source_scale<T>(scale, in, out);
  }
  std::vector<LinearTap<T>> taps(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    T src = align_corners ? s * static_cast<T>(o) : s * (static_cast<T>(o) + T(0.5)) - T(0.5);
    src = std::max(src, T(0));
    const int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);
    const T lambda = std::clamp(src - static_cast<T>(i0), T(0), T(1));
    taps[static_cast<size_t>(o)] = {i0, i0 < in - 1 ? i0 + 1 : i0, T(1) - lambda, lambda};
  }
  return taps;
}

}  // namespace

Tensor native::upsample_nearest2d(const Tensor& self, IntArrayRef output_size,
                                  std::optional<double> scales_h, std::optional<double> scales_w) {
  check_upsample("upsample_nearest2d", self.sizes(), output_size);
  const int64_t planes = self.size(0) * self.size(1), H = self.size(2), W = self.size(3);
  const int64_t OH = output_size[0], OW = output_size[1];
  const std::vector<int64_t> sh = nearest_indices(H, OH, scales_h);
  const std::vector<int64_t> sw = nearest_indices(W, OW, scales_w);
  const Tensor x = self.contiguous();
  Tensor out = empty({self.size(0), self.size(1), OH, OW}, self.dtype());
  dispatch_all_types(self.dtype(), "upsample_nearest2d", [&]<typename T>() {
    const T* xp = x.data_ptr<T>();  // [planes, H, W]
    T* op = out.data_ptr<T>();      // [planes, OH, OW]
    for (int64_t p = 0; p < planes; ++p) {
      for (int64_t oh = 0; oh < OH; ++oh) {
        const T* row = xp + (p * H + sh[static_cast<size_t>(oh)]) * W;
        T* orow = op + (p * OH + oh) * OW;
        for (int64_t ow = 0; ow < OW; ++ow) orow[ow] = row[sw[static_cast<size_t>(ow)]];
      }
    }
  });
  return out;
}

Tensor native::upsample_nearest2d_backward(const Tensor& grad, IntArrayRef input_sizes,
                                           IntArrayRef output_size, std::optional<double> scales_h,
                                           std::optional<double> scales_w) {
  check_upsample("upsample_nearest2d_backward", input_sizes, output_size);
  const int64_t planes = input_sizes[0] * input_sizes[1], H = input_sizes[2], W = input_sizes[3];
  const int64_t OH = output_size[0], OW = output_size[1];
  const std::vector<int64_t> sh = nearest_indices(H, OH, scales_h);
  const std::vector<int64_t> sw = nearest_indices(W, OW, scales_w);
  const Tensor g = grad.contiguous();
  Tensor grad_in = zeros(input_sizes, grad.dtype());
  dispatch_floating_types(grad.dtype(), "upsample_nearest2d_backward", [&]<typename T>() {
    const T* gp = g.data_ptr<T>();  // [planes, OH, OW]
    T* ip = grad_in.data_ptr<T>();  // [planes, H, W]
    for (int64_t p = 0; p < planes; ++p) {
      for (int64_t oh = 0; oh < OH; ++oh) {
        T* row = ip + (p * H + sh[static_cast<size_t>(oh)]) * W;
        const T* grow = gp + (p * OH + oh) * OW;
        for (int64_t ow = 0; ow < OW; ++ow) row[sw[static_cast<size_t>(ow)]] += grow[ow];
      }
    }
  });
  return grad_in;
}

Tensor native::upsample_bilinear2d(const Tensor& self, IntArrayRef output_size, bool align_corners,
                                   std::optional<double> scales_h, std::optional<double> scales_w) {
  check_upsample("upsample_bilinear2d", self.sizes(), output_size);
  const int64_t planes = self.size(0) * self.size(1), H = self.size(2), W = self.size(3);
  const int64_t OH = output_size[0], OW = output_size[1];
  const Tensor x = self.contiguous();
  Tensor out = empty({self.size(0), self.size(1), OH, OW}, self.dtype());
  dispatch_floating_types(self.dtype(), "upsample_bilinear2d", [&]<typename T>() {
    const auto th = linear_taps<T>(H, OH, align_corners, scales_h);
    const auto tw = linear_taps<T>(W, OW, align_corners, scales_w);
    const T* xp = x.data_ptr<T>();  // [planes, H, W]
    T* op = out.data_ptr<T>();      // [planes, OH, OW]
    for (int64_t p = 0; p < planes; ++p) {
      for (int64_t oh = 0; oh < OH; ++oh) {
        const LinearTap<T>& h = th[static_cast<size_t>(oh)];
        const T* r0 = xp + (p * H + h.i0) * W;
        const T* r1 = xp + (p * H + h.i1) * W;
        for (int64_t ow = 0; ow < OW; ++ow) {
          const LinearTap<T>& w = tw[static_cast<size_t>(ow)];
          // Blend along W in each of the two rows, then the rows along H.
          op[(p * OH + oh) * OW + ow] = h.w0 * (w.w0 * r0[w.i0] + w.w1 * r0[w.i1]) +
                                        h.w1 * (w.w0 * r1[w.i0] + w.w1 * r1[w.i1]);
        }
      }
    }
  });
  return out;
}

Tensor native::upsample_bilinear2d_backward(const Tensor& grad, IntArrayRef input_sizes,
                                            IntArrayRef output_size, bool align_corners,
                                            std::optional<double> scales_h,
                                            std::optional<double> scales_w) {
  check_upsample("upsample_bilinear2d_backward", input_sizes, output_size);
  const int64_t planes = input_sizes[0] * input_sizes[1], H = input_sizes[2], W = input_sizes[3];
  const int64_t OH = output_size[0], OW = output_size[1];
  const Tensor g = grad.contiguous();
  Tensor grad_in = zeros(input_sizes, grad.dtype());
  dispatch_floating_types(grad.dtype(), "upsample_bilinear2d_backward", [&]<typename T>() {
    const auto th = linear_taps<T>(H, OH, align_corners, scales_h);
    const auto tw = linear_taps<T>(W, OW, align_corners, scales_w);
    const T* gp = g.data_ptr<T>();  // [planes, OH, OW]
    T* ip = grad_in.data_ptr<T>();  // [planes, H, W]
    for (int64_t p = 0; p < planes; ++p) {
      for (int64_t oh = 0; oh < OH; ++oh) {
        const LinearTap<T>& h = th[static_cast<size_t>(oh)];
        T* r0 = ip + (p * H + h.i0) * W;
        T* r1 = ip + (p * H + h.i1) * W;
        for (int64_t ow = 0; ow < OW; ++ow) {
          const LinearTap<T>& w = tw[static_cast<size_t>(ow)];
          const T go = gp[(p * OH + oh) * OW + ow];
          r0[w.i0] += h.w0 * w.w0 * go;
          r0[w.i1] += h.w0 * w.w1 * go;
          r1[w.i0] += h.w1 * w.w0 * go;
          r1[w.i1] += h.w1 * w.w1 * go;
        }
      }
    }
  });
  return grad_in;
}

Tensor native::upsample_nearest2d_source_index(IntArrayRef input_sizes, IntArrayRef output_size,
                                               std::optional<double> scales_h,
                                               std::optional<double> scales_w) {
  check_upsample("upsample_nearest2d", input_sizes, output_size);
  const int64_t planes = input_sizes[0] * input_sizes[1], H = input_sizes[2], W = input_sizes[3];
  const int64_t OH = output_size[0], OW = output_size[1];
  const std::vector<int64_t> sh = nearest_indices(H, OH, scales_h);
  const std::vector<int64_t> sw = nearest_indices(W, OW, scales_w);
  Tensor index = empty({input_sizes[0], input_sizes[1], OH, OW}, kInt64);
  int64_t* ip = index.data_ptr<int64_t>();  // [planes, OH, OW]
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t oh = 0; oh < OH; ++oh) {
      for (int64_t ow = 0; ow < OW; ++ow) {
        ip[(p * OH + oh) * OW + ow] =
            (p * H + sh[static_cast<size_t>(oh)]) * W + sw[static_cast<size_t>(ow)];
      }
    }
  }
  return index;
}

std::vector<std::pair<Tensor, Tensor>> native::upsample_bilinear2d_taps(
    IntArrayRef input_sizes, IntArrayRef output_size, bool align_corners,
    std::optional<double> scales_h, std::optional<double> scales_w, ScalarType dtype) {
  check_upsample("upsample_bilinear2d", input_sizes, output_size);
  const int64_t planes = input_sizes[0] * input_sizes[1], H = input_sizes[2], W = input_sizes[3];
  const int64_t OH = output_size[0], OW = output_size[1];
  const std::vector<int64_t> shape{input_sizes[0], input_sizes[1], OH, OW};
  std::vector<std::pair<Tensor, Tensor>> taps;
  for (int k = 0; k < 4; ++k) taps.emplace_back(empty(shape, kInt64), empty(shape, dtype));
  dispatch_floating_types(dtype, "upsample_bilinear2d", [&]<typename T>() {
    const auto th = linear_taps<T>(H, OH, align_corners, scales_h);
    const auto tw = linear_taps<T>(W, OW, align_corners, scales_w);
    for (int64_t p = 0; p < planes; ++p) {
      for (int64_t oh = 0; oh < OH; ++oh) {
        const LinearTap<T>& h = th[static_cast<size_t>(oh)];
        for (int64_t ow = 0; ow < OW; ++ow) {
          const LinearTap<T>& w = tw[static_cast<size_t>(ow)];
          const int64_t o = (p * OH + oh) * OW + ow;
          const int64_t rows[4] = {h.i0, h.i0, h.i1, h.i1}, cols[4] = {w.i0, w.i1, w.i0, w.i1};
          const T weights[4] = {h.w0 * w.w0, h.w0 * w.w1, h.w1 * w.w0, h.w1 * w.w1};
          for (int k = 0; k < 4; ++k) {
            taps[static_cast<size_t>(k)].first.data_ptr<int64_t>()[o] =
                (p * H + rows[k]) * W + cols[k];
            taps[static_cast<size_t>(k)].second.data_ptr<T>()[o] = weights[k];
          }
        }
      }
    }
  });
  return taps;
}

}  // namespace tinytorch
