// Activation checkpointing's trade, measured: a GPT training step (forward + backward) with its
// blocks checkpointed in 0 (off), 1, 2, … n_layer segments (milestones/common/checkpointed_gpt.h,
// what milestone 2017's --checkpoint-segments runs).
//
//   segments  live after forward  peak in step   step ms   vs off
//          0            41.2 MiB      52.0 MiB     180.3    1.00x
//          2            …
//
// Memory is the allocator's count of tensor bytes (core/allocator.h), not the process's RSS:
// "live after forward" is what the graph keeps for backward (the activations the technique
// drops), "peak in step" the allocator's high-water mark over forward and backward, both above
// what was live before the step (the weights, their gradients). Both are deterministic. The step
// time is the median of --repeats steps, the segment counts' steps interleaved so that each
// samples the same stretch of the machine's time; expect about one more forward of the
// checkpointed blocks (≈ +30% for all but the last of L blocks).
//
//   checkpoint_bench                         milestone 2017's GPT (4 layers, d 128, context 64),
//                                            batch 32
//   checkpoint_bench --layers 8 --d 256 --context 128 --batch 16 --repeats 5
//   checkpoint_bench --quick                 a smoke run: 2 layers, d 64, context 32, batch 8
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "common/char_text.h"
#include "common/checkpointed_gpt.h"
#include "common/memory.h"
#include "tinytorch/core/allocator.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
namespace ms = tinytorch::milestones;

namespace {

struct Options {
  int64_t layers = 4, d = 128, heads = 4, context = 64, batch = 32, vocab = 96, repeats = 3;
};

struct Figures {
  int64_t live_after_forward = 0, peak = 0;
  std::vector<double> seconds;
};

// One training step; fills in the memory figures (the same every time) and one timing.
void step(tt::nn::GPT& model, const tt::Tensor& ids, const tt::Tensor& targets, int64_t segments,
          Figures& f) {
  tt::Allocator* allocator = tt::get_allocator();
  for (tt::Tensor& p : model->parameters()) p.mutable_grad() = tt::Tensor();
  const int64_t before = allocator->stats().live_bytes;
  allocator->reset_peak();
  const auto start = std::chrono::steady_clock::now();
  tt::Tensor loss = ms::next_char_loss(ms::gpt_forward(model, ids, segments), targets);
  f.live_after_forward = allocator->stats().live_bytes - before;
  loss.backward();
  f.seconds.push_back(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  f.peak = allocator->stats().peak_bytes - before;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int64_t parse(const char* flag, const char* value) {
  char* end = nullptr;
  const long long n = std::strtoll(value, &end, 10);
  if (end == value || *end != '\0' || n < 1) {
    std::fprintf(stderr, "checkpoint_bench: %s %s: expected a whole number >= 1\n", flag, value);
    std::exit(2);
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      o = {.layers = 2, .d = 64, .heads = 2, .context = 32, .batch = 8, .vocab = 16, .repeats = 1};
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr,
                   "usage: checkpoint_bench [--quick] [--layers N] [--d N] [--heads N] "
                   "[--context N] [--batch N] [--repeats N]\n");
      return 2;
    }
    const int64_t n = parse(argv[i], argv[i + 1]);
    int64_t* field = arg == "--layers"    ? &o.layers
                     : arg == "--d"       ? &o.d
                     : arg == "--heads"   ? &o.heads
                     : arg == "--context" ? &o.context
                     : arg == "--batch"   ? &o.batch
                     : arg == "--repeats" ? &o.repeats
                                          : nullptr;
    if (field == nullptr) {
      std::fprintf(stderr, "checkpoint_bench: unknown argument %s\n", argv[i]);
      return 2;
    }
    *field = n;
    ++i;
  }
  try {
    tt::nn::GPTConfig config;
    config.vocab_size = o.vocab;
    config.block_size = o.context;
    config.n_layer = o.layers;
    config.n_head = o.heads;
    config.n_embd = o.d;
    tt::manual_seed(0);
    tt::nn::GPT model(config);
    model->train();
    tt::Generator data(1);
    const tt::Tensor ids = tt::randint(0, o.vocab, {o.batch, o.context}, tt::kInt64, &data);
    const tt::Tensor targets = tt::randint(0, o.vocab, {o.batch, o.context}, tt::kInt64, &data);

    std::printf(
        "GPT %lld layers, d_model %lld, %lld heads, context %lld, batch %lld; %d thread(s);"
        " median of %lld steps\n\n",
        static_cast<long long>(o.layers), static_cast<long long>(o.d),
        static_cast<long long>(o.heads), static_cast<long long>(o.context),
        static_cast<long long>(o.batch), tt::get_num_threads(), static_cast<long long>(o.repeats));
    std::vector<Figures> figures(static_cast<size_t>(o.layers + 1));
    for (auto& f : figures) step(model, ids, targets, &f - figures.data(), f);  // warm-up
    for (auto& f : figures) f.seconds.clear();
    for (int64_t r = 0; r < o.repeats; ++r) {
      for (auto& f : figures) step(model, ids, targets, &f - figures.data(), f);
    }
    const double off = median(figures[0].seconds);
    std::printf("segments  live after forward  peak in step   step ms   vs off\n");
    for (size_t s = 0; s < figures.size(); ++s) {
      const Figures& f = figures[s];
      std::printf("%8zu  %18s  %12s  %8.1f  %6.2fx\n", s, ms::mib(f.live_after_forward).c_str(),
                  ms::mib(f.peak).c_str(), 1e3 * median(f.seconds), median(f.seconds) / off);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint_bench: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
