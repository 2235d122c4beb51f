// libtorch's samplers. See tinytorch/data/samplers.h.
#include "tinytorch/data/samplers.h"

#include <algorithm>
#include <numeric>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/data/dataset.h"  // sample_order

namespace tinytorch::data::samplers {
namespace {

void check_batch_size(const char* sampler, size_t batch_size) {
  TT_CHECK_VALUE(batch_size >= 1, sampler, "::next: batch_size must be >= 1, got ", batch_size);
}

// The positions [from, min(from + batch_size, to)) of `indices`, as a request.
std::vector<size_t> take(const std::vector<size_t>& indices, size_t from, size_t to,
                         size_t batch_size) {
  const size_t end = std::min(to, from + batch_size);
  return {indices.begin() + static_cast<std::ptrdiff_t>(from),
          indices.begin() + static_cast<std::ptrdiff_t>(end)};
}

// A permutation of 0 … n-1 as size_t, drawn from `generator` by the course's Fisher–Yates.
std::vector<size_t> permutation(size_t n, Generator& generator) {
  const std::vector<int64_t> order =
      sample_order(static_cast<int64_t>(n), /*shuffle=*/true, generator);
  return {order.begin(), order.end()};
}

}  // namespace

namespace detail {
void check_replicas(const char* sampler, size_t num_replicas, size_t rank) {
  TT_CHECK_VALUE(num_replicas >= 1, sampler, ": num_replicas must be >= 1, got ", num_replicas);
  TT_CHECK_VALUE(rank < num_replicas, sampler,
                 ": rank must be in [0, num_replicas = ", num_replicas, "), got ", rank);
}
}  // namespace detail

// ── SequentialSampler ─────────────────────────────────────────────────────────────────────────

SequentialSampler::SequentialSampler(size_t size) : size_(size) {}

void SequentialSampler::reset(std::optional<size_t> new_size) {
  size_ = new_size.value_or(size_);
  index_ = 0;
}

std::optional<std::vector<size_t>> SequentialSampler::next(size_t batch_size) {
  check_batch_size("SequentialSampler", batch_size);
  if (index_ == size_) return std::nullopt;
  std::vector<size_t> batch(std::min(batch_size, size_ - index_));
  std::iota(batch.begin(), batch.end(), index_);
  index_ += batch.size();
  return batch;
}

// ── RandomSampler ─────────────────────────────────────────────────────────────────────────────

RandomSampler::RandomSampler(int64_t size) {
  TT_CHECK_VALUE(size >= 0, "RandomSampler: size must be >= 0, got ", size);
  indices_.resize(static_cast<size_t>(size));
  reset();
}

void RandomSampler::reset(std::optional<size_t> new_size) {
  indices_ = permutation(new_size.value_or(indices_.size()), default_generator());
  index_ = 0;
}

std::optional<std::vector<size_t>> RandomSampler::next(size_t batch_size) {
  check_batch_size("RandomSampler", batch_size);
  if (index_ == indices_.size()) return std::nullopt;
  std::vector<size_t> batch = take(indices_, index_, indices_.size(), batch_size);
  index_ += batch.size();
  return batch;
}

// ── DistributedRandomSampler ──────────────────────────────────────────────────────────────────

DistributedRandomSampler::DistributedRandomSampler(size_t size, size_t num_replicas, size_t rank,
                                                   bool allow_duplicates)
    : DistributedSampler(size, num_replicas, rank, allow_duplicates) {
  reset(size_);
}

void DistributedRandomSampler::reset(std::optional<size_t> new_size) {
  size_ = new_size.value_or(size_);
  // NOTE: the list every rank builds alike: 0 … size-1, padded (with duplicates allowed) to
  // local · replicas by wrapping to the start, then shuffled by a generator seeded with the
  // epoch only. Rank r takes the block [r · local, (r + 1) · local) of it, so the ranks' blocks
  // partition the list.
  const size_t local = local_sample_count();
  const size_t count = num_replicas_ == 1 ? size_ : local * num_replicas_;
  std::vector<size_t> padded(count);
  for (size_t i = 0; i < count; ++i) padded[i] = i % size_;
  Generator generator(epoch_);
  const std::vector<size_t> order = permutation(count, generator);
  all_indices_.resize(count);
  for (size_t i = 0; i < count; ++i) all_indices_[i] = padded[order[i]];
  begin_index_ = rank_ * local;
  end_index_ = begin_index_ + local;
  sample_index_ = begin_index_;
}

std::optional<std::vector<size_t>> DistributedRandomSampler::next(size_t batch_size) {
  check_batch_size("DistributedRandomSampler", batch_size);
  if (sample_index_ == end_index_) return std::nullopt;
  std::vector<size_t> batch = take(all_indices_, sample_index_, end_index_, batch_size);
  sample_index_ += batch.size();
  return batch;
}

// ── DistributedSequentialSampler ──────────────────────────────────────────────────────────────

DistributedSequentialSampler::DistributedSequentialSampler(size_t size, size_t num_replicas,
                                                           size_t rank, bool allow_duplicates)
    : DistributedSampler(size, num_replicas, rank, allow_duplicates) {
  reset(size_);
}

void DistributedSequentialSampler::reset(std::optional<size_t> new_size) {
  size_ = new_size.value_or(size_);
  begin_index_ = rank_ * local_sample_count();
  end_index_ = begin_index_ + local_sample_count();
  sample_index_ = begin_index_;
}

std::optional<std::vector<size_t>> DistributedSequentialSampler::next(size_t batch_size) {
  check_batch_size("DistributedSequentialSampler", batch_size);
  if (sample_index_ == end_index_) return std::nullopt;
  const size_t end = std::min(end_index_, sample_index_ + batch_size);
  std::vector<size_t> batch(end - sample_index_);
  // Positions past the last sample wrap to the start (only with duplicates allowed).
  for (size_t k = 0; k < batch.size(); ++k) batch[k] = (sample_index_ + k) % size_;
  sample_index_ = end;
  return batch;
}

}  // namespace tinytorch::data::samplers
