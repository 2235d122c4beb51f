// Module 22, Parts 2 and 3 — the reference tier's conversions (tinytorch/src/kernels/half.cpp):
// float32 ⇄ bfloat16 (Bf16Reference) and float32 ⇄ float16 (Fp16Reference), round to nearest
// even, against the given conversions of kernels/half.h bit for bit: every 16-bit pattern
// widened, hand-worked ties, overflow, the float16 subnormals, NaN made quiet, and a sweep of
// float32 patterns narrowed; then Tensor::to() on the reference tier, which runs them
// (ReferenceTier).
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

#include "tinytorch/kernels/half.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::kernels {
namespace {

uint32_t bits(float x) {
  return std::bit_cast<uint32_t>(x);
}
float from_bits(uint32_t u) {
  return std::bit_cast<float>(u);
}
uint16_t bf16_bits(float x) {
  return float_to_bf16_reference(x).bits;
}
uint16_t half_bits(float x) {
  return float_to_half_reference(x).bits;
}

// float32 patterns spread over the whole range (a stride prime to every power of two), and the
// float32 neighbours of every 16-bit value and of every midpoint between two: where rounding
// decides.
std::vector<uint32_t> float_patterns() {
  std::vector<uint32_t> out;
  for (uint64_t u = 0; u <= 0xFFFFFFFFULL; u += 4099) out.push_back(static_cast<uint32_t>(u));
  for (uint32_t h = 0; h <= 0xFFFFU; ++h) {
    const uint32_t bf = h << 16;  // a bfloat16 value, and the midpoint above it (bit 15 set)
    for (const uint32_t c : {bf, bf | 0x8000U}) {
      out.push_back(c);
      out.push_back(c + 1);
      out.push_back(c - 1);
    }
    const uint32_t f = bits(half_to_float(Half(static_cast<uint16_t>(h), Half::from_bits())));
    for (const uint32_t c : {f, f + 0x1000U}) {  // a float16 value, the midpoint above a normal
      out.push_back(c);
      out.push_back(c + 1);
      out.push_back(c - 1);
    }
  }
  return out;
}

TEST(Bf16Reference, EveryPatternWidensToTheTopHalfOfAFloat32) {
  for (uint32_t h = 0; h <= 0xFFFFU; ++h) {
    const BFloat16 b(static_cast<uint16_t>(h), BFloat16::from_bits());
    ASSERT_EQ(bits(bf16_to_float_reference(b)), h << 16) << "bfloat16 bits 0x" << std::hex << h;
  }
}

TEST(Fp16Reference, EveryPatternWidensAsTheGivenConversion) {
  for (uint32_t h = 0; h <= 0xFFFFU; ++h) {
    const Half x(static_cast<uint16_t>(h), Half::from_bits());
    ASSERT_EQ(bits(half_to_float_reference(x)), bits(half_to_float(x)))
        << "float16 bits 0x" << std::hex << h;
  }
}

TEST(Fp16Reference, WideningFieldsByHand) {
  EXPECT_EQ(half_to_float_reference(Half(0x3C00, Half::from_bits())), 1.0F);
  EXPECT_EQ(half_to_float_reference(Half(0x7BFF, Half::from_bits())), 65504.0F);  // largest
  EXPECT_EQ(half_to_float_reference(Half(0x0400, Half::from_bits())), 0x1p-14F);  // min normal
  EXPECT_EQ(half_to_float_reference(Half(0x0001, Half::from_bits())), 0x1p-24F);  // subnormal
  EXPECT_EQ(half_to_float_reference(Half(0x03FF, Half::from_bits())), 1023 * 0x1p-24F);
  EXPECT_EQ(bits(half_to_float_reference(Half(0x8000, Half::from_bits()))), 0x80000000U);  // -0
  EXPECT_EQ(half_to_float_reference(Half(0xFC00, Half::from_bits())),
            -std::numeric_limits<float>::infinity());
  // A signalling NaN (quiet bit clear) comes back quiet, payload moved up 13 places.
  EXPECT_EQ(bits(half_to_float_reference(Half(0x7C01, Half::from_bits()))), 0x7FC02000U);
}

TEST(Bf16Reference, TiesGoToTheEvenNeighbour) {
  // 1 + 2^-8 is halfway between 1 (0x3F80, last bit 0) and 1 + 2^-7 (0x3F81): down to 1.
  EXPECT_EQ(bf16_bits(1.0F + 0x1p-8F), 0x3F80);
  // 1 + 3·2^-8 is halfway between 0x3F81 (odd) and 0x3F82 (even): up.
  EXPECT_EQ(bf16_bits(1.0F + 3 * 0x1p-8F), 0x3F82);
  // Just past halfway rounds up, just short rounds down.
  EXPECT_EQ(bf16_bits(from_bits(0x3F808001U)), 0x3F81);
  EXPECT_EQ(bf16_bits(from_bits(0x3F807FFFU)), 0x3F80);
  EXPECT_EQ(bf16_bits(from_bits(0x3F7FFFFFU)), 0x3F80);  // the carry runs into the exponent: 1.0
  EXPECT_EQ(bf16_bits(0.1F), 0x3DCD);  // 0x3DCCCCCD: dropped 0xCCCD > 0x8000, up to 0.10009765625
}

TEST(Bf16Reference, OverflowInfAndNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(bf16_bits(std::numeric_limits<float>::max()), 0x7F80);  // rounds up to inf
  EXPECT_EQ(bf16_bits(-std::numeric_limits<float>::max()), 0xFF80);
  EXPECT_EQ(bf16_bits(from_bits(0x7F7F7FFFU)), 0x7F7F);  // just under the tie: largest finite
  EXPECT_EQ(bf16_bits(inf), 0x7F80);
  EXPECT_EQ(bf16_bits(-inf), 0xFF80);
  EXPECT_EQ(bf16_bits(from_bits(0x7F800001U)), 0x7FC0);  // signalling NaN, low payload: quiet
  EXPECT_EQ(bf16_bits(from_bits(0xFFFFFFFFU)), 0xFFFF);  // sign and top payload kept
  EXPECT_EQ(bf16_bits(from_bits(0x00000001U)), 0x0000);  // float32's smallest subnormal
}

TEST(Fp16Reference, TiesOverflowAndSubnormals) {
  EXPECT_EQ(half_bits(1.0F + 0x1p-11F), 0x3C00);         // tie, down to the even 1.0
  EXPECT_EQ(half_bits(1.0F + 3 * 0x1p-11F), 0x3C02);     // tie, up to the even neighbour
  EXPECT_EQ(half_bits(65504.0F), 0x7BFF);                // largest finite
  EXPECT_EQ(half_bits(65519.996F), 0x7BFF);              // short of the tie
  EXPECT_EQ(half_bits(65520.0F), 0x7C00);                // the tie: 0x7BFF is odd, so inf
  EXPECT_EQ(half_bits(-1e6F), 0xFC00);                   // overflow keeps the sign
  EXPECT_EQ(half_bits(0x1p-14F), 0x0400);                // smallest normal
  EXPECT_EQ(half_bits(0x1p-24F), 0x0001);                // smallest subnormal
  EXPECT_EQ(half_bits(0x1p-25F), 0x0000);                // half of it: a tie, to the even 0
  EXPECT_EQ(half_bits(from_bits(0x33000001U)), 0x0001);  // just past that tie
  EXPECT_EQ(half_bits(3 * 0x1p-25F), 0x0002);            // 1.5 steps: tie, to the even 2
  EXPECT_EQ(half_bits(-0x1p-26F), 0x8000);               // underflow keeps the sign: -0
  EXPECT_EQ(half_bits(0x1p-14F - 0x1p-26F), 0x0400);     // rounds up into the smallest normal
  EXPECT_EQ(half_bits(0.1F), 0x2E66);                    // 0.0999755859375
  EXPECT_EQ(half_bits(from_bits(0x7F800001U)), 0x7E00);  // NaN made quiet
  EXPECT_EQ(half_bits(from_bits(0xFFC12345U)), 0xFE09);  // sign and top 9 payload bits kept
}

TEST(Bf16Reference, SweepMatchesTheGivenConversionBitForBit) {
  int64_t checked = 0;
  for (const uint32_t u : float_patterns()) {
    ASSERT_EQ(bf16_bits(from_bits(u)), float_to_bf16(from_bits(u)).bits)
        << "float_to_bf16_reference(float bits 0x" << std::hex << u << ")";
    ++checked;
  }
  EXPECT_GT(checked, 1'000'000);
}

TEST(Fp16Reference, SweepMatchesTheGivenConversionBitForBit) {
  int64_t checked = 0;
  for (const uint32_t u : float_patterns()) {
    ASSERT_EQ(half_bits(from_bits(u)), float_to_half(from_bits(u)).bits)
        << "float_to_half_reference(float bits 0x" << std::hex << u << ")";
    ++checked;
  }
  EXPECT_GT(checked, 1'000'000);
}

// ── the reference tier runs them ────────────────────────────────────────────────────────────────

TEST(ReferenceTier, TensorToRunsTheReferenceConversions) {
  const TierGuard reference(Tier::kReference);
  const Tensor x = tensor({1.0F + 0x1p-8F, 65520.0F, 0x1p-24F, -0.0F, 3.0e38F});
  EXPECT_EQ(x.to(kBFloat16).to(kFloat32).data_ptr<float>()[0], 1.0F);
  const Tensor h = x.to(kHalf);
  EXPECT_EQ(h.data_ptr<Half>()[1].bits, 0x7C00);
  EXPECT_EQ(h.data_ptr<Half>()[2].bits, 0x0001);
  EXPECT_EQ(h.data_ptr<Half>()[3].bits, 0x8000);
  EXPECT_EQ(x.to(kBFloat16).data_ptr<BFloat16>()[4].bits, float_to_bf16(3.0e38F).bits);
  EXPECT_EQ(h.to(kFloat32).data_ptr<float>()[2], 0x1p-24F);
}

}  // namespace
}  // namespace tinytorch::kernels
