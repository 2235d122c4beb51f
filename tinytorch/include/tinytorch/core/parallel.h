// tinytorch/core/parallel.h — how many threads kernels may use, and a parallel_for to use them.
//
//   set_num_threads(2);                       // or: TINYTORCH_NUM_THREADS=2 ./program
//   parallel_for(0, rows, /*grain_size=*/64, [&](int64_t begin, int64_t end) {
//     for (int64_t r = begin; r < end; ++r) { ... }
//   });
//
// parallel_for splits [begin, end) into contiguous chunks, one per thread, and runs them with
// OpenMP — but only when the range holds more than grain_size items: below that, starting threads
// costs more than it saves, so small tensors run on the calling thread (at::parallel_for has the
// same signature and the same rule). Without OpenMP everything runs on the calling thread.
//
// An exception thrown by f on any thread is rethrown by parallel_for on the calling thread (the
// first one, if several chunks throw), as at::parallel_for does. NOTE: an exception must never
// leave an OpenMP region, where it would terminate the program: each chunk catches its own.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>

#ifdef TINYTORCH_HAVE_OPENMP
#include <omp.h>
#endif

namespace tinytorch {

// Threads used by every parallel kernel (the fast GEMM, element-wise ops, reductions). Defaults to
// TINYTORCH_NUM_THREADS if set, else the number of hardware threads OpenMP reports (which
// honours OMP_NUM_THREADS). n <= 0 restores that default.
void set_num_threads(int n);
int get_num_threads();

// True while running inside a parallel_for region (nested calls then run serially).
bool in_parallel_region();

template <typename F>
void parallel_for(int64_t begin, int64_t end, [[maybe_unused]] int64_t grain_size, const F& f) {
  if (begin >= end) return;
#ifdef TINYTORCH_HAVE_OPENMP
  const int64_t n = end - begin;
  const int threads = get_num_threads();
  if (threads > 1 && n > grain_size && !in_parallel_region()) {
    const int64_t chunks = std::min<int64_t>(
        threads, (n + std::max<int64_t>(grain_size, 1) - 1) / std::max<int64_t>(grain_size, 1));
    std::exception_ptr error;
    std::mutex error_mutex;
#pragma omp parallel num_threads(static_cast <int>(chunks))
    {
      // Thread t takes the t-th of `team` equal slices. The team may be smaller than asked for
      // (OMP_THREAD_LIMIT, OMP_DYNAMIC), so slice by its actual size: every item runs once.
      const int64_t team = omp_get_num_threads();
      const int64_t t = omp_get_thread_num();
      const int64_t per = (n + team - 1) / team;
      const int64_t b = begin + std::min(n, t * per);
      const int64_t e = std::min(end, b + per);
      try {
        if (b < e) f(b, e);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    return;
  }
#endif
  f(begin, end);
}

}  // namespace tinytorch
