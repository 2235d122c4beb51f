// Tests for the fast tier's attention kernels (kernels/attention.h, src/kernels/attention_fast.cpp)
// against plain loops written here, accumulated in double: outputs, logsumexp and the three
// gradients, on every instruction set the CPU has, at 1 and 3 threads.
//
// The sizes straddle the kernels' blocks (64 keys, 64 query rows) and vector widths (8, 16): head
// dims 1, 3, 17, 24, 32, 33, 64; key counts 1, 63, 64, 65, 130, 200; one query (decoding) up to
// 130 queries.
// Masks are additive with −∞ entries, shared between problems through mask_offsets (a mask
// broadcast over heads), and include fully masked rows; is_causal covers L == S, L < S (the
// bottom-right rule) and L > S (rows that see nothing).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "kernel_test_values.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/attention.h"
#include "tinytorch/kernels/gemm.h"

namespace tinytorch::kernels {

void PrintTo(CpuCapability capability, std::ostream* os);

namespace {

using testing::random_values;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

struct AttnCase {
  int64_t batch, L, S, E, Ev;
  bool causal = false;
  // 0: no mask; 1: one [L, S] plane shared by every problem; 2: a plane per pair of problems
  // (a mask broadcast over "heads"), with −∞ entries and query row 0 fully masked.
  int mask = 0;
  double scale = 0.0;    // 0: 1/√E
  bool dropout = false;  // a keep mask of 0 and 1/(1 − 0.25)
};

std::ostream& operator<<(std::ostream& os, const AttnCase& c) {
  return os << "batch " << c.batch << " L" << c.L << " S" << c.S << " E" << c.E << " Ev" << c.Ev
            << (c.causal ? " causal" : "") << " mask " << c.mask << (c.dropout ? " dropout" : "");
}

struct AttentionProblem {
  AttentionShape shape;
  std::vector<float> q, k, v, mask, grad_out, keep;
  std::vector<int64_t> offsets;

  explicit AttentionProblem(const AttnCase& c) {
    shape = {.batch = c.batch,
             .q_len = c.L,
             .kv_len = c.S,
             .head_dim = c.E,
             .value_dim = c.Ev,
             .scale = c.scale != 0.0 ? c.scale : 1.0 / std::sqrt(static_cast<double>(c.E)),
             .causal = c.causal};
    q_offsets = packed(c.batch, c.L * c.E);
    k_offsets = packed(c.batch, c.S * c.E);
    v_offsets = packed(c.batch, c.S * c.Ev);
    out_offsets = packed(c.batch, c.L * c.Ev);
    q = random_values(c.batch * c.L * c.E, 1, 2.0f);
    k = random_values(c.batch * c.S * c.E, 2, 2.0f);
    v = random_values(c.batch * c.S * c.Ev, 3);
    grad_out = random_values(c.batch * c.L * c.Ev, 4);
    if (c.dropout) {
      keep = random_values(c.batch * c.L * c.S, 7);
      for (float& z : keep) z = z < -0.5f ? 0.0f : 1.0f / 0.75f;  // P(drop) = 1/4
    }
    if (c.mask == 0) return;
    const int64_t planes = c.mask == 1 ? 1 : (c.batch + 1) / 2;
    mask = random_values(planes * c.L * c.S, 5);
    std::mt19937 rng(6);
    for (int64_t p = 0; p < planes; ++p) {
      float* plane = mask.data() + p * c.L * c.S;
      for (int64_t x = 0; x < c.L * c.S; ++x) {
        if (rng() % 4 == 0) plane[x] = kNegInf;
      }
      if (c.mask == 2) {
        for (int64_t j = 0; j < c.S; ++j) plane[j] = kNegInf;  // row 0 sees nothing
      }
    }
    for (int64_t b = 0; b < c.batch; ++b) {
      offsets.push_back((c.mask == 1 ? 0 : b / 2) * c.L * c.S);
    }
  }
  // Contiguous operands: problem b's rows start at b·rows·width.
  std::vector<int64_t> q_offsets, k_offsets, v_offsets, out_offsets;
  static std::vector<int64_t> packed(int64_t batch, int64_t problem) {
    std::vector<int64_t> offsets;
    for (int64_t b = 0; b < batch; ++b) offsets.push_back(b * problem);
    return offsets;
  }
  AttentionInputs<float> inputs() const {
    return {
        {q.data(), q_offsets.data(), shape.head_dim},  {k.data(), k_offsets.data(), shape.head_dim},
        {v.data(), v_offsets.data(), shape.value_dim}, mask.empty() ? nullptr : mask.data(),
        mask.empty() ? nullptr : offsets.data(),       keep.empty() ? nullptr : keep.data()};
  }
};

// What the kernels must compute, in double, with the definitions of kernels/attention.h.
struct AttentionExpected {
  std::vector<double> out, lse, gq, gk, gv;
};

AttentionExpected naive_attention(const AttentionProblem& p) {
  const AttentionShape& s = p.shape;
  const int64_t L = s.q_len, S = s.kv_len, E = s.head_dim, Ev = s.value_dim;
  AttentionExpected x{std::vector<double>(s.batch * L * Ev), std::vector<double>(s.batch * L),
                      std::vector<double>(s.batch * L * E), std::vector<double>(s.batch * S * E),
                      std::vector<double>(s.batch * S * Ev)};
  const double inf = std::numeric_limits<double>::infinity();
  const auto z = [&](int64_t b, int64_t i, int64_t j) {
    return p.keep.empty() ? 1.0 : double(p.keep[(b * L + i) * S + j]);
  };
  for (int64_t b = 0; b < s.batch; ++b) {
    std::vector<double> P(L * S), dP(L * S);
    for (int64_t i = 0; i < L; ++i) {
      std::vector<double> sc(S);
      double m = -inf;
      for (int64_t j = 0; j < S; ++j) {
        double d = 0;
        for (int64_t e = 0; e < E; ++e)
          d += double(p.q[(b * L + i) * E + e]) * p.k[(b * S + j) * E + e];
        d *= s.scale;
        if (!p.mask.empty()) d += p.mask[p.offsets[b] + i * S + j];
        if (s.causal && j > i + S - L) d = -inf;
        sc[j] = d;
        m = std::max(m, d);
      }
      if (m == -inf) {
        x.lse[b * L + i] = -inf;
        continue;
      }
      double sum = 0;
      for (int64_t j = 0; j < S; ++j) sum += std::exp(sc[j] - m);
      x.lse[b * L + i] = m + std::log(sum);
      for (int64_t j = 0; j < S; ++j) P[i * S + j] = std::exp(sc[j] - m) / sum;
      for (int64_t e = 0; e < Ev; ++e) {
        double o = 0;
        for (int64_t j = 0; j < S; ++j) o += P[i * S + j] * z(b, i, j) * p.v[(b * S + j) * Ev + e];
        x.out[(b * L + i) * Ev + e] = o;
      }
    }
    for (int64_t i = 0; i < L; ++i) {
      double rowsum = 0;
      for (int64_t j = 0; j < S; ++j) {
        double d = 0;
        for (int64_t e = 0; e < Ev; ++e) {
          d += double(p.grad_out[(b * L + i) * Ev + e]) * p.v[(b * S + j) * Ev + e];
        }
        dP[i * S + j] = d * z(b, i, j);
        rowsum += dP[i * S + j] * P[i * S + j];
      }
      for (int64_t j = 0; j < S; ++j) {
        const double ds = P[i * S + j] * (dP[i * S + j] - rowsum) * s.scale;
        for (int64_t e = 0; e < E; ++e) {
          x.gq[(b * L + i) * E + e] += ds * p.k[(b * S + j) * E + e];
          x.gk[(b * S + j) * E + e] += ds * p.q[(b * L + i) * E + e];
        }
        for (int64_t e = 0; e < Ev; ++e) {
          x.gv[(b * S + j) * Ev + e] +=
              P[i * S + j] * z(b, i, j) * p.grad_out[(b * L + i) * Ev + e];
        }
      }
    }
  }
  return x;
}

void expect_attention_close(const std::vector<float>& got, const std::vector<double>& want,
                            const char* what, double tol) {
  int64_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double g = got[i], w = want[i];
    const bool ok = std::isinf(w) ? g == w : std::abs(g - w) <= tol * (1.0 + std::abs(w));
    if (!ok && ++bad <= 3) ADD_FAILURE() << what << "[" << i << "] = " << g << ", expected " << w;
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << want.size() << " values off";
}

// A gradient of `batch` problems of rows x width values, rows `width + gap` floats apart.
struct Strided {
  std::vector<float> data;
  std::vector<int64_t> offsets;
  int64_t rows, width;

  Rows<float> as_rows(int64_t gap) { return {data.data(), offsets.data(), width + gap}; }
  // The values, contiguous [batch, rows, width].
  std::vector<float> values(int64_t gap) const {
    std::vector<float> v;
    for (size_t b = 0; b < offsets.size(); ++b) {
      for (int64_t i = 0; i < rows; ++i) {
        const float* row = data.data() + offsets[b] + i * (width + gap);
        v.insert(v.end(), row, row + width);
      }
    }
    return v;
  }
  // How many floats between the rows are no longer the 123 they were filled with.
  int64_t gap_values(int64_t gap) const {
    int64_t changed = 0;
    for (size_t x = 0; x < data.size(); ++x) {
      changed += static_cast<int64_t>(x) % (width + gap) >= width && data[x] != 123.0f;
    }
    return changed;
  }
};

class AttentionFast : public ::testing::TestWithParam<std::tuple<CpuCapability, int, AttnCase>> {
 protected:
  void SetUp() override {
    const CpuCapability capability = std::get<0>(GetParam());
    unsetenv("TINYTORCH_CPU_CAPABILITY");
    if (capability > get_cpu_capability())
      GTEST_SKIP() << "this CPU lacks " << to_string(capability);
    setenv("TINYTORCH_CPU_CAPABILITY", to_string(capability), /*overwrite=*/1);
    set_num_threads(std::get<1>(GetParam()));
  }
  void TearDown() override {
    unsetenv("TINYTORCH_CPU_CAPABILITY");
    set_num_threads(0);
  }
};

TEST_P(AttentionFast, ForwardAndBackwardMatchPlainLoops) {
  const AttnCase& c = std::get<2>(GetParam());
  const AttentionProblem p(c);
  const AttentionExpected want = naive_attention(p);
  const AttentionShape& s = p.shape;
  std::vector<float> out(s.batch * s.q_len * s.value_dim + 1, 123.0f);  // overwritten
  std::vector<float> lse(s.batch * s.q_len + 1, 123.0f);
  attention_forward_fast(s, p.inputs(), {out.data(), p.out_offsets.data(), s.value_dim},
                         lse.data());
  out.pop_back();
  lse.pop_back();
  expect_attention_close(out, want.out, "out", 2e-5);
  expect_attention_close(lse, want.lse, "logsumexp", 2e-5);
  // The gradients go to rows kGap floats wider than they are (as a transformer's q, k and v
  // gradients go to rows of one [B, T, 3d] buffer): the kernel must write each row's values and
  // nothing between the rows.
  constexpr int64_t kGap = 3;
  const auto strided = [&](int64_t rows, int64_t width) {
    Strided g{std::vector<float>(s.batch * rows * (width + kGap), 123.0f), {}, rows, width};
    for (int64_t b = 0; b < s.batch; ++b) g.offsets.push_back(b * rows * (width + kGap));
    return g;
  };
  Strided gq = strided(s.q_len, s.head_dim), gk = strided(s.kv_len, s.head_dim),
          gv = strided(s.kv_len, s.value_dim);
  // The backward takes the forward's out and logsumexp (here the fast forward's own).
  attention_backward_fast(s, p.inputs(), {out.data(), p.out_offsets.data(), s.value_dim},
                          lse.data(), {p.grad_out.data(), p.out_offsets.data(), s.value_dim},
                          gq.as_rows(kGap), gk.as_rows(kGap), gv.as_rows(kGap));
  expect_attention_close(gq.values(kGap), want.gq, "grad_query", 1e-4);
  expect_attention_close(gk.values(kGap), want.gk, "grad_key", 1e-4);
  expect_attention_close(gv.values(kGap), want.gv, "grad_value", 1e-4);
  for (const Strided* g : {&gq, &gk, &gv})
    EXPECT_EQ(g->gap_values(kGap), 0) << "written between rows";
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionFast,
    ::testing::Combine(::testing::Values(CpuCapability::kDefault, CpuCapability::kAvx2,
                                         CpuCapability::kAvx512),
                       ::testing::Values(1, 3),
                       ::testing::Values(AttnCase{4, 16, 16, 32, 32, true},     // a GPT head
                                         AttnCase{3, 1, 130, 32, 32, true},     // decoding
                                         AttnCase{2, 5, 65, 17, 3},             // odd sizes
                                         AttnCase{2, 130, 130, 33, 31, true},   // 3 row blocks
                                         AttnCase{1, 70, 63, 1, 1, false, 1},   // E = 1
                                         AttnCase{5, 9, 64, 3, 20, false, 2},   // shared planes
                                         AttnCase{3, 7, 4, 8, 8, true},         // L > S
                                         AttnCase{2, 66, 67, 16, 16, true, 2},  // causal + mask
                                         AttnCase{2, 3, 1, 4, 5, false, 0, 2.5},
                                         AttnCase{2, 4, 0, 4, 4},  // no keys
                                         // dropout's keep mask, with a mask and causal; decoding
                                         AttnCase{2, 70, 70, 16, 16, true, 2, 0.0, true},
                                         AttnCase{3, 1, 80, 32, 32, true, 0, 0.0, true},
                                         // the backward's query chunks (64 rows): L = 129 is
                                         // chunks of 64, 64, 1 against key blocks 64, 64, 64, 8;
                                         // causal L < S with everything else on top
                                         AttnCase{1, 129, 200, 64, 48},
                                         AttnCase{2, 100, 150, 24, 40, true, 2, 0.0, true},
                                         // the 2017 GPT's heads: over 1 MiB of rows, so every
                                         // task touches its next one's (kAheadMinBytes)
                                         AttnCase{48, 64, 64, 32, 32, true})));

}  // namespace
}  // namespace tinytorch::kernels
