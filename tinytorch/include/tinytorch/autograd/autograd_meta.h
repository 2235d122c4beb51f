// tinytorch/autograd/autograd_meta.h — what a tensor carries once autograd exists.
//
// Module 01 left an empty slot in every TensorImpl (AutogradMetaInterface). Module 05 fills it,
// lazily — only tensors that take part in autograd pay for it:
//
//   AutogradMeta {
//     requires_grad   leaf flag set by the user (parameters); non-leaves get it from grad_fn
//     grad            the accumulated gradient (leaves, or any tensor after retain_grad())
//     grad_fn         the Node that produced this tensor; null for leaves
//     grad_accumulator weak pointer to the leaf's AccumulateGrad, so every use shares one
//     is_view         made by a view op from a tensor that requires grad (+ its version then)
//   }
#pragma once

#include <memory>

#include "tinytorch/autograd/node.h"
#include "tinytorch/core/tensor_impl.h"

namespace tinytorch::autograd {

struct AutogradMeta final : AutogradMetaInterface {
  // Only leaves may change the flag: a non-leaf requires grad because of its grad_fn.
  void set_requires_grad(bool requires_grad) override;
  bool requires_grad() const override { return requires_grad_ || grad_fn_ != nullptr; }

  bool requires_grad_ = false;
  bool retains_grad_ = false;
  // A view (made by a view op from a tensor taking part in autograd) remembers its storage's
  // history version at creation: if the base is later modified in place by a RECORDED op, the
  // view's history is stale and using it in a new op is refused. (Writes with grad mode off —
  // optimizer steps — leave the history valid.)
  bool is_view_ = false;
  uint32_t view_version_ = 0;
  Tensor grad_;
  std::shared_ptr<Node> grad_fn_;
  std::weak_ptr<Node> grad_accumulator_;
};

// The tensor's AutogradMeta, or nullptr if it has none yet.
AutogradMeta* get_autograd_meta(const Tensor& t);
// The tensor's AutogradMeta, created (through the registered factory) if missing.
AutogradMeta& materialize_autograd_meta(const Tensor& t);
// The edge a gradient for `t` must follow: t's grad_fn, or the leaf's AccumulateGrad, or an
// invalid edge when t does not require grad.
Edge gradient_edge(const Tensor& t);

}  // namespace tinytorch::autograd
