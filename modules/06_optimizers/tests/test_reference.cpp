// Module 06 against PyTorch 1.13: every case of tests/data/module06_reference.json (written by
// tools/reference/gen_module06.py) is replayed here.
//
//  * Optimizers: the same parameters, the same gradients set directly (no backward pass), the same
//    hyper-parameters and parameter groups; after EVERY step each parameter must equal PyTorch's,
//    and after the last step the optimizer state (step counts, momentum buffers, moments) too.
//  * Schedulers: the lr of every group after construction and after each step(), and the closed
//    form at the same epochs.
//  * Clipping: the returned total norm and the clipped gradients.
//
// A failure names the case; find it in the JSON file (one case per line).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "optim_test_util.h"

namespace tinytorch {
namespace {

using test::json;

const json& reference() {
  return test::load_reference("module06_reference.json");
}

// The largest |got − expected| / max(|expected|, 1) over every value compared: relative for
// large values, absolute for small ones (a parameter that passes near 0 keeps the absolute
// rounding error of the O(1) values it was computed from).
void track(double& worst, const Tensor& got, const Tensor& expected) {
  const auto g = test::values_as_double(got), e = test::values_as_double(expected);
  for (size_t i = 0; i < g.size() && i < e.size(); ++i) {
    worst = std::max(worst, std::abs(g[i] - e[i]) / std::max(std::abs(e[i]), 1.0));
  }
}

// Replays one optimizer case, checking every step; returns the largest relative deviation.
double replay(const json& c) {
  double worst = 0;
  std::vector<Tensor> params;
  for (const auto& p : c.at("params")) params.push_back(test::param_from_json(p));
  std::vector<std::pair<std::vector<Tensor>, json>> groups;
  for (const auto& g : c.at("groups")) {
    std::vector<Tensor> ps;
    for (const auto& i : g.at("params")) ps.push_back(params.at(i.get<size_t>()));
    groups.emplace_back(ps, g.at("options"));
  }
  auto opt = test::make_optimizer(c.at("optimizer"), c.at("defaults"), groups);
  std::unique_ptr<optim::LRScheduler> sched;
  if (c.contains("scheduler")) sched = test::make_scheduler(*opt, c.at("scheduler"));
  const ScalarType dtype = test::parse_dtype(c.at("dtype"));
  const double rtol = test::optim_rtol(dtype), atol = test::optim_atol(dtype);

  const json& grads = c.at("grads");
  for (size_t s = 0; s < grads.size(); ++s) {
    SCOPED_TRACE("step " + std::to_string(s + 1));
    for (size_t i = 0; i < params.size(); ++i) {
      const json& g = grads[s][i];
      params[i].mutable_grad() = g.is_null() ? Tensor() : test::tensor_from_json(g);
    }
    opt->step();
    if (sched) sched->step();
    for (size_t i = 0; i < params.size(); ++i) {
      const Tensor expected = test::tensor_from_json(c.at("expected")[s][i]);
      EXPECT_TRUE(test::tensors_match(params[i], expected, rtol, atol)) << "parameter " << i;
      track(worst, params[i], expected);
    }
    for (size_t g = 0; g < opt->param_groups().size(); ++g) {
      EXPECT_DOUBLE_EQ(opt->param_groups()[g].options().get_lr(), c.at("lrs")[s][g].get<double>())
          << "lr of group " << g;
    }
  }

  // The state PyTorch kept, through our state_dict (which names buffers as PyTorch does).
  const OrderedDict<std::string, Tensor> sd = opt->state_dict();
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string key = std::to_string(i);
    const std::string prefix = "state." + key + ".";
    EXPECT_EQ(sd.contains(prefix + "step"), c.at("state").contains(key)) << "parameter " << i;
    if (!c.at("state").contains(key)) continue;
    for (const auto& [name, value] : c.at("state").at(key).items()) {
      if (!sd.contains(prefix + name)) {
        ADD_FAILURE() << "state dict lacks " << prefix + name;
        continue;
      }
      if (name == "step") {
        EXPECT_EQ(sd[prefix + name].item<int64_t>(), value.get<int64_t>()) << prefix + name;
      } else {
        EXPECT_TRUE(
            test::tensors_match(sd[prefix + name], test::tensor_from_json(value), rtol, atol))
            << prefix + name;
        track(worst, sd[prefix + name], test::tensor_from_json(value));
      }
    }
  }
  return worst;
}

class OptimizerReference : public ::testing::TestWithParam<size_t> {};

TEST_P(OptimizerReference, MatchesPyTorchAfterEveryStep) {
  const json& c = reference().at("optimizers").at(GetParam());
  SCOPED_TRACE(c.at("name").get<std::string>());
  replay(c);
}

std::vector<size_t> indices(const char* list) {
  std::vector<size_t> out(reference().at(list).size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = i;
  return out;
}

std::string case_name(const char* list, size_t i) {
  return reference().at(list).at(i).at("name").get<std::string>();
}

INSTANTIATE_TEST_SUITE_P(Cases, OptimizerReference, ::testing::ValuesIn(indices("optimizers")),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return case_name("optimizers", info.param);
                         });

class SchedulerReference : public ::testing::TestWithParam<size_t> {};

TEST_P(SchedulerReference, MatchesPyTorchAtEveryEpoch) {
  const json& c = reference().at("schedulers").at(GetParam());
  std::vector<optim::OptimizerParamGroup> groups;
  for (const auto& lr : c.at("base_lrs")) {
    groups.emplace_back(std::vector<Tensor>{zeros({1}).set_requires_grad(true)},
                        std::make_unique<optim::SGDOptions>(lr.get<double>()));
  }
  optim::SGD opt(std::move(groups), optim::SGDOptions(0.5));
  json spec = c.at("args");
  spec["type"] = c.at("scheduler");
  auto sched = test::make_scheduler(opt, spec);
  const json& lrs = c.at("lrs");
  for (size_t epoch = 0; epoch < lrs.size(); ++epoch) {
    if (epoch > 0) sched->step();
    ASSERT_EQ(sched->last_epoch(), static_cast<int64_t>(epoch));
    const std::vector<double> closed = sched->closed_form_lrs();
    for (size_t g = 0; g < lrs[epoch].size(); ++g) {
      // The same double operations in the same order as PyTorch: equal to the last bit on
      // IEEE-754 machines with the same libm (EXPECT_DOUBLE_EQ allows 4 ulps, for a compiler that
      // contracts a*b+c into an FMA).
      EXPECT_DOUBLE_EQ(sched->get_last_lr()[g], lrs[epoch][g].get<double>())
          << "epoch " << epoch << ", group " << g;
      EXPECT_DOUBLE_EQ(opt.param_groups()[g].options().get_lr(), lrs[epoch][g].get<double>());
      EXPECT_DOUBLE_EQ(closed[g], c.at("closed_form")[epoch][g].get<double>())
          << "closed form, epoch " << epoch << ", group " << g;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, SchedulerReference, ::testing::ValuesIn(indices("schedulers")),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return case_name("schedulers", info.param);
                         });

class ClippingReference : public ::testing::TestWithParam<size_t> {};

TEST_P(ClippingReference, MatchesPyTorch) {
  const json& c = reference().at("clipping").at(GetParam());
  std::vector<Tensor> params;
  for (const auto& g : c.at("grads")) {
    Tensor grad = test::tensor_from_json(g);
    Tensor p = zeros(grad.sizes(), grad.dtype()).set_requires_grad(true);
    p.mutable_grad() = grad;
    params.push_back(p);
  }
  const json& args = c.at("args");
  const ScalarType dtype = params[0].dtype();
  if (c.at("fn") == "clip_grad_norm_") {
    const double norm_type =
        args.contains("norm_type") ? test::json_to_double(args.at("norm_type")) : 2.0;
    const double total =
        nn::utils::clip_grad_norm_(params, args.at("max_norm").get<double>(), norm_type);
    // We accumulate in double; PyTorch's float32 norm is computed in float32.
    EXPECT_NEAR(total, c.at("total_norm").get<double>(),
                (dtype == kFloat32 ? 1e-6 : 1e-13) * c.at("total_norm").get<double>());
  } else {
    nn::utils::clip_grad_value_(params, args.at("clip_value").get<double>());
  }
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(test::tensors_match(params[i].grad(), c.at("expected")[i],
                                    dtype == kFloat32 ? 1e-6 : 1e-13, 0.0))
        << "gradient " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ClippingReference, ::testing::ValuesIn(indices("clipping")),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return case_name("clipping", info.param);
                         });

// All cases again, to print how close we come: the evidence behind the tolerances.
TEST(OptimizerReferenceSummary, LargestDeviationFromPyTorch) {
  double worst[2] = {0, 0};
  for (const json& c : reference().at("optimizers")) {
    double& w = worst[c.at("dtype") == "float32" ? 0 : 1];
    const double r = replay(c);
    if (std::getenv("TT_PRINT_WORST"))
      std::cout << c.at("name").get<std::string>() << " " << r << "\n";
    w = std::max(w, r);
  }
  std::cout << "  largest relative deviation from PyTorch over all optimizer cases: float32 "
            << worst[0] << ", float64 " << worst[1] << "\n";
  EXPECT_LT(worst[0], test::optim_rtol(kFloat32));
  EXPECT_LT(worst[1], test::optim_rtol(kFloat64));
}

}  // namespace
}  // namespace tinytorch
