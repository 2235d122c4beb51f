// Data-parallel training on Fashion-MNIST over MPI ranks, as libtorch's distributed example
// (pytorch/examples, cpp/distributed/dist-mnist.cpp) trains on MNIST: every rank holds the whole
// model and trains on its shard of each global batch; after backward the ranks average their
// gradients with an all-reduce, so every rank takes the same optimizer step and the replicas
// never drift apart. libtorch's example gets its process group from c10d
// (ProcessGroupMPI::createProcessGroupMPI()); here it is module 21's distributed::ProcessGroupMPI,
// and the shard comes from module 21's DistributedSampler (PyTorch's). So, as dist-mnist includes
// <c10d/ProcessGroupMPI.hpp> beside <torch/torch.h>, this example includes module 21's headers.
//
//   mpirun -np 2 build/release/bin/example_dist_mnist [--data DIR] [--steps EPOCHS]
//       (as root, or with more ranks than cores: mpirun --allow-run-as-root --oversubscribe -np 2)
//   build/release/bin/example_dist_mnist              without mpirun: a world of one rank
//   ... --fixed --steps 1     dropout off, the first 100 global batches in order, "step k loss v"
//
//   rank 0: its 32 of the 64 ─► forward/backward ─► grads ─┐ all-reduce ┌─► SGD step ─► W′
//   rank 1: its 32 of the 64 ─► forward/backward ─► grads ─┘  (average) └─► SGD step ─► W′
//
// Why 2 ranks × 32 is 1 rank × 64. The loss is a mean over the batch, so its gradient is the mean
// of the per-sample gradients, and the mean of two ranks' means over 32 samples each is the mean
// over all 64. The sampler deals the samples out in turn — rank r of p takes positions r, r + p,
// r + 2p, … of the epoch's order (shuffled from the seed and the epoch alone, the same for any p)
// — so rank r's k-th batch of b samples is the positions k·p·b … (k+1)·p·b − 1 that are r mod p:
// the p ranks' k-th batches together are exactly the k-th batch of p·b one process takes. Every
// rank starts from rank 0's weights (broadcast) and steps with the same averaged gradient: the
// 2-rank run IS the 1-rank run, but for the rounding of summing in another order.
// tests/examples/check_dist_mnist.py checks that (the losses of --fixed on 1 and on 2 ranks
// agree), that the loss falls, and that the ranks end with bit-identical parameters. (The other
// examples' fixed runs are compared with PyTorch's losses; this one's claim is the equality.)
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/fixed_run.h"
#include "tinytorch/distributed/mpi.h"
#include "tinytorch/distributed/sampler.h"

namespace {

namespace distributed = tinytorch::distributed;

constexpr int64_t kGlobalBatchSize = 64;  // divided among the ranks, as dist-mnist's
constexpr int64_t kTestBatchSize = 1000;
constexpr int64_t kFixedBatches = 100;  // a fixed run trains on the first 100 global batches
constexpr uint64_t kSeed = 1;           // the sampler's shuffle: the same on every rank

// dist-mnist's model (and libtorch's MNIST example's): two convolutions with max pooling,
// dropout, two linear layers.
struct NetImpl : torch::nn::Module {
  explicit NetImpl(double dropout)
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 10, 5)))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(10, 20, 5)))),
        fc1(register_module("fc1", torch::nn::Linear(320, 50))),
        fc2(register_module("fc2", torch::nn::Linear(50, 10))),
        dropout_(dropout) {}

  torch::Tensor forward(torch::Tensor x) {                                     // [B, 1, 28, 28]
    x = torch::relu(torch::max_pool2d(conv1->forward(x), 2));                  // [B, 10, 12, 12]
    x = torch::relu(torch::max_pool2d(conv2->forward(x), 2)).view({-1, 320});  // [B, 320]
    x = torch::dropout(torch::relu(fc1->forward(x)), dropout_, is_training());
    return torch::log_softmax(fc2->forward(x), /*dim=*/1);  // [B, 10]
  }

  torch::nn::Conv2d conv1, conv2;
  torch::nn::Linear fc1, fc2;
  double dropout_;
};
TORCH_MODULE(Net);

// The images standardised with Fashion-MNIST's mean and std (libtorch's transforms::Normalize).
torch::Tensor normalized(const torch::Tensor& images) {
  return (images - 0.2860) / 0.3530;
}

// FNV-1a over the bytes of every parameter: equal on two ranks only if the parameters are
// bit-identical.
uint64_t fingerprint(Net& model) {
  uint64_t hash = 14695981039346656037ULL;
  for (const torch::Tensor& p : model->parameters()) {
    const torch::Tensor c = p.contiguous();
    const auto* bytes = static_cast<const unsigned char*>(c.data_ptr());
    for (int64_t i = 0; i < c.nbytes(); ++i) hash = (hash ^ bytes[i]) * 1099511628211ULL;
  }
  return hash;
}

// The test set's mean loss and accuracy (rank 0 alone: it needs no other rank's help).
void test(Net& model, const torch::Tensor& images, const torch::Tensor& targets) {
  torch::NoGradGuard no_grad;
  model->eval();
  double loss = 0;
  int64_t correct = 0;
  const int64_t n = images.size(0);
  for (int64_t start = 0; start < n; start += kTestBatchSize) {
    const int64_t size = std::min(kTestBatchSize, n - start);
    const torch::Tensor output = model->forward(images.narrow(0, start, size));
    const torch::Tensor target = targets.narrow(0, start, size);
    loss += torch::nll_loss(output, target, {}, torch::Reduction::Sum).item<double>();
    correct += output.argmax(1).eq(target).sum().item<int64_t>();
  }
  std::printf("test set: average loss %.4f, accuracy %.4f\n", loss / static_cast<double>(n),
              static_cast<double>(correct) / static_cast<double>(n));
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = examples::parse_options(argc, argv, /*default_steps=*/3);
  const std::string root =
      options.data.empty() ? "/usr/share/datasets/fashion-mnist" : options.data;
  distributed::ProcessGroup& pg = distributed::ProcessGroupMPI::world();  // MPI_Init
  const int rank = pg.rank(), ranks = pg.size();
  if (kGlobalBatchSize % ranks != 0) {
    if (rank == 0) std::fprintf(stderr, "the global batch of 64 needs a rank count dividing it\n");
    return 2;
  }
  const int64_t batch_size = kGlobalBatchSize / ranks;  // this rank's part of each global batch
  torch::manual_seed(1);

  // Every rank loads the whole training set and trains on the indices its sampler deals it.
  const torch::data::datasets::MNIST train_set(root);
  const torch::Tensor train_images = normalized(train_set.images());
  const torch::Tensor train_targets = train_set.targets();
  distributed::DistributedSampler sampler(train_images.size(0), ranks, rank,
                                          /*shuffle=*/!options.fixed, kSeed);

  Net model(options.fixed ? 0.0 : 0.5);  // dropout off in a fixed run: a mask is a random draw
  // Every replica starts from rank 0's weights (what DistributedDataParallel's constructor does).
  for (torch::Tensor p : model->parameters()) pg.broadcast(p, /*root=*/0);
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.5));

  if (rank == 0 && !options.fixed) {
    std::printf("%d rank(s), global batch %lld = %d x %lld, %lld samples per rank per epoch\n",
                ranks, static_cast<long long>(kGlobalBatchSize), ranks,
                static_cast<long long>(batch_size), static_cast<long long>(sampler.num_samples()));
  }
  int64_t step = 0;
  for (int64_t epoch = 1; epoch <= options.steps; ++epoch) {
    sampler.set_epoch(epoch);  // a new shuffle, the same on every rank
    const std::vector<int64_t> shard = sampler.indices();
    const auto batches = static_cast<int64_t>(shard.size()) / batch_size;  // whole batches only
    model->train();
    for (int64_t b = 0; b < batches && !(options.fixed && b == kFixedBatches); ++b) {
      const std::vector<int64_t> picked(shard.begin() + b * batch_size,
                                        shard.begin() + (b + 1) * batch_size);
      const torch::Tensor index = torch::tensor(picked);
      optimizer.zero_grad();
      torch::Tensor loss = torch::nll_loss(model->forward(train_images.index_select(0, index)),
                                           train_targets.index_select(0, index));
      loss.backward();
      // The one thing data parallelism adds: every gradient becomes its mean over the ranks
      // (one all-reduce per parameter, as dist-mnist does; distributed::DistributedDataParallel
      // packs them into buckets, milestones/1986_mlp/ddp.cpp).
      for (const torch::Tensor& p : model->parameters()) {
        torch::Tensor grad = p.grad();
        pg.all_reduce(grad, distributed::ReduceOp::kAvg);
      }
      optimizer.step();
      // The global batch's loss, for rank 0 to print: the mean of the ranks' means.
      torch::Tensor global_loss = loss.detach().clone();
      pg.all_reduce(global_loss, distributed::ReduceOp::kAvg);
      if (rank == 0) examples::report(options, ++step, global_loss.item<double>(), 100);
    }
    if (rank == 0 && !options.fixed) {
      const torch::data::datasets::MNIST test_set(root, torch::data::datasets::MNIST::Mode::kTest);
      test(model, normalized(test_set.images()), test_set.targets());
    }
  }
  // Each rank's parameters, to compare: the same averaged step everywhere keeps them identical.
  std::printf("rank %d of %d: parameters fnv1a %016llx\n", rank, ranks,
              static_cast<unsigned long long>(fingerprint(model)));
  std::fflush(stdout);
  return 0;
}
