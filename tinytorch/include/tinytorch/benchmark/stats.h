// tinytorch/benchmark/stats.h — order statistics of timing samples.
//
// The one place percentiles are computed: the profiler's latency measurement (module 14) and the
// benchmarking module's statistics (module 19) both call these. The method is numpy.percentile's
// default ("linear", Hyndman & Fan type 7), which torch.quantile also uses, so a number printed
// here can be checked against either.
#pragma once

#include <span>

namespace tinytorch::benchmark {

// The q-th percentile (0 <= q <= 100) of samples: sort, then interpolate linearly between the two
// samples whose ranks bracket q/100 · (n − 1). percentile(s, 50) is the median.
// Errors: empty samples, q outside [0, 100] or NaN, a NaN sample.
double percentile(std::span<const double> samples, double q);

// percentile(samples, 50).
double median(std::span<const double> samples);

}  // namespace tinytorch::benchmark
