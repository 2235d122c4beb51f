// The statistics of timing samples (see tinytorch/benchmark/stats.h).
#include "tinytorch/benchmark/stats.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <vector>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/generator.h"

namespace tinytorch::benchmark {

namespace {

void check_samples(std::span<const double> samples, const char* what) {
  TT_CHECK_VALUE(!samples.empty(), what, "(): expected at least one sample, got none");
  for (double s : samples) TT_CHECK_VALUE(!std::isnan(s), what, "(): a sample is NaN");
}

void check_options(const BootstrapOptions& options, const char* what) {
  TT_CHECK_VALUE(options.confidence > 0.0 && options.confidence < 1.0, what,
                 "(): confidence must be in (0, 1), got ", options.confidence);
  TT_CHECK_VALUE(options.resamples >= 100, what,
                 "(): expected at least 100 bootstrap resamples, got ", options.resamples);
}

// The median of a resample of `samples`: n draws with replacement into `scratch` (size n), then
// nth_element — O(n) per resample rather than a sort's O(n log n).
double resampled_median(std::span<const double> samples, std::vector<double>& scratch,
                        Generator& gen) {
  // BEGIN SOLUTION
  const auto n = static_cast<int64_t>(samples.size());
  for (double& x : scratch) x = samples[static_cast<size_t>(gen.random_int(0, n))];
  // The median of n values: the middle one (n odd) or the mean of the two middle ones (n even),
  // as percentile(·, 50) computes it.
  const size_t mid = scratch.size() / 2;
  std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(mid),
                   scratch.end());
  const double upper = scratch[mid];
  if (scratch.size() % 2 == 1) return upper;
  const double lower =
      *std::max_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lower + upper);
  // END SOLUTION
}

// The central `confidence` fraction of a bootstrap distribution (the percentile method).
Interval central_interval(std::span<const double> statistics, double confidence) {
  // BEGIN SOLUTION
  const double tail = 50.0 * (1.0 - confidence);  // percent cut from each end
  return {percentile(statistics, tail), percentile(statistics, 100.0 - tail)};
  // END SOLUTION
}

}  // namespace

double percentile(std::span<const double> samples, double q) {
  TT_CHECK_VALUE(!samples.empty(), "percentile(): expected at least one sample, got none");
  TT_CHECK_VALUE(q >= 0.0 && q <= 100.0, "percentile(): q must be in [0, 100], got ", q);
  std::vector<double> sorted(samples.begin(), samples.end());
  for (double s : sorted) TT_CHECK_VALUE(!std::isnan(s), "percentile(): a sample is NaN");
  std::sort(sorted.begin(), sorted.end());
  // rank = q/100 · (n − 1): the position of the percentile among the sorted samples, counted
  // from 0. Between two samples it is a weighted mean of both.
  const double rank = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double w = rank - static_cast<double>(lo);
  return sorted[lo] + w * (sorted[hi] - sorted[lo]);
}

double median(std::span<const double> samples) {
  return percentile(samples, 50.0);
}

Interval bootstrap_median_ci(std::span<const double> samples, const BootstrapOptions& options) {
  check_samples(samples, "bootstrap_median_ci");
  check_options(options, "bootstrap_median_ci");
  Generator gen(options.seed);
  std::vector<double> scratch(samples.size());
  std::vector<double> medians(static_cast<size_t>(options.resamples));
  for (double& m : medians) m = resampled_median(samples, scratch, gen);
  return central_interval(medians, options.confidence);
}

namespace {

// Tukey's fences from the quartiles, and the samples outside them (arguments already checked).
Outliers tukey_fences(std::span<const double> samples, double k) {
  // BEGIN SOLUTION
  const double q1 = percentile(samples, 25.0), q3 = percentile(samples, 75.0);
  const double iqr = q3 - q1;
  Outliers result{.fences = {q1 - k * iqr, q3 + k * iqr}, .indices = {}};
  for (size_t i = 0; i < samples.size(); ++i) {
    if (!result.fences.contains(samples[i])) result.indices.push_back(i);
  }
  return result;
  // END SOLUTION
}

}  // namespace

Outliers tukey_outliers(std::span<const double> samples, double k) {
  check_samples(samples, "tukey_outliers");
  TT_CHECK_VALUE(k >= 0.0, "tukey_outliers(): k must be >= 0, got ", k);
  return tukey_fences(samples, k);
}

Verdict decide(const Interval& ci_a, const Interval& ci_b, const Interval& speedup_ci) {
  // BEGIN SOLUTION
  // Both conditions, so that a verdict never rests on one interval alone: the medians' intervals
  // separate (what a reader of two "median [CI]" lines sees) and the speedup's excludes 1.
  if (ci_a.separated_from(ci_b) && !speedup_ci.contains(1.0)) {
    return ci_a.high < ci_b.low ? Verdict::kAFaster : Verdict::kBFaster;
  }
  return Verdict::kNoSignificantDifference;
  // END SOLUTION
}

Comparison compare(std::span<const double> times_a, std::span<const double> times_b,
                   const BootstrapOptions& options) {
  check_samples(times_a, "compare");
  check_samples(times_b, "compare");
  check_options(options, "compare");
  for (std::span<const double> times : {times_a, times_b}) {
    for (double t : times) TT_CHECK_VALUE(t > 0.0, "compare(): times must be > 0 seconds, got ", t);
  }
  Comparison c;
  c.median_a = median(times_a);
  c.median_b = median(times_b);
  c.speedup = c.median_b / c.median_a;
  c.ci_a = bootstrap_median_ci(times_a, options);
  // B's resamples come from another stream than A's: the two sides are independent experiments.
  c.ci_b = bootstrap_median_ci(times_b, {options.resamples, options.confidence, options.seed + 1});
  // The speedup's distribution: each resample draws A and B independently, as a rerun of both
  // benchmarks would.
  Generator gen(options.seed + 2);
  std::vector<double> scratch_a(times_a.size()), scratch_b(times_b.size());
  std::vector<double> speedups(static_cast<size_t>(options.resamples));
  for (double& s : speedups) {
    const double a = resampled_median(times_a, scratch_a, gen);
    s = resampled_median(times_b, scratch_b, gen) / a;
  }
  c.speedup_ci = central_interval(speedups, options.confidence);
  c.samples_a = times_a.size();
  c.samples_b = times_b.size();
  c.verdict = std::min(c.samples_a, c.samples_b) < kMinSamplesForVerdict
                  ? Verdict::kTooFewSamples
                  : decide(c.ci_a, c.ci_b, c.speedup_ci);
  return c;
}

std::string Comparison::describe(const std::string& name_a, const std::string& name_b) const {
  char text[160];
  if (verdict == Verdict::kTooFewSamples) {
    std::snprintf(text, sizeof text,
                  "too few samples for a verdict (%.2f×; %zu and %zu, at least %zu each)", speedup,
                  samples_a, samples_b, kMinSamplesForVerdict);
    return text;
  }
  if (verdict == Verdict::kNoSignificantDifference) {
    std::snprintf(text, sizeof text, "no significant difference (%.2f× [%.2f×, %.2f×])", speedup,
                  speedup_ci.low, speedup_ci.high);
    return text;
  }
  // The winner's speedup over the loser, and its interval (1/x reverses the bounds).
  const bool a_wins = verdict == Verdict::kAFaster;
  const double x = a_wins ? speedup : 1.0 / speedup;
  const double lo = a_wins ? speedup_ci.low : 1.0 / speedup_ci.high;
  const double hi = a_wins ? speedup_ci.high : 1.0 / speedup_ci.low;
  std::snprintf(text, sizeof text, " faster by %.2f× [%.2f×, %.2f×]", x, lo, hi);
  return (a_wins ? name_a : name_b) + text;
}

}  // namespace tinytorch::benchmark
