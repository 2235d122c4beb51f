// Module 15 — the int8 GEMM: your reference loop gives NumPy's exact integer products (tails in
// every dimension, activations above 127, the saturation edges), through both tiers' packed
// weights; the dynamically quantized Linear stays within the quantization error bound of the
// float Linear (and of PyTorch's quantize_dynamic); bad arguments raise tinytorch::Error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/kernels/qgemm.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/modules/quantized_linear.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::kernels {
namespace {

using test::json;
using test::load_reference;

template <typename T>
std::vector<T> ints(const json& values) {
  std::vector<T> out;
  for (const auto& v : values) out.push_back(static_cast<T>(v.get<int64_t>()));
  return out;
}

std::vector<float> floats(const json& values) {
  std::vector<float> out;
  for (const auto& v : values) out.push_back(v.get<float>());
  return out;
}

std::vector<const json*> qgemm_cases(const std::string& op) {
  std::vector<const json*> out;
  for (const json& c : load_reference("module15_qgemm.json")["cases"]) {
    if (c["op"] == op) out.push_back(&c);
  }
  return out;
}

TEST(Module15QGemm, ReferenceLoopMatchesNumPyExactly) {
  const auto all = qgemm_cases("qgemm");
  ASSERT_GE(all.size(), 7u);
  for (const json* c : all) {
    const int64_t M = (*c)["M"], N = (*c)["N"], K = (*c)["K"];
    const auto A = ints<uint8_t>((*c)["A"]);
    const auto B = ints<int8_t>((*c)["B"]);
    const auto expected = ints<int32_t>((*c)["C"]);
    std::vector<int32_t> C(static_cast<size_t>(M * N), 12345);  // must be overwritten
    qgemm_u8s8_reference(M, N, K, A.data(), K, B.data(), K, C.data(), N);
    EXPECT_EQ(C, expected) << (*c)["name"];
  }
}

TEST(Module15QGemm, ReferenceLoopHonoursLeadingDimensions) {
  // A 2×3 block inside a 3×5 A, a 2×3 block inside a 2×4 B, C with 2 spare columns.
  const std::vector<uint8_t> A = {1, 2, 3, 99, 99, 4, 5, 6, 99, 99, 99, 99, 99, 99, 99};
  const std::vector<int8_t> B = {1, 0, -1, 77, 2, 2, 2, 77};
  std::vector<int32_t> C(2 * 4, -7);
  qgemm_u8s8_reference(2, 2, 3, A.data(), 5, B.data(), 4, C.data(), 4);
  EXPECT_EQ(C, (std::vector<int32_t>{1 - 3, 12, -7, -7, 4 - 6, 30, -7, -7}));
}

TEST(Module15QGemm, PackedWeightsOfBothTiersAreExact) {
  for (const Tier t : {Tier::kReference, Tier::kFast}) {
    const TierGuard guard(t);
    for (const json* c : qgemm_cases("qgemm")) {
      const int64_t M = (*c)["M"], N = (*c)["N"], K = (*c)["K"];
      const auto A = ints<uint8_t>((*c)["A"]);
      const auto B = ints<int8_t>((*c)["B"]);
      const PackedInt8Weight packed = pack_int8_weight(N, K, B.data(), K);
      ASSERT_EQ(packed.row_sums.size(), static_cast<size_t>(N));
      for (int64_t n = 0; n < N; ++n) {
        int32_t sum = 0;
        for (int64_t k = 0; k < K; ++k) sum += B[n * K + k];
        EXPECT_EQ(packed.row_sums[n], sum);
      }
      std::vector<int32_t> C(static_cast<size_t>(M * N), 12345);
      qgemm_packed(M, A.data(), K, packed, C.data(), N);
      EXPECT_EQ(C, ints<int32_t>((*c)["C"]))
          << (*c)["name"] << (t == Tier::kFast ? " (fast tier)" : " (reference tier)");
    }
  }
}

// The error bound of the dynamic Linear, per output element (the chapter's Part 6.5 derives it):
//   x̂ = s_x·(q_x − zp) with |x − x̂| ≤ s_x/2 (0 ∈ [min, max], so rounding, not clamping, decides),
//   ŵ = s_w·q_w        with |w − ŵ| ≤ s_w/2,
//   |Σ x·w − Σ x̂·ŵ| ≤ Σ_k |x_k|·s_w/2 + s_x/2·Σ_k |ŵ_k|, plus float rounding in the epilogue.
float bound(const std::vector<float>& x, const std::vector<float>& w, int64_t m, int64_t n,
            int64_t K, float s_x, float s_w, float y) {
  double sum = 0.0;
  for (int64_t k = 0; k < K; ++k) {
    const double w_hat = s_w * std::nearbyint(w[n * K + k] / s_w);
    sum += std::fabs(x[m * K + k]) * s_w / 2 + s_x / 2 * std::fabs(w_hat);
  }
  return static_cast<float>(sum * 1.001 + 1e-5 * (1.0 + std::fabs(y)));
}

// The float Linear with weight [N, K] and bias [N].
nn::Linear float_linear(int64_t N, int64_t K, const std::vector<float>& w,
                        const std::vector<float>& b) {
  nn::Linear fc(K, N);
  const NoGradGuard no_grad;
  fc->weight.copy_(from_vector(w, {N, K}));
  fc->bias.copy_(from_vector(b, {N}));
  return fc;
}

TEST(Module15QGemm, DynamicLinearIsWithinTheQuantizationBound) {
  const auto all = qgemm_cases("dynamic_linear");
  ASSERT_GE(all.size(), 2u);
  for (const Tier t : {Tier::kReference, Tier::kFast}) {
    const TierGuard guard(t);
    for (const json* c : all) {
      for (const bool per_channel : {false, true}) {
        const int64_t M = (*c)["M"], N = (*c)["N"], K = (*c)["K"];
        const auto x = floats((*c)["x"]), w = floats((*c)["weight"]), b = floats((*c)["bias"]);
        const auto y_float = floats((*c)["y_float"]), y_torch = floats((*c)["y_torch"]);
        // The layer quantize_dynamic builds: module 15's weight observer, then the packing.
        const nn::quantized::dynamic::Linear layer(*float_linear(N, K, w, b), per_channel);
        const std::vector<float> weight_scales = layer->weight_scales().to_vector<float>();
        ASSERT_EQ(weight_scales.size(), per_channel ? static_cast<size_t>(N) : 1u);
        const std::vector<float> y = layer->forward(from_vector(x, {M, K})).to_vector<float>();
        float lo = 0, hi = 0;
        for (const float v : x) lo = std::min(lo, v), hi = std::max(hi, v);
        const float s_x = choose_activation_qparams(lo, hi).scale;
        double worst = 0.0;
        for (int64_t m = 0; m < M; ++m) {
          for (int64_t n = 0; n < N; ++n) {
            const size_t i = static_cast<size_t>(m * N + n);
            const float s_w = weight_scales[per_channel ? n : 0];
            const float e = bound(x, w, m, n, K, s_x, s_w, y_float[i]);
            ASSERT_LE(std::fabs(y[i] - y_float[i]), e)
                << (*c)["name"] << " m=" << m << " n=" << n << " per_channel=" << per_channel;
            // PyTorch's result has an error of the same kind and size: the two differ by at
            // most the sum of both bounds.
            EXPECT_LE(std::fabs(y[i] - y_torch[i]), 2 * e) << (*c)["name"];
            worst = std::max(worst, std::fabs(static_cast<double>(y[i]) - y_float[i]) / e);
          }
        }
        // The bound is not vacuous: the quantized output really differs from the float one,
        // by a fraction of the worst case.
        EXPECT_GT(worst, 0.0) << (*c)["name"];
      }
    }
  }
}

TEST(Module15QGemm, DynamicLinearQuantizesZeroExactly) {
  const auto p = choose_activation_qparams(-1.0f, 3.0f);
  EXPECT_FLOAT_EQ(p.scale, 4.0f / 127);
  EXPECT_EQ(p.zero_point, 32);                                  // round(1 / (4/127)) = round(31.75)
  const auto positive = choose_activation_qparams(2.0f, 5.0f);  // widened to [0, 5]
  EXPECT_EQ(positive.zero_point, 0);
  EXPECT_FLOAT_EQ(positive.scale, 5.0f / 127);
  EXPECT_EQ(choose_activation_qparams(0.0f, 0.0f).scale, 1.0f);
}

TEST(Module15QGemm, BadArgumentsRaise) {
  const std::vector<int8_t> B(8, 1);
  EXPECT_THROW(pack_int8_weight(2, 4, B.data(), 3), Error);  // ldb < K
  EXPECT_THROW(pack_int8_weight(-1, 4, B.data(), 4), Error);
  EXPECT_THROW(pack_int8_weight(1, kQGemmMaxK + 1, B.data(), kQGemmMaxK + 1), Error);
  const PackedInt8Weight unpacked;
  const std::vector<uint8_t> A(4, 1);
  std::vector<int32_t> C(2);
  EXPECT_THROW(qgemm_packed(1, A.data(), 4, unpacked, C.data(), 2), Error);
  const PackedInt8Weight packed = pack_int8_weight(2, 4, B.data(), 4);
  EXPECT_THROW(qgemm_packed(1, A.data(), 3, packed, C.data(), 2), Error);  // lda < K
  EXPECT_THROW(qgemm_packed(1, A.data(), 4, packed, C.data(), 1), Error);  // ldc < N
  const std::vector<int8_t> q = {1, 2, 3, 4}, q_min = {1, -128};
  const std::vector<float> x = {0, std::numeric_limits<float>::quiet_NaN()};
  const DynamicQuantLinear layer = dynamic_quant_linear_from_int8(2, 2, q.data(), {0.5f}, nullptr);
  std::vector<float> y(2);
  EXPECT_THROW(dynamic_quant_linear(layer, 1, x.data(), y.data()), Error);
  EXPECT_THROW(dynamic_quant_linear_from_int8(1, 2, q_min.data(), {0.5f}, nullptr), Error);
  EXPECT_THROW(dynamic_quant_linear_from_int8(1, 2, q.data(), {0.0f}, nullptr), Error);
  EXPECT_THROW(dynamic_quant_linear_from_int8(2, 2, q.data(), {0.5f, 1, 1}, nullptr), Error);
}

}  // namespace
}  // namespace tinytorch::kernels
