// The inner kernel of the fast tier's direct convolution (spatial_fast.cpp), one copy per CPU
// capability.
//
// Private to src/kernels. As for the GEMM (gemm_kernels.h), spatial_fast.cpp is compiled for plain
// x86-64, and the SIMD kernel lives in translation units of its own, each compiled with the flags
// of one instruction set:
//
//   spatial_avx2.cpp     -mavx2 -mfma      tiles of 6 output channels x 2 ymm (16 positions)
//   spatial_avx512.cpp   -mavx512f -mfma   tiles of 8 output channels x 3 zmm (48 positions)
//
// both instantiating one template (spatial_simd.h). spatial_fast.cpp calls them only through
// pointers it takes after checking the CPU (get_cpu_capability).
#pragma once

#include <cstdint>

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
// j = p·Wp + q with q >= Q (the row's last Wp − Q) are computed too and thrown away by the caller.
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

// The kernels of one instruction set. The direct convolution's tile: mr output channels (weights
// broadcast) by nr positions (vector loads of the input). The weight gradient's dot products run
// over vectors of `lanes` positions.
struct DirectConvKernel {
  int64_t mr, nr, lanes;
  void (*run)(const DirectConvArgs& args);
  void (*weight_grad)(const WeightGradArgs& args);
};

DirectConvKernel direct_conv_avx2();
DirectConvKernel direct_conv_avx512();

}  // namespace tinytorch::kernels::spatial
