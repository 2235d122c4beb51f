// tinytorch/serialize/archive.h — saving and loading named tensors (checkpoints, state dicts).
//
//   Archive a;
//   a.tensors = model->state_dict();          // "fc1.weight" → Tensor, ...
//   a.strings.insert("epoch", "3");
//   save(a, "run/checkpoint.ttc");            // atomic: a crash never leaves half a file
//   Archive b = load("run/checkpoint.ttc");   // checks magic, version, sizes, checksum
//
// File layout (little-endian), version 1:
//
//   ┌──────────────┬─────────┬────────────┬──────────────────────┬──────────────┬────────┐
//   │ "TTARCHIV"   │ version │ header len │ header (JSON: names, │ tensor bytes │ CRC-32 │
//   │ 8 bytes      │ u32     │ u64        │ dtypes, shapes,      │ (row-major,  │ u32 of │
//   │              │         │            │ offsets; strings)    │ contiguous)  │ all    │
//   └──────────────┴─────────┴────────────┴──────────────────────┴──────────────┴────────┘
//
// PyTorch's torch.save writes a zip of pickles; a small self-describing format is easier to
// read in a hex dump, and the checksum turns silent corruption into a clear error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tinytorch/core/generator.h"
#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/core/tensor.h"

namespace tinytorch::serialize {

inline constexpr uint32_t kArchiveVersion = 1;

struct Archive {
  OrderedDict<std::string, Tensor> tensors{"Tensor"};
  OrderedDict<std::string, std::string> strings{"String"};
};

// Writes `archive` to `path` atomically (write_file_atomically). Throws tinytorch::Error naming
// the path on any I/O failure.
void save(const Archive& archive, const std::string& path);
// Reads an archive; throws tinytorch::Error naming the path and what is wrong (a directory, not
// an archive, unsupported version, truncated, checksum mismatch, malformed header, a tensor
// whose shape, dtype and byte range disagree). Nothing is allocated for a tensor before its
// recorded byte range has been checked against the file's length.
Archive load(const std::string& path);

// Writes `contents` to `path` atomically: into `<path>.tmp.<pid>` in the same directory, then
// renamed over `path`, so a crash mid-save never leaves a half-written file. First removes the
// temporaries of `path` that killed saves left behind (those whose process is gone, or that
// have not been touched for a day); a concurrent writer's temporary is kept. Throws
// tinytorch::Error naming the path and the system's reason (errno's text) on failure.
void write_file_atomically(const std::string& path, std::string_view contents);

// The state of a random generator as text (for checkpoints: resuming must continue the same
// random stream), and back.
std::string generator_state(const Generator& generator);
void set_generator_state(Generator& generator, const std::string& state);

}  // namespace tinytorch::serialize
