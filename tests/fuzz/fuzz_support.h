// tests/fuzz/fuzz_support.h — what the libFuzzer harnesses share: a file holding the input (the
// loaders take paths), a way to read every byte a tensor claims, and the small training state
// that the checkpoint and state_dict harnesses load into (the seed generator saves the same one).
//
// The contract every harness checks (docs/ARCHITECTURE.md, "Hostile input"): bad bytes give the
// layer's own error type — tinytorch::Error, tito::Error — and nothing else. Any other exception
// escapes the harness and libFuzzer reports it as a crash; so do ASan/UBSan findings, an
// allocation above -malloc_limit_mb and a unit slower than -timeout.
#pragma once

#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "tinytorch/tinytorch.h"

namespace tinytorch::fuzz {

// An in-memory file (memfd) reachable by path, /proc/self/fd/N: the loaders open it like any
// file, and no input touches the disk. One per process, rewritten for every input.
class InputFile {
 public:
  InputFile() : fd_(memfd_create("tinytorch-fuzz", 0)) {
    if (fd_ < 0) std::abort();
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() { ::close(fd_); }

  // Replaces the file's content; returns its path.
  const std::string& write(const void* data, size_t size) {
    if (ftruncate(fd_, 0) != 0) std::abort();
    const auto* p = static_cast<const char*>(data);
    for (size_t done = 0; done < size;) {
      const ssize_t n = pwrite(fd_, p + done, size - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

// An archive's bytes (serialize/archive.h) with the trailing CRC-32 recomputed, so that a mutated
// input reaches the header and tensor checks behind the checksum instead of stopping at it.
inline std::string with_valid_crc(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (size < sizeof(uint32_t)) return bytes;
  const size_t body = size - sizeof(uint32_t);
  const auto crc = static_cast<uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data), static_cast<uInt>(body)));
  std::memcpy(bytes.data() + body, &crc, sizeof crc);  // little-endian, as save() writes it
  return bytes;
}

// A fresh folder under $TMPDIR (or /tmp), removed when the process exits normally.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/tinytorch-fuzz-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Reads every element a loaded tensor claims to have (a copy through its sizes and strides), so
// a shape that promises more bytes than its storage holds is an ASan report, not a latent bug.
inline void touch(const Tensor& t) {
  if (t.defined()) (void)t.clone();
}

// The model of the checkpoint and state_dict harnesses: two Linear layers, 3 → 4 → 2.
inline nn::Sequential make_model() {
  manual_seed(0);
  return nn::Sequential(nn::Linear(3, 4), nn::ReLU(), nn::Linear(4, 2));
}

// The whole training state of the checkpoint harness and its seeds: make_model()'s model, Adam,
// StepLR and a generator, as train::TrainingState points at them. (Not copyable: the state points
// into it.)
struct TrainingObjects {
  nn::Sequential model = make_model();
  optim::Adam optimizer{model->parameters(), optim::AdamOptions(0.01)};
  optim::StepLR scheduler{optimizer, 2};
  Generator generator{1};
  const train::TrainingState state{.model = model.ptr().get(),
                                   .optimizer = &optimizer,
                                   .scheduler = &scheduler,
                                   .generators = {{"default", &generator}}};

  TrainingObjects() = default;
  TrainingObjects(const TrainingObjects&) = delete;
  TrainingObjects& operator=(const TrainingObjects&) = delete;
};

// Copies of a model's parameters and buffers, to check that a failed load changed nothing.
inline std::vector<Tensor> snapshot(const nn::Module& model) {
  std::vector<Tensor> out;
  for (const auto& item : model.state_dict()) out.push_back(item.value().clone());
  return out;
}
// Aborts (a crash libFuzzer reports) when the model's values differ from `before`: the loaders
// promise that nothing is copied when they throw.
inline void expect_unchanged(const nn::Module& model, const std::vector<Tensor>& before) {
  const auto now = model.state_dict();
  if (now.size() != before.size()) std::abort();
  size_t i = 0;
  for (const auto& item : now) {
    if (!item.value().equal(before[i++])) std::abort();
  }
}

// One optimizer step on a fixed batch: runs the forward pass over every loaded weight and the
// optimizer's update over every restored state field (Adam's moments and step count).
inline void train_step(nn::Sequential& model, optim::Optimizer& optimizer) {
  const Tensor x = arange(6, TensorOptions().dtype(kFloat32)).reshape({2, 3});  // [2, 3]
  optimizer.zero_grad();
  Tensor loss = model->forward(x).pow(2).mean();
  loss.backward();
  optimizer.step();
}

}  // namespace tinytorch::fuzz
