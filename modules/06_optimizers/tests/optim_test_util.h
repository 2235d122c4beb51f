// Helpers shared by module 06's tests: building optimizers and schedulers from the reference
// data's descriptions (tests/data/module06_reference.json, see tools/reference/gen_module06.py).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "tinytorch/nn/utils/clip_grad.h"
#include "tinytorch/optim/optim.h"

namespace tinytorch::test {

// Sets the options named in `overrides` ({"momentum": 0.9, "nesterov": true, ...}) through the
// by-name interface every OptimizerOptions has (the one state_dict uses).
inline void apply_options(optim::OptimizerOptions& options, const json& overrides) {
  std::map<std::string, double> values;
  for (const auto& [name, value] : options.to_values()) values[name] = value;
  for (const auto& [name, value] : overrides.items()) {
    if (!values.contains(name)) throw std::runtime_error("unknown option " + name);
    values[name] = value.is_boolean() ? (value.get<bool>() ? 1.0 : 0.0) : value.get<double>();
  }
  options.from_values([&](const std::string& name) { return values.at(name); });
}

// An optimizer of type `type` ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad") with the given
// defaults and groups: (parameters, option overrides) each.
inline std::unique_ptr<optim::Optimizer> make_optimizer(
    const std::string& type, const json& defaults,
    const std::vector<std::pair<std::vector<Tensor>, json>>& groups) {
  auto build = [&]<typename Opt, typename Options>(Options d) -> std::unique_ptr<optim::Optimizer> {
    apply_options(d, defaults);
    std::vector<optim::OptimizerParamGroup> gs;
    for (const auto& [params, overrides] : groups) {
      auto o = d.clone();
      apply_options(*o, overrides);
      gs.emplace_back(params, std::move(o));
    }
    return std::make_unique<Opt>(std::move(gs), d);
  };
  if (type == "SGD") {
    return build.template operator()<optim::SGD>(
        optim::SGDOptions(defaults.at("lr").get<double>()));
  }
  if (type == "Adam") return build.template operator()<optim::Adam>(optim::AdamOptions());
  if (type == "AdamW") return build.template operator()<optim::AdamW>(optim::AdamWOptions());
  if (type == "RMSprop") return build.template operator()<optim::RMSprop>(optim::RMSpropOptions());
  if (type == "Adagrad") return build.template operator()<optim::Adagrad>(optim::AdagradOptions());
  throw std::runtime_error("unknown optimizer " + type);
}

// {"type": "StepLR", "step_size": 3, "gamma": 0.5} etc. (PyTorch's argument names).
inline std::unique_ptr<optim::LRScheduler> make_scheduler(optim::Optimizer& opt, const json& spec) {
  const auto type = spec.at("type").get<std::string>();
  auto get = [&](const char* key, double fallback) {
    return spec.contains(key) ? spec.at(key).get<double>() : fallback;
  };
  if (type == "StepLR") {
    return std::make_unique<optim::StepLR>(opt, spec.at("step_size").get<int64_t>(),
                                           get("gamma", 0.1));
  }
  if (type == "CosineAnnealingLR") {
    return std::make_unique<optim::CosineAnnealingLR>(opt, spec.at("T_max").get<int64_t>(),
                                                      get("eta_min", 0.0));
  }
  if (type == "LinearLR") {
    return std::make_unique<optim::LinearLR>(
        opt, get("start_factor", 1.0 / 3), get("end_factor", 1.0),
        spec.contains("total_iters") ? spec.at("total_iters").get<int64_t>() : 5);
  }
  throw std::runtime_error("unknown scheduler " + type);
}

// A float64 vector, and the same as a leaf parameter (requires grad).
inline Tensor vec(std::initializer_list<double> values) {
  return tensor(TensorDataContainer(std::vector<double>(values)), kFloat64);
}
inline Tensor param(std::initializer_list<double> values) {
  return vec(values).set_requires_grad(true);
}

// A leaf parameter (requires grad) from a reference tensor.
inline Tensor param_from_json(const json& j) {
  Tensor p = tensor_from_json(j);
  p.set_requires_grad(true);
  return p;
}

// Tolerances for comparing with PyTorch's optimizer results (relative, and absolute for values
// near 0). Our fused loops do the same IEEE operations in the same order as PyTorch's
// single-tensor path, but PyTorch's vectorized CPU kernels fuse some multiply-adds (FMA: one
// rounding instead of two), so a step can differ by an ulp per operation, and differences feed
// back through the state. Measured over all reference cases (test_reference.cpp prints it):
// 1.9e-7 in float32 (~1.6 ulp at 1.0) and 5e-16 in float64 (~2 ulp). The tolerances leave about
// 10× (float32) and 200× (float64) headroom for other compilers and CPUs.
inline double optim_rtol(ScalarType t) {
  return t == kFloat32 ? 2e-6 : 1e-13;
}
inline double optim_atol(ScalarType t) {
  return t == kFloat32 ? 2e-6 : 1e-13;
}

}  // namespace tinytorch::test
