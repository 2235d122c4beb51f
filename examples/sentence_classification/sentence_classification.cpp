// A convolutional sentence classifier (Kim 2014): which of five fortune files — computers,
// food, love, science, sports (Debian's fortunes package) — does a fortune come from?
// Words → embeddings → 1-D convolutions of widths 3, 4 and 5 → max over time → dropout →
// a linear layer over the five topics. Every fifth fortune of each file is held out for testing.
//
//   build/release/bin/example_sentence_classification [--steps EPOCHS] [--data DIR]
//   build/release/bin/example_sentence_classification --fixed   closed-form init, dropout off,
//       the batches in order: the losses match tools/reference/gen_examples.py
#include <torch/torch.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "common/fixed_run.h"

namespace {

constexpr std::array<const char*, 5> kTopics = {"computers", "food", "love", "science", "sports"};
constexpr int64_t kMaxWords = 40;  // longer fortunes are cut, shorter ones padded
constexpr int64_t kEmbedding = 64;
constexpr int64_t kFilters = 32;  // per convolution width
constexpr int64_t kBatch = 32;
constexpr int64_t kPad = 0, kUnknown = 1;

struct Fortune {
  std::vector<std::string> words;
  int64_t topic;
  int64_t position;  // its index in its file
};

// The fortunes of one file: the text between lines that are exactly "%", each lowercased and
// cut into words of letters and apostrophes.
std::vector<std::vector<std::string>> read_fortunes(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path + " (Debian: fortunes)");
  std::vector<std::vector<std::string>> fortunes(1);
  std::string line, word;
  while (std::getline(in, line)) {
    if (line == "%") {
      if (!fortunes.back().empty()) fortunes.emplace_back();
      continue;
    }
    for (const char c : line + " ") {
      const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if ((lower >= 'a' && lower <= 'z') || lower == '\'') {
        word += lower;
      } else if (!word.empty()) {
        fortunes.back().push_back(word);
        word.clear();
      }
    }
  }
  if (fortunes.back().empty()) fortunes.pop_back();
  return fortunes;
}

// Words → ids [n, kMaxWords]; a word not in the vocabulary is kUnknown, padding kPad.
torch::Tensor encode(const std::vector<Fortune>& set, const std::map<std::string, int64_t>& vocab) {
  std::vector<int64_t> ids(set.size() * kMaxWords, kPad);
  for (size_t i = 0; i < set.size(); ++i) {
    for (size_t w = 0; w < set[i].words.size() && w < static_cast<size_t>(kMaxWords); ++w) {
      const auto it = vocab.find(set[i].words[w]);
      ids[i * kMaxWords + w] = it == vocab.end() ? kUnknown : it->second;
    }
  }
  return torch::tensor(ids).view({static_cast<int64_t>(set.size()), kMaxWords});
}

torch::Tensor topics(const std::vector<Fortune>& set) {
  std::vector<int64_t> t;
  for (const Fortune& f : set) t.push_back(f.topic);
  return torch::tensor(t);
}

struct TextCNNImpl : torch::nn::Module {
  TextCNNImpl(int64_t vocab, double dropout)
      : embed(register_module("embed", torch::nn::Embedding(vocab, kEmbedding))),
        conv3(register_module("conv3", torch::nn::Conv1d(kEmbedding, kFilters, 3))),
        conv4(register_module("conv4", torch::nn::Conv1d(kEmbedding, kFilters, 4))),
        conv5(register_module("conv5", torch::nn::Conv1d(kEmbedding, kFilters, 5))),
        drop(register_module("drop", torch::nn::Dropout(dropout))),
        fc(register_module("fc", torch::nn::Linear(3 * kFilters, kTopics.size()))) {}

  torch::Tensor forward(const torch::Tensor& ids) {      // [B, L]
    const torch::Tensor x = embed(ids).transpose(1, 2);  // [B, E, L]: channels first
    std::vector<torch::Tensor> pooled;
    for (auto& conv : {conv3, conv4, conv5}) {
      pooled.push_back(std::get<0>(torch::relu(conv(x)).max(2)));  // [B, F]: max over time
    }
    return fc(drop(torch::cat(pooled, 1)));  // [B, 5]
  }

  torch::nn::Embedding embed;
  torch::nn::Conv1d conv3, conv4, conv5;
  torch::nn::Dropout drop;
  torch::nn::Linear fc;
};
TORCH_MODULE(TextCNN);

}  // namespace

int main(int argc, char** argv) {
  const auto options = examples::parse_options(argc, argv, /*default_steps=*/8);
  const std::string dir = options.data.empty() ? "/usr/share/games/fortunes" : options.data;
  torch::manual_seed(1);

  // Every fifth fortune of each file is a test fortune. The training set is ordered round-robin
  // over the files (position, then topic), so that consecutive batches mix the topics.
  std::vector<Fortune> train_set, test_set;
  for (size_t t = 0; t < kTopics.size(); ++t) {
    const auto fortunes = read_fortunes(dir + "/" + kTopics[t]);
    for (size_t i = 0; i < fortunes.size(); ++i) {
      (i % 5 == 4 ? test_set : train_set)
          .push_back({fortunes[i], static_cast<int64_t>(t), static_cast<int64_t>(i)});
    }
  }
  std::stable_sort(train_set.begin(), train_set.end(), [](const Fortune& a, const Fortune& b) {
    return a.position != b.position ? a.position < b.position : a.topic < b.topic;
  });
  // The vocabulary: training words seen at least twice, in alphabetical order, after pad/unknown.
  std::map<std::string, int64_t> counts, vocab;
  for (const Fortune& f : train_set) {
    for (const auto& w : f.words) ++counts[w];
  }
  for (const auto& [w, n] : counts) {
    if (n >= 2) vocab.emplace(w, static_cast<int64_t>(vocab.size()) + 2);
  }
  const torch::Tensor train_x = encode(train_set, vocab), train_y = topics(train_set);
  const torch::Tensor test_x = encode(test_set, vocab), test_y = topics(test_set);
  if (!options.fixed) {
    std::printf("%zu training and %zu test fortunes, %zu words in the vocabulary\n",
                train_set.size(), test_set.size(), vocab.size() + 2);
  }

  TextCNN model(static_cast<int64_t>(vocab.size()) + 2, options.fixed ? 0.0 : 0.5);
  if (options.fixed) examples::fixed_init(*model);
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));

  const int64_t n = train_x.size(0);
  int64_t step = 0;
  for (int64_t epoch = 1; epoch <= options.steps; ++epoch) {
    model->train();
    // A new order every epoch, or the fixed order in a fixed run.
    const torch::Tensor order = options.fixed ? torch::arange(n) : torch::randperm(n);
    for (int64_t start = 0; start < n; start += kBatch) {
      const torch::Tensor batch = order.slice(0, start, std::min(start + kBatch, n));
      optimizer.zero_grad();
      torch::Tensor loss = torch::nn::functional::cross_entropy(model(train_x.index({batch})),
                                                                train_y.index({batch}));
      loss.backward();
      optimizer.step();
      examples::report(options, ++step, loss.item<double>(), /*every=*/1 << 30);
      if (options.fixed && step == 20) return 0;  // a fixed run compares the first 20 batches
    }
    torch::NoGradGuard no_grad;
    model->eval();
    const double accuracy =
        model(test_x).argmax(1).eq(test_y).to(torch::kFloat64).mean().item<double>();
    std::printf("epoch %lld  test accuracy %.3f (5 topics: chance is 0.2)\n",
                static_cast<long long>(epoch), accuracy);
  }
}
