// TINYTORCH_CPU_CAPABILITY for the scope of a test: the low-precision kernels and GEMMs read it on
// every call, so a test can run each instruction-set level in turn. Shared by the suite's files
// (one definition: they may be compiled as one translation unit, cmake/TinyTorchModules.cmake).
#pragma once

#include <cstdlib>

namespace tinytorch::amp_tests {

class CapabilityGuard {
 public:
  explicit CapabilityGuard(const char* level) { setenv("TINYTORCH_CPU_CAPABILITY", level, 1); }
  ~CapabilityGuard() { unsetenv("TINYTORCH_CPU_CAPABILITY"); }
  CapabilityGuard(const CapabilityGuard&) = delete;
  CapabilityGuard& operator=(const CapabilityGuard&) = delete;
};

}  // namespace tinytorch::amp_tests
