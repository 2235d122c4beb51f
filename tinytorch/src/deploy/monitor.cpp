// Metrics, drift and SLOs of a served model (see tinytorch/deploy/monitor.h).
#include "tinytorch/deploy/monitor.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <system_error>

#include "tinytorch/benchmark/stats.h"
#include "tinytorch/core/exception.h"

namespace tinytorch::deploy {

namespace {

bool valid_name(std::string_view name, bool allow_colon) {
  auto ok = [&](char c, bool first) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    return alpha || (allow_colon && c == ':') || (!first && c >= '0' && c <= '9');
  };
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!ok(name[i], i == 0)) return false;
  }
  return true;
}

void check_metric_name(const std::string& name) {
  TT_CHECK_VALUE(valid_name(name, /*allow_colon=*/true), "metric name '", name,
                 "' is not valid: expected [a-zA-Z_:][a-zA-Z0-9_:]*");
}

// {k1="v1",k2="v2"} (empty text for no labels), with `extra` appended last (a histogram's le).
std::string label_text(const Labels& labels, const Labels& extra = {}) {
  if (labels.empty() && extra.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const Labels* set : {&labels, &extra}) {
    for (const auto& [key, value] : *set) {
      out += (first ? "" : ",") + key + "=\"" + escape_label_value(value) + "\"";
      first = false;
    }
  }
  return out + "}";
}

std::string header(const std::string& name, const std::string& help, const std::string& type) {
  // HELP text escapes only backslash and line feed (the format's rule for docstrings).
  std::string escaped;
  for (char c : help) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return "# HELP " + name + " " + escaped + "\n# TYPE " + name + " " + type + "\n";
}

// The exposition lines of a histogram after its header: name_bucket{le="..."} with CUMULATIVE
// counts (the le="+Inf" one equals the count), then name_sum and name_count.
std::string histogram_lines(const std::string& name, const HistogramSnapshot& s) {
  // BEGIN SOLUTION
  std::string out;
  int64_t cumulative = 0;
  for (size_t i = 0; i <= s.upper_bounds.size(); ++i) {
    cumulative += s.counts[i];
    const double le =
        i < s.upper_bounds.size() ? s.upper_bounds[i] : std::numeric_limits<double>::infinity();
    out += name + "_bucket" + label_text({}, {{"le", format_metric_value(le)}}) + " " +
           std::to_string(cumulative) + "\n";
  }
  out += name + "_sum " + format_metric_value(s.sum) + "\n";
  out += name + "_count " + std::to_string(s.count) + "\n";
  return out;
  // END SOLUTION
}

// Prometheus' histogram_quantile() over a snapshot (see Histogram::quantile).
double histogram_quantile(const HistogramSnapshot& s, double q) {
  // BEGIN SOLUTION
  if (s.count == 0) return std::numeric_limits<double>::quiet_NaN();
  const double rank = q * static_cast<double>(s.count);
  int64_t below = 0;  // observations in the buckets before bucket i
  for (size_t i = 0; i < s.upper_bounds.size(); ++i) {
    if (static_cast<double>(below + s.counts[i]) >= rank && s.counts[i] > 0) {
      const double lower = i == 0 ? 0.0 : s.upper_bounds[i - 1];
      const double fraction =
          (rank - static_cast<double>(below)) / static_cast<double>(s.counts[i]);
      return lower + (s.upper_bounds[i] - lower) * fraction;
    }
    below += s.counts[i];
  }
  return s.upper_bounds.back();  // the rank lies in the +Inf bucket
  // END SOLUTION
}

// fit_drift's work, its arguments already checked (see monitor.h).
DriftReference fit_equal_frequency(const Tensor& inputs, int64_t buckets) {
  // BEGIN SOLUTION
  const int64_t n = inputs.size(0), features = inputs.size(1);
  const Tensor x = inputs.contiguous();
  const float* data = x.data_ptr<float>();
  DriftReference ref{empty({features, buckets + 1}, kFloat32),
                     zeros({features, buckets}, kFloat32)};
  float* edges = ref.edges.data_ptr<float>();
  float* expected = ref.expected.data_ptr<float>();
  std::vector<float> column(static_cast<size_t>(n));
  for (int64_t f = 0; f < features; ++f) {
    for (int64_t i = 0; i < n; ++i) column[static_cast<size_t>(i)] = data[i * features + f];
    std::sort(column.begin(), column.end());
    float* e = edges + f * (buckets + 1);
    e[0] = column.front();
    e[buckets] = column.back();
    // Inner edge j: the value at rank j·N/B (the last row of bucket j-1 in sorted order).
    for (int64_t j = 1; j < buckets; ++j) {
      e[j] = column[static_cast<size_t>(std::max<int64_t>(0, j * n / buckets - 1))];
    }
    // Count, do not assume: tied values make some buckets empty and others larger than N/B.
    const std::span<const float> row(e, static_cast<size_t>(buckets + 1));
    float* frac = expected + f * buckets;
    for (float v : column) frac[drift_bucket(row, v)] += 1.0f;
    for (int64_t j = 0; j < buckets; ++j) frac[j] /= static_cast<float>(n);
  }
  return ref;
  // END SOLUTION
}

// Σ (a − e) · ln(a / e) with fractions below eps counted as eps (see monitor.h: psi).
double psi_sum(std::span<const double> actual, std::span<const double> expected, double eps) {
  // BEGIN SOLUTION
  double total = 0.0;
  for (size_t j = 0; j < actual.size(); ++j) {
    const double a = std::max(actual[j], eps), e = std::max(expected[j], eps);
    total += (a - e) * std::log(a / e);
  }
  return total;
  // END SOLUTION
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  // BEGIN SOLUTION
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
  // END SOLUTION
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return {buffer, result.ptr};
}

// ── MetricFamily, Counter ────────────────────────────────────────────────────────────────────

MetricFamily::MetricFamily(std::string name, std::string help, std::string type)
    : name_(std::move(name)), help_(std::move(help)), type_(std::move(type)) {
  check_metric_name(name_);
}

std::string MetricFamily::expose() const {
  std::string out = header(name_, help_, type_);
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [labels, value] : values_) {
    out += name_ + label_text(labels) + " " + format_metric_value(value) + "\n";
  }
  return out;
}

double MetricFamily::value(const Labels& labels) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = values_.find(labels);
  return it == values_.end() ? 0.0 : it->second;
}

void MetricFamily::add(const Labels& labels, double amount) {
  for (const auto& label : labels) {
    TT_CHECK_VALUE(valid_name(label.first, /*allow_colon=*/false), name_, ": label name '",
                   label.first, "' is not valid: expected [a-zA-Z_][a-zA-Z0-9_]*");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  values_[labels] += amount;
}

void MetricFamily::set(const Labels& labels, double value) {
  add(labels, 0.0);  // validates the labels and creates the entry
  std::lock_guard<std::mutex> lock(mutex_);
  values_[labels] = value;
}

void Counter::inc(const Labels& labels, double amount) {
  TT_CHECK_VALUE(amount >= 0.0, family_.name(), ": a counter only goes up, got inc(", amount, ")");
  family_.add(labels, amount);
}

// ── Histogram ────────────────────────────────────────────────────────────────────────────────

Histogram::Histogram(std::string name, std::string help, std::vector<double> upper_bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      bounds_(std::move(upper_bounds)),
      counts_(bounds_.size() + 1, 0) {
  check_metric_name(name_);
  TT_CHECK_VALUE(!bounds_.empty(), name_, ": a histogram needs at least one bucket bound");
  for (size_t i = 0; i < bounds_.size(); ++i) {
    TT_CHECK_VALUE(std::isfinite(bounds_[i]), name_, ": bucket bound ", i, " is ", bounds_[i],
                   "; expected finite bounds (+Inf is always the last bucket)");
    TT_CHECK_VALUE(i == 0 || bounds_[i - 1] < bounds_[i], name_,
                   ": bucket bounds must be strictly increasing, got ", bounds_[i - 1], " then ",
                   bounds_[i]);
  }
}

std::vector<double> Histogram::latency_buckets() {
  return {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0};
}

void Histogram::observe(double value) {
  // BEGIN SOLUTION
  TT_CHECK_VALUE(!std::isnan(value), name_, ": cannot observe NaN");
  // The first bound >= value ("le"): lower_bound. Past the last bound: the +Inf bucket.
  const auto bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                          bounds_.begin());
  std::lock_guard<std::mutex> lock(mutex_);
  ++counts_[bucket];
  sum_ += value;
  ++count_;
  // END SOLUTION
}

HistogramSnapshot Histogram::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {bounds_, counts_, sum_, count_};
}

std::string Histogram::expose() const {
  return header(name_, help_, "histogram") + histogram_lines(name_, snapshot());
}

double Histogram::quantile(double q) const {
  TT_CHECK_VALUE(q >= 0.0 && q <= 1.0, name_, ": quantile q must be in [0, 1], got ", q);
  return histogram_quantile(snapshot(), q);
}

// ── drift ────────────────────────────────────────────────────────────────────────────────────

int64_t drift_bucket(std::span<const float> edges, float v) {
  // The inner edges are edges[1 .. B-1]; the bucket is how many of them lie strictly below v.
  const auto inner_begin = edges.begin() + 1, inner_end = edges.end() - 1;
  return std::lower_bound(inner_begin, inner_end, v) - inner_begin;
}

DriftReference fit_drift(const Tensor& inputs, int64_t buckets) {
  TT_CHECK_VALUE(inputs.dim() == 2 && inputs.size(0) >= 1 && inputs.dtype() == kFloat32,
                 "fit_drift(): expected training inputs [N, F] float32 with N >= 1, got shape ",
                 inputs.sizes(), " ", to_string(inputs.dtype()));
  TT_CHECK_VALUE(buckets >= 2 && buckets <= 100, "fit_drift(): buckets must be in [2, 100], got ",
                 buckets);
  return fit_equal_frequency(inputs, buckets);
}

OrderedDict<std::string, Tensor> drift_statistics(const DriftReference& reference) {
  OrderedDict<std::string, Tensor> out;
  out.insert("drift.edges", reference.edges);
  out.insert("drift.expected", reference.expected);
  return out;
}

DriftReference drift_from_statistics(const OrderedDict<std::string, Tensor>& statistics) {
  const Tensor* edges = statistics.find("drift.edges");
  const Tensor* expected = statistics.find("drift.expected");
  TT_CHECK_VALUE(edges != nullptr && expected != nullptr,
                 "drift statistics: expected the keys 'drift.edges' and 'drift.expected' (from "
                 "drift_statistics(fit_drift(training inputs)) at export); they are missing");
  TT_CHECK_VALUE(expected->dim() == 2 && edges->dim() == 2 && expected->size(1) >= 2 &&
                     edges->size(0) == expected->size(0) &&
                     edges->size(1) == expected->size(1) + 1 && edges->dtype() == kFloat32 &&
                     expected->dtype() == kFloat32,
                 "drift statistics: expected drift.edges [F, B+1] and drift.expected [F, B] "
                 "float32 with B >= 2, got ",
                 edges->sizes(), " and ", expected->sizes());
  return {edges->contiguous(), expected->contiguous()};
}

double psi(std::span<const double> actual, std::span<const double> expected, double eps) {
  TT_CHECK_VALUE(!actual.empty() && actual.size() == expected.size(),
                 "psi(): expected two distributions over the same buckets, got ", actual.size(),
                 " and ", expected.size(), " buckets");
  TT_CHECK_VALUE(eps > 0.0, "psi(): eps must be > 0, got ", eps);
  return psi_sum(actual, expected, eps);
}

DriftMonitor::DriftMonitor(DriftReference reference)
    : reference_(std::move(reference)),
      counts_(static_cast<size_t>(reference_.num_features() * reference_.num_buckets()), 0) {}

void DriftMonitor::observe(const Tensor& inputs) {
  const int64_t features = reference_.num_features(), buckets = reference_.num_buckets();
  TT_CHECK_VALUE(inputs.dtype() == kFloat32 && inputs.numel() % features == 0,
                 "DriftMonitor::observe(): expected float32 rows of ", features,
                 " features, got shape ", inputs.sizes(), " ", to_string(inputs.dtype()));
  const Tensor x = inputs.contiguous();
  const float* data = x.data_ptr<float>();
  const float* edges = reference_.edges.data_ptr<float>();
  const int64_t rows = x.numel() / features;
  std::lock_guard<std::mutex> lock(mutex_);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t f = 0; f < features; ++f) {
      const std::span<const float> row(edges + f * (buckets + 1), static_cast<size_t>(buckets + 1));
      ++counts_[static_cast<size_t>(f * buckets + drift_bucket(row, data[r * features + f]))];
    }
  }
  samples_ += rows;
}

DriftReport DriftMonitor::report() const {
  const int64_t features = reference_.num_features(), buckets = reference_.num_buckets();
  DriftReport report;
  std::vector<int64_t> counts;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    counts = counts_;
    report.samples = samples_;
  }
  if (report.samples == 0) return report;
  const float* expected = reference_.expected.data_ptr<float>();
  std::vector<double> a(static_cast<size_t>(buckets)), e(static_cast<size_t>(buckets));
  double total = 0.0;
  for (int64_t f = 0; f < features; ++f) {
    for (int64_t j = 0; j < buckets; ++j) {
      a[static_cast<size_t>(j)] =
          static_cast<double>(counts[static_cast<size_t>(f * buckets + j)]) /
          static_cast<double>(report.samples);
      e[static_cast<size_t>(j)] = expected[f * buckets + j];
    }
    const double p = psi(a, e);
    report.psi.push_back(p);
    total += p;
    if (p > report.max_psi || report.max_feature < 0) {
      report.max_psi = p;
      report.max_feature = f;
    }
    report.above_moderate += p > 0.1 ? 1 : 0;
    report.above_major += p > 0.25 ? 1 : 0;
  }
  report.mean_psi = total / static_cast<double>(features);
  return report;
}

// ── SLO ──────────────────────────────────────────────────────────────────────────────────────

std::string SloReport::describe() const {
  char text[160];
  std::snprintf(text, sizeof(text), "p%g %.2f ms <= %.2f ms over %lld requests: %s",
                quantile * 100.0, observed_seconds * 1e3, target_seconds * 1e3,
                static_cast<long long>(samples),
                samples == 0 ? "no data" : (met ? "met" : "VIOLATED"));
  return text;
}

SloReport check_latency_slo(std::span<const double> latencies_seconds, double q,
                            double target_seconds) {
  TT_CHECK_VALUE(q > 0.0 && q <= 1.0, "check_latency_slo(): q must be in (0, 1], got ", q);
  TT_CHECK_VALUE(target_seconds > 0.0, "check_latency_slo(): the target must be > 0 s, got ",
                 target_seconds);
  SloReport r;
  r.quantile = q;
  r.target_seconds = target_seconds;
  r.samples = static_cast<int64_t>(latencies_seconds.size());
  r.observed_seconds = std::numeric_limits<double>::quiet_NaN();
  if (r.samples == 0) return r;
  r.observed_seconds = benchmark::percentile(latencies_seconds, q * 100.0);
  r.met = r.observed_seconds <= target_seconds;
  return r;
}

LatencyWindow::LatencyWindow(size_t capacity) : capacity_(capacity) {
  TT_CHECK_VALUE(capacity >= 1, "LatencyWindow: capacity must be >= 1");
  ring_.reserve(capacity);
}

void LatencyWindow::add(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (ring_.size() < capacity_) {
    ring_.push_back(seconds);
  } else {
    ring_[next_] = seconds;
  }
  next_ = (next_ + 1) % capacity_;
}

std::vector<double> LatencyWindow::values() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (ring_.size() < capacity_) return ring_;
  std::vector<double> out(ring_.begin() + static_cast<std::ptrdiff_t>(next_), ring_.end());
  out.insert(out.end(), ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(next_));
  return out;
}

}  // namespace tinytorch::deploy
