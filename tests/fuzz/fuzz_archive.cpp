// Fuzzes serialize::load: the input is an archive file ("TTARCHIV", version, JSON header, tensor
// bytes, CRC-32; the CRC is made valid first). Every loaded tensor is read in full, every string is
// tried as a generator state.
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tinytorch::fuzz::InputFile file;
  const std::string bytes = tinytorch::fuzz::with_valid_crc(data, size);
  const std::string& path = file.write(bytes.data(), bytes.size());
  try {
    const tinytorch::serialize::Archive archive = tinytorch::serialize::load(path);
    for (const auto& item : archive.tensors) tinytorch::fuzz::touch(item.value());
    tinytorch::Generator generator;
    for (const auto& item : archive.strings) {
      try {
        tinytorch::serialize::set_generator_state(generator, item.value());
      } catch (const tinytorch::Error&) {
      }
    }
  } catch (const tinytorch::Error&) {
  }
  return 0;
}
