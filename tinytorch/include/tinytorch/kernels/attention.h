// tinytorch/kernels/attention.h — the contract between module 12's attention op and its kernels.
//
// Module 12's op (src/native/attention.cpp) checks shapes and dtypes, flattens the batch dims,
// turns a bool mask into an additive one, describes where every row of q, k, v lies (no copy: see
// Rows), allocates the outputs, and then runs either the learner's reference kernels (which
// materialise the L×S score matrix) or — for float32, when module 18 registered them — the fast
// kernels declared here (src/kernels/attention_fast.cpp), which never hold more than one tile of
// it.
//
//   for every b < batch (= the product of the batch dims, e.g. B·H):
//     q [L, E] ──┐
//     k [S, E] ──┼─► scores = q·kᵀ·scale + mask [L, S] ─softmax(rows)─► P ─P·v─► out [L, Ev]
//     v [S, Ev] ─┘
//
// Conventions:
//   * mask (optional) is ADDITIVE and already broadcast over L and S: the [L, S] plane of batch
//     element b starts at mask + mask_offsets[b] (several b may share a plane: a mask broadcast
//     over heads is stored once). A −∞ entry forbids that (query, key) pair.
//   * causal: query row i may attend to keys j ≤ i + (S − L) — bottom-right aligned, so with
//     L < S (decoding with a KV cache) the L queries are the LAST L positions of the sequence.
//     (PyTorch's is_causal is top-left aligned, j ≤ i; the two agree when L == S.)
//   * logsumexp[b, i] = log Σ_j exp(scores[i, j]), the softmax's normaliser: the forward saves it
//     so a backward can recompute P = exp(scores − logsumexp) without ever storing P. A row whose
//     every key is masked has logsumexp = −∞, P = 0 and out = 0 (never NaN), and gets no gradient.
//   * Every function OVERWRITES its outputs, and may split its work over the batch with
//     parallel_for (tinytorch::get_num_threads() threads).
#pragma once

#include <cstdint>

namespace tinytorch::kernels {

// The sizes of one attention call, over `batch` independent problems.
struct AttentionShape {
  int64_t batch = 0;      // the product of the batch dims (B·H for multi-head attention)
  int64_t q_len = 0;      // L: query rows
  int64_t kv_len = 0;     // S: keys and values
  int64_t head_dim = 0;   // E: the length of a query/key vector
  int64_t value_dim = 0;  // Ev: the length of a value vector
  double scale = 1.0;     // scores = q·kᵀ · scale (1/√E by default)
  bool causal = false;    // key j is visible to query i only when j ≤ i + (S − L)
};

// Where the rows of one [batch, rows, width] operand lie: row i of problem b starts at
// data + offsets[b] + i·ld, and its `width` elements follow one another.
//
// NOTE: the innermost stride is 1 (a row is contiguous); everything else may be strided. A
// transformer's heads are views: q of c_attn(x).view({B, T, 3, H, hd}).permute({2, 0, 3, 1, 4})
// is [B, H, T, hd] with strides (T·3d, hd, 3d, 1), i.e. problem b = (b_B, b_H) at
// b_B·T·3d + b_H·hd, ld = 3d. The flattened batch dims have their own strides, hence a table of
// `batch` offsets rather than one stride (like mask_offsets); a contiguous operand has
// offsets[b] = b·rows·width and ld = width.
template <typename T>  // const float for the inputs, float for the forward's out
struct Rows {
  T* data = nullptr;
  const int64_t* offsets = nullptr;  // [batch]
  int64_t ld = 0;                    // elements from row i to row i + 1

  T* row(int64_t b, int64_t i) const { return data + offsets[b] + i * ld; }
};

// The inputs of one call: query [batch, L, E], key [batch, S, E], value [batch, S, Ev], rows
// anywhere (Rows); mask and mask_offsets as above (both null: no mask); keep (optional) is
// dropout's [batch, L, S] multipliers, contiguous, 0 (dropped) or 1/(1 − p) (kept): the output
// is (P ⊙ keep)·v, while logsumexp stays that of P.
template <typename T>
struct AttentionInputs {
  Rows<const T> query;
  Rows<const T> key;
  Rows<const T> value;
  const T* mask = nullptr;
  const int64_t* mask_offsets = nullptr;  // [batch]
  const T* keep = nullptr;                // [batch, L, S], or null: no dropout
};

// out [batch, L, Ev] (rows anywhere: the op lays them out like the query's) = softmax(scores)·v,
// logsumexp [batch, L] (contiguous).
using AttentionForwardFn = void (*)(const AttentionShape& s, const AttentionInputs<float>& in,
                                    const Rows<float>& out, float* logsumexp);
// grad_query [batch, L, E], grad_key [batch, S, E], grad_value [batch, S, Ev] (rows anywhere: the
// op lays them out like q, k and v when those are slices of one buffer, else contiguous) given
// grad_out [batch, L, Ev] and the forward's out (rows anywhere) and logsumexp:
//   P = exp(scores − logsumexp),  dV = (P ⊙ keep)ᵀ·dO,  dP = (dO·vᵀ) ⊙ keep,
//   dS = P ⊙ (dP − rowsum(dO ⊙ out)),  dQ = dS·k·scale,  dK = dSᵀ·q·scale
//   (rowsum(P ⊙ dP) = rowsum(dO ⊙ out), with or without keep)
using AttentionBackwardFn = void (*)(const AttentionShape& s, const AttentionInputs<float>& in,
                                     const Rows<const float>& out, const float* logsumexp,
                                     const Rows<const float>& grad_out,
                                     const Rows<float>& grad_query, const Rows<float>& grad_key,
                                     const Rows<float>& grad_value);

// The fast attention kernels module 18 registers (float32; null = use the reference kernels).
// A gradient for the mask always takes the reference kernels.
struct AttentionKernels {
  AttentionForwardFn forward = nullptr;
  AttentionBackwardFn backward = nullptr;
};

// The fast implementations (src/kernels/attention_fast.cpp): FlashAttention-style — blocks of
// keys with a running max and sum (online softmax), threaded over the batch; the backward
// recomputes P tile by tile from logsumexp.
void attention_forward_fast(const AttentionShape& s, const AttentionInputs<float>& in,
                            const Rows<float>& out, float* logsumexp);
void attention_backward_fast(const AttentionShape& s, const AttentionInputs<float>& in,
                             const Rows<const float>& out, const float* logsumexp,
                             const Rows<const float>& grad_out, const Rows<float>& grad_query,
                             const Rows<float>& grad_key, const Rows<float>& grad_value);

}  // namespace tinytorch::kernels
