// The fast tier's attention (kernels/attention.h): the FlashAttention-style kernels of
// attention_simd.h, on the widest instruction set the CPU has (AVX-512, AVX2 or portable C++),
// threaded with parallel_for.
//
//   forward:  tasks = (problem b, block of kRowBlock query rows) pairs, so a single problem with
//             many queries still spreads over the threads; each task streams every key block
//             once and keeps only kKeyBlock scores per row (no L×S matrix). Tasks too small to
//             be worth a thread's start go in chunks (kMinMultiplyAddsPerChunk).
//   backward: tasks = problems (dK and dV of a problem sum over all its query rows, so one thread
//             owns them — no atomics, the same result whichever thread ran it). B·H = 128
//             problems for the course's GPT keep 16 threads busy; a lone problem runs on one.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "attention_simd.h"
#include "isa_select.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/attention.h"
#include "tinytorch/kernels/gemm.h"
#include "vec_policy.h"

namespace tinytorch::kernels {
namespace {

using attention_detail::AttentionIsa;
using attention_detail::kKeyBlock;
using attention_detail::kQueryChunk;
using attention_detail::kRowBlock;

// The kernels this CPU runs (get_cpu_capability, which TINYTORCH_CPU_CAPABILITY may cap).
const AttentionIsa& isa() {
  static const AttentionIsa portable = attention_detail::attention_isa<Scalar>();
#ifdef TINYTORCH_GEMM_X86
  return isa_for_cpu<AttentionIsa, attention_detail::attention_avx2,
                     attention_detail::attention_avx512>(portable);
#else
  return portable;
#endif
}

// The multiply-adds (q·k and p·v: query rows × keys × (E + Ev)) below which a piece of the
// forward is not worth a helper thread's start, which costs microseconds: parallel_for's grain is
// as many tasks as make up that much. So a KV-cached decoding step over a short cache (one query
// row per head) runs on the calling thread: the 2017 GPT's (4 heads, at most 64 keys, E = Ev = 32:
// ≤ 16K multiply-adds in all) used to split its heads over 2 threads. On a 2-vCPU Intel Xeon,
// module 12's lab (`--only C --threads 2`, 4 alternating runs) timed a step of 4 heads against 128
// cached keys at 3.33-3.51 us split and 3.22-3.32 us on one thread; the GPT's whole cached
// generation moved within that VM's noise.
constexpr int64_t kMinMultiplyAddsPerChunk = int64_t{1} << 15;

// Per-thread scratch, grown as needed and kept.
float* scratch(int64_t floats) {
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < floats) buffer.resize(static_cast<size_t>(floats));
  return buffer.data();
}

}  // namespace

namespace attention_detail {

// The scratch layouts are listed in attention_simd.h; keep these sums in step with them.
int64_t forward_workspace(const AttentionShape& s, int64_t rows, int64_t lanes) {
  const int64_t E = s.head_dim, Evp = (s.value_dim + lanes - 1) / lanes * lanes;
  return E * kKeyBlock + kKeyBlock * Evp + rows * (Evp + E + 2 + kKeyBlock);
}

int64_t backward_workspace(const AttentionShape& s, int64_t lanes) {
  const int64_t L = s.q_len, E = s.head_dim, Ev = s.value_dim;
  const int64_t Ep = (E + lanes - 1) / lanes * lanes, Evp = (Ev + lanes - 1) / lanes * lanes;
  return L * (2 * Ep + Evp + 1) + kKeyBlock * (E + Ev + 2 * Ep + Evp) + 2 * kQueryChunk * kKeyBlock;
}

}  // namespace attention_detail

void attention_forward_fast(const AttentionShape& s, const AttentionInputs<float>& in,
                            const Rows<float>& out, float* logsumexp) {
  const AttentionIsa& k = isa();
  const int64_t blocks = (s.q_len + kRowBlock - 1) / kRowBlock;
  const int64_t task_work = std::min(s.q_len, kRowBlock) * s.kv_len * (s.head_dim + s.value_dim);
  const int64_t grain =
      std::max<int64_t>(1, kMinMultiplyAddsPerChunk / std::max<int64_t>(task_work, 1));
  parallel_for(0, s.batch * blocks, grain, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / blocks, i0 = (task % blocks) * kRowBlock;
      const int64_t i1 = std::min(s.q_len, i0 + kRowBlock);
      k.forward_rows(s, in, b, i0, i1, out, logsumexp,
                     scratch(attention_detail::forward_workspace(s, i1 - i0, k.lanes)));
    }
  });
}

void attention_backward_fast(const AttentionShape& s, const AttentionInputs<float>& in,
                             const Rows<const float>& out, const float* logsumexp,
                             const Rows<const float>& grad_out, const Rows<float>& grad_query,
                             const Rows<float>& grad_key, const Rows<float>& grad_value) {
  const AttentionIsa& k = isa();
  parallel_for(0, s.batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      k.backward_problem(s, in, b, out, logsumexp, grad_out, grad_query, grad_key, grad_value,
                         scratch(attention_detail::backward_workspace(s, k.lanes)));
    }
  });
}

}  // namespace tinytorch::kernels
