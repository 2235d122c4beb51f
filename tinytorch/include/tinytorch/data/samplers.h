// tinytorch/data/samplers.h — libtorch's samplers (torch::data::samplers): which indices each
// batch of a libtorch-style data loader asks its dataset for.
//
//   sampler.reset();                       // start an epoch (a random sampler reshuffles)
//   while (auto indices = sampler.next(B)) // up to B indices; nullopt once the epoch is done
//     dataset.get_batch(*indices);
//
// N = 10, B = 4:
//   SequentialSampler                  0 1 2 3 | 4 5 6 7 | 8 9
//   RandomSampler                      a permutation drawn from the default generator at each
//                                      reset() (manual_seed(s) fixes every epoch's order)
//   DistributedSequentialSampler(N, 3 replicas, rank r): ⌈10/3⌉ = 4 indices per rank,
//     rank 0: 0 1 2 3   rank 1: 4 5 6 7   rank 2: 8 9 0 1   (the last rank wraps around, so
//     every rank takes the same number of steps; allow_duplicates = false: ⌊10/3⌋ = 3 each,
//     and sample 9 is left out)
//   DistributedRandomSampler: the same partition of a permutation that depends only on the
//     epoch (set_epoch(e)), so every rank draws the same one and the ranks' parts stay disjoint.
//
// Not here: libtorch's save/load of a sampler's position into a serialize::OutputArchive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace tinytorch::data::samplers {

template <typename BatchRequest = std::vector<size_t>>
class Sampler {
 public:
  using BatchRequestType = BatchRequest;

  virtual ~Sampler() = default;
  // Starts over (a new epoch), with a new dataset size if one is given.
  virtual void reset(std::optional<size_t> new_size) = 0;
  // The next batch request of at most batch_size indices, or nullopt when the epoch is done.
  // batch_size must be ≥ 1 (tinytorch::ValueError otherwise).
  virtual std::optional<BatchRequest> next(size_t batch_size) = 0;
};

class SequentialSampler : public Sampler<> {
 public:
  explicit SequentialSampler(size_t size);
  void reset(std::optional<size_t> new_size = std::nullopt) override;
  std::optional<std::vector<size_t>> next(size_t batch_size) override;
  size_t index() const noexcept { return index_; }  // indices handed out so far this epoch

 private:
  size_t size_;
  size_t index_ = 0;
};

class RandomSampler : public Sampler<> {
 public:
  // size ≥ 0 (a negative size is a ValueError). Draws the first permutation.
  explicit RandomSampler(int64_t size);
  // Draws a new permutation of 0 … size-1 from the default generator (Fisher–Yates).
  void reset(std::optional<size_t> new_size = std::nullopt) override;
  std::optional<std::vector<size_t>> next(size_t batch_size) override;
  size_t index() const noexcept { return index_; }

 private:
  std::vector<size_t> indices_;  // this epoch's permutation
  size_t index_ = 0;
};

// The partition shared by the two distributed samplers: rank `rank` of `num_replicas` takes
// local_sample_count() indices. Requires num_replicas ≥ 1 and rank < num_replicas.
template <typename BatchRequest = std::vector<size_t>>
class DistributedSampler : public Sampler<BatchRequest> {
 public:
  DistributedSampler(size_t size, size_t num_replicas = 1, size_t rank = 0,
                     bool allow_duplicates = true);

  // The epoch whose order the next reset() draws (DistributedRandomSampler).
  void set_epoch(size_t epoch) { epoch_ = epoch; }
  size_t epoch() const { return epoch_; }

 protected:
  // ⌈size / num_replicas⌉ with duplicates allowed (the last ranks wrap around to the start),
  // ⌊size / num_replicas⌋ without (the last size mod num_replicas samples are left out).
  size_t local_sample_count() const {
    return allow_duplicates_ ? (size_ + num_replicas_ - 1) / num_replicas_ : size_ / num_replicas_;
  }

  size_t size_;
  size_t num_replicas_;
  size_t rank_;
  size_t epoch_ = 0;
  bool allow_duplicates_;
};

class DistributedRandomSampler : public DistributedSampler<> {
 public:
  DistributedRandomSampler(size_t size, size_t num_replicas = 1, size_t rank = 0,
                           bool allow_duplicates = true);
  // Shuffles the padded index list with a generator seeded by epoch(): the same on every rank.
  void reset(std::optional<size_t> new_size = std::nullopt) override;
  std::optional<std::vector<size_t>> next(size_t batch_size) override;
  size_t index() const noexcept { return sample_index_; }

 private:
  std::vector<size_t> all_indices_;  // [local · replicas] (or [size] for one replica), shuffled
  size_t begin_index_ = 0;           // this rank's part: all_indices_[begin_index_, end_index_)
  size_t end_index_ = 0;
  size_t sample_index_ = 0;
};

class DistributedSequentialSampler : public DistributedSampler<> {
 public:
  DistributedSequentialSampler(size_t size, size_t num_replicas = 1, size_t rank = 0,
                               bool allow_duplicates = true);
  void reset(std::optional<size_t> new_size = std::nullopt) override;
  std::optional<std::vector<size_t>> next(size_t batch_size) override;
  size_t index() const noexcept { return sample_index_; }

 private:
  size_t begin_index_ = 0;  // this rank's positions [begin_index_, end_index_), taken mod size
  size_t end_index_ = 0;
  size_t sample_index_ = 0;
};

namespace detail {
// Throws tinytorch::ValueError naming `sampler` when num_replicas is 0 or rank ≥ num_replicas.
void check_replicas(const char* sampler, size_t num_replicas, size_t rank);
}  // namespace detail

template <typename BatchRequest>
DistributedSampler<BatchRequest>::DistributedSampler(size_t size, size_t num_replicas, size_t rank,
                                                     bool allow_duplicates)
    : size_(size), num_replicas_(num_replicas), rank_(rank), allow_duplicates_(allow_duplicates) {
  detail::check_replicas("DistributedSampler", num_replicas, rank);
}

}  // namespace tinytorch::data::samplers
