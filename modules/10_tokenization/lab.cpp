// Module 10 lab — what a bigger vocabulary buys: BPE on Debian's fortunes text.
//
//   ./tito lab 10            vocabularies 256 ... 4096 trained on the training split (~2.3 MB)
//   ./tito lab 10 --quick    256 ... 1024 on the first 400 KB: a few seconds
//
// For each vocabulary size it trains a byte-level BpeTokenizer on the training split, then
// encodes the validation split (text the tokenizer never saw) and reports:
//   bytes/token   compression: how many bytes of text one token covers on average
//   tokens        the validation split's length in tokens — what a model must process
//   train s       training time (incremental pair counts)
//   encode MB/s   encoding speed (median of 3), decode MB/s likewise
//   emb MiB       the embedding table a GPT would need: V x 768 float32 (GPT-2 small's width)
// and, for comparison, the character tokenizer. Figures vary run to run and machine to machine
// (this machine may be busy): run it on yours.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "lab_support/lab_support.h"
#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
namespace lab = tinytorch::lab;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Median seconds of 3 timed calls of f (after one untimed call).
template <typename F>
double median_seconds(F&& f) {
  f();
  std::vector<double> times;
  for (int r = 0; r < 3; ++r) {
    const auto t0 = Clock::now();
    f();
    times.push_back(seconds_since(t0));
  }
  return lab::median(times);
}

// A token's bytes as text a terminal shows faithfully, the way Python prints a bytes object:
// printable ASCII as itself, \\ and \' escaped, every other byte as \xNN. A token is bytes, not
// characters: the fortunes text has backspaces (overstrike: "_\b" underlines) that a merge can
// join into a token, and a byte-level merge can hold half of a UTF-8 character — printed raw,
// the first erases what came before it and the second prints as garbage.
std::string printable(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    if (ch == '\\' || ch == '\'') {
      out += '\\';
      out += ch;
    } else if (b >= 0x20 && b < 0x7f) {
      out += ch;
    } else {
      out += {'\\', 'x', kHex[b >> 4], kHex[b & 0xf]};
    }
  }
  return out;
}

// The text cut at token boundaries: "The| quick| brown".
template <typename Tokenizer>
std::string show_tokens(const Tokenizer& tok, const std::string& text) {
  std::string out;
  for (const int64_t id : tok.encode(text)) {
    if (!out.empty()) out += "|";
    const std::vector<int64_t> one{id};
    out += printable(tok.decode(one));
  }
  return out;
}

constexpr int64_t kEmbeddingDim = 768;  // GPT-2 small

}  // namespace

int main(int argc, char** argv) {
  const lab::CommandLine cli{
      .name = "lab10",
      .quick_help = "vocabularies up to 1024 on the first 400 KB of the corpus: a few seconds",
      .json = false};
  lab::Options opts;
  if (const auto rc = lab::parse_command_line(argc, argv, cli, opts)) return *rc;
  const bool quick = opts.quick;
  try {
    lab::print_title("TinyTorch module 10 lab — tokenization: vocabulary size vs sequence length",
                     quick ? " (--quick: 400 KB, vocabularies up to 1024)" : "");
    auto t0 = Clock::now();
    std::string corpus = tt::data::load_fortunes();
    const double load_s = seconds_since(t0);
    if (quick) corpus.resize(std::min<size_t>(corpus.size(), 400'000));
    const tt::data::TextSplit split = tt::data::split_text(corpus, 0.1);
    const double val_mb = static_cast<double>(split.validation.size()) / 1e6;
    std::cout << "\ncorpus: " << corpus.size() << " bytes (load_fortunes " << lab::fixed(load_s, 3)
              << " s); train " << split.train.size() << " bytes, validation "
              << split.validation.size() << " bytes\n\n";

    // The character tokenizer, trained on the whole corpus (a byte first seen in the validation
    // split would otherwise be an error).
    const tt::text::CharTokenizer chars = tt::text::CharTokenizer::train(corpus);
    const tt::text::CharTokenizer train_chars = tt::text::CharTokenizer::train(split.train);
    int64_t unseen = 0;
    for (const char c : split.validation) {
      unseen += train_chars.vocabulary().find(c) == std::string::npos ? 1 : 0;
    }
    std::vector<int64_t> char_ids;
    const double char_enc_s = median_seconds([&] { char_ids = chars.encode(split.validation); });

    lab::Table table({"tokenizer", "vocab", "merges", "bytes/token", "val tokens", "train s",
                      "encode MB/s", "decode MB/s", "emb MiB"});
    table.add(
        {"characters", std::to_string(chars.vocab_size()), "-", "1.00",
         std::to_string(char_ids.size()), "-", lab::fixed(val_mb / char_enc_s, 1), "-",
         lab::fixed(static_cast<double>(chars.vocab_size() * kEmbeddingDim * 4) / (1 << 20), 2)});
    std::vector<int64_t> sizes{256, 512, 1024};
    if (!quick) {
      sizes.push_back(2048);
      sizes.push_back(4096);
    }
    tt::text::BpeTokenizer largest;
    for (const int64_t v : sizes) {
      t0 = Clock::now();
      const tt::text::BpeTokenizer bpe = tt::text::BpeTokenizer::train(split.train, v);
      const double train_s = seconds_since(t0);
      std::vector<int64_t> ids;
      const double enc_s = median_seconds([&] { ids = bpe.encode(split.validation); });
      std::string back;
      const double dec_s = median_seconds([&] { back = bpe.decode(ids); });
      TT_CHECK(back == split.validation, "lab10: decode(encode(text)) != text");
      table.add(
          {"byte BPE", std::to_string(bpe.vocab_size()), std::to_string(bpe.merges().size()),
           lab::fixed(
               static_cast<double>(split.validation.size()) / static_cast<double>(ids.size()), 2),
           std::to_string(ids.size()), lab::fixed(train_s, 2), lab::fixed(val_mb / enc_s, 1),
           lab::fixed(val_mb / dec_s, 0),
           lab::fixed(static_cast<double>(bpe.vocab_size() * kEmbeddingDim * 4) / (1 << 20), 2)});
      largest = bpe;
    }
    table.print();
    std::cout << "\n(bytes/token and tokens on the validation split; emb = vocab x "
              << kEmbeddingDim << " float32)\n";
    std::cout << "validation bytes a character vocabulary trained on the train split lacks: "
              << unseen << "\n\n";

    // What the largest vocabulary learned.
    const auto& merges = largest.merges();
    std::cout << "the largest vocabulary (" << largest.vocab_size() << " tokens):\n  first merges:";
    for (size_t i = 0; i < std::min<size_t>(8, merges.size()); ++i) {
      std::cout << " '" << printable(largest.token_bytes(256 + static_cast<int64_t>(i))) << "'";
    }
    std::cout << "\n  last merges: ";
    for (size_t i = merges.size() >= 6 ? merges.size() - 6 : 0; i < merges.size(); ++i) {
      std::cout << " '" << printable(largest.token_bytes(256 + static_cast<int64_t>(i))) << "'";
    }
    const std::string sample = "The quick brown fox jumps over the lazy programmer.";
    std::cout << "\n  " << show_tokens(largest, sample) << "\n";
    std::cout << "  characters: " << chars.encode(sample).size()
              << " tokens; BPE: " << largest.encode(sample).size() << " tokens\n";
  } catch (const std::exception& e) {
    std::cerr << "lab10: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
