// The micro-kernels of the fast int8 GEMM (qgemm_fast.cpp), one per instruction set. Private to
// src/kernels. As for the float GEMM (gemm_kernels.h), each SIMD kernel lives in a translation
// unit of its own compiled with that set's flags, and qgemm_fast.cpp calls it only through a
// pointer taken after checking the CPU:
//
//   qgemm_avx2.cpp          -mavx2                                vpmaddubsw + vpmaddwd + vpaddd
//   qgemm_avx512_vnni.cpp   -mavx512f -mavx512bw -mavx512vnni     vpdpbusd
//
// The packed weight (pack_int8_weight_fast): B[N, K] cut into panels of kNR = 16 output channels
// (the last one zero-filled), K padded with zeros to a multiple of 4, and inside a panel the
// 4-deep k-groups one after the other, each holding the 16 channels' 4 bytes:
//
//   panel p = columns 16p … 16p+15:   group g = k 4g … 4g+3, 64 bytes
//   ┌──────────────────────────────┬──────────────────────────────┬─────
//   │ B[n0,k0..3] B[n1,k0..3] …  B[n15,k0..3] │ B[n0,k4..7] …          │ …
//   └──────────────────────────────┴──────────────────────────────┴─────
//   panel[g·64 + j·4 + t] = B[16p + j, 4g + t]
//
// so one k-group of a panel is one 512-bit load (AVX-512) or two 256-bit loads (AVX2), and four
// consecutive activation bytes A[m, 4g … 4g+3], broadcast as one int32, meet all 16 channels.
#pragma once

#include <cstdint>

#include "tinytorch/kernels/qgemm.h"

namespace tinytorch::kernels::qgemm_detail {

inline constexpr int64_t kNR = 16;     // output channels per panel
inline constexpr int64_t kKGroup = 4;  // k values per group (one int32 lane of bytes)
inline constexpr int64_t kGroupBytes = kNR * kKGroup;

// One call computes a tile of up to mr rows × nr channels, the channels from nr / kNR consecutive
// panels (panel q of the call at panel + q·panel_stride):
//
//   c[i·ldc + 16q + j] = Σ_{g < groups} Σ_{t < 4} a[i·lda + 4g + t] · P_q[g·64 + j·4 + t]
//
// for i < rows and 16q + j < cols, overwritten. rows ≤ the kernel's mr, cols ≤ its nr, and only
// the panels that hold one of the first `cols` channels are read; every row of a holds 4·groups
// readable bytes (the caller pads K).
using QMicroKernel = void (*)(int64_t groups, const uint8_t* a, int64_t lda, int64_t rows,
                              const int8_t* panel, int64_t panel_stride, int32_t* c, int64_t ldc,
                              int64_t cols);

struct QGemmIsa {
  QMicroKernel micro = nullptr;
  int64_t mr = 0;           // rows per micro-kernel call
  int64_t nr = kNR;         // channels per call: a multiple of kNR (whole panels)
  bool needs_7bit = false;  // exact only when every activation is ≤ 127 (vpmaddubsw)
  const char* name = "";
  // The dynamic Linear's O(M·K) and O(M·N) passes (kernels/qgemm.h, QGemmKernels), vectorised.
  MinMaxFn minmax = nullptr;
  QuantizeFn quantize = nullptr;
  DequantizeFn dequantize = nullptr;
};

// AVX2 versions of the three passes (qgemm_avx2.cpp); the VNNI set reuses them (an AVX-512 CPU
// has AVX2).
void minmax_avx2(int64_t n, const float* x, float* lo, float* hi);
void quantize_avx2(int64_t n, const float* x, float inv_scale, int32_t zero_point, uint8_t* q);
void dequantize_avx2(int64_t n, const int32_t* c, const float* scale, const int32_t* correction,
                     const float* bias, float* y);

// The portable kernel (qgemm_fast.cpp) computes the same tile in plain C++.
QGemmIsa qgemm_portable();
QGemmIsa qgemm_avx2();         // qgemm_avx2.cpp
QGemmIsa qgemm_avx512_vnni();  // qgemm_avx512_vnni.cpp

// Stores a tile's row `acc` of kNR int32 to c: all of it, or its first `cols` (the N tail).
inline void store_row(const int32_t* acc, int32_t* c, int64_t cols) {
  for (int64_t j = 0; j < cols; ++j) c[j] = acc[j];
}

}  // namespace tinytorch::kernels::qgemm_detail
