// modules/lab_support/lab_support.cpp — see lab_support.h.
#include "lab_support/lab_support.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <thread>
#include <utility>

#include "tinytorch/benchmark/timer.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/train/logging.h"

namespace tinytorch::lab {

// ── The command line ────────────────────────────────────────────────────────────────────────
namespace {

void print_usage(std::ostream& os, const char* argv0, const CommandLine& cli) {
  os << "usage: " << argv0 << " [--quick]" << (cli.json ? " [--json PATH]" : "")
     << (cli.no_cache ? " [--no-cache]" : "") << (cli.only_help.empty() ? "" : " [--only LIST]")
     << (cli.threads_help.empty() ? "" : " [--threads N]") << "\n"
     << "  --quick      " << cli.quick_help << "\n";
  if (cli.json) os << "  --json PATH  also write every measured figure to PATH (JSON)\n";
  if (cli.no_cache) {
    os << "  --no-cache   use the plain allocator (fresh memory, page faults) for tensors\n";
  }
  if (!cli.only_help.empty())
    os << "  --only LIST  run only these experiments, " << cli.only_help << "\n";
  if (!cli.threads_help.empty()) os << "  --threads N  " << cli.threads_help << "\n";
}

}  // namespace

std::optional<int> parse_command_line(int argc, char** argv, const CommandLine& cli,
                                      Options& opts) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--quick") {
      opts.quick = true;
    } else if (cli.no_cache && arg == "--no-cache") {
      opts.no_cache = true;
    } else if (!cli.only_help.empty() && arg == "--only" && has_value) {
      opts.only = argv[++i];
    } else if (!cli.threads_help.empty() && arg == "--threads" && has_value) {
      // All of the text, base 10: "abc" and "2x" are not numbers (std::atoi would read 0 and 2).
      const std::string_view text = argv[++i];
      const char* end = text.data() + text.size();
      const auto [ptr, ec] = std::from_chars(text.data(), end, opts.threads);
      constexpr int kMaxThreads = 1024;
      const std::string expected =
          "expected a whole number from 1 to " + std::to_string(kMaxThreads);
      if (text.empty() || ptr != end || ec == std::errc::invalid_argument) {
        std::cerr << cli.name << ": --threads: '" << text << "' is not a whole number; " << expected
                  << "\n";
        return 2;
      }
      if (ec == std::errc::result_out_of_range || opts.threads < 1 || opts.threads > kMaxThreads) {
        std::cerr << cli.name << ": --threads: " << text << " is out of range; " << expected
                  << "\n";
        return 2;
      }
    } else if (cli.json && arg == "--json" && has_value) {
      opts.json_path = argv[++i];
    } else if (cli.json && arg.starts_with("--json=")) {
      opts.json_path = std::string(arg.substr(7));
    } else if (arg == "--help" || arg == "-h") {
      print_usage(std::cout, argv[0], cli);
      return 0;
    } else {
      std::cerr << cli.name << ": unknown or incomplete argument '" << arg << "'\n";
      print_usage(std::cerr, argv[0], cli);
      return 2;
    }
  }
  // Caught here, not after a minute of measuring: the file would be a directory's "name".
  if (!opts.json_path.empty() && opts.json_path.back() == '/') {
    std::cerr << cli.name << ": --json needs a file name, got a directory '" << opts.json_path
              << "'\n";
    return 2;
  }
  return std::nullopt;
}

// ── Timing ──────────────────────────────────────────────────────────────────────────────────
double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

Timing summarise(std::vector<double> samples) {
  Timing t;
  t.median = median(samples);
  const auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
  if (lo != samples.end()) {
    t.min = *lo;
    t.max = *hi;
  }
  t.samples = std::move(samples);
  return t;
}

namespace {
bool g_thread_cpu_clock = false;
}  // namespace

void use_thread_cpu_clock(bool on) {
  g_thread_cpu_clock = on;
}

bool using_thread_cpu_clock() {
  return g_thread_cpu_clock;
}

double now_seconds() {
  if (g_thread_cpu_clock) {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<Timing> measure_round_robin(int warmup, int reps,
                                        const std::vector<std::function<void()>>& bodies,
                                        int64_t calls_per_body) {
  for (int i = 0; i < warmup; ++i) {
    for (const auto& body : bodies) body();
  }
  std::vector<std::vector<double>> samples(bodies.size());
  for (auto& s : samples) s.reserve(static_cast<size_t>(reps));
  for (int i = 0; i < reps; ++i) {
    for (size_t b = 0; b < bodies.size(); ++b) {
      const double t0 = now_seconds();
      bodies[b]();
      const double t1 = now_seconds();
      samples[b].push_back((t1 - t0) / static_cast<double>(calls_per_body));
    }
  }
  std::vector<Timing> out;
  out.reserve(samples.size());
  for (auto& s : samples) out.push_back(summarise(std::move(s)));
  return out;
}

Timing measure(int warmup, int reps, int64_t calls_per_body, const std::function<void()>& body) {
  return measure_round_robin(warmup, reps, {body}, calls_per_body).front();
}

std::vector<std::function<void()>> repeated(int64_t n, std::vector<std::function<void()>> bodies) {
  for (auto& body : bodies) {
    body = [n, once = std::move(body)] {
      for (int64_t i = 0; i < n; ++i) once();
    };
  }
  return bodies;
}

json to_json(const Timing& t) {
  return {{"median_s", t.median}, {"min_s", t.min}, {"max_s", t.max}, {"samples_s", t.samples}};
}

double Stopwatch::wall_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
}

double Stopwatch::cpu_seconds() const {
  return static_cast<double>(std::clock() - cpu0_) / CLOCKS_PER_SEC;
}

// ── Formatting ──────────────────────────────────────────────────────────────────────────────
std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string sci(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*e", decimals, v);
  return buf;
}

std::string human_time(double seconds) {
  const double ns = seconds * 1e9;
  auto sig3 = [](double v) { return fixed(v, v >= 100 ? 0 : v >= 10 ? 1 : 2); };
  if (ns < 1e3) return sig3(ns) + " ns";
  if (ns < 1e6) return sig3(ns / 1e3) + " µs";
  if (ns < 1e9) return sig3(ns / 1e6) + " ms";
  return sig3(ns / 1e9) + " s";
}

std::string human_bytes(double bytes, int mib_decimals) {
  const double a = std::abs(bytes);
  if (a < 1024) return fixed(bytes, 0) + " B";
  if (a < 1024.0 * 1024) return fixed(bytes / 1024, 1) + " KiB";
  if (a < 1024.0 * 1024 * 1024) return fixed(bytes / (1024.0 * 1024), mib_decimals) + " MiB";
  return fixed(bytes / (1024.0 * 1024 * 1024), 2) + " GiB";
}

std::string ratio(double v) {
  return fixed(v, v >= 100 ? 0 : v >= 10 ? 1 : 2) + "×";
}

std::string shape_str(IntArrayRef shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

size_t display_width(std::string_view s) {
  // UTF-8 continuation bytes are 10xxxxxx; every other byte starts a code point.
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

void Table::print() const {
  std::vector<size_t> width(rows_.front().size(), 0);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) {
      width[c] = std::max(width[c], display_width(row[c]));
    }
  }
  size_t total = 0;
  for (size_t w : width) total += w + 2;
  for (size_t r = 0; r < rows_.size(); ++r) {
    std::string line = "  ";
    for (size_t c = 0; c < width.size(); ++c) {
      const std::string& cell = c < rows_[r].size() ? rows_[r][c] : std::string();
      const std::string pad(width[c] - display_width(cell), ' ');
      line += c == 0 ? cell + pad : pad + cell;
      if (c + 1 < width.size()) line += "  ";
    }
    std::cout << line << "\n";
    if (r == 0) {
      std::string rule = "  ";
      for (size_t i = 0; i + 2 < total; ++i) rule += "─";
      std::cout << rule << "\n";
    }
  }
}

namespace {
constexpr size_t kPageWidth = 96;  // columns of a heading and of a "meaning" paragraph
}  // namespace

void heading(std::string_view id, std::string_view title, std::string_view what) {
  std::cout << "\n━━ " << id << ". " << title << " ";
  for (size_t i = display_width(title) + id.size() + 6; i < kPageWidth; ++i) std::cout << "━";
  std::cout << "\n  " << what << "\n\n";
}

void meaning(const std::string& text) {
  std::string line = "  → ", word;
  size_t width = display_width(line);
  std::cout << "\n";
  auto flush_word = [&] {
    if (word.empty()) return;
    if (width + 1 + display_width(word) > kPageWidth && width > 4) {
      std::cout << line << "\n";
      line = "    ";
      width = 4;
    } else if (width > 4) {
      line += ' ';
      ++width;
    }
    line += word;
    width += display_width(word);
    word.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '\n') {
      flush_word();
    } else {
      word += c;
    }
  }
  flush_word();
  std::cout << line << "\n";
}

// ── Memory ──────────────────────────────────────────────────────────────────────────────────
int64_t peak_bytes(const std::function<void()>& f) {
  Allocator* a = get_allocator();
  a->reset_peak();
  const int64_t before = a->stats().live_bytes;
  f();
  return a->stats().peak_bytes - before;
}

// ── The run ─────────────────────────────────────────────────────────────────────────────────
std::string cpu_model() {
  return benchmark::cpu_model();
}

void print_title(std::string_view title, std::string_view quick_note,
                 std::string_view threads_note) {
  std::cout << title << quick_note << "\n  CPU: " << cpu_model() << ", "
            << std::thread::hardware_concurrency() << " hardware threads" << threads_note
            << "; compiler: " << __VERSION__
#ifdef NDEBUG
            << " (optimised, NDEBUG)"
#endif
            << "\n";
  print_which_code();
}

void print_which_code() {
  std::cout << kernels::which_code_report();
}

json machine_json() {
  return {{"cpu", cpu_model()},
          {"hardware_threads", std::thread::hardware_concurrency()},
          {"compiler", __VERSION__}};
}

LabAllocator::LabAllocator(bool plain_only) : plain_only_(plain_only) {
  set_allocator(plain_only_ ? static_cast<Allocator*>(&plain_) : &cache_);
}

LabAllocator::~LabAllocator() {
  set_allocator(nullptr);
}

int run_experiments(const std::vector<Experiment>& experiments, const Options& opts,
                    std::string_view module, json& doc) {
  int failed = 0;
  for (const auto& e : experiments) {
    const auto letter = static_cast<unsigned char>(e.key[0]);
    if (!opts.only.empty() &&
        opts.only.find(static_cast<char>(std::toupper(letter))) == std::string::npos &&
        opts.only.find(static_cast<char>(std::tolower(letter))) == std::string::npos) {
      continue;
    }
    try {
      doc["experiments"][e.key] = e.run();
    } catch (const NotImplementedError& err) {
      ++failed;
      std::cout << "\n  ✗ skipped — part of the framework is not written yet:\n    " << err.what()
                << "\n    (run `./tito test --module " << module
                << "` to see which parts still fail)\n";
      doc["experiments"][e.key] = {{"error", err.what()}};
    } catch (const std::exception& err) {
      ++failed;
      std::cout << "\n  ✗ failed: " << err.what() << "\n";
      doc["experiments"][e.key] = {{"error", err.what()}};
    }
  }
  return failed;
}

void print_done(double wall_seconds, int failed) {
  std::cout << "\nDone in " << fixed(wall_seconds, 1) << " s"
            << (failed ? " — " + std::to_string(failed) + " experiment(s) did not run" : "") << ".";
}

void print_cpu_share(double wall_seconds, double cpu_seconds) {
  // On one thread, CPU time ≈ wall time unless other programs took turns on our core.
  // (Meaningless for a run of a fraction of a second.)
  if (wall_seconds < 1.0) return;
  std::cout << " The lab (one thread) was on a CPU for "
            << fixed(100 * cpu_seconds / wall_seconds, 0) << "% of that time"
            << (cpu_seconds < 0.9 * wall_seconds
                    ? ": other programs competed for the CPU, so times are inflated and noisier "
                      "than usual."
                    : ".");
}

namespace {

bool write_text(std::string_view name, const std::string& path, const std::string& text) {
  try {
    train::write_file_atomically(path, text);
  } catch (const std::exception& err) {
    std::cerr << name << ": could not write " << path << ": " << err.what() << "\n";
    return false;
  }
  std::cout << "Wrote " << path << "\n";
  return true;
}

}  // namespace

bool write_json(std::string_view name, const std::string& path, const nlohmann::json& doc) {
  return write_text(name, path, doc.dump(2) + "\n");
}

bool write_json(std::string_view name, const std::string& path, const nlohmann::ordered_json& doc) {
  return write_text(name, path, doc.dump(2) + "\n");
}

}  // namespace tinytorch::lab
