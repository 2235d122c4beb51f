// DistributedSampler: each rank's share of an epoch (module 21; see distributed/sampler.h).
#include "tinytorch/distributed/sampler.h"

#include <numeric>
#include <utility>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/generator.h"

namespace tinytorch::distributed {

DistributedSampler::DistributedSampler(int64_t dataset_size, int num_replicas, int rank,
                                       bool shuffle, uint64_t seed)
    : dataset_size_(dataset_size),
      replicas_(num_replicas),
      rank_(rank),
      shuffle_(shuffle),
      seed_(seed) {
  TT_CHECK_VALUE(dataset_size >= 1, "DistributedSampler: expected dataset_size >= 1, got ",
                 dataset_size);
  TT_CHECK_VALUE(num_replicas >= 1, "DistributedSampler: expected num_replicas >= 1, got ",
                 num_replicas);
  TT_CHECK_VALUE(rank >= 0 && rank < num_replicas, "DistributedSampler: rank ", rank,
                 " is out of range for ", num_replicas, " replicas (expected 0 <= rank < ",
                 num_replicas, ")");
}

// 1. the epoch's order: 0 … N−1, shuffled (Fisher–Yates) by a generator seeded with
//    seed + epoch — the same numbers on every rank, different every epoch;
// 2. padded to total_size() by repeating its first entries (from the start again if the
//    padding is longer than N, as when N < p);
// 3. this rank's share: positions rank, rank + p, rank + 2p, …
std::vector<int64_t> DistributedSampler::indices() const {
  // BEGIN SOLUTION
  std::vector<int64_t> order(static_cast<size_t>(dataset_size_));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (shuffle_) {
    Generator generator(seed_ + static_cast<uint64_t>(epoch_));
    for (int64_t i = dataset_size_ - 1; i > 0; --i) {
      std::swap(order[static_cast<size_t>(i)],
                order[static_cast<size_t>(generator.random_int(0, i + 1))]);
    }
  }
  std::vector<int64_t> mine;
  mine.reserve(static_cast<size_t>(num_samples()));
  for (int64_t position = rank_; position < total_size(); position += replicas_) {
    mine.push_back(order[static_cast<size_t>(position % dataset_size_)]);
  }
  return mine;
  // END SOLUTION
}

}  // namespace tinytorch::distributed
