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
//     hooks           register_hook's functions, run on the gradient w.r.t. this tensor
//     is_view, base, view_fn   made by a view op: the tensor it views, and how to make it again
//   }
//
// Views are what make in-place writes hard. `v = y.select(1, 0); v.mul_(2)` changes y, so y's
// history must change too: y's grad_fn becomes a CopySlices node (node.h) wrapping the write, and
// v's own grad_fn is regenerated from y's new one by replaying view_fn on y — PyTorch's
// DifferentiableViewMeta.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "tinytorch/autograd/node.h"
#include "tinytorch/core/tensor_impl.h"

namespace tinytorch::autograd {

struct AutogradMeta final : AutogradMetaInterface {
  // Only leaves may change the flag: a non-leaf requires grad because of its grad_fn.
  void set_requires_grad(bool requires_grad) override;
  bool requires_grad() const override { return requires_grad_ || grad_fn() != nullptr; }

  // The node that produced this tensor. A view whose base's history was rewritten since
  // grad_fn_ was set (an in-place op recorded on the base or on any view of it) first
  // regenerates it: view_fn_(base_) is replayed with grad mode on, from the base's new history.
  const std::shared_ptr<Node>& grad_fn() const;

  bool requires_grad_ = false;
  bool retains_grad_ = false;
  mutable std::shared_ptr<Node> grad_fn_;  // read it through grad_fn(): a view may be stale
  // Which of grad_fn_'s outputs this tensor is: the input-buffer slot its gradient goes to (0
  // but for the outputs of a multi-output op such as unbind).
  mutable uint32_t output_nr_ = 0;
  std::weak_ptr<Node> grad_accumulator_;
  Tensor grad_;
  // register_hook's hooks (node.h's TensorHookList), made on the first one. A non-leaf's
  // grad_fn shares the list; a leaf's AccumulateGrad reads it from here.
  std::shared_ptr<TensorHookList> hooks_;

  // ── views (made by a view op from a floating-point tensor) ──────────────────────────────
  // NOTE: base_ is never itself a view (a view of a view records the root), and view_fn_ maps
  // the base to a tensor with this view's sizes, strides and offset. A view made while grad
  // mode was off records no view_fn_ (created_in_no_grad_): writing through it with grad mode on
  // while its base requires grad is refused, as in PyTorch — whether the base should see the
  // write is ambiguous.
  bool is_view_ = false;
  bool created_in_no_grad_ = false;
  Tensor base_;
  ViewFn view_fn_;
  // The base's storage history version (bumped by every recorded in-place write) when grad_fn_
  // was last set. Writes with grad mode off (optimizer steps) leave the history valid.
  mutable uint32_t attr_version_ = 0;

  // ── a copy that can be made again (autocast's weight casts) ──────────────────────────────
  // NOTE: set only on the cast autocast's cache makes of a float32 weight (amp/autocast.cpp's
  // cached_cast): this tensor is recast_source_.to(dtype()), made by a recorded to(). Casting
  // the source again gives the same bits for as long as the source is not written in place, so
  // a SavedVariable that saves this tensor, or a view of it, keeps the source (alive anyway: a
  // parameter) instead of the 16-bit copy, and casts again when backward unpacks it
  // (saved_variable.h, rule 4).
  Tensor recast_source_;
};

// The tensor's AutogradMeta, or nullptr if it has none yet.
AutogradMeta* get_autograd_meta(const Tensor& t);
// The tensor's AutogradMeta, created (through the registered factory) if missing.
AutogradMeta& materialize_autograd_meta(const Tensor& t);
// The edge a gradient for `t` must follow: t's grad_fn, or the leaf's AccumulateGrad, or an
// invalid edge when t does not require grad.
Edge gradient_edge(const Tensor& t);

// ── in-place writes (defined in variable_ops.cpp, beside the in-place ops) ───────────────────
// Refuses a recorded in-place write of `self` by `op` where PyTorch does: a leaf that requires
// grad, a view of one, a view made with grad mode off.
void check_inplace(const Tensor& self, std::string_view op);
// Makes output `output_nr` of `node` self's new history after an in-place write (through a
// view, the base's history becomes CopySlices(node)). Built-in in-place ops and custom Functions
// that mark an input dirty both end here.
void rebase_history(Tensor& self, std::shared_ptr<Node> node, uint32_t output_nr = 0);
// The one path of every in-place op, self ← f(self[, other]) (`other`: the second operand, or
// nullptr): recorded, f runs out of place on a clone of self and copy_ writes the result back
// (CopyBackwards becomes self's history); not recorded, `write` (the native in-place kernel)
// runs if given, else f's result is copied in. In-place forms built from other ops (F::elu with
// inplace(true), ...) take it too, so they refuse and record exactly as the built-in ones do.
Tensor& inplace(Tensor& self, std::string_view op, const Tensor* other,
                const std::function<Tensor(const Tensor&)>& out_of_place,
                const std::function<void()>& write = {});

}  // namespace tinytorch::autograd
