// The optimizer machinery every algorithm shares (module 06): parameter groups, the step loop,
// zero_grad, and the flat state dict. The update rules themselves live in sgd.cpp, adam.cpp and
// rmsprop.cpp.
#include "tinytorch/optim/optimizer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <typeinfo>
#include <unordered_set>
#include <utility>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/serialize/input_archive.h"
#include "tinytorch/serialize/output_archive.h"

namespace tinytorch::optim {

// ── OptimizerParamGroup ──────────────────────────────────────────────────────────────────────

OptimizerParamGroup::OptimizerParamGroup(const OptimizerParamGroup& other)
    : params_(other.params_), options_(other.options_ ? other.options_->clone() : nullptr) {}

OptimizerParamGroup& OptimizerParamGroup::operator=(const OptimizerParamGroup& other) {
  if (this != &other) {
    params_ = other.params_;
    options_ = other.options_ ? other.options_->clone() : nullptr;
  }
  return *this;
}

OptimizerOptions& OptimizerParamGroup::options() {
  TT_CHECK(options_ != nullptr,
           "OptimizerParamGroup: this group has no options yet (a group "
           "gets a copy of the optimizer's defaults when it is added)");
  return *options_;
}

const OptimizerOptions& OptimizerParamGroup::options() const {
  return const_cast<OptimizerParamGroup*>(this)->options();
}

// ── construction ─────────────────────────────────────────────────────────────────────────────

Optimizer::Optimizer(std::string name, std::vector<OptimizerParamGroup> param_groups,
                     std::unique_ptr<OptimizerOptions> defaults)
    : name_(std::move(name)), defaults_(std::move(defaults)) {
  defaults_->validate();
  for (const OptimizerParamGroup& group : param_groups) add_param_group(group);
}

void Optimizer::add_param_group(const OptimizerParamGroup& group) {
  const OptimizerOptions& options = group.has_options() ? group.options() : *defaults_;
  const OptimizerOptions& d = *defaults_;
  TT_CHECK_TYPE(typeid(options) == typeid(d), name(),
                ": add_param_group got options of another optimizer type (a ", name(),
                " group needs the options class of ", name(), ")");
  options.validate();
  std::unordered_set<const TensorImpl*> seen;
  for (const OptimizerParamGroup& g : param_groups_) {
    for (const Tensor& p : g.params()) seen.insert(p.unsafeGetTensorImpl());
  }
  const size_t group_index = param_groups_.size();
  for (size_t i = 0; i < group.params().size(); ++i) {
    const Tensor& p = group.params()[i];
    TT_CHECK(p.defined(), name(), ": parameter ", i, " of group ", group_index, " is undefined");
    TT_CHECK_TYPE(p.is_floating_point(), name(),
                  ": can only optimize floating-point tensors, but parameter ", i, " of group ",
                  group_index, " is ", p.dtype());
    TT_CHECK(p.is_leaf(), name(), ": can't optimize a non-leaf Tensor (parameter ", i, " of group ",
             group_index,
             " was computed from other tensors; optimize the tensors it came from, or detach() "
             "it)");
    TT_CHECK(seen.insert(p.unsafeGetTensorImpl()).second, name(),
             ": some parameters appear in more than one parameter group (parameter ", i,
             " of group ", group_index, ")");
  }
  OptimizerParamGroup copy(group.params(), options.clone());
  param_groups_.push_back(std::move(copy));
}

// ── accessors ────────────────────────────────────────────────────────────────────────────────

std::vector<Tensor> Optimizer::parameters() const {
  std::vector<Tensor> out;
  for (const OptimizerParamGroup& g : param_groups_) {
    out.insert(out.end(), g.params().begin(), g.params().end());
  }
  return out;
}

size_t Optimizer::size() const {
  size_t n = 0;
  for (const OptimizerParamGroup& g : param_groups_) n += g.params().size();
  return n;
}

OptimizerParamState* Optimizer::state_of(const Tensor& p) {
  auto it = state_.find(p.unsafeGetTensorImpl());
  return it == state_.end() ? nullptr : it->second.get();
}

const OptimizerParamState* Optimizer::state_of(const Tensor& p) const {
  auto it = state_.find(p.unsafeGetTensorImpl());
  return it == state_.end() ? nullptr : it->second.get();
}

// ── step and zero_grad ───────────────────────────────────────────────────────────────────────

Tensor Optimizer::step(const LossClosure& closure) {
  Tensor loss;
  if (closure) {
    AutoGradMode enable_grad(true);
    loss = closure();
  }
  // The update is not part of any model: nothing here may be recorded for backward.
  NoGradGuard no_grad;
  for (size_t gi = 0; gi < param_groups_.size(); ++gi) {
    OptimizerParamGroup& group = param_groups_[gi];
    for (size_t i = 0; i < group.params().size(); ++i) {
      Tensor& p = group.params()[i];
      const Tensor& grad = p.grad();
      if (!grad.defined()) continue;  // no gradient: this parameter took no part in the loss
      TT_CHECK(grad.sizes() == p.sizes(), name(), ".step: parameter ", i, " of group ", gi,
               " has shape ", p.sizes(), " but its gradient has shape ", grad.sizes());
      TT_CHECK_TYPE(grad.dtype() == p.dtype(), name(), ".step: parameter ", i, " of group ", gi,
                    " is ", p.dtype(), " but its gradient is ", grad.dtype());
      std::unique_ptr<OptimizerParamState>& state = state_[p.unsafeGetTensorImpl()];
      if (!state) state = make_state();  // lazily: the first step that has a gradient
      ++state->step;
      if (p.dtype() == kBFloat16 || p.dtype() == kHalf) {
        update_in_float32(p, grad, *state, group.options());
      } else {
        // The update kernels run over raw contiguous memory. A strided parameter (rare: a view
        // registered as a parameter) is updated in a contiguous copy that is copied back; a
        // strided or aliasing gradient is read from a contiguous copy.
        Tensor work = p.is_contiguous() ? p : p.contiguous();
        const Tensor g = grad.is_contiguous() && !grad.is_alias_of(p) ? grad : grad.clone();
        update(work, g, *state, group.options());
        if (!work.is_same(p)) p.copy_(work);
      }
      p.storage().bump_version();  // an in-place write: autograd must see that p changed
    }
  }
  return loss;
}

// NOTE: the float32 copies are fresh contiguous tensors (to() of another dtype copies), so the
// kernels never see a strided or aliasing operand here. A buffer created by this update (its
// first step) is made by update() from `work`, i.e. already float32. Rounding a buffer kept in
// the parameter's dtype is its one rounding per step, as rounding `work` into `param` is the
// parameter's.
void Optimizer::update_in_float32(Tensor& param, const Tensor& grad, OptimizerParamState& state,
                                  const OptimizerOptions& options) {
  const ScalarType state_dtype = options.state_dtype(param.dtype());
  for (const auto& [buffer_name, buffer] : state.buffers()) {
    if (buffer->defined()) *buffer = buffer->to(kFloat32);  // exact; no copy if already float32
  }
  Tensor work = param.to(kFloat32);  // [param's shape], exact
  update(work, grad.to(kFloat32), state, options);
  for (const auto& [buffer_name, buffer] : state.buffers()) {
    if (buffer->defined()) *buffer = buffer->to(state_dtype);  // round once (or keep float32)
  }
  param.copy_(work);  // round to nearest even, once
}

void Optimizer::zero_grad(bool set_to_none) {
  // BEGIN SOLUTION
  for (OptimizerParamGroup& group : param_groups_) {
    for (Tensor& p : group.params()) {
      Tensor& grad = p.mutable_grad();
      if (!grad.defined()) continue;
      if (set_to_none) {
        grad = Tensor();
      } else {
        grad.detach_();
        grad.zero_();
      }
    }
  }
  // END SOLUTION
}

// ── state dict ───────────────────────────────────────────────────────────────────────────────

namespace {

constexpr int64_t kOptimizerFormatVersion = 1;

Tensor scalar_int(int64_t v) {
  return full({}, Scalar(v), kInt64);
}
Tensor scalar_double(double v) {
  return full({}, Scalar(v), kFloat64);
}

std::string shape_str(IntArrayRef s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

// "state.12.exp_avg" → (12, "exp_avg") when key starts with prefix ("state."); nullopt otherwise.
std::optional<std::pair<int64_t, std::string>> split_indexed(const std::string& key,
                                                             std::string_view prefix) {
  if (key.rfind(prefix, 0) != 0) return std::nullopt;
  const char* begin = key.data() + prefix.size();
  const char* end = key.data() + key.size();
  int64_t index = -1;
  auto [ptr, ec] = std::from_chars(begin, end, index);
  if (ec != std::errc() || ptr == begin || ptr == end || *ptr != '.' || index < 0) {
    return std::nullopt;
  }
  return std::make_pair(index, std::string(ptr + 1, end));
}

// A state dict may come from a file, so nothing in it is trusted: each number is checked to be
// one real, finite number before it is used.
double number_of(const Tensor& t, const std::string& key) {
  TT_CHECK(t.defined() && t.numel() == 1, "load_state_dict: '", key, "' must hold one number, got ",
           t.defined() ? shape_str(t.sizes()) : "undefined");
  TT_CHECK_TYPE(t.dtype() != kBool, "load_state_dict: '", key, "' must be a number, got bool");
  const double value = t.item<double>();
  TT_CHECK_VALUE(std::isfinite(value), "load_state_dict: '", key, "' must be finite, got ", value);
  return value;
}

// A count (a step number, a format version): an integer >= 0 stored in an integer tensor, or in
// a floating one as PyTorch stores `step`. Converting a non-integral, infinite or out-of-range
// double to int64_t is undefined behaviour, so each case is refused first.
int64_t count_of(const Tensor& t, const std::string& key) {
  if (t.defined() && t.numel() == 1 && is_integral(t.dtype(), /*include_bool=*/false)) {
    const auto value = t.item<int64_t>();
    TT_CHECK_VALUE(value >= 0, "load_state_dict: '", key, "' must be >= 0, got ", value);
    return value;
  }
  const double value = number_of(t, key);
  TT_CHECK_VALUE(value >= 0 && value == std::floor(value) && value < 0x1p63, "load_state_dict: '",
                 key, "' must be a whole number >= 0 (a count), got ", value);
  return static_cast<int64_t>(value);
}

// True when `ok` holds for every element of a floating-point tensor (of any floating dtype:
// read as float64, which holds every value of each exactly).
template <typename Pred>
bool all_elements(const Tensor& t, Pred ok) {
  const Tensor wide = t.to(kFloat64).contiguous();
  const double* p = wide.data_ptr<double>();  // [numel]
  return std::all_of(p, p + wide.numel(), ok);
}

// The buffers that hold running averages (or Adagrad's sum) of SQUARED gradients: their square
// root divides the update, so a negative value would turn the parameter into NaN.
bool holds_squares(std::string_view buffer) {
  return buffer == "exp_avg_sq" || buffer == "max_exp_avg_sq" || buffer == "square_avg" ||
         buffer == "sum";
}

}  // namespace

OrderedDict<std::string, Tensor> Optimizer::state_dict() const {
  OrderedDict<std::string, Tensor> out("state_dict key");
  out.insert("optimizer." + std::string(name()), scalar_int(kOptimizerFormatVersion));
  int64_t index = 0;
  for (size_t g = 0; g < param_groups_.size(); ++g) {
    const OptimizerParamGroup& group = param_groups_[g];
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    std::vector<int64_t> ids;
    for (size_t i = 0; i < group.params().size(); ++i) ids.push_back(index++);
    out.insert(prefix + "params",
               from_vector(ids, {static_cast<int64_t>(ids.size())}, TensorOptions(kInt64)));
    for (const auto& [option, value] : group.options().to_values()) {
      out.insert(prefix + option, scalar_double(value));
    }
  }
  index = 0;
  for (const OptimizerParamGroup& group : param_groups_) {
    for (const Tensor& p : group.params()) {
      const std::string prefix = "state." + std::to_string(index++) + ".";
      auto it = state_.find(p.unsafeGetTensorImpl());
      if (it == state_.end()) continue;
      out.insert(prefix + "step", scalar_int(it->second->step));
      for (const auto& [buffer, tensor] : it->second->buffers()) {
        if (tensor->defined()) out.insert(prefix + buffer, tensor->clone());
      }
    }
  }
  return out;
}

void Optimizer::save(serialize::OutputArchive& archive) const {
  for (const auto& [key, tensor] : state_dict()) archive.write(key, tensor);
}

void Optimizer::load(serialize::InputArchive& archive) {
  load_state_dict(archive.tensors());
}

void Optimizer::load_state_dict(const OrderedDict<std::string, Tensor>& sd) {
  const std::string who = std::string(name()) + ".load_state_dict";
  // 1. The optimizer type.
  std::vector<std::string> types;
  for (const auto& item : sd) {
    if (item.key().rfind("optimizer.", 0) == 0) types.push_back(item.key().substr(10));
  }
  TT_CHECK(!types.empty(), who,
           ": not an optimizer state dict (it has no 'optimizer.<type>' key; optimizer state "
           "dicts come from Optimizer::state_dict())");
  TT_CHECK(types.size() == 1, who, ": the state dict names ", types.size(), " optimizer types (",
           types.front(), ", ", types[1], ")");
  TT_CHECK(types.front() == name(), who, ": the state dict was saved by ", types.front(),
           ", but this optimizer is ", name());
  const std::string type_key = "optimizer." + types.front();
  const int64_t version = count_of(sd.at(type_key), type_key);
  TT_CHECK(version == kOptimizerFormatVersion, who, ": unsupported state dict format version ",
           version, " (this build reads version ", kOptimizerFormatVersion, ")");

  // 2. Groups: the same number, with the same number of parameters each. Saved parameter
  //    numbers are matched to this optimizer's parameters in order, as PyTorch does.
  int64_t saved_groups = 0;
  while (sd.contains("param_groups." + std::to_string(saved_groups) + ".params")) ++saved_groups;
  TT_CHECK(saved_groups == static_cast<int64_t>(param_groups_.size()), who, ": the state dict has ",
           saved_groups, " parameter group(s), this optimizer has ", param_groups_.size());
  std::map<int64_t, Tensor> param_of;  // saved parameter number → this optimizer's parameter
  std::map<int64_t, size_t> group_of;  // saved parameter number → its group here
  std::vector<std::unique_ptr<OptimizerOptions>> new_options;
  for (size_t g = 0; g < param_groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    const Tensor& ids = sd.at(prefix + "params");
    TT_CHECK(ids.dtype() == kInt64 && ids.dim() == 1, who, ": '", prefix,
             "params' must be a 1-d int64 tensor");
    const std::vector<Tensor>& params = param_groups_[g].params();
    TT_CHECK(ids.numel() == static_cast<int64_t>(params.size()), who, ": parameter group ", g,
             " has ", ids.numel(), " parameter(s) in the state dict but ", params.size(),
             " in this optimizer");
    const std::vector<int64_t> id_values = ids.to_vector<int64_t>();
    for (size_t i = 0; i < params.size(); ++i) {
      TT_CHECK(param_of.emplace(id_values[i], params[i]).second, who, ": parameter number ",
               id_values[i], " appears twice in the state dict's param_groups");
      group_of[id_values[i]] = g;
    }
    std::unique_ptr<OptimizerOptions> options = param_groups_[g].options().clone();
    options->from_values([&](const std::string& option) {
      const std::string key = prefix + option;
      const Tensor* t = sd.find(key);
      TT_CHECK(t != nullptr, who, ": the state dict has no '", key, "' (an option of ", name(),
               ")");
      return number_of(*t, key);
    });
    options->validate();
    new_options.push_back(std::move(options));
  }

  // 3. Per-parameter state, and 4. no key left unexplained.
  std::map<int64_t, std::unique_ptr<OptimizerParamState>> new_state;
  for (const auto& item : sd) {
    const std::string& key = item.key();
    if (key == type_key) continue;
    if (auto group = split_indexed(key, "param_groups.")) {
      const auto& [g, option] = *group;
      bool known = option == "params";
      if (g < static_cast<int64_t>(new_options.size())) {
        for (const auto& [n, v] : new_options[static_cast<size_t>(g)]->to_values()) {
          known = known || n == option;
        }
      }
      TT_CHECK(known, who, ": unexpected key '", key, "': ", name(), " has no option '", option,
               "' (was this state dict saved by another optimizer?)");
      continue;
    }
    auto entry = split_indexed(key, "state.");
    TT_CHECK(entry.has_value(), who, ": unexpected key '", key,
             "' (optimizer state dict keys start with 'param_groups.' or 'state.')");
    const auto& [index, field] = *entry;
    auto p = param_of.find(index);
    TT_CHECK(p != param_of.end(), who, ": '", key, "' is the state of parameter ", index,
             ", but the state dict's param_groups list only ", param_of.size(), " parameter(s)");
    std::unique_ptr<OptimizerParamState>& state = new_state[index];
    if (!state) state = make_state();
    if (field == "step") {
      // +1 at the next update must still fit.
      state->step = count_of(item.value(), key);
      TT_CHECK_VALUE(state->step < std::numeric_limits<int64_t>::max(), who, ": '", key,
                     "' is too large (", state->step, ")");
      continue;
    }
    Tensor* buffer = nullptr;
    std::string known;
    for (const auto& [n, t] : state->buffers()) {
      if (n == field) buffer = t;
      known += (known.empty() ? "" : ", ") + std::string(n);
    }
    TT_CHECK(buffer != nullptr, who, ": unexpected key '", key, "': ", name(), " keeps no buffer '",
             field, "' (its buffers: ", known,
             "; was this state dict saved by another optimizer?)");
    const Tensor& param = p->second;
    const Tensor& value = item.value();
    TT_CHECK(value.defined() && value.sizes() == param.sizes(), who, ": '", key, "' has shape ",
             value.defined() ? shape_str(value.sizes()) : "undefined", " but parameter ", index,
             " has shape ", param.sizes(), " (was the state dict saved for another model?)");
    // Like PyTorch, a buffer saved in another floating dtype is converted to the parameter's —
    // or to float32 where this group keeps a low-precision parameter's state in float32.
    TT_CHECK_TYPE(value.is_floating_point(), who, ": '", key, "' is ", value.dtype(),
                  "; optimizer buffers are floating point (parameter ", index, " is ",
                  param.dtype(), ")");
    const ScalarType state_dtype = new_options[group_of.at(index)]->state_dtype(param.dtype());
    *buffer = empty(param.sizes(), state_dtype);  // our own contiguous copy
    buffer->copy_(value);
    // Checked after the conversion: a float64 value too large for a float32 parameter is inf.
    TT_CHECK_VALUE(all_elements(*buffer, [](double v) { return std::isfinite(v); }), who, ": '",
                   key,
                   "' holds a non-finite value (inf or NaN); the next step would make parameter ",
                   index, " NaN");
    TT_CHECK_VALUE(!holds_squares(field) || all_elements(*buffer, [](double v) { return v >= 0; }),
                   who, ": '", key,
                   "' holds a negative value, but it is an average of squares (>= 0)");
  }
  for (const auto& [index, state] : new_state) {
    TT_CHECK(sd.contains("state." + std::to_string(index) + ".step"), who,
             ": the state of parameter ", index, " has no 'state.", index, ".step'");
  }

  // Everything checked: commit.
  for (size_t g = 0; g < param_groups_.size(); ++g) {
    param_groups_[g].set_options(std::move(new_options[g]));
  }
  state_.clear();
  for (auto& [index, state] : new_state) {
    state_[param_of.at(index).unsafeGetTensorImpl()] = std::move(state);
  }
}

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

namespace detail {
Tensor& zeros_if_undefined(Tensor& buffer, const Tensor& param) {
  if (!buffer.defined()) buffer = zeros(param.sizes(), param.dtype());
  return buffer;
}
}  // namespace detail

}  // namespace tinytorch::optim
