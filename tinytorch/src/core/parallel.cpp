// The thread-count setting, and the pool of helper threads behind parallel_team / parallel_for.
//
// Why not OpenMP's team? An OpenMP parallel region ends with a barrier: the calling thread returns
// only after *every* thread of the team has run its part — including a thread that the operating
// system has not given a core yet. On a machine whose cores are busy with other programs that wait
// lasts a scheduler time slice (milliseconds), on every call: the issue that led to this pool
// measured a 2-thread SGEMM at N = 128 at 0.05x the speed of one thread. Here a helper *joins* a
// running call if it arrives in time, claims pieces of work like everyone else, and the caller
// waits only for helpers that joined and are still inside a piece.
//
//   caller (member 0)                        helper
//   -----------------                        ------
//   publish the task, open the team          spins on `generation_` (bounded), then sleeps
//   wake sleeping helpers (one syscall)  ──► wakes; joins if the team is still open and has a
//   run task(0): claim pieces until none        free seat: state_ += 1 joined, +1 active
//   close the team (no one joins after)      run task(member): claim pieces until none
//   wait while active > 0 (spin, then sleep) active -= 1 (wakes the caller if it was the last)
//
// Everything a join decides lives in ONE 32-bit word (`state_`: open flag, seats taken, members
// inside), so "join if open" and "close, then count who is inside" cannot interleave badly: a
// helper is either counted before the team closes, or never gets in.
#include "tinytorch/core/parallel.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#ifdef TINYTORCH_HAVE_OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "tinytorch/core/exception.h"

namespace tinytorch {

namespace {
int default_num_threads() {
  if (const char* env = std::getenv("TINYTORCH_NUM_THREADS"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    TT_CHECK_VALUE(end != env && *end == '\0' && n >= 1 && n <= 1024,
                   "TINYTORCH_NUM_THREADS must be a whole number from 1 to 1024, got '", env, "'");
    return static_cast<int>(n);
  }
#ifdef TINYTORCH_HAVE_OPENMP
  return omp_get_max_threads();
#else
  return static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
#endif
}

std::atomic<int> g_num_threads{0};  // 0 = not decided yet

thread_local bool t_in_team = false;  // this thread is running a team's task

std::atomic<void (*)()> g_before_join_hook{nullptr};

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// How long a thread spins before it sleeps, when it waits for the next task (a helper) or for the
// helpers still inside this one (the caller). Spinning keeps a helper awake between the many
// short parallel calls of one training step (waking a sleeping thread costs ~15-30 us); sleeping
// gives the core back. Bounded, so a busy machine loses little per wait.
constexpr auto kHelperSpin = std::chrono::microseconds(100);
constexpr auto kCallerSpin = std::chrono::microseconds(20);
// Looks at the flag with a pause instruction in between this many times, then yields the core
// between looks: if the OS has put another thread on this core — the one being waited for, or
// another program — it runs now, not after this thread's time slice (milliseconds). On an idle
// core a yield returns at once, so a spinning helper still sees a new task within a microsecond.
constexpr int kPausingLooks = 64;

using Clock = std::chrono::steady_clock;
constexpr Clock::duration kStallFloor = std::chrono::microseconds(20);
constexpr Clock::duration kFirstAlone = std::chrono::milliseconds(2);
constexpr Clock::duration kMaxAlone = std::chrono::milliseconds(256);
constexpr int kMaxMisses = 4;

// Time member 0 spent inside the task waiting for pieces other members claimed (add_waiting_time).
thread_local Clock::duration t_waited{};

// Spins until ready() or `budget` has passed; true when ready() held.
template <typename F>
bool spin_for(std::chrono::microseconds budget, const F& ready) {
  const auto until = std::chrono::steady_clock::now() + budget;
  for (int looks = 0;; ++looks) {
    if (ready()) return true;
    if (looks < kPausingLooks) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
    // Reading the clock costs ~20 ns: do it every 16 looks.
    if (looks % 16 == 15 && std::chrono::steady_clock::now() >= until) return false;
  }
}

class Pool {
 public:
  static Pool& get() {
    static Pool pool;
    return pool;
  }

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  ~Pool() {
    stop_.store(true);
    generation_.fetch_add(1);
    generation_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  int helpers() const { return started_.load(); }

  // Testing: forget past stalls, and make every helper pass by the before-join hook now.
  void reset_for_testing() {
    while (busy_.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
    alone_until_ = Clock::time_point{};
    alone_for_ = Clock::duration::zero();
    misses_ = 0;
    busy_.clear(std::memory_order_release);
    generation_.fetch_add(1);
    generation_.notify_all();
  }

  void run(int max_members, detail::TeamTask task) {
    // One team at a time: a second caller (another user thread) runs alone rather than wait.
    if (max_members <= 1 || t_in_team || busy_.test_and_set(std::memory_order_acquire)) {
      run_alone(task);
      return;
    }
    struct Release {
      std::atomic_flag& busy;
      ~Release() { busy.clear(std::memory_order_release); }
    } release{busy_};

    const auto helpers = static_cast<uint32_t>(std::min(max_members - 1, kMaxHelpers));
    while (threads_.size() < helpers) {
      threads_.emplace_back([this] { helper_loop(); });
      started_.fetch_add(1);
    }
    const Clock::time_point start = Clock::now();
    if (start < alone_until_) {  // helpers have been holding calls up: see note_stall
      run_alone(task);
      return;
    }
    task_ = task;
    error_ = nullptr;
    seats_ = helpers;
    state_.store(kOpen, std::memory_order_release);  // joined 0, active 0
    // NOTE: seq_cst on both sides (here and in wait_for_task) so that either this thread sees a
    // sleeper and wakes it, or the sleeper sees the new generation and does not sleep.
    generation_.fetch_add(1);
    const bool woke = sleepers_.load() > 0;
    if (woke) generation_.notify_all();

    t_waited = Clock::duration::zero();
    run_member(0);
    const Clock::time_point own_done = Clock::now();

    // Close the team and wait for the members inside it.
    uint32_t s = state_.fetch_and(~kOpen, std::memory_order_acq_rel) & ~kOpen;
    const bool helped = joined(s) > 0;
    if (active(s) != 0 && !spin_for(kCallerSpin, [&] {
          return active(s = state_.load(std::memory_order_acquire)) == 0;
        })) {
      while (active(s) != 0) {
        state_.wait(s, std::memory_order_acquire);
        s = state_.load(std::memory_order_acquire);
      }
    }
    if (helped) {
      misses_ = 0;
      const Clock::time_point end = Clock::now();
      const Clock::duration waited = (end - own_done) + t_waited;
      if (waited > std::max<Clock::duration>(kStallFloor, (own_done - start) - t_waited)) {
        note_stall(end);
      }
    } else if (woke && ++misses_ == kMaxMisses) {
      // Woken helpers that never make it in time cost the caller a system call per call.
      misses_ = 0;
      note_stall(Clock::now());
    }
    if (error_) std::rethrow_exception(error_);
  }

 private:
  Pool() = default;

  // state_: bit 31 = the team is open; bits 16-30 = seats taken; bits 0-15 = members inside.
  static constexpr uint32_t kOpen = 1U << 31, kJoined = 1U << 16, kActiveMask = kJoined - 1;
  static constexpr int kMaxHelpers = 1023;  // TINYTORCH_NUM_THREADS is at most 1024
  static uint32_t active(uint32_t s) { return s & kActiveMask; }
  static uint32_t joined(uint32_t s) { return (s & ~kOpen) >> 16; }

  // A call "stalled" when its caller waited for members longer than it worked itself (and more
  // than kStallFloor): the call then took about as long as the caller alone would have, or longer
  // — a helper that joined was taken off its core by the OS in the middle of a piece. On a busy
  // machine that happens again and again, each time costing a scheduler time slice (ms). So after
  // a stall the pool runs calls on the caller alone for a while, then tries its helpers again:
  // 2 ms after a stall that comes out of the blue, twice as long as last time (up to 256 ms) when
  // the helpers stall again within as long as the pool last ran alone after it tried them again —
  // the machine is busy. kMaxMisses calls in a row that had to wake sleeping helpers (a futex
  // system call, microseconds) and that no helper joined in time count as a stall too: the OS is
  // not giving the helpers a core.
  // NOTE: a quiet machine stalls too, rarely: a virtual machine's vCPU is paused by its host now
  // and then. Measured on a quiet 2-vCPU VM (784→256 int8 Linear at batch 128, 34 µs pieces): 8
  // stalls in 2,000 calls. When any stall within a second doubled the time alone, those 8 made
  // the calls run alone about half the time (a 2-thread median equal to 1 thread's); now each
  // costs 2 ms alone.
  void note_stall(Clock::time_point now) {
    const bool again = now - alone_until_ < alone_for_;
    alone_for_ = again ? std::min<Clock::duration>(2 * alone_for_, kMaxAlone) : kFirstAlone;
    alone_until_ = now + alone_for_;
  }

  static void run_alone(detail::TeamTask task) {
    const bool outer = t_in_team;
    t_in_team = true;
    try {
      task.run(task.context, 0);
    } catch (...) {
      t_in_team = outer;
      throw;
    }
    t_in_team = outer;
  }

  // Runs the task as `member`; an exception is kept for the caller (the first one wins).
  void run_member(int member) {
    t_in_team = true;
    try {
      task_.run(task_.context, member);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    t_in_team = false;
  }

  void helper_loop() {
    for (;;) {
      const uint32_t seen = generation_.load(std::memory_order_acquire);
      if (stop_.load()) return;
      if (void (*hook)() = g_before_join_hook.load(); hook != nullptr) hook();
      try_join();
      wait_for_task(seen);
    }
  }

  // Joins the open team if it has a free seat, runs the task, leaves.
  void try_join() {
    uint32_t s = state_.load(std::memory_order_relaxed);
    do {
      if ((s & kOpen) == 0 || joined(s) >= seats_.load(std::memory_order_relaxed)) return;
    } while (!state_.compare_exchange_weak(s, s + kJoined + 1, std::memory_order_acquire,
                                           std::memory_order_relaxed));
    run_member(static_cast<int>(joined(s)) + 1);
    // The last member out of a closed team wakes the caller.
    const uint32_t before = state_.fetch_sub(1, std::memory_order_acq_rel);
    if (active(before) == 1 && (before & kOpen) == 0) state_.notify_one();
  }

  // Returns once generation_ differs from `seen`: spinning first, then asleep.
  void wait_for_task(uint32_t seen) {
    if (spin_for(kHelperSpin,
                 [&] { return generation_.load(std::memory_order_acquire) != seen; })) {
      return;
    }
    sleepers_.fetch_add(1);
    generation_.wait(seen);
    sleepers_.fetch_sub(1);
  }

  // Owned by the caller that owns the team (busy_): see note_stall.
  Clock::time_point alone_until_{};
  Clock::duration alone_for_{};
  int misses_ = 0;  // calls in a row that woke sleeping helpers and none joined

  std::atomic_flag busy_ = ATOMIC_FLAG_INIT;  // a caller owns the team
  std::vector<std::thread> threads_;          // grown by the caller that owns the team
  detail::TeamTask task_{};
  std::atomic<uint32_t> seats_{0};  // helpers the current team takes
  std::atomic<uint32_t> state_{0};
  std::atomic<uint32_t> generation_{0};  // +1 per team: what idle helpers watch
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> started_{0};  // threads_.size(), readable by any thread
  std::mutex error_mutex_;
  std::exception_ptr error_;
};
}  // namespace

void set_num_threads(int n) {
  g_num_threads.store(n > 0 ? n : default_num_threads());
}

int get_num_threads() {
  int n = g_num_threads.load();
  if (n == 0) {
    n = default_num_threads();
    g_num_threads.store(n);
  }
  return n;
}

bool in_parallel_region() {
  return t_in_team;
}

namespace detail {

void run_team(int max_members, TeamTask task) {
  Pool::get().run(max_members, task);
}

void add_waiting_time(std::chrono::nanoseconds waited) {
  t_waited += std::chrono::duration_cast<Clock::duration>(waited);
}

void set_before_join_hook_for_testing(void (*hook)()) {
  g_before_join_hook.store(hook);
  Pool::get().reset_for_testing();
}

int helper_threads() {
  return Pool::get().helpers();
}

}  // namespace detail

}  // namespace tinytorch
