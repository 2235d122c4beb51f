// tinytorch/core/storage.h — the reference-counted buffer behind one or more tensors.
//
// A Storage is just bytes: it has no shape and no dtype. Several tensors (a base and its views)
// can share one Storage; the bytes are freed when the last of them goes away.
//
//   a = arange(6)            b = a.view({2, 3})        c = b.transpose(0, 1)
//       │                        │                         │
//       └───────────┬────────────┴─────────────┬───────────┘
//                   ▼                          │
//        StorageImpl { data ─► [0 1 2 3 4 5], nbytes = 48, use_count = 3 }
//
// This mirrors PyTorch: c10::Storage is an intrusive_ptr<c10::StorageImpl>; we use shared_ptr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "tinytorch/core/allocator.h"

namespace tinytorch {

class StorageImpl {
 public:
  StorageImpl(size_t nbytes, Allocator* allocator);
  // Memory someone else allocated (from_blob): nothing is allocated or counted here; the last
  // owner calls deleter(data), or nothing when the deleter is empty (the caller frees it).
  StorageImpl(void* data, size_t nbytes, std::function<void(void*)> deleter);
  ~StorageImpl();
  StorageImpl(const StorageImpl&) = delete;
  StorageImpl& operator=(const StorageImpl&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  uint32_t version() const { return version_; }
  void bump_version() { ++version_; }
  uint32_t history_version() const { return history_version_; }
  void bump_history_version() { ++history_version_; }

 private:
  void* data_;
  size_t nbytes_;
  // Counts in-place writes (module 05): shared by a base and all its views, because they
  // share these bytes. Autograd compares it with the version a saved tensor was saved at.
  uint32_t version_ = 0;
  // Counts in-place writes that autograd RECORDED (they give the written tensor a new history);
  // a view made before such a write would differentiate a stale history.
  uint32_t history_version_ = 0;
  Allocator* allocator_;  // the allocator that must free data_ (null for external memory)
  std::function<void(void*)> deleter_;  // external memory only: what frees it, if anything
};

class Storage {
 public:
  Storage() = default;
  // Allocates nbytes (uninitialised) from the current allocator.
  explicit Storage(size_t nbytes) : impl_(std::make_shared<StorageImpl>(nbytes, get_allocator())) {}
  // Wraps external memory without copying it (see StorageImpl's external constructor).
  Storage(void* data, size_t nbytes, std::function<void(void*)> deleter)
      : impl_(std::make_shared<StorageImpl>(data, nbytes, std::move(deleter))) {}

  void* data() const { return impl_ ? impl_->data() : nullptr; }
  size_t nbytes() const { return impl_ ? impl_->nbytes() : 0; }
  // How many TensorImpls share this buffer (a base and its views).
  long use_count() const { return impl_.use_count(); }
  uint32_t version() const { return impl_ ? impl_->version() : 0; }
  void bump_version() const {
    if (impl_) impl_->bump_version();
  }
  uint32_t history_version() const { return impl_ ? impl_->history_version() : 0; }
  void bump_history_version() const {
    if (impl_) impl_->bump_history_version();
  }
  bool is_alias_of(const Storage& other) const { return impl_ && impl_ == other.impl_; }
  explicit operator bool() const { return impl_ != nullptr; }

 private:
  std::shared_ptr<StorageImpl> impl_;
};

}  // namespace tinytorch
