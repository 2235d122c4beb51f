// Module 01 — storage: alignment, the allocator and its statistics, reference counting, and the
// handle semantics of Tensor (copying a Tensor aliases; clone() copies).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

bool aligned64(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 64 == 0;
}

TEST(Storage, FreshTensorsAre64ByteAligned) {
  EXPECT_EQ(kAlignment, 64u);
  // Every factory, every dtype, and sizes that are not multiples of anything.
  std::vector<Tensor> ts;
  for (int64_t n : {1, 3, 7, 17, 63, 65, 1000}) {
    ts.push_back(empty({n}, kBool));
    ts.push_back(zeros({n}, kInt64));
    ts.push_back(ones({n}, kFloat32));
    ts.push_back(full({n, 1}, 2.0, kFloat64));
  }
  ts.push_back(arange(13));
  ts.push_back(eye(5));
  ts.push_back(rand({9}));
  ts.push_back(randn({3, 3}));
  ts.push_back(tensor({{1, 2}, {3, 4}}));
  ts.push_back(from_vector(std::vector<float>{1, 2, 3}, {3}));
  ts.push_back(arange(10).view({2, 5}).t().clone());
  ts.push_back(arange(10).view({2, 5}).t().contiguous());
  ts.push_back(tensor({1.0, 2.0}) + tensor({3.0, 4.0}));
  ts.push_back(arange(6.0).view({2, 3}).sum({1}));
  ts.push_back(ones({3, 4}).matmul(ones({4, 2})));
  for (size_t i = 0; i < ts.size(); ++i) {
    EXPECT_TRUE(aligned64(ts[i].data_ptr())) << "tensor #" << i << " " << ts[i].toString();
    EXPECT_TRUE(aligned64(ts[i].storage().data())) << "tensor #" << i;
  }
}

TEST(Storage, ViewsPointInsideTheirBase) {
  const Tensor a = arange(24, kFloat32).view({2, 3, 4});
  const Tensor v = a.select(0, 1).narrow(1, 2, 2);
  EXPECT_EQ(v.storage_offset(), 12 + 2);
  EXPECT_EQ(static_cast<const char*>(v.data_ptr()),
            static_cast<const char*>(a.data_ptr()) + (12 + 2) * 4);
  EXPECT_EQ(v.storage().data(), a.storage().data());
}

TEST(Storage, NbytesMatchesTheElements) {
  const Tensor t = empty({3, 5}, kFloat64);
  EXPECT_EQ(t.storage().nbytes(), 3u * 5u * 8u);
  EXPECT_EQ(t.element_size(), 8);
  EXPECT_EQ(empty({4}, kBool).storage().nbytes(), 4u);
  EXPECT_EQ(empty({0, 7}).storage().nbytes(), 0u);
}

TEST(Allocator, StatsTrackLiveBytesPeakAndCounts) {
  Allocator* alloc = get_allocator();
  const AllocatorStats before = alloc->stats();
  {
    const Tensor a = empty({1000}, kFloat32);  // 4000 bytes
    const AllocatorStats during = alloc->stats();
    EXPECT_EQ(during.live_bytes - before.live_bytes, 4000);
    EXPECT_EQ(during.allocation_count - before.allocation_count, 1);
    EXPECT_GE(during.peak_bytes, during.live_bytes);
    {
      const Tensor b = empty({250}, kFloat64);  // 2000 bytes
      EXPECT_EQ(alloc->stats().live_bytes - before.live_bytes, 6000);
      // Views and handle copies allocate nothing.
      const Tensor v = b.view({25, 10}).t();
      const Tensor h = a;
      EXPECT_EQ(alloc->stats().allocation_count - before.allocation_count, 2);
      EXPECT_EQ(alloc->stats().live_bytes - before.live_bytes, 6000);
    }
    const AllocatorStats after_b = alloc->stats();
    EXPECT_EQ(after_b.live_bytes - before.live_bytes, 4000);
    EXPECT_EQ(after_b.free_count - before.free_count, 1);
  }
  const AllocatorStats after = alloc->stats();
  EXPECT_EQ(after.live_bytes, before.live_bytes);
  EXPECT_EQ(after.allocation_count - before.allocation_count, 2);
  EXPECT_EQ(after.free_count - before.free_count, 2);
}

TEST(Allocator, PeakRemembersTheHighWaterMarkUntilReset) {
  Allocator* alloc = get_allocator();
  alloc->reset_peak();
  const int64_t base = alloc->stats().live_bytes;
  EXPECT_EQ(alloc->stats().peak_bytes, base);
  { const Tensor big = empty({1 << 18}, kFloat32); }  // 1 MiB, freed at once
  EXPECT_EQ(alloc->stats().live_bytes, base);
  EXPECT_EQ(alloc->stats().peak_bytes, base + (1 << 20));
  alloc->reset_peak();
  EXPECT_EQ(alloc->stats().peak_bytes, base);
}

TEST(Allocator, ViewsKeepTheStorageAlive) {
  Allocator* alloc = get_allocator();
  const int64_t base = alloc->stats().live_bytes;
  Tensor view;
  {
    const Tensor t = arange(100, kFloat64);
    view = t.narrow(0, 10, 5);
  }
  // The base handle is gone, but the view still holds the whole 800-byte storage.
  EXPECT_EQ(alloc->stats().live_bytes - base, 800);
  EXPECT_EQ(view.to_vector<double>(), (std::vector<double>{10, 11, 12, 13, 14}));
  view = Tensor();
  EXPECT_EQ(alloc->stats().live_bytes, base);
}

TEST(Allocator, EmptyTensorsNeedNoBytes) {
  Allocator* alloc = get_allocator();
  const AllocatorStats before = alloc->stats();
  const Tensor e = empty({0, 5});
  EXPECT_EQ(alloc->stats().live_bytes, before.live_bytes);
  EXPECT_EQ(e.numel(), 0);
}

// An allocator that counts its own calls, installed with set_allocator.
class CountingAllocator final : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    ++allocs;
    bytes += static_cast<int64_t>(nbytes);
    return inner.allocate(nbytes);
  }
  void deallocate(void* ptr, size_t nbytes) override {
    ++frees;
    bytes -= static_cast<int64_t>(nbytes);
    inner.deallocate(ptr, nbytes);
  }
  AllocatorStats stats() const override { return inner.stats(); }
  void reset_peak() override { inner.reset_peak(); }

  CPUAllocator inner;
  int allocs = 0, frees = 0;
  int64_t bytes = 0;
};

TEST(Allocator, StoragesRememberTheAllocatorThatMadeThem) {
  CountingAllocator counting;
  Allocator* const previous = get_allocator();
  Tensor made_by_counting, made_by_default;
  {
    set_allocator(&counting);
    made_by_counting = zeros({10}, kFloat64);
    set_allocator(nullptr);  // restores the CPU allocator
  }
  EXPECT_EQ(get_allocator(), previous);
  made_by_default = zeros({10}, kFloat64);
  EXPECT_EQ(counting.allocs, 1);
  EXPECT_EQ(counting.bytes, 80);
  EXPECT_TRUE(aligned64(made_by_counting.data_ptr()));
  // Freed through the allocator that made it, even though another is current now.
  made_by_counting = Tensor();
  EXPECT_EQ(counting.frees, 1);
  EXPECT_EQ(counting.bytes, 0);
  made_by_default = Tensor();
  EXPECT_EQ(counting.frees, 1);
}

// ── handles, views and use counts ───────────────────────────────────────────────────────────

TEST(Aliasing, CopyingAHandleAliasesTheSameImpl) {
  const Tensor a = zeros({3});
  Tensor b = a;  // NOLINT(performance-unnecessary-copy-initialization): the point of the test
  EXPECT_TRUE(b.is_same(a));
  EXPECT_TRUE(b.is_alias_of(a));
  b.add_(1);
  EXPECT_EQ(test::values_as_double(a), (std::vector<double>{1, 1, 1}));
  // Handle copies share the TensorImpl, so the storage's use count does not change.
  EXPECT_EQ(a.storage().use_count(), 1);
}

TEST(Aliasing, ViewsShareStorageAndCountAsUsers) {
  const Tensor a = arange(12, kFloat32);
  EXPECT_EQ(a.storage().use_count(), 1);
  {
    const Tensor v1 = a.view({3, 4});
    const Tensor v2 = v1.t();
    EXPECT_EQ(a.storage().use_count(), 3);
    EXPECT_TRUE(v1.is_alias_of(a));
    EXPECT_TRUE(v2.is_alias_of(a));
    EXPECT_FALSE(v2.is_same(a));
    EXPECT_TRUE(a.is_alias_of(v2));
  }
  EXPECT_EQ(a.storage().use_count(), 1);
  EXPECT_FALSE(a.is_alias_of(arange(12, kFloat32)));
}

TEST(Aliasing, WritesThroughEveryKindOfViewReachTheBase) {
  Tensor base = zeros({3, 4});
  base.transpose(0, 1).select(0, 2).fill_(5);                              // column 2
  base.narrow(0, 0, 1).fill_(1);                                           // row 0
  base.view({12}).slice(0, 11, 12).fill_(9);                               // last element
  base.unsqueeze(0).expand({2, 3, 4}).select(0, 1).select(1, 0).fill_(7);  // column 0
  base.permute({1, 0}).select(1, 2).select(0, 3).fill_(-1);                // base[2][3]
  const std::vector<double> want{7, 1, 1, 1,    // row 0: the row fill overwrote column 2
                                 7, 0, 5, 0,    // row 1
                                 7, 0, 5, -1};  // row 2: -1 overwrote the 9
  EXPECT_EQ(test::values_as_double(base), want);
  // And the other way: writing the base is visible through an existing view.
  const Tensor col = base.select(1, 1);
  base.fill_(2);
  EXPECT_EQ(test::values_as_double(col), (std::vector<double>{2, 2, 2}));
}

TEST(Aliasing, ContiguousOfContiguousIsTheSameTensor) {
  const Tensor a = arange(6, kFloat32).view({2, 3});
  const Tensor c = a.contiguous();
  EXPECT_TRUE(c.is_same(a));
  EXPECT_EQ(c.data_ptr(), a.data_ptr());
  // A non-contiguous view gets a fresh contiguous copy with the same values.
  const Tensor t = a.t();
  EXPECT_FALSE(t.is_contiguous());
  const Tensor tc = t.contiguous();
  EXPECT_TRUE(tc.is_contiguous());
  EXPECT_FALSE(tc.is_alias_of(a));
  EXPECT_EQ(tc.strides().vec(), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(test::values_as_double(tc), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  // A narrowed row is contiguous even though it does not start at offset 0.
  const Tensor row = a.select(0, 1);
  EXPECT_TRUE(row.is_contiguous());
  EXPECT_TRUE(row.contiguous().is_same(row));
}

TEST(Aliasing, CloneNeverAliases) {
  const Tensor a = arange(6, kFloat64).view({2, 3});
  for (const Tensor& src : {a, a.t(), a.select(1, 0), a.unsqueeze(1).expand({2, 4, 3})}) {
    Tensor c = src.clone();
    EXPECT_FALSE(c.is_alias_of(src));
    EXPECT_TRUE(c.is_contiguous());
    EXPECT_EQ(c.sizes(), src.sizes());
    EXPECT_EQ(c.dtype(), src.dtype());
    EXPECT_EQ(c.storage_offset(), 0);
    EXPECT_EQ(test::values_as_double(c), test::values_as_double(src));
    c.fill_(-1);
    EXPECT_NE(test::values_as_double(src)[0], -1);
  }
  EXPECT_EQ(empty({0, 2}).clone().sizes().vec(), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(tensor(3.0).clone().dim(), 0);
}

TEST(Aliasing, ToSameDtypeReturnsSelfUnlessCopyAsked) {
  const Tensor a = arange(4, kFloat32);
  EXPECT_TRUE(a.to(kFloat32).is_same(a));
  const Tensor c = a.to(kFloat32, /*non_blocking=*/false, /*copy=*/true);
  EXPECT_FALSE(c.is_alias_of(a));
  EXPECT_EQ(test::values_as_double(c), test::values_as_double(a));
  EXPECT_FALSE(a.to(kFloat64).is_alias_of(a));
}

TEST(Aliasing, UndefinedTensor) {
  const Tensor u;
  EXPECT_FALSE(u.defined());
  EXPECT_TRUE(arange(1).defined());
  EXPECT_EQ(u.toString(), "UndefinedTensor");
  EXPECT_EQ(repr(u), "tensor(undefined)");
}

TEST(Metadata, Basics) {
  const Tensor t = zeros({2, 3, 4}, kFloat64);
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.ndimension(), 3);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.size(0), 2);
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.stride(0), 12);
  EXPECT_EQ(t.stride(-2), 4);
  EXPECT_EQ(t.scalar_type(), kFloat64);
  EXPECT_TRUE(t.is_floating_point());
  EXPECT_FALSE(zeros({1}, kInt64).is_floating_point());
  EXPECT_EQ(t.nbytes(), 192);
  EXPECT_FALSE(t.requires_grad());
  EXPECT_NE(t.toString(), zeros({2, 3, 4}).toString());            // dtype shows
  EXPECT_NE(t.toString(), zeros({2, 3, 5}, kFloat64).toString());  // shape shows
  TT_EXPECT_THROW_WITH(t.size(3), IndexError, "size", "3");
  TT_EXPECT_THROW_WITH(t.stride(-4), IndexError, "stride", "-4");
  TT_EXPECT_THROW_WITH(tensor(1.0).size(0), IndexError, "0-dim");
}

TEST(Metadata, SetRequiresGradFalseIsANoOpBeforeAutograd) {
  Tensor t = zeros({2});
  EXPECT_NO_THROW(t.set_requires_grad(false));
  EXPECT_FALSE(t.requires_grad());
}

}  // namespace
}  // namespace tinytorch
