// modules/lab_support/heap_counter.cpp — see heap_counter.h. Built as an OBJECT library: a
// replacement operator new in a static library would be linked only if something else in its
// object file were needed, so the labs that count would silently not count.
#include "lab_support/heap_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<int64_t> g_heap_allocs{0};
std::atomic<int64_t> g_heap_bytes{0};
}  // namespace

// (noinline: once inlined, GCC's -Wmismatched-new-delete would see free() of a pointer that
// came from operator new and warn, not knowing that our operator new is malloc underneath.)
[[gnu::noinline]] void* operator new(std::size_t n) {
  g_heap_allocs.fetch_add(1, std::memory_order_relaxed);
  g_heap_bytes.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  std::free(p);
}
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace tinytorch::lab {

int64_t heap_allocations() {
  return g_heap_allocs.load();
}

int64_t heap_bytes() {
  return g_heap_bytes.load();
}

}  // namespace tinytorch::lab
