// tinytorch/kernels/registry.h — which tier of kernels the ops call: reference or fast.
//
// Two tiers, one contract:
//   * the REFERENCE tier is the learner's code: every op's plain kernel, written in the op's own
//     module (the GEMM in 01, GELU in 02, convolution, pooling and batch norm in 09, attention in
//     12, LayerNorm in 13, the int8 GEMM in 15) — readable, the ground truth;
//   * the FAST tier is GIVEN code (blocked, SIMD, threaded: src/kernels/*_fast.cpp), tested
//     against the reference. Module 18's learner REGISTERS it here, entry by entry; an op asks the
//     registry and falls back to its reference kernel for any entry not registered:
//
//   matmul ──► fast_kernels().sgemm ? gemm_fast(...)       (given; registered in module 18)
//                                   : gemm_reference(...)  (the learner's, module 01)
//
// The fast kernels are float32 (the GEMM also float64); other dtypes always run the reference.
// The reference tier can be forced, to compare or to debug:
//   tinytorch::kernels::set_tier(Tier::kReference);     or     TINYTORCH_KERNELS=reference
// and which_code_runs() below says, for every op family, whose code runs now.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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
  // GELU, sigmoid, tanh SIMD kernels (float32; kernels/activation.h): MLPs', LSTMs' activations
  ActivationKernels activation;
  // LayerNorm's SIMD kernels (float32; kernels/normalization.h): the transformer's nine per step
  NormalizationKernels normalization;
  // softmax and log_softmax, forward and backward (float32; kernels/softmax.h): every attention
  // probability and every cross_entropy
  SoftmaxKernels softmax;
  // module 15: the int8 GEMM's weight packing for the micro-kernels (kernels/qgemm.h)
  QGemmKernels qgemm;
  // module 11: nn::LSTM's float32 layers, each direction one fused autograd node that runs the
  // recurrence on the GEMM, sigmoid and tanh above (given code: src/nn/lstm_fused.cpp) in place
  // of T steps of module 11's lstm_step
  bool lstm_layer = false;
};

// The fast kernels registered by module 18 — all null when the tier is kReference, or when the
// learner has not written module 18 yet (its registration function then throws
// NotImplementedError, which the registry catches: the reference kernels are used instead).
const FastKernels& fast_kernels();

// Module 18's registration function (src/kernels/fast_registry.cpp).
void register_fast_kernels(FastKernels& kernels);

// Whether register_fast_kernels is still the release's stub (it threw NotImplementedError: module
// 18 not written yet, so nothing is registered).
bool registration_not_written();

// ── Which code runs ─────────────────────────────────────────────────────────────────────────
// For every op family with a fast tier, whose code runs for float32 — the learner's reference
// code (their module's files, or the release's compiled reference objects of that module when
// `tito module use-reference NN` chose them) or the given fast kernels — and how many of the
// family's registry entries are filled. Milestones and labs print the report when they start.
//
//   Which code runs — kernel tier: fast
//     GEMM (matmul, Linear)         given fast kernels      else module 01, yours
//     convolution                   given, 1 of 3           else module 09, yours; not registered:
//                                                           spatial.conv2d_backward_input ...
//     int8 GEMM (quantized Linear)  module 15, reference objects
//     ...
//     fast kernels registered by module 18, yours; caching allocator on

enum class CodeSource {
  kLearner,           // the module's files, written by the learner
  kReferenceObjects,  // the release's compiled reference of the module (tito module use-reference)
  kGivenFast,         // the fast tier's given kernels (src/kernels/*_fast.cpp)
};

struct OpFamilyCode {
  std::string family;  // "convolution"
  std::string module;  // "09": the module whose files hold the family's reference code
  CodeSource reference = CodeSource::kLearner;  // who provides it (kLearner / kReferenceObjects)
  CodeSource runs = CodeSource::kLearner;       // what float32 runs now: `reference` or kGivenFast
  int registered = 0;                           // fast entries registered, of `entries`
  int entries = 0;                              // (runs == kGivenFast only when all of them are)
  std::vector<std::string> missing;  // the entries not registered, e.g. "spatial.conv2d_forward"
};

struct WhichCode {
  Tier tier = Tier::kFast;
  bool registration_not_written = false;           // module 18's stub registered nothing
  CodeSource registration = CodeSource::kLearner;  // who wrote register_fast_kernels
  bool caching_allocator = false;                  // installed by the fast tier
  std::vector<OpFamilyCode> families;              // GEMM, convolution, ..., int8 GEMM
  std::vector<std::string> reference_modules;      // linked from reference objects: "02", ...
};

// The answer for given inputs: `kernels` is what the tier in force exposes (fast_kernels()),
// `reference_modules` the modules linked from reference objects ("02 09", space-separated).
WhichCode which_code_runs(const FastKernels& kernels, Tier tier, bool registration_not_written,
                          std::string_view reference_modules);
// The answer for this process: the tier in force, the registry, and the modules this build links
// from reference objects (cmake/TinyTorchReference.cmake passes them in).
WhichCode which_code_runs();
// The block printed by every milestone and lab at start (lines end in '\n'), for `code` or for
// this process (which_code_runs()).
std::string which_code_report(const WhichCode& code);
std::string which_code_report();
// "yours" / "reference objects" / "given fast kernels".
std::string_view code_source_name(CodeSource source);

}  // namespace tinytorch::kernels
