// The inner kernels of the fast GEMM (gemm_fast.cpp), one set per CPU capability.
//
// Private to src/kernels. gemm_fast.cpp is compiled for plain x86-64 like the rest of the library;
// the SIMD kernels live in translation units of their own, each compiled with the flags of one
// instruction set (the PyTorch way: ATen compiles its cpu/ kernels once per CPU_CAPABILITY):
//
//   gemm_avx2.cpp     -mavx2 -mfma      micro-kernels of 6 x (2 ymm), the 8 x 8 transposing packs
//   gemm_avx512.cpp   -mavx512f -mfma   micro-kernels of 12 x (2 zmm)
//
// Both instantiate one template, simd_microkernel (gemm_simd.h), with their own vector type.
// gemm_fast.cpp calls these functions only through pointers it takes after checking the CPU
// (get_cpu_capability), so no AVX instruction ever runs on a CPU without it.
#pragma once

#include <cstdint>

namespace tinytorch::kernels::gemm {

// c = alpha * (a * b) + beta * c for one MR x NR tile, c not read when beta == 0:
//   a: MR x kc packed sliver (a[p * MR + i] = op(A)(i, p))
//   b: kc x NR packed sliver (b[p * NR + j] = op(B)(p, j)), 64-byte aligned
//   c: MR x NR tile of C, row stride ldc, any alignment
template <typename T>
using MicroKernel = void (*)(int64_t kc, const T* a, const T* b, T alpha, T beta, T* c,
                             int64_t ldc);

// dst[p * W + w] = src[w * w_stride + p] for w < W, p < kc: packs a full-width sliver whose W lines
// are contiguous along k. `next` is the first line of the sliver packed after this one (same
// w_stride), to prefetch, or nullptr.
template <typename T>
using TransposePack = void (*)(int64_t kc, const T* src, int64_t w_stride, T* dst, const T* next);

// Packing reads its source in short pieces (a sliver is W lines of kc values), too short for the
// hardware prefetcher to get ahead of, so a transposing pack asks for the lines of the next sliver
// while it packs this one: this prefetches the cache line holding value p of each of lines
// [from, to) of that sliver (line w at next + w * w_stride), once per cache line: only when p is a
// multiple of the values in a line.
// NOTE: in an unnamed namespace because the SIMD files include it too: each file keeps its own
// copy, compiled with its own flags (see gemm_simd.h).
namespace {
template <typename T>
inline void prefetch_lines(const T* next, int64_t w_stride, int64_t p, int64_t from, int64_t to) {
  constexpr int64_t kValuesPerLine = 64 / sizeof(T);
  if (next == nullptr || p % kValuesPerLine != 0) return;
  for (int64_t w = from; w < to; ++w) __builtin_prefetch(next + w * w_stride + p);
}
}  // namespace

// gemm_avx2.cpp. Instantiated for (float, 6, 16) and (double, 6, 8).
template <typename T, int64_t MR, int64_t NR>
void microkernel_avx2(int64_t kc, const T* a, const T* b, T alpha, T beta, T* c, int64_t ldc);

// gemm_avx2.cpp, float slivers only. Instantiated for the sliver widths W = 6, 12, 16 and 32 (the
// MR and NR of both float tiles): AVX-512 CPUs have AVX2 too, and the pack is memory-bound, so
// wider registers would not make it faster.
template <int64_t W>
void pack_transposed_avx2(int64_t kc, const float* src, int64_t w_stride, float* dst,
                          const float* next);

// gemm_avx512.cpp. Instantiated for (float, 12, 32) and (double, 12, 16).
template <typename T, int64_t MR, int64_t NR>
void microkernel_avx512(int64_t kc, const T* a, const T* b, T alpha, T beta, T* c, int64_t ldc);

}  // namespace tinytorch::kernels::gemm
