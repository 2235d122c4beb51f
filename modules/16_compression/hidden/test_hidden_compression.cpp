// Module 16 (hidden) — the same properties on other inputs: random tall/wide/rank-deficient SVDs
// checked against their own invariants, ties and repeated pruning, a pruned Sequential model
// trained end to end, structured pruning of a deeper MLP, kl_div and distillation identities. The
// checks are graded ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include "../tests/m16_support.h"
#include "support/graded.h"
#include "tinytorch/autograd/gradcheck.h"
#include "tinytorch/linalg/svd.h"
#include "tinytorch/nn/functional/distillation.h"
#include "tinytorch/nn/utils/low_rank.h"
#include "tinytorch/nn/utils/prune.h"

namespace tinytorch {
namespace {

namespace prune = nn::utils::prune;
namespace F = nn::functional;
using m16::max_abs_diff;

TEST(HiddenSvd, RandomShapesAndRankDeficientMatrices) {
  manual_seed(11);
  const std::vector<std::pair<int64_t, int64_t>> shapes = {
      {1, 5}, {5, 1}, {9, 9}, {20, 6}, {6, 20}};
  for (const auto& [m, n] : shapes) {
    const Tensor A = randn({m, n}, kFloat64);
    const auto [U, S, Vh] = linalg::svd(A);
    const int64_t k = std::min(m, n);
    TT_GRADE_LT(max_abs_diff(U.t().matmul(U), eye(k, kFloat64)), 1e-12);
    TT_GRADE_LT(max_abs_diff(Vh.matmul(Vh.t()), eye(k, kFloat64)), 1e-12);
    TT_GRADE_LT(max_abs_diff(U.mul(S).matmul(Vh), A), 1e-12);
    // ‖A‖_F² = Σ σ²
    TT_GRADE_NEAR(A.pow(2).sum().item<double>(), S.pow(2).sum().item<double>(), 1e-10);
    // The singular values are unique: the reference solution's.
    TT_GRADE_SAME_AS_REFERENCE(S, 1e-10, 1e-12);
  }
  // Rank 3 of a 10x7 product, and the all-zero matrix.
  const Tensor B = randn({10, 3}, kFloat64).matmul(randn({3, 7}, kFloat64));
  const auto r = linalg::svd(B);
  TT_GRADE_LT(r.S[3].item<double>(), 1e-12);
  TT_GRADE_LT(max_abs_diff(r.U.t().matmul(r.U), eye(7, kFloat64)), 1e-12);
  const auto z = linalg::svd(zeros({4, 3}, kFloat64));
  TT_GRADE_EQ(max_abs_diff(z.S, zeros({3}, kFloat64)), 0.0);
  TT_GRADE_LT(max_abs_diff(z.U.t().matmul(z.U), eye(3, kFloat64)), 1e-12);
}

TEST(HiddenPrune, TiesPruneLowestIndexFirstAndRepeatedPruningCompounds) {
  const Tensor m =
      prune::magnitude_mask(tensor({1.0, 2.0, 1.0, 1.0, 3.0}, kFloat64), ones({5}, kFloat64), 2);
  TT_GRADE_EQ(test::values_as_double(m), (std::vector<double>{0, 1, 0, 1, 1}));
  nn::Linear fc(10, 10);
  prune::l1_unstructured(*fc, "weight", 0.5);
  prune::l1_unstructured(*fc, "weight", 0.5);
  TT_GRADE_NEAR(prune::sparsity(fc->weight), 0.75, 1e-12);
  prune::l1_unstructured(*fc, "bias", 3);
  TT_GRADE_NEAR(prune::sparsity(fc->bias), 0.3, 1e-12);
  TT_GRADE_EQ(fc->state_dict().keys(),
              (std::vector<std::string>{"weight_orig", "bias_orig", "weight_mask", "bias_mask"}));
}

TEST(HiddenPrune, GlobalPruningOfASequentialTrainsWithTheMask) {
  manual_seed(12);
  nn::Sequential net(nn::Linear(6, 12), nn::ReLU(), nn::Linear(12, 3));
  optim::SGD opt(net->parameters(), optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-3));
  auto* fc1 = net[0]->as<nn::Linear>();
  auto* fc2 = net[2]->as<nn::Linear>();
  prune::global_unstructured({{net[0], "weight"}, {net[2], "weight"}}, 0.8);
  TT_GRADE_NEAR(
      (fc1->weight.eq(0).sum().item<double>() + fc2->weight.eq(0).sum().item<double>()) / (72 + 36),
      0.8, 0.01);
  const Tensor x = randn({32, 6});
  const Tensor y = randint(0, 3, {32}, kInt64);
  const Tensor m1 = fc1->named_buffers(false)["weight_mask"].clone();
  for (int i = 0; i < 10; ++i) {
    opt.zero_grad();
    cross_entropy(net->forward(x), y).backward();
    opt.step();
  }
  net->forward(x);
  TT_GRADE_EQ(fc1->weight.mul(m1.eq(0)).abs().sum().item<double>(), 0.0);
}

TEST(HiddenStructured, ShrinkingAThreeLayerMlpKeepsItsOutput) {
  manual_seed(13);
  nn::Linear a(nn::LinearOptions(5, 9).dtype(kFloat64)), b(nn::LinearOptions(9, 4).dtype(kFloat64));
  const Tensor x = randn({3, 5}, kFloat64);
  const std::vector<int64_t> keep = prune::neurons_to_keep(a, 4, 1.0);
  TT_GRADE_EQ(keep.size(), 5u);
  auto [a2, b2] = prune::remove_neurons(a, b, keep);
  Tensor mask = zeros({9}, kFloat64);
  for (const int64_t j : keep) mask[j].fill_(1.0);
  const Tensor expected = b(relu(a(x)).mul(mask));
  TT_GRADE_LT(max_abs_diff(b2(relu(a2(x))), expected), 1e-12);
}

TEST(HiddenKlDiv, IdentitiesAndGradcheckOfTheDistillationLoss) {
  manual_seed(14);
  const Tensor p = randn({4, 6}, kFloat64).softmax(1);
  // KL(p ‖ p) = 0; batchmean = sum / N; mean = sum / numel.
  const Tensor logp = p.log();
  TT_GRADE_NEAR(kl_div(logp, p, Reduction::Sum).item<double>(), 0.0, 1e-14);
  const Tensor q = randn({4, 6}, kFloat64).log_softmax(1);
  const double sum = kl_div(q, p, Reduction::Sum).item<double>();
  TT_GRADE_NEAR(
      F::kl_div(q, p, F::KLDivFuncOptions().reduction(F::KLDivReduction::BatchMean)).item<double>(),
      sum / 4, 1e-14);
  TT_GRADE_NEAR(kl_div(q, p).item<double>(), sum / 24, 1e-14);
  const Tensor teacher = randn({4, 6}, kFloat64);
  const Tensor labels = tensor(std::vector<int64_t>{1, 0, 5, 2}, kInt64);
  const auto result = autograd::gradcheck(
      [&](const std::vector<Tensor>& in) {
        return F::distillation_loss(in[0], teacher, labels, 3.0, 0.7);
      },
      {randn({4, 6}, kFloat64).requires_grad_(true)});
  TT_GRADE_TRUE(result) << result.message;
}

TEST(HiddenLowRank, ErrorOfTheFactorisedLayerFollowsEckartYoung) {
  manual_seed(15);
  nn::Linear fc(nn::LinearOptions(16, 10).dtype(kFloat64).bias(false));
  {
    // Weights drawn here, not by the initializer, so that S is the reference's too.
    const NoGradGuard no_grad;
    Generator gen(15);
    fc->weight.copy_(randn({10, 16}, kFloat64, &gen));
  }
  const Tensor S = linalg::svdvals(fc->weight.detach());
  for (const int64_t r : {1, 4, 9}) {
    nn::Sequential f = nn::utils::low_rank_linear(fc, r);
    // Feeding the identity gives W_rᵀ: its distance to Wᵀ is the tail of S.
    const Tensor Wr = f->forward(eye(16, kFloat64));
    const double err2 = Wr.sub(fc->weight.detach().t()).pow(2).sum().item<double>();
    TT_GRADE_NEAR(err2, S.narrow(0, r, 10 - r).pow(2).sum().item<double>(), 1e-12);
  }
}

}  // namespace
}  // namespace tinytorch
