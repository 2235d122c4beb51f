// The fast tier's int8 GEMM (kernels/qgemm.h): weights packed once into 16-channel micro-panels
// (qgemm_kernels.h), a register-tiled micro-kernel per instruction set chosen at each call, and
// the tiles of C shared among threads with parallel_for.
//
//   tasks = (block of kRowBlock rows) × (block of kPanelBlock panels); inside a task, for each
//   panel (K·16 bytes: 16 KiB at K = 1024, it stays in L1) every micro-tile of rows runs over it,
//   the block's activation rows (kRowBlock·K bytes) staying in L2.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "qgemm_kernels.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/qgemm.h"

namespace tinytorch::kernels {
namespace qgemm_detail {
namespace {

// The portable tile: the same contract and loop order as the SIMD kernels, 4 rows at a time.
void micro_portable(int64_t groups, const uint8_t* a, int64_t lda, int64_t rows,
                    const int8_t* panel, int64_t /*panel_stride: one panel a call*/, int32_t* c,
                    int64_t ldc, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i) {
    int32_t acc[kNR] = {};
    const uint8_t* ai = a + i * lda;
    for (int64_t g = 0; g < groups; ++g) {
      const int8_t* b = panel + g * kGroupBytes;
      for (int64_t j = 0; j < kNR; ++j) {
        for (int64_t t = 0; t < kKGroup; ++t) {
          acc[j] +=
              static_cast<int32_t>(ai[g * kKGroup + t]) * static_cast<int32_t>(b[j * kKGroup + t]);
        }
      }
    }
    store_row(acc, c + i * ldc, cols);
  }
}

}  // namespace

QGemmIsa qgemm_portable() {
  return {&micro_portable,  4, kNR, /*needs_7bit=*/false, "DEFAULT", &minmax_plain, &quantize_plain,
          &dequantize_plain};
}

namespace {

// AVX-512 VNNI is a feature of its own (Skylake-X has AVX-512F without it), so it is checked
// apart from get_cpu_capability's levels: VNNI runs when the capability in force is AVX512
// (TINYTORCH_CPU_CAPABILITY may cap it) and the CPU reports avx512_vnni and avx512bw.
bool cpu_has_avx512_vnni() {
#ifdef TINYTORCH_GEMM_X86
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw");
  }();
  return has;
#else
  return false;
#endif
}

// The kernel this CPU runs now. `exact_only`: some activation is > 127, skip kernels that
// need 7-bit activations.
const QGemmIsa& isa(bool exact_only) {
  static const QGemmIsa portable = qgemm_portable();
#ifdef TINYTORCH_GEMM_X86
  const CpuCapability level = get_cpu_capability();
  if (level == CpuCapability::kAvx512 && cpu_has_avx512_vnni()) {
    static const QGemmIsa vnni = qgemm_avx512_vnni();
    return vnni;
  }
  if (level != CpuCapability::kDefault && !exact_only) {
    static const QGemmIsa avx2 = qgemm_avx2();
    return avx2;
  }
#else
  (void)exact_only;
#endif
  return portable;
}

int64_t round_up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}

constexpr int64_t kRowBlock = 64;
constexpr int64_t kPanelBlock = 4;  // 64 output channels; a multiple of every kernel's nr / kNR

void gemm_panels(int64_t M, const uint8_t* A, int64_t lda, const PackedInt8Weight& B, int32_t* C,
                 int64_t ldc) {
  const int64_t N = B.out_features, K = B.in_features;
  if (M == 0 || N == 0) return;
  const int64_t K4 = round_up(K, kKGroup), groups = K4 / kKGroup;
  // K not a multiple of 4 needs rows padded with zeros, since the kernels read whole 4-byte
  // groups; and a kernel that needs 7-bit activations (AVX2's vpmaddubsw) must not meet an A > 127.
  // Both cost O(M·K), against the GEMM's O(M·N·K).
  const QGemmIsa* kernel = &isa(/*exact_only=*/false);
  if (kernel->needs_7bit) {
    // Only "is any byte > 127" matters: OR the bytes together 8 at a time and test the top bits
    // (a byte-wise max loop stays scalar at -O2: it was 17% of a 784→256 batch-256 GEMM).
    uint64_t high = 0;
    for (int64_t m = 0; m < M; ++m) {
      const uint8_t* row = A + m * lda;
      int64_t k = 0;
      for (; k + 8 <= K; k += 8) {
        uint64_t eight;
        std::memcpy(&eight, row + k, sizeof(eight));
        high |= eight;
      }
      for (; k < K; ++k) high |= row[k];
    }
    if ((high & 0x8080808080808080ull) != 0) kernel = &isa(/*exact_only=*/true);
  }
  std::vector<uint8_t> padded;
  if (K4 != K) {
    padded.assign(static_cast<size_t>(M * K4), 0);
    for (int64_t m = 0; m < M; ++m) std::memcpy(&padded[m * K4], A + m * lda, K);
    A = padded.data();
    lda = K4;
  }
  const int64_t panels = (N + kNR - 1) / kNR;
  const int64_t row_blocks = (M + kRowBlock - 1) / kRowBlock;
  const int64_t panel_blocks = (panels + kPanelBlock - 1) / kPanelBlock;
  const int64_t panel_bytes = K4 * kNR;
  const auto run = [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t m0 = (task / panel_blocks) * kRowBlock, m1 = std::min(M, m0 + kRowBlock);
      const int64_t p0 = (task % panel_blocks) * kPanelBlock;
      const int64_t p1 = std::min(panels, p0 + kPanelBlock);
      // The kernel's nr / kNR panels at a time (K·16 bytes each, together in L1), every
      // micro-tile of the block's rows over them.
      for (int64_t p = p0; p < p1; p += kernel->nr / kNR) {
        const int8_t* panel = B.data.data() + p * panel_bytes;
        const int64_t n0 = p * kNR, cols = std::min(kernel->nr, N - n0);
        for (int64_t m = m0; m < m1; m += kernel->mr) {
          kernel->micro(groups, A + m * lda, lda, std::min(kernel->mr, m1 - m), panel, panel_bytes,
                        C + m * ldc + n0, ldc, cols);
        }
      }
    }
  };
  // Below ~64³ multiply-adds a thread's wake-up costs more than it saves (as gemm_fast).
  const int64_t tasks = row_blocks * panel_blocks;
  if (static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) < 64.0 * 64 * 64) {
    run(0, tasks);
  } else {
    parallel_for(0, tasks, 1, run);
  }
}

}  // namespace
}  // namespace qgemm_detail

PackedInt8Weight pack_int8_weight_fast(int64_t N, int64_t K, const int8_t* B, int64_t ldb) {
  using namespace qgemm_detail;
  TT_CHECK_VALUE(N >= 0 && K >= 0 && K <= kQGemmMaxK && ldb >= K,
                 "pack_int8_weight_fast: expected 0 <= N, 0 <= K <= ", kQGemmMaxK,
                 " and ldb >= K, got N=", N, " K=", K, " ldb=", ldb);
  const int64_t K4 = round_up(K, kKGroup), panels = (N + kNR - 1) / kNR;
  PackedInt8Weight packed;
  packed.out_features = N;
  packed.in_features = K;
  packed.data.assign(static_cast<size_t>(panels * K4 * kNR), 0);  // zeros: the K and N tails
  packed.row_sums.assign(static_cast<size_t>(N), 0);
  for (int64_t n = 0; n < N; ++n) {
    int8_t* panel = packed.data.data() + (n / kNR) * K4 * kNR;
    const int64_t j = n % kNR;
    for (int64_t k = 0; k < K; ++k) {
      const int8_t v = B[n * ldb + k];
      panel[(k / kKGroup) * kGroupBytes + j * kKGroup + k % kKGroup] = v;
      packed.row_sums[n] += v;
    }
  }
  packed.gemm = &gemm_panels;
  // The inverse of the loop above.
  packed.unpack = [](const PackedInt8Weight& w, int8_t* B) {
    const int64_t K = w.in_features, K4 = round_up(K, kKGroup);
    for (int64_t n = 0; n < w.out_features; ++n) {
      const int8_t* panel = w.data.data() + (n / kNR) * K4 * kNR;
      for (int64_t k = 0; k < K; ++k) {
        B[n * K + k] = panel[(k / kKGroup) * kGroupBytes + (n % kNR) * kKGroup + k % kKGroup];
      }
    }
  };
  return packed;
}

void minmax_fast(int64_t n, const float* x, float* lo, float* hi) {
  qgemm_detail::isa(/*exact_only=*/false).minmax(n, x, lo, hi);
}

void quantize_fast(int64_t n, const float* x, float inv_scale, int32_t zero_point, uint8_t* q) {
  qgemm_detail::isa(/*exact_only=*/false).quantize(n, x, inv_scale, zero_point, q);
}

void dequantize_fast(int64_t n, const int32_t* c, const float* scale, const int32_t* correction,
                     const float* bias, float* y) {
  qgemm_detail::isa(/*exact_only=*/false).dequantize(n, c, scale, correction, bias, y);
}

const char* qgemm_fast_isa() {
  return qgemm_detail::isa(/*exact_only=*/false).name;
}

}  // namespace tinytorch::kernels
