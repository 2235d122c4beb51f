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

// The most values read_idx reads from one file: 2^28 (256 MiB of bytes; Fashion-MNIST's largest
// file holds 47 MB). The header's promise is checked against it before anything is allocated or
// inflated, so that a few bytes of header — or a small gzip file of zeros, which inflates up to
// 1032 times its size — cannot make read_idx allocate more than that (1 GiB as float32).
inline constexpr int64_t kMaxIdxValues = int64_t{1} << 28;

// Reads an IDX file of unsigned bytes (gzip or plain) into a tensor of the header's shape, the
// byte values (0 … 255) converted to `dtype` (int64, float32 or float64). Throws
// tinytorch::Error naming the file and what was expected when the file is missing, empty, has a
// bad magic number or type code, bad dims, promises more than kMaxIdxValues values or more than
// the file can hold (a plain file must be exactly that long; a gzip file cannot inflate to more
// than 1032 times its size, and its trailer must record the promised size — so a gzip file is
// read as one member, as gzip writes it), is truncated, has trailing bytes, or is corrupt gzip.
// It stops at the first byte that disagrees with the header: memory is the tensor and one 1 MiB
// buffer.
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
