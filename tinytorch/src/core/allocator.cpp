#include "tinytorch/core/allocator.h"

#include <new>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/storage.h"

namespace tinytorch {

void* CPUAllocator::allocate(size_t nbytes) {
  if (nbytes == 0) return nullptr;
  void* p = nullptr;
  try {
    p = ::operator new (nbytes, std::align_val_t{kAlignment});
  } catch (const std::bad_alloc&) {
    throw Error(detail::str("CPUAllocator: out of memory trying to allocate ", nbytes, " bytes (",
                            live_.load(), " bytes already live)"));
  }
  const int64_t live = live_.fetch_add(static_cast<int64_t>(nbytes)) + static_cast<int64_t>(nbytes);
  allocs_.fetch_add(1);
  // Raise the peak to `live` unless another thread already raised it higher.
  int64_t peak = peak_.load();
  while (live > peak && !peak_.compare_exchange_weak(peak, live)) {
  }
  return p;
}

void CPUAllocator::deallocate(void* ptr, size_t nbytes) {
  if (ptr == nullptr) return;
  ::operator delete (ptr, std::align_val_t{kAlignment});
  live_.fetch_sub(static_cast<int64_t>(nbytes));
  frees_.fetch_add(1);
}

AllocatorStats CPUAllocator::stats() const {
  return {live_.load(), peak_.load(), allocs_.load(), frees_.load()};
}

void CPUAllocator::reset_peak() {
  peak_.store(live_.load());
}

namespace {
CPUAllocator& cpu_allocator() {
  static CPUAllocator instance;
  return instance;
}
std::atomic<Allocator*> g_allocator{nullptr};
}  // namespace

Allocator* get_allocator() {
  Allocator* a = g_allocator.load();
  return a ? a : &cpu_allocator();
}

void set_allocator(Allocator* allocator) {
  g_allocator.store(allocator);
}

StorageImpl::StorageImpl(size_t nbytes, Allocator* allocator)
    : data_(allocator->allocate(nbytes)), nbytes_(nbytes), allocator_(allocator) {}

StorageImpl::~StorageImpl() {
  allocator_->deallocate(data_, nbytes_);
}

}  // namespace tinytorch
