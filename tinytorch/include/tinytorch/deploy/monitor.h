// tinytorch/deploy/monitor.h — watching a model in service (module 20): metrics, drift, SLOs.
//
// A served model fails quietly. It keeps answering — fast or slow, right or wrong — and nothing
// crashes when the inputs drift away from the training data. Three instruments watch it:
//
//   metrics  Prometheus-style counters, gauges and a latency histogram, exposed as text at
//            GET /metrics for a scraper to collect (the text exposition format, version 0.0.4);
//   drift    how far the distribution of the inputs seen in service has moved from the training
//            inputs: the population stability index (PSI) of each feature's buckets;
//   SLO      a latency objective ("p99 <= 50 ms over the last 10 000 requests"), checked.
//
// Everything here is free of HTTP: the server program (tools/serve) owns the sockets and only
// calls these classes. Every class is safe to use from several threads at once (each one guards
// its state with its own mutex; no call holds two).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::deploy {

// ── metrics ──────────────────────────────────────────────────────────────────────────────────

// A metric's label set, e.g. {{"code", "200"}, {"path", "/v1/predict"}}, in the order written.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A label value as the exposition format writes it between double quotes: backslash, double
// quote and line feed escaped as \\, \" and \n; every other byte unchanged.
std::string escape_label_value(std::string_view value);

// A number as the exposition format writes it: the shortest text that reads back as the same
// double; "+Inf", "-Inf", "NaN" for the special values.
std::string format_metric_value(double value);

// A family of values under one metric name, one per label set (what Counter and Gauge share).
// Errors (ValueError): a metric name outside [a-zA-Z_:][a-zA-Z0-9_:]*, a label name outside
// [a-zA-Z_][a-zA-Z0-9_]*.
class MetricFamily {
 public:
  MetricFamily(std::string name, std::string help, std::string type);
  [[nodiscard]] const std::string& name() const { return name_; }
  // "# HELP", "# TYPE" and one line per label set (in label-set order), each ending in '\n'.
  [[nodiscard]] std::string expose() const;
  [[nodiscard]] double value(const Labels& labels = {}) const;  // 0 for a label set never seen
  void add(const Labels& labels, double amount);
  void set(const Labels& labels, double value);

 private:
  const std::string name_, help_, type_;
  mutable std::mutex mutex_;
  std::map<Labels, double> values_;
};

// A value that only goes up (requests served, by status code).
class Counter {
 public:
  Counter(std::string name, std::string help)
      : family_(std::move(name), std::move(help), "counter") {}
  // Errors (ValueError): a negative amount — a counter never goes down.
  void inc(const Labels& labels = {}, double amount = 1.0);
  [[nodiscard]] double value(const Labels& labels = {}) const { return family_.value(labels); }
  [[nodiscard]] std::string expose() const { return family_.expose(); }

 private:
  MetricFamily family_;
};

// A value that is set (queue length, model information: {version="..."} 1).
class Gauge {
 public:
  Gauge(std::string name, std::string help) : family_(std::move(name), std::move(help), "gauge") {}
  void set(const Labels& labels, double value) { family_.set(labels, value); }
  [[nodiscard]] double value(const Labels& labels = {}) const { return family_.value(labels); }
  [[nodiscard]] std::string expose() const { return family_.expose(); }

 private:
  MetricFamily family_;
};

// Counts of observations per bucket (not cumulative), their sum and their number.
struct HistogramSnapshot {
  std::vector<double> upper_bounds;  // the finite bounds; the last bucket is (last bound, +Inf)
  std::vector<int64_t> counts;       // upper_bounds.size() + 1 buckets
  double sum = 0.0;
  int64_t count = 0;
};

// Observations counted in FIXED buckets: bucket i holds the values v with
// upper_bounds[i-1] < v <= upper_bounds[i] (Prometheus' "le", less-or-equal), the last one every
// value above the last bound. Fixed buckets cost a few integers whatever the traffic, add up
// across servers (sum the counts), and still give quantiles — to within a bucket's width.
//
//   bounds  0.001  0.002  0.005  0.01  +Inf     latencies (s): 0.0015 0.0018 0.004 0.02
//   counts    0      2      1     0     1       exposed cumulative: le="0.002" 2, le="0.005" 3
class Histogram {
 public:
  // Errors (ValueError): bounds empty, not finite or not strictly increasing; names as Counter's.
  Histogram(std::string name, std::string help, std::vector<double> upper_bounds);

  void observe(double value);  // NaN is refused (ValueError): it belongs to no bucket
  [[nodiscard]] HistogramSnapshot snapshot() const;
  // name_bucket{le="..."} with CUMULATIVE counts (the +Inf one equals name_count), name_sum,
  // name_count — the exposition format's histogram.
  [[nodiscard]] std::string expose() const;
  // The q-quantile (0 <= q <= 1) estimated from the buckets as Prometheus' histogram_quantile()
  // does: find the bucket holding rank q·count and interpolate linearly inside it (from 0 for the
  // first bucket); a rank in the +Inf bucket answers the last finite bound. NaN with no
  // observations.
  [[nodiscard]] double quantile(double q) const;

  // 0.5 ms … 10 s, roughly ×2 per step: the latency buckets of the server.
  static std::vector<double> latency_buckets();

 private:
  const std::string name_, help_;
  const std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<int64_t> counts_;  // bounds_.size() + 1
  double sum_ = 0.0;
  int64_t count_ = 0;
};

// ── drift ────────────────────────────────────────────────────────────────────────────────────

// The training inputs' distribution, per feature: bucket edges and the fraction of the training
// rows in each bucket.
//   edges    [F, B+1] float32: edges[f][0] and edges[f][B] are the training minimum and maximum;
//            the B-1 inner edges split the buckets. A value goes to bucket j when
//            edges[f][j] < v <= edges[f][j+1] counting only inner edges — below the first inner
//            edge (also below the minimum) is bucket 0, above the last is bucket B-1.
//   expected [F, B] float32: fraction of the training rows in each bucket (each row sums to 1).
struct DriftReference {
  Tensor edges;
  Tensor expected;
  [[nodiscard]] int64_t num_features() const { return expected.size(0); }
  [[nodiscard]] int64_t num_buckets() const { return expected.size(1); }
};

// Fits the reference from training inputs [N, F] (float32, N >= 1) with B buckets (2 <= B <= 100)
// of EQUAL FREQUENCY: the inner edges are the training values at ranks N/B, 2N/B, … — each
// bucket holds about N/B rows. Equal-frequency rather than equal-width, because Fashion-MNIST's
// pixels are mostly background: a border pixel is 0 in 95% of the images, and ten equal-width
// buckets over [0, 1] would leave it one crowded bucket and nine nearly empty ones whose PSI terms
// are noise. With equal frequency, tied values make equal edges (empty buckets, skipped by PSI
// since both fractions are 0), and the pixel keeps the buckets that matter: "background" and
// "ink". The expected fractions are COUNTED with the same bucketing the monitor uses, not
// assumed to be 1/B, so ties are exact.
DriftReference fit_drift(const Tensor& inputs, int64_t buckets = 10);

// The reference as statistics for export_model ("drift.edges", "drift.expected"), and back.
// Errors (ValueError) on the way back: a key missing, or shapes that do not match [F, B+1] and
// [F, B].
OrderedDict<std::string, Tensor> drift_statistics(const DriftReference& reference);
DriftReference drift_from_statistics(const OrderedDict<std::string, Tensor>& statistics);

// The bucket of value v in one feature's edges (B+1 of them), as DriftReference defines it.
int64_t drift_bucket(std::span<const float> edges, float v);

// The population stability index of two distributions over the same buckets:
//   PSI = Σ_j (a_j − e_j) · ln(a_j / e_j)
// a = actual fractions, e = expected; a fraction below eps counts as eps (an empty bucket would
// make ln(0)). Each term is >= 0, so PSI >= 0, and 0 only when a = e. Rule of thumb: < 0.1 no
// significant shift, 0.1–0.25 moderate, > 0.25 a major shift.
// Errors (ValueError): sizes differ or empty, eps <= 0.
double psi(std::span<const double> actual, std::span<const double> expected, double eps = 1e-4);

struct DriftReport {
  int64_t samples = 0;      // rows observed
  std::vector<double> psi;  // per feature (empty when samples == 0)
  double max_psi = 0.0, mean_psi = 0.0;
  int64_t max_feature = -1;    // the feature with the largest PSI
  int64_t above_moderate = 0;  // features with PSI > 0.1
  int64_t above_major = 0;     // features with PSI > 0.25
};

// Counts the inputs seen in service in the reference's buckets.
// NOTE (thread safety): observe() and report() may be called from any threads; one mutex guards
// the counts. observe() takes a whole request under it, so a report never sees half a request.
class DriftMonitor {
 public:
  explicit DriftMonitor(DriftReference reference);
  // inputs [N, F] float32 (any contiguous layout of N rows of F values, e.g. [N, 1, 28, 28] for
  // F = 784). Errors (ValueError): a dtype other than float32, or numel not a multiple of F.
  void observe(const Tensor& inputs);
  [[nodiscard]] DriftReport report() const;
  [[nodiscard]] const DriftReference& reference() const { return reference_; }

 private:
  const DriftReference reference_;
  mutable std::mutex mutex_;
  std::vector<int64_t> counts_;  // [F, B], row-major
  int64_t samples_ = 0;
};

// ── latency SLO ──────────────────────────────────────────────────────────────────────────────

struct SloReport {
  double quantile = 0.99;         // which latency quantile the objective bounds
  double target_seconds = 0.0;    // the objective: quantile <= target
  double observed_seconds = 0.0;  // the measured quantile (NaN with no samples)
  int64_t samples = 0;
  bool met = false;  // observed <= target (false with no samples: nothing shown)
  [[nodiscard]] std::string describe() const;  // "p99 12.3 ms <= 50.0 ms over 1000 requests: met"
};

// Checks "the q-quantile of these latencies is at most target_seconds" with the percentile of
// module 19 (tinytorch/benchmark/stats.h). Errors (ValueError): q outside (0, 1], target <= 0.
SloReport check_latency_slo(std::span<const double> latencies_seconds, double q,
                            double target_seconds);

// The last `capacity` latencies (a ring buffer: an SLO is judged over a recent window, not the
// server's whole life). NOTE (thread safety): add() and values() lock one mutex.
class LatencyWindow {
 public:
  explicit LatencyWindow(size_t capacity = 10000);
  void add(double seconds);
  [[nodiscard]] std::vector<double> values() const;  // oldest first

 private:
  mutable std::mutex mutex_;
  std::vector<double> ring_;
  size_t capacity_, next_ = 0;
};

}  // namespace tinytorch::deploy
