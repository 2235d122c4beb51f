// The fast tier's spatial kernels (kernels/spatial.h): convolution, max pooling and batch norm,
// float32, NCHW, threaded with parallel_for.
//
// Convolution takes one of three paths:
//   * direct (stride 1, not 1×1, on CPUs with AVX2 or AVX-512): a SIMD kernel reads each tap's
//     inputs straight from a zero-padded copy of the image, with no im2col (see "The direct
//     convolution" below) — forward, input gradient and weight gradient; at stride 2 (not 1×1)
//     the forward and the weight gradient too, on the image split into phase planes;
//   * Winograd F(2×2, 3×3) (3×3 stride-1 layers where it counts fewer operations than the
//     direct kernels; see "The Winograd convolution" below), on the same CPUs;
//   * im2col + gemm_fast (everything else: other strides, the stride-2 input gradient, 1×1
//     convs, the portable level, a large single image on several threads), described here; where an
//     image's output is smaller than the kernel's taps (P·Q < C_g·R·S), a block of images runs as
//     one GEMM (see "Blocks of images"), and where the taps are few (C_g·R·S within one
//     channels-last block), the input and weight gradients run on the channels-last kernels instead
//     (see few_rows_kernel_for).
//
// Convolution as GEMM. For one image n and one group g (C_g = C / groups input channels, K_g =
// K / groups output channels), the convolution is one matrix product:
//
//   y[n, g] [K_g, P·Q] = w[g] [K_g, C_g·R·S] · col [C_g·R·S, P·Q]   (+ b[k] on row k)
//
//   col[(c·R + r)·S + t][p·Q + q] = x[n, g·C_g + c, p·stride_h − pad_h + r·dil_h,
//                                                  q·stride_w − pad_w + t·dil_w]   (0 outside)
//
// col ("im2col") holds every input pixel once per kernel tap that reads it: R·S times the input
// for a stride-1 conv. For 32 → 32 channels 3×3 at 28×28 that is 288 × 784 floats (882 KiB) per
// image, for a batch of 128 110 MiB. So it is never built for the whole batch: each thread builds
// it for one image (or a block of small ones) at a time, and at most kColumnBudget floats of it (a
// band of output rows) at a time, in a buffer of its own that stays in its core's L2 while the
// GEMM reads it.
//
// The three kernels are the three products of that one equation (GEMM sizes M x N x K):
//   forward           y[n]  = w · col(x[n])            K_g x P·Q x C_g·R·S
//   backward input    gx[n] = col2im(wᵀ · gy[n])       C_g·R·S x P·Q x K_g
//   backward weight   gw    = Σ_n gy[n] · col(x[n])ᵀ   K_g x C_g·R·S x P·Q
// col2im is im2col's adjoint: it adds every column entry back onto the input pixel it came from.
// A 1×1 stride-1 unpadded conv needs neither: col(x[n]) is x[n] itself, a [C_g, H·W] matrix.
//
// Non-finite values. The direct and Winograd paths multiply zeros into the other operand where the
// reference tier (and PyTorch) never form that product at all: the zero padding of the padded
// grid, and for the weight gradient also the positions of gy's grid the forward drops. A zero
// times a finite value is 0, so for finite data the results agree; but 0 · ∞ is NaN: one inf
// weight would turn the input gradient along the padding into NaN, and one inf pixel the weight
// gradients of taps that never read it. Winograd adds more: its transforms add and subtract inputs
// (V = Bᵀ·d·B mixes the 16 values of a tile, dg = Gᵀ·dU·G mixes the 16 transformed positions
// into every tap), so an inf becomes ∞ − ∞ = NaN in sums whose exact value does not depend on it
// — an inf pixel reaches all nine taps of the weight gradient, where the direct sum reaches only
// the taps that read it. Both paths are exact only for finite operands, so they run only where
// the operand meeting their zeros is finite:
//   input gradient    the weights are checked first (K·C_g·R·S floats): not all finite → im2col;
//   weight gradient   the sum is checked after (the same few floats): not all finite → done
//                     again on the im2col path, whose products are the reference tier's.
// The forward needs neither: the reference tier's im2col multiplies its padding zeros too, and
// Winograd's output transform only mixes values of outputs that all read the input concerned.
// What the tests check on both tiers, as PyTorch behaves: one inf weight reaches only the
// input-gradient entries whose sums hold it, and one inf pixel only the weight-gradient taps that
// read it; every other entry stays finite. Which non-finite value (inf or NaN) those entries get
// is not specified. (An inf in gy itself meets im2col's padding zeros in the weight gradient, on
// the reference tier too.)
//
// Threads (both paths): a batch is split over the threads by images (parallel_for), each image
// running on its thread (gemm_fast runs serially inside a parallel region). A single image is
// left to gemm_fast, which splits one product over the threads when it is large enough. The
// weight gradient sums over the images: each of a fixed number of batch chunks sums its images
// into a partial gradient of its own, and the partials are added in chunk order — the same
// result whichever thread ran which chunk.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <vector>

#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/spatial.h"

// The direct convolution's SIMD kernels (spatial_avx2.cpp, spatial_avx512.cpp) are built only for
// x86, and then tinytorch/CMakeLists.txt defines TINYTORCH_GEMM_X86 here.
#ifdef TINYTORCH_GEMM_X86
#include "spatial_kernels.h"
#endif
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "plane_sums.h"

namespace tinytorch::kernels {
namespace {

// At most this many floats of col per thread (1 MiB: Zen 4/5's L2 per core).
constexpr int64_t kColumnBudget = int64_t{1} << 18;
#ifdef TINYTORCH_GEMM_X86
// The direct weight-gradient kernel sweeps all the images of one call once per tile of (channel,
// tap) pairs, so they should stay in L2 (at most this many floats, half of Zen 4/5's 1 MiB, and
// at most kMaxImagesPerCall images); each call ends with one sum across the lanes per pair.
constexpr int64_t kWeightGradBudget = int64_t{1} << 17;
constexpr int64_t kMaxImagesPerCall = 64;
// The Winograd convolution holds one image's transforms, 16 values per tile and channel (4 times
// its input and output), at most this many floats (8 MiB); larger images take the direct path.
// Its weight gradient transforms enough images per call for kWinogradTiles tiles (see
// conv2d_backward_weight_fast), within the same budget.
constexpr int64_t kWinogradBudget = int64_t{1} << 21;
constexpr int64_t kWinogradTiles = 256;
#endif

constexpr int64_t ceil_div(int64_t x, int64_t y) {
  return (x + y - 1) / y;
}

// Whether every one of `count` floats is finite (an exponent field of all ones is an inf or a
// NaN). Integer bit tests, so that the loop vectorises without -ffast-math.
bool all_finite(const float* v, int64_t count) {
  uint32_t non_finite = 0;
  for (int64_t i = 0; i < count; ++i) {
    non_finite |= (~std::bit_cast<uint32_t>(v[i]) & 0x7f800000u) == 0 ? 1u : 0u;
  }
  return non_finite == 0;
}

// Growable per-thread float buffers (kSlot tells two apart): steady-state calls never allocate.
// 64-byte aligned, so that rows whose length is a multiple of 16 floats start on a cache line.
template <int kSlot = 0>
float* thread_buffer(int64_t count) {
  static constexpr std::align_val_t kAlignment{64};
  struct Free {
    void operator()(float* p) const { ::operator delete(p, kAlignment); }
  };
  thread_local std::unique_ptr<float, Free> data;
  thread_local int64_t capacity = 0;
  if (count > capacity) {
    data.reset(static_cast<float*>(
        ::operator new(static_cast<size_t>(count) * sizeof(float), kAlignment)));
    capacity = count;
  }
  return data.get();
}

// The sizes derived from a Conv2dShape, per group.
struct ConvGeometry {
  int64_t C_g, K_g, HW, PQ, CRS;
  bool pointwise;  // 1×1, stride 1, no padding: col(x[n]) is x[n] itself

  explicit ConvGeometry(const Conv2dShape& s)
      : C_g(s.in_channels / s.groups),
        K_g(s.out_channels / s.groups),
        HW(s.in_h * s.in_w),
        PQ(s.out_h * s.out_w),
        CRS(C_g * s.kernel_h * s.kernel_w),
        pointwise(s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 &&
                  s.pad_h == 0 && s.pad_w == 0) {}

  // Output rows per band of col: as many as fit kColumnBudget, at least one.
  int64_t band_rows(const Conv2dShape& s) const {
    return std::max<int64_t>(
        1, std::min(s.out_h, kColumnBudget / std::max<int64_t>(CRS * s.out_w, 1)));
  }

  // The most images whose columns the im2col path lays side by side (see "Blocks of images"
  // below): as many as fit kColumnBudget together where an image has fewer columns (P·Q) than
  // rows (C_g·R·S); else 1, as when one image fills the budget (band_rows then cuts it into bands)
  // and for a pointwise conv, which builds no col.
  int64_t block_images() const {
    if (pointwise || PQ >= CRS) return 1;
    return std::max<int64_t>(1, kColumnBudget / (CRS * PQ));
  }
};

// Along one axis: output positions o in [lo, hi) read input position o·stride + offset inside
// [0, size); the others read padding. (offset = tap·dilation − pad.)
struct ValidRange {
  int64_t lo, hi;
  ValidRange(int64_t offset, int64_t stride, int64_t size, int64_t out) {
    lo = std::min(out, offset >= 0 ? 0 : ceil_div(-offset, stride));
    hi = std::clamp<int64_t>(size - offset <= 0 ? 0 : ceil_div(size - offset, stride), lo, out);
  }
};

// The valid ranges of a convolution's kernel taps (ValidRange): rows[r] the output rows that tap
// row r reads inside the image, cols[t] the output columns that tap column t does.
struct TapRanges {
  std::vector<ValidRange> rows, cols;
  explicit TapRanges(const Conv2dShape& s) {
    for (int64_t r = 0; r < s.kernel_h; ++r) {
      rows.emplace_back(r * s.dilation_h - s.pad_h, s.stride_h, s.in_h, s.out_h);
    }
    for (int64_t t = 0; t < s.kernel_w; ++t) {
      cols.emplace_back(t * s.dilation_w - s.pad_w, s.stride_w, s.in_w, s.out_w);
    }
  }
};

// out[q] = in[q·stride] for q in [lo, hi). With the stride a constant (kStride > 0) the compiler
// vectorizes the loop (for a stride of 2: two vectors loaded, their even lanes shuffled into
// one); with a stride known only at run time it copies a value at a time, which made im2col's
// strided rows 60% of a stride-2 3×3 convolution (docs/engineering/09_spatial.md).
template <int64_t kStride = 0>
void strided_copy(const float* in, int64_t lo, int64_t hi, float* out, int64_t stride = kStride) {
  const int64_t step = kStride > 0 ? kStride : stride;
  for (int64_t q = lo; q < hi; ++q) out[q] = in[q * step];
}

// out[2q] += in[q] for q in [lo, hi): col2im's stride-2 rows, im2col's strided_copy<2> in reverse.
// A loop the compiler leaves scalar (it will not store the odd values it never wrote), which made
// col2im ~40% of a stride-2 3×3 convolution's input gradient. With SSE2 (every x86-64 has it)
// four at a time: the four values, interleaved with −0.0, added onto two vectors of out — the odd
// values get + (−0.0), which changes no value (−0 + −0 = −0, +0 + −0 = +0, NaN stays NaN). Only
// odd values between two of the even ones touched: the loop never reads or writes past the last.
void strided_add2(const float* in, int64_t lo, int64_t hi, float* out) {
  int64_t q = lo;
#ifdef __SSE2__
  const __m128 unchanged = _mm_set1_ps(-0.0f);
  for (; q + 4 < hi; q += 4) {  // out[2q ... 2q + 7]; 2q + 8 is still to come
    const __m128 v = _mm_loadu_ps(in + q);
    float* o = out + 2 * q;
    _mm_storeu_ps(o, _mm_add_ps(_mm_loadu_ps(o), _mm_unpacklo_ps(v, unchanged)));
    _mm_storeu_ps(o + 4, _mm_add_ps(_mm_loadu_ps(o + 4), _mm_unpackhi_ps(v, unchanged)));
  }
#endif
  for (; q < hi; ++q) out[2 * q] += in[q];
}

// col [C_g·R·S, images·(p1 − p0)·Q] = the im2col bands of output rows [p0, p1) of `images`
// images and a group, x + i·image_stride [C_g, H, W] for image i, side by side: image i's at
// i·(p1 − p0)·Q of every row. Column j of row m goes to col[m·ld + j·cs]: cs = 1 for the GEMM's
// layout (ld at least images·(p1 − p0)·Q), ld = 1 for its transpose.
void im2col(const Conv2dShape& s, int64_t channels, int64_t images, const float* x,
            int64_t image_stride, int64_t p0, int64_t p1, float* col, int64_t ld, int64_t cs) {
  const int64_t H = s.in_h, W = s.in_w, Q = s.out_w, cols = (p1 - p0) * Q;
  const TapRanges ranges(s);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t r = 0; r < s.kernel_h; ++r) {
      const ValidRange& ps = ranges.rows[static_cast<size_t>(r)];
      for (int64_t t = 0; t < s.kernel_w; ++t) {
        const ValidRange& qs = ranges.cols[static_cast<size_t>(t)];
        const int64_t w_offset = t * s.dilation_w - s.pad_w;
        float* row = col + ((c * s.kernel_h + r) * s.kernel_w + t) * ld;  // [images, p1 − p0, Q]
        for (int64_t i = 0; i < images; ++i) {
          const float* plane = x + i * image_stride + c * H * W;  // [H, W]
          for (int64_t p = p0; p < p1; ++p) {
            float* out = row + (i * cols + (p - p0) * Q) * cs;  // out[q·cs] for q < Q
            const bool inside = p >= ps.lo && p < ps.hi;
            const int64_t h = p * s.stride_h - s.pad_h + r * s.dilation_h;
            const float* in = plane + h * W + w_offset;  // in[q·stride_w] for q in [qs.lo, qs.hi)
            if (cs != 1) {  // one pass, zeros included: a transposed layout's column
              for (int64_t q = 0; q < Q; ++q) {
                out[q * cs] = inside && q >= qs.lo && q < qs.hi ? in[q * s.stride_w] : 0.0f;
              }
            } else if (!inside) {
              std::fill(out, out + Q, 0.0f);
            } else {  // the padding's zeros, then the row's pixels: a copy, or every stride_w-th
              std::fill(out, out + qs.lo, 0.0f);
              if (s.stride_w == 1) {
                std::memcpy(out + qs.lo, in + qs.lo,
                            static_cast<size_t>(qs.hi - qs.lo) * sizeof(float));
              } else if (s.stride_w == 2) {  // ResNet-8's stride-2 convolutions
                strided_copy<2>(in, qs.lo, qs.hi, out);
              } else {
                strided_copy(in, qs.lo, qs.hi, out, s.stride_w);
              }
              std::fill(out + qs.hi, out + Q, 0.0f);
            }
          }
        }
      }
    }
  }
}

// x + i·image_stride [C_g, H, W] += col2im(col [C_g·R·S, images·(p1 − p0)·Q]) for each image i
// (its columns at i·(p1 − p0)·Q of every row, as im2col lays them; column j of row m at
// col[m·ld + j·cs]: cs = 1 for im2col's layout, ld = 1 for its transpose): im2col's adjoint, each
// entry added back onto the pixel it was copied from (padding entries are dropped).
void col2im_add(const Conv2dShape& s, int64_t channels, int64_t images, const float* col,
                int64_t p0, int64_t p1, int64_t ld, int64_t cs, float* x, int64_t image_stride) {
  const int64_t H = s.in_h, W = s.in_w, Q = s.out_w, cols = (p1 - p0) * Q;
  const TapRanges ranges(s);
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t r = 0; r < s.kernel_h; ++r) {
      const ValidRange& ps = ranges.rows[static_cast<size_t>(r)];
      for (int64_t t = 0; t < s.kernel_w; ++t) {
        const ValidRange& qs = ranges.cols[static_cast<size_t>(t)];
        const int64_t w_offset = t * s.dilation_w - s.pad_w;
        const float* row = col + ((c * s.kernel_h + r) * s.kernel_w + t) * ld;
        for (int64_t i = 0; i < images; ++i) {
          float* plane = x + i * image_stride + c * H * W;
          for (int64_t p = std::max(p0, ps.lo); p < std::min(p1, ps.hi); ++p) {
            const int64_t h = p * s.stride_h - s.pad_h + r * s.dilation_h;
            const float* in = row + (i * cols + (p - p0) * Q) * cs;
            float* out = plane + h * W + w_offset;  // out[q·stride_w] for q in [qs.lo, qs.hi)
            if (s.stride_w == 1 && cs == 1) {
              for (int64_t q = qs.lo; q < qs.hi; ++q) out[q] += in[q];
            } else if (s.stride_w == 2 && cs == 1) {  // ResNet-8's stride-2 convolutions
              strided_add2(in, qs.lo, qs.hi, out);
            } else {
              for (int64_t q = qs.lo; q < qs.hi; ++q) out[q * s.stride_w] += in[q * cs];
            }
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Blocks of images (the im2col path). One image's product is a poor GEMM where its output is
// small: a 4×4 output has P·Q = 16 columns, half of an AVX-512 micro-tile's 32, and the weight
// (K_g x C_g·R·S) is packed again for every 16 columns; the weight gradient's sum over those 16
// positions is a product of depth 16, whose micro-tiles load and store C every 16 multiply-adds.
// So the im2col path takes a block of images at once, their columns side by side,
//
//   col [C_g·R·S, images·P·Q]     image i's columns at i·P·Q of every row (im2col's ld)
//
// and runs one GEMM per block: y [K_g, images·P·Q] = w · col, then scattered into each y[n]
// [K_g, P·Q]; gy gathered from each gy[n] into [K_g, images·P·Q] for the input gradient (dcol =
// wᵀ · gy, then col2im per image) and the weight gradient (gw += gy · colᵀ, of depth images·P·Q).
// The copies move K_g·P·Q values per image; what a block saves is packing the weight (K_g·C_g·R·S
// values) once per image, and the micro-tiles' unused columns. So blocks are taken only where an
// image has fewer columns than the weight has taps (P·Q < C_g·R·S); a 64 → 1 channel 4×4 kernel
// at 14×14 (P·Q = 196, 16 taps) runs image by image, as its copy would cost more than it saves. A
// block holds as many images as fit kColumnBudget (ConvGeometry::block_images); a batch is cut
// into blocks of even sizes, as many as a multiple of the threads when they are split over them.
// ---------------------------------------------------------------------------------------------

// The images per run when `count` images are cut into the fewest runs of at most `most` images,
// their number rounded up to a multiple of `multiple` (but at most `count`), of even sizes.
int64_t run_length(int64_t count, int64_t most, int64_t multiple) {
  const int64_t runs = ceil_div(ceil_div(count, most), multiple) * multiple;
  return ceil_div(count, std::clamp<int64_t>(runs, 1, count));
}

// run(n0, n1) for the runs of images [first, end) of at most `most` images, of even sizes, in
// order.
template <typename F>
void for_each_run(int64_t first, int64_t end, int64_t most, const F& run) {
  if (end <= first) return;
  const int64_t length = run_length(end - first, most, 1);
  for (int64_t n0 = first; n0 < end; n0 += length) run(n0, std::min(end, n0 + length));
}

// dst [rows, images·len] = the images [rows, len] at src + i·stride (i < images): each image's
// len values of a row side by side.
void gather_block(int64_t images, int64_t rows, int64_t len, int64_t stride, const float* src,
                  float* dst) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < images; ++i) {
      std::memcpy(dst + (r * images + i) * len, src + i * stride + r * len,
                  static_cast<size_t>(len) * sizeof(float));
    }
  }
}

// gather_block's inverse: the images [rows, len] at dst + i·stride = src [rows, images·len], plus
// bias[r] (when given) on row r.
void scatter_block(int64_t images, int64_t rows, int64_t len, int64_t stride, const float* src,
                   const float* bias, float* dst) {
  for (int64_t r = 0; r < rows; ++r) {
    const float add = bias != nullptr ? bias[r] : 0.0f;
    for (int64_t i = 0; i < images; ++i) {
      const float* from = src + (r * images + i) * len;
      float* to = dst + i * stride + r * len;
      for (int64_t j = 0; j < len; ++j) to[j] = from[j] + add;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The direct convolution (stride 1): no im2col. The image is copied, with its zero padding, into
// Hp x Wp planes, and a SIMD kernel reads each tap's input straight from them (see DirectConvArgs
// in spatial_kernels.h):
//
//   padded plane (Hp x Wp), output position j = p·Wp + q        out[k][j], j < J = (P−1)·Wp + Q
//   . . . . .                                                    ┌─── Q ───┐
//   . x x x x     tap (r, t) of output j reads                   o o o o o ?   ← row p: the
//   . x x x x     plane[j + r·dil_h·Wp + t·dil_w]:               o o o o o ?     Wp − Q last
//   . . . . .     one offset per tap, for every j                                are dropped
//   (a row's right padding is the next row's left padding: Wp = W + pad_w, see PaddedGrid)
//
// For every tap consecutive outputs read consecutive inputs, so the kernel's vector loads take
// 16 outputs' inputs at once, and the whole weight tile stays in registers' reach. The cost is the
// dropped positions: Q / Wp of the work is kept (28 / 30 for LeNet's first layer, 28 / 29 for a
// 3×3 pad-1 layer at 28×28), against im2col's R·S-fold copy of the input and the GEMM's packing.
// Where much more is dropped (49 of 64 kept at 7×7), the kernels that put the channels in the
// lanes instead compute the kept positions only (ChannelConvArgs; PaddedGrid::channels_last).
// Where Q is a whole number of the kernel's tiles (32 × 32 outputs on AVX-512), nothing is
// dropped: the kernel runs row by row, each row's Q outputs written straight into y
// (PaddedGrid::row_tile).
//
// A stride-2 convolution reads every other row and column: the grid becomes four phase planes
// per channel, the padded image's (even rows, even columns), (even, odd), (odd, even) and (odd,
// odd) positions, each ⌈Hp/2⌉ x ⌈Wp/2⌉ (Wp here the full padded width W + 2·pad_w):
//
//   padded image          phase (a, b) = rows a, a+2, …, columns b, b+2, …
//   0 1 0 1 0 1           output (p, q)'s tap (r, t) reads padded (2p + r, 2q + t) = phase
//   2 3 2 3 2 3           (r mod 2, t mod 2) at (p + r div 2, q + t div 2): again one offset
//   0 1 0 1 0 1           per tap for every output j = p·Wp' + q, consecutive inputs for
//   2 3 2 3 2 3           consecutive outputs, on the same kernels (the forward and the
//                         weight gradient; the input gradient takes im2col's col2im, below)
//
// so a 3×3 stride-2 layer does its 9 taps per channel on the direct kernels instead of an im2col
// copy of 9 rows per channel and a GEMM of 16 to 64 output rows (ResNet's downsampling layers).
//
// The input gradient of a stride-1 convolution is itself one: gy, padded by dil·(R−1) − pad, with
// the kernel flipped and its channel axes swapped,
//
//   gx[c, h, w] = Σ_{k, r, t} gy[k, h + pad_h − r·dil_h, w + pad_w − t·dil_w] · w[k, c, r, t]
//               = Σ_{k, r', t'} gy_padded[k, h + r'·dil_h, w + t'·dil_w] · w[k, c, R−1−r', S−1−t']
//
// (r' = R−1−r), so both run on the same kernel.
// ---------------------------------------------------------------------------------------------
#ifdef TINYTORCH_GEMM_X86
using spatial::DirectConvKernel;
using spatial::DirectConvTile;

// The direct kernel this CPU runs (taken only after checking the CPU), or nullptr.
const DirectConvKernel* direct_kernel() {
  switch (get_cpu_capability()) {
    case CpuCapability::kAvx512: {
      static const DirectConvKernel kernel = spatial::direct_conv_avx512();
      return &kernel;
    }
    case CpuCapability::kAvx2: {
      static const DirectConvKernel kernel = spatial::direct_conv_avx2();
      return &kernel;
    }
    case CpuCapability::kDefault:
      break;
  }
  return nullptr;
}

// The padded grid of one convolution of C-channel H x W images, stride 1 or 2 (phase planes, see
// above), and the offset of each tap (c, r, t) on it (see DirectConvArgs).
class PaddedGrid {
 public:
  PaddedGrid(const DirectConvKernel& kernel, int64_t C, int64_t H, int64_t W, int64_t pad_h,
             int64_t pad_w, int64_t R, int64_t S, int64_t dil_h, int64_t dil_w, int64_t stride = 1)
      : C(C),
        H(H),
        W(W),
        pad_h(pad_h),
        pad_w(pad_w),
        stride(stride),
        Hp(stride == 1 ? H + 2 * pad_h : ceil_div(H + 2 * pad_h, 2)),
        P((H + 2 * pad_h - dil_h * (R - 1) - 1) / stride + 1),
        Q((W + 2 * pad_w - dil_w * (S - 1) - 1) / stride + 1),
        Wp(stride == 1 ? std::max(W + pad_w, Q) : ceil_div(W + 2 * pad_w, 2)),
        J((P - 1) * Wp + Q),
        tile(ceil_div(J, kernel.narrow.nr) * kernel.narrow.nr <
                     ceil_div(J, kernel.wide.nr) * kernel.wide.nr
                 ? kernel.narrow
                 : kernel.wide),
        ldo(ceil_div(J, tile.nr) * tile.nr),
        row_tile(Q % kernel.wide.nr == 0     ? &kernel.wide
                 : Q % kernel.narrow.nr == 0 ? &kernel.narrow
                                             : nullptr),
        offsets(static_cast<size_t>(C * R * S)),
        deinterleave(kernel.deinterleave) {
    const int64_t phases = stride * stride;  // planes per channel
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t r = 0; r < R; ++r) {
        for (int64_t t = 0; t < S; ++t) {
          // The tap's padded position relative to the output's (stride·p, stride·q): its phase
          // plane and its place there.
          const int64_t h = r * dil_h, w = t * dil_w;
          const int64_t phase = (h % stride) * stride + w % stride;
          offsets[static_cast<size_t>((c * R + r) * S + t)] =
              (c * phases + phase) * Hp * Wp + h / stride * Wp + w / stride;
        }
      }
    }
    // The planes (all of them written by pad, even a phase no tap reads, as with a dilation of
    // 2), and whatever the last tap reads of the positions the kernels compute.
    const int64_t last = offsets.empty() ? 0 : *std::max_element(offsets.begin(), offsets.end());
    size = std::max(C * phases * Hp * Wp, last + ldo);
  }

  // dst [size] = src [C, H, W] on the grid: the planes, then zeros up to the last value the
  // kernels read (for positions they compute and drop).
  //
  // NOTE: all of dst is zeroed first (one memset), then the image's rows copied in: rows of a few
  // values each (8 on a 16×16 image's phase planes), where zeroing each row's edges on its own
  // (two memset calls per row) cost more than the copy (a third of a stride-2 layer's forward).
  void pad(const float* src, float* dst) const {
    std::fill(dst, dst + size, 0.0f);
    if (stride == 2) return pad_phases(src, dst);
    const int64_t plane = Hp * Wp;
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t h = 0; h < H; ++h) {
        std::memcpy(dst + c * plane + (pad_h + h) * Wp + pad_w, src + (c * H + h) * W,
                    static_cast<size_t>(W) * sizeof(float));
      }
    }
  }

  // pad's stride-2 layout: phase (a, b) of channel c at (4c + 2a + b)·Hp·Wp holds the padded
  // image's position (2i + a, 2j + b) at i·Wp + j (zero where that is padding). Source row h goes
  // to row i = (h + pad_h) / 2 of phases (a, 0) and (a, 1), a = (h + pad_h) mod 2, each column w
  // to phase b = (w + pad_w) mod 2 at j = (w + pad_w) / 2 (< Wp: the whole row has a place):
  //
  //   source row   w:  0  1  2  3  4 …       pad_w = 1: the odd columns (w + 1 even) go to phase
  //   phase b = 0  j:  .  0  .  1  .  2 …    b = 0 from j = 1 (j = 0 is the left padding), the
  //   phase b = 1  j:  0  .  1  .  2  . …    even ones to phase b = 1 from j = 0
  //
  // so each row is one deinterleave into the two phases: the even columns to phase pad_w mod 2
  // from j = pad_w / 2, the odd ones to the other from j = (pad_w + 1) / 2.
  void pad_phases(const float* src, float* dst) const {
    const int64_t plane = Hp * Wp;
    const int64_t even_phase = pad_w % 2, even_at = pad_w / 2, odd_at = (pad_w + 1) / 2;
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t h = 0; h < H; ++h) {
        const int64_t a = (h + pad_h) % 2, i = (h + pad_h) / 2;
        float* row = dst + (c * 4 + a * 2) * plane + i * Wp;  // phase (a, 0); (a, 1) a plane on
        deinterleave(src + (c * H + h) * W, W, row + even_phase * plane + even_at,
                     row + (1 - even_phase) * plane + odd_at);
      }
    }
  }

  // Whether K output channels take the channels-last kernels on this grid. The two layouts'
  // multiply-adds per tap:
  //   positions in the lanes   K rounded up to mr channels × ldo (J rounded up to the tile width:
  //                            every grid position, the Wp − Q dropped ones of each row included;
  //                            P·Q where the rows are whole tiles, see row_tile)
  //   channels in the lanes    K rounded up to the lanes × P·Q (only the kept positions)
  // 32 → 64 channels at 14×14 (grid 15 wide): 64 × 224 against 64 × 196; at 7×7 (grid 8 wide):
  // 128 × 64 against 128 × 49. But the channels-last kernels' caller also transposes a
  // [P·Q, K] matrix, one scalar copy per element: counted as 2·lanes more taps, it keeps a
  // one-channel input (9 taps) on the positions-in-lanes kernels. (No output position, as for the
  // input gradient of an empty image: nothing for either to do, and the first does it.)
  bool channels_last(const DirectConvKernel& kernel, int64_t K) const {
    return P * Q > 0 && channels_last_cost(kernel, K) < positions_cost(kernel, K);
  }

  // The multiply-adds per image of the layout channels_last picks (see WinogradGrid::cost).
  int64_t cost(const DirectConvKernel& kernel, int64_t K) const {
    return channels_last(kernel, K) ? channels_last_cost(kernel, K) : positions_cost(kernel, K);
  }

  // [P·Q]: each output position's offset on the grid, p·Wp + q (the channels-last kernels' bases).
  std::vector<int64_t> kept_positions() const {
    std::vector<int64_t> bases;
    bases.reserve(static_cast<size_t>(P * Q));
    for (int64_t p = 0; p < P; ++p) {
      for (int64_t q = 0; q < Q; ++q) bases.push_back(p * Wp + q);
    }
    return bases;
  }

  const int64_t C, H, W, pad_h, pad_w, stride;
  const int64_t Hp;    // the grid's rows (stride 2: a phase plane's)
  const int64_t P, Q;  // the output
  // The grid's row length. At stride 1, row h's data sits at pad_w ... pad_w + W − 1, and the
  // Wp − W >= pad_w zeros after it are both its right padding and the next row's left padding,
  // so a row needs only W + pad_w values, not W + 2·pad_w: fewer positions to drop (a 3×3 pad-1
  // conv at 14×14 keeps 14 of 15 rather than 14 of 16). At stride 2, a phase plane's row: half
  // the fully padded row, rounded up (16 of 17 kept for a 3×3 pad-1 layer at 32×32).
  const int64_t Wp;
  const int64_t J;  // the positions the kernel computes: j < J
  // The kernel's tile width that computes fewer positions past J, and J rounded up to it.
  const DirectConvTile tile;
  const int64_t ldo;
  // A tile whose width divides Q, or nullptr: then each output row is a whole number of tiles,
  // which the kernel can write straight into the output (see DirectConv::run).
  const DirectConvTile* row_tile;
  std::vector<int64_t> offsets;  // [C·R·S]
  int64_t size;  // floats of a padded image: its planes, then zeros the kernels read
  // The kernel's row split for pad_phases (DirectConvKernel::deinterleave).
  void (*deinterleave)(const float* in, int64_t n, float* even, float* odd);

 private:
  int64_t positions_cost(const DirectConvKernel& kernel, int64_t K) const {
    const int64_t computed = row_tile != nullptr ? P * Q : ldo;
    return ceil_div(K, kernel.mr) * kernel.mr * computed * static_cast<int64_t>(offsets.size());
  }
  int64_t channels_last_cost(const DirectConvKernel& kernel, int64_t K) const {
    return ceil_div(K, kernel.lanes) * kernel.lanes * P * Q *
           (static_cast<int64_t>(offsets.size()) + 2 * kernel.lanes);
  }
};

// dst = weight(k, i) for K output channels and `steps` taps, packed for channel_conv (see
// ChannelConvArgs::w): [blocks][steps][nv·lanes], block v0 / block holding the channel vectors
// v0 ... v0 + nv − 1 (nv = block, or fewer in the last block). dst holds K rounded up to the lanes
// times `steps` floats, zero-filled by the caller: channels past K stay 0.
template <typename Weight>
void pack_channels_last(const DirectConvKernel& kernel, int64_t K, int64_t steps,
                        const Weight& weight, float* dst) {
  const int64_t width = kernel.block * kernel.lanes;
  const int64_t padded_K = ceil_div(K, kernel.lanes) * kernel.lanes;
  for (int64_t k0 = 0; k0 < K; k0 += width) {  // k innermost: dst is written in order
    const int64_t k1 = std::min(K, k0 + width), block_width = std::min(width, padded_K - k0);
    float* block = dst + k0 * steps;
    for (int64_t i = 0; i < steps; ++i) {
      for (int64_t k = k0; k < k1; ++k) block[i * block_width + k - k0] = weight(k, i);
    }
  }
}

// One convolution of stride 1 or 2, groups included, set up for the direct kernel: everything that
// does not depend on the image (the grid, the layout — positions or channels in the vector lanes,
// see PaddedGrid::channels_last — and the weights packed for it).
class DirectConv {
 public:
  // in_channels / out_channels per group; weight(g, k, i) = the weight of output channel k of
  // group g for tap i = (c·R + r)·S + t.
  template <typename Weight>
  DirectConv(const DirectConvKernel& kernel, int64_t groups, int64_t in_channels, int64_t H,
             int64_t W, int64_t pad_h, int64_t pad_w, int64_t out_channels, int64_t R, int64_t S,
             int64_t dil_h, int64_t dil_w, int64_t stride, const Weight& weight)
      : kernel_(kernel),
        grid_(kernel, in_channels, H, W, pad_h, pad_w, R, S, dil_h, dil_w, stride),
        K_(out_channels),
        steps_(in_channels * R * S),
        channels_last_(grid_.channels_last(kernel, K_)),
        // channels last: K rounded up to the lanes; else K rounded up to mr
        padded_K_(channels_last_ ? ceil_div(K_, kernel.lanes) * kernel.lanes
                                 : ceil_div(K_, kernel.mr) * kernel.mr),
        weights_(static_cast<size_t>(groups * padded_K_ * steps_), 0.0f) {
    if (channels_last_) {  // [groups][padded K · steps]
      for (int64_t g = 0; g < groups; ++g) {
        pack_channels_last(
            kernel, K_, steps_, [&](int64_t k, int64_t i) { return weight(g, k, i); },
            weights_.data() + g * padded_K_ * steps_);
      }
      bases_ = grid_.kept_positions();
      return;
    }
    // [groups][tiles][steps][mr]: tile k / mr holds output channel k of the group at lane k % mr
    // (lanes past K stay 0).
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t k0 = 0; k0 < K_; k0 += kernel.mr) {  // k innermost: written in order
        const int64_t k1 = std::min(K_, k0 + kernel.mr);
        float* tile = weights_.data() + (g * padded_K_ + k0) * steps_;
        for (int64_t i = 0; i < steps_; ++i) {
          for (int64_t k = k0; k < k1; ++k) tile[i * kernel.mr + k - k0] = weight(g, k, i);
        }
      }
    }
  }

  // dst [K, P, Q] (+ bias[k]) = the convolution of src [C, H, W] with group g's weights.
  void run(int64_t g, const float* src, const float* bias, float* dst) const {
    const PaddedGrid& grid = grid_;
    float* padded = thread_buffer<0>(grid.size);
    grid.pad(src, padded);
    const float* w = weights_.data() + g * padded_K_ * steps_;
    const int64_t PQ = grid.P * grid.Q;
    if (channels_last_) {
      float* out = thread_buffer<1>(PQ * padded_K_);  // [P·Q, padded K]
      kernel_.channel_conv({.channel_vectors = padded_K_ / kernel_.lanes,
                            .steps = steps_,
                            .positions = PQ,
                            .bases = bases_.data(),
                            .offsets = grid.offsets.data(),
                            .x = padded,
                            .w = w,
                            .out = out});
      kernel_.to_channels_first({.channels = K_,
                                 .height = grid.P,
                                 .width = grid.Q,
                                 .row = grid.Q,
                                 .ld = padded_K_,
                                 .bias = bias,
                                 .from = out,
                                 .to = dst});
      return;
    }
    if (grid.row_tile != nullptr) {
      // Output rows of whole tiles: row p's Q positions start at p·Wp on the grid and go straight
      // to dst at p·Q (rows of P·Q floats per channel). No position past Q is computed, and no
      // copy of the kept ones is made: for ResNet-8's 16-channel layers at 32×32 that copy, a
      // pass over the output, took as long as a fifth of the kernel's time.
      for (int64_t p = 0; p < grid.P; ++p) {
        grid.row_tile->run({.out_channels = K_,
                            .steps = steps_,
                            .positions = grid.Q,
                            .offsets = grid.offsets.data(),
                            .x = padded + p * grid.Wp,
                            .w = w,
                            .out = dst + p * grid.Q,
                            .ldo = PQ});
      }
      if (bias != nullptr) kernel_.add_bias(K_, PQ, bias, dst, PQ);
      return;
    }
    float* out = thread_buffer<1>(K_ * grid.ldo);  // [K, ldo]: row p of channel k at p·Wp
    grid.tile.run({.out_channels = K_,
                   .steps = steps_,
                   .positions = grid.J,
                   .offsets = grid.offsets.data(),
                   .x = padded,
                   .w = w,
                   .out = out,
                   .ldo = grid.ldo});
    // Keep the first Q of every Wp positions, adding the bias. (A scalar loop here was a fifth
    // of ResNet-8's 16 → 32 stride-2 layer.)
    kernel_.keep_rows({.channels = K_,
                       .height = grid.P,
                       .width = grid.Q,
                       .row = grid.Wp,
                       .ld = grid.ldo,
                       .bias = bias,
                       .from = out,
                       .to = dst});
  }

 private:
  const DirectConvKernel& kernel_;
  PaddedGrid grid_;
  int64_t K_, steps_;
  bool channels_last_;
  int64_t padded_K_;            // K rounded up to the layout's channel tile (lanes or mr)
  std::vector<float> weights_;  // [groups][padded K · steps], packed for the layout
  std::vector<int64_t> bases_;  // channels last: [P·Q] each output position's offset p·Wp + q
};

// ---------------------------------------------------------------------------------------------
// The Winograd convolution: 3×3, stride 1, no dilation. Two outputs of a 3-tap filter g from four
// inputs d take 6 multiplications done directly, and 4 done Winograd's way (F(2, 3)):
//
//   direct:  y0 = d0·g0 + d1·g1 + d2·g2     Winograd:  m0 = (d0 − d2)·g0
//            y1 = d1·g0 + d2·g1 + d3·g2                m1 = (d1 + d2)·(g0 + g1 + g2)/2
//                                                      m2 = (d2 − d1)·(g0 − g1 + g2)/2
//                                                      m3 = (d1 − d3)·g2
//                                           y0 = m0 + m1 + m2,   y1 = m1 − m2 − m3
//
// (the filter's sums are computed once per weight, not per output).
// In matrices, y = Aᵀ·[(G·g) ⊙ (Bᵀ·d)], and in two dimensions, for a 2 x 2 tile of outputs read
// from a 4 x 4 tile of inputs d (tiles overlapping by two rows and columns):
//
//   Y = Aᵀ·[U ⊙ V]·A     U = G·g·Gᵀ (4 x 4, once per weight)    V = Bᵀ·d·B (4 x 4, once per input)
//
// 16 multiplications for 4 outputs instead of 36: 2.25 times fewer. Summed over the input
// channels, each of the 16 positions (ξ, ν) of the 4 x 4 tile is a matrix product of its own:
//
//   M[ξν][tile][k] = Σ_c V[ξν][tile][c] · U[ξν][c][k]        16 GEMMs: tiles x C · C x K
//   y[k] of a tile = Aᵀ·M[·][tile][k]·A
//
// and those products are the channels-last kernels' (ChannelConvArgs): "positions" are tiles and
// "taps" are input channels. The transforms (WinogradTransformArgs) are additions of whole vectors
// of channels, so the image is copied channels last first and the output copied back, as for the
// channels-last direct path. The input gradient is the flipped convolution as above; the weight
// gradient differentiates the same formula: dM = A·gy·Aᵀ per tile, dU[ξν] = Σ_tiles V[ξν]ᵀ·dM[ξν]
// (channel_weight_grad), dg = Gᵀ·dU·G.
//
// NOTE: the products are exact identities, not approximations; in floating point the transforms
// add terms of up to a few times the inputs' size, and the error stays near the direct sum's (the
// tests hold both to the same bound). F(4×4, 3×3) would save 4 of 9 multiplications rather than
// 2.25, with constants up to 8 and larger rounding errors; production libraries (oneDNN, cuDNN)
// offer both.
// ---------------------------------------------------------------------------------------------

// The weight transform U = G·g·Gᵀ, one 1-D transform along the rows of g and one along the
// columns: G·(g0, g1, g2) = (g0, (g0 + g1 + g2)/2, (g0 − g1 + g2)/2, g2). `at(i)` is g_i.
template <typename At>
std::array<float, 4> winograd_weight_1d(const At& at) {
  const float g0 = at(0), g1 = at(1), g2 = at(2);
  return {g0, 0.5f * (g0 + g1 + g2), 0.5f * (g0 - g1 + g2), g2};
}

// Its adjoint, for the weight gradient dg = Gᵀ·dU·G: Gᵀ·(d0, d1, d2, d3) =
// (d0 + (d1 + d2)/2, (d1 − d2)/2, (d1 + d2)/2 + d3).
template <typename At>
std::array<float, 3> winograd_weight_grad_1d(const At& at) {
  const float d0 = at(0), d1 = at(1), d2 = at(2), d3 = at(3);
  return {d0 + 0.5f * (d1 + d2), 0.5f * (d1 - d2), 0.5f * (d1 + d2) + d3};
}

// The tiles of a 3×3 stride-1 convolution of C-channel H x W images, and its input side: each
// image copied channels last onto a zero-padded grid of (2·tiles_h + 2) x (2·tiles_w + 2)
// positions, then transformed.
class WinogradGrid {
 public:
  WinogradGrid(const DirectConvKernel& kernel, int64_t C, int64_t H, int64_t W, int64_t pad_h,
               int64_t pad_w)
      : kernel(kernel),
        C(C),
        H(H),
        W(W),
        pad_h(pad_h),
        pad_w(pad_w),
        P(H + 2 * pad_h - 2),
        Q(W + 2 * pad_w - 2),
        tiles_h(ceil_div(P, 2)),
        tiles_w(ceil_div(Q, 2)),
        tiles(tiles_h * tiles_w),
        padded_C(ceil_div(C, kernel.lanes) * kernel.lanes),
        input_size((2 * tiles_h + 2) * (2 * tiles_w + 2) * padded_C),
        offsets(static_cast<size_t>(C)),
        bases(static_cast<size_t>(tiles)) {
    for (int64_t c = 0; c < C; ++c) offsets[static_cast<size_t>(c)] = c;
    for (int64_t t = 0; t < tiles; ++t) bases[static_cast<size_t>(t)] = t * padded_C;
  }

  // Whether this convolution (P, Q > 0) runs as a Winograd convolution: 3×3, stride 1, no
  // dilation, padding at most 2 (so that its input gradient, padded by 2 − pad, is one too).
  static bool fits(int64_t R, int64_t S, int64_t dil_h, int64_t dil_w, int64_t pad_h,
                   int64_t pad_w) {
    return R == 3 && S == 3 && dil_h == 1 && dil_w == 1 && pad_h <= 2 && pad_w <= 2;
  }

  // The work per image for K output channels, in multiply-adds: the 16 products, and (as for
  // PaddedGrid::channels_last) each scalar copy between the layouts counted as 2·lanes, and each
  // vector operation of the transforms as lanes: 64 per input tile and channel (16 loads, 32
  // additions, 16 stores), 44 per output tile and channel.
  int64_t cost(int64_t K) const {
    const int64_t L = kernel.lanes, padded_K = ceil_div(K, L) * L;
    return 16 * tiles * padded_K * C + 2 * L * (input_size + 4 * tiles * padded_K) +
           64 * tiles * padded_C + 44 * tiles * padded_K;
  }

  // Floats of one image's transforms for K output channels: V [16][tiles][padded C] and
  // M [16][tiles][padded K].
  int64_t transformed_size(int64_t K) const {
    return 16 * tiles * (padded_C + ceil_div(K, kernel.lanes) * kernel.lanes);
  }

  // v [16][tiles][padded C] = the input transform of src [C, H, W]; scratch [input_size].
  void transform_input(const float* src, float* scratch, float* v) const {
    std::fill(scratch, scratch + input_size, 0.0f);
    const int64_t row = 2 * tiles_w + 2;
    kernel.to_channels_last({.channels = C,
                             .height = H,
                             .width = W,
                             .row = row,
                             .ld = padded_C,
                             .bias = nullptr,
                             .from = src,
                             .to = scratch + (pad_h * row + pad_w) * padded_C});
    kernel.winograd_input(
        {.tiles_h = tiles_h, .tiles_w = tiles_w, .channels = padded_C, .from = scratch, .to = v});
  }

  const DirectConvKernel& kernel;
  const int64_t C, H, W, pad_h, pad_w;
  const int64_t P, Q;  // the output
  const int64_t tiles_h, tiles_w, tiles;
  const int64_t padded_C;    // C rounded up to the lanes
  const int64_t input_size;  // floats of the padded channels-last image
  // For the channels-last kernels on V[ξν] [tiles][padded C]: tap c at offset c, tile t at
  // t·padded C.
  std::vector<int64_t> offsets, bases;
};

// Whether a stride-1 convolution of C → K channels per group on H x W images, which the direct
// kernels would otherwise run, takes the Winograd path: it fits, an image's transforms stay within
// kWinogradBudget, and its cost is lower.
bool use_winograd(const DirectConvKernel& kernel, int64_t C, int64_t H, int64_t W, int64_t pad_h,
                  int64_t pad_w, int64_t K, int64_t R, int64_t S, int64_t dil_h, int64_t dil_w) {
  if (!WinogradGrid::fits(R, S, dil_h, dil_w, pad_h, pad_w)) return false;
  const WinogradGrid winograd(kernel, C, H, W, pad_h, pad_w);
  const PaddedGrid direct(kernel, C, H, W, pad_h, pad_w, R, S, dil_h, dil_w);
  return winograd.transformed_size(K) <= kWinogradBudget &&
         winograd.cost(K) < direct.cost(kernel, K);
}

// One Winograd convolution, groups included: the grid, and each group's U packed for
// channel_conv, one block per (ξ, ν). Called like DirectConv.
class WinogradConv {
 public:
  template <typename Weight>
  WinogradConv(const DirectConvKernel& kernel, int64_t groups, int64_t in_channels, int64_t H,
               int64_t W, int64_t pad_h, int64_t pad_w, int64_t out_channels, const Weight& weight)
      : grid_(kernel, in_channels, H, W, pad_h, pad_w),
        K_(out_channels),
        padded_K_(ceil_div(K_, kernel.lanes) * kernel.lanes),
        plane_(padded_K_ * in_channels + kPlaneSkew),
        weights_(static_cast<size_t>(groups * 16 * plane_), 0.0f) {
    // [groups][16][blocks][C][nv·lanes]: for each (ξ, ν) the layout of DirectConv's channels-last
    // weights, with the input channels as the steps.
    // (The output channel k innermost: each of the 16 blocks is written in order.)
    const int64_t C = in_channels, width = kernel.block * kernel.lanes;
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t c = 0; c < C; ++c) {
        for (int64_t k = 0; k < K_; ++k) {
          const int64_t k0 = k / width * width, block_width = std::min(width, padded_K_ - k0);
          std::array<float, 4> rows[3];  // rows[r] = g's row r times Gᵀ
          for (int64_t r = 0; r < 3; ++r) {
            rows[r] =
                winograd_weight_1d([&](int64_t t) { return weight(g, k, c * 9 + r * 3 + t); });
          }
          for (int64_t nu = 0; nu < 4; ++nu) {  // column ν of U = G·rows
            const auto u = winograd_weight_1d([&](int64_t r) { return rows[r][nu]; });
            for (int64_t xi = 0; xi < 4; ++xi) {
              float* block = weights_.data() + (g * 16 + xi * 4 + nu) * plane_ + k0 * C;
              block[c * block_width + k - k0] = u[xi];
            }
          }
        }
      }
    }
  }

  // dst [K, P, Q] (+ bias[k]) = the convolution of src [C, H, W] with group g's weights.
  void run(int64_t g, const float* src, const float* bias, float* dst) const {
    const WinogradGrid& grid = grid_;
    const int64_t v_size = 16 * grid.tiles * grid.padded_C, m_size = 16 * grid.tiles * padded_K_;
    float* scratch = thread_buffer<0>(grid.input_size + v_size);
    float* v = scratch + grid.input_size;  // [16][tiles][padded C]
    grid.transform_input(src, scratch, v);
    float* m = thread_buffer<1>(m_size + 4 * grid.tiles * padded_K_);  // [16][tiles][padded K]
    float* y = m + m_size;  // [2·tiles_h][2·tiles_w][padded K]
    for (int64_t xn = 0; xn < 16; ++xn) {
      grid.kernel.channel_conv({.channel_vectors = padded_K_ / grid.kernel.lanes,
                                .steps = grid.C,
                                .positions = grid.tiles,
                                .bases = grid.bases.data(),
                                .offsets = grid.offsets.data(),
                                .x = v + xn * grid.tiles * grid.padded_C,
                                .w = weights_.data() + (g * 16 + xn) * plane_,
                                .out = m + xn * grid.tiles * padded_K_});
    }
    grid.kernel.winograd_output({.tiles_h = grid.tiles_h,
                                 .tiles_w = grid.tiles_w,
                                 .channels = padded_K_,
                                 .from = m,
                                 .to = y});
    grid.kernel.to_channels_first({.channels = K_,
                                   .height = grid.P,
                                   .width = grid.Q,
                                   .row = 2 * grid.tiles_w,
                                   .ld = padded_K_,
                                   .bias = bias,
                                   .from = y,
                                   .to = dst});
  }

 private:
  // NOTE: the 16 (ξ, ν) blocks of a group start plane_ floats apart, kPlaneSkew more than their
  // padded K · C. Packing one weight's transform stores one value into each of the 16; a multiple
  // of 4 KiB apart (64 × 64 channels: 16 KiB) those 16 stores all fall into one set of the L1
  // cache, more lines than it has ways, and every store missed: packing was most of a batch-1
  // ResNet-8 forward pass (docs/engineering/09_spatial.md).
  static constexpr int64_t kPlaneSkew = 16;  // one cache line
  WinogradGrid grid_;
  int64_t K_, padded_K_, plane_;
  std::vector<float> weights_;  // [groups][16][plane_]: padded K · C packed for channel_conv
};

// The SIMD kernels for a convolution that runs image by image, each on one thread; nullptr on CPUs
// without AVX2, and for a single image on several threads when it is large enough for gemm_fast
// to split.
const DirectConvKernel* image_kernel_for(const Conv2dShape& s, const ConvGeometry& geo) {
  const double multiply_adds = static_cast<double>(s.out_channels) * geo.CRS * geo.PQ;
  if (s.batch == 1 && get_num_threads() > 1 && multiply_adds > 4e6) return nullptr;
  return direct_kernel();
}

// The direct kernel for this convolution, or nullptr where the im2col path runs: strided and 1×1
// convs (a 1×1 stride-1 conv is a plain GEMM), and where image_kernel_for has none.
const DirectConvKernel* direct_kernel_for(const Conv2dShape& s, const ConvGeometry& geo) {
  if (s.stride_h != 1 || s.stride_w != 1 || geo.pointwise) return nullptr;
  return image_kernel_for(s, geo);
}

// The direct kernel of a convolution's forward and weight gradient, and the stride of its grid:
// direct_kernel_for's at stride 1; at stride 2 (not 1×1) the same kernels on phase planes (see
// PaddedGrid); else {nullptr, 0}, where im2col runs. (A 1×1 stride-2 layer reads a quarter of
// the image: it keeps im2col's strided copy, as the phases would copy all of it.)
struct GridKernel {
  const DirectConvKernel* kernel;
  int64_t stride;
};
GridKernel grid_kernel_for(const Conv2dShape& s, const ConvGeometry& geo) {
  if (const DirectConvKernel* kernel = direct_kernel_for(s, geo)) return {kernel, 1};
  if (s.stride_h != 2 || s.stride_w != 2 || s.kernel_h * s.kernel_w == 1) return {nullptr, 0};
  const DirectConvKernel* kernel = image_kernel_for(s, geo);
  return {kernel, kernel != nullptr ? 2 : 0};
}

// The input gradient's columns when they have few rows. On the im2col path, dcol [C_g·R·S, P·Q] =
// w_gᵀ · gy[n, g] is a GEMM of C_g·R·S rows: 16 for DCGAN's last layer (64 → 1 channel, 4×4
// kernel, a 14×14 input), which AVX-512's 12-row micro-tiles compute as 24, after packing every
// value of gy for 16 multiply-adds. Where the rows fit one block of the channels-last kernel's
// vectors (C_g·R·S <= block·lanes: 64 with AVX-512, 16 with AVX2), that kernel computes
//
//   dcolᵀ [P·Q, C_g·R·S] = gy[n, g]ᵀ · w_g      (ChannelConvArgs: the rows in the vector lanes,
//                                                 positions j < P·Q, the K_g channels as taps at
//                                                 offsets k·P·Q of gy[n, g], read in place)
//
// and to_channels_first transposes it for col2im. It forms exactly the GEMM's products (no zero
// padding multiplied in), so non-finite values behave as on the GEMM. Its kernel, or nullptr where
// the GEMM runs (and for blocks of images, whose columns have many rows).
const DirectConvKernel* few_rows_kernel_for(const Conv2dShape& s, const ConvGeometry& geo) {
  if (geo.pointwise || geo.block_images() > 1) return nullptr;
  const DirectConvKernel* kernel = image_kernel_for(s, geo);
  return kernel != nullptr && geo.CRS <= kernel->block * kernel->lanes ? kernel : nullptr;
}
#endif

// Runs block(n0, n1) over the batch cut into runs of at most `most` images, of even sizes: split
// over the threads when there are several runs (as many as a multiple of the threads, so that
// each thread gets as many images), else on the calling thread (whose gemm_fast calls may then
// use the threads).
template <typename F>
void for_each_image_block(int64_t batch, int64_t most, const F& block) {
  if (batch <= 0) return;
  const int threads = get_num_threads();
  const int64_t length = run_length(batch, most, threads), runs = ceil_div(batch, length);
  const auto run = [&](int64_t r) { block(r * length, std::min(batch, (r + 1) * length)); };
  if (runs > 1 && threads > 1) {
    parallel_for(0, runs, 1, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) run(r);
    });
  } else {
    for (int64_t r = 0; r < runs; ++r) run(r);
  }
}

// image(n) for every n of the batch, split over the threads by images (for_each_image_block).
template <typename F>
void for_each_image(int64_t batch, const F& image) {
  for_each_image_block(batch, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) image(n);
  });
}

// y [rows, len] (row stride ldy) += bias[k] on row k: the im2col path's bias, added onto the
// product that its GEMM has just written (beta = 0), while that is still in cache. (Written first
// for the GEMM to add onto, beta = 1, it was the first pass to touch y: stores into memory that
// the GEMM's own, among its multiply-adds, hide. A 1×1 conv of 64×64×16×16 to 128 channels, one
// thread: that pass was ~10% of the time, this one ~2%.)
void add_bias(int64_t rows, int64_t len, const float* bias, float* y, int64_t ldy) {
#ifdef TINYTORCH_GEMM_X86
  if (const DirectConvKernel* kernel = direct_kernel()) {
    kernel->add_bias(rows, len, bias, y, ldy);
    return;
  }
#endif
  for (int64_t k = 0; k < rows; ++k) {
    for (int64_t j = 0; j < len; ++j) y[k * ldy + j] += bias[k];
  }
}

}  // namespace

void conv2d_forward_fast(const Conv2dShape& s, const float* x, const float* w, const float* b,
                         float* y) {
  const ConvGeometry geo(s);
  if (geo.PQ == 0) return;  // an empty output
#ifdef TINYTORCH_GEMM_X86
  // (Plain variables, not a structured binding: Clang 14 cannot capture one in the lambdas.)
  const GridKernel direct = grid_kernel_for(s, geo);
  const DirectConvKernel* kernel = direct.kernel;
  const int64_t stride = direct.stride;
  if (kernel != nullptr) {
    const auto weight = [&](int64_t g, int64_t k, int64_t i) {
      return w[(g * geo.K_g + k) * geo.CRS + i];
    };
    const auto run = [&](const auto& conv) {
      for_each_image(s.batch, [&](int64_t n) {
        for (int64_t g = 0; g < s.groups; ++g) {
          conv.run(g, x + (n * s.in_channels + g * geo.C_g) * geo.HW,
                   b != nullptr ? b + g * geo.K_g : nullptr,
                   y + (n * s.out_channels + g * geo.K_g) * geo.PQ);
        }
      });
    };
    if (stride == 1 && use_winograd(*kernel, geo.C_g, s.in_h, s.in_w, s.pad_h, s.pad_w, geo.K_g,
                                    s.kernel_h, s.kernel_w, s.dilation_h, s.dilation_w)) {
      run(WinogradConv(*kernel, s.groups, geo.C_g, s.in_h, s.in_w, s.pad_h, s.pad_w, geo.K_g,
                       weight));
    } else {
      run(DirectConv(*kernel, s.groups, geo.C_g, s.in_h, s.in_w, s.pad_h, s.pad_w, geo.K_g,
                     s.kernel_h, s.kernel_w, s.dilation_h, s.dilation_w, stride, weight));
    }
    return;
  }
#endif
  const int64_t Q = s.out_w, band = geo.band_rows(s);
  for_each_image_block(s.batch, geo.block_images(), [&](int64_t n0, int64_t n1) {
    const int64_t n = n0, images = n1 - n0;
    for (int64_t g = 0; g < s.groups; ++g) {
      const float* x_g = x + (n * s.in_channels + g * geo.C_g) * geo.HW;  // [C_g, H, W]
      const float* w_g = w + g * geo.K_g * geo.CRS;                       // [K_g, C_g·R·S]
      float* y_g = y + (n * s.out_channels + g * geo.K_g) * geo.PQ;       // [K_g, P·Q]
      if (images > 1) {  // one GEMM for the block (see "Blocks of images")
        const int64_t cols = images * geo.PQ;
        float* col = thread_buffer<0>(geo.CRS * cols);  // [C_g·R·S, images·P·Q]
        float* out = thread_buffer<1>(geo.K_g * cols);  // [K_g, images·P·Q]
        im2col(s, geo.C_g, images, x_g, s.in_channels * geo.HW, 0, s.out_h, col, cols, 1);
        gemm_fast(false, false, geo.K_g, cols, geo.CRS, 1.0f, w_g, geo.CRS, col, cols, 0.0f, out,
                  cols);
        scatter_block(images, geo.K_g, geo.PQ, s.out_channels * geo.PQ, out,
                      b != nullptr ? b + g * geo.K_g : nullptr, y_g);
        continue;
      }
      // The product first (beta = 0), then the bias onto it (add_bias): y = w · col + b, the
      // reference tier's order.
      const float* b_g = b != nullptr ? b + g * geo.K_g : nullptr;  // [K_g] or null
      if (geo.pointwise) {
        gemm_fast(false, false, geo.K_g, geo.PQ, geo.CRS, 1.0f, w_g, geo.CRS, x_g, geo.HW, 0.0f,
                  y_g, geo.PQ);
        if (b_g != nullptr) add_bias(geo.K_g, geo.PQ, b_g, y_g, geo.PQ);
        continue;
      }
      float* col = thread_buffer(geo.CRS * band * Q);
      for (int64_t p0 = 0; p0 < s.out_h; p0 += band) {
        const int64_t p1 = std::min(s.out_h, p0 + band), cols = (p1 - p0) * Q;
        im2col(s, geo.C_g, 1, x_g, 0, p0, p1, col, cols, 1);
        gemm_fast(false, false, geo.K_g, cols, geo.CRS, 1.0f, w_g, geo.CRS, col, cols, 0.0f,
                  y_g + p0 * Q, geo.PQ);
        if (b_g != nullptr) add_bias(geo.K_g, cols, b_g, y_g + p0 * Q, geo.PQ);
      }
    }
  });
}

void conv2d_backward_input_fast(const Conv2dShape& s, const float* gy, const float* w, float* gx) {
  const ConvGeometry geo(s);
  if (geo.PQ == 0) {  // no output pixel: nothing flows back
    std::fill(gx, gx + s.batch * s.in_channels * geo.HW, 0.0f);
    return;
  }
#ifdef TINYTORCH_GEMM_X86
  // The flipped convolution of gy, padded by dil·(R − 1) − pad (when that is not negative).
  const int64_t pad_h = s.dilation_h * (s.kernel_h - 1) - s.pad_h;
  const int64_t pad_w = s.dilation_w * (s.kernel_w - 1) - s.pad_w;
  // NOTE: a weight that is not finite takes the im2col path (see "Non-finite values" above).
  const DirectConvKernel* kernel = direct_kernel_for(s, geo);
  if (kernel != nullptr && pad_h >= 0 && pad_w >= 0 && all_finite(w, s.out_channels * geo.CRS)) {
    const int64_t R = s.kernel_h, S = s.kernel_w;
    // Tap i = (k·R + r')·S + t' of input channel c: w[k, c, R−1−r', S−1−t'].
    const auto weight = [&](int64_t g, int64_t c, int64_t i) {
      const int64_t k = i / (R * S), r = R - 1 - i / S % R, t = S - 1 - i % S;
      return w[(((g * geo.K_g + k) * geo.C_g + c) * R + r) * S + t];
    };
    const auto run = [&](const auto& conv) {
      for_each_image(s.batch, [&](int64_t n) {
        for (int64_t g = 0; g < s.groups; ++g) {
          conv.run(g, gy + (n * s.out_channels + g * geo.K_g) * geo.PQ, nullptr,
                   gx + (n * s.in_channels + g * geo.C_g) * geo.HW);
        }
      });
    };
    if (use_winograd(*kernel, geo.K_g, s.out_h, s.out_w, pad_h, pad_w, geo.C_g, R, S, s.dilation_h,
                     s.dilation_w)) {
      run(WinogradConv(*kernel, s.groups, geo.K_g, s.out_h, s.out_w, pad_h, pad_w, geo.C_g,
                       weight));
    } else {
      run(DirectConv(*kernel, s.groups, geo.K_g, s.out_h, s.out_w, pad_h, pad_w, geo.C_g, R, S,
                     s.dilation_h, s.dilation_w, /*stride=*/1, weight));
    }
    return;
  }
  if (const DirectConvKernel* few = few_rows_kernel_for(s, geo)) {      // see few_rows_kernel_for
    const int64_t padded = ceil_div(geo.CRS, few->lanes) * few->lanes;  // C_g·R·S, padded
    std::vector<float> packed(static_cast<size_t>(s.groups * padded * geo.K_g), 0.0f);
    for (int64_t g = 0; g < s.groups; ++g) {  // row m of dcol, tap k: w[g·K_g + k][m]
      pack_channels_last(
          *few, geo.CRS, geo.K_g,
          [&](int64_t m, int64_t k) { return w[(g * geo.K_g + k) * geo.CRS + m]; },
          packed.data() + g * padded * geo.K_g);
    }
    std::vector<int64_t> positions(static_cast<size_t>(geo.PQ)), taps(static_cast<size_t>(geo.K_g));
    for (int64_t j = 0; j < geo.PQ; ++j) positions[static_cast<size_t>(j)] = j;
    for (int64_t k = 0; k < geo.K_g; ++k) taps[static_cast<size_t>(k)] = k * geo.PQ;
    for_each_image(s.batch, [&](int64_t n) {
      float* gx_n = gx + n * s.in_channels * geo.HW;  // [C, H, W]
      std::fill(gx_n, gx_n + s.in_channels * geo.HW, 0.0f);
      float* dcol_t = thread_buffer<1>(geo.PQ * padded);  // [P·Q, padded C_g·R·S]
      for (int64_t g = 0; g < s.groups; ++g) {
        few->channel_conv({.channel_vectors = padded / few->lanes,
                           .steps = geo.K_g,
                           .positions = geo.PQ,
                           .bases = positions.data(),
                           .offsets = taps.data(),
                           .x = gy + (n * s.out_channels + g * geo.K_g) * geo.PQ,
                           .w = packed.data() + g * padded * geo.K_g,
                           .out = dcol_t});
        // dcol_t holds row m of dcol at column stride `padded`
        col2im_add(s, geo.C_g, 1, dcol_t, 0, s.out_h, 1, padded, gx_n + g * geo.C_g * geo.HW, 0);
      }
    });
    return;
  }
#endif
  const int64_t Q = s.out_w, band = geo.band_rows(s);
  for_each_image_block(s.batch, geo.block_images(), [&](int64_t n0, int64_t n1) {
    const int64_t images = n1 - n0;
    float* gx_n = gx + n0 * s.in_channels * geo.HW;  // [images, C, H, W]
    if (!geo.pointwise) std::fill(gx_n, gx_n + images * s.in_channels * geo.HW, 0.0f);
    for (int64_t g = 0; g < s.groups; ++g) {
      float* gx_g = gx_n + g * geo.C_g * geo.HW;                              // [C_g, H, W]
      const float* w_g = w + g * geo.K_g * geo.CRS;                           // [K_g, C_g·R·S]
      const float* gy_g = gy + (n0 * s.out_channels + g * geo.K_g) * geo.PQ;  // [K_g, P·Q]
      if (images > 1) {  // one GEMM for the block (see "Blocks of images")
        const int64_t cols = images * geo.PQ;
        float* block = thread_buffer<1>(geo.K_g * cols);  // gy [K_g, images·P·Q]
        float* dcol = thread_buffer<0>(geo.CRS * cols);   // [C_g·R·S, images·P·Q]
        gather_block(images, geo.K_g, geo.PQ, s.out_channels * geo.PQ, gy_g, block);
        gemm_fast(true, false, geo.CRS, cols, geo.K_g, 1.0f, w_g, geo.CRS, block, cols, 0.0f, dcol,
                  cols);
        col2im_add(s, geo.C_g, images, dcol, 0, s.out_h, cols, 1, gx_g, s.in_channels * geo.HW);
        continue;
      }
      if (geo.pointwise) {  // gx[n, g] [C_g, H·W] = w_gᵀ · gy[n, g]
        gemm_fast(true, false, geo.CRS, geo.PQ, geo.K_g, 1.0f, w_g, geo.CRS, gy_g, geo.PQ, 0.0f,
                  gx_g, geo.HW);
        continue;
      }
      float* dcol = thread_buffer(geo.CRS * band * Q);
      for (int64_t p0 = 0; p0 < s.out_h; p0 += band) {
        const int64_t p1 = std::min(s.out_h, p0 + band), cols = (p1 - p0) * Q;
        // dcol [C_g·R·S, cols] = w_gᵀ · gy[n, g][:, band]
        gemm_fast(true, false, geo.CRS, cols, geo.K_g, 1.0f, w_g, geo.CRS, gy_g + p0 * Q, geo.PQ,
                  0.0f, dcol, cols);
        col2im_add(s, geo.C_g, 1, dcol, p0, p1, cols, 1, gx_g, 0);
      }
    }
  });
}

namespace {

// plane_sums.h's sums where the CPU has no direct kernel: two doubles a vector, SSE2's width (every
// x86-64 has it; elsewhere the compiler's generic vectors).
struct TwoDoubles {
  static constexpr int64_t kLanes = 4;
};
using FallbackSums = spatial::PlaneSums<TwoDoubles>;

// The plane sums of batch norm and of a convolution's bias gradient on this CPU's widest vectors:
// the direct kernel's (DirectConvKernel::sums), else FallbackSums.
using spatial::PlaneSumFns;
PlaneSumFns plane_sums() {
#ifdef TINYTORCH_GEMM_X86
  if (const DirectConvKernel* kernel = direct_kernel()) return kernel->sums;
#endif
  return FallbackSums::fns();
}

}  // namespace

void conv2d_backward_weight_fast(const Conv2dShape& s, const float* gy, const float* x, float* gw,
                                 float* gb) {
  const ConvGeometry geo(s);
  const int64_t weight_size = s.out_channels * geo.CRS;
  if (s.batch == 0 || geo.PQ == 0) {  // no output pixel: nothing flows back
    std::fill(gw, gw + weight_size, 0.0f);
    if (gb != nullptr) std::fill(gb, gb + s.out_channels, 0.0f);
    return;
  }
  // The batch is cut into `chunks` fixed runs of images, each summed into its own partial
  // gradient: a function of the thread count only, not of which thread ran which chunk.
  // (7 images on 3 threads: at most 6 chunks, of 2 images each, so 4 chunks.)
  const int threads = get_num_threads();
  const int64_t per_chunk =
      ceil_div(s.batch, threads > 1 ? std::min<int64_t>(s.batch, 2 * threads) : 1);
  const int64_t chunks = ceil_div(s.batch, per_chunk);  // every chunk holds at least one image
  // Chunk 0 sums straight into gw; the others into partials [chunks − 1, K, C_g·R·S].
  thread_local std::vector<float> partial_weights;
  thread_local std::vector<double> partial_bias;  // [chunks, K]
  partial_weights.resize(static_cast<size_t>((chunks - 1) * weight_size));
  partial_bias.assign(static_cast<size_t>(chunks * s.out_channels), 0.0);
  float* const partial_w = partial_weights.data();
  double* const partial_b = partial_bias.data();

  // gw_c [K, C_g·R·S] = Σ over images [first, end) (overwritten): by the direct or Winograd
  // kernels where they apply, else (or when their sum is not finite) by im2col + GEMM.
  std::function<void(int64_t, int64_t, float*)> sum_images, sum_images_im2col;
#ifdef TINYTORCH_GEMM_X86
  const GridKernel direct = grid_kernel_for(s, geo);
  const DirectConvKernel* kernel = direct.kernel;
  const int64_t stride = direct.stride;
  std::optional<WinogradGrid> winograd;
  std::optional<PaddedGrid> grid;
  if (kernel != nullptr && stride == 1 &&
      use_winograd(*kernel, geo.C_g, s.in_h, s.in_w, s.pad_h, s.pad_w, geo.K_g, s.kernel_h,
                   s.kernel_w, s.dilation_h, s.dilation_w)) {
    winograd.emplace(*kernel, geo.C_g, s.in_h, s.in_w, s.pad_h, s.pad_w);
    const WinogradGrid& wg = *winograd;
    const int64_t padded_K = ceil_div(geo.K_g, kernel->lanes) * kernel->lanes;
    // Per image: V [16][tiles][padded C], then dM [16][tiles][padded K].
    const int64_t v_size = 16 * wg.tiles * wg.padded_C, dm_size = 16 * wg.tiles * padded_K;
    // gy by tile, [2·tiles_h][2·tiles_w][padded K]
    const int64_t gy_size = 4 * wg.tiles * padded_K;
    // Enough images per call that every sweep of channel_weight_grad's tiles runs over at least
    // kWinogradTiles tiles (with one 7×7 image, 16 tiles, each sweep would load and store its 24
    // accumulators every 16 positions), within the budget; one (ξ, ν)'s share of them stays in
    // L2 while it runs.
    const int64_t per_call = std::clamp<int64_t>(
        std::min(ceil_div(kWinogradTiles, wg.tiles), kWinogradBudget / (v_size + dm_size)), 1,
        std::min(per_chunk, kMaxImagesPerCall));
    sum_images = [&, kernel, padded_K, v_size, dm_size, gy_size, per_call](
                     int64_t first, int64_t end, float* gw_c) {
      float* scratch = thread_buffer<0>(std::max(wg.input_size, gy_size));
      float* transformed = thread_buffer<1>(per_call * (v_size + dm_size));
      float* du = thread_buffer<2>(16 * geo.C_g * padded_K);  // [16][C_g][padded K]
      const float* v_of[16][kMaxImagesPerCall];
      const float* dm_of[16][kMaxImagesPerCall];
      for (int64_t g = 0; g < s.groups; ++g) {
        std::fill(du, du + 16 * geo.C_g * padded_K, 0.0f);
        for (int64_t n0 = first; n0 < end; n0 += per_call) {
          const int64_t images = std::min(per_call, end - n0);
          for (int64_t i = 0; i < images; ++i) {
            const int64_t n = n0 + i;
            float* v = transformed + i * (v_size + dm_size);
            float* dm = v + v_size;
            wg.transform_input(x + (n * s.in_channels + g * geo.C_g) * geo.HW, scratch, v);
            // scratch = gy[n, g] by tile, zero past the output's edge and past K_g
            std::fill(scratch, scratch + gy_size, 0.0f);
            kernel->to_channels_last({.channels = geo.K_g,
                                      .height = s.out_h,
                                      .width = s.out_w,
                                      .row = 2 * wg.tiles_w,
                                      .ld = padded_K,
                                      .bias = nullptr,
                                      .from = gy + (n * s.out_channels + g * geo.K_g) * geo.PQ,
                                      .to = scratch});
            kernel->winograd_output_grad({.tiles_h = wg.tiles_h,
                                          .tiles_w = wg.tiles_w,
                                          .channels = padded_K,
                                          .from = scratch,
                                          .to = dm});
            for (int64_t xn = 0; xn < 16; ++xn) {
              v_of[xn][i] = v + xn * wg.tiles * wg.padded_C;
              dm_of[xn][i] = dm + xn * wg.tiles * padded_K;
            }
          }
          for (int64_t xn = 0; xn < 16; ++xn) {  // dU[ξν] [C_g][padded K] += Σ V[ξν]ᵀ·dM[ξν]
            kernel->channel_weight_grad({.channel_vectors = padded_K / kernel->lanes,
                                         .steps = geo.C_g,
                                         .positions = wg.tiles,
                                         .images = images,
                                         .bases = wg.bases.data(),
                                         .offsets = wg.offsets.data(),
                                         .x = v_of[xn],
                                         .gy = dm_of[xn],
                                         .gw = du + xn * geo.C_g * padded_K});
          }
        }
        // gw_c[g][k][c][r][t] = (Gᵀ·dU[·][c][k]·G)[r][t]
        float* gw_g = gw_c + g * geo.K_g * geo.CRS;
        for (int64_t c = 0; c < geo.C_g; ++c) {
          const auto du_at = [&](int64_t xn, int64_t k) {
            return du[(xn * geo.C_g + c) * padded_K + k];
          };
          for (int64_t k = 0; k < geo.K_g; ++k) {
            std::array<float, 3> cols[4];  // cols[ξ] = row ξ of dU times G
            for (int64_t xi = 0; xi < 4; ++xi) {
              cols[xi] = winograd_weight_grad_1d([&](int64_t nu) { return du_at(xi * 4 + nu, k); });
            }
            for (int64_t t = 0; t < 3; ++t) {  // column t of Gᵀ·cols
              const auto column = winograd_weight_grad_1d([&](int64_t xi) { return cols[xi][t]; });
              for (int64_t r = 0; r < 3; ++r) gw_g[(k * geo.C_g + c) * 9 + r * 3 + t] = column[r];
            }
          }
        }
      }
    };
  } else if (kernel != nullptr) {
    grid.emplace(*kernel, geo.C_g, s.in_h, s.in_w, s.pad_h, s.pad_w, s.kernel_h, s.kernel_w,
                 s.dilation_h, s.dilation_w, stride);
    const bool channels_last = grid->channels_last(*kernel, geo.K_g);
    // gy, rearranged for the kernel: channels last, [P·Q][padded K] (zero past K_g); else on the
    // padded grid, [K_g][positions] (zero where the forward kernel dropped a position).
    const int64_t padded_K = ceil_div(geo.K_g, kernel->lanes) * kernel->lanes;
    const int64_t positions = ceil_div(grid->J, kernel->lanes) * kernel->lanes;
    const int64_t x_size = grid->size,
                  gy_size = channels_last ? geo.PQ * padded_K : geo.K_g * positions;
    const int64_t per_call = std::clamp<int64_t>(kWeightGradBudget / (x_size + gy_size), 1,
                                                 std::min(per_chunk, kMaxImagesPerCall));
    sum_images = [&, kernel, channels_last, padded_K, positions, x_size, gy_size, per_call,
                  bases = channels_last ? grid->kept_positions() : std::vector<int64_t>()](
                     int64_t first, int64_t end, float* gw_c) {
      std::fill(gw_c, gw_c + weight_size, 0.0f);
      float* xs = thread_buffer<0>(per_call * x_size);
      float* gys = thread_buffer<1>(per_call * gy_size);
      // channels last: the group's gradient transposed, [C_g·R·S][padded K]
      float* gw_t = channels_last ? thread_buffer<2>(geo.CRS * padded_K) : nullptr;
      const float* x_of[kMaxImagesPerCall];
      const float* gy_of[kMaxImagesPerCall];
      for (int64_t g = 0; g < s.groups; ++g) {
        if (channels_last) std::fill(gw_t, gw_t + geo.CRS * padded_K, 0.0f);
        for (int64_t n0 = first; n0 < end; n0 += per_call) {
          const int64_t images = std::min(per_call, end - n0);
          for (int64_t i = 0; i < images; ++i) {
            const int64_t n = n0 + i;
            grid->pad(x + (n * s.in_channels + g * geo.C_g) * geo.HW, xs + i * x_size);
            float* to = gys + i * gy_size;
            const float* from = gy + (n * s.out_channels + g * geo.K_g) * geo.PQ;  // [K_g, P·Q]
            if (channels_last) {  // to [P·Q][padded K] = fromᵀ, zero past K_g
              for (int64_t j = 0; j < geo.PQ; ++j) {
                std::fill(to + j * padded_K + geo.K_g, to + (j + 1) * padded_K, 0.0f);
              }
              kernel->to_channels_last({.channels = geo.K_g,
                                        .height = s.out_h,
                                        .width = s.out_w,
                                        .row = s.out_w,
                                        .ld = padded_K,
                                        .bias = nullptr,
                                        .from = from,
                                        .to = to});
            } else {  // to [K_g][positions]: row p of channel k at p·Wp, zeros between
              std::fill(to, to + gy_size, 0.0f);
              for (int64_t k = 0; k < geo.K_g; ++k) {
                for (int64_t p = 0; p < s.out_h; ++p) {
                  std::memcpy(to + k * positions + p * grid->Wp, from + (k * s.out_h + p) * s.out_w,
                              static_cast<size_t>(s.out_w) * sizeof(float));
                }
              }
            }
            x_of[i] = xs + i * x_size;
            gy_of[i] = to;
          }
          if (channels_last) {
            kernel->channel_weight_grad({.channel_vectors = padded_K / kernel->lanes,
                                         .steps = geo.CRS,
                                         .positions = geo.PQ,
                                         .images = images,
                                         .bases = bases.data(),
                                         .offsets = grid->offsets.data(),
                                         .x = x_of,
                                         .gy = gy_of,
                                         .gw = gw_t});
            continue;
          }
          kernel->weight_grad({.out_channels = geo.K_g,
                               .steps = geo.CRS,
                               .positions = positions,
                               .images = images,
                               .offsets = grid->offsets.data(),
                               .x = x_of,
                               .gy = gy_of,
                               .gw = gw_c + g * geo.K_g * geo.CRS});
        }
        if (channels_last) {  // gw_c[g] [K_g, C_g·R·S] = gw_tᵀ
          float* gw_g = gw_c + g * geo.K_g * geo.CRS;
          for (int64_t k = 0; k < geo.K_g; ++k) {
            for (int64_t i = 0; i < geo.CRS; ++i) gw_g[k * geo.CRS + i] = gw_t[i * padded_K + k];
          }
        }
      }
    };
  } else if (const DirectConvKernel* few = few_rows_kernel_for(s, geo)) {
    // Few rows of col (see few_rows_kernel_for), in the vector lanes of channel_weight_grad:
    //   gw[g] [K_g, C_g·R·S] = Σ_n Σ_j gy[n, g][k][j] · col(x[n, g])ᵀ[j][m]
    // the K_g channels as its taps, at offsets k·P·Q of gy[n, g] (read in place), and colᵀ
    // [P·Q, padded C_g·R·S] built by im2col (column stride `padded`, the lanes past C_g·R·S 0).
    const int64_t padded = ceil_div(geo.CRS, few->lanes) * few->lanes, col_size = geo.PQ * padded;
    const int64_t per_call = std::clamp<int64_t>(kWeightGradBudget / col_size, 1,
                                                 std::min(per_chunk, kMaxImagesPerCall));
    std::vector<int64_t> positions(static_cast<size_t>(geo.PQ)), taps(static_cast<size_t>(geo.K_g));
    for (int64_t j = 0; j < geo.PQ; ++j) positions[static_cast<size_t>(j)] = j;
    for (int64_t k = 0; k < geo.K_g; ++k) taps[static_cast<size_t>(k)] = k * geo.PQ;
    sum_images = [&, few, padded, col_size, per_call, positions = std::move(positions),
                  taps = std::move(taps)](int64_t first, int64_t end, float* gw_c) {
      float* cols_t = thread_buffer<0>(per_call * col_size);  // [images][P·Q][padded]
      float* gw_t = thread_buffer<1>(geo.K_g * padded);       // [K_g][padded]
      std::fill(cols_t, cols_t + per_call * col_size, 0.0f);
      const float* gy_of[kMaxImagesPerCall];
      const float* col_of[kMaxImagesPerCall];
      for (int64_t g = 0; g < s.groups; ++g) {
        std::fill(gw_t, gw_t + geo.K_g * padded, 0.0f);
        for (int64_t n0 = first; n0 < end; n0 += per_call) {
          const int64_t images = std::min(per_call, end - n0);
          for (int64_t i = 0; i < images; ++i) {
            const int64_t n = n0 + i;
            im2col(s, geo.C_g, 1, x + (n * s.in_channels + g * geo.C_g) * geo.HW, 0, 0, s.out_h,
                   cols_t + i * col_size, 1, padded);
            gy_of[i] = gy + (n * s.out_channels + g * geo.K_g) * geo.PQ;
            col_of[i] = cols_t + i * col_size;
          }
          few->channel_weight_grad({.channel_vectors = padded / few->lanes,
                                    .steps = geo.K_g,
                                    .positions = geo.PQ,
                                    .images = images,
                                    .bases = positions.data(),
                                    .offsets = taps.data(),
                                    .x = gy_of,
                                    .gy = col_of,
                                    .gw = gw_t});
        }
        float* gw_g = gw_c + g * geo.K_g * geo.CRS;  // [K_g, C_g·R·S] = gw_t's first lanes
        for (int64_t k = 0; k < geo.K_g; ++k) {
          std::copy_n(gw_t + k * padded, geo.CRS, gw_g + k * geo.CRS);
        }
      }
    };
  }
#endif
  {
    // im2col: gw_g += gy[n, g] · col(x[n, g])ᵀ, band by band.
    const int64_t Q = s.out_w, band = geo.band_rows(s);
    sum_images_im2col = [&, Q, band](int64_t first, int64_t end, float* gw_c) {
      for_each_run(first, end, geo.block_images(), [&](int64_t n, int64_t n1) {
        const int64_t images = n1 - n;
        for (int64_t g = 0; g < s.groups; ++g) {
          const float* x_g = x + (n * s.in_channels + g * geo.C_g) * geo.HW;     // [C_g, H, W]
          const float* gy_g = gy + (n * s.out_channels + g * geo.K_g) * geo.PQ;  // [K_g, P·Q]
          float* gw_g = gw_c + g * geo.K_g * geo.CRS;                            // [K_g, C_g·R·S]
          const float beta = n == first ? 0.0f : 1.0f;  // the first image overwrites
          if (images > 1) {  // one GEMM for the block (see "Blocks of images")
            const int64_t cols = images * geo.PQ;
            float* col = thread_buffer<0>(geo.CRS * cols);    // [C_g·R·S, images·P·Q]
            float* block = thread_buffer<1>(geo.K_g * cols);  // gy [K_g, images·P·Q]
            gather_block(images, geo.K_g, geo.PQ, s.out_channels * geo.PQ, gy_g, block);
            im2col(s, geo.C_g, images, x_g, s.in_channels * geo.HW, 0, s.out_h, col, cols, 1);
            gemm_fast(false, true, geo.K_g, geo.CRS, cols, 1.0f, block, cols, col, cols, beta, gw_g,
                      geo.CRS);
            continue;
          }
          if (geo.pointwise) {
            gemm_fast(false, true, geo.K_g, geo.CRS, geo.PQ, 1.0f, gy_g, geo.PQ, x_g, geo.HW, beta,
                      gw_g, geo.CRS);
            continue;
          }
          float* col = thread_buffer<0>(geo.CRS * band * Q);
          for (int64_t p0 = 0; p0 < s.out_h; p0 += band) {
            const int64_t p1 = std::min(s.out_h, p0 + band), cols = (p1 - p0) * Q;
            im2col(s, geo.C_g, 1, x_g, 0, p0, p1, col, cols, 1);
            gemm_fast(false, true, geo.K_g, geo.CRS, cols, 1.0f, gy_g + p0 * Q, geo.PQ, col, cols,
                      p0 == 0 ? beta : 1.0f, gw_g, geo.CRS);
          }
        }
      });
    };
  }

  const PlaneSumFns sums = plane_sums();  // the bias gradient's
  const auto chunk = [&](int64_t c) {
    const int64_t first = c * per_chunk, end = std::min(s.batch, first + per_chunk);
    float* gw_c = c == 0 ? gw : partial_w + (c - 1) * weight_size;
    // NOTE: a direct or Winograd sum that is not finite is done again on the im2col path, whose
    // products are the reference tier's (see "Non-finite values" above); a finite one stands.
    // The check reads K·C_g·R·S floats per chunk, against the chunk's millions of multiply-adds.
    bool summed = false;
    if (sum_images) {
      sum_images(first, end, gw_c);
      summed = all_finite(gw_c, weight_size);
    }
    if (!summed) sum_images_im2col(first, end, gw_c);
    if (gb != nullptr) {
      double* gb_c = partial_b + c * s.out_channels;  // [K]
      for (int64_t n = first; n < end; ++n) {
        for (int64_t k = 0; k < s.out_channels; ++k) {
          const float* row = gy + (n * s.out_channels + k) * geo.PQ;
          gb_c[k] += sums.sum(geo.PQ, row);
        }
      }
    }
  };
  if (chunks > 1) {
    parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) chunk(c);
    });
  } else {
    chunk(0);
  }

  // gw = Σ_c partial_c, in chunk order.
  for (int64_t c = 1; c < chunks; ++c) {
    const float* part = partial_w + (c - 1) * weight_size;
    for (int64_t i = 0; i < weight_size; ++i) gw[i] += part[i];
  }
  if (gb != nullptr) {
    for (int64_t k = 0; k < s.out_channels; ++k) {
      double sum = 0.0;
      for (int64_t c = 0; c < chunks; ++c) sum += partial_b[c * s.out_channels + k];
      gb[k] = static_cast<float>(sum);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Max pooling: each output is the maximum of its window, and its index the flat position h·W + w
// of that maximum in its plane. The window is scanned row by row and a value replaces the maximum
// when it is greater or NaN (PyTorch's rule): so the first of equal maxima wins, a NaN wins, and
// padding, never read, never wins.
// ---------------------------------------------------------------------------------------------
namespace {

// Planes per parallel chunk: at least ~16k input values.
int64_t plane_grain(int64_t plane_size) {
  return std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(plane_size, 1));
}

// The common 2×2 window, stride 2, without padding or dilation (LeNet's, most CNNs').
// NOTE: only when every window lies inside the plane — with ceil_mode on an odd size the last
// window hangs over the edge (2·P > H): the forward would read, and the backward write, past the
// plane, so those shapes take the general, bounds-checked paths.
bool is_two_by_two(const Pool2dShape& s) {
  return s.kernel_h == 2 && s.kernel_w == 2 && s.stride_h == 2 && s.stride_w == 2 && s.pad_h == 0 &&
         s.pad_w == 0 && s.dilation_h == 1 && s.dilation_w == 1 && 2 * s.out_h <= s.in_h &&
         2 * s.out_w <= s.in_w;
}

inline void take_if_greater(float v, int64_t at, float& best, int64_t& best_at) {
  if (v > best || std::isnan(v)) {
    best = v;
    best_at = at;
  }
}

#ifdef __SSE2__
// Four 2×2 windows side by side: outputs q .. q+3 of the row pair whose top row starts at plane
// index `at` (8 floats of that row and 8 of the next are read). The scalar loop's "greater or
// NaN" is a data-dependent branch that values in no order often mispredict (about a third of the
// time in theory); the loop took some 48 cycles per output on a Zen 4, where these four windows
// take a few dozen instructions:
//
//   top row    a0 b0 a1 b1 a2 b2 a3 b3     shuffle even / odd columns:  a = [a0 a1 a2 a3]
//   next row   c0 d0 c1 d1 c2 d2 c3 d3                                  b, c, d likewise
//
//   best = a, offset = 2·lane; then for v = b, c, d in the scalar loop's order, lane by lane:
//   wins = v > best | v is NaN;  best = wins ? v : best;  offset = wins ? v's offset : offset
//
// with v's offset 2·lane + 1, + W, + W + 1 (top-right, bottom-left, bottom-right).
// NOTE: the offsets are int32 lanes: the caller takes this path only for rows with W < 2^30.
//
// max_pool_2x2_lanes is that select network on the four windows' values a, b, c, d, writing
// out[0 .. 4) and idx[0 .. 4) (= at + offset); max_pool_2x2_four loads them from the plane.
inline void max_pool_2x2_lanes(__m128 a, __m128 b, __m128 c, __m128 d, int64_t at, int64_t W,
                               float* out, int64_t* idx) {
  const __m128i lane = _mm_setr_epi32(0, 2, 4, 6);
  const __m128i w = _mm_set1_epi32(static_cast<int32_t>(W));
  __m128 best = a;
  __m128i offset = lane;
  const auto take = [&](__m128 v, __m128i v_offset) {
    const __m128 wins = _mm_or_ps(_mm_cmpgt_ps(v, best), _mm_cmpunord_ps(v, v));
    const __m128i win_bits = _mm_castps_si128(wins);
    best = _mm_or_ps(_mm_and_ps(wins, v), _mm_andnot_ps(wins, best));
    offset = _mm_or_si128(_mm_and_si128(win_bits, v_offset), _mm_andnot_si128(win_bits, offset));
  };
  const __m128i right = _mm_add_epi32(lane, _mm_set1_epi32(1));
  take(b, right);
  take(c, _mm_add_epi32(lane, w));
  take(d, _mm_add_epi32(right, w));
  _mm_storeu_ps(out, best);
  // idx = at + offset, widened to int64 (the offsets are non-negative).
  const __m128i zero = _mm_setzero_si128(), base = _mm_set1_epi64x(at);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(idx),
                   _mm_add_epi64(base, _mm_unpacklo_epi32(offset, zero)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(idx + 2),
                   _mm_add_epi64(base, _mm_unpackhi_epi32(offset, zero)));
}

inline void max_pool_2x2_four(const float* plane, int64_t at, int64_t W, float* out, int64_t* idx) {
  const float* top = plane + at;
  const __m128 t0 = _mm_loadu_ps(top), t1 = _mm_loadu_ps(top + 4);
  const __m128 b0 = _mm_loadu_ps(top + W), b1 = _mm_loadu_ps(top + W + 4);
  constexpr int kEven = _MM_SHUFFLE(2, 0, 2, 0), kOdd = _MM_SHUFFLE(3, 1, 3, 1);
  max_pool_2x2_lanes(_mm_shuffle_ps(t0, t1, kEven), _mm_shuffle_ps(t0, t1, kOdd),
                     _mm_shuffle_ps(b0, b1, kEven), _mm_shuffle_ps(b0, b1, kOdd), at, W, out, idx);
}

// Fewer than four windows in a row (a 7×7 map pooled to 3×3, where the scalar loop took about 55
// cycles a window): the Q <= 3 windows' values gathered one by one into the lanes (the others 0),
// the same select network, the first Q outputs kept.
inline void max_pool_2x2_short_row(const float* plane, int64_t at, int64_t W, int64_t Q, float* out,
                                   int64_t* idx) {
  const float* top = plane + at;
  const auto column = [&](const float* row, int64_t col) {  // row[col], 0 past the Q windows
    return col < 2 * Q ? row[col] : 0.0f;
  };
  const auto lanes = [&](const float* row, int64_t first) {  // columns first, + 2, + 4, + 6
    return _mm_setr_ps(column(row, first), column(row, first + 2), column(row, first + 4),
                       column(row, first + 6));
  };
  float best[4];
  int64_t best_at[4];
  max_pool_2x2_lanes(lanes(top, 0), lanes(top, 1), lanes(top + W, 0), lanes(top + W, 1), at, W,
                     best, best_at);
  for (int64_t q = 0; q < Q; ++q) {
    out[q] = best[q];
    idx[q] = best_at[q];
  }
}
#endif

}  // namespace

void max_pool2d_forward_fast(const Pool2dShape& s, const float* x, float* y, int64_t* indices) {
  const int64_t H = s.in_h, W = s.in_w, P = s.out_h, Q = s.out_w;
  // The common 2×2, stride 2 window: four windows at a time (SSE2), the rest one by one.
  const bool two_by_two = is_two_by_two(s);
  parallel_for(0, s.planes, plane_grain(H * W), [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const float* in = x + plane * H * W;     // [H, W]
      float* out = y + plane * P * Q;          // [P, Q]
      int64_t* idx = indices + plane * P * Q;  // [P, Q]
      for (int64_t p = 0; p < P; ++p) {
        if (two_by_two) {
          const int64_t top = 2 * p * W;  // rows 2p and 2p + 1
#ifdef __SSE2__
          if (Q >= 4 && W < (int64_t{1} << 30)) {
            for (int64_t q = 0; q < Q; q += 4) {
              // A last partial group is done as the row's last four windows: up to three
              // outputs of the group before are computed again, to the same values.
              const int64_t first = std::min(q, Q - 4);
              max_pool_2x2_four(in, top + 2 * first, W, out + p * Q + first, idx + p * Q + first);
            }
            continue;
          }
          if (W < (int64_t{1} << 30)) {
            max_pool_2x2_short_row(in, top, W, Q, out + p * Q, idx + p * Q);
            continue;
          }
#endif
          for (int64_t q = 0; q < Q; ++q) {
            const int64_t at = top + 2 * q;
            float best = in[at];
            int64_t best_at = at;
            take_if_greater(in[at + 1], at + 1, best, best_at);
            take_if_greater(in[at + W], at + W, best, best_at);
            take_if_greater(in[at + W + 1], at + W + 1, best, best_at);
            out[p * Q + q] = best;
            idx[p * Q + q] = best_at;
          }
          continue;
        }
        const int64_t h0 = p * s.stride_h - s.pad_h;
        const int64_t h_first = first_tap_from_zero(h0, s.dilation_h);
        for (int64_t q = 0; q < Q; ++q) {
          const int64_t w0 = q * s.stride_w - s.pad_w;
          // −∞ at the first tap at or after row and column 0: a window of −∞ values keeps that
          // index (its first in-bounds element), and a window wholly in the padding gets it too,
          // as in PyTorch (src/native/pooling.cpp explains; the backward sends it nowhere).
          float best = -std::numeric_limits<float>::infinity();
          int64_t best_at = h_first * W + first_tap_from_zero(w0, s.dilation_w);
          for (int64_t i = 0; i < s.kernel_h; ++i) {
            const int64_t h = h0 + i * s.dilation_h;
            if (h < 0 || h >= H) continue;
            for (int64_t j = 0; j < s.kernel_w; ++j) {
              const int64_t w = w0 + j * s.dilation_w;
              if (w < 0 || w >= W) continue;
              take_if_greater(in[h * W + w], h * W + w, best, best_at);
            }
          }
          out[p * Q + q] = best;
          idx[p * Q + q] = best_at;
        }
      }
    }
  });
}

void max_pool2d_backward_fast(const Pool2dShape& s, const float* gy, const int64_t* indices,
                              float* gx) {
  const int64_t HW = s.in_h * s.in_w, PQ = s.out_h * s.out_w;
  // Every index points into its own plane (or is −1: a window with no input, whose gradient goes
  // nowhere), so planes are independent. Zeros, then each output's gradient added at its
  // maximum's position: windows may overlap (stride < kernel), and where they tile the plane
  // (2×2, stride 2) each pixel gets at most one addition. No comparison of pixels: a version that
  // compared every pixel with its window's index made the op take 476 µs where this made it
  // 131 µs ([64, 6, 24, 24], random values, one thread, the same index check); the −1 test is one
  // branch that never changes direction without dilation.
  parallel_for(0, s.planes, plane_grain(HW), [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      float* g = gx + plane * HW;  // [H, W]
      const float* grad = gy + plane * PQ;
      const int64_t* idx = indices + plane * PQ;
      std::fill(g, g + HW, 0.0f);
      for (int64_t i = 0; i < PQ; ++i) {
        if (idx[i] >= 0) g[idx[i]] += grad[i];
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Batch norm. The reductions run per channel (one channel's N runs of HW values are summed by one
// thread, in a fixed order: the same result for any thread count); the element-wise passes run
// per (n, c) plane. The sums are sum_terms' (double, SSE2 pairs).
// ---------------------------------------------------------------------------------------------
namespace {

// Channels per parallel chunk: at least ~32k values.
int64_t channel_grain(int64_t N, int64_t HW) {
  return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(N * HW, 1));
}

// Batch norm's reductions run over blocks of channels of at most this many floats (512 KiB, half
// of Zen 4's and Zen 5's L2; or one channel, if larger), so that what reads a block again right
// after — the statistics' second pass, the caller's apply pass (ChannelBlockFn) — finds it in L2.
constexpr int64_t kBatchNormBlock = int64_t{1} << 17;

// sums(c0, c1) over blocks of channels, each followed by then(c0, c1) (see ChannelBlockFn), split
// over the threads by channels. Where the channels are too few to split evenly (fewer than 4 per
// thread), the apply pass would be unbalanced: then runs once, for [0, C), after all the sums,
// and its apply kernel splits the planes instead.
template <typename Sums>
void for_channel_blocks(int64_t N, int64_t C, int64_t HW, const Sums& sums,
                        const ChannelBlockFn& then) {
  const int threads = get_num_threads();
  const bool per_block = then && (threads == 1 || C >= 4 * threads);
  const int64_t block = std::max<int64_t>(1, kBatchNormBlock / std::max<int64_t>(N * HW, 1));
  parallel_for(0, C, channel_grain(N, HW), [&](int64_t begin, int64_t end) {
    for (int64_t c0 = begin; c0 < end; c0 += block) {
      const int64_t c1 = std::min(end, c0 + block);
      sums(c0, c1);
      if (per_block) then(c0, c1);
    }
  });
  if (then && !per_block) then(0, C);
}

// Runs f(c, at) for every plane [n, c] of the channels [c0, c1) of every image, split over the
// threads: c its channel, at its first value, (n·C + c)·HW.
template <typename F>
void for_planes(int64_t N, int64_t C, int64_t HW, int64_t c0, int64_t c1, const F& f) {
  const int64_t channels = c1 - c0;
  parallel_for(0, N * channels, plane_grain(HW), [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const int64_t c = c0 + plane % channels;
      f(c, (plane / channels * C + c) * HW);
    }
  });
}

}  // namespace

void batch_norm_stats_fast(int64_t N, int64_t C, int64_t HW, const float* x, double* mean,
                           double* var, const ChannelBlockFn& then) {
  const double count = static_cast<double>(N * HW);
  const PlaneSumFns sums = plane_sums();
  for_channel_blocks(
      N, C, HW,
      [&](int64_t c0, int64_t c1) {
        // Image by image, the block's channels side by side: one contiguous run of (c1 − c0)·HW
        // values per image, which the hardware prefetcher follows better than N separate runs of
        // HW per channel. Each channel still sums its images in order.
        const auto each_row = [&](const auto& f) {
          for (int64_t n = 0; n < N; ++n) {
            for (int64_t c = c0; c < c1; ++c) f(c, x + (n * C + c) * HW);
          }
        };
        for (int64_t c = c0; c < c1; ++c) mean[c] = 0.0;
        each_row([&](int64_t c, const float* row) { mean[c] += sums.sum(HW, row); });
        for (int64_t c = c0; c < c1; ++c) {
          mean[c] = count > 0 ? mean[c] / count : 0.0;
          var[c] = 0.0;
        }
        // Two passes (the second from L2): Σ (x − mean)² does not cancel catastrophically as
        // Σ x² − N·mean² can.
        each_row([&](int64_t c, const float* row) {
          const double mu = mean[c];
          var[c] += sums.sum_squared_deviations(HW, row, mu);
        });
        for (int64_t c = c0; c < c1; ++c) var[c] = count > 0 ? var[c] / count : 0.0;
      },
      then);
}

// The fused ReLU's forward: y = max(x · scale + shift, 0), NaN passing through as in relu().
void batch_norm_apply_fast(int64_t N, int64_t C, int64_t HW, int64_t c0, int64_t c1, const float* x,
                           const float* scale, const float* shift, bool relu, float* y) {
  for_planes(N, C, HW, c0, c1, [&](int64_t c, int64_t at) {
    const float a = scale[c], d = shift[c];
    const float* in = x + at;
    float* out = y + at;
    if (relu) {
      for (int64_t i = 0; i < HW; ++i) {
        const float v = bn_pre_activation(in[i], a, d);
        out[i] = v < 0.0f ? 0.0f : v;
      }
    } else {
      for (int64_t i = 0; i < HW; ++i) out[i] = bn_pre_activation(in[i], a, d);
    }
  });
}

namespace {

// gy where the fused ReLU passed its value (pre-activation x · scale + shift not ≤ 0), else 0:
// the gradient that reaches batch norm's own output. Called only with the fused ReLU (non-null
// relu_scale and relu_shift).
float relu_masked(float g, float x, const float* relu_scale, const float* relu_shift, int64_t c) {
  return bn_pre_activation(x, relu_scale[c], relu_shift[c]) <= 0.0f ? 0.0f : g;
}

}  // namespace

void batch_norm_backward_reduce_fast(int64_t N, int64_t C, int64_t HW, const float* gy,
                                     const float* x, const double* mean, const float* relu_scale,
                                     const float* relu_shift, double* sum_dy, double* sum_dy_xmu,
                                     const ChannelBlockFn& then) {
  const PlaneSumFns sums = plane_sums();
  for_channel_blocks(
      N, C, HW,
      [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) sum_dy[c] = sum_dy_xmu[c] = 0.0;
        // With the fused ReLU, each row's masked gradient goes through a buffer of HW floats (in
        // L1) first, so that the sums below stay the plain ones.
        float* masked = relu_scale != nullptr ? thread_buffer(HW) : nullptr;
        // Image by image, channels side by side, as in batch_norm_stats_fast.
        for (int64_t n = 0; n < N; ++n) {
          for (int64_t c = c0; c < c1; ++c) {
            const float* g = gy + (n * C + c) * HW;
            const float* in = x + (n * C + c) * HW;
            if (masked != nullptr) {
              for (int64_t i = 0; i < HW; ++i)
                masked[i] = relu_masked(g[i], in[i], relu_scale, relu_shift, c);
              g = masked;
            }
            const double mu = mean[c];
            sum_dy[c] += sums.sum(HW, g);
            sum_dy_xmu[c] += sums.sum_products_of_deviations(HW, g, in, mu);
          }
        }
      },
      then);
}

namespace {

// One plane of batch_norm_backward_apply_fast, its two choices made at compile time so that each
// loop stays a straight vectorisable one: kRelu masks gy with the fused ReLU's step; kWithX adds
// the training mode's x·b + d (eval mode has no x term: not even x·0, which is NaN for an inf x).
template <bool kRelu, bool kWithX>
void backward_apply_plane(int64_t HW, const float* g, const float* in, float ac, float bc, float dc,
                          const float* relu_scale, const float* relu_shift, int64_t c, float* out) {
  for (int64_t i = 0; i < HW; ++i) {
    const float gi = kRelu ? relu_masked(g[i], in[i], relu_scale, relu_shift, c) : g[i];
    out[i] = kWithX ? gi * ac + in[i] * bc + dc : gi * ac;
  }
}

}  // namespace

void batch_norm_backward_apply_fast(int64_t N, int64_t C, int64_t HW, int64_t c0, int64_t c1,
                                    const float* gy, const float* x, const float* a, const float* b,
                                    const float* d, const float* relu_scale,
                                    const float* relu_shift, float* gx) {
  const bool relu = relu_scale != nullptr, with_x = b != nullptr;
  const auto plane_fn =
      relu ? (with_x ? backward_apply_plane<true, true> : backward_apply_plane<true, false>)
           : (with_x ? backward_apply_plane<false, true> : backward_apply_plane<false, false>);
  for_planes(N, C, HW, c0, c1, [&](int64_t c, int64_t at) {
    plane_fn(HW, gy + at, x + at, a[c], with_x ? b[c] : 0.0f, with_x ? d[c] : 0.0f, relu_scale,
             relu_shift, c, gx + at);
  });
}

}  // namespace tinytorch::kernels
