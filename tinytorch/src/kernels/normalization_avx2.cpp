// The LayerNorm kernels for AVX2 (normalization_simd.h). This file alone is compiled with the
// instruction set's flags (see tinytorch/CMakeLists.txt); normalization_fast.cpp calls it only on
// CPUs that have them.
#include "normalization_simd.h"
#include "vec_policy.h"

namespace tinytorch::kernels::normalization_detail {

NormalizationIsa normalization_avx2() {
  return normalization_isa<Avx2>();
}

}  // namespace tinytorch::kernels::normalization_detail
