// CIFAR-10 binary batch files: the tests write small files in the format (the real data cannot be
// downloaded here) and check values, label order, channel planes, the train split's five files,
// class names, and every kind of broken file, with message checks.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data_test_util.h"
#include "support/reference.h"

namespace tt = tinytorch;
namespace td = tinytorch::data;
using namespace tinytorch::test08;

namespace {

// The byte of pixel (c, h, w) of record `id`: different in every channel plane, row and column,
// and from record to record.
unsigned char pixel_byte(int64_t id, int64_t c, int64_t h, int64_t w) {
  return static_cast<unsigned char>((id * 37 + c * 85 + h * 7 + w) % 256);
}

// One 3073-byte record: the label byte, then the R, G and B planes, each 32 × 32 row-major.
Bytes record(int64_t id, unsigned char label) {
  Bytes out{label};
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t h = 0; h < 32; ++h)
      for (int64_t w = 0; w < 32; ++w) out.push_back(pixel_byte(id, c, h, w));
  return out;
}

// A batch file of records with ids first … first + labels.size() - 1.
Bytes batch(int64_t first, const Bytes& labels) {
  Bytes out;
  for (size_t i = 0; i < labels.size(); ++i) {
    const Bytes r = record(first + static_cast<int64_t>(i), labels[i]);
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

// Checks that image `index` of `images` [N, 3, 32, 32] holds record `id`'s pixels / 255.
void expect_image(const tt::Tensor& images, int64_t index, int64_t id) {
  const std::vector<float> got = images.select(0, index).contiguous().to_vector<float>();
  ASSERT_EQ(got.size(), 3u * 32u * 32u);
  size_t i = 0;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t h = 0; h < 32; ++h)
      for (int64_t w = 0; w < 32; ++w, ++i) {
        ASSERT_FLOAT_EQ(got[i], static_cast<float>(pixel_byte(id, c, h, w)) / 255.0f)
            << "image " << index << " (c, h, w) = (" << c << ", " << h << ", " << w << ")";
      }
}

TEST(Cifar10, ReadsImagesLabelsAndChannelPlanes) {
  TempDir dir;
  write_plain(dir.file("b.bin"), batch(0, {3, 0, 9}));
  const td::TensorDataset ds = td::read_cifar10({dir.file("b.bin")});
  ASSERT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.data().sizes(), tt::IntArrayRef({3, 3, 32, 32}));
  EXPECT_EQ(ds.data().dtype(), tt::kFloat32);
  EXPECT_EQ(ds.targets().sizes(), tt::IntArrayRef({3}));
  EXPECT_EQ(ds.targets().dtype(), tt::kInt64);
  EXPECT_EQ(ds.targets().to_vector<int64_t>(), (std::vector<int64_t>{3, 0, 9}));
  for (int64_t i = 0; i < 3; ++i) expect_image(ds.data(), i, i);
  // The planes by hand: byte 1 of a record is red (0, 0), byte 1025 green (0, 0), byte 2049 blue
  // (0, 0), byte 1 + 33 red (1, 1).
  const Bytes r1 = record(1, 0);
  const tt::Tensor img = ds.get(1).data;  // [3, 32, 32]
  EXPECT_FLOAT_EQ(img[0][0][0].item<float>(), r1[1] / 255.0f);
  EXPECT_FLOAT_EQ(img[1][0][0].item<float>(), r1[1025] / 255.0f);
  EXPECT_FLOAT_EQ(img[2][0][0].item<float>(), r1[2049] / 255.0f);
  EXPECT_FLOAT_EQ(img[0][1][1].item<float>(), r1[1 + 33] / 255.0f);
  EXPECT_EQ(ds.get(2).target.item<int64_t>(), 9);
}

TEST(Cifar10, ReadsAcrossChunks) {
  // 300 records: more than one chunk of the reader (256 records), the second one partial.
  TempDir dir;
  Bytes labels;
  for (int i = 0; i < 300; ++i) labels.push_back(static_cast<unsigned char>(i % 10));
  write_plain(dir.file("big.bin"), batch(0, labels));
  const td::TensorDataset ds = td::read_cifar10({dir.file("big.bin")});
  ASSERT_EQ(ds.size(), 300);
  const std::vector<int64_t> got = ds.targets().to_vector<int64_t>();
  for (int i = 0; i < 300; ++i) ASSERT_EQ(got[static_cast<size_t>(i)], i % 10) << "record " << i;
  for (const int64_t i : {0, 255, 256, 299}) expect_image(ds.data(), i, i);
}

TEST(Cifar10, PixelRangeIsZeroToOne) {
  TempDir dir;
  Bytes bytes = record(0, 5);
  bytes[1] = 0;
  bytes[2] = 255;
  write_plain(dir.file("b.bin"), bytes);
  const td::TensorDataset ds = td::read_cifar10({dir.file("b.bin")});
  EXPECT_FLOAT_EQ(ds.data()[0][0][0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(ds.data()[0][0][0][1].item<float>(), 1.0f);
}

// data_batch_k.bin holds records 2(k-1), 2(k-1)+1 with labels equal to their ids: the train split
// must be the five files concatenated in order 1 … 5 (labels 0 … 9), the test split test_batch.bin.
void write_split(const TempDir& dir) {
  for (int64_t k = 1; k <= 5; ++k) {
    const auto id = static_cast<unsigned char>(2 * (k - 1));
    write_plain(dir.file("data_batch_" + std::to_string(k) + ".bin"),
                batch(id, {id, static_cast<unsigned char>(id + 1)}));
  }
  write_plain(dir.file("test_batch.bin"), batch(100, {7, 7, 1}));
}

TEST(Cifar10, TrainSplitIsTheFiveBatchesInOrder) {
  TempDir dir;
  write_split(dir);
  const td::TensorDataset train = td::load_cifar10(dir.file(""), /*train=*/true);
  ASSERT_EQ(train.size(), 10);
  EXPECT_EQ(train.targets().to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  for (int64_t i = 0; i < 10; ++i) expect_image(train.data(), i, i);
}

TEST(Cifar10, TestSplitIsTestBatch) {
  TempDir dir;
  write_split(dir);
  const td::TensorDataset test = td::load_cifar10(dir.file(""), /*train=*/false);
  ASSERT_EQ(test.size(), 3);
  EXPECT_EQ(test.targets().to_vector<int64_t>(), (std::vector<int64_t>{7, 7, 1}));
  for (int64_t i = 0; i < 3; ++i) expect_image(test.data(), i, 100 + i);
}

// Part 4's: the DataLoader (suite DataLoader, selected by Part 4's filter) over this reader.
TEST(DataLoader, FeedsTheCifarReaderInNchwBatches) {
  TempDir dir;
  write_split(dir);
  td::DataLoader loader(td::load_cifar10(dir.file(""), true), {.batch_size = 4});
  const std::vector<td::Example<>> batches = collect(loader);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].data.sizes(), tt::IntArrayRef({4, 3, 32, 32}));
  EXPECT_EQ(batches[2].data.sizes(), tt::IntArrayRef({2, 3, 32, 32}));
  EXPECT_EQ(targets_of(batches), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(Cifar10, ClassNames) {
  TempDir dir;
  const std::vector<std::string> defaults = td::cifar10_classes(dir.file(""));
  ASSERT_EQ(defaults.size(), 10u);
  EXPECT_EQ(defaults.front(), "airplane");
  EXPECT_EQ(defaults.back(), "truck");
  // The archive's file: one name per line, a blank line at the end; Windows line ends tolerated.
  write_plain(dir.file("batches.meta.txt"), [] {
    const std::string text = "a0\nb1\r\nc2\nd3\ne4\nf5\ng6\nh7\ni8\nj9\n\n";
    return Bytes(text.begin(), text.end());
  }());
  const std::vector<std::string> names = td::cifar10_classes(dir.file(""));
  ASSERT_EQ(names.size(), 10u);
  EXPECT_EQ(names[1], "b1");
  EXPECT_EQ(names[9], "j9");
  write_plain(dir.file("batches.meta.txt"), Bytes{'c', 'a', 't', '\n'});
  TT_EXPECT_THROW_WITH(td::cifar10_classes(dir.file("")), tt::Error, "batches.meta.txt",
                       "names 1 classes", "expected 10, one per line");
}

// ---- broken files ------------------------------------------------------------------------------

TEST(Cifar10, MissingFileNamesThePath) {
  TT_EXPECT_THROW_WITH(td::read_cifar10({"/nonexistent/dir/data_batch_1.bin"}), tt::Error,
                       "/nonexistent/dir/data_batch_1.bin", "no such file");
  TT_EXPECT_THROW_WITH(td::read_cifar10({}), tt::Error, "at least one batch file");
}

TEST(Cifar10, MissingBatchOfTheSplitNamesIt) {
  TempDir dir;
  write_split(dir);
  std::filesystem::remove(dir.file("data_batch_3.bin"));
  TT_EXPECT_THROW_WITH(td::load_cifar10(dir.file(""), true), tt::Error, "data_batch_3.bin",
                       "does not exist", "data_batch_1.bin … data_batch_5.bin and test_batch.bin");
}

TEST(Cifar10, EmptyFile) {
  TempDir dir;
  write_plain(dir.file("empty.bin"), {});
  TT_EXPECT_THROW_WITH(td::read_cifar10({dir.file("empty.bin")}), tt::Error, dir.file("empty.bin"),
                       "is empty (0 bytes)", "expected records of 3073 bytes");
}

TEST(Cifar10, TruncatedFileIsNotAWholeNumberOfRecords) {
  TempDir dir;
  Bytes bytes = batch(0, {1, 2});
  bytes.resize(bytes.size() - 1000);  // 6146 - 1000 = 5146 bytes: 1 record and 2073 bytes over
  write_plain(dir.file("cut.bin"), bytes);
  TT_EXPECT_THROW_WITH(td::read_cifar10({dir.file("cut.bin")}), tt::Error, dir.file("cut.bin"),
                       "has 5146 bytes", "1 records and 2073 bytes over",
                       "expected a multiple of 3073 bytes", "truncated");
}

TEST(Cifar10, Cifar100RecordsAreRejected) {
  TempDir dir;
  Bytes bytes;
  for (int i = 0; i < 3; ++i) {  // CIFAR-100: coarse label, fine label, 3072 pixels
    bytes.push_back(1);
    const Bytes r = record(i, 4);
    bytes.insert(bytes.end(), r.begin(), r.end());
  }
  write_plain(dir.file("c100.bin"), bytes);
  TT_EXPECT_THROW_WITH(td::read_cifar10({dir.file("c100.bin")}), tt::Error, "has 9222 bytes",
                       "CIFAR-100 (3074-byte records)");
}

TEST(Cifar10, LabelOutOfRangeNamesTheRecord) {
  TempDir dir;
  write_plain(dir.file("bad.bin"), batch(0, {1, 2, 10, 3}));
  TT_EXPECT_THROW_WITH(td::read_cifar10({dir.file("bad.bin")}), tt::Error, dir.file("bad.bin"),
                       "record 2 (byte offset 6146)", "has label 10", "expected a label in 0 … 9");
}

TEST(Cifar10, ABadFileOfTheSplitIsNamed) {
  TempDir dir;
  write_split(dir);
  write_plain(dir.file("data_batch_5.bin"), Bytes(100, 0));
  TT_EXPECT_THROW_WITH(td::load_cifar10(dir.file(""), true), tt::Error, "data_batch_5.bin",
                       "has 100 bytes");
}

}  // namespace
