// tinytorch/data/cifar.h — reading CIFAR-10's binary version (cifar-10-binary.tar.gz, unpacked).
//
// A batch file (data_batch_1.bin … data_batch_5.bin: 10 000 records each; test_batch.bin: 10 000)
// has no header: it is records of 3073 bytes, one after another.
//
//   byte    0      1 … 1024            1025 … 2048         2049 … 3072
//          ┌─────┬───────────────────┬───────────────────┬───────────────────┐
//          │label│ red plane 32×32   │ green plane 32×32 │ blue plane 32×32  │   × N records
//          │0…9  │ row-major, 1 B/px │ row-major, 1 B/px │ row-major, 1 B/px │
//          └─────┴───────────────────┴───────────────────┴───────────────────┘
//
// The pixels are already channel-planar, [3, 32, 32] = CHW: a record's 3072 bytes are the image
// in exactly the layout a convolution layer wants, so decoding is one pass of byte → float.
// With no header to check, the file's size is the only evidence that it is what it claims to be:
// it must be a positive multiple of 3073 (CIFAR-100's records have 2 label bytes: 3074).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tinytorch/data/dataset.h"

namespace tinytorch::data {

inline constexpr int64_t kCifar10Classes = 10;
inline constexpr int64_t kCifar10ImageBytes = 3 * 32 * 32;              // one [3, 32, 32] image
inline constexpr int64_t kCifar10RecordBytes = 1 + kCifar10ImageBytes;  // label byte + pixels

// Reads CIFAR-10 binary batch files, concatenated in the order given: images [N, 3, 32, 32]
// float32 in [0, 1] (byte / 255) and labels [N] int64 in 0 … 9. Throws tinytorch::Error naming
// the file, what was found and what was expected, when a file is missing, empty, not a multiple
// of 3073 bytes, changes size while being read, or has a label ≥ 10. Files are read in chunks of
// whole records; the tensors are sized from the files' real sizes, never from their contents.
TensorDataset read_cifar10(const std::vector<std::string>& paths);

// CIFAR-10's training split (data_batch_1.bin … data_batch_5.bin, 50 000 images, in that order)
// or test split (test_batch.bin, 10 000 images) from `dir` (e.g. "cifar-10-batches-bin").
TensorDataset load_cifar10(const std::string& dir, bool train = true);

// The class names, index = label: the lines of `dir`/batches.meta.txt (blank lines skipped; it
// must name exactly 10 classes) when that file exists, otherwise CIFAR-10's own ten names
// (airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck).
std::vector<std::string> cifar10_classes(const std::string& dir);

}  // namespace tinytorch::data
