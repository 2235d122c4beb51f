// tinytorch/core/int_array_ref.h — a non-owning view of a list of int64_t (sizes, strides, dims).
//
// libtorch passes shapes as IntArrayRef (c10::ArrayRef<int64_t>), so that one function accepts a
// braced list, a std::vector or a single number alike:
//
//   x.reshape({2, -1});  x.permute(dims_vector);  x.sum(1);
//
// std::span cannot be built from a braced list in C++20, so we keep this small class.
// NOTE: an IntArrayRef never owns its elements. It must not outlive the list it views; store a
// std::vector<int64_t> (vec()) when you need to keep the values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <ostream>
#include <vector>

#include "tinytorch/core/exception.h"

namespace tinytorch {

class IntArrayRef {
 public:
  constexpr IntArrayRef() = default;
  IntArrayRef(const int64_t& one) : data_(&one), size_(1) {}  // NOLINT(google-explicit-constructor)
  IntArrayRef(const std::vector<int64_t>& v)                  // NOLINT(google-explicit-constructor)
      : data_(v.data()), size_(v.size()) {}
  // NOTE: viewing a braced list is safe for the duration of the call it is passed to, which is the
  // only way IntArrayRef is meant to be used; GCC warns about it anyway (c10::ArrayRef silences
  // the same warning).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  constexpr IntArrayRef(std::initializer_list<int64_t> l)  // NOLINT(google-explicit-constructor)
      : data_(l.begin()), size_(l.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  constexpr IntArrayRef(const int64_t* data, size_t size) : data_(data), size_(size) {}

  constexpr const int64_t* begin() const {
    return data_;
  }
  constexpr const int64_t* end() const {
    return data_ + size_;
  }
  std::reverse_iterator<const int64_t*> rbegin() const {
    return std::make_reverse_iterator(end());
  }
  std::reverse_iterator<const int64_t*> rend() const {
    return std::make_reverse_iterator(begin());
  }
  constexpr const int64_t* data() const {
    return data_;
  }
  constexpr size_t size() const {
    return size_;
  }
  constexpr bool empty() const {
    return size_ == 0;
  }
  constexpr const int64_t& operator[](size_t i) const {
    return data_[i];
  }
  const int64_t& at(size_t i) const {
    TT_CHECK_INDEX(i < size_, "IntArrayRef: index ", i, " out of range for length ", size_);
    return data_[i];
  }
  const int64_t& back() const {
    return at(size_ - 1);
  }
  std::vector<int64_t> vec() const {
    return {begin(), end()};
  }

  friend bool operator==(IntArrayRef a, IntArrayRef b) {
    if (a.size_ != b.size_) return false;
    for (size_t i = 0; i < a.size_; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }

 private:
  const int64_t* data_ = nullptr;
  size_t size_ = 0;
};

// Prints [2, 3] — the format of every shape in an error message.
std::ostream& operator<<(std::ostream& os, IntArrayRef a);

}  // namespace tinytorch
