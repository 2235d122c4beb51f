// Module 16 — magnitude pruning: masks identical to torch.nn.utils.prune's (per layer, global,
// iterated, ln_structured's ranking), PyTorch's state_dict layout, masks kept through SGD and
// Adam training, prune::remove; structured pruning that shrinks a Linear pair and computes
// exactly what the masked network computes.
#include <gtest/gtest.h>

#include "m16_support.h"
#include "tinytorch/nn/utils/prune.h"

namespace tinytorch {
namespace {

namespace prune = nn::utils::prune;
using m16::cases;
using m16::json_tensor;
using m16::max_abs_diff;

nn::Linear linear_with(const Tensor& w) {
  nn::Linear fc(nn::LinearOptions(w.size(1), w.size(0)).dtype(kFloat64));
  const NoGradGuard no_grad;
  fc->weight.copy_(w);
  return fc;
}

prune::Amount amount_from(const nlohmann::json& a) {
  if (a.is_number_integer()) return prune::Amount(a.get<int64_t>());
  return prune::Amount(a.get<double>());
}

Tensor mask_of(const nn::Linear& fc) {
  return fc->named_buffers(false)["weight_mask"];
}

TEST(Prune, MasksMatchTorchNnUtilsPrune) {
  int seen = 0;
  for (const auto& c : cases()) {
    if (c.at("group") != "prune" || c.at("kind") == "ln_structured") continue;
    ++seen;
    SCOPED_TRACE(c.at("name").get<std::string>());
    std::vector<nn::Linear> layers;
    for (const auto& w : c.at("weights")) layers.push_back(linear_with(json_tensor(w)));
    for (const auto& a : c.at("amounts")) {
      if (c.at("kind") == "l1_unstructured") {
        prune::l1_unstructured(*layers[0], "weight", amount_from(a));
      } else {
        std::vector<std::pair<std::shared_ptr<nn::Module>, std::string>> params;
        for (auto& l : layers) params.emplace_back(l.ptr(), "weight");
        prune::global_unstructured(params, amount_from(a));
      }
    }
    for (size_t i = 0; i < layers.size(); ++i) {
      EXPECT_EQ(max_abs_diff(mask_of(layers[i]), json_tensor(c.at("masks")[i])), 0.0);
      // The effective weight is orig · mask.
      EXPECT_EQ(
          max_abs_diff(layers[i]->weight, json_tensor(c.at("weights")[i]).mul(mask_of(layers[i]))),
          0.0);
    }
  }
  EXPECT_EQ(seen, 9);
}

TEST(Prune, StructuredRankingMatchesLnStructured) {
  int seen = 0;
  for (const auto& c : cases()) {
    if (c.at("group") != "prune" || c.at("kind") != "ln_structured") continue;
    ++seen;
    SCOPED_TRACE(c.at("name").get<std::string>());
    const nn::Linear fc = linear_with(json_tensor(c.at("weights")[0]));
    const std::vector<int64_t> keep =
        prune::neurons_to_keep(fc, amount_from(c.at("amounts")[0]), c.at("n").get<double>());
    const Tensor mask = json_tensor(c.at("masks")[0]);
    std::vector<int64_t> expected;
    for (int64_t j = 0; j < mask.size(0); ++j) {
      if (mask[j][0].item<double>() != 0) expected.push_back(j);
    }
    EXPECT_EQ(keep, expected);
  }
  EXPECT_EQ(seen, 4);
}

TEST(Prune, StateDictHasPyTorchsKeys) {
  manual_seed(0);
  nn::Linear fc(6, 4);
  prune::l1_unstructured(*fc, "weight", 0.5);
  EXPECT_EQ(fc->state_dict().keys(),
            (std::vector<std::string>{"bias", "weight_orig", "weight_mask"}));
  EXPECT_EQ(fc->named_parameters().keys(), (std::vector<std::string>{"bias", "weight_orig"}));
  EXPECT_TRUE(prune::is_pruned(*fc));
  EXPECT_NEAR(prune::sparsity(fc->weight), 0.5, 1e-12);
  // A pruned checkpoint loads into another pruned layer.
  nn::Linear other(6, 4);
  prune::l1_unstructured(*other, "weight", 3);
  other->load_state_dict(fc->state_dict());
  const Tensor x = randn({3, 6});
  EXPECT_EQ(max_abs_diff(other(x), fc(x)), 0.0);
}

// Trains a pruned layer with an optimizer that has momentum: the pruned entries' weight_orig
// moves, the effective weight stays zero there and the output never sees them.
template <typename MakeOptimizer>
void expect_mask_survives_training(MakeOptimizer make_optimizer) {
  manual_seed(1);
  nn::Linear fc(8, 5);
  auto opt = make_optimizer(fc->parameters());
  const Tensor x = randn({16, 8}), y = randn({16, 5});
  for (int step = 0; step < 3; ++step) {  // some momentum first, then prune mid-training
    opt.zero_grad();
    mse_loss(fc(x), y).backward();
    opt.step();
  }
  prune::l1_unstructured(*fc, "weight", 0.6);
  const Tensor mask = mask_of(fc).clone();
  const Tensor orig = fc->named_parameters(false)["weight_orig"];
  const Tensor orig_at_pruning = orig.detach().clone();
  for (int step = 0; step < 5; ++step) {
    opt.zero_grad();
    mse_loss(fc(x), y).backward();
    opt.step();
  }
  // The optimizer still moves the pruned entries of weight_orig (its state remembers them)...
  EXPECT_GT(orig.detach().sub(orig_at_pruning).mul(mask.eq(0)).abs().max().item<double>(), 0.0);
  // ...but the forward uses the trained weight_orig times the mask: zero where pruned.
  const Tensor out = fc(x);
  EXPECT_EQ(max_abs_diff(out, linear(x, orig.detach().mul(mask), fc->bias.detach())), 0.0);
  EXPECT_EQ(max_abs_diff(fc->weight.mul(mask.eq(0)), zeros({5, 8})), 0.0);
  EXPECT_NEAR(prune::sparsity(fc->weight), 0.6, 1e-12);
  prune::remove(*fc, "weight");
  EXPECT_FALSE(prune::is_pruned(*fc));
  EXPECT_EQ(fc->state_dict().keys(), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_NEAR(prune::sparsity(fc->weight), 0.6, 1e-12);
}

TEST(Prune, MaskKeptThroughSgdWithMomentum) {
  expect_mask_survives_training([](std::vector<Tensor> p) {
    return optim::SGD(std::move(p), optim::SGDOptions(0.1).momentum(0.9));
  });
}

TEST(Prune, MaskKeptThroughAdam) {
  expect_mask_survives_training(
      [](std::vector<Tensor> p) { return optim::Adam(std::move(p), optim::AdamOptions(0.05)); });
}

TEST(Prune, RejectsBadArguments) {
  nn::Linear fc(4, 3);
  TT_EXPECT_THROW_WITH(prune::l1_unstructured(*fc, "weight", 1.5), ValueError,
                       "amount as a fraction must be in [0, 1]");
  TT_EXPECT_THROW_WITH(prune::l1_unstructured(*fc, "weight", -1), ValueError,
                       "amount as a count must be non-negative");
  TT_EXPECT_THROW_WITH(prune::l1_unstructured(*fc, "weight", 13), ValueError,
                       "amount=13 should be smaller than the number of parameters to prune=12");
  TT_EXPECT_THROW_WITH(prune::l1_unstructured(*fc, "kernel", 0.5), ValueError,
                       "a Linear has parameters \"weight\" and \"bias\"");
  TT_EXPECT_THROW_WITH(prune::remove(*fc, "weight"), ValueError, "is not pruned");
  nn::ReLU relu;
  TT_EXPECT_THROW_WITH(prune::l1_unstructured(*relu, "weight", 0.5), TypeError,
                       "only Linear layers can be pruned", "ReLU");
}

TEST(StructuredPrune, RemovedNeuronsShrinkTheLayersAndKeepTheOutput) {
  manual_seed(2);
  nn::Linear fc1(nn::LinearOptions(10, 16).dtype(kFloat64)),
      fc2(nn::LinearOptions(16, 3).dtype(kFloat64));
  const Tensor x = randn({7, 10}, kFloat64);
  const std::vector<int64_t> keep = prune::neurons_to_keep(fc1, 0.75, 2.0);
  ASSERT_EQ(keep.size(), 4u);
  // The masked network: removed neurons' rows of W1 and entries of b1 set to zero.
  Tensor row_mask = zeros({16, 1}, kFloat64);
  for (const int64_t j : keep) row_mask[j][0].fill_(1.0);
  const Tensor masked_hidden =
      relu(linear(x, fc1->weight.mul(row_mask), fc1->bias.mul(row_mask.reshape({16}))));
  const Tensor masked = fc2(masked_hidden);
  auto [small1, small2] = prune::remove_neurons(fc1, fc2, keep);
  EXPECT_EQ(small1->weight.sizes(), IntArrayRef({4, 10}));
  EXPECT_EQ(small1->bias.sizes(), IntArrayRef({4}));
  EXPECT_EQ(small2->weight.sizes(), IntArrayRef({3, 4}));
  EXPECT_LT(max_abs_diff(small2(relu(small1(x))), masked), 1e-12);
  // Rows kept are the largest-norm ones: every kept row's norm ≥ every removed row's.
  const Tensor norms = fc1->weight.detach().pow(2).sum({1});
  double min_kept = INFINITY, max_removed = 0;
  for (int64_t j = 0; j < 16; ++j) {
    const double v = norms[j].item<double>();
    if (std::find(keep.begin(), keep.end(), j) != keep.end()) {
      min_kept = std::min(min_kept, v);
    } else {
      max_removed = std::max(max_removed, v);
    }
  }
  EXPECT_GE(min_kept, max_removed);
  TT_EXPECT_THROW_WITH(prune::remove_neurons(fc1, fc1, keep), ValueError, "feeds 16 features");
  TT_EXPECT_THROW_WITH(prune::remove_neurons(fc1, fc2, {3, 1}), ValueError,
                       "keep must be sorted and unique");
  TT_EXPECT_THROW_WITH(prune::remove_neurons(fc1, fc2, {16}), IndexError,
                       "neuron 16 is out of range");
}

}  // namespace
}  // namespace tinytorch
