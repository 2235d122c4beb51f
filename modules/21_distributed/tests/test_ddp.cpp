// Module 21 — YOUR buckets and gradient averaging in DistributedDataParallel, on 2 ranks:
//   * buckets follow the parameters in reverse order and respect the cap;
//   * THE EXACTNESS TEST: 2 ranks × batch 32 end with the parameters of 1 process × batch 64
//     after several SGD steps of the 1986 MLP (784-256-128-10), within float32 rounding;
//   * a checkpoint written by rank 0 resumes every rank exactly.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "support/distributed_test.h"
#include "support/prerequisites.h"
#include "tinytorch/distributed/ddp.h"
#include "tinytorch/distributed/sampler.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::distributed {
namespace {

namespace F = nn::functional;

class BucketTest : public testing::DistributedTest {};
class DdpTest : public testing::DistributedTest {};

nn::Sequential mlp_1986() {
  return nn::Sequential(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                        nn::Linear(128, 10));
}

// One SGD step on rows [first, first + count) of x taken every `stride`-th (the strided shard a
// DistributedSampler without shuffle gives a rank).
void sgd_step(nn::Sequential& model, optim::Optimizer& opt, const Tensor& x, const Tensor& y,
              int64_t first, int64_t end, int64_t stride, DistributedDataParallel* ddp) {
  opt.zero_grad();
  const Tensor xb = x.slice(0, first, end, stride).contiguous();
  const Tensor yb = y.slice(0, first, end, stride).contiguous();
  F::cross_entropy(model->forward(xb), yb).backward();
  if (ddp != nullptr) ddp->sync_gradients();
  opt.step();
}

TEST_F(BucketTest, ReverseParameterOrderWithinTheCap) {
  // sizes in bytes (float32): 400, 40, 800, 80, 4, 4
  const std::vector<Tensor> params = {zeros({10, 10}), zeros({10}), zeros({20, 10}),
                                      zeros({20}),     zeros({1}),  zeros({1})};
  const auto buckets = compute_bucket_assignment_by_size(params, 500);
  // from the last: {5, 4, 3} = 88 B (+800 > 500) | {2} = 800 B, over the cap alone | {1, 0}
  EXPECT_EQ(buckets, (std::vector<std::vector<size_t>>{{5, 4, 3}, {2}, {1, 0}}));
  const auto one = compute_bucket_assignment_by_size(params, 1 << 20);
  EXPECT_EQ(one, (std::vector<std::vector<size_t>>{{5, 4, 3, 2, 1, 0}}));
  const auto each = compute_bucket_assignment_by_size(params, 1);
  EXPECT_EQ(each.size(), params.size());
  EXPECT_THROW(compute_bucket_assignment_by_size(params, 0), ValueError);
}

TEST_F(BucketTest, ADtypeChangeStartsANewBucket) {
  const std::vector<Tensor> params = {zeros({4}), zeros({4}, kFloat64), zeros({4}, kFloat64)};
  EXPECT_EQ(compute_bucket_assignment_by_size(params, 1 << 20),
            (std::vector<std::vector<size_t>>{{2, 1}, {0}}));
}

TEST_F(DdpTest, TheMlpsBucketsHoldEveryParameterOnce) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  auto& pg = world();
  nn::Sequential model = mlp_1986();
  DistributedDataParallel ddp(model, pg, /*bucket_cap_bytes=*/256 << 10);
  std::vector<int> seen(ddp.parameters().size(), 0);
  for (const auto& bucket : ddp.buckets()) {
    int64_t numel = 0;
    for (size_t i : bucket.parameters) {
      ++seen[i];
      numel += ddp.parameters()[i].numel();
    }
    EXPECT_EQ(bucket.buffer.numel(), numel);
  }
  EXPECT_EQ(seen, std::vector<int>(ddp.parameters().size(), 1));
  EXPECT_EQ(ddp.buckets().size(), 2u);  // {b3, W3, b2, W2, b1} and {W1} (784 KiB)
}

TEST_F(DdpTest, ConstructionBroadcastsRankZerosParameters) {
  auto& pg = world();
  manual_seed(100 + static_cast<uint64_t>(pg.rank()));  // a different init on every rank
  nn::Sequential model = mlp_1986();
  DistributedDataParallel ddp(model, pg);
  for (const Tensor& p : model->parameters()) {
    Tensor mean = p.detach().clone();
    pg.all_reduce(mean, ReduceOp::kAvg);
    EXPECT_TRUE(mean.equal(p.detach()));  // equal on all ranks: the mean is every rank's value
  }
}

TEST_F(DdpTest, TwoRanksOfBatch32MatchOneProcessOfBatch64) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  auto& pg = world();
  const int p = pg.size();
  const int64_t global_batch = 64, steps = 4;
  ASSERT_EQ(global_batch % p, 0) << "run with a number of ranks that divides 64";
  // The same data on every rank (its own generator); each rank trains on its shard of it.
  Generator data(21);
  const Tensor x = randn({global_batch * steps, 784}, {}, &data);
  const Tensor y = randint(0, 10, {global_batch * steps}, kInt64, &data);

  manual_seed(1986 + static_cast<uint64_t>(pg.rank()));
  nn::Sequential model = mlp_1986();
  // Small buckets: several all-reduces per step, so the packing offsets matter.
  DistributedDataParallel ddp(model, pg, /*bucket_cap_bytes=*/64 << 10);
  nn::Sequential single = mlp_1986();  // the 1-process run, from the same (broadcast) weights
  {
    NoGradGuard no_grad;
    for (size_t i = 0; i < single->parameters().size(); ++i) {
      single->parameters()[i].copy_(model->parameters()[i]);
    }
  }
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  optim::SGD single_opt(single->parameters(), optim::SGDOptions(0.1).momentum(0.9));
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t first = s * global_batch, end = first + global_batch;
    sgd_step(model, opt, x, y, first + pg.rank(), end, p, &ddp);  // 32 rows per rank
    sgd_step(single, single_opt, x, y, first, end, 1, nullptr);   // all 64 rows
  }
  for (size_t i = 0; i < model->parameters().size(); ++i) {
    const Tensor a = model->parameters()[i].detach();
    const Tensor b = single->parameters()[i].detach();
    EXPECT_TRUE(a.allclose(b, /*rtol=*/1e-4, /*atol=*/1e-5))
        << "parameter " << i << ": max |difference| " << (a - b).abs().max().item<float>();
  }
}

TEST_F(DdpTest, DifferentModelsOnRanksAreAnErrorOnEveryRank) {
  auto& pg = world();
  nn::Sequential model =
      pg.rank() == 0 ? nn::Sequential(nn::Linear(4, 3)) : nn::Sequential(nn::Linear(4, 5));
  try {
    DistributedDataParallel ddp(model, pg);
    ADD_FAILURE() << "expected tinytorch::Error on rank " << pg.rank();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("DistributedDataParallel"), std::string::npos);
  }
}

// A directory every rank sees under the same name: rank 0 creates and removes it.
class SharedDir {
 public:
  explicit SharedDir(ProcessGroup& pg) : pg_(pg) {
    Tensor pid = full({1}, static_cast<double>(getpid()), kFloat64);
    pg.broadcast(pid, 0);
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("tt21_" + std::to_string(static_cast<int64_t>(pid.item<double>())));
    if (pg.rank() == 0) std::filesystem::create_directories(path_);
    pg.barrier();
  }
  ~SharedDir() {
    pg_.barrier();
    std::error_code ec;
    if (pg_.rank() == 0) std::filesystem::remove_all(path_, ec);
  }
  SharedDir(const SharedDir&) = delete;
  SharedDir& operator=(const SharedDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  ProcessGroup& pg_;
  std::filesystem::path path_;
};

TEST_F(DdpTest, ACheckpointFromRankZeroResumesEveryRankExactly) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  auto& pg = world();
  SharedDir dir(pg);
  Generator data(7);
  const Tensor x = randn({8 * pg.size() * 4, 784}, {}, &data);
  const Tensor y = randint(0, 10, {8 * pg.size() * 4}, kInt64, &data);
  const int64_t batch = 8 * pg.size();
  auto train = [&](nn::Sequential& model, optim::Optimizer& opt, DistributedDataParallel& ddp,
                   int64_t from, int64_t to) {
    for (int64_t s = from; s < to; ++s) {
      sgd_step(model, opt, x, y, s * batch + pg.rank(), (s + 1) * batch, pg.size(), &ddp);
    }
  };
  nn::Sequential model = mlp_1986();
  DistributedDataParallel ddp(model, pg);
  optim::SGD opt(model->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  train(model, opt, ddp, 0, 2);
  const train::TrainingState state{.model = model.ptr().get(), .optimizer = &opt};
  save_checkpoint(pg, train::capture_checkpoint(state, /*epoch=*/1), dir.file("ckpt.ttc"));
  train(model, opt, ddp, 2, 4);  // the uninterrupted run

  nn::Sequential resumed = mlp_1986();
  DistributedDataParallel resumed_ddp(resumed, pg);
  optim::SGD resumed_opt(resumed->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  const train::TrainingState resumed_state{.model = resumed.ptr().get(), .optimizer = &resumed_opt};
  const train::Checkpoint ckpt = load_checkpoint(pg, dir.file("ckpt.ttc"));
  EXPECT_EQ(ckpt.epoch, 1);
  train::restore_checkpoint(ckpt, resumed_state);  // momentum buffers included
  train(resumed, resumed_opt, resumed_ddp, 2, 4);
  for (size_t i = 0; i < model->parameters().size(); ++i) {
    EXPECT_TRUE(model->parameters()[i].detach().equal(resumed->parameters()[i].detach()))
        << "parameter " << i;
  }
  // A file that is not there: an error on every rank, not a hang.
  EXPECT_THROW(load_checkpoint(pg, dir.file("missing.ttc")), Error);
}

}  // namespace
}  // namespace tinytorch::distributed
