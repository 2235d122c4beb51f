// tinytorch/autograd/saved_variable.h — a tensor a backward formula needs, kept safely.
//
// MulBackward0 needs both factors; ExpBackward0 needs its output. Three rules:
//
//  1. History. A saved INPUT is kept as it is, grad_fn included: when the formula runs with grad
//     mode on (a backward pass with create_graph), what it computes from the input is recorded,
//     so the gradient can be differentiated again. No cycle: the input's history was complete
//     before this node existed, and the graph points from outputs to inputs.
//  2. Cycles. A saved OUTPUT of the node that saves it cannot be kept that way: y → grad_fn →
//     saved y would never be freed. It is stored DETACHED (same Storage, no grad_fn) beside a
//     weak pointer to its node and its output number; unpacked with grad mode on, it gets a new
//     alias whose grad_fn is that node again (PyTorch's SavedVariable does the same).
//  3. Stale data. If the tensor is modified in place after it was saved, the formula would
//     silently use the wrong numbers. Every in-place op bumps the Storage's version counter;
//     the version is remembered at save time and checked at unpack() time:
//
//        y = x.exp();   // saves y at version 0
//        y.add_(1);     // version 1
//        y.sum().backward();  → error: "... is at version 1; expected version 0 instead"
#pragma once

#include <cstdint>
#include <memory>

#include "tinytorch/core/tensor.h"

namespace tinytorch::autograd {

class Node;

class SavedVariable {
 public:
  SavedVariable() = default;
  // is_output: `tensor` is an output of the node that saves it (libtorch's parameter). Save an
  // output after its grad_fn is set to that node, as libtorch does: the node is read from it.
  SavedVariable(const Tensor& tensor, bool is_output);

  // The saved tensor; throws if it was modified in place since it was saved, or if it was
  // already freed by an earlier backward pass (call backward with retain_graph=true to keep it).
  Tensor unpack(const char* node_name) const;
  void reset();  // frees the data; unpack() then reports that the graph was freed
  bool defined() const { return data_.defined() || was_defined_; }
  // Whether the data is still held (false once backward freed it, or for an undefined tensor).
  // For looking at a graph (to_dot): the tensor itself is only handed out by unpack().
  bool is_held() const { return data_.defined(); }
  IntArrayRef sizes() const { return data_.sizes(); }  // requires is_held()
  // What the held data costs (saved_tensor_bytes): its dtype, and the storage it keeps alive —
  // the whole base of a saved view. Both require is_held().
  ScalarType dtype() const { return data_.dtype(); }
  const Storage& storage() const { return data_.storage(); }

 private:
  // The held data as a formula must see it: an input as saved; an output, while grad mode is on,
  // as a new alias of the data whose grad_fn is its node again (rule 2). unpack() returns it.
  Tensor with_grad_fn() const;

  Tensor data_;
  std::weak_ptr<Node> grad_fn_;  // a saved output's node (weak: that node owns this variable)
  uint32_t output_nr_ = 0;       // which of grad_fn_'s outputs it is
  uint32_t saved_version_ = 0;
  bool is_output_ = false;
  bool was_defined_ = false;
};

}  // namespace tinytorch::autograd
