// Dynamic loss scaling (amp/grad_scaler.h), with the rules of PyTorch's torch/amp/grad_scaler.py
// and its _amp_update_scale_ kernel.
#include "tinytorch/amp/grad_scaler.h"

#include <cmath>
#include <limits>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/optim/optimizer.h"
#include "tinytorch/serialize/input_archive.h"
#include "tinytorch/serialize/output_archive.h"

namespace tinytorch::amp {

namespace {

void check_scale(const char* who, double scale) {
  TT_CHECK_VALUE(scale > 0.0 && scale <= std::numeric_limits<float>::max(), "GradScaler: ", who,
                 " = ", scale, " is invalid (expected a finite float32 value > 0)");
}
void check_growth_factor(double f) {
  TT_CHECK_VALUE(f > 1.0 && std::isfinite(f), "GradScaler: growth_factor = ", f,
                 " is invalid (expected a finite value > 1.0)");
}
void check_backoff_factor(double f) {
  TT_CHECK_VALUE(f > 0.0 && f < 1.0, "GradScaler: backoff_factor = ", f,
                 " is invalid (expected a value in (0, 1))");
}
void check_growth_interval(int64_t n) {
  TT_CHECK_VALUE(n >= 1, "GradScaler: growth_interval = ", n, " is invalid (expected >= 1)");
}

// Divides every gradient of `optimizer` by the scale (multiplies it by inv_scale), in place, and
// says whether any of them holds an inf or a NaN: an overflow somewhere in the scaled backward,
// which makes this step's update worthless. Every gradient is unscaled, even after an inf is
// found, as PyTorch's _amp_foreach_non_finite_check_and_unscale_ does.
// NOTE: g · 0 is ±0 where g is finite and NaN where it is inf or NaN, so its sum is 0 exactly
// when all are finite — in g's own dtype, with no overflow (a plain sum of large finite gradients
// could overflow to inf and report a false positive).
bool unscale_grads_(const optim::Optimizer& optimizer, double inv_scale) {
  // BEGIN SOLUTION
  bool found_inf = false;
  for (const optim::OptimizerParamGroup& group : optimizer.param_groups()) {
    for (const Tensor& p : group.params()) {
      Tensor g = p.grad();
      if (!g.defined()) continue;
      g.mul_(inv_scale);
      found_inf = found_inf || (g * 0.0).sum().item<double>() != 0.0;
    }
  }
  return found_inf;
  // END SOLUTION
}

// The scale after a step (PyTorch's _amp_update_scale_): an inf or NaN anywhere multiplies it by
// backoff_factor (0.5: the scaled gradients overflowed, so scale less) and restarts the count of
// clean steps; growth_interval clean steps in a row multiply it by growth_factor (2.0: probe for a
// larger scale, which keeps more small gradients out of float16's underflow). A growth that would
// overflow float32 leaves the scale as it is. The products are computed in float64 and rounded to
// float32, where the scale lives. `growth_tracker` counts the clean steps since the last change.
float update_scale(float scale, bool found_inf, int64_t& growth_tracker, double growth_factor,
                   double backoff_factor, int64_t growth_interval) {
  // BEGIN SOLUTION
  if (found_inf) {
    growth_tracker = 0;
    return static_cast<float>(scale * backoff_factor);
  }
  if (growth_tracker + 1 == growth_interval) {
    growth_tracker = 0;
    const auto grown = static_cast<float>(scale * growth_factor);
    return std::isfinite(grown) ? grown : scale;
  }
  ++growth_tracker;
  return scale;
  // END SOLUTION
}

}  // namespace

GradScaler::GradScaler(GradScalerOptions options)
    : scale_(static_cast<float>(options.init_scale)),
      growth_factor_(options.growth_factor),
      backoff_factor_(options.backoff_factor),
      growth_interval_(options.growth_interval),
      enabled_(options.enabled) {
  check_scale("init_scale", options.init_scale);
  check_growth_factor(growth_factor_);
  check_backoff_factor(backoff_factor_);
  check_growth_interval(growth_interval_);
}

Tensor GradScaler::scale(const Tensor& outputs) const {
  if (!enabled_) return outputs;
  TT_CHECK_VALUE(outputs.defined(), "GradScaler.scale: outputs is an undefined tensor");
  TT_CHECK_TYPE(outputs.is_floating_point(), "GradScaler.scale: outputs has dtype ",
                outputs.dtype(), " (expected a floating-point loss)");
  return outputs * static_cast<double>(scale_);
}

void GradScaler::unscale_(optim::Optimizer& optimizer) {
  if (!enabled_) return;
  OptimizerState& state = per_optimizer_[&optimizer];
  TT_CHECK(state.stage != Stage::kUnscaled,
           "unscale_() has already been called on this optimizer since the last update().");
  TT_CHECK(state.stage != Stage::kStepped, "unscale_() is being called after step().");
  // PyTorch's inv_scale: the reciprocal in float64, rounded to float32.
  const auto inv_scale = static_cast<double>(static_cast<float>(1.0 / scale_));
  const NoGradGuard no_grad;
  state.found_inf = unscale_grads_(optimizer, inv_scale);
  state.stage = Stage::kUnscaled;
}

bool GradScaler::step(optim::Optimizer& optimizer) {
  if (!enabled_) {
    optimizer.step();
    return true;
  }
  OptimizerState& state = per_optimizer_[&optimizer];
  TT_CHECK(state.stage != Stage::kStepped,
           "step() has already been called since the last update().");
  if (state.stage == Stage::kReady) unscale_(optimizer);
  const bool apply = !state.found_inf;
  // NOTE: a skipped step calls nothing on the optimizer: parameters, moments and step counts
  // stay exactly as they were.
  if (apply) optimizer.step();
  state.stage = Stage::kStepped;
  return apply;
}

void GradScaler::update(std::optional<double> new_scale) {
  if (!enabled_) return;
  if (new_scale) {
    check_scale("new_scale", *new_scale);
    scale_ = static_cast<float>(*new_scale);
  } else {
    TT_CHECK(!per_optimizer_.empty(), "No inf checks were recorded prior to update().");
    bool found_inf = false;
    for (const auto& [optimizer, state] : per_optimizer_) found_inf = found_inf || state.found_inf;
    scale_ = update_scale(scale_, found_inf, growth_tracker_, growth_factor_, backoff_factor_,
                          growth_interval_);
  }
  per_optimizer_.clear();
}

double GradScaler::get_scale() const {
  return enabled_ ? static_cast<double>(scale_) : 1.0;
}

void GradScaler::set_growth_factor(double new_factor) {
  check_growth_factor(new_factor);
  growth_factor_ = new_factor;
}

void GradScaler::set_backoff_factor(double new_factor) {
  check_backoff_factor(new_factor);
  backoff_factor_ = new_factor;
}

void GradScaler::set_growth_interval(int64_t new_interval) {
  check_growth_interval(new_interval);
  growth_interval_ = new_interval;
}

OrderedDict<std::string, Tensor> GradScaler::state_dict() const {
  OrderedDict<std::string, Tensor> sd("GradScaler key");
  if (!enabled_) return sd;
  const auto value = [](double v) { return full({}, v, TensorOptions().dtype(kFloat64)); };
  sd.insert("scale", value(scale_));
  sd.insert("growth_factor", value(growth_factor_));
  sd.insert("backoff_factor", value(backoff_factor_));
  sd.insert("growth_interval", value(static_cast<double>(growth_interval_)));
  sd.insert("_growth_tracker", value(static_cast<double>(growth_tracker_)));
  return sd;
}

void GradScaler::load_state_dict(const OrderedDict<std::string, Tensor>& sd) {
  if (!enabled_) return;
  TT_CHECK(!sd.is_empty(),
           "GradScaler.load_state_dict: the source state dict is empty, possibly because it was "
           "saved from a disabled instance of GradScaler.");
  const auto value = [&sd](const std::string& key) {
    const Tensor* t = sd.find(key);
    TT_CHECK(t != nullptr, "GradScaler.load_state_dict: the state dict has no '", key,
             "' entry (expected scale, growth_factor, backoff_factor, growth_interval, "
             "_growth_tracker)");
    TT_CHECK_VALUE(t->numel() == 1, "GradScaler.load_state_dict: '", key, "' has shape ",
                   t->sizes(), " (expected one value)");
    return t->item<double>();
  };
  // Everything is read and checked before anything is changed: all or nothing.
  const double scale = value("scale");
  const double growth_factor = value("growth_factor");
  const double backoff_factor = value("backoff_factor");
  const double growth_interval = value("growth_interval");
  const double growth_tracker = value("_growth_tracker");
  check_scale("scale", scale);
  check_growth_factor(growth_factor);
  check_backoff_factor(backoff_factor);
  check_growth_interval(static_cast<int64_t>(growth_interval));
  TT_CHECK_VALUE(growth_interval == std::floor(growth_interval) && growth_tracker >= 0 &&
                     growth_tracker == std::floor(growth_tracker),
                 "GradScaler.load_state_dict: growth_interval = ", growth_interval,
                 " and _growth_tracker = ", growth_tracker, " must be whole numbers >= 0");
  scale_ = static_cast<float>(scale);
  growth_factor_ = growth_factor;
  backoff_factor_ = backoff_factor;
  growth_interval_ = static_cast<int64_t>(growth_interval);
  growth_tracker_ = static_cast<int64_t>(growth_tracker);
}

void GradScaler::save(serialize::OutputArchive& archive) const {
  for (const auto& [key, tensor] : state_dict()) archive.write(key, tensor);
}

void GradScaler::load(serialize::InputArchive& archive) {
  load_state_dict(archive.tensors());
}

}  // namespace tinytorch::amp
