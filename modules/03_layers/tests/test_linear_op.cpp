// Module 03 — the fused linear op (Part 3): tinytorch::linear / native::linear against a naive
// double-precision loop and against matmul + bias, on both kernel tiers: 2-d, batched 3-d and
// 4-d inputs, 1-d input, no bias, broadcast bias, non-contiguous inputs and weights, float64,
// int64, empty dims, and the error messages.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers_test_util.h"
#include "tinytorch/native/linear.h"

namespace tinytorch {
namespace {

using I = std::vector<int64_t>;
using kernels::Tier;
using test::naive_linear;
using test::tensors_match;
using test::TierGuard;

constexpr Tier kTiers[] = {Tier::kReference, Tier::kFast};

// float32 sums of K products in any order differ from the double result by about K·eps·|terms|.
double f32_tol(int64_t K) {
  return 1e-6 * static_cast<double>(K + 4);
}

struct Shape {
  I x;
  int64_t out;
  bool bias;
};

TEST(LinearOp, MatchesNaiveLoopOnBothTiers) {
  const std::vector<Shape> shapes = {
      {{4, 5}, 3, true},     {{4, 5}, 3, false},     {{2, 3, 6}, 4, true},  {{2, 2, 3, 3}, 2, true},
      {{7}, 3, true},        {{1, 7}, 5, true},      {{3, 1}, 1, true},     {{64, 33}, 17, true},
      {{5, 100}, 70, false}, {{2, 5, 16}, 9, false}, {{130, 70}, 65, true}, {{1, 1}, 1, false},
  };
  Generator gen(3);
  for (const Tier tier : kTiers) {
    const TierGuard guard(tier);
    for (const auto& s : shapes) {
      const int64_t K = s.x.back();
      const Tensor x = randn(s.x, kFloat32, &gen);
      const Tensor w = randn({s.out, K}, kFloat32, &gen);
      const Tensor b = s.bias ? randn({s.out}, kFloat32, &gen) : Tensor();
      const Tensor y = linear(x, w, b);
      EXPECT_EQ(y.dtype(), kFloat32);
      EXPECT_TRUE(y.is_contiguous());
      EXPECT_TRUE(tensors_match(y.to(kFloat64), naive_linear(x, w, b), f32_tol(K), f32_tol(K)))
          << "tier " << test::tier_name(tier) << ", x " << test::shape_str(s.x) << ", out " << s.out
          << (s.bias ? "" : ", no bias");
      // native::linear (what the public op calls) gives the same.
      EXPECT_TRUE(tensors_match(native::linear(x, w, b), y, 0, 0));
    }
  }
}

TEST(LinearOp, FusedEqualsMatmulPlusBias) {
  // The fused kernel and the unfused two-step computation agree (up to summation order).
  Generator gen(5);
  for (const Tier tier : kTiers) {
    const TierGuard guard(tier);
    for (const I& xs : {I{8, 12}, I{3, 4, 12}, I{12}}) {
      const Tensor x = randn(xs, kFloat32, &gen);
      const Tensor w = randn({6, 12}, kFloat32, &gen);
      const Tensor b = randn({6}, kFloat32, &gen);
      const Tensor unfused = matmul(x, w.t()) + b;
      EXPECT_TRUE(tensors_match(linear(x, w, b), unfused, 1e-5, 1e-5))
          << "tier " << test::tier_name(tier) << ", x " << test::shape_str(xs);
      EXPECT_TRUE(tensors_match(linear(x, w), matmul(x, w.t()), 1e-5, 1e-5));
    }
  }
}

TEST(LinearOp, NonContiguousInputsAndWeight) {
  Generator gen(7);
  for (const Tier tier : kTiers) {
    const TierGuard guard(tier);
    const Tensor base = randn({9, 6}, kFloat32, &gen);
    const Tensor w_base = randn({5, 9}, kFloat32, &gen);
    const Tensor b_base = randn({10}, kFloat32, &gen);
    // x: a transposed view [6, 9]; a strided slice; a permuted 3-d view.
    const Tensor xt = base.t();
    const Tensor xs = randn({8, 18}, kFloat32, &gen).slice(1, 0, 18, 2);    // [8, 9], stride 2
    const Tensor x3 = randn({9, 2, 3}, kFloat32, &gen).permute({1, 2, 0});  // [2, 3, 9]
    const Tensor w = w_base;                                                // [5, 9] contiguous
    const Tensor wt = randn({9, 5}, kFloat32, &gen).t();                    // [5, 9] transposed
    const Tensor b = b_base.slice(0, 0, 10, 2);                             // [5], stride 2
    for (const Tensor& x : {xt, xs, x3}) {
      for (const Tensor& weight : {w, wt}) {
        EXPECT_TRUE(tensors_match(linear(x, weight, b).to(kFloat64), naive_linear(x, weight, b),
                                  f32_tol(9), f32_tol(9)))
            << "tier " << test::tier_name(tier) << ", x " << test::shape_str(x.sizes())
            << " strides " << test::shape_str(x.strides()) << ", weight strides "
            << test::shape_str(weight.strides());
      }
    }
    // The inputs were not modified (the op never writes into its operands).
    EXPECT_TRUE(xt.equal(base.t()));
    EXPECT_TRUE(w.equal(w_base));
  }
}

TEST(LinearOp, BroadcastBias) {
  // Like PyTorch's addmm, a bias of shape [1] or [] is broadcast over all outputs.
  const Tensor x = tensor({{1.0, 2.0}, {3.0, 4.0}});
  const Tensor w = tensor({{1.0, 0.0}, {0.0, 1.0}, {1.0, 1.0}});
  for (const Tier tier : kTiers) {
    const TierGuard guard(tier);
    for (const Tensor& b : {tensor({10.0}), full({}, 10.0)}) {
      const Tensor y = linear(x, w, b);
      EXPECT_EQ(test::values_as_double(y), (std::vector<double>{11, 12, 13, 13, 14, 17}));
    }
  }
}

TEST(LinearOp, Float64AndInt64) {
  Generator gen(11);
  for (const Tier tier : kTiers) {
    const TierGuard guard(tier);
    const Tensor x = randn({6, 40}, kFloat64, &gen);
    const Tensor w = randn({7, 40}, kFloat64, &gen);
    const Tensor b = randn({7}, kFloat64, &gen);
    const Tensor y = linear(x, w, b);
    EXPECT_EQ(y.dtype(), kFloat64);
    EXPECT_TRUE(tensors_match(y, naive_linear(x, w, b), 1e-12, 1e-12));
    // Integers have no fast GEMM: the reference path serves them, exactly.
    const Tensor xi = tensor({{1, 2, 3}, {4, 5, 6}});
    const Tensor wi = tensor({{1, 0, -1}, {2, 1, 0}});
    const Tensor bi = tensor({100, -100});
    const Tensor yi = linear(xi, wi, bi);
    EXPECT_EQ(yi.dtype(), kInt64);
    EXPECT_EQ(test::values_as_int(yi), (std::vector<int64_t>{98, -96, 98, -87}));
  }
}

TEST(LinearOp, EmptyAndSizeOneDims) {
  for (const Tier tier : kTiers) {
    const TierGuard guard(tier);
    // No rows: [0, 3] → [0, 2].
    Tensor y = linear(zeros({0, 3}), ones({2, 3}), ones({2}));
    EXPECT_EQ(y.sizes().vec(), (I{0, 2}));
    y = linear(zeros({2, 0, 3}), ones({2, 3}), ones({2}));
    EXPECT_EQ(y.sizes().vec(), (I{2, 0, 2}));
    // No input features: the product is empty, so y is the bias in every row (0 without bias).
    y = linear(zeros({2, 0}), zeros({3, 0}), tensor({1.0, 2.0, 3.0}));
    EXPECT_EQ(y.sizes().vec(), (I{2, 3}));
    EXPECT_EQ(test::values_as_double(y), (std::vector<double>{1, 2, 3, 1, 2, 3}));
    y = linear(zeros({2, 0}), zeros({3, 0}));
    EXPECT_EQ(test::values_as_double(y), (std::vector<double>(6, 0.0)));
    // No outputs.
    y = linear(ones({4, 3}), zeros({0, 3}), zeros({0}));
    EXPECT_EQ(y.sizes().vec(), (I{4, 0}));
    // Everything of size 1, and a 1-d input.
    EXPECT_EQ(linear(tensor({{2.0}}), tensor({{3.0}}), tensor({1.0})).item<double>(), 7.0);
    y = linear(tensor({1.0, 2.0}), tensor({{1.0, 1.0}, {2.0, -1.0}}), tensor({0.5, 0.5}));
    EXPECT_EQ(y.sizes().vec(), I{2});
    EXPECT_EQ(test::values_as_double(y), (std::vector<double>{3.5, 0.5}));
  }
}

TEST(LinearOp, FastTierIsOneGemmWithoutTransposedCopy) {
  // On the fast tier the only tensor memory linear allocates is its output (the bias is written
  // into it, W is read in place): measured through the allocator's statistics.
  const TierGuard guard(Tier::kFast);
  if (kernels::fast_kernels().sgemm == nullptr) GTEST_SKIP() << "no fast GEMM registered";
  const Tensor x = randn({64, 128}), w = randn({96, 128}), b = randn({96});
  Allocator* alloc = get_allocator();
  const int64_t before = alloc->stats().allocation_count;
  const Tensor y = linear(x, w, b);
  EXPECT_EQ(alloc->stats().allocation_count - before, 1) << "expected only the output";
  EXPECT_TRUE(tensors_match(y.to(kFloat64), naive_linear(x, w, b), f32_tol(128), f32_tol(128)));
}

TEST(LinearOp, ShapeErrorsInPyTorchWords) {
  // The messages of tests/data/module03_reference.json's "linear_errors", written by PyTorch.
  for (const auto& c : test::module03_reference().at("linear_errors")) {
    const Tensor x = zeros(test::int_list(c.at("input_shape")));
    const Tensor w = zeros(test::int_list(c.at("weight_shape")));
    const std::string msg = c.at("torch").get<std::string>();
    TT_EXPECT_THROW_WITH(linear(x, w), Error, msg);
  }
}

TEST(LinearOp, OtherErrors) {
  const Tensor x = zeros({2, 3}), w = zeros({4, 3});
  TT_EXPECT_THROW_WITH(linear(zeros({}), w), Error, "linear", "0-d");
  TT_EXPECT_THROW_WITH(linear(x, zeros({3})), Error, "weight must be 2-D", "[3]");
  TT_EXPECT_THROW_WITH(linear(x, w, zeros({5})), Error, "bias", "[5]", "[4]");
  TT_EXPECT_THROW_WITH(linear(x, w, zeros({2, 4})), Error, "bias", "[2, 4]");
  TT_EXPECT_THROW_WITH(linear(x, w.to(kFloat64)), TypeError, "same dtype", "float32", "float64");
  TT_EXPECT_THROW_WITH(linear(x, w, zeros({4}, kFloat64)), TypeError, "bias", "float64");
  TT_EXPECT_THROW_WITH(linear(x.to(kBool), w.to(kBool)), TypeError, "bool");
  TT_EXPECT_THROW_WITH(linear(Tensor(), w), Error, "undefined");
}

}  // namespace
}  // namespace tinytorch
