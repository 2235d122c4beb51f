// milestones/common/export.h — every milestone's trained model, exported for serving (module 20).
//
//   ModelSignature sig = ...;                                   // what the model takes, returns
//   options.metadata = export_metadata(*model.ptr(), sig);      // checkpoints: ./tito export
//   ...train...
//   write_model_file(out, *model.ptr(), sig, out_dir, [&] { return statistics; });  // model.ttm
//
// The model file is module 20's: a learner who has not written that module yet still gets every
// other output of the milestone, and a line saying why model.ttm is missing.
#pragma once

#include <algorithm>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>

#include "tinytorch/core/exception.h"
#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/deploy/model_file.h"
#include "tinytorch/deploy/monitor.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::milestones {

inline constexpr const char* kModelFileName = "model.ttm";

// The extra checkpoint entries ./tito export converts a checkpoint with (TrainerOptions::metadata).
inline OrderedDict<std::string, std::string> export_metadata(const nn::Module& model,
                                                             const deploy::ModelSignature& sig) {
  OrderedDict<std::string, std::string> metadata{"Metadata key"};
  metadata.insert(deploy::kArchitectureKey, deploy::describe_architecture(model));
  metadata.insert(deploy::kSignatureKey, deploy::signature_json(sig));
  return metadata;
}

using StatisticsFn = std::function<OrderedDict<std::string, Tensor>()>;

// Writes <out_dir>/<file_name> (nothing when out_dir is empty) and says so. `statistics` (may be
// empty) computes the tensors stored with it — only when the file is written. Returns whether it
// was written; a module-20 function that is still a stub prints why instead of failing the run.
inline bool write_model_file(std::ostream& out, const nn::Module& model,
                             const deploy::ModelSignature& sig, const std::string& out_dir,
                             const StatisticsFn& statistics = {},
                             const std::string& file_name = kModelFileName) {
  if (out_dir.empty()) return false;
  const std::string path = (std::filesystem::path(out_dir) / file_name).string();
  try {
    deploy::export_model(model, sig, path,
                         statistics ? statistics() : OrderedDict<std::string, Tensor>{});
  } catch (const NotImplementedError& e) {
    out << file_name << " not written: module 20 (export) is not implemented yet (" << e.what()
        << ")\n";
    return false;
  }
  out << "wrote " << path << " (serve it: ./tito serve " << path << ")\n";
  return true;
}

// The statistics a served image model carries: how a client standardises its inputs
// ("input.mean", "input.std": send (pixel − mean) / std, pixels in [0, 1]) and the drift
// reference of the server's monitor (module 20), fitted on the first `rows` standardised
// training inputs, flattened to one feature per pixel.
inline OrderedDict<std::string, Tensor> input_statistics(const Tensor& training_inputs, double mean,
                                                         double stdev, int64_t rows = 10000) {
  const int64_t n = std::min(rows, training_inputs.size(0));
  OrderedDict<std::string, Tensor> stats =
      deploy::drift_statistics(deploy::fit_drift(training_inputs.narrow(0, 0, n).reshape({n, -1})));
  stats.insert("input.mean", full({1}, mean, kFloat32));
  stats.insert("input.std", full({1}, stdev, kFloat32));
  return stats;
}

}  // namespace tinytorch::milestones
