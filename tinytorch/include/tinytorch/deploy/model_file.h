// tinytorch/deploy/model_file.h — exporting a trained model and loading it for inference only
// (module 20).
//
//   deploy::ModelSignature sig{.name = "fashion-mlp", .input_shape = {784},
//                              .labels = {"T-shirt/top", "Trouser", ...}};
//   deploy::export_model(*mlp.ptr(), sig, "runs/1986/model.ttm");      // atomic write
//   ...                                        // later, in another program (the server):
//   auto model = deploy::InferenceModel::load("runs/1986/model.ttm");  // checks everything
//   Tensor logits = model.forward(images);     // [N, 784] → [N, 10]; no autograd, eval mode
//
// A training checkpoint (module 07) is everything needed to CONTINUE training: optimizer moments,
// random generators, history. A model file is everything needed to RUN the model and nothing
// else — what PyTorch calls exporting (torch.jit.save, torch.export, ONNX):
//
//   ┌──────────── model.ttm: a serialize::Archive (magic, version, CRC-32, atomic) ───────────┐
//   │ format         "tinytorch-model"            strings: what this file is                  │
//   │ format_version "1" (or "2": fuse_relu)      a newer file is refused, not misread        │
//   │ architecture   {"type": "Sequential",       the recipe to rebuild the modules: one      │
//   │                 "layers": [{"name": "0",    record per layer with its options           │
//   │                   "type": "Linear", ...}]}                                              │
//   │ signature      {"name", "version",          what the model takes and returns            │
//   │                 "input_shape", "input_dtype", "labels"}                                 │
//   │ model.0.weight float32 [256, 784] ...       the state_dict, prefixed "model."           │
//   │ model.0.weight int8 [256, 784]              a quantized Linear (module 15): its integer │
//   │ model.0.weight_scale float32 [256]          weights, scales and bias, unpacked          │
//   │ statistics.*   e.g. the training inputs'    free-form tensors the server reads (drift   │
//   │                histograms                   monitoring)                                 │
//   └─────────────────────────────────────────────────────────────────────────────────────────┘
//
// The loader rebuilds the layers from the architecture record, loads the tensors into them and
// checks that every tensor was used and every parameter was given (strict), so a file whose
// tensors and recipe disagree is an error that names the file, never a model that silently
// computes something else. Supported: Sequential of Linear, quantized dynamic Linear, Conv2d,
// MaxPool2d, AvgPool2d, BatchNorm1d/2d, Flatten, Dropout, Identity and the activations; GPT.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/core/scalar_type.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/module.h"

namespace tinytorch::deploy {

// The "format" entry of every model file, and the newest version this build reads (it reads
// every version from 1). A file gets the LOWEST version that holds it: 2 only when a layer uses
// what a version-1 reader would silently drop — a BatchNorm with fuse_relu, which such a reader
// would build without its ReLU — so that the old reader refuses the file instead of misreading it.
inline constexpr const char* kModelFormat = "tinytorch-model";
inline constexpr int64_t kModelFormatVersion = 2;

// What a served model takes and returns.
struct ModelSignature {
  std::string name;                   // "fashion-mlp"
  std::string version;                // "" at export: "<name>-<CRC-32 of the tensors, hex>"
  std::vector<int64_t> input_shape;   // ONE sample: [784], [1, 28, 28]; GPT: [-1] (any length)
  ScalarType input_dtype = kFloat32;  // kFloat32, or kInt64 (token ids)
  std::vector<std::string> labels;    // one name per output (class names, characters); may be empty
};

// The architecture record of `model` as JSON text (the "architecture" entry of a model file).
// Throws tinytorch::TypeError naming the first module that has no record (a custom module).
std::string describe_architecture(const nn::Module& model);
// A fresh module built from an architecture record (its parameters freshly initialised), for
// `tensors` — the state_dict that will be loaded into it (a checkpoint's model) — to fill. The
// record is held to the limits InferenceModel::load applies, by the same builder: Sequentials
// nested at most 64 deep, and no more parameters declared than `tensors` back (checked before
// anything is allocated). Throws tinytorch::ValueError for a malformed record, an unknown layer
// type, or a record over those limits.
std::shared_ptr<nn::Module> build_module(const std::string& architecture,
                                         const OrderedDict<std::string, Tensor>& tensors);

// The signature as JSON text ({"name", "version", "input_shape", "input_dtype", "labels"}) and
// back. parse_signature throws tinytorch::ValueError for malformed JSON, a missing key, an input
// dtype other than float32/int64, or input_shape entries outside [1, 2^24] (or -1).
std::string signature_json(const ModelSignature& signature);
ModelSignature parse_signature(const std::string& json_text);

// A training checkpoint that can be exported later (./tito export CHECKPOINT) carries these two
// extra entries: describe_architecture(model) and signature_json(signature). The milestones put
// them there through train::TrainerOptions::metadata.
inline constexpr const char* kArchitectureKey = "deploy.architecture";
inline constexpr const char* kSignatureKey = "deploy.signature";

// Writes `model` (float or int8 layers) with its signature and `statistics` to `path`,
// atomically. The model must be describable (describe_architecture) and its tensors finite.
void export_model(
    const nn::Module& model, const ModelSignature& signature, const std::string& path,
    const OrderedDict<std::string, Tensor>& statistics = OrderedDict<std::string, Tensor>{});

// What a loaded model may ask of the machine for ONE sample (a request of N rows costs N times
// as much; the server bounds N with --max-batch). A model file is input like any other: its
// architecture record could declare layers whose outputs or work are far larger than its tensors.
// load() refuses such a file, naming the layer and the limit, before it computes anything.
struct ModelLimits {
  // Values in any one layer's output (or temporary buffer), the input included: 2^24 floats are
  // 64 MiB.
  int64_t max_activation_elements = int64_t{1} << 24;
  // Multiply-adds of one forward (a GPT: at its full block_size), ~17 G.
  int64_t max_sample_macs = int64_t{1} << 34;
};

// A model loaded for inference: no optimizer, no autograd, eval mode.
class InferenceModel {
 public:
  // Reads and checks `path` (tinytorch::Error naming the file and the problem: missing, not a
  // model file — a training checkpoint is named as such —, newer version, corrupt, truncated,
  // a malformed architecture or signature, tensors that do not fit the architecture, layers
  // whose parameters the file's tensors do not hold, a NaN or infinite weight, a model over
  // `limits`).
  static InferenceModel load(const std::string& path, const ModelLimits& limits = {});

  // inputs [N, *input_shape] of input_dtype (N ≥ 1) → outputs [N, num_outputs()] float32: the
  // logits (a GPT: those of the next token after each row). Throws tinytorch::ValueError or
  // TypeError naming the expected and the actual shape, dtype, token id range or context
  // length (at most the GPT's block_size tokens): errors of the inputs, never of the model. NOTE:
  // const and safe to call from several threads at once — the layers only read their weights in
  // eval mode, and grad mode is per thread.
  Tensor forward(const Tensor& inputs) const;

  const ModelSignature& signature() const { return signature_; }
  int64_t num_outputs() const { return num_outputs_; }
  const std::string& architecture() const { return architecture_; }  // JSON text
  const std::string& path() const { return path_; }
  // The bytes of the weights as stored (int8 layers count one byte per weight).
  int64_t weight_bytes() const { return weight_bytes_; }
  // Tensors stored with the model at export ("statistics." prefix removed); empty if none.
  const OrderedDict<std::string, Tensor>& statistics() const { return statistics_; }
  // The rebuilt modules (read-only use: printing, summaries).
  const nn::Module& module() const { return *module_; }

 private:
  InferenceModel() = default;

  std::shared_ptr<nn::Module> module_;
  std::function<Tensor(const Tensor&)> run_;  // the module's forward (a GPT: last position only)
  ModelSignature signature_;
  int64_t num_outputs_ = 0;
  std::string architecture_;
  std::string path_;
  int64_t weight_bytes_ = 0;
  OrderedDict<std::string, Tensor> statistics_{"Statistic"};
};

}  // namespace tinytorch::deploy
