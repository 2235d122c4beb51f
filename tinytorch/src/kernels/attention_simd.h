// The fast tier's attention kernels (kernels/attention.h), written once over a vector type and
// instantiated per instruction set: attention_avx2.cpp, attention_avx512.cpp, and the portable
// one-lane version in attention_fast.cpp. Private to src/kernels.
//
// V is one of vec_policy.h's vector policies (Scalar, Avx2, Avx512).
//
// ── The forward: online softmax over blocks of keys (FlashAttention) ──────────────────────────
// For a block of query rows [i0, i1) of one problem, the keys are visited kKeyBlock at a time;
// each row keeps a running max m, a running sum l and an unnormalised output acc:
//
//   s      = q_i·kᵀ·scale + mask                  (kKeyBlock scores, a row of a small tile)
//   m_new  = max(m, max_j s_j)
//   acc    = acc·e^(m − m_new) + Σ_j e^(s_j − m_new)·v_j
//   l      = l·e^(m − m_new)   + Σ_j e^(s_j − m_new)
//   ...after the last block: out_i = acc / l,  logsumexp_i = m + log l
//
// Rescaling by e^(m − m_new) whenever the max grows keeps every exponent ≤ 0 (no overflow), and
// the result is exactly softmax(s)·v: no L×S matrix is ever stored, only a tile of kKeyBlock
// scores per row. While m is still −∞ (every key so far masked) a block adds nothing; a row that
// ends with l = 0 had no visible key: out = 0, logsumexp = −∞.
//
// Per key block, the row block's scores S = (Q·scale)·Kᵀ are one small matrix product into a tile
// P [rows][kKeyBlock], each row of which then becomes p = e^(s − m_new), and acc += P·V is another
// (FlashAttention-2's order). Both run in register tiles (accumulate_band): a few rows × a few
// vectors of the result stay in registers while the sum runs over E or the block's keys, one
// broadcast feeding several FMAs; under is_causal they skip the tiles above the diagonal.
//
// ── The backward: P rebuilt tile by tile from logsumexp (FlashAttention-2) ─────────────────────
// One problem at a time (dK and dV sum over every query row), keys in blocks, and for each block
// the query rows that can see it in chunks of kQueryChunk. A chunk computes its scores and
// dp = dO·vᵀ as two products into tiles P, dS [chunk rows][kKeyBlock], turns them row by row into
//
//   p  = exp(q_i·kᵀ·scale + mask − logsumexp_i)
//   ds = p ⊙ (dp − D_i),  D_i = dO_i·out_i  (= Σ_j p_j·dp_j: the softmax's row term)
//
// (zero for every invisible key), then multiplies them out as three more, in register tiles too:
//
//   dV_block += Pᵀ·dO_chunk,   dK_block += dSᵀ·(Q·scale)_chunk,   dQ_chunk += dS·(K·scale)_block
//
// (Done row by row instead, as rank-1 updates dV_j += p_j·dO_i, every FMA would load and store a
// row of dV: the store port, not the FMAs, would set the pace.) The backward stores no L×S matrix
// either: it pays for it by computing the scores twice.
//
// NOTE: this header is compiled once per instruction set (attention_avx2.cpp, attention_avx512.cpp,
// attention_fast.cpp), and each copy must stay inside the file that compiled it, or the linker
// could hand AVX-512 code to a caller on a CPU without it (gemm_simd.h has the same rule). So
// every function here is a member of FlashAttention<V>, whose V lives in an unnamed namespace
// (vec_policy.h: every instantiation is local to its file), and none calls an inline
// function of the standard library (the one shared copy of, say, std::fill<float*> could come
// from any of the files): plain loops, and __builtin_expf / __builtin_logf, which call libm.
// Scratch memory comes from the caller (attention_fast.cpp) for the same reason.
#pragma once

#include <cstdint>
#include <limits>

#include "tinytorch/kernels/attention.h"
#include "unroll.h"

namespace tinytorch::kernels::attention_detail {

// Keys per block: a row's 64 scores are one 256-byte row of a P tile, and the packed key and value
// blocks of a 64-dim head (2 · 16 KiB) stay in L1/L2 while every row of the block reads them.
inline constexpr int64_t kKeyBlock = 64;
// Query rows per task of the forward (the threads share out (problem, row block) pairs).
inline constexpr int64_t kRowBlock = 64;
// Query rows per P/dS tile of the backward: 2 · 16 KiB of tiles whatever the sequence length.
inline constexpr int64_t kQueryChunk = 64;

// Each region of the kernels' scratch memory (below) starts on a 64-byte cache line (this many
// floats), and so does the memory itself (attention_fast.cpp's scratch): every row of a tile is
// then whole vectors within lines. A std::vector's memory is only 16-byte aligned, and where it
// fell 16 or 48 bytes into a line, every 64-byte vector of P and the others had a 32-byte half
// straddling two lines (Zen 4 moves such vectors in 32-byte halves), and the tiles' stores and the
// softmax's loads of them were slower: the 2017 GPT's attention took 0.89-0.92 ms forward and
// 1.88-1.97 backward at a 16-byte offset, 0.80-0.82 and 1.81-1.88 on whole lines, as at a 32-byte
// offset (one thread, medians of 300 calls, 2-vCPU Zen 4).
inline constexpr int64_t kScratchAlign = 16;

// The scratch floats the kernels need from their caller, for vectors of `lanes` floats, each region
// rounded up to whole lines (the kernels below carve it up in this order: keep the two in step).
//   forward (one row block of `rows` rows):  kt [E][64], vp [64][Evp], acc [rows][Evp],
//                                            q_scaled [rows][E], m, l [rows], P [rows][64]
//   backward (one problem):  qp [L][Ep], dq [L][Ep], dop [L][Evp], D [L],
//                            kt [E][64], vt [Ev][64], kp [64][Ep], dk [64][Ep], dv [64][Evp],
//                            P, dS [kQueryChunk][64]
// (Ep, Evp: E and Ev rounded up to whole vectors.) Defined in attention_fast.cpp only.
int64_t forward_workspace(const AttentionShape& s, int64_t rows, int64_t lanes);
int64_t backward_workspace(const AttentionShape& s, int64_t lanes);

// A task of the forward: problem b's query rows [i0, i1). As the task a thread runs next (whose
// rows the current one touches ahead), b < 0 means none.
struct Task {
  int64_t b = -1, i0 = 0, i1 = 0;
};

template <class V>
struct FlashAttention {
  using Vec = typename V::Vec;
  static constexpr int64_t W = V::kLanes, NV = kKeyBlock / W;
  // Row blocks with fewer rows than this (decoding) compute their scores as dot products with
  // the key rows: packing kᵀ would cost as much as using it once.
  static constexpr int64_t kDirectRows = 4;
  // Keys per strip of the score products. On the causal diagonal a strip is one vector: rows skip
  // the strips they cannot see, and narrower strips skip more (a 64 × 64 block: 5,120 instead of
  // 6,144 vector multiply-adds per product at 16 lanes). Where every row sees every key, two
  // vectors: tiles kTileVectors / 2 rows tall, one broadcast for two multiply-adds.
  static constexpr int64_t kCausalStrip = W, kFullStrip = 2 * W;
  // Query rows per pass of the forward's softmax (see forward_rows).
  static constexpr int64_t kSoftmaxRows = 8;

  static int64_t round_up(int64_t x) { return (x + W - 1) / W * W; }
  static int64_t min(int64_t a, int64_t b) { return a < b ? a : b; }
  static int64_t clamp(int64_t x, int64_t lo, int64_t hi) { return x < lo ? lo : x > hi ? hi : x; }

  // How many keys of the block starting at j0 (n of them) query row i may see: all n, or under
  // the bottom-right causal rule those with j ≤ i + S − L. May be ≤ 0.
  static int64_t visible_in_block(const AttentionShape& s, int64_t i, int64_t j0, int64_t n) {
    return s.causal ? min(n, i + (s.kv_len - s.q_len) + 1 - j0) : n;
  }

  // Row i of problem b: Rows::row restated as a member (the NOTE above: no inline function from
  // outside FlashAttention<V>).
  template <typename T>
  static T* row(const Rows<T>& r, int64_t b, int64_t i) {
    return r.data + r.offsets[b] + i * r.ld;
  }

  // The next `floats` of the scratch memory at `at`, which moves on to the next whole line.
  static float* carve(float*& at, int64_t floats) {
    float* region = at;
    at += (floats + kScratchAlign - 1) / kScratchAlign * kScratchAlign;
    return region;
  }

  // p[0 .. n) = value, a vector at a time.
  static void fill(float* p, int64_t n, float value) {
    const Vec v = V::set1(value);
    const int64_t whole = n / W * W;
    for (int64_t x = 0; x < whole; x += W) V::store(p + x, v);
    for (int64_t x = whole; x < n; ++x) p[x] = value;
  }

  // dst [n][ld_dst] = src [n][ld_src] · factor over the first `width` columns, and zeros from
  // `width` to `padded` (≤ ld_dst): packs rows padded to whole vectors (padded = ld_dst =
  // round_up(width)), or copies packed rows back out (padded = width) to rows ld_dst apart.
  static void copy_rows(const float* src, int64_t ld_src, int64_t n, int64_t width, float factor,
                        float* dst, int64_t ld_dst, int64_t padded) {
    const Vec f = V::set1(factor);
    for (int64_t r = 0; r < n; ++r) {
      const float* from = src + r * ld_src;
      float* to = dst + r * ld_dst;
      int64_t e = 0;
      for (; e + W <= width; e += W) V::store(to + e, V::mul(V::load(from + e), f));
      for (; e < padded; ++e) to[e] = e < width ? from[e] * factor : 0.0f;
    }
  }

  // dst [width][kKeyBlock] = src [n][ld_src] transposed (its first `width` columns), zero past n:
  // W × W blocks through V::transpose, then the ragged edges (n or width not a multiple of W)
  // element by element.
  static void pack_transposed(const float* src, int64_t ld_src, int64_t n, int64_t width,
                              float* dst) {
    const int64_t n_whole = n / W * W, width_whole = width / W * W;
    for (int64_t j = 0; j < n_whole; j += W) {
      for (int64_t e = 0; e < width_whole; e += W)
        V::transpose(src + j * ld_src + e, ld_src, dst + e * kKeyBlock + j, kKeyBlock);
    }
    for (int64_t e = 0; e < width; ++e) {
      for (int64_t j = e < width_whole ? n_whole : 0; j < kKeyBlock; ++j)
        dst[e * kKeyBlock + j] = j < n ? src[j * ld_src + e] : 0.0f;
    }
  }

  // Σ a[e]·b[e] over e < n.
  static float dot(const float* a, const float* b, int64_t n) {
    Vec acc = V::zero();
    int64_t e = 0;
    for (; e + W <= n; e += W) acc = V::fmadd(V::load(a + e), V::load(b + e), acc);
    float r = V::reduce_add(acc);
    for (; e < n; ++e) r += a[e] * b[e];
    return r;
  }

  // ── Touching the next task's rows ahead of it ─────────────────────────────────────────────────
  // A transformer's q, k and v are views of its one projection, and out and dO are rows of their
  // own tensors: a task reads a few dozen KiB of rows scattered through memory (the 2017 GPT: 64
  // rows of 128 bytes from each of q, k, v, 1,536 bytes apart, and from out and dO), which in a
  // training step were written long before and have left the caches. The hardware prefetchers see
  // short strided runs; each first touch of a line waited for memory. So a task touches the lines
  // of the rows its thread's next task starts with, a few per query row of its softmax loop, well
  // before they are needed:
  //
  //   task b:    copies │ score tiles │ softmax rows ···· │ P·V (dV, dK, dQ) tiles │ copies out
  //                                     └ task b+1's rows, 6-10 lines a row ┘
  //   task b+1:  copies (lines in L1/L2 by now) ...
  //
  // Spread out like this, the prefetches overlap the arithmetic. (Issued all at a task's start,
  // into L2, they measured no gain.)
  // Only calls whose rows outgrow the caches, and never a decoding step's few rows (see
  // attention_fast.cpp's kAheadMinBytes and forward_rows).
  // NOTE: a prefetch never faults and never changes a value, so the rows touched need not be all
  // the next task reads (a longer sequence reads more): its first block's are. Addresses are
  // computed as integers: a row's first line may begin before it, its last end after it.
  struct NextRows {
    static constexpr int kMaxStreams = 5;
    struct Stream {
      uintptr_t first;                // row 0's first byte
      int64_t ld_bytes, rows, bytes;  // bytes: of a row's width
    };
    Stream streams[kMaxStreams];
    int count = 0;
    // Where issue() goes on: stream, row, and the next line's address in that row (0: its first).
    int stream = 0;
    int64_t row = 0;
    uintptr_t at = 0;

    // `rows` rows of `width` floats, ld floats apart.
    void add(const float* first, int64_t ld, int64_t rows, int64_t width) {
      if (rows <= 0 || width <= 0 || count == kMaxStreams) return;
      streams[count++] = {reinterpret_cast<uintptr_t>(first), ld * 4, rows, width * 4};
    }
    // The lines of all rows: exact where every row starts at the same offset in its line (ld a
    // multiple of 64 bytes), at most one too many a row otherwise.
    int64_t total_lines() const {
      int64_t n = 0;
      for (int i = 0; i < count; ++i) {
        const Stream& s = streams[i];
        const auto offset = static_cast<int64_t>(s.first % 64);
        n += s.rows *
             (s.ld_bytes % 64 == 0 ? (offset + s.bytes + 63) / 64 : (s.bytes + 63) / 64 + 1);
      }
      return n;
    }
    // Touches the next `n` lines (fewer once all are done), stream by stream in the order added.
    void issue(int64_t n) {
      for (; n > 0 && stream < count; --n) {
        const Stream& s = streams[stream];
        const uintptr_t start = s.first + static_cast<uintptr_t>(row * s.ld_bytes);
        if (at == 0) at = start & ~uintptr_t{63};
        __builtin_prefetch(reinterpret_cast<const void*>(at), 0, 3);
        at += 64;
        if (at < start + static_cast<uintptr_t>(s.bytes)) continue;
        at = 0;
        if (++row < s.rows) continue;
        row = 0;
        ++stream;
      }
    }
  };

  // ── Register tiles: every product of both passes ──
  // One small matrix product, C [m][width] (+)= Σ_t a(t, x) · B[t][0 .. width) for every row
  // x < m, with a(t, x) = A[t·a_t + x·a_x]: the strides let A be read as it lies (say P
  // [rows][keys] for dV = Pᵀ·dO, or for dQ = dS·K: the same layout, the other way round).
  struct Product {
    const float* A;
    int64_t a_t, a_x;
    const float* B;  // [T][ldb]
    int64_t ldb;
    float* C;  // [m][ldc]
    int64_t ldc;
  };

  // A band wide enough for any m and T: no band.
  static constexpr int64_t kNoBand = int64_t{1} << 40;
  // Columns per register tile: at most this many vectors.
  static constexpr int64_t kChunk = 4;
  // Vector registers for a tile's accumulators: AVX-512 has 32, the others 16, which must also
  // hold a row of B (≤ kChunk vectors) and a broadcast.
  static constexpr int64_t kTileVectors = W == 16 ? 24 : 12;

  // C = (accumulate ? C : 0) + Σ_t a(t, x)·B[t][..] over t < T (width a multiple of W), in
  // register tiles, visiting only the band lo ≤ t − x < hi: a tile of rows [x0, x0 + R) sums over
  // t ∈ [x0 + lo, x0 + R − 1 + hi) (clamped to [0, T)). The kernels' band is the causal
  // triangle, between query rows and keys.
  // NOTE: inside a visited tile some (t, x) may still lie outside the band: A must hold zeros
  // there (P and dS are zero wherever a key is invisible).
  static void accumulate_band(const Product& p, int64_t m, int64_t T, int64_t width,
                              bool accumulate, int64_t lo = -kNoBand, int64_t hi = kNoBand) {
    for (int64_t c0 = 0; c0 < width; c0 += kChunk * W) {
      const Product strip{p.A, p.a_t, p.a_x, p.B + c0, p.ldb, p.C + c0, p.ldc};
      band_columns<kChunk>(min(kChunk, (width - c0) / W), strip, m, T, accumulate, lo, hi);
    }
  }

  // accumulate_band for one strip of nv ≤ NV_ vectors of columns: dispatches nv to a compile-time
  // NV_ (so that the tile's accumulators are a fixed array the compiler keeps in registers), then
  // walks the rows in tiles of kTileVectors / NV_ (the ragged last one in tiles half as tall).
  template <int64_t NV_>
  static void band_columns(int64_t nv, const Product& p, int64_t m, int64_t T, bool accumulate,
                           int64_t lo, int64_t hi) {
    if constexpr (NV_ > 1) {
      if (nv < NV_) return band_columns<NV_ - 1>(nv, p, m, T, accumulate, lo, hi);
    }
    for (int64_t x0 = 0; x0 < m;) {
      const bool full = m - x0 >= TileShape<NV_, true>::kRows;
      const int64_t rows =
          full ? TileShape<NV_, true>::kRows : min(TileShape<NV_, false>::kRows, m - x0);
      const int64_t t0 = clamp(x0 + lo, 0, T), t1 = clamp(x0 + rows - 1 + hi, 0, T);
      const Product tile{p.A + x0 * p.a_x, p.a_t, p.a_x, p.B, p.ldb, p.C + x0 * p.ldc, p.ldc};
      if (t0 < t1 || !accumulate) {  // else the tile lies outside the band: C stays
        if (full) {
          band_tile<NV_, true>(tile, rows, t0, t1, accumulate);
        } else {
          band_tile<NV_, false>(tile, rows, t0, t1, accumulate);
        }
      }
      x0 += rows;
    }
  }

  // A tile's shape: kRows rows of NV_ vectors, in kSets sets of accumulators. A full tile fills
  // the registers with one set; a ragged one (a few rows: a decoding step's one query) has half
  // the rows and two sets, for even and odd t: its few rows alone would leave too few FMA chains
  // in flight to hide their latency.
  template <int64_t NV_, bool kFull>
  struct TileShape {
    static constexpr int64_t kSets = kFull ? 1 : 2;
    static constexpr int64_t kRows = kTileVectors / NV_ / kSets;
    static_assert(kRows >= 1, "kTileVectors too small for kChunk vectors in two sets");
  };

  // One register tile: C[x][0 .. NV_·W) (+)= Σ_{t0 ≤ t < t1} a(t, x)·B[t][..] for x < rows (≤
  // kRows, all of them when kFull), the accumulators loaded (or zeroed) once, summed in
  // registers, stored once. Per t: NV_ loads of B, then per row one broadcast and NV_ FMAs.
  template <int64_t NV_, bool kFull>
  static void band_tile(const Product& p, int64_t rows, int64_t t0, int64_t t1, bool accumulate) {
    constexpr int64_t kSets = TileShape<NV_, kFull>::kSets, R = TileShape<NV_, kFull>::kRows;
    Vec acc[kSets][R][NV_];
    TT_UNROLL(2)
    for (int64_t h = 0; h < kSets; ++h) {
      TT_UNROLL(24)
      for (int64_t x = 0; x < R; ++x) {
        TT_UNROLL(4)
        for (int64_t c = 0; c < NV_; ++c) {
          const bool load = h == 0 && accumulate && (kFull || x < rows);
          acc[h][x][c] = load ? V::load(p.C + x * p.ldc + c * W) : V::zero();
        }
      }
    }
    for (int64_t t = t0; t < t1; t += kSets) {
      TT_UNROLL(2)
      for (int64_t h = 0; h < kSets; ++h) {
        if (h > 0 && t + h >= t1) break;
        const float* a = p.A + (t + h) * p.a_t;
        Vec b[NV_];
        TT_UNROLL(4)
        for (int64_t c = 0; c < NV_; ++c) b[c] = V::load(p.B + (t + h) * p.ldb + c * W);
        TT_UNROLL(24)
        for (int64_t x = 0; x < R; ++x) {
          if (kFull || x < rows) {
            const Vec ax = V::set1(a[x * p.a_x]);
            TT_UNROLL(4)
            for (int64_t c = 0; c < NV_; ++c) acc[h][x][c] = V::fmadd(ax, b[c], acc[h][x][c]);
          }
        }
      }
    }
    TT_UNROLL(24)
    for (int64_t x = 0; x < R; ++x) {
      TT_UNROLL(4)
      for (int64_t c = 0; c < NV_; ++c) {
        if (kFull || x < rows) {
          Vec sum = acc[0][x][c];
          TT_UNROLL(2)
          for (int64_t h = 1; h < kSets; ++h) sum = V::add(sum, acc[h][x][c]);
          V::store(p.C + x * p.ldc + c * W, sum);
        }
      }
    }
  }

  // S [rows][kKeyBlock] = X [rows][K] · block, block [K][kKeyBlock] a packed, transposed key or
  // value block whose keys past n are zeros: the scores (X = Q·scale, block = Kᵀ) or dP (X = dO,
  // block = Vᵀ). A strip of keys at a time, for the rows that see the strip's first key
  // (r ≥ x0 − shift, when row r sees key x iff x ≤ r + shift): on the causal diagonal, about half
  // the products. Row r's entries past its visible keys are not meaningful.
  static void strip_products(const float* X, int64_t ldx, int64_t K, const float* block,
                             int64_t rows, int64_t n, int64_t shift, float* S) {
    const int64_t np = round_up(n);
    const int64_t strip = shift >= n - 1 ? kFullStrip : kCausalStrip;  // row 0 sees every key?
    for (int64_t x0 = 0; x0 < np; x0 += strip) {
      const int64_t r0 = clamp(x0 - shift, 0, rows);
      accumulate_band(
          {X + r0 * ldx, 1, ldx, block + x0, kKeyBlock, S + r0 * kKeyBlock + x0, kKeyBlock},
          rows - r0, K, min(strip, np - x0), /*accumulate=*/false);
    }
  }

  // A row of scores s_row, in place: + mask_row for the `visible` (≥ 1) first keys, and −∞ for
  // the rest of the last vector that holds a visible key. Returns ⌈visible / W⌉, the vectors
  // that hold one: the callers read no further.
  // NOTE: the last vector is rewritten whole (a partial load, one vector store), not lane by
  // lane: the callers load it as a vector next, and a vector load that overlaps several recent
  // scalar stores cannot take its data from them — it waits until they reach the cache (a
  // "store-forwarding stall", ~20 cycles a row; the causal rows' ragged ends hit it every time).
  static int64_t mask_scores(int64_t visible, const float* mask_row, float* s_row) {
    const int64_t full = visible / W, live = (visible + W - 1) / W;
    if (mask_row != nullptr) {
      for (int64_t t = 0; t < full; ++t) {
        V::store(s_row + t * W, V::add(V::load(s_row + t * W), V::load(mask_row + t * W)));
      }
    }
    if (live > full) {
      const int64_t k = visible - full * W;  // visible lanes of the last vector, 1 ≤ k < W
      Vec last = V::load_partial(s_row + full * W, k, -std::numeric_limits<float>::infinity());
      if (mask_row != nullptr) last = V::add(last, V::load_partial(mask_row + full * W, k, 0.0f));
      V::store(s_row + full * W, last);
    }
    return live;
  }

  // The first half of a row's online-softmax step against one key block: p_row's scores s (the
  // first `visible` valid) + mask (mask_scores), and their max (−∞ when none is visible).
  static float masked_row_max(int64_t visible, const float* mask_row, float* p_row) {
    const int64_t live = visible > 0 ? mask_scores(visible, mask_row, p_row) : 0;
    Vec mv = V::set1(-std::numeric_limits<float>::infinity());
    for (int64_t t = 0; t < live; ++t) mv = V::max(mv, V::load(p_row + t * W));
    return V::reduce_max(mv);
  }

  // The second half, given that max: p_row becomes p = e^(s + mask − m_new) (⊙ keep), zero past
  // `visible`; m, l move to the new block, and acc_row [Evp] is rescaled by e^(m − m_new), ready
  // for acc += P·V.
  static void online_softmax_row(int64_t visible, float block_max, const float* keep_row, float& m,
                                 float& l, float* acc_row, int64_t Evp, float* p_row) {
    const float neg_inf = -std::numeric_limits<float>::infinity();
    const int64_t live = visible > 0 ? (visible + W - 1) / W : 0;
    const float m_new = block_max > m ? block_max : m;
    if (m_new == neg_inf) {  // every key so far masked: nothing to add yet
      fill(p_row, kKeyBlock, 0.0f);
      return;
    }
    const Vec mn = V::set1(m_new);
    Vec sum = V::zero();
    for (int64_t t = 0; t < live; ++t) {
      const Vec p = V::exp(V::sub(V::load(p_row + t * W), mn));
      sum = V::add(sum, p);
      V::store(p_row + t * W, p);
    }
    fill(p_row + live * W, kKeyBlock - live * W, 0.0f);
    // acc and l rescale by e^(m − m_new) only when an earlier block added to them and the max
    // grew: while m was −∞ they are zero (the one block of a short sequence never rescales).
    if (m != neg_inf && m_new != m) {
      const float alpha = __builtin_expf(m - m_new);
      l *= alpha;
      copy_rows(acc_row, Evp, 1, Evp, alpha, acc_row, Evp, Evp);
    }
    l += V::reduce_add(sum);  // the softmax's sum: before dropout
    m = m_new;
    if (keep_row != nullptr) {  // dropout: out accumulates (P ⊙ keep)·v
      for (int64_t j = 0; j < visible; ++j) p_row[j] *= keep_row[j];
    }
  }

  // The query rows [i0, i1) of problem b. The operands' rows may be strided (Rows): a row is
  // read in place through its leading dimension, or packed into `work`.
  static void forward_rows(const AttentionShape& s, const AttentionInputs<float>& in, int64_t b,
                           int64_t i0, int64_t i1, const Rows<float>& out, float* logsumexp,
                           float* work, Task next) {
    const int64_t L = s.q_len, S = s.kv_len, E = s.head_dim, Ev = s.value_dim;
    const int64_t Evp = round_up(Ev), rows = i1 - i0;
    const float neg_inf = -std::numeric_limits<float>::infinity();
    const float* k = row(in.key, b, 0);    // [S][ldk]
    const float* v = row(in.value, b, 0);  // [S][ldv]
    const int64_t ldk = in.key.ld, ldv = in.value.ld;
    const float* mask = in.mask != nullptr ? in.mask + in.mask_offsets[b] : nullptr;
    float* kt = carve(work, E * kKeyBlock);    // [E][kKeyBlock]
    float* vp = carve(work, kKeyBlock * Evp);  // [kKeyBlock][Evp]
    float* acc = carve(work, rows * Evp);      // [rows][Evp]
    float* q_scaled = carve(work, rows * E);   // [rows][E]
    float* m = carve(work, rows);              // [rows]
    float* l = carve(work, rows);              // [rows]
    float* P = carve(work, rows * kKeyBlock);  // [rows][kKeyBlock]  s, then p
    fill(acc, rows * Evp, 0.0f);
    fill(m, rows, neg_inf);
    fill(l, rows, 0.0f);
    copy_rows(row(in.query, b, i0), in.query.ld, rows, E, static_cast<float>(s.scale), q_scaled, E,
              E);
    // The next task's query rows, and the keys and values of its first block — unless this is a
    // decoding step's few rows, whose loop would issue them all at once (and whose cached keys
    // and values the step before read last).
    NextRows ahead;
    if (next.b >= 0 && rows >= kDirectRows) {
      ahead.add(row(in.query, next.b, next.i0), in.query.ld, next.i1 - next.i0, E);
      ahead.add(row(in.key, next.b, 0), in.key.ld, min(S, kKeyBlock), E);
      ahead.add(row(in.value, next.b, 0), in.value.ld, min(S, kKeyBlock), Ev);
    }
    const int64_t lines_per_row = (ahead.total_lines() + rows - 1) / rows;

    // Under is_causal the row block's last row sees keys up to (i1 − 1) + S − L.
    const int64_t key_end = s.causal ? clamp(i1 + S - L, 0, S) : S;
    // A few rows (decoding) read the key rows directly; value rows are read in place when they
    // are whole vectors already.
    const bool direct = rows < kDirectRows, values_in_place = Ev == Evp;
    for (int64_t j0 = 0; j0 < key_end; j0 += kKeyBlock) {
      const int64_t n = min(kKeyBlock, key_end - j0);
      // Row r sees key x of the block iff x ≤ r + shift (every key unless causal).
      const int64_t shift = s.causal ? i0 + (S - L) - j0 : n;
      if (direct) {
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t visible = visible_in_block(s, i0 + r, j0, n);
          for (int64_t j = 0; j < visible; ++j)
            P[r * kKeyBlock + j] = dot(q_scaled + r * E, k + (j0 + j) * ldk, E);
        }
      } else {
        pack_transposed(k + j0 * ldk, ldk, n, E, kt);
        strip_products(q_scaled, E, E, kt, rows, n, shift, P);
      }
      // The softmax in passes over kSoftmaxRows rows: every row's masked max, then every row's
      // exponentials. Row by row, each step waited on the one before (the max's reduction across
      // lanes, the exponentials, the sum's reduction); a pass gives the core several rows' chains
      // at once (the 2017 GPT's forward: 0.81-0.83 → 0.79-0.81 ms, one thread, 2-vCPU Zen 4).
      for (int64_t r0 = 0; r0 < rows; r0 += kSoftmaxRows) {
        const int64_t r1 = min(rows, r0 + kSoftmaxRows);
        float block_max[kSoftmaxRows];
        for (int64_t r = r0; r < r1; ++r) {
          ahead.issue(lines_per_row);
          const int64_t i = i0 + r;
          block_max[r - r0] =
              masked_row_max(visible_in_block(s, i, j0, n),
                             mask != nullptr ? mask + i * S + j0 : nullptr, P + r * kKeyBlock);
        }
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t i = i0 + r;
          online_softmax_row(visible_in_block(s, i, j0, n), block_max[r - r0],
                             in.keep != nullptr ? in.keep + (b * L + i) * S + j0 : nullptr, m[r],
                             l[r], acc + r * Evp, Evp, P + r * kKeyBlock);
        }
      }
      // acc [rows][Evp] += P·V: tiles of rows, summed over the keys x ≤ r + shift.
      if (!values_in_place) copy_rows(v + j0 * ldv, ldv, n, Ev, 1.0f, vp, Evp, Evp);
      const Product pv = values_in_place ? Product{P, 1, kKeyBlock, v + j0 * ldv, ldv, acc, Evp}
                                         : Product{P, 1, kKeyBlock, vp, Evp, acc, Evp};
      accumulate_band(pv, rows, n, Evp, /*accumulate=*/true, -kNoBand, shift + 1);
    }
    // logsumexp = m + log l, a vector of rows at a time (l ≥ 1 wherever a key was visible: the
    // row's max contributes e^0); rows with l = 0 get −∞ below.
    float* lse = logsumexp + b * L + i0;  // [rows]
    for (int64_t r = 0; r < rows; r += W) {
      const int64_t k = min(W, rows - r);
      const Vec x =
          V::add(V::load_partial(m + r, k, 0.0f), V::log(V::load_partial(l + r, k, 1.0f)));
      V::store_partial(lse + r, k, x);
    }
    for (int64_t r = 0; r < rows; ++r) {
      float* o = row(out, b, i0 + r);
      if (l[r] == 0.0f) {  // no visible key
        fill(o, Ev, 0.0f);
        lse[r] = neg_inf;
        continue;
      }
      copy_rows(acc + r * Evp, Evp, 1, Ev, 1.0f / l[r], o, Ev, Ev);
    }
  }

  // One query row's softmax gradient, in place, against one key block (kKeyBlock entries each,
  // zero past the `visible` (≥ 1) first keys):
  //   p_row:  the scores s (q_i·kᵀ·scale)         →  p = exp(s + mask − lse_i)  (⊙ keep)
  //   ds_row: dp = dO_i·vᵀ                         →  ds = p ⊙ (dp (⊙ keep) − D_i)
  // Past `visible` the scores are −∞, so p = 0 exactly and ds = 0·(dp − D_i) = 0.
  static void softmax_gradient_row(int64_t visible, const float* mask_row, const float* keep_row,
                                   float lse_i, float D_i, float* p_row, float* ds_row) {
    const int64_t live = mask_scores(visible, mask_row, p_row);
    const Vec l_i = V::set1(lse_i), d_i = V::set1(D_i);
    for (int64_t t = 0; t < live; ++t) {
      const Vec p = V::exp(V::sub(V::load(p_row + t * W), l_i)), dp = V::load(ds_row + t * W);
      V::store(p_row + t * W, p);
      V::store(ds_row + t * W, keep_row == nullptr ? V::mul(p, V::sub(dp, d_i)) : dp);
    }
    fill(p_row + live * W, kKeyBlock - live * W, 0.0f);
    fill(ds_row + live * W, kKeyBlock - live * W, 0.0f);
    if (keep_row == nullptr) return;
    // Dropout: ds = p ⊙ (dp ⊙ keep − D) and dV takes p ⊙ keep, element by element (ds_row
    // holds dp so far).
    for (int64_t j = 0; j < visible; ++j) {
      ds_row[j] = p_row[j] * (ds_row[j] * keep_row[j] - D_i);
      p_row[j] *= keep_row[j];
    }
    fill(ds_row + visible, live * W - visible, 0.0f);  // dp in the last live vector's tail
  }

  // Problem b's gradients. q, k, v, out and grad_out are read through their Rows (strided rows
  // are packed, as contiguous ones are); the gradients are written through theirs.
  static void backward_problem(const AttentionShape& s, const AttentionInputs<float>& in, int64_t b,
                               const Rows<const float>& out, const float* logsumexp,
                               const Rows<const float>& grad_out, const Rows<float>& grad_query,
                               const Rows<float>& grad_key, const Rows<float>& grad_value,
                               float* work, int64_t next_b) {
    const int64_t L = s.q_len, S = s.kv_len, E = s.head_dim, Ev = s.value_dim;
    const int64_t Ep = round_up(E), Evp = round_up(Ev);
    const float neg_inf = -std::numeric_limits<float>::infinity();
    const float scale = static_cast<float>(s.scale);
    const float* k = row(in.key, b, 0);    // [S][ldk]
    const float* v = row(in.value, b, 0);  // [S][ldv]
    const int64_t ldk = in.key.ld, ldv = in.value.ld;
    const float* mask = in.mask != nullptr ? in.mask + in.mask_offsets[b] : nullptr;
    const float* lse = logsumexp + b * L;
    float* qp = carve(work, L * Ep);           // [L][Ep]   q·scale, padded (scores, dK)
    float* dq = carve(work, L * Ep);           // [L][Ep]   dQ, summed over the key blocks
    float* dop = carve(work, L * Evp);         // [L][Evp]  dO, padded (dp, dV)
    float* D = carve(work, L);                 // [L]       D_i = dO_i·out_i
    float* kt = carve(work, E * kKeyBlock);    // [E][kKeyBlock]
    float* vt = carve(work, Ev * kKeyBlock);   // [Ev][kKeyBlock]
    float* kp = carve(work, kKeyBlock * Ep);   // [kKeyBlock][Ep]  k·scale, padded (dQ)
    float* dk = carve(work, kKeyBlock * Ep);   // [kKeyBlock][Ep]
    float* dv = carve(work, kKeyBlock * Evp);  // [kKeyBlock][Evp]
    // [kQueryChunk][kKeyBlock] each: P holds s, then p (⊙ keep); dS holds dp, then ds.
    float* P = carve(work, kQueryChunk * kKeyBlock);
    float* dS = carve(work, kQueryChunk * kKeyBlock);
    copy_rows(row(in.query, b, 0), in.query.ld, L, E, scale, qp, Ep, Ep);
    copy_rows(row(grad_out, b, 0), grad_out.ld, L, Ev, 1.0f, dop, Evp, Evp);
    for (int64_t i = 0; i < L; ++i) D[i] = dot(dop + i * Evp, row(out, b, i), Ev);
    fill(dq, L * Ep, 0.0f);
    // The next problem's first query chunk (its q, dO and out rows) and first key block, in the
    // order it reads them.
    const int64_t chunk = min(L, kQueryChunk);
    NextRows ahead;
    if (next_b >= 0) {
      ahead.add(row(in.query, next_b, 0), in.query.ld, chunk, E);
      ahead.add(row(grad_out, next_b, 0), grad_out.ld, chunk, Ev);
      ahead.add(row(out, next_b, 0), out.ld, chunk, Ev);
      ahead.add(row(in.key, next_b, 0), in.key.ld, min(S, kKeyBlock), E);
      ahead.add(row(in.value, next_b, 0), in.value.ld, min(S, kKeyBlock), Ev);
    }
    const int64_t lines_per_row = (ahead.total_lines() + chunk - 1) / chunk;

    for (int64_t j0 = 0; j0 < S; j0 += kKeyBlock) {
      const int64_t n = min(kKeyBlock, S - j0);
      pack_transposed(k + j0 * ldk, ldk, n, E, kt);
      pack_transposed(v + j0 * ldv, ldv, n, Ev, vt);
      copy_rows(k + j0 * ldk, ldk, n, E, scale, kp, Ep, Ep);
      fill(dk, kKeyBlock * Ep, 0.0f);
      fill(dv, kKeyBlock * Evp, 0.0f);
      // Under is_causal, rows before j0 − (S − L) see none of this block.
      const int64_t first_row = s.causal ? clamp(j0 - (S - L), 0, L) : 0;
      for (int64_t c0 = first_row; c0 < L; c0 += kQueryChunk) {
        const int64_t rows = min(kQueryChunk, L - c0);
        // Row r of the chunk sees key x of the block iff x ≤ r + shift (every key unless causal).
        const int64_t shift = s.causal ? c0 + (S - L) - j0 : n;
        // S = (Q·scale)_chunk·Kᵀ into P, dP = dO_chunk·Vᵀ into dS.
        strip_products(qp + c0 * Ep, Ep, E, kt, rows, n, shift, P);
        strip_products(dop + c0 * Evp, Evp, Ev, vt, rows, n, shift, dS);
        for (int64_t r = 0; r < rows; ++r) {
          ahead.issue(lines_per_row);
          const int64_t i = c0 + r;
          const int64_t visible = visible_in_block(s, i, j0, n);
          float* p_row = P + r * kKeyBlock;
          float* ds_row = dS + r * kKeyBlock;
          if (visible <= 0 || lse[i] == neg_inf) {  // a dead row gets no gradient
            fill(p_row, kKeyBlock, 0.0f);
            fill(ds_row, kKeyBlock, 0.0f);
            continue;
          }
          softmax_gradient_row(visible, mask != nullptr ? mask + i * S + j0 : nullptr,
                               in.keep != nullptr ? in.keep + (b * L + i) * S + j0 : nullptr,
                               lse[i], D[i], p_row, ds_row);
        }
        // dV [n][Evp] += Pᵀ·dO_chunk and dK [n][Ep] += dSᵀ·(Q·scale)_chunk: tiles of keys, summed
        // over the rows r ≥ x − shift.
        accumulate_band({P, kKeyBlock, 1, dop + c0 * Evp, Evp, dv, Evp}, n, rows, Evp,
                        /*accumulate=*/true, -shift);
        accumulate_band({dS, kKeyBlock, 1, qp + c0 * Ep, Ep, dk, Ep}, n, rows, Ep,
                        /*accumulate=*/true, -shift);
        // dQ_chunk [rows][Ep] += dS·(K·scale): tiles of rows, summed over the keys x ≤ r + shift.
        accumulate_band({dS, 1, kKeyBlock, kp, Ep, dq + c0 * Ep, Ep}, rows, n, Ep,
                        /*accumulate=*/true, -kNoBand, shift + 1);
      }
      copy_rows(dk, Ep, n, E, 1.0f, row(grad_key, b, j0), grad_key.ld, E);
      copy_rows(dv, Evp, n, Ev, 1.0f, row(grad_value, b, j0), grad_value.ld, Ev);
    }
    copy_rows(dq, Ep, L, E, 1.0f, row(grad_query, b, 0), grad_query.ld, E);
  }
};

// The kernels of one instruction set (attention_fast.cpp threads them and gives them scratch
// memory of forward_workspace / backward_workspace floats).
struct AttentionIsa {
  int64_t lanes;
  void (*forward_rows)(const AttentionShape& s, const AttentionInputs<float>& in, int64_t b,
                       int64_t i0, int64_t i1, const Rows<float>& out, float* logsumexp,
                       float* work, Task next);
  void (*backward_problem)(const AttentionShape& s, const AttentionInputs<float>& in, int64_t b,
                           const Rows<const float>& out, const float* logsumexp,
                           const Rows<const float>& grad_out, const Rows<float>& grad_query,
                           const Rows<float>& grad_key, const Rows<float>& grad_value, float* work,
                           int64_t next_b);
};

template <class V>
AttentionIsa attention_isa() {
  return {V::kLanes, FlashAttention<V>::forward_rows, FlashAttention<V>::backward_problem};
}

// attention_avx2.cpp and attention_avx512.cpp, built only for x86 (tinytorch/CMakeLists.txt then
// defines TINYTORCH_GEMM_X86 for attention_fast.cpp, which calls them after checking the CPU).
AttentionIsa attention_avx2();
AttentionIsa attention_avx512();

}  // namespace tinytorch::kernels::attention_detail
