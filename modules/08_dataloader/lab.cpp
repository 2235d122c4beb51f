// Module 08 lab — what prefetching buys: the data pipeline measured on Fashion-MNIST.
//
//   ./tito lab 08            the training split (60 000 images)
//   ./tito lab 08 --quick    the test split (10 000 images), a few seconds
//
// It measures (1) loading and decoding the IDX files, (2) one epoch of batches of 64 with
// augmentation (RandomCrop(28, padding 2) → RandomHorizontalFlip → Normalize) for num_workers
// 0, 1, 2 — alone, and next to a simulated training step that costs about as much as building a
// batch. Without workers the two costs add up; with workers, building batch k+1 overlaps the
// step on batch k. (2b) Without augmentation: batches asked for whole (TensorDataset::get_batch,
// one copy per row) against one sample at a time (get + stack, Dataset's default). (4) Memory: the
// process's peak resident set after loading, the bytes of one batch, and the peak tensor memory an
// epoch adds on top of the dataset for num_workers 0, 1, 2 — what the prefetch ring costs. Figures
// vary run to run and machine to machine: run it on yours.
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lab_support/lab_support.h"
#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
namespace td = tinytorch::data;
namespace lab = tinytorch::lab;  // the shared lab code: the command line, median

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Peak resident memory of this process so far (the kernel's high-water mark), in bytes.
int64_t peak_rss_bytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

// Stands in for forward + backward + step: spins for `seconds` (not sleep — it occupies a core,
// as real compute would).
void fake_train_step(double seconds) {
  const auto t0 = Clock::now();
  volatile double sink = 0;
  while (seconds_since(t0) < seconds) sink = sink + 1.0;
}

// The same samples as `inner`, but only through get(): get_batch is Dataset's default (get each
// sample, then stack) — how any dataset without a batched path is read.
class OneAtATime : public td::Dataset {
 public:
  explicit OneAtATime(std::shared_ptr<const td::Dataset> inner) : inner_(std::move(inner)) {}
  td::Example<> get(int64_t index) const override { return inner_->get(index); }
  int64_t size() const override { return inner_->size(); }

 private:
  std::shared_ptr<const td::Dataset> inner_;
};

// kRepeats epochs; returns {median seconds per epoch, batches per epoch}. The median of a few
// epochs makes the figure robust to a busy machine.
constexpr int kRepeats = 5;
std::pair<double, int64_t> run_epoch(td::DataLoader& loader, double step_seconds) {
  std::vector<double> times;
  int64_t batches = 0;
  for (int r = 0; r < kRepeats; ++r) {
    const auto t0 = Clock::now();
    batches = 0;
    for (auto& batch : loader) {
      static_cast<void>(batch);
      if (step_seconds > 0) fake_train_step(step_seconds);
      ++batches;
    }
    times.push_back(seconds_since(t0));
  }
  return {lab::median(times), batches};
}

}  // namespace

int main(int argc, char** argv) {
  const lab::CommandLine cli{
      .name = "lab08",
      .quick_help = "the test split (10 000 images) instead of the training split: a few seconds",
      .json = false};
  lab::Options opts;
  if (const auto rc = lab::parse_command_line(argc, argv, cli, opts)) return *rc;
  const bool quick = opts.quick;
  try {
    std::cout << "Module 08 lab: the data pipeline on Fashion-MNIST ("
              << (quick ? "test split, --quick" : "training split") << ", "
              << std::thread::hardware_concurrency() << " hardware threads)\n";
    lab::print_which_code();
    std::cout << "\n";

    // 1. Loading: gunzip + parse + uint8 → float32 in [0, 1].
    const int64_t live0 = tt::get_allocator()->stats().live_bytes;
    auto t0 = Clock::now();
    td::TensorDataset dataset = td::load_fashion_mnist(td::kFashionMnistDir, /*train=*/!quick);
    const double load_s = seconds_since(t0);
    const int64_t live = tt::get_allocator()->stats().live_bytes - live0;
    std::cout << "load_fashion_mnist: " << dataset.size() << " images " << dataset.data().sizes()
              << " in " << load_s << " s; tensors hold " << live / 1e6 << " MB; peak RSS so far "
              << lab::human_bytes(static_cast<double>(peak_rss_bytes())) << "\n\n";

    auto augment = std::make_shared<td::Compose>(std::vector<std::shared_ptr<const td::Transform>>{
        std::make_shared<td::RandomCrop>(28, 2), std::make_shared<td::RandomHorizontalFlip>(0.5),
        std::make_shared<td::Normalize>(std::vector<double>{0.2860}, std::vector<double>{0.3530})});
    auto make_loader = [&](int64_t workers) {
      return td::DataLoader(dataset, {.batch_size = 64,
                                      .shuffle = true,
                                      .num_workers = workers,
                                      .seed = 1,
                                      .transform = augment});
    };

    // 2. Data alone: how long does building one epoch of batches take?
    std::cout << "one epoch of batches of 64 with augmentation (median of " << kRepeats
              << " epochs), no training step:\n";
    double per_batch = 0;
    for (int64_t workers : {0, 1, 2}) {
      td::DataLoader loader = make_loader(workers);
      const auto [s, n] = run_epoch(loader, 0.0);
      if (workers == 0) per_batch = s / static_cast<double>(n);
      std::cout << "  num_workers=" << workers << ": " << n << " batches in " << s << " s ("
                << 1e3 * s / static_cast<double>(n) << " ms/batch)\n";
    }

    // 2b. No augmentation: the loader asks the dataset for whole batches. A TensorDataset copies
    // the rows straight into the batch; through OneAtATime the same rows come as 64 views, stacked.
    std::cout << "\nthe same epoch without augmentation, num_workers=0:\n";
    auto shared = std::make_shared<const td::TensorDataset>(dataset);  // shares the tensors
    double one_at_a_time = 0;
    for (const bool whole : {false, true}) {
      std::shared_ptr<const td::Dataset> source = shared;
      if (!whole) source = std::make_shared<const OneAtATime>(shared);
      td::DataLoader loader(source, {.batch_size = 64, .shuffle = true, .seed = 1});
      const auto [s, n] = run_epoch(loader, 0.0);
      const double ms = 1e3 * s / static_cast<double>(n);
      if (!whole) one_at_a_time = ms;
      std::cout << (whole ? "  get_batch (rows copied into the batch): "
                          : "  get + stack (one view per sample):     ")
                << ms << " ms/batch";
      if (whole) std::cout << "  (" << one_at_a_time / ms << "x faster)";
      std::cout << "\n";
    }

    // 3. Data + a training step that costs as much as building a batch (without workers).
    std::cout << "\nsame epoch, plus a simulated training step of " << 1e3 * per_batch
              << " ms per batch (= the num_workers=0 batch time):\n";
    double base = 0;
    for (int64_t workers : {0, 1, 2}) {
      td::DataLoader loader = make_loader(workers);
      const auto [s, n] = run_epoch(loader, per_batch);
      if (workers == 0) base = s;
      std::cout << "  num_workers=" << workers << ": " << s << " s  (" << base / s
                << "x vs num_workers=0)\n";
    }
    std::cout << "\nWith num_workers=0 the epoch costs data + compute; with a worker it tends to"
                 " max(data, compute) — if a core is free for the worker.\n";

    // 4. Memory. One batch is [64, 1, 28, 28] float32 + [64] int64. During an epoch, tensors
    // beyond the dataset are: the batch the consumer holds, the batches waiting in the ring
    // (at most num_workers · prefetch_factor), and each worker's batch in the making (its
    // samples after the transforms, then the stacked copy). Measured with the allocator's
    // peak live bytes over one epoch, next to the simulated training step (a slow consumer, so
    // the workers fill the ring).
    const int64_t batch_bytes = [&] {
      td::DataLoader loader = make_loader(0);
      auto it = loader.begin();
      return it->data.nbytes() + it->target.nbytes();
    }();
    std::cout << "\nmemory: one batch holds " << batch_bytes << " bytes ("
              << lab::human_bytes(static_cast<double>(batch_bytes))
              << "); peak tensor bytes one epoch adds above the dataset, with the training step "
                 "(prefetch_factor 2):\n";
    for (int64_t workers : {0, 1, 2}) {
      td::DataLoader loader = make_loader(workers);
      const int64_t peak = lab::peak_bytes([&] {
        for (auto& batch : loader) {
          static_cast<void>(batch);
          fake_train_step(per_batch);
        }
      });
      std::cout << "  num_workers=" << workers << ": "
                << lab::human_bytes(static_cast<double>(peak)) << " = "
                << lab::fixed(static_cast<double>(peak) / static_cast<double>(batch_bytes), 1)
                << " batches (ring: " << workers * loader.options().prefetch_factor << " slots)\n";
    }
    std::cout << "peak RSS of the process: "
              << lab::human_bytes(static_cast<double>(peak_rss_bytes())) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "lab08: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
