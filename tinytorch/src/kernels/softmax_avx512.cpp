// The softmax kernels for AVX-512 (softmax_simd.h). This file alone is compiled with the
// instruction set's flags (see tinytorch/CMakeLists.txt); softmax_fast.cpp calls it only on CPUs
// that have them.
#include "softmax_simd.h"
#include "vec_policy.h"

namespace tinytorch::kernels::softmax_detail {

SoftmaxIsa softmax_avx512() {
  return softmax_isa<Avx512>();
}

}  // namespace tinytorch::kernels::softmax_detail
