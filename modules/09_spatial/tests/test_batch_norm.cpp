// Module 09 — batch normalisation: F::batch_norm and nn::BatchNorm1d/2d against PyTorch
// (tests/data/module09_pool_bn_reference.json): outputs, gradients, running statistics with
// momentum 0.1 and momentum None; float64 gradchecks in training and eval mode; train()/eval();
// state_dict round trips and PyTorch-shaped state dicts; the argument checks. The gradient tests
// need module 05 (autograd).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pool_bn_test_util.h"
#include "support/op_cases.h"
#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/native/batch_norm.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using test::random;

namespace F = tinytorch::nn::functional;
using test::json;

std::optional<double> momentum_arg(const json& v) {
  return v.is_null() ? std::nullopt : std::optional<double>(v.get<double>());
}

// ── F::batch_norm against PyTorch ─────────────────────────────────────────────────────────────

// Forward values and the running statistics after the call (updated in place in training), then
// the gradients of (y * g).sum() from the native backward kernel (no autograd needed).
TEST(BatchNormReference, ForwardRunningStatsAndBackwardKernelMatchPyTorch) {
  int n = 0;
  for (const json& c : test::pool_bn_cases()) {
    if (c.at("op") != "batch_norm") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const json& a = c.at("args");
    const Tensor x = test::tensor_from_json(c.at("input"));
    const Tensor w = test::optional_tensor(c, "weight"), b = test::optional_tensor(c, "bias");
    const Tensor rm = test::optional_tensor(c, "running_mean");
    const Tensor rv = test::optional_tensor(c, "running_var");
    const bool training = a.at("training");
    const double rtol = test::rtol_for(x), atol = test::atol_for(x);
    auto [y, save_mean, save_invstd] = native::native_batch_norm(
        x, w, b, rm, rv, training, a.at("momentum").get<double>(), a.at("eps").get<double>());
    EXPECT_TRUE(test::tensors_match(y, c.at("output"), rtol, atol)) << "forward";
    if (rm.defined()) {
      EXPECT_TRUE(test::tensors_match(rm, c.at("running_mean_after"), rtol, atol));
      EXPECT_TRUE(test::tensors_match(rv, c.at("running_var_after"), rtol, atol));
    }
    const Tensor g = test::tensor_from_json(c.at("grad_output"));
    auto [gx, gw, gb] = native::native_batch_norm_backward(g, x, w, save_mean, save_invstd,
                                                           training, {true, true, true});
    EXPECT_TRUE(test::tensors_match(gx, c.at("grad_input"), rtol, 1e-5)) << "grad_input";
    if (w.defined()) {
      EXPECT_TRUE(test::tensors_match(gw, c.at("grad_weight"), rtol, 1e-5)) << "grad_weight";
      EXPECT_TRUE(test::tensors_match(gb, c.at("grad_bias"), rtol, 1e-5)) << "grad_bias";
    }
    ++n;
  }
  EXPECT_GE(n, 10);
}

TEST(BatchNormReference, GradientsThroughAutogradMatchPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (const json& c : test::pool_bn_cases()) {
    if (c.at("op") != "batch_norm") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    const json& a = c.at("args");
    const Tensor x = test::tensor_from_json(c.at("input")).requires_grad_();
    Tensor w = test::optional_tensor(c, "weight"), b = test::optional_tensor(c, "bias");
    if (w.defined()) {
      w.requires_grad_();
      b.requires_grad_();
    }
    const Tensor y = F::batch_norm(x, test::optional_tensor(c, "running_mean"),
                                   test::optional_tensor(c, "running_var"),
                                   F::BatchNormFuncOptions()
                                       .weight(w)
                                       .bias(b)
                                       .training(a.at("training"))
                                       .momentum(a.at("momentum").get<double>())
                                       .eps(a.at("eps").get<double>()));
    EXPECT_EQ(y.grad_fn()->name(), "NativeBatchNormBackward0");
    y.backward(test::tensor_from_json(c.at("grad_output")));
    const double rtol = test::rtol_for(x);
    EXPECT_TRUE(test::tensors_match(x.grad(), c.at("grad_input"), rtol, 1e-5));
    if (w.defined()) {
      EXPECT_TRUE(test::tensors_match(w.grad(), c.at("grad_weight"), rtol, 1e-5));
      EXPECT_TRUE(test::tensors_match(b.grad(), c.at("grad_bias"), rtol, 1e-5));
    }
  }
}

// ── nn::BatchNorm1d / 2d against PyTorch ──────────────────────────────────────────────────────

std::shared_ptr<nn::BatchNormImplBase> make_module(const json& c) {
  const json& o = c.at("options");
  const auto options = nn::BatchNormOptions(c.at("num_features").get<int64_t>())
                           .eps(o.at("eps").get<double>())
                           .momentum(momentum_arg(o.at("momentum")))
                           .affine(o.at("affine").get<bool>())
                           .track_running_stats(o.at("track_running_stats").get<bool>());
  if (c.at("module") == "BatchNorm1d") return nn::BatchNorm1d(options).ptr();
  return nn::BatchNorm2d(options).ptr();
}

// Two training steps (the state_dict after each: running stats, num_batches_tracked) and one eval
// forward, with momentum 0.1 and momentum None (the cumulative average).
TEST(BatchNormModule, TrainingStepsAndEvalMatchPyTorch) {
  int n = 0;
  for (const json& c : test::pool_bn_cases()) {
    if (c.at("op") != "bn_module") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    auto m = make_module(c);
    if (m->options.affine()) {
      const NoGradGuard no_grad;
      m->weight.copy_(test::tensor_from_json(c.at("weight")));
      m->bias.copy_(test::tensor_from_json(c.at("bias")));
    }
    m->train();
    for (int step = 0; step < 2; ++step) {
      m->forward(test::tensor_from_json(c.at("inputs").at(step)));
      const auto sd = m->state_dict();
      const json& expected = c.at("state_dicts").at(step);
      ASSERT_EQ(sd.size(), expected.size()) << "state_dict keys after step " << step + 1;
      size_t i = 0;
      for (const auto& [key, value] : sd) {
        const json& e = expected.at(i++);
        EXPECT_EQ(key, e.at("key").get<std::string>());
        EXPECT_TRUE(test::tensors_match(value, e.at("tensor"), 1e-5, 1e-6))
            << key << " after step " << step + 1;
      }
    }
    m->eval();
    EXPECT_TRUE(test::tensors_match(m->forward(test::tensor_from_json(c.at("inputs").at(2))),
                                    c.at("eval_output"), 1e-5, 1e-5));
    ++n;
  }
  EXPECT_GE(n, 6);
}

// Every repr case of the reference data, built here with the same arguments.
TEST(BatchNormModule, LayersPrintLikePyTorch) {
  int checked = 0, cases = 0;
  for (const json& c : test::pool_bn_cases()) {
    if (c.at("op") != "repr") continue;
    ++cases;
    const std::string name = c.at("name");
    std::shared_ptr<nn::Module> m;
    if (name == "repr_maxpool_2") {
      m = nn::MaxPool2d(2).ptr();
    } else if (name == "repr_maxpool_3_s2_p1") {
      m = nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)).ptr();
    } else if (name == "repr_maxpool_rect") {
      m = nn::MaxPool2d(
              nn::MaxPool2dOptions({2, 3}).stride(1).padding({1, 0}).dilation(2).ceil_mode(true))
              .ptr();
    } else if (name == "repr_avgpool_2") {
      m = nn::AvgPool2d(2).ptr();
    } else if (name == "repr_avgpool_3_s1_p1") {
      m = nn::AvgPool2d(nn::AvgPool2dOptions(3).stride(1).padding(1).count_include_pad(false))
              .ptr();
    } else if (name == "repr_adaptive_1x1") {
      m = nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})).ptr();
    } else if (name == "repr_adaptive_3x2") {
      m = nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({3, 2})).ptr();
    } else if (name == "repr_bn2d_16") {
      m = nn::BatchNorm2d(16).ptr();
    } else if (name == "repr_bn2d_options") {
      m = nn::BatchNorm2d(nn::BatchNorm2dOptions(8)
                              .eps(1e-3)
                              .momentum(std::nullopt)
                              .affine(false)
                              .track_running_stats(false))
              .ptr();
    } else if (name == "repr_bn1d_4") {
      m = nn::BatchNorm1d(nn::BatchNorm1dOptions(4).momentum(0.01)).ptr();
    } else if (name == "repr_cnn_block") {
      m = nn::Sequential(nn::BatchNorm2d(6), nn::ReLU(), nn::MaxPool2d(2),
                         nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})))
              .ptr();
    } else {
      ADD_FAILURE() << "no C++ module for reference case " << name;
      continue;
    }
    std::ostringstream os;
    os << *m;
    EXPECT_EQ(os.str(), c.at("expected").get<std::string>()) << name;
    ++checked;
  }
  EXPECT_EQ(checked, cases);
  EXPECT_GE(cases, 10);
}

// ── train() / eval() ──────────────────────────────────────────────────────────────────────────

TEST(BatchNormModule, TrainUsesTheBatchEvalUsesTheRunningStatistics) {
  nn::BatchNorm2d bn(3);
  const Tensor x = random({4, 3, 5, 5}, 1, kFloat32).mul(3.0).add(2.0);
  // Training: every channel of the output has mean 0 and (biased) variance 1.
  const Tensor y = bn(x);
  EXPECT_LT(y.mean({0, 2, 3}).abs().max().item<float>(), 1e-5f);
  EXPECT_NEAR(y.var({0, 2, 3}, false).mean().item<float>(), 1.0f, 1e-3);
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 1);
  // Eval: the running statistics, so one sample's output no longer depends on its batch-mates.
  bn->eval();
  const Tensor alone = bn(x.slice(0, 0, 1));
  const Tensor in_batch = bn(x).slice(0, 0, 1);
  TT_EXPECT_TENSOR_EQ(alone, in_batch);
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 1) << "eval() does not count batches";
  // ... and a batch of one is fine in eval (it is not in training: no variance to estimate).
  EXPECT_NO_THROW(bn(x.slice(0, 0, 1).slice(2, 0, 1).slice(3, 0, 1)));
}

TEST(BatchNormModule, MomentumNoneIsTheCumulativeAverage) {
  nn::BatchNorm1d bn(nn::BatchNorm1dOptions(2).momentum(std::nullopt));
  std::vector<Tensor> batches;
  for (uint64_t k = 0; k < 3; ++k) batches.push_back(random({5, 2}, 10 + k, kFloat32).add(k));
  for (const Tensor& b : batches) bn(b);
  Tensor mean_of_means = zeros({2});
  for (const Tensor& b : batches) mean_of_means = mean_of_means + b.mean({0}) / 3.0;
  TT_EXPECT_TENSOR_EQ(bn->running_mean, mean_of_means, 1e-5, 1e-6);
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 3);
}

TEST(BatchNormModule, WithoutRunningStatsEvalStillUsesTheBatch) {
  nn::BatchNorm2d bn(nn::BatchNorm2dOptions(2).track_running_stats(false).affine(false));
  EXPECT_TRUE(bn->parameters().empty());
  EXPECT_TRUE(bn->buffers().empty());
  const Tensor x = random({3, 2, 4, 4}, 2, kFloat32);
  const Tensor train_out = bn(x);
  bn->eval();
  TT_EXPECT_TENSOR_EQ(bn(x), train_out);
}

// ── state_dict ────────────────────────────────────────────────────────────────────────────────

TEST(BatchNormModule, StateDictCarriesTheRunningStatistics) {
  nn::BatchNorm2d trained(4);
  for (uint64_t k = 0; k < 3; ++k) trained(random({2, 4, 3, 3}, 20 + k, kFloat32).add(1.0));
  const auto sd = trained->state_dict();
  std::vector<std::string> keys;
  for (const auto& [k, v] : sd) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"weight", "bias", "running_mean", "running_var",
                                            "num_batches_tracked"}));
  EXPECT_EQ(sd["num_batches_tracked"].dtype(), kInt64);
  EXPECT_EQ(sd["num_batches_tracked"].dim(), 0);

  nn::BatchNorm2d fresh(4);
  fresh->load_state_dict(sd);
  trained->eval();
  fresh->eval();
  const Tensor x = random({2, 4, 3, 3}, 30, kFloat32);
  TT_EXPECT_TENSOR_EQ(fresh(x), trained(x));
  EXPECT_EQ(fresh->num_batches_tracked.item<int64_t>(), 3);
}

TEST(BatchNormModule, LoadsAPyTorchStateDict) {
  // The state dict PyTorch's nn.BatchNorm2d(3) had after two training steps (reference data).
  for (const json& c : test::pool_bn_cases()) {
    if (c.at("name") != "bn2d_momentum_0_1") continue;
    OrderedDict<std::string, Tensor> sd;
    for (const json& e : c.at("state_dicts").at(1)) {
      sd.insert(e.at("key").get<std::string>(), test::tensor_from_json(e.at("tensor")));
    }
    nn::BatchNorm2d bn(3);
    bn->load_state_dict(sd);
    bn->eval();
    EXPECT_TRUE(test::tensors_match(bn(test::tensor_from_json(c.at("inputs").at(2))),
                                    c.at("eval_output"), 1e-5, 1e-5));
    return;
  }
  FAIL() << "reference case bn2d_momentum_0_1 is missing";
}

// ── gradchecks ────────────────────────────────────────────────────────────────────────────────

TEST(BatchNormGradcheck, TrainingModeInputWeightBias) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (const std::vector<int64_t>& shape :
       {std::vector<int64_t>{4, 3, 3, 2}, {5, 2}, {2, 3, 4}, {1, 2, 3, 3}}) {
    SCOPED_TRACE("input " + test::shape_str(shape));
    const int64_t C = shape[1];
    const Tensor x = random(shape, 40).mul(2.0).add(0.5).requires_grad_();
    const Tensor w = random({C}, 41).add(1.0).requires_grad_();
    const Tensor b = random({C}, 42).requires_grad_();
    const auto r = autograd::gradcheck(
        [](const std::vector<Tensor>& in) {
          return batch_norm(in[0], in[1], in[2], Tensor(), Tensor(), true, 0.1, 1e-5);
        },
        {x, w, b});
    EXPECT_TRUE(r.ok) << r.message;
  }
}

TEST(BatchNormGradcheck, TrainingModeWithoutAffineAndWithRunningStats) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 2, 4, 3}, 50).requires_grad_();
  const auto r = autograd::gradcheck(
      [](const std::vector<Tensor>& in) {
        // Fresh running stats per call: the update must not leak into the function's value.
        return batch_norm(in[0], Tensor(), Tensor(), zeros({2}, kFloat64), ones({2}, kFloat64),
                          true, 0.1, 1e-5);
      },
      {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(BatchNormGradcheck, EvalMode) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 2, 4, 3}, 60).requires_grad_();
  const Tensor w = random({2}, 61).requires_grad_(), b = random({2}, 62).requires_grad_();
  const Tensor rm = random({2}, 63), rv = random({2}, 64).abs().add(0.5);
  const auto r = autograd::gradcheck(
      [&](const std::vector<Tensor>& in) {
        return batch_norm(in[0], in[1], in[2], rm, rv, false, 0.1, 1e-5);
      },
      {x, w, b});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(BatchNormGradcheck, ThroughTheModule) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  nn::BatchNorm2d bn(nn::BatchNorm2dOptions(3).dtype(kFloat64));
  const Tensor x = random({2, 3, 3, 3}, 70).requires_grad_();
  for (const bool training : {true, false}) {
    bn->train(training);
    const auto r =
        autograd::gradcheck([&](const std::vector<Tensor>& in) { return bn(in[0]); }, {x});
    EXPECT_TRUE(r.ok) << (training ? "train: " : "eval: ") << r.message;
  }
}

// ── non-finite inputs and eps = 0 ─────────────────────────────────────────────────────────────

// The tiers, named for SCOPED_TRACE; float32 runs the fast tier's kernels under kFast.
constexpr kernels::Tier kTiers[] = {kernels::Tier::kReference, kernels::Tier::kFast};
bool all_finite(const Tensor& t) {
  for (const double v : t.to(kFloat64).to_vector<double>()) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}
std::string tier_and_dtype(kernels::Tier tier, ScalarType dtype) {
  return std::string(tier == kernels::Tier::kFast ? "fast" : "reference") + " tier, " +
         std::string(to_string(dtype));
}

// In eval mode the statistics are constants: gx = gy·γ·invstd, whatever x is. An inf or NaN
// input must not turn its gradient into NaN (as x·0 would), with or without the fused ReLU.
TEST(BatchNormEval, InfOrNanInputsKeepTheirGradientGyGammaInvstd) {
  for (const kernels::Tier tier : kTiers) {
    const kernels::TierGuard guard(tier);
    for (const ScalarType dtype : {kFloat32, kFloat64}) {
      SCOPED_TRACE(tier_and_dtype(tier, dtype));
      Tensor x = random({2, 2, 3}, 80, dtype);
      x.select(0, 0).select(0, 0).select(0, 1).fill_(std::numeric_limits<double>::infinity());
      x.select(0, 1).select(0, 1).select(0, 2).fill_(std::numeric_limits<double>::quiet_NaN());
      const Tensor w = random({2}, 81, dtype), b = random({2}, 82, dtype);
      const Tensor rm = random({2}, 83, dtype), rv = random({2}, 84, dtype).abs().add(0.5);
      const Tensor gy = random({2, 2, 3}, 85, dtype);
      // Channel c's factor γ·invstd, broadcast over [N, C, L].
      const Tensor factor = (w / (rv + 1e-5).sqrt()).view({1, 2, 1});
      const auto [y, mean, invstd] = native::native_batch_norm(x, w, b, rm, rv, false, 0.1, 1e-5);
      const Tensor gx = std::get<0>(
          native::native_batch_norm_backward(gy, x, w, mean, invstd, false, {true, false, false}));
      EXPECT_TRUE(test::tensors_match(gx, gy * factor, 1e-6, 1e-6)) << gx;
      // Fused ReLU: the same where the pre-activation was > 0 (an inf input's is +∞ or −∞).
      const auto fused = native::native_batch_norm_relu(x, w, b, rm, rv, false, 0.1, 1e-5);
      const Tensor pre = x * factor + (b.view({1, 2, 1}) - rm.view({1, 2, 1}) * factor);
      const Tensor gx_relu = std::get<0>(native::native_batch_norm_relu_backward(
          gy, x, w, b, std::get<1>(fused), std::get<2>(fused), false, {true, false, false}));
      const std::vector<double> got = gx_relu.to(kFloat64).to_vector<double>();
      const std::vector<double> pre_v = pre.to(kFloat64).to_vector<double>();
      const std::vector<double> plain = (gy * factor).to(kFloat64).to_vector<double>();
      for (size_t i = 0; i < got.size(); ++i) {
        if (std::isnan(pre_v[i])) continue;  // the NaN input: ReLU's step is undefined there
        EXPECT_NEAR(got[i], pre_v[i] > 0 ? plain[i] : 0.0, 1e-6) << "element " << i;
      }
    }
  }
}

// eps = 0 and a channel of equal values: var = 0, and 1/√0 would be ∞. PyTorch defines
// invstd = 0 there: the channel's output is β, its gradients 0 (gβ = Σ gy as always).
TEST(BatchNormTraining, ZeroEpsAndAConstantChannelGiveInvstdZeroNotNan) {
  for (const kernels::Tier tier : kTiers) {
    const kernels::TierGuard guard(tier);
    for (const ScalarType dtype : {kFloat32, kFloat64}) {
      SCOPED_TRACE(tier_and_dtype(tier, dtype));
      Tensor x = random({4, 2, 3}, 90, dtype);
      x.select(1, 1).fill_(2.5);  // channel 1: every value 2.5
      const Tensor w = random({2}, 91, dtype), b = random({2}, 92, dtype);
      const auto [y, mean, invstd] =
          native::native_batch_norm(x, w, b, Tensor(), Tensor(), true, 0.1, 0.0);
      EXPECT_EQ(invstd.to_vector<double>()[1], 0.0);
      EXPECT_TRUE(test::tensors_match(
          y.select(1, 1), full({4, 3}, b.to(kFloat64).to_vector<double>()[1], dtype), 0, 0));
      EXPECT_TRUE(all_finite(y));
      const Tensor gy = random({4, 2, 3}, 93, dtype);
      const auto [gx, gw, gb] =
          native::native_batch_norm_backward(gy, x, w, mean, invstd, true, {true, true, true});
      EXPECT_TRUE(test::tensors_match(gx.select(1, 1), zeros({4, 3}, dtype), 0, 0)) << gx;
      EXPECT_TRUE(all_finite(gx));
      EXPECT_EQ(gw.to(kFloat64).to_vector<double>()[1], 0.0);
      EXPECT_NEAR(gb.to(kFloat64).to_vector<double>()[1],
                  gy.select(1, 1).sum().to(kFloat64).item<double>(), 1e-5);
    }
  }
}

// ── the fused BatchNorm + ReLU (BatchNormOptions::fuse_relu) ─────────────────────────────────

// batch_norm_relu(x) against relu(batch_norm(x)): the same output, input/weight/bias gradients and
// running statistics to the last bit, float32 (the fast tier's kernels, or the reference loops
// under TINYTORCH_KERNELS=reference) and float64, training and eval. Channel 1 has γ = β = 0:
// every pre-activation there is exactly 0, ReLU's kink, where both must pass no gradient.
TEST(BatchNormRelu, EqualsBatchNormThenReluBitForBit) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (const ScalarType dtype : {kFloat32, kFloat64}) {
    for (const bool training : {true, false}) {
      SCOPED_TRACE(std::string(training ? "training, " : "eval, ") + std::string(to_string(dtype)));
      const Tensor x0 = random({4, 3, 5, 5}, 80, dtype).mul(1.5).add(0.25);
      const Tensor gy = random({4, 3, 5, 5}, 81, dtype);
      Tensor w0 = random({3}, 82, dtype), b0 = random({3}, 83, dtype);
      {
        const NoGradGuard no_grad;
        w0.select(0, 1).fill_(0.0);
        b0.select(0, 1).fill_(0.0);
      }
      const Tensor rm0 = random({3}, 84, dtype), rv0 = random({3}, 85, dtype).abs().add(0.5);
      const auto run = [&](bool fused) {
        const Tensor x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_(),
                     b = b0.clone().requires_grad_();
        const Tensor rm = rm0.clone(), rv = rv0.clone();
        const Tensor y = fused ? batch_norm_relu(x, w, b, rm, rv, training, 0.1, 1e-5)
                               : batch_norm(x, w, b, rm, rv, training, 0.1, 1e-5).relu();
        y.backward(gy);
        return std::vector<Tensor>{y.detach(), x.grad(), w.grad(), b.grad(), rm, rv};
      };
      const std::vector<Tensor> unfused = run(false), fused = run(true);
      const char* names[] = {"output",    "input grad",   "weight grad",
                             "bias grad", "running_mean", "running_var"};
      for (size_t i = 0; i < unfused.size(); ++i) {
        EXPECT_TRUE(fused[i].equal(unfused[i])) << names[i];
      }
      // The kink channel: the output is 0 and no gradient reaches γ or β.
      EXPECT_EQ(fused[0].select(1, 1).abs().max().item<double>(), 0.0);
      EXPECT_EQ(fused[2][1].item<double>(), 0.0);
      EXPECT_EQ(fused[3][1].item<double>(), 0.0);
    }
  }
}

TEST(BatchNormReluGradcheck, TrainingAndEval) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 2, 4, 3}, 90).mul(2.0).requires_grad_();
  const Tensor w = random({2}, 91).add(1.0).requires_grad_(), b = random({2}, 92).requires_grad_();
  const Tensor rm = random({2}, 93), rv = random({2}, 94).abs().add(0.5);
  for (const bool training : {true, false}) {
    const auto r = autograd::gradcheck(
        [&](const std::vector<Tensor>& in) {
          return training
                     ? batch_norm_relu(in[0], in[1], in[2], Tensor(), Tensor(), true, 0.1, 1e-5)
                     : batch_norm_relu(in[0], in[1], in[2], rm, rv, false, 0.1, 1e-5);
        },
        {x, w, b});
    EXPECT_TRUE(r.ok) << (training ? "train: " : "eval: ") << r.message;
  }
}

// nn::BatchNorm2d(fuse_relu) is nn::BatchNorm2d + nn::ReLU in one module: same state_dict, same
// output and running statistics in training and eval; F::batch_norm takes the same option.
TEST(BatchNormModule, FuseReluIsBatchNormThenRelu) {
  nn::BatchNorm2d fused(nn::BatchNorm2dOptions(3).fuse_relu(true)), plain(3);
  EXPECT_EQ(fused->extra_repr(),
            "3, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true, fuse_relu=true");
  EXPECT_EQ(plain->extra_repr(),
            "3, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true");
  {
    const NoGradGuard no_grad;
    plain->weight.copy_(random({3}, 100, kFloat32));
    plain->bias.copy_(random({3}, 101, kFloat32));
  }
  fused->load_state_dict(plain->state_dict());
  for (const bool training : {true, false}) {
    fused->train(training);
    plain->train(training);
    const Tensor x = random({2, 3, 4, 4}, training ? 102 : 103, kFloat32);
    EXPECT_TRUE(fused(x).equal(plain(x).relu())) << (training ? "train" : "eval");
    EXPECT_TRUE(fused->running_mean.equal(plain->running_mean));
    EXPECT_TRUE(fused->running_var.equal(plain->running_var));
  }
  const Tensor x = random({2, 3, 4, 4}, 104, kFloat32);
  const Tensor y = F::batch_norm(x, plain->running_mean, plain->running_var,
                                 F::BatchNormFuncOptions().training(false).fuse_relu(true));
  EXPECT_TRUE(y.equal(F::batch_norm(x, plain->running_mean, plain->running_var,
                                    F::BatchNormFuncOptions().training(false))
                          .relu()));
}

// ── argument checks ───────────────────────────────────────────────────────────────────────────

TEST(BatchNormErrors, ClearMessages) {
  nn::BatchNorm2d bn(16);
  TT_EXPECT_THROW_WITH(bn(zeros({2, 32, 4, 4})), Error, "BatchNorm2d(16)",
                       "expected 16 channels, got 32", "[2, 32, 4, 4]");
  TT_EXPECT_THROW_WITH(bn(zeros({16, 4, 4})), ValueError, "expected 4D input (got 3D input)");
  TT_EXPECT_THROW_WITH(nn::BatchNorm1d(4)(zeros({2, 4, 3, 3})), ValueError,
                       "expected 2D or 3D input (got 4D input)");
  TT_EXPECT_THROW_WITH(bn(zeros({1, 16, 1, 1})), ValueError,
                       "Expected more than 1 value per channel when training", "[1, 16, 1, 1]");
  // The functional form names the tensor that does not fit, as PyTorch does.
  TT_EXPECT_THROW_WITH(
      batch_norm(zeros({2, 3}), ones({4}), Tensor(), zeros({3}), ones({3}), true, 0.1, 1e-5), Error,
      "weight should contain 3 elements not 4", "expected 4 channels, got 3");
  TT_EXPECT_THROW_WITH(
      batch_norm(zeros({2, 3}), ones({3}, kFloat64), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5),
      TypeError, "mixed dtype", "weight", "float64");
  TT_EXPECT_THROW_WITH(
      batch_norm(zeros({2, 3}), Tensor(), Tensor(), Tensor(), Tensor(), false, 0.1, 1e-5), Error,
      "running_mean must be defined in evaluation mode");
  TT_EXPECT_THROW_WITH(
      batch_norm(zeros({3}), Tensor(), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5), Error,
      "[N, C, *]");
  TT_EXPECT_THROW_WITH(
      F::batch_norm(zeros({2, 3}), Tensor(), Tensor(),
                    F::BatchNormFuncOptions().training(true).momentum(std::nullopt)),
      ValueError, "momentum must have a value");
}

}  // namespace
}  // namespace tinytorch
