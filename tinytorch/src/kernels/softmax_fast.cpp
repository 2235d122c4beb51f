// The fast tier's softmax and log_softmax (kernels/softmax.h): the kernels of softmax_simd.h on
// the widest instruction set the CPU has (AVX-512, AVX2 or portable C++). Module 02's op splits the
// rows over the threads; these run one range of rows each.
#include <cstdint>

#include "isa_select.h"
#include "softmax_simd.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/softmax.h"
#include "vec_policy.h"

namespace tinytorch::kernels {
namespace {

using softmax_detail::SoftmaxIsa;

// The kernels this CPU runs (get_cpu_capability, which TINYTORCH_CPU_CAPABILITY may cap).
const SoftmaxIsa& isa() {
  static const SoftmaxIsa portable = softmax_detail::softmax_isa<Scalar>();
#ifdef TINYTORCH_GEMM_X86
  return isa_for_cpu<SoftmaxIsa, softmax_detail::softmax_avx2, softmax_detail::softmax_avx512>(
      portable);
#else
  return portable;
#endif
}

}  // namespace

void softmax_fast(const float* x, float* y, int64_t n, int64_t inner, int64_t row_begin,
                  int64_t row_end) {
  isa().softmax(x, y, n, inner, row_begin, row_end);
}

void log_softmax_fast(const float* x, float* y, int64_t n, int64_t inner, int64_t row_begin,
                      int64_t row_end) {
  isa().log_softmax(x, y, n, inner, row_begin, row_end);
}

void softmax_backward_fast(const float* grad, const float* y, float* grad_input, int64_t outer,
                           int64_t n, int64_t inner, int64_t row_begin, int64_t row_end) {
  const SoftmaxIsa& kernels = isa();
  // Streaming the stores of rows along the last dim: see "storing a gradient" in softmax_simd.h.
  (amd_rule("TINYTORCH_SOFTMAX_STREAM_ROWS")
       ? kernels.softmax_backward_rows_streamed
       : kernels.softmax_backward)(grad, y, grad_input, outer, n, inner, row_begin, row_end);
}

void log_softmax_backward_fast(const float* grad, const float* y, float* grad_input, int64_t outer,
                               int64_t n, int64_t inner, int64_t row_begin, int64_t row_end) {
  isa().log_softmax_backward(grad, y, grad_input, outer, n, inner, row_begin, row_end);
}

void exp_fast(const float* x, float* y, int64_t n) {
  isa().exp(x, y, n);
}

void log_fast(const float* x, float* y, int64_t n) {
  isa().log(x, y, n);
}

}  // namespace tinytorch::kernels
