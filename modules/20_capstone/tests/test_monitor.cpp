// Module 20 — monitoring: the latency histogram's buckets ("le": less or equal), the Prometheus
// text exposition (cumulative buckets, escaped label values), histogram quantiles, PSI against
// values computed by hand, empty buckets, equal-frequency drift edges on data with many ties, and
// the SLO check.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "tinytorch/deploy/monitor.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::deploy {
namespace {

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_label_value("a\"b"), "a\\\"b");
  EXPECT_EQ(escape_label_value("back\\slash"), "back\\\\slash");
  EXPECT_EQ(escape_label_value("two\nlines"), "two\\nlines");
}

TEST(Metrics, CounterExposition) {
  Counter c("tt_requests_total", "Requests served, by status code.");
  c.inc({{"code", "200"}}, 3);
  c.inc({{"code", "400"}});
  c.inc({{"code", "200"}});
  EXPECT_EQ(c.value({{"code", "200"}}), 4.0);
  EXPECT_EQ(c.expose(),
            "# HELP tt_requests_total Requests served, by status code.\n"
            "# TYPE tt_requests_total counter\n"
            "tt_requests_total{code=\"200\"} 4\n"
            "tt_requests_total{code=\"400\"} 1\n");
  EXPECT_THROW(c.inc({}, -1), ValueError);
  EXPECT_THROW(Counter("bad name", "x"), ValueError);
  Gauge g("tt_model_info", "The model served.");
  g.set({{"version", "v\"1"}}, 1);
  EXPECT_NE(g.expose().find("tt_model_info{version=\"v\\\"1\"} 1\n"), std::string::npos);
}

TEST(Histogram, ObservationsLandInTheirLessOrEqualBucket) {
  Histogram h("tt_latency_seconds", "Latency.", {0.001, 0.002, 0.005});
  for (double v : {0.0005, 0.001, 0.0015, 0.002, 0.004, 0.05}) h.observe(v);
  const HistogramSnapshot s = h.snapshot();
  EXPECT_EQ(s.counts, (std::vector<int64_t>{2, 2, 1, 1}));  // 0.001 and 0.002 are "le" their bound
  EXPECT_EQ(s.count, 6);
  EXPECT_NEAR(s.sum, 0.059, 1e-12);
  EXPECT_THROW(h.observe(std::nan("")), ValueError);
}

TEST(Histogram, ExpositionIsCumulative) {
  Histogram h("tt_latency_seconds", "Latency.", {0.001, 0.002, 0.005});
  for (double v : {0.0015, 0.0018, 0.004, 0.02}) h.observe(v);
  EXPECT_EQ(h.expose(),
            "# HELP tt_latency_seconds Latency.\n"
            "# TYPE tt_latency_seconds histogram\n"
            "tt_latency_seconds_bucket{le=\"0.001\"} 0\n"
            "tt_latency_seconds_bucket{le=\"0.002\"} 2\n"
            "tt_latency_seconds_bucket{le=\"0.005\"} 3\n"
            "tt_latency_seconds_bucket{le=\"+Inf\"} 4\n"
            "tt_latency_seconds_sum 0.0273\n"
            "tt_latency_seconds_count 4\n");
}

TEST(Histogram, QuantileInterpolatesInsideTheBucket) {
  Histogram h("q", "q", {1.0, 2.0, 4.0});
  EXPECT_TRUE(std::isnan(h.quantile(0.5)));
  for (double v : {0.5, 1.5, 1.5, 3.0}) h.observe(v);
  // rank 0.5·4 = 2 lies in bucket (1, 2] holding observations 2 and 3: 1 + (2 − 1)·(1/2) = 1.5.
  EXPECT_DOUBLE_EQ(h.quantile(0.5), 1.5);
  EXPECT_DOUBLE_EQ(h.quantile(0.25), 1.0);  // rank 1: the end of the first bucket
  EXPECT_DOUBLE_EQ(h.quantile(1.0), 4.0);
  h.observe(100.0);  // the +Inf bucket answers the last finite bound
  EXPECT_DOUBLE_EQ(h.quantile(1.0), 4.0);
}

TEST(Histogram, ConcurrentObservationsAreAllCounted) {
  Histogram h("c", "c", Histogram::latency_buckets());
  h.observe(0.003);  // first on this thread: an error fails the test here, not in a thread
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) h.observe(0.003);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.snapshot().count, 4001);
}

TEST(Drift, PsiMatchesHandComputedValues) {
  // (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5) = 0.25·ln 2 + 0.25·ln 1.5.
  const std::vector<double> e = {0.5, 0.5}, a = {0.25, 0.75};
  EXPECT_NEAR(psi(a, e), 0.25 * std::log(2.0) + 0.25 * std::log(1.5), 1e-12);
  EXPECT_NEAR(psi(e, e), 0.0, 1e-15);
  // Four buckets, a moderate shift: Σ (a−e) ln(a/e) term by term.
  const std::vector<double> e4 = {0.1, 0.2, 0.3, 0.4}, a4 = {0.2, 0.2, 0.2, 0.4};
  EXPECT_NEAR(psi(a4, e4), 0.1 * std::log(2.0) + (-0.1) * std::log(0.2 / 0.3), 1e-12);
  EXPECT_THROW(psi(a, e4), ValueError);
}

TEST(Drift, EmptyBucketsCountAsEpsilon) {
  // An empty expected bucket would make ln(a/0) infinite: it counts as eps = 1e-4.
  const std::vector<double> e = {1.0, 0.0}, a = {0.5, 0.5};
  const double expected = (0.5 - 1.0) * std::log(0.5) + (0.5 - 1e-4) * std::log(0.5 / 1e-4);
  EXPECT_NEAR(psi(a, e), expected, 1e-12);
  EXPECT_TRUE(std::isfinite(psi(e, a)));
  // Both empty: no contribution at all.
  EXPECT_NEAR(psi(std::vector<double>{0.5, 0.5, 0.0}, std::vector<double>{0.5, 0.5, 0.0}), 0.0,
              1e-15);
}

TEST(Drift, EqualFrequencyEdgesAndCountedFractions) {
  // Feature 0: 0..9 (no ties) → 5 buckets of 2 rows. Feature 1: eight zeros and 5, 7 (a
  // background pixel) → the inner edges are all 0: bucket 0 holds the zeros, bucket 4 the rest.
  std::vector<float> values;
  for (int i = 0; i < 10; ++i) {
    values.push_back(static_cast<float>(i));
    values.push_back(i == 3 ? 5.0f : (i == 7 ? 7.0f : 0.0f));
  }
  const Tensor x = tensor(values).reshape({10, 2});
  const DriftReference ref = fit_drift(x, 5);
  ASSERT_EQ(ref.edges.sizes().vec(), (std::vector<int64_t>{2, 6}));
  ASSERT_EQ(ref.expected.sizes().vec(), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(ref.edges.select(0, 0).to_vector<float>(), (std::vector<float>{0, 1, 3, 5, 7, 9}));
  for (float f : ref.expected.select(0, 0).to_vector<float>()) EXPECT_FLOAT_EQ(f, 0.2f);
  EXPECT_EQ(ref.expected.select(0, 1).to_vector<float>(),
            (std::vector<float>{0.8f, 0.0f, 0.0f, 0.0f, 0.2f}));

  // The training data itself shows no drift; the statistics round-trip.
  DriftMonitor monitor(drift_from_statistics(drift_statistics(ref)));
  monitor.observe(x);
  const DriftReport same = monitor.report();
  EXPECT_EQ(same.samples, 10);
  EXPECT_NEAR(same.max_psi, 0.0, 1e-6);

  // Shifted inputs (every value + 100) land in the last buckets: a major shift on both features.
  DriftMonitor shifted(ref);
  shifted.observe(x.add(100.0));
  const DriftReport r = shifted.report();
  EXPECT_GT(r.psi[0], 0.25);
  EXPECT_GT(r.psi[1], 0.25);
  EXPECT_EQ(r.above_major, 2);
}

TEST(Drift, BadStatisticsAreRefused) {
  OrderedDict<std::string, Tensor> none;
  EXPECT_THROW(drift_from_statistics(none), ValueError);
  OrderedDict<std::string, Tensor> wrong;
  wrong.insert("drift.edges", zeros({3, 4}));
  wrong.insert("drift.expected", zeros({3, 4}));
  EXPECT_THROW(drift_from_statistics(wrong), ValueError);
  EXPECT_THROW(fit_drift(zeros({4}), 5), ValueError);
  EXPECT_THROW(fit_drift(zeros({4, 2}), 1), ValueError);
}

TEST(Slo, P99AgainstTarget) {
  std::vector<double> latencies(100, 0.010);
  latencies[99] = 0.200;  // one slow request in a hundred
  const SloReport r = check_latency_slo(latencies, 0.99, 0.050);
  EXPECT_EQ(r.samples, 100);
  // numpy.percentile([0.01]*99 + [0.2], 99) = 0.01 + 0.01·0.19 = 0.0119.
  EXPECT_NEAR(r.observed_seconds, 0.0119, 1e-12);
  EXPECT_TRUE(r.met);
  EXPECT_FALSE(check_latency_slo(latencies, 1.0, 0.050).met);
  EXPECT_FALSE(check_latency_slo({}, 0.99, 0.050).met);
  LatencyWindow window(3);
  for (double v : {1.0, 2.0, 3.0, 4.0}) window.add(v);
  EXPECT_EQ(window.values(), (std::vector<double>{2.0, 3.0, 4.0}));
}

}  // namespace
}  // namespace tinytorch::deploy
