// The dynamically quantized Linear and quantize_dynamic (see nn/modules/quantized_linear.h).
#include "tinytorch/nn/modules/quantized_linear.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/profiler/profiler.h"
#include "tinytorch/quantization/observer.h"
#include "tinytorch/quantization/quantize.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::nn::quantized::dynamic {
namespace {

// The weight observer of quantize_dynamic's qconfig: module 15's observers, symmetric int8 (zero
// point 0), one scale per output row (PyTorch's per_channel_dynamic_qconfig) or one for the tensor
// (its default_dynamic_qconfig).
//
// NOTE: over [-127, 127], not int8's [-128, 127]: scale = max|w| / 127 where PyTorch's default
// weight observers divide by 127.5 and round the most negative weight to -128. This is PyTorch's
// weight_observer_range_neg_127_to_127 (its XNNPACK weights) without that one's eps of 2^-12,
// which would coarsen every row with max|w| < 0.03: ours keep float32's epsilon. The kernels
// would be exact with -128 too (vpmaddubsw's worst pair, 2·127·(-128), fits int16); the narrower
// range is the layer's contract — the grid is symmetric (w and -w quantize to mirror images) and
// an int8 weight from a model file must lie in [-127, 127] (dynamic_quant_linear_from_int8).
quantization::ObserverOptions weight_observer_options(bool per_channel) {
  return quantization::ObserverOptions()
      .dtype(kInt8)
      .qscheme(per_channel ? kPerChannelSymmetric : kPerTensorSymmetric)
      .quant_min(-127)
      .quant_max(127);
}

// The int8 weight [out, in] and its float32 scales [out] or [1]: the observer chooses the scales
// and quantize_per_channel / quantize_per_tensor apply them, as for every int8 tensor of module 15.
// (|w| / scale ≤ 127 by the scale's choice, so the quantize functions' clamp to int8's
// [-128, 127] never acts.)
std::pair<Tensor, Tensor> quantize_weight(const Tensor& weight, bool per_channel) {
  TT_CHECK_TYPE(weight.dtype() == kFloat32,
                "quantized::dynamic::Linear: expected a float32 Linear, got weight of dtype ",
                weight.dtype());
  const Tensor w = weight.detach().contiguous();
  TT_CHECK_VALUE(w.numel() > 0, "quantized::dynamic::Linear: expected a non-empty weight, got ",
                 w.sizes());
  const float* p = w.data_ptr<float>();
  const int64_t bad = std::find_if(p, p + w.numel(), [](float v) { return !std::isfinite(v); }) - p;
  TT_CHECK_VALUE(bad == w.numel(), "quantized::dynamic::Linear: weight[", bad / w.size(1), ", ",
                 bad % w.size(1), "] is not finite");
  const quantization::ObserverOptions options = weight_observer_options(per_channel);
  std::unique_ptr<quantization::ObserverBase> observer;
  if (per_channel) {
    observer = std::make_unique<quantization::PerChannelMinMaxObserver>(options);
  } else {
    observer = std::make_unique<quantization::MinMaxObserver>(options);
  }
  observer->forward(w);
  const quantization::QParams qp = observer->calculate_qparams();
  const Tensor q = per_channel ? quantize_per_channel(w, qp.scale, qp.zero_point, 0, kInt8)
                               : quantize_per_tensor(w, qp.scale.item<double>(),
                                                     qp.zero_point.item<int64_t>(), kInt8);
  return {q.int_repr(), qp.scale};
}

}  // namespace

LinearImpl::LinearImpl(const nn::LinearImpl& linear, bool per_channel)
    : LinearImpl(quantize_weight(linear.weight, per_channel),
                 linear.bias.defined() ? linear.bias.detach() : Tensor()) {
  per_channel_ = per_channel;  // also for one output row, whose single scale reads as per tensor
}

LinearImpl::LinearImpl(const std::pair<Tensor, Tensor>& weight_and_scales, const Tensor& bias)
    : LinearImpl(weight_and_scales.first, weight_and_scales.second, bias) {}

LinearImpl::LinearImpl(const Tensor& weight, const Tensor& weight_scales, const Tensor& bias)
    : Module("DynamicQuantizedLinear"), per_channel_(weight_scales.numel() != 1) {
  TT_CHECK_TYPE(weight.dtype() == kInt8 && !weight.is_quantized() && weight.dim() == 2,
                "quantized::dynamic::Linear: expected an int8 weight [out, in], got ",
                weight.dtype(), " ", weight.sizes());
  const int64_t N = weight.size(0), K = weight.size(1);
  TT_CHECK_TYPE(weight_scales.dtype() == kFloat32 && weight_scales.dim() == 1 &&
                    (weight_scales.numel() == 1 || weight_scales.numel() == N),
                "quantized::dynamic::Linear: expected float32 weight scales [", N, "] or [1], got ",
                weight_scales.dtype(), " ", weight_scales.sizes());
  TT_CHECK_TYPE(!bias.defined() || (bias.dtype() == kFloat32 && bias.sizes() == IntArrayRef{N}),
                "quantized::dynamic::Linear: expected a float32 bias [", N, "], got ", bias.dtype(),
                " ", bias.sizes());
  const Tensor q = weight.contiguous(), s = weight_scales.contiguous();
  const Tensor b = bias.defined() ? bias.contiguous() : Tensor();
  layer_ = kernels::dynamic_quant_linear_from_int8(
      N, K, q.data_ptr<int8_t>(), {s.data_ptr<float>(), s.data_ptr<float>() + s.numel()},
      b.defined() ? b.data_ptr<float>() : nullptr);
}

Tensor LinearImpl::weight() const {
  const std::vector<int8_t> q = kernels::unpack_int8_weight(layer_.weight);
  Tensor w = empty({out_features(), in_features()}, kInt8);
  std::copy(q.begin(), q.end(), w.data_ptr<int8_t>());
  return w;
}

Tensor LinearImpl::weight_scales() const {
  Tensor s = empty({static_cast<int64_t>(layer_.weight_scales.size())}, kFloat32);
  std::copy(layer_.weight_scales.begin(), layer_.weight_scales.end(), s.data_ptr<float>());
  return s;
}

Tensor LinearImpl::bias() const {
  if (layer_.bias.empty()) return {};
  Tensor b = empty({out_features()}, kFloat32);
  std::copy(layer_.bias.begin(), layer_.bias.end(), b.data_ptr<float>());
  return b;
}

Tensor LinearImpl::forward(const Tensor& input) {
  const profiler::RecordFunction event("quantized::linear_dynamic");
  TT_CHECK_TYPE(input.dtype() == kFloat32,
                "quantized::dynamic::Linear: expected a float32 input, got ", input.dtype());
  TT_CHECK_VALUE(input.dim() >= 1 && input.size(-1) == in_features(),
                 "quantized::dynamic::Linear: expected input [*, ", in_features(), "], got ",
                 input.sizes());
  TT_CHECK(!(GradMode::is_enabled() && input.requires_grad()),
           "quantized::dynamic::Linear: int8 layers are for inference and have no backward; "
           "run them under NoGradGuard (or detach the input)");
  const Tensor x = input.contiguous();
  std::vector<int64_t> out_shape = input.sizes().vec();
  out_shape.back() = out_features();
  Tensor y = empty(out_shape, kFloat32);
  kernels::dynamic_quant_linear(layer_, x.numel() / in_features(), x.data_ptr<float>(),
                                y.data_ptr<float>());
  return y;
}

int64_t LinearImpl::nbytes() const {
  return static_cast<int64_t>(
      layer_.weight.data.size() * sizeof(int8_t) + layer_.weight.row_sums.size() * sizeof(int32_t) +
      layer_.weight_scales.size() * sizeof(float) + layer_.bias.size() * sizeof(float));
}

std::string LinearImpl::extra_repr() const {
  return "in_features=" + std::to_string(in_features()) +
         ", out_features=" + std::to_string(out_features()) + ", dtype=torch.qint8, qscheme=" +
         (per_channel_ ? "torch.per_channel_symmetric" : "torch.per_tensor_symmetric");
}

}  // namespace tinytorch::nn::quantized::dynamic

namespace tinytorch::quantization {

nn::Sequential quantize_dynamic(const nn::Sequential& model, bool per_channel) {
  nn::Sequential out;
  for (const auto& item : model->named_children()) {
    const std::shared_ptr<nn::Module>& child = item.value();
    if (const auto linear = std::dynamic_pointer_cast<nn::LinearImpl>(child)) {
      out->push_back(item.key(), nn::quantized::dynamic::Linear(*linear, per_channel));
    } else if (const auto inner = std::dynamic_pointer_cast<nn::SequentialImpl>(child)) {
      out->push_back(item.key(), quantize_dynamic(nn::Sequential(inner), per_channel));
    } else {
      // Sequential keeps each child as an AnyModule as well; reuse it (same object, shared).
      bool found = false;
      for (const nn::AnyModule& any : *model) {
        if (any.ptr() == child) {
          out->push_back(item.key(), any);
          found = true;
          break;
        }
      }
      TT_CHECK(found, "quantize_dynamic: child '", item.key(),
               "' is not one of the Sequential's modules");
    }
  }
  if (!model->is_training()) out->eval();
  return out;
}

}  // namespace tinytorch::quantization
