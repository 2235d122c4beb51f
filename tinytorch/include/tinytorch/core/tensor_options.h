// tinytorch/core/tensor_options.h — the optional settings of a factory function.
//
//   zeros({2, 3})                                   float32 (the default dtype)
//   zeros({2, 3}, kFloat64)                         a dtype converts to TensorOptions
//   zeros({2, 3}, TensorOptions().dtype(kInt64))    libtorch's builder spelling
//
// requires_grad is part of the options as in PyTorch; asking for it before the autograd module
// (05) exists throws a clear error.
#pragma once

#include <optional>

#include "tinytorch/core/scalar_type.h"

namespace tinytorch {

class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(ScalarType dtype) : dtype_(dtype) {}  // NOLINT(google-explicit-constructor)

  TensorOptions dtype(ScalarType d) const {
    TensorOptions o = *this;
    o.dtype_ = d;
    return o;
  }
  TensorOptions requires_grad(bool r) const {
    TensorOptions o = *this;
    o.requires_grad_ = r;
    return o;
  }

  bool has_dtype() const { return dtype_.has_value(); }
  // The dtype asked for, or `fallback` when none was.
  ScalarType dtype_or(ScalarType fallback) const { return dtype_.value_or(fallback); }
  ScalarType dtype() const { return dtype_or(kDefaultFloat); }
  bool requires_grad() const { return requires_grad_; }

 private:
  std::optional<ScalarType> dtype_;
  bool requires_grad_ = false;
};

}  // namespace tinytorch
