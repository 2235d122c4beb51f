// tinytorch/kernels/attention.h — the contract between module 12's attention op and its kernels.
//
// Module 12's op (src/ops/attention.cpp) checks shapes and dtypes, flattens the batch dims, turns a
// bool mask into an additive one, makes everything contiguous, allocates the outputs, and then
// runs either the learner's reference kernels (which materialise the L×S score matrix) or — for
// float32, when module 18 registered them — the fast kernels declared here
// (src/kernels/attention_fast.cpp), which never hold more than one tile of it.
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

// The inputs of one call, contiguous row-major: query [batch, L, E], key [batch, S, E],
// value [batch, S, Ev]; mask and mask_offsets as above (both null: no mask).
template <typename T>
struct AttentionInputs {
  const T* query = nullptr;
  const T* key = nullptr;
  const T* value = nullptr;
  const T* mask = nullptr;
  const int64_t* mask_offsets = nullptr;  // [batch]
};

// out [batch, L, Ev] = softmax(scores)·v, logsumexp [batch, L].
using AttentionForwardFn = void (*)(const AttentionShape& s, const AttentionInputs<float>& in,
                                    float* out, float* logsumexp);
// grad_query [batch, L, E], grad_key [batch, S, E], grad_value [batch, S, Ev] given grad_out
// [batch, L, Ev], the forward's out and logsumexp:
//   P = exp(scores − logsumexp),  dV = Pᵀ·dO,  dP = dO·vᵀ,  dS = P ⊙ (dP − rowsum(dO ⊙ out)),
//   dQ = dS·k·scale,  dK = dSᵀ·q·scale             (rowsum(dP ⊙ P) = rowsum(dO ⊙ out))
using AttentionBackwardFn = void (*)(const AttentionShape& s, const AttentionInputs<float>& in,
                                     const float* out, const float* logsumexp,
                                     const float* grad_out, float* grad_query, float* grad_key,
                                     float* grad_value);

// The fast attention kernels module 18 registers (float32; null = use the reference kernels).
// Dropout and a gradient for the mask always take the reference kernels.
struct AttentionKernels {
  AttentionForwardFn forward = nullptr;
  AttentionBackwardFn backward = nullptr;
};

// The fast implementations (src/kernels/attention_fast.cpp): FlashAttention-style — blocks of
// keys with a running max and sum (online softmax), threaded over the batch; the backward
// recomputes P tile by tile from logsumexp.
void attention_forward_fast(const AttentionShape& s, const AttentionInputs<float>& in, float* out,
                            float* logsumexp);
void attention_backward_fast(const AttentionShape& s, const AttentionInputs<float>& in,
                             const float* out, const float* logsumexp, const float* grad_out,
                             float* grad_query, float* grad_key, float* grad_value);

}  // namespace tinytorch::kernels
