// tinytorch/kernels/half.h — the two 16-bit floating-point formats of mixed precision, and the
// kernels that convert them to and from float32.
//
//                  sign  exponent  mantissa   largest finite   smallest normal   epsilon
//   float32          1      8         23       3.40e38          1.18e-38          2^-23
//   bfloat16         1      8          7       3.39e38          1.18e-38          2^-7
//   float16 (half)   1      5         10       65504            6.10e-5           2^-10
//
// bfloat16 is the top half of a float32: same exponent, so the same range, with 16 mantissa bits
// dropped. Widening is exact (append 16 zero bits); narrowing rounds. float16 (IEEE 754 binary16)
// trades range for precision: 5 exponent bits (bias 15), so values past 65504 overflow and values
// under 2^-14 are subnormal (down to 2^-24).
//
// Every narrowing here rounds to nearest, ties to even (IEEE's default), as PyTorch's c10::BFloat16
// and c10::Half do, with the same bits for every value that is not a NaN:
//   * a value halfway between two neighbours goes to the one whose last mantissa bit is 0;
//   * a finite value at or past the halfway point above the largest finite one becomes ±inf;
//   * inf stays inf; a NaN stays a NaN, made quiet (the mantissa's top bit set), its sign and the
//     top bits of its payload kept, as x86's vcvtneps2bf16 and vcvtps2ph do. PyTorch drops the
//     payload: c10's scalar conversions give a canonical quiet NaN (bfloat16 0x7FC0, float16 the
//     sign and 0x7E00), and 1.13's CPU Tensor.to(torch.bfloat16) writes 0xFFFF for every NaN;
//   * subnormals are kept, never flushed to zero.
// Two tiers, as for the GEMM (kernels/registry.h):
//   * the constexpr functions below are GIVEN: the element types' conversions (every op on a
//     bfloat16/float16 tensor rounds its float32 result through them) and the tails of the SIMD
//     array kernels (src/kernels/half*.cpp: AVX-512 BF16, AVX2, F16C), which give the same bits
//     (tests/kernels/test_half.cpp checks every 16-bit pattern and a million random float32 ones);
//   * the *_reference functions at the end are the learner's (module 22, src/kernels/half.cpp):
//     the same rules written field by field — sign, exponent, mantissa — instead of with the
//     carry tricks below. Tensor::to() between float32 and the 16-bit dtypes runs them on the
//     reference tier (TINYTORCH_KERNELS=reference, or TierGuard(Tier::kReference)).
#pragma once

#include <bit>
#include <cstdint>

namespace tinytorch::kernels {

// The formats as bit patterns (PyTorch: c10::BFloat16, c10::Half), and the element types of the
// kBFloat16 and kHalf dtypes (core/scalar_type.h). Distinct types, so that a bfloat16 buffer is
// never passed where a float16 one is expected; arithmetic happens in float32. As with c10's, a
// value widens to float implicitly (exact) and is made from a float by rounding to nearest even
// (the functions below); a bit pattern is given with a tag: BFloat16(0x3F80,
// BFloat16::from_bits()). NOTE: there is no constructor from the bits alone: BFloat16(1) must
// mean 1.0, not 0x0001.
struct BFloat16 {
  struct from_bits_t {};
  static constexpr from_bits_t from_bits() { return {}; }

  BFloat16() = default;
  constexpr BFloat16(uint16_t b, from_bits_t) : bits(b) {}
  constexpr BFloat16(float v);       // NOLINT(google-explicit-constructor): as c10's
  constexpr operator float() const;  // NOLINT(google-explicit-constructor)

  uint16_t bits = 0;
};
struct Half {
  struct from_bits_t {};
  static constexpr from_bits_t from_bits() { return {}; }

  Half() = default;
  constexpr Half(uint16_t b, from_bits_t) : bits(b) {}
  constexpr Half(float v);           // NOLINT(google-explicit-constructor): as c10's
  constexpr operator float() const;  // NOLINT(google-explicit-constructor)

  uint16_t bits = 0;
};

// bfloat16 → float32, exact: the 16 bits become the top half of the float32.
constexpr float bf16_to_float(BFloat16 x) {
  return std::bit_cast<float>(static_cast<uint32_t>(x.bits) << 16);
}

// float32 → bfloat16, round to nearest even. Keeping the top 16 bits u >> 16 truncates; adding
// 0x7FFF first carries into bit 16 exactly when the dropped half is more than half an ulp, and
// adding one more when bit 16 (the kept lsb) is 1 breaks the tie (dropped half == 0x8000) to
// even. The carry may run into the exponent, which is right: 0x3F7FFFFF (just under 1) rounds to
// 0x3F80 (1.0), and the largest finite floats round up to 0x7F80 (inf). A NaN would carry into
// the sign or become inf, so it is handled first.
constexpr BFloat16 float_to_bf16(float x) {
  const uint32_t u = std::bit_cast<uint32_t>(x);
  if ((u & 0x7FFFFFFFU) > 0x7F800000U) {  // NaN: keep sign and top payload, set the quiet bit
    return {static_cast<uint16_t>((u >> 16) | 0x0040U), BFloat16::from_bits()};
  }
  const uint32_t lsb = (u >> 16) & 1U;
  return {static_cast<uint16_t>((u + 0x7FFFU + lsb) >> 16), BFloat16::from_bits()};
}

// float16 → float32, exact (every float16 is a float32).
//   bits:  s eeeee mmmmmmmmmm        value
//   e = 0, m = 0:                    ±0
//   e = 0, m ≠ 0 (subnormal):        ±m · 2^-24     → normalised: shift m up until bit 10 is set
//   0 < e < 31:                      ±1.m · 2^(e−15) → exponent rebiased by 127 − 15 = 112
//   e = 31, m = 0:                   ±inf
//   e = 31, m ≠ 0:                   NaN, payload moved to the top of float32's mantissa, quiet
constexpr float half_to_float(Half x) {
  const uint32_t sign = static_cast<uint32_t>(x.bits & 0x8000U) << 16;
  const uint32_t e = (x.bits >> 10) & 0x1FU;
  uint32_t m = x.bits & 0x3FFU;
  if (e == 0x1F) {  // inf or NaN
    const uint32_t quiet = m != 0 ? 0x00400000U : 0U;
    return std::bit_cast<float>(sign | 0x7F800000U | quiet | (m << 13));
  }
  if (e == 0) {
    if (m == 0) return std::bit_cast<float>(sign);
    // Subnormal m · 2^-24: find the leading 1, make it the implicit bit. With the leading 1 at
    // bit b (b < 10), the value is 1.xxx · 2^(b − 24), a float32 exponent field of b − 24 + 127.
    const int b = 31 - std::countl_zero(m);
    m = (m << (10 - b)) & 0x3FFU;
    return std::bit_cast<float>(sign | (static_cast<uint32_t>(b + 103) << 23) | (m << 13));
  }
  return std::bit_cast<float>(sign | ((e + 112U) << 23) | (m << 13));
}

// float32 → float16, round to nearest even.
//   |x| ≥ 65520 (halfway from 65504, the largest float16, to 2^16): ±inf, since the tie goes to
//      the even neighbour, and 65504 = 0x7BFF is odd. NaN: quiet NaN, top 9 payload bits kept.
//   2^-14 ≤ |x| < 65520: normal. Rebias the exponent (−112 in the exponent field) and round away
//      13 mantissa bits with the bias trick of float_to_bf16 (0xFFF, plus the kept lsb); a carry
//      into the exponent is again right (up to 0x7C00 = inf at exactly 65520, excluded above).
//   |x| < 2^-14: subnormal or zero, result m · 2^-24 with m = round(|x| / 2^-24): the float32's
//      24-bit significand shifted right by 126 − e (e its exponent field), rounded to even. An m
//      that rounds up to 0x400 is the smallest normal, whose bits 0x0400 this gives for free.
//      Below 2^-25 (half the smallest subnormal, a tie that rounds to even, i.e. 0) it is ±0.
constexpr Half float_to_half(float x) {
  const uint32_t u = std::bit_cast<uint32_t>(x);
  const auto sign = static_cast<uint16_t>((u >> 16) & 0x8000U);
  const uint32_t a = u & 0x7FFFFFFFU;
  if (a > 0x7F800000U) {  // NaN
    return {static_cast<uint16_t>(sign | 0x7E00U | ((a >> 13) & 0x3FFU)), Half::from_bits()};
  }
  if (a >= 0x477FF000U)
    return {static_cast<uint16_t>(sign | 0x7C00U), Half::from_bits()};  // ≥ 65520, inf
  if (a >= 0x38800000U) {                                               // ≥ 2^-14: normal
    const uint32_t lsb = (a >> 13) & 1U;
    return {static_cast<uint16_t>(sign | ((a - (112U << 23) + 0xFFFU + lsb) >> 13)),
            Half::from_bits()};
  }
  if (a <= 0x33000000U) return {sign, Half::from_bits()};  // ≤ 2^-25: rounds to ±0
  const uint32_t e = a >> 23;                              // 102 ... 112
  const uint32_t significand = (a & 0x7FFFFFU) | 0x800000U;
  const uint32_t shift = 126 - e;  // 14 ... 24
  const uint32_t kept = significand >> shift;
  const uint32_t dropped = significand & ((1U << shift) - 1);
  const uint32_t half_ulp = 1U << (shift - 1);
  const uint32_t round_up = dropped > half_ulp || (dropped == half_ulp && (kept & 1U)) ? 1U : 0U;
  return {static_cast<uint16_t>(sign | (kept + round_up)), Half::from_bits()};
}

// The element types' conversions are these functions (defined here, once the functions are).
constexpr BFloat16::BFloat16(float v) : bits(float_to_bf16(v).bits) {}
constexpr BFloat16::operator float() const {
  return bf16_to_float(*this);
}
constexpr Half::Half(float v) : bits(float_to_half(v).bits) {}
constexpr Half::operator float() const {
  return half_to_float(*this);
}

// The implementations the 16-bit kernels (these conversions, gemm_bf16 in kernels/gemm.h) may
// run, from portable C++ up:
enum class HalfIsa {
  kDefault,     // portable C++: the scalar functions above, in loops
  kAvx2,        // AVX2 + F16C: integer rounding for bfloat16, vcvtps2ph/vcvtph2ps for float16
  kAvx512,      // AVX-512F without BF16 (Skylake-X, Ice Lake): AVX2's conversions, AVX-512 FMAs
  kAvx512Bf16,  // AVX-512 BF16 (Zen 4, Cooper/Sapphire Rapids): vcvtneps2bf16, vdpbf16ps
};

// "DEFAULT", "AVX2", "AVX512" or "AVX512_BF16".
const char* to_string(HalfIsa isa);

// The best level this CPU has, capped by TINYTORCH_CPU_CAPABILITY as get_cpu_capability() is
// (kernels/gemm.h): avx512 allows AVX512_BF16 where the CPU has it. Read on every call.
HalfIsa half_isa();

// The reference tier (module 22; src/kernels/half.cpp): the conversions above, one value at a
// time, from the fields of the formats. Bit for bit the results of the constexpr functions.
BFloat16 float_to_bf16_reference(float x);
float bf16_to_float_reference(BFloat16 x);
Half float_to_half_reference(float x);
float half_to_float_reference(Half x);

// Arrays of n values. Without `isa`: on the reference tier (kernels/registry.h) the *_reference
// functions, otherwise half_isa()'s kernels. With `isa`: that level's kernels (tests and benches:
// to compare the levels on one machine; throws tinytorch::ValueError if this CPU lacks `isa`).
// The bits are those of the scalar functions above, whatever runs. src and dst must not overlap.
void float_to_bf16(int64_t n, const float* src, BFloat16* dst);
void bf16_to_float(int64_t n, const BFloat16* src, float* dst);
void float_to_half(int64_t n, const float* src, Half* dst);
void half_to_float(int64_t n, const Half* src, float* dst);
void float_to_bf16(HalfIsa isa, int64_t n, const float* src, BFloat16* dst);
void bf16_to_float(HalfIsa isa, int64_t n, const BFloat16* src, float* dst);
void float_to_half(HalfIsa isa, int64_t n, const float* src, Half* dst);
void half_to_float(HalfIsa isa, int64_t n, const Half* src, float* dst);

}  // namespace tinytorch::kernels
