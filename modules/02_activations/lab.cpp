// Module 02 lab — Use + Analyze: what activations cost, and what numerical stability is worth,
// measured on YOUR machine.
//
//   ./tito lab 02                 the full run (about 15 s on the 2-core course VM)
//   ./tito lab 02 --quick         small sizes, a few seconds (a smoke test)
//   ./tito lab 02 --json out.json also write every measured figure to out.json
//   ./tito lab 02 --only BC       only some experiments (A-F)
//   ./tito lab 02 --no-cache      tensors from the plain allocator (fresh pages every call)
//
// Every number printed is measured (std::chrono::steady_clock, warm-up runs, then the median of
// several repeats, variants timed round-robin) or computed from the tensors made here.
//
//   A  throughput          every activation on one big float32 tensor: ns/element and GB/s;
//                          your kernels vs the same math composed from module-01 ops
//   B  stability           naive exp(x)/Σexp(x) vs max-subtracted softmax as logits grow to ±1000
//   C  GELU: erf vs tanh   how far apart the two forms are, and what each costs
//   D  softmax layouts     rows along the last dim vs along dim 0 (strided) vs a transposed input
//   E  threads             1 thread vs all, by tensor size: where parallel_for starts to pay
//   F  memory              bytes allocated per call: one fused kernel vs a chain of ops
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "lab_support/lab_support.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/tinytorch.h"

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;  // the shared lab code: timing, tables, the command line

// A measured call's result is "used" by storing its size in the sink (see lab_support.h).
void consume(const Tensor& t) {
  g_sink = static_cast<double>(t.numel());
}

int64_t count_nonfinite(const Tensor& t) {
  const Tensor d = t.to(kFloat64).contiguous();
  const double* p = d.data_ptr<double>();
  int64_t n = 0;
  for (int64_t i = 0; i < d.numel(); ++i) n += std::isfinite(p[i]) ? 0 : 1;
  return n;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const Tensor x = a.to(kFloat64).contiguous(), y = b.to(kFloat64).contiguous();
  const double *p = x.data_ptr<double>(), *q = y.data_ptr<double>();
  double m = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double d = std::abs(p[i] - q[i]);
    if (std::isnan(d)) return NAN;
    m = std::max(m, d);
  }
  return m;
}

// Runs f on the reference tier: this lab measures YOUR loops, also where module 18
// registered a faster one (float32 GELU: kernels/activation.h).
template <typename F>
Tensor reference_tier(const F& f) {
  const kernels::TierGuard reference(kernels::Tier::kReference);
  return f();
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// A. Throughput of every activation, and of the same math composed from module-01 ops.
// ═════════════════════════════════════════════════════════════════════════════════════════════
// ReLU as a plain loop WITHOUT TT_SIMD. GCC at -O2 compiles it to a compare and a conditional
// branch per element — mispredicted about half the time when the signs are random.
[[gnu::noinline]] void relu_plain_loop(const float* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] < 0.0f ? 0.0f : in[i];
}

json experiment_throughput(const Config& cfg) {
  const int64_t n = cfg.quick ? (1 << 18) : (1 << 22);
  heading("A", "Throughput",
          "Each activation on x = randn(" + std::to_string(n) + ") float32 (" +
              human_bytes(static_cast<double>(n) * 4) + " in, the same out), on " +
              std::to_string(get_num_threads()) +
              " thread(s).\n  GB/s counts one read and one write per element. The last rows "
              "build the same function from\n  module-01 ops (one full pass and one temporary "
              "tensor per op).");
  const Tensor x = randn({n});
  // The last row is the fast tier's SIMD GELU only when module 18 registered it; otherwise the
  // same op runs your reference loop again, and the row says so.
  const bool fast_gelu = kernels::fast_kernels().activation.gelu != nullptr;
  struct Row {
    std::string name;
    std::function<Tensor()> f;
  };
  const std::vector<Row> rows = {
      {"relu", [&] { return native::relu(x); }},
      {"leaky_relu(0.01)", [&] { return native::leaky_relu(x, 0.01); }},
      {"sigmoid", [&] { return native::sigmoid(x); }},
      {"tanh", [&] { return native::tanh(x); }},
      {"gelu (erf)", [&] { return reference_tier([&] { return native::gelu(x, "none"); }); }},
      {"gelu (tanh)", [&] { return reference_tier([&] { return native::gelu(x, "tanh"); }); }},
      {"silu", [&] { return native::silu(x); }},
      {"softmax (rows of 1024)",
       [&] {
         return native::softmax(x.view({-1, 1024}), 1);
       }},
      {"relu as a plain loop (no TT_SIMD)",
       [&] {
         Tensor y = empty({n});
         relu_plain_loop(x.data_ptr<float>(), y.data_ptr<float>(), n);
         return y;
       }},
      {"relu as x.clamp_min(0)", [&] { return x.clamp_min(0); }},
      {"sigmoid as 1 / (1 + exp(−x))", [&] { return 1.0 / (1.0 + (-x).exp()); }},
      {"silu as x · sigmoid(x)  (2 ops)", [&] { return x * native::sigmoid(x); }},
      {fast_gelu ? "gelu (erf), given fast kernel"
                 : "gelu (erf), yours (no fast kernel registered)",
       [&] { return native::gelu(x, "none"); }},
  };
  std::vector<std::function<void()>> bodies;
  for (const auto& r : rows) bodies.push_back([&r] { consume(r.f()); });
  const std::vector<Timing> ts = measure_round_robin(cfg.warmup, cfg.reps, bodies);
  Table table({"activation", "time", "ns/element", "GB/s", "vs relu"});
  json out = {{"n", n}, {"threads", get_num_threads()}, {"rows", json::array()}};
  for (size_t i = 0; i < rows.size(); ++i) {
    const double t = ts[i].median;
    table.add({rows[i].name, human_time(t), fixed(t * 1e9 / static_cast<double>(n), 2),
               fixed(8.0 * static_cast<double>(n) / t / 1e9, 2), ratio(t / ts[0].median)});
    out["rows"].push_back({{"name", rows[i].name},
                           {"time", to_json(ts[i])},
                           {"ns_per_element", t * 1e9 / static_cast<double>(n)},
                           {"gb_per_s", 8.0 * static_cast<double>(n) / t / 1e9}});
  }
  table.print();
  const double relu = ts[0].median, gelu = ts[4].median, sig = ts[2].median, sig_c = ts[10].median,
               plain = ts[8].median;
  meaning(
      "ReLU is a compare and a select: vectorised (TT_SIMD), it runs at memory speed, so its "
      "time is the time to move the bytes. The same loop without TT_SIMD takes " +
      ratio(plain / relu) +
      " as long: one element at a time, with a branch the CPU mispredicts on random signs. "
      "GELU (erf) costs " +
      ratio(gelu / relu) +
      " ReLU's time: a transcendental function per element turns the loop compute-bound. "
      "The composed sigmoid takes " +
      ratio(sig_c / sig) +
      " your fused kernel's time: each module-01 op makes one full pass over memory and "
      "allocates a temporary. This is why frameworks FUSE element-wise chains.");
  out["gelu_over_relu"] = gelu / relu;
  out["composed_sigmoid_over_fused"] = sig_c / sig;
  out["plain_loop_relu_over_relu"] = plain / relu;
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// B. Stability: naive softmax vs max-subtracted softmax as the logits grow.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_stability(const Config&) {
  heading("B", "Numerical stability",
          "Logits x = scale · randn(256, 10) float32. naive = exp(x) / Σ exp(x) built from ops; "
          "stable = your\n  softmax (max subtracted). Error is the max |difference| from a "
          "float64 stable softmax.");
  Generator gen(2);
  const Tensor z = randn({256, 10}, kFloat32, &gen);
  Table table({"scale", "max |logit|", "naive: non-finite", "naive: max error",
               "stable: non-finite", "stable: max error", "log(softmax) −inf", "log_softmax −inf"});
  json out = json::array();
  for (double scale : {1.0, 10.0, 50.0, 100.0, 1000.0}) {
    const Tensor x = z * scale;
    const Tensor ref = native::softmax(x.to(kFloat64), 1);
    const Tensor e = x.exp();
    const Tensor naive = e / e.sum({1}, true);
    const Tensor stable = native::softmax(x, 1);
    const int64_t bad_naive = count_nonfinite(naive), bad_stable = count_nonfinite(stable);
    const double err_naive = max_abs_diff(naive, ref), err_stable = max_abs_diff(stable, ref);
    const int64_t log_inf = count_nonfinite(stable.log());
    const int64_t lsm_inf = count_nonfinite(native::log_softmax(x, 1));
    const double max_logit = max_abs_diff(x, zeros_like(x));
    table.add({fixed(scale, 0), fixed(max_logit, 1), std::to_string(bad_naive) + " / 2560",
               std::isnan(err_naive) ? "NaN" : sci(err_naive), std::to_string(bad_stable),
               sci(err_stable), std::to_string(log_inf), std::to_string(lsm_inf)});
    out.push_back({{"scale", scale},
                   {"max_abs_logit", max_logit},
                   {"naive_nonfinite", bad_naive},
                   {"naive_max_error", std::isnan(err_naive) ? json("nan") : json(err_naive)},
                   {"stable_nonfinite", bad_stable},
                   {"stable_max_error", err_stable},
                   {"log_of_softmax_nonfinite", log_inf},
                   {"log_softmax_nonfinite", lsm_inf}});
  }
  table.print();
  // Sigmoid: naive e^x / (1 + e^x) vs the two-branch form.
  const Tensor s =
      from_vector(std::vector<double>{-1000, -100, -20, 0, 20, 100, 1000}, {7}, kFloat32);
  const Tensor naive_sig = s.exp() / (s.exp() + 1.0);
  std::cout << "\n  sigmoid at " << s << "\n    naive e^x/(1+e^x): " << naive_sig
            << "\n    yours:             " << native::sigmoid(s) << "\n";
  meaning(
      "float32 exp overflows at x ≈ 88.7: from there on the naive softmax divides inf by inf "
      "and returns NaN, for the whole row. Subtracting the row max first keeps every "
      "exponent ≤ 0 and costs one extra pass over the row. log(softmax(x)) underflows to "
      "−inf long before that; log_softmax (x − max − log Σ e^(x−max)) never does — which is "
      "why losses take log-probabilities.");
  return {{"softmax", out}, {"sigmoid_naive_nonfinite", count_nonfinite(naive_sig)}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// C. GELU: the exact erf form vs the tanh approximation.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_gelu(const Config& cfg) {
  heading("C", "GELU: erf vs tanh",
          "Both forms on a float64 grid over [−6, 6] (step 0.001), then timed forward and "
          "backward on float32.");
  const Tensor grid = arange(-6.0, 6.0, 0.001, kFloat64);
  const Tensor ex = native::gelu(grid, "none"), ap = native::gelu(grid, "tanh");
  const double fwd_diff = max_abs_diff(ex, ap);
  const Tensor ones_g = ones_like(grid);
  const double bwd_diff = max_abs_diff(native::gelu_backward(ones_g, grid, "none"),
                                       native::gelu_backward(ones_g, grid, "tanh"));
  // where is the forward difference largest?
  const Tensor d = (ex - ap).abs();
  const int64_t at = d.argmax().item<int64_t>();
  const double x_at = grid.to_vector<double>()[static_cast<size_t>(at)];
  const int64_t n = cfg.quick ? (1 << 18) : (1 << 22);
  const Tensor x = randn({n});
  const Tensor g = randn({n});
  const std::vector<Timing> ts = measure_round_robin(
      cfg.warmup, cfg.reps,
      {[&] { consume(reference_tier([&] { return native::gelu(x, "none"); })); },
       [&] { consume(reference_tier([&] { return native::gelu(x, "tanh"); })); },
       [&] { consume(reference_tier([&] { return native::gelu_backward(g, x, "none"); })); },
       [&] { consume(reference_tier([&] { return native::gelu_backward(g, x, "tanh"); })); }});
  Table table({"", "erf (exact)", "tanh (approx.)", "tanh / erf"});
  table.add({"forward, ns/element", fixed(ts[0].median * 1e9 / static_cast<double>(n), 2),
             fixed(ts[1].median * 1e9 / static_cast<double>(n), 2),
             ratio(ts[1].median / ts[0].median)});
  table.add({"backward, ns/element", fixed(ts[2].median * 1e9 / static_cast<double>(n), 2),
             fixed(ts[3].median * 1e9 / static_cast<double>(n), 2),
             ratio(ts[3].median / ts[2].median)});
  table.print();
  std::cout << "\n  max |GELU_erf − GELU_tanh| = " << sci(fwd_diff) << " (at x = " << fixed(x_at, 3)
            << "); max difference of their derivatives = " << sci(bwd_diff) << "\n";
  meaning("The two forms differ by at most " + sci(fwd_diff) +
          " — far below float32 training noise, far above float32 rounding (≈ 6e-8): they are "
          "different functions, so a model must use the same form in training and inference, "
          "and the backward must differentiate the form the forward used. On this machine the "
          "tanh form runs at " +
          ratio(ts[1].median / ts[0].median) +
          " the erf form's time (GPT-2 chose tanh when erf was slow on its hardware).");
  return {{"max_forward_diff", fwd_diff},   {"max_forward_diff_at", x_at},
          {"max_backward_diff", bwd_diff},  {"n", n},
          {"forward_erf", to_json(ts[0])},  {"forward_tanh", to_json(ts[1])},
          {"backward_erf", to_json(ts[2])}, {"backward_tanh", to_json(ts[3])}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// D. Softmax layouts.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_layouts(const Config& cfg) {
  const int64_t m = cfg.quick ? 256 : 1024;
  heading("D", "Softmax: which dim, which layout",
          "x: [" + std::to_string(m) + ", " + std::to_string(m) +
              "] float32. Along dim 1 each row is contiguous (stride 1); along dim 0 a row\n  "
              "steps " +
              std::to_string(m) +
              " elements; x.t() is a transposed view, copied by .contiguous() first.");
  const Tensor x = randn({m, m});
  const std::vector<Timing> ts = measure_round_robin(
      cfg.warmup, cfg.reps,
      {[&] { consume(native::softmax(x, 1)); }, [&] { consume(native::softmax(x, 0)); },
       [&] { consume(native::softmax(x.t(), 1)); }, [&] { consume(x.t().contiguous()); }});
  Table table({"call", "time", "vs dim 1"});
  const char* names[] = {"softmax(x, 1)   rows contiguous", "softmax(x, 0)   rows strided",
                         "softmax(x.t(), 1)   copy, then contiguous rows",
                         "x.t().contiguous()   (the copy alone)"};
  json out = {{"m", m}};
  const char* keys[] = {"dim1", "dim0", "transposed_dim1", "copy_only"};
  for (int i = 0; i < 4; ++i) {
    table.add({names[i], human_time(ts[static_cast<size_t>(i)].median),
               ratio(ts[static_cast<size_t>(i)].median / ts[0].median)});
    out[keys[i]] = to_json(ts[static_cast<size_t>(i)]);
  }
  table.print();
  meaning("Softmax along a strided dim reads " + std::to_string(m * 4) +
          " bytes apart on every step (" + ratio(ts[1].median / ts[0].median) +
          " here). Transposed input pays a full copy first (" + human_time(ts[3].median) +
          "). Layouts again: attention and classifiers normalise the LAST dim for this reason.");
  return out;
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// E. Threads.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_threads(const Config& cfg) {
  const int threads = get_num_threads();
  heading("E", "Threads: where parallel_for pays",
          "relu, gelu and softmax (rows of 64) on float32 tensors of growing size, on 1 thread "
          "and on " +
              std::to_string(threads) +
              " (the kernels go parallel above 65,536 elements for relu, 16,384 for gelu).");
  std::vector<int64_t> sizes = {4096, 65536, 262144, 1048576};
  if (!cfg.quick) sizes.push_back(4194304);
  Table table({"elements", "relu 1 thr", "relu all", "gelu 1 thr", "gelu all", "softmax 1 thr",
               "softmax all"});
  json out = json::array();
  for (int64_t n : sizes) {
    const Tensor x = randn({n});
    const Tensor rows = x.view({-1, 64});
    std::vector<std::string> row = {std::to_string(n)};
    json j = {{"n", n}};
    struct K {
      const char* key;
      std::function<void()> f;
    };
    const std::vector<K> ks = {{"relu", [&] { consume(native::relu(x)); }},
                               {"gelu", [&] { consume(native::gelu(x, "none")); }},
                               {"softmax", [&] { consume(native::softmax(rows, 1)); }}};
    const int inner = n < 100000 ? 20 : 1;
    for (const auto& k : ks) {
      set_num_threads(1);
      const auto body = repeated(inner, {k.f});
      const Timing one = measure_round_robin(cfg.warmup, cfg.reps, body, inner)[0];
      set_num_threads(threads);
      const Timing all = measure_round_robin(cfg.warmup, cfg.reps, body, inner)[0];
      row.push_back(human_time(one.median));
      row.push_back(human_time(all.median) + " (" + ratio(one.median / all.median) + ")");
      j[k.key] = {{"one_thread", to_json(one)},
                  {"all_threads", to_json(all)},
                  {"speedup", one.median / all.median}};
    }
    table.add(row);
    out.push_back(j);
  }
  set_num_threads(threads);
  table.print();
  meaning(
      "Small tensors run on the calling thread: waking threads costs microseconds, more "
      "than the whole op. Above the grain size the work splits into one chunk per thread; "
      "compute-bound kernels (gelu) scale best, memory-bound ones (relu) stop scaling when "
      "the memory bus is the limit. On a shared or virtual machine the speed-up also depends "
      "on what else is running.");
  return {{"threads", threads}, {"sizes", out}};
}

// ═════════════════════════════════════════════════════════════════════════════════════════════
// F. Memory: one kernel vs a chain of ops.
// ═════════════════════════════════════════════════════════════════════════════════════════════
json experiment_memory(const Config& cfg) {
  const int64_t n = cfg.quick ? (1 << 18) : (1 << 22);
  heading("F", "Memory per call",
          "Peak tensor bytes allocated by one call, x = randn(" + std::to_string(n) +
              ") float32 (" + human_bytes(static_cast<double>(n) * 4) + ").");
  const Tensor x = randn({n});
  const Tensor rows = x.view({-1, 1024});
  struct Row {
    std::string name;
    std::function<void()> f;
  };
  const std::vector<Row> rs = {
      {"sigmoid (your kernel)", [&] { consume(native::sigmoid(x)); }},
      {"1 / (1 + exp(−x))  (4 ops)", [&] { consume(1.0 / (1.0 + (-x).exp())); }},
      {"softmax (your kernel)", [&] { consume(native::softmax(rows, 1)); }},
      {"exp(x) / Σ exp(x)  (3 ops)",
       [&] {
         const Tensor e = rows.exp();
         consume(e / e.sum({1}, true));
       }},
      {"softmax of x.t()  (a copy first)", [&] { consume(native::softmax(rows.t(), 1)); }},
  };
  Table table({"call", "peak new bytes", "× input size"});
  json out = json::array();
  for (const auto& r : rs) {
    const int64_t b = peak_bytes(r.f);
    table.add({r.name, human_bytes(static_cast<double>(b)),
               fixed(static_cast<double>(b) / (static_cast<double>(n) * 4), 2)});
    out.push_back({{"name", r.name}, {"peak_bytes", b}});
  }
  table.print();
  meaning(
      "A fused kernel allocates exactly its output. A chain of ops keeps intermediates "
      "alive at once: memory that, in training, autograd would ALSO keep for the backward "
      "pass. That is the second reason (after speed) to fuse.");
  return {{"n", n}, {"rows", out}};
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{
      .name = "lab02", .no_cache = true, .only_help = "e.g. --only BC (letters A-F)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
  const Config cfg{opts.quick, opts.quick ? 5 : 9, opts.quick ? 1 : 2};
  manual_seed(0);
  const LabAllocator allocator(opts.no_cache);  // see lab_support.h
  const Stopwatch stopwatch;
  print_title("TinyTorch module 02 lab — activations, measured",
              cfg.quick ? " (--quick: small sizes)" : "",
              ", kernels use " + std::to_string(get_num_threads()) + " (1 in A, C, D, F)");
  std::cout << "  Each time is the median of " << cfg.reps << " runs after " << cfg.warmup
            << " warm-up run(s); timings vary between runs and machines.\n";
  json machine = machine_json();
  machine["kernel_threads"] = get_num_threads();
  json doc = {
      {"lab", "02_activations"}, {"quick", cfg.quick}, {"repeats", cfg.reps}, {"machine", machine}};
  // A, C, D and F measure the kernels on ONE thread, so that their numbers are about the loops
  // and not about thread scheduling (which on a busy machine can cost milliseconds per parallel
  // region); E is about threads.
  const int threads = get_num_threads();
  auto single = [threads](const std::function<json()>& f) {
    set_num_threads(1);
    json j = f();
    set_num_threads(threads);
    return j;
  };
  const int failed = run_experiments(
      {{"a_throughput", [&] { return single([&] { return experiment_throughput(cfg); }); }},
       {"b_stability", [&] { return experiment_stability(cfg); }},
       {"c_gelu", [&] { return single([&] { return experiment_gelu(cfg); }); }},
       {"d_layouts", [&] { return single([&] { return experiment_layouts(cfg); }); }},
       {"e_threads", [&] { return experiment_threads(cfg); }},
       {"f_memory", [&] { return single([&] { return experiment_memory(cfg); }); }}},
      opts, "02", doc);
  const double total = stopwatch.wall_seconds();
  doc["total_seconds"] = total;
  print_done(total, failed);
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
