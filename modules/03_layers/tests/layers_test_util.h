// Helpers shared by module 03's tests (visible and hidden): the PyTorch reference data, a naive
// linear layer computed in double by plain loops, the custom model of the reference script,
// and a guard that runs code under one kernel tier.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::test {

inline const json& module03_reference() {
  return load_reference("module03_reference.json");
}

// [{"key", "tensor"}] → an OrderedDict, as a checkpoint loaded from disk would be.
inline OrderedDict<std::string, Tensor> state_dict_from_json(const json& entries) {
  OrderedDict<std::string, Tensor> sd;
  for (const auto& e : entries)
    sd.insert(e.at("key").get<std::string>(), tensor_from_json(e.at("tensor")));
  return sd;
}

// y[r][o] = Σ_k x[r][k]·w[o][k] + b[o], in double, reading memory through strides (any layout).
// x is [*, K], w is [N, K], b is undefined or [N]; the result is a float64 tensor [*, N].
inline Tensor naive_linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  const int64_t K = x.size(-1), N = w.size(0);
  const std::vector<double> xv = values_as_double(x), wv = values_as_double(w);
  const std::vector<double> bv = b.defined() ? values_as_double(b) : std::vector<double>();
  int64_t M = 1;
  for (int64_t d = 0; d + 1 < x.dim(); ++d) M *= x.size(d);
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end() - 1);
  shape.push_back(N);
  std::vector<double> out(static_cast<size_t>(M * N));
  for (int64_t r = 0; r < M; ++r) {
    for (int64_t o = 0; o < N; ++o) {
      double acc = bv.empty() ? 0.0 : bv[static_cast<size_t>(o)];
      for (int64_t k = 0; k < K; ++k) {
        acc += xv[static_cast<size_t>(r * K + k)] * wv[static_cast<size_t>(o * K + k)];
      }
      out[static_cast<size_t>(r * N + o)] = acc;
    }
  }
  return from_vector(out, shape, kFloat64);
}

using kernels::TierGuard;

inline const char* tier_name(kernels::Tier t) {
  return t == kernels::Tier::kFast ? "fast" : "reference";
}

// The custom model of tools/reference/gen_module03.py (class Net), rebuilt with tinytorch::nn.
struct NetImpl : nn::Module {
  NetImpl() {
    temperature = register_parameter("temperature", ones({1}));
    steps = register_buffer("steps", zeros({1}));
    fc1 = register_module("fc1", nn::Linear(4, 8));
    act = register_module("act", nn::ReLU());
    head = register_module("head", nn::Sequential(nn::Linear(8, 3), nn::LogSoftmax(1)));
    drop = register_module("drop", nn::Dropout(0.25));
  }
  Tensor forward(const Tensor& x) { return drop(head(act(fc1(x)))) * temperature; }

  Tensor temperature, steps;
  nn::Linear fc1{nullptr};
  nn::ReLU act{nullptr};
  nn::Sequential head{nullptr};
  nn::Dropout drop{nullptr};
};
TT_MODULE(Net);

inline std::vector<std::string> keys_of(const json& list) {
  std::vector<std::string> out;
  for (const auto& k : list) out.push_back(k.get<std::string>());
  return out;
}

}  // namespace tinytorch::test
