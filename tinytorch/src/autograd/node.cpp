// Node bookkeeping and the leaf sink, AccumulateGrad.
#include "tinytorch/autograd/node.h"

#include <algorithm>
#include <atomic>
#include <limits>

#include "tinytorch/autograd/autograd_meta.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/autograd/op_observer.h"
#include "tinytorch/profiler/profiler.h"

namespace tinytorch::autograd {

namespace {
std::atomic<uint64_t> g_next_sequence_nr{0};

// The stand-in for a derivative nobody wrote (PyTorch's DelayedError). A node whose backward ran
// with grad mode on (create_graph) but returned a gradient with no graph — computed by a native
// kernel or by hand, while its incoming gradient had a graph — gets its results rewired through
// this node: its edges are those of the incoming gradients, and reaching it in a later backward
// pass raises. So the gradient is usable as a value, and differentiating it again is a clear
// error instead of a silent constant.
class DelayedError final : public Node {
 public:
  DelayedError(std::string message, std::vector<Edge> edges, std::vector<InputMetadata> metadata)
      : message_(std::move(message)) {
    set_next_edges(std::move(edges), std::move(metadata));
  }
  std::string name() const override { return "DelayedError"; }
  variable_list apply(variable_list&& /*grads*/) override { throw NotImplementedError(message_); }

 private:
  std::string message_;
};
}  // namespace

Node::Node() : sequence_nr_(g_next_sequence_nr.fetch_add(1)) {}

Node::~Node() {
  // NOTE: the outermost destructor drains a thread-local worklist; nested destructors (run by
  // the drain) only add the children they solely own to it. Depth stays O(1).
  thread_local bool draining = false;
  thread_local std::vector<std::shared_ptr<Node>> pending;
  for (Edge& e : next_edges_) {
    if (e.function && e.function.use_count() == 1) pending.push_back(std::move(e.function));
  }
  if (draining) return;
  draining = true;
  while (!pending.empty()) {
    std::shared_ptr<Node> next = std::move(pending.back());
    pending.pop_back();
    next.reset();
  }
  draining = false;
}

void Node::remove_retained_tensor(const Tensor& t) {
  std::erase_if(retained_,
                [&](const RetainedTensor& r) { return r.tensor.lock() == t.getIntrusivePtr(); });
}

namespace {

// apply(), inside a profiler event named after the node when a profiler records.
variable_list profiled_apply(Node& node, variable_list&& grads) {
  if (!profiler::detail::is_enabled()) return node.apply(std::move(grads));
  // The event's shapes follow torch's backward ops (convolution_backward(grad_output, input,
  // weight, ...)): the gradient of output 0, then every forward input's shape; grad_mask says
  // which inputs get a gradient (their output_mask). The FLOP count of the backward formulas
  // reads both (profiler::backward_flops).
  std::vector<std::vector<int64_t>> shapes;
  std::vector<bool> grad_mask;
  shapes.reserve(node.num_inputs() + 1);
  grad_mask.reserve(node.num_inputs());
  shapes.push_back(!grads.empty() && grads[0].defined() ? grads[0].sizes().vec()
                                                        : std::vector<int64_t>{});
  for (size_t i = 0; i < node.num_inputs(); ++i) {
    shapes.push_back(node.input_metadata(i).sizes);
    grad_mask.push_back(node.needs_input_grad(i));
  }
  const profiler::RecordFunction event(node.name(), std::move(shapes), std::move(grad_mask));
  return node.apply(std::move(grads));
}

// apply() for create_graph: a result computed without a graph from an incoming gradient that
// has one goes through a DelayedError node (see node.h).
variable_list checked_apply(Node& node, variable_list&& grads) {
  if (!GradMode::is_enabled()) return profiled_apply(node, std::move(grads));
  // create_graph: where the incoming gradients' graphs lead, taken before apply() consumes them.
  // NOTE: only for one-output nodes. There every result is a linear function of the one incoming
  // gradient, so a result without a graph while that gradient has one was computed unrecorded.
  // (A result of a multi-output node may legitimately depend only on its constant slots.)
  std::vector<Edge> edges;
  std::vector<InputMetadata> metadata;
  if (node.num_outputs() == 1 && !grads.empty() && grads[0].defined() && grads[0].requires_grad()) {
    edges.push_back(gradient_edge(grads[0]));
    metadata.push_back({grads[0].sizes().vec(), grads[0].dtype()});
  }
  variable_list outputs = profiled_apply(node, std::move(grads));
  if (edges.empty()) return outputs;
  std::shared_ptr<Node> error;
  for (Tensor& out : outputs) {
    if (!out.defined() || out.requires_grad() || !out.is_floating_point()) continue;
    if (!error) {
      error = std::make_shared<DelayedError>(
          ::tinytorch::detail::str(
              "the derivative of ", node.name(),
              "'s backward is not implemented: its gradient was computed without "
              "recording a graph, so it cannot be differentiated again"),
          edges, metadata);
    }
    out = out.detach();
    materialize_autograd_meta(out).grad_fn_ = error;
  }
  return outputs;
}

}  // namespace

variable_list Node::operator()(variable_list&& grads) {
  OpObserver* const observer = detail::op_observer();
  if (observer == nullptr) return checked_apply(*this, std::move(grads));
  observer->backward_begin(*this, grads);
  variable_list result = checked_apply(*this, std::move(grads));
  observer->backward_end(*this, result);
  return result;
}

void Node::set_next_edges(std::vector<Edge> edges, std::vector<InputMetadata> metadata) {
  TT_CHECK(edges.size() == metadata.size(), name(), ": ", edges.size(), " edges but ",
           metadata.size(), " input metadata entries");
  next_edges_ = std::move(edges);
  input_metadata_ = std::move(metadata);
}

Tensor run_tensor_hooks(const TensorHookList& hooks, Tensor grad, const std::string& what) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    if (!hooks[i]) continue;  // removed (remove_hook)
    Tensor replaced = hooks[i](grad);
    if (!replaced.defined()) continue;  // an observer, or a hook that keeps the gradient
    // NOTE: the gradient goes on to where the old one was going; another shape or dtype there
    // would be wrong silently (PyTorch's check_single_result).
    TT_CHECK(replaced.sizes() == grad.sizes(), "hook ", i, " of ", what,
             " has changed the size of value: it got a gradient of shape ", grad.sizes(),
             " and returned one of shape ", replaced.sizes());
    TT_CHECK_TYPE(replaced.dtype() == grad.dtype(), "hook ", i, " of ", what,
                  " has changed the type of value: it got a gradient of dtype ", grad.dtype(),
                  " and returned one of dtype ", replaced.dtype());
    grad = std::move(replaced);
  }
  return grad;
}

void Node::call_tensor_pre_hooks(variable_list& grads) const {
  for (const TensorPreHook& h : tensor_pre_hooks_) {
    Tensor& g = grads[h.output_nr];
    if (g.defined()) g = run_tensor_hooks(*h.hooks, std::move(g), "output of " + name());
  }
}

AccumulateGrad::AccumulateGrad(const Tensor& leaf) : leaf_(leaf.getIntrusivePtr()) {
  // A leaf's gradient is ready as soon as it arrives: run it before everything else that is
  // ready, like PyTorch (which gives AccumulateGrad the largest sequence number).
  set_sequence_nr(std::numeric_limits<uint64_t>::max());
}

Tensor AccumulateGrad::variable() const {
  std::shared_ptr<TensorImpl> impl = leaf_.lock();
  return impl ? Tensor(std::move(impl)) : Tensor();
}

void AccumulateGrad::call_tensor_pre_hooks(variable_list& grads) const {
  const Tensor leaf = variable();
  const AutogradMeta* meta = leaf.defined() ? get_autograd_meta(leaf) : nullptr;
  if (meta == nullptr || meta->hooks_ == nullptr || !grads[0].defined()) return;
  grads[0] = run_tensor_hooks(*meta->hooks_, std::move(grads[0]), "a leaf tensor");
}

variable_list AccumulateGrad::apply(variable_list&& grads) {
  // BEGIN SOLUTION
  Tensor leaf = variable();
  if (!leaf.defined() || !grads[0].defined()) return {};
  accumulate_grad(leaf.mutable_grad(), std::move(grads[0]));
  return {};
  // END SOLUTION
}

CopySlices::CopySlices(const Tensor& base, ViewFn view_fn, std::shared_ptr<Node> fn)
    : base_sizes_(base.sizes().vec()),
      base_strides_(base.strides().vec()),
      base_offset_(base.storage_offset()),
      view_fn_(std::move(view_fn)),
      fn_(std::move(fn)) {
  // Edge 0: the base's history before the write. Then fn's inputs after its first (the view).
  std::vector<Edge> edges{gradient_edge(base)};
  std::vector<InputMetadata> metadata{{base.sizes().vec(), base.dtype()}};
  for (size_t i = 1; i < fn_->num_inputs(); ++i) {
    edges.push_back(fn_->next_edge(i));
    metadata.push_back(fn_->input_metadata(i));
  }
  set_next_edges(std::move(edges), std::move(metadata));
}

variable_list CopySlices::apply(variable_list&& grads) {
  // BEGIN SOLUTION
  // result: a fresh buffer with the base's strides and offset — view_fn_ may replay an
  // as_strided with absolute offsets — holding the incoming gradient (the base's shape).
  int64_t last = base_offset_;  // the last storage element the base's layout reaches
  for (size_t d = 0; d < base_sizes_.size(); ++d) last += (base_sizes_[d] - 1) * base_strides_[d];
  // (A base with no elements reaches none: max() keeps the buffer's length valid.)
  Tensor result = empty({std::max(last + 1, base_offset_)}, grads[0].dtype())
                      .as_strided(base_sizes_, base_strides_, base_offset_);
  result.copy_(grads[0]);
  Tensor grad_slice = view_fn_(result);  // the written region, as the view saw it
  variable_list res = (*fn_)({grad_slice.clone()});
  // fn's gradient for the view's old values replaces the slice (a copy_ or fill_ gives none:
  // those values were overwritten, so they receive zero).
  if (res[0].defined()) {
    grad_slice.copy_(res[0]);
  } else {
    grad_slice.zero_();
  }
  res[0] = std::move(result);
  return res;
  // END SOLUTION
}

void accumulate_grad(Tensor& slot, Tensor&& incoming) {
  // BEGIN SOLUTION
  if (GradMode::is_enabled()) {
    // create_graph: the gradient carries a graph that an in-place write would corrupt. Keep
    // every step out of place and recorded (libtorch's AccumulateGrad): a clone, then a sum.
    slot = slot.defined() ? slot.add(incoming) : incoming.clone();
    return;
  }
  if (!slot.defined()) {
    // NOTE: the first gradient is stored as it is only if nobody else can see it and it is a
    // plain dense tensor. A pass-through formula (AddBackward gives `grad` to both inputs) or a
    // broadcast view (SumBackward's grad.expand(...)) must be copied: the optimizer and
    // clip_grad_norm_ later write into .grad() in place.
    const bool exclusive = incoming.use_count() == 1 && incoming.storage().use_count() == 1;
    slot = exclusive && incoming.is_contiguous() ? std::move(incoming) : incoming.clone();
  } else {
    slot.add_(incoming);
  }
  // END SOLUTION
}

}  // namespace tinytorch::autograd
