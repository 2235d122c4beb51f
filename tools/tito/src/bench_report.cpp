// The summary tables of `tito bench` (bench_report.h).
#include "bench_report.h"

#include <algorithm>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "util.h"

namespace tito::bench {
namespace {

// ---- Table formatting ----------------------------------------------------------------------

std::string fixed(double value, int decimals) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(decimals) << value;
  return out.str();
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

// The ratio a/b of two records' figures, then " ~" when their 95% intervals overlap (no
// significant difference: the ratio is noise as much as code). A footnote (verdict_note) says so.
std::string ratio_of(const Json* a, const Json* b) {
  const auto figure = [](const Json* r) -> std::optional<double> {
    if (r == nullptr || !Records::is_figure(*r)) return std::nullopt;
    return (*r)[Records::figure_field(*r)].get<double>();
  };
  const std::string text = ratio(figure(a), figure(b));
  return verdict(a, b) == "no significant difference" ? text + " ~" : text;
}

void verdict_note() {
  std::cout << "  ~: the two figures' 95% intervals (bootstrap of the median of the repetitions) "
               "overlap: no significant difference. Without the mark they separate; --quick "
               "measures once, with no intervals and no verdicts.\n";
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

// One figure of an "ours / PyTorch's best thread setting" table: how to read it for an impl at a
// thread count, which direction is better, and the target ratio (if any).
struct BestRow {
  using Getter = std::function<std::optional<double>(const std::string& impl, int64_t threads)>;
  std::string label;
  Getter get;
  bool higher_is_better;
  std::optional<double> target;  // ours/best at or beyond it (in the better direction)
  int decimals;                  // for PyTorch's figure
};

// Each row: PyTorch's best thread setting, ours at every thread count against it, and whether
// the target is met at some thread count. Printed only if PyTorch measured something.
void print_against_best(const std::string& title, const std::vector<BestRow>& rows,
                        const std::vector<int64_t>& threads, const std::string& ours,
                        const std::string& torch, const std::string& footnote) {
  const bool targets = std::any_of(rows.begin(), rows.end(),
                                   [](const BestRow& row) { return row.target.has_value(); });
  std::vector<std::string> header{"figure", "PyTorch's best"};
  for (const int64_t t : threads) header.push_back("ours/best " + std::to_string(t) + "t");
  if (targets) header.push_back("target");
  Table table(header);
  bool any = false;
  for (const BestRow& row : rows) {
    const auto better = [&](double a, double b) { return row.higher_is_better ? a > b : a < b; };
    std::optional<double> best;
    int64_t best_threads = 0;
    for (const int64_t t : threads) {
      const auto v = row.get(torch, t);
      if (v && (!best || better(*v, *best))) {
        best = v;
        best_threads = t;
      }
    }
    if (!best) continue;
    any = true;
    std::vector<std::string> cells{
        row.label, fixed(*best, row.decimals) + " (" + std::to_string(best_threads) + "t)"};
    bool met = false;
    for (const int64_t t : threads) {
      const auto mine = row.get(ours, t);
      cells.push_back(ratio(mine, best));
      met = met || (mine && row.target && !better(*row.target * *best, *mine));
    }
    if (targets) {
      cells.push_back(!row.target ? ""
                                  : (row.higher_is_better ? ">= " : "<= ") + fixed(*row.target, 2) +
                                        "x " + (met ? "met" : "NOT MET"));
    }
    table.row(cells);
  }
  if (!any) return;
  print_title(title);
  table.print(std::cout);
  std::cout << footnote;
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

// A field of the measured record (name, impl, threads), e.g. a latency's p90_ms or a step's
// peak_fraction, if it is there.
std::optional<double> figure_field(const Records& records, const std::string& name,
                                   const std::string& impl, int64_t threads, const char* key) {
  const Json* r = records.find(name, impl, 0, threads);
  if (r == nullptr || !Records::is_figure(*r) || !r->contains(key)) return std::nullopt;
  return (*r)[key].get<double>();
}

// "median / p90" of a latency record (ms), or its cell ("-", "skipped", "FAILED").
std::string latency_text(const Records& records, const std::string& name, const std::string& impl,
                         int64_t threads) {
  const std::string median = records.cell(name, impl, 0, threads, 3);
  const auto p90 = figure_field(records, name, impl, threads, "p90_ms");
  return p90 ? median + " / " + fixed(*p90, 3) : median;
}

// Ours' batch-1 latency above 1 thread against 1 thread timed interleaved in the same worker
// (bench/torch_baseline.h, time_latencies): one line per thread count whose record has it.
void print_interleaved_latency(const Records& records, const std::string& name,
                               const std::vector<int64_t>& threads) {
  for (const int64_t t : threads) {
    const auto at_t = records.figure(name, "tinytorch-fast", 0, t);
    const auto at_one = figure_field(records, name, "tinytorch-fast", t, "one_thread_ms");
    if (!at_t || !at_one || *at_t <= 0.0) continue;
    std::cout << "  ours, batch-1 latency at " << t << " threads vs 1 thread, timed interleaved in "
              << "one process: " << fixed(*at_one, 3) << " / " << fixed(*at_t, 3)
              << " ms = " << fixed(*at_one / *at_t, 2) << "x (> 1x: " << t
              << " threads are faster)\n";
  }
}

// A BestRow's getter: the figure of the records `name` (key nullptr), or their field `key`.
// (`records` must outlive it.)
std::function<std::optional<double>(const std::string&, int64_t)> figure_getter(
    const Records& records, const std::string& name, const char* key) {
  return [&records, name, key](const std::string& impl, int64_t t) {
    return key == nullptr ? records.figure(name, impl, 0, t)
                          : figure_field(records, name, impl, t, key);
  };
}

// A cell for a fraction of the FMA peak (the record's peak_fraction, torch_baseline.h): "45%".
std::string peak_cell(const Records& records, const std::string& name, const std::string& impl,
                      int64_t threads) {
  const auto fraction = figure_field(records, name, impl, threads, "peak_fraction");
  return fraction ? fixed(100.0 * *fraction, 0) + "%" : "-";
}

// Under a table with "% peak" columns: what the peak was and how the FLOPs were counted.
void print_peak_note(const Json* r, const std::string& counted) {
  if (r == nullptr || !r->contains("fma_peak_isa")) {
    std::cout << "  % peak: not measured (no FMA kernel for this CPU)\n";
    return;
  }
  std::cout << "  % peak: the FLOPs counted analytically (" << counted << ") per second, over the "
            << r->value("fma_peak_isa", std::string("?"))
            << " FMA peak our side measured at the same thread count, in its own process\n";
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

// The instruction set a peak ("fma_peak", "int8_peak") was measured with: the impl of its records
// ("AVX-512" or "AVX2" for the FMA peak, the widest FMA of the CPU: bench/machine_limits.h), ""
// when it was not measured. Every "% of peak" of this run divides by the FMA kernel's figures.
std::string peak_isa(const Records& records, const std::string& name = "fma_peak") {
  for (const Json& r : records.all()) {
    if (r.value("name", "") == name && Records::is_figure(r)) return r.value("impl", "");
  }
  return "";
}

}  // namespace

std::string Records::cell(const std::string& name, const std::string& impl, int64_t n,
                          int64_t threads, int decimals, const std::string& optimizer) const {
  const Json* r = find(name, impl, n, threads, optimizer);
  if (r == nullptr) return "-";
  if (r->contains("skipped")) return "skipped";
  if (r->contains("failed")) return "FAILED";
  return fixed((*r)[figure_field(*r)].get<double>(), decimals);
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
  const std::string isa = peak_isa(records);
  const std::string peak_label =
      isa.empty() ? "FMA peak, float32 (GFLOP/s)" : "FMA peak, float32, " + isa + " (GFLOP/s)";
  // (name, impl, label): the peak's records carry its kernel's instruction set as impl.
  const std::string int8_isa = peak_isa(records, "int8_peak");
  const std::tuple<std::string, std::string, std::string> rows[] = {
      {"fma_peak", isa, peak_label},
      {"int8_peak", int8_isa,
       int8_isa.empty() ? "int8 peak (GOP/s)" : "int8 peak, " + int8_isa + " (GOP/s)"},
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
    const auto int8 = records.figure("int8_peak", int8_isa, 0, threads.front());
    const auto fp32 = records.figure("fma_peak", isa, 0, threads.front());
    if (int8 && fp32 && *fp32 > 0.0) {
      std::cout << "  int8 / float32 peak: " << fixed(*int8 / *fp32, 2)
                << "× — the most an int8 GEMM can gain over a float32 one on this CPU's "
                << int8_isa << " path\n";
    }
  }
  print_not_measured(records, {"fma_peak", "int8_peak", "stream_copy", "stream_triad"});
}

// SGEMM: GFLOP/s per N and implementation, then the ratios, then the backward-pass layouts.
std::optional<std::pair<double, double>> Records::interval(const Json& r) {
  const std::string field = std::string(figure_field(r)) + "_ci95";
  if (!is_figure(r) || !r.contains(field) || !r[field].is_array() || r[field].size() != 2 ||
      !r[field][0].is_number() || !r[field][1].is_number()) {
    return std::nullopt;
  }
  return std::make_pair(r[field][0].get<double>(), r[field][1].get<double>());
}

std::string verdict(const Json* a, const Json* b) {
  if (a == nullptr || b == nullptr) return "";
  const auto ia = Records::interval(*a), ib = Records::interval(*b);
  if (!ia || !ib) return "";
  if (ia->first > ib->second) return "higher";
  if (ia->second < ib->first) return "lower";
  return "no significant difference";
}

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
  const std::string isa = peak_isa(records);
  const auto peak1 = records.figure("fma_peak", isa, 0, 1),
             peak2 = records.figure("fma_peak", isa, 0, 2);
  for (const int64_t n : sizes) {
    const auto r = [&](const std::string& impl, int64_t t) {
      return records.find("sgemm", impl, n, t);
    };
    std::vector<std::string> row{std::to_string(n), ratio_of(r(fast, 1), r(ref, 1))};
    if (have_blas) {
      row.insert(row.end(), {ratio_of(r(fast, 1), r(blas, 1)), ratio_of(r(fast, 2), r(blas, 2))});
    }
    row.push_back(ratio(f(fast, n, 2), f(fast, n, 1)));
    if (have_blas) row.push_back(ratio(f(blas, n, 2), f(blas, n, 1)));
    row.insert(row.end(), {percent(f(fast, n, 1), peak1), percent(f(fast, n, 2), peak2)});
    ratios.row(row);
  }
  ratios.print(std::cout);
  verdict_note();
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
  const auto latency_cell = [&](const std::string& impl, int64_t t) {
    return latency_text(records, "cnn_latency", impl, t);
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
  print_interleaved_latency(records, "cnn_latency", threads);

  // Each figure: PyTorch's best thread setting, and ours at every thread count against it.
  const auto figure = [&](const char* name, const char* key) {
    return figure_getter(records, name, key);
  };
  print_against_best(
      "LeNet-5: ours / PyTorch's best thread setting (< 1x: ours is better)",
      {{"epoch (s)", figure("cnn_epoch", nullptr), false, 0.8, 2},
       {"training step (ms)", figure("cnn_step", nullptr), false, std::nullopt, 2},
       {"batch-1 latency, median (ms)", figure("cnn_latency", nullptr), false, 1.0, 2},
       {"batch-1 latency, p90 (ms)", figure("cnn_latency", "p90_ms"), false, std::nullopt, 2},
       {"peak RSS (MiB)", figure("cnn_peak_rss", nullptr), false, 1.0, 2}},
      threads, ours, torch, "  a target is met when ours at some thread count is within it\n");
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

// The dynamically quantized int8 Linear (bench/quant_bench.cpp): per layer, batch and thread
// count, our int8 and float32 Linear and PyTorch's, their ratios, and our int8 time against the
// same layer at this run's int8 peak; then the targets (int8 >= 2x our float32 Linear and
// PyTorch's quantize_dynamic one at every row), and where even the peak could not reach 2x.
void print_quant(const Records& records) {
  const std::string ours = "tinytorch-fast", torch = "torch";
  const auto find = [&](const char* name, const std::string& impl, int64_t in, int64_t out,
                        int64_t batch, int64_t t) -> const Json* {
    for (const Json& r : records.all()) {
      if (r.value("name", "") == name && r.value("impl", "") == impl &&
          r.value("in_features", int64_t{0}) == in && r.value("out_features", int64_t{0}) == out &&
          r.value("batch", int64_t{0}) == batch && r.value("threads", int64_t{0}) == t) {
        return &r;
      }
    }
    return nullptr;
  };
  const auto ms = [&](const char* name, const std::string& impl, int64_t in, int64_t out,
                      int64_t batch, int64_t t) -> std::optional<double> {
    const Json* r = find(name, impl, in, out, batch, t);
    if (r == nullptr || !r->contains("ms")) return std::nullopt;
    return (*r)["ms"].get<double>();
  };
  const auto cell = [&](const char* name, const std::string& impl, int64_t in, int64_t out,
                        int64_t batch, int64_t t) {
    const Json* r = find(name, impl, in, out, batch, t);
    if (r == nullptr) return std::string("-");
    if (r->contains("failed")) return std::string("FAILED");
    if (r->contains("skipped")) return std::string("skipped");
    return fixed((*r)["ms"].get<double>(), 3);
  };
  // The layers measured, in order, from our int8 records.
  std::vector<std::pair<int64_t, int64_t>> layers;
  for (const Json& r : records.all()) {
    if (r.value("name", "") != "int8_linear" || !r.contains("in_features")) continue;
    const std::pair<int64_t, int64_t> l{r["in_features"].get<int64_t>(),
                                        r["out_features"].get<int64_t>()};
    if (std::find(layers.begin(), layers.end(), l) == layers.end()) layers.push_back(l);
  }
  // The int8 peak of this run (tito bench quant runs peak first): what the int8 GEMM's instruction
  // sequence does in registers, GOP/s. A layer's time at that rate, ops / peak, is the fastest any
  // int8 kernel could be — so torch's time over it is the most any kernel could beat PyTorch by.
  const std::string int8_isa = peak_isa(records, "int8_peak");
  const auto ms_at_peak = [&](int64_t in, int64_t out, int64_t batch,
                              int64_t t) -> std::optional<double> {
    const auto peak = records.figure("int8_peak", int8_isa, 0, t);
    if (!peak || *peak <= 0.0) return std::nullopt;
    return 2.0 * static_cast<double>(batch * in * out) / (*peak * 1e9) * 1e3;
  };
  print_title(
      "Dynamically quantized int8 Linear vs float32 Linear: ours vs PyTorch, same run (ms)");
  Table table({"layer", "batch", "threads", "int8 (ours)", "fp32 (ours)", "int8 (torch)",
               "fp32 (torch)", "ours fp32/int8", "torch int8/ours int8", "ours % int8 peak",
               "at peak / torch"});
  std::optional<double> worst_vs_fp32, worst_vs_torch;
  int rows = 0, rows_capped = 0;  // rows, and rows where even the peak is < 2x PyTorch's int8
  std::optional<double> lowest_cap, torch_best_share;
  const auto keep_min = [](std::optional<double>& worst, std::optional<double> a,
                           std::optional<double> b) {
    if (!a || !b || *b <= 0.0) return;
    worst = std::min(worst.value_or(*a / *b), *a / *b);
  };
  for (const auto& [in_f, out_f] : layers) {
    const int64_t in = in_f, out = out_f;  // plain names: Clang 14 cannot capture a binding
    for (const int64_t batch : records.values("int8_linear", "batch")) {
      for (const int64_t t : records.values("int8_linear", "threads")) {
        if (find("int8_linear", ours, in, out, batch, t) == nullptr) continue;
        const auto i8 = ms("int8_linear", ours, in, out, batch, t);
        const auto torch_i8 = ms("int8_linear", torch, in, out, batch, t);
        const auto at_peak = ms_at_peak(in, out, batch, t);
        table.row({std::to_string(in) + "->" + std::to_string(out), std::to_string(batch),
                   std::to_string(t), cell("int8_linear", ours, in, out, batch, t),
                   cell("fp32_linear", ours, in, out, batch, t),
                   cell("int8_linear", torch, in, out, batch, t),
                   cell("fp32_linear", torch, in, out, batch, t),
                   ratio(ms("fp32_linear", ours, in, out, batch, t), i8), ratio(torch_i8, i8),
                   percent(at_peak, i8), ratio(torch_i8, at_peak)});
        keep_min(worst_vs_fp32, ms("fp32_linear", ours, in, out, batch, t), i8);
        keep_min(worst_vs_torch, torch_i8, i8);
        if (torch_i8 && at_peak && *torch_i8 > 0.0) {
          ++rows;
          const double cap = *torch_i8 / *at_peak;
          if (cap < 2.0) ++rows_capped;
          lowest_cap = std::min(lowest_cap.value_or(cap), cap);
          torch_best_share = std::max(torch_best_share.value_or(0.0), *at_peak / *torch_i8);
        }
      }
    }
  }
  table.print(std::cout);
  std::cout << "  ratios > 1x: our int8 Linear is faster. int8 = the whole dynamic forward "
               "(min/max, quantize, int32 GEMM, dequantize + bias)\n";
  const auto target = [](const char* what, std::optional<double> worst) {
    if (!worst) return;
    std::cout << "  target: int8 >= 2x " << what << " at every batch and thread count: worst "
              << fixed(*worst, 2) << "x — "
              << (*worst >= 2.0 ? tito::paint("met", tito::Color::kGreen)
                                : tito::paint("NOT MET", tito::Color::kRed))
              << "\n";
  };
  target("our fp32 Linear", worst_vs_fp32);
  target("PyTorch's quantize_dynamic Linear", worst_vs_torch);
  if (rows > 0) {
    std::cout << "  at peak / torch: PyTorch's int8 time over the time of the same layer at this "
                 "run's int8 peak ("
              << int8_isa << ") — the most any int8 kernel could beat PyTorch by here\n";
    if (rows_capped > 0) {
      std::cout << "  ceiling: in " << rows_capped << " of " << rows
                << " rows even a kernel at the int8 peak would be under 2x PyTorch's (as little as "
                << fixed(*lowest_cap, 2) << "x; PyTorch runs at up to "
                << fixed(100.0 * *torch_best_share, 0)
                << "% of the peak): there no implementation can meet the 2x target on this CPU\n";
    }
  }
  for (const Json& r : records.all()) {
    if (r.value("name", "") == "int8_linear" && r.value("impl", "") == ours &&
        r.contains("qgemm_isa")) {
      std::cout << "  our int8 micro-kernel: " << r["qgemm_isa"].get<std::string>() << "\n";
      break;
    }
  }
  if (const Json* r = first_figure(records, "int8_linear", torch)) {
    std::cout << "  PyTorch " << r->value("torch_version", std::string("?"))
              << ", quantized engine " << r->value("torch_engine", std::string("?")) << ", BLAS "
              << r->value("torch_blas", std::string("?")) << "\n";
  }
  print_not_measured(records, {"int8_linear", "fp32_linear"});
}

namespace {

// The tables of a benchmark whose records differ by their "mode" (what was measured: a shape, a
// pass) and hold a time in ms: per (name, mode) and thread count, ours and PyTorch's time and
// their ratio — with `rates`, also the bandwidth (compulsory bytes / time, against this run's
// STREAM triad: "peak" runs first) and, for compute-bound rows, GFLOP/s — then ours at each
// thread count against PyTorch's best thread setting, with `target` (ours/best time) if any;
// with `both_best`, a line per row that puts each side at its own best thread setting.
// `selects`: the records of this benchmark.
void print_modes(const Records& records, const std::function<bool(const Json&)>& selects,
                 const std::string& title, const std::string& mode_header, bool rates,
                 const std::string& best_title, std::optional<double> target, bool both_best) {
  const std::string ours = "tinytorch-fast", torch = "torch";
  // Each measured (name, mode) once, in the order measured.
  std::vector<std::pair<std::string, std::string>> rows;
  std::set<int64_t> thread_set;
  for (const Json& r : records.all()) {
    if (!selects(r) || r.value("impl", "") != ours) continue;
    const std::pair<std::string, std::string> key{r.value("name", ""), r.value("mode", "")};
    if (std::find(rows.begin(), rows.end(), key) == rows.end()) rows.push_back(key);
    thread_set.insert(r.value("threads", int64_t{0}));
  }
  if (rows.empty()) return;
  const std::vector<int64_t> threads(thread_set.begin(), thread_set.end());
  const auto find = [&](const std::string& name, const std::string& impl, int64_t t,
                        const std::string& mode) -> const Json* {
    for (const Json& r : records.all()) {
      if (r.value("name", "") == name && r.value("impl", "") == impl &&
          r.value("threads", int64_t{0}) == t && r.value("mode", "") == mode) {
        return &r;
      }
    }
    return nullptr;
  };
  const auto field = [&](const Json* r, const char* f) -> std::optional<double> {
    if (r == nullptr || !r->contains(f)) return std::nullopt;
    return (*r)[f].get<double>();
  };
  const auto cell = [&](const Json* r, const char* f, int decimals) {
    if (r == nullptr) return std::string("-");
    if (r->contains("failed")) return std::string("FAILED");
    if (r->contains("skipped")) return std::string("skipped");
    const auto v = field(r, f);
    return v ? fixed(*v, decimals) : std::string("-");
  };
  print_title(title);
  std::vector<std::string> header{"figure",  mode_header, "threads",
                                  "ours ms", "torch ms",  "torch/ours"};
  if (rates) {
    header.insert(header.end(), {"ours GB/s", "torch GB/s", "ours % triad", "torch % triad",
                                 "ours GFLOP/s", "torch GFLOP/s"});
  }
  Table table(header);
  for (const auto& [name, mode] : rows) {
    for (const int64_t t : threads) {
      const Json* mine = find(name, ours, t, mode);
      const Json* theirs = find(name, torch, t, mode);
      if (mine == nullptr) continue;
      std::vector<std::string> row{name,
                                   mode,
                                   std::to_string(t),
                                   cell(mine, "ms", 3),
                                   cell(theirs, "ms", 3),
                                   ratio(field(theirs, "ms"), field(mine, "ms"))};
      if (rates) {
        const auto triad = records.figure("stream_triad", "", 0, t);
        row.insert(row.end(),
                   {cell(mine, "gbps", 1), cell(theirs, "gbps", 1),
                    percent(field(mine, "gbps"), triad), percent(field(theirs, "gbps"), triad),
                    cell(mine, "gflops", 1), cell(theirs, "gflops", 1)});
      }
      table.row(row);
    }
  }
  table.print(std::cout);
  std::cout << "  torch/ours > 1x: ours is faster.";
  if (rates) {
    std::cout << " % triad: against this run's STREAM triad at the same thread count (DRAM; a "
                 "working set that fits in the caches can exceed it). GB/s for the memory-bound "
                 "ops, GFLOP/s for the convolutions";
  }
  std::cout << "\n";
  std::vector<BestRow> best_rows;
  for (const auto& [name, mode] : rows) {
    best_rows.push_back({name + " " + mode,
                         [&, name = name, mode = mode](const std::string& impl, int64_t t) {
                           return field(find(name, impl, t, mode), "ms");
                         },
                         /*higher_is_better=*/false, target, 3});
  }
  print_against_best(best_title, best_rows, threads, ours, torch,
                     target ? "  ours/best: our time at that thread count over PyTorch's fastest; "
                              "the target is met when some thread count reaches it\n"
                            : "  ours/best: our time at that thread count over PyTorch's fastest "
                              "(< 1x: ours is faster)\n");
  if (both_best) {
    // Each side's fastest thread count: (ms, threads), or nullopt when it measured nothing.
    const auto best = [&](const std::string& name, const std::string& impl,
                          const std::string& mode) -> std::optional<std::pair<double, int64_t>> {
      std::optional<std::pair<double, int64_t>> found;
      for (const int64_t t : threads) {
        const auto v = field(find(name, impl, t, mode), "ms");
        if (v && (!found || *v < found->first)) found = std::make_pair(*v, t);
      }
      return found;
    };
    const auto text = [](const std::optional<std::pair<double, int64_t>>& b) {
      return b ? fixed(b->first, 3) + " ms (" + std::to_string(b->second) + "t)" : std::string("-");
    };
    std::cout << "  each side at its best thread setting (torch/ours > 1x: ours is faster):\n";
    for (const auto& [name, mode] : rows) {
      const auto mine = best(name, ours, mode), theirs = best(name, torch, mode);
      std::cout << "    " << mode << ": ours " << text(mine) << ", PyTorch " << text(theirs)
                << ", torch/ours "
                << ratio(theirs ? std::optional(theirs->first) : std::nullopt,
                         mine ? std::optional(mine->first) : std::nullopt)
                << "\n";
    }
  }
  std::vector<std::string> names;
  for (const auto& row : rows) names.push_back(row.first);
  print_not_measured(records, {names.begin(), names.end()});
}

}  // namespace

// Single ops (bench/ops_bench.cpp): per op, shape, pass and thread count, ours and PyTorch's
// time, bandwidth and (convolutions) GFLOP/s, then the target: ours at most 0.8x PyTorch's time
// at its best thread setting, at some thread count.
void print_ops(const Records& records) {
  print_modes(
      records, [](const Json& r) { return r.contains("pass"); },
      "Single ops: ours vs PyTorch, same run (ms; GB/s of compulsory traffic; GFLOP/s)",
      "shape, dim or weight, pass", /*rates=*/true,
      "Single ops: ours / PyTorch's best thread setting (time; target <= 0.8x)", 0.8,
      /*both_best=*/false);
}

// The LSTM training step (bench/lstm_bench.cpp): per shape and thread count, ours and PyTorch's
// time, then ours at each thread count against PyTorch's best thread setting (no target yet).
void print_lstm(const Records& records) {
  print_modes(
      records, [](const Json& r) { return r.value("name", "") == "lstm_step"; },
      "LSTM training step (forward, backward through time, SGD step): ours vs PyTorch, same run "
      "(ms)",
      "shape", /*rates=*/false, "LSTM training step: ours / PyTorch's best thread setting (time)",
      std::nullopt, /*both_best=*/true);
}

namespace {

// A GPT benchmark's tables (bench/gpt_bench.cpp, one --config): the records <prefix>_train,
// <prefix>_generate (mode cache | nocache; absent when the config does not generate) and
// <prefix>_peak_rss. `targets`: the targets, for milestone 2017's model (training
// >= 1.25x, KV-cache generation >= 2x, peak memory <= 1x PyTorch's best).
void print_gpt_tables(const Records& records, const std::string& prefix, const std::string& title,
                      bool targets) {
  const std::string ours = "tinytorch-fast", torch = "torch";
  const std::string train = prefix + "_train", generate = prefix + "_generate",
                    rss = prefix + "_peak_rss";
  const auto threads = records.values(train, "threads");
  const auto find = [&](const std::string& name, const std::string& impl, int64_t t,
                        const char* mode) -> const Json* {
    for (const Json& r : records.all()) {
      if (r.value("name", "") == name && r.value("impl", "") == impl &&
          r.value("threads", int64_t{0}) == t && r.value("mode", "") == mode) {
        return &r;
      }
    }
    return nullptr;
  };
  const auto get = [&](const std::string& name, const std::string& impl, int64_t t,
                       const char* mode) -> std::optional<double> {
    const Json* r = find(name, impl, t, mode);
    if (r == nullptr || !Records::is_figure(*r)) return std::nullopt;
    return (*r)[Records::figure_field(*r)].get<double>();
  };
  const auto cell = [&](const std::string& name, const std::string& impl, int64_t t,
                        const char* mode) {
    const Json* r = find(name, impl, t, mode);
    if (r == nullptr) return std::string("-");
    if (r->contains("failed")) return std::string("FAILED");
    if (r->contains("skipped")) return std::string("skipped");
    return fixed(*get(name, impl, t, mode), 0);
  };
  const bool generates =
      std::any_of(records.all().begin(), records.all().end(),
                  [&](const Json& r) { return r.value("name", "") == generate; });

  print_title(title);
  std::vector<std::string> header{"threads", "train tok/s (ours)", "(torch)", "% peak (ours)",
                                  "(torch)"};
  if (generates) {
    header.insert(header.end(),
                  {"generate tok/s (ours)", "(torch)", "with KV cache (ours)", "(torch)"});
  }
  header.insert(header.end(), {"peak MiB (ours)", "(torch)"});
  Table table(header);
  for (const int64_t t : threads) {
    std::vector<std::string> row{std::to_string(t), cell(train, ours, t, ""),
                                 cell(train, torch, t, ""), peak_cell(records, train, ours, t),
                                 peak_cell(records, train, torch, t)};
    if (generates) {
      row.insert(row.end(),
                 {cell(generate, ours, t, "nocache"), cell(generate, torch, t, "nocache"),
                  cell(generate, ours, t, "cache"), cell(generate, torch, t, "cache")});
    }
    row.insert(row.end(), {cell(rss, ours, t, ""), cell(rss, torch, t, "")});
    table.row(row);
  }
  table.print(std::cout);
  if (const Json* r = first_figure(records, train, ours)) {
    std::cout << "  a training step: " << fixed(r->value("flops", 0.0) / 1e9, 1) << " GFLOP\n";
    print_peak_note(r, "matrix products x2 per multiply-add, training = 3x the forward");
  }

  // Each figure: PyTorch's best thread setting, and ours at every thread count against it.
  const auto figure = [&](const std::string& name, const char* mode) -> BestRow::Getter {
    return
        [&get, name, mode](const std::string& impl, int64_t t) { return get(name, impl, t, mode); };
  };
  const auto target = [&](double value) {
    return targets ? std::optional<double>(value) : std::nullopt;
  };
  std::vector<BestRow> rows{{"training (tokens/s)", figure(train, ""), true, target(1.25), 0}};
  if (generates) {
    rows.push_back(
        {"generation, KV cache (tokens/s)", figure(generate, "cache"), true, target(2.0), 0});
    rows.push_back(
        {"generation, no cache (tokens/s)", figure(generate, "nocache"), true, std::nullopt, 0});
  }
  rows.push_back({"peak RSS (MiB)", figure(rss, ""), false, target(1.0), 0});
  std::string note;
  if (targets) note += "  a target is met when ours at some thread count is within it\n";
  if (generates) {
    note +=
        "  cached and uncached generation gave the same tokens unless a row above says "
        "FAILED\n";
  }
  print_against_best(
      "GPT: ours / PyTorch's best thread setting (tokens/s: > 1x, memory: < 1x is ours better)",
      rows, threads, ours, torch, note);
  if (const Json* r = first_figure(records, train, torch)) {
    std::cout << "  PyTorch " << r->value("torch_version", std::string("?"))
              << " (attention written out by hand: bench/gpt_torch.py), BLAS "
              << r->value("torch_blas", std::string("?")) << ", " << openblas_core_text(*r) << "\n";
  }
  print_not_measured(records, {train, generate, rss});
}

}  // namespace

// Milestone 2017's GPT: training and generation tokens/s and peak memory, ours vs PyTorch per
// thread count; then ours at each thread count against PyTorch's best thread setting of each
// figure, with the targets (training >= 1.25x, KV-cache generation >= 2x, peak memory
// <= 1x). gpt_generate's records differ by their "mode" (cache | nocache).
void print_gpt(const Records& records) {
  print_gpt_tables(records, "gpt",
                   "2017 GPT (4 layers, 4 heads, d 128, context 64; train batch 32, AdamW lr 3e-4; "
                   "greedy generation of 63 tokens at batch 1): ours vs PyTorch",
                   /*targets=*/true);
}

void print_gpt256(const Records& records) {
  const Json* r = first_figure(records, "gpt256_train", "tinytorch-fast");
  const std::string batch = r != nullptr ? std::to_string(r->value("batch", int64_t{0})) : "?";
  print_gpt_tables(records, "gpt256",
                   "GPT, d_model 256 (4 layers, 4 heads, context 128; train batch " + batch +
                       ", AdamW lr 3e-4): ours vs PyTorch",
                   /*targets=*/false);
}

// A ResNet-8 on synthetic 3x32x32 images (bench/resnet_bench.cpp): training step, epoch-like
// pass, batch-1 latency, large-batch inference and peak memory, ours vs PyTorch per thread
// count; each timed figure's FLOPs and fraction of the FMA peak; then ours at each thread count
// against PyTorch's best thread setting of each figure (no targets).
void print_resnet(const Records& records) {
  const std::string ours = "tinytorch-fast", torch = "torch";
  const auto threads = records.values("resnet_step", "threads");
  const auto field = [&](const char* name, const std::string& impl, int64_t t, const char* key) {
    return figure_field(records, name, impl, t, key);
  };
  const auto field_cell = [&](const char* name, const std::string& impl, int64_t t,
                              const char* key) {
    const auto v = field(name, impl, t, key);
    return v ? fixed(*v, 0) : records.cell(name, impl, 0, t);
  };
  const Json* step = first_figure(records, "resnet_step", ours);
  const Json* inference = first_figure(records, "resnet_inference", ours);
  const std::string batch =
      step != nullptr ? std::to_string(step->value("batch", int64_t{0})) : "?";
  const std::string big =
      inference != nullptr ? std::to_string(inference->value("batch", int64_t{0})) : "?";

  print_title("ResNet-8 (synthetic 3x32x32 images, train batch " + batch +
              ", SGD lr 0.1 momentum 0.9): ours vs PyTorch");
  Table table({"threads", "step ms (ours)", "(torch)", "epoch images/s (ours)", "(torch)",
               "batch-1 ms median / p90 (ours)", "(torch)", "batch-" + big + " images/s (ours)",
               "(torch)", "peak MiB (ours)", "(torch)"});
  for (const int64_t t : threads) {
    table.row({std::to_string(t), records.cell("resnet_step", ours, 0, t, 2),
               records.cell("resnet_step", torch, 0, t, 2),
               field_cell("resnet_epoch", ours, t, "samples_per_second"),
               field_cell("resnet_epoch", torch, t, "samples_per_second"),
               latency_text(records, "resnet_latency", ours, t),
               latency_text(records, "resnet_latency", torch, t),
               records.cell("resnet_inference", ours, 0, t, 0),
               records.cell("resnet_inference", torch, 0, t, 0),
               records.cell("resnet_peak_rss", ours, 0, t, 0),
               records.cell("resnet_peak_rss", torch, 0, t, 0)});
  }
  table.print(std::cout);
  print_interleaved_latency(records, "resnet_latency", threads);

  print_title("ResNet-8: FLOPs and fraction of the FMA peak");
  Table peak({"figure", "GFLOP", "threads", "% peak (ours)", "(torch)"});
  const std::pair<const char*, std::string> timed[] = {
      {"resnet_step", "training step, batch " + batch},
      {"resnet_epoch", "epoch-like pass"},
      {"resnet_latency", "inference, batch 1 (median)"},
      {"resnet_inference", "inference, batch " + big}};
  for (const auto& [name, label] : timed) {
    const Json* r = first_figure(records, name, ours);
    const std::string gflop = r != nullptr ? fixed(r->value("flops", 0.0) / 1e9, 3) : "-";
    for (const int64_t t : threads) {
      peak.row({label, gflop, std::to_string(t), peak_cell(records, name, ours, t),
                peak_cell(records, name, torch, t)});
    }
  }
  peak.print(std::cout);
  print_peak_note(step,
                  "convolutions 2*N*Cout*Hout*Wout*Cin*k^2 and the Linear forward; training = 3x "
                  "the forward less the stem's input gradient");

  print_against_best(
      "ResNet-8: ours / PyTorch's best thread setting (times and memory: < 1x, rates: > 1x is "
      "ours better)",
      {{"training step (ms)", figure_getter(records, "resnet_step", nullptr), false, std::nullopt,
        2},
       {"epoch (images/s)", figure_getter(records, "resnet_epoch", "samples_per_second"), true,
        std::nullopt, 0},
       {"batch-1 latency, median (ms)", figure_getter(records, "resnet_latency", nullptr), false,
        std::nullopt, 3},
       {"batch-1 latency, p90 (ms)", figure_getter(records, "resnet_latency", "p90_ms"), false,
        std::nullopt, 3},
       {"batch-" + big + " inference (images/s)",
        figure_getter(records, "resnet_inference", nullptr), true, std::nullopt, 0},
       {"peak RSS (MiB)", figure_getter(records, "resnet_peak_rss", nullptr), false, std::nullopt,
        0}},
      threads, ours, torch, "");
  if (const Json* r = first_figure(records, "resnet_epoch", ours)) {
    std::cout << "  data: random images and labels (Debian does not package CIFAR-10), "
              << r->value("samples", int64_t{0}) << " images per epoch-like pass\n";
  }
  if (const Json* r = first_figure(records, "resnet_step", torch)) {
    std::cout << "  PyTorch " << r->value("torch_version", std::string("?"))
              << ", convolutions on oneDNN: " << (r->value("torch_mkldnn", false) ? "yes" : "no")
              << ", BLAS " << r->value("torch_blas", std::string("?")) << "\n";
  }
  print_not_measured(records, {"resnet_step", "resnet_epoch", "resnet_latency", "resnet_inference",
                               "resnet_peak_rss"});
}

// The table of a program without its own: every record it wrote, one per line.
void print_ddp(const Records& records) {
  print_title(
      "The 1986 MLP, one training epoch (55 000 images, global batch 64) on 2 cores: 2 threads "
      "in one process vs 2 MPI ranks (module 21)");
  Table table({"configuration", "epoch", "samples", "speedup vs 1 rank x 1 thread"});
  for (const Json& r : records.all()) {
    if (r.value("name", "") != "ddp_epoch") continue;
    if (!Records::is_figure(r)) {
      table.row({r.value("impl", ""), r.contains("failed") ? "FAILED" : "skipped", "", ""});
      continue;
    }
    std::string samples;
    for (const Json& s : r.value("seconds_samples", Json::array())) {
      samples += (samples.empty() ? "" : " ") + fixed(s.get<double>(), 2);
    }
    table.row({r.value("impl", ""), fixed(r["seconds"].get<double>(), 2) + " s", samples,
               fixed(r.value("speedup_vs_1x1", 0.0), 2) + "x"});
  }
  table.print(std::cout);
  std::cout << "  The epoch is the median of the rounds (training only, timed between barriers: "
               "the slowest rank's). 2 ranks pay an all-reduce of 919 KiB per step and wait for "
               "each other: a rank that another program delays holds up both.\n";
}

void print_generic(const std::string& title, const std::vector<Json>& program_records) {
  print_title(title);
  Table table({"figure", "impl", "n", "threads", "value"});
  for (const Json& r : program_records) {
    static const std::map<std::string, std::string> kUnits = {{"tokens_per_second", " tokens/s"},
                                                              {"images_per_second", " images/s"},
                                                              {"gflops", " GFLOP/s"},
                                                              {"gbps", " GB/s"},
                                                              {"seconds", " s"},
                                                              {"ms", " ms"},
                                                              {"mib", " MiB"}};
    const std::string field = Records::figure_field(r);
    const auto ci = Records::interval(r);
    std::string value =
        !field.empty()
            ? fixed(r[field].get<double>(), 2) + kUnits.at(field) +
                  (ci ? " [" + fixed(ci->first, 2) + ", " + fixed(ci->second, 2) + "]" : "")
        : r.contains("failed") ? "FAILED: " + r["failed"].get<std::string>()
                               : "skipped: " + r.value("skipped", std::string());
    table.row({r.value("name", ""), r.value("impl", ""),
               r.contains("n") ? std::to_string(r["n"].get<int64_t>()) : "",
               r.contains("threads") ? std::to_string(r["threads"].get<int64_t>()) : "", value});
  }
  table.print(std::cout);
}

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
  row("ResNet-8 training step", records.figure("resnet_step", "tinytorch-fast", 0, 1),
      records.figure("resnet_step", "tinytorch-fast", 0, 2), false, " ms");
  table.print(std::cout);
  std::cout << "  (times: 2t/1t is the 1-thread time over the 2-thread one, so > 1x is faster)\n";
  if (below > 0) std::cout << "  " << below << " figure(s) below the target\n";
}

// Mixed precision (bench/bf16_gemm_bench.cpp; bench/gpt_bench.cpp --precision, two configs): the
// bf16 GEMM against our float32 GEMM per shape and thread count, then each GPT's training at
// float32 and under bf16 autocast — tokens/s of both sides, each side's autocast/float32 ratio,
// ours/PyTorch under autocast — and the step's memory at each precision, each against its target.
void print_amp(const Records& records) {
  const std::string ours = "tinytorch-fast", torch = "torch", f32 = "float32",
                    autocast = "bf16-autocast";
  // The record of this name, impl, thread count, precision (and GEMM shape), or nullptr.
  const auto find = [&](const std::string& name, const std::string& impl, int64_t t,
                        const std::string& precision,
                        const std::string& shape = "") -> const Json* {
    for (const Json& r : records.all()) {
      if (r.value("name", "") == name && r.value("impl", "") == impl &&
          r.value("threads", int64_t{0}) == t && r.value("precision", "") == precision &&
          r.value("shape", "") == shape) {
        return &r;
      }
    }
    return nullptr;
  };
  const auto get = [&](const std::string& name, const std::string& impl, int64_t t,
                       const std::string& precision,
                       const std::string& shape = "") -> std::optional<double> {
    const Json* r = find(name, impl, t, precision, shape);
    if (r == nullptr || !Records::is_figure(*r)) return std::nullopt;
    return (*r)[Records::figure_field(*r)].get<double>();
  };
  const auto cell = [&](const std::string& name, const std::string& impl, int64_t t,
                        const std::string& precision, int decimals, const std::string& shape = "") {
    const Json* r = find(name, impl, t, precision, shape);
    if (r == nullptr) return std::string("-");
    if (r->contains("failed")) return std::string("FAILED");
    if (r->contains("skipped")) return std::string("skipped");
    return fixed(*get(name, impl, t, precision, shape), decimals);
  };
  const auto target_line = [](const std::string& what, const std::string& figure, bool met) {
    std::cout << "  target: " << what << ": " << figure << " — "
              << (met ? tito::paint("met", tito::Color::kGreen)
                      : tito::paint("NOT MET", tito::Color::kRed))
              << "\n";
  };
  // The CPU's bfloat16 capability: the 16-bit kernels' ISA our records name (kernels/half.h).
  std::string isa;
  for (const Json& r : records.all()) {
    if (r.contains("half_isa") && r.value("impl", "") == ours) {
      isa = r["half_isa"].get<std::string>();
      break;
    }
  }
  const bool dot_bf16 = isa == "AVX512_BF16";  // vdpbf16ps: the GEMM's target is 1.8x, else 1.0x
  print_title(
      "Mixed precision: bfloat16 against float32, ours vs PyTorch's CPU autocast, same run");
  std::cout << "  our 16-bit kernels: " << (isa.empty() ? "?" : isa)
            << (dot_bf16 ? " (the CPU has avx512_bf16: vdpbf16ps)"
                         : " (no avx512_bf16: bfloat16 widened to float32 for the FMAs)")
            << "\n";

  // The GEMM: shapes in the order measured.
  std::vector<std::string> shapes;
  for (const Json& r : records.all()) {
    const std::string shape = r.value("shape", "");
    if (r.value("name", "") == "amp_gemm" &&
        std::find(shapes.begin(), shapes.end(), shape) == shapes.end()) {
      shapes.push_back(shape);
    }
  }
  if (!shapes.empty()) {
    print_title("bf16 GEMM (kernels::gemm_bf16, float32 sums) vs our float32 GEMM (GFLOP/s)");
    Table table({"shape (M x N x K)", "threads", "float32", "bfloat16", "bf16/f32"});
    std::optional<double> worst;
    for (const std::string& shape : shapes) {
      for (const int64_t t : records.values("amp_gemm", "threads")) {
        const auto a = get("amp_gemm", ours, t, "float32", shape);
        const auto b = get("amp_gemm", ours, t, "bfloat16", shape);
        if (a && b && *a > 0.0) worst = std::min(worst.value_or(*b / *a), *b / *a);
        table.row({shape, std::to_string(t), cell("amp_gemm", ours, t, "float32", 1, shape),
                   cell("amp_gemm", ours, t, "bfloat16", 1, shape), ratio(b, a)});
      }
    }
    table.print(std::cout);
    if (worst) {
      const double target = dot_bf16 ? 1.8 : 1.0;
      target_line("bf16 GEMM >= " + fixed(target, 1) + "x our float32 GEMM at every shape and " +
                      "thread count (" + (dot_bf16 ? "with" : "without") + " avx512_bf16)",
                  "worst " + fixed(*worst, 2) + "x", *worst >= target);
    }
  }

  // The GPTs: training tokens/s, then the step's memory, per model.
  for (const auto& [prefix, model] :
       {std::pair<std::string, std::string>{"gpt", "2017 GPT"}, {"gpt256", "GPT d_model 256"}}) {
    const std::string train = prefix + "_amp_train", memory = prefix + "_amp_activations";
    const auto threads = records.values(train, "threads");
    if (threads.empty()) continue;
    print_title(model + ": training tokens/s at float32 and under bf16 autocast");
    Table speed({"threads", "f32 (ours)", "autocast (ours)", "autocast/f32 (ours)", "f32 (torch)",
                 "autocast (torch)", "autocast/f32 (torch)", "ours/torch, autocast"});
    std::optional<double> slowest;  // ours: the lowest autocast/float32 ratio over thread counts
    for (const int64_t t : threads) {
      const auto a = get(train, ours, t, f32), b = get(train, ours, t, autocast);
      if (a && b && *a > 0.0) slowest = std::min(slowest.value_or(*b / *a), *b / *a);
      speed.row({std::to_string(t), cell(train, ours, t, f32, 0), cell(train, ours, t, autocast, 0),
                 ratio(b, a), cell(train, torch, t, f32, 0), cell(train, torch, t, autocast, 0),
                 ratio(get(train, torch, t, autocast), get(train, torch, t, f32)),
                 ratio(b, get(train, torch, t, autocast))});
    }
    speed.print(std::cout);
    if (slowest) {
      target_line("our autocast training step faster than our float32 one, at every thread count",
                  "autocast/f32 at worst " + fixed(*slowest, 2) + "x", *slowest > 1.0);
    }

    // The memory figures are counts, the same at every thread count: the first one's.
    const int64_t t = threads.front();
    const auto mib_of = [&](const std::string& impl, const std::string& precision,
                            const char* field) -> std::optional<double> {
      const Json* r = find(memory, impl, t, precision);
      if (r == nullptr || !Records::is_figure(*r) || !r->contains(field)) return std::nullopt;
      return (*r)[field].get<double>() / (1024.0 * 1024.0);
    };
    const auto mib_cell = [&](const std::string& impl, const std::string& precision,
                              const char* field) {
      const auto v = mib_of(impl, precision, field);
      return v ? fixed(*v, 1) : cell(memory, impl, t, precision, 1);
    };
    print_title(model + ": memory of a training step (MiB, the allocators' counts)");
    Table table({"", "activations f32", "autocast", "autocast/f32", "step peak f32", "autocast",
                 "parameters", "gradients", "optimizer state"});
    for (const auto& [impl, label] :
         {std::pair<std::string, std::string>{ours, "ours"}, {torch, "torch"}}) {
      table.row({label, mib_cell(impl, f32, "bytes"), mib_cell(impl, autocast, "bytes"),
                 ratio(mib_of(impl, autocast, "bytes"), mib_of(impl, f32, "bytes")),
                 mib_cell(impl, f32, "step_peak_bytes"),
                 mib_cell(impl, autocast, "step_peak_bytes"),
                 mib_cell(impl, f32, "parameter_bytes"), mib_cell(impl, f32, "gradient_bytes"),
                 mib_cell(impl, f32, "optimizer_state_bytes")});
    }
    table.print(std::cout);
    std::cout << "  activations: bytes live after the forward and the loss minus before (what the "
                 "graph keeps for the backward); step peak: the high-water mark over forward and "
                 "backward above that. PyTorch's from torch.profiler's allocator events "
                 "(profile_memory); neither counts BLAS/oneDNN or packing scratch\n";
    const auto a = mib_of(ours, f32, "bytes"), b = mib_of(ours, autocast, "bytes");
    if (a && b && *a > 0.0) {
      target_line("our activations under autocast <= 0.6x float32's", fixed(*b / *a, 2) + "x",
                  *b / *a <= 0.6);
    }
  }
  if (const Json* r = first_figure(records, "gpt_amp_train", torch)) {
    std::cout << "  PyTorch " << r->value("torch_version", std::string("?"))
              << " (torch.autocast(\"cpu\", dtype=torch.bfloat16); ATen CPU capability "
              << r->value("torch_cpu_capability", std::string("?")) << ")\n";
  }
  print_not_measured(records, {"amp_gemm", "gpt_amp_train", "gpt_amp_activations",
                               "gpt256_amp_train", "gpt256_amp_activations"});
}

}  // namespace tito::bench
