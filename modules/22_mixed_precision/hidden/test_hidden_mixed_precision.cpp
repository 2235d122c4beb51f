// Module 22 (grader) — the reference conversions on random float32 patterns and on every float16
// subnormal's neighbourhood, Tensor::to() on the reference tier; GradScaler with other growth and
// backoff factors; autocast's decision in a float16 region, promote and fp32 on other ops, the
// cache rule on other tensors and a small network's float32 gradients; checkpoints with two
// inputs and a deeper stack. The checks are graded ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "support/graded.h"
#include "tinytorch/amp/autocast.h"
#include "tinytorch/amp/grad_scaler.h"
#include "tinytorch/kernels/half.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/utils/checkpoint.h"

namespace tinytorch {
namespace {

using kernels::BFloat16;
using kernels::Half;

std::vector<float> random_floats(uint32_t seed, int n) {
  std::mt19937 gen(seed);
  std::vector<float> out;
  for (int i = 0; i < n; ++i) out.push_back(std::bit_cast<float>(static_cast<uint32_t>(gen())));
  return out;
}

TEST(HiddenConversions, RandomFloat32PatternsNarrowToTheGivenBits) {
  const std::vector<float> xs = random_floats(2022, 4096);
  std::vector<int64_t> bf, h, bf_want, h_want;
  for (const float x : xs) {
    bf.push_back(kernels::float_to_bf16_reference(x).bits);
    h.push_back(kernels::float_to_half_reference(x).bits);
  }
  TT_GRADE_EXPECTED_ONLY(for (const float x
                              : xs) {
    bf_want.push_back(kernels::float_to_bf16(x).bits);
    h_want.push_back(kernels::float_to_half(x).bits);
  });
  TT_GRADE_EQ(bf, bf_want);
  TT_GRADE_EQ(h, h_want);
}

TEST(HiddenConversions, Float16SubnormalsAndTheirMidpoints) {
  // Every subnormal step m · 2^-24 and the points a quarter, half and three quarters above it.
  std::vector<float> xs;
  for (int m = 0; m < 1025; ++m) {
    for (const float frac : {0.0F, 0.25F, 0.5F, 0.75F}) xs.push_back((m + frac) * 0x1p-24F);
  }
  std::vector<int64_t> got, back, want, back_want;
  for (const float x : xs) {
    const Half hx = kernels::float_to_half_reference(-x);
    got.push_back(hx.bits);
    back.push_back(std::bit_cast<uint32_t>(kernels::half_to_float_reference(hx)));
  }
  TT_GRADE_EXPECTED_ONLY(for (const float x
                              : xs) {
    const Half hx = kernels::float_to_half(-x);
    want.push_back(hx.bits);
    back_want.push_back(std::bit_cast<uint32_t>(kernels::half_to_float(hx)));
  });
  TT_GRADE_EQ(got, want);
  TT_GRADE_EQ(back, back_want);
}

TEST(HiddenConversions, ReferenceTierTensorToRoundTrips) {
  const kernels::TierGuard reference(kernels::Tier::kReference);
  const Tensor x = tensor({{1.00390625F, -70000.0F, 1e-8F}, {0.1F, 65519.0F, -0.0F}});
  // Compared as bit patterns: -inf and -0 are values of their own.
  const auto bits_of = [](const Tensor& t) {
    std::vector<int64_t> out;
    for (const float v : t.to_vector<float>()) out.push_back(std::bit_cast<uint32_t>(v));
    return out;
  };
  const std::vector<int64_t> bf = bits_of(x.to(kBFloat16).to(kFloat32));
  const std::vector<int64_t> h = bits_of(x.to(kHalf).to(kFloat32));
  std::vector<int64_t> bf_want, h_want;
  TT_GRADE_EXPECTED_ONLY(for (const float v
                              : x.to_vector<float>()) {
    bf_want.push_back(std::bit_cast<uint32_t>(kernels::bf16_to_float(kernels::float_to_bf16(v))));
    h_want.push_back(std::bit_cast<uint32_t>(kernels::half_to_float(kernels::float_to_half(v))));
  });
  TT_GRADE_EQ(bf, bf_want);
  TT_GRADE_EQ(h, h_want);
}

TEST(HiddenGradScaler, OtherGrowthAndBackoffFactors) {
  Tensor w = full({3}, 1.0).requires_grad_();
  optim::SGD sgd(std::vector<Tensor>{w}, optim::SGDOptions(0.1));
  amp::GradScaler scaler(amp::GradScalerOptions{
      .init_scale = 64.0, .growth_factor = 4.0, .backoff_factor = 0.25, .growth_interval = 2});
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> scales;
  std::vector<int64_t> applied;
  for (const double g : {1.0, 1.0, inf, 1.0, std::nan(""), 1.0, 1.0}) {
    w.mutable_grad() = full({3}, 1.0);
    {
      const NoGradGuard no_grad;
      w.grad().select(0, 1).fill_(g);
    }
    applied.push_back(scaler.step(sgd) ? 1 : 0);
    scaler.update();
    scales.push_back(scaler.get_scale());
  }
  TT_GRADE_EQ(applied, (std::vector<int64_t>{1, 1, 0, 1, 0, 1, 1}));
  TT_GRADE_EQ(scales, (std::vector<double>{64.0, 256.0, 64.0, 64.0, 16.0, 16.0, 64.0}));
}

TEST(HiddenGradScaler, Float16GradientsUnscaleExactly) {
  Tensor w = zeros({4}, kHalf).requires_grad_();
  optim::SGD sgd(std::vector<Tensor>{w}, optim::SGDOptions(1.0));
  amp::GradScaler scaler(amp::GradScalerOptions{.init_scale = 32768.0});
  w.mutable_grad() = tensor({3.0F, -0.5F, 60000.0F, 0.0F}).to(kHalf);
  scaler.unscale_(sgd);
  TT_GRADE_EQ(w.grad().to(kFloat32).to_vector<float>(),
              (std::vector<float>{3.0F / 32768, -0.5F / 32768, 60000.0F / 32768, 0.0F}));
  scaler.update();
  TT_GRADE_EQ(scaler.get_growth_tracker(), 1);
}

// The dtype cast_dtype gives, by name, or "none".
std::string decision(autocast::detail::CastPolicy policy, const std::vector<Tensor>& args) {
  const std::optional<ScalarType> to = autocast::detail::cast_dtype(policy, args);
  return to ? std::string(to_string(*to)) : "none";
}

TEST(HiddenAutocast, DecisionInAFloat16Region) {
  using autocast::detail::CastPolicy;
  const Tensor f32 = ones({2}), bf16 = f32.to(kBFloat16), f16 = f32.to(kHalf);
  const Tensor f64 = f32.to(kFloat64), i64 = f32.to(kInt64), u8 = f32.to(kUInt8);
  const autocast::AutocastGuard guard(kCPU, kHalf);
  TT_GRADE_EQ(
      (std::vector<bool>{autocast::detail::is_eligible(f16), autocast::detail::is_eligible(bf16),
                         autocast::detail::is_eligible(f64), autocast::detail::is_eligible(u8)}),
      (std::vector<bool>{true, true, false, false}));
  TT_GRADE_EQ(decision(CastPolicy::lower_precision_fp, {f64, i64}), "float16");
  TT_GRADE_EQ(decision(CastPolicy::fp32, {f16}), "float32");
  TT_GRADE_EQ(decision(CastPolicy::promote, {f16, f16}), "float16");
  TT_GRADE_EQ(decision(CastPolicy::promote, {f16, i64, f32}), "float32");
  TT_GRADE_EQ(decision(CastPolicy::promote, {f64, f64}), "none");
  TT_GRADE_EQ(decision(CastPolicy::promote, {Tensor(), u8}), "none");
}

TEST(HiddenAutocast, OtherOpsRunInTheirPolicysDtype) {
  Generator gen(21);
  const Tensor img = randn({1, 2, 5, 5}, {}, &gen), filt = randn({3, 2, 3, 3}, {}, &gen);
  const Tensor a = randn({2, 3, 4}, {}, &gen), b = randn({2, 4, 2}, {}, &gen);
  const Tensor logp = log_softmax(randn({3, 4}, {}, &gen), 1).to(kBFloat16);
  const Tensor target = tensor({1, 0, 3}, kInt64);
  std::vector<std::string> dtypes;
  const auto record = [&](const Tensor& t) { dtypes.emplace_back(to_string(t.dtype())); };
  {
    const autocast::AutocastGuard guard(kCPU, kBFloat16);
    record(nn::functional::conv2d(img, filt));
    record(bmm(a, b));
    record(nll_loss(logp, target));
    record(logp.prod());
    record(l1_loss(logp, logp.detach()));
    record(stack({a.to(kBFloat16), a}));
    record(stack({a.to(kBFloat16), a.to(kBFloat16)}));
    record(cat({a.to(kBFloat16), a.to(kFloat64)}));
    record(gelu(a.to(kBFloat16)));
  }
  TT_GRADE_EQ(dtypes,
              (std::vector<std::string>{"bfloat16", "bfloat16", "float32", "float32", "float32",
                                        "float32", "bfloat16", "float64", "bfloat16"}));
}

TEST(HiddenAutocast, CacheRuleOnOtherTensors) {
  const Tensor w = ones({3, 4}).requires_grad_();
  const autocast::AutocastGuard guard(kCPU, kBFloat16);
  const auto cached = [](const Tensor& t) {
    return autocast::detail::cached_cast(kBFloat16, t)
        .is_same(autocast::detail::cached_cast(kBFloat16, t));
  };
  std::vector<bool> got{
      cached(w),
      cached(w.t()),
      cached(w.select(0, 1)),
      cached(w.detach()),
      cached(ones({12}).narrow(0, 2, 6).requires_grad_()),
      autocast::detail::is_cacheable(ones({2}, kFloat64).requires_grad_(), kBFloat16),
      autocast::detail::is_cacheable(ones({2}).requires_grad_(), kBFloat16)};
  {
    const autocast::AutocastGuard inner(kCPU, kBFloat16, true, /*cache_enabled=*/false);
    got.push_back(autocast::detail::is_cacheable(w, kBFloat16));
  }
  got.push_back(autocast::detail::is_cacheable(w, kBFloat16));  // the outer region's cache again
  TT_GRADE_EQ(got, (std::vector<bool>{true, false, false, false, false, false, true, false, true}));
}

// Linear → ReLU → Linear → cross_entropy under autocast: float32 gradients equal to the same
// network written with explicit casts (bf16 GEMMs, the loss in float32).
TEST(HiddenAutocast, SmallNetworkGradientsAreTheExplicitCasts) {
  Generator gen(22);
  const Tensor x = randn({5, 6}, {}, &gen), y = tensor({0, 2, 1, 2, 0}, kInt64);
  const Tensor w1 = randn({8, 6}, {}, &gen).requires_grad_(),
               b1 = randn({8}, {}, &gen).requires_grad_();
  const Tensor w2 = randn({3, 8}, {}, &gen).requires_grad_();
  Tensor loss;
  {
    const autocast::AutocastGuard guard(kCPU, kBFloat16);
    loss = nn::functional::cross_entropy(linear(relu(linear(x, w1, b1)), w2, {}), y);
  }
  loss.backward();
  const std::vector<Tensor> params{w1, b1, w2};
  std::vector<Tensor> copies;
  for (const Tensor& p : params) copies.push_back(p.detach().clone().requires_grad_());
  const auto bf = [](const Tensor& t) { return t.to(kBFloat16); };
  const Tensor h = relu(linear(bf(x), bf(copies[0]), bf(copies[1])));
  const Tensor explicit_loss =
      nn::functional::cross_entropy(linear(h, bf(copies[2]), {}).to(kFloat32), y);
  explicit_loss.backward();
  TT_GRADE_TRUE(test::graded::identical(loss, explicit_loss));
  for (size_t i = 0; i < params.size(); ++i) {
    ASSERT_TRUE(params[i].grad().defined());
    TT_GRADE_EQ(params[i].grad().dtype(), kFloat32);
    TT_GRADE_TRUE(test::graded::identical(params[i].grad(), copies[i].grad()));
  }
}

TEST(HiddenCheckpoint, TwoInputsMatchThePlainRun) {
  manual_seed(4);
  const Tensor a0 = randn({6, 5}), b0 = randn({5, 3});
  const auto f = [](const Tensor& a, const Tensor& b) { return a.matmul(b).sigmoid() * a.sum(); };
  Tensor a1 = a0.clone().requires_grad_(), b1 = b0.clone().requires_grad_();
  f(a1, b1).pow(2).sum().backward();
  Tensor a2 = a0.clone().requires_grad_(), b2 = b0.clone().requires_grad_();
  utils::checkpoint(f, a2, b2).pow(2).sum().backward();
  TT_GRADE_TRUE(test::graded::identical(a1.grad(), a2.grad()));
  TT_GRADE_TRUE(test::graded::identical(b1.grad(), b2.grad()));
}

TEST(HiddenCheckpoint, DeeperStackWithLayerNormAndDropout) {
  const auto make = [] {
    manual_seed(9);
    nn::Sequential seq;
    for (int i = 0; i < 4; ++i) {
      seq->push_back(nn::Linear(16, 16));
      seq->push_back(nn::LayerNorm(nn::LayerNormOptions({16})));
      seq->push_back(nn::Dropout(0.25));
    }
    return seq;
  };
  const auto grads = [&](int64_t segments) {
    nn::Sequential seq = make();
    manual_seed(12);
    Tensor x = randn({7, 16}).requires_grad_();
    const Tensor y =
        segments == 0 ? seq->forward(x) : utils::checkpoint_sequential(seq, segments, x);
    y.pow(2).sum().backward();
    std::vector<Tensor> out{x.grad()};
    for (const Tensor& p : seq->parameters()) out.push_back(p.grad());
    return out;
  };
  const std::vector<Tensor> plain = grads(0);
  for (const int64_t segments : {4, 12}) {
    const std::vector<Tensor> ck = grads(segments);
    bool same = ck.size() == plain.size();
    for (size_t i = 0; same && i < ck.size(); ++i) {
      same = ck[i].defined() && test::graded::identical(plain[i], ck[i]);
    }
    TT_GRADE_TRUE(same);
  }
}

}  // namespace
}  // namespace tinytorch
