// Module 09 — convolution (Parts 1–4 of the chapter): the seven-loop conv2d_naive, im2col and
// col2im, the im2col + GEMM conv2d on both kernel tiers, its backward, the float64 gradchecks,
// nn::Conv2d and nn::functional::conv2d, and every error message. Forward values and gradients
// are PyTorch's (tests/data/module09_conv_reference.json, written by
// tools/reference/gen_module09_conv.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conv_test_util.h"
#include "support/prerequisites.h"
#include "tinytorch/autograd/gradcheck.h"

namespace tinytorch {
namespace {

namespace F = nn::functional;
using I = std::vector<int64_t>;
using test::conv;
using test::conv_case;
using test::conv_naive;
using test::ConvArgs;
using test::tensors_match;
using test::Tier;
using test::TierGuard;

const test::json& cases() {
  return test::module09_conv_reference().at("cases");
}

// The number of products one output value sums: C/groups · R · S.
int64_t terms(const Tensor& w) {
  return w.size(1) * w.size(2) * w.size(3);
}

TEST(Conv2dReferenceData, IsCompleteAndFromItsGenerator) {
  const auto& doc = test::module09_conv_reference();
  EXPECT_EQ(doc.at("generator"), "tools/reference/gen_module09_conv.py");
  std::set<std::string> names;
  int float64 = 0, unbatched = 0, grouped = 0, no_bias = 0;
  for (const auto& c : cases()) {
    EXPECT_TRUE(names.insert(c.at("name").get<std::string>()).second) << c.at("name");
    float64 += c.at("dtype") == "float64";
    unbatched += c.at("input").at("shape").size() == 3;
    grouped += test::json_to_int(c.at("groups")) > 1;
    no_bias += c.at("bias").is_null();
  }
  EXPECT_GE(names.size(), 15u);
  EXPECT_GE(float64, 2);
  EXPECT_GE(unbatched, 1);
  EXPECT_GE(grouped, 3);
  EXPECT_GE(no_bias, 2);
  EXPECT_GE(doc.at("errors").size(), 17u);
}

// ── Part 1: the seven loops ─────────────────────────────────────────────────────────────────

TEST(Conv2dNaive, MatchesPyTorch) {
  for (const auto& c : cases()) {
    const test::ConvCase k = conv_case(c);
    SCOPED_TRACE(k.name);
    const double tol = test::conv_tol(k.input.dtype(), terms(k.weight));
    EXPECT_TRUE(
        tensors_match(conv_naive(k.input, k.weight, k.bias, k.args), c.at("output"), tol, tol));
  }
}

TEST(Conv2dNaive, OneChannelByHand) {
  // x = 1..9 as a 3×3 image, w = [[1, 0], [0, -1]]: y[p][q] = x[p][q] − x[p+1][q+1] = −4.
  const Tensor x = arange(1, 10, 1, kFloat32).reshape({1, 1, 3, 3});
  const Tensor w = from_vector<float>({1, 0, 0, -1}, {1, 1, 2, 2});
  const Tensor y = conv_naive(x, w, Tensor(), ConvArgs{});
  EXPECT_TRUE(tensors_match(y, full({1, 1, 2, 2}, -4.0, kFloat32), 0, 0));
  // With padding 1 the corners see one pixel each: y[0][0] = −x[0][0] = −1, y[3][3] = x[2][2] = 9.
  const Tensor yp = conv_naive(x, w, Tensor(), ConvArgs{{1}, {1}, {1}, 1});
  ASSERT_EQ(yp.sizes(), IntArrayRef({1, 1, 4, 4}));
  EXPECT_EQ(test::values_as_double(yp).front(), -1.0);
  EXPECT_EQ(test::values_as_double(yp).back(), 9.0);
}

// ── Part 2: im2col and col2im ───────────────────────────────────────────────────────────────

TEST(Im2col, ColumnsHoldTheKernelsView) {
  // A 3×3 image 1..9 and a 2×2 kernel: 4 output positions, each a column of 4 pixels,
  // rows ordered (r, s) = (0,0), (0,1), (1,0), (1,1).
  const Tensor image = arange(1, 10, 1, kFloat32).reshape({1, 3, 3});
  const Tensor col = native::im2col(image, {2}, {1}, {0}, {1});
  const Tensor expected =
      from_vector<float>({1, 2, 4, 5, /**/ 2, 3, 5, 6, /**/ 4, 5, 7, 8, /**/ 5, 6, 8, 9}, {4, 4});
  EXPECT_TRUE(tensors_match(col, expected, 0, 0));
}

TEST(Im2col, PaddingReadsZerosAndStrideSkips) {
  const Tensor image = arange(1, 5, 1, kFloat64).reshape({1, 2, 2});  // [[1, 2], [3, 4]]
  // 2×2 kernel, padding 1, stride 2: output 2×2; the top-left column sees (pad, pad, pad, 1).
  const Tensor col = native::im2col(image, {2}, {2}, {1}, {1});
  ASSERT_EQ(col.sizes(), IntArrayRef({4, 4}));
  const std::vector<double> v = test::values_as_double(col);
  // Column 0 = output (0, 0): rows (0,0) (0,1) (1,0) (1,1) → 0, 0, 0, 1.
  EXPECT_EQ((std::vector<double>{v[0], v[4], v[8], v[12]}), (std::vector<double>{0, 0, 0, 1}));
  // Column 3 = output (1, 1): pixels (1,1) (1,2) (2,1) (2,2) → 4, 0, 0, 0.
  EXPECT_EQ((std::vector<double>{v[3], v[7], v[11], v[15]}), (std::vector<double>{4, 0, 0, 0}));
}

TEST(Im2col, Col2imIsItsAdjoint) {
  // ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for every x and c: col2im is exactly the transpose of im2col
  // as a linear map, which is what the backward pass needs.
  Generator gen(9);
  for (const ConvArgs& a : {ConvArgs{{1}, {0}, {1}, 1}, ConvArgs{{2}, {1}, {1}, 1},
                            ConvArgs{{1, 2}, {2, 0}, {2, 1}, 1}}) {
    SCOPED_TRACE(test::args_str(a));
    const Tensor x = randn({3, 7, 6}, kFloat64, &gen);
    const Tensor col = native::im2col(x, {3, 2}, a.stride, a.padding, a.dilation);
    const Tensor c = randn(col.sizes(), kFloat64, &gen);
    const Tensor back = native::col2im(c, {3, 7, 6}, {3, 2}, a.stride, a.padding, a.dilation);
    const double lhs = (col * c).sum().item<double>(), rhs = (x * back).sum().item<double>();
    EXPECT_NEAR(lhs, rhs, 1e-10 * (std::abs(lhs) + 1));
  }
}

TEST(Im2col, Col2imCountsOverlaps) {
  // col2im of all-ones columns: each pixel receives one per kernel position covering it.
  const Tensor ones_col = ones({4, 4}, kFloat32);  // 1 channel, 2×2 kernel, 3×3 image, stride 1
  const Tensor counts = native::col2im(ones_col, {1, 3, 3}, {2}, {1}, {0}, {1});
  EXPECT_TRUE(
      tensors_match(counts, from_vector<float>({1, 2, 1, 2, 4, 2, 1, 2, 1}, {1, 3, 3}), 0, 0));
}

// ── Part 3: im2col + GEMM ───────────────────────────────────────────────────────────────────

TEST(Conv2d, MatchesPyTorchOnBothTiers) {
  for (const Tier tier : test::kTiers) {
    const TierGuard guard(tier);
    for (const auto& c : cases()) {
      const test::ConvCase k = conv_case(c);
      SCOPED_TRACE(k.name + " (" + test::tier_name(tier) + " tier)");
      const double tol = test::conv_tol(k.input.dtype(), terms(k.weight));
      const Tensor y = conv(k.input, k.weight, k.bias, k.args);
      EXPECT_TRUE(y.is_contiguous());
      EXPECT_TRUE(tensors_match(y, c.at("output"), tol, tol));
    }
  }
}

TEST(Conv2d, Im2colAgreesWithNaiveLoops) {
  // The two implementations on random float64 problems: they must agree to rounding.
  struct P {
    I x, w;
    ConvArgs a;
  };
  const std::vector<P> problems = {
      {{2, 3, 8, 8}, {5, 3, 3, 3}, {{1}, {0}, {1}, 1}},
      {{1, 4, 9, 7}, {6, 2, 3, 3}, {{2}, {1}, {1}, 2}},
      {{3, 6, 10, 10}, {6, 1, 3, 3}, {{1}, {1}, {2}, 6}},
      {{2, 2, 7, 11}, {4, 2, 2, 5}, {{2, 3}, {1, 2}, {3, 1}, 1}},
      {{1, 1, 28, 28}, {6, 1, 5, 5}, {{1}, {2}, {1}, 1}},
  };
  Generator gen(11);
  for (const Tier tier : test::kTiers) {
    const TierGuard guard(tier);
    for (const auto& p : problems) {
      SCOPED_TRACE(test::shape_str(p.x) + " * " + test::shape_str(p.w) + ", " +
                   test::args_str(p.a) + ", " + test::tier_name(tier));
      for (const ScalarType dt : {kFloat64, kFloat32}) {
        const Tensor x = randn(p.x, dt, &gen), w = randn(p.w, dt, &gen);
        const Tensor b = randn({p.w[0]}, dt, &gen);
        const double tol = test::conv_tol(dt, terms(w)) * 4;
        EXPECT_TRUE(tensors_match(conv(x, w, b, p.a), conv_naive(x, w, b, p.a), tol, tol));
      }
    }
  }
}

TEST(Conv2d, UnbatchedInputIsOneImage) {
  Generator gen(13);
  const Tensor x = randn({3, 6, 5}, kFloat32, &gen), w = randn({4, 3, 3, 3}, kFloat32, &gen);
  const Tensor b = randn({4}, kFloat32, &gen);
  const Tensor y = conv2d(x, w, b, 1, 1);
  EXPECT_EQ(y.sizes(), IntArrayRef({4, 6, 5}));
  EXPECT_TRUE(tensors_match(y, conv2d(x.unsqueeze(0), w, b, 1, 1).squeeze(0), 0, 0));
}

TEST(Conv2d, NonContiguousInputsGiveTheSameResult) {
  Generator gen(15);
  const Tensor x = randn({2, 3, 7, 7}, kFloat32, &gen), w = randn({4, 3, 3, 3}, kFloat32, &gen);
  const Tensor b = randn({4}, kFloat32, &gen);
  const Tensor expected = conv2d(x, w, b, 2, 1);
  // The same values stored channels-last (NHWC) and viewed back as NCHW: a permuted view.
  const Tensor x_nhwc_view = x.permute({0, 2, 3, 1}).contiguous().permute({0, 3, 1, 2});
  ASSERT_FALSE(x_nhwc_view.is_contiguous());
  EXPECT_TRUE(tensors_match(conv2d(x_nhwc_view, w, b, 2, 1), expected, 1e-6, 1e-6));
  // A weight read through a transposed view, a bias through a strided slice.
  const Tensor w_view = w.transpose(2, 3).contiguous().transpose(2, 3);
  const Tensor b_strided = b.unsqueeze(1).expand({4, 2}).contiguous().select(1, 0);  // stride 2
  ASSERT_FALSE(w_view.is_contiguous());
  ASSERT_FALSE(b_strided.is_contiguous());
  EXPECT_TRUE(tensors_match(conv2d(x, w_view, b_strided, 2, 1), expected, 1e-6, 1e-6));
}

// ── Part 4: backward ────────────────────────────────────────────────────────────────────────

TEST(Conv2dBackward, GradientsMatchPyTorchOnBothTiers) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (const Tier tier : test::kTiers) {
    const TierGuard guard(tier);
    for (const auto& c : cases()) {
      test::ConvCase k = conv_case(c);
      SCOPED_TRACE(k.name + " (" + test::tier_name(tier) + " tier)");
      k.input.requires_grad_();
      k.weight.requires_grad_();
      if (k.bias.defined()) k.bias.requires_grad_();
      const Tensor y = conv(k.input, k.weight, k.bias, k.args);
      ASSERT_NE(y.grad_fn(), nullptr);
      EXPECT_EQ(y.grad_fn()->name(), "ConvolutionBackward0");
      (y * test::tensor_from_json(c.at("grad_output"))).sum().backward();
      // ∂L/∂x sums over K·R·S/groups products, ∂L/∂w over N·P·Q: both well below 10^4 here.
      const double tol = test::conv_tol(k.input.dtype(), 4000);
      EXPECT_TRUE(tensors_match(k.input.grad(), c.at("grad_input"), tol, tol));
      EXPECT_TRUE(tensors_match(k.weight.grad(), c.at("grad_weight"), tol, tol));
      if (k.bias.defined()) {
        EXPECT_TRUE(tensors_match(k.bias.grad(), c.at("grad_bias"), tol, tol));
      }
    }
  }
}

TEST(Conv2dBackward, NativeRespectsTheOutputMask) {
  // native::conv2d_backward computes only what the mask asks for.
  const auto& c = cases().at(0);
  const test::ConvCase k = conv_case(c);
  const Tensor g = test::tensor_from_json(c.at("grad_output"));
  const ConvArgs& a = k.args;
  for (int mask = 0; mask < 8; ++mask) {
    const std::array<bool, 3> m = {(mask & 1) != 0, (mask & 2) != 0, (mask & 4) != 0};
    SCOPED_TRACE("mask " + std::to_string(mask));
    const auto [gx, gw, gb] =
        native::conv2d_backward(g, k.input, k.weight, a.stride, a.padding, a.dilation, a.groups, m);
    EXPECT_EQ(gx.defined(), m[0]);
    EXPECT_EQ(gw.defined(), m[1]);
    EXPECT_EQ(gb.defined(), m[2]);
    const double tol = 1e-4;
    if (m[0]) {
      EXPECT_TRUE(tensors_match(gx, c.at("grad_input"), tol, tol));
    }
    if (m[1]) {
      EXPECT_TRUE(tensors_match(gw, c.at("grad_weight"), tol, tol));
    }
    if (m[2]) {
      EXPECT_TRUE(tensors_match(gb, c.at("grad_bias"), tol, tol));
    }
  }
}

TEST(Conv2dBackward, OnlyTheInputsThatNeedGradGetOne) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  Generator gen(17);
  const Tensor x = randn({2, 3, 6, 6}, kFloat32, &gen);
  const Tensor w = randn({4, 3, 3, 3}, kFloat32, &gen).requires_grad_();
  const Tensor b = randn({4}, kFloat32, &gen);  // a constant bias
  conv2d(x, w, b, 1, 1).sum().backward();
  EXPECT_TRUE(w.grad().defined());
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(b.grad().defined());
}

// float64 finite differences against the backward formulas, for input, weight and bias.
TEST(Conv2dBackward, Gradcheck) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  struct P {
    I x, w;
    ConvArgs a;
    bool bias;
  };
  const std::vector<P> problems = {
      {{2, 2, 5, 5}, {3, 2, 3, 3}, {{1}, {0}, {1}, 1}, true},
      {{1, 2, 6, 5}, {2, 2, 3, 3}, {{2}, {1}, {1}, 1}, true},
      {{1, 2, 7, 7}, {2, 2, 3, 3}, {{1}, {2}, {2}, 1}, false},
      {{2, 4, 5, 5}, {4, 2, 3, 3}, {{1}, {1}, {1}, 2}, true},
      {{1, 3, 5, 6}, {3, 1, 2, 3}, {{2, 1}, {1, 0}, {1, 2}, 3}, true},
      {{3, 4, 4}, {2, 3, 2, 2}, {{1}, {1}, {1}, 1}, true},  // unbatched
  };
  Generator gen(19);
  for (const auto& p : problems) {
    SCOPED_TRACE(test::shape_str(p.x) + " * " + test::shape_str(p.w) + ", " + test::args_str(p.a));
    const Tensor x = randn(p.x, kFloat64, &gen).requires_grad_();
    const Tensor w = randn(p.w, kFloat64, &gen).requires_grad_();
    const Tensor b = p.bias ? randn({p.w[0]}, kFloat64, &gen).requires_grad_() : Tensor();
    const auto result = autograd::gradcheck(
        [&](const std::vector<Tensor>& in) {
          return conv(in[0], in[1], p.bias ? in[2] : Tensor(), p.a);
        },
        p.bias ? std::vector<Tensor>{x, w, b} : std::vector<Tensor>{x, w});
    EXPECT_TRUE(result.ok) << result.message;
  }
}

// ── errors ──────────────────────────────────────────────────────────────────────────────────

TEST(Conv2dErrors, PyTorchsMessages) {
  // Every call PyTorch refuses is refused, and the message contains PyTorch's.
  for (const auto& e : test::module09_conv_reference().at("errors")) {
    SCOPED_TRACE(e.at("name").get<std::string>());
    const Tensor x = zeros(test::int_list(e.at("input_shape")), kFloat32);
    const Tensor w = zeros(test::int_list(e.at("weight_shape")), kFloat32);
    const Tensor b =
        e.at("bias_shape").is_null() ? Tensor() : zeros(test::int_list(e.at("bias_shape")));
    const I stride = test::int_list(e.at("stride")), padding = test::int_list(e.at("padding")),
            dilation = test::int_list(e.at("dilation"));
    const int64_t groups = test::json_to_int(e.at("groups"));
    const std::string expected = e.at("expected").get<std::string>();
    TT_EXPECT_THROW_WITH(conv2d(x, w, b, stride, padding, dilation, groups), Error,
                         expected.c_str(), "conv2d");
  }
}

TEST(Conv2dErrors, ChannelMismatchSaysWhatWasExpected) {
  const Tensor w = zeros({6, 3, 5, 5});
  TT_EXPECT_THROW_WITH(conv2d(zeros({1, 4, 8, 8}), w), Error, "to have 3 channels",
                       "but got 4 channels", "expected C = weight.size(1) · groups = 3 · 1 = 3");
  // groups multiply the weight's channel dim.
  TT_EXPECT_THROW_WITH(conv2d(zeros({1, 4, 8, 8}), zeros({6, 2, 3, 3}), {}, 1, 0, 1, 3), Error,
                       "to have 6 channels", "weight.size(1) · groups = 2 · 3 = 6");
}

TEST(Conv2dErrors, NhwcInputGetsThePermuteHint) {
  // A Fashion-MNIST batch loaded channels-last: [N, H, W, C] with C = 1 ... and an RGB image.
  TT_EXPECT_THROW_WITH(conv2d(zeros({8, 28, 28, 1}), zeros({6, 1, 5, 5})), Error,
                       "expected input[8, 28, 28, 1] to have 1 channels", "but got 28",
                       "channels-last (NHWC)", "permute({0, 3, 1, 2})");
  TT_EXPECT_THROW_WITH(conv2d(zeros({28, 28, 3}), zeros({6, 3, 5, 5})), Error, "NHWC",
                       "permute({2, 0, 1})");
  // No hint when the last dim is not the channel count either.
  try {
    conv2d(zeros({1, 4, 8, 8}), zeros({6, 3, 3, 3}));
    ADD_FAILURE() << "conv2d accepted 4 channels for a 3-channel weight";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("NHWC"), std::string::npos) << e.what();
  }
}

TEST(Conv2dErrors, WeightMustBe4d) {
  TT_EXPECT_THROW_WITH(conv2d(zeros({1, 4, 8, 8}), zeros({6, 4, 3})), Error, "conv2d",
                       "expected a 4-D weight [out_channels, in_channels / groups, kH, kW]",
                       "3-D weight of size [6, 4, 3]");
}

TEST(Conv2dErrors, DtypesAreChecked) {
  const Tensor x = zeros({1, 2, 5, 5}), w = zeros({3, 2, 3, 3});
  TT_EXPECT_THROW_WITH(conv2d(x, w.to(kFloat64)), TypeError,
                       "expected input and weight to have the same dtype", "float32", "float64");
  TT_EXPECT_THROW_WITH(conv2d(x, w, zeros({3}, kFloat64)), TypeError,
                       "Input type (float32) and bias type (float64) should be the same");
  TT_EXPECT_THROW_WITH(conv2d(x.to(kInt64), w.to(kInt64)), TypeError,
                       "conv2d: not implemented for dtype int64", "floating-point");
  TT_EXPECT_THROW_WITH(conv2d(x.to(kBool), w.to(kBool)), TypeError,
                       "conv2d: not implemented for dtype bool");
}

TEST(Conv2dErrors, GeometryIsChecked) {
  const Tensor x = zeros({1, 2, 5, 5}), w = zeros({3, 2, 3, 3});
  TT_EXPECT_THROW_WITH(conv2d(x, w, {}, 0), Error, "non-positive stride is not supported",
                       "stride=[0, 0]");
  TT_EXPECT_THROW_WITH(conv2d(x, w, {}, 1, -2), Error, "negative padding is not supported",
                       "padding=[-2, -2]");
  TT_EXPECT_THROW_WITH(conv2d(x, w, {}, 1, 0, {1, 0}), Error,
                       "dilation should be greater than zero, but got [1, 0]");
  TT_EXPECT_THROW_WITH(conv2d(x, w, {}, 1, 0, 1, -1), Error,
                       "non-positive groups is not supported");
  TT_EXPECT_THROW_WITH(conv2d(x, w, {}, {1, 1, 1}), Error,
                       "expected stride to be a single integer value or a list of 2 values");
  TT_EXPECT_THROW_WITH(conv2d(zeros({1, 2, 2, 2}), w), Error,
                       "Calculated padded input size per channel: (2 x 2)", "Kernel size: (3 x 3)",
                       "Kernel size can't be greater than actual input size");
  TT_EXPECT_THROW_WITH(conv2d(x, w, zeros({2})), Error, "expected bias to be 1-dimensional with 3",
                       "bias of size [2]");
  TT_EXPECT_THROW_WITH(conv2d(x, zeros({3, 1, 3, 3}), {}, 1, 0, 1, 2), Error,
                       "expected weight to be divisible by 2 at dimension 0");
  TT_EXPECT_THROW_WITH(conv2d(zeros({2, 5, 5}).unsqueeze(0).unsqueeze(0), w), Error,
                       "Expected 3D (unbatched) or 4D (batched) input to conv2d",
                       "[1, 1, 2, 5, 5]");
  TT_EXPECT_THROW_WITH(conv2d(Tensor(), w), Error, "conv2d: input and weight must be defined");
}

// ── nn::Conv2d and nn::functional::conv2d ───────────────────────────────────────────────────

TEST(Conv2dModule, ShapesAndParameterCounts) {
  // LeNet-5's two convolutions: 6·1·5·5 + 6 = 156 and 16·6·5·5 + 16 = 2416 parameters.
  nn::Conv2d c1(nn::Conv2dOptions(1, 6, 5).padding(2));
  nn::Conv2d c2(6, 16, 5);
  EXPECT_EQ(c1->weight.sizes(), IntArrayRef({6, 1, 5, 5}));
  EXPECT_EQ(c1->bias.sizes(), IntArrayRef({6}));
  int64_t n1 = 0, n2 = 0;
  for (const Tensor& p : c1->parameters()) n1 += p.numel();
  for (const Tensor& p : c2->parameters()) n2 += p.numel();
  EXPECT_EQ(n1, 156);
  EXPECT_EQ(n2, 2416);
  const Tensor x = zeros({4, 1, 28, 28});
  const Tensor h = c1(x);
  EXPECT_EQ(h.sizes(), IntArrayRef({4, 6, 28, 28}));
  EXPECT_EQ(c2(h).sizes(), IntArrayRef({4, 16, 24, 24}));
  // Groups divide the weight's channel dim; no bias means one parameter.
  nn::Conv2d dw(nn::Conv2dOptions(8, 16, 3).groups(8).bias(false).stride(2).padding(1));
  EXPECT_EQ(dw->weight.sizes(), IntArrayRef({16, 1, 3, 3}));
  EXPECT_FALSE(dw->bias.defined());
  EXPECT_EQ(dw->parameters().size(), 1u);
  EXPECT_EQ(dw(zeros({2, 8, 9, 9})).sizes(), IntArrayRef({2, 16, 5, 5}));
  // A non-square kernel, and a 3-d input.
  nn::Conv2d ns(nn::Conv2dOptions(2, 3, {5, 3}).stride({2, 1}));
  EXPECT_EQ(ns->weight.sizes(), IntArrayRef({3, 2, 5, 3}));
  EXPECT_EQ(ns(zeros({2, 11, 7})).sizes(), IntArrayRef({3, 4, 5}));
}

TEST(Conv2dModule, DefaultInitBounds) {
  // PyTorch's default: weight and bias uniform in ±1/√fan_in, fan_in = in/groups·kH·kW.
  manual_seed(0);
  for (const auto& e : test::module09_conv_reference().at("init")) {
    const int64_t in = test::json_to_int(e.at("in_channels"));
    const int64_t out = test::json_to_int(e.at("out_channels"));
    const I k = test::int_list(e.at("kernel_size"));
    const int64_t groups = test::json_to_int(e.at("groups"));
    const double bound = e.at("bound").get<double>();
    SCOPED_TRACE("Conv2d(" + std::to_string(in) + ", " + std::to_string(out) + ", groups " +
                 std::to_string(groups) + ")");
    nn::Conv2d c(nn::Conv2dOptions(in, out, {k[0], k[1]}).groups(groups));
    const std::vector<double> w = test::values_as_double(c->weight);
    const std::vector<double> b = test::values_as_double(c->bias);
    const double wmax = std::abs(*std::max_element(
        w.begin(), w.end(), [](double a, double z) { return std::abs(a) < std::abs(z); }));
    const double bmax = std::abs(*std::max_element(
        b.begin(), b.end(), [](double a, double z) { return std::abs(a) < std::abs(z); }));
    EXPECT_LE(wmax, bound);
    EXPECT_LE(bmax, bound);
    // Uniform over the whole interval, as torch's own draw: the largest |w| is near the bound.
    EXPECT_GT(wmax, 0.9 * e.at("torch_max_abs_weight").get<double>());
  }
}

TEST(Conv2dModule, ReprAsPyTorch) {
  for (const auto& e : test::module09_conv_reference().at("repr")) {
    const I k = test::int_list(e.at("kernel_size")), s = test::int_list(e.at("stride")),
            p = test::int_list(e.at("padding")), d = test::int_list(e.at("dilation"));
    nn::Conv2d c(nn::Conv2dOptions(test::json_to_int(e.at("in_channels")),
                                   test::json_to_int(e.at("out_channels")), {k[0], k[1]})
                     .stride({s[0], s[1]})
                     .padding({p[0], p[1]})
                     .dilation({d[0], d[1]})
                     .groups(test::json_to_int(e.at("groups")))
                     .bias(e.at("bias").get<bool>()));
    std::ostringstream os;
    os << c;
    EXPECT_EQ(os.str(), e.at("expected").get<std::string>());
  }
}

TEST(Conv2dModule, StateDictRoundTrip) {
  manual_seed(1);
  nn::Conv2d a(nn::Conv2dOptions(3, 4, 3).padding(1));
  nn::Conv2d b(nn::Conv2dOptions(3, 4, 3).padding(1));
  const auto sd = a->state_dict();
  ASSERT_EQ(sd.size(), 2u);
  EXPECT_TRUE(sd.contains("weight"));
  EXPECT_TRUE(sd.contains("bias"));
  b->load_state_dict(sd);
  const Tensor x = randn({2, 3, 5, 5});
  EXPECT_TRUE(tensors_match(b(x), a(x), 0, 0));
}

TEST(Conv2dModule, Float64Parameters) {
  nn::Conv2d c(nn::Conv2dOptions(2, 3, 3).dtype(kFloat64));
  EXPECT_EQ(c->weight.dtype(), kFloat64);
  EXPECT_EQ(c(zeros({1, 2, 4, 4}, kFloat64)).dtype(), kFloat64);
}

TEST(Conv2dModule, ForwardErrorsNameTheLayer) {
  nn::Conv2d c(3, 16, 3);
  TT_EXPECT_THROW_WITH(c(zeros({2, 28, 28, 3})), Error,
                       "Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1)) expected input with 3 "
                       "channels, but got 28",
                       "[2, 28, 28, 3]", "NHWC", "permute({0, 3, 1, 2})");
  TT_EXPECT_THROW_WITH(c(zeros({2, 3})), Error, "Conv2d(3, 16, kernel_size=(3, 3)",
                       "expected a 4-D input [N, C, H, W]", "2-D input of size [2, 3]");
  // Errors found deeper in conv2d keep their type and get the layer in front.
  TT_EXPECT_THROW_WITH(c(zeros({1, 3, 2, 2})), Error, "Conv2d(3, 16, kernel_size=(3, 3)",
                       "Kernel size can't be greater than actual input size");
  TT_EXPECT_THROW_WITH(c(zeros({1, 3, 5, 5}, kFloat64)), TypeError, "Conv2d(3, 16", "same dtype");
}

TEST(Conv2dModule, OptionsAreValidated) {
  TT_EXPECT_THROW_WITH(nn::Conv2d(nn::Conv2dOptions(4, 6, 3).groups(3)), ValueError,
                       "in_channels must be divisible by groups");
  TT_EXPECT_THROW_WITH(nn::Conv2d(nn::Conv2dOptions(4, 6, 3).groups(4)), ValueError,
                       "out_channels must be divisible by groups");
  TT_EXPECT_THROW_WITH(nn::Conv2d(nn::Conv2dOptions(4, 6, 3).groups(0)), ValueError,
                       "groups must be a positive integer");
  TT_EXPECT_THROW_WITH(nn::Conv2d(nn::Conv2dOptions(4, 6, {3, 0})), ValueError,
                       "kernel_size must be positive");
  TT_EXPECT_THROW_WITH(nn::Conv2d(nn::Conv2dOptions(0, 6, 3)), ValueError,
                       "in_channels and out_channels must be positive");
}

TEST(Conv2dFunctional, FuncOptionsAsLibtorch) {
  Generator gen(23);
  const Tensor x = randn({2, 4, 7, 7}, kFloat32, &gen), w = randn({6, 2, 3, 3}, kFloat32, &gen);
  const Tensor b = randn({6}, kFloat32, &gen);
  const Tensor y =
      F::conv2d(x, w, F::Conv2dFuncOptions().bias(b).stride(2).padding(1).dilation(1).groups(2));
  EXPECT_TRUE(tensors_match(y, conv2d(x, w, b, 2, 1, 1, 2), 0, 0));
  const Tensor w_full = randn({3, 4, 3, 3}, kFloat32, &gen);  // defaults: no bias, stride 1
  EXPECT_TRUE(tensors_match(F::conv2d(x, w_full), conv2d(x, w_full), 0, 0));
}

// ── non-finite values ─────────────────────────────────────────────────────────────────────────

// One inf in the weights reaches exactly the input-gradient entries whose sums contain that
// weight, and one inf pixel exactly the weight-gradient taps that read it: every other entry
// stays finite, and equal to the gradient with a 0 in the inf's place (as in PyTorch). Padding
// is never multiplied into the sums, on either tier. The geometries are stride-1 convolutions,
// which the fast tier runs on its direct and Winograd kernels where the CPU has them.
TEST(Conv2dBackward, OneInfReachesOnlyTheGradientsWhoseSumsHoldIt) {
  struct Problem {
    I x, w;
    int64_t pad;
  };
  const std::vector<Problem> problems = {
      {{2, 4, 8, 8}, {4, 4, 3, 3}, 1},
      {{2, 3, 10, 10}, {6, 3, 5, 5}, 2},
      {{2, 16, 12, 12}, {16, 16, 3, 3}, 1},
      {{3, 32, 14, 14}, {32, 32, 3, 3}, 1},
  };
  constexpr float kInf = std::numeric_limits<float>::infinity();
  const auto inside = [](int64_t v, int64_t n) { return v >= 0 && v < n; };
  // The entries of `with_inf` that are not as expected: non-finite where `reads_inf`, else finite
  // and within float rounding of `with_zero`.
  const auto mismatches = [](const Tensor& with_inf, const Tensor& with_zero,
                             const std::function<bool(const std::vector<int64_t>&)>& reads_inf) {
    const std::vector<float> a = with_inf.to_vector<float>(), b = with_zero.to_vector<float>();
    const std::vector<int64_t> sizes = with_inf.sizes().vec();
    int64_t bad = 0;
    std::vector<int64_t> at(4, 0);
    for (size_t i = 0; i < a.size(); ++i) {
      for (int64_t d = 3, rest = static_cast<int64_t>(i); d >= 0; --d) {
        at[static_cast<size_t>(d)] = rest % sizes[static_cast<size_t>(d)];
        rest /= sizes[static_cast<size_t>(d)];
      }
      const bool ok = reads_inf(at) ? !std::isfinite(a[i])
                                    : std::isfinite(a[i]) &&
                                          std::fabs(a[i] - b[i]) <= 1e-4f * (1 + std::fabs(b[i]));
      bad += ok ? 0 : 1;
    }
    return bad;
  };
  Generator gen(29);
  for (const Tier tier : test::kTiers) {
    const TierGuard guard(tier);
    for (const Problem& pr : problems) {
      SCOPED_TRACE(test::shape_str(pr.x) + " * " + test::shape_str(pr.w) + ", padding " +
                   std::to_string(pr.pad) + ", " + test::tier_name(tier) + " tier");
      const int64_t R = pr.w[2], S = pr.w[3];
      const int64_t P = pr.x[2] + 2 * pr.pad - R + 1, Q = pr.x[3] + 2 * pr.pad - S + 1;
      const Tensor x = randn(pr.x, kFloat32, &gen), w = randn(pr.w, kFloat32, &gen);
      const Tensor gy = randn({pr.x[0], pr.w[0], P, Q}, kFloat32, &gen);
      const auto grads = [&](const Tensor& xi, const Tensor& wi) {
        return native::conv2d_backward(gy, xi, wi, {1}, {pr.pad}, {1}, 1, {true, true, false});
      };
      const auto with = [](const Tensor& t, std::vector<int64_t> at, float v) {
        Tensor c = t.clone();
        c.data_ptr<float>()[((at[0] * c.size(1) + at[1]) * c.size(2) + at[2]) * c.size(3) + at[3]] =
            v;
        return c;
      };
      // The bottom-right tap of w[1][1]: gx[n][1][h][v] holds it when output (h + pad − (R − 1),
      // v + pad − (S − 1)) exists — not along the top and left borders, where the padding of gy
      // would meet it.
      const int64_t c0 = 1;
      const Tensor gx_inf = std::get<0>(grads(x, with(w, {1, c0, R - 1, S - 1}, kInf)));
      const Tensor gx_zero = std::get<0>(grads(x, with(w, {1, c0, R - 1, S - 1}, 0.0f)));
      EXPECT_EQ(mismatches(gx_inf, gx_zero,
                           [&](const std::vector<int64_t>& at) {
                             return at[1] == c0 && inside(at[2] + pr.pad - (R - 1), P) &&
                                    inside(at[3] + pr.pad - (S - 1), Q);
                           }),
                0)
          << "input-gradient entries wrong for one inf weight";
      // Pixel (0, 0) of x[1][1]: tap (r, t) of gw[k][1] reads it from output (pad − r, pad − t),
      // which exists only for r, t <= pad.
      const Tensor gw_inf = std::get<1>(grads(with(x, {1, c0, 0, 0}, kInf), w));
      const Tensor gw_zero = std::get<1>(grads(with(x, {1, c0, 0, 0}, 0.0f), w));
      EXPECT_EQ(mismatches(gw_inf, gw_zero,
                           [&](const std::vector<int64_t>& at) {
                             return at[1] == c0 && inside(pr.pad - at[2], P) &&
                                    inside(pr.pad - at[3], Q);
                           }),
                0)
          << "weight-gradient entries wrong for one inf pixel";
    }
  }
}

}  // namespace
}  // namespace tinytorch
