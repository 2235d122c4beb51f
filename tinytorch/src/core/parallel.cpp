#include "tinytorch/core/parallel.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "tinytorch/core/exception.h"

namespace tinytorch {

namespace {
int default_num_threads() {
  if (const char* env = std::getenv("TINYTORCH_NUM_THREADS"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    TT_CHECK_VALUE(end != env && *end == '\0' && n >= 1 && n <= 1024,
                   "TINYTORCH_NUM_THREADS must be a whole number from 1 to 1024, got '", env, "'");
    return static_cast<int>(n);
  }
#ifdef TINYTORCH_HAVE_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

std::atomic<int> g_num_threads{0};  // 0 = not decided yet
}  // namespace

void set_num_threads(int n) {
  g_num_threads.store(n > 0 ? n : default_num_threads());
}

int get_num_threads() {
  int n = g_num_threads.load();
  if (n == 0) {
    n = default_num_threads();
    g_num_threads.store(n);
  }
  return n;
}

bool in_parallel_region() {
#ifdef TINYTORCH_HAVE_OPENMP
  return omp_in_parallel() != 0;
#else
  return false;
#endif
}

}  // namespace tinytorch
