// tinytorch/core/simd.h — two annotations that let the compiler use the CPU's vector units in the
// hot loops of the library, without changing any result.
#pragma once

// Put before an element loop: asks the compiler to vectorize it (OpenMP's `omp simd`; at -O2 GCC
// otherwise vectorizes only loops it deems trivially profitable). It changes no result: the
// element operations are the same, only several run at once. It also promises that iterations are
// independent — true for element-wise loops even when the output IS an input (in-place ops write
// element i after reading element i only). A branch inside the loop prevents it — even
// `if (nesterov)` on a flag that never changes — which is why kernels take their options as
// template flags and use `if constexpr`: one straight-line loop per combination.
#if defined(TINYTORCH_HAVE_OPENMP)
#define TT_PRAGMA_OMP_SIMD _Pragma("omp simd")
#else
#define TT_PRAGMA_OMP_SIMD
#endif

// Put before a kernel's declaration: the compiler builds it twice, for baseline x86-64 (SSE2: 4
// floats per instruction) and for AVX2 (8 floats), and the loader picks the one the CPU runs (GCC/
// Clang function multi-versioning; PyTorch compiles its CPU kernels once per "CPU capability" for
// the same reason). The library itself stays baseline x86-64, so it runs on any x86-64 CPU. Only
// "avx2", not "fma": fused multiply-adds would round differently from separate multiply and add,
// so results would depend on the CPU (and differ from PyTorch's).
//
// NOTE: GCC only. Clang (up to at least 14) refuses target_clones on function templates — and
// every kernel that uses it is one — so under Clang the annotation is empty and the kernels are
// built once, for the baseline (or whatever -march says): same results, 4 floats per instruction.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__APPLE__)
#define TT_TARGET_CLONES_AVX2 __attribute__((target_clones("avx2", "default")))
#else
#define TT_TARGET_CLONES_AVX2
#endif
