// Fuzzes data::read_idx with the input as the file's bytes: plain IDX, or gzip (zlib reads both;
// the seeds hold both). Wrong headers, truncation and corrupt gzip must be tinytorch::Error.
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tinytorch::fuzz::InputFile file;
  const std::string& path = file.write(data, size);
  try {
    tinytorch::fuzz::touch(tinytorch::data::read_idx(path, tinytorch::kInt64));
  } catch (const tinytorch::Error&) {
  }
  return 0;
}
