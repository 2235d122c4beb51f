// Module 21 — hidden tests (grader): the same contracts as the visible tests, on cases the
// visible tests do not show: large and float64 ring all-reduces against MPI's, every bucket cap
// giving the same training, parameters without a gradient, the sampler at N < p and N = p·k + 1.
// The checks are graded ones (tests/support/graded.h), on every rank.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "support/distributed_test.h"
#include "support/graded.h"
#include "tinytorch/distributed/ddp.h"
#include "tinytorch/distributed/sampler.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::distributed {
namespace {

namespace F = nn::functional;

class HiddenRingTest : public testing::DistributedTest {};
class HiddenSamplerTest : public testing::DistributedTest {};
class HiddenDdpTest : public testing::DistributedTest {};

TEST_F(HiddenRingTest, AgreesWithMpiOnRandomTensors) {
  auto& pg = world();
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    for (int64_t n : {3, 100003}) {
      Generator gen(5 + static_cast<uint64_t>(pg.rank()));
      Tensor ring = randn({n}, dtype, &gen);
      Tensor mpi = ring.clone();
      ring_all_reduce(pg, ring, ReduceOp::kAvg);
      pg.all_reduce(mpi, ReduceOp::kAvg);
      TT_GRADE_TENSOR(ring, mpi, 1e-6, 1e-6) << n << " elements, " << dtype;
    }
  }
}

TEST_F(HiddenRingTest, RejectsIntegerTensors) {
  auto& pg = world();
  Tensor ints = zeros({5}, kInt64);
  TT_GRADE_THROW(ring_all_reduce(pg, ints), TypeError);
}

TEST_F(HiddenSamplerTest, OddSizesPadAndCoverOnEveryRankCount) {
  for (int p : {1, 2, 3, 7}) {
    for (int64_t n : {int64_t{1}, int64_t{p} * 4 + 1, int64_t{50}}) {
      std::vector<int64_t> all;
      for (int r = 0; r < p; ++r) {
        DistributedSampler sampler(n, p, r, /*shuffle=*/true, 9);
        sampler.set_epoch(3);
        const auto mine = sampler.indices();
        TT_GRADE_EQ(static_cast<int64_t>(mine.size()), (n + p - 1) / p);
        all.insert(all.end(), mine.begin(), mine.end());
      }
      std::vector<int64_t> distinct = all;
      std::sort(distinct.begin(), distinct.end());
      distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
      TT_GRADE_EQ(static_cast<int64_t>(distinct.size()), n) << "p " << p << ", n " << n;
      TT_GRADE_GE(distinct.front(), 0);
      TT_GRADE_LT(distinct.back(), n);
    }
  }
}

TEST_F(HiddenDdpTest, EveryBucketCapTrainsTheSameWeights) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  auto& pg = world();
  Generator data(3);
  const Tensor x = randn({16 * pg.size(), 20}, {}, &data);
  const Tensor y = randint(0, 4, {16 * pg.size()}, kInt64, &data);
  std::vector<std::vector<Tensor>> finals;
  for (int64_t cap : {int64_t{1}, int64_t{512}, int64_t{1} << 20}) {
    manual_seed(11);
    nn::Sequential model(nn::Linear(20, 16), nn::Tanh(), nn::Linear(16, 4));
    DistributedDataParallel ddp(model, pg, cap);
    optim::Adam opt(model->parameters(), optim::AdamOptions(1e-2));
    for (int step = 0; step < 3; ++step) {
      opt.zero_grad();
      const Tensor xb = x.slice(0, pg.rank(), x.size(0), pg.size()).contiguous();
      const Tensor yb = y.slice(0, pg.rank(), y.size(0), pg.size()).contiguous();
      F::cross_entropy(model->forward(xb), yb).backward();
      ddp.sync_gradients();
      opt.step();
    }
    std::vector<Tensor> params;
    for (const Tensor& p : model->parameters()) params.push_back(p.detach().clone());
    finals.push_back(params);
  }
  for (size_t c = 1; c < finals.size(); ++c) {
    for (size_t i = 0; i < finals[0].size(); ++i) {
      TT_GRADE_TRUE(finals[c][i].allclose(finals[0][i], 1e-5, 1e-6)) << "cap " << c << ", " << i;
    }
  }
}

TEST_F(HiddenDdpTest, AParameterWithoutAGradientGetsTheMean) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  auto& pg = world();
  // Rank 0 uses only the first Linear; the others use both: the second's gradient is the mean
  // of zero (rank 0) and theirs.
  nn::Linear first(3, 3), second(3, 1);
  nn::Sequential model(first, second);
  DistributedDataParallel ddp(model, pg);
  const Tensor x = ones({2, 3});
  Tensor out = pg.rank() == 0 ? first->forward(x).sum() : second->forward(first->forward(x)).sum();
  out.backward();
  Tensor local =
      second->weight.grad().defined() ? second->weight.grad().clone() : zeros_like(second->weight);
  ddp.sync_gradients();
  ASSERT_TRUE(second->weight.grad().defined());
  pg.all_reduce(local, ReduceOp::kAvg);
  TT_GRADE_TRUE(second->weight.grad().allclose(local));
}

}  // namespace
}  // namespace tinytorch::distributed
