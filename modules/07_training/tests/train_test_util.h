// Helpers shared by module 07's tests: temporary directories, a small classification problem,
// a small model with Dropout, and exact comparison of parameters and histories.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "support/reference.h"
#include "support/temp_dir.h"
#include "tinytorch/nn/nn.h"
#include "tinytorch/optim/optim.h"
#include "tinytorch/serialize/archive.h"
#include "tinytorch/tinytorch.h"
#include "tinytorch/train/train.h"

namespace tinytorch::test07 {

namespace nn = tinytorch::nn;
namespace optim = tinytorch::optim;
namespace data = tinytorch::data;
namespace train = tinytorch::train;

// A fresh directory per test, removed afterwards.
struct TempDir : test::TempDir {
  TempDir() : test::TempDir("tt07") {}
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Number of non-overlapping occurrences of `needle` in `text`.
inline int64_t count_of(const std::string& text, const std::string& needle) {
  int64_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

// A learnable 4-class problem: x ~ N(0, 1) [n, 8], label = argmax of x · W for a fixed W.
inline data::TensorDataset make_problem(int64_t n, uint64_t seed) {
  Generator gen(seed);
  Tensor x = randn({n, 8}, {}, &gen);
  Tensor w = randn({8, 4}, {}, &gen);
  Tensor y = x.matmul(w).argmax(1);
  return {x, y};
}

// 8 → 16 → ReLU → Dropout(0.25) → 4: small, and random in training mode (Dropout).
inline nn::Sequential make_model() {
  return nn::Sequential(nn::Linear(8, 16), nn::ReLU(), nn::Dropout(0.25), nn::Linear(16, 4));
}

inline Tensor cross_entropy_loss(const Tensor& output, const Tensor& target) {
  return cross_entropy(output, target);
}

// Every parameter and buffer equal bit for bit.
inline ::testing::AssertionResult same_state(const nn::Module& a, const nn::Module& b) {
  const auto sa = a.state_dict(), sb = b.state_dict();
  if (sa.keys() != sb.keys()) return ::testing::AssertionFailure() << "different keys";
  for (const auto& [key, value] : sa) {
    if (!value.equal(sb[key])) {
      return ::testing::AssertionFailure() << "'" << key << "' differs";
    }
  }
  return ::testing::AssertionSuccess();
}

// One column of two histories equal bit for bit.
inline ::testing::AssertionResult same_column(const train::History& a, const train::History& b,
                                              const std::string& column) {
  const auto ca = a.column(column), cb = b.column(column);
  if (ca.size() != cb.size()) return ::testing::AssertionFailure() << column << ": lengths differ";
  for (size_t i = 0; i < ca.size(); ++i) {
    if (!(ca[i] == cb[i] || (std::isnan(ca[i]) && std::isnan(cb[i])))) {
      return ::testing::AssertionFailure()
             << column << "[" << i << "]: " << test::detail::num_str(ca[i]) << " vs "
             << test::detail::num_str(cb[i]);
    }
  }
  return ::testing::AssertionSuccess();
}

// Options for a trainer that prints nothing.
inline train::TrainerOptions silent(const std::string& out_dir = "") {
  train::TrainerOptions options;
  options.out_dir = out_dir;
  options.progress.mode = train::ProgressMode::kSilent;
  return options;
}

}  // namespace tinytorch::test07
