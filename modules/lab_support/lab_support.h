// modules/lab_support/lab_support.h — what every module lab needs besides its experiments: the
// command line, a stopwatch, timing by median of round-robin repeats, tables and headings, the
// JSON record and its atomic write.
//
// A lab is a program that measures what the module built. Its main() reads like this:
//
//   const CommandLine cli{.name = "lab01", .only_help = "e.g. --only AE (letters 0 A-F)"};
//   Options opts;
//   if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
//   const Config cfg{opts.quick, opts.quick ? 5 : 7, opts.quick ? 1 : 2};
//   const Stopwatch stopwatch;
//   print_title("TinyTorch module 01 lab — ...", cfg.quick ? " (--quick: small sizes)" : "");
//   json doc = {{"lab", "01_tensor"}, {"machine", machine_json()}, ...};
//   const int failed = run_experiments({{"a_traversal", [&] { return ...; }}, ...}, opts,
//                                      "01", doc);
//   print_done(stopwatch.wall_seconds(), failed);
//   ...
//   if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
//
// Only what several labs share lives here; what one lab measures its own way (its memory
// deltas, its table layouts, its CPU-time remarks) stays in its lab.cpp. Counting C++ heap
// allocations is heap_counter.h, linked only into the labs that ask for it. Labs say
// `using namespace tinytorch::lab;` and call these names unqualified.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinytorch/core/allocator.h"
#include "tinytorch/core/caching_allocator.h"
#include "tinytorch/core/int_array_ref.h"

namespace tinytorch::lab {

using json = nlohmann::json;

// ── The command line ────────────────────────────────────────────────────────────────────────
// Every lab takes --quick and (unless it writes no JSON) --json PATH / --json=PATH; the others
// are offered by the labs that say so below. The usage text is built from the same description,
// so `labNN --help` always lists exactly what the lab accepts.
struct CommandLine {
  std::string_view name;  // "lab01": prefixes error messages
  std::string_view quick_help = "small sizes: finishes in a few seconds (smoke test)";
  bool json = true;       // --json PATH: also write every measured figure to PATH
  bool no_cache = false;  // --no-cache: tensors from the plain allocator (see LabAllocator)
  std::string_view only_help = {};     // --only LIST: "e.g. --only AE (letters 0 A-F)"; "" = none
  std::string_view threads_help = {};  // --threads N: its help text; "" = not offered
};

struct Options {
  bool quick = false;
  bool no_cache = false;
  std::string json_path;  // "" = no JSON
  std::string only;       // experiment letters to run, e.g. "AE"; "" = all
  int threads = 0;        // 0 = the framework's default (TINYTORCH_NUM_THREADS or all cores)
};

// Parses argv into `opts`. Returns the exit code main() should return right away — 0 after
// --help, 2 after a bad argument (both print the usage) — or std::nullopt to go on.
std::optional<int> parse_command_line(int argc, char** argv, const CommandLine& cli, Options& opts);

// ── Keeping the optimiser honest ────────────────────────────────────────────────────────────
// A loop whose result is never used may be deleted by the compiler. Every measured loop stores
// its result here; a store to a volatile object can never be optimised away. (Inline, so that
// the store costs what a store costs, not a function call.)
inline volatile double g_sink = 0;
inline void consume(double v) {
  g_sink = v;
}
inline void consume(int64_t v) {
  g_sink = static_cast<double>(v);
}

// ── Timing ──────────────────────────────────────────────────────────────────────────────────
// Each variant runs `warmup` times untimed (caches, page faults and lazy set-up settle), then
// `reps` times timed; we report the median, which one unlucky run cannot move. When variants are
// compared, they are timed ROUND-ROBIN — variant 1, 2, 3, then 1, 2, 3 again, ... — so that a
// burst of other work on the machine slows all of them alike instead of one. Times are seconds
// per call, divided by `calls_per_body` when a body repeats a very short operation many times
// (a clock read costs more than one tiny op).
struct Config {
  bool quick;
  int reps;    // timed repeats per measurement (the median of these is reported)
  int warmup;  // untimed runs first
};

struct Timing {
  std::vector<double> samples;  // seconds per call, one per repeat, in run order
  double median = 0, min = 0, max = 0;
};

// The middle value (the mean of the two middle ones for an even count); 0 for none.
double median(std::vector<double> values);
Timing summarise(std::vector<double> samples);

// The clock the measurements read. By default the wall clock (std::chrono::steady_clock); a lab
// whose every op runs on its own thread may switch to that thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID), which leaves out the time other programs held the core.
void use_thread_cpu_clock(bool on);
bool using_thread_cpu_clock();
double now_seconds();

std::vector<Timing> measure_round_robin(int warmup, int reps,
                                        const std::vector<std::function<void()>>& bodies,
                                        int64_t calls_per_body = 1);
Timing measure(int warmup, int reps, int64_t calls_per_body, const std::function<void()>& body);
// Each body made to run n times in a row: measure_round_robin(..., repeated(n, bodies), n) times
// an op too short for one clock read. (A body may also loop by itself, which saves the
// std::function call per op when even that is too much.)
std::vector<std::function<void()>> repeated(int64_t n, std::vector<std::function<void()>> bodies);

json to_json(const Timing& t);  // {"median_s", "min_s", "max_s", "samples_s"}

// Wall-clock time and this process's CPU time (all threads) since construction. CPU time well
// below wall time × threads means other programs took turns on our cores.
class Stopwatch {
 public:
  double wall_seconds() const;
  double cpu_seconds() const;

 private:
  std::chrono::steady_clock::time_point wall0_ = std::chrono::steady_clock::now();
  std::clock_t cpu0_ = std::clock();
};

// ── Formatting ──────────────────────────────────────────────────────────────────────────────
std::string fixed(double v, int decimals);    // fixed(3.14159, 2) = "3.14"
std::string sci(double v, int decimals = 2);  // sci(12345) = "1.23e+04"
std::string human_time(double seconds);       // 3 significant digits: "812 ns", "4.27 ms"
std::string human_bytes(double bytes, int mib_decimals = 1);  // "512 B", "4.0 KiB", "1.5 MiB"
std::string ratio(double v);                                  // "3.04×"
std::string shape_str(IntArrayRef shape);                     // "[2, 3]"

// Display width of a UTF-8 string (one column per code point; all our symbols are narrow).
size_t display_width(std::string_view s);

// A compact aligned table: first column left-aligned, the others right-aligned, a rule under
// the header row.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// "━━ A. Title ━━━━…" and a line of what the experiment does.
void heading(std::string_view id, std::string_view title, std::string_view what);
// The "→ what this means" paragraph, word-wrapped to the width of the headings.
void meaning(const std::string& text);

// ── Memory ──────────────────────────────────────────────────────────────────────────────────
// Peak tensor bytes one call of f allocates, above what was live before (from the statistics of
// the installed tinytorch allocator).
int64_t peak_bytes(const std::function<void()>& f);

// ── The run ─────────────────────────────────────────────────────────────────────────────────
std::string cpu_model();  // from /proc/cpuinfo; "unknown" elsewhere
// The first lines of a lab's output: "<title><quick_note>" (pass "" for quick_note without
// --quick), then the machine — "  CPU: <model>, <n> hardware threads<threads_note>; compiler:
// <version> (optimised, NDEBUG)" — so that numbers pasted from a run say where they came from,
// then print_which_code().
void print_title(std::string_view title, std::string_view quick_note,
                 std::string_view threads_note = "");
// Which code runs each op family — yours, the reference objects, or the given fast kernels
// (kernels::which_code_report): the block every lab and milestone prints when it starts. A lab
// that prints its own title lines calls it right after them.
void print_which_code();
// {"cpu", "hardware_threads", "compiler"}; a lab adds its own keys (threads it used, ...).
json machine_json();

// The allocator the measuring labs install for tensors. Every tinytorch op allocates its output.
// With the plain allocator, a big output is fresh memory from the operating system each time,
// and the first write to each 4 KiB page takes a page fault — on a VM that can cost more than
// the op itself, and glibc's malloc decides unpredictably when to hand memory back. That would
// hide what the labs are about, so they allocate through tinytorch::CachingAllocator (the one
// module 18 explains), which keeps freed blocks and hands them out again; its statistics still
// count live bytes exactly as tensors asked for them. With `plain_only` (--no-cache) tensors come
// from the plain allocator. Installed for the lifetime of this object, which must outlive every
// tensor made meanwhile.
class LabAllocator {
 public:
  explicit LabAllocator(bool plain_only);
  ~LabAllocator();
  LabAllocator(const LabAllocator&) = delete;
  LabAllocator& operator=(const LabAllocator&) = delete;

  bool caching() const { return !plain_only_; }
  const CachingAllocator& cache() const { return cache_; }

 private:
  bool plain_only_;
  CPUAllocator plain_;
  CachingAllocator cache_{&plain_};
};

// One experiment: its JSON key, whose first character is the letter --only selects ("a_memory"
// is A), and the function that runs it, prints its table and returns its figures.
struct Experiment {
  const char* key;
  std::function<json()> run;
};

// Runs the experiments that --only selects, in order, into doc["experiments"][key]. One that
// throws is reported and recorded as {"error": why}, and the others still run — a
// NotImplementedError points the learner at `./tito test --module <module>`. Returns how many
// failed.
int run_experiments(const std::vector<Experiment>& experiments, const Options& opts,
                    std::string_view module, json& doc);

// "\nDone in 12.3 s." (" — 1 experiment(s) did not run" before the full stop); no newline, so a
// lab can add a remark about CPU time.
void print_done(double wall_seconds, int failed);
// For a lab on one thread: " The lab (one thread) was on a CPU for 97% of that time." — with a
// warning when other programs competed for the CPU. Nothing for a run under a second.
void print_cpu_share(double wall_seconds, double cpu_seconds);

// Writes `doc` (indented, one trailing newline) to `path` atomically — a temporary file, then
// rename(): a reader sees the old file or the new one, never half of one — and says "Wrote
// PATH". On failure prints "<name>: could not write PATH: why" and returns false.
bool write_json(std::string_view name, const std::string& path, const nlohmann::json& doc);
bool write_json(std::string_view name, const std::string& path, const nlohmann::ordered_json& doc);

}  // namespace tinytorch::lab
