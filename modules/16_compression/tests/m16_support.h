// Helpers shared by module 16's tests: reference matrices from JSON, max-abs differences.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::m16 {

// A JSON number, list or list of lists (null → NaN) as a float64 tensor of that shape.
inline Tensor json_tensor(const nlohmann::json& j) {
  std::vector<double> values;
  std::vector<int64_t> sizes;
  if (!j.is_array()) {
    values.push_back(j.is_null() ? NAN : j.get<double>());
  } else if (!j.empty() && j[0].is_array()) {
    sizes = {static_cast<int64_t>(j.size()), static_cast<int64_t>(j[0].size())};
    for (const auto& row : j) {
      for (const auto& v : row) values.push_back(v.is_null() ? NAN : v.get<double>());
    }
  } else {
    sizes = {static_cast<int64_t>(j.size())};
    for (const auto& v : j) values.push_back(v.is_null() ? NAN : v.get<double>());
  }
  Tensor t = empty(sizes, kFloat64);
  std::copy(values.begin(), values.end(), t.data_ptr<double>());
  return t;
}

// max |a − b| over the entries where b is not NaN (a NaN in a fails).
inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = test::values_as_double(a), y = test::values_as_double(b);
  EXPECT_EQ(x.size(), y.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
    if (std::isnan(y[i])) continue;
    worst = std::max(worst, std::isnan(x[i]) ? INFINITY : std::abs(x[i] - y[i]));
  }
  return worst;
}

inline const nlohmann::json& cases() {
  return test::load_reference("module16_reference.json").at("cases");
}

// A float64 Conv2d (k×k kernel, stride 1) with the default initialisation.
inline nn::Conv2d conv64(int64_t in, int64_t out, int64_t k, int64_t padding = 0) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).padding(padding).dtype(kFloat64));
}

}  // namespace tinytorch::m16
