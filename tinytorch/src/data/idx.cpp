// Reading IDX files (MNIST, Fashion-MNIST), gzip-compressed or plain. See tinytorch/data/idx.h.
#include "tinytorch/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/scalar_type.h"

namespace tinytorch::data {
namespace {

// Owns a zlib gzFile. gzopen/gzread read plain files too ("transparent" mode), so one code path
// serves both .gz and uncompressed files.
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    TT_CHECK(std::filesystem::is_regular_file(path), "read_idx: cannot open '", path,
             "': no such file (expected an IDX file, e.g. train-images-idx3-ubyte.gz)");
    std::error_code ec;
    file_bytes_ = static_cast<int64_t>(std::filesystem::file_size(path, ec));
    TT_CHECK(!ec, "read_idx: cannot read '", path, "': ", ec.message());
    // A gzip member ends with the size of what it inflates to (ISIZE: 4 bytes, little-endian,
    // modulo 2^32): read it now, so that a promise can be checked before anything is inflated.
    if (file_bytes_ >= 4) {
      std::ifstream raw(path, std::ios::binary);
      raw.seekg(-4, std::ios::end);
      std::array<unsigned char, 4> b{};
      raw.read(reinterpret_cast<char*>(b.data()), 4);
      if (raw.gcount() == 4) {
        trailer_size_ = uint32_t{b[0]} | (uint32_t{b[1]} << 8) | (uint32_t{b[2]} << 16) |
                        (uint32_t{b[3]} << 24);
      }
    }
    file_ = gzopen(path.c_str(), "rb");
    TT_CHECK(file_ != nullptr, "read_idx: cannot open '", path, "'");
    gzbuffer(file_, 1 << 17);  // 128 KiB reads: fewer system calls for the 47 MB image file
  }
  ~GzReader() {
    if (file_ != nullptr) gzclose(file_);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to n bytes into dst; returns how many were read (< n only at the end of the data).
  // A corrupt or cut-off gzip stream throws.
  int64_t read(void* dst, int64_t n) {
    int64_t total = 0;
    auto* out = static_cast<unsigned char*>(dst);
    while (total < n) {
      // gzread takes an unsigned count; read in chunks of at most 1 GiB.
      const auto chunk = static_cast<unsigned>(std::min<int64_t>(n - total, int64_t{1} << 30));
      const int got = gzread(file_, out + total, chunk);
      int errnum = Z_OK;
      const char* msg = gzerror(file_, &errnum);
      TT_CHECK(got >= 0 && errnum == Z_OK, "read_idx: '", path_,
               "' is not a valid gzip file or is corrupt (zlib: ", msg,
               "); expected a gzip-compressed or plain IDX file");
      if (got == 0) break;  // end of data
      total += got;
    }
    return total;
  }

  const std::string& path() const { return path_; }
  // The file's size on disk, and whether it is plain (zlib's "transparent" mode) or gzip. Valid
  // once something was read (zlib decides on the first bytes).
  int64_t file_bytes() const { return file_bytes_; }
  bool plain() const { return gzdirect(file_) != 0; }
  // A gzip file's last four bytes: the size its (last) member inflates to, modulo 2^32.
  uint32_t trailer_size() const { return trailer_size_; }

 private:
  std::string path_;
  int64_t file_bytes_ = 0;
  uint32_t trailer_size_ = 0;
  gzFile file_ = nullptr;
};

// Deflate's largest expansion: a 258-byte match in 2 bits (zlib's documentation: 1032:1).
constexpr int64_t kMaxInflation = 1032;

// [[maybe_unused]]: the helpers below serve read_idx_header, whose body is the learner's.
[[maybe_unused]] uint32_t big_endian_u32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

[[maybe_unused]] const char* idx_type_name(unsigned code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "unknown";
  }
}

// Reads and validates the IDX header (magic number and sizes). Returns the shape.
std::vector<int64_t> read_idx_header(GzReader& in) {
  // BEGIN SOLUTION
  const std::string& path = in.path();
  std::array<unsigned char, 4> magic{};
  const int64_t got = in.read(magic.data(), 4);
  TT_CHECK(got > 0, "read_idx: '", path, "' is empty (0 bytes); expected an IDX header");
  TT_CHECK(got == 4, "read_idx: '", path,
           "' is too short: expected a 4-byte IDX magic number, got ", got, " bytes");
  // Bytes 0-1 are zero, byte 2 is the element type, byte 3 the number of dims.
  const uint32_t magic_number = big_endian_u32(magic.data());
  TT_CHECK(magic[0] == 0 && magic[1] == 0 && magic[3] >= 1 && magic[3] <= 4, "read_idx: '", path,
           "' has bad magic number 0x", std::hex, magic_number, std::dec,
           "; expected 0x00000803 (images) or 0x00000801 (labels) — is this an IDX file?");
  TT_CHECK(magic[2] == 0x08, "read_idx: '", path, "' has IDX type code 0x", std::hex,
           unsigned{magic[2]}, std::dec, " (", idx_type_name(magic[2]),
           "); only type code 0x08 (unsigned byte) is supported");

  const int ndim = magic[3];
  std::array<unsigned char, 16> dims_raw{};
  const int64_t got_dims = in.read(dims_raw.data(), 4 * ndim);
  TT_CHECK(got_dims == 4 * ndim, "read_idx: '", path, "' is truncated: expected a ", 4 + 4 * ndim,
           "-byte header for ", ndim, " dims, got ", 4 + got_dims, " bytes");
  std::vector<int64_t> shape;
  int64_t numel = 1;
  constexpr int64_t kMaxElements = int64_t{1} << 34;  // 16 GiB of bytes: a sanity bound
  for (int d = 0; d < ndim; ++d) {
    const int64_t size = big_endian_u32(dims_raw.data() + 4 * d);
    TT_CHECK(size > 0, "read_idx: '", path, "' has size 0 in dim ", d,
             " of its header; expected every dim > 0");
    TT_CHECK(size <= kMaxElements / numel, "read_idx: '", path,
             "' has implausibly large dims in its header (more than 2^34 elements)");
    numel *= size;
    shape.push_back(size);
  }
  return shape;
  // END SOLUTION
}

}  // namespace

Tensor read_idx(const std::string& path, ScalarType dtype) {
  TT_CHECK_TYPE(dtype == kInt64 || dtype == kFloat32 || dtype == kFloat64,
                "read_idx: dtype must be int64, float32 or float64, got ", to_string(dtype));
  GzReader in(path);
  const std::vector<int64_t> shape = read_idx_header(in);
  const int64_t header_bytes = 4 + 4 * static_cast<int64_t>(shape.size());
  int64_t numel = 1;
  for (const int64_t s : shape) numel *= s;

  const int64_t expected = header_bytes + numel;

  // NOTE: numel comes from the header — four bytes anyone can write. So before a byte is
  // allocated or inflated, the promise is held to what read_idx reads at all (kMaxIdxValues) and
  // to what this file can hold: a plain file must be exactly header + numel bytes long (its
  // length is known up front), and a gzip file cannot inflate to more than kMaxInflation times
  // its size, and must end in a trailer that records header + numel bytes. Then the tensor is
  // allocated (at most kMaxIdxValues values) and filled 1 MiB at a time as the bytes arrive, and a
  // stream that ends early fails at its first missing byte.
  TT_CHECK(numel <= kMaxIdxValues, "read_idx: '", path, "' has a header promising shape ",
           IntArrayRef(shape), " = ", numel, " values, more than read_idx's limit of ",
           kMaxIdxValues, " (kMaxIdxValues, data/idx.h)");
  if (in.plain()) {
    TT_CHECK(in.file_bytes() >= expected, "read_idx: '", path,
             "' is truncated: the header promises shape ", IntArrayRef(shape), " so expected ",
             expected, " bytes, got ", in.file_bytes(), " bytes");
    TT_CHECK(in.file_bytes() == expected, "read_idx: '", path, "' has ", in.file_bytes() - expected,
             " unexpected trailing bytes: the header promises shape ", IntArrayRef(shape),
             " so expected ", expected, " bytes, got ", in.file_bytes());
  } else {
    TT_CHECK(expected <= in.file_bytes() * kMaxInflation, "read_idx: '", path,
             "' is truncated: the header promises shape ", IntArrayRef(shape), " so expected ",
             expected, " bytes, but a gzip file of ", in.file_bytes(),
             " bytes inflates to at most ", in.file_bytes() * kMaxInflation, " (deflate expands ",
             kMaxInflation, ":1 at most)");
    // A file cut off anywhere (or ending in anything but a gzip trailer) fails here, before one
    // byte is inflated. expected <= 2^28 + 20, so "modulo 2^32" changes nothing. (A file of
    // several gzip members, which `cat a.gz b.gz` makes, carries only the last one's size: read
    // it after gunzip.)
    TT_CHECK(in.trailer_size() == static_cast<uint32_t>(expected), "read_idx: '", path,
             "' is truncated: the header promises shape ", IntArrayRef(shape), " so expected ",
             expected, " bytes, got ", in.trailer_size(),
             " bytes (the size its gzip trailer records; read_idx reads files of one gzip "
             "member, as gzip writes them)");
  }

  constexpr int64_t kChunk = int64_t{1} << 20;  // 1 MiB
  std::vector<unsigned char> chunk(static_cast<size_t>(std::min(kChunk, numel)));
  Tensor out = empty(shape, TensorOptions(dtype));
  dispatch_all_types(dtype, "read_idx", [&]<typename T>() {
    T* dst = out.data_ptr<T>();  // [numel], contiguous, filled chunk after chunk
    for (int64_t got = 0; got < numel;) {
      const int64_t want = std::min(kChunk, numel - got);
      const int64_t n = in.read(chunk.data(), want);
      got += n;
      TT_CHECK(n == want, "read_idx: '", path, "' is truncated: the header promises shape ",
               IntArrayRef(shape), " so expected ", expected, " bytes, got ", header_bytes + got,
               " bytes");
      dst = std::transform(chunk.begin(), chunk.begin() + want, dst,
                           [](unsigned char b) { return static_cast<T>(b); });
    }
  });
  // Nothing may follow: one read tells, and the stream is not inflated any further.
  std::array<unsigned char, 4096> rest{};
  const int64_t extra = in.read(rest.data(), rest.size());
  TT_CHECK(extra == 0, "read_idx: '", path,
           "' has unexpected trailing bytes: the header promises shape ", IntArrayRef(shape),
           " so expected ", expected, " bytes, got at least ", expected + extra);
  return out;
}

TensorDataset load_mnist_split(const std::string& dir, bool train, const std::string& caller) {
  const std::string prefix = train ? "train" : "t10k";
  // Debian ships the .gz files; an unpacked copy works too.
  auto find = [&](const std::string& stem) {
    const std::string base = dir + "/" + prefix + "-" + stem;
    if (std::filesystem::exists(base + ".gz")) return base + ".gz";
    TT_CHECK(std::filesystem::exists(base), caller, ": neither '", base, ".gz' nor '", base,
             "' exists (install Debian's dataset-fashion-mnist package, or pass the "
             "directory that holds the files)");
    return base;
  };
  const std::string images_path = find("images-idx3-ubyte");
  const std::string labels_path = find("labels-idx1-ubyte");
  Tensor images = read_idx(images_path, kFloat32);  // [N, H, W], values 0 … 255
  Tensor labels = read_idx(labels_path, kInt64);    // [N], values 0 … 9
  TT_CHECK(images.dim() == 3, caller, ": '", images_path,
           "' should hold images [N, H, W], got shape ", images.sizes());
  TT_CHECK(labels.dim() == 1, caller, ": '", labels_path, "' should hold labels [N], got shape ",
           labels.sizes());
  TT_CHECK(images.size(0) == labels.size(0), caller, ": '", images_path, "' has ", images.size(0),
           " images but '", labels_path, "' has ", labels.size(0), " labels");
  images.div_(255.0);  // [0, 255] → [0, 1]
  // [N, H, W] → [N, 1, H, W]: one channel, the layout convolution layers expect.
  return TensorDataset(images.unsqueeze(1), labels);
}

TensorDataset load_fashion_mnist(const std::string& dir, bool train) {
  return load_mnist_split(dir, train, "load_fashion_mnist");
}

}  // namespace tinytorch::data
