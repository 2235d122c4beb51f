// Learning-rate schedulers (module 06): the shared step / state-dict logic, and each schedule's
// formula in its recursive form (get_lrs) and closed form (closed_form_lrs): StepLR on libtorch's
// C++ timing, CosineAnnealingLR and LinearLR with PyTorch 1.13's (Python) values.
#include "tinytorch/optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "tinytorch/core/exception.h"

namespace tinytorch::optim {

namespace {
constexpr int64_t kSchedulerFormatVersion = 1;
}  // namespace

// ── the shared machinery ─────────────────────────────────────────────────────────────────────

LRScheduler::LRScheduler(Optimizer& optimizer)
    : optimizer_(optimizer), base_lrs_(get_current_lrs()) {}

std::vector<double> LRScheduler::get_current_lrs() const {
  std::vector<double> lrs;
  for (const OptimizerParamGroup& g : optimizer_.param_groups())
    lrs.push_back(g.options().get_lr());
  return lrs;
}

void LRScheduler::initial_step() {
  step_count_ = 0;
  step();
}

void LRScheduler::step() {
  auto& groups = optimizer_.param_groups();
  TT_CHECK(base_lrs_.size() == groups.size(), name(), ".step: the optimizer has ", groups.size(),
           " parameter group(s), but the scheduler was made for ", base_lrs_.size(),
           " (add parameter groups before making the scheduler)");
  ++step_count_;
  ++last_epoch_;
  const std::vector<double> lrs = get_lrs();
  for (size_t g = 0; g < groups.size(); ++g) groups[g].options().set_lr(lrs[g]);
  last_lrs_ = get_current_lrs();
}

OrderedDict<std::string, Tensor> LRScheduler::state_dict() const {
  OrderedDict<std::string, Tensor> out("state_dict key");
  auto vec = [](const std::vector<double>& v) {
    return from_vector(v, {static_cast<int64_t>(v.size())}, TensorOptions(kFloat64));
  };
  out.insert("scheduler." + std::string(name()), full({}, Scalar(kSchedulerFormatVersion), kInt64));
  out.insert("last_epoch", full({}, Scalar(last_epoch_), kInt64));
  out.insert("step_count", full({}, Scalar(step_count_), kInt64));
  out.insert("base_lrs", vec(base_lrs_));
  out.insert("last_lrs", vec(last_lrs_));
  return out;
}

void LRScheduler::load_state_dict(const OrderedDict<std::string, Tensor>& sd) {
  const std::string who = std::string(name()) + ".load_state_dict";
  std::string type;
  for (const auto& item : sd) {
    if (item.key().rfind("scheduler.", 0) == 0) type = item.key().substr(10);
  }
  TT_CHECK(!type.empty(), who,
           ": not an LR scheduler state dict (it has no 'scheduler.<type>' key; scheduler state "
           "dicts come from LRScheduler::state_dict())");
  TT_CHECK(type == name(), who, ": the state dict was saved by ", type, ", but this scheduler is ",
           name());
  auto get = [&](const std::string& key) -> const Tensor& {
    const Tensor* t = sd.find(key);
    TT_CHECK(t != nullptr && t->defined(), who, ": the state dict has no '", key, "'");
    return *t;
  };
  const size_t groups = optimizer_.param_groups().size();
  auto lrs = [&](const std::string& key) {
    const Tensor& t = get(key);
    TT_CHECK(t.dim() == 1 && t.numel() == static_cast<int64_t>(groups), who, ": '", key, "' holds ",
             t.numel(), " value(s), but the optimizer has ", groups, " parameter group(s)");
    return t.to(kFloat64).to_vector<double>();
  };
  auto integer = [&](const std::string& key) {
    const Tensor& t = get(key);
    TT_CHECK(t.numel() == 1, who, ": '", key, "' must hold one number");
    return t.item<int64_t>();
  };
  for (const auto& item : sd) {
    const std::string& k = item.key();
    TT_CHECK(k == "scheduler." + type || k == "last_epoch" || k == "step_count" ||
                 k == "base_lrs" || k == "last_lrs",
             who, ": unexpected key '", k, "'");
  }
  std::vector<double> base = lrs("base_lrs"), last = lrs("last_lrs");
  const int64_t epoch = integer("last_epoch"), count = integer("step_count");
  TT_CHECK(epoch >= 0 && count >= 0, who, ": negative last_epoch or step_count");
  base_lrs_ = std::move(base);
  last_lrs_ = std::move(last);
  last_epoch_ = epoch;
  step_count_ = count;
}

// ── StepLR ───────────────────────────────────────────────────────────────────────────────────

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  TT_CHECK_VALUE(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  initial_step();
}

std::vector<double> StepLR::get_lrs() {
  // BEGIN SOLUTION
  // libtorch's timing: its step() decides from the number of EARLIER step() calls, which is
  // last_epoch_ − 1 here (last_epoch_ already counts this one), and multiplies by gamma when that
  // number is a positive multiple of step_size: the 3rd, 5th, 7th ... call for step_size 2.
  std::vector<double> lrs = get_current_lrs();
  const int64_t earlier_steps = last_epoch_ - 1;
  if (earlier_steps <= 0 || earlier_steps % step_size_ != 0) return lrs;
  for (double& lr : lrs) lr *= gamma_;
  return lrs;
  // END SOLUTION
}

std::vector<double> StepLR::closed_form_lrs() const {
  // BEGIN SOLUTION
  // base · γ^⌊(t − 1) / step_size⌋ after t ≥ 1 step() calls; the base lr at t = 0.
  const int64_t decays = last_epoch_ == 0 ? 0 : (last_epoch_ - 1) / step_size_;
  std::vector<double> lrs;
  for (double base : base_lrs_) {
    lrs.push_back(base * std::pow(gamma_, static_cast<double>(decays)));
  }
  return lrs;
  // END SOLUTION
}

// ── CosineAnnealingLR ────────────────────────────────────────────────────────────────────────

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min)
    : LRScheduler(optimizer), T_max_(T_max), eta_min_(eta_min) {
  TT_CHECK_VALUE(T_max > 0, "CosineAnnealingLR: T_max must be positive, got ", T_max);
  initial_step();
}

std::vector<double> CosineAnnealingLR::get_lrs() {
  // BEGIN SOLUTION
  // The recursive form multiplies the distance to eta_min by the ratio of consecutive cosine
  // factors, (1 + cos(π t / T)) / (1 + cos(π (t−1) / T)). That ratio is 0/0 where the cosine
  // bottoms out (t − 1 = T, 3T, ...), so there the lr climbs back by the closed-form step
  // instead. Same operations in the same order as PyTorch, so the values are the same doubles.
  constexpr double pi = std::numbers::pi;
  const double t = static_cast<double>(last_epoch_), T = static_cast<double>(T_max_);
  std::vector<double> lrs = get_current_lrs();
  if (last_epoch_ == 0) return lrs;
  if ((last_epoch_ - 1 - T_max_) % (2 * T_max_) == 0) {
    for (size_t g = 0; g < lrs.size(); ++g) {
      lrs[g] = lrs[g] + (base_lrs_[g] - eta_min_) * (1 - std::cos(pi / T)) / 2;
    }
    return lrs;
  }
  for (double& lr : lrs) {
    lr = (1 + std::cos(pi * t / T)) / (1 + std::cos(pi * (t - 1) / T)) * (lr - eta_min_) + eta_min_;
  }
  return lrs;
  // END SOLUTION
}

std::vector<double> CosineAnnealingLR::closed_form_lrs() const {
  // BEGIN SOLUTION
  constexpr double pi = std::numbers::pi;
  std::vector<double> lrs;
  for (double base : base_lrs_) {
    lrs.push_back(eta_min_ + (base - eta_min_) *
                                 (1 + std::cos(pi * static_cast<double>(last_epoch_) /
                                               static_cast<double>(T_max_))) /
                                 2);
  }
  return lrs;
  // END SOLUTION
}

// ── LinearLR ─────────────────────────────────────────────────────────────────────────────────

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor,
                   int64_t total_iters)
    : LRScheduler(optimizer),
      start_factor_(start_factor),
      end_factor_(end_factor),
      total_iters_(total_iters) {
  TT_CHECK_VALUE(start_factor > 0.0 && start_factor <= 1.0,
                 "LinearLR: starting multiplicative factor expected to be greater than 0 and at "
                 "most 1, got ",
                 start_factor);
  TT_CHECK_VALUE(end_factor >= 0.0 && end_factor <= 1.0,
                 "LinearLR: ending multiplicative factor expected to be between 0 and 1, got ",
                 end_factor);
  TT_CHECK_VALUE(total_iters > 0, "LinearLR: total_iters must be positive, got ", total_iters);
  initial_step();
}

std::vector<double> LinearLR::get_lrs() {
  // BEGIN SOLUTION
  // Each step multiplies by factor(t) / factor(t − 1), written as 1 + Δ / factor(t − 1)·T with
  // Δ = end − start: PyTorch's recursive form, operation for operation.
  std::vector<double> lrs = get_current_lrs();
  if (last_epoch_ == 0) {
    for (double& lr : lrs) lr *= start_factor_;
    return lrs;
  }
  if (last_epoch_ > total_iters_) return lrs;
  const double delta = end_factor_ - start_factor_;
  for (double& lr : lrs) {
    lr = lr * (1. + delta / (static_cast<double>(total_iters_) * start_factor_ +
                             static_cast<double>(last_epoch_ - 1) * delta));
  }
  return lrs;
  // END SOLUTION
}

std::vector<double> LinearLR::closed_form_lrs() const {
  // BEGIN SOLUTION
  std::vector<double> lrs;
  const double progress = static_cast<double>(std::min(total_iters_, last_epoch_));
  for (double base : base_lrs_) {
    lrs.push_back(base * (start_factor_ + (end_factor_ - start_factor_) * progress /
                                              static_cast<double>(total_iters_)));
  }
  return lrs;
  // END SOLUTION
}

}  // namespace tinytorch::optim
