// Tests for the fast tier's spatial kernels (kernels/spatial.h, src/kernels/spatial_fast.cpp)
// against plain loops written here, accumulated in double.
//
// Every geometry runs at 1 and 2 threads (tinytorch::set_num_threads; the convolutions also at 3).
// The convolution's
// geometries cover stride, padding, dilation, groups (depthwise included), 1×1 with and without
// stride, a single input channel, batches of 1 and 7, and sizes that are no multiple of a vector
// width; the weight gradient is also checked to be the same on every run at a given thread count,
// and the convolution to finish, right, while the pool's helper threads are held.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <mutex>
#include <ostream>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "held_helpers.h"
#include "kernel_test_values.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/spatial.h"

namespace tinytorch::kernels {

// How GoogleTest prints a capability parameter: "AVX2" rather than its bytes.
void PrintTo(CpuCapability capability, std::ostream* os);

namespace {

using testing::random_values;

// ---------------------------------------------------------------------------------------------
// Convolution
// ---------------------------------------------------------------------------------------------

struct ConvCase {
  int64_t N, C, H, W, K, R, S;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;
  bool bias = true;

  Conv2dShape shape() const {
    Conv2dShape s{.batch = N,
                  .in_channels = C,
                  .in_h = H,
                  .in_w = W,
                  .out_channels = K,
                  .kernel_h = R,
                  .kernel_w = S,
                  .stride_h = stride_h,
                  .stride_w = stride_w,
                  .pad_h = pad_h,
                  .pad_w = pad_w,
                  .dilation_h = dil_h,
                  .dilation_w = dil_w,
                  .groups = groups};
    s.out_h = (H + 2 * pad_h - dil_h * (R - 1) - 1) / stride_h + 1;
    s.out_w = (W + 2 * pad_w - dil_w * (S - 1) - 1) / stride_w + 1;
    return s;
  }
};

std::ostream& operator<<(std::ostream& os, const ConvCase& c) {
  return os << "N" << c.N << " C" << c.C << " " << c.H << "x" << c.W << " K" << c.K << " " << c.R
            << "x" << c.S << " stride " << c.stride_h << "," << c.stride_w << " pad " << c.pad_h
            << "," << c.pad_w << " dil " << c.dil_h << "," << c.dil_w << " groups " << c.groups
            << (c.bias ? " bias" : "");
}

// Calls f(n, k, c, p, q, h, w, r, t) for every multiply-add of the convolution whose input pixel
// (h, w) lies inside the image: y[n, k, p, q] += x[n, c, h, w] · w[k, c − g·C_g, r, t].
template <typename F>
void for_each_tap(const Conv2dShape& s, const F& f) {
  const int64_t C_g = s.in_channels / s.groups, K_g = s.out_channels / s.groups;
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t k = 0; k < s.out_channels; ++k) {
      const int64_t g = k / K_g;
      for (int64_t p = 0; p < s.out_h; ++p) {
        for (int64_t q = 0; q < s.out_w; ++q) {
          for (int64_t c = 0; c < C_g; ++c) {
            for (int64_t r = 0; r < s.kernel_h; ++r) {
              const int64_t h = p * s.stride_h - s.pad_h + r * s.dilation_h;
              if (h < 0 || h >= s.in_h) continue;
              for (int64_t t = 0; t < s.kernel_w; ++t) {
                const int64_t w = q * s.stride_w - s.pad_w + t * s.dilation_w;
                if (w < 0 || w >= s.in_w) continue;
                f(((n * s.out_channels + k) * s.out_h + p) * s.out_w + q,
                  ((n * s.in_channels + g * C_g + c) * s.in_h + h) * s.in_w + w,
                  ((k * C_g + c) * s.kernel_h + r) * s.kernel_w + t);
              }
            }
          }
        }
      }
    }
  }
}

// |got − want| <= tol · (1 + scale) for every element, where scale is the sum of |terms| that
// made want (passed per element).
void expect_spatial_close(const std::vector<float>& got, const std::vector<double>& want,
                          const std::vector<double>& magnitude, const char* what) {
  ASSERT_GE(got.size(), want.size());
  int reported = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double tol = 1e-6 * (1.0 + magnitude[i]);
    if (!(std::abs(got[i] - want[i]) <= tol) && reported++ < 5) {
      ADD_FAILURE() << what << "[" << i << "] = " << got[i] << ", expected " << want[i];
    }
  }
}

// Each convolution case runs with every kernel level this CPU has (TINYTORCH_CPU_CAPABILITY:
// the portable level takes the im2col + GEMM path everywhere; AVX2 and AVX-512 run the direct
// kernel for stride-1 convs), at 1, 2 and 3 threads (3 on a 2-core machine makes one late, so
// the others take its images).
class ConvFast : public ::testing::TestWithParam<std::tuple<CpuCapability, int, ConvCase>> {
 protected:
  void SetUp() override {
    const CpuCapability capability = std::get<0>(GetParam());
    unsetenv("TINYTORCH_CPU_CAPABILITY");
    if (capability > get_cpu_capability())
      GTEST_SKIP() << "this CPU lacks " << to_string(capability);
    setenv("TINYTORCH_CPU_CAPABILITY", to_string(capability), /*overwrite=*/1);
    set_num_threads(std::get<1>(GetParam()));
  }
  void TearDown() override {
    unsetenv("TINYTORCH_CPU_CAPABILITY");
    set_num_threads(0);
  }
};

void check_conv(const ConvCase& cc) {
  const Conv2dShape s = cc.shape();
  const int64_t C_g = s.in_channels / s.groups;
  const int64_t x_size = s.batch * s.in_channels * s.in_h * s.in_w;
  const int64_t w_size = s.out_channels * C_g * s.kernel_h * s.kernel_w;
  const int64_t y_size = s.batch * s.out_channels * s.out_h * s.out_w;
  const auto x = random_values(x_size, 1), w = random_values(w_size, 2),
             b = random_values(s.out_channels, 3), gy = random_values(y_size, 4);

  // The naive sums, in double, with the sum of |terms| of each for the tolerance.
  std::vector<double> y(y_size), y_mag(y_size), gx(x_size), gx_mag(x_size), gw(w_size),
      gw_mag(w_size), gb(s.out_channels), gb_mag(s.out_channels);
  const int64_t PQ = s.out_h * s.out_w;
  for (int64_t i = 0; i < y_size; ++i) {
    const int64_t k = i / PQ % s.out_channels;
    y[i] = cc.bias ? b[k] : 0.0;
    y_mag[i] = std::abs(y[i]);
    gb[k] += gy[i];
    gb_mag[k] += std::abs(gy[i]);
  }
  for_each_tap(s, [&](int64_t yi, int64_t xi, int64_t wi) {
    y[yi] += double{x[xi]} * w[wi];
    y_mag[yi] += std::abs(double{x[xi]} * w[wi]);
    gx[xi] += double{gy[yi]} * w[wi];
    gx_mag[xi] += std::abs(double{gy[yi]} * w[wi]);
    gw[wi] += double{gy[yi]} * x[xi];
    gw_mag[wi] += std::abs(double{gy[yi]} * x[xi]);
  });

  // The outputs start as NaN: every kernel must overwrite, never accumulate.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> y_fast(y_size + 1, nan), gx_fast(x_size + 1, nan), gw_fast(w_size + 1, nan),
      gb_fast(s.out_channels + 1, nan);
  conv2d_forward_fast(s, x.data(), w.data(), cc.bias ? b.data() : nullptr, y_fast.data());
  expect_spatial_close(y_fast, y, y_mag, "y");
  conv2d_backward_input_fast(s, gy.data(), w.data(), gx_fast.data());
  expect_spatial_close(gx_fast, gx, gx_mag, "gx");
  conv2d_backward_weight_fast(s, gy.data(), x.data(), gw_fast.data(),
                              cc.bias ? gb_fast.data() : nullptr);
  expect_spatial_close(gw_fast, gw, gw_mag, "gw");
  if (cc.bias) {
    expect_spatial_close(gb_fast, gb, gb_mag, "gb");
  } else {
    EXPECT_TRUE(std::isnan(gb_fast[0])) << "gb was written though it was not wanted";
  }

  // Deterministic for a given thread count: a second run gives the same bits.
  std::vector<float> gw_again(w_size + 1, nan);
  conv2d_backward_weight_fast(s, gy.data(), x.data(), gw_again.data(), nullptr);
  for (int64_t i = 0; i < w_size; ++i) {
    ASSERT_EQ(gw_fast[i], gw_again[i]) << "gw[" << i << "] differs between two runs";
  }
}

TEST_P(ConvFast, MatchesNaiveLoops) {
  const ConvCase& c = std::get<2>(GetParam());
  SCOPED_TRACE(::testing::PrintToString(c));
  check_conv(c);
}

const ConvCase kConvCases[] = {
    // LeNet-5's two convolutions (batch 7 rather than 64, to keep the naive loops quick).
    {.N = 7, .C = 1, .H = 28, .W = 28, .K = 6, .R = 5, .S = 5, .pad_h = 2, .pad_w = 2},
    {.N = 7, .C = 6, .H = 14, .W = 14, .K = 16, .R = 5, .S = 5},
    // The North Star CNN's 3×3 pad 1 blocks (the third with fewer channels): the first on the
    // positions-in-lanes kernels, the others Winograd (see use_winograd).
    {.N = 2, .C = 1, .H = 28, .W = 28, .K = 32, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
    {.N = 2, .C = 32, .H = 14, .W = 14, .K = 64, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
    {.N = 3, .C = 48, .H = 7, .W = 7, .K = 40, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
    // Channels last at both vector widths: 5×5 on a 7×7 image, C·R·S = 200 taps (not a multiple
    // of the weight gradient's tile of 6). With AVX-512, also C·R·S = 81 and 4 positions (fewer
    // than one tile); with AVX2 these two run as Winograd convolutions of 4 tiles and 1.
    {.N = 2, .C = 8, .H = 7, .W = 7, .K = 48, .R = 5, .S = 5, .pad_h = 2, .pad_w = 2},
    {.N = 2, .C = 9, .H = 4, .W = 4, .K = 32, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
    {.N = 2, .C = 8, .H = 2, .W = 2, .K = 48, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
    // Winograd F(2×2, 3×3) (3×3 stride 1, where it is cheaper than the direct kernels; see
    // use_winograd): no padding and an odd output (7 x 8: the last tile row half outside),
    // padding 2 and 1 (its input gradient padded by 0 and 1), groups; batches of 3 and 5 split
    // into uneven chunks of the weight gradient at 2 and 3 threads.
    {.N = 3, .C = 33, .H = 9, .W = 10, .K = 20, .R = 3, .S = 3},
    {.N = 2, .C = 24, .H = 6, .W = 7, .K = 40, .R = 3, .S = 3, .pad_h = 2, .pad_w = 1},
    {.N = 5, .C = 64, .H = 6, .W = 6, .K = 48, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1, .groups = 2},
    // Batch 1 (the product may be split over the threads), odd sizes.
    {.N = 1, .C = 3, .H = 13, .W = 11, .K = 5, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
    {.N = 1, .C = 40, .H = 9, .W = 17, .K = 70, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
    // Strides, asymmetric padding and kernels, dilation.
    {.N = 7,
     .C = 3,
     .H = 17,
     .W = 19,
     .K = 4,
     .R = 3,
     .S = 5,
     .stride_h = 2,
     .stride_w = 3,
     .pad_h = 1,
     .pad_w = 2},
    {.N = 3,
     .C = 2,
     .H = 15,
     .W = 16,
     .K = 3,
     .R = 3,
     .S = 2,
     .pad_h = 2,
     .pad_w = 0,
     .dil_h = 2,
     .dil_w = 3},
    {.N = 2,
     .C = 4,
     .H = 9,
     .W = 9,
     .K = 6,
     .R = 3,
     .S = 3,
     .stride_h = 2,
     .stride_w = 2,
     .pad_h = 3,
     .pad_w = 3,
     .dil_h = 2,
     .dil_w = 2,
     .bias = false},
    // Padding larger than the kernel reaches: whole rows and columns of zeros.
    {.N = 2, .C = 2, .H = 4, .W = 5, .K = 3, .R = 2, .S = 2, .pad_h = 3, .pad_w = 4},
    // Kernel as large as the (padded) image: a 1×1 output.
    {.N = 3, .C = 3, .H = 5, .W = 6, .K = 2, .R = 5, .S = 6},
    // Strided with fewer output positions than taps (4×4 outputs, C·R·S = 144 and 576): blocks
    // of images side by side in one GEMM ("Blocks of images"), split unevenly over 2 and 3
    // threads; 30 images of 576 x 16 columns exceed one block's budget, so come in two.
    {.N = 5,
     .C = 16,
     .H = 7,
     .W = 7,
     .K = 12,
     .R = 3,
     .S = 3,
     .stride_h = 2,
     .stride_w = 2,
     .pad_h = 1,
     .pad_w = 1},
    {.N = 30,
     .C = 64,
     .H = 8,
     .W = 8,
     .K = 8,
     .R = 3,
     .S = 3,
     .stride_h = 2,
     .stride_w = 2,
     .pad_h = 1,
     .pad_w = 1,
     .bias = false},
    // More stride-2 kernels (forward and weight gradient on phase planes): 4×4 (DCGAN's), 5×5
    // on odd sizes, and 3×3 unpadded, whose last input row and column no window reads.
    {.N = 3,
     .C = 5,
     .H = 14,
     .W = 15,
     .K = 9,
     .R = 4,
     .S = 4,
     .stride_h = 2,
     .stride_w = 2,
     .pad_h = 1,
     .pad_w = 1},
    {.N = 2,
     .C = 6,
     .H = 13,
     .W = 11,
     .K = 20,
     .R = 5,
     .S = 5,
     .stride_h = 2,
     .stride_w = 2,
     .pad_h = 2,
     .pad_w = 2,
     .bias = false},
    {.N = 2, .C = 16, .H = 16, .W = 16, .K = 32, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2},
    // Phase-plane rows split a vector pair at a time, then a partial pair (PaddedGrid::pad_phases):
    // 27 values (AVX-512: one partial pair of 16 + 11), 45 unpadded (a whole pair of 32, then 13).
    {.N = 2,
     .C = 3,
     .H = 7,
     .W = 27,
     .K = 10,
     .R = 3,
     .S = 3,
     .stride_h = 2,
     .stride_w = 2,
     .pad_h = 1,
     .pad_w = 1},
    {.N = 1, .C = 2, .H = 6, .W = 45, .K = 5, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2},
    // Output rows a whole number of the direct kernel's tiles, written straight into y (see
    // PaddedGrid::row_tile): Q = 32 at stride 1 (5×5, so that no Winograd runs; its input
    // gradient too), with a bias; Q = 16 at stride 2 (AVX2's tile); Q = 48 (AVX-512's wide tile).
    {.N = 2, .C = 3, .H = 6, .W = 32, .K = 11, .R = 5, .S = 5, .pad_h = 2, .pad_w = 2},
    {.N = 2,
     .C = 3,
     .H = 9,
     .W = 32,
     .K = 7,
     .R = 3,
     .S = 3,
     .stride_h = 2,
     .stride_w = 2,
     .pad_h = 1,
     .pad_w = 1},
    {.N = 1,
     .C = 2,
     .H = 3,
     .W = 48,
     .K = 9,
     .R = 5,
     .S = 5,
     .pad_h = 2,
     .pad_w = 2,
     .bias = false},
    // Groups, and depthwise (groups = channels, a channel multiplier of 2).
    {.N = 7, .C = 6, .H = 10, .W = 11, .K = 9, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1, .groups = 3},
    {.N = 2,
     .C = 8,
     .H = 12,
     .W = 12,
     .K = 16,
     .R = 3,
     .S = 3,
     .stride_h = 2,
     .stride_w = 2,
     .pad_h = 1,
     .pad_w = 1,
     .groups = 8},
    // 1×1: stride 1 unpadded (no im2col at all), with groups, strided, padded.
    {.N = 7, .C = 19, .H = 7, .W = 9, .K = 13, .R = 1, .S = 1},
    {.N = 2, .C = 4, .H = 5, .W = 5, .K = 6, .R = 1, .S = 1, .groups = 2, .bias = false},
    {.N = 3, .C = 5, .H = 9, .W = 8, .K = 7, .R = 1, .S = 1, .stride_h = 2, .stride_w = 2},
    {.N = 2, .C = 3, .H = 4, .W = 4, .K = 2, .R = 1, .S = 1, .pad_h = 1, .pad_w = 1},
    // 1×1 stride 1 with more output channels than four micro-tiles of rows, whose GEMM reads the
    // image in place (gemm_fast.cpp, "B in place") and adds the bias after: odd channel counts,
    // H·W no multiple of a vector (65, 21) or a whole number of them (256); batches of 3 and 1.
    {.N = 3, .C = 37, .H = 5, .W = 13, .K = 61, .R = 1, .S = 1},
    {.N = 3, .C = 37, .H = 5, .W = 13, .K = 61, .R = 1, .S = 1, .bias = false},
    {.N = 1, .C = 33, .H = 3, .W = 7, .K = 70, .R = 1, .S = 1},
    {.N = 1, .C = 64, .H = 16, .W = 16, .K = 131, .R = 1, .S = 1, .bias = false},
    // A band of im2col smaller than the image (C·R·S·Q > the per-thread budget of 2^18 floats).
    {.N = 2, .C = 64, .H = 40, .W = 41, .K = 3, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
};

INSTANTIATE_TEST_SUITE_P(Geometries, ConvFast,
                         ::testing::Combine(::testing::Values(CpuCapability::kDefault,
                                                              CpuCapability::kAvx2,
                                                              CpuCapability::kAvx512),
                                            ::testing::Values(1, 2, 3),
                                            ::testing::ValuesIn(kConvCases)));

// The convolution must finish, and be right, on the calling thread alone while the pool's helper
// threads are held back (the OS not scheduling them); a batch of one image lets gemm_fast try to
// split a product over the threads.
TEST(ConvFastHeldHelpers, FinishesOnTheCallingThread) {
  set_num_threads(2);
  {
    testing::HeldHelpers held;
    check_conv({.N = 7, .C = 6, .H = 14, .W = 14, .K = 16, .R = 5, .S = 5});
    check_conv(
        {.N = 1, .C = 64, .H = 28, .W = 28, .K = 64, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1});
  }
  set_num_threads(0);
}

// 5 images on 2 threads: the weight gradient's batch chunks hold 2, 2 and 1 images, and no chunk is
// left empty (an empty one once added the stale partial of the call before: the 8-image call).
TEST(ConvFastEdges, UnevenBatchChunksIgnoreStalePartials) {
  set_num_threads(2);
  check_conv({.N = 8, .C = 3, .H = 9, .W = 9, .K = 4, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1});
  check_conv({.N = 5, .C = 3, .H = 9, .W = 9, .K = 4, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1});
  set_num_threads(0);
}

// A batch of no images: the forward writes nothing, the weight and bias gradients are zero.
TEST(ConvFastEdges, EmptyBatchGivesZeroWeightGradient) {
  const Conv2dShape s = ConvCase{.N = 0, .C = 3, .H = 8, .W = 8, .K = 4, .R = 3, .S = 3}.shape();
  std::vector<float> gw(4 * 3 * 3 * 3, 7.0f), gb(4, 7.0f), y(1, 7.0f);
  const float none = 0.0f;
  conv2d_forward_fast(s, &none, gw.data(), gb.data(), y.data());
  EXPECT_EQ(y[0], 7.0f);
  conv2d_backward_weight_fast(s, &none, &none, gw.data(), gb.data());
  for (const float v : gw) ASSERT_EQ(v, 0.0f);
  for (const float v : gb) ASSERT_EQ(v, 0.0f);
}

// ---------------------------------------------------------------------------------------------
// Max pooling
// ---------------------------------------------------------------------------------------------

struct PoolCase {
  int64_t planes, H, W, kh, kw, sh, sw, ph = 0, pw = 0, dh = 1, dw = 1;
  bool ceil_mode = false;

  Pool2dShape shape() const {
    const auto out = [&](int64_t size, int64_t k, int64_t s, int64_t p, int64_t d) {
      const int64_t span = size + 2 * p - d * (k - 1) - 1;
      int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
      if (ceil_mode && (o - 1) * s >= size + p) --o;  // the last window must start inside
      return o;
    };
    return {.planes = planes,
            .in_h = H,
            .in_w = W,
            .kernel_h = kh,
            .kernel_w = kw,
            .stride_h = sh,
            .stride_w = sw,
            .pad_h = ph,
            .pad_w = pw,
            .dilation_h = dh,
            .dilation_w = dw,
            .out_h = out(H, kh, sh, ph, dh),
            .out_w = out(W, kw, sw, pw, dw)};
  }
};

std::ostream& operator<<(std::ostream& os, const PoolCase& c) {
  return os << c.planes << " planes " << c.H << "x" << c.W << " kernel " << c.kh << "x" << c.kw
            << " stride " << c.sh << "," << c.sw << " pad " << c.ph << "," << c.pw << " dil "
            << c.dh << "," << c.dw << (c.ceil_mode ? " ceil" : "");
}

// The window scan of PyTorch's CPU kernel: row by row, a value replaces the maximum when it is
// greater or NaN; the first valid value starts it.
void naive_max_pool(const Pool2dShape& s, const float* x, std::vector<float>& y,
                    std::vector<int64_t>& idx) {
  const int64_t PQ = s.out_h * s.out_w;
  y.assign(static_cast<size_t>(s.planes * PQ), 0.0f);
  idx.assign(y.size(), -1);
  for (int64_t plane = 0; plane < s.planes; ++plane) {
    for (int64_t p = 0; p < s.out_h; ++p) {
      for (int64_t q = 0; q < s.out_w; ++q) {
        float best = 0.0f;
        int64_t at = -1;
        for (int64_t i = 0; i < s.kernel_h; ++i) {
          for (int64_t j = 0; j < s.kernel_w; ++j) {
            const int64_t h = p * s.stride_h - s.pad_h + i * s.dilation_h;
            const int64_t w = q * s.stride_w - s.pad_w + j * s.dilation_w;
            if (h < 0 || h >= s.in_h || w < 0 || w >= s.in_w) continue;
            const float v = x[plane * s.in_h * s.in_w + h * s.in_w + w];
            if (at < 0 || v > best || std::isnan(v)) {
              best = v;
              at = h * s.in_w + w;
            }
          }
        }
        y[plane * PQ + p * s.out_w + q] = best;
        idx[plane * PQ + p * s.out_w + q] = at;
      }
    }
  }
}

class PoolFast : public ::testing::TestWithParam<std::tuple<int, PoolCase>> {
 protected:
  void SetUp() override { set_num_threads(std::get<0>(GetParam())); }
  void TearDown() override { set_num_threads(0); }
};

void check_pool(const Pool2dShape& s, const std::vector<float>& x) {
  std::vector<float> y_want;
  std::vector<int64_t> idx_want;
  naive_max_pool(s, x.data(), y_want, idx_want);
  const int64_t out_size = s.planes * s.out_h * s.out_w, in_size = s.planes * s.in_h * s.in_w;
  std::vector<float> y(out_size + 1, -7.0f);
  std::vector<int64_t> idx(out_size + 1, -7);
  max_pool2d_forward_fast(s, x.data(), y.data(), idx.data());
  for (int64_t i = 0; i < out_size; ++i) {
    ASSERT_EQ(idx[i], idx_want[i]) << "index of output " << i;
    if (std::isnan(y_want[i])) {
      ASSERT_TRUE(std::isnan(y[i])) << "output " << i;
    } else {
      ASSERT_EQ(y[i], y_want[i]) << "output " << i;
    }
  }
  // Backward: gx = 0, then gx[plane][idx] += gy, in double here.
  const auto gy = random_values(out_size, 9);
  std::vector<double> gx_want(in_size, 0.0);
  const int64_t PQ = s.out_h * s.out_w, HW = s.in_h * s.in_w;
  for (int64_t i = 0; i < out_size; ++i) gx_want[i / PQ * HW + idx_want[i]] += gy[i];
  std::vector<float> gx(in_size + 1, std::numeric_limits<float>::quiet_NaN());
  max_pool2d_backward_fast(s, gy.data(), idx.data(), gx.data());
  for (int64_t i = 0; i < in_size; ++i) {
    ASSERT_NEAR(gx[i], gx_want[i], 1e-6 * (1.0 + std::abs(gx_want[i]))) << "gx " << i;
  }
}

TEST_P(PoolFast, MatchesNaiveLoops) {
  const PoolCase& c = std::get<1>(GetParam());
  SCOPED_TRACE(::testing::PrintToString(c));
  const Pool2dShape s = c.shape();
  check_pool(s, random_values(s.planes * s.in_h * s.in_w, 5));
  // Few distinct values: many ties, which the first of them must win.
  auto ties = random_values(s.planes * s.in_h * s.in_w, 6);
  for (float& v : ties) v = std::round(v);
  check_pool(s, ties);
}

const PoolCase kPoolCases[] = {
    {.planes = 7 * 6, .H = 28, .W = 28, .kh = 2, .kw = 2, .sh = 2, .sw = 2},  // LeNet, fast path
    {.planes = 5, .H = 9, .W = 7, .kh = 2, .kw = 2, .sh = 2, .sw = 2},        // odd: edge dropped
    {.planes = 3, .H = 10, .W = 11, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1},
    {.planes = 2,
     .H = 9,
     .W = 9,
     .kh = 3,
     .kw = 2,
     .sh = 1,
     .sw = 2,
     .ph = 1,
     .pw = 1,
     .dh = 2,
     .dw = 1},
    {.planes = 4, .H = 7, .W = 8, .kh = 2, .kw = 2, .sh = 2, .sw = 2, .ph = 1, .pw = 1},
    {.planes = 3, .H = 9, .W = 10, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .ceil_mode = true},
    // 2×2 stride 2 with ceil_mode on odd sizes: the last windows hang over the edge, so the 2×2
    // fast path must not take them (it read past the plane before).
    {.planes = 2, .H = 5, .W = 7, .kh = 2, .kw = 2, .sh = 2, .sw = 2, .ceil_mode = true},
    {.planes = 600, .H = 6, .W = 6, .kh = 2, .kw = 2, .sh = 2, .sw = 2},  // many small planes
};

INSTANTIATE_TEST_SUITE_P(Geometries, PoolFast,
                         ::testing::Combine(::testing::Values(1, 2),
                                            ::testing::ValuesIn(kPoolCases)));

// Index semantics on hand-made windows, in both the 2×2 fast path and the general one.
TEST(PoolFastIndices, FirstMaxWinsNanWinsPaddingNever) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const bool general : {false, true}) {
    SCOPED_TRACE(general ? "general path (3x3 window, padding 1)" : "2x2 fast path");
    // One 2×2 plane; the general path sees it through a 3×3 window with padding 1, stride 2,
    // whose single output covers the whole plane plus padding.
    const Pool2dShape s = general ? Pool2dShape{.planes = 1,
                                                .in_h = 2,
                                                .in_w = 2,
                                                .kernel_h = 3,
                                                .kernel_w = 3,
                                                .stride_h = 2,
                                                .stride_w = 2,
                                                .pad_h = 1,
                                                .pad_w = 1,
                                                .out_h = 1,
                                                .out_w = 1}
                                  : Pool2dShape{.planes = 1,
                                                .in_h = 2,
                                                .in_w = 2,
                                                .kernel_h = 2,
                                                .kernel_w = 2,
                                                .stride_h = 2,
                                                .stride_w = 2,
                                                .out_h = 1,
                                                .out_w = 1};
    const auto pool = [&](std::vector<float> x) {
      float y = 0.0f;
      int64_t idx = -1;
      max_pool2d_forward_fast(s, x.data(), &y, &idx);
      return std::pair{y, idx};
    };
    EXPECT_EQ(pool({1, 3, 3, 2}), (std::pair{3.0f, int64_t{1}}));       // first of equal maxima
    EXPECT_EQ(pool({-5, -5, -5, -5}), (std::pair{-5.0f, int64_t{0}}));  // padding (0) never wins
    EXPECT_EQ(pool({-inf, -inf, -inf, -inf}), (std::pair{-inf, int64_t{0}}));
    const auto [y, idx] = pool({1, nan, 7, 2});
    EXPECT_TRUE(std::isnan(y));
    EXPECT_EQ(idx, 1);
  }
}

// The 2×2 path computes four windows at once (SSE2 lanes). Its per-lane selects must follow the
// scalar rule in every lane and window position: values drawn from {−inf, −1, 0, 1, NaN} give
// ties (the first wins), NaNs (the last one wins) and −inf everywhere; the widths give rows
// shorter than one group (its values gathered into the lanes), of exactly one group, of groups
// and a partial group (done as an overlapping last group), and odd widths whose last column no
// window reads. Forward and backward against the naive loops.
TEST(PoolFastIndices, FourWindowGroupsFollowTheScanRule) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float values[] = {-inf, -1.0f, 0.0f, 1.0f, nan};
  std::mt19937 rng(2024);
  for (const int threads : {1, 2}) {
    set_num_threads(threads);
    // Q = 1, 2, 3 (rows shorter than a group of four windows), 4, 5, 7, 11
    for (const int64_t W : {2, 5, 7, 8, 10, 14, 23}) {
      SCOPED_TRACE("W = " + std::to_string(W) + ", threads = " + std::to_string(threads));
      const Pool2dShape s{.planes = 3,
                          .in_h = 4,
                          .in_w = W,
                          .kernel_h = 2,
                          .kernel_w = 2,
                          .stride_h = 2,
                          .stride_w = 2,
                          .out_h = 2,
                          .out_w = W / 2};
      for (int trial = 0; trial < 40; ++trial) {
        std::vector<float> x(static_cast<size_t>(s.planes * s.in_h * s.in_w));
        for (float& v : x) v = values[rng() % std::size(values)];
        check_pool(s, x);
      }
    }
  }
  set_num_threads(0);
}

// ---------------------------------------------------------------------------------------------
// Batch norm
// ---------------------------------------------------------------------------------------------

struct BnCase {
  int64_t N, C, HW;
};

class BatchNormFast : public ::testing::TestWithParam<std::tuple<int, BnCase>> {
 protected:
  void SetUp() override { set_num_threads(std::get<0>(GetParam())); }
  void TearDown() override { set_num_threads(0); }
};

TEST_P(BatchNormFast, MatchesNaiveDoubleSums) {
  // Named copies, not a structured binding: clang 14 cannot capture a binding in a lambda.
  const BnCase& shape = std::get<1>(GetParam());
  const int64_t N = shape.N, C = shape.C, HW = shape.HW;
  SCOPED_TRACE("N=" + std::to_string(N) + " C=" + std::to_string(C) + " HW=" + std::to_string(HW));
  const int64_t size = N * C * HW;
  auto x = random_values(size, 11);
  for (float& v : x) v = 3.0f + 0.5f * v;  // an offset mean: one-pass variance would cancel
  const auto gy = random_values(size, 12), scale = random_values(C, 13),
             shift = random_values(C, 14), a = random_values(C, 15), b = random_values(C, 16),
             d = random_values(C, 17);

  std::vector<double> mean_want(C), var_want(C), dy_want(C), dy_xmu_want(C);
  const auto at = [&](int64_t n, int64_t c, int64_t i) { return (n * C + c) * HW + i; };
  for (int64_t c = 0; c < C; ++c) {
    double sum = 0.0;
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t i = 0; i < HW; ++i) sum += x[at(n, c, i)];
    }
    mean_want[c] = sum / static_cast<double>(N * HW);
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t i = 0; i < HW; ++i) {
        const double xmu = x[at(n, c, i)] - mean_want[c];
        var_want[c] += xmu * xmu;
        dy_want[c] += gy[at(n, c, i)];
        dy_xmu_want[c] += gy[at(n, c, i)] * xmu;
      }
    }
    var_want[c] /= static_cast<double>(N * HW);
  }

  std::vector<double> mean(C), var(C), dy(C), dy_xmu(C);
  batch_norm_stats_fast(N, C, HW, x.data(), mean.data(), var.data(), {});
  batch_norm_backward_reduce_fast(N, C, HW, gy.data(), x.data(), mean_want.data(), nullptr, nullptr,
                                  dy.data(), dy_xmu.data(), {});
  for (int64_t c = 0; c < C; ++c) {
    EXPECT_NEAR(mean[c], mean_want[c], 1e-12 * std::abs(mean_want[c])) << "mean " << c;
    EXPECT_NEAR(var[c], var_want[c], 1e-12 * var_want[c]) << "var " << c;
    EXPECT_NEAR(dy[c], dy_want[c], 1e-11 * static_cast<double>(N * HW)) << "sum_dy " << c;
    EXPECT_NEAR(dy_xmu[c], dy_xmu_want[c], 1e-11 * static_cast<double>(N * HW))
        << "sum_dy_xmu " << c;
  }

  std::vector<float> y(size), gx(size);
  batch_norm_apply_fast(N, C, HW, 0, C, x.data(), scale.data(), shift.data(), /*relu=*/false,
                        y.data());
  batch_norm_backward_apply_fast(N, C, HW, 0, C, gy.data(), x.data(), a.data(), b.data(), d.data(),
                                 nullptr, nullptr, gx.data());
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t j = at(n, c, i);
        const double y_want = double{x[j]} * scale[c] + shift[c];
        const double gx_want = double{gy[j]} * a[c] + double{x[j]} * b[c] + d[c];
        ASSERT_NEAR(y[j], y_want, 1e-6 * (1.0 + std::abs(y_want))) << "y " << j;
        ASSERT_NEAR(gx[j], gx_want, 1e-6 * (1.0 + std::abs(gx_want))) << "gx " << j;
      }
    }
  }
}

// The fused ReLU (BatchNormOptions::fuse_relu) in the same four kernels: the apply writes
// max(pre, 0) with pre = bn_pre_activation(x, scale, shift), and the backward passes see gy
// zeroed wherever pre ≤ 0 — checked against the plain kernels run on an explicitly masked gy
// (the fusion must change nothing else), bit for bit. Channel 0 has scale = shift = 0, so every
// pre-activation there is exactly 0; one x is NaN (NaN passes, as in relu and its backward).
TEST_P(BatchNormFast, FusedReluMasksWhereThePreActivationIsNotPositive) {
  const BnCase& shape = std::get<1>(GetParam());
  const int64_t N = shape.N, C = shape.C, HW = shape.HW;
  const int64_t size = N * C * HW;
  auto x = random_values(size, 21);
  x[static_cast<size_t>(size - 1)] = std::nanf("");
  const auto gy = random_values(size, 22), a = random_values(C, 25), b = random_values(C, 26),
             d = random_values(C, 27);
  auto scale = random_values(C, 23), shift = random_values(C, 24);
  scale[0] = shift[0] = 0.0f;
  std::vector<double> mean(static_cast<size_t>(C), 0.25);

  std::vector<float> pre(static_cast<size_t>(size)), gy_masked(gy);
  for (int64_t j = 0; j < size; ++j) {
    const int64_t c = (j / HW) % C;
    pre[j] = bn_pre_activation(x[j], scale[c], shift[c]);
    if (pre[j] <= 0.0f) gy_masked[j] = 0.0f;
  }
  std::vector<float> y(size);
  batch_norm_apply_fast(N, C, HW, 0, C, x.data(), scale.data(), shift.data(), /*relu=*/true,
                        y.data());
  for (int64_t j = 0; j < size; ++j) {
    if (std::isnan(pre[j])) {
      ASSERT_TRUE(std::isnan(y[j])) << j;
    } else {
      ASSERT_EQ(y[j], pre[j] < 0.0f ? 0.0f : pre[j]) << j;
    }
  }
  std::vector<double> dy(C), dy_xmu(C), dy_want(C), dy_xmu_want(C);
  batch_norm_backward_reduce_fast(N, C, HW, gy.data(), x.data(), mean.data(), scale.data(),
                                  shift.data(), dy.data(), dy_xmu.data(), {});
  batch_norm_backward_reduce_fast(N, C, HW, gy_masked.data(), x.data(), mean.data(), nullptr,
                                  nullptr, dy_want.data(), dy_xmu_want.data(), {});
  for (int64_t c = 0; c < C; ++c) {
    EXPECT_EQ(dy[c], dy_want[c]) << "sum_dy " << c;
    // NaN == NaN is false: the channel holding the NaN x has a NaN Σ gy·(x − mean) both ways.
    if (!std::isnan(dy_xmu_want[c])) {
      EXPECT_EQ(dy_xmu[c], dy_xmu_want[c]) << "sum_dy_xmu " << c;
    }
  }
  if (C > 1) {
    EXPECT_EQ(dy[0], 0.0);  // the kink channel passes nothing (the NaN is in C − 1)
  }
  std::vector<float> gx(size), gx_want(size);
  batch_norm_backward_apply_fast(N, C, HW, 0, C, gy.data(), x.data(), a.data(), b.data(), d.data(),
                                 scale.data(), shift.data(), gx.data());
  batch_norm_backward_apply_fast(N, C, HW, 0, C, gy_masked.data(), x.data(), a.data(), b.data(),
                                 d.data(), nullptr, nullptr, gx_want.data());
  for (int64_t j = 0; j < size - 1; ++j) ASSERT_EQ(gx[j], gx_want[j]) << j;
}

// The reductions' `then` (ChannelBlockFn): blocks that cover [0, C) once, each called after its
// sums are final (what the driver's fold-and-apply relies on), and the apply kernels on a block of
// channels write that block as the whole-tensor call does, and nothing else.
TEST_P(BatchNormFast, ThenSeesEachBlockOnceWithItsFinalSums) {
  const BnCase& shape = std::get<1>(GetParam());
  const int64_t N = shape.N, C = shape.C, HW = shape.HW;
  const int64_t size = N * C * HW;
  const auto x = random_values(size, 31), gy = random_values(size, 32),
             scale = random_values(C, 33), shift = random_values(C, 34);
  std::mutex lock;
  std::vector<int> calls(static_cast<size_t>(C));
  std::vector<double> first(static_cast<size_t>(C)), second(static_cast<size_t>(C));
  std::vector<double> mean(static_cast<size_t>(C)), var(mean), dy(mean), dy_xmu(mean);
  const auto record = [&](const std::vector<double>& u, const std::vector<double>& v) {
    return [&, u = &u, v = &v](int64_t c0, int64_t c1) {
      const std::lock_guard<std::mutex> guard(lock);
      ASSERT_TRUE(0 <= c0 && c0 < c1 && c1 <= C) << "block [" << c0 << ", " << c1 << ")";
      for (int64_t c = c0; c < c1; ++c) {
        ++calls[c];
        first[c] = (*u)[c];
        second[c] = (*v)[c];
      }
    };
  };
  const auto check = [&](const char* what, const std::vector<double>& u,
                         const std::vector<double>& v) {
    for (int64_t c = 0; c < C; ++c) {
      EXPECT_EQ(calls[c], 1) << what << ": channel " << c;
      EXPECT_EQ(first[c], u[c]) << what << ": channel " << c << " was called before its sums";
      EXPECT_EQ(second[c], v[c]) << what << ": channel " << c << " was called before its sums";
    }
    std::fill(calls.begin(), calls.end(), 0);
  };
  batch_norm_stats_fast(N, C, HW, x.data(), mean.data(), var.data(), record(mean, var));
  check("stats", mean, var);
  batch_norm_backward_reduce_fast(N, C, HW, gy.data(), x.data(), mean.data(), scale.data(),
                                  shift.data(), dy.data(), dy_xmu.data(), record(dy, dy_xmu));
  check("backward_reduce", dy, dy_xmu);

  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> whole(size), blocks(size, nan);
  const int64_t split = C / 2;
  batch_norm_apply_fast(N, C, HW, 0, C, x.data(), scale.data(), shift.data(), true, whole.data());
  batch_norm_apply_fast(N, C, HW, 0, split, x.data(), scale.data(), shift.data(), true,
                        blocks.data());
  batch_norm_apply_fast(N, C, HW, split, C, x.data(), scale.data(), shift.data(), true,
                        blocks.data());
  for (int64_t j = 0; j < size; ++j) ASSERT_EQ(blocks[j], whole[j]) << "apply " << j;
  std::fill(blocks.begin(), blocks.end(), nan);
  batch_norm_backward_apply_fast(N, C, HW, 0, C, gy.data(), x.data(), scale.data(), shift.data(),
                                 scale.data(), nullptr, nullptr, whole.data());
  batch_norm_backward_apply_fast(N, C, HW, split, C, gy.data(), x.data(), scale.data(),
                                 shift.data(), scale.data(), nullptr, nullptr, blocks.data());
  for (int64_t j = 0; j < size; ++j) {
    if (j / HW % C < split) {
      ASSERT_TRUE(std::isnan(blocks[j])) << "backward_apply wrote " << j << " outside its block";
    } else {
      ASSERT_EQ(blocks[j], whole[j]) << "backward_apply " << j;
    }
  }
}

const BnCase kBnCases[] = {
    {.N = 7, .C = 3, .HW = 13 * 11},
    {.N = 1, .C = 5, .HW = 1},
    {.N = 33, .C = 4, .HW = 1},
    {.N = 16, .C = 32, .HW = 196},
    {.N = 2, .C = 70, .HW = 3},
    {.N = 1, .C = 1, .HW = 4097},
    // Blocks of 4 channels (kBatchNormBlock = 2^17 floats over N·HW = 2^15), 10 of them.
    {.N = 4, .C = 40, .HW = 8192},
};

INSTANTIATE_TEST_SUITE_P(Shapes, BatchNormFast,
                         ::testing::Combine(::testing::Values(1, 2),
                                            ::testing::ValuesIn(kBnCases)));

}  // namespace
}  // namespace tinytorch::kernels
