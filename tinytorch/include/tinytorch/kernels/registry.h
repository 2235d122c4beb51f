// tinytorch/kernels/registry.h — which tier of kernels the ops call: reference or fast.
//
// Every op has a plain reference kernel (module 01: readable, the ground truth). Module 18 adds
// fast kernels (blocked, SIMD, threaded) and REGISTERS them here; ops ask the registry and fall
// back to the reference kernel for anything not registered:
//
//   matmul ──► fast_kernels().sgemm ? gemm_fast(...)       (module 18, when registered)
//                                   : gemm_reference(...)  (module 01)
//
// The reference tier can be forced, to compare or to debug:
//   tinytorch::kernels::set_tier(Tier::kReference);     or     TINYTORCH_KERNELS=reference
#pragma once

#include <cstdint>

#include "tinytorch/kernels/activation.h"
#include "tinytorch/kernels/normalization.h"
#include "tinytorch/kernels/softmax.h"
#include "tinytorch/kernels/spatial.h"
// module 12 (attention)
#include "tinytorch/kernels/attention.h"
// module 15 (quantization)
#include "tinytorch/kernels/qgemm.h"

namespace tinytorch::kernels {

enum class Tier { kReference, kFast };

// The tier in force: kFast unless TINYTORCH_KERNELS=reference was set in the environment (read
// once, at first use) or set_tier(kReference) was called.
Tier tier();
void set_tier(Tier tier);

// Sets the tier for a scope and restores the one before (as NoGradGuard does for grad mode):
//   { kernels::TierGuard guard(Tier::kReference); ... }   // reference kernels in here only
class TierGuard {
 public:
  explicit TierGuard(Tier t) : before_(tier()) { set_tier(t); }
  ~TierGuard() { set_tier(before_); }
  TierGuard(const TierGuard&) = delete;
  TierGuard& operator=(const TierGuard&) = delete;

 private:
  Tier before_;
};

// C[M×N] = alpha · op(A) · op(B) + beta · C, row-major (see kernels/gemm.h for the conventions).
template <typename T>
using GemmFn = void (*)(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
                        const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C,
                        int64_t ldc);

struct FastKernels {
  GemmFn<float> sgemm = nullptr;
  GemmFn<double> dgemm = nullptr;
  SpatialKernels spatial;          // convolution, pooling, batch norm (float32; kernels/spatial.h)
  bool caching_allocator = false;  // install the caching allocator (core/caching_allocator.h)
  // module 12: fused scaled-dot-product attention (float32; kernels/attention.h)
  AttentionKernels attention;
  // GELU's SIMD kernels (float32; kernels/activation.h): the transformer MLP's activation
  ActivationKernels activation;
  // LayerNorm's SIMD kernels (float32; kernels/normalization.h): the transformer's nine per step
  NormalizationKernels normalization;
  // softmax and log_softmax, forward and backward (float32; kernels/softmax.h): every attention
  // probability and every cross_entropy
  SoftmaxKernels softmax;
  // module 15: the int8 GEMM's weight packing for the micro-kernels (kernels/qgemm.h)
  QGemmKernels qgemm;
};

// The fast kernels registered by module 18 — all null when the tier is kReference, or when the
// learner has not written module 18 yet (its registration function then throws
// NotImplementedError, which the registry catches: the reference kernels are used instead).
const FastKernels& fast_kernels();

// Module 18's registration function (src/kernels/fast_registry.cpp).
void register_fast_kernels(FastKernels& kernels);

}  // namespace tinytorch::kernels
