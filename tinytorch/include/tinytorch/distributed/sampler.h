// tinytorch/distributed/sampler.h — which samples each rank trains on (module 21), PyTorch's
// torch.utils.data.distributed.DistributedSampler.
//
//   DistributedSampler sampler(dataset.size(), pg.size(), pg.rank(), /*shuffle=*/true, seed);
//   for (int64_t epoch = 0; epoch < epochs; ++epoch) {
//     sampler.set_epoch(epoch);                        // a new shuffle, the same on every rank
//     data::Subset shard(dataset, sampler.indices());  // this rank's N/p samples
//     ...
//   }
//
// N = 10 samples, p = 3 ranks, one epoch:
//
//   permutation (seed + epoch, identical on every rank):  7 2 9 0 5 1 8 3 6 4
//   padded to a multiple of p (first ones repeated):       7 2 9 0 5 1 8 3 6 4 7 2
//   rank r takes every p-th from position r:               rank 0: 7 0 8 4
//                                                          rank 1: 2 5 3 7
//                                                          rank 2: 9 1 6 2
//
// The shards are disjoint (but for the padding) and together cover the dataset, so one global
// step of p ranks × batch b sees p·b different samples — exactly one process's batch of p·b.
// Padding keeps every rank at the same number of batches: a rank that ran out early would leave
// the others waiting in the all-reduce of a step it never takes.
#pragma once

#include <cstdint>
#include <vector>

namespace tinytorch::distributed {

class DistributedSampler {
 public:
  // dataset_size ≥ 1; num_replicas ≥ 1 (p); 0 ≤ rank < num_replicas. Throws tinytorch::Error
  // naming the bad argument.
  DistributedSampler(int64_t dataset_size, int num_replicas, int rank, bool shuffle = true,
                     uint64_t seed = 0);

  // Chooses the epoch whose shuffle indices() returns (PyTorch: call it before every epoch, or
  // every epoch repeats epoch 0's order).
  void set_epoch(int64_t epoch) { epoch_ = epoch; }
  int64_t epoch() const { return epoch_; }

  // This rank's sample indices for the current epoch: num_samples() of them, in [0, N).
  std::vector<int64_t> indices() const;

  int64_t num_samples() const { return (dataset_size_ + replicas_ - 1) / replicas_; }  // ⌈N/p⌉
  int64_t total_size() const { return num_samples() * replicas_; }  // N padded to a multiple of p

 private:
  int64_t dataset_size_;
  int replicas_;
  int rank_;
  bool shuffle_;
  uint64_t seed_;
  int64_t epoch_ = 0;
};

}  // namespace tinytorch::distributed
