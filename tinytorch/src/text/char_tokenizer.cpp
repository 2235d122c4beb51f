// CharTokenizer: one token per distinct byte of the training corpus (module 10).
// See tinytorch/text/tokenizer.h.
#include <algorithm>

#include "text_file.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/serialize/archive.h"
#include "tinytorch/text/tokenizer.h"

namespace tinytorch::text {

// NOTE: the invariant every method relies on: byte_to_id_[id_to_byte_[i]] == i for every id i,
// and byte_to_id_[b] == -1 for every byte b not in the vocabulary.
CharTokenizer::CharTokenizer(std::string_view vocabulary) : id_to_byte_(vocabulary) {
  TT_CHECK_VALUE(!vocabulary.empty(),
                 "CharTokenizer: the vocabulary is empty; expected 1 to 256 "
                 "distinct bytes");
  for (size_t i = 0; i < vocabulary.size(); ++i) {
    const auto b = static_cast<unsigned char>(vocabulary[i]);
    TT_CHECK_VALUE(byte_to_id_[b] == -1, "CharTokenizer: byte 0x", std::hex, int{b}, std::dec,
                   " appears twice in the vocabulary (ids ", byte_to_id_[b], " and ", i,
                   "); expected distinct bytes");
    byte_to_id_[b] = static_cast<int16_t>(i);
  }
}

CharTokenizer CharTokenizer::train(std::string_view corpus) {
  // BEGIN SOLUTION
  TT_CHECK_VALUE(!corpus.empty(),
                 "CharTokenizer::train: the corpus is empty; expected at least "
                 "one byte of text");
  std::array<bool, 256> seen{};
  for (const char c : corpus) seen[static_cast<unsigned char>(c)] = true;
  std::string vocabulary;  // the distinct bytes in increasing order: id i = i-th smallest byte
  for (int b = 0; b < 256; ++b) {
    if (seen[b]) vocabulary += static_cast<char>(b);
  }
  return CharTokenizer(vocabulary);
  // END SOLUTION
}

std::vector<int64_t> CharTokenizer::encode(std::string_view text) const {
  // BEGIN SOLUTION
  std::vector<int64_t> ids(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    const int16_t id = byte_to_id_[b];
    TT_CHECK_VALUE(id >= 0, "CharTokenizer::encode: byte 0x", std::hex, int{b}, std::dec,
                   " at position ", i, " is not in the vocabulary of ", vocab_size(),
                   " characters (train the tokenizer on text that contains it, or use "
                   "BpeTokenizer, which encodes every byte)");
    ids[i] = id;
  }
  return ids;
  // END SOLUTION
}

std::string CharTokenizer::decode(std::span<const int64_t> ids) const {
  // BEGIN SOLUTION
  std::string text(ids.size(), '\0');
  for (size_t i = 0; i < ids.size(); ++i) {
    TT_CHECK_INDEX(ids[i] >= 0 && ids[i] < vocab_size(), "CharTokenizer::decode: id ", ids[i],
                   " at position ", i, " is out of range for a vocabulary of ", vocab_size(),
                   " tokens");
    text[i] = id_to_byte_[static_cast<size_t>(ids[i])];
  }
  return text;
  // END SOLUTION
}

void CharTokenizer::save(const std::filesystem::path& path) const {
  TT_CHECK_VALUE(!id_to_byte_.empty(),
                 "CharTokenizer::save: the vocabulary is empty (train or "
                 "load the tokenizer first)");
  const std::string text = "tinytorch-char 1\nvocab " + std::to_string(vocab_size()) + "\n" +
                           detail::to_hex(id_to_byte_) + "\n";
  serialize::write_file_atomically(path.string(), text);
}

CharTokenizer CharTokenizer::load(const std::filesystem::path& path) {
  detail::VocabFileReader in(path, "tinytorch-char", "CharTokenizer::load");
  const int64_t size = in.read_count("vocab", 256);
  const std::string vocabulary = in.read_hex("the vocabulary bytes");
  if (size == 0 || static_cast<int64_t>(vocabulary.size()) != size) {
    in.fail("has " + std::to_string(vocabulary.size()) + " vocabulary bytes, but its header says " +
            std::to_string(size) + " (expected 1 to 256)");
  }
  in.expect_end();
  try {
    return CharTokenizer(vocabulary);
  } catch (const ValueError& e) {
    in.fail_contents(e.what());
  }
}

}  // namespace tinytorch::text
