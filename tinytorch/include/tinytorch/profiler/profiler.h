// tinytorch/profiler/profiler.h — where the time, the memory and the FLOPs go (module 14).
//
// PyTorch's torch.profiler, in C++:
//
//   profiler::Profiler prof(profiler::ProfilerOptions().record_shapes(true).with_flops(true));
//   {
//     profiler::RecordFunction step("train_step");        // a user scope, like record_function
//     Tensor loss = nn::functional::cross_entropy(model->forward(x), y);
//     loss.backward();
//   }
//   prof.stop();
//   std::cout << prof.key_averages().table("self_cpu_time_total", 12);
//   prof.export_chrome_trace("trace.json");              // open in chrome://tracing or Perfetto
//
// What is recorded, on the thread that runs it:
//   • every public op (the Recorder of autograd/variable_ops.cpp opens an event around the op:
//     "aten::add", "aten::linear", "aten::matmul", "aten::conv2d", ...),
//   • every backward node the autograd engine runs ("AddmmBackward0", "ReluBackward0", ...),
//   • every RecordFunction scope the user opens.
// Events nest: an event's total time includes the events opened inside it; its self time does
// not. Bytes allocated while an event is the innermost open one on this thread are its own.
//
//   thread 1:  |──────────── train_step ─────────────────────────────────|
//              |── aten::linear ──||─ aten::relu ─||── AddmmBackward0 ──|
//                 ↑ self = total − (children's totals)
//
// Cost when no profiler is running: one relaxed atomic load and a branch per op (is_enabled()).
// Only one Profiler may run at a time (like PyTorch's).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/module.h"  // TT_ARG

namespace tinytorch::profiler {

struct ProfilerOptions {
  // Keep each op's input shapes (shown in the trace's args and by group_by_input_shape).
  TT_ARG(bool, record_shapes) = true;
  // Attribute bytes allocated to the innermost open event of the allocating thread.
  TT_ARG(bool, profile_memory) = true;
  // Count FLOPs for matmul / linear / conv2d / scaled_dot_product_attention from their shapes.
  TT_ARG(bool, with_flops) = true;
};

// One finished event.
struct Event {
  std::string name;                          // "aten::linear", "MmBackward0", "train_step"
  std::vector<std::vector<int64_t>> shapes;  // input shapes (record_shapes); [] = undefined input
  int64_t start_ns = 0;                      // steady clock, from the profiler's start
  int64_t end_ns = 0;
  int64_t self_ns = 0;     // end − start − (the children's end − start)
  uint64_t thread = 0;     // a small id: 0 = the thread that started the profiler, then 1, 2, ...
  int64_t depth = 0;       // open events around it on its thread when it began
  int64_t flops = 0;       // with_flops, for the ops flops() knows; 0 otherwise
  int64_t self_bytes = 0;  // bytes allocated while it was the innermost open event (profile_memory)
  std::vector<int64_t> out_shape;  // the op's output shape, where the op reports it (conv2d)
  // A backward node's event ("ConvolutionBackward0"): shapes are [grad_output, each forward
  // input], and grad_mask[i] says whether input i gets a gradient. Empty for every other event.
  std::vector<bool> grad_mask;
  int64_t duration_ns() const { return end_ns - start_ns; }
};

// One row of key_averages(): every event with the same name (and shapes, when grouped by them).
struct OpStats {
  std::string name;
  std::vector<std::vector<int64_t>> shapes;  // when grouped by input shape
  int64_t count = 0;
  int64_t self_ns = 0;   // summed over the events
  int64_t total_ns = 0;  // summed; an event nested in one of the same name counts in both
  int64_t flops = 0;
  int64_t self_bytes = 0;
  double average_ns() const { return count == 0 ? 0.0 : static_cast<double>(total_ns) / count; }
  // flops / total time: the rate the op ran at (0 when it does no counted FLOPs).
  double gflops_per_s() const {
    return total_ns == 0 ? 0.0 : static_cast<double>(flops) / static_cast<double>(total_ns);
  }
};

// key_averages()'s result, printable like PyTorch's prof.key_averages().table(...).
class EventList {
 public:
  explicit EventList(std::vector<OpStats> rows) : rows_(std::move(rows)) {}
  const std::vector<OpStats>& rows() const { return rows_; }
  const OpStats& at(std::string_view name) const;  // the row named `name`; error if none
  // sort_by: "self_cpu_time_total" (default), "cpu_time_total", "count", "flops",
  // "self_cpu_memory_usage". row_limit < 0 prints every row.
  std::string table(std::string_view sort_by = "self_cpu_time_total", int64_t row_limit = -1) const;

 private:
  std::vector<OpStats> rows_;
};

class Profiler {
 public:
  explicit Profiler(ProfilerOptions options = {});  // starts recording
  ~Profiler();                                      // stops, if stop() was not called
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;

  void stop();  // stops recording; events opened before and still open are dropped
  const ProfilerOptions& options() const { return options_; }
  // The finished events, ordered by (thread, start); stops the profiler first.
  const std::vector<Event>& events();
  // Aggregated per name (and per input shapes with group_by_input_shape), sorted by self time.
  EventList key_averages(bool group_by_input_shape = false);
  // Trace-event JSON ("X" complete events, µs), written atomically.
  void export_chrome_trace(const std::string& path);

 private:
  ProfilerOptions options_;
  bool running_ = true;
  bool counted_ = false;  // FLOPs counted and shapes dropped (after stop, once)
  std::vector<Event> events_;
};

// A user scope (PyTorch's torch.profiler.record_function): an event named `name` from
// construction to destruction, when a profiler runs; nothing otherwise.
class RecordFunction {
 public:
  explicit RecordFunction(std::string_view name);
  // With the shapes the event records (and, for a backward node's run, its grad_mask).
  RecordFunction(std::string_view name, std::vector<std::vector<int64_t>> shapes,
                 std::vector<bool> grad_mask = {});
  ~RecordFunction();
  RecordFunction(const RecordFunction&) = delete;
  RecordFunction& operator=(const RecordFunction&) = delete;

 private:
  uint64_t generation_ = 0;  // 0 = not recording
};

// ── what a learner writes (src/profiler/profiler_ops.cpp) ──────────────────────────────────────

// FLOPs of one call of op `name` with these input shapes, torch.utils.flop_counter's convention
// (a multiply-add is 2 FLOPs; only the matrix products are counted):
//   aten::matmul / aten::mm   [.., M, K] @ [.., K, N]          2·batch·M·N·K
//   aten::linear              x [.., K], weight [N, K]         2·rows·N·K  (rows = x.numel()/K)
//   aten::conv2d              in [B, C, H, W], w [O, C/g, kh, kw], out H'×W'
//                                                               2·B·O·H'·W'·(C/g)·kh·kw
//   aten::scaled_dot_product_attention  q [.., L, E], k [.., S, E], v [.., S, Ev]
//                                                               2·batch·L·S·E + 2·batch·L·S·Ev
// `out_shape` is the op's output shape (conv2d needs H'×W'). Every other op: 0.
int64_t flops(std::string_view name, const std::vector<std::vector<int64_t>>& shapes,
              const std::vector<int64_t>& out_shape);

// FLOPs of one run of a backward node, given (it calls the formulas above), in
// torch.utils.flop_counter's convention; `shapes` = [grad_output, each forward input]:
//   ConvolutionBackward0   grad_input and grad_weight each cost the forward's FLOPs; counted for
//                          the inputs grad_mask asks for
//   ScaledDotProductAttentionBackward0
//                          five products: the scores recomputed (q·kᵀ), dP = dO·vᵀ, dv = Pᵀ·dO,
//                          dq = dS·k, dk = dSᵀ·q: 2·batch·L·S·(3·E + 2·Ev)
// Every other node: 0 (a formula that calls a public matmul counts there, in its own event).
int64_t backward_flops(std::string_view name, const std::vector<std::vector<int64_t>>& shapes,
                       const std::vector<bool>& grad_mask);

// Aggregates finished events per name (and shapes), sorted by self time, largest first.
std::vector<OpStats> aggregate(const std::vector<Event>& events, bool group_by_input_shape);

// The events as a Chrome trace-event document (JSON text):
//   {"traceEvents": [{"name", "ph": "X", "ts": µs, "dur": µs, "pid", "tid", "args": {...}}, ...],
//    "displayTimeUnit": "ms"}
std::string chrome_trace_json(const std::vector<Event>& events);

// ── latency ──────────────────────────────────────────────────────────────────────────────────

struct LatencyOptions {
  TT_ARG(int64_t, warmup) = 3;  // untimed calls first: caches, allocator, branch predictors
  TT_ARG(int64_t, iters) = 20;  // timed calls
};

struct LatencyStats {
  int64_t iters = 0;
  double mean_ms = 0, min_ms = 0, max_ms = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0;  // benchmark::percentile (numpy's "linear")
  std::vector<double> samples_ms;             // each timed call, in order
};
std::ostream& operator<<(std::ostream& stream, const LatencyStats& stats);

// Calls `fn` warmup times untimed, then iters times, each timed on the steady clock.
LatencyStats measure_latency(const std::function<void()>& fn, const LatencyOptions& options = {});
// The statistics of latencies timed elsewhere (e.g. calls of several functions interleaved, as
// milestone 2018 does so that a slow phase of the machine hits every contender alike); what
// measure_latency computes from its own timings. samples_ms must not be empty.
LatencyStats latency_stats(std::vector<double> samples_ms);

// ── hooks (the framework's own call sites) ───────────────────────────────────────────────────
namespace detail {
extern std::atomic<bool> g_enabled;
// Whether a profiler records now: the one load the hot path pays.
inline bool is_enabled() {
  return g_enabled.load(std::memory_order_relaxed);
}

// Opens an event on this thread; returns its generation (0 when nothing was opened).
uint64_t begin(std::string_view name, std::initializer_list<const Tensor*> inputs);
uint64_t begin(std::string_view name, std::vector<std::vector<int64_t>> shapes,
               std::vector<bool> grad_mask = {});
// Closes the innermost event opened with `generation`; `out_shape` is the op's output shape
// (conv2d's FLOPs need its H'×W').
void end(uint64_t generation, std::vector<int64_t> out_shape = {});
// Adds `nbytes` to the innermost open event of this thread (profile_memory).
void record_allocation(size_t nbytes);

// The op event a public op opens (held by autograd's Recorder). `backward_name` is the node it
// would record ("AddmmBackward0"); the event is named after the forward op ("aten::linear").
class OpScope {
 public:
  OpScope(const char* backward_name, std::initializer_list<const Tensor*> inputs) {
    if (is_enabled()) generation_ = begin_op(backward_name, inputs);
  }
  ~OpScope() {
    if (generation_ != 0) end(generation_, std::move(out_shape_));
  }
  OpScope(const OpScope&) = delete;
  OpScope& operator=(const OpScope&) = delete;
  // The op's result, for FLOP formulas that need the output shape (conv2d).
  void set_output(const Tensor& output) {
    if (generation_ != 0 && output.defined()) out_shape_ = output.sizes().vec();
  }

 private:
  static uint64_t begin_op(const char* backward_name, std::initializer_list<const Tensor*> inputs);
  uint64_t generation_ = 0;
  std::vector<int64_t> out_shape_;
};

// "AddmmBackward0" → "aten::linear", "MulBackward0" → "aten::mul", "SumBackward1" → "aten::sum".
std::string forward_op_name(std::string_view backward_name);
}  // namespace detail

}  // namespace tinytorch::profiler
