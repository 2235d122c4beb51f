// tinytorch/serialize/input_archive.h — libtorch's serialize::InputArchive: a file of named
// tensors, read and checked in full by load_from, then read out by key.
//
//   torch::serialize::InputArchive archive;
//   archive.load_from("run/weights.ttc");       // magic, version, sizes, checksum (archive.h)
//   archive.read("weight", w);                  // w takes the stored data (same tensor handle)
//   torch::serialize::InputArchive head;
//   archive.read("head", head);                 // the entries stored under "head."
//   head.read("bias", b);
//
// A nested archive shares the file's tensors and remembers its prefix ("head."), which error
// messages show in full, as libtorch's hierarchy prefix does.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tinytorch/core/device.h"
#include "tinytorch/core/ordered_dict.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/serialize/archive.h"

namespace tinytorch::serialize {

class InputArchive {
 public:
  // An empty archive: every read fails until load_from (or a read of a nested archive).
  InputArchive();

  // Reads and checks the whole file (archive.h's load: every error names the path). A device
  // other than the CPU is an error naming it (core/device.h).
  void load_from(const std::string& path, std::optional<Device> device = std::nullopt);

  // The tensor stored under `key` into `tensor`: an undefined `tensor` becomes the stored one;
  // a defined one takes its data in place, keeping its identity (Tensor::set_data, under
  // NoGradGuard) — libtorch's behaviour, so a parameter stays the parameter. A key that is
  // absent is an error naming it with its full prefix. is_buffer is accepted for libtorch's
  // signature.
  void read(const std::string& key, Tensor& tensor, bool is_buffer = false);
  // The same; false (and `tensor` untouched) when `key` is absent.
  bool try_read(const std::string& key, Tensor& tensor, bool is_buffer = false);
  // The entries stored under "<key>." as an archive of their own; absent: an error / false.
  void read(const std::string& key, InputArchive& archive);
  bool try_read(const std::string& key, InputArchive& archive);

  // The keys directly in this archive: tensor names, and the names of nested archives (each
  // once), in file order.
  std::vector<std::string> keys() const;
  // Every tensor under this archive, with dotted names relative to it (a TinyTorch addition:
  // what Module::load and Optimizer::load hand to load_state_dict).
  OrderedDict<std::string, Tensor> tensors() const;

  // archive("key", tensor) is archive.read("key", tensor), as in libtorch.
  template <typename... Ts>
  void operator()(Ts&&... ts) {
    read(std::forward<Ts>(ts)...);
  }

 private:
  // The file's tensors, shared by nested archives; prefix_ is "" or "head." (with the dot).
  std::shared_ptr<const Archive> archive_;
  std::string prefix_;
  std::string source_;  // the path it was loaded from, for messages
};

}  // namespace tinytorch::serialize
