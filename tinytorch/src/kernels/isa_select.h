// The kernels of the widest instruction set this CPU has, for a kernel family written over the
// vector policies of vec_policy.h (attention_fast.cpp, activation_fast.cpp), and the rules that
// depend on the CPU's vendor. Private to src/kernels; included only by files compiled for
// baseline x86-64.
#pragma once

#include <optional>

#include "tinytorch/kernels/gemm.h"

namespace tinytorch::kernels {

// Isa is the family's struct of function pointers; kAvx2 / kAvx512 return it for their instruction
// set (defined in the family's *_avx2.cpp / *_avx512.cpp, which exist on x86 only: callers use
// this under TINYTORCH_GEMM_X86). get_cpu_capability() honours TINYTORCH_CPU_CAPABILITY, so each
// level keeps its own copy, made on first use.
template <typename Isa, Isa (*kAvx2)(), Isa (*kAvx512)()>
const Isa& isa_for_cpu(const Isa& portable) {
  switch (get_cpu_capability()) {
    case CpuCapability::kAvx512: {
      static const Isa kernels = kAvx512();
      return kernels;
    }
    case CpuCapability::kAvx2: {
      static const Isa kernels = kAvx2();
      return kernels;
    }
    case CpuCapability::kDefault:
      break;
  }
  return portable;
}

// A tuning rule measured to pay on AMD CPUs and to cost time on Intel ones (their prefetchers and
// store paths differ): on by default on an AMD CPU only. The environment variable `variable` = 1
// or 0 forces it on or off, so that the tests run both paths on any CPU; it is read on every call.
// Any other non-empty value throws ValueError naming the variable. (Defined in gemm_fast.cpp, by
// get_cpu_capability, as the two below.)
bool amd_rule(const char* variable);
// The setting `variable` forces (1: true, 0: false), or nullopt when it is unset or empty: for a
// rule whose default is more than amd_cpu() (gemm_fast.cpp, "Which CPUs read in place").
std::optional<bool> forced_rule(const char* variable);
// Whether this is an AMD CPU (false where the x86 kernels are not built).
bool amd_cpu();

}  // namespace tinytorch::kernels
