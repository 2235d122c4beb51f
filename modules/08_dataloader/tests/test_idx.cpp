// IDX reading: valid files (plain and gzip) and every kind of broken file, with message checks.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "data_test_util.h"
#include "support/reference.h"

namespace tt = tinytorch;
using namespace tinytorch::test08;

namespace {

const Bytes kPixels{0, 1, 2, 127, 128, 255};  // a 2 × 3 "image" of bytes

TEST(ReadIdx, ReadsPlainImagesAsFloat32) {
  TempDir dir;
  write_plain(dir.file("img.idx"), idx_bytes({1, 2, 3}, kPixels));
  tt::Tensor t = tt::data::read_idx(dir.file("img.idx"), tt::kFloat32);
  EXPECT_EQ(t.sizes(), tt::IntArrayRef({1, 2, 3}));
  EXPECT_EQ(t.dtype(), tt::kFloat32);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 1, 2, 127, 128, 255}));
}

TEST(ReadIdx, ReadsGzipLabelsAsInt64) {
  TempDir dir;
  write_gz(dir.file("lab.gz"), idx_bytes({4}, {9, 0, 3, 255}));
  tt::Tensor t = tt::data::read_idx(dir.file("lab.gz"));  // int64 by default
  EXPECT_EQ(t.sizes(), tt::IntArrayRef({4}));
  EXPECT_EQ(t.dtype(), tt::kInt64);
  EXPECT_EQ(t.to_vector<int64_t>(), (std::vector<int64_t>{9, 0, 3, 255}));
}

TEST(ReadIdx, GzipAndPlainGiveTheSameTensor) {
  TempDir dir;
  const Bytes bytes = idx_bytes({2, 3}, kPixels);
  write_plain(dir.file("a"), bytes);
  write_gz(dir.file("a.gz"), bytes);
  EXPECT_TRUE(tt::data::read_idx(dir.file("a")).equal(tt::data::read_idx(dir.file("a.gz"))));
}

TEST(ReadIdx, MissingFileNamesThePath) {
  TT_EXPECT_THROW_WITH(tt::data::read_idx("/nonexistent/dir/x.idx"), tt::Error,
                       "/nonexistent/dir/x.idx", "no such file");
}

TEST(ReadIdx, EmptyFile) {
  TempDir dir;
  write_plain(dir.file("empty"), {});
  TT_EXPECT_THROW_WITH(tt::data::read_idx(dir.file("empty")), tt::Error, dir.file("empty"),
                       "is empty", "expected an IDX header");
}

TEST(ReadIdx, WrongMagicNumber) {
  TempDir dir;
  Bytes bytes = idx_bytes({2, 3}, kPixels);
  bytes[0] = 0x12;  // not an IDX file
  write_plain(dir.file("bad"), bytes);
  TT_EXPECT_THROW_WITH(tt::data::read_idx(dir.file("bad")), tt::Error, dir.file("bad"),
                       "bad magic number 0x12000802", "expected 0x00000803 (images)",
                       "0x00000801 (labels)");
}

TEST(ReadIdx, WrongTypeCode) {
  TempDir dir;
  write_plain(dir.file("floats"), idx_bytes({2, 3}, kPixels, 0x0D));
  TT_EXPECT_THROW_WITH(tt::data::read_idx(dir.file("floats")), tt::Error, dir.file("floats"),
                       "type code 0xd (float32)", "only type code 0x08 (unsigned byte)");
}

TEST(ReadIdx, ZeroDimIsRejected) {
  TempDir dir;
  write_plain(dir.file("zero"), idx_bytes({0, 28, 28}, {}));
  TT_EXPECT_THROW_WITH(tt::data::read_idx(dir.file("zero")), tt::Error, dir.file("zero"),
                       "size 0 in dim 0", "expected every dim > 0");
}

TEST(ReadIdx, TruncatedData) {
  TempDir dir;
  Bytes bytes = idx_bytes({2, 3}, kPixels);  // header 12 bytes + 6 data bytes = 18
  bytes.resize(bytes.size() - 2);
  write_plain(dir.file("short"), bytes);
  TT_EXPECT_THROW_WITH(tt::data::read_idx(dir.file("short")), tt::Error, dir.file("short"),
                       "truncated", "expected 18 bytes, got 16 bytes");
  write_gz(dir.file("short.gz"), bytes);  // truncated content inside a valid gzip stream
  TT_EXPECT_THROW_WITH(tt::data::read_idx(dir.file("short.gz")), tt::Error, dir.file("short.gz"),
                       "expected 18 bytes, got 16 bytes");
}

// The peak resident memory of this process (VmHWM) in bytes, after `f` runs with the peak
// reset just before it (writing 5 to /proc/self/clear_refs, Linux >= 4.0); -1 where /proc does
// not allow it. Measures what a call really touched, not what it asked the allocator for.
template <typename F>
int64_t peak_rss_growth(F f) {
  auto status_kib = [](const std::string& field) -> int64_t {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
    }
    return -1;
  };
  std::ofstream reset("/proc/self/clear_refs");
  if (!(reset << "5" << std::flush)) return -1;
  const int64_t before = status_kib("VmRSS");
  f();
  const int64_t peak = status_kib("VmHWM");
  return before < 0 || peak < 0 ? -1 : (peak - before) * 1024;
}

TEST(ReadIdx, AHeaderPromisingMoreThanTheFileHoldsAllocatesNothingLarge) {
  // 12 bytes that promise 16384 × 16384 pixels (256 MiB): the reader allocated and zero-filled
  // all of it before it found the file short (4 GiB and 22 s for a 65536 × 65536 promise).
  TempDir dir;
  write_plain(dir.file("liar"), idx_bytes({16384, 16384}, {}));
  write_gz(dir.file("liar.gz"), idx_bytes({16384, 16384}, {1, 2, 3}));
  for (const std::string name : {"liar", "liar.gz"}) {
    SCOPED_TRACE(name);
    const int64_t grew = peak_rss_growth([&] {
      TT_EXPECT_THROW_WITH(tt::data::read_idx(dir.file(name)), tt::Error, dir.file(name),
                           "truncated", "expected 268435468 bytes");
    });
    if (grew < 0) GTEST_SKIP() << "/proc/self/clear_refs is not available";
    EXPECT_LT(grew, int64_t{32} << 20) << "bytes of peak memory for a 12-byte file";
  }
}

TEST(ReadIdx, TruncatedHeader) {
  TempDir dir;
  Bytes bytes = idx_bytes({2, 3}, {});
  bytes.resize(6);  // magic + half of the first dim
  write_plain(dir.file("hdr"), bytes);
  TT_EXPECT_THROW_WITH(tt::data::read_idx(dir.file("hdr")), tt::Error, dir.file("hdr"), "truncated",
                       "expected a 12-byte header", "got 6 bytes");
}

TEST(ReadIdx, TrailingBytes) {
  TempDir dir;
  Bytes bytes = idx_bytes({2, 3}, kPixels);
  bytes.push_back(7);
  bytes.push_back(7);
  bytes.push_back(7);
  write_plain(dir.file("long"), bytes);
  TT_EXPECT_THROW_WITH(tt::data::read_idx(dir.file("long")), tt::Error, dir.file("long"),
                       "3 unexpected trailing bytes", "expected 18 bytes, got 21");
}

TEST(ReadIdx, CorruptGzip) {
  TempDir dir;
  write_gz(dir.file("c.gz"), idx_bytes({2, 3}, kPixels));
  Bytes gz = read_plain(dir.file("c.gz"));
  ASSERT_GT(gz.size(), 14u);
  for (size_t i = 10; i < gz.size() - 8; ++i) gz[i] ^= 0x5A;  // scramble the deflate stream
  write_plain(dir.file("c.gz"), gz);
  TT_EXPECT_THROW_WITH(tt::data::read_idx(dir.file("c.gz")), tt::Error, dir.file("c.gz"),
                       "not a valid gzip file or is corrupt");
}

TEST(ReadIdx, CutOffGzipStream) {
  TempDir dir;
  write_gz(dir.file("cut.gz"), idx_bytes({2, 3}, kPixels));
  Bytes gz = read_plain(dir.file("cut.gz"));
  gz.resize(gz.size() - 6);  // lose the end of the stream (CRC and length)
  write_plain(dir.file("cut.gz"), gz);
  TT_EXPECT_THROW_WITH(tt::data::read_idx(dir.file("cut.gz")), tt::Error, dir.file("cut.gz"),
                       "corrupt");
}

TEST(ReadIdx, RejectsBoolDtype) {
  TT_EXPECT_THROW_WITH(tt::data::read_idx("whatever", tt::kBool), tt::TypeError, "read_idx",
                       "int64, float32 or float64");
}

}  // namespace
