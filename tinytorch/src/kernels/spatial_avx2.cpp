// The direct convolution kernel for AVX2/FMA (spatial_simd.h). This file alone is compiled with
// -mavx2 -mfma (see tinytorch/CMakeLists.txt); spatial_fast.cpp calls it only on CPUs that have
// both.
//
// Tile: 6 output channels x 2 ymm (16 positions): 12 accumulators + 2 input vectors + 1
// broadcast = 15 of the 16 registers (the GEMM's AVX2 tile). Channels last: 6 positions (or, for
// the weight gradient, 6 taps) x 2 ymm (16 channels), the same register count. The vector type is
// vec_policy.h's Avx2.
#include "spatial_kernels.h"
#include "spatial_simd.h"
#include "vec_policy.h"

namespace tinytorch::kernels::spatial {
namespace {

constexpr int64_t kRows = 6, kVectors = 2;
// The weight gradient's tile: 3 channels x 4 taps = 12 accumulators + 3 gy vectors + 1 input.
constexpr int64_t kGradRows = 3, kGradTaps = 4;
// The channels-last tiles: 6 positions (weight gradient: 6 taps) x 2 ymm (16 channels).
constexpr int64_t kChannelVectors = 2, kChannelPositions = 6;

}  // namespace

DirectConvKernel direct_conv_avx2() {
  // One width: J rounded up to 16 wastes little, and a narrower tile would be load-bound.
  const DirectConvTile tile{kVectors * Avx2::kLanes, direct_conv<Avx2, kRows, kVectors>};
  return {.mr = kRows,
          .lanes = Avx2::kLanes,
          .wide = tile,
          .narrow = tile,
          .weight_grad = weight_grad<Avx2, kGradRows, kGradTaps>,
          .block = kChannelVectors,
          .channel_conv = channel_conv<Avx2, kChannelVectors, kChannelPositions>,
          .channel_weight_grad = channel_weight_grad<Avx2, kChannelVectors, kChannelPositions>,
          .winograd_input = winograd_input<Avx2>,
          .winograd_output = winograd_output<Avx2>,
          .winograd_output_grad = winograd_output_grad<Avx2>,
          .to_channels_last = to_channels_last<Avx2>,
          .to_channels_first = to_channels_first<Avx2>,
          .add_bias = add_bias<Avx2>,
          .keep_rows = keep_rows<Avx2>,
          .deinterleave = deinterleave<Avx2>,
          .sums = PlaneSums<Avx2>::fns()};
}

}  // namespace tinytorch::kernels::spatial
