// Module 22, Part 8 — activation checkpointing's recompute (tinytorch/src/utils/checkpoint.cpp):
// the gradients of a checkpointed network are the plain run's bit for bit, for one block, for
// every segment count of checkpoint_sequential, and with dropout (the recompute draws the
// forward's mask, and the caller's random stream is left as it was); an input that does not
// require grad gets none; and the forward keeps fewer bytes alive.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "tinytorch/core/allocator.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/utils/checkpoint.h"

namespace tinytorch {
namespace {

// Linear → GELU → Dropout(p), `blocks` times, width 24.
nn::Sequential blocks(int64_t n, double p) {
  manual_seed(7);
  nn::Sequential seq;
  for (int64_t i = 0; i < n; ++i) {
    seq->push_back(nn::Linear(24, 24));
    seq->push_back(nn::GELU());
    seq->push_back(nn::Dropout(p));
  }
  return seq;
}

struct Step {
  Tensor output, input_grad, after;  // after: the default generator's next draw
  std::vector<Tensor> param_grads;
};

// One forward + backward from seed 3, `forward` plain or checkpointed.
Step step(nn::Sequential& seq, const std::function<Tensor(const Tensor&)>& forward) {
  manual_seed(3);
  Tensor x = randn({5, 24}).requires_grad_();
  for (Tensor& p : seq->parameters()) p.mutable_grad() = Tensor();
  Tensor y = forward(x);
  (y * y).sum().backward();
  Step s{y, x.grad(), rand({1}), {}};
  for (const Tensor& p : seq->parameters()) s.param_grads.push_back(p.grad());
  return s;
}

void expect_bit_identical(const Step& plain, const Step& checkpointed) {
  EXPECT_TRUE(plain.output.equal(checkpointed.output)) << "the forward's output differs";
  ASSERT_TRUE(checkpointed.input_grad.defined()) << "the input got no gradient";
  EXPECT_TRUE(plain.input_grad.equal(checkpointed.input_grad)) << "the input's gradient differs";
  ASSERT_EQ(plain.param_grads.size(), checkpointed.param_grads.size());
  for (size_t i = 0; i < plain.param_grads.size(); ++i) {
    ASSERT_TRUE(checkpointed.param_grads[i].defined()) << "parameter " << i << " got no gradient";
    EXPECT_TRUE(plain.param_grads[i].equal(checkpointed.param_grads[i]))
        << "parameter " << i << "'s gradient differs";
  }
  EXPECT_TRUE(plain.after.equal(checkpointed.after)) << "the caller's random stream moved";
}

TEST(CheckpointRecompute, OneBlockGivesThePlainGradientsBitForBit) {
  nn::Sequential seq = blocks(3, 0.0);
  const Step plain = step(seq, [&](const Tensor& x) { return seq->forward(x); });
  const Step checkpointed = step(seq, [&](const Tensor& x) {
    return utils::checkpoint([&](const Tensor& in) { return seq->forward(in); }, x);
  });
  expect_bit_identical(plain, checkpointed);
}

TEST(CheckpointRecompute, EverySegmentCountGivesThePlainGradients) {
  nn::Sequential seq = blocks(3, 0.0);  // 9 modules
  const Step plain = step(seq, [&](const Tensor& x) { return seq->forward(x); });
  for (int64_t segments = 1; segments <= 9; ++segments) {
    SCOPED_TRACE(testing::Message() << segments << " segments");
    expect_bit_identical(plain, step(seq, [&](const Tensor& x) {
                           return utils::checkpoint_sequential(seq, segments, x);
                         }));
  }
}

TEST(CheckpointRecompute, DropoutDrawsTheForwardsMaskAgain) {
  nn::Sequential seq = blocks(2, 0.4);
  seq->train();
  const Step plain = step(seq, [&](const Tensor& x) { return seq->forward(x); });
  for (const int64_t segments : {2, 3, 6}) {
    SCOPED_TRACE(testing::Message() << segments << " segments");
    expect_bit_identical(plain, step(seq, [&](const Tensor& x) {
                           return utils::checkpoint_sequential(seq, segments, x);
                         }));
  }
}

TEST(CheckpointRecompute, OnlyInputsThatRequireGradGetOne) {
  manual_seed(1);
  Tensor a = randn({3, 4}).requires_grad_();
  const Tensor c = randn({3, 4});  // a constant: no gradient
  Tensor y = utils::checkpoint([](const std::vector<Tensor>& in) { return (in[0] * in[1]).tanh(); },
                               {a, c});
  y.sum().backward();
  const Tensor expected = c * (1 - (a * c).tanh().pow(2));  // d tanh(a·c) / da
  EXPECT_TRUE(allclose(a.grad(), expected.detach(), 1e-6, 1e-6));
  EXPECT_FALSE(c.grad().defined());
}

TEST(CheckpointRecompute, TheForwardKeepsOnlyTheInputs) {
  nn::Sequential seq = blocks(4, 0.0);
  const auto live_after_forward = [&](int64_t segments) {
    Allocator* allocator = get_allocator();
    manual_seed(3);
    const Tensor x = randn({64, 24}).requires_grad_();
    const int64_t before = allocator->stats().live_bytes;
    const Tensor y =
        segments == 0 ? seq->forward(x) : utils::checkpoint_sequential(seq, segments, x);
    return allocator->stats().live_bytes - before;
  };
  // Plain: every block's activations are kept for backward. Four segments: the three
  // checkpointed ones keep their input only, the last keeps its activations.
  EXPECT_LT(live_after_forward(4), live_after_forward(0));
}

}  // namespace
}  // namespace tinytorch
