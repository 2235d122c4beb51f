// Reading CIFAR-10's binary batch files. See tinytorch/data/cifar.h.
#include "tinytorch/data/cifar.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/scalar_type.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::data {
namespace {

namespace fs = std::filesystem;

// How many records of a batch file: its size over 3073, after checking that it exists and that
// its size is a positive multiple of 3073 — the only check a headerless format allows.
int64_t count_records(const std::string& path) {
  std::error_code ec;
  TT_CHECK(fs::is_regular_file(path, ec), "read_cifar10: cannot open '", path,
           "': no such file (expected a CIFAR-10 binary batch file, e.g. data_batch_1.bin)");
  const auto size = static_cast<int64_t>(fs::file_size(path, ec));
  TT_CHECK(!ec, "read_cifar10: cannot read the size of '", path, "': ", ec.message());
  TT_CHECK(size > 0, "read_cifar10: '", path, "' is empty (0 bytes); expected records of ",
           kCifar10RecordBytes, " bytes (1 label byte + ", kCifar10ImageBytes, " pixel bytes)");
  TT_CHECK(size % kCifar10RecordBytes == 0, "read_cifar10: '", path, "' has ", size,
           " bytes, not a whole number of records (", size / kCifar10RecordBytes, " records and ",
           size % kCifar10RecordBytes, " bytes over); expected a multiple of ", kCifar10RecordBytes,
           " bytes (1 label byte + ", kCifar10ImageBytes,
           " pixel bytes per record) — is it truncated, or CIFAR-100 (3074-byte records)?");
  return size / kCifar10RecordBytes;
}

// Decodes record `index` of `path`, the kCifar10RecordBytes bytes at `record`: returns its label
// and writes its pixels into `image` [3, 32, 32] (contiguous CHW) as byte / 255.
int64_t decode_cifar10_record(const unsigned char* record, float* image, const std::string& path,
                              int64_t index) {
  // BEGIN SOLUTION
  const int64_t label = record[0];
  TT_CHECK(label < kCifar10Classes, "read_cifar10: '", path, "' record ", index, " (byte offset ",
           index * kCifar10RecordBytes, ") has label ", label,
           "; expected a label in 0 … 9 (CIFAR-10 has 10 classes)");
  // The 3072 pixel bytes are already planar — the red 32×32 plane, then green, then blue — so
  // byte i of the record's image is element i of the [3, 32, 32] tensor: no reordering.
  const unsigned char* pixels = record + 1;
  for (int64_t i = 0; i < kCifar10ImageBytes; ++i) {
    image[i] = static_cast<float>(pixels[i]) / 255.0f;
  }
  return label;
  // END SOLUTION
}

// Reads the `records` records of `path` into images [records, 3, 32, 32] and labels [records].
//
// NOTE: the file is read in chunks of whole records (kChunkRecords · 3073 bytes, 0.75 MiB), so
// memory holds one chunk beside the output tensors, whatever the file's size. Those tensors were
// sized from the file's size on disk: if the file shrinks or grows after that, reading stops with
// an error rather than writing past them or returning a partial dataset.
void read_records(const std::string& path, int64_t records, float* images, int64_t* labels) {
  std::ifstream in(path, std::ios::binary);
  TT_CHECK(in.is_open(), "read_cifar10: cannot open '", path, "'");
  constexpr int64_t kChunkRecords = 256;
  std::vector<unsigned char> chunk(
      static_cast<size_t>(std::min(kChunkRecords, records) * kCifar10RecordBytes));
  for (int64_t first = 0; first < records; first += kChunkRecords) {
    const int64_t n = std::min(kChunkRecords, records - first);
    in.read(reinterpret_cast<char*>(chunk.data()),
            static_cast<std::streamsize>(n * kCifar10RecordBytes));
    const auto got = static_cast<int64_t>(in.gcount());
    TT_CHECK(got == n * kCifar10RecordBytes, "read_cifar10: '", path,
             "' is truncated: its size on disk was ", records * kCifar10RecordBytes, " bytes (",
             records, " records) but reading stopped after ", first * kCifar10RecordBytes + got,
             " bytes; did the file change while being read?");
    for (int64_t r = 0; r < n; ++r) {
      labels[first + r] =
          decode_cifar10_record(chunk.data() + r * kCifar10RecordBytes,
                                images + (first + r) * kCifar10ImageBytes, path, first + r);
    }
  }
  TT_CHECK(in.peek() == std::ifstream::traits_type::eof(), "read_cifar10: '", path,
           "' grew while being read: expected ", records * kCifar10RecordBytes, " bytes");
}

}  // namespace

TensorDataset read_cifar10(const std::vector<std::string>& paths) {
  TT_CHECK(!paths.empty(), "read_cifar10: expected at least one batch file, got none");
  // Every file is checked before anything is allocated: a bad fifth file fails in microseconds.
  std::vector<int64_t> counts;
  int64_t total = 0;
  for (const std::string& path : paths) total += counts.emplace_back(count_records(path));

  Tensor images = empty({total, 3, 32, 32}, TensorOptions(kFloat32));
  Tensor labels = empty({total}, TensorOptions(kInt64));
  float* image_data = images.data_ptr<float>();  // [total, 3, 32, 32], contiguous
  int64_t* label_data = labels.data_ptr<int64_t>();
  int64_t offset = 0;  // records read so far, over all files
  for (size_t f = 0; f < paths.size(); ++f) {
    read_records(paths[f], counts[f], image_data + offset * kCifar10ImageBytes,
                 label_data + offset);
    offset += counts[f];
  }
  return TensorDataset(images, labels);
}

TensorDataset load_cifar10(const std::string& dir, bool train) {
  std::vector<std::string> paths;
  if (train) {
    for (int i = 1; i <= 5; ++i) paths.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
  } else {
    paths.push_back(dir + "/test_batch.bin");
  }
  for (const std::string& path : paths) {
    TT_CHECK(fs::exists(path), "load_cifar10: '", path,
             "' does not exist; expected CIFAR-10's binary version in '", dir,
             "': data_batch_1.bin … data_batch_5.bin and test_batch.bin (unpacked from "
             "cifar-10-binary.tar.gz)");
  }
  return read_cifar10(paths);
}

std::vector<std::string> cifar10_classes(const std::string& dir) {
  const std::string path = dir + "/batches.meta.txt";
  if (!fs::exists(path)) {
    return {"airplane", "automobile", "bird",  "cat",  "deer",
            "dog",      "frog",       "horse", "ship", "truck"};
  }
  // A list of ten short names: a file far larger than that is not this file.
  constexpr int64_t kMaxBytes = 64 * 1024;
  std::error_code ec;
  const auto size = static_cast<int64_t>(fs::file_size(path, ec));
  TT_CHECK(!ec && size <= kMaxBytes, "cifar10_classes: '", path, "' has ",
           ec ? std::string("an unreadable size") : std::to_string(size) + " bytes",
           "; expected a short text file of 10 class names, one per line");
  std::ifstream in(path);
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  TT_CHECK(static_cast<int64_t>(names.size()) == kCifar10Classes, "cifar10_classes: '", path,
           "' names ", names.size(), " classes; expected ", kCifar10Classes, ", one per line");
  return names;
}

}  // namespace tinytorch::data
