// Module 14 — what the profiler computes from its events: FLOPs from shapes, the per-op table's
// aggregation, and the Chrome trace (see profiler/profiler.h). The recording itself (per-thread
// stacks, hooks in the Recorder, the engine and the allocator) is in profiler.cpp.
#include <unistd.h>
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "tinytorch/core/exception.h"
#include "tinytorch/profiler/profiler.h"

namespace tinytorch::profiler {

namespace {

// Product of dims [begin, end) of `shape` (1 for an empty range). [[maybe_unused]] keeps a
// learner release (where the formulas that call it are stubs) building with -Werror.
[[maybe_unused]] int64_t prod(const std::vector<int64_t>& shape, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= shape[i];
  return p;
}

// The shapes an op received, checked before a formula reads them: at least `n` inputs, input i
// with at least min_dims[i] dims.
bool has_shapes(const std::vector<std::vector<int64_t>>& shapes,
                std::initializer_list<size_t> min_dims) {
  if (shapes.size() < min_dims.size()) return false;
  size_t i = 0;
  for (const size_t d : min_dims) {
    if (shapes[i++].size() < d) return false;
  }
  return true;
}

int64_t matmul_flops(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  // BEGIN SOLUTION
  // [.., M, K] @ [.., K, N]: each of the batch·M·N outputs is a K-long dot product, K
  // multiplies and K adds. A 1-D operand is a vector (M or N = 1). The batch is the product of
  // the broadcast batch dims, aligned from the right: [2, 1] with [3] is [2, 3], 6 products.
  const int64_t K = a.back();
  const int64_t M = a.size() >= 2 ? a[a.size() - 2] : 1;
  const int64_t N = b.size() >= 2 ? b.back() : 1;
  const size_t da = a.size() > 2 ? a.size() - 2 : 0, db = b.size() > 2 ? b.size() - 2 : 0;
  int64_t batch = 1;
  for (size_t i = 0; i < std::max(da, db); ++i) {  // the i-th batch dim from the right
    batch *= std::max(i < da ? a[da - 1 - i] : 1, i < db ? b[db - 1 - i] : 1);
  }
  return 2 * batch * M * N * K;
  // END SOLUTION
}

int64_t linear_flops(const std::vector<int64_t>& x, const std::vector<int64_t>& weight) {
  // BEGIN SOLUTION
  // x [.., K] · weightᵀ [K, N]: one GEMM with rows = every leading position of x. The bias add
  // (rows·N) is not counted, as in PyTorch's counter.
  const int64_t K = x.back(), N = weight[0];
  const int64_t rows = prod(x, 0, x.size() - 1);
  return 2 * rows * N * K;
  // END SOLUTION
}

int64_t conv2d_flops(const std::vector<int64_t>& weight, const std::vector<int64_t>& out) {
  // BEGIN SOLUTION
  // Each output element [b, o, y, x] is a dot product over its (C/g)·kh·kw window:
  //   2 · (B·O·H'·W') · (C/g·kh·kw) = 2 · out.numel() · weight[1:].numel()
  return 2 * prod(out, 0, out.size()) * prod(weight, 1, weight.size());
  // END SOLUTION
}

int64_t attention_flops(const std::vector<int64_t>& q, const std::vector<int64_t>& k,
                        const std::vector<int64_t>& v) {
  // BEGIN SOLUTION
  // Two batched GEMMs: scores = q·kᵀ [.., L, S] over E, then out = P·v [.., L, Ev] over S.
  // The softmax and the scaling are not counted (torch.utils.flop_counter's convention).
  const int64_t batch = prod(q, 0, q.size() - 2);
  const int64_t L = q[q.size() - 2], E = q.back(), S = k[k.size() - 2], Ev = v.back();
  return 2 * batch * L * S * E + 2 * batch * L * S * Ev;
  // END SOLUTION
}

}  // namespace

int64_t flops(std::string_view name, const std::vector<std::vector<int64_t>>& shapes,
              const std::vector<int64_t>& out_shape) {
  // NOTE: the dispatch and the shape checks are given: the formulas above may assume that each
  // operand has the dims they index.
  if ((name == "aten::matmul" || name == "aten::mm" || name == "aten::bmm") &&
      has_shapes(shapes, {1, 1})) {
    return matmul_flops(shapes[0], shapes[1]);
  }
  if (name == "aten::linear" && has_shapes(shapes, {1, 2})) {
    return linear_flops(shapes[0], shapes[1]);
  }
  if (name == "aten::conv2d" && has_shapes(shapes, {4, 4}) && out_shape.size() == 4) {
    return conv2d_flops(shapes[1], out_shape);
  }
  if (name == "aten::scaled_dot_product_attention" && has_shapes(shapes, {2, 2, 2})) {
    return attention_flops(shapes[0], shapes[1], shapes[2]);
  }
  return 0;
}

int64_t backward_flops(std::string_view name, const std::vector<std::vector<int64_t>>& shapes,
                       const std::vector<bool>& grad_mask) {
  // shapes = [grad_output, forward input 0, forward input 1, ...]; grad_mask[i] ↔ shapes[i + 1].
  const auto wants = [&](size_t i) { return i < grad_mask.size() && grad_mask[i]; };
  if (name == "ConvolutionBackward0" && has_shapes(shapes, {4, 4, 4})) {
    // grad_input = conv_transpose(grad_out, weight) and grad_weight = conv(input, grad_out): the
    // same multiply-adds as the forward, each.
    const int64_t one = conv2d_flops(shapes[2], shapes[0]);
    return (wants(0) ? one : 0) + (wants(1) ? one : 0);
  }
  if (name == "ScaledDotProductAttentionBackward0" && has_shapes(shapes, {2, 2, 2, 2})) {
    // q [.., L, E], k [.., S, E], v [.., S, Ev], dO [.., L, Ev]; P and dS are [.., L, S].
    const auto& q = shapes[1];
    const auto& k = shapes[2];
    const auto& v = shapes[3];
    const auto with = [](std::vector<int64_t> shape, int64_t rows, int64_t cols) {
      shape[shape.size() - 2] = rows;
      shape.back() = cols;
      return shape;
    };
    const int64_t L = q[q.size() - 2], E = q.back(), S = k[k.size() - 2], Ev = v.back();
    return matmul_flops(with(q, L, E), with(k, E, S))      // scores again:  q·kᵀ
           + matmul_flops(with(q, L, Ev), with(v, Ev, S))  // dP = dO·vᵀ
           + matmul_flops(with(q, S, L), with(q, L, Ev))   // dv = Pᵀ·dO
           + matmul_flops(with(q, L, S), with(k, S, E))    // dq = dS·k
           + matmul_flops(with(q, S, L), with(q, L, E));   // dk = dSᵀ·q
  }
  return 0;
}

std::vector<OpStats> aggregate(const std::vector<Event>& events, bool group_by_input_shape) {
  // BEGIN SOLUTION
  // One row per name (and shapes): counts, times, FLOPs and bytes summed.
  std::map<std::pair<std::string, std::vector<std::vector<int64_t>>>, OpStats> rows;
  for (const Event& e : events) {
    auto key = std::make_pair(
        e.name, group_by_input_shape ? e.shapes : std::vector<std::vector<int64_t>>{});
    OpStats& r = rows[key];
    if (r.count == 0) {
      r.name = e.name;
      r.shapes = key.second;
    }
    ++r.count;
    r.self_ns += e.self_ns;
    r.total_ns += e.duration_ns();
    r.flops += e.flops;
    r.self_bytes += e.self_bytes;
  }
  std::vector<OpStats> out;
  out.reserve(rows.size());
  for (auto& [key, r] : rows) out.push_back(std::move(r));
  // Largest self time first; equal ones by name, so the order never depends on the map.
  std::stable_sort(out.begin(), out.end(), [](const OpStats& a, const OpStats& b) {
    return a.self_ns != b.self_ns ? a.self_ns > b.self_ns : a.name < b.name;
  });
  return out;
  // END SOLUTION
}

namespace {

// One event as a Chrome trace "X" (complete) event of process `pid`.
nlohmann::json trace_event(const Event& e, int pid) {
  // BEGIN SOLUTION
  // ts and dur in microseconds: ns / 1000 keeps nanosecond resolution in the fraction, so a
  // child never appears to start before its parent.
  nlohmann::json args = nlohmann::json::object();
  if (!e.shapes.empty()) args["Input Dims"] = e.shapes;
  if (e.flops != 0) args["flops"] = e.flops;
  if (e.self_bytes != 0) args["bytes"] = e.self_bytes;
  return {{"name", e.name},
          {"cat", "cpu_op"},
          {"ph", "X"},
          {"ts", static_cast<double>(e.start_ns) / 1000.0},
          {"dur", static_cast<double>(e.duration_ns()) / 1000.0},
          {"pid", pid},
          {"tid", e.thread},
          {"args", std::move(args)}};
  // END SOLUTION
}

}  // namespace

std::string chrome_trace_json(const std::vector<Event>& events) {
  const int pid = static_cast<int>(::getpid());
  nlohmann::json trace_events = nlohmann::json::array();
  for (const Event& e : events) trace_events.push_back(trace_event(e, pid));
  return nlohmann::json{{"traceEvents", std::move(trace_events)}, {"displayTimeUnit", "ms"}}.dump();
}

}  // namespace tinytorch::profiler
