// A program outside the TinyTorch tree: fits y = 2·x₁ − 3·x₂ + 1 with a Linear layer and SGD,
// saves the weights with serialize::save (zlib's CRC-32) and loads them back into a fresh layer.
// Exit status 0 when the fit is close and the reloaded layer predicts the same.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "tinytorch/tinytorch.h"

namespace tt = tinytorch;
namespace nn = tinytorch::nn;

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path().string();
  tt::manual_seed(0);
  const tt::Tensor x = tt::randn({64, 2});                                 // [64, 2]
  const tt::Tensor y = x.select(1, 0) * 2.0 - x.select(1, 1) * 3.0 + 1.0;  // [64]
  nn::Linear model(2, 1);
  tt::optim::SGD opt(model->parameters(), tt::optim::SGDOptions(0.1));
  double loss = 0;
  for (int step = 0; step < 200; ++step) {
    opt.zero_grad();
    tt::Tensor l = tt::mse_loss(model(x).squeeze(1), y);
    l.backward();
    opt.step();
    loss = l.item<double>();
  }

  const std::string path = dir + "/consumer_weights.ttc";
  tt::serialize::Archive archive;
  archive.tensors = model->state_dict();  // "weight" [1, 2], "bias" [1]
  tt::serialize::save(archive, path);
  nn::Linear reloaded(2, 1);
  reloaded->load_state_dict(tt::serialize::load(path).tensors);
  std::filesystem::remove(path);
  const double diff = (reloaded(x) - model(x)).abs().max().item<double>();

  std::printf("consumer: loss %.2e after 200 SGD steps, reloaded layer differs by %.1e\n", loss,
              diff);
  return loss < 1e-4 && diff == 0 ? 0 : 1;
}
