// tinytorch/nn/utils/prune.h — magnitude pruning (module 16), as torch.nn.utils.prune, and
// structured pruning that really removes neurons.
//
//   namespace prune = nn::utils::prune;
//   prune::l1_unstructured(*model->fc1, "weight", 0.9);     // zero the 90% smallest |w|
//   prune::global_unstructured({{model->fc1.ptr(), "weight"}, {model->fc2.ptr(), "weight"}}, 0.9);
//   ... train: the pruned weights stay zero ...
//   prune::remove(*model->fc1, "weight");                    // make it permanent
//
// ── how a pruned parameter is stored (PyTorch's design, same state_dict keys) ─────────────────
//
//   before                         after l1_unstructured(fc, "weight", 0.5)
//   parameters  weight [out, in]   parameters  bias, weight_orig [out, in]   (the SAME tensor)
//               bias               buffers     weight_mask [out, in]  (0./1., weight's dtype)
//                                  fc->weight  = weight_orig · weight_mask, recomputed at the
//                                                start of every forward
//
// The optimizer keeps training weight_orig (it is the tensor it already held), momentum and all;
// the forward only ever sees weight_orig · weight_mask, and d(loss)/d(weight_orig) = grad · mask,
// so the pruned entries stay out of the model however the optimizer moves weight_orig. PyTorch
// does the recomputation in a forward pre-hook; tinytorch's Module has no hooks, so the layers
// that can be pruned (Linear) call prune::detail::apply_mask at the top of forward() — the one
// line PyTorch's hook runs. Masks combine: pruning a pruned parameter again removes `amount` of
// the entries still alive (PyTorch's PruningContainer).
//
// ── structured pruning: smaller layers, not zeros ──────────────────────────────────────────
//
//   fc1 [h, in] ─ReLU─► fc2 [out, h]     remove_neurons(fc1, fc2, keep)     fc1' [h', in], fc2'
//   [out, h']
//
// Removing neuron j deletes row j of fc1.weight, entry j of fc1.bias and column j of fc2.weight:
// the network computes exactly what the masked one computed (a dead ReLU unit outputs 0), with
// h'/h of the FLOPs of both layers — a dense GEMM that is really smaller, unlike zeros in a
// dense matrix, which cost the same time as any other number.
//
// A convolution's "neuron" is an output channel: filter weight[c] [in, kH, kW] and bias[c].
//
//   conv [C, in, kH, kW] ─ReLU/MaxPool─► next [out, C, kH', kW']
//     remove_channels(conv, next, keep)  →  conv' [C', in, kH, kW], next' [out, C', kH', kW']
//
//   conv [C, in, kH, kW] ─ReLU/MaxPool─► Flatten [C·S] ─► fc [out, C·S]    (S = H·W per channel)
//     remove_channels(conv, fc, keep, S)  →  conv', fc' [out, C'·S]: the column blocks
//     [c·S, (c+1)·S) of the kept channels c (Flatten is channel-major)
//
// A BatchNorm2d between them is sliced too (weight, bias, running_mean, running_var); the masked
// network it matches also zeroes the removed channels' BN weight and bias — otherwise a removed
// channel's BN outputs β − γ·mean/√(var + eps), not 0, in eval mode.
//
// remove_units(sequential, fraction) does all of it for a whole Sequential: every pair of weighted
// layers joined by zero-preserving modules (ReLU, pooling, Flatten) loses `fraction` of its units.
#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/nn/modules/batchnorm.h"
#include "tinytorch/nn/modules/container.h"
#include "tinytorch/nn/modules/conv.h"
#include "tinytorch/nn/modules/linear.h"

namespace tinytorch::nn::utils::prune {

// How much to prune: a fraction in [0, 1] of the entries (rounded half to even like Python's
// round: 0.5 of 5 entries is 2) or a count (PyTorch's float-or-int `amount`).
class Amount {
 public:
  Amount(double fraction);  // NOLINT(google-explicit-constructor): prune(..., 0.3)
  template <std::integral I>
  Amount(I count) : is_count_(true), count_(static_cast<int64_t>(count)) {  // NOLINT: prune(..., 3)
    check_count();
  }
  // The number of entries to prune out of n; throws when a count exceeds n.
  int64_t of(int64_t n) const;

 private:
  void check_count() const;
  bool is_count_ = false;
  double fraction_ = 0;
  int64_t count_ = 0;
};

// Prunes the `amount` entries of module.<name> with the smallest |value| (L1 norm of one entry)
// among those not pruned yet. Ties are pruned lowest flat index first. The module must be a
// Linear (the layers whose forward applies the mask); name is "weight" or "bias".
void l1_unstructured(Module& module, const std::string& name, Amount amount);

// The same ranking over ALL the given parameters at once: the layers whose weights are small
// overall lose more (torch.nn.utils.prune.global_unstructured with L1Unstructured).
void global_unstructured(const std::vector<std::pair<std::shared_ptr<Module>, std::string>>& params,
                         Amount amount);

// Makes the pruning permanent: weight_orig · weight_mask is written into weight_orig, which
// becomes module.<name> again (the optimizer's handle stays valid), and weight_orig and
// weight_mask are dropped. Throws if the parameter is not pruned.
void remove(Module& module, const std::string& name);

bool is_pruned(const Module& module);

// The fraction of zero entries of a tensor (of its effective value, for a pruned layer).
double sparsity(const Tensor& t);

// The learner's kernel: the mask that keeps `mask`'s zeros and also zeroes the k entries with
// the smallest scores among those where mask is 1 (ties: lowest index first). scores and mask
// are 1-D of the same length, any floating dtype; the result has mask's dtype.
Tensor magnitude_mask(const Tensor& scores, const Tensor& mask, int64_t k);

// ── structured ────────────────────────────────────────────────────────────────────────────

// The neurons (rows of layer.weight) to keep when removing `amount` of them with the smallest
// L_p norm of their row — the ranking of torch.nn.utils.prune.ln_structured(dim=0); p = 1 or 2
// (or any p ≥ 1). Ties: lowest index removed first. The result is sorted ascending.
std::vector<int64_t> neurons_to_keep(const Linear& layer, Amount amount, double p = 2.0);

// New, smaller layers computing exactly what (layer, next) compute with every neuron not in
// `keep` masked out: layer' keeps rows `keep` of weight and bias, next' keeps columns `keep` of
// its weight (its bias unchanged). keep must be sorted, unique and in range. Only valid when the
// activation between the layers maps 0 to 0 (ReLU, GELU, tanh) — a removed neuron then
// contributes nothing downstream.
std::pair<Linear, Linear> remove_neurons(const Linear& layer, const Linear& next,
                                         const std::vector<int64_t>& keep);

// The output channels (filters weight[c], [in/groups, kH, kW]) of conv to keep when removing
// `amount` of them with the smallest L_p norm of their filter — ln_structured(dim=0) on a conv
// weight. Same rules as neurons_to_keep: p ≥ 1, ties removed lowest index first, sorted result.
std::vector<int64_t> channels_to_keep(const Conv2d& conv, Amount amount, double p = 2.0);

// New, smaller layers computing exactly what (conv, next) compute with every output channel of
// conv not in `keep` masked out (its filter and bias zeroed): conv' keeps filters and bias
// entries `keep`, next' keeps input channels `keep` of its weight (next.weight[:, keep]); stride,
// padding, dilation and next's bias are unchanged. Between them only per-channel ops that map an
// all-zero channel to zeros (ReLU, MaxPool2d, AvgPool2d, Dropout). Both layers must have groups =
// 1 (a grouped conv ties its channels to groups). keep: non-empty, sorted, unique, in range.
std::pair<Conv2d, Conv2d> remove_channels(const Conv2d& conv, const Conv2d& next,
                                          const std::vector<int64_t>& keep);

// The same, when conv's output is flattened into a Linear: next.in_features must be
// conv.out_channels · spatial (spatial = H·W of one channel at the Flatten, after any pooling),
// and next' keeps the column blocks [c·spatial, (c+1)·spatial) of the channels c in `keep`.
std::pair<Conv2d, Linear> remove_channels(const Conv2d& conv, const Linear& next,
                                          const std::vector<int64_t>& keep, int64_t spatial);

// With a BatchNorm2d(conv.out_channels) between conv and next: bn' keeps entries `keep` of
// weight, bias, running_mean and running_var (num_batches_tracked, options and train/eval mode
// copied). The network matched is the masked one with the removed channels' BN weight and bias
// zeroed too. bn must be affine (a BN without γ, β cannot silence a channel: fold it into conv
// first).
std::tuple<Conv2d, BatchNorm2d, Conv2d> remove_channels(const Conv2d& conv, const BatchNorm2d& bn,
                                                        const Conv2d& next,
                                                        const std::vector<int64_t>& keep);
std::tuple<Conv2d, BatchNorm2d, Linear> remove_channels(const Conv2d& conv, const BatchNorm2d& bn,
                                                        const Linear& next,
                                                        const std::vector<int64_t>& keep,
                                                        int64_t spatial);

// ── a whole Sequential ──────────────────────────────────────────────────────────────────────
//
// Structured pruning of every hidden layer of `model` at once: each Linear loses `fraction` of its
// neurons and each Conv2d `fraction` of its output channels (those with the smallest L_p norm,
// neurons_to_keep / channels_to_keep), with the matching inputs of the next weighted layer
// (remove_neurons / remove_channels), wherever the way to that layer keeps a removed unit at
// exactly 0. So the result computes exactly what `model` computes with those units masked out.
//
//   Linear ─[a]─► Linear          [a]: any number of ReLU, LeakyReLU, GELU, SiLU, Tanh, Dropout,
//   Conv2d ─[a]─► Conv2d               Identity, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d
//   Conv2d ─[a]─► Flatten ─[a]─► Linear     (Flatten(1, -1): spatial = in_features / channels)
//
//   LeNet-5: conv 6 ─ReLU─pool─► conv 16 ─ReLU─pool─flatten─► fc 120 ─ReLU─► fc 84 ─ReLU─► fc 10
//   50%:     conv 3 ─────────►   conv 8  ──────────────────► fc 60  ──────► fc 42 ──────► fc 10
//
// Left as they are: the last weighted layer's outputs (the model's outputs), a layer whose way to
// the next one passes any other module (Sigmoid(0) = 0.5, a BatchNorm shifts a zero channel, a
// LayerNorm or Softmax mixes units: a removed unit would not be 0 there), grouped convolutions,
// and whatever is inside a nested Sequential. The layers are visited in order, so a layer is
// ranked on the inputs it still has. fraction is in [0, 1), counted per layer (rounded half to
// even, like Amount) and never removes a layer's last unit. The result is a new Sequential with
// the same names and train/eval mode; its other modules are `model`'s own objects, shared. p ≥ 1.
// Not in PyTorch (whose prune masks one tensor at a time); the same idea as the dependency graphs
// of Torch-Pruning or NNI's ModelSpeedup, for the one kind of graph a Sequential is: a chain.
Sequential remove_units(const Sequential& model, double fraction, double p = 2.0);

namespace detail {
// Called at the top of a prunable layer's forward(): if module.<name> is pruned, sets `value`
// (the layer's member, e.g. LinearImpl::weight) to <name>_orig · <name>_mask, recorded by
// autograd; otherwise does nothing.
void apply_mask(Module& module, const std::string& name, Tensor& value);
}  // namespace detail

}  // namespace tinytorch::nn::utils::prune
