// tinytorch/core/tensor_accessor.h — libtorch's TensorAccessor: typed, strided element access
// for loops that write kernels by hand.
//
//   auto a = x.accessor<float, 2>();   // checks once: x is float32 and has 2 dims
//   for (int64_t i = 0; i < a.size(0); ++i)
//     for (int64_t j = 0; j < a.size(1); ++j) a[i][j] *= 2;   // reads and writes x itself
//
// a[i] is an accessor of one dim fewer over the same memory (no copy, no Tensor made), and the
// last [j] is a T&. Strides are honoured, so a transposed or sliced x works as it is. Debug builds
// check every index against its size (an IndexError); release builds (NDEBUG) do not, as
// libtorch's accessors never do — the accessor is for inner loops.
// NOTE: the accessor holds a raw pointer, not the storage: the tensor must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tinytorch/core/exception.h"

namespace tinytorch {

namespace detail {
inline void check_accessor_index([[maybe_unused]] int64_t i, [[maybe_unused]] int64_t size) {
#ifndef NDEBUG
  TT_CHECK_INDEX(i >= 0 && i < size, "TensorAccessor: index ", i,
                 " is out of bounds for a dim of size ", size);
#endif
}
}  // namespace detail

// What every accessor holds, N dims over `data`: sizes and strides point into the Tensor's
// metadata (or the parent accessor's). As libtorch's TensorAccessorBase; the two accessors below
// differ only in what [i] returns.
template <typename T>
class TensorAccessorBase {
 public:
  TensorAccessorBase(T* data, const int64_t* sizes, const int64_t* strides)
      : data_(data), sizes_(sizes), strides_(strides) {}

  int64_t size(int64_t d) const { return sizes_[d]; }
  int64_t stride(int64_t d) const { return strides_[d]; }
  T* data() const { return data_; }

 protected:
  // The address of element i along the first dim, checked in debug builds.
  T* at(int64_t i) const {
    detail::check_accessor_index(i, sizes_[0]);
    return data_ + strides_[0] * i;
  }

  T* data_;
  const int64_t* sizes_;
  const int64_t* strides_;
};

template <typename T, size_t N>
class TensorAccessor : public TensorAccessorBase<T> {
 public:
  using TensorAccessorBase<T>::TensorAccessorBase;

  // An accessor of one dim fewer over the same memory.
  TensorAccessor<T, N - 1> operator[](int64_t i) const {
    return TensorAccessor<T, N - 1>(this->at(i), this->sizes_ + 1, this->strides_ + 1);
  }
};

template <typename T>
class TensorAccessor<T, 1> : public TensorAccessorBase<T> {
 public:
  using TensorAccessorBase<T>::TensorAccessorBase;

  T& operator[](int64_t i) const { return *this->at(i); }
};

}  // namespace tinytorch
