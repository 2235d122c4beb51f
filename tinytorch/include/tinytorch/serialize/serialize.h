// tinytorch/serialize/serialize.h — libtorch's torch::save / torch::load.
//
//   torch::save(model, "model.ttc");          // every parameter and buffer, dotted names
//   torch::save(optimizer, "optimizer.ttc");  // options of every group, momentum / moments, steps
//   torch::save(x, "x.ttc");                  // one tensor ("0")
//   torch::save(std::vector<torch::Tensor>{a, b}, "ab.ttc");   // "0", "1", ...
//
//   Net model;                                // a fresh instance of the same architecture
//   torch::load(model, "model.ttc");          // in place: names and shapes checked, all or nothing
//   torch::optim::Adam adam(model->parameters(), 1e-3);
//   torch::load(adam, "optimizer.ttc");       // resumes exactly where the saved one stopped
//
// As in libtorch, save(value, path) is "OutputArchive archive; archive << value;
// archive.save_to(path)", and load is "InputArchive archive; archive.load_from(path);
// archive >> value" — so a type becomes saveable by giving it operator<< and operator>>.
//
// Where this differs from libtorch (each time to refuse rather than guess):
//   * The file is a serialize::Archive (archive.h: magic, version, sizes, CRC-32, written
//     atomically), not a TorchScript zip: files do not travel between the two.
//   * torch::load into a module checks every name and shape against the module and names each
//     missing, unexpected and mis-shaped entry; libtorch ignores extra entries and silently
//     resizes a parameter to the saved shape. Values are converted to the module's dtypes, as
//     load_state_dict does.
//   * Only files: no std::ostream / std::istream / buffer overloads, no IValues in archives.
//   * torch::load(std::vector<Tensor>&, path) appends to the vector, as libtorch's does.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tinytorch/core/device.h"
#include "tinytorch/core/tensor.h"
#include "tinytorch/nn/module.h"
#include "tinytorch/optim/optimizer.h"
#include "tinytorch/serialize/input_archive.h"
#include "tinytorch/serialize/output_archive.h"

namespace tinytorch {

namespace serialize {

// One tensor, under the key "0" (libtorch's key).
OutputArchive& operator<<(OutputArchive& archive, const Tensor& tensor);
InputArchive& operator>>(InputArchive& archive, Tensor& tensor);

// A module: Module::save / Module::load (its parameters and buffers, recursively).
OutputArchive& operator<<(OutputArchive& archive, const std::shared_ptr<nn::Module>& module);
InputArchive& operator>>(InputArchive& archive, const std::shared_ptr<nn::Module>& module);
template <typename ModuleType>
OutputArchive& operator<<(OutputArchive& archive, const nn::ModuleHolder<ModuleType>& module) {
  return archive << std::shared_ptr<nn::Module>(module.ptr());
}
template <typename ModuleType>
InputArchive& operator>>(InputArchive& archive, const nn::ModuleHolder<ModuleType>& module) {
  return archive >> std::shared_ptr<nn::Module>(module.ptr());
}

// An optimizer: Optimizer::save / Optimizer::load (its state_dict()).
OutputArchive& operator<<(OutputArchive& archive, const optim::Optimizer& optimizer);
InputArchive& operator>>(InputArchive& archive, optim::Optimizer& optimizer);

namespace detail {
// Loads `path` and runs `read` on it; an error is rethrown prefixed with the call and the path.
void load_from_file(const std::string& path, std::optional<Device> device,
                    const std::function<void(InputArchive&)>& read);
}  // namespace detail

}  // namespace serialize

// Saves `value` (a Tensor, module holder, shared_ptr to a module, or optimizer) to `path`.
template <typename Value>
void save(const Value& value, const std::string& path) {
  serialize::OutputArchive archive;
  archive << value;
  archive.save_to(path);
}
// The tensors under the keys "0", "1", ... in order.
void save(const std::vector<Tensor>& tensor_vec, const std::string& path);

// Loads `value` from a file written by save (device: only the CPU, or nothing). Throws
// tinytorch::Error naming the path and what is wrong: not an archive, truncated, corrupt, or
// not what `value` is (a missing, unexpected or mis-shaped entry; another optimizer type).
template <typename Value>
void load(Value& value, const std::string& path, std::optional<Device> device = std::nullopt) {
  serialize::detail::load_from_file(
      path, device, [&value](serialize::InputArchive& archive) { archive >> value; });
}
// Appends the tensors stored under "0", "1", ... (until the first absent key) to `tensor_vec`.
void load(std::vector<Tensor>& tensor_vec, const std::string& path,
          std::optional<Device> device = std::nullopt);

}  // namespace tinytorch
