// tinytorch/core/allocator.h — where tensor bytes come from, and how many of them are alive.
//
//   Tensor ──► TensorImpl ──► Storage ──► StorageImpl ──► Allocator::allocate(nbytes)
//                                                          │
//                                                          └── 64-byte aligned block
//
// Every byte of every tensor is allocated through an Allocator. The default CPU allocator hands
// out 64-byte aligned blocks (one cache line; the width of an AVX-512 register, so any SIMD load
// of a tensor's first element is aligned) and keeps statistics that the profiling module reads:
// live bytes, peak bytes, number of allocations. PyTorch's c10::Allocator plays the same role;
// its CUDA caching allocator is the famous one.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace tinytorch {

inline constexpr size_t kAlignment = 64;
// A huge page on x86-64 Linux (transparent huge pages): blocks at least this large may be backed
// by them (CPUAllocator's huge_pages).
inline constexpr size_t kHugePageBytes = size_t{2} << 20;

struct AllocatorStats {
  int64_t live_bytes = 0;        // bytes handed out and not yet returned
  int64_t peak_bytes = 0;        // the largest live_bytes seen since the last reset_peak()
  int64_t allocation_count = 0;  // allocate() calls since start
  int64_t free_count = 0;        // deallocate() calls since start
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  // Returns a block of at least nbytes, aligned to kAlignment. nbytes == 0 may return nullptr.
  virtual void* allocate(size_t nbytes) = 0;
  // Returns a block obtained from allocate(nbytes) of this same allocator.
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
  virtual AllocatorStats stats() const = 0;
  virtual void reset_peak() = 0;
};

// The plain CPU allocator: aligned operator new/delete, plus statistics (thread-safe counters).
// With huge_pages, a block of kHugePageBytes or more starts on a huge-page boundary and its whole
// huge pages are offered to the kernel as such (madvise(MADV_HUGEPAGE); allocator.cpp says why):
// the allocator the fast tier's caching allocator draws from.
class CPUAllocator final : public Allocator {
 public:
  explicit CPUAllocator(bool huge_pages = false) : huge_pages_(huge_pages) {}
  void* allocate(size_t nbytes) override;
  void deallocate(void* ptr, size_t nbytes) override;
  AllocatorStats stats() const override;
  void reset_peak() override;

 private:
  // Whether a block of nbytes is aligned for, and advised to use, huge pages.
  bool huge(size_t nbytes) const { return huge_pages_ && nbytes >= kHugePageBytes; }

  bool huge_pages_;
  std::atomic<int64_t> live_{0}, peak_{0}, allocs_{0}, frees_{0};
};

// The process-wide plain CPU allocator (what get_allocator() returns unless another was set).
CPUAllocator& cpu_allocator();
// The process-wide CPU allocator with huge pages for large blocks (the caching allocator's).
CPUAllocator& huge_page_cpu_allocator();

// The allocator new storages use: the CPU allocator, or the caching allocator when the fast
// kernel tier registered it (kernels/registry.h). Storages remember the allocator that made
// them, so switching allocators while tensors are alive is safe.
Allocator* get_allocator();
// Installs a different allocator for new storages; nullptr goes back to the default one.
// NOTE: the allocator must outlive every storage it allocated.
void set_allocator(Allocator* allocator);
// The allocator used when none was installed with set_allocator(): null means the CPU allocator.
// The kernel registry sets it (the fast tier's caching allocator).
void set_default_allocator(Allocator* allocator);

}  // namespace tinytorch
