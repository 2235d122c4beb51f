// Polynomial regression: learn the coefficients of f(x) = w·[x, x², x³, x⁴] + b from samples,
// with one Linear(4, 1) layer, the smooth L1 loss and SGD — the first program of a libtorch
// course, written as one.
//
//   build/release/bin/example_regression            random target and batches, until loss < 1e-3
//   build/release/bin/example_regression --fixed    closed-form target, batches and init: the
//                                                   first steps match
//                                                   tools/reference/gen_examples.py
#include <torch/torch.h>

#include <cstdio>
#include <vector>

#include "common/fixed_run.h"

namespace {

constexpr int64_t kDegree = 4;
constexpr int64_t kBatch = 32;

// [x, x², x³, x⁴] as the columns of a [B, 4] matrix.
torch::Tensor make_features(const torch::Tensor& x) {  // x: [B]
  const torch::Tensor column = x.unsqueeze(1);         // [B, 1]
  std::vector<torch::Tensor> powers;
  for (int64_t i = 1; i <= kDegree; ++i) powers.push_back(column.pow(i));
  return torch::cat(powers, 1);
}

// The function to learn.
torch::Tensor f(const torch::Tensor& features, const torch::Tensor& w, const torch::Tensor& b) {
  return features.mm(w) + b;  // [B, 4] · [4, 1] + [1] → [B, 1]
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = examples::parse_options(argc, argv, /*default_steps=*/2000);
  torch::manual_seed(1);

  torch::Tensor w_target = torch::randn({kDegree, 1}) * 5;
  torch::Tensor b_target = torch::randn({1}) * 5;
  if (options.fixed) {
    w_target = examples::fixed_values({kDegree, 1}, 0.3, 2.0);
    b_target = examples::fixed_values({1}, 1.1, 2.0);
  }

  torch::nn::Linear fc(kDegree, 1);
  if (options.fixed) examples::fixed_init(*fc);
  torch::optim::SGD optimizer(fc->parameters(), 0.1);

  double loss_value = 0;
  int64_t step = 1;
  for (; step <= options.steps; ++step) {
    // A batch of x in [-1, 1]: random, or sin of the samples' global indices in a fixed run.
    torch::Tensor x = torch::rand({kBatch}) * 2 - 1;
    if (options.fixed) {
      x = (torch::arange((step - 1) * kBatch, step * kBatch, torch::kFloat64) * 1.3 + 0.5)
              .sin()
              .to(torch::kFloat32);
    }
    const torch::Tensor features = make_features(x);
    const torch::Tensor target = f(features, w_target, b_target);

    optimizer.zero_grad();
    torch::Tensor loss = torch::smooth_l1_loss(fc(features), target);
    loss.backward();
    optimizer.step();

    loss_value = loss.item<double>();
    examples::report(options, step, loss_value, /*every=*/100);
    if (!options.fixed && loss_value < 1e-3) break;
  }

  if (!options.fixed) {
    std::printf("loss %.6f after %lld batches\n", loss_value,
                static_cast<long long>(std::min(step, options.steps)));
    std::cout << "learned weights " << fc->weight.view({-1}) << "\n  target weights "
              << w_target.view({-1}) << "\nlearned bias " << fc->bias.item<double>()
              << "\n  target bias " << b_target.item<double>() << "\n";
  }
}
