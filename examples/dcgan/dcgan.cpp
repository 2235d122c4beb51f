// A deep convolutional GAN (Radford, Metz & Chintala 2015) on Fashion-MNIST, as libtorch's DCGAN
// example trains one on MNIST: a generator of transposed convolutions from 100 noise values to a
// 28×28 image, a convolutional discriminator, both with BatchNorm, Adam(2e-4, β₁ 0.5), binary
// cross-entropy with smoothed real labels. At the end it writes a grid of 64 samples as a PGM
// image (dcgan-samples.pgm, or --data DIR/dcgan-samples.pgm).
//
//   build/release/bin/example_dcgan [--steps EPOCHS]
//   build/release/bin/example_dcgan --fixed --steps 1   closed-form init, noise and labels, the
//                                                       first batches in order: the losses match
//                                                       tools/reference/gen_examples.py
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/fixed_run.h"

namespace {

constexpr int64_t kNoiseSize = 100;
constexpr int64_t kBatchSize = 64;
constexpr int64_t kFixedBatches = 4;
constexpr const char* kDataRoot = "/usr/share/datasets/fashion-mnist";

// noise [B, 100, 1, 1] → [B, 256, 4, 4] → [B, 128, 7, 7] → [B, 64, 14, 14] → [B, 1, 28, 28]
struct GeneratorImpl : torch::nn::Module {
  GeneratorImpl()
      : conv1(torch::nn::ConvTranspose2dOptions(kNoiseSize, 256, 4).bias(false)),
        batch_norm1(256),
        conv2(torch::nn::ConvTranspose2dOptions(256, 128, 3).stride(2).padding(1).bias(false)),
        batch_norm2(128),
        conv3(torch::nn::ConvTranspose2dOptions(128, 64, 4).stride(2).padding(1).bias(false)),
        batch_norm3(64),
        conv4(torch::nn::ConvTranspose2dOptions(64, 1, 4).stride(2).padding(1).bias(false)) {
    register_module("conv1", conv1);
    register_module("conv2", conv2);
    register_module("conv3", conv3);
    register_module("conv4", conv4);
    register_module("batch_norm1", batch_norm1);
    register_module("batch_norm2", batch_norm2);
    register_module("batch_norm3", batch_norm3);
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(batch_norm1(conv1(x)));
    x = torch::relu(batch_norm2(conv2(x)));
    x = torch::relu(batch_norm3(conv3(x)));
    return torch::tanh(conv4(x));  // pixels in [-1, 1]
  }

  torch::nn::ConvTranspose2d conv1;
  torch::nn::BatchNorm2d batch_norm1;
  torch::nn::ConvTranspose2d conv2;
  torch::nn::BatchNorm2d batch_norm2;
  torch::nn::ConvTranspose2d conv3;
  torch::nn::BatchNorm2d batch_norm3;
  torch::nn::ConvTranspose2d conv4;
};
TORCH_MODULE(Generator);

// image [B, 1, 28, 28] → [B, 64, 14, 14] → [B, 128, 7, 7] → [B, 256, 3, 3] → [B, 1, 1, 1]
torch::nn::Sequential make_discriminator() {
  using namespace torch::nn;  // NOLINT(google-build-using-namespace): libtorch's example style
  return Sequential(Conv2d(Conv2dOptions(1, 64, 4).stride(2).padding(1).bias(false)),
                    LeakyReLU(LeakyReLUOptions().negative_slope(0.2)),
                    Conv2d(Conv2dOptions(64, 128, 4).stride(2).padding(1).bias(false)),
                    BatchNorm2d(128), LeakyReLU(LeakyReLUOptions().negative_slope(0.2)),
                    Conv2d(Conv2dOptions(128, 256, 4).stride(2).padding(1).bias(false)),
                    BatchNorm2d(256), LeakyReLU(LeakyReLUOptions().negative_slope(0.2)),
                    Conv2d(Conv2dOptions(256, 1, 3).stride(1).padding(0).bias(false)), Sigmoid());
}

// 64 images [64, 1, 28, 28] in [-1, 1] as one 8×8 grid, an 8-bit binary PGM, written whole
// and then renamed into place.
void write_grid(const torch::Tensor& images, const std::filesystem::path& path) {
  const torch::Tensor grid = images.view({8, 8, 28, 28})
                                 .permute({0, 2, 1, 3})
                                 .reshape({8 * 28, 8 * 28})
                                 .add(1)
                                 .mul(127.5)
                                 .clamp(0, 255)
                                 .to(torch::kUInt8)
                                 .contiguous();
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << "P5\n" << grid.size(1) << " " << grid.size(0) << "\n255\n";
    out.write(reinterpret_cast<const char*>(grid.data_ptr<uint8_t>()),
              static_cast<std::streamsize>(grid.numel()));
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
  std::printf("wrote %s\n", path.string().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = examples::parse_options(argc, argv, /*default_steps=*/2);
  torch::manual_seed(1);

  Generator generator;
  torch::nn::Sequential discriminator = make_discriminator();
  if (options.fixed) {
    examples::fixed_init(*generator);
    examples::fixed_init(*discriminator);
  }

  auto dataset = torch::data::datasets::MNIST(kDataRoot)
                     .map(torch::data::transforms::Normalize<>(0.5, 0.5))
                     .map(torch::data::transforms::Stack<>());
  auto data_loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
      std::move(dataset), torch::data::DataLoaderOptions().batch_size(kBatchSize).workers(2));

  torch::optim::Adam generator_optimizer(generator->parameters(),
                                         torch::optim::AdamOptions(2e-4).betas({0.5, 0.999}));
  torch::optim::Adam discriminator_optimizer(discriminator->parameters(),
                                             torch::optim::AdamOptions(2e-4).betas({0.5, 0.999}));

  int64_t step = 0;
  for (int64_t epoch = 1; epoch <= options.steps; ++epoch) {
    int64_t batch_index = 0;
    for (torch::data::Example<>& batch : *data_loader) {
      if (options.fixed && batch_index == kFixedBatches) break;
      const int64_t b = batch.data.size(0);
      // Noise and the smoothed "real" labels: random draws, or closed forms in a fixed run.
      torch::Tensor noise = torch::randn({b, kNoiseSize, 1, 1});
      torch::Tensor real_labels = torch::empty(b).uniform_(0.8, 1.0);
      if (options.fixed) {
        noise = examples::fixed_values({b, kNoiseSize, 1, 1}, 0.1 * batch_index, 1.0);
        real_labels = torch::full({b}, 0.9);
      }
      ++batch_index;

      // The discriminator: real images towards ~1, generated ones towards 0.
      discriminator->zero_grad();
      const torch::Tensor real_output = discriminator->forward(batch.data).reshape(b);
      torch::Tensor d_loss_real = torch::binary_cross_entropy(real_output, real_labels);
      d_loss_real.backward();
      const torch::Tensor fake_images = generator->forward(noise);
      const torch::Tensor fake_labels = torch::zeros(b);
      const torch::Tensor fake_output = discriminator->forward(fake_images.detach()).reshape(b);
      torch::Tensor d_loss_fake = torch::binary_cross_entropy(fake_output, fake_labels);
      d_loss_fake.backward();
      const torch::Tensor d_loss = d_loss_real + d_loss_fake;
      discriminator_optimizer.step();

      // The generator: make the discriminator say "real" to its images.
      generator->zero_grad();
      const torch::Tensor fooled = discriminator->forward(fake_images).reshape(b);
      torch::Tensor g_loss = torch::binary_cross_entropy(fooled, torch::ones(b));
      g_loss.backward();
      generator_optimizer.step();

      // A fixed run prints two lines per batch: the discriminator's loss, then the generator's.
      examples::report(options, ++step, d_loss.item<double>(), /*every=*/1 << 30);
      examples::report(options, ++step, g_loss.item<double>(), /*every=*/1 << 30);
      if (!options.fixed && batch_index % 100 == 0) {
        std::printf("epoch %lld batch %4lld  D loss %.4f  G loss %.4f\n",
                    static_cast<long long>(epoch), static_cast<long long>(batch_index),
                    d_loss.item<double>(), g_loss.item<double>());
      }
    }
  }

  if (!options.fixed) {
    torch::NoGradGuard no_grad;
    generator->eval();
    const std::filesystem::path dir = options.data.empty() ? "." : options.data;
    write_grid(generator->forward(torch::randn({64, kNoiseSize, 1, 1})), dir / "dcgan-samples.pgm");
  }
}
