// The small layer every kernel benchmark program of `tito bench` is built on, over Google
// Benchmark.
//
// A benchmark program registers one benchmark per figure it measures, each named by a Key (the
// fields of its record: name, impl, n, threads) and the work one call does (flops or bytes):
//
//   tinytorch::bench::Suite suite(argc, argv);      // strips --quick and --records PATH
//   suite.add({.name = "sgemm", .impl = "tinytorch-fast", .n = 512, .threads = 1},
//             Unit::kGflops, 2.0 * 512 * 512 * 512, [] {
//               tinytorch::set_num_threads(1);       // untimed set-up ...
//               return [] { gemm_fast(...); };       // ... returns the timed call
//             });
//   suite.skip({.name = "sgemm", .impl = "openblas"}, "OpenBLAS was not found");
//   return suite.run();
//
// Google Benchmark times each call (real time, after one untimed warm-up call), choosing how many
// calls make a repetition; the suite repeats that (9 times, 1 with --quick) and reports the
// MEDIAN rate of the repetitions: the median ignores the odd repetition slowed down by another
// process, which on a shared machine is the common kind of noise.
//
// The repetitions of all figures run in a random order (Google Benchmark's
// --benchmark_enable_random_interleaving, on by default here). A shared VM also drifts: for
// seconds or minutes at a time everything runs 10-30% slower. Figures measured one after the other
// would each see a different drift, and a ratio such as ours/OpenBLAS would measure the drift as
// much as the code; interleaved, both sides of a ratio sample the same stretch of time.
//
// Two ways to run a program:
//   * by hand: Google Benchmark's usual console table (and all its --benchmark_* flags);
//   * from tito (`--records PATH`): one compact line per figure, and PATH receives every figure
//     as a JSON list of records, e.g.
//       {"name": "sgemm", "impl": "tinytorch-fast", "n": 512, "threads": 1, "gflops": 80.1}
//     plus {"name": ..., "skipped": "reason"} for figures deliberately not measured and
//     {"name": ..., "failed": "message"} for a benchmark that threw.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace tinytorch::bench {

// The identity of one figure, i.e. the fields of its record. Empty/zero fields are left out.
struct Key {
  std::string name{};   // what is measured: "sgemm", "fma_peak", "stream_triad", ...
  std::string impl{};   // whose code: "tinytorch-fast", "tinytorch-reference", "openblas", ...
  int64_t n = 0;        // problem size
  int64_t threads = 0;  // threads the measured code was allowed to use

  // "sgemm tinytorch-fast n=512 threads=1": unique per figure, used as the benchmark's label.
  [[nodiscard]] std::string describe() const;
};

// The unit of a figure, and the record field that holds it.
enum class Unit {
  kGflops,  // "gflops": 1e9 floating-point operations per second
  kGbps,    // "gbps": 1e9 bytes per second
};

// A registered figure.
struct Figure {
  Key key;
  Unit unit;
  bool thread_cpu_clock = false;  // timed by the thread's CPU clock (TINYTORCH_BENCH_CLOCK)
};

// A timed call, and the untimed set-up that makes it (allocation, thread count, ...).
using Call = std::function<void()>;
using Prepare = std::function<Call()>;

class Suite {
 public:
  // Takes the suite's own flags out of argv (Google Benchmark sees the rest):
  //   --quick          1 repetition of at least 0.05 s instead of 9 of 0.1 s
  //   --records PATH   tito mode (see above)
  // Exits with status 2 and a message on a malformed flag; --help also lists Google Benchmark's.
  Suite(int& argc, char** argv);

  [[nodiscard]] bool quick() const { return quick_; }

  // Registers one figure: `prepare` runs once before each repetition and returns the call to
  // time; each call does `work_per_call` flops (kGflops) or moves that many bytes (kGbps).
  // `idle_after_seconds`: an untimed pause after each repetition, for code whose thread pool keeps
  // spinning after its last call (OpenBLAS's, for ~0.1 s): a repetition of another figure run
  // right after would find a core taken.
  void add(const Key& key, Unit unit, double work_per_call, Prepare prepare,
           double idle_after_seconds = 0.0);

  // Records that a figure is deliberately not measured, and why (tito prints the reason).
  void skip(const Key& key, std::string reason);

  // A fact about the run worth printing beside the figures ("gemm_fast micro-kernel": "AVX2").
  void context(const std::string& key, const std::string& value);

  // A fact about one implementation that every record of it carries, so that a figure read from
  // the JSON alone says what was measured: e.g. the records of "openblas" carry
  // {"openblas_core": "Cooperlake"}. A FieldValue is JSON's null, a bool or a string.
  using FieldValue = std::variant<std::nullptr_t, bool, std::string>;
  void impl_field(const std::string& impl, const std::string& field, FieldValue value);

  // Runs the registered benchmarks (honouring --benchmark_filter), then writes the records in
  // tito mode. Returns the process exit status: 1 when a benchmark failed.
  int run();

 private:
  int& argc_;
  char** argv_;
  bool quick_ = false;
  std::string records_path_;
  std::map<std::string, Figure> figures_;  // by Key::describe()
  std::vector<std::pair<Key, std::string>> skipped_;
  std::vector<std::pair<std::string, std::string>> context_;
  std::map<std::string, std::vector<std::pair<std::string, FieldValue>>> impl_fields_;  // by impl
  std::shared_ptr<std::map<std::string, std::string>> failures_;  // describe() -> message
};

// Tinytorch's default thread count (TINYTORCH_NUM_THREADS, else every CPU OpenMP sees): what
// "all threads" means in the figures.
int default_threads();

}  // namespace tinytorch::bench
