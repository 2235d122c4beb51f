// Timing a C++ callable (see tinytorch/benchmark/timer.h).
#include "tinytorch/benchmark/timer.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <sstream>
#include <utility>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"

namespace tinytorch::benchmark {

namespace {

using Clock = std::chrono::steady_clock;

// The first line of `path`, "" if it cannot be read.
std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// /proc/loadavg: "0.52 0.40 0.31 2/345 12345" — load averages over 1, 5 and 15 minutes, then
// runnable/total scheduling entities. Anything unexpected leaves the fields unknown (-1).
void read_load(MachineInfo& info) {
  std::istringstream in(first_line("/proc/loadavg"));
  double one = -1, five = 0, fifteen = 0;
  std::string tasks;
  if (!(in >> one >> five >> fifteen >> tasks) || !(one >= 0)) return;
  info.load_average = one;
  int64_t runnable = -1;
  const auto [end, error] = std::from_chars(tasks.data(), tasks.data() + tasks.size(), runnable);
  if (error == std::errc() && end != tasks.data() && *end == '/' && runnable >= 0) {
    info.runnable = runnable;
  }
}

std::string format_time(double seconds) {
  char text[32];
  const double a = std::fabs(seconds);
  if (a >= 1.0) {
    std::snprintf(text, sizeof text, "%.3g s", seconds);
  } else if (a >= 1e-3) {
    std::snprintf(text, sizeof text, "%.3g ms", seconds * 1e3);
  } else if (a >= 1e-6) {
    std::snprintf(text, sizeof text, "%.3g µs", seconds * 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.3g ns", seconds * 1e9);
  }
  return text;
}

// choose_block_size() after its checks: grow n until a block of n calls lasts min_block_seconds.
int64_t grow_block(const std::function<double(int64_t)>& time_block, double min_block_seconds) {
  // BEGIN SOLUTION
  constexpr int64_t kMaxBlock = int64_t{1} << 40;
  int64_t n = 1;
  for (;;) {
    const double t = time_block(n);
    if (t >= min_block_seconds) return n;
    // Too short. A block's time grows about linearly with n, so aim 10% past the target — but at
    // most ×10 per trial: the first calls may run slow (cold caches), and a clock coarser than
    // the block reads 0, which says nothing about how far off we are.
    const double scale = t > 0.0 ? std::min(10.0, 1.1 * min_block_seconds / t) : 10.0;
    n = std::max(n + 1, static_cast<int64_t>(std::ceil(static_cast<double>(n) * scale)));
    TT_CHECK(n <= kMaxBlock, "choose_block_size(): ", kMaxBlock, " calls still took less than ",
             min_block_seconds, " s: is the timed callable doing anything?");
  }
  // END SOLUTION
}

}  // namespace

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      const auto start = line.find_first_not_of(' ', colon == std::string::npos ? 0 : colon + 1);
      if (colon != std::string::npos && start != std::string::npos) return line.substr(start);
    }
  }
  return "unknown";
}

MachineInfo machine_info() {
  MachineInfo info;
  info.cpu_model = cpu_model();
  info.isa = kernels::to_string(kernels::get_cpu_capability());
  info.threads = get_num_threads();
  read_load(info);
  const std::string source =
      first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  info.clock = "steady_clock (kernel clocksource: " + (source.empty() ? "unknown" : source) + ")";
  const char* commit = std::getenv("TINYTORCH_COMMIT");
  info.commit = commit != nullptr && *commit != '\0' ? commit : "unknown";
  return info;
}

std::string MachineInfo::describe() const {
  std::ostringstream out;
  out << cpu_model << ", " << isa << ", " << threads << " thread(s), load ";
  if (load_average >= 0) {
    char text[16];
    std::snprintf(text, sizeof text, "%.2f", load_average);
    out << text;
  } else {
    out << "unknown";
  }
  out << ", " << (runnable >= 0 ? std::to_string(runnable) : "unknown") << " runnable, " << clock
      << ", commit " << commit;
  return out.str();
}

Measurement summarize(std::string label, std::vector<double> samples, int64_t number_per_run,
                      const BootstrapOptions& options) {
  TT_CHECK_VALUE(number_per_run >= 1, "summarize(): number_per_run must be >= 1, got ",
                 number_per_run);
  Measurement m;
  m.median_ci = bootstrap_median_ci(samples, options);  // checks samples and options first
  m.label = std::move(label);
  m.number_per_run = number_per_run;
  m.confidence = options.confidence;
  m.samples = std::move(samples);
  m.median = median(m.samples);
  m.mean = std::accumulate(m.samples.begin(), m.samples.end(), 0.0) /
           static_cast<double>(m.samples.size());
  const auto [lo, hi] = std::minmax_element(m.samples.begin(), m.samples.end());
  m.min = *lo;
  m.max = *hi;
  m.iqr = benchmark::percentile(m.samples, 75.0) - benchmark::percentile(m.samples, 25.0);
  m.outliers = tukey_outliers(m.samples);
  return m;
}

double Measurement::percentile(double q) const {
  return benchmark::percentile(samples, q);
}

std::string Measurement::describe() const {
  std::ostringstream out;
  out << label << (label.empty() ? "" : ": ") << "median " << format_time(median) << " ["
      << format_time(median_ci.low) << ", " << format_time(median_ci.high) << "] ("
      << std::lround(100 * confidence) << "% CI), IQR " << format_time(iqr) << ", min "
      << format_time(min) << ", " << samples.size() << " block(s) × " << number_per_run
      << " call(s), " << outliers.indices.size() << " outlier(s)";
  return out.str();
}

int64_t choose_block_size(const std::function<double(int64_t)>& time_block,
                          double min_block_seconds) {
  TT_CHECK_VALUE(min_block_seconds > 0.0,
                 "choose_block_size(): min_block_seconds must be > 0, got ", min_block_seconds);
  return grow_block(time_block, min_block_seconds);
}

Timer::Timer(std::function<void()> stmt, std::string label)
    : stmt_(std::move(stmt)), label_(std::move(label)) {
  TT_CHECK_VALUE(static_cast<bool>(stmt_), "Timer: expected a callable, got an empty function");
}

double Timer::time_block(int64_t number) {
  const auto start = Clock::now();
  for (int64_t i = 0; i < number; ++i) stmt_();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Measurement Timer::timeit(int64_t number) {
  return repeat(1, number, 1);
}

Measurement Timer::repeat(int64_t repeats, int64_t number, int64_t warmup) {
  TT_CHECK_VALUE(repeats >= 1 && number >= 1 && warmup >= 0,
                 "Timer::repeat(): expected repeats >= 1, number >= 1, warmup >= 0, got ", repeats,
                 ", ", number, ", ", warmup);
  const MachineInfo machine = machine_info();  // before the run: the load we ran into
  time_block(warmup);
  std::vector<double> samples;
  for (int64_t r = 0; r < repeats; ++r) {
    samples.push_back(time_block(number) / static_cast<double>(number));
  }
  Measurement m = summarize(label_, std::move(samples), number);
  m.machine = machine;
  return m;
}

Measurement Timer::blocked_autorange(double min_run_time) {
  TT_CHECK_VALUE(min_run_time > 0.0 && min_run_time <= 3600.0,
                 "Timer::blocked_autorange(): min_run_time must be in (0, 3600] s, got ",
                 min_run_time);
  const MachineInfo machine = machine_info();
  // Warm-up: caches, page faults, the thread team, the CPU's clock ramping up.
  const auto start = Clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  do stmt_();
  while (elapsed() < 0.1 * min_run_time);
  const int64_t number = choose_block_size([this](int64_t n) { return time_block(n); },
                                           std::max(kMinBlockSeconds, min_run_time / 100.0));
  std::vector<double> samples;
  const auto run_start = Clock::now();
  while (static_cast<int64_t>(samples.size()) < kMinBlocks ||
         std::chrono::duration<double>(Clock::now() - run_start).count() < min_run_time) {
    samples.push_back(time_block(number) / static_cast<double>(number));
  }
  Measurement m = summarize(label_, std::move(samples), number);
  m.machine = machine;
  return m;
}

}  // namespace tinytorch::benchmark
