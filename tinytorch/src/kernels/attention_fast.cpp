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
#include <memory>
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

// Below this many bytes of rows (q, k, v, and for the backward out and dO too), a call's
// operands stay in the caches from task to task, and touching the next task's rows ahead of it
// (attention_simd.h) only costs its instructions: 4 heads of 64 rows (160 KiB), one thread,
// forward + backward 90 µs without, 93.5 with (2-vCPU Zen 4). The 2017 GPT's layer reads 5 MiB.
constexpr int64_t kAheadMinBytes = int64_t{1} << 20;

// The bytes of the rows a call reads: batch problems of L query rows (E wide, and `per_query`
// more floats each: out and dO in the backward) and S key and value rows.
bool worth_touching_ahead(const AttentionShape& s, int64_t per_query) {
  const int64_t floats =
      s.batch * (s.q_len * (s.head_dim + per_query) + s.kv_len * (s.head_dim + s.value_dim));
  return floats * static_cast<int64_t>(sizeof(float)) >= kAheadMinBytes;
}

// Per-thread scratch, grown as needed and kept; it starts on a 64-byte line (kScratchAlign).
float* scratch(int64_t floats) {
  using attention_detail::kScratchAlign;
  thread_local std::vector<float> buffer;
  const int64_t needed = floats + kScratchAlign - 1;
  if (static_cast<int64_t>(buffer.size()) < needed) buffer.resize(static_cast<size_t>(needed));
  void* start = buffer.data();
  auto space = buffer.size() * sizeof(float);
  return static_cast<float*>(std::align(kScratchAlign * sizeof(float),
                                        static_cast<size_t>(floats) * sizeof(float), start, space));
}

// floats rounded up to whole lines: what carve() (attention_simd.h) takes for a region.
int64_t region(int64_t floats) {
  using attention_detail::kScratchAlign;
  return (floats + kScratchAlign - 1) / kScratchAlign * kScratchAlign;
}

}  // namespace

namespace attention_detail {

// The scratch layouts are listed in attention_simd.h; keep these sums in step with them.
int64_t forward_workspace(const AttentionShape& s, int64_t rows, int64_t lanes) {
  const int64_t E = s.head_dim, Evp = (s.value_dim + lanes - 1) / lanes * lanes;
  return region(E * kKeyBlock) + region(kKeyBlock * Evp) + region(rows * Evp) + region(rows * E) +
         2 * region(rows) + region(rows * kKeyBlock);
}

int64_t backward_workspace(const AttentionShape& s, int64_t lanes) {
  const int64_t L = s.q_len, E = s.head_dim, Ev = s.value_dim;
  const int64_t Ep = (E + lanes - 1) / lanes * lanes, Evp = (Ev + lanes - 1) / lanes * lanes;
  return 2 * region(L * Ep) + region(L * Evp) + region(L) + region(E * kKeyBlock) +
         region(Ev * kKeyBlock) + 2 * region(kKeyBlock * Ep) + region(kKeyBlock * Evp) +
         2 * region(kQueryChunk * kKeyBlock);
}

}  // namespace attention_detail

void attention_forward_fast(const AttentionShape& s, const AttentionInputs<float>& in,
                            const Rows<float>& out, float* logsumexp) {
  const AttentionIsa& k = isa();
  const int64_t blocks = (s.q_len + kRowBlock - 1) / kRowBlock;
  const int64_t task_work = std::min(s.q_len, kRowBlock) * s.kv_len * (s.head_dim + s.value_dim);
  const int64_t grain =
      std::max<int64_t>(1, kMinMultiplyAddsPerChunk / std::max<int64_t>(task_work, 1));
  const bool ahead = worth_touching_ahead(s, 0);
  parallel_for(0, s.batch * blocks, grain, [&](int64_t begin, int64_t end) {
    // Task t: problem t / blocks, row block t % blocks.
    const auto task_of = [&](int64_t t) {
      const int64_t i0 = (t % blocks) * kRowBlock;
      return attention_detail::Task{t / blocks, i0, std::min(s.q_len, i0 + kRowBlock)};
    };
    for (int64_t t = begin; t < end; ++t) {
      const attention_detail::Task task = task_of(t);
      k.forward_rows(s, in, task.b, task.i0, task.i1, out, logsumexp,
                     scratch(attention_detail::forward_workspace(s, task.i1 - task.i0, k.lanes)),
                     ahead && t + 1 < end ? task_of(t + 1) : attention_detail::Task{});
    }
  });
}

void attention_backward_fast(const AttentionShape& s, const AttentionInputs<float>& in,
                             const Rows<const float>& out, const float* logsumexp,
                             const Rows<const float>& grad_out, const Rows<float>& grad_query,
                             const Rows<float>& grad_key, const Rows<float>& grad_value) {
  const AttentionIsa& k = isa();
  const bool ahead = worth_touching_ahead(s, 2 * s.value_dim);
  parallel_for(0, s.batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      k.backward_problem(s, in, b, out, logsumexp, grad_out, grad_query, grad_key, grad_value,
                         scratch(attention_detail::backward_workspace(s, k.lanes)),
                         ahead && b + 1 < end ? b + 1 : -1);
    }
  });
}

}  // namespace tinytorch::kernels
