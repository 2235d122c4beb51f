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

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "tinytorch/core/parallel.h"
#include "tinytorch/core/simd.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch::kernels {

// loop(data, strides, n): data[k] points at operand k's first element of the row, strides[k] is
// operand k's step in BYTES along the row, and n is the row's length.
using InnerLoop = std::function<void(char* const* data, const int64_t* strides, int64_t n)>;

// Calls `loop` over every row of `shape`. Every operand must have exactly `shape` (expand inputs
// first). Adjacent dims that are contiguous in every operand are merged first, so a contiguous
// tensor is one single row of numel elements.
void for_each_strided(IntArrayRef shape, const std::vector<Tensor>& operands,
                      const InnerLoop& loop);

// for_each_strided over operands[0]'s shape, split over the threads: above kElementwiseGrainSize
// elements each thread walks a slab of the outermost dim of size > 1 (a copy into a strided view
// — a gradient written into its third of a [B, T, 3d] buffer — is as much work as a contiguous
// one). Each walks its slab of every operand; no element's value depends on the split. The
// slabs of operands[0], the output, must not share an element: its step along that dim must pass
// over everything its other dims reach (an expanded output, say fill_ on a stride-0 dim, runs on
// the calling thread). One function, not a template: every op's row loop is handed to it.
void for_each_strided_split(const std::vector<Tensor>& operands, const InnerLoop& loop);

// Converts one element to another dtype with defined results everywhere, PyTorch's on x86
// (a plain static_cast would be undefined behaviour out of range):
//   float → int64   truncates; NaN or out of range gives INT64_MIN (what cvttsd2si gives)
//   float → int32   truncates; NaN or out of range gives INT32_MIN (what cvttps2dq gives)
//   float → int16, int8, uint8   through int32 as above, then modulo 2¹⁶ or 2⁸: 40000.0 → int16
//                   −25536, 200.0 → int8 −56, 300.0 → uint8 44, −1.0 → uint8 255, NaN → 0,
//                   3e9 → 0 (INT32_MIN's low bits; not 3e9 modulo 2¹⁶)
//   → float16, bfloat16   through float32, rounding to nearest even (kernels/half.h): double and
//                   int64 values are rounded twice, as by c10's static_cast
//   float16, bfloat16 →   widened to float32 (exact), then as a float32
template <typename To, typename From>
To convert(From v) {
  constexpr bool kFrom16 = std::is_same_v<From, BFloat16> || std::is_same_v<From, Half>;
  constexpr bool kTo16 = std::is_same_v<To, BFloat16> || std::is_same_v<To, Half>;
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (kFrom16) {
    return convert<To>(static_cast<float>(v));
  } else if constexpr (kTo16) {
    return To(convert<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From(0);
  } else if constexpr (std::is_same_v<To, int64_t> || std::is_same_v<To, int32_t>) {
    if constexpr (std::is_floating_point_v<From>) {
      constexpr auto lo = static_cast<From>(std::numeric_limits<To>::min());
      if (!(v >= lo && v < -lo)) return std::numeric_limits<To>::min();
    }
    return static_cast<To>(v);  // integer narrowing is modular (C++20)
  } else if constexpr (std::is_integral_v<To> && std::is_floating_point_v<From>) {
    return static_cast<To>(convert<int32_t>(v));
  } else {
    return static_cast<To>(v);
  }
}

namespace detail {

// The fast loop: out[i] = f(in_0[i * kStep_0], in_1[i * kStep_1], ...) for i < n, where each step
// is 1 (a contiguous input) or 0 (a broadcast scalar, e.g. the 2.0 of x * 2.0, or a [B, 1]
// column against [B, N]). Steps known at compile time leave a plain indexed loop, which the
// compiler vectorises: 4 floats per instruction, 8 in the AVX2 clone (core/simd.h).
template <typename out_t, typename in_t, typename F, int64_t... kStep>
TT_TARGET_CLONES_AVX2 void contiguous_loop(out_t* out, std::array<const in_t*, sizeof...(kStep)> in,
                                           int64_t n, const F& f) {
  constexpr size_t N = sizeof...(kStep);
  constexpr std::array<int64_t, N> step{kStep...};
  if constexpr (N == 0) {  // fill
    TT_PRAGMA_OMP_SIMD
    for (int64_t i = 0; i < n; ++i) out[i] = f();
  } else if constexpr (N == 1) {
    const in_t* a = in[0];
    TT_PRAGMA_OMP_SIMD
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i * step[0]]);
  } else if constexpr (N == 2) {
    const in_t *a = in[0], *b = in[1];
    TT_PRAGMA_OMP_SIMD
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i * step[0]], b[i * step[1]]);
  } else {
    static_assert(N == 3, "element-wise ops have 0 to 3 inputs");
    const in_t *a = in[0], *b = in[1], *c = in[2];
    TT_PRAGMA_OMP_SIMD
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i * step[0]], b[i * step[1]], c[i * step[2]]);
  }
}

// Runs contiguous_loop when the output is contiguous and every input has a byte stride of
// sizeof(in_t) or 0 — with at most one broadcast input, to bound the number of compiled loops
// (2 clones each). `strides` are byte strides, out first. Returns false for any other layout.
template <typename out_t, typename in_t, size_t N, typename F, int64_t... kStep>
bool try_contiguous_loop(char* const* data, const int64_t* strides, int64_t n, const F& f) {
  constexpr size_t k = sizeof...(kStep);  // inputs already checked
  if constexpr (k == 0) {
    if (strides[0] != static_cast<int64_t>(sizeof(out_t))) return false;
  }
  if constexpr (k == N) {
    std::array<const in_t*, N> in{};
    for (size_t i = 0; i < N; ++i) in[i] = reinterpret_cast<const in_t*>(data[i + 1]);
    contiguous_loop<out_t, in_t, F, kStep...>(reinterpret_cast<out_t*>(data[0]), in, n, f);
    return true;
  } else {
    const int64_t s = strides[k + 1];
    if (s == static_cast<int64_t>(sizeof(in_t))) {
      return try_contiguous_loop<out_t, in_t, N, F, kStep..., 1>(data, strides, n, f);
    }
    constexpr bool one_broadcast_already = ((kStep == 0) || ...);
    if constexpr (!one_broadcast_already) {
      if (s == 0) return try_contiguous_loop<out_t, in_t, N, F, kStep..., 0>(data, strides, n, f);
    }
    return false;
  }
}

// Tensors below this many elements run on the calling thread: waking a second thread costs
// ~10-30 us, the time to add ~50k floats that are already in cache.
inline constexpr int64_t kElementwiseGrainSize = 65536;

}  // namespace detail

// out = f(in_0, in_1, ...) element-wise; all tensors already have out's shape. out_t / in_t are
// the element types of the output and inputs (the caller dispatched on dtype).
//
// Three paths, fastest first:
//   1. the whole output is contiguous and every input is contiguous or one broadcast value: one
//      vectorised loop over all numel elements, split over threads above kElementwiseGrainSize;
//   2. otherwise for_each_strided walks the rows (above kElementwiseGrainSize, slabs of the
//      outer dim on each thread); a row whose operands are contiguous or broadcast (a [B, N] +
//      [N] bias add is N-long contiguous rows) gets the vectorised loop;
//   3. any other row (a transposed view, a sliced column) gets the plain strided loop.
template <typename out_t, typename in_t, size_t N, typename F>
void elementwise_kernel(const Tensor& out, const std::array<Tensor, N>& inputs, F f) {
  // Path 1: every input contiguous (byte stride sizeof(in_t)) or, at most one of them, a single
  // value broadcast to every position (stride 0 in every dim).
  const int64_t numel = out.numel();
  bool flat = numel > 0 && out.is_contiguous();
  int broadcasts = 0;
  std::array<int64_t, N + 1> strides{};  // bytes, out first
  strides[0] = sizeof(out_t);
  for (size_t k = 0; flat && k < N; ++k) {
    const Tensor& t = inputs[k];
    if (t.is_contiguous()) {
      strides[k + 1] = sizeof(in_t);
      continue;
    }
    for (int64_t d = 0; d < t.dim(); ++d) flat = flat && (t.stride(d) == 0 || t.size(d) == 1);
    ++broadcasts;
  }
  if (flat && broadcasts <= 1) {
    parallel_for(0, numel, detail::kElementwiseGrainSize, [&](int64_t begin, int64_t end) {
      std::array<char*, N + 1> data{};
      data[0] = static_cast<char*>(out.data_ptr()) + begin * strides[0];
      for (size_t k = 0; k < N; ++k) {
        data[k + 1] = static_cast<char*>(inputs[k].data_ptr()) + begin * strides[k + 1];
      }
      detail::try_contiguous_loop<out_t, in_t, N>(data.data(), strides.data(), end - begin, f);
    });
    return;
  }
  // Paths 2 and 3: row by row, on the threads above kElementwiseGrainSize elements.
  std::vector<Tensor> operands{out};
  operands.insert(operands.end(), inputs.begin(), inputs.end());
  for_each_strided_split(operands, [&f](char* const* data, const int64_t* strides, int64_t n) {
    if (detail::try_contiguous_loop<out_t, in_t, N>(data, strides, n, f)) return;
    auto run = [&]<size_t... I>(std::index_sequence<I...>) {
      for (int64_t i = 0; i < n; ++i) {
        *reinterpret_cast<out_t*>(data[0] + i * strides[0]) =
            f(*reinterpret_cast<const in_t*>(data[I + 1] + i * strides[I + 1])...);
      }
    };
    run(std::make_index_sequence<N>{});
  });
}

}  // namespace tinytorch::kernels
