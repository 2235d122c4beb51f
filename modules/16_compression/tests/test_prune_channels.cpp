// Module 16 — structured pruning of convolutions: channels_to_keep ranks filters as
// torch.nn.utils.prune.ln_structured(dim=0) does; remove_channels shrinks conv → conv,
// conv → Flatten → Linear and conv → BatchNorm2d → ... and the small network computes exactly
// what the masked one computes (removed filters, biases and BN weight/bias zeroed); the FLOPs
// fall as the formula says; the small layers train; the errors name what was wrong.
#include <gtest/gtest.h>

#include "m16_support.h"
#include "tinytorch/nn/summary.h"
#include "tinytorch/nn/utils/prune.h"

namespace tinytorch {
namespace {

namespace prune = nn::utils::prune;
using m16::conv64;
using m16::max_abs_diff;

// [C] with 1 at the kept channels, 0 elsewhere, in float64.
Tensor channel_mask(int64_t channels, const std::vector<int64_t>& keep) {
  Tensor m = zeros({channels}, kFloat64);
  for (const int64_t c : keep) m[c].fill_(1.0);
  return m;
}

// conv's weight and bias with the channels not in `keep` zeroed: the masked layer's parameters.
std::pair<Tensor, Tensor> masked_conv(const nn::Conv2d& conv, const std::vector<int64_t>& keep) {
  const int64_t c = conv->options.out_channels();
  const Tensor m = channel_mask(c, keep);
  return {conv->weight.mul(m.reshape({c, 1, 1, 1})), conv->bias.mul(m)};
}

// small's block i along dim (blocks of `block` entries) is exactly orig's block keep[i].
void expect_blocks(const Tensor& small, const Tensor& orig, int64_t dim,
                   const std::vector<int64_t>& keep, int64_t block = 1) {
  ASSERT_EQ(small.size(dim), static_cast<int64_t>(keep.size()) * block);
  for (size_t i = 0; i < keep.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(max_abs_diff(small.narrow(dim, static_cast<int64_t>(i) * block, block),
                           orig.narrow(dim, keep[i] * block, block)),
              0.0);
  }
}

TEST(ChannelPrune, RankingIsLnStructuredOverWholeFilters) {
  manual_seed(3);
  nn::Conv2d conv = conv64(3, 8, 3);
  for (const double p : {1.0, 2.0, 3.0}) {
    SCOPED_TRACE(p);
    const std::vector<int64_t> keep = prune::channels_to_keep(conv, 0.5, p);
    ASSERT_EQ(keep.size(), 4u);
    EXPECT_TRUE(std::is_sorted(keep.begin(), keep.end()));
    // The same ranking as neurons_to_keep on the filters flattened into rows [8, 3·3·3].
    nn::Linear rows(nn::LinearOptions(27, 8).dtype(kFloat64));
    {
      const NoGradGuard no_grad;
      rows->weight.copy_(conv->weight.reshape({8, 27}));
    }
    EXPECT_EQ(keep, prune::neurons_to_keep(rows, 0.5, p));
  }
  // Ties: filters of equal norm are removed lowest index first. Norms 2, 1, 2, 1, 3 (L2).
  nn::Conv2d tied = conv64(1, 5, 2);
  {
    const NoGradGuard no_grad;
    tied->weight.zero_();
    for (const auto& [c, v] : std::vector<std::pair<int64_t, double>>{
             {0, 1.0}, {1, 0.5}, {2, 1.0}, {3, 0.5}, {4, 1.5}}) {
      tied->weight[c].fill_(v);  // 4 taps: L2 norm 2·v
    }
  }
  EXPECT_EQ(prune::channels_to_keep(tied, 2), (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(prune::channels_to_keep(tied, 3), (std::vector<int64_t>{2, 4}));
  // A fraction rounds half to even, like Python's round: 0.5 of 5 filters is 2.
  EXPECT_EQ(prune::channels_to_keep(tied, 0.5).size(), 3u);
  EXPECT_EQ(prune::channels_to_keep(tied, 0), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(ChannelPrune, ConvToConvKeepsTheMaskedOutput) {
  manual_seed(4);
  nn::Conv2d conv1(nn::Conv2dOptions(3, 8, 3).padding(1).stride(1).dtype(kFloat64));
  nn::Conv2d conv2(nn::Conv2dOptions(8, 5, 3).padding(1).stride(2).dtype(kFloat64));
  nn::MaxPool2d pool(2);
  const Tensor x = randn({2, 3, 12, 12}, kFloat64);
  const std::vector<int64_t> keep = prune::channels_to_keep(conv1, 0.5);
  ASSERT_EQ(keep.size(), 4u);
  const auto [w, b] = masked_conv(conv1, keep);
  namespace F = nn::functional;
  const Tensor masked =
      conv2(pool(relu(F::conv2d(x, w, F::Conv2dFuncOptions().bias(b).padding(1)))));
  auto [small1, small2] = prune::remove_channels(conv1, conv2, keep);
  EXPECT_EQ(small1->weight.sizes(), IntArrayRef({4, 3, 3, 3}));
  EXPECT_EQ(small1->bias.sizes(), IntArrayRef({4}));
  EXPECT_EQ(small2->weight.sizes(), IntArrayRef({5, 4, 3, 3}));
  EXPECT_EQ(small2->bias.sizes(), IntArrayRef({5}));
  // The options other than the channel counts are kept.
  EXPECT_EQ(small1->options.padding(), conv1->options.padding());
  EXPECT_EQ(small2->options.stride(), conv2->options.stride());
  EXPECT_EQ(small1->options.dtype(), kFloat64);
  expect_blocks(small1->weight, conv1->weight, 0, keep);
  expect_blocks(small1->bias, conv1->bias, 0, keep);
  expect_blocks(small2->weight, conv2->weight, 1, keep);
  EXPECT_EQ(max_abs_diff(small2->bias, conv2->bias), 0.0);
  const Tensor out = small2(pool(relu(small1(x))));
  EXPECT_EQ(out.sizes(), masked.sizes());
  EXPECT_LT(max_abs_diff(out, masked), 1e-12);
  // Kept filters are the largest: every kept L2 norm ≥ every removed one.
  const Tensor norms = conv1->weight.detach().pow(2).sum({1, 2, 3});
  double min_kept = INFINITY, max_removed = 0;
  for (int64_t c = 0; c < 8; ++c) {
    const double v = norms[c].item<double>();
    if (std::find(keep.begin(), keep.end(), c) != keep.end()) {
      min_kept = std::min(min_kept, v);
    } else {
      max_removed = std::max(max_removed, v);
    }
  }
  EXPECT_GE(min_kept, max_removed);
  // The originals are untouched.
  EXPECT_EQ(conv1->weight.sizes(), IntArrayRef({8, 3, 3, 3}));
  EXPECT_EQ(conv2->weight.sizes(), IntArrayRef({5, 8, 3, 3}));
}

TEST(ChannelPrune, ConvToFlattenToLinearKeepsColumnBlocks) {
  manual_seed(5);
  nn::Conv2d conv = conv64(1, 6, 5, 2);
  nn::MaxPool2d pool(2);
  nn::Flatten flatten;
  nn::Linear fc(nn::LinearOptions(6 * 14 * 14, 10).dtype(kFloat64));
  const Tensor x = randn({3, 1, 28, 28}, kFloat64);
  const std::vector<int64_t> keep = {1, 2, 5};
  const auto [w, b] = masked_conv(conv, keep);
  namespace F = nn::functional;
  const Tensor masked =
      fc(flatten(pool(relu(F::conv2d(x, w, F::Conv2dFuncOptions().bias(b).padding(2))))));
  auto [small, small_fc] = prune::remove_channels(conv, fc, keep, 14 * 14);
  EXPECT_EQ(small->weight.sizes(), IntArrayRef({3, 1, 5, 5}));
  EXPECT_EQ(small_fc->weight.sizes(), IntArrayRef({10, 3 * 196}));
  EXPECT_EQ(small_fc->options.in_features(), 3 * 196);
  EXPECT_LT(max_abs_diff(small_fc(flatten(pool(relu(small(x))))), masked), 1e-12);
  // Block i of the new columns is block keep[i] of the old ones.
  expect_blocks(small->weight, conv->weight, 0, keep);
  expect_blocks(small_fc->weight, fc->weight, 1, keep, 196);
}

// conv → BatchNorm2d → ReLU → next, with running statistics and γ, β far from their defaults.
struct WithBatchNorm {
  nn::Conv2d conv = conv64(2, 6, 3, 1);
  nn::BatchNorm2d bn{nn::BatchNorm2dOptions(6).dtype(kFloat64)};

  WithBatchNorm() {
    for (int i = 0; i < 3; ++i) bn(conv(randn({4, 2, 8, 8}, kFloat64).mul(3).add(1)));
    const NoGradGuard no_grad;
    bn->weight.copy_(randn({6}, kFloat64));
    bn->bias.copy_(randn({6}, kFloat64));
  }
  // The masked network's first half: removed filters, conv biases and BN γ, β zeroed.
  Tensor masked(const Tensor& x, const std::vector<int64_t>& keep) const {
    const auto [w, b] = masked_conv(conv, keep);
    const Tensor m = channel_mask(6, keep);
    namespace F = nn::functional;
    return relu(F::batch_norm(F::conv2d(x, w, F::Conv2dFuncOptions().bias(b).padding(1)),
                              bn->running_mean, bn->running_var,
                              F::BatchNormFuncOptions()
                                  .weight(bn->weight.mul(m))
                                  .bias(bn->bias.mul(m))
                                  .training(bn->is_training())
                                  .momentum(0.0)
                                  .eps(bn->options.eps())));
  }
};

TEST(ChannelPrune, BatchNormBetweenIsSliced) {
  manual_seed(6);
  WithBatchNorm net;
  nn::Conv2d next = conv64(6, 4, 3);
  nn::Linear fc(nn::LinearOptions(6 * 64, 5).dtype(kFloat64));
  const Tensor x = randn({2, 2, 8, 8}, kFloat64);
  const std::vector<int64_t> keep = {0, 3, 4};
  for (const bool training : {false, true}) {
    SCOPED_TRACE(training ? "train()" : "eval()");
    net.bn->train(training);
    auto [small, small_bn, small_next] = prune::remove_channels(net.conv, net.bn, next, keep);
    EXPECT_EQ(small_bn->options.num_features(), 3);
    EXPECT_EQ(small_bn->is_training(), training);
    EXPECT_EQ(small_bn->running_mean.sizes(), IntArrayRef({3}));
    for (const auto& [to, from] :
         std::vector<std::pair<Tensor, Tensor>>{{small_bn->weight, net.bn->weight},
                                                {small_bn->bias, net.bn->bias},
                                                {small_bn->running_mean, net.bn->running_mean},
                                                {small_bn->running_var, net.bn->running_var}}) {
      expect_blocks(to, from, 0, keep);
    }
    EXPECT_EQ(small_bn->num_batches_tracked.item<int64_t>(), 3);
    EXPECT_EQ(small_next->weight.sizes(), IntArrayRef({4, 3, 3, 3}));
    // In train() the small BN normalises with the batch's statistics of the kept channels (and
    // updates its running ones), the masked one with the same batch statistics.
    const Tensor masked = next(net.masked(x, keep));
    EXPECT_LT(max_abs_diff(small_next(relu(small_bn(small(x)))), masked), 1e-10);

    auto [small_c, small_bn2, small_fc] = prune::remove_channels(net.conv, net.bn, fc, keep, 64);
    EXPECT_EQ(small_fc->weight.sizes(), IntArrayRef({5, 3 * 64}));
    EXPECT_LT(max_abs_diff(small_fc(relu(small_bn2(small_c(x))).flatten(1)),
                           fc(net.masked(x, keep).flatten(1))),
              1e-10);
  }
  // A BN without γ, β cannot silence a channel.
  nn::BatchNorm2d plain(nn::BatchNorm2dOptions(6).affine(false).dtype(kFloat64));
  TT_EXPECT_THROW_WITH(prune::remove_channels(net.conv, plain, next, keep), ValueError,
                       "expected affine=true, or fold the BatchNorm");
  nn::BatchNorm2d wrong(nn::BatchNorm2dOptions(5).dtype(kFloat64));
  TT_EXPECT_THROW_WITH(prune::remove_channels(net.conv, wrong, next, keep), ValueError,
                       "outputs 6 channels but the BatchNorm2d", "has 5 features",
                       "expected BatchNorm2d(6)");
}

// LeNet-5's feature extractor and classifier, with padding 2 on 28×28 inputs.
struct LeNet {
  nn::Conv2d conv1{nn::Conv2dOptions(1, 6, 5).padding(2)};
  nn::Conv2d conv2{nn::Conv2dOptions(6, 16, 5)};
  nn::Linear fc1{400, 120};
  nn::Sequential tail{nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10)};

  nn::Sequential model() const {
    return nn::Sequential(conv1, nn::ReLU(), nn::MaxPool2d(2), conv2, nn::ReLU(), nn::MaxPool2d(2),
                          nn::Flatten(), fc1, tail);
  }
  // FLOPs of one 28×28 image, a multiply-add counted as 2: 2·O·C·kH·kW·H'·W' per conv,
  // 2·in·out per Linear.
  int64_t flops() const {
    const auto conv_macs = [](const nn::Conv2d& c, int64_t hw) { return c->weight.numel() * hw; };
    int64_t macs = conv_macs(conv1, 28 * 28) + conv_macs(conv2, 10 * 10) + fc1->weight.numel();
    for (const Tensor& p : tail->parameters()) {
      if (p.dim() == 2) macs += p.numel();
    }
    return 2 * macs;
  }
};

TEST(ChannelPrune, RemovingHalfTheChannelsOfLeNetCutsTheFlops) {
  manual_seed(7);
  LeNet dense;
  const Tensor x = randn({2, 1, 28, 28});
  LeNet small;
  small.tail = dense.tail;
  std::vector<int64_t> keep1 = prune::channels_to_keep(dense.conv1, 0.5);
  auto [c1, c2] = prune::remove_channels(dense.conv1, dense.conv2, keep1);
  small.conv1 = c1;
  std::vector<int64_t> keep2 = prune::channels_to_keep(c2, 0.5);
  auto [c2s, fc1s] = prune::remove_channels(c2, dense.fc1, keep2, 5 * 5);
  small.conv2 = c2s;
  small.fc1 = fc1s;
  EXPECT_EQ(small.conv1->weight.sizes(), IntArrayRef({3, 1, 5, 5}));
  EXPECT_EQ(small.conv2->weight.sizes(), IntArrayRef({8, 3, 5, 5}));
  EXPECT_EQ(small.fc1->weight.sizes(), IntArrayRef({120, 200}));
  EXPECT_EQ(small.model()->forward(x).sizes(), IntArrayRef({2, 10}));
  // conv1: 6·25·784 → 3·25·784 MACs; conv2: 16·6·25·100 → 8·3·25·100 (a quarter); fc1 halves.
  EXPECT_EQ(dense.flops(), 2 * (117600 + 240000 + 48000 + 10080 + 840));
  EXPECT_EQ(small.flops(), 2 * (58800 + 60000 + 24000 + 10080 + 840));
  // Where the profiler counts FLOPs (module 14 done), the model's forward agrees.
  const nn::ModelSummary before = nn::summary(dense.model(), {1, 1, 28, 28});
  const nn::ModelSummary after = nn::summary(small.model(), {1, 1, 28, 28});
  if (before.flops_counted) {
    EXPECT_EQ(before.total_flops, dense.flops());
    EXPECT_EQ(after.total_flops, small.flops());
  }
  EXPECT_EQ(after.total_parameters,
            before.total_parameters - (3 * 25 + 3) - (16 * 6 * 25 - 8 * 3 * 25 + 8) - 200 * 120);
}

TEST(ChannelPrune, TheSmallLayersTrain) {
  manual_seed(8);
  nn::Conv2d conv1(nn::Conv2dOptions(1, 6, 3).padding(1)), conv2(6, 4, 3);
  auto [a, b] = prune::remove_channels(conv1, conv2, prune::channels_to_keep(conv1, 3));
  nn::Sequential net(a, nn::ReLU(), b);
  optim::SGD opt(net->parameters(), optim::SGDOptions(0.05));
  const Tensor x = randn({8, 1, 6, 6}), y = randn({8, 4, 4, 4});
  double first = 0, last = 0;
  for (int step = 0; step < 5; ++step) {
    opt.zero_grad();
    const Tensor loss = mse_loss(net->forward(x), y);
    loss.backward();
    (step == 0 ? first : last) = loss.item<double>();
    opt.step();
  }
  EXPECT_EQ(a->weight.grad().sizes(), IntArrayRef({3, 1, 3, 3}));
  EXPECT_EQ(a->bias.grad().sizes(), IntArrayRef({3}));
  EXPECT_EQ(b->weight.grad().sizes(), IntArrayRef({4, 3, 3, 3}));
  EXPECT_LT(last, first);
  // The original layers are not in the new graph.
  EXPECT_FALSE(conv1->weight.grad().defined());
}

TEST(ChannelPrune, RejectsBadArguments) {
  nn::Conv2d conv(3, 8, 3), next(8, 4, 3), other(6, 4, 3);
  TT_EXPECT_THROW_WITH(prune::channels_to_keep(conv, 0.5, 0.5), ValueError,
                       "channels_to_keep needs a norm p >= 1, but got 0.5");
  TT_EXPECT_THROW_WITH(prune::channels_to_keep(conv, 9), ValueError,
                       "amount=9 should be smaller than the number of parameters to prune=8");
  TT_EXPECT_THROW_WITH(prune::remove_channels(conv, other, {0, 1}), ValueError,
                       "outputs 8 channels but the next layer", "expects 6");
  TT_EXPECT_THROW_WITH(prune::remove_channels(conv, next, {}), ValueError,
                       "prune.remove_channels: keep is empty, but at least one channel of 8");
  TT_EXPECT_THROW_WITH(
      prune::remove_channels(conv, next, {2, 2}), ValueError,
      "keep must be sorted and unique, but keep[0] = 2 is followed by keep[1] = 2");
  TT_EXPECT_THROW_WITH(prune::remove_channels(conv, next, {1, 8}), IndexError,
                       "channel 8 is out of range for 8 channels (expected 0 <= index < 8)");
  TT_EXPECT_THROW_WITH(prune::remove_channels(conv, next, {-1}), IndexError,
                       "channel -1 is out of range");
  nn::Conv2d grouped(nn::Conv2dOptions(8, 8, 3).groups(2));
  TT_EXPECT_THROW_WITH(prune::remove_channels(conv, grouped, {0}), ValueError,
                       "only convolutions with groups=1 are supported", "has groups=2");
  nn::Conv2d depthwise(nn::Conv2dOptions(8, 8, 3).groups(8));
  TT_EXPECT_THROW_WITH(prune::remove_channels(depthwise, next, {0}), ValueError, "has groups=8");
  // conv → Flatten → Linear: in_features must be out_channels · spatial.
  nn::Linear fc(8 * 36, 10);
  TT_EXPECT_THROW_WITH(prune::remove_channels(conv, fc, {0}, 25), ValueError,
                       "outputs 8 channels × spatial 25 = 200 features", "expects 288",
                       "expected spatial = in_features / out_channels = 36");
  TT_EXPECT_THROW_WITH(prune::remove_channels(conv, fc, {0}, 0), ValueError,
                       "spatial is the H·W of one channel", "must be >= 1, but got 0");
  // A next layer still carrying a mask: make it permanent first.
  prune::l1_unstructured(*fc, "weight", 0.5);
  TT_EXPECT_THROW_WITH(prune::remove_channels(conv, fc, {0}, 36), ValueError,
                       "Linear is pruned with a mask: call prune::remove() on the layers first");
  // remove_neurons shares these checks.
  nn::Linear fc1(4, 6), fc2(6, 2);
  TT_EXPECT_THROW_WITH(prune::remove_neurons(fc1, fc2, {}), ValueError,
                       "prune.remove_neurons: keep is empty, but at least one neuron of 6");
}

}  // namespace
}  // namespace tinytorch
