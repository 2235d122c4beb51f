// Module 21 lab — Use + Analyze: what data parallelism costs, measured on 2 ranks, and a model
// of it that predicts other rank counts.
//
//   ./tito lab 21                 the full run on 2 ranks (about half a minute)
//   ./tito lab 21 --quick         fewer sizes and repeats (a smoke test)
//   ./tito lab 21 --json out.json also write every measured figure to out.json
//   ./tito lab 21 --only AB       only some experiments (A-D)
//   mpirun -np 4 build/release/bin/lab21     other rank counts (+ --allow-run-as-root as root)
//
//   A  all-reduce vs message size   MPI_Allreduce and YOUR ring all-reduce, 4 B … 64 MiB: time
//                                   per call and bus bandwidth 2(p−1)/p · n / t
//   B  the α–β model                t(n) ≈ α + β·n fitted to A (α: latency from the small
//                                   messages, β: seconds per byte, for messages in cache and
//                                   from DRAM), and how well it predicts every measured size
//   C  buckets                      DDP's sync_gradients on the 1986 MLP with bucket caps from
//                                   16 KiB to 4 MiB: measured vs buckets·α + bytes·β
//   D  scaling                      one training step of the 1986 MLP (global batch 64):
//                                   compute measured at batch 64 and 64/p, communication from
//                                   C; the model's epoch time for 1 and p ranks, and the ring
//                                   model's all-reduce time at 8 … 1024 ranks
//
// The lab starts itself under mpirun on 2 ranks (distributed::relaunch_under_mpirun); every rank
// runs every measurement (collectives need all of them), rank 0 prints. Each rank uses 1 thread.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "lab_support/lab_support.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/distributed/ddp.h"
#include "tinytorch/distributed/mpi.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"

namespace {

using namespace tinytorch;
using namespace tinytorch::lab;
namespace distributed = tinytorch::distributed;
namespace F = tinytorch::nn::functional;

// t(n) = α + β(n) · n: seconds for an all-reduce of n bytes. On one machine the "network" is
// memory, whose bandwidth depends on where the message lives: β_cache for messages that stay in
// the caches (≤ kCacheBytes, measured here), β_dram for those that stream from DRAM.
constexpr int64_t kCacheBytes = int64_t{4} << 20;

struct AlphaBeta {
  double alpha = 0;       // s
  double beta_cache = 0;  // s per byte (1 / bandwidth), messages ≤ kCacheBytes
  double beta_dram = 0;   // s per byte, larger messages (0: none measured, --quick)
  double beta(double bytes) const {
    return bytes <= static_cast<double>(kCacheBytes) || beta_dram == 0 ? beta_cache : beta_dram;
  }
  double predict(double bytes) const { return alpha + beta(bytes) * bytes; }
};

struct SizeTiming {
  int64_t bytes;
  double mpi_s;
  double ring_s;
};

// α: the median time of the messages ≤ 256 B (all latency). β of a range of sizes: the least-
// squares slope of t − α = β·n over it (the line through α; one point is enough). Fitting one
// free line through every size instead would let the big messages' milliseconds swamp the small
// ones' microseconds.
AlphaBeta fit(const std::vector<SizeTiming>& rows, double SizeTiming::*field) {
  std::vector<double> small;
  for (const auto& r : rows) {
    if (r.bytes <= 256) small.push_back(r.*field);
  }
  AlphaBeta m;
  m.alpha = median(small);
  const auto slope = [&](int64_t lo, int64_t hi) {
    double nt = 0, nn = 0;
    for (const auto& r : rows) {
      if (r.bytes < lo || r.bytes > hi) continue;
      const auto n = static_cast<double>(r.bytes);
      nt += n * (r.*field - m.alpha);
      nn += n * n;
    }
    return nn > 0 ? nt / nn : 0.0;
  };
  m.beta_cache = slope(64 << 10, kCacheBytes);
  m.beta_dram = slope(kCacheBytes + 1, INT64_MAX);
  return m;
}

nn::Sequential mlp_1986() {
  return nn::Sequential(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 128), nn::ReLU(),
                        nn::Linear(128, 10));
}

struct Lab {
  distributed::ProcessGroup& pg;
  Config cfg;
  std::vector<SizeTiming> sizes{};
  AlphaBeta mpi_model{}, ring_model{};
  double sync_s = 0;  // sync_gradients with the default 1 MiB buckets (C)

  double bus_gbps(int64_t bytes, double seconds) const {
    const double p = pg.size();
    return 2.0 * (p - 1) / p * static_cast<double>(bytes) / seconds / 1e9;
  }

  json a_sizes() {
    heading("A", "All-reduce time vs message size",
            "float32 tensors of 4 B to 64 MiB, MPI_Allreduce and the ring, timed round-robin on "
            "every rank; rank 0's median per call");
    Table table({"bytes", "MPI", "MPI bus GB/s", "ring", "ring bus GB/s"});
    json rows = json::array();
    const int64_t largest = cfg.quick ? (int64_t{16} << 20) : (int64_t{64} << 20);
    for (int64_t bytes = 4; bytes <= largest; bytes *= 4) {
      Tensor a = ones({bytes / 4});
      Tensor b = ones({bytes / 4});
      // Fewer repeats for the big messages: 64 MiB takes tens of ms.
      const int reps = bytes >= (int64_t{16} << 20) ? std::min(cfg.reps, 5) : cfg.reps * 20;
      const auto t = measure_round_robin(
          cfg.warmup, reps,
          {[&] { pg.all_reduce(a); }, [&] { distributed::ring_all_reduce(pg, b); }});
      sizes.push_back({bytes, t[0].median, t[1].median});
      table.add({human_bytes(static_cast<double>(bytes)), human_time(t[0].median),
                 fixed(bus_gbps(bytes, t[0].median), 2), human_time(t[1].median),
                 fixed(bus_gbps(bytes, t[1].median), 2)});
      rows.push_back({{"bytes", bytes}, {"mpi", to_json(t[0])}, {"ring", to_json(t[1])}});
    }
    table.print();
    meaning(
        "Small messages cost a constant — the latency of a round of messages through shared "
        "memory — whatever their size; large ones cost time in proportion to their bytes. "
        "The bus bandwidth 2(p-1)/p · n / t counts the bytes each rank really sends in a "
        "ring, so it can be compared with a memory copy's bandwidth.");
    return rows;
  }

  json b_model() {
    if (sizes.empty()) a_sizes();
    heading("B", "The α–β model: t(n) = α + β·n",
            "α from the messages <= 256 B; β from 64 KiB - 4 MiB (in cache) and from the larger "
            "messages (from DRAM)");
    mpi_model = fit(sizes, &SizeTiming::mpi_s);
    ring_model = fit(sizes, &SizeTiming::ring_s);
    Table fits({"", "α (latency)", "1/β in cache", "1/β from DRAM", "n½ = α/β (in cache)"});
    const auto gbps = [](double beta) {
      return beta > 0 ? fixed(1.0 / beta / 1e9, 2) + " GB/s" : "-";
    };
    for (const auto& [name, m] : {std::pair{"MPI_Allreduce", mpi_model}, {"ring", ring_model}}) {
      fits.add({name, human_time(m.alpha), gbps(m.beta_cache), gbps(m.beta_dram),
                human_bytes(m.alpha / m.beta_cache)});
    }
    fits.print();
    Table table({"bytes", "MPI measured", "model", "error", "ring measured", "model", "error"});
    for (const auto& r : sizes) {
      const double n = static_cast<double>(r.bytes);
      table.add({human_bytes(n), human_time(r.mpi_s), human_time(mpi_model.predict(n)),
                 fixed(100.0 * (mpi_model.predict(n) / r.mpi_s - 1.0), 0) + "%",
                 human_time(r.ring_s), human_time(ring_model.predict(n)),
                 fixed(100.0 * (ring_model.predict(n) / r.ring_s - 1.0), 0) + "%"});
    }
    table.print();
    const json figures = {{"mpi",
                           {{"alpha_s", mpi_model.alpha},
                            {"beta_cache_s_per_byte", mpi_model.beta_cache},
                            {"beta_dram_s_per_byte", mpi_model.beta_dram}}},
                          {"ring",
                           {{"alpha_s", ring_model.alpha},
                            {"beta_cache_s_per_byte", ring_model.beta_cache},
                            {"beta_dram_s_per_byte", ring_model.beta_dram}}}};
    meaning(
        "Two numbers describe the network: α, paid once per all-reduce, and β, paid per "
        "byte. Below n½ = α/β a message is latency-bound (half its time or more is α): "
        "merge such messages into buckets. Above it, bandwidth-bound: only fewer bytes "
        "(fp16 gradients, compression) or overlap with compute help.");
    return figures;
  }

  json c_buckets() {
    if (mpi_model.beta_cache == 0) b_model();
    heading("C", "Buckets: one all-reduce per bucket",
            "sync_gradients() of the 1986 MLP (235 146 float32 gradients, 919 KiB) at several "
            "bucket caps; model = buckets·α + bytes·β_cache (MPI's fit from B)");
    nn::Sequential model = mlp_1986();
    for (Tensor& p : model->parameters()) p.mutable_grad() = ones_like(p);
    Table table({"bucket cap", "buckets", "measured", "model"});
    json rows = json::array();
    for (int64_t cap : {int64_t{16} << 10, int64_t{64} << 10, int64_t{256} << 10,
                        distributed::kDefaultBucketCapBytes, int64_t{4} << 20}) {
      distributed::DistributedDataParallel ddp(model, pg, cap);
      const Timing t = measure(cfg.warmup, cfg.reps * 5, 1, [&] { ddp.sync_gradients(); });
      const auto buckets = static_cast<double>(ddp.buckets().size());
      const double predicted = buckets * mpi_model.alpha + 235146.0 * 4 * mpi_model.beta(940584.0);
      if (cap == distributed::kDefaultBucketCapBytes) sync_s = t.median;
      table.add({human_bytes(static_cast<double>(cap)), std::to_string(ddp.buckets().size()),
                 human_time(t.median), human_time(predicted)});
      rows.push_back({{"cap_bytes", cap},
                      {"buckets", ddp.buckets().size()},
                      {"time", to_json(t)},
                      {"model_s", predicted}});
    }
    table.print();
    meaning(
        "Each extra bucket adds one α; the bytes cost the same however they are cut. At "
        "this model's size the latency term is small against the bandwidth term, so the cap "
        "barely matters here — it matters when buckets are many and small, and for overlap "
        "(a bucket can only start once it is full).");
    return rows;
  }

  json d_scaling() {
    if (sync_s == 0) c_buckets();
    heading("D", "Scaling: compute + communication per step",
            "one Adam step of the 1986 MLP at batch 64 (1 process) and 64/p (each of p ranks), "
            "1 thread per rank, measured on every rank at once");
    const int p = pg.size();
    auto step_time = [&](int64_t batch) {
      nn::Sequential model = mlp_1986();
      optim::Adam opt(model->parameters(), optim::AdamOptions(1e-3));
      const Tensor x = randn({batch, 784});
      const Tensor y = randint(0, 10, {batch});
      return measure(cfg.warmup, cfg.reps * 3, 1,
                     [&] {
                       opt.zero_grad();
                       F::cross_entropy(model->forward(x), y).backward();
                       opt.step();
                     })
          .median;
    };
    const double compute_1 = step_time(64);
    const double compute_p = step_time(64 / p);
    const int64_t samples = 55000;  // the milestone's training split
    const double steps = static_cast<double>(samples) / 64.0;
    const double epoch_1 = steps * compute_1;
    const double epoch_p = steps * (compute_p + sync_s);
    Table table({"", "compute/step", "all-reduce/step", "epoch (model)", "speedup"});
    table.add({"1 rank, batch 64", human_time(compute_1), "-", fixed(epoch_1, 2) + " s", "1.00×"});
    table.add({std::to_string(p) + " ranks, batch " + std::to_string(64 / p), human_time(compute_p),
               human_time(sync_s), fixed(epoch_p, 2) + " s", ratio(epoch_1 / epoch_p)});
    table.print();
    // The ring's α–β at larger p: 2(p−1) hops of α_hop, 2(p−1)/p · n bytes. From the 2-rank fit:
    // t₂(n) = 2·α_hop + n·β, so α_hop = α/2.
    const double alpha_hop = ring_model.alpha / 2.0;
    Table ring({"ranks", "ring all-reduce, 919 KiB (this MLP)",
                "ring all-reduce, 500 MB (GPT-2 "
                "124M, fp32)"});
    json extrapolated = json::array();
    for (int ranks : {2, 8, 64, 256, 1024}) {
      auto t = [&](double bytes) {
        return 2.0 * (ranks - 1) * alpha_hop +
               2.0 * (ranks - 1) / ranks * bytes * ring_model.beta(bytes);
      };
      ring.add({std::to_string(ranks), human_time(t(940584.0)), human_time(t(500e6))});
      extrapolated.push_back({{"ranks", ranks}, {"mlp_s", t(940584.0)}, {"gpt2_s", t(500e6)}});
    }
    ring.print();
    const json figures = {{"compute_batch64_s", compute_1},
                          {"compute_per_rank_s", compute_p},
                          {"sync_s", sync_s},
                          {"epoch_model_1_s", epoch_1},
                          {"epoch_model_p_s", epoch_p},
                          {"ring_extrapolated", extrapolated}};
    meaning(
        "Data parallelism divides the compute by p but adds an all-reduce that does not "
        "shrink: each rank still sends ~2n bytes. The ring's bandwidth term stays flat as p "
        "grows; its latency term grows with p — at hundreds of ranks a small model's "
        "all-reduce is all latency, which is why large jobs use bigger buckets and tree or "
        "hierarchical all-reduces. Compare the model's epoch times with `tito bench ddp`.");
    return figures;
  }
};

}  // namespace

int main(int argc, char** argv) {
  distributed::relaunch_under_mpirun(argc, argv, /*ranks=*/2);
  distributed::ProcessGroup& pg = distributed::ProcessGroupMPI::world();
  if (pg.rank() != 0) std::cout.rdbuf(nullptr);  // rank 0 prints; the others measure silently
  const CommandLine cli{.name = "lab21", .only_help = "e.g. --only AB (letters A-D)"};
  Options opts;
  if (const auto rc = parse_command_line(argc, argv, cli, opts)) return *rc;
  set_num_threads(1);
  const Config cfg{opts.quick, opts.quick ? 3 : 7, opts.quick ? 1 : 2};
  const Stopwatch stopwatch;
  print_title("TinyTorch module 21 lab — the cost of data parallelism on " +
                  std::to_string(pg.size()) + " ranks (1 thread each)",
              cfg.quick ? " (--quick: up to 16 MiB, fewer repeats)" : "");
  json doc = {{"lab", "21_distributed"}, {"machine", machine_json()}, {"ranks", pg.size()}};
  Lab lab{pg, cfg};
  const int failed = run_experiments({{"a_sizes", [&] { return lab.a_sizes(); }},
                                      {"b_model", [&] { return lab.b_model(); }},
                                      {"c_buckets", [&] { return lab.c_buckets(); }},
                                      {"d_scaling", [&] { return lab.d_scaling(); }}},
                                     opts, "21", doc);
  print_done(stopwatch.wall_seconds(), failed);
  if (pg.rank() == 0 && !opts.json_path.empty() && !write_json(cli.name, opts.json_path, doc)) {
    return 1;
  }
  return failed == 0 ? 0 : 1;
}
