// Module 05 lab — Use + Reflect: what automatic differentiation costs, measured on YOUR machine.
//
//   ./tito lab 05                 the full run (about 2 s on the 2-core course VM)
//   ./tito lab 05 --quick         small sizes, a few seconds (a smoke test)
//   ./tito lab 05 --json out.json also write every measured figure to out.json
//   ./tito lab 05 --only CE       only some experiments (0, A-E)
//
// Every number this program prints is measured (std::chrono::steady_clock, warm-up runs, then
// the median of several repeats) or counted (tensor bytes from tinytorch's allocator, heap
// allocations from a counting operator new). Nothing is hard-coded. The experiments follow the
// chapter (modules/05_autograd/README.md, "The lab"):
//
//   0  inside a graph        the nodes, edges and dependency counts of a small loss
//   A  recording overhead    one op with and without requires_grad, tiny and large tensors
//   B  backward vs forward   a chain of 1,000 small ops, and a chain of matmuls
//   C  memory                what a 784-256-128-10 MLP's graph keeps alive, before and after
//                            backward; how it grows with the batch
//   D  gradcheck cost        time and function evaluations vs the number of inputs and outputs
//   E  finite differences    numerical vs analytical gradient error as eps shrinks, float32 vs
//                            float64
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lab_support/heap_counter.h"
#include "lab_support/lab_support.h"
#include "tinytorch/autograd/engine.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/autograd/graph_viz.h"
#include "tinytorch/autograd/node.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/logging.h"

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;  // the shared lab code: timing, tables, the command line
using autograd::Node;

// Heap allocations (operator new calls, counted by lab_support/heap_counter.h) made by one call
// of f: recording a graph node allocates no tensor bytes, but the node, its edges, its saved
// tensors' handles and the output's AutogradMeta live on the ordinary C++ heap.
template <typename F>
int64_t count_heap_allocs(F&& f) {
  const int64_t h0 = heap_allocations();
  f();
  return heap_allocations() - h0;
}

// A difference of two medians can come out negative when the true difference is below the noise.
std::string signed_time(double seconds) {
  return (seconds < 0 ? "−" : "+") + human_time(std::abs(seconds));
}

// Random float32/float64 tensors from a fixed seed.
Tensor randn_scaled(std::vector<int64_t> shape, double scale, ScalarType dtype, Generator& gen) {
  return randn(shape, dtype, &gen).mul(scale);
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// The graph drawn: autograd::to_dot's text always, and a picture when Graphviz's `dot` is
// installed (Debian's graphviz package). Both files are written whole or not at all.
json draw_graph(const Tensor& loss, const OrderedDict<std::string, Tensor>& names) {
  const std::string dir = "runs/lab05";
  const std::string dot_path = dir + "/autograd_graph.dot";
  const std::string svg_path = dir + "/autograd_graph.svg";
  std::filesystem::create_directories(dir);
  train::write_file_atomically(dot_path, autograd::to_dot(loss, names));
  json out = {{"dot", dot_path}};
  const std::string tmp = svg_path + ".tmp";
  if (std::system("command -v dot > /dev/null 2>&1") == 0 &&
      std::system(("dot -Tsvg " + dot_path + " -o " + tmp).c_str()) == 0) {
    std::filesystem::rename(tmp, svg_path);
    out["svg"] = svg_path;
    std::cout << "\n  drawn: " << svg_path << " (from " << dot_path << ")\n";
  } else {
    std::filesystem::remove(tmp);
    std::cout << "\n  the graph as Graphviz text: " << dot_path
              << " (install graphviz to draw it: dot -Tsvg " << dot_path << " -o graph.svg)\n";
  }
  return out;
}

// 0. Inside a graph: what loss.grad_fn points at.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json tour() {
  heading("0", "Inside a graph",
          "loss = relu(x·W + b).sum() + 0.01·(W²).sum()   x: [2, 3] data, W: [3, 2] and b: [2] "
          "parameters.\n  The graph, read from loss.grad_fn along next_edges (the backward "
          "direction). \"deps\" is the\n  number of edges pointing at a node: the engine runs "
          "it after that many gradients arrived.");
  Generator gen(1);
  const Tensor x = randn({2, 3}, kFloat32, &gen);
  Tensor w = randn({3, 2}, kFloat32, &gen).set_requires_grad(true);
  Tensor b = zeros({2}, kFloat32).set_requires_grad(true);
  const Tensor loss = (x.matmul(w) + b).clamp_min(0.0).sum() + w.pow(2.0).sum() * 0.01;

  // Dependency counts, as the engine computes them (engine.cpp, step 1).
  std::map<const Node*, int> deps;
  std::vector<const Node*> stack = {loss.grad_fn().get()};
  std::set<const Node*> seen = {loss.grad_fn().get()};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    for (const auto& e : n->next_edges()) {
      if (!e.is_valid()) continue;
      ++deps[e.function.get()];
      if (seen.insert(e.function.get()).second) stack.push_back(e.function.get());
    }
  }
  // Sequence numbers count every node ever created in the process; show them relative to the
  // oldest op node of this graph (AccumulateGrad's is the maximum, so that it runs early).
  uint64_t first_seq = std::numeric_limits<uint64_t>::max();
  int op_nodes = 0, sinks = 0;
  for (const Node* n : seen) {
    if (n->name() == "AccumulateGrad") {
      ++sinks;
    } else {
      ++op_nodes;
      first_seq = std::min(first_seq, n->sequence_nr());
    }
  }
  // Print the graph as a tree; a node reached a second time is marked instead of repeated.
  json nodes = json::array();
  std::set<const Node*> printed;
  std::function<void(const Node*, const std::string&, bool, const std::string&)> show =
      [&](const Node* n, const std::string& prefix, bool last, const std::string& label) {
        const std::string branch = prefix.empty() && label.empty() ? "" : (last ? "└─ " : "├─ ");
        const bool again = printed.count(n) > 0;
        std::string seq = n->name() == "AccumulateGrad"
                              ? "seq max"
                              : "seq " + std::to_string(n->sequence_nr() - first_seq);
        std::cout << "  " << prefix << branch << label << n->name() << "  (" << seq << ", deps "
                  << deps[n] << ")" << (again ? "  ← the same node again" : "") << "\n";
        if (again) return;
        printed.insert(n);
        nodes.push_back(
            {{"name", n->name()}, {"dependencies", deps[n]}, {"edges", n->num_inputs()}});
        const std::string child_prefix =
            prefix + (prefix.empty() && label.empty() ? "" : (last ? "   " : "│  "));
        for (size_t i = 0; i < n->num_inputs(); ++i) {
          const auto& e = n->next_edge(i);
          const bool is_last = i + 1 == n->num_inputs();
          if (!e.is_valid()) {
            std::cout << "  " << child_prefix << (is_last ? "└─ " : "├─ ") << "input " << i
                      << ": (no gradient needed)\n";
            continue;
          }
          show(e.function.get(), child_prefix, is_last, "input " + std::to_string(i) + ": ");
        }
      };
  show(loss.grad_fn().get(), "", true, "");
  OrderedDict<std::string, Tensor> names;
  names.insert("W", w);
  names.insert("b", b);
  const json files = draw_graph(loss, names);
  loss.backward();
  std::cout << "\n  after loss.backward():  W.grad " << shape_str(w.grad().sizes()) << ", b.grad "
            << shape_str(b.grad().sizes()) << "; x.grad is "
            << (x.grad().defined() ? "defined" : "undefined (x does not require grad)") << "\n";
  meaning(std::to_string(op_nodes) + " op nodes (seq: creation order) and " +
          std::to_string(sinks) +
          " AccumulateGrad sinks. W is read twice (matmul and pow), so its "
          "AccumulateGrad has 2 dependencies: the engine adds both gradients before it runs. "
          "The edge for x is invalid: nothing upstream wants its gradient, so MmBackward0 skips "
          "computing it (x·Wᵀ would cost a whole matmul).");
  return {
      {"nodes", nodes}, {"op_nodes", op_nodes}, {"accumulate_grad_nodes", sinks}, {"files", files}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// A. Recording overhead: the same op with and without a graph.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_overhead(const Config& cfg) {
  const int64_t big_side = cfg.quick ? 256 : 1024;
  heading("A", "Recording overhead",
          "Time per call of one op on float32 inputs that do / do not require grad. \"tiny\": "
          "[4, 4]\n  (matmul 4×4·4×4); \"large\": [" +
              std::to_string(big_side) + ", " + std::to_string(big_side) +
              "] (matmul 256×256·256×256). The recorded variant builds\n  one node per call "
              "(freed right after); heap = operator new calls per op.");
  Generator gen(2);
  struct Op {
    std::string name;
    std::function<Tensor(const Tensor&, const Tensor&)> fn;
    bool matmul;
  };
  const std::vector<Op> ops = {
      {"a + b   (saves nothing)", [](const Tensor& a, const Tensor& b) { return a + b; }, false},
      {"a * b   (saves a, b)", [](const Tensor& a, const Tensor& b) { return a * b; }, false},
      {"a.exp() (saves output)", [](const Tensor& a, const Tensor&) { return a.exp(); }, false},
      {"a.sum()", [](const Tensor& a, const Tensor&) { return a.sum(); }, false},
      {"a.matmul(b)", [](const Tensor& a, const Tensor& b) { return a.matmul(b); }, true},
  };
  Table table({"op", "size", "plain", "recorded", "overhead", "overhead/plain", "heap plain",
               "heap recorded"});
  json out = json::array();
  std::vector<double> tiny_overheads, tiny_ratios;
  for (const bool large : {false, true}) {
    for (const Op& op : ops) {
      std::vector<int64_t> shape =
          large ? std::vector<int64_t>{big_side, big_side} : std::vector<int64_t>{4, 4};
      if (op.matmul && large) shape = {256, 256};
      const Tensor a = randn(shape, kFloat32, &gen), b = randn(shape, kFloat32, &gen);
      const Tensor ag = a.clone().set_requires_grad(true), bg = b.clone().set_requires_grad(true);
      // Tiny ops are timed in batches of a few hundred calls (a clock read costs more than one
      // tiny op); large ones one call at a time.
      const int64_t calls = large ? 1 : (cfg.quick ? 200 : 300);
      const int reps = large ? cfg.reps : (cfg.quick ? 9 : 21);
      auto loop = [&](const Tensor& x, const Tensor& y) {
        return [&, x, y] {
          double acc = 0;
          for (int64_t i = 0; i < calls; ++i) acc += static_cast<double>(op.fn(x, y).numel());
          consume(acc);
        };
      };
      const std::vector<Timing> ts =
          measure_round_robin(cfg.warmup, reps, {loop(a, b), loop(ag, bg)}, calls);
      const int64_t heap_plain = count_heap_allocs([&] { consume(op.fn(a, b).numel()); });
      const int64_t heap_rec = count_heap_allocs([&] { consume(op.fn(ag, bg).numel()); });
      const double over = ts[1].median - ts[0].median;
      if (!large) {
        tiny_overheads.push_back(over);
        tiny_ratios.push_back(ts[1].median / ts[0].median);
      }
      table.add({op.name, large ? "large" : "tiny", human_time(ts[0].median),
                 human_time(ts[1].median), signed_time(over), ratio(ts[1].median / ts[0].median),
                 std::to_string(heap_plain), std::to_string(heap_rec)});
      out.push_back({{"op", op.name},
                     {"shape", shape},
                     {"plain", to_json(ts[0])},
                     {"recorded", to_json(ts[1])},
                     {"overhead_s", over},
                     {"heap_allocs_plain", heap_plain},
                     {"heap_allocs_recorded", heap_rec}});
    }
  }
  table.print();
  // NoGradGuard: inputs that require grad, but nothing recorded.
  const Tensor ag = randn({4, 4}, kFloat32, &gen).set_requires_grad(true);
  const Tensor bg = randn({4, 4}, kFloat32, &gen).set_requires_grad(true);
  const Tensor a = ag.detach(), b = bg.detach();
  const int64_t calls = cfg.quick ? 200 : 300;
  const std::vector<Timing> guard =
      measure_round_robin(cfg.warmup, cfg.quick ? 9 : 21,
                          {[&] {
                             double acc = 0;
                             for (int64_t i = 0; i < calls; ++i)
                               acc += static_cast<double>((a * b).numel());
                             consume(acc);
                           },
                           [&] {
                             NoGradGuard no_grad;
                             double acc = 0;
                             for (int64_t i = 0; i < calls; ++i)
                               acc += static_cast<double>((ag * bg).numel());
                             consume(acc);
                           }},
                          calls);
  std::cout << "\n  tiny a * b, inputs requiring grad, inside a NoGradGuard: "
            << human_time(guard[1].median) << " (plain: " << human_time(guard[0].median) << ")\n";
  std::sort(tiny_overheads.begin(), tiny_overheads.end());
  const double med_over = tiny_overheads[tiny_overheads.size() / 2];
  std::sort(tiny_ratios.begin(), tiny_ratios.end());
  meaning("Recording costs a roughly constant " + human_time(med_over) +
          " per op (the median over the tiny ops): a node, its edges, the saved handles, the "
          "output's AutogradMeta — about 10-20 more C++ heap allocations, none of them tensor "
          "bytes. On tiny tensors that makes the op " +
          ratio(tiny_ratios.front()) + "–" + ratio(tiny_ratios.back()) +
          " as expensive; on large ones it disappears in the noise of the arithmetic. Under "
          "NoGradGuard the same inputs cost what plain ones do. This is why inference runs "
          "under no_grad, and why frameworks fight per-op overhead (Production context).");
  return {{"ops", out},
          {"tiny_median_overhead_s", med_over},
          {"no_grad_guard", {{"plain", to_json(guard[0])}, {"guarded", to_json(guard[1])}}}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// B. Backward vs forward.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_backward(const Config& cfg) {
  const int64_t chain = cfg.quick ? 300 : 1000;
  const int64_t n = cfg.quick ? 96 : 256;
  const int layers = 4;
  heading("B", "Backward vs forward",
          "B1: y = y · 1.0001 repeated " + std::to_string(chain) +
              " times on a [16] float32 tensor: time per node, forward\n  without and with "
              "recording, and backward.\n  B2: y = x·W₁·W₂·W₃·W₄, loss = y.sum(), all " +
              std::to_string(n) + "×" + std::to_string(n) +
              " float32: forward vs backward, with x as data (backward runs\n  3 + 4 "
              "matmuls) and with x requiring grad (4 + 4).");
  Generator gen(3);
  // B1
  const Tensor x16 = randn({16}, kFloat32, &gen).set_requires_grad(true);
  const Tensor x16_plain = x16.detach();
  Tensor loss1;
  auto forward_chain = [&](const Tensor& start) {
    Tensor y = start;
    for (int64_t i = 0; i < chain; ++i) y = y * 1.0001;
    return y.sum();
  };
  const int reps = cfg.quick ? cfg.reps : 21;
  std::vector<double> fwd_plain, fwd_rec, bwd;
  for (int i = 0; i < cfg.warmup + reps; ++i) {
    const double t0 = now_seconds();
    consume(forward_chain(x16_plain).item<double>());
    const double t1 = now_seconds();
    loss1 = forward_chain(x16);
    const double t2 = now_seconds();
    loss1.backward();
    const double t3 = now_seconds();
    loss1 = Tensor();  // the graph goes here (not timed)
    if (i < cfg.warmup) continue;
    fwd_plain.push_back(t1 - t0);
    fwd_rec.push_back(t2 - t1);
    bwd.push_back(t3 - t2);
  }
  const Timing tp = summarise(fwd_plain), tr = summarise(fwd_rec), tb = summarise(bwd);
  const double nodes = static_cast<double>(chain + 1);
  Table t1({"B1: chain of tiny ops", "total", "per node"});
  t1.add({"forward, no graph", human_time(tp.median), human_time(tp.median / nodes)});
  t1.add({"forward, recording", human_time(tr.median), human_time(tr.median / nodes)});
  t1.add({"backward", human_time(tb.median), human_time(tb.median / nodes)});
  t1.print();

  // B2
  std::vector<Tensor> ws;
  for (int l = 0; l < layers; ++l) {
    ws.push_back(randn_scaled({n, n}, 1.0 / std::sqrt(static_cast<double>(n)), kFloat32, gen)
                     .set_requires_grad(true));
  }
  const Tensor xd = randn({n, n}, kFloat32, &gen);
  Tensor xg = xd.clone().set_requires_grad(true);
  auto forward_mm = [&](const Tensor& x) {
    Tensor y = x;
    for (const Tensor& w : ws) y = y.matmul(w);
    return y.sum();
  };
  json b2 = json::array();
  Table t2({"B2: matmul chain", "forward", "backward", "backward / forward", "matmuls fwd : bwd"});
  double ratio_data = 0, ratio_grad = 0;
  for (const bool input_grad : {false, true}) {
    const Tensor& x = input_grad ? xg : xd;
    std::vector<double> f, bw;
    for (int i = 0; i < cfg.warmup + reps; ++i) {
      for (Tensor& w : ws) w.mutable_grad() = Tensor();
      xg.mutable_grad() = Tensor();
      const double t0 = now_seconds();
      Tensor loss = forward_mm(x);
      const double t1 = now_seconds();
      loss.backward();
      const double t2 = now_seconds();
      if (i < cfg.warmup) continue;
      f.push_back(t1 - t0);
      bw.push_back(t2 - t1);
    }
    const Timing tf = summarise(f), tbw = summarise(bw);
    const double r = tbw.median / tf.median;
    (input_grad ? ratio_grad : ratio_data) = r;
    const int bwd_mm = input_grad ? 2 * layers : 2 * layers - 1;
    t2.add({input_grad ? "x requires grad" : "x is data", human_time(tf.median),
            human_time(tbw.median), ratio(r),
            std::to_string(layers) + " : " + std::to_string(bwd_mm)});
    b2.push_back({{"input_requires_grad", input_grad},
                  {"forward", to_json(tf)},
                  {"backward", to_json(tbw)},
                  {"backward_over_forward", r},
                  {"matmuls_forward", layers},
                  {"matmuls_backward", bwd_mm}});
  }
  std::cout << "\n";
  t2.print();
  meaning("B1: on tiny tensors the cost per node is pure bookkeeping — recording adds " +
          human_time((tr.median - tp.median) / nodes) +
          " per op here (more than in experiment A: this graph stays alive until backward, so "
          "every node, handle and output is new memory, where A got back the blocks it had just "
          "freed), and backward spends " +
          human_time(tb.median / nodes) +
          " per node (run the formula, add into the next buffer, free the saved tensors). B2: "
          "with real arithmetic the ratio follows the matmul count: backward/forward = " +
          ratio(ratio_data) + " when x is data (7 matmuls for 4: " + ratio(7.0 / 4.0) +
          " expected) and " + ratio(ratio_grad) +
          " when x requires grad (8 for 4: 2.00× expected). Forward + backward ≈ 3 forwards: the "
          "rule of thumb for the cost of a training step.");
  return {{"chain_length", chain},
          {"chain_forward_plain", to_json(tp)},
          {"chain_forward_recording", to_json(tr)},
          {"chain_backward", to_json(tb)},
          {"chain_backward_per_node_s", tb.median / nodes},
          {"chain_recording_overhead_per_node_s", (tr.median - tp.median) / nodes},
          {"matmul_n", n},
          {"matmul_layers", layers},
          {"matmul_chain", b2}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// C. Memory: what the graph of an MLP keeps alive.
// ═════════════════════════════════════════════════════════════════════════════════════════════
struct Mlp {
  std::vector<Tensor> w, b;  // weights [in, out] (module-01 form) or [out, in] (linear form)
};

Mlp make_mlp(const std::vector<int64_t>& sizes, bool linear_layout, Generator& gen) {
  Mlp m;
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    const int64_t in = sizes[l], out = sizes[l + 1];
    const double scale = 1.0 / std::sqrt(static_cast<double>(in));
    m.w.push_back(
        randn_scaled(linear_layout ? std::vector<int64_t>{out, in} : std::vector<int64_t>{in, out},
                     scale, kFloat32, gen)
            .set_requires_grad(true));
    m.b.push_back(zeros({out}, kFloat32).set_requires_grad(true));
  }
  return m;
}

// The MLP with module-01 ops only: matmul, +, clamp_min(0) as ReLU, squared error.
Tensor forward_module01(const Mlp& m, const Tensor& x, const Tensor& onehot) {
  Tensor h = x;
  for (size_t l = 0; l < m.w.size(); ++l) {
    h = h.matmul(m.w[l]) + m.b[l];
    if (l + 1 < m.w.size()) h = h.clamp_min(0.0);
  }
  return (h - onehot).pow(2.0).mean();
}

// The same MLP with the fused ops of modules 02-04: linear, relu, cross_entropy.
Tensor forward_fused(const Mlp& m, const Tensor& x, const Tensor& labels) {
  Tensor h = x;
  for (size_t l = 0; l < m.w.size(); ++l) {
    h = linear(h, m.w[l], m.b[l]);
    if (l + 1 < m.w.size()) h = relu(h);
  }
  return cross_entropy(h, labels);
}

struct MemRow {
  int64_t params = 0, data = 0;
  int64_t nograd_peak = 0, nograd_after = 0;
  int64_t graph_peak = 0, graph_kept = 0;
  int64_t after_backward = 0, after_backward_retained = 0, after_drop = 0;
};

json to_json(const MemRow& r) {
  return {{"params_bytes", r.params},
          {"data_bytes", r.data},
          {"no_grad_forward_peak_extra", r.nograd_peak},
          {"no_grad_forward_kept", r.nograd_after},
          {"grad_forward_peak_extra", r.graph_peak},
          {"graph_kept", r.graph_kept},
          {"after_backward", r.after_backward},
          {"after_backward_retain_graph", r.after_backward_retained},
          {"after_dropping_loss_and_grads", r.after_drop}};
}

// All byte figures are tensor bytes above the live bytes of (parameters + data).
MemRow measure_mlp(const std::vector<int64_t>& sizes, int64_t batch, bool fused) {
  Allocator* alloc = get_allocator();
  Generator gen(4);
  MemRow r;
  const int64_t live0 = alloc->stats().live_bytes;
  Mlp m = make_mlp(sizes, fused, gen);
  const int64_t live1 = alloc->stats().live_bytes;
  r.params = live1 - live0;
  const Tensor x = randn({batch, sizes.front()}, kFloat32, &gen);
  const Tensor labels = randint(0, sizes.back(), {batch}, kInt64, &gen);
  Tensor onehot = zeros({batch, sizes.back()}, kFloat32);
  {
    const std::vector<int64_t> lab = labels.to_vector<int64_t>();
    float* p = onehot.data_ptr<float>();
    for (int64_t i = 0; i < batch; ++i) p[i * sizes.back() + lab[static_cast<size_t>(i)]] = 1.0F;
  }
  const int64_t base = alloc->stats().live_bytes;
  r.data = base - live1;
  auto fwd = [&] { return fused ? forward_fused(m, x, labels) : forward_module01(m, x, onehot); };
  {
    NoGradGuard no_grad;
    alloc->reset_peak();
    Tensor loss = fwd();
    r.nograd_peak = alloc->stats().peak_bytes - base;
    r.nograd_after = alloc->stats().live_bytes - base;
  }
  for (const bool retain : {false, true}) {
    alloc->reset_peak();
    Tensor loss = fwd();
    if (!retain) {
      r.graph_peak = alloc->stats().peak_bytes - base;
      r.graph_kept = alloc->stats().live_bytes - base;
    }
    loss.backward({}, retain);
    (retain ? r.after_backward_retained : r.after_backward) = alloc->stats().live_bytes - base;
    loss = Tensor();
    for (Tensor& t : m.w) t.mutable_grad() = Tensor();
    for (Tensor& t : m.b) t.mutable_grad() = Tensor();
    r.after_drop = alloc->stats().live_bytes - base;
  }
  return r;
}

json experiment_memory(const Config& cfg) {
  const std::vector<int64_t> sizes = {784, 256, 128, 10};
  heading("C", "Memory: what the graph keeps alive",
          "MLP 784-256-128-10, float32, batch 64. Tensor bytes from the allocator, ABOVE the "
          "parameters and\n  the input batch (which are alive anyway). Two forms of the same "
          "network: module-01 ops\n  (matmul, +, clamp_min(0), squared error) and modules "
          "02-04's fused ops (linear, relu, cross_entropy).");
  Table table({"", "module-01 ops", "linear/relu/CE"});
  const MemRow a = measure_mlp(sizes, 64, false);
  const MemRow b = measure_mlp(sizes, 64, true);
  auto row = [&](const std::string& name, int64_t va, int64_t vb) {
    table.add(
        {name, human_bytes(static_cast<double>(va), 2), human_bytes(static_cast<double>(vb), 2)});
  };
  row("parameters (for scale)", a.params, b.params);
  row("data: x [64, 784], labels, one-hot (for scale)", a.data, b.data);
  row("forward under NoGradGuard: peak", a.nograd_peak, b.nograd_peak);
  row("forward under NoGradGuard: kept after", a.nograd_after, b.nograd_after);
  row("forward with graph: peak", a.graph_peak, b.graph_peak);
  row("forward with graph: kept (saved tensors)", a.graph_kept, b.graph_kept);
  row("after backward()", a.after_backward, b.after_backward);
  row("after backward(retain_graph=true)", a.after_backward_retained, b.after_backward_retained);
  row("after dropping loss and grads", a.after_drop, b.after_drop);
  table.print();

  // What the saved activations should be, counted by hand (float32 = 4 bytes).
  const int64_t batch = 64;
  const int64_t pre = batch * (256 + 128) * 4;   // clamp saves its INPUT (pre-activation)
  const int64_t post = batch * (256 + 128) * 4;  // the next matmul saves its input (post-act.)
  const int64_t loss_a = 2 * batch * 10 * 4;     // pow saves (out - y) and its result
  const int64_t expect_a = pre + post + loss_a;
  const int64_t expect_b = post + batch * 10 * 4;  // relu saves its OUTPUT = the next input;
                                                   // log_softmax saves its output [64, 10]
  std::cout << "\n  counted by hand: module-01 form "
            << human_bytes(static_cast<double>(expect_a), 2)
            << " (pre- and post-activations + the loss's two [64, 10]),\n"
            << "                   fused form     " << human_bytes(static_cast<double>(expect_b), 2)
            << " (post-activations only + log-probabilities [64, 10]) + small terms\n";

  // Batch scaling.
  std::vector<int64_t> batches =
      cfg.quick ? std::vector<int64_t>{64, 256} : std::vector<int64_t>{64, 256, 1024};
  Table scale({"batch", "graph keeps (mod-01)", "per sample", "graph keeps (fused)", "per sample",
               "vs parameters (fused)"});
  json scaling = json::array();
  for (const int64_t bsz : batches) {
    const MemRow ra = measure_mlp(sizes, bsz, false);
    const MemRow rb = measure_mlp(sizes, bsz, true);
    const double bd = static_cast<double>(bsz);
    scale.add({std::to_string(bsz), human_bytes(static_cast<double>(ra.graph_kept), 2),
               human_bytes(static_cast<double>(ra.graph_kept) / bd, 2),
               human_bytes(static_cast<double>(rb.graph_kept), 2),
               human_bytes(static_cast<double>(rb.graph_kept) / bd, 2),
               ratio(static_cast<double>(rb.graph_kept) / static_cast<double>(rb.params))});
    scaling.push_back({{"batch", bsz}, {"module01", to_json(ra)}, {"fused", to_json(rb)}});
  }
  std::cout << "\n";
  scale.print();
  meaning("The graph keeps " + human_bytes(static_cast<double>(a.graph_kept), 2) +
          " (module-01 form) / " + human_bytes(static_cast<double>(b.graph_kept), 2) +
          " (fused) of activations alive between forward and backward — memory that inference "
          "under NoGradGuard never holds (it keeps only the loss). backward() without "
          "retain_graph frees them as it goes: what is left is the gradients, one per parameter "
          "(" +
          human_bytes(static_cast<double>(a.after_backward), 2) +
          "). With retain_graph the activations stay too. The fused form keeps less because "
          "relu saves its output — the same tensor the next layer saves as its input — while "
          "clamp saves its input, a second tensor per layer. Activations grow with the batch; "
          "parameters do not: that is why batch size is the memory knob in training.");
  return {{"sizes", sizes},
          {"batch64_module01", to_json(a)},
          {"batch64_fused", to_json(b)},
          {"counted_by_hand_module01", expect_a},
          {"counted_by_hand_fused", expect_b},
          {"batch_scaling", scaling}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// D. gradcheck cost.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_gradcheck(const Config& cfg) {
  const std::vector<int64_t> ns =
      cfg.quick ? std::vector<int64_t>{4, 16, 64} : std::vector<int64_t>{4, 16, 64, 256};
  const int reps = cfg.quick ? 3 : 7;
  heading("D", "gradcheck: cost vs inputs and outputs",
          "gradcheck(f, {x}) for x of n float64 elements. scalar: f = (x·x).exp().sum() (1 "
          "output);\n  element-wise: f = (x·x).exp() (n outputs). Counted: calls of f and "
          "backward passes (one per\n  output element). Time: the median of " +
              std::to_string(reps) + " gradchecks.");
  Generator gen(5);
  Table table({"n", "output", "Jacobian entries", "f calls", "backward passes", "time",
               "time / (f calls + passes)", "ok"});
  json out = json::array();
  for (const bool elementwise : {false, true}) {
    for (const int64_t n : ns) {
      const Tensor x = rand({n}, kFloat64, &gen).set_requires_grad(true);
      int64_t calls = 0;
      auto f = [&](const std::vector<Tensor>& in) {
        ++calls;
        const Tensor y = (in[0] * in[0]).exp();
        return elementwise ? y : y.sum();
      };
      bool ok = true;
      std::vector<double> secs;
      for (int r = 0; r < reps; ++r) {
        calls = 0;
        const double t0 = now_seconds();
        ok = autograd::gradcheck(f, {x}).ok && ok;
        secs.push_back(now_seconds() - t0);
      }
      const Timing t = summarise(secs);
      const int64_t outputs = elementwise ? n : 1;
      const double steps = static_cast<double>(calls + outputs);
      table.add({std::to_string(n), elementwise ? "element-wise (n)" : "scalar (1)",
                 std::to_string(n * outputs), std::to_string(calls), std::to_string(outputs),
                 human_time(t.median), human_time(t.median / steps), ok ? "yes" : "NO"});
      out.push_back({{"n", n},
                     {"outputs", outputs},
                     {"jacobian_entries", n * outputs},
                     {"f_calls", calls},
                     {"backward_passes", outputs},
                     {"time", to_json(t)},
                     {"ok", ok}});
    }
  }
  table.print();
  const size_t k = ns.size();
  auto best = [&](size_t i) { return out[i]["time"]["median_s"].get<double>(); };
  meaning(
      "gradcheck fills the whole Jacobian: 2 calls of f per input element (x ± eps, each "
      "giving a column) plus 1 backward pass per output element (each giving a row). From n = " +
      std::to_string(ns.front()) + " to n = " + std::to_string(ns.back()) +
      " the scalar check took " + ratio(best(k - 1) / best(0)) +
      " longer and the element-wise one " + ratio(best(2 * k - 1) / best(k)) +
      ". While the tensors are tiny, each call costs about the same (per-op overhead), so "
      "time follows the count of calls and passes; once f's own work grows with n, the "
      "cost becomes O(n · (inputs + outputs)). This is why gradcheck runs on tiny tensors, "
      "and why PyTorch added fast_mode (a random projection of the Jacobian instead of all "
      "of it).");
  return {{"results", out}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// E. Finite differences: error vs eps in float32 and float64.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_eps(const Config& /*cfg*/) {
  heading("E", "Finite differences: why gradcheck wants float64",
          "f(x) = Σ x·exp(x) for 16 values x in [-1, 1]. The exact gradient (1 + x)·exp(x) "
          "comes from\n  backward in float64; the numerical one is (f(x + eps·eᵢ) − f(x − "
          "eps·eᵢ)) / 2eps, with f\n  evaluated by tinytorch in float32 or float64. Shown: "
          "the largest |numerical − exact| / max|exact|.");
  Generator gen(6);
  const Tensor x64 = rand({16}, kFloat64, &gen).mul(2.0).sub(1.0).set_requires_grad(true);
  (x64 * x64.exp()).sum().backward();
  const std::vector<double> exact = x64.grad().to_vector<double>();
  double scale = 0;
  for (double e : exact) scale = std::max(scale, std::abs(e));
  const std::vector<double> xs = x64.detach().to_vector<double>();

  auto numerical_error = [&](ScalarType dt, double eps) {
    NoGradGuard no_grad;
    double worst = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      std::vector<double> plus = xs, minus = xs;
      plus[i] += eps;
      minus[i] -= eps;
      const Tensor tp = from_vector(plus, {16}, dt), tm = from_vector(minus, {16}, dt);
      // Divided by the nominal 2·eps, as gradcheck does. In float32 both roundings show: of
      // x ± eps to float32 (below about 3e-8 · |x| the perturbation vanishes entirely and the
      // quotient is 0), and of f's value, whose last-bit noise is divided by 2·eps.
      const double fp = (tp * tp.exp()).sum().item<double>();
      const double fm = (tm * tm.exp()).sum().item<double>();
      const double numerical = (fp - fm) / (2 * eps);
      worst = std::max(worst, std::abs(numerical - exact[i]) / scale);
    }
    return worst;
  };
  const std::vector<double> epsilons = {1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9};
  Table table({"eps", "float32 error", "float64 error"});
  json out = json::array();
  double best32 = 1e300, best64 = 1e300, eps32 = 0, eps64 = 0, at_default32 = 0, at_default64 = 0;
  for (const double eps : epsilons) {
    const double e32 = numerical_error(kFloat32, eps), e64 = numerical_error(kFloat64, eps);
    if (e32 < best32) {
      best32 = e32;
      eps32 = eps;
    }
    if (e64 < best64) {
      best64 = e64;
      eps64 = eps;
    }
    if (eps == 1e-6) {
      at_default32 = e32;
      at_default64 = e64;
    }
    table.add({sci(eps, 1), sci(e32, 1), sci(e64, 1)});
    out.push_back({{"eps", eps}, {"float32_rel_error", e32}, {"float64_rel_error", e64}});
  }
  table.print();
  const double u32 = std::numeric_limits<float>::epsilon() / 2;
  const double u64 = std::numeric_limits<double>::epsilon() / 2;
  std::cout << "\n  theory: truncation error ≈ eps²·|f'''|/6 falls with eps, rounding error ≈ "
               "u·|f|/eps grows;\n  they cross near eps ≈ u^(1/3): "
            << sci(std::cbrt(u32), 1) << " for float32 (u = " << sci(u32, 1) << "), "
            << sci(std::cbrt(u64), 1) << " for float64 (u = " << sci(u64, 1) << ")\n";
  meaning("float64 reaches " + sci(best64, 1) + " (at eps = " + sci(eps64, 1) +
          "); float32 at best " + sci(best32, 1) + " (at eps = " + sci(eps32, 1) +
          "). At gradcheck's eps = 1e-6 float64 is " + sci(at_default64, 1) +
          " off — far inside atol 1e-5 + rtol 1e-3 — while float32 is " + sci(at_default32, 1) +
          " off: its rounding noise, divided by 2·eps, swamps the difference. A float32 "
          "gradcheck would either fail correct formulas or need tolerances loose enough to pass "
          "wrong ones.");
  return {{"function", "sum(x * exp(x)), 16 values in [-1, 1]"},
          {"results", out},
          {"best_float32", {{"eps", eps32}, {"rel_error", best32}}},
          {"best_float64", {{"eps", eps64}, {"rel_error", best64}}}};
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{.name = "lab05", .only_help = "e.g. --only CE (letters 0 A-E)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;

  const Config cfg{opts.quick, opts.quick ? 5 : 11, opts.quick ? 1 : 2};
  manual_seed(0);
  // One thread, unless TINYTORCH_NUM_THREADS says otherwise: the lab compares costs within one
  // run, and a multi-threaded matmul on a busy machine makes those comparisons noisy.
  if (std::getenv("TINYTORCH_NUM_THREADS") == nullptr) set_num_threads(1);
  // The clock is the CPU time of this thread (CLOCK_THREAD_CPUTIME_ID), not the wall clock. On a
  // shared machine the wall clock also counts the time other programs held the core — for a
  // 2-millisecond measurement that can be several times the work itself — while the thread's CPU
  // time counts only the time our code ran. (Caches and memory bandwidth are still shared, so
  // results still vary a little.) This is only right while every op runs on this one thread; if
  // TINYTORCH_NUM_THREADS asks for more, the lab falls back to the wall clock and says so.
  use_thread_cpu_clock(get_num_threads() == 1);
  const Stopwatch stopwatch;
  // Tensors come from a caching allocator (freed blocks are reused), as in module 01's lab, so
  // timings show the work and not the operating system's page faults; its statistics still count
  // live bytes exactly as tensors asked for them, which is what experiment C reads.
  const LabAllocator allocator(/*plain_only=*/false);
  const char* env = std::getenv("TINYTORCH_KERNELS");
  const std::string kernels_env = env ? env : "(unset)";
  const bool fast = kernels::tier() == kernels::Tier::kFast && kernels::fast_kernels().sgemm;
  print_title("TinyTorch module 05 lab — automatic differentiation, measured",
              cfg.quick ? " (--quick: small sizes)" : "");
  std::cout << "  Times: "
            << (using_thread_cpu_clock() ? "CPU time of the lab's thread" : "wall clock")
            << ", the median of " << cfg.reps << " runs after " << cfg.warmup
            << " warm-up run(s) unless said otherwise;\n  they vary between runs and machines.\n"
            << "  Matmul kernels: " << (fast ? "fast tier (module 18)" : "reference tier")
            << " (TINYTORCH_KERNELS=" << kernels_env << "), " << get_num_threads()
            << " thread(s).\n";

  json doc = {{"lab", "05_autograd"},
              {"quick", cfg.quick},
              {"repeats", cfg.reps},
              {"warmup", cfg.warmup},
              {"kernels_env", kernels_env},
              {"fast_matmul", fast},
              {"threads", get_num_threads()},
              {"clock", using_thread_cpu_clock() ? "thread_cpu_time" : "wall"},
              {"machine", machine_json()}};
  const int failed = run_experiments({{"0_graph", [] { return tour(); }},
                                      {"a_overhead", [&] { return experiment_overhead(cfg); }},
                                      {"b_backward", [&] { return experiment_backward(cfg); }},
                                      {"c_memory", [&] { return experiment_memory(cfg); }},
                                      {"d_gradcheck", [&] { return experiment_gradcheck(cfg); }},
                                      {"e_eps", [&] { return experiment_eps(cfg); }}},
                                     opts, "05", doc);
  const double total = stopwatch.wall_seconds();
  const double cpu = stopwatch.cpu_seconds();
  doc["total_seconds"] = total;
  doc["cpu_seconds"] = cpu;
  print_done(total, failed);
  // CPU time over wall time: below ~90%, other programs competed for the CPU. The measured
  // times are this thread's CPU time (when using_thread_cpu_clock()), which leaves out the time
  // the others held the core — but they still shared its caches and memory bandwidth.
  if (total >= 1.0) {
    std::cout << " The lab ran on a CPU for " << fixed(100 * cpu / total, 0) << "% of that time";
    if (cpu < 0.9 * total) {
      std::cout << (using_thread_cpu_clock()
                        ? ": other programs competed for the CPU (the times above count only "
                          "the lab's own CPU time, but caches and memory were shared, so expect "
                          "more spread than usual)."
                        : ": other programs competed for the CPU, so times are inflated and "
                          "noisier than usual.");
    } else {
      std::cout << ".";
    }
  }
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
