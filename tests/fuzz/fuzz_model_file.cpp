// Fuzzes deploy::InferenceModel::load: the input is a model file (an archive of format
// "tinytorch-model": an architecture record, a signature and the tensors; the CRC is made valid
// first). A file that loads must run: one forward on an input that matches its signature (one
// row; a GPT: two token ids) returns [1, num_outputs()] — any error there is a crash. The load runs
// under small ModelLimits, so a record that asks for more work than a fuzz input may take is
// refused by the loader's own check, not found as a timeout.
#include "fuzz_support.h"
#include "tinytorch/deploy/model_file.h"

namespace {

namespace tt = tinytorch;

// Per sample: 2^16 values in any layer, 2^22 multiply-adds (milliseconds under ASan). The seeds
// (fuzz_seeds) are far below both.
constexpr tt::deploy::ModelLimits kLimits{.max_activation_elements = int64_t{1} << 16,
                                          .max_sample_macs = int64_t{1} << 22};

// One input row the signature accepts: float32 values in [-1, 1), or token ids 0, 1 (mod V; as
// many as the GPT's block_size allows, at most 2).
tt::Tensor input_for(const tt::deploy::InferenceModel& model) {
  const tt::deploy::ModelSignature& sig = model.signature();
  if (sig.input_dtype == tt::kInt64) {
    const auto* gpt = dynamic_cast<const tt::nn::GPTImpl*>(&model.module());
    const int64_t t = gpt != nullptr ? std::min<int64_t>(2, gpt->config.block_size) : 1;
    tt::Tensor ids = tt::zeros({1, t}, tt::TensorOptions().dtype(tt::kInt64));
    for (int64_t i = 0; i < t; ++i) ids.data_ptr<int64_t>()[i] = i % model.num_outputs();
    return ids;
  }
  std::vector<int64_t> shape = sig.input_shape;
  shape.insert(shape.begin(), 1);
  tt::Tensor x = tt::zeros(shape);  // at most kLimits' values: the loader checked the shape
  float* p = x.data_ptr<float>();
  for (int64_t i = 0; i < x.numel(); ++i) p[i] = static_cast<float>(i % 16) / 8.0F - 1.0F;
  return x;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tt::fuzz::InputFile file;
  const std::string bytes = tt::fuzz::with_valid_crc(data, size);
  const std::string& path = file.write(bytes.data(), bytes.size());
  std::optional<tt::deploy::InferenceModel> model;
  try {
    model.emplace(tt::deploy::InferenceModel::load(path, kLimits));
  } catch (const tt::Error&) {
    return 0;
  }
  for (const auto& item : model->statistics()) tt::fuzz::touch(item.value());
  // A loaded model runs (a Sequential's layers already ran on zeros at load, the probe). No try:
  // an error here is a crash.
  const tt::Tensor out = model->forward(input_for(*model));
  if (out.dim() != 2 || out.size(0) != 1 || out.size(1) != model->num_outputs()) std::abort();
  tt::fuzz::touch(out);
  return 0;
}
