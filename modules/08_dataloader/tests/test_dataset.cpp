// Dataset, TensorDataset, Subset, random_split, sample_order, stack and get_batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "data_test_util.h"
#include "support/reference.h"

namespace tt = tinytorch;
using namespace tinytorch::test08;

namespace {

TEST(TensorDataset, GetReturnsRowsAsViews) {
  tt::Tensor x = tt::arange(12, tt::kFloat32).view({4, 3});
  tt::Tensor y = tt::arange(4, tt::kInt64);
  tt::data::TensorDataset ds(x, y);
  EXPECT_EQ(ds.size(), 4);
  tt::data::Example<> e = ds.get(2);
  EXPECT_EQ(e.data.to_vector<float>(), (std::vector<float>{6, 7, 8}));
  EXPECT_EQ(e.target.item<int64_t>(), 2);
  EXPECT_TRUE(e.data.is_alias_of(x));  // no copy
}

TEST(TensorDataset, SizeMismatchIsAClearError) {
  TT_EXPECT_THROW_WITH(tt::data::TensorDataset(tt::zeros({5, 2}), tt::zeros({4})), tt::ValueError,
                       "TensorDataset", "data has 5 samples", "targets has 4");
}

TEST(TensorDataset, IndexOutOfRange) {
  tt::data::TensorDataset ds = counting_dataset(3);
  TT_EXPECT_THROW_WITH(ds.get(3), tt::IndexError, "index 3", "3 samples");
  TT_EXPECT_THROW_WITH(ds.get(-1), tt::IndexError, "index -1");
}

TEST(SampleOrder, IsAPermutationAndSeeded) {
  tt::Generator g1(7), g2(7), g3(8);
  auto a = tt::data::sample_order(100, true, g1);
  auto b = tt::data::sample_order(100, true, g2);
  auto c = tt::data::sample_order(100, true, g3);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> iota(100);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(sorted, iota);
  EXPECT_NE(a, iota);
  tt::Generator g4(7);
  EXPECT_EQ(tt::data::sample_order(5, false, g4), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(RandomSplit, LengthsAndDisjoint) {
  tt::Generator gen(3);
  auto parts = tt::data::random_split(counting_dataset(10), {7, 3}, gen);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].size(), 7);
  EXPECT_EQ(parts[1].size(), 3);
  std::vector<int64_t> all;
  for (const auto& p : parts) {
    for (int64_t i = 0; i < p.size(); ++i) all.push_back(p.get(i).target.item<int64_t>());
  }
  std::sort(all.begin(), all.end());
  std::vector<int64_t> iota(10);
  std::iota(iota.begin(), iota.end(), 0);
  EXPECT_EQ(all, iota);
}

TEST(RandomSplit, LengthsMustSumToSize) {
  tt::Generator gen(3);
  TT_EXPECT_THROW_WITH(tt::data::random_split(counting_dataset(10), {7, 2}, gen), tt::ValueError,
                       "sum of input lengths (9)", "length of the input dataset (10)");
}

// A dataset that only has get(): sample i is data = [i, 10·i] (float32) and target = i.
class OnlyGet : public tt::data::Dataset {
 public:
  tt::data::Example<> get(int64_t i) const override {
    return {tt::tensor({static_cast<float>(i), 10.0f * static_cast<float>(i)}),
            tt::full({}, i, tt::kInt64)};
  }
  int64_t size() const override { return 5; }
};

TEST(GetBatch, DefaultStacksTheSamples) {
  const OnlyGet ds;
  const std::vector<int64_t> indices{4, 1, 1};
  const tt::data::Example<> b = ds.get_batch(indices);
  EXPECT_EQ(b.data.sizes(), tt::IntArrayRef({3, 2}));
  EXPECT_EQ(b.data.to_vector<float>(), (std::vector<float>{4, 40, 1, 10, 1, 10}));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{4, 1, 1}));
}

TEST(GetBatch, TensorDatasetGathersRowsInOrder) {
  // Samples [2, 3] (a 3-d data tensor), repeats allowed: the batch equals the stacked gets and is a
  // new tensor, not a view of the dataset.
  tt::Tensor x = tt::arange(5 * 6, tt::kFloat32).view({5, 2, 3});
  tt::data::TensorDataset ds(x, tt::arange(5, tt::kInt64));
  const std::vector<int64_t> indices{3, 0, 3, 4};
  const tt::data::Example<> b = ds.get_batch(indices);
  EXPECT_EQ(b.data.sizes(), tt::IntArrayRef({4, 2, 3}));
  EXPECT_TRUE(b.data.is_contiguous());
  EXPECT_FALSE(b.data.is_alias_of(x));
  std::vector<tt::Tensor> rows;
  for (const int64_t i : indices) rows.push_back(ds.get(i).data);
  EXPECT_TRUE(b.data.equal(tt::data::stack(rows)));
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 3, 4}));
}

TEST(GetBatch, NonContiguousTensorsAreCopiedInLogicalOrder) {
  // x = [[0 3 6 9] [1 4 7 10] [2 5 8 11]]: a transposed view, rows are not contiguous in memory.
  tt::Tensor x = tt::arange(12, tt::kFloat32).view({4, 3}).t();
  tt::data::TensorDataset ds(x, tt::arange(3, tt::kInt64));
  const std::vector<int64_t> indices{2, 0};
  EXPECT_EQ(ds.get_batch(indices).data.to_vector<float>(),
            (std::vector<float>{2, 5, 8, 11, 0, 3, 6, 9}));
}

TEST(GetBatch, ChecksItsIndices) {
  tt::data::TensorDataset ds = counting_dataset(3);
  const std::vector<int64_t> past_the_end{0, 3}, negative{-1};
  TT_EXPECT_THROW_WITH(ds.get_batch(past_the_end), tt::IndexError, "get_batch", "index 3",
                       "3 samples");
  TT_EXPECT_THROW_WITH(ds.get_batch(negative), tt::IndexError, "index -1");
  TT_EXPECT_THROW_WITH(ds.get_batch({}), tt::ValueError, "get_batch", "at least one index");
  const OnlyGet only_get;
  TT_EXPECT_THROW_WITH(only_get.get_batch({}), tt::ValueError, "at least one index");
}

TEST(GetBatch, SubsetTranslatesItsIndices) {
  auto base = std::make_shared<const tt::data::TensorDataset>(counting_dataset(10));
  const tt::data::Subset subset(base, {7, 2, 5});
  const std::vector<int64_t> indices{2, 0, 0};
  const tt::data::Example<> b = subset.get_batch(indices);
  EXPECT_EQ(b.target.to_vector<int64_t>(), (std::vector<int64_t>{5, 7, 7}));
  EXPECT_EQ(b.data.to_vector<float>(), (std::vector<float>{5, 5, 5, 7, 7, 7, 7, 7, 7}));
  const std::vector<int64_t> past_the_end{3};
  TT_EXPECT_THROW_WITH(subset.get_batch(past_the_end), tt::IndexError, "Subset::get_batch",
                       "index 3", "3 samples");
}

TEST(Stack, StacksAndChecksShapes) {
  tt::Tensor a = tt::tensor({1.0f, 2.0f});
  tt::Tensor b = tt::tensor({3.0f, 4.0f});
  tt::Tensor s = tt::data::stack({a, b});
  EXPECT_EQ(s.sizes(), tt::IntArrayRef({2, 2}));
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{1, 2, 3, 4}));
  // Non-contiguous inputs are copied in logical order.
  tt::Tensor m = tt::arange(4, tt::kFloat32).view({2, 2}).t();
  EXPECT_EQ(tt::data::stack({m}).to_vector<float>(), (std::vector<float>{0, 2, 1, 3}));
  TT_EXPECT_THROW_WITH(tt::data::stack({a, tt::zeros({3})}), tt::ValueError, "equal size", "[2]",
                       "[3]", "entry 1");
}

}  // namespace
