// tinytorch/nn/expanding_array.h — a fixed-size list of D numbers that one number can stand for.
//
// A 5×5 kernel is written `5`, a 5×3 one `{5, 3}` (libtorch's torch::ExpandingArray):
//
//   nn::Conv2dOptions(1, 6, 5)         kernel_size = {5, 5}
//   nn::Conv2dOptions(1, 6, {5, 3})    kernel_size = {5, 3}
//
// It owns its values (unlike IntArrayRef), so options structs can keep it, and it converts to an
// IntArrayRef for the functional ops.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/int_array_ref.h"

namespace tinytorch {

template <size_t D>
class ExpandingArray {
 public:
  ExpandingArray(int64_t single) { values_.fill(single); }  // NOLINT(google-explicit-constructor)
  ExpandingArray(std::initializer_list<int64_t> list)       // NOLINT(google-explicit-constructor)
      : ExpandingArray(IntArrayRef(list)) {}
  ExpandingArray(IntArrayRef list) {  // NOLINT(google-explicit-constructor)
    TT_CHECK(list.size() == D, "expected ", D, " values (one per spatial dim), but got ",
             list.size(), ": ", list);
    std::copy(list.begin(), list.end(), values_.begin());
  }

  int64_t operator[](size_t i) const { return values_[i]; }
  int64_t* data() { return values_.data(); }
  const int64_t* data() const { return values_.data(); }
  static constexpr size_t size() { return D; }
  // The view the functional ops take (valid while this array lives).
  operator IntArrayRef() const {  // NOLINT(google-explicit-constructor)
    return IntArrayRef(values_.data(), D);
  }
  bool operator==(const ExpandingArray&) const = default;

 private:
  std::array<int64_t, D> values_{};
};

// Printed as PyTorch prints a tuple: (5, 5), and (5,) for one value.
template <size_t D>
std::ostream& operator<<(std::ostream& os, const ExpandingArray<D>& a) {
  os << '(';
  for (size_t i = 0; i < D; ++i) os << (i ? ", " : "") << a[i];
  return os << (D == 1 ? ",)" : ")");
}

}  // namespace tinytorch
