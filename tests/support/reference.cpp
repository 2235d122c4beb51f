// tests/support/reference.cpp — the helpers tests/support/reference.h declares, compiled once
// for every test program (library tinytorch_test_support).
#include "support/reference.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#ifndef TT_TEST_DATA_DIR
#error "TT_TEST_DATA_DIR must be defined (cmake/TinyTorchModules.cmake defines it)"
#endif

namespace tinytorch::test {

// ── loading ──────────────────────────────────────────────────────────────────────────────────

// TT_TEST_DATA_DIR is relative to the folder of the test program (see
// cmake/TinyTorchModules.cmake), so the program finds its data from any working directory. (Linux:
// /proc/self/exe.)
std::string data_path(std::string_view file) {
  static const std::filesystem::path dir = [] {
    std::error_code error;
    const std::filesystem::path program = std::filesystem::read_symlink("/proc/self/exe", error);
    if (error)
      throw std::runtime_error("cannot find the test program's folder: " + error.message());
    return (program.parent_path() / TT_TEST_DATA_DIR).lexically_normal();
  }();
  return (dir / file).string();
}

// Parses a JSON file from the test data directory once per process; throws std::runtime_error
// with the path when the file is missing or malformed.
const json& load_reference(std::string_view file) {
  static std::mutex mutex;
  static std::map<std::string, json, std::less<>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  if (auto it = cache.find(file); it != cache.end()) return it->second;
  const std::string path = data_path(file);
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open reference data file " + path);
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    throw std::runtime_error("cannot parse " + path + ": " + e.what());
  }
  return cache.emplace(std::string(file), std::move(doc)).first->second;
}

ReferenceCensus census(const json& cases, const std::set<std::string>& groups) {
  ReferenceCensus c;
  std::set<std::string> names;
  for (const auto& k : cases) {
    EXPECT_TRUE(groups.count(k.at("group").get<std::string>()))
        << "unknown group " << k.at("group");
    ++c.per_op[k.at("op").get<std::string>()];
    EXPECT_TRUE(names.insert(k.at("name").get<std::string>()).second)
        << "duplicate case " << k.at("name");
    c.errors += k.value("error", false) ? 1 : 0;
    c.with_grad += k.contains("expected_grad") ? 1 : 0;
  }
  return c;
}

// ── JSON → values ────────────────────────────────────────────────────────────────────────────

ScalarType parse_dtype(const std::string& name) {
  if (name == "float32") return kFloat32;
  if (name == "float64") return kFloat64;
  if (name == "int64") return kInt64;
  if (name == "int32") return kInt32;
  if (name == "int16") return kInt16;
  if (name == "float16") return kHalf;
  if (name == "bfloat16") return kBFloat16;
  if (name == "int8") return kInt8;
  if (name == "uint8") return kUInt8;
  if (name == "bool") return kBool;
  throw std::runtime_error("reference data: unknown dtype '" + name + "'");
}

// A JSON number, bool, or one of the strings "nan", "inf", "-inf", as a double.
double json_to_double(const json& v) {
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    throw std::runtime_error("reference data: bad number string '" + s + "'");
  }
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  if (v.is_number()) return v.get<double>();
  throw std::runtime_error("reference data: expected a number, got " + v.dump());
}

// A JSON integer (or bool) as int64_t, exactly; floats are rejected.
int64_t json_to_int(const json& v) {
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  if (v.is_number_integer()) return v.get<int64_t>();
  throw std::runtime_error("reference data: expected an integer, got " + v.dump());
}

// {"type": "int"|"float"|"bool", "value": v} → Scalar of that kind.
Scalar scalar_from_json(const json& s) {
  const auto type = s.at("type").get<std::string>();
  if (type == "bool") return Scalar(s.at("value").get<bool>());
  if (type == "int") return Scalar(json_to_int(s.at("value")));
  if (type == "float") return Scalar(json_to_double(s.at("value")));
  throw std::runtime_error("reference data: unknown scalar type '" + type + "'");
}

std::vector<int64_t> int_list(const json& v) {
  std::vector<int64_t> out;
  for (const auto& x : v) out.push_back(json_to_int(x));
  return out;
}

// ── raw element access (independent of the framework's kernels) ──────────────────────────────

namespace detail {
// Calls fn(storage element offset relative to data_ptr()) for every element in row-major order.
template <typename Fn>
void for_each_offset(const Tensor& t, Fn&& fn) {
  const int64_t n = t.numel();
  if (n == 0) return;
  const auto nd = static_cast<size_t>(t.dim());
  std::vector<int64_t> idx(nd, 0);
  const IntArrayRef sizes = t.sizes(), strides = t.strides();
  int64_t offset = 0;
  for (int64_t i = 0; i < n; ++i) {
    fn(offset);
    for (size_t d = nd; d-- > 0;) {
      if (++idx[d] < sizes[d]) {
        offset += strides[d];
        break;
      }
      offset -= strides[d] * (sizes[d] - 1);
      idx[d] = 0;
    }
  }
}
}  // namespace detail

// The elements in row-major order, read straight from memory, as doubles (bool → 0/1).
std::vector<double> values_as_double(const Tensor& t) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(t.numel()));
  const char* base = static_cast<const char*>(t.data_ptr());
  const int64_t es = t.element_size();
  detail::for_each_offset(t, [&](int64_t off) {
    const char* p = base + off * es;
    switch (t.dtype()) {
      case kBool:
        out.push_back(*reinterpret_cast<const bool*>(p) ? 1.0 : 0.0);
        break;
      case kUInt8:
        out.push_back(*reinterpret_cast<const uint8_t*>(p));
        break;
      case kInt8:
        out.push_back(*reinterpret_cast<const int8_t*>(p));
        break;
      case kInt16:
        out.push_back(*reinterpret_cast<const int16_t*>(p));
        break;
      case kInt32:
        out.push_back(*reinterpret_cast<const int32_t*>(p));
        break;
      case kInt64:
        out.push_back(static_cast<double>(*reinterpret_cast<const int64_t*>(p)));
        break;
      case kHalf:  // widened exactly (kernels/half.h, tested on every bit pattern)
        out.push_back(static_cast<float>(*reinterpret_cast<const Half*>(p)));
        break;
      case kBFloat16:
        out.push_back(static_cast<float>(*reinterpret_cast<const BFloat16*>(p)));
        break;
      case kFloat32:
        out.push_back(static_cast<double>(*reinterpret_cast<const float*>(p)));
        break;
      case kFloat64:
        out.push_back(*reinterpret_cast<const double*>(p));
        break;
    }
  });
  return out;
}

// The elements of an integer or bool tensor in row-major order, exactly.
std::vector<int64_t> values_as_int(const Tensor& t) {
  if (t.is_floating_point()) throw std::runtime_error("values_as_int: tensor is floating point");
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(t.numel()));
  const char* base = static_cast<const char*>(t.data_ptr());
  const int64_t es = t.element_size();
  detail::for_each_offset(t, [&](int64_t off) {
    const char* p = base + off * es;
    switch (t.element_size()) {
      case 1:  // bool, uint8, int8
        out.push_back(t.dtype() == kBool   ? (*reinterpret_cast<const bool*>(p) ? 1 : 0)
                      : t.dtype() == kInt8 ? *reinterpret_cast<const int8_t*>(p)
                                           : *reinterpret_cast<const uint8_t*>(p));
        break;
      case 2:  // int16
        out.push_back(*reinterpret_cast<const int16_t*>(p));
        break;
      case 4:  // int32
        out.push_back(*reinterpret_cast<const int32_t*>(p));
        break;
      default:
        out.push_back(*reinterpret_cast<const int64_t*>(p));
    }
  });
  return out;
}

// Writes JSON values into a tensor (any strides) in row-major order, cast to its dtype.
void write_values(const Tensor& t, const json& values) {
  if (static_cast<int64_t>(values.size()) != t.numel()) {
    throw std::runtime_error("reference data: " + std::to_string(values.size()) +
                             " values for a tensor of " + std::to_string(t.numel()) + " elements");
  }
  char* base = static_cast<char*>(t.data_ptr());
  const int64_t es = t.element_size();
  size_t i = 0;
  detail::for_each_offset(t, [&](int64_t off) {
    char* p = base + off * es;
    const json& v = values[i++];
    switch (t.dtype()) {
      case kBool:
        *reinterpret_cast<bool*>(p) = json_to_double(v) != 0.0;
        break;
      case kUInt8:
        *reinterpret_cast<uint8_t*>(p) = static_cast<uint8_t>(json_to_int(v));
        break;
      case kInt8:
        *reinterpret_cast<int8_t*>(p) = static_cast<int8_t>(json_to_int(v));
        break;
      case kInt16:
        *reinterpret_cast<int16_t*>(p) = static_cast<int16_t>(json_to_int(v));
        break;
      case kInt32:
        *reinterpret_cast<int32_t*>(p) = static_cast<int32_t>(json_to_int(v));
        break;
      case kInt64:
        *reinterpret_cast<int64_t*>(p) = json_to_int(v);
        break;
      case kHalf:
        *reinterpret_cast<Half*>(p) = Half(static_cast<float>(json_to_double(v)));
        break;
      case kBFloat16:
        *reinterpret_cast<BFloat16*>(p) = BFloat16(static_cast<float>(json_to_double(v)));
        break;
      case kFloat32:
        *reinterpret_cast<float*>(p) = static_cast<float>(json_to_double(v));
        break;
      case kFloat64:
        *reinterpret_cast<double*>(p) = json_to_double(v);
        break;
    }
  });
}

// ── JSON → tensors ───────────────────────────────────────────────────────────────────────────

// Applies one view op of the reference format, e.g. ["transpose", 0, 1] or
// ["slice", dim, start|null, end|null, step], to t.
Tensor apply_view_op(const Tensor& t, const json& op) {
  const auto name = op.at(0).get<std::string>();
  auto opt = [](const json& v) -> std::optional<int64_t> {
    if (v.is_null()) return std::nullopt;
    return json_to_int(v);
  };
  if (name == "transpose") return t.transpose(json_to_int(op.at(1)), json_to_int(op.at(2)));
  if (name == "t") return t.t();
  if (name == "permute") return t.permute(int_list(op.at(1)));
  if (name == "view") return t.view(int_list(op.at(1)));
  if (name == "reshape") return t.reshape(int_list(op.at(1)));
  if (name == "flatten") {
    if (op.size() == 1) return t.flatten();
    if (op.size() == 2) return t.flatten(json_to_int(op.at(1)));
    return t.flatten(json_to_int(op.at(1)), json_to_int(op.at(2)));
  }
  if (name == "squeeze") return op.size() == 1 ? t.squeeze() : t.squeeze(json_to_int(op.at(1)));
  if (name == "unsqueeze") return t.unsqueeze(json_to_int(op.at(1)));
  if (name == "expand") return t.expand(int_list(op.at(1)));
  if (name == "narrow") {
    return t.narrow(json_to_int(op.at(1)), json_to_int(op.at(2)), json_to_int(op.at(3)));
  }
  if (name == "select") return t.select(json_to_int(op.at(1)), json_to_int(op.at(2)));
  if (name == "slice") {
    return t.slice(json_to_int(op.at(1)), opt(op.at(2)), opt(op.at(3)), json_to_int(op.at(4)));
  }
  if (name == "as_strided") {
    return t.as_strided(int_list(op.at(1)), int_list(op.at(2)), json_to_int(op.at(3)));
  }
  if (name == "contiguous") return t.contiguous();
  if (name == "clone") return t.clone();
  throw std::runtime_error("reference data: unknown view op " + op.dump());
}

// {"shape", "dtype", "values"} → a fresh contiguous tensor (the optional "view" is NOT applied).
Tensor base_tensor_from_json(const json& j) {
  const std::vector<int64_t> shape = int_list(j.at("shape"));
  Tensor t = empty(shape, parse_dtype(j.at("dtype").get<std::string>()));
  write_values(t, j.at("values"));
  return t;
}

// {"shape", "dtype", "values", "view"?} → the tensor, with its view ops applied.
Tensor tensor_from_json(const json& j) {
  Tensor t = base_tensor_from_json(j);
  if (j.contains("view")) {
    for (const auto& op : j.at("view")) t = apply_view_op(t, op);
  }
  return t;
}

// ── comparison ───────────────────────────────────────────────────────────────────────────────

std::string shape_str(IntArrayRef s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

namespace detail {
std::string index_str(int64_t flat, IntArrayRef sizes) {
  std::vector<int64_t> idx(sizes.size());
  for (size_t d = sizes.size(); d-- > 0;) {
    idx[d] = sizes[d] > 0 ? flat % sizes[d] : 0;
    flat = sizes[d] > 0 ? flat / sizes[d] : 0;
  }
  return shape_str(idx);
}

bool close(double g, double e, double rtol, double atol) {
  if (std::isnan(g) || std::isnan(e)) return std::isnan(g) && std::isnan(e);
  if (std::isinf(g) || std::isinf(e)) return g == e;
  return std::abs(g - e) <= atol + rtol * std::abs(e);
}

std::string num_str(double v) {
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}
}  // namespace detail

// Shape, dtype and values (NaN == NaN; ±inf must match exactly; |got - exp| <= atol + rtol*|exp|
// for floats; integers and bools exactly). Negative rtol/atol select default_rtol/default_atol
// of the expected dtype.
::testing::AssertionResult tensors_match(const Tensor& got, const Tensor& expected, double rtol,
                                         double atol) {
  if (!got.defined()) return ::testing::AssertionFailure() << "the result tensor is undefined";
  if (!expected.defined()) return ::testing::AssertionFailure() << "expected tensor is undefined";
  if (rtol < 0) rtol = default_rtol(expected.dtype());
  if (atol < 0) atol = default_atol(expected.dtype());
  if (got.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure() << "shape mismatch: got " << shape_str(got.sizes())
                                         << ", expected " << shape_str(expected.sizes());
  }
  std::ostringstream problems;
  bool ok = true;
  if (got.dtype() != expected.dtype()) {
    ok = false;
    problems << "dtype mismatch: got " << got.dtype() << ", expected " << expected.dtype() << "\n";
  }
  int64_t bad = 0;
  const bool exact = !got.is_floating_point() && !expected.is_floating_point();
  if (exact) {
    const std::vector<int64_t> g = values_as_int(got), e = values_as_int(expected);
    for (size_t i = 0; i < g.size(); ++i) {
      if (g[i] == e[i]) continue;
      if (bad++ < 8) {
        problems << "  at " << detail::index_str(static_cast<int64_t>(i), got.sizes()) << ": got "
                 << g[i] << ", expected " << e[i] << "\n";
      }
    }
  } else {
    const std::vector<double> g = values_as_double(got), e = values_as_double(expected);
    for (size_t i = 0; i < g.size(); ++i) {
      if (detail::close(g[i], e[i], rtol, atol)) continue;
      if (bad++ < 8) {
        problems << "  at " << detail::index_str(static_cast<int64_t>(i), got.sizes()) << ": got "
                 << detail::num_str(g[i]) << ", expected " << detail::num_str(e[i]) << " (diff "
                 << detail::num_str(std::abs(g[i] - e[i])) << ")\n";
      }
    }
  }
  if (bad > 0) {
    ok = false;
    problems << bad << " of " << got.numel() << " values differ (rtol=" << rtol << ", atol=" << atol
             << ")\n";
  }
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "tensor " << shape_str(got.sizes()) << " " << got.dtype() << ":\n"
         << problems.str();
}

::testing::AssertionResult tensors_match(const Tensor& got, const json& expected, double rtol,
                                         double atol) {
  return tensors_match(got, tensor_from_json(expected), rtol, atol);
}

void expect_tensor_eq(const Tensor& got, const Tensor& expected, double rtol, double atol) {
  EXPECT_TRUE(tensors_match(got, expected, rtol, atol));
}
void expect_tensor_eq(const Tensor& got, const json& expected, double rtol, double atol) {
  EXPECT_TRUE(tensors_match(got, expected, rtol, atol));
}

}  // namespace tinytorch::test
