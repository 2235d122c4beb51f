// The 16-bit conversions of kernels/half.h: which level runs, and the portable loops.
#include <algorithm>

#include "half_kernels.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/half.h"

// The SIMD kernels (half_avx2.cpp, half_avx512_bf16.cpp) are built only for x86, and then
// tinytorch/CMakeLists.txt defines TINYTORCH_GEMM_X86 for this file.
#ifdef TINYTORCH_GEMM_X86
#include <cpuid.h>
#endif

namespace tinytorch::kernels {
namespace {

// The highest level this CPU has, checked once. F16C is a CPUID bit of its own (leaf 1, ECX bit
// 29): every AVX2 CPU made has it, but nothing guarantees it, and Clang's __builtin_cpu_supports
// does not know its name. AVX-512 BF16 needs BW and VL too (its kernels use 16-bit lanes and
// 256-bit masked forms).
HalfIsa half_isa_of_this_cpu() {
#ifdef TINYTORCH_GEMM_X86
  static const HalfIsa level = [] {
    __builtin_cpu_init();
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
    if (!f16c || !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
      return HalfIsa::kDefault;
    }
    if (!__builtin_cpu_supports("avx512f")) return HalfIsa::kAvx2;
    const bool bf16 = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl");
    return bf16 ? HalfIsa::kAvx512Bf16 : HalfIsa::kAvx512;
  }();
  return level;
#else
  return HalfIsa::kDefault;
#endif
}

// The portable loop: the scalar reference function of half.h, one value at a time, from value
// `first` on (the values a SIMD kernel left: those past its last full vector).
template <typename From, typename To, To (*kConvert)(From)>
void convert_portable(int64_t n, const From* src, To* dst, int64_t first = 0) {
  for (int64_t i = first; i < n; ++i) dst[i] = kConvert(src[i]);
}

}  // namespace

namespace half_detail {

void check_half_isa(HalfIsa isa, const char* op) {
  TT_CHECK_VALUE(static_cast<int>(isa) <= static_cast<int>(half_isa_of_this_cpu()), op,
                 ": this CPU cannot run the ", to_string(isa), " kernels (it has up to ",
                 to_string(half_isa_of_this_cpu()), ")");
}

}  // namespace half_detail

const char* to_string(HalfIsa isa) {
  switch (isa) {
    case HalfIsa::kAvx512Bf16:
      return "AVX512_BF16";
    case HalfIsa::kAvx512:
      return "AVX512";
    case HalfIsa::kAvx2:
      return "AVX2";
    case HalfIsa::kDefault:
      break;
  }
  return "DEFAULT";
}

HalfIsa half_isa() {
  HalfIsa cap = HalfIsa::kAvx512Bf16;  // TINYTORCH_CPU_CAPABILITY=avx512, or unset
  switch (get_cpu_capability()) {
    case CpuCapability::kAvx512:
      break;
    case CpuCapability::kAvx2:
      cap = HalfIsa::kAvx2;
      break;
    case CpuCapability::kDefault:
      cap = HalfIsa::kDefault;
      break;
  }
  return std::min(cap, half_isa_of_this_cpu());
}

void float_to_bf16(HalfIsa isa, int64_t n, const float* src, BFloat16* dst) {
  half_detail::check_half_isa(isa, "float_to_bf16");
  int64_t done = 0;
#ifdef TINYTORCH_GEMM_X86
  if (isa == HalfIsa::kAvx512Bf16) {
    done = half_detail::float_to_bf16_avx512_bf16(n, src, dst);
  } else if (isa != HalfIsa::kDefault) {
    done = half_detail::float_to_bf16_avx2(n, src, dst);
  }
#endif
  convert_portable<float, BFloat16, float_to_bf16>(n, src, dst, done);
}

// Widening is one shift; AVX-512 would only double the width of a loop bound by memory.
void bf16_to_float(HalfIsa isa, int64_t n, const BFloat16* src, float* dst) {
  half_detail::check_half_isa(isa, "bf16_to_float");
  int64_t done = 0;
#ifdef TINYTORCH_GEMM_X86
  if (isa != HalfIsa::kDefault) done = half_detail::bf16_to_float_avx2(n, src, dst);
#endif
  convert_portable<BFloat16, float, bf16_to_float>(n, src, dst, done);
}

void float_to_half(HalfIsa isa, int64_t n, const float* src, Half* dst) {
  half_detail::check_half_isa(isa, "float_to_half");
  int64_t done = 0;
#ifdef TINYTORCH_GEMM_X86
  if (isa != HalfIsa::kDefault) done = half_detail::float_to_half_f16c(n, src, dst);
#endif
  convert_portable<float, Half, float_to_half>(n, src, dst, done);
}

void half_to_float(HalfIsa isa, int64_t n, const Half* src, float* dst) {
  half_detail::check_half_isa(isa, "half_to_float");
  int64_t done = 0;
#ifdef TINYTORCH_GEMM_X86
  if (isa != HalfIsa::kDefault) done = half_detail::half_to_float_f16c(n, src, dst);
#endif
  convert_portable<Half, float, half_to_float>(n, src, dst, done);
}

void float_to_bf16(int64_t n, const float* src, BFloat16* dst) {
  float_to_bf16(half_isa(), n, src, dst);
}
void bf16_to_float(int64_t n, const BFloat16* src, float* dst) {
  bf16_to_float(half_isa(), n, src, dst);
}
void float_to_half(int64_t n, const float* src, Half* dst) {
  float_to_half(half_isa(), n, src, dst);
}
void half_to_float(int64_t n, const Half* src, float* dst) {
  half_to_float(half_isa(), n, src, dst);
}

}  // namespace tinytorch::kernels
