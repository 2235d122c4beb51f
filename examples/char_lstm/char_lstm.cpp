// A character-level LSTM language model on the fortunes text (Debian's fortunes-min): read the
// text, map each character to an index, train Embedding → LSTM → Linear to predict the next
// character of each window, then sample new text one character at a time, feeding the LSTM's
// state forward.
//
//   build/release/bin/example_char_lstm [--steps N] [--data FILE]
//   build/release/bin/example_char_lstm --fixed   closed-form init, dropout off, the windows in
//                                                 order: the losses match
//                                                 tools/reference/gen_examples.py
#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include "common/fixed_run.h"

namespace {

constexpr int64_t kWindow = 64;  // characters per training window
constexpr int64_t kBatch = 16;   // windows per step
constexpr int64_t kEmbedding = 32;
constexpr int64_t kHidden = 128;

struct CharLSTMImpl : torch::nn::Module {
  CharLSTMImpl(int64_t vocab, double dropout)
      : embed(register_module("embed", torch::nn::Embedding(vocab, kEmbedding))),
        lstm(register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(kEmbedding, kHidden)
                                                         .num_layers(2)
                                                         .dropout(dropout)
                                                         .batch_first(true)))),
        head(register_module("head", torch::nn::Linear(kHidden, vocab))) {}

  // tokens [B, T] → logits [B, T, vocab], and the LSTM's (h, c) after the last step.
  std::tuple<torch::Tensor, std::tuple<torch::Tensor, torch::Tensor>> forward(
      const torch::Tensor& tokens,
      std::optional<std::tuple<torch::Tensor, torch::Tensor>> state = std::nullopt) {
    auto [output, next] = lstm(embed(tokens), state);  // output [B, T, hidden]
    return {head(output), next};
  }

  torch::nn::Embedding embed;
  torch::nn::LSTM lstm;
  torch::nn::Linear head;
};
TORCH_MODULE(CharLSTM);

}  // namespace

int main(int argc, char** argv) {
  const auto options = examples::parse_options(argc, argv, /*default_steps=*/300);
  const std::string path =
      options.data.empty() ? "/usr/share/games/fortunes/fortunes" : options.data;
  torch::manual_seed(1);

  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "cannot read " << path << " (Debian: fortunes-min)\n";
    return 1;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The vocabulary: the distinct bytes of the text, in byte order; id_of maps a byte to its index.
  std::array<bool, 256> seen{};
  for (const char c : text) seen[static_cast<unsigned char>(c)] = true;
  std::string vocab;
  std::array<int64_t, 256> id_of{};
  for (int b = 0; b < 256; ++b) {
    if (!seen[b]) continue;
    id_of[b] = static_cast<int64_t>(vocab.size());
    vocab += static_cast<char>(b);
  }
  std::vector<int64_t> ids(text.size());
  for (size_t i = 0; i < text.size(); ++i) ids[i] = id_of[static_cast<unsigned char>(text[i])];
  const torch::Tensor data = torch::tensor(ids);  // [n] int64
  const auto n_vocab = static_cast<int64_t>(vocab.size());
  if (!options.fixed) {
    std::printf("%zu characters, a vocabulary of %lld\n", text.size(),
                static_cast<long long>(n_vocab));
  }

  CharLSTM model(n_vocab, options.fixed ? 0.0 : 0.1);
  if (options.fixed) examples::fixed_init(*model);
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(3e-3));

  const int64_t windows = (data.size(0) - 1) / kWindow;
  for (int64_t step = 1; step <= options.steps; ++step) {
    // kBatch windows: random starts, or consecutive windows in a fixed run.
    torch::Tensor starts = torch::randint(0, data.size(0) - kWindow - 1, {kBatch});
    if (options.fixed) {
      std::vector<int64_t> consecutive(kBatch);
      for (int64_t b = 0; b < kBatch; ++b) {
        consecutive[static_cast<size_t>(b)] = (((step - 1) * kBatch + b) % windows) * kWindow;
      }
      starts = torch::tensor(consecutive);
    }
    const torch::Tensor offsets = torch::arange(kWindow);                    // [T]
    const torch::Tensor index = starts.unsqueeze(1) + offsets.unsqueeze(0);  // [B, T]
    const torch::Tensor x = data.index({index});
    const torch::Tensor y = data.index({index + 1});  // each position's next character

    optimizer.zero_grad();
    auto [logits, state] = model(x);
    torch::Tensor loss =
        torch::nn::functional::cross_entropy(logits.reshape({-1, n_vocab}), y.reshape({-1}));
    loss.backward();
    torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
    optimizer.step();
    examples::report(options, step, loss.item<double>(), /*every=*/50);
  }

  if (options.fixed) return 0;
  // Sampling: one character at a time, the state carried forward. Each draw inverts the
  // cumulative distribution: the index of the first cumulative probability above u ~ U(0, 1).
  torch::NoGradGuard no_grad;
  model->eval();
  std::string sample = text.substr(0, 2);  // the prompt: the text's first two characters
  std::optional<std::tuple<torch::Tensor, torch::Tensor>> state;
  torch::Tensor next = data.index({torch::indexing::Slice(0, 2)}).unsqueeze(0);  // [1, 2]
  for (int i = 0; i < 300; ++i) {
    auto [logits, new_state] = model(next, state);
    state = new_state;
    const torch::Tensor probs = torch::softmax(logits.select(1, -1).squeeze(0) / 0.8, 0);
    const torch::Tensor u = torch::rand({1});
    const int64_t c = std::min<int64_t>(probs.cumsum(0).lt(u).sum().item<int64_t>(), n_vocab - 1);
    sample += vocab[static_cast<size_t>(c)];
    next = torch::tensor(std::vector<int64_t>{c}).unsqueeze(0);
  }
  std::printf("sample:\n%s\n", sample.c_str());
}
