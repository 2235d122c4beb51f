// libtorch idioms an outside probe found missing, each spelled as a libtorch program spells it:
// in-place methods on a const Tensor (Tensor is a handle: its in-place methods are const),
// Tensor::register_hook / remove_hook, nn::Cloneable<Derived> with TORCH_MODULE, the
// Tensor::repeat_interleave methods. (ParameterDict::update is in test_transformer_layers.cpp.)
// Every refused call is a tinytorch::Error naming what was wrong.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/reference.h"
#include "tinytorch/autograd/gradcheck.h"

namespace {

// ── in-place methods on a const handle ──────────────────────────────────────────────────────

// libtorch 1.13's return types: the generated in-place methods give Tensor&, requires_grad_ a
// const Tensor&; all of them are callable on a const Tensor.
using ConstTensor = const torch::Tensor&;
static_assert(std::is_same_v<decltype(std::declval<ConstTensor>().add_(1)), torch::Tensor&>);
static_assert(std::is_same_v<decltype(std::declval<ConstTensor>().zero_()), torch::Tensor&>);
static_assert(
    std::is_same_v<decltype(std::declval<ConstTensor>().copy_(std::declval<ConstTensor>())),
                   torch::Tensor&>);
static_assert(
    std::is_same_v<decltype(std::declval<ConstTensor>().requires_grad_()), const torch::Tensor&>);
static_assert(std::is_same_v<decltype(std::declval<ConstTensor>().mutable_grad()), torch::Tensor&>);

TEST(ConstInPlace, GradZeroAndParameterLoops) {
  torch::nn::Linear fc(3, 2);
  fc->forward(torch::ones({4, 3})).sum().backward();
  // grad() is a const Tensor&: zeroing it in place is how libtorch programs reset it.
  fc->weight.grad().zero_();
  EXPECT_TRUE(fc->weight.grad().equal(torch::zeros({2, 3})));
  EXPECT_FALSE(fc->bias.grad().equal(torch::zeros({2})));
  for (const auto& p : fc->parameters()) p.grad().zero_();
  EXPECT_TRUE(fc->bias.grad().equal(torch::zeros({2})));
  // A hand-written SGD step through const handles.
  const torch::Tensor before = fc->weight.detach().clone();
  fc->forward(torch::ones({1, 3})).sum().backward();
  {
    torch::NoGradGuard no_grad;
    for (const auto& p : fc->parameters()) p.sub_(p.grad(), 0.5);
  }
  EXPECT_TRUE(fc->weight.allclose(before - 0.5));  // d sum / d weight = the input, all ones
}

TEST(ConstInPlace, EveryKindWritesThroughAConstHandle) {
  const torch::Tensor t = torch::ones({3});
  auto& r = t.add_(1);  // the handle itself
  EXPECT_TRUE(r.is_same(t));
  t.mul_(2);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{4, 4, 4}));
  t.clamp_(0, 3).div_(3);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 1, 1}));
  t.fill_(5).copy_(torch::tensor({1.0f, -2.0f, 3.0f}));
  t.abs_().neg_();
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{-1, -2, -3}));
  const torch::Tensor u = torch::empty({1000});
  u.uniform_(2, 3);
  EXPECT_GE(u.min().item<float>(), 2.0f);
  EXPECT_LT(u.max().item<float>(), 3.0f);
  u.normal_(10, 0.01);
  EXPECT_NEAR(u.mean().item<float>(), 10.0f, 0.01f);
  const torch::Tensor w = torch::zeros({2});
  EXPECT_TRUE(w.requires_grad_().requires_grad());
  // A view through a const handle writes into its base, as a non-const one does.
  const torch::Tensor m = torch::zeros({2, 2});
  const torch::Tensor row = m.select(0, 1);
  row.fill_(7);
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{0, 0, 7, 7}));
}

TEST(ConstInPlace, AutogradStillRefusesWhatItRefused) {
  const torch::Tensor leaf = torch::ones({2}, torch::requires_grad());
  TT_EXPECT_THROW_WITH(leaf.add_(1), tinytorch::Error, "add_", "leaf Variable");
  TT_EXPECT_THROW_WITH(leaf.zero_(), tinytorch::Error, "fill_", "leaf Variable");
  // Recorded on a non-leaf: the gradient flows as for a non-const handle.
  const torch::Tensor y = leaf * 3;
  y.mul_(2);
  y.sum().backward();
  EXPECT_EQ(leaf.grad().to_vector<float>(), (std::vector<float>{6, 6}));
}

// ── register_hook / remove_hook ─────────────────────────────────────────────────────────────

template <typename F>
concept Hookable = requires(const torch::Tensor& t, F f) {
  t.register_hook(f);
};
static_assert(Hookable<torch::Tensor (*)(torch::Tensor)>);
static_assert(Hookable<void (*)(torch::Tensor)>);
static_assert(!Hookable<int (*)(torch::Tensor)>);  // neither form: no overload, as in libtorch

TEST(RegisterHook, LeafHookReplacesTheGradientBeforeItIsAccumulated) {
  auto v = torch::tensor({0., 0., 0.}, torch::requires_grad());
  const unsigned h = v.register_hook([](torch::Tensor grad) { return grad * 2; });
  v.backward(torch::tensor({1., 2., 3.}));
  EXPECT_EQ(v.grad().to_vector<double>(), (std::vector<double>{2, 4, 6}));
  v.backward(torch::tensor({1., 1., 1.}));  // accumulates the doubled gradient
  EXPECT_EQ(v.grad().to_vector<double>(), (std::vector<double>{4, 6, 8}));
  v.remove_hook(h);
  v.mutable_grad() = torch::Tensor();
  v.backward(torch::tensor({1., 2., 3.}));
  EXPECT_EQ(v.grad().to_vector<double>(), (std::vector<double>{1, 2, 3}));
}

TEST(RegisterHook, NonLeafObserveAndReplace) {
  auto x = torch::tensor({1., 2.}, torch::requires_grad());
  torch::Tensor seen;
  {
    auto y = x * 3;
    y.register_hook([&seen](torch::Tensor grad) { seen = grad; });  // observes only
    (y * y).sum().backward();
    // d (y²) / dy = 2y = {6, 12}; x.grad = 3 · 2y, unchanged by an observer.
    EXPECT_EQ(seen.to_vector<double>(), (std::vector<double>{6, 12}));
    EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{18, 36}));
  }
  x.mutable_grad() = torch::Tensor();
  torch::Tensor loss;
  {
    auto y = x * 3;
    y.register_hook([](torch::Tensor grad) { return torch::ones_like(grad) * 10; });
    loss = (y * y).sum();
  }  // y's handle is gone: its hook lives on with its grad_fn, as in libtorch
  loss.backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{30, 30}));
  EXPECT_FALSE(x.grad().requires_grad());
}

TEST(RegisterHook, HooksRunInRegistrationOrderOnWhatThePreviousReturned) {
  auto x = torch::tensor({1., 1.}, torch::requires_grad());
  std::vector<std::string> order;
  std::vector<double> second_saw;
  x.register_hook([&](torch::Tensor grad) {
    order.push_back("first");
    return grad + 1;
  });
  const unsigned middle =
      x.register_hook([&](const torch::Tensor&) { order.push_back("removed"); });
  x.register_hook([&](torch::Tensor grad) {
    order.push_back("second");
    second_saw = grad.to_vector<double>();
    return grad * 10;
  });
  EXPECT_EQ(middle, 1u);
  x.remove_hook(middle);
  (x * 2).sum().backward();
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(second_saw, (std::vector<double>{3, 3}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{30, 30}));
}

TEST(RegisterHook, CreateGraphRecordsTheHook) {
  auto x = torch::tensor({1., 2.}, torch::requires_grad());
  auto y = x * x;
  y.register_hook([x](torch::Tensor grad) { return grad * x; });  // a function of x, recorded
  y.sum().backward({}, /*retain_graph=*/true, /*create_graph=*/true);
  // x.grad = (1 · x) · 2x = 2x², its graph running through the hook's multiplication.
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 8}));
  ASSERT_TRUE(x.grad().requires_grad());
  const auto second = torch::autograd::grad({x.grad().sum()}, {x});  // d Σ 2x² / dx = 4x
  EXPECT_EQ(second[0].to_vector<double>(), (std::vector<double>{4, 8}));
  x.mutable_grad() = torch::Tensor();  // drop the leaf -> grad -> graph -> leaf cycle
}

TEST(RegisterHook, Errors) {
  auto plain = torch::ones({2});
  TT_EXPECT_THROW_WITH(plain.register_hook([](torch::Tensor g) { return g; }), tinytorch::Error,
                       "cannot register a hook on a tensor that doesn't require gradient");
  auto x = torch::ones({2}, torch::requires_grad());
  TT_EXPECT_THROW_WITH(x.remove_hook(0), tinytorch::Error, "Invalid index, no hook at position 0");
  const unsigned h = x.register_hook([](torch::Tensor g) { return g.sum(); });  // wrong shape
  TT_EXPECT_THROW_WITH(x.remove_hook(h + 1), tinytorch::Error, "no hook at position 1");
  TT_EXPECT_THROW_WITH((x * 2).sum().backward(), tinytorch::Error, "hook 0",
                       "changed the size of value", "[2]", "[]");
  x.remove_hook(h);
  x.register_hook([](torch::Tensor g) { return g.to(torch::kFloat64); });
  TT_EXPECT_THROW_WITH((x * 2).sum().backward(), tinytorch::Error, "hook 1",
                       "changed the type of value");
}

// ── nn::Cloneable ───────────────────────────────────────────────────────────────────────────

struct CloneableNetImpl : torch::nn::Cloneable<CloneableNetImpl> {
  explicit CloneableNetImpl(int64_t hidden = 3) : hidden(hidden) { reset(); }
  void reset() override {
    fc = register_module("fc", torch::nn::Linear(2, hidden));
    head = register_module("head",
                           torch::nn::Sequential(torch::nn::ReLU(), torch::nn::Linear(hidden, 1)));
    scale = register_parameter("scale", torch::ones({1}));
    count = register_buffer("count", torch::zeros({1}, torch::kInt64));
  }
  torch::Tensor forward(const torch::Tensor& x) { return head->forward(fc->forward(x)) * scale; }
  int64_t hidden;
  torch::nn::Linear fc{nullptr};
  torch::nn::Sequential head{nullptr};
  torch::Tensor scale, count;
};
TORCH_MODULE(CloneableNet);

// The libtorch snippet, without a holder.
struct Plain : torch::nn::Cloneable<Plain> {
  Plain() { reset(); }
  void reset() override { fc = register_module("fc", torch::nn::Linear(2, 3)); }
  torch::nn::Linear fc{nullptr};
};

TEST(Cloneable, CloneIsAnIndependentDeepCopy) {
  Plain net;
  auto copy = std::dynamic_pointer_cast<Plain>(net.clone());
  ASSERT_NE(copy, nullptr);
  EXPECT_TRUE(copy->fc->weight.equal(net.fc->weight));
  EXPECT_NE(copy->fc->weight.data_ptr(), net.fc->weight.data_ptr());
  EXPECT_EQ(copy->named_parameters().keys(), net.named_parameters().keys());
  {
    torch::NoGradGuard no_grad;
    copy->fc->weight.fill_(42);
  }
  EXPECT_FALSE(net.fc->weight.equal(copy->fc->weight));
  EXPECT_NE(net.fc->weight.max().item<float>(), 42.0f);
}

TEST(Cloneable, WithATorchModuleHolder) {
  CloneableNet net(4);
  net->count.fill_(7);
  net->eval();
  auto copy = std::dynamic_pointer_cast<CloneableNetImpl>(net->clone());
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->hidden, 4);  // Derived's own members are copied
  EXPECT_EQ(copy->fc->weight.sizes(), (std::vector<int64_t>{4, 2}));
  EXPECT_FALSE(copy->is_training());
  EXPECT_EQ(copy->count.item<int64_t>(), 7);
  const auto orig = net->named_parameters();
  const auto cloned = copy->named_parameters();
  ASSERT_EQ(cloned.keys(), orig.keys());
  for (size_t i = 0; i < orig.size(); ++i) {
    EXPECT_TRUE(cloned.items()[i].value().equal(orig.items()[i].value()));
    EXPECT_FALSE(cloned.items()[i].value().is_alias_of(orig.items()[i].value()));
    EXPECT_TRUE(cloned.items()[i].value().requires_grad());
  }
  // The copy's members are its own modules: training the copy leaves the original alone.
  const torch::Tensor x = torch::randn({5, 2});
  EXPECT_TRUE(copy->forward(x).equal(net->forward(x)));
  copy->forward(x).sum().backward();
  {
    torch::NoGradGuard no_grad;
    for (const auto& p : copy->parameters()) p.sub_(p.grad());
  }
  EXPECT_FALSE(copy->forward(x).equal(net->forward(x)));
  EXPECT_FALSE(net->fc->weight.grad().defined());
  // In a container, the Cloneable child is cloned through its own clone().
  torch::nn::Sequential seq(net);
  auto seq_copy = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(seq->clone());
  ASSERT_NE(seq_copy, nullptr);
  EXPECT_NE(seq_copy->named_parameters()["0.fc.weight"].data_ptr(), net->fc->weight.data_ptr());
}

TEST(Cloneable, EachModuleKeepsItsOwnTrainingMode) {
  // A frozen part in eval() inside a model in train(): libtorch's copies keep each module's flag.
  CloneableNet net;
  net->head->eval();
  for (const std::shared_ptr<torch::nn::Module>& copy :
       {net->clone(), torch::nn::Sequential(net)->clone()->children()[0]}) {
    auto cloned = std::dynamic_pointer_cast<CloneableNetImpl>(copy);
    ASSERT_NE(cloned, nullptr);
    EXPECT_TRUE(cloned->is_training());
    EXPECT_TRUE(cloned->fc->is_training());
    EXPECT_FALSE(cloned->head->is_training());
    EXPECT_FALSE(cloned->head[1]->is_training());
  }
}

struct RegistersInTheConstructor : torch::nn::Cloneable<RegistersInTheConstructor> {
  RegistersInTheConstructor() {
    (void)register_parameter("w", torch::ones({2}));  // outside reset(): the copy will not have it
    reset();
  }
  void reset() override {}
};

TEST(Cloneable, RegisteringOutsideResetIsAnError) {
  RegistersInTheConstructor m;
  TT_EXPECT_THROW_WITH(m.clone(), tinytorch::Error, "same number of parameters",
                       "register_parameter() inside reset()");
  struct NotCloneable : torch::nn::Module {};
  NotCloneable other;
  TT_EXPECT_THROW_WITH(other.clone(), tinytorch::Error, "clone() has not been implemented",
                       "Cloneable");
}

// ── Tensor::repeat_interleave ───────────────────────────────────────────────────────────────

TEST(RepeatInterleaveMethod, MatchesTheFreeFunction) {
  const torch::Tensor x = torch::tensor({{1, 2}, {3, 4}});
  EXPECT_EQ(x.repeat_interleave(2).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 1, 2, 2, 3, 3, 4, 4}));
  EXPECT_EQ(x.repeat_interleave(2, 0).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 2, 1, 2, 3, 4, 3, 4}));
  const torch::Tensor r = torch::tensor({1, 2});
  EXPECT_TRUE(x.repeat_interleave(r, 1).equal(torch::repeat_interleave(x, r, 1)));
  EXPECT_EQ(x.repeat_interleave(r, 1, 3).sizes(), (std::vector<int64_t>{2, 3}));
  TT_EXPECT_THROW_WITH(x.repeat_interleave(r, 1, 4), tinytorch::Error, "output_size 4",
                       "sum of repeats, 3");
  TT_EXPECT_THROW_WITH(x.repeat_interleave(2, 5), tinytorch::Error, "repeat_interleave");
  const torch::Tensor w =
      (torch::arange(6, torch::kFloat64) * 0.3).reshape({2, 3}).requires_grad_();
  const auto check = torch::autograd::gradcheck(
      [](const std::vector<torch::Tensor>& v) { return v[0].repeat_interleave(3, 1); }, {w});
  EXPECT_TRUE(check.ok) << check.message;
}

}  // namespace
