#include "tinytorch/autograd/grad_mode.h"

namespace tinytorch {

namespace {
// One flag per thread, on by default (PyTorch's GradMode is thread-local too).
thread_local bool t_grad_enabled = true;
}  // namespace

bool GradMode::is_enabled() {
  return t_grad_enabled;
}

void GradMode::set_enabled(bool enabled) {
  t_grad_enabled = enabled;
}

}  // namespace tinytorch
