// Module 16 — kl_div against torch.nn.functional.kl_div (values and both gradients, every
// reduction, probabilities and log-probabilities as targets), its float64 gradcheck, and the
// distillation loss against Hinton's loss written in PyTorch.
#include <gtest/gtest.h>

#include "m16_support.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/nn/functional/distillation.h"

namespace tinytorch {
namespace {

namespace F = nn::functional;
using m16::cases;
using m16::json_tensor;
using m16::max_abs_diff;

F::KLDivReduction parse_reduction(const std::string& r) {
  if (r == "none") return F::KLDivReduction::None;
  if (r == "sum") return F::KLDivReduction::Sum;
  if (r == "mean") return F::KLDivReduction::Mean;
  return F::KLDivReduction::BatchMean;
}

TEST(KlDiv, MatchesPyTorchWithGradients) {
  int seen = 0;
  for (const auto& c : cases()) {
    if (c.at("group") != "kl_div") continue;
    ++seen;
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor x = json_tensor(c.at("input")).requires_grad_(true);
    const Tensor t = json_tensor(c.at("target")).requires_grad_(true);
    const Tensor out = F::kl_div(x, t,
                                 F::KLDivFuncOptions()
                                     .reduction(parse_reduction(c.at("reduction")))
                                     .log_target(c.at("log_target").get<bool>()));
    const Tensor expected = json_tensor(c.at("expected"));
    EXPECT_LT(max_abs_diff(out.reshape(expected.sizes()), expected), 1e-13);
    const Tensor g = json_tensor(c.at("grad_output"));
    out.backward(g.reshape(out.sizes()));
    EXPECT_LT(max_abs_diff(x.grad(), json_tensor(c.at("grad_input"))), 1e-13);
    const Tensor gt = json_tensor(c.at("grad_target"));
    EXPECT_LT(max_abs_diff(t.grad(), gt), 1e-13);
    // Where torch has no value (NaN at p = 0), ours is 0: the entry is not part of the sum.
    const std::vector<double> ours = test::values_as_double(t.grad()),
                              ref = test::values_as_double(gt);
    for (size_t i = 0; i < ref.size(); ++i) {
      if (std::isnan(ref[i])) {
        EXPECT_EQ(ours[i], 0.0);
      }
    }
  }
  EXPECT_EQ(seen, 8);
}

TEST(KlDiv, GradcheckFloat64) {
  manual_seed(4);
  const Tensor logits = randn({3, 4}, kFloat64), other = randn({3, 4}, kFloat64);
  for (const bool log_target : {false, true}) {
    for (const Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
      const Tensor x = logits.log_softmax(1).detach().requires_grad_(true);
      const Tensor t =
          (log_target ? other.log_softmax(1) : other.softmax(1)).detach().requires_grad_(true);
      const auto result = autograd::gradcheck(
          [r, log_target](const std::vector<Tensor>& in) {
            return kl_div(in[0], in[1], r, log_target);
          },
          {x, t});
      EXPECT_TRUE(result) << result.message;
    }
  }
}

TEST(KlDiv, RejectsBadInput) {
  const Tensor a = zeros({2, 3}, kFloat64);
  EXPECT_THROW(kl_div(a, zeros({3, 2}, kFloat64)), Error);
  EXPECT_THROW(kl_div(a, zeros({2, 3}, kFloat32)), Error);
  EXPECT_THROW(kl_div(zeros({2, 3}, kInt64), zeros({2, 3}, kInt64)), Error);
}

TEST(Distillation, MatchesHintonsLossInPyTorch) {
  int seen = 0;
  for (const auto& c : cases()) {
    if (c.at("group") != "distill") continue;
    ++seen;
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor s = json_tensor(c.at("student")).requires_grad_(true);
    const Tensor teacher = json_tensor(c.at("teacher")).requires_grad_(true);
    const Tensor labels = tensor(c.at("labels").get<std::vector<int64_t>>(), kInt64);
    const Tensor loss = F::distillation_loss(s, teacher, labels, c.at("T").get<double>(),
                                             c.at("alpha").get<double>());
    EXPECT_NEAR(loss.item<double>(), c.at("expected").get<double>(), 1e-12);
    loss.backward();
    EXPECT_LT(max_abs_diff(s.grad(), json_tensor(c.at("grad_student"))), 1e-12);
    EXPECT_FALSE(teacher.grad().defined()) << "the teacher must get no gradient";
  }
  EXPECT_EQ(seen, 4);
  const Tensor z = zeros({2, 3}, kFloat64);
  const Tensor y = zeros({2}, kInt64);
  EXPECT_THROW(F::distillation_loss(z, z, y, 0.0, 0.5), Error);
  EXPECT_THROW(F::distillation_loss(z, z, y, 2.0, 1.5), Error);
  EXPECT_THROW(F::distillation_loss(z, zeros({2, 4}, kFloat64), y, 2.0, 0.5), Error);
}

}  // namespace
}  // namespace tinytorch
