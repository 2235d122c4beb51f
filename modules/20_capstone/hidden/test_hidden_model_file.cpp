// Module 20 (graded) — export → load round trips with shapes and options the visible tests do not
// use, and the int8 layer's file contents. The checks are graded ones (tests/support/graded.h).
#include <gtest/gtest.h>

#include "support/graded.h"
#include "support/temp_dir.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/deploy/model_file.h"
#include "tinytorch/nn/modules/quantized_linear.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/serialize/archive.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::deploy {
namespace {

TEST(HiddenModelFile, StridedConvWithoutBiasAndNestedSequential) {
  test::TempDir dir("tt20h");
  nn::Sequential net(
      nn::Conv2d(nn::Conv2dOptions(2, 3, {3, 2}).stride({2, 1}).padding({1, 0}).bias(false)),
      nn::BatchNorm2d(3), nn::ReLU(),
      nn::Sequential(nn::Flatten(), nn::Linear(3 * 3 * 4, 2).ptr()));
  ModelSignature sig{.name = "n",
                     .version = "",
                     .input_shape = {2, 5, 5},
                     .input_dtype = kFloat32,
                     .labels = {"x", "y"}};
  export_model(*net.ptr(), sig, dir.file("n.ttm"));
  const InferenceModel m = InferenceModel::load(dir.file("n.ttm"));
  const Tensor x = randn({3, 2, 5, 5});
  net->eval();
  NoGradGuard g;
  // The loaded model against the one exported (whose weights and input are its own draws).
  TT_GRADE_TRUE(m.forward(x).to_vector<float>() == net->forward(x).to_vector<float>());
}

TEST(HiddenModelFile, PerTensorInt8LinearWithoutBias) {
  test::TempDir dir("tt20h");
  nn::Sequential net(nn::Linear(nn::LinearOptions(7, 5).bias(false)), nn::ReLU(), nn::Linear(5, 2));
  nn::Sequential q = quantization::quantize_dynamic(net, /*per_channel=*/false);
  ModelSignature sig{
      .name = "q", .version = "", .input_shape = {7}, .input_dtype = kFloat32, .labels = {}};
  export_model(*q.ptr(), sig, dir.file("q.ttm"));
  const serialize::Archive a = serialize::load(dir.file("q.ttm"));
  TT_GRADE_EQ(a.tensors.find("model.0.weight_scale")->sizes(), IntArrayRef({1}));
  TT_GRADE_FALSE(a.tensors.contains("model.0.bias"));
  const InferenceModel m = InferenceModel::load(dir.file("q.ttm"));
  const Tensor x = randn({6, 7});
  NoGradGuard g;
  TT_GRADE_TRUE(m.forward(x).to_vector<float>() == q->forward(x).to_vector<float>());
  TT_GRADE_EQ(m.weight_bytes(), 7 * 5 + 5 * 2 + 4 * (1 + 1 + 2));  // + one scale each, bias [2]
}

TEST(HiddenModelFile, WrongTokenDtypeForGpt) {
  test::TempDir dir("tt20h");
  nn::GPTConfig c;
  c.vocab_size = 5;
  c.block_size = 4;
  c.n_layer = 1;
  c.n_head = 1;
  c.n_embd = 8;
  nn::GPT gpt(c);
  ModelSignature sig{.name = "g",
                     .version = "",
                     .input_shape = {-1},
                     .input_dtype = kInt64,
                     .labels = {"a", "b", "c", "d", "e"}};
  export_model(*gpt.ptr(), sig, dir.file("g.ttm"));
  const InferenceModel m = InferenceModel::load(dir.file("g.ttm"));
  TT_GRADE_THROW(m.forward(zeros({1, 3})), TypeError);
  TT_GRADE_EQ(m.forward(zeros({2, 3}, kInt64)).sizes(), IntArrayRef({2, 5}));
  // A GPT whose signature claims float inputs is refused at load.
  sig.input_dtype = kFloat32;
  export_model(*gpt.ptr(), sig, dir.file("g2.ttm"));
  TT_GRADE_THROW(InferenceModel::load(dir.file("g2.ttm")), ValueError);
}

}  // namespace
}  // namespace tinytorch::deploy
