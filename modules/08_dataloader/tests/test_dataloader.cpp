// Epoch::make_batch alone (Part 3: before any thread exists), then the DataLoader: coverage,
// drop_last, determinism across workers and seeds, epochs, early stop.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <span>

#include "data_test_util.h"
#include "support/reference.h"

namespace tt = tinytorch;
using namespace tinytorch::test08;
using tt::data::DataLoader;
using tt::data::LoaderOptions;

namespace {

std::vector<int64_t> iota(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

struct AddOne : tt::data::Transform {
  tt::Tensor apply(const tt::Tensor& x, tt::Generator&) const override { return x + 1; }
};

// A random transform that needs nothing from Part 5: adds one draw from the batch's generator.
struct AddUniformDraw : tt::data::Transform {
  tt::Tensor apply(const tt::Tensor& x, tt::Generator& gen) const override {
    return x + gen.uniform_double();
  }
};

// Part 3 — a batch is a pure function of its number. These call make_batch directly on an epoch
// without workers (its constructor starts no thread then), so they pass before Part 4's
// worker_loop and next() exist.
TEST(MakeBatch, TakesItsSliceOfTheOrder) {
  const std::vector<int64_t> order = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  tt::data::detail::Epoch epoch(
      std::make_shared<const tt::data::TensorDataset>(counting_dataset(10)), {.batch_size = 4},
      order, /*epoch_seed=*/7, /*num_batches=*/3);
  const tt::data::Example<> first = epoch.make_batch(0);
  EXPECT_EQ(first.data.sizes(), tt::IntArrayRef({4, 3}));
  EXPECT_EQ(first.target.to_vector<int64_t>(), (std::vector<int64_t>{9, 8, 7, 6}));
  const tt::data::Example<> last = epoch.make_batch(2);  // order[8, 10): the short last batch
  EXPECT_EQ(last.target.to_vector<int64_t>(), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(last.data.to_vector<float>(), (std::vector<float>{1, 1, 1, 0, 0, 0}));
}

TEST(MakeBatch, IsAPureFunctionOfItsNumber) {
  // Images [40, 1, 2, 3] and a random transform (a uniform draw added to each sample, so it needs
  // nothing from Part 5): batch k's draws come from its own generator (epoch seed + k), so
  // building the batches in any order, twice, gives the same tensors.
  tt::Tensor x = tt::arange(40 * 6, tt::kFloat32).view({40, 1, 2, 3});
  auto dataset = std::make_shared<const tt::data::TensorDataset>(x, tt::arange(40, tt::kInt64));
  std::vector<int64_t> order(40);
  std::iota(order.begin(), order.end(), 0);
  const LoaderOptions options{.batch_size = 8, .transform = std::make_shared<AddUniformDraw>()};
  tt::data::detail::Epoch epoch(dataset, options, order, /*epoch_seed=*/42, /*num_batches=*/5);
  const tt::data::Example<> b3 = epoch.make_batch(3);
  epoch.make_batch(0);  // other batches in between must not change batch 3
  epoch.make_batch(4);
  EXPECT_TRUE(epoch.make_batch(3).data.equal(b3.data));
  tt::data::detail::Epoch again(dataset, options, order, /*epoch_seed=*/42, /*num_batches=*/5);
  EXPECT_TRUE(again.make_batch(3).data.equal(b3.data));
  // Another epoch seed draws other numbers for the same samples (40 uniform draws: all agreeing
  // has probability 0).
  tt::data::detail::Epoch other(dataset, options, order, /*epoch_seed=*/43, /*num_batches=*/5);
  bool any_differs = false;
  for (int64_t k = 0; k < 5; ++k) {
    any_differs = any_differs || !other.make_batch(k).data.equal(epoch.make_batch(k).data);
  }
  EXPECT_TRUE(any_differs);
}

// Counts how the loader asks for samples: one at a time (get) or a batch at a time (get_batch).
class CountingRequests : public tt::data::TensorDataset {
 public:
  CountingRequests() : tt::data::TensorDataset(counting_dataset(10)) {}
  tt::data::Example<> get(int64_t i) const override {
    ++gets;
    return tt::data::TensorDataset::get(i);
  }
  tt::data::Example<> get_batch(std::span<const int64_t> indices) const override {
    ++get_batches;
    return tt::data::TensorDataset::get_batch(indices);
  }
  mutable std::atomic<int64_t> gets{0}, get_batches{0};
};

TEST(MakeBatch, AsksForTheWholeBatchUnlessThereIsATransform) {
  auto dataset = std::make_shared<CountingRequests>();
  const std::vector<int64_t> order = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  // No transform: one get_batch per batch, no per-sample get.
  tt::data::detail::Epoch plain(dataset, {.batch_size = 4}, order, /*epoch_seed=*/7,
                                /*num_batches=*/3);
  EXPECT_EQ(plain.make_batch(1).target.to_vector<int64_t>(), (std::vector<int64_t>{5, 4, 3, 2}));
  EXPECT_EQ(dataset->get_batches.load(), 1);
  EXPECT_EQ(dataset->gets.load(), 0);
  // A transform works sample by sample: four gets, each sample transformed.
  tt::data::detail::Epoch transformed(dataset,
                                      {.batch_size = 4, .transform = std::make_shared<AddOne>()},
                                      order, /*epoch_seed=*/7, /*num_batches=*/3);
  const tt::data::Example<> b = transformed.make_batch(1);
  EXPECT_EQ(dataset->gets.load(), 4);
  EXPECT_TRUE(b.data.equal(plain.make_batch(1).data + 1));
  EXPECT_TRUE(b.target.equal(plain.make_batch(1).target));
}

TEST(DataLoader, BatchesInOrderWithoutShuffle) {
  DataLoader loader(counting_dataset(10), {.batch_size = 4});
  EXPECT_EQ(loader.size(), 3);
  auto batches = collect(loader);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].data.sizes(), tt::IntArrayRef({4, 3}));
  EXPECT_EQ(batches[0].target.sizes(), tt::IntArrayRef({4}));
  EXPECT_EQ(batches[2].data.sizes(), tt::IntArrayRef({2, 3}));  // the short last batch
  EXPECT_EQ(targets_of(batches), iota(10));
  // data row i is [i, i, i]
  EXPECT_EQ(batches[2].data.to_vector<float>(), (std::vector<float>{8, 8, 8, 9, 9, 9}));
}

TEST(DataLoader, ShuffleCoversEverySampleOncePerEpoch) {
  for (int64_t workers : {0, 2}) {
    DataLoader loader(counting_dataset(23),
                      {.batch_size = 5, .shuffle = true, .num_workers = workers, .seed = 1});
    for (int epoch = 0; epoch < 3; ++epoch) {
      auto t = targets_of(collect(loader));
      EXPECT_NE(t, iota(23));
      std::sort(t.begin(), t.end());
      EXPECT_EQ(t, iota(23)) << "workers " << workers << " epoch " << epoch;
    }
  }
}

TEST(DataLoader, DropLast) {
  DataLoader loader(counting_dataset(10), {.batch_size = 4, .shuffle = true, .drop_last = true});
  EXPECT_EQ(loader.size(), 2);
  auto batches = collect(loader);
  ASSERT_EQ(batches.size(), 2u);
  for (const auto& b : batches) EXPECT_EQ(b.target.size(0), 4);
  DataLoader exact(counting_dataset(8), {.batch_size = 4, .drop_last = true});
  EXPECT_EQ(collect(exact).size(), 2u);
}

TEST(DataLoader, IdenticalBatchesForAnyNumberOfWorkers) {
  auto transform = std::make_shared<AddUniformDraw>();
  std::vector<std::vector<tt::data::Example<>>> runs;
  for (int64_t workers : {0, 1, 2}) {
    // Images [N, 1, 2, 3] so the random draw (from the per-batch generator) shows.
    tt::Tensor x = tt::arange(40 * 6, tt::kFloat32).view({40, 1, 2, 3});
    DataLoader loader(tt::data::TensorDataset(x, tt::arange(40, tt::kInt64)),
                      {.batch_size = 3,
                       .shuffle = true,
                       .num_workers = workers,
                       .seed = 42,
                       .transform = transform});
    std::vector<tt::data::Example<>> all;
    for (int epoch = 0; epoch < 2; ++epoch) {
      auto e = collect(loader);
      all.insert(all.end(), e.begin(), e.end());
    }
    runs.push_back(all);
  }
  EXPECT_TRUE(same_batches(runs[0], runs[1]));
  EXPECT_TRUE(same_batches(runs[0], runs[2]));
}

TEST(DataLoader, SameSeedSameOrderDifferentEpochsDiffer) {
  DataLoader a(counting_dataset(50), {.batch_size = 8, .shuffle = true, .seed = 5});
  DataLoader b(counting_dataset(50), {.batch_size = 8, .shuffle = true, .seed = 5});
  DataLoader c(counting_dataset(50), {.batch_size = 8, .shuffle = true, .seed = 6});
  const auto a1 = targets_of(collect(a)), a2 = targets_of(collect(a));
  const auto b1 = targets_of(collect(b)), b2 = targets_of(collect(b));
  const auto c1 = targets_of(collect(c));
  EXPECT_EQ(a1, b1);
  EXPECT_EQ(a2, b2);
  EXPECT_NE(a1, a2);  // each epoch reshuffles
  EXPECT_NE(a1, c1);
}

TEST(DataLoader, EarlyBreakDoesNotHang) {
  DataLoader loader(counting_dataset(1000), {.batch_size = 2, .num_workers = 2});
  int seen = 0;
  for (auto& batch : loader) {
    EXPECT_EQ(batch.target.size(0), 2);
    if (++seen == 3) break;  // workers are still prefetching: the iterator must stop them
  }
  EXPECT_EQ(seen, 3);
  // The loader is still usable; the next epoch starts from batch 0.
  auto it = loader.begin();
  EXPECT_EQ(it->target.to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
}

TEST(DataLoader, BadOptions) {
  TT_EXPECT_THROW_WITH(DataLoader(counting_dataset(4), {.batch_size = 0}), tt::ValueError,
                       "batch_size must be positive, got 0");
  TT_EXPECT_THROW_WITH(DataLoader(counting_dataset(4), {.num_workers = -1}), tt::ValueError,
                       "num_workers");
}

TEST(DataLoader, EmptyDatasetGivesNoBatches) {
  tt::data::TensorDataset ds(tt::zeros({0, 3}), tt::zeros({0}, tt::kInt64));
  for (int64_t workers : {0, 2}) {
    DataLoader loader(ds, {.batch_size = 4, .num_workers = workers});
    EXPECT_EQ(collect(loader).size(), 0u);
  }
}

}  // namespace
