// Module 09's images, padded and resized as libtorch programs do it: F::pad with PadFuncOptions
// (constant, reflect, replicate, circular; 1-, 2- and 3-d), F::interpolate with
// InterpolateFuncOptions (nearest, bilinear with and without align_corners; size or scale_factor)
// and nn::Upsample. Values and gradients against PyTorch (tests/data/libtorch_ops_reference.json,
// group "spatial"), float64 gradchecks and the errors.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/op_cases.h"
#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::expect_gradcheck;
using test::expect_gradgradcheck;
using test::random;

namespace F = tinytorch::nn::functional;
using test::json;

PadMode pad_mode(const std::string& mode) {
  if (mode == "reflect") return kReflect;
  if (mode == "replicate") return kReplicate;
  if (mode == "circular") return kCircular;
  return kConstant;
}

std::vector<Tensor> run_spatial(const std::string& op, const std::vector<Tensor>& in,
                                const json& args) {
  if (op == "pad") {
    return {F::pad(in[0], F::PadFuncOptions(test::int_list(args.at("pad")))
                              .mode(pad_mode(args.at("mode")))
                              .value(args.value("value", 0.0)))};
  }
  if (op == "interpolate") {
    auto options =
        F::InterpolateFuncOptions().mode(args.at("mode") == "nearest" ? kNearest : kBilinear);
    if (args.contains("size")) options.size(test::int_list(args.at("size")));
    if (args.contains("scale_factor")) {
      options.scale_factor(args.at("scale_factor").get<std::vector<double>>());
    }
    if (args.contains("align_corners")) options.align_corners(args.at("align_corners").get<bool>());
    return {F::interpolate(in[0], options)};
  }
  throw std::runtime_error("unknown op " + op);
}

TEST(LibtorchOpsReference, PadAndInterpolateMatchPyTorch) {
  test::check_op_cases("spatial", run_spatial);
}

// ── pad ────────────────────────────────────────────────────────────────────────────────────────

TEST(Pad, AtenSpellingsAgreeWithTheFunctional) {
  const Tensor x = random({1, 2, 3, 3}, 1);
  EXPECT_TRUE(tinytorch::pad(x, {1, 1, 2, 0}, "reflect")
                  .equal(F::pad(x, F::PadFuncOptions({1, 1, 2, 0}).mode(kReflect))));
  EXPECT_TRUE(
      constant_pad_nd(x, {1, 2}, 0.5).equal(F::pad(x, F::PadFuncOptions({1, 2}).value(0.5))));
  EXPECT_EQ(tinytorch::pad(x, {1, 2}).sizes(), IntArrayRef({1, 2, 3, 6}));
}

TEST(Pad, ErrorsSayWhatIsAllowed) {
  const Tensor x = zeros({1, 1, 3, 3});
  TT_EXPECT_THROW_WITH(F::pad(x, F::PadFuncOptions({3, 0, 0, 0}).mode(kReflect)), ValueError,
                       "padding size should be less than", "(3, 0)", "dimension 3");
  TT_EXPECT_THROW_WITH(F::pad(x, F::PadFuncOptions({1, 1}).mode(kReflect).value(2.0)), ValueError,
                       "reflect", "value");
  TT_EXPECT_THROW_WITH(F::pad(x, F::PadFuncOptions({1, 1, 1})), ValueError, "divisible by 2");
  TT_EXPECT_THROW_WITH(F::pad(zeros({3}), F::PadFuncOptions({1, 1}).mode(kReplicate)), ValueError,
                       "replicate", "2-d or 3-d input");
  TT_EXPECT_THROW_WITH(F::pad(x, F::PadFuncOptions({-2, -2})), ValueError, "negative output size");
  TT_EXPECT_THROW_WITH(tinytorch::pad(x, {1, 1}, "mirror"), ValueError, "unknown padding mode",
                       "mirror");
}

// ── interpolate / Upsample ─────────────────────────────────────────────────────────────────────

TEST(Interpolate, UpsampleModuleUsesItsOptions) {
  const Tensor x = random({2, 3, 4, 5}, 2);
  nn::Upsample up(nn::UpsampleOptions()
                      .scale_factor(std::vector<double>{2, 2})
                      .mode(kBilinear)
                      .align_corners(false));
  const Tensor y = up(x);
  EXPECT_EQ(y.sizes(), IntArrayRef({2, 3, 8, 10}));
  EXPECT_TRUE(y.equal(upsample_bilinear2d(x, {8, 10}, false, 2.0, 2.0)));
  nn::Upsample nearest(nn::UpsampleOptions().size(std::vector<int64_t>{3, 3}));
  EXPECT_TRUE(nearest(x).equal(upsample_nearest2d(x, {3, 3})));
  std::ostringstream os;
  os << *up;
  EXPECT_NE(os.str().find("mode='bilinear'"), std::string::npos) << os.str();
}

TEST(Interpolate, NearestTwiceRepeatsEachPixel) {
  const Tensor x = tensor({{{{1.0, 2.0}, {3.0, 4.0}}}});
  const Tensor y =
      F::interpolate(x, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2, 2}));
  EXPECT_EQ(test::values_as_double(y),
            (std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST(Interpolate, ErrorsFollowPyTorch) {
  const Tensor x = zeros({1, 1, 2, 2});
  const auto size = std::vector<int64_t>{4, 4};
  const auto scale = std::vector<double>{2, 2};
  TT_EXPECT_THROW_WITH(
      F::interpolate(x, F::InterpolateFuncOptions().size(size).align_corners(true)), ValueError,
      "align_corners", "bilinear");
  TT_EXPECT_THROW_WITH(
      F::interpolate(x, F::InterpolateFuncOptions().size(size).scale_factor(scale)), ValueError,
      "only one of size or scale_factor");
  TT_EXPECT_THROW_WITH(F::interpolate(x, F::InterpolateFuncOptions()), ValueError,
                       "either size or scale_factor");
  TT_EXPECT_THROW_WITH(F::interpolate(zeros({1, 2, 3}), F::InterpolateFuncOptions().size(size)),
                       ValueError, "4-d input", "[1, 2, 3]");
  TT_EXPECT_THROW_WITH(F::interpolate(x, F::InterpolateFuncOptions().size(std::vector<int64_t>{4})),
                       ValueError, "size shape must match");
}

// ── gradients (float64 gradcheck) ──────────────────────────────────────────────────────────────

TEST(PadInterpolateGradcheck, EveryPadMode) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor seq = random({2, 2, 5}, 3), img = random({1, 2, 3, 4}, 4);
  const Tensor vol = random({1, 1, 2, 3, 3}, 5);
  for (const char* mode : {"constant", "reflect", "replicate", "circular"}) {
    SCOPED_TRACE(mode);
    expect_gradcheck([&](const Tensor& t) { return tinytorch::pad(t, {2, 1}, mode); }, seq);
    expect_gradcheck([&](const Tensor& t) { return tinytorch::pad(t, {1, 2, 2, 1}, mode); }, img);
    expect_gradcheck(
        [&](const Tensor& t) {
          return tinytorch::pad(t, {1, 1, 0, 1, 1, 0}, mode);
        },
        vol);
  }
  expect_gradcheck(
      [](const Tensor& t) {
        return tinytorch::pad(t, {-1, 2, 1, -1}, "constant", 3.0);
      },
      img);
  expect_gradcheck(
      [](const Tensor& t) {
        return tinytorch::pad(t.transpose(2, 3), {1, 1, 2, 0}, "reflect");
      },
      img);
}

TEST(PadInterpolateGradcheck, NearestAndBilinear) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({2, 2, 3, 4}, 6);
  expect_gradcheck([](const Tensor& t) { return upsample_nearest2d(t, {5, 7}); }, x);
  expect_gradcheck([](const Tensor& t) { return upsample_nearest2d(t, {2, 3}); }, x);
  expect_gradcheck([](const Tensor& t) { return upsample_nearest2d(t, {6, 6}, 2.0, 1.5); }, x);
  for (bool align : {false, true}) {
    SCOPED_TRACE(align ? "align_corners" : "half pixels");
    expect_gradcheck([&](const Tensor& t) { return upsample_bilinear2d(t, {5, 7}, align); }, x);
    expect_gradcheck([&](const Tensor& t) { return upsample_bilinear2d(t, {2, 3}, align); }, x);
    expect_gradcheck([&](const Tensor& t) { return upsample_bilinear2d(t, {1, 1}, align); }, x);
  }
}

// Pad and resize are linear in x: the second-order check covers the grad_output's Jacobian of
// the recorded backward (a product with x makes the Hessian part non-zero as well).
TEST(PadInterpolateGradgradcheck, EveryPadModeAndResize) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor img = random({1, 2, 3, 4}, 7);
  for (const char* mode : {"constant", "reflect", "replicate", "circular"}) {
    SCOPED_TRACE(mode);
    expect_gradgradcheck(
        [&](const Tensor& t) {
          const Tensor p = tinytorch::pad(t, {1, 2, 2, 1}, mode);
          return p * p;
        },
        img);
  }
  expect_gradgradcheck(
      [](const Tensor& t) {
        const Tensor y = upsample_nearest2d(t, {5, 7});
        return y * y;
      },
      img);
  for (bool align : {false, true}) {
    expect_gradgradcheck(
        [&](const Tensor& t) {
          const Tensor y = upsample_bilinear2d(t, {5, 6}, align);
          return y * y;
        },
        img);
  }
}

}  // namespace
}  // namespace tinytorch
