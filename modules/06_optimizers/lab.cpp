// Module 06 lab — Use + Analyze: what optimizers cost, and what they buy, measured on YOUR machine.
//
//   ./tito lab 06                 the full run (about 2 s on the 2-core course VM)
//   ./tito lab 06 --quick         fewer repeats and steps, a few seconds (a smoke test)
//   ./tito lab 06 --json out.json also write every measured figure to out.json
//   ./tito lab 06 --only BD       only some experiments (0, A-E)
//
// Every number this program prints is measured (std::chrono::steady_clock, warm-up runs, then the
// median of several repeats), counted by the tensor allocator, or computed from the tensors it
// made. The experiments follow the chapter (modules/06_optimizers/README.md, "The lab"):
//
//   0  inside an optimizer   the state dict of Adam after one step on a tiny model
//   A  state memory          bytes of optimizer state per parameter, for a 235k-parameter MLP
//   B  the fused step        time, steps/s and GB/s of step(), vs the same rule as tensor ops
//   C  convergence           loss after N steps: Rosenbrock's valley, and a small classifier
//   D  LR schedules          StepLR, CosineAnnealingLR, LinearLR as ASCII curves; recursive vs
//                            closed form
//   E  gradient clipping     what clip_grad_norm_ costs next to a step, and how often it clips
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <functional>
#include <iostream>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include "lab_support/lab_support.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/nn/utils/clip_grad.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;  // the shared lab code: timing, tables, the command line

// ── The optimizers compared throughout ──────────────────────────────────────────────────────
// Each configuration: a name, how many bytes of memory one update of one float32 element reads
// and writes (the minimum a fused loop must move), and a factory.
using OptimizerFactory = std::function<std::unique_ptr<optim::Optimizer>(std::vector<Tensor>)>;
struct OptimizerConfig {
  std::string name;
  int64_t bytes_per_element;  // reads + writes of one update, float32
  OptimizerFactory make;
};

// The 235,146 parameters of a 784-256-128-10 MLP (the Fashion-MNIST milestone's model).
std::vector<Tensor> mlp_parameters(uint64_t seed) {
  Generator gen(seed);
  const std::vector<std::vector<int64_t>> shapes = {{256, 784}, {256},     {128, 256},
                                                    {128},      {10, 128}, {10}};
  std::vector<Tensor> ps;
  for (const auto& s : shapes) {
    ps.push_back(randn(s, kFloat32, &gen).mul(0.05).set_requires_grad(true));
  }
  return ps;
}

int64_t numel_of(const std::vector<Tensor>& ps) {
  int64_t n = 0;
  for (const Tensor& p : ps) n += p.numel();
  return n;
}

void give_gradients(const std::vector<Tensor>& ps, uint64_t seed) {
  Generator gen(seed);
  for (Tensor p : ps) p.mutable_grad() = randn(p.sizes(), kFloat32, &gen).mul(0.01);
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// 0. Inside an optimizer
// ═════════════════════════════════════════════════════════════════════════════════════════════
json tour() {
  heading("0", "Inside an optimizer",
          "Adam on a Linear(3, 2) after one step: the flat state dict a checkpoint saves.");
  nn::Linear model(3, 2);
  optim::Adam opt(model->parameters(), optim::AdamOptions(1e-3).amsgrad(true));
  const Tensor x = ones({4, 3});
  mse_loss(model(x), zeros({4, 2})).backward();
  opt.step();
  Table table({"key", "dtype", "shape", "bytes", "value"});
  json out = json::array();
  int64_t state_bytes = 0;
  for (const auto& item : opt.state_dict()) {
    const Tensor& t = item.value();
    std::string value;
    if (t.numel() == 1) {
      value = t.dtype() == kInt64 ? std::to_string(t.item<int64_t>())
                                  : fixed(t.item<double>(), t.item<double>() < 0.01 ? 8 : 3);
    }
    std::string shape = "[";
    for (int64_t d = 0; d < t.dim(); ++d) shape += (d ? ", " : "") + std::to_string(t.size(d));
    shape += "]";
    table.add(
        {item.key(), std::string(to_string(t.dtype())), shape, std::to_string(t.nbytes()), value});
    if (item.key().rfind("state.", 0) == 0) state_bytes += t.nbytes();
    out.push_back({{"key", item.key()}, {"shape", t.sizes().vec()}, {"bytes", t.nbytes()}});
  }
  table.print();
  meaning(
      "Every entry is a tensor under a flat string key, so a checkpoint can save any optimizer "
      "without knowing its type. The state of 8 float32 parameters (6 weights + 2 biases) is " +
      std::to_string(state_bytes) +
      " bytes: three buffers of the parameter's shape (exp_avg, exp_avg_sq, max_exp_avg_sq) "
      "and a step count each — Adam with amsgrad keeps 12 bytes per 4-byte parameter.");
  return {{"entries", out}, {"state_bytes", state_bytes}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// A. State memory
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_memory(const std::vector<OptimizerConfig>& configs) {
  const int64_t n = numel_of(mlp_parameters(1));
  heading("A", "Optimizer state memory",
          "A 784-256-128-10 MLP: " + std::to_string(n) +
              " float32 parameters. State bytes = allocator bytes that the FIRST step() adds "
              "(state\n  is created lazily).");
  Table table(
      {"optimizer", "state", "bytes / parameter", "params + grads + state", "× the parameters"});
  json out = json::array();
  Allocator* alloc = get_allocator();
  for (const auto& c : configs) {
    const std::vector<Tensor> ps = mlp_parameters(1);
    give_gradients(ps, 2);
    auto opt = c.make(ps);
    const int64_t before = alloc->stats().live_bytes;
    opt->step();
    const int64_t state = alloc->stats().live_bytes - before;
    const double per_param = static_cast<double>(state) / static_cast<double>(n);
    const double total = static_cast<double>(2 * 4 * n + state);
    table.add({c.name, human_bytes(static_cast<double>(state), 2), fixed(per_param, 2),
               human_bytes(total, 2), ratio(total / static_cast<double>(4 * n))});
    out.push_back({{"optimizer", c.name},
                   {"state_bytes", state},
                   {"bytes_per_param", per_param},
                   {"training_bytes", total}});
  }
  table.print();
  const double adam_per = out[3]["bytes_per_param"].get<double>();
  meaning(
      "Momentum costs one extra copy of the model, Adam two (three with amsgrad). With the "
      "gradients, training Adam holds " +
      ratio(out[3]["training_bytes"].get<double>() / static_cast<double>(4 * n)) +
      " the parameter memory before a single activation is stored. For a 7-billion-parameter "
      "model in float32 that arithmetic gives 28 GB of weights + 28 GB of gradients + " +
      fixed(7 * adam_per, 0) +
      " GB of Adam state — which is why large models shard optimizer state (ZeRO) or keep "
      "it in 8 bits.");
  return {{"parameters", n}, {"results", out}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// B. The fused step
// ═════════════════════════════════════════════════════════════════════════════════════════════
// The same rules written as PyTorch's single-tensor path writes them: one tensor op per line,
// each a pass over memory and (for the out-of-place ones) a new tensor.
void unfused_sgd_momentum(const std::vector<Tensor>& ps, std::vector<Tensor>& bufs, double lr,
                          double momentum) {
  NoGradGuard no_grad;
  for (size_t i = 0; i < ps.size(); ++i) {
    Tensor p = ps[i];
    const Tensor& d = p.grad();
    if (!bufs[i].defined()) {
      bufs[i] = d.clone();
    } else {
      bufs[i].mul_(momentum).add_(d);
    }
    p.add_(bufs[i], -lr);
  }
}

void unfused_adam(const std::vector<Tensor>& ps, std::vector<Tensor>& m, std::vector<Tensor>& v,
                  int64_t& step, double lr) {
  NoGradGuard no_grad;
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  ++step;
  const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bc2 = 1 - std::pow(beta2, static_cast<double>(step));
  for (size_t i = 0; i < ps.size(); ++i) {
    Tensor p = ps[i];
    const Tensor& g = p.grad();
    if (!m[i].defined()) {
      m[i] = zeros_like(p);
      v[i] = zeros_like(p);
    }
    m[i].mul_(beta1).add_(g, 1 - beta1);
    v[i].mul_(beta2).add_(g.mul(1 - beta2).mul(g));
    const Tensor denom = v[i].sqrt().div(std::sqrt(bc2)).add(eps);
    p.add_(m[i].mul(-lr / bc1).div(denom));
  }
}

json experiment_step(const Config& cfg, const std::vector<OptimizerConfig>& configs) {
  const std::vector<Tensor> probe = mlp_parameters(1);
  const int64_t n = numel_of(probe);
  const int threads = get_num_threads();
  heading("B", "The fused step",
          "step() on the " + std::to_string(n) +
              " MLP parameters (gradients fixed), on 1 thread and on " + std::to_string(threads) +
              ". Traffic = the bytes one\n  fused update must read and write (float32): 4 bytes "
              "× (reads + writes) per parameter.");
  Table table({"optimizer", "traffic / step", "time (1 thread)", "steps/s", "ns / parameter",
               "GB/s", "time (" + std::to_string(threads) + " threads)"});
  json out = json::array();
  for (const auto& c : configs) {
    const std::vector<Tensor> ps = mlp_parameters(1);
    give_gradients(ps, 2);
    auto opt = c.make(ps);
    opt->step();  // the state exists from here on
    set_num_threads(1);
    const Timing one = measure_round_robin(cfg.warmup, cfg.reps, {[&] { opt->step(); }})[0];
    set_num_threads(0);
    const Timing all = measure_round_robin(cfg.warmup, cfg.reps, {[&] { opt->step(); }})[0];
    const double traffic = static_cast<double>(c.bytes_per_element * n);
    const double gbs = traffic / one.median / 1e9;
    table.add({c.name, human_bytes(traffic, 2), human_time(one.median), fixed(1 / one.median, 0),
               fixed(one.median * 1e9 / static_cast<double>(n), 2), fixed(gbs, 1),
               human_time(all.median)});
    out.push_back({{"optimizer", c.name},
                   {"traffic_bytes", traffic},
                   {"time_1_thread", to_json(one)},
                   {"time_all_threads", to_json(all)},
                   {"gb_per_s", gbs}});
  }
  table.print();
  set_num_threads(1);  // fused vs unfused below: the same single thread for both

  // Fused vs unfused, for the two rules everyone uses.
  std::cout << "\n";
  Table t2({"rule", "fused step()", "as tensor ops", "fused is", "tensors allocated / step"});
  json fusion = json::array();
  {
    const std::vector<Tensor> a = mlp_parameters(1), b = mlp_parameters(1);
    give_gradients(a, 2);
    give_gradients(b, 2);
    optim::SGD fused(a, optim::SGDOptions(0.01).momentum(0.9));
    std::vector<Tensor> bufs(b.size());
    Allocator* alloc = get_allocator();
    fused.step();
    unfused_sgd_momentum(b, bufs, 0.01, 0.9);
    int64_t c0 = alloc->stats().allocation_count;
    fused.step();
    const int64_t fused_allocs = alloc->stats().allocation_count - c0;
    c0 = alloc->stats().allocation_count;
    unfused_sgd_momentum(b, bufs, 0.01, 0.9);
    const int64_t unfused_allocs = alloc->stats().allocation_count - c0;
    const auto ts = measure_round_robin(
        cfg.warmup, cfg.reps,
        {[&] { fused.step(); }, [&] { unfused_sgd_momentum(b, bufs, 0.01, 0.9); }});
    t2.add({"SGD momentum", human_time(ts[0].median), human_time(ts[1].median),
            ratio(ts[1].median / ts[0].median) + " faster",
            std::to_string(fused_allocs) + " vs " + std::to_string(unfused_allocs)});
    fusion.push_back({{"rule", "sgd_momentum"},
                      {"fused", to_json(ts[0])},
                      {"unfused", to_json(ts[1])},
                      {"fused_allocations", fused_allocs},
                      {"unfused_allocations", unfused_allocs}});
  }
  {
    const std::vector<Tensor> a = mlp_parameters(1), b = mlp_parameters(1);
    give_gradients(a, 2);
    give_gradients(b, 2);
    optim::Adam fused(a, optim::AdamOptions(1e-3));
    std::vector<Tensor> m(b.size()), v(b.size());
    int64_t step = 0;
    Allocator* alloc = get_allocator();
    fused.step();
    unfused_adam(b, m, v, step, 1e-3);
    int64_t c0 = alloc->stats().allocation_count;
    fused.step();
    const int64_t fused_allocs = alloc->stats().allocation_count - c0;
    c0 = alloc->stats().allocation_count;
    unfused_adam(b, m, v, step, 1e-3);
    const int64_t unfused_allocs = alloc->stats().allocation_count - c0;
    const auto ts = measure_round_robin(
        cfg.warmup, cfg.reps, {[&] { fused.step(); }, [&] { unfused_adam(b, m, v, step, 1e-3); }});
    // Both ran the same number of steps on the same start: they must agree.
    double diff = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      diff = std::max(diff, (a[i] - b[i]).abs().max().item<double>());
    }
    t2.add({"Adam", human_time(ts[0].median), human_time(ts[1].median),
            ratio(ts[1].median / ts[0].median) + " faster",
            std::to_string(fused_allocs) + " vs " + std::to_string(unfused_allocs)});
    fusion.push_back({{"rule", "adam"},
                      {"fused", to_json(ts[0])},
                      {"unfused", to_json(ts[1])},
                      {"fused_allocations", fused_allocs},
                      {"unfused_allocations", unfused_allocs},
                      {"max_abs_diff", diff}});
    std::cout << "  (after " << step << " identical Adam steps the fused and tensor-op versions "
              << "differ by at most " << sci(diff) << ")\n\n";
  }
  t2.print();
  set_num_threads(0);
  const double sgd_gbs = out[1]["gb_per_s"].get<double>();
  const double sgd_ns = out[1]["time_1_thread"]["median_s"].get<double>();
  const double adam_ns = out[3]["time_1_thread"]["median_s"].get<double>();
  meaning("SGD with momentum is a few flops and 20 bytes of traffic per parameter: it streams at " +
          fixed(sgd_gbs, 1) +
          " GB/s (0.9 MiB per tensor fits in this CPU's caches). Adam moves 1.4× those bytes but "
          "takes " +
          ratio(adam_ns / sgd_ns) +
          " as long: a square root and a division per element make its loop bound by arithmetic "
          "unless the compiler vectorizes them (the chapter's Part 7 explains when it can). "
          "Written as tensor ops, one op per line of the rule, the same updates allocate "
          "temporaries and make a pass over memory per op: " +
          ratio(fusion[0]["unfused"]["median_s"].get<double>() /
                fusion[0]["fused"]["median_s"].get<double>()) +
          " and " +
          ratio(fusion[1]["unfused"]["median_s"].get<double>() /
                fusion[1]["fused"]["median_s"].get<double>()) +
          " slower — why PyTorch added foreach and fused=True implementations.");
  return {{"parameters", n}, {"threads", threads}, {"results", out}, {"fusion", fusion}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// C. Convergence
// ═════════════════════════════════════════════════════════════════════════════════════════════
// Rosenbrock's function f(x, y) = (1 − x)² + 100 (y − x²)² and its gradient, written out by hand
// and stored into p.grad(): this experiment measures the optimizers, and a hand-written gradient
// costs nanoseconds where a 10-op autograd graph on 1-element tensors costs far more.
double rosenbrock_with_grad(Tensor& p) {
  const auto v = p.to_vector<double>();
  const double x = v[0], y = v[1], valley = y - x * x;
  p.mutable_grad() =
      tensor({-2.0 * (1.0 - x) - 400.0 * x * valley, 200.0 * valley}, TensorOptions(kFloat64));
  return (1.0 - x) * (1.0 - x) + 100.0 * valley * valley;
}

// Three interleaved spirals, `per_class` points each, with a little noise (fixed seed).
std::pair<Tensor, Tensor> spirals(int64_t per_class) {
  Generator gen(42);
  const Tensor noise = randn({3 * per_class, 2}, kFloat32, &gen).mul(0.05);
  std::vector<float> xs;
  std::vector<int64_t> ys;
  for (int64_t k = 0; k < 3; ++k) {
    for (int64_t i = 0; i < per_class; ++i) {
      const double r = static_cast<double>(i) / static_cast<double>(per_class);
      const double theta = 4.0 * r + 2.0 * std::numbers::pi * static_cast<double>(k) / 3.0;
      xs.push_back(static_cast<float>(r * std::cos(theta)));
      xs.push_back(static_cast<float>(r * std::sin(theta)));
      ys.push_back(k);
    }
  }
  return {from_vector(xs, {3 * per_class, 2}) + noise, from_vector(ys, {3 * per_class})};
}

struct SpiralNet {
  nn::Linear fc1{2, 64}, fc2{64, 64}, fc3{64, 3};
  Tensor operator()(const Tensor& x) { return fc3(relu(fc2(relu(fc1(x))))); }
  std::vector<Tensor> parameters() {
    std::vector<Tensor> ps;
    for (auto* l : {&fc1, &fc2, &fc3}) {
      for (const Tensor& p : (*l)->parameters()) ps.push_back(p);
    }
    return ps;
  }
};

json experiment_convergence(const Config& cfg) {
  heading("C", "Convergence",
          "Rosenbrock's valley from (-1.5, 2), minimum 0 at (1, 1), float64 (gradient by hand); "
          "then a 2-64-64-3 "
          "MLP on three\n  spirals (full batch). Same start for every optimizer; loss after N "
          "steps.");
  struct Run {
    std::string name;
    OptimizerFactory make;
  };
  const std::vector<Run> rosen_runs = {
      {"SGD lr=1e-3", [](std::vector<Tensor> p) { return std::make_unique<optim::SGD>(p, 1e-3); }},
      {"SGD lr=1e-3 momentum=0.9",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::SGD>(p, optim::SGDOptions(1e-3).momentum(0.9));
       }},
      {"SGD lr=1e-3 Nesterov 0.9",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::SGD>(p,
                                             optim::SGDOptions(1e-3).momentum(0.9).nesterov(true));
       }},
      {"Adam lr=0.02",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::Adam>(p, optim::AdamOptions(0.02));
       }},
      {"AdamW lr=0.02 wd=0.01",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::AdamW>(p, optim::AdamWOptions(0.02));
       }},
      {"RMSprop lr=1e-3",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::RMSprop>(p, optim::RMSpropOptions(1e-3));
       }},
      {"RMSprop centered mom=0.5",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::RMSprop>(
             p, optim::RMSpropOptions(1e-3).centered(true).momentum(0.5));
       }},
  };
  const std::vector<int> checkpoints =
      cfg.quick ? std::vector<int>{10, 100, 300} : std::vector<int>{10, 100, 300, 1000, 3000};
  std::vector<std::string> header = {"Rosenbrock"};
  for (int c : checkpoints) header.push_back(std::to_string(c) + " steps");
  header.push_back("final (x, y)");
  Table table(header);
  json rosen = json::array();
  for (const auto& r : rosen_runs) {
    Tensor p = tensor({-1.5, 2.0}, TensorOptions(kFloat64)).set_requires_grad(true);
    auto opt = r.make({p});
    std::vector<std::string> row = {r.name};
    json losses = json::array();
    int done = 0;
    for (int c : checkpoints) {
      for (; done < c; ++done) {
        rosenbrock_with_grad(p);
        opt->step();
      }
      const double loss = rosenbrock_with_grad(p);
      row.push_back(sci(loss));
      losses.push_back({{"steps", c}, {"loss", loss}});
    }
    const auto xy = p.to_vector<double>();
    row.push_back("(" + fixed(xy[0], 3) + ", " + fixed(xy[1], 3) + ")");
    table.add(row);
    rosen.push_back({{"optimizer", r.name}, {"losses", losses}, {"final", xy}});
  }
  table.print();
  std::cout << "\n";

  const auto [inputs, labels] = spirals(100);
  const int steps = cfg.quick ? 100 : 400;
  const std::vector<Run> spiral_runs = {
      {"SGD lr=0.1", [](std::vector<Tensor> p) { return std::make_unique<optim::SGD>(p, 0.1); }},
      {"SGD lr=0.1 momentum=0.9",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::SGD>(p, optim::SGDOptions(0.1).momentum(0.9));
       }},
      {"Adam lr=0.01",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::Adam>(p, optim::AdamOptions(0.01));
       }},
      {"AdamW lr=0.01 wd=0.01",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::AdamW>(p, optim::AdamWOptions(0.01));
       }},
      {"RMSprop lr=0.01",
       [](std::vector<Tensor> p) {
         return std::make_unique<optim::RMSprop>(p, optim::RMSpropOptions(0.01));
       }},
  };
  Table t2({"spirals, " + std::to_string(inputs.size(0)) + " points",
            "loss @ " + std::to_string(steps / 10), "loss @ " + std::to_string(steps), "accuracy"});
  json spiral = json::array();
  for (const auto& r : spiral_runs) {
    manual_seed(7);  // the same initial weights for every optimizer
    SpiralNet net;
    auto opt = r.make(net.parameters());
    double early = 0, loss = 0;
    const Stopwatch stopwatch;
    for (int s = 1; s <= steps; ++s) {
      opt->zero_grad();
      Tensor l = cross_entropy(net(inputs), labels);
      l.backward();
      opt->step();
      if (s == steps / 10) early = l.item<double>();
      loss = l.item<double>();
    }
    const double seconds = stopwatch.wall_seconds();
    NoGradGuard no_grad;
    const double accuracy = net(inputs).argmax(1).eq(labels).to(kFloat64).mean().item<double>();
    t2.add({r.name, fixed(early, 3), fixed(loss, 3), fixed(100 * accuracy, 1) + "%"});
    spiral.push_back({{"optimizer", r.name},
                      {"loss_early", early},
                      {"loss_final", loss},
                      {"accuracy", accuracy},
                      {"seconds", seconds}});
  }
  t2.print();
  meaning(
      "In the valley, plain SGD at the largest stable lr crawls: the gradient points across "
      "the valley, not along it. Momentum accumulates the small consistent component along "
      "the floor; Adam divides each coordinate by its own gradient scale, so both coordinates "
      "move at about lr per step. On the spirals every adaptive method and momentum beat "
      "plain SGD at the same budget — but the ranking depends on the learning rates chosen, "
      "which is the honest caveat of every optimizer comparison.");
  return {{"rosenbrock", rosen}, {"spirals", spiral}, {"spiral_steps", steps}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// D. LR schedules
// ═════════════════════════════════════════════════════════════════════════════════════════════
// Plots lrs (one per epoch) as an ASCII chart `rows` high, one column per `per_col` epochs.
void plot(const std::string& title, const std::vector<double>& lrs, double top) {
  constexpr int rows = 8;
  const size_t cols = 50;
  const size_t per_col = (lrs.size() + cols - 1) / cols;
  std::cout << "  " << title << "\n";
  for (int r = rows; r >= 1; --r) {
    const double level = top * (r - 0.5) / rows;
    std::string line = r == rows ? fixed(top, 3) + " ┤" : r == 1 ? fixed(0.0, 3) + " ┤" : "      │";
    for (size_t c = 0; c * per_col < lrs.size(); ++c) line += lrs[c * per_col] >= level ? "█" : " ";
    std::cout << "  " << line << "\n";
  }
  std::cout << "        └";
  for (size_t c = 0; c * per_col < lrs.size(); ++c) std::cout << "─";
  std::cout << " epoch 0…" << lrs.size() - 1 << "\n\n";
}

json experiment_schedules(const Config& cfg) {
  heading("D", "LR schedules",
          "lr per epoch for a base lr of 0.1 over 100 epochs (one column = 2 epochs). Then the "
          "drift between\n  step()'s recursive form and the closed form over many epochs.");
  struct Sched {
    std::string name;
    std::function<std::unique_ptr<optim::LRScheduler>(optim::Optimizer&)> make;
    bool stepwise = false;  // constant between drops: report the step() calls that drop it
  };
  const std::vector<Sched> scheds = {
      {"StepLR(step_size=30, gamma=0.5)",
       [](optim::Optimizer& o) { return std::make_unique<optim::StepLR>(o, 30, 0.5); }, true},
      {"CosineAnnealingLR(T_max=100, eta_min=0.001)",
       [](optim::Optimizer& o) {
         return std::make_unique<optim::CosineAnnealingLR>(o, 100, 1e-3);
       }},
      {"LinearLR(start_factor=0.1, end_factor=1, total_iters=20)  — warmup",
       [](optim::Optimizer& o) { return std::make_unique<optim::LinearLR>(o, 0.1, 1.0, 20); }},
  };
  json out = json::array();
  Table table({"schedule", "epochs", "max |recursive − closed| / lr"});
  const int long_run = cfg.quick ? 1000 : 100000;
  for (const auto& s : scheds) {
    std::vector<Tensor> ps{zeros({1}).set_requires_grad(true)};
    optim::SGD opt(ps, 0.1);
    auto sched = s.make(opt);
    std::vector<double> lrs = {opt.param_groups()[0].options().get_lr()};
    for (int e = 1; e < 100; ++e) {
      sched->step();
      lrs.push_back(opt.param_groups()[0].options().get_lr());
    }
    plot(s.name, lrs, 0.1);
    std::vector<int> drops;  // the step() calls after which the lr is lower than before
    if (s.stepwise) {
      for (size_t e = 1; e < lrs.size(); ++e) {
        if (lrs[e] < lrs[e - 1]) drops.push_back(static_cast<int>(e));
      }
      std::cout << "  the lr drops on step() calls";
      for (size_t i = 0; i < drops.size(); ++i) std::cout << (i == 0 ? " " : ", ") << drops[i];
      std::cout << "\n\n";
    }
    // Drift: keep stepping and compare with the formula of the epoch.
    double worst = 0;
    for (int e = 100; e < long_run; ++e) {
      sched->step();
      const double got = opt.param_groups()[0].options().get_lr();
      const double closed = sched->closed_form_lrs()[0];
      worst = std::max(worst, std::abs(got - closed) / std::max(std::abs(closed), 1e-300));
    }
    table.add({s.name.substr(0, s.name.find('(')), std::to_string(long_run), sci(worst)});
    json row = {
        {"scheduler", s.name}, {"lrs", lrs}, {"drift_epochs", long_run}, {"max_rel_drift", worst}};
    if (s.stepwise) row["drops_on_step"] = drops;
    out.push_back(row);
  }
  table.print();
  meaning(
      "step() multiplies the current lr by a ratio (PyTorch's chainable form), so each epoch "
      "adds a rounding error: after many epochs the recursive value drifts from the formula "
      "by the relative amounts above — harmless for training, but the reason resuming needs "
      "the saved lr (the optimizer's state dict), not just last_epoch. StepLR's product of "
      "0.5s is exact in binary; the cosine's quotients are not. StepLR's drops come one "
      "step() call after Python's StepLR's (30, 60, 90): libtorch's C++ timing, which ours "
      "keeps — shift by one when you compare with a Python run.");
  return {{"schedules", out}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// E. Gradient clipping
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_clipping(const Config& cfg) {
  const std::vector<Tensor> probe = mlp_parameters(1);
  const int64_t n = numel_of(probe);
  heading("E", "Gradient clipping",
          "clip_grad_norm_ on the MLP's gradients: one pass to measure the norm, and one more to "
          "scale\n  when it exceeds max_norm. Then: how often it clips while training the spirals "
          "with SGD lr=0.5.");
  const std::vector<Tensor> ps = mlp_parameters(1);
  give_gradients(ps, 3);
  optim::SGD opt(ps, optim::SGDOptions(0.01).momentum(0.9));
  opt.step();
  double norm = 0;
  set_num_threads(1);  // clip_grad_norm_ runs on one thread: compare with a one-thread step
  const auto ts = measure_round_robin(
      cfg.warmup, cfg.reps,
      {[&] { norm = nn::utils::clip_grad_norm_(ps, 1e9); },  // never clips: the norm pass alone
       [&] { opt.step(); }});
  set_num_threads(0);
  g_sink = norm;
  Table table({"operation (1 thread)", "time", "GB/s", "vs SGD-momentum step"});
  table.add({"clip_grad_norm_ (measure only)", human_time(ts[0].median),
             fixed(4.0 * static_cast<double>(n) / ts[0].median / 1e9, 1),
             ratio(ts[0].median / ts[1].median)});
  table.add({"SGD momentum step()", human_time(ts[1].median),
             fixed(20.0 * static_cast<double>(n) / ts[1].median / 1e9, 1), "1.00×"});
  table.print();

  // How often does clipping engage during a real (too aggressive) training run?
  const auto [inputs, labels] = spirals(100);
  const int steps = cfg.quick ? 60 : 300;
  json runs = json::array();
  Table t2({"SGD lr=0.5 on the spirals", "final loss", "steps clipped", "median grad norm",
            "max grad norm"});
  for (double max_norm : {0.0, 1.0}) {
    manual_seed(7);
    SpiralNet net;
    optim::SGD sgd(net.parameters(), optim::SGDOptions(0.5).momentum(0.9));
    std::vector<double> norms;
    int clipped = 0;
    double loss = 0;
    for (int s = 0; s < steps; ++s) {
      sgd.zero_grad();
      Tensor l = cross_entropy(net(inputs), labels);
      l.backward();
      const double gn = max_norm > 0 ? nn::utils::clip_grad_norm_(net.parameters(), max_norm)
                                     : nn::utils::clip_grad_norm_(net.parameters(), 1e300);
      norms.push_back(gn);
      if (max_norm > 0 && gn > max_norm) ++clipped;
      sgd.step();
      loss = l.item<double>();
    }
    std::vector<double> sorted = norms;
    std::sort(sorted.begin(), sorted.end());
    const std::string name = max_norm > 0 ? "with clip_grad_norm_(1.0)" : "without clipping";
    t2.add({name, std::isfinite(loss) ? fixed(loss, 3) : "diverged",
            std::to_string(clipped) + " / " + std::to_string(steps),
            fixed(sorted[sorted.size() / 2], 3), fixed(sorted.back(), 2)});
    runs.push_back({{"max_norm", max_norm},
                    {"final_loss", std::isfinite(loss) ? json(loss) : json("nan")},
                    {"clipped_steps", clipped},
                    {"steps", steps},
                    {"median_norm", sorted[sorted.size() / 2]},
                    {"max_norm_seen", sorted.back()}});
  }
  std::cout << "\n";
  t2.print();
  meaning(
      "Measuring the norm is a read-only pass over every gradient, about the cost of a cheap "
      "optimizer step, and scaling adds a read-write pass only on the steps that clip. "
      "Clipping caps the LENGTH of a step while keeping its direction; it matters on the "
      "rare steps whose gradient is far larger than typical (compare the median and the "
      "max).");
  return {{"parameters", n},
          {"clip_norm_time", to_json(ts[0])},
          {"sgd_step_time", to_json(ts[1])},
          {"runs", runs}};
}

std::vector<OptimizerConfig> optimizer_configs() {
  using P = std::vector<Tensor>;
  return {
      {"SGD", 12, [](P p) { return std::make_unique<optim::SGD>(p, 0.01); }},
      {"SGD momentum", 20,
       [](P p) { return std::make_unique<optim::SGD>(p, optim::SGDOptions(0.01).momentum(0.9)); }},
      {"SGD Nesterov + wd", 20,
       [](P p) {
         return std::make_unique<optim::SGD>(
             p, optim::SGDOptions(0.01).momentum(0.9).nesterov(true).weight_decay(1e-4));
       }},
      {"Adam", 28, [](P p) { return std::make_unique<optim::Adam>(p); }},
      {"Adam amsgrad", 36,
       [](P p) { return std::make_unique<optim::Adam>(p, optim::AdamOptions().amsgrad(true)); }},
      {"AdamW", 28, [](P p) { return std::make_unique<optim::AdamW>(p); }},
      {"RMSprop", 20, [](P p) { return std::make_unique<optim::RMSprop>(p); }},
      {"RMSprop centered + mom", 36,
       [](P p) {
         return std::make_unique<optim::RMSprop>(
             p, optim::RMSpropOptions().centered(true).momentum(0.9));
       }},
  };
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{
      .name = "lab06",
      .quick_help = "fewer repeats and steps: finishes in a few seconds (smoke test)",
      .only_help = "e.g. --only BD (letters 0 A-E)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
  const Config cfg{opts.quick, opts.quick ? 5 : 21, opts.quick ? 1 : 3};
  manual_seed(0);
  const Stopwatch stopwatch;
  print_title("TinyTorch module 06 lab — optimizers, measured",
              cfg.quick ? " (--quick: fewer repeats and steps)" : "",
              ", " + std::to_string(get_num_threads()) + " used");
  std::cout << "  Each time is the median of " << cfg.reps << " runs after " << cfg.warmup
            << " warm-up run(s); timings vary between runs and machines.\n";

  const std::vector<OptimizerConfig> configs = optimizer_configs();
  json machine = machine_json();
  machine["threads_used"] = get_num_threads();
  json doc = {{"lab", "06_optimizers"},
              {"quick", cfg.quick},
              {"repeats", cfg.reps},
              {"warmup", cfg.warmup},
              {"machine", machine}};
  std::vector<Experiment> experiments = {
      {"0_tour", [] { return tour(); }},
      {"a_memory", [&] { return experiment_memory(configs); }},
      {"b_step", [&] { return experiment_step(cfg, configs); }},
      {"c_convergence", [&] { return experiment_convergence(cfg); }},
      {"d_schedules", [&] { return experiment_schedules(cfg); }},
      {"e_clipping", [&] { return experiment_clipping(cfg); }},
  };
  // Each experiment also records the CPU time it took (all threads).
  for (auto& e : experiments) {
    e.run = [run = std::move(e.run)] {
      const std::clock_t c0 = std::clock();
      json j = run();
      j["cpu_seconds"] = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
      return j;
    };
  }
  const int failed = run_experiments(experiments, opts, "06", doc);
  const double total = stopwatch.wall_seconds();
  const double cpu = stopwatch.cpu_seconds();
  doc["total_seconds"] = total;
  doc["cpu_seconds"] = cpu;
  print_done(total, failed);
  std::cout << " CPU time " << fixed(cpu, 1)
            << " s (over all threads; well below wall time × threads means other programs "
               "competed for the CPU).\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
