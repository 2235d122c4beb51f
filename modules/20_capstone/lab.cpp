// Module 20 lab — Use + Analyze: export, dynamic batching and drift, measured in-process (no HTTP).
//
//   ./tito lab 20                 the full run (about 20 s on the 2-core course VM)
//   ./tito lab 20 --quick         fewer requests per window, a few seconds (a smoke test)
//   ./tito lab 20 --json out.json also write every measured figure to out.json
//   ./tito lab 20 --only A        only some experiments (A-C)
//
//   A  batching window   C client threads each send one Fashion-MNIST-sized row [1, 784] at a
//                        time, closed loop, to a DynamicBatcher in front of a 784-256-128-10 MLP;
//                        for each window (0 = no batching, then 0.5, 1, 2, 5 ms): throughput,
//                        p50/p99 latency, mean batch size
//   B  drift             fit_drift on "training" rows, then PSI of rows from the same distribution,
//                        of brighter rows and of inverted rows
//   C  export            the MLP and its int8 version written as model files: bytes on disk,
//                        load time, batch-1 latency of the loaded models, and the round trip's
//                        exactness
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "lab_support/lab_support.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/benchmark/stats.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/deploy/batcher.h"
#include "tinytorch/deploy/model_file.h"
#include "tinytorch/deploy/monitor.h"
#include "tinytorch/nn/modules/quantized_linear.h"
#include "tinytorch/tinytorch.h"

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;
using Clock = std::chrono::steady_clock;

// Synthetic "images": 784 pixels, 80% of them background (exactly 0), the rest uniform ink —
// the shape of Fashion-MNIST's data without reading the dataset.
Tensor fake_images(int64_t n, float ink_scale, uint64_t seed) {
  Generator gen(seed);
  Tensor x = zeros({n, 784});
  float* p = x.data_ptr<float>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (gen.uniform_double() < 0.2) p[i] = ink_scale * static_cast<float>(gen.uniform_double());
  }
  return x;
}

json experiment_batching(const Config& cfg) {
  heading("A", "The batching window: throughput against latency",
          "8 closed-loop clients, one row each per request, a 784-256-128-10 MLP behind the "
          "batcher (max batch = 8 rows = the clients, 1 worker)");
  manual_seed(20);
  nn::Sequential mlp(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                     nn::Linear(128, 10));
  mlp->eval();
  const auto forward = [&](const Tensor& x) { return mlp->forward(x); };
  const Tensor images = fake_images(256, 1.0f, 1);
  const int clients = 8;
  const int per_client = cfg.quick ? 50 : 300;
  Table table({"window", "req/s", "p50", "p99", "mean batch", "batches"});
  json rows = json::array();
  for (const int window_us : {0, 500, 1000, 2000, 5000}) {
    deploy::DynamicBatcher batcher(forward, {.max_batch_size = clients,
                                             .max_wait = std::chrono::microseconds(window_us),
                                             .max_queue = 256,
                                             .num_workers = 1});
    std::vector<std::vector<double>> latencies(clients);
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        for (int i = 0; i < per_client; ++i) {
          const Tensor row = images.narrow(0, (c * per_client + i) % images.size(0), 1);
          const auto t0 = Clock::now();
          deploy::Submission s = batcher.submit(row);
          if (s.accepted()) consume(static_cast<double>(s.result.get().numel()));
          latencies[static_cast<size_t>(c)].push_back(
              std::chrono::duration<double>(Clock::now() - t0).count());
        }
      });
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::vector<double> all;
    for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    const deploy::BatcherStats st = batcher.stats();
    const double throughput = static_cast<double>(all.size()) / seconds;
    const double p50 = benchmark::percentile(all, 50), p99 = benchmark::percentile(all, 99);
    const double mean_batch = static_cast<double>(st.rows) / static_cast<double>(st.batches);
    table.add({window_us == 0 ? "off" : fixed(window_us / 1000.0, 1) + " ms", fixed(throughput, 0),
               human_time(p50), human_time(p99), fixed(mean_batch, 1), std::to_string(st.batches)});
    rows.push_back({{"window_us", window_us},
                    {"requests_per_s", throughput},
                    {"p50_s", p50},
                    {"p99_s", p99},
                    {"mean_batch", mean_batch},
                    {"batches", st.batches}});
  }
  table.print();
  meaning(
      "Without a window every request is a [1, 784] forward call: the weights (0.9 MiB) stream "
      "through the cache once per ROW. With a window the 8 clients' rows share calls, so each "
      "weight read serves 8 rows. A batch runs as soon as it is FULL (8 rows here), so the window "
      "is an upper bound that a busy server rarely waits out; set max_batch_size above the "
      "concurrency and every batch waits the whole window instead. Little's law ties the columns "
      "together: 8 requests in flight = throughput × mean latency, so a higher throughput at the "
      "same concurrency IS a lower mean latency.");
  return {{"clients", clients}, {"requests_per_client", per_client}, {"windows", rows}};
}

json experiment_drift(const Config& cfg) {
  heading("B", "Drift: the population stability index per pixel",
          "fit_drift on 2000 training rows (10 equal-frequency buckets), then PSI of 500 rows of "
          "each kind");
  const int64_t n = cfg.quick ? 500 : 2000;
  const deploy::DriftReference ref = deploy::fit_drift(fake_images(n, 1.0f, 2), 10);
  Table table({"inputs", "mean PSI", "max PSI", "PSI > 0.1", "PSI > 0.25"});
  json out = json::object();
  const Tensor same = fake_images(500, 1.0f, 3);
  const Tensor brighter = fake_images(500, 1.5f, 4).clamp(0.0, 1.0);
  const Tensor inverted = fake_images(500, 1.0f, 5).neg().add(1.0);
  for (const auto& [name, x] :
       std::vector<std::pair<std::string, Tensor>>{{"same distribution", same},
                                                   {"brighter ink (×1.5)", brighter},
                                                   {"inverted", inverted}}) {
    deploy::DriftMonitor monitor(ref);
    monitor.observe(x);
    const deploy::DriftReport r = monitor.report();
    table.add({name, fixed(r.mean_psi, 3), fixed(r.max_psi, 3), std::to_string(r.above_moderate),
               std::to_string(r.above_major)});
    out[name] = {{"mean_psi", r.mean_psi},
                 {"max_psi", r.max_psi},
                 {"above_0_1", r.above_moderate},
                 {"above_0_25", r.above_major}};
  }
  table.print();
  meaning(
      "Rows from the training distribution score a small PSI (sampling noise of 500 rows in 10 "
      "buckets); brighter ink moves mass between the ink buckets; inverted images put 80% of "
      "each pixel's mass where training had none — every pixel is over 0.25. A monitor alerts on "
      "the summary (how many features moved), not on one noisy pixel.");
  return out;
}

json experiment_export(const Config& cfg) {
  heading("C", "Export: the model file, float32 and int8",
          "milestone 1986's MLP shape (784-256-128-10) and its quantize_dynamic version, exported "
          "to a temporary folder and loaded back as the server loads them");
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tinytorch-lab20-" + std::to_string(getpid()));
  fs::create_directories(dir);
  manual_seed(1986);
  nn::Sequential mlp(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                     nn::Linear(128, 10));
  mlp->eval();
  const nn::Sequential int8 = quantization::quantize_dynamic(mlp);
  const deploy::ModelSignature sig{.name = "lab-mlp",
                                   .version = "",
                                   .input_shape = {784},
                                   .input_dtype = kFloat32,
                                   .labels = {}};
  const Tensor x = fake_images(1, 1.0f, 6);
  const int reps = cfg.quick ? 5 : 25;
  Table table({"model", "file", "weights", "load", "forward [1, 784]", "round trip"});
  json out = json::object();
  for (const auto& [name, model] :
       std::vector<std::pair<std::string, nn::Sequential>>{{"float32", mlp}, {"int8", int8}}) {
    const std::string path = (dir / (name + ".ttm")).string();
    deploy::export_model(*model.ptr(), sig, path);
    const Timing load =
        measure(1, reps, 1, [&] { consume(deploy::InferenceModel::load(path).num_outputs()); });
    const deploy::InferenceModel loaded = deploy::InferenceModel::load(path);
    const Timing forward = measure(20, reps * 20, 1, [&] { consume(loaded.forward(x).numel()); });
    Tensor want;
    {
      NoGradGuard no_grad;
      want = model->forward(x);
    }
    const double diff = (loaded.forward(x) - want).abs().max().item<double>();
    const auto file_bytes = static_cast<double>(fs::file_size(path));
    table.add({name, human_bytes(file_bytes),
               human_bytes(static_cast<double>(loaded.weight_bytes())), human_time(load.median),
               human_time(forward.median), diff == 0.0 ? "exact" : "max |Δ| " + sci(diff)});
    out[name] = {{"file_bytes", file_bytes},
                 {"weight_bytes", loaded.weight_bytes()},
                 {"load", to_json(load)},
                 {"forward_batch1", to_json(forward)},
                 {"max_abs_difference", diff}};
  }
  fs::remove_all(dir);
  table.print();
  meaning(
      "The file is the weights plus a few hundred bytes of JSON (architecture, signature) and "
      "the archive's header: int8 stores one byte per weight and a float scale per output row, "
      "about a quarter of float32. Loading reads the file, checks its CRC-32, rebuilds the layers, "
      "loads their tensors and packs the int8 weights for this CPU's kernel, in milliseconds: a "
      "server restarts in the time of a few requests. The round trip is exact (the same float32 "
      "bits, the same int8 codes) because nothing is recomputed from rounded values.");
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cli{.name = "lab20", .only_help = "e.g. --only B (letters A-C)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
  const Config cfg{opts.quick, 1, 1};
  set_num_threads(1);  // the clients and the batcher's worker share the 2 course cores
  const LabAllocator allocator(false);
  const Stopwatch stopwatch;
  print_title("TinyTorch module 20 lab — serving: dynamic batching, drift, export",
              cfg.quick ? " (--quick: fewer requests)" : "", "; model on 1 thread");
  json doc = {{"lab", "20_capstone"}, {"quick", cfg.quick}, {"machine", machine_json()}};
  const int failed = run_experiments({{"a_batching", [&] { return experiment_batching(cfg); }},
                                      {"b_drift", [&] { return experiment_drift(cfg); }},
                                      {"c_export", [&] { return experiment_export(cfg); }}},
                                     opts, "20", doc);
  const double total = stopwatch.wall_seconds();
  doc["total_seconds"] = total;
  print_done(total, failed);
  std::cout << "\n";
  if (!opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) return 1;
  return failed ? 1 : 0;
}
