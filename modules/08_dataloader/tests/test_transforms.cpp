// Transforms: Normalize values, flip and crop values, determinism with a seed, Compose.
#include <gtest/gtest.h>

#include "data_test_util.h"
#include "support/reference.h"

namespace tt = tinytorch;
namespace td = tinytorch::data;

namespace {

// x[c, h, w] = 100·c + 10·h + w, shape [2, 3, 4]
tt::Tensor image() {
  std::vector<float> v;
  for (int c = 0; c < 2; ++c)
    for (int h = 0; h < 3; ++h)
      for (int w = 0; w < 4; ++w) v.push_back(static_cast<float>(100 * c + 10 * h + w));
  return tt::from_vector(v, {2, 3, 4});
}

TEST(Normalize, PerChannel) {
  td::Normalize norm({1.0, 100.0}, {2.0, 4.0});
  tt::Tensor out = norm(image());
  EXPECT_EQ(out.sizes(), tt::IntArrayRef({2, 3, 4}));
  tt::Tensor x = image();
  EXPECT_FLOAT_EQ(out[0][1][2].item<float>(), (12.0f - 1.0f) / 2.0f);
  EXPECT_FLOAT_EQ(out[1][2][3].item<float>(), (123.0f - 100.0f) / 4.0f);
  EXPECT_TRUE(x.equal(image()));  // the input is not modified
}

TEST(Normalize, Errors) {
  TT_EXPECT_THROW_WITH(td::Normalize({0.5}, {0.0}), tt::ValueError, "std evaluated to zero");
  td::Normalize three({0, 0, 0}, {1, 1, 1});
  TT_EXPECT_THROW_WITH(three(image()), tt::ValueError, "3 means/stds", "2 channels");
  TT_EXPECT_THROW_WITH(three(tt::zeros({4, 4})), tt::ValueError, "[C, H, W]");
}

TEST(RandomHorizontalFlip, AlwaysAndNever) {
  td::RandomHorizontalFlip always(1.0), never(0.0);
  tt::Tensor f = always(image());
  EXPECT_FLOAT_EQ(f[1][2][0].item<float>(), 123.0f);
  EXPECT_FLOAT_EQ(f[1][2][3].item<float>(), 120.0f);
  EXPECT_FLOAT_EQ(f[0][0][1].item<float>(), 2.0f);
  EXPECT_TRUE(never(image()).equal(image()));
}

TEST(RandomHorizontalFlip, SeededSequence) {
  td::RandomHorizontalFlip a(0.5, tt::Generator(11)), b(0.5, tt::Generator(11));
  int flips = 0;
  for (int i = 0; i < 64; ++i) {
    tt::Tensor ya = a(image()), yb = b(image());
    EXPECT_TRUE(ya.equal(yb));
    flips += ya.equal(image()) ? 0 : 1;
  }
  EXPECT_GT(flips, 10);  // p = 0.5 over 64 draws: both outcomes occur
  EXPECT_LT(flips, 54);
}

TEST(RandomCrop, NoPaddingFullSizeIsIdentity) {
  td::RandomCrop crop(3, 4, 0);
  EXPECT_TRUE(crop(image()).equal(image()));
}

TEST(RandomCrop, WindowValuesAndPaddingZeros) {
  // With padding 1, a [3, 4] crop of the padded [5, 6] image; every output value is either 0
  // (padding) or the input value at (row - 1 + top, col - 1 + left) for one offset (top, left).
  td::RandomCrop crop(3, 4, 1, tt::Generator(2));
  bool saw_offset = false;
  for (int trial = 0; trial < 20; ++trial) {
    tt::Tensor out = crop(image());
    ASSERT_EQ(out.sizes(), tt::IntArrayRef({2, 3, 4}));
    bool matched = false;
    for (int top = 0; top <= 2 && !matched; ++top) {
      for (int left = 0; left <= 2 && !matched; ++left) {
        bool ok = true;
        for (int c = 0; c < 2; ++c)
          for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 4; ++j) {
              const int y = top + i - 1, x = left + j - 1;
              const float want =
                  (y < 0 || y >= 3 || x < 0 || x >= 4) ? 0.0f : float(100 * c + 10 * y + x);
              ok = ok && out[c][i][j].item<float>() == want;
            }
        if (ok) {
          matched = true;
          saw_offset = saw_offset || top != 1 || left != 1;
        }
      }
    }
    EXPECT_TRUE(matched) << "trial " << trial;
  }
  EXPECT_TRUE(saw_offset);
}

TEST(RandomCrop, TooLarge) {
  td::RandomCrop crop(5, 0);
  TT_EXPECT_THROW_WITH(crop(image()), tt::ValueError, "crop size (5, 5)", "(3, 4)");
}

TEST(Compose, AppliesInOrderAndIsSeeded) {
  auto make = [] {
    return std::make_shared<td::Compose>(std::vector<std::shared_ptr<const td::Transform>>{
        std::make_shared<td::RandomCrop>(3, 4, 1), std::make_shared<td::RandomHorizontalFlip>(0.5),
        std::make_shared<td::Normalize>(std::vector<double>{0.5}, std::vector<double>{0.25})});
  };
  auto c1 = make(), c2 = make();
  tt::Generator g1(9), g2(9);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE((*c1)(image(), g1).equal((*c2)(image(), g2)));
  // Normalize last: a pure flip+normalize equals normalize(flip(x)).
  td::Compose flip_norm(
      {std::make_shared<td::RandomHorizontalFlip>(1.0),
       std::make_shared<td::Normalize>(std::vector<double>{1.0}, std::vector<double>{2.0})});
  td::RandomHorizontalFlip flip(1.0);
  td::Normalize norm({1.0}, {2.0});
  EXPECT_TRUE(flip_norm(image()).allclose(norm(flip(image()))));
}

// ---- NCHW batches: C = 1 (Fashion-MNIST) and C = 3 (CIFAR-10) -----------------------------------

// n identical images [c, h, w] with x[ch, y, x] = 1 + 100·ch + 10·y + x: every value ≥ 1, so a 0 in
// an output is padding, and channel ch's values are channel 0's plus 100·ch.
tt::Tensor batch_of_same(int64_t n, int64_t c, int64_t h, int64_t w) {
  std::vector<float> v;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) v.push_back(static_cast<float>(1 + 100 * ch + 10 * y + x));
  return tt::from_vector(v, {n, c, h, w});
}

// Every channel of sample `s` of out [N, C, H, W] was cut and flipped like channel 0.
void expect_channels_moved_together(const tt::Tensor& out, int64_t s) {
  const tt::Tensor sample = out.select(0, s);
  const std::vector<float> first = sample.select(0, 0).contiguous().to_vector<float>();
  for (int64_t ch = 1; ch < out.size(1); ++ch) {
    const std::vector<float> other = sample.select(0, ch).contiguous().to_vector<float>();
    for (size_t i = 0; i < first.size(); ++i) {
      const float want = first[i] == 0.0f ? 0.0f : first[i] + static_cast<float>(100 * ch);
      ASSERT_EQ(other[i], want) << "sample " << s << ", channel " << ch << ", element " << i;
    }
  }
}

// How many samples of out [N, ...] differ from sample 0.
int count_unlike_first(const tt::Tensor& out) {
  int unlike = 0;
  for (int64_t s = 1; s < out.size(0); ++s) unlike += out[s].equal(out[0]) ? 0 : 1;
  return unlike;
}

class TransformOnBatch : public ::testing::TestWithParam<int64_t> {};  // the channel count

TEST_P(TransformOnBatch, EachSampleDrawsItsOwnCropAndFlipChannelsTogether) {
  const int64_t channels = GetParam();
  const tt::Tensor batch = batch_of_same(16, channels, 8, 8);
  td::Compose augment(
      {std::make_shared<td::RandomCrop>(8, 2), std::make_shared<td::RandomHorizontalFlip>(0.5)});
  tt::Generator gen(5);
  const tt::Tensor out = augment(batch, gen);
  ASSERT_EQ(out.sizes(), tt::IntArrayRef({16, channels, 8, 8}));
  EXPECT_GT(count_unlike_first(out), 8) << "16 samples of one image should get different crops";
  for (int64_t s = 0; s < 16; ++s) expect_channels_moved_together(out, s);
  EXPECT_TRUE(batch.equal(batch_of_same(16, channels, 8, 8)));  // the input is not modified

  // t(batch, gen) is t applied to the samples one after another with the same generator.
  tt::Generator again(5);
  for (int64_t s = 0; s < 16; ++s) {
    EXPECT_TRUE(out[s].equal(augment(batch[s], again))) << "sample " << s;
  }
}

TEST_P(TransformOnBatch, NormalizeIsPerChannel) {
  const int64_t channels = GetParam();
  const tt::Tensor batch = batch_of_same(2, channels, 2, 3);
  std::vector<double> mean, stdev;
  for (int64_t ch = 0; ch < channels; ++ch) {
    mean.push_back(100.0 * static_cast<double>(ch));
    stdev.push_back(2.0);
  }
  const tt::Tensor out = td::Normalize(mean, stdev)(batch);
  ASSERT_EQ(out.sizes(), batch.sizes());
  // (1 + 100·ch + 10·y + x − 100·ch) / 2 = (1 + 10·y + x) / 2 in every channel and sample.
  for (int64_t ch = 0; ch < channels; ++ch) {
    EXPECT_FLOAT_EQ(out[1][ch][1][2].item<float>(), (1.0f + 10.0f + 2.0f) / 2.0f);
  }
}

TEST_P(TransformOnBatch, DataLoaderAugmentsEverySampleOnItsOwn) {
  // A dataset of 16 identical images: after RandomCrop with padding and a flip, a batch's samples
  // differ (each drew its own window), and each one's channels moved together.
  const int64_t channels = GetParam();
  td::TensorDataset ds(batch_of_same(16, channels, 8, 8), tt::zeros({16}, tt::kInt64));
  auto augment = std::make_shared<td::Compose>(std::vector<std::shared_ptr<const td::Transform>>{
      std::make_shared<td::RandomCrop>(8, 2), std::make_shared<td::RandomHorizontalFlip>(0.5)});
  td::DataLoader loader(ds, {.batch_size = 16, .seed = 3, .transform = augment});
  const std::vector<td::Example<>> batches = tinytorch::test08::collect(loader);
  ASSERT_EQ(batches.size(), 1u);
  const tt::Tensor& out = batches[0].data;
  ASSERT_EQ(out.sizes(), tt::IntArrayRef({16, channels, 8, 8}));
  EXPECT_GT(count_unlike_first(out), 8);
  for (int64_t s = 0; s < 16; ++s) expect_channels_moved_together(out, s);
}

INSTANTIATE_TEST_SUITE_P(Channels, TransformOnBatch, ::testing::Values(1, 3),
                         [](const auto& info) { return "C" + std::to_string(info.param); });

TEST(TransformBatch, EmptyBatchAndWrongRank) {
  td::RandomHorizontalFlip flip(0.5);
  TT_EXPECT_THROW_WITH(flip(tt::zeros({0, 3, 4, 4})), tt::ValueError, "N >= 1", "[0, 3, 4, 4]");
  TT_EXPECT_THROW_WITH(flip(tt::zeros({1, 1, 3, 4, 4})), tt::ValueError, "[C, H, W]",
                       "a batch [N, C, H, W]");
}

}  // namespace
