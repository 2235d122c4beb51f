// serve_make_model DIR — exports a small 12-16-4 MLP with drift statistics to DIR/model.ttm and
// writes DIR/expected.json: 6 input rows and the logits InferenceModel::forward gives for them
// in process, which the server's answers must equal (tests/serve/test_serve.py). Also writes the
// same model as training checkpoints for tinytorch_export (tests/serve/test_export.py):
// DIR/checkpoint.ttc with the architecture and signature entries, DIR/plain.ttc without.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tinytorch/deploy/model_file.h"
#include "tinytorch/deploy/monitor.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/checkpoint.h"

int main(int argc, char** argv) {
  using namespace tinytorch;
  if (argc != 2) {
    std::cerr << "usage: serve_make_model DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  manual_seed(20);
  nn::Sequential mlp(nn::Linear(12, 16), nn::ReLU(), nn::Linear(16, 4));
  const Tensor train = rand({200, 12});
  deploy::ModelSignature sig;
  sig.name = "tiny-mlp";
  sig.input_shape = {12};
  sig.labels = {"north", "east", "south", "west"};
  deploy::export_model(*mlp.ptr(), sig, dir + "/model.ttm",
                       deploy::drift_statistics(deploy::fit_drift(train, 5)));
  const auto model = deploy::InferenceModel::load(dir + "/model.ttm");
  const Tensor inputs = rand({6, 12});
  const Tensor logits = model.forward(inputs).contiguous();
  nlohmann::json out = {{"inputs", nlohmann::json::array()},
                        {"logits", nlohmann::json::array()},
                        {"version", model.signature().version}};
  for (int64_t i = 0; i < 6; ++i) {
    out["inputs"].push_back(inputs.select(0, i).to_vector<float>());
    out["logits"].push_back(logits.select(0, i).to_vector<float>());
  }
  std::ofstream(dir + "/expected.json") << out.dump() << "\n";

  train::Checkpoint ckpt = train::capture_checkpoint({.model = mlp.ptr().get()}, 3);
  train::save_checkpoint(ckpt, dir + "/plain.ttc");
  ckpt.extra.insert(deploy::kArchitectureKey, deploy::describe_architecture(*mlp.ptr()));
  ckpt.extra.insert(deploy::kSignatureKey, deploy::signature_json(sig));
  train::save_checkpoint(ckpt, dir + "/checkpoint.ttc");
  return 0;
}
