// The attention kernels for AVX2/FMA (attention_simd.h). This file alone is compiled with
// -mavx2 -mfma (see tinytorch/CMakeLists.txt); attention_fast.cpp calls it only on CPUs that have
// both.
#include <immintrin.h>

#include "attention_simd.h"
#include "vec_policy.h"

namespace tinytorch::kernels::attention_detail {
AttentionIsa attention_avx2() {
  return attention_isa<Avx2>();
}

}  // namespace tinytorch::kernels::attention_detail
