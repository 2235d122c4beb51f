// tinytorch/autograd/saved_variable.h — a tensor a backward formula needs, kept safely.
//
// MulBackward0 needs both factors; ExpBackward0 needs the output. Two dangers, two rules:
//
//  1. Cycles. If the output y saved y itself (with its autograd meta), y → grad_fn → y would
//     never be freed. So a SavedVariable keeps a DETACHED alias: same Storage, no grad_fn.
//  2. Stale data. If the tensor is modified in place after it was saved, the formula would
//     silently use the wrong numbers. Every in-place op bumps the Storage's version counter;
//     the version is remembered at save time and checked at unpack() time:
//
//        y = x.exp();   // saves y at version 0
//        y.add_(1);     // version 1
//        y.sum().backward();  → error: "... is at version 1; expected version 0 instead"
#pragma once

#include <cstdint>

#include "tinytorch/core/tensor.h"

namespace tinytorch::autograd {

class SavedVariable {
 public:
  SavedVariable() = default;
  explicit SavedVariable(const Tensor& tensor);

  // The saved data; throws if it was modified in place since it was saved, or if it was
  // already freed by an earlier backward pass (call backward with retain_graph=true to keep it).
  Tensor unpack(const char* node_name) const;
  void reset();  // frees the data; unpack() then reports that the graph was freed
  bool defined() const { return data_.defined() || was_defined_; }
  // Whether the data is still held (false once backward freed it, or for an undefined tensor).
  // For looking at a graph (to_dot): the tensor itself is only handed out by unpack().
  bool is_held() const { return data_.defined(); }
  IntArrayRef sizes() const { return data_.sizes(); }  // requires is_held()

 private:
  Tensor data_;
  uint32_t saved_version_ = 0;
  bool was_defined_ = false;
};

}  // namespace tinytorch::autograd
