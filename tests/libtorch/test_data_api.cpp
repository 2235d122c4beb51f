// libtorch's data API through <torch/torch.h>, written as libtorch's own examples write it: a
// custom dataset (torch::optional size, Example<>), map(Normalize) and map(Stack), a loader built
// from a sampler type or a sampler object, and MNIST over files in the IDX layout. The API's
// details (every sampler's order, errors, worker ordering) are tested in module 08's tests.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

// libtorch's custom-dataset example, in miniature: example i is a 1×1×2 image of i, label i.
class CustomDataset : public torch::data::datasets::Dataset<CustomDataset> {
 public:
  explicit CustomDataset(size_t n) : n_(n) {}
  torch::data::Example<> get(size_t index) override {
    const auto i = static_cast<int64_t>(index);
    return {torch::full({1, 1, 2}, static_cast<double>(i)), torch::tensor(i)};
  }
  torch::optional<size_t> size() const override { return n_; }

 private:
  size_t n_;
};

TEST(DataApi, CustomDatasetThroughMapAndALoader) {
  auto dataset = CustomDataset(10)
                     .map(torch::data::transforms::Normalize<>(1.0, 2.0))
                     .map(torch::data::transforms::Stack<>());
  const size_t dataset_size = dataset.size().value();
  auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      std::move(dataset), torch::data::DataLoaderOptions().batch_size(4).workers(2));
  std::vector<int64_t> targets;
  for (torch::data::Example<>& batch : *loader) {
    EXPECT_EQ(batch.data.sizes(), torch::IntArrayRef({batch.target.size(0), 1, 1, 2}));
    for (const int64_t t : batch.target.to_vector<int64_t>()) targets.push_back(t);
    // Normalize<>(1, 2): (i - 1) / 2.
    EXPECT_FLOAT_EQ(batch.data[0][0][0][1].item<float>(),
                    (static_cast<float>(batch.target[0].item<int64_t>()) - 1.0f) / 2.0f);
  }
  EXPECT_EQ(dataset_size, 10u);
  EXPECT_EQ(targets, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(DataApi, DataParallelLoaderTakesASamplerObject) {
  // As a data-parallel program (one process per rank) builds its loader: rank 0 of 2.
  auto dataset = CustomDataset(7).map(torch::data::transforms::Stack<>());
  auto sampler = torch::data::samplers::DistributedRandomSampler(dataset.size().value(),
                                                                 /*num_replicas=*/2, /*rank=*/0,
                                                                 /*allow_duplicates=*/false);
  auto loader = torch::data::make_data_loader(std::move(dataset), sampler, 2);
  size_t seen = 0;
  for (auto& batch : *loader) seen += static_cast<size_t>(batch.target.size(0));
  EXPECT_EQ(seen, 3u);  // ⌊7 / 2⌋ without duplicates
}

TEST(DataApi, MnistFromIdxFiles) {
  // One 28×28 image of bytes 0, 1, …, 255, 0, … and its label 3, as MNIST's files hold them.
  const std::filesystem::path root =
      std::filesystem::path(::testing::TempDir()) / "tt_libtorch_mnist";
  std::filesystem::create_directories(root);
  auto write = [&](const std::string& name, std::vector<unsigned char> header, size_t values) {
    std::ofstream f(root / name, std::ios::binary);
    for (size_t i = 0; i < values; ++i) header.push_back(static_cast<unsigned char>(i % 256));
    f.write(reinterpret_cast<const char*>(header.data()),
            static_cast<std::streamsize>(header.size()));
  };
  write("t10k-images-idx3-ubyte", {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28}, 28 * 28);
  write("t10k-labels-idx1-ubyte", {0, 0, 8, 1, 0, 0, 0, 1, 3}, 0);
  auto test_dataset =
      torch::data::datasets::MNIST(root.string(), torch::data::datasets::MNIST::Mode::kTest)
          .map(torch::data::transforms::Stack<>());
  auto loader = torch::data::make_data_loader(std::move(test_dataset), 1);
  for (auto& batch : *loader) {
    EXPECT_EQ(batch.data.sizes(), torch::IntArrayRef({1, 1, 28, 28}));
    EXPECT_FLOAT_EQ(batch.data[0][0][0][5].item<float>(), 5.0f / 255.0f);
    EXPECT_EQ(batch.target[0].item<int64_t>(), 3);
  }
  std::filesystem::remove_all(root);
}

}  // namespace
