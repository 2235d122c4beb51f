// The direct convolution kernel for AVX-512 (spatial_simd.h). This file alone is compiled with
// -mavx512f -mfma (see tinytorch/CMakeLists.txt); spatial_fast.cpp calls it only on CPUs that
// have AVX-512F.
//
// Tile: 8 output channels x 3 zmm (48 positions): 24 accumulators + 3 input vectors + 1
// broadcast = 28 of the 32 registers; or x 2 zmm (32 positions), for grids whose J rounds up to
// fewer positions that way (a 14×14 pad-1 layer: J = 209, 224 rather than 240). 8 rows rather than
// the GEMM's 12, because the layers that matter have 6, 16, 32 or 64 output channels: 8 divides all
// but the first, and 6 fits in one tile of 6 rows. Channels last: 6 positions (or, for the weight
// gradient, 6 taps) x 4 zmm (64 channels). The vector type is vec_policy.h's Avx512.
#include "spatial_kernels.h"
#include "spatial_simd.h"
#include "vec_policy.h"

namespace tinytorch::kernels::spatial {
namespace {

constexpr int64_t kRows = 8, kVectors = 3, kNarrowVectors = 2;
// The weight gradient's tile: 4 channels x 6 taps = 24 accumulators + 4 gy vectors + 1 input.
constexpr int64_t kGradRows = 4, kGradTaps = 6;
// The channels-last tiles: 6 positions (weight gradient: 6 taps) x 4 zmm (64 channels) = 24
// accumulators + 4 vectors loaded + 1 broadcast.
constexpr int64_t kChannelVectors = 4, kChannelPositions = 6;

}  // namespace

DirectConvKernel direct_conv_avx512() {
  return {.mr = kRows,
          .lanes = Avx512::kLanes,
          .wide = {kVectors * Avx512::kLanes, direct_conv<Avx512, kRows, kVectors>},
          .narrow = {kNarrowVectors * Avx512::kLanes, direct_conv<Avx512, kRows, kNarrowVectors>},
          .weight_grad = weight_grad<Avx512, kGradRows, kGradTaps>,
          .block = kChannelVectors,
          .channel_conv = channel_conv<Avx512, kChannelVectors, kChannelPositions>,
          .channel_weight_grad = channel_weight_grad<Avx512, kChannelVectors, kChannelPositions>,
          .winograd_input = winograd_input<Avx512>,
          .winograd_output = winograd_output<Avx512>,
          .winograd_output_grad = winograd_output_grad<Avx512>,
          .to_channels_last = to_channels_last<Avx2>,
          .to_channels_first = to_channels_first<Avx2>,
          .add_bias = add_bias<Avx512>,
          .keep_rows = keep_rows<Avx512>,
          .deinterleave = deinterleave<Avx512>,
          .sums = PlaneSums<Avx512>::fns()};
}

}  // namespace tinytorch::kernels::spatial
