// The dynamically quantized Linear and quantize_dynamic (see nn/modules/quantized_linear.h).
#include "tinytorch/nn/modules/quantized_linear.h"

#include <algorithm>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/profiler/profiler.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::nn::quantized::dynamic {

LinearImpl::LinearImpl(const nn::LinearImpl& linear, bool per_channel)
    : Module("DynamicQuantizedLinear"), per_channel_(per_channel) {
  TT_CHECK_TYPE(linear.weight.dtype() == kFloat32,
                "quantized::dynamic::Linear: expected a float32 Linear, got weight of dtype ",
                linear.weight.dtype());
  const Tensor w = linear.weight.detach().contiguous();
  const Tensor b = linear.bias.defined() ? linear.bias.detach().contiguous() : Tensor();
  layer_ = kernels::dynamic_quant_linear_prepack(w.size(0), w.size(1), w.data_ptr<float>(),
                                                 b.defined() ? b.data_ptr<float>() : nullptr,
                                                 per_channel);
}

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
    const std::shared_ptr<nn::Module>& child = item.value;
    if (const auto linear = std::dynamic_pointer_cast<nn::LinearImpl>(child)) {
      out->push_back(item.key, nn::quantized::dynamic::Linear(*linear, per_channel));
    } else if (const auto inner = std::dynamic_pointer_cast<nn::SequentialImpl>(child)) {
      out->push_back(item.key, quantize_dynamic(nn::Sequential(inner), per_channel));
    } else {
      // Sequential keeps each child as an AnyModule as well; reuse it (same object, shared).
      bool found = false;
      for (const nn::AnyModule& any : *model) {
        if (any.ptr() == child) {
          out->push_back(item.key, any);
          found = true;
          break;
        }
      }
      TT_CHECK(found, "quantize_dynamic: child '", item.key,
               "' is not one of the Sequential's modules");
    }
  }
  if (!model->is_training()) out->eval();
  return out;
}

}  // namespace tinytorch::quantization
