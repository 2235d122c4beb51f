// Fuzzes train::load_checkpoint and restore_checkpoint: the input is a checkpoint file, restored
// into a fixed model + Adam + StepLR + generator (fuzz_support.h, as the seeds were saved), then
// one training step runs on what was restored. A checkpoint that does not fit must be an error and
// leave every object as it was. (The archive CRC is made valid first.)
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace tt = tinytorch;
  static tt::fuzz::InputFile file;
  const std::string bytes = tt::fuzz::with_valid_crc(data, size);
  const std::string& path = file.write(bytes.data(), bytes.size());
  tt::fuzz::TrainingObjects t;
  const auto before = tt::fuzz::snapshot(*t.model);
  try {
    tt::train::restore_checkpoint(tt::train::load_checkpoint(path), t.state);
  } catch (const tt::Error&) {
    tt::fuzz::expect_unchanged(*t.model, before);
  }
  tt::fuzz::train_step(t.model, t.optimizer);
  t.scheduler.step();
  return 0;
}
