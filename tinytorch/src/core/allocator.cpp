#include "tinytorch/core/allocator.h"

#include <new>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/storage.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/profiler/profiler.h"

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

CPUAllocator& cpu_allocator() {
  // Never destroyed: tensors in static storage may be freed after other statics are gone.
  static auto* instance = new CPUAllocator();
  return *instance;
}

namespace {
std::atomic<Allocator*> g_override{nullptr};  // set_allocator()
std::atomic<Allocator*> g_default{nullptr};   // the kernel tier's choice; null = CPU allocator
}  // namespace

Allocator* get_allocator() {
  // The kernel tier decides the default allocator: the fast tier installs the caching allocator
  // (module 18). Decided once, before the first storage is made.
  static const bool tier_applied = (kernels::tier(), true);
  (void)tier_applied;
  if (Allocator* a = g_override.load()) return a;
  Allocator* d = g_default.load();
  return d ? d : &cpu_allocator();
}

void set_allocator(Allocator* allocator) {
  g_override.store(allocator);
}
void set_default_allocator(Allocator* allocator) {
  g_default.store(allocator);
}

StorageImpl::StorageImpl(size_t nbytes, Allocator* allocator)
    : data_(allocator->allocate(nbytes)), nbytes_(nbytes), allocator_(allocator) {
  // Every allocator's storage passes here: the profiler charges the bytes to the innermost open
  // event of this thread (profile_memory).
  if (profiler::detail::is_enabled()) profiler::detail::record_allocation(nbytes);
}

StorageImpl::StorageImpl(void* data, size_t nbytes, std::function<void(void*)> deleter)
    : data_(data), nbytes_(nbytes), allocator_(nullptr), deleter_(std::move(deleter)) {}

StorageImpl::~StorageImpl() {
  if (allocator_ != nullptr) {
    allocator_->deallocate(data_, nbytes_);
  } else if (deleter_) {
    deleter_(data_);
  }
}

}  // namespace tinytorch
