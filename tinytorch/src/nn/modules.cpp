// Module 03 — Layers: the built-in modules (modules/03_layers/README.md, Parts 2-4 and 6).
// Linear owns two parameters and calls the fused linear op; Dropout builds its mask from
// rand_like; Sequential runs its children in order; the activation and loss modules are thin
// wrappers that remember their options and call the public functions.
#include <cmath>
#include <string>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/nn/init.h"
#include "tinytorch/nn/modules.h"
#include "tinytorch/nn/utils/prune.h"
#include "tinytorch/profiler/profiler.h"

namespace tinytorch::nn {

using detail::python_float_repr;

// ── Linear ───────────────────────────────────────────────────────────────────────────────────

LinearImpl::LinearImpl(const LinearOptions& options_) : Module("Linear"), options(options_) {
  TT_CHECK_VALUE(options.in_features() >= 0 && options.out_features() >= 0,
                 "Linear: in_features and out_features must be non-negative, but got "
                 "in_features=",
                 options.in_features(), ", out_features=", options.out_features());
  TT_CHECK_TYPE(is_floating_point(options.dtype()),
                "Linear: the parameters must have a floating-point dtype, but got ",
                options.dtype());
  reset();
}

void LinearImpl::reset() {
  const int64_t in = options.in_features(), out = options.out_features();
  weight = register_parameter("weight", empty({out, in}, options.dtype()));
  bias = options.bias() ? register_parameter("bias", empty({out}, options.dtype()))
                        : register_parameter("bias", Tensor(), /*requires_grad=*/false);
  reset_parameters();
}

void LinearImpl::reset_parameters() {
  // BEGIN SOLUTION
  // kaiming_uniform_ with a = √5: gain = √(2 / (1 + 5)) = 1/√3, bound = √3 · gain / √fan_in
  // = 1/√fan_in. (PyTorch's choice; it is the old "U(-1/√in, 1/√in)" rule in new clothes.)
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const int64_t fan_in = init::calculate_fan_in_and_fan_out(weight).first;
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    init::uniform_(bias, -bound, bound);
  }
  // END SOLUTION
}

namespace {
// The body of LinearImpl::forward: y = x·Wᵀ + b.
Tensor linear_forward(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  // BEGIN SOLUTION
  return tinytorch::linear(input, weight, bias);
  // END SOLUTION
}
}  // namespace

Tensor LinearImpl::forward(const Tensor& input) {
  // A pruned weight or bias (module 16) is <name>_orig · <name>_mask, recomputed here before
  // every forward — the job of PyTorch's pruning forward pre-hook. No-op when not pruned.
  utils::prune::detail::apply_mask(*this, "weight", weight);
  utils::prune::detail::apply_mask(*this, "bias", bias);
  return linear_forward(input, weight, bias);
}

std::shared_ptr<Module> LinearImpl::clone(const std::optional<Device>& device) const {
  return finish_clone(std::make_shared<LinearImpl>(options), device);
}

std::string LinearImpl::extra_repr() const {
  return "in_features=" + std::to_string(options.in_features()) +
         ", out_features=" + std::to_string(options.out_features()) +
         ", bias=" + detail::bool_repr(bias.defined());
}

// ── Identity, Flatten ────────────────────────────────────────────────────────────────────────

Tensor IdentityImpl::forward(const Tensor& input) {
  return input;
}

FlattenImpl::FlattenImpl(const FlattenOptions& options_) : Module("Flatten"), options(options_) {}

Tensor FlattenImpl::forward(const Tensor& input) {
  return input.flatten(options.start_dim(), options.end_dim());
}

std::string FlattenImpl::extra_repr() const {
  return "start_dim=" + std::to_string(options.start_dim()) +
         ", end_dim=" + std::to_string(options.end_dim());
}

// ── Dropout ──────────────────────────────────────────────────────────────────────────────────

namespace functional {

namespace {
// Training-mode dropout with 0 < p ≤ 1 on a non-empty floating input: input · mask, where mask is
// 1/(1 − p) with probability 1 − p and 0 otherwise (all zeros for p = 1). The mask is a constant
// of the graph, so autograd sees one differentiable multiply. inplace: input.mul_(mask).
Tensor apply_dropout(const Tensor& input, double p, bool inplace) {
  // BEGIN SOLUTION
  Tensor mask;
  {
    const NoGradGuard no_grad;
    if (p == 1.0) {
      mask = zeros_like(input);
    } else {
      mask = (rand_like(input) >= p).to(input.dtype());  // P(keep) = P(u ≥ p) = 1 − p
      mask.div_(1.0 - p);
    }
  }
  if (inplace) {
    Tensor out = input;
    out.mul_(mask);
    return out;
  }
  return input * mask;
  // END SOLUTION
}
}  // namespace

Tensor dropout(const Tensor& input, double p, bool training, bool inplace) {
  TT_CHECK_VALUE(p >= 0.0 && p <= 1.0, "dropout probability has to be between 0 and 1, but got ",
                 p);
  TT_CHECK_TYPE(input.is_floating_point(),
                "dropout: expected a floating-point input (float32 or float64), but got ",
                input.dtype());
  // Evaluation, p = 0, or nothing to drop: the input itself (as PyTorch returns it).
  if (!training || p == 0.0 || input.numel() == 0) return input;
  const profiler::RecordFunction event("aten::dropout");  // a composite: one profiler event
  return apply_dropout(input, p, inplace);
}

Tensor dropout(const Tensor& input, const DropoutFuncOptions& options) {
  return dropout(input, options.p(), options.training(), options.inplace());
}

Tensor dropout2d(const Tensor& input, const Dropout2dFuncOptions& options) {
  const double p = options.p();
  TT_CHECK_VALUE(p >= 0.0 && p <= 1.0,
                 "dropout2d: dropout probability has to be between 0 and 1, but got ", p);
  TT_CHECK(input.defined() && (input.dim() == 3 || input.dim() == 4),
           "dropout2d: expected a 4-D input [N, C, H, W] (or 3-D [C, H, W], one unbatched "
           "image), but got ",
           input.defined() ? input.sizes() : IntArrayRef());
  TT_CHECK_TYPE(input.is_floating_point(),
                "dropout2d: expected a floating-point input (float32 or float64), but got ",
                input.dtype());
  if (!options.training() || p == 0.0 || input.numel() == 0) return input;
  const profiler::RecordFunction event("aten::feature_dropout");
  // One draw per channel: the mask [N, C, 1, 1] (or [C, 1, 1]) is dropout applied to ones, so a
  // whole map is kept and scaled by 1/(1 − p), or zeroed.
  std::vector<int64_t> mask_shape = input.sizes().vec();
  mask_shape[mask_shape.size() - 1] = mask_shape[mask_shape.size() - 2] = 1;
  Tensor mask;
  {
    const NoGradGuard no_grad;
    mask = apply_dropout(ones(mask_shape, input.dtype()), p, /*inplace=*/true);
  }
  if (options.inplace()) {
    Tensor out = input;
    out.mul_(mask);
    return out;
  }
  return input * mask;
}

}  // namespace functional

DropoutImpl::DropoutImpl(const DropoutOptions& options_) : Module("Dropout"), options(options_) {
  TT_CHECK_VALUE(options.p() >= 0.0 && options.p() <= 1.0,
                 "dropout probability has to be between 0 and 1, but got ", options.p());
}

Tensor DropoutImpl::forward(const Tensor& input) {
  return functional::dropout(input, options.p(), is_training(), options.inplace());
}

std::shared_ptr<Module> DropoutImpl::clone(const std::optional<Device>& device) const {
  return finish_clone(std::make_shared<DropoutImpl>(options), device);
}

std::string DropoutImpl::extra_repr() const {
  return "p=" + python_float_repr(options.p()) +
         ", inplace=" + detail::bool_repr(options.inplace());
}

Dropout2dImpl::Dropout2dImpl(const Dropout2dOptions& options_)
    : Module("Dropout2d"), options(options_) {
  TT_CHECK_VALUE(options.p() >= 0.0 && options.p() <= 1.0,
                 "dropout probability has to be between 0 and 1, but got ", options.p());
}

Tensor Dropout2dImpl::forward(const Tensor& input) {
  return functional::dropout2d(input, functional::Dropout2dFuncOptions()
                                          .p(options.p())
                                          .training(is_training())
                                          .inplace(options.inplace()));
}

std::string Dropout2dImpl::extra_repr() const {
  return "p=" + python_float_repr(options.p()) +
         ", inplace=" + detail::bool_repr(options.inplace());
}

// ── activations ──────────────────────────────────────────────────────────────────────────────

namespace {
// PyTorch prints an activation's inplace only when it is set: "ReLU(inplace=true)", or
// "ELU(alpha=1.0, inplace=true)" after other options (`sep` then is ", ").
std::string inplace_str(bool inplace, const char* sep = "") {
  return inplace ? std::string(sep) + "inplace=true" : "";
}
// Python's repr of a number that is an int by default (Softplus's beta=1, threshold=20): integral
// values without ".0", others as python_float_repr.
std::string number_repr(double v) {
  const bool integral = std::isfinite(v) && v == std::trunc(v) && std::abs(v) < 1e15;
  return integral ? std::to_string(static_cast<int64_t>(v)) : python_float_repr(v);
}
}  // namespace

Tensor ReLUImpl::forward(const Tensor& input) {
  return functional::relu(input, options);
}
std::string ReLUImpl::extra_repr() const {
  return inplace_str(options.inplace());
}

Tensor LeakyReLUImpl::forward(const Tensor& input) {
  return functional::leaky_relu(input, options);
}
std::string LeakyReLUImpl::extra_repr() const {
  return "negative_slope=" + python_float_repr(options.negative_slope()) +
         inplace_str(options.inplace(), ", ");
}

Tensor ReLU6Impl::forward(const Tensor& input) {
  return functional::relu6(input, options);
}
std::string ReLU6Impl::extra_repr() const {
  return inplace_str(options.inplace());
}

Tensor ELUImpl::forward(const Tensor& input) {
  return functional::elu(input, options);
}
std::string ELUImpl::extra_repr() const {
  return "alpha=" + python_float_repr(options.alpha()) + inplace_str(options.inplace(), ", ");
}

Tensor SELUImpl::forward(const Tensor& input) {
  return functional::selu(input, options);
}
std::string SELUImpl::extra_repr() const {
  return inplace_str(options.inplace());
}

Tensor CELUImpl::forward(const Tensor& input) {
  return functional::celu(input, options);
}
std::string CELUImpl::extra_repr() const {
  return "alpha=" + python_float_repr(options.alpha()) + inplace_str(options.inplace(), ", ");
}

HardtanhImpl::HardtanhImpl(const HardtanhOptions& options_)
    : Module("Hardtanh"), options(options_) {
  TT_CHECK_VALUE(options.max_val() > options.min_val(),
                 "Hardtanh: max_val must be greater than min_val, but got min_val=",
                 options.min_val(), ", max_val=", options.max_val());
}
Tensor HardtanhImpl::forward(const Tensor& input) {
  return functional::hardtanh(input, options);
}
std::string HardtanhImpl::extra_repr() const {
  return "min_val=" + python_float_repr(options.min_val()) +
         ", max_val=" + python_float_repr(options.max_val()) + inplace_str(options.inplace(), ", ");
}

Tensor SoftplusImpl::forward(const Tensor& input) {
  return functional::softplus(input, options);
}
std::string SoftplusImpl::extra_repr() const {
  return "beta=" + number_repr(options.beta()) + ", threshold=" + number_repr(options.threshold());
}

Tensor MishImpl::forward(const Tensor& input) {
  return tinytorch::mish(input);
}

Tensor HardswishImpl::forward(const Tensor& input) {
  return tinytorch::hardswish(input);
}

Tensor HardsigmoidImpl::forward(const Tensor& input) {
  return tinytorch::hardsigmoid(input);
}

Tensor SigmoidImpl::forward(const Tensor& input) {
  return tinytorch::sigmoid(input);
}

Tensor TanhImpl::forward(const Tensor& input) {
  return tinytorch::tanh(input);
}

GELUImpl::GELUImpl(const GELUOptions& options_) : Module("GELU"), options(options_) {
  TT_CHECK_VALUE(options.approximate() == "none" || options.approximate() == "tanh",
                 "GELU: approximate must be 'none' or 'tanh', but got '", options.approximate(),
                 "'");
}
Tensor GELUImpl::forward(const Tensor& input) {
  return tinytorch::gelu(input, options.approximate());
}
std::string GELUImpl::extra_repr() const {
  return "approximate='" + options.approximate() + "'";
}

Tensor SiLUImpl::forward(const Tensor& input) {
  return tinytorch::silu(input);
}

Tensor SoftmaxImpl::forward(const Tensor& input) {
  return tinytorch::softmax(input, options.dim());
}
std::string SoftmaxImpl::extra_repr() const {
  return "dim=" + std::to_string(options.dim());
}

Tensor LogSoftmaxImpl::forward(const Tensor& input) {
  return tinytorch::log_softmax(input, options.dim());
}
std::string LogSoftmaxImpl::extra_repr() const {
  return "dim=" + std::to_string(options.dim());
}

// ── losses ───────────────────────────────────────────────────────────────────────────────────

// The functional forms take libtorch's options structs and call the positional ops.
namespace functional {
Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossFuncOptions& options) {
  return tinytorch::mse_loss(input, target, options.reduction());
}
Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossFuncOptions& options) {
  return tinytorch::l1_loss(input, target, options.reduction());
}
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossFuncOptions& options) {
  return tinytorch::nll_loss(input, target, options.weight(), options.reduction(),
                             options.ignore_index());
}
Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyFuncOptions& options) {
  return tinytorch::cross_entropy(input, target, options.weight(), options.reduction(),
                                  options.ignore_index(), options.label_smoothing());
}
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const BinaryCrossEntropyFuncOptions& options) {
  return tinytorch::binary_cross_entropy(input, target, options.weight(), options.reduction());
}
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsFuncOptions& options) {
  return tinytorch::binary_cross_entropy_with_logits(input, target, options.weight(),
                                                     options.pos_weight(), options.reduction());
}
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      const SmoothL1LossFuncOptions& options) {
  return tinytorch::smooth_l1_loss(input, target, options.reduction(),
                                   options.beta().value_or(1.0));
}
Tensor huber_loss(const Tensor& input, const Tensor& target, const HuberLossFuncOptions& options) {
  return tinytorch::huber_loss(input, target, options.reduction(), options.delta());
}
}  // namespace functional

Tensor MSELossImpl::forward(const Tensor& input, const Tensor& target) {
  return functional::mse_loss(input, target, options);
}

Tensor L1LossImpl::forward(const Tensor& input, const Tensor& target) {
  return functional::l1_loss(input, target, options);
}

Tensor NLLLossImpl::forward(const Tensor& input, const Tensor& target) {
  return functional::nll_loss(input, target, options);
}

CrossEntropyLossImpl::CrossEntropyLossImpl(const CrossEntropyLossOptions& options_)
    : Module("CrossEntropyLoss"), options(options_) {
  TT_CHECK_VALUE(options.label_smoothing() >= 0.0 && options.label_smoothing() <= 1.0,
                 "CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, but got ",
                 options.label_smoothing());
}
Tensor CrossEntropyLossImpl::forward(const Tensor& input, const Tensor& target) {
  return functional::cross_entropy(input, target, options);
}

Tensor BCELossImpl::forward(const Tensor& input, const Tensor& target) {
  return functional::binary_cross_entropy(input, target, options);
}

Tensor BCEWithLogitsLossImpl::forward(const Tensor& input, const Tensor& target) {
  return functional::binary_cross_entropy_with_logits(input, target, options);
}

Tensor SmoothL1LossImpl::forward(const Tensor& input, const Tensor& target) {
  return functional::smooth_l1_loss(input, target, options);
}

Tensor HuberLossImpl::forward(const Tensor& input, const Tensor& target) {
  return functional::huber_loss(input, target, options);
}

// ── containers ───────────────────────────────────────────────────────────────────────────────

void SequentialImpl::add(std::string name, AnyModule module) {
  TT_CHECK(!module.is_empty(), "Sequential: cannot add an empty module (a nullptr holder)");
  register_module(std::move(name), module.ptr());
  modules_.push_back(std::move(module));
}

Tensor SequentialImpl::forward(const Tensor& input) {
  // BEGIN SOLUTION
  Tensor x = input;
  for (const AnyModule& m : modules_) x = m.forward(x);
  return x;
  // END SOLUTION
}

std::shared_ptr<Module> SequentialImpl::ptr(size_t index) const {
  TT_CHECK_INDEX(index < modules_.size(), "Sequential: index ", index,
                 " is out of range for a Sequential of ", modules_.size(), " module(s)");
  return modules_[index].ptr();
}

void ModuleListImpl::add(std::shared_ptr<Module> module) {
  TT_CHECK(module != nullptr, "ModuleList: cannot add an empty module (a nullptr holder)");
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

std::shared_ptr<Module> ModuleListImpl::ptr(size_t index) const {
  TT_CHECK_INDEX(index < modules_.size(), "ModuleList: index ", index,
                 " is out of range for a ModuleList of ", modules_.size(), " module(s)");
  return modules_[index];
}

std::shared_ptr<Module> SequentialImpl::clone(const std::optional<Device>& device) const {
  // NOTE: a Sequential registers nothing but its modules, in order: children_[i] is modules_[i]
  // under the name it was pushed with.
  auto copy = std::make_shared<SequentialImpl>();
  for (size_t i = 0; i < modules_.size(); ++i) {
    copy->push_back(children_.items()[i].key(), modules_[i].clone(device));
  }
  copy_training_modes_to(*copy);
  return copy;
}

std::shared_ptr<Module> ModuleListImpl::clone(const std::optional<Device>& device) const {
  auto copy = std::make_shared<ModuleListImpl>();
  for (const auto& module : modules_) copy->push_back(module->clone(device));
  copy_training_modes_to(*copy);
  return copy;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> ModuleDictImpl::items() const {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  for (const auto& [key, module] : modules_) out.emplace_back(key, module);
  return out;
}

std::shared_ptr<Module> ModuleDictImpl::operator[](const std::string& key) const {
  const std::shared_ptr<Module>* module = modules_.find(key);
  TT_CHECK_INDEX(module != nullptr, "ModuleDict: no module under key '", key,
                 "' (check contains(key) first)");
  return *module;
}

std::shared_ptr<Module> ModuleDictImpl::pop(const std::string& key) {
  std::shared_ptr<Module> module = (*this)[key];
  modules_.erase(key);
  return module;
}

void ModuleDictImpl::insert(const std::string& key, std::shared_ptr<Module> module) {
  TT_CHECK(module != nullptr, "ModuleDict: the module for key '", key,
           "' is empty (a nullptr holder)");
  if (std::shared_ptr<Module>* existing = modules_.find(key)) {
    *existing = module;
    replace_module(key, std::move(module));
  } else {
    register_module(key, module);
    modules_.insert(key, std::move(module));
  }
}

std::shared_ptr<Module> ModuleDictImpl::clone(const std::optional<Device>& device) const {
  auto copy = std::make_shared<ModuleDictImpl>();
  for (const auto& [key, module] : modules_) copy->insert(key, module->clone(device));
  copy_training_modes_to(*copy);
  return copy;
}

namespace {
// Python's legacy tensor type name of a dtype, as its reprs print it: float32 → "FloatTensor".
const char* legacy_type_name(ScalarType dtype) {
  switch (dtype) {
    case kBool:
      return "BoolTensor";
    case kUInt8:
      return "ByteTensor";
    case kInt8:
      return "CharTensor";
    case kInt16:
      return "ShortTensor";
    case kInt32:
      return "IntTensor";
    case kInt64:
      return "LongTensor";
    case kFloat32:
      return "FloatTensor";
    case kFloat64:
      return "DoubleTensor";
    case kBFloat16:
      return "BFloat16Tensor";
    case kHalf:
      return "HalfTensor";
  }
  return "Tensor";
}

// Python 1.13's lines for the tensors of a ParameterList / ParameterDict, one per entry:
// "(0): Parameter containing: [torch.float32 of size 2x3]" — the dtype's name in a
// ParameterList, its legacy tensor type ("torch.FloatTensor") in a ParameterDict.
std::string parameter_lines(const OrderedDict<std::string, Tensor>& parameters,
                            bool legacy_type_names) {
  std::string out;
  for (const auto& [key, p] : parameters) {
    std::string size;
    for (int64_t d = 0; d < p.dim(); ++d) size += (d ? "x" : "") + std::to_string(p.size(d));
    const std::string type = legacy_type_names ? legacy_type_name(p.scalar_type())
                                               : std::string(to_string(p.scalar_type()));
    out += (out.empty() ? "" : "\n") + std::string("  (") + key +
           "): Parameter containing: [torch." + type + " of size " + size + "]";
  }
  return out;
}

// A copy of `p` that shares nothing with it, with the same requires_grad flag.
Tensor copied_parameter(const Tensor& p, const std::optional<Device>& device) {
  const NoGradGuard no_grad;
  Tensor copy = device.has_value() ? p.detach().to(*device, false, true) : p.detach().clone();
  copy.set_requires_grad(p.requires_grad());
  return copy;
}
}  // namespace

void ParameterListImpl::append(const Tensor& param) {
  register_parameter(std::to_string(parameters_.size()), param, param.requires_grad());
}

Tensor& ParameterListImpl::at(size_t idx) {
  TT_CHECK_INDEX(idx < size(), "ParameterList: index ", idx,
                 " is out of range for a ParameterList of ", size(), " parameter(s)");
  return parameters_[std::to_string(idx)];
}

const Tensor& ParameterListImpl::at(size_t idx) const {
  TT_CHECK_INDEX(idx < size(), "ParameterList: index ", idx,
                 " is out of range for a ParameterList of ", size(), " parameter(s)");
  return parameters_[std::to_string(idx)];
}

std::string ParameterListImpl::extra_repr() const {
  return parameter_lines(parameters_, /*legacy_type_names=*/false);
}

std::shared_ptr<Module> ParameterListImpl::clone(const std::optional<Device>& device) const {
  auto copy = std::make_shared<ParameterListImpl>();
  for (const auto& [key, p] : parameters_) copy->append(copied_parameter(p, device));
  copy_training_modes_to(*copy);
  return copy;
}

Tensor& ParameterDictImpl::insert(std::string key, Tensor param) {
  const bool requires_grad = param.requires_grad();
  return register_parameter(std::move(key), std::move(param), requires_grad);
}

Tensor ParameterDictImpl::pop(const std::string& key) {
  Tensor param = parameters_[key];
  parameters_.erase(key);
  return param;
}

std::string ParameterDictImpl::extra_repr() const {
  return parameter_lines(parameters_, /*legacy_type_names=*/true);
}

std::shared_ptr<Module> ParameterDictImpl::clone(const std::optional<Device>& device) const {
  auto copy = std::make_shared<ParameterDictImpl>();
  for (const auto& [key, p] : parameters_) copy->insert(key, copied_parameter(p, device));
  copy_training_modes_to(*copy);
  return copy;
}

FunctionalImpl::FunctionalImpl(Function function)
    : Module("Functional"), function_(std::move(function)) {
  TT_CHECK(function_ != nullptr, "Functional: the function is empty");
}

Tensor FunctionalImpl::forward(const Tensor& input) {
  return function_(input);
}

}  // namespace tinytorch::nn
