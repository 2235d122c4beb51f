// modules/lab_support/heap_counter.h — counting a lab's C++ heap allocations.
//
// Tensor BYTES come from tinytorch's Allocator, which keeps statistics. A view or a recorded
// graph node allocates no tensor bytes, but it is not literally free: its TensorImpl, sizes and
// strides, the node, its edges and the output's AutogradMeta live on the ordinary C++ heap. To
// count those too, a lab declared with tinytorch_add_lab(... COUNT_HEAP) is linked with
// heap_counter.cpp, which replaces the global operator new/delete (allowed by the C++ standard)
// with versions that count calls and bytes. The over-aligned variants used by the tensor
// allocator are left alone. Only the labs that read the counts pay for counting.
#pragma once

#include <cstdint>

namespace tinytorch::lab {

int64_t heap_allocations();  // operator new calls so far, by every thread
int64_t heap_bytes();        // bytes requested from operator new so far

}  // namespace tinytorch::lab
