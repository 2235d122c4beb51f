// SGEMM throughput: tinytorch::kernels::gemm_fast against OpenBLAS's cblas_sgemm, both row-major,
// square N x N x N, at 1 and 2 threads. The "FLOP/s" counter counts 2 * N^3 flops per call.
//
// Example (on a quiet machine; repeat and compare medians):
//   ./gemm_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// OpenBLAS here is only the yardstick; tinytorch itself never calls BLAS.
//
// Two thread pools live in this process: OpenMP's (gemm_fast) and OpenBLAS's own. Each keeps its
// idle threads spinning for a while after a call, which steals the cores from the other pool's
// next call. So all gemm_fast benchmarks run first and OpenBLAS's after them (registration
// order); do not pass --benchmark_enable_random_interleaving, and expect 2-thread numbers to
// collapse if other processes keep the cores busy (OMP_WAIT_POLICY=passive softens that).
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tinytorch/kernels/gemm.h"

namespace {

using tinytorch::kernels::gemm_fast;

// A, B (random) and C for one square problem, reused across the iterations of a benchmark.
struct SquareProblem {
  explicit SquareProblem(int64_t n)
      : n(n), a(static_cast<size_t>(n * n)), b(a.size()), c(a.size()) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (float& x : a) x = uniform(rng);
    for (float& x : b) x = uniform(rng);
  }
  int64_t n;
  std::vector<float> a, b, c;
};

void set_flops_counter(benchmark::State& state, int64_t m, int64_t n, int64_t k) {
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(m * n * k),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

// Args: {N, threads}.
void BM_GemmFast(benchmark::State& state) {
  const int64_t n = state.range(0);
  tinytorch::kernels::set_gemm_num_threads(static_cast<int>(state.range(1)));
  SquareProblem p(n);
  for (auto _ : state) {
    gemm_fast(false, false, n, n, n, 1.0f, p.a.data(), n, p.b.data(), n, 0.0f, p.c.data(), n);
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  set_flops_counter(state, n, n, n);
  tinytorch::kernels::set_gemm_num_threads(0);
}

void BM_OpenBlas(benchmark::State& state) {
  const int64_t n = state.range(0);
  openblas_set_num_threads(static_cast<int>(state.range(1)));
  SquareProblem p(n);
  const auto ni = static_cast<blasint>(n);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1.0f, p.a.data(), ni,
                p.b.data(), ni, 0.0f, p.c.data(), ni);
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  set_flops_counter(state, n, n, n);
}

// The transpose combinations the backward pass needs (A^T B for weight gradients, A B^T for
// input gradients), single-threaded. Args: {N, trans_a, trans_b}.
void BM_GemmFastTransposed(benchmark::State& state) {
  const int64_t n = state.range(0);
  const bool trans_a = state.range(1) != 0, trans_b = state.range(2) != 0;
  tinytorch::kernels::set_gemm_num_threads(1);
  SquareProblem p(n);
  for (auto _ : state) {
    gemm_fast(trans_a, trans_b, n, n, n, 1.0f, p.a.data(), n, p.b.data(), n, 0.0f, p.c.data(), n);
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  set_flops_counter(state, n, n, n);
  tinytorch::kernels::set_gemm_num_threads(0);
}

void BM_OpenBlasTransposed(benchmark::State& state) {
  const int64_t n = state.range(0);
  const bool trans_a = state.range(1) != 0, trans_b = state.range(2) != 0;
  openblas_set_num_threads(1);
  SquareProblem p(n);
  const auto ni = static_cast<blasint>(n);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, ni, ni, ni, 1.0f, p.a.data(), ni, p.b.data(),
                ni, 0.0f, p.c.data(), ni);
    benchmark::DoNotOptimize(p.c.data());
    benchmark::ClobberMemory();
  }
  set_flops_counter(state, n, n, n);
}

// Real (wall-clock) time: with 2 threads, CPU time would double-count.
BENCHMARK(BM_GemmFast)
    ->ArgsProduct({{128, 256, 512, 1024, 2048}, {1, 2}})
    ->ArgNames({"N", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OpenBlas)
    ->ArgsProduct({{128, 256, 512, 1024, 2048}, {1, 2}})
    ->ArgNames({"N", "threads"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GemmFastTransposed)
    ->ArgsProduct({{512}, {0, 1}, {0, 1}})
    ->ArgNames({"N", "trans_a", "trans_b"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OpenBlasTransposed)
    ->ArgsProduct({{512}, {0, 1}, {0, 1}})
    ->ArgNames({"N", "trans_a", "trans_b"})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("gemm_fast_uses_avx2",
                              tinytorch::kernels::gemm_fast_uses_avx2() ? "yes" : "no");
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
