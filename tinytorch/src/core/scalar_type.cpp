#include "tinytorch/core/scalar_type.h"

#include "tinytorch/core/int_array_ref.h"

namespace tinytorch {

std::string_view to_string(ScalarType t) {
  switch (t) {
    case kBool:
      return "bool";
    case kUInt8:
      return "uint8";
    case kInt8:
      return "int8";
    case kInt64:
      return "int64";
    case kFloat32:
      return "float32";
    case kFloat64:
      return "float64";
    case kInt16:
      return "int16";
    case kInt32:
      return "int32";
    case kHalf:
      return "float16";
    case kBFloat16:
      return "bfloat16";
  }
  return "unknown";
}

ScalarType scalar_type_from_string(std::string_view name) {
  for (ScalarType t :
       {kBool, kUInt8, kInt8, kInt16, kInt32, kInt64, kHalf, kBFloat16, kFloat32, kFloat64}) {
    if (to_string(t) == name) return t;
  }
  TT_CHECK_VALUE(false, "unknown dtype '", name,
                 "' (expected bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32 "
                 "or float64)");
  return kFloat32;  // unreachable
}

std::ostream& operator<<(std::ostream& os, ScalarType t) {
  return os << to_string(t);
}

std::ostream& operator<<(std::ostream& os, const Scalar& s) {
  if (s.is_floating_point()) return os << s.to<double>();
  if (s.is_boolean()) return os << (s.to<bool>() ? "true" : "false");
  return os << s.to<int64_t>();
}

std::ostream& operator<<(std::ostream& os, IntArrayRef a) {
  os << '[';
  for (size_t i = 0; i < a.size(); ++i) os << (i ? ", " : "") << a[i];
  return os << ']';
}

}  // namespace tinytorch
