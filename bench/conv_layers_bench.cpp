// The convolution layers of LeNet-5 and of the North Star CNN (milestone 1998), one pass at a time:
// the fast tier's kernels (kernels::conv2d_*_fast, called directly on raw buffers) against
// PyTorch's (bench/conv_layers_torch.py, run with Debian's python3-torch in its own process: oneDNN
// does its convolutions), at 1 and 2 threads.
//
//   layer         batch  C → K   kernel  input   (the shapes a training step runs)
//   lenet_conv1     64   1 → 6   5×5 p2  28×28
//   lenet_conv2     64   6 → 16  5×5     14×14
//   ns_conv1       128   1 → 32  3×3 p1  28×28
//   ns_conv2       128  32 → 64  3×3 p1  14×14
//   ns_conv3       128  64 → 128 3×3 p1   7×7
//
// For each layer, pass (forward; backward_input: the input gradient; backward_weight: the weight
// and bias gradients) and thread count it prints the median time of 9 repetitions of a batch of
// calls sized to take about 20 ms (after warm-up calls; timed by the calling thread's CPU clock at
// 1 thread, by the wall clock at 2), its GFLOP/s (2·N·K·C·R·S·P·Q flops per
// pass), PyTorch's, and ours / PyTorch's time. The two sides alternate (ours at 1 thread, PyTorch
// at 1, ours at 2, PyTorch at 2), three rounds of that, and each figure is the best of its three
// medians: on a shared machine other programs only ever add time, and alternating lets both sides
// sample the same stretches of load. Print `uptime` beside the table.
//
//   ./build/release/bin/conv_layers_bench [--quick] [--no-torch] [--layer NAME (ours only)]
//
// A build target only (not run by `tito bench`).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/spatial.h"
#include "torch_baseline.h"

namespace {

using tinytorch::kernels::Conv2dShape;

struct Layer {
  const char* name;
  int64_t batch, C, H, W, K, kernel, pad;

  Conv2dShape shape() const {
    Conv2dShape s{.batch = batch,
                  .in_channels = C,
                  .in_h = H,
                  .in_w = W,
                  .out_channels = K,
                  .kernel_h = kernel,
                  .kernel_w = kernel,
                  .pad_h = pad,
                  .pad_w = pad};
    s.out_h = H + 2 * pad - kernel + 1;
    s.out_w = W + 2 * pad - kernel + 1;
    return s;
  }
  double flops() const {
    const Conv2dShape s = shape();
    return 2.0 * static_cast<double>(batch * K * C * kernel * kernel * s.out_h * s.out_w);
  }
};

// The same table as bench/conv_layers_torch.py.
constexpr Layer kLayers[] = {
    {"lenet_conv1", 64, 1, 28, 28, 6, 5, 2}, {"lenet_conv2", 64, 6, 14, 14, 16, 5, 0},
    {"ns_conv1", 128, 1, 28, 28, 32, 3, 1},  {"ns_conv2", 128, 32, 14, 14, 64, 3, 1},
    {"ns_conv3", 128, 64, 7, 7, 128, 3, 1},
};
constexpr const char* kPasses[] = {"forward", "backward_input", "backward_weight"};

// Seconds on the wall clock, or on this thread's CPU clock: 1-thread figures use the latter, so
// that the time slices other programs take on a busy machine are not counted (the Python side
// does the same with time.thread_time).
double now(bool thread_cpu) {
  timespec ts{};
  clock_gettime(thread_cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

template <typename F>
double median_seconds(const F& call, int repetitions, double target_seconds) {
  const bool thread_cpu = tinytorch::get_num_threads() == 1;
  for (int i = 0; i < 3; ++i) call();
  const double start = now(thread_cpu);
  call();
  const double once = std::max(now(thread_cpu) - start, 1e-7);
  const int calls = std::max(1, static_cast<int>(target_seconds / once));
  std::vector<double> samples;
  for (int r = 0; r < repetitions; ++r) {
    const double begin = now(thread_cpu);
    for (int i = 0; i < calls; ++i) call();
    samples.push_back((now(thread_cpu) - begin) / calls);
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

std::vector<float> random_values(int64_t count, float offset) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) x = uniform(rng) - offset;
  return v;
}

// (layer, pass, threads) -> seconds
using Figures = std::map<std::tuple<std::string, std::string, int>, double>;

void measure_ours(int threads, bool quick, const std::string& only, Figures& figures) {
  tinytorch::set_num_threads(threads);
  const int repetitions = quick ? 3 : 9;
  const double target = quick ? 0.005 : 0.02;
  for (const Layer& layer : kLayers) {
    if (!only.empty() && only != layer.name) continue;
    const Conv2dShape s = layer.shape();
    const auto x = random_values(s.batch * s.in_channels * s.in_h * s.in_w, 0.0f);
    const auto w = random_values(s.out_channels * s.in_channels * s.kernel_h * s.kernel_w, 0.5f);
    const auto b = random_values(s.out_channels, 0.5f);
    const auto gy = random_values(s.batch * s.out_channels * s.out_h * s.out_w, 0.0f);
    std::vector<float> y(gy.size()), gx(x.size()), gw(w.size()), gb(b.size());
    for (const char* pass : kPasses) {
      double seconds = 0.0;
      if (std::strcmp(pass, "forward") == 0) {
        seconds = median_seconds(
            [&] {
              tinytorch::kernels::conv2d_forward_fast(s, x.data(), w.data(), b.data(), y.data());
            },
            repetitions, target);
      } else if (std::strcmp(pass, "backward_input") == 0) {
        seconds = median_seconds(
            [&] {
              tinytorch::kernels::conv2d_backward_input_fast(s, gy.data(), w.data(), gx.data());
            },
            repetitions, target);
      } else {
        seconds = median_seconds(
            [&] {
              tinytorch::kernels::conv2d_backward_weight_fast(s, gy.data(), x.data(), gw.data(),
                                                              gb.data());
            },
            repetitions, target);
      }
      figures[{layer.name, pass, threads}] = seconds;
    }
  }
}

// Runs conv_layers_torch.py and reads its JSON lines (only the fields it needs, by hand).
bool measure_torch(int threads, bool quick, Figures& figures) {
  // PyTorch's process as every benchmark against it starts it (torch_baseline.h: its thread
  // counts and OpenMP policy), with OPENBLAS_CORETYPE cleared.
  std::string command = "env -u OPENBLAS_CORETYPE";
  const std::filesystem::path script =
      std::filesystem::path(TINYTORCH_SOURCE_DIR) / "bench" / "conv_layers_torch.py";
  for (const std::string& word : tinytorch::bench::torch_command(
           "/usr/bin/python3", script, threads,
           quick ? std::vector<std::string>{"--quick"} : std::vector<std::string>{})) {
    command += ' ';
    command += word;
  }
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return false;
  char line[1024];
  int read = 0;
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    const auto field = [&](const char* key) -> std::string {
      const char* at = std::strstr(line, key);
      if (at == nullptr) return "";
      at += std::strlen(key);
      const char* end = at;
      while (*end != '\0' && *end != '"' && *end != ',' && *end != '}') ++end;
      return {at, end};
    };
    const std::string layer = field("\"layer\": \""), pass = field("\"pass\": \""),
                      seconds = field("\"seconds\": ");
    if (layer.empty() || pass.empty() || seconds.empty()) continue;
    figures[{layer, pass, threads}] = std::stod(seconds);
    ++read;
  }
  return pclose(pipe) == 0 && read > 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, torch = true;
  std::string only;  // --layer NAME: that layer only (ours only), e.g. to profile it
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--no-torch") == 0) torch = false;
    if (std::strcmp(argv[i], "--layer") == 0 && i + 1 < argc) only = argv[++i];
  }
  if (!only.empty()) torch = false;
  // Rounds of (ours, PyTorch's) at 1 thread, then at 2; each figure is the best round's.
  const int rounds = quick || !torch ? 1 : 3;
  Figures ours, theirs;
  const auto keep_best = [](Figures& best, const Figures& round) {
    for (const auto& [key, seconds] : round) {
      const auto it = best.find(key);
      if (it == best.end() || seconds < it->second) best[key] = seconds;
    }
  };
  for (int round = 0; round < rounds; ++round) {
    for (const int threads : {1, 2}) {
      Figures ours_round, theirs_round;
      measure_ours(threads, quick, only, ours_round);
      keep_best(ours, ours_round);
      if (torch && !measure_torch(threads, quick, theirs_round)) {
        std::fprintf(stderr, "PyTorch's side failed (is python3-torch installed?)\n");
        torch = false;
      }
      keep_best(theirs, theirs_round);
    }
  }
  std::printf("%-12s %-16s %3s %10s %9s %10s %9s %7s\n", "layer", "pass", "thr", "ours_us",
              "ours_GF/s", "torch_us", "torch_GF/s", "ratio");
  for (const Layer& layer : kLayers) {
    for (const char* pass : kPasses) {
      for (const int threads : {1, 2}) {
        const auto key = std::tuple{std::string(layer.name), std::string(pass), threads};
        if (ours.count(key) == 0) continue;
        const double t = ours.at(key);
        std::printf("%-12s %-16s %3d %10.1f %9.1f", layer.name, pass, threads, t * 1e6,
                    layer.flops() / t / 1e9);
        if (const auto it = theirs.find(key); it != theirs.end()) {
          // ratio = our time / PyTorch's: below 1 is faster than PyTorch.
          std::printf(" %10.1f %9.1f %7.2f", it->second * 1e6, layer.flops() / it->second / 1e9,
                      t / it->second);
        }
        std::printf("\n");
      }
    }
  }
  return 0;
}
