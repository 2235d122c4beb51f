// IDX reading: valid files (plain and gzip) and every kind of broken file, with message checks.
#include <gtest/gtest.h>

#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

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

// A gzip file of `header` (an IDX header), then `megabytes` MiB of zeros, made the way a gzip
// bomb is: the zeros are deflated once, a MiB at a time after a full flush (so that the
// compressed piece does not refer back), and that piece repeated. The trailer records the real
// CRC-32 and size: the file is valid gzip, about 1 KiB per MiB of zeros.
std::string zeros_gzip(const Bytes& header, int64_t megabytes) {
  const std::vector<unsigned char> mib(size_t{1} << 20, 0);
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);  // raw deflate
  const auto deflate_all = [&](const unsigned char* data, size_t n, int flush) {
    std::string out;
    z.next_in = const_cast<unsigned char*>(data);
    z.avail_in = static_cast<uInt>(n);
    do {
      unsigned char buffer[1 << 16];
      z.next_out = buffer;
      z.avail_out = sizeof buffer;
      deflate(&z, flush);
      out.append(reinterpret_cast<char*>(buffer), sizeof buffer - z.avail_out);
    } while (z.avail_out == 0);
    return out;
  };
  std::string gz("\x1f\x8b\x08\0\0\0\0\0\0\x03", 10);  // gzip header, no name
  gz += deflate_all(header.data(), header.size(), Z_FULL_FLUSH);
  const std::string piece = deflate_all(mib.data(), mib.size(), Z_FULL_FLUSH);
  for (int64_t i = 0; i < megabytes; ++i) gz += piece;
  gz += deflate_all(nullptr, 0, Z_FINISH);
  deflateEnd(&z);
  uLong crc = crc32(0, header.data(), static_cast<uInt>(header.size()));
  const uLong crc_mib = crc32(0, mib.data(), static_cast<uInt>(mib.size()));
  for (int64_t i = 0; i < megabytes; ++i) crc = crc32_combine(crc, crc_mib, 1 << 20);
  const uint64_t size = header.size() + (static_cast<uint64_t>(megabytes) << 20);
  for (const uint64_t v : {uint64_t{crc}, size}) {
    for (int b = 0; b < 4; ++b) gz += static_cast<char>((v >> (8 * b)) & 0xFF);
  }
  return gz;
}

void write_string(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A 1 MB gzip file that inflates to 1 GiB: refused from its header (more than kMaxIdxValues),
// before anything is allocated or inflated. (It was read with 5 GiB.) And the same kind of file,
// 256 MiB promised and valid, cut off in the middle: refused before inflating, from its trailer.
// (A truncated 2 MB file took 41 s and 2 GiB to be found out.)
TEST(ReadIdx, GzipBombsAndCutOffBombsAreRefusedBeforeInflating) {
  TempDir dir;
  const std::string bomb = zeros_gzip(idx_bytes({1024, 1024, 1024}, {}), 1024);
  EXPECT_LT(bomb.size(), size_t{2} << 20);
  write_string(dir.file("bomb.gz"), bomb);
  const std::string cut = zeros_gzip(idx_bytes({256, 1024, 1024}, {}), 256);
  write_string(dir.file("cut.gz"), cut.substr(0, cut.size() / 2));
  int64_t grew = peak_rss_growth([&] {
    TT_EXPECT_THROW_WITH(tt::data::read_idx(dir.file("bomb.gz"), tt::kFloat32), tt::Error,
                         dir.file("bomb.gz"), "promising shape [1024, 1024, 1024]",
                         "more than read_idx's limit of 268435456");
    TT_EXPECT_THROW_WITH(tt::data::read_idx(dir.file("cut.gz")), tt::Error, dir.file("cut.gz"),
                         "truncated", "expected 268435472 bytes");
  });
  if (grew < 0) GTEST_SKIP() << "/proc/self/clear_refs is not available";
  EXPECT_LT(grew, int64_t{32} << 20) << "bytes of peak memory";
}

// Within the limit a bomb is just a big file: the bytes are read (16 MiB of zeros from ~16 KiB),
// with the tensor and one 1 MiB buffer as the memory.
TEST(ReadIdx, AValidHighlyCompressedFileIsReadWhole) {
  TempDir dir;
  write_string(dir.file("zeros.gz"), zeros_gzip(idx_bytes({16, 1024, 1024}, {}), 16));
  const tt::Tensor t = tt::data::read_idx(dir.file("zeros.gz"), tt::kFloat32);
  EXPECT_EQ(t.sizes(), tt::IntArrayRef({16, 1024, 1024}));
  EXPECT_EQ(t.abs().max().item<float>(), 0.0f);
}

TEST(ReadIdx, RejectsBoolDtype) {
  TT_EXPECT_THROW_WITH(tt::data::read_idx("whatever", tt::kBool), tt::TypeError, "read_idx",
                       "int64, float32 or float64");
}

}  // namespace
