// The fortunes corpus, split_text, encode_to_tensor and random_windows.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/temp_dir.h"
#include "tokenizer_test_util.h"

namespace tt = tinytorch;
namespace fs = std::filesystem;
using namespace tinytorch::test10;

namespace {

TEST(LoadFortunes, MissingDirectoryNamesThePackage) {
  tt::test::TempDir dir("tt10");
  TT_EXPECT_THROW_WITH(tt::data::load_fortunes(dir.path() / "no-such-dir"), tt::Error,
                       "load_fortunes", "no-such-dir", "`fortunes`",
                       "apt-get install fortunes fortunes-min");
}

TEST(LoadFortunes, ReadsTextFilesInSortedOrderSkippingIndexesAndLinks) {
  tt::test::TempDir dir("tt10");
  write_file(dir.file("zebra"), "Z1\n%\nZ2\n%\n");
  write_file(dir.file("apple"), "A1\n%\nA2");  // no final separator: one is added
  write_file(dir.file("apple.dat"), std::string("\x00\x00\x00\x02", 4));
  fs::create_symlink(dir.file("apple"), dir.file("apple.u8"));
  fs::create_symlink(dir.file("zebra"), dir.file("link"));
  fs::create_directory(dir.path() / "off");
  EXPECT_EQ(tt::data::load_fortunes(dir.path()), "A1\n%\nA2\n%\nZ1\n%\nZ2\n%\n");
}

TEST(LoadFortunes, EmptyDirectoryIsAnError) {
  tt::test::TempDir dir("tt10");
  TT_EXPECT_THROW_WITH(tt::data::load_fortunes(dir.path()), tt::Error, "holds no fortune files");
}

TEST(LoadFortunes, DebianPackage) {
  if (!fs::is_directory(tt::data::kFortunesDir)) {
    GTEST_SKIP() << "the Debian packages fortunes and fortunes-min are not installed";
  }
  const std::string corpus = tt::data::load_fortunes();
  EXPECT_GT(corpus.size(), 1'000'000u);
  EXPECT_EQ(corpus.substr(corpus.size() - 3), "\n%\n");
  EXPECT_EQ(corpus, tt::data::load_fortunes());  // deterministic
}

TEST(SplitText, EveryKthRecordGoesToValidation) {
  std::string corpus;
  for (int i = 0; i < 20; ++i) corpus += "record " + std::to_string(i) + "\n%\n";
  const tt::data::TextSplit split = tt::data::split_text(corpus, 0.1);
  EXPECT_EQ(split.validation, "record 9\n%\nrecord 19\n%\n");
  EXPECT_EQ(split.train.size() + split.validation.size(), corpus.size());
  EXPECT_EQ(split.train.find("record 9\n"), std::string::npos);
  EXPECT_EQ(split.train.substr(0, 11), "record 0\n%\n");
  // Deterministic: the same split every time.
  const tt::data::TextSplit again = tt::data::split_text(corpus, 0.1);
  EXPECT_EQ(again.train, split.train);
  EXPECT_EQ(again.validation, split.validation);
}

TEST(SplitText, FractionAndUnterminatedLastRecord) {
  const tt::data::TextSplit half = tt::data::split_text("a\n%\nb\n%\nc\n%\nd", 0.5);
  EXPECT_EQ(half.train, "a\n%\nc\n%\n");
  EXPECT_EQ(half.validation, "b\n%\nd");
  TT_EXPECT_THROW_WITH(tt::data::split_text("a", 1.0), tt::ValueError,
                       "validation_fraction must be in (0, 1)");
}

TEST(EncodeToTensor, IsInt64OneDimensional) {
  const tt::Tensor t = tt::data::encode_to_tensor({5, 0, 7});
  EXPECT_EQ(t.scalar_type(), tt::kInt64);
  EXPECT_EQ(t.sizes().vec(), (std::vector<int64_t>{3}));
  EXPECT_EQ(t.to_vector<int64_t>(), (std::vector<int64_t>{5, 0, 7}));
}

TEST(RandomWindows, ShapesAndShiftByOne) {
  const tt::Tensor tokens = tt::arange(100, tt::kInt64);  // token i == i: offsets are visible
  tt::Generator gen(3);
  const auto [x, y] = tt::data::random_windows(tokens, 8, 16, gen);
  EXPECT_EQ(x.sizes().vec(), (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(y.sizes().vec(), (std::vector<int64_t>{8, 16}));
  EXPECT_EQ(x.scalar_type(), tt::kInt64);
  const std::vector<int64_t> xs = x.to_vector<int64_t>();
  const std::vector<int64_t> ys = y.to_vector<int64_t>();
  for (int64_t b = 0; b < 8; ++b) {
    const int64_t start = xs[static_cast<size_t>(b * 16)];
    EXPECT_GE(start, 0);
    EXPECT_LE(start + 16, 99);  // the target's last token exists
    for (int64_t i = 0; i < 16; ++i) {
      EXPECT_EQ(xs[static_cast<size_t>(b * 16 + i)], start + i);
      EXPECT_EQ(ys[static_cast<size_t>(b * 16 + i)], start + i + 1);
    }
  }
  // Seeded: the same generator seed gives the same batch.
  tt::Generator gen2(3);
  EXPECT_EQ(tt::data::random_windows(tokens, 8, 16, gen2).first.to_vector<int64_t>(), xs);
}

TEST(RandomWindows, ExactFitAndErrors) {
  const tt::Tensor tokens = tt::arange(5, tt::kInt64);
  tt::Generator gen(0);
  const auto [x, y] = tt::data::random_windows(tokens, 2, 4, gen);  // the only window: start 0
  EXPECT_EQ(x.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_EQ(y.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3, 4, 1, 2, 3, 4}));
  TT_EXPECT_THROW_WITH(tt::data::random_windows(tokens, 2, 5, gen), tt::ValueError,
                       "random_windows", "5 tokens are too few for context 5");
  TT_EXPECT_THROW_WITH(tt::data::random_windows(tt::arange(5, tt::kFloat32), 2, 2, gen),
                       tt::TypeError, "expected int64 token ids");
}

}  // namespace
