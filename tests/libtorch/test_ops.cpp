// libtorch programs' everyday ops through <torch/torch.h>: sorting and top-k for predictions,
// masks with tril, norms for gradient clipping by hand, in-place initialisation, wrapping a
// caller's buffer with from_blob, padding and resizing images, smooth losses and per-pixel
// cross entropy. Each test is written as a libtorch program would write it.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace {

namespace F = torch::nn::functional;

TEST(Ops, TopkAccuracyAsATrainingLoopComputesIt) {
  torch::manual_seed(0);
  const torch::Tensor logits = torch::randn({8, 10});
  const torch::Tensor labels = torch::randint(0, 10, {8});
  auto [values, indices] = logits.topk(3, /*dim=*/1);
  const torch::Tensor hit = indices.eq(labels.unsqueeze(1)).any(1);
  const torch::Tensor top1 = torch::argmax(logits, 1).eq(labels);
  EXPECT_EQ(hit.dtype(), torch::kBool);
  // Top-1 right implies top-3 right.
  EXPECT_TRUE(torch::le(top1.to(torch::kInt64), hit.to(torch::kInt64)).all().item<bool>());
  auto [sorted, order] = torch::sort(logits, /*dim=*/1, /*descending=*/true);
  EXPECT_TRUE(sorted.narrow(1, 0, 3).equal(values));
  EXPECT_TRUE(order.narrow(1, 0, 3).equal(indices));
  EXPECT_TRUE(torch::argsort(logits, 1, true).equal(order));
}

TEST(Ops, CausalMaskFromTrilAndCumsumPositions) {
  const int64_t T = 4;
  const torch::Tensor mask = torch::ones({T, T}).tril().to(torch::kBool);
  EXPECT_EQ(mask.sum().item<int64_t>(), T * (T + 1) / 2);
  const torch::Tensor padding = torch::tensor({1, 1, 1, 0});
  const torch::Tensor positions = torch::cumsum(padding, 0) * padding - 1;
  EXPECT_EQ(positions.dtype(), torch::kInt64);
  EXPECT_TRUE(positions.equal(torch::tensor({0, 1, 2, -1})));
  torch::Tensor scores = torch::zeros({T, T});
  scores.triu_(1);
  EXPECT_EQ(scores.sum().item<float>(), 0.0f);
}

TEST(Ops, ClippingByTheGlobalNorm) {
  torch::nn::Linear fc(4, 3);
  F::mse_loss(fc(torch::randn({5, 4}) * 10), torch::zeros({5, 3})).backward();
  double total = 0;
  for (const auto& p : fc->parameters()) total += std::pow(p.grad().norm(2).item<double>(), 2);
  total = std::sqrt(total);
  const double max_norm = 0.5;
  {
    torch::NoGradGuard no_grad;
    for (auto& p : fc->parameters()) p.mutable_grad().mul_(max_norm / (total + 1e-6));
  }
  double after = 0;
  for (const auto& p : fc->parameters()) after += std::pow(p.grad().norm().item<double>(), 2);
  EXPECT_NEAR(std::sqrt(after), max_norm, 1e-4);
  EXPECT_TRUE(fc->weight.norm(1, {1}, true).sizes() == torch::IntArrayRef({3, 1}));
}

TEST(Ops, InPlaceInitialisationUnderNoGrad) {
  torch::nn::Linear fc(16, 16);
  {
    torch::NoGradGuard no_grad;
    fc->weight.uniform_(-0.1, 0.1);
    fc->bias.normal_(0.0, 0.01);
  }
  EXPECT_LE(fc->weight.abs().max().item<float>(), 0.1f);
  EXPECT_TRUE(fc->weight.requires_grad());
  EXPECT_THROW(fc->weight.uniform_(), torch::Error);  // a leaf that requires grad, grad mode on
}

TEST(Ops, FromBlobWrapsACallersBuffer) {
  std::vector<float> pixels(2 * 3 * 3, 0.5f);
  const torch::Tensor image =
      torch::from_blob(pixels.data(), {1, 2, 3, 3}, torch::TensorOptions().dtype(torch::kFloat32));
  const torch::Tensor owned = image.clone();  // the usual way to outlive the buffer
  pixels[0] = 2.0f;
  EXPECT_EQ(image[0][0][0][0].item<float>(), 2.0f);
  EXPECT_EQ(owned[0][0][0][0].item<float>(), 0.5f);
}

TEST(Ops, PadResizeAndADenseLoss) {
  torch::manual_seed(1);
  // A tiny segmentation head: reflect-pad, convolve, upsample back, per-pixel cross entropy.
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 4, 3));
  const torch::Tensor x = torch::randn({2, 3, 8, 8});
  torch::Tensor h = F::pad(x, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReflect));
  h = conv(h);  // [2, 4, 8, 8]
  h = F::interpolate(h, F::InterpolateFuncOptions()
                            .size(std::vector<int64_t>{16, 16})
                            .mode(torch::kBilinear)
                            .align_corners(false));
  const torch::Tensor target = torch::randint(0, 4, {2, 16, 16});
  const torch::Tensor loss = F::cross_entropy(h, target);
  loss.backward();
  EXPECT_EQ(h.sizes(), torch::IntArrayRef({2, 4, 16, 16}));
  EXPECT_TRUE(conv->weight.grad().defined());
  EXPECT_GT(conv->weight.grad().norm().item<float>(), 0.0f);
  torch::nn::Upsample up(torch::nn::UpsampleOptions().scale_factor(std::vector<double>{2, 2}));
  EXPECT_EQ(up(x).sizes(), torch::IntArrayRef({2, 3, 16, 16}));
}

TEST(Ops, SmoothL1AndHuberForBoxRegression) {
  const torch::Tensor pred = torch::tensor({0.0, 0.5, 3.0});
  const torch::Tensor target = torch::zeros({3});
  // 0, ½·0.5², 3 − ½ → mean over three
  EXPECT_NEAR(F::smooth_l1_loss(pred, target).item<double>(), (0.125 + 2.5) / 3.0, 1e-6);
  torch::nn::HuberLoss huber(torch::nn::HuberLossOptions().delta(2.0));
  // 0, ½·0.5², 2·(3 − 1)
  EXPECT_NEAR(huber(pred, target).item<double>(), (0.125 + 4.0) / 3.0, 1e-6);
  torch::nn::SmoothL1Loss smooth(torch::nn::SmoothL1LossOptions(torch::kSum).beta(0.5));
  EXPECT_NEAR(smooth(pred, target).item<double>(), 0.25 + 2.75, 1e-6);
}

TEST(Ops, FreeFunctionsAsLibtorchCodeCallsThem) {
  const torch::Tensor x = torch::arange(12, torch::kFloat32).reshape({3, 4});
  EXPECT_EQ(torch::reshape(x, {4, 3}).sizes(), torch::IntArrayRef({4, 3}));
  EXPECT_EQ(torch::flatten(x).sizes(), torch::IntArrayRef({12}));
  EXPECT_EQ(torch::transpose(x, 0, 1).sizes(), torch::IntArrayRef({4, 3}));
  EXPECT_EQ(torch::unsqueeze(x, 0).sizes(), torch::IntArrayRef({1, 3, 4}));
  EXPECT_EQ(torch::squeeze(torch::unsqueeze(x, 0)).sizes(), torch::IntArrayRef({3, 4}));
  EXPECT_EQ(torch::max(x).item<float>(), 11.0f);
  EXPECT_TRUE(std::get<1>(torch::max(x, 1)).equal(torch::tensor({3, 3, 3})));
  EXPECT_EQ(torch::sum(x).item<float>(), 66.0f);
  EXPECT_EQ(torch::mean(x).item<float>(), 5.5f);
  EXPECT_TRUE(torch::relu(x - 5).equal(torch::clamp(x - 5, 0)));
  EXPECT_NEAR(torch::sigmoid(x)[0][0].item<float>(), 0.5f, 1e-6);
  EXPECT_TRUE(torch::exp(torch::log(x + 1)).allclose(x + 1));
  EXPECT_TRUE(torch::matmul(x, torch::transpose(x, 0, 1)).allclose(x.matmul(x.t())));
  EXPECT_TRUE(torch::tanh(x).allclose(x.tanh()));
  EXPECT_EQ(torch::argmax(x).item<int64_t>(), 11);
  EXPECT_EQ(torch::min(x).item<float>(), 0.0f);
}

}  // namespace
