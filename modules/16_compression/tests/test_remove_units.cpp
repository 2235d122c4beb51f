// Module 16 — prune::remove_units: structured pruning of a whole Sequential. An MLP and LeNet-5
// lose `fraction` of every hidden layer's units and compute exactly (float64) what the network
// with those units masked out computes; a module that would turn a removed unit into something
// other than 0 (Sigmoid, BatchNorm) keeps the layer before it whole; the last layer keeps its
// outputs; names, train/eval mode and the unweighted modules carry over; bad fractions raise.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "m16_support.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/nn/utils/prune.h"

namespace tinytorch {
namespace {

namespace prune = nn::utils::prune;
using m16::conv64;
using m16::max_abs_diff;

// The units of `orig` that `small` kept, found by their biases (copied unchanged, and distinct
// for random initialisations): keep[i] is the index j with orig.bias[j] == small.bias[i].
std::vector<int64_t> kept_units(const Tensor& small_bias, const Tensor& orig_bias) {
  const std::vector<double> s = small_bias.to_vector<double>(), o = orig_bias.to_vector<double>();
  std::vector<int64_t> keep;
  for (const double b : s) {
    const auto it = std::find(o.begin(), o.end(), b);
    EXPECT_NE(it, o.end()) << "bias " << b << " is not one of the original layer's";
    keep.push_back(it - o.begin());
  }
  EXPECT_TRUE(std::is_sorted(keep.begin(), keep.end()));
  return keep;
}

// Zeroes the units (weight[j], bias[j]) of `weight`/`bias` that are not in `keep`.
void mask_units(const Tensor& weight, const Tensor& bias, const std::vector<int64_t>& keep) {
  const NoGradGuard no_grad;
  for (int64_t j = 0; j < weight.size(0); ++j) {
    if (std::find(keep.begin(), keep.end(), j) != keep.end()) continue;
    weight[j].zero_();
    bias[j].zero_();
  }
}

nn::Linear linear64(int64_t in, int64_t out) {
  return nn::Linear(nn::LinearOptions(in, out).dtype(kFloat64));
}

TEST(RemoveUnits, MlpLosesHalfOfEveryHiddenLayerAndKeepsTheMaskedOutput) {
  manual_seed(21);
  nn::Linear fc1 = linear64(10, 16), fc2 = linear64(16, 12), fc3 = linear64(12, 3);
  nn::Sequential model(fc1, nn::ReLU(), fc2, nn::Tanh(), nn::Dropout(0.2), fc3);
  model->eval();
  const Tensor x = randn({7, 10}, kFloat64);
  const nn::Sequential small = prune::remove_units(model, 0.5);
  const auto& s1 = small->at<nn::LinearImpl>(0);
  const auto& s2 = small->at<nn::LinearImpl>(2);
  const auto& s3 = small->at<nn::LinearImpl>(5);
  EXPECT_EQ(s1.weight.sizes(), IntArrayRef({8, 10}));
  EXPECT_EQ(s2.weight.sizes(), IntArrayRef({6, 8}));
  EXPECT_EQ(s3.weight.sizes(), IntArrayRef({3, 6}));  // the outputs stay
  // The first layer's ranking is neurons_to_keep's (L2 norm of the rows).
  const std::vector<int64_t> keep1 = kept_units(s1.bias, fc1->bias);
  EXPECT_EQ(keep1, prune::neurons_to_keep(fc1, 0.5));
  const std::vector<int64_t> keep2 = kept_units(s2.bias, fc2->bias);
  // The masked network, in place: the removed rows and biases zeroed.
  const Tensor y = small->forward(x);
  mask_units(fc1->weight, fc1->bias, keep1);
  mask_units(fc2->weight, fc2->bias, keep2);
  EXPECT_LT(max_abs_diff(y, model->forward(x)), 1e-12);
  // The same names and mode; the unweighted modules are the model's own objects.
  EXPECT_EQ(small->named_children().keys(), model->named_children().keys());
  EXPECT_FALSE(small->is_training());
  EXPECT_EQ(small[1], model[1]);
  EXPECT_EQ(small[4], model[4]);
  // The original model keeps its layers.
  EXPECT_EQ(fc2->weight.sizes(), IntArrayRef({12, 16}));
}

TEST(RemoveUnits, LeNet5LosesChannelsAndNeuronsAndKeepsTheMaskedOutput) {
  manual_seed(22);
  nn::Conv2d conv1 = conv64(1, 6, 5, 2), conv2 = conv64(6, 16, 5);
  nn::Linear fc1 = linear64(400, 120), fc2 = linear64(120, 84), fc3 = linear64(84, 10);
  nn::Sequential model(conv1, nn::ReLU(), nn::MaxPool2d(2), conv2, nn::ReLU(), nn::MaxPool2d(2),
                       nn::Flatten(), fc1, nn::ReLU(), fc2, nn::ReLU(), fc3);
  const Tensor x = randn({2, 1, 28, 28}, kFloat64);
  const nn::Sequential small = prune::remove_units(model, 0.5);
  // The header's diagram: conv 6 → 3, conv 16 → 8, fc 120 → 60, fc 84 → 42, fc 10 stays.
  const auto& c1 = small->at<nn::Conv2dImpl>(0);
  const auto& c2 = small->at<nn::Conv2dImpl>(3);
  const auto& f1 = small->at<nn::LinearImpl>(7);
  const auto& f2 = small->at<nn::LinearImpl>(9);
  const auto& f3 = small->at<nn::LinearImpl>(11);
  EXPECT_EQ(c1.weight.sizes(), IntArrayRef({3, 1, 5, 5}));
  EXPECT_EQ(c2.weight.sizes(), IntArrayRef({8, 3, 5, 5}));
  EXPECT_EQ(f1.weight.sizes(), IntArrayRef({60, 8 * 5 * 5}));
  EXPECT_EQ(f2.weight.sizes(), IntArrayRef({42, 60}));
  EXPECT_EQ(f3.weight.sizes(), IntArrayRef({10, 42}));
  const std::vector<int64_t> keep_c1 = kept_units(c1.bias, conv1->bias);
  EXPECT_EQ(keep_c1, prune::channels_to_keep(conv1, 0.5));
  const std::vector<int64_t> keep_c2 = kept_units(c2.bias, conv2->bias);
  const std::vector<int64_t> keep_f1 = kept_units(f1.bias, fc1->bias);
  const std::vector<int64_t> keep_f2 = kept_units(f2.bias, fc2->bias);
  const Tensor y = small->forward(x);
  EXPECT_EQ(y.sizes(), IntArrayRef({2, 10}));
  mask_units(conv1->weight, conv1->bias, keep_c1);
  mask_units(conv2->weight, conv2->bias, keep_c2);
  mask_units(fc1->weight, fc1->bias, keep_f1);
  mask_units(fc2->weight, fc2->bias, keep_f2);
  EXPECT_LT(max_abs_diff(y, model->forward(x)), 1e-12);
  EXPECT_TRUE(small->is_training());
}

TEST(RemoveUnits, ModulesThatMoveZeroKeepTheLayerBeforeThemWhole) {
  manual_seed(23);
  // Sigmoid(0) = 0.5: fc1's neurons stay; fc2 → ReLU → fc3 is pruned.
  nn::Sequential mlp(linear64(6, 8), nn::Sigmoid(), linear64(8, 10), nn::ReLU(), linear64(10, 2));
  const nn::Sequential small_mlp = prune::remove_units(mlp, 0.5);
  EXPECT_EQ(small_mlp[0], mlp[0]);
  EXPECT_EQ(small_mlp->at<nn::LinearImpl>(2).weight.sizes(), IntArrayRef({5, 8}));
  EXPECT_EQ(small_mlp->at<nn::LinearImpl>(4).weight.sizes(), IntArrayRef({2, 5}));
  // A BatchNorm shifts a zero channel; a grouped convolution ties channels to groups.
  nn::Sequential cnn(conv64(3, 8, 3), nn::BatchNorm2d(8), nn::ReLU(), conv64(8, 8, 3), nn::ReLU(),
                     nn::Conv2d(nn::Conv2dOptions(8, 8, 1).groups(8).dtype(kFloat64)), nn::ReLU(),
                     conv64(8, 4, 1));
  const nn::Sequential small_cnn = prune::remove_units(cnn, 0.5);
  for (const size_t i : {0, 3, 5, 7}) EXPECT_EQ(small_cnn[i], cnn[i]) << "module " << i;
  // A Linear applied to a conv's output without Flatten mixes positions, not channels.
  nn::Sequential no_flatten(conv64(1, 4, 3), nn::ReLU(), linear64(4, 3));
  EXPECT_EQ(prune::remove_units(no_flatten, 0.5)[0], no_flatten[0]);
}

TEST(RemoveUnits, EdgeFractionsAndErrors) {
  manual_seed(24);
  nn::Sequential model(linear64(4, 2), nn::ReLU(), linear64(2, 1));
  // 0 removes nothing (new layers, same weights).
  const nn::Sequential same = prune::remove_units(model, 0.0);
  EXPECT_EQ(same->at<nn::LinearImpl>(0).weight.sizes(), IntArrayRef({2, 4}));
  const Tensor x = randn({3, 4}, kFloat64);
  EXPECT_EQ(max_abs_diff(same->forward(x), model->forward(x)), 0.0);
  // 0.75 of 2 neurons rounds to 2, but a layer keeps at least one.
  EXPECT_EQ(prune::remove_units(model, 0.75)->at<nn::LinearImpl>(0).weight.sizes(),
            IntArrayRef({1, 4}));
  for (const double bad : {-0.1, 1.0, 1.5, std::nan("")}) {
    TT_EXPECT_THROW_WITH(prune::remove_units(model, bad), ValueError,
                         "prune.remove_units: fraction must be in [0, 1)");
  }
  TT_EXPECT_THROW_WITH(prune::remove_units(model, 0.5, 0.5), ValueError, "p >= 1");
  // A layer still holding a pruning mask must be made permanent first.
  prune::l1_unstructured(*model->ptr<nn::LinearImpl>(0), "weight", 0.5);
  TT_EXPECT_THROW_WITH(prune::remove_units(model, 0.5), ValueError, "prune::remove()");
}

}  // namespace
}  // namespace tinytorch
