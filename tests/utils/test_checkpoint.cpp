// Activation checkpointing (utils/checkpoint.h): the same gradients as the plain run, bit for bit
// (dropout, parameters, inputs that do not require grad, several inputs, nesting, double
// backward), fewer live bytes after the forward, and the argument errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tinytorch/autograd/engine.h"
#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/allocator.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/utils/checkpoint.h"

namespace tt = tinytorch;
namespace nn = tinytorch::nn;
using tt::Tensor;

namespace {

// Linear → Tanh → Dropout(0.3), `blocks` times, width d: parameters and random draws.
nn::Sequential mlp(int64_t blocks, int64_t d) {
  tt::manual_seed(11);
  nn::Sequential seq;
  for (int64_t i = 0; i < blocks; ++i) {
    seq->push_back(nn::Linear(d, d));
    seq->push_back(nn::Tanh());
    seq->push_back(nn::Dropout(0.3));
  }
  return seq;
}

struct Grads {
  Tensor output, input_grad;
  std::vector<Tensor> param_grads;
  Tensor next_draw;  // the default generator's next number after the whole step
};

// One forward and backward from the same seed, with `forward` the plain or checkpointed call.
Grads run(nn::Sequential& seq, const std::function<Tensor(const Tensor&)>& forward) {
  tt::manual_seed(5);
  Tensor x = tt::randn({4, 16}).requires_grad_();
  for (Tensor& p : seq->parameters()) p.mutable_grad() = Tensor();
  Tensor y = forward(x);
  (y * y).sum().backward();
  Grads g{y, x.grad(), {}, tt::rand({1})};
  for (const Tensor& p : seq->parameters()) g.param_grads.push_back(p.grad());
  return g;
}

void expect_same(const Grads& a, const Grads& b) {
  EXPECT_TRUE(a.output.equal(b.output));
  EXPECT_TRUE(a.input_grad.equal(b.input_grad));
  ASSERT_EQ(a.param_grads.size(), b.param_grads.size());
  for (size_t i = 0; i < a.param_grads.size(); ++i) {
    ASSERT_TRUE(a.param_grads[i].defined() && b.param_grads[i].defined()) << "parameter " << i;
    EXPECT_TRUE(a.param_grads[i].equal(b.param_grads[i])) << "parameter " << i;
  }
  EXPECT_TRUE(a.next_draw.equal(b.next_draw)) << "the caller's random stream was disturbed";
}

}  // namespace

TEST(Checkpoint, SequentialWithDropoutIsBitIdenticalForEverySegmentCount) {
  nn::Sequential seq = mlp(3, 16);
  const Grads plain = run(seq, [&](const Tensor& x) { return seq->forward(x); });
  for (int64_t segments = 1; segments <= 9; ++segments) {
    SCOPED_TRACE("segments = " + std::to_string(segments));
    expect_same(plain, run(seq, [&](const Tensor& x) {
                  return tt::utils::checkpoint_sequential(seq, segments, x);
                }));
  }
}

TEST(Checkpoint, WithoutPreservingTheRngStateDropoutDrawsAnotherMask) {
  // The test above can fail: without the saved generator state the recompute's masks differ.
  nn::Sequential seq = mlp(2, 16);
  const Grads plain = run(seq, [&](const Tensor& x) { return seq->forward(x); });
  const Grads other = run(seq, [&](const Tensor& x) {
    return tt::utils::checkpoint_sequential(seq, 2, x, /*preserve_rng_state=*/false);
  });
  EXPECT_TRUE(plain.output.equal(other.output));           // the forward is the same
  EXPECT_FALSE(plain.input_grad.equal(other.input_grad));  // the backward's masks are not
}

TEST(Checkpoint, ModuleOverloadAndNodeName) {
  nn::Sequential seq = mlp(1, 16);
  const Grads plain = run(seq, [&](const Tensor& x) { return seq->forward(x); });
  Tensor y;
  const Grads ckpt = run(seq, [&](const Tensor& x) { return y = tt::utils::checkpoint(seq, x); });
  expect_same(plain, ckpt);
  EXPECT_EQ(y.grad_fn()->name(), "CheckpointBackward");
}

TEST(Checkpoint, SeveralInputsSomeNotRequiringGrad) {
  tt::manual_seed(3);
  Tensor w = tt::randn({5, 3}).requires_grad_();
  const auto f = [&w](const Tensor& a, const Tensor& b, const Tensor& c) {
    return (tt::tanh(a * b).matmul(w) + c).relu();
  };
  const Tensor a0 = tt::randn({4, 5}), b0 = tt::randn({4, 5}), c0 = tt::randn({4, 3});
  const auto step = [&](bool checkpointed) {
    Tensor a = a0.clone().requires_grad_(), b = b0.clone(), c = c0.clone().requires_grad_();
    w.mutable_grad() = Tensor();
    Tensor y = checkpointed ? tt::utils::checkpoint(f, a, b, c) : f(a, b, c);
    (y * y).sum().backward();
    EXPECT_FALSE(b.grad().defined());
    return std::vector<Tensor>{y, a.grad(), c.grad(), w.grad()};
  };
  const auto plain = step(false), ckpt = step(true);
  for (size_t i = 0; i < plain.size(); ++i) EXPECT_TRUE(plain[i].equal(ckpt[i])) << i;
}

TEST(Checkpoint, NoInputRequiresGradStillReachesTheParameters) {
  // PyTorch's reentrant checkpoint would lose w's gradient here; ours runs fn as it is.
  tt::manual_seed(4);
  Tensor w = tt::randn({3, 3}).requires_grad_();
  const Tensor x = tt::randn({2, 3});
  Tensor y = tt::utils::checkpoint([&w](const Tensor& in) { return in.matmul(w).sin(); }, x);
  y.sum().backward();
  ASSERT_TRUE(w.grad().defined());
  Tensor expected = tt::autograd::grad({x.matmul(w).sin().sum()}, {w})[0];
  EXPECT_TRUE(w.grad().equal(expected));
}

TEST(Checkpoint, InputFromEarlierOpsGetsItsGradientThroughTheOuterGraph) {
  tt::manual_seed(6);
  Tensor x = tt::randn({3, 4}).requires_grad_();
  const auto f = [](const Tensor& h) { return h.exp() * h; };
  const auto loss = [&](bool checkpointed) {
    x.mutable_grad() = Tensor();
    Tensor h = x * 2.0 + 1.0;  // a non-leaf input
    Tensor y = checkpointed ? tt::utils::checkpoint(f, h) : f(h);
    y.sum().backward();
    return x.grad();
  };
  EXPECT_TRUE(loss(false).equal(loss(true)));
}

TEST(Checkpoint, NestedCheckpointsGiveThePlainGradients) {
  nn::Sequential seq = mlp(2, 16);  // 6 modules
  const Grads plain = run(seq, [&](const Tensor& x) { return seq->forward(x); });
  const Grads nested = run(seq, [&](const Tensor& x) {
    return tt::utils::checkpoint(
        [&](const Tensor& in) { return tt::utils::checkpoint_sequential(seq, 3, in); }, x);
  });
  expect_same(plain, nested);
}

TEST(Checkpoint, CreateGraphIsRefusedWithAClearError) {
  // A second derivative through the recompute would miss the inputs' part: refused, not wrong.
  Tensor x = tt::randn({6}).requires_grad_();
  Tensor y = tt::utils::checkpoint([](const Tensor& t) { return t.sin() * t; }, x).sum();
  try {
    tt::autograd::grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true);
    ADD_FAILURE() << "create_graph=true was accepted";
  } catch (const tt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("create_graph=true"), std::string::npos) << e.what();
  }
  // The first derivative alone is fine, through autograd::grad too: cos(x)·x + sin(x).
  Tensor z = tt::utils::checkpoint([](const Tensor& t) { return t.sin() * t; }, x).sum();
  const Tensor g = tt::autograd::grad({z}, {x})[0];
  const Tensor xd = x.detach();
  EXPECT_TRUE(g.allclose(xd.cos() * xd + xd.sin(), 1e-6, 1e-6));
}

TEST(Checkpoint, ASecondBackwardNeedsRetainGraph) {
  Tensor x = tt::randn({3}).requires_grad_();
  Tensor y = tt::utils::checkpoint([](const Tensor& t) { return t.exp(); }, x).sum();
  y.backward();
  EXPECT_THROW(y.backward(), tt::Error);
  Tensor z = tt::utils::checkpoint([](const Tensor& t) { return t.exp(); }, x).sum();
  x.mutable_grad() = Tensor();
  z.backward({}, /*retain_graph=*/true);
  z.backward();
  EXPECT_TRUE(x.grad().allclose(2.0 * x.exp().detach()));
}

TEST(Checkpoint, KeepsFewerLiveBytesAfterTheForward) {
  // Deterministic memory: the allocator's live bytes once the forward returned (the graph and
  // its saved activations are alive; nothing else was allocated in between).
  nn::Sequential seq = mlp(8, 256);
  tt::manual_seed(1);
  const Tensor x = tt::randn({64, 256}).requires_grad_();
  const auto live_after_forward = [&](const std::function<Tensor(const Tensor&)>& forward) {
    const int64_t before = tt::get_allocator()->stats().live_bytes;
    const Tensor y = forward(x);
    return tt::get_allocator()->stats().live_bytes - before;
  };
  const int64_t plain = live_after_forward([&](const Tensor& t) { return seq->forward(t); });
  const int64_t ckpt = live_after_forward(
      [&](const Tensor& t) { return tt::utils::checkpoint_sequential(seq, 4, t); });
  const int64_t activation = 64 * 256 * 4;  // one [64, 256] float32 tensor
  // Plain: 3 per block (the Linear's output, Tanh's, the mask) for 8 blocks. Checkpointed in 4
  // segments: the 3 segment outputs kept as the next one's input, and the last segment's 2 blocks
  // (the last segment is never checkpointed): 9.
  EXPECT_GE(plain, 8 * 3 * activation);
  EXPECT_LE(ckpt, 9 * activation) << "plain " << plain << " bytes, checkpointed " << ckpt;
}

TEST(Checkpoint, RefusesBadArguments) {
  nn::Sequential seq = mlp(1, 4);  // 3 modules
  const Tensor x = tt::randn({2, 4}).requires_grad_();
  for (const int64_t segments : {0, -1, 4}) {
    try {
      tt::utils::checkpoint_sequential(seq, segments, x);
      ADD_FAILURE() << "segments = " << segments << " was accepted";
    } catch (const tt::ValueError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("segments = " + std::to_string(segments)), std::string::npos) << msg;
      EXPECT_NE(msg.find("1 <= segments <= 3"), std::string::npos) << msg;
    }
  }
  EXPECT_THROW(
      tt::utils::checkpoint([](const std::vector<Tensor>& in) { return in[0]; }, {x, Tensor()}),
      tt::ValueError);
  EXPECT_THROW(tt::utils::checkpoint(tt::utils::CheckpointFunction(), {x}), tt::ValueError);
  EXPECT_THROW(tt::utils::checkpoint([](const std::vector<Tensor>&) { return Tensor(); }, {x}),
               tt::ValueError);
}
