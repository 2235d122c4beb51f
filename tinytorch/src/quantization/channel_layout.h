// Private to src/quantization: a tensor seen as a contiguous [outer, C, inner] block around its
// channel axis, so that element (o, c, i) uses scales[c] — the one indexing every quantization
// loop shares.
//
//   x [N, C, H] with axis = 1  →  outer = N, C, inner = H
//   x [4, 6]    kPerTensor     →  outer = 1, C = 1, inner = 24
#pragma once

#include <cstdint>

#include "tinytorch/core/tensor.h"

namespace tinytorch::quantization_detail {

struct ChannelLayout {
  int64_t outer = 1, channels = 1, inner = 1;
};
inline constexpr int64_t kPerTensor = -1;

inline ChannelLayout channel_layout(const Tensor& x, int64_t axis) {
  ChannelLayout l;
  if (axis == kPerTensor) {
    l.inner = x.numel();
    return l;
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < axis) l.outer *= x.size(d);
    if (d > axis) l.inner *= x.size(d);
  }
  l.channels = x.size(axis);
  return l;
}

}  // namespace tinytorch::quantization_detail
