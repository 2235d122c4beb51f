// tinytorch/core/tensor_options.h — the optional settings of a factory function.
//
//   zeros({2, 3})                                   float32 (the default dtype)
//   zeros({2, 3}, kFloat64)                         a dtype converts to TensorOptions
//   zeros({2, 3}, TensorOptions().dtype(kInt64))    libtorch's builder spelling
//   zeros({2, 3}, dtype(kInt64).requires_grad(true)) libtorch's free-function spelling
//   zeros({2, 3}, device(kCPU))                     the CPU is the only device (core/device.h)
//   randn({2, 3}, torch::Device(torch::kCPU))       a Device (or kCPU) converts too, as libtorch's
//
// requires_grad is part of the options as in PyTorch; asking for it before the autograd module
// (05) exists throws a clear error.
#pragma once

#include <optional>

#include "tinytorch/core/device.h"
#include "tinytorch/core/scalar_type.h"

namespace tinytorch {

class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(ScalarType dtype) : dtype_(dtype) {}  // NOLINT(google-explicit-constructor)
  // libtorch's implicit conversions from a device (checked here, where the program names it).
  TensorOptions(Device d) { check_device_available("TensorOptions", d); }  // NOLINT
  TensorOptions(DeviceType t) : TensorOptions(Device(t)) {}                // NOLINT

  TensorOptions dtype(ScalarType d) const {
    TensorOptions o = *this;
    o.dtype_ = d;
    return o;
  }
  // Only the CPU exists: another device is an error here, where the program names it.
  TensorOptions device(Device d) const {
    check_device_available("TensorOptions::device", d);
    return *this;
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
  Device device() const { return Device(kCPU); }

 private:
  std::optional<ScalarType> dtype_;
  bool requires_grad_ = false;
};

// libtorch's free-function builders: zeros({2}, dtype(kInt64)), device(kCPU), requires_grad().
inline TensorOptions dtype(ScalarType d) {
  return TensorOptions().dtype(d);
}
inline TensorOptions device(Device d) {
  return TensorOptions().device(d);
}
inline TensorOptions requires_grad(bool r = true) {
  return TensorOptions().requires_grad(r);
}

}  // namespace tinytorch
