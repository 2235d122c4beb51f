// tinytorch/quantization/observer.h — calibration: watch real tensors, then choose scale and
// zero_point (module 15). The names and formulas are torch.ao.quantization's.
//
//   quantization::MinMaxObserver obs(quantization::ObserverOptions().dtype(kUInt8));
//   for (auto& batch : calibration_set) obs.forward(model_activation(batch));   // observe
//   auto [scale, zero_point] = obs.calculate_qparams();                          // choose
//
// Observers record; they never change the tensor they see (forward returns it as is).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "tinytorch/core/quantizer.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/module.h"

namespace tinytorch::quantization {

struct ObserverOptions {
  // uint8 (PyTorch's quint8) is the default activation dtype; weights use int8 + symmetric.
  TT_ARG(ScalarType, dtype) = kUInt8;
  // kPerTensorAffine / kPerTensorSymmetric, or the per-channel pair for PerChannelMinMaxObserver.
  TT_ARG(QScheme, qscheme) = kPerTensorAffine;
  // 7-bit range ([0, 127] for uint8, [-64, 63] for int8): what x86 int8 kernels need, whose
  // u8·s8 pair products must fit int16 (vpmaddubsw) — see the chapter, Part 4.
  TT_ARG(bool, reduce_range) = false;
  // The channel axis of a per-channel observer (0: the output rows of a Linear weight).
  TT_ARG(int64_t, ch_axis) = 0;
  // A narrower integer range than the dtype's, both ends or neither (PyTorch's quant_min /
  // quant_max): it must contain 0 and lie inside the dtype's range; reduce_range halves it. The
  // dynamic int8 Linear's weights use [-127, 127] (nn/modules/quantized_linear.h).
  TT_ARG(std::optional<int64_t>, quant_min) = std::nullopt;
  TT_ARG(std::optional<int64_t>, quant_max) = std::nullopt;
};

// The observer's answer: scale (float32) and zero_point (int64), shape [1] or [C].
struct QParams {
  Tensor scale;
  Tensor zero_point;
};

// [quant_min, quant_max] for the options: the custom range if one is set, else the dtype's;
// halved by reduce_range (rounding down: [-127, 127] → [-64, 63]). PyTorch's
// calculate_qmin_qmax. Throws ValueError for a custom range without 0 or outside the dtype's.
std::pair<int64_t, int64_t> quant_range(const ObserverOptions& options);

// The formula every min/max-style observer shares (PyTorch's _calculate_qparams), with
// min_val/max_val float32 tensors of shape [1] or [C]:
//   affine:     scale = (max(max_val, 0) − min(min_val, 0)) / (qmax − qmin)
//               zero_point = clamp(qmin − round(min(min_val, 0) / scale), qmin, qmax)
//   symmetric:  scale = max(−min(min_val, 0), max(max_val, 0)) / ((qmax − qmin) / 2)
//               zero_point = 0 (int8) or 128 (uint8)
// scale is at least float32's epsilon, so a constant-zero input still gets a usable scale.
// Refused, as in PyTorch or because PyTorch's zero point would not be 128: symmetric uint8 with
// reduce_range or with a custom range.
QParams calculate_qparams(const Tensor& min_val, const Tensor& max_val,
                          const ObserverOptions& options);

class ObserverBase {
 public:
  explicit ObserverBase(const ObserverOptions& options);
  virtual ~ObserverBase() = default;
  // Records x's statistics; returns x unchanged.
  virtual Tensor forward(const Tensor& x) = 0;
  virtual QParams calculate_qparams() const = 0;
  std::pair<int64_t, int64_t> quant_range() const { return quantization::quant_range(options); }

  ObserverOptions options;
};

// The running min and max of everything seen (torch.ao.quantization.MinMaxObserver).
class MinMaxObserver : public ObserverBase {
 public:
  explicit MinMaxObserver(const ObserverOptions& options = {});
  Tensor forward(const Tensor& x) override;
  QParams calculate_qparams() const override;

  Tensor min_val, max_val;  // float32 [1]; +inf / -inf until the first forward
};

// One running min and max per index of options.ch_axis (PerChannelMinMaxObserver); the default
// qscheme is kPerChannelAffine.
class PerChannelMinMaxObserver : public ObserverBase {
 public:
  explicit PerChannelMinMaxObserver(
      const ObserverOptions& options = ObserverOptions().qscheme(kPerChannelAffine));
  Tensor forward(const Tensor& x) override;
  QParams calculate_qparams() const override;

  Tensor min_val, max_val;  // float32 [C]; undefined until the first forward
};

// Percentile clipping — NOT PyTorch's HistogramObserver (which searches a 2048-bin histogram for
// the clip range minimising the L2 quantization error). This one keeps every observed value and
// takes min_val / max_val as the (100 − p)-th / p-th percentiles (numpy.percentile's linear
// interpolation, benchmark::percentile), so a few outliers cannot stretch the range. Memory grows
// with the data seen (8 bytes a value): calibrate on a few batches, not on the training set.
class PercentileObserver : public ObserverBase {
 public:
  explicit PercentileObserver(double percentile = 99.99, const ObserverOptions& options = {});
  Tensor forward(const Tensor& x) override;
  QParams calculate_qparams() const override;
  // The clip range [min_val, max_val] the percentiles give (float32 [1] each).
  std::pair<Tensor, Tensor> clip_range() const;

  double percentile;

 private:
  std::vector<double> values_;
};

// ── quantization-aware training ─────────────────────────────────────────────────────────────

// An observer followed by fake quantization (torch.ao.quantization.FakeQuantize): in training,
// each forward updates the observer, recomputes scale/zero_point and returns
// fake_quantize(x) — values snapped to the int8 grid, gradients passed straight through.
//
//   quantization::FakeQuantize fq(std::make_shared<quantization::MinMaxObserver>());
//   Tensor h = fq(layer(x));     // train as usual; the loss sees the quantization error
class FakeQuantizeImpl : public nn::Module {
 public:
  explicit FakeQuantizeImpl(
      std::shared_ptr<ObserverBase> observer = std::make_shared<MinMaxObserver>());
  Tensor forward(const Tensor& x);
  std::string extra_repr() const override;

  // Switch the two stages on and off (PyTorch's enable_observer / enable_fake_quant): observe
  // only during calibration, freeze the observer late in QAT, disable fake-quant for a float run.
  void enable_observer(bool enabled = true) { observer_enabled_ = enabled; }
  void enable_fake_quant(bool enabled = true) { fake_quant_enabled_ = enabled; }

  std::shared_ptr<ObserverBase> observer;
  Tensor scale, zero_point;  // the last qparams (buffers; undefined before the first forward)

 private:
  bool observer_enabled_ = true;
  bool fake_quant_enabled_ = true;
};
TT_MODULE(FakeQuantize);

}  // namespace tinytorch::quantization
