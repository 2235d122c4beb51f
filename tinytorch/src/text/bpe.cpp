// BpeTokenizer: byte-level byte-pair encoding (module 10). See tinytorch/text/tokenizer.h.
//
// Training, on the chunk counts of the corpus (each distinct chunk is a "word" with a count):
//
//   words      " the" x 812 -> [32, 116, 104, 101]     " then" x 40 -> [32, 116, 104, 101, 110]
//   PairCounts (32,116): 852  (116,104): 852  (104,101): 852  (101,110): 40  ...
//   where      (116,104) -> {word 0, word 1}            which words hold a pair
//
//   repeat: best = most frequent pair (ties: smallest); new id = 256 + merge index;
//           for each word holding best: take its pairs out of the counts, merge best in it,
//           put its new pairs in (only these words change, so a step costs what they hold,
//           not the whole corpus).
#include <algorithm>
#include <queue>
#include <unordered_set>

#include "text_file.h"
#include "tinytorch/core/exception.h"
#include "tinytorch/serialize/archive.h"
#include "tinytorch/text/tokenizer.h"

namespace tinytorch::text {
namespace {

constexpr int64_t kMaxSpecialTokens = 1024;

// One key per pair of ids, for hash maps: left in the high 32 bits. Ordering keys orders pairs
// (left first), which is the tie-break of training.
uint64_t pair_key(int64_t left, int64_t right) {
  return (static_cast<uint64_t>(left) << 32) | static_cast<uint64_t>(right);
}
// [[maybe_unused]]: they serve learn_merges, whose body is the learner's.
[[maybe_unused]] int64_t key_left(uint64_t key) {
  return static_cast<int64_t>(key >> 32);
}
[[maybe_unused]] int64_t key_right(uint64_t key) {
  return static_cast<int64_t>(key & 0xFFFFFFFFu);
}

// A distinct chunk of the training corpus as token ids, and how often it occurs.
struct Word {
  std::vector<int32_t> ids;
  int64_t count = 0;
};

// How often every adjacent pair occurs, and the most frequent one on demand.
//
// NOTE: the heap is lazy. add() only records the new count and marks the key changed; top()
// pushes each changed key once with its current count, then pops entries until the top one's
// count is still current (stale entries of keys that changed since are dropped). So a merge
// step costs one push per pair it changed, not a rebuild.
class PairCounts {
 public:
  void add(uint64_t key, int64_t delta) {
    counts_[key] += delta;
    changed_.insert(key);
  }
  int64_t count(uint64_t key) const {
    const auto it = counts_.find(key);
    return it == counts_.end() ? 0 : it->second;
  }
  // The most frequent pair and its count (ties: the smallest key); count 0 when none is left.
  std::pair<uint64_t, int64_t> top() {
    for (const uint64_t key : changed_) {
      const int64_t c = count(key);
      if (c > 0) heap_.push({c, key});
    }
    changed_.clear();
    while (!heap_.empty() && heap_.top().count != count(heap_.top().key)) heap_.pop();
    if (heap_.empty()) return {0, 0};
    return {heap_.top().key, heap_.top().count};
  }

 private:
  struct Entry {
    int64_t count;
    uint64_t key;
    // std::priority_queue pops the largest: higher count first, then the smaller key.
    bool operator<(const Entry& other) const {
      return count != other.count ? count < other.count : key > other.key;
    }
  };
  std::unordered_map<uint64_t, int64_t> counts_;
  std::unordered_set<uint64_t> changed_;
  std::priority_queue<Entry> heap_;
};

// Replaces every occurrence of (left, right) in `ids` by `merged`, left to right, without
// overlaps: [a, a, a] with (a, a) -> [aa, a]. Returns how many were replaced.
template <typename Id>
int64_t merge_pair(std::vector<Id>& ids, int64_t left, int64_t right, int64_t merged) {
  // BEGIN SOLUTION
  int64_t replaced = 0;
  size_t out = 0;  // write position: ids[0 .. out) is the merged prefix
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i + 1 < ids.size() && ids[i] == left && ids[i + 1] == right) {
      ids[out++] = static_cast<Id>(merged);
      ++i;  // the right half is consumed
      ++replaced;
    } else {
      ids[out++] = ids[i];
    }
  }
  ids.resize(out);
  return replaced;
  // END SOLUTION
}

// Learns up to `num_merges` merges from `words` (which it rewrites as it merges): returns the
// merge list, merge i making id 256 + i. Stops early when the most frequent pair occurs fewer
// than 2 times. Use PairCounts for the counts (top() = the next pair to merge) and keep, for
// every pair, which words hold it, so a step only revisits those words.
std::vector<BpeTokenizer::Merge> learn_merges(std::vector<Word>& words, int64_t num_merges) {
  // BEGIN SOLUTION
  PairCounts counts;
  std::unordered_map<uint64_t, std::vector<int32_t>> where;  // pair -> words that held it
  // Adds sign * (the word's count) for every adjacent pair of word w.
  auto count_word = [&](int32_t w, int64_t sign) {
    const Word& word = words[static_cast<size_t>(w)];
    for (size_t i = 0; i + 1 < word.ids.size(); ++i) {
      const uint64_t key = pair_key(word.ids[i], word.ids[i + 1]);
      counts.add(key, sign * word.count);
      if (sign > 0) where[key].push_back(w);
    }
  };
  for (size_t w = 0; w < words.size(); ++w) count_word(static_cast<int32_t>(w), +1);

  std::vector<BpeTokenizer::Merge> merges;
  while (static_cast<int64_t>(merges.size()) < num_merges) {
    const auto [key, count] = counts.top();
    if (count < 2) break;  // a pair seen once is not worth a vocabulary slot
    const int64_t left = key_left(key);
    const int64_t right = key_right(key);
    const int64_t merged = BpeTokenizer::kNumBytes + static_cast<int64_t>(merges.size());
    // NOTE: a word can be listed more than once, or no longer hold the pair: merge_pair finds
    // nothing to replace then, and the word is skipped. `holders` is moved out of `where`
    // because count_word appends to `where` while we loop.
    const std::vector<int32_t> holders = std::move(where[key]);
    where.erase(key);
    for (const int32_t w : holders) {
      std::vector<int32_t> merged_ids = words[static_cast<size_t>(w)].ids;
      if (merge_pair(merged_ids, left, right, merged) == 0) continue;  // listed twice, or stale
      count_word(w, -1);                                               // the old pairs out ...
      words[static_cast<size_t>(w)].ids = std::move(merged_ids);
      count_word(w, +1);  // ... the new ones in
    }
    merges.emplace_back(left, right);
  }
  return merges;
  // END SOLUTION
}

// The tokens of one chunk: its bytes, then repeatedly the adjacent pair with the lowest merge
// rank merged (the order training learned them), until no adjacent pair is a merge.
// `ranks` maps pair_key(left, right) to the merge index.
std::vector<int64_t> encode_chunk(std::string_view chunk,
                                  const std::unordered_map<uint64_t, int64_t>& ranks) {
  // BEGIN SOLUTION
  std::vector<int64_t> ids(chunk.size());
  for (size_t i = 0; i < chunk.size(); ++i) ids[i] = static_cast<unsigned char>(chunk[i]);
  while (ids.size() >= 2) {
    int64_t best_rank = -1;
    size_t best_at = 0;
    for (size_t i = 0; i + 1 < ids.size(); ++i) {
      const auto it = ranks.find(pair_key(ids[i], ids[i + 1]));
      if (it != ranks.end() && (best_rank < 0 || it->second < best_rank)) {
        best_rank = it->second;
        best_at = i;
      }
    }
    if (best_rank < 0) break;  // no adjacent pair was ever merged: done
    merge_pair(ids, ids[best_at], ids[best_at + 1], BpeTokenizer::kNumBytes + best_rank);
  }
  return ids;
  // END SOLUTION
}

// The character classes of the pre-tokenizer (see tokenizer.h).
enum class CharClass { kLetter, kDigit, kSpace, kOther };

CharClass char_class(char c) {
  const auto b = static_cast<unsigned char>(c);
  if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || b >= 0x80) return CharClass::kLetter;
  if (b >= '0' && b <= '9') return CharClass::kDigit;
  // The six ASCII whitespace bytes (C's isspace, Python's bytes \s), without the locale.
  if (b == ' ' || (b >= '\t' && b <= '\r')) return CharClass::kSpace;
  return CharClass::kOther;
}

// Calls on_text(piece) for every stretch of `text` between special tokens and on_special(index)
// for every special token, in order. A special token is found leftmost first, the longest one
// where several start at the same byte.
template <typename OnText, typename OnSpecial>
void split_specials(std::string_view text, const std::vector<std::string>& specials,
                    OnText&& on_text, OnSpecial&& on_special) {
  constexpr size_t kNone = std::string_view::npos;
  // next[s]: where special s occurs next at or after `pos`, searched again only once passed, so
  // each special's search walks the text once (not once per occurrence of another special).
  std::vector<size_t> next;
  for (const std::string& special : specials) next.push_back(text.find(special));
  size_t pos = 0;
  while (pos < text.size()) {
    size_t at = kNone;
    size_t best = 0;
    for (size_t s = 0; s < specials.size(); ++s) {
      if (next[s] != kNone && next[s] < pos) next[s] = text.find(specials[s], pos);
      if (next[s] < at ||
          (next[s] == at && at != kNone && specials[s].size() > specials[best].size())) {
        at = next[s];
        best = s;
      }
    }
    if (at == kNone) break;
    if (at > pos) on_text(text.substr(pos, at - pos));
    on_special(best);
    pos = at + specials[best].size();
  }
  if (pos < text.size()) on_text(text.substr(pos));
}

}  // namespace

std::vector<std::string_view> split_chunks(std::string_view text) {
  std::vector<std::string_view> chunks;
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    size_t end = i;
    const CharClass here = char_class(text[i]);
    if (here != CharClass::kSpace ||
        (text[i] == ' ' && i + 1 < n && char_class(text[i + 1]) != CharClass::kSpace)) {
      // " ?" then a run of one class: a word, a number, or symbols.
      const size_t start = here == CharClass::kSpace ? i + 1 : i;
      const CharClass run = char_class(text[start]);
      end = start;
      while (end < n && char_class(text[end]) == run) ++end;
    } else {
      // Whitespace: the run, less its last byte when a word follows and the run is longer than
      // one (that byte goes with the word, or stands alone when it is not a space).
      while (end < n && char_class(text[end]) == CharClass::kSpace) ++end;
      if (end < n && end - i > 1) --end;
    }
    // NOTE: long chunks are cut, which bounds the token length and an encode_chunk's work.
    for (size_t at = i; at < end; at += BpeTokenizer::kMaxTokenBytes) {
      chunks.push_back(text.substr(at, std::min<size_t>(BpeTokenizer::kMaxTokenBytes, end - at)));
    }
    i = end;
  }
  return chunks;
}

BpeTokenizer::BpeTokenizer(std::vector<Merge> merges, std::vector<std::string> special_tokens)
    : merges_(std::move(merges)), special_tokens_(std::move(special_tokens)) {
  const int64_t num_merges = static_cast<int64_t>(merges_.size());
  const int64_t num_special = static_cast<int64_t>(special_tokens_.size());
  TT_CHECK_VALUE(num_special <= kMaxSpecialTokens, "BpeTokenizer: ", num_special,
                 " special tokens; at most ", kMaxSpecialTokens, " are supported");
  TT_CHECK_VALUE(kNumBytes + num_merges + num_special <= kMaxVocabSize,
                 "BpeTokenizer: ", num_merges, " merges and ", num_special,
                 " special tokens exceed the vocabulary "
                 "limit of ",
                 kMaxVocabSize, " tokens");
  token_bytes_.reserve(static_cast<size_t>(kNumBytes + num_merges + num_special));
  for (int64_t b = 0; b < kNumBytes; ++b) token_bytes_.emplace_back(1, static_cast<char>(b));
  for (int64_t i = 0; i < num_merges; ++i) {
    const auto [left, right] = merges_[static_cast<size_t>(i)];
    TT_CHECK_VALUE(left >= 0 && right >= 0 && left < kNumBytes + i && right < kNumBytes + i,
                   "BpeTokenizer: merge ", i, " (", left, ", ", right,
                   ") uses an id that is not a byte or an earlier merge (expected ids < ",
                   kNumBytes + i, ")");
    const auto [it, inserted] = ranks_.emplace(pair_key(left, right), i);
    TT_CHECK_VALUE(inserted, "BpeTokenizer: merge ", i, " (", left, ", ", right, ") repeats merge ",
                   it->second);
    const int64_t length = static_cast<int64_t>(token_bytes_[static_cast<size_t>(left)].size() +
                                                token_bytes_[static_cast<size_t>(right)].size());
    TT_CHECK_VALUE(length <= kMaxTokenBytes, "BpeTokenizer: merge ", i, " (", left, ", ", right,
                   ") makes a token of ", length, " bytes; the limit is ", kMaxTokenBytes);
    token_bytes_.push_back(token_bytes_[static_cast<size_t>(left)] +
                           token_bytes_[static_cast<size_t>(right)]);
  }
  for (int64_t s = 0; s < num_special; ++s) {
    const std::string& token = special_tokens_[static_cast<size_t>(s)];
    TT_CHECK_VALUE(!token.empty() && static_cast<int64_t>(token.size()) <= kMaxTokenBytes,
                   "BpeTokenizer: special token ", s, " has ", token.size(),
                   " bytes; expected 1 to ", kMaxTokenBytes);
    for (int64_t t = 0; t < s; ++t) {
      TT_CHECK_VALUE(special_tokens_[static_cast<size_t>(t)] != token,
                     "BpeTokenizer: special token '", token, "' is given twice");
    }
    token_bytes_.push_back(token);
  }
}

BpeTokenizer BpeTokenizer::train(std::string_view corpus, int64_t vocab_size,
                                 std::vector<std::string> special_tokens) {
  const auto num_special = static_cast<int64_t>(special_tokens.size());
  TT_CHECK_VALUE(vocab_size >= kNumBytes + num_special && vocab_size <= kMaxVocabSize,
                 "BpeTokenizer::train: vocab_size ", vocab_size,
                 " must be at least 256 (the "
                 "bytes) + ",
                 num_special, " (the special tokens) and at most ", kMaxVocabSize);
  BpeTokenizer checked({}, special_tokens);  // validates the special tokens before the work

  // The distinct chunks of the corpus (outside the special tokens) and their counts.
  std::unordered_map<std::string_view, int64_t> chunk_counts;
  split_specials(
      corpus, special_tokens,
      [&](std::string_view piece) {
        for (const std::string_view chunk : split_chunks(piece)) ++chunk_counts[chunk];
      },
      [](size_t) {});
  // NOTE: sorted, so the words (and with them any order-dependent detail) never depend on the
  // hash map's iteration order.
  std::vector<std::pair<std::string_view, int64_t>> sorted(chunk_counts.begin(),
                                                           chunk_counts.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<Word> words;
  words.reserve(sorted.size());
  for (const auto& [chunk, count] : sorted) {
    Word word;
    word.ids.assign(chunk.begin(), chunk.end());
    for (int32_t& id : word.ids) id &= 0xFF;  // char may be signed: bytes are ids 0..255
    word.count = count;
    words.push_back(std::move(word));
  }
  return BpeTokenizer(learn_merges(words, vocab_size - kNumBytes - num_special),
                      std::move(special_tokens));
}

std::vector<int64_t> BpeTokenizer::encode_ordinary(std::string_view text) const {
  // Text repeats its words: each distinct chunk is encoded once per call.
  std::unordered_map<std::string_view, std::vector<int64_t>> cache;
  std::vector<int64_t> ids;
  ids.reserve(text.size() / 3);
  for (const std::string_view chunk : split_chunks(text)) {
    auto it = cache.find(chunk);
    if (it == cache.end()) it = cache.emplace(chunk, encode_chunk(chunk, ranks_)).first;
    ids.insert(ids.end(), it->second.begin(), it->second.end());
  }
  return ids;
}

std::vector<int64_t> BpeTokenizer::encode(std::string_view text) const {
  if (special_tokens_.empty()) return encode_ordinary(text);
  std::vector<int64_t> ids;
  const int64_t first_special = kNumBytes + static_cast<int64_t>(merges_.size());
  split_specials(
      text, special_tokens_,
      [&](std::string_view piece) {
        const std::vector<int64_t> part = encode_ordinary(piece);
        ids.insert(ids.end(), part.begin(), part.end());
      },
      [&](size_t s) { ids.push_back(first_special + static_cast<int64_t>(s)); });
  return ids;
}

std::string BpeTokenizer::decode(std::span<const int64_t> ids) const {
  std::string text;
  for (size_t i = 0; i < ids.size(); ++i) {
    TT_CHECK_INDEX(ids[i] >= 0 && ids[i] < vocab_size(), "BpeTokenizer::decode: id ", ids[i],
                   " at position ", i, " is out of range for a vocabulary of ", vocab_size(),
                   " tokens");
    text += token_bytes_[static_cast<size_t>(ids[i])];
  }
  return text;
}

int64_t BpeTokenizer::special_token_id(std::string_view token) const {
  for (size_t s = 0; s < special_tokens_.size(); ++s) {
    if (special_tokens_[s] == token) {
      return kNumBytes + static_cast<int64_t>(merges_.size() + s);
    }
  }
  TT_CHECK_VALUE(false, "BpeTokenizer::special_token_id: '", token,
                 "' is not a special token of this tokenizer (it has ", special_tokens_.size(),
                 ")");
  return -1;
}

const std::string& BpeTokenizer::token_bytes(int64_t id) const {
  TT_CHECK_INDEX(id >= 0 && id < vocab_size(), "BpeTokenizer::token_bytes: id ", id,
                 " is out of range for a vocabulary of ", vocab_size(), " tokens");
  return token_bytes_[static_cast<size_t>(id)];
}

void BpeTokenizer::save(const std::filesystem::path& path) const {
  std::string text = "tinytorch-bpe 1\nmerges " + std::to_string(merges_.size()) + "\n";
  for (const auto& [left, right] : merges_) {
    text += std::to_string(left) + " " + std::to_string(right) + "\n";
  }
  text += "special " + std::to_string(special_tokens_.size()) + "\n";
  for (const std::string& token : special_tokens_) text += detail::to_hex(token) + "\n";
  serialize::write_file_atomically(path.string(), text);
}

BpeTokenizer BpeTokenizer::load(const std::filesystem::path& path) {
  detail::VocabFileReader in(path, "tinytorch-bpe", "BpeTokenizer::load");
  // NOTE: nothing is reserved from the counts: each entry is read from its own line first, so a
  // hostile count cannot allocate more than the (size-limited) file holds.
  const int64_t num_merges = in.read_count("merges", kMaxVocabSize - kNumBytes);
  std::vector<Merge> merges;
  for (int64_t i = 0; i < num_merges; ++i) merges.push_back(in.read_pair(kNumBytes + i));
  const int64_t num_special = in.read_count("special", kMaxSpecialTokens);
  std::vector<std::string> specials;
  for (int64_t s = 0; s < num_special; ++s) specials.push_back(in.read_hex("a special token"));
  in.expect_end();
  try {
    return BpeTokenizer(std::move(merges), std::move(specials));
  } catch (const ValueError& e) {
    in.fail_contents(e.what());
  }
}

}  // namespace tinytorch::text
