// lstm_bench — a training step of nn::LSTM against PyTorch's nn.LSTM, in the same run, on two
// shapes, at 1 and 2 threads: `./tito bench lstm`.
//
//   * "1997": milestone 1997's LSTM — 2 layers, input 128 (its embedding), hidden 235,
//     batch_first, batch 32 × windows of T = 64 characters;
//   * "wide": 1 layer, input 64, hidden 512, batch 32, T = 32 — fewer, wider steps: more of the
//     time in each step's [32, 512] × [512, 2048] matrix product, less in the per-step overhead.
//
// What is timed, for both frameworks the same way: a training STEP on one fixed batch —
// zero_grad → forward (zero initial state) → mse_loss against a fixed target → backward → SGD
// step (lr 0.01, no momentum) → loss value; the median of many steps after a few untimed ones.
// The input is a fixed random [B, T, input] tensor (the embedding's output, whose lookup is not
// the LSTM's work) and the loss the simplest one both sides compute identically, so the step is
// the LSTM's forward, its backward through time and the update of its weights — nothing else.
//
//   parent ─┬─ python3 bench/lstm_torch.py --threads 1 ──────────────► JSON (PyTorch)
//           ├─ lstm_bench --worker --threads 1 ──────────────────► JSON (ours, both shapes)
//           └─ … --threads 2 …  (ours first, then PyTorch: the order in bench/torch_baseline.h)
//
// After each thread count the parent prints ours vs PyTorch's (speed, > 1x: ours is faster);
// tito's table adds each side's best thread setting.
//
//   lstm_bench [--quick] [--records PATH] [--threads 1,2] [--python PATH]
//
// Records: {"name": "lstm_step", "impl": "tinytorch-fast" | "torch", "mode": "1997: 2 layers
//           128->235, batch 32, T 64", "config": "1997", "threads": 1, "ms": 31.0, ...}
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tinytorch/benchmark/stats.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"
#include "torch_baseline.h"

namespace {

namespace fs = std::filesystem;
namespace tt = tinytorch;
namespace nn = tinytorch::nn;
namespace F = tinytorch::nn::functional;
using Json = tt::bench::Json;
using Clock = std::chrono::steady_clock;

// The shapes measured — the same, in the same order, as bench/lstm_torch.py's CONFIGS.
struct Config {
  const char* name;
  int64_t layers, input, hidden, batch, seq;
};
constexpr Config kConfigs[] = {
    {"1997", 2, 128, 235, 32, 64},  // milestones/1997_lstm's Settings
    {"wide", 1, 64, 512, 32, 32},
};
constexpr double kLearningRate = 0.01;  // the same as bench/lstm_torch.py's

std::string mode(const Config& c) {
  return std::string(c.name) + ": " + std::to_string(c.layers) +
         (c.layers == 1 ? " layer " : " layers ") + std::to_string(c.input) + "->" +
         std::to_string(c.hidden) + ", batch " + std::to_string(c.batch) + ", T " +
         std::to_string(c.seq);
}

// The key of a config's step time in a worker's result (print_ratios compares those).
std::string step_key(const Config& c) {
  return std::string("step_ms_") + c.name;
}

constexpr const char* kUsage =
    "lstm_bench [--quick] [--records PATH] [--threads LIST] [--python PATH]";

// ── the worker: our side ────────────────────────────────────────────────────────────────────
Json run_worker(const tt::bench::CommonOptions& o) {
  tt::set_num_threads(o.threads.front());
  tt::manual_seed(0);
  const int warmup = o.quick ? 2 : 5, count = o.quick ? 5 : 30;
  Json r{{"impl", tt::bench::tinytorch_impl()}, {"threads", tt::get_num_threads()}};
  for (const Config& c : kConfigs) {
    nn::LSTM lstm(nn::LSTMOptions(c.input, c.hidden).num_layers(c.layers).batch_first(true));
    tt::optim::SGD optimizer(lstm->parameters(), tt::optim::SGDOptions(kLearningRate));
    const tt::Tensor x = tt::randn({c.batch, c.seq, c.input});
    const tt::Tensor target = tt::randn({c.batch, c.seq, c.hidden});
    const auto step = [&] {
      optimizer.zero_grad();
      tt::Tensor loss = F::mse_loss(std::get<0>(lstm->forward(x)), target);
      loss.backward();
      optimizer.step();
      return loss.item<double>();
    };
    for (int i = 0; i < warmup; ++i) step();
    std::vector<double> seconds;
    for (int i = 0; i < count; ++i) {
      const auto t0 = Clock::now();
      step();
      seconds.push_back(tt::bench::seconds_since(t0));
    }
    r[step_key(c)] = 1e3 * tt::benchmark::median(seconds);
  }
  return r;
}

// ── the parent ──────────────────────────────────────────────────────────────────────────────

// The records of one side's result r: one lstm_step per config.
std::vector<Json> make_records(const Json& r, const std::string& impl, int threads,
                               const Json& config) {
  std::vector<Json> out;
  for (const Config& c : kConfigs) {
    Json rec{{"name", "lstm_step"},     {"impl", impl},          {"mode", mode(c)},
             {"config", c.name},        {"layers", c.layers},    {"input_size", c.input},
             {"hidden_size", c.hidden}, {"batch_size", c.batch}, {"seq_len", c.seq},
             {"threads", threads}};
    tt::bench::copy_torch_fields(config, rec);
    if (r.contains("failed") || r.contains("skipped")) {
      const char* why = r.contains("failed") ? "failed" : "skipped";
      rec[why] = r[why];
    } else if (!r.contains(step_key(c))) {
      rec["failed"] = "the side measured no such config";
    } else {
      rec["ms"] = r[step_key(c)];
    }
    out.push_back(rec);
  }
  return out;
}

int run_parent(const tt::bench::CommonOptions& o, const char* argv0) {
  tt::bench::SideBySide run("lstm_bench", o.python,
                            fs::path(TINYTORCH_SOURCE_DIR) / "bench" / "lstm_torch.py", argv0);
  std::vector<std::string> labels;  // kept alive: Compared holds their c_str()
  for (const Config& c : kConfigs) labels.push_back(step_key(c));
  std::vector<tt::bench::Compared> compared;
  for (size_t i = 0; i < labels.size(); ++i) {
    compared.push_back({labels[i].c_str(), kConfigs[i].name, tt::bench::Compared::Kind::kTime});
  }
  for (const int t : o.threads) {
    std::vector<std::string> args;
    if (o.quick) args.emplace_back("--quick");
    const auto [mine, theirs] = run.run_both(t, t == o.threads.front(), args);
    run.add(make_records(mine, mine.value("impl", tt::bench::tinytorch_impl()), t, Json()));
    run.add(make_records(theirs, "torch", t, run.torch_config()));
    run.compare(mine, theirs, t, compared);
  }
  return run.finish(o.records_path);
}

}  // namespace

int main(int argc, char** argv) {
  tt::bench::CommonOptions o;
  tt::bench::parse_options(argc, argv, "lstm_bench", kUsage, o);
  return tt::bench::run_main(
      "lstm_bench", kUsage, o, [&] { return run_worker(o); },
      [&] { return run_parent(o, argv[0]); });
}
