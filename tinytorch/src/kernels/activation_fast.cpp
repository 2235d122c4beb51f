// The fast tier's GELU, sigmoid and tanh (kernels/activation.h): the kernels of activation_simd.h
// on the widest instruction set the CPU has (AVX-512, AVX2 or portable C++). Module 02's op splits
// the work over the threads; these run one chunk each.
#include <cstdint>

#include "activation_simd.h"
#include "isa_select.h"
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
  return isa_for_cpu<ActivationIsa, activation_detail::activation_avx2,
                     activation_detail::activation_avx512>(portable);
#else
  return portable;
#endif
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

void sigmoid_fast(const float* x, float* y, int64_t n) {
  isa().sigmoid(x, y, n);
}

void sigmoid_backward_fast(const float* grad, const float* y, float* out, int64_t n) {
  isa().sigmoid_backward(grad, y, out, n);
}

void tanh_fast(const float* x, float* y, int64_t n) {
  isa().tanh(x, y, n);
}

void tanh_backward_fast(const float* grad, const float* y, float* out, int64_t n) {
  isa().tanh_backward(grad, y, out, n);
}

}  // namespace tinytorch::kernels
