// Module 19 — the Timer: the block size is the smallest that makes a block last long enough for
// the clock (checked with simulated clocks, exactly); a real measurement has its blocks, its
// statistics and the machine it ran on.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "support/reference.h"
#include "tinytorch/benchmark/timer.h"
#include "tinytorch/core/parallel.h"

namespace tinytorch::benchmark {
namespace {

// A simulated clock: a block of n calls takes n · cost seconds. Counts the trials.
struct FakeClock {
  double cost;
  int trials = 0;
  double operator()(int64_t n) {
    ++trials;
    return static_cast<double>(n) * cost;
  }
};

TEST(BlockSize, SmallestBlockThatLastsLongEnough) {
  for (const double cost : {1e-9, 3e-7, 2e-5, 1e-3, 0.5}) {
    SCOPED_TRACE(cost);
    FakeClock clock{cost};
    const int64_t n = choose_block_size(std::ref(clock), 1e-3);
    const auto needed = static_cast<int64_t>(std::ceil(1e-3 / cost - 1e-9));  // the least n
    EXPECT_GE(static_cast<double>(n) * cost, 1e-3);
    EXPECT_LE(n, std::max<int64_t>(1, needed + needed / 4));  // within 25% of the least
    EXPECT_LE(clock.trials, 12);                              // grows fast: not one trial per n
  }
}

// A clock coarser than the block (reads 0 below 1 ms of work): grow tenfold until it ticks.
TEST(BlockSize, CoarseClockReadingZeroStillGrows) {
  int trials = 0;
  const int64_t n = choose_block_size(
      [&](int64_t calls) {
        ++trials;
        const double t = static_cast<double>(calls) * 1e-6;
        return t < 1e-3 ? 0.0 : std::floor(t * 1e3) / 1e3;
      },
      2e-3);
  EXPECT_GE(static_cast<double>(n) * 1e-6, 2e-3);
  EXPECT_LE(n, 10000);
  EXPECT_LE(trials, 8);
}

TEST(BlockSize, BadArgumentsAndAnEmptyCallableAreErrors) {
  TT_EXPECT_THROW_WITH(choose_block_size([](int64_t) { return 1.0; }, 0.0), ValueError,
                       "min_block_seconds must be > 0");
  TT_EXPECT_THROW_WITH(choose_block_size([](int64_t) { return 0.0; }, 1e-3), Error,
                       "is the timed callable doing anything");
}

TEST(Timer, BlockedAutorangeMeasuresBlocksWithTheirStatisticsAndMachine) {
  volatile double sink = 0;
  Timer timer(
      [&] {
        double s = 0;
        for (int i = 0; i < 200; ++i) s += std::sqrt(static_cast<double>(i));
        sink = s;
      },
      "sqrt loop");
  const Measurement m = timer.blocked_autorange(0.02);
  EXPECT_GE(static_cast<int64_t>(m.samples.size()), Timer::kMinBlocks);
  EXPECT_GE(m.number_per_run, 1);
  EXPECT_LE(m.min, m.median);
  EXPECT_LE(m.median, m.max);
  EXPECT_TRUE(m.median_ci.contains(m.median));
  EXPECT_GE(m.iqr, 0.0);
  EXPECT_NEAR(m.percentile(50), m.median, 0.0);
  // A block lasted about as long as asked (the chosen size reached 100 µs once; later blocks run
  // at about the same speed, so 1/4 of it is a bound no scheduler hiccup breaks downward).
  EXPECT_GT(m.median * static_cast<double>(m.number_per_run), Timer::kMinBlockSeconds / 4);
  EXPECT_EQ(m.label, "sqrt loop");
  EXPECT_NE(m.describe().find("sqrt loop: median "), std::string::npos) << m.describe();
  EXPECT_NE(m.describe().find("95% CI"), std::string::npos);

  const MachineInfo& info = m.machine;
  EXPECT_TRUE(info.isa == "DEFAULT" || info.isa == "AVX2" || info.isa == "AVX512") << info.isa;
  EXPECT_EQ(info.threads, get_num_threads());
  EXPECT_GE(info.load_average, 0.0);  // Linux: /proc/loadavg
  EXPECT_GE(info.runnable, 1);        // at least this process
  EXPECT_FALSE(info.cpu_model.empty());
  EXPECT_NE(info.clock.find("steady_clock"), std::string::npos);
  EXPECT_NE(info.describe().find(info.isa), std::string::npos);
}

TEST(Timer, TimeitAndRepeatTimeTheRequestedCalls) {
  int64_t calls = 0;
  Timer timer([&] { ++calls; });
  const Measurement one = timer.timeit(100);
  EXPECT_EQ(calls, 101);  // one warm-up call, then the block
  EXPECT_EQ(one.samples.size(), 1u);
  EXPECT_EQ(one.number_per_run, 100);
  calls = 0;
  const Measurement m = timer.repeat(5, 10, 3);
  EXPECT_EQ(calls, 53);
  EXPECT_EQ(m.samples.size(), 5u);
  TT_EXPECT_THROW_WITH(timer.repeat(0, 10), ValueError, "repeats >= 1");
  TT_EXPECT_THROW_WITH(timer.blocked_autorange(-1.0), ValueError, "min_run_time");
  TT_EXPECT_THROW_WITH(Timer(std::function<void()>{}), ValueError, "empty function");
}

}  // namespace
}  // namespace tinytorch::benchmark
