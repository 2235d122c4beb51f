// A dataset of your own: image files on disk and a label list, read by a
// torch::data::datasets::Dataset subclass, normalised and stacked by transforms, batched by
// make_data_loader on worker threads, and a classifier trained on it.
//
// The example first writes its data (so it runs anywhere): 8×8 grayscale images in binary PGM
// ("P5"), class 0 horizontal stripes and class 1 vertical ones, with a per-image phase so no two
// are alike, and labels.csv ("file,label" per line).
//
//   build/release/bin/example_custom_dataset [--data DIR] [--steps EPOCHS]
//   build/release/bin/example_custom_dataset --fixed    in sampler order, closed-form init: the
//                                                       losses match
//                                                       tools/reference/gen_examples.py
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/fixed_run.h"

namespace {

namespace fs = std::filesystem;
constexpr int64_t kSide = 8;
constexpr int64_t kImages = 96;

// Pixel (r, c) of image k: stripes across rows (class 0) or columns (class 1).
uint8_t pixel(int64_t k, int64_t r, int64_t c) {
  const double along = static_cast<double>(k % 2 == 0 ? r : c);
  return static_cast<uint8_t>(std::floor(127.5 + 120.0 * std::sin(along * 1.9 + 0.37 * k) + 0.5));
}

// Writes the images and labels.csv into `dir`: each file written whole, then renamed into place.
void write_dataset(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream labels(dir / "labels.csv.tmp");
  for (int64_t k = 0; k < kImages; ++k) {
    const std::string name = "image" + std::to_string(k) + ".pgm";
    {
      std::ofstream out(dir / (name + ".tmp"), std::ios::binary);
      out << "P5\n" << kSide << " " << kSide << "\n255\n";
      for (int64_t r = 0; r < kSide; ++r) {
        for (int64_t c = 0; c < kSide; ++c) out.put(static_cast<char>(pixel(k, r, c)));
      }
      if (!out.flush()) throw std::runtime_error("cannot write " + (dir / name).string());
    }
    fs::rename(dir / (name + ".tmp"), dir / name);
    labels << name << "," << k % 2 << "\n";
  }
  if (!labels.flush()) throw std::runtime_error("cannot write " + (dir / "labels.csv").string());
  labels.close();
  fs::rename(dir / "labels.csv.tmp", dir / "labels.csv");
}

// Reads one 8-bit binary PGM of kSide × kSide pixels into a [1, kSide, kSide] float tensor in
// [0, 1]. Anything else is an error that names the file and what was expected.
torch::Tensor read_pgm(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string magic;
  int64_t width = 0, height = 0, max_value = 0;
  in >> magic >> width >> height >> max_value;
  if (!in || magic != "P5" || width != kSide || height != kSide || max_value != 255) {
    throw std::runtime_error(path.string() + ": expected a binary PGM (P5) of " +
                             std::to_string(kSide) + "x" + std::to_string(kSide) +
                             " pixels with maximum 255");
  }
  in.get();  // the one whitespace byte after the header
  std::vector<uint8_t> bytes(kSide * kSide);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (in.gcount() != static_cast<std::streamsize>(bytes.size())) {
    throw std::runtime_error(path.string() + ": the file ends inside its pixels");
  }
  std::vector<float> values(bytes.begin(), bytes.end());
  return torch::tensor(values).div(255).view({1, kSide, kSide});
}

// The dataset: the list of (file, label) from labels.csv; get(i) reads image i from disk.
class ImageFolder : public torch::data::datasets::Dataset<ImageFolder> {
 public:
  explicit ImageFolder(const fs::path& dir) {
    std::ifstream list(dir / "labels.csv");
    if (!list) throw std::runtime_error("cannot read " + (dir / "labels.csv").string());
    std::string line;
    while (std::getline(list, line)) {
      const auto comma = line.find(',');
      if (comma == std::string::npos) {
        throw std::runtime_error((dir / "labels.csv").string() + ": expected 'file,label', got '" +
                                 line + "'");
      }
      items_.emplace_back(dir / line.substr(0, comma), std::stoll(line.substr(comma + 1)));
    }
  }

  torch::data::Example<> get(size_t index) override {
    const auto& [path, label] = items_.at(index);
    return {read_pgm(path), torch::tensor(label)};
  }

  torch::optional<size_t> size() const override { return items_.size(); }

 private:
  std::vector<std::pair<fs::path, int64_t>> items_;
};

struct NetImpl : torch::nn::Module {
  NetImpl()
      : fc1(register_module("fc1", torch::nn::Linear(kSide * kSide, 16))),
        fc2(register_module("fc2", torch::nn::Linear(16, 2))) {}
  torch::Tensor forward(const torch::Tensor& x) {  // x: [B, 1, 8, 8]
    return fc2(torch::relu(fc1(x.flatten(1))));
  }
  torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(Net);

template <typename Loader>
void train(const examples::RunOptions& options, Loader& loader, Net& net) {
  torch::optim::SGD optimizer(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  int64_t step = 0;
  for (int64_t epoch = 1; epoch <= options.steps; ++epoch) {
    int64_t correct = 0, seen = 0;
    for (auto& batch : *loader) {
      optimizer.zero_grad();
      const torch::Tensor logits = net(batch.data);
      torch::Tensor loss = torch::nn::functional::cross_entropy(logits, batch.target);
      loss.backward();
      optimizer.step();
      examples::report(options, ++step, loss.item<double>(), /*every=*/1 << 30);
      correct += logits.argmax(1).eq(batch.target).sum().template item<int64_t>();
      seen += batch.target.size(0);
    }
    if (!options.fixed) {
      std::printf("epoch %lld  accuracy %.3f\n", static_cast<long long>(epoch),
                  static_cast<double>(correct) / static_cast<double>(seen));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = examples::parse_options(argc, argv, /*default_steps=*/5);
  torch::manual_seed(1);
  const fs::path dir = options.data.empty()
                           ? fs::temp_directory_path() / "tinytorch-example-custom-dataset"
                           : fs::path(options.data);
  write_dataset(dir);

  auto dataset = ImageFolder(dir)
                     .map(torch::data::transforms::Normalize<>(0.5, 0.25))
                     .map(torch::data::transforms::Stack<>());
  const auto loader_options = torch::data::DataLoaderOptions().batch_size(16).workers(2);
  Net net;
  if (options.fixed) {
    // In sampler order (SequentialSampler), so the batches are PyTorch's too.
    examples::fixed_init(*net);
    auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
        std::move(dataset), loader_options);
    train(options, loader, net);
  } else {
    auto loader = torch::data::make_data_loader(std::move(dataset), loader_options);
    train(options, loader, net);
  }
}
