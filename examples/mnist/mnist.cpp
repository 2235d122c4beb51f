// A convolutional network on Fashion-MNIST, as libtorch's MNIST example trains one on MNIST:
// two convolutions with max pooling, channel dropout, two linear layers, log_softmax and the
// negative log-likelihood, SGD with momentum; the test set's loss and accuracy after each epoch.
// The files are Debian's dataset-fashion-mnist (gzipped IDX, read as they are).
//
//   build/release/bin/example_mnist [--data DIR] [--steps EPOCHS]
//   build/release/bin/example_mnist --fixed --steps 1   closed-form init, dropout off, the first
//                                                       batches in order: the losses match
//                                                       tools/reference/gen_examples.py
#include <torch/torch.h>

#include <cstdio>
#include <string>

#include "common/fixed_run.h"

namespace {

constexpr int64_t kTrainBatchSize = 64;
constexpr int64_t kTestBatchSize = 1000;
constexpr int64_t kFixedBatches = 20;  // a fixed run trains on the first 20 batches only

struct NetImpl : torch::nn::Module {
  // dropout: 0 in a fixed run (a dropout mask is a random draw too).
  explicit NetImpl(double dropout)
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 10, 5)))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(10, 20, 5)))),
        conv2_drop(register_module("conv2_drop", torch::nn::Dropout2d(dropout))),
        fc1(register_module("fc1", torch::nn::Linear(320, 50))),
        fc2(register_module("fc2", torch::nn::Linear(50, 10))),
        dropout_(dropout) {}

  torch::Tensor forward(torch::Tensor x) {                     // [B, 1, 28, 28]
    x = torch::relu(torch::max_pool2d(conv1->forward(x), 2));  // [B, 10, 12, 12]
    x = torch::relu(torch::max_pool2d(conv2_drop->forward(conv2->forward(x)), 2));  // [B, 20, 4, 4]
    x = x.view({-1, 320});
    x = torch::relu(fc1->forward(x));
    x = torch::dropout(x, /*p=*/dropout_, /*train=*/is_training());
    x = fc2->forward(x);
    return torch::log_softmax(x, /*dim=*/1);  // [B, 10]
  }

  torch::nn::Conv2d conv1, conv2;
  torch::nn::Dropout2d conv2_drop;
  torch::nn::Linear fc1, fc2;
  double dropout_;
};
TORCH_MODULE(Net);

template <typename DataLoader>
void train(const examples::RunOptions& options, int64_t epoch, Net& model, DataLoader& data_loader,
           torch::optim::Optimizer& optimizer, int64_t& step) {
  model->train();
  int64_t batch_index = 0;
  for (auto& batch : data_loader) {
    if (options.fixed && batch_index == kFixedBatches) break;
    ++batch_index;
    optimizer.zero_grad();
    const torch::Tensor output = model->forward(batch.data);
    torch::Tensor loss = torch::nll_loss(output, batch.target);
    loss.backward();
    optimizer.step();
    examples::report(options, ++step, loss.template item<double>(), /*every=*/1 << 30);
    if (!options.fixed && batch_index % 100 == 0) {
      std::printf("train epoch %lld [%5lld batches]  loss %.4f\n", static_cast<long long>(epoch),
                  static_cast<long long>(batch_index), loss.template item<double>());
    }
  }
}

template <typename DataLoader>
void test(Net& model, DataLoader& data_loader, size_t dataset_size) {
  torch::NoGradGuard no_grad;
  model->eval();
  double test_loss = 0;
  int64_t correct = 0;
  for (const auto& batch : data_loader) {
    const torch::Tensor output = model->forward(batch.data);
    test_loss += torch::nll_loss(output, batch.target, /*weight=*/{}, torch::Reduction::Sum)
                     .template item<double>();
    correct += output.argmax(1).eq(batch.target).sum().template item<int64_t>();
  }
  std::printf("test set: average loss %.4f, accuracy %.4f\n",
              test_loss / static_cast<double>(dataset_size),
              static_cast<double>(correct) / static_cast<double>(dataset_size));
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = examples::parse_options(argc, argv, /*default_steps=*/3);
  const std::string root =
      options.data.empty() ? "/usr/share/datasets/fashion-mnist" : options.data;
  torch::manual_seed(1);

  Net model(options.fixed ? 0.0 : 0.5);
  if (options.fixed) examples::fixed_init(*model);

  auto train_dataset = torch::data::datasets::MNIST(root)
                           .map(torch::data::transforms::Normalize<>(0.2860, 0.3530))
                           .map(torch::data::transforms::Stack<>());
  auto train_loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      std::move(train_dataset), kTrainBatchSize);
  auto test_dataset = torch::data::datasets::MNIST(root, torch::data::datasets::MNIST::Mode::kTest)
                          .map(torch::data::transforms::Normalize<>(0.2860, 0.3530))
                          .map(torch::data::transforms::Stack<>());
  const size_t test_size = test_dataset.size().value();
  auto test_loader = torch::data::make_data_loader(std::move(test_dataset), kTestBatchSize);

  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.5));
  int64_t step = 0;
  for (int64_t epoch = 1; epoch <= options.steps; ++epoch) {
    train(options, epoch, model, *train_loader, optimizer, step);
    if (!options.fixed) test(model, *test_loader, test_size);
  }
}
