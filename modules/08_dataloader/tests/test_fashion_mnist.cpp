// The real Fashion-MNIST files (Debian's dataset-fashion-mnist), compared with reference values
// read independently by tools/reference/gen_module08.py (Python's gzip module).
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "data_test_util.h"
#include "support/reference.h"

namespace tt = tinytorch;
using tinytorch::test::load_reference;

namespace {

bool have_fashion_mnist() {
  return std::filesystem::exists(std::filesystem::path(tt::data::kFashionMnistDir) /
                                 "t10k-images-idx3-ubyte.gz");
}

void check_split(bool train) {
  const auto& ref = load_reference("module08_fashion_mnist.json")[train ? "train" : "test"];
  const tt::data::TensorDataset ds =
      tt::data::load_fashion_mnist(tt::data::kFashionMnistDir, train);
  const int64_t n = ref["images_dims"][0].get<int64_t>();
  ASSERT_EQ(ds.size(), n);
  EXPECT_EQ(ds.data().sizes(), tt::IntArrayRef({n, 1, 28, 28}));
  EXPECT_EQ(ds.data().dtype(), tt::kFloat32);
  EXPECT_EQ(ds.targets().sizes(), tt::IntArrayRef({n}));
  EXPECT_EQ(ds.targets().dtype(), tt::kInt64);
  // Pixels in [0, 1], labels in 0 … 9.
  EXPECT_GE(ds.data().min().item<double>(), 0.0);
  EXPECT_LE(ds.data().max().item<double>(), 1.0);
  EXPECT_EQ(ds.targets().min().item<int64_t>(), 0);
  EXPECT_EQ(ds.targets().max().item<int64_t>(), 9);

  const auto first = ref["first_labels"].get<std::vector<int64_t>>();
  const auto labels = ds.targets().to_vector<int64_t>();
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(labels[i], first[i]) << "label " << i;
  std::vector<int64_t> hist(10, 0);
  for (const int64_t l : labels) ++hist[static_cast<size_t>(l)];
  EXPECT_EQ(hist, ref["label_histogram"].get<std::vector<int64_t>>());

  // Pixel values: image 0's row 14, and byte sums of the first four images and the last one.
  const auto row = ref["image0_row14_bytes"].get<std::vector<int>>();
  const auto got_row = ds.get(0).data.select(0, 0).select(0, 14).contiguous().to_vector<float>();
  for (size_t j = 0; j < row.size(); ++j) {
    EXPECT_FLOAT_EQ(got_row[j], static_cast<float>(row[j]) / 255.0f) << "pixel (14, " << j << ")";
  }
  const auto sums = ref["first_image_byte_sums"].get<std::vector<double>>();
  for (size_t i = 0; i < sums.size(); ++i) {
    EXPECT_NEAR(ds.get(static_cast<int64_t>(i)).data.sum().item<double>() * 255.0, sums[i], 1e-2)
        << "image " << i;
  }
  EXPECT_NEAR(ds.get(n - 1).data.sum().item<double>() * 255.0,
              ref["last_image_byte_sum"].get<double>(), 1e-2);
}

TEST(FashionMnist, TestSplitMatchesReference) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  check_split(/*train=*/false);
}

TEST(FashionMnist, TrainSplitMatchesReference) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  check_split(/*train=*/true);
}

TEST(FashionMnist, MissingDirectoryIsAClearError) {
  TT_EXPECT_THROW_WITH(tt::data::load_fashion_mnist("/nonexistent", true), tt::Error,
                       "/nonexistent/train-images-idx3-ubyte", "dataset-fashion-mnist");
}

TEST(FashionMnist, CountMismatchIsAClearError) {
  using namespace tinytorch::test08;
  TempDir dir;
  write_gz(dir.file("t10k-images-idx3-ubyte.gz"), idx_bytes({2, 2, 2}, Bytes(8, 1)));
  write_gz(dir.file("t10k-labels-idx1-ubyte.gz"), idx_bytes({3}, {1, 2, 3}));
  TT_EXPECT_THROW_WITH(tt::data::load_fashion_mnist(dir.file(""), false), tt::Error, "has 2 images",
                       "has 3 labels");
}

}  // namespace
