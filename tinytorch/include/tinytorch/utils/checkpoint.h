// tinytorch/utils/checkpoint.h — activation checkpointing: trade compute for memory
// (torch.utils.checkpoint's checkpoint and checkpoint_sequential).
//
//   Tensor y = utils::checkpoint([&](const std::vector<Tensor>& in) { return f(in[0], in[1]); },
//                                {x, h});
//   Tensor y = utils::checkpoint(block, x);     // a module, or a function of tensor arguments
//   Tensor y = utils::checkpoint_sequential(seq, /*segments=*/2, x);
//
// A plain forward keeps every activation a backward formula needs (the saved tensors of each
// node) until backward frees it. checkpoint(fn, inputs) keeps only the inputs:
//
//   forward    fn(inputs) under NoGradGuard: no graph inside, nothing saved but `inputs`
//              output ── CheckpointBackward ──► the inputs' gradient edges
//   backward   1. the default generator's state as it was at the forward is put back (so a
//                 Dropout inside draws the same mask), and the caller's state again afterwards;
//              2. fn runs again with grad mode on, on detached copies of the inputs that require
//                 grad as the inputs do: this builds fn's graph, just for this backward;
//              3. the incoming gradient is backpropagated through that graph: the parameters fn
//                 uses accumulate into their .grad(), the inputs' gradients go on to the outer
//                 graph through the node's edges.
//
// So one extra forward per checkpointed segment buys the memory of all its activations but its
// inputs. The gradients are the plain run's, bit for bit: the recompute runs the same ops on the
// same values, and each gradient is summed in the same order.
//
// NOTE (which PyTorch flavour this is): the recompute is PyTorch's use_reentrant=True design — a
// backward pass inside the backward pass — because it needs no saved-tensor hooks in the engine.
// Where use_reentrant=False is friendlier and it costs nothing, we follow it:
//   - an input that does not require grad is fine (no gradient for it), and when NO input
//     requires grad (or grad mode is off) fn simply runs as it is, recording its graph as usual,
//     so the parameters still get their gradients (reentrant checkpoint would lose them);
//   - checkpoints nest (fn may call checkpoint; the inner one is recomputed inside the outer's
//     recompute), and autograd::grad(outputs, inputs) gives the inputs' gradients.
// Two differences remain, as in use_reentrant=True:
//   - backward with create_graph = true through a checkpoint throws tinytorch::Error (the inner
//     pass starts from detached inputs, so the gradient it would record could not be
//     differentiated with respect to them — a wrong second derivative, refused instead);
//   - autograd::grad through a checkpoint also accumulates the gradients of the parameters fn
//     uses into their .grad() (the inner pass is a backward()).
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/modules/container.h"

namespace tinytorch::utils {

// The function a checkpoint recomputes: the inputs, in the order given, to one tensor.
using CheckpointFunction = std::function<Tensor(const std::vector<Tensor>&)>;

namespace detail {
// The one implementation (src/utils/checkpoint.cpp); the overloads below pick their arguments.
Tensor checkpoint(const CheckpointFunction& fn, std::vector<Tensor> inputs,
                  bool preserve_rng_state);
}  // namespace detail

// fn(inputs), keeping only `inputs` for backward (see above). preserve_rng_state = true (PyTorch's
// default) replays the default generator for the recompute; false recomputes with whatever state
// the generator has then (only right when fn draws no random numbers). Undefined inputs, an empty
// fn or an undefined result are refused (ValueError).
// NOTE: a template, so that a module (whose holder's operator() accepts anything and fails only
// inside) is never tried as a function of a vector: it goes to the overload below.
template <typename F>
requires(!nn::detail::is_module_holder_v<std::remove_cvref_t<F>>) &&
    std::convertible_to<F, CheckpointFunction> Tensor
    checkpoint(F&& fn, std::vector<Tensor> inputs, bool preserve_rng_state = true) {
  return detail::checkpoint(CheckpointFunction(std::forward<F>(fn)), std::move(inputs),
                            preserve_rng_state);
}

// The tensors as separate arguments: fn(x, y) instead of fn({x, y}). fn may be a lambda or a
// module (a ModuleHolder calls its forward): utils::checkpoint(block, x).
template <typename F, typename... Ts>
requires(std::convertible_to<Ts, Tensor>&&...) &&
    std::invocable<F&, const Tensor&, const Ts&...> Tensor
    checkpoint(F fn, const Tensor& first, const Ts&... rest) {
  return detail::checkpoint(
      [fn = std::move(fn)](const std::vector<Tensor>& in) mutable -> Tensor {
        return [&]<size_t... I>(std::index_sequence<I...>)->Tensor {
          return fn(in[I]...);
        }
        (std::index_sequence_for<Tensor, Ts...>{});
      },
      std::vector<Tensor>{first, Tensor(rest)...}, /*preserve_rng_state=*/true);
}

// torch.utils.checkpoint.checkpoint_sequential: `functions` run one after another on `input`,
// split into `segments` runs of len / segments functions (the last one takes the remainder).
// Every segment but the last is checkpointed; the last runs as it is, since its activations are
// needed at once by the backward that follows. 1 ≤ segments ≤ functions.size() (ValueError).
Tensor checkpoint_sequential(const std::vector<std::function<Tensor(const Tensor&)>>& functions,
                             int64_t segments, const Tensor& input, bool preserve_rng_state = true);
// The modules of a Sequential, in order.
Tensor checkpoint_sequential(const nn::Sequential& sequential, int64_t segments,
                             const Tensor& input, bool preserve_rng_state = true);

}  // namespace tinytorch::utils
