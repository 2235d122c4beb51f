// tinytorch/optim/optimizer.h — what every optimizer shares (module 06): parameter groups, lazily
// created per-parameter state, zero_grad, step, and a flat state dict for checkpoints.
//
//   optim::SGD opt(model.parameters(), optim::SGDOptions(0.1).momentum(0.9));
//   for (auto& batch : loader) {
//     opt.zero_grad();                 // grads → undefined (set_to_none)
//     loss_fn(model(batch)).backward(); // fills every parameter's grad()
//     opt.step();                      // updates the parameters IN PLACE, under NoGradGuard
//   }
//
// The object model follows libtorch (torch::optim::Optimizer):
//
//   Optimizer
//   ├── defaults_      OptimizerOptions          the options a group gets when it brings none
//   ├── param_groups_  [OptimizerParamGroup]      each: params [Tensor] + its own options
//   └── state_         TensorImpl* → OptimizerParamState   made on a parameter's first step
//
// A derived optimizer (SGD, Adam, AdamW, RMSprop) supplies three things: its options type, its
// per-parameter state type, and update() — the rule that turns one gradient into one in-place
// parameter update. Everything else (which parameters to skip, checking grads, NoGradGuard,
// state bookkeeping, state_dict) is here, once.
//
// bfloat16 / float16 parameters (mixed precision). The update kernels are written for float32
// and float64; a low-precision parameter is stepped the way every op on such tensors computes
// (core/scalar_type.h: compute in float32, round once): step() widens the parameter, its gradient
// and its state buffers to float32 (exact), runs update(), and rounds the new parameter back to
// its dtype once, round-to-nearest-even. Where the state LIVES between steps is the group's
// choice:
//   default                 in the parameter's dtype, as PyTorch (torch.zeros_like(p)): each
//                           buffer is rounded once per step, like the parameter
//   .float32_state(true)    in float32 (opt-in; PyTorch has no such option): moments keep their
//                           small increments, for 2 more bytes per element and buffer
//   SGDOptions(0.1).momentum(0.9).float32_state(true)
// Neither keeps a float32 copy of the PARAMETER: an update smaller than half a unit in the last
// place of the parameter still rounds away. That is what amp::MasterWeights (amp/master_weights.h)
// is for.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/core/simd.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::serialize {
class OutputArchive;
class InputArchive;
}  // namespace tinytorch::serialize

namespace tinytorch::optim {

// A closure that recomputes the loss (zero_grad, forward, backward) and returns it; step(closure)
// calls it with grad mode on. Optional for every optimizer here (LBFGS would need it).
using LossClosure = std::function<Tensor()>;

// Declares one hyper-parameter the libtorch way: a chainable setter and a getter.
//   SGDOptions(0.1).momentum(0.9).nesterov(true)
#define TT_OPTIM_ARG(Self, T, name)   \
 public:                              \
  Self& name(const T& new_value) {    \
    name##_ = new_value;              \
    return static_cast<Self&>(*this); \
  }                                   \
  const T& name() const {             \
    return name##_;                   \
  }                                   \
                                      \
 protected:                           \
  T name##_

// ── options ──────────────────────────────────────────────────────────────────────────────────

// The hyper-parameters of one parameter group. Every option is a number or a bool, so an
// optimizer can save and restore them by name without knowing its own type (state_dict()).
class OptimizerOptions {
 public:
  virtual ~OptimizerOptions() = default;
  virtual std::unique_ptr<OptimizerOptions> clone() const = 0;
  virtual double get_lr() const = 0;
  virtual void set_lr(double lr) = 0;
  // Every hyper-parameter as (name, value), in a fixed order; booleans as 0 / 1.
  virtual std::vector<std::pair<std::string, double>> to_values() const = 0;
  // Sets every hyper-parameter from value_of(name). value_of throws for a name it lacks.
  virtual void from_values(const std::function<double(const std::string&)>& value_of) = 0;
  // Throws ValueError naming the first invalid hyper-parameter ("Invalid learning rate: -0.1").
  virtual void validate() const = 0;

  // Whether this group keeps the state of bfloat16/float16 parameters in float32 (see the top of
  // this file). Not a hyper-parameter: it is not in to_values(), so state dicts keep PyTorch's
  // keys; the saved buffers carry their dtype, and load_state_dict converts them to this
  // group's state_dtype().
  bool float32_state() const { return float32_state_; }
  // The dtype of the state buffers of a parameter of dtype `param`: float32 for a bfloat16 or
  // float16 parameter with float32_state(), else `param` itself.
  ScalarType state_dtype(ScalarType param) const {
    return float32_state_ && (param == kBFloat16 || param == kHalf) ? kFloat32 : param;
  }

 protected:
  bool float32_state_ = false;
};

// Implements the boilerplate of OptimizerOptions for an options class Derived that has an lr
// and lists its hyper-parameters once, in a static member
//   template <typename Self, typename F> static void fields(Self& self, F&& f)
// calling f("name", self.member_) for each (member_ a double or a bool).
template <typename Derived>
class OptimizerCloneableOptions : public OptimizerOptions {
 public:
  // The chainable setter of OptimizerOptions::float32_state:
  // AdamWOptions(1e-3).float32_state(true).
  using OptimizerOptions::float32_state;
  Derived& float32_state(bool on) {
    float32_state_ = on;
    return static_cast<Derived&>(*this);
  }
  std::unique_ptr<OptimizerOptions> clone() const override {
    return std::make_unique<Derived>(self());
  }
  double get_lr() const override { return self().lr(); }
  void set_lr(double lr) override { static_cast<Derived&>(*this).lr(lr); }
  std::vector<std::pair<std::string, double>> to_values() const override {
    std::vector<std::pair<std::string, double>> out;
    Derived::fields(self(), [&](const char* name, const auto& v) {
      out.emplace_back(name, static_cast<double>(v));
    });
    return out;
  }
  void from_values(const std::function<double(const std::string&)>& value_of) override {
    Derived::fields(static_cast<Derived&>(*this), [&](const char* name, auto& v) {
      using V = std::remove_reference_t<decltype(v)>;
      const double x = value_of(name);
      if constexpr (std::is_same_v<V, bool>) {
        v = x != 0.0;
      } else {
        v = static_cast<V>(x);
      }
    });
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

// ── per-parameter state ──────────────────────────────────────────────────────────────────────

// What an optimizer remembers about one parameter between steps: how many updates it has had,
// and named buffers with the parameter's shape (momentum, running averages). Created on the
// parameter's first step — a parameter that never gets a gradient costs no state memory.
struct OptimizerParamState {
  virtual ~OptimizerParamState() = default;
  // The buffers, by the names PyTorch's state dicts use ("momentum_buffer", "exp_avg", ...).
  // A buffer an option does not need (max_exp_avg_sq without amsgrad) stays undefined.
  virtual std::vector<std::pair<const char*, Tensor*>> buffers() = 0;
  int64_t step = 0;  // updates applied to this parameter so far
};

// ── parameter groups ─────────────────────────────────────────────────────────────────────────

// Parameters that share hyper-parameters: e.g. "no weight decay on biases", or a smaller lr for a
// pretrained backbone. A group made without options takes a copy of the optimizer's defaults.
class OptimizerParamGroup {
 public:
  OptimizerParamGroup(std::vector<Tensor> params)  // NOLINT(google-explicit-constructor)
      : params_(std::move(params)) {}
  OptimizerParamGroup(std::vector<Tensor> params, std::unique_ptr<OptimizerOptions> options)
      : params_(std::move(params)), options_(std::move(options)) {}
  OptimizerParamGroup(const OptimizerParamGroup& other);
  OptimizerParamGroup& operator=(const OptimizerParamGroup& other);
  OptimizerParamGroup(OptimizerParamGroup&&) = default;
  OptimizerParamGroup& operator=(OptimizerParamGroup&&) = default;

  bool has_options() const { return options_ != nullptr; }
  OptimizerOptions& options();
  const OptimizerOptions& options() const;
  void set_options(std::unique_ptr<OptimizerOptions> options) { options_ = std::move(options); }
  std::vector<Tensor>& params() { return params_; }
  const std::vector<Tensor>& params() const { return params_; }

 private:
  std::vector<Tensor> params_;
  std::unique_ptr<OptimizerOptions> options_;
};

// ── the optimizer ────────────────────────────────────────────────────────────────────────────

class Optimizer {
 public:
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;
  virtual ~Optimizer() = default;

  // Adds parameters with their own options (or a copy of the defaults). Every parameter must be
  // a defined floating-point leaf tensor that is in no other group.
  void add_param_group(const OptimizerParamGroup& group);

  // One update of every parameter that has a gradient, in place, under NoGradGuard. Parameters
  // whose grad() is undefined are skipped (they took no part in the loss, or were zeroed with
  // set_to_none). With a closure, calls it first (grad mode on) and returns its loss.
  Tensor step(const LossClosure& closure = nullptr);

  // Drops every parameter's gradient: grad() becomes undefined (PyTorch's set_to_none=True, the
  // default since 2.0 and libtorch's default). Cheaper than zeroing (no memory written, the next
  // backward() assigns instead of accumulating) and lets step() tell "no gradient" from "zero
  // gradient". With set_to_none = false, existing gradients are filled with zeros instead.
  void zero_grad(bool set_to_none = true);

  // Every parameter of every group, in order (the order state_dict() numbers them).
  std::vector<Tensor> parameters() const;
  size_t size() const;  // number of parameters
  std::vector<OptimizerParamGroup>& param_groups() { return param_groups_; }
  const std::vector<OptimizerParamGroup>& param_groups() const { return param_groups_; }
  const OptimizerOptions& defaults() const { return *defaults_; }
  OptimizerOptions& defaults() { return *defaults_; }
  // The state of parameter p, or nullptr before p's first step.
  OptimizerParamState* state_of(const Tensor& p);
  const OptimizerParamState* state_of(const Tensor& p) const;

  // "SGD", "Adam", "AdamW", "RMSprop": the type a state dict records.
  std::string_view name() const { return name_; }

  // Everything needed to resume, as flat keys → tensors (parameters numbered 0, 1, ... across
  // groups in order, like PyTorch's state_dict):
  //
  //   optimizer.<name>          0-d int64  format version (1); the key names the optimizer type
  //   param_groups.<g>.params   1-d int64  the numbers of group g's parameters
  //   param_groups.<g>.<option> 0-d float64 every hyper-parameter (booleans as 0 / 1)
  //   state.<i>.step            0-d int64  updates applied to parameter i (absent before its first)
  //   state.<i>.<buffer>        tensor     e.g. momentum_buffer, exp_avg (parameter i's shape)
  //
  // The tensors are copies: later steps do not change a state dict already taken.
  OrderedDict<std::string, Tensor> state_dict() const;
  // Restores options and state. Checks everything before changing anything, and throws on a
  // state dict of another optimizer type, another number of groups or parameters, buffers whose
  // shape does not match their parameter, missing options, or unknown keys.
  void load_state_dict(const OrderedDict<std::string, Tensor>& state_dict);
  // libtorch's serialization hooks, used by torch::save / torch::load (serialize/serialize.h):
  // state_dict() into the archive, and load_state_dict() of every tensor the archive holds.
  virtual void save(serialize::OutputArchive& archive) const;
  virtual void load(serialize::InputArchive& archive);

 protected:
  // `name` is passed up rather than asked of a virtual function, because the constructor already
  // needs it for its error messages, and a base class constructor cannot call the derived class.
  Optimizer(std::string name, std::vector<OptimizerParamGroup> param_groups,
            std::unique_ptr<OptimizerOptions> defaults);

  // A fresh, empty state for one parameter (the buffers are allocated by update() when needed).
  virtual std::unique_ptr<OptimizerParamState> make_state() const = 0;
  // Applies one update to `param` (contiguous, same dtype as grad) from `grad` (contiguous), with
  // this group's options. state.step has already been incremented for this update. param is
  // float32 or float64: step() runs bfloat16/float16 parameters through update_in_float32.
  virtual void update(Tensor& param, const Tensor& grad, OptimizerParamState& state,
                      const OptimizerOptions& options) = 0;

  std::string name_;
  std::unique_ptr<OptimizerOptions> defaults_;
  std::vector<OptimizerParamGroup> param_groups_;
  std::unordered_map<const TensorImpl*, std::unique_ptr<OptimizerParamState>> state_;

 private:
  // One update of a bfloat16/float16 parameter: update() on float32 copies of it, its gradient
  // and its state, then the parameter (and state kept in its dtype) rounded back once.
  void update_in_float32(Tensor& param, const Tensor& grad, OptimizerParamState& state,
                         const OptimizerOptions& options);
};

// ── helpers for update() implementations ─────────────────────────────────────────────────────

// Update kernels put TT_PRAGMA_OMP_SIMD before their element loop and TT_TARGET_CLONES_AVX2 before
// their declaration (core/simd.h): Adam's sqrt and two divisions per element run 8 at a time.

namespace detail {
// Calls f.template operator()<b0, b1, ...>() with the runtime bools as template arguments, e.g.
//   dispatch_flags([&]<bool kMomentum, bool kNesterov>() { ... }, momentum != 0, nesterov);
// compiles the body once per combination (2^n of them) and runs the one that matches.
template <bool... kFlags, typename F>
void dispatch_flags(F&& f) {
  f.template operator()<kFlags...>();
}
template <bool... kFlags, typename F, typename... Bools>
void dispatch_flags(F&& f, bool next, Bools... rest) {
  if (next) {
    dispatch_flags<kFlags..., true>(f, rest...);
  } else {
    dispatch_flags<kFlags..., false>(f, rest...);
  }
}

// `buffer`, allocated as zeros shaped like `param` (contiguous) if it is still undefined.
Tensor& zeros_if_undefined(Tensor& buffer, const Tensor& param);
// Number of elements per thread below which a fused update runs on one thread.
inline constexpr int64_t kUpdateGrainSize = 1 << 15;
}  // namespace detail

}  // namespace tinytorch::optim
