// Module 18 — hidden (grader) tests: the registration is exactly the library's fast tier, matmul
// agrees across tiers on random shapes and random operand layouts, and the caching allocator
// reaches a steady state with no misses and gets back every block it handed out, whichever tier
// is in force when a tensor dies. Seeds are fixed; a failure names its trial. The checks are
// graded ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <sstream>
#include <string>

#include "support/graded.h"
#include "support/reference.h"
#include "tinytorch/core/caching_allocator.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/kernels/softmax.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using kernels::Tier;

using kernels::TierGuard;

TEST(HiddenRegistry, FastTierRegistersTheLibrarysGemmFast) {
  const TierGuard fast(Tier::kFast);
  const kernels::FastKernels& k = kernels::fast_kernels();
  TT_GRADE_TRUE(k.sgemm == static_cast<kernels::GemmFn<float>>(&kernels::gemm_fast));
  TT_GRADE_TRUE(k.dgemm == static_cast<kernels::GemmFn<double>>(&kernels::gemm_fast));
  TT_GRADE_TRUE(k.caching_allocator);
}

TEST(HiddenRegistry, FastTierRegistersTheLibrarysSoftmaxKernels) {
  const TierGuard fast(Tier::kFast);
  const kernels::SoftmaxKernels& k = kernels::fast_kernels().softmax;
  TT_GRADE_TRUE(k.softmax == &kernels::softmax_fast);
  TT_GRADE_TRUE(k.log_softmax == &kernels::log_softmax_fast);
  TT_GRADE_TRUE(k.softmax_backward == &kernels::softmax_backward_fast);
  TT_GRADE_TRUE(k.log_softmax_backward == &kernels::log_softmax_backward_fast);
}

// Every other entry holds exactly the given kernel of its name (not some other function that
// happens to be non-null).
TEST(HiddenRegistry, EveryEntryHoldsTheGivenFastKernel) {
  const TierGuard fast(Tier::kFast);
  const kernels::FastKernels& k = kernels::fast_kernels();
  const kernels::SpatialKernels& sp = k.spatial;
  TT_GRADE_TRUE(sp.conv2d_forward == &kernels::conv2d_forward_fast);
  TT_GRADE_TRUE(sp.conv2d_backward_input == &kernels::conv2d_backward_input_fast);
  TT_GRADE_TRUE(sp.conv2d_backward_weight == &kernels::conv2d_backward_weight_fast);
  TT_GRADE_TRUE(sp.max_pool2d_forward == &kernels::max_pool2d_forward_fast);
  TT_GRADE_TRUE(sp.max_pool2d_backward == &kernels::max_pool2d_backward_fast);
  TT_GRADE_TRUE(sp.batch_norm_stats == &kernels::batch_norm_stats_fast);
  TT_GRADE_TRUE(sp.batch_norm_apply == &kernels::batch_norm_apply_fast);
  TT_GRADE_TRUE(sp.batch_norm_backward_reduce == &kernels::batch_norm_backward_reduce_fast);
  TT_GRADE_TRUE(sp.batch_norm_backward_apply == &kernels::batch_norm_backward_apply_fast);
  TT_GRADE_TRUE(k.attention.forward == &kernels::attention_forward_fast);
  TT_GRADE_TRUE(k.attention.backward == &kernels::attention_backward_fast);
  TT_GRADE_TRUE(k.activation.gelu == &kernels::gelu_fast);
  TT_GRADE_TRUE(k.activation.gelu_backward == &kernels::gelu_backward_fast);
  TT_GRADE_TRUE(k.activation.gelu_tanh == &kernels::gelu_tanh_fast);
  TT_GRADE_TRUE(k.activation.gelu_tanh_backward == &kernels::gelu_tanh_backward_fast);
  TT_GRADE_TRUE(k.activation.sigmoid == &kernels::sigmoid_fast);
  TT_GRADE_TRUE(k.activation.sigmoid_backward == &kernels::sigmoid_backward_fast);
  TT_GRADE_TRUE(k.activation.tanh == &kernels::tanh_fast);
  TT_GRADE_TRUE(k.activation.tanh_backward == &kernels::tanh_backward_fast);
  TT_GRADE_TRUE(k.normalization.layer_norm_forward == &kernels::layer_norm_forward_fast);
  TT_GRADE_TRUE(k.normalization.layer_norm_backward == &kernels::layer_norm_backward_fast);
  TT_GRADE_TRUE(k.qgemm.pack == &kernels::pack_int8_weight_fast);
  TT_GRADE_TRUE(k.qgemm.minmax == &kernels::minmax_fast);
  TT_GRADE_TRUE(k.qgemm.quantize == &kernels::quantize_fast);
  TT_GRADE_TRUE(k.qgemm.dequantize == &kernels::dequantize_fast);
}

// An M × K operand laid out one of four ways: contiguous, a transposed view of a K × M tensor, a
// strided slice of a bigger tensor, or a narrow() with a row stride larger than its width.
Tensor random_operand(std::mt19937_64& rng, int64_t rows, int64_t cols, ScalarType dtype,
                      std::string& how) {
  std::uniform_int_distribution<int> layout(0, 3);
  Generator gen(rng());
  switch (layout(rng)) {
    case 0:
      how = "contiguous";
      return randn({rows, cols}, dtype, &gen);
    case 1:
      how = "transposed";
      return randn({cols, rows}, dtype, &gen).t();
    case 2:
      how = "step-2 slices";
      return randn({2 * rows, 2 * cols}, dtype, &gen)
          .slice(0, 0, 2 * rows, 2)
          .slice(1, 1, 2 * cols, 2);
    default:
      how = "narrowed";
      return randn({rows, cols + 5}, dtype, &gen).narrow(1, 3, cols);
  }
}

TEST(HiddenMatmul, RandomShapesAndLayoutsAgreeAcrossTiers) {
  std::mt19937_64 rng(2018);
  std::uniform_int_distribution<int64_t> size(0, 300), small(0, 9), pick(0, 2);
  for (int trial = 0; trial < 60; ++trial) {
    // A third of the dims are tiny (0 … 9): the edges of every tile and block.
    auto dim = [&] { return pick(rng) == 0 ? small(rng) : size(rng); };
    const int64_t M = dim(), K = dim(), N = dim();
    const ScalarType dtype = trial % 3 == 0 ? kFloat64 : kFloat32;
    std::string how_a, how_b;
    const Tensor a = random_operand(rng, M, K, dtype, how_a);
    const Tensor b = random_operand(rng, K, N, dtype, how_b);
    Tensor reference, fast;
    {
      const TierGuard g(Tier::kReference);
      reference = matmul(a, b);
    }
    {
      const TierGuard g(Tier::kFast);
      fast = matmul(a, b);
    }
    const double tol = (dtype == kFloat32 ? 2e-6 : 1e-14) * static_cast<double>(K + 4);
    // Both tiers against the reference solution's reference tier.
    TT_GRADE_SAME_AS_REFERENCE(reference, tol, tol);
    TT_GRADE_TENSOR(fast, reference, tol, tol)
        << "trial " << trial << ": [" << M << ", " << K << "] (" << how_a << ") @ [" << K << ", "
        << N << "] (" << how_b << "), " << dtype;
  }
}

TEST(HiddenAllocator, RepeatedStepsReachASteadyStateWithNoMisses) {
  const TierGuard fast(Tier::kFast);
  ASSERT_EQ(get_allocator(), &caching_allocator());
  Generator gen(5);
  const Tensor x = randn({33, 70}, kFloat32, &gen), w = randn({70, 45}, kFloat32, &gen);
  const Tensor bias = randn({45}, kFloat32, &gen);
  auto step = [&] { return ((matmul(x, w) + bias) * 0.5).sum().item<double>(); };
  const double first = step();
  const CachingAllocatorStats before = caching_allocator().caching_stats();
  for (int i = 0; i < 20; ++i) TT_GRADE_EQ(step() - first, 0.0) << "step " << i;
  const CachingAllocatorStats after = caching_allocator().caching_stats();
  TT_GRADE_EQ(after.misses - before.misses, 0) << "every block of a repeated step should be a hit";
  TT_GRADE_GT(after.hits - before.hits, 0);
  TT_GRADE_SAME_AS_REFERENCE(first, 1e-5, 1e-5);
}

TEST(HiddenAllocator, BlocksComeBackEvenWhenTheTierChangedMeanwhile) {
  const TierGuard fast(Tier::kFast);
  const int64_t in_use = caching_allocator().caching_stats().bytes_in_use;
  Tensor made_on_fast = empty({1000, 3}, kFloat64);
  TT_GRADE_EQ(caching_allocator().caching_stats().bytes_in_use - in_use,
              static_cast<int64_t>(CachingAllocator::round_size(24000)));
  {
    const TierGuard reference(Tier::kReference);
    const Tensor made_on_reference = empty({1000, 3}, kFloat64);
    TT_GRADE_EQ(caching_allocator().caching_stats().bytes_in_use - in_use,
                static_cast<int64_t>(CachingAllocator::round_size(24000)))
        << "the reference tier allocates from the plain allocator";
    made_on_fast = Tensor();  // freed to the allocator that made it: the caching one
    TT_GRADE_EQ(caching_allocator().caching_stats().bytes_in_use - in_use, 0);
  }
}

}  // namespace
}  // namespace tinytorch
