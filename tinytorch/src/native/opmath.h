// The one rule for float16/bfloat16 in the non-element-wise natives (softmax, layer_norm, gelu,
// losses, pooling, attention, ...): compute in float32 (the dtypes' opmath_type), round the
// result once to the input dtype — what PyTorch's CPU kernels do (their `opmath_t`). The
// element-wise ops do the same inside binary_op/unary_op (elementwise.cpp); this header is how
// every other native does it, so that no op carries its own copy of the rule.
//
//   Tensor gelu(const Tensor& self, std::string_view approximate) {
//     if (opmath::is_reduced(self))                       // bf16/f16 in ...
//       return opmath::compute(self.dtype(), [&](const Tensor& x) { return gelu(x, approximate); },
//                              self);                     // ... float32 gelu, rounded once
//     ...the float32/float64 kernels...
//   }
//
// NOTE: the float32 native run inside is the very code a float32 tensor takes (the fast tier's
// SIMD kernel when registered, the learner's reference loop under TINYTORCH_KERNELS=reference),
// so a bf16 result is exactly the float32 result on the widened inputs, rounded to nearest even.
// Saved statistics that only the op's own backward reads (layer_norm's mean/rstd, attention's
// logsumexp) stay float32: the caller widens and rounds piecewise with widen()/round_to().
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "tinytorch/core/parallel.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/kernels/half.h"
#include "tinytorch/native/tensor_ops.h"

namespace tinytorch::native::opmath {

// float16/bfloat16: the dtypes with no kernels of their own.
inline bool is_reduced(ScalarType t) {
  return t == kHalf || t == kBFloat16;
}
inline bool is_reduced(const Tensor& t) {
  return t.defined() && is_reduced(t.dtype());
}

// Whether no two of t's indices reach one element: its dims of size > 1, by increasing stride,
// each step past the whole extent of the ones before (PyTorch's test; a few exotic as_strided
// views that do not overlap fail it, which only sends them down the slower path). False for a
// negative stride or an expanded dim (stride 0).
inline bool is_non_overlapping(const Tensor& t) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size)
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (t.size(d) > 1) dims.emplace_back(t.stride(d), t.size(d));
  }
  std::sort(dims.begin(), dims.end());
  int64_t extent = 0;  // the largest offset the dims so far reach
  for (const auto& [stride, size] : dims) {
    if (stride <= extent) return false;
    extent += (size - 1) * stride;
  }
  return true;
}

// How many storage elements t spans, from its first to its last (strides >= 0).
inline int64_t storage_span(const Tensor& t) {
  int64_t span = 1;
  for (int64_t d = 0; d < t.dim(); ++d) span += (t.size(d) - 1) * t.stride(d);
  return span;
}

// Whether t's elements fill one gap-free block of its storage, each once (PyTorch's
// is_non_overlapping_and_dense): numel() consecutive elements from data_ptr(), in whatever dim
// order — a permuted or transposed view of a whole buffer is dense; a slice, or a transformer's
// head (a third of a [B, T, 3d] projection), is not.
inline bool is_non_overlapping_and_dense(const Tensor& t) {
  return t.numel() > 0 && is_non_overlapping(t) && storage_span(t) == t.numel();
}

// The tensor whose consecutive slices along `dim` the pieces are, if there is one: the pieces
// view one storage in one dtype, agree in every size and stride but along dim, each starts where
// the one before it ends along dim (size · stride elements further on), and together they fill
// one non-overlapping, dense layout. Undefined otherwise (an undefined or empty piece included).
//
//   q, k, v [B, H, T, hd], views of one [B, T, 3, H, hd] buffer, unsqueezed at 0
//     ──► the [3, B, H, T, hd] view of the whole buffer: q, k, v are its slices 0, 1, 2
//
// split's and unbind's backward return it when their incoming gradients are such slices, rather
// than copying them into a new buffer; attention's backward writes q's, k's and v's gradients
// as such slices when q, k and v are (native/attention.cpp). Then a transformer's qkv gradient
// costs no copy. (The pieces' own stride along dim only matters where their size there is > 1.)
inline Tensor joined_slices(const std::vector<Tensor>& pieces, int64_t dim) {
  if (pieces.empty() || !pieces.front().defined()) return {};
  const Tensor& first = pieces.front();
  if (dim < 0 || dim >= first.dim()) return {};
  // The joined stride along dim: the step from piece 0's start to piece 1's, per slice of piece 0.
  int64_t step = first.stride(dim);
  if (pieces.size() > 1 && pieces[1].defined()) {
    const int64_t gap = pieces[1].storage_offset() - first.storage_offset();
    if (first.size(dim) <= 0 || gap <= 0 || gap % first.size(dim) != 0) return {};
    step = gap / first.size(dim);
  }
  int64_t along = 0;  // the joined size along dim so far
  for (const Tensor& piece : pieces) {
    if (!piece.defined() || piece.dim() != first.dim() || piece.dtype() != first.dtype() ||
        !piece.is_alias_of(first) || piece.size(dim) <= 0 ||
        piece.storage_offset() != first.storage_offset() + along * step ||
        (piece.size(dim) > 1 && piece.stride(dim) != step)) {
      return {};
    }
    for (int64_t d = 0; d < first.dim(); ++d) {
      if (d != dim && (piece.size(d) != first.size(d) ||
                       (piece.size(d) > 1 && piece.stride(d) != first.stride(d)))) {
        return {};
      }
    }
    along += piece.size(dim);
  }
  std::vector<int64_t> sizes = first.sizes().vec(), strides = first.strides().vec();
  sizes[dim] = along;
  strides[dim] = step;
  Tensor joined = native::as_strided(first, sizes, strides, first.storage_offset());
  return is_non_overlapping_and_dense(joined) ? joined : Tensor();
}

// Float32 copies of float16/bfloat16 tensors (exact: every 16-bit value is a float32 value), each
// with its own sizes and strides; undefined and other tensors as they are. When the 16-bit ones
// are views of ONE storage, none overlapping itself, that together span no more elements than
// they hold — a transformer's
// q, k and v [B, H, T, hd], three interleaved views of one [B, T, 3d] projection, or one dense
// view such as a transposed gradient — the span is widened once, as one contiguous array split
// over the threads, and each copy is the same view of the float32 span:
//
//   qkv bf16 [B, T, 3d] ──one flat widen──► float32 [B, T, 3d]
//   q, k, v = views (T·3d, hd, 3d, 1) of it  ──►  the same views of the float32 span
//
// Otherwise each is widened on its own into a contiguous copy (a strided one element by element:
// a view with gaps, or views of different storages).
// NOTE: a float32 view keeps its 16-bit view's layout, so an op that lays its output out like an
// input (attention: like the query) does the same on the widened input, and the rounding copy
// back into the 16-bit layout is one flat pass too (copy_: same strides, dense).
inline std::vector<Tensor> widen_views(std::initializer_list<Tensor> tensors) {
  std::vector<Tensor> out(tensors);
  const Tensor* first = nullptr;
  int64_t lo = 0, hi = 0, held = 0;  // the span [lo, hi) of storage elements, their numels' sum
  bool shared = true;
  for (const Tensor& t : out) {
    if (!is_reduced(t)) continue;
    shared = shared && t.numel() > 0 && is_non_overlapping(t) &&
             (first == nullptr || (t.dtype() == first->dtype() && t.is_alias_of(*first)));
    const int64_t begin = t.storage_offset(), end = begin + storage_span(t);
    lo = first == nullptr ? begin : std::min(lo, begin);
    hi = first == nullptr ? end : std::max(hi, end);
    held += t.numel();
    if (first == nullptr) first = &t;
  }
  if (first == nullptr) return out;
  if (!shared || hi - lo > held) {
    for (Tensor& t : out) t = is_reduced(t) ? t.to(kFloat32) : t;
    return out;
  }
  const Tensor wide = native::as_strided(*first, {hi - lo}, {1}, lo).to(kFloat32);
  for (Tensor& t : out) {
    if (is_reduced(t))
      t = native::as_strided(wide, t.sizes(), t.strides(), t.storage_offset() - lo);
  }
  return out;
}

// widen_views of one tensor: a dense one (contiguous, permuted, transposed) keeps its layout and
// is widened in one flat pass; any other is widened into a contiguous copy.
inline Tensor widen(const Tensor& t) {
  return is_reduced(t) ? widen_views({t}).front() : t;
}

// A float32 result rounded once (to nearest even) to `dtype`; an undefined or non-float result
// (indices, a bool mask) as it is.
inline Tensor round_to(const Tensor& t, ScalarType dtype) {
  return t.defined() && t.dtype() == kFloat32 ? t.to(dtype) : t;
}

namespace detail {
template <typename A>
decltype(auto) widen_arg(const A& a) {
  if constexpr (std::is_same_v<A, Tensor>) {
    return widen(a);
  } else {
    return (a);  // anything else (a dim, a Reduction, an IntArrayRef) passes through
  }
}
inline Tensor round_result(const Tensor& t, ScalarType dtype) {
  return round_to(t, dtype);
}
template <typename... Ts>
std::tuple<Ts...> round_result(const std::tuple<Ts...>& t, ScalarType dtype) {
  return std::apply([&](const auto&... e) { return std::tuple<Ts...>{round_result(e, dtype)...}; },
                    t);
}
}  // namespace detail

// f(widened args...) with every float32 Tensor it returns (or every one in the tuple it
// returns) rounded once to `dtype`.
template <typename F, typename... Args>
auto compute(ScalarType dtype, F&& f, const Args&... args) {
  return detail::round_result(std::forward<F>(f)(detail::widen_arg(args)...), dtype);
}

// The in-place form (index_put_ with accumulate, scatter_add_): f(wide, widened args...) on a
// float32 copy of self, then self overwritten with it, rounded once — so a sum of many
// contributions into one element rounds once, not once per addition.
template <typename F, typename... Args>
Tensor& compute_(Tensor& self, F&& f, const Args&... args) {
  Tensor wide = self.to(kFloat32);
  std::forward<F>(f)(wide, detail::widen_arg(args)...);
  return native::copy_(self, wide);
}

// The element-wise form of compute() for a float32 kernel over n contiguous elements,
// kernel(in_0, ..., in_{N-1}, out, n) (the fast tier's GELU, sigmoid, tanh and their backwards):
// the N 16-bit operands (one dtype, one shape) are widened a block of kBlock elements at a time
// into float32 buffers on the stack, the kernel runs on the block, and its result is rounded
// once into the 16-bit output.
//
//   x bf16 [n] ──widen kBlock──► float32 (L1) ──kernel──► float32 (L1) ──round──► y bf16 [n]
//
// compute() would write a float32 copy of every operand and of the result to memory and read
// them back (three more passes over 2× the bytes, and two allocations); this keeps them in L1.
// NOTE: bit for bit compute()'s result only if the kernel's value at an element does not depend
// on where its call starts — true of the SIMD kernels, whose tail goes through the same vector
// code (activation_simd.h); the float32 op splits its work over threads the same way.
template <size_t N, typename Kernel>
Tensor map_blocks(const std::array<Tensor, N>& inputs, int64_t grain, const Kernel& kernel) {
  static_assert(N == 1 || N == 2, "map_blocks: kernel(x, y, n) or kernel(g, x, out, n)");
  constexpr int64_t kBlock = 2048;  // 8 KiB of float32 per operand: 24 KiB at most, in L1
  const ScalarType dtype = inputs[0].dtype();
  std::array<Tensor, N> in;
  for (size_t k = 0; k < N; ++k) in[k] = inputs[k].contiguous();
  Tensor out = empty(inputs[0].sizes(), dtype);
  const kernels::HalfIsa isa = kernels::half_isa();
  const auto bytes = [](const Tensor& t) { return static_cast<char*>(t.data_ptr()); };
  const int64_t size = element_size(dtype);
  parallel_for(0, out.numel(), grain, [&](int64_t begin, int64_t end) {
    alignas(64) float buf[N + 1][kBlock];
    for (int64_t i = begin; i < end; i += kBlock) {
      const int64_t n = std::min(kBlock, end - i);
      for (size_t k = 0; k < N; ++k) {
        const void* src = bytes(in[k]) + i * size;
        if (dtype == kBFloat16) {
          kernels::bf16_to_float(isa, n, static_cast<const BFloat16*>(src), buf[k]);
        } else {
          kernels::half_to_float(isa, n, static_cast<const Half*>(src), buf[k]);
        }
      }
      if constexpr (N == 1) {
        kernel(buf[0], buf[1], n);
      } else {
        kernel(buf[0], buf[1], buf[2], n);
      }
      void* dst = bytes(out) + i * size;
      if (dtype == kBFloat16) {
        kernels::float_to_bf16(isa, n, buf[N], static_cast<BFloat16*>(dst));
      } else {
        kernels::float_to_half(isa, n, buf[N], static_cast<Half*>(dst));
      }
    }
  });
  return out;
}

}  // namespace tinytorch::native::opmath
