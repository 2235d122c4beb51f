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
//   s      = q_i·kᵀ·scale + mask                  (kKeyBlock scores, in registers/L1)
//   m_new  = max(m, max_j s_j)
//   acc    = acc·e^(m − m_new) + Σ_j e^(s_j − m_new)·v_j
//   l      = l·e^(m − m_new)   + Σ_j e^(s_j − m_new)
//   ...after the last block: out_i = acc / l,  logsumexp_i = m + log l
//
// Rescaling by e^(m − m_new) whenever the max grows keeps every exponent ≤ 0 (no overflow), and
// the result is exactly softmax(s)·v: no L×S matrix is ever stored, only kKeyBlock scores per row.
// While m is still −∞ (every key so far masked) a block adds nothing; a row that ends with
// l = 0 had no visible key: out = 0, logsumexp = −∞.
//
// The key block is packed transposed, kt[e][j], so that a row's kKeyBlock scores are E vector
// FMAs wide along j (q_i[e] broadcast); the value block is packed vp[j][e] with the row length
// padded to whole vectors, so that acc += p_j·v_j is Ev/kLanes vector FMAs.
//
// ── The backward: P rebuilt block by block from logsumexp ─────────────────────────────────────
// One problem at a time (dK and dV sum over every query row), keys in blocks, every query row
// that can see the block:
//
//   p  = exp(q_i·kᵀ·scale + mask − logsumexp_i)      dp = dO_i·vᵀ        (vectors along j)
//   ds = p ⊙ (dp − D_i),  D_i = dO_i·out_i  (= Σ_j p_j·dp_j: the softmax's row term)
//   dV_j += p_j·dO_i,   dK_j += ds_j·scale·q_i,   dQ_i += ds_j·scale·k_j   (vectors along E)
//
// so the backward stores no L×S matrix either: it pays for it by computing the scores twice.
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

namespace tinytorch::kernels::attention_detail {

// Keys per block: 64 scores per row fit in 4 AVX-512 / 8 AVX2 registers, and the packed key and
// value blocks of a 64-dim head (2 · 16 KiB) stay in L1/L2 while every row of the block reads them.
inline constexpr int64_t kKeyBlock = 64;
// Query rows per task of the forward (the threads share out (problem, row block) pairs).
inline constexpr int64_t kRowBlock = 64;

// The scratch floats the kernels need from their caller, for vectors of `lanes` floats (the
// kernels below carve it up in this order: keep the two in step).
//   forward (one row block of `rows` rows):  kt [E][64], vp [64][Evp], acc [rows][Evp],
//                                            q_scaled [rows][E], m, l [rows], srow, prow [64]
//   backward (one problem):  qp [L][Ep], dq [L][Ep], q_scaled [L][E], dop [L][Evp], D [L],
//                            kt [E][64], vt [Ev][64], kp [64][Ep], dk [64][Ep], dv [64][Evp],
//                            srow, dsrow [64]
// (Ep, Evp: E and Ev rounded up to whole vectors.) Defined in attention_fast.cpp only.
int64_t forward_workspace(const AttentionShape& s, int64_t rows, int64_t lanes);
int64_t backward_workspace(const AttentionShape& s, int64_t lanes);

template <class V>
struct FlashAttention {
  using Vec = typename V::Vec;
  static constexpr int64_t W = V::kLanes, NV = kKeyBlock / W;
  // acc[0 .. n) += Σ_j coef[j]·rows[j·ld ..] in register chunks of this many vectors (two sets
  // of accumulators, for even and odd j: twice the independent FMAs in flight).
  static constexpr int64_t kChunk = 4;
  // Row blocks with fewer rows than this compute their scores with direct_scores.
  static constexpr int64_t kDirectRows = 4;

  static int64_t round_up(int64_t x) { return (x + W - 1) / W * W; }
  static int64_t min(int64_t a, int64_t b) { return a < b ? a : b; }
  static int64_t clamp(int64_t x, int64_t lo, int64_t hi) { return x < lo ? lo : x > hi ? hi : x; }

  // How many keys of the block starting at j0 (n of them) query row i may see: all n, or under
  // the bottom-right causal rule those with j ≤ i + S − L. May be ≤ 0.
  static int64_t visible_in_block(const AttentionShape& s, int64_t i, int64_t j0, int64_t n) {
    return s.causal ? min(n, i + (s.kv_len - s.q_len) + 1 - j0) : n;
  }

  static void fill(float* p, int64_t n, float value) {
    for (int64_t x = 0; x < n; ++x) p[x] = value;
  }

  // dst [n][ld_dst] (padded with zeros from `width` to ld_dst) = src [n][width] · factor.
  static void pack_rows(const float* src, int64_t n, int64_t width, float factor, float* dst,
                        int64_t ld_dst) {
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t e = 0; e < ld_dst; ++e) {
        dst[r * ld_dst + e] = e < width ? src[r * width + e] * factor : 0.0f;
      }
    }
  }

  // dst [width][kKeyBlock] = src [n][width] transposed, zero past n.
  static void pack_transposed(const float* src, int64_t n, int64_t width, float* dst) {
    for (int64_t e = 0; e < width; ++e) {
      for (int64_t j = 0; j < kKeyBlock; ++j)
        dst[e * kKeyBlock + j] = j < n ? src[j * width + e] : 0.0f;
    }
  }

  // acc[0 .. n) = acc · factor + Σ_{j < count} coef[j] · rows[j·ld + 0 .. n), n a multiple of W.
  static void accumulate_rows(int64_t count, const float* coef, const float* rows, int64_t ld,
                              int64_t n, float factor, float* acc) {
    const Vec f = V::set1(factor);
    for (int64_t t0 = 0; t0 < n; t0 += kChunk * W) {
      const int64_t nv = min(kChunk, (n - t0) / W);
      Vec a[kChunk], b[kChunk];
#pragma GCC unroll 4
      for (int64_t c = 0; c < kChunk; ++c) {
        a[c] = c < nv ? V::mul(V::load(acc + t0 + c * W), f) : V::zero();
        b[c] = V::zero();
      }
      int64_t j = 0;
      for (; j + 1 < count; j += 2) {
        const Vec c0 = V::set1(coef[j]), c1 = V::set1(coef[j + 1]);
        const float* r0 = rows + j * ld + t0;
        const float* r1 = r0 + ld;
#pragma GCC unroll 4
        for (int64_t c = 0; c < kChunk; ++c) {
          if (c < nv) {
            a[c] = V::fmadd(c0, V::load(r0 + c * W), a[c]);
            b[c] = V::fmadd(c1, V::load(r1 + c * W), b[c]);
          }
        }
      }
      if (j < count) {
        const Vec c0 = V::set1(coef[j]);
        const float* r0 = rows + j * ld + t0;
#pragma GCC unroll 4
        for (int64_t c = 0; c < kChunk; ++c) {
          if (c < nv) a[c] = V::fmadd(c0, V::load(r0 + c * W), a[c]);
        }
      }
#pragma GCC unroll 4
      for (int64_t c = 0; c < kChunk; ++c) {
        if (c < nv) V::store(acc + t0 + c * W, V::add(a[c], b[c]));
      }
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

  // The same scores for a few rows (decoding: one query), straight from the key rows k [n][E]:
  // packing kᵀ would cost as much as using it once.
  static void direct_scores(int64_t E, const float* q_scaled, const float* k, const float* mask_row,
                            int64_t visible, Vec* sv, float* srow) {
    const float neg_inf = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < kKeyBlock; ++j) {
      srow[j] = j < visible
                    ? dot(q_scaled, k + j * E, E) + (mask_row != nullptr ? mask_row[j] : 0.0f)
                    : neg_inf;
    }
#pragma GCC unroll 8
    for (int64_t t = 0; t < NV; ++t) sv[t] = V::load(srow + t * W);
  }

  // The scores of one row against one packed key block, as NV vectors:
  //   sv[t] = Σ_e q_scaled[e] · kt[e][t·W ..]
  // then + mask_row[j] for the `visible` first keys and −∞ for the rest (invisible or padding).
  static void block_scores(int64_t E, const float* q_scaled, const float* kt, const float* mask_row,
                           int64_t visible, Vec* sv, float* srow) {
#pragma GCC unroll 8
    for (int64_t t = 0; t < NV; ++t) sv[t] = V::zero();
    for (int64_t e = 0; e < E; ++e) {
      const Vec qe = V::set1(q_scaled[e]);
      const float* row = kt + e * kKeyBlock;
#pragma GCC unroll 8
      for (int64_t t = 0; t < NV; ++t) sv[t] = V::fmadd(qe, V::load(row + t * W), sv[t]);
    }
    const int64_t full = visible / W;  // vectors whose every key is visible
    if (mask_row != nullptr) {
      for (int64_t t = 0; t < full; ++t) sv[t] = V::add(sv[t], V::load(mask_row + t * W));
    }
    if (full == NV) return;
    // The partly visible vectors, element by element.
    const float neg_inf = -std::numeric_limits<float>::infinity();
    for (int64_t t = full; t < NV; ++t) V::store(srow + t * W, sv[t]);
    for (int64_t j = full * W; j < kKeyBlock; ++j) {
      srow[j] = j < visible ? srow[j] + (mask_row != nullptr ? mask_row[j] : 0.0f) : neg_inf;
    }
    for (int64_t t = full; t < NV; ++t) sv[t] = V::load(srow + t * W);
  }

  static void forward_rows(const AttentionShape& s, const AttentionInputs<float>& in, int64_t b,
                           int64_t i0, int64_t i1, float* out, float* logsumexp, float* work) {
    const int64_t L = s.q_len, S = s.kv_len, E = s.head_dim, Ev = s.value_dim;
    const int64_t Evp = round_up(Ev), rows = i1 - i0;
    const float neg_inf = -std::numeric_limits<float>::infinity();
    const float* q = in.query + b * L * E;
    const float* k = in.key + b * S * E;
    const float* v = in.value + b * S * Ev;
    const float* mask = in.mask != nullptr ? in.mask + in.mask_offsets[b] : nullptr;
    float* kt = work;                    // [E][kKeyBlock]
    float* vp = kt + E * kKeyBlock;      // [kKeyBlock][Evp]
    float* acc = vp + kKeyBlock * Evp;   // [rows][Evp]
    float* q_scaled = acc + rows * Evp;  // [rows][E]
    float* m = q_scaled + rows * E;      // [rows]
    float* l = m + rows;                 // [rows]
    float* srow = l + rows;              // [kKeyBlock]
    float* prow = srow + kKeyBlock;      // [kKeyBlock]
    fill(acc, rows * Evp, 0.0f);
    fill(m, rows, neg_inf);
    fill(l, rows, 0.0f);
    pack_rows(q + i0 * E, rows, E, static_cast<float>(s.scale), q_scaled, E);

    // Under is_causal the row block's last row sees keys up to (i1 − 1) + S − L.
    const int64_t key_end = s.causal ? clamp(i1 + S - L, 0, S) : S;
    // A few rows (decoding) read the key rows directly; value rows are read in place when they
    // are whole vectors already.
    const bool direct = rows < kDirectRows, values_in_place = Ev == Evp;
    for (int64_t j0 = 0; j0 < key_end; j0 += kKeyBlock) {
      const int64_t n = min(kKeyBlock, key_end - j0);
      if (!direct) pack_transposed(k + j0 * E, n, E, kt);
      if (!values_in_place) pack_rows(v + j0 * Ev, n, Ev, 1.0f, vp, Evp);
      const float* v_rows = values_in_place ? v + j0 * Ev : vp;
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = i0 + r;
        const int64_t visible = visible_in_block(s, i, j0, n);
        if (visible <= 0) continue;
        Vec sv[NV];
        const float* mask_row = mask != nullptr ? mask + i * S + j0 : nullptr;
        if (direct) {
          direct_scores(E, q_scaled + r * E, k + j0 * E, mask_row, visible, sv, srow);
        } else {
          block_scores(E, q_scaled + r * E, kt, mask_row, visible, sv, srow);
        }
        Vec mv = sv[0];
        for (int64_t t = 1; t < NV; ++t) mv = V::max(mv, sv[t]);
        const float block_max = V::reduce_max(mv);
        const float m_new = block_max > m[r] ? block_max : m[r];
        if (m_new == neg_inf) continue;  // every key so far masked: nothing to add yet
        const float alpha = __builtin_expf(m[r] - m_new);  // 0 when m was −∞
        const Vec mn = V::set1(m_new);
        Vec sum = V::zero();
#pragma GCC unroll 8
        for (int64_t t = 0; t < NV; ++t) {
          const Vec p = V::exp(V::sub(sv[t], mn));
          sum = V::add(sum, p);
          V::store(prow + t * W, p);
        }
        l[r] = l[r] * alpha + V::reduce_add(sum);  // the softmax's sum: before dropout
        m[r] = m_new;
        if (in.keep != nullptr) {  // dropout: out accumulates (P ⊙ keep)·v
          const float* z = in.keep + (b * L + i) * S + j0;
          for (int64_t j = 0; j < visible; ++j) prow[j] *= z[j];
        }
        accumulate_rows(visible, prow, v_rows, Evp, Evp, alpha, acc + r * Evp);
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = i0 + r;
      float* o = out + (b * L + i) * Ev;
      if (l[r] == 0.0f) {  // no visible key
        fill(o, Ev, 0.0f);
        logsumexp[b * L + i] = neg_inf;
        continue;
      }
      const float inv = 1.0f / l[r];
      for (int64_t e = 0; e < Ev; ++e) o[e] = acc[r * Evp + e] * inv;
      logsumexp[b * L + i] = m[r] + __builtin_logf(l[r]);
    }
  }

  static void backward_problem(const AttentionShape& s, const AttentionInputs<float>& in, int64_t b,
                               const float* out, const float* logsumexp, const float* grad_out,
                               float* grad_query, float* grad_key, float* grad_value, float* work) {
    const int64_t L = s.q_len, S = s.kv_len, E = s.head_dim, Ev = s.value_dim;
    const int64_t Ep = round_up(E), Evp = round_up(Ev);
    const float neg_inf = -std::numeric_limits<float>::infinity();
    const float scale = static_cast<float>(s.scale);
    const float* q = in.query + b * L * E;
    const float* k = in.key + b * S * E;
    const float* v = in.value + b * S * Ev;
    const float* mask = in.mask != nullptr ? in.mask + in.mask_offsets[b] : nullptr;
    const float* o = out + b * L * Ev;
    const float* lse = logsumexp + b * L;
    const float* dO = grad_out + b * L * Ev;
    float* qp = work;                    // [L][Ep]   q·scale, padded (for dK)
    float* dq = qp + L * Ep;             // [L][Ep]   dQ, accumulated over the key blocks
    float* q_scaled = dq + L * Ep;       // [L][E]    q·scale (for the scores)
    float* dop = q_scaled + L * E;       // [L][Evp]  dO, padded (for dV)
    float* D = dop + L * Evp;            // [L]       D_i = dO_i·out_i
    float* kt = D + L;                   // [E][kKeyBlock]
    float* vt = kt + E * kKeyBlock;      // [Ev][kKeyBlock]
    float* kp = vt + Ev * kKeyBlock;     // [kKeyBlock][Ep]  k·scale, padded (for dQ)
    float* dk = kp + kKeyBlock * Ep;     // [kKeyBlock][Ep]
    float* dv = dk + kKeyBlock * Ep;     // [kKeyBlock][Evp]
    float* srow = dv + kKeyBlock * Evp;  // [kKeyBlock]  p
    float* dsrow = srow + kKeyBlock;     // [kKeyBlock]  ds
    pack_rows(q, L, E, scale, qp, Ep);
    pack_rows(q, L, E, scale, q_scaled, E);
    pack_rows(dO, L, Ev, 1.0f, dop, Evp);
    for (int64_t i = 0; i < L; ++i) {
      float d = 0;
      for (int64_t e = 0; e < Ev; ++e) d += dO[i * Ev + e] * o[i * Ev + e];
      D[i] = d;
    }
    fill(dq, L * Ep, 0.0f);

    for (int64_t j0 = 0; j0 < S; j0 += kKeyBlock) {
      const int64_t n = min(kKeyBlock, S - j0);
      pack_transposed(k + j0 * E, n, E, kt);
      pack_transposed(v + j0 * Ev, n, Ev, vt);
      pack_rows(k + j0 * E, n, E, scale, kp, Ep);
      fill(dk, kKeyBlock * Ep, 0.0f);
      fill(dv, kKeyBlock * Evp, 0.0f);
      // Under is_causal, rows before j0 − (S − L) see none of this block.
      const int64_t first_row = s.causal ? clamp(j0 - (S - L), 0, L) : 0;
      for (int64_t i = first_row; i < L; ++i) {
        const int64_t visible = visible_in_block(s, i, j0, n);
        if (visible <= 0 || lse[i] == neg_inf) continue;  // a dead row gets no gradient
        Vec sv[NV], dp[NV];
        block_scores(E, q_scaled + i * E, kt, mask != nullptr ? mask + i * S + j0 : nullptr,
                     visible, sv, srow);
#pragma GCC unroll 8
        for (int64_t t = 0; t < NV; ++t) dp[t] = V::zero();
        for (int64_t e = 0; e < Ev; ++e) {
          const Vec g = V::set1(dO[i * Ev + e]);
          const float* row = vt + e * kKeyBlock;
#pragma GCC unroll 8
          for (int64_t t = 0; t < NV; ++t) dp[t] = V::fmadd(g, V::load(row + t * W), dp[t]);
        }
        const Vec l_i = V::set1(lse[i]), d_i = V::set1(D[i]);
        if (in.keep == nullptr) {
#pragma GCC unroll 8
          for (int64_t t = 0; t < NV; ++t) {
            const Vec p = V::exp(V::sub(sv[t], l_i));
            V::store(srow + t * W, p);
            V::store(dsrow + t * W, V::mul(p, V::sub(dp[t], d_i)));
          }
        } else {  // dropout: ds = p ⊙ (dp ⊙ keep − D), and dV takes p ⊙ keep
          const float* z = in.keep + (b * L + i) * S + j0;
          for (int64_t t = 0; t < NV; ++t) {
            V::store(srow + t * W, V::exp(V::sub(sv[t], l_i)));
            V::store(dsrow + t * W, dp[t]);
          }
          for (int64_t j = 0; j < visible; ++j) {
            dsrow[j] = srow[j] * (dsrow[j] * z[j] - D[i]);
            srow[j] *= z[j];
          }
        }
        // dV_j += p_j·dO_i and dK_j += ds_j·q_i·scale: a different row of dv, dk for every j.
        const float* q_i = qp + i * Ep;
        const float* do_i = dop + i * Evp;
        for (int64_t j = 0; j < visible; ++j) {
          const Vec pj = V::set1(srow[j]), dsj = V::set1(dsrow[j]);
          float* dv_j = dv + j * Evp;
          for (int64_t t = 0; t < Evp; t += W) {
            V::store(dv_j + t, V::fmadd(pj, V::load(do_i + t), V::load(dv_j + t)));
          }
          float* dk_j = dk + j * Ep;
          for (int64_t t = 0; t < Ep; t += W) {
            V::store(dk_j + t, V::fmadd(dsj, V::load(q_i + t), V::load(dk_j + t)));
          }
        }
        // dQ_i += Σ_j ds_j·k_j·scale: one row summed over j, in registers.
        accumulate_rows(visible, dsrow, kp, Ep, Ep, 1.0f, dq + i * Ep);
      }
      for (int64_t j = 0; j < n; ++j) {
        for (int64_t e = 0; e < E; ++e) grad_key[(b * S + j0 + j) * E + e] = dk[j * Ep + e];
        for (int64_t e = 0; e < Ev; ++e) grad_value[(b * S + j0 + j) * Ev + e] = dv[j * Evp + e];
      }
    }
    for (int64_t i = 0; i < L; ++i) {
      for (int64_t e = 0; e < E; ++e) grad_query[(b * L + i) * E + e] = dq[i * Ep + e];
    }
  }
};

// The kernels of one instruction set (attention_fast.cpp threads them and gives them scratch
// memory of forward_workspace / backward_workspace floats).
struct AttentionIsa {
  int64_t lanes;
  void (*forward_rows)(const AttentionShape& s, const AttentionInputs<float>& in, int64_t b,
                       int64_t i0, int64_t i1, float* out, float* logsumexp, float* work);
  void (*backward_problem)(const AttentionShape& s, const AttentionInputs<float>& in, int64_t b,
                           const float* out, const float* logsumexp, const float* grad_out,
                           float* grad_query, float* grad_key, float* grad_value, float* work);
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
