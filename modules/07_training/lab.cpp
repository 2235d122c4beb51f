// Module 07 lab — Use + Reflect: what a training loop spends its time and memory on, measured on
// YOUR machine with the 1986 MLP (784-256-128-10) on Fashion-MNIST.
//
//   ./tito lab 07                   the full run (about 7 s on a quiet 2-core machine)
//   ./tito lab 07 --quick           fewer steps and sizes (a smoke test, a few seconds)
//   ./tito lab 07 --json out.json   also write every measured figure to out.json (atomically)
//   ./tito lab 07 --threads 1       kernel threads (default: the framework's default)
//
// Experiments (chapter: modules/07_training/README.md, "The lab"):
//
//   A  one training step, timed phase by phase: data → forward+loss → backward → optimizer
//   B  throughput (samples/s) by batch size
//   C  evaluation with and without NoGradGuard: time and peak tensor memory
//   D  checkpoints: what is in one, its size, save and load times
//   E  resume exactness: 1 epoch + resume + 1 epoch vs 2 epochs, with and without the RNG state
//
// Fashion-MNIST comes from the Debian package dataset-fashion-mnist; without it the lab uses
// random images of the same shape (the times are the same, the accuracies meaningless).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include "lab_support/lab_support.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/serialize/archive.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/train.h"

namespace {

namespace tt = tinytorch;
namespace nn = tinytorch::nn;
namespace optim = tinytorch::optim;
namespace data = tinytorch::data;
namespace train = tinytorch::train;
namespace lab = tinytorch::lab;  // the shared lab code: the command line, the JSON record
using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

using lab::fixed;
using lab::median;

std::string mib(double bytes) {
  return fixed(bytes / (1024.0 * 1024.0), 2) + " MiB";
}

// ── data and model ──────────────────────────────────────────────────────────────────────────

struct Data {
  data::TensorDataset train;
  data::TensorDataset test;
  bool real = true;
};

// Images as [N, 784] standardised once (as the milestone does), or random stand-ins.
Data load_data(bool quick) {
  auto prepare = [](const data::TensorDataset& d) {
    tt::Tensor x = d.data().reshape({d.size(), 784});
    x.sub_(0.2860).div_(0.3530);
    return data::TensorDataset(x, d.targets());
  };
  try {
    data::TensorDataset test = prepare(data::load_fashion_mnist(data::kFashionMnistDir, false));
    // --quick trains on the 10 000 test images: loading 60 000 takes seconds by itself.
    data::TensorDataset train =
        quick ? test : prepare(data::load_fashion_mnist(data::kFashionMnistDir, true));
    return {train, test, true};
  } catch (const tt::Error& e) {
    std::cout << "(Fashion-MNIST not available: " << e.what()
              << "\n using random images instead; install dataset-fashion-mnist for real data)\n";
    tt::Generator gen(7);
    auto fake = [&](int64_t n) {
      return data::TensorDataset(tt::randn({n, 784}, {}, &gen), tt::randint(10, {n}, {}, &gen));
    };
    return {fake(quick ? 10000 : 60000), fake(10000), false};
  }
}

nn::Sequential make_mlp() {
  return nn::Sequential(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                        nn::Linear(128, 10));
}

tt::Tensor loss_fn(const tt::Tensor& logits, const tt::Tensor& labels) {
  return tt::cross_entropy(logits, labels);
}

// ── A: one training step, phase by phase ────────────────────────────────────────────────────
//
// This is the plain training loop — the whole of it — with a stopwatch between the lines.

json experiment_step_breakdown(const Data& d, bool quick) {
  std::cout << "\nA. One training step, phase by phase (batch 64, Adam)\n";
  const int64_t steps = quick ? 60 : 400;
  tt::manual_seed(1);
  nn::Sequential model = make_mlp();
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(1e-3));
  data::DataLoader loader(d.train, {.batch_size = 64, .shuffle = true, .seed = 1});

  std::vector<double> t_data, t_forward, t_backward, t_step;
  model->train();
  int64_t step = 0;
  auto t0 = Clock::now();
  for (auto& batch : loader) {
    const auto t1 = Clock::now();                     // the batch is here
    optimizer.zero_grad();                            // grads → undefined
    tt::Tensor logits = model(batch.data);            // forward: records the graph
    tt::Tensor loss = loss_fn(logits, batch.target);  //   and the loss
    const auto t2 = Clock::now();
    loss.backward();  // backward: every param.grad
    const auto t3 = Clock::now();
    optimizer.step();  // update, in place
    const auto t4 = Clock::now();
    static_cast<void>(loss.item<double>());  // read the loss (a real loop logs it)
    if (step >= 10) {                        // the first steps warm caches up
      t_data.push_back(seconds(t1 - t0));
      t_forward.push_back(seconds(t2 - t1));
      t_backward.push_back(seconds(t3 - t2));
      t_step.push_back(seconds(t4 - t3));
    }
    t0 = Clock::now();
    if (++step == steps) break;
  }
  const double total = median(t_data) + median(t_forward) + median(t_backward) + median(t_step);
  std::cout << "  median of " << t_data.size() << " steps:\n";
  json out = json::object();
  for (const auto& [name, v] :
       std::vector<std::pair<std::string, std::vector<double>*>>{{"data", &t_data},
                                                                 {"forward+loss", &t_forward},
                                                                 {"backward", &t_backward},
                                                                 {"optimizer step", &t_step}}) {
    const double m = median(*v);
    const int bar = static_cast<int>(std::lround(40.0 * m / total));
    std::cout << "  " << std::setw(15) << std::left << name << std::right << std::setw(9)
              << fixed(1e3 * m, 3) << " ms  " << std::setw(5) << fixed(100.0 * m / total, 1)
              << "%  " << std::string(static_cast<size_t>(bar), '#') << "\n";
    out[name] = {{"median_ms", 1e3 * m}, {"share", m / total}};
  }
  std::cout << "  step total " << fixed(1e3 * total, 3) << " ms → " << fixed(64.0 / total, 0)
            << " samples/s\n";
  // FLOPs of one step (2 per multiply-add). Forward: every weight once per sample. Backward: the
  // weight gradients (as many as the forward) plus the input gradients of every layer but the
  // first — the images need no gradient. Bias, ReLU, loss and Adam are O(B·width) or O(P): small.
  const double macs_per_sample = 784.0 * 256 + 256.0 * 128 + 128.0 * 10;
  const double input_grad_macs = 256.0 * 128 + 128.0 * 10;
  const double flops = 2.0 * 64.0 * (2.0 * macs_per_sample + input_grad_macs);
  std::cout << "  ≈ " << fixed(flops / 1e6, 1) << " MFLOP per step → "
            << fixed(flops / total / 1e9, 2) << " GFLOP/s achieved\n";
  out["step_ms"] = 1e3 * total;
  out["samples_per_second"] = 64.0 / total;
  out["gflops"] = flops / total / 1e9;
  return out;
}

// ── B: throughput by batch size ─────────────────────────────────────────────────────────────

// Each batch size gets its own model, optimizer and loader, and they are timed ROUND-ROBIN: a
// chunk of steps for batch 8, then for 16, ..., then again from 8 — so a burst of other work on
// the machine slows all sizes alike instead of one. The median chunk is reported.
json experiment_batch_sizes(const Data& d, bool quick) {
  std::cout << "\nB. Training throughput by batch size (Adam; median of round-robin chunks)\n";
  const std::vector<int64_t> sizes = quick ? std::vector<int64_t>{16, 64, 256}
                                           : std::vector<int64_t>{8, 16, 32, 64, 128, 256, 512};
  const int64_t samples_per_chunk = quick ? 2048 : 4096;
  const int rounds = quick ? 3 : 7;
  struct Config {
    int64_t batch_size;
    nn::Sequential model;
    std::unique_ptr<optim::Adam> optimizer;
    std::unique_ptr<data::DataLoader> loader;
    std::optional<data::DataLoader::Iterator> it;
    std::vector<double> samples_per_second;
  };
  std::vector<Config> configs;
  configs.reserve(sizes.size());
  for (const int64_t b : sizes) {
    tt::manual_seed(2);
    Config c{b, make_mlp(), nullptr, nullptr, std::nullopt, {}};
    c.optimizer = std::make_unique<optim::Adam>(c.model->parameters(), optim::AdamOptions(1e-3));
    c.loader = std::make_unique<data::DataLoader>(
        d.train, data::LoaderOptions{.batch_size = b, .shuffle = true, .seed = 2});
    configs.push_back(std::move(c));
  }
  // `steps` training steps of one configuration; returns samples per second.
  auto run_chunk = [&](Config& c, int64_t steps) {
    const auto forward = train::forward_of(c.model);
    int64_t seen = 0;
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < steps; ++i) {
      if (!c.it || *c.it == c.loader->end()) c.it.emplace(c.loader->begin());
      train::train_step(forward, loss_fn, *c.optimizer, **c.it);
      seen += (**c.it).data.size(0);
      ++*c.it;
    }
    return static_cast<double>(seen) / seconds(Clock::now() - t0);
  };
  for (auto& c : configs) run_chunk(c, 2);  // warm-up
  for (int r = 0; r < rounds; ++r) {
    for (auto& c : configs) {
      c.samples_per_second.push_back(
          run_chunk(c, std::max<int64_t>(samples_per_chunk / c.batch_size, 2)));
    }
  }
  json out = json::array();
  const double base = median(configs.front().samples_per_second);
  std::cout << "  batch   samples/s   vs batch " << sizes.front() << "   ms/step   (min … max)\n";
  for (const auto& c : configs) {
    const double sps = median(c.samples_per_second);
    const auto [lo, hi] =
        std::minmax_element(c.samples_per_second.begin(), c.samples_per_second.end());
    const double ms = 1e3 * static_cast<double>(c.batch_size) / sps;
    std::cout << "  " << std::setw(5) << c.batch_size << std::setw(12) << train::format_count(sps)
              << std::setw(12) << fixed(sps / base, 2) << "x" << std::setw(10) << fixed(ms, 3)
              << "   (" << train::format_count(*lo) << " … " << train::format_count(*hi) << ")\n";
    out.push_back({{"batch_size", c.batch_size},
                   {"samples_per_second", sps},
                   {"ms_per_step", ms},
                   {"samples_per_second_runs", c.samples_per_second}});
  }
  return out;
}

// ── C: evaluation with and without a graph ──────────────────────────────────────────────────

json experiment_no_grad(const Data& d, bool quick) {
  std::cout << "\nC. Evaluating the test set (batch 1000): with a graph vs under NoGradGuard\n";
  tt::manual_seed(3);
  nn::Sequential model = make_mlp();
  model->eval();
  data::DataLoader loader(d.test, {.batch_size = 1000});
  tt::Allocator* alloc = tt::get_allocator();
  json out = json::object();
  const int repeats = quick ? 2 : 5;
  double times[2] = {0, 0};
  for (const bool no_grad : {false, true}) {
    std::vector<double> t;
    int64_t peak = 0;
    for (int r = 0; r < repeats; ++r) {
      const int64_t live_before = alloc->stats().live_bytes;
      alloc->reset_peak();
      const auto t0 = Clock::now();
      double loss_sum = 0;
      {
        std::unique_ptr<tt::NoGradGuard> guard;
        if (no_grad) guard = std::make_unique<tt::NoGradGuard>();
        std::vector<tt::Tensor> kept;  // a careless loop keeps each loss tensor (and its graph)
        for (auto& batch : loader) {
          tt::Tensor loss = loss_fn(model(batch.data), batch.target);
          loss_sum += loss.item<double>();
          kept.push_back(loss);
        }
      }
      t.push_back(seconds(Clock::now() - t0));
      peak = std::max(peak, alloc->stats().peak_bytes - live_before);
      static_cast<void>(loss_sum);
    }
    const double m = median(t);
    times[no_grad ? 1 : 0] = m;
    const char* name = no_grad ? "NoGradGuard" : "grad mode on";
    std::cout << "  " << std::setw(13) << std::left << name << std::right << "  "
              << fixed(1e3 * m, 1) << " ms   peak new tensor memory "
              << mib(static_cast<double>(peak)) << "\n";
    out[no_grad ? "no_grad" : "grad"] = {{"ms", 1e3 * m}, {"peak_bytes", peak}};
  }
  std::cout << "  (with grad mode on, every batch's graph keeps its activations alive as long as "
               "its loss tensor lives)\n";
  out["speedup"] = times[0] / times[1];
  return out;
}

// ── D: checkpoints ──────────────────────────────────────────────────────────────────────────

json experiment_checkpoint(const Data& d, bool quick) {
  std::cout << "\nD. Checkpoints: what is inside, size, save and load time\n";
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tt_lab07_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "checkpoint.ttc").string();

  tt::manual_seed(4);
  nn::Sequential model = make_mlp();
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(1e-3));
  optim::CosineAnnealingLR scheduler(optimizer, 10);
  data::DataLoader loader(d.train, {.batch_size = 64, .shuffle = true, .seed = 4});
  int64_t steps = 0;
  for (auto& batch : loader) {  // a few steps, so Adam has its moment buffers
    train::train_step(train::forward_of(model), loss_fn, optimizer, batch);
    if (++steps == 5) break;
  }
  const train::TrainingState state{
      .model = model.ptr().get(),
      .optimizer = &optimizer,
      .scheduler = &scheduler,
      .generators = {{"default", &tt::default_generator()}, {"train_loader", &loader.generator()}}};
  train::History history;
  history.append({{"epoch", 1}, {"train_loss", 0.5}});

  auto bytes_of = [](const tt::OrderedDict<std::string, tt::Tensor>& dict) {
    int64_t n = 0;
    for (const auto& item : dict) n += item.value().nbytes();
    return n;
  };
  const train::Checkpoint ckpt = train::capture_checkpoint(state, 1, history);
  const int64_t model_bytes = bytes_of(ckpt.model);
  const int64_t opt_bytes = bytes_of(ckpt.optimizer);
  const int repeats = quick ? 3 : 9;
  std::vector<double> t_save, t_load, t_restore;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = Clock::now();
    train::save_checkpoint(train::capture_checkpoint(state, 1, history), path);
    t_save.push_back(seconds(Clock::now() - t0));
    t0 = Clock::now();
    const train::Checkpoint loaded = train::load_checkpoint(path);
    t_load.push_back(seconds(Clock::now() - t0));
    t0 = Clock::now();
    train::restore_checkpoint(loaded, state);
    t_restore.push_back(seconds(Clock::now() - t0));
  }
  const auto file_bytes = static_cast<int64_t>(fs::file_size(path));
  std::cout << "  model parameters      " << std::setw(12) << mib(static_cast<double>(model_bytes))
            << "\n  Adam state (m, v)     " << std::setw(12) << mib(static_cast<double>(opt_bytes))
            << "  (m and v: twice the model — an Adam checkpoint is 3× the weights)\n"
            << "  file on disk          " << std::setw(12) << mib(static_cast<double>(file_bytes))
            << "  (+" << file_bytes - model_bytes - opt_bytes
            << " bytes of header, RNG states, history, CRC)\n"
            << "  save (capture+write)  " << std::setw(9) << fixed(1e3 * median(t_save), 2)
            << " ms   " << fixed(static_cast<double>(file_bytes) / median(t_save) / 1e9, 2)
            << " GB/s\n"
            << "  load (read+check)     " << std::setw(9) << fixed(1e3 * median(t_load), 2)
            << " ms\n"
            << "  restore into objects  " << std::setw(9) << fixed(1e3 * median(t_restore), 2)
            << " ms\n";
  fs::remove_all(dir);
  return {{"model_bytes", model_bytes},      {"optimizer_bytes", opt_bytes},
          {"file_bytes", file_bytes},        {"save_ms", 1e3 * median(t_save)},
          {"load_ms", 1e3 * median(t_load)}, {"restore_ms", 1e3 * median(t_restore)}};
}

// ── E: resume exactness ─────────────────────────────────────────────────────────────────────

json experiment_resume(const Data& d, bool quick) {
  std::cout << "\nE. Resume exactness: 2 epochs straight vs 1 epoch + checkpoint + resume + 1\n";
  const int64_t n = quick ? 1024 : 4096;
  std::vector<int64_t> first(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) first[static_cast<size_t>(i)] = i;
  auto subset = std::make_shared<const data::Subset>(
      std::make_shared<const data::TensorDataset>(d.train), first);

  // The 1986 MLP plus Dropout, so the default generator matters too.
  auto run = [&](uint64_t seed) {
    tt::manual_seed(seed);
    struct R {
      nn::Sequential model{nn::Linear(784, 256), nn::ReLU(), nn::Dropout(0.2),
                           nn::Linear(256, 128), nn::ReLU(), nn::Linear(128, 10)};
      optim::Adam optimizer{model->parameters(), optim::AdamOptions(1e-3)};
      std::unique_ptr<data::DataLoader> loader;
      std::unique_ptr<train::Trainer> trainer;
    };
    auto r = std::make_unique<R>();
    r->loader = std::make_unique<data::DataLoader>(
        subset, data::LoaderOptions{.batch_size = 64, .shuffle = true, .seed = seed});
    train::TrainerOptions o;
    o.progress.mode = train::ProgressMode::kSilent;
    r->trainer =
        std::make_unique<train::Trainer>(r->model, r->optimizer, loss_fn, *r->loader, nullptr, o);
    return r;
  };
  auto max_diff = [](const nn::Module& a, const nn::Module& b) {
    double m = 0;
    const auto sb = b.state_dict();
    for (const auto& [key, value] : a.state_dict()) {
      m = std::max(m, (value - sb[key]).abs().max().item<double>());
    }
    return m;
  };
  const std::string path =
      (std::filesystem::temp_directory_path() / ("tt_lab07_resume_" + std::to_string(::getpid())))
          .string();

  auto straight = run(5);
  straight->trainer->fit(2);
  auto part1 = run(5);
  part1->trainer->fit(1);
  part1->trainer->save_checkpoint(path);
  auto resumed = run(99);  // a "new process": other seed, other weights, other random state
  resumed->trainer->resume(path);
  resumed->trainer->fit(2);
  // The same, but restoring only model + optimizer (what many hand-written loops save).
  auto partial = run(99);
  train::restore_checkpoint(train::load_checkpoint(path), {.model = partial->model.ptr().get(),
                                                           .optimizer = &partial->optimizer});
  partial->trainer->fit(1);
  std::filesystem::remove(path);

  const double d_full = max_diff(*straight->model, *resumed->model);
  const double d_partial = max_diff(*straight->model, *partial->model);
  const double l_straight = straight->trainer->history().at(-1, "train_loss");
  const double l_resumed = resumed->trainer->history().at(-1, "train_loss");
  std::cout << "  full checkpoint (weights, Adam, RNG states):  max |Δparam| = " << d_full
            << ", epoch-2 loss " << train::format_number(l_straight) << " vs "
            << train::format_number(l_resumed) << (d_full == 0 ? "  → bit-identical\n" : "\n")
            << "  weights + optimizer only (no RNG states):     max |Δparam| = " << d_partial
            << "  → other shuffle and dropout masks\n";
  return {{"max_abs_diff_full", d_full},
          {"max_abs_diff_without_rng", d_partial},
          {"bit_identical", d_full == 0.0}};
}

}  // namespace

int main(int argc, char** argv) {
  const lab::CommandLine cli{
      .name = "lab07",
      .quick_help = "fewer steps and sizes (trains on the 10 000 test images): a few seconds",
      .threads_help = "kernel threads (set_num_threads; default: the framework's default)"};
  lab::Options opts;
  if (const auto rc = lab::parse_command_line(argc, argv, cli, opts)) return *rc;
  const bool quick = opts.quick;
  try {
    if (opts.threads > 0) tt::set_num_threads(opts.threads);
    const lab::Stopwatch stopwatch;
    std::cout << "Module 07 lab: the training loop, measured (" << (quick ? "--quick, " : "")
              << tt::get_num_threads() << " kernel thread(s))\n";
    lab::print_which_code();
    const Data d = load_data(quick);
    json out;
    out["quick"] = quick;
    out["threads"] = tt::get_num_threads();
    out["real_data"] = d.real;
    out["A_step_breakdown"] = experiment_step_breakdown(d, quick);
    out["B_batch_sizes"] = experiment_batch_sizes(d, quick);
    out["C_no_grad"] = experiment_no_grad(d, quick);
    out["D_checkpoint"] = experiment_checkpoint(d, quick);
    out["E_resume"] = experiment_resume(d, quick);
    const double wall = stopwatch.wall_seconds();
    const double cpu = stopwatch.cpu_seconds();
    out["wall_seconds"] = wall;
    out["cpu_seconds"] = cpu;
    std::cout << "\nran " << fixed(wall, 1) << " s wall, " << fixed(cpu, 1)
              << " s CPU (all threads); on a busy machine the times above are inflated\n";
    if (!opts.json_path.empty() && !lab::write_json(cli.name, opts.json_path, out)) return 1;
  } catch (const std::exception& e) {
    std::cerr << "lab07: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
