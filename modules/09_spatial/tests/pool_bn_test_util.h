// Helpers the pooling and batch-norm tests of module 09 share: reading the reference cases of
// tests/data/module09_pool_bn_reference.json (tools/reference/gen_module09_pool_bn.py) and running
// them through the functional ops.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::test {

inline const json& pool_bn_cases() {
  return load_reference("module09_pool_bn_reference.json").at("cases");
}

// A list argument of PyTorch's call: absent → `fallback`, an int → {v}, a list → its values.
inline std::vector<int64_t> arg_list(const json& args, const char* key,
                                     std::vector<int64_t> fallback = {}) {
  if (!args.contains(key) || args.at(key).is_null()) return fallback;
  const json& v = args.at(key);
  return v.is_array() ? int_list(v) : std::vector<int64_t>{json_to_int(v)};
}

// Runs a pooling case's op on `x` (values; max pooling also returns its indices).
struct PoolResult {
  Tensor output, indices;
};

inline PoolResult run_pool_case(const json& c, const Tensor& x) {
  const json& a = c.at("args");
  const std::string op = c.at("op");
  if (op == "max_pool2d") {
    auto [y, idx] = max_pool2d_with_indices(
        x, arg_list(a, "kernel_size"), arg_list(a, "stride"), arg_list(a, "padding", {0}),
        arg_list(a, "dilation", {1}), a.value("ceil_mode", false));
    return {y, idx};
  }
  if (op == "avg_pool2d") {
    std::optional<int64_t> divisor;
    if (a.contains("divisor_override")) divisor = json_to_int(a.at("divisor_override"));
    return {avg_pool2d(x, arg_list(a, "kernel_size"), arg_list(a, "stride"),
                       arg_list(a, "padding", {0}), a.value("ceil_mode", false),
                       a.value("count_include_pad", true), divisor),
            Tensor()};
  }
  return {adaptive_avg_pool2d(x, arg_list(a, "output_size")), Tensor()};
}

// A tensor of the case, or undefined for JSON null.
inline Tensor optional_tensor(const json& c, const char* key) {
  return c.at(key).is_null() ? Tensor() : tensor_from_json(c.at(key));
}

// Float32 values are compared to a few float ulps, float64 ones to ~1e-12.
inline double rtol_for(const Tensor& t) {
  return t.dtype() == kFloat64 ? 1e-10 : 1e-5;
}
inline double atol_for(const Tensor& t) {
  return t.dtype() == kFloat64 ? 1e-12 : 1e-6;
}

}  // namespace tinytorch::test
