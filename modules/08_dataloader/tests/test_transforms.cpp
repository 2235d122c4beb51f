// Transforms: Normalize values, flip and crop values, determinism with a seed, Compose.
#include <gtest/gtest.h>

#include <set>

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

// A CNN's batches are NCHW: a DataLoader over [N, 1, H, W] images with a crop+flip transform
// transforms each [1, H, W] sample on its own (its own offsets and coin flip) and stacks them
// into [B, 1, H, W]. A batch handed to a transform directly is refused with that advice.
TEST(Transforms, AugmentNchwBatchesSamplePerSampleThroughTheDataLoader) {
  const int64_t n = 16, h = 4, w = 5;
  std::vector<float> v;
  for (int64_t i = 0; i < n * h * w; ++i) v.push_back(static_cast<float>(i + 1));  // no zeros
  const tt::Tensor images = tt::from_vector(v, {n, 1, h, w});
  const tt::Tensor labels = tt::arange(n);
  auto crop_flip =
      std::make_shared<const td::Compose>(std::vector<std::shared_ptr<const td::Transform>>{
          std::make_shared<td::RandomCrop>(h, w, 1),
          std::make_shared<td::RandomHorizontalFlip>(0.5)});
  td::DataLoader loader(td::TensorDataset(images, labels),
                        {.batch_size = 8, .shuffle = true, .seed = 3, .transform = crop_flip});
  // Which (top, left, flip) of the padded source turns `src` [1, h, w] into `out`; -1 if none.
  auto which = [&](const tt::Tensor& src, const tt::Tensor& out) -> int64_t {
    for (int64_t top = 0; top <= 2; ++top) {
      for (int64_t left = 0; left <= 2; ++left) {
        for (int64_t flip = 0; flip <= 1; ++flip) {
          bool same = true;
          for (int64_t i = 0; i < h && same; ++i) {
            for (int64_t j = 0; j < w && same; ++j) {
              const int64_t y = top + i - 1, x = left + (flip ? w - 1 - j : j) - 1;
              const float want =
                  y < 0 || y >= h || x < 0 || x >= w ? 0.0f : src[0][y][x].item<float>();
              same = out[0][i][j].item<float>() == want;
            }
          }
          if (same) return (top * 3 + left) * 2 + flip;
        }
      }
    }
    return -1;
  };
  std::set<int64_t> variants;
  int64_t seen = 0;
  for (auto& batch : loader) {
    ASSERT_EQ(batch.data.sizes(), tt::IntArrayRef({8, 1, h, w}));
    for (int64_t k = 0; k < 8; ++k) {
      const int64_t source = batch.target[k].item<int64_t>();
      const int64_t variant = which(images[source], batch.data[k]);
      EXPECT_GE(variant, 0) << "sample " << k << " is not a crop/flip of image " << source;
      variants.insert(variant);
      ++seen;
    }
  }
  EXPECT_EQ(seen, n);
  EXPECT_GE(variants.size(), 4u);  // each sample drew its own window and flip, not one per batch

  td::RandomCrop crop(h, w, 1);
  TT_EXPECT_THROW_WITH(crop(images), tt::ValueError, "expected an image tensor [C, H, W]",
                       "a batch [N, C, H, W]?", "DataLoaderOptions::transform");
}

}  // namespace
