// Order statistics of timing samples (see tinytorch/benchmark/stats.h).
#include "tinytorch/benchmark/stats.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "tinytorch/core/exception.h"

namespace tinytorch::benchmark {

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

}  // namespace tinytorch::benchmark
