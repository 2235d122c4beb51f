// Module 15 — observers: min/max (per tensor, per channel), percentile clipping, the shared
// qparams formula, and FakeQuantize (observer + fake quantization, for QAT).
#include "tinytorch/quantization/observer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "channel_layout.h"
#include "tinytorch/benchmark/stats.h"
#include "tinytorch/quantization/quantize.h"

namespace tinytorch::quantization {

std::pair<int64_t, int64_t> quant_range(const ObserverOptions& options) {
  const auto [dtype_min, dtype_max] = quantized_range(options.dtype());
  TT_CHECK_VALUE(options.quant_min().has_value() == options.quant_max().has_value(),
                 "ObserverOptions: set both quant_min and quant_max, or neither");
  const int64_t qmin = options.quant_min().value_or(dtype_min);
  const int64_t qmax = options.quant_max().value_or(dtype_max);
  TT_CHECK_VALUE(dtype_min <= qmin && qmin <= 0 && 0 <= qmax && qmax <= dtype_max && qmin < qmax,
                 "ObserverOptions: the range [", qmin, ", ", qmax,
                 "] must contain 0, hold more than one value and lie in ", options.dtype(), "'s [",
                 dtype_min, ", ", dtype_max, "]");
  if (!options.reduce_range()) return {qmin, qmax};
  // Halved rounding down, as Python's // does: >> 1 is floor(v / 2) for negative v too (C++20).
  return {qmin >> 1, qmax >> 1};
}

namespace {
bool is_symmetric(QScheme q) {
  return q == kPerTensorSymmetric || q == kPerChannelSymmetric;
}
bool is_per_channel(QScheme q) {
  return q == kPerChannelAffine || q == kPerChannelSymmetric;
}

// (scale, zero_point) of one channel from its observed range. NOTE: computed in float32, as
// PyTorch does on its float32 min_val/max_val buffers, so both give the same bits; round() is
// std::nearbyint: half to even, like torch.round.
std::pair<float, int64_t> channel_qparams(float min_val, float max_val, int64_t qmin, int64_t qmax,
                                          bool symmetric, ScalarType dtype) {
  // BEGIN SOLUTION
  constexpr float eps = std::numeric_limits<float>::epsilon();
  // The range must contain 0, so that 0.0 (padding, ReLU's zeros) is exactly representable.
  const float min_neg = std::min(min_val, 0.0f);
  const float max_pos = std::max(max_val, 0.0f);
  if (symmetric) {
    const float bound = std::max(-min_neg, max_pos);
    const float scale = std::max(bound / (static_cast<float>(qmax - qmin) / 2.0f), eps);
    return {scale, dtype == kUInt8 ? 128 : 0};
  }
  const float scale = std::max((max_pos - min_neg) / static_cast<float>(qmax - qmin), eps);
  const auto zero_point = qmin - static_cast<int64_t>(std::nearbyint(min_neg / scale));
  return {scale, std::clamp(zero_point, qmin, qmax)};
  // END SOLUTION
}
}  // namespace

QParams calculate_qparams(const Tensor& min_val, const Tensor& max_val,
                          const ObserverOptions& options) {
  TT_CHECK(min_val.defined() && max_val.defined() && min_val.sizes() == max_val.sizes() &&
               min_val.dim() == 1,
           "calculate_qparams: expected min_val and max_val of the same shape [C]");
  const bool symmetric = is_symmetric(options.qscheme());
  TT_CHECK_VALUE(!(symmetric && options.reduce_range() && options.dtype() == kUInt8),
                 "calculate_qparams: cannot reduce range for symmetric quantization for uint8 "
                 "(as in PyTorch; use int8 for symmetric weights)");
  // PyTorch puts this zero point at (quant_min + quant_max) / 2, not at channel_qparams's 128.
  TT_CHECK_VALUE(!(symmetric && options.quant_min().has_value() && options.dtype() == kUInt8),
                 "calculate_qparams: a custom quant_min/quant_max with symmetric uint8 is not "
                 "supported (use int8 for symmetric weights)");
  const auto [qmin, qmax] = quant_range(options);
  const std::vector<float> lo = min_val.to_vector<float>(), hi = max_val.to_vector<float>();
  const int64_t n = min_val.numel();
  QParams out{empty({n}, kFloat32), empty({n}, kInt64)};
  for (int64_t c = 0; c < n; ++c) {
    const auto i = static_cast<size_t>(c);
    TT_CHECK_VALUE(std::isfinite(lo[i]) && std::isfinite(hi[i]) && lo[i] <= hi[i],
                   "calculate_qparams: channel ", c, " has no finite observed range [", lo[i], ", ",
                   hi[i], "] (hint: run the observer's forward on data first)");
    const auto [s, z] = channel_qparams(lo[i], hi[i], qmin, qmax, symmetric, options.dtype());
    out.scale.data_ptr<float>()[c] = s;
    out.zero_point.data_ptr<int64_t>()[c] = z;
  }
  return out;
}

ObserverBase::ObserverBase(const ObserverOptions& options) : options(options) {
  quantization::quant_range(options);  // refuses a non-quantized dtype now, not at first use
}

// ── min/max ──────────────────────────────────────────────────────────────────────────────────

namespace {
// Per-channel [C] minima and maxima of x around `axis` (kPerTensor: C = 1), in float32.
std::pair<Tensor, Tensor> channel_minmax(const Tensor& x, int64_t axis) {
  const Tensor xf = x.detach().to(kFloat32).contiguous();
  const auto [outer, channels, inner] = quantization_detail::channel_layout(xf, axis);
  Tensor lo = full({channels}, std::numeric_limits<double>::infinity(), kFloat32);
  Tensor hi = full({channels}, -std::numeric_limits<double>::infinity(), kFloat32);
  const float* p = xf.data_ptr<float>();
  float* l = lo.data_ptr<float>();
  float* h = hi.data_ptr<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < channels; ++c) {
      const float* row = p + (o * channels + c) * inner;
      for (int64_t i = 0; i < inner; ++i) {
        l[c] = std::min(l[c], row[i]);
        h[c] = std::max(h[c], row[i]);
      }
    }
  }
  return {lo, hi};
}

void check_observable(std::string_view op, const Tensor& x) {
  TT_CHECK_TYPE(x.is_floating_point(), op, ": expected a floating-point tensor, got ", x.dtype());
}
}  // namespace

MinMaxObserver::MinMaxObserver(const ObserverOptions& options)
    : ObserverBase(options),
      min_val(full({1}, std::numeric_limits<double>::infinity(), kFloat32)),
      max_val(full({1}, -std::numeric_limits<double>::infinity(), kFloat32)) {
  TT_CHECK_VALUE(!is_per_channel(options.qscheme()),
                 "MinMaxObserver: per-tensor qschemes only (hint: PerChannelMinMaxObserver)");
}

Tensor MinMaxObserver::forward(const Tensor& x) {
  check_observable("MinMaxObserver", x);
  if (x.numel() == 0) return x;
  const auto [lo, hi] = channel_minmax(x, quantization_detail::kPerTensor);
  min_val = minimum(min_val, lo);
  max_val = maximum(max_val, hi);
  return x;
}

QParams MinMaxObserver::calculate_qparams() const {
  return quantization::calculate_qparams(min_val, max_val, options);
}

PerChannelMinMaxObserver::PerChannelMinMaxObserver(const ObserverOptions& options)
    : ObserverBase(options) {
  TT_CHECK_VALUE(is_per_channel(options.qscheme()),
                 "PerChannelMinMaxObserver: per-channel qschemes only (kPerChannelAffine or "
                 "kPerChannelSymmetric)");
}

Tensor PerChannelMinMaxObserver::forward(const Tensor& x) {
  check_observable("PerChannelMinMaxObserver", x);
  const int64_t axis = options.ch_axis() < 0 ? options.ch_axis() + x.dim() : options.ch_axis();
  TT_CHECK_INDEX(axis >= 0 && axis < x.dim(), "PerChannelMinMaxObserver: ch_axis ",
                 options.ch_axis(), " is out of range for a tensor of dimension ", x.dim());
  if (x.numel() == 0) return x;
  const auto [lo, hi] = channel_minmax(x, axis);
  if (!min_val.defined()) {
    min_val = lo;
    max_val = hi;
    return x;
  }
  TT_CHECK(lo.sizes() == min_val.sizes(), "PerChannelMinMaxObserver: saw ", min_val.size(0),
           " channels before, but this tensor has ", lo.size(0), " along ch_axis ", axis);
  min_val = minimum(min_val, lo);
  max_val = maximum(max_val, hi);
  return x;
}

QParams PerChannelMinMaxObserver::calculate_qparams() const {
  TT_CHECK(min_val.defined(),
           "PerChannelMinMaxObserver: calculate_qparams before any data "
           "(hint: run forward on calibration data first)");
  return quantization::calculate_qparams(min_val, max_val, options);
}

// ── percentile ───────────────────────────────────────────────────────────────────────────────

PercentileObserver::PercentileObserver(double percentile, const ObserverOptions& options)
    : ObserverBase(options), percentile(percentile) {
  TT_CHECK_VALUE(percentile > 50 && percentile <= 100,
                 "PercentileObserver: expected a percentile in (50, 100], got ", percentile);
  TT_CHECK_VALUE(!is_per_channel(options.qscheme()),
                 "PercentileObserver: per-tensor qschemes only");
}

Tensor PercentileObserver::forward(const Tensor& x) {
  check_observable("PercentileObserver", x);
  const std::vector<double> v = x.detach().to_vector<double>();
  values_.insert(values_.end(), v.begin(), v.end());
  return x;
}

std::pair<Tensor, Tensor> PercentileObserver::clip_range() const {
  TT_CHECK(!values_.empty(),
           "PercentileObserver: no data observed yet "
           "(hint: run forward on calibration data first)");
  return {full({1}, benchmark::percentile(values_, 100.0 - percentile), kFloat32),
          full({1}, benchmark::percentile(values_, percentile), kFloat32)};
}

QParams PercentileObserver::calculate_qparams() const {
  const auto [lo, hi] = clip_range();
  return quantization::calculate_qparams(lo, hi, options);
}

// ── FakeQuantize ─────────────────────────────────────────────────────────────────────────────

FakeQuantizeImpl::FakeQuantizeImpl(std::shared_ptr<ObserverBase> observer)
    : Module("FakeQuantize"), observer(std::move(observer)) {
  TT_CHECK(this->observer != nullptr, "FakeQuantize: expected an observer, got nullptr");
}

Tensor FakeQuantizeImpl::forward(const Tensor& x) {
  if (observer_enabled_) {
    observer->forward(x.detach());
    QParams q = observer->calculate_qparams();
    scale = q.scale;
    zero_point = q.zero_point;
  }
  if (!fake_quant_enabled_) return x;
  TT_CHECK(scale.defined(),
           "FakeQuantize: no qparams yet (the observer is disabled and has "
           "never run; hint: enable_observer() for a calibration pass)");
  const auto [qmin, qmax] = observer->quant_range();
  if (is_per_channel(observer->options.qscheme())) {
    return fake_quantize_per_channel_affine(x, scale, zero_point, observer->options.ch_axis(), qmin,
                                            qmax);
  }
  return fake_quantize_per_tensor_affine(x, scale.item<double>(), zero_point.item<int64_t>(), qmin,
                                         qmax);
}

std::string FakeQuantizeImpl::extra_repr() const {
  const auto [qmin, qmax] = observer->quant_range();
  std::ostringstream os;
  os << "fake_quant_enabled=" << fake_quant_enabled_ << ", observer_enabled=" << observer_enabled_
     << ", quant_min=" << qmin << ", quant_max=" << qmax << ", dtype=" << observer->options.dtype()
     << ", qscheme=" << tinytorch::to_string(observer->options.qscheme());
  return os.str();
}

}  // namespace tinytorch::quantization
