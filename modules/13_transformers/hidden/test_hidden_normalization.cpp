// Module 13 — hidden tests of LayerNorm and RMSNorm: the natives against the same formulas written
// with tinytorch's own ops (odd row lengths, so the vector loops' tails run), strided inputs and
// gradients, which gradients are computed, empty batches, and a training step. The checks are
// graded ones (tests/support/graded.h).
#include <gtest/gtest.h>
#include <array>

#include <cmath>
#include <vector>

#include "support/graded.h"
#include "support/reference.h"
#include "tinytorch/core/parallel.h"
#include "tinytorch/native/normalization.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

Tensor random(IntArrayRef shape, uint64_t seed, ScalarType dtype = kFloat64) {
  Generator gen(seed);
  return randn(shape, dtype, &gen);
}

// The definitions, composed from elementwise ops and reductions (float64).
Tensor layer_norm_composite(const Tensor& x, int64_t k, const Tensor& w, const Tensor& b,
                            double eps) {
  std::vector<int64_t> dims;
  for (int64_t i = x.dim() - k; i < x.dim(); ++i) dims.push_back(i);
  const Tensor mu = x.mean(dims, true);
  const Tensor var = x.var(dims, false, true);
  return (x - mu) / (var + eps).sqrt() * w + b;
}
Tensor rms_norm_composite(const Tensor& x, int64_t k, const Tensor& w, double eps) {
  std::vector<int64_t> dims;
  for (int64_t i = x.dim() - k; i < x.dim(); ++i) dims.push_back(i);
  return x / ((x * x).mean(dims, true) + eps).sqrt() * w;
}

TEST(NormHidden, ForwardAndGradientsEqualTheCompositeFormulas) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  struct Case {
    std::vector<int64_t> input, normalized;
  };
  for (const Case& c : {Case{{5, 13}, {13}}, Case{{3, 1001}, {1001}}, Case{{2, 3, 7, 3}, {7, 3}},
                        Case{{4, 1}, {1}}}) {
    SCOPED_TRACE("input " + test::shape_str(c.input));
    const int64_t k = static_cast<int64_t>(c.normalized.size());
    const Tensor g = random(c.input, 9);
    // The gradients of x, w and b through the native, or through the composite.
    const auto layer_norm_grads = [&](bool composite) {
      const Tensor x = random(c.input, 1).mul(3.0).add(2.0).requires_grad_();
      const Tensor w = random(c.normalized, 2).requires_grad_();
      const Tensor b = random(c.normalized, 3).requires_grad_();
      const Tensor y = composite ? layer_norm_composite(x, k, w, b, 1e-5)
                                 : layer_norm(x, c.normalized, w, b, 1e-5);
      (y * g).sum().backward();
      return std::array<Tensor, 3>{x.grad(), w.grad(), b.grad()};
    };
    const auto got = layer_norm_grads(false);
    std::array<Tensor, 3> want;
    TT_GRADE_EXPECTED_ONLY(want = layer_norm_grads(true));
    for (size_t i = 0; i < 3; ++i) TT_GRADE_TENSOR(got[i], want[i], 1e-9, 1e-9) << i;
    const Tensor x = random(c.input, 4);
    const Tensor w = random(c.normalized, 5);
    TT_GRADE_TENSOR(rms_norm(x, c.normalized, w, 1e-6), rms_norm_composite(x, k, w, 1e-6), 1e-12,
                    1e-12);
    const Tensor xr = x.clone().requires_grad_(), wr = w.clone().requires_grad_();
    (rms_norm(xr, c.normalized, wr, 1e-6) * g).sum().backward();
    Tensor want_x, want_w;
    TT_GRADE_EXPECTED_ONLY(const Tensor xc = x.clone().requires_grad_();
                           const Tensor wc = w.clone().requires_grad_();
                           (rms_norm_composite(xc, k, wc, 1e-6) * g).sum().backward();
                           want_x = xc.grad(); want_w = wc.grad());
    TT_GRADE_TENSOR(xr.grad(), want_x, 1e-9, 1e-9);
    TT_GRADE_TENSOR(wr.grad(), want_w, 1e-9, 1e-9);
  }
}

TEST(NormHidden, StridedInputsAndGradients) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  const Tensor base = random({6, 4}, 20, kFloat32);  // x = baseᵀ: [4, 6], not contiguous
  const Tensor x = base.t().requires_grad_();
  const Tensor y = layer_norm(x, {6});
  TT_GRADE_TENSOR(y, layer_norm(x.detach().contiguous(), {6}), 1e-6, 1e-6);
  const Tensor g = random({6, 4}, 21, kFloat32).t();  // a strided gradient
  y.backward(g);
  Tensor want;  // the gradient for a contiguous x and gradient
  TT_GRADE_EXPECTED_ONLY(const Tensor x2 = x.detach().contiguous().requires_grad_();
                         layer_norm(x2, {6}).backward(g.contiguous()); want = x2.grad());
  TT_GRADE_TENSOR(x.grad(), want, 1e-5, 1e-6);
}

TEST(NormHidden, OnlyTheRequestedGradientsAreComputed) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = random({3, 5}, 30);
  const Tensor w = ones({5}, kFloat64).requires_grad_();
  layer_norm(x, {5}, w).sum().backward();
  TT_GRADE_FALSE(x.grad().defined());
  ASSERT_TRUE(w.grad().defined());
  // gγ = Σ_rows x̂ (gy = 1): the column sums of the normalised rows.
  Tensor xhat;
  TT_GRADE_EXPECTED_ONLY(xhat = layer_norm(x, {5}));
  TT_GRADE_TENSOR(w.grad(), xhat.sum({0}), 1e-12, 1e-12);
  const Tensor b = zeros({5}, kFloat64).requires_grad_();
  layer_norm(x, {5}, Tensor(), b).sum().backward();
  TT_GRADE_EQ(b.grad(), full({5}, 3.0, kFloat64));  // gβ = Σ_rows gy = 3 rows of ones
}

TEST(NormHidden, EmptyBatchesAndAnUnbatchedRow) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  const Tensor x = zeros({0, 8}).requires_grad_();
  nn::LayerNorm ln(nn::LayerNormOptions({8}));
  const Tensor y = ln->forward(x);
  TT_GRADE_EQ(y.sizes(), IntArrayRef({0, 8}));
  y.sum().backward();
  TT_GRADE_EQ(ln->weight.grad(), zeros({8}));
  nn::RMSNorm rms(nn::RMSNormOptions({4}));
  const Tensor row = tensor({3.0f, -3.0f, 3.0f, -3.0f});
  TT_GRADE_TENSOR(rms->forward(row), tensor({1.0f, -1.0f, 1.0f, -1.0f}), 1e-6, 1e-6);
}

TEST(NormHidden, ALayerNormTrainsAndRejectsAFloat64InputWithFloat32Parameters) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  nn::LayerNorm ln(nn::LayerNormOptions({4}));
  optim::Adam adam(ln->parameters(), optim::AdamOptions(0.05));
  const Tensor x = random({16, 4}, 40, kFloat32);
  const Tensor target = random({16, 4}, 41, kFloat32).mul(0.5).add(1.0);
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    adam.zero_grad();
    const Tensor loss = mse_loss(ln->forward(x), target);
    loss.backward();
    adam.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  TT_GRADE_LT(last / first, 0.7) << "loss " << first << " → " << last;
  TT_GRADE_THROW_WITH(ln->forward(random({2, 4}, 42)), TypeError, "mixed dtype");
}

// Rows run in parallel, the weight/bias gradients are summed in row order on one thread: the
// same bits on 1 and 2 threads.
TEST(NormHidden, ResultsDoNotDependOnTheThreadCount) {
  TT_GRADE_SKIP_WITHOUT_AUTOGRAD();
  const int threads = get_num_threads();
  std::vector<Tensor> results[2];
  for (int run = 0; run < 2; ++run) {
    set_num_threads(run == 0 ? 1 : 2);
    const Tensor x = random({512, 96}, 50, kFloat32).requires_grad_();
    const Tensor w = random({96}, 51, kFloat32).requires_grad_();
    const Tensor b = random({96}, 52, kFloat32).requires_grad_();
    const Tensor y = layer_norm(x, {96}, w, b) + rms_norm(x, {96}, w);
    y.backward(random({512, 96}, 53, kFloat32));
    results[run] = {y.detach(), x.grad(), w.grad(), b.grad()};
  }
  set_num_threads(threads);
  for (size_t i = 0; i < results[0].size(); ++i) {
    TT_GRADE_TRUE(test::graded::identical(results[0][i], results[1][i])) << i;
    TT_GRADE_SAME_AS_REFERENCE(results[0][i], 1e-4, 1e-4);
  }
}

}  // namespace
}  // namespace tinytorch
