// tinytorch/benchmark/stats.h — the statistics of timing samples (module 19).
//
// The one place percentiles are computed: the profiler's latency measurement (module 14), the
// benchmarking module's Timer (module 19) and `tito bench`'s harness all call these. The method is
// numpy.percentile's default ("linear", Hyndman & Fan type 7), which torch.quantile also uses, so a
// number printed here can be checked against either.
//
// Timings are skewed: a run can be slowed down by almost anything (another process, an interrupt,
// a page fault), never sped up much. So everything here is built on the MEDIAN, and on intervals
// that say how sure we are of it:
//
//   samples ──► median ──► bootstrap CI of the median ──► compare(A, B): a verdict only when the
//          └──► Tukey fences: which samples are outliers (reported, never dropped)   CIs separate
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tinytorch::benchmark {

// The q-th percentile (0 <= q <= 100) of samples: sort, then interpolate linearly between the two
// samples whose ranks bracket q/100 · (n − 1). percentile(s, 50) is the median.
// Errors: empty samples, q outside [0, 100] or NaN, a NaN sample.
double percentile(std::span<const double> samples, double q);

// percentile(samples, 50).
double median(std::span<const double> samples);

// A closed interval [low, high] of a statistic, e.g. a confidence interval of a median.
struct Interval {
  double low = 0.0;
  double high = 0.0;

  [[nodiscard]] bool contains(double x) const { return low <= x && x <= high; }
  // True when the two intervals have no point in common: the only case in which we say that two
  // medians differ.
  [[nodiscard]] bool separated_from(const Interval& other) const {
    return high < other.low || other.high < low;
  }
};

// The percentile bootstrap (Efron 1979): resample the samples with replacement `resamples` times,
// take the median of each resample, and report the central `confidence` fraction of those
// medians. 2000 resamples by default: the interval's end points are the 2.5th and 97.5th
// percentiles of the resampled medians, i.e. about the 50th of 2000 from each end — few enough
// to run in milliseconds, many enough that rerunning with another seed moves an end point by
// much less than the interval's width. The seed is fixed (tinytorch::Generator), so the same
// samples always give the same interval.
struct BootstrapOptions {
  int64_t resamples = 2000;  // at least 100
  double confidence = 0.95;  // in (0, 1)
  uint64_t seed = 19;        // the Generator's seed
};

// The bootstrap confidence interval of the median of samples.
// Errors: empty samples or a NaN sample, confidence outside (0, 1), resamples < 100.
Interval bootstrap_median_ci(std::span<const double> samples, const BootstrapOptions& options = {});

// Tukey's fences (Tukey 1977): with Q1, Q3 the 25th and 75th percentiles and IQR = Q3 − Q1, a
// sample outside [Q1 − k·IQR, Q3 + k·IQR] is an outlier (k = 1.5 by convention, 3 for "far out").
// Chosen over the MAD because it needs nothing but percentiles and is what box plots draw.
struct Outliers {
  Interval fences;              // [Q1 − k·IQR, Q3 + k·IQR]
  std::vector<size_t> indices;  // the samples outside the fences, in sample order
};

// Errors: empty samples or a NaN sample, k negative or NaN.
Outliers tukey_outliers(std::span<const double> samples, double k = 1.5);

// Comparing the times of two implementations, A and B (seconds per call: smaller is faster).
enum class Verdict {
  kAFaster,                  // A's median CI lies entirely below B's
  kBFaster,                  // B's median CI lies entirely below A's
  kNoSignificantDifference,  // the intervals overlap: the data cannot tell them apart
  kTooFewSamples,            // fewer than kMinSamplesForVerdict on a side: no verdict at all
};

// With n <= 5 samples the bootstrap interval of the median is the samples' whole range [min,
// max] (a resample's median is the minimum with probability > 2.5%), and two ranges of n samples
// of the SAME code separate with probability 2 / C(2n, n): 1 in 10 for n = 3, 1 in 126 for n = 5.
// Below 5 a "verdict" would be a coin toss with loaded odds, so compare() refuses to give one.
inline constexpr size_t kMinSamplesForVerdict = 5;

struct Comparison {
  double median_a = 0.0, median_b = 0.0;
  Interval ci_a, ci_b;   // bootstrap CIs of the medians
  double speedup = 0.0;  // median_b / median_a: how many times faster A is (< 1: slower)
  Interval speedup_ci;   // bootstrap CI of that ratio (A and B resampled independently)
  Verdict verdict = Verdict::kNoSignificantDifference;
  size_t samples_a = 0, samples_b = 0;

  // "A faster by 1.52× [1.41×, 1.63×]", "B faster by ...", "no significant difference
  // (1.02× [0.97×, 1.08×])" or "too few samples for a verdict (1.10×; 3 and 3, at least 5
  // each)", with the given names for A and B.
  [[nodiscard]] std::string describe(const std::string& name_a = "A",
                                     const std::string& name_b = "B") const;
};

// Compares the median times of A and B. The verdict names a winner only when each side has at
// least kMinSamplesForVerdict samples, the two medians' confidence intervals separate AND the
// speedup's interval excludes 1.
// Errors: as bootstrap_median_ci, for either side; a non-positive time.
Comparison compare(std::span<const double> times_a, std::span<const double> times_b,
                   const BootstrapOptions& options = {});

// The verdict from the three intervals (compare()'s last step, and the rule `tito bench` follows).
Verdict decide(const Interval& ci_a, const Interval& ci_b, const Interval& speedup_ci);

}  // namespace tinytorch::benchmark
