// BpeTokenizer: merges computed by hand, compared with the plain-Python reference
// (tools/reference/gen_module10.py), round trips of arbitrary bytes, special tokens, files.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "support/temp_dir.h"
#include "tokenizer_test_util.h"

namespace tt = tinytorch;
using tt::text::BpeTokenizer;
using Merges = std::vector<BpeTokenizer::Merge>;
using namespace tinytorch::test10;

namespace {

// Wikipedia's example, by hand. Pairs of "aaabdaaabac": (a,a) x4, (a,b) x2, the rest once.
//   merge 0: (a, a) -> 256      [256 a b d 256 a b a c]   (256,a) x2 and (a,b) x2 tie:
//   merge 1: (a, b) -> 257      the smaller pair wins     [256 257 d 256 257 a c]
//   merge 2: (256, 257) -> 258                            [258 d 258 a c]; every pair once: stop
TEST(BpeTrain, WikipediaExampleByHand) {
  const BpeTokenizer tok = BpeTokenizer::train("aaabdaaabac", 300);
  EXPECT_EQ(tok.merges(), (Merges{{'a', 'a'}, {'a', 'b'}, {256, 257}}));
  EXPECT_EQ(tok.vocab_size(), 259);  // stopped early: no pair occurs twice any more
  EXPECT_EQ(tok.token_bytes(258), "aaab");
}

// Every position counts: "aaaa" holds (a, a) three times (its encodings, merged left to right,
// are BpeEncode.ReplaysTheWorkedExamplesMerges: Part 5).
TEST(BpeTrain, OverlappingPairsAndLeftToRightMerging) {
  const BpeTokenizer tok = BpeTokenizer::train("aaaa", 257);
  EXPECT_EQ(tok.merges(), (Merges{{'a', 'a'}}));
}

// Merges never cross a pre-tokenization chunk: "a b" is chunks "a", " b".
TEST(BpeTrain, MergesStayInsideChunks) {
  const BpeTokenizer tok = BpeTokenizer::train("a b a b a b", 300);
  // Chunks: "a" x1, " b" x3, " a" x2: (32, b) x3 is the only pair seen 3 times.
  ASSERT_FALSE(tok.merges().empty());
  EXPECT_EQ(tok.merges()[0], BpeTokenizer::Merge(' ', 'b'));
  EXPECT_EQ(tok.merges()[1], BpeTokenizer::Merge(' ', 'a'));
  for (int64_t id = 256; id < tok.vocab_size(); ++id) {
    EXPECT_EQ(tok.token_bytes(id).find(' ', 1), std::string::npos) << "a merge crossed a chunk";
  }
}

// A reference case's tokenizer, trained on its corpus as the Python reference trained it.
BpeTokenizer train_reference_case(const nlohmann::json& c) {
  return BpeTokenizer::train(from_hex(c.at("corpus_hex").get<std::string>()),
                             c.at("vocab_size").get<int64_t>(), special_tokens_of(c));
}

TEST(BpeTrain, MatchesThePythonReference) {
  for (const auto& c : bpe_reference().at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    EXPECT_EQ(train_reference_case(c).merges(), merges_of(c));
  }
}

// Part 5: encoding replays the merges. The worked example's text becomes [258 d 258 a c], and
// in "aaa" / "aaaaa" the (a, a) merge applies left to right.
TEST(BpeEncode, ReplaysTheWorkedExamplesMerges) {
  const BpeTokenizer wikipedia = BpeTokenizer::train("aaabdaaabac", 300);
  EXPECT_EQ(wikipedia.encode("aaabdaaabac"), (std::vector<int64_t>{258, 'd', 258, 'a', 'c'}));
  const BpeTokenizer aaaa = BpeTokenizer::train("aaaa", 257);
  EXPECT_EQ(aaaa.encode("aaa"), (std::vector<int64_t>{256, 'a'}));
  EXPECT_EQ(aaaa.encode("aaaaa"), (std::vector<int64_t>{256, 256, 'a'}));
}

// Part 5: the Python reference's encodings of its texts, with the tokenizer trained as in
// BpeTrain.MatchesThePythonReference.
TEST(BpeEncode, MatchesThePythonReferenceEncodings) {
  for (const auto& c : bpe_reference().at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const BpeTokenizer tok = train_reference_case(c);
    for (const auto& e : c.at("encodings")) {
      const std::string text = from_hex(e.at("text_hex").get<std::string>());
      EXPECT_EQ(tok.encode(text), e.at("ids").get<std::vector<int64_t>>());
      EXPECT_EQ(tok.decode(tok.encode(text)), text);
    }
  }
}

TEST(BpeEncode, RankOrderFromAGivenMergeList) {
  // Merge 0 (b, c), merge 1 (a, b): in "abc" the lower rank (b, c) wins although (a, b) is
  // leftmost — encoding replays training's order, not left to right.
  const BpeTokenizer tok(Merges{{'b', 'c'}, {'a', 'b'}});
  EXPECT_EQ(tok.encode("abc"), (std::vector<int64_t>{'a', 256}));
  EXPECT_EQ(tok.encode("abd"), (std::vector<int64_t>{257, 'd'}));
}

TEST(BpeRoundTrip, RandomBytesIncludingNulAndInvalidUtf8) {
  tt::Generator gen(42);
  const std::string corpus = random_bytes(gen, 4000) + std::string(2000, '\0') + "the the the";
  const BpeTokenizer tok = BpeTokenizer::train(corpus, 400);
  for (int64_t n : {0, 1, 2, 17, 1000, 20000}) {
    const std::string s = random_bytes(gen, n);
    EXPECT_EQ(tok.decode(tok.encode(s)), s) << "length " << n;
  }
  const std::string bad_utf8("\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\x00\xff", 13);
  EXPECT_EQ(tok.decode(tok.encode(bad_utf8)), bad_utf8);
}

TEST(BpeRoundTrip, ByteOnlyTokenizerIsTheIdentity) {
  const BpeTokenizer tok;
  EXPECT_EQ(tok.vocab_size(), 256);
  const std::string s("\x00\x7f\x80\xff", 4);
  EXPECT_EQ(tok.encode(s), (std::vector<int64_t>{0, 127, 128, 255}));
}

TEST(BpeSpecialTokens, AreNeverSplitAndGetTheLastIds) {
  const std::string eot = "<|endoftext|>";
  const std::string corpus = "hello<|endoftext|>hello<|endoftext|>hello";
  const BpeTokenizer tok = BpeTokenizer::train(corpus, 300, {eot});
  const int64_t id = tok.special_token_id(eot);
  EXPECT_EQ(id, tok.vocab_size() - 1);
  EXPECT_EQ(id, 256 + static_cast<int64_t>(tok.merges().size()));
  // No merge learned from the special token's bytes ('<', '|', ...): it was cut out first.
  for (const auto& [left, right] : tok.merges()) {
    EXPECT_EQ(tok.token_bytes(left).find('|'), std::string::npos);
    EXPECT_EQ(tok.token_bytes(right).find('|'), std::string::npos);
  }
  const std::vector<int64_t> ids = tok.encode("x<|endoftext|><|endoftext|>y");
  EXPECT_EQ(ids, (std::vector<int64_t>{'x', id, id, 'y'}));
  EXPECT_EQ(tok.decode(ids), "x<|endoftext|><|endoftext|>y");
  // A part of a special token is ordinary text.
  const std::vector<int64_t> partial = tok.encode("<|endof");
  EXPECT_EQ(std::count(partial.begin(), partial.end(), id), 0);
  EXPECT_EQ(tok.decode(partial), "<|endof");
}

TEST(BpeSpecialTokens, LongestMatchWins) {
  const BpeTokenizer tok(Merges{}, {"<a>", "<a>b"});
  EXPECT_EQ(tok.encode("<a>b<a>c"), (std::vector<int64_t>{257, 256, 'c'}));
}

TEST(BpeErrors, BadArgumentsAreClearErrors) {
  TT_EXPECT_THROW_WITH(BpeTokenizer::train("abc", 255), tt::ValueError, "BpeTokenizer::train",
                       "vocab_size 255 must be at least 256");
  TT_EXPECT_THROW_WITH(BpeTokenizer::train("abc", 300, {"<s>", "<s>"}), tt::ValueError,
                       "special token '<s>' is given twice");
  TT_EXPECT_THROW_WITH((BpeTokenizer(Merges{{'a', 256}})), tt::ValueError, "merge 0 (97, 256)",
                       "not a byte or an earlier merge");
  const BpeTokenizer tok;
  const std::vector<int64_t> ids{256};
  TT_EXPECT_THROW_WITH(tok.decode(ids), tt::IndexError, "BpeTokenizer::decode", "id 256",
                       "out of range for a vocabulary of 256 tokens");
  TT_EXPECT_THROW_WITH(tok.special_token_id("<s>"), tt::ValueError, "'<s>' is not a special token");
}

TEST(BpeFiles, SaveLoadRoundTrip) {
  tt::test::TempDir dir("tt10");
  const BpeTokenizer tok =
      BpeTokenizer::train("the cat and the hat and the bat", 280, {"<|endoftext|>", "\n\xff"});
  tok.save(dir.file("bpe.vocab"));
  const BpeTokenizer back = BpeTokenizer::load(dir.file("bpe.vocab"));
  EXPECT_EQ(back.merges(), tok.merges());
  EXPECT_EQ(back.special_tokens(), tok.special_tokens());
  EXPECT_EQ(back.vocab_size(), tok.vocab_size());
  const std::string text = "the bat<|endoftext|>\n\xff hat";
  EXPECT_EQ(back.encode(text), tok.encode(text));
  // Saving again overwrites atomically and leaves no temporary behind.
  back.save(dir.file("bpe.vocab"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
}

// A vocabulary file that went through an editor or a checkout with Windows line ends ("\r\n")
// loads as the same vocabulary (it used to fail with "unsupported version '1'; this build reads
// version 1": the '\r' was part of the version).
TEST(BpeFiles, WindowsLineEndsLoadTheSameVocabulary) {
  tt::test::TempDir dir("tt10");
  const BpeTokenizer tok = BpeTokenizer::train("the cat and the hat and the bat", 270, {"<s>"});
  tok.save(dir.file("bpe.vocab"));
  std::ifstream in(dir.file("bpe.vocab"), std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  std::string crlf;
  for (const char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  write_file(dir.file("crlf.vocab"), crlf);
  const BpeTokenizer back = BpeTokenizer::load(dir.file("crlf.vocab"));
  EXPECT_EQ(back.merges(), tok.merges());
  EXPECT_EQ(back.special_tokens(), tok.special_tokens());
  // A stray '\r' inside a line is still an error.
  write_file(dir.file("bad.vocab"), "tinytorch-bpe 1\r\nmerges 1\r\n97\r98\r\n");
  TT_EXPECT_THROW_WITH(BpeTokenizer::load(dir.file("bad.vocab")), tt::Error, "line 3",
                       "expected a merge");
}

TEST(BpeFiles, CorruptFilesAreClearErrors) {
  tt::test::TempDir dir("tt10");
  const std::string path = dir.file("bad.vocab");
  write_file(path, "");
  TT_EXPECT_THROW_WITH(BpeTokenizer::load(path), tt::Error, "BpeTokenizer::load", "is truncated");
  write_file(path, "GIF89a\n");
  TT_EXPECT_THROW_WITH(BpeTokenizer::load(path), tt::Error,
                       "is not a tinytorch-bpe vocabulary file");
  write_file(path, "tinytorch-bpe 7\n");
  TT_EXPECT_THROW_WITH(BpeTokenizer::load(path), tt::Error, "unsupported version '7'");
  write_file(path, "tinytorch-bpe 1\nmerges 3\n97 97\n");
  TT_EXPECT_THROW_WITH(BpeTokenizer::load(path), tt::Error, "is truncated");
  // A hostile count is refused before anything is allocated for it.
  write_file(path, "tinytorch-bpe 1\nmerges 9223372036854775807\n");
  TT_EXPECT_THROW_WITH(BpeTokenizer::load(path), tt::Error, "line 2",
                       "more than the limit of 261888");
  write_file(path, "tinytorch-bpe 1\nmerges 1\n97 300\nspecial 0\n");
  TT_EXPECT_THROW_WITH(BpeTokenizer::load(path), tt::Error, "line 3", "using an id >= 256");
  write_file(path, "tinytorch-bpe 1\nmerges 0\nspecial 1\n3c7z\n");
  TT_EXPECT_THROW_WITH(BpeTokenizer::load(path), tt::Error, "non-hexadecimal character");
  write_file(path, "tinytorch-bpe 1\nmerges 0\nspecial 0\nextra\n");
  TT_EXPECT_THROW_WITH(BpeTokenizer::load(path), tt::Error, "unexpected text after line 3");
}

}  // namespace
