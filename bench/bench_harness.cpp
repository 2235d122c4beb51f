#include "bench_harness.h"

#include <time.h>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <variant>

#include "machine_limits.h"
#include "tinytorch/benchmark/stats.h"
#include "tinytorch/benchmark/timer.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/core/parallel.h"

namespace tinytorch::bench {

namespace benchmark_stats = tinytorch::benchmark;

namespace {

// 9 repetitions of at least 0.1 s rather than 5 of 0.2 s: the same time, but each figure's median
// is taken from more samples spread over the run, so it follows the run's average speed more
// closely and a ratio of two figures carries less of the VM's drift.
constexpr int kRepetitions = 9, kQuickRepetitions = 1;
constexpr double kMinSeconds = 0.1, kQuickMinSeconds = 0.05;

// The rate counter Google Benchmark computes for each unit (work per call / real time per call).
const char* counter_name(Unit unit) {
  return unit == Unit::kGflops ? "FLOP/s" : "bytes/s";
}
const char* record_field(Unit unit) {
  return unit == Unit::kGflops ? "gflops" : "gbps";
}
const char* unit_text(Unit unit) {
  return unit == Unit::kGflops ? "GFLOP/s" : "GB/s";
}

// TINYTORCH_BENCH_CLOCK=thread-cpu: 1-thread figures are timed by the calling thread's CPU clock
// (CLOCK_THREAD_CPUTIME_ID: the time the work held a core, which other programs cannot inflate,
// as module 18's lab times them) instead of the wall clock. On a busy machine that keeps a
// 1-thread ratio such as ours/OpenBLAS meaningful; figures of more threads need the wall clock.
bool thread_cpu_clock() {
  static const bool on = [] {
    const char* value = std::getenv("TINYTORCH_BENCH_CLOCK");
    if (value == nullptr || std::string(value) == "wall") return false;
    if (std::string(value) == "thread-cpu") return true;
    std::cerr << "error: TINYTORCH_BENCH_CLOCK=" << value << ": expected wall or thread-cpu\n";
    std::exit(2);
  }();
  return on;
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// 3 decimals: the records' precision.
double rounded(double value) {
  return std::round(value * 1000.0) / 1000.0;
}

// The 95% bootstrap interval of the median of a figure's repetitions (module 19), when there are
// enough for a verdict (kMinSamplesForVerdict; --quick measures once) and, in a learner release,
// once module 19 is written: until then the figures go without intervals.
std::optional<benchmark_stats::Interval> median_ci(const std::vector<double>& values) {
  if (values.size() < benchmark_stats::kMinSamplesForVerdict) return std::nullopt;
  try {
    return benchmark_stats::bootstrap_median_ci(values);
  } catch (const NotImplementedError&) {
    return std::nullopt;
  }
}

// The machine block every record carries (module 19's MachineInfo, read before the run).
nlohmann::ordered_json machine_json(const benchmark_stats::MachineInfo& info) {
  return {{"cpu", info.cpu_model},     {"isa", info.isa},
          {"threads", info.threads},   {"load_average", info.load_average},
          {"runnable", info.runnable}, {"clock", info.clock},
          {"commit", info.commit}};
}

nlohmann::ordered_json key_json(const Key& key) {
  nlohmann::ordered_json record = {{"name", key.name}};
  if (!key.impl.empty()) record["impl"] = key.impl;
  if (key.n > 0) record["n"] = key.n;
  if (key.threads > 0) record["threads"] = key.threads;
  return record;
}

std::string size_text(int bytes) {
  return bytes >= (1 << 20) ? std::to_string(bytes >> 20) + " MiB"
                            : std::to_string(bytes >> 10) + " KiB";
}

// tito mode's display: the machine in one line, then one line per figure (the median of its
// repetitions) as each benchmark finishes. It also keeps the medians for the records file.
class CompactReporter : public ::benchmark::BenchmarkReporter {
 public:
  CompactReporter(const std::map<std::string, Figure>& figures,
                  std::vector<std::pair<std::string, std::string>> context,
                  benchmark_stats::MachineInfo machine)
      : figures_(figures), context_(std::move(context)), machine_(std::move(machine)) {}

  bool ReportContext(const Context& context) override {
    const ::benchmark::CPUInfo& cpu = context.cpu_info;
    std::ostream& out = GetOutputStream();
    out << "  machine: " << cpu.num_cpus << " CPUs at " << std::fixed << std::setprecision(0)
        << cpu.cycles_per_second / 1e6 << " MHz";
    for (const auto& cache : cpu.caches) {
      if (cache.type == "Instruction") continue;
      out << ", L" << cache.level << (cache.type == "Data" ? "d " : " ") << size_text(cache.size);
      if (cache.num_sharing > 1) out << " per " << cache.num_sharing << " CPUs";
    }
    out << "\n";
    if (const auto busy = cpu_busy_fraction()) {
      out << "  CPU time used by other programs just before the run: " << std::setprecision(0)
          << 100.0 * *busy << "%";
      if (*busy > 0.1) {
        out << "\n  expect noisy figures, 2-thread ones most: measure on an idle machine (on a "
               "busy "
               "one, OMP_WAIT_POLICY=passive or one thread avoids the worst, see README.md, "
               "Benchmarks)";
      }
      out << "\n";
    }
    out << "  before the run: " << machine_.describe() << "\n";
    out << "  OpenMP wait policy: " << openmp_wait_policy() << "\n";
    out << "  clock: "
        << (thread_cpu_clock() ? "1-thread figures on the calling thread's CPU clock "
                                 "(TINYTORCH_BENCH_CLOCK=thread-cpu), others on the wall clock"
                               : "wall clock (TINYTORCH_BENCH_CLOCK=thread-cpu times 1-thread "
                                 "figures by the thread's CPU clock, for a busy machine)")
        << "\n";
    for (const auto& [key, value] : context_) out << "  " << key << ": " << value << "\n";
    out.flush();
    return true;
  }

  void ReportRuns(const std::vector<Run>& runs) override {
    std::vector<std::string> finished;
    for (const Run& run : runs) {
      const auto figure = figures_.find(run.report_label);
      if (run.run_type != Run::RT_Iteration || figure == figures_.end()) continue;
      const auto counter = run.counters.find(counter_name(figure->second.unit));
      if (counter == run.counters.end()) continue;  // failed: the suite recorded why
      auto& values = rates_[run.report_label];
      if (values.empty()) {
        finished.push_back(run.report_label);
        order_.push_back(run.report_label);
      }
      values.push_back(counter->second.value);
    }
    std::ostream& out = GetOutputStream();
    for (const std::string& label : finished) {
      const Unit unit = figures_.at(label).unit;
      const auto& values = rates_.at(label);
      out << "  " << std::left << std::setw(44) << label << std::right << std::setw(10)
          << std::fixed << std::setprecision(1) << benchmark_stats::median(values) / 1e9 << " "
          << unit_text(unit);
      if (values.size() > 1) out << "  (median of " << values.size();
      if (const auto ci = median_ci(values)) {
        out << ", 95% CI " << ci->low / 1e9 << "-" << ci->high / 1e9;
      }
      if (values.size() > 1) out << ")";
      out << "\n";
    }
    out.flush();
  }

  // Every measured figure as a record, in the order they were measured.
  [[nodiscard]] nlohmann::ordered_json records() const {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const std::string& label : order_) {
      const auto& values = rates_.at(label);
      const Figure& figure = figures_.at(label);
      nlohmann::ordered_json record = key_json(figure.key);
      const std::string field = record_field(figure.unit);
      record[field] = rounded(benchmark_stats::median(values) / 1e9);
      // tito prints a verdict on two figures only when these intervals separate.
      if (const auto ci = median_ci(values)) {
        record[field + "_ci95"] = {rounded(ci->low / 1e9), rounded(ci->high / 1e9)};
      }
      record["repetitions"] = values.size();
      if (figure.thread_cpu_clock) record["clock"] = "thread-cpu";
      record["machine"] = machine_json(machine_);
      list.push_back(std::move(record));
    }
    return list;
  }

 private:
  const std::map<std::string, Figure>& figures_;
  std::vector<std::pair<std::string, std::string>> context_;
  benchmark_stats::MachineInfo machine_;
  std::map<std::string, std::vector<double>> rates_;  // label -> rate of each repetition
  std::vector<std::string> order_;                    // labels, as they were measured
};

void write_json_atomically(const std::string& path, const nlohmann::ordered_json& value) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << value.dump(2) << "\n";
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  }
}

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  std::exit(2);
}

}  // namespace

std::string Key::describe() const {
  std::string text = name;
  if (!impl.empty()) text += " " + impl;
  if (n > 0) text += " n=" + std::to_string(n);
  if (threads > 0) text += " threads=" + std::to_string(threads);
  return text;
}

Suite::Suite(int& argc, char** argv)
    : argc_(argc), argv_(argv), failures_(std::make_shared<std::map<std::string, std::string>>()) {
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      quick_ = true;
    } else if (arg == "--records" || arg.rfind("--records=", 0) == 0) {
      if (arg == "--records") {
        if (i + 1 >= argc) usage_error("--records needs a file name");
        records_path_ = argv[++i];
      } else {
        records_path_ = arg.substr(std::strlen("--records="));
      }
      if (records_path_.empty()) usage_error("--records needs a file name");
    } else {
      if (arg == "--help" || arg == "-h") {
        std::cout << "Options of this benchmark program (the others are Google Benchmark's):\n"
                     "  --quick          1 repetition of >= 0.05 s per figure (default: 9 of "
                     ">= 0.1 s, median reported)\n"
                     "  --records PATH   print one line per figure and write them all to PATH "
                     "as JSON records (used by ./tito bench)\n\n";
      }
      argv[out++] = argv[i];
    }
  }
  argc = out;
  argv[argc] = nullptr;
}

void Suite::add(const Key& key, Unit unit, double work_per_call, Prepare prepare,
                double idle_after_seconds) {
  const std::string label = key.describe();
  const bool cpu_clock = thread_cpu_clock() && key.threads == 1;
  if (!figures_.emplace(label, Figure{key, unit, cpu_clock}).second) {
    throw std::logic_error("two benchmarks measure the same figure: " + label);
  }
  // Google Benchmark's name: "sgemm/tinytorch-fast/n:512/threads:1".
  std::string name = key.name;
  if (!key.impl.empty()) name += "/" + key.impl;
  if (key.n > 0) name += "/n:" + std::to_string(key.n);
  if (key.threads > 0) name += "/threads:" + std::to_string(key.threads);

  auto failures = failures_;
  ::benchmark::internal::Benchmark* benchmark =
      ::benchmark::RegisterBenchmark(
          name.c_str(),
          [label, unit, work_per_call, prepare, idle_after_seconds, failures,
           cpu_clock](::benchmark::State& state) {
            try {
              const Call call = prepare();
              call();  // warm-up: caches, page faults, starting the thread team
              for (auto _ : state) {
                const double start = cpu_clock ? thread_cpu_seconds() : 0.0;
                call();
                ::benchmark::ClobberMemory();
                if (cpu_clock) state.SetIterationTime(thread_cpu_seconds() - start);
              }
              std::this_thread::sleep_for(std::chrono::duration<double>(idle_after_seconds));
            } catch (const std::exception& e) {
              (*failures)[label] = e.what();
              state.SkipWithError(e.what());
              return;
            }
            state.SetLabel(label);
            state.counters[counter_name(unit)] = ::benchmark::Counter(
                work_per_call, ::benchmark::Counter::kIsIterationInvariantRate);
          })
          ->Unit(::benchmark::kMillisecond)
          ->MinTime(quick_ ? kQuickMinSeconds : kMinSeconds)
          ->Repetitions(quick_ ? kQuickRepetitions : kRepetitions);
  if (cpu_clock) {
    benchmark->UseManualTime();  // the thread's CPU time, SetIterationTime above
  } else {
    benchmark
        ->UseRealTime();  // wall-clock: the figure of a multi-threaded call must not add up CPUs
  }
}

void Suite::skip(const Key& key, std::string reason) {
  skipped_.emplace_back(key, std::move(reason));
}

void Suite::context(const std::string& key, const std::string& value) {
  context_.emplace_back(key, value);
  ::benchmark::AddCustomContext(key, value);
}

void Suite::impl_field(const std::string& impl, const std::string& field, FieldValue value) {
  impl_fields_[impl].emplace_back(field, std::move(value));
}

int Suite::run() {
  // Interleave the repetitions (see the header) unless the command line says otherwise.
  std::vector<char*> args(argv_, argv_ + argc_);
  std::string interleave = "--benchmark_enable_random_interleaving=true";
  if (std::none_of(args.begin(), args.end(), [](const char* arg) {
        return std::strstr(arg, "--benchmark_enable_random_interleaving") == arg;
      })) {
    args.push_back(interleave.data());
  }
  int argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  ::benchmark::Initialize(&argc, args.data());
  if (::benchmark::ReportUnrecognizedArguments(argc, args.data())) return 2;

  if (records_path_.empty()) {
    ::benchmark::RunSpecifiedBenchmarks();
    for (const auto& [key, reason] : skipped_) {
      std::cout << "skipped: " << key.describe() << ": " << reason << "\n";
    }
  } else {
    // Read before any benchmark runs: the load the run started under.
    CompactReporter reporter(figures_, context_, benchmark_stats::machine_info());
    ::benchmark::RunSpecifiedBenchmarks(&reporter);
    nlohmann::ordered_json records = reporter.records();
    for (const auto& [key, reason] : skipped_) {
      nlohmann::ordered_json record = key_json(key);
      record["skipped"] = reason;
      records.push_back(std::move(record));
      std::cout << "  " << std::left << std::setw(44) << key.describe() << " skipped: " << reason
                << "\n";
    }
    for (const auto& [label, message] : *failures_) {
      nlohmann::ordered_json record = key_json(figures_.at(label).key);
      record["failed"] = message;
      records.push_back(std::move(record));
    }
    for (nlohmann::ordered_json& record : records) {
      const auto fields = impl_fields_.find(record.value("impl", ""));
      if (fields == impl_fields_.end()) continue;
      for (const auto& [field, value] : fields->second) {
        std::visit([&, &field = field](const auto& v) { record[field] = v; }, value);
      }
    }
    write_json_atomically(records_path_, records);
  }
  ::benchmark::Shutdown();
  for (const auto& [label, message] : *failures_) {
    std::cerr << "FAILED: " << label << ": " << message << "\n";
  }
  return failures_->empty() ? 0 : 1;
}

int default_threads() {
  const int current = get_num_threads();
  set_num_threads(0);
  const int all = get_num_threads();
  set_num_threads(current);
  return all;
}

}  // namespace tinytorch::bench
