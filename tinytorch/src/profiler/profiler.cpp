// The profiler's machinery: the per-thread stacks of open events, the hooks the framework calls,
// the Profiler scope, the printed table and the latency measurement (see profiler/profiler.h).
// What a learner writes — FLOP formulas, aggregation, the trace writer — is in profiler_ops.cpp.
#include "tinytorch/profiler/profiler.h"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "tinytorch/benchmark/stats.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/serialize/archive.h"

namespace tinytorch::profiler {

namespace detail {
std::atomic<bool> g_enabled{false};
}  // namespace detail

namespace {

using Clock = std::chrono::steady_clock;

// What the running profiler shares with every thread. `generation` numbers profiler runs: an
// event opened under an earlier run is never mixed into a later one.
struct State {
  std::mutex mu;
  std::atomic<uint64_t> generation{0};
  bool active = false;
  ProfilerOptions options;
  Clock::time_point start;
  uint64_t next_thread = 0;
  std::vector<Event> finished;  // guarded by mu
};

State& state() {
  static auto* s = new State();  // never destroyed: threads may close events during exit
  return *s;
}

// An event still open on this thread, and the time its finished children took.
struct Open {
  Event event;
  int64_t children_ns = 0;
  uint64_t generation = 0;
};

// NOTE: each thread keeps its own stack, so nesting is per thread: a parallel_for worker has no
// open event (its allocations are nobody's) and never closes another thread's event.
struct ThreadState {
  std::vector<Open> stack;
  uint64_t id = 0;
  uint64_t id_generation = 0;  // the run `id` was handed out in
};
thread_local ThreadState t_state;

int64_t now_ns(const State& s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - s.start).count();
}

}  // namespace

namespace detail {

uint64_t begin(std::string_view name, std::initializer_list<const Tensor*> inputs) {
  if (!is_enabled()) return 0;
  // Shapes are kept even without record_shapes until stop(): the FLOP formulas read them.
  std::vector<std::vector<int64_t>> shapes;
  shapes.reserve(inputs.size());
  for (const Tensor* x : inputs) {
    shapes.push_back(x->defined() ? x->sizes().vec() : std::vector<int64_t>{});
  }
  return begin(name, std::move(shapes));
}

uint64_t begin(std::string_view name, std::vector<std::vector<int64_t>> shapes,
               std::vector<bool> grad_mask) {
  State& s = state();
  const uint64_t gen = s.generation.load(std::memory_order_acquire);
  if (!is_enabled()) return 0;
  ThreadState& t = t_state;
  if (!t.stack.empty() && t.stack.back().generation != gen) t.stack.clear();  // an earlier run's
  if (t.id_generation != gen) {
    const std::lock_guard<std::mutex> lock(s.mu);
    t.id = s.next_thread++;
    t.id_generation = gen;
  }
  Open open;
  open.generation = gen;
  open.event.name = std::string(name);
  open.event.thread = t.id;
  open.event.depth = static_cast<int64_t>(t.stack.size());
  open.event.shapes = std::move(shapes);
  open.event.grad_mask = std::move(grad_mask);
  open.event.start_ns = now_ns(s);
  t.stack.push_back(std::move(open));
  return gen;
}

void end(uint64_t generation, std::vector<int64_t> out_shape) {
  State& s = state();
  const int64_t now = now_ns(s);
  ThreadState& t = t_state;
  if (t.stack.empty() || t.stack.back().generation != generation) return;  // a dropped run's
  Open open = std::move(t.stack.back());
  t.stack.pop_back();
  Event& e = open.event;
  e.end_ns = now;
  e.self_ns = e.duration_ns() - open.children_ns;  // self = total − children
  e.out_shape = std::move(out_shape);
  if (!t.stack.empty()) t.stack.back().children_ns += e.duration_ns();
  const std::lock_guard<std::mutex> lock(s.mu);
  if (s.active && s.generation.load() == generation) s.finished.push_back(std::move(e));
}

void record_allocation(size_t nbytes) {
  State& s = state();
  ThreadState& t = t_state;
  if (t.stack.empty() || !s.options.profile_memory()) return;
  Open& innermost = t.stack.back();
  if (innermost.generation != s.generation.load(std::memory_order_relaxed)) return;
  innermost.event.self_bytes += static_cast<int64_t>(nbytes);
}

uint64_t OpScope::begin_op(const char* backward_name, std::initializer_list<const Tensor*> inputs) {
  // The name is computed once per op per thread: the Recorder's names are string literals.
  thread_local std::unordered_map<const char*, std::string> names;
  auto it = names.find(backward_name);
  if (it == names.end()) it = names.emplace(backward_name, forward_op_name(backward_name)).first;
  return begin(it->second, inputs);
}

std::string forward_op_name(std::string_view backward_name) {
  // The nodes whose forward op has another name (PyTorch's own pairs: linear records
  // AddmmBackward0, conv2d ConvolutionBackward0).
  static const std::unordered_map<std::string_view, std::string_view> renamed = {
      {"AddmmBackward0", "linear"}, {"MmBackward0", "matmul"}, {"ConvolutionBackward0", "conv2d"},
      {"CopyBackwards", "copy_"},   {"ToCopyBackward0", "to"},
  };
  if (auto it = renamed.find(backward_name); it != renamed.end()) {
    return "aten::" + std::string(it->second);
  }
  // "LogSoftmaxBackward0" → "log_softmax", "MaxPool2DWithIndicesBackward0" →
  // "max_pool2d_with_indices", "GeluBackwardBackward0" (a backward op recorded under
  // create_graph) → "gelu_backward": drop the last "Backward<n>"; a capital starts a word after a
  // lower-case letter, or before one ("2DWith": the W), and is lower-cased.
  const std::string_view stem = backward_name.substr(0, backward_name.rfind("Backward"));
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  std::string out = "aten::";
  for (size_t i = 0; i < stem.size(); ++i) {
    const char c = stem[i];
    if (!upper(c)) {
      out += c;
      continue;
    }
    const bool after_lower = i > 0 && lower(stem[i - 1]);
    const bool starts_word = i > 0 && i + 1 < stem.size() && lower(stem[i + 1]);
    if (after_lower || starts_word) out += '_';
    out += static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace detail

// ── Profiler ─────────────────────────────────────────────────────────────────────────────────

Profiler::Profiler(ProfilerOptions options) : options_(options) {
  State& s = state();
  const std::lock_guard<std::mutex> lock(s.mu);
  TT_CHECK(!s.active,
           "Profiler: another Profiler is already running; stop() it (or let it go out of "
           "scope) before starting a new one (one profiler at a time, as in PyTorch)");
  s.active = true;
  s.options = options;
  s.finished.clear();
  s.start = Clock::now();
  s.next_thread = 1;
  const uint64_t gen = s.generation.load() + 1;
  t_state.id = 0;  // the thread that starts the profiler is thread 0
  t_state.id_generation = gen;
  s.generation.store(gen, std::memory_order_release);
  detail::g_enabled.store(true, std::memory_order_release);
}

Profiler::~Profiler() {
  stop();
}

void Profiler::stop() {
  if (!running_) return;
  running_ = false;
  detail::g_enabled.store(false, std::memory_order_release);
  State& s = state();
  const std::lock_guard<std::mutex> lock(s.mu);
  s.active = false;
  events_ = std::move(s.finished);
  s.finished.clear();
  // Per thread in time order; a parent before the children that start on the same tick.
  std::sort(events_.begin(), events_.end(), [](const Event& a, const Event& b) {
    if (a.thread != b.thread) return a.thread < b.thread;
    if (a.start_ns != b.start_ns) return a.start_ns < b.start_ns;
    return a.depth < b.depth;
  });
}

const std::vector<Event>& Profiler::events() {
  stop();
  if (!counted_) {
    counted_ = true;
    for (Event& e : events_) {
      if (options_.with_flops()) {
        e.flops = e.grad_mask.empty() ? flops(e.name, e.shapes, e.out_shape)
                                      : backward_flops(e.name, e.shapes, e.grad_mask);
      }
      if (!options_.record_shapes()) e.shapes.clear();
    }
  }
  return events_;
}

EventList Profiler::key_averages(bool group_by_input_shape) {
  return EventList(aggregate(events(), group_by_input_shape));
}

void Profiler::export_chrome_trace(const std::string& path) {
  serialize::write_file_atomically(path, chrome_trace_json(events()));
}

RecordFunction::RecordFunction(std::string_view name) {
  if (detail::is_enabled()) generation_ = detail::begin(name, {});
}

RecordFunction::RecordFunction(std::string_view name, std::vector<std::vector<int64_t>> shapes,
                               std::vector<bool> grad_mask) {
  if (detail::is_enabled()) {
    generation_ = detail::begin(name, std::move(shapes), std::move(grad_mask));
  }
}

RecordFunction::~RecordFunction() {
  if (generation_ != 0) detail::end(generation_);
}

// ── the table ────────────────────────────────────────────────────────────────────────────────

namespace {

std::string time_str(double ns) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(3);
  if (ns >= 1e9) {
    os << ns / 1e9 << "s";
  } else if (ns >= 1e6) {
    os << ns / 1e6 << "ms";
  } else {
    os << ns / 1e3 << "us";
  }
  return os.str();
}

std::string bytes_str(int64_t b) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(2);
  if (b >= (int64_t{1} << 20)) {
    os << static_cast<double>(b) / (1 << 20) << " MiB";
  } else if (b >= 1024) {
    os << static_cast<double>(b) / 1024 << " KiB";
  } else {
    os << b << " B";
  }
  return os.str();
}

std::string percent(int64_t part, int64_t whole) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(2)
     << (whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole)) << "%";
  return os.str();
}

std::string shapes_str(const std::vector<std::vector<int64_t>>& shapes) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shapes.size(); ++i) os << (i ? ", " : "") << IntArrayRef(shapes[i]);
  os << ']';
  return os.str();
}

}  // namespace

const OpStats& EventList::at(std::string_view name) const {
  const auto it =
      std::find_if(rows_.begin(), rows_.end(), [&](const OpStats& r) { return r.name == name; });
  TT_CHECK_VALUE(it != rows_.end(), "EventList::at: no op named '", name, "' was recorded");
  return *it;
}

std::string EventList::table(std::string_view sort_by, int64_t row_limit) const {
  std::vector<OpStats> rows = rows_;
  std::function<int64_t(const OpStats&)> key;
  if (sort_by == "self_cpu_time_total") {
    key = [](const OpStats& r) { return r.self_ns; };
  } else if (sort_by == "cpu_time_total") {
    key = [](const OpStats& r) { return r.total_ns; };
  } else if (sort_by == "count") {
    key = [](const OpStats& r) { return r.count; };
  } else if (sort_by == "flops") {
    key = [](const OpStats& r) { return r.flops; };
  } else if (sort_by == "self_cpu_memory_usage") {
    key = [](const OpStats& r) { return r.self_bytes; };
  } else {
    TT_CHECK_VALUE(false, "EventList::table: unknown sort_by '", sort_by,
                   "'; expected self_cpu_time_total, cpu_time_total, count, flops or "
                   "self_cpu_memory_usage");
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const OpStats& a, const OpStats& b) { return key(a) > key(b); });
  int64_t self_total = 0;
  for (const OpStats& r : rows_) self_total += r.self_ns;
  const bool with_shapes =
      std::any_of(rows.begin(), rows.end(), [](const OpStats& r) { return !r.shapes.empty(); });
  size_t w_name = 4;
  for (const OpStats& r : rows) w_name = std::max(w_name, r.name.size());
  w_name = std::min<size_t>(w_name + 2, 48);
  const char* heads[] = {"Self CPU %", "Self CPU",    "CPU total", "CPU time avg",
                         "# of Calls", "Total FLOPs", "GFLOP/s",   "Self Mem"};
  const int w = 14;
  std::ostringstream os;
  const std::string rule(w_name + 8 * w + (with_shapes ? 40 : 0), '-');
  os << rule << '\n' << std::left << std::setw(static_cast<int>(w_name)) << "Name" << std::right;
  for (const char* h : heads) os << std::setw(w) << h;
  if (with_shapes) os << "  Input Shapes";
  os << '\n' << rule << '\n';
  const size_t n =
      row_limit < 0 ? rows.size() : std::min(rows.size(), static_cast<size_t>(row_limit));
  for (size_t i = 0; i < n; ++i) {
    const OpStats& r = rows[i];
    std::string name = r.name.size() + 2 > w_name ? r.name.substr(0, w_name - 5) + "..." : r.name;
    std::ostringstream gf;
    gf << std::fixed << std::setprecision(2) << r.gflops_per_s();
    os << std::left << std::setw(static_cast<int>(w_name)) << name << std::right << std::setw(w)
       << percent(r.self_ns, self_total) << std::setw(w) << time_str(static_cast<double>(r.self_ns))
       << std::setw(w) << time_str(static_cast<double>(r.total_ns)) << std::setw(w)
       << time_str(r.average_ns()) << std::setw(w) << r.count << std::setw(w)
       << (r.flops ? std::to_string(r.flops) : "--") << std::setw(w) << (r.flops ? gf.str() : "--")
       << std::setw(w) << (r.self_bytes ? bytes_str(r.self_bytes) : "--");
    if (with_shapes) os << "  " << shapes_str(r.shapes);
    os << '\n';
  }
  os << rule << '\n'
     << "Self CPU time total: " << time_str(static_cast<double>(self_total)) << '\n';
  return os.str();
}

// ── latency ──────────────────────────────────────────────────────────────────────────────────

LatencyStats measure_latency(const std::function<void()>& fn, const LatencyOptions& options) {
  TT_CHECK_VALUE(options.warmup() >= 0, "measure_latency: warmup must be >= 0, got ",
                 options.warmup());
  TT_CHECK_VALUE(options.iters() >= 1, "measure_latency: iters must be >= 1, got ",
                 options.iters());
  TT_CHECK_VALUE(static_cast<bool>(fn), "measure_latency: fn is empty");
  for (int64_t i = 0; i < options.warmup(); ++i) fn();
  std::vector<double> samples_ms;
  samples_ms.reserve(static_cast<size_t>(options.iters()));
  for (int64_t i = 0; i < options.iters(); ++i) {
    const auto t0 = Clock::now();
    fn();
    const auto t1 = Clock::now();
    samples_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  return latency_stats(std::move(samples_ms));
}

LatencyStats latency_stats(std::vector<double> samples_ms) {
  TT_CHECK_VALUE(!samples_ms.empty(), "latency_stats: no samples");
  LatencyStats st;
  st.iters = static_cast<int64_t>(samples_ms.size());
  st.samples_ms = std::move(samples_ms);
  double sum = 0;
  for (double v : st.samples_ms) sum += v;
  st.mean_ms = sum / static_cast<double>(st.iters);
  st.min_ms = *std::min_element(st.samples_ms.begin(), st.samples_ms.end());
  st.max_ms = *std::max_element(st.samples_ms.begin(), st.samples_ms.end());
  st.p50_ms = benchmark::percentile(st.samples_ms, 50);
  st.p90_ms = benchmark::percentile(st.samples_ms, 90);
  st.p99_ms = benchmark::percentile(st.samples_ms, 99);
  return st;
}

std::ostream& operator<<(std::ostream& stream, const LatencyStats& s) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(3) << "latency over " << s.iters << " calls (ms): p50 "
     << s.p50_ms << "  p90 " << s.p90_ms << "  p99 " << s.p99_ms << "  mean " << s.mean_ms
     << "  min " << s.min_ms << "  max " << s.max_ms;
  return stream << os.str();
}

}  // namespace tinytorch::profiler
