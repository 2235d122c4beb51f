// tinytorch/data/dataloader.h — batches from a Dataset, prepared ahead by worker threads.
//
//   DataLoader loader(dataset, {.batch_size = 64, .shuffle = true, .num_workers = 2});
//   for (int epoch = 0; epoch < 10; ++epoch)
//     for (auto& batch : loader)          // batch.data [B, ...], batch.target [B, ...]
//       train_step(batch.data, batch.target);
//
// Why prefetch: while the model trains on batch k, worker threads already read, transform and
// stack batches k+1 … k+depth, so the training loop never waits for data if the workers keep up
// (torch.utils.data.DataLoader(num_workers=…, prefetch_factor=…), tf.data's .prefetch()).
//
// Why deterministic: batch k is always built from the same indices with the same random stream,
// and batches are handed out strictly in order 0, 1, 2, … whichever thread finishes first. So
// num_workers = 0, 1 or 8 give bit-identical batches — a run can be reproduced and debugged.
//
// Each pass (begin()) is one epoch: the order is reshuffled from the loader's Generator, so the
// same seed gives the same sequence of epochs. Stopping early (break, exception) stops and joins
// the workers when the iterator is destroyed. An exception thrown while building batch k in a
// worker is rethrown to the consumer when it reaches batch k.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "tinytorch/core/generator.h"
#include "tinytorch/data/dataset.h"
#include "tinytorch/data/transforms.h"

namespace tinytorch::data {

struct LoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  bool drop_last = false;       // drop the last batch when it has fewer than batch_size samples
  int64_t num_workers = 0;      // 0: batches are built on the consumer's thread, on demand
  int64_t prefetch_factor = 2;  // batches in flight per worker (the ring holds workers·factor)
  uint64_t seed = Generator::kDefaultSeed;               // shuffle order and transform randomness
  std::shared_ptr<const Transform> transform = nullptr;  // applied to each sample's data
};

namespace detail {

// One epoch in progress: the index order, and (num_workers > 0) the worker threads and the ring
// of batches they fill. Owned by the iterator; its destructor stops and joins the workers.
class Epoch {
 public:
  Epoch(std::shared_ptr<const Dataset> dataset, const LoaderOptions& options,
        std::vector<int64_t> order, uint64_t epoch_seed, int64_t num_batches);
  ~Epoch();
  Epoch(const Epoch&) = delete;
  Epoch& operator=(const Epoch&) = delete;

  int64_t num_batches() const { return num_batches_; }
  // Batch k, built from order[k·B, min((k+1)·B, N)). Pure function of k: any thread, same result.
  Example<> make_batch(int64_t k) const;
  // The next batch in order (0, 1, 2, …): built here (no workers) or taken from the ring.
  Example<> next();

 private:
  struct Slot {  // one place in the ring; batch k lives in ring_[k % ring_.size()]
    int64_t batch = -1;
    std::optional<Example<>> value;
    std::exception_ptr error;
  };
  void run_worker();   // a worker thread's body: worker_loop() plus error capture
  void worker_loop();  // claim batch numbers in order, build them, put them in the ring

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  std::vector<int64_t> order_;  // [N] sample indices in this epoch's order
  uint64_t epoch_seed_;
  int64_t num_batches_;

  std::mutex mutex_;
  std::condition_variable space_cv_;  // workers wait here for a free ring slot
  std::condition_variable ready_cv_;  // the consumer waits here for batch next_consume_
  std::vector<Slot> ring_;
  int64_t next_claim_ = 0;    // next batch number a worker will build
  int64_t next_consume_ = 0;  // next batch number the consumer will take
  bool stop_ = false;
  std::exception_ptr worker_error_;  // set if a worker's loop itself failed (see run_worker)
  std::vector<std::thread> workers_;
};

}  // namespace detail

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options = {});
  // Convenience: takes the dataset by value (a TensorDataset copy only copies tensor handles).
  template <std::derived_from<Dataset> D>
  DataLoader(D dataset, LoaderOptions options = {})  // NOLINT(google-explicit-constructor)
      : DataLoader(std::make_shared<const D>(std::move(dataset)), std::move(options)) {}

  // Input iterator over one epoch's batches; compare with end() (a std::default_sentinel_t).
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Example<>;
    using difference_type = std::ptrdiff_t;

    Example<>& operator*() { return current_; }
    Example<>* operator->() { return &current_; }
    Iterator& operator++();
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return done_; }

   private:
    friend class DataLoader;
    explicit Iterator(std::unique_ptr<detail::Epoch> epoch);
    std::unique_ptr<detail::Epoch> epoch_;  // destroyed (workers joined) with the iterator
    Example<> current_;
    int64_t position_ = 0;  // batches taken so far
    bool done_ = false;
  };

  // Starts a new epoch: reshuffles (if shuffle), starts the workers, returns the first batch.
  Iterator begin();
  std::default_sentinel_t end() const { return {}; }

  int64_t size() const;  // batches per epoch
  const Dataset& dataset() const { return *dataset_; }
  const LoaderOptions& options() const { return options_; }
  // The generator each begin() draws the epoch's order and seed from. A training checkpoint
  // saves its state (serialize::generator_state) and a resumed run restores it, so epoch k+1
  // after a resume is the same epoch k+1 as in an uninterrupted run.
  Generator& generator() { return generator_; }
  const Generator& generator() const { return generator_; }

 private:
  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions options_;
  Generator generator_;  // advances once per epoch: the shuffle order, then the epoch's seed
};

}  // namespace tinytorch::data
