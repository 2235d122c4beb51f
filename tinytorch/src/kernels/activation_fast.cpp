// The fast tier's GELU (kernels/activation.h): the kernels of activation_simd.h on the widest
// instruction set the CPU has (AVX-512, AVX2 or portable C++). Module 02's op splits the work over
// the threads; these run one chunk each.
#include <cstdint>

#include "activation_simd.h"
#include "tinytorch/kernels/activation.h"
#include "tinytorch/kernels/gemm.h"
#include "vec_policy.h"

namespace tinytorch::kernels {
namespace {

using activation_detail::ActivationIsa;

// The kernels this CPU runs (get_cpu_capability, which TINYTORCH_CPU_CAPABILITY may cap).
const ActivationIsa& isa() {
  static const ActivationIsa portable = activation_detail::activation_isa<Scalar>();
#ifdef TINYTORCH_GEMM_X86
  switch (get_cpu_capability()) {
    case CpuCapability::kAvx512: {
      static const ActivationIsa kernels = activation_detail::activation_avx512();
      return kernels;
    }
    case CpuCapability::kAvx2: {
      static const ActivationIsa kernels = activation_detail::activation_avx2();
      return kernels;
    }
    case CpuCapability::kDefault:
      break;
  }
#endif
  return portable;
}

}  // namespace

void gelu_fast(const float* x, float* y, int64_t n) {
  isa().gelu(x, y, n);
}

void gelu_backward_fast(const float* grad, const float* x, float* out, int64_t n) {
  isa().gelu_backward(grad, x, out, n);
}

void gelu_tanh_fast(const float* x, float* y, int64_t n) {
  isa().gelu_tanh(x, y, n);
}

void gelu_tanh_backward_fast(const float* grad, const float* x, float* out, int64_t n) {
  isa().gelu_tanh_backward(grad, x, out, n);
}

}  // namespace tinytorch::kernels
