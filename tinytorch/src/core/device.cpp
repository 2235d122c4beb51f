// Devices: parsing, printing, and the one check every "put it on this device" call makes.
#include "tinytorch/core/device.h"

#include <charconv>

#include "tinytorch/core/exception.h"

namespace tinytorch {

Device::Device(DeviceType type, Index index) : type_(type), index_(index) {
  TT_CHECK_VALUE(index >= -1, "Device: the index must be -1 (none) or >= 0, but got ",
                 static_cast<int>(index));
  TT_CHECK_VALUE(type != DeviceType::CPU || index <= 0,
                 "Device: a CPU device index must be -1 or 0, but got ", static_cast<int>(index));
}

namespace {
DeviceType parse_type(std::string_view name, std::string_view spec) {
  if (name == "cpu") return DeviceType::CPU;
  if (name == "cuda") return DeviceType::CUDA;
  TT_CHECK_VALUE(false,
                 "Device: expected a device string \"cpu\", \"cuda\" or \"cuda:N\", but got \"",
                 spec, "\"");
  return DeviceType::CPU;  // not reached
}
}  // namespace

Device::Device(std::string_view spec) : type_(DeviceType::CPU), index_(-1) {
  const size_t colon = spec.find(':');
  type_ = parse_type(spec.substr(0, colon), spec);
  if (colon == std::string_view::npos) return;
  const std::string_view digits = spec.substr(colon + 1);
  int value = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  TT_CHECK_VALUE(!digits.empty() && ec == std::errc() && end == digits.data() + digits.size() &&
                     value >= 0 && value <= 127,
                 "Device: expected a device index from 0 to 127 after ':', but got \"", spec, "\"");
  *this = Device(type_, static_cast<Index>(value));
}

std::string Device::str() const {
  std::string s = is_cpu() ? "cpu" : "cuda";
  if (has_index()) s += ":" + std::to_string(static_cast<int>(index_));
  return s;
}

std::ostream& operator<<(std::ostream& os, const Device& device) {
  return os << device.str();
}

std::ostream& operator<<(std::ostream& os, DeviceType type) {
  return os << (type == DeviceType::CPU ? "cpu" : "cuda");
}

void check_device_available(std::string_view op, const Device& device) {
  TT_CHECK_VALUE(device.is_cpu(), op, ": device ", device.str(),
                 " is not available: TinyTorch runs on the CPU only (cuda::is_available() is "
                 "false); use kCPU");
}

}  // namespace tinytorch
