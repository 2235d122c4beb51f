// tinytorch_export — a training checkpoint → a model file for serving (module 20). `tito export`
// runs it.
//
//   tinytorch_export runs/1986/checkpoint.ttc --out model.ttm [--int8] [--per-tensor]
//                    [--statistics-from runs/1986/model.ttm] [--name fashion-mlp]
//
//   checkpoint.ttc ──► model tensors + "deploy.architecture" + "deploy.signature" (extra entries
//   (module 07)        the milestones record, deploy/model_file.h)
//        │
//        ▼ build_module(architecture, tensors) + load_state_dict   (the model file loader's
//        │  limits first; --int8: quantize_dynamic, module 15)
//   export_model ──► model.ttm ──► InferenceModel::load ──► the same outputs? (checked: exit 1 if
//   not)
//
// The optimizer state, the random generators and the history stay behind: the model file is
// what inference needs and nothing else.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/deploy/model_file.h"
#include "tinytorch/nn/modules/quantized_linear.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/checkpoint.h"

namespace {

using namespace tinytorch;

struct Settings {
  std::string checkpoint;
  std::string out;
  bool int8 = false;
  bool per_tensor = false;
  std::string statistics_from;
  std::string name;
};

// Inputs of the signature's shape for the round-trip check: N(0, 1) floats, or token ids.
Tensor probe_inputs(const deploy::InferenceModel& model) {
  const deploy::ModelSignature& sig = model.signature();
  std::vector<int64_t> shape{4};
  for (const int64_t d : sig.input_shape) shape.push_back(d == -1 ? 8 : d);
  if (sig.input_dtype == kInt64) return randint(0, model.num_outputs(), shape);
  return randn(shape);
}

int run(const Settings& s) {
  const train::Checkpoint ckpt = train::load_checkpoint(s.checkpoint);
  const std::string* arch = ckpt.extra.find(deploy::kArchitectureKey);
  const std::string* sig_text = ckpt.extra.find(deploy::kSignatureKey);
  if (arch == nullptr || sig_text == nullptr) {
    std::cerr << "error: '" << s.checkpoint << "' has no " << deploy::kArchitectureKey << " and "
              << deploy::kSignatureKey
              << " entries: the program that trained it did not record its architecture (the "
                 "milestones 1986, 1998 and 2017 do: re-run them to get an exportable "
                 "checkpoint)\n";
    return 1;
  }
  deploy::ModelSignature sig = deploy::parse_signature(*sig_text);
  if (!s.name.empty()) sig.name = s.name;
  sig.version.clear();  // named after the weights actually exported

  std::shared_ptr<nn::Module> model = deploy::build_module(*arch, ckpt.model);
  try {
    model->load_state_dict(ckpt.model);
  } catch (const Error& e) {
    throw Error(std::string("'") + s.checkpoint +
                "': its tensors do not fit its architecture: " + e.what());
  }
  model->eval();
  if (s.int8) {
    auto seq = std::dynamic_pointer_cast<nn::SequentialImpl>(model);
    if (!seq) {
      std::cerr << "error: --int8 quantizes the Linear layers of a Sequential; this checkpoint's "
                   "model is a "
                << model->name() << "\n";
      return 1;
    }
    model = quantization::quantize_dynamic(nn::Sequential(seq), !s.per_tensor).ptr();
    if (sig.name.find("int8") == std::string::npos) sig.name += "-int8";
  }
  OrderedDict<std::string, Tensor> statistics;
  if (!s.statistics_from.empty()) {
    statistics = deploy::InferenceModel::load(s.statistics_from).statistics();
  }
  deploy::export_model(*model, sig, s.out, statistics);

  // Load what was written, as the server will, and compare it with the model in memory.
  const deploy::InferenceModel loaded = deploy::InferenceModel::load(s.out);
  const Tensor x = probe_inputs(loaded);
  Tensor want;
  {
    NoGradGuard no_grad;
    if (auto gpt = std::dynamic_pointer_cast<nn::GPTImpl>(model)) {
      want = gpt->forward(x).select(1, x.size(1) - 1);
    } else {
      want = std::dynamic_pointer_cast<nn::SequentialImpl>(model)->forward(x);
    }
  }
  const double max_diff = (loaded.forward(x) - want).abs().max().item<double>();
  const auto file_bytes = std::filesystem::file_size(s.out);
  std::cout << "exported " << s.checkpoint << " (epoch " << ckpt.epoch << ") → " << s.out << "\n"
            << "  model   " << sig.name << ", version " << loaded.signature().version << ", "
            << loaded.module().name() << ", " << loaded.num_outputs() << " outputs\n"
            << "  weights " << loaded.weight_bytes() << " bytes" << (s.int8 ? " (int8)" : "")
            << "; file " << file_bytes << " bytes"
            << (statistics.is_empty() ? "" : "; statistics from " + s.statistics_from) << "\n"
            << "  check   reloaded outputs vs the model in memory on " << x.size(0)
            << " inputs: max |difference| " << max_diff << "\n";
  if (max_diff != 0.0) {
    std::cerr << "error: the reloaded model does not reproduce the model in memory\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{"Convert a training checkpoint into a model file for tito serve (module 20)",
               "tinytorch_export"};
  app.add_option("checkpoint", s.checkpoint,
                 "the training checkpoint, e.g. runs/1986/checkpoint.ttc")
      ->required();
  app.add_option("--out", s.out, "the model file to write (atomically), e.g. model.ttm")
      ->required();
  app.add_flag("--int8", s.int8,
               "quantize the Linear layers to int8 (module 15's quantize_dynamic)");
  app.add_flag("--per-tensor", s.per_tensor,
               "with --int8: one weight scale per layer, not per row");
  app.add_option("--statistics-from", s.statistics_from,
                 "copy the statistics (drift reference, input standardisation) of this model file")
      ->check(CLI::ExistingFile);
  app.add_option("--name", s.name, "the model's name in the signature (default: the checkpoint's)");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
