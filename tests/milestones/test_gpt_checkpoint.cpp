// Milestone 2017's --checkpoint-segments (milestones/common/checkpointed_gpt.h): one training
// step of a small GPT with dropout — loss and every parameter's gradient — is the same, bit for
// bit, with each segment count as with none, and the caller's random stream goes on the same.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/char_text.h"
#include "common/checkpointed_gpt.h"
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

Step train_step(int64_t segments) {
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
  Tensor loss = ms::next_char_loss(ms::gpt_forward(model, ids, segments), targets);
  loss.backward();
  Step step{loss, {}, tt::rand({1})};
  for (const Tensor& p : model->parameters()) step.grads.push_back(p.grad());
  return step;
}

}  // namespace

TEST(GptCheckpoint, EverySegmentCountGivesThePlainLossAndGradients) {
  const Step plain = train_step(0);
  for (int64_t segments = 1; segments <= 3; ++segments) {
    SCOPED_TRACE("segments = " + std::to_string(segments));
    const Step ckpt = train_step(segments);
    EXPECT_TRUE(ckpt.loss.equal(plain.loss));
    ASSERT_EQ(ckpt.grads.size(), plain.grads.size());
    for (size_t i = 0; i < plain.grads.size(); ++i) {
      ASSERT_TRUE(ckpt.grads[i].defined()) << "parameter " << i;
      EXPECT_TRUE(ckpt.grads[i].equal(plain.grads[i])) << "parameter " << i;
    }
    EXPECT_TRUE(ckpt.next_draw.equal(plain.next_draw));
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
