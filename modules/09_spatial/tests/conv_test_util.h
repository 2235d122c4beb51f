// Helpers shared by module 09's convolution tests (visible and hidden): the PyTorch reference
// data, one reference case turned into tensors and arguments, and random conv2d problems.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/native/conv.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::test {

inline const json& module09_conv_reference() {
  return load_reference("module09_conv_reference.json");
}

using kernels::Tier;
using kernels::TierGuard;
inline constexpr Tier kTiers[] = {Tier::kReference, Tier::kFast};
inline const char* tier_name(Tier t) {
  return t == Tier::kFast ? "fast" : "reference";
}

// The geometry arguments of one conv2d call.
struct ConvArgs {
  std::vector<int64_t> stride{1}, padding{0}, dilation{1};
  int64_t groups = 1;
};

inline std::string args_str(const ConvArgs& a) {
  return "stride " + shape_str(a.stride) + ", padding " + shape_str(a.padding) + ", dilation " +
         shape_str(a.dilation) + ", groups " + std::to_string(a.groups);
}

// One case of the "cases" section: the tensors (fresh leaves) and the arguments.
struct ConvCase {
  std::string name;
  Tensor input, weight, bias;  // bias undefined when the case has none
  ConvArgs args;
  const json* j = nullptr;  // the case itself, for its expected tensors
};

inline ConvCase conv_case(const json& c) {
  ConvCase out;
  out.name = c.at("name").get<std::string>();
  out.input = tensor_from_json(c.at("input"));
  out.weight = tensor_from_json(c.at("weight"));
  if (!c.at("bias").is_null()) out.bias = tensor_from_json(c.at("bias"));
  out.args = {int_list(c.at("stride")), int_list(c.at("padding")), int_list(c.at("dilation")),
              json_to_int(c.at("groups"))};
  out.j = &c;
  return out;
}

// float32 sums of n products differ from PyTorch's (another summation order) by about n·eps.
inline double conv_tol(ScalarType dt, int64_t terms) {
  return dt == kFloat64 ? 1e-12 * static_cast<double>(terms + 4)
                        : 2e-6 * static_cast<double>(terms + 4);
}

// tinytorch::conv2d with ConvArgs.
inline Tensor conv(const Tensor& x, const Tensor& w, const Tensor& b, const ConvArgs& a) {
  return conv2d(x, w, b, a.stride, a.padding, a.dilation, a.groups);
}
inline Tensor conv_naive(const Tensor& x, const Tensor& w, const Tensor& b, const ConvArgs& a) {
  return native::conv2d_naive(x, w, b, a.stride, a.padding, a.dilation, a.groups);
}

// A random valid conv2d problem: sizes small enough for the naive loops and for gradcheck.
struct RandomConv {
  std::vector<int64_t> x_shape, w_shape;
  bool bias;
  ConvArgs args;
};

}  // namespace tinytorch::test
