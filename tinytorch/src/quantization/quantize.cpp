// Module 15 — quantized tensors: quantize_per_tensor / quantize_per_channel, dequantize,
// int_repr and the q_* accessors, and the fake-quantization forward used by QAT.
//
// Every loop sees its tensor as a contiguous [outer, C, inner] block around the channel axis
// (channel_layout.h): element (o, c, i) uses scales[c] and zero_points[c].
#include "tinytorch/quantization/quantize.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "channel_layout.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch {

namespace {

using quantization_detail::channel_layout;
using quantization_detail::ChannelLayout;
using quantization_detail::kPerTensor;

int64_t layout_axis(const Quantizer& q) {
  return q.qscheme == kPerChannelAffine ? q.axis : kPerTensor;
}

void check_qparams(std::string_view op, const std::vector<double>& scales,
                   const std::vector<int64_t>& zero_points, int64_t qmin, int64_t qmax) {
  for (size_t c = 0; c < scales.size(); ++c) {
    TT_CHECK_VALUE(std::isfinite(scales[c]) && scales[c] > 0, op,
                   ": scale must be positive and finite, but scale[", c, "] is ", scales[c]);
    TT_CHECK_VALUE(zero_points[c] >= qmin && zero_points[c] <= qmax, op, ": zero_point[", c,
                   "] = ", zero_points[c], " is outside the quantized range [", qmin, ", ", qmax,
                   "]");
  }
}

// The per-channel parameters as plain vectors, checked against x.size(axis).
std::pair<std::vector<double>, std::vector<int64_t>> channel_qparams(std::string_view op,
                                                                     const Tensor& x,
                                                                     const Tensor& scales,
                                                                     const Tensor& zero_points,
                                                                     int64_t axis) {
  TT_CHECK_TYPE(scales.is_floating_point(), op, ": expected floating-point scales, got ",
                scales.dtype());
  TT_CHECK_TYPE(is_integral(zero_points.dtype(), false), op, ": expected integer zero_points, got ",
                zero_points.dtype());
  TT_CHECK(scales.dim() == 1 && zero_points.dim() == 1 && scales.numel() == x.size(axis) &&
               zero_points.numel() == x.size(axis),
           op, ": expected scales and zero_points of shape [", x.size(axis), "] (x.size(", axis,
           ")), got ", scales.sizes(), " and ", zero_points.sizes());
  return {scales.to_vector<double>(), zero_points.to_vector<int64_t>()};
}

int64_t checked_axis(std::string_view op, const Tensor& x, int64_t axis) {
  TT_CHECK_INDEX(axis >= -x.dim() && axis < x.dim() && x.dim() > 0, op, ": axis ", axis,
                 " is out of range for a tensor of dimension ", x.dim());
  return axis < 0 ? axis + x.dim() : axis;
}

// q[o, c, i] = clamp(zero_point[c] + round(x[o, c, i] / scale[c]), qmin, qmax)
//
// NOTE: PyTorch multiplies by inv_scale = 1.0f / scale in float32 and rounds with
// std::nearbyint (round half to EVEN under the default rounding mode: 0.5 → 0, 1.5 → 2, 2.5 → 2),
// then clamps in int64 — so a huge x (or inf) clamps instead of overflowing. NaN is not clamped
// by comparisons, so the callers refuse it before this loop runs (check_no_nan).
template <typename Q>
void quantize_affine(const float* x, Q* q, const ChannelLayout& l, const double* scales,
                     const int64_t* zero_points, int64_t qmin, int64_t qmax) {
  // BEGIN SOLUTION
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t c = 0; c < l.channels; ++c) {
      const float inv_scale = 1.0f / static_cast<float>(scales[c]);
      const double zp = static_cast<double>(zero_points[c]);
      const int64_t base = (o * l.channels + c) * l.inner;
      for (int64_t i = 0; i < l.inner; ++i) {
        // Clamp in double before the cast: int64(inf) would be undefined behaviour.
        const double v = zp + std::nearbyint(x[base + i] * inv_scale);
        q[base + i] =
            static_cast<Q>(std::clamp(v, static_cast<double>(qmin), static_cast<double>(qmax)));
      }
    }
  }
  // END SOLUTION
}

// x̂[o, c, i] = scale[c] * (q[o, c, i] - zero_point[c])
template <typename Q>
void dequantize_affine(const Q* q, float* x, const ChannelLayout& l, const double* scales,
                       const int64_t* zero_points) {
  // BEGIN SOLUTION
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t c = 0; c < l.channels; ++c) {
      const int64_t base = (o * l.channels + c) * l.inner;
      for (int64_t i = 0; i < l.inner; ++i) {
        x[base + i] = static_cast<float>(
            static_cast<double>(static_cast<int64_t>(q[base + i]) - zero_points[c]) * scales[c]);
      }
    }
  }
  // END SOLUTION
}

// out[o, c, i] = scale[c] * (clamp(qv, qmin, qmax) - zero_point[c]),
// mask[o, c, i] = qmin <= qv <= qmax,     where qv = zero_point[c] + round(x[o, c, i] / scale[c])
//
// The forward of QAT: x stays in its floating dtype, only its values snap to the int8 grid. The
// mask records where the straight-through gradient may pass (derivatives.cpp).
template <typename T>
void fake_quantize_affine(const T* x, T* out, bool* mask, const ChannelLayout& l,
                          const double* scales, const int64_t* zero_points, int64_t qmin,
                          int64_t qmax) {
  // BEGIN SOLUTION
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t c = 0; c < l.channels; ++c) {
      const T scale = static_cast<T>(scales[c]);
      const T inv_scale = T(1) / scale;
      const T zp = static_cast<T>(zero_points[c]);
      const int64_t base = (o * l.channels + c) * l.inner;
      for (int64_t i = 0; i < l.inner; ++i) {
        const T qv = zp + std::nearbyint(x[base + i] * inv_scale);
        mask[base + i] = qv >= static_cast<T>(qmin) && qv <= static_cast<T>(qmax);
        const T clamped = std::clamp(qv, static_cast<T>(qmin), static_cast<T>(qmax));
        out[base + i] = (clamped - zp) * scale;
      }
    }
  }
  // END SOLUTION
}

void check_floating(std::string_view op, const Tensor& x) {
  TT_CHECK_TYPE(x.is_floating_point(), op, ": expected a floating-point tensor, got ", x.dtype(),
                " (hint: x.to(tinytorch::kFloat32))");
}

// NaN has no integer: every comparison with it is false, so no clamp would catch it.
template <typename T>
void check_no_nan(std::string_view op, const T* x, int64_t n) {
  const T* bad = std::find_if(x, x + n, [](T v) { return std::isnan(v); });
  TT_CHECK_VALUE(bad == x + n, op, ": the input holds NaN at flat index ", bad - x,
                 ", which has no quantized value");
}

Tensor quantize_impl(std::string_view op, const Tensor& x, std::shared_ptr<Quantizer> quantizer,
                     ScalarType dtype) {
  check_floating(op, x);
  // (Plain variables, not a structured binding: clang 14 cannot capture those in the lambda.)
  const std::pair<int64_t, int64_t> range = quantized_range(dtype);
  const int64_t qmin = range.first, qmax = range.second;
  check_qparams(op, quantizer->scales, quantizer->zero_points, qmin, qmax);
  const ChannelLayout l = channel_layout(x, layout_axis(*quantizer));
  const Tensor xf = x.detach().to(kFloat32).contiguous();
  check_no_nan(op, xf.data_ptr<float>(), xf.numel());
  Tensor q = empty(x.sizes(), dtype);
  dispatch_storage_types(dtype, op, [&]<typename Q>() {
    if constexpr (sizeof(Q) == 1 && !std::is_same_v<Q, bool>) {
      quantize_affine<Q>(xf.data_ptr<float>(), q.data_ptr<Q>(), l, quantizer->scales.data(),
                         quantizer->zero_points.data(), qmin, qmax);
    }
  });
  q.unsafeGetTensorImpl()->set_quantizer(std::move(quantizer));
  return q;
}

const Quantizer& quantizer_of(const Tensor& t, std::string_view op) {
  TT_CHECK_TYPE(t.is_quantized(), op, "(): expected a quantized tensor, got a plain ", t.dtype(),
                " tensor (hint: quantize_per_tensor / quantize_per_channel make one)");
  return *t.unsafeGetTensorImpl()->quantizer();
}

const Quantizer& quantizer_of(const Tensor& t, std::string_view op, QScheme scheme) {
  const Quantizer& q = quantizer_of(t, op);
  TT_CHECK_TYPE(q.qscheme == scheme, op, "(): expected a ", to_string(scheme),
                " quantized tensor, but its scheme is ", to_string(q.qscheme));
  return q;
}

}  // namespace

std::string_view to_string(QScheme q) {
  switch (q) {
    case kPerTensorAffine:
      return "per_tensor_affine";
    case kPerChannelAffine:
      return "per_channel_affine";
    case kPerTensorSymmetric:
      return "per_tensor_symmetric";
    case kPerChannelSymmetric:
      return "per_channel_symmetric";
  }
  return "unknown";
}

std::pair<int64_t, int64_t> quantized_range(ScalarType dtype) {
  TT_CHECK_TYPE(dtype == kInt8 || dtype == kUInt8,
                "quantize: expected a quantized dtype (int8 or uint8), got ", dtype);
  return dtype == kInt8 ? std::pair<int64_t, int64_t>{-128, 127}
                        : std::pair<int64_t, int64_t>{0, 255};
}

Tensor quantize_per_tensor(const Tensor& x, double scale, int64_t zero_point, ScalarType dtype) {
  auto q = std::make_shared<Quantizer>();
  q->qscheme = kPerTensorAffine;
  q->scales = {scale};
  q->zero_points = {zero_point};
  return quantize_impl("quantize_per_tensor", x, std::move(q), dtype);
}

Tensor quantize_per_channel(const Tensor& x, const Tensor& scales, const Tensor& zero_points,
                            int64_t axis, ScalarType dtype) {
  constexpr std::string_view op = "quantize_per_channel";
  axis = checked_axis(op, x, axis);
  auto q = std::make_shared<Quantizer>();
  q->qscheme = kPerChannelAffine;
  std::tie(q->scales, q->zero_points) = channel_qparams(op, x, scales, zero_points, axis);
  q->axis = axis;
  return quantize_impl(op, x, std::move(q), dtype);
}

// ── the accessors (Tensor methods declared in core/tensor.h) ─────────────────────────────────

QScheme Tensor::qscheme() const {
  return quantizer_of(*this, "qscheme").qscheme;
}
double Tensor::q_scale() const {
  return quantizer_of(*this, "q_scale", kPerTensorAffine).scales[0];
}
int64_t Tensor::q_zero_point() const {
  return quantizer_of(*this, "q_zero_point", kPerTensorAffine).zero_points[0];
}
Tensor Tensor::q_per_channel_scales() const {
  const Quantizer& q = quantizer_of(*this, "q_per_channel_scales", kPerChannelAffine);
  Tensor out = empty({static_cast<int64_t>(q.scales.size())}, kFloat64);
  std::copy(q.scales.begin(), q.scales.end(), out.data_ptr<double>());
  return out;
}
Tensor Tensor::q_per_channel_zero_points() const {
  const Quantizer& q = quantizer_of(*this, "q_per_channel_zero_points", kPerChannelAffine);
  Tensor out = empty({static_cast<int64_t>(q.zero_points.size())}, kInt64);
  std::copy(q.zero_points.begin(), q.zero_points.end(), out.data_ptr<int64_t>());
  return out;
}
int64_t Tensor::q_per_channel_axis() const {
  return quantizer_of(*this, "q_per_channel_axis", kPerChannelAffine).axis;
}

Tensor Tensor::int_repr() const {
  quantizer_of(*this, "int_repr");
  // A fresh impl over the same bytes, without the quantizer: a plain int8/uint8 tensor.
  return Tensor(std::make_shared<TensorImpl>(storage(), dtype(), sizes().vec(), strides().vec(),
                                             storage_offset()))
      .clone();
}

Tensor Tensor::dequantize() const {
  const Quantizer& qz = quantizer_of(*this, "dequantize");
  const ChannelLayout l = channel_layout(*this, layout_axis(qz));
  const Tensor q = int_repr();  // contiguous
  Tensor out = empty(sizes(), kFloat32);
  dispatch_storage_types(dtype(), "dequantize", [&]<typename Q>() {
    if constexpr (sizeof(Q) == 1 && !std::is_same_v<Q, bool>) {
      dequantize_affine<Q>(q.data_ptr<Q>(), out.data_ptr<float>(), l, qz.scales.data(),
                           qz.zero_points.data());
    }
  });
  return out;
}

// ── fake quantization (the natives; the autograd wrappers are in autograd/variable_ops.cpp) ──

namespace {
std::tuple<Tensor, Tensor> fake_quantize_impl(std::string_view op, const Tensor& x,
                                              const std::vector<double>& scales,
                                              const std::vector<int64_t>& zero_points, int64_t axis,
                                              int64_t qmin, int64_t qmax) {
  check_floating(op, x);
  TT_CHECK_VALUE(qmin < qmax, op, ": expected quant_min < quant_max, got [", qmin, ", ", qmax, "]");
  check_qparams(op, scales, zero_points, qmin, qmax);
  const ChannelLayout l = channel_layout(x, axis);
  const Tensor xc = x.contiguous();
  Tensor out = empty(x.sizes(), x.dtype());
  Tensor mask = empty(x.sizes(), kBool);
  dispatch_floating_types(x.dtype(), op, [&]<typename T>() {
    check_no_nan(op, xc.data_ptr<T>(), xc.numel());
    fake_quantize_affine<T>(xc.data_ptr<T>(), out.data_ptr<T>(), mask.data_ptr<bool>(), l,
                            scales.data(), zero_points.data(), qmin, qmax);
  });
  return {out, mask};
}
}  // namespace

std::tuple<Tensor, Tensor> native::fake_quantize_per_tensor_affine(const Tensor& x, double scale,
                                                                   int64_t zero_point,
                                                                   int64_t quant_min,
                                                                   int64_t quant_max) {
  return fake_quantize_impl("fake_quantize_per_tensor_affine", x, {scale}, {zero_point}, kPerTensor,
                            quant_min, quant_max);
}

std::tuple<Tensor, Tensor> native::fake_quantize_per_channel_affine(const Tensor& x,
                                                                    const Tensor& scale,
                                                                    const Tensor& zero_point,
                                                                    int64_t axis, int64_t quant_min,
                                                                    int64_t quant_max) {
  constexpr std::string_view op = "fake_quantize_per_channel_affine";
  axis = checked_axis(op, x, axis);
  const auto [scales, zps] = channel_qparams(op, x, scale, zero_point, axis);
  return fake_quantize_impl(op, x, scales, zps, axis, quant_min, quant_max);
}

}  // namespace tinytorch
