// Optimizer and scheduler state dicts: the flat key scheme the checkpoint code relies on, exact
// resumption, and clear errors for a state dict that does not fit.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "optim_test_util.h"

namespace tinytorch {
namespace {

using namespace optim;  // NOLINT(google-build-using-namespace): a test of this namespace
using test::tensors_match;

// Two groups, three parameters of different shapes, deterministic values.
std::vector<Tensor> make_params() {
  return {arange(6, kFloat64).view({2, 3}).div(7.0).set_requires_grad(true),
          arange(4, kFloat64).sub(1.5).set_requires_grad(true),
          full({1}, 0.5, kFloat64).set_requires_grad(true)};
}

void set_grads(const std::vector<Tensor>& ps, int step) {
  for (size_t i = 0; i < ps.size(); ++i) {
    Tensor p = ps[i];
    p.mutable_grad() = ones_like(p).mul(std::cos(1.0 + step + 2.0 * static_cast<double>(i)));
  }
}

std::vector<OptimizerParamGroup> groups_of(const std::vector<Tensor>& ps,
                                           std::unique_ptr<OptimizerOptions> second) {
  std::vector<OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{ps[0]});
  groups.emplace_back(std::vector<Tensor>{ps[1], ps[2]}, std::move(second));
  return groups;
}

TEST(OptimizerStateDict, KeySchemeForAdam) {
  const std::vector<Tensor> ps = make_params();
  Adam opt(groups_of(ps, std::make_unique<AdamOptions>(0.5)), AdamOptions(0.01).amsgrad(true));
  // Before any step: type, groups and options only.
  OrderedDict<std::string, Tensor> sd = opt.state_dict();
  EXPECT_EQ(sd.keys().front(), "optimizer.Adam");
  EXPECT_EQ(sd["optimizer.Adam"].item<int64_t>(), 1);
  EXPECT_TRUE(sd.contains("param_groups.0.params"));
  EXPECT_FALSE(sd.contains("state.0.step"));
  EXPECT_EQ(sd["param_groups.1.params"].to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(sd["param_groups.0.lr"].dtype(), kFloat64);
  EXPECT_EQ(sd["param_groups.0.lr"].dim(), 0);
  EXPECT_DOUBLE_EQ(sd["param_groups.0.lr"].item<double>(), 0.01);
  EXPECT_DOUBLE_EQ(sd["param_groups.1.lr"].item<double>(), 0.5);
  EXPECT_DOUBLE_EQ(sd["param_groups.0.beta2"].item<double>(), 0.999);
  EXPECT_DOUBLE_EQ(sd["param_groups.0.amsgrad"].item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(sd["param_groups.1.amsgrad"].item<double>(), 0.0);

  set_grads(ps, 0);
  Tensor(ps[2]).mutable_grad() = Tensor();  // parameter 2 gets no gradient, so no state
  opt.step();
  sd = opt.state_dict();
  EXPECT_EQ(sd["state.0.step"].item<int64_t>(), 1);
  EXPECT_EQ(sd["state.0.step"].dtype(), kInt64);
  EXPECT_EQ(sd["state.0.exp_avg"].sizes(), ps[0].sizes());
  EXPECT_TRUE(sd.contains("state.0.max_exp_avg_sq"));  // group 0 has amsgrad
  EXPECT_TRUE(sd.contains("state.1.exp_avg_sq"));
  EXPECT_FALSE(sd.contains("state.1.max_exp_avg_sq"));  // group 1 does not
  EXPECT_FALSE(sd.contains("state.2.step"));

  // The values are copies: later steps do not change a state dict already taken.
  const Tensor saved = sd["state.0.exp_avg"].clone();
  set_grads(ps, 1);
  opt.step();
  EXPECT_TRUE(tensors_match(sd["state.0.exp_avg"], saved, 0.0, 0.0));
}

TEST(OptimizerStateDict, KeysOfEachOptimizer) {
  const std::vector<Tensor> ps = make_params();
  SGD sgd(ps, SGDOptions(0.1).momentum(0.9));
  RMSprop rms(ps, RMSpropOptions().centered(true).momentum(0.5));
  AdamW adamw(ps);
  set_grads(ps, 0);
  sgd.step();
  rms.step();
  adamw.step();
  const auto a = sgd.state_dict(), b = rms.state_dict(), c = adamw.state_dict();
  EXPECT_TRUE(a.contains("optimizer.SGD"));
  EXPECT_TRUE(a.contains("param_groups.0.nesterov"));
  EXPECT_TRUE(a.contains("state.2.momentum_buffer"));
  EXPECT_TRUE(b.contains("optimizer.RMSprop"));
  EXPECT_TRUE(b.contains("state.1.square_avg"));
  EXPECT_TRUE(b.contains("state.1.grad_avg"));
  EXPECT_TRUE(b.contains("state.1.momentum_buffer"));
  EXPECT_TRUE(c.contains("optimizer.AdamW"));
  EXPECT_DOUBLE_EQ(c["param_groups.0.weight_decay"].item<double>(), 1e-2);
  optim::Adagrad adagrad(ps, optim::AdagradOptions().lr_decay(0.01));
  adagrad.step();
  const auto d = adagrad.state_dict();
  EXPECT_TRUE(d.contains("optimizer.Adagrad"));
  EXPECT_TRUE(d.contains("state.1.sum"));
  EXPECT_EQ(d["state.1.step"].item<int64_t>(), 1);
  EXPECT_DOUBLE_EQ(d["param_groups.0.lr_decay"].item<double>(), 0.01);
  EXPECT_DOUBLE_EQ(d["param_groups.0.initial_accumulator_value"].item<double>(), 0.0);
}

// Runs `total` steps straight, or `split` steps, a save, a fresh optimizer + load, and the rest:
// the parameters must end bit for bit the same.
template <typename Make>
void expect_exact_resume(Make make, int split, int total) {
  std::vector<Tensor> straight = make_params();
  auto opt1 = make(straight);
  for (int s = 0; s < total; ++s) {
    set_grads(straight, s);
    opt1->step();
  }
  std::vector<Tensor> resumed = make_params();
  OrderedDict<std::string, Tensor> sd;
  {
    auto before = make(resumed);
    for (int s = 0; s < split; ++s) {
      set_grads(resumed, s);
      before->step();
    }
    sd = before->state_dict();
  }  // the first optimizer is gone, as after a restart
  auto after = make(resumed);
  after->load_state_dict(sd);
  for (int s = split; s < total; ++s) {
    set_grads(resumed, s);
    after->step();
  }
  for (size_t i = 0; i < straight.size(); ++i) {
    EXPECT_TRUE(tensors_match(resumed[i], straight[i], 0.0, 0.0)) << "parameter " << i;
  }
}

TEST(OptimizerStateDict, ResumesExactlyForEveryOptimizer) {
  expect_exact_resume(
      [](const std::vector<Tensor>& ps) {
        return std::make_unique<SGD>(
            groups_of(ps,
                      std::make_unique<SGDOptions>(SGDOptions(0.05).nesterov(true).momentum(0.5))),
            SGDOptions(0.1).momentum(0.9).weight_decay(0.01));
      },
      3, 7);
  expect_exact_resume(
      [](const std::vector<Tensor>& ps) {
        return std::make_unique<Adam>(groups_of(ps, std::make_unique<AdamOptions>(0.02)),
                                      AdamOptions(0.01).amsgrad(true));
      },
      2, 6);
  expect_exact_resume(
      [](const std::vector<Tensor>& ps) { return std::make_unique<AdamW>(ps, AdamWOptions(0.1)); },
      4, 5);
  expect_exact_resume(
      [](const std::vector<Tensor>& ps) {
        return std::make_unique<RMSprop>(ps, RMSpropOptions(0.01).centered(true).momentum(0.9));
      },
      3, 6);
  expect_exact_resume(
      [](const std::vector<Tensor>& ps) {
        return std::make_unique<optim::Adagrad>(
            ps, optim::AdagradOptions(0.1).lr_decay(0.1).initial_accumulator_value(0.5));
      },
      2, 5);
}

TEST(OptimizerStateDict, LoadRestoresGroupOptions) {
  const std::vector<Tensor> ps = make_params();
  SGD a(ps, SGDOptions(0.1).momentum(0.9));
  a.param_groups()[0].options().set_lr(0.0123);  // e.g. what a scheduler left behind
  SGD b(ps, SGDOptions(0.5));
  b.load_state_dict(a.state_dict());
  const auto& o = static_cast<const SGDOptions&>(b.param_groups()[0].options());
  EXPECT_EQ(o.lr(), 0.0123);
  EXPECT_EQ(o.momentum(), 0.9);
}

TEST(OptimizerStateDict, RejectsAStateDictThatDoesNotFit) {
  const std::vector<Tensor> ps = make_params();
  Adam adam(ps);
  set_grads(ps, 0);
  adam.step();
  const auto adam_sd = adam.state_dict();

  SGD sgd(ps, SGDOptions(0.1));
  TT_EXPECT_THROW_WITH(sgd.load_state_dict(adam_sd), Error,
                       "saved by Adam, but this optimizer is SGD");
  AdamW adamw(ps);
  TT_EXPECT_THROW_WITH(adamw.load_state_dict(adam_sd), Error,
                       "saved by Adam, but this optimizer is AdamW");

  Adam fewer(std::vector<Tensor>{ps[0], ps[1]});
  TT_EXPECT_THROW_WITH(fewer.load_state_dict(adam_sd), Error, "parameter group 0 has 3",
                       "but 2 in this optimizer");
  Adam two_groups(groups_of(ps, nullptr));
  TT_EXPECT_THROW_WITH(two_groups.load_state_dict(adam_sd), Error, "1 parameter group(s)",
                       "this optimizer has 2");

  std::vector<Tensor> reshaped = make_params();
  reshaped[1] = zeros({2, 2}, kFloat64).set_requires_grad(true);  // 4 elements, other shape
  Adam other_model(reshaped);
  TT_EXPECT_THROW_WITH(other_model.load_state_dict(adam_sd), Error, "state.1.exp_avg", "[4]",
                       "[2, 2]");

  auto missing = adam_sd;
  OrderedDict<std::string, Tensor> no_eps;
  for (const auto& item : missing) {
    if (item.key() != "param_groups.0.eps") no_eps.insert(item.key(), item.value());
  }
  TT_EXPECT_THROW_WITH(adam.load_state_dict(no_eps), Error, "param_groups.0.eps");

  auto extra = adam_sd;
  extra.insert("state.0.momentum_buffer", zeros({2, 3}, kFloat64));
  TT_EXPECT_THROW_WITH(adam.load_state_dict(extra), Error, "state.0.momentum_buffer",
                       "exp_avg, exp_avg_sq, max_exp_avg_sq");
  auto stray = adam_sd;
  stray.insert("weight", zeros({1}));
  TT_EXPECT_THROW_WITH(adam.load_state_dict(stray), Error, "unexpected key 'weight'");

  OrderedDict<std::string, Tensor> model_sd;
  model_sd.insert("fc.weight", zeros({2}));
  TT_EXPECT_THROW_WITH(adam.load_state_dict(model_sd), Error, "not an optimizer state dict");
}

TEST(OptimizerStateDict, AFailedLoadChangesNothing) {
  const std::vector<Tensor> ps = make_params();
  SGD opt(ps, SGDOptions(0.1).momentum(0.9));
  set_grads(ps, 0);
  opt.step();
  const auto before = opt.state_dict();
  auto bad = before;
  bad["param_groups.0.lr"] = full({}, 0.7, kFloat64);
  bad.insert("state.9.step", full({}, int64_t{1}, kInt64));  // a parameter that does not exist
  EXPECT_THROW(opt.load_state_dict(bad), Error);
  const auto after = opt.state_dict();
  EXPECT_DOUBLE_EQ(after["param_groups.0.lr"].item<double>(), 0.1);
  EXPECT_TRUE(
      tensors_match(after["state.0.momentum_buffer"], before["state.0.momentum_buffer"], 0.0, 0.0));
}

// A state dict may come from a file (a checkpoint), so every field is checked before it is
// used. A step of +inf used to be accepted: its conversion to int64 is undefined behaviour and
// the next Adam step turned every weight into NaN. So were NaN, negative and fractional steps,
// and buffers holding inf, NaN, integers or (for averages of squares) negative values.
TEST(OptimizerStateDict, RejectsHostileValuesInEveryField) {
  const std::vector<Tensor> ps = make_params();
  std::vector<std::unique_ptr<Optimizer>> optimizers;
  optimizers.push_back(std::make_unique<SGD>(ps, SGDOptions(0.1).momentum(0.9)));
  optimizers.push_back(std::make_unique<Adam>(ps, AdamOptions(0.01).amsgrad(true)));
  optimizers.push_back(std::make_unique<AdamW>(ps));
  optimizers.push_back(
      std::make_unique<RMSprop>(ps, RMSpropOptions(0.01).centered(true).momentum(0.5)));
  optimizers.push_back(std::make_unique<optim::Adagrad>(ps, optim::AdagradOptions(0.1)));
  for (const auto& opt : optimizers) {
    SCOPED_TRACE(opt->name());
    set_grads(ps, 0);
    opt->step();
    const auto good = opt->state_dict();
    auto with = [&](const std::string& key, const Tensor& value) {
      auto sd = good;
      sd[key] = value;
      return sd;
    };
    const double inf = std::numeric_limits<double>::infinity();
    for (const double step : {inf, -inf, std::nan(""), -1.0, 2.5, 1e300}) {
      TT_EXPECT_THROW_WITH(opt->load_state_dict(with("state.0.step", full({}, step, kFloat64))),
                           Error, "state.0.step");
    }
    TT_EXPECT_THROW_WITH(opt->load_state_dict(with("state.0.step", full({}, int64_t{-3}))), Error,
                         "state.0.step", "-3");
    TT_EXPECT_THROW_WITH(opt->load_state_dict(with("state.0.step", full({}, 1, kBool))), TypeError,
                         "state.0.step", "bool");
    TT_EXPECT_THROW_WITH(opt->load_state_dict(with("optimizer." + std::string(opt->name()),
                                                   full({}, inf, kFloat64))),
                         Error, "optimizer.", "finite");
    TT_EXPECT_THROW_WITH(opt->load_state_dict(with("param_groups.0.lr", full({}, inf, kFloat64))),
                         Error, "param_groups.0.lr", "finite");
    int64_t buffers = 0;
    for (const auto& entry : good) {
      // Named references, not a structured binding: clang 14 cannot capture a binding in the
      // lambda that TT_EXPECT_THROW_WITH makes.
      const auto& key = entry.key();
      const auto& value = entry.value();
      if (key.rfind("state.1.", 0) != 0 || key == "state.1.step") continue;
      ++buffers;
      SCOPED_TRACE(key);
      for (const double bad : {inf, std::nan("")}) {
        Tensor t = value.clone();
        t[2].fill_(bad);
        TT_EXPECT_THROW_WITH(opt->load_state_dict(with(key, t)), Error, key, "non-finite");
      }
      TT_EXPECT_THROW_WITH(opt->load_state_dict(with(key, value.to(kInt64))), TypeError, key,
                           "floating point");
      const bool squares = key.find("_sq") != std::string::npos || key == "state.1.square_avg" ||
                           key == "state.1.sum";
      if (squares) {
        TT_EXPECT_THROW_WITH(opt->load_state_dict(with(key, full_like(value, -1.0))), Error, key,
                             "negative");
      }
    }
    EXPECT_GT(buffers, 0);
    // A step stored as a whole floating-point number, as PyTorch stores it, is fine.
    opt->load_state_dict(with("state.0.step", full({}, 3.0, kFloat32)));
    EXPECT_EQ(opt->state_dict()["state.0.step"].item<int64_t>(), 3);
  }
}

// Steps `total` epochs with a scheduler from `make`, saving optimizer and scheduler after `split`
// and resuming into fresh ones; returns the final lr.
double lr_after_resume(int split, int total,
                       const std::function<std::unique_ptr<LRScheduler>(Optimizer&)>& make,
                       std::string_view type) {
  std::vector<Tensor> ps = make_params();
  auto opt = std::make_unique<SGD>(ps, SGDOptions(0.1));
  auto sched = make(*opt);
  for (int s = 0; s < split; ++s) sched->step();
  if (split < total) {
    const auto opt_sd = opt->state_dict();
    const auto sched_sd = sched->state_dict();
    EXPECT_TRUE(sched_sd.contains("scheduler." + std::string(type)));
    EXPECT_EQ(sched_sd["last_epoch"].item<int64_t>(), split);
    EXPECT_EQ(sched_sd["step_count"].item<int64_t>(), split + 1);
    EXPECT_EQ(sched_sd["base_lrs"].numel(), 1);
    opt = std::make_unique<SGD>(ps, SGDOptions(0.1));
    sched = make(*opt);
    opt->load_state_dict(opt_sd);  // the current lr lives in the optimizer's state dict
    sched->load_state_dict(sched_sd);
    for (int s = split; s < total; ++s) sched->step();
  }
  return opt->param_groups()[0].options().get_lr();
}

TEST(SchedulerStateDict, KeysAndExactResume) {
  auto cosine = [](Optimizer& o) { return std::make_unique<CosineAnnealingLR>(o, 10, 0.001); };
  // Bit for bit, across the cosine's turning point.
  EXPECT_EQ(lr_after_resume(13, 25, cosine, "CosineAnnealingLR"),
            lr_after_resume(25, 25, cosine, "CosineAnnealingLR"));
  // StepLR(3) decays on the 4th, 7th, 10th step() (libtorch's timing): resuming right before
  // the 4th and the 7th call, the next decay still comes on time.
  auto step = [](Optimizer& o) { return std::make_unique<StepLR>(o, 3, 0.5); };
  for (int split : {3, 6}) {
    EXPECT_EQ(lr_after_resume(split, split + 1, step, "StepLR"), 0.1 * std::pow(0.5, split / 3));
    EXPECT_EQ(lr_after_resume(split, 9, step, "StepLR"), lr_after_resume(9, 9, step, "StepLR"));
  }
}

TEST(SchedulerStateDict, RejectsAnotherScheduler) {
  std::vector<Tensor> ps = make_params();
  SGD opt(ps, SGDOptions(0.1));
  StepLR step(opt, 3);
  LinearLR linear(opt);
  TT_EXPECT_THROW_WITH(linear.load_state_dict(step.state_dict()), Error,
                       "saved by StepLR, but this scheduler is LinearLR");
  TT_EXPECT_THROW_WITH(linear.load_state_dict(opt.state_dict()), Error,
                       "not an LR scheduler state dict");
}

}  // namespace
}  // namespace tinytorch
