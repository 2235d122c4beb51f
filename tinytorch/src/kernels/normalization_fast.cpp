// The fast tier's LayerNorm (kernels/normalization.h): the kernels of normalization_simd.h on the
// widest instruction set the CPU has (AVX-512, AVX2 or portable C++). Module 13's op splits the
// rows over the threads; these run one block of rows each.
#include <cstdint>

#include "isa_select.h"
#include "normalization_simd.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/normalization.h"
#include "vec_policy.h"

namespace tinytorch::kernels {
namespace {

using normalization_detail::NormalizationIsa;

// The kernels this CPU runs (get_cpu_capability, which TINYTORCH_CPU_CAPABILITY may cap).
const NormalizationIsa& isa() {
  static const NormalizationIsa portable = normalization_detail::normalization_isa<Scalar>();
#ifdef TINYTORCH_GEMM_X86
  return isa_for_cpu<NormalizationIsa, normalization_detail::normalization_avx2,
                     normalization_detail::normalization_avx512>(portable);
#else
  return portable;
#endif
}

}  // namespace

void layer_norm_forward_fast(int64_t M, int64_t N, const float* x, const float* weight,
                             const float* bias, double eps, float* y, double* mean, double* rstd) {
  isa().layer_norm_forward(M, N, x, weight, bias, eps, y, mean, rstd);
}

void layer_norm_backward_fast(int64_t M, int64_t N, const float* gy, const float* x,
                              const double* mean, const double* rstd, const float* weight,
                              float* gx, double* grad_weight_acc, double* grad_bias_acc) {
  isa().layer_norm_backward(M, N, gy, x, mean, rstd, weight, gx, grad_weight_acc, grad_bias_acc);
}

}  // namespace tinytorch::kernels
