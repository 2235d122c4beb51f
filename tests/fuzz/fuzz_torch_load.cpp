// Fuzzes torch::load (serialize/serialize.h) into each kind of value a libtorch program loads:
// a module (fuzz_support.h's model), a tensor, a vector of tensors and an optimizer (Adam over
// the model). Bad bytes must be a tinytorch::Error; a module that fails to load must be left
// unchanged; and whatever loaded must then work: every loaded tensor is read in full, and the
// model and optimizer take a training step. (The archive CRC is made valid first.)
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace tt = tinytorch;
  static tt::fuzz::InputFile file;
  const std::string bytes = tt::fuzz::with_valid_crc(data, size);
  const std::string& path = file.write(bytes.data(), bytes.size());

  tt::nn::Sequential model = tt::fuzz::make_model();
  const auto before = tt::fuzz::snapshot(*model);
  try {
    tt::load(model, path);
  } catch (const tt::Error&) {
    tt::fuzz::expect_unchanged(*model, before);
  }
  tt::Tensor tensor = tt::zeros({2});  // defined: load replaces its data in place
  try {
    tt::load(tensor, path);
  } catch (const tt::Error&) {
  }
  tt::fuzz::touch(tensor);
  std::vector<tt::Tensor> tensors;
  try {
    tt::load(tensors, path);
  } catch (const tt::Error&) {
  }
  for (const tt::Tensor& t : tensors) tt::fuzz::touch(t);
  tt::optim::Adam adam(model->parameters(), tt::optim::AdamOptions(0.01));
  try {
    tt::load(adam, path);
  } catch (const tt::Error&) {
  }
  // Loaded or not, the model and the optimizer must still train.
  tt::fuzz::train_step(model, adam);
  return 0;
}
