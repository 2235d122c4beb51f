// Module 19 — the statistics of timing samples, against numpy and against distributions whose
// medians are known: percentiles and Tukey's fences equal numpy's; the bootstrap CI of the median
// covers the true median in about 95% of repeated experiments; planted outliers are flagged;
// comparing two identical distributions gives no verdict, clearly shifted ones the right one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/benchmark/stats.h"
#include "tinytorch/benchmark/timer.h"
#include "tinytorch/core/generator.h"

namespace tinytorch::benchmark {
namespace {

using test::load_reference;

// n draws of an exponential distribution of mean 1 (median ln 2): skewed like timings.
std::vector<double> exponential(int64_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<double> x(static_cast<size_t>(n));
  for (double& v : x) v = -std::log1p(-gen.uniform_double());
  return x;
}

// n "timings" of median `m`: m · exp(0.2 · N(0, 1)), a lognormal (median exactly m).
std::vector<double> timings(int64_t n, double m, uint64_t seed) {
  Generator gen(seed);
  std::vector<double> x(static_cast<size_t>(n));
  for (double& v : x) v = m * std::exp(0.2 * gen.normal());
  return x;
}

// ── against numpy (tools/reference/gen_module19.py) ──────────────────────────────────────────

TEST(Stats, PercentilesMatchNumpy) {
  for (const auto& c : load_reference("module19_reference.json")["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto samples = c["samples"].get<std::vector<double>>();
    for (const auto& qv : c["percentiles"]) {
      EXPECT_NEAR(percentile(samples, qv[0].get<double>()), qv[1].get<double>(), 1e-12)
          << "q = " << qv[0];
    }
    EXPECT_NEAR(median(samples), c["median"].get<double>(), 1e-12);
  }
}

// In the Outliers suite: it checks tukey_outliers (Part 3), so Part 3's filter selects it.
TEST(Outliers, SummaryAndFencesMatchNumpy) {
  for (const auto& c : load_reference("module19_reference.json")["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto samples = c["samples"].get<std::vector<double>>();
    const Measurement m = summarize("case", samples, 1);
    EXPECT_NEAR(m.mean, c["mean"].get<double>(), 1e-12);
    EXPECT_NEAR(m.iqr, c["iqr"].get<double>(), 1e-12);
    EXPECT_NEAR(m.outliers.fences.low, c["fences"][0].get<double>(), 1e-12);
    EXPECT_NEAR(m.outliers.fences.high, c["fences"][1].get<double>(), 1e-12);
    EXPECT_EQ(m.outliers.indices, c["outliers"].get<std::vector<size_t>>());
    EXPECT_TRUE(m.median_ci.contains(m.median));
  }
}

// ── the bootstrap ─────────────────────────────────────────────────────────────────────────────

// 200 experiments of 41 exponential draws: a 95% interval must cover ln 2 about 190 times. The
// binomial's standard deviation is sqrt(200 · 0.95 · 0.05) ≈ 3 experiments, and the percentile
// bootstrap of a median runs slightly below its nominal level at small n, so [176, 198] is
// generous — but an interval half as wide as it should be covers only ~2/3 of the time (133), and
// one twice as wide ~100% (200): both fail. Fixed seeds: the count is the same on every run.
TEST(Bootstrap, MedianIntervalCoversTheTrueMedianAbout95PercentOfTheTime) {
  const double true_median = std::log(2.0);
  int covered = 0;
  for (uint64_t experiment = 0; experiment < 200; ++experiment) {
    const auto x = exponential(41, 1000 + experiment);
    const Interval ci = bootstrap_median_ci(x, {.resamples = 1000, .confidence = 0.95});
    ASSERT_LE(ci.low, ci.high);
    covered += ci.contains(true_median) ? 1 : 0;
  }
  EXPECT_GE(covered, 176);
  EXPECT_LE(covered, 198);
}

// The width of a median's CI shrinks as 1/sqrt(n): 16× the samples, about a quarter the width.
TEST(Bootstrap, IntervalNarrowsAsOneOverSqrtN) {
  const auto small = exponential(25, 7), large = exponential(400, 8);
  const Interval a = bootstrap_median_ci(small), b = bootstrap_median_ci(large);
  const double ratio = (a.high - a.low) / (b.high - b.low);
  EXPECT_GT(ratio, 2.0);
  EXPECT_LT(ratio, 8.0);
}

TEST(Bootstrap, SameSeedSameIntervalAndHigherConfidenceIsWider) {
  const auto x = exponential(60, 3);
  const Interval a = bootstrap_median_ci(x), b = bootstrap_median_ci(x);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  const Interval c = bootstrap_median_ci(x, {.confidence = 0.5});
  EXPECT_GT(c.low, a.low - 1e-15);
  EXPECT_LT(c.high, a.high + 1e-15);
  EXPECT_LT(c.high - c.low, a.high - a.low);
  EXPECT_TRUE(c.contains(median(x)));
  // A constant sample: every resample has the same median.
  const std::vector<double> same(9, 2.5);
  const Interval d = bootstrap_median_ci(same);
  EXPECT_EQ(d.low, 2.5);
  EXPECT_EQ(d.high, 2.5);
}

// ── outliers ──────────────────────────────────────────────────────────────────────────────────

TEST(Outliers, TukeyFencesFlagPlantedOutliersAndReportThemWithoutDropping) {
  auto x = timings(200, 1e-3, 5);
  x[17] = 5e-3;   // a run preempted by another process
  x[150] = 1e-5;  // a broken measurement
  const Outliers o = tukey_outliers(x);
  EXPECT_NE(std::find(o.indices.begin(), o.indices.end(), size_t{17}), o.indices.end());
  EXPECT_NE(std::find(o.indices.begin(), o.indices.end(), size_t{150}), o.indices.end());
  // A lognormal of σ = 0.2 puts ~1% of its samples past the 1.5·IQR fences, planted ones aside.
  EXPECT_LE(o.indices.size(), 2u + 6u);
  for (size_t i : o.indices) EXPECT_FALSE(o.fences.contains(x[i]));
  EXPECT_TRUE(tukey_outliers(timings(200, 1e-3, 5), 3.0).indices.empty());
}

// ── comparing two implementations ─────────────────────────────────────────────────────────────

TEST(Compare, IdenticalDistributionsGiveNoVerdict) {
  int verdicts = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const auto a = timings(40, 2e-3, 100 + seed), b = timings(40, 2e-3, 200 + seed);
    const Comparison c = compare(a, b, {.resamples = 1000});
    verdicts += c.verdict == Verdict::kNoSignificantDifference ? 0 : 1;
    EXPECT_TRUE(c.speedup_ci.contains(c.speedup));
  }
  // Two 95% intervals of the same median separate in well under 1% of experiments.
  EXPECT_LE(verdicts, 1);
  const auto a = timings(40, 2e-3, 1);
  const Comparison same = compare(a, timings(40, 2e-3, 2));
  EXPECT_NE(same.describe().find("no significant difference"), std::string::npos);
}

TEST(Compare, ShiftedDistributionsGiveTheRightVerdict) {
  const auto fast = timings(40, 1e-3, 11), slow = timings(40, 1.3e-3, 12);
  const Comparison c = compare(fast, slow);
  EXPECT_EQ(c.verdict, Verdict::kAFaster);
  EXPECT_TRUE(c.speedup_ci.contains(1.3)) << c.speedup_ci.low << " " << c.speedup_ci.high;
  EXPECT_GT(c.speedup_ci.low, 1.0);
  EXPECT_EQ(c.describe("fast", "slow").rfind("fast faster by 1.", 0), 0u) << c.describe();
  const Comparison r = compare(slow, fast);
  EXPECT_EQ(r.verdict, Verdict::kBFaster);
  EXPECT_NEAR(r.speedup, 1.0 / c.speedup, 1e-12);
  EXPECT_EQ(r.describe("slow", "fast").rfind("fast faster by 1.", 0), 0u) << r.describe();
}

// Two sets of 3 samples of the same code separate completely 1 time in 10: no verdict below 5.
TEST(Compare, TooFewSamplesGiveNoVerdictEvenWhenTheySeparate) {
  const std::vector<double> a{1.0, 1.1, 1.2}, b{2.0, 2.1, 2.2};
  const Comparison c = compare(a, b);
  EXPECT_TRUE(c.ci_a.separated_from(c.ci_b));
  EXPECT_EQ(c.verdict, Verdict::kTooFewSamples);
  EXPECT_NE(c.describe().find("too few samples for a verdict"), std::string::npos) << c.describe();
  EXPECT_NE(c.describe().find("3 and 3, at least 5"), std::string::npos) << c.describe();
  const std::vector<double> a5{1.0, 1.1, 1.2, 1.05, 1.15}, b5{2.0, 2.1, 2.2, 2.05, 2.15};
  EXPECT_EQ(compare(a5, b5).verdict, Verdict::kAFaster);
}

TEST(Compare, TheVerdictNeedsSeparatedIntervals) {
  EXPECT_EQ(decide({1.0, 2.0}, {3.0, 4.0}, {1.5, 3.0}), Verdict::kAFaster);
  EXPECT_EQ(decide({3.0, 4.0}, {1.0, 2.0}, {0.3, 0.6}), Verdict::kBFaster);
  EXPECT_EQ(decide({1.0, 3.0}, {2.5, 4.0}, {1.1, 2.0}), Verdict::kNoSignificantDifference);
  EXPECT_EQ(decide({1.0, 2.0}, {3.0, 4.0}, {0.9, 3.0}), Verdict::kNoSignificantDifference);
}

// ── bad input ─────────────────────────────────────────────────────────────────────────────────

TEST(Stats, BadInputIsAClearError) {
  const std::vector<double> empty, ok{1.0, 2.0, 3.0};
  const std::vector<double> nan{1.0, std::numeric_limits<double>::quiet_NaN()};
  TT_EXPECT_THROW_WITH(bootstrap_median_ci(empty), ValueError, "bootstrap_median_ci",
                       "at least one sample");
  TT_EXPECT_THROW_WITH(bootstrap_median_ci(nan), ValueError, "NaN");
  TT_EXPECT_THROW_WITH(bootstrap_median_ci(ok, {.confidence = 1.0}), ValueError,
                       "confidence must be in (0, 1)", "1");
  TT_EXPECT_THROW_WITH(bootstrap_median_ci(ok, {.confidence = 0.0}), ValueError, "confidence");
  TT_EXPECT_THROW_WITH(bootstrap_median_ci(ok, {.resamples = 10}), ValueError, "100", "10");
  TT_EXPECT_THROW_WITH(tukey_outliers(empty), ValueError, "tukey_outliers");
  TT_EXPECT_THROW_WITH(tukey_outliers(ok, -1.0), ValueError, "k must be >= 0");
  TT_EXPECT_THROW_WITH(compare(ok, empty), ValueError, "compare", "at least one sample");
  TT_EXPECT_THROW_WITH(compare(ok, std::vector<double>{1.0, 0.0}), ValueError, "> 0");
  TT_EXPECT_THROW_WITH(percentile(ok, 101.0), ValueError, "[0, 100]");
}

}  // namespace
}  // namespace tinytorch::benchmark
