// Module 09 — hidden (grader) tests of the convolution: randomized properties the visible tests do
// not spell out.
//
// conv2d on random geometries (stride, padding, dilation, groups, non-square everything) and
// random memory layouts against the seven-loop definition on both tiers; gradchecks on random
// geometries; empty batches; a kernel exactly as large as the padded input; gradients that
// accumulate; the backward's own checks; im2col's; and a small CNN that learns. Seeds are fixed,
// so failures reproduce; each names its trial. The checks are graded ones
// (tests/support/graded.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "../tests/conv_test_util.h"
#include "support/graded.h"
#include "tinytorch/autograd/gradcheck.h"

namespace tinytorch {
namespace {

using I = std::vector<int64_t>;
using test::conv;
using test::conv_naive;
using test::ConvArgs;
using test::Tier;
using test::TierGuard;

// A random valid problem: the input is made large enough for the dilated kernel.
test::RandomConv random_problem(std::mt19937& rng, bool small) {
  auto pick = [&](int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(rng() % static_cast<uint32_t>(hi - lo + 1));
  };
  const int64_t groups = pick(1, 3);
  const int64_t cg = pick(1, small ? 2 : 3), kg = pick(1, small ? 2 : 3);
  const int64_t r = pick(1, 3), s = pick(1, 3);
  ConvArgs a;
  a.stride = {pick(1, 3), pick(1, 3)};
  a.padding = {pick(0, 2), pick(0, 2)};
  a.dilation = {pick(1, 2), pick(1, 2)};
  a.groups = groups;
  const int64_t span_h = a.dilation[0] * (r - 1) + 1, span_w = a.dilation[1] * (s - 1) + 1;
  const int64_t h = std::max<int64_t>(1, span_h - 2 * a.padding[0]) + pick(0, small ? 3 : 6);
  const int64_t w = std::max<int64_t>(1, span_w - 2 * a.padding[1]) + pick(0, small ? 3 : 6);
  return {{pick(1, small ? 2 : 3), groups * cg, h, w}, {groups * kg, cg, r, s}, rng() % 2 == 0, a};
}

// The same values in one of several layouts: contiguous, channels-last storage viewed as NCHW,
// a strided slice of a wider tensor, or spatial dims stored transposed.
Tensor random_layout(const Tensor& t, std::mt19937& rng) {
  switch (rng() % 4) {
    case 1:
      return t.permute({0, 2, 3, 1}).contiguous().permute({0, 3, 1, 2});
    case 2: {
      I wide(t.sizes().begin(), t.sizes().end());
      wide.back() *= 2;
      Tensor big = zeros(wide, t.dtype());
      big.slice(-1, 0, wide.back(), 2).copy_(t);
      return big.slice(-1, 0, wide.back(), 2);
    }
    case 3:
      return t.transpose(2, 3).contiguous().transpose(2, 3);
    default:
      return t;
  }
}

std::string problem_str(const test::RandomConv& p) {
  return test::shape_str(p.x_shape) + " * " + test::shape_str(p.w_shape) +
         (p.bias ? " + bias, " : ", ") + test::args_str(p.args);
}

TEST(HiddenConv2d, RandomGeometriesAndLayoutsMatchTheDefinition) {
  std::mt19937 rng(2024);
  Generator gen(7);
  for (int trial = 0; trial < 60; ++trial) {
    const test::RandomConv p = random_problem(rng, /*small=*/false);
    const ScalarType dt = trial % 3 == 0 ? kFloat64 : kFloat32;
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + problem_str(p));
    const Tensor x = randn(p.x_shape, dt, &gen), w = randn(p.w_shape, dt, &gen);
    const Tensor b = p.bias ? randn({p.w_shape[0]}, dt, &gen) : Tensor();
    Tensor expected;
    TT_GRADE_EXPECTED_ONLY(expected = conv_naive(x, w, b, p.args));
    const Tensor xl = random_layout(x, rng), wl = random_layout(w, rng);
    const double tol = test::conv_tol(dt, p.w_shape[1] * p.w_shape[2] * p.w_shape[3]) * 4;
    for (const Tier tier : test::kTiers) {
      const TierGuard guard(tier);
      TT_GRADE_TENSOR(conv(xl, wl, b, p.args), expected, tol, tol)
          << test::tier_name(tier) << " tier";
    }
  }
}

TEST(HiddenConv2d, RandomGradchecks) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  std::mt19937 rng(77);
  Generator gen(8);
  for (int trial = 0; trial < 12; ++trial) {
    const test::RandomConv p = random_problem(rng, /*small=*/true);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + problem_str(p));
    const Tensor x = randn(p.x_shape, kFloat64, &gen).requires_grad_();
    const Tensor w = randn(p.w_shape, kFloat64, &gen).requires_grad_();
    const Tensor b = randn({p.w_shape[0]}, kFloat64, &gen).requires_grad_();
    const auto fn = [&](const std::vector<Tensor>& in) {
      return conv(in[0], in[1], p.bias ? in[2] : Tensor(), p.args);
    };
    const std::vector<Tensor> inputs =
        p.bias ? std::vector<Tensor>{x, w, b} : std::vector<Tensor>{x, w};
    const auto result = autograd::gradcheck(fn, inputs);
    TT_GRADE_TRUE(result.ok) << result.message;
    // And the gradients themselves, as the reference solution computes them.
    for (const auto& g : autograd::grad({fn(inputs).sum()}, inputs)) {
      TT_GRADE_SAME_AS_REFERENCE(g, 1e-10, 1e-12);
    }
  }
}

TEST(HiddenConv2d, TiersAgreeOnGradients) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  std::mt19937 rng(5);
  Generator gen(9);
  for (int trial = 0; trial < 10; ++trial) {
    const test::RandomConv p = random_problem(rng, /*small=*/false);
    SCOPED_TRACE("trial " + std::to_string(trial) + ": " + problem_str(p));
    const Tensor x0 = randn(p.x_shape, kFloat32, &gen), w0 = randn(p.w_shape, kFloat32, &gen);
    const Tensor b0 = randn({p.w_shape[0]}, kFloat32, &gen);
    std::vector<std::vector<Tensor>> grads;
    for (const Tier tier : test::kTiers) {
      const TierGuard guard(tier);
      const Tensor x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_();
      const Tensor b = b0.clone().requires_grad_();
      const Tensor y = conv(x, w, b, p.args);
      (y * y).sum().backward();
      grads.push_back({x.grad(), w.grad(), b.grad()});
    }
    // Both tiers against the reference solution's reference tier.
    for (size_t i = 0; i < 3; ++i) {
      TT_GRADE_SAME_AS_REFERENCE(grads[0][i], 1e-3, 1e-3);
      TT_GRADE_TENSOR(grads[1][i], grads[0][i], 1e-3, 1e-3);
    }
  }
}

TEST(HiddenConv2d, EmptyBatch) {
  const Tensor x = zeros({0, 3, 6, 6}), w = ones({4, 3, 3, 3}), b = ones({4});
  const Tensor y = conv2d(x, w, b, 1, 1);
  TT_GRADE_EQ(y.sizes(), IntArrayRef({0, 4, 6, 6}));
  const auto [gx, gw, gb] =
      native::conv2d_backward(zeros({0, 4, 6, 6}), x, w, {1}, {1}, {1}, 1, {true, true, true});
  TT_GRADE_EQ(gx.sizes(), IntArrayRef({0, 3, 6, 6}));
  TT_GRADE_TENSOR(gw, zeros({4, 3, 3, 3}), 0, 0);
  TT_GRADE_TENSOR(gb, zeros({4}), 0, 0);
}

TEST(HiddenConv2d, KernelAsLargeAsThePaddedInput) {
  // A 3×3 image padded by 1 is 5×5: a 5×5 kernel fits exactly once → one output per channel,
  // the full correlation of the image with the kernel's centre 3×3.
  Generator gen(3);
  const Tensor x = randn({2, 2, 3, 3}, kFloat64, &gen), w = randn({3, 2, 5, 5}, kFloat64, &gen);
  const Tensor y = conv2d(x, w, {}, 1, 1);
  Tensor by_hand;
  TT_GRADE_EXPECTED_ONLY(
      const Tensor centre = w.slice(2, 1, 4).slice(3, 1, 4);  // [3, 2, 3, 3]
      by_hand = (x.unsqueeze(1) * centre.unsqueeze(0)).sum({2, 3, 4}).reshape({2, 3, 1, 1}));
  TT_GRADE_TENSOR(y, by_hand, 1e-12, 1e-12);
}

TEST(HiddenConv2d, PaddingLargerThanTheKernelGrowsTheOutput) {
  // Padding 3 with a 1×1 kernel: a border of bias-only values around the scaled image.
  const Tensor x = ones({1, 1, 2, 2}), w = full({1, 1, 1, 1}, 2.0), b = full({1}, 0.5);
  Tensor want;  // 0.5 everywhere, 2 · 1 + 0.5 where the image is
  TT_GRADE_EXPECTED_ONLY(want = full({1, 1, 8, 8}, 0.5);
                         want.slice(2, 3, 5).slice(3, 3, 5).fill_(2.5));
  TT_GRADE_TENSOR(conv2d(x, w, b, 1, 3), want, 0, 0);
}

TEST(HiddenConv2d, GradientsAccumulateOverTwoBackwards) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  Generator gen(4);
  const Tensor x = randn({2, 2, 5, 5}, kFloat64, &gen).requires_grad_();
  const Tensor w = randn({3, 2, 3, 3}, kFloat64, &gen).requires_grad_();
  conv2d(x, w).sum().backward();
  const Tensor once = w.grad().clone();
  conv2d(x, w).sum().backward();
  TT_GRADE_TENSOR(w.grad(), once * 2.0, 1e-12, 1e-12);
}

TEST(HiddenConv2d, BackwardChecksItsArguments) {
  const Tensor x = zeros({1, 2, 5, 5}), w = zeros({3, 2, 3, 3});
  TT_GRADE_THROW_WITH(
      native::conv2d_backward(zeros({1, 3, 4, 4}), x, w, {1}, {0}, {1}, 1, {true, true, true}),
      Error, "conv2d_backward: expected grad_output of size [1, 3, 3, 3]", "[1, 3, 4, 4]");
  TT_GRADE_THROW_WITH(native::conv2d_backward(zeros({1, 3, 3, 3}, kFloat64), x, w, {1}, {0}, {1}, 1,
                                              {true, false, false}),
                      TypeError, "conv2d_backward: grad_output has dtype float64");
}

TEST(HiddenConv2d, Im2colChecksItsArguments) {
  TT_GRADE_THROW_WITH(native::im2col(zeros({1, 2, 5, 5}), {3}, {1}, {0}, {1}), Error,
                      "im2col: expected one image [C, H, W]", "[1, 2, 5, 5]");
  TT_GRADE_THROW_WITH(native::im2col(zeros({2, 5, 5}), {0}, {1}, {0}, {1}), Error,
                      "kernel_size must be positive");
  TT_GRADE_THROW_WITH(native::im2col(zeros({2, 2, 2}), {3}, {1}, {0}, {1}), Error,
                      "Kernel size can't be greater than actual input size");
  TT_GRADE_THROW_WITH(native::col2im(zeros({18, 8}), {2, 5, 5}, {3}, {1}, {0}, {1}), Error,
                      "col2im: expected columns of size [18, 9]", "[18, 8]");
}

TEST(HiddenConv2d, DepthwiseIsOneFilterPerChannel) {
  // groups = C: output channel c sees only input channel c.
  Generator gen(6);
  const Tensor x = randn({2, 4, 6, 6}, kFloat64, &gen), w = randn({4, 1, 3, 3}, kFloat64, &gen);
  const Tensor y = conv2d(x, w, {}, 1, 1, 1, 4);
  for (int64_t c = 0; c < 4; ++c) {
    const Tensor alone = conv2d(x.slice(1, c, c + 1), w.slice(0, c, c + 1), {}, 1, 1);
    TT_GRADE_TENSOR(y.slice(1, c, c + 1), alone, 1e-12, 1e-12) << "channel " << c;
  }
}

TEST(HiddenConv2dModule, ErrorForAWrongChannelCountInsideSequential) {
  nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(),
                     nn::Conv2d(6, 16, 5));
  // The second convolution is fed 6 channels as it should; a 3-channel image fails at the first,
  // and the message names that layer.
  TT_GRADE_THROW_WITH(net->forward(zeros({2, 3, 28, 28})), Error,
                      "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2)) expected "
                      "input with 1 channels, but got 3");
  TT_GRADE_EQ(net->forward(zeros({2, 1, 28, 28})).sizes(), IntArrayRef({2, 16, 24, 24}));
}

TEST(HiddenConv2dModule, ResetParametersRedraws) {
  manual_seed(3);
  nn::Conv2d c(2, 3, 3);
  const Tensor before = c->weight.clone();
  c->reset_parameters();
  TT_GRADE_FALSE(test::tensors_match(c->weight, before, 0, 0));
  // The same tensor objects are kept (an optimizer holding them still sees the new values).
  TT_GRADE_TRUE(c->weight.is_same(c->named_parameters()["weight"]));
}

TEST(HiddenConv2dModule, ATinyCnnLearns) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  // Two 4×4 patterns (a vertical and a horizontal bar), one conv layer, a linear read-out:
  // a few steps of plain gradient descent must drive the loss down.
  manual_seed(11);
  nn::Conv2d conv_layer(nn::Conv2dOptions(1, 4, 3).padding(1));
  nn::Linear head(4 * 4 * 4, 2);
  std::vector<float> pixels(2 * 16, 0.0f);
  for (int i = 0; i < 4; ++i) {
    pixels[static_cast<size_t>(i * 4 + 1)] = 1.0f;       // image 0: column 1
    pixels[static_cast<size_t>(16 + 2 * 4 + i)] = 1.0f;  // image 1: row 2
  }
  const Tensor x = from_vector<float>(pixels, {2, 1, 4, 4});
  const Tensor labels = from_vector<int64_t>({0, 1}, {2});
  std::vector<Tensor> params = conv_layer->parameters();
  for (const Tensor& p : head->parameters()) params.push_back(p);
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    for (Tensor& p : params) p.mutable_grad() = Tensor();
    const Tensor logits = head(relu(conv_layer(x)).flatten(1));
    const Tensor loss = cross_entropy(logits, labels);
    loss.backward();
    (step == 0 ? first : last) = loss.item<double>();
    NoGradGuard no_grad;
    for (Tensor& p : params) p.sub_(p.grad() * 0.5);
  }
  TT_GRADE_LT(last / first, 0.5) << "loss " << first << " → " << last;
}

}  // namespace
}  // namespace tinytorch
