// tinytorch/text/tokenizer.h — turning text into token ids and back (module 10).
//
//   auto chars = text::CharTokenizer::train(corpus);          // one id per distinct byte
//   auto bpe = text::BpeTokenizer::train(corpus, 1024, {"<|endoftext|>"});
//   std::vector<int64_t> ids = bpe.encode("Hello, world!<|endoftext|>");
//   std::string back = bpe.decode(ids);                        // == the input, byte for byte
//   bpe.save("runs/bpe.vocab");  auto again = text::BpeTokenizer::load("runs/bpe.vocab");
//
// A language model sees integers, not letters. A tokenizer fixes the alphabet of those integers:
//
//   CharTokenizer  ids = the distinct bytes of the training corpus, sorted (a few dozen to ~100
//                  for English text). Tiny vocabulary, long sequences, and a byte it never saw
//                  cannot be encoded at all (a clear error).
//   BpeTokenizer   byte-level byte-pair encoding (GPT-2's scheme): ids 0..255 are the 256 byte
//                  values, so EVERY byte string can be encoded; training then adds one token per
//                  merge of the most frequent adjacent pair, so frequent words become single ids.
//
// BpeTokenizer's ids, in order:
//
//   0 .. 255                    the bytes 0x00 .. 0xFF
//   256 .. 256 + M - 1          merge i (0-based) makes id 256 + i from merges()[i] = (left, right)
//   256 + M .. vocab_size() - 1 the special tokens, in the order given to train()
//
// Pre-tokenization (GPT-2's way, in ASCII and without its contraction alternatives 's 't 're 've
// 'm 'll 'd, so "It's" gives [It] ['] [s] where GPT-2 gives [It] ['s]): before counting pairs the
// text is cut into chunks — an optional leading space plus a run of letters (A-Z, a-z and every
// byte >= 0x80, so UTF-8 characters stay with their word), of digits, or of other symbols;
// whitespace runs are chunks of their own, except that the last space before a word goes with the
// word; a chunk longer than kMaxTokenBytes (256) is cut into pieces of that length, which bounds
// both the longest token and the work of encoding one chunk. Merges never cross a chunk
// boundary, so " the" can become one token but "e t" never does. Both training and
// encoding cut the same way, which is what makes encoding with merge ranks reproduce training.
//
// Training picks, at every step, the adjacent pair occurring most often in the corpus (each chunk
// weighted by how often it occurs; every position counts, so "aaa" holds (a, a) twice), and
// replaces it left to right ("aaa" becomes [aa, a]); ties go to the smallest (left, right) pair,
// so training is deterministic. It stops early when the most frequent pair occurs fewer than 2
// times (a merge seen once saves one token once), so vocab_size() can be smaller than asked.
//
// Special tokens (e.g. "<|endoftext|>") are strings that always encode to their one id and are
// never split or merged: encode() finds them first (leftmost, and the longest one where two start
// at the same byte) and encodes only the text between them with the merges; train() removes them
// from the corpus before counting pairs. decode() writes their text back, so
// decode(encode(s)) == s still holds. (tiktoken lets the caller disallow them in untrusted text;
// here they are always recognised.)
//
// Files (save/load): a small text format, written atomically (serialize::write_file_atomically):
//
//   tinytorch-bpe 1                 magic and version
//   merges 2                        M, then M lines "left right" (decimal ids)
//   101 32
//   256 116
//   special 1                       S, then S lines: the token's bytes in hexadecimal
//   3c7c656e646f66746578747c3e
//
//   tinytorch-char 1                CharTokenizer: magic and version
//   vocab 3                         V, then one line: the V bytes in hexadecimal, increasing
//   0a2061
//
// load() checks everything (magic, version, counts against their limits and against the lines
// present, ids referring only to earlier tokens, hex digits) and names the file and the line in
// its error; a hostile header cannot make it allocate more than the file's own size.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tinytorch::text {

class CharTokenizer {
 public:
  // An empty vocabulary (encode of anything but "" fails); use train() or load().
  CharTokenizer() = default;
  // The vocabulary from its bytes (any order; must be distinct and non-empty).
  explicit CharTokenizer(std::string_view vocabulary);

  // Vocabulary = the distinct bytes of `corpus`, sorted: id i is the i-th smallest byte value.
  static CharTokenizer train(std::string_view corpus);

  // One id per byte. A byte outside the vocabulary is an error naming it and its position.
  std::vector<int64_t> encode(std::string_view text) const;
  // One byte per id. An id outside [0, vocab_size()) is an error naming it.
  std::string decode(std::span<const int64_t> ids) const;
  int64_t vocab_size() const { return static_cast<int64_t>(id_to_byte_.size()); }
  // The vocabulary's bytes in id order.
  const std::string& vocabulary() const { return id_to_byte_; }

  void save(const std::filesystem::path& path) const;
  static CharTokenizer load(const std::filesystem::path& path);

 private:
  static constexpr std::array<int16_t, 256> kNoIds = [] {
    std::array<int16_t, 256> ids{};
    ids.fill(-1);
    return ids;
  }();

  std::string id_to_byte_;                        // [V] the byte of each id
  std::array<int16_t, 256> byte_to_id_ = kNoIds;  // [256] id of each byte, -1 when not in the vocab
};

class BpeTokenizer {
 public:
  static constexpr int64_t kNumBytes = 256;          // ids 0..255 are the bytes
  static constexpr int64_t kMaxVocabSize = 1 << 18;  // a bound for train() and load()
  static constexpr int64_t kMaxTokenBytes = 256;     // longest chunk, so longest token
  using Merge = std::pair<int64_t, int64_t>;         // (left id, right id)

  // Bytes only: 256 tokens, no merges, no special tokens.
  BpeTokenizer() : BpeTokenizer(std::vector<Merge>{}) {}
  // From a merge list (merge i makes id 256 + i; both ids must be < 256 + i) and special tokens
  // (non-empty, distinct, at most kMaxTokenBytes each). No merge may repeat an earlier one or make
  // a token longer than kMaxTokenBytes. Errors name the bad entry.
  explicit BpeTokenizer(std::vector<Merge> merges, std::vector<std::string> special_tokens = {});

  // Learns vocab_size - 256 - special_tokens.size() merges (see the header comment); vocab_size
  // counts the 256 bytes and the special tokens, so it must be at least 256 + their number.
  static BpeTokenizer train(std::string_view corpus, int64_t vocab_size,
                            std::vector<std::string> special_tokens = {});

  // Special tokens first (never split), the text between them chunk by chunk with the merges.
  std::vector<int64_t> encode(std::string_view text) const;
  // The bytes of every id, concatenated (a special token's text for its id). An id outside
  // [0, vocab_size()) is an error naming it.
  std::string decode(std::span<const int64_t> ids) const;
  int64_t vocab_size() const { return static_cast<int64_t>(token_bytes_.size()); }

  const std::vector<Merge>& merges() const { return merges_; }
  const std::vector<std::string>& special_tokens() const { return special_tokens_; }
  // The id of a special token; an error when `token` is not one.
  int64_t special_token_id(std::string_view token) const;
  // The bytes token `id` stands for.
  const std::string& token_bytes(int64_t id) const;

  void save(const std::filesystem::path& path) const;
  static BpeTokenizer load(const std::filesystem::path& path);

 private:
  // Text repeats its words: within one encode() call each distinct chunk is encoded once.
  using ChunkCache = std::unordered_map<std::string_view, std::vector<int64_t>>;
  // Appends the ids of `text` (no special tokens in it) to `ids`.
  void encode_ordinary(std::string_view text, ChunkCache& cache, std::vector<int64_t>& ids) const;

  std::vector<Merge> merges_;                    // [M]
  std::vector<std::string> special_tokens_;      // [S]
  std::vector<std::string> token_bytes_;         // [256 + M + S] the bytes of every id
  std::unordered_map<uint64_t, int64_t> ranks_;  // pair key (left << 32 | right) -> merge index
};

// Cuts text into the pre-tokenization chunks described above (views into `text`); their
// concatenation is `text`. Exposed for the tests and the chapter's examples.
std::vector<std::string_view> split_chunks(std::string_view text);

}  // namespace tinytorch::text
