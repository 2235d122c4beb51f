// CharTokenizer: the vocabulary is the sorted distinct bytes; encode/decode are table lookups.
#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "tokenizer_test_util.h"

namespace tt = tinytorch;
using tt::text::CharTokenizer;
using namespace tinytorch::test10;

namespace {

TEST(CharTokenizer, VocabularyIsTheSortedDistinctBytes) {
  const CharTokenizer tok = CharTokenizer::train("hello world\n");
  EXPECT_EQ(tok.vocab_size(), 9);
  EXPECT_EQ(tok.vocabulary(), "\n dehlorw");  // id i = the i-th smallest byte
  // h=4 e=3 l=5 l=5 o=6 ' '=1
  EXPECT_EQ(tok.encode("hello "), (std::vector<int64_t>{4, 3, 5, 5, 6, 1}));
  const std::vector<int64_t> ids{8, 6, 7, 5, 2, 0};
  EXPECT_EQ(tok.decode(ids), "world\n");
}

TEST(CharTokenizer, RoundTripsEveryByte) {
  tt::Generator gen(10);
  const std::string corpus = random_bytes(gen, 5000);  // all 256 values, almost surely
  const CharTokenizer tok = CharTokenizer::train(corpus);
  EXPECT_EQ(tok.vocab_size(), 256);
  const std::vector<int64_t> ids = tok.encode(corpus);
  ASSERT_EQ(ids.size(), corpus.size());
  EXPECT_EQ(tok.decode(ids), corpus);
  // With every byte present, id == byte value.
  EXPECT_EQ(ids[0], static_cast<unsigned char>(corpus[0]));
  const std::string zeros("a\0b\0", 4);
  EXPECT_EQ(tok.decode(tok.encode(zeros)), zeros);
}

TEST(CharTokenizer, EmptyTextEncodesToNothing) {
  const CharTokenizer tok = CharTokenizer::train("abc");
  EXPECT_TRUE(tok.encode("").empty());
  EXPECT_EQ(tok.decode(std::vector<int64_t>{}), "");
}

TEST(CharTokenizer, UnknownByteIsAClearError) {
  const CharTokenizer tok = CharTokenizer::train("abc");
  TT_EXPECT_THROW_WITH(tok.encode("abz"), tt::ValueError, "CharTokenizer::encode",
                       "byte 0x7a at position 2", "not in the vocabulary of 3 characters");
}

TEST(CharTokenizer, BadIdIsAClearError) {
  const CharTokenizer tok = CharTokenizer::train("abc");
  const std::vector<int64_t> ids{0, 3};
  TT_EXPECT_THROW_WITH(tok.decode(ids), tt::IndexError, "CharTokenizer::decode", "id 3",
                       "out of range for a vocabulary of 3 tokens");
  const std::vector<int64_t> negative{-1};
  TT_EXPECT_THROW_WITH(tok.decode(negative), tt::IndexError, "id -1");
}

TEST(CharTokenizer, EmptyCorpusIsAnError) {
  TT_EXPECT_THROW_WITH(CharTokenizer::train(""), tt::ValueError, "CharTokenizer::train",
                       "the corpus is empty");
}

TEST(CharTokenizer, SaveLoadRoundTrip) {
  tt::test::TempDir dir("tt10");
  const CharTokenizer tok = CharTokenizer::train(std::string("x\0\xff\n y", 6));
  tok.save(dir.file("chars.vocab"));
  const CharTokenizer back = CharTokenizer::load(dir.file("chars.vocab"));
  EXPECT_EQ(back.vocabulary(), tok.vocabulary());
  EXPECT_EQ(back.encode(std::string("y\xff\0", 3)), tok.encode(std::string("y\xff\0", 3)));
}

TEST(CharTokenizer, CorruptFilesAreClearErrors) {
  tt::test::TempDir dir("tt10");
  const std::string path = dir.file("bad.vocab");
  write_file(path, "tinytorch-bpe 1\nmerges 0\nspecial 0\n");
  TT_EXPECT_THROW_WITH(CharTokenizer::load(path), tt::Error, "CharTokenizer::load",
                       "is not a tinytorch-char vocabulary file");
  write_file(path, "tinytorch-char 1\nvocab 3\n6162\n");
  TT_EXPECT_THROW_WITH(CharTokenizer::load(path), tt::Error, "has 2 vocabulary bytes",
                       "header says 3");
  write_file(path, "tinytorch-char 1\nvocab 2\n6161\n");
  TT_EXPECT_THROW_WITH(CharTokenizer::load(path), tt::Error, "appears twice in the vocabulary");
  TT_EXPECT_THROW_WITH(CharTokenizer::load(dir.file("missing.vocab")), tt::Error, "no such file");
}

}  // namespace
