// tinytorch/core/caching_allocator.h — keep freed blocks for reuse instead of returning them.
//
// A training step allocates the same intermediate tensors in the same sizes every iteration:
// activations, gradients, temporaries. Asking the system allocator each time costs a call into
// malloc (and for big blocks an mmap + page faults, since glibc returns large blocks to the OS).
// A caching allocator keeps freed blocks in bins by size and hands them out again:
//
//   allocate(3000 B) ── round up to size class 3072 ──► bin[3072] empty? ── miss ──► system
//                                                           │ has a block
//                                                           └────────────────── hit ──► reuse
//   deallocate(p, 3000) ──► bin[3072].push(p)           (the memory stays in the process)
//
// Size classes: multiples of 64 B up to 1 KiB, then four classes per power of two (1.25×, 1.5×,
// 1.75×, 2×), so a block is at most 25% larger than asked. PyTorch's CUDA caching allocator is
// the famous version of this idea (with block splitting and streams); CPU PyTorch relies on the
// system malloc instead.
//
// NOTE: cached memory is poisoned for AddressSanitizer, so a use-after-free of a tensor's data is
// still reported in the sanitizer build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "tinytorch/core/allocator.h"

namespace tinytorch {

struct CachingAllocatorStats {
  int64_t hits = 0;          // allocations served from the cache
  int64_t misses = 0;        // allocations that went to the underlying allocator
  int64_t bytes_cached = 0;  // bytes held in the cache, free for reuse
  int64_t bytes_in_use = 0;  // bytes handed out (rounded to size classes) and not yet freed
  int64_t peak_bytes = 0;    // the largest bytes_in_use + bytes_cached seen
};

class CachingAllocator final : public Allocator {
 public:
  // Blocks come from `underlying` (by default the CPU allocator). Caching stops once more than
  // `max_cached_bytes` sit unused; further frees go straight back.
  explicit CachingAllocator(Allocator* underlying = nullptr,
                            int64_t max_cached_bytes = int64_t{1} << 30);
  ~CachingAllocator() override;

  void* allocate(size_t nbytes) override;
  void deallocate(void* ptr, size_t nbytes) override;
  // Live/peak bytes as tensors asked for them (before rounding to size classes), so the numbers
  // match the CPU allocator's; caching_stats() has the rounded and cached figures.
  AllocatorStats stats() const override;
  void reset_peak() override;

  CachingAllocatorStats caching_stats() const;
  // Returns every cached block to the underlying allocator.
  void empty_cache();

  // The size class a request of nbytes is served from.
  static size_t round_size(size_t nbytes);

 private:
  Allocator* underlying_;
  int64_t max_cached_bytes_;
  mutable std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_blocks_;  // size class → free blocks
  CachingAllocatorStats stats_;
  int64_t allocation_count_ = 0, free_count_ = 0;
  int64_t live_requested_ = 0, peak_requested_ = 0;
};

// The process-wide caching allocator used by the fast kernel tier (see kernels/registry.h). Its
// blocks come from huge_page_cpu_allocator(): large ones are backed by huge pages where Linux
// offers them (allocator.cpp says why).
CachingAllocator& caching_allocator();

}  // namespace tinytorch
