// float32 master weights for bfloat16/float16 models: the copies, the two copies per step
// (gradients up, weights down) and their state dict. The update itself is the optimizer's.
#include "tinytorch/amp/master_weights.h"

#include <sstream>
#include <unordered_set>
#include <utility>

#include "tinytorch/amp/grad_scaler.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/optim/optimizer.h"
#include "tinytorch/serialize/input_archive.h"
#include "tinytorch/serialize/output_archive.h"

namespace tinytorch::amp {

namespace {

std::string key_of(size_t i) {
  return "master." + std::to_string(i);
}

std::string shape_str(IntArrayRef s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

}  // namespace

MasterWeights::MasterWeights(std::vector<Tensor> model_parameters)
    : model_(std::move(model_parameters)) {
  TT_CHECK_VALUE(!model_.empty(), "MasterWeights: got an empty parameter list");
  std::unordered_set<const TensorImpl*> seen;
  master_.reserve(model_.size());
  for (size_t i = 0; i < model_.size(); ++i) {
    const Tensor& p = model_[i];
    TT_CHECK_VALUE(p.defined(), "MasterWeights: parameter ", i, " is undefined");
    TT_CHECK_TYPE(p.dtype() == kBFloat16 || p.dtype() == kHalf, "MasterWeights: parameter ", i,
                  " is ", p.dtype(),
                  ", but master weights are for bfloat16 or float16 parameters (a float32 "
                  "parameter is its own master copy: train it directly, with autocast for "
                  "low-precision compute)");
    TT_CHECK_VALUE(seen.insert(p.unsafeGetTensorImpl()).second, "MasterWeights: parameter ", i,
                   " appears twice in the parameter list");
    Tensor copy = p.detach().to(kFloat32);  // exact: every bf16/f16 value is a float32
    copy.set_requires_grad(true);
    master_.push_back(std::move(copy));
  }
}

void MasterWeights::copy_grads_to_master() {
  for (size_t i = 0; i < model_.size(); ++i) {
    const Tensor& g = model_[i].grad();
    // A fresh float32 tensor each time: the copy's gradient never aliases the model's.
    master_[i].mutable_grad() = g.defined() ? g.detach().to(kFloat32) : Tensor();
  }
  grads_copied_ = true;
}

void MasterWeights::copy_master_to_model() {
  NoGradGuard no_grad;
  for (size_t i = 0; i < model_.size(); ++i) model_[i].copy_(master_[i]);  // RNE, once
  grads_copied_ = false;
}

void MasterWeights::check_optimizer(const optim::Optimizer& optimizer) const {
  std::unordered_set<const TensorImpl*> mine;
  for (const Tensor& m : master_) mine.insert(m.unsafeGetTensorImpl());
  const std::vector<Tensor> params = optimizer.parameters();
  for (size_t k = 0; k < params.size(); ++k) {
    TT_CHECK_VALUE(mine.count(params[k].unsafeGetTensorImpl()) != 0, "MasterWeights.step: the ",
                   optimizer.name(), " optimizer's parameter ", k, " (", params[k].dtype(), ", ",
                   params[k].sizes(),
                   ") is not one of these master weights; build the optimizer over "
                   "master.parameters(), not over the model's parameters");
  }
}

void MasterWeights::step(optim::Optimizer& optimizer) {
  check_optimizer(optimizer);
  if (!grads_copied_) copy_grads_to_master();
  optimizer.step();
  copy_master_to_model();
}

bool MasterWeights::step(optim::Optimizer& optimizer, GradScaler& scaler) {
  check_optimizer(optimizer);
  if (!grads_copied_) copy_grads_to_master();
  const bool applied = scaler.step(optimizer);
  // Skipped: the copies did not change, so the model (their rounding) is already right.
  if (applied) {
    copy_master_to_model();
  } else {
    grads_copied_ = false;
  }
  return applied;
}

OrderedDict<std::string, Tensor> MasterWeights::state_dict() const {
  OrderedDict<std::string, Tensor> out("MasterWeights key");
  for (size_t i = 0; i < master_.size(); ++i) out.insert(key_of(i), master_[i].detach().clone());
  return out;
}

void MasterWeights::load_state_dict(const OrderedDict<std::string, Tensor>& state_dict) {
  for (const auto& item : state_dict) {
    bool known = false;
    for (size_t i = 0; i < master_.size() && !known; ++i) known = item.key() == key_of(i);
    TT_CHECK(known, "MasterWeights.load_state_dict: unexpected key '", item.key(),
             "' (these master weights have keys master.0 ... master.", master_.size() - 1, ")");
  }
  for (size_t i = 0; i < master_.size(); ++i) {
    const Tensor* value = state_dict.find(key_of(i));
    TT_CHECK(value != nullptr, "MasterWeights.load_state_dict: the state dict has no '", key_of(i),
             "' (it holds ", state_dict.size(), " of the ", master_.size(), " master weights)");
    TT_CHECK(value->defined() && value->sizes() == master_[i].sizes(),
             "MasterWeights.load_state_dict: '", key_of(i), "' has shape ",
             value->defined() ? shape_str(value->sizes()) : "undefined", " but parameter ", i,
             " has shape ", master_[i].sizes(), " (was it saved for another model?)");
    TT_CHECK_TYPE(value->is_floating_point(), "MasterWeights.load_state_dict: '", key_of(i),
                  "' is ", value->dtype(), "; master weights are floating point");
  }
  // Everything checked: commit.
  NoGradGuard no_grad;
  for (size_t i = 0; i < master_.size(); ++i) master_[i].copy_(state_dict.at(key_of(i)));
  copy_master_to_model();
}

void MasterWeights::save(serialize::OutputArchive& archive) const {
  for (const auto& [key, tensor] : state_dict()) archive.write(key, tensor);
}

void MasterWeights::load(serialize::InputArchive& archive) {
  load_state_dict(archive.tensors());
}

serialize::OutputArchive& operator<<(serialize::OutputArchive& archive,
                                     const MasterWeights& master) {
  master.save(archive);
  return archive;
}

serialize::InputArchive& operator>>(serialize::InputArchive& archive, MasterWeights& master) {
  master.load(archive);
  return archive;
}

}  // namespace tinytorch::amp
