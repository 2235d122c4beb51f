// tinytorch/data/idx.h — reading MNIST / Fashion-MNIST files (the IDX format).
//
// An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the values in
// row-major order:
//
//   offset  bytes  meaning
//   0       2      0x00 0x00
//   2       1      type code: 0x08 = unsigned byte (the only one MNIST-like sets use)
//   3       1      number of dims D (images: 3 → magic 0x00000803, labels: 1 → 0x00000801)
//   4       4·D    the sizes, big-endian uint32 (images: N, 28, 28; labels: N)
//   4+4·D   N·…    the values, one byte each
//
// Files may be gzip-compressed (".gz", as Debian ships them) or plain; both are read with zlib.
#pragma once

#include <string>

#include "tinytorch/core/scalar_type.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/data/dataset.h"

namespace tinytorch::data {

// Reads an IDX file of unsigned bytes (gzip or plain) into a tensor of the header's shape, the
// byte values (0 … 255) converted to `dtype` (int64, float32 or float64). Throws
// tinytorch::Error naming the file and what was expected when the file is missing, empty, has a
// bad magic number or type code, bad dims, is truncated, has trailing bytes, or is corrupt gzip.
Tensor read_idx(const std::string& path, ScalarType dtype = kInt64);

// Where Debian's dataset-fashion-mnist package installs the files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Fashion-MNIST's training (60 000) or test (10 000) split from `dir`
// ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]): images [N, 1, 28, 28] float32 in [0, 1]
// and labels [N] int64 in 0 … 9. Errors when the files disagree on N.
TensorDataset load_fashion_mnist(const std::string& dir = kFashionMnistDir, bool train = true);

// What load_fashion_mnist does, for any reader of the MNIST file layout (datasets::MNIST too):
// `caller` begins every error message, so that it names the function the program called.
TensorDataset load_mnist_split(const std::string& dir, bool train, const std::string& caller);

}  // namespace tinytorch::data
