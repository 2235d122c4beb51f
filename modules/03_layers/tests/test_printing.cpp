// Module 03 — printing a model (Part 5): every module prints exactly like PyTorch's repr(module)
// for the same model (tests/data/module03_reference.json, "repr"), with bools spelled true/false
// as libtorch does.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "layers_test_util.h"

namespace tinytorch {
namespace {

// The models of gen_module03.py's gen_repr(), by name.
std::map<std::string, std::function<std::string()>> models() {
  auto str = [](const auto& holder) {
    std::ostringstream os;
    os << holder;  // operator<< on a holder prints its module
    return os.str();
  };
  using namespace nn;
  return {
      {"linear", [=] { return str(Linear(784, 256)); }},
      {"linear_no_bias", [=] { return str(Linear(LinearOptions(3, 2).bias(false))); }},
      {"relu", [=] { return str(ReLU()); }},
      {"leaky_relu_default", [=] { return str(LeakyReLU()); }},
      {"leaky_relu", [=] { return str(LeakyReLU(0.2)); }},
      {"sigmoid", [=] { return str(Sigmoid()); }},
      {"tanh", [=] { return str(Tanh()); }},
      {"gelu", [=] { return str(GELU()); }},
      {"gelu_tanh", [=] { return str(GELU("tanh")); }},
      {"silu", [=] { return str(SiLU()); }},
      {"softmax", [=] { return str(Softmax(1)); }},
      {"log_softmax", [=] { return str(LogSoftmax(-1)); }},
      {"relu_inplace", [=] { return str(ReLU(true)); }},
      {"leaky_relu_inplace",
       [=] { return str(LeakyReLU(LeakyReLUOptions().negative_slope(0.2).inplace(true))); }},
      {"relu6", [=] { return str(ReLU6()); }},
      {"relu6_inplace", [=] { return str(ReLU6(true)); }},
      {"elu", [=] { return str(ELU()); }},
      {"elu_inplace", [=] { return str(ELU(ELUOptions().alpha(0.5).inplace(true))); }},
      {"selu", [=] { return str(SELU()); }},
      {"selu_inplace", [=] { return str(SELU(true)); }},
      {"celu", [=] { return str(CELU(CELUOptions().alpha(2.0))); }},
      {"hardtanh", [=] { return str(Hardtanh()); }},
      {"hardtanh_inplace",
       [=] { return str(Hardtanh(HardtanhOptions().min_val(-2).max_val(3).inplace(true))); }},
      {"softplus", [=] { return str(Softplus()); }},
      {"softplus_beta", [=] { return str(Softplus(SoftplusOptions().beta(0.5).threshold(10))); }},
      {"mish", [=] { return str(Mish()); }},
      {"hardswish", [=] { return str(Hardswish()); }},
      {"hardsigmoid", [=] { return str(Hardsigmoid()); }},
      {"dropout", [=] { return str(Dropout()); }},
      {"dropout_01", [=] { return str(Dropout(0.1)); }},
      {"dropout_1", [=] { return str(Dropout(1.0)); }},
      {"dropout_small", [=] { return str(Dropout(1e-05)); }},
      {"flatten", [=] { return str(Flatten()); }},
      {"flatten_0", [=] { return str(Flatten(0, 2)); }},
      {"identity", [=] { return str(Identity()); }},
      {"mse", [=] { return str(MSELoss()); }},
      {"l1", [=] { return str(L1Loss()); }},
      {"nll", [=] { return str(NLLLoss()); }},
      {"cross_entropy", [=] { return str(CrossEntropyLoss()); }},
      {"bce", [=] { return str(BCELoss()); }},
      {"bce_logits", [=] { return str(BCEWithLogitsLoss()); }},
      {"mlp",
       [=] {
         return str(
             Sequential(Linear(784, 256), ReLU(), Linear(256, 128), ReLU(), Linear(128, 10)));
       }},
      {"empty_sequential", [=] { return str(Sequential()); }},
      {"nested",
       [=] {
         return str(Sequential(Flatten(), Sequential(Linear(4, 4), Tanh()), Dropout(0.5),
                               Linear(LinearOptions(4, 2).bias(false))));
       }},
      {"named_sequential",
       [=] {
         Sequential seq;
         seq->push_back("fc1", Linear(2, 3));
         seq->push_back("act", GELU());
         seq->push_back("fc2", Linear(3, 1));
         return str(seq);
       }},
      {"module_list", [=] { return str(ModuleList(Linear(2, 2), ReLU())); }},
      {"net", [=] { return str(test::Net()); }},
  };
}

TEST(Printing, MatchesPyTorchRepr) {
  const auto table = models();
  size_t checked = 0;
  for (const auto& c : test::module03_reference().at("repr")) {
    const std::string name = c.at("name").get<std::string>();
    const auto it = table.find(name);
    if (it == table.end()) {
      ADD_FAILURE() << "no C++ model for reference case '" << name << "'";
      continue;
    }
    EXPECT_EQ(it->second(), c.at("expected").get<std::string>()) << name;
    ++checked;
  }
  EXPECT_EQ(checked, table.size()) << "every model above has a reference case";
}

TEST(Printing, ModuleAndToString) {
  nn::Sequential seq(nn::Linear(2, 1), nn::Sigmoid());
  std::ostringstream os;
  os << *seq;  // a Module& prints the same as its holder
  EXPECT_EQ(os.str(), seq->to_string());
  EXPECT_EQ(seq->to_string(),
            "Sequential(\n  (0): Linear(in_features=2, out_features=1, bias=true)\n"
            "  (1): Sigmoid()\n)");
}

TEST(Printing, CustomExtraReprAndMultiLine) {
  // A module with its own extra_repr and children prints the extra lines first, as Python does.
  struct BlockImpl : nn::Module {
    BlockImpl() { register_module("proj", nn::Linear(2, 2)); }
    std::string extra_repr() const override { return "heads=4\ndim=8"; }
  };
  auto block = std::make_shared<BlockImpl>();
  EXPECT_EQ(block->to_string(),
            "Block(\n  heads=4\n  dim=8\n  (proj): Linear(in_features=2, out_features=2, "
            "bias=true)\n)");
}

TEST(Printing, PythonFloatRepr) {
  using nn::detail::python_float_repr;
  EXPECT_EQ(python_float_repr(0.5), "0.5");
  EXPECT_EQ(python_float_repr(1.0), "1.0");
  EXPECT_EQ(python_float_repr(0.1), "0.1");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(1e-05), "1e-05");
  EXPECT_EQ(python_float_repr(0.00012), "0.00012");
  EXPECT_EQ(python_float_repr(123.25), "123.25");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(1234567890123456.0), "1234567890123456.0");
  EXPECT_EQ(python_float_repr(-2.5e-07), "-2.5e-07");
  EXPECT_EQ(python_float_repr(0.0), "0.0");
  EXPECT_EQ(python_float_repr(1.0 / 3.0), "0.3333333333333333");
}

}  // namespace
}  // namespace tinytorch
