// The direct convolution kernel of the fast tier (see DirectConvArgs in spatial_kernels.h),
// written once for any vector width.
//
// Private to src/kernels and included only by the translation units compiled for one instruction
// set each (spatial_avx2.cpp, spatial_avx512.cpp). V is one of vec_policy.h's vector policies;
// these kernels use Vec, kLanes, zero(), set1, load, store, add, sub, fmadd and reduce_add.
//
// NOTE: as gemm_simd.h explains, each copy of these templates must stay in the file that compiled
// it: V is declared in an unnamed namespace in each .cpp, and this header calls no inline function
// of the standard library.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <utility>

#include "spatial_kernels.h"
#include "unroll.h"

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
  TT_UNROLL(8)
  for (int64_t m = 0; m < ROWS; ++m) {
    TT_UNROLL(4)
    for (int64_t v = 0; v < NV; ++v) acc[m][v] = V::zero();
  }
  TT_UNROLL(2)
  for (int64_t i = 0; i < steps; ++i, w += MR) {
    const float* src = x + offsets[i];
    Vec b[NV];
    TT_UNROLL(4)
    for (int64_t v = 0; v < NV; ++v) b[v] = V::load(src + v * V::kLanes);
    TT_UNROLL(8)
    for (int64_t m = 0; m < ROWS; ++m) {
      const Vec a = V::set1(w[m]);
      TT_UNROLL(4)
      for (int64_t v = 0; v < NV; ++v) acc[m][v] = V::fmadd(a, b[v], acc[m][v]);
    }
  }
  TT_UNROLL(8)
  for (int64_t m = 0; m < ROWS; ++m) {
    TT_UNROLL(4)
    for (int64_t v = 0; v < NV; ++v) V::store(out + m * ldo + v * V::kLanes, acc[m][v]);
  }
}

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

// One channels-last tile (ChannelConvArgs): out[p][0 .. NV·L) for PR positions, whose inputs
// start at xs[p] on the grid.
//
//   registers:  acc[p][v]  p < PR, v < NV        (6 x 4 zmm = 24 for AVX-512, 6 x 2 ymm for AVX2)
//   step i:     b[v] = w[i·NV·L + v·L ...]       NV vector loads of the packed weights
//               a_p  = xs[p][offsets[i]]         PR broadcasts of the input, one per position
//               acc[p][v] += a_p · b[v]
//
// The GEMM micro-kernel again, with the roles swapped: the weights are the streamed vectors and
// the input the broadcast scalars, so each position may sit anywhere on the grid.
template <typename V, int64_t NV, int64_t PR>
void channel_conv_tile(int64_t steps, const int64_t* offsets, const float* const* xs,
                       const float* w, float* out, int64_t ldo) {
  using Vec = typename V::Vec;
  const float* x[PR];
  TT_UNROLL(8)
  for (int64_t p = 0; p < PR; ++p) x[p] = xs[p];
  Vec acc[PR][NV];
  TT_UNROLL(8)
  for (int64_t p = 0; p < PR; ++p) {
    TT_UNROLL(4)
    for (int64_t v = 0; v < NV; ++v) acc[p][v] = V::zero();
  }
  TT_UNROLL(2)
  for (int64_t i = 0; i < steps; ++i, w += NV * V::kLanes) {
    const int64_t offset = offsets[i];
    Vec b[NV];
    TT_UNROLL(4)
    for (int64_t v = 0; v < NV; ++v) b[v] = V::load(w + v * V::kLanes);
    TT_UNROLL(8)
    for (int64_t p = 0; p < PR; ++p) {
      const Vec a = V::set1(x[p][offset]);
      TT_UNROLL(4)
      for (int64_t v = 0; v < NV; ++v) acc[p][v] = V::fmadd(a, b[v], acc[p][v]);
    }
  }
  TT_UNROLL(8)
  for (int64_t p = 0; p < PR; ++p) {
    TT_UNROLL(4)
    for (int64_t v = 0; v < NV; ++v) V::store(out + p * ldo + v * V::kLanes, acc[p][v]);
  }
}

// One block of NV channel vectors over all the positions, in tiles of at most PR positions of
// near-equal sizes (49 positions in tiles of 6: 6·4 + 5·5, not 6·8 + 1). The block's packed
// weights (steps x NV·L) are read once per tile, from L2 for the North Star's layers (72–144 KiB
// a block); the padded image (18–30 KiB) is reread by every tile.
template <typename V, int64_t NV, int64_t PR, typename Positions>
struct ChannelBlock;
template <typename V, int64_t NV, int64_t PR, int64_t... P>
struct ChannelBlock<V, NV, PR, std::integer_sequence<int64_t, P...>> {
  using Tile = void (*)(int64_t, const int64_t*, const float* const*, const float*, float*,
                        int64_t);
  static constexpr Tile kTiles[] = {channel_conv_tile<V, NV, P + 1>...};

  static void run(const ChannelConvArgs& args, const float* w, float* out) {
    const int64_t ldo = args.channel_vectors * V::kLanes;
    const int64_t tiles = (args.positions + PR - 1) / PR;
    const int64_t size = args.positions / tiles, larger = args.positions % tiles;
    const float* xs[PR];
    for (int64_t tile = 0, j = 0; tile < tiles; ++tile) {
      const int64_t count = size + (tile < larger ? 1 : 0);
      for (int64_t p = 0; p < count; ++p) xs[p] = args.x + args.bases[j + p];
      kTiles[count - 1](args.steps, args.offsets, xs, w, out + j * ldo, ldo);
      j += count;
    }
  }
};

// All of out: blocks of NV channel vectors (the last may have fewer).
template <typename V, int64_t PR, typename Vectors>
struct ChannelBlocks;
template <typename V, int64_t PR, int64_t... N>
struct ChannelBlocks<V, PR, std::integer_sequence<int64_t, N...>> {
  using Block = void (*)(const ChannelConvArgs&, const float*, float*);
  static constexpr Block kBlocks[] = {
      ChannelBlock<V, N + 1, PR, std::make_integer_sequence<int64_t, PR>>::run...};
};

template <typename V, int64_t NV, int64_t PR>
void channel_conv(const ChannelConvArgs& args) {
  using Blocks = ChannelBlocks<V, PR, std::make_integer_sequence<int64_t, NV>>;
  for (int64_t v0 = 0; v0 < args.channel_vectors; v0 += NV) {
    const int64_t vectors = args.channel_vectors - v0 < NV ? args.channel_vectors - v0 : NV;
    Blocks::kBlocks[vectors - 1](args, args.w + v0 * V::kLanes * args.steps,
                                 args.out + v0 * V::kLanes);
  }
}

// The channels-last weight gradient (ChannelWeightGradArgs): a block of NV channel vectors by a
// tile of TC taps, summed over every position of every image in TC·NV vector accumulators.
//
//   position j:  b[v] = gy[image][j][v·L ...]                    NV vector loads
//                a_t  = x[image][bases[j] + offsets[i0 + t]]     TC broadcasts
//                acc[t][v] += a_t · b[v]
//
// The taps past the last tile's end repeat its first tap (computed, not stored), so one tile
// shape serves every C·R·S.
template <typename V, int64_t NV, int64_t TC>
void channel_weight_grad_block(const ChannelWeightGradArgs& args, int64_t v0) {
  using Vec = typename V::Vec;
  const int64_t ld = args.channel_vectors * V::kLanes;
  for (int64_t i0 = 0; i0 < args.steps; i0 += TC) {
    const int64_t cols = args.steps - i0 < TC ? args.steps - i0 : TC;
    int64_t offset[TC];
    TT_UNROLL(8)
    for (int64_t t = 0; t < TC; ++t) offset[t] = args.offsets[i0 + (t < cols ? t : 0)];
    Vec acc[TC][NV];
    TT_UNROLL(8)
    for (int64_t t = 0; t < TC; ++t) {
      TT_UNROLL(4)
      for (int64_t v = 0; v < NV; ++v) acc[t][v] = V::zero();
    }
    const int64_t positions = args.positions;
    const int64_t* bases = args.bases;
    for (int64_t image = 0; image < args.images; ++image) {
      const float* x = args.x[image];
      const float* gy = args.gy[image] + v0 * V::kLanes;
      TT_UNROLL(2)
      for (int64_t j = 0; j < positions; ++j, gy += ld) {
        const float* at = x + bases[j];
        Vec b[NV];
        TT_UNROLL(4)
        for (int64_t v = 0; v < NV; ++v) b[v] = V::load(gy + v * V::kLanes);
        TT_UNROLL(8)
        for (int64_t t = 0; t < TC; ++t) {
          const Vec a = V::set1(at[offset[t]]);
          TT_UNROLL(4)
          for (int64_t v = 0; v < NV; ++v) acc[t][v] = V::fmadd(a, b[v], acc[t][v]);
        }
      }
    }
    // (A loop over t < TC, not t < cols: indexing acc with a run-time bound would make the
    // compiler keep acc in memory, stored at every step.)
    TT_UNROLL(8)
    for (int64_t t = 0; t < TC; ++t) {
      if (t >= cols) break;
      float* gw = args.gw + (i0 + t) * ld + v0 * V::kLanes;
      TT_UNROLL(4)
      for (int64_t v = 0; v < NV; ++v) {
        V::store(gw + v * V::kLanes, V::add(V::load(gw + v * V::kLanes), acc[t][v]));
      }
    }
  }
}

template <typename V, int64_t TC, typename Vectors>
struct ChannelGradBlocks;
template <typename V, int64_t TC, int64_t... N>
struct ChannelGradBlocks<V, TC, std::integer_sequence<int64_t, N...>> {
  using Block = void (*)(const ChannelWeightGradArgs&, int64_t);
  static constexpr Block kBlocks[] = {channel_weight_grad_block<V, N + 1, TC>...};
};

template <typename V, int64_t NV, int64_t TC>
void channel_weight_grad(const ChannelWeightGradArgs& args) {
  using Blocks = ChannelGradBlocks<V, TC, std::make_integer_sequence<int64_t, NV>>;
  for (int64_t v0 = 0; v0 < args.channel_vectors; v0 += NV) {
    const int64_t vectors = args.channel_vectors - v0 < NV ? args.channel_vectors - v0 : NV;
    Blocks::kBlocks[vectors - 1](args, v0);
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
      TT_UNROLL(8)
      for (int64_t n = 0; n < NC; ++n) offset[n] = args.offsets[i0 + (n < cols ? n : 0)];
      Vec acc[MR][NC];
      TT_UNROLL(8)
      for (int64_t m = 0; m < MR; ++m) {
        TT_UNROLL(8)
        for (int64_t n = 0; n < NC; ++n) acc[m][n] = V::zero();
      }
      for (int64_t image = 0; image < args.images; ++image) {
        const float* x = args.x[image];
        const float* gy_rows[MR];
        TT_UNROLL(8)
        for (int64_t m = 0; m < MR; ++m) {
          gy_rows[m] = args.gy[image] + (k0 + (m < rows ? m : 0)) * args.positions;
        }
        TT_UNROLL(2)
        for (int64_t j = 0; j < args.positions; j += V::kLanes) {
          Vec a[MR];
          TT_UNROLL(8)
          for (int64_t m = 0; m < MR; ++m) a[m] = V::load(gy_rows[m] + j);
          TT_UNROLL(8)
          for (int64_t n = 0; n < NC; ++n) {
            const Vec b = V::load(x + offset[n] + j);
            TT_UNROLL(8)
            for (int64_t m = 0; m < MR; ++m) acc[m][n] = V::fmadd(a[m], b, acc[m][n]);
          }
        }
      }
      for (int64_t m = 0; m < rows; ++m) {
        for (int64_t n = 0; n < cols; ++n) {
          args.gw[(k0 + m) * args.steps + i0 + n] += V::reduce_add(acc[m][n]);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The Winograd F(2×2, 3×3) transforms (WinogradTransformArgs): every tile and every vector of
// channels, each transform a few additions of whole vectors. Written as two passes of the same
// 1-D transform, along the rows of the tile and then along its columns (Bᵀ·d·B = Bᵀ·(d·B)).
// ---------------------------------------------------------------------------------------------

// 1-D input transform, Bᵀ·(d0, d1, d2, d3) with Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
template <typename V>
void winograd_input_1d(const typename V::Vec (&d)[4], typename V::Vec (&out)[4]) {
  out[0] = V::sub(d[0], d[2]);
  out[1] = V::add(d[1], d[2]);
  out[2] = V::sub(d[2], d[1]);
  out[3] = V::sub(d[1], d[3]);
}

template <typename V>
void winograd_input(const WinogradTransformArgs& args) {
  using Vec = typename V::Vec;
  const int64_t ch = args.channels, tiles = args.tiles_h * args.tiles_w;
  const int64_t row = (2 * args.tiles_w + 2) * ch, plane = tiles * ch;  // floats
  for (int64_t ty = 0; ty < args.tiles_h; ++ty) {
    for (int64_t tx = 0; tx < args.tiles_w; ++tx) {
      const float* d = args.from + 2 * ty * row + 2 * tx * ch;  // the tile's top-left input
      float* v = args.to + (ty * args.tiles_w + tx) * ch;
      for (int64_t c = 0; c < ch; c += V::kLanes) {
        Vec e[4][4];  // e[a] = row a of d·B
        TT_UNROLL(4)
        for (int64_t a = 0; a < 4; ++a) {
          const Vec in[4] = {V::load(d + a * row + c), V::load(d + a * row + ch + c),
                             V::load(d + a * row + 2 * ch + c), V::load(d + a * row + 3 * ch + c)};
          winograd_input_1d<V>(in, e[a]);
        }
        TT_UNROLL(4)
        for (int64_t nu = 0; nu < 4; ++nu) {  // column ν of Bᵀ·e
          const Vec in[4] = {e[0][nu], e[1][nu], e[2][nu], e[3][nu]};
          Vec out[4];
          winograd_input_1d<V>(in, out);
          TT_UNROLL(4)
          for (int64_t xi = 0; xi < 4; ++xi) V::store(v + (xi * 4 + nu) * plane + c, out[xi]);
        }
      }
    }
  }
}

// 1-D output transform, Aᵀ·(m0, m1, m2, m3) with Aᵀ = [1 1 1 0; 0 1 −1 −1].
template <typename V>
void winograd_output_1d(const typename V::Vec (&m)[4], typename V::Vec (&out)[2]) {
  out[0] = V::add(V::add(m[0], m[1]), m[2]);
  out[1] = V::sub(V::sub(m[1], m[2]), m[3]);
}

template <typename V>
void winograd_output(const WinogradTransformArgs& args) {
  using Vec = typename V::Vec;
  const int64_t ch = args.channels, tiles = args.tiles_h * args.tiles_w;
  const int64_t row = 2 * args.tiles_w * ch, plane = tiles * ch;  // floats
  for (int64_t ty = 0; ty < args.tiles_h; ++ty) {
    for (int64_t tx = 0; tx < args.tiles_w; ++tx) {
      const float* m = args.from + (ty * args.tiles_w + tx) * ch;
      float* y = args.to + 2 * ty * row + 2 * tx * ch;  // the tile's top-left output
      for (int64_t c = 0; c < ch; c += V::kLanes) {
        Vec s[2][4];  // s[i] = row i of Aᵀ·m
        TT_UNROLL(4)
        for (int64_t nu = 0; nu < 4; ++nu) {
          const Vec in[4] = {V::load(m + nu * plane + c), V::load(m + (4 + nu) * plane + c),
                             V::load(m + (8 + nu) * plane + c), V::load(m + (12 + nu) * plane + c)};
          Vec out[2];
          winograd_output_1d<V>(in, out);
          s[0][nu] = out[0];
          s[1][nu] = out[1];
        }
        TT_UNROLL(2)
        for (int64_t i = 0; i < 2; ++i) {
          Vec out[2];
          winograd_output_1d<V>(s[i], out);
          V::store(y + i * row + c, out[0]);
          V::store(y + i * row + ch + c, out[1]);
        }
      }
    }
  }
}

// 1-D adjoint of the output transform, A·(g0, g1): (g0, g0 + g1, g0 − g1, −g1).
template <typename V>
void winograd_output_grad_1d(const typename V::Vec (&g)[2], typename V::Vec (&out)[4]) {
  out[0] = g[0];
  out[1] = V::add(g[0], g[1]);
  out[2] = V::sub(g[0], g[1]);
  out[3] = V::sub(V::zero(), g[1]);
}

template <typename V>
void winograd_output_grad(const WinogradTransformArgs& args) {
  using Vec = typename V::Vec;
  const int64_t ch = args.channels, tiles = args.tiles_h * args.tiles_w;
  const int64_t row = 2 * args.tiles_w * ch, plane = tiles * ch;  // floats
  for (int64_t ty = 0; ty < args.tiles_h; ++ty) {
    for (int64_t tx = 0; tx < args.tiles_w; ++tx) {
      const float* g = args.from + 2 * ty * row + 2 * tx * ch;  // the tile's top-left gy
      float* dm = args.to + (ty * args.tiles_w + tx) * ch;
      for (int64_t c = 0; c < ch; c += V::kLanes) {
        Vec h[2][4];  // h[i] = row i of gy·Aᵀ
        TT_UNROLL(2)
        for (int64_t i = 0; i < 2; ++i) {
          const Vec in[2] = {V::load(g + i * row + c), V::load(g + i * row + ch + c)};
          winograd_output_grad_1d<V>(in, h[i]);
        }
        TT_UNROLL(4)
        for (int64_t nu = 0; nu < 4; ++nu) {  // column ν of A·h
          const Vec in[2] = {h[0][nu], h[1][nu]};
          Vec out[4];
          winograd_output_grad_1d<V>(in, out);
          TT_UNROLL(4)
          for (int64_t xi = 0; xi < 4; ++xi) V::store(dm + (xi * 4 + nu) * plane + c, out[xi]);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The layout copies (LayoutCopyArgs), in blocks of 8 channels x 8 positions transposed in
// registers: 8 loads, T::transpose8x8, 8 stores, where a value-by-value copy does a load and a
// store per value. T is vec_policy.h's Avx2 in both instruction sets' files. The H·W positions
// are taken in flat order j = h·W + w, so a block may span two image rows; each position's
// channels-last address is worked out once per block of positions and serves every block of
// channels. The last H·W mod 8 positions and C mod 8 channels are copied value by value.
// ---------------------------------------------------------------------------------------------

// The channels-last offsets of flat positions j0 ... j0 + 7. (A template, as everything here, so
// that each instruction set's file compiles its own copy.)
template <typename T>
void channels_last_offsets(const LayoutCopyArgs& args, int64_t j0, int64_t (&at)[8]) {
  int64_t h = j0 / args.width, w = j0 % args.width;
  for (int64_t i = 0; i < 8; ++i) {
    at[i] = (h * args.row + w) * args.ld;
    if (++w == args.width) {
      w = 0;
      ++h;
    }
  }
}

// Calls copy(c, j, offset) for every value the 8 x 8 blocks leave: channel c at flat position j,
// whose channels-last offset is `offset`.
template <typename Copy>
void copy_block_remainders(const LayoutCopyArgs& args, const Copy& copy) {
  const int64_t C = args.channels, HW = args.height * args.width;
  const int64_t full_c = C / 8 * 8, full_j = HW / 8 * 8;
  for (int64_t j = 0; j < HW; ++j) {
    const int64_t offset = (j / args.width * args.row + j % args.width) * args.ld;
    for (int64_t c = j < full_j ? full_c : 0; c < C; ++c) copy(c, j, offset);
  }
}

template <typename T>
void to_channels_last(const LayoutCopyArgs& args) {
  const int64_t C = args.channels, HW = args.height * args.width;
  for (int64_t j0 = 0; j0 + 8 <= HW; j0 += 8) {
    int64_t at[8];
    channels_last_offsets<T>(args, j0, at);
    for (int64_t c0 = 0; c0 + 8 <= C; c0 += 8) {
      typename T::Vec r[8];  // r[i]: channel c0 + i at positions j0 ... j0 + 7, then transposed
      TT_UNROLL(8)
      for (int64_t i = 0; i < 8; ++i) r[i] = T::load(args.from + (c0 + i) * HW + j0);
      T::transpose8x8(r);
      TT_UNROLL(8)
      for (int64_t i = 0; i < 8; ++i) T::store(args.to + at[i] + c0, r[i]);
    }
  }
  copy_block_remainders(args, [&](int64_t c, int64_t j, int64_t offset) {
    args.to[offset + c] = args.from[c * HW + j];
  });
}

template <typename T>
void to_channels_first(const LayoutCopyArgs& args) {
  const int64_t C = args.channels, HW = args.height * args.width;
  for (int64_t j0 = 0; j0 + 8 <= HW; j0 += 8) {
    int64_t at[8];
    channels_last_offsets<T>(args, j0, at);
    for (int64_t c0 = 0; c0 + 8 <= C; c0 += 8) {
      const typename T::Vec bias = args.bias != nullptr ? T::load(args.bias + c0) : T::zero();
      typename T::Vec r[8];  // r[i]: position j0 + i, channels c0 ... c0 + 7, then transposed
      TT_UNROLL(8)
      for (int64_t i = 0; i < 8; ++i) r[i] = T::add(T::load(args.from + at[i] + c0), bias);
      T::transpose8x8(r);
      TT_UNROLL(8)
      for (int64_t i = 0; i < 8; ++i) T::store(args.to + (c0 + i) * HW + j0, r[i]);
    }
  }
  copy_block_remainders(args, [&](int64_t c, int64_t j, int64_t offset) {
    args.to[c * HW + j] = args.from[offset + c] + (args.bias != nullptr ? args.bias[c] : 0.0f);
  });
}

// y[k·ldy + j] += bias[k] for k < rows, j < len (DirectConvKernel::add_bias): one broadcast per
// row, kLanes values per step, the row's last ones with a partial vector.
template <typename T>
void add_bias(int64_t rows, int64_t len, const float* bias, float* y, int64_t ldy) {
  for (int64_t k = 0; k < rows; ++k) {
    const typename T::Vec b = T::set1(bias[k]);
    float* row = y + k * ldy;
    int64_t j = 0;
    for (; j + T::kLanes <= len; j += T::kLanes) T::store(row + j, T::add(T::load(row + j), b));
    if (j < len) {
      T::store_partial(row + j, len - j, T::add(T::load_partial(row + j, len - j, 0.0f), b));
    }
  }
}

// even[i] = in[2i] and odd[i] = in[2i + 1] for the n values in[0 .. n): ⌈n/2⌉ and ⌊n/2⌋ of them
// (DirectConvKernel::deinterleave). Two vectors of the row per step, split by V::deinterleave;
// the row's last values with partial loads and stores, so nothing past in[n − 1], even[⌈n/2⌉ − 1]
// or odd[⌊n/2⌋ − 1] is touched.
template <typename T>
void deinterleave(const float* in, int64_t n, float* even, float* odd) {
  constexpr int64_t L = T::kLanes;
  int64_t i = 0;  // values of each half done; in[2i] is next
  typename T::Vec e, o;
  for (; 2 * i + 2 * L <= n; i += L) {
    T::deinterleave(T::load(in + 2 * i), T::load(in + 2 * i + L), e, o);
    T::store(even + i, e);
    T::store(odd + i, o);
  }
  const int64_t left = n - 2 * i;  // < 2L
  if (left <= 0) return;
  T::deinterleave(T::load_partial(in + 2 * i, left < L ? left : L, 0.0f),
                  left > L ? T::load_partial(in + 2 * i + L, left - L, 0.0f) : T::zero(), e, o);
  T::store_partial(even + i, (left + 1) / 2, e);
  if (left / 2 > 0) T::store_partial(odd + i, left / 2, o);
}

// to[(k·P + p)·Q + q] = from[k·ldo + p·Wp + q] (+ bias[k]) for k < channels, p < P, q < Q: the
// first Q of every Wp positions the direct kernel computed, kept (DirectConvKernel::keep_rows).
template <typename T>
void keep_rows(const KeepRowsArgs& args) {
  const int64_t Q = args.width;
  for (int64_t k = 0; k < args.channels; ++k) {
    const typename T::Vec b = T::set1(args.bias != nullptr ? args.bias[k] : 0.0f);
    for (int64_t p = 0; p < args.height; ++p) {
      const float* from = args.from + k * args.ld + p * args.row;
      float* to = args.to + (k * args.height + p) * Q;
      int64_t q = 0;
      for (; q + T::kLanes <= Q; q += T::kLanes) T::store(to + q, T::add(T::load(from + q), b));
      if (q < Q) {
        T::store_partial(to + q, Q - q, T::add(T::load_partial(from + q, Q - q, 0.0f), b));
      }
    }
  }
}

}  // namespace tinytorch::kernels::spatial
