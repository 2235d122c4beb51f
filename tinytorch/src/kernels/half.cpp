// The 16-bit conversions of kernels/half.h: the reference tier (module 22: one value at a time,
// from the formats' fields), which level of the given kernels runs, and the portable loops.
#include <algorithm>
#include <bit>
#include <cmath>

#include "half_kernels.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/half.h"
#include "tinytorch/kernels/registry.h"

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

// The portable loop: a scalar function (half.h's given ones, or the reference tier's below), one
// value at a time, from value `first` on (the values a SIMD kernel left: past its last vector).
template <typename From, typename To, To (*kConvert)(From)>
void convert_portable(int64_t n, const From* src, To* dst, int64_t first = 0) {
  for (int64_t i = first; i < n; ++i) dst[i] = kConvert(src[i]);
}

}  // namespace

// ── The reference tier (module 22) ───────────────────────────────────────────────────────────
//
//   float32   s eeeeeeee mmmmmmmmmmmmmmmmmmmmmmm    value (1.m) · 2^(e − 127)
//   bfloat16  s eeeeeeee mmmmmmm                    value (1.m) · 2^(e − 127)
//   float16   s eeeee mmmmmmmmmm                    value (1.m) · 2^(e − 15), e = 0: (0.m) · 2^-14
//
// Narrowing keeps the leading significand bits and looks at the dropped ones: more than half an
// ulp rounds up, less rounds down, exactly half (a tie) goes to the neighbour whose last kept bit
// is 0 (round to nearest, ties to even). NaN stays NaN and is made quiet; inf stays inf.

// float32 → bfloat16: keep the top 16 bits (sign, 8 exponent bits, 7 mantissa bits), round on
// the 16 dropped ones. NOTE: rounding up adds 1 to the kept bits as an integer; a carry out of the
// mantissa runs into the exponent, which is the right next value (0x3F7FFFFF → 0x3F80 = 1.0;
// past the largest finite value → 0x7F80 = inf). A NaN must not round (its carry could make it
// inf), so it is taken first: the quiet bit is the top mantissa bit, 0x0040 in bfloat16.
BFloat16 float_to_bf16_reference(float x) {
  // BEGIN SOLUTION
  const uint32_t u = std::bit_cast<uint32_t>(x);
  const uint32_t exponent = (u >> 23) & 0xFFU;
  const uint32_t mantissa = u & 0x7FFFFFU;
  if (exponent == 0xFFU && mantissa != 0) {  // NaN: sign and top payload kept, made quiet
    return {static_cast<uint16_t>((u >> 16) | 0x0040U), BFloat16::from_bits()};
  }
  const uint32_t kept = u >> 16;         // s eeeeeeee mmmmmmm
  const uint32_t dropped = u & 0xFFFFU;  // the 16 mantissa bits bfloat16 has no room for
  const bool round_up = dropped > 0x8000U || (dropped == 0x8000U && (kept & 1U) != 0);
  return {static_cast<uint16_t>(kept + (round_up ? 1U : 0U)), BFloat16::from_bits()};
  // END SOLUTION
}

// bfloat16 → float32, exact: the 16 bits are the top half of the float32, the rest zeros.
float bf16_to_float_reference(BFloat16 x) {
  // BEGIN SOLUTION
  return std::bit_cast<float>(static_cast<uint32_t>(x.bits) << 16);
  // END SOLUTION
}

// float32 → float16. With E = e − 127 the float32's unbiased exponent:
//   E > 15                 past 2^16: ±inf (overflow)
//   −14 ≤ E ≤ 15           normal: keep 11 significand bits (1 + 10), drop 13
//   −25 ≤ E < −14          subnormal: the float16 step is 2^-24 whatever E is, so 13 + (−14 − E)
//                          bits are dropped; rounding up to 0x400 gives the smallest normal
//   E < −25                under half the smallest subnormal 2^-24: ±0
// Rounding may carry into the exponent (65504 + a bit past half an ulp → 0x7C00 = inf: the
// overflow tie 65520 rounds to inf because 65504's last bit is 1).
Half float_to_half_reference(float x) {
  // BEGIN SOLUTION
  const uint32_t u = std::bit_cast<uint32_t>(x);
  const auto sign = static_cast<uint16_t>((u >> 16) & 0x8000U);
  const auto exponent = static_cast<int>((u >> 23) & 0xFFU);
  const uint32_t mantissa = u & 0x7FFFFFU;
  if (exponent == 0xFF) {  // inf, or NaN: quiet bit 0x0200, top 9 payload bits kept
    const uint32_t nan = mantissa != 0 ? 0x0200U | (mantissa >> 13) : 0U;
    return {static_cast<uint16_t>(sign | 0x7C00U | nan), Half::from_bits()};
  }
  const int e = exponent - 127;
  if (e > 15) return {static_cast<uint16_t>(sign | 0x7C00U), Half::from_bits()};
  if (e < -25) return {sign, Half::from_bits()};      // also every float32 zero and subnormal
  const uint32_t significand = mantissa | 0x800000U;  // 1.m: 24 bits
  const int shift = e >= -14 ? 13 : 13 + (-14 - e);   // 13 ... 24
  const uint32_t kept = significand >> shift;
  const uint32_t dropped = significand & ((1U << shift) - 1U);
  const uint32_t half_ulp = 1U << (shift - 1);
  const bool round_up = dropped > half_ulp || (dropped == half_ulp && (kept & 1U) != 0);
  // Normal: kept holds the implicit 1 at bit 10, so adding (E + 14) << 10 gives exponent field
  // E + 15. Subnormal: exponent field 0, kept is the mantissa.
  const uint32_t biased = e >= -14 ? static_cast<uint32_t>(e + 14) << 10 : 0U;
  return {static_cast<uint16_t>(sign | (biased + kept + (round_up ? 1U : 0U))), Half::from_bits()};
  // END SOLUTION
}

// float16 → float32, exact (every float16 is a float32): rebias the exponent (−15 + 127 = +112),
// move the mantissa up 13 places; subnormals are m · 2^-24; inf and NaN keep their class (a NaN
// made quiet, 0x00400000 in float32).
float half_to_float_reference(Half x) {
  // BEGIN SOLUTION
  const uint32_t sign = static_cast<uint32_t>(x.bits & 0x8000U) << 16;
  const uint32_t exponent = (x.bits >> 10) & 0x1FU;
  const uint32_t mantissa = x.bits & 0x3FFU;
  if (exponent == 0x1FU) {
    const uint32_t nan = mantissa != 0 ? 0x00400000U | (mantissa << 13) : 0U;
    return std::bit_cast<float>(sign | 0x7F800000U | nan);
  }
  if (exponent == 0) {  // ±0 and subnormals: m · 2^-24, exact in float32
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign != 0 ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exponent + 112U) << 23) | (mantissa << 13));
  // END SOLUTION
}

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

// Tensor::to()'s conversions: the learner's reference loops on the reference tier, the given
// kernels otherwise.
void float_to_bf16(int64_t n, const float* src, BFloat16* dst) {
  if (tier() == Tier::kReference) {
    convert_portable<float, BFloat16, float_to_bf16_reference>(n, src, dst);
  } else {
    float_to_bf16(half_isa(), n, src, dst);
  }
}
void bf16_to_float(int64_t n, const BFloat16* src, float* dst) {
  if (tier() == Tier::kReference) {
    convert_portable<BFloat16, float, bf16_to_float_reference>(n, src, dst);
  } else {
    bf16_to_float(half_isa(), n, src, dst);
  }
}
void float_to_half(int64_t n, const float* src, Half* dst) {
  if (tier() == Tier::kReference) {
    convert_portable<float, Half, float_to_half_reference>(n, src, dst);
  } else {
    float_to_half(half_isa(), n, src, dst);
  }
}
void half_to_float(int64_t n, const Half* src, float* dst) {
  if (tier() == Tier::kReference) {
    convert_portable<Half, float, half_to_float_reference>(n, src, dst);
  } else {
    half_to_float(half_isa(), n, src, dst);
  }
}

}  // namespace tinytorch::kernels
