// for_each_strided split over the threads (kernels/loops.h): the row walk of every element-wise
// op whose operands are not all contiguous, and of every copy between two dtypes.
#include <algorithm>
#include <cstdlib>

#include "tinytorch/kernels/loops.h"

namespace tinytorch::kernels {

void for_each_strided_split(const std::vector<Tensor>& operands, const InnerLoop& loop) {
  const Tensor& out = operands[0];
  // The split dim: the outermost of size > 1. The slabs of out are disjoint when out's step
  // along it passes over everything its other dims reach.
  int64_t split = 0;
  while (split < out.dim() && out.size(split) == 1) ++split;
  int64_t inner_extent = 0;  // the largest offset out's other dims reach
  for (int64_t d = 0; d < out.dim(); ++d) {
    if (d != split) inner_extent += (out.size(d) - 1) * std::abs(out.stride(d));
  }
  const int64_t numel = out.numel();
  if (numel <= detail::kElementwiseGrainSize || split == out.dim() ||
      std::abs(out.stride(split)) <= inner_extent) {
    for_each_strided(out.sizes(), operands, loop);
    return;
  }
  const int64_t per_slab = numel / out.size(split);
  parallel_for(0, out.size(split), std::max<int64_t>(1, detail::kElementwiseGrainSize / per_slab),
               [&](int64_t begin, int64_t end) {
                 std::vector<Tensor> slabs;
                 slabs.reserve(operands.size());
                 for (const Tensor& t : operands) {
                   slabs.push_back(native::slice(t, split, begin, end, 1));
                 }
                 for_each_strided(slabs[0].sizes(), slabs, loop);
               });
}

}  // namespace tinytorch::kernels
