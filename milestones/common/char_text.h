// milestones/common/char_text.h — the text every character-level milestone learns and how it is
// measured: milestone 2017 (the GPT) and milestone 1997 (the LSTM) train on it, TinyMLPerf (2018)
// benchmarks on it. Their validation losses can be compared only if all of them read the same
// corpus, split it the same way, number its characters the same way and score the same windows —
// so that is written once, here.
//
//   const CharCorpus text = load_char_corpus(data::kFortunesDir);   // the corpus, split, encoded
//   const auto val = fixed_batches(text.val_tokens, 20, 32, 64);    // the same windows every run
//   double loss = evaluate(model, val);                             // mean nats per character
//
// `model` is any module holder whose forward maps ids [B, T] to logits [B, T, V]: nn::GPT, or the
// LSTM of milestone 1997.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/generator.h"
#include "tinytorch/data/text.h"
#include "tinytorch/nn/functional.h"
#include "tinytorch/text/tokenizer.h"

namespace tinytorch::milestones {

// The fortunes, as every character-level milestone sees them:
//
//   every fortune file ─► corpus ─► CharTokenizer (the distinct bytes: the vocabulary)
//                            └────► split_text: every tenth fortune validates
//                                      ├─► train_tokens  int64 [N_train]
//                                      └─► val_tokens    int64 [N_val]
struct CharCorpus {
  std::string corpus;  // every fortune file, concatenated
  text::CharTokenizer tokenizer;
  data::TextSplit split;
  Tensor train_tokens;
  Tensor val_tokens;
};

// Reads the fortune files in `fortunes_dir` (data::load_fortunes: throws naming the folder when
// it is missing) and builds the vocabulary, the split and the two token streams.
inline CharCorpus load_char_corpus(const std::string& fortunes_dir) {
  CharCorpus c;
  c.corpus = data::load_fortunes(fortunes_dir);
  c.tokenizer = text::CharTokenizer::train(c.corpus);
  c.split = data::split_text(c.corpus);
  c.train_tokens = data::encode_to_tensor(c.tokenizer.encode(c.split.train));
  c.val_tokens = data::encode_to_tensor(c.tokenizer.encode(c.split.validation));
  return c;
}

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
// Model: a module holder (nn::GPT, ...) whose ->forward(ids [B, T]) returns logits [B, T, V].
template <typename Model>
double evaluate(Model& model, const std::vector<std::pair<Tensor, Tensor>>& batches) {
  model->eval();
  const NoGradGuard no_grad;
  double sum = 0.0;
  for (const auto& batch : batches) {
    sum += next_char_loss(model->forward(batch.first), batch.second).template item<double>();
  }
  model->train();
  return sum / static_cast<double>(batches.size());
}

}  // namespace tinytorch::milestones
