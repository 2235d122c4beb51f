// tito bench [all|peak|sgemm|mlp|cnn|gpt ...] [--quick] [--contended] [--json PATH]
//
// Builds the benchmark programs of bench/ (preset release) and runs them. Each program prints a
// line per figure as it measures it and writes all its figures to a JSON records file
// (bench/bench_harness.h); tito then prints summary tables whose ratios (fast/openblas,
// 2 threads/1 thread, fraction of the measured peak) all come from figures of this same run, and
// with --json writes every figure as one list of records:
//   [{"name": "sgemm", "impl": "tinytorch-fast", "n": 1024, "threads": 1, "gflops": 80.1}, ...]
//
// The baselines (OpenBLAS, PyTorch) run as a user gets them: OPENBLAS_CORETYPE, which would pin
// OpenBLAS to one core's kernels, is cleared for the programs (clear_openblas_coretype), and their
// records say which kernels ran ("openblas_core", "torch_blas", ...).
//
// Adding a benchmark program is one entry in kPrograms (below): its name, its CMake target, what
// it measures, the programs whose figures its table also needs, and its table (or the generic
// one, which lists every figure).
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "command.h"
#include "project.h"
#include "util.h"

namespace {

using Json = nlohmann::ordered_json;

// ---- Records ------------------------------------------------------------------------------

// Every record of the run, in the order measured. A record holds a figure ("gflops", "gbps",
// "seconds", "ms" or "mib"), or says why the figure was not measured ("skipped") or how measuring
// it failed ("failed").
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

  // The units a figure can have: kernels' rates, end-to-end rates, times and sizes. (A record
  // may hold several, e.g. gpt_train's tokens_per_second and seconds: the first listed here is
  // its figure.)
  static constexpr const char* kFigureFields[] = {"tokens_per_second", "gflops", "gbps",
                                                  "seconds",           "ms",     "mib"};

 private:
  std::vector<Json> all_;
};

// ---- Table formatting ----------------------------------------------------------------------

std::string fixed(double value, int decimals) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(decimals) << value;
  return out.str();
}

std::string Records::cell(const std::string& name, const std::string& impl, int64_t n,
                          int64_t threads, int decimals, const std::string& optimizer) const {
  const Json* r = find(name, impl, n, threads, optimizer);
  if (r == nullptr) return "-";
  if (r->contains("skipped")) return "skipped";
  if (r->contains("failed")) return "FAILED";
  return fixed((*r)[figure_field(*r)].get<double>(), decimals);
}

// "-" when either figure is missing.
std::string ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b <= 0.0) return "-";
  return fixed(*a / *b, 2) + "x";
}
std::string percent(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b <= 0.0) return "-";
  return fixed(100.0 * *a / *b, 0) + "%";
}

// A table printed with right-aligned columns (the first one left-aligned).
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

  void print(std::ostream& out) const {
    std::vector<size_t> width;
    for (const auto& row : rows_) {
      width.resize(std::max(width.size(), row.size()));
      for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    }
    for (size_t r = 0; r < rows_.size(); ++r) {
      std::string line = "  ";
      for (size_t c = 0; c < rows_[r].size(); ++c) {
        const std::string& cell = rows_[r][c];
        const std::string pad(width[c] - cell.size(), ' ');
        line += c == 0 ? cell + pad : "  " + pad + cell;
      }
      out << (r == 0 ? tito::paint(line, tito::Color::kBold) : line) << "\n";
    }
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

void print_title(const std::string& title) {
  std::cout << "\n" << tito::paint(title, tito::Color::kBold) << "\n";
}

// Lists the records of these names that were skipped or failed, merging the ones that differ only
// in n: "skipped: sgemm tinytorch-reference threads=1 at n = 512, 1024: N > 256: ...".
void print_not_measured(const Records& records, const std::set<std::string>& names) {
  struct Note {
    std::string what, why;
    std::vector<std::string> sizes;
  };
  std::vector<Note> notes;
  for (const Json& r : records.all()) {
    if (names.count(r.value("name", "")) == 0 || Records::is_figure(r)) continue;
    std::string what = r.contains("failed") ? "FAILED: " : "skipped: ";
    what += r.value("name", "");
    if (r.contains("impl")) what += " " + r["impl"].get<std::string>();
    if (r.contains("optimizer")) what += " " + r["optimizer"].get<std::string>();
    if (r.contains("mode")) what += " " + r["mode"].get<std::string>();
    if (r.contains("threads")) what += " threads=" + std::to_string(r["threads"].get<int64_t>());
    const std::string why = r.value("failed", r.value("skipped", std::string()));
    auto note = std::find_if(notes.begin(), notes.end(),
                             [&](const Note& n) { return n.what == what && n.why == why; });
    if (note == notes.end()) note = notes.insert(notes.end(), Note{what, why, {}});
    if (r.contains("n")) note->sizes.push_back(std::to_string(r["n"].get<int64_t>()));
  }
  for (const Note& note : notes) {
    std::string sizes;
    for (const auto& n : note.sizes) sizes += (sizes.empty() ? " at n = " : ", ") + n;
    std::cout << "  " << note.what << sizes << ": " << note.why << "\n";
  }
}

// ---- The tables of each program -------------------------------------------------------------

// The first measured record of this name and impl, or nullptr.
const Json* first_figure(const Records& records, const std::string& name, const std::string& impl) {
  for (const Json& r : records.all()) {
    if (r.value("name", "") == name && r.value("impl", "") == impl && Records::is_figure(r)) {
      return &r;
    }
  }
  return nullptr;
}

// When 1-thread figures were timed by the thread's CPU clock (TINYTORCH_BENCH_CLOCK=thread-cpu,
// bench/bench_harness.cpp), says so: a ratio of a 2-thread figure to a 1-thread one then compares
// the wall clock with the CPU clock.
void print_clock_note(const Records& records) {
  const bool cpu_clock = std::any_of(records.all().begin(), records.all().end(), [](const Json& r) {
    return r.value("clock", "") == "thread-cpu";
  });
  if (cpu_clock) {
    std::cout << "  1-thread figures: the thread's CPU clock (TINYTORCH_BENCH_CLOCK=thread-cpu); "
                 "others: the wall clock, so 2t/1t ratios mix the two\n";
  }
}

// Which OpenBLAS kernels a baseline's record ran (its openblas_* fields, bench/sgemm_bench.cpp):
// "core Cooperlake, chosen for this CPU (OPENBLAS_CORETYPE=Haswell cleared for this run)".
std::string openblas_core_text(const Json& r) {
  if (!r.contains("openblas_core")) return "core unknown";
  std::string text = "core " + r["openblas_core"].get<std::string>();
  const Json coretype = r.value("openblas_coretype", Json());
  if (!coretype.is_string()) return text + ", chosen for this CPU";
  if (r.value("openblas_coretype_cleared", false)) {
    return text + ", chosen for this CPU (OPENBLAS_CORETYPE=" + coretype.get<std::string>() +
           " cleared for this run)";
  }
  return text + ", pinned by OPENBLAS_CORETYPE=" + coretype.get<std::string>();
}

// The instruction set the FMA peak was measured with: the impl of its records ("AVX-512" or
// "AVX2", the widest FMA of the CPU: bench/machine_limits.h), "" when it was not measured. Every
// "% of peak" of this run divides by the figures of that kernel.
std::string fma_peak_isa(const Records& records) {
  for (const Json& r : records.all()) {
    if (r.value("name", "") == "fma_peak" && Records::is_figure(r)) return r.value("impl", "");
  }
  return "";
}

// The machine's limits: FMA peak and STREAM bandwidth per thread count, and the roofline's ridge
// point (flops per byte above which a kernel can be compute-bound rather than memory-bound).
void print_peak(const Records& records) {
  print_title("Machine limits (measured in this run)");
  const std::vector<int64_t> threads = records.values("fma_peak", "threads").empty()
                                           ? records.values("stream_triad", "threads")
                                           : records.values("fma_peak", "threads");
  std::vector<std::string> header{""};
  for (const int64_t t : threads)
    header.push_back(std::to_string(t) + (t == 1 ? " thread" : " threads"));
  if (threads.size() > 1) header.push_back(std::to_string(threads.back()) + "t/1t");
  Table table(header);
  const std::string isa = fma_peak_isa(records);
  const std::string peak_label =
      isa.empty() ? "FMA peak, float32 (GFLOP/s)" : "FMA peak, float32, " + isa + " (GFLOP/s)";
  // (name, impl, label): the peak's records carry its kernel's instruction set as impl.
  const std::tuple<std::string, std::string, std::string> rows[] = {
      {"fma_peak", isa, peak_label},
      {"stream_copy", "", "STREAM copy (GB/s)"},
      {"stream_triad", "", "STREAM triad (GB/s)"}};
  for (const auto& [name, impl, label] : rows) {
    std::vector<std::string> cells{label};
    for (const int64_t t : threads) cells.push_back(records.cell(name, impl, 0, t));
    if (threads.size() > 1) {
      cells.push_back(ratio(records.figure(name, impl, 0, threads.back()),
                            records.figure(name, impl, 0, threads.front())));
    }
    table.row(cells);
  }
  table.print(std::cout);
  print_clock_note(records);
  if (!threads.empty()) {
    const int64_t all = threads.back();
    const auto peak = records.figure("fma_peak", isa, 0, all);
    const auto triad = records.figure("stream_triad", "", 0, all);
    if (peak && triad && *triad > 0.0) {
      std::cout << "  ridge point at " << all << (all == 1 ? " thread" : " threads") << ": "
                << fixed(*peak / *triad, 1)
                << " flops per byte of DRAM traffic — kernels doing fewer are memory-bound\n";
    }
  }
  print_not_measured(records, {"fma_peak", "stream_copy", "stream_triad"});
}

// SGEMM: GFLOP/s per N and implementation, then the ratios, then the backward-pass layouts.
void print_sgemm(const Records& records) {
  const std::string fast = "tinytorch-fast", ref = "tinytorch-reference", blas = "openblas";
  const auto sizes = records.values("sgemm", "n");
  const auto f = [&](const std::string& impl, int64_t n, int64_t t) {
    return records.figure("sgemm", impl, n, t);
  };
  const auto c = [&](const std::string& impl, int64_t n, int64_t t) {
    return records.cell("sgemm", impl, n, t);
  };
  const bool have_blas = std::any_of(sizes.begin(), sizes.end(), [&](int64_t n) {
    return records.find("sgemm", blas, n, 1) != nullptr;
  });

  print_title("SGEMM C = A·B, square N×N float32: GFLOP/s (median of the repetitions)");
  std::vector<std::string> header{"N", "reference 1t", "fast 1t", "fast 2t"};
  if (have_blas) header.insert(header.end(), {"openblas 1t", "openblas 2t"});
  Table gflops(header);
  for (const int64_t n : sizes) {
    std::vector<std::string> row{std::to_string(n), records.cell("sgemm", ref, n, 1, 2),
                                 c(fast, n, 1), c(fast, n, 2)};
    if (have_blas) row.insert(row.end(), {c(blas, n, 1), c(blas, n, 2)});
    gflops.row(row);
  }
  gflops.print(std::cout);
  if (const Json* r = first_figure(records, "sgemm", blas)) {
    std::cout << "  openblas: " << openblas_core_text(*r) << "\n";
  }
  print_clock_note(records);

  print_title("SGEMM ratios (figures of this run)");
  std::vector<std::string> ratio_header{"N", "fast/reference 1t"};
  if (have_blas) ratio_header.insert(ratio_header.end(), {"fast/openblas 1t", "fast/openblas 2t"});
  ratio_header.push_back("fast 2t/1t");
  if (have_blas) ratio_header.push_back("openblas 2t/1t");
  ratio_header.insert(ratio_header.end(), {"fast % of peak 1t", "fast % of peak 2t"});
  Table ratios(ratio_header);
  const std::string isa = fma_peak_isa(records);
  const auto peak1 = records.figure("fma_peak", isa, 0, 1),
             peak2 = records.figure("fma_peak", isa, 0, 2);
  for (const int64_t n : sizes) {
    std::vector<std::string> row{std::to_string(n), ratio(f(fast, n, 1), f(ref, n, 1))};
    if (have_blas) {
      row.insert(row.end(),
                 {ratio(f(fast, n, 1), f(blas, n, 1)), ratio(f(fast, n, 2), f(blas, n, 2))});
    }
    row.push_back(ratio(f(fast, n, 2), f(fast, n, 1)));
    if (have_blas) row.push_back(ratio(f(blas, n, 2), f(blas, n, 1)));
    row.insert(row.end(), {percent(f(fast, n, 1), peak1), percent(f(fast, n, 2), peak2)});
    ratios.row(row);
  }
  ratios.print(std::cout);
  if (peak1) {
    std::cout << "  % of peak: of the " << isa << " FMA peak (the widest FMA of this CPU)\n";
  } else {
    std::cout << "  (% of peak needs the peak figures: tito bench peak sgemm)\n";
  }

  // The layouts of the backward pass, if measured.
  const std::pair<const char*, const char*> layouts[] = {{"sgemm_at_b", "A^T·B (weight gradient)"},
                                                         {"sgemm_a_bt", "A·B^T (input gradient)"}};
  Table transposed({"layout", "N", "fast 1t", "fast 2t", "openblas 1t", "openblas 2t",
                    "fast/openblas 1t", "fast/openblas 2t"});
  bool any = false;
  for (const auto& layout : layouts) {
    const std::string name = layout.first, label = layout.second;
    for (const int64_t n : records.values(name, "n")) {
      const auto g = [&](const std::string& impl, int64_t t) {
        return records.figure(name, impl, n, t);
      };
      const auto gc = [&](const std::string& impl, int64_t t) {
        return records.cell(name, impl, n, t);
      };
      transposed.row({label, std::to_string(n), gc(fast, 1), gc(fast, 2), gc(blas, 1), gc(blas, 2),
                      ratio(g(fast, 1), g(blas, 1)), ratio(g(fast, 2), g(blas, 2))});
      any = true;
    }
  }
  if (any) {
    print_title("SGEMM with transposed operands (backward pass): GFLOP/s");
    transposed.print(std::cout);
  }
  print_not_measured(records, {"sgemm", "sgemm_at_b", "sgemm_a_bt"});
}

// The 1986 MLP: step and epoch times and peak memory, ours vs PyTorch, per optimizer and thread
// count; then each optimizer's epoch against PyTorch's best thread setting (the bar).
void print_mlp(const Records& records) {
  const std::string ours = "tinytorch-fast", torch = "torch";
  const auto threads = records.values("mlp_epoch", "threads");
  const std::pair<const char*, const char*> optimizers[] = {{"sgd", "SGD"}, {"adam", "Adam"}};
  print_title("1986 MLP (784-256-128-10, batch 64): ours vs PyTorch, same run");
  Table table({"optimizer", "threads", "step ms (ours)", "step ms (torch)", "epoch s (ours)",
               "epoch s (torch)", "ours/torch epoch", "peak MiB (ours)", "peak MiB (torch)"});
  for (const auto& optimizer : optimizers) {
    const char* opt = optimizer.first;  // a plain name: Clang 14 cannot capture a binding
    const char* label = optimizer.second;
    for (const int64_t t : threads) {
      if (records.find("mlp_epoch", ours, 0, t, opt) == nullptr &&
          records.find("mlp_epoch", torch, 0, t, opt) == nullptr) {
        continue;
      }
      const auto c = [&](const char* name, const std::string& impl, int decimals) {
        return records.cell(name, impl, 0, t, decimals, opt);
      };
      table.row({label, std::to_string(t), c("mlp_step", ours, 2), c("mlp_step", torch, 2),
                 c("mlp_epoch", ours, 2), c("mlp_epoch", torch, 2),
                 ratio(records.figure("mlp_epoch", ours, 0, t, opt),
                       records.figure("mlp_epoch", torch, 0, t, opt)),
                 c("mlp_peak_rss", ours, 0), c("mlp_peak_rss", torch, 0)});
    }
  }
  table.print(std::cout);
  std::cout << "  SGD: lr 0.1, momentum 0.9; Adam: lr 1e-3. ours/torch < 1x: ours is faster\n";

  // Each optimizer: PyTorch's best thread setting, and ours at every thread count against it.
  const auto threads_text = [](int64_t t) {
    return std::to_string(t) + (t == 1 ? " thread" : " threads");
  };
  for (const auto& [opt, label] : optimizers) {
    std::optional<double> torch_best;
    int64_t torch_best_threads = 0;
    for (const int64_t t : threads) {
      const auto e = records.figure("mlp_epoch", torch, 0, t, opt);
      if (e && (!torch_best || *e < *torch_best)) {
        torch_best = e;
        torch_best_threads = t;
      }
    }
    if (!torch_best) continue;
    std::cout << "  " << label << ", PyTorch's best epoch " << fixed(*torch_best, 2) << " s ("
              << threads_text(torch_best_threads) << "); ours/that:";
    for (const int64_t t : threads) {
      std::cout << " " << ratio(records.figure("mlp_epoch", ours, 0, t, opt), torch_best) << " at "
                << threads_text(t) << (t == threads.back() ? "\n" : ",");
    }
  }
  if (const Json* r = first_figure(records, "mlp_epoch", ours)) {
    std::cout << "  data: " << r->value("data", std::string("?")) << ", "
              << r->value("samples", int64_t{0}) << " images per epoch\n";
  }
  if (const Json* r = first_figure(records, "mlp_epoch", torch)) {
    std::cout << "  PyTorch " << r->value("torch_version", std::string("?")) << ", BLAS "
              << r->value("torch_blas", std::string("?")) << ", " << openblas_core_text(*r) << "\n";
  }
  print_not_measured(records, {"mlp_step", "mlp_epoch", "mlp_peak_rss"});
}

// LeNet-5 (milestone 1998): step, epoch, batch-1 latency and peak memory, ours vs PyTorch per
// thread count; then ours at each thread count against PyTorch's best thread setting of each
// figure, with the targets (epoch <= 0.8x, latency and peak memory <= 1x).
void print_cnn(const Records& records) {
  const std::string ours = "tinytorch-fast", torch = "torch";
  const auto threads = records.values("cnn_epoch", "threads");
  // A record's extra field (e.g. the latency's p90_ms), if it was measured.
  const auto field = [&](const char* name, const std::string& impl, int64_t t,
                         const char* key) -> std::optional<double> {
    const Json* r = records.find(name, impl, 0, t);
    if (r == nullptr || !Records::is_figure(*r) || !r->contains(key)) return std::nullopt;
    return (*r)[key].get<double>();
  };
  const auto latency_cell = [&](const std::string& impl, int64_t t) {
    const std::string median = records.cell("cnn_latency", impl, 0, t, 3);
    const auto p90 = field("cnn_latency", impl, t, "p90_ms");
    return p90 ? median + " / " + fixed(*p90, 3) : median;
  };

  print_title("1998 LeNet-5 (Fashion-MNIST, batch 64, SGD lr 0.1 momentum 0.9): ours vs PyTorch");
  Table table({"threads", "step ms (ours)", "step ms (torch)", "epoch s (ours)", "epoch s (torch)",
               "batch-1 ms median / p90 (ours)", "(torch)", "peak MiB (ours)", "(torch)"});
  for (const int64_t t : threads) {
    const auto c = [&](const char* name, const std::string& impl, int decimals) {
      return records.cell(name, impl, 0, t, decimals);
    };
    table.row({std::to_string(t), c("cnn_step", ours, 2), c("cnn_step", torch, 2),
               c("cnn_epoch", ours, 2), c("cnn_epoch", torch, 2), latency_cell(ours, t),
               latency_cell(torch, t), c("cnn_peak_rss", ours, 0), c("cnn_peak_rss", torch, 0)});
  }
  table.print(std::cout);

  // Each figure: PyTorch's best thread setting, and ours at every thread count against it.
  struct Row {
    const char* label;
    const char* name;
    const char* key;  // nullptr: the record's figure
    std::optional<double> target;
  };
  const Row rows[] = {{"epoch (s)", "cnn_epoch", nullptr, 0.8},
                      {"training step (ms)", "cnn_step", nullptr, std::nullopt},
                      {"batch-1 latency, median (ms)", "cnn_latency", nullptr, 1.0},
                      {"batch-1 latency, p90 (ms)", "cnn_latency", "p90_ms", std::nullopt},
                      {"peak RSS (MiB)", "cnn_peak_rss", nullptr, 1.0}};
  std::vector<std::string> header{"figure", "PyTorch's best"};
  for (const int64_t t : threads) header.push_back("ours/best " + std::to_string(t) + "t");
  header.push_back("target");
  Table best_table(header);
  bool any = false;
  for (const Row& row : rows) {
    const auto get = [&](const std::string& impl, int64_t t) {
      return row.key == nullptr ? records.figure(row.name, impl, 0, t)
                                : field(row.name, impl, t, row.key);
    };
    std::optional<double> best;
    int64_t best_threads = 0;
    for (const int64_t t : threads) {
      const auto v = get(torch, t);
      if (v && (!best || *v < *best)) {
        best = v;
        best_threads = t;
      }
    }
    if (!best) continue;
    any = true;
    std::vector<std::string> cells{row.label,
                                   fixed(*best, 2) + " (" + std::to_string(best_threads) + "t)"};
    bool met = false;
    for (const int64_t t : threads) {
      const auto mine = get(ours, t);
      cells.push_back(ratio(mine, best));
      met = met || (mine && row.target && *mine <= *row.target * *best);
    }
    cells.push_back(!row.target ? ""
                                : "<= " + fixed(*row.target, 2) + "x " + (met ? "met" : "NOT MET"));
    best_table.row(cells);
  }
  if (any) {
    print_title("LeNet-5: ours / PyTorch's best thread setting (< 1x: ours is better)");
    best_table.print(std::cout);
    std::cout << "  a target is met when ours at some thread count is within it\n";
  }
  if (const Json* r = first_figure(records, "cnn_epoch", ours)) {
    std::cout << "  data: " << r->value("data", std::string("?")) << ", "
              << r->value("samples", int64_t{0}) << " images per epoch\n";
  }
  if (const Json* r = first_figure(records, "cnn_epoch", torch)) {
    std::cout << "  PyTorch " << r->value("torch_version", std::string("?"))
              << ", convolutions on oneDNN: " << (r->value("torch_mkldnn", false) ? "yes" : "no")
              << ", BLAS " << r->value("torch_blas", std::string("?")) << ", "
              << openblas_core_text(*r) << "\n";
  }
  print_not_measured(records, {"cnn_step", "cnn_epoch", "cnn_latency", "cnn_peak_rss"});
}

// Milestone 2017's GPT: training and generation tokens/s and peak memory, ours vs PyTorch per
// thread count; then ours at each thread count against PyTorch's best thread setting of each
// figure, with the targets (training >= 1.25x, KV-cache generation >= 2x, peak memory
// <= 1x). gpt_generate's records differ by their "mode" (cache | nocache).
void print_gpt(const Records& records) {
  const std::string ours = "tinytorch-fast", torch = "torch";
  const auto threads = records.values("gpt_train", "threads");
  const auto find = [&](const char* name, const std::string& impl, int64_t t,
                        const char* mode) -> const Json* {
    for (const Json& r : records.all()) {
      if (r.value("name", "") == name && r.value("impl", "") == impl &&
          r.value("threads", int64_t{0}) == t && r.value("mode", "") == mode) {
        return &r;
      }
    }
    return nullptr;
  };
  const auto get = [&](const char* name, const std::string& impl, int64_t t,
                       const char* mode) -> std::optional<double> {
    const Json* r = find(name, impl, t, mode);
    if (r == nullptr || !Records::is_figure(*r)) return std::nullopt;
    return (*r)[Records::figure_field(*r)].get<double>();
  };
  const auto cell = [&](const char* name, const std::string& impl, int64_t t, const char* mode) {
    const Json* r = find(name, impl, t, mode);
    if (r == nullptr) return std::string("-");
    if (r->contains("failed")) return std::string("FAILED");
    if (r->contains("skipped")) return std::string("skipped");
    return fixed(*get(name, impl, t, mode), 0);
  };

  print_title(
      "2017 GPT (4 layers, 4 heads, d 128, context 64; train batch 32, AdamW lr 3e-4; "
      "greedy generation of 63 tokens at batch 1): ours vs PyTorch");
  Table table({"threads", "train tok/s (ours)", "(torch)", "generate tok/s (ours)", "(torch)",
               "with KV cache (ours)", "(torch)", "peak MiB (ours)", "(torch)"});
  for (const int64_t t : threads) {
    table.row({std::to_string(t), cell("gpt_train", ours, t, ""), cell("gpt_train", torch, t, ""),
               cell("gpt_generate", ours, t, "nocache"), cell("gpt_generate", torch, t, "nocache"),
               cell("gpt_generate", ours, t, "cache"), cell("gpt_generate", torch, t, "cache"),
               cell("gpt_peak_rss", ours, t, ""), cell("gpt_peak_rss", torch, t, "")});
  }
  table.print(std::cout);

  // Each figure: PyTorch's best thread setting, and ours at every thread count against it.
  struct Row {
    const char* label;
    const char* name;
    const char* mode;
    bool higher_is_better;
    std::optional<double> target;  // ours/best at or beyond it (in the better direction)
  };
  const Row rows[] = {
      {"training (tokens/s)", "gpt_train", "", true, 1.25},
      {"generation, KV cache (tokens/s)", "gpt_generate", "cache", true, 2.0},
      {"generation, no cache (tokens/s)", "gpt_generate", "nocache", true, std::nullopt},
      {"peak RSS (MiB)", "gpt_peak_rss", "", false, 1.0}};
  std::vector<std::string> header{"figure", "PyTorch's best"};
  for (const int64_t t : threads) header.push_back("ours/best " + std::to_string(t) + "t");
  header.push_back("target");
  Table best_table(header);
  bool any = false;
  for (const Row& row : rows) {
    std::optional<double> best;
    int64_t best_threads = 0;
    for (const int64_t t : threads) {
      const auto v = get(row.name, torch, t, row.mode);
      if (v && (!best || (row.higher_is_better ? *v > *best : *v < *best))) {
        best = v;
        best_threads = t;
      }
    }
    if (!best) continue;
    any = true;
    std::vector<std::string> cells{row.label,
                                   fixed(*best, 0) + " (" + std::to_string(best_threads) + "t)"};
    bool met = false;
    for (const int64_t t : threads) {
      const auto mine = get(row.name, ours, t, row.mode);
      cells.push_back(ratio(mine, best));
      met = met ||
            (mine && row.target &&
             (row.higher_is_better ? *mine >= *row.target * *best : *mine <= *row.target * *best));
    }
    cells.push_back(!row.target ? ""
                                : (row.higher_is_better ? ">= " : "<= ") + fixed(*row.target, 2) +
                                      "x " + (met ? "met" : "NOT MET"));
    best_table.row(cells);
  }
  if (any) {
    print_title(
        "GPT: ours / PyTorch's best thread setting (tokens/s: > 1x, memory: < 1x is "
        "ours better)");
    best_table.print(std::cout);
    std::cout << "  a target is met when ours at some thread count is within it; cached and "
                 "uncached generation gave the same tokens unless a row above says FAILED\n";
  }
  if (const Json* r = first_figure(records, "gpt_train", torch)) {
    std::cout << "  PyTorch " << r->value("torch_version", std::string("?"))
              << " (attention written out by hand: bench/gpt_torch.py), BLAS "
              << r->value("torch_blas", std::string("?")) << ", " << openblas_core_text(*r) << "\n";
  }
  print_not_measured(records, {"gpt_train", "gpt_generate", "gpt_peak_rss"});
}

// The table of a program without its own: every record it wrote, one per line.
void print_generic(const std::string& title, const std::vector<Json>& program_records) {
  print_title(title);
  Table table({"figure", "impl", "n", "threads", "value"});
  for (const Json& r : program_records) {
    static const std::map<std::string, std::string> kUnits = {{"tokens_per_second", " tokens/s"},
                                                              {"gflops", " GFLOP/s"},
                                                              {"gbps", " GB/s"},
                                                              {"seconds", " s"},
                                                              {"ms", " ms"},
                                                              {"mib", " MiB"}};
    const std::string field = Records::figure_field(r);
    std::string value = !field.empty()         ? fixed(r[field].get<double>(), 2) + kUnits.at(field)
                        : r.contains("failed") ? "FAILED: " + r["failed"].get<std::string>()
                                               : "skipped: " + r.value("skipped", std::string());
    table.row({r.value("name", ""), r.value("impl", ""),
               r.contains("n") ? std::to_string(r["n"].get<int64_t>()) : "",
               r.contains("threads") ? std::to_string(r["threads"].get<int64_t>()) : "", value});
  }
  table.print(std::cout);
}

// ---- --contended: a competitor on one core --------------------------------------------------
//
// Laptops and shared servers always run other programs. `tito bench --contended` measures what
// our threads do then: for the whole run tito keeps a competitor busy — a child process that
// spins, at normal priority, pinned to one CPU (the first this process may use, like
// `taskset -c 0`) — and prints the 2-thread/1-thread ratio of every SGEMM size, of the MLP and
// of the CNN. A second thread must never make a call much slower than one thread: the target is >=
// 0.9x (issue 16; a thread the OS takes away must not hold up the others, see core/parallel.cpp).
constexpr double kContendedTarget = 0.9;

class Competitor {
 public:
  Competitor() {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || CPU_COUNT(&allowed) < 2) {
      throw tito::Error(
          "--contended needs at least 2 CPUs (it takes one of them away from the benchmarks)");
    }
    while (!CPU_ISSET(cpu_, &allowed)) ++cpu_;
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) throw tito::Error("--contended: cannot start the competitor process (fork)");
    if (pid_ == 0) {
      // The competitor: dies with tito (even if tito is killed), runs on one CPU, spins.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(0);
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu_, &one);
      sched_setaffinity(0, sizeof(one), &one);
      volatile uint64_t spins = 0;
      for (;;) spins = spins + 1;
    }
  }
  ~Competitor() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  Competitor(const Competitor&) = delete;
  Competitor& operator=(const Competitor&) = delete;

  [[nodiscard]] int cpu() const { return cpu_; }

 private:
  int cpu_ = 0;
  pid_t pid_ = -1;
};

// The 2-thread/1-thread ratios measured beside the competitor, each against the target.
void print_contended(const Records& records, int cpu) {
  print_title("Contended: a competitor spinning on CPU " + std::to_string(cpu) +
              " all run long; 2 threads / 1 thread (target >= " + fixed(kContendedTarget, 1) +
              "x)");
  Table table({"figure", "1 thread", "2 threads", "2t/1t", ""});
  int below = 0;
  const auto row = [&](const std::string& label, std::optional<double> one,
                       std::optional<double> two, bool higher_is_better, const std::string& unit) {
    if (!one || !two || *one <= 0.0 || *two <= 0.0) return;
    const double speedup = higher_is_better ? *two / *one : *one / *two;
    const bool ok = speedup >= kContendedTarget;
    below += ok ? 0 : 1;
    table.row({label, fixed(*one, 2) + unit, fixed(*two, 2) + unit, fixed(speedup, 2) + "x",
               ok ? "ok" : "BELOW TARGET"});
  };
  for (const int64_t n : records.values("sgemm", "n")) {
    row("SGEMM N = " + std::to_string(n), records.figure("sgemm", "tinytorch-fast", n, 1),
        records.figure("sgemm", "tinytorch-fast", n, 2), true, " GFLOP/s");
  }
  // The MLP's records carry their optimizer: one pair of rows per optimizer measured.
  for (const char* optimizer : {"sgd", "adam"}) {
    const std::string label = std::string("MLP ") + optimizer;
    row(label + " training step", records.figure("mlp_step", "tinytorch-fast", 0, 1, optimizer),
        records.figure("mlp_step", "tinytorch-fast", 0, 2, optimizer), false, " ms");
    row(label + " epoch", records.figure("mlp_epoch", "tinytorch-fast", 0, 1, optimizer),
        records.figure("mlp_epoch", "tinytorch-fast", 0, 2, optimizer), false, " s");
  }
  row("LeNet-5 training step", records.figure("cnn_step", "tinytorch-fast", 0, 1),
      records.figure("cnn_step", "tinytorch-fast", 0, 2), false, " ms");
  row("LeNet-5 epoch", records.figure("cnn_epoch", "tinytorch-fast", 0, 1),
      records.figure("cnn_epoch", "tinytorch-fast", 0, 2), false, " s");
  table.print(std::cout);
  std::cout << "  (times: 2t/1t is the 1-thread time over the 2-thread one, so > 1x is faster)\n";
  if (below > 0) std::cout << "  " << below << " figure(s) below the target\n";
}

// ---- The programs ---------------------------------------------------------------------------

struct Program {
  const char* name;                // tito bench <name>
  const char* target;              // its CMake target (bench/CMakeLists.txt)
  const char* description;         // what it measures, for --help and the progress line
  std::vector<const char*> needs;  // programs whose figures its table uses: run them first
  void (*print)(const Records&);   // its summary table; nullptr: the generic one
  // The CMake cache entries of the optional packages it measures against (bench/CMakeLists.txt's
  // find_path/find_library results): when one says NOTFOUND, tito configures again before building,
  // so that a package installed since the last configure is found, not reported as skipped.
  std::vector<const char*> optional_finds = {};
};

const std::vector<Program> kPrograms = {
    {"peak",
     "peak_bench",
     "the machine's FMA peak (GFLOP/s) and memory bandwidth (GB/s)",
     {},
     print_peak},
    {"sgemm",
     "sgemm_bench",
     "SGEMM GFLOP/s, N = 128..2048, 1 and 2 threads: fast tier, reference tier, OpenBLAS",
     {"peak"},
     print_sgemm,
     {"TINYTORCH_CBLAS_INCLUDE", "TINYTORCH_OPENBLAS_LIB"}},
    {"mlp",
     "mlp_bench",
     "the 1986 MLP, SGD and Adam: training step, epoch and peak memory, ours vs PyTorch, 1 and 2 "
     "threads",
     {},
     print_mlp},
    {"cnn",
     "cnn_bench",
     "the 1998 LeNet-5: training step, epoch, batch-1 latency and peak memory, ours vs PyTorch, 1 "
     "and 2 threads",
     {},
     print_cnn},
    {"gpt",
     "gpt_bench",
     "the 2017 GPT: training tokens/s, generation tokens/s with and without the KV cache, peak "
     "memory, ours vs PyTorch, 1 and 2 threads",
     {},
     print_gpt},
};

const Program* find_program(const std::string& name) {
  for (const Program& p : kPrograms) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

std::string program_names() {
  std::string names = "all";
  for (const Program& p : kPrograms) names += std::string(", ") + p.name;
  return names;
}

// The programs to run for the names asked for, dependencies first, each once.
std::vector<const Program*> resolve(const std::vector<std::string>& asked) {
  std::vector<const Program*> order;
  const auto visit = [&](const auto& self, const Program* p) -> void {
    if (std::find(order.begin(), order.end(), p) != order.end()) return;
    for (const char* need : p->needs) self(self, find_program(need));
    order.push_back(p);
  };
  for (const std::string& name : asked) {
    if (name == "all") {
      for (const Program& p : kPrograms) visit(visit, &p);
    } else {
      visit(visit, find_program(name));
    }
  }
  return order;
}

// ---- The command ------------------------------------------------------------------------------

struct Options {
  std::vector<std::string> which;
  bool quick = false;
  std::string json_path;
  bool contended = false;  // run beside a competitor pinned to one CPU (see Competitor)
};

// Writes `text` to `path` through a temporary file in the same directory and a rename, so the
// file is either the old one or the complete new one, never half written.
void write_atomically(const tito::fs::path& path, const std::string& text) {
  const tito::fs::path tmp = path.string() + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp);
    out << text;
    if (!out.flush()) throw tito::Error("cannot write " + tmp.string());
  }
  std::error_code ec;
  tito::fs::rename(tmp, path, ec);
  if (ec) {
    tito::fs::remove(tmp, ec);
    throw tito::Error("cannot write " + path.string() + ": " + ec.message());
  }
}

// The entries among `names` that build/<preset>/CMakeCache.txt records as not found
// ("NAME:PATH=NAME-NOTFOUND"); CMake searches for those again on the next configure.
std::vector<std::string> not_found_in_cache(const tito::fs::path& build,
                                            const std::vector<const char*>& names) {
  std::vector<std::string> missing;
  std::ifstream cache(build / "CMakeCache.txt");
  for (std::string line; std::getline(cache, line);) {
    for (const char* name : names) {
      const std::string prefix = std::string(name) + ":";
      if (line.rfind(prefix, 0) == 0 && line.size() >= 9 &&
          line.compare(line.size() - 9, 9, "-NOTFOUND") == 0) {
        missing.emplace_back(name);
      }
    }
  }
  return missing;
}

// Builds the programs' targets; reconfigures once when a target is unknown (Google Benchmark
// installed after the first configure) or an optional package was not found when the build was
// configured (OpenBLAS installed since). Returns false with the error printed.
bool build_programs(const tito::fs::path& root, const std::vector<const Program*>& programs) {
  const std::string preset = "release";
  if (tito::ensure_configured(root, preset) != 0) {
    tito::print_error("configuring with preset '" + preset + "' failed (see above)");
    return false;
  }
  std::vector<const char*> finds;
  for (const Program* p : programs) {
    finds.insert(finds.end(), p->optional_finds.begin(), p->optional_finds.end());
  }
  const auto build = tito::build_dir(root, preset);
  if (const auto missing = not_found_in_cache(build, finds); !missing.empty()) {
    std::string names;
    for (const auto& name : missing) names += (names.empty() ? "" : ", ") + name;
    tito::print_step("Reconfiguring build/" + preset + ": it was configured without " + names +
                     " (optional, for a baseline); looking again in case it was installed since");
    if (const auto configure = tito::capture({"cmake", "--preset", preset}, root);
        configure.exit_code != 0) {
      std::cerr << configure.output;
      tito::print_error("configuring with preset '" + preset + "' failed (see above)");
      return false;
    }
  }
  std::vector<std::string> targets;
  for (const Program* p : programs) targets.emplace_back(p->target);
  const auto missing = [&] {
    return std::any_of(targets.begin(), targets.end(),
                       [&](const std::string& t) { return !tito::has_target(root, preset, t); });
  };
  if (missing()) {
    tito::print_step("Reconfiguring build/" + preset + " (a benchmark target is missing)");
    if (tito::run({"cmake", "--preset", preset}, {.cwd = root}) != 0 || missing()) {
      tito::print_error(
          "the benchmark programs are not part of the build: they need Google Benchmark "
          "(install it with: sudo apt-get install -y libbenchmark-dev, then run tito bench "
          "again; tito doctor lists every optional package)");
      return false;
    }
  }
  if (tito::build(root, preset, targets) != 0) {
    tito::print_error("building the benchmarks failed (see above)");
    return false;
  }
  return true;
}

// The baselines run as a user who has not tuned them gets them. OPENBLAS_CORETYPE pins OpenBLAS
// (and PyTorch, which calls it for Linear) to one core's kernels: on a Zen 5 with =Haswell, its
// AVX2 ones, about half as fast as the AVX-512 ones it picks by itself (185 vs 101 GFLOP/s at
// N = 1024, 1 thread, on the course VM's thread CPU clock). A benchmark against a handicapped
// baseline flatters us, so the variable is cleared for every program, and its value handed on in
// TINYTORCH_BENCH_CLEARED_OPENBLAS_CORETYPE for the programs to report (bench/sgemm_bench.cpp,
// bench/mlp_torch.py).
void clear_openblas_coretype() {
  const char* pinned = std::getenv("OPENBLAS_CORETYPE");
  if (pinned == nullptr) {
    unsetenv("TINYTORCH_BENCH_CLEARED_OPENBLAS_CORETYPE");
    return;
  }
  const std::string value = pinned;
  setenv("TINYTORCH_BENCH_CLEARED_OPENBLAS_CORETYPE", value.c_str(), 1);
  unsetenv("OPENBLAS_CORETYPE");
  std::cout << "OPENBLAS_CORETYPE=" << value
            << " cleared for the benchmarks: OpenBLAS and PyTorch run the kernels OpenBLAS picks "
               "for this CPU\n";
}

int run_bench(const Options& opts) {
  // Fail before a minute of measuring, not after it, when the JSON cannot be written there.
  tito::fs::path json_path;
  if (!opts.json_path.empty()) {
    json_path = tito::fs::absolute(opts.json_path);
    std::error_code ec;
    if (!tito::fs::is_directory(json_path.parent_path(), ec)) {
      tito::print_error("--json " + opts.json_path + ": directory " +
                        json_path.parent_path().string() + " does not exist");
      return 1;
    }
    if (tito::fs::is_directory(json_path, ec)) {
      tito::print_error("--json " + opts.json_path + " is a directory; give a file name");
      return 1;
    }
  }

  clear_openblas_coretype();
  const auto root = tito::repo_root();
  const auto programs = resolve(opts.which.empty() ? std::vector<std::string>{"all"} : opts.which);
  if (!build_programs(root, programs)) return 1;

  const auto bin = tito::build_dir(root, "release") / "bin";
  const auto records_dir = tito::build_dir(root, "release") / "bench";
  std::error_code ec;
  tito::fs::create_directories(records_dir, ec);

  Records records;
  std::map<std::string, std::vector<Json>> by_program;
  bool ok = true;
  std::optional<Competitor> competitor;
  if (opts.contended) competitor.emplace();
  for (const Program* p : programs) {
    const auto records_file = records_dir / (std::string(p->target) + ".records.json");
    tito::fs::remove(records_file, ec);
    tito::print_step(std::string("Running ") + p->target + ": " + p->description);
    std::vector<std::string> argv{(bin / p->target).string(), "--records", records_file.string()};
    if (opts.quick) argv.emplace_back("--quick");
    const int status = tito::run(argv, {.cwd = root, .echo = false});
    std::ifstream in(records_file);
    if (!in) {
      tito::print_error(std::string(p->target) +
                        " stopped without writing its figures (exit status " +
                        std::to_string(status) + ")");
      ok = false;
      continue;
    }
    try {
      for (Json record : Json::parse(in)) {
        if (competitor) record["contended_cpu"] = competitor->cpu();
        records.add(record);
        by_program[p->name].push_back(record);
      }
    } catch (const Json::exception& e) {
      tito::print_error(records_file.string() + " is not a list of records: " + e.what());
      ok = false;
      continue;
    }
    if (status != 0) {
      tito::print_error(std::string(p->target) + " reported failures (exit status " +
                        std::to_string(status) + ")");
      ok = false;
    }
  }

  for (const Program* p : programs) {
    if (p->print != nullptr) {
      p->print(records);
    } else {
      print_generic(p->description, by_program[p->name]);
    }
  }
  if (competitor) print_contended(records, competitor->cpu());
  competitor.reset();

  if (!json_path.empty()) {
    Json figures = Json::array();
    for (const Json& r : records.all()) {
      if (Records::is_figure(r)) figures.push_back(r);
    }
    write_atomically(json_path, figures.dump(2) + "\n");
    std::cout << "\n" << figures.size() << " figures written to " << opts.json_path << "\n";
  }
  if (opts.quick) {
    std::cout << "\n(--quick: one short repetition per figure; run without it for the figures to "
                 "record)\n";
  }
  return ok ? 0 : 1;
}

tito::CommandRunner setup(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  app.add_option("benchmark", opts->which,
                 "What to run: " + program_names() + " (default: all; several may be given)")
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (value == "all" || find_program(value) != nullptr) return {};
            return "unknown benchmark '" + value + "'; choose from: " + program_names();
          },
          "", "benchmark name"))
      ->type_name("BENCHMARK");
  app.add_flag("--quick", opts->quick,
               "One short repetition per figure (seconds instead of a minute; noisier)");
  app.add_flag("--contended", opts->contended,
               "Run beside a busy competitor process pinned to one CPU and print the 2-thread / "
               "1-thread ratios (a second thread must never make a call much slower)");
  app.add_option("--json", opts->json_path,
                 "Also write every figure to this file as a JSON list of records")
      ->type_name("PATH");
  std::string footer = "Benchmarks:\n";
  for (const Program& p : kPrograms) {
    std::string name = p.name;
    name.resize(std::max<size_t>(name.size() + 2, 8), ' ');
    footer += "  " + name + p.description;
    for (size_t i = 0; i < p.needs.size(); ++i) {
      footer += std::string(i == 0 ? " (runs " : ", ") + p.needs[i];
    }
    footer += p.needs.empty() ? "\n" : " too, for its table)\n";
  }
  footer +=
      "\nFigures are medians of 9 repetitions (1 with --quick), measured on this machine in this\n"
      "run; ratios are computed from figures of the same run. Close other programs first: on a\n"
      "busy machine figures are noisy, 2-thread ones most (each program prints how busy the\n"
      "CPUs were; README.md, Benchmarks, explains the OpenMP spin setting tito uses). On a busy\n"
      "machine, TINYTORCH_BENCH_CLOCK=thread-cpu times 1-thread figures by the thread's CPU "
      "clock.\n"
      "The baselines run as a user gets them: OPENBLAS_CORETYPE is cleared for OpenBLAS and\n"
      "PyTorch, and every run names the OpenBLAS core they ran.";
  app.footer(footer);
  return [opts] { return run_bench(*opts); };
}

const tito::RegisterCommand kRegistered{
    "bench",
    "Build and run the benchmarks: machine peak, SGEMM, the MLP, the CNN and the GPT against "
    "PyTorch",
    setup};

}  // namespace
