// The direct convolution kernel of the fast tier (see DirectConvArgs in spatial_kernels.h),
// written once for any vector width.
//
// Private to src/kernels and included only by the translation units compiled for one instruction
// set each (spatial_avx2.cpp, spatial_avx512.cpp). V is the vector type, as in gemm_simd.h: Vec,
// kLanes, zero(), broadcast(p), load(p), store(p, v), fmadd(x, y, acc), and sum(v) (of the lanes).
//
// NOTE: as gemm_simd.h explains, each copy of these templates must stay in the file that compiled
// it: V is declared in an unnamed namespace in each .cpp, and this header calls no inline function
// of the standard library.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <utility>

#include "spatial_kernels.h"

namespace tinytorch::kernels::spatial {

// One tile: out[m][0 .. NV·L) for the ROWS (<= MR) channels of one packed weight tile.
//
//   registers:  acc[m][v]  m < ROWS, v < NV      (8 x 3 zmm = 24 for AVX-512, 6 x 2 ymm for AVX2)
//   step i:     b[v] = x[offsets[i] + v·L ...]   NV vector loads of the input, in place
//               a_m  = w[i·MR + m]               ROWS broadcasts of the packed weights
//               acc[m][v] += a_m · b[v]
//
// Every step does ROWS·NV FMAs for NV + ROWS loads, like the GEMM micro-kernel's, and the whole
// C·R·S sum stays in registers: out is written once.
template <typename V, int64_t MR, int64_t NV, int64_t ROWS>
void direct_conv_tile(int64_t steps, const int64_t* offsets, const float* x, const float* w,
                      float* out, int64_t ldo) {
  using Vec = typename V::Vec;
  Vec acc[ROWS][NV];
#pragma GCC unroll 8
  for (int64_t m = 0; m < ROWS; ++m) {
#pragma GCC unroll 4
    for (int64_t v = 0; v < NV; ++v) acc[m][v] = V::zero();
  }
#pragma GCC unroll 2
  for (int64_t i = 0; i < steps; ++i, w += MR) {
    const float* src = x + offsets[i];
    Vec b[NV];
#pragma GCC unroll 4
    for (int64_t v = 0; v < NV; ++v) b[v] = V::load(src + v * V::kLanes);
#pragma GCC unroll 8
    for (int64_t m = 0; m < ROWS; ++m) {
      const Vec a = V::broadcast(w + m);
#pragma GCC unroll 4
      for (int64_t v = 0; v < NV; ++v) acc[m][v] = V::fmadd(a, b[v], acc[m][v]);
    }
  }
#pragma GCC unroll 8
  for (int64_t m = 0; m < ROWS; ++m) {
#pragma GCC unroll 4
    for (int64_t v = 0; v < NV; ++v) V::store(out + m * ldo + v * V::kLanes, acc[m][v]);
  }
}

// All of out: channel tiles of MR (the last may have fewer rows), each swept over the positions
// in tiles of NV vectors. The weight tile (steps x MR) stays in L1 while the input streams by.
// kTiles[rows - 1]: the tile for a channel tile of `rows` rows, rows = 1 ... MR.
template <typename V, int64_t MR, int64_t NV, typename Rows>
struct TileTable;
template <typename V, int64_t MR, int64_t NV, int64_t... R>
struct TileTable<V, MR, NV, std::integer_sequence<int64_t, R...>> {
  using Tile = void (*)(int64_t, const int64_t*, const float*, const float*, float*, int64_t);
  static constexpr Tile kTiles[] = {direct_conv_tile<V, MR, NV, R + 1>...};
};

// All of out: channel tiles of MR (the last may have fewer rows), each swept over the positions
// in tiles of NV vectors. The weight tile (steps x MR) stays in L1 while the input streams by.
template <typename V, int64_t MR, int64_t NV>
void direct_conv(const DirectConvArgs& args) {
  using Table = TileTable<V, MR, NV, std::make_integer_sequence<int64_t, MR>>;
  constexpr int64_t NR = NV * V::kLanes;
  for (int64_t k0 = 0; k0 < args.out_channels; k0 += MR) {
    const int64_t rows = args.out_channels - k0 < MR ? args.out_channels - k0 : MR;
    const auto tile = Table::kTiles[rows - 1];
    const float* w = args.w + k0 * args.steps;  // tile k0 / MR: [steps][MR]
    float* out = args.out + k0 * args.ldo;
    for (int64_t j = 0; j < args.positions; j += NR) {
      tile(args.steps, args.offsets, args.x + j, w, out + j, args.ldo);
    }
  }
}

// The weight gradient (WeightGradArgs): a tile of MR channels x NC taps, each a dot product over
// the positions of every image, kept in MR·NC vector accumulators and summed across their lanes
// once per tile.
//
//   step j (one vector of positions):  a[m] = gy[k0 + m][j ...]            MR loads
//                                      b    = x[offsets[i0 + n] + j ...]   NC loads, one at a time
//                                      acc[m][n] += a[m] · b
//
// MR + NC loads for MR·NC FMAs. The channels and taps past the last tile's end repeat its first
// row or column (computed, not stored), so one tile shape serves every size.
template <typename V, int64_t MR, int64_t NC>
void weight_grad(const WeightGradArgs& args) {
  using Vec = typename V::Vec;
  for (int64_t k0 = 0; k0 < args.out_channels; k0 += MR) {
    const int64_t rows = args.out_channels - k0 < MR ? args.out_channels - k0 : MR;
    for (int64_t i0 = 0; i0 < args.steps; i0 += NC) {
      const int64_t cols = args.steps - i0 < NC ? args.steps - i0 : NC;
      int64_t offset[NC];
#pragma GCC unroll 8
      for (int64_t n = 0; n < NC; ++n) offset[n] = args.offsets[i0 + (n < cols ? n : 0)];
      Vec acc[MR][NC];
#pragma GCC unroll 8
      for (int64_t m = 0; m < MR; ++m) {
#pragma GCC unroll 8
        for (int64_t n = 0; n < NC; ++n) acc[m][n] = V::zero();
      }
      for (int64_t image = 0; image < args.images; ++image) {
        const float* x = args.x[image];
        const float* gy_rows[MR];
#pragma GCC unroll 8
        for (int64_t m = 0; m < MR; ++m) {
          gy_rows[m] = args.gy[image] + (k0 + (m < rows ? m : 0)) * args.positions;
        }
#pragma GCC unroll 2
        for (int64_t j = 0; j < args.positions; j += V::kLanes) {
          Vec a[MR];
#pragma GCC unroll 8
          for (int64_t m = 0; m < MR; ++m) a[m] = V::load(gy_rows[m] + j);
#pragma GCC unroll 8
          for (int64_t n = 0; n < NC; ++n) {
            const Vec b = V::load(x + offset[n] + j);
#pragma GCC unroll 8
            for (int64_t m = 0; m < MR; ++m) acc[m][n] = V::fmadd(a[m], b, acc[m][n]);
          }
        }
      }
      for (int64_t m = 0; m < rows; ++m) {
        for (int64_t n = 0; n < cols; ++n) {
          args.gw[(k0 + m) * args.steps + i0 + n] += V::sum(acc[m][n]);
        }
      }
    }
  }
}

}  // namespace tinytorch::kernels::spatial
