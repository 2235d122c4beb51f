// tinytorch/core/parallel.h — how many threads kernels may use, and the two ways to use them.
//
//   set_num_threads(2);                       // or: TINYTORCH_NUM_THREADS=2 ./program
//   parallel_for(0, rows, /*grain_size=*/64, [&](int64_t begin, int64_t end) {
//     for (int64_t r = begin; r < end; ++r) { ... }
//   });
//
// parallel_for splits [begin, end) into contiguous chunks and runs them on a team of threads —
// but only when the range holds more than grain_size items: below that, waking threads costs
// more than it saves, so small tensors run on the calling thread (at::parallel_for has the same
// signature and the same rule). There are at most ceil((end - begin) / grain_size) chunks.
//
// The team (parallel_team, below) is the library's own thread pool, not OpenMP's: its helpers
// *claim* chunks from a shared counter, and the calling thread never waits for a helper that has
// not started. On a busy machine the operating system may leave a helper waiting for a core for
// milliseconds; the caller then simply runs that helper's chunks itself (see "Threads that the OS
// takes away" in docs/ARCHITECTURE.md, and chapter 18).
//
// An exception thrown by f on any thread is rethrown by parallel_for on the calling thread (the
// first one, if several chunks throw), as at::parallel_for does.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace tinytorch {

// Threads used by every parallel kernel (the fast GEMM, element-wise ops, reductions). Defaults to
// TINYTORCH_NUM_THREADS if set, else the number of hardware threads (OpenMP's count where the
// build has OpenMP, which honours OMP_NUM_THREADS). n <= 0 restores that default.
void set_num_threads(int n);
int get_num_threads();

// True while running inside parallel_team or parallel_for (nested calls then run serially).
bool in_parallel_region();

namespace detail {

// A borrowed callable, run(context, member): what parallel_team hands to the pool.
struct TeamTask {
  void (*run)(const void* context, int member);
  const void* context;
};

// parallel_team's implementation (core/parallel.cpp).
void run_team(int max_members, TeamTask task);

// A task that waits inside itself for pieces other members claimed (the fast GEMM: a block of C
// whose earlier rank-KC update another member is still computing) reports the time here, so that
// the team can tell a call its helpers held up (see "stalls" in core/parallel.cpp).
void add_waiting_time(std::chrono::nanoseconds waited);

// Testing only: when set, every helper thread calls hook() just before it tries to join a team.
// A test blocks in it to play a thread that the operating system has not scheduled yet, or sleeps
// in it to make a helper arrive late. nullptr (the default) removes it. Setting it also wakes
// every helper (so each passes by the new hook at once) and makes the pool forget past stalls.
void set_before_join_hook_for_testing(void (*hook)());

// The helper threads the pool has started so far (it starts them on demand, and keeps them).
int helper_threads();

// parallel_for cuts a range into up to this many chunks per thread: a thread that finishes early
// (or a core that runs faster) takes more of them, and a helper that joins late still finds some.
inline constexpr int64_t kChunksPerThread = 4;

}  // namespace detail

// Runs f(member) on the calling thread (member 0) and on up to max_members - 1 helper threads of
// the library's pool (members 1, 2, ... in the order they join), and returns once f has returned
// on every member that joined. An exception from any member is rethrown here (the first one).
//
// NOTE: a helper joins only while the calling thread is still inside f(0). When f(0) returns, the
// team is closed: helpers that wake up later do nothing. So f must let member 0 alone finish all
// the work — members share it by *claiming* pieces (atomic counters), never by a fixed assignment
// in which a piece waits for one particular member. Then a helper that the OS has not scheduled
// costs nothing: its pieces are taken by whoever is running.
//
// Runs f(0) alone when max_members <= 1, inside another team, or when another thread's team is
// using the pool right now.
template <typename F>
void parallel_team(int max_members, const F& f) {
  detail::run_team(
      max_members,
      {[](const void* context, int member) { (*static_cast<const F*>(context))(member); }, &f});
}

template <typename F>
void parallel_for(int64_t begin, int64_t end, int64_t grain_size, const F& f) {
  if (begin >= end) return;
  const int64_t n = end - begin;
  const int threads = get_num_threads();
  if (threads <= 1 || n <= grain_size || in_parallel_region()) {
    f(begin, end);
    return;
  }
  // At most kChunksPerThread chunks per thread, and no more than n / grain (rounded up), claimed
  // in order.
  const int64_t grain = std::max<int64_t>(grain_size, 1);
  const int64_t max_chunks =
      std::min<int64_t>(threads * detail::kChunksPerThread, (n + grain - 1) / grain);
  const int64_t per_chunk = (n + max_chunks - 1) / max_chunks;
  const int64_t chunks = (n + per_chunk - 1) / per_chunk;
  std::atomic<int64_t> next{0};
  parallel_team(static_cast<int>(std::min<int64_t>(threads, chunks)), [&](int /*member*/) {
    for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;) {
      const int64_t b = begin + c * per_chunk;
      f(b, std::min(end, b + per_chunk));
    }
  });
}

}  // namespace tinytorch
