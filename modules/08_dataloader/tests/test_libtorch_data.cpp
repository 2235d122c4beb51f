// libtorch's data API (datasets::Dataset<Self>, map, transforms, MNIST, samplers,
// make_data_loader), spelled as a libtorch program spells it: through <torch/torch.h>, torch:: is
// tinytorch::.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "data_test_util.h"
#include "support/reference.h"

using namespace tinytorch::test08;

namespace {

using torch::data::Example;
namespace samplers = torch::data::samplers;
namespace transforms = torch::data::transforms;

// A custom dataset, as libtorch's custom-dataset example writes one: example i has data
// [i, i + 0.5] (float32) and target i (int64, 0-d).
class CustomDataset : public torch::data::datasets::Dataset<CustomDataset> {
 public:
  explicit CustomDataset(size_t n) : n_(n) {}

  Example<> get(size_t index) override {
    TT_CHECK_INDEX(index < n_, "CustomDataset::get: index ", index, " out of range");
    const auto i = static_cast<double>(index);
    return {torch::tensor({i, i + 0.5}).to(torch::kFloat32),
            torch::tensor(static_cast<int64_t>(index))};
  }
  torch::optional<size_t> size() const override { return n_; }

 private:
  size_t n_;
};

std::vector<int64_t> targets_of(const Example<>& batch) {
  return batch.target.to_vector<int64_t>();
}

// ── Example, Dataset, map ────────────────────────────────────────────────────────────────────

TEST(LibtorchData, ExampleDefaultsToTensorDataAndTarget) {
  static_assert(std::is_same_v<Example<>::DataType, torch::Tensor>);
  static_assert(std::is_same_v<Example<>::TargetType, torch::Tensor>);
  Example<int, double> e{3, 0.5};
  EXPECT_EQ(e.data, 3);
  EXPECT_EQ(e.target, 0.5);
  torch::data::TensorExample x(torch::ones({2}));
  const torch::Tensor& data = x;  // an Example with no target converts to its data
  EXPECT_EQ(data.sizes(), torch::IntArrayRef({2}));
}

TEST(LibtorchData, DatasetBatchRequestGathersExamplesInOrder) {
  CustomDataset ds(5);
  const std::vector<size_t> indices{4, 0, 2};
  const std::vector<Example<>> batch = ds.get_batch(indices);
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[0].target.item<int64_t>(), 4);
  EXPECT_EQ(batch[1].target.item<int64_t>(), 0);
  EXPECT_EQ(batch[2].data.to_vector<float>(), (std::vector<float>{2.0f, 2.5f}));
  EXPECT_EQ(ds.size(), std::optional<size_t>(5));
}

TEST(LibtorchData, MapWithCollationGivesOneBatchedExample) {
  auto ds = CustomDataset(6).map(transforms::Stack<>());
  static_assert(std::is_same_v<decltype(ds)::BatchType, Example<>>);
  const std::vector<size_t> indices{1, 3, 5};
  const Example<> batch = ds.get_batch(indices);
  EXPECT_EQ(batch.data.sizes(), torch::IntArrayRef({3, 2}));
  EXPECT_EQ(batch.target.sizes(), torch::IntArrayRef({3}));
  EXPECT_EQ(batch.data.to_vector<float>(), (std::vector<float>{1, 1.5, 3, 3.5, 5, 5.5}));
  EXPECT_EQ(targets_of(batch), (std::vector<int64_t>{1, 3, 5}));
  EXPECT_EQ(ds.size(), std::optional<size_t>(6));
}

TEST(LibtorchData, StackNamesTheExampleThatDiffers) {
  std::vector<Example<>> examples{{torch::zeros({2}), torch::tensor(int64_t{0})},
                                  {torch::zeros({3}), torch::tensor(int64_t{1})}};
  TT_EXPECT_THROW_WITH(transforms::Stack<>().apply_batch(examples), torch::ValueError, "[2]",
                       "[3]");
}

// ── transforms ───────────────────────────────────────────────────────────────────────────────

TEST(LibtorchData, NormalizeOneValueForAllChannels) {
  transforms::Normalize<> normalize(0.5, 0.25);
  const torch::Tensor x = torch::tensor({0.0, 0.5, 1.0, 1.5}).to(torch::kFloat32).view({1, 2, 2});
  const torch::Tensor y = normalize(x);
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({1, 2, 2}));
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{-2, 0, 2, 4}));
}

TEST(LibtorchData, NormalizePerChannelThroughMap) {
  // Two channels of 1×2 pixels, all ones: channel c becomes (1 - mean[c]) / stddev[c].
  class Ones : public torch::data::datasets::Dataset<Ones> {
   public:
    Example<> get(size_t) override { return {torch::ones({2, 1, 2}), torch::tensor(int64_t{7})}; }
    std::optional<size_t> size() const override { return 2; }
  };
  auto ds = Ones().map(transforms::Normalize<>({0.0, 0.5}, {2.0, 0.25})).map(transforms::Stack<>());
  const std::vector<size_t> indices{0, 1};
  const Example<> batch = ds.get_batch(indices);
  EXPECT_EQ(batch.data.sizes(), torch::IntArrayRef({2, 2, 1, 2}));
  EXPECT_EQ(batch.data.to_vector<float>(), (std::vector<float>{0.5, 0.5, 2, 2, 0.5, 0.5, 2, 2}));
  EXPECT_EQ(targets_of(batch), (std::vector<int64_t>{7, 7}));
}

TEST(LibtorchData, NormalizeRejectsBadParametersAndInputs) {
  EXPECT_THROW(transforms::Normalize<>(0.5, 0.0), torch::ValueError);
  EXPECT_THROW(transforms::Normalize<>({0.1, 0.2}, {1.0, 1.0, 1.0}), torch::ValueError);
  transforms::Normalize<> three({0.5, 0.5, 0.5}, {0.5, 0.5, 0.5});
  TT_EXPECT_THROW_WITH(three(torch::ones({1, 4, 4})), torch::ValueError, "Normalize", "3 values",
                       "[1, 4, 4]");
  EXPECT_THROW(three(torch::ones({3, 2, 2}, torch::kInt64)), torch::TypeError);
}

TEST(LibtorchData, LambdaAndTensorLambda) {
  auto doubled = CustomDataset(3)
                     .map(transforms::Lambda<Example<>>([](Example<> e) {
                       e.target = e.target * 2;
                       return e;
                     }))
                     .map(transforms::TensorLambda<>([](torch::Tensor x) { return x + 1; }))
                     .map(transforms::Stack<>());
  const std::vector<size_t> indices{0, 2};
  const Example<> batch = doubled.get_batch(indices);
  EXPECT_EQ(targets_of(batch), (std::vector<int64_t>{0, 4}));
  EXPECT_EQ(batch.data.to_vector<float>(), (std::vector<float>{1, 1.5, 3, 3.5}));
}

// ── MNIST ────────────────────────────────────────────────────────────────────────────────────

// Writes `n` 28×28 images (image k's pixels all equal 10·k + 1) and labels k % 10 under the
// names of `split` ("train" or "t10k"), gzip-compressed or plain.
void write_mnist(const TempDir& dir, const std::string& split, uint32_t n, bool gz) {
  Bytes pixels, labels;
  for (uint32_t k = 0; k < n; ++k) {
    pixels.insert(pixels.end(), 28 * 28, static_cast<unsigned char>(10 * k + 1));
    labels.push_back(static_cast<unsigned char>(k % 10));
  }
  const std::string images = dir.file(split + "-images-idx3-ubyte");
  const std::string targets = dir.file(split + "-labels-idx1-ubyte");
  if (gz) {
    write_gz(images + ".gz", idx_bytes({n, 28, 28}, pixels));
    write_gz(targets + ".gz", idx_bytes({n}, labels));
  } else {
    write_plain(images, idx_bytes({n, 28, 28}, pixels));
    write_plain(targets, idx_bytes({n}, labels));
  }
}

void expect_mnist_examples(torch::data::datasets::MNIST& ds, uint32_t n) {
  ASSERT_EQ(ds.size(), std::optional<size_t>(n));
  for (uint32_t k = 0; k < n; ++k) {
    const Example<> e = ds.get(k);
    EXPECT_EQ(e.data.sizes(), torch::IntArrayRef({1, 28, 28}));
    EXPECT_EQ(e.data.dtype(), torch::kFloat32);
    EXPECT_FLOAT_EQ(e.data.max().item<float>(), static_cast<float>(10 * k + 1) / 255.0f);
    EXPECT_EQ(e.target.dtype(), torch::kInt64);
    EXPECT_EQ(e.target.item<int64_t>(), k % 10);
  }
}

TEST(LibtorchData, MnistReadsPlainTrainFiles) {
  TempDir dir;
  write_mnist(dir, "train", 3, /*gz=*/false);
  torch::data::datasets::MNIST ds(dir.path().string());
  EXPECT_TRUE(ds.is_train());
  expect_mnist_examples(ds, 3);
  EXPECT_EQ(ds.images().sizes(), torch::IntArrayRef({3, 1, 28, 28}));
}

TEST(LibtorchData, MnistReadsGzipTestFiles) {
  TempDir dir;
  write_mnist(dir, "t10k", 4, /*gz=*/true);
  torch::data::datasets::MNIST ds(dir.path().string(), torch::data::datasets::MNIST::Mode::kTest);
  EXPECT_FALSE(ds.is_train());
  expect_mnist_examples(ds, 4);
}

TEST(LibtorchData, MnistErrorsNameRootModeAndFile) {
  TempDir dir;
  write_mnist(dir, "train", 2, /*gz=*/false);
  const std::string root_and_mode = "MNIST(root '" + dir.path().string() + "', Mode::kTest)";
  // Only the training split exists.
  TT_EXPECT_THROW_WITH(
      torch::data::datasets::MNIST(dir.path().string(), torch::data::datasets::MNIST::Mode::kTest),
      torch::Error, root_and_mode, "t10k-images-idx3-ubyte");
  torch::data::datasets::MNIST ds(dir.path().string());
  TT_EXPECT_THROW_WITH(ds.get(2), torch::IndexError, "MNIST::get", "index 2", "2 examples");
}

TEST(LibtorchData, MnistRejectsBadMagicAndWrongImageSize) {
  TempDir dir;
  write_mnist(dir, "train", 1, /*gz=*/false);
  Bytes bad = read_plain(dir.file("train-images-idx3-ubyte"));
  bad[2] = 0x0C;  // type code int32: not an MNIST file
  write_plain(dir.file("train-images-idx3-ubyte"), bad);
  EXPECT_THROW(torch::data::datasets::MNIST{dir.path().string()}, torch::Error);

  write_plain(dir.file("train-images-idx3-ubyte"), idx_bytes({1, 2, 3}, Bytes(6, 0)));
  TT_EXPECT_THROW_WITH(torch::data::datasets::MNIST{dir.path().string()}, torch::Error,
                       "expected 28×28 images", "[1, 1, 2, 3]");
}

TEST(LibtorchData, MnistReadsTheDebianPackagesFilesUnchanged) {
  const std::string dir = torch::data::kFashionMnistDir;
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  torch::data::datasets::MNIST ds(dir, torch::data::datasets::MNIST::Mode::kTest);
  const torch::data::TensorDataset course = torch::data::load_fashion_mnist(dir, /*train=*/false);
  ASSERT_EQ(ds.size(), std::optional<size_t>(10000));
  EXPECT_TRUE(ds.images().equal(course.data()));
  EXPECT_TRUE(ds.targets().equal(course.targets()));
}

// ── samplers ─────────────────────────────────────────────────────────────────────────────────

// Every request of one epoch of `sampler`, concatenated, and the request sizes.
template <typename S>
std::vector<size_t> drain(S& sampler, size_t batch_size, std::vector<size_t>* sizes = nullptr) {
  std::vector<size_t> all;
  while (auto request = sampler.next(batch_size)) {
    if (sizes != nullptr) sizes->push_back(request->size());
    all.insert(all.end(), request->begin(), request->end());
  }
  return all;
}

TEST(LibtorchData, SequentialSamplerGivesIndicesInOrder) {
  samplers::SequentialSampler sampler(10);
  std::vector<size_t> sizes;
  EXPECT_EQ(drain(sampler, 4, &sizes), (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4, 2}));
  EXPECT_EQ(sampler.next(4), std::nullopt);
  sampler.reset(3);
  EXPECT_EQ(drain(sampler, 4), (std::vector<size_t>{0, 1, 2}));
  EXPECT_THROW(sampler.next(0), torch::ValueError);
}

TEST(LibtorchData, RandomSamplerIsAPermutationFixedByTheSeed) {
  torch::manual_seed(7);
  samplers::RandomSampler a(20);
  const std::vector<size_t> first = drain(a, 6);
  EXPECT_EQ(std::set<size_t>(first.begin(), first.end()).size(), 20u);
  EXPECT_EQ(*std::max_element(first.begin(), first.end()), 19u);
  a.reset();
  const std::vector<size_t> second = drain(a, 6);
  EXPECT_NE(first, second);  // a new epoch, a new order

  torch::manual_seed(7);
  samplers::RandomSampler b(20);
  EXPECT_EQ(drain(b, 3), first);  // same seed, same order, whatever the batch size
  EXPECT_THROW(samplers::RandomSampler(-1), torch::ValueError);
}

TEST(LibtorchData, DistributedSequentialSamplerPartitions) {
  std::vector<std::vector<size_t>> parts;
  for (size_t rank = 0; rank < 3; ++rank) {
    samplers::DistributedSequentialSampler s(10, 3, rank);
    parts.push_back(drain(s, 3));
  }
  EXPECT_EQ(parts[0], (std::vector<size_t>{0, 1, 2, 3}));
  EXPECT_EQ(parts[1], (std::vector<size_t>{4, 5, 6, 7}));
  EXPECT_EQ(parts[2], (std::vector<size_t>{8, 9, 0, 1}));  // wraps: every rank takes 4

  samplers::DistributedSequentialSampler no_dup(10, 3, 2, /*allow_duplicates=*/false);
  EXPECT_EQ(drain(no_dup, 5), (std::vector<size_t>{6, 7, 8}));
  EXPECT_THROW(samplers::DistributedSequentialSampler(10, 3, 3), torch::ValueError);
  EXPECT_THROW(samplers::DistributedSequentialSampler(10, 0, 0), torch::ValueError);
}

TEST(LibtorchData, DistributedRandomSamplerRanksAreDisjointAndEpochSeeded) {
  std::vector<size_t> all;
  std::vector<size_t> rank0;
  for (size_t rank = 0; rank < 4; ++rank) {
    samplers::DistributedRandomSampler s(12, 4, rank);
    const std::vector<size_t> part = drain(s, 2);
    EXPECT_EQ(part.size(), 3u);
    if (rank == 0) rank0 = part;
    all.insert(all.end(), part.begin(), part.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<size_t> expected(12);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);  // the four parts partition 0 … 11

  samplers::DistributedRandomSampler again(12, 4, 0);
  EXPECT_EQ(drain(again, 5), rank0);  // same epoch: same order, on any rank's process
  again.set_epoch(1);
  again.reset();
  EXPECT_NE(drain(again, 5), rank0);

  samplers::DistributedRandomSampler padded(10, 4, 3);  // ⌈10/4⌉ = 3 each, 2 duplicates
  const std::vector<size_t> last = drain(padded, 8);
  EXPECT_EQ(last.size(), 3u);
  for (const size_t i : last) EXPECT_LT(i, 10u);
}

// ── make_data_loader ─────────────────────────────────────────────────────────────────────────

TEST(LibtorchData, LoaderBatchesACustomDatasetSequentially) {
  auto loader = torch::data::make_data_loader<samplers::SequentialSampler>(
      CustomDataset(10).map(transforms::Stack<>()), torch::data::DataLoaderOptions().batch_size(4));
  std::vector<std::vector<int64_t>> seen;
  for (auto& batch : *loader) {
    EXPECT_EQ(batch.data.size(1), 2);
    seen.push_back(targets_of(batch));
  }
  EXPECT_EQ(seen, (std::vector<std::vector<int64_t>>{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}));
  EXPECT_EQ(loader->options().batch_size, 4u);
  EXPECT_EQ(loader->options().max_jobs, 0u);  // 2 · workers
}

TEST(LibtorchData, LoaderTakesASamplerObjectAndABareBatchSize) {
  // As a data-parallel program builds its loader: rank 1 of 2 reads examples 5 … 9.
  auto loader = torch::data::make_data_loader(CustomDataset(10).map(transforms::Stack<>()),
                                              samplers::DistributedSequentialSampler(10, 2, 1), 3);
  std::vector<std::vector<int64_t>> seen;
  for (torch::data::Example<>& batch : *loader) seen.push_back(targets_of(batch));
  EXPECT_EQ(seen, (std::vector<std::vector<int64_t>>{{5, 6, 7}, {8, 9}}));
}

TEST(LibtorchData, LoaderWithoutCollationYieldsVectorsAndDropsTheShortLast) {
  auto loader = torch::data::make_data_loader<samplers::SequentialSampler>(
      CustomDataset(10), torch::data::DataLoaderOptions(3).drop_last(true));
  size_t batches = 0;
  for (std::vector<Example<>>& batch : *loader) {
    EXPECT_EQ(batch.size(), 3u);
    ++batches;
  }
  EXPECT_EQ(batches, 3u);
}

// Every batch of one epoch as (targets, data) values.
template <typename Loader>
std::vector<std::vector<float>> epoch_values(Loader& loader) {
  std::vector<std::vector<float>> out;
  for (auto& batch : loader) {
    std::vector<float> v = batch.data.template to_vector<float>();
    for (const int64_t t : batch.target.template to_vector<int64_t>())
      v.push_back(static_cast<float>(t));
    out.push_back(v);
  }
  return out;
}

TEST(LibtorchData, WorkersGiveTheSameBatchesAsNoWorkers) {
  std::vector<std::vector<std::vector<float>>> runs;
  for (const size_t workers : {0, 1, 3}) {
    torch::manual_seed(11);  // RandomSampler draws its orders from the default generator
    auto loader = torch::data::make_data_loader(
        CustomDataset(23).map(transforms::Normalize<>(1.0, 2.0)).map(transforms::Stack<>()),
        torch::data::DataLoaderOptions().batch_size(5).workers(workers));
    std::vector<std::vector<float>> both = epoch_values(*loader);
    const std::vector<std::vector<float>> second = epoch_values(*loader);
    EXPECT_EQ(both.size(), 5u);
    EXPECT_NE(both, second);  // each epoch reshuffles
    both.insert(both.end(), second.begin(), second.end());
    runs.push_back(both);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(runs[0], runs[2]);
}

TEST(LibtorchData, WorkersKeepSamplerOrderWhenLaterBatchesFinishFirst) {
  // Example i takes (8 - i) ms to build: with 4 workers, later batches are ready first.
  class Slow : public torch::data::datasets::Dataset<Slow> {
   public:
    Example<> get(size_t i) override {
      std::this_thread::sleep_for(std::chrono::milliseconds(8 - static_cast<int>(i)));
      return {torch::zeros({1}), torch::tensor(static_cast<int64_t>(i))};
    }
    torch::optional<size_t> size() const override { return 8; }
  };
  auto loader = torch::data::make_data_loader<samplers::SequentialSampler>(
      Slow().map(transforms::Stack<>()), torch::data::DataLoaderOptions(1).workers(4));
  std::vector<int64_t> seen;
  for (auto& batch : *loader) seen.push_back(batch.target.item<int64_t>());
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(LibtorchData, UnorderedLoaderStillDeliversEveryBatchOnce) {
  auto loader = torch::data::make_data_loader<samplers::SequentialSampler>(
      CustomDataset(20).map(transforms::Stack<>()),
      torch::data::DataLoaderOptions(3).workers(3).enforce_ordering(false));
  std::vector<int64_t> all;
  for (auto& batch : *loader) {
    for (const int64_t t : targets_of(batch)) all.push_back(t);
  }
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(20);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);
}

TEST(LibtorchData, TimeoutIsAnErrorNamingTheBatch) {
  class Stuck : public torch::data::datasets::Dataset<Stuck> {
   public:
    Example<> get(size_t i) override {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return {torch::zeros({1}), torch::tensor(static_cast<int64_t>(i))};
    }
    torch::optional<size_t> size() const override { return 1; }
  };
  auto loader = torch::data::make_data_loader(
      Stuck().map(transforms::Stack<>()),
      torch::data::DataLoaderOptions(1).workers(1).timeout(std::chrono::milliseconds(20)));
  TT_EXPECT_THROW_WITH(loader->begin(), torch::Error, "timed out after 20 ms", "batch 0");
}

TEST(LibtorchData, LoaderRestartsAfterAnEarlyBreak) {
  auto loader = torch::data::make_data_loader<samplers::SequentialSampler>(
      CustomDataset(12).map(transforms::Stack<>()),
      torch::data::DataLoaderOptions().batch_size(2).workers(2));
  for (auto& batch : *loader) {
    EXPECT_EQ(targets_of(batch), (std::vector<int64_t>{0, 1}));
    break;
  }
  std::vector<int64_t> all;
  for (auto& batch : *loader) {
    for (const int64_t t : targets_of(batch)) all.push_back(t);
  }
  EXPECT_EQ(all.size(), 12u);
  EXPECT_EQ(all.front(), 0);
}

TEST(LibtorchData, WorkerErrorsReachTheConsumer) {
  // Example 7 does not stack with the others: the batch holding it fails, in a worker.
  class Ragged : public torch::data::datasets::Dataset<Ragged> {
   public:
    Example<> get(size_t i) override {
      return {torch::zeros({i == 7 ? 3 : 2}), torch::tensor(static_cast<int64_t>(i))};
    }
    std::optional<size_t> size() const override { return 10; }
  };
  auto loader = torch::data::make_data_loader<samplers::SequentialSampler>(
      Ragged().map(transforms::Stack<>()), torch::data::DataLoaderOptions(4).workers(2));
  auto it = loader->begin();
  EXPECT_EQ(targets_of(*it), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_THROW(++it, torch::ValueError);
}

TEST(LibtorchData, BadOptionsAreErrors) {
  TT_EXPECT_THROW_WITH(torch::data::make_data_loader(
                           CustomDataset(4), torch::data::DataLoaderOptions().batch_size(0)),
                       torch::ValueError, "make_data_loader", "batch_size must be >= 1, got 0");
  EXPECT_THROW(torch::data::make_data_loader(
                   CustomDataset(4), torch::data::DataLoaderOptions().workers(1).max_jobs(0)),
               torch::ValueError);
}

// ── cat and stack ────────────────────────────────────────────────────────────────────────────

TEST(LibtorchData, JoinOpsGiveTheirValues) {
  const torch::Tensor a = torch::from_vector<double>({1, 2, 3, 4}, {2, 2});
  const torch::Tensor b = torch::from_vector<double>({5, 6}, {1, 2});
  const torch::Tensor c = torch::cat({a, b}, 0);
  EXPECT_EQ(c.sizes(), torch::IntArrayRef({3, 2}));
  EXPECT_EQ(c.to_vector<double>(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(torch::cat({a, b.view({2, 1})}, 1).to_vector<double>(),
            (std::vector<double>{1, 2, 5, 3, 4, 6}));

  const torch::Tensor s = torch::stack({torch::tensor({1, 2}), torch::tensor({3, 4})}, 1);
  EXPECT_EQ(s.sizes(), torch::IntArrayRef({2, 2}));
  EXPECT_EQ(s.to_vector<int64_t>(), (std::vector<int64_t>{1, 3, 2, 4}));
  EXPECT_THROW(torch::cat({torch::zeros({2, 2}), torch::zeros({2, 3})}, 0), torch::ValueError);
  // Mixed dtypes promote, as in libtorch.
  EXPECT_EQ(torch::cat({torch::zeros({2}, torch::kInt64), torch::zeros({2})}).dtype(),
            torch::kFloat32);
  EXPECT_THROW(torch::stack({torch::zeros({2})}, 2), torch::IndexError);
  EXPECT_THROW(torch::cat({}), torch::ValueError);
}

}  // namespace
