// Module 21 — the collectives on 2 ranks: MPI's all-reduce and broadcast, and YOUR ring
// all-reduce, on float32 and float64 tensors of odd sizes (fewer elements than ranks included).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "support/distributed_test.h"
#include "tinytorch/distributed/process_group.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::distributed {
namespace {

class AllReduceTest : public testing::DistributedTest {};
class RingAllReduceTest : public testing::DistributedTest {};
class BroadcastTest : public testing::DistributedTest {};

// Rank r's tensor: element i is i + 1000·r, exact in float32 and float64.
Tensor rank_values(int64_t n, ScalarType dtype, int rank) {
  return arange(0, n, 1, kFloat64).add_(1000.0 * rank).to(dtype);
}

// Σ over ranks of rank_values: p·i + 1000·p(p−1)/2.
Tensor expected_sum(int64_t n, ScalarType dtype, int p) {
  return arange(0, n, 1, kFloat64).mul_(static_cast<double>(p)).add_(500.0 * p * (p - 1)).to(dtype);
}

TEST_F(AllReduceTest, SumsEveryRanksTensorFloat32AndFloat64) {
  auto& pg = world();
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    for (int64_t n : {1, 7, 1001}) {
      SCOPED_TRACE(std::to_string(n) + " elements");
      Tensor t = rank_values(n, dtype, pg.rank());
      pg.all_reduce(t, ReduceOp::kSum);
      EXPECT_TRUE(t.equal(expected_sum(n, dtype, pg.size())));
    }
  }
}

TEST_F(AllReduceTest, AvgDividesBySize) {
  auto& pg = world();
  Tensor t = rank_values(33, kFloat64, pg.rank()).reshape({3, 11});
  pg.all_reduce(t, ReduceOp::kAvg);
  EXPECT_TRUE(allclose(t, expected_sum(33, kFloat64, pg.size()).div_(pg.size()).reshape({3, 11})));
}

TEST_F(AllReduceTest, RejectsIntegerAndNonContiguousTensors) {
  auto& pg = world();
  Tensor ints = zeros({4}, kInt64);
  EXPECT_THROW(pg.all_reduce(ints), TypeError);
  Tensor transposed = zeros({3, 5}).t();
  EXPECT_THROW(pg.all_reduce(transposed), Error);
}

TEST_F(RingAllReduceTest, MatchesTheSumFloat32AndFloat64) {
  auto& pg = world();
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    // 1 element: fewer than ranks, so some chunks of the ring are empty.
    for (int64_t n : {1, 2, 7, 1001, 4099}) {
      SCOPED_TRACE(std::to_string(n) + " elements");
      Tensor t = rank_values(n, dtype, pg.rank());
      ring_all_reduce(pg, t, ReduceOp::kSum);
      EXPECT_TRUE(t.equal(expected_sum(n, dtype, pg.size())));
    }
  }
}

TEST_F(RingAllReduceTest, AvgAndMultiDimensional) {
  auto& pg = world();
  Tensor t = rank_values(35, kFloat32, pg.rank()).reshape({5, 7});
  ring_all_reduce(pg, t, ReduceOp::kAvg);
  EXPECT_TRUE(allclose(t, expected_sum(35, kFloat32, pg.size()).div_(pg.size()).reshape({5, 7})));
}

TEST_F(BroadcastTest, EveryRankGetsTheRootsTensor) {
  auto& pg = world();
  for (int root : {0, pg.size() - 1}) {
    SCOPED_TRACE("root " + std::to_string(root));
    Tensor t = rank_values(13, kFloat32, pg.rank());
    pg.broadcast(t, root);
    EXPECT_TRUE(t.equal(rank_values(13, kFloat32, root)));
  }
}

TEST_F(BroadcastTest, ARootThatIsNotARankIsAnError) {
  auto& pg = world();
  Tensor t = zeros({3});
  EXPECT_THROW(pg.broadcast(t, pg.size()), ValueError);
}

TEST_F(AllReduceTest, ShapesThatDifferBetweenRanksAreFoundOnEveryRank) {
  auto& pg = world();
  check_same_on_all_ranks(pg, zeros({4, 5}), "same shape");  // no throw
  try {
    check_same_on_all_ranks(pg, zeros({4 + pg.rank()}), "per-rank shape");
    ADD_FAILURE() << "expected tinytorch::Error on rank " << pg.rank();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("differs between ranks"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tinytorch::distributed
