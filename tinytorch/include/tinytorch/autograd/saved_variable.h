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
//  4. Copies that can be made again. Under autocast, a Linear saves the bfloat16 cast of its
//     float32 weight, and that copy would stay alive from the forward to the backward only to
//     be read there. A cast that autocast's cache made is marked (AutogradMeta::recast_source_);
//     saving it, or a view of it, keeps its float32 SOURCE instead — a parameter, alive anyway —
//     with the source's version, the cast's dtype, the saved tensor's sizes, strides and offset
//     and its grad_fn. unpack() casts the source again (the same bits: the source is unchanged,
//     rule 3 checks that on the source) and, with grad mode on, gives the copy that grad_fn, so
//     a gradient of the gradient flows back through the cast to the weight as before:
//
//        forward:   W [out, in] f32 ─to(bf16)─► Wb ─► linear(x, Wb, b)  (Wb: 2 B per weight)
//                   AddmmBackward0 saves {x, W, its version, bf16, Wb's sizes and grad_fn}
//                   the region ends: the cache drops Wb, nothing else holds it: freed
//        backward:  unpack() → W.to(bf16) (grad_fn: Wb's ToCopyBackward0) → the formula
//
//     One cast of the weight per unpack is the price. (PyTorch keeps the copy; there, writing
//     the weight in place between forward and backward goes unnoticed and the backward uses
//     the copy; here it is rule 3's error.)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

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
  // The saved tensor's sizes; requires is_held().
  IntArrayRef sizes() const { return recast_ ? IntArrayRef(recast_->sizes) : data_.sizes(); }
  // What the held data costs (saved_tensor_bytes): its dtype, and the storage it keeps alive —
  // the whole base of a saved view; for a recast copy (rule 4) its float32 source's. Both
  // require is_held().
  ScalarType dtype() const { return data_.dtype(); }
  const Storage& storage() const { return data_.storage(); }

 private:
  // The held data as a formula must see it: an input as saved; an output, while grad mode is on,
  // as a new alias of the data whose grad_fn is its node again (rule 2); a recast copy made
  // again (rule 4). unpack() returns it.
  Tensor with_grad_fn() const;

  // Rule 4: what makes the saved copy again from its source (data_).
  struct Recast {
    ScalarType dtype;                     // the cast's: bfloat16 or float16
    std::vector<int64_t> sizes, strides;  // the saved tensor on the cast's storage: the cast
    int64_t storage_offset = 0;           // itself, or a view of it (conv1d's unsqueezed weight)
    std::shared_ptr<Node> grad_fn;        // the saved tensor's: ToCopyBackward0, or the view's
    uint32_t output_nr = 0;
  };

  Tensor data_;
  std::weak_ptr<Node> grad_fn_;  // a saved output's node (weak: that node owns this variable)
  uint32_t output_nr_ = 0;       // which of grad_fn_'s outputs it is
  uint32_t saved_version_ = 0;
  bool is_output_ = false;
  bool was_defined_ = false;
  std::optional<Recast> recast_;  // set when a recast copy was saved (rule 4)
};

}  // namespace tinytorch::autograd
