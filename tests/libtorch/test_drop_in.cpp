// libtorch's spellings through <torch/torch.h>: each test is written as a libtorch program would
// write it, and checks that it means here what it means in libtorch.
#include <torch/torch.h>

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace {

namespace F = torch::nn::functional;

// ── Device ────────────────────────────────────────────────────────────────────────────────────

TEST(Device, TheUsualPreambleRunsOnTheCpu) {
  const torch::Device device = torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
  EXPECT_TRUE(device.is_cpu());
  EXPECT_EQ(torch::cuda::device_count(), 0);
  torch::nn::Linear fc(3, 2);
  fc->to(device);
  const torch::Tensor x = torch::randn({4, 3}).to(device);
  EXPECT_EQ(fc(x).device(), torch::Device(torch::kCPU));
  EXPECT_TRUE(x.is_cpu());
  EXPECT_FALSE(x.is_cuda());
  EXPECT_TRUE(x.cpu().is_same(x));  // already there: the same tensor
}

TEST(Device, ParsesAndPrintsLikeLibtorch) {
  const torch::Device cuda1("cuda:1");
  EXPECT_TRUE(cuda1.is_cuda());
  EXPECT_EQ(cuda1.index(), 1);
  EXPECT_EQ(cuda1.str(), "cuda:1");
  EXPECT_EQ(torch::Device("cpu"), torch::Device(torch::kCPU));
  EXPECT_FALSE(torch::Device("cpu").has_index());
  std::ostringstream os;
  os << torch::Device(torch::kCUDA, 0);
  EXPECT_EQ(os.str(), "cuda:0");
  EXPECT_THROW(torch::Device("gpu"), torch::Error);
  EXPECT_THROW(torch::Device("cuda:x"), torch::Error);
  EXPECT_THROW(torch::Device("cuda:-1"), torch::Error);
}

// Asking for CUDA is an error that names the device — nothing silently stays on the CPU.
TEST(Device, CudaIsAClearError) {
  const torch::Tensor x = torch::ones({2});
  for (const auto& attempt : std::vector<std::function<void()>>{
           [&] { (void)x.to(torch::kCUDA); },
           [&] { (void)x.to(torch::Device("cuda:0"), torch::kFloat64); },
           [&] { (void)x.cuda(); },
           [&] { torch::nn::Linear(2, 2)->to(torch::kCUDA); },
           [&] { (void)torch::zeros({2}, torch::device(torch::kCUDA)); },
           [&] { (void)torch::randn({2}, torch::Device(torch::kCUDA, 0)); },
           [&] { (void)torch::zeros({2}, torch::kCUDA); },
       }) {
    try {
      attempt();
      ADD_FAILURE() << "no error for a CUDA device";
    } catch (const torch::Error& e) {
      EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("CPU only"), std::string::npos) << e.what();
    }
  }
}

// A factory takes a Device (or a DeviceType) where it takes TensorOptions, as in libtorch's DCGAN
// example: torch::randn({batch, noise, 1, 1}, device).
TEST(Device, FactoriesTakeADeviceAsTheirOptions) {
  const torch::Device device(torch::kCPU);
  EXPECT_EQ(torch::randn({2, 3}, device).sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_EQ(torch::zeros({2}, torch::kCPU).dtype(), torch::kFloat32);
  EXPECT_EQ(torch::empty(4, device).uniform_(0.8, 1.0).numel(), 4);
}

// ── libtorch's checks ─────────────────────────────────────────────────────────────────────────

TEST(Checks, TorchCheckAndAtAssertThrowWhenFalse) {
  EXPECT_NO_THROW(TORCH_CHECK(1 + 1 == 2, "never shown"));
  EXPECT_NO_THROW(AT_ASSERT(true));
  try {
    TORCH_CHECK(2 < 1);
    ADD_FAILURE() << "TORCH_CHECK(false) did not throw";
  } catch (const torch::Error& e) {
    EXPECT_EQ(std::string(e.what()), "Expected 2 < 1 to be true, but got false.");
  }
  try {
    const int size = 3;
    TORCH_CHECK(size == 4, "expected size 4, got ", size);
    ADD_FAILURE() << "TORCH_CHECK(false, ...) did not throw";
  } catch (const torch::Error& e) {
    EXPECT_EQ(std::string(e.what()), "expected size 4, got 3");
  }
  try {
    AT_ASSERT(!std::isnan(std::nan("")));
    ADD_FAILURE() << "AT_ASSERT(false) did not throw";
  } catch (const torch::Error& e) {
    EXPECT_NE(std::string(e.what()).find("INTERNAL ASSERT FAILED"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("test_drop_in.cpp"), std::string::npos) << e.what();
  }
}

TEST(Device, ToTakesLibtorchsParameters) {
  const torch::Tensor x = torch::ones({2});
  EXPECT_TRUE(x.to(torch::kFloat32).is_same(x));  // nothing to do: the same tensor
  // (dtype, non_blocking, copy): non_blocking does not copy; copy does.
  EXPECT_TRUE(x.to(torch::kFloat32, /*non_blocking=*/true).is_same(x));
  EXPECT_FALSE(x.to(torch::kFloat32, false, /*copy=*/true).is_same(x));
  EXPECT_EQ(x.to(torch::kCPU, torch::kFloat64).dtype(), torch::kFloat64);
  EXPECT_EQ(torch::zeros({2}, torch::dtype(torch::kInt64)).dtype(), torch::kInt64);
}

// ── assignment to a view ──────────────────────────────────────────────────────────────────────

// The CNN sentence classifier's way of filling its input: rows assigned one by one.
TEST(Assignment, RowsAssignedThroughOperatorBracketsAreWritten) {
  torch::Tensor batch = torch::zeros({3, 4});
  for (int64_t i = 0; i < 3; ++i) batch[i] = torch::full({4}, static_cast<double>(i + 1));
  EXPECT_EQ(batch.sum().item<double>(), 4 * (1 + 2 + 3));
  batch.select(1, 0) = 0;
  EXPECT_EQ(batch.sum().item<double>(), 3 * (1 + 2 + 3));
  batch[0] += 1;  // compound assignment on a view is in place too
  EXPECT_EQ(batch.sum().item<double>(), 3 * (1 + 2 + 3) + 4);
}

// ── losses: libtorch's third argument ─────────────────────────────────────────────────────────

TEST(Losses, BracesMeanTheDefaultsAndWeightsArePerClass) {
  torch::manual_seed(0);
  const torch::Tensor logits = torch::randn({6, 3});
  const torch::Tensor target = torch::tensor({0, 1, 2, 2, 1, 0});
  const torch::Tensor logp = torch::log_softmax(logits, 1);
  EXPECT_EQ(torch::nll_loss(logp, target, {}).dim(), 0);
  EXPECT_EQ(F::nll_loss(logp, target, {}).dim(), 0);
  EXPECT_EQ(F::cross_entropy(logits, target, {}).dim(), 0);
  // libtorch's weighted mean: Σ w[t]·nll / Σ w[t].
  const torch::Tensor w = torch::tensor({1.0, 2.0, 4.0}).to(torch::kFloat32);
  const torch::Tensor per =
      F::nll_loss(logp, target, F::NLLLossFuncOptions().reduction(torch::kNone));
  const torch::Tensor wt = torch::tensor({1.0, 2.0, 4.0, 4.0, 2.0, 1.0}).to(torch::kFloat32);
  const double expected = ((per * wt).sum() / wt.sum()).item<double>();
  EXPECT_NEAR(
      F::cross_entropy(logits, target, F::CrossEntropyFuncOptions().weight(w)).item<double>(),
      expected, 1e-6);
  EXPECT_NEAR(
      torch::nn::CrossEntropyLoss(torch::nn::CrossEntropyLossOptions().weight(w))(logits, target)
          .item<double>(),
      expected, 1e-6);
}

// ── autograd::grad: (outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused) ──

TEST(Autograd, GradTakesLibtorchsParameterOrder) {
  torch::Tensor x = torch::tensor({1.0, 2.0}).requires_grad_();
  torch::Tensor unused = torch::tensor({3.0}).requires_grad_();
  torch::Tensor y = (x * x).sum();
  const auto g = torch::autograd::grad({y}, {x, unused}, {}, /*retain_graph=*/true,
                                       /*create_graph=*/false, /*allow_unused=*/true);
  EXPECT_TRUE(g[0].allclose(torch::tensor({2.0, 4.0})));
  EXPECT_FALSE(g[1].defined());
  // create_graph: the gradient is differentiable again (a gradient penalty's first step).
  const auto gx = torch::autograd::grad({y}, {x}, {}, true, /*create_graph=*/true);
  const auto ggx = torch::autograd::grad({gx[0].pow(2).sum()}, {x});
  EXPECT_TRUE(ggx[0].allclose(torch::tensor({8.0, 16.0})));  // d Σ(2x)² / dx = 8x
}

// ── custom autograd Functions: torch::autograd::Function<T> ────────────────────────────────────
// libtorch's own examples (its C++ autograd tutorial), written as a libtorch program writes them.

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class LinearFunction : public torch::autograd::Function<LinearFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor input, torch::Tensor weight,
                               torch::Tensor bias = torch::Tensor()) {
    ctx->save_for_backward({input, weight, bias});
    auto output = input.mm(weight.t());
    if (bias.defined()) output += bias.unsqueeze(0).expand_as(output);
    return output;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    auto saved = ctx->get_saved_variables();
    auto input = saved[0];
    auto weight = saved[1];
    auto bias = saved[2];
    auto grad_output = grad_outputs[0];
    auto grad_input = grad_output.mm(weight);
    auto grad_weight = grad_output.t().mm(input);
    auto grad_bias = torch::Tensor();
    if (bias.defined()) grad_bias = grad_output.sum(0);
    // Three entries even when apply() got two arguments: the extra one is undefined.
    return {grad_input, grad_weight, grad_bias};
  }
};

class MulConstant : public torch::autograd::Function<MulConstant> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor tensor, double constant) {
    ctx->saved_data["constant"] = constant;
    return tensor * constant;
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    return {grad_outputs[0] * ctx->saved_data["constant"].toDouble(), torch::Tensor()};
  }
};

// In place, with an int argument first (libtorch's header example, with its second gradient).
struct MulInplace : public torch::autograd::Function<MulInplace> {
  static torch::autograd::variable_list forward(AutogradContext* ctx, int n,
                                                torch::autograd::Variable var) {
    ctx->saved_data["n"] = n;
    var.mul_(n);
    ctx->mark_dirty({var});
    return {var};
  }
  static torch::autograd::variable_list backward(AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_output) {
    auto n = ctx->saved_data["n"].toInt();
    return {torch::Tensor(), grad_output[0] * n};
  }
};

TEST(CustomFunction, LibtorchTutorialLinearMatchesTheBuiltIn) {
  auto x = torch::randn({2, 3}, torch::kFloat64).requires_grad_();
  auto weight = torch::randn({4, 3}, torch::kFloat64).requires_grad_();
  auto bias = torch::randn({4}, torch::kFloat64).requires_grad_();
  for (const bool with_bias : {false, true}) {
    SCOPED_TRACE(with_bias);
    auto y = with_bias ? LinearFunction::apply(x, weight, bias) : LinearFunction::apply(x, weight);
    auto expected = F::linear(x, weight, with_bias ? bias : torch::Tensor());
    EXPECT_TRUE(y.allclose(expected));
    const auto g = torch::autograd::grad({y.sum()}, {x, weight});
    const auto e = torch::autograd::grad({expected.sum()}, {x, weight});
    EXPECT_TRUE(g[0].allclose(e[0]));
    EXPECT_TRUE(g[1].allclose(e[1]));
  }
  LinearFunction::apply(x, weight, bias).sum().backward();
  EXPECT_TRUE(bias.grad().allclose(torch::full({4}, 2.0, torch::kFloat64)));
}

TEST(CustomFunction, LibtorchTutorialMulConstantAndInPlace) {
  auto x = torch::randn({2}).requires_grad_();
  auto y = MulConstant::apply(x, 5.5);
  y.sum().backward();
  EXPECT_TRUE(x.grad().allclose(torch::full({2}, 5.5)));

  auto z = x.clone();
  auto out = MulInplace::apply(6, z);
  EXPECT_TRUE(out[0].is_same(z));
  EXPECT_TRUE(z.allclose(x * 6));
  x.mutable_grad() = torch::Tensor();
  out[0].sum().backward();
  EXPECT_TRUE(x.grad().allclose(torch::full({2}, 6.0)));
}

// ── TORCH_MODULE and TORCH_ARG ────────────────────────────────────────────────────────────────

struct NetOptions {
  explicit NetOptions(int64_t hidden) : hidden_(hidden) {}
  TORCH_ARG(int64_t, hidden);
  TORCH_ARG(double, dropout) = 0.0;
};

struct NetImpl : torch::nn::Module {
  explicit NetImpl(const NetOptions& o)
      : fc1(register_module("fc1", torch::nn::Linear(4, o.hidden()))),
        fc2(register_module("fc2", torch::nn::Linear(o.hidden(), 2))) {}
  torch::Tensor forward(torch::Tensor x) { return fc2(torch::relu(fc1(x))); }
  torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Net);

TEST(Modules, TorchModuleAndTorchArg) {
  Net net(NetOptions(8).dropout(0.1));
  EXPECT_EQ(net->forward(torch::randn({5, 4})).sizes(), (std::vector<int64_t>{5, 2}));
  EXPECT_EQ(net->named_parameters().size(), 4u);
  at::Tensor t = at::zeros({1});  // at:: is the same namespace
  EXPECT_EQ(t.numel(), 1);
}

// OrderedDict's items are libtorch's: key(), value(), pair(), * and -> (to the value). The
// structured binding, which libtorch's items lack, works too (the tuple protocol).
TEST(Modules, NamedParametersIterateAsItemsAndAsBindings) {
  Net net(NetOptions(3));
  std::vector<std::string> names;
  std::ostringstream printed;
  int64_t count = 0;
  for (auto& p : net->named_parameters()) {
    names.push_back(p.key());
    printed << p.key() << " " << p.value().sizes() << "\n";
    count += p->numel();                   // -> reaches the value
    EXPECT_TRUE((*p).is_same(p.value()));  // so does *
    EXPECT_EQ(p.pair().first, p.key());
    EXPECT_TRUE(p.pair().second.is_same(p.value()));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(count, 3 * 4 + 3 + 2 * 3 + 2);
  EXPECT_EQ(printed.str().substr(0, 18), "fc1.weight [3, 4]\n");

  std::vector<std::string> bound;
  for (auto& [name, param] : net->named_parameters()) {
    static_assert(std::is_same_v<decltype(name), const std::string>);
    static_assert(std::is_same_v<decltype(param), torch::Tensor>);
    bound.push_back(name);
    EXPECT_TRUE(param.requires_grad());
  }
  EXPECT_EQ(bound, names);
  // The binding is a reference into the dictionary: writing through it writes the item.
  auto params = net->named_parameters();
  for (auto& [name, param] : params) param = torch::zeros({1});
  for (const auto& p : params) EXPECT_EQ(p.value().numel(), 1) << p.key();
  for (const auto& [name, param] : params) EXPECT_EQ(param.numel(), 1) << name;
  // By value (a copy of each item, bound as an xvalue): compiles too, and reads the module afresh.
  for (auto [name, param] : net->named_parameters()) EXPECT_GT(param.numel(), 1) << name;
  // The parameters themselves are the module's: a value() handle writes into the module.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->named_parameters()) p.value().fill_(0.5);
  }
  EXPECT_EQ(net->fc1->bias[0].item<double>(), 0.5);
}

// ── ops that libtorch programs call ───────────────────────────────────────────────────────────

TEST(Ops, SinCosLog1pAndArangeStartEndOptions) {
  const torch::Tensor x = torch::arange(0, 4, torch::kFloat64);  // arange(start, end, options)
  EXPECT_EQ(x.dtype(), torch::kFloat64);
  EXPECT_EQ(x.size(0), 4);
  EXPECT_EQ(torch::arange(0, 10, 2).size(0), 5);  // a number there is still the step
  const torch::Tensor y = torch::sin(x).pow(2) + torch::cos(x).pow(2);
  EXPECT_TRUE(torch::allclose(y, torch::ones({4}, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(torch::log1p(x), (x + 1).log()));
  torch::Tensor z = x.clone();
  z.sin_().cos_().log1p_();
  EXPECT_TRUE(torch::allclose(z, x.sin().cos().log1p()));
}

// torch::dropout(input, p, train), as libtorch's MNIST example calls it in forward().
TEST(Functional, DropoutFreeFunctionIsTheOpUnderFDropout) {
  const torch::Tensor x = torch::ones({1000});
  EXPECT_TRUE(torch::dropout(x, 0.5, /*train=*/false).equal(x));  // evaluation: identity
  EXPECT_TRUE(torch::dropout(x, 1.0, /*train=*/true).equal(torch::zeros({1000})));
  const torch::Tensor y = torch::dropout(x, 0.5, /*train=*/true);
  const double kept = y.ne(0).sum().item<double>();
  EXPECT_NEAR(kept / 1000.0, 0.5, 0.07);                             // std error 0.016
  EXPECT_EQ((y.eq(0).sum() + y.eq(2).sum()).item<int64_t>(), 1000);  // kept values scaled by 2
}

}  // namespace
