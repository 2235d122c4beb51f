// Mixed precision's GEMM against our float32 one, in the same run, on the same shapes:
//
//   f32    kernels::gemm_fast    C = A · B, all float32
//   bf16   kernels::gemm_bf16    the same product with A and B in bfloat16, float32 sums and C
//
// Shapes: square N = 512, 1024, 2048, and a Linear layer's forward, [4096 x 768] · [768 x 3072]
// (x · Wᵀ, W stored [3072, 768] as a Linear keeps it: the trans_b layout); 1 and 2 threads. Each
// figure is the median of several calls, the two sides' calls interleaved so that both sample the
// same stretch of the machine's time; the table shows GFLOP/s (2·M·N·K flops per call) and the
// ratio bf16 / f32. The target: ≥ 1.8x where vdpbf16ps runs (AVX512_BF16), ≥ 1.0x elsewhere.
//
//   bf16_gemm_bench [--quick] [--records PATH]
//     --quick          N = 128 only, 2 repetitions (a smoke run)
//     --records PATH   also write the figures as JSON records for `tito bench amp`, one per shape,
//                      thread count and precision:
//       {"name": "amp_gemm", "impl": "tinytorch-fast", "precision": "bfloat16",
//        "shape": "512 x 512 x 512", "m": 512, "n": 512, "k": 512, "threads": 1,
//        "gflops": 250.0, "half_isa": "AVX512_BF16", "cpu_capability": "AVX512"}
//
// Not yet here: PyTorch's bf16 matmul as a baseline.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/half.h"
#include "tinytorch/train/logging.h"

namespace {

using tinytorch::kernels::BFloat16;
using Json = nlohmann::ordered_json;

struct Shape {
  const char* name;
  int64_t M, N, K;
  bool trans_b;  // B stored N x K (a Linear's weight)
};

double seconds_of(const auto& call) {
  const auto start = std::chrono::steady_clock::now();
  call();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  return x[x.size() / 2];
}

// Times both GEMMs on shape `s`, prints the table's row and appends the two records.
void run(const Shape& s, int threads, int repetitions, Json& records) {
  std::mt19937 gen(1);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> a(static_cast<size_t>(s.M * s.K)), b(static_cast<size_t>(s.K * s.N));
  std::vector<float> c(static_cast<size_t>(s.M * s.N));
  for (float& x : a) x = uniform(gen);
  for (float& x : b) x = uniform(gen);
  std::vector<BFloat16> a16(a.size()), b16(b.size());
  tinytorch::kernels::float_to_bf16(static_cast<int64_t>(a.size()), a.data(), a16.data());
  tinytorch::kernels::float_to_bf16(static_cast<int64_t>(b.size()), b.data(), b16.data());
  const int64_t ldb = s.trans_b ? s.K : s.N;

  tinytorch::set_num_threads(threads);
  const auto f32 = [&] {
    tinytorch::kernels::gemm_fast(false, s.trans_b, s.M, s.N, s.K, 1.0f, a.data(), s.K, b.data(),
                                  ldb, 0.0f, c.data(), s.N);
  };
  const auto bf16 = [&] {
    tinytorch::kernels::gemm_bf16(false, s.trans_b, s.M, s.N, s.K, 1.0f, a16.data(), s.K,
                                  b16.data(), ldb, 0.0f, c.data(), s.N);
  };
  f32();  // warm-up: page faults, packing buffers, the thread pool
  bf16();
  std::vector<double> t32, t16;
  for (int r = 0; r < repetitions; ++r) {
    t32.push_back(seconds_of(f32));
    t16.push_back(seconds_of(bf16));
  }
  const double flops = 2.0 * static_cast<double>(s.M) * static_cast<double>(s.N) * s.K;
  const double g32 = flops / median(t32) * 1e-9, g16 = flops / median(t16) * 1e-9;
  std::printf("%-26s %7d %12.1f %12.1f %10.2fx\n", s.name, threads, g32, g16, g16 / g32);
  for (const auto& [precision, gflops] : {std::pair{"float32", g32}, std::pair{"bfloat16", g16}}) {
    records.push_back({{"name", "amp_gemm"},
                       {"impl", "tinytorch-fast"},
                       {"precision", precision},
                       {"shape", s.name},
                       {"m", s.M},
                       {"n", s.N},
                       {"k", s.K},
                       {"threads", threads},
                       {"gflops", gflops},
                       {"half_isa", tinytorch::kernels::to_string(tinytorch::kernels::half_isa())},
                       {"cpu_capability",
                        tinytorch::kernels::to_string(tinytorch::kernels::get_cpu_capability())}});
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    bool quick = false;
    std::string records_path;
    for (int i = 1; i < argc; ++i) {
      if (std::strcmp(argv[i], "--quick") == 0) {
        quick = true;
      } else if (std::strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
        records_path = argv[++i];
      } else {
        std::fprintf(stderr, "usage: bf16_gemm_bench [--quick] [--records PATH]\n");
        return 2;
      }
    }
    std::printf("gemm_fast: %s, gemm_bf16: %s\n",
                tinytorch::kernels::to_string(tinytorch::kernels::get_cpu_capability()),
                tinytorch::kernels::to_string(tinytorch::kernels::half_isa()));
    std::printf("%-26s %7s %12s %12s %11s\n", "shape (M x N x K)", "threads", "f32 GFLOP/s",
                "bf16 GFLOP/s", "bf16/f32");
    const std::vector<Shape> shapes =
        quick ? std::vector<Shape>{{"128 x 128 x 128", 128, 128, 128, false}}
              : std::vector<Shape>{{"512 x 512 x 512", 512, 512, 512, false},
                                   {"1024 x 1024 x 1024", 1024, 1024, 1024, false},
                                   {"2048 x 2048 x 2048", 2048, 2048, 2048, false},
                                   {"linear 4096 x 3072 x 768", 4096, 3072, 768, true}};
    Json records = Json::array();
    for (const Shape& s : shapes) {
      for (const int threads : {1, 2}) run(s, threads, quick ? 2 : 9, records);
    }
    if (!records_path.empty()) {
      tinytorch::train::write_file_atomically(records_path, records.dump(2) + "\n");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
