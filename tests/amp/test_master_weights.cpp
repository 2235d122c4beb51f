// Training with low-precision parameters: the optimizers on bfloat16/float16 parameters (state in
// the parameter's dtype by default, float32 with float32_state(true)), and amp::MasterWeights
// (float32 copies that the optimizer steps). Values are checked against PyTorch 1.13
// (tools/reference/gen_amp_optim.py → tests/data/amp_optim_reference.json); the generator's
// docstring says what each "mode" computes. Gradients are set directly (p.grad = g), except in
// the last test, which trains a bfloat16 Linear end to end.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference.h"
#include "support/temp_dir.h"
#include "tinytorch/amp/grad_scaler.h"
#include "tinytorch/amp/master_weights.h"
#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
using namespace tinytorch::test;

namespace {

// bfloat16 and float16 epsilons (one unit in the last place at 1.0).
constexpr double kBf16Eps = 0x1p-7;
constexpr double kF16Eps = 0x1p-10;

// An optimizer `Opt` over `params` with the case's options (libtorch names; the rest default).
template <typename Opt, typename Options>
std::unique_ptr<tt::optim::Optimizer> build(std::vector<tt::Tensor> params, const json& o,
                                            bool float32_state) {
  Options options(o.at("lr").get<double>());
  std::map<std::string, double> defaults;
  for (const auto& [name, value] : options.to_values()) defaults[name] = value;
  options.from_values([&](const std::string& name) {
    return o.contains(name) ? o.at(name).get<double>() : defaults.at(name);
  });
  options.float32_state(float32_state);
  return std::make_unique<Opt>(std::move(params), options);
}

std::unique_ptr<tt::optim::Optimizer> make_optimizer(const std::string& name,
                                                     std::vector<tt::Tensor> params,
                                                     const json& options, bool float32_state) {
  namespace optim = tt::optim;
  if (name == "SGD") return build<optim::SGD, optim::SGDOptions>(params, options, float32_state);
  if (name == "Adam") return build<optim::Adam, optim::AdamOptions>(params, options, float32_state);
  if (name == "AdamW") {
    return build<optim::AdamW, optim::AdamWOptions>(params, options, float32_state);
  }
  if (name == "RMSprop") {
    return build<optim::RMSprop, optim::RMSpropOptions>(params, options, float32_state);
  }
  if (name == "Adagrad") {
    return build<optim::Adagrad, optim::AdagradOptions>(params, options, float32_state);
  }
  throw std::runtime_error("unknown optimizer " + name);
}

std::vector<tt::Tensor> leaf_params(const json& list) {
  std::vector<tt::Tensor> out;
  for (const json& t : list) out.push_back(tensor_from_json(t).set_requires_grad(true));
  return out;
}

}  // namespace

// ── every optimizer, every way of stepping a low-precision parameter ─────────────────────────

TEST(AmpOptim, MatchesPyTorchReference) {
  const json& cases = load_reference("amp_optim_reference.json").at("cases");
  ASSERT_EQ(cases.size(), 22U);
  for (const json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const std::string mode = c.at("mode");
    const double eps = c.at("dtype") == "bfloat16" ? kBf16Eps : kF16Eps;
    const double lr = c.at("options").at("lr").get<double>();
    std::vector<tt::Tensor> params = leaf_params(c.at("params"));
    std::unique_ptr<tt::amp::MasterWeights> master;
    std::unique_ptr<tt::optim::Optimizer> opt;
    if (mode == "master") {
      master = std::make_unique<tt::amp::MasterWeights>(params);
      opt = make_optimizer(c.at("optimizer"), master->parameters(), c.at("options"), false);
    } else {
      opt = make_optimizer(c.at("optimizer"), params, c.at("options"), mode == "float32_state");
    }
    for (size_t s = 0; s < c.at("grads").size(); ++s) {
      for (size_t i = 0; i < params.size(); ++i) {
        params[i].mutable_grad() = tensor_from_json(c.at("grads")[s][i]);
      }
      if (master) {
        master->step(*opt);
      } else {
        opt->step();
      }
      for (size_t i = 0; i < params.size(); ++i) {
        const json& expected = c.at("expected")[s][i];
        if (mode == "pytorch") {
          // PyTorch 1.13 rounds after every tensor op of the rule, TinyTorch once per stored
          // tensor. The parameter itself is rounded once on both sides: ±1 ulp, rtol = eps (an
          // ulp is at most eps·|x|). The extra roundings are in the state: SGD's buffer
          // (|buf| < 4 here) is rounded after mul_ and again after add_, each ≤ eps/2·4 = 2·eps,
          // so ≤ 4·eps per step, which enters the parameter times lr and accumulates over the
          // steps: atol = (s + 1)·lr·4·eps (0.0125 after 4 SGD steps; Adam's lr is 10× smaller
          // and its update m/√v is normalised).
          const double atol = static_cast<double>(s + 1) * lr * 4 * eps;
          TT_EXPECT_TENSOR_EQ(params[i], expected, eps, atol);
        } else {
          // The same rule on both sides: float32 work in PyTorch's order of operations, then one
          // rounding per stored tensor — bit-exact. (The optimizer kernels are built for x86-64
          // and AVX2, which have no FMA for a·b + c to be contracted into; a build for a target
          // with FMA could differ by a float32 rounding, and then by 1 ulp at a near-tie.)
          TT_EXPECT_TENSOR_EQ(params[i], expected, 0.0, 0.0);
        }
        if (master) {
          // float32 on both sides: PyTorch's order of operations, 4 steps of float32 rounding.
          TT_EXPECT_TENSOR_EQ(master->parameters()[i], c.at("expected_master")[s][i], 1e-6, 1e-7);
        }
      }
    }
  }
}

// ── why master weights exist ─────────────────────────────────────────────────────────────────

// A bfloat16 weight of 1.0 has neighbours 1 − 2^-8 and 1 + 2^-7: an update of +2^-10 (a quarter of
// the gap above) rounds back to 1.0 every step. 96 such steps add 96 · 2^-10 = 0.09375 = 12 · 2^-7,
// exactly representable: the master copy gets there, the bf16 parameter never leaves 1.0.
TEST(AmpMasterWeights, SmallUpdatesAccumulateOnlyInTheMasterCopy) {
  const tt::Tensor grad = tt::full({3}, -0x1p-10, tt::kBFloat16);  // SGD(lr=1): w ← w + 2^-10
  tt::Tensor plain = tt::ones({3}, tt::kBFloat16).set_requires_grad(true);
  tt::Tensor plain_f32_state = tt::ones({3}, tt::kBFloat16).set_requires_grad(true);
  tt::Tensor model = tt::ones({3}, tt::kBFloat16).set_requires_grad(true);
  tt::optim::SGD sgd_plain({plain}, tt::optim::SGDOptions(1.0));
  tt::optim::SGD sgd_f32_state({plain_f32_state}, tt::optim::SGDOptions(1.0).float32_state(true));
  tt::amp::MasterWeights master({model});
  tt::optim::SGD sgd_master(master.parameters(), tt::optim::SGDOptions(1.0));
  for (int step = 0; step < 96; ++step) {
    plain.mutable_grad() = grad;
    plain_f32_state.mutable_grad() = grad;
    model.mutable_grad() = grad;
    sgd_plain.step();
    sgd_f32_state.step();
    master.step(sgd_master);
  }
  TT_EXPECT_TENSOR_EQ(plain, tt::ones({3}, tt::kBFloat16));  // not moved at all
  // float32 optimizer STATE does not help: plain SGD has none, and the parameter still rounds.
  TT_EXPECT_TENSOR_EQ(plain_f32_state, tt::ones({3}, tt::kBFloat16));
  TT_EXPECT_TENSOR_EQ(master.parameters()[0], tt::full({3}, 1.09375, tt::kFloat32), 0.0, 0.0);
  TT_EXPECT_TENSOR_EQ(model, tt::full({3}, 1.09375, tt::kBFloat16));
}

// The same with Adam's default lr: each update is about lr = 1e-3 (m/√v ≈ 1 for a constant
// gradient), under half the bf16 gap at 1.0 (2^-8 ≈ 3.9e-3). 50 steps move the master copy by
// about 0.05; the bf16 parameter stays at 1 — whether Adam's moments are bf16 or float32.
TEST(AmpMasterWeights, AdamAtDefaultLearningRateCannotMoveABf16WeightOfOne) {
  const tt::Tensor grad = tt::full({2}, 0.5, tt::kBFloat16);
  tt::Tensor plain = tt::ones({2}, tt::kBFloat16).set_requires_grad(true);
  tt::Tensor model = tt::ones({2}, tt::kBFloat16).set_requires_grad(true);
  tt::optim::Adam adam_plain({plain}, tt::optim::AdamOptions(1e-3).float32_state(true));
  tt::amp::MasterWeights master({model});
  tt::optim::Adam adam_master(master.parameters(), tt::optim::AdamOptions(1e-3));
  for (int step = 0; step < 50; ++step) {
    plain.mutable_grad() = grad;
    model.mutable_grad() = grad;
    adam_plain.step();
    master.step(adam_master);
  }
  TT_EXPECT_TENSOR_EQ(plain, tt::ones({2}, tt::kBFloat16));
  // 50 updates of lr · m̂/(√v̂ + ε) = 1e-3 · (1 − 2e-8) each, in float32.
  TT_EXPECT_TENSOR_EQ(master.parameters()[0], tt::full({2}, 0.95, tt::kFloat32), 1e-5, 0.0);
  // 0.95 in bfloat16: the gap below 1 is 2^-8, and 0.95 = 243.2 · 2^-8 → 243 · 2^-8.
  TT_EXPECT_TENSOR_EQ(model, tt::full({2}, 243 * 0x1p-8, tt::kBFloat16));
}

// ── state dtype: the default, and float32_state ──────────────────────────────────────────────

TEST(AmpOptim, StateIsInTheParameterDtypeUnlessFloat32StateIsAsked) {
  for (const bool f32 : {false, true}) {
    SCOPED_TRACE(f32 ? "float32_state" : "default");
    tt::Tensor p = tt::ones({4}, tt::kBFloat16).set_requires_grad(true);
    tt::optim::Adam adam({p}, tt::optim::AdamOptions(1e-2).amsgrad(true).float32_state(f32));
    p.mutable_grad() = tt::full({4}, 0.25, tt::kBFloat16);
    adam.step();
    auto* state = dynamic_cast<tt::optim::AdamParamState*>(adam.state_of(p));
    ASSERT_NE(state, nullptr);
    const tt::ScalarType want = f32 ? tt::kFloat32 : tt::kBFloat16;
    EXPECT_EQ(state->exp_avg.dtype(), want);
    EXPECT_EQ(state->exp_avg_sq.dtype(), want);
    EXPECT_EQ(state->max_exp_avg_sq.dtype(), want);
    EXPECT_EQ(p.dtype(), tt::kBFloat16);
    // A float32 parameter's state is float32 either way; the option changes nothing for it.
    tt::Tensor q = tt::ones({4}).set_requires_grad(true);
    tt::optim::SGD sgd({q}, tt::optim::SGDOptions(0.1).momentum(0.9).float32_state(f32));
    q.mutable_grad() = tt::ones({4});
    sgd.step();
    EXPECT_EQ(dynamic_cast<tt::optim::SGDParamState*>(sgd.state_of(q))->momentum_buffer.dtype(),
              tt::kFloat32);
  }
}

// The state dict keeps PyTorch's keys (float32_state is not an option there); the buffers carry
// their dtype, and loading converts them to what the loading optimizer keeps.
TEST(AmpOptim, StateDictConvertsBuffersToTheLoadingGroupsStateDtype) {
  auto trained = [](bool f32) {
    tt::Tensor p = tt::full({3}, 0.5, tt::kBFloat16).set_requires_grad(true);
    auto opt = std::make_unique<tt::optim::AdamW>(std::vector<tt::Tensor>{p},
                                                  tt::optim::AdamWOptions(1e-2).float32_state(f32));
    p.mutable_grad() = tt::full({3}, 0.375, tt::kBFloat16);
    opt->step();
    return std::make_pair(p, std::move(opt));
  };
  auto [p32, opt32] = trained(true);
  const auto sd = opt32->state_dict();
  EXPECT_FALSE(sd.contains("param_groups.0.float32_state"));
  EXPECT_EQ(sd.at("state.0.exp_avg").dtype(), tt::kFloat32);
  auto [p16, opt16] = trained(false);
  EXPECT_EQ(opt16->state_dict().at("state.0.exp_avg").dtype(), tt::kBFloat16);
  opt16->load_state_dict(sd);  // float32 buffers into a bf16-state optimizer: rounded
  auto* state = dynamic_cast<tt::optim::AdamParamState*>(opt16->state_of(p16));
  EXPECT_EQ(state->exp_avg.dtype(), tt::kBFloat16);
  TT_EXPECT_TENSOR_EQ(state->exp_avg, sd.at("state.0.exp_avg").to(tt::kBFloat16));
  opt32->load_state_dict(opt16->state_dict());  // and back: widened, exactly
  state = dynamic_cast<tt::optim::AdamParamState*>(opt32->state_of(p32));
  EXPECT_EQ(state->exp_avg.dtype(), tt::kFloat32);
  TT_EXPECT_TENSOR_EQ(state->exp_avg, sd.at("state.0.exp_avg").to(tt::kBFloat16).to(tt::kFloat32));
}

// ── MasterWeights with clipping and loss scaling ────────────────────────────────────────────

// Clip the float32 copies' gradients between copy_grads_to_master() and step(): step() must not
// copy the (unclipped) model gradients over them again.
TEST(AmpMasterWeights, GradientClippingActsOnTheFloat32Gradients) {
  tt::Tensor w = tt::full({4}, 1.0, tt::kBFloat16).set_requires_grad(true);
  tt::amp::MasterWeights master({w});
  tt::optim::SGD sgd(master.parameters(), tt::optim::SGDOptions(0.5));
  w.mutable_grad() = tt::full({4}, 3.0, tt::kBFloat16);  // norm 6
  master.copy_grads_to_master();
  EXPECT_EQ(master.parameters()[0].grad().dtype(), tt::kFloat32);
  const double norm = tt::nn::utils::clip_grad_norm_(master.parameters(), 1.5);
  EXPECT_DOUBLE_EQ(norm, 6.0);
  master.step(sgd);
  // Clipped to norm 1.5 (scale 1.5 / (6 + 1e-6)): each grad ≈ 0.75, so w ≈ 1 − 0.5 · 0.75.
  TT_EXPECT_TENSOR_EQ(master.parameters()[0], tt::full({4}, 0.625, tt::kFloat32), 1e-6, 0.0);
  TT_EXPECT_TENSOR_EQ(w, tt::full({4}, 0.625, tt::kBFloat16));
}

// float16 model, GradScaler: an overflowing scaled gradient (inf in float16) is found in the
// float32 copies, the step is skipped — copies, Adam state and model untouched — and the scale
// halves; the next, finite step is unscaled in float32 and applied.
TEST(AmpMasterWeights, GradScalerSkipsTheStepOnInfAndUnscalesInFloat32) {
  tt::Tensor w = tt::full({3}, 0.5, tt::kHalf).set_requires_grad(true);
  const tt::Tensor x = tt::tensor({1.5f, -0.25f, 0.75f}).to(tt::kHalf);
  tt::amp::MasterWeights master({w});
  tt::optim::SGD sgd(master.parameters(), tt::optim::SGDOptions(0.25).momentum(0.9));
  tt::amp::GradScaler scaler;  // S = 2^16: 1.5 · 2^16 > 65504 overflows float16
  auto backward = [&] {
    w.mutable_grad() = tt::Tensor();
    // d(S · sum(w * x))/dw = S · x, computed in float16.
    scaler.scale((w * x).sum()).backward();
  };
  backward();
  EXPECT_TRUE(std::isinf(w.grad()[0].item<float>()));
  EXPECT_FALSE(master.step(sgd, scaler));
  scaler.update();
  EXPECT_EQ(scaler.get_scale(), 32768.0);
  EXPECT_EQ(sgd.state_of(master.parameters()[0]), nullptr);  // no state: no step was taken
  TT_EXPECT_TENSOR_EQ(master.parameters()[0], tt::full({3}, 0.5, tt::kFloat32), 0.0, 0.0);
  TT_EXPECT_TENSOR_EQ(w, tt::full({3}, 0.5, tt::kHalf));

  backward();  // S · x = 49152, -8192, 24576: finite in float16, and exact
  EXPECT_TRUE(master.step(sgd, scaler));
  scaler.update();
  // Unscaled in float32: g = x exactly; first SGD step with momentum: w − 0.25 · g.
  const tt::Tensor expected = tt::tensor({0.5f - 0.375f, 0.5f + 0.0625f, 0.5f - 0.1875f});
  TT_EXPECT_TENSOR_EQ(master.parameters()[0], expected, 0.0, 0.0);
  TT_EXPECT_TENSOR_EQ(w, expected.to(tt::kHalf));
}

// ── checkpoints ──────────────────────────────────────────────────────────────────────────────

namespace {

// A bfloat16 Linear, a MasterWeights and an AdamW over the copies; steps are fed gradients
// directly (a step's gradients depend only on its number).
tt::nn::Linear bf16_linear(uint64_t seed) {
  tt::manual_seed(seed);
  tt::nn::Linear linear(tt::nn::LinearOptions(3, 2));
  linear->to(tt::kBFloat16);
  return linear;
}

struct Bf16Training {
  tt::nn::Linear model;
  std::unique_ptr<tt::amp::MasterWeights> master;
  std::unique_ptr<tt::optim::AdamW> opt;
  explicit Bf16Training(uint64_t seed) : model(bf16_linear(seed)) {
    master = std::make_unique<tt::amp::MasterWeights>(model->parameters());
    opt = std::make_unique<tt::optim::AdamW>(master->parameters(), tt::optim::AdamWOptions(1e-3));
  }
  void step(int n) {
    for (tt::Tensor& p : model->parameters()) {
      p.mutable_grad() =
          (tt::arange(p.numel(), tt::TensorOptions(tt::kFloat32)) * (0.125 * n) - 0.3)
              .reshape(p.sizes())
              .to(tt::kBFloat16);
    }
    master->step(*opt);
  }
  tt::train::TrainingState state() { return {.model = model.ptr().get(), .optimizer = opt.get()}; }
};

}  // namespace

TEST(AmpMasterWeights, CheckpointRestoresMasterCopiesAndOptimizerState) {
  TempDir dir("amp");
  Bf16Training a(1);
  for (int n = 0; n < 3; ++n) a.step(n);
  tt::train::save_checkpoint(
      tt::train::capture_checkpoint(a.state(), {.master_weights = a.master.get()}, 3),
      dir.file("c.ttc"));
  for (int n = 3; n < 6; ++n) a.step(n);

  Bf16Training b(2);  // other initial values: everything must come from the file
  tt::train::restore_checkpoint(tt::train::load_checkpoint(dir.file("c.ttc")), b.state(),
                                {.master_weights = b.master.get()});
  for (int n = 3; n < 6; ++n) b.step(n);
  for (size_t i = 0; i < a.master->size(); ++i) {
    TT_EXPECT_TENSOR_EQ(b.master->parameters()[i], a.master->parameters()[i], 0.0, 0.0);
    TT_EXPECT_TENSOR_EQ(b.model->parameters()[i], a.model->parameters()[i]);
  }
  // The float32 copies hold more than the bf16 model: they are not the model widened.
  EXPECT_FALSE(a.master->parameters()[0].equal(a.model->weight.to(tt::kFloat32)));

  // Master weights asked for but not in the checkpoint: an error, and nothing changed.
  tt::train::save_checkpoint(tt::train::capture_checkpoint(a.state(), 6), dir.file("d.ttc"));
  const tt::Tensor before = b.master->parameters()[0].clone();
  TT_EXPECT_THROW_WITH(tt::train::restore_checkpoint(tt::train::load_checkpoint(dir.file("d.ttc")),
                                                     b.state(), {.master_weights = b.master.get()}),
                       tt::Error, "master weights were given but the checkpoint has none");
  TT_EXPECT_TENSOR_EQ(b.master->parameters()[0], before, 0.0, 0.0);
}

// A float16 run's GradScaler goes into the checkpoint beside the master copies: the resumed
// run has the same scale and growth tracker, so it skips and grows on the same steps.
TEST(AmpMasterWeights, CheckpointRestoresTheGradScaler) {
  TempDir dir("amp");
  Bf16Training a(1);
  tt::amp::GradScaler scaler({.init_scale = 1024.0, .growth_interval = 3});
  {  // one clean step: growth tracker 1 (a fresh scaler's is 0, its scale 2^16)
    tt::Tensor w = tt::ones({2}).set_requires_grad(true);
    tt::optim::SGD sgd({w}, tt::optim::SGDOptions(0.1));
    scaler.scale(w.sum()).backward();
    EXPECT_TRUE(scaler.step(sgd));
    scaler.update();
  }
  a.step(0);
  const tt::train::AmpState amp_a{.master_weights = a.master.get(), .grad_scaler = &scaler};
  tt::train::save_checkpoint(tt::train::capture_checkpoint(a.state(), amp_a, 1), dir.file("c.ttc"));

  Bf16Training b(2);
  tt::amp::GradScaler fresh({.growth_interval = 3});
  tt::train::restore_checkpoint(tt::train::load_checkpoint(dir.file("c.ttc")), b.state(),
                                {.master_weights = b.master.get(), .grad_scaler = &fresh});
  EXPECT_EQ(fresh.get_scale(), 1024.0);
  EXPECT_EQ(fresh.get_growth_tracker(), 1);
  TT_EXPECT_TENSOR_EQ(b.master->parameters()[0], a.master->parameters()[0], 0.0, 0.0);

  // A scaler asked for but not saved: an error, and the master copies are left as they were.
  tt::train::save_checkpoint(
      tt::train::capture_checkpoint(a.state(), {.master_weights = a.master.get()}, 1),
      dir.file("d.ttc"));
  Bf16Training c(3);
  const tt::Tensor before = c.master->parameters()[0].clone();
  TT_EXPECT_THROW_WITH(
      tt::train::restore_checkpoint(tt::train::load_checkpoint(dir.file("d.ttc")), c.state(),
                                    {.master_weights = c.master.get(), .grad_scaler = &fresh}),
      tt::Error, "a GradScaler was given but the checkpoint has no scaler state");
  TT_EXPECT_TENSOR_EQ(c.master->parameters()[0], before, 0.0, 0.0);
  EXPECT_EQ(fresh.get_scale(), 1024.0);
}

TEST(AmpMasterWeights, SaveAndLoadThroughTheSerializeArchive) {
  TempDir dir("amp");
  Bf16Training a(1);
  a.step(0);
  tt::save(*a.master, dir.file("m.pt"));
  Bf16Training b(2);
  tt::load(*b.master, dir.file("m.pt"));
  for (size_t i = 0; i < a.master->size(); ++i) {
    TT_EXPECT_TENSOR_EQ(b.master->parameters()[i], a.master->parameters()[i], 0.0, 0.0);
    TT_EXPECT_TENSOR_EQ(b.model->parameters()[i], a.model->parameters()[i]);  // rounded down
  }
}

// ── errors ───────────────────────────────────────────────────────────────────────────────────

TEST(AmpMasterWeights, RefusesBadParametersAndAnOptimizerOverTheModel) {
  TT_EXPECT_THROW_WITH(tt::amp::MasterWeights({tt::ones({2}).set_requires_grad(true)}),
                       tt::TypeError, "parameter 0 is float32", "bfloat16 or float16");
  TT_EXPECT_THROW_WITH(tt::amp::MasterWeights({}), tt::ValueError, "empty parameter list");
  tt::Tensor w = tt::ones({2}, tt::kBFloat16).set_requires_grad(true);
  TT_EXPECT_THROW_WITH(tt::amp::MasterWeights({w, w}), tt::ValueError, "parameter 1 appears twice");
  tt::amp::MasterWeights master({w});
  tt::optim::SGD wrong({w}, tt::optim::SGDOptions(0.1));
  w.mutable_grad() = tt::ones({2}, tt::kBFloat16);
  TT_EXPECT_THROW_WITH(master.step(wrong), tt::ValueError, "SGD optimizer's parameter 0",
                       "bfloat16", "master.parameters()");
  TT_EXPECT_TENSOR_EQ(w, tt::ones({2}, tt::kBFloat16));  // refused before anything changed
}

TEST(AmpMasterWeights, LoadStateDictChecksEverythingFirst) {
  tt::Tensor w = tt::ones({2}, tt::kBFloat16).set_requires_grad(true);
  tt::amp::MasterWeights master({w});
  using Dict = tt::OrderedDict<std::string, tt::Tensor>;
  Dict wrong_shape;
  wrong_shape.insert("master.0", tt::zeros({3}));
  TT_EXPECT_THROW_WITH(master.load_state_dict(wrong_shape), tt::Error,
                       "'master.0' has shape [3] but parameter 0 has shape [2]");
  Dict missing;
  TT_EXPECT_THROW_WITH(master.load_state_dict(missing), tt::Error, "has no 'master.0'");
  Dict extra;
  extra.insert("master.0", tt::zeros({2}));
  extra.insert("master.1", tt::zeros({2}));
  TT_EXPECT_THROW_WITH(master.load_state_dict(extra), tt::Error, "unexpected key 'master.1'");
  Dict integral;
  integral.insert("master.0", tt::zeros({2}, tt::kInt64));
  TT_EXPECT_THROW_WITH(master.load_state_dict(integral), tt::TypeError, "'master.0' is int64");
  TT_EXPECT_TENSOR_EQ(master.parameters()[0], tt::ones({2}), 0.0, 0.0);  // nothing loaded
  TT_EXPECT_TENSOR_EQ(w, tt::ones({2}, tt::kBFloat16));
}

// The rest of an ordinary training step on bf16 parameters without master weights: zeroing the
// gradients in place, and clipping them (the norm accumulates in float32; the scaled gradients
// are rounded once).
TEST(AmpOptim, ZeroGradAndClippingWorkOnBf16Gradients) {
  tt::Tensor p = tt::ones({4}, tt::kBFloat16).set_requires_grad(true);
  tt::optim::SGD sgd({p}, tt::optim::SGDOptions(0.5));
  p.mutable_grad() = tt::full({4}, 3.0, tt::kBFloat16);  // norm 6
  EXPECT_DOUBLE_EQ(tt::nn::utils::clip_grad_norm_({p}, 1.5), 6.0);
  // 3 · 1.5 / (6 + 1e-6) = 0.74999988 in float32, 0.75 in bfloat16.
  TT_EXPECT_TENSOR_EQ(p.grad(), tt::full({4}, 0.75, tt::kBFloat16));
  tt::nn::utils::clip_grad_value_({p}, 0.5);
  TT_EXPECT_TENSOR_EQ(p.grad(), tt::full({4}, 0.5, tt::kBFloat16));
  sgd.step();
  TT_EXPECT_TENSOR_EQ(p, tt::full({4}, 0.75, tt::kBFloat16));
  sgd.zero_grad(/*set_to_none=*/false);
  TT_EXPECT_TENSOR_EQ(p.grad(), tt::zeros({4}, tt::kBFloat16));
}

// End to end with a bfloat16 Linear (forward and backward on the 16-bit GEMM): the loss goes down,
// and after every step each model parameter is its float32 copy rounded to bfloat16.
TEST(AmpMasterWeights, TrainsABf16LinearAndKeepsTheModelTheRoundedCopy) {
  tt::manual_seed(0);
  tt::nn::Linear model(tt::nn::LinearOptions(4, 2));
  model->to(tt::kBFloat16);
  tt::amp::MasterWeights master(model->parameters());
  tt::optim::SGD sgd(master.parameters(), tt::optim::SGDOptions(0.1).momentum(0.9));
  const tt::Tensor x = tt::randn({16, 4}).to(tt::kBFloat16);
  const tt::Tensor y = (x.to(tt::kFloat32).sum(1, true) * 0.5).expand({16, 2}).to(tt::kBFloat16);
  auto loss_now = [&] {
    const tt::Tensor d = model->forward(x) - y;
    return (d * d).mean();
  };
  const double first = loss_now().item<double>();
  for (int step = 0; step < 30; ++step) {
    model->zero_grad();
    loss_now().backward();
    master.step(sgd);
    for (size_t i = 0; i < master.size(); ++i) {
      TT_EXPECT_TENSOR_EQ(model->parameters()[i], master.parameters()[i].to(tt::kBFloat16));
    }
  }
  EXPECT_LT(loss_now().item<double>(), 0.1 * first);
}
