#include "tinytorch/core/caching_allocator.h"

#include <algorithm>
#include <bit>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define TT_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define TT_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define TT_POISON(p, n) ((void)(p), (void)(n))
#define TT_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace tinytorch {

CachingAllocator::CachingAllocator(Allocator* underlying, int64_t max_cached_bytes)
    : underlying_(underlying ? underlying : &cpu_allocator()),
      max_cached_bytes_(max_cached_bytes) {}

CachingAllocator::~CachingAllocator() {
  empty_cache();
}

size_t CachingAllocator::round_size(size_t nbytes) {
  constexpr size_t kSmallStep = 64, kSmallLimit = 1024;
  if (nbytes <= kSmallLimit) return std::max<size_t>(kSmallStep, (nbytes + 63) / 64 * 64);
  // Between 2^k and 2^(k+1): four classes, each a quarter of 2^k apart.
  const size_t pow2 = std::bit_floor(nbytes);
  const size_t quarter = pow2 / 4;
  return (nbytes + quarter - 1) / quarter * quarter;
}

void* CachingAllocator::allocate(size_t nbytes) {
  if (nbytes == 0) return nullptr;
  const size_t size = round_size(nbytes);
  std::lock_guard<std::mutex> lock(mutex_);
  ++allocation_count_;
  stats_.bytes_in_use += static_cast<int64_t>(size);
  live_requested_ += static_cast<int64_t>(nbytes);
  peak_requested_ = std::max(peak_requested_, live_requested_);
  auto it = free_blocks_.find(size);
  if (it != free_blocks_.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    ++stats_.hits;
    stats_.bytes_cached -= static_cast<int64_t>(size);
    TT_UNPOISON(p, size);
    return p;
  }
  ++stats_.misses;
  void* p = underlying_->allocate(size);
  stats_.peak_bytes = std::max(stats_.peak_bytes, stats_.bytes_in_use + stats_.bytes_cached);
  return p;
}

void CachingAllocator::deallocate(void* ptr, size_t nbytes) {
  if (ptr == nullptr) return;
  const size_t size = round_size(nbytes);
  std::lock_guard<std::mutex> lock(mutex_);
  ++free_count_;
  stats_.bytes_in_use -= static_cast<int64_t>(size);
  live_requested_ -= static_cast<int64_t>(nbytes);
  if (stats_.bytes_cached + static_cast<int64_t>(size) > max_cached_bytes_) {
    underlying_->deallocate(ptr, size);
    return;
  }
  TT_POISON(ptr, size);
  free_blocks_[size].push_back(ptr);
  stats_.bytes_cached += static_cast<int64_t>(size);
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {live_requested_, peak_requested_, allocation_count_, free_count_};
}

void CachingAllocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mutex_);
  peak_requested_ = live_requested_;
  stats_.peak_bytes = stats_.bytes_in_use + stats_.bytes_cached;
}

CachingAllocatorStats CachingAllocator::caching_stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [size, blocks] : free_blocks_) {
    for (void* p : blocks) {
      TT_UNPOISON(p, size);
      underlying_->deallocate(p, size);
    }
  }
  free_blocks_.clear();
  stats_.bytes_cached = 0;
}

CachingAllocator& caching_allocator() {
  // Never destroyed: storages freed during static destruction may still come back to it.
  static auto* instance = new CachingAllocator(&huge_page_cpu_allocator());
  return *instance;
}

}  // namespace tinytorch
