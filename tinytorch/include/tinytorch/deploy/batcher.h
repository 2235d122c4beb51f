// tinytorch/deploy/batcher.h — dynamic batching for a model server (module 20).
//
// A model answers a batch of 32 rows in far less than 32 times the time of one row: the weights
// are read from memory once per batch, and a [32, 784] × [784, 256] GEMM keeps the SIMD units
// busy where a [1, 784] one leaves them waiting on memory. A server whose clients each send one
// image can still run batches: it HOLDS the first request for a short window, and runs everything
// that arrived meanwhile as one forward call.
//
//   clients        submit()            workers (num_workers threads)
//   ───────  ──►  ┌──────────────────┐  take the oldest request, then every queued request
//   req A [1,784] │ A  B  C  …       │  of the same per-sample shape, up to max_batch_size
//   req B [2,784] │ bounded queue    │  rows; wait for more until the oldest one has waited
//   req C [1,784] │ (max_queue)      │  max_wait ──► cat ──► forward([4,784]) ──► split rows
//   ───────  ◄──  └──────────────────┘                            │
//   futures ◄────────────────────────────────── A: rows 0, B: rows 1–2, C: row 3 ◄┘
//
// The batching window trades latency for throughput: a request may wait up to max_wait for
// company, and in exchange the model runs fewer, larger — cheaper per row — batches. TorchServe
// calls the same knobs batch_size and max_batch_delay; Triton calls them max_batch_size and
// max_queue_delay_microseconds.
//
// Back-pressure: the queue holds at most max_queue requests. submit() on a full queue does not
// wait and does not grow the queue: it answers kQueueFull at once, and the server turns that into
// HTTP 503 so that clients back off — a server that queued without bound would answer every
// request, each one later than the last, until it ran out of memory.
//
// Errors: when the forward call of a batch throws, each of its requests is run again on its own,
// so that a request the model refuses (a token id past the vocabulary) fails alone and the
// others of its batch are still answered; the error reaches the caller through its future.
//
// Shape grouping: a batch is ONE tensor, so only requests whose per-sample shapes (and dtypes)
// are equal can share it. A GPT model takes token rows of any length: a [1, 12] request and a
// [1, 40] one run in separate batches, each in arrival order.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "tinytorch/core/tensor.h"

namespace tinytorch::deploy {

struct BatcherOptions {
  // Rows per forward call, at most. A request of more rows than this is refused (submit throws):
  // it could never be answered in one call.
  int64_t max_batch_size = 32;
  // How long the OLDEST queued request may wait for others to join its batch. Zero disables
  // dynamic batching: every request runs on its own, as it would without a batcher — the baseline
  // a window is measured against.
  std::chrono::microseconds max_wait{2000};
  // Requests waiting in the queue, at most (back-pressure beyond that). At least 1.
  int64_t max_queue = 256;
  // Threads that take batches from the queue and run the forward function, at least 1. The
  // forward function must be safe to call from this many threads at once.
  int64_t num_workers = 1;
};

// The forward function: inputs [N, *sample_shape] → outputs [N, ...] (row i answers input row i).
using BatchForward = std::function<Tensor(const Tensor& inputs)>;

enum class SubmitStatus {
  kAccepted,      // queued: the future will hold the answer (or the forward call's exception)
  kQueueFull,     // back-pressure: max_queue requests are waiting; try again later
  kShuttingDown,  // shutdown() has begun: no new requests
};

const char* to_string(SubmitStatus status);

struct Submission {
  SubmitStatus status = SubmitStatus::kAccepted;
  std::future<Tensor> result;  // valid only when status == kAccepted
  [[nodiscard]] bool accepted() const { return status == SubmitStatus::kAccepted; }
};

// What the batcher has done so far (a snapshot; see DynamicBatcher::stats()).
struct BatcherStats {
  int64_t requests = 0;  // accepted
  int64_t rejected = 0;  // kQueueFull answers
  int64_t batches = 0;   // forward calls
  int64_t rows = 0;      // rows run, over all batches
  int64_t queued = 0;    // requests waiting now
};

// The two steps of a batch, as plain functions (the workers call them; tests call them directly).
//
// pick_batch: which queued requests (inputs [n_i, *sample_shape], oldest first) form the next
// batch, as positions in `queued`: the oldest request, then every later one with the same dtype
// and per-sample shape whose rows still fit in max_batch_size. A request that does not fit is
// skipped (it keeps its place for the next batch); a smaller one behind it may still join.
std::vector<size_t> pick_batch(const std::vector<Tensor>& queued, int64_t max_batch_size);

// forward_batch: one forward call for several requests of the same dtype and per-sample shape —
// their rows concatenated into one [Σ n_i, ...] tensor, `forward` run on it once, and its output
// rows split back, one output [n_i, ...] per request, in order.
// Errors (ValueError): forward returning a number of rows other than Σ n_i.
std::vector<Tensor> forward_batch(const std::vector<Tensor>& inputs, const BatchForward& forward);

// NOTE (thread safety): every public member may be called from any number of threads at once.
// One mutex guards the queue and the counters; the forward function runs WITHOUT it, so workers
// run batches in parallel while clients keep submitting. Invariants, under the mutex:
//   - queue_.size() <= max_queue;
//   - a request is either in queue_ or taken by exactly one worker, whose batch sets its promise
//     exactly once (value or exception) — also during and after shutdown();
//   - after stopping_ is set, no request enters queue_.
class DynamicBatcher {
 public:
  // Starts the workers. Errors (ValueError): max_batch_size, max_queue or num_workers below 1,
  // a negative max_wait, an empty forward function.
  DynamicBatcher(BatchForward forward, BatcherOptions options);
  ~DynamicBatcher();  // shutdown()
  DynamicBatcher(const DynamicBatcher&) = delete;
  DynamicBatcher& operator=(const DynamicBatcher&) = delete;

  // Queues `inputs` [n, *sample_shape] (n rows, 1 <= n <= max_batch_size; contiguous or not).
  // Never blocks on the model: answers kQueueFull when the queue is full and kShuttingDown after
  // shutdown() began. Errors (ValueError): a 0-d tensor, n < 1 or n > max_batch_size.
  Submission submit(const Tensor& inputs);

  // Graceful stop: refuses new requests, runs every queued one (their futures all get their
  // answers), then joins the workers. Idempotent; called by the destructor.
  void shutdown();

  [[nodiscard]] BatcherStats stats() const;
  [[nodiscard]] const BatcherOptions& options() const { return options_; }

 private:
  struct Request {
    Tensor inputs;  // [n, *sample_shape]
    std::promise<Tensor> promise;
    std::chrono::steady_clock::time_point enqueued;
  };

  void worker_loop();
  // Under the mutex: waits until a batch is due (full, window over, or stopping), then moves its
  // requests out of queue_. Empty when the batcher stopped with nothing left to run.
  std::vector<Request> take_batch(std::unique_lock<std::mutex>& lock);
  // Without the mutex: one forward call for the batch, its rows handed back to each request.
  void run_batch(std::vector<Request>& batch);

  const BatchForward forward_;
  const BatcherOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;  // a request arrived, or shutdown began
  std::deque<Request> queue_;
  bool stopping_ = false;
  BatcherStats stats_;
  std::vector<std::thread> workers_;
};

}  // namespace tinytorch::deploy
