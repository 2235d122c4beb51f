// Module 01 lab — Use + Reflect: what memory layout costs, measured on YOUR machine.
//
//   ./tito lab 01                 the full run (about 15 s on the 2-core course VM)
//   ./tito lab 01 --quick         small sizes, a few seconds (a smoke test)
//   ./tito lab 01 --json out.json also write every measured figure to out.json
//   ./tito lab 01 --only AE       only some experiments (0, A-F)
//   ./tito lab 01 --no-cache      tensors from the plain allocator (see LabAllocator in
//                                 modules/lab_support/lab_support.h)
//
// Every number this program prints is measured (std::chrono::steady_clock, warm-up runs, then
// the median of several repeats) or computed from the tensors it made. Nothing is hard-coded.
// How it measures, and the command line and tables, are the code all labs share
// (modules/lab_support/lab_support.h); this file holds the experiments.
// The experiments follow the chapter (modules/01_tensor/README.md, "The lab"):
//
//   0  inside a tensor       sizes, strides, offsets and shared storage of a few views
//   A  memory order          summing a big matrix row by row vs column by column (raw loops)
//   B  strided element-wise  x + 1 on a contiguous tensor, on x.t(), and via x.t().contiguous()
//   C  broadcasting          a + row as a stride-0 view vs a materialised copy of the row
//   D  views are free        transpose / view / narrow (metadata only) vs clone() (a copy)
//   E  matmul loop orders    i-j-k vs i-k-j vs j-k-i on raw arrays, and tinytorch::matmul
//   F  memory budgets        bytes per element per dtype; what an image batch costs
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "lab_support/heap_counter.h"
#include "lab_support/lab_support.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/tinytorch.h"

// Start every loop of this file on a 64-byte boundary. The CPU's front end fetches and decodes
// code in aligned blocks, and a tight inner loop that happens to straddle a block boundary can
// run ~2× slower with byte-for-byte identical instructions — we measured exactly that for the
// i-k-j loop below, which made it look slower than tinytorch::matmul running the same loop. The
// compiler places loops wherever the surrounding code puts them, so without this the result of
// experiment E would depend on unrelated edits to this file. (GCC only; clang has no equivalent
// pragma.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("align-loops=64")
#endif

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;  // the shared lab code: timing, tables, the command line

// ── Memory accounting ───────────────────────────────────────────────────────────────────────
// What one call of f() costs in tensor storage (from the tinytorch allocator) and in plain C++
// heap (from the counting operator new of lab_support/heap_counter.h).
struct MemDelta {
  int64_t storage_peak_extra = 0;  // peak live tensor bytes during f(), above the live bytes before
  int64_t storage_allocs = 0;      // tensor allocations made by f()
  int64_t heap_allocs = 0;         // operator new calls made by f()
  int64_t heap_bytes = 0;          // bytes requested from operator new by f()
};

template <typename F>
MemDelta measure_memory(F&& f) {
  Allocator* alloc = get_allocator();
  alloc->reset_peak();
  const AllocatorStats s0 = alloc->stats();
  const int64_t h0 = heap_allocations(), b0 = heap_bytes();
  f();
  const int64_t h1 = heap_allocations(), b1 = heap_bytes();
  const AllocatorStats s1 = alloc->stats();
  return {s1.peak_bytes - s0.live_bytes, s1.allocation_count - s0.allocation_count, h1 - h0,
          b1 - b0};
}

json to_json(const MemDelta& m) {
  return {{"storage_peak_extra_bytes", m.storage_peak_extra},
          {"storage_allocations", m.storage_allocs},
          {"heap_allocations", m.heap_allocs},
          {"heap_bytes", m.heap_bytes}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// 0. Inside a tensor: every view is new (sizes, strides, offset) over the same storage.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json tour() {
  heading("0", "Inside a tensor",
          "x = arange(6).view({2, 3}) and some views of it. Element (i, j) lives at storage "
          "index\n  offset + i·stride[0] + j·stride[1]; a view changes these numbers, never the "
          "bytes.");
  const Tensor x = arange(6, kFloat32).view({2, 3});
  struct Row {
    std::string expr;
    Tensor t;
  };
  const std::vector<Row> rows = {
      {"x", x},
      {"x.t()", x.t()},
      {"x[1]", x[1]},
      {"x.narrow(1, 1, 2)", x.narrow(1, 1, 2)},
      {"x.slice(1, 0, 3, 2)", x.slice(1, 0, 3, 2)},
      {"x.unsqueeze(0)", x.unsqueeze(0)},
      {"x[0].expand({4, 3})", x[0].expand({4, 3})},
      {"x.t().contiguous()", x.t().contiguous()},
  };
  Table table({"expression", "sizes", "strides", "offset", "contiguous", "shares x's storage"});
  json out = json::array();
  for (const auto& r : rows) {
    const bool shares = r.t.is_alias_of(x);
    table.add({r.expr, shape_str(r.t.sizes()), shape_str(r.t.strides()),
               std::to_string(r.t.storage_offset()), r.t.is_contiguous() ? "yes" : "no",
               shares ? "yes" : "no (a copy)"});
    out.push_back({{"expr", r.expr},
                   {"sizes", r.t.sizes().vec()},
                   {"strides", r.t.strides().vec()},
                   {"storage_offset", r.t.storage_offset()},
                   {"contiguous", r.t.is_contiguous()},
                   {"shares_storage", shares}});
  }
  table.print();
  std::cout << "\n  x.t() prints as " << x.t() << "\n  but its storage still holds "
            << x.as_strided({6}, {1}, 0) << " in that order.\n";
  meaning(
      "Only x.t().contiguous() allocated new bytes; everything else is a new way of "
      "reading\n    the same " +
      std::to_string(x.storage().nbytes()) + " bytes (storage use_count is now " +
      std::to_string(x.storage().use_count()) + ").");
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// A. Memory order: the same sum, walking the matrix along rows or down columns.
// ═════════════════════════════════════════════════════════════════════════════════════════════
// Both loops do identical arithmetic with 8 independent accumulators (so neither is limited by
// the latency of a chain of float additions); only the ORDER in which memory is touched differs.
double sum_row_major(const float* p, int64_t n) {
  float acc[8] = {};
  for (int64_t i = 0; i < n; ++i) {
    const float* row = p + i * n;
    for (int64_t j = 0; j < n; j += 8) {
      for (int u = 0; u < 8; ++u) acc[u] += row[j + u];
    }
  }
  double s = 0;
  for (float a : acc) s += a;
  return s;
}

double sum_col_major(const float* p, int64_t n, int64_t ld) {
  float acc[8] = {};
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t i = 0; i < n; i += 8) {
      for (int u = 0; u < 8; ++u) acc[u] += p[(i + u) * ld + j];
    }
  }
  double s = 0;
  for (float a : acc) s += a;
  return s;
}

json experiment_traversal(const Config& cfg) {
  const int64_t n = cfg.quick ? 1024 : 4096;
  const int64_t pad = 16;  // 64 bytes: one cache line of padding per row
  heading("A", "Memory order: rows vs columns",
          "Sum every element of a " + std::to_string(n) + "×" + std::to_string(n) +
              " float32 matrix (" + human_bytes(static_cast<double>(n * n * 4)) +
              ") through data_ptr<float>(),\n  walking along rows (stride 1) or down columns "
              "(stride " +
              std::to_string(n) + " elements).");
  const Tensor m = rand({n, n});
  // The same values with each row padded by one cache line (leading dimension n + 16).
  const Tensor padded = zeros({n, n + pad});
  padded.narrow(1, 0, n).copy_(m);
  const float* p = m.data_ptr<float>();
  const float* pp = padded.data_ptr<float>();

  const double bytes = static_cast<double>(n * n) * sizeof(float);
  const std::vector<Timing> ts = measure_round_robin(
      cfg.warmup, cfg.reps,
      {[&] { consume(sum_row_major(p, n)); }, [&] { consume(sum_col_major(p, n, n)); },
       [&] { consume(sum_col_major(pp, n, n + pad)); }});
  const Timing &rows = ts[0], &cols = ts[1], &cols_pad = ts[2];
  // The three sums must agree (up to float rounding) — a check that all three read everything.
  const double s_row = sum_row_major(p, n), s_col = sum_col_major(p, n, n);

  Table table({"traversal", "time", "ns/element", "GB/s", "vs row-wise"});
  auto add = [&](const std::string& name, const Timing& t) {
    table.add({name, human_time(t.median), fixed(t.median * 1e9 / static_cast<double>(n * n), 2),
               fixed(bytes / t.median / 1e9, 2), ratio(t.median / rows.median)});
  };
  add("row-wise    (j inner, stride 1)", rows);
  add("column-wise (i inner, stride " + std::to_string(n) + ")", cols);
  add("column-wise, rows padded to " + std::to_string(n + pad), cols_pad);
  table.print();
  const double col_ratio = cols.median / rows.median, pad_ratio = cols_pad.median / rows.median;
  // Whether padding helped a lot decides which explanation fits this machine's numbers.
  const std::string padding_note =
      pad_ratio < 0.5 * col_ratio
          ? "Padding each row by one cache line brings it to " + ratio(pad_ratio) +
                ": with a power-of-two row length, a column maps onto a handful of cache sets "
                "and evicts itself."
          : "Padding each row by one cache line changes little here (" + ratio(pad_ratio) +
                "): the cost is the new line (and new 4 KiB page) on every step.";
  meaning("Column order is " + ratio(col_ratio) +
          " slower for the same arithmetic. Each 4-byte read down a column lands on a "
          "different 64-byte cache line (here also a different 4 KiB page); unless those lines "
          "survive in cache until the next column needs them, memory moves up to 16× more "
          "bytes than the loop uses. " +
          padding_note + " Strides are a performance contract.");
  return {{"n", n},
          {"bytes", bytes},
          {"row_wise", to_json(rows)},
          {"col_wise", to_json(cols)},
          {"col_wise_padded", to_json(cols_pad)},
          {"padded_leading_dim", n + pad},
          {"col_over_row", cols.median / rows.median},
          {"col_padded_over_row", cols_pad.median / rows.median},
          {"row_gb_per_s", bytes / rows.median / 1e9},
          {"col_gb_per_s", bytes / cols.median / 1e9},
          {"sum_rel_diff", std::abs(s_row - s_col) / std::max(1.0, std::abs(s_row))}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// B. The same element-wise op on a contiguous tensor and on a transposed (strided) view.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_strided(const Config& cfg) {
  const int64_t n = cfg.quick ? 512 : 2048;
  const double elems = static_cast<double>(n * n);
  heading("B", "Contiguous vs strided element-wise ops",
          "y = x + 1 for a " + std::to_string(n) + "×" + std::to_string(n) +
              " float32 x, through tinytorch's strided loop (for_each_strided).\n  x.t() is a "
              "view with strides [1, " +
              std::to_string(n) +
              "]. The output is always contiguous and written in order,\n  so the loop reads "
              "x.t() down its columns.");
  const Tensor x = rand({n, n});
  const Tensor xt = x.t();
  const std::vector<Timing> ts = measure_round_robin(
      cfg.warmup, cfg.reps,
      {[&] { consume((x + 1).numel()); }, [&] { consume((xt + 1).numel()); },
       [&] { consume(xt.contiguous().numel()); }, [&] { consume((xt.contiguous() + 1).numel()); }});
  const Timing &t_contig = ts[0], &t_strided = ts[1], &t_copy = ts[2], &t_copy_add = ts[3];
  // Same values either way (only the memory order of the reads differs).
  const bool same = (xt + 1).equal(xt.contiguous() + 1);
  const MemDelta m_strided = measure_memory([&] { consume((xt + 1).numel()); });
  const MemDelta m_copy_add = measure_memory([&] { consume((xt.contiguous() + 1).numel()); });

  // One read and one write of n² floats per call.
  const double moved = 2 * elems * sizeof(float);
  Table table({"operation", "time", "ns/element", "GB/s (r+w)", "vs contiguous", "peak new bytes"});
  auto add = [&](const std::string& name, const Timing& t, const std::string& mem) {
    table.add({name, human_time(t.median), fixed(t.median * 1e9 / elems, 2),
               fixed(moved / t.median / 1e9, 2), ratio(t.median / t_contig.median), mem});
  };
  add("x + 1            (contiguous)", t_contig, human_bytes(elems * 4));
  add("x.t() + 1        (strided view)", t_strided,
      human_bytes(static_cast<double>(m_strided.storage_peak_extra)));
  add("x.t().contiguous()   (the copy alone)", t_copy, human_bytes(elems * 4));
  add("x.t().contiguous() + 1", t_copy_add,
      human_bytes(static_cast<double>(m_copy_add.storage_peak_extra)));
  table.print();
  const double saving = t_strided.median - t_contig.median;
  const double break_even = saving > 0 ? t_copy.median / saving : 0;
  std::cout << "\n  results identical: " << (same ? "yes" : "NO") << "\n";
  meaning("Reading x.t() down columns makes the same op " +
          ratio(t_strided.median / t_contig.median) +
          " slower. contiguous() is no cure by itself: the copy IS a strided read (" +
          ratio(t_copy.median / t_contig.median) +
          " the contiguous op) and needs a second buffer. It pays off when the copy is reused: k "
          "ops on the copy beat k strided ops once k > " +
          fixed(break_even, 1) + ".");
  return {{"n", n},
          {"contiguous", to_json(t_contig)},
          {"strided_view", to_json(t_strided)},
          {"contiguous_copy_only", to_json(t_copy)},
          {"contiguous_copy_then_add", to_json(t_copy_add)},
          {"strided_over_contiguous", t_strided.median / t_contig.median},
          {"copy_over_contiguous", t_copy.median / t_contig.median},
          {"break_even_reuses", break_even},
          {"memory_strided_view", to_json(m_strided)},
          {"memory_copy_then_add", to_json(m_copy_add)},
          {"results_identical", same}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// C. Broadcasting: a stride-0 view of the row vs a materialised [M, N] copy of it.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_broadcast(const Config& cfg) {
  const int64_t rows = cfg.quick ? 512 : 2048, cols = cfg.quick ? 512 : 2048;
  const double elems = static_cast<double>(rows * cols);
  heading("C", "Broadcasting: stride 0 vs a materialised copy",
          "a: [" + std::to_string(rows) + ", " + std::to_string(cols) + "] float32, row: [1, " +
              std::to_string(cols) +
              "]. a + row broadcasts row with stride 0 (no copy);\n  the alternative builds "
              "the full [" +
              std::to_string(rows) + ", " + std::to_string(cols) + "] operand first.");
  const Tensor a = rand({rows, cols});
  const Tensor row = rand({1, cols});
  const Tensor big = row.expand({rows, cols}).contiguous();  // materialised once, for row 3
  const std::vector<Timing> ts =
      measure_round_robin(cfg.warmup, cfg.reps,
                          {[&] { consume((a + row).numel()); },
                           [&] {
                             consume((a + row.expand({rows, cols}).contiguous()).numel());
                           },
                           [&] { consume((a + big).numel()); }});
  const Timing &t_bcast = ts[0], &t_mat = ts[1], &t_pre = ts[2];
  const MemDelta m_bcast = measure_memory([&] { consume((a + row).numel()); });
  const MemDelta m_mat = measure_memory([&] {
    consume((a + row.expand({rows, cols}).contiguous()).numel());
  });
  const MemDelta m_pre = measure_memory([&] { consume((a + big).numel()); });
  const bool same = (a + row).equal(a + big);

  Table table(
      {"operation", "time", "vs broadcast", "operand bytes", "peak new bytes", "tensor allocs"});
  auto add = [&](const std::string& name, const Timing& t, double operand, const MemDelta& m) {
    table.add({name, human_time(t.median), ratio(t.median / t_bcast.median), human_bytes(operand),
               human_bytes(static_cast<double>(m.storage_peak_extra)),
               std::to_string(m.storage_allocs)});
  };
  add("a + row                       (stride 0)", t_bcast, static_cast<double>(row.nbytes()),
      m_bcast);
  add("a + row.expand(..).contiguous()", t_mat, elems * 4, m_mat);
  add("a + big   (big materialised beforehand)", t_pre, static_cast<double>(big.nbytes()), m_pre);
  table.print();
  std::cout << "\n  row.expand(" << shape_str({rows, cols}) << ") has strides "
            << shape_str(row.expand({rows, cols}).strides())
            << "; results identical: " << (same ? "yes" : "NO") << "\n";
  meaning("The sure win is memory: the second operand stays at " +
          human_bytes(static_cast<double>(row.nbytes())) + " instead of " + human_bytes(elems * 4) +
          " (" + fixed(elems * 4 / static_cast<double>(row.nbytes()), 0) +
          "× less) and the peak at " +
          human_bytes(static_cast<double>(m_bcast.storage_peak_extra)) + " instead of " +
          human_bytes(static_cast<double>(m_mat.storage_peak_extra)) +
          ". Materialising inside the op costs " + ratio(t_mat.median / t_bcast.median) +
          " the time (an extra full-size write and read); even a copy made in advance costs " +
          ratio(t_pre.median / t_bcast.median) +
          ", because a full-size operand must stream from memory while one row stays in "
          "cache.");
  return {{"rows", rows},
          {"cols", cols},
          {"broadcast", to_json(t_bcast)},
          {"materialise_then_add", to_json(t_mat)},
          {"premateralised_add", to_json(t_pre)},
          {"memory_broadcast", to_json(m_bcast)},
          {"memory_materialise_then_add", to_json(m_mat)},
          {"memory_prematerialised_add", to_json(m_pre)},
          {"row_operand_bytes", row.nbytes()},
          {"full_operand_bytes", elems * 4},
          {"materialise_over_broadcast", t_mat.median / t_bcast.median},
          {"prematerialised_over_broadcast", t_pre.median / t_bcast.median},
          {"results_identical", same}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// D. Views are (almost) free: O(1) metadata vs an O(n) copy.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_views(const Config& cfg) {
  const int64_t n = cfg.quick ? 256 : 1024;
  // Operations that take ~100 ns are timed in short batches of `calls` calls, and more batches
  // than usual: a short batch is rarely interrupted by other work on the machine.
  const int64_t calls = cfg.quick ? 500 : 2000;
  const int fast_reps = cfg.quick ? 11 : 21;
  heading("D", "Views are (almost) free",
          "Time per call on a " + std::to_string(n) + "×" + std::to_string(n) +
              " float32 tensor (" + human_bytes(static_cast<double>(n * n * 4)) +
              ") and on a tiny 2×3 one:\n  the median of " + std::to_string(fast_reps) +
              " batches of " + std::to_string(calls) +
              " calls. \"tensor bytes\": from the tinytorch allocator; \"heap\": C++\n  "
              "operator new calls (the new TensorImpl, its sizes and strides, ...).");
  const Tensor big = rand({n, n});
  const Tensor small = rand({2, 3});
  struct Op {
    std::string key, name;
    std::function<Tensor(const Tensor&)> fn;
  };
  const std::vector<Op> ops = {
      {"t", "t()", [](const Tensor& x) { return x.t(); }},
      {"transpose", "transpose(0, 1)", [](const Tensor& x) { return x.transpose(0, 1); }},
      {"view", "view({-1})", [](const Tensor& x) { return x.view({-1}); }},
      {"narrow", "narrow(0, 1, 1)", [](const Tensor& x) { return x.narrow(0, 1, 1); }},
      {"unsqueeze", "unsqueeze(0)", [](const Tensor& x) { return x.unsqueeze(0); }},
      {"reshape", "reshape({-1})   (a view here)", [](const Tensor& x) { return x.reshape({-1}); }},
      {"clone", "clone()         (a copy)", [](const Tensor& x) { return x.clone(); }},
  };
  Table table({"operation", "time (big)", "time (2×3)", "tensor bytes", "heap allocs", "heap bytes",
               "shares storage"});
  json out = json::object();
  double view_max = 0, clone_big = 0, clone_small = 0;
  int64_t clone_heap_allocs = 0;
  for (const auto& op : ops) {
    const bool is_clone = op.key == "clone";
    // A clone of the big tensor takes ~milliseconds: time it one call per repeat.
    const int64_t big_calls = is_clone ? 1 : calls;
    auto run = [&](const Tensor& x, int64_t k) {
      int64_t acc = 0;
      for (int64_t i = 0; i < k; ++i) acc += op.fn(x).storage_offset() + 1;
      consume(static_cast<double>(acc));
    };
    const Timing tb = measure(cfg.warmup, is_clone ? cfg.reps : fast_reps, big_calls,
                              [&] { run(big, big_calls); });
    const Timing ts = measure(cfg.warmup, fast_reps, calls, [&] { run(small, calls); });
    const MemDelta mem = measure_memory([&] { consume(op.fn(big).numel()); });
    const bool shares = op.fn(big).is_alias_of(big);
    if (is_clone) {
      clone_big = tb.median;
      clone_small = ts.median;
      clone_heap_allocs = mem.heap_allocs;
    } else {
      view_max = std::max(view_max, tb.median);
    }
    table.add({op.name, human_time(tb.median), human_time(ts.median),
               human_bytes(static_cast<double>(mem.storage_peak_extra)),
               std::to_string(mem.heap_allocs), human_bytes(static_cast<double>(mem.heap_bytes)),
               shares ? "yes" : "no"});
    out[op.key] = {{"time_big", to_json(tb)},
                   {"time_small", to_json(ts)},
                   {"memory_big", to_json(mem)},
                   {"shares_storage", shares}};
  }
  table.print();
  std::cout << "\n  sizeof(Tensor) = " << sizeof(Tensor)
            << " B (one shared_ptr), sizeof(TensorImpl) = " << sizeof(TensorImpl)
            << " B, sizeof(StorageImpl) = " << sizeof(StorageImpl) << " B\n";
  meaning("A view costs about the same on 6 elements as on " + std::to_string(n * n) +
          ": new metadata, zero tensor bytes — O(1). clone() of the big tensor is " +
          ratio(clone_big / view_max) +
          " slower than the slowest view, and grows with numel — O(n). Views are not quite free "
          "either: a few small heap blocks per view (PyTorch keeps up to 5 sizes/strides inline "
          "in the TensorImpl to need just one). And cloning just 6 elements still takes " +
          human_time(clone_small) + " (" + std::to_string(clone_heap_allocs) +
          " heap allocations): for small tensors, per-op overhead, not arithmetic, is the cost.");
  return {{"n", n},
          {"calls_per_sample", calls},
          {"ops", out},
          {"sizeof_tensor", sizeof(Tensor)},
          {"sizeof_tensor_impl", sizeof(TensorImpl)},
          {"sizeof_storage_impl", sizeof(StorageImpl)},
          {"clone_over_slowest_view", clone_big / view_max}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// E. Matmul loop orders on raw arrays: same 2·N³ flops, very different memory walks.
// ═════════════════════════════════════════════════════════════════════════════════════════════
// C[i][j] = Σ_k A[i][k] · B[k][j], all N×N row-major float32. Written in the same style as
// gemm_reference in src/native/linalg.cpp, so the only difference between the three is the order.
void matmul_ijk(int64_t n, const float* a, const float* b, float* c) {
  for (int64_t i = 0; i < n; ++i) {
    const float* a_row = a + i * n;
    for (int64_t j = 0; j < n; ++j) {
      float s = 0;
      for (int64_t k = 0; k < n; ++k) s += a_row[k] * b[k * n + j];  // B down a column
      c[i * n + j] = s;
    }
  }
}

void matmul_ikj(int64_t n, const float* a, const float* b, float* c) {
  for (int64_t i = 0; i < n; ++i) {
    float* c_row = c + i * n;
    for (int64_t j = 0; j < n; ++j) c_row[j] = 0;
    for (int64_t k = 0; k < n; ++k) {
      const float a_ik = a[i * n + k];
      const float* b_row = b + k * n;
      for (int64_t j = 0; j < n; ++j) c_row[j] += a_ik * b_row[j];  // rows of B and C
    }
  }
}

void matmul_jki(int64_t n, const float* a, const float* b, float* c) {
  for (int64_t x = 0; x < n * n; ++x) c[x] = 0;
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t k = 0; k < n; ++k) {
      const float b_kj = b[k * n + j];
      for (int64_t i = 0; i < n; ++i) c[i * n + j] += a[i * n + k] * b_kj;  // A, C down columns
    }
  }
}

json experiment_matmul(const Config& cfg, const std::string& kernels_env) {
  const std::vector<int64_t> sizes =
      cfg.quick ? std::vector<int64_t>{64, 128} : std::vector<int64_t>{256, 512};
  heading("E", "Matmul loop orders",
          "C = A·B for N×N float32 on raw arrays: the same 2·N³ flops in three loop orders, and\n"
          "  tinytorch::matmul (reference tier: your gemm_reference, i-k-j, plus shape checks and "
          "the output).");
  Table table(
      {"N", "loop order", "inner loop walks", "time", "GFLOP/s", "vs i-k-j", "max |C - C_ikj|"});
  json out = json::array();
  double ijk_last = 0, ikj_last = 0, jki_last = 0;
  for (const int64_t n : sizes) {
    const Tensor a = randn({n, n}), b = randn({n, n});
    const float* pa = a.data_ptr<float>();
    const float* pb = b.data_ptr<float>();
    // One output per variant, so every result can be checked after the timing.
    std::vector<Tensor> c = {empty({n, n}), empty({n, n}), empty({n, n}), Tensor()};
    const double flops =
        2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
    // The slow orders take a while at N = 512: one warm-up there, and the median of 5 repeats.
    const int warmup = n >= 512 ? 1 : cfg.warmup;
    const int reps = n >= 512 ? 5 : cfg.reps;
    const std::vector<std::pair<std::string, std::string>> names = {
        {"i-j-k", "A row →, B column ↓"},
        {"i-k-j", "B row →, C row →"},
        {"j-k-i", "A column ↓, C column ↓"},
        {"tinytorch::matmul", kernels_env == "reference"
                                  ? "(i-k-j in gemm_reference)"
                                  : "(TINYTORCH_KERNELS=" + kernels_env + ")"}};
    const std::vector<Timing> ts = measure_round_robin(
        warmup, reps,
        {[&] { matmul_ijk(n, pa, pb, c[0].data_ptr<float>()); },
         [&] { matmul_ikj(n, pa, pb, c[1].data_ptr<float>()); },
         [&] { matmul_jki(n, pa, pb, c[2].data_ptr<float>()); }, [&] { c[3] = matmul(a, b); }});
    const double ikj = ts[1].median;
    for (size_t v = 0; v < ts.size(); ++v) {
      consume(c[v].data_ptr<float>()[0]);
      // Same products summed in the same order (k = 0, 1, ...) in every variant: expect 0.
      const double diff = (c[v] - c[1]).abs().max().item<double>();
      out.push_back({{"n", n},
                     {"order", names[v].first},
                     {"time", to_json(ts[v])},
                     {"gflops", flops / ts[v].median / 1e9},
                     {"over_ikj", ts[v].median / ikj},
                     {"max_abs_diff_vs_ikj", diff}});
      table.add({std::to_string(n), names[v].first, names[v].second, human_time(ts[v].median),
                 fixed(flops / ts[v].median / 1e9, 2), ratio(ts[v].median / ikj), fixed(diff, 6)});
    }
    ijk_last = ts[0].median;
    ikj_last = ikj;
    jki_last = ts[2].median;
  }
  table.print();
  const int64_t nmax = sizes.back();
  meaning("At N = " + std::to_string(nmax) + " the loop order alone changes the speed by " +
          ratio(jki_last / ikj_last) + " (j-k-i) and " + ratio(ijk_last / ikj_last) +
          " (i-j-k) for identical flops and identical results. Arithmetic intensity is 2N³ flops "
          "over at least 3·N²·4 bytes = N/6 = " +
          fixed(static_cast<double>(nmax) / 6.0, 0) +
          " flop/byte, so matmul need not be memory-bound — but only if each cache line "
          "fetched is used fully. Blocked SIMD kernels (module 18) go much further.");
  return {{"sizes", sizes}, {"results", out}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// F. Memory budgets: bytes per element and what an image batch costs.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_memory(const Config& /*cfg*/) {
  heading("F", "Memory budgets",
          "Bytes per element (allocator bytes / numel of a fresh tensor), and what an "
          "ImageNet-style\n  [batch, 3, 224, 224] input costs.");
  Allocator* alloc = get_allocator();
  const int64_t probe = 1 << 20;
  const std::vector<std::pair<ScalarType, std::string>> dtypes = {
      {kBool, "bool"}, {kInt64, "int64"}, {kFloat32, "float32"}, {kFloat64, "float64"}};
  const std::vector<int64_t> image = {32, 3, 224, 224};
  Table t1({"dtype", "bytes/element", "[32, 3, 224, 224]", "vs float32"});
  json out_dtypes = json::object();
  const int64_t image_numel = compute_numel(image);
  for (const auto& [dt, name] : dtypes) {
    const int64_t before = alloc->stats().live_bytes;
    const Tensor t = empty({probe}, dt);
    const int64_t per = (alloc->stats().live_bytes - before) / probe;
    const double batch_bytes = static_cast<double>(per * image_numel);
    t1.add({name, std::to_string(per), human_bytes(batch_bytes),
            ratio(static_cast<double>(per) / static_cast<double>(element_size(kFloat32)))});
    out_dtypes[name] = {{"bytes_per_element", per}, {"batch32_bytes", batch_bytes}};
  }
  t1.print();
  std::cout << "\n";
  Table t2({"batch", "numel", "float32 bytes (allocated)", "per image"});
  json out_batches = json::array();
  for (const int64_t batch : {1, 32, 128, 256}) {
    const int64_t before = alloc->stats().live_bytes;
    const Tensor t = empty({batch, 3, 224, 224});  // uninitialised: the pages are never touched
    const int64_t bytes = alloc->stats().live_bytes - before;
    t2.add({std::to_string(batch), std::to_string(t.numel()),
            human_bytes(static_cast<double>(bytes)),
            human_bytes(static_cast<double>(bytes) / static_cast<double>(batch))});
    out_batches.push_back({{"batch", batch}, {"numel", t.numel()}, {"bytes", bytes}});
  }
  t2.print();
  const double b256 = out_batches.back()["bytes"].get<double>();
  meaning("A batch of 256 images is " + human_bytes(b256) +
          " before the network stores a single activation, and every layer's output is another "
          "tensor of similar size. The dtype is a multiplier on all of it: float64 doubles it; "
          "16-bit floats (later modules) halve it.");
  return {{"dtypes", out_dtypes}, {"image_batches", out_batches}};
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{
      .name = "lab01", .no_cache = true, .only_help = "e.g. --only AE (letters 0 A-F)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;

  const Config cfg{opts.quick, opts.quick ? 5 : 7, opts.quick ? 1 : 2};
  // This lab measures YOUR module-01 code, so it asks for the reference kernel tier (matmul =
  // your gemm_reference) even once a later module has registered faster kernels. The variable is
  // read once, at the first tensor operation; an explicit setting in the environment wins.
  if (std::getenv("TINYTORCH_KERNELS") == nullptr) kernels::set_tier(kernels::Tier::kReference);
  manual_seed(0);
  const Stopwatch stopwatch;
  // Tensors come from a caching allocator (with --no-cache the plain one); see LabAllocator in
  // lab_support.h for why. It outlives every tensor: it is removed at the end of main.
  const LabAllocator allocator(opts.no_cache);
  const char* env = std::getenv("TINYTORCH_KERNELS");
  const std::string kernels_env = env ? env : "(unset)";
  print_title("TinyTorch module 01 lab — memory layout, measured",
              cfg.quick ? " (--quick: small sizes)" : "");
  std::cout << "  Each time is the median of " << cfg.reps << " runs after " << cfg.warmup
            << " warm-up run(s); timings vary between runs and machines.\n"
            << "  Tensor memory: "
            << (opts.no_cache ? "the plain allocator (--no-cache)"
                              : "a caching allocator (freed blocks are reused; --no-cache to "
                                "disable)")
            << ".\n  Kernels: TINYTORCH_KERNELS=" << kernels_env
            << (kernels_env == "reference" ? " (the module-01 reference kernels)" : "") << ".\n";

  json doc = {{"lab", "01_tensor"},
              {"quick", cfg.quick},
              {"repeats", cfg.reps},
              {"warmup", cfg.warmup},
              {"caching_allocator", allocator.caching()},
              {"kernels_env", kernels_env},
              {"machine", machine_json()}};
  const int failed =
      run_experiments({{"0_tour", [] { return tour(); }},
                       {"a_traversal", [&] { return experiment_traversal(cfg); }},
                       {"b_strided", [&] { return experiment_strided(cfg); }},
                       {"c_broadcast", [&] { return experiment_broadcast(cfg); }},
                       {"d_views", [&] { return experiment_views(cfg); }},
                       {"e_matmul", [&] { return experiment_matmul(cfg, kernels_env); }},
                       {"f_memory", [&] { return experiment_memory(cfg); }}},
                      opts, "01", doc);
  const double total = stopwatch.wall_seconds();
  const double cpu = stopwatch.cpu_seconds();
  doc["total_seconds"] = total;
  doc["cpu_seconds"] = cpu;
  if (allocator.caching()) {
    const int64_t cached = allocator.cache().caching_stats().bytes_cached;
    doc["cache_reserved_bytes_at_exit"] = cached;
    std::cout << "\nThe caching allocator holds " << human_bytes(static_cast<double>(cached))
              << " of freed blocks for reuse (what torch.cuda.memory_reserved() would count).\n";
  }
  print_done(total, failed);
  // The lab runs on one thread, so CPU time ≈ wall time unless other programs took turns on our
  // core.
  print_cpu_share(total, cpu);
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
