// The fast tier's 16-bit element-wise paths that never hold a float32 copy of a whole tensor:
// GELU forward and backward widen L1-sized blocks, run the float32 SIMD kernel on them and round
// each block once (native/opmath.h, map_blocks); the float32 ↔ 16-bit casts split over threads,
// flat between like-laid-out dense tensors; attention widens heads that are views of one
// projection in one pass (opmath::widen_views); a sum over leading dims reads 16-bit in place.
// The rule they must keep (docs/ARCHITECTURE.md, "Mixed precision"): the result is, bit for bit,
// the float32 op on the widened inputs rounded once — at every instruction-set level the
// environment can force (TINYTORCH_CPU_CAPABILITY), for sizes with vector tails, sizes that
// cross a block and sizes large enough to be split over threads.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "capability_guard.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/half.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/native/attention.h"
#include "tinytorch/tinytorch.h"

namespace {

namespace tt = tinytorch;
using tt::amp_tests::CapabilityGuard;

std::vector<const char*> levels() {
  std::vector<const char*> out = {"default"};
  const tt::kernels::CpuCapability best = tt::kernels::get_cpu_capability();
  if (best >= tt::kernels::CpuCapability::kAvx2) out.push_back("avx2");
  if (best >= tt::kernels::CpuCapability::kAvx512) out.push_back("avx512");
  return out;
}

// Values in about [-4, 4] (GELU's curved part and both tails), rounded to dtype.
tt::Tensor sine_row(int64_t n, double seed, tt::ScalarType dtype) {
  return tt::sin(tt::arange(n, tt::kFloat64).mul(0.37).add(seed)).mul(4.0).to(dtype);
}

// Bit-for-bit equality of two tensors of one 16-bit dtype (no NaNs in these inputs).
void expect_same_bits(const tt::Tensor& got, const tt::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const tt::Tensor a = got.contiguous(), b = want.contiguous();
  const auto* pa = static_cast<const uint16_t*>(a.data_ptr());
  const auto* pb = static_cast<const uint16_t*>(b.data_ptr());
  int64_t bad = 0, first = -1;
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (pa[i] != pb[i] && bad++ == 0) first = i;
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " elements differ, the first at " << first;
}

// 1 and 15 (a tail only), 33 (vectors and a tail), 2049 and 4099 (past a 2048-element block),
// 200003 (several blocks on each of several threads: above the 65536-element grain).
const std::vector<int64_t> kSizes = {1, 15, 33, 2049, 4099, 200003};

class LowpFused : public ::testing::TestWithParam<tt::ScalarType> {};

TEST_P(LowpFused, GeluIsTheFloat32KernelRoundedOnce) {
  const tt::ScalarType dtype = GetParam();
  const int previous_threads = tt::get_num_threads();
  tt::set_num_threads(2);
  for (const char* level : levels()) {
    const CapabilityGuard guard(level);
    for (const char* approximate : {"none", "tanh"}) {
      for (const int64_t n : kSizes) {
        const std::string what =
            std::string(level) + ", approximate " + approximate + ", n " + std::to_string(n);
        const tt::Tensor x = sine_row(n, 0.1, dtype), g = sine_row(n, 2.3, dtype);
        const tt::Tensor x32 = x.to(tt::kFloat32), g32 = g.to(tt::kFloat32);
        expect_same_bits(tt::native::gelu(x, approximate),
                         tt::native::gelu(x32, approximate).to(dtype), "gelu, " + what);
        expect_same_bits(tt::native::gelu_backward(g, x, approximate),
                         tt::native::gelu_backward(g32, x32, approximate).to(dtype),
                         "gelu_backward, " + what);
      }
    }
    // A strided input (a transposed view) and a gradient of another dtype take their copies.
    const tt::Tensor x = sine_row(37 * 29, 0.5, dtype).reshape({37, 29}).t();
    const tt::Tensor g32 = sine_row(37 * 29, 1.7, tt::kFloat32).reshape({29, 37});
    expect_same_bits(tt::native::gelu(x, "none"),
                     tt::native::gelu(x.to(tt::kFloat32), "none").to(dtype),
                     std::string("gelu of a transposed view, ") + level);
    expect_same_bits(tt::native::gelu_backward(g32, x, "none"),
                     tt::native::gelu_backward(g32, x.to(tt::kFloat32), "none").to(dtype),
                     std::string("gelu_backward with a float32 grad, ") + level);
  }
  tt::set_num_threads(previous_threads);
}

TEST_P(LowpFused, CastsSplitOverThreadsKeepTheBits) {
  const tt::ScalarType dtype = GetParam();
  const int previous_threads = tt::get_num_threads();
  for (const int threads : {1, 2}) {
    tt::set_num_threads(threads);
    for (const int64_t n : kSizes) {
      // Values that round (float32 with more bits than dtype keeps), both ways.
      const tt::Tensor wide = tt::sin(tt::arange(n, tt::kFloat32).mul(0.731f)).mul(3.0f);
      const tt::Tensor narrow = wide.to(dtype);
      // Each value through the scalar reference conversions, one at a time.
      std::vector<float> want;
      for (const float v : wide.to_vector<float>()) {
        want.push_back(
            dtype == tt::kBFloat16
                ? tt::kernels::bf16_to_float_reference(tt::kernels::float_to_bf16_reference(v))
                : tt::kernels::half_to_float_reference(tt::kernels::float_to_half_reference(v)));
      }
      EXPECT_EQ(narrow.to(tt::kFloat32).to_vector<float>(), want) << threads << " threads, n " << n;
    }
    // Views (a head of a fused q, k, v projection, permuted) take the generic loop: the same
    // values as through float64 (exact both ways).
    const tt::Tensor base = tt::sin(tt::arange(300 * 4 * 96, tt::kFloat32)).reshape({300, 4, 96});
    for (const tt::Tensor& view :
         {base.to(dtype).narrow(2, 32, 33).permute({1, 0, 2}), base.to(dtype).narrow(2, 1, 7)}) {
      EXPECT_EQ(view.to(tt::kFloat32).to_vector<float>(),
                view.to(tt::kFloat64).to(tt::kFloat32).to_vector<float>())
          << threads << " threads, a view of shape " << view.sizes();
    }
  }
  tt::set_num_threads(previous_threads);
}

TEST_P(LowpFused, CopiesBetweenLikeLaidOutDenseTensorsRunFlat) {
  // float32 <-> 16-bit between two tensors with the same strides, both dense (the same
  // permutation of a whole buffer: attention's output rounded into its query-ordered buffer) run
  // as one flat conversion; the values are those of the contiguous conversion, whatever the
  // layout. A destination of other strides (the generic loop) gives them too.
  const tt::ScalarType dtype = GetParam();
  const int previous_threads = tt::get_num_threads();
  for (const int threads : {1, 2}) {
    tt::set_num_threads(threads);
    for (const std::vector<int64_t>& sizes :
         {std::vector<int64_t>{3, 5, 7}, std::vector<int64_t>{8, 190, 64}}) {  // 105; > the grain
      const int64_t n = sizes[0] * sizes[1] * sizes[2];
      const tt::Tensor wide =
          tt::sin(tt::arange(n, tt::kFloat32).mul(0.731f)).mul(3.0f).reshape(sizes);
      const tt::Tensor src = wide.permute({2, 0, 1});  // dense, not contiguous
      const std::string what = std::to_string(threads) + " threads, n " + std::to_string(n);
      tt::Tensor narrow = tt::empty({sizes[0], sizes[1], sizes[2]}, dtype).permute({2, 0, 1});
      ASSERT_EQ(narrow.strides(), src.strides());
      narrow.copy_(src);
      expect_same_bits(narrow, src.contiguous().to(dtype), "float32 -> 16-bit, " + what);
      tt::Tensor back = tt::empty({sizes[0], sizes[1], sizes[2]}).permute({2, 0, 1});
      back.copy_(narrow);
      EXPECT_TRUE(back.equal(narrow.contiguous().to(tt::kFloat32)))
          << "16-bit -> float32, " << what;
      tt::Tensor contiguous = tt::empty(src.sizes(), dtype);
      contiguous.copy_(src);
      expect_same_bits(contiguous, narrow, "into other strides, " + what);
    }
  }
  tt::set_num_threads(previous_threads);
}

TEST_P(LowpFused, AttentionWidensSharedHeadsOnceAndKeepsTheBits) {
  // scaled_dot_product_attention on 16-bit heads, forward and backward, is the float32 op on the
  // widened inputs rounded once — bit for bit the same whether q, k and v are views of one
  // projection (widened together in one pass, the float32 heads views of it), copies of their
  // own (each widened into a contiguous copy), or one tensor passed three times.
  const tt::ScalarType dtype = GetParam();
  const int64_t B = 2, T = 9, H = 3, hd = 8;
  const int previous_threads = tt::get_num_threads();
  tt::manual_seed(0);
  const tt::Tensor proj = tt::randn({B, T, 3, H, hd}).to(dtype);
  const std::vector<tt::Tensor> shared = proj.permute({2, 0, 3, 1, 4}).unbind(0);
  const std::vector<tt::Tensor> own = {shared[0].clone(), shared[1].clone(), shared[2].clone()};
  const std::vector<tt::Tensor> same = {own[0], own[0], own[0]};
  const tt::Tensor grad = tt::randn({B, H, T, hd})
                              .to(dtype)
                              .transpose(1, 2)
                              .contiguous()
                              .transpose(1, 2);  // dense, laid out like the output
  for (const int threads : {1, 2}) {
    tt::set_num_threads(threads);
    for (const auto& [name, qkv] :
         {std::pair{"shared", shared}, std::pair{"own", own}, std::pair{"same", same}}) {
      const std::string what = std::string(name) + ", " + std::to_string(threads) + " threads";
      const auto wide = [](const tt::Tensor& t) { return t.to(tt::kFloat32); };  // contiguous
      const auto [out, lse] = tt::native::scaled_dot_product_attention_forward(
          qkv[0], qkv[1], qkv[2], {}, {}, /*is_causal=*/true, 0.25);
      const auto [out32, lse32] = tt::native::scaled_dot_product_attention_forward(
          wide(qkv[0]), wide(qkv[1]), wide(qkv[2]), {}, {}, true, 0.25);
      expect_same_bits(out, out32.to(dtype), "forward, " + what);
      EXPECT_TRUE(lse.equal(lse32)) << what;
      const auto grads = tt::native::scaled_dot_product_attention_backward(
          grad, qkv[0], qkv[1], qkv[2], {}, {}, out, lse, true, 0.25, {true, true, true, false});
      const auto grads32 = tt::native::scaled_dot_product_attention_backward(
          wide(grad), wide(qkv[0]), wide(qkv[1]), wide(qkv[2]), {}, {}, wide(out), lse, true, 0.25,
          {true, true, true, false});
      expect_same_bits(std::get<0>(grads), std::get<0>(grads32).to(dtype), "grad q, " + what);
      expect_same_bits(std::get<1>(grads), std::get<1>(grads32).to(dtype), "grad k, " + what);
      expect_same_bits(std::get<2>(grads), std::get<2>(grads32).to(dtype), "grad v, " + what);
    }
  }
  tt::set_num_threads(previous_threads);
}

TEST_P(LowpFused, LeadingSumReadsSixteenBitInPlace) {
  // A bias gradient's sum over the rows of a 16-bit [R, N] reads it in place: the float32 sum of
  // the widened values (accumulated as the float32 sum is), rounded once.
  const tt::ScalarType dtype = GetParam();
  const int previous_threads = tt::get_num_threads();
  for (const int threads : {1, 2}) {
    tt::set_num_threads(threads);
    for (const std::vector<int64_t>& sizes :
         {std::vector<int64_t>{3, 5}, std::vector<int64_t>{2048, 384},
          std::vector<int64_t>{4, 3, 7}}) {
      const int64_t n = sizes[0] * sizes[1] * (sizes.size() > 2 ? sizes[2] : 1);
      const tt::Tensor x =
          tt::sin(tt::arange(n, tt::kFloat32).mul(0.731f)).mul(3.0f).reshape(sizes).to(dtype);
      for (const bool keepdim : {false, true}) {
        const std::string what = std::to_string(threads) + " threads, " +
                                 std::to_string(sizes.size()) + "-d, keepdim " +
                                 std::to_string(keepdim) + ", n " + std::to_string(n);
        const std::vector<int64_t> dims =
            sizes.size() > 2 ? std::vector<int64_t>{0, 1} : std::vector<int64_t>{0};
        expect_same_bits(x.sum(dims, keepdim), x.to(tt::kFloat32).sum(dims, keepdim).to(dtype),
                         what);
      }
    }
  }
  tt::set_num_threads(previous_threads);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LowpFused, ::testing::Values(tt::kBFloat16, tt::kHalf),
                         [](const auto& info) {
                           return info.param == tt::kBFloat16 ? std::string("BFloat16")
                                                              : std::string("Half");
                         });

}  // namespace
