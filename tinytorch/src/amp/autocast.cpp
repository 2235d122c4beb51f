// CPU autocast (amp/autocast.h): the thread's state, the cast cache and the op policy table.
#include "tinytorch/amp/autocast.h"

#include <cstring>
#include <unordered_map>

#include "tinytorch/autograd/autograd_meta.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"

namespace tinytorch::autocast {

namespace {

// One thread's autocast state (PyTorch keeps it in thread-local dispatch-key sets and
// thread_local variables: a region opened on one thread never changes another's ops).
struct State {
  bool cpu_enabled = false;
  ScalarType cpu_dtype = kBFloat16;
  bool cache_enabled = true;
  bool excluded = false;  // inside an op autocast dispatched (detail::ExcludeGuard)
  int nesting = 0;
  // source TensorImpl* → (the source, its cast). The Tensor held in the value keeps the source
  // alive, so no other tensor can be allocated at the key's address while the entry exists.
  std::unordered_map<const TensorImpl*, std::pair<Tensor, Tensor>> cache;
};

State& state() {
  thread_local State s;
  return s;
}

void check_dtype(ScalarType dtype) {
  TT_CHECK_TYPE(dtype == kBFloat16 || dtype == kHalf, "autocast: dtype ", to_string(dtype),
                " is not supported on the CPU (expected bfloat16 or float16)");
}

[[noreturn]] void no_cuda(const char* what) {
  throw Error(tinytorch::detail::str(what,
                                     ": autocast for device 'cuda' is not available (TinyTorch has "
                                     "no CUDA device; expected device 'cpu')"));
}

}  // namespace

bool is_cpu_enabled() {
  return state().cpu_enabled;
}
void set_cpu_enabled(bool enabled) {
  state().cpu_enabled = enabled;
}
ScalarType get_autocast_cpu_dtype() {
  return state().cpu_dtype;
}
void set_autocast_cpu_dtype(ScalarType dtype) {
  check_dtype(dtype);
  state().cpu_dtype = dtype;
}
bool is_autocast_cache_enabled() {
  return state().cache_enabled;
}
void set_autocast_cache_enabled(bool enabled) {
  state().cache_enabled = enabled;
}
void clear_cache() {
  state().cache.clear();
}
int increment_nesting() {
  return ++state().nesting;
}
int decrement_nesting() {
  return --state().nesting;
}

bool is_enabled() {
  return false;
}
void set_enabled(bool enabled) {
  if (enabled) no_cuda("set_enabled(true)");
}

bool is_autocast_enabled(DeviceType device_type) {
  return device_type == kCPU && is_cpu_enabled();
}
void set_autocast_enabled(DeviceType device_type, bool enabled) {
  if (device_type == kCUDA) {
    set_enabled(enabled);
    return;
  }
  set_cpu_enabled(enabled);
}
ScalarType get_autocast_dtype(DeviceType device_type) {
  if (device_type == kCUDA) no_cuda("get_autocast_dtype");
  return get_autocast_cpu_dtype();
}
void set_autocast_dtype(DeviceType device_type, ScalarType dtype) {
  if (device_type == kCUDA) no_cuda("set_autocast_dtype");
  set_autocast_cpu_dtype(dtype);
}

AutocastGuard::AutocastGuard(DeviceType device_type, ScalarType dtype, bool enabled,
                             bool cache_enabled)
    : prev_enabled_(is_cpu_enabled()),
      prev_dtype_(get_autocast_cpu_dtype()),
      prev_cache_enabled_(is_autocast_cache_enabled()),
      prev_excluded_(state().excluded) {
  if (device_type == kCUDA) no_cuda("AutocastGuard");
  // A disabled region accepts any dtype (Python's autocast checks only when enabled).
  if (enabled) check_dtype(dtype);
  State& s = state();
  s.cpu_enabled = enabled;
  if (enabled) s.cpu_dtype = dtype;
  s.cache_enabled = cache_enabled;
  s.excluded = false;  // an explicit region counts even inside backward (see the header)
  increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (decrement_nesting() == 0) clear_cache();
  State& s = state();
  s.cpu_enabled = prev_enabled_;
  s.cpu_dtype = prev_dtype_;
  s.cache_enabled = prev_cache_enabled_;
  s.excluded = prev_excluded_;
}

namespace detail {

namespace {

struct OpPolicy {
  const char* op;
  CastPolicy policy;
};

// PyTorch 1.13's CPU autocast lists, restricted to the ops TinyTorch has (each checked by running
// it under torch.autocast("cpu", torch.bfloat16): tools/reference/gen_amp_autocast.py). The
// table is the only place an op's policy is written; the entries only name their op.
constexpr OpPolicy kPolicies[] = {
    {"linear", CastPolicy::lower_precision_fp},
    {"matmul", CastPolicy::lower_precision_fp},
    {"mm", CastPolicy::lower_precision_fp},  // its own entry: it checks its dtypes before matmul
    {"bmm", CastPolicy::lower_precision_fp},
    {"addmm", CastPolicy::lower_precision_fp},
    {"baddbmm", CastPolicy::lower_precision_fp},
    {"conv1d", CastPolicy::lower_precision_fp},
    {"conv2d", CastPolicy::lower_precision_fp},
    // 1.13 has no scaled_dot_product_attention; its multi-head attention is linear + bmm +
    // softmax, all in the autocast dtype, which our fused kernel matches.
    {"scaled_dot_product_attention", CastPolicy::lower_precision_fp},
    // 1.13 lists the transposed convolutions as fp32 (2.x moved them to lower precision).
    {"conv_transpose2d", CastPolicy::fp32},
    {"cross_entropy", CastPolicy::fp32},
    {"nll_loss", CastPolicy::fp32},
    {"mse_loss", CastPolicy::fp32},
    {"l1_loss", CastPolicy::fp32},
    {"smooth_l1_loss", CastPolicy::fp32},
    {"huber_loss", CastPolicy::fp32},
    {"binary_cross_entropy", CastPolicy::fp32},
    {"binary_cross_entropy_with_logits", CastPolicy::fp32},
    {"kl_div", CastPolicy::fp32},
    {"prod", CastPolicy::fp32},
    // 1.13 lists reflection_pad1d/2d and replication_pad1d/2d/3d, not reflection_pad3d,
    // constant_pad_nd or circular padding: pad's entry hooks only those modes (variable_ops.cpp).
    {"pad", CastPolicy::fp32},
    {"cat", CastPolicy::promote},  // stack runs through cat
};

// Whether t shares another tensor's storage as a view (libtorch's Tensor::is_view): autograd's
// view flag. [[maybe_unused]]: its one caller, is_cacheable, is the learner's.
[[maybe_unused]] bool is_view(const Tensor& t) {
  const autograd::AutogradMeta* meta = autograd::get_autograd_meta(t);
  return meta != nullptr && meta->is_view_;
}

}  // namespace

CastPolicy policy_of(const char* op) {
  for (const OpPolicy& p : kPolicies) {
    if (std::strcmp(p.op, op) == 0) return p.policy;
  }
  throw Error(tinytorch::detail::str("autocast: internal error: op '", op,
                                     "' has no entry in the policy table"));
}

bool is_active() {
  const State& s = state();
  return s.cpu_enabled && !s.excluded;
}

// ── module 22: the cast decision and the cache rule ──────────────────────────────────────────
// (amp/autocast.h says what each function returns.) What they decide for one call:
//
//   linear(x f32, w f32, b f32) ── policy_of("linear") = lower_precision_fp
//                                 └─ cast_dtype(policy, {x, w, b}) = bf16 (the region's dtype)
//   cached_cast(bf16, ·) on each argument:
//     is_eligible?   x f32 yes     w f32 yes           b f32 yes       (an int64 target: no)
//     is_cacheable?  x: no — data, or another op's output: new every step, so cast every call
//                    w, b: float32 leaves requiring grad: cast once, reused by every op after
//   linear(x', w', b') then runs with autocast off, in bfloat16; x', w', b' are recorded to()
//   casts, so w.grad comes back float32 through ToCopyBackward0.

bool is_eligible(const Tensor& t) {
  // BEGIN SOLUTION
  return t.defined() && t.is_floating_point() && t.dtype() != kFloat64;
  // END SOLUTION
}

// promote's widest dtype: promote_types (bf16 + f32 → f32), as the element-wise ops use.
std::optional<ScalarType> cast_dtype(CastPolicy policy, const std::vector<Tensor>& args) {
  // BEGIN SOLUTION
  switch (policy) {
    case CastPolicy::lower_precision_fp:
      return get_autocast_cpu_dtype();
    case CastPolicy::fp32:
      return kFloat32;
    case CastPolicy::promote: {
      std::optional<ScalarType> widest;
      for (const Tensor& t : args) {
        if (is_eligible(t)) widest = widest ? promote_types(*widest, t.dtype()) : t.dtype();
      }
      return widest;
    }
  }
  return std::nullopt;
  // END SOLUTION
}

// A weight's cast is worth keeping; an activation's is not (a new one every step). `is_view(t)`
// (above) says whether t is a view; GradMode::is_enabled() whether the cast will be recorded.
bool is_cacheable(const Tensor& t, ScalarType to) {
  // BEGIN SOLUTION
  return is_autocast_cache_enabled() && GradMode::is_enabled() && to == get_autocast_cpu_dtype() &&
         t.dtype() == kFloat32 && t.requires_grad() && t.is_leaf() && !is_view(t);
  // END SOLUTION
}

Tensor cached_cast(ScalarType to, const Tensor& t) {
  if (!is_eligible(t) || t.dtype() == to) return t;
  if (!is_cacheable(t, to)) return t.to(to);
  auto& cache = state().cache;
  auto it = cache.find(t.unsafeGetTensorImpl());
  if (it != cache.end()) return it->second.second;
  Tensor cast = t.to(to);
  // Marked as made from t: a node that saves it keeps t and casts again in backward, so the
  // copy lives only as long as the cache (autograd_meta.h, saved_variable.h rule 4).
  autograd::materialize_autograd_meta(cast).recast_source_ = t;
  cache.emplace(t.unsafeGetTensorImpl(), std::make_pair(t, cast));
  return cast;
}

ExcludeGuard::ExcludeGuard() : prev_(state().excluded) {
  state().excluded = true;
}
ExcludeGuard::~ExcludeGuard() {
  state().excluded = prev_;
}

}  // namespace detail

}  // namespace tinytorch::autocast
