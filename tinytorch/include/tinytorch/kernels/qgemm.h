// tinytorch/kernels/qgemm.h — module 15's integer GEMM and the dynamically quantized Linear.
//
// The int8 GEMM computes in integers, never in floats:
//
//   C[M, N] (int32) = A[M, K] (uint8 activations) · B[N, K]ᵀ (int8 weights)
//   C[m, n] = Σ_k A[m, k] · B[n, k]        exact: every product fits 16 bits, the sum 32 bits
//
// B is stored like a Linear weight, [out_features, in_features] = [N, K] row-major, so C = A · Bᵀ
// is a Linear layer's forward before its scales. The learner writes the reference loop
// (qgemm_u8s8_reference, src/kernels/qgemm_reference.cpp); module 18's fast tier adds packed
// weights and SIMD micro-kernels (src/kernels/qgemm_fast.cpp):
//
//   pack_int8_weight(B)   ONCE, when a layer is quantized (PyTorch/fbgemm: PackedLinearWeight)
//        │   fast tier:      B re-laid into 16-column micro-panels, K padded to 4 (qgemm_fast.cpp)
//        │   reference tier: B copied as it is ([N, K])
//        ▼
//   PackedInt8Weight ──► qgemm_packed(A, packed, C)   every call, with the kernel that packed it
//
// Exactness contract (every tier, every CPU): C is the exact integer result for ANY uint8 A and
// int8 B with K ≤ kQGemmMaxK. The fast AVX2 kernel multiplies with vpmaddubsw, whose int16 pair
// sums saturate unless A ≤ 127 (127·(−128)·2 = −32512 ≥ −32768, but 255·(−128)·2 = −65280 is not):
// qgemm_packed checks A's maximum first and runs an exact kernel (AVX-512 VNNI's vpdpbusd, which
// sums into int32, or the portable one) when some A > 127. The dynamic Linear below quantizes its
// activations to 7 bits (reduce_range, as PyTorch does on x86) so that it always takes the fast
// path.
#pragma once

#include <cstdint>
#include <vector>

namespace tinytorch::kernels {

// K up to which int32 cannot overflow: |Σ_k A·B| ≤ K·255·128 < 2³¹, and the dynamic Linear's
// zero-point correction zp·Σ_k B (zp ≤ 127) adds less than that again.
inline constexpr int64_t kQGemmMaxK = 32768;

// The learner's loop (module 15): C[m·ldc + n] = Σ_{k<K} A[m·lda + k] · B[n·ldb + k], C
// overwritten. Requires lda ≥ K, ldb ≥ K, ldc ≥ N (checked by the callers).
void qgemm_u8s8_reference(int64_t M, int64_t N, int64_t K, const uint8_t* A, int64_t lda,
                          const int8_t* B, int64_t ldb, int32_t* C, int64_t ldc);

struct PackedInt8Weight;

// C[M, N] = A[M, K] · Bᵀ for a packed B; the kernel that can read the packing.
using QGemmPackedFn = void (*)(int64_t M, const uint8_t* A, int64_t lda, const PackedInt8Weight& B,
                               int32_t* C, int64_t ldc);
// Writes the packed weight back as B[N, K], row-major (PyTorch's packed params' unpack()).
using QGemmUnpackFn = void (*)(const PackedInt8Weight& packed, int8_t* B);

// An int8 weight B[N, K] in the layout of the kernel that packed it, with its row sums.
struct PackedInt8Weight {
  int64_t out_features = 0;        // N
  int64_t in_features = 0;         // K
  std::vector<int8_t> data;        // the packed bytes (layout: the packing kernel's)
  std::vector<int32_t> row_sums;   // [N]: Σ_k B[n, k], for the zero-point correction
  QGemmPackedFn gemm = nullptr;    // the kernel that reads `data` (set by the packer)
  QGemmUnpackFn unpack = nullptr;  // its inverse (set by the packer)
};

// Packs B[N, K] (row stride ldb ≥ K) for the tier in force: the fast kernels' micro-panels when
// module 18 registered them, else a plain copy read by the reference loop. Throws
// tinytorch::Error for negative sizes, ldb < K or K > kQGemmMaxK.
PackedInt8Weight pack_int8_weight(int64_t N, int64_t K, const int8_t* B, int64_t ldb);

// B[N, K] row-major, as it was given to the packer: what an exported model file stores (module
// 20), since the packing depends on the machine that loads it.
std::vector<int8_t> unpack_int8_weight(const PackedInt8Weight& packed);
// C[M, N] (row stride ldc ≥ N, overwritten) = A[M, K] (row stride lda ≥ K) · Bᵀ, exact, with the
// kernel that packed B (whatever the tier now). Threads: tinytorch::get_num_threads().
void qgemm_packed(int64_t M, const uint8_t* A, int64_t lda, const PackedInt8Weight& B, int32_t* C,
                  int64_t ldc);

// The fast tier (module 18, src/kernels/qgemm_fast.cpp): packs into 16-column micro-panels; the
// packed weight's gemm picks AVX-512 VNNI, AVX2 or portable C++ at each call (get_cpu_capability
// and the CPU's avx512_vnni flag).
PackedInt8Weight pack_int8_weight_fast(int64_t N, int64_t K, const int8_t* B, int64_t ldb);

// "AVX512_VNNI", "AVX2" or "DEFAULT": the micro-kernel pack_int8_weight_fast's weights run now
// (for a call whose activations are all ≤ 127).
const char* qgemm_fast_isa();

// The dynamic Linear's passes over activations and outputs (below), element by element:
//   minmax:     *lo = min(0, x…), *hi = max(0, x…); NaN in *lo when some x is NaN
//   quantize:   q[i] = clamp(round_half_even(x[i] · inv_scale) + zero_point, 0, 127)
//   dequantize: y[j] = scale[j] · float(c[j] − correction[j]) + bias[j]   (one row of N)
// Every tier computes them with the same float operations, so their results are identical.
using MinMaxFn = void (*)(int64_t n, const float* x, float* lo, float* hi);
using QuantizeFn = void (*)(int64_t n, const float* x, float inv_scale, int32_t zero_point,
                            uint8_t* q);
using DequantizeFn = void (*)(int64_t n, const int32_t* c, const float* scale,
                              const int32_t* correction, const float* bias, float* y);

// The fast kernels module 18 registers (FastKernels::qgemm in kernels/registry.h).
struct QGemmKernels {
  PackedInt8Weight (*pack)(int64_t N, int64_t K, const int8_t* B, int64_t ldb) = nullptr;
  MinMaxFn minmax = nullptr;
  QuantizeFn quantize = nullptr;
  DequantizeFn dequantize = nullptr;
};

// The fast tier's passes (src/kernels/qgemm_fast.cpp: AVX2 when the CPU has it, else the plain
// loops below).
void minmax_fast(int64_t n, const float* x, float* lo, float* hi);
void quantize_fast(int64_t n, const float* x, float inv_scale, int32_t zero_point, uint8_t* q);
void dequantize_fast(int64_t n, const int32_t* c, const float* scale, const int32_t* correction,
                     const float* bias, float* y);
// The plain loops (src/kernels/qgemm.cpp), used by the reference tier and for vector tails.
void minmax_plain(int64_t n, const float* x, float* lo, float* hi);
void quantize_plain(int64_t n, const float* x, float inv_scale, int32_t zero_point, uint8_t* q);
void dequantize_plain(int64_t n, const int32_t* c, const float* scale, const int32_t* correction,
                      const float* bias, float* y);

// ---------------------------------------------------------------------------------------------
// The dynamically quantized Linear (PyTorch: torch.ao.nn.quantized.dynamic.Linear), on raw
// buffers. Weights are quantized once, by the module (nn/modules/quantized_linear.h: module 15's
// weight observer, symmetric int8 in [−127, 127] with zero point 0, per output channel or per
// tensor); activations on every call (asymmetric uint8 over [0, 127], from that batch's min and
// max), then
//
//   y[m, n] = s_x · s_w[n] · (C[m, n] − zp_x · Σ_k B[n, k]) + bias[n],   C = q_x · q_wᵀ (int32)
//
// which is Σ_k (s_x·(q_x[m,k] − zp_x)) · (s_w[n]·q_w[n,k]) + bias[n]: the float Linear on the
// dequantized operands, computed with one int32 GEMM and a per-element epilogue.
// ---------------------------------------------------------------------------------------------

struct DynamicQuantLinear {
  PackedInt8Weight weight;           // q_w [N, K], packed
  std::vector<float> weight_scales;  // [N] per channel, or [1] per tensor
  std::vector<float> bias;           // [N], or empty
};

// The layer from weights that are already quantized (by nn::quantized::dynamic::Linear's
// observer, or read from a model file): q [N, K] in [−127, 127], row-major, packed here
// (pack_int8_weight); scales [N] or [1] (finite, > 0); bias [N] or null. Throws tinytorch::Error
// for anything outside those ranges.
DynamicQuantLinear dynamic_quant_linear_from_int8(int64_t N, int64_t K, const int8_t* q,
                                                  std::vector<float> scales, const float* bias);

// The activation quantization of one call: x ≈ scale · (q − zero_point), q in [0, 127].
struct ActivationQuantParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// PyTorch's choose_qparams for uint8 with reduce_range over [min(x), max(x)] widened to include 0
// (so that 0 is exact: zero padding and ReLU outputs stay exact).
ActivationQuantParams choose_activation_qparams(float x_min, float x_max);

// y[M, N] = x[M, K] · Wᵀ + bias through int8 (x and y row-major, contiguous). Throws
// tinytorch::Error for a non-finite x.
void dynamic_quant_linear(const DynamicQuantLinear& layer, int64_t M, const float* x, float* y);

}  // namespace tinytorch::kernels
