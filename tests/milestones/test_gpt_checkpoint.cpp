// Milestone 2017's --checkpoint-segments and --autocast (milestones/common/checkpointed_gpt.h):
// one training step of a small GPT with dropout — loss and every parameter's gradient — is the
// same, bit for bit, with each segment count as with none, in float32 and under bfloat16
// autocast (the recompute re-enters the forward's autocast region), and the caller's random
// stream goes on the same.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/char_text.h"
#include "common/checkpointed_gpt.h"
#include "tinytorch/amp/autocast.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
namespace ms = tinytorch::milestones;
using tt::Tensor;

namespace {

struct Step {
  Tensor loss;
  std::vector<Tensor> grads;
  Tensor next_draw;
};

Step train_step(int64_t segments, bool use_autocast) {
  tt::nn::GPTConfig config;
  config.vocab_size = 11;
  config.block_size = 8;
  config.n_layer = 3;
  config.n_head = 2;
  config.n_embd = 16;
  config.dropout = 0.2;  // the recompute must draw the same masks
  tt::manual_seed(2017);
  tt::nn::GPT model(config);
  model->train();
  tt::Generator data(7);
  const Tensor ids = tt::randint(0, config.vocab_size, {4, 8}, tt::kInt64, &data);
  const Tensor targets = tt::randint(0, config.vocab_size, {4, 8}, tt::kInt64, &data);
  Tensor loss = ms::gpt_training_loss(model, ids, targets, segments, use_autocast);
  loss.backward();  // outside the autocast region, as the milestone's loop
  Step step{loss, {}, tt::rand({1})};
  for (const Tensor& p : model->parameters()) step.grads.push_back(p.grad());
  return step;
}

}  // namespace

void expect_every_segment_count_gives_the_plain_step(bool use_autocast) {
  const Step plain = train_step(0, use_autocast);
  for (int64_t segments = 1; segments <= 3; ++segments) {
    SCOPED_TRACE("segments = " + std::to_string(segments));
    const Step ckpt = train_step(segments, use_autocast);
    EXPECT_TRUE(ckpt.loss.equal(plain.loss));
    ASSERT_EQ(ckpt.grads.size(), plain.grads.size());
    for (size_t i = 0; i < plain.grads.size(); ++i) {
      ASSERT_TRUE(ckpt.grads[i].defined()) << "parameter " << i;
      EXPECT_TRUE(ckpt.grads[i].equal(plain.grads[i])) << "parameter " << i;
    }
    EXPECT_TRUE(ckpt.next_draw.equal(plain.next_draw));
  }
}

TEST(GptCheckpoint, EverySegmentCountGivesThePlainLossAndGradients) {
  expect_every_segment_count_gives_the_plain_step(false);
}

// Under autocast the checkpointed segments must be recomputed in bfloat16 too: a recompute in
// float32 would give other activations, so other gradients (utils::checkpoint restores the
// forward's autocast state; without that this test fails).
TEST(GptCheckpoint, UnderAutocastEverySegmentCountGivesThePlainLossAndGradients) {
  expect_every_segment_count_gives_the_plain_step(true);
}

// --autocast bf16's step: the loss is float32 (cross-entropy is on autocast's float32 list) but
// not the float32 step's (the linear layers ran in bfloat16), the parameters stay float32 with
// float32 gradients, and no autocast state is left behind for the evaluation that follows.
TEST(GptCheckpoint, AutocastStepHasAFloat32LossAndFloat32Gradients) {
  const Step plain = train_step(0, false);
  const Step mixed = train_step(0, true);
  EXPECT_FALSE(tt::autocast::is_cpu_enabled());
  EXPECT_EQ(mixed.loss.dtype(), tt::kFloat32);
  EXPECT_FALSE(mixed.loss.equal(plain.loss));
  // The same loss to bfloat16's precision: about ln 11 ≈ 2.40 at initialisation, and the bound
  // 0.01 ≈ 2^-8 · 2.40 is what ONE bfloat16 rounding of the loss itself could move it (unit
  // roundoff 2^-8). The roundings in the step reach the float32 loss only through the small
  // initial logits (weights N(0, 0.02)): measured 3.7e-4. A step computed wrongly (float16, a
  // missing layer) is not a rounding away.
  EXPECT_NEAR(mixed.loss.item<double>(), plain.loss.item<double>(), 0.01);
  ASSERT_EQ(mixed.grads.size(), plain.grads.size());
  for (size_t i = 0; i < mixed.grads.size(); ++i) {
    ASSERT_TRUE(mixed.grads[i].defined()) << "parameter " << i;
    EXPECT_EQ(mixed.grads[i].dtype(), tt::kFloat32) << "parameter " << i;
  }
}

TEST(GptCheckpoint, RefusesMoreSegmentsThanBlocks) {
  tt::nn::GPTConfig config;
  config.vocab_size = 5;
  config.block_size = 4;
  config.n_layer = 2;
  config.n_head = 1;
  config.n_embd = 8;
  tt::nn::GPT model(config);
  const Tensor ids = tt::zeros({1, 4}, tt::kInt64);
  for (const int64_t segments : {-1, 3}) {
    try {
      ms::gpt_forward(model, ids, segments);
      ADD_FAILURE() << "segments = " << segments << " was accepted";
    } catch (const tt::ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("segments = " + std::to_string(segments)),
                std::string::npos)
          << e.what();
    }
  }
}
