// tinytorch/serialize/output_archive.h — libtorch's serialize::OutputArchive: named tensors
// collected in memory, then written to a file in one go.
//
//   torch::serialize::OutputArchive archive;
//   archive.write("weight", w);
//   torch::serialize::OutputArchive head;             // a nested archive: its entries are
//   head.write("bias", b);                            // stored under "head." ("head.bias")
//   archive.write("head", head);
//   archive.save_to("run/weights.ttc");               // atomic, checksummed (archive.h)
//
// The file is a serialize::Archive (archive.h), so serialize::load reads it too. libtorch writes
// a TorchScript zip instead; the names are the same as libtorch's nested-module names, with a
// nested archive flattened into dotted keys.
#pragma once

#include <string>

#include "tinytorch/core/tensor.h"
#include "tinytorch/serialize/archive.h"

namespace tinytorch::serialize {

class OutputArchive {
 public:
  OutputArchive() = default;
  // Like libtorch's: movable, not copyable.
  OutputArchive(OutputArchive&&) = default;
  OutputArchive& operator=(OutputArchive&&) = default;
  OutputArchive(const OutputArchive&) = delete;
  OutputArchive& operator=(const OutputArchive&) = delete;

  // Stores `tensor` (as it is now: later in-place changes are not saved) under `key`. is_buffer
  // is accepted for libtorch's signature; parameters and buffers are stored alike. A key that
  // is already written, or an undefined tensor, is an error naming the key.
  void write(const std::string& key, const Tensor& tensor, bool is_buffer = false);
  // Stores every entry of `nested_archive` under "<key>.<its key>".
  void write(const std::string& key, OutputArchive& nested_archive);
  // Writes the archive to `path` atomically (archive.h's save).
  void save_to(const std::string& path) const;

  // archive("key", tensor) is archive.write("key", tensor), as in libtorch.
  template <typename... Ts>
  void operator()(Ts&&... ts) {
    write(std::forward<Ts>(ts)...);
  }

 private:
  Archive archive_;
};

}  // namespace tinytorch::serialize
