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
// the block first, then their logs, a vector of rows at a time, then the outputs. Rows of exactly
// one AVX-512 vector go 16 at a time, their reductions across lanes done for all 16 together:
// log_softmax_tile.)
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
// reduction across lanes; up to four vectors of rows at a time, so four exponentials are in
// flight. A group narrower than a vector (the last rows of a range) uses partial vectors.
// Short rows (n·16·W floats, a tensor's share of the group, at most 128 KiB) go kWide = 16
// vectors of rows at a time: each pass then reads 16·W·4 = 1 KiB in a row from every j (AVX-512),
// and a whole [n, inner] slab of 256 columns front to back, which the hardware prefetcher follows;
// four vectors (256 bytes per j, a stride of inner apart) left the first pass waiting on DRAM
// (log_softmax over dim 1 of [1024, 16, 256], forward and backward: 8.9 → 5.6 ms at one thread,
// Zen 4). The accumulators of 16 vectors live on the stack, in L1; each lane's arithmetic is the
// same in either group, so the bits are too.
//
// Every lane sees the same operations whichever group or call its row falls into (lane-wise
// arithmetic; the last-dim sums in an order fixed by n alone), so the results do not depend on
// the thread count.
//
// NOTE: compiled once per instruction set; see attention_simd.h's NOTE for why everything here
// is a member of a template over a file-local V and uses no inline standard-library function.
#pragma once

#include <cstdint>

#include "tinytorch/kernels/softmax.h"

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
  static constexpr int64_t kRowBlock = 64, kBlockFloats = 1024;
  static void log_softmax_rows(const float* x, float* y, int64_t n, int64_t rows) {
    if constexpr (requires(const Vec* r) { V::reduce_add_each(r); }) {
      if (n == W) {  // rows of one vector: 16 at a time (log_softmax_tile), the rest below
        for (; rows >= W; rows -= W, x += W * W, y += W * W) log_softmax_tile(x, y);
      }
    }
    float max[kRowBlock], log_sum[kRowBlock];
    const int64_t fit = kBlockFloats / n < 1 ? 1 : kBlockFloats / n;
    const int64_t block = fit < kRowBlock ? fit : kRowBlock;
    for (int64_t r0 = 0; r0 < rows; r0 += block) {
      const int64_t count = rows - r0 < block ? rows - r0 : block;
      for (int64_t k = 0; k < count; ++k) {
        const float* xr = x + (r0 + k) * n;
        max[k] = row_max(xr, n);
        const Vec m = V::set1(max[k]);
        log_sum[k] =
            row_sum(n, [m, xr](const auto& at) { return V::exp(V::sub(at.load(xr, kNegInf), m)); });
      }
      map(log_sum, log_sum, count, [](Vec v) { return V::log(v); });
      for (int64_t k = 0; k < count; ++k) {
        const Vec m = V::set1(max[k]), log_s = V::set1(log_sum[k]);
        map(x + (r0 + k) * n, y + (r0 + k) * n, n,
            [m, log_s](Vec v) { return V::sub(V::sub(v, m), log_s); });
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

  static void softmax_backward_row(const float* g, const float* y, float* out, int64_t n) {
    const Vec dot = V::set1(
        row_sum(n, [g, y](const auto& at) { return V::mul(at.load(g, 0.0f), at.load(y, 0.0f)); }));
    row_for_each(n, [g, y, out, dot](const auto& at) {
      at.store(out, V::mul(at.load(y, 0.0f), V::sub(at.load(g, 0.0f), dot)));
    });
  }

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

  // ── another dim: U vectors of adjacent rows (columns of [n, inner]) at once ───────────────
  //
  // `Cols` loads and stores U·W columns: p points at element 0 of the group's first row, element
  // j is p + j·inner. A partial group (kPartial: U = 1, k < W rows) loads and stores k lanes.
  template <int U, bool kPartial>
  struct Cols {
    int64_t inner, k;
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
  };

  template <int U, bool P>
  static void softmax_cols(const float* x, float* y, int64_t n, const Cols<U, P>& c) {
    Vec m[U], s[U];
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) m[u] = V::set1(kNegInf);
    for (int64_t j = 0; j < n; ++j) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) m[u] = V::max(m[u], c.load(x + j * c.inner, u));
    }
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) s[u] = V::zero();
    for (int64_t j = 0; j < n; ++j) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) {
        const Vec e = V::exp(V::sub(c.load(x + j * c.inner, u), m[u]));
        c.store(y + j * c.inner, u, e);
        s[u] = V::add(s[u], e);
      }
    }
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) s[u] = V::div(V::set1(1.0f), s[u]);
    for (int64_t j = 0; j < n; ++j) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) {
        c.store(y + j * c.inner, u, V::mul(c.load(y + j * c.inner, u), s[u]));
      }
    }
  }

  template <int U, bool P>
  static void log_softmax_cols(const float* x, float* y, int64_t n, const Cols<U, P>& c) {
    Vec m[U], s[U];
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) m[u] = V::set1(kNegInf);
    for (int64_t j = 0; j < n; ++j) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) m[u] = V::max(m[u], c.load(x + j * c.inner, u));
    }
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) s[u] = V::zero();
    for (int64_t j = 0; j < n; ++j) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) {
        s[u] = V::add(s[u], V::exp(V::sub(c.load(x + j * c.inner, u), m[u])));
      }
    }
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) s[u] = V::log(s[u]);
    for (int64_t j = 0; j < n; ++j) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) {
        c.store(y + j * c.inner, u, V::sub(V::sub(c.load(x + j * c.inner, u), m[u]), s[u]));
      }
    }
  }

  template <int U, bool P>
  static void softmax_backward_cols(const float* g, const float* y, float* out, int64_t n,
                                    const Cols<U, P>& c) {
    Vec dot[U];
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) dot[u] = V::zero();
    for (int64_t j = 0; j < n; ++j) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) {
        dot[u] = V::fmadd(c.load(g + j * c.inner, u), c.load(y + j * c.inner, u), dot[u]);
      }
    }
    for (int64_t j = 0; j < n; ++j) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) {
        const Vec yv = c.load(y + j * c.inner, u);
        c.store(out + j * c.inner, u, V::mul(yv, V::sub(c.load(g + j * c.inner, u), dot[u])));
      }
    }
  }

  template <int U, bool P>
  static void log_softmax_backward_cols(const float* g, const float* y, float* out, int64_t n,
                                        const Cols<U, P>& c) {
    Vec s[U];
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u) s[u] = V::zero();
    for (int64_t j = 0; j < n; ++j) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) s[u] = V::add(s[u], c.load(g + j * c.inner, u));
    }
    for (int64_t j = 0; j < n; ++j) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) {
        const Vec e = V::exp(c.load(y + j * c.inner, u));
        c.store(out + j * c.inner, u, V::sub(c.load(g + j * c.inner, u), V::mul(e, s[u])));
      }
    }
  }

  // ── the walk over a range of rows ─────────────────────────────────────────────────────────
  //
  // Last dim: rows_fn(first, count) on the range. Another dim: per outer index, the range's
  // columns in groups of kWide·W (short rows only: n ≤ kWideMaxN), then 4W, then W, then one
  // partial group: cols_fn(offset, Cols<U, partial>).
  static constexpr int kWide = 16;
  static constexpr int64_t kWideMaxN = 32768 / (kWide * W);  // a group's floats ≤ 32768 (128 KiB)
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
      if (n <= kWideMaxN) {
        for (; c + kWide * W <= end; c += kWide * W)
          cols_fn(base + c, Cols<kWide, false>{inner, W});
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
          for (int64_t k = 0; k < rows; ++k) softmax_row(x + at + k * n, y + at + k * n, n);
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

  static void softmax_backward(const float* g, const float* y, float* out, int64_t n, int64_t inner,
                               int64_t row_begin, int64_t row_end) {
    walk(
        n, inner, row_begin, row_end,
        [=](int64_t at, int64_t rows) {
          for (int64_t k = 0; k < rows; ++k) {
            softmax_backward_row(g + at + k * n, y + at + k * n, out + at + k * n, n);
          }
        },
        [=](int64_t at, const auto& c) { softmax_backward_cols(g + at, y + at, out + at, n, c); });
  }

  static void log_softmax_backward(const float* g, const float* y, float* out, int64_t n,
                                   int64_t inner, int64_t row_begin, int64_t row_end) {
    walk(
        n, inner, row_begin, row_end,
        [=](int64_t at, int64_t rows) {
          for (int64_t k = 0; k < rows; ++k) {
            log_softmax_backward_row(g + at + k * n, y + at + k * n, out + at + k * n, n);
          }
        },
        [=](int64_t at, const auto& c) {
          log_softmax_backward_cols(g + at, y + at, out + at, n, c);
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
  SoftmaxBackwardFn softmax_backward;
  SoftmaxBackwardFn log_softmax_backward;
  void (*exp)(const float* x, float* y, int64_t n);
  void (*log)(const float* x, float* y, int64_t n);
};

template <class V>
SoftmaxIsa softmax_isa() {
  using S = Softmax<V>;
  return {S::softmax, S::log_softmax, S::softmax_backward, S::log_softmax_backward, S::exp, S::log};
}

// softmax_avx2.cpp and softmax_avx512.cpp, built only for x86 (as attention's).
SoftmaxIsa softmax_avx2();
SoftmaxIsa softmax_avx512();

}  // namespace tinytorch::kernels::softmax_detail
