// amp::GradScaler (amp/grad_scaler.h): PyTorch's defaults, scaling and unscaling, a non-finite
// gradient never applies the step (parameters and optimizer state untouched), backoff, growth
// after growth_interval clean steps, unscale_ before clipping, the stage errors, the disabled
// pass-through, and the state through the project's archives.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "tinytorch/amp/grad_scaler.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/nn/utils/clip_grad.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/serialize/input_archive.h"
#include "tinytorch/serialize/output_archive.h"
#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
namespace amp = tinytorch::amp;
namespace optim = tinytorch::optim;
using tt::Tensor;

namespace {

// A least-squares problem with two parameters: loss = ‖x·w + b − t‖² / n.
struct Problem {
  Tensor w, b, x, t;
  Problem() {
    tt::manual_seed(21);
    w = tt::randn({4, 2}).requires_grad_();
    b = tt::randn({2}).requires_grad_();
    x = tt::randn({8, 4});
    t = tt::randn({8, 2});
  }
  Tensor loss() const { return (x.matmul(w) + b - t).pow(2).mean(); }
  std::vector<Tensor> params() const { return {w, b}; }
};

void poison(const Tensor& p, double value) {
  const tt::NoGradGuard no_grad;
  p.grad().view({-1}).select(0, 0).fill_(value);
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const tt::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(GradScaler, PyTorchDefaults) {
  const amp::GradScaler s;
  EXPECT_EQ(s.get_scale(), 65536.0);
  EXPECT_EQ(s.get_growth_factor(), 2.0);
  EXPECT_EQ(s.get_backoff_factor(), 0.5);
  EXPECT_EQ(s.get_growth_interval(), 2000);
  EXPECT_EQ(s.get_growth_tracker(), 0);
  EXPECT_TRUE(s.is_enabled());
}

TEST(GradScaler, ScaledStepEqualsThePlainStep) {
  // S is a power of two: scaling and unscaling are exact, so the update is the plain one.
  Problem plain, scaled;
  optim::Adam opt_plain(plain.params(), optim::AdamOptions(0.1));
  optim::Adam opt_scaled(scaled.params(), optim::AdamOptions(0.1));
  amp::GradScaler scaler;
  for (int i = 0; i < 3; ++i) {
    opt_plain.zero_grad();
    plain.loss().backward();
    opt_plain.step();

    opt_scaled.zero_grad();
    Tensor loss = scaled.loss();
    Tensor scaled_loss = scaler.scale(loss);
    EXPECT_TRUE(scaled_loss.equal(loss * 65536.0));
    scaled_loss.backward();
    EXPECT_TRUE(scaled.w.grad().equal(plain.w.grad() * 65536.0));
    EXPECT_TRUE(scaler.step(opt_scaled));
    scaler.update();
  }
  EXPECT_TRUE(plain.w.equal(scaled.w));
  EXPECT_TRUE(plain.b.equal(scaled.b));
  EXPECT_EQ(scaler.get_growth_tracker(), 3);
}

TEST(GradScaler, ANonFiniteGradientNeverAppliesTheStep) {
  for (const double bad : {std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(), std::nan("")}) {
    for (const bool second_param : {false, true}) {
      SCOPED_TRACE("bad = " + std::to_string(bad) + (second_param ? " in b" : " in w"));
      Problem p;
      optim::Adam opt(p.params(), optim::AdamOptions(0.1));
      amp::GradScaler scaler;
      scaler.scale(p.loss()).backward();  // one clean step: Adam has state now
      ASSERT_TRUE(scaler.step(opt));
      scaler.update();

      opt.zero_grad();
      scaler.scale(p.loss()).backward();
      poison(second_param ? p.b : p.w, bad);
      const Tensor w = p.w.detach().clone(), b = p.b.detach().clone();
      const auto state = opt.state_dict();
      EXPECT_FALSE(scaler.step(opt));
      EXPECT_TRUE(p.w.equal(w));
      EXPECT_TRUE(p.b.equal(b));
      const auto after = opt.state_dict();
      ASSERT_EQ(state.size(), after.size());
      for (const auto& item : state) {
        EXPECT_TRUE(item.value().equal(after.at(item.key()))) << item.key();
      }
      scaler.update();
      EXPECT_EQ(scaler.get_scale(), 32768.0);  // backoff
      EXPECT_EQ(scaler.get_growth_tracker(), 0);
    }
  }
}

TEST(GradScaler, GrowsAfterGrowthIntervalCleanStepsAndASkipResetsTheCount) {
  Problem p;
  optim::SGD opt(p.params(), optim::SGDOptions(0.01));
  amp::GradScaler scaler({.init_scale = 8.0, .growth_interval = 3});
  const auto iteration = [&](bool inf) {
    opt.zero_grad();
    scaler.scale(p.loss()).backward();
    if (inf) poison(p.w, std::numeric_limits<double>::infinity());
    scaler.step(opt);
    scaler.update();
    return std::pair(scaler.get_scale(), scaler.get_growth_tracker());
  };
  EXPECT_EQ(iteration(false), std::pair(8.0, int64_t{1}));
  EXPECT_EQ(iteration(false), std::pair(8.0, int64_t{2}));
  EXPECT_EQ(iteration(true), std::pair(4.0, int64_t{0}));  // backoff, count restarts
  EXPECT_EQ(iteration(false), std::pair(4.0, int64_t{1}));
  EXPECT_EQ(iteration(false), std::pair(4.0, int64_t{2}));
  EXPECT_EQ(iteration(false), std::pair(8.0, int64_t{0}));  // the third clean step: growth
}

TEST(GradScaler, AGrowthThatOverflowsFloat32IsNotTaken) {
  Problem p;
  optim::SGD opt(p.params(), optim::SGDOptions(0.0));
  const double big = std::ldexp(1.0, 127);
  amp::GradScaler scaler({.init_scale = big, .growth_interval = 1});
  scaler.scale(p.loss() * 1e-40).backward();
  EXPECT_TRUE(scaler.step(opt));
  scaler.update();
  EXPECT_EQ(scaler.get_scale(), big);
  EXPECT_EQ(scaler.get_growth_tracker(), 0);
}

TEST(GradScaler, UnscaleBeforeClippingShowsTheTrueGradients) {
  Problem plain, scaled;
  plain.loss().backward();
  const double true_norm = tt::nn::utils::clip_grad_norm_(plain.params(), 0.5);
  optim::SGD opt(scaled.params(), optim::SGDOptions(0.1));
  amp::GradScaler scaler;
  scaler.scale(scaled.loss()).backward();
  scaler.unscale_(opt);
  EXPECT_EQ(tt::nn::utils::clip_grad_norm_(scaled.params(), 0.5), true_norm);
  EXPECT_TRUE(scaled.w.grad().equal(plain.w.grad()));  // clipped the same way
  EXPECT_TRUE(scaler.step(opt));                       // does not unscale a second time
  optim::SGD opt_plain(plain.params(), optim::SGDOptions(0.1));
  opt_plain.step();
  EXPECT_TRUE(scaled.w.equal(plain.w));
}

TEST(GradScaler, StageErrorsArePyTorchs) {
  Problem p;
  optim::SGD opt(p.params(), optim::SGDOptions(0.1));
  amp::GradScaler scaler;
  EXPECT_NE(message_of([&] { scaler.update(); }).find("No inf checks were recorded"),
            std::string::npos);
  scaler.scale(p.loss()).backward();
  scaler.unscale_(opt);
  EXPECT_NE(message_of([&] {
              scaler.unscale_(opt);
            }).find("unscale_() has already been called on this optimizer"),
            std::string::npos);
  scaler.step(opt);
  EXPECT_NE(message_of([&] { scaler.unscale_(opt); }).find("after step()"), std::string::npos);
  EXPECT_NE(message_of([&] { scaler.step(opt); }).find("step() has already been called"),
            std::string::npos);
  scaler.update();
  opt.zero_grad();
  scaler.scale(p.loss()).backward();
  EXPECT_NO_THROW(scaler.unscale_(opt));  // ready again after update()
}

TEST(GradScaler, EachOptimizerSkipsOnItsOwnGradientsAndUpdateSeesThemAll) {
  Problem p;
  optim::SGD opt_w({p.w}, optim::SGDOptions(0.1));
  optim::SGD opt_b({p.b}, optim::SGDOptions(0.1));
  amp::GradScaler scaler;
  scaler.scale(p.loss()).backward();
  poison(p.b, std::nan(""));
  const Tensor w = p.w.detach().clone(), b = p.b.detach().clone();
  EXPECT_TRUE(scaler.step(opt_w));
  EXPECT_FALSE(scaler.step(opt_b));
  EXPECT_FALSE(p.w.equal(w));
  EXPECT_TRUE(p.b.equal(b));
  scaler.update();
  EXPECT_EQ(scaler.get_scale(), 32768.0);
}

TEST(GradScaler, UpdateWithANewScale) {
  amp::GradScaler scaler;
  scaler.update(1024.0);  // no inf check needed
  EXPECT_EQ(scaler.get_scale(), 1024.0);
  EXPECT_THROW(scaler.update(0.0), tt::ValueError);
  EXPECT_THROW(scaler.update(std::numeric_limits<double>::infinity()), tt::ValueError);
  EXPECT_EQ(scaler.get_scale(), 1024.0);
}

TEST(GradScaler, DisabledIsAPassThrough) {
  Problem p;
  optim::SGD opt(p.params(), optim::SGDOptions(0.1));
  amp::GradScaler scaler({.enabled = false});
  Tensor loss = p.loss();
  EXPECT_TRUE(scaler.scale(loss).is_same(loss));
  EXPECT_EQ(scaler.get_scale(), 1.0);
  loss.backward();
  const Tensor g = p.w.grad().clone();
  scaler.unscale_(opt);
  EXPECT_TRUE(p.w.grad().equal(g));
  EXPECT_TRUE(scaler.step(opt));
  scaler.update();  // no inf check needed
  EXPECT_TRUE(scaler.state_dict().is_empty());
}

TEST(GradScaler, RefusesInvalidOptions) {
  const auto bad = [](amp::GradScalerOptions o, const std::string& expected) {
    const std::string msg = message_of([&] { amp::GradScaler s(o); });
    EXPECT_NE(msg.find(expected), std::string::npos) << msg;
  };
  bad({.init_scale = 0.0}, "init_scale = 0");
  bad({.init_scale = -2.0}, "init_scale = -2");
  bad({.growth_factor = 1.0}, "growth_factor = 1 is invalid (expected a finite value > 1.0)");
  bad({.backoff_factor = 1.0}, "backoff_factor = 1 is invalid");
  bad({.backoff_factor = 0.0}, "backoff_factor = 0 is invalid");
  bad({.growth_interval = 0}, "growth_interval = 0 is invalid (expected >= 1)");
  amp::GradScaler s;
  EXPECT_THROW(s.set_growth_factor(0.5), tt::ValueError);
  EXPECT_THROW(s.set_backoff_factor(2.0), tt::ValueError);
  EXPECT_THROW(s.set_growth_interval(-3), tt::ValueError);
  EXPECT_THROW(s.scale(tt::ones({2}, tt::kInt64)), tt::TypeError);
}

TEST(GradScaler, StateRoundTripsThroughAnArchive) {
  Problem p;
  optim::SGD opt(p.params(), optim::SGDOptions(0.1));
  amp::GradScaler scaler(
      {.init_scale = 256.0, .growth_factor = 4.0, .backoff_factor = 0.25, .growth_interval = 7});
  for (int i = 0; i < 2; ++i) {
    opt.zero_grad();
    scaler.scale(p.loss()).backward();
    scaler.step(opt);
    scaler.update();
  }
  const auto path = std::filesystem::temp_directory_path() /
                    ("tt_grad_scaler_" + std::to_string(::getpid()) + ".ttc");
  tt::serialize::OutputArchive out;
  scaler.save(out);
  out.save_to(path.string());
  tt::serialize::InputArchive in;
  in.load_from(path.string());
  std::filesystem::remove(path);
  amp::GradScaler restored;
  restored.load(in);
  EXPECT_EQ(restored.get_scale(), 256.0);
  EXPECT_EQ(restored.get_growth_factor(), 4.0);
  EXPECT_EQ(restored.get_backoff_factor(), 0.25);
  EXPECT_EQ(restored.get_growth_interval(), 7);
  EXPECT_EQ(restored.get_growth_tracker(), 2);
  const auto keys = scaler.state_dict().keys();
  EXPECT_EQ(keys, (std::vector<std::string>{"scale", "growth_factor", "backoff_factor",
                                            "growth_interval", "_growth_tracker"}));
}

TEST(GradScaler, LoadStateDictRefusesBadDictsAndChangesNothing) {
  amp::GradScaler scaler;
  EXPECT_NE(message_of([&] {
              scaler.load_state_dict(amp::GradScaler({.enabled = false}).state_dict());
            }).find("saved from a disabled instance"),
            std::string::npos);
  auto sd = amp::GradScaler({.init_scale = 2.0}).state_dict();
  sd.at("backoff_factor").fill_(3.0);
  EXPECT_NE(message_of([&] { scaler.load_state_dict(sd); }).find("backoff_factor = 3"),
            std::string::npos);
  EXPECT_EQ(scaler.get_scale(), 65536.0);  // nothing was changed
  tt::OrderedDict<std::string, Tensor> partial;
  partial.insert("scale", tt::full({}, 2.0, tt::kFloat64));
  EXPECT_NE(message_of([&] { scaler.load_state_dict(partial); }).find("no 'growth_factor'"),
            std::string::npos);
  amp::GradScaler disabled({.enabled = false});
  EXPECT_NO_THROW(disabled.load_state_dict(sd));  // PyTorch: a disabled scaler ignores it
}
