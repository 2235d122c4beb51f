// The fast tier's softmax and log_softmax kernels (kernels/softmax.h), written once over a vector
// policy (vec_policy.h) and instantiated per instruction set: softmax_avx2.cpp,
// softmax_avx512.cpp, and the portable one-lane version in softmax_fast.cpp. Private to
// src/kernels.
//
// ── Rows along the last dim (inner = 1): one contiguous row at a time ─────────────────────────
//   max pass:          m = max_j x_j                 four vector accumulators, then across lanes
//   exp-and-sum pass:  e_j = e^(x_j − m), stored in y (softmax only), s = Σ e_j, four accumulators
//   last pass:         softmax y_j = e_j · (1/s);   log_softmax y_j = (x_j − m) − log s
// (log_softmax takes its rows up to 64 at a time, 4 KiB of them at most: the maxes and sums of
// the block first, then their logs, a vector of rows at a time, then the outputs.) Rows of exactly
// one AVX-512 vector go 16 at a time, forward and backward, their reductions across lanes done for
// all 16 together: the *_tile kernels.
// Three passes over a row that sits in L1/L2 (PyTorch's order); an "online" single pass would
// rescale its running sum by e^(m_old − m_new) whenever the max grows: a second exponential per
// vector for one pass fewer over cached data. The row's last n mod W elements are one partial
// vector (masked loads and stores), filled with −∞ for the max and the sum: e^−∞ adds exactly 0.
//
// ── Rows along another dim (inner > 1): a vector of rows at once ──────────────────────────────
// Row o·inner + i keeps element j at o·n·inner + j·inner + i, so rows i … i + W − 1 of one outer
// index have their element j side by side: one load holds element j of W rows (one per lane).
//
//   x viewed as [n, inner] for one o:     j ↓    i →   rows i..i+W−1 = one vector per j
//                                               [ a0 a1 a2 a3 … ]      m  = max over j (per lane)
//                                               [ b0 b1 b2 b3 … ]      s  = Σ_j e^(x_j − m)
//                                               [ c0 c1 c2 c3 … ]      y_j = e_j / s
//
// The same three passes then run down the columns, every operation lane by lane, with no
// reduction across lanes. Long rows go up to four vectors of rows at a time (Cols: the maxes and
// sums in registers, four exponentials in flight); a group narrower than a vector (the last rows
// of a range) uses partial vectors. Short rows (n·4W ≤ 4096 floats: n ≤ 64 with AVX-512, 128
// with AVX2; inner ≥ 4W) go a slab at a time (Slab): up to 16 KiB of one outer index, [n, w] with w
// ≤ 512 columns, each pass walking it in memory order with the columns' maxes and sums in an L1
// buffer — for [1024, 16, 256] one contiguous 16 KiB block per outer index — while the pass with
// the exponentials prefetches the next slab (see Slab). Each lane's arithmetic is the same in
// either kind of group (each column summed over j in order), so the bits are too.
//
// Backward, a gradient of 8 MiB or more is written with non-temporal stores (see put).
//
// Every lane sees the same operations whichever group or call its row falls into (lane-wise
// arithmetic; the last-dim sums in an order fixed by n alone), so the results do not depend on
// the thread count.
//
// NOTE: compiled once per instruction set; see attention_simd.h's NOTE for why everything here
// is a member of a template over a file-local V and uses no inline standard-library function.
#pragma once

#include <cstdint>
#include <type_traits>

#include "tinytorch/kernels/softmax.h"
#include "unroll.h"

namespace tinytorch::kernels::softmax_detail {

template <class V>
struct Softmax {
  using Vec = typename V::Vec;
  static constexpr int64_t W = V::kLanes;
  static constexpr float kNegInf = -__builtin_inff();

  // ── last dim: the passes over one contiguous row of n ─────────────────────────────────────

  // One vector's place in a row: elements [j, j + W), or (kPartial) the row's last k < W
  // elements, loaded with `fill` in the other lanes and stored lane by lane. Whole or partial is
  // known at compile time, so the loops over whole vectors carry no test.
  template <bool kPartial>
  struct At {
    int64_t j, k;
    [[gnu::always_inline]] Vec load(const float* p, float fill) const {
      if constexpr (kPartial) {
        return V::load_partial(p + j, k, fill);
      } else {
        return V::load(p + j);
      }
    }
    [[gnu::always_inline]] void store(float* p, Vec v) const {
      if constexpr (kPartial) {
        V::store_partial(p + j, k, v);
      } else {
        V::store(p + j, v);
      }
    }
  };

  // acc = op(acc, term(at)) over a row's vectors, in four accumulators (four independent chains)
  // combined at the end; term must give op's identity in a partial vector's empty lanes (−∞ for
  // max; 0 or e^−∞ for a sum).
  template <class Op, class Term>
  [[gnu::always_inline]] static Vec row_reduce(int64_t n, Vec init, Op op, Term term) {
    Vec a0 = init, a1 = init, a2 = init, a3 = init;
    int64_t j = 0;
    for (; j + 4 * W <= n; j += 4 * W) {
      a0 = op(a0, term(At<false>{j, W}));
      a1 = op(a1, term(At<false>{j + W, W}));
      a2 = op(a2, term(At<false>{j + 2 * W, W}));
      a3 = op(a3, term(At<false>{j + 3 * W, W}));
    }
    for (; j + W <= n; j += W) a0 = op(a0, term(At<false>{j, W}));
    if (j < n) a1 = op(a1, term(At<true>{j, n - j}));
    return op(op(a0, a1), op(a2, a3));
  }
  template <class Term>
  [[gnu::always_inline]] static float row_sum(int64_t n, Term term) {
    return V::reduce_add(row_reduce(
        n, V::zero(), [](Vec a, Vec b) { return V::add(a, b); }, term));
  }
  static float row_max(const float* x, int64_t n) {
    return V::reduce_max(row_reduce(
        n, V::set1(kNegInf), [](Vec a, Vec b) { return V::max(a, b); },
        [x](const auto& at) { return at.load(x, kNegInf); }));
  }

  // f(at) for each of a row's vectors.
  template <class F>
  [[gnu::always_inline]] static void row_for_each(int64_t n, F f) {
    int64_t j = 0;
    for (; j + W <= n; j += W) f(At<false>{j, W});
    if (j < n) f(At<true>{j, n - j});
  }

  // Whether V reduces 16 vectors at once (AVX-512): rows of exactly one vector then go W at a
  // time through the *_tile kernels below, the rest of a range row by row.
  static constexpr bool kTiles = requires(const Vec* r) { V::reduce_add_each(r); };

  static void softmax_row(const float* x, float* y, int64_t n) {
    const Vec m = V::set1(row_max(x, n));
    const float s = row_sum(n, [m, x, y](const auto& at) {
      const Vec e = V::exp(V::sub(at.load(x, kNegInf), m));
      at.store(y, e);
      return e;
    });
    const Vec inv = V::set1(1.0f / s);
    row_for_each(n, [inv, y](const auto& at) { at.store(y, V::mul(at.load(y, 0.0f), inv)); });
  }

  // log_softmax's rows in blocks of up to kRowBlock: first every row's max and sum, then the logs
  // of the block's sums as vectors, then the outputs. (A libm logf per row costs as much as the
  // exponentials of a row of 16.) A block holds at most kBlockFloats (4 KiB) of x, or one row,
  // so the output pass reads it back from L1: blocks of 64 rows of 1024 (256 KiB, from L2) made
  // log_softmax of [4096, 1024] 1.5× as slow as softmax, which finishes each row in L1 (one row
  // at a time: 2.4 → 1.6 ms at one thread, Zen 4).
  // NOTE: the exp-and-sum pass stores x_j − m into y, as softmax_row stores e_j there, and the
  // output pass subtracts log s in place. y is a fresh output: its first store to each cache line
  // waits for the line to be fetched, and a pass that did nothing but those stores ran at the
  // speed of the misses (a third of [4096, 1024]'s time at one thread, `perf`, Zen 4); beside
  // the exponentials, the misses overlap with arithmetic. (x_j − m) − log s: the same two
  // subtractions in the same order as before, so the same bits.
  static constexpr int64_t kRowBlock = 64, kBlockFloats = 1024;
  static void log_softmax_rows(const float* x, float* y, int64_t n, int64_t rows) {
    if constexpr (kTiles) {
      if (n == W) {  // rows of one vector: 16 at a time (log_softmax_tile), the rest below
        for (; rows >= W; rows -= W, x += W * W, y += W * W) log_softmax_tile(x, y);
      }
    }
    float log_sum[kRowBlock];
    const int64_t fit = kBlockFloats / n < 1 ? 1 : kBlockFloats / n;
    const int64_t block = fit < kRowBlock ? fit : kRowBlock;
    for (int64_t r0 = 0; r0 < rows; r0 += block) {
      const int64_t count = rows - r0 < block ? rows - r0 : block;
      for (int64_t k = 0; k < count; ++k) {
        const float* xr = x + (r0 + k) * n;
        float* yr = y + (r0 + k) * n;
        const Vec m = V::set1(row_max(xr, n));
        log_sum[k] = row_sum(n, [m, xr, yr](const auto& at) {
          const Vec d = V::sub(at.load(xr, kNegInf), m);
          at.store(yr, d);
          return V::exp(d);
        });
      }
      map(log_sum, log_sum, count, [](Vec v) { return V::log(v); });
      for (int64_t k = 0; k < count; ++k) {
        float* yr = y + (r0 + k) * n;
        const Vec log_s = V::set1(log_sum[k]);
        map(yr, yr, n, [log_s](Vec d) { return V::sub(d, log_s); });
      }
    }
  }

  // log_softmax of W rows of W (a [16, 16] block, AVX-512), each row one vector. One row alone
  // spends most of its time in the two reductions across its lanes (max, then the sum of the
  // exponentials: 4 dependent shuffle-and-combine steps each) and a log for one value; here the
  // 16 rows' maxes and sums come out of reduce_max_each / reduce_add_each as the lanes of one
  // vector (15 steps for all 16), and one vector log takes all 16 sums. Each row's max, sum and
  // log have the bits of the row-at-a-time path (the same pairs summed, the same lane-wise log),
  // so a row's result does not depend on whether it fell into a block of 16.
  static void log_softmax_tile(const float* x, float* y) {
    Vec r[W], e[W];
    float max[W], log_sum[W];
    for (int64_t k = 0; k < W; ++k) r[k] = V::load(x + k * W);
    V::store(max, V::reduce_max_each(r));
    for (int64_t k = 0; k < W; ++k) e[k] = V::exp(V::sub(r[k], V::set1(max[k])));
    V::store(log_sum, V::log(V::reduce_add_each(e)));
    for (int64_t k = 0; k < W; ++k) {
      V::store(y + k * W, V::sub(V::sub(r[k], V::set1(max[k])), V::set1(log_sum[k])));
    }
  }

  // softmax of W rows of W, each row one vector: log_softmax_tile's reductions (16 rows' maxes,
  // then their sums, as the lanes of one vector) and one vector division for the 16 reciprocals,
  // around softmax_row's arithmetic — so each row has softmax_row's bits. A row of 16 alone spent
  // most of its time in its two reductions across lanes: softmax of [65536, 16] at one thread,
  // 0.97 → 0.45 ms (Intel Xeon, AVX-512).
  static void softmax_tile(const float* x, float* y) {
    if constexpr (kTiles) {  // (instantiated where V reduces 16 vectors at once)
      Vec e[W];
      float max[W], inv[W];
      for (int64_t k = 0; k < W; ++k) e[k] = V::load(x + k * W);
      V::store(max, V::reduce_max_each(e));
      for (int64_t k = 0; k < W; ++k) e[k] = V::exp(V::sub(e[k], V::set1(max[k])));
      V::store(inv, V::div(V::set1(1.0f), V::reduce_add_each(e)));
      for (int64_t k = 0; k < W; ++k) V::store(y + k * W, V::mul(e[k], V::set1(inv[k])));
    }
  }
  // A range of `rows` rows of n from offset `at`: tile(offset) for each W rows when they are rows
  // of one vector (kTiles), then row(offset) for each row left.
  template <class Tile, class Row>
  [[gnu::always_inline]] static void tiles_then_rows(int64_t n, int64_t at, int64_t rows, Tile tile,
                                                     Row row) {
    if constexpr (kTiles) {
      if (n == W) {
        for (; rows >= W; rows -= W, at += W * W) tile(at);
      }
    }
    for (int64_t k = 0; k < rows; ++k) row(at + k * n);
  }

  // ── backward: storing a gradient ──────────────────────────────────────────────────────────
  //
  // A backward reads the gradient and y and writes grad_input: three tensors. When grad_input is
  // at least kStreamBytes (the op then moves ≥ 24 MiB, most of a typical L3 — the reference
  // machine's is 32 MiB), its first rows have left the caches before the op ends anyway, and an
  // ordinary store would first read each line from DRAM (to own it) only to overwrite it: 16 MB of
  // reads for a [4096, 1024] gradient. Such a call (all but log_softmax's along the last dim, see
  // log_softmax_backward_row) streams its stores (V::stream: non-temporal, around the caches)
  // wherever a whole vector lands aligned to its size (every vector of
  // 64-byte-aligned rows of a multiple of W), and ends with stream_fence. Values are the same
  // either way. (softmax_backward over the last dim of [4096, 1024]: 1.45 → 1.24 ms of one
  // thread's CPU time on a busy Zen 4; forward and backward 3.1 → 2.9 ms.)
  //
  // Along the last dim that gain is AMD's: on an Intel Xeon (AVX-512, family 6 model 167) the
  // same [4096, 1024] forward and backward took 3.89 ms streamed against 3.81 stored at one
  // thread, 1.92 against 1.85 at two (means of 9 alternating runs of `ops_bench`), while along
  // another dim streaming still paid there ([8, 1024, 512] along dim 1: 7.4–7.9 vs 8.9–9.6 ms at
  // one thread, 3 runs). So softmax_fast.cpp runs softmax_backward<true> (rows streamed
  // too) on AMD CPUs and softmax_backward<false> elsewhere (amd_rule, isa_select.h;
  // TINYTORCH_SOFTMAX_STREAM_ROWS=1|0 forces either).
  static constexpr int64_t kStreamBytes = int64_t{8} << 20;
  static constexpr bool kCanStream = requires(float* p, Vec v) {
    V::stream(p, v);
    V::stream_fence();
  };

  // Stores v at `at` of out: streamed when kStream, the vector is whole and p + at.j is aligned.
  template <bool kStream, bool P>
  [[gnu::always_inline]] static void put(float* p, const At<P>& at, Vec v) {
    if constexpr (kStream && !P && kCanStream) {
      if ((reinterpret_cast<uintptr_t>(p + at.j) & (sizeof(Vec) - 1)) == 0) {
        V::stream(p + at.j, v);
        return;
      }
    }
    at.store(p, v);
  }

  template <bool kStream>
  static void softmax_backward_row(const float* g, const float* y, float* out, int64_t n) {
    const Vec dot = V::set1(
        row_sum(n, [g, y](const auto& at) { return V::mul(at.load(g, 0.0f), at.load(y, 0.0f)); }));
    row_for_each(n, [g, y, out, dot](const auto& at) {
      put<kStream>(out, at, V::mul(at.load(y, 0.0f), V::sub(at.load(g, 0.0f), dot)));
    });
  }

  // The backward of W rows of W (kTiles): the 16 rows' sums (Σ g·y, or Σ g) as the lanes of one
  // vector, then softmax_backward_row's and log_softmax_backward_row's arithmetic, so the same
  // bits. softmax along the last dim of [65536, 16], forward and backward at one thread:
  // 1.44 → 0.92 ms (Intel Xeon, AVX-512).
  template <bool kStream>
  static void softmax_backward_tile(const float* g, const float* y, float* out) {
    if constexpr (kTiles) {  // (instantiated where V reduces 16 vectors at once)
      Vec p[W];
      float dot[W];
      for (int64_t k = 0; k < W; ++k) p[k] = V::mul(V::load(g + k * W), V::load(y + k * W));
      V::store(dot, V::reduce_add_each(p));
      for (int64_t k = 0; k < W; ++k) {
        const At<false> at{k * W, W};
        put<kStream>(out, at, V::mul(at.load(y, 0.0f), V::sub(at.load(g, 0.0f), V::set1(dot[k]))));
      }
    }
  }
  static void log_softmax_backward_tile(const float* g, const float* y, float* out) {
    if constexpr (kTiles) {  // (instantiated where V reduces 16 vectors at once)
      Vec r[W];
      float sum[W];
      for (int64_t k = 0; k < W; ++k) r[k] = V::load(g + k * W);
      V::store(sum, V::reduce_add_each(r));
      for (int64_t k = 0; k < W; ++k) {
        V::store(out + k * W, V::sub(r[k], V::mul(V::exp(V::load(y + k * W)), V::set1(sum[k]))));
      }
    }
  }

  // (Never streamed: its exponentials keep a cached row's second pass busy enough that streaming
  // measured 6% slower, 1.39 → 1.48 ms for [4096, 1024] at one thread. Along another dim it
  // pays: 2.5 → 1.9 ms for [1024, 16, 256].)
  static void log_softmax_backward_row(const float* g, const float* y, float* out, int64_t n) {
    const Vec s = V::set1(row_sum(n, [g](const auto& at) { return at.load(g, 0.0f); }));
    row_for_each(n, [g, y, out, s](const auto& at) {
      at.store(out, V::sub(at.load(g, 0.0f), V::mul(V::exp(at.load(y, 0.0f)), s)));
    });
  }

  // y = f(x) element by element over n floats.
  template <class F>
  [[gnu::always_inline]] static void map(const float* x, float* y, int64_t n, F f) {
    row_for_each(n, [x, y, f](const auto& at) { at.store(y, f(at.load(x, 0.0f))); });
  }

  // ── another dim: groups of adjacent rows (columns of [n, inner]) at once ──────────────────
  //
  // A group is a set of columns with, per column, the state a pass carries down it (the max, the
  // sum). Both kinds below offer the same calls, so each kernel is written once over a group:
  //   pass(n, f):          f(o, slot) for every element j < n (o = j·inner, its offset from the
  //                        group's first row) and every slot (a vector of columns) of the group
  //   load(p, slot), store(p, slot, v), put<kStream>(p, slot, v) (a gradient's store, as above)
  //   state(fill), get(state, slot), set(state, slot, v), update(state, f): per-slot values
  //   ahead(p, slot), ahead_w(p, slot): prefetch the slot's place in the NEXT group (to read; to
  //                        write), will_write(p, slot): this group's, to write (Slab only)
  //
  // Cols<U, kPartial>: U vectors of columns, the state in U registers; each pass walks down the
  // columns, element j of the U·W rows per step (long rows). A partial group (U = 1, k < W rows)
  // loads and stores k lanes.
  template <int U, bool kPartial>
  struct Cols {
    int64_t inner, k;
    struct State {
      Vec v[U];
    };
    template <class F>
    [[gnu::always_inline]] void pass(int64_t n, F f) const {
      for (int64_t j = 0; j < n; ++j) {
        TT_UNROLL(4)
        for (int u = 0; u < U; ++u) f(j * inner, u);
      }
    }
    [[gnu::always_inline]] Vec load(const float* p, int u) const {
      if constexpr (kPartial) {
        return V::load_partial(p, k, 0.0f);
      } else {
        return V::load(p + u * W);
      }
    }
    [[gnu::always_inline]] void store(float* p, int u, Vec v) const {
      if constexpr (kPartial) {
        V::store_partial(p, k, v);
      } else {
        V::store(p + u * W, v);
      }
    }
    template <bool kStream>
    [[gnu::always_inline]] void put(float* p, int u, Vec v) const {
      Softmax::put<kStream>(p, At<kPartial>{u * W, k}, v);
    }
    [[gnu::always_inline]] static void ahead(const float*, int) {}
    [[gnu::always_inline]] static void ahead_w(const float*, int) {}
    [[gnu::always_inline]] static void will_write(const float*, int) {}
    [[gnu::always_inline]] State state(float fill) const {
      State s;
      TT_UNROLL(4)
      for (int u = 0; u < U; ++u) s.v[u] = V::set1(fill);
      return s;
    }
    [[gnu::always_inline]] static Vec get(const State& s, int u) { return s.v[u]; }
    [[gnu::always_inline]] static void set(State& s, int u, Vec v) { s.v[u] = v; }
    template <class F>
    [[gnu::always_inline]] static void update(State& s, F f) {
      TT_UNROLL(4)
      for (int u = 0; u < U; ++u) s.v[u] = f(s.v[u]);
    }
  };

  // Slab: w ≤ kSlabCols adjacent columns of one outer index, for short rows (n·4W ≤ kSlabFloats:
  // a slab of up to 16 KiB is at least four vectors wide where inner allows), the state in a
  // stack buffer of w floats (in L1). Each pass walks the [n, w] slab in memory order — row j's w
  // floats, a contiguous run whose last w mod W form one partial vector, before row j + 1's — so
  // with w = inner the first pass streams one contiguous block, and the later ones find it in L1.
  //
  //   x for one o, inner = w = 256, n = 16:   j = 0:  [ 256 floats ]   a pass: row after row,
  //   (one 16 KiB block)                      j = 1:  [ 256 floats ]   16 vector loads each;
  //                                           …                        m[0..255], s[0..255] in L1
  //                                           j = 15: [ 256 floats ]
  // While a pass computes (the exponentials), it prefetches the next slab's input (`next`: its
  // offset from this one, 0 for the last of the range) and, where this slab's output is first
  // written in a later pass, that output for writing: the DRAM reads then overlap the arithmetic
  // instead of stalling the next slab's first pass. (log_softmax over dim 1 of [1024, 16, 256]:
  // 3.0 → 1.7 ms of one thread's CPU time on a busy Zen 4, forward; 5.7 → 4.0 ms forward and
  // backward. Slabs 64 columns wide, and the former groups of 16 vectors held in registers —
  // which spilled — both waited on DRAM.)
  static constexpr int64_t kSlabFloats = 4096, kSlabCols = 512;
  static constexpr int64_t kSlabMaxN = kSlabFloats / (4 * W);
  // A slab's width for rows of n: as many whole vectors as fit kSlabFloats, at most kSlabCols.
  static constexpr int64_t slab_cols(int64_t n) {
    const int64_t c = kSlabFloats / n / W * W;
    return c < kSlabCols ? c : kSlabCols;
  }
  struct Slab {
    int64_t inner, w, next;
    struct State {
      alignas(64) float f[kSlabCols];
    };
    template <class F>
    [[gnu::always_inline]] void pass(int64_t n, F f) const {
      for (int64_t j = 0; j < n; ++j) {
        row_for_each(w, [f, o = j * inner](const auto& at) { f(o, at); });
      }
    }
    template <bool P>
    [[gnu::always_inline]] static Vec load(const float* p, const At<P>& at) {
      return at.load(p, 0.0f);
    }
    template <bool P>
    [[gnu::always_inline]] static void store(float* p, const At<P>& at, Vec v) {
      at.store(p, v);
    }
    template <bool kStream, bool P>
    [[gnu::always_inline]] static void put(float* p, const At<P>& at, Vec v) {
      Softmax::put<kStream>(p, at, v);
    }
    template <bool P>
    [[gnu::always_inline]] void ahead(const float* p, const At<P>& at) const {
      if (next != 0) __builtin_prefetch(p + at.j + next, 0, 3);
    }
    template <bool P>
    [[gnu::always_inline]] void ahead_w(const float* p, const At<P>& at) const {
      if (next != 0) __builtin_prefetch(p + at.j + next, 1, 3);
    }
    template <bool P>
    [[gnu::always_inline]] static void will_write(const float* p, const At<P>& at) {
      __builtin_prefetch(p + at.j, 1, 3);
    }
    [[gnu::always_inline]] State state(float fill) const {
      State s;
      row_for_each(w, [&s, fill](const auto& at) { at.store(s.f, V::set1(fill)); });
      return s;
    }
    template <bool P>
    [[gnu::always_inline]] static Vec get(const State& s, const At<P>& at) {
      return at.load(s.f, 0.0f);
    }
    template <bool P>
    [[gnu::always_inline]] static void set(State& s, const At<P>& at, Vec v) {
      at.store(s.f, v);
    }
    template <class F>
    [[gnu::always_inline]] void update(State& s, F f) const {
      row_for_each(w, [&s, f](const auto& at) { at.store(s.f, f(at.load(s.f, 0.0f))); });
    }
  };

  // The kernels over one group c: x, y, g and out point at the group's first row.
  // Each column's maximum over the n rows (the first pass of both forwards).
  template <class G>
  [[gnu::always_inline]] static auto cols_max(const float* x, int64_t n, const G& c) {
    auto m = c.state(kNegInf);
    c.pass(n,
           [&](int64_t o, const auto& s) { c.set(m, s, V::max(c.get(m, s), c.load(x + o, s))); });
    return m;
  }

  template <class G>
  static void softmax_cols(const float* x, float* y, int64_t n, G c) {
    auto m = cols_max(x, n, c);
    auto sum = c.state(0.0f);
    c.pass(n, [&](int64_t o, const auto& s) {
      c.ahead(x + o, s);
      const Vec e = V::exp(V::sub(c.load(x + o, s), c.get(m, s)));
      c.store(y + o, s, e);
      c.set(sum, s, V::add(c.get(sum, s), e));
    });
    c.update(sum, [](Vec v) { return V::div(V::set1(1.0f), v); });
    c.pass(n, [&](int64_t o, const auto& s) {
      c.ahead_w(y + o, s);
      c.store(y + o, s, V::mul(c.load(y + o, s), c.get(sum, s)));
    });
  }

  template <class G>
  static void log_softmax_cols(const float* x, float* y, int64_t n, G c) {
    auto m = cols_max(x, n, c);
    auto sum = c.state(0.0f);
    c.pass(n, [&](int64_t o, const auto& s) {
      c.will_write(y + o, s);
      c.ahead(x + o, s);
      c.set(sum, s, V::add(c.get(sum, s), V::exp(V::sub(c.load(x + o, s), c.get(m, s)))));
    });
    c.update(sum, [](Vec v) { return V::log(v); });
    c.pass(n, [&](int64_t o, const auto& s) {
      c.store(y + o, s, V::sub(V::sub(c.load(x + o, s), c.get(m, s)), c.get(sum, s)));
    });
  }

  template <bool kStream, class G>
  static void softmax_backward_cols(const float* g, const float* y, float* out, int64_t n, G c) {
    auto dot = c.state(0.0f);
    c.pass(n, [&](int64_t o, const auto& s) {
      c.set(dot, s, V::fmadd(c.load(g + o, s), c.load(y + o, s), c.get(dot, s)));
    });
    c.pass(n, [&](int64_t o, const auto& s) {
      c.template put<kStream>(out + o, s,
                              V::mul(c.load(y + o, s), V::sub(c.load(g + o, s), c.get(dot, s))));
    });
  }

  template <bool kStream, class G>
  static void log_softmax_backward_cols(const float* g, const float* y, float* out, int64_t n,
                                        G c) {
    auto sum = c.state(0.0f);
    c.pass(n, [&](int64_t o, const auto& s) {
      c.set(sum, s, V::add(c.get(sum, s), c.load(g + o, s)));
    });
    c.pass(n, [&](int64_t o, const auto& s) {
      c.ahead(g + o, s);
      c.ahead(y + o, s);
      const Vec e = V::exp(c.load(y + o, s));
      c.template put<kStream>(out + o, s, V::sub(c.load(g + o, s), V::mul(e, c.get(sum, s))));
    });
  }

  // ── the walk over a range of rows ─────────────────────────────────────────────────────────
  //
  // Last dim: rows_fn(first, count) on the range. Another dim: per outer index, the range's
  // columns in slabs (short rows, inner ≥ 4W), else in groups of 4W, then W, then one partial
  // group: cols_fn(offset, group).
  template <class RowsFn, class ColsFn>
  [[gnu::always_inline]] static void walk(int64_t n, int64_t inner, int64_t row_begin,
                                          int64_t row_end, RowsFn rows_fn, ColsFn cols_fn) {
    if (inner == 1) {
      rows_fn(row_begin * n, row_end - row_begin);
      return;
    }
    for (int64_t r = row_begin; r < row_end;) {
      const int64_t o = r / inner;
      const int64_t end = row_end - o * inner < inner ? row_end - o * inner : inner;
      const int64_t base = o * n * inner;
      int64_t c = r - o * inner;
      if (n <= kSlabMaxN && inner >= 4 * W) {
        for (const int64_t w = slab_cols(n); c < end; c += w) {
          const int64_t width = end - c < w ? end - c : w;
          // The next slab: the next columns of this outer index, else the next outer index's
          // first (when the range goes on), else none.
          const int64_t next = c + width < end             ? width
                               : (o + 1) * inner < row_end ? (o + 1) * n * inner - (base + c)
                                                           : 0;
          cols_fn(base + c, Slab{inner, width, next});
        }
      }
      for (; c + 4 * W <= end; c += 4 * W) cols_fn(base + c, Cols<4, false>{inner, W});
      for (; c + W <= end; c += W) cols_fn(base + c, Cols<1, false>{inner, W});
      if (c < end) cols_fn(base + c, Cols<1, true>{inner, end - c});
      r = o * inner + end;
    }
  }

  static void softmax(const float* x, float* y, int64_t n, int64_t inner, int64_t row_begin,
                      int64_t row_end) {
    walk(
        n, inner, row_begin, row_end,
        [=](int64_t at, int64_t rows) {
          tiles_then_rows(
              n, at, rows, [=](int64_t t) { softmax_tile(x + t, y + t); },
              [=](int64_t r) { softmax_row(x + r, y + r, n); });
        },
        [=](int64_t at, const auto& c) { softmax_cols(x + at, y + at, n, c); });
  }

  static void log_softmax(const float* x, float* y, int64_t n, int64_t inner, int64_t row_begin,
                          int64_t row_end) {
    walk(
        n, inner, row_begin, row_end,
        [=](int64_t at, int64_t rows) { log_softmax_rows(x + at, y + at, n, rows); },
        [=](int64_t at, const auto& c) { log_softmax_cols(x + at, y + at, n, c); });
  }

  // A backward over rows [row_begin, row_end) of [outer, n, inner], its stores streamed when the
  // whole gradient is at least kStreamBytes — along the last dim only where kRowsStream.
  template <bool kStream, bool kRowsStream>
  static void softmax_backward_range(const float* g, const float* y, float* out, int64_t n,
                                     int64_t inner, int64_t row_begin, int64_t row_end) {
    walk(
        n, inner, row_begin, row_end,
        [=](int64_t at, int64_t rows) {
          tiles_then_rows(
              n, at, rows,
              [=](int64_t t) {
                softmax_backward_tile<kStream && kRowsStream>(g + t, y + t, out + t);
              },
              [=](int64_t r) {
                softmax_backward_row<kStream && kRowsStream>(g + r, y + r, out + r, n);
              });
        },
        [=](int64_t at, const auto& c) {
          softmax_backward_cols<kStream>(g + at, y + at, out + at, n, c);
        });
  }
  template <bool kStream>
  static void log_softmax_backward_range(const float* g, const float* y, float* out, int64_t n,
                                         int64_t inner, int64_t row_begin, int64_t row_end) {
    walk(
        n, inner, row_begin, row_end,
        [=](int64_t at, int64_t rows) {
          tiles_then_rows(
              n, at, rows, [=](int64_t t) { log_softmax_backward_tile(g + t, y + t, out + t); },
              [=](int64_t r) { log_softmax_backward_row(g + r, y + r, out + r, n); });
        },
        [=](int64_t at, const auto& c) {
          log_softmax_backward_cols<kStream>(g + at, y + at, out + at, n, c);
        });
  }
  static bool streams(int64_t outer, int64_t n, int64_t inner) {
    return kCanStream && outer * n * inner * int64_t{sizeof(float)} >= kStreamBytes;
  }

  // Runs range(std::true_type) — the streaming stores, then the fence that orders them — when the
  // whole gradient is large enough (streams), else range(std::false_type).
  template <class F>
  static void streaming_if_large(int64_t outer, int64_t n, int64_t inner, const F& range) {
    if constexpr (kCanStream) {
      if (streams(outer, n, inner)) {
        range(std::true_type{});
        V::stream_fence();
        return;
      }
    }
    range(std::false_type{});
  }

  template <bool kRowsStream>
  static void softmax_backward(const float* g, const float* y, float* out, int64_t outer, int64_t n,
                               int64_t inner, int64_t row_begin, int64_t row_end) {
    streaming_if_large(outer, n, inner, [&](auto stream) {
      softmax_backward_range<decltype(stream)::value, kRowsStream>(g, y, out, n, inner, row_begin,
                                                                   row_end);
    });
  }

  static void log_softmax_backward(const float* g, const float* y, float* out, int64_t outer,
                                   int64_t n, int64_t inner, int64_t row_begin, int64_t row_end) {
    streaming_if_large(outer, n, inner, [&](auto stream) {
      log_softmax_backward_range<decltype(stream)::value>(g, y, out, n, inner, row_begin, row_end);
    });
  }

  // y = e^x and y = log x with V's functions.
  static void exp(const float* x, float* y, int64_t n) {
    map(x, y, n, [](Vec v) { return V::exp(v); });
  }
  static void log(const float* x, float* y, int64_t n) {
    map(x, y, n, [](Vec v) { return V::log(v); });
  }
};

// The kernels of one instruction set.
struct SoftmaxIsa {
  SoftmaxForwardFn softmax;
  SoftmaxForwardFn log_softmax;
  SoftmaxBackwardFn softmax_backward;                // its last dim's rows are never streamed
  SoftmaxBackwardFn softmax_backward_rows_streamed;  // they are too when large (AMD's default)
  SoftmaxBackwardFn log_softmax_backward;
  void (*exp)(const float* x, float* y, int64_t n);
  void (*log)(const float* x, float* y, int64_t n);
};

template <class V>
SoftmaxIsa softmax_isa() {
  using S = Softmax<V>;
  return {S::softmax,
          S::log_softmax,
          S::template softmax_backward<false>,
          S::template softmax_backward<true>,
          S::log_softmax_backward,
          S::exp,
          S::log};
}

// softmax_avx2.cpp and softmax_avx512.cpp, built only for x86 (as attention's).
SoftmaxIsa softmax_avx2();
SoftmaxIsa softmax_avx512();

}  // namespace tinytorch::kernels::softmax_detail
