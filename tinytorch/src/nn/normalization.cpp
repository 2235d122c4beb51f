// Module 13 — LayerNorm / RMSNorm: the parameters and the printed form; the arithmetic is
// tinytorch::layer_norm / rms_norm (src/native/normalization.cpp).
#include "tinytorch/nn/modules/normalization.h"

#include <string>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"

namespace tinytorch::nn {

using detail::python_float_repr;

namespace {

// PyTorch prints normalized_shape as a Python tuple: "(128,)", "(4, 8)".
std::string shape_tuple(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

void check_options(const char* layer, const std::vector<int64_t>& shape, ScalarType dtype) {
  TT_CHECK_VALUE(!shape.empty(), layer,
                 ": normalized_shape must name at least one dim (e.g. {d}), but got []");
  for (int64_t d : shape) {
    TT_CHECK_VALUE(d > 0, layer, ": normalized_shape must be positive sizes, but got ",
                   IntArrayRef(shape));
  }
  TT_CHECK_TYPE(is_floating_point(dtype), layer,
                ": the parameters must have a floating-point dtype, but got ", dtype);
}

}  // namespace

namespace functional {

Tensor layer_norm(const Tensor& input, const LayerNormFuncOptions& options) {
  return tinytorch::layer_norm(input, options.normalized_shape(), options.weight(), options.bias(),
                               options.eps());
}

Tensor rms_norm(const Tensor& input, const RMSNormFuncOptions& options) {
  return tinytorch::rms_norm(input, options.normalized_shape(), options.weight(), options.eps());
}

// input / norm(p, dim, keepdim).clamp_min(eps): recorded ops, so gradients of any order follow.
Tensor normalize(const Tensor& input, NormalizeFuncOptions options) {
  const Tensor denom =
      input.norm(Scalar(options.p()), options.dim(), true).clamp_min(options.eps());
  if (!options.out().has_value()) return input / denom;
  Tensor& out = *options.out();
  TT_CHECK_VALUE(!GradMode::is_enabled() || !(input.requires_grad() || out.requires_grad()),
                 "normalize(): out= does not support automatic differentiation, but the input or "
                 "out requires grad (hint: wrap the call in a NoGradGuard)");
  TT_CHECK_VALUE(out.sizes() == input.sizes(), "normalize(): out has shape ", out.sizes(),
                 "; expected the input's shape ", input.sizes());
  out.copy_(input / denom);
  return out;
}

}  // namespace functional

// ── LayerNorm ─────────────────────────────────────────────────────────────────────────────────

LayerNormImpl::LayerNormImpl(const LayerNormOptions& options_)
    : Module("LayerNorm"), options(options_) {
  check_options("LayerNorm", options.normalized_shape(), options.dtype());
  reset();
}

void LayerNormImpl::reset() {
  if (options.elementwise_affine()) {
    weight = register_parameter("weight", empty(options.normalized_shape(), options.dtype()));
    bias = register_parameter("bias", empty(options.normalized_shape(), options.dtype()));
  } else {
    weight = register_parameter("weight", Tensor(), /*requires_grad=*/false);
    bias = register_parameter("bias", Tensor(), /*requires_grad=*/false);
  }
  reset_parameters();
}

void LayerNormImpl::reset_parameters() {
  if (!options.elementwise_affine()) return;
  const NoGradGuard no_grad;
  weight.fill_(1.0);
  bias.fill_(0.0);
}

Tensor LayerNormImpl::forward(const Tensor& input) {
  return tinytorch::layer_norm(input, options.normalized_shape(), weight, bias, options.eps());
}

std::shared_ptr<Module> LayerNormImpl::clone(const std::optional<Device>& device) const {
  return finish_clone(std::make_shared<LayerNormImpl>(options), device);
}

std::string LayerNormImpl::extra_repr() const {
  return shape_tuple(options.normalized_shape()) + ", eps=" + python_float_repr(options.eps()) +
         ", elementwise_affine=" + (options.elementwise_affine() ? "true" : "false");
}

// ── RMSNorm ───────────────────────────────────────────────────────────────────────────────────

RMSNormImpl::RMSNormImpl(const RMSNormOptions& options_) : Module("RMSNorm"), options(options_) {
  check_options("RMSNorm", options.normalized_shape(), options.dtype());
  reset();
}

void RMSNormImpl::reset() {
  weight = options.elementwise_affine()
               ? register_parameter("weight", empty(options.normalized_shape(), options.dtype()))
               : register_parameter("weight", Tensor(), /*requires_grad=*/false);
  reset_parameters();
}

void RMSNormImpl::reset_parameters() {
  if (!options.elementwise_affine()) return;
  const NoGradGuard no_grad;
  weight.fill_(1.0);
}

Tensor RMSNormImpl::forward(const Tensor& input) {
  return tinytorch::rms_norm(input, options.normalized_shape(), weight, options.eps());
}

std::string RMSNormImpl::extra_repr() const {
  const std::optional<double>& eps = options.eps();
  return shape_tuple(options.normalized_shape()) +
         ", eps=" + (eps ? python_float_repr(*eps) : std::string("None")) +
         ", elementwise_affine=" + (options.elementwise_affine() ? "true" : "false");
}

}  // namespace tinytorch::nn
