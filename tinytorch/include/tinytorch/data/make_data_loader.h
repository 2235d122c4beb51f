// tinytorch/data/make_data_loader.h — libtorch's data loader (torch::data::make_data_loader):
// batches of a datasets:: dataset, in the order a sampler gives, built by worker threads.
//
//   auto ds = datasets::MNIST(root).map(transforms::Normalize<>(0.1307, 0.3081))
//                                  .map(transforms::Stack<>());
//   auto loader = make_data_loader(std::move(ds), DataLoaderOptions().batch_size(64).workers(2));
//   for (auto& batch : *loader)          // Example<>: batch.data [64, 1, 28, 28], batch.target
//   [64]
//     train_step(batch.data, batch.target);
//
//   make_data_loader<samplers::SequentialSampler>(ds, 64)   // another sampler; a bare batch size
//
// One epoch is one pass of `for (auto& batch : *loader)`: begin() resets the sampler (a
// RandomSampler draws a new order from the default generator), then the loader asks the sampler
// for up to batch_size indices at a time and the dataset for the batch at those indices.
//
//   consumer thread                          worker threads (each with its own dataset copy)
//   ───────────────                          ───────────────────────────────────────────────
//   sampler.next(B) → job k ──► jobs queue ──► dataset.get_batch(indices)
//   batch k ◄── results, by job number  ◄───── batch (or the exception it threw)
//
// At most max_jobs (default 2 · workers) jobs are in flight. With enforce_ordering (the
// default) batches come out in job order whichever worker finishes first, so 0, 1 or 8 workers
// give the same batches. With workers = 0 each batch is built on the consumer's thread when
// it is asked for. An exception thrown while building a batch is rethrown to the consumer when
// that batch is due. Leaving a loop early and calling begin() again starts a fresh epoch (the
// batches still in flight are waited for and dropped; libtorch refuses this instead).
//
// Not here: libtorch's StatefulDataLoader (datasets whose get_batch returns std::optional,
// e.g. ChunkDataset).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "tinytorch/core/exception.h"
#include "tinytorch/data/batch_transforms.h"
#include "tinytorch/data/datasets.h"
#include "tinytorch/data/samplers.h"
#include "tinytorch/nn/module.h"  // TT_ARG

namespace tinytorch::data {

// libtorch's DataLoaderOptions: DataLoaderOptions().batch_size(64).workers(2), or a batch size
// alone (make_data_loader(ds, 64)).
struct DataLoaderOptions {
  DataLoaderOptions() = default;
  DataLoaderOptions(size_t batch_size)  // NOLINT(google-explicit-constructor)
      : batch_size_(batch_size) {}

  TT_ARG(size_t, batch_size) = 1;                             // ≥ 1
  TT_ARG(size_t, workers) = 0;                                // 0: on the consumer's thread
  TT_ARG(std::optional<size_t>, max_jobs);                    // jobs in flight; 2 · workers
  TT_ARG(std::optional<std::chrono::milliseconds>, timeout);  // for one batch; none: forever
  TT_ARG(bool, enforce_ordering) = true;                      // batches in sampler order
  TT_ARG(bool, drop_last) = false;                            // drop a short last batch
};

// The options with their defaults filled in, as the loader uses them.
struct FullDataLoaderOptions {
  explicit FullDataLoaderOptions(const DataLoaderOptions& options)
      : batch_size(options.batch_size()),
        workers(options.workers()),
        max_jobs(options.max_jobs().value_or(2 * options.workers())),
        timeout(options.timeout()),
        enforce_ordering(options.enforce_ordering()),
        drop_last(options.drop_last()) {}

  size_t batch_size;
  size_t workers;
  size_t max_jobs;
  std::optional<std::chrono::milliseconds> timeout;
  bool enforce_ordering;
  bool drop_last;
};

// An input iterator over one epoch's batches (libtorch's data::Iterator). A default-constructed
// iterator is the end; a running one equals it once the epoch is exhausted.
template <typename Batch>
class Iterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Batch;
  using difference_type = std::ptrdiff_t;
  using pointer = Batch*;
  using reference = Batch&;

  Iterator() = default;
  explicit Iterator(std::function<std::optional<Batch>()> next_batch)
      : next_batch_(std::move(next_batch)) {
    batch_ = next_batch_();
  }

  Batch& operator*() {
    TT_CHECK(batch_.has_value(), "data loader iterator: dereferenced past the end of the epoch");
    return *batch_;
  }
  Batch* operator->() { return &**this; }
  Iterator& operator++() {
    TT_CHECK(batch_.has_value(), "data loader iterator: incremented past the end of the epoch");
    batch_ = next_batch_();
    return *this;
  }
  void operator++(int) { ++*this; }
  bool operator==(const Iterator& other) const {
    return !batch_.has_value() && !other.batch_.has_value();
  }

 private:
  std::function<std::optional<Batch>()> next_batch_;
  std::optional<Batch> batch_;  // the current batch; empty at the end
};

// The loader for a dataset whose get_batch answers any request (libtorch's StatelessDataLoader).
// Not copyable or movable: its worker threads point at it (make_data_loader returns it in a
// std::unique_ptr). The destructor stops and joins the workers.
template <typename Dataset, typename Sampler>
class StatelessDataLoader {
 public:
  using BatchType = typename Dataset::BatchType;
  using BatchRequestType = typename Sampler::BatchRequestType;

  // batch_size ≥ 1 and, with workers, max_jobs ≥ 1 (tinytorch::ValueError otherwise).
  StatelessDataLoader(Dataset dataset, Sampler sampler, DataLoaderOptions options)
      : options_(options), sampler_(std::move(sampler)) {
    TT_CHECK_VALUE(options_.batch_size >= 1,
                   "make_data_loader: DataLoaderOptions().batch_size must be >= 1, got ",
                   options_.batch_size);
    TT_CHECK_VALUE(options_.workers == 0 || options_.max_jobs >= 1,
                   "make_data_loader: DataLoaderOptions().max_jobs must be >= 1 when workers > 0 "
                   "(workers = ",
                   options_.workers, "), got ", options_.max_jobs);
    if (options_.workers == 0) {
      main_thread_dataset_.emplace(std::move(dataset));
      return;
    }
    try {
      // Each worker gets its own copy of the dataset (and of its transforms): get_batch is not
      // const, so no two threads ever call it on the same object.
      for (size_t w = 0; w < options_.workers; ++w)
        workers_.emplace_back([this, dataset]() mutable { worker_loop(dataset); });
    } catch (...) {  // could not start a thread: stop the ones that did start, then report
      join();
      throw;
    }
  }
  ~StatelessDataLoader() { join(); }
  StatelessDataLoader(const StatelessDataLoader&) = delete;
  StatelessDataLoader& operator=(const StatelessDataLoader&) = delete;

  // Starts an epoch: waits for (and drops) batches still in flight from an earlier one, resets
  // the sampler, and returns an iterator at the first batch.
  Iterator<BatchType> begin() {
    drain();
    sampler_.reset(std::nullopt);
    sampler_done_ = false;
    next_job_ = 0;
    next_result_ = 0;
    return Iterator<BatchType>([this] { return next(); });
  }
  Iterator<BatchType> end() { return {}; }

  // Stops and joins the worker threads (the destructor does it too). Idempotent.
  void join() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    jobs_cv_.notify_all();
    for (auto& t : workers_) {
      if (t.joinable()) t.join();
    }
  }

  const FullDataLoaderOptions& options() const noexcept { return options_; }

 private:
  struct Result {
    std::optional<BatchType> batch;
    std::exception_ptr error;
  };

  // The next request from the sampler, or nullopt at the end of the epoch (a short last
  // request counts as the end when drop_last is set).
  std::optional<BatchRequestType> next_request() {
    if (sampler_done_) return std::nullopt;
    std::optional<BatchRequestType> request = sampler_.next(options_.batch_size);
    if (!request || (options_.drop_last && request->size() < options_.batch_size)) {
      sampler_done_ = true;
      return std::nullopt;
    }
    return request;
  }

  // Queues requests until max_jobs are in flight or the sampler is done.
  void prefetch() {
    while (next_job_ - next_result_ < options_.max_jobs) {
      std::optional<BatchRequestType> request = next_request();
      if (!request) return;
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        jobs_.push_back({next_job_, std::move(*request)});
      }
      ++next_job_;
      jobs_cv_.notify_one();
    }
  }

  std::optional<BatchType> next() {
    if (options_.workers == 0) {
      std::optional<BatchRequestType> request = next_request();
      if (!request) return std::nullopt;
      return main_thread_dataset_->get_batch(std::move(*request));
    }
    prefetch();
    if (next_result_ == next_job_) return std::nullopt;  // nothing in flight: the epoch is done
    Result result = take_result();
    ++next_result_;
    prefetch();  // keep the workers busy while the consumer uses this batch
    if (result.error) std::rethrow_exception(result.error);
    return std::move(result.batch);
  }

  // Waits for a result: job next_result_'s when ordering is enforced, else the first to arrive.
  Result take_result() {
    std::unique_lock<std::mutex> lock(mutex_);
    const auto ready = [this] {
      return options_.enforce_ordering ? results_.count(next_result_) > 0 : !results_.empty();
    };
    if (options_.timeout) {
      TT_CHECK(results_cv_.wait_for(lock, *options_.timeout, ready),
               "data loader: timed out after ", options_.timeout->count(), " ms waiting for batch ",
               next_result_,
               " (DataLoaderOptions().timeout); expected a worker to build it in time");
    } else {
      results_cv_.wait(lock, ready);
    }
    auto it = options_.enforce_ordering ? results_.find(next_result_) : results_.begin();
    Result result = std::move(it->second);
    results_.erase(it);
    return result;
  }

  // Waits until every job in flight has come back, and drops the results.
  void drain() {
    if (options_.workers == 0) return;
    std::unique_lock<std::mutex> lock(mutex_);
    results_cv_.wait(lock, [this] { return results_.size() == next_job_ - next_result_; });
    results_.clear();
  }

  // A worker thread: take a job, build its batch with this worker's dataset copy, hand it back.
  void worker_loop(Dataset& dataset) {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        jobs_cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (stop_) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      Result result;
      try {
        result.batch.emplace(dataset.get_batch(std::move(job.request)));
      } catch (...) {
        result.error = std::current_exception();
      }
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        results_.emplace(job.number, std::move(result));
      }
      results_cv_.notify_all();
    }
  }

  struct Job {
    size_t number = 0;
    BatchRequestType request;
  };

  FullDataLoaderOptions options_;
  Sampler sampler_;
  std::optional<Dataset> main_thread_dataset_;  // workers = 0: the one copy, used right here

  // Consumer-thread state: jobs numbered [next_result_, next_job_) are in flight.
  bool sampler_done_ = false;
  size_t next_job_ = 0;
  size_t next_result_ = 0;

  std::mutex mutex_;                    // guards jobs_, results_, stop_
  std::condition_variable jobs_cv_;     // workers wait here for a job (or stop)
  std::condition_variable results_cv_;  // the consumer waits here for a result
  std::deque<Job> jobs_;
  std::map<size_t, Result> results_;  // finished jobs, by number
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// A loader for `dataset` with batches drawn by `sampler`.
template <typename Dataset, typename Sampler>
std::unique_ptr<StatelessDataLoader<Dataset, Sampler>> make_data_loader(Dataset dataset,
                                                                        Sampler sampler,
                                                                        DataLoaderOptions options) {
  return std::make_unique<StatelessDataLoader<Dataset, Sampler>>(
      std::move(dataset), std::move(sampler), std::move(options));
}

// A loader whose Sampler (RandomSampler unless named) is built from dataset.size().
template <typename Sampler = samplers::RandomSampler, typename Dataset,
          typename = std::enable_if_t<std::is_constructible_v<Sampler, size_t>>>
std::unique_ptr<StatelessDataLoader<Dataset, Sampler>> make_data_loader(
    Dataset dataset, DataLoaderOptions options = DataLoaderOptions()) {
  const std::optional<size_t> size = dataset.size();
  TT_CHECK_VALUE(size.has_value(),
                 "make_data_loader: expected the dataset to be sized (size() returned nullopt) "
                 "in order to construct the sampler; pass a sampler instead");
  return make_data_loader(std::move(dataset), Sampler(*size), std::move(options));
}

}  // namespace tinytorch::data
