// tinytorch/autograd/grad_mode.h — the switch that says whether ops record a graph.
//
//   {
//     tinytorch::NoGradGuard no_grad;   // GradMode off on THIS thread until the scope ends
//     w.sub_(w.grad() * lr);            // an optimizer step: not part of any graph
//   }
//
// The flag is thread_local, as in PyTorch: a DataLoader worker or a second training thread has
// its own, and a guard in one thread never changes what another records.
#pragma once

namespace tinytorch {

struct GradMode {
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// Sets grad mode for the lifetime of the guard, then restores what was there before.
class AutoGradMode {
 public:
  explicit AutoGradMode(bool enabled) : prev_(GradMode::is_enabled()) {
    GradMode::set_enabled(enabled);
  }
  ~AutoGradMode() { GradMode::set_enabled(prev_); }
  AutoGradMode(const AutoGradMode&) = delete;
  AutoGradMode& operator=(const AutoGradMode&) = delete;

 private:
  bool prev_;
};

// torch::NoGradGuard: nothing computed inside the scope is recorded for backward.
struct NoGradGuard : AutoGradMode {
  NoGradGuard() : AutoGradMode(false) {}
};

}  // namespace tinytorch
