// milestones/common/char_gpt.h — how the character-level GPT milestones measure a model: milestone
// 2017 while it trains, TinyMLPerf (2018) when it benchmarks the trained model. Both must compute
// "the validation loss" the same way, on the same windows, or their numbers could not be compared.
//
//   const auto val = fixed_batches(val_tokens, 20, 32, 64);   // the same windows in every run
//   double loss = evaluate(model, val);                      // mean nats per character
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/data/text.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/nn/modules/transformer.h"

namespace tinytorch::milestones {

// The validation loss milestone 2017 must reach, and that TinyMLPerf requires of its reference.
inline constexpr double kGptTargetValLoss = 1.60;  // nats per character

// `count` batches of windows of `tokens` drawn with their own generator (seeded 1): the same
// windows at every evaluation and in every run.
inline std::vector<std::pair<Tensor, Tensor>> fixed_batches(const Tensor& tokens, int64_t count,
                                                            int64_t batch, int64_t context) {
  Generator gen(1);
  std::vector<std::pair<Tensor, Tensor>> out;
  for (int64_t i = 0; i < count; ++i)
    out.push_back(data::random_windows(tokens, batch, context, gen));
  return out;
}

// The mean next-character cross-entropy of logits [B, T, V] against targets [B, T].
inline Tensor next_char_loss(const Tensor& logits, const Tensor& targets) {
  const int64_t vocab = logits.size(-1);
  return nn::functional::cross_entropy(logits.reshape({-1, vocab}), targets.reshape({-1}));
}

// The mean loss over `batches`, in eval mode without a graph; the model is left in train mode.
inline double evaluate(nn::GPT& model, const std::vector<std::pair<Tensor, Tensor>>& batches) {
  model->eval();
  const NoGradGuard no_grad;
  double sum = 0.0;
  for (const auto& batch : batches) {
    sum += next_char_loss(model->forward(batch.first), batch.second).item<double>();
  }
  model->train();
  return sum / static_cast<double>(batches.size());
}

}  // namespace tinytorch::milestones
