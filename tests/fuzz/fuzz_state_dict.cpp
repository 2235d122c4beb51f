// Fuzzes Module::load_state_dict from a file: serialize::load, then load_state_dict into a fixed
// model (fuzz_support.h), then a forward pass over the loaded weights. A dict that does not fit
// must be an error and leave the model unchanged. (The archive CRC is made valid first.)
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tinytorch::fuzz::InputFile file;
  const std::string bytes = tinytorch::fuzz::with_valid_crc(data, size);
  const std::string& path = file.write(bytes.data(), bytes.size());
  tinytorch::nn::Sequential model = tinytorch::fuzz::make_model();
  const auto before = tinytorch::fuzz::snapshot(*model);
  try {
    model->load_state_dict(tinytorch::serialize::load(path).tensors);
  } catch (const tinytorch::Error&) {
    tinytorch::fuzz::expect_unchanged(*model, before);
  }
  // Loaded or not, the model must still run.
  (void)model->forward(tinytorch::ones({2, 3}));
  return 0;
}
