// serve_make_model DIR — exports a small 12-16-4 MLP with drift statistics to DIR/model.ttm and
// writes DIR/expected.json: 6 input rows and the logits InferenceModel::forward gives for them
// in process, which the server's answers must equal (tests/serve/test_serve.py). Also writes the
// same model as training checkpoints for tinytorch_export (tests/serve/test_export.py):
// DIR/checkpoint.ttc with the architecture and signature entries, DIR/plain.ttc without.
// And three models the server must handle with care: DIR/gpt.ttm (block_size 8), DIR/nan.ttm
// (the MLP with one NaN weight), DIR/bad_drift.ttm (drift statistics of 13 features for 12).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tinytorch/deploy/model_file.h"
#include "tinytorch/deploy/monitor.h"
#include "tinytorch/serialize/archive.h"
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
  // A row of values within float's range whose answer is not finite: each value at float's
  // limit with the sign of the first layer's weight, so that its first output sums 12 terms of
  // the same sign and overflows. The server must refuse to name a class for it.
  const Tensor w0 = mlp->named_parameters().find("0.weight")->select(0, 0).contiguous();
  std::vector<float> huge_row;
  for (int64_t j = 0; j < 12; ++j) {
    huge_row.push_back(w0.data_ptr<float>()[j] >= 0 ? 3.4e38F : -3.4e38F);
  }
  const Tensor huge = model.forward(from_vector(huge_row, {1, 12})).contiguous();
  const float* h = huge.data_ptr<float>();
  if (std::all_of(h, h + huge.numel(), [](float v) { return std::isfinite(v); })) {
    std::cerr << "serve_make_model: the overflowing row gave finite outputs\n";
    return 1;
  }
  nlohmann::json out = {{"inputs", nlohmann::json::array()},
                        {"logits", nlohmann::json::array()},
                        {"version", model.signature().version},
                        {"overflow_row", huge_row}};
  for (int64_t i = 0; i < 6; ++i) {
    out["inputs"].push_back(inputs.select(0, i).to_vector<float>());
    out["logits"].push_back(logits.select(0, i).to_vector<float>());
  }
  std::ofstream(dir + "/expected.json") << out.dump() << "\n";

  nn::GPTConfig c;
  c.vocab_size = 11;
  c.block_size = 8;
  c.n_layer = 1;
  c.n_head = 2;
  c.n_embd = 8;
  nn::GPT gpt(c);
  deploy::export_model(
      *gpt.ptr(),
      {.name = "tiny-gpt", .version = "", .input_shape = {-1}, .input_dtype = kInt64, .labels = {}},
      dir + "/gpt.ttm");
  // export_model refuses a NaN weight, so the file is edited as an archive (its CRC rewritten).
  serialize::Archive archive = serialize::load(dir + "/model.ttm");
  archive.tensors.find("model.0.weight")->data_ptr<float>()[0] = std::nanf("");
  serialize::save(archive, dir + "/nan.ttm");
  deploy::export_model(*mlp.ptr(), sig, dir + "/bad_drift.ttm",
                       deploy::drift_statistics(deploy::fit_drift(rand({200, 13}), 5)));

  train::Checkpoint ckpt = train::capture_checkpoint({.model = mlp.ptr().get()}, 3);
  train::save_checkpoint(ckpt, dir + "/plain.ttc");
  ckpt.extra.insert(deploy::kArchitectureKey, deploy::describe_architecture(*mlp.ptr()));
  ckpt.extra.insert(deploy::kSignatureKey, deploy::signature_json(sig));
  train::save_checkpoint(ckpt, dir + "/checkpoint.ttc");
  return 0;
}
