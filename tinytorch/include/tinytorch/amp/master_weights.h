// tinytorch/amp/master_weights.h — float32 master weights for a model whose parameters are
// bfloat16 or float16 (model->to(kBFloat16)).
//
//   model->to(kBFloat16);                                   // compute and activations in bf16
//   amp::MasterWeights master(model->parameters());         // float32 copies of the parameters
//   optim::AdamW opt(master.parameters(), optim::AdamWOptions(1e-3));  // steps the COPIES
//   for (...) {
//     model->zero_grad();                                   // the copies' grads are overwritten
//     loss_fn(model->forward(x), y).backward();             // bf16 grads on the model
//     master.copy_grads_to_master();                        // widened to float32 (exact)
//     nn::utils::clip_grad_norm_(master.parameters(), 1.0); // optional, in float32
//     master.step(opt);                                     // opt.step(), then round the copies
//   }                                                       // into the model, once each
//
// Why: a bfloat16 weight w has 8 significant bits, so w + u rounds back to w whenever |u| is under
// half a unit in the last place of w (for 2^e ≤ |w| < 2^(e+1) that is 2^(e−8): between 2^-9·|w|
// and 2^-8·|w|). Late in training most updates lr · m / √v are that
// small: stepped in bfloat16 they are rounded away, every step, and the weight never moves. The
// float32 copy (24 bits) accumulates them until they add up to a bfloat16 step of the model's
// weight. tests/amp/test_master_weights.cpp shows it: 96 such steps leave a bf16 parameter where
// it was and move the master copy by 96 · u.
//
// With loss scaling (float16 gradients):
//   scaler.scale(loss).backward();       // float16 grads of loss · S (inf where S·g overflowed)
//   master.copy_grads_to_master();       // still scaled; an inf/NaN stays inf/NaN in float32
//   scaler.unscale_(opt);                // optional: ÷ S in float32, where small grads survive
//   nn::utils::clip_grad_norm_(master.parameters(), 1.0);
//   master.step(opt, scaler);            // scaler.step(opt): skipped if a grad is inf/NaN — the
//   scaler.update();                     // copies, their state and the model stay as they were
//
// master.step(opt[, scaler]) copies the gradients itself when copy_grads_to_master() was not
// called since the last step, so the loop without clipping is backward(), step(opt).
//
// The same design as Apex's amp O2 / FP16_Optimizer and DeepSpeed's BF16_Optimizer: the optimizer
// is built over the float32 copies, so EVERY optimizer (SGD, Adam, AdamW, RMSprop, Adagrad) works
// unchanged and keeps its state in float32. PyTorch and libtorch have no such class (their
// mixed-precision recipe is float32 parameters with autocast, which needs none: the parameters
// ARE the master weights). The copy's cost: 4 bytes per parameter besides the model's 2 and the
// float32 gradients' 4. The cheaper alternative that keeps no copy — bf16 parameters with float32
// optimizer state — is the float32_state() option of every optimizer (optim/optimizer.h).
//
// NOTE: invariant between steps: each model parameter == its copy rounded to the model's dtype
// (round-to-nearest-even). The constructor, copy_master_to_model() and load_state_dict() establish
// it; anything else that writes the model's parameters (model->load_state_dict) breaks it until the
// next of those.
//
// Checkpoints: state_dict() holds the copies ("master.<i>", float32); the overloads of
// train::capture_checkpoint / restore_checkpoint that take a MasterWeights save and restore them
// with the optimizer's (float32) state; save() / load() are the serialize hooks (torch::save).
#pragma once

#include <string>
#include <vector>

#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::serialize {
class OutputArchive;
class InputArchive;
}  // namespace tinytorch::serialize

namespace tinytorch::optim {
class Optimizer;
}  // namespace tinytorch::optim

namespace tinytorch::amp {

class GradScaler;

class MasterWeights {
 public:
  // Float32 copies of `model_parameters`, which must be distinct bfloat16 or float16 tensors
  // (TypeError for another dtype, ValueError for none or a repeated one).
  explicit MasterWeights(std::vector<Tensor> model_parameters);

  // The float32 copies (leaves that require grad), in the model's order: build the optimizer over
  // these, and clip their gradients.
  const std::vector<Tensor>& parameters() const { return master_; }
  // The model's low-precision parameters, as given.
  const std::vector<Tensor>& model_parameters() const { return model_; }
  size_t size() const { return model_.size(); }

  // Each copy's grad() ← its model parameter's grad() widened to float32 (exact); undefined where
  // the model's is undefined (the optimizer then skips that copy, as it skips the parameter).
  void copy_grads_to_master();
  // Each model parameter ← its copy, rounded to nearest even (under NoGradGuard).
  void copy_master_to_model();

  // copy_grads_to_master() unless it was called since the last step, optimizer.step(), then
  // copy_master_to_model(). Throws ValueError if `optimizer` holds a tensor that is not one of
  // parameters() (an optimizer built over the model's parameters by mistake).
  void step(optim::Optimizer& optimizer);
  // The same with loss scaling: scaler.step(optimizer) unscales the float32 gradients (unless
  // scaler.unscale_ already did) and skips the step if one is inf or NaN; the model is written
  // only when the step was applied. Returns whether it was.
  bool step(optim::Optimizer& optimizer, GradScaler& scaler);

  // {"master.0": float32 copy of parameter 0, ...} (copies of the copies).
  OrderedDict<std::string, Tensor> state_dict() const;
  // Restores the copies (converted to float32) and rounds them into the model. Checks everything
  // first: throws naming a missing or unexpected key, a shape that differs from the parameter's,
  // or a non-floating dtype, and then changes nothing.
  void load_state_dict(const OrderedDict<std::string, Tensor>& state_dict);
  // state_dict() through the project's archives (serialize/), as Optimizer::save / load.
  void save(serialize::OutputArchive& archive) const;
  void load(serialize::InputArchive& archive);

 private:
  void check_optimizer(const optim::Optimizer& optimizer) const;

  std::vector<Tensor> model_;   // bf16 / f16, the model's own tensors
  std::vector<Tensor> master_;  // float32, same shapes
  bool grads_copied_ = false;   // copy_grads_to_master() since the last step
};

// tinytorch::save(master, path) / tinytorch::load(master, path) (serialize/serialize.h).
serialize::OutputArchive& operator<<(serialize::OutputArchive& archive,
                                     const MasterWeights& master);
serialize::InputArchive& operator>>(serialize::InputArchive& archive, MasterWeights& master);

}  // namespace tinytorch::amp
