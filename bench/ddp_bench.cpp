// ddp_bench (`tito bench ddp`): one training epoch of the 1986 MLP on Fashion-MNIST (55 000
// images, global batch 64), data-parallel or not, on the same 2 cores three ways:
//
//   1 rank  × 1 thread     the baseline
//   1 rank  × 2 threads    the kernels' threads share each step (module 18's parallelism)
//   2 ranks × 1 thread     each rank trains batch 32 of its shard, gradients all-reduced
//                          (module 21's DistributedDataParallel, over Open MPI)
//
// Each configuration is one run of milestone_1986_ddp --epochs 1 (it starts mpirun itself for 2
// ranks), which reports the epoch's training time without validation ("epoch_seconds", timed
// between two barriers: the slowest rank's). The configurations run round-robin, 3 times each (1
// with --quick); the record keeps the median:
//
//   {"name": "ddp_epoch", "impl": "2 ranks x 1 thread", "ranks": 2, "threads": 1,
//    "seconds": 1.9, "seconds_samples": [...], "speedup_vs_1x1": 0.55, "machine": "..."}
//
// `speedup_vs_1x1` is the 1 × 1 median divided by this configuration's, from the same run.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>

#include "tinytorch/benchmark/stats.h"
#include "tinytorch/benchmark/timer.h"
#include "tinytorch/train/logging.h"
#include "torch_baseline.h"

namespace {

namespace fs = std::filesystem;
using tinytorch::bench::Json;

struct Config {
  int ranks;
  int threads;
  [[nodiscard]] std::string impl() const {
    return std::to_string(ranks) + (ranks == 1 ? " rank" : " ranks") + " x " +
           std::to_string(threads) + (threads == 1 ? " thread" : " threads");
  }
};

// One epoch in a fresh milestone_1986_ddp: its training seconds, or throws with its output.
double epoch_seconds(const std::string& milestone, const Config& c, const fs::path& dir) {
  const fs::path json_path =
      dir / ("r" + std::to_string(c.ranks) + "t" + std::to_string(c.threads) + ".json");
  fs::remove(json_path);
  int status = -1;
  const std::string output = tinytorch::bench::capture(
      {milestone, "--ranks", std::to_string(c.ranks), "--threads", std::to_string(c.threads),
       "--epochs", "1", "--quiet", "--out", (dir / "run").string(), "--json", json_path.string()},
      status);
  std::ifstream in(json_path);
  if (status != 0 || !in) {
    throw std::runtime_error(c.impl() + ": milestone_1986_ddp failed (status " +
                             std::to_string(status) + "): " + output);
  }
  return Json::parse(in).at("epoch_seconds").at(0).get<double>();
}

}  // namespace

int main(int argc, char** argv) {
  std::string records_path;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
      records_path = argv[++i];
    } else {
      std::cerr << "usage: ddp_bench [--quick] [--records PATH]\n";
      return 2;
    }
  }
  try {
    // milestone_1986_ddp is built beside this program (bench/CMakeLists.txt: a dependency).
    const std::string milestone =
        (fs::path(tinytorch::bench::self_path(argv[0])).parent_path() / "milestone_1986_ddp")
            .string();
    const fs::path dir = fs::temp_directory_path() / ("tt_ddp_bench_" + std::to_string(getpid()));
    fs::create_directories(dir);
    const std::vector<Config> configs = {{1, 1}, {1, 2}, {2, 1}};
    const std::string machine = tinytorch::benchmark::machine_info().describe();
    std::cout << "  machine before the run: " << machine << "\n" << std::flush;
    std::vector<std::vector<double>> samples(configs.size());
    const int rounds = quick ? 1 : 3;
    for (int round = 0; round < rounds; ++round) {
      for (size_t k = 0; k < configs.size(); ++k) {
        samples[k].push_back(epoch_seconds(milestone, configs[k], dir));
        std::cout << "  round " << round + 1 << "/" << rounds << ": " << configs[k].impl() << " "
                  << std::fixed << std::setprecision(2) << samples[k].back() << " s\n"
                  << std::defaultfloat << std::flush;
      }
    }
    fs::remove_all(dir);
    Json records = Json::array();
    const double baseline = tinytorch::benchmark::median(samples[0]);
    for (size_t k = 0; k < configs.size(); ++k) {
      const double seconds = tinytorch::benchmark::median(samples[k]);
      records.push_back({{"name", "ddp_epoch"},
                         {"impl", configs[k].impl()},
                         {"ranks", configs[k].ranks},
                         {"threads", configs[k].threads},
                         {"seconds", seconds},
                         {"seconds_samples", samples[k]},
                         {"speedup_vs_1x1", baseline / seconds},
                         {"machine", machine}});
    }
    if (!records_path.empty()) {
      tinytorch::train::write_file_atomically(records_path, records.dump(2) + "\n");
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "ddp_bench: " << e.what() << "\n";
    return 1;
  }
}
