// Module 19 — grader tests: the bootstrap at other confidence levels and sizes, outliers on both
// sides, comparisons at a small shift, block sizes from a clock with a slow first call. The
// checks are graded ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "support/graded.h"
#include "support/reference.h"
#include "tinytorch/benchmark/stats.h"
#include "tinytorch/benchmark/timer.h"
#include "tinytorch/core/generator.h"

namespace tinytorch::benchmark {
namespace {

std::vector<double> uniform(int64_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<double> x(static_cast<size_t>(n));
  for (double& v : x) v = gen.uniform_double();
  return x;
}

// U(0, 1) has median 0.5; an 80% interval from 30 draws covers it about 160 of 200 times.
TEST(HiddenBootstrap, EightyPercentIntervalCoverage) {
  int covered = 0;
  for (uint64_t e = 0; e < 200; ++e) {
    covered += bootstrap_median_ci(uniform(30, 5000 + e), {.resamples = 1000, .confidence = 0.8})
                       .contains(0.5)
                   ? 1
                   : 0;
  }
  TT_GRADE_GE(covered, 140);
  TT_GRADE_LE(covered, 180);
}

TEST(HiddenBootstrap, OddAndEvenSampleCountsAndOneSample) {
  const std::vector<double> one{4.0};
  const Interval a = bootstrap_median_ci(one);
  TT_GRADE_EQ(a.low, 4.0);
  TT_GRADE_EQ(a.high, 4.0);
  const std::vector<double> two{1.0, 3.0};
  const Interval b = bootstrap_median_ci(two);
  TT_GRADE_EQ(b.low, 1.0);  // resamples {1,1}, {1,3}, {3,3}: medians 1, 2, 3
  TT_GRADE_EQ(b.high, 3.0);
}

TEST(HiddenOutliers, BothSidesAndKZeroFlagsAllOutsideTheBox) {
  const std::vector<double> x{-50.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 60.0};
  const Outliers o = tukey_outliers(x);
  TT_GRADE_EQ(o.indices, (std::vector<size_t>{0, 8}));
  const Outliers box = tukey_outliers(x, 0.0);  // the fences are Q1 and Q3 themselves
  TT_GRADE_EQ(box.fences.low, 2.0);
  TT_GRADE_EQ(box.fences.high, 6.0);
  TT_GRADE_EQ(box.indices, (std::vector<size_t>{0, 1, 7, 8}));
}

TEST(HiddenCompare, SmallShiftWithManySamplesIsDetectedAndFewSamplesAreNot) {
  Generator gen(9);
  std::vector<double> a(400), b(400);
  for (double& v : a) v = 1e-3 * std::exp(0.1 * gen.normal());
  for (double& v : b) v = 1.05e-3 * std::exp(0.1 * gen.normal());
  TT_GRADE_EQ(compare(a, b).verdict, Verdict::kAFaster);
  const std::vector<double> a5(a.begin(), a.begin() + 5), b5(b.begin(), b.begin() + 5);
  TT_GRADE_EQ(compare(a5, b5).verdict, Verdict::kNoSignificantDifference);
}

TEST(HiddenBlockSize, SlowFirstCallDoesNotInflateTheBlock) {
  int trials = 0;
  const int64_t n = choose_block_size(
      [&](int64_t calls) {
        return (trials++ == 0 ? 5e-4 : 0.0) + static_cast<double>(calls) * 1e-6;
      },
      1e-3);
  TT_GRADE_GE(static_cast<double>(n) * 1e-6, 1e-3 * 0.999);
  TT_GRADE_LE(n, 1250);
}

}  // namespace
}  // namespace tinytorch::benchmark
