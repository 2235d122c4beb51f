// Fuzzes data::read_cifar10 with the input as one binary batch file (tinytorch/data/cifar.h):
// sizes that are not a multiple of 3073, labels >= 10 and empty files must be tinytorch::Error;
// a valid file must decode every record.
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tinytorch::fuzz::InputFile file;
  const std::string& path = file.write(data, size);
  try {
    const tinytorch::data::TensorDataset ds = tinytorch::data::read_cifar10({path});
    tinytorch::fuzz::touch(ds.data());
    tinytorch::fuzz::touch(ds.targets());
  } catch (const tinytorch::Error&) {
  }
  return 0;
}
