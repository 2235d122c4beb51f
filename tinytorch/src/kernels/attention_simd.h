// The fast tier's attention kernels (kernels/attention.h), written once over a vector type and
// instantiated per instruction set: attention_avx2.cpp, attention_avx512.cpp, and the portable
// one-lane version in attention_fast.cpp. Private to src/kernels.
//
// The policy V provides, for vectors of V::kLanes floats:
//   Vec, kLanes, zero(), set1(float), load(const float*), store(float*, Vec), add, sub, mul,
//   max, fmadd(x, y, acc) = x·y + acc, exp (exact 0 for −∞ and for x < −87.3, where e^x
//   leaves the normal floats), reduce_max(Vec), reduce_add(Vec).
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
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "tinytorch/kernels/attention.h"

namespace tinytorch::kernels::attention_detail {

// Keys per block: 64 scores per row fit in 4 AVX-512 / 8 AVX2 registers, and the packed key and
// value blocks of a 64-dim head (2 · 16 KiB) stay in L1/L2 while every row of the block reads them.
inline constexpr int64_t kKeyBlock = 64;
// Query rows per task of the forward (the threads share out (problem, row block) pairs).
inline constexpr int64_t kRowBlock = 64;

inline int64_t round_up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}

// How many keys of the block starting at j0 (n of them) query row i may see: all n, or under the
// bottom-right causal rule those with j ≤ i + S − L. May be ≤ 0.
inline int64_t visible_in_block(const AttentionShape& s, int64_t i, int64_t j0, int64_t n) {
  if (!s.causal) return n;
  return std::min(n, i + (s.kv_len - s.q_len) + 1 - j0);
}

// Per-thread scratch, reused across calls (grown, never shrunk).
inline float* scratch(std::vector<float>& buffer, int64_t n) {
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(static_cast<size_t>(n));
  return buffer.data();
}

// The scores of one row against one packed key block, as kKeyBlock / kLanes vectors:
//   sv[t] = Σ_e q_scaled[e] · kt[e][t·kLanes ..]
// then + mask_row[j] for the `visible` first keys and −∞ for the rest (invisible or padding).
template <class V>
void block_scores(int64_t E, const float* q_scaled, const float* kt, const float* mask_row,
                  int64_t visible, typename V::Vec* sv, float* srow) {
  constexpr int64_t W = V::kLanes, NV = kKeyBlock / W;
  for (int64_t t = 0; t < NV; ++t) sv[t] = V::zero();
  for (int64_t e = 0; e < E; ++e) {
    const typename V::Vec qe = V::set1(q_scaled[e]);
    const float* row = kt + e * kKeyBlock;
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

template <class V>
void forward_rows(const AttentionShape& s, const AttentionInputs<float>& in, int64_t b, int64_t i0,
                  int64_t i1, float* out, float* logsumexp) {
  constexpr int64_t W = V::kLanes, NV = kKeyBlock / W;
  using Vec = typename V::Vec;
  const int64_t L = s.q_len, S = s.kv_len, E = s.head_dim, Ev = s.value_dim;
  const int64_t Evp = round_up(Ev, W), rows = i1 - i0;
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const float* q = in.query + b * L * E;
  const float* k = in.key + b * S * E;
  const float* v = in.value + b * S * Ev;
  const float* mask = in.mask != nullptr ? in.mask + in.mask_offsets[b] : nullptr;

  thread_local std::vector<float> buffer;
  float* kt =
      scratch(buffer, E * kKeyBlock + kKeyBlock * Evp + rows * (Evp + E + 2) + 2 * kKeyBlock);
  float* vp = kt + E * kKeyBlock;      // [kKeyBlock][Evp]
  float* acc = vp + kKeyBlock * Evp;   // [rows][Evp]
  float* q_scaled = acc + rows * Evp;  // [rows][E]
  float* m = q_scaled + rows * E;      // [rows]
  float* l = m + rows;                 // [rows]
  float* srow = l + rows;              // [kKeyBlock]
  float* prow = srow + kKeyBlock;      // [kKeyBlock]
  std::fill(acc, acc + rows * Evp, 0.0f);
  std::fill(m, m + rows, neg_inf);
  std::fill(l, l + rows, 0.0f);
  const float scale = static_cast<float>(s.scale);
  for (int64_t r = 0; r < rows * E; ++r) q_scaled[r] = q[i0 * E + r] * scale;

  // Under is_causal the row block's last row sees keys up to (i1 − 1) + S − L.
  const int64_t key_end = s.causal ? std::clamp<int64_t>(i1 + S - L, 0, S) : S;
  for (int64_t j0 = 0; j0 < key_end; j0 += kKeyBlock) {
    const int64_t n = std::min(kKeyBlock, key_end - j0);
    for (int64_t e = 0; e < E; ++e) {  // kt[e][j] = k[j0 + j][e], zero past n
      for (int64_t j = 0; j < n; ++j) kt[e * kKeyBlock + j] = k[(j0 + j) * E + e];
      std::fill(kt + e * kKeyBlock + n, kt + (e + 1) * kKeyBlock, 0.0f);
    }
    for (int64_t j = 0; j < n; ++j) {  // vp[j][0..Ev) = v[j0 + j], zero-padded to Evp
      std::memcpy(vp + j * Evp, v + (j0 + j) * Ev, static_cast<size_t>(Ev) * sizeof(float));
      std::fill(vp + j * Evp + Ev, vp + (j + 1) * Evp, 0.0f);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = i0 + r;
      const int64_t visible = visible_in_block(s, i, j0, n);
      if (visible <= 0) continue;
      Vec sv[NV];
      block_scores<V>(E, q_scaled + r * E, kt, mask != nullptr ? mask + i * S + j0 : nullptr,
                      visible, sv, srow);
      Vec mv = sv[0];
      for (int64_t t = 1; t < NV; ++t) mv = V::max(mv, sv[t]);
      const float m_new = std::max(m[r], V::reduce_max(mv));
      if (m_new == neg_inf) continue;              // every key so far masked: nothing to add yet
      const float alpha = std::exp(m[r] - m_new);  // 0 when m was −∞
      const Vec mn = V::set1(m_new);
      Vec sum = V::zero();
      for (int64_t t = 0; t < NV; ++t) {
        const Vec p = V::exp(V::sub(sv[t], mn));
        sum = V::add(sum, p);
        V::store(prow + t * W, p);
      }
      l[r] = l[r] * alpha + V::reduce_add(sum);
      m[r] = m_new;
      float* a = acc + r * Evp;
      const Vec al = V::set1(alpha);
      for (int64_t t = 0; t < Evp; t += W) V::store(a + t, V::mul(V::load(a + t), al));
      for (int64_t j = 0; j < visible; ++j) {
        const Vec pj = V::set1(prow[j]);
        const float* vj = vp + j * Evp;
        for (int64_t t = 0; t < Evp; t += W) {
          V::store(a + t, V::fmadd(pj, V::load(vj + t), V::load(a + t)));
        }
      }
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t i = i0 + r;
    float* o = out + (b * L + i) * Ev;
    if (l[r] == 0.0f) {  // no visible key
      std::fill(o, o + Ev, 0.0f);
      logsumexp[b * L + i] = neg_inf;
      continue;
    }
    const float inv = 1.0f / l[r];
    for (int64_t e = 0; e < Ev; ++e) o[e] = acc[r * Evp + e] * inv;
    logsumexp[b * L + i] = m[r] + std::log(l[r]);
  }
}

template <class V>
void backward_problem(const AttentionShape& s, const AttentionInputs<float>& in, int64_t b,
                      const float* out, const float* logsumexp, const float* grad_out,
                      float* grad_query, float* grad_key, float* grad_value) {
  constexpr int64_t W = V::kLanes, NV = kKeyBlock / W;
  using Vec = typename V::Vec;
  const int64_t L = s.q_len, S = s.kv_len, E = s.head_dim, Ev = s.value_dim;
  const int64_t Ep = round_up(E, W), Evp = round_up(Ev, W);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const float scale = static_cast<float>(s.scale);
  const float* q = in.query + b * L * E;
  const float* k = in.key + b * S * E;
  const float* v = in.value + b * S * Ev;
  const float* mask = in.mask != nullptr ? in.mask + in.mask_offsets[b] : nullptr;
  const float* o = out + b * L * Ev;
  const float* lse = logsumexp + b * L;
  const float* dO = grad_out + b * L * Ev;

  thread_local std::vector<float> buffer;
  float* qp = scratch(
      buffer, L * (2 * Ep + E + Evp + 1) + kKeyBlock * (E + Ev + 2 * Ep + Evp) + 2 * kKeyBlock);
  float* dq = qp + L * Ep;          // [L][Ep]   dQ, accumulated over the key blocks
  float* q_scaled = dq + L * Ep;    // [L][E]
  float* dop = q_scaled + L * E;    // [L][Evp]  dO, padded
  float* D = dop + L * Evp;         // [L]       D_i = dO_i·out_i
  float* kt = D + L;                // [E][kKeyBlock]
  float* vt = kt + E * kKeyBlock;   // [Ev][kKeyBlock]
  float* kp = vt + Ev * kKeyBlock;  // [kKeyBlock][Ep]
  float* dk = kp + kKeyBlock * Ep;  // [kKeyBlock][Ep]
  float* dv = dk + kKeyBlock * Ep;  // [kKeyBlock][Evp]
  float* srow = dv + kKeyBlock * Evp;
  float* dsrow = srow + kKeyBlock;
  for (int64_t i = 0; i < L; ++i) {
    for (int64_t e = 0; e < Ep; ++e) qp[i * Ep + e] = e < E ? q[i * E + e] * scale : 0.0f;
    for (int64_t e = 0; e < E; ++e) q_scaled[i * E + e] = q[i * E + e] * scale;
    float d = 0;
    for (int64_t e = 0; e < Evp; ++e) {
      dop[i * Evp + e] = e < Ev ? dO[i * Ev + e] : 0.0f;
      if (e < Ev) d += dO[i * Ev + e] * o[i * Ev + e];
    }
    D[i] = d;
  }
  std::fill(dq, dq + L * Ep, 0.0f);

  for (int64_t j0 = 0; j0 < S; j0 += kKeyBlock) {
    const int64_t n = std::min(kKeyBlock, S - j0);
    for (int64_t e = 0; e < E; ++e) {  // kt[e][j] = k[j0 + j][e]
      for (int64_t j = 0; j < n; ++j) kt[e * kKeyBlock + j] = k[(j0 + j) * E + e];
      std::fill(kt + e * kKeyBlock + n, kt + (e + 1) * kKeyBlock, 0.0f);
    }
    for (int64_t e = 0; e < Ev; ++e) {  // vt[e][j] = v[j0 + j][e]
      for (int64_t j = 0; j < n; ++j) vt[e * kKeyBlock + j] = v[(j0 + j) * Ev + e];
      std::fill(vt + e * kKeyBlock + n, vt + (e + 1) * kKeyBlock, 0.0f);
    }
    for (int64_t j = 0; j < n; ++j) {  // kp[j] = k[j0 + j]·scale, zero-padded to Ep
      for (int64_t e = 0; e < Ep; ++e) kp[j * Ep + e] = e < E ? k[(j0 + j) * E + e] * scale : 0.0f;
    }
    std::fill(dk, dk + kKeyBlock * Ep, 0.0f);
    std::fill(dv, dv + kKeyBlock * Evp, 0.0f);
    // Under is_causal, rows before j0 − (S − L) see none of this block.
    const int64_t first_row = s.causal ? std::clamp<int64_t>(j0 - (S - L), 0, L) : 0;
    for (int64_t i = first_row; i < L; ++i) {
      const int64_t visible = visible_in_block(s, i, j0, n);
      if (visible <= 0 || lse[i] == neg_inf) continue;  // a dead row gets no gradient
      Vec sv[NV];
      block_scores<V>(E, q_scaled + i * E, kt, mask != nullptr ? mask + i * S + j0 : nullptr,
                      visible, sv, srow);
      Vec dp[NV];
      for (int64_t t = 0; t < NV; ++t) dp[t] = V::zero();
      for (int64_t e = 0; e < Ev; ++e) {
        const Vec g = V::set1(dO[i * Ev + e]);
        const float* row = vt + e * kKeyBlock;
        for (int64_t t = 0; t < NV; ++t) dp[t] = V::fmadd(g, V::load(row + t * W), dp[t]);
      }
      const Vec l_i = V::set1(lse[i]), d_i = V::set1(D[i]);
      for (int64_t t = 0; t < NV; ++t) {
        const Vec p = V::exp(V::sub(sv[t], l_i));
        V::store(srow + t * W, p);
        V::store(dsrow + t * W, V::mul(p, V::sub(dp[t], d_i)));
      }
      const float* q_i = qp + i * Ep;
      const float* do_i = dop + i * Evp;
      float* dq_i = dq + i * Ep;
      for (int64_t j = 0; j < visible; ++j) {
        const Vec pj = V::set1(srow[j]), dsj = V::set1(dsrow[j]);
        float* dv_j = dv + j * Evp;
        for (int64_t t = 0; t < Evp; t += W) {
          V::store(dv_j + t, V::fmadd(pj, V::load(do_i + t), V::load(dv_j + t)));
        }
        float* dk_j = dk + j * Ep;
        const float* k_j = kp + j * Ep;
        for (int64_t t = 0; t < Ep; t += W) {
          V::store(dk_j + t, V::fmadd(dsj, V::load(q_i + t), V::load(dk_j + t)));
          V::store(dq_i + t, V::fmadd(dsj, V::load(k_j + t), V::load(dq_i + t)));
        }
      }
    }
    for (int64_t j = 0; j < n; ++j) {
      std::memcpy(grad_key + (b * S + j0 + j) * E, dk + j * Ep,
                  static_cast<size_t>(E) * sizeof(float));
      std::memcpy(grad_value + (b * S + j0 + j) * Ev, dv + j * Evp,
                  static_cast<size_t>(Ev) * sizeof(float));
    }
  }
  for (int64_t i = 0; i < L; ++i) {
    std::memcpy(grad_query + (b * L + i) * E, dq + i * Ep, static_cast<size_t>(E) * sizeof(float));
  }
}

// The kernels of one instruction set (attention_fast.cpp threads them).
struct AttentionIsa {
  void (*forward_rows)(const AttentionShape& s, const AttentionInputs<float>& in, int64_t b,
                       int64_t i0, int64_t i1, float* out, float* logsumexp);
  void (*backward_problem)(const AttentionShape& s, const AttentionInputs<float>& in, int64_t b,
                           const float* out, const float* logsumexp, const float* grad_out,
                           float* grad_query, float* grad_key, float* grad_value);
};

template <class V>
AttentionIsa attention_isa() {
  return {forward_rows<V>, backward_problem<V>};
}

// attention_avx2.cpp and attention_avx512.cpp, built only for x86 (tinytorch/CMakeLists.txt then
// defines TINYTORCH_GEMM_X86 for attention_fast.cpp, which calls them after checking the CPU).
AttentionIsa attention_avx2();
AttentionIsa attention_avx512();

}  // namespace tinytorch::kernels::attention_detail
