// libtorch's serialization front end (serialize.h, input_archive.h, output_archive.h) over the
// project's own file format (archive.h).
#include "tinytorch/serialize/serialize.h"

#include <algorithm>
#include <utility>

#include "tinytorch/autograd/grad_mode.h"
#include "tinytorch/core/exception.h"

namespace tinytorch::serialize {

// ── OutputArchive ────────────────────────────────────────────────────────────────────────────

void OutputArchive::write(const std::string& key, const Tensor& tensor, bool /*is_buffer*/) {
  TT_CHECK(tensor.defined(), "OutputArchive::write: the tensor for key '", key, "' is undefined");
  TT_CHECK(!archive_.tensors.contains(key), "OutputArchive::write: key '", key,
           "' was already written; every key is stored once");
  // An alias, as libtorch's archive holds the tensor itself: save_to writes its values then.
  archive_.tensors.insert(key, tensor.detach());
}

void OutputArchive::write(const std::string& key, OutputArchive& nested_archive) {
  TT_CHECK(&nested_archive != this, "OutputArchive::write: an archive cannot be nested in itself");
  for (const auto& [name, tensor] : nested_archive.archive_.tensors) {
    write(key + "." + name, tensor);
  }
}

void OutputArchive::save_to(const std::string& path) const {
  save(archive_, path);
}

// ── InputArchive ─────────────────────────────────────────────────────────────────────────────

InputArchive::InputArchive() : archive_(std::make_shared<const Archive>()) {}

void InputArchive::load_from(const std::string& path, std::optional<Device> device) {
  if (device.has_value()) check_device_available("InputArchive::load_from", *device);
  archive_ = std::make_shared<const Archive>(load(path));
  prefix_.clear();
  source_ = path;
}

bool InputArchive::try_read(const std::string& key, Tensor& tensor, bool /*is_buffer*/) {
  const Tensor* stored = archive_->tensors.find(prefix_ + key);
  if (stored == nullptr) return false;
  // Each read hands out its own copy: two reads of one key, or a read followed by training,
  // never alias each other or the archive.
  Tensor value = stored->clone();
  if (tensor.defined()) {
    const NoGradGuard no_grad;
    tensor.set_data(value);
  } else {
    tensor = std::move(value);
  }
  return true;
}

void InputArchive::read(const std::string& key, Tensor& tensor, bool is_buffer) {
  TT_CHECK(try_read(key, tensor, is_buffer), "No such serialized tensor '", prefix_, key, "'",
           source_.empty() ? "" : " in '" + source_ + "'");
}

bool InputArchive::try_read(const std::string& key, InputArchive& archive) {
  const std::string nested = prefix_ + key + ".";
  bool found = false;
  for (const auto& [name, tensor] : archive_->tensors) {
    found = found || name.compare(0, nested.size(), nested) == 0;
  }
  if (!found) return false;
  archive.archive_ = archive_;
  archive.prefix_ = nested;
  archive.source_ = source_;
  return true;
}

void InputArchive::read(const std::string& key, InputArchive& archive) {
  TT_CHECK(try_read(key, archive), "No such serialized submodule: '", prefix_, key, "'",
           source_.empty() ? "" : " in '" + source_ + "'");
}

std::vector<std::string> InputArchive::keys() const {
  std::vector<std::string> out;
  for (const auto& [name, tensor] : archive_->tensors) {
    if (name.compare(0, prefix_.size(), prefix_) != 0) continue;
    std::string key = name.substr(prefix_.size());
    key = key.substr(0, key.find('.'));
    if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(std::move(key));
  }
  return out;
}

OrderedDict<std::string, Tensor> InputArchive::tensors() const {
  OrderedDict<std::string, Tensor> out("Key");
  for (const auto& [name, tensor] : archive_->tensors) {
    if (name.compare(0, prefix_.size(), prefix_) == 0) {
      out.insert(name.substr(prefix_.size()), tensor);
    }
  }
  return out;
}

// ── operators and the file-level calls ───────────────────────────────────────────────────────

OutputArchive& operator<<(OutputArchive& archive, const Tensor& tensor) {
  archive.write("0", tensor);
  return archive;
}

InputArchive& operator>>(InputArchive& archive, Tensor& tensor) {
  archive.read("0", tensor);
  return archive;
}

OutputArchive& operator<<(OutputArchive& archive, const std::shared_ptr<nn::Module>& module) {
  TT_CHECK(module != nullptr, "torch::save: the module is null");
  module->save(archive);
  return archive;
}

InputArchive& operator>>(InputArchive& archive, const std::shared_ptr<nn::Module>& module) {
  TT_CHECK(module != nullptr, "torch::load: the module is null (load into a constructed module)");
  module->load(archive);
  return archive;
}

OutputArchive& operator<<(OutputArchive& archive, const optim::Optimizer& optimizer) {
  optimizer.save(archive);
  return archive;
}

InputArchive& operator>>(InputArchive& archive, optim::Optimizer& optimizer) {
  optimizer.load(archive);
  return archive;
}

namespace detail {

void load_from_file(const std::string& path, std::optional<Device> device,
                    const std::function<void(InputArchive&)>& read) {
  InputArchive archive;
  archive.load_from(path, device);  // its errors already name the path
  try {
    read(archive);
  } catch (const Error& e) {
    throw Error(tinytorch::detail::str("torch::load: '", path, "' does not fit: ", e.what()));
  }
}

}  // namespace detail

}  // namespace tinytorch::serialize

namespace tinytorch {

void save(const std::vector<Tensor>& tensor_vec, const std::string& path) {
  serialize::OutputArchive archive;
  for (size_t i = 0; i < tensor_vec.size(); ++i) archive.write(std::to_string(i), tensor_vec[i]);
  archive.save_to(path);
}

void load(std::vector<Tensor>& tensor_vec, const std::string& path, std::optional<Device> device) {
  serialize::detail::load_from_file(path, device, [&tensor_vec](serialize::InputArchive& archive) {
    // NOTE: the count is not stored (libtorch's format neither): read "0", "1", ... until the
    // first absent key. All are read before any is appended, so an error appends nothing.
    std::vector<Tensor> read;
    Tensor value;
    while (archive.try_read(std::to_string(read.size()), value)) {
      read.push_back(std::move(value));
      value = Tensor();
    }
    tensor_vec.insert(tensor_vec.end(), read.begin(), read.end());
  });
}

}  // namespace tinytorch
