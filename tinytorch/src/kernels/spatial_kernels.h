// The inner kernels of the fast tier's direct and Winograd convolutions (spatial_fast.cpp) and
// their layout copies, one copy per CPU capability.
//
// Private to src/kernels. As for the GEMM (gemm_kernels.h), spatial_fast.cpp is compiled for plain
// x86-64, and the SIMD kernel lives in translation units of its own, each compiled with the flags
// of one instruction set:
//
//   spatial_avx2.cpp     -mavx2 -mfma      tiles of 6 output channels x 2 ymm (16 positions),
//                                          or (channels last) 6 positions x 2 ymm (16 channels)
//   spatial_avx512.cpp   -mavx512f -mfma   tiles of 8 output channels x 3 or 2 zmm (48 or 32),
//                                          or (channels last) 6 positions x 4 zmm (64 channels)
//
// (the Winograd transforms vectorised over channels at each file's width, the layout copies in
// 8 x 8 blocks in both)
// both instantiating one template (spatial_simd.h). spatial_fast.cpp calls them only through
// pointers it takes after checking the CPU (get_cpu_capability).
#pragma once

#include <cstdint>

#include "plane_sums.h"

namespace tinytorch::kernels::spatial {

// One stride-1 convolution of one image (and group) whose input was copied, with its zero padding,
// into planes of Hp x Wp values. On that padded grid an output position is j = p·Wp + q, and the
// input value that kernel tap (c, r, t) multiplies is x[c·Hp·Wp + r·dil_h·Wp + t·dil_w + j]:
// an offset that depends on the tap only. So for each tap, consecutive output positions read
// consecutive input values — one vector load, no im2col — and
//
//   out[k][j] = Σ_i w(k, i) · x[offsets[i] + j]        i = (c·R + r)·S + t, k < K, j < J
//
// is a matrix product whose right operand is read straight from the padded image. The positions
// j = p·Wp + q with q >= Q (the row's last Wp − Q) are computed too and thrown away by the caller
// (unless it runs the kernel one output row at a time: x at p·Wp, J = Q, out at p·Q, ldo = P·Q).
struct DirectConvArgs {
  int64_t out_channels;    // K: rows of out
  int64_t steps;           // C·R·S taps
  int64_t positions;       // J: out[k][0 .. J) are wanted
  const int64_t* offsets;  // [steps]
  const float* x;          // readable at offsets[i] + j for j < round_up(J, tile width)
  const float* w;          // packed: [ceil(K / MR)][steps][MR], w(k, i) at [k / MR][i][k % MR]
  float* out;              // [K][ldo], written up to round_up(J, tile width) per row
  int64_t ldo;
};

// The weight gradient of the same convolution, summed over a group of images:
//
//   gw[k][i] += Σ_image Σ_j gy[image][k][j] · x[image][offsets[i] + j]      k < K, i < steps
//
// a dot product over the positions j for every (channel, tap) pair, with gy laid out on the
// padded grid (gy[k][p·Wp + q]) and zero at the dropped positions q >= Q and at j >= J, so that
// they add nothing.
struct WeightGradArgs {
  int64_t out_channels;  // K
  int64_t steps;         // C·R·S taps
  int64_t positions;     // a multiple of `lanes`: the dot products run over j < positions
  int64_t images;
  const int64_t* offsets;  // [steps]
  const float* const* x;   // [images]: each readable at offsets[i] + j for j < positions
  const float* const* gy;  // [images]: each [K][positions]
  float* gw;               // [K][steps], added to
};

// The same convolution with the output channels in the vector lanes instead of the positions
// ("channels last"). A tile is up to 6 output positions — any of them, each with its own offset
// on the grid, so only kept positions are computed — by a block of up to `block` vectors of
// output channels (DirectConvKernel):
//
//   out[j][k] = Σ_i w(k, i) · x[bases[j] + offsets[i]]      j < positions, k < K
//
// Every step loads the block's weights (vectors) and broadcasts one input per position. Where the
// grid drops many positions (a 7×7 output on an 8-wide grid: 49 kept of 64 computed) this wastes
// none, at the price of an output in [position][channel] order, which the caller transposes.
struct ChannelConvArgs {
  int64_t channel_vectors;  // ceil(K / lanes)
  int64_t steps;            // C·R·S taps
  int64_t positions;        // rows of out
  const int64_t* bases;     // [positions]: each position's offset on the grid, p·Wp + q
  const int64_t* offsets;   // [steps]
  const float* x;           // the padded image
  // packed in blocks of `block` channel vectors (the last may have fewer, nv):
  // [ceil(channel_vectors / block)][steps][nv·lanes], channels past K zero.
  const float* w;
  float* out;  // [positions][channel_vectors·lanes]
};

// The weight gradient with the output channels in the lanes, over the kept positions only:
//
//   gw[i][k] += Σ_image Σ_j x[image][bases[j] + offsets[i]] · gy[image][j][k]
//
// with gy channels last ([positions][channel_vectors·lanes], zero past K) and gw [steps][same]:
// the caller transposes both. No sum across the lanes: each lane is a channel of its own.
struct ChannelWeightGradArgs {
  int64_t channel_vectors;  // ceil(K / lanes)
  int64_t steps;            // C·R·S taps
  int64_t positions;        // P·Q
  int64_t images;
  const int64_t* bases;    // [positions]: each position's offset on the grid, p·Wp + q
  const int64_t* offsets;  // [steps]
  const float* const* x;   // [images]: the padded images
  const float* const* gy;  // [images]: each [positions][channel_vectors·lanes]
  float* gw;               // [steps][channel_vectors·lanes], added to
};

// The three transforms of the Winograd F(2×2, 3×3) convolution (see "The Winograd convolution"
// in spatial_fast.cpp), channels last and vectorised over the channels. The image is cut into
// tiles_h x tiles_w tiles of 2 x 2 outputs; tile (ty, tx) reads the 4 x 4 inputs at rows
// 2·ty ... 2·ty + 3 and columns 2·tx ... 2·tx + 3 of the padded image. With T = tiles_h·tiles_w
// and ch the channels (a multiple of the kernel's lanes):
//
//   input        from [2·tiles_h + 2][2·tiles_w + 2][ch]  the padded image      V = Bᵀ·d·B
//                to   [16][T][ch]                          V[ξ·4 + ν][tile][c]
//   output       from [16][T][ch]                          M, the 16 products    y = Aᵀ·m·A
//                to   [2·tiles_h][2·tiles_w][ch]           the outputs, by tile
//   output_grad  from [2·tiles_h][2·tiles_w][ch]           gy, by tile       dM = A·gy·Aᵀ
//                to   [16][T][ch]                          (the output transform's adjoint)
struct WinogradTransformArgs {
  int64_t tiles_h, tiles_w;
  int64_t channels;
  const float* from;
  float* to;
};

// The direct kernel's output keeps the first `width` of every `row` positions of each of its
// `height` rows (the rest are the grid's padding, computed and dropped): copied densely, channel k
// from `from + k·ld` to `to + k·height·width`, with bias[k] added when given.
struct KeepRowsArgs {
  int64_t channels, height, width;  // K, P, Q
  int64_t row, ld;                  // the grid's row length Wp; a channel's stride in `from`
  const float* bias;                // [K] or nullptr
  const float* from;
  float* to;
};

// Copies between an image in NCHW order (channels first, [C][H][W]) and a channels-last buffer
// whose position (h, w) holds its C values at (h·row + w)·ld: the transposes around the
// channels-last and Winograd kernels. to_channels_last writes only the C values of the H x W
// positions (the caller writes the rest); to_channels_first adds bias[c], when given, to every
// value of channel c.
struct LayoutCopyArgs {
  int64_t channels, height, width;  // C, H, W
  int64_t row, ld;
  const float* bias;  // to_channels_first: [C] or nullptr
  const float* from;
  float* to;
};

// A direct convolution tile: mr output channels (weights broadcast) by nr positions (vector loads
// of the input), and the kernel that sweeps all of out with it (out written up to J rounded up to
// nr).
struct DirectConvTile {
  int64_t nr;
  void (*run)(const DirectConvArgs& args);
};

// The kernels of one instruction set: two tile widths for the direct convolution (the caller
// takes the one that computes fewer positions past J), the weight gradient, whose dot products
// run over vectors of `lanes` positions, and the channels-last convolution and weight gradient.
struct DirectConvKernel {
  int64_t mr, lanes;
  DirectConvTile wide, narrow;
  void (*weight_grad)(const WeightGradArgs& args);
  int64_t block;  // channel vectors per block of the channels-last kernels
  void (*channel_conv)(const ChannelConvArgs& args);
  void (*channel_weight_grad)(const ChannelWeightGradArgs& args);
  void (*winograd_input)(const WinogradTransformArgs& args);
  void (*winograd_output)(const WinogradTransformArgs& args);
  void (*winograd_output_grad)(const WinogradTransformArgs& args);
  void (*to_channels_last)(const LayoutCopyArgs& args);
  void (*to_channels_first)(const LayoutCopyArgs& args);
  // y[k·ldy + j] += bias[k] for k < rows, j < len: the im2col path's bias, added onto the
  // product the GEMM just wrote (see conv2d_forward_fast)
  void (*add_bias)(int64_t rows, int64_t len, const float* bias, float* y, int64_t ldy);
  void (*keep_rows)(const KeepRowsArgs& args);
  // even[i] = in[2i], odd[i] = in[2i + 1] for the n values of in: a row of a stride-2 grid's
  // phase planes (PaddedGrid::pad_phases)
  void (*deinterleave)(const float* in, int64_t n, float* even, float* odd);
  // Sums over one plane of floats, in double, on this instruction set (plane_sums.h): batch
  // norm's statistics and gradient sums, a convolution's bias gradient.
  PlaneSumFns sums;
};

DirectConvKernel direct_conv_avx2();
DirectConvKernel direct_conv_avx512();

}  // namespace tinytorch::kernels::spatial
