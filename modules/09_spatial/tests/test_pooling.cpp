// Module 09 — pooling: max_pool2d (with indices), avg_pool2d and adaptive_avg_pool2d against
// PyTorch's values, indices and gradients (tests/data/module09_pool_bn_reference.json), the window
// arithmetic on small hand-made examples, float64 gradchecks through the autograd engine, the
// argument checks, and the nn:: layers and F:: forms. The gradient tests through the engine need
// module 05 (autograd).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pool_bn_test_util.h"
#include "support/op_cases.h"
#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/native/pooling.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::random;

namespace F = tinytorch::nn::functional;
using test::json;

// ── against PyTorch ──────────────────────────────────────────────────────────────────────────

// Forward values and indices of every pooling case; then the gradient of (y * g).sum() from the
// native backward kernels (no autograd needed).
TEST(PoolingReference, ForwardAndBackwardKernelsMatchPyTorch) {
  int n = 0;
  for (const json& c : test::pool_bn_cases()) {
    const std::string op = c.at("op");
    if (op != "max_pool2d" && op != "avg_pool2d" && op != "adaptive_avg_pool2d") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const Tensor x = test::tensor_from_json(c.at("input"));
    const Tensor g = test::tensor_from_json(c.at("grad_output"));
    const double rtol = test::rtol_for(x), atol = test::atol_for(x);
    const test::PoolResult r = test::run_pool_case(c, x);
    EXPECT_TRUE(test::tensors_match(r.output, c.at("output"), rtol, atol)) << "forward";
    const json& a = c.at("args");
    Tensor gx;
    if (op == "max_pool2d") {
      EXPECT_TRUE(test::tensors_match(r.indices, c.at("indices"))) << "indices";
      gx = native::max_pool2d_with_indices_backward(
          g, x, test::arg_list(a, "kernel_size"), test::arg_list(a, "stride"),
          test::arg_list(a, "padding", {0}), test::arg_list(a, "dilation", {1}),
          a.value("ceil_mode", false), r.indices);
    } else if (op == "avg_pool2d") {
      std::optional<int64_t> divisor;
      if (a.contains("divisor_override")) divisor = test::json_to_int(a.at("divisor_override"));
      gx = native::avg_pool2d_backward(
          g, x, test::arg_list(a, "kernel_size"), test::arg_list(a, "stride"),
          test::arg_list(a, "padding", {0}), a.value("ceil_mode", false),
          a.value("count_include_pad", true), divisor);
    } else {
      gx = native::adaptive_avg_pool2d_backward(g, x);
    }
    EXPECT_TRUE(test::tensors_match(gx, c.at("grad_input"), rtol, atol)) << "backward kernel";
    ++n;
  }
  EXPECT_GE(n, 35) << "too few pooling cases: regenerate the reference data";
}

// The same gradients through the engine: y.backward(g) reaches x.grad.
TEST(PoolingReference, GradientsThroughAutogradMatchPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (const json& c : test::pool_bn_cases()) {
    const std::string op = c.at("op");
    if (op != "max_pool2d" && op != "avg_pool2d" && op != "adaptive_avg_pool2d") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const Tensor x = test::tensor_from_json(c.at("input")).requires_grad_();
    const Tensor y = test::run_pool_case(c, x).output;
    y.backward(test::tensor_from_json(c.at("grad_output")));
    EXPECT_TRUE(
        test::tensors_match(x.grad(), c.at("grad_input"), test::rtol_for(x), test::atol_for(x)));
  }
}

TEST(PoolingReference, BadArgumentsFailWithPyTorchsWords) {
  int n = 0;
  for (const json& c : test::pool_bn_cases()) {
    if (c.at("op") != "pool_error") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>() +
                 " — PyTorch says: " + c.at("torch_error").get<std::string>());
    json probe = c;
    probe["op"] = c.at("pool");
    const Tensor x = zeros(test::int_list(c.at("input_shape")));
    const std::string fragment = c.at("expected_fragment");
    EXPECT_TRUE(test::throws_with<Error>([&] { test::run_pool_case(probe, x); }, {fragment}));
    ++n;
  }
  EXPECT_GE(n, 10);
}

// ── the window arithmetic, by hand ────────────────────────────────────────────────────────────

TEST(MaxPool2d, TheChaptersExample) {
  // The 4×4 plane of the diagram at the top of src/native/pooling.cpp.
  const Tensor x =
      tensor({1.f, 3.f, 2.f, 0.f, 5.f, 4.f, 1.f, 7.f, 0.f, 2.f, 9.f, 8.f, 1.f, 6.f, 3.f, 3.f})
          .reshape({1, 1, 4, 4});
  auto [y, idx] = max_pool2d_with_indices(x, 2);
  TT_EXPECT_TENSOR_EQ(y, tensor({5.f, 7.f, 6.f, 9.f}).reshape({1, 1, 2, 2}));
  TT_EXPECT_TENSOR_EQ(idx, tensor({int64_t{4}, 7, 13, 10}).reshape({1, 1, 2, 2}));
}

TEST(MaxPool2d, OutputSizesFollowTheFormula) {
  const Tensor x = zeros({2, 3, 28, 28});
  EXPECT_EQ(max_pool2d(x, 2).sizes(), IntArrayRef({2, 3, 14, 14}));        // LeNet's pooling
  EXPECT_EQ(max_pool2d(x, 3, 2, 1).sizes(), IntArrayRef({2, 3, 14, 14}));  // ResNet's stem pool
  EXPECT_EQ(max_pool2d(zeros({1, 1, 5, 5}), 2).sizes(), IntArrayRef({1, 1, 2, 2}));  // floor
  EXPECT_EQ(max_pool2d(zeros({1, 1, 5, 5}), 2, 2, 0, 1, true).sizes(),
            IntArrayRef({1, 1, 3, 3}));  // ceil_mode keeps the half window
  EXPECT_EQ(max_pool2d(zeros({1, 1, 7, 7}), 3, 1, 0, 2).sizes(),
            IntArrayRef({1, 1, 3, 3}));  // dilation 2: the window spans 5
  EXPECT_EQ(max_pool2d(zeros({3, 8, 6}), {2, 3}).sizes(), IntArrayRef({3, 4, 2}));  // unbatched
}

TEST(MaxPool2d, PaddingNeverWins) {
  // All values negative: a zero padding would win every border window; −∞ padding never does.
  const Tensor x = full({1, 1, 3, 3}, -5.0, kFloat32);
  auto [y, idx] = max_pool2d_with_indices(x, 3, 1, 1);
  EXPECT_EQ(y.max().item<float>(), -5.0f);
  EXPECT_EQ(idx.select(-1, 0).select(-1, 0).item<int64_t>(), 0);  // window (0, 0) → element (0, 0)
}

// With dilation a window can step over the whole input: kernel 2, dilation 3 and padding 1 over
// 2 columns put the taps at −1 and 2, both in the padding. As in PyTorch, such a window's max is
// −∞ and its index is h0·W + w0, the first tap at or after row and column 0 — here (p, 2), which
// is element (p + 1, 0) or lies past the plane: it names no tap of the window. Its gradient goes
// nowhere. Both tiers, float32 (the fast tier's) and float64.
TEST(MaxPool2d, AWindowWhollyInThePaddingIsMinusInfinityAndTakesNoGradient) {
  for (const kernels::Tier tier : {kernels::Tier::kReference, kernels::Tier::kFast}) {
    const kernels::TierGuard guard(tier);
    for (const ScalarType dtype : {kFloat32, kFloat64}) {
      SCOPED_TRACE(std::string(tier == kernels::Tier::kFast ? "fast" : "reference") + " tier, " +
                   std::string(to_string(dtype)));
      const Tensor x = random({1, 1, 3, 2}, 61, dtype);
      const auto result = native::max_pool2d_with_indices(x, {1, 2}, 1, {0, 1}, {1, 3}, false);
      const Tensor& y = std::get<0>(result);
      const Tensor& idx = std::get<1>(result);
      ASSERT_EQ(y.sizes(), IntArrayRef({1, 1, 3, 1}));
      EXPECT_EQ(y.to(kFloat64).to_vector<double>(),
                std::vector<double>(3, -std::numeric_limits<double>::infinity()));
      EXPECT_EQ(idx.to_vector<int64_t>(), (std::vector<int64_t>{2, 4, 6}));
      const Tensor gx = native::max_pool2d_with_indices_backward(
          ones({1, 1, 3, 1}, dtype), x, {1, 2}, 1, {0, 1}, {1, 3}, false, idx);
      EXPECT_EQ(gx.to(kFloat64).to_vector<double>(), std::vector<double>(6, 0.0));
    }
  }
}

TEST(MaxPool2d, NanPropagates) {
  Tensor x = zeros({1, 1, 2, 2}, kFloat64);
  x.data_ptr<double>()[3] = std::numeric_limits<double>::quiet_NaN();
  auto [y, idx] = max_pool2d_with_indices(x, 2);
  EXPECT_TRUE(std::isnan(y.item<double>()));
  EXPECT_EQ(idx.item<int64_t>(), 3);
}

TEST(AvgPool2d, CountIncludePadChangesOnlyTheBorderDivisors) {
  const Tensor x = ones({1, 1, 3, 3});
  // With padding counted, the corner window (4 ones, 5 zeros of padding) averages to 4/9.
  const Tensor with_pad = avg_pool2d(x, 3, 1, 1, false, true);
  const Tensor without = avg_pool2d(x, 3, 1, 1, false, false);
  EXPECT_NEAR(with_pad.flatten()[0].item<float>(), 4.0f / 9.0f, 1e-6);
  EXPECT_NEAR(with_pad.flatten()[4].item<float>(), 1.0f, 1e-6);  // the centre sees no padding
  TT_EXPECT_TENSOR_EQ(without, ones({1, 1, 3, 3}));
  // divisor_override replaces the divisor everywhere: a centre window of nine ones, ÷ 2.
  EXPECT_NEAR(avg_pool2d(x, 3, 1, 1, false, true, 2).flatten()[4].item<float>(), 4.5f, 1e-6);
}

TEST(AvgPool2d, CeilModeLastWindowIsClippedToThePaddedInput) {
  // in 4, kernel 3, stride 2, pad 1, ceil_mode: windows start at -1, 1, 3. The last one, [3, 6),
  // is clipped to the padded input [−1, 5): it covers x3 and one padding column, divisor 2.
  const Tensor x = arange(4, kFloat64).reshape({1, 1, 1, 4}).expand({1, 1, 3, 4}).contiguous();
  const Tensor y = avg_pool2d(x, {1, 3}, {1, 2}, {0, 1}, true, true);
  ASSERT_EQ(y.sizes(), IntArrayRef({1, 1, 3, 3}));
  EXPECT_DOUBLE_EQ(y.flatten()[0].item<double>(), (0.0 + 1.0) / 3.0);
  EXPECT_DOUBLE_EQ(y.flatten()[2].item<double>(), 3.0 / 2.0);
}

TEST(AdaptiveAvgPool2d, WindowsOverlapWhenTheSizesDoNotDivide) {
  // 7 → 3: windows [0, 3) [2, 5) [4, 7) along each dim.
  const Tensor x = arange(7, kFloat64).reshape({1, 1, 1, 7});
  const Tensor y = adaptive_avg_pool2d(x, {1, 3});
  TT_EXPECT_TENSOR_EQ(y, tensor({1.0, 3.0, 5.0}, kFloat64).reshape({1, 1, 1, 3}));
  // {1, 1} is global average pooling.
  const Tensor z = random({2, 3, 5, 4}, 3);
  TT_EXPECT_TENSOR_EQ(adaptive_avg_pool2d(z, 1), z.mean({2, 3}, true), 1e-12, 1e-12);
}

// ── backward: scatter through the indices, gradchecks ────────────────────────────────────────

TEST(MaxPool2dBackward, OverlappingWindowsAddTheirGradients) {
  // Stride 1: the centre 9 is the max of all four 2×2 windows and collects all four gradients.
  const Tensor x = tensor({0.0, 1.0, 0.0, 2.0, 9.0, 3.0, 0.0, 4.0, 0.0}).reshape({1, 1, 3, 3});
  auto [y, idx] = native::max_pool2d_with_indices(x, 2, 1, 0, 1, false);
  const Tensor g = tensor({1.0, 10.0, 100.0, 1000.0}).reshape({1, 1, 2, 2});
  const Tensor gx = native::max_pool2d_with_indices_backward(g, x, 2, 1, 0, 1, false, idx);
  EXPECT_DOUBLE_EQ(gx.flatten()[4].item<double>(), 1111.0);
  EXPECT_DOUBLE_EQ(gx.sum().item<double>(), 1111.0);
}

TEST(PoolingGradcheck, MaxPool2d) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  // randn values: no ties (a tie makes the max non-differentiable, and finite differences would
  // see the gradient jump between the tied elements).
  struct Config {
    std::vector<int64_t> shape, k, s, p, d;
    bool ceil;
  };
  const Config configs[] = {{{2, 2, 6, 6}, {2}, {}, {0}, {1}, false},
                            {{1, 2, 7, 7}, {3}, {2}, {1}, {1}, false},
                            {{1, 1, 7, 6}, {2, 3}, {1, 2}, {1, 0}, {2, 1}, false},
                            {{1, 2, 5, 5}, {2}, {2}, {0}, {1}, true},
                            {{2, 5, 5}, {3}, {1}, {1}, {1}, false}};
  uint64_t seed = 10;
  for (const Config& c : configs) {
    SCOPED_TRACE("input " + test::shape_str(c.shape) + " kernel " + test::shape_str(c.k));
    const Tensor x = random(c.shape, seed++).requires_grad_();
    const auto r = autograd::gradcheck(
        [&](const std::vector<Tensor>& in) {
          return max_pool2d(in[0], c.k, c.s, c.p, c.d, c.ceil);
        },
        {x});
    EXPECT_TRUE(r.ok) << r.message;
  }
}

TEST(PoolingGradcheck, AvgPool2d) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({2, 2, 5, 6}, 20).requires_grad_();
  for (const bool include_pad : {true, false}) {
    for (const bool ceil : {false, true}) {
      SCOPED_TRACE(std::string("count_include_pad ") + (include_pad ? "true" : "false") +
                   ", ceil_mode " + (ceil ? "true" : "false"));
      const auto r = autograd::gradcheck(
          [&](const std::vector<Tensor>& in) {
            return avg_pool2d(in[0], 3, 2, 1, ceil, include_pad);
          },
          {x});
      EXPECT_TRUE(r.ok) << r.message;
    }
  }
  const auto r = autograd::gradcheck(
      [&](const std::vector<Tensor>& in) {
        return avg_pool2d(in[0], {2, 3}, 1, {1, 1}, false, true, 4);
      },
      {x});
  EXPECT_TRUE(r.ok) << "divisor_override: " << r.message;
}

TEST(PoolingGradcheck, AdaptiveAvgPool2d) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({2, 2, 7, 5}, 30).requires_grad_();
  for (const std::vector<int64_t>& out :
       {std::vector<int64_t>{1, 1}, {3, 3}, {5, 2}, {7, 5}, {9, 6}}) {
    SCOPED_TRACE("output_size " + test::shape_str(out));
    const auto r = autograd::gradcheck(
        [&](const std::vector<Tensor>& in) { return adaptive_avg_pool2d(in[0], out); }, {x});
    EXPECT_TRUE(r.ok) << r.message;
  }
}

TEST(PoolingAutograd, NodesAreNamedAsInPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({1, 1, 4, 4}, 40).requires_grad_();
  EXPECT_EQ(max_pool2d(x, 2).grad_fn()->name(), "MaxPool2DWithIndicesBackward0");
  EXPECT_EQ(avg_pool2d(x, 2).grad_fn()->name(), "AvgPool2DBackward0");
  EXPECT_EQ(adaptive_avg_pool2d(x, 1).grad_fn()->name(), "AdaptiveAvgPool2DBackward0");
  auto [y, idx] = max_pool2d_with_indices(x, 2);
  EXPECT_FALSE(idx.requires_grad()) << "the indices are not differentiable";
}

// ── argument checks ───────────────────────────────────────────────────────────────────────────

TEST(PoolingErrors, ClearMessages) {
  const Tensor x = zeros({1, 1, 4, 4});
  TT_EXPECT_THROW_WITH(max_pool2d(x, 3, 1, 2), Error, "max_pool2d",
                       "pad should be at most half of kernel size", "pad=2", "kernel_size=3");
  TT_EXPECT_THROW_WITH(max_pool2d(x, 0, 1), Error, "kernel size should be greater than zero");
  TT_EXPECT_THROW_WITH(avg_pool2d(x, 2, -1), Error, "stride should be greater than zero");
  TT_EXPECT_THROW_WITH(max_pool2d(x, 5), Error, "Given input size: (1x4x4)",
                       "Calculated output size: (1x0x0)", "Output size is too small");
  TT_EXPECT_THROW_WITH(max_pool2d(zeros({4, 4}), 2), Error, "Expected 3D or 4D", "[4, 4]");
  TT_EXPECT_THROW_WITH(max_pool2d(zeros({1, 1, 4, 4}, kInt64), 2), TypeError, "max_pool2d",
                       "floating-point");
  TT_EXPECT_THROW_WITH(avg_pool2d(x, 2, {}, 0, false, true, 0), Error, "divisor must be not zero");
  TT_EXPECT_THROW_WITH(adaptive_avg_pool2d(x, {-1, 2}), Error,
                       "elements of output_size must be greater than or equal to 0");
  TT_EXPECT_THROW_WITH(max_pool2d(x, {2, 2, 2}), Error, "kernel_size", "a tuple of two ints");
}

TEST(PoolingErrors, BackwardChecksItsArguments) {
  const Tensor x = zeros({1, 1, 4, 4});
  // std::get, not a structured binding: clang 14 cannot capture a binding in the lambda that
  // TT_EXPECT_THROW_WITH makes.
  const auto result = native::max_pool2d_with_indices(x, 2, {}, 0, 1, false);
  const Tensor& idx = std::get<1>(result);
  TT_EXPECT_THROW_WITH(
      native::max_pool2d_with_indices_backward(zeros({1, 1, 3, 3}), x, 2, {}, 0, 1, false, idx),
      Error, "grad_output must have the forward output's shape", "[1, 1, 2, 2]");
  TT_EXPECT_THROW_WITH(native::max_pool2d_with_indices_backward(ones({1, 1, 2, 2}), x, 2, {}, 0, 1,
                                                                false, full_like(idx, 99)),
                       IndexError, "index 99 is outside its plane of 16 elements");
  TT_EXPECT_THROW_WITH(native::max_pool2d_with_indices_backward(ones({1, 1, 2, 2}), x, 2, {}, 0, 1,
                                                                false, full_like(idx, -2)),
                       IndexError, "index -2 is outside its plane", "or -1 for no input");
  TT_EXPECT_THROW_WITH(
      native::max_pool2d_with_indices_backward(ones({1, 1, 2, 2}), x, 2, {}, 0, 1, false,
                                               full_like(idx, std::numeric_limits<int64_t>::max())),
      IndexError, "is outside its plane of 16 elements");
  // −1 is PyTorch's "no input element": that output's gradient goes nowhere.
  EXPECT_EQ(native::max_pool2d_with_indices_backward(ones({1, 1, 2, 2}), x, 2, {}, 0, 1, false,
                                                     full_like(idx, -1))
                .sum()
                .item<float>(),
            0.0f);
}

// ── layers and F:: forms ──────────────────────────────────────────────────────────────────────

TEST(PoolingLayers, ModulesAndFunctionalFormsCallTheSameOps) {
  const Tensor x = random({2, 3, 8, 8}, 50, kFloat32);
  nn::MaxPool2d mp(nn::MaxPool2dOptions(3).stride(2).padding(1));
  TT_EXPECT_TENSOR_EQ(mp(x), max_pool2d(x, 3, 2, 1));
  TT_EXPECT_TENSOR_EQ(std::get<1>(mp->forward_with_indices(x)),
                      std::get<1>(max_pool2d_with_indices(x, 3, 2, 1)));
  TT_EXPECT_TENSOR_EQ(F::max_pool2d(x, F::MaxPool2dFuncOptions(2).stride(2)), max_pool2d(x, 2));
  TT_EXPECT_TENSOR_EQ(F::max_pool2d(x, 2), max_pool2d(x, 2));

  nn::AvgPool2d ap(nn::AvgPool2dOptions({2, 3}).stride(1).count_include_pad(false).padding(1));
  TT_EXPECT_TENSOR_EQ(ap(x), avg_pool2d(x, {2, 3}, 1, 1, false, false));
  TT_EXPECT_TENSOR_EQ(F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).divisor_override(3)),
                      avg_pool2d(x, 2, {}, 0, false, true, 3));

  nn::AdaptiveAvgPool2d gap(nn::AdaptiveAvgPool2dOptions({1, 1}));
  EXPECT_EQ(gap(x).sizes(), IntArrayRef({2, 3, 1, 1}));
  TT_EXPECT_TENSOR_EQ(F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({3, 2})),
                      adaptive_avg_pool2d(x, {3, 2}));
  nn::MaxPool2d simple(2);
  EXPECT_EQ(simple->options.stride(), ExpandingArray<2>(2)) << "stride defaults to kernel_size";
  EXPECT_TRUE(simple->parameters().empty());
}

TEST(PoolingLayers, PrintLikePyTorch) {
  const auto print = [](const nn::Module& m) {
    std::ostringstream os;
    os << m;
    return os.str();
  };
  EXPECT_EQ(print(*nn::MaxPool2d(2)),
            "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=false)");
  EXPECT_EQ(print(*nn::AvgPool2d(3)), "AvgPool2d(kernel_size=3, stride=3, padding=0)");
  EXPECT_EQ(print(*nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1}))),
            "AdaptiveAvgPool2d(output_size=(1, 1))");
}

}  // namespace
}  // namespace tinytorch
