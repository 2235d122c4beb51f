// The fast tier's 16-bit element-wise paths that never hold a float32 copy of a whole tensor:
// GELU forward and backward widen L1-sized blocks, run the float32 SIMD kernel on them and round
// each block once (native/opmath.h, map_blocks); the float32 ↔ 16-bit casts split over threads.
// The rule they must keep (docs/ARCHITECTURE.md, "Mixed precision"): the result is, bit for bit,
// the float32 op on the widened inputs rounded once — at every instruction-set level the
// environment can force (TINYTORCH_CPU_CAPABILITY), for sizes with vector tails, sizes that
// cross a block and sizes large enough to be split over threads.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/gemm.h"
#include "tinytorch/kernels/half.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/tinytorch.h"

namespace {

namespace tt = tinytorch;

// TINYTORCH_CPU_CAPABILITY for the scope of a test (the kernels read it on every call).
class CapabilityGuard {
 public:
  explicit CapabilityGuard(const char* level) { setenv("TINYTORCH_CPU_CAPABILITY", level, 1); }
  ~CapabilityGuard() { unsetenv("TINYTORCH_CPU_CAPABILITY"); }
  CapabilityGuard(const CapabilityGuard&) = delete;
  CapabilityGuard& operator=(const CapabilityGuard&) = delete;
};

std::vector<const char*> levels() {
  std::vector<const char*> out = {"default"};
  const tt::kernels::CpuCapability best = tt::kernels::get_cpu_capability();
  if (best >= tt::kernels::CpuCapability::kAvx2) out.push_back("avx2");
  if (best >= tt::kernels::CpuCapability::kAvx512) out.push_back("avx512");
  return out;
}

// Values in about [-4, 4] (GELU's curved part and both tails), rounded to dtype.
tt::Tensor pattern(int64_t n, double seed, tt::ScalarType dtype) {
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
        const tt::Tensor x = pattern(n, 0.1, dtype), g = pattern(n, 2.3, dtype);
        const tt::Tensor x32 = x.to(tt::kFloat32), g32 = g.to(tt::kFloat32);
        expect_same_bits(tt::native::gelu(x, approximate),
                         tt::native::gelu(x32, approximate).to(dtype), "gelu, " + what);
        expect_same_bits(tt::native::gelu_backward(g, x, approximate),
                         tt::native::gelu_backward(g32, x32, approximate).to(dtype),
                         "gelu_backward, " + what);
      }
    }
    // A strided input (a transposed view) and a gradient of another dtype take their copies.
    const tt::Tensor x = pattern(37 * 29, 0.5, dtype).reshape({37, 29}).t();
    const tt::Tensor g32 = pattern(37 * 29, 1.7, tt::kFloat32).reshape({29, 37});
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

INSTANTIATE_TEST_SUITE_P(Dtypes, LowpFused, ::testing::Values(tt::kBFloat16, tt::kHalf),
                         [](const auto& info) {
                           return info.param == tt::kBFloat16 ? std::string("BFloat16")
                                                              : std::string("Half");
                         });

}  // namespace
