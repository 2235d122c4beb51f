// Tests for core/parallel.h: the thread-count setting every parallel kernel reads, and
// parallel_for's contract (every index exactly once, small ranges on the calling thread).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

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

TEST_F(ParallelTest, OneChunkPerThreadAtMost) {
  set_num_threads(2);
  const auto chunks = chunks_of(0, 1000, 1);
#ifdef TINYTORCH_HAVE_OPENMP
  // OpenMP may hand out fewer threads than asked for (OMP_THREAD_LIMIT), never more.
  EXPECT_EQ(chunks.size(), omp_get_thread_limit() >= 2 ? 2u : 1u);
#else
  EXPECT_EQ(chunks.size(), 1u);
#endif
  set_num_threads(1);
  EXPECT_EQ(chunks_of(0, 1000, 1).size(), 1u);
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
  // leaving an OpenMP region would terminate the program instead).
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
