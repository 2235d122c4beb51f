// Helpers shared by module 08's tests: temporary files, IDX/gzip writers, loader collection.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "tinytorch/tinytorch.h"

namespace tinytorch::test08 {

using Bytes = std::vector<unsigned char>;

// A fresh directory per test, removed afterwards.
struct TempDir : test::TempDir {
  TempDir() : test::TempDir("tt08") {}
};

// IDX bytes: magic (0, 0, type, ndim), big-endian dims, then `values`.
inline Bytes idx_bytes(const std::vector<uint32_t>& dims, const Bytes& values,
                       unsigned char type = 0x08) {
  Bytes out{0, 0, type, static_cast<unsigned char>(dims.size())};
  for (const uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<unsigned char>(d >> shift));
  }
  out.insert(out.end(), values.begin(), values.end());
  return out;
}

inline void write_plain(const std::string& path, const Bytes& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void write_gz(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  gzclose(f);
}

inline Bytes read_plain(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

// A dataset whose sample i is data = [i, i, i] (float32) and target = i (int64 0-d).
inline data::TensorDataset counting_dataset(int64_t n) {
  Tensor ids = arange(n, kInt64);
  Tensor d = ids.to(kFloat32).unsqueeze(1).expand({n, 3}).contiguous();
  return data::TensorDataset(d, ids);
}

// Every batch of one epoch, as (data, target) copies.
inline std::vector<data::Example<>> collect(data::DataLoader& loader) {
  std::vector<data::Example<>> out;
  for (auto& batch : loader) out.push_back(batch);
  return out;
}

inline std::vector<int64_t> targets_of(const std::vector<data::Example<>>& batches) {
  std::vector<int64_t> out;
  for (const auto& b : batches) {
    for (const int64_t v : b.target.to_vector<int64_t>()) out.push_back(v);
  }
  return out;
}

inline bool same_batches(const std::vector<data::Example<>>& a,
                         const std::vector<data::Example<>>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].data.equal(b[i].data) || !a[i].target.equal(b[i].target)) return false;
  }
  return true;
}

}  // namespace tinytorch::test08
