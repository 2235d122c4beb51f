// The LayerNorm kernels for AVX512 (normalization_simd.h). This file alone is compiled with the
// instruction set's flags (see tinytorch/CMakeLists.txt); normalization_fast.cpp calls it only on
// CPUs that have them.
#include "normalization_simd.h"
#include "vec_policy.h"

namespace tinytorch::kernels::normalization_detail {

NormalizationIsa normalization_avx512() {
  return normalization_isa<Avx512>();
}

}  // namespace tinytorch::kernels::normalization_detail
