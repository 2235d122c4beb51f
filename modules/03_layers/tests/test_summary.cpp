// Module 03 — nn::summary: one forward pass over zeros gives each layer's output shape and
// parameter count (torchinfo's table), leaves the model as it was, and a layer that fails is
// named with the shape that reached it. Also Linear's own message for a feature map that was
// never flattened.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "layers_test_util.h"
#include "tinytorch/nn/summary.h"

namespace tinytorch {
namespace {

using Dims = std::vector<int64_t>;

int64_t count_of(const nn::Module& m) {
  int64_t n = 0;
  for (const Tensor& p : m.parameters()) n += p.numel();
  return n;
}

TEST(Summary, MlpRowsShapesAndTotals) {
  manual_seed(0);
  nn::Sequential mlp(nn::Linear(784, 256), nn::ReLU(), nn::Linear(256, 10));
  const nn::ModelSummary s = nn::summary(mlp, {2, 784});

  ASSERT_EQ(s.layers.size(), 4u);  // the model itself, then its three children
  EXPECT_EQ(s.layers[0].type, "Sequential");
  EXPECT_EQ(s.layers[0].name, "");
  EXPECT_TRUE(s.layers[0].is_container);
  EXPECT_EQ(s.layers[0].output_shape, (Dims{2, 10}));
  const std::vector<std::string> types = {"Linear", "ReLU", "Linear"};
  const std::vector<Dims> shapes = {{2, 256}, {2, 256}, {2, 10}};
  const std::vector<int64_t> params = {784 * 256 + 256, 0, 256 * 10 + 10};
  for (size_t i = 0; i < 3; ++i) {
    const nn::LayerSummary& l = s.layers[i + 1];
    EXPECT_EQ(l.name, std::to_string(i));
    EXPECT_EQ(l.type, types[i]);
    EXPECT_EQ(l.depth, 1);
    EXPECT_FALSE(l.is_container);
    EXPECT_EQ(l.output_shape, shapes[i]);
    EXPECT_EQ(l.parameters, params[i]);
    EXPECT_EQ(l.trainable_parameters, params[i]);
  }
  EXPECT_EQ(s.layers[1].input_shape, (Dims{2, 784}));
  EXPECT_EQ(s.input_shape, (Dims{2, 784}));
  EXPECT_EQ(s.output_shape, (Dims{2, 10}));

  const int64_t total = 203530;  // 200 960 + 2 570
  EXPECT_EQ(s.total_parameters, total);
  EXPECT_EQ(s.trainable_parameters, total);
  EXPECT_EQ(s.parameter_bytes, total * 4);
  EXPECT_EQ(s.buffer_bytes, 0);
  EXPECT_EQ(s.input_bytes, 2 * 784 * 4);
  EXPECT_EQ(s.activation_bytes, (2 * 256 + 2 * 256 + 2 * 10) * 4);

  const std::string text = s.to_string();
  for (const char* fragment :
       {"Layer (type: name)", "Output Shape", "Param #", "├─Linear: 0", "├─ReLU: 1", "└─Linear: 2",
        "[2, 256]", "200,960", "2,570", "Total params: 203,530", "Trainable params: 203,530",
        "Non-trainable params: 0", "Params size: 795.04 KiB",
        "Input size: 6.12 KiB ([2, 784] float32)", "Forward activations: 4.08 KiB"}) {
    EXPECT_NE(text.find(fragment), std::string::npos) << fragment << "\n" << text;
  }
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), text);
}

TEST(Summary, NestedSequentialsAreWalkedWithDottedNames) {
  nn::Sequential model(nn::Flatten(), nn::Sequential(nn::Linear(784, 32), nn::ReLU()),
                       nn::Linear(32, 10));
  const nn::ModelSummary s = nn::summary(model, {3, 1, 28, 28});
  std::vector<std::string> names, types;
  std::vector<int64_t> depths;
  for (const auto& l : s.layers) {
    names.push_back(l.name);
    types.push_back(l.type);
    depths.push_back(l.depth);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"", "0", "1", "1.0", "1.1", "2"}));
  EXPECT_EQ(types, (std::vector<std::string>{"Sequential", "Flatten", "Sequential", "Linear",
                                             "ReLU", "Linear"}));
  EXPECT_EQ(depths, (std::vector<int64_t>{0, 1, 1, 2, 2, 1}));
  // The row names are the state_dict's prefixes: "1.0.weight" belongs to row "1.0".
  EXPECT_TRUE(model->named_parameters().contains("1.0.weight"));
  EXPECT_EQ(s.layers[1].output_shape, (Dims{3, 784}));
  EXPECT_EQ(s.layers[2].output_shape, (Dims{3, 32}));  // the inner Sequential's output
  EXPECT_EQ(s.layers[2].parameters, 784 * 32 + 32);    // counted with its children's
  EXPECT_EQ(s.total_parameters, count_of(*model));
  // Only the leaves' outputs are activations: the inner Sequential's output is its ReLU's.
  EXPECT_EQ(s.activation_bytes, (3 * 784 + 3 * 32 + 3 * 32 + 3 * 10) * 4);

  const std::string text = s.to_string();
  EXPECT_NE(text.find("├─Sequential: 1"), std::string::npos) << text;
  EXPECT_NE(text.find("│ ├─Linear: 1.0"), std::string::npos) << text;
  EXPECT_NE(text.find("│ └─ReLU: 1.1"), std::string::npos) << text;
  EXPECT_NE(text.find("└─Linear: 2"), std::string::npos) << text;
  // A container's own row shows no count ("--"): its parameters are its children's rows.
  EXPECT_EQ(text.find("25,120"), text.rfind("25,120")) << text;

  // depth(1): the inner rows are not printed, but still run and counted.
  const nn::ModelSummary shallow =
      nn::summary(model, {3, 1, 28, 28}, nn::SummaryOptions().depth(1));
  const std::string shallow_text = shallow.to_string();
  EXPECT_EQ(shallow_text.find("Linear: 1.0"), std::string::npos) << shallow_text;
  EXPECT_NE(shallow_text.find("├─Sequential: 1"), std::string::npos) << shallow_text;
  EXPECT_EQ(shallow.total_parameters, s.total_parameters);
  EXPECT_EQ(shallow.activation_bytes, s.activation_bytes);
}

TEST(Summary, LeavesTheModelAsItWas) {
  // Dropout would draw random numbers in training mode; the summary runs in eval mode, restores
  // every module's own flag (also mixed ones), and leaves the generator and the weights alone.
  manual_seed(5);
  nn::Sequential model(nn::Linear(4, 8), nn::Dropout(0.5),
                       nn::Sequential(nn::Linear(8, 8), nn::Dropout(0.5)), nn::Linear(8, 2));
  model->train();
  model[2]->eval();
  const auto before = model->state_dict();
  std::vector<Tensor> saved;
  for (const auto& [key, value] : before) saved.push_back(value.clone());

  manual_seed(7);
  const nn::ModelSummary s = nn::summary(model, {5, 4});
  const Tensor after_summary = rand({3});
  manual_seed(7);
  const Tensor without_summary = rand({3});
  EXPECT_TRUE(after_summary.equal(without_summary));  // no random draw

  EXPECT_TRUE(model->is_training());
  EXPECT_TRUE(model[1]->is_training());
  EXPECT_FALSE(model[2]->is_training());
  EXPECT_FALSE(model[2]->as<nn::Sequential>()->ptr(1)->is_training());
  EXPECT_TRUE(model[3]->is_training());
  size_t i = 0;
  for (const auto& [key, value] : model->state_dict()) EXPECT_TRUE(value.equal(saved[i++])) << key;
  EXPECT_EQ(s.output_shape, (Dims{5, 2}));
}

TEST(Summary, ASharedLayerIsCountedOnceInTheTotals) {
  // The same Linear twice (tied weights): two rows of 42, one tensor pair in the totals — the
  // optimizer's view of the model.
  nn::Linear shared(6, 6);
  nn::Sequential model(shared, nn::ReLU(), shared);
  const nn::ModelSummary s = nn::summary(model, {1, 6});
  EXPECT_EQ(s.layers[1].parameters, 42);
  EXPECT_EQ(s.layers[3].parameters, 42);
  EXPECT_EQ(s.total_parameters, 42);
  EXPECT_EQ(s.parameter_bytes, 42 * 4);
}

// A module that is not a Sequential is one row, its submodules' parameters counted in it.
struct TwoLayerImpl : nn::Module {
  TwoLayerImpl() {
    fc1 = register_module("fc1", nn::Linear(10, 5));
    fc2 = register_module("fc2", nn::Linear(5, 3));
    fc2->bias.set_requires_grad(false);  // frozen: not trainable
  }
  Tensor forward(const Tensor& x) { return fc2(relu(fc1(x))); }
  nn::Linear fc1{nullptr}, fc2{nullptr};
};
TT_MODULE(TwoLayer);

TEST(Summary, ACustomModuleIsOneRow) {
  nn::Sequential model(TwoLayer(), nn::Softmax(1));
  const nn::ModelSummary s = nn::summary(model, {4, 10});
  ASSERT_EQ(s.layers.size(), 3u);
  EXPECT_EQ(s.layers[1].type, "TwoLayer");
  EXPECT_FALSE(s.layers[1].is_container);
  EXPECT_EQ(s.layers[1].parameters, 55 + 18);
  EXPECT_EQ(s.layers[1].trainable_parameters, 55 + 15);
  EXPECT_EQ(s.layers[1].output_shape, (Dims{4, 3}));
  EXPECT_EQ(s.total_parameters, 73);
  EXPECT_EQ(s.trainable_parameters, 70);
  EXPECT_NE(s.to_string().find("Non-trainable params: 3"), std::string::npos) << s.to_string();

  // Not inside a Sequential at all: the model is the only row.
  const nn::ModelSummary alone = nn::summary(TwoLayer(), {4, 10});
  ASSERT_EQ(alone.layers.size(), 1u);
  EXPECT_EQ(alone.layers[0].type, "TwoLayer");
  EXPECT_EQ(alone.output_shape, (Dims{4, 3}));
}

TEST(Summary, ALinearAfterFlattenWithTheWrongInFeaturesSaysWhatArrives) {
  // 16 channels of 5×5 flatten to 400 features; the Linear was written for 256.
  nn::Sequential model(nn::ReLU(), nn::Flatten(), nn::Linear(256, 120), nn::ReLU(),
                       nn::Linear(120, 10));
  TT_EXPECT_THROW_WITH(nn::summary(model, {2, 16, 5, 5}), Error,
                       "summary: layer '2' (Linear) failed on its input of shape [2, 400]",
                       "400 features per sample reach this Linear",
                       "built with in_features=256: use in_features=400", "nn::Linear(400, 120)",
                       // Linear's own message comes with it
                       "mat1 and mat2 shapes cannot be multiplied (2x400 and 256x120)",
                       // and the table of what ran, up to the failure
                       "where it happened:", "├─Flatten: 1", "[2, 400]", "FAILED on [2, 400]",
                       "(running)");
  // After the failure the model is usable and in its mode again.
  EXPECT_TRUE(model->is_training());
}

TEST(Summary, ALinearFedAFeatureMapIsToldToFlatten) {
  nn::Sequential model(nn::Linear(400, 10));
  TT_EXPECT_THROW_WITH(nn::summary(model, {2, 16, 5, 5}), Error,
                       "layer '0' (Linear) failed on its input of shape [2, 16, 5, 5]",
                       "flatten it from dim 1 first (nn::Flatten())",
                       "each sample then has 400 features", "└─Linear: 0",
                       "FAILED on [2, 16, 5, 5]");
  // Inside a nested Sequential the dotted name says where.
  nn::Sequential nested(nn::Sequential(nn::ReLU(), nn::Linear(3, 2)), nn::ReLU());
  TT_EXPECT_THROW_WITH(nn::summary(nested, {2, 4}), Error, "layer '0.1' (Linear)",
                       "4 features per sample reach this Linear");
}

TEST(Summary, KeepsTheKindOfTheLayersError) {
  nn::Sequential model(nn::Functional([](const Tensor& x) -> Tensor {
    TT_CHECK_VALUE(x.size(1) == 3, "MyLayer: expected 3 channels, got ", x.size(1));
    return x;
  }));
  TT_EXPECT_THROW_WITH(nn::summary(model, {1, 5}), ValueError,
                       "layer '0' (Functional) failed on its input of shape [1, 5]",
                       "MyLayer: expected 3 channels, got 5");
}

TEST(Summary, RefusesAnEmptyOrNonPositiveInputSize) {
  nn::Sequential model{nn::ReLU()};
  TT_EXPECT_THROW_WITH(nn::summary(model, std::vector<int64_t>{}), ValueError,
                       "summary: input_size is empty", "{1, 1, 28, 28}");
  TT_EXPECT_THROW_WITH(nn::summary(model, {0, 4}), ValueError,
                       "every dim of input_size must be positive", "[0, 4]");
  TT_EXPECT_THROW_WITH(nn::summary(nn::AnyModule(), {1}), ValueError, "the model is empty");
}

TEST(LinearMessages, AFeatureMapThatWasNeverFlattenedGetsItsFlattenedSize) {
  // [2, 16, 5, 5] into Linear(400, 10): the Linear reads the last dim (5) as its features.
  nn::Linear fc(400, 10);
  TT_EXPECT_THROW_WITH(fc(zeros({2, 16, 5, 5})), Error,
                       "mat1 and mat2 shapes cannot be multiplied (160x5 and 400x10)",
                       "flatten it from dim 1 first (nn::Flatten())",
                       "each sample then has 400 features");
  // After a Flatten with the wrong in_features, the message names the size that arrives.
  nn::Linear wrong(256, 10);
  TT_EXPECT_THROW_WITH(wrong(nn::Flatten()(zeros({2, 16, 5, 5}))), Error, "2x400 and 256x10",
                       "has in_features = 400 (its last dim)");
}

}  // namespace
}  // namespace tinytorch
