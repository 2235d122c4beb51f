// The int8 GEMM's entry points and the dynamically quantized Linear (kernels/qgemm.h): argument
// checks, the tier's packing, and the quantize → int32 GEMM → dequantize pipeline. The integer
// arithmetic itself is in qgemm_reference.cpp (the learner's loop) and qgemm_fast.cpp.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/qgemm.h"
#include "tinytorch/kernels/registry.h"

namespace tinytorch::kernels {
namespace {

// The reference tier's "packing" is B itself, [N, K] row-major.
void gemm_plain(int64_t M, const uint8_t* A, int64_t lda, const PackedInt8Weight& B, int32_t* C,
                int64_t ldc) {
  qgemm_u8s8_reference(M, B.out_features, B.in_features, A, lda, B.data.data(), B.in_features, C,
                       ldc);
}

PackedInt8Weight pack_plain(int64_t N, int64_t K, const int8_t* B, int64_t ldb) {
  PackedInt8Weight packed;
  packed.out_features = N;
  packed.in_features = K;
  packed.data.resize(static_cast<size_t>(N * K));
  packed.row_sums.assign(static_cast<size_t>(N), 0);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t k = 0; k < K; ++k) {
      packed.data[n * K + k] = B[n * ldb + k];
      packed.row_sums[n] += B[n * ldb + k];
    }
  }
  packed.gemm = &gemm_plain;
  packed.unpack = [](const PackedInt8Weight& w, int8_t* B) {
    std::copy(w.data.begin(), w.data.end(), B);
  };
  return packed;
}

// Activations are quantized to [0, kActivationMax]: 7 bits (reduce_range), so that AVX2's
// vpmaddubsw pair sums cannot saturate (kernels/qgemm.h).
constexpr int32_t kActivationMax = 127;

}  // namespace

PackedInt8Weight pack_int8_weight(int64_t N, int64_t K, const int8_t* B, int64_t ldb) {
  TT_CHECK_VALUE(N >= 0 && K >= 0, "pack_int8_weight: sizes must be >= 0, got N=", N, " K=", K);
  TT_CHECK_VALUE(K <= kQGemmMaxK, "pack_int8_weight: K=", K, " exceeds kQGemmMaxK=", kQGemmMaxK,
                 " (int32 accumulation would overflow)");
  TT_CHECK_VALUE(ldb >= K, "pack_int8_weight: ldb=", ldb, " must be >= K=", K);
  TT_CHECK(B != nullptr || N * K == 0, "pack_int8_weight: B is null");
  if (const auto pack = fast_kernels().qgemm.pack) return pack(N, K, B, ldb);
  return pack_plain(N, K, B, ldb);
}

std::vector<int8_t> unpack_int8_weight(const PackedInt8Weight& packed) {
  TT_CHECK(packed.unpack != nullptr, "unpack_int8_weight: the weight was not packed");
  std::vector<int8_t> B(static_cast<size_t>(packed.out_features * packed.in_features));
  packed.unpack(packed, B.data());
  return B;
}

void qgemm_packed(int64_t M, const uint8_t* A, int64_t lda, const PackedInt8Weight& B, int32_t* C,
                  int64_t ldc) {
  TT_CHECK(B.gemm != nullptr, "qgemm_packed: B was not packed (use pack_int8_weight)");
  TT_CHECK_VALUE(M >= 0, "qgemm_packed: M must be >= 0, got ", M);
  TT_CHECK_VALUE(lda >= B.in_features, "qgemm_packed: lda=", lda, " must be >= K=", B.in_features);
  TT_CHECK_VALUE(ldc >= B.out_features, "qgemm_packed: ldc=", ldc,
                 " must be >= N=", B.out_features);
  B.gemm(M, A, lda, B, C, ldc);
}

DynamicQuantLinear dynamic_quant_linear_from_int8(int64_t N, int64_t K, const int8_t* q,
                                                  std::vector<float> scales, const float* bias) {
  TT_CHECK_VALUE(N > 0 && K > 0,
                 "dynamic_quant_linear_from_int8: expected N > 0 and K > 0, got N=", N, " K=", K);
  TT_CHECK_VALUE(scales.size() == 1 || std::cmp_equal(scales.size(), N),
                 "dynamic_quant_linear_from_int8: expected 1 or N=", N, " weight scales, got ",
                 scales.size());
  for (const float s : scales) {
    TT_CHECK_VALUE(std::isfinite(s) && s > 0.0f,
                   "dynamic_quant_linear_from_int8: weight scales must be finite and > 0, got ", s);
  }
  // The layer's weights are symmetric, [−127, 127] (nn/quantized_linear.cpp says why): −128 can
  // only come from a file written by something else. (The GEMM itself would be exact with it.)
  const auto* bad = std::find(q, q + N * K, std::numeric_limits<int8_t>::min());
  TT_CHECK_VALUE(bad == q + N * K, "dynamic_quant_linear_from_int8: weight[", (bad - q) / K, ", ",
                 (bad - q) % K, "] is -128; expected values in [-127, 127]");
  DynamicQuantLinear layer{pack_int8_weight(N, K, q, K), std::move(scales), {}};
  if (bias != nullptr) layer.bias.assign(bias, bias + N);
  return layer;
}

ActivationQuantParams choose_activation_qparams(float x_min, float x_max) {
  // The range must contain 0 so that 0.0 quantizes exactly (to the zero point).
  const float lo = std::min(x_min, 0.0f), hi = std::max(x_max, 0.0f);
  ActivationQuantParams p;
  p.scale = (hi - lo) / static_cast<float>(kActivationMax);
  if (!(p.scale > 0.0f)) p.scale = 1.0f;  // all zeros: any scale is exact
  // lo maps to 0 and hi to 127: zp = round(−lo / scale), in [0, 127] since lo ≤ 0 ≤ hi.
  p.zero_point = std::clamp(static_cast<int32_t>(std::nearbyint(-lo / p.scale)), 0, kActivationMax);
  return p;
}

void minmax_plain(int64_t n, const float* x, float* lo, float* hi) {
  float l = 0.0f, h = 0.0f;
  bool nan = false;
  for (int64_t i = 0; i < n; ++i) {
    nan |= std::isnan(x[i]);
    l = std::min(l, x[i]);
    h = std::max(h, x[i]);
  }
  *lo = nan ? std::numeric_limits<float>::quiet_NaN() : l;
  *hi = h;
}

void quantize_plain(int64_t n, const float* x, float inv_scale, int32_t zero_point, uint8_t* q) {
  for (int64_t i = 0; i < n; ++i) {
    // nearbyint rounds half to even (the default rounding mode), as vcvtps2dq does.
    const float r = std::nearbyint(x[i] * inv_scale) + static_cast<float>(zero_point);
    q[i] = static_cast<uint8_t>(std::clamp(r, 0.0f, static_cast<float>(kActivationMax)));
  }
}

void dequantize_plain(int64_t n, const int32_t* c, const float* scale, const int32_t* correction,
                      const float* bias, float* y) {
  for (int64_t j = 0; j < n; ++j)
    y[j] = scale[j] * static_cast<float>(c[j] - correction[j]) + bias[j];
}

// NOTE: why blocks of rows, each quantized, multiplied and dequantized by ONE thread. The first
// version quantized the whole batch on the calling thread, then ran the GEMM on every thread.
// Each call then rewrote q_x while the other core's cache still held the copy it had read in the
// last call: every one of those cache lines had to be taken back from the other core before the
// write (a round trip through the shared L3, ~35 ns a line). Measured on a 2-core Zen 4, 784→256
// at batch 256: quantizing took 0.113 ms instead of 0.015, and 2 threads were no faster than one.
// Now a block's q_x and int32 C live in buffers of the thread that runs the block (in its own L1
// and L2), and only x (read) and y (written once) are shared.
void dynamic_quant_linear(const DynamicQuantLinear& layer, int64_t M, const float* x, float* y) {
  const PackedInt8Weight& w = layer.weight;
  const int64_t N = w.out_features, K = w.in_features;
  TT_CHECK_VALUE(M >= 0, "dynamic_quant_linear: M must be >= 0, got ", M);
  if (M == 0) return;
  const QGemmKernels& fast = fast_kernels().qgemm;
  const MinMaxFn minmax = fast.minmax != nullptr ? fast.minmax : &minmax_plain;
  const QuantizeFn quantize = fast.quantize != nullptr ? fast.quantize : &quantize_plain;
  const DequantizeFn dequantize = fast.dequantize != nullptr ? fast.dequantize : &dequantize_plain;

  // Blocks of up to kRowBlock rows, at least two per thread when the batch allows (so that a
  // thread that finishes early, or a helper that joins late, still finds one), 8-row aligned
  // (the micro-kernels' tile height). Below ~64³ multiply-adds the pool is not worth waking.
  constexpr int64_t kRowBlock = 64;
  const int64_t threads = get_num_threads();
  const int64_t per_block = (M + 2 * threads - 1) / (2 * threads);
  const int64_t rows = std::clamp<int64_t>((per_block + 7) / 8 * 8, 8, kRowBlock);
  const int64_t blocks = (M + rows - 1) / rows;
  const bool small =
      static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) < 64.0 * 64 * 64;
  const auto for_each_block = [&](const auto& body) {
    const auto run = [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) body(b * rows, std::min(M, (b + 1) * rows));
    };
    if (small) {
      run(0, blocks);
    } else {
      parallel_for(0, blocks, 1, run);
    }
  };

  // 1. The batch's range, widened to include 0 → (scale, zero point). O(M·K), per block, then
  //    the blocks' ranges combined (a NaN anywhere makes its block's lo NaN).
  std::vector<float> block_lo(static_cast<size_t>(blocks)), block_hi(static_cast<size_t>(blocks));
  for_each_block([&](int64_t m0, int64_t m1) {
    minmax((m1 - m0) * K, x + m0 * K, &block_lo[m0 / rows], &block_hi[m0 / rows]);
  });
  float lo = 0.0f, hi = 0.0f;
  bool finite = true;
  for (int64_t b = 0; b < blocks; ++b) {
    finite = finite && std::isfinite(block_lo[b]) && std::isfinite(block_hi[b]);
    lo = std::min(lo, block_lo[b]);
    hi = std::max(hi, block_hi[b]);
  }
  TT_CHECK_VALUE(finite, "dynamic_quant_linear: the input holds a NaN or an infinity");
  const ActivationQuantParams qp = choose_activation_qparams(lo, hi);

  // The epilogue's per-channel factors: y = (s_x·s_w[n])·(C − zp·Σ_k q_w[n, k]) + bias[n].
  std::vector<float> scale(static_cast<size_t>(N)), bias(static_cast<size_t>(N), 0.0f);
  std::vector<int32_t> correction(static_cast<size_t>(N));
  const bool per_channel = layer.weight_scales.size() > 1;
  for (int64_t n = 0; n < N; ++n) {
    scale[n] = qp.scale * layer.weight_scales[per_channel ? static_cast<size_t>(n) : 0];
    correction[n] = qp.zero_point * w.row_sums[n];
  }
  if (!layer.bias.empty()) bias = layer.bias;

  // 2–4, per block, on the thread that runs it (the GEMM inside runs on that thread alone):
  //   q_x = clamp(round(x / s_x) + zp, 0, 127)    [rows, K] uint8
  //   C   = q_x · q_wᵀ                            [rows, N] int32, exact
  //   y   = scale[n]·(C − correction[n]) + bias[n]
  for_each_block([&](int64_t m0, int64_t m1) {
    thread_local std::vector<uint8_t> qx;  // this thread's, kept across calls
    thread_local std::vector<int32_t> acc;
    const int64_t r = m1 - m0;
    qx.resize(static_cast<size_t>(rows * K));
    acc.resize(static_cast<size_t>(rows * N));
    quantize(r * K, x + m0 * K, 1.0f / qp.scale, qp.zero_point, qx.data());
    qgemm_packed(r, qx.data(), K, w, acc.data(), N);
    for (int64_t i = 0; i < r; ++i) {
      dequantize(N, acc.data() + i * N, scale.data(), correction.data(), bias.data(),
                 y + (m0 + i) * N);
    }
  });
}

}  // namespace tinytorch::kernels
