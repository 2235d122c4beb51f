// The summary tables of `tito bench`: every figure of a run (bench/bench_harness.h's JSON
// records), and the tables and target checks printed from them. Split from cmd_bench.cpp, which
// builds and runs the programs, so that tests/course can feed the tables records of its own.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace tito::bench {

using Json = nlohmann::ordered_json;

// Every record of the run, in the order measured. A record holds a figure (kFigureFields), or says
// why the figure was not measured ("skipped") or how measuring it failed ("failed").
class Records {
 public:
  void add(const Json& record) { all_.push_back(record); }
  [[nodiscard]] const std::vector<Json>& all() const { return all_; }

  // The record with these fields (impl and optimizer "", n and threads 0 = absent), or nullptr.
  [[nodiscard]] const Json* find(const std::string& name, const std::string& impl, int64_t n,
                                 int64_t threads, const std::string& optimizer = "") const {
    for (const Json& r : all_) {
      if (r.value("name", "") == name && r.value("impl", "") == impl &&
          r.value("n", int64_t{0}) == n && r.value("threads", int64_t{0}) == threads &&
          r.value("optimizer", "") == optimizer) {
        return &r;
      }
    }
    return nullptr;
  }

  // The figure of that record, if it was measured.
  [[nodiscard]] std::optional<double> figure(const std::string& name, const std::string& impl,
                                             int64_t n, int64_t threads,
                                             const std::string& optimizer = "") const {
    const Json* r = find(name, impl, n, threads, optimizer);
    if (r == nullptr || !is_figure(*r)) return std::nullopt;
    return (*r)[figure_field(*r)].get<double>();
  }

  // A table cell for that record: its figure, "skipped", "FAILED", or "-" when there is none.
  [[nodiscard]] std::string cell(const std::string& name, const std::string& impl, int64_t n,
                                 int64_t threads, int decimals = 1,
                                 const std::string& optimizer = "") const;

  // The values of field `field` (e.g. "n", "threads") among the measured records named `name`.
  [[nodiscard]] std::vector<int64_t> values(const std::string& name,
                                            const std::string& field) const {
    std::set<int64_t> found;
    for (const Json& r : all_) {
      if (r.value("name", "") == name && r.contains(field) && is_figure(r)) {
        found.insert(r[field].get<int64_t>());
      }
    }
    return {found.begin(), found.end()};
  }

  // The field holding a record's figure, "" when it has none (skipped or failed).
  static const char* figure_field(const Json& r) {
    for (const char* field : kFigureFields) {
      if (r.contains(field)) return field;
    }
    return "";
  }
  static bool is_figure(const Json& r) { return *figure_field(r) != '\0'; }

  // The 95% bootstrap interval of a record's figure (the field "<figure field>_ci95", which the
  // harness writes when the figure is the median of several repetitions), if it has one.
  static std::optional<std::pair<double, double>> interval(const Json& r);

  // The units a figure can have: kernels' rates, end-to-end rates, times and sizes. (A record
  // may hold several, e.g. gpt_train's tokens_per_second and seconds, resnet_inference's
  // images_per_second and ms: the first listed here is its figure.)
  static constexpr const char* kFigureFields[] = {
      "tokens_per_second", "images_per_second", "gflops", "gbps", "seconds", "ms", "mib"};

 private:
  std::vector<Json> all_;
};

// Figure a against figure b (records of the same unit): "higher" or "lower" only when their 95%
// intervals separate, "no significant difference" when they overlap, and "" when either record
// is missing or has no interval (one repetition, e.g. --quick): then there is no verdict to give.
std::string verdict(const Json* a, const Json* b);

// The tables of each program (tito bench's kPrograms): figures, ratios to the baselines measured
// in the same run, and each issue target with "met" / "NOT MET".
void print_peak(const Records& records);
void print_sgemm(const Records& records);
void print_mlp(const Records& records);
void print_cnn(const Records& records);
void print_gpt(const Records& records);
void print_gpt256(const Records& records);
void print_resnet(const Records& records);
void print_quant(const Records& records);
void print_ops(const Records& records);
void print_lstm(const Records& records);
void print_ddp(const Records& records);
void print_amp(const Records& records);
// Every figure of a program that has no table of its own.
void print_generic(const std::string& title, const std::vector<Json>& program_records);

// --contended: a second thread must never make a call much slower than one thread.
inline constexpr double kContendedTarget = 0.9;
// The 2-thread/1-thread ratios measured beside a competitor spinning on CPU `cpu`, each against
// kContendedTarget.
void print_contended(const Records& records, int cpu);

}  // namespace tito::bench
