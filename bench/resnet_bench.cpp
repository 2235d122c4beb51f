// resnet_bench — a small residual network on 3×32×32 images (CIFAR-10's shape), trained and run by
// our framework and by PyTorch, in the same run, at 1 and 2 threads: `./tito bench resnet`.
//
// ResNet-8: He et al.'s CIFAR ResNet (2016, section 4.2) with one basic block per stage, its
// downsampling shortcuts projections (a 1×1 stride-2 convolution and BatchNorm, their option B):
//
//   stem   conv 3→16 3×3 pad 1 ─► BN ─► ReLU                    [N, 3, 32, 32] → [N, 16, 32, 32]
//   stage1 basic block 16→16, stride 1, identity shortcut                       → [N, 16, 32, 32]
//   stage2 basic block 16→32, stride 2, projection shortcut                     → [N, 32, 16, 16]
//   stage3 basic block 32→64, stride 2, projection shortcut                     → [N, 64, 8, 8]
//   head   global average pool ─► flatten ─► Linear 64→10                       → [N, 10]
//
//   basic block:  x ──► conv 3×3 (stride s) ─► BN ─► ReLU ─► conv 3×3 ─► BN ──►(+)──► ReLU
//                 └──────────── shortcut: x, or conv 1×1 stride s ─► BN ───────┘
//
// The convolutions have no bias (BatchNorm's shift replaces it). Ours applies the ReLU that
// follows a BatchNorm inside it (BatchNorm2dOptions::fuse_relu: the same values and gradients);
// PyTorch's side is written as torchvision writes its ResNets (in-place ReLU and residual add).
// Both start from each framework's default initialisation (the same distributions).
//
// SGD (lr 0.1, momentum 0.9), batch 128, cross-entropy, on SYNTHETIC data: images N(0, 1) and
// labels uniform over 10 classes (Debian does not package CIFAR-10; the time of a step does not
// depend on the pixels, and the loss means nothing). What is timed, for both frameworks the same
// way (bench/resnet_torch.py is PyTorch's side):
//   * a training STEP: zero_grad → forward → cross-entropy → backward → SGD step → loss value,
//     the median of many steps on one batch;
//   * an EPOCH-like pass: 6,400 images (50 batches of 128; CIFAR-10 has 50,000) in a fresh
//     random order, by a freshly initialised model — ours through data::DataLoader, PyTorch's by
//     randperm + index_select — in images/s;
//   * batch-1 inference LATENCY: eval mode, no autograd recording, the median and 90th
//     percentile of many single-image forward passes;
//   * batch-256 inference THROUGHPUT: images/s of the median forward pass of 256 images;
//   * the PEAK resident memory of the process that did all of the above.
// Each timed figure's record also carries its floating-point operations ("flops") and the
// fraction of this machine's FMA peak they run at ("peak_fraction"; torch_baseline.h). FLOPs are
// counted analytically: a convolution does 2·N·Cout·Hout·Wout·Cin·k² forward, the Linear
// 2·N·64·10; a training step 3× the forward (its backward computes an input gradient and a weight
// gradient of the forward's size) less the stem's input gradient, which neither framework
// computes (the images do not require grad). BatchNorm, ReLU, the additions and the pooling are
// not counted: a few operations per element, no multiply-adds.
//
// Each side runs in its own process, the two interleaved per thread count (bench/torch_baseline.h);
// PyTorch's configuration (its BLAS, oneDNN for its convolutions) is printed and copied into its
// records.
//
//   resnet_bench [--quick] [--records PATH] [--threads 1,2] [--python PATH]
//
// --records PATH writes the figures as JSON records for tito, e.g.
//   {"name": "resnet_step", "impl": "tinytorch-fast", "threads": 1, "ms": 180.2, "batch": 128,
//    "flops": 9.5e9, "fma_peak_gflops": 117.0, "fma_peak_isa": "AVX-512", "peak_fraction": 0.45}
//   {"name": "resnet_inference", "impl": "torch", "threads": 2, "images_per_second": 2900, ...}
//   {"name": "resnet_latency", "impl": "tinytorch-fast", "threads": 2, "ms": 0.42, "p90_ms": 0.5,
//    "one_thread_ms": 0.42, ...}   (ours above 1 thread: also timed at 1 thread, interleaved —
//                                   bench/torch_baseline.h)
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/benchmark/stats.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/data/dataloader.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"
#include "torch_baseline.h"

namespace {

namespace fs = std::filesystem;
namespace tt = tinytorch;
namespace nn = tinytorch::nn;
namespace F = tinytorch::nn::functional;
namespace data = tinytorch::data;
using Json = tt::bench::Json;
using Clock = std::chrono::steady_clock;
using tt::bench::seconds_since;

// As bench/resnet_torch.py's.
constexpr int64_t kChannels = 3, kSize = 32, kClasses = 10, kStem = 16;
constexpr double kLearningRate = 0.1, kMomentum = 0.9;

// The stages after the stem: one basic block each, the first of a stage with its stride.
struct Stage {
  int64_t width, stride;
};
constexpr Stage kStages[] = {{16, 1}, {32, 2}, {64, 2}};

constexpr const char* kUsage =
    "resnet_bench [--quick] [--records PATH] [--threads LIST] [--python PATH]";

// The sizes of one run, the same as bench/resnet_torch.py's. --quick (the ctest check that both
// sides run and write their records) uses small batches: its figures are not the benchmark's.
// The inference batch is the first rows of the training images (samples >= inference_batch).
struct Workload {
  int64_t batch;             // training batch
  int64_t samples;           // images of the epoch-like pass
  int64_t step_warmup;       // untimed steps before the timed ones
  int64_t step_count;        // timed steps (their median is the step time)
  int64_t latency_warmup;    // untimed batch-1 forward passes
  int64_t latency_count;     // timed ones
  int64_t inference_batch;   // the throughput's batch
  int64_t inference_warmup;  // untimed forward passes of that batch
  int64_t inference_count;   // timed ones
};
Workload workload(bool quick) {
  return quick ? Workload{16, 32, 2, 3, 3, 10, 32, 1, 2}
               : Workload{128, 6400, 10, 20, 50, 500, 256, 2, 10};
}

// ── the FLOPs (see the top of this file) ─────────────────────────────────────────────────────

// A convolution's multiply-adds ×2 for one image, with a square Hout = Wout = out_size.
double conv_flops(int64_t in, int64_t out, int64_t kernel, int64_t out_size) {
  return 2.0 * static_cast<double>(out * out_size * out_size * in * kernel * kernel);
}

// One image's forward pass.
double forward_flops_per_image() {
  double flops = conv_flops(kChannels, kStem, 3, kSize);
  int64_t in = kStem, size = kSize;
  for (const Stage& s : kStages) {
    size /= s.stride;  // 3×3 pad 1 and 1×1 pad 0 at stride 2 both halve an even size
    flops += conv_flops(in, s.width, 3, size) + conv_flops(s.width, s.width, 3, size);
    if (s.stride != 1 || in != s.width) flops += conv_flops(in, s.width, 1, size);
    in = s.width;
  }
  return flops + 2.0 * static_cast<double>(in * kClasses);
}

// One image's share of a training step: forward, input gradients and weight gradients (each the
// forward's size), less the stem's input gradient.
double training_flops_per_image() {
  return 3.0 * forward_flops_per_image() - conv_flops(kChannels, kStem, 3, kSize);
}

// ── the worker: our side of the comparison ──────────────────────────────────────────────────

// 3×3 convolution, padding 1, no bias.
nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

// BatchNorm2d, with the ReLU after it inside its own passes when `relu`.
nn::BatchNorm2d batch_norm(int64_t channels, bool relu) {
  return nn::BatchNorm2d(nn::BatchNorm2dOptions(channels).fuse_relu(relu));
}

// The basic block (see the top of this file); torchvision's names.
class BasicBlockImpl : public nn::Module {
 public:
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride) {
    conv1 = register_module("conv1", conv3x3(in, out, stride));
    bn1 = register_module("bn1", batch_norm(out, /*relu=*/true));
    conv2 = register_module("conv2", conv3x3(out, out, 1));
    bn2 = register_module("bn2", batch_norm(out, /*relu=*/false));
    if (stride != 1 || in != out) {
      downsample = register_module(
          "downsample",
          nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)),
                         batch_norm(out, /*relu=*/false)));
    }
  }
  // x [N, in, H, W] → [N, out, H / stride, W / stride]
  tt::Tensor forward(const tt::Tensor& x) {
    const tt::Tensor out = bn2(conv2(bn1(conv1(x))));
    return (out + (downsample ? downsample->forward(x) : x)).relu();
  }

  nn::Conv2d conv1{nullptr}, conv2{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  nn::Sequential downsample{nullptr};  // empty: the identity shortcut
};
TT_MODULE(BasicBlock);

nn::Sequential resnet8() {
  nn::Sequential model(conv3x3(kChannels, kStem, 1), batch_norm(kStem, /*relu=*/true));
  int64_t in = kStem;
  for (const Stage& s : kStages) {
    model->push_back(BasicBlock(in, s.width, s.stride));
    in = s.width;
  }
  model->push_back(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})));  // [N, 64, 1, 1]
  model->push_back(nn::Flatten());
  model->push_back(nn::Linear(in, kClasses));
  return model;
}

// The ResNet and its optimizer, freshly initialised (from the global generator).
struct Trainer {
  nn::Sequential model = resnet8();
  tt::optim::SGD optimizer{model->parameters(),
                           tt::optim::SGDOptions(kLearningRate).momentum(kMomentum)};

  // One training step; returns the loss.
  double step(const tt::Tensor& x, const tt::Tensor& y) {
    optimizer.zero_grad();
    tt::Tensor loss = F::cross_entropy(model->forward(x), y);
    loss.backward();
    optimizer.step();
    return loss.item<double>();
  }
};

// The seconds of each of `count` calls f(i) after `warmup` untimed ones (i counts all calls).
template <typename Fn>
std::vector<double> time_calls(int64_t warmup, int64_t count, const Fn& f) {
  for (int64_t i = 0; i < warmup; ++i) f(i);
  std::vector<double> seconds;
  for (int64_t i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    f(warmup + i);
    seconds.push_back(seconds_since(t0));
  }
  return seconds;
}

Json run_worker(const tt::bench::CommonOptions& o) {
  tt::set_num_threads(o.threads.front());
  tt::manual_seed(0);
  const Workload w = workload(o.quick);
  const data::TensorDataset dataset(tt::randn({w.samples, kChannels, kSize, kSize}),
                                    tt::randint(0, kClasses, {w.samples}));
  const tt::Tensor& x = dataset.data();  // [samples, 3, 32, 32]

  // The step: one fixed batch, warm-up, then the median of the timed steps.
  Trainer timed;
  const tt::Tensor xb = x.narrow(0, 0, w.batch), yb = dataset.targets().narrow(0, 0, w.batch);
  const std::vector<double> steps =
      time_calls(w.step_warmup, w.step_count, [&](int64_t) { timed.step(xb, yb); });

  // The epoch-like pass, in a fresh random order, by a freshly initialised model.
  tt::manual_seed(0);
  Trainer fresh;
  data::DataLoader loader(dataset, {.batch_size = w.batch, .shuffle = true, .seed = 2016});
  double loss_sum = 0.0;
  int64_t batches = 0;
  const auto epoch_start = Clock::now();
  for (const data::Example<>& batch : loader) {
    loss_sum += fresh.step(batch.data, batch.target);
    ++batches;
  }
  const double epoch = seconds_since(epoch_start);

  // Inference with the trained model: eval mode (BatchNorm's running statistics), nothing
  // recorded for backward.
  nn::Sequential& model = fresh.model;
  model->eval();
  tt::bench::Latencies latencies;
  std::vector<double> passes;
  {
    const tt::NoGradGuard no_grad;
    latencies = tt::bench::time_latencies(w.latency_warmup, w.latency_count, 25, [&](int64_t i) {
      const tt::Tensor image = x.narrow(0, i % w.samples, 1);  // [1, 3, 32, 32]
      (void)model->forward(image).argmax(1).item<int64_t>();
    });
    const tt::Tensor many = x.narrow(0, 0, w.inference_batch);  // [256, 3, 32, 32] (full run)
    passes = time_calls(w.inference_warmup, w.inference_count, [&](int64_t) {
      (void)model->forward(many).argmax(1).sum().item<int64_t>();
    });
  }

  Json r = tt::bench::measure_fma_peak(200);  // after the figures, at the same thread count
  r["impl"] = tt::bench::tinytorch_impl();
  r["threads"] = tt::get_num_threads();
  r["step_ms"] = 1e3 * tt::benchmark::median(steps);
  r["epoch_seconds"] = epoch;
  r["samples"] = w.samples;
  r["batches"] = batches;
  r["samples_per_second"] = static_cast<double>(w.samples) / epoch;
  r["mean_loss"] = loss_sum / static_cast<double>(batches);
  tt::bench::add_latency_fields(r, latencies);
  r["inference_ms"] = 1e3 * tt::benchmark::median(passes);
  r["inference_images_per_second"] =
      static_cast<double>(w.inference_batch) / tt::benchmark::median(passes);
  r["peak_rss_bytes"] = tt::bench::peak_rss_bytes();
  return r;
}

// ── the parent: runs both sides and writes the records ─────────────────────────────────────

// The records of one side's result `r` (or of why there is none): resnet_step, resnet_epoch,
// resnet_latency, resnet_inference and resnet_peak_rss, each with its impl and thread count,
// `config`'s fields, and (the timed ones) their FLOPs and fraction of the FMA peak our worker
// `ours` measured at that thread count.
std::vector<Json> make_records(const Json& r, const std::string& impl, int threads,
                               const Json& config, const Workload& w, const Json& ours) {
  const auto record = [&](const char* name) {
    Json rec{{"name", name}, {"impl", impl}, {"threads", threads}};
    tt::bench::copy_torch_fields(config, rec);
    return rec;
  };
  if (r.contains("failed") || r.contains("skipped")) {
    return tt::bench::unmeasured_records(
        r, {"resnet_step", "resnet_epoch", "resnet_latency", "resnet_inference", "resnet_peak_rss"},
        record);
  }
  const double train = training_flops_per_image(), forward = forward_flops_per_image();
  const auto batch = [](int64_t n) { return static_cast<double>(n); };

  Json step = record("resnet_step");
  step["ms"] = r["step_ms"];
  step["batch"] = w.batch;
  tt::bench::add_peak_fraction(step, train * batch(w.batch), r["step_ms"].get<double>() / 1e3,
                               ours);
  Json epoch = record("resnet_epoch");
  epoch["seconds"] = r["epoch_seconds"];
  for (const char* key : {"samples_per_second", "samples", "batches", "mean_loss"}) {
    epoch[key] = r[key];
  }
  epoch["batch"] = w.batch;
  epoch["data"] = "random";
  tt::bench::add_peak_fraction(epoch, train * batch(w.samples), r["epoch_seconds"].get<double>(),
                               ours);
  Json latency = record("resnet_latency");
  tt::bench::copy_latency_fields(r, latency);
  tt::bench::add_peak_fraction(latency, forward, r["latency_ms"].get<double>() / 1e3, ours);
  Json inference = record("resnet_inference");
  inference["images_per_second"] = r["inference_images_per_second"];
  inference["ms"] = r["inference_ms"];
  inference["batch"] = w.inference_batch;
  tt::bench::add_peak_fraction(inference, forward * batch(w.inference_batch),
                               r["inference_ms"].get<double>() / 1e3, ours);
  Json rss = record("resnet_peak_rss");
  rss["mib"] = r["peak_rss_bytes"].get<double>() / (1024.0 * 1024.0);
  rss["bytes"] = r["peak_rss_bytes"];
  return {step, epoch, latency, inference, rss};
}

int run_parent(const tt::bench::CommonOptions& o, const char* argv0) {
  tt::bench::SideBySide run("resnet_bench", o.python,
                            fs::path(TINYTORCH_SOURCE_DIR) / "bench" / "resnet_torch.py", argv0);
  const Workload w = workload(o.quick);
  std::ostringstream model;
  model << std::fixed << std::setprecision(1)
        << "  ResNet-8 on synthetic 3x32x32 images (no CIFAR-10 in Debian): "
        << forward_flops_per_image() / 1e6 << " MFLOP per image forward, "
        << training_flops_per_image() / 1e6 << " per image trained; training batch " << w.batch
        << ", inference batch " << w.inference_batch << "\n";
  std::cout << model.str();
  using Kind = tt::bench::Compared::Kind;
  const std::vector<tt::bench::Compared> compared{
      {"step_ms", "training step", Kind::kTime},
      {"samples_per_second", "epoch", Kind::kRate},
      {"latency_ms", "batch-1 latency", Kind::kTime, "latency_one_thread_ms"},
      {"inference_images_per_second", "batch inference", Kind::kRate},
      {"peak_rss_bytes", "peak RSS", Kind::kSize}};
  for (const int t : o.threads) {
    std::vector<std::string> args;
    if (o.quick) args.emplace_back("--quick");
    const auto [mine, theirs] = run.run_both(t, t == o.threads.front(), args);
    run.add(
        make_records(mine, mine.value("impl", tt::bench::tinytorch_impl()), t, Json(), w, mine));
    run.add(make_records(theirs, "torch", t, run.torch_config(), w, mine));
    run.compare(mine, theirs, t, compared);
  }
  return run.finish(o.records_path);
}

}  // namespace

int main(int argc, char** argv) {
  tt::bench::CommonOptions o;
  tt::bench::parse_options(argc, argv, "resnet_bench", kUsage, o);
  return tt::bench::run_main(
      "resnet_bench", kUsage, o, [&] { return run_worker(o); },
      [&] { return run_parent(o, argv[0]); });
}
