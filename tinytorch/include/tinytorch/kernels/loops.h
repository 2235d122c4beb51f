// tinytorch/kernels/loops.h — the one loop every element-wise operation runs on.
//
// An element-wise op (add, exp, where, copy, fill, ...) is a tiny function applied at every
// position of an output shape. Its operands may be strided views or broadcast (stride-0)
// expansions, so "every position" is an N-d walk through several memory layouts at once.
// for_each_strided() does that walk ONCE for all ops; each op only supplies the inner 1-d loop.
// This is the idea of PyTorch's TensorIterator + cpu_kernel, at teaching scale.
//
//   out[i, j] = f(a[i, j], b[i, j])      with byte strides per operand:
//
//   dim:         0      1
//   out        [ 12,    4 ]   contiguous float32 [2, 3]
//   a          [ 12,    4 ]
//   b          [  0,    4 ]   a row of 3 broadcast to 2 rows: stride 0 repeats it
//
// The outer dims are walked by an N-d counter; the innermost dim is handed to the op's loop as
// (data pointers, byte strides, length n) — one call per row, so the per-call cost is amortised.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "tinytorch/core/tensor.h"

namespace tinytorch::kernels {

// loop(data, strides, n): data[k] points at operand k's first element of the row, strides[k] is
// operand k's step in BYTES along the row, and n is the row's length.
using InnerLoop = std::function<void(char* const* data, const int64_t* strides, int64_t n)>;

// Calls `loop` over every row of `shape`. Every operand must have exactly `shape` (expand inputs
// first). Adjacent dims that are contiguous in every operand are merged first, so a contiguous
// tensor is one single row of numel elements.
void for_each_strided(IntArrayRef shape, const std::vector<Tensor>& operands,
                      const InnerLoop& loop);

// Converts one element to another dtype with defined results everywhere: float → int64 of NaN
// or out-of-range values gives INT64_MIN (what x86's cvttsd2si gives, and PyTorch on x86), since
// a plain static_cast would be undefined behaviour there.
template <typename To, typename From>
To convert(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    constexpr auto lo = static_cast<From>(std::numeric_limits<To>::min());
    if (!(v >= lo && v < -lo)) return std::numeric_limits<To>::min();
    return static_cast<To>(v);
  } else {
    return static_cast<To>(v);
  }
}

// out = f(in_0, in_1, ...) element-wise; all tensors already have out's shape. out_t / in_t are
// the element types of the output and inputs (the caller dispatched on dtype).
template <typename out_t, typename in_t, size_t N, typename F>
void elementwise_kernel(const Tensor& out, const std::array<Tensor, N>& inputs, F f) {
  std::vector<Tensor> operands{out};
  operands.insert(operands.end(), inputs.begin(), inputs.end());
  for_each_strided(
      out.sizes(), operands, [&](char* const* data, const int64_t* strides, int64_t n) {
        auto run = [&]<size_t... I>(std::index_sequence<I...>) {
          // Contiguous rows get a plain indexed loop the compiler can vectorise.
          const bool dense =
              strides[0] == sizeof(out_t) && ((strides[I + 1] == sizeof(in_t)) && ...);
          if (dense) {
            auto* o = reinterpret_cast<out_t*>(data[0]);
            for (int64_t i = 0; i < n; ++i) {
              o[i] = f(reinterpret_cast<const in_t*>(data[I + 1])[i]...);
            }
          } else {
            for (int64_t i = 0; i < n; ++i) {
              *reinterpret_cast<out_t*>(data[0] + i * strides[0]) =
                  f(*reinterpret_cast<const in_t*>(data[I + 1] + i * strides[I + 1])...);
            }
          }
        };
        run(std::make_index_sequence<N>{});
      });
}

}  // namespace tinytorch::kernels
