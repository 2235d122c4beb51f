// Tests for the fast tier's fused LSTM layer (src/nn/lstm_fused.cpp): nn::LSTM in float32 on the
// fast tier against the same module on the reference tier, which runs the learner's lstm_step op
// by op (module 11) with the reference GEMM:
//   * the outputs (output, h_n, c_n) and the gradients of a loss that weighs all three, for the
//     input, the initial states and every parameter, at 1 and 2 threads, over the options the
//     fused layer covers: layers, batch_first, bidirectional, bias, dropout between layers (eval),
//     given or zero initial states, unbatched input, a batch of one, a sequence of one;
//   * that those runs did go through the fused node, and that proj_size and float64 (the
//     gradchecks' dtype) take the general path;
//   * create_graph: the gradient of a gradient (the fused node replays lstm_step, recorded);
//   * training with dropout between layers (the masks differ: only the shapes and the gradients'
//     presence can be compared).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "tinytorch/core/parallel.h"
#include "tinytorch/kernels/registry.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::kernels {
namespace {

struct LstmCase {
  std::string name;
  int64_t layers = 1, batch = 3, seq = 5, input = 4, hidden = 6;
  bool batch_first = false, bidirectional = false, bias = true, states = false, unbatched = false;
  double dropout = 0.0;
};

// What one run gives: the outputs, then the gradients (input, h0, c0, every parameter).
struct Run {
  std::vector<Tensor> values;
  std::string grad_fn;  // the output's node, when its own
};

nn::LSTMOptions options_of(const LstmCase& c) {
  return nn::LSTMOptions(c.input, c.hidden)
      .num_layers(c.layers)
      .batch_first(c.batch_first)
      .bidirectional(c.bidirectional)
      .bias(c.bias)
      .dropout(c.dropout);
}

// One forward and backward of `lstm` on fresh leaves copied from x, h0, c0 (undefined: none).
Run run(nn::LSTM& lstm, const Tensor& x, const Tensor& h0, const Tensor& c0) {
  const Tensor xi = x.clone().requires_grad_();
  std::optional<std::tuple<Tensor, Tensor>> state;
  Tensor hi, ci;
  if (h0.defined()) {
    hi = h0.clone().requires_grad_();
    ci = c0.clone().requires_grad_();
    state = std::make_tuple(hi, ci);
  }
  for (Tensor& p : lstm->parameters()) p.mutable_grad() = Tensor();
  auto [output, hc] = lstm->forward(xi, state);
  auto [h_n, c_n] = hc;
  // Weights that differ per element, so that a gradient sent to the wrong place shows.
  const auto weights = [](const Tensor& t) {
    return arange(t.numel(), ScalarType::Float32).reshape(t.sizes()).sin();
  };
  const Tensor loss =
      (output * weights(output)).sum() + (h_n * weights(h_n)).sum() + (c_n * weights(c_n)).sum();
  loss.backward();
  Run r;
  r.grad_fn = output.grad_fn() ? output.grad_fn()->name() : "";
  r.values = {output, h_n, c_n, xi.grad()};
  if (hi.defined()) {
    r.values.push_back(hi.grad());
    r.values.push_back(ci.grad());
  }
  for (const Tensor& p : lstm->parameters()) r.values.push_back(p.grad());
  return r;
}

bool fast_tier_registered() {
  const FastKernels& k = fast_kernels();
  return k.lstm_layer && k.sgemm != nullptr && k.activation.sigmoid != nullptr &&
         k.activation.tanh != nullptr;
}

// The case on the fast tier and on the reference tier, same parameters and inputs; returns the
// fast run's output node.
std::string expect_tiers_agree(const LstmCase& c, ScalarType dtype = ScalarType::Float32,
                               int64_t proj_size = 0) {
  SCOPED_TRACE(c.name);
  manual_seed(7);
  nn::LSTM lstm(options_of(c).proj_size(proj_size).dtype(dtype));
  lstm->eval();  // dropout between layers off: both tiers see the same function
  const int64_t D = c.bidirectional ? 2 : 1, H_out = proj_size > 0 ? proj_size : c.hidden;
  Tensor x = c.batch_first ? randn({c.batch, c.seq, c.input}) : randn({c.seq, c.batch, c.input});
  Tensor h0, c0;
  if (c.states) {
    h0 = randn({D * c.layers, c.batch, H_out});
    c0 = randn({D * c.layers, c.batch, c.hidden});
  }
  if (c.unbatched) {
    x = x.select(c.batch_first ? 0 : 1, 0);
    if (c.states) {
      h0 = h0.select(1, 0);
      c0 = c0.select(1, 0);
    }
  }
  x = x.to(dtype);
  if (c.states) {
    h0 = h0.to(dtype);
    c0 = c0.to(dtype);
  }
  Run ref;
  {
    TierGuard guard(Tier::kReference);
    ref = run(lstm, x, h0, c0);
  }
  const Run fast = run(lstm, x, h0, c0);
  EXPECT_EQ(fast.values.size(), ref.values.size());
  for (size_t i = 0; i < std::min(fast.values.size(), ref.values.size()); ++i) {
    SCOPED_TRACE("value " + std::to_string(i));
    EXPECT_EQ(fast.values[i].defined(), ref.values[i].defined());
    if (!ref.values[i].defined() || !fast.values[i].defined()) continue;
    EXPECT_EQ(fast.values[i].sizes(), ref.values[i].sizes());
    if (fast.values[i].sizes() != ref.values[i].sizes()) continue;
    // float32 rounding, summed over up to T steps of backpropagation through time.
    EXPECT_TRUE(allclose(fast.values[i], ref.values[i], /*rtol=*/1e-4, /*atol=*/1e-5))
        << "largest difference " << (fast.values[i] - ref.values[i]).abs().max().item<double>();
  }
  return fast.grad_fn;
}

class LstmFast : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (!fast_tier_registered()) GTEST_SKIP() << "module 18's fast kernels are not registered";
    try {
      TierGuard guard(Tier::kReference);
      nn::LSTM(1, 1)->forward(zeros({1, 1, 1}));
    } catch (const NotImplementedError&) {
      GTEST_SKIP() << "module 11's lstm_step is not written yet";
    }
    threads_before_ = get_num_threads();
    set_num_threads(GetParam());
  }
  void TearDown() override { set_num_threads(threads_before_); }

 private:
  int threads_before_ = 1;
};

TEST_P(LstmFast, MatchesTheReferenceTierOverTheOptions) {
  std::vector<LstmCase> cases;
  cases.push_back({.name = "one layer"});
  cases.push_back({.name = "two layers, h_0 and c_0 given", .layers = 2, .states = true});
  cases.push_back({.name = "batch_first", .layers = 2, .batch_first = true});
  cases.push_back({.name = "bidirectional", .layers = 2, .bidirectional = true, .states = true});
  cases.push_back({.name = "bidirectional, batch_first, no bias",
                   .layers = 2,
                   .batch_first = true,
                   .bidirectional = true,
                   .bias = false});
  cases.push_back({.name = "dropout between layers (eval)", .layers = 3, .dropout = 0.5});
  cases.push_back({.name = "unbatched, batch_first", .batch_first = true, .unbatched = true});
  cases.push_back({.name = "unbatched, states", .layers = 2, .states = true, .unbatched = true});
  cases.push_back({.name = "a sequence of one", .seq = 1, .bidirectional = true});
  cases.push_back({.name = "a batch of one", .layers = 2, .batch = 1});
  // Wide enough for the GEMM's threads and for W_hhᵀ in four column blocks (H·4H floats > 1 MiB).
  cases.push_back({.name = "wide", .batch = 33, .seq = 3, .input = 20, .hidden = 520});
  cases.push_back({.name = "odd widths", .batch = 13, .seq = 7, .input = 17, .hidden = 37});
  for (const LstmCase& c : cases) {
    const std::string node = expect_tiers_agree(c);
    // The output is the fused node's own unless batch_first (laid out again), bidirectional
    // (the directions concatenated) or unbatched (squeezed).
    if (!c.batch_first && !c.bidirectional && !c.unbatched) {
      EXPECT_NE(node.find("FusedLstmLayer"), std::string::npos) << c.name << ": " << node;
    }
  }
}

TEST_P(LstmFast, ProjSizeAndFloat64TakeTheGeneralPath) {
  const LstmCase c{.name = "proj_size", .layers = 2, .states = true};
  EXPECT_EQ(expect_tiers_agree(c, ScalarType::Float32, /*proj_size=*/3).find("FusedLstmLayer"),
            std::string::npos);
  EXPECT_EQ(expect_tiers_agree({.name = "float64"}, ScalarType::Float64).find("FusedLstmLayer"),
            std::string::npos);
}

// d/dθ Σ (∂L/∂x)²: the fused node's backward, under create_graph, replays lstm_step recorded.
TEST_P(LstmFast, GradientOfTheGradientMatchesTheReferenceTier) {
  manual_seed(3);
  nn::LSTM lstm(nn::LSTMOptions(4, 5).num_layers(2));
  const Tensor x0 = randn({6, 2, 4}), h0 = randn({2, 2, 5}), c0 = randn({2, 2, 5});
  const auto second_order = [&] {
    const Tensor x = x0.clone().requires_grad_();
    const Tensor h = h0.clone().requires_grad_(), c = c0.clone().requires_grad_();
    for (Tensor& p : lstm->parameters()) p.mutable_grad() = Tensor();
    auto [output, hc] = lstm->forward(x, std::make_tuple(h, c));
    const Tensor loss = (output * output).sum() + std::get<1>(hc).sum();
    const auto g = autograd::grad({loss}, {x, h, c}, {}, /*retain_graph=*/true,
                                  /*create_graph=*/true);
    ((g[0] * g[0]).sum() + (g[1] * g[2]).sum()).backward();
    std::vector<Tensor> grads = {g[0].detach(), g[1].detach(), g[2].detach(),
                                 x.grad(),      h.grad(),      c.grad()};
    for (const Tensor& p : lstm->parameters()) grads.push_back(p.grad());
    return grads;
  };
  std::vector<Tensor> ref;
  {
    TierGuard guard(Tier::kReference);
    ref = second_order();
  }
  const std::vector<Tensor> fast = second_order();
  ASSERT_EQ(fast.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) {
    SCOPED_TRACE("gradient " + std::to_string(i));
    ASSERT_TRUE(fast[i].defined());
    EXPECT_TRUE(allclose(fast[i], ref[i], /*rtol=*/1e-4, /*atol=*/1e-5))
        << "largest difference " << (fast[i] - ref[i]).abs().max().item<double>();
  }
}

// In training, dropout between layers draws its masks in another order (the fused layers hand
// on [T, B, ·] whatever batch_first says): the same shapes, every parameter gets a gradient.
TEST_P(LstmFast, TrainsWithDropoutBetweenLayers) {
  manual_seed(5);
  nn::LSTM lstm(nn::LSTMOptions(4, 6).num_layers(2).dropout(0.5).batch_first(true));
  lstm->train();
  const Tensor x = randn({3, 5, 4});
  auto [output, hc] = lstm->forward(x);
  EXPECT_EQ(output.sizes(), IntArrayRef({3, 5, 6}));
  EXPECT_TRUE(output.is_contiguous());
  (output.sum() + std::get<1>(hc).sum()).backward();
  for (const Tensor& p : lstm->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_TRUE(p.grad().isfinite().all().item<bool>());
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, LstmFast, ::testing::Values(1, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "thread" +
                                  (info.param == 1 ? "" : "s");
                         });

}  // namespace
}  // namespace tinytorch::kernels
