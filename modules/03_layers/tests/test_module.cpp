// Module 03 — nn::Module (Part 1) and the containers (Part 5): registration, dotted names and
// their order (checked against PyTorch's for the same model), holders, train/eval propagation,
// Sequential / ModuleList / Functional, and the registration errors.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "layers_test_util.h"

namespace tinytorch {
namespace {

using S = std::vector<std::string>;
using I = std::vector<int64_t>;
using test::keys_of;
using test::Net;
using test::NetImpl;

// A module with one parameter and one buffer of its own, for the basics.
struct ScaleImpl : nn::Module {
  ScaleImpl() {
    weight = register_parameter("weight", ones({3}));
    running = register_buffer("running", zeros({3}));
  }
  Tensor forward(const Tensor& x) { return x * weight; }
  Tensor weight, running;
};
TT_MODULE(Scale);

TEST(Module, RegisterParameterAndBuffer) {
  Scale m;
  EXPECT_EQ(m->name(), "Scale");  // the class name without "Impl"
  EXPECT_EQ(m->parameters().size(), 1u);
  EXPECT_EQ(m->buffers().size(), 1u);
  // The registered handle and the member alias one tensor: writing one changes the other.
  EXPECT_TRUE(m->parameters()[0].is_same(m->weight));
  EXPECT_TRUE(m->named_buffers()["running"].is_same(m->running));
  EXPECT_TRUE(m->weight.requires_grad());    // parameters require grad by default
  EXPECT_FALSE(m->running.requires_grad());  // buffers do not
  EXPECT_EQ(test::values_as_double(m(tensor({1.0, 2.0, 3.0}))), (std::vector<double>{1, 2, 3}));
}

TEST(Module, ParameterWithoutGradAndUndefinedParameter) {
  struct M : nn::Module {
    M() {
      frozen = register_parameter("frozen", ones({2}), /*requires_grad=*/false);
      missing = register_parameter("missing", Tensor(), false);
    }
    Tensor frozen, missing;
  };
  auto m = std::make_shared<M>();
  EXPECT_FALSE(m->frozen.requires_grad());
  // An undefined parameter (a disabled bias) is listed nowhere.
  EXPECT_EQ(m->named_parameters().keys(), S{"frozen"});
  EXPECT_EQ(m->state_dict().keys(), S{"frozen"});
}

TEST(Module, NamesAndOrderMatchPyTorch) {
  // Net is tools/reference/gen_module03.py's class Net, rebuilt in C++ (layers_test_util.h).
  const auto& ref = test::module03_reference().at("names");
  Net net;
  EXPECT_EQ(net->name(), "Net");
  EXPECT_EQ(net->named_parameters().keys(), keys_of(ref.at("named_parameters")));
  EXPECT_EQ(net->named_buffers().keys(), keys_of(ref.at("named_buffers")));
  EXPECT_EQ(net->named_modules().keys(), keys_of(ref.at("named_modules")));
  EXPECT_EQ(net->named_children().keys(), keys_of(ref.at("named_children")));
  EXPECT_EQ(net->state_dict().keys(), keys_of(ref.at("state_dict")));
  std::vector<I> shapes;
  int64_t count = 0;
  for (const Tensor& p : net->parameters()) {
    shapes.push_back(p.sizes().vec());
    count += p.numel();
  }
  std::vector<I> expected_shapes;
  for (const auto& s : ref.at("parameter_shapes")) expected_shapes.push_back(test::int_list(s));
  EXPECT_EQ(shapes, expected_shapes);
  EXPECT_EQ(count, ref.at("num_parameters").get<int64_t>());
}

TEST(Module, RecurseFalseAndChildren) {
  Net net;
  EXPECT_EQ(net->named_parameters(/*recurse=*/false).keys(), S{"temperature"});
  EXPECT_EQ(net->named_buffers(false).keys(), S{"steps"});
  const auto children = net->children();
  ASSERT_EQ(children.size(), 4u);
  EXPECT_EQ(children[0].get(), net->fc1.get());
  EXPECT_EQ(children[2]->name(), "Sequential");
  // modules(): self first, then depth first.
  const auto mods = net->modules();
  ASSERT_EQ(mods.size(), 7u);
  EXPECT_EQ(mods[0].get(), net.get());
  EXPECT_EQ(mods[4]->name(), "Linear");  // head.0
  EXPECT_EQ(net->modules(/*include_self=*/false).size(), 6u);
  EXPECT_EQ(net->named_modules("net").keys(),
            (S{"net", "net.fc1", "net.act", "net.head", "net.head.0", "net.head.1", "net.drop"}));
}

TEST(Module, SharedModuleAndTiedParameterListedOnce) {
  // The same Linear registered twice (weight tying): parameters() lists its tensors once, so an
  // optimizer updates them once; state_dict keeps both names, as PyTorch does.
  struct Tied : nn::Module {
    Tied() {
      nn::Linear shared(3, 3);
      a = register_module("a", shared);
      b = register_module("b", shared);
    }
    nn::Linear a{nullptr}, b{nullptr};
  };
  auto m = std::make_shared<Tied>();
  EXPECT_EQ(m->named_parameters().keys(), (S{"a.weight", "a.bias"}));
  EXPECT_EQ(m->named_modules().keys(), (S{"", "a"}));
  EXPECT_EQ(m->state_dict().keys(), (S{"a.weight", "a.bias", "b.weight", "b.bias"}));
}

TEST(Module, AsAndHolders) {
  nn::Sequential seq(nn::Linear(2, 3), nn::ReLU());
  EXPECT_NE(seq[0]->as<nn::Linear>(), nullptr);      // a holder type gives its Impl
  EXPECT_NE(seq[0]->as<nn::LinearImpl>(), nullptr);  // so does the Impl itself
  EXPECT_EQ(seq[1]->as<nn::Linear>(), nullptr);
  EXPECT_EQ(seq[0]->as<nn::Linear>()->options.out_features(), 3);
  EXPECT_EQ(seq->ptr<nn::LinearImpl>(0)->weight.sizes().vec(), (I{3, 2}));
  EXPECT_EQ(seq->at<nn::ReLUImpl>(1).name(), "ReLU");
  TT_EXPECT_THROW_WITH(seq->ptr<nn::LinearImpl>(1), Error, "index 1", "ReLU", "requested type");
  TT_EXPECT_THROW_WITH(seq[2], IndexError, "index 2", "2 module(s)");

  // Copying a holder shares the module (like Python's `b = a`); an empty holder says so.
  nn::Linear a(2, 2);
  nn::Linear b = a;
  EXPECT_EQ(a.get(), b.get());
  nn::Linear empty{nullptr};
  EXPECT_TRUE(empty.is_empty());
  EXPECT_FALSE(static_cast<bool>(empty));
  TT_EXPECT_THROW_WITH(empty->forward(ones({2})), Error, "empty ModuleHolder");
  // A holder from an existing shared_ptr.
  auto impl = std::make_shared<nn::LinearImpl>(4, 1);
  nn::Linear from_ptr(impl);
  EXPECT_EQ(from_ptr.get(), impl.get());
  EXPECT_EQ(from_ptr.ptr(), impl);
}

TEST(Module, TrainEvalPropagatesToEveryDescendant) {
  Net net;
  auto all_modes = [&] {
    std::vector<bool> modes;
    for (const auto& m : net->modules()) modes.push_back(m->is_training());
    return modes;
  };
  EXPECT_EQ(all_modes(), std::vector<bool>(7, true));  // modules start in training mode
  net->eval();
  EXPECT_EQ(all_modes(), std::vector<bool>(7, false));
  EXPECT_FALSE(net->head[0]->is_training());  // a grandchild
  net->train();
  EXPECT_EQ(all_modes(), std::vector<bool>(7, true));
  net->head->train(false);  // only a subtree
  EXPECT_TRUE(net->is_training());
  EXPECT_FALSE(net->head->is_training());
  EXPECT_FALSE(net->head[1]->is_training());
  EXPECT_TRUE(net->fc1->is_training());
}

TEST(Module, Apply) {
  Net net;
  std::vector<std::string> names;
  net->apply(
      [&](const std::string& name, nn::Module& m) { names.push_back(name + ":" + m.name()); });
  EXPECT_EQ(names, (S{":Net", "fc1:Linear", "act:ReLU", "head:Sequential", "head.0:Linear",
                      "head.1:LogSoftmax", "drop:Dropout"}));
  int linears = 0;
  net->apply([&](nn::Module& m) { linears += m.as<nn::Linear>() != nullptr; });
  EXPECT_EQ(linears, 2);
}

TEST(Module, RegistrationErrors) {
  struct M : nn::Module {
    M() : nn::Module("M") {}
  };
  M m;
  m.register_parameter("w", ones({1}));
  TT_EXPECT_THROW_WITH(m.register_parameter("w", ones({1})), Error, "'w' already exists",
                       "parameter");
  TT_EXPECT_THROW_WITH(m.register_buffer("w", ones({1})), Error, "'w' already exists");
  TT_EXPECT_THROW_WITH(m.register_module("w", nn::ReLU()), Error, "'w' already exists");
  TT_EXPECT_THROW_WITH(m.register_parameter("fc.w", ones({1})), Error, "can't contain \".\"",
                       "fc.w");
  TT_EXPECT_THROW_WITH(m.register_parameter("", ones({1})), Error, "can't be empty");
  TT_EXPECT_THROW_WITH(m.register_module("sub", nn::Linear(nullptr)), Error, "'sub'", "empty");
  // The failed registrations left nothing behind.
  EXPECT_EQ(m.named_parameters().keys(), S{"w"});
  EXPECT_TRUE(m.children().empty());
}

TEST(Module, ModulesOfAModuleNotInASharedPtr) {
  NetImpl on_stack;
  EXPECT_EQ(on_stack.modules(/*include_self=*/false).size(), 6u);
  TT_EXPECT_THROW_WITH(on_stack.modules(), Error, "shared_ptr", "include_self");
}

TEST(Module, ReplaceModule) {
  nn::Sequential seq(nn::Linear(2, 2), nn::ReLU());
  seq->replace_module("1", nn::Tanh());
  EXPECT_EQ(seq->named_children()["1"]->name(), "Tanh");
  EXPECT_EQ(seq->named_children().keys(), (S{"0", "1"}));
  TT_EXPECT_THROW_WITH(seq->replace_module("7", nn::Tanh()), Error, "no submodule '7'");
}

TEST(Sequential, ForwardRunsModulesInOrder) {
  nn::Sequential seq;
  EXPECT_TRUE(seq->is_empty());
  const Tensor x = tensor({{-1.0, 2.0}});
  EXPECT_TRUE(seq->forward(x).is_same(x));  // an empty Sequential is the identity
  seq->push_back(nn::Functional([](const Tensor& t) { return t * 2.0; }));
  seq->push_back(nn::ReLU());
  seq->push_back("plus_one", nn::Functional([](const Tensor& t) { return t + 1.0; }));
  EXPECT_EQ(seq->size(), 3u);
  EXPECT_EQ(seq->named_children().keys(), (S{"0", "1", "plus_one"}));
  // ((x·2) → relu) + 1: the order matters (relu(x + 1)·2 would give 0 and 10).
  EXPECT_EQ(test::values_as_double(seq(x)), (std::vector<double>{1, 5}));
  // Iterating gives the type-erased modules.
  int n = 0;
  for (const nn::AnyModule& m : *seq) n += m.ptr() != nullptr;
  EXPECT_EQ(n, 3);
}

TEST(Sequential, HoldsSharedPtrsAndAnyModules) {
  auto lin = std::make_shared<nn::LinearImpl>(3, 2);
  nn::Sequential seq(lin, nn::AnyModule(nn::Tanh()));
  EXPECT_EQ(seq[0].get(), lin.get());
  const Tensor x = ones({4, 3});
  EXPECT_TRUE(seq(x).allclose(tanh(lin->forward(x))));
  // A Sequential inside a Sequential.
  nn::Sequential outer(seq, nn::Identity());
  EXPECT_EQ(outer->named_parameters().keys(), (S{"0.0.weight", "0.0.bias"}));
  EXPECT_TRUE(outer(x).allclose(seq(x)));
}

TEST(ModuleList, RegistersButDoesNotRun) {
  nn::ModuleList list(nn::Linear(2, 2), nn::ReLU());
  list->push_back(std::make_shared<nn::LinearImpl>(2, 1));
  EXPECT_EQ(list->size(), 3u);
  EXPECT_EQ(list->named_parameters().keys(), (S{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(list[1]->name(), "ReLU");
  EXPECT_EQ(list->ptr<nn::LinearImpl>(2)->options.out_features(), 1);
  TT_EXPECT_THROW_WITH(list[3], IndexError, "index 3");
}

}  // namespace
}  // namespace tinytorch
