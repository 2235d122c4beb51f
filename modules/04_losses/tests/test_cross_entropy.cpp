// Module 04 through the public, differentiable API: cross_entropy (a composite of log_softmax,
// nll_loss and, with label smoothing, a few more ops) against PyTorch's values and gradients,
// its defining identities, and a float64 gradcheck of every loss for every reduction. The
// gradient tests need module 05 (autograd).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "loss_test_helpers.h"
#include "support/op_cases.h"
#include "support/prerequisites.h"
#include "support/reference.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/native/activation.h"
#include "tinytorch/native/loss.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using loss_tests::item;
using loss_tests::kAll;
using loss_tests::name;
using loss_tests::reduction_arg;
using test::random;

namespace F = tinytorch::nn::functional;
using test::json;
using test::values_as_double;

// ── against PyTorch ──────────────────────────────────────────────────────────────────────────

// The loss of one reference case through F:: (options: reduction, weight, ignore_index,
// label_smoothing), its value and its gradient; or, for an error case, that it throws.
Tensor public_loss(const std::string& op, const Tensor& x, const Tensor& t, const json& args) {
  const Reduction r = reduction_arg(args);
  const Tensor w = args.contains("weight") ? test::tensor_from_json(args.at("weight")) : Tensor();
  const int64_t ignore = args.value("ignore_index", int64_t{-100});
  if (op == "nll_loss") {
    return F::nll_loss(x, t, F::NLLLossFuncOptions().weight(w).reduction(r).ignore_index(ignore));
  }
  if (op == "cross_entropy") {
    return F::cross_entropy(
        x, t,
        F::CrossEntropyFuncOptions().weight(w).reduction(r).ignore_index(ignore).label_smoothing(
            args.value("label_smoothing", 0.0)));
  }
  if (op == "binary_cross_entropy") {
    return F::binary_cross_entropy(x, t, F::BinaryCrossEntropyFuncOptions().weight(w).reduction(r));
  }
  if (op == "binary_cross_entropy_with_logits") {
    return F::binary_cross_entropy_with_logits(
        x, t, F::BinaryCrossEntropyWithLogitsFuncOptions().weight(w).reduction(r));
  }
  throw std::runtime_error("unknown op " + op);
}

void check_public_loss(const json& c) {
  const auto op = c.at("op").get<std::string>();
  const json& args = c.at("args");
  const Tensor target = test::tensor_from_json(c.at("inputs").at(1));
  Tensor x = test::tensor_from_json(c.at("inputs").at(0)).detach();
  if (c.value("error", false)) {
    EXPECT_THROW(public_loss(op, x, target, args), Error) << c.value("torch_error", "");
    return;
  }
  const bool f64 = x.dtype() == kFloat64;
  const double rtol = f64 ? 1e-10 : 1e-5, atol = f64 ? 1e-12 : 1e-6;
  const Tensor leaf = x.is_floating_point() ? x.requires_grad_() : x;
  const Tensor loss = public_loss(op, leaf, target, args);
  EXPECT_TRUE(test::tensors_match(loss, c.at("expected"), rtol, atol)) << "forward";
  if (c.contains("expected_grad")) {
    loss.backward(test::tensor_from_json(c.at("grad_output")));
    EXPECT_TRUE(test::tensors_match(leaf.grad(), c.at("expected_grad"), rtol, atol)) << "gradient";
  }
}

TEST(CrossEntropy, ValuesAndGradientsMatchPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  int n = 0, errors = 0;
  for (const auto& c : test::load_reference("module04_reference.json").at("cases")) {
    if (c.at("op") != "cross_entropy") continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    check_public_loss(c);
    ++(c.value("error", false) ? errors : n);
  }
  EXPECT_GE(n, 100);
  EXPECT_GE(errors, 4);
}

// `weight`: per class for nll_loss and cross_entropy, per element (broadcast) for the BCEs,
// through the functional forms and their options, as a libtorch program calls them.
TEST(WeightedLosses, MatchPyTorch) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  std::set<std::string> ops;
  int n = 0, errors = 0;
  for (const auto& c : test::load_reference("module04_reference.json").at("cases")) {
    if (!c.at("args").contains("weight")) continue;
    SCOPED_TRACE("reference case " + c.at("name").get<std::string>());
    check_public_loss(c);
    ops.insert(c.at("op").get<std::string>());
    ++(c.value("error", false) ? errors : n);
  }
  EXPECT_EQ(ops.size(), 4u) << "nll_loss, cross_entropy and the two BCEs";
  EXPECT_GE(n, 48);
  EXPECT_GE(errors, 2);
}

// A braced `{}` in third place means "the defaults" in libtorch: the options struct of the
// functional forms, the class weight of torch::nll_loss. Never Reduction{} (= None).
TEST(CrossEntropy, BracesInThirdPlaceMeanTheDefaults) {
  const Tensor x = random({5, 3}, 4, kFloat64, 2.0);
  const Tensor logp = log_softmax(x, 1);
  const Tensor t = tensor({0, 2, 1, 1, 0});
  const Tensor mean = nll_loss(logp, t);
  EXPECT_EQ(mean.dim(), 0);
  EXPECT_TRUE(nll_loss(logp, t, {}).equal(mean));
  EXPECT_TRUE(F::nll_loss(logp, t, {}).equal(mean));
  EXPECT_TRUE(F::cross_entropy(x, t, {}).equal(cross_entropy(x, t)));
  EXPECT_EQ(F::mse_loss(x, x * 2.0, {}).dim(), 0);
  EXPECT_EQ(F::binary_cross_entropy_with_logits(x, x.sigmoid(), {}).dim(), 0);
  // torch::kSum and Reduction::Sum are one value; a reduction alone converts to the options.
  EXPECT_TRUE(F::nll_loss(logp, t, kSum).equal(nll_loss(logp, t, {}, Reduction::Sum)));
  // Class weights of 1 are no weights.
  EXPECT_TRUE(test::tensors_match(nll_loss(logp, t, ones({3}, kFloat64)), mean, 1e-15, 0));
}

// ── identities ───────────────────────────────────────────────────────────────────────────────

TEST(CrossEntropy, IsNllOfLogSoftmax) {
  const Tensor x = random({8, 5}, 1, kFloat32, 2.0);
  const Tensor t = tensor({0, 4, 2, 2, 1, 3, 0, 4});
  for (Reduction r : kAll) {
    SCOPED_TRACE(name(r));
    EXPECT_TRUE(test::tensors_match(cross_entropy(x, t, {}, r),
                                    native::nll_loss(native::log_softmax(x, 1), t, r, -100), 0, 0));
  }
}

TEST(CrossEntropy, LabelSmoothingMixesInTheUniformDistribution) {
  // (1 − ε)·nll + ε·(mean over classes of −log p), averaged over rows.
  const Tensor x = random({6, 4}, 2, kFloat64, 2.0);
  const Tensor t = tensor({3, 0, 1, 1, 2, 0});
  const Tensor logp = native::log_softmax(x, 1);
  const double nll = item(native::nll_loss(logp, t, Reduction::Mean, -100));
  const double uniform = -item(logp.mean());
  for (double eps : {0.0, 0.1, 0.5, 1.0}) {
    EXPECT_NEAR(item(cross_entropy(x, t, {}, Reduction::Mean, -100, eps)),
                (1 - eps) * nll + eps * uniform, 1e-13)
        << "ε = " << eps;
  }
  // ε = 1 ignores the targets entirely (except for which rows are ignored).
  EXPECT_NEAR(item(cross_entropy(x, t, {}, Reduction::Mean, -100, 1.0)),
              item(cross_entropy(x, tensor({0, 1, 2, 3, 0, 1}), {}, Reduction::Mean, -100, 1.0)),
              1e-14);
}

TEST(CrossEntropy, IgnoredRowsLeaveTheMeanAndGetNoGradient) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({4, 3}, 3).requires_grad_();
  const Tensor t = tensor({2, -100, 0, -100});
  const Tensor loss = cross_entropy(x, t, {}, Reduction::Mean, -100, 0.2);
  // The same loss on rows 0 and 2 alone:
  const std::vector<double> xv = values_as_double(x.detach());
  std::vector<double> rows(xv.begin(), xv.begin() + 3);
  rows.insert(rows.end(), xv.begin() + 6, xv.begin() + 9);
  const Tensor kept =
      cross_entropy(from_vector(rows, {2, 3}), tensor({2, 0}), {}, Reduction::Mean, -100, 0.2);
  EXPECT_NEAR(item(loss), item(kept), 1e-14);
  loss.backward();
  const std::vector<double> g = values_as_double(x.grad());
  for (int col = 0; col < 3; ++col) {
    EXPECT_EQ(g[3 + col], 0.0);
    EXPECT_EQ(g[9 + col], 0.0);
  }
  EXPECT_TRUE(std::isnan(item(cross_entropy(x, tensor({-100, -100, -100, -100})))));
}

TEST(CrossEntropy, GradientIsSoftmaxMinusOneHotOverN) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  // ∂/∂x of mean cross entropy = (softmax(x) − onehot(t)) / N: the famous clean gradient.
  const Tensor x = random({5, 4}, 4).requires_grad_();
  const Tensor t = tensor({1, 3, 0, 0, 2});
  cross_entropy(x, t).backward();
  std::vector<double> want = values_as_double(native::softmax(x.detach(), 1));
  const std::vector<int64_t> tv = test::values_as_int(t);
  for (size_t i = 0; i < 5; ++i) want[i * 4 + static_cast<size_t>(tv[i])] -= 1.0;
  for (double& w : want) w /= 5;
  EXPECT_TRUE(test::tensors_match(x.grad(), from_vector(want, {5, 4}), 1e-14, 1e-15));
}

TEST(CrossEntropy, StableAtPlusMinus1000) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (ScalarType dtype : {kFloat32, kFloat64}) {
    const Tensor x =
        from_vector(std::vector<double>{1000, -1000, 0, -1000, 1000, 999}, {2, 3}, dtype)
            .requires_grad_();
    const Tensor loss = cross_entropy(x, tensor({1, 2}), {}, Reduction::Sum, -100, 0.1);
    EXPECT_TRUE(std::isfinite(item(loss)));
    loss.backward();
    for (double v : values_as_double(x.grad())) EXPECT_TRUE(std::isfinite(v));
  }
}

// ── gradcheck of every loss through the public API ──────────────────────────────────────────

struct LossCase {
  std::string name;
  std::function<Tensor(const Tensor&, Reduction)> loss;  // of the input only
  Tensor input;
};

std::vector<LossCase> loss_cases() {
  const Tensor x = random({3, 4}, 5);
  const Tensor y = random({3, 4}, 6);
  const Tensor p = native::sigmoid(random({3, 4}, 7));
  const Tensor soft = native::sigmoid(random({3, 4}, 8, kFloat64, 3.0));
  const Tensor t = tensor({3, -100, 1});
  const Tensor logp = native::log_softmax(random({3, 4}, 9), 1);
  return {
      {"mse_loss", [y](const Tensor& in, Reduction r) { return F::mse_loss(in, y, r); }, x},
      {"l1_loss", [y](const Tensor& in, Reduction r) { return F::l1_loss(in, y, r); }, x},
      {"binary_cross_entropy",
       [soft](const Tensor& in, Reduction r) { return F::binary_cross_entropy(in, soft, r); }, p},
      {"binary_cross_entropy_with_logits",
       [soft](const Tensor& in, Reduction r) {
         return F::binary_cross_entropy_with_logits(in, soft, r);
       },
       x},
      {"nll_loss", [t](const Tensor& in, Reduction r) { return F::nll_loss(in, t, r); }, logp},
      {"cross_entropy", [t](const Tensor& in, Reduction r) { return F::cross_entropy(in, t, r); },
       x},
      {"cross_entropy ε=0.3, ignore 1",
       [](const Tensor& in, Reduction r) {
         return F::cross_entropy(
             in, tensor({3, 1, 0}),
             F::CrossEntropyFuncOptions(r).ignore_index(1).label_smoothing(0.3));
       },
       x},
      {"cross_entropy [C] ε=0.2",
       [](const Tensor& in, Reduction r) {
         return F::cross_entropy(in[0], full({}, int64_t{2}),
                                 F::CrossEntropyFuncOptions(r).label_smoothing(0.2));
       },
       x},
  };
}

TEST(Gradcheck, EveryLossEveryReductionFloat64) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  for (const auto& c : loss_cases()) {
    for (Reduction r : kAll) {
      SCOPED_TRACE(c.name + ", reduction " + name(r));
      const Tensor leaf = c.input.clone().requires_grad_();
      const auto result = autograd::gradcheck(
          [&](const std::vector<Tensor>& in) { return c.loss(in[0], r); }, {leaf});
      EXPECT_TRUE(result.ok) << result.message;
    }
  }
}

TEST(Gradcheck, NonContiguousInputs) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor base = random({4, 3}, 10).requires_grad_();
  const Tensor y = random({3, 4}, 11);
  const auto mse = autograd::gradcheck(
      [&](const std::vector<Tensor>& in) { return F::mse_loss(in[0].t(), y); }, {base});
  EXPECT_TRUE(mse.ok) << mse.message;
  const auto ce = autograd::gradcheck(
      [&](const std::vector<Tensor>& in) {
        return F::cross_entropy(in[0].t(), tensor({0, 2, 1}),
                                F::CrossEntropyFuncOptions(kSum).label_smoothing(0.1));
      },
      {base});
  EXPECT_TRUE(ce.ok) << ce.message;
}

TEST(PublicApi, SameValuesAsTheNativeKernels) {
  const Tensor x = random({3, 4}, 12, kFloat32), y = random({3, 4}, 13, kFloat32);
  const Tensor p = native::sigmoid(x), soft = native::sigmoid(y);
  for (Reduction r : kAll) {
    SCOPED_TRACE(name(r));
    EXPECT_TRUE(test::tensors_match(F::mse_loss(x, y, r), native::mse_loss(x, y, r), 0, 0));
    EXPECT_TRUE(test::tensors_match(F::l1_loss(x, y, r), native::l1_loss(x, y, r), 0, 0));
    EXPECT_TRUE(test::tensors_match(F::binary_cross_entropy(p, soft, r),
                                    native::binary_cross_entropy(p, soft, r), 0, 0));
    EXPECT_TRUE(test::tensors_match(F::binary_cross_entropy_with_logits(x, soft, r),
                                    native::binary_cross_entropy_with_logits(x, soft, r), 0, 0));
  }
  // The defaults are PyTorch's: reduction mean, ignore_index −100, no smoothing.
  const Tensor logp = native::log_softmax(x, 1);
  EXPECT_TRUE(test::tensors_match(
      F::nll_loss(logp, tensor({0, -100, 3})),
      native::nll_loss(logp, tensor({0, -100, 3}), Reduction::Mean, -100), 0, 0));
}

TEST(PublicApi, NoGraphUnderNoGradGuard) {
  TT_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 4}, 14).requires_grad_();
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(
        cross_entropy(x, tensor({0, 1, 2}), {}, Reduction::Mean, -100, 0.1).requires_grad());
  }
  EXPECT_TRUE(cross_entropy(x, tensor({0, 1, 2}), {}, Reduction::Mean, -100, 0.1).requires_grad());
}

}  // namespace
}  // namespace tinytorch
