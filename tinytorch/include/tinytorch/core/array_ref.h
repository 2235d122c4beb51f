// tinytorch/core/array_ref.h — ArrayRef<T>, a non-owning view of a list of T, and TensorList.
//
// libtorch passes lists of tensors as TensorList (c10::ArrayRef<Tensor>), so one function takes a
// braced list, a std::vector or a single tensor alike:
//
//   torch::cat({a, b}, 1);   torch::stack(outputs);   Tensor f(torch::TensorList xs);
//   a [2, 3], b [2, 4]       outputs: std::vector<Tensor> of T tensors [N, H]
//
// IntArrayRef (core/int_array_ref.h) is the same idea for int64_t, kept as its own class;
// ArrayRef<int64_t> converts to and from it, so code written with either spelling meets.
// NOTE: like IntArrayRef, an ArrayRef never owns its elements. It must not outlive the list it
// views (a braced list lives until the end of the call it is passed to); keep a std::vector<T>
// (vec()) to hold on to the elements.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <vector>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/int_array_ref.h"

namespace tinytorch {

class Tensor;

template <typename T>
class ArrayRef {
 public:
  using value_type = T;
  using iterator = const T*;
  using const_iterator = const T*;

  constexpr ArrayRef() = default;
  // One element, viewed as a list of one (c10's ArrayRef(const T& OneElt)).
  ArrayRef(const T& one) : data_(&one), size_(1) {}  // NOLINT(google-explicit-constructor)
  ArrayRef(const std::vector<T>& v)                  // NOLINT(google-explicit-constructor)
      : data_(v.data()), size_(v.size()) {}
  template <size_t N>
  constexpr ArrayRef(const std::array<T, N>& a)  // NOLINT(google-explicit-constructor)
      : data_(a.data()), size_(N) {}
  // See IntArrayRef's constructor from a braced list: safe for the duration of the call.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winit-list-lifetime"
#endif
  constexpr ArrayRef(std::initializer_list<T> l)  // NOLINT(google-explicit-constructor)
      : data_(l.begin()), size_(l.size()) {}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
  constexpr ArrayRef(const T* data, size_t size) : data_(data), size_(size) {}
  // ArrayRef<int64_t> and IntArrayRef view the same kind of list: each converts to the other.
  ArrayRef(IntArrayRef ints)  // NOLINT(google-explicit-constructor)
      requires std::same_as<T, int64_t> : data_(ints.data()),
                                          size_(ints.size()) {}
  operator IntArrayRef() const  // NOLINT(google-explicit-constructor)
      requires std::same_as<T, int64_t> {
    return {data_, size_};
  }

  constexpr const T* begin() const {
    return data_;
  }
  constexpr const T* end() const {
    return data_ + size_;
  }
  constexpr const T* data() const {
    return data_;
  }
  constexpr size_t size() const {
    return size_;
  }
  constexpr bool empty() const {
    return size_ == 0;
  }
  constexpr const T& operator[](size_t i) const {
    return data_[i];
  }
  const T& at(size_t i) const {
    TT_CHECK_INDEX(i < size_, "ArrayRef: index ", i, " out of range for length ", size_);
    return data_[i];
  }
  const T& front() const {
    return at(0);
  }
  const T& back() const {
    return at(size_ - 1);
  }
  std::vector<T> vec() const {
    return {begin(), end()};
  }

 private:
  const T* data_ = nullptr;
  size_t size_ = 0;
};

// libtorch's list-of-tensors parameter type (at::TensorList).
using TensorList = ArrayRef<Tensor>;

}  // namespace tinytorch
