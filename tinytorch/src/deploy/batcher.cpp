// Dynamic batching (see tinytorch/deploy/batcher.h).
#include "tinytorch/deploy/batcher.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"

namespace tinytorch::deploy {

namespace {

// Whether two requests may share a batch: the same dtype and the same per-sample shape (every
// size but the first, which counts the request's rows). [[maybe_unused]]: its one caller,
// pick_batch, is a stub in the learner release, and -Werror would refuse an unused function.
[[maybe_unused]] bool same_sample_shape(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.dim() != b.dim()) return false;
  for (int64_t d = 1; d < a.dim(); ++d) {
    if (a.size(d) != b.size(d)) return false;
  }
  return true;
}

}  // namespace

std::vector<size_t> pick_batch(const std::vector<Tensor>& queued, int64_t max_batch_size) {
  // BEGIN SOLUTION
  std::vector<size_t> picked;
  if (queued.empty()) return picked;
  int64_t rows = 0;
  for (size_t i = 0; i < queued.size(); ++i) {
    const Tensor& t = queued[i];
    if (!same_sample_shape(t, queued.front())) continue;
    if (rows + t.size(0) > max_batch_size) continue;
    picked.push_back(i);
    rows += t.size(0);
  }
  return picked;
  // END SOLUTION
}

std::vector<Tensor> forward_batch(const std::vector<Tensor>& inputs, const BatchForward& forward) {
  // BEGIN SOLUTION
  // Concatenate along dim 0: every request is made contiguous and copied row block by row block
  // into one buffer (the requests share dtype and per-sample shape: pick_batch saw to it).
  int64_t total_rows = 0;
  for (const Tensor& t : inputs) total_rows += t.size(0);
  std::vector<int64_t> shape(inputs.front().sizes().begin(), inputs.front().sizes().end());
  shape[0] = total_rows;
  Tensor batch = empty(shape, inputs.front().dtype());
  auto* dst = static_cast<char*>(batch.data_ptr());
  for (const Tensor& t : inputs) {
    const Tensor c = t.contiguous();
    std::memcpy(dst, c.data_ptr(), static_cast<size_t>(c.nbytes()));
    dst += c.nbytes();
  }

  const Tensor outputs = forward(batch);
  TT_CHECK_VALUE(outputs.dim() >= 1 && outputs.size(0) == total_rows,
                 "DynamicBatcher: the forward function returned shape ", outputs.sizes(),
                 " for a batch of ", total_rows, " rows; expected one output row per input row");

  // Split: request i gets rows [offset, offset + n_i) — a view of the batch's output.
  std::vector<Tensor> out;
  out.reserve(inputs.size());
  int64_t offset = 0;
  for (const Tensor& t : inputs) {
    out.push_back(outputs.narrow(0, offset, t.size(0)));
    offset += t.size(0);
  }
  return out;
  // END SOLUTION
}

const char* to_string(SubmitStatus status) {
  switch (status) {
    case SubmitStatus::kAccepted:
      return "accepted";
    case SubmitStatus::kQueueFull:
      return "queue full";
    case SubmitStatus::kShuttingDown:
      return "shutting down";
  }
  return "unknown";
}

DynamicBatcher::DynamicBatcher(BatchForward forward, BatcherOptions options)
    : forward_(std::move(forward)), options_(options) {
  TT_CHECK_VALUE(forward_ != nullptr, "DynamicBatcher: the forward function is empty");
  TT_CHECK_VALUE(options_.max_batch_size >= 1, "DynamicBatcher: max_batch_size must be >= 1, got ",
                 options_.max_batch_size);
  TT_CHECK_VALUE(options_.max_queue >= 1, "DynamicBatcher: max_queue must be >= 1, got ",
                 options_.max_queue);
  TT_CHECK_VALUE(options_.num_workers >= 1, "DynamicBatcher: num_workers must be >= 1, got ",
                 options_.num_workers);
  TT_CHECK_VALUE(options_.max_wait.count() >= 0,
                 "DynamicBatcher: max_wait must be >= 0 microseconds, got ",
                 options_.max_wait.count());
  workers_.reserve(static_cast<size_t>(options_.num_workers));
  for (int64_t i = 0; i < options_.num_workers; ++i)
    workers_.emplace_back([this] { worker_loop(); });
}

DynamicBatcher::~DynamicBatcher() {
  shutdown();
}

Submission DynamicBatcher::submit(const Tensor& inputs) {
  TT_CHECK_VALUE(inputs.dim() >= 1, "DynamicBatcher::submit(): expected inputs [n, ...], got a ",
                 "0-d tensor");
  TT_CHECK_VALUE(inputs.size(0) >= 1 && inputs.size(0) <= options_.max_batch_size,
                 "DynamicBatcher::submit(): a request must have 1 to max_batch_size = ",
                 options_.max_batch_size, " rows, got ", inputs.size(0));
  Submission s;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      s.status = SubmitStatus::kShuttingDown;
      return s;
    }
    if (static_cast<int64_t>(queue_.size()) >= options_.max_queue) {
      s.status = SubmitStatus::kQueueFull;
      ++stats_.rejected;
      return s;
    }
    Request r{inputs, {}, std::chrono::steady_clock::now()};
    s.result = r.promise.get_future();
    queue_.push_back(std::move(r));
    ++stats_.requests;
  }
  wake_.notify_one();
  return s;
}

void DynamicBatcher::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  // The workers drain the queue before they return (take_batch runs what is left at once).
  for (std::thread& w : workers_) {
    if (w.joinable()) w.join();
  }
}

BatcherStats DynamicBatcher::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  BatcherStats s = stats_;
  s.queued = static_cast<int64_t>(queue_.size());
  return s;
}

std::vector<DynamicBatcher::Request> DynamicBatcher::take_batch(
    std::unique_lock<std::mutex>& lock) {
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return {};  // stopping, and nothing left to run

    std::vector<size_t> picked{0};  // no batching: the oldest request alone
    if (options_.max_wait.count() > 0) {
      std::vector<Tensor> queued;
      queued.reserve(queue_.size());
      for (const Request& r : queue_) queued.push_back(r.inputs);
      try {
        picked = pick_batch(queued, options_.max_batch_size);
      } catch (...) {
        // pick_batch failed (in a learner release: not implemented yet). The oldest request
        // gets the error as its answer, so that no caller waits forever on a silent worker.
        Request r = std::move(queue_.front());
        queue_.pop_front();
        r.promise.set_exception(std::current_exception());
        continue;
      }
      TT_CHECK(!picked.empty() && picked.front() == 0,
               "DynamicBatcher: pick_batch must pick the oldest request first");
      int64_t rows = 0;
      for (size_t i : picked) rows += queue_[i].inputs.size(0);
      // Not full yet, and the oldest request may still wait: sleep until its window closes or
      // new requests arrive, then look again. During shutdown nothing waits.
      const auto deadline = queue_.front().enqueued + options_.max_wait;
      if (rows < options_.max_batch_size && !stopping_ &&
          std::chrono::steady_clock::now() < deadline) {
        wake_.wait_until(lock, deadline);
        continue;
      }
    }

    std::vector<Request> batch;
    batch.reserve(picked.size());
    for (size_t i : picked) batch.push_back(std::move(queue_[i]));
    // Erase the taken positions, back to front so that the earlier positions stay valid.
    for (auto it = picked.rbegin(); it != picked.rend(); ++it) {
      queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(*it));
    }
    return batch;
  }
}

void DynamicBatcher::run_batch(std::vector<Request>& batch) {
  std::vector<Tensor> inputs;
  inputs.reserve(batch.size());
  for (const Request& r : batch) inputs.push_back(r.inputs);
  const NoGradGuard no_grad;  // serving is inference: no graph is recorded
  try {
    std::vector<Tensor> outputs = forward_batch(inputs, forward_);
    TT_CHECK(outputs.size() == batch.size(), "DynamicBatcher: forward_batch returned ",
             outputs.size(), " outputs for ", batch.size(), " requests");
    for (size_t i = 0; i < batch.size(); ++i) batch[i].promise.set_value(std::move(outputs[i]));
    return;
  } catch (...) {
    if (batch.size() == 1) {
      batch.front().promise.set_exception(std::current_exception());
      return;
    }
  }
  // One request of the batch may be what the model refused (say a token id past the vocabulary):
  // run each request alone, so that its error reaches only its own caller and the others still
  // get their answers. (A broken model fails them all, one by one.)
  for (Request& r : batch) {
    try {
      std::vector<Tensor> outputs = forward_batch({r.inputs}, forward_);
      TT_CHECK(outputs.size() == 1, "DynamicBatcher: forward_batch returned ", outputs.size(),
               " outputs for 1 request");
      r.promise.set_value(std::move(outputs.front()));
    } catch (...) {
      r.promise.set_exception(std::current_exception());
    }
  }
}

void DynamicBatcher::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    std::vector<Request> batch = take_batch(lock);
    if (batch.empty()) return;
    int64_t rows = 0;
    for (const Request& r : batch) rows += r.inputs.size(0);
    ++stats_.batches;
    stats_.rows += rows;
    lock.unlock();
    run_batch(batch);
    lock.lock();
  }
}

}  // namespace tinytorch::deploy
