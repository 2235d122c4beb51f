// tinytorch/core/device.h — where a tensor lives (libtorch's c10::Device), CPU only.
//
//   torch::Device device = torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
//   model->to(device);  x = x.to(device);          // the usual libtorch preamble: runs on the CPU
//   x.to(torch::kCUDA);                             // Error: CUDA is not available: TinyTorch ...
//
// TinyTorch computes on the CPU only, but programs written for libtorch name devices, so the
// names exist with libtorch's meaning: a Device is a type plus an optional index, it parses
// "cpu", "cuda", "cuda:1", and cuda::is_available() is false. Asking to put data on a CUDA
// device is an error that names the device; nothing silently stays on the CPU in its place.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace tinytorch {

enum class DeviceType : int8_t { CPU = 0, CUDA = 1 };
inline constexpr DeviceType kCPU = DeviceType::CPU;
inline constexpr DeviceType kCUDA = DeviceType::CUDA;

class Device {
 public:
  using Index = int8_t;
  // Device(kCPU), Device(kCUDA, 0). index −1 means "no index" (the current device).
  Device(DeviceType type, Index index = -1);  // NOLINT(google-explicit-constructor)
  // "cpu", "cuda", "cuda:0"; anything else is an error naming the string.
  explicit Device(std::string_view spec);
  Device(const std::string& spec) : Device(std::string_view(spec)) {}  // NOLINT
  Device(const char* spec) : Device(std::string_view(spec)) {}         // NOLINT

  DeviceType type() const noexcept { return type_; }
  Index index() const noexcept { return index_; }
  bool has_index() const noexcept { return index_ != -1; }
  bool is_cpu() const noexcept { return type_ == DeviceType::CPU; }
  bool is_cuda() const noexcept { return type_ == DeviceType::CUDA; }
  std::string str() const;  // "cpu", "cuda", "cuda:1"

  bool operator==(const Device& other) const noexcept {
    return type_ == other.type_ && index_ == other.index_;
  }
  bool operator!=(const Device& other) const noexcept { return !(*this == other); }

 private:
  DeviceType type_;
  Index index_;
};

std::ostream& operator<<(std::ostream& os, const Device& device);
std::ostream& operator<<(std::ostream& os, DeviceType type);

// Throws unless `device` is the CPU: "<op>: device cuda:0 is not available: TinyTorch runs on
// the CPU only (cuda::is_available() is false); use kCPU".
void check_device_available(std::string_view op, const Device& device);

namespace cuda {
// libtorch's torch::cuda queries: TinyTorch has no CUDA backend.
inline bool is_available() noexcept {
  return false;
}
inline int64_t device_count() noexcept {
  return 0;
}
inline bool cudnn_is_available() noexcept {
  return false;
}
}  // namespace cuda

}  // namespace tinytorch
