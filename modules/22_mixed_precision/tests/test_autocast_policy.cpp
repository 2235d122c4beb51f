// Module 22, Part 6 — autocast's cast decision and its cache rule (tinytorch/src/amp/autocast.cpp):
// which tensors autocast may cast (float32, bfloat16, float16; never float64, integers, bool),
// the dtype an op's policy gives its arguments (lower_precision_fp: the region's dtype; fp32:
// float32; promote: the widest eligible dtype), the ops of a region running in those dtypes, and
// which casts are cached (float32 leaves that require grad, not views, grad mode and the cache
// on) — with a weight's gradient coming back float32 through its one cached cast.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "tinytorch/amp/autocast.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

namespace ac = autocast::detail;
using ac::CastPolicy;

Tensor with_dtype(ScalarType dtype) {
  return ones({2, 2}, kFloat32).to(dtype);
}

// ── the cast decision ───────────────────────────────────────────────────────────────────────

TEST(AutocastPolicy, OnlyFloat32AndSixteenBitTensorsAreEligible) {
  for (const ScalarType dtype : {kFloat32, kBFloat16, kHalf}) {
    EXPECT_TRUE(ac::is_eligible(with_dtype(dtype))) << dtype << " should be eligible";
  }
  for (const ScalarType dtype : {kFloat64, kInt64, kInt32, kBool}) {
    EXPECT_FALSE(ac::is_eligible(with_dtype(dtype)))
        << dtype << " must never be cast (float64 is never narrowed; integers are indices)";
  }
  EXPECT_FALSE(ac::is_eligible(Tensor())) << "an undefined tensor (no bias) is not eligible";
}

TEST(AutocastPolicy, LowerPrecisionGivesTheRegionsDtypeAndFp32GivesFloat32) {
  const std::vector<Tensor> args{with_dtype(kFloat32), with_dtype(kBFloat16)};
  {
    const autocast::AutocastGuard guard(kCPU, kBFloat16);
    EXPECT_EQ(ac::cast_dtype(CastPolicy::lower_precision_fp, args), kBFloat16);
    EXPECT_EQ(ac::cast_dtype(CastPolicy::fp32, args), kFloat32);
  }
  const autocast::AutocastGuard guard(kCPU, kHalf);
  EXPECT_EQ(ac::cast_dtype(CastPolicy::lower_precision_fp, args), kHalf)
      << "lower_precision_fp is the region's dtype (get_autocast_cpu_dtype()), not always bf16";
  EXPECT_EQ(ac::cast_dtype(CastPolicy::fp32, {with_dtype(kHalf)}), kFloat32);
}

TEST(AutocastPolicy, PromoteTakesTheWidestEligibleDtype) {
  const autocast::AutocastGuard guard(kCPU, kBFloat16);
  const auto promote = [](std::vector<Tensor> args) {
    return ac::cast_dtype(CastPolicy::promote, args);
  };
  EXPECT_EQ(promote({with_dtype(kBFloat16), with_dtype(kBFloat16)}), kBFloat16);
  EXPECT_EQ(promote({with_dtype(kBFloat16), with_dtype(kFloat32)}), kFloat32);
  EXPECT_EQ(promote({with_dtype(kFloat32), with_dtype(kBFloat16)}), kFloat32);
  EXPECT_EQ(promote({with_dtype(kBFloat16), with_dtype(kFloat64)}), kBFloat16)
      << "float64 is not eligible: it takes no part in the decision";
  EXPECT_EQ(promote({with_dtype(kInt64), Tensor(), with_dtype(kBFloat16)}), kBFloat16);
  EXPECT_EQ(promote({with_dtype(kInt64)}), std::nullopt) << "no eligible argument: nothing to cast";
  EXPECT_EQ(promote({}), std::nullopt);
}

TEST(AutocastPolicy, OpsInARegionRunInTheirPolicysDtype) {
  manual_seed(0);
  const Tensor x = randn({4, 3}), w = randn({5, 3}), b = randn({5});
  const autocast::AutocastGuard guard(kCPU, kBFloat16);
  EXPECT_EQ(linear(x, w, b).dtype(), kBFloat16) << "linear is lower_precision_fp";
  EXPECT_EQ(matmul(x, w.t()).dtype(), kBFloat16) << "matmul is lower_precision_fp";
  const Tensor logits = randn({4, 5}).to(kBFloat16);
  const Tensor target = tensor({0, 4, 2, 1}, kInt64);
  EXPECT_EQ(nn::functional::cross_entropy(logits, target).dtype(), kFloat32)
      << "cross_entropy is fp32: a bfloat16 input is cast up";
  EXPECT_EQ(mse_loss(logits, logits.detach()).dtype(), kFloat32) << "mse_loss is fp32";
  EXPECT_EQ(cat({logits, randn({1, 5})}).dtype(), kFloat32) << "cat promotes bf16 + f32 to f32";
  EXPECT_EQ(softmax(x, 1).dtype(), kFloat32) << "softmax is in no list: it runs as it arrives";
  EXPECT_EQ(matmul(x.to(kFloat64), w.t().to(kFloat64)).dtype(), kFloat64)
      << "float64 is never cast";
}

// ── the cache rule ──────────────────────────────────────────────────────────────────────────

TEST(AutocastCache, AWeightIsCastOncePerRegion) {
  manual_seed(1);
  const Tensor w = randn({5, 3}).requires_grad_();
  Tensor first;
  {
    const autocast::AutocastGuard guard(kCPU, kBFloat16);
    EXPECT_TRUE(ac::is_cacheable(w, kBFloat16)) << "a float32 leaf that requires grad: a weight";
    first = ac::cached_cast(kBFloat16, w);
    EXPECT_EQ(first.dtype(), kBFloat16);
    EXPECT_TRUE(ac::cached_cast(kBFloat16, w).is_same(first))
        << "the second op reading the weight must get the same cast";
  }
  const autocast::AutocastGuard again(kCPU, kBFloat16);
  EXPECT_FALSE(ac::cached_cast(kBFloat16, w).is_same(first))
      << "the cache is emptied when the outermost region ends";
}

TEST(AutocastCache, ActivationsViewsAndCastsWithoutHistoryAreNotCached) {
  manual_seed(2);
  const Tensor w = randn({4, 4}).requires_grad_();
  const autocast::AutocastGuard guard(kCPU, kBFloat16);
  EXPECT_FALSE(ac::is_cacheable(randn({4, 4}), kBFloat16)) << "data: requires no grad";
  EXPECT_FALSE(ac::is_cacheable(w * 2, kBFloat16)) << "an activation: not a leaf";
  EXPECT_FALSE(ac::is_cacheable(w.view({16}), kBFloat16)) << "a view of a weight";
  EXPECT_FALSE(ac::is_cacheable(randn({4, 4}).view({16}).requires_grad_(), kBFloat16))
      << "a view is never cached, even a leaf that requires grad (as in PyTorch)";
  EXPECT_FALSE(ac::is_cacheable(randn({4}).to(kHalf).requires_grad_(), kBFloat16))
      << "only float32 sources are cached";
  EXPECT_FALSE(ac::is_cacheable(w, kHalf)) << "only casts to the region's dtype are cached";
  {
    const NoGradGuard no_grad;
    EXPECT_FALSE(ac::is_cacheable(w, kBFloat16))
        << "a cast made with grad mode off has no history; a later recorded op must not get it";
  }
  const autocast::AutocastGuard no_cache(kCPU, kBFloat16, true, /*cache_enabled=*/false);
  EXPECT_FALSE(ac::is_cacheable(w, kBFloat16)) << "the cache is disabled in this region";
}

// One weight read by two linears in a region: one cached cast, one ToCopyBackward0, and a float32
// gradient equal to the same computation written with explicit casts.
TEST(AutocastCache, AWeightReadTwiceGetsOneFloat32Gradient) {
  manual_seed(3);
  const Tensor x = randn({6, 4});
  const Tensor w = randn({4, 4}).requires_grad_();
  Tensor loss;
  {
    const autocast::AutocastGuard guard(kCPU, kBFloat16);
    loss = mse_loss(linear(linear(x, w, {}), w, {}), zeros({6, 4}));
  }
  loss.backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_EQ(w.grad().dtype(), kFloat32) << "the optimizer must see a float32 gradient";

  const Tensor w2 = w.detach().clone().requires_grad_();
  const Tensor w2_bf16 = w2.to(kBFloat16);
  const Tensor y = linear(linear(x.to(kBFloat16), w2_bf16, {}), w2_bf16, {});
  mse_loss(y.to(kFloat32), zeros({6, 4})).backward();
  EXPECT_TRUE(w.grad().equal(w2.grad())) << "the gradient differs from the explicit casts'";
}

}  // namespace
}  // namespace tinytorch
