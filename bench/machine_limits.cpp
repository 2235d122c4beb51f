#include "machine_limits.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <utility>

#include <time.h>
#include <unistd.h>

#include "fma_peak.h"

namespace tinytorch::bench {

namespace {

// The largest cache of CPU 0 in bytes, from Linux's sysfs (where Google Benchmark reads it too);
// 0 where it cannot be read.
int64_t largest_cache_bytes() {
  int64_t largest = 0;
  for (int index = 0;; ++index) {
    std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
    std::string text;
    if (!(in >> text)) break;
    char* unit = nullptr;
    int64_t bytes = std::strtoll(text.c_str(), &unit, 10);
    if (*unit == 'K') bytes <<= 10;
    if (*unit == 'M') bytes <<= 20;
    largest = std::max(largest, bytes);
  }
  return largest;
}

}  // namespace

std::optional<FmaPeak> fma_peak_for_this_cpu() {
#ifdef TINYTORCH_BENCH_HAVE_FMA_KERNELS
  // __builtin_cpu_supports also checks that the operating system saves the wider registers on a
  // context switch (without that, the instructions fault even on a CPU that has them).
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    return FmaPeak{
        .isa = "AVX-512", .flops_per_step = kFmaPeakAvx512FlopsPerStep, .kernel = fma_peak_avx512};
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return FmaPeak{
        .isa = "AVX2", .flops_per_step = kFmaPeakAvx2FlopsPerStep, .kernel = fma_peak_avx2};
  }
#endif
  return std::nullopt;
}

std::optional<FmaPeak> int8_peak_for_this_cpu() {
#ifdef TINYTORCH_BENCH_HAVE_FMA_KERNELS
  __builtin_cpu_init();
  // The kernel module 15's GEMM runs here (tinytorch/src/kernels/qgemm_fast.cpp picks the same).
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) {
    return FmaPeak{.isa = "AVX-512 VNNI vpdpbusd",
                   .flops_per_step = kInt8PeakVnniOpsPerStep,
                   .kernel = int8_peak_avx512_vnni};
  }
  if (__builtin_cpu_supports("avx2")) {
    return FmaPeak{.isa = "AVX2 vpmaddubsw+vpmaddwd",
                   .flops_per_step = kInt8PeakAvx2OpsPerStep,
                   .kernel = int8_peak_avx2};
  }
#endif
  return std::nullopt;
}

int64_t StreamArrays::elements() {
  const int64_t bytes =
      std::clamp<int64_t>(4 * largest_cache_bytes(), int64_t{128} << 20, int64_t{1} << 30);
  return bytes / static_cast<int64_t>(sizeof(float)) / kBlock * kBlock;
}

StreamArrays& StreamArrays::get() {
  static StreamArrays arrays;
  return arrays;
}

StreamArrays::StreamArrays() {
  const int threads = get_num_threads();
  set_num_threads(0);  // all of them
  for_stream_blocks(n, [this](int64_t begin, int64_t end) {
    std::fill(a.get() + begin, a.get() + end, 1.0f);
    std::fill(b.get() + begin, b.get() + end, 2.0f);
    std::fill(c.get() + begin, c.get() + end, 0.5f);
  });
  set_num_threads(threads);
}

// __restrict: the arrays never overlap.
void stream_copy_range(const float* __restrict a, float* __restrict c, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; i += StreamArrays::kBlock) {
    for (int64_t j = 0; j < StreamArrays::kBlock; ++j) c[i + j] = a[i + j];
  }
}

void stream_triad_range(float* __restrict a, const float* __restrict b, const float* __restrict c,
                        float s, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; i += StreamArrays::kBlock) {
    for (int64_t j = 0; j < StreamArrays::kBlock; ++j) a[i + j] = b[i + j] + s * c[i + j];
  }
}

std::optional<double> cpu_busy_fraction() {
  // (CPU seconds all programs spent busy, wall-clock CPU seconds) since boot, from /proc/stat, and
  // the CPU seconds of this process, whose own threads must not count as other programs: a
  // library's thread pool may spin at start-up (OpenBLAS's does for about 0.1 s).
  struct Sample {
    double busy, total, own;
  };
  const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));  // seconds per tick
  const auto sample = [tick]() -> std::optional<Sample> {
    std::ifstream in("/proc/stat");
    std::string cpu;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    timespec own{};
    if (!(in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) ||
        cpu != "cpu" || clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &own) != 0) {
      return std::nullopt;
    }
    const double busy = user + nice + system + irq + softirq + steal;
    return Sample{busy * tick, (busy + idle + iowait) * tick,
                  static_cast<double>(own.tv_sec) + 1e-9 * static_cast<double>(own.tv_nsec)};
  };
  const auto before = sample();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto after = sample();
  if (!before || !after || after->total <= before->total) return std::nullopt;
  const double others = (after->busy - before->busy) - (after->own - before->own);
  return std::max(0.0, others / (after->total - before->total));
}

bool openmp_wait_policy_is_default() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  return (policy == nullptr || *policy == '\0') && (spin == nullptr || *spin == '\0');
}

std::string openmp_wait_policy() {
  if (openmp_wait_policy_is_default()) {
    return "default (idle threads spin for some milliseconds before they sleep)";
  }
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  if (policy != nullptr && *policy != '\0') return std::string("OMP_WAIT_POLICY=") + policy;
  return std::string("GOMP_SPINCOUNT=") + std::getenv("GOMP_SPINCOUNT");
}

}  // namespace tinytorch::bench
