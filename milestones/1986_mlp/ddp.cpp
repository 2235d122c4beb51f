// Milestone 1986, data-parallel — the same 784-256-128-10 MLP as main.cpp, trained on several MPI
// ranks with YOUR module 21: DistributedSampler shards every epoch, DistributedDataParallel
// broadcasts rank 0's weights and averages the gradients bucket by bucket, rank 0 writes the
// checkpoint and the results.
//
//   ./tito distributed run -n 2 1986                          2 ranks, 10 epochs
//   build/release/bin/milestone_1986_ddp --ranks 2            the same (it starts mpirun itself)
//   mpirun -np 2 build/release/bin/milestone_1986_ddp         by hand (+ --allow-run-as-root
//                                                             as root; see modules/21_distributed)
//   mpirun --hostfile hosts -np 8 build/release/bin/milestone_1986_ddp   several machines
//
// One global step = p ranks × (batch / p) samples: with --batch-size 64 (the global batch, as in
// main.cpp) each of 2 ranks trains on 32 samples per step, and the update is the one a single
// process makes on all 64 (modules/21_distributed/tests/test_ddp.cpp checks that exactly).
//
//   rank 0: shard 0 ─► forward/backward ─► grads ─┐ all-reduce  ┌─► Adam step ─► prints, writes
//   rank 1: shard 1 ─► forward/backward ─► grads ─┘ (buckets)   └─► Adam step (same weights)
//
// Writes into --out (default runs/1986_ddp/), from rank 0: checkpoint.ttc (resumable with
// --resume, on any number of ranks), metrics.csv, metrics.json, training_curve.svg after every
// epoch, confusion_matrix.svg at the end. "epoch_seconds" is the training part of the epoch
// (validation excluded): the figure `tito bench ddp` compares across rank and thread counts.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/cli.h"
#include "common/fashion_mnist.h"
#include "common/models.h"
#include "common/outputs.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/data/dataloader.h"
#include "tinytorch/data/idx.h"
#include "tinytorch/distributed/ddp.h"
#include "tinytorch/distributed/mpi.h"
#include "tinytorch/distributed/sampler.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/train.h"

namespace tt = tinytorch;
namespace nn = tinytorch::nn;
namespace F = tinytorch::nn::functional;
namespace optim = tinytorch::optim;
namespace data = tinytorch::data;
namespace train = tinytorch::train;
namespace distributed = tinytorch::distributed;

namespace {

struct Settings {
  int ranks = 2;  // used only when not started by mpirun (then mpirun's -np decides)
  int64_t epochs = 10;
  uint64_t seed = 1986;
  int64_t batch_size = 64;  // the GLOBAL batch: batch_size / ranks per rank
  double lr = 1e-3;
  int threads = 1;  // per rank: 2 ranks × 1 thread use the 2 cores 1 rank × 2 threads would
  int64_t workers = 0;
  int64_t val_size = 5000;
  int64_t bucket_kib = distributed::kDefaultBucketCapBytes >> 10;
  std::string data_dir = data::kFashionMnistDir;
  std::string out_dir = "runs/1986_ddp";
  std::string json_path;
  std::string resume_path;
  bool quiet = false;
};

// The sums one epoch's training accumulates on a rank, all-reduced into the global figures.
struct EpochSums {
  double loss = 0.0;  // Σ batch loss × batch size
  double correct = 0.0;
  double samples = 0.0;
};

int run(const Settings& s) {
  namespace ms = tt::milestones;
  const auto t_start = std::chrono::steady_clock::now();
  distributed::ProcessGroup& pg = distributed::ProcessGroupMPI::world();
  const bool rank0 = pg.rank() == 0;
  std::ostream& out = std::cout;  // rank 0 prints; the others are silent
  TT_CHECK_VALUE(s.batch_size % pg.size() == 0, "--batch-size ", s.batch_size,
                 " is the global batch and must be divisible by the ", pg.size(), " ranks");
  const int64_t rank_batch = s.batch_size / pg.size();
  {
    std::string error;
    try {
      if (rank0) ms::check_outputs(s.json_path, s.out_dir);  // before training, not after
    } catch (const tt::Error& e) {
      error = e.what();
    }
    distributed::agree_or_throw(pg, error.empty(), "rank 0's outputs: " + error);
  }
  tt::set_num_threads(s.threads);
  tt::manual_seed(s.seed);

  // ── data: every rank loads the same splits (same seed), then trains on its shard ────────
  const ms::FashionMnistSplits splits =
      ms::load_splits(s.data_dir, s.val_size, s.seed, /*sample_shape=*/{784});
  const auto train_set = std::make_shared<const data::Subset>(splits.train);
  distributed::DistributedSampler sampler(train_set->size(), pg.size(), pg.rank(),
                                          /*shuffle=*/true, s.seed);
  data::DataLoader val_loader(splits.val, {.batch_size = 1000, .num_workers = s.workers});
  data::DataLoader test_loader(splits.test, {.batch_size = 1000, .num_workers = s.workers});

  // ── model (rank 0's weights everywhere), optimizer, schedule ────────────────────────────
  nn::Sequential model = ms::mlp_1986();
  distributed::DistributedDataParallel ddp(model, pg, s.bucket_kib << 10);
  // What ./tito export needs in every checkpoint, and the exported model.ttm (module 20).
  const auto signature = ms::fashion_signature("fashion-mlp", {784});
  const auto export_metadata = ms::export_metadata(*model.ptr(), signature);
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(s.lr));
  optim::CosineAnnealingLR scheduler(optimizer, std::max<int64_t>(s.epochs, 1));
  auto loss_fn = [](const tt::Tensor& logits, const tt::Tensor& labels) {
    return F::cross_entropy(logits, labels);
  };
  // The sampler's order comes from (seed, epoch) and the weights from the checkpoint: the
  // default generator is all the state besides model, optimizer and scheduler.
  const train::TrainingState state{.model = model.ptr().get(),
                                   .optimizer = &optimizer,
                                   .scheduler = &scheduler,
                                   .generators = {{"default", &tt::default_generator()}}};
  train::History history;
  if (!s.resume_path.empty()) {
    const train::Checkpoint checkpoint = distributed::load_checkpoint(pg, s.resume_path);
    train::restore_checkpoint(checkpoint, state);
    history = checkpoint.history;
  }
  const int64_t first_epoch = history.size();

  int64_t parameters = 0;
  for (const auto& p : model->parameters()) parameters += p.numel();
  if (rank0 && !s.quiet) {
    out << "Milestone 1986, data-parallel — the MLP on " << pg.size() << " rank(s)\n"
        << tt::kernels::which_code_report() << "\n"
        << *model << "\n"
        << parameters << " parameters in " << ddp.buckets().size()
        << " gradient bucket(s) of <= " << s.bucket_kib << " KiB; Fashion-MNIST "
        << train_set->size() << " train (" << sampler.num_samples() << " per rank per epoch) / "
        << splits.val.size() << " validation / " << splits.test.size() << " test\n"
        << "Adam(lr=" << s.lr << ") + cosine schedule, global batch " << s.batch_size << " = "
        << pg.size() << " x " << rank_batch << ", " << s.epochs << " epochs, seed " << s.seed
        << ", " << tt::get_num_threads() << " thread(s) per rank\n";
    if (first_epoch > 0)
      out << "resumed from " << s.resume_path << " after epoch " << first_epoch << "\n";
    out << "\n" << std::flush;
  }

  const std::filesystem::path out_dir(s.out_dir);
  for (int64_t epoch = first_epoch; epoch < s.epochs; ++epoch) {
    // ── train: this rank's shard of this epoch ───────────────────────────────────────────
    sampler.set_epoch(epoch);
    data::DataLoader loader(data::Subset(train_set, sampler.indices()),
                            {.batch_size = rank_batch, .num_workers = s.workers});
    model->train();
    EpochSums sums;
    pg.barrier();  // time the epoch from a common start
    const auto t_epoch = std::chrono::steady_clock::now();
    for (auto& batch : loader) {
      optimizer.zero_grad();
      const tt::Tensor logits = model->forward(batch.data);
      const tt::Tensor loss = loss_fn(logits, batch.target);
      loss.backward();
      ddp.sync_gradients();  // the one line data parallelism adds to the loop
      optimizer.step();
      const auto n = static_cast<double>(batch.data.size(0));
      sums.loss += loss.item<double>() * n;
      sums.correct += logits.argmax(1).eq(batch.target).sum().item<double>();
      sums.samples += n;
    }
    pg.barrier();  // every rank done: the epoch's time is the slowest rank's
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_epoch).count();
    scheduler.step();

    // ── the global figures: training sums of all ranks, validation by rank 0 ────────────
    tt::Tensor figures = tt::zeros({5}, tt::kFloat64);  // [loss, correct, samples, vloss, vacc]
    auto* f = figures.data_ptr<double>();
    f[0] = sums.loss;
    f[1] = sums.correct;
    f[2] = sums.samples;
    pg.all_reduce(figures, distributed::ReduceOp::kSum);
    if (rank0) {
      const train::EvalResult val =
          train::evaluate(*model, train::forward_of(model), loss_fn, val_loader);
      f[3] = val.loss;
      f[4] = val.accuracy;
    }
    pg.broadcast(figures, 0);  // every rank keeps the same history (it is in the checkpoint)
    history.append({{"epoch", static_cast<double>(epoch + 1)},
                    {"train_loss", f[0] / f[2]},
                    {"train_acc", f[1] / f[2]},
                    {"val_loss", f[3]},
                    {"val_acc", f[4]},
                    {"epoch_seconds", seconds},
                    {"samples_per_second", f[2] / seconds}});
    train::Checkpoint checkpoint = train::capture_checkpoint(state, epoch + 1, history);
    for (const auto& [key, value] : export_metadata) checkpoint.extra.insert(key, value);
    distributed::save_checkpoint(pg, checkpoint, (out_dir / "checkpoint.ttc").string());
    if (rank0) {
      train::write_csv(history, (out_dir / train::kMetricsCsv).string());
      train::write_json(history, (out_dir / train::kMetricsJson).string());
      train::write_training_curve_svg(
          history, (out_dir / train::kTrainingCurveSvg).string(),
          {.title = "1986 MLP on " + std::to_string(pg.size()) + " ranks (data-parallel)"});
      if (!s.quiet) {
        out << "epoch " << epoch + 1 << "/" << s.epochs << std::fixed << std::setprecision(4)
            << "  train loss " << f[0] / f[2] << "  val loss " << f[3] << std::setprecision(2)
            << "  val acc " << 100.0 * f[4] << "%  " << seconds << " s ("
            << train::format_count(f[2] / seconds) << " samples/s)\n"
            << std::defaultfloat << std::flush;
      }
    }
  }

  // ── test: rank 0, once, at the end ───────────────────────────────────────────────────────
  if (rank0) {
    nlohmann::ordered_json settings;
    settings["ranks"] = pg.size();
    settings["threads_per_rank"] = tt::get_num_threads();
    settings["seed"] = s.seed;
    settings["epochs"] = s.epochs;
    settings["batch_size"] = s.batch_size;
    settings["batch_size_per_rank"] = rank_batch;
    settings["lr"] = s.lr;
    settings["bucket_cap_bytes"] = s.bucket_kib << 10;
    settings["buckets"] = ddp.buckets().size();
    settings["loader_workers"] = s.workers;
    settings["parameters"] = parameters;
    ms::finish_run(out,
                   {.milestone = "1986_mlp_ddp",
                    .target_accuracy = ms::kMlpTargetAccuracy,
                    .train_size = train_set->size(),
                    .val_size = splits.val.size(),
                    .start = t_start,
                    .out_dir = s.out_dir,
                    .checkpoint_name = "checkpoint.ttc",
                    .trained = history.size() > first_epoch,
                    .json_path = s.json_path,
                    .quiet = s.quiet,
                    .signature = signature,
                    .statistics = ms::fashion_statistics(splits)},
                   *model, train::forward_of(model), loss_fn, test_loader, history, settings);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  namespace ms = tinytorch::milestones;
  Settings s;
  CLI::App app{"Milestone 1986 on several MPI ranks: the 784-256-128-10 MLP, data-parallel",
               "milestone_1986_ddp"};
  app.add_option("--ranks", s.ranks,
                 "ranks to start when not run by mpirun (under mpirun, its -np decides)")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 256));
  app.add_option("--epochs", s.epochs, "epochs to train (in total, when resuming)")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 1000));
  app.add_option("--seed", s.seed, "random seed: weights, split, shuffling")->capture_default_str();
  app.add_option("--batch-size", s.batch_size, "GLOBAL batch size (divided among the ranks)")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 60000));
  app.add_option("--lr", s.lr, "Adam's learning rate (the start of the cosine schedule)")
      ->capture_default_str()
      ->check(ms::positive_number());
  app.add_option("--threads", s.threads, "kernel threads PER RANK")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 1024));
  app.add_option("--bucket-kib", s.bucket_kib, "gradient bucket cap in KiB (PyTorch: 25600)")
      ->capture_default_str()
      ->check(ms::whole_number_in(1, 1 << 20));
  app.add_option("--out", s.out_dir, "output directory of rank 0 (created if missing)")
      ->capture_default_str();
  ms::add_run_options(app, s, /*per_rank=*/true);
  CLI11_PARSE(app, argc, argv);
  try {
    tinytorch::distributed::relaunch_under_mpirun(argc, argv, s.ranks);
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "milestone_1986_ddp: error: " << e.what() << "\n";
    return 1;
  }
}
