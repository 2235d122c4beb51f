// Module 09 — nn::summary of CNNs (module 03 tests it on MLPs): LeNet-5's output shapes and
// parameter counts, a BatchNorm model's running statistics left untouched, and the classic CNN
// mistake — a Linear after Flatten built for the wrong number of features — named with the
// flattened size that actually arrives.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/reference.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch {
namespace {

using Shape = std::vector<int64_t>;

nn::Sequential lenet5() {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(),
                        nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                        nn::Conv2d(nn::Conv2dOptions(6, 16, 5)), nn::ReLU(),
                        nn::MaxPool2d(nn::MaxPool2dOptions(2)), nn::Flatten(), nn::Linear(400, 120),
                        nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10));
}

TEST(SummaryCnn, LeNet5ShapesAndParameters) {
  manual_seed(0);
  const nn::ModelSummary s = nn::summary(lenet5(), {2, 1, 28, 28});
  ASSERT_EQ(s.layers.size(), 13u);
  const std::vector<Shape> shapes = {{2, 6, 28, 28},  {2, 6, 28, 28},  {2, 6, 14, 14},
                                     {2, 16, 10, 10}, {2, 16, 10, 10}, {2, 16, 5, 5},
                                     {2, 400},        {2, 120},        {2, 120},
                                     {2, 84},         {2, 84},         {2, 10}};
  // C1: 6·(5·5 + 1); C3: 16·(6·25 + 1); then the three Linear layers.
  const std::vector<int64_t> params = {156, 0, 0, 2416, 0, 0, 0, 48120, 0, 10164, 0, 850};
  for (size_t i = 0; i < shapes.size(); ++i) {
    EXPECT_EQ(s.layers[i + 1].output_shape, shapes[i]) << s.layers[i + 1].type;
    EXPECT_EQ(s.layers[i + 1].parameters, params[i]) << s.layers[i + 1].type;
  }
  EXPECT_EQ(s.total_parameters, 61706);
  int64_t activations = 0;
  for (const Shape& shape : shapes) activations += compute_numel(shape) * 4;
  EXPECT_EQ(s.activation_bytes, activations);
  const std::string text = s.to_string();
  EXPECT_NE(text.find("├─Conv2d: 0"), std::string::npos) << text;
  EXPECT_NE(text.find("[2, 16, 5, 5]"), std::string::npos) << text;
  EXPECT_NE(text.find("Total params: 61,706"), std::string::npos) << text;
}

TEST(SummaryCnn, LeavesBatchNormsRunningStatisticsAlone) {
  // In training mode a forward pass would update running_mean/var and num_batches_tracked; the
  // summary runs in eval mode and puts the training mode back.
  nn::Sequential model(nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1).bias(false)),
                                      nn::BatchNorm2d(nn::BatchNorm2dOptions(4)), nn::ReLU()),
                       nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})), nn::Flatten(),
                       nn::Linear(4, 3));
  model->train();
  const auto before = model->state_dict();
  std::vector<Tensor> saved;
  for (const auto& item : before) saved.push_back(item.value().clone());

  const nn::ModelSummary s = nn::summary(model, {3, 1, 8, 8});
  EXPECT_EQ(s.output_shape, (Shape{3, 3}));
  EXPECT_EQ(s.layers[2].name, "0.0");
  EXPECT_EQ(s.layers[3].type, "BatchNorm2d");
  EXPECT_EQ(s.layers[3].parameters, 8);  // weight and bias; the running statistics are buffers
  // running_mean, running_var [4] float32 and num_batches_tracked (one int64)
  EXPECT_EQ(s.buffer_bytes, 4 * 4 + 4 * 4 + 8);
  EXPECT_NE(s.to_string().find("Buffers size: 40 B"), std::string::npos) << s.to_string();
  EXPECT_TRUE(model->is_training());
  size_t i = 0;
  for (const auto& item : model->state_dict()) {
    EXPECT_TRUE(item.value().equal(saved[i++])) << item.key();
  }
}

TEST(SummaryCnn, ALinearAfterFlattenIsToldTheFlattenedSize) {
  // 6 maps of 12×12 after the pooling flatten to 864, not the 6·14·14 = 1176 the author assumed.
  nn::Sequential model(nn::Conv2d(nn::Conv2dOptions(1, 6, 5)), nn::ReLU(),
                       nn::MaxPool2d(nn::MaxPool2dOptions(2)), nn::Flatten(), nn::Linear(1176, 10));
  TT_EXPECT_THROW_WITH(nn::summary(model, {1, 1, 28, 28}), Error,
                       "layer '4' (Linear) failed on its input of shape [1, 864]",
                       "864 features per sample reach this Linear",
                       "use in_features=864, i.e. nn::Linear(864, 10)", "├─MaxPool2d: 2",
                       "[1, 6, 12, 12]", "├─Flatten: 3", "FAILED on [1, 864]");
  // Without the Flatten, linear's own message gives the flattened size.
  nn::Sequential no_flatten(nn::Conv2d(nn::Conv2dOptions(1, 6, 5)),
                            nn::MaxPool2d(nn::MaxPool2dOptions(2)), nn::Linear(864, 10));
  TT_EXPECT_THROW_WITH(nn::summary(no_flatten, {1, 1, 28, 28}), Error,
                       "layer '2' (Linear) failed on its input of shape [1, 6, 12, 12]",
                       "flatten it from dim 1 first (nn::Flatten())",
                       "each sample then has 864 features");
}

}  // namespace
}  // namespace tinytorch
