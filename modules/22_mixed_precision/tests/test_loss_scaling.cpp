// Module 22, Part 5 — loss scaling (tinytorch/src/amp/grad_scaler.cpp): unscale_ divides every
// gradient by the scale and finds an inf or a NaN in any of them (float32, bfloat16 and float16
// gradients); update() backs off after an overflow, grows after growth_interval clean steps, and
// never grows past float32's range; a step with an overflow leaves the parameters untouched.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tinytorch/amp/grad_scaler.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

// Two parameters whose gradients the tests set by hand (no backward needed).
struct TwoParams {
  Tensor w, b;
  optim::SGD sgd;
  explicit TwoParams(ScalarType dtype)
      : w(full({2, 3}, 1.0, dtype).requires_grad_()),
        b(full({3}, 1.0, dtype).requires_grad_()),
        sgd(std::vector<Tensor>{w, b}, optim::SGDOptions(0.5)) {}
  void set_grads(double gw, double gb) {
    w.mutable_grad() = full({2, 3}, gw, w.dtype());
    b.mutable_grad() = full({3}, gb, b.dtype());
  }
};

TEST(UnscaleGrads, DividesEveryGradientByTheScale) {
  for (const ScalarType dtype : {kFloat32, kBFloat16, kHalf}) {
    TwoParams m(dtype);
    amp::GradScaler scaler(amp::GradScalerOptions{.init_scale = 1024.0});
    m.set_grads(512.0, 3072.0);  // 0.5 and 3 times the scale: exact in every dtype
    scaler.unscale_(m.sgd);
    EXPECT_TRUE(m.w.grad().equal(full({2, 3}, 0.5, dtype))) << dtype;
    EXPECT_TRUE(m.b.grad().equal(full({3}, 3.0, dtype))) << dtype;
    scaler.update();  // no inf found: one clean step counted
    EXPECT_EQ(scaler.get_growth_tracker(), 1)
        << "finite " << dtype << " gradients were taken for an overflow";
  }
}

TEST(UnscaleGrads, FindsAnInfOrANaNInAnyGradient) {
  const double inf = std::numeric_limits<double>::infinity();
  for (const ScalarType dtype : {kFloat32, kBFloat16, kHalf}) {
    for (const double bad : {inf, -inf, std::nan("")}) {
      TwoParams m(dtype);
      amp::GradScaler scaler;
      m.set_grads(1.0, 1.0);
      {
        const NoGradGuard no_grad;
        m.b.grad().select(0, 2).fill_(bad);  // one element of the second parameter
      }
      EXPECT_FALSE(scaler.step(m.sgd))
          << "an overflowed gradient (" << bad << ", " << dtype << ") must skip the step";
      EXPECT_TRUE(m.w.equal(full({2, 3}, 1.0, dtype))) << "a skipped step changed w";
      // The other gradients were unscaled all the same.
      EXPECT_EQ(m.w.grad().to(kFloat64).max().item<double>(), 1.0 / 65536.0);
    }
  }
}

TEST(UnscaleGrads, LargeFiniteGradientsAreNotAnOverflow) {
  // 60000 · 6 elements would overflow a float16 sum; the check must not sum the values.
  TwoParams m(kHalf);
  amp::GradScaler scaler(amp::GradScalerOptions{.init_scale = 1.0});
  m.set_grads(60000.0, 60000.0);
  scaler.unscale_(m.sgd);
  scaler.update();
  EXPECT_EQ(scaler.get_growth_tracker(), 1) << "finite gradients were taken for an overflow";
}

TEST(UpdateScale, BacksOffAfterAnOverflowAndRestartsTheCount) {
  TwoParams m(kFloat32);
  amp::GradScaler scaler(amp::GradScalerOptions{.init_scale = 256.0, .growth_interval = 3});
  m.set_grads(1.0, 1.0);
  scaler.step(m.sgd);
  scaler.update();  // one clean step
  EXPECT_EQ(scaler.get_growth_tracker(), 1);
  m.set_grads(std::numeric_limits<double>::infinity(), 1.0);
  scaler.step(m.sgd);
  scaler.update();
  EXPECT_EQ(scaler.get_scale(), 128.0);
  EXPECT_EQ(scaler.get_growth_tracker(), 0);
}

TEST(UpdateScale, GrowsAfterGrowthIntervalCleanSteps) {
  TwoParams m(kFloat32);
  amp::GradScaler scaler(amp::GradScalerOptions{.init_scale = 256.0, .growth_interval = 3});
  for (int step = 1; step <= 3; ++step) {
    m.set_grads(1.0, 1.0);
    scaler.step(m.sgd);
    scaler.update();
    EXPECT_EQ(scaler.get_scale(), step < 3 ? 256.0 : 512.0) << "after clean step " << step;
    EXPECT_EQ(scaler.get_growth_tracker(), step < 3 ? step : 0) << "after clean step " << step;
  }
}

TEST(UpdateScale, NeverGrowsPastFloat32sRange) {
  TwoParams m(kFloat32);
  const double big = std::ldexp(1.0, 127);  // 2^127 · 2 = 2^128 is inf in float32
  amp::GradScaler scaler(amp::GradScalerOptions{.init_scale = big, .growth_interval = 1});
  m.set_grads(0.0, 0.0);
  scaler.step(m.sgd);
  scaler.update();
  EXPECT_EQ(scaler.get_scale(), big);
  EXPECT_EQ(scaler.get_growth_tracker(), 0);
}

TEST(UpdateScale, ScaledBackwardGivesTheTrueGradients) {
  Tensor w = tensor({0.5F, -2.0F}).requires_grad_();
  optim::SGD sgd(std::vector<Tensor>{w}, optim::SGDOptions(1.0));
  amp::GradScaler scaler(amp::GradScalerOptions{.init_scale = 4096.0});
  scaler.scale((w * w).sum()).backward();  // d/dw Σ w² = 2w, times the scale
  EXPECT_TRUE(w.grad().equal(tensor({4096.0F, -16384.0F})));
  scaler.unscale_(sgd);
  EXPECT_TRUE(w.grad().equal(tensor({1.0F, -4.0F})));
}

}  // namespace
}  // namespace tinytorch
