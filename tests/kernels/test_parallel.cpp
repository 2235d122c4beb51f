// Tests for core/parallel.h: the thread-count setting every parallel kernel reads, parallel_for's
// contract (every index exactly once, small ranges on the calling thread), and the team behind it
// (helpers that never start or arrive late must not hold up or break a call).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "held_helpers.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/core/parallel.h"

namespace tinytorch {
namespace {

// Restores the default thread count and TINYTORCH_NUM_THREADS after each test.
class ParallelTest : public ::testing::Test {
 protected:
  void TearDown() override {
    unsetenv("TINYTORCH_NUM_THREADS");
    set_num_threads(0);
  }
};

TEST_F(ParallelTest, SetNumThreadsAndRestoreDefault) {
  set_num_threads(3);
  EXPECT_EQ(get_num_threads(), 3);
  set_num_threads(0);
  EXPECT_GE(get_num_threads(), 1);
}

TEST_F(ParallelTest, EnvironmentVariableSetsTheDefault) {
  setenv("TINYTORCH_NUM_THREADS", "5", /*overwrite=*/1);
  set_num_threads(0);  // re-reads the default
  EXPECT_EQ(get_num_threads(), 5);
  set_num_threads(2);  // the API call wins over the environment
  EXPECT_EQ(get_num_threads(), 2);
}

TEST_F(ParallelTest, BadEnvironmentVariableIsAValueError) {
  for (const char* bad : {"0", "-1", "two", "2x", "100000"}) {
    setenv("TINYTORCH_NUM_THREADS", bad, /*overwrite=*/1);
    EXPECT_THROW(set_num_threads(0), ValueError) << "TINYTORCH_NUM_THREADS=" << bad;
  }
}

// Runs parallel_for over [begin, end) and returns the chunks it was called with.
std::vector<std::pair<int64_t, int64_t>> chunks_of(int64_t begin, int64_t end, int64_t grain) {
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> chunks;
  parallel_for(begin, end, grain, [&](int64_t b, int64_t e) {
    const std::lock_guard<std::mutex> lock(mutex);
    chunks.emplace_back(b, e);
  });
  return chunks;
}

TEST_F(ParallelTest, EveryIndexRunsExactlyOnce) {
  for (const int threads : {1, 2, 3, 7}) {
    set_num_threads(threads);
    for (const int64_t n : {0, 1, 2, 5, 64, 1000, 1001}) {
      for (const int64_t grain : {0, 1, 10, 100}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n) + 3);
        parallel_for(3, 3 + n, grain, [&](int64_t b, int64_t e) {
          ASSERT_LE(3, b);
          ASSERT_LT(b, e);
          ASSERT_LE(e, 3 + n);
          for (int64_t i = b; i < e; ++i) ++hits[static_cast<size_t>(i)];
        });
        for (int64_t i = 0; i < n + 3; ++i) {
          EXPECT_EQ(hits[static_cast<size_t>(i)].load(), i < 3 ? 0 : 1)
              << "index " << i << ", n=" << n << ", grain=" << grain << ", threads=" << threads;
        }
      }
    }
  }
}

TEST_F(ParallelTest, SmallRangesRunOnTheCallingThreadInOneChunk) {
  set_num_threads(2);
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  parallel_for(0, 100, /*grain_size=*/100, [&](int64_t b, int64_t e) {
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 100);
    ran_on = std::this_thread::get_id();
  });
  EXPECT_EQ(ran_on, caller);
}

TEST_F(ParallelTest, AtMostFourChunksPerThreadAndNoMoreThanRangeOverGrain) {
  // Chunks are claimed from a counter, so there may be more than threads (a thread that is done
  // takes the next one), but never more than kChunksPerThread per thread, nor more than
  // ceil(n / grain_size): on average a chunk holds at least the grain.
  set_num_threads(2);
  for (const auto& [n, grain] :
       {std::pair<int64_t, int64_t>{1000, 1}, {1000, 300}, {1000, 999}, {7, 1}, {100000, 4096}}) {
    const auto chunks = chunks_of(0, n, grain);
    EXPECT_LE(chunks.size(), static_cast<size_t>(2 * detail::kChunksPerThread))
        << n << " " << grain;
    EXPECT_LE(chunks.size(), static_cast<size_t>((n + grain - 1) / grain)) << n << " " << grain;
    EXPECT_GE(chunks.size(), 2u) << n << " " << grain;
    int64_t total = 0;
    for (const auto& [b, e] : chunks) total += e - b;
    EXPECT_EQ(total, n);
  }
  set_num_threads(1);
  EXPECT_EQ(chunks_of(0, 1000, 1).size(), 1u);
}

TEST_F(ParallelTest, TeamMembersAreNumberedFromTheCallerInTheOrderTheyJoin) {
  set_num_threads(3);
  for (int repeat = 0; repeat < 50; ++repeat) {
    std::mutex mutex;
    std::set<int> members;
    std::thread::id member0;
    parallel_team(3, [&](int member) {
      EXPECT_TRUE(in_parallel_region());
      const std::lock_guard<std::mutex> lock(mutex);
      EXPECT_TRUE(members.insert(member).second) << "member " << member << " ran twice";
      if (member == 0) member0 = std::this_thread::get_id();
    });
    ASSERT_TRUE(members.count(0)) << "the caller is always member 0";
    EXPECT_EQ(member0, std::this_thread::get_id());
    EXPECT_LE(*members.rbegin(), 2);
    EXPECT_EQ(*members.rbegin() + 1, static_cast<int>(members.size())) << "numbered 0, 1, ...";
  }
  EXPECT_FALSE(in_parallel_region());
}

// The regression test of issue 16: on a busy machine the OS may not give a helper a core for
// milliseconds. The call must not wait for it: the caller runs every chunk itself.
TEST_F(ParallelTest, AHelperThatNeverStartsDoesNotHoldUpTheCall) {
  for (const int threads : {2, 3}) {
    set_num_threads(threads);
    const testing::HeldHelpers held(threads - 1);
    std::vector<std::atomic<int>> hits(1000);
    std::set<std::thread::id> ran_on;
    std::mutex mutex;
    parallel_for(0, 1000, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) ++hits[static_cast<size_t>(i)];
      const std::lock_guard<std::mutex> lock(mutex);
      ran_on.insert(std::this_thread::get_id());
    });
    for (size_t i = 0; i < hits.size(); ++i) ASSERT_EQ(hits[i].load(), 1) << "index " << i;
    EXPECT_EQ(ran_on, std::set<std::thread::id>{std::this_thread::get_id()});
  }
}

TEST_F(ParallelTest, HelpersArrivingLateStillRunEveryIndexOnce) {
  const testing::LateHelpers late;
  for (const int threads : {2, 3}) {
    set_num_threads(threads);
    for (int repeat = 0; repeat < 200; ++repeat) {
      std::vector<std::atomic<int>> hits(4096);
      parallel_for(0, 4096, 64, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) ++hits[static_cast<size_t>(i)];
      });
      for (size_t i = 0; i < hits.size(); ++i) ASSERT_EQ(hits[i].load(), 1) << "index " << i;
    }
  }
}

// A helper stopped in the middle of a piece makes the pool run calls alone for a while (see
// note_stall in core/parallel.cpp). On a quiet virtual machine that happens now and then — the
// host pauses a vCPU — and such lone stalls must not add up: each costs a short time alone,
// however many came before. Here seven stalls, each forced once the pool has gone back to its
// helpers. (When every stall less than a second after the last doubled the time alone, the
// seventh kept the caller alone for 128 ms.)
TEST_F(ParallelTest, LoneStallsDoNotAddUp) {
  using Clock = std::chrono::steady_clock;
  set_num_threads(2);
  detail::set_before_join_hook_for_testing(nullptr);  // forget earlier tests' stalls
  // One team of 2; true when a helper joined. With `stall`, the helper that joins sleeps 5 ms in
  // its piece while the caller has nothing left to do: the caller waits far longer than it worked.
  const auto call = [](bool stall) {
    std::atomic<bool> joined{false};
    parallel_team(2, [&](int member) {
      if (member == 0) {
        const Clock::time_point until = Clock::now() + std::chrono::milliseconds(2);
        while (!joined.load() && Clock::now() < until) std::this_thread::yield();
      } else {
        joined.store(true);
        if (stall) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    return joined.load();
  };
  // Forces one stall, then returns how long the calls ran alone after it.
  const auto time_alone_after_a_stall = [&] {
    while (!call(/*stall=*/true)) {
    }
    const Clock::time_point stalled = Clock::now();
    while (!call(/*stall=*/false)) {
    }
    return Clock::now() - stalled;
  };
  for (int i = 0; i < 6; ++i) time_alone_after_a_stall();
  EXPECT_LT(time_alone_after_a_stall(), std::chrono::milliseconds(60));
}

TEST_F(ParallelTest, CallsFromSeveralThreadsAtOnce) {
  // One team at a time: a second user thread that finds the pool busy runs its call alone.
  set_num_threads(2);
  std::vector<std::thread> callers;
  std::atomic<int64_t> sum{0};
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int repeat = 0; repeat < 200; ++repeat) {
        parallel_for(0, 1000, 10, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) sum += i;
        });
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(sum.load(), int64_t{4} * 200 * (999 * 1000 / 2));
}

TEST_F(ParallelTest, NestedCallsRunSerially) {
  set_num_threads(2);
  std::atomic<int> inner_chunks{0};
  parallel_for(0, 2, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      parallel_for(0, 1000, 1, [&](int64_t, int64_t) { ++inner_chunks; });
    }
  });
  EXPECT_EQ(inner_chunks.load(), 2) << "each nested parallel_for must be a single chunk";
}

TEST_F(ParallelTest, AnExceptionInAnyChunkIsRethrownOnTheCallingThread) {
  // Whichever thread runs the chunk that throws, the caller gets the exception (an exception
  // leaving a helper thread would terminate the program instead).
  set_num_threads(2);
  for (const int64_t bad : {int64_t{0}, int64_t{999}}) {  // in the first chunk, and in the last
    EXPECT_THROW(parallel_for(0, 1000, 1,
                              [&](int64_t b, int64_t e) {
                                for (int64_t i = b; i < e; ++i) {
                                  if (i == bad) throw ValueError("bad item");
                                }
                              }),
                 ValueError);
  }
}

}  // namespace
}  // namespace tinytorch
