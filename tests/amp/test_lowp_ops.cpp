// float16/bfloat16 through the non-GEMM ops of a transformer and a CNN (native/opmath.h: compute
// in float32, round once). Three kinds of check:
//   1. forward values against tests/data/amp_ops_reference.json (tools/reference/gen_amp_ops.py).
//      A case's "source" says what made it: "torch" = PyTorch 1.13's own 16-bit CPU kernel;
//      "float32" = 1.13 has no such kernel (most float16 ops, and scaled_dot_product_attention
//      which 1.13 lacks), so the generator computed in float32 on the exact 16-bit inputs and
//      rounded once — PyTorch 2.x's rule and ours.
//   2. gradients: the 16-bit backward against float64 autograd on the same (exactly
//      representable) inputs, with bounds derived from the format's epsilon next to each.
//   3. mixed dtypes: PyTorch 1.13's errors (and its one allowed mix, batch_norm).
//   4. end to end: a tiny GPT-like block in bfloat16 (with the 16-bit linear of
//      test_lowp_linalg.cpp) against the same block in float32.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
namespace F = tinytorch::nn::functional;
using namespace tinytorch::test;

namespace {

// The distance from 1 to the next value (bf16 2^-7, f16 2^-10; float32, cat's promoted result,
// 2^-23).
double eps_of(tt::ScalarType t) {
  return t == tt::kBFloat16 ? 0x1p-7 : t == tt::kHalf ? 0x1p-10 : 0x1p-23;
}

using Inputs = std::vector<tt::Tensor>;
using Op = std::function<tt::Tensor(const Inputs&, const json&)>;

// The reference file's ops, called through the public API as a libtorch program would.
const std::map<std::string, Op>& ops() {
  static const std::map<std::string, Op> table = {
      {"softmax", [](const Inputs& x, const json& a) { return tt::softmax(x[0], a["dim"]); }},
      {"log_softmax",
       [](const Inputs& x, const json& a) { return tt::log_softmax(x[0], a["dim"]); }},
      {"gelu", [](const Inputs& x,
                  const json& a) { return tt::gelu(x[0], a["approximate"].get<std::string>()); }},
      {"gelu_tanh",
       [](const Inputs& x, const json& a) {
         return tt::gelu(x[0], a["approximate"].get<std::string>());
       }},
      {"relu", [](const Inputs& x, const json&) { return tt::relu(x[0]); }},
      {"sigmoid", [](const Inputs& x, const json&) { return tt::sigmoid(x[0]); }},
      {"tanh", [](const Inputs& x, const json&) { return tt::tanh(x[0]); }},
      {"silu", [](const Inputs& x, const json&) { return tt::silu(x[0]); }},
      {"leaky_relu",
       [](const Inputs& x, const json& a) { return tt::leaky_relu(x[0], a["negative_slope"]); }},
      {"layer_norm",
       [](const Inputs& x, const json& a) {
         return tt::layer_norm(x[0], {x[0].size(-1)}, x[1], x[2], a["eps"]);
       }},
      {"embedding", [](const Inputs& x, const json&) { return tt::embedding(x[0], x[1]); }},
      {"cross_entropy", [](const Inputs& x, const json&) { return tt::cross_entropy(x[0], x[1]); }},
      {"nll_loss", [](const Inputs& x, const json&) { return tt::nll_loss(x[0], x[1]); }},
      {"scaled_dot_product_attention",
       [](const Inputs& x, const json& a) {
         return tt::scaled_dot_product_attention(x[0], x[1], x[2], {}, 0.0, a["is_causal"]);
       }},
      {"max_pool2d",
       [](const Inputs& x, const json& a) {
         return F::max_pool2d(x[0], tt::IntArrayRef(a["kernel_size"].get<int64_t>()));
       }},
      {"avg_pool2d",
       [](const Inputs& x, const json& a) {
         return F::avg_pool2d(x[0], tt::IntArrayRef(a["kernel_size"].get<int64_t>()));
       }},
      {"adaptive_avg_pool2d",
       [](const Inputs& x, const json& a) {
         return F::adaptive_avg_pool2d(x[0], tt::IntArrayRef(a["output_size"].get<int64_t>()));
       }},
      {"batch_norm",
       [](const Inputs& x, const json& a) {
         return tt::batch_norm(x[0], x[1], x[2], {}, {}, a["training"], 0.1, a["eps"]);
       }},
      {"mse_loss", [](const Inputs& x, const json&) { return tt::mse_loss(x[0], x[1]); }},
      {"binary_cross_entropy",
       [](const Inputs& x, const json&) { return tt::binary_cross_entropy(x[0], x[1]); }},
      {"binary_cross_entropy_with_logits",
       [](const Inputs& x, const json&) {
         return tt::binary_cross_entropy_with_logits(x[0], x[1]);
       }},
      {"kl_div",
       [](const Inputs& x, const json&) {
         return F::kl_div(x[0], x[1],
                          F::KLDivFuncOptions().reduction(F::KLDivReduction::BatchMean));
       }},
      {"smooth_l1_loss",
       [](const Inputs& x, const json& a) {
         return tt::smooth_l1_loss(x[0], x[1], tt::Reduction::Mean, a["beta"]);
       }},
      {"huber_loss",
       [](const Inputs& x, const json& a) {
         return tt::huber_loss(x[0], x[1], tt::Reduction::Mean, a["delta"]);
       }},
      {"cat",
       [](const Inputs& x, const json& a) {
         return tt::cat({x[0], x[1]}, a["dim"]);
       }},
      {"stack",
       [](const Inputs& x, const json& a) {
         return tt::stack({x[0], x[1]}, a["dim"]);
       }},
      {"index_select",
       [](const Inputs& x, const json& a) { return x[0].index_select(a["dim"], x[1]); }},
      {"gather", [](const Inputs& x, const json& a) { return x[0].gather(a["dim"], x[1]); }},
      {"masked_fill",
       [](const Inputs& x, const json& a) {
         return x[0].masked_fill(x[1], a["value"].get<double>());
       }},
      {"topk", [](const Inputs& x, const json& a) { return std::get<0>(x[0].topk(a["k"])); }},
      {"sort",
       [](const Inputs& x, const json& a) { return std::get<0>(x[0].sort(1, a["descending"])); }},
      {"max", [](const Inputs& x, const json&) { return x[0].max(); }},
      {"max_dim", [](const Inputs& x, const json& a) { return std::get<0>(x[0].max(a["dim"])); }},
      {"min_dim", [](const Inputs& x, const json& a) { return std::get<0>(x[0].min(a["dim"])); }},
      {"cumsum", [](const Inputs& x, const json& a) { return x[0].cumsum(a["dim"]); }},
      {"norm", [](const Inputs& x, const json&) { return x[0].norm(); }},
      {"var", [](const Inputs& x, const json& a) { return x[0].var({a["dim"].get<int64_t>()}); }},
      {"floor", [](const Inputs& x, const json&) { return x[0].floor(); }},
      {"ceil", [](const Inputs& x, const json&) { return x[0].ceil(); }},
      {"round", [](const Inputs& x, const json&) { return x[0].round(); }},
      {"trunc", [](const Inputs& x, const json&) { return x[0].trunc(); }},
      {"frac", [](const Inputs& x, const json&) { return x[0].frac(); }},
      {"sign", [](const Inputs& x, const json&) { return x[0].sign(); }},
  };
  return table;
}

}  // namespace

// Forward values. The float32 result we round is computed by different code than PyTorch's
// (another exp, another summation order), so where it lies near the midpoint of two 16-bit values
// the two roundings may pick neighbours: 1 ulp ≤ eps·|y| (rtol eps). Composites round inside:
// cross_entropy rounds log_softmax and then the nll mean, scaled_dot_product_attention's 1.13-less
// reference is one float32 computation — 2 ulp covers both (rtol 2·eps). Outputs near zero that
// come from cancelling terms (layer_norm, batch_norm, log-likelihood sums) get atol eps·max|y|:
// one ulp at the output's scale.
TEST(AmpLowpOps, ForwardMatchesPyTorch) {
  const json& cases = load_reference("amp_ops_reference.json")["cases"];
  ASSERT_EQ(cases.size(), 2 * ops().size()) << "every op in bfloat16 and float16";
  for (const json& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>() + " (reference: " + c["source"].get<std::string>() +
                 ")");
    Inputs inputs;
    for (const json& t : c["inputs"]) inputs.push_back(tensor_from_json(t));
    const tt::Tensor got = ops().at(c["op"])(inputs, c["args"]);
    const tt::Tensor expected = tensor_from_json(c["output"]);
    const double eps = eps_of(expected.dtype());
    const double scale = expected.to(tt::kFloat64).abs().max().item<double>();
    expect_tensor_eq(got, expected, 2 * eps, eps * scale);
  }
}

// ── gradients: 16-bit backward vs float64 autograd on the same inputs ─────────────────────────

namespace {

struct GradCase {
  const char* name;
  std::vector<int64_t> shape;
  // y = f(x) for a floating x (the weight, for embedding); the loss is (y · g).sum() with g an
  // exact pattern of y's dtype, so ∂loss/∂y = g holds exactly in either dtype.
  std::function<tt::Tensor(const tt::Tensor&)> f;
  double rtol_eps, atol_eps_g;  // the bound: rtol_eps·eps·|ref| + atol_eps_g·eps (max|g| ≤ 1)
  double offset = 0.0, scale = 2.0;  // x = offset + scale·sin(...), rounded to the dtype
};

tt::Tensor sine_pattern(std::vector<int64_t> shape, double seed, double scale) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return (tt::arange(n, tt::kFloat64) * 0.7 + (1.3 * seed + 0.1)).sin().mul(scale).reshape(shape);
}

// x.grad of (f(x)·g).sum() for x of `dtype` (float64: the reference) and g a pattern rounded to
// the 16-bit `exact` dtype, so that both runs see the same g.
tt::Tensor grad_of(const GradCase& c, const tt::Tensor& x64, tt::ScalarType dtype,
                   tt::ScalarType exact) {
  tt::Tensor x = x64.to(dtype).detach().requires_grad_(true);
  const tt::Tensor y = c.f(x);
  const tt::Tensor g = sine_pattern(y.sizes().vec(), 7, 1.0).to(exact).to(y.dtype());
  (y * g).sum().backward();
  EXPECT_EQ(x.grad().dtype(), dtype) << c.name << ": a parameter's gradient has its dtype";
  return x.grad();
}

}  // namespace

TEST(AmpLowpOps, GradientsMatchFloat64Autograd) {
  const tt::Tensor tokens = tt::tensor({0, 3, 3, 1, 4, 3}, tt::kInt64).reshape({2, 3});
  const tt::Tensor targets = tt::tensor({0, 5, 3, 1}, tt::kInt64);
  const tt::Tensor rows = tt::tensor({3, 0, 3}, tt::kInt64);
  const tt::Tensor columns = tt::tensor({0, 3, 1, 1, 2, 0}, tt::kInt64).reshape({3, 2});
  // Loss targets of x's shape and dtype with values every format holds exactly: 0, ¼, ½, ¾.
  const auto quarters = [](const tt::Tensor& x) {
    return tt::arange(x.numel(), x.dtype()).fmod(4).div(4).reshape(x.sizes());
  };
  // Keys and values exactly representable in both 16-bit formats (multiples of 2^-6 in [-2, 2]).
  const tt::Tensor keys = sine_pattern({2, 6, 8}, 5, 2.0).mul(64).round().div(64);
  const tt::Tensor values = sine_pattern({2, 6, 8}, 6, 2.0).mul(64).round().div(64);
  // Bounds, with eps the format's and n_sum the terms a gradient element sums:
  // - one rounding of a float32 value computed from exact 16-bit inputs: ≤ 1 ulp ≤ eps·|ref|
  //   (the float32 arithmetic's own error, ~n·2^-24, is far below): rtol 1, atol ~0 (gelu,
  //   silu, leaky_relu, relu, layer_norm, batch_norm, embedding's float32 row sums, the pools;
  //   avg_pool2d's 1/4 and max_pool2d's routing are exact).
  // - backward from the ROUNDED output y (sigmoid, tanh, softmax): Δy ≤ eps/2·|y| with |y| ≤ 1
  //   moves y(1−y), 1−y² or y(g − Σg·y) by ≤ eps·|g|: atol 1·max|g| (softmax: 2, its Σ term).
  // - log_softmax from the rounded y = log p: Δexp(y) ≤ p·eps/2·|log p| ≤ eps/(2e), times |Σg| ≤
  //   n·max|g| (n = 6 classes): atol 0.5 (with n_sum = 6).
  // - cross_entropy: log_softmax's bound with Σg = the mean's 1/N on one class (N = 4 rows).
  const std::vector<GradCase> cases = {
      {"gelu", {12}, [](const tt::Tensor& x) { return tt::gelu(x); }, 1, 1e-3},
      {"gelu_tanh", {12}, [](const tt::Tensor& x) { return tt::gelu(x, "tanh"); }, 1, 1e-3},
      {"silu", {12}, [](const tt::Tensor& x) { return tt::silu(x); }, 1, 1e-3},
      {"relu", {12}, [](const tt::Tensor& x) { return tt::relu(x); }, 0, 0},
      {"leaky_relu", {12}, [](const tt::Tensor& x) { return tt::leaky_relu(x, 0.1); }, 1, 1e-3},
      {"sigmoid", {12}, [](const tt::Tensor& x) { return tt::sigmoid(x); }, 1, 1},
      {"tanh", {12}, [](const tt::Tensor& x) { return tt::tanh(x); }, 1, 1},
      {"softmax", {3, 6}, [](const tt::Tensor& x) { return tt::softmax(x, -1); }, 1, 2},
      {"log_softmax", {3, 6}, [](const tt::Tensor& x) { return tt::log_softmax(x, 1); }, 1, 3},
      {"layer_norm", {3, 8}, [](const tt::Tensor& x) { return tt::layer_norm(x, {8}); }, 1, 1e-2},
      {"embedding", {5, 4}, [&](const tt::Tensor& w) { return tt::embedding(w, tokens); }, 1, 1e-3},
      {"cross_entropy",
       {4, 6},
       [&](const tt::Tensor& x) { return tt::cross_entropy(x, targets); },
       1,
       0.25},
      {"max_pool2d",
       {1, 2, 4, 4},
       [](const tt::Tensor& x) { return F::max_pool2d(x, tt::IntArrayRef(int64_t{2})); },
       0,
       0},
      {"avg_pool2d",
       {1, 2, 4, 4},
       [](const tt::Tensor& x) { return F::avg_pool2d(x, tt::IntArrayRef(int64_t{2})); },
       0,
       0},
      {"adaptive_avg_pool2d",
       {1, 2, 5, 5},
       [](const tt::Tensor& x) { return F::adaptive_avg_pool2d(x, tt::IntArrayRef(int64_t{2})); },
       1,
       1e-3},
      {"batch_norm",
       {4, 3, 2, 2},
       [](const tt::Tensor& x) { return tt::batch_norm(x, {}, {}, {}, {}, true, 0.1, 1e-5); },
       1,
       1e-2},
      {"mse_loss",
       {10},
       [&](const tt::Tensor& x) { return tt::mse_loss(x, quarters(x)); },
       1,
       1e-3},
      // The rest of the list. Selections and joins route g exactly (0, 0); sums of g (the
      // backward of index_select, gather, cumsum) are float32 sums of exact values rounded once.
      {"cat",
       {2, 3},
       [](const tt::Tensor& x) {
         return tt::cat({x, tt::ones({1, 3}, tt::kFloat32)});
       },
       0,
       0},
      {"index_select",
       {4, 3},
       [&](const tt::Tensor& x) { return x.index_select(0, rows); },
       1,
       1e-3},
      {"gather", {3, 4}, [&](const tt::Tensor& x) { return x.gather(1, columns); }, 1, 1e-3},
      {"topk", {3, 6}, [](const tt::Tensor& x) { return std::get<0>(x.topk(2)); }, 0, 0},
      {"max_dim", {3, 6}, [](const tt::Tensor& x) { return std::get<0>(x.max(1)); }, 0, 0},
      {"cumsum", {3, 6}, [](const tt::Tensor& x) { return x.cumsum(1); }, 1, 1e-3},
      // norm's backward g·x/‖x‖ divides by the ROUNDED norm (Δ ≤ eps/2 relative), then rounds:
      // rtol 2.
      {"norm", {3, 6}, [](const tt::Tensor& x) { return x.norm(); }, 2, 1e-3},
      {"nll_loss", {4, 6}, [&](const tt::Tensor& x) { return tt::nll_loss(x, targets); }, 0, 0},
      {"kl_div", {3, 4}, [&](const tt::Tensor& x) { return F::kl_div(x, quarters(x)); }, 1, 1e-3},
      {"binary_cross_entropy",
       {10},
       [&](const tt::Tensor& x) { return tt::binary_cross_entropy(x, quarters(x)); },
       1,
       1e-3,
       0.5,
       0.4},
      {"binary_cross_entropy_with_logits",
       {10},
       [&](const tt::Tensor& x) { return tt::binary_cross_entropy_with_logits(x, quarters(x)); },
       1,
       1e-3},
      {"smooth_l1_loss",
       {10},
       [&](const tt::Tensor& x) {
         return tt::smooth_l1_loss(x, quarters(x), tt::Reduction::Mean, 0.5);
       },
       1,
       1e-3},
      {"huber_loss",
       {10},
       [&](const tt::Tensor& x) {
         return tt::huber_loss(x, quarters(x), tt::Reduction::Mean, 0.5);
       },
       1,
       1e-3},
      {"rms_norm",
       {3, 8},
       [](const tt::Tensor& x) { return tt::rms_norm(x, {8}, {}, std::nullopt); },
       1,
       1e-2},
      // Attention w.r.t. the query (E = 8, scale 1/√8, |k|, |v| ≤ 2): the backward reads the
      // ROUNDED output O in D = Σ_e dO·O, so |ΔD| ≤ eps/2·E·max|g|·max|v| = 8·eps, and
      // g_q = scale·Σ_j P_j (dP_j − D) k_j moves by ≤ scale·|ΔD|·max|k| = 8·eps·2/√8 ≈ 5.7·eps:
      // atol 6 (and rtol 1 for the final rounding).
      {"scaled_dot_product_attention",
       {2, 4, 8},
       [&](const tt::Tensor& q) {
         return tt::scaled_dot_product_attention(q, keys.to(q.dtype()), values.to(q.dtype()));
       },
       1,
       6},
  };
  for (const tt::ScalarType dtype : {tt::kBFloat16, tt::kHalf}) {
    const double eps = eps_of(dtype);
    for (const GradCase& c : cases) {
      SCOPED_TRACE(std::string(c.name) + " " + std::string(tt::to_string(dtype)));
      // Inputs exactly representable in the 16-bit dtype, so both runs see the same numbers.
      const tt::Tensor x =
          (sine_pattern(c.shape, 3, c.scale) + c.offset).to(dtype).to(tt::kFloat64);
      const tt::Tensor ref = grad_of(c, x, tt::kFloat64, dtype);
      const tt::Tensor got = grad_of(c, x, dtype, dtype).to(tt::kFloat64);
      // max|g| ≤ 1 (the pattern's scale), and |Σg| over a row ≤ 6 for the row ops.
      expect_tensor_eq(got, ref, c.rtol_eps * eps, c.atol_eps_g * eps + 1e-30);
    }
  }
}

// ── mixed dtypes (no autocast): PyTorch 1.13 raises, and so do we, naming both dtypes ─────────

TEST(AmpLowpOps, MixedDtypesRaiseNamingBoth) {
  const tt::Tensor x = tt::ones({2, 4}, tt::kBFloat16);
  TT_EXPECT_THROW_WITH(tt::layer_norm(x, {4}, tt::ones({4}), tt::zeros({4})), tt::TypeError,
                       "layer_norm", "bfloat16", "float32");
  TT_EXPECT_THROW_WITH(tt::layer_norm(x.to(tt::kFloat32), {4}, tt::ones({4}, tt::kBFloat16)),
                       tt::TypeError, "layer_norm", "bfloat16", "float32");
  TT_EXPECT_THROW_WITH(tt::cross_entropy(x, tt::tensor({0, 1}, tt::kInt64), tt::ones({4})),
                       tt::TypeError, "cross_entropy", "bfloat16", "float32");
  TT_EXPECT_THROW_WITH(tt::scaled_dot_product_attention(
                           x.unsqueeze(0), x.unsqueeze(0).to(tt::kFloat32), x.unsqueeze(0)),
                       tt::TypeError, "scaled_dot_product_attention", "bfloat16", "float32");
  // batch_norm: float32 statistics and parameters with a float32 input's 16-bit cousin are
  // PyTorch's one allowed mix (the output keeps the input's dtype, the parameters' gradients
  // theirs); the reverse mix raises.
  const tt::Tensor xb = sine_pattern({4, 3, 2}, 1, 2.0).to(tt::kBFloat16).requires_grad_(true);
  tt::Tensor w = tt::ones({3}).requires_grad_(true);
  tt::Tensor rm = tt::zeros({3}), rv = tt::ones({3});
  const tt::Tensor y = tt::batch_norm(xb, w, tt::zeros({3}), rm, rv, true, 0.1, 1e-5);
  EXPECT_EQ(y.dtype(), tt::kBFloat16);
  y.sum().backward();
  EXPECT_EQ(xb.grad().dtype(), tt::kBFloat16);
  EXPECT_EQ(w.grad().dtype(), tt::kFloat32);
  EXPECT_NE(rm.abs().sum().item<float>(), 0.0f) << "running stats updated in place";
  TT_EXPECT_THROW_WITH(tt::batch_norm(xb.detach().to(tt::kFloat32), tt::ones({3}, tt::kBFloat16),
                                      {}, {}, {}, true, 0.1, 1e-5),
                       tt::TypeError, "batch_norm", "float32", "bfloat16");
}

// bf16 running statistics are updated through float32 and rounded once, in place.
TEST(AmpLowpOps, BatchNormUpdatesBFloat16RunningStats) {
  const tt::Tensor x = sine_pattern({4, 3, 2}, 2, 2.0).to(tt::kBFloat16);
  tt::Tensor rm = tt::zeros({3}, tt::kBFloat16), rv = tt::ones({3}, tt::kBFloat16);
  const tt::Tensor rm_ref = tt::zeros({3}, tt::kFloat32), rv_ref = tt::ones({3}, tt::kFloat32);
  tt::batch_norm(x, {}, {}, rm, rv, true, 0.1, 1e-5);
  tt::batch_norm(x.to(tt::kFloat32), {}, {}, rm_ref, rv_ref, true, 0.1, 1e-5);
  EXPECT_EQ(rm.dtype(), tt::kBFloat16);
  expect_tensor_eq(rm, rm_ref.to(tt::kBFloat16), 0, 0);
  expect_tensor_eq(rv, rv_ref.to(tt::kBFloat16), 0, 0);
}

// Dropout on 16-bit activations: the mask is drawn in float32 and rounded; kept values are
// x/(1−p) rounded once, the rest 0, and the gradient follows the same mask.
TEST(AmpLowpOps, DropoutKeepsTheDtype) {
  tt::manual_seed(0);
  const tt::Tensor x = tt::ones({64}, tt::kBFloat16).requires_grad_(true);
  const tt::Tensor y = F::dropout(x, 0.5, true, false);
  EXPECT_EQ(y.dtype(), tt::kBFloat16);
  const tt::Tensor kept = y.ne(0);
  EXPECT_TRUE(y.masked_select(kept).eq(2).all().item<bool>());
  y.sum().backward();
  EXPECT_EQ(x.grad().dtype(), tt::kBFloat16);
  expect_tensor_eq(x.grad(), y.detach(), 0, 0);
}

// ── end to end: a tiny GPT-like block converted with Module::to(kBFloat16) ─────────────────────

namespace {
tt::nn::Sequential tiny_block() {
  namespace nn = tt::nn;
  return nn::Sequential(nn::Embedding(16, 32), nn::LayerNorm(nn::LayerNormOptions({32})),
                        nn::Linear(32, 64), nn::GELU(), nn::Linear(64, 16), nn::LogSoftmax(-1));
}
}  // namespace

// The same weights in both models: the float32 model gets the bf16 model's rounded values, so
// the difference is the 16-bit computation alone. Forward + backward through embedding →
// layer_norm → linear → gelu → linear → log_softmax → nll all run in bfloat16, and every
// parameter's gradient is bfloat16.
// Bound on the loss: the path rounds 6 times (layer_norm, linear, gelu, linear, log_softmax, the
// nll mean), each ≤ eps/2 relative to its output; the layers are well conditioned here (normalised
// activations, weights of scale 1/√fan_in, so each passes a relative error on amplified by ≤ ~2)
// and log_softmax subtracts values of the loss's size (~log 16 ≈ 2.8): |Δloss| ≤ 6·2·eps/2·|loss|
// + eps·log 16, i.e. ≤ 8·eps·max(|loss|, 1) covers it with room (measured ≈ 0.4·eps·|loss|).
TEST(AmpLowpOps, TinyGptBlockTrainsInBFloat16) {
  tt::manual_seed(0);
  tt::nn::Sequential lowp = tiny_block(), full = tiny_block();
  lowp->to(tt::kBFloat16);
  {
    const tt::NoGradGuard no_grad;
    auto src = lowp->named_parameters();
    auto dst = full->named_parameters();
    for (const auto& item : src) dst[item.key()].copy_(item.value().to(tt::kFloat32));
  }
  const tt::Tensor tokens = tt::tensor({1, 5, 9, 3, 15, 0, 7, 7}, tt::kInt64).reshape({2, 4});
  const tt::Tensor targets = tt::tensor({5, 9, 3, 15, 0, 7, 7, 2}, tt::kInt64);
  const tt::Tensor loss16 = tt::nll_loss(lowp->forward(tokens).reshape({8, 16}), targets);
  const tt::Tensor loss32 = tt::nll_loss(full->forward(tokens).reshape({8, 16}), targets);
  EXPECT_EQ(loss16.dtype(), tt::kBFloat16);
  const double l16 = loss16.to(tt::kFloat64).item<double>();
  const double l32 = loss32.to(tt::kFloat64).item<double>();
  EXPECT_NEAR(l16, l32, 8 * 0x1p-7 * std::max(std::abs(l32), 1.0));
  loss16.backward();
  loss32.backward();
  for (const auto& item : lowp->named_parameters()) {
    SCOPED_TRACE(item.key());
    const tt::Tensor g = item.value().grad();
    ASSERT_TRUE(g.defined());
    EXPECT_EQ(g.dtype(), tt::kBFloat16);
    EXPECT_TRUE(g.to(tt::kFloat32).isfinite().all().item<bool>());
    // Each gradient, as a whole: the backward rounds once per layer it crosses (≤ 6) and reads
    // activations the forward rounded (≤ 6 more, eps/2 each): ‖Δg‖/‖g‖ ≤ 12·eps/2 = 6·eps
    // (measured ≈ 0.6·eps).
    const tt::Tensor ref = full->named_parameters()[item.key()].grad();
    EXPECT_LE((g.to(tt::kFloat32) - ref).norm().item<float>(),
              6 * 0x1p-7 * ref.norm().item<float>());
  }
}

// Padding moves elements, so a 16-bit pad equals the float32 pad of the same values exactly, in
// every mode; its backward sums the gradients that reflect/replicate read several times in
// float32 and rounds once — the float32 backward of the widened gradient, rounded.
TEST(AmpLowpOps, PadIsExactAndItsBackwardRoundsOnce) {
  for (const tt::ScalarType dtype : {tt::kBFloat16, tt::kHalf}) {
    tt::manual_seed(5);
    const tt::Tensor x = tt::randn({2, 3, 5, 6}).to(dtype);
    const tt::Tensor g = tt::randn({2, 3, 9, 10}).to(dtype);
    for (const char* mode : {"constant", "reflect", "replicate", "circular"}) {
      SCOPED_TRACE(std::string(mode) + " " + std::string(tt::to_string(dtype)));
      const std::optional<double> fill =
          std::string(mode) == "constant" ? std::optional(0.1) : std::nullopt;
      tt::Tensor leaf = x.detach().requires_grad_(true);
      const tt::Tensor y = tt::pad(leaf, {2, 2, 2, 2}, mode, fill);
      const tt::Tensor y32 = tt::pad(x.to(tt::kFloat32), {2, 2, 2, 2}, mode, fill);
      ASSERT_EQ(y.dtype(), dtype);
      EXPECT_TRUE(y.equal(y32.to(dtype)));
      y.backward(g);
      tt::Tensor leaf32 = x.to(tt::kFloat32).requires_grad_(true);
      tt::pad(leaf32, {2, 2, 2, 2}, mode, fill).backward(g.to(tt::kFloat32));
      ASSERT_EQ(leaf.grad().dtype(), dtype);
      EXPECT_TRUE(leaf.grad().equal(leaf32.grad().to(dtype)));
    }
  }
}
