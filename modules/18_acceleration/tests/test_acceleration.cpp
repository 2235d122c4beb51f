// Module 18 — the fast tier's wiring: what register_fast_kernels() registers
// (tinytorch/src/kernels/fast_registry.cpp: every one of its 33 entries), the registry's report of
// which code runs, switching between the reference and the fast tier,
// matmul agreeing across tiers on awkward shapes and layouts, and the caching allocator's
// statistics and its huge-page blocks. The GEMM kernel itself is tested against naive loops in
// tests/kernels/test_gemm_fast.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/reference.h"
#include "tinytorch/core/caching_allocator.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using kernels::Tier;

using kernels::TierGuard;

constexpr const char* kHint =
    "register_fast_kernels() in tinytorch/src/kernels/fast_registry.cpp must register it "
    "(modules/18_acceleration/README.md, \"What you write\")";

// ── the registry ─────────────────────────────────────────────────────────────────────────────

TEST(Registry, FastTierHasSgemmDgemmAndTheCachingAllocator) {
  const TierGuard fast(Tier::kFast);
  const kernels::FastKernels& k = kernels::fast_kernels();
  EXPECT_NE(k.sgemm, nullptr) << "no float32 GEMM on the fast tier: " << kHint;
  EXPECT_NE(k.dgemm, nullptr) << "no float64 GEMM on the fast tier: " << kHint;
  EXPECT_TRUE(k.caching_allocator) << "the caching allocator is not requested: " << kHint;
  EXPECT_EQ(get_allocator(), &caching_allocator())
      << "new tensors on the fast tier should come from the caching allocator";
}

// One registry entry: its member in FastKernels, whether it is filled, and the given kernel the
// chapter's Part 9 assigns to it.
struct EntryCheck {
  const char* member;
  bool registered;
  const char* assign;
};

// NOTE: every entry is listed here by hand, not taken from kernels::which_code_runs(): deleting
// any one line of register_fast_kernels must fail this test (a mutation check), whatever the
// report's own table says.
TEST(Registry, EveryFastKernelEntryIsRegistered) {
  const TierGuard fast(Tier::kFast);
  const kernels::FastKernels& k = kernels::fast_kernels();
  const kernels::SpatialKernels& sp = k.spatial;
  const std::vector<EntryCheck> entries = {
      {"sgemm", k.sgemm != nullptr, "gemm_fast"},
      {"dgemm", k.dgemm != nullptr, "gemm_fast"},
      {"spatial.conv2d_forward", sp.conv2d_forward != nullptr, "conv2d_forward_fast"},
      {"spatial.conv2d_backward_input", sp.conv2d_backward_input != nullptr,
       "conv2d_backward_input_fast"},
      {"spatial.conv2d_backward_weight", sp.conv2d_backward_weight != nullptr,
       "conv2d_backward_weight_fast"},
      {"spatial.max_pool2d_forward", sp.max_pool2d_forward != nullptr, "max_pool2d_forward_fast"},
      {"spatial.max_pool2d_backward", sp.max_pool2d_backward != nullptr,
       "max_pool2d_backward_fast"},
      {"spatial.batch_norm_stats", sp.batch_norm_stats != nullptr, "batch_norm_stats_fast"},
      {"spatial.batch_norm_apply", sp.batch_norm_apply != nullptr, "batch_norm_apply_fast"},
      {"spatial.batch_norm_backward_reduce", sp.batch_norm_backward_reduce != nullptr,
       "batch_norm_backward_reduce_fast"},
      {"spatial.batch_norm_backward_apply", sp.batch_norm_backward_apply != nullptr,
       "batch_norm_backward_apply_fast"},
      {"attention.forward", k.attention.forward != nullptr, "attention_forward_fast"},
      {"attention.backward", k.attention.backward != nullptr, "attention_backward_fast"},
      {"activation.gelu", k.activation.gelu != nullptr, "gelu_fast"},
      {"activation.gelu_backward", k.activation.gelu_backward != nullptr, "gelu_backward_fast"},
      {"activation.gelu_tanh", k.activation.gelu_tanh != nullptr, "gelu_tanh_fast"},
      {"activation.gelu_tanh_backward", k.activation.gelu_tanh_backward != nullptr,
       "gelu_tanh_backward_fast"},
      {"activation.sigmoid", k.activation.sigmoid != nullptr, "sigmoid_fast"},
      {"activation.sigmoid_backward", k.activation.sigmoid_backward != nullptr,
       "sigmoid_backward_fast"},
      {"activation.tanh", k.activation.tanh != nullptr, "tanh_fast"},
      {"activation.tanh_backward", k.activation.tanh_backward != nullptr, "tanh_backward_fast"},
      {"normalization.layer_norm_forward", k.normalization.layer_norm_forward != nullptr,
       "layer_norm_forward_fast"},
      {"normalization.layer_norm_backward", k.normalization.layer_norm_backward != nullptr,
       "layer_norm_backward_fast"},
      {"qgemm.pack", k.qgemm.pack != nullptr, "pack_int8_weight_fast"},
      {"qgemm.minmax", k.qgemm.minmax != nullptr, "minmax_fast"},
      {"qgemm.quantize", k.qgemm.quantize != nullptr, "quantize_fast"},
      {"qgemm.dequantize", k.qgemm.dequantize != nullptr, "dequantize_fast"},
      {"softmax.softmax", k.softmax.softmax != nullptr, "softmax_fast"},
      {"softmax.log_softmax", k.softmax.log_softmax != nullptr, "log_softmax_fast"},
      {"softmax.softmax_backward", k.softmax.softmax_backward != nullptr, "softmax_backward_fast"},
      {"softmax.log_softmax_backward", k.softmax.log_softmax_backward != nullptr,
       "log_softmax_backward_fast"},
      {"lstm_layer", k.lstm_layer, "true"},
      {"caching_allocator", k.caching_allocator, "true"},
  };
  ASSERT_EQ(entries.size(), 33u)
      << "the fast tier has 33 entries (31 kernels + the fused LSTM layer + the allocator)";
  for (const EntryCheck& e : entries) {
    EXPECT_TRUE(e.registered) << "FastKernels::" << e.member
                              << " is not registered: assign kernels." << e.member << " = "
                              << (std::string(e.assign) == "true" ? "" : "&") << e.assign << "; ("
                              << kHint << ")";
  }
}

// The registry's own account: with everything registered, every op family runs the given fast
// kernels, and the report printed by milestones and labs says so.
TEST(Registry, WhichCodeRunsReportsTheGivenFastKernelsForEveryFamily) {
  const TierGuard fast(Tier::kFast);
  const kernels::WhichCode code = kernels::which_code_runs();
  EXPECT_FALSE(code.registration_not_written) << kHint;
  for (const kernels::OpFamilyCode& f : code.families) {
    EXPECT_EQ(f.runs, kernels::CodeSource::kGivenFast)
        << f.family << ": " << f.registered << " of " << f.entries << " entries registered; "
        << kHint;
  }
  const std::string report = kernels::which_code_report(code);
  EXPECT_NE(report.find("kernel tier: fast"), std::string::npos) << report;
  EXPECT_NE(report.find("fast kernels registered by module 18"), std::string::npos) << report;
}

TEST(Registry, ReferenceTierHidesTheFastKernels) {
  const TierGuard reference(Tier::kReference);
  EXPECT_EQ(kernels::tier(), Tier::kReference);
  const kernels::FastKernels& k = kernels::fast_kernels();
  EXPECT_EQ(k.sgemm, nullptr);
  EXPECT_EQ(k.dgemm, nullptr);
  EXPECT_EQ(k.softmax.softmax, nullptr);
  EXPECT_FALSE(k.caching_allocator);
  EXPECT_EQ(get_allocator(), &cpu_allocator()) << "the reference tier uses the plain allocator";
}

TEST(Registry, SwitchingTiersBackAndForthRestoresEverything) {
  const TierGuard start(Tier::kFast);
  const kernels::GemmFn<float> sgemm = kernels::fast_kernels().sgemm;
  for (int round = 0; round < 3; ++round) {
    kernels::set_tier(Tier::kReference);
    EXPECT_EQ(kernels::fast_kernels().sgemm, nullptr);
    EXPECT_EQ(get_allocator(), &cpu_allocator());
    kernels::set_tier(Tier::kFast);
    EXPECT_NE(kernels::fast_kernels().sgemm, nullptr) << kHint;
    EXPECT_EQ(kernels::fast_kernels().sgemm, sgemm) << "registration runs once, not per switch";
    EXPECT_EQ(get_allocator(), &caching_allocator());
  }
}

TEST(Registry, RegisteredSgemmAndDgemmComputeAGemm) {
  const TierGuard fast(Tier::kFast);
  const kernels::FastKernels& k = kernels::fast_kernels();
  ASSERT_NE(k.sgemm, nullptr) << kHint;
  ASSERT_NE(k.dgemm, nullptr) << kHint;
  // C = 2 · A · Bᵀ + 0.5 · C with A 2×3, B 4×3 (stored transposed), C 2×4.
  const std::vector<double> a = {1, 2, 3, 4, 5, 6};
  const std::vector<double> b = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
  const std::vector<double> expected = {2 + 5, 4 + 5, 6 + 5, 12 + 5, 8 + 5, 10 + 5, 12 + 5, 30 + 5};
  std::vector<double> c(8, 10.0);
  k.dgemm(false, true, 2, 4, 3, 2.0, a.data(), 3, b.data(), 3, 0.5, c.data(), 4);
  EXPECT_EQ(c, expected);
  const std::vector<float> af(a.begin(), a.end()), bf(b.begin(), b.end());
  std::vector<float> cf(8, 10.0f);
  k.sgemm(false, true, 2, 4, 3, 2.0f, af.data(), 3, bf.data(), 3, 0.5f, cf.data(), 4);
  EXPECT_EQ(std::vector<double>(cf.begin(), cf.end()), expected);
}

// ── matmul on the fast tier agrees with the reference tier ──────────────────────────────────

// matmul(a, b) on both tiers; the results must match to float rounding of a K-term sum.
::testing::AssertionResult tiers_agree(const Tensor& a, const Tensor& b) {
  Tensor reference, fast;
  {
    const TierGuard g(Tier::kReference);
    reference = matmul(a, b);
  }
  {
    const TierGuard g(Tier::kFast);
    fast = matmul(a, b);
  }
  const int64_t K = a.size(-1);
  const double tol = (a.dtype() == kFloat32 ? 2e-6 : 1e-14) * static_cast<double>(K + 4);
  return test::tensors_match(fast, reference, tol, tol);
}

std::string shape_text(IntArrayRef a, IntArrayRef b) {
  return test::shape_str(a) + " @ " + test::shape_str(b);
}

TEST(MatmulAcrossTiers, OddAndDegenerateShapes) {
  Generator gen(18);
  // {M, K, N}: sizes 0 and 1, primes, one above and below the micro-tile (6 × 16) and the cache
  // blocks (KC = 256, MC = 144).
  const std::vector<std::vector<int64_t>> shapes = {
      {1, 1, 1},     {0, 3, 4},      {3, 0, 4},     {3, 4, 0},   {1, 7, 1},
      {5, 1, 7},     {7, 13, 5},     {6, 16, 16},   {5, 15, 17}, {13, 1, 31},
      {67, 129, 33}, {145, 257, 49}, {1, 300, 200}, {300, 2, 1}};
  for (const ScalarType dtype : {kFloat32, kFloat64}) {
    for (const auto& s : shapes) {
      const Tensor a = randn({s[0], s[1]}, dtype, &gen), b = randn({s[1], s[2]}, dtype, &gen);
      EXPECT_TRUE(tiers_agree(a, b)) << shape_text(a.sizes(), b.sizes()) << " " << dtype;
    }
  }
}

TEST(MatmulAcrossTiers, TransposedAndNonContiguousOperands) {
  Generator gen(1818);
  const Tensor a = randn({40, 70}, kFloat32, &gen), b = randn({70, 30}, kFloat32, &gen);
  const Tensor at = randn({70, 40}, kFloat32, &gen).t();  // column-major view: read in place
  const Tensor bt = randn({30, 70}, kFloat32, &gen).t();
  const Tensor a_strided = randn({80, 140}, kFloat32, &gen).slice(0, 0, 80, 2).slice(1, 0, 140, 2);
  const Tensor b_sliced = randn({70, 50}, kFloat32, &gen).narrow(1, 7, 30);   // row stride 50
  const Tensor b_expanded = randn({70, 1}, kFloat32, &gen).expand({70, 30});  // stride 0
  ASSERT_FALSE(a_strided.is_contiguous());
  ASSERT_FALSE(b_sliced.is_contiguous());
  for (const Tensor& left : {a, at, a_strided}) {
    for (const Tensor& right : {b, bt, b_sliced, b_expanded}) {
      EXPECT_TRUE(tiers_agree(left, right))
          << shape_text(left.sizes(), right.sizes()) << " strides " << left.strides() << " and "
          << right.strides();
    }
  }
}

TEST(MatmulAcrossTiers, VectorsAndBatches) {
  Generator gen(7);
  const Tensor m = randn({9, 17}, kFloat64, &gen), v = randn({17}, kFloat64, &gen);
  EXPECT_TRUE(tiers_agree(m, v));                                // matrix · vector
  EXPECT_TRUE(tiers_agree(randn({9}, kFloat64, &gen), m));       // vector · matrix
  EXPECT_TRUE(tiers_agree(v, v));                                // dot product
  EXPECT_TRUE(tiers_agree(randn({3, 1, 5, 17}, kFloat32, &gen),  // broadcast batches
                          randn({4, 17, 6}, kFloat32, &gen)));
  EXPECT_TRUE(tiers_agree(randn({2, 5, 17}, kFloat32, &gen),  // a batch times one matrix
                          randn({17, 11}, kFloat32, &gen)));
  EXPECT_TRUE(tiers_agree(randn({4, 17, 5}, kFloat32, &gen).transpose(1, 2),
                          randn({4, 6, 17}, kFloat32, &gen).transpose(1, 2)));
}

TEST(MatmulAcrossTiers, OneAndTwoThreadsAgree) {
  const TierGuard fast(Tier::kFast);
  Generator gen(3);
  const Tensor a = randn({130, 200}, kFloat32, &gen), b = randn({200, 150}, kFloat32, &gen);
  const int before = get_num_threads();
  set_num_threads(1);
  const Tensor one = matmul(a, b);
  set_num_threads(2);
  const Tensor two = matmul(a, b);
  set_num_threads(before);
  EXPECT_TRUE(test::tensors_match(two, one, 1e-6, 1e-6));
}

// ── the caching allocator ────────────────────────────────────────────────────────────────────

TEST(CachingAllocator, SizeClassesAreAtMostAQuarterLarger) {
  EXPECT_EQ(CachingAllocator::round_size(1), 64u);
  EXPECT_EQ(CachingAllocator::round_size(64), 64u);
  EXPECT_EQ(CachingAllocator::round_size(65), 128u);
  EXPECT_EQ(CachingAllocator::round_size(1024), 1024u);
  EXPECT_EQ(CachingAllocator::round_size(1025), 1280u);  // 1024 + 256
  EXPECT_EQ(CachingAllocator::round_size(3000), 3072u);  // 2048 + 2 · 512
  for (size_t n = 1; n < (size_t{1} << 22); n = n * 3 / 2 + 1) {
    const size_t r = CachingAllocator::round_size(n);
    EXPECT_GE(r, n);
    EXPECT_LE(r, std::max<size_t>(64, n + n / 4 + 63)) << n;
    EXPECT_EQ(r % 64, 0u) << n;
  }
}

TEST(CachingAllocator, StatsCountHitsMissesCachedAndPeakBytes) {
  CachingAllocator cache;
  EXPECT_EQ(cache.caching_stats().hits, 0);
  void* a = cache.allocate(3000);  // size class 3072
  void* b = cache.allocate(100);   // size class 128
  CachingAllocatorStats s = cache.caching_stats();
  EXPECT_EQ(s.misses, 2);
  EXPECT_EQ(s.hits, 0);
  EXPECT_EQ(s.bytes_in_use, 3072 + 128);
  EXPECT_EQ(s.bytes_cached, 0);
  EXPECT_EQ(s.peak_bytes, 3072 + 128);
  EXPECT_EQ(cache.stats().live_bytes, 3100) << "live bytes count what tensors asked for";

  cache.deallocate(a, 3000);
  s = cache.caching_stats();
  EXPECT_EQ(s.bytes_cached, 3072);
  EXPECT_EQ(s.bytes_in_use, 128);

  void* again = cache.allocate(2900);  // the same size class: served from the cache
  EXPECT_EQ(again, a);
  s = cache.caching_stats();
  EXPECT_EQ(s.hits, 1);
  EXPECT_EQ(s.misses, 2);
  EXPECT_EQ(s.bytes_cached, 0);
  EXPECT_EQ(s.peak_bytes, 3072 + 128) << "a hit adds no memory";

  cache.deallocate(again, 2900);
  cache.deallocate(b, 100);
  EXPECT_EQ(cache.caching_stats().bytes_cached, 3072 + 128);
  EXPECT_EQ(cache.stats().live_bytes, 0);
  cache.empty_cache();
  EXPECT_EQ(cache.caching_stats().bytes_cached, 0);
  EXPECT_EQ(cache.caching_stats().bytes_in_use, 0);
}

TEST(CachingAllocator, ReturnsBlocksBeyondItsLimitToTheUnderlyingAllocator) {
  CPUAllocator plain;
  CachingAllocator cache(&plain, /*max_cached_bytes=*/4096);
  void* a = cache.allocate(4096);
  void* b = cache.allocate(4096);
  cache.deallocate(a, 4096);  // cached: 4096 ≤ the limit
  cache.deallocate(b, 4096);  // would make 8192: freed at once
  EXPECT_EQ(cache.caching_stats().bytes_cached, 4096);
  EXPECT_EQ(plain.stats().live_bytes, 4096);
  cache.empty_cache();
  EXPECT_EQ(plain.stats().live_bytes, 0);
}

TEST(CachingAllocator, TensorsOnTheFastTierReuseFreedBlocks) {
  const TierGuard fast(Tier::kFast);
  ASSERT_EQ(get_allocator(), &caching_allocator()) << kHint;
  const CachingAllocatorStats before = caching_allocator().caching_stats();
  for (int i = 0; i < 10; ++i) {
    const Tensor t = empty({12345}, kFloat32);  // freed at the end of each iteration
  }
  const CachingAllocatorStats after = caching_allocator().caching_stats();
  EXPECT_GE(after.hits - before.hits, 9) << "every allocation after the first reuses the block";
  EXPECT_LE(after.misses - before.misses, 1);
}

// The VmFlags of the mapping in /proc/self/smaps that holds address p ("" where there is none).
std::string vm_flags_at(const void* p) {
  const auto at = reinterpret_cast<uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> begin >> dash >> end && dash == '-') {  // a mapping's first line
      inside = begin <= at && at < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

TEST(CachingAllocator, LargeBlocksStartOnAHugePageAndAskForHugePages) {
  CPUAllocator huge(/*huge_pages=*/true);
  const size_t large = kHugePageBytes + kHugePageBytes / 2;  // one whole huge page and a half
  void* big = huge.allocate(large);
  void* small = huge.allocate(kHugePageBytes - 64);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big) % kHugePageBytes, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(small) % kAlignment, 0u);
  EXPECT_EQ(huge.stats().live_bytes, static_cast<int64_t>(large + kHugePageBytes - 64));
  std::fill_n(static_cast<char*>(big), large, 1);  // every byte is the block's
  // Linux marks a mapping advised MADV_HUGEPAGE with "hg" (where the kernel has transparent huge
  // pages at all: the sysfs file exists).
  if (std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled").good()) {
    const std::string flags = vm_flags_at(big);
    EXPECT_NE(flags.find(" hg"), std::string::npos) << "no huge-page advice: " << flags;
  }
  huge.deallocate(big, large);
  huge.deallocate(small, kHugePageBytes - 64);
  EXPECT_EQ(huge.stats().live_bytes, 0);

  // The fast tier's tensors come from such an allocator.
  const TierGuard fast(Tier::kFast);
  ASSERT_EQ(get_allocator(), &caching_allocator()) << kHint;
  const Tensor t = empty({static_cast<int64_t>(large / sizeof(float))}, kFloat32);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data_ptr<float>()) % kHugePageBytes, 0u);
}

}  // namespace
}  // namespace tinytorch
