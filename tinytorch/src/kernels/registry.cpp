#include "tinytorch/kernels/registry.h"

#include <atomic>
#include <cstdlib>
#include <string_view>

#include "tinytorch/core/allocator.h"
#include "tinytorch/core/caching_allocator.h"
#include "tinytorch/core/exception.h"

namespace tinytorch::kernels {

namespace {

Tier tier_from_env() {
  const char* env = std::getenv("TINYTORCH_KERNELS");
  if (env == nullptr || *env == '\0') return Tier::kFast;
  const std::string_view v(env);
  TT_CHECK_VALUE(v == "reference" || v == "fast",
                 "TINYTORCH_KERNELS must be 'reference' or "
                 "'fast', got '",
                 v, "'");
  return v == "reference" ? Tier::kReference : Tier::kFast;
}

std::atomic<int> g_tier{-1};  // -1 = not read from the environment yet

struct Registration {
  FastKernels kernels;
  bool not_written = false;  // the stub threw NotImplementedError
};

// Registered once, on first use. A learner release's stubbed registration throws
// NotImplementedError: then nothing is registered and the reference tier serves everything.
const Registration& registration() {
  static const Registration r = [] {
    Registration out;
    try {
      register_fast_kernels(out.kernels);
    } catch (const NotImplementedError&) {
      out = Registration{FastKernels{}, true};
    }
    return out;
  }();
  return r;
}

const FastKernels& registered() {
  return registration().kernels;
}

void apply_allocator(Tier t) {
  const bool caching = t == Tier::kFast && registered().caching_allocator;
  set_default_allocator(caching ? static_cast<Allocator*>(&caching_allocator()) : nullptr);
}

}  // namespace

Tier tier() {
  int t = g_tier.load();
  if (t < 0) {
    set_tier(tier_from_env());
    t = g_tier.load();
  }
  return static_cast<Tier>(t);
}

void set_tier(Tier t) {
  g_tier.store(static_cast<int>(t));
  apply_allocator(t);
}

bool registration_not_written() {
  return registration().not_written;
}

const FastKernels& fast_kernels() {
  static const FastKernels none{};
  return tier() == Tier::kFast ? registered() : none;
}

}  // namespace tinytorch::kernels
