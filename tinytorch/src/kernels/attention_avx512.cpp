// The attention kernels for AVX-512 (attention_simd.h). This file alone is compiled with
// -mavx512f -mfma (see tinytorch/CMakeLists.txt); attention_fast.cpp calls it only on CPUs that
// have AVX-512F.
#include <immintrin.h>

#include "attention_simd.h"
#include "vec_policy.h"

namespace tinytorch::kernels::attention_detail {
AttentionIsa attention_avx512() {
  return attention_isa<Avx512>();
}

}  // namespace tinytorch::kernels::attention_detail
