// Tests for the 16-bit conversions (kernels/half.h): the scalar reference functions against the
// formats' definitions, and every vector level the CPU has against the scalar functions, bit for
// bit: all 65,536 bfloat16 and float16 patterns for the widening, hand-picked edge cases (ties
// both ways, the largest finite values, overflow, subnormals, NaN payloads) and a million random
// float32 patterns for the narrowing.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#include "tinytorch/kernels/half.h"

namespace tinytorch::kernels {
namespace {

// The levels this CPU can run (whatever TINYTORCH_CPU_CAPABILITY says).
std::vector<HalfIsa> levels() {
  unsetenv("TINYTORCH_CPU_CAPABILITY");
  std::vector<HalfIsa> out;
  for (int i = 0; i <= static_cast<int>(half_isa()); ++i) out.push_back(static_cast<HalfIsa>(i));
  return out;
}

uint32_t bits(float x) {
  return std::bit_cast<uint32_t>(x);
}
float from_bits(uint32_t u) {
  return std::bit_cast<float>(u);
}

// float16 by its definition: (−1)^s · 2^(e−15) · 1.m, or 2^-14 · 0.m for e = 0.
double half_value(uint16_t h) {
  const int e = (h >> 10) & 0x1F, m = h & 0x3FF;
  const double magnitude = e == 0 ? std::ldexp(m, -24) : std::ldexp(1024 + m, e - 25);
  return (h & 0x8000) != 0 ? -magnitude : magnitude;
}

TEST(HalfConvert, EveryBf16PatternWidensExactly) {
  std::vector<BFloat16> all(65536);
  for (uint32_t i = 0; i < 65536; ++i) all[i].bits = static_cast<uint16_t>(i);
  for (const HalfIsa isa : levels()) {
    std::vector<float> wide(all.size());
    bf16_to_float(isa, static_cast<int64_t>(all.size()), all.data(), wide.data());
    for (uint32_t i = 0; i < 65536; ++i) {
      ASSERT_EQ(bits(wide[i]), i << 16) << to_string(isa) << " bf16 0x" << std::hex << i;
      ASSERT_EQ(bits(bf16_to_float(all[i])), i << 16) << "scalar, bf16 0x" << std::hex << i;
    }
  }
}

TEST(HalfConvert, EveryHalfPatternWidensExactly) {
  std::vector<Half> all(65536);
  for (uint32_t i = 0; i < 65536; ++i) all[i].bits = static_cast<uint16_t>(i);
  for (uint32_t i = 0; i < 65536; ++i) {  // the scalar function against the definition
    const auto h = static_cast<uint16_t>(i);
    const float x = half_to_float(all[i]);
    if (((h >> 10) & 0x1F) == 0x1F) {  // inf, or NaN: quiet, payload in the top mantissa bits
      const uint32_t expected = (uint32_t{h & 0x8000U} << 16) | 0x7F800000U |
                                (uint32_t{h & 0x3FFU} << 13) | ((h & 0x3FF) != 0 ? 0x400000U : 0U);
      ASSERT_EQ(bits(x), expected) << std::hex << "half 0x" << i;
    } else {
      ASSERT_EQ(static_cast<double>(x), half_value(h)) << std::hex << "half 0x" << i;
      ASSERT_EQ(std::signbit(x), (h & 0x8000) != 0) << std::hex << "half 0x" << i;
    }
  }
  for (const HalfIsa isa : levels()) {
    std::vector<float> wide(all.size());
    half_to_float(isa, static_cast<int64_t>(all.size()), all.data(), wide.data());
    for (uint32_t i = 0; i < 65536; ++i) {
      ASSERT_EQ(bits(wide[i]), bits(half_to_float(all[i])))
          << to_string(isa) << std::hex << " half 0x" << i;
    }
  }
}

TEST(HalfConvert, EveryPatternRoundTrips) {
  // Widening is exact, so narrowing it back gives the same bits — except that a signalling NaN
  // comes back quiet.
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto u = static_cast<uint16_t>(i);
    const bool bf16_snan = (u & 0x7F80) == 0x7F80 && (u & 0x7F) != 0 && (u & 0x40) == 0;
    ASSERT_EQ(float_to_bf16(bf16_to_float(BFloat16(u, BFloat16::from_bits()))).bits,
              bf16_snan ? (u | 0x40) : u)
        << std::hex << "bf16 0x" << i;
    const bool half_snan = (u & 0x7C00) == 0x7C00 && (u & 0x3FF) != 0 && (u & 0x200) == 0;
    ASSERT_EQ(float_to_half(half_to_float(Half(u, Half::from_bits()))).bits,
              half_snan ? (u | 0x200) : u)
        << std::hex << "half 0x" << i;
  }
}

struct Case {
  uint32_t in;
  uint16_t out;
};

// Runs each case through the scalar function and, at a position inside a vector and one in the
// tail, through every level's array kernel.
template <typename To, To (*kScalar)(float), void (*kArray)(HalfIsa, int64_t, const float*, To*)>
void check_cases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(kScalar(from_bits(c.in)).bits, c.out) << std::hex << "scalar, float 0x" << c.in;
    std::vector<float> src(37, from_bits(c.in));  // 2 x 16 in vectors, 5 in the tail
    for (const HalfIsa isa : levels()) {
      std::vector<To> dst(src.size());
      kArray(isa, static_cast<int64_t>(src.size()), src.data(), dst.data());
      for (const size_t i : {size_t{3}, size_t{36}}) {
        EXPECT_EQ(dst[i].bits, c.out) << to_string(isa) << std::hex << " float 0x" << c.in;
      }
    }
  }
}

TEST(HalfConvert, FloatToBf16EdgeCases) {
  check_cases<BFloat16, float_to_bf16, float_to_bf16>({
      {0x3F808000, 0x3F80},  // 1 + 2^-8: a tie, the even neighbour is below
      {0x3F818000, 0x3F82},  // a tie whose even neighbour is above
      {0x3F808001, 0x3F81},  // just above a tie
      {0x3F807FFF, 0x3F80},  // just below
      {0xBF818000, 0xBF82},  // negative ties round the magnitude the same way
      {0x3F7FFFFF, 0x3F80},  // the carry runs into the exponent: just under 1 becomes 1
      {0x7F7F7FFF, 0x7F7F},  // rounds down to the largest finite bfloat16
      {0x7F7F8000, 0x7F80},  // the tie above it: 0x7F7F is odd, so inf
      {0x7F7FFFFF, 0x7F80},  // the largest finite float32 overflows to inf
      {0xFF7FFFFF, 0xFF80},  // and its negative to -inf
      {0x7F800000, 0x7F80},  // inf
      {0xFF800000, 0xFF80},  // -inf
      {0x00000000, 0x0000},  // +0
      {0x80000000, 0x8000},  // -0
      {0x00000001, 0x0000},  // the smallest float32 subnormal rounds to +0
      {0x80000001, 0x8000},  // ... and its negative to -0
      {0x00008000, 0x0000},  // a subnormal tie, even neighbour 0
      {0x00018000, 0x0002},  // a subnormal tie, even neighbour above
      {0x00010000, 0x0001},  // the smallest bfloat16 subnormal, exact
      {0x80008001, 0x8001},  // above a tie, negative
      {0x007FFFFF, 0x0080},  // the largest subnormal rounds up to the smallest normal
      {0x7FC00000, 0x7FC0},  // quiet NaN
      {0xFFC00000, 0xFFC0},  // negative quiet NaN
      {0x7F800001, 0x7FC0},  // signalling NaN, payload in the dropped bits: quiet, payload lost
      {0x7FA00000, 0x7FE0},  // signalling NaN, payload in the kept bits: kept, quiet bit set
      {0xFF810000, 0xFFC1},  // negative signalling NaN
      {0x7FFFFFFF, 0x7FFF},  // all-ones NaN: no carry into the sign
  });
}

TEST(HalfConvert, FloatToHalfEdgeCases) {
  check_cases<Half, float_to_half, float_to_half>({
      {0x3F801000, 0x3C00},  // 1 + 2^-11: a tie, even neighbour below
      {0x3F803000, 0x3C02},  // a tie, even neighbour above
      {0x3F801001, 0x3C01},  // just above a tie
      {0xBF803000, 0xBC02},  // negative tie
      {0x477FE000, 0x7BFF},  // 65504, the largest finite float16
      {0x477FEFFF, 0x7BFF},  // just below the tie above it
      {0x477FF000, 0x7C00},  // 65520, the tie: 0x7BFF is odd, so inf
      {0x501502F9, 0x7C00},  // 1e10 overflows
      {0xC77FF000, 0xFC00},  // -65520
      {0x7F7FFFFF, 0x7C00},  // the largest float32
      {0x7F800000, 0x7C00},  // inf
      {0xFF800000, 0xFC00},  // -inf
      {0x38800000, 0x0400},  // 2^-14, the smallest normal
      {0x387FF000, 0x0400},  // 1023.5 · 2^-24: a tie between the largest subnormal and it
      {0x387FC000, 0x03FF},  // 1023 · 2^-24, the largest subnormal
      {0x33800000, 0x0001},  // 2^-24, the smallest subnormal
      {0x33000000, 0x0000},  // 2^-25: a tie, rounds to even 0
      {0x33000001, 0x0001},  // just above it
      {0xB3000000, 0x8000},  // -2^-25: -0
      {0x33C00000, 0x0002},  // 1.5 · 2^-24: a tie, rounds to 2
      {0x34200000, 0x0002},  // 2.5 · 2^-24: a tie, rounds to 2
      {0x00000001, 0x0000},  // a float32 subnormal
      {0x80000000, 0x8000},  // -0
      {0x7FC00000, 0x7E00},  // quiet NaN
      {0x7F800001, 0x7E00},  // signalling NaN, payload dropped: quiet
      {0xFFC02000, 0xFE01},  // payload bit kept
      {0x7FA00000, 0x7F00},  // signalling NaN, payload kept, quiet bit set
      {0x7FFFFFFF, 0x7FFF},  // all-ones NaN
  });
}

TEST(HalfConvert, RandomFloatsNarrowAsTheScalarFunctions) {
  // A million random bit patterns: every exponent, subnormals (1 in 256) and NaNs included. The
  // count is not a multiple of 16, so the tails run too.
  constexpr int64_t kCount = 1'000'003;
  std::mt19937 gen(20240607);
  std::vector<float> src(kCount);
  for (float& x : src) x = from_bits(static_cast<uint32_t>(gen()));
  std::vector<BFloat16> bf16(kCount);
  std::vector<Half> half(kCount);
  for (const HalfIsa isa : levels()) {
    float_to_bf16(isa, kCount, src.data(), bf16.data());
    float_to_half(isa, kCount, src.data(), half.data());
    for (int64_t i = 0; i < kCount; ++i) {
      ASSERT_EQ(bf16[i].bits, float_to_bf16(src[i]).bits)
          << to_string(isa) << std::hex << " float 0x" << bits(src[i]);
      ASSERT_EQ(half[i].bits, float_to_half(src[i]).bits)
          << to_string(isa) << std::hex << " float 0x" << bits(src[i]);
    }
  }
}

TEST(HalfConvert, EnvironmentCapsTheLevel) {
  const std::vector<HalfIsa> all = levels();
  setenv("TINYTORCH_CPU_CAPABILITY", "default", 1);
  EXPECT_EQ(half_isa(), HalfIsa::kDefault);
  if (all.back() >= HalfIsa::kAvx2) {
    setenv("TINYTORCH_CPU_CAPABILITY", "avx2", 1);
    EXPECT_EQ(half_isa(), HalfIsa::kAvx2);
  }
  setenv("TINYTORCH_CPU_CAPABILITY", "avx512", 1);
  EXPECT_EQ(half_isa(), all.back());
  unsetenv("TINYTORCH_CPU_CAPABILITY");
}

}  // namespace
}  // namespace tinytorch::kernels
