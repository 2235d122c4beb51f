// Module 20 — the dynamic batcher: requests that arrive within the window run as one forward
// call; a batch never exceeds max_batch_size rows; only requests of the same per-sample shape
// share a batch; a full queue answers kQueueFull at once; shutdown answers every accepted request;
// many client threads each get their own rows back.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "tinytorch/deploy/batcher.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::deploy {
namespace {

using namespace std::chrono_literals;

// A forward function that records the row count of every batch and answers each row with
// (sum of the row's values, row count of its batch): the answer says which batch it ran in.
struct RecordingModel {
  std::mutex mutex;
  std::vector<int64_t> batch_rows;
  std::chrono::milliseconds delay{0};

  BatchForward fn() {
    return [this](const Tensor& x) {
      if (delay.count() > 0) std::this_thread::sleep_for(delay);
      {
        std::lock_guard<std::mutex> lock(mutex);
        batch_rows.push_back(x.size(0));
      }
      const Tensor flat = x.reshape({x.size(0), -1}).to(kFloat32).contiguous();
      Tensor out = empty({x.size(0), 2});
      const int64_t width = flat.size(1);
      for (int64_t r = 0; r < x.size(0); ++r) {
        float s = 0.0f;
        for (int64_t c = 0; c < width; ++c) s += flat.data_ptr<float>()[r * width + c];
        out.data_ptr<float>()[r * 2] = s;
        out.data_ptr<float>()[r * 2 + 1] = static_cast<float>(x.size(0));
      }
      return out;
    };
  }
  std::vector<int64_t> rows() {
    std::lock_guard<std::mutex> lock(mutex);
    return batch_rows;
  }
};

Tensor rows_of(float value, int64_t n, int64_t width = 3) {
  return full({n, width}, value);
}

TEST(PickBatch, OldestFirstSameShapeWithinMaxRows) {
  // A [2,3], B [1,4] (other shape), C [3,3] (too big once A is in: 2+3 > 4), D [1,3], E [1,3].
  const std::vector<Tensor> queued = {rows_of(1, 2), rows_of(1, 1, 4), rows_of(1, 3), rows_of(1, 1),
                                      rows_of(1, 1)};
  EXPECT_EQ(pick_batch(queued, 4), (std::vector<size_t>{0, 3, 4}));
  EXPECT_EQ(pick_batch({rows_of(1, 1, 4), rows_of(1, 2)}, 8), (std::vector<size_t>{0}));
  // Another dtype is another group, whatever the shape.
  EXPECT_EQ(pick_batch({rows_of(1, 1), zeros({1, 3}, kInt64), rows_of(2, 1)}, 8),
            (std::vector<size_t>{0, 2}));
}

TEST(ForwardBatch, ConcatenatesRunsOnceAndSplitsRowsBack) {
  RecordingModel model;
  const std::vector<Tensor> outputs =
      forward_batch({rows_of(1, 2), rows_of(2, 1), rows_of(3, 3)}, model.fn());
  EXPECT_EQ(model.rows(), (std::vector<int64_t>{6}));  // one call, 2 + 1 + 3 rows
  ASSERT_EQ(outputs.size(), 3u);
  EXPECT_EQ(outputs[0].size(0), 2);
  EXPECT_EQ(outputs[1].size(0), 1);
  EXPECT_EQ(outputs[2].size(0), 3);
  EXPECT_FLOAT_EQ(outputs[0].select(0, 1).select(0, 0).item().to<float>(), 3.0f);
  EXPECT_FLOAT_EQ(outputs[1].select(0, 0).select(0, 0).item().to<float>(), 6.0f);
  EXPECT_FLOAT_EQ(outputs[2].select(0, 2).select(0, 0).item().to<float>(), 9.0f);
}

TEST(DynamicBatcher, RequestsWithinTheWindowShareOneBatch) {
  RecordingModel model;
  DynamicBatcher batcher(model.fn(), {.max_batch_size = 16, .max_wait = 200ms});
  std::vector<std::future<Tensor>> futures;
  for (int i = 0; i < 5; ++i) {
    Submission s = batcher.submit(rows_of(static_cast<float>(i), 1));
    ASSERT_TRUE(s.accepted());
    futures.push_back(std::move(s.result));
  }
  for (int i = 0; i < 5; ++i) {
    const Tensor out = futures[static_cast<size_t>(i)].get();
    EXPECT_FLOAT_EQ(out.select(0, 0).select(0, 0).item().to<float>(), 3.0f * static_cast<float>(i))
        << "request " << i << " got another request's answer";
  }
  EXPECT_EQ(model.rows(), (std::vector<int64_t>{5}));
}

TEST(DynamicBatcher, AFullBatchRunsWithoutWaitingForTheWindow) {
  RecordingModel model;
  // A 10 s window: only a full batch (4 rows) can make the batch run during this test.
  DynamicBatcher batcher(model.fn(), {.max_batch_size = 4, .max_wait = 10s});
  std::vector<std::future<Tensor>> futures;
  for (int i = 0; i < 4; ++i) futures.push_back(batcher.submit(rows_of(1, 1)).result);
  const auto start = std::chrono::steady_clock::now();
  for (auto& f : futures) f.get();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(model.rows(), (std::vector<int64_t>{4}));
}

TEST(DynamicBatcher, NoBatchEverExceedsMaxBatchSize) {
  RecordingModel model;
  DynamicBatcher batcher(model.fn(), {.max_batch_size = 4, .max_wait = 50ms});
  std::vector<std::future<Tensor>> futures;
  for (int i = 0; i < 7; ++i) futures.push_back(batcher.submit(rows_of(1, i % 3 + 1)).result);
  for (auto& f : futures) f.get();
  int64_t total = 0;
  for (int64_t r : model.rows()) {
    EXPECT_LE(r, 4);
    total += r;
  }
  EXPECT_EQ(total, 1 + 2 + 3 + 1 + 2 + 3 + 1);
  EXPECT_THROW(batcher.submit(rows_of(1, 5)), ValueError);  // can never fit one batch
}

TEST(DynamicBatcher, OnlySameShapeRequestsShareABatch) {
  RecordingModel model;
  DynamicBatcher batcher(model.fn(), {.max_batch_size = 16, .max_wait = 100ms});
  // GPT-like rows of token ids: lengths 5, 8, 5, 8, 5.
  std::vector<std::future<Tensor>> futures;
  for (int64_t len : {5, 8, 5, 8, 5}) futures.push_back(batcher.submit(rows_of(1, 1, len)).result);
  for (size_t i = 0; i < futures.size(); ++i) {
    const Tensor out = futures[i].get();
    const float expected_sum = i % 2 == 0 ? 5.0f : 8.0f;
    EXPECT_FLOAT_EQ(out.select(0, 0).select(0, 0).item().to<float>(), expected_sum);
    EXPECT_FLOAT_EQ(out.select(0, 0).select(0, 1).item().to<float>(), i % 2 == 0 ? 3.0f : 2.0f)
        << "request " << i << " ran in a batch with the wrong row count";
  }
}

TEST(DynamicBatcher, AFullQueueAnswersQueueFullAtOnce) {
  RecordingModel model;
  model.delay = 300ms;  // the one worker is busy with the first batch while we fill the queue
  DynamicBatcher batcher(model.fn(),
                         {.max_batch_size = 1, .max_wait = 1ms, .max_queue = 2, .num_workers = 1});
  std::future<Tensor> running = batcher.submit(rows_of(1, 1)).result;
  std::this_thread::sleep_for(50ms);  // the worker has taken it
  std::vector<std::future<Tensor>> queued;
  for (int i = 0; i < 2; ++i) {
    Submission s = batcher.submit(rows_of(1, 1));
    ASSERT_TRUE(s.accepted()) << "request " << i << " should fit in the queue of 2";
    queued.push_back(std::move(s.result));
  }
  const auto start = std::chrono::steady_clock::now();
  const Submission refused = batcher.submit(rows_of(1, 1));
  EXPECT_EQ(refused.status, SubmitStatus::kQueueFull);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 100ms) << "back-pressure must not block";
  EXPECT_EQ(batcher.stats().rejected, 1);
  running.get();
  for (auto& f : queued) f.get();  // the accepted ones are all answered
}

TEST(DynamicBatcher, ShutdownAnswersEveryAcceptedRequest) {
  RecordingModel model;
  model.delay = 20ms;
  std::vector<std::future<Tensor>> futures;
  {
    DynamicBatcher batcher(model.fn(), {.max_batch_size = 2, .max_wait = 10s, .max_queue = 64});
    for (int i = 0; i < 9; ++i) futures.push_back(batcher.submit(rows_of(1, 1)).result);
    batcher.shutdown();  // must not wait for the 10 s window, and must run all 9
    EXPECT_EQ(batcher.submit(rows_of(1, 1)).status, SubmitStatus::kShuttingDown);
  }
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(0s), std::future_status::ready);
    EXPECT_FLOAT_EQ(f.get().select(0, 0).select(0, 0).item().to<float>(), 3.0f);
  }
}

TEST(DynamicBatcher, ManyClientThreadsEachGetTheirOwnRows) {
  RecordingModel model;
  DynamicBatcher batcher(model.fn(), {.max_batch_size = 8, .max_wait = 2ms, .num_workers = 2});
  constexpr int kClients = 8, kRequests = 40;
  std::atomic<int> wrong{0}, errors{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kRequests; ++i) {
        const float v = static_cast<float>(c * 1000 + i);
        try {  // an exception must not escape a thread: it would abort the whole test program
          const Tensor out = batcher.submit(rows_of(v, 1)).result.get();
          if (out.select(0, 0).select(0, 0).item().to<float>() != 3.0f * v) ++wrong;
        } catch (const std::exception&) {
          ++errors;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(errors.load(), 0) << "requests answered with an error instead of their rows";
  EXPECT_EQ(wrong.load(), 0);
  const BatcherStats s = batcher.stats();
  EXPECT_EQ(s.requests, kClients * kRequests);
  EXPECT_EQ(s.rows, kClients * kRequests);
  EXPECT_LT(s.batches, kClients * kRequests) << "8 concurrent clients never shared a batch";
}

TEST(DynamicBatcher, AModelErrorReachesEveryRequestOfTheBatch) {
  DynamicBatcher batcher([](const Tensor&) -> Tensor { throw ValueError("model broke"); },
                         {.max_batch_size = 4, .max_wait = 50ms});
  auto a = batcher.submit(rows_of(1, 1)).result;
  auto b = batcher.submit(rows_of(1, 1)).result;
  EXPECT_THROW(a.get(), ValueError);
  EXPECT_THROW(b.get(), ValueError);
}

TEST(DynamicBatcher, ARequestTheModelRefusesFailsAloneNotItsBatch) {
  // The model refuses any negative value (as an embedding refuses a token id past its vocabulary).
  RecordingModel inner;
  BatchForward picky = [&inner](const Tensor& x) {
    if (x.min().item().to<float>() < 0.0f) throw ValueError("negative input");
    return inner.fn()(x);
  };
  DynamicBatcher batcher(picky, {.max_batch_size = 8, .max_wait = 100ms});
  auto good1 = batcher.submit(rows_of(1, 1)).result;
  auto bad = batcher.submit(rows_of(-1, 1)).result;
  auto good2 = batcher.submit(rows_of(2, 2)).result;
  EXPECT_THROW(bad.get(), ValueError);
  EXPECT_FLOAT_EQ(good1.get().select(0, 0).select(0, 0).item().to<float>(), 3.0f);
  EXPECT_FLOAT_EQ(good2.get().select(0, 1).select(0, 0).item().to<float>(), 6.0f);
}

TEST(DynamicBatcher, ZeroWindowRunsEveryRequestAlone) {
  RecordingModel model;
  DynamicBatcher batcher(model.fn(), {.max_batch_size = 8, .max_wait = 0us});
  std::vector<std::future<Tensor>> futures;
  for (int i = 0; i < 6; ++i) futures.push_back(batcher.submit(rows_of(1, 1)).result);
  for (auto& f : futures) f.get();
  EXPECT_EQ(model.rows(), std::vector<int64_t>(6, 1));
}

TEST(DynamicBatcher, BadOptionsAreRefused) {
  RecordingModel model;
  EXPECT_THROW(DynamicBatcher(model.fn(), {.max_batch_size = 0}), ValueError);
  EXPECT_THROW(DynamicBatcher(model.fn(), {.max_queue = 0}), ValueError);
  EXPECT_THROW(DynamicBatcher(model.fn(), {.num_workers = 0}), ValueError);
  EXPECT_THROW(DynamicBatcher(nullptr, {}), ValueError);
}

}  // namespace
}  // namespace tinytorch::deploy
