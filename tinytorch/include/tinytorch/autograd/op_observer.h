// tinytorch/autograd/op_observer.h — watching every recorded op and every backward node run.
//
// PyTorch lets a tool observe the ops a program runs (RecordFunction callbacks that ask for the
// inputs and the outputs); this is that idea at teaching scale, for one observer at a time:
//
//   struct Printer : autograd::OpObserver {
//     void forward_op(const char* node, const std::vector<Tensor>& inputs,
//                     const Tensor& output) override { std::cout << node << '\n'; }
//     void backward_begin(const autograd::Node& node, const variable_list&) override {
//       std::cout << node.name() << '\n';
//     }
//     void backward_end(const autograd::Node&, const variable_list&) override {}
//   } printer;
//   autograd::OpObserverGuard watch(&printer);   // every thread, until the guard ends
//   Tensor loss = (x * w).sum();                 // forward_op("MulBackward0"), ("SumBackward0")
//   loss.backward();                             // backward_begin/end(SumBackward0), ...
//
// Where it is called:
//   • forward_op — by the differentiable layer (autograd/variable_ops.cpp) each time a public op
//     records a node: the op's inputs (undefined where an optional one is absent) and its output,
//     whose grad_fn() is the node just recorded. An op that records nothing (grad mode off, no
//     input requiring grad, an integer or bool result) is not seen, nor are the public ops a
//     native calls inside (they run with grad mode off), so the calls seen are the program's own.
//   • backward_begin / backward_end — by Node::operator() (the engine's one way to run a node),
//     before and after apply(): the gradients the node received (one per forward output), then
//     what it returned (one per forward input; an AccumulateGrad returns none).
// The tensors passed are the op's own; an observer reads them and must not modify them.
//
// NOTE: an observer costs nothing when none is installed — one relaxed atomic load per recorded
// op and per node run — and never changes a result: the values it is shown are the ones the
// program goes on with. The diagnosis tool (tools/diagnose) installs one that writes a trace.
#pragma once

#include <atomic>
#include <vector>

#include "tinytorch/autograd/node.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::autograd {

class OpObserver {
 public:
  OpObserver() = default;
  virtual ~OpObserver() = default;
  OpObserver(const OpObserver&) = delete;
  OpObserver& operator=(const OpObserver&) = delete;

  // A public op recorded node `node_name` ("MulBackward0") for `output` from `inputs`.
  virtual void forward_op(const char* node_name, const std::vector<Tensor>& inputs,
                          const Tensor& output) = 0;
  // A backward node is about to run on `grads` (one per forward output; undefined where none
  // arrived) ...
  virtual void backward_begin(const Node& node, const variable_list& grads) = 0;
  // ... and returned `result` (one per forward input). A node that throws has no end. Nodes
  // nest: CopySlices runs the node of the write it wraps inside its own run.
  virtual void backward_end(const Node& node, const variable_list& result) = 0;
};

// Installs `observer` for every thread (nullptr: none) and returns the one it replaces. The
// observer is not owned; it may be called from several threads at once.
OpObserver* set_op_observer(OpObserver* observer);

// Installs an observer for a scope and puts the previous one back.
class OpObserverGuard {
 public:
  explicit OpObserverGuard(OpObserver* observer) : before_(set_op_observer(observer)) {}
  ~OpObserverGuard() { set_op_observer(before_); }
  OpObserverGuard(const OpObserverGuard&) = delete;
  OpObserverGuard& operator=(const OpObserverGuard&) = delete;

 private:
  OpObserver* before_;
};

namespace detail {
extern std::atomic<OpObserver*> g_op_observer;
// The observer installed now, or nullptr: the one load the hot path pays.
inline OpObserver* op_observer() {
  return g_op_observer.load(std::memory_order_relaxed);
}
}  // namespace detail

}  // namespace tinytorch::autograd
