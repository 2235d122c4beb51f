// The vector "policies" the fast tier's SIMD kernels are written over (attention_simd.h,
// activation_simd.h): one struct per instruction set, each wrapping that set's intrinsics behind
// the same names, so a kernel is written once as a template over V and instantiated per set.
// Private to src/kernels.
//
// Every policy provides, for vectors of V::kLanes floats:
//   Vec, kLanes, zero(), set1(float), load(const float*), store(float*, Vec),
//   load_partial(p, k, fill) (lanes [0, k) from p, the others `fill`; memory past p + k is never
//   touched) and store_partial(p, k, v) (lanes [0, k) only), for 1 ≤ k ≤ kLanes,
//   add, sub, mul, div, max, fmadd(x, y, acc) = x·y + acc,
//   exp (saturating at e^88.3 for larger x, +∞ included; exactly 0 for −∞ (and in the SIMD
//   versions for any x < −87.3, where e^x leaves the normal floats); NaN stays NaN),
//   log (the positive normal floats and NaN: log_simd.h; used on sums ≥ 1),
//   select_negative(x, a, b) = x < 0 ? a : b lane by lane (−0 may pick either: callers make both
//   sides agree at 0), reduce_max(Vec), reduce_add(Vec) (Avx512 also reduce_max_each and
//   reduce_add_each: 16 vectors' reductions as the lanes of one),
//   transpose(src, ld_src, dst, ld_dst): dst[c][r] = src[r][c] for a kLanes × kLanes block (rows
//   ld_src and ld_dst floats apart).
// Avx2 and Avx512 also have stream(p, v): a non-temporal store, written around the caches (no read
// of the line first), p aligned to sizeof(Vec); and stream_fence(), which orders a call's
// streamed stores before whatever the thread stores next (the thread pool's "done").
//
// NOTE: this header is included by files compiled with different instruction sets
// (attention_avx512.cpp with -mavx512f, attention_fast.cpp with none, ...). Its structs live in
// an unnamed namespace so that each file gets its own copy, compiled with its own flags: a shared
// (inline, external) copy could hand AVX-512 code to a CPU without it. Each struct is defined only
// when the file's flags allow its intrinsics.
#pragma once

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "exp_simd.h"
#include "log_simd.h"
#include "unroll.h"
#endif

namespace tinytorch::kernels {
namespace {

// The portable one-lane "vector" (whatever the compiler makes of it for baseline x86-64).
struct Scalar {
  using Vec = float;
  static constexpr float exp_hi = 88.3f;  // exp_constants::kHi
  static constexpr int64_t kLanes = 1;
  static Vec zero() { return 0.0f; }
  static Vec set1(float x) { return x; }
  static Vec load(const float* p) { return *p; }
  static void store(float* p, Vec v) { *p = v; }
  static Vec load_partial(const float* p, int64_t, float) { return *p; }  // k is always 1
  static void store_partial(float* p, int64_t, Vec v) { *p = v; }
  static Vec add(Vec x, Vec y) { return x + y; }
  static Vec sub(Vec x, Vec y) { return x - y; }
  static Vec mul(Vec x, Vec y) { return x * y; }
  static Vec div(Vec x, Vec y) { return x / y; }
  static Vec max(Vec x, Vec y) { return x > y ? x : y; }
  static Vec fmadd(Vec x, Vec y, Vec acc) { return x * y + acc; }
  static Vec exp(Vec x) {  // saturating at e^88.3 like the SIMD versions (NaN stays NaN)
    return __builtin_expf(x > exp_hi ? exp_hi : x);
  }
  static Vec log(Vec x) { return __builtin_logf(x); }
  static Vec select_negative(Vec x, Vec a, Vec b) { return x < 0.0f ? a : b; }
  static float reduce_max(Vec v) { return v; }
  static float reduce_add(Vec v) { return v; }
  static void transpose(const float* src, int64_t, float* dst, int64_t) { *dst = *src; }
};

#ifdef __AVX2__
struct Avx2 {
  using Vec = __m256;
  static constexpr int64_t kLanes = 8;
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec set1(float x) { return _mm256_set1_ps(x); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static void stream(float* p, Vec v) { _mm256_stream_ps(p, v); }
  static void stream_fence() { _mm_sfence(); }
  static __m256i first_lanes(int64_t k) {  // all ones in lanes [0, k)
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(k)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Vec load_partial(const float* p, int64_t k, float fill) {
    const __m256i mask = first_lanes(k);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, mask),
                            _mm256_castsi256_ps(mask));
  }
  static void store_partial(float* p, int64_t k, Vec v) {
    _mm256_maskstore_ps(p, first_lanes(k), v);
  }
  static Vec add(Vec x, Vec y) { return _mm256_add_ps(x, y); }
  static Vec sub(Vec x, Vec y) { return _mm256_sub_ps(x, y); }
  static Vec mul(Vec x, Vec y) { return _mm256_mul_ps(x, y); }
  static Vec div(Vec x, Vec y) { return _mm256_div_ps(x, y); }
  static Vec max(Vec x, Vec y) { return _mm256_max_ps(x, y); }
  static Vec fmadd(Vec x, Vec y, Vec acc) { return _mm256_fmadd_ps(x, y, acc); }
  static Vec exp(Vec x) { return exp_avx2(x); }
  static Vec log(Vec x) { return log_avx2(x); }
  // blendv picks by each lane's sign bit: a where x is negative (−0 included), b elsewhere.
  static Vec select_negative(Vec x, Vec a, Vec b) { return _mm256_blendv_ps(b, a, x); }
  static float reduce_max(Vec v) {  // halves, then pairs, then the last two
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    x = _mm_max_ss(x, _mm_shuffle_ps(x, x, 1));
    return _mm_cvtss_f32(x);
  }
  static float reduce_add(Vec v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
    return _mm_cvtss_f32(x);
  }
  // 8 × 8 in registers, in three rounds of shuffles, each within 128-bit halves until the last:
  //   unpack:   pairs of rows interleaved      t0 = (r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] ...)
  //   shuffle:  4 rows of one column per half  u0 = (r0..3[0] | r0..3[4]),  u1 = (.[1] | .[5]) ...
  //   permute:  the halves of u_c and u_c+4    column c = (u_c low | u_c+4 low), c + 4: the highs
  // (Also the GEMM's one-row path, gemm_avx2.cpp: exact, so it keeps the bits of its FMA chains.)
  static void transpose8x8(Vec r[8]) {
    Vec t[8], u[8];
    // NOTE: fully unrolled (TT_UNROLL), so t, u and r stay in registers; GCC's -O2 otherwise
    // keeps these short loops and the arrays on the stack.
    TT_UNROLL(4)
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    TT_UNROLL(2)
    for (int h = 0; h < 8; h += 4) {  // rows 0–3, then rows 4–7
      u[h] = _mm256_shuffle_ps(t[h], t[h + 2], _MM_SHUFFLE(1, 0, 1, 0));
      u[h + 1] = _mm256_shuffle_ps(t[h], t[h + 2], _MM_SHUFFLE(3, 2, 3, 2));
      u[h + 2] = _mm256_shuffle_ps(t[h + 1], t[h + 3], _MM_SHUFFLE(1, 0, 1, 0));
      u[h + 3] = _mm256_shuffle_ps(t[h + 1], t[h + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    TT_UNROLL(4)
    for (int c = 0; c < 4; ++c) {
      r[c] = _mm256_permute2f128_ps(u[c], u[c + 4], 0x20);
      r[c + 4] = _mm256_permute2f128_ps(u[c], u[c + 4], 0x31);
    }
  }
  static void transpose(const float* src, int64_t ld_src, float* dst, int64_t ld_dst) {
    Vec r[8];
    for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld_src);
    transpose8x8(r);
    for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + i * ld_dst, r[i]);
  }
  // The 16 values a[0..7], b[0..7] split by parity: even = (a0 a2 a4 a6 b0 b2 b4 b6), odd = the
  // rest. The shuffle picks lanes within 128-bit halves (a0 a2 b0 b2 | a4 a6 b4 b6), the permute
  // puts the 64-bit pairs in order (0, 2, 1, 3).
  static void deinterleave(Vec a, Vec b, Vec& even, Vec& odd) {
    even = _mm256_castpd_ps(_mm256_permute4x64_pd(
        _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), 0xD8));
    odd = _mm256_castpd_ps(_mm256_permute4x64_pd(
        _mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))), 0xD8));
  }
};
#endif

#ifdef __AVX512F__
// GCC 12 reports the deliberately undefined pass-through operand of its AVX-512 intrinsics
// (_mm512_reduce_*_ps, the masked compares, the shifts and conversions of the exponential) as
// "may be used uninitialized" — or "is used uninitialized", once a loop holding many of them is
// unrolled — when they are inlined: a false positive, silenced for the files that use AVX-512 (as
// in spatial_avx512.cpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

struct Avx512 {
  using Vec = __m512;
  static constexpr int64_t kLanes = 16;
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec set1(float x) { return _mm512_set1_ps(x); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static void stream(float* p, Vec v) { _mm512_stream_ps(p, v); }
  static void stream_fence() { _mm_sfence(); }
  static __mmask16 first_lanes(int64_t k) {
    return static_cast<__mmask16>((1u << static_cast<unsigned>(k)) - 1u);
  }
  static Vec load_partial(const float* p, int64_t k, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), first_lanes(k), p);
  }
  static void store_partial(float* p, int64_t k, Vec v) {
    _mm512_mask_storeu_ps(p, first_lanes(k), v);
  }
  static Vec add(Vec x, Vec y) { return _mm512_add_ps(x, y); }
  static Vec sub(Vec x, Vec y) { return _mm512_sub_ps(x, y); }
  static Vec mul(Vec x, Vec y) { return _mm512_mul_ps(x, y); }
  static Vec div(Vec x, Vec y) { return _mm512_div_ps(x, y); }
  static Vec max(Vec x, Vec y) { return _mm512_max_ps(x, y); }
  static Vec fmadd(Vec x, Vec y, Vec acc) { return _mm512_fmadd_ps(x, y, acc); }
  static Vec exp(Vec x) { return exp_avx512(x); }
  static Vec log(Vec x) { return log_avx512(x); }
  static Vec select_negative(Vec x, Vec a, Vec b) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), b, a);
  }
  static float reduce_max(Vec v) { return _mm512_reduce_max_ps(v); }
  static float reduce_add(Vec v) { return _mm512_reduce_add_ps(v); }
  // Lane k = reduce_max(r[k]), reduce_add(r[k]) for 16 vectors at once (reduce_each).
  static Vec reduce_max_each(const Vec r[16]) {
    return reduce_each(r, [](Vec a, Vec b) { return _mm512_max_ps(a, b); });
  }
  static Vec reduce_add_each(const Vec r[16]) {
    return reduce_each(r, [](Vec a, Vec b) { return _mm512_add_ps(a, b); });
  }
  // The halving tree of reduce_add / reduce_max — lanes i and i + 8 combined, then i and i + 4,
  // i and i + 2, i and i + 1 — run on 16 vectors (rows of a 16 × 16 block) together: each step
  // combines two vectors' worth of partial results into one, so the block takes 15 steps of two
  // shuffles and one op and ends in a vector of the 16 results, where one vector alone takes 4
  // steps ending in a scalar. Lane k of the result is r[k]'s; the pairs combined (and, for max,
  // the order of the operands) are those of GCC's _mm512_reduce_*_ps, so it holds the same bits.
  //   step 1  halves(a, b):  lanes [0, 8) a[i] ∘ a[i + 8],  [8, 16) b[i] ∘ b[i + 8]
  //   step 2  quarters:      each 4-lane block one row's 4 partials
  //   step 3  pairs:         each 2 lanes one row's 2 partials
  //   step 4  singles:       each lane one row's result
  // Rows j, j + 4, j + 8, j + 12 (j < 4) meet in step 2; the step-3 and step-4 shuffles then put
  // row 4b + j in lane 4b + j.
  template <class Op>
  static Vec reduce_each(const Vec r[16], Op op) {
    Vec q[4];
    for (int j = 0; j < 4; ++j) {
      const auto halves = [op](Vec a, Vec b) {
        return op(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 2, 3, 2)),
                  _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(1, 0, 1, 0)));
      };
      const Vec c = halves(r[j], r[j + 4]), d = halves(r[j + 8], r[j + 12]);
      q[j] = op(_mm512_shuffle_f32x4(c, d, _MM_SHUFFLE(3, 1, 3, 1)),
                _mm512_shuffle_f32x4(c, d, _MM_SHUFFLE(2, 0, 2, 0)));
    }
    const auto pairs = [op](Vec a, Vec b) {
      return op(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
    };
    const Vec p = pairs(q[0], q[1]), s = pairs(q[2], q[3]);
    return op(_mm512_shuffle_ps(p, s, _MM_SHUFFLE(2, 0, 2, 0)),
              _mm512_shuffle_ps(p, s, _MM_SHUFFLE(3, 1, 3, 1)));
  }
  // The 32 values a[0..15], b[0..15] split by parity: even = (a0 a2 … a14 b0 b2 … b14), odd =
  // the rest; one two-source permute each (index i < 16 picks a[i], 16 + i picks b[i]).
  static void deinterleave(Vec a, Vec b, Vec& even, Vec& odd) {
    const __m512i evens =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    even = _mm512_permutex2var_ps(a, evens, b);
    odd = _mm512_permutex2var_ps(a, _mm512_add_epi32(evens, _mm512_set1_epi32(1)), b);
  }
  // 16 × 16 as four 8 × 8 blocks, block (a, b) of src to block (b, a) of dst (-mavx512f implies
  // AVX2, so Avx2 is defined in every file that has Avx512).
  static void transpose(const float* src, int64_t ld_src, float* dst, int64_t ld_dst) {
    for (int64_t a = 0; a < 16; a += 8) {
      for (int64_t b = 0; b < 16; b += 8)
        Avx2::transpose(src + a * ld_src + b, ld_src, dst + b * ld_dst + a, ld_dst);
    }
  }
};
#endif

// U vectors of policy V as one "vector" of U · V::kLanes floats: every operation is issued for
// all U parts before the next operation starts, so the instruction stream interleaves U
// independent dependency chains.
//
//   one at a time:   x0 → z0 → t0 → P(t0) → e0 → Φ0 → y0 │ x1 → z1 → …     (~130 cycles each)
//   interleaved:     x0 x1 x2 x3 → z0 z1 z2 z3 → t0 t1 t2 t3 → …            (4 overlap)
//
// Why it matters: a kernel whose per-vector work is one long chain (GELU's Φ: a division, a
// Horner polynomial and an exponential, ~40 dependent instructions) runs at the chain's LATENCY
// when vectors go one by one — the out-of-order core can hold only 2–3 iterations' worth of
// instructions, not enough to find independent work — and at the core's THROUGHPUT once the
// program order itself offers U independent chains. (GCC does not interleave unrolled copies on
// its own for x86: it schedules after register allocation only.) Measured on one Zen 3 core
// (AVX2, U = 4), GELU went from 1.48 to 1.01 ns per element forward and from 1.91 to 1.31
// backward; U = 2 gains less, and U = 4 is about the most AVX2's 16 registers hold without
// spilling. The results are bit-identical, since each lane sees the same operations. exp is V's
// own, called per part: it is short enough for the core to overlap. The kernel's functions must be
// inlined (gnu::always_inline): a Vec of U parts passed to a call goes through memory.
// Provides what the element-wise kernels use (no reductions).
template <class V, int U>
struct Interleaved {
  struct Vec {
    typename V::Vec part[U];
  };
  static constexpr int64_t kLanes = V::kLanes * U;

  template <class F>
  static Vec each(F f) {  // {f(0), …, f(U − 1)}
    Vec r;
    TT_UNROLL(16)
    for (int u = 0; u < U; ++u) r.part[u] = f(u);
    return r;
  }
  static Vec zero() {
    return each([](int) { return V::zero(); });
  }
  static Vec set1(float x) {
    return each([x](int) { return V::set1(x); });
  }
  static Vec load(const float* p) {
    return each([p](int u) { return V::load(p + u * V::kLanes); });
  }
  static void store(float* p, Vec v) {
    TT_UNROLL(16)
    for (int u = 0; u < U; ++u) V::store(p + u * V::kLanes, v.part[u]);
  }
  static Vec add(Vec x, Vec y) {
    return each([&](int u) { return V::add(x.part[u], y.part[u]); });
  }
  static Vec sub(Vec x, Vec y) {
    return each([&](int u) { return V::sub(x.part[u], y.part[u]); });
  }
  static Vec mul(Vec x, Vec y) {
    return each([&](int u) { return V::mul(x.part[u], y.part[u]); });
  }
  static Vec div(Vec x, Vec y) {
    return each([&](int u) { return V::div(x.part[u], y.part[u]); });
  }
  static Vec max(Vec x, Vec y) {
    return each([&](int u) { return V::max(x.part[u], y.part[u]); });
  }
  static Vec fmadd(Vec x, Vec y, Vec acc) {
    return each([&](int u) { return V::fmadd(x.part[u], y.part[u], acc.part[u]); });
  }
  static Vec exp(Vec x) {
    return each([&](int u) { return V::exp(x.part[u]); });
  }
  static Vec select_negative(Vec x, Vec a, Vec b) {
    return each([&](int u) { return V::select_negative(x.part[u], a.part[u], b.part[u]); });
  }
};

}  // namespace
}  // namespace tinytorch::kernels
