// DataLoader: batching, per-epoch shuffling and ordered prefetching by worker threads.
// See tinytorch/data/dataloader.h for the contract.
//
//   consumer (training loop)               workers (num_workers threads)
//   ────────────────────────               ──────────────────────────────
//   next(): wait until ring_[k % R]        loop: claim the next batch number j (if j < k + R,
//           holds batch k, take it,              i.e. its ring slot is free), build it outside
//           k += 1, wake the workers             the lock, store it in ring_[j % R], wake consumer
//
// R = num_workers · prefetch_factor bounds the memory held by finished-but-unconsumed batches.
// Batches are claimed in increasing order and consumed strictly in order, so timing only decides
// WHEN batch k is ready, never WHAT it contains or where it sits in the sequence.
#include "tinytorch/data/dataloader.h"

#include <algorithm>
#include <span>
#include <utility>

#include "tinytorch/core/exception.h"

namespace tinytorch::data {
namespace {

// SplitMix64: turns (epoch seed + batch number) into a well-mixed seed, so neighbouring batches
// get unrelated random streams. ([[maybe_unused]]: only make_batch, the learner's, calls it.)
[[maybe_unused]] uint64_t mix_seed(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

namespace detail {

Epoch::Epoch(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options,
             std::vector<int64_t> order, uint64_t epoch_seed, int64_t num_batches)
    : dataset_(std::move(dataset)),
      options_(options),
      order_(std::move(order)),
      epoch_seed_(epoch_seed),
      num_batches_(num_batches) {
  if (options_.num_workers == 0) return;  // batches are built in next(), on this thread
  ring_.resize(static_cast<size_t>(options_.num_workers * options_.prefetch_factor));
  workers_.reserve(static_cast<size_t>(options_.num_workers));
  try {
    for (int64_t w = 0; w < options_.num_workers; ++w)
      workers_.emplace_back([this] { run_worker(); });
  } catch (...) {  // could not start a thread: stop the ones that did start, then report
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    space_cv_.notify_all();
    for (auto& t : workers_) t.join();
    throw;
  }
}

Epoch::~Epoch() {
  // Early stop (break out of the loop, exception) or normal end: tell the workers to stop, wake
  // any that wait for ring space, and join them. A worker busy building a batch finishes it first.
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  space_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

Example<> Epoch::make_batch(int64_t k) const {
  // BEGIN SOLUTION
  const int64_t n = static_cast<int64_t>(order_.size());
  const int64_t begin = k * options_.batch_size;
  const int64_t end = std::min(begin + options_.batch_size, n);
  const std::span<const int64_t> indices(order_.data() + begin, static_cast<size_t>(end - begin));
  // No transform: one request for the whole batch, so a TensorDataset copies its rows straight
  // into [B, ...] instead of making B views and stacking them.
  if (!options_.transform) return dataset_->get_batch(indices);
  // A transform sees one sample at a time, and draws from batch k's own random stream: a function
  // of (epoch seed, k) only, never of which thread runs.
  Generator gen(mix_seed(epoch_seed_ + static_cast<uint64_t>(k)));
  std::vector<Tensor> data, targets;
  data.reserve(indices.size());
  targets.reserve(indices.size());
  for (const int64_t i : indices) {
    Example<> sample = dataset_->get(i);
    data.push_back(options_.transform->apply(sample.data, gen));
    targets.push_back(std::move(sample.target));
  }
  return {stack(data), stack(targets)};  // [B, ...] and [B, ...] (targets 0-d → [B])
  // END SOLUTION
}

void Epoch::run_worker() {
  // An exception escaping a std::thread would terminate the program. worker_loop() already
  // hands errors from building a batch to the consumer; anything else (a bug in the loop itself)
  // is recorded here and rethrown by next(), and the other workers stop.
  try {
    worker_loop();
  } catch (...) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (!worker_error_) worker_error_ = std::current_exception();
      stop_ = true;
    }
    space_cv_.notify_all();
    ready_cv_.notify_all();
  }
}

void Epoch::worker_loop() {
  // BEGIN SOLUTION
  std::unique_lock<std::mutex> lock(mutex_);
  const auto capacity = static_cast<int64_t>(ring_.size());
  while (true) {
    // Sleep until there is a batch left to build AND a free slot for it (bounded prefetch).
    space_cv_.wait(lock, [&] {
      return stop_ || next_claim_ >= num_batches_ || next_claim_ < next_consume_ + capacity;
    });
    if (stop_ || next_claim_ >= num_batches_) return;
    const int64_t k = next_claim_++;
    lock.unlock();
    // The expensive part — reading samples, transforms, stacking — runs without the lock, so
    // the workers build different batches in parallel.
    Slot slot;
    slot.batch = k;
    try {
      slot.value = make_batch(k);
    } catch (...) {
      slot.error = std::current_exception();  // handed to the consumer when it reaches batch k
    }
    lock.lock();
    ring_[static_cast<size_t>(k % capacity)] = std::move(slot);
    ready_cv_.notify_all();
  }
  // END SOLUTION
}

Example<> Epoch::next() {
  // BEGIN SOLUTION
  const int64_t k = next_consume_;
  TT_CHECK(k < num_batches_, "DataLoader: no batch left in this epoch (", num_batches_,
           " batches)");
  if (workers_.empty()) {  // num_workers == 0: build it now, on the caller's thread
    ++next_consume_;
    return make_batch(k);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  Slot& slot = ring_[static_cast<size_t>(k % static_cast<int64_t>(ring_.size()))];
  // Wait for batch k itself, not whichever batch finished first.
  ready_cv_.wait(lock, [&] { return slot.batch == k || worker_error_ != nullptr; });
  if (slot.batch != k) std::rethrow_exception(worker_error_);  // a worker died: report it
  Slot taken = std::move(slot);
  slot = Slot{};
  ++next_consume_;
  lock.unlock();
  space_cv_.notify_all();  // a ring slot is free again: a waiting worker may claim batch k + R
  if (taken.error) std::rethrow_exception(taken.error);
  return std::move(*taken.value);
  // END SOLUTION
}

}  // namespace detail

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)), generator_(options_.seed) {
  TT_CHECK_VALUE(dataset_ != nullptr, "DataLoader: the dataset is null");
  TT_CHECK_VALUE(options_.batch_size > 0, "DataLoader: batch_size must be positive, got ",
                 options_.batch_size);
  TT_CHECK_VALUE(options_.num_workers >= 0, "DataLoader: num_workers must be >= 0, got ",
                 options_.num_workers);
  TT_CHECK_VALUE(options_.prefetch_factor > 0, "DataLoader: prefetch_factor must be positive, got ",
                 options_.prefetch_factor);
}

int64_t DataLoader::size() const {
  const int64_t n = dataset_->size();
  const int64_t b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

DataLoader::Iterator DataLoader::begin() {
  // This epoch's order and seed come from the loader's generator, drawn here on the consumer's
  // thread: epoch e is the same for a given seed, and differs from epoch e+1.
  std::vector<int64_t> order = sample_order(dataset_->size(), options_.shuffle, generator_);
  const uint64_t epoch_seed = generator_.next_u64();
  return Iterator(
      std::make_unique<detail::Epoch>(dataset_, options_, std::move(order), epoch_seed, size()));
}

DataLoader::Iterator::Iterator(std::unique_ptr<detail::Epoch> epoch) : epoch_(std::move(epoch)) {
  ++*this;  // load batch 0 (or finish at once for an empty epoch)
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  TT_CHECK(!done_, "DataLoader iterator: incremented past the end of the epoch");
  if (position_ == epoch_->num_batches()) {
    done_ = true;
    current_ = Example<>{};
    epoch_.reset();  // joins the workers now rather than when the iterator goes away
    return *this;
  }
  current_ = epoch_->next();
  ++position_;
  return *this;
}

}  // namespace tinytorch::data
