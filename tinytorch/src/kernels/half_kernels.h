// The array conversions of kernels/half.h, one set per instruction set. Private to src/kernels.
// As for the GEMM (gemm_kernels.h), each set lives in a translation unit of its own compiled with
// that set's flags, and half.cpp calls it only through the level it checked the CPU for:
//
//   half_avx2.cpp          -mavx2 -mf16c                     bfloat16 by integer rounding,
//                                                            float16 by vcvtps2ph / vcvtph2ps
//   half_avx512_bf16.cpp   -mavx512f -mavx512bw -mavx512vl   float32 → bfloat16 by
//                          -mavx512bf16                      vcvtneps2bf16
//
// Every kernel converts the first values of src to dst, as many as fill whole vectors, with the
// bits of the scalar functions of half.h, and returns how many it converted; half.cpp converts
// the rest with those scalar functions.
// NOTE: the SIMD files must not call the scalar functions (or any inline function of a header):
// an inline function gets one copy in the program, and the linker may keep the one compiled with
// AVX-512 flags and hand it to a caller on a CPU without AVX-512 (gemm_simd.h has the same rule).
#pragma once

#include <cstdint>

#include "tinytorch/kernels/half.h"

namespace tinytorch::kernels::half_detail {

// Throws tinytorch::ValueError, naming `op`, when this CPU cannot run `isa` (half.cpp).
void check_half_isa(HalfIsa isa, const char* op);

int64_t float_to_bf16_avx2(int64_t n, const float* src, BFloat16* dst);
int64_t bf16_to_float_avx2(int64_t n, const BFloat16* src, float* dst);
int64_t float_to_half_f16c(int64_t n, const float* src, Half* dst);
int64_t half_to_float_f16c(int64_t n, const Half* src, float* dst);

int64_t float_to_bf16_avx512_bf16(int64_t n, const float* src, BFloat16* dst);

}  // namespace tinytorch::kernels::half_detail
