// What the end-to-end benchmarks against PyTorch share (mlp_bench, cnn_bench): each side trains
// in its own process, the parent runs them interleaved and reads one JSON object from each.
//
//   parent ─┬─ env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
//           │    python3 bench/<x>_torch.py --threads 1 ───────────► JSON (PyTorch, 1 thread)
//           ├─ <program> --worker --threads 1 ──────────────────► JSON (ours, 1 thread)
//           ├─ <program> --worker --threads 2 …                 (interleaved, so a slow minute
//           └─ … python3 bench/<x>_torch.py --threads 2 …         on a shared machine hits both)
//
// That order (SideBySide::run_both) makes each comparison a benchmark prints (compare) one
// between neighbours: ours vs PyTorch at 1 thread, ours at 2 threads vs 1, ours vs PyTorch at 2
// threads. A shared machine's speed drifts over minutes; a ratio of two runs with
// a third between them would carry that drift.
//
// PyTorch runs as a user gets it: its configuration (version, BLAS, OpenBLAS's core; asked of the
// script with --describe first) is printed in the header and copied into each of its records.
// tito bench clears OPENBLAS_CORETYPE for it (tools/tito/src/cmd_bench.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinytorch/data/idx.h"

namespace tinytorch::bench {

using Json = nlohmann::ordered_json;

// The options every benchmark against PyTorch takes (its own are handed to parse_options' hook):
//   [--quick] [--records PATH] [--threads LIST] [--data DIR] [--python PATH], and --worker
struct CommonOptions {
  bool quick = false;
  bool worker = false;  // internal: train in this process and print one JSON object
  std::vector<int> threads{1, 2};
  std::string records_path;
  std::string data_dir = data::kFashionMnistDir;
  std::string python = "/usr/bin/python3";
};

// Prints "<program>: <message>" and the usage line to standard error and exits with status 2.
[[noreturn]] void usage_error(const std::string& program, const std::string& usage,
                              const std::string& message);

// A program's own option: called with the argument and a function that takes its value; returns
// false for an argument it does not know either.
using OptionHook =
    std::function<bool(const std::string& arg, const std::function<std::string()>& value)>;

// Parses argv into `options` (the common ones) and `hook` (the program's own); exits through
// usage_error on an unknown argument, a missing value or a bad --threads list.
void parse_options(int argc, char** argv, const std::string& program, const std::string& usage,
                   CommonOptions& options, const OptionHook& hook = {});

// main() after parse_options, for every such benchmark: a worker (--worker, exactly one thread
// count) prints the JSON object `worker` returns; the parent returns `parent`'s exit status. An
// exception becomes "<program>: <what>" on standard error and exit status 1.
int run_main(const std::string& program, const std::string& usage, const CommonOptions& options,
             const std::function<Json()>& worker, const std::function<int()>& parent);

// "1,2" → {1, 2}. Throws std::invalid_argument saying what is wrong (for the usage message).
std::vector<int> parse_thread_list(const std::string& list);

// This process's page faults served without I/O so far (fresh memory costs one per 4 KiB page),
// and its peak resident memory in bytes.
int64_t minor_faults();
int64_t peak_rss_bytes();

double seconds_since(std::chrono::steady_clock::time_point t0);

// ── Batch-1 latency, and how it scales with threads ─────────────────────────────────────────
// A batch-1 forward pass takes a fraction of a millisecond, so its median over a few hundred
// calls is a figure of a fraction of a second: whatever the machine did in that moment. On a
// shared VM that moment matters: one process, pinned to one core and never using a second
// thread, can see its batch-1 latency move by half for seconds at a time (the host's other
// guests). "Ours at 2 threads vs 1" from two worker processes a minute apart then says more
// about the host than about threads. So a worker at more than one
// thread also times the same forward pass at 1 thread, in alternating blocks of calls: a drift
// of the machine's speed hits both halves alike, and their ratio is the threads' own effect.
//
//   worker --threads 2:  [25 calls @ 1 thread][25 @ 2][25 @ 1][25 @ 2] … (warm-up untimed first)
//                           └ one_thread_seconds    └ seconds

struct Latencies {
  std::vector<double> seconds;             // each timed call at get_num_threads() threads
  std::vector<double> one_thread_seconds;  // the interleaved ones at 1 thread; empty at 1 thread
};

// Times `count` calls forward(i) at get_num_threads() threads (and, above 1 thread, `count` more
// at 1 thread, interleaved in blocks of `block` calls as drawn above) after `warmup` untimed
// ones; i counts every call, so each call can take the next input. A block should last well
// under a second (a batch-1 forward: 25 calls; a whole generation of tokens: 1). Leaves the
// thread count as it found it.
Latencies time_latencies(int64_t warmup, int64_t count, int64_t block,
                         const std::function<void(int64_t)>& forward);

// Writes r["latency_ms"] (the median), r["latency_p90_ms"], r["latency_count"] and, when it was
// measured, r["latency_one_thread_ms"] (the interleaved median at 1 thread).
void add_latency_fields(Json& r, const Latencies& latencies);
// A latency record's figures from a worker's result r (add_latency_fields' fields): "ms" (the
// median), "p90_ms", "count" and, when r has it, "one_thread_ms".
void copy_latency_fields(const Json& r, Json& record);

// Runs argv, returns its standard output; `status` receives the exit status (-1: not run).
std::string capture(const std::vector<std::string>& argv, int& status);

// The one JSON object a side printed last, or {"failed": why not} naming `who`.
Json run_side(const std::string& who, const std::vector<std::string>& argv);

// PyTorch's configuration (`python script --describe`: version, BLAS, OpenBLAS's core), or
// {"skipped": why PyTorch cannot be the baseline here}, or {"failed": ...} when the script fails.
Json torch_configuration(const std::string& python, const std::filesystem::path& script);

// True when `config` (torch_configuration's result) says PyTorch can run.
bool torch_runs(const Json& config);

// Copies PyTorch's configuration fields (torch_version, torch_blas, openblas_core, ...) from
// `config` into `record`.
void copy_torch_fields(const Json& config, Json& record);

// The command that runs `script` at `threads` threads, followed by `args`. PyTorch's matrix
// products run in OpenBLAS, whose own thread pool ignores torch.set_num_threads: its thread
// count (and OpenMP's) is set through the environment, and so is ./tito's OpenMP spin limit
// (GOMP_SPINCOUNT=10000) where the environment sets no OpenMP policy.
std::vector<std::string> torch_command(const std::string& python,
                                       const std::filesystem::path& script, int threads,
                                       const std::vector<std::string>& args);

// Our side's impl in the records: "tinytorch-fast", or "tinytorch-reference" when
// TINYTORCH_KERNELS=reference chose the reference tier.
std::string tinytorch_impl();

// This program's own path (for re-running itself as a worker).
std::string self_path(const char* argv0);

// The header: how busy the machine is and what each side runs on, before the first figure.
void print_header(const Json& torch_config);

// The records `names` for a side's result without figures ({"failed"/"skipped": why}): each is
// make_record(name) plus that field.
std::vector<Json> unmeasured_records(const Json& result, const std::vector<const char*>& names,
                                     const std::function<Json(const char*)>& make_record);

// One line for a record: "  mlp_step tinytorch-fast sgd threads=1: 0.52 ms, …",
// "  gpt_generate torch cache threads=1: 2607 tokens/s".
std::string describe(const Json& record);

// ── How close a figure comes to the machine's limit ─────────────────────────────────────────
// A record of a training step or an inference pass carries the floating-point operations it
// does ("flops", counted analytically by the benchmark: 2 per multiply-add of its convolutions,
// Linears and matrix products) and the fraction of the FMA peak that rate is ("peak_fraction").
// The peak is measured by our worker at its own thread count, in its own process, after its
// figures (measure_fma_peak), and the parent divides both sides' rates by it: PyTorch's process
// cannot run our kernel, and the machine is the same.

// The FMA peak on get_num_threads() threads, as peak_bench measures it (machine_limits.h: the
// widest FMA kernel of this CPU, one copy per thread): the best of `calls` calls of about 0.5 ms
// each, in rounds of 25 with a 20 ms pause between (other programs only ever make a call slower),
// as {"fma_peak_gflops": GFLOP/s,
// "fma_peak_isa": "AVX-512" | "AVX2"}; an empty object where the CPU has no FMA kernel.
Json measure_fma_peak(int calls);

// record["flops"] = flops (the work of what the record times, in `seconds`) and, when `ours` (our
// worker's result at that thread count) holds the peak, "fma_peak_gflops", "fma_peak_isa" and
// "peak_fraction" = flops / seconds / peak.
void add_peak_fraction(Json& record, double flops, double seconds, const Json& ours);

// One figure of the "ours vs PyTorch" line that follows each thread count's records: its key in
// the workers' results, its label, and how to compare it — a rate (higher is faster), a time
// (lower is faster) or a size (ours / PyTorch's, < 1x: ours is smaller).
struct Compared {
  enum class Kind { kRate, kTime, kSize };
  const char* key;
  const char* label;
  Kind kind;
  // The key of the same figure measured at 1 thread inside a worker at more threads, interleaved
  // (time_latencies), or null: "ours at 2 threads vs 1" then also prints that in-process ratio.
  const char* interleaved_one_thread_key = nullptr;
};

// One run of a benchmark against PyTorch: the two sides at each configuration, in turn; every
// record printed as it arrives and kept for --records.
class SideBySide {
 public:
  // Asks `python script --describe` for PyTorch's configuration and prints the header.
  SideBySide(std::string program, std::string python, std::filesystem::path script,
             const char* argv0);

  const Json& torch_config() const { return torch_config_; }
  // Our side: this program again, as `--worker --threads T args...`.
  Json run_ours(int threads, const std::vector<std::string>& args) const;
  // PyTorch's side (torch_command), or torch_config() (why it was skipped) when it cannot run.
  Json run_torch(int threads, const std::vector<std::string>& args) const;
  // {ours, PyTorch's} at `threads`: PyTorch first at a run's first thread count (`first`), ours
  // first at every later one — the order drawn at the top of this file.
  std::pair<Json, Json> run_both(int threads, bool first,
                                 const std::vector<std::string>& args) const;

  // Prints "  ours vs PyTorch at 1 thread, speed (> 1x: ours is faster): training step 1.31x, …;
  // ours/PyTorch (< 1x: ours is smaller): peak RSS 0.30x" ("-" where a side lacks the figure)
  // and, from the second thread count of `series` on, "  ours at 2 threads vs 1 thread, speed
  // (> 1x: 2 threads are faster): training step 1.62x, …" against ours at the series' first
  // (one series per configuration a run repeats; sizes are left out), followed for a figure with
  // an interleaved_one_thread_key by its in-process ratio: "batch-1 latency 0.87x (interleaved
  // in one process: 1.00x)".
  void compare(const Json& mine, const Json& theirs, int threads,
               const std::vector<Compared>& figures, const std::string& series = "");

  // Prints each record's line and keeps it; a record that says "failed" fails the run.
  void add(const std::vector<Json>& records);
  // Writes the records to `records_path` (when not empty); returns the exit status, 0 or 1.
  int finish(const std::string& records_path) const;

 private:
  std::string program_, python_, self_;
  std::filesystem::path script_;
  Json torch_config_;
  Json records_ = Json::array();
  std::map<std::string, std::pair<int, Json>> first_;  // series -> (threads, ours) first run
  bool ok_ = true;
};

}  // namespace tinytorch::bench
