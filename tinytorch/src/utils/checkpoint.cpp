// Activation checkpointing (utils/checkpoint.h): a custom autograd node that keeps the inputs of
// a function instead of its activations, and recomputes them in backward.
#include "tinytorch/utils/checkpoint.h"

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "tinytorch/amp/autocast.h"
#include "tinytorch/autograd/custom_function.h"
#include "tinytorch/autograd/engine.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/core/generator.h"

namespace tinytorch::utils {

namespace {

// Puts the default generator in `state` for its lifetime, and back as it found it afterwards:
// the recompute draws the forward's random numbers without disturbing the caller's stream.
class ForkDefaultGenerator {
 public:
  explicit ForkDefaultGenerator(const Generator::State* state)
      : outer_(default_generator().get_state()), active_(state != nullptr) {
    if (active_) default_generator().set_state(*state);
  }
  ~ForkDefaultGenerator() {
    if (active_) default_generator().set_state(outer_);
  }
  ForkDefaultGenerator(const ForkDefaultGenerator&) = delete;
  ForkDefaultGenerator& operator=(const ForkDefaultGenerator&) = delete;

 private:
  Generator::State outer_;
  bool active_;
};

// The node of one checkpointed call. It is a CppNodeBase (custom_function.h) so that the inputs
// get their edges, their versions are checked and the output gets its history exactly as for a
// custom Function; only backward differs: it recomputes instead of reading saved activations.
//
//   inputs [n] ──edges──► CheckpointBackward ◄── output (grad_fn)
//   saved: the n inputs (SavedVariables), fn, the generator's state and the CPU autocast state
//          at the forward
//
// The autocast state the forward ran under (amp/autocast.h) — on or off, its dtype, its cache
// setting — is what the recompute runs under too: a forward in bfloat16 recomputed in float32
// would hand back gradients of another computation (and of another dtype).
struct AutocastState {
  bool enabled = autocast::is_cpu_enabled();
  ScalarType dtype = autocast::get_autocast_cpu_dtype();
  bool cache_enabled = autocast::is_autocast_cache_enabled();
};

class CheckpointBackward final : public autograd::CppNodeBase {
 public:
  CheckpointBackward(CheckpointFunction fn, std::optional<Generator::State> rng_state)
      : fn_(std::move(fn)), rng_state_(std::move(rng_state)) {}

  std::string name() const override { return "CheckpointBackward"; }

  void release_variables() override {
    CppNodeBase::release_variables();
    fn_ = nullptr;  // what fn captured (modules, tensors) is no longer kept alive by the graph
  }

 private:
  autograd::variable_list call_backward(autograd::variable_list& grads) override {
    TT_CHECK(fn_ != nullptr,
             "checkpoint: trying to backward through the graph a second time (the checkpointed "
             "function was released after the first backward); specify retain_graph=true");
    // NOTE: the engine runs this with grad mode = create_graph. The inner pass below starts from
    // detached inputs, so a gradient it recorded would lead back to those copies, not to the
    // inputs: its derivative with respect to them would be silently missing. Refused instead.
    TT_CHECK(!GradMode::is_enabled(),
             "checkpoint: backward with create_graph=true (double backward) through a "
             "checkpointed function is not supported (PyTorch's use_reentrant=True rule): its "
             "gradient could not be differentiated with respect to the inputs. Compute the "
             "gradient penalty without checkpoint, or checkpoint only the layers after it");
    const autocast::AutocastGuard autocast(kCPU, autocast_.dtype, autocast_.enabled,
                                           autocast_.cache_enabled);
    return recompute_and_backward(grads[0]);
  }

  // The recompute: fn runs again, now recording a graph, on the inputs the forward saved (its
  // activations were never kept), and grad_output is backpropagated through that graph to them.
  //
  //   saved inputs ─detach─► leaves (requires_grad as the inputs) ─fn─► output'
  //   backward(output', grad_output) ─► leaves' .grad() = the inputs' gradients
  //
  // The leaves are cut from the outer graph, so the inner backward stops at them and does not run
  // into the layers before this one (the outer engine reaches those through this node's edges).
  // fn must draw the forward's random numbers (dropout masks), or the recomputed activations are
  // not the forward's: the default generator is set to the state saved at the forward for the
  // call (ForkDefaultGenerator) and the caller's stream is left untouched. An output that
  // requires no grad (fn depends on no input that does) gives no gradients.
  autograd::variable_list recompute_and_backward(const Tensor& grad_output) {
    // BEGIN SOLUTION
    const autograd::variable_list saved = ctx_.get_saved_variables();
    autograd::variable_list detached;
    detached.reserve(saved.size());
    for (size_t i = 0; i < saved.size(); ++i) {
      Tensor d = saved[i].detach();
      if (ctx_.needs_input_grad(i)) d.set_requires_grad(true);
      detached.push_back(std::move(d));
    }
    Tensor output;
    {
      const ForkDefaultGenerator fork(rng_state_ ? &*rng_state_ : nullptr);
      const AutoGradMode grad_mode(true);
      output = fn_(detached);
    }
    autograd::variable_list result(saved.size());
    if (!output.requires_grad()) return result;
    autograd::backward({output}, {grad_output});
    for (size_t i = 0; i < saved.size(); ++i) {
      if (detached[i].requires_grad()) result[i] = detached[i].grad();
    }
    return result;
    // END SOLUTION
  }

  CheckpointFunction fn_;
  std::optional<Generator::State> rng_state_;
  AutocastState autocast_;  // taken when the forward creates the node
};

}  // namespace

Tensor detail::checkpoint(const CheckpointFunction& fn, std::vector<Tensor> inputs,
                          bool preserve_rng_state) {
  TT_CHECK_VALUE(static_cast<bool>(fn), "checkpoint: fn is empty (expected a function to run)");
  bool any_requires_grad = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    TT_CHECK_VALUE(inputs[i].defined(), "checkpoint: input ", i,
                   " is an undefined tensor (expected a defined tensor for every input)");
    any_requires_grad = any_requires_grad || inputs[i].requires_grad();
  }
  // NOTE: with no graph to record, or no input to hand gradients to, there is nothing to
  // recompute: fn runs as it is. (It may still record a graph into parameters it uses, so the
  // parameters keep their gradients — PyTorch's non-reentrant checkpoint's behaviour.)
  if (!GradMode::is_enabled() || !any_requires_grad) return fn(inputs);

  auto node = std::make_shared<CheckpointBackward>(
      fn, preserve_rng_state ? std::optional(default_generator().get_state()) : std::nullopt);
  const bool is_executable = node->set_inputs(inputs, std::vector<bool>(inputs.size(), true));
  Tensor output;
  {
    const NoGradGuard no_grad;
    output = fn(inputs);
  }
  TT_CHECK_VALUE(output.defined(),
                 "checkpoint: fn returned an undefined tensor (expected a "
                 "tensor to differentiate)");
  node->ctx_.save_for_backward(inputs);
  return node->wrap_outputs(inputs, {std::move(output)}, is_executable)[0];
}

Tensor checkpoint_sequential(const std::vector<std::function<Tensor(const Tensor&)>>& functions,
                             int64_t segments, const Tensor& input, bool preserve_rng_state) {
  const auto n = static_cast<int64_t>(functions.size());
  TT_CHECK_VALUE(segments >= 1 && segments <= n, "checkpoint_sequential: segments = ", segments,
                 " is out of range for ", n, " functions (expected 1 <= segments <= ", n, ")");
  using Segment = std::vector<std::function<Tensor(const Tensor&)>>;
  const auto run = [](const Segment& segment, Tensor x) {
    for (const auto& f : segment) x = f(x);
    return x;
  };
  const auto size = static_cast<ptrdiff_t>(n / segments);
  auto begin = functions.begin();
  Tensor x = input;
  for (int64_t s = 0; s + 1 < segments; ++s, begin += size) {
    // NOTE: the segment is copied into the function the node keeps: backward runs it again after
    // this call has returned.
    x = detail::checkpoint([run, segment = Segment(begin, begin + size)](
                               const std::vector<Tensor>& in) { return run(segment, in[0]); },
                           {x}, preserve_rng_state);
  }
  return run(Segment(begin, functions.end()), x);
}

Tensor checkpoint_sequential(const nn::Sequential& sequential, int64_t segments,
                             const Tensor& input, bool preserve_rng_state) {
  std::vector<std::function<Tensor(const Tensor&)>> functions;
  for (const nn::AnyModule& m : *sequential) {
    functions.emplace_back([m](const Tensor& x) { return m.forward(x); });  // m holds the module
  }
  return checkpoint_sequential(functions, segments, input, preserve_rng_state);
}

}  // namespace tinytorch::utils
