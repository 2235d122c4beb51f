// The GELU kernels for AVX2 (activation_simd.h). This file alone is compiled with the
// instruction set's flags (see tinytorch/CMakeLists.txt); activation_fast.cpp calls it only on
// CPUs that have them.
#include "activation_simd.h"
#include "vec_policy.h"

namespace tinytorch::kernels::activation_detail {

ActivationIsa activation_avx2() {
  // Four vectors in flight (vec_policy.h's Interleaved says why).
  return activation_isa<Interleaved<Avx2, 4>>();
}

}  // namespace tinytorch::kernels::activation_detail
