// bfloat16 and float16 GEMM ops — matmul, mm, bmm, addmm, baddbmm, linear, conv1d, conv2d,
// conv_transpose2d — forward and backward (native/linalg.cpp, linear.cpp, conv.cpp; kernels
// gemm_bf16 and gemm_half). The rule under test (notes of docs/ARCHITECTURE.md, "Mixed
// precision"): float32 sums of the exact products, rounded ONCE to the inputs' dtype.
//
//   * Exact: on small shapes (K below one rank-KC block, so each sum is one chain in k order) the
//     result must equal, bit for bit, a float32 sum in k order rounded once — at every level the
//     environment can force (TINYTORCH_CPU_CAPABILITY). Rounding twice (the product, then the
//     bias) misses it, which the tests check the reference can tell apart.
//   * PyTorch: forward values vs tests/data/amp_linalg_reference.json (gen_amp_linalg.py): 1.13's
//     own bfloat16 kernels for linear and conv (float32 sums, one rounding); float16 (no CPU
//     kernel in 1.13) and the bfloat16 matmul family (1.13 accumulates those in bfloat16) by
//     PyTorch's float32 op rounded once.
//   * Gradients: a bfloat16/float16 backward vs float64 autograd on the same inputs.
//   * Mixed dtypes: TypeError naming the op and both dtypes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "capability_guard.h"
#include "support/reference.h"
#include "tinytorch/kernels/half.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/functional/spatial.h"
#include "tinytorch/tinytorch.h"

namespace {

namespace tt = tinytorch;
using tt::amp_tests::CapabilityGuard;
namespace test = tinytorch::test;
using I = std::vector<int64_t>;
using json = nlohmann::json;

// bfloat16 keeps 8 significant bits, float16 11: epsilon (the gap above 1) is 2^-7 and 2^-10,
// and rounding to nearest errs by at most half of it, relative.
double epsilon(tt::ScalarType t) {
  return t == tt::kBFloat16 ? 0x1p-7 : 0x1p-10;
}

// Deterministic values in about [-1, 1], rounded to dtype (exactly representable thereafter).
tt::Tensor pattern(const I& shape, int seed, tt::ScalarType dtype) {
  return tt::sin(tt::arange(tt::compute_numel(shape), tt::kFloat64).mul(0.7).add(1.3 * seed + 0.1))
      .reshape(shape)
      .to(dtype);
}

std::vector<float> floats(const tt::Tensor& t) {
  const std::vector<double> d = test::values_as_double(t);
  return {d.begin(), d.end()};
}

float round_to(tt::ScalarType dtype, float v) {
  return dtype == tt::kBFloat16 ? static_cast<float>(tt::kernels::float_to_bf16(v))
                                : static_cast<float>(tt::kernels::float_to_half(v));
}

// y [M, N] = round(b[j] + Σ_k x[i][k]·w[j][k]) with the sum in float32 in k order, and (twice)
// the same with the product rounded before the bias is added.
struct LinearRef {
  std::vector<float> once, twice;
};
LinearRef linear_reference(const tt::Tensor& x, const tt::Tensor& w, const tt::Tensor& b) {
  const int64_t M = x.size(0), K = x.size(1), N = w.size(0);
  const std::vector<float> px = floats(x), pw = floats(w);
  const std::vector<float> pb = b.defined() ? floats(b) : std::vector<float>(N, 0.0f);
  LinearRef r;
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < K; ++k) acc += px[i * K + k] * pw[j * K + k];  // exact products
      r.once.push_back(round_to(x.dtype(), acc + pb[j]));
      r.twice.push_back(round_to(x.dtype(), round_to(x.dtype(), acc) + pb[j]));
    }
  }
  return r;
}

// The levels this machine can force: the widening ones always; "avx512" runs vdpbf16ps for
// bfloat16 where the CPU has AVX512_BF16, which sums each k pair inside one instruction (another
// order), so bfloat16 is exact there only on CPUs without it.
std::vector<const char*> exact_levels(tt::ScalarType dtype) {
  std::vector<const char*> levels = {"default"};
  const tt::kernels::HalfIsa best = tt::kernels::half_isa();
  if (best >= tt::kernels::HalfIsa::kAvx2) levels.push_back("avx2");
  if (best == tt::kernels::HalfIsa::kAvx512 ||
      (best == tt::kernels::HalfIsa::kAvx512Bf16 && dtype == tt::kHalf)) {
    levels.push_back("avx512");
  }
  return levels;
}

class LowpLinalg : public ::testing::TestWithParam<tt::ScalarType> {};

TEST_P(LowpLinalg, LinearIsTheFloat32SumRoundedOnce) {
  const tt::ScalarType dtype = GetParam();
  // M = 1 and 7 (a ragged tile), N odd, K = 1 and 37 (odd: the pair packing's zero step).
  for (const I& mnk : {I{7, 13, 37}, I{1, 5, 37}, I{6, 3, 1}}) {
    const tt::Tensor x = pattern({mnk[0], mnk[2]}, 1, dtype),
                     w = pattern({mnk[1], mnk[2]}, 2, dtype);
    // A bias of the products' size: the bias add is where a second rounding would show.
    const tt::Tensor b = pattern({mnk[1]}, 3, dtype);
    const LinearRef ref = linear_reference(x, w, b);
    if (mnk[0] > 1) {
      ASSERT_NE(ref.once, ref.twice) << "the shape cannot tell one from two roundings";
    }
    for (const char* level : exact_levels(dtype)) {
      const CapabilityGuard guard(level);
      const tt::Tensor y = tt::linear(x, w, b);
      ASSERT_EQ(y.dtype(), dtype);
      EXPECT_EQ(floats(y), ref.once)
          << level << " M,N,K=" << mnk[0] << "," << mnk[1] << "," << mnk[2];
      // matmul and mm on the same operands: the bias-free sums, rounded once.
      const LinearRef bare = linear_reference(x, w, tt::Tensor());
      EXPECT_EQ(floats(tt::matmul(x, w.t())), bare.once) << level;
      EXPECT_EQ(floats(tt::mm(x, w.t().contiguous())), bare.once) << level;
    }
  }
}

TEST_P(LowpLinalg, Conv2dIsTheFloat32SumRoundedOnce) {
  // im2col's row order (c, r, s) is the GEMM's k order; a padding entry adds an exact 0.
  const tt::ScalarType dtype = GetParam();
  const tt::Tensor x = pattern({2, 3, 5, 4}, 4, dtype), w = pattern({4, 3, 3, 2}, 5, dtype);
  const tt::Tensor b = pattern({4}, 6, dtype);
  const std::vector<float> px = floats(x), pw = floats(w), pb = floats(b);
  std::vector<float> once;
  for (int64_t n = 0; n < 2; ++n) {
    for (int64_t k = 0; k < 4; ++k) {
      for (int64_t p = 0; p < 5; ++p) {    // padding 1, stride 1: P = 5 + 2 - 3 + 1
        for (int64_t q = 0; q < 5; ++q) {  // Q = 4 + 2 - 2 + 1
          float acc = 0.0f;
          for (int64_t c = 0; c < 3; ++c) {
            for (int64_t r = 0; r < 3; ++r) {
              for (int64_t s = 0; s < 2; ++s) {
                const int64_t h = p - 1 + r, v = q - 1 + s;
                if (h < 0 || h >= 5 || v < 0 || v >= 4) continue;
                acc += px[((n * 3 + c) * 5 + h) * 4 + v] * pw[((k * 3 + c) * 3 + r) * 2 + s];
              }
            }
          }
          once.push_back(round_to(dtype, acc + pb[k]));
        }
      }
    }
  }
  for (const char* level : exact_levels(dtype)) {
    const CapabilityGuard guard(level);
    EXPECT_EQ(floats(tt::conv2d(x, w, b, 1, 1)), once) << level;
  }
}

// Forward values vs PyTorch. bfloat16 ("torch"): 1.13's kernels sum in another order; two float32
// sums of the same K exact products differ by at most 2·(K − 1)·2^-24·Σ|terms|, which can move a
// value that lies next to a rounding boundary to the neighbouring bfloat16: at most one ulp,
// ≤ eps·|y|. float16 ("float32": rounded from PyTorch's float32 op) likewise. So rtol = eps, plus
// an atol for the cancellation case (|y| ≪ Σ|terms|): 2^-16 ≥ 2·K·2^-24·Σ|terms| for K·Σ|terms|
// up to 128 (these shapes: K ≤ 54, |terms| ≤ 1... Σ ≤ 54, and 37 for the biased ones' bias).
TEST_P(LowpLinalg, ForwardMatchesPyTorch) {
  const tt::ScalarType dtype = GetParam();
  const json& cases = test::load_reference("amp_linalg_reference.json")["cases"];
  int checked = 0;
  for (const json& c : cases) {
    if (test::parse_dtype(c["dtype"]) != dtype) continue;
    SCOPED_TRACE(c["name"].get<std::string>());
    std::vector<tt::Tensor> in;
    for (const json& t : c["inputs"]) in.push_back(test::tensor_from_json(t));
    const tt::Tensor bias = in.size() > 2 ? in[2] : tt::Tensor();
    const json& a = c["args"];
    const std::string op = c["op"];
    tt::Tensor out;
    if (op == "matmul") out = tt::matmul(in[0], in[1]);
    if (op == "mm") out = tt::mm(in[0], in[1]);
    if (op == "bmm") out = in[0].bmm(in[1]);
    if (op == "addmm")
      out = in[0].addmm(in[1], in[2], a["beta"].get<double>(), a["alpha"].get<double>());
    if (op == "baddbmm") {
      out = in[0].baddbmm(in[1], in[2], a["beta"].get<double>(), a["alpha"].get<double>());
    }
    if (op == "linear") out = tt::linear(in[0], in[1], bias);
    const auto list = [](const json& v) {
      return v.is_array() ? test::int_list(v) : I{v.get<int64_t>()};
    };
    if (op == "conv1d") {
      out = tt::conv1d(in[0], in[1], bias, list(a["stride"]), list(a["padding"]),
                       list(a["dilation"]), a["groups"].get<int64_t>());
    }
    if (op == "conv2d") {
      out = tt::conv2d(in[0], in[1], bias, list(a["stride"]), list(a["padding"]),
                       list(a["dilation"]), a["groups"].get<int64_t>());
    }
    if (op == "conv_transpose2d") {
      out = tt::conv_transpose2d(in[0], in[1], bias, list(a["stride"]), list(a["padding"]),
                                 list(a["output_padding"]), a["groups"].get<int64_t>(),
                                 list(a["dilation"]));
    }
    ASSERT_TRUE(out.defined()) << op;
    // addmm/baddbmm are composite (see docs/ARCHITECTURE.md, mixed precision): the product is
    // rounded before beta·self joins it (alpha, beta = 2, 0.5 or 1 scale exactly). That extra
    // rounding errs by ≤ eps/2·|alpha·product| ≤ eps/2 · 2 · K with K ≤ 8 inputs in [-1, 1]:
    // atol 8·eps.
    const bool composite = op == "addmm" || op == "baddbmm";
    TT_EXPECT_TENSOR_EQ(out, c["output"], epsilon(dtype), composite ? 8 * epsilon(dtype) : 0x1p-16);
    ++checked;
  }
  EXPECT_EQ(checked, 21);
}

// ── gradients vs float64 ─────────────────────────────────────────────────────────────────────
// Each op's backward is again a GEMM (or col2im of one) whose float32 sums are rounded ONCE: with
// the exact value v = Σ terms (float64, on the same 16-bit inputs) and S = Σ|terms| (the same
// backward on |inputs|), |got − v| ≤ eps/2·|v| (the rounding) + L·2^-24·S (the float32 sums,
// L ≤ 64 terms here) ≤ (eps/2 + 64·2^-24)·S. A backward that rounded twice (e.g. conv2d's
// columns before col2im) errs up to eps·S and fails the bound. Where the backward itself is two
// ops — matmul's gradient of a broadcast operand: the batched product rounded, then sum_to over
// the broadcast dims rounded again, as PyTorch does — `roundings` = 2 allows eps·S.
void expect_grads_close(const std::function<tt::Tensor(const std::vector<tt::Tensor>&)>& f,
                        const std::vector<tt::Tensor>& inputs16, const tt::Tensor& grad16,
                        int roundings = 1) {
  const tt::ScalarType dtype = grad16.dtype();
  const auto grads_of = [&](tt::ScalarType t, bool magnitude) {
    std::vector<tt::Tensor> leaves;
    for (const tt::Tensor& x : inputs16) {
      leaves.push_back((magnitude ? x.to(t).abs() : x.to(t)).detach().requires_grad_());
    }
    const tt::Tensor g = magnitude ? grad16.to(t).abs() : grad16.to(t);
    f(leaves).mul(g).sum().backward();
    std::vector<tt::Tensor> grads;
    for (const tt::Tensor& l : leaves) grads.push_back(l.grad());
    return grads;
  };
  const std::vector<tt::Tensor> got = grads_of(dtype, false), exact = grads_of(tt::kFloat64, false),
                                mag = grads_of(tt::kFloat64, true);
  const double bound = roundings * epsilon(dtype) / 2 + 64 * 0x1p-24;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].dtype(), dtype) << "grad " << i;  // grads of 16-bit leaves are 16-bit
    const std::vector<double> g = test::values_as_double(got[i]),
                              v = test::values_as_double(exact[i]),
                              s = test::values_as_double(mag[i]);
    for (size_t j = 0; j < g.size(); ++j) {
      ASSERT_LE(std::abs(g[j] - v[j]), bound * s[j]) << "grad " << i << " at " << j;
    }
  }
}

TEST_P(LowpLinalg, GradientsMatchFloat64) {
  const tt::ScalarType dtype = GetParam();
  const auto p = [&](const I& s, int seed) { return pattern(s, seed, dtype); };
  // linear, bias and no bias, 3-d input
  expect_grads_close([](const auto& t) { return tt::linear(t[0], t[1], t[2]); },
                     {p({2, 3, 11}, 1), p({5, 11}, 2), p({5}, 3)}, p({2, 3, 5}, 4));
  expect_grads_close([](const auto& t) { return tt::linear(t[0], t[1]); },
                     {p({1, 9}, 1), p({4, 9}, 2)}, p({1, 4}, 4));
  // matmul: batched broadcast, 1-d, K = 1
  expect_grads_close([](const auto& t) { return tt::matmul(t[0], t[1]); },
                     {p({2, 1, 3, 6}, 5), p({4, 6, 5}, 6)}, p({2, 4, 3, 5}, 7), /*roundings=*/2);
  expect_grads_close([](const auto& t) { return tt::matmul(t[0], t[1]); },
                     {p({7}, 5), p({7, 3}, 6)}, p({3}, 7));
  expect_grads_close([](const auto& t) { return tt::matmul(t[0], t[1]); },
                     {p({4, 1}, 5), p({1, 3}, 6)}, p({4, 3}, 7));
  expect_grads_close([](const auto& t) { return t[0].bmm(t[1]); },
                     {p({2, 3, 4}, 8), p({2, 4, 5}, 9)}, p({2, 3, 5}, 10));
  // conv2d with stride, padding, dilation, groups; conv1d; conv_transpose2d
  expect_grads_close(
      [](const auto& t) {
        return tt::conv2d(t[0], t[1], t[2], {2, 1}, {1, 1}, {1, 2}, 2);
      },
      {p({2, 4, 7, 6}, 11), p({6, 2, 3, 2}, 12), p({6}, 13)}, p({2, 6, 4, 6}, 14));
  expect_grads_close([](const auto& t) { return tt::conv1d(t[0], t[1], t[2], 1, 1); },
                     {p({2, 3, 8}, 15), p({4, 3, 3}, 16), p({4}, 17)}, p({2, 4, 8}, 18));
  expect_grads_close([](const auto& t) { return tt::conv_transpose2d(t[0], t[1], t[2], 2, 1, 1); },
                     {p({2, 2, 3, 3}, 19), p({2, 3, 3, 3}, 20), p({3}, 21)}, p({2, 3, 6, 6}, 22));
}

TEST_P(LowpLinalg, ModelBackwardGivesLowPrecisionWeightGrads) {
  // conv2d → flatten → linear, loss.backward() through both: every parameter grad in the dtype.
  const tt::ScalarType dtype = GetParam();
  const tt::Tensor x = pattern({2, 1, 5, 5}, 1, dtype);
  tt::Tensor cw = pattern({3, 1, 3, 3}, 2, dtype).requires_grad_(),
             cb = pattern({3}, 3, dtype).requires_grad_(),
             lw = pattern({4, 27}, 4, dtype).requires_grad_();
  const tt::Tensor h = tt::conv2d(x, cw, cb);
  tt::linear(h.reshape({2, 27}), lw).sum().backward();
  for (const tt::Tensor& t : {cw, cb, lw}) {
    ASSERT_TRUE(t.grad().defined());
    EXPECT_EQ(t.grad().dtype(), dtype);
    for (const double v : test::values_as_double(t.grad())) EXPECT_TRUE(std::isfinite(v));
  }
}

TEST_P(LowpLinalg, EverythingWorksInTheReferenceTier) {
  // The 16-bit route does not depend on the learner's kernels: the same bits in both tiers.
  const tt::ScalarType dtype = GetParam();
  const tt::Tensor x = pattern({3, 2, 5, 5}, 1, dtype), w = pattern({4, 2, 3, 3}, 2, dtype);
  const tt::Tensor fast = tt::conv2d(x, w), fast_mm = tt::matmul(x, x.transpose(-1, -2));
  const tt::kernels::TierGuard guard(tt::kernels::Tier::kReference);
  EXPECT_EQ(floats(tt::conv2d(x, w)), floats(fast));
  EXPECT_EQ(floats(tt::matmul(x, x.transpose(-1, -2))), floats(fast_mm));
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LowpLinalg, ::testing::Values(tt::kBFloat16, tt::kHalf),
                         [](const auto& info) {
                           return std::string(info.param == tt::kBFloat16 ? "bfloat16" : "float16");
                         });

// ── mixed dtypes: TypeError naming the op and both dtypes (PyTorch 1.13 refuses them too) ────
TEST(LowpLinalgErrors, MixedDtypesNameTheOpAndBothDtypes) {
  const tt::Tensor a32 = tt::ones({3, 4}), b16 = tt::ones({4, 5}, tt::kBFloat16);
  const tt::Tensor h16 = tt::ones({4, 5}, tt::kHalf);
  TT_EXPECT_THROW_WITH(tt::matmul(a32, b16), tt::TypeError, "matmul", "float32", "bfloat16",
                       "autocast", ".to(");
  TT_EXPECT_THROW_WITH(tt::matmul(a32.to(tt::kBFloat16), h16), tt::TypeError, "matmul", "bfloat16",
                       "float16");
  TT_EXPECT_THROW_WITH(tt::mm(a32, b16), tt::TypeError, "mm:", "float32", "bfloat16");
  TT_EXPECT_THROW_WITH(a32.unsqueeze(0).bmm(b16.unsqueeze(0)), tt::TypeError, "bmm", "float32",
                       "bfloat16");
  TT_EXPECT_THROW_WITH(tt::zeros({3, 5}, tt::kBFloat16).addmm(a32, b16), tt::TypeError, "addmm",
                       "mat1 float32", "mat2 bfloat16");
  TT_EXPECT_THROW_WITH(tt::zeros({1, 3, 5}).baddbmm(a32.unsqueeze(0), b16.unsqueeze(0)),
                       tt::TypeError, "baddbmm", "float32", "bfloat16");
  TT_EXPECT_THROW_WITH(tt::linear(a32.to(tt::kBFloat16), tt::ones({5, 4})), tt::TypeError, "linear",
                       "input bfloat16", "weight float32", "autocast");
  TT_EXPECT_THROW_WITH(tt::linear(a32.to(tt::kHalf), tt::ones({5, 4}, tt::kHalf), tt::ones({5})),
                       tt::TypeError, "linear", "float16", "bias float32");
  const tt::Tensor x16 = tt::ones({1, 2, 5, 5}, tt::kBFloat16);
  TT_EXPECT_THROW_WITH(tt::conv2d(x16, tt::ones({3, 2, 3, 3})), tt::TypeError, "conv2d",
                       "input bfloat16", "weight float32", "autocast");
  TT_EXPECT_THROW_WITH(tt::conv2d(x16, tt::ones({3, 2, 3, 3}, tt::kBFloat16), tt::ones({3})),
                       tt::TypeError, "conv2d", "bfloat16", "bias type (float32)");
  TT_EXPECT_THROW_WITH(tt::conv1d(tt::ones({1, 2, 5}, tt::kHalf), tt::ones({3, 2, 3})),
                       tt::TypeError, "conv1d", "float16", "float32");
  TT_EXPECT_THROW_WITH(tt::conv_transpose2d(x16, tt::ones({2, 3, 3, 3})), tt::TypeError,
                       "conv_transpose2d", "bfloat16", "float32");
}

}  // namespace
