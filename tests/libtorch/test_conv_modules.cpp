// The layers libtorch programs add around Conv2d — ConvTranspose2d (decoders, GAN generators,
// U-Nets), Conv1d and the 1-d pools (sequences, audio), Dropout2d — written as a libtorch program
// writes them. Forward values and the gradients of a scalar loss are PyTorch's
// (tests/data/conv_modules_reference.json, written by tools/reference/gen_conv_modules.py), on
// both kernel tiers; float64 gradchecks (and gradgradcheck for conv_transpose2d) check the
// backward formulas; every refused argument is a tinytorch::Error naming it.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/kernels/registry.h"

namespace {

namespace F = torch::nn::functional;
namespace test = tinytorch::test;
using I = std::vector<int64_t>;
using tinytorch::kernels::Tier;
using tinytorch::kernels::TierGuard;

const test::json& reference() {
  return test::load_reference("conv_modules_reference.json");
}

torch::Tensor leaf(const test::json& j) {
  return j.is_null() ? torch::Tensor() : test::tensor_from_json(j).requires_grad_();
}

// The op a reference case names, run as libtorch spells it. Returns the output (and, for
// max_pool1d, the indices in `indices`).
torch::Tensor run_conv(const test::json& c, const torch::Tensor& x, const torch::Tensor& w,
                       const torch::Tensor& b, torch::Tensor* indices = nullptr) {
  const test::json& a = c.at("args");
  const std::string op = c.at("op");
  const auto one = [&](const char* key) { return test::int_list(a.at(key)).at(0); };
  const auto two = [&](const char* key) {
    const I v = test::int_list(a.at(key));
    return torch::ExpandingArray<2>({v.at(0), v.at(1)});
  };
  if (op == "conv_transpose2d") {
    return F::conv_transpose2d(x, w,
                               F::ConvTranspose2dFuncOptions()
                                   .bias(b)
                                   .stride(two("stride"))
                                   .padding(two("padding"))
                                   .output_padding(two("output_padding"))
                                   .groups(test::json_to_int(a.at("groups")))
                                   .dilation(two("dilation")));
  }
  if (op == "conv1d") {
    return F::conv1d(x, w,
                     F::Conv1dFuncOptions()
                         .bias(b)
                         .stride(one("stride"))
                         .padding(one("padding"))
                         .dilation(one("dilation"))
                         .groups(test::json_to_int(a.at("groups"))));
  }
  auto stride = F::MaxPool1dFuncOptions(one("kernel_size")).stride();
  if (!a.at("stride").empty()) stride = one("stride");
  if (op == "max_pool1d") {
    auto [values, where] = F::max_pool1d_with_indices(x, F::MaxPool1dFuncOptions(one("kernel_size"))
                                                             .stride(stride)
                                                             .padding(one("padding"))
                                                             .dilation(one("dilation"))
                                                             .ceil_mode(a.at("ceil_mode")));
    if (indices != nullptr) *indices = where;
    return values;
  }
  EXPECT_EQ(op, "avg_pool1d");
  return F::avg_pool1d(x, F::AvgPool1dFuncOptions(one("kernel_size"))
                              .stride(stride)
                              .padding(one("padding"))
                              .ceil_mode(a.at("ceil_mode"))
                              .count_include_pad(a.at("count_include_pad")));
}

TEST(ConvModulesReferenceData, IsCompleteAndFromItsGenerator) {
  const auto& doc = reference();
  EXPECT_EQ(doc.at("generator"), "tools/reference/gen_conv_modules.py");
  std::map<std::string, int> per_op;
  int stride2 = 0, output_padding = 0, grouped = 0, dilated = 0, no_bias = 0;
  for (const auto& c : doc.at("cases")) {
    ++per_op[c.at("op")];
    if (c.at("op") != "conv_transpose2d") continue;
    const auto& a = c.at("args");
    stride2 += test::int_list(a.at("stride"))[0] == 2;
    output_padding += test::int_list(a.at("output_padding"))[0] > 0;
    grouped += test::json_to_int(a.at("groups")) > 1;
    dilated += test::int_list(a.at("dilation"))[0] > 1;
    no_bias += c.at("bias").is_null();
  }
  EXPECT_GE(per_op["conv_transpose2d"], 10);
  EXPECT_GE(per_op["conv1d"], 4);
  EXPECT_GE(per_op["max_pool1d"], 3);
  EXPECT_GE(per_op["avg_pool1d"], 3);
  EXPECT_GE(stride2, 4);
  EXPECT_GE(output_padding, 4);
  EXPECT_GE(grouped, 3);
  EXPECT_GE(dilated, 3);
  EXPECT_GE(no_bias, 2);
}

// Forward values, max_pool1d's indices, and the gradients of (out · g).sum() with respect to
// every operand, on both tiers (the fast tier runs float32 conv_transpose2d through the
// registered conv2d backward-input kernel).
TEST(ConvModules, ForwardAndGradientsMatchPyTorch) {
  for (const Tier tier : {Tier::kReference, Tier::kFast}) {
    const TierGuard guard(tier);
    for (const auto& c : reference().at("cases")) {
      SCOPED_TRACE(std::string(c.at("name")) + (tier == Tier::kFast ? " (fast)" : " (reference)"));
      const torch::Tensor x = leaf(c.at("input")), w = leaf(c.at("weight")), b = leaf(c.at("bias"));
      const bool f64 = x.dtype() == torch::kFloat64;
      const double rtol = f64 ? 1e-10 : 1e-4, atol = f64 ? 1e-10 : 2e-5;
      torch::Tensor indices;
      const torch::Tensor y = run_conv(c, x, w, b, &indices);
      EXPECT_TRUE(test::tensors_match(y, c.at("output"), rtol, atol));
      if (c.contains("indices")) {
        EXPECT_TRUE(test::tensors_match(indices, c.at("indices")));
      }
      (y * test::tensor_from_json(c.at("grad_output"))).sum().backward();
      EXPECT_TRUE(test::tensors_match(x.grad(), c.at("grad_input"), rtol, atol));
      if (w.defined()) {
        EXPECT_TRUE(test::tensors_match(w.grad(), c.at("grad_weight"), rtol, atol));
      }
      if (b.defined()) {
        EXPECT_TRUE(test::tensors_match(b.grad(), c.at("grad_bias"), rtol, atol));
      }
    }
  }
}

TEST(ConvModules, ReprAsPyTorch) {
  using torch::nn::AvgPool1dOptions;
  using torch::nn::Conv1dOptions;
  using torch::nn::ConvTranspose2dOptions;
  using torch::nn::MaxPool1dOptions;
  std::map<std::string, std::string> got;
  const auto print = [&](const std::string& name, const auto& module) {
    std::ostringstream os;
    os << module;
    got[name] = os.str();
  };
  print("ConvTranspose2d(4, 6, 3)", torch::nn::ConvTranspose2d(4, 6, 3));
  print(
      "ConvTranspose2d(4, 6, {3, 2}).stride(2).padding(1).output_padding(1).groups(2).bias(false)"
      ".dilation(2)",
      torch::nn::ConvTranspose2d(ConvTranspose2dOptions(4, 6, {3, 2})
                                     .stride(2)
                                     .padding(1)
                                     .output_padding(1)
                                     .groups(2)
                                     .bias(false)
                                     .dilation(2)));
  print("Conv1d(2, 4, 3).stride(2)", torch::nn::Conv1d(Conv1dOptions(2, 4, 3).stride(2)));
  print("Conv1d(4, 4, 5).padding(2).dilation(2).groups(4).bias(false)",
        torch::nn::Conv1d(Conv1dOptions(4, 4, 5).padding(2).dilation(2).groups(4).bias(false)));
  print("MaxPool1d(3)", torch::nn::MaxPool1d(3));
  print("MaxPool1d(3).stride(2).padding(1).ceil_mode(true)",
        torch::nn::MaxPool1d(MaxPool1dOptions(3).stride(2).padding(1).ceil_mode(true)));
  print("AvgPool1d(3)", torch::nn::AvgPool1d(AvgPool1dOptions(3)));
  print("Dropout2d(0.3)", torch::nn::Dropout2d(0.3));
  for (const auto& e : reference().at("repr")) {
    EXPECT_EQ(got.at(e.at("name")), e.at("expected").get<std::string>());
  }
}

// ── the modules: PyTorch's parameter names, shapes and default init ─────────────────────────

TEST(ConvTranspose2dModule, StateDictAndInitAsPyTorch) {
  torch::nn::ConvTranspose2d up(
      torch::nn::ConvTranspose2dOptions(6, 4, {3, 2}).stride(2).groups(2));
  const auto params = up->named_parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params["weight"].sizes(), torch::IntArrayRef({6, 2, 3, 2}));  // [in, out/g, kH, kW]
  EXPECT_EQ(params["bias"].sizes(), torch::IntArrayRef({4}));
  // kaiming_uniform_(a = √5) on the transposed weight: bound 1/√(out/g · kH · kW) = 1/√12.
  const double bound = 1.0 / std::sqrt(12.0);
  EXPECT_LE(up->weight.abs().max().item<double>(), bound);
  EXPECT_GT(up->weight.abs().max().item<double>(), 0.5 * bound);
  EXPECT_LE(up->bias.abs().max().item<double>(), bound);
  torch::nn::ConvTranspose2d no_bias(torch::nn::ConvTranspose2dOptions(3, 2, 2).bias(false));
  EXPECT_EQ(no_bias->named_parameters().size(), 1u);
  EXPECT_EQ(no_bias->forward(torch::randn({1, 3, 4, 4})).sizes(), torch::IntArrayRef({1, 2, 5, 5}));
}

TEST(ConvTranspose2dModule, UndoesTheShapeOfAStridedConv2d) {
  // The decoder's mirror of an encoder layer: [N, 8, 16, 16] → conv s2 → [N, 16, 8, 8] → back.
  torch::nn::Conv2d down(torch::nn::Conv2dOptions(8, 16, 4).stride(2).padding(1));
  torch::nn::ConvTranspose2d up(torch::nn::ConvTranspose2dOptions(16, 8, 4).stride(2).padding(1));
  const torch::Tensor x = torch::randn({2, 8, 16, 16});
  EXPECT_EQ(up(down(x)).sizes(), x.sizes());
  torch::nn::Sequential decoder(up, torch::nn::ReLU());
  EXPECT_EQ(decoder->forward(torch::randn({3, 16, 8, 8})).sizes(),
            torch::IntArrayRef({3, 8, 16, 16}));
  // Unbatched [C, H, W].
  EXPECT_EQ(up(torch::randn({16, 8, 8})).sizes(), torch::IntArrayRef({8, 16, 16}));
}

TEST(ConvTranspose2dModule, OutputSizePicksOutputPadding) {
  // stride 2, padding 1, kernel 3 on 5×5: sizes 9 (output_padding 0) or 10 (output_padding 1).
  torch::nn::ConvTranspose2d up(torch::nn::ConvTranspose2dOptions(4, 2, 3).stride(2).padding(1));
  const torch::Tensor x = torch::randn({1, 4, 5, 5});
  EXPECT_EQ(up(x).sizes(), torch::IntArrayRef({1, 2, 9, 9}));
  const torch::Tensor y = up->forward(x, I{10, 9});
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({1, 2, 10, 9}));
  const torch::Tensor expected = F::conv_transpose2d(
      x, up->weight,
      F::ConvTranspose2dFuncOptions().bias(up->bias).stride(2).padding(1).output_padding({1, 0}));
  EXPECT_TRUE(torch::allclose(y, expected));
  EXPECT_EQ(up->forward(x, I{1, 2, 10, 10}).sizes(), torch::IntArrayRef({1, 2, 10, 10}));
  TT_EXPECT_THROW_WITH(up->forward(x, I{11, 9}), torch::Error, "requested an output size of",
                       "valid sizes range from [9, 9] to [10, 10]");
  TT_EXPECT_THROW_WITH(up->forward(x, I{10}), torch::Error, "output_size must have 2 or 4");
}

TEST(Conv1dModule, StateDictShapesAndUnbatchedInput) {
  torch::nn::Conv1d conv(torch::nn::Conv1dOptions(4, 6, 3).padding(1).groups(2));
  EXPECT_EQ(conv->weight.sizes(), torch::IntArrayRef({6, 2, 3}));
  EXPECT_EQ(conv->bias.sizes(), torch::IntArrayRef({6}));
  EXPECT_LE(conv->weight.abs().max().item<double>(), 1.0 / std::sqrt(6.0));
  const torch::Tensor x = torch::randn({5, 4, 10});
  const torch::Tensor y = conv(x);
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({5, 6, 10}));
  EXPECT_TRUE(torch::allclose(conv(x[2]), y[2], 1e-5, 1e-6));  // [C, L] is one sequence
}

TEST(Pool1dModules, ForwardMatchesTheFunctionalForms) {
  const torch::Tensor x = torch::randn({2, 3, 11});
  torch::nn::MaxPool1d max_pool(torch::nn::MaxPool1dOptions(3).stride(2).padding(1));
  auto [values, indices] = max_pool->forward_with_indices(x);
  EXPECT_TRUE(values.equal(max_pool(x)));
  EXPECT_EQ(values.sizes(), torch::IntArrayRef({2, 3, 6}));
  // The indices are positions along L: gathering them gives the values back.
  EXPECT_TRUE(x.gather(2, indices).equal(values));
  torch::nn::AvgPool1d avg_pool(torch::nn::AvgPool1dOptions(2));
  EXPECT_TRUE(avg_pool(x).allclose((x.narrow(2, 0, 10).reshape({2, 3, 5, 2})).mean(-1)));
}

// ── gradchecks (float64, finite differences) ────────────────────────────────────────────────

struct Transposed {
  I x, w;
  I stride, padding, output_padding, dilation;
  int64_t groups;
};

const std::vector<Transposed>& transposed_problems() {
  static const std::vector<Transposed> problems = {
      {{2, 2, 3, 3}, {2, 3, 2, 2}, {1}, {0}, {0}, {1}, 1},
      {{1, 3, 3, 2}, {3, 2, 3, 3}, {2}, {1}, {1}, {1}, 1},
      {{2, 4, 2, 3}, {4, 1, 3, 2}, {2, 1}, {0, 1}, {1, 0}, {1, 2}, 2},
      {{1, 2, 3, 3}, {2, 2, 3, 3}, {1}, {1}, {1}, {2}, 1},  // output_padding ≥ stride, < dilation
      {{2, 3, 3}, {2, 2, 2, 2}, {2}, {0}, {1}, {1}, 1},     // unbatched
  };
  return problems;
}

torch::Tensor transposed(const Transposed& p, const std::vector<torch::Tensor>& in) {
  return torch::conv_transpose2d(in[0], in[1], in.size() > 2 ? in[2] : torch::Tensor(), p.stride,
                                 p.padding, p.output_padding, p.groups, p.dilation);
}

TEST(ConvTranspose2dGradcheck, InputWeightAndBias) {
  torch::manual_seed(3);
  for (const Transposed& p : transposed_problems()) {
    SCOPED_TRACE(test::shape_str(p.x) + " * " + test::shape_str(p.w));
    const torch::Tensor x = torch::randn(p.x, torch::kFloat64).requires_grad_();
    const torch::Tensor w = torch::randn(p.w, torch::kFloat64).requires_grad_();
    const torch::Tensor b = torch::randn({p.w[1] * p.groups}, torch::kFloat64).requires_grad_();
    const auto result = tinytorch::autograd::gradcheck(
        [&](const std::vector<torch::Tensor>& in) { return transposed(p, in); }, {x, w, b});
    EXPECT_TRUE(result.ok) << result.message;
  }
}

TEST(ConvTranspose2dGradcheck, SecondOrder) {
  torch::manual_seed(4);
  for (const Transposed& p : transposed_problems()) {
    SCOPED_TRACE(test::shape_str(p.x) + " * " + test::shape_str(p.w));
    const torch::Tensor x = torch::randn(p.x, torch::kFloat64).requires_grad_();
    const torch::Tensor w = torch::randn(p.w, torch::kFloat64).requires_grad_();
    const torch::Tensor b = torch::randn({p.w[1] * p.groups}, torch::kFloat64).requires_grad_();
    const auto result = tinytorch::autograd::gradgradcheck(
        [&](const std::vector<torch::Tensor>& in) { return transposed(p, in); }, {x, w, b});
    EXPECT_TRUE(result.ok) << result.message;
  }
}

TEST(Conv1dGradcheck, InputWeightAndBias) {
  torch::manual_seed(5);
  const torch::Tensor x = torch::randn({2, 4, 7}, torch::kFloat64).requires_grad_();
  const torch::Tensor w = torch::randn({4, 2, 3}, torch::kFloat64).requires_grad_();
  const torch::Tensor b = torch::randn({4}, torch::kFloat64).requires_grad_();
  const auto f = [](const std::vector<torch::Tensor>& in) {
    return torch::conv1d(in[0], in[1], in[2], 2, 1, 2, 2);
  };
  EXPECT_TRUE(tinytorch::autograd::gradcheck(f, {x, w, b}).ok);
  EXPECT_TRUE(tinytorch::autograd::gradgradcheck(f, {x, w, b}).ok);
  const torch::Tensor seq = torch::randn({4, 6}, torch::kFloat64).requires_grad_();  // unbatched
  EXPECT_TRUE(tinytorch::autograd::gradcheck(f, {seq, w, b}).ok);
}

TEST(Pool1dGradcheck, MaxAndAvg) {
  // Distinct values a finite step cannot reorder: 0.1 · (37·i mod 54), a permutation of 0..53.
  std::vector<double> values(54);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.1 * static_cast<double>(37 * i % 54);
  const torch::Tensor leaf_x =
      torch::from_blob(values.data(), {2, 3, 9}, torch::TensorOptions().dtype(torch::kFloat64))
          .clone()
          .requires_grad_();
  const auto max_pool = [](const std::vector<torch::Tensor>& in) {
    return torch::max_pool1d(in[0], 3, 2, 1, 1, true);
  };
  const auto avg_pool = [](const std::vector<torch::Tensor>& in) {
    return torch::avg_pool1d(in[0], 3, 2, 1, false, false);
  };
  EXPECT_TRUE(tinytorch::autograd::gradcheck(max_pool, {leaf_x}).ok);
  EXPECT_TRUE(tinytorch::autograd::gradcheck(avg_pool, {leaf_x}).ok);
  EXPECT_TRUE(tinytorch::autograd::gradgradcheck(avg_pool, {leaf_x}).ok);
}

TEST(Dropout2dGradcheck, KeptChannelsScaled) {
  const torch::Tensor x = torch::randn({2, 3, 2, 2}, torch::kFloat64).requires_grad_();
  const auto f = [](const std::vector<torch::Tensor>& in) {
    torch::manual_seed(7);  // the same mask for every evaluation
    return F::dropout2d(in[0], F::Dropout2dFuncOptions().p(0.4));
  };
  EXPECT_TRUE(tinytorch::autograd::gradcheck(f, {x}).ok);
}

// ── Dropout2d's statistics ──────────────────────────────────────────────────────────────────

// Every [H, W] map of y is all 0 or all `kept`; returns the fraction of zeroed maps.
double zeroed_fraction(const torch::Tensor& y, double kept) {
  const torch::Tensor maps = y.reshape({-1, y.size(-2) * y.size(-1)});
  int64_t zeroed = 0;
  for (int64_t i = 0; i < maps.size(0); ++i) {
    const double lo = maps[i].min().item<double>(), hi = maps[i].max().item<double>();
    EXPECT_EQ(lo, hi) << "map " << i << " is not dropped or kept whole";
    EXPECT_TRUE(hi == 0.0 || std::abs(hi - kept) < 1e-6) << "map " << i << " holds " << hi;
    zeroed += hi == 0.0;
  }
  return static_cast<double>(zeroed) / static_cast<double>(maps.size(0));
}

TEST(Dropout2d, ZeroesWholeChannelsAndScalesTheRest) {
  torch::manual_seed(11);
  torch::nn::Dropout2d drop(torch::nn::Dropout2dOptions(0.25));
  const torch::Tensor x = torch::ones({64, 32, 3, 3});  // 2048 maps
  const torch::Tensor y = drop(x);
  // Binomial(2048, 0.25): standard deviation ≈ 0.0096, so ±0.05 is over five of them.
  EXPECT_NEAR(zeroed_fraction(y, 1.0 / 0.75), 0.25, 0.05);
  EXPECT_NEAR(y.mean().item<double>(), 1.0, 0.07);  // E[y] = x
  // Unbatched [C, H, W]: libtorch's reading, C maps.
  EXPECT_NEAR(zeroed_fraction(drop(torch::ones({512, 2, 2})), 1.0 / 0.75), 0.25, 0.08);
  // The gradient flows through the kept maps only, scaled the same.
  const torch::Tensor leaf = torch::ones({4, 8, 2, 2}).requires_grad_();
  const torch::Tensor out = drop(leaf);
  out.sum().backward();
  EXPECT_TRUE(leaf.grad().equal(out.detach()));
}

TEST(Dropout2d, IdentityInEvalModeAndAtPZero) {
  torch::nn::Dropout2d drop(0.5);
  drop->eval();
  const torch::Tensor x = torch::randn({2, 3, 4, 4});
  EXPECT_TRUE(drop(x).is_same(x));
  EXPECT_TRUE(F::dropout2d(x, F::Dropout2dFuncOptions().p(0.5).training(false)).is_same(x));
  EXPECT_TRUE(F::dropout2d(x, F::Dropout2dFuncOptions().p(0.0)).is_same(x));
  EXPECT_EQ(F::dropout2d(x, F::Dropout2dFuncOptions().p(1.0)).abs().sum().item<float>(), 0.0f);
  torch::Tensor y = torch::ones({2, 3, 4, 4});
  torch::manual_seed(12);
  const torch::Tensor out = F::dropout2d(y, F::Dropout2dFuncOptions().p(0.5).inplace(true));
  EXPECT_TRUE(out.is_same(y));
  zeroed_fraction(y, 2.0);
}

// ── errors ──────────────────────────────────────────────────────────────────────────────────

TEST(ConvModulesErrors, ConvTranspose2dArguments) {
  const torch::Tensor x = torch::zeros({1, 4, 5, 5}), w = torch::zeros({4, 2, 3, 3});
  // PyTorch's messages (torch 1.13), checked against F.conv_transpose2d.
  TT_EXPECT_THROW_WITH(
      F::conv_transpose2d(x, w, F::ConvTranspose2dFuncOptions().stride(2).output_padding(2)),
      torch::Error, "output padding must be smaller than either stride or dilation",
      "output_padding_height: 2", "stride_height: 2", "dilation_height: 1");
  TT_EXPECT_THROW_WITH(
      F::conv_transpose2d(x, w, F::ConvTranspose2dFuncOptions().stride(1).output_padding({0, 1})),
      torch::Error, "output_padding_width: 1 stride_height: 1 stride_width: 1");
  TT_EXPECT_THROW_WITH(F::conv_transpose2d(torch::zeros({1, 3, 5, 5}), w), torch::Error,
                       "Given transposed=1, weight of size [4, 2, 3, 3], expected input[1, 3, 5, "
                       "5] to have 4 channels, but got 3 channels instead");
  TT_EXPECT_THROW_WITH(F::conv_transpose2d(x, w, F::ConvTranspose2dFuncOptions().groups(3)),
                       torch::Error,
                       "Given groups=3, expected weight to be divisible by 3 at dimension 0");
  TT_EXPECT_THROW_WITH(
      F::conv_transpose2d(x, w, F::ConvTranspose2dFuncOptions().bias(torch::zeros({3}))),
      torch::Error, "expected bias to be 1-dimensional with 2 elements, but got bias of size [3]");
  TT_EXPECT_THROW_WITH(F::conv_transpose2d(x, w, F::ConvTranspose2dFuncOptions().padding(5)),
                       torch::Error, "Calculated output size per channel: (-3 x -3)",
                       "Output size is too small");
  TT_EXPECT_THROW_WITH(
      F::conv_transpose2d(x, w, F::ConvTranspose2dFuncOptions().output_padding(-1)), torch::Error,
      "negative output_padding is not supported");
  TT_EXPECT_THROW_WITH(F::conv_transpose2d(torch::zeros({4, 5}), w), torch::Error,
                       "Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d");
  TT_EXPECT_THROW_WITH(F::conv_transpose2d(x, torch::zeros({4, 2, 3})), torch::Error,
                       "expected a 4-D weight [in_channels, out_channels / groups, kH, kW]");
  TT_EXPECT_THROW_WITH(F::conv_transpose2d(x.to(torch::kFloat64), w), torch::TypeError,
                       "same dtype");
}

TEST(ConvModulesErrors, ModulesNameTheLayer) {
  TT_EXPECT_THROW_WITH(
      torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(4, 3, 3).groups(2)),
      torch::ValueError, "ConvTranspose2d",
      "out_channels must be divisible by groups, but got out_channels=3, groups=2");
  TT_EXPECT_THROW_WITH(
      torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(3, 4, 3).groups(2)),
      torch::ValueError, "in_channels must be divisible by groups");
  TT_EXPECT_THROW_WITH(torch::nn::Conv1d(torch::nn::Conv1dOptions(4, 4, 0)), torch::ValueError,
                       "Conv1d: kernel_size must be positive, but got (0,)");
  torch::nn::ConvTranspose2d up(
      torch::nn::ConvTranspose2dOptions(4, 4, 3).stride(2).output_padding(2));
  TT_EXPECT_THROW_WITH(up(torch::zeros({1, 4, 5, 5})), torch::Error,
                       "ConvTranspose2d(4, 4, kernel_size=(3, 3), stride=(2, 2), "
                       "output_padding=(2, 2))",
                       "output padding must be smaller than either stride or dilation");
  torch::nn::ConvTranspose2d plain(4, 2, 3);
  TT_EXPECT_THROW_WITH(plain(torch::zeros({1, 3, 5, 5})), torch::Error,
                       "ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(1, 1)) expected input "
                       "with 4 channels, but got 3");
  torch::nn::Conv1d conv(torch::nn::Conv1dOptions(3, 2, 3));
  TT_EXPECT_THROW_WITH(conv(torch::zeros({1, 2, 9})), torch::Error,
                       "Conv1d(3, 2, kernel_size=(3,), stride=(1,)) expected input with 3 "
                       "channels, but got 2");
  TT_EXPECT_THROW_WITH(conv(torch::zeros({1, 3, 1, 9})), torch::Error,
                       "expected a 3-D input [N, C, L]", "4-D input of size [1, 3, 1, 9]");
}

TEST(ConvModulesErrors, Conv1dAndPool1dArguments) {
  TT_EXPECT_THROW_WITH(torch::conv1d(torch::zeros({1, 3, 5, 5}), torch::zeros({4, 3, 3})),
                       torch::Error,
                       "Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of "
                       "size: [1, 3, 5, 5]");
  TT_EXPECT_THROW_WITH(torch::conv1d(torch::zeros({1, 3, 5}), torch::zeros({4, 2, 3})),
                       torch::Error, "conv1d", "to have 2 channels, but got 3 channels instead");
  TT_EXPECT_THROW_WITH(
      torch::conv1d(torch::zeros({1, 4, 5}), torch::zeros({3, 2, 3}), {}, 1, 0, 1, 2), torch::Error,
      "conv1d", "Given groups=2, expected weight to be divisible");
  TT_EXPECT_THROW_WITH(torch::conv1d(torch::zeros({1, 3, 5}), torch::zeros({4, 3, 3}), {}, I{1, 1}),
                       torch::Error, "conv1d: expected stride to be a single integer value");
  TT_EXPECT_THROW_WITH(torch::max_pool1d(torch::zeros({1, 3, 5}), 2, {}, 2), torch::ValueError,
                       "max_pool1d", "pad should be at most half of kernel size, but got pad=2");
  TT_EXPECT_THROW_WITH(torch::max_pool1d(torch::zeros({1, 1, 3, 5}), 2), torch::Error,
                       "max_pool1d: Expected 2D or 3D (batch mode) tensor",
                       "but got: [1, 1, 3, 5]");
  TT_EXPECT_THROW_WITH(torch::avg_pool1d(torch::zeros({1, 3, 5}), I{2, 2}), torch::ValueError,
                       "avg_pool1d: kernel_size must be a single int, but got [2, 2]");
  TT_EXPECT_THROW_WITH(torch::avg_pool1d(torch::zeros({1, 3, 2}), 3), torch::ValueError,
                       "avg_pool1d", "Output size is too small");
}

TEST(ConvModulesErrors, Dropout2dArguments) {
  TT_EXPECT_THROW_WITH(torch::nn::Dropout2d(1.5), torch::ValueError,
                       "dropout probability has to be between 0 and 1, but got 1.5");
  TT_EXPECT_THROW_WITH(F::dropout2d(torch::ones({2, 3, 4, 4}), F::Dropout2dFuncOptions().p(-0.1)),
                       torch::ValueError, "dropout2d: dropout probability", "-0.1");
  TT_EXPECT_THROW_WITH(F::dropout2d(torch::ones({3, 4})), torch::Error,
                       "dropout2d: expected a 4-D input [N, C, H, W]", "[3, 4]");
  TT_EXPECT_THROW_WITH(F::dropout2d(torch::ones({2, 3, 4}, torch::kInt64)), torch::TypeError,
                       "dropout2d: expected a floating-point input");
}

}  // namespace
