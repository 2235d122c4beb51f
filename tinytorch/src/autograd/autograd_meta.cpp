// Module 05 fills the autograd slot of module 01's TensorImpl: the AutogradMeta factory, the
// autograd methods of Tensor (grad, backward, detach, ...) and SavedVariable.
#include "tinytorch/autograd/autograd_meta.h"

#include "tinytorch/autograd/engine.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/autograd/saved_variable.h"

namespace tinytorch {

namespace autograd {

namespace {
struct Factory final : AutogradMetaFactory {
  std::unique_ptr<AutogradMetaInterface> make() const override {
    return std::make_unique<AutogradMeta>();
  }
};
const Factory g_factory;
// Registered during static initialisation. This file is always linked: every Tensor autograd
// method lives here.
[[maybe_unused]] const bool g_registered = (set_autograd_meta_factory(&g_factory), true);
}  // namespace

void AutogradMeta::set_requires_grad(bool requires_grad) {
  TT_CHECK(requires_grad || grad_fn() == nullptr,
           "you can only change requires_grad flags of leaf variables. If you want to use a "
           "computed variable in a subgraph that doesn't require differentiation use "
           "var_no_grad = var.detach().");
  requires_grad_ = requires_grad;
}

const std::shared_ptr<Node>& AutogradMeta::grad_fn() const {
  if (!is_view_ || created_in_no_grad_) return grad_fn_;
  const uint32_t current = base_.storage().history_version();
  if (attr_version_ != current) {
    // The base (or another view of it) was written in place by a recorded op: this view's
    // history must now start from the base's new one. Replay the view ops on the base.
    attr_version_ = current;
    AutoGradMode enable(true);
    const Tensor regenerated = view_fn_(base_);
    const AutogradMeta* meta = get_autograd_meta(regenerated);
    grad_fn_ = meta != nullptr ? meta->grad_fn_ : nullptr;
    output_nr_ = meta != nullptr ? meta->output_nr_ : 0;
  }
  return grad_fn_;
}

AutogradMeta* get_autograd_meta(const Tensor& t) {
  return static_cast<AutogradMeta*>(t.impl().autograd_meta());
}

AutogradMeta& materialize_autograd_meta(const Tensor& t) {
  TensorImpl* impl = t.unsafeGetTensorImpl();
  TT_CHECK(impl != nullptr, "autograd: the tensor is undefined");
  if (impl->autograd_meta() == nullptr) impl->set_autograd_meta(g_factory.make());
  return *static_cast<AutogradMeta*>(impl->autograd_meta());
}

// NOTE: given, not written by the learner: every op on a tensor that requires grad calls this
// while it records, so modules 03 and 04 (which come before this one) need it to run forward.
Edge gradient_edge(const Tensor& t) {
  AutogradMeta* meta = get_autograd_meta(t);
  if (meta == nullptr) return {};
  if (const std::shared_ptr<Node>& fn = meta->grad_fn()) return {fn, meta->output_nr_};
  if (!meta->requires_grad_) return {};
  // A leaf: every use shares one AccumulateGrad, created on first use and owned by the graphs.
  std::shared_ptr<Node> acc = meta->grad_accumulator_.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t);
    meta->grad_accumulator_ = acc;
  }
  return {acc, 0};
}

// ── SavedVariable ─────────────────────────────────────────────────────────────────────────────

namespace {

// The source of the autocast cast `t` is, or is a view of (rule 4); undefined for any other
// tensor. NOTE: the cast is autocast's own — held by its cache and handed only to the op being
// dispatched, which does not write its inputs — so its bits are the source's cast until freed.
Tensor recast_source(const Tensor& t) {
  const AutogradMeta* meta = get_autograd_meta(t);
  if (meta == nullptr) return {};
  // The cast itself, or the base of the view t is (a view's base is never a view).
  const Tensor& cast = meta->is_view_ ? meta->base_ : t;
  const AutogradMeta* cast_meta = get_autograd_meta(cast);
  if (cast_meta == nullptr || !cast_meta->recast_source_.defined()) return {};
  if (t.dtype() != cast.dtype()) return {};  // a view of the bits as another dtype
  return cast_meta->recast_source_;
}

}  // namespace

SavedVariable::SavedVariable(const Tensor& tensor, bool is_output)
    : saved_version_(tensor.defined() ? tensor._version() : 0), was_defined_(tensor.defined()) {
  if (!tensor.defined()) return;
  if (!is_output) {
    if (const Tensor source = recast_source(tensor); source.defined()) {
      // A recast copy (rule 4): the source's data as it is now (an alias: a later set_data on
      // the source does not change what is kept) and its version; the copy is dropped.
      data_ = source.detach();
      saved_version_ = source._version();
      const AutogradMeta* meta = get_autograd_meta(tensor);
      recast_ = Recast{tensor.dtype(),          tensor.sizes().vec(), tensor.strides().vec(),
                       tensor.storage_offset(), meta->grad_fn(),      meta->output_nr_};
      return;
    }
    data_ = tensor;  // an input, history and all (rule 1)
    return;
  }
  // NOTE: an output must already point at its node, or unpack() could not give it back its
  // history and a gradient of the gradient would silently treat it as a constant.
  const AutogradMeta* meta = get_autograd_meta(tensor);
  TT_CHECK(meta != nullptr && meta->grad_fn_ != nullptr,
           "SavedVariable: an output must be saved after its grad_fn is set");
  data_ = tensor.detach();
  grad_fn_ = meta->grad_fn_;
  output_nr_ = meta->output_nr_;
  is_output_ = true;
}

Tensor SavedVariable::unpack(const char* node_name) const {
  // BEGIN SOLUTION
  if (!was_defined_) return {};
  TT_CHECK(data_.defined(),
           "Trying to backward through the graph a second time (or directly "
           "access saved tensors after they have already been freed) in ",
           node_name,
           ". Saved intermediate values of the graph are freed when you call .backward(). "
           "Specify retain_graph=true if you need to backward through the graph a second time.");
  TT_CHECK(data_._version() == saved_version_,
           "one of the variables needed for gradient computation has been modified by an "
           "inplace operation: [",
           data_.toString(), "], which is output 0 of ", node_name, ", is at version ",
           data_._version(), "; expected version ", saved_version_, " instead.");
  return with_grad_fn();
  // END SOLUTION
}

Tensor SavedVariable::with_grad_fn() const {
  if (recast_) {
    // The copy again, laid out as saved: the cast of the source (made as the forward made it,
    // recording nothing), the saved view's geometry on it, then the saved tensor's grad_fn —
    // only with grad mode on (create_graph), where the formula's ops record.
    Tensor copy;
    {
      AutoGradMode no_grad(false);
      copy = data_.to(recast_->dtype)
                 .as_strided(recast_->sizes, recast_->strides, recast_->storage_offset)
                 .detach();
    }
    if (GradMode::is_enabled() && recast_->grad_fn != nullptr) {
      AutogradMeta& meta = materialize_autograd_meta(copy);
      meta.grad_fn_ = recast_->grad_fn;
      meta.output_nr_ = recast_->output_nr;
    }
    return copy;
  }
  // Grad mode off (every backward pass without create_graph): nothing will record, so the
  // detached data serves, and no alias is made.
  if (!is_output_ || !GradMode::is_enabled()) return data_;
  Tensor alias = data_.detach();
  AutogradMeta& meta = materialize_autograd_meta(alias);
  meta.grad_fn_ = grad_fn_.lock();  // alive: it is the node unpacking this variable
  meta.output_nr_ = output_nr_;
  return alias;
}

void SavedVariable::reset() {
  data_ = Tensor();
  recast_.reset();  // the cast's node, too: what backward frees, it frees
}

}  // namespace autograd

// ── the autograd methods of Tensor ───────────────────────────────────────────────────────────

using autograd::get_autograd_meta;

const Tensor& Tensor::grad() const {
  static const Tensor undefined;
  const autograd::AutogradMeta* meta = get_autograd_meta(*this);
  return meta != nullptr ? meta->grad_ : undefined;
}

Tensor& Tensor::mutable_grad() const {
  return autograd::materialize_autograd_meta(*this).grad_;
}

bool Tensor::is_leaf() const {
  const autograd::AutogradMeta* meta = get_autograd_meta(*this);
  return meta == nullptr || meta->grad_fn() == nullptr;
}

const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<autograd::Node> none;
  const autograd::AutogradMeta* meta = get_autograd_meta(*this);
  return meta != nullptr ? meta->grad_fn() : none;
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph,
                      bool create_graph) const {
  autograd::backward(
      {*this}, gradient.defined() ? autograd::variable_list{gradient} : autograd::variable_list{},
      retain_graph, create_graph);
}

// NOTE: a non-leaf's hooks go to the grad_fn it has now, which shares the list; an in-place
// write later gives the tensor a new history and a new list (rebase_history): hooks registered
// before it see the gradient of the old values, as in PyTorch.
unsigned Tensor::_register_hook(std::function<Tensor(const Tensor&)> hook) const {
  TT_CHECK(requires_grad(), "cannot register a hook on a tensor that doesn't require gradient");
  autograd::AutogradMeta& meta = autograd::materialize_autograd_meta(*this);
  if (meta.hooks_ == nullptr) {
    meta.hooks_ = std::make_shared<autograd::TensorHookList>();
    if (const std::shared_ptr<autograd::Node>& fn = meta.grad_fn()) {
      fn->add_tensor_pre_hook(meta.hooks_, meta.output_nr_);
    }
  }
  meta.hooks_->push_back(std::move(hook));
  return static_cast<unsigned>(meta.hooks_->size() - 1);
}

void Tensor::remove_hook(unsigned pos) const {
  autograd::AutogradMeta* meta = get_autograd_meta(*this);
  TT_CHECK(meta != nullptr && meta->hooks_ != nullptr && pos < meta->hooks_->size(),
           "Invalid index, no hook at position ", pos);
  (*meta->hooks_)[pos] = nullptr;  // the slot stays: later handles keep their positions
}

Tensor Tensor::detach() const {
  // Same storage, sizes, strides and offset — a new TensorImpl with an empty autograd slot.
  const TensorImpl& i = impl();
  auto out = std::make_shared<TensorImpl>(i.storage(), i.dtype(), i.sizes().vec(),
                                          i.strides().vec(), i.storage_offset());
  out->set_quantizer(i.quantizer());  // a quantized tensor stays quantized (module 15)
  return Tensor(std::move(out));
}

Tensor& Tensor::detach_() const {
  if (autograd::AutogradMeta* meta = get_autograd_meta(*this)) {
    TT_CHECK(!meta->is_view_,
             "detach_(): can't detach a view in place; use detach() instead (it returns a new "
             "tensor)");
    meta->grad_fn_.reset();
    meta->requires_grad_ = false;
  }
  return mutable_self();
}

void Tensor::set_data(const Tensor& new_data) const {
  TT_CHECK(defined() && new_data.defined(), "set_data: both tensors must be defined");
  TT_CHECK(!requires_grad() || tinytorch::is_floating_point(new_data.dtype()),
           "set_data: this tensor requires grad, so its data must be floating point, got ",
           tinytorch::to_string(new_data.dtype()));
  autograd::AutogradMeta* meta = get_autograd_meta(*this);
  TT_CHECK(meta == nullptr || !meta->is_view_,
           "set_data: can't give a view new data (its base would not see it); use it on the base");
  // NOTE: the gradient accumulator (a leaf's AccumulateGrad node) was made for the old dtype
  // and shape; a graph recorded from now on must make a new one, as libtorch's set_data does.
  if (meta != nullptr && (new_data.dtype() != dtype() || new_data.sizes() != sizes())) {
    meta->grad_accumulator_.reset();
  }
  if (new_data.is_same(*this)) return;
  unsafeGetTensorImpl()->shallow_copy_from(*new_data.unsafeGetTensorImpl());
}

void Tensor::retain_grad() const {
  TT_CHECK(requires_grad(), "can't retain_grad on Tensor that has requires_grad=False");
  if (is_leaf()) return;  // leaves keep their gradient anyway
  autograd::AutogradMeta& meta = autograd::materialize_autograd_meta(*this);
  if (meta.retains_grad_) return;
  meta.retains_grad_ = true;
  meta.grad_fn()->add_retained_tensor(*this, meta.output_nr_);
}

bool Tensor::retains_grad() const {
  const autograd::AutogradMeta* meta = get_autograd_meta(*this);
  return meta != nullptr && meta->retains_grad_;
}

}  // namespace tinytorch
