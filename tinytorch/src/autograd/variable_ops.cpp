// The public, differentiable layer over the native functions (PyTorch's generated VariableType).
//
//   Tensor Tensor::exp() const
//     1. no input requires grad, or grad mode is off  →  just native::exp(*this)
//     2. otherwise: run native::exp with grad mode off (its inner ops record nothing), then
//        attach ExpBackward0 to the output: an edge to each input's gradient node, the saved
//        tensors the formula needs (here the output), and the formula (derivatives.cpp).
//
// Modules 01–04 wrote only the natives; this file is why they never had to change when
// autograd arrived — the "one Tensor class gains capabilities" rule of DESIGN.md.
#include <array>
#include <functional>
#include <limits>
#include <optional>

#include "../native/opmath.h"
#include "tinytorch/amp/autocast.h"
#include "tinytorch/autograd/autograd_meta.h"
#include "tinytorch/autograd/derivatives.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/autograd/op_observer.h"
#include "tinytorch/autograd/saved_variable.h"
#include "tinytorch/core/join.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/native/attention.h"
#include "tinytorch/native/batch_norm.h"
#include "tinytorch/native/conv.h"
#include "tinytorch/native/embedding.h"
#include "tinytorch/native/indexing.h"
#include "tinytorch/native/join.h"
#include "tinytorch/native/linear.h"
#include "tinytorch/native/loss.h"
#include "tinytorch/native/normalization.h"
#include "tinytorch/native/padding.h"
#include "tinytorch/native/pooling.h"
#include "tinytorch/native/tensor_ops.h"
#include "tinytorch/nn/functional/attention.h"
#include "tinytorch/nn/functional/distillation.h"
#include "tinytorch/nn/functional/padding.h"
#include "tinytorch/nn/functional/upsampling.h"
#include "tinytorch/profiler/profiler.h"
#include "tinytorch/quantization/quantize.h"

namespace tinytorch {

using autograd::AutogradMeta;
using autograd::Edge;
using autograd::GradMask;
using autograd::Node;
using autograd::variable_list;

namespace {

// ── recording machinery ─────────────────────────────────────────────────────────────────────

using Formula =
    std::function<variable_list(const Tensor& grad, const variable_list& saved, const Node&)>;
// The formula of an op with several outputs: one gradient per output (undefined where none
// flowed back).
using MultiFormula = std::function<variable_list(const variable_list& grads,
                                                 const variable_list& saved, const Node&)>;

// A backward node whose formula is a callable over saved tensors.
class FunctionNode final : public Node {
 public:
  FunctionNode(const char* name, MultiFormula formula, std::vector<autograd::SavedVariable> saved,
               size_t num_outputs)
      : name_(name), formula_(std::move(formula)), saved_(std::move(saved)) {
    set_num_outputs(num_outputs);
  }
  std::string name() const override { return name_; }
  variable_list apply(variable_list&& grads) override {
    variable_list unpacked;
    unpacked.reserve(saved_.size());
    for (const autograd::SavedVariable& s : saved_) unpacked.push_back(s.unpack(name_));
    return formula_(grads, unpacked, *this);
  }
  void release_variables() override {
    for (autograd::SavedVariable& s : saved_) s.reset();
  }
  // For an op that saves its own output: the node is made first, attached to the output, and
  // only then given what it saves (a saved output reads its node from the output).
  void set_saved(std::vector<autograd::SavedVariable> saved) { saved_ = std::move(saved); }
  std::vector<const autograd::SavedVariable*> saved_variables() const override {
    std::vector<const autograd::SavedVariable*> out;
    for (const autograd::SavedVariable& s : saved_) out.push_back(&s);
    return out;
  }

 private:
  const char* name_;
  MultiFormula formula_;
  std::vector<autograd::SavedVariable> saved_;
};

GradMask needs2(const Node& n) {
  return {n.needs_input_grad(0), n.needs_input_grad(1)};
}

// One op's recording: decides whether to record, runs the native with grad mode off, attaches
// the node to the output.
class Recorder {
 public:
  // NOTE: profile_ is the profiler's event for this op ("aten::add"): open from here to the
  // Recorder's destruction at the end of the public op; one relaxed load when none is running.
  Recorder(const char* name, std::initializer_list<const Tensor*> inputs)
      : name_(name), profile_(name, inputs) {
    if (!GradMode::is_enabled()) return;
    for (const Tensor* t : inputs) active_ = active_ || (t->defined() && t->requires_grad());
    if (!active_) return;
    for (const Tensor* t : inputs) inputs_.push_back(*t);
  }
  // An op with a list of inputs (cat). Its profiler event has no input shapes.
  Recorder(const char* name, TensorList inputs) : name_(name), profile_(name, {}) {
    if (!GradMode::is_enabled()) return;
    for (const Tensor& t : inputs) active_ = active_ || (t.defined() && t.requires_grad());
    if (active_) inputs_ = inputs.vec();
  }
  explicit operator bool() const { return active_; }
  // Tells the profiler the op's output shape (conv2d's FLOPs depend on it).
  void profile_output(const Tensor& out) { profile_.set_output(out); }

  template <typename F>
  auto run(F&& forward) {
    AutoGradMode no_grad(false);
    return forward();
  }

  // Builds the node: one edge and the shape/dtype per input, and the saved tensors. One of the
  // op's inputs is saved with its history; anything else detached, for it could be an output
  // the node is about to be attached to (a cycle). An op that saves its own output uses finish().
  std::shared_ptr<Node> make_node(std::initializer_list<Tensor> saved, Formula formula) const {
    return make_node(saved, single_output(std::move(formula)), 1);
  }
  std::shared_ptr<Node> make_node(std::initializer_list<Tensor> saved, MultiFormula formula,
                                  size_t num_outputs) const {
    std::vector<autograd::SavedVariable> saved_vars;
    for (const Tensor& t : saved) {
      bool is_input = false;
      for (const Tensor& in : inputs_) is_input = is_input || t.is_same(in);
      saved_vars.emplace_back(is_input || !t.defined() ? t : t.detach(), /*is_output=*/false);
    }
    return make_function_node(std::move(saved_vars), std::move(formula), num_outputs);
  }

  // Attaches the node to a fresh output. A native that returned one of its inputs (to() with the
  // same dtype, contiguous() of a contiguous tensor) gets a new alias, so the input's own
  // history is never overwritten; so does one that returned a view of an internal buffer (its
  // view metadata would describe that buffer). Only floating-point results are differentiable
  // (PyTorch): x.to(kInt64), x.sum(kInt64) or x.gt(0) start no history.
  Tensor finish(Tensor out, std::initializer_list<Tensor> saved, Formula formula) const {
    if (!out.is_floating_point()) return out;
    bool is_input = false;
    for (const Tensor& t : inputs_) is_input = is_input || out.is_same(t);
    const Tensor produced = out;  // what the native returned
    if (is_input || autograd::get_autograd_meta(out) != nullptr) out = out.detach();
    std::shared_ptr<FunctionNode> node =
        make_function_node({}, single_output(std::move(formula)), 1);
    autograd::materialize_autograd_meta(out).grad_fn_ = node;
    // The node is attached before anything is saved: a saved output (exp's, softmax's) keeps only
    // a weak link to it, read from the output (saved_variable.h: no cycle).
    std::vector<autograd::SavedVariable> saved_vars;
    for (const Tensor& t : saved) {
      const bool is_output = !is_input && t.is_same(produced);
      saved_vars.emplace_back(is_output ? out : t, is_output);
    }
    node->set_saved(std::move(saved_vars));
    if (auto* observer = autograd::detail::op_observer()) observer->forward_op(name_, inputs_, out);
    return out;
  }

 private:
  static MultiFormula single_output(Formula formula) {
    return [f = std::move(formula)](const variable_list& grads, const variable_list& saved_values,
                                    const Node& node) { return f(grads[0], saved_values, node); };
  }

  std::shared_ptr<FunctionNode> make_function_node(std::vector<autograd::SavedVariable> saved,
                                                   MultiFormula formula, size_t num_outputs) const {
    std::vector<Edge> edges;
    std::vector<autograd::InputMetadata> meta;
    for (const Tensor& t : inputs_) {
      edges.push_back(t.defined() ? autograd::gradient_edge(t) : Edge{});
      meta.push_back(t.defined() ? autograd::InputMetadata{t.sizes().vec(), t.dtype()}
                                 : autograd::InputMetadata{});
    }
    auto node =
        std::make_shared<FunctionNode>(name_, std::move(formula), std::move(saved), num_outputs);
    node->set_next_edges(std::move(edges), std::move(meta));
    return node;
  }

  const char* name_;
  profiler::detail::OpScope profile_;
  bool active_ = false;
  std::vector<Tensor> inputs_;
};

// ── views ─────────────────────────────────────────────────────────────────────────────────────
// A view op returns a tensor that shares its input's storage. Besides the backward node (when
// the input requires grad), a view of a floating-point tensor records what a later in-place
// write through it needs: its root base and how to make it again from the base (view_fn). A
// view of a view composes the two replays, so base_ is always a tensor that is not a view.
using NativeView = std::function<Tensor(const Tensor&)>;

Tensor view_op(const Tensor& self, const char* name, const NativeView& forward,
               const Formula& formula);

void set_view_meta(const Tensor& self, Tensor& out, const char* name, const NativeView& forward,
                   const Formula& formula) {
  AutogradMeta& meta = autograd::materialize_autograd_meta(out);
  const AutogradMeta* parent = autograd::get_autograd_meta(self);
  meta.is_view_ = true;
  meta.base_ = parent != nullptr && parent->is_view_ ? parent->base_ : self;
  if (!GradMode::is_enabled() || (parent != nullptr && parent->created_in_no_grad_)) {
    meta.created_in_no_grad_ = true;  // no view_fn: writes with grad mode on are refused
    return;
  }
  autograd::ViewFn replay = [name, forward, formula](const Tensor& base) {
    return view_op(base, name, forward, formula);
  };
  if (parent != nullptr && parent->is_view_) {
    meta.view_fn_ = [outer = parent->view_fn_, inner = std::move(replay)](const Tensor& base) {
      return inner(outer(base));
    };
  } else {
    meta.view_fn_ = std::move(replay);
  }
  meta.attr_version_ = meta.base_.storage().history_version();
}

// Every view op: the native view, recorded when the input requires grad, then its view meta.
// (reshape is a view only when it did not have to copy.)
Tensor view_op(const Tensor& self, const char* name, const NativeView& forward,
               const Formula& formula) {
  Recorder r(name, {&self});
  Tensor out = r ? r.run([&] { return forward(self); }) : forward(self);
  if (r) out = r.finish(out, {}, formula);
  if (!self.is_floating_point() || !out.is_alias_of(self)) return out;
  if (out.is_same(self)) out = out.detach();  // never give the input a view meta of itself
  set_view_meta(self, out, name, forward, formula);
  return out;
}

}  // namespace

// ── in-place ops ──────────────────────────────────────────────────────────────────────────────
// PyTorch's rules: a leaf that requires grad (or a view of one) may not be modified in place
// while grad mode is on (its .grad would no longer describe the value used); a write through a
// view rewrites the base's history (CopySlices, in rebase_history below); a view made with grad
// mode off may not be written with grad mode on.
// (check_inplace and rebase_history are declared in autograd_meta.h: a custom Function whose
// forward marks an input dirty goes through them too.)

namespace autograd {

void check_inplace(const Tensor& self, std::string_view op) {
  // BEGIN SOLUTION
  const AutogradMeta* meta = autograd::get_autograd_meta(self);
  TT_CHECK(!(self.is_leaf() && self.requires_grad()), op,
           ": a leaf Variable that requires grad is being used in an in-place operation. (Wrap "
           "the update in a tinytorch::NoGradGuard, as optimizers do.)");
  if (meta == nullptr || !meta->is_view_) return;
  TT_CHECK(!meta->created_in_no_grad_, op,
           ": a view was created in no_grad mode and is being modified inplace with grad mode "
           "enabled. Take the view and do the in-place operation both inside the NoGradGuard "
           "(not recorded) or both outside it (recorded).");
  TT_CHECK(!(meta->base_.is_leaf() && meta->base_.requires_grad()), op,
           ": a view of a leaf Variable that requires grad is being used in an in-place "
           "operation. (Wrap the update in a tinytorch::NoGradGuard, as optimizers do.)");
  // END SOLUTION
}

// Gives `self` a new history: output `output_nr` of `node` (whose inputs were collected before
// the write). Written through a view, it is the base whose history changes — to
// CopySlices(node) — and the view's grad_fn is regenerated from the base's on next use (the
// history version says it is stale).
void rebase_history(Tensor& self, std::shared_ptr<Node> node, uint32_t output_nr) {
  AutogradMeta& meta = materialize_autograd_meta(self);
  if (meta.is_view_) {
    Tensor base = meta.base_;
    rebase_history(base, std::make_shared<CopySlices>(base, meta.view_fn_, std::move(node)));
    return;
  }
  if (meta.retains_grad_) {  // retain_grad() follows the tensor to its new history
    if (meta.grad_fn_) meta.grad_fn_->remove_retained_tensor(self);
    node->add_retained_tensor(self, output_nr);
  }
  meta.grad_fn_ = std::move(node);
  meta.output_nr_ = output_nr;
  meta.hooks_.reset();  // the old history's hooks stay on it; new ones go to the new grad_fn
  self.storage().bump_history_version();
}

}  // namespace autograd

namespace {

using autograd::check_inplace;
using autograd::rebase_history;

// Whether an in-place op records: grad mode on, something requires grad — self, the other
// operand, or the base of a view made with grad mode off (check_inplace then refuses it) — and
// self can hold a gradient at all (an integer tensor written with values that require grad
// cannot).
bool records_inplace(const Tensor& self, const Tensor* other) {
  if (!GradMode::is_enabled() || !self.is_floating_point()) return false;
  const AutogradMeta* meta = autograd::get_autograd_meta(self);
  const bool no_grad_view_of_grad =
      meta != nullptr && meta->created_in_no_grad_ && meta->base_.requires_grad();
  return self.requires_grad() || no_grad_view_of_grad ||
         (other != nullptr && other->requires_grad());
}

}  // namespace

namespace autograd {

// The one path of every in-place op, self ← f(self[, other]):
//  * recorded: f runs out of place on a CLONE of self — a formula that saves its input (log,
//    abs, mul, ...) must keep the old values, which the write overwrites — then copy_ writes the
//    result and makes CopyBackwards self's history (CopySlices the base's, through a view);
//  * not recorded: `write` runs the native in-place kernel, or, for ops that have none, the
//    out-of-place result is copied in.
Tensor& inplace(Tensor& self, std::string_view op, const Tensor* other,
                const std::function<Tensor(const Tensor&)>& out_of_place,
                const std::function<void()>& write) {
  const bool record = records_inplace(self, other);
  if (!record && write) {
    write();
    self.storage().bump_version();
    return self;
  }
  if (record) check_inplace(self, op);
  const Tensor result = out_of_place(record ? self.clone() : self);
  TT_CHECK_TYPE(self.is_floating_point() || !result.is_floating_point(), op, ": result type ",
                result.dtype(), " can't be cast to the desired output type ", self.dtype());
  return self.copy_(result);
}

}  // namespace autograd

using autograd::inplace;

namespace {
// The in-place ops whose formula needs none of self's old values — add_ and sub_ (the gradient
// passes through), relu_ (its formula reads the result) — skip inplace()'s clone, as PyTorch
// does. Recorded, the node's edges are taken from self's OLD history before the write, the
// native writes into self, and rebase_history makes the node self's grad_fn (the base's
// CopySlices, through a view):
//
//   y = x * 2;  y.relu_()      y.grad_fn = ReluBackward0 ─► MulBackward0 (x * 2)
//                              saved: y after the write (its version checked at backward)
//
// so y.grad_fn() is ReluBackward0, as in PyTorch, and the write costs no copy of y. The saved
// result is kept detached: relu's formula needs its values, never its graph (its derivative in
// the result is zero), so a second-order backward loses nothing.
template <typename Write>
Tensor& inplace_no_clone(Tensor& self, const char* node_name, std::string_view op,
                         const Tensor* other, bool saves_result, Formula formula,
                         const Write& write) {
  if (!records_inplace(self, other)) {
    write();
    self.storage().bump_version();
    return self;
  }
  check_inplace(self, op);
  std::optional<Recorder> r;
  if (other != nullptr) {
    r.emplace(node_name, std::initializer_list<const Tensor*>{&self, other});
  } else {
    r.emplace(node_name, std::initializer_list<const Tensor*>{&self});
  }
  r->run(write);
  self.storage().bump_version();
  std::shared_ptr<Node> node = saves_result ? r->make_node({self.detach()}, std::move(formula))
                                            : r->make_node({}, std::move(formula));
  rebase_history(self, std::move(node));
  return self;
}
}  // namespace

// ══ views ═════════════════════════════════════════════════════════════════════════════════════

Tensor Tensor::as_strided(IntArrayRef sizes, IntArrayRef strides,
                          std::optional<int64_t> storage_offset) const {
  // NOTE: the replay keeps the absolute storage offset, so CopySlices lays its gradient buffer
  // out exactly like the base.
  const int64_t offset = storage_offset.value_or(this->storage_offset());
  return view_op(
      *this, "AsStridedBackward0",
      [sz = sizes.vec(), st = strides.vec(), offset](const Tensor& t) {
        return native::as_strided(t, sz, st, offset);
      },
      [in_sizes = this->sizes().vec(), in_strides = this->strides().vec(),
       in_offset = this->storage_offset(), sz = sizes.vec(), st = strides.vec(),
       offset](const Tensor& g, const variable_list&, const Node&) {
        // (The formula's loops record nothing: with grad mode on, its recorded twin.)
        return variable_list{GradMode::is_enabled()
                                 ? autograd::as_strided_backward_recorded(g, in_sizes, in_strides,
                                                                          in_offset, sz, st, offset)
                                 : autograd::as_strided_backward(g, in_sizes, in_strides, in_offset,
                                                                 sz, st, offset)};
      });
}

namespace {
// The formula of every view that only changes the shape (view, reshape, squeeze, flatten).
Formula reshape_formula(IntArrayRef self_sizes) {
  return [in = self_sizes.vec()](const Tensor& g, const variable_list&, const Node&) {
    return variable_list{autograd::reshape_backward(g, in)};
  };
}
}  // namespace

Tensor Tensor::view(IntArrayRef shape) const {
  return view_op(
      *this, "ViewBackward0", [s = shape.vec()](const Tensor& t) { return native::view(t, s); },
      reshape_formula(sizes()));
}

Tensor Tensor::reshape(IntArrayRef shape) const {
  return view_op(
      *this, "ReshapeAliasBackward0",
      [s = shape.vec()](const Tensor& t) { return native::reshape(t, s); },
      reshape_formula(sizes()));
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  return view_op(
      *this, "TransposeBackward0",
      [dim0, dim1](const Tensor& t) { return native::transpose(t, dim0, dim1); },
      [dim0, dim1](const Tensor& g, const variable_list&, const Node&) {
        return variable_list{autograd::transpose_backward(g, dim0, dim1)};
      });
}

Tensor Tensor::permute(IntArrayRef dims) const {
  return view_op(
      *this, "PermuteBackward0",
      [d = dims.vec()](const Tensor& t) { return native::permute(t, d); },
      [d = dims.vec()](const Tensor& g, const variable_list&, const Node&) {
        return variable_list{autograd::permute_backward(g, d)};
      });
}

Tensor Tensor::squeeze() const {
  return view_op(
      *this, "SqueezeBackward0", [](const Tensor& t) { return native::squeeze(t); },
      reshape_formula(sizes()));
}

Tensor Tensor::squeeze(int64_t dim) const {
  return view_op(
      *this, "SqueezeBackward1", [dim](const Tensor& t) { return native::squeeze(t, dim); },
      reshape_formula(sizes()));
}

Tensor Tensor::unsqueeze(int64_t dim) const {
  return view_op(
      *this, "UnsqueezeBackward0", [dim](const Tensor& t) { return native::unsqueeze(t, dim); },
      [dim](const Tensor& g, const variable_list&, const Node&) {
        return variable_list{autograd::unsqueeze_backward(g, dim)};
      });
}

Tensor Tensor::expand(IntArrayRef sizes) const {
  return view_op(
      *this, "ExpandBackward0", [s = sizes.vec()](const Tensor& t) { return native::expand(t, s); },
      [in = this->sizes().vec()](const Tensor& g, const variable_list&, const Node&) {
        return variable_list{autograd::expand_backward(g, in)};
      });
}

namespace {
NativeView select_forward(int64_t dim, int64_t index) {
  return [dim, index](const Tensor& t) { return native::select(t, dim, index); };
}
Formula select_formula(IntArrayRef self_sizes, int64_t dim, int64_t index) {
  return [in = self_sizes.vec(), dim, index](const Tensor& g, const variable_list&, const Node&) {
    return variable_list{autograd::select_backward(g, in, dim, index)};
  };
}
}  // namespace

Tensor Tensor::select(int64_t dim, int64_t index) const {
  return view_op(*this, "SelectBackward0", select_forward(dim, index),
                 select_formula(sizes(), dim, index));
}

// The multi-output views: unbind (n = size(dim) views, out[i] = select(dim, i)) and split
// (out[i] = narrow(dim, offset_i, size_i)), each with ONE backward node with n outputs. Output i
// records output_nr_ = i, so its gradient lands in slot i of the node's input buffer, and the
// node writes all n slots into one buffer:
//
//   select × 3, summed by the engine          unbind
//   zeros(qkv) ← g_q   zeros(qkv) ← g_k        empty(qkv) ← [g_q | g_k | g_v]
//   zeros(qkv) ← g_v   + + (two full adds)     one allocation, each element written once
//
// Each output is still a view of self whose replay is its own select or narrow: written in
// place, its history is regenerated as a SelectBackward0 / SliceBackward0 on the base's new
// history (PyTorch refuses in-place writes to the outputs of multi-output views instead).
namespace {
// The input's gradient from the gradients of all the outputs.
using ViewsBackward = std::function<Tensor(const variable_list& grads)>;

// Connects `outs`, computed from self by `forward` under the recorder, to one node `name`.
// view_of(i) gives output i's replay and its own formula for set_view_meta, named view_name.
std::vector<Tensor> multi_output_view(
    const Tensor& self, const char* name, const std::function<std::vector<Tensor>()>& forward,
    ViewsBackward backward, const char* view_name,
    const std::function<std::pair<NativeView, Formula>(int64_t)>& view_of) {
  Recorder r(name, {&self});
  std::vector<Tensor> outs = r ? r.run(forward) : forward();
  std::shared_ptr<Node> node;
  if (r && self.is_floating_point()) {
    node = r.make_node(
        {},
        [backward = std::move(backward)](const variable_list& grads, const variable_list&,
                                         const Node&) { return variable_list{backward(grads)}; },
        outs.size());
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    if (node) {
      AutogradMeta& meta = autograd::materialize_autograd_meta(outs[i]);
      meta.grad_fn_ = node;
      meta.output_nr_ = static_cast<uint32_t>(i);
    }
    if (self.is_floating_point()) {
      auto [replay, formula] = view_of(static_cast<int64_t>(i));
      set_view_meta(self, outs[i], view_name, std::move(replay), std::move(formula));
    }
  }
  return outs;
}

NativeView slice_forward(int64_t dim, int64_t start, int64_t end) {
  return [dim, start, end](const Tensor& t) { return native::slice(t, dim, start, end, 1); };
}
Formula slice_formula(IntArrayRef self_sizes, int64_t dim, int64_t start, int64_t end) {
  return
      [in = self_sizes.vec(), dim, start, end](const Tensor& g, const variable_list&, const Node&) {
        return variable_list{autograd::slice_backward(g, in, dim, start, end, 1)};
      };
}
}  // namespace

std::vector<Tensor> Tensor::unbind(int64_t dim) const {
  const int64_t d = wrap_dim(dim, this->dim(), "unbind");
  return multi_output_view(
      *this, "UnbindBackward0", [&] { return native::unbind(*this, d); },
      [in = sizes().vec(), in_strides = strides().vec(), d](const variable_list& grads) {
        return autograd::unbind_backward(grads, in, in_strides, d);
      },
      "SelectBackward0",
      [&](int64_t i) {
        return std::pair{select_forward(d, i), select_formula(sizes(), d, i)};
      });
}

namespace {
// The node is SplitBackward0 for split(split_size) and chunk, SplitWithSizesBackward0 for
// split_with_sizes (PyTorch's names; the computation is the same).
std::vector<Tensor> split_views(const Tensor& self, IntArrayRef split_sizes, int64_t dim,
                                const char* name) {
  TT_CHECK_VALUE(self.dim() > 0, "split_with_sizes expects at least a 1-dimensional tensor");
  const int64_t d = wrap_dim(dim, self.dim(), "split_with_sizes");
  std::vector<int64_t> offsets(split_sizes.size() + 1, 0);
  for (size_t i = 0; i < split_sizes.size(); ++i) offsets[i + 1] = offsets[i] + split_sizes[i];
  return multi_output_view(
      self, name, [&] { return native::split_with_sizes(self, split_sizes, d); },
      [in = self.sizes().vec(), in_strides = self.strides().vec(), d,
       pieces = split_sizes.vec()](const variable_list& grads) {
        return autograd::split_with_sizes_backward(grads, in, in_strides, d, pieces);
      },
      "SliceBackward0",
      [&](int64_t i) {
        const int64_t begin = offsets[static_cast<size_t>(i)];
        const int64_t end = offsets[static_cast<size_t>(i) + 1];
        return std::pair{slice_forward(d, begin, end), slice_formula(self.sizes(), d, begin, end)};
      });
}
}  // namespace

// cat: one node for all the inputs; its backward gives input i the slice of the gradient it
// filled, as a view. (Recorded as a copy_ per input into the output — a CopySlices each — every
// one of those nodes copied the whole output's gradient: T steps stacked by an RNN, O(T²).)
Tensor cat(TensorList tensors, int64_t dim) {
  TT_AUTOCAST(cat, tensors.vec(), dim);  // autocast casts a std::vector of tensors
  Recorder r("CatBackward0", tensors);
  if (!r) return native::cat(tensors, dim);
  Tensor out = r.run([&] { return native::cat(tensors, dim); });
  const int64_t d = wrap_dim(dim, out.dim(), "cat");
  std::vector<int64_t> sizes;
  for (const Tensor& t : tensors) sizes.push_back(t.size(d));
  return r.finish(out, {}, [d, sizes](const Tensor& g, const variable_list&, const Node& n) {
    variable_list grads(sizes.size());
    int64_t offset = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (n.needs_input_grad(i)) grads[i] = g.narrow(d, offset, sizes[i]);
      offset += sizes[i];
    }
    return grads;
  });
}

std::vector<Tensor> Tensor::split_with_sizes(IntArrayRef split_sizes, int64_t dim) const {
  return split_views(*this, split_sizes, dim, "SplitWithSizesBackward0");
}

std::vector<Tensor> Tensor::split(IntArrayRef split_sizes, int64_t dim) const {
  return split_with_sizes(split_sizes, dim);
}

// PyTorch's rule: ceil(size / split_size) pieces, the last one holding what remains; a size-0
// dim gives one empty piece (split_size 0 is allowed only then).
std::vector<Tensor> Tensor::split(int64_t split_size, int64_t dim) const {
  TT_CHECK_VALUE(this->dim() > 0, "split expects at least a 1-dimensional tensor");
  TT_CHECK_VALUE(split_size >= 0,
                 "split expects split_size be non-negative, but got split_size=", split_size);
  const int64_t d = wrap_dim(dim, this->dim(), "split");
  const int64_t size = sizes()[d];
  TT_CHECK_VALUE(split_size > 0 || size == 0,
                 "split_size can only be 0 if dimension size is 0, but got dimension size of ",
                 size);
  std::vector<int64_t> pieces;
  if (size == 0) {
    pieces.push_back(0);
  } else {
    for (int64_t offset = 0; offset < size; offset += split_size) {
      pieces.push_back(std::min(split_size, size - offset));
    }
  }
  return split_views(*this, pieces, d, "SplitBackward0");
}

// chunk(n): pieces of ceil(size / n), so fewer than n when they run out (6 → chunk(4): 2, 2, 2);
// a size-0 dim gives n empty pieces, as PyTorch.
std::vector<Tensor> Tensor::chunk(int64_t chunks, int64_t dim) const {
  TT_CHECK_VALUE(this->dim() > 0, "chunk expects at least a 1-dimensional tensor");
  TT_CHECK_VALUE(chunks > 0, "chunk expects `chunks` to be greater than 0, got: ", chunks);
  const int64_t d = wrap_dim(dim, this->dim(), "chunk");
  const int64_t size = sizes()[d];
  if (size == 0) {
    return split_views(*this, std::vector<int64_t>(static_cast<size_t>(chunks), 0), d,
                       "SplitBackward0");
  }
  return split((size + chunks - 1) / chunks, d);
}

Tensor Tensor::slice(int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end,
                     int64_t step) const {
  return view_op(
      *this, "SliceBackward0",
      [dim, start, end, step](const Tensor& t) { return native::slice(t, dim, start, end, step); },
      [in = sizes().vec(), dim, start, end, step](const Tensor& g, const variable_list&,
                                                  const Node&) {
        return variable_list{autograd::slice_backward(g, in, dim, start, end, step)};
      });
}

// ══ element-wise ══════════════════════════════════════════════════════════════════════════════

Tensor Tensor::add(const Tensor& other, const Scalar& alpha) const {
  Recorder r("AddBackward0", {this, &other});
  if (!r) return native::add(*this, other, alpha);
  return r.finish(r.run([&] { return native::add(*this, other, alpha); }), {},
                  [alpha](const Tensor& g, const variable_list&, const Node& n) {
                    return autograd::add_backward(g, alpha, needs2(n));
                  });
}

Tensor Tensor::sub(const Tensor& other, const Scalar& alpha) const {
  Recorder r("SubBackward0", {this, &other});
  if (!r) return native::sub(*this, other, alpha);
  return r.finish(r.run([&] { return native::sub(*this, other, alpha); }), {},
                  [alpha](const Tensor& g, const variable_list&, const Node& n) {
                    return autograd::sub_backward(g, alpha, needs2(n));
                  });
}

Tensor Tensor::mul(const Tensor& other) const {
  Recorder r("MulBackward0", {this, &other});
  if (!r) return native::mul(*this, other);
  return r.finish(r.run([&] { return native::mul(*this, other); }), {*this, other},
                  [](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::mul_backward(g, s[0], s[1], needs2(n));
                  });
}

Tensor Tensor::div(const Tensor& other) const {
  Recorder r("DivBackward0", {this, &other});
  if (!r) return native::div(*this, other);
  return r.finish(r.run([&] { return native::div(*this, other); }), {*this, other},
                  [](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::div_backward(g, s[0], s[1], needs2(n));
                  });
}

Tensor Tensor::pow(const Tensor& exponent) const {
  Recorder r("PowBackward1", {this, &exponent});
  if (!r) return native::pow(*this, exponent);
  Tensor out = r.run([&] { return native::pow(*this, exponent); });
  return r.finish(out, {*this, exponent, out},
                  [](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::pow_backward(g, s[0], s[1], s[2], needs2(n));
                  });
}

// The one-input element-wise ops differ only in their native, their formula, and whether the
// formula needs the input or the output.
namespace {
enum class Save { kInput, kOutput };
template <typename Forward>
Tensor unary(const Tensor& self, const char* name, const Forward& forward,
             Tensor (*formula)(const Tensor&, const Tensor&), Save save) {
  Recorder r(name, {&self});
  if (!r) return forward(self);
  Tensor out = r.run([&] { return forward(self); });
  return r.finish(out, {save == Save::kInput ? self : out},
                  [formula](const Tensor& g, const variable_list& s, const Node&) {
                    return variable_list{formula(g, s[0])};
                  });
}
}  // namespace

Tensor Tensor::neg() const {
  Recorder r("NegBackward0", {this});
  if (!r) return native::neg(*this);
  return r.finish(r.run([&] { return native::neg(*this); }), {},
                  [](const Tensor& g, const variable_list&, const Node&) {
                    return variable_list{autograd::neg_backward(g)};
                  });
}
Tensor Tensor::exp() const {
  return unary(*this, "ExpBackward0", native::exp, autograd::exp_backward, Save::kOutput);
}
Tensor Tensor::log() const {
  return unary(*this, "LogBackward0", native::log, autograd::log_backward, Save::kInput);
}
Tensor Tensor::sqrt() const {
  return unary(*this, "SqrtBackward0", native::sqrt, autograd::sqrt_backward, Save::kOutput);
}
Tensor Tensor::sin() const {
  return unary(*this, "SinBackward0", native::sin, autograd::sin_backward, Save::kInput);
}
Tensor Tensor::cos() const {
  return unary(*this, "CosBackward0", native::cos, autograd::cos_backward, Save::kInput);
}
Tensor Tensor::log1p() const {
  return unary(*this, "Log1PBackward0", native::log1p, autograd::log1p_backward, Save::kInput);
}
Tensor Tensor::abs() const {
  return unary(*this, "AbsBackward0", native::abs, autograd::abs_backward, Save::kInput);
}
Tensor Tensor::relu() const {
  return unary(*this, "ReluBackward0", native::relu, autograd::relu_backward, Save::kOutput);
}
Tensor Tensor::sigmoid() const {
  return unary(*this, "SigmoidBackward0", native::sigmoid, autograd::sigmoid_backward,
               Save::kOutput);
}
Tensor Tensor::tanh() const {
  return unary(*this, "TanhBackward0", native::tanh, autograd::tanh_backward, Save::kOutput);
}
Tensor silu(const Tensor& a) {
  return unary(a, "SiluBackward0", native::silu, autograd::silu_backward, Save::kInput);
}

// ── libtorch's further element-wise ops (NOTE: given) ──────────────────────────────────────────
// The one-input ones are rows of one table: native::unary_math's kernel, the node, the formula.
namespace {
struct UnaryMathRow {
  const char* node;
  Tensor (*formula)(const Tensor& grad, const Tensor& saved);
  Save save;
};
using native::UnaryMath;
constexpr std::array<UnaryMathRow, static_cast<size_t>(UnaryMath::kCount)> kUnaryMath = {{
    {"FloorBackward0", autograd::zero_backward, Save::kInput},
    {"CeilBackward0", autograd::zero_backward, Save::kInput},
    {"RoundBackward0", autograd::zero_backward, Save::kInput},
    {"TruncBackward0", autograd::zero_backward, Save::kInput},
    {"SignBackward0", autograd::zero_backward, Save::kInput},
    {"FracBackward0", autograd::frac_backward, Save::kInput},
    {"ReciprocalBackward0", autograd::reciprocal_backward, Save::kOutput},
    {"RsqrtBackward0", autograd::rsqrt_backward, Save::kOutput},
    {"ErfBackward0", autograd::erf_backward, Save::kInput},
    {"Expm1Backward0", autograd::expm1_backward, Save::kOutput},
    {"Log2Backward0", autograd::log2_backward, Save::kInput},
    {"Log10Backward0", autograd::log10_backward, Save::kInput},
    {"TanBackward0", autograd::tan_backward, Save::kOutput},
    {"AsinBackward0", autograd::asin_backward, Save::kInput},
    {"AcosBackward0", autograd::acos_backward, Save::kInput},
    {"AtanBackward0", autograd::atan_backward, Save::kInput},
    {"SinhBackward0", autograd::sinh_backward, Save::kInput},
    {"CoshBackward0", autograd::cosh_backward, Save::kInput},
}};

Tensor recorded_unary_math(const Tensor& self, UnaryMath op) {
  const UnaryMathRow& row = kUnaryMath.at(static_cast<size_t>(op));
  return unary(
      self, row.node, [op](const Tensor& t) { return native::unary_math(t, op); }, row.formula,
      row.save);
}
}  // namespace

#define TT_UNARY_MATH(name, op)                                                                   \
  Tensor Tensor::name() const {                                                                   \
    return recorded_unary_math(*this, UnaryMath::op);                                             \
  }                                                                                               \
  Tensor& Tensor::name##_() const {                                                               \
    return inplace(mutable_self(), #name "_", nullptr, [](const Tensor& t) { return t.name(); }); \
  }
TT_UNARY_MATH(floor, kFloor)
TT_UNARY_MATH(ceil, kCeil)
TT_UNARY_MATH(round, kRound)
TT_UNARY_MATH(trunc, kTrunc)
TT_UNARY_MATH(sign, kSign)
TT_UNARY_MATH(frac, kFrac)
TT_UNARY_MATH(reciprocal, kReciprocal)
TT_UNARY_MATH(rsqrt, kRsqrt)
TT_UNARY_MATH(erf, kErf)
TT_UNARY_MATH(expm1, kExpm1)
TT_UNARY_MATH(log2, kLog2)
TT_UNARY_MATH(log10, kLog10)
TT_UNARY_MATH(tan, kTan)
TT_UNARY_MATH(asin, kAsin)
TT_UNARY_MATH(acos, kAcos)
TT_UNARY_MATH(atan, kAtan)
TT_UNARY_MATH(sinh, kSinh)
TT_UNARY_MATH(cosh, kCosh)
#undef TT_UNARY_MATH

// pow(self, 2), as PyTorch's square; a bool tensor squares as int64 (pow refuses bools).
Tensor Tensor::square() const {
  return dtype() == kBool ? to(kInt64).pow(2) : pow(2);
}
Tensor& Tensor::square_() const {
  return pow_(2);
}

namespace {
Tensor mod(const Tensor& self, const Tensor& other, bool python) {
  Recorder r(python ? "RemainderBackward1" : "FmodBackward1", {&self, &other});
  const auto forward = [&] {
    return python ? native::remainder(self, other) : native::fmod(self, other);
  };
  if (!r) return forward();
  return r.finish(r.run(forward), {self, other},
                  [python](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::fmod_backward(g, s[0], s[1], python, needs2(n));
                  });
}
}  // namespace

Tensor Tensor::fmod(const Tensor& other) const {
  return mod(*this, other, false);
}
Tensor Tensor::fmod(const Scalar& other) const {
  return fmod(full({}, other, result_type(*this, other)));
}
Tensor Tensor::remainder(const Tensor& other) const {
  return mod(*this, other, true);
}
Tensor Tensor::remainder(const Scalar& other) const {
  return remainder(full({}, other, result_type(*this, other)));
}

Tensor Tensor::atan2(const Tensor& other) const {
  Recorder r("Atan2Backward0", {this, &other});
  if (!r) return native::atan2(*this, other);
  return r.finish(r.run([&] { return native::atan2(*this, other); }), {*this, other},
                  [](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::atan2_backward(g, s[0], s[1], needs2(n));
                  });
}

// lerp, addcmul and addcdiv are compositions of recorded ops: their gradients (and second
// derivatives) are those of add, sub and mul.
namespace {
void check_lerp(const Tensor& self, const Tensor& t, const char* arg) {
  TT_CHECK_TYPE(self.is_floating_point(), "lerp: expected a floating tensor (self), but got dtype ",
                self.dtype());
  TT_CHECK_TYPE(t.dtype() == self.dtype(), "lerp: expected dtype ", self.dtype(), " for `", arg,
                "` but got dtype ", t.dtype());
}
void check_addc_value(const char* op, const Tensor& self, const Tensor& t1, const Tensor& t2,
                      const Scalar& value) {
  const bool floating =
      self.is_floating_point() || t1.is_floating_point() || t2.is_floating_point();
  TT_CHECK_TYPE(floating || !value.is_floating_point(), op,
                ": for integral input tensors, argument value must not be a floating point number");
}
}  // namespace

Tensor Tensor::lerp(const Tensor& end, const Scalar& weight) const {
  check_lerp(*this, end, "end");
  return add(end.sub(*this).mul(weight));
}
Tensor Tensor::lerp(const Tensor& end, const Tensor& weight) const {
  check_lerp(*this, end, "end");
  check_lerp(*this, weight, "weight");
  return add(end.sub(*this).mul(weight));
}
Tensor Tensor::addcmul(const Tensor& tensor1, const Tensor& tensor2, const Scalar& value) const {
  check_addc_value("addcmul", *this, tensor1, tensor2, value);
  return add(tensor1.mul(value).mul(tensor2));
}
Tensor Tensor::addcdiv(const Tensor& tensor1, const Tensor& tensor2, const Scalar& value) const {
  TT_CHECK_TYPE(tensor1.is_floating_point() || tensor2.is_floating_point(),
                "addcdiv: integer division of tensor1 by tensor2 is not supported (both are ",
                tensor1.dtype(), " / ", tensor2.dtype(), "); convert one to a floating dtype");
  check_addc_value("addcdiv", *this, tensor1, tensor2, value);
  return add(tensor1.mul(value).div(tensor2));
}

Tensor Tensor::isnan() const {
  return native::float_test(*this, native::FloatTest::kIsNan);
}
Tensor Tensor::isinf() const {
  return native::float_test(*this, native::FloatTest::kIsInf);
}
Tensor Tensor::isfinite() const {
  return native::float_test(*this, native::FloatTest::kIsFinite);
}
Tensor Tensor::nan_to_num(std::optional<double> nan, std::optional<double> posinf,
                          std::optional<double> neginf) const {
  Recorder r("NanToNumBackward0", {this});
  if (!r) return native::nan_to_num(*this, nan, posinf, neginf);
  return r.finish(r.run([&] { return native::nan_to_num(*this, nan, posinf, neginf); }), {*this},
                  [](const Tensor& g, const variable_list& s, const Node&) {
                    return variable_list{autograd::nan_to_num_backward(g, s[0])};
                  });
}
Tensor Tensor::logical_not() const {
  return native::logical_not(*this);
}
Tensor Tensor::logical_and(const Tensor& other) const {
  return native::logical(*this, other, native::Logical::kAnd);
}
Tensor Tensor::logical_or(const Tensor& other) const {
  return native::logical(*this, other, native::Logical::kOr);
}
Tensor Tensor::logical_xor(const Tensor& other) const {
  return native::logical(*this, other, native::Logical::kXor);
}

Tensor Tensor::clamp(std::optional<Scalar> min, std::optional<Scalar> max) const {
  Recorder r("ClampBackward1", {this});
  if (!r) return native::clamp(*this, min, max);
  return r.finish(r.run([&] { return native::clamp(*this, min, max); }), {*this},
                  [min, max](const Tensor& g, const variable_list& s, const Node&) {
                    return variable_list{autograd::clamp_backward(g, s[0], min, max)};
                  });
}

Tensor Tensor::maximum(const Tensor& other) const {
  Recorder r("MaximumBackward0", {this, &other});
  if (!r) return native::maximum(*this, other);
  return r.finish(r.run([&] { return native::maximum(*this, other); }), {*this, other},
                  [](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::extremum_backward(g, s[0], s[1], true, needs2(n));
                  });
}

Tensor Tensor::minimum(const Tensor& other) const {
  Recorder r("MinimumBackward0", {this, &other});
  if (!r) return native::minimum(*this, other);
  return r.finish(r.run([&] { return native::minimum(*this, other); }), {*this, other},
                  [](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::extremum_backward(g, s[0], s[1], false, needs2(n));
                  });
}

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  Recorder r("WhereBackward0", {&a, &b});
  if (!r) return native::where(condition, a, b);
  return r.finish(r.run([&] { return native::where(condition, a, b); }), {condition},
                  [](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::where_backward(g, s[0], needs2(n));
                  });
}

Tensor Tensor::to(Device device, bool non_blocking, bool copy) const {
  return to(device, dtype(), non_blocking, copy);
}

Tensor Tensor::to(Device device, ScalarType dtype, bool non_blocking, bool copy) const {
  check_device_available("Tensor::to", device);
  return to(dtype, non_blocking, copy);
}

Tensor Tensor::cuda() const {
  check_device_available("Tensor::cuda", Device(kCUDA));
  return *this;  // not reached
}

Tensor Tensor::to(ScalarType dtype, bool /*non_blocking*/, bool copy) const {
  if (dtype == this->dtype() && !copy) return *this;
  Recorder r("ToCopyBackward0", {this});
  if (!r) return native::to(*this, dtype, copy);
  // The engine casts the gradient back to the input's dtype; the formula passes it through.
  return r.finish(
      r.run([&] { return native::to(*this, dtype, copy); }), {},
      [](const Tensor& g, const variable_list&, const Node&) { return variable_list{g}; });
}

Tensor Tensor::clone() const {
  Recorder r("CloneBackward0", {this});
  if (!r) return native::clone(*this);
  return r.finish(
      r.run([&] { return native::clone(*this); }), {},
      [](const Tensor& g, const variable_list&, const Node&) { return variable_list{g}; });
}

// ══ in-place ══════════════════════════════════════════════════════════════════════════════════
// add_, sub_ and relu_ write in place even when recorded (inplace_no_clone above). Every other
// one takes the path of inplace(): recorded, out of place on a clone of self and written back by
// copy_ (below), which rebases the history; otherwise the native in place.

Tensor& Tensor::add_(const Tensor& other, const Scalar& alpha) const {
  return inplace_no_clone(
      mutable_self(), "AddBackward0", "add_", &other, /*saves_result=*/false,
      [alpha](const Tensor& g, const variable_list&, const Node& n) {
        return autograd::add_backward(g, alpha, needs2(n));
      },
      [&] { native::add_(mutable_self(), other, alpha); });
}
Tensor& Tensor::sub_(const Tensor& other, const Scalar& alpha) const {
  return inplace_no_clone(
      mutable_self(), "SubBackward0", "sub_", &other, /*saves_result=*/false,
      [alpha](const Tensor& g, const variable_list&, const Node& n) {
        return autograd::sub_backward(g, alpha, needs2(n));
      },
      [&] { native::sub_(mutable_self(), other, alpha); });
}
Tensor& Tensor::mul_(const Tensor& other) const {
  return inplace(
      mutable_self(), "mul_", &other, [&](const Tensor& t) { return t.mul(other); },
      [&] { native::mul_(mutable_self(), other); });
}
Tensor& Tensor::div_(const Tensor& other) const {
  return inplace(
      mutable_self(), "div_", &other, [&](const Tensor& t) { return t.div(other); },
      [&] { native::div_(mutable_self(), other); });
}
Tensor& Tensor::pow_(const Scalar& exponent) const {
  return inplace(
      mutable_self(), "pow_", nullptr, [&](const Tensor& t) { return t.pow(exponent); },
      [&] { native::pow_(mutable_self(), exponent); });
}
// The unary ones but relu_ have no in-place kernel: their result is computed, then copied in.
Tensor& Tensor::neg_() const {
  return inplace(mutable_self(), "neg_", nullptr, [](const Tensor& t) { return t.neg(); });
}
Tensor& Tensor::exp_() const {
  return inplace(mutable_self(), "exp_", nullptr, [](const Tensor& t) { return t.exp(); });
}
Tensor& Tensor::log_() const {
  return inplace(mutable_self(), "log_", nullptr, [](const Tensor& t) { return t.log(); });
}
Tensor& Tensor::sqrt_() const {
  return inplace(mutable_self(), "sqrt_", nullptr, [](const Tensor& t) { return t.sqrt(); });
}
Tensor& Tensor::sin_() const {
  return inplace(mutable_self(), "sin_", nullptr, [](const Tensor& t) { return t.sin(); });
}
Tensor& Tensor::cos_() const {
  return inplace(mutable_self(), "cos_", nullptr, [](const Tensor& t) { return t.cos(); });
}
Tensor& Tensor::log1p_() const {
  return inplace(mutable_self(), "log1p_", nullptr, [](const Tensor& t) { return t.log1p(); });
}
Tensor& Tensor::abs_() const {
  return inplace(mutable_self(), "abs_", nullptr, [](const Tensor& t) { return t.abs(); });
}
Tensor& Tensor::clamp_(std::optional<Scalar> min, std::optional<Scalar> max) const {
  return inplace(mutable_self(), "clamp_", nullptr,
                 [&](const Tensor& t) { return t.clamp(min, max); });
}
Tensor& Tensor::relu_() const {
  return inplace_no_clone(
      mutable_self(), "ReluBackward0", "relu_", nullptr,
      /*saves_result=*/true,
      [](const Tensor& g, const variable_list& s, const Node&) {
        return variable_list{autograd::relu_backward(g, s[0])};
      },
      [&] { native::relu_(mutable_self()); });
}
Tensor& Tensor::sigmoid_() const {
  return inplace(mutable_self(), "sigmoid_", nullptr, [](const Tensor& t) { return t.sigmoid(); });
}
Tensor& Tensor::tanh_() const {
  return inplace(mutable_self(), "tanh_", nullptr, [](const Tensor& t) { return t.tanh(); });
}
Tensor& Tensor::fmod_(const Tensor& other) const {
  return inplace(mutable_self(), "fmod_", &other, [&](const Tensor& t) { return t.fmod(other); });
}
Tensor& Tensor::fmod_(const Scalar& other) const {
  return inplace(mutable_self(), "fmod_", nullptr, [&](const Tensor& t) { return t.fmod(other); });
}
Tensor& Tensor::remainder_(const Tensor& other) const {
  return inplace(mutable_self(), "remainder_", &other,
                 [&](const Tensor& t) { return t.remainder(other); });
}
Tensor& Tensor::remainder_(const Scalar& other) const {
  return inplace(mutable_self(), "remainder_", nullptr,
                 [&](const Tensor& t) { return t.remainder(other); });
}
Tensor& Tensor::atan2_(const Tensor& other) const {
  return inplace(mutable_self(), "atan2_", &other, [&](const Tensor& t) { return t.atan2(other); });
}
Tensor& Tensor::lerp_(const Tensor& end, const Scalar& weight) const {
  return inplace(mutable_self(), "lerp_", &end,
                 [&](const Tensor& t) { return t.lerp(end, weight); });
}
Tensor& Tensor::lerp_(const Tensor& end, const Tensor& weight) const {
  return inplace(mutable_self(), "lerp_", &end,
                 [&](const Tensor& t) { return t.lerp(end, weight); });
}
Tensor& Tensor::addcmul_(const Tensor& tensor1, const Tensor& tensor2, const Scalar& value) const {
  return inplace(mutable_self(), "addcmul_", &tensor1,
                 [&](const Tensor& t) { return t.addcmul(tensor1, tensor2, value); });
}
Tensor& Tensor::addcdiv_(const Tensor& tensor1, const Tensor& tensor2, const Scalar& value) const {
  return inplace(mutable_self(), "addcdiv_", &tensor1,
                 [&](const Tensor& t) { return t.addcdiv(tensor1, tensor2, value); });
}
Tensor& Tensor::nan_to_num_(std::optional<double> nan, std::optional<double> posinf,
                            std::optional<double> neginf) const {
  return inplace(mutable_self(), "nan_to_num_", nullptr,
                 [&](const Tensor& t) { return t.nan_to_num(nan, posinf, neginf); });
}
Tensor& Tensor::masked_fill_(const Tensor& mask, const Scalar& value) const {
  return inplace(mutable_self(), "masked_fill_", nullptr,
                 [&](const Tensor& t) { return t.masked_fill(mask, value); });
}
// index_fill_ is index_put_ with the index at dim (whole dims before it) and a 0-d value.
Tensor& Tensor::index_fill_(int64_t dim, const Tensor& index, const Scalar& value) const {
  TT_CHECK_TYPE(index.dtype() == kInt64, "index_fill_: expected dtype int64 for index, but got ",
                index.dtype());
  TT_CHECK_VALUE(index.dim() <= 1, "index_fill_: index must be a 0-d or 1-d tensor, but got a ",
                 index.dim(), "-d one");
  const int64_t d = wrap_dim(dim, this->dim(), "index_fill_");
  std::vector<std::optional<Tensor>> indices(static_cast<size_t>(d));
  indices.emplace_back(index.reshape({-1}));
  return index_put_(indices, full({}, value, dtype()));
}
Tensor Tensor::index_fill(int64_t dim, const Tensor& index, const Scalar& value) const {
  return clone().index_fill_(dim, index, value);
}

Tensor& Tensor::copy_(const Tensor& src) const {
  const bool record = records_inplace(*this, &src);
  if (!record) {
    native::copy_(mutable_self(), src);
    storage().bump_version();
    return mutable_self();
  }
  check_inplace(*this, "copy_");
  Recorder r("CopyBackwards", {this, &src});
  // Edges are taken BEFORE the write: self's old history gets no gradient (its values were
  // overwritten), src gets all of it.
  std::shared_ptr<Node> node =
      r.make_node({}, [](const Tensor& g, const variable_list&, const Node& n) {
        return variable_list{Tensor(), n.needs_input_grad(1) ? g : Tensor()};
      });
  r.run([&] { return native::copy_(mutable_self(), src); });
  storage().bump_version();
  rebase_history(mutable_self(), std::move(node));
  return mutable_self();
}

namespace {
// An in-place write whose new values do not depend on the old ones (fill_, uniform_, normal_):
// when recorded, self's new history is a node that lets no gradient past.
Tensor& overwrite(Tensor& self, const char* node_name, std::string_view op,
                  const std::function<void()>& write) {
  const bool record = records_inplace(self, nullptr);
  if (record) check_inplace(self, op);
  write();
  self.storage().bump_version();
  if (record) {
    Recorder r(node_name, {&self});
    rebase_history(self, r.make_node({}, [](const Tensor&, const variable_list&, const Node&) {
      return variable_list{Tensor()};
    }));
  }
  return self;
}
}  // namespace

Tensor& Tensor::fill_(const Scalar& value) const {
  return overwrite(mutable_self(), "FillBackward0", "fill_",
                   [&] { native::fill_(mutable_self(), value); });
}

// ══ reductions ════════════════════════════════════════════════════════════════════════════════

Tensor Tensor::sum(std::optional<ScalarType> dtype) const {
  return sum({}, false, dtype);
}

Tensor Tensor::sum(IntArrayRef dims, bool keepdim, std::optional<ScalarType> dtype) const {
  Recorder r("SumBackward1", {this});
  if (!r) return native::sum(*this, dims, keepdim, dtype);
  return r.finish(r.run([&] { return native::sum(*this, dims, keepdim, dtype); }), {},
                  [in = sizes().vec(), d = dims.vec(), keepdim](const Tensor& g,
                                                                const variable_list&, const Node&) {
                    return variable_list{autograd::sum_backward(g, in, d, keepdim)};
                  });
}

Tensor Tensor::mean(IntArrayRef dims, bool keepdim) const {
  Recorder r("MeanBackward1", {this});
  if (!r) return native::mean(*this, dims, keepdim);
  return r.finish(r.run([&] { return native::mean(*this, dims, keepdim); }), {},
                  [in = sizes().vec(), d = dims.vec(), keepdim](const Tensor& g,
                                                                const variable_list&, const Node&) {
                    return variable_list{autograd::mean_backward(g, in, d, keepdim)};
                  });
}

Tensor Tensor::var(IntArrayRef dims, bool unbiased, bool keepdim) const {
  Recorder r("VarBackward0", {this});
  if (!r) return native::var(*this, dims, unbiased, keepdim);
  return r.finish(
      r.run([&] { return native::var(*this, dims, unbiased, keepdim); }), {*this},
      [d = dims.vec(), unbiased, keepdim](const Tensor& g, const variable_list& s, const Node&) {
        return variable_list{autograd::var_backward(g, s[0], d, unbiased, keepdim)};
      });
}

namespace {
Tensor extremum_all(const Tensor& self, const char* name, Tensor (*forward)(const Tensor&)) {
  Recorder r(name, {&self});
  if (!r) return forward(self);
  Tensor out = r.run([&] { return forward(self); });
  return r.finish(out, {self, out}, [](const Tensor& g, const variable_list& s, const Node&) {
    return variable_list{autograd::extremum_all_backward(g, s[0], s[1])};
  });
}

std::tuple<Tensor, Tensor> extremum_dim(const Tensor& self, const char* name, int64_t dim,
                                        bool keepdim,
                                        std::tuple<Tensor, Tensor> (*forward)(const Tensor&,
                                                                              int64_t, bool)) {
  Recorder r(name, {&self});
  if (!r) return forward(self, dim, keepdim);
  auto [values, indices] = r.run([&] { return forward(self, dim, keepdim); });
  // Only the values are differentiable; the indices are saved to route the gradient.
  values = r.finish(
      values, {indices},
      [in = self.sizes().vec(), dim, keepdim](const Tensor& g, const variable_list& s,
                                              const Node&) {
        // (The formula's loop records nothing: with grad mode on, its recorded twin. A
        // float16/bfloat16 gradient takes the same scatter in float32, rounded once.)
        if (GradMode::is_enabled()) {
          return variable_list{autograd::value_selecting_backward_recorded(g, dim, s[0], in)};
        }
        const auto scatter = [&](const Tensor& grad) {
          return autograd::value_selecting_backward(grad, dim, s[0], in, keepdim);
        };
        return variable_list{native::opmath::is_reduced(g)
                                 ? native::opmath::compute(g.dtype(), scatter, g)
                                 : scatter(g)};
      });
  return {values, indices};
}
}  // namespace

Tensor Tensor::max() const {
  return extremum_all(*this, "MaxBackward1", native::max);
}
Tensor Tensor::min() const {
  return extremum_all(*this, "MinBackward1", native::min);
}
std::tuple<Tensor, Tensor> Tensor::max(int64_t dim, bool keepdim) const {
  return extremum_dim(*this, "MaxBackward0", dim, keepdim, native::max);
}
std::tuple<Tensor, Tensor> Tensor::min(int64_t dim, bool keepdim) const {
  return extremum_dim(*this, "MinBackward0", dim, keepdim, native::min);
}

// ══ linear algebra ════════════════════════════════════════════════════════════════════════════

Tensor matmul(const Tensor& a, const Tensor& b) {
  TT_AUTOCAST(matmul, a, b);
  Recorder r("MmBackward0", {&a, &b});
  if (!r) return native::matmul(a, b);
  return r.finish(r.run([&] { return native::matmul(a, b); }), {a, b},
                  [](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::matmul_backward(g, s[0], s[1], needs2(n));
                  });
}
Tensor Tensor::matmul(const Tensor& other) const {
  return tinytorch::matmul(*this, other);
}

Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  TT_AUTOCAST(linear, input, weight, bias);
  Recorder r("AddmmBackward0", {&input, &weight, &bias});
  if (!r) return native::linear(input, weight, bias);
  return r.finish(r.run([&] { return native::linear(input, weight, bias); }), {input, weight},
                  [](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::linear_backward(
                        g, s[0], s[1],
                        {n.needs_input_grad(0), n.needs_input_grad(1), n.needs_input_grad(2)});
                  });
}

// ══ activations (module 02) ═══════════════════════════════════════════════════════════════════

Tensor relu(const Tensor& a) {
  return a.relu();
}
Tensor sigmoid(const Tensor& a) {
  return a.sigmoid();
}
Tensor tanh(const Tensor& a) {
  return a.tanh();
}

Tensor leaky_relu(const Tensor& a, double negative_slope) {
  Recorder r("LeakyReluBackward0", {&a});
  if (!r) return native::leaky_relu(a, negative_slope);
  return r.finish(r.run([&] { return native::leaky_relu(a, negative_slope); }), {a},
                  [negative_slope](const Tensor& g, const variable_list& s, const Node&) {
                    return variable_list{autograd::leaky_relu_backward(g, s[0], negative_slope)};
                  });
}

Tensor gelu(const Tensor& a, std::string_view approximate) {
  Recorder r("GeluBackward0", {&a});
  if (!r) return native::gelu(a, approximate);
  return r.finish(
      r.run([&] { return native::gelu(a, approximate); }), {a},
      [approx = std::string(approximate)](const Tensor& g, const variable_list& s, const Node&) {
        return variable_list{autograd::gelu_backward(g, s[0], approx)};
      });
}

Tensor Tensor::softmax(int64_t dim) const {
  Recorder r("SoftmaxBackward0", {this});
  if (!r) return native::softmax(*this, dim);
  Tensor out = r.run([&] { return native::softmax(*this, dim); });
  return r.finish(out, {out}, [dim](const Tensor& g, const variable_list& s, const Node&) {
    return variable_list{autograd::softmax_backward(g, s[0], dim)};
  });
}
Tensor Tensor::log_softmax(int64_t dim) const {
  Recorder r("LogSoftmaxBackward0", {this});
  if (!r) return native::log_softmax(*this, dim);
  Tensor out = r.run([&] { return native::log_softmax(*this, dim); });
  return r.finish(out, {out}, [dim](const Tensor& g, const variable_list& s, const Node&) {
    return variable_list{autograd::log_softmax_backward(g, s[0], dim)};
  });
}
Tensor softmax(const Tensor& a, int64_t dim) {
  return a.softmax(dim);
}
Tensor log_softmax(const Tensor& a, int64_t dim) {
  return a.log_softmax(dim);
}

// ══ losses (module 04) ════════════════════════════════════════════════════════════════════════

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  TT_AUTOCAST(mse_loss, input, target, reduction);
  Recorder r("MseLossBackward0", {&input, &target});
  if (!r) return native::mse_loss(input, target, reduction);
  return r.finish(r.run([&] { return native::mse_loss(input, target, reduction); }),
                  {input, target},
                  [reduction](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::mse_loss_backward(g, s[0], s[1], reduction, needs2(n));
                  });
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  TT_AUTOCAST(l1_loss, input, target, reduction);
  Recorder r("L1LossBackward0", {&input, &target});
  if (!r) return native::l1_loss(input, target, reduction);
  return r.finish(r.run([&] { return native::l1_loss(input, target, reduction); }), {input, target},
                  [reduction](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::l1_loss_backward(g, s[0], s[1], reduction, needs2(n));
                  });
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction, double beta) {
  TT_AUTOCAST(smooth_l1_loss, input, target, reduction, beta);
  Recorder r("SmoothL1LossBackward0", {&input, &target});
  if (!r) return native::smooth_l1_loss(input, target, reduction, beta);
  return r.finish(
      r.run([&] { return native::smooth_l1_loss(input, target, reduction, beta); }),
      {input, target}, [reduction, beta](const Tensor& g, const variable_list& s, const Node& n) {
        return autograd::smooth_l1_loss_backward(g, s[0], s[1], reduction, beta, needs2(n));
      });
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, double delta) {
  TT_AUTOCAST(huber_loss, input, target, reduction, delta);
  Recorder r("HuberLossBackward0", {&input, &target});
  if (!r) return native::huber_loss(input, target, reduction, delta);
  return r.finish(
      r.run([&] { return native::huber_loss(input, target, reduction, delta); }), {input, target},
      [reduction, delta](const Tensor& g, const variable_list& s, const Node& n) {
        return autograd::huber_loss_backward(g, s[0], s[1], reduction, delta, needs2(n));
      });
}

// A loss with per-sample (or per-element) weights, composed from differentiable ops: the
// unweighted losses per element, times the weights (constants: no gradient flows to them), then
// the reduction. Mean divides by `mean_divisor` (Σ of the weights for nll, the count for BCE).
namespace {
Tensor reduce_weighted(const Tensor& weighted, Reduction reduction, const Tensor& mean_divisor) {
  switch (reduction) {
    case Reduction::None:
      return weighted;
    case Reduction::Sum:
      return weighted.sum();
    case Reduction::Mean:
      break;
  }
  return weighted.sum() / mean_divisor;
}

// BCE's weight (or pos_weight, `name`) broadcasts to the input's shape (PyTorch: it must not
// make the result larger).
Tensor broadcast_bce_weight(std::string_view op, const Tensor& input, const Tensor& weight,
                            std::string_view name = "weight") {
  TT_CHECK_TYPE(weight.dtype() == input.dtype(), op, ": expected ", name, " of dtype ",
                input.dtype(), " (the input's) but got ", weight.dtype());
  const std::vector<int64_t> shape = broadcast_shapes(input.sizes(), weight.sizes());
  TT_CHECK_VALUE(IntArrayRef(shape) == input.sizes(), op, ": ", name, " of shape ", weight.sizes(),
                 " must broadcast to the input's shape ", input.sizes());
  return weight.detach();
}
}  // namespace

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight,
                Reduction reduction, int64_t ignore_index) {
  TT_AUTOCAST(nll_loss, input, target, weight, reduction, ignore_index);
  if (input.dim() > 2) {  // [N, C, d1, ...]: the rows of native::classes_last_2d
    const auto [rows, row_targets] = native::classes_last_2d("nll_loss", input, target);
    const Tensor loss = nll_loss(rows, row_targets, weight, reduction, ignore_index);
    return reduction == Reduction::None ? loss.reshape(target.sizes()) : loss;
  }
  if (weight.defined()) {
    // −w[t_i]·input[i, t_i]; Mean divides by Σ w[t_i] over the samples not ignored.
    const Tensor w =
        native::nll_loss_class_weights("nll_loss", input, target, weight, ignore_index);
    const Tensor per_sample = nll_loss(input, target, {}, Reduction::None, ignore_index) * w;
    return reduce_weighted(per_sample, reduction, w.sum());
  }
  Recorder r("NllLossBackward0", {&input});
  if (!r) return native::nll_loss(input, target, reduction, ignore_index);
  return r.finish(
      r.run([&] { return native::nll_loss(input, target, reduction, ignore_index); }),
      {input, target},
      [reduction, ignore_index](const Tensor& g, const variable_list& s, const Node&) {
        return variable_list{autograd::nll_loss_backward(g, s[0], s[1], reduction, ignore_index)};
      });
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                            Reduction reduction) {
  TT_AUTOCAST(binary_cross_entropy, input, target, weight, reduction);
  if (weight.defined()) {
    const Tensor w = broadcast_bce_weight("binary_cross_entropy", input, weight);
    const Tensor per_element = binary_cross_entropy(input, target, {}, Reduction::None) * w;
    return reduce_weighted(per_element, reduction, full({}, input.numel(), input.dtype()));
  }
  Recorder r("BinaryCrossEntropyBackward0", {&input, &target});
  if (!r) return native::binary_cross_entropy(input, target, reduction);
  return r.finish(r.run([&] { return native::binary_cross_entropy(input, target, reduction); }),
                  {input, target},
                  [reduction](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::bce_backward(g, s[0], s[1], reduction, needs2(n));
                  });
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight, const Tensor& pos_weight,
                                        Reduction reduction) {
  TT_AUTOCAST(binary_cross_entropy_with_logits, input, target, weight, pos_weight, reduction);
  constexpr std::string_view op = "binary_cross_entropy_with_logits";
  if (weight.defined() || pos_weight.defined()) {
    Tensor per_element = binary_cross_entropy_with_logits(input, target, {}, {}, Reduction::None);
    if (pos_weight.defined()) {
      // With p = pos_weight the positive term is weighed p:  −p·y·log σ(x) − (1 − y)·log(1 − σ(x))
      //   = (1 − y)·x + (1 + (p − 1)·y)·softplus(−x),  and  softplus(−x) = ℓ(x, 0) − x
      // where ℓ(x, 0) = softplus(x) is the unweighted loss at target 0: its backward is stable
      // and right at x = 0 too (a max/abs composite would give 0 there instead of −½).
      const Tensor p = broadcast_bce_weight(op, input, pos_weight, "pos_weight");
      const Tensor softplus_neg =
          binary_cross_entropy_with_logits(input, zeros_like(input), {}, {}, Reduction::None) -
          input;
      per_element = (1 - target) * input + (1 + (p - 1) * target) * softplus_neg;
    }
    if (weight.defined()) per_element = per_element * broadcast_bce_weight(op, input, weight);
    return reduce_weighted(per_element, reduction, full({}, input.numel(), input.dtype()));
  }
  Recorder r("BinaryCrossEntropyWithLogitsBackward0", {&input, &target});
  if (!r) return native::binary_cross_entropy_with_logits(input, target, reduction);
  return r.finish(
      r.run([&] { return native::binary_cross_entropy_with_logits(input, target, reduction); }),
      {input, target}, [reduction](const Tensor& g, const variable_list& s, const Node& n) {
        return autograd::bce_with_logits_backward(g, s[0], s[1], reduction, needs2(n));
      });
}

// ══ spatial (module 09) ═══════════════════════════════════════════════════════════════════════

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride,
              IntArrayRef padding, IntArrayRef dilation, int64_t groups) {
  TT_AUTOCAST(conv2d, input, weight, bias, stride, padding, dilation, groups);
  Recorder r("ConvolutionBackward0", {&input, &weight, &bias});
  if (!r) {
    Tensor out = native::conv2d(input, weight, bias, stride, padding, dilation, groups);
    r.profile_output(out);
    return out;
  }
  Tensor out = r.finish(
      r.run([&] { return native::conv2d(input, weight, bias, stride, padding, dilation, groups); }),
      {input, weight},
      [stride = stride.vec(), padding = padding.vec(), dilation = dilation.vec(), groups](
          const Tensor& g, const variable_list& s, const Node& n) {
        return autograd::conv2d_backward(
            g, s[0], s[1], stride, padding, dilation, groups,
            {n.needs_input_grad(0), n.needs_input_grad(1), n.needs_input_grad(2)});
      });
  r.profile_output(out);
  return out;
}

// PyTorch records every convolution, transposed included, as ConvolutionBackward0.
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias,
                        IntArrayRef stride, IntArrayRef padding, IntArrayRef output_padding,
                        int64_t groups, IntArrayRef dilation) {
  TT_AUTOCAST(conv_transpose2d, input, weight, bias, stride, padding, output_padding, groups,
              dilation);
  const auto forward = [&] {
    return native::conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
                                    dilation);
  };
  Recorder r("ConvolutionBackward0", {&input, &weight, &bias});
  if (!r) {
    Tensor out = forward();
    r.profile_output(out);
    return out;
  }
  Tensor out =
      r.finish(r.run(forward), {input, weight},
               [stride = stride.vec(), padding = padding.vec(), dilation = dilation.vec(), groups](
                   const Tensor& g, const variable_list& s, const Node& n) {
                 return autograd::conv_transpose2d_backward(
                     g, s[0], s[1], stride, padding, dilation, groups,
                     {n.needs_input_grad(0), n.needs_input_grad(1), n.needs_input_grad(2)});
               });
  r.profile_output(out);
  return out;
}

// ══ spatial (module 09): pooling and batch norm ═══════════════════════════════════════════════

std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, IntArrayRef kernel_size,
                                                   IntArrayRef stride, IntArrayRef padding,
                                                   IntArrayRef dilation, bool ceil_mode) {
  const auto forward = [&] {
    return native::max_pool2d_with_indices(input, kernel_size, stride, padding, dilation,
                                           ceil_mode);
  };
  Recorder r("MaxPool2DWithIndicesBackward0", {&input});
  if (!r) return forward();
  auto [values, indices] = r.run(forward);
  // Only the values are differentiable; the indices are saved to route the gradient back.
  values =
      r.finish(values, {input, indices},
               [k = kernel_size.vec(), st = stride.vec(), pad = padding.vec(), dil = dilation.vec(),
                ceil_mode](const Tensor& g, const variable_list& s, const Node&) {
                 return variable_list{autograd::max_pool2d_with_indices_backward(
                     g, s[0], k, st, pad, dil, ceil_mode, s[1])};
               });
  return {values, indices};
}

Tensor max_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride,
                  IntArrayRef padding, IntArrayRef dilation, bool ceil_mode) {
  return std::get<0>(
      max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode));
}

Tensor avg_pool2d(const Tensor& input, IntArrayRef kernel_size, IntArrayRef stride,
                  IntArrayRef padding, bool ceil_mode, bool count_include_pad,
                  std::optional<int64_t> divisor_override) {
  const auto forward = [&] {
    return native::avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                              divisor_override);
  };
  Recorder r("AvgPool2DBackward0", {&input});
  if (!r) return forward();
  return r.finish(
      r.run(forward), {input},
      [k = kernel_size.vec(), st = stride.vec(), pad = padding.vec(), ceil_mode, count_include_pad,
       divisor_override](const Tensor& g, const variable_list& s, const Node&) {
        return variable_list{autograd::avg_pool2d_backward(g, s[0], k, st, pad, ceil_mode,
                                                           count_include_pad, divisor_override)};
      });
}

Tensor adaptive_avg_pool2d(const Tensor& input, IntArrayRef output_size) {
  Recorder r("AdaptiveAvgPool2DBackward0", {&input});
  if (!r) return native::adaptive_avg_pool2d(input, output_size);
  return r.finish(r.run([&] { return native::adaptive_avg_pool2d(input, output_size); }), {input},
                  [](const Tensor& g, const variable_list& s, const Node&) {
                    return variable_list{autograd::adaptive_avg_pool2d_backward(g, s[0])};
                  });
}

Tensor batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum, double eps) {
  const auto forward = [&] {
    return native::native_batch_norm(input, weight, bias, running_mean, running_var, training,
                                     momentum, eps);
  };
  Recorder r("NativeBatchNormBackward0", {&input, &weight, &bias});
  if (!r) return std::get<0>(forward());
  auto [y, save_mean, save_invstd] = r.run(forward);
  return r.finish(y, {input, weight, save_mean, save_invstd},
                  [training, eps](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::batch_norm_backward(
                        g, s[0], s[1], s[2], s[3], training, eps,
                        {n.needs_input_grad(0), n.needs_input_grad(1), n.needs_input_grad(2)});
                  });
}

Tensor batch_norm_relu(const Tensor& input, const Tensor& weight, const Tensor& bias,
                       const Tensor& running_mean, const Tensor& running_var, bool training,
                       double momentum, double eps) {
  const auto forward = [&] {
    return native::native_batch_norm_relu(input, weight, bias, running_mean, running_var, training,
                                          momentum, eps);
  };
  Recorder r("NativeBatchNormReluBackward0", {&input, &weight, &bias});
  if (!r) return std::get<0>(forward());
  auto [y, save_mean, save_invstd] = r.run(forward);
  return r.finish(y, {input, weight, bias, save_mean, save_invstd},
                  [training, eps](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::batch_norm_relu_backward(
                        g, s[0], s[1], s[2], s[3], s[4], training, eps,
                        {n.needs_input_grad(0), n.needs_input_grad(1), n.needs_input_grad(2)});
                  });
}

// ══ normalization (module 13) ═════════════════════════════════════════════════════════════════

Tensor layer_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  const auto forward = [&] {
    return native::native_layer_norm(input, normalized_shape, weight, bias, eps);
  };
  Recorder r("NativeLayerNormBackward0", {&input, &weight, &bias});
  if (!r) return std::get<0>(forward());
  auto [y, mean, rstd] = r.run(forward);
  return r.finish(y, {input, weight, bias, mean, rstd},
                  [shape = normalized_shape.vec(), eps](const Tensor& g, const variable_list& s,
                                                        const Node& n) {
                    return autograd::layer_norm_backward(
                        g, s[0], shape, s[3], s[4], s[1], s[2], eps,
                        {n.needs_input_grad(0), n.needs_input_grad(1), n.needs_input_grad(2)});
                  });
}

Tensor rms_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight,
                std::optional<double> eps) {
  // PyTorch's default: the machine epsilon of the input's dtype (float32: 1.19e-07).
  const double e = eps ? *eps
                       : (input.dtype() == kFloat64 ? std::numeric_limits<double>::epsilon()
                                                    : std::numeric_limits<float>::epsilon());
  const auto forward = [&] { return native::native_rms_norm(input, normalized_shape, weight, e); };
  Recorder r("RmsNormBackward0", {&input, &weight});
  if (!r) return std::get<0>(forward());
  auto [y, rstd] = r.run(forward);
  return r.finish(
      y, {input, weight, rstd},
      [shape = normalized_shape.vec(), e](const Tensor& g, const variable_list& s, const Node& n) {
        return autograd::rms_norm_backward(g, s[0], shape, s[2], s[1], e, needs2(n));
      });
}

// ══ embedding (module 11) ═════════════════════════════════════════════════════════════════════

Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx) {
  Recorder r("EmbeddingBackward0", {&weight});
  if (!r) return native::embedding(weight, indices);
  Tensor out = r.run([&] { return native::embedding(weight, indices); });  // checks the shapes
  // Only the indices are saved (the weight's values play no part in its gradient).
  return r.finish(
      out, {indices},
      [num_weights = weight.size(0), padding_idx](const Tensor& g, const variable_list& s,
                                                  const Node&) {
        return variable_list{autograd::embedding_backward(g, s[0], num_weights, padding_idx)};
      });
}

// ══ attention (module 12) ═════════════════════════════════════════════════════════════════════

// The dropout mask Z of scaled_dot_product_attention: [*, L, S], 1/(1 − p) with probability 1 − p
// and 0 otherwise (all 0 for p = 1), drawn from the global generator. Undefined when nothing is
// dropped: p = 0, or shapes the op's checks will reject anyway.
// NOTE: as in PyTorch's F.scaled_dot_product_attention, dropout_p > 0 always drops — with or
// without grad mode. Grad mode says whether a graph is recorded, not whether the model is
// training: a module passes dropout_p = is_training() ? p : 0 (MultiheadAttention, the GPT's
// attention), so eval() is what turns attention dropout off.
namespace {
Tensor attention_dropout_mask(const Tensor& query, const Tensor& key, double dropout_p) {
  TT_CHECK_VALUE(dropout_p >= 0.0 && dropout_p <= 1.0,
                 "scaled_dot_product_attention: dropout_p must be in [0, 1], but got ", dropout_p);
  if (dropout_p == 0.0 || query.dim() < 2 || key.dim() < 2) return {};
  std::vector<int64_t> shape(query.sizes().begin(), query.sizes().end() - 1);
  shape.push_back(key.size(-2));
  const NoGradGuard no_grad;
  if (dropout_p == 1.0) return zeros(shape, query.dtype());
  Tensor keep = (rand(shape, query.dtype()) >= dropout_p).to(query.dtype());  // P(keep) = 1 − p
  return keep.div_(1.0 - dropout_p);
}
}  // namespace

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale) {
  TT_AUTOCAST(scaled_dot_product_attention, query, key, value, attn_mask, dropout_p, is_causal,
              scale);
  const double s = native::attention_scale(query, scale);
  const Tensor dropout_mask = attention_dropout_mask(query, key, dropout_p);
  // A bool mask never requires grad; a floating one may (a learned bias, ALiBi-style).
  Recorder r("ScaledDotProductAttentionBackward0", {&query, &key, &value, &attn_mask});
  if (!r) {
    return std::get<0>(native::scaled_dot_product_attention_forward(query, key, value, attn_mask,
                                                                    dropout_mask, is_causal, s));
  }
  // The kernels read strided rows, so q, k, v are saved as they are: a transformer's heads stay
  // views of its one projection (no copy, no extra memory until backward).
  auto [out, logsumexp] = r.run([&] {
    return native::scaled_dot_product_attention_forward(query, key, value, attn_mask, dropout_mask,
                                                        is_causal, s);
  });
  // The output itself is saved (as ExpBackward0 saves its result): the fast backward's
  // rowsum(dO ⊙ out) needs it; logsumexp rebuilds P. P itself is never kept.
  return r.finish(out, {query, key, value, attn_mask, dropout_mask, out, logsumexp},
                  [is_causal, s](const Tensor& g, const variable_list& v, const Node& n) {
                    return autograd::scaled_dot_product_attention_backward(
                        g, v[0], v[1], v[2], v[3], v[4], v[5], v[6], is_causal, s,
                        {n.needs_input_grad(0), n.needs_input_grad(1), n.needs_input_grad(2),
                         n.needs_input_grad(3)});
                  });
}

// Both fake-quant ops save only their bool mask: the backward needs nothing else.
Tensor fake_quantize_per_tensor_affine(const Tensor& x, double scale, int64_t zero_point,
                                       int64_t quant_min, int64_t quant_max) {
  Recorder r("FakeQuantizePerTensorAffineCachemaskBackward0", {&x});
  auto [out, mask] = r.run([&] {
    return native::fake_quantize_per_tensor_affine(x, scale, zero_point, quant_min, quant_max);
  });
  if (!r) return out;
  return r.finish(out, {mask}, [](const Tensor& g, const variable_list& s, const Node&) {
    return variable_list{autograd::fake_quantize_backward(g, s[0])};
  });
}

Tensor fake_quantize_per_channel_affine(const Tensor& x, const Tensor& scale,
                                        const Tensor& zero_point, int64_t axis, int64_t quant_min,
                                        int64_t quant_max) {
  Recorder r("FakeQuantizePerChannelAffineCachemaskBackward0", {&x});
  auto [out, mask] = r.run([&] {
    return native::fake_quantize_per_channel_affine(x, scale, zero_point, axis, quant_min,
                                                    quant_max);
  });
  if (!r) return out;
  return r.finish(out, {mask}, [](const Tensor& g, const variable_list& s, const Node&) {
    return variable_list{autograd::fake_quantize_backward(g, s[0])};
  });
}

Tensor Tensor::masked_fill(const Tensor& mask, const Scalar& value) const {
  Recorder r("MaskedFillBackward0", {this});
  if (!r) return native::masked_fill(*this, mask, value);
  return r.finish(r.run([&] { return native::masked_fill(*this, mask, value); }), {mask},
                  [](const Tensor& g, const variable_list& s, const Node&) {
                    return variable_list{autograd::masked_fill_backward(g, s[0])};
                  });
}

// ══ KL divergence (module 16) ══════════════════════════════════════════════════════════════════

Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target) {
  TT_AUTOCAST(kl_div, input, target, reduction, log_target);
  Recorder r("KlDivBackward0", {&input, &target});
  if (!r) return native::kl_div(input, target, reduction, log_target);
  return r.finish(
      r.run([&] { return native::kl_div(input, target, reduction, log_target); }), {input, target},
      [reduction, log_target](const Tensor& g, const variable_list& s, const Node& n) {
        return autograd::kl_div_backward(g, s[0], s[1], reduction, log_target, needs2(n));
      });
}

// ══ backward kernels as recorded ops (create_graph) ═══════════════════════════════════════════
// A formula running with grad mode on calls these instead of the native backward kernels (which
// record nothing): the same kernel, and a node whose formula is the kernel's own derivative
// (derivatives.cpp), so the gradient can be differentiated once more.

Tensor gelu_backward(const Tensor& grad_output, const Tensor& self, std::string_view approximate) {
  Recorder r("GeluBackwardBackward0", {&grad_output, &self});
  if (!r) return native::gelu_backward(grad_output, self, approximate);
  return r.finish(
      r.run([&] { return native::gelu_backward(grad_output, self, approximate); }),
      {grad_output, self},
      [approx = std::string(approximate)](const Tensor& g, const variable_list& s, const Node& n) {
        return autograd::gelu_double_backward(g, s[0], s[1], approx, needs2(n));
      });
}

Tensor embedding_dense_backward(const Tensor& grad_output, const Tensor& indices,
                                int64_t num_weights, int64_t padding_idx) {
  const auto backward = [&] {
    return native::embedding_dense_backward(grad_output, indices, num_weights, padding_idx);
  };
  Recorder r("EmbeddingDenseBackwardBackward0", {&grad_output});
  if (!r) return backward();
  return r.finish(
      r.run(backward), {indices},
      [padding_idx](const Tensor& g, const variable_list& s, const Node&) {
        return variable_list{autograd::embedding_dense_double_backward(g, s[0], padding_idx)};
      });
}

std::tuple<Tensor, Tensor, Tensor> convolution_backward(const Tensor& grad_output,
                                                        const Tensor& input, const Tensor& weight,
                                                        IntArrayRef stride, IntArrayRef padding,
                                                        IntArrayRef dilation, int64_t groups,
                                                        std::array<bool, 3> output_mask) {
  const auto backward = [&] {
    return native::conv2d_backward(grad_output, input, weight, stride, padding, dilation, groups,
                                   output_mask);
  };
  Recorder r("ConvolutionBackwardBackward0", {&grad_output, &input, &weight});
  if (!r) return backward();
  auto [grad_input, grad_weight, grad_bias] = r.run(backward);
  // One node, three outputs: each result records which one it is (as unbind's views do).
  const std::shared_ptr<Node> node = r.make_node(
      {grad_output, input, weight},
      [st = stride.vec(), pad = padding.vec(), dil = dilation.vec(), groups](
          const variable_list& grads, const variable_list& s, const Node& n) {
        return autograd::convolution_double_backward(
            grads, s[0], s[1], s[2], st, pad, dil, groups,
            {n.needs_input_grad(0), n.needs_input_grad(1), n.needs_input_grad(2)});
      },
      3);
  uint32_t output_nr = 0;
  for (Tensor* out : {&grad_input, &grad_weight, &grad_bias}) {
    if (out->defined()) {
      AutogradMeta& meta = autograd::materialize_autograd_meta(*out);
      meta.grad_fn_ = node;
      meta.output_nr_ = output_nr;
    }
    ++output_nr;
  }
  return {grad_input, grad_weight, grad_bias};
}

Tensor avg_pool2d_backward(const Tensor& grad_output, const Tensor& self, IntArrayRef kernel_size,
                           IntArrayRef stride, IntArrayRef padding, bool ceil_mode,
                           bool count_include_pad, std::optional<int64_t> divisor_override) {
  const auto backward = [&] {
    return native::avg_pool2d_backward(grad_output, self, kernel_size, stride, padding, ceil_mode,
                                       count_include_pad, divisor_override);
  };
  // Linear in grad_output, and independent of self's values: only grad_output is an input.
  Recorder r("AvgPool2DBackwardBackward0", {&grad_output});
  if (!r) return backward();
  return r.finish(
      r.run(backward), {},
      [k = kernel_size.vec(), st = stride.vec(), pad = padding.vec(), ceil_mode, count_include_pad,
       divisor_override](const Tensor& g, const variable_list&, const Node&) {
        return variable_list{autograd::avg_pool2d_double_backward(
            g, k, st, pad, ceil_mode, count_include_pad, divisor_override)};
      });
}

Tensor adaptive_avg_pool2d_backward(const Tensor& grad_output, const Tensor& self) {
  Recorder r("AdaptiveAvgPool2DBackwardBackward0", {&grad_output});
  if (!r) return native::adaptive_avg_pool2d_backward(grad_output, self);
  return r.finish(
      r.run([&] { return native::adaptive_avg_pool2d_backward(grad_output, self); }), {},
      [out_size = std::vector<int64_t>{grad_output.size(-2), grad_output.size(-1)}](
          const Tensor& g, const variable_list&, const Node&) {
        return variable_list{autograd::adaptive_avg_pool2d_double_backward(g, out_size)};
      });
}

// ══ sorting, scans, triangles, norms, random fills ═══════════════════════════════════════════════

namespace {
// sort and topk: only the values are differentiable; the indices are saved to route the gradient
// back to the positions the values came from.
std::tuple<Tensor, Tensor> selecting_op(
    const Tensor& self, const char* name, int64_t dim,
    const std::function<std::tuple<Tensor, Tensor>()>& forward) {
  Recorder r(name, {&self});
  if (!r) return forward();
  auto [values, indices] = r.run(forward);
  values = r.finish(
      values, {indices},
      [in = self.sizes().vec(), dim](const Tensor& g, const variable_list& s, const Node&) {
        return variable_list{autograd::sort_backward(g, s[0], dim, in)};
      });
  return {values, indices};
}
}  // namespace

std::tuple<Tensor, Tensor> Tensor::sort(int64_t dim, bool descending) const {
  return selecting_op(*this, "SortBackward0", dim,
                      [&] { return native::sort(*this, dim, descending); });
}
// Every sort here is stable, so `stable` (false, true or unset) changes nothing.
std::tuple<Tensor, Tensor> Tensor::sort(std::optional<bool> /*stable*/, int64_t dim,
                                        bool descending) const {
  return sort(dim, descending);
}
Tensor Tensor::argsort(int64_t dim, bool descending) const {
  return std::get<1>(native::sort(*this, dim, descending));
}
std::tuple<Tensor, Tensor> Tensor::topk(int64_t k, int64_t dim, bool largest, bool sorted) const {
  return selecting_op(*this, "TopkBackward0", dim,
                      [&] { return native::topk(*this, k, dim, largest, sorted); });
}

Tensor Tensor::cumsum(int64_t dim, std::optional<ScalarType> dtype) const {
  Recorder r("CumsumBackward0", {this});
  if (!r) return native::cumsum(*this, dim, dtype);
  return r.finish(r.run([&] { return native::cumsum(*this, dim, dtype); }), {},
                  [dim](const Tensor& g, const variable_list&, const Node&) {
                    return variable_list{autograd::cumsum_backward(g, dim)};
                  });
}

Tensor Tensor::cumprod(int64_t dim, std::optional<ScalarType> dtype) const {
  Recorder r("CumprodBackward0", {this});
  if (!r) return native::cumprod(*this, dim, dtype);
  Tensor out = r.run([&] { return native::cumprod(*this, dim, dtype); });
  return r.finish(out, {*this, out}, [dim](const Tensor& g, const variable_list& s, const Node&) {
    return variable_list{autograd::cumprod_backward(g, s[0], s[1], dim)};
  });
}

Tensor Tensor::tril(int64_t diagonal) const {
  Recorder r("TrilBackward0", {this});
  if (!r) return native::tril(*this, diagonal);
  return r.finish(r.run([&] { return native::tril(*this, diagonal); }), {},
                  [diagonal](const Tensor& g, const variable_list&, const Node&) {
                    return variable_list{autograd::tril_backward(g, diagonal)};
                  });
}
Tensor Tensor::triu(int64_t diagonal) const {
  Recorder r("TriuBackward0", {this});
  if (!r) return native::triu(*this, diagonal);
  return r.finish(r.run([&] { return native::triu(*this, diagonal); }), {},
                  [diagonal](const Tensor& g, const variable_list&, const Node&) {
                    return variable_list{autograd::triu_backward(g, diagonal)};
                  });
}
Tensor& Tensor::tril_(int64_t diagonal) const {
  return inplace(mutable_self(), "tril_", nullptr,
                 [&](const Tensor& t) { return t.tril(diagonal); });
}
Tensor& Tensor::triu_(int64_t diagonal) const {
  return inplace(mutable_self(), "triu_", nullptr,
                 [&](const Tensor& t) { return t.triu(diagonal); });
}

Tensor Tensor::norm(const Scalar& p) const {
  return norm(p, {}, false);
}
Tensor Tensor::norm(const std::optional<Scalar>& p, IntArrayRef dim, bool keepdim) const {
  const Scalar pv = p.value_or(Scalar(2));
  Recorder r("NormBackward1", {this});
  if (!r) return native::norm(*this, pv, dim, keepdim);
  Tensor out = r.run([&] { return native::norm(*this, pv, dim, keepdim); });
  return r.finish(
      out, {*this, out},
      [pv, d = dim.vec(), keepdim](const Tensor& g, const variable_list& s, const Node&) {
        return variable_list{autograd::norm_backward(g, s[0], pv, s[1], d, keepdim)};
      });
}

Tensor& Tensor::uniform_(double from, double to, Generator* generator) const {
  return overwrite(mutable_self(), "UniformBackward0", "uniform_",
                   [&] { native::uniform_(mutable_self(), from, to, generator); });
}
Tensor& Tensor::normal_(double mean, double std, Generator* generator) const {
  return overwrite(mutable_self(), "NormalBackward0", "normal_",
                   [&] { native::normal_(mutable_self(), mean, std, generator); });
}
Tensor& Tensor::bernoulli_(double p, Generator* generator) const {
  return overwrite(mutable_self(), "BernoulliBackward0", "bernoulli_",
                   [&] { native::bernoulli_(mutable_self(), p, generator); });
}
Tensor Tensor::bernoulli(Generator* generator) const {
  return native::bernoulli(*this, generator);  // 0s and 1s: no gradient flows back
}

// ══ padding and resizing (module 09) ══════════════════════════════════════════════════════════

Tensor pad(const Tensor& self, IntArrayRef pad, std::string_view mode,
           std::optional<double> value) {
  // Autocast's fp32 list (PyTorch 1.13) names reflection_pad1d/2d and replication_pad1d/2d/3d:
  // reflect over 1 or 2 dims and replicate over 1 to 3 (pad.size() / 2 of them). Constant,
  // circular and 3-d reflect padding are in no list and keep the dtype that arrives.
  if (mode == "replicate" || (mode == "reflect" && pad.size() <= 4))
    TT_AUTOCAST(pad, self, pad, mode, value);
  TT_CHECK_VALUE(mode == "constant" || !value || *value == 0.0, "pad: padding mode \"", mode,
                 "\" doesn't take in value argument (only \"constant\" fills with a value)");
  const double fill = value.value_or(0.0);
  Recorder r("PadBackward0", {&self});
  if (!r) return native::pad(self, pad, mode, fill);
  return r.finish(r.run([&] { return native::pad(self, pad, mode, fill); }), {},
                  [in = self.sizes().vec(), p = pad.vec(), m = std::string(mode)](
                      const Tensor& g, const variable_list&, const Node&) {
                    return variable_list{autograd::pad_backward(g, in, p, m)};
                  });
}

Tensor constant_pad_nd(const Tensor& self, IntArrayRef pad, const Scalar& value) {
  return tinytorch::pad(self, pad, "constant", value.to<double>());
}

Tensor upsample_nearest2d(const Tensor& self, IntArrayRef output_size,
                          std::optional<double> scales_h, std::optional<double> scales_w) {
  Recorder r("UpsampleNearest2DBackward0", {&self});
  if (!r) return native::upsample_nearest2d(self, output_size, scales_h, scales_w);
  return r.finish(
      r.run([&] { return native::upsample_nearest2d(self, output_size, scales_h, scales_w); }), {},
      [in = self.sizes().vec(), out = output_size.vec(), scales_h, scales_w](
          const Tensor& g, const variable_list&, const Node&) {
        return variable_list{autograd::upsample_nearest2d_backward(g, in, out, scales_h, scales_w)};
      });
}

Tensor upsample_bilinear2d(const Tensor& self, IntArrayRef output_size, bool align_corners,
                           std::optional<double> scales_h, std::optional<double> scales_w) {
  const auto forward = [&] {
    return native::upsample_bilinear2d(self, output_size, align_corners, scales_h, scales_w);
  };
  Recorder r("UpsampleBilinear2DBackward0", {&self});
  if (!r) return forward();
  return r.finish(r.run(forward), {},
                  [in = self.sizes().vec(), out = output_size.vec(), align_corners, scales_h,
                   scales_w](const Tensor& g, const variable_list&, const Node&) {
                    return variable_list{autograd::upsample_bilinear2d_backward(
                        g, in, out, align_corners, scales_h, scales_w)};
                  });
}

// ══ indexing (core/tensor_indexing.h; natives in src/native/indexing.cpp) ══════════════════════
// Basic indexing is made of the view ops above (src/core/tensor_indexing.cpp); what follows are
// the ops that move elements by index. Their out-of-place forms clone self and run the native
// in-place kernel on the clone; the in-place forms take inplace()'s one path.

namespace {
// The index tensors of advanced indexing, kept for the backward like any saved tensor: an index
// modified in place before backward is reported, not silently used.
class SavedIndices {
 public:
  explicit SavedIndices(const std::vector<std::optional<Tensor>>& indices) {
    for (const std::optional<Tensor>& index : indices) {
      saved_.push_back(index && index->defined()
                           ? std::optional(autograd::SavedVariable(*index, /*is_output=*/false))
                           : std::nullopt);
    }
  }
  std::vector<std::optional<Tensor>> unpack(const char* node_name) const {
    std::vector<std::optional<Tensor>> out;
    for (const auto& s : saved_) {
      out.push_back(s ? std::optional(s->unpack(node_name)) : std::nullopt);
    }
    return out;
  }

 private:
  std::vector<std::optional<autograd::SavedVariable>> saved_;
};

Formula pass_through() {
  return [](const Tensor& g, const variable_list&, const Node&) { return variable_list{g}; };
}
}  // namespace

Tensor alias(const Tensor& self) {
  return view_op(
      self, "AliasBackward0",
      [](const Tensor& t) {
        return native::as_strided(t, t.sizes(), t.strides(), t.storage_offset());
      },
      pass_through());
}

Tensor Tensor::index(const std::vector<std::optional<Tensor>>& indices) const {
  Recorder r("IndexBackward0", {this});
  if (!r) return native::index(*this, indices);
  return r.finish(
      r.run([&] { return native::index(*this, indices); }), {},
      [in = sizes().vec(), saved = SavedIndices(indices)](const Tensor& g, const variable_list&,
                                                          const Node&) {
        return variable_list{autograd::index_backward(g, in, saved.unpack("IndexBackward0"))};
      });
}

Tensor Tensor::index_put(const std::vector<std::optional<Tensor>>& indices, const Tensor& values,
                         bool accumulate) const {
  const auto forward = [&] {
    Tensor out = native::clone(*this);
    native::index_put_(out, indices, values, accumulate);
    return out;
  };
  Recorder r("IndexPutBackward0", {this, &values});
  if (!r) return forward();
  return r.finish(r.run(forward), {},
                  [saved = SavedIndices(indices), accumulate](const Tensor& g, const variable_list&,
                                                              const Node& n) {
                    return autograd::index_put_backward(g, saved.unpack("IndexPutBackward0"),
                                                        accumulate, needs2(n));
                  });
}

Tensor& Tensor::index_put_(const std::vector<std::optional<Tensor>>& indices, const Tensor& values,
                           bool accumulate) const {
  return inplace(
      mutable_self(), "index_put_", &values,
      [&](const Tensor& t) { return t.index_put(indices, values, accumulate); },
      [&] { native::index_put_(mutable_self(), indices, values, accumulate); });
}

Tensor Tensor::gather(int64_t dim, const Tensor& index, bool sparse_grad) const {
  TT_CHECK(!sparse_grad,
           "gather: sparse_grad=true asks for a sparse gradient, and TinyTorch has no sparse "
           "tensors; pass sparse_grad=false (the gradient is the same, dense)");
  Recorder r("GatherBackward0", {this});
  if (!r) return native::gather(*this, dim, index);
  return r.finish(r.run([&] { return native::gather(*this, dim, index); }), {index},
                  [in = sizes().vec(), dim](const Tensor& g, const variable_list& s, const Node&) {
                    return variable_list{autograd::gather_backward(g, in, dim, s[0])};
                  });
}

Tensor Tensor::scatter(int64_t dim, const Tensor& index, const Tensor& src) const {
  const auto forward = [&] {
    Tensor out = native::clone(*this);
    native::scatter_(out, dim, index, src);
    return out;
  };
  Recorder r("ScatterBackward0", {this, &src});
  if (!r) return forward();
  return r.finish(
      r.run(forward), {index},
      [dim, src_sizes = src.sizes().vec()](const Tensor& g, const variable_list& s, const Node& n) {
        return autograd::scatter_backward(g, dim, s[0], src_sizes, needs2(n));
      });
}

Tensor Tensor::scatter(int64_t dim, const Tensor& index, const Scalar& value) const {
  const auto forward = [&] {
    Tensor out = native::clone(*this);
    native::scatter_(out, dim, index, value);
    return out;
  };
  Recorder r("ScatterBackward1", {this});
  if (!r) return forward();
  return r.finish(
      r.run(forward), {index}, [dim](const Tensor& g, const variable_list& s, const Node&) {
        return variable_list{autograd::scatter_backward(g, dim, s[0], {}, {true, false})[0]};
      });
}

Tensor& Tensor::scatter_(int64_t dim, const Tensor& index, const Tensor& src) const {
  return inplace(
      mutable_self(), "scatter_", &src, [&](const Tensor& t) { return t.scatter(dim, index, src); },
      [&] { native::scatter_(mutable_self(), dim, index, src); });
}

Tensor& Tensor::scatter_(int64_t dim, const Tensor& index, const Scalar& value) const {
  return inplace(
      mutable_self(), "scatter_", nullptr,
      [&](const Tensor& t) { return t.scatter(dim, index, value); },
      [&] { native::scatter_(mutable_self(), dim, index, value); });
}

Tensor Tensor::scatter_add(int64_t dim, const Tensor& index, const Tensor& src) const {
  const auto forward = [&] {
    Tensor out = native::clone(*this);
    native::scatter_add_(out, dim, index, src);
    return out;
  };
  Recorder r("ScatterAddBackward0", {this, &src});
  if (!r) return forward();
  return r.finish(
      r.run(forward), {index},
      [dim, src_sizes = src.sizes().vec()](const Tensor& g, const variable_list& s, const Node& n) {
        return autograd::scatter_add_backward(g, dim, s[0], src_sizes, needs2(n));
      });
}

Tensor& Tensor::scatter_add_(int64_t dim, const Tensor& index, const Tensor& src) const {
  return inplace(
      mutable_self(), "scatter_add_", &src,
      [&](const Tensor& t) { return t.scatter_add(dim, index, src); },
      [&] { native::scatter_add_(mutable_self(), dim, index, src); });
}

Tensor Tensor::index_select(int64_t dim, const Tensor& index) const {
  Recorder r("IndexSelectBackward0", {this});
  if (!r) return native::index_select(*this, dim, index);
  return r.finish(r.run([&] { return native::index_select(*this, dim, index); }), {index},
                  [in = sizes().vec(), dim](const Tensor& g, const variable_list& s, const Node&) {
                    return variable_list{autograd::index_select_backward(g, in, dim, s[0])};
                  });
}

Tensor Tensor::index_add(int64_t dim, const Tensor& index, const Tensor& source,
                         const Scalar& alpha) const {
  const auto forward = [&] {
    Tensor out = native::clone(*this);
    native::index_add_(out, dim, index, source, alpha);
    return out;
  };
  Recorder r("IndexAddBackward0", {this, &source});
  if (!r) return forward();
  return r.finish(r.run(forward), {index},
                  [dim, alpha](const Tensor& g, const variable_list& s, const Node& n) {
                    return autograd::index_add_backward(g, dim, s[0], alpha, needs2(n));
                  });
}

Tensor& Tensor::index_add_(int64_t dim, const Tensor& index, const Tensor& source,
                           const Scalar& alpha) const {
  return inplace(
      mutable_self(), "index_add_", &source,
      [&](const Tensor& t) { return t.index_add(dim, index, source, alpha); },
      [&] { native::index_add_(mutable_self(), dim, index, source, alpha); });
}

Tensor Tensor::masked_select(const Tensor& mask) const {
  Recorder r("MaskedSelectBackward0", {this});
  if (!r) return native::masked_select(*this, mask);
  return r.finish(r.run([&] { return native::masked_select(*this, mask); }), {mask},
                  [in = sizes().vec()](const Tensor& g, const variable_list& s, const Node&) {
                    return variable_list{autograd::masked_select_backward(g, in, s[0])};
                  });
}

}  // namespace tinytorch
