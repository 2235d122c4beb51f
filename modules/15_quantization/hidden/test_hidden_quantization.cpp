// Module 15 — grader tests beyond the visible ones: layouts the learner's loops must index right
// (4-d per-channel on a middle axis, non-contiguous inputs, empty tensors), that detach() and
// views keep a tensor quantized, uint8 ties, per-channel fake-quant masks, observer misuse. The
// checks are graded ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "support/graded.h"
#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

namespace q = quantization;

Tensor wave(IntArrayRef shape, double amplitude) {
  Tensor t = empty(shape, kFloat32);
  float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    p[i] = static_cast<float>(amplitude * std::sin(0.61 * static_cast<double>(i) + 0.3));
  }
  return t;
}

// Element (n, c, h, w) of a per-channel quantized [N, C, H, W] tensor uses scale[c]: checked
// element by element against the formula, with a non-contiguous input.
TEST(HiddenQuantize, PerChannelFourDimsMiddleAxisStridedInput) {
  const Tensor x = wave({3, 2, 4, 5}, 1.2).transpose(1, 2);  // [3, 4, 2, 5], not contiguous
  const std::vector<double> scales = {0.01, 0.02, 0.005, 0.03};
  const std::vector<int64_t> zps = {0, -3, 7, 100};
  const Tensor qx = quantize_per_channel(x, tensor({0.01, 0.02, 0.005, 0.03}, kFloat64),
                                         tensor({0, -3, 7, 100}), 1, kInt8);
  const Tensor ir = qx.int_repr().to(kInt64);
  std::vector<int64_t> want;  // in row-major order of [3, 4, 2, 5]
  TT_GRADE_EXPECTED_ONLY(const Tensor xc = x.contiguous(); for (int64_t n = 0; n < 3; ++n) {
    for (int64_t c = 0; c < 4; ++c) {
      for (int64_t h = 0; h < 2; ++h) {
        for (int64_t w = 0; w < 5; ++w) {
          const float v = xc[n][c][h][w].item<float>();
          const auto cu = static_cast<size_t>(c);
          const float inv = 1.0f / static_cast<float>(scales[cu]);
          want.push_back(static_cast<int64_t>(
              std::clamp(static_cast<double>(zps[cu]) + std::nearbyint(v * inv), -128.0, 127.0)));
        }
      }
    }
  });
  TT_GRADE_EQ(ir, from_vector(want, {3, 4, 2, 5}, kInt64));
  const Tensor dq = qx.dequantize();
  TT_GRADE_NEAR(dq[2][3][1][4].item<double>(), (ir[2][3][1][4].item<double>() - 100) * 0.03, 1e-6);
}

TEST(HiddenQuantize, EmptyAndScalarTensors) {
  const Tensor e = quantize_per_tensor(empty({0, 3}), 0.1, 0, kUInt8);
  TT_GRADE_EQ(e.numel(), 0);
  TT_GRADE_EQ(e.dequantize().sizes(), IntArrayRef({0, 3}));
  const Tensor s = quantize_per_tensor(tensor(0.26f), 0.1, 5, kUInt8);
  TT_GRADE_EQ(s.int_repr().item<int64_t>(), 8);
  TT_GRADE_NEAR(s.dequantize().item<double>(), 0.3, 1e-6);
}

TEST(HiddenQuantize, DetachAndViewsStayQuantized) {
  const Tensor qx = quantize_per_tensor(wave({4, 3}, 1.0), 0.02, -7, kInt8);
  TT_GRADE_TRUE(qx.detach().is_quantized());
  TT_GRADE_EQ(qx.detach().q_zero_point(), -7);
  const Tensor v = qx.t().narrow(0, 1, 2);
  TT_GRADE_TRUE(v.is_quantized());
  TT_GRADE_TENSOR(v.dequantize(), qx.dequantize().t().narrow(0, 1, 2));
}

TEST(HiddenQuantize, Uint8TiesRoundHalfToEven) {
  // x / 0.25 = 2.5, 3.5, 4.5 → 2, 4, 4 (+ zero_point 10)
  const Tensor qx = quantize_per_tensor(tensor({0.625f, 0.875f, 1.125f}), 0.25, 10, kUInt8);
  TT_GRADE_EQ(qx.int_repr().to_vector<uint8_t>(), (std::vector<uint8_t>{12, 14, 14}));
}

TEST(HiddenFakeQuantize, PerChannelMaskFollowsEachChannelsRange) {
  // Channel 0 (scale 0.01) clamps beyond ±1.28; channel 1 (scale 1) never clamps here.
  const Tensor x = tensor({{-2.0, -1.0, 0.5, 2.0}, {-2.0, -1.0, 0.5, 2.0}}, kFloat64)
                       .t()
                       .contiguous()
                       .requires_grad_();  // [4, 2], axis 1
  const Tensor out =
      fake_quantize_per_channel_affine(x, tensor({0.01, 1.0}), tensor({0, 0}), 1, -128, 127);
  out.sum().backward();
  TT_GRADE_EQ(x.grad().to_vector<double>(), (std::vector<double>{0, 1, 1, 1, 1, 1, 0, 1}));
  TT_GRADE_NEAR(out.to_vector<double>()[0], -1.28, 1e-6);
}

TEST(HiddenObservers, ChannelCountMustNotChangeAndAffineKeepsZeroExact) {
  q::PerChannelMinMaxObserver obs;
  obs.forward(wave({3, 4}, 1.0));
  TT_GRADE_THROW_WITH(obs.forward(wave({5, 4}, 1.0)), Error, "3 channels", "5");
  // Positive-only data: the range is widened to include 0, which then quantizes exactly.
  q::MinMaxObserver mm;
  mm.forward(tensor({0.5f, 2.0f}));
  const q::QParams qp = mm.calculate_qparams();
  TT_GRADE_EQ(qp.zero_point.item<int64_t>(), 0);
  const Tensor zero = quantize_per_tensor(tensor({0.0f}), qp.scale.item<double>(),
                                          qp.zero_point.item<int64_t>(), kUInt8);
  TT_GRADE_EQ(zero.dequantize().item<float>(), 0.0f);
}

}  // namespace
}  // namespace tinytorch
