// tinytorch/benchmark/timer.h — timing a C++ callable honestly (module 19), in the spirit of
// torch.utils.benchmark.Timer:
//
//   benchmark::Timer timer([&] { y = matmul(a, b); }, "matmul 256");
//   benchmark::Measurement m = timer.blocked_autorange(/*min_run_time=*/0.2);
//   std::cout << m.describe() << "\n";   // "matmul 256: median 1.23 ms [1.21, 1.25] ..., 0
//   outliers"
//
//   time ─►  warm-up │ block │ block │ block │ ... │ block │   (until min_run_time has passed)
//                    └ n calls, one clock read at each end: one sample = block time / n
//
// A sample is the time of a BLOCK of n calls divided by n, n chosen so that a block lasts long
// enough that reading the clock (tens of ns) and its granularity are negligible. The samples then
// go through stats.h: median, percentiles, IQR, a bootstrap CI of the median, Tukey's outliers —
// and every Measurement carries the machine it ran on and how busy that machine was.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tinytorch/benchmark/stats.h"

namespace tinytorch::benchmark {

// Where and under what conditions a measurement ran; read just before it started.
struct MachineInfo {
  std::string cpu_model;     // /proc/cpuinfo's "model name"; "unknown" elsewhere
  std::string isa;           // kernels::get_cpu_capability(): "DEFAULT", "AVX2" or "AVX512"
  int threads = 0;           // tinytorch::get_num_threads()
  double load_average = -1;  // 1-minute load average (/proc/loadavg); -1 if unknown
  int64_t runnable = -1;     // processes runnable at that moment, this one included; -1 if unknown
  std::string clock;         // "steady_clock (kernel clocksource: tsc)"
  std::string commit;        // $TINYTORCH_COMMIT, else "unknown"

  // One line: "AMD EPYC 7B13, AVX2, 1 thread(s), load 0.52, 2 runnable, steady_clock (...), commit
  // …"
  [[nodiscard]] std::string describe() const;
};

MachineInfo machine_info();

// /proc/cpuinfo's first "model name"; "unknown" where there is none (the labs print it too).
std::string cpu_model();

// The samples of one benchmark and their statistics (seconds per call).
struct Measurement {
  std::string label;
  std::vector<double> samples;  // seconds per call, one per block, in run order
  int64_t number_per_run = 1;   // calls per block
  double mean = 0, median = 0, min = 0, max = 0;
  double iqr = 0;            // percentile(75) − percentile(25)
  Interval median_ci;        // bootstrap CI of the median
  double confidence = 0.95;  // of median_ci
  Outliers outliers;         // Tukey's fences, k = 1.5
  MachineInfo machine;

  // The q-th percentile (0..100) of the samples.
  [[nodiscard]] double percentile(double q) const;
  // "label: median 1.23 ms [1.21, 1.25] (95% CI), IQR 0.04 ms, min 1.19 ms, 40 blocks × 8 calls,
  //  2 outliers"
  [[nodiscard]] std::string describe() const;
};

// The statistics of samples (seconds per call). Errors: as bootstrap_median_ci.
Measurement summarize(std::string label, std::vector<double> samples, int64_t number_per_run,
                      const BootstrapOptions& options = {});

// The number of calls per block: the smallest n (within about 25%) for which time_block(n), the
// measured seconds of n calls in a row, reaches min_block_seconds. Grows n at most tenfold per
// trial (the first calls may be slow, a coarse clock may read 0). Errors: min_block_seconds <= 0
// or NaN; n past 2^40 without reaching it (a callable that takes no time at all).
int64_t choose_block_size(const std::function<double(int64_t)>& time_block,
                          double min_block_seconds);

// Times a callable. The callable must do the same work every call.
class Timer {
 public:
  explicit Timer(std::function<void()> stmt, std::string label = "");

  // One block of `number` calls after one warm-up call: a single sample (torch's timeit).
  Measurement timeit(int64_t number);
  // `repeats` blocks of `number` calls each, after `warmup` untimed calls.
  Measurement repeat(int64_t repeats, int64_t number, int64_t warmup = 1);
  // torch's blocked_autorange: warm-up calls for about a tenth of min_run_time, a block size
  // from choose_block_size (blocks of at least kMinBlockSeconds and min_run_time / 100), then
  // blocks until min_run_time has passed and at least kMinBlocks were timed.
  Measurement blocked_autorange(double min_run_time = 0.2);

  static constexpr double kMinBlockSeconds = 1e-4;  // 100 µs: ~4000 clock reads' worth
  static constexpr int64_t kMinBlocks = 10;

 private:
  double time_block(int64_t number);  // seconds for `number` calls in a row

  std::function<void()> stmt_;
  std::string label_;
};

}  // namespace tinytorch::benchmark
