// The 16-bit float dtypes' basic contract, the ground every other amp test stands on: a float32
// converted to bfloat16/float16 becomes the nearest representable value, ties to even, and a
// value past the format's largest finite one becomes inf (IEEE), never a saturated maximum.
#include <gtest/gtest.h>

#include <cmath>

#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;

TEST(AmpDtypes, ConversionRoundsToNearestEven) {
  // bfloat16 keeps 7 fraction bits: the neighbours of 1 are 1 and 1 + 2^-7, so 1 + 2^-8 is a
  // tie (rounds to the even 1) and anything above it rounds up.
  const tt::Tensor x = tt::tensor({1.0f + 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-16f});
  const tt::Tensor b = x.to(tt::kBFloat16).to(tt::kFloat32);
  EXPECT_EQ(b[0].item<float>(), 1.0f);
  EXPECT_EQ(b[1].item<float>(), 1.0f + 0x1p-7f);
}

TEST(AmpDtypes, OverflowBecomesInfinity) {
  // float16's largest finite value is 65504 and its step there is 32: 65520 is the midpoint to
  // the next (unrepresentable) step, so it rounds away to inf; 65519 still rounds to 65504.
  const tt::Tensor x = tt::tensor({65519.0f, 65520.0f});
  const tt::Tensor h = x.to(tt::kHalf).to(tt::kFloat32);
  EXPECT_EQ(h[0].item<float>(), 65504.0f);
  EXPECT_TRUE(std::isinf(h[1].item<float>()));
}
