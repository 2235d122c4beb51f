// SGEMM throughput, C = A * B with square N x N float32 matrices (2 N^3 flops per call), for
//
//   tinytorch-fast       the fast tier's SGEMM as registered (kernels::fast_kernels().sgemm, i.e.
//                        kernels::gemm_fast), called directly
//   tinytorch-reference  module 01's reference kernel, through tinytorch::matmul with the
//                        reference tier forced (kernels::set_tier(Tier::kReference))
//   openblas             cblas_sgemm, when Debian's libopenblas-dev was found at configure time
//                        (a benchmark-only yardstick: the framework itself never calls BLAS)
//
// at 1 and 2 threads (tinytorch::set_num_threads; openblas_set_num_threads), N = 128 ... 2048.
// The reference kernel is single-threaded and unblocked: it is measured at 1 thread and only up to
// N = 512 (256 with --quick); at N = 1024 one call takes a second or more, and every figure is
// the median of several calls.
//
// Also the two transposed layouts of the backward pass at N = 512:
//   sgemm_at_b   C = A^T * B   (weight gradient of a linear layer)
//   sgemm_a_bt   C = A * B^T   (input gradient)
//
// OpenBLAS as a user gets it: Debian's OpenBLAS is built with DYNAMIC_ARCH, i.e. with kernels for
// many CPUs, and picks one set when the library is loaded — the one for the CPU it detects (0.3.21
// takes a Zen 5 for "Cooperlake" and runs its AVX-512 kernels), or the one named by the
// environment variable OPENBLAS_CORETYPE (=Haswell pins it to AVX2 kernels, about half as fast
// there). `tito bench` clears that variable for the programs it runs and passes its old value on
// (openblas_coretype.h); this program reports which core OpenBLAS chose
// (openblas_get_corename) and why, in its header and in every openblas record:
//   {"name": "sgemm", "impl": "openblas", ..., "openblas_core": "Cooperlake",
//    "openblas_coretype": "Haswell", "openblas_coretype_cleared": true}
// (openblas_coretype: the variable's value in the user's environment, null when unset).
//
// Thread pools: OpenBLAS's threads keep spinning for about 0.1 s after a call (OpenMP's, ours,
// only for microseconds: tito sets GOMP_SPINCOUNT), which would steal a core from whatever figure
// is measured next. The repetitions of all figures run interleaved (see bench_harness.h), so every
// multi-threaded OpenBLAS repetition is followed by an untimed pause that lets its pool go idle
// (a 1-thread call runs on the calling thread and wakes no pool thread).
#include <benchmark/benchmark.h>

#ifdef TINYTORCH_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif

#include <cstdint>
#include <exception>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_harness.h"
#include "openblas_coretype.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/registry.h"

namespace {

using tinytorch::bench::Key;
using tinytorch::bench::Unit;

constexpr int64_t kSizes[] = {128, 256, 512, 1024, 2048};
constexpr int64_t kThreads[] = {1, 2};
constexpr int64_t kReferenceMaxN = 512, kQuickReferenceMaxN = 256;
constexpr int64_t kTransposedN = 512;
// OpenBLAS's idle threads spin for 2^28 cycles (its THREAD_TIMEOUT default; ~0.09 s at 3 GHz)
// before they sleep: the pause after each of its repetitions is comfortably longer.
constexpr double kOpenBlasIdleSeconds = 0.25;

// Random A and B and an output C for one square problem, shared by every benchmark of that size.
struct Problem {
  int64_t n;
  std::vector<float> a, b, c;

  static Problem& get(int64_t n) {
    static std::map<int64_t, std::unique_ptr<Problem>> cache;
    auto& problem = cache[n];
    if (!problem) problem.reset(new Problem(n));
    return *problem;
  }

 private:
  explicit Problem(int64_t size)
      : n(size), a(static_cast<size_t>(size * size)), b(a.size()), c(a.size()) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (float& x : a) x = uniform(rng);
    for (float& x : b) x = uniform(rng);
  }
};

double flops(int64_t n) {
  return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
}

// C = op(A) * op(B) with the fast tier's SGEMM.
void add_fast(tinytorch::bench::Suite& suite, const Key& key, bool trans_a, bool trans_b) {
  const tinytorch::kernels::GemmFn<float> sgemm = tinytorch::kernels::fast_kernels().sgemm;
  if (sgemm == nullptr) {
    suite.skip(key, tinytorch::kernels::tier() == tinytorch::kernels::Tier::kReference
                        ? "the reference tier is forced (TINYTORCH_KERNELS=reference)"
                        : "no fast SGEMM is registered yet (module 18)");
    return;
  }
  suite.add(key, Unit::kGflops, flops(key.n), [key, trans_a, trans_b, sgemm] {
    tinytorch::set_num_threads(static_cast<int>(key.threads));
    Problem& p = Problem::get(key.n);
    return [&p, trans_a, trans_b, sgemm] {
      sgemm(trans_a, trans_b, p.n, p.n, p.n, 1.0f, p.a.data(), p.n, p.b.data(), p.n, 0.0f,
            p.c.data(), p.n);
    };
  });
}

// tinytorch::matmul with the reference tier forced; the tier in force before is restored after.
void add_reference(tinytorch::bench::Suite& suite, const Key& key) {
  suite.add(key, Unit::kGflops, flops(key.n), [key] {
    tinytorch::set_num_threads(static_cast<int>(key.threads));
    const auto a = tinytorch::randn({key.n, key.n}), b = tinytorch::randn({key.n, key.n});
    return [a, b] {
      // Switching tiers is two atomic stores: nothing next to an N >= 128 matmul.
      struct ReferenceTier {
        tinytorch::kernels::Tier before = tinytorch::kernels::tier();
        ReferenceTier() { tinytorch::kernels::set_tier(tinytorch::kernels::Tier::kReference); }
        ~ReferenceTier() { tinytorch::kernels::set_tier(before); }
      } reference;
      benchmark::DoNotOptimize(tinytorch::matmul(a, b).data_ptr());
    };
  });
}

#ifdef TINYTORCH_BENCH_HAVE_OPENBLAS
// Which kernels OpenBLAS runs in this process, and what OPENBLAS_CORETYPE had to do with it (see
// the top of this file): a header line, and fields for every openblas record.
void describe_openblas(tinytorch::bench::Suite& suite) {
  const std::string core = openblas_get_corename();
  const auto coretype = tinytorch::bench::OpenBlasCoretype::from_environment();
  suite.context("OpenBLAS", std::string(openblas_get_config()));
  suite.context("OpenBLAS core", core + ", " + coretype.reason());
  suite.impl_field("openblas", "openblas_core", core);
  if (coretype.value) {
    suite.impl_field("openblas", "openblas_coretype", *coretype.value);
  } else {
    suite.impl_field("openblas", "openblas_coretype", nullptr);
  }
  suite.impl_field("openblas", "openblas_coretype_cleared", coretype.cleared);
}

void add_openblas(tinytorch::bench::Suite& suite, const Key& key, bool trans_a, bool trans_b) {
  suite.add(
      key, Unit::kGflops, flops(key.n),
      [key, trans_a, trans_b] {
        openblas_set_num_threads(static_cast<int>(key.threads));
        Problem& p = Problem::get(key.n);
        return [&p, trans_a, trans_b] {
          const auto n = static_cast<blasint>(p.n);
          cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                      trans_b ? CblasTrans : CblasNoTrans, n, n, n, 1.0f, p.a.data(), n, p.b.data(),
                      n, 0.0f, p.c.data(), n);
        };
      },
      key.threads > 1 ? kOpenBlasIdleSeconds : 0.0);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  try {
    tinytorch::bench::Suite suite(argc, argv);
    suite.context("gemm_fast CPU capability",
                  tinytorch::kernels::to_string(tinytorch::kernels::get_cpu_capability()));

    // The backward-pass layouts: {record name, trans_a, trans_b}.
    struct Layout {
      const char* name;
      bool trans_a, trans_b;
    };
    constexpr Layout kTransposed[] = {{"sgemm_at_b", true, false}, {"sgemm_a_bt", false, true}};

    for (const int64_t n : kSizes) {
      for (const int64_t threads : kThreads) {
        add_fast(suite, {.name = "sgemm", .impl = "tinytorch-fast", .n = n, .threads = threads},
                 false, false);
      }
    }
    for (const Layout& layout : kTransposed) {
      for (const int64_t threads : kThreads) {
        add_fast(
            suite,
            {.name = layout.name, .impl = "tinytorch-fast", .n = kTransposedN, .threads = threads},
            layout.trans_a, layout.trans_b);
      }
    }
    const int64_t reference_max_n = suite.quick() ? kQuickReferenceMaxN : kReferenceMaxN;
    for (const int64_t n : kSizes) {
      const Key key{.name = "sgemm", .impl = "tinytorch-reference", .n = n, .threads = 1};
      if (n <= reference_max_n) {
        add_reference(suite, key);
      } else {
        suite.skip(key, "sizes above " + std::to_string(reference_max_n) +
                            " are left out to keep the run short (the unblocked reference kernel "
                            "is slow at large N)");
      }
    }

#ifdef TINYTORCH_BENCH_HAVE_OPENBLAS
    describe_openblas(suite);
    for (const int64_t n : kSizes) {
      for (const int64_t threads : kThreads) {
        add_openblas(suite, {.name = "sgemm", .impl = "openblas", .n = n, .threads = threads},
                     false, false);
      }
    }
    for (const Layout& layout : kTransposed) {
      for (const int64_t threads : kThreads) {
        add_openblas(
            suite, {.name = layout.name, .impl = "openblas", .n = kTransposedN, .threads = threads},
            layout.trans_a, layout.trans_b);
      }
    }
#else
    suite.skip({.name = "sgemm", .impl = "openblas"},
               "OpenBLAS was not found when the build was configured (install Debian's "
               "libopenblas-dev: tito bench configures again and finds it; by hand: "
               "cmake --preset release)");
#endif
    return suite.run();
  } catch (const std::exception& e) {  // e.g. a bad TINYTORCH_* environment variable
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
