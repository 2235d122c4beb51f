// cat's computation and stack. See tinytorch/core/join.h; the public cat, which records the
// graph, is in src/autograd/variable_ops.cpp.
#include "tinytorch/native/join.h"

#include <string>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/join.h"
#include "tinytorch/core/shape.h"

namespace tinytorch {

Tensor native::cat(TensorList tensors, int64_t dim) {
  TT_CHECK_VALUE(!tensors.empty(), "cat: expected a non-empty list of tensors, got none");
  const Tensor& first = tensors.front();
  TT_CHECK_VALUE(first.defined(), "cat: tensor 0 is undefined; expected a defined tensor");
  TT_CHECK_VALUE(first.dim() >= 1,
                 "cat: zero-dimensional tensor (at position 0) cannot be "
                 "concatenated; expected tensors of at least 1 dim");
  const int64_t d = wrap_dim(dim, first.dim(), "cat");
  std::vector<int64_t> shape = first.sizes().vec();
  int64_t total = 0;
  ScalarType dtype = first.dtype();  // the widest (torch.promote_types): bf16 + f32 → f32
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    TT_CHECK_VALUE(t.defined(), "cat: tensor ", i, " is undefined; expected a defined tensor");
    dtype = promote_types(dtype, t.dtype());
    TT_CHECK_VALUE(t.dim() == first.dim(), "cat: expected every tensor to have ", first.dim(),
                   " dims (shape of tensor 0: ", first.sizes(), "), got shape ", t.sizes(),
                   " at position ", i);
    for (int64_t k = 0; k < t.dim(); ++k) {
      TT_CHECK_VALUE(k == d || t.size(k) == first.size(k),
                     "cat: sizes of tensors must match "
                     "except in dimension ",
                     d, ": expected size ", first.size(k), " in dim ", k, " but got ", t.size(k),
                     " for tensor ", i, " (shape ", t.sizes(), ")");
    }
    total += t.size(d);
  }
  shape[static_cast<size_t>(d)] = total;
  // out [.., total, ..]; input i fills the slice [offset_i, offset_i + size_i) of dim d,
  // converted to the promoted dtype by the copy (CatBackward0's slices go back to each input's
  // dtype in the engine, as any gradient does).
  Tensor out = empty(shape, TensorOptions(dtype));
  int64_t offset = 0;
  for (const Tensor& t : tensors) {
    const int64_t n = t.size(d);
    if (n > 0) out.narrow(d, offset, n).copy_(t);
    offset += n;
  }
  return out;
}

Tensor stack(TensorList tensors, int64_t dim) {
  TT_CHECK_VALUE(!tensors.empty(), "stack: expected a non-empty list of tensors, got none");
  const Tensor& first = tensors.front();
  TT_CHECK_VALUE(first.defined(), "stack: tensor 0 is undefined; expected a defined tensor");
  const int64_t d = wrap_dim(dim, first.dim() + 1, "stack");
  std::vector<Tensor> unsqueezed;
  unsqueezed.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    TT_CHECK_VALUE(t.defined() && t.sizes() == first.sizes(),
                   "stack: expects each tensor to be equal size, but got ", first.sizes(),
                   " at entry 0 and ", t.defined() ? t.sizes() : IntArrayRef(), " at entry ", i);
    unsqueezed.push_back(t.unsqueeze(d));
  }
  return cat(unsqueezed, d);
}

}  // namespace tinytorch
