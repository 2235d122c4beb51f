// tinytorch/amp/autocast.h — automatic mixed precision on the CPU (Python's
// `with torch.autocast("cpu", torch.bfloat16):`, libtorch's at::autocast).
//
//   Tensor loss;
//   {
//     autocast::AutocastGuard guard(kCPU, kBFloat16);   // on for THIS thread until the scope ends
//     Tensor logits = model->forward(x);                 // linear/conv/matmul run in bfloat16
//     loss = nn::functional::cross_entropy(logits, y);   // losses run in float32
//   }                                                    // outermost exit: the cast cache is freed
//   loss.backward();            // float32 weights get float32 gradients (through the casts)
//
// What autocast changes is WHICH DTYPE an op runs in, decided per op at its public entry
// (variable_ops.cpp and the composites' entries) by one table, PyTorch 1.13's CPU policy:
//
//   policy              ops                                      the floating inputs become
//   lower_precision_fp  linear matmul mm bmm addmm baddbmm       the autocast dtype (bf16/f16)
//                       conv1d conv2d scaled_dot_product_attention
//   fp32                cross_entropy nll_loss mse_loss l1_loss  float32
//                       smooth_l1_loss huber_loss kl_div prod
//                       binary_cross_entropy(_with_logits)
//                       conv_transpose2d, pad in reflect mode
//                       (1 or 2 dims) and replicate mode
//   promote             cat stack                                the widest dtype among them
//   (none)              everything else: softmax, layer_norm, gelu, sum, embedding, pooling,
//                       batch_norm, relu, ...                    stay as they arrive
//
// float64 tensors are never cast (only float32/bf16/f16 are "eligible", as in PyTorch), so a
// float64 gradcheck is unaffected by an autocast region around it.
//
// The casts are ordinary recorded to() calls: a float32 weight cast to bfloat16 gets its
// gradient back through ToCopyBackward0 as float32. The op then runs with autocast off (its
// inner ops — mm inside addmm, log_softmax inside cross_entropy — run in the dtype already
// chosen), as PyTorch's kernels run with the Autocast dispatch key excluded.
//
// NOTE (the cache): in a region, the cast of a float32 LEAF tensor that requires grad (a
// weight) is made once and reused by every op that reads it; the cache maps the source's
// TensorImpl* to (the source, its cast) — the strong reference keeps the source alive, so its
// address cannot be reused by another tensor while the entry exists. The outermost guard's exit
// (nesting back to 0) empties it. Not cached: non-leaf or view tensors (activations change
// every call), tensors that do not require grad, casts made with grad mode off (a cast without
// history must not be reused by a later recorded op: PyTorch 1.13 does cache it, and measured,
// linear(x, w) after a no_grad linear(x, w) in the same region returns a result that does not
// require grad), and any cast while set_autocast_cache_enabled(false).
//
// NOTE (what the graph keeps of a cached cast): a linear saves its weight for the backward
// (grad_input = grad_output · W), here the bfloat16 cast. A cached cast is marked as made from
// its source, so the node keeps the float32 source (a parameter, alive anyway) and casts it again
// when backward unpacks it (autograd/saved_variable.h, rule 4): the same bits, with the cast's
// grad_fn, and the copy is freed when the region ends instead of when backward does — 2 B per
// parameter less between forward and backward, for one more cast of each weight in backward.
// One difference from PyTorch, which keeps the copy: a weight written in place between forward
// and backward (under no_grad) is the usual "modified by an inplace operation" error in
// backward here, where PyTorch's backward silently uses the copy of the weight as it was.
//
// NOTE (backward): autograd::backward/grad run with autocast OFF on this thread: a backward
// formula computes in the dtypes of the tensors the forward saved (a bf16 matmul's gradient is
// bf16, a float32 one's float32). PyTorch 1.13 differs when backward() is called INSIDE an
// autocast region: its backward ops dispatch through autocast too, so a float32 graph's mm
// gradient is computed in bfloat16 (measured: differences of 3e-2 on an 8×16·16×8 product).
// PyTorch's documentation recommends calling backward outside the region, where both agree.
// A guard opened INSIDE backward (a custom Function's backward, activation checkpointing's
// recompute) does switch autocast on there: an explicit region always counts, as PyTorch's
// checkpoint relies on when it re-enters the forward's autocast state to recompute.
//
// float16: PyTorch 1.13's CPU autocast accepts only bfloat16 (it warns and disables itself for
// float16), and so does 2.0; later 2.x releases accept float16 on the CPU too. We follow them:
// both are accepted.
// CUDA: this build has no CUDA device; enabling autocast for kCUDA is an error naming it.
#pragma once

#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "tinytorch/core/device.h"
#include "tinytorch/core/scalar_type.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::autocast {

// ── libtorch 1.13's at::autocast functions (thread-local state) ─────────────────────────────

bool is_cpu_enabled();  // default false
void set_cpu_enabled(bool enabled);
ScalarType get_autocast_cpu_dtype();            // default kBFloat16
void set_autocast_cpu_dtype(ScalarType dtype);  // kBFloat16 or kHalf, else TypeError
bool is_autocast_cache_enabled();               // default true
void set_autocast_cache_enabled(bool enabled);
void clear_cache();       // drops every cached cast of this thread
int increment_nesting();  // returns the new depth
int decrement_nesting();  // returns the new depth; 0 means the outermost region ended

// CUDA autocast (at::autocast::is_enabled/set_enabled): never on in this build.
bool is_enabled();
void set_enabled(bool enabled);  // true: Error naming the device

// ── libtorch 2.x's device-typed spellings ───────────────────────────────────────────────────
bool is_autocast_enabled(DeviceType device_type);
void set_autocast_enabled(DeviceType device_type, bool enabled);
ScalarType get_autocast_dtype(DeviceType device_type);
void set_autocast_dtype(DeviceType device_type, ScalarType dtype);

// ── the scoped region (Python's `with torch.autocast(device_type, dtype, enabled, cache_enabled)`)
// Sets the thread's CPU autocast state for its lifetime, then restores what was there; the
// exit of the outermost guard (nesting depth back to 0) clears the cast cache. enabled=false
// is a region with autocast off (a nested one switches an outer region off for its scope).
class AutocastGuard {
 public:
  explicit AutocastGuard(DeviceType device_type, ScalarType dtype = kBFloat16, bool enabled = true,
                         bool cache_enabled = true);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool prev_enabled_;
  ScalarType prev_dtype_;
  bool prev_cache_enabled_;
  bool prev_excluded_;
};

// ── the policy machinery the op entries call ────────────────────────────────────────────────
namespace detail {

enum class CastPolicy { lower_precision_fp, fp32, promote };

// The one table: the policy of each autocast op, by its public name ("linear", "nll_loss").
// An op not in the table is an internal error (every hook names a listed op).
CastPolicy policy_of(const char* op);

// True when CPU autocast is on for this thread and we are not already inside an op that
// autocast dispatched (that op's inner public ops run as they are).
bool is_active();

// ── the cast decision and the cache rule (module 22's code) ──
// Whether autocast may cast `t` at all: a defined floating tensor that is not float64 (PyTorch
// never narrows float64 silently, so a float64 gradcheck is unaffected by a region around it).
// Integer and bool tensors (targets, indices, masks) and undefined ones (no bias) are not.
bool is_eligible(const Tensor& t);

// The dtype an op with `policy` casts its eligible arguments to, given all its tensor arguments
// (the tensors of a list included): lower_precision_fp → the region's dtype
// (get_autocast_cpu_dtype()); fp32 → float32; promote → the widest dtype among the eligible
// arguments (bf16 + f32 → f32), none if there is no eligible argument. float64 arguments take no
// part: they are never cast, and the op's own promotion handles them (cat(bf16, f64) is float64
// with or without autocast, as in PyTorch 1.13).
std::optional<ScalarType> cast_dtype(CastPolicy policy, const std::vector<Tensor>& args);

// Whether the cast of `t` to `to` goes through the region's cache (the NOTE above): a float32
// leaf that requires grad and is not a view, cast to the region's dtype, with grad mode on and
// the cache enabled — a weight, which every op of the forward reads again.
bool is_cacheable(const Tensor& t, ScalarType to);

// PyTorch's cached_cast: an eligible tensor of another dtype than `to` becomes t.to(to), through
// the cache when is_cacheable says so; anything else is returned as it is.
Tensor cached_cast(ScalarType to, const Tensor& t);

// Autocast is off for the thread while one exists: the op's body runs under it.
class ExcludeGuard {
 public:
  ExcludeGuard();
  ~ExcludeGuard();
  ExcludeGuard(const ExcludeGuard&) = delete;
  ExcludeGuard& operator=(const ExcludeGuard&) = delete;

 private:
  bool prev_;
};

// The tensor arguments of an op's entry, for cast_dtype (sizes, flags, reductions are skipped).
inline void collect(std::vector<Tensor>& out, const Tensor& t) {
  out.push_back(t);
}
inline void collect(std::vector<Tensor>& out, const std::vector<Tensor>& ts) {
  out.insert(out.end(), ts.begin(), ts.end());
}
template <typename T>
void collect(std::vector<Tensor>& /*out*/, const T& /*not a tensor*/) {}

inline Tensor cast_arg(ScalarType to, const Tensor& t) {
  return cached_cast(to, t);
}
inline std::vector<Tensor> cast_arg(ScalarType to, const std::vector<Tensor>& ts) {
  std::vector<Tensor> out;
  out.reserve(ts.size());
  for (const Tensor& t : ts) out.push_back(cached_cast(to, t));
  return out;
}
template <typename T>
const T& cast_arg(ScalarType /*to*/, const T& arg) {  // sizes, flags, reductions: as they are
  return arg;
}

// An op's autocast entry: casts the tensor arguments as `op`'s policy says, then calls `f` on
// them with autocast off. Used at the top of a public op:
//   if (autocast::detail::is_active())
//     return autocast::detail::call("linear", [](auto&&... a) { return linear(a...); },
//                                   input, weight, bias);
template <typename F, typename... Args>
auto call(const char* op, F&& f, const Args&... args) {
  std::vector<Tensor> tensors;
  (collect(tensors, args), ...);
  const std::optional<ScalarType> to = cast_dtype(policy_of(op), tensors);
  if (!to) {  // promote with no eligible argument: nothing to cast
    ExcludeGuard off;
    return f(args...);
  }
  // The casts first (recorded, so gradients flow back through them), then the op without
  // autocast: its inner public ops must not cast again.
  auto cast = std::make_tuple(cast_arg(*to, args)...);
  ExcludeGuard off;
  return std::apply(std::forward<F>(f), cast);
}

}  // namespace detail

}  // namespace tinytorch::autocast

// At the top of an autocast op's public entry, with the entry's own parameters:
//   Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
//     TT_AUTOCAST(linear, input, weight, bias);
//     ...
// With CPU autocast active it casts the arguments as the table says for `op` and re-enters
// tinytorch::op with autocast off (so the second entry runs the op itself); otherwise nothing.
#define TT_AUTOCAST(op, ...)                                                         \
  do {                                                                               \
    if (::tinytorch::autocast::detail::is_active()) [[unlikely]] {                   \
      return ::tinytorch::autocast::detail::call(                                    \
          #op, [](const auto&... a) { return ::tinytorch::op(a...); }, __VA_ARGS__); \
    }                                                                                \
  } while (false)
