// nn::quantized::dynamic::Linear and quantize_dynamic: the int8 layer a model really runs.
// The kernel's arithmetic is tested in test_qgemm.cpp; here, that the module hands it the right
// buffers (bit-identical to calling the kernel directly), keeps shapes, refuses what it cannot
// do, and that quantize_dynamic swaps every Linear of a Sequential and nothing else.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/nn/modules/quantized_linear.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
using tt::Tensor;
namespace qd = tt::nn::quantized::dynamic;

namespace {

// max |a − b| over all elements
double max_abs_diff(const Tensor& a, const Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST(QuantizedLinear, ForwardIsTheKernelOnTheLayersBuffers) {
  tt::Generator gen(15);
  tt::nn::Linear fc(37, 21);
  const Tensor x = tt::randn({5, 37}, tt::kFloat32, &gen);
  qd::Linear q(*fc.ptr());
  const Tensor y = q->forward(x);
  ASSERT_EQ(y.sizes().vec(), (std::vector<int64_t>{5, 21}));
  // The same computation called on raw buffers (the layer's own int8 weight and scales) must give
  // the same bits.
  const Tensor qw = q->weight(), b = fc->bias.detach().contiguous();
  const auto layer = tt::kernels::dynamic_quant_linear_from_int8(
      21, 37, qw.data_ptr<int8_t>(), q->weight_scales().to_vector<float>(), b.data_ptr<float>());
  std::vector<float> expected(5 * 21);
  tt::kernels::dynamic_quant_linear(layer, 5, x.data_ptr<float>(), expected.data());
  for (int64_t i = 0; i < 5 * 21; ++i) {
    EXPECT_EQ(y.data_ptr<float>()[i], expected[static_cast<size_t>(i)]) << "element " << i;
  }
  // And it approximates the float layer: weights to 1/254 of their range per channel,
  // activations to 1/127 of theirs.
  const Tensor y_float = fc->forward(x).detach();
  EXPECT_LT(max_abs_diff(y, y_float), 0.05 * y_float.abs().max().item<double>());
}

// The weight goes through module 15: the observer chooses the scales, quantize_per_channel /
// quantize_per_tensor apply them. Written out, for symmetric int8 over [-127, 127]:
//   scale = max(max|w| / 127, ε) per row (or over the tensor),  q = round(w · (1 / scale))
// float32 throughout, round half to even, ε = float32's epsilon (an all-zero row: q = 0, whatever
// the scale). Zero rows, constant rows, an all-zero weight and a row of tiny weights included.
TEST(QuantizedLinear, WeightIsQuantizedByModule15sSymmetricObserver) {
  tt::Generator gen(18);
  Tensor w = tt::randn({7, 19}, tt::kFloat32, &gen);
  w.select(0, 1).zero_();
  w.select(0, 3).fill_(-2.5);
  w.select(0, 4).fill_(0.3);
  w.select(0, 6).mul_(1e-6);  // max|w| / 127 < ε: the scale is ε
  for (const Tensor& weight : {w, tt::zeros({3, 5})}) {
    for (const bool per_channel : {false, true}) {
      tt::nn::Linear fc(weight.size(1), weight.size(0));
      {
        const tt::NoGradGuard no_grad;
        fc->weight.copy_(weight);
      }
      const qd::Linear q(*fc.ptr(), per_channel);
      const Tensor bound =
          per_channel ? std::get<0>(weight.abs().max(1)) : weight.abs().max().reshape({1});
      const std::vector<float> max_abs = bound.to_vector<float>();
      const std::vector<float> scales = q->weight_scales().to_vector<float>();
      const std::vector<int8_t> qw = q->weight().to_vector<int8_t>();
      ASSERT_EQ(scales.size(), max_abs.size());
      for (size_t c = 0; c < scales.size(); ++c) {
        EXPECT_EQ(scales[c], std::max(max_abs[c] / 127.0f, std::numeric_limits<float>::epsilon()))
            << "channel " << c << " per_channel=" << per_channel;
      }
      const std::vector<float> wv = weight.to_vector<float>();
      const int64_t K = weight.size(1);
      for (size_t i = 0; i < wv.size(); ++i) {
        const float s = scales[per_channel ? i / static_cast<size_t>(K) : 0];
        ASSERT_EQ(qw[i], static_cast<int8_t>(std::nearbyint(wv[i] * (1.0f / s))))
            << "element " << i << " per_channel=" << per_channel;
        ASSERT_GE(qw[i], -127);  // never -128: the range is symmetric
      }
    }
  }
}

TEST(QuantizedLinear, KeepsLeadingDimsAndReadsNonContiguousInputs) {
  tt::Generator gen(16);
  tt::nn::Linear fc(8, 3);
  qd::Linear q(*fc.ptr());
  const Tensor x = tt::randn({4, 2, 8}, tt::kFloat32, &gen);
  const Tensor y = q->forward(x);
  ASSERT_EQ(y.sizes().vec(), (std::vector<int64_t>{4, 2, 3}));
  // A transposed view holds the same rows in another order; each output row follows its row.
  const Tensor xt = x.transpose(0, 1);  // [2, 4, 8], not contiguous
  EXPECT_EQ(max_abs_diff(q->forward(xt), y.transpose(0, 1)), 0.0);
}

TEST(QuantizedLinear, IsFourTimesSmallerThanTheFloatLayer) {
  tt::nn::Linear fc(784, 256);
  qd::Linear q(*fc.ptr());
  const int64_t float_bytes = fc->weight.nbytes() + fc->bias.nbytes();
  // int8 weights + int32 row sums + float scales + float bias (K = 784 is a multiple of 4, so
  // the packing adds no padding).
  EXPECT_EQ(q->nbytes(), 784 * 256 + 256 * 4 + 256 * 4 + 256 * 4);
  EXPECT_GT(static_cast<double>(float_bytes) / static_cast<double>(q->nbytes()), 3.9);
  EXPECT_TRUE(q->parameters().empty());
  EXPECT_EQ(q->extra_repr(),
            "in_features=784, out_features=256, dtype=torch.qint8, "
            "qscheme=torch.per_channel_symmetric");
  EXPECT_NE(qd::Linear(*fc.ptr(), false)->extra_repr().find("per_tensor_symmetric"),
            std::string::npos);
}

TEST(QuantizedLinear, RefusesWhatItCannotDo) {
  tt::nn::Linear fc(4, 2);
  qd::Linear q(*fc.ptr());
  EXPECT_THROW(q->forward(tt::ones({3, 5}, tt::kFloat32)), tt::ValueError);  // wrong width
  EXPECT_THROW(q->forward(tt::ones({3, 4}, tt::kFloat64)), tt::TypeError);
  const Tensor x = tt::ones({3, 4}, tt::kFloat32).set_requires_grad(true);
  try {
    q->forward(x);
    FAIL() << "expected an error";
  } catch (const tt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("NoGradGuard"), std::string::npos) << e.what();
  }
  const tt::NoGradGuard no_grad;
  EXPECT_EQ(q->forward(x).sizes().vec(), (std::vector<int64_t>{3, 2}));
  tt::nn::Linear fc64(tt::nn::LinearOptions(4, 2).dtype(tt::kFloat64));
  EXPECT_THROW(qd::Linear(*fc64.ptr()), tt::TypeError);
  fc->weight.data_ptr<float>()[5] = std::numeric_limits<float>::infinity();
  try {
    qd::Linear{*fc.ptr()};
    FAIL() << "expected an error";
  } catch (const tt::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("weight[1, 1] is not finite"), std::string::npos)
        << e.what();
  }
}

TEST(QuantizeDynamic, SwapsEveryLinearAndSharesTheRest) {
  tt::Generator gen(17);
  tt::nn::Sequential inner(tt::nn::Linear(16, 8), tt::nn::ReLU());
  tt::nn::Sequential model(tt::nn::Linear(12, 16), tt::nn::ReLU(), inner, tt::nn::Linear(8, 4));
  model->eval();
  const tt::nn::Sequential q = tt::quantization::quantize_dynamic(model);
  ASSERT_EQ(q->size(), 4u);
  EXPECT_NE(q->ptr<qd::LinearImpl>(0), nullptr);
  EXPECT_EQ(q[1], model[1]);  // the ReLU object itself
  const auto q_inner = q->ptr<tt::nn::SequentialImpl>(2);
  EXPECT_NE(q_inner->ptr<qd::LinearImpl>(0), nullptr);
  EXPECT_NE(q->ptr<qd::LinearImpl>(3), nullptr);
  EXPECT_FALSE(q->is_training());
  EXPECT_TRUE(q->parameters().empty());
  // The original model is untouched and the two agree to quantization error.
  EXPECT_NE(model->ptr<tt::nn::LinearImpl>(0), nullptr);
  const Tensor x = tt::randn({6, 12}, tt::kFloat32, &gen);
  const tt::NoGradGuard no_grad;
  const Tensor y = model->forward(x), yq = q->forward(x);
  EXPECT_LT(max_abs_diff(y, yq), 0.05 * y.abs().max().item<double>());
}
