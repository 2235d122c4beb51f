// Module 01 — Tensor: the strided N-d loop under every element-wise op.
// This file is yours to write in module 01 (modules/01_tensor/README.md, Part 5).
#include <algorithm>

#include "tinytorch/kernels/loops.h"

namespace tinytorch::kernels {

void for_each_strided(IntArrayRef shape, const std::vector<Tensor>& operands,
                      const InnerLoop& loop) {
  // BEGIN SOLUTION
  const size_t nops = operands.size();
  const int64_t numel = compute_numel(shape);
  if (numel == 0) return;

  // 1. Per-operand byte strides, innermost dim first (reversed, so index 0 is the row dim).
  std::vector<int64_t> sizes(shape.rbegin(), shape.rend());
  std::vector<std::vector<int64_t>> strides(nops);
  std::vector<char*> base(nops);
  for (size_t k = 0; k < nops; ++k) {
    const Tensor& t = operands[k];
    TT_CHECK(t.sizes() == shape, "for_each_strided: operand ", k, " has shape ", t.sizes(),
             " but the loop shape is ", shape);
    base[k] = static_cast<char*>(t.data_ptr());
    // A dim of size 1 is never stepped along, so its stride may be anything, even one whose byte
    // count overflows (a slice with step INT64_MAX keeps one element and that stride): it is 0.
    for (int64_t d = t.dim() - 1; d >= 0; --d) {
      strides[k].push_back(t.size(d) == 1 ? 0 : t.stride(d) * t.element_size());
    }
  }

  // 2. Coalesce: dims d and d+1 (inner, outer) merge when, for every operand, stepping once
  //    along the outer dim equals stepping size[d] times along the inner one. A contiguous
  //    tensor collapses to one dim of numel elements.
  size_t ndim = sizes.size();
  size_t kept = 0;
  for (size_t d = 1; d < ndim; ++d) {
    bool can_merge = true;
    for (size_t k = 0; k < nops && can_merge; ++k) {
      can_merge =
          strides[k][kept] * sizes[kept] == strides[k][d] || sizes[d] == 1 || sizes[kept] == 1;
    }
    if (can_merge) {
      if (sizes[kept] == 1) {  // a size-1 inner dim contributes nothing: take the outer's strides
        for (size_t k = 0; k < nops; ++k) strides[k][kept] = strides[k][d];
      }
      sizes[kept] *= sizes[d];
    } else {
      ++kept;
      sizes[kept] = sizes[d];
      for (size_t k = 0; k < nops; ++k) strides[k][kept] = strides[k][d];
    }
  }
  ndim = sizes.empty() ? 0 : kept + 1;

  // 3. A 0-d tensor is a single row of one element.
  std::vector<int64_t> row_strides(nops, 0);
  const int64_t row_len = ndim == 0 ? 1 : sizes[0];
  for (size_t k = 0; k < nops && ndim > 0; ++k) row_strides[k] = strides[k][0];

  // 4. Walk the outer dims (1 .. ndim-1) with an odometer-style counter, one row per step.
  std::vector<int64_t> counter(ndim, 0);
  std::vector<char*> ptrs = base;
  const int64_t rows = numel / row_len;
  for (int64_t r = 0; r < rows; ++r) {
    loop(ptrs.data(), row_strides.data(), row_len);
    // Advance: increment dim 1; on overflow reset it and carry into dim 2, and so on.
    for (size_t d = 1; d < ndim; ++d) {
      if (++counter[d] < sizes[d]) {
        for (size_t k = 0; k < nops; ++k) ptrs[k] += strides[k][d];
        break;
      }
      for (size_t k = 0; k < nops; ++k) ptrs[k] -= strides[k][d] * (sizes[d] - 1);
      counter[d] = 0;
    }
  }
  // END SOLUTION
}

}  // namespace tinytorch::kernels
