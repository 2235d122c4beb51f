// Tests for tinytorch::kernels::gemm_fast against a naive triple loop accumulated in double.
//
// Every test runs under nine configurations: each micro-kernel the CPU can run (portable, AVX2,
// AVX-512: TINYTORCH_CPU_CAPABILITY picks it; the levels this CPU lacks are skipped), times 1, 2 or
// 3 threads (tinytorch::set_num_threads; 3 threads on a 2-core machine makes one of them late, so
// the others take its units). Each checks float and double, and the shape-driven tests cover all
// four transpose combinations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "held_helpers.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"

namespace tinytorch::kernels {

// How GoogleTest prints a test parameter: "AVX2" rather than "4-byte object <01-00 00-00>".
void PrintTo(CpuCapability capability, std::ostream* os) {
  *os << to_string(capability);
}

namespace {

struct Shape {
  int64_t M, N, K;
};

// One GEMM call: shape, transposes, scalars, and how much each leading dimension exceeds the
// stored row length.
struct Problem {
  Shape shape;
  bool trans_a = false, trans_b = false;
  double alpha = 1.0, beta = 0.0;
  int64_t pad_a = 0, pad_b = 0, pad_c = 0;
  bool nan_c = false;  // fill C with NaN before the call (only meaningful with beta == 0)
};

std::string describe(const Problem& p) {
  return "M=" + std::to_string(p.shape.M) + " N=" + std::to_string(p.shape.N) +
         " K=" + std::to_string(p.shape.K) + " trans_a=" + std::to_string(p.trans_a) +
         " trans_b=" + std::to_string(p.trans_b) + " alpha=" + std::to_string(p.alpha) +
         " beta=" + std::to_string(p.beta) + " pads=" + std::to_string(p.pad_a) + "," +
         std::to_string(p.pad_b) + "," + std::to_string(p.pad_c) +
         (p.nan_c ? " (C filled with NaN)" : "");
}

// Value in C's padding columns (j >= N); gemm_fast must never touch it.
constexpr double kPaddingSentinel = 12345.0;

// A value in [-1, 1) for index i of stream `stream` of a seed: SplitMix64's finaliser on the
// three, so that any operand element can be drawn on its own, in any order.
double random_value(uint32_t seed, uint64_t stream, uint64_t i) {
  uint64_t z = (uint64_t{seed} << 32 | stream) * 0x9E3779B97F4A7C15ull + i * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-52 - 1.0;
}

// The operands of a problem as the product sees them — op(A) [M, K], op(B)ᵀ [N, K], C [M, N] —
// drawn from the seed alone, so the same whatever the transposes and leading dimensions; and
// the expected C with each element's tolerance, from a naive loop in double. Computed once per
// (shape, scalars, seed) and kept: the four transposes of a shape, and the tests that run their
// problems twice, compare against one reference (the loop is most of such a test's time under
// the sanitizers).
template <typename T>
struct Reference {
  std::vector<T> a, bt, c0;
  std::vector<double> expected, tolerance;  // [M, N]
};

template <typename T>
const Reference<T>& reference(const Problem& p, uint32_t seed) {
  static std::map<std::tuple<int64_t, int64_t, int64_t, double, double, bool, uint32_t>,
                  Reference<T>>
      memo;
  const auto [M, N, K] = p.shape;
  auto [at, fresh] = memo.try_emplace({M, N, K, p.alpha, p.beta, p.nan_c, seed});
  Reference<T>& r = at->second;
  if (!fresh) return r;
  const auto draw = [&](uint64_t stream, int64_t count) {
    std::vector<T> v(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) v[i] = static_cast<T>(random_value(seed, stream, i));
    return v;
  };
  r.a = draw(0, M * K);
  r.bt = draw(1, N * K);
  r.c0 = draw(2, M * N);
  if (p.nan_c) std::fill(r.c0.begin(), r.c0.end(), std::numeric_limits<T>::quiet_NaN());
  // The classic bound for a dot product of length K: |error| <= ~K * eps * sum |a_ik * b_kj|.
  const double eps = std::numeric_limits<T>::epsilon();
  const double alpha = static_cast<T>(p.alpha), beta = static_cast<T>(p.beta);
  r.expected.resize(static_cast<size_t>(M * N));
  r.tolerance.resize(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double dot = 0.0, abs_dot = 0.0;
      for (int64_t k = 0; k < K; ++k) {
        const double product = static_cast<double>(r.a[i * K + k]) * r.bt[j * K + k];
        dot += product;
        abs_dot += std::abs(product);
      }
      const double c0 = r.c0[i * N + j];
      r.expected[i * N + j] = alpha * dot + (beta == 0.0 ? 0.0 : beta * c0);
      const double scale = std::abs(alpha) * abs_dot + (beta == 0.0 ? 0.0 : std::abs(beta * c0));
      r.tolerance[i * N + j] = 4.0 * eps * static_cast<double>(K + 2) * scale + 1e-30;
    }
  }
  return r;
}

// Runs gemm_fast<T> on random data, stored as the problem says (transposed or not, rows padded
// with other random values), and checks every element of C against the double-precision
// reference, and that C's padding columns keep their sentinel.
template <typename T>
void check_gemm(const Problem& p, uint32_t seed = 42) {
  SCOPED_TRACE(describe(p));
  const auto [M, N, K] = p.shape;
  const Reference<T>& ref = reference<T>(p, seed);
  // Stored shapes: A is M x K (or K x M if transposed), B is K x N (or N x K).
  const int64_t a_rows = p.trans_a ? K : M, a_cols = p.trans_a ? M : K;
  const int64_t b_rows = p.trans_b ? N : K, b_cols = p.trans_b ? K : N;
  const int64_t lda = a_cols + p.pad_a, ldb = b_cols + p.pad_b, ldc = N + p.pad_c;
  // +1 so that data() is never null, even for an empty matrix; the padding random too.
  const auto stored = [&](uint64_t stream, int64_t rows, int64_t ld) {
    std::vector<T> m(static_cast<size_t>(rows * ld) + 1);
    for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<T>(random_value(seed, stream, i));
    return m;
  };
  std::vector<T> A = stored(3, a_rows, lda), B = stored(4, b_rows, ldb), C = stored(5, M, ldc);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t k = 0; k < K; ++k)
      (p.trans_a ? A[k * lda + i] : A[i * lda + k]) = ref.a[i * K + k];
  }
  for (int64_t j = 0; j < N; ++j) {
    for (int64_t k = 0; k < K; ++k)
      (p.trans_b ? B[j * ldb + k] : B[k * ldb + j]) = ref.bt[j * K + k];
  }
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      C[i * ldc + j] = j < N ? ref.c0[i * N + j] : static_cast<T>(kPaddingSentinel);
    }
  }

  gemm_fast(p.trans_a, p.trans_b, M, N, K, static_cast<T>(p.alpha), A.data(), lda, B.data(), ldb,
            static_cast<T>(p.beta), C.data(), ldc);

  int64_t failures = 0;
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const double got = C[i * ldc + j];
      if (j >= N) {
        EXPECT_EQ(got, kPaddingSentinel)
            << "padding of C overwritten at (" << i << ", " << j << ")";
        continue;
      }
      const double expected = ref.expected[i * N + j], tolerance = ref.tolerance[i * N + j];
      if (!(std::abs(got - expected) <= tolerance) && ++failures <= 5) {
        ADD_FAILURE() << "C(" << i << ", " << j << ") = " << got << ", expected " << expected
                      << " (tolerance " << tolerance << ")";
      }
    }
  }
  EXPECT_EQ(failures, 0) << "elements outside tolerance";
}

template <typename T>
void check_all_transposes(Problem p) {
  for (const bool trans_a : {false, true}) {
    for (const bool trans_b : {false, true}) {
      p.trans_a = trans_a;
      p.trans_b = trans_b;
      check_gemm<T>(p);
    }
  }
}

// The level this CPU supports, with no cap from the environment.
CpuCapability highest_capability() {
  unsetenv("TINYTORCH_CPU_CAPABILITY");
  return get_cpu_capability();
}

// Parameter: (micro-kernel, number of threads).
class GemmFastTest : public ::testing::TestWithParam<std::tuple<CpuCapability, int>> {
 protected:
  void SetUp() override {
    const auto [capability, threads] = GetParam();
    if (capability > highest_capability()) {
      GTEST_SKIP() << "this CPU lacks " << to_string(capability);
    }
    setenv("TINYTORCH_CPU_CAPABILITY", to_string(capability), /*overwrite=*/1);
    ASSERT_EQ(get_cpu_capability(), capability);
    set_num_threads(threads);
    ASSERT_EQ(get_num_threads(), threads);
  }

  void TearDown() override {
    unsetenv("TINYTORCH_CPU_CAPABILITY");
    set_num_threads(0);
  }
};

TEST_P(GemmFastTest, AllTinyShapes) {
  // Every combination of tiny sizes, including empty ones: exercises the early outs and tiles
  // that are nothing but edge.
  const int64_t sizes[] = {0, 1, 2, 7, 13};
  for (const int64_t M : sizes) {
    for (const int64_t N : sizes) {
      for (const int64_t K : sizes) {
        check_all_transposes<float>({.shape = {M, N, K}, .alpha = 1.5, .beta = -0.5});
        check_all_transposes<double>({.shape = {M, N, K}, .alpha = 1.5, .beta = -0.5});
      }
    }
  }
}

TEST_P(GemmFastTest, EdgeAndMultiBlockShapes) {
  // Sizes chosen around the block sizes (MR = 6 or 12; NR = 16 or 32 floats, 8 or 16 doubles;
  // MC = 144 or 72, KC = 256 or 512, NC = 2048 to 4080): several rank-KC updates (K = 300, 513),
  // several MC blocks (M = 145, 156), a second NC panel (N = 4100; with K = 260 both panels take
  // two updates where KC = 256, the second panel narrower), vector- and matrix-like extremes, and
  // (with threads) home ranges of one sliver or none, and units that end at the edge of a range or
  // of C.
  const Shape shapes[] = {{64, 64, 64},    {127, 255, 300}, {300, 127, 255}, {255, 300, 127},
                          {1, 1000, 3},    {1000, 1, 3},    {3, 1, 1000},    {1, 1, 1000},
                          {145, 17, 513},  {7, 4100, 5},    {1000, 5, 100},  {4, 1000, 100},
                          {13, 4100, 260}, {156, 97, 300},  {25, 65, 31}};
  for (const Shape& s : shapes) {
    check_all_transposes<float>({.shape = s, .alpha = 1.0, .beta = 0.0});
    check_all_transposes<double>({.shape = s, .alpha = 1.0, .beta = 0.0});
  }
}

TEST_P(GemmFastTest, RandomShapesWithPaddedLeadingDimensions) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> dim(1, 300), pad(0, 20);
  std::uniform_int_distribution<int> coin(0, 1);
  const double scalars[] = {0.0, 1.0, -1.0, 0.5, 2.5};
  std::uniform_int_distribution<size_t> scalar(0, std::size(scalars) - 1);
  for (int trial = 0; trial < 24; ++trial) {
    Problem p{.shape = {dim(rng), dim(rng), dim(rng)},
              .trans_a = coin(rng) == 1,
              .trans_b = coin(rng) == 1,
              .alpha = scalars[scalar(rng)],
              .beta = scalars[scalar(rng)],
              .pad_a = pad(rng),
              .pad_b = pad(rng),
              .pad_c = pad(rng)};
    check_gemm<float>(p, /*seed=*/trial);
    check_gemm<double>(p, /*seed=*/trial);
  }
}

// Runs body with the one-thread in-place rules forced on, then off (TINYTORCH_GEMM_IN_PLACE; by
// default A's rows are read in place on every CPU, the rest on AMD CPUs and elsewhere for small
// products only: gemm_fast.cpp, "Which CPUs read in place"), then restores the default.
template <class Body>
void with_in_place_on_and_off(Body body) {
  for (const char* setting : {"1", "0"}) {
    SCOPED_TRACE(std::string("TINYTORCH_GEMM_IN_PLACE=") + setting);
    setenv("TINYTORCH_GEMM_IN_PLACE", setting, /*overwrite=*/1);
    body();
  }
  unsetenv("TINYTORCH_GEMM_IN_PLACE");
}

void check_few_rows_and_deep_slivers() {
  for (const int64_t M : {2, 24, 25, 48, 49}) {
    for (const int64_t N : {8, 32, 33, 235}) {
      for (const int64_t K : {5, 600}) {
        for (const bool trans_a : {false, true}) {
          const Problem p{
              .shape = {M, N, K}, .trans_a = trans_a, .alpha = 1.5, .beta = 0.5, .pad_b = 3};
          check_gemm<float>(p);
          check_gemm<double>(p);
        }
      }
    }
  }
  // Many row slivers (130 rows: 11 or 22 passes over each sliver), depths around the KC of
  // each level and type (128 to 512) and a ragged one.
  for (const int64_t N : {33, 235}) {
    for (const int64_t K : {64, 128, 129, 256, 257}) {
      for (const bool trans_a : {false, true}) {
        const Problem p{
            .shape = {130, N, K}, .trans_a = trans_a, .alpha = 1.5, .beta = 0.5, .pad_b = 3};
        check_gemm<float>(p);
        check_gemm<double>(p);
      }
    }
  }
}

TEST_P(GemmFastTest, FewRowsReadBInPlace) {
  // With one thread and B not transposed, the micro-kernel reads B's slivers in place and only a
  // ragged last sliver is packed (gemm_fast.cpp, "B in place"); and packs them all where the
  // rules are off. Rows around 4 row slivers (the rule's first limit: 24 rows for AVX2's MR = 6,
  // 48 for AVX-512's 12), widths below one sliver, of whole slivers and with a ragged one,
  // several rank-KC updates, a padded B.
  with_in_place_on_and_off([] { check_few_rows_and_deep_slivers(); });
}

TEST_P(GemmFastTest, AlphaBetaVariations) {
  const std::pair<double, double> alpha_beta[] = {{1.0, 0.0}, {1.0, 1.0}, {-0.5, 2.0}, {2.0, -1.0},
                                                  {0.0, 0.5}, {0.0, 0.0}, {0.25, 0.0}, {-1.0, 1.0}};
  for (const auto& [alpha, beta] : alpha_beta) {
    check_all_transposes<float>({.shape = {37, 70, 260}, .alpha = alpha, .beta = beta});
    check_all_transposes<double>({.shape = {37, 70, 260}, .alpha = alpha, .beta = beta});
  }
}

TEST_P(GemmFastTest, BetaZeroNeverReadsC) {
  // C full of NaN must come out finite and correct when beta == 0, including K == 0 and
  // alpha == 0, where no product is added at all.
  const Shape shapes[] = {{13, 29, 7}, {150, 70, 300}, {5, 9, 0}};
  for (const Shape& s : shapes) {
    for (const double alpha : {1.0, 0.0}) {
      check_all_transposes<float>({.shape = s, .alpha = alpha, .beta = 0.0, .nan_c = true});
      check_all_transposes<double>({.shape = s, .alpha = alpha, .beta = 0.0, .nan_c = true});
    }
  }
}

TEST_P(GemmFastTest, KZeroScalesC) {
  for (const double beta : {0.0, 1.0, -3.0}) {
    check_gemm<float>({.shape = {9, 21, 0}, .beta = beta, .pad_c = 3});
    check_gemm<double>({.shape = {9, 21, 0}, .beta = beta, .pad_c = 3});
  }
}

TEST_P(GemmFastTest, AlphaZeroDoesNotReadAOrB) {
  // As in BLAS, A and B are not referenced when alpha == 0: NaNs in them must not leak into C.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> A(6 * 5, nan), B(5 * 4, nan);
  std::vector<float> C(6 * 4, 2.0f);
  gemm_fast(false, false, 6, 4, 5, 0.0f, A.data(), 5, B.data(), 4, 0.5f, C.data(), 4);
  for (const float c : C) EXPECT_EQ(c, 1.0f);
}

TEST_P(GemmFastTest, EmptyOutputTouchesNothing) {
  // With M == 0 or N == 0 there is nothing to write; the pointers are never dereferenced.
  gemm_fast(false, false, 0, 5, 3, 1.0f, nullptr, 3, nullptr, 5, 0.0f, nullptr, 5);
  gemm_fast(true, true, 4, 0, 3, 1.0, nullptr, 4, nullptr, 3, 0.0, nullptr, 1);
  SUCCEED();
}

// A GEMM with M = 1 (one token through a Linear: decoding with a KV cache) takes an unpacked row
// path. Every row must come out with the same bits as the same row of a larger product — rows in
// full micro-tiles and in the ragged last one alike — or cached decoding would drift from
// uncached decoding. K spans one and several KC blocks; N one and several 256-column chunks;
// beta 0 and 1 (C's old contents added; the bias row's form has the bits of beta = 1 over a C
// holding the bias: BiasRowHasTheBitsOfTheBiasCopiedIntoC).
template <typename T>
void check_rows_match_the_blocked_product(bool trans_a, bool trans_b, int64_t N, int64_t K,
                                          T beta) {
  constexpr int64_t M = 13;  // 12 rows of full tiles (MR = 6 or 12) and one ragged row
  std::mt19937 rng(static_cast<uint32_t>(N * 1000 + K));
  std::uniform_real_distribution<T> u(-1, 1);
  std::vector<T> A(M * K), B(K * N), C0(M * N);
  for (T& x : A) x = u(rng);
  for (T& x : B) x = u(rng);
  for (T& x : C0) x = u(rng);
  const int64_t lda = trans_a ? M : K, ldb = trans_b ? K : N;
  std::vector<T> big = C0;
  gemm_fast(trans_a, trans_b, M, N, K, T(1), A.data(), lda, B.data(), ldb, beta, big.data(), N);
  for (int64_t i = 0; i < M; ++i) {
    std::vector<T> row(C0.begin() + i * N, C0.begin() + (i + 1) * N);
    const T* a_row = trans_a ? A.data() + i : A.data() + i * K;  // row i of op(A)
    gemm_fast(trans_a, trans_b, 1, N, K, T(1), a_row, lda, B.data(), ldb, beta, row.data(), N);
    int differ = 0;
    for (int64_t j = 0; j < N; ++j) differ += row[j] != big[i * N + j] ? 1 : 0;
    EXPECT_EQ(differ, 0) << "row " << i << " of " << M << ", N " << N << ", K " << K
                         << (trans_a ? ", A transposed" : "") << (trans_b ? ", B transposed" : "")
                         << ", beta " << beta;
  }
}

TEST_P(GemmFastTest, OneRowHasTheBitsOfTheSameRowInALargerProduct) {
  for (const bool trans_a : {false, true}) {
    for (const bool trans_b : {false, true}) {
      for (const auto& [N, K] : {std::pair<int64_t, int64_t>{7, 100}, {70, 300}, {600, 700}}) {
        for (const double beta : {0.0, 1.0}) {
          check_rows_match_the_blocked_product<float>(trans_a, trans_b, N, K,
                                                      static_cast<float>(beta));
          check_rows_match_the_blocked_product<double>(trans_a, trans_b, N, K, beta);
        }
      }
    }
  }
}

// The rows of an M-row product against the same rows of a product 12 rows taller (the same A, B
// and C, with the first M rows taken through the leading dimensions): the bottom edge's M mod MR
// rows go through the edge kernel in one and (mostly) through full tiles in the other, and must
// come out with the same bits, alpha and beta included.
template <typename T>
void check_edge_rows_match_full_tiles(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K) {
  const int64_t tall = M + 12;
  std::mt19937 rng(static_cast<uint32_t>(M * 100 + N + K));
  std::uniform_real_distribution<T> u(-1, 1);
  std::vector<T> A(tall * K), B(K * N), C0(tall * N);
  for (T& x : A) x = u(rng);
  for (T& x : B) x = u(rng);
  for (T& x : C0) x = u(rng);
  const int64_t lda = trans_a ? tall : K, ldb = trans_b ? K : N;
  for (const T beta : {T(0), T(0.5)}) {
    std::vector<T> small = C0, big = C0;
    gemm_fast(trans_a, trans_b, M, N, K, T(0.75), A.data(), lda, B.data(), ldb, beta, small.data(),
              N);
    gemm_fast(trans_a, trans_b, tall, N, K, T(0.75), A.data(), lda, B.data(), ldb, beta, big.data(),
              N);
    int differ = 0;
    for (int64_t i = 0; i < M * N; ++i) differ += small[i] != big[i] ? 1 : 0;
    EXPECT_EQ(differ, 0) << "M " << M << ", N " << N << ", K " << K
                         << (trans_a ? ", A transposed" : "") << (trans_b ? ", B transposed" : "")
                         << ", beta " << beta;
    for (int64_t i = M * N; i < tall * N; ++i) ASSERT_EQ(small[i], C0[i]) << "wrote row " << i / N;
  }
}

TEST_P(GemmFastTest, BottomEdgeRowsHaveTheBitsOfFullTiles) {
  for (const bool trans_a : {false, true}) {
    for (const bool trans_b : {false, true}) {
      for (int64_t M = 2; M <= 25; ++M) {  // (M = 1 takes the row kernel, gemm_one_row)
        check_edge_rows_match_full_tiles<float>(trans_a, trans_b, M, 70, 37);
        check_edge_rows_match_full_tiles<double>(trans_a, trans_b, M, 40, 37);
      }
      check_edge_rows_match_full_tiles<float>(trans_a, trans_b, 64, 256, 128);  // a 1x1 conv's
    }
  }
}

// A single thread reads op(A) in place (gemm_fast.cpp, "A in place"): op(A) = Aᵀ when its kc rows
// span at most 8 MiB, op(A) = A when N is at most 256 and its row stride is not a multiple of 4
// KiB; otherwise A is packed. The same product with A stored at a leading dimension that forces
// the packing — Aᵀ's rows 4100 apart (a KC-row block spans 8.4 MiB, for float's KC = 512 and
// double's 256), A's rows 4 KiB apart — must have the bits it has with A stored tight (in place):
// full tiles, bottom-edge tiles of 1 to 11 rows, ragged right tiles, several rank-KC updates.
template <typename T>
void check_a_in_place(bool trans_a, Shape shape) {
  const auto [M, N, K] = shape;
  SCOPED_TRACE("M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
               (trans_a ? ", A transposed" : ""));
  // A is stored as `lines` lines of `width` values: Aᵀ [K, M] or A [M, K].
  const int64_t lines = trans_a ? K : M, width = trans_a ? M : K;
  const int64_t wide_ld = trans_a ? 4100 : 4096 / static_cast<int64_t>(sizeof(T));
  ASSERT_LE(width, wide_ld);
  std::mt19937 rng(static_cast<uint32_t>(M * 31 + N + K + (trans_a ? 1 : 0)));
  std::uniform_real_distribution<T> u(-1, 1);
  std::vector<T> tight(lines * width), wide(lines * wide_ld, T(kPaddingSentinel)), B(K * N),
      C0(M * N);
  for (int64_t l = 0; l < lines; ++l) {
    for (int64_t w = 0; w < width; ++w) tight[l * width + w] = wide[l * wide_ld + w] = u(rng);
  }
  for (T& x : B) x = u(rng);
  for (T& x : C0) x = u(rng);
  std::vector<T> in_place = C0, packed = C0;
  gemm_fast(trans_a, false, M, N, K, T(0.75), tight.data(), width, B.data(), N, T(0.5),
            in_place.data(), N);
  gemm_fast(trans_a, false, M, N, K, T(0.75), wide.data(), wide_ld, B.data(), N, T(0.5),
            packed.data(), N);
  int differ = 0;
  for (int64_t i = 0; i < M * N; ++i) differ += in_place[i] != packed[i] ? 1 : 0;
  EXPECT_EQ(differ, 0) << "of " << M * N << " elements";
}

TEST_P(GemmFastTest, AReadInPlaceHasTheBitsOfPackedA) {
  // Only a call whose team is one thread reads A in place (gemm_fast.cpp: in_place needs team ==
  // 1), and every shape below gives a second thread a unit of its own (N ≥ 40: at least three
  // column slivers), so on more threads both products would be packed: nothing to compare.
  if (std::get<1>(GetParam()) > 1) GTEST_SKIP() << "only a one-thread call reads A in place";
  // With the rules off, both products are packed: the same bits again.
  with_in_place_on_and_off([] {
    for (int64_t M = 2; M <= 25; ++M) {
      check_a_in_place<float>(true, {M, 70, 600});
      check_a_in_place<double>(true, {M, 40, 600});
      check_a_in_place<float>(false, {M, 70, 500});
      check_a_in_place<double>(false, {M, 40, 300});
    }
    check_a_in_place<float>(true, {384, 128, 600});    // a Linear's dW shape (K cut short)
    check_a_in_place<float>(false, {2048, 128, 384});  // the 2017 GPT's qkv input gradient
    check_a_in_place<float>(false, {130, 256, 1000});
    check_a_in_place<float>(false, {130, 300, 200});  // N > 256: packed either way
    check_a_in_place<double>(true, {150, 100, 300});
    check_a_in_place<double>(false, {150, 100, 300});
  });
}

// The bias form (a Linear's y = x·Wᵀ + b) against what it replaces: the bias copied into every
// row of C and beta = 1. The same bits, from a C full of NaN (beta = 0: C is never read), for
// every path a tile can take: full tiles, bottom-edge and ragged right tiles, several rank-KC
// updates (K = 600), one row (M = 1), no product (K = 0, alpha = 0), A and B read in place or
// packed. With beta != 0 as well, C = alpha·op(A)·op(B) + beta·C + bias, to rounding.
template <typename T>
void check_bias_row(bool trans_a, bool trans_b, Shape shape, T alpha) {
  const auto [M, N, K] = shape;
  SCOPED_TRACE("M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
               (trans_a ? ", A transposed" : "") + (trans_b ? ", B transposed" : "") + ", alpha " +
               std::to_string(alpha));
  std::mt19937 rng(static_cast<uint32_t>(M * 131 + N * 7 + K));
  std::uniform_real_distribution<T> u(-1, 1);
  std::vector<T> A(std::max<int64_t>(M * K, 1)), B(std::max<int64_t>(K * N, 1)), bias(N), C0(M * N);
  for (T& x : A) x = u(rng);
  for (T& x : B) x = u(rng);
  for (T& x : bias) x = u(rng);
  for (T& x : C0) x = u(rng);
  const int64_t lda = trans_a ? std::max<int64_t>(M, 1) : std::max<int64_t>(K, 1);
  const int64_t ldb = trans_b ? std::max<int64_t>(K, 1) : N;
  std::vector<T> copied(M * N), fused(M * N, std::numeric_limits<T>::quiet_NaN());
  for (int64_t i = 0; i < M; ++i) std::copy(bias.begin(), bias.end(), copied.begin() + i * N);
  gemm_fast(trans_a, trans_b, M, N, K, alpha, A.data(), lda, B.data(), ldb, T(1), copied.data(), N);
  gemm_fast(trans_a, trans_b, M, N, K, alpha, A.data(), lda, B.data(), ldb, T(0), bias.data(),
            fused.data(), N);
  int differ = 0;
  for (int64_t i = 0; i < M * N; ++i) differ += copied[i] != fused[i] ? 1 : 0;
  EXPECT_EQ(differ, 0) << "of " << M * N << " elements";

  // beta = -0.5 with the bias: against a double-precision sum.
  std::vector<T> C = C0;
  gemm_fast(trans_a, trans_b, M, N, K, alpha, A.data(), lda, B.data(), ldb, T(-0.5), bias.data(),
            C.data(), N);
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double sum = 0.0;
      for (int64_t p = 0; p < K; ++p) {
        const double a = trans_a ? A[p * lda + i] : A[i * lda + p];
        const double b = trans_b ? B[j * ldb + p] : B[p * ldb + j];
        sum += a * b;
      }
      const double want = alpha * sum - 0.5 * C0[i * N + j] + bias[j];
      ASSERT_NEAR(C[i * N + j], want, 1e-4 * (1.0 + std::abs(want)) * (1.0 + 0.01 * K))
          << "C[" << i << ", " << j << "] with beta = -0.5";
    }
  }
}

TEST_P(GemmFastTest, BiasRowHasTheBitsOfTheBiasCopiedIntoC) {
  with_in_place_on_and_off([] {
    for (const bool trans_a : {false, true}) {
      for (const bool trans_b : {false, true}) {
        for (const Shape& s : {Shape{1, 70, 300}, Shape{1, 600, 40}, Shape{5, 33, 17},
                               Shape{25, 70, 600}, Shape{130, 96, 128}, Shape{13, 29, 0}}) {
          check_bias_row<float>(trans_a, trans_b, s, 1.0f);
          check_bias_row<double>(trans_a, trans_b, s, 1.0);
          check_bias_row<float>(trans_a, trans_b, s, 0.75f);
        }
        check_bias_row<float>(trans_a, trans_b, {9, 21, 5}, 0.0f);  // no product: C = bias
      }
    }
  });
}

// A C written once (beta = 0, K within one rank-KC update) of at least 4 MiB is streamed around
// the caches (gemm_fast.cpp, "Streaming C") where its rows start on vector boundaries, and stored
// as usual where they do not. The same product into rows N apart on a 64-byte boundary
// (streamed) and N + 1 apart (stored) gives the same bits, with and without a bias row, and
// leaves the padding column alone.
template <typename T>
void check_streamed_c(bool trans_a, bool trans_b, Shape shape, bool with_bias) {
  const auto [M, N, K] = shape;
  SCOPED_TRACE("M=" + std::to_string(M) + " N=" + std::to_string(N) + " K=" + std::to_string(K) +
               (trans_a ? ", A transposed" : "") + (trans_b ? ", B transposed" : "") +
               (with_bias ? ", bias" : ""));
  std::mt19937 rng(static_cast<uint32_t>(M * 31 + N * 7 + K));
  std::uniform_real_distribution<T> u(-1, 1);
  std::vector<T> A(M * K), B(K * N), bias(N);
  for (T& x : A) x = u(rng);
  for (T& x : B) x = u(rng);
  for (T& x : bias) x = u(rng);
  const int64_t lda = trans_a ? M : K, ldb = trans_b ? K : N;
  // Room to put C's first row on a 64-byte boundary.
  constexpr int64_t kAlign = 64 / static_cast<int64_t>(sizeof(T));
  std::vector<T> lined(M * N + kAlign), apart(M * (N + 1));
  void* start = lined.data();
  size_t space = lined.size() * sizeof(T);
  T* streamed = static_cast<T*>(std::align(64, M * N * sizeof(T), start, space));
  ASSERT_NE(streamed, nullptr);
  std::fill(streamed, streamed + M * N, std::numeric_limits<T>::quiet_NaN());  // never read
  std::fill(apart.begin(), apart.end(), T(-7));
  const T* b_row = with_bias ? bias.data() : nullptr;
  gemm_fast(trans_a, trans_b, M, N, K, T(1), A.data(), lda, B.data(), ldb, T(0), b_row, streamed,
            N);
  gemm_fast(trans_a, trans_b, M, N, K, T(1), A.data(), lda, B.data(), ldb, T(0), b_row,
            apart.data(), N + 1);
  int64_t differ = 0, padding = 0;
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) differ += streamed[i * N + j] != apart[i * (N + 1) + j];
    padding += apart[i * (N + 1) + N] != T(-7);
  }
  EXPECT_EQ(differ, 0) << "of " << M * N << " elements";
  EXPECT_EQ(padding, 0) << "padding elements overwritten";
}

TEST_P(GemmFastTest, StreamedCHasTheBitsOfStoredC) {
  if (std::get<0>(GetParam()) == CpuCapability::kDefault) {
    GTEST_SKIP() << "the portable level stores every tile through the caches";
  }
  for (const bool with_bias : {false, true}) {
    check_streamed_c<float>(false, true, {1024, 1024, 8}, with_bias);  // a Linear's forward
    check_streamed_c<float>(false, false, {1024, 1024, 8}, with_bias);
    check_streamed_c<float>(true, false, {1030, 1030, 8}, with_bias);  // bottom and right edges
    check_streamed_c<double>(false, true, {1024, 520, 12}, with_bias);
  }
}

INSTANTIATE_TEST_SUITE_P(KernelsAndThreads, GemmFastTest,
                         ::testing::Combine(::testing::Values(CpuCapability::kDefault,
                                                              CpuCapability::kAvx2,
                                                              CpuCapability::kAvx512),
                                            ::testing::Values(1, 2, 3)),
                         [](const ::testing::TestParamInfo<std::tuple<CpuCapability, int>>& info) {
                           return std::string(to_string(std::get<0>(info.param))) + "_" +
                                  std::to_string(std::get<1>(info.param)) + "Threads";
                         });

TEST(GemmFastConcurrency, CallsFromSeveralThreadsAtOnce) {
  // Each caller has its own packing buffers, so concurrent calls must not interfere.
  set_num_threads(2);
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([t] {
      for (int repeat = 0; repeat < 3; ++repeat) {
        check_gemm<float>({.shape = {100 + t, 90, 270}, .trans_a = t == 1, .beta = 0.5},
                          /*seed=*/t);
      }
    });
  }
  for (std::thread& caller : callers) caller.join();
  set_num_threads(0);
}

TEST(GemmFastThreads, ResultIsBitwiseIdenticalForAnyThreadCount) {
  // Every element's sum over k runs in the same order whichever thread computes which block, so
  // the thread count must not change a single bit (several rank-KC updates, several row blocks).
  // Each count runs several times: which thread takes which block varies from call to call.
  // 300 x 700 splits the columns of C between the threads, 700 x 300 the rows (see "Threads" in
  // gemm_fast.cpp).
  for (const Shape shape : {Shape{300, 700, 600}, Shape{700, 300, 600}}) {
    SCOPED_TRACE("M=" + std::to_string(shape.M) + " N=" + std::to_string(shape.N));
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    std::vector<float> A(shape.M * shape.K), B(shape.K * shape.N);
    for (float& x : A) x = value(rng);
    for (float& x : B) x = value(rng);
    std::vector<float> one_thread;
    for (const int threads : {1, 2, 3, 4}) {
      set_num_threads(threads);
      for (int repeat = 0; repeat < 5; ++repeat) {
        std::vector<float> C(shape.M * shape.N, 0.5f);
        gemm_fast(false, true, shape.M, shape.N, shape.K, 1.0f, A.data(), shape.K, B.data(),
                  shape.K, 0.25f, C.data(), shape.N);
        if (one_thread.empty()) {
          one_thread = C;
        } else {
          EXPECT_EQ(C, one_thread) << threads << " threads, call " << repeat;
        }
      }
    }
  }
  set_num_threads(0);
}

// Helpers that the OS has not scheduled (issue 16): the calling thread must finish the call alone —
// taking the units and packing the parts of B that were the absent members' — and the result must
// be the one a single thread computes, bit for bit. Also helpers that arrive at random points of
// the call. Every kernel level, 2 and 3 threads, and shapes that split the rows (700 x 300), split
// the columns (300 x 700; 64 x 1000, a Linear forward), and take several rank-KC updates and two
// column panels (40 x 4100 x 600).
class GemmFastAbsentHelpers : public ::testing::TestWithParam<CpuCapability> {
 protected:
  void SetUp() override {
    if (GetParam() > highest_capability())
      GTEST_SKIP() << "this CPU lacks " << to_string(GetParam());
    setenv("TINYTORCH_CPU_CAPABILITY", to_string(GetParam()), /*overwrite=*/1);
  }
  void TearDown() override {
    unsetenv("TINYTORCH_CPU_CAPABILITY");
    set_num_threads(0);
  }

  // C = 0.25 C + A B^T, from a fixed C.
  static std::vector<float> gemm(const Shape& shape, const std::vector<float>& A,
                                 const std::vector<float>& B) {
    std::vector<float> C(static_cast<size_t>(shape.M * shape.N), 0.5f);
    gemm_fast(false, true, shape.M, shape.N, shape.K, 1.0f, A.data(), shape.K, B.data(), shape.K,
              0.25f, C.data(), shape.N);
    return C;
  }

  template <typename Helpers>
  // The shapes take each schedule: tall (rows split), wide, and N past one NC panel. The portable
  // level (plain C++ tiles, slow under the sanitizers) gets them with K = 300: still two rank-KC
  // steps at its KC of 256, and half the multiply-adds.
  void check_with(int helpers_per_thread_count_repeats) const {
    const int64_t K = GetParam() == CpuCapability::kDefault ? 300 : 600;
    for (const Shape shape :
         {Shape{700, 300, K}, Shape{300, 700, K}, Shape{64, 1000, K + 184}, Shape{40, 4100, K}}) {
      SCOPED_TRACE("M=" + std::to_string(shape.M) + " N=" + std::to_string(shape.N) +
                   " K=" + std::to_string(shape.K));
      std::mt19937 rng(5);
      std::uniform_real_distribution<float> value(-1.0f, 1.0f);
      std::vector<float> A(static_cast<size_t>(shape.M * shape.K)),
          B(static_cast<size_t>(shape.K * shape.N));
      for (float& x : A) x = value(rng);
      for (float& x : B) x = value(rng);
      set_num_threads(1);
      const std::vector<float> one_thread = gemm(shape, A, B);
      for (const int threads : {2, 3}) {
        set_num_threads(threads);
        const Helpers helpers(threads - 1);
        for (int repeat = 0; repeat < helpers_per_thread_count_repeats; ++repeat) {
          EXPECT_EQ(gemm(shape, A, B), one_thread) << threads << " threads, call " << repeat;
        }
      }
    }
  }
};

// LateHelpers takes the helper count only to share check_with with HeldHelpers.
struct LateHelpersOf : testing::LateHelpers {
  explicit LateHelpersOf(int) {}
};

TEST_P(GemmFastAbsentHelpers, HelpersThatNeverStartLeaveTheirUnitsToTheCaller) {
  check_with<testing::HeldHelpers>(2);
}

TEST_P(GemmFastAbsentHelpers, HelpersArrivingAtAnyPointGiveTheSameBits) {
  // Every kernel level shares the way a call hands out its units; what differs is how long a
  // call lasts. The fast levels' short calls let the 0-300 us delays land anywhere, even after
  // the call ended, so they get many calls; the portable level's long ones (a minute for 20 under
  // the sanitizers) only need to show that its micro-kernel gives the same bits too.
  check_with<LateHelpersOf>(GetParam() == CpuCapability::kDefault ? 5 : 20);
}

INSTANTIATE_TEST_SUITE_P(Kernels, GemmFastAbsentHelpers,
                         ::testing::Values(CpuCapability::kDefault, CpuCapability::kAvx2,
                                           CpuCapability::kAvx512),
                         [](const ::testing::TestParamInfo<CpuCapability>& info) {
                           return std::string(to_string(info.param));
                         });

TEST(GemmFastConcurrency, CallFromInsideAParallelRegionRunsSerially) {
  // A GEMM per row block, each inside a parallel_for: the nested GEMMs must run on their own
  // thread (no nested teams) and still be right.
  set_num_threads(2);
  parallel_for(0, 4, 1, [](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      check_gemm<float>({.shape = {70, 80, 90}, .beta = 0.5}, static_cast<uint32_t>(i));
    }
  });
  set_num_threads(0);
}

TEST(GemmFastSettings, EnvironmentVariableCapsTheCpuCapability) {
  const CpuCapability highest = highest_capability();
  // Each name caps the level, in any case, and never raises it above what the CPU has.
  const std::pair<const char*, CpuCapability> caps[] = {{"default", CpuCapability::kDefault},
                                                        {"avx2", CpuCapability::kAvx2},
                                                        {"AVX2", CpuCapability::kAvx2},
                                                        {"avx512", CpuCapability::kAvx512},
                                                        {"Avx512", CpuCapability::kAvx512}};
  for (const auto& [name, cap] : caps) {
    setenv("TINYTORCH_CPU_CAPABILITY", name, 1);
    EXPECT_EQ(get_cpu_capability(), std::min(cap, highest)) << name;
  }
  setenv("TINYTORCH_CPU_CAPABILITY", "", 1);
  EXPECT_EQ(get_cpu_capability(), highest) << "an empty value sets no cap";
  unsetenv("TINYTORCH_CPU_CAPABILITY");
  EXPECT_STREQ(to_string(CpuCapability::kDefault), "DEFAULT");
  EXPECT_STREQ(to_string(CpuCapability::kAvx2), "AVX2");
  EXPECT_STREQ(to_string(CpuCapability::kAvx512), "AVX512");
}

TEST(GemmFastSettings, BadInPlaceSettingIsAnError) {
  // Only 0 and 1 force the in-place rules; anything else must not silently pick one.
  setenv("TINYTORCH_GEMM_IN_PLACE", "yes", 1);
  const std::vector<float> A(4, 1.0f), B(4, 1.0f);
  std::vector<float> C(4, 0.0f);
  try {
    gemm_fast(false, false, 2, 2, 2, 1.0f, A.data(), 2, B.data(), 2, 0.0f, C.data(), 2);
    ADD_FAILURE() << "expected a ValueError";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("TINYTORCH_GEMM_IN_PLACE"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'yes'"), std::string::npos) << e.what();
  }
  unsetenv("TINYTORCH_GEMM_IN_PLACE");
}

TEST(GemmFastSettings, UnknownCpuCapabilityIsAnError) {
  // A typo must not silently run another kernel than the one asked for.
  setenv("TINYTORCH_CPU_CAPABILITY", "avx-512", 1);
  try {
    get_cpu_capability();
    ADD_FAILURE() << "expected a ValueError";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("TINYTORCH_CPU_CAPABILITY"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("'avx-512'"), std::string::npos) << e.what();
  }
  const float a = 1.0f, b = 2.0f;
  float c = 0.0f;
  EXPECT_THROW(gemm_fast(false, false, 1, 1, 1, 1.0f, &a, 1, &b, 1, 0.0f, &c, 1), ValueError);
  unsetenv("TINYTORCH_CPU_CAPABILITY");
  gemm_fast(false, false, 1, 1, 1, 1.0f, &a, 1, &b, 1, 0.0f, &c, 1);
  EXPECT_EQ(c, 2.0f);
}

}  // namespace
}  // namespace tinytorch::kernels
