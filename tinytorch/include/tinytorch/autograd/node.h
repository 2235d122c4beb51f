// tinytorch/autograd/node.h — one step of the backward graph.
//
// Every differentiable op that runs while grad mode is on and an input requires grad attaches a
// Node to its output. The node remembers (a) what the backward formula needs — the "saved
// tensors" — and (b) one Edge per input, pointing at the node that produced that input:
//
//   forward:   x (leaf) ──mul──► y ──sum──► loss
//   backward:  loss.grad_fn = SumBackward0 ──edge──► MulBackward0 ──edge──► AccumulateGrad(x)
//
// A leaf that requires grad (a parameter) is reached through its AccumulateGrad node, which adds
// the incoming gradient into x.grad(). The graph points from outputs to inputs, so a graph is
// kept alive by the tensors at its end (the loss) and freed when they go away — PyTorch's
// torch::autograd::Node and Edge, at teaching scale.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tinytorch/core/tensor.h"

namespace tinytorch::autograd {

using variable_list = std::vector<Tensor>;
// Replays a chain of view ops on a tensor: view_fn(base) has the view's sizes, strides, offset.
using ViewFn = std::function<Tensor(const Tensor&)>;

class Node;
class SavedVariable;

// Where the gradient for one input of a node goes: `function`'s input number `input_nr`.
// An invalid edge (function == nullptr) means "this input does not need a gradient".
struct Edge {
  std::shared_ptr<Node> function;
  uint32_t input_nr = 0;
  bool is_valid() const { return function != nullptr; }
};

// The shape and dtype the gradient of one forward input must have. The engine reduces a
// broadcast gradient to `sizes` (sum_to_size) and casts it to `dtype` before passing it on.
struct InputMetadata {
  std::vector<int64_t> sizes;
  ScalarType dtype = kFloat32;
};

// The backward hooks of one tensor (Tensor::register_hook), in registration order. A hook gets
// the gradient w.r.t. the tensor and returns its replacement, or an undefined tensor to keep it.
// NOTE: positions are the handles register_hook returned, so remove_hook empties a slot (the
// function becomes null) instead of erasing it. The list is shared: the tensor's AutogradMeta
// holds it (later hooks go into it) and so does, for a non-leaf, the grad_fn that runs it — a
// hook keeps working after the tensor itself is gone, as PyTorch's do.
using TensorHook = std::function<Tensor(const Tensor&)>;
using TensorHookList = std::vector<TensorHook>;
// Runs `hooks` on `grad` in order, each on what the previous one returned (checked: a hook may
// not change the gradient's shape or dtype). `what` names the tensor in the error.
Tensor run_tensor_hooks(const TensorHookList& hooks, Tensor grad, const std::string& what);

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node();
  // Frees the nodes this one keeps alive iteratively, not recursively: a chain of 300k nodes
  // (a loss summed over many steps without .item()) would overflow the stack otherwise.
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // "MulBackward0", "AccumulateGrad", ... (PyTorch's names, so printed graphs read the same).
  virtual std::string name() const = 0;
  // Gradients of the forward outputs in, gradients of the forward inputs out (one per edge;
  // an undefined Tensor where no gradient flows).
  virtual variable_list apply(variable_list&& grads) = 0;
  // Runs the node: apply() inside a profiler event named after it (as PyTorch's
  // Node::operator() does), when a profiler records; just apply() otherwise; shown to the op
  // observer, when one is installed (op_observer.h). The engine calls this, not apply(). With
  // grad mode on (create_graph), a result that apply() computed without a graph from an incoming
  // gradient that has one is rewired through a DelayedError node: differentiating it again
  // raises "the derivative of <name>'s backward is not implemented".
  variable_list operator()(variable_list&& grads);
  // Frees the saved tensors once a backward pass without retain_graph is done with them.
  virtual void release_variables() {}
  // The tensors the backward formula saved, for looking at a graph (to_dot); none by default.
  virtual std::vector<const SavedVariable*> saved_variables() const { return {}; }

  const std::vector<Edge>& next_edges() const { return next_edges_; }
  const Edge& next_edge(size_t i) const { return next_edges_[i]; }
  size_t num_inputs() const { return next_edges_.size(); }
  // How many forward outputs the node stands for: apply() receives one gradient slot per output
  // (undefined where none arrived). 1 for almost every op; n for unbind's n views.
  size_t num_outputs() const { return num_outputs_; }
  const InputMetadata& input_metadata(size_t i) const { return input_metadata_[i]; }
  // Whether input i's gradient is wanted at all (a formula may skip computing it).
  bool needs_input_grad(size_t i) const {
    return i < next_edges_.size() && next_edges_[i].is_valid();
  }
  // Creation order: later nodes run first when several are ready (PyTorch's sequence_nr).
  uint64_t sequence_nr() const { return sequence_nr_; }

  // Called once when the node is attached: one edge and metadata per forward input.
  void set_next_edges(std::vector<Edge> edges, std::vector<InputMetadata> metadata);

  // Non-leaf tensors whose .grad() must be filled when this node runs (retain_grad()), each
  // with the output slot its gradient arrives in.
  struct RetainedTensor {
    std::weak_ptr<TensorImpl> tensor;
    uint32_t output_nr = 0;
  };
  void add_retained_tensor(const Tensor& t, uint32_t output_nr) {
    retained_.push_back({t.getIntrusivePtr(), output_nr});
  }
  void remove_retained_tensor(const Tensor& t);
  const std::vector<RetainedTensor>& retained_tensors() const { return retained_; }

  // The hooks of the tensors this node produced (register_hook on a non-leaf): the engine calls
  // call_tensor_pre_hooks on a node's incoming gradients before anything else sees them — the
  // node's formula, autograd::grad's capture, retain_grad's copy. AccumulateGrad overrides it to
  // run its leaf's hooks, which the leaf keeps (its AccumulateGrad may be rebuilt every step).
  void add_tensor_pre_hook(std::shared_ptr<TensorHookList> hooks, uint32_t output_nr) {
    tensor_pre_hooks_.push_back({std::move(hooks), output_nr});
  }
  virtual void call_tensor_pre_hooks(variable_list& grads) const;

 protected:
  void set_sequence_nr(uint64_t nr) { sequence_nr_ = nr; }
  void set_num_outputs(size_t n) { num_outputs_ = n; }

 private:
  struct TensorPreHook {
    std::shared_ptr<TensorHookList> hooks;
    uint32_t output_nr = 0;
  };
  std::vector<TensorPreHook> tensor_pre_hooks_;
  std::vector<RetainedTensor> retained_;
  size_t num_outputs_ = 1;
  std::vector<Edge> next_edges_;
  std::vector<InputMetadata> input_metadata_;
  uint64_t sequence_nr_;
};

// The sink for a leaf tensor that requires grad: adds the incoming gradient into leaf.grad().
// It holds the leaf's TensorImpl weakly — a graph must not keep a deleted parameter alive.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(const Tensor& leaf);
  std::string name() const override { return "AccumulateGrad"; }
  variable_list apply(variable_list&& grads) override;
  void call_tensor_pre_hooks(variable_list& grads) const override;  // the leaf's hooks
  Tensor variable() const;  // the leaf, or an undefined tensor if it no longer exists

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

// The new history of a tensor written through one of its views (PyTorch's CopySlices).
//
//   y = x * 1;  v = y.select(1, 0);  v.mul_(2)        (v: column 0 of y)
//
//   y.grad_fn = CopySlices ──edge 0──► MulBackward0 (x * 1): y's OLD history
//                   │  fn = CopyBackwards (the write into v, recorded as for any in-place op)
//                   └─────edge 1──► MulBackward0 (v_old * 2) ─► CloneBackward0 ─► SelectBackward0
//                                   (fn's edge 1: the values written; fn's edge 0, v's old
//                                   history, is replaced by edge 0 above)
//
// backward: grad (y's shape) is copied into `result`, laid out like y; grad_slice =
// view_fn(result) is the region the write covered. fn runs on a copy of grad_slice; its
// gradient for the old view values (none for a copy: they were overwritten) is written back into
// grad_slice, so `result` — y's gradient everywhere else — goes to y's old history, and fn's
// other gradients (the written values) go on along fn's other edges.
class CopySlices final : public Node {
 public:
  CopySlices(const Tensor& base, ViewFn view_fn, std::shared_ptr<Node> fn);
  std::string name() const override { return "CopySlices"; }
  variable_list apply(variable_list&& grads) override;
  void release_variables() override { fn_->release_variables(); }
  std::vector<const SavedVariable*> saved_variables() const override {
    return fn_->saved_variables();
  }

 private:
  // The base's layout (the node must not hold the base itself: that would be a cycle).
  std::vector<int64_t> base_sizes_, base_strides_;
  int64_t base_offset_;
  ViewFn view_fn_;
  std::shared_ptr<Node> fn_;
};

// slot += incoming, as the leaf's AccumulateGrad does it: the first gradient is stored (copied
// when it is shared or not dense), later ones are added in place. With grad mode on (a backward
// pass with create_graph) nothing is written in place: slot becomes a recorded clone, then
// slot + incoming, so .grad() keeps its graph.
void accumulate_grad(Tensor& slot, Tensor&& incoming);

}  // namespace tinytorch::autograd
