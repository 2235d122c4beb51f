// tinytorch/native/join.h — cat's computation, without autograd (src/native/join.cpp). The public
// tinytorch::cat (core/join.h) records one CatBackward0 node around it.
#pragma once

#include <cstdint>
#include "tinytorch/core/array_ref.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::native {

// The checks of tinytorch::cat, then each input copied into its slice of a new contiguous tensor.
Tensor cat(TensorList tensors, int64_t dim);

}  // namespace tinytorch::native
