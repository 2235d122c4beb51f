// Module 21 — YOUR DistributedSampler: each rank's shard of an epoch. Shards are disjoint and
// cover the dataset, are padded to the same length, shuffle identically on every rank (checked
// across the 2 real ranks) and differently every epoch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "support/distributed_test.h"
#include "tinytorch/distributed/sampler.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::distributed {
namespace {

class SamplerTest : public testing::DistributedTest {};

// Every rank's indices, concatenated rank by rank.
std::vector<int64_t> all_shards(int64_t n, int p, bool shuffle, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> all;
  for (int r = 0; r < p; ++r) {
    DistributedSampler sampler(n, p, r, shuffle, seed);
    sampler.set_epoch(epoch);
    const auto mine = sampler.indices();
    EXPECT_EQ(static_cast<int64_t>(mine.size()), sampler.num_samples());
    all.insert(all.end(), mine.begin(), mine.end());
  }
  return all;
}

TEST_F(SamplerTest, ShardsAreDisjointAndCoverTheDataset) {
  for (bool shuffle : {false, true}) {
    std::vector<int64_t> all = all_shards(12, 3, shuffle, 7, 0);
    std::sort(all.begin(), all.end());
    std::vector<int64_t> expected(12);
    for (int64_t i = 0; i < 12; ++i) expected[static_cast<size_t>(i)] = i;
    EXPECT_EQ(all, expected);  // every index exactly once
  }
}

TEST_F(SamplerTest, WithoutShuffleRankTakesEveryPthIndex) {
  DistributedSampler sampler(10, 3, 1, /*shuffle=*/false);
  // 0..9 padded with 0, 1 to 12; rank 1 takes positions 1, 4, 7, 10.
  EXPECT_EQ(sampler.indices(), (std::vector<int64_t>{1, 4, 7, 0}));
  EXPECT_EQ(sampler.num_samples(), 4);
  EXPECT_EQ(sampler.total_size(), 12);
}

TEST_F(SamplerTest, PadsWithTheFirstIndicesSoEveryRankHasAsMany) {
  const std::vector<int64_t> all = all_shards(10, 4, /*shuffle=*/true, 3, 2);  // 3 per rank
  ASSERT_EQ(all.size(), 12u);
  const std::set<int64_t> distinct(all.begin(), all.end());
  EXPECT_EQ(distinct.size(), 10u);  // all 10 samples, 2 of them twice
  // Fewer samples than ranks: the order is repeated as often as needed.
  EXPECT_EQ(all_shards(2, 5, /*shuffle=*/false, 0, 0), (std::vector<int64_t>{0, 1, 0, 1, 0}));
}

TEST_F(SamplerTest, SetEpochChangesTheShuffleAndTheSameEpochRepeatsIt) {
  DistributedSampler sampler(100, 2, 0, /*shuffle=*/true, 42);
  const auto epoch0 = sampler.indices();
  sampler.set_epoch(1);
  const auto epoch1 = sampler.indices();
  EXPECT_NE(epoch0, epoch1);
  sampler.set_epoch(0);
  EXPECT_EQ(sampler.indices(), epoch0);
  EXPECT_NE(DistributedSampler(100, 2, 0, true, 43).indices(), epoch0);  // the seed matters
}

TEST_F(SamplerTest, RealRanksShuffleAlikeAndSplitTheData) {
  // Each real rank marks the samples of its own shard; the all-reduced counts show every sample
  // taken exactly once — which holds only if both ranks drew the same permutation.
  auto& pg = world();
  const int64_t n = 64 * pg.size();
  for (int64_t epoch : {0, 1, 5}) {
    DistributedSampler sampler(n, pg.size(), pg.rank(), /*shuffle=*/true, 21);
    sampler.set_epoch(epoch);
    Tensor counts = zeros({n}, kFloat64);
    for (int64_t i : sampler.indices()) counts.data_ptr<double>()[i] += 1.0;
    pg.all_reduce(counts, ReduceOp::kSum);
    EXPECT_TRUE(counts.equal(ones({n}, kFloat64))) << "epoch " << epoch;
  }
}

TEST_F(SamplerTest, BadArgumentsAreErrors) {
  EXPECT_THROW(DistributedSampler(0, 2, 0), ValueError);
  EXPECT_THROW(DistributedSampler(10, 0, 0), ValueError);
  EXPECT_THROW(DistributedSampler(10, 2, 2), ValueError);
  EXPECT_THROW(DistributedSampler(10, 2, -1), ValueError);
}

}  // namespace
}  // namespace tinytorch::distributed
